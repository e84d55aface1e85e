r"""Quantities of the conversion wrappers (si_ref.wrappers): one per wrapper class.

The implementation under test is a constructor with si_ref's signature; it is
built with the exact input fields of a Gaussian case (``wrapper.inputs``) and the
case's schedule, interpolant (and base) or ε (``wrapper.parameter``), then called
at (x, t); the result must be the exact ``wrapper.output`` field. The formulas are
in each wrapper's docstring (arXiv:2303.08797v3, eqs. (2.10)–(2.27), (4.15), (3.25)).
"""

from __future__ import annotations

import numpy as np

from .. import wrappers as W
from ..distributions import Gaussian
from .example import column, eps_column
from .fields import case_field, gamma_gamma_dot, gamma_of, naive_noise_term, one_sided_noise_term
from .quantity import INTERIOR, WrapperQuantity, build_wrapper, closed, interior, wrapper_call
from .variants import (ReversedGamma, ReversedInterpolant, SwappedInterpolant, additive_guard, constant_factor,
                       mistake, negated, sign_flip)

__all__ = ["wrapper_quantities"]

_ONE_SIDED = ("one-sided-linear", "one-sided-trig")


def _until(hi):
    return lambda reference: (0.0, hi)


def _from(lo):
    return lambda reference: (lo, 1.0)


_REQUIREMENTS = {
    None: lambda case: True,
    "positive-gamma": lambda case: not case.interpolant.gamma_schedule.is_zero,
    "mirror": lambda case: case.interpolant.kind == "mirror",
    "one-sided": lambda case: case.interpolant.kind == "one-sided",
    "zero-gamma": lambda case: case.interpolant.gamma_schedule.is_zero and case.interpolant.kind != "mirror",
    "gaussian-base": lambda case: case.interpolant.kind == "one-sided" or (
        case.interpolant.kind == "two-sided" and isinstance(case.base, Gaussian) and case.cross_cov is None),
}

