r"""Conversions between diffusion prediction types, and the training targets, as checkable quantities.

Conversions are called ``convert(prediction, x, a, sigma) -> (n, d)``: ``prediction`` is the
exact field of the source type at the noise level (a, σ) of x = a x_data + σ ε (a case's
``epsilon_at``, ``denoised_at``, ``v_at``, ``score_at``), and the result must be the exact field
of the target type there (Salimans & Ho 2022, arXiv:2202.00512, App. D; Ho et al. 2020, eq. (15)):

=============================  ==========================================  =================
quantity                       formula                                     divides by
=============================  ==========================================  =================
convert_epsilon_to_sample      x̂ = (x − σ ε̂)/a                             a
convert_sample_to_epsilon      ε̂ = (x − a x̂)/σ                             σ
convert_v_to_sample            x̂ = (a x − σ v̂)/(a² + σ²)                   a² + σ²
convert_v_to_epsilon           ε̂ = (σ x + a v̂)/(a² + σ²)                   a² + σ²
convert_epsilon_to_v           v̂ = a ε̂ − σ x̂ = ((a² + σ²) ε̂ − σ x)/a       a
convert_sample_to_v            v̂ = a ε̂ − σ x̂ = (a x − (a² + σ²) x̂)/σ       σ
convert_score_to_epsilon       ε̂ = −σ s                                     --
convert_epsilon_to_score       s = −ε̂/σ                                     σ
=============================  ==========================================  =================

a and σ are floats or arrays of shape (n,); a conversion that divides by a (σ) is checked
where a (σ) is at least ``LEVEL_MARGIN`` (a + σ). ``convert_score_to_epsilon`` is checked where
σ > 0: ε̂ = −σ s holds at σ = 0 too, but si_ref's own :func:`~si_ref.diffusion.convert_prediction`
refuses a score there (it is no combination of x̂ and ε̂ at σ = 0). On a variance-preserving level (a² + σ² = 1)
the v conversions reduce to the familiar x̂ = a x − σ v̂, ε̂ = σ x + a v̂.

Training targets are called ``f(x_data, noise, a, sigma)``: ``add_noise`` gives
x = a x_data + σ ε (diffusers' ``add_noise`` with a = √ᾱ, σ = √(1 − ᾱ)), ``velocity_target`` the
v-prediction target a ε − σ x_data (diffusers' ``get_velocity``).

The exact values are the case's conditional means (conversions) and the formulas above
written out (targets); si_ref's implementations are :func:`si_ref.diffusion.convert_prediction`,
:func:`si_ref.diffusion.add_noise` and :func:`si_ref.diffusion.velocity_target`.
"""

from __future__ import annotations

import numpy as np

from ..diffusion import conversions as DC
from .diffusion_quantity import LEVEL_MARGIN, LevelQuantity, column_of
from .variants import Fitted, constant_factor, mistake, sign_flip

__all__ = ["diffusion_conversion_quantities", "diffusion_target_quantities", "CONVERSIONS"]

#: si_ref.diffusion's prediction type of each field name used here.
_TYPE = {"epsilon": "epsilon", "sample": "sample", "v": "v_prediction", "score": "score"}
#: The case's method at a noise level of each field name.
_AT = {"epsilon": "epsilon_at", "sample": "denoised_at", "v": "v_at", "score": "score_at"}


def _margin_a(a, sigma):
    return a >= LEVEL_MARGIN * (a + sigma)


def _margin_sigma(a, sigma):
    return sigma >= LEVEL_MARGIN * (a + sigma)


def _everywhere(a, sigma):
    return np.ones(np.shape(a), dtype=bool)


def _score_input(a, sigma):
    """σ > 0: ε̂ = −σ s holds at σ = 0 too (both are 0 there), but si_ref's convert_prediction refuses a score
    at σ = 0 (it is no combination of x̂ and ε̂ there): checked where it answers."""
    return sigma > 0


# --- the formulas, right and wrong, of a prediction p at x and a level (a, s) (columns or row vectors) -----

#: (source, target) -> (divisor condition, correct formula, [(mistake name, form, formula), ...]).
CONVERSIONS = {
    ("epsilon", "sample"): (_margin_a, lambda p, x, a, s: (x - s * p) / a, [
        ("noise-sign", "(x + σ ε̂)/a: ε̂ taken as E[−ε | x]", lambda p, x, a, s: (x + s * p) / a),
        ("alpha-bar-for-a", "(x − σ ε̂)/a²: ᾱ = a² for √ᾱ = a", lambda p, x, a, s: (x - s * p) / a**2),
        ("alpha-bar-for-a", "(x − σ² ε̂)/a²: ᾱ and 1 − ᾱ for their roots", lambda p, x, a, s: (x - s**2 * p) / a**2),
        ("variance-for-std", "(x − σ² ε̂)/a", lambda p, x, a, s: (x - s**2 * p) / a),
        ("alpha-beta-swapped", "(x − a ε̂)/σ", lambda p, x, a, s: (x - a * p) / s),
    ]),
    ("sample", "epsilon"): (_margin_sigma, lambda p, x, a, s: (x - a * p) / s, [
        ("noise-sign", "(a x̂ − x)/σ = E[−ε | x]", lambda p, x, a, s: (a * p - x) / s),
        ("alpha-bar-for-a", "(x − a² x̂)/σ: ᾱ = a² for √ᾱ = a", lambda p, x, a, s: (x - a**2 * p) / s),
        ("alpha-bar-for-a", "(x − a² x̂)/σ²: ᾱ and 1 − ᾱ for their roots", lambda p, x, a, s: (x - a**2 * p) / s**2),
        ("variance-for-std", "(x − a x̂)/σ²", lambda p, x, a, s: (x - a * p) / s**2),
        ("alpha-beta-swapped", "(x − σ x̂)/a", lambda p, x, a, s: (x - s * p) / a),
    ]),
    ("v", "sample"): (_everywhere, lambda p, x, a, s: (a * x - s * p) / (a**2 + s**2), [
        ("vp-only-formula", "a x − σ v̂: the 1/(a² + σ²) of a non-VP level dropped", lambda p, x, a, s: a * x - s * p),
        ("v-sign", "(a x + σ v̂)/(a² + σ²): v read as σ x̂ − a ε̂", lambda p, x, a, s: (a * x + s * p) / (a**2 + s**2)),
        ("v-sign", "a x + σ v̂", lambda p, x, a, s: a * x + s * p),
        ("alpha-bar-for-a", "a² x − σ v̂: ᾱ = a² for √ᾱ", lambda p, x, a, s: a**2 * x - s * p),
        ("alpha-beta-swapped", "(σ x − a v̂)/(a² + σ²)", lambda p, x, a, s: (s * x - a * p) / (a**2 + s**2)),
    ]),
    ("v", "epsilon"): (_everywhere, lambda p, x, a, s: (s * x + a * p) / (a**2 + s**2), [
        ("vp-only-formula", "σ x + a v̂: the 1/(a² + σ²) of a non-VP level dropped", lambda p, x, a, s: s * x + a * p),
        ("v-sign", "(σ x − a v̂)/(a² + σ²): v read as σ x̂ − a ε̂", lambda p, x, a, s: (s * x - a * p) / (a**2 + s**2)),
        ("v-sign", "σ x − a v̂", lambda p, x, a, s: s * x - a * p),
        ("alpha-bar-for-a", "σ² x + a² v̂: ᾱ and 1 − ᾱ for their roots", lambda p, x, a, s: s**2 * x + a**2 * p),
        ("alpha-beta-swapped", "(a x + σ v̂)/(a² + σ²)", lambda p, x, a, s: (a * x + s * p) / (a**2 + s**2)),
    ]),
    ("epsilon", "v"): (_margin_a, lambda p, x, a, s: ((a**2 + s**2) * p - s * x) / a, [
        ("vp-only-formula", "(ε̂ − σ x)/a: a² + σ² = 1 assumed", lambda p, x, a, s: (p - s * x) / a),
        ("v-sign", "σ x̂ − a ε̂: v with the opposite sign", lambda p, x, a, s: -((a**2 + s**2) * p - s * x) / a),
        ("alpha-bar-for-a", "a² ε̂ − σ² x̂: ᾱ and 1 − ᾱ for their roots",
         lambda p, x, a, s: a**2 * p - s**2 * (x - s * p) / a),
        ("noise-sign", "from −ε̂: −(a² + σ²) ε̂/a − σ x/a", lambda p, x, a, s: (-(a**2 + s**2) * p - s * x) / a),
    ]),
    ("sample", "v"): (_margin_sigma, lambda p, x, a, s: (a * x - (a**2 + s**2) * p) / s, [
        ("vp-only-formula", "(a x − x̂)/σ: a² + σ² = 1 assumed", lambda p, x, a, s: (a * x - p) / s),
        ("v-sign", "σ x̂ − a ε̂: v with the opposite sign", lambda p, x, a, s: -(a * x - (a**2 + s**2) * p) / s),
        ("alpha-bar-for-a", "a² ε̂ − σ² x̂: ᾱ and 1 − ᾱ for their roots",
         lambda p, x, a, s: a**2 * (x - a * p) / s - s**2 * p),
    ]),
    ("score", "epsilon"): (_score_input, lambda p, x, a, s: -s * p, [
        ("noise-sign", "+σ s = E[−ε | x]", lambda p, x, a, s: s * p),
        ("score-scaling", "−s: the factor σ forgotten", lambda p, x, a, s: -p),
        ("variance-for-std", "−σ² s", lambda p, x, a, s: -(s**2) * p),
        ("alpha-beta-swapped", "−a s", lambda p, x, a, s: -a * p),
    ]),
    ("epsilon", "score"): (_margin_sigma, lambda p, x, a, s: -p / s, [
        ("noise-sign", "+ε̂/σ: the conversion assumes ε̂ = E[−ε | x]", lambda p, x, a, s: p / s),
        ("score-scaling", "−ε̂: the division by σ forgotten", lambda p, x, a, s: -p),
        ("variance-for-std", "−ε̂/σ²: divided by the variance", lambda p, x, a, s: -p / s**2),
        ("alpha-beta-swapped", "−ε̂/a", lambda p, x, a, s: -p / a),
    ]),
}