#: wrapper class, requirement on the case, families drawn, time interval, one-line summary
_SPECS = (
    (W.ScoreFromNoise, "positive-gamma", None, interior, "s = −η/γ from the noise predictor η = E[z | x_t] (γ > 0)"),
    (W.DriftFromVelocityScore, None, None, closed, "b = v − γγ̇ s from the velocity v and the score s"),
    (W.MirrorVelocityFromScore, "mirror", ("mirror",), closed, "mirror drift b = −γγ̇ s from the score s"),
    (W.NoiseFromScore, None, None, closed, "η = −γ s from the score s"),
    (W.ScoreFromDenoisers, "positive-gamma", None, interior,
     "s = −(x − α x̂0 − β x̂1)/γ² from both denoisers (γ > 0)"),
    (W.DenoiserX0FromScore, "gaussian-base",
     ("linear", "trig", "vp-trig", "encoder-decoder", "one-sided-linear", "one-sided-trig", "custom"), closed,
     "x̂0 = m0 − α S0 s from the score (Gaussian base N(m0, S0))"),
    (W.DenoiserX1FromScore, "gaussian-base",
     ("linear", "trig", "vp-trig", "one-sided-linear", "one-sided-trig", "custom"),   # β = 0 on [0, ½] for encoder-decoder
     _from(INTERIOR), "x̂1 = (x − α m0 + (α² S0 + γ² I) s)/β from the score (Gaussian base)"),
    (W.VelocityFromDenoisers, None, None, closed, "v = α̇ x̂0 + β̇ x̂1 from both denoisers"),
    (W.DriftFromDenoisers, None, None, interior, "b = α̇ x̂0 + β̇ x̂1 + γ̇ η from both denoisers and the noise η"),
    (W.DriftFromVelocityNoise, None, None, interior, "b = v + γ̇ η from the velocity v and the noise η"),
    (W.VelocityFromDriftScore, None, None, closed, "v = b + γγ̇ s from the drift b and the score s"),
    (W.ForwardDriftFromDriftScore, None, None, closed, "b_F = b + ε s from the drift b and the score s"),
    (W.BackwardDriftFromDriftScore, None, None, closed, "b_B = b − ε s from the drift b and the score s"),
    (W.SDEDriftFromDriftScore, None, None, closed,
     "b + ½ g² s, the drift of dX = (b + ½ g² s) dt + g dW, from b and s"),
    (W.ScoreFromDenoiserX0OneSided, "one-sided", _ONE_SIDED, _until(1.0 - INTERIOR),
     "one-sided s = −x̂0/α from the base denoiser x̂0"),
    (W.ScoreFromDriftOneSided, "one-sided", _ONE_SIDED, _until(1.0 - INTERIOR),
     "one-sided s = −(β b − β̇ x)/(α (α̇ β − α β̇)) from the drift b"),
    (W.DriftFromScoreOneSided, "one-sided", _ONE_SIDED, interior,
     "one-sided b = (β̇ x − α (α̇ β − α β̇) s)/β from the score s"),
    (W.MirrorDriftFromNoise, "mirror", ("mirror",), interior, "mirror drift b = γ̇ η from the noise η"),
    (W.DenoiserX0FromDenoiserX1, "zero-gamma", _ONE_SIDED, _until(1.0 - INTERIOR),
     "x̂0 = (x − β x̂1)/α from the target denoiser (γ = 0)"),
    (W.DenoiserX1FromDenoiserX0, "zero-gamma", _ONE_SIDED, _from(INTERIOR),
     "x̂1 = (x − α x̂0)/β from the base denoiser (γ = 0)"),
    (W.VelocityFromDenoiserX1, "zero-gamma", _ONE_SIDED, _until(1.0 - INTERIOR),
     "v = α̇ (x − β x̂1)/α + β̇ x̂1 from the target denoiser (γ = 0)"),
    (W.VelocityFromDenoiserX0, "zero-gamma", _ONE_SIDED, _from(INTERIOR),
     "v = α̇ x̂0 + β̇ (x − α x̂0)/β from the base denoiser (γ = 0)"),
    (W.DenoiserX0FromVelocity, "zero-gamma", _ONE_SIDED, closed,
     "x̂0 = (β v − β̇ x)/(α̇ β − α β̇) from the velocity v (γ = 0)"),
    (W.DenoiserX1FromVelocity, "zero-gamma", _ONE_SIDED, closed,
     "x̂1 = (α̇ x − α v)/(α̇ β − α β̇) from the velocity v (γ = 0)"),
)


# --- the wrapper evaluated with transformed parts ------------------------------------------------

def _with(wrapper_class, *, parameter=None):
    """si_ref's wrapper built with a transformed parameter; None where it is undefined (ValueError)."""
    def value(ex):
        case = ex.reference
        param = None if parameter is None else parameter(case)
        if param is False:
            return None
        try:
            return build_wrapper(wrapper_class, wrapper_class, case, ex.eps, parameter=param)(ex.x, ex.t)
        except ValueError:   # the conversion divides by a coefficient that vanishes here
            return None
    return value


def _reversed_parameter(kind):
    def build(case):
        if kind == "gamma":
            return ReversedGamma(case.interpolant.gamma_schedule)
        if case.interpolant.kind == "mirror":
            return False
        return ReversedInterpolant(case.interpolant)
    return build


def _swapped_parameter(case):
    if case.interpolant.kind == "mirror":
        return False
    return SwappedInterpolant(case.interpolant)


def _per_column(wrapper_class):
    """Inputs evaluated at the rows' times, the wrapper's coefficients at t[j] for column j."""
    def value(ex):
        t = np.asarray(ex.t)
        n, d = ex.x.shape
        if t.ndim == 0 or n != d or np.all(t == t[0]):
            return None
        case = ex.reference
        frozen = []
        for name in wrapper_class.inputs:
            values = getattr(case, name)(ex.x, ex.t)
            frozen.append(lambda x_, t_, values=values: values)
        out = np.empty_like(ex.x)
        for j, tj in enumerate(t):
            try:
                out[:, j] = build_wrapper(wrapper_class, wrapper_class, case, ex.eps, fields=frozen)(ex.x, float(tj))[:, j]
            except ValueError:
                return None
        return out
    return value