#: Conversions whose catalogue above has no form equal to minus the exact value.
_NO_NEGATION = {("epsilon", "sample"), ("v", "sample"), ("v", "epsilon")}


def _prediction(source):
    def value(ex):
        return getattr(ex.reference, _AT[source])(ex.x, ex["a"], ex["sigma"])
    return value


def _given(ex, source):
    """The prediction the implementation received: stored (golden vectors), or the exact source field."""
    stored = ex.get("prediction")
    return stored if stored is not None else _prediction(source)(ex)


def _conversion_inputs(source):
    """The prediction and x of a conversion's call (the prediction as :func:`_given`)."""
    def inputs(ex):
        return _given(ex, source), ex.x
    return inputs


def _formula_form(source, formula):
    """``formula(p, x, a, σ)`` of the given prediction, with a and σ as columns."""
    def value(ex):
        return formula(_given(ex, source), ex.x, column_of(ex["a"]), column_of(ex["sigma"]))
    return value


def _per_column_form(formula, inputs):
    """``formula(*inputs(ex), a, σ)`` with per-row levels broadcast along the columns (a * x with a of shape (n,),
    n = d); None where that gives the right value (one level for the batch, or n != d).

    ``inputs(ex)`` gives the arguments before (a, σ): the prediction and x of a conversion, x_data and the
    noise of a target; it is called only where the form is defined.
    """
    def value(ex):
        a, sigma = np.asarray(ex["a"], dtype=np.float64), np.asarray(ex["sigma"], dtype=np.float64)
        n, d = ex.points.shape
        if a.ndim == 0 or n != d or (np.all(a == a[0]) and np.all(sigma == sigma[0])):
            return None
        return formula(*inputs(ex), a[None, :], sigma[None, :])
    return value


def _exact_conversion(target, usable):
    def value(ex):
        if not np.all(usable(np.asarray(ex["a"], dtype=np.float64), np.asarray(ex["sigma"], dtype=np.float64))):
            raise ValueError("the conversion divides by a coefficient below LEVEL_MARGIN (a + sigma) here")
        return getattr(ex.reference, _AT[target])(ex.x, ex["a"], ex["sigma"])
    return value


def _own_conversion(source, target):
    def convert(prediction, x, a, sigma):
        return DC.convert_prediction(prediction, x, a=a, sigma=sigma, source=_TYPE[source], target=_TYPE[target])
    convert.__name__ = f"si_ref_convert_{source}_to_{target}"
    return convert


def _divisor(source, target):
    """The divisor of a conversion that is one quotient (for the additive-guard diagnosis), or None."""
    return {("epsilon", "sample"): ("a", lambda ex: column_of(ex["a"])),
            ("sample", "epsilon"): ("σ", lambda ex: column_of(ex["sigma"])),
            ("epsilon", "score"): ("σ", lambda ex: column_of(ex["sigma"]))}.get((source, target))


_PLAIN = {
    ("epsilon", "sample"): "x̂ = (x − σ ε̂)/a from the ε-prediction at the level (a, σ)",
    ("sample", "epsilon"): "ε̂ = (x − a x̂)/σ from the x0-prediction at the level (a, σ)",
    ("v", "sample"): "x̂ = (a x − σ v̂)/(a² + σ²) from the v-prediction",
    ("v", "epsilon"): "ε̂ = (σ x + a v̂)/(a² + σ²) from the v-prediction",
    ("epsilon", "v"): "v̂ = a ε̂ − σ x̂ from the ε-prediction at the level (a, σ)",
    ("sample", "v"): "v̂ = a ε̂ − σ x̂ from the x0-prediction at the level (a, σ)",
    ("score", "epsilon"): "ε̂ = −σ s from the score at the level (a, σ)",
    ("epsilon", "score"): "s = −ε̂/σ from the ε-prediction at the level (a, σ)",
}


def diffusion_conversion_quantities() -> list:
    out = []
    for (source, target), (usable, formula, wrong) in CONVERSIONS.items():
        name = f"convert_{source}_to_{target}"
        exact = _exact_conversion(target, usable)
        by_name: dict = {}
        for mistake_name, form, wrong_formula in wrong:
            by_name.setdefault(mistake_name, []).append((form, _formula_form(source, wrong_formula)))
        mistakes = [mistake(m, *forms) for m, forms in by_name.items()]
        if (source, target) in _NO_NEGATION:   # a sign error of the whole result, where no form above is one
            mistakes.insert(1, sign_flip(exact))
        mistakes.append(mistake("t-wrong-axis", ("levels of shape (n,) broadcast along the columns (a * x with n = d)",
                                                 _per_column_form(formula, _conversion_inputs(source)))))
        divisor = _divisor(source, target)
        if divisor is not None:
            mistakes.append(_guard(source, formula, *divisor))
        mistakes.append(constant_factor(exact))
        summary = (f"{_PLAIN[(source, target)]}; called convert(prediction, x, a, sigma) with the exact "
                   f"{_TYPE[source]} prediction of x = a x_data + σ ε, a and σ floats or (n,).")
        out.append(LevelQuantity(name, summary, exact, tuple(mistakes), source=source, target=target,
                                 own=_own_conversion(source, target), usable=usable, inputs_of=_prediction(source),
                                 plain=_PLAIN[(source, target)]))
    return out