# --- divisors of the conversions that are one quotient (for the additive-guard diagnosis) -------------

def _coefficient(name):
    return lambda ex: column(getattr(ex.reference.interpolant, name)(ex.t), ex)


def _wronskian(ex):
    I = ex.reference.interpolant
    a, ad, b, bd = (np.asarray(getattr(I, n)(ex.t)) for n in ("alpha", "alpha_dot", "beta", "beta_dot"))
    return column(ad * b - a * bd, ex)


_DIVISORS = {
    "ScoreFromNoise": (gamma_of, "γ"),
    "ScoreFromDenoisers": (lambda ex: gamma_of(ex) ** 2, "γ²"),
    "DenoiserX1FromScore": (_coefficient("beta"), "β"),
    "ScoreFromDenoiserX0OneSided": (_coefficient("alpha"), "α"),
    "ScoreFromDriftOneSided": (lambda ex: _coefficient("alpha")(ex) * _wronskian(ex), "α (α̇ β − α β̇)"),
    "DriftFromScoreOneSided": (_coefficient("beta"), "β"),
    "DenoiserX0FromDenoiserX1": (_coefficient("alpha"), "α"),
    "DenoiserX1FromDenoiserX0": (_coefficient("beta"), "β"),
    "DenoiserX0FromVelocity": (_wronskian, "α̇ β − α β̇"),
    "DenoiserX1FromVelocity": (_wronskian, "α̇ β − α β̇"),
}


def _specific_mistakes(name):
    """The mistakes particular to one wrapper, most specific first."""
    s, v, b, eta = (case_field(n) for n in ("score", "velocity", "drift", "noise"))

    def gamma_dot(ex):
        return column(ex.reference.interpolant.gamma_dot(ex.t), ex)

    def with_eps(sign, k):
        return lambda ex: b(ex) + sign * k * eps_column(ex) * s(ex)

    def plus(first, second):
        def value(ex):
            extra = second(ex)
            return None if extra is None else first(ex) + extra
        return value

    table = {
        "ScoreFromNoise": (
            mistake("noise-sign", ("+η/γ: the wrapper assumes η = −E[z | x]", lambda ex: eta(ex) / gamma_of(ex))),
            mistake("score-scaling", ("−η (the division by γ forgotten)", negated(eta)),
                    ("−η/γ² (divided by γ²)", lambda ex: -eta(ex) / gamma_of(ex) ** 2)),
        ),
        "DriftFromVelocityScore": (
            mistake("gamma-gamma-dot-sign", ("v + γγ̇ s", lambda ex: v(ex) + gamma_gamma_dot(ex) * s(ex))),
            sign_flip(b),
            mistake("velocity-for-drift", ("v returned", v)),
            mistake("nan-from-gamma-dot", ("v − (γ · γ̇) s with γ · γ̇ = 0 · inf", plus(v, naive_noise_term))),
        ),
        "MirrorVelocityFromScore": (
            mistake("gamma-gamma-dot-sign", ("+γγ̇ s", lambda ex: gamma_gamma_dot(ex) * s(ex))),
            mistake("nan-from-gamma-dot", ("−(γ · γ̇) s with γ · γ̇ = 0 · inf", naive_noise_term)),
        ),
        "NoiseFromScore": (
            mistake("noise-sign", ("+γ s = −E[z | x]", lambda ex: gamma_of(ex) * s(ex))),
        ),
        "VelocityFromDriftScore": (
            mistake("gamma-gamma-dot-sign", ("b − γγ̇ s", lambda ex: b(ex) - gamma_gamma_dot(ex) * s(ex))),
            sign_flip(v),
            mistake("nan-from-gamma-dot", ("b + (γ · γ̇) s with γ · γ̇ = 0 · inf",
                                           lambda ex: None if naive_noise_term(ex) is None
                                           else b(ex) - naive_noise_term(ex))),
        ),
        "DriftFromVelocityNoise": (
            mistake("noise-sign", ("v − γ̇ η: the wrapper assumes η = −E[z | x]",
                                   lambda ex: v(ex) - gamma_dot(ex) * eta(ex))),
            sign_flip(b),
        ),
        "DriftFromScoreOneSided": (
            mistake("one-sided-double-count", ("b − αα̇ s (α also used as γ)", plus(b, one_sided_noise_term))),
        ),
        "ForwardDriftFromDriftScore": (
            mistake("score-term-sign", ("b − ε s", with_eps(-1.0, 1.0))),
            mistake("score-term-missing", ("b returned: the ε s term dropped", b)),
            mistake("score-scaling", ("b + 2ε s: σ² s with σ² = 2ε (the ½ of σ²/2 dropped)", with_eps(1.0, 2.0)),
                    ("b + (ε/2) s: (σ²/2) s with σ² = ε", with_eps(1.0, 0.5))),
        ),
        "BackwardDriftFromDriftScore": (
            mistake("score-term-sign", ("b + ε s", with_eps(1.0, 1.0))),
            mistake("score-term-missing", ("b returned: the ε s term dropped", b)),
            mistake("score-scaling", ("b − 2ε s: σ² s with σ² = 2ε (the ½ of σ²/2 dropped)", with_eps(-1.0, 2.0)),
                    ("b − (ε/2) s: (σ²/2) s with σ² = ε", with_eps(-1.0, 0.5))),
        ),
        "SDEDriftFromDriftScore": (
            mistake("score-term-sign", ("b − (g²/2) s", with_eps(-1.0, 1.0))),
            mistake("score-term-missing", ("b returned: the (g²/2) s term dropped", b)),
            mistake("score-scaling", ("b + g² s: the ½ of g²/2 dropped", with_eps(1.0, 2.0)),
                    ("b + (g²/4) s", with_eps(1.0, 0.5))),
        ),
    }
    return table.get(name, ())


def wrapper_quantities() -> list:
    out = []
    for cls, requirement, families, domain, plain in _SPECS:
        name = cls.__name__
        exact = case_field(cls.output)
        mistakes = list(_specific_mistakes(name))
        if not any(m.name in ("sign-flip", "noise-sign", "gamma-gamma-dot-sign") for m in mistakes):
            mistakes.append(sign_flip(exact))
        if cls.parameter in ("gamma", "interpolant", "base"):
            mistakes.append(mistake("time-reversed", ("the wrapper's coefficients taken at 1 − t",
                                                      _with(cls, parameter=_reversed_parameter(cls.parameter)))))
        if cls.parameter in ("interpolant", "base"):
            mistakes.append(mistake("alpha-beta-swapped", ("the wrapper's α and β exchanged",
                                                           _with(cls, parameter=_swapped_parameter))))
        mistakes.append(mistake("t-wrong-axis", ("the wrapper's coefficients taken at t[j] for column j",
                                                 _per_column(cls))))
        if name in _DIVISORS:
            mistakes.append(additive_guard(exact, *_DIVISORS[name]))
        mistakes.append(constant_factor(exact))
        summary = (f"{plain}; called as {wrapper_call(cls)}, it returns the {cls.output} computed from the exact "
                   f"{', '.join(cls.inputs)}.")
        out.append(WrapperQuantity(name, summary, exact, tuple(mistakes), domain=domain,
                                   accepts=_REQUIREMENTS[requirement], families=families,
                                   needs_eps=cls.parameter in ("eps", "diffusion_squared"), plain=plain, wrapper=cls))
    return out