def _guard(source, formula, divisor_name, divisor):
    """The quotient computed with δ added to its divisor: exact · c/(c + δ), δ estimated."""
    def fit(ex, received):
        expected = np.asarray(formula(_given(ex, source), ex.x, column_of(ex["a"]), column_of(ex["sigma"])),
                              dtype=np.float64)
        c = np.broadcast_to(np.asarray(divisor(ex), dtype=np.float64), expected.shape)
        ok = np.isfinite(expected) & np.isfinite(received) & (received != 0) & (expected != 0) & np.isfinite(c)
        if expected.shape != received.shape or not ok.any():
            return None
        delta = float(np.median(c[ok] * (expected[ok] / received[ok] - 1.0)))
        return delta if np.isfinite(delta) and delta != 0.0 else None

    def value(ex, delta):
        expected = np.asarray(formula(_given(ex, source), ex.x, column_of(ex["a"]), column_of(ex["sigma"])),
                              dtype=np.float64)
        c = np.asarray(divisor(ex), dtype=np.float64)
        return expected * c / (c + delta)

    return mistake("additive-guard", Fitted(f"a guard δ = {{parameter:.3g}} added to the divisor {divisor_name}",
                                            fit, value))


# --- training targets ------------------------------------------------------------------------------------

def _target(formula):
    def value(ex):
        return formula(ex.x0, ex.z, column_of(ex["a"]), column_of(ex["sigma"]))
    return value


def _target_inputs(ex):
    """x_data and the noise of a target's call."""
    return ex.x0, ex.z


def _own_target(function, name):
    def target(x_data, noise, a, sigma):
        return function(x_data, noise, a, sigma)
    target.__name__ = name
    return target


def diffusion_target_quantities() -> list:
    def add(x0, z, a, s):
        return a * x0 + s * z

    def velocity(x0, z, a, s):
        return a * z - s * x0

    add_value, velocity_value = _target(add), _target(velocity)
    call = "called f(x_data, noise, a, sigma) with a, σ floats or (n,)"
    return [
        _TargetQuantity(
            "add_noise", f"x = a x_data + σ ε, the noisy sample of a training step (diffusers' add_noise with "
            f"a = √ᾱ, σ = √(1 − ᾱ)); {call}.", add_value, (
                mistake("alpha-bar-for-a", ("a² x_data + σ² ε: ᾱ and 1 − ᾱ for their roots",
                                            _target(lambda x0, z, a, s: a**2 * x0 + s**2 * z)),
                        ("a² x_data + σ ε: ᾱ for √ᾱ", _target(lambda x0, z, a, s: a**2 * x0 + s * z))),
                mistake("variance-for-std", ("a x_data + σ² ε: the noise scaled by the variance",
                                             _target(lambda x0, z, a, s: a * x0 + s**2 * z))),
                mistake("alpha-beta-swapped", ("σ x_data + a ε", _target(lambda x0, z, a, s: s * x0 + a * z))),
                mistake("t-wrong-axis", ("levels of shape (n,) broadcast along the columns",
                                         _per_column_form(add, _target_inputs))),
                constant_factor(add_value)),
            source="", own=_own_target(DC.add_noise, "si_ref_add_noise"),
            plain="x = a x_data + σ ε: the noisy sample of a training step"),
        _TargetQuantity(
            "velocity_target", f"v = a ε − σ x_data, the v-prediction target (Salimans & Ho 2022; diffusers' "
            f"get_velocity); {call}.", velocity_value, (
                mistake("v-sign", ("σ x_data − a ε: v with the opposite sign",
                                   _target(lambda x0, z, a, s: s * x0 - a * z))),
                mistake("alpha-bar-for-a", ("a² ε − σ² x_data: ᾱ and 1 − ᾱ for their roots",
                                            _target(lambda x0, z, a, s: a**2 * z - s**2 * x0))),
                mistake("alpha-beta-swapped", ("σ ε − a x_data", _target(lambda x0, z, a, s: s * z - a * x0))),
                mistake("wrong-target", ("ε − x_data: the flow-matching target given for v",
                                         _target(lambda x0, z, a, s: z - x0))),
                mistake("t-wrong-axis", ("levels of shape (n,) broadcast along the columns",
                                         _per_column_form(velocity, _target_inputs))),
                constant_factor(velocity_value)),
            source="", own=_own_target(DC.velocity_target, "si_ref_velocity_target"),
            plain="v = a ε − σ x_data: the v-prediction target"),
    ]


class _TargetQuantity(LevelQuantity):
    """A training target (the level name says so in ``si-ref check --list``)."""

    level = "diffusion target"
