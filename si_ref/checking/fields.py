r"""Quantities of the exact fields of a Gaussian case: s, η, x̂0, x̂1, v, b, log ρ_t, ∇·b, b_F, b_B.

Conventions (arXiv:2303.08797v3, eqs. (2.10), (2.14), (2.17), (2.21), (2.27)):
s = ∇ log ρ_t; η = E[z | x_t = x] = −γ s; x̂0 = E[x0 | x_t = x], x̂1 = E[x1 | x_t = x];
v = E[α̇ x0 + β̇ x1 | x_t = x]; b = v − γγ̇ s; b_F = b + ε s and b_B = b − ε s,
the drifts of dX = b_F dt + √(2ε) dW forward and of the backward SDE.
"""

from __future__ import annotations

import numpy as np

from .example import Example, column, eps_column
from .paths import naive_gamma_gamma_dot
from .quantity import FieldQuantity
from .variants import (at_reversed, constant_factor, mistake, negated, scaled, sign_flip, swapped,
                       time_reversed, wrong_axis)

__all__ = ["field_quantities", "case_field", "gamma_gamma_dot", "gamma_of", "one_sided_noise_term",
           "naive_noise_term"]


def case_field(name: str):
    """``value(example)``: the case's exact field ``name`` at (x, t) (with ε for the SDE drifts)."""
    def value(ex: Example) -> np.ndarray:
        method = getattr(ex.reference, name)
        if name in ("forward_drift", "backward_drift"):
            return method(ex.x, ex.t, ex.eps)
        return method(ex.x, ex.t)
    return value


def gamma_gamma_dot(ex):
    return column(ex.reference.interpolant.gamma_gamma_dot(ex.t), ex)


def gamma_of(ex):
    return column(ex.reference.interpolant.gamma(ex.t), ex)


def _positive_gamma_only(fn):
    def value(ex):
        g = np.asarray(ex.reference.interpolant.gamma(ex.t))
        return fn(ex) if np.all(g > 0) else None
    return value


def one_sided_noise_term(ex):
    """−αα̇ s on a one-sided path (None otherwise): the part of v = α̇ x̂0 + β̇ x̂1 that comes from x0."""
    I = ex.reference.interpolant
    if I.kind != "one-sided":
        return None
    return -column(np.asarray(I.alpha(ex.t)) * np.asarray(I.alpha_dot(ex.t)), ex) * ex.reference.score(ex.x, ex.t)


def naive_noise_term(ex):
    """−(γ · γ̇) s with γγ̇ formed from its factors (NaN where γ = 0 and γ̇ = ±inf); None where that is finite."""
    product = naive_gamma_gamma_dot(ex.reference.interpolant.gamma_schedule, ex.t)
    if np.isfinite(product).all():
        return None
    with np.errstate(invalid="ignore"):
        return -column(product, ex) * ex.reference.score(ex.x, ex.t)


def _plus(*terms):
    """The sum of value functions; None where any of them is None."""
    def value(ex):
        parts = [term(ex) for term in terms]
        if any(p is None for p in parts):
            return None
        with np.errstate(invalid="ignore"):
            return sum(parts[1:], parts[0])
    return value


def field_quantities() -> list:
    F = {name: case_field(name) for name in
         ("score", "noise", "denoise_x0", "denoise_x1", "velocity", "drift", "forward_drift", "backward_drift",
          "log_density", "divergence")}
    s, v, b = F["score"], F["velocity"], F["drift"]

    def score_scalings(value):
        return mistake(
            "score-scaling",
            ("(γ²/2) s: a σ²/2 scaling with σ = γ", _positive_gamma_only(scaled(value, lambda ex: 0.5 * gamma_of(ex) ** 2))),
            ("γ² s", _positive_gamma_only(scaled(value, lambda ex: gamma_of(ex) ** 2))),
            ("γ s = −η (minus the noise predictor)", _positive_gamma_only(scaled(value, gamma_of))),
            ("−γ s = η (the noise predictor given as the score)",
             _positive_gamma_only(scaled(value, lambda ex: -gamma_of(ex)))),
            ("2 s", scaled(value, lambda ex: 2.0)),
            ("s / 2", scaled(value, lambda ex: 0.5)),
        )

    def sde_mistakes(sign, own):
        """Mistakes of b ± ε s (sign +1 forward, −1 backward)."""
        def plus_score(fn, k):
            return lambda ex: fn(ex) + sign * k * eps_column(ex) * s(ex)

        def score_term(ex):
            return sign * eps_column(ex) * s(ex)
        return (
            mistake("gamma-gamma-dot-sign", ("v + γγ̇ s ± ε s", lambda ex: v(ex) + gamma_gamma_dot(ex) * s(ex) + score_term(ex))),
            mistake("score-term-sign", ("b ∓ ε s", plus_score(b, -1.0))),
            mistake("score-term-missing", ("b returned: the ε s term dropped", b)),
            mistake("score-scaling",
                    ("b ± 2ε s: σ² s with σ² = 2ε (the ½ of σ²/2 dropped)", plus_score(b, 2.0)),
                    ("b ± (ε/2) s: (σ²/2) s with σ² = ε", plus_score(b, 0.5)),
                    ("b ± (ε²/2) s: ε used as the diffusion coefficient σ",
                     lambda ex: b(ex) + sign * 0.5 * eps_column(ex) ** 2 * s(ex))),
            mistake("velocity-for-drift", ("v ± ε s", plus_score(v, 1.0))),
            mistake("noise-term-twice", ("v − 2γγ̇ s ± ε s", lambda ex: v(ex) - 2.0 * gamma_gamma_dot(ex) * s(ex) + score_term(ex))),
            mistake("one-sided-double-count", ("b − αα̇ s ± ε s on a one-sided path", _plus(own, one_sided_noise_term))),
            mistake("nan-from-gamma-dot", ("v − (γ · γ̇) s ± ε s with γ · γ̇ = 0 · inf", _plus(v, naive_noise_term, score_term))),
        )

    def common(fn, reversal_signs=(1.0, -1.0), *reversals):
        return (time_reversed(fn, reversal_signs, *reversals), swapped(fn), wrong_axis(fn), constant_factor(fn))

    def denoiser_mistakes(own, other, other_name):
        # In the reversed time direction x0 and x1 trade places: E[x0 | x_t] there is x̂1 at 1 − t here.
        return (mistake("denoisers-swapped", (f"{other_name} returned", other)), sign_flip(own)) + common(
            own, (1.0,), (f"{other_name} at 1 − t (x0 and x1 trade places)", at_reversed(other)))

    def sde_reversal(other):
        # The forward SDE of the reversed direction is the backward SDE here: b'_F(x, t) = −b_B(x, 1 − t).
        label = "minus the " + ("backward" if other == "backward_drift" else "forward") + " drift at 1 − t"
        return (label, at_reversed(F[other], -1.0))

    scalar_common = (time_reversed, swapped)
    return [
        FieldQuantity("score", "s = ∇ log ρ_t(x).", s, (sign_flip(s), score_scalings(s)) + common(s, (1.0,)),
                      plain="s = ∇ log ρ_t(x): the score of the density of x_t"),
        FieldQuantity("noise", "η = E[z | x_t = x] = −γ s (the noise predictor, + sign).", F["noise"],
                      (mistake("noise-sign", ("−E[z | x]", negated(F["noise"]))),) + common(F["noise"]),
                      plain="η = E[z | x_t = x] = −γ s: the noise predictor (plus sign)"),
        FieldQuantity("denoise_x0", "x̂0 = E[x0 | x_t = x].", F["denoise_x0"],
                      denoiser_mistakes(F["denoise_x0"], F["denoise_x1"], "x̂1"),
                      plain="x̂0 = E[x0 | x_t = x]: the base denoiser"),
        FieldQuantity("denoise_x1", "x̂1 = E[x1 | x_t = x].", F["denoise_x1"],
                      denoiser_mistakes(F["denoise_x1"], F["denoise_x0"], "x̂0"),
                      plain="x̂1 = E[x1 | x_t = x]: the target denoiser"),
        FieldQuantity("velocity", "v = E[α̇ x0 + β̇ x1 | x_t = x].", v,
                      (sign_flip(v), mistake("drift-for-velocity", ("b returned", b))) + common(v),
                      plain="v = E[α̇ x0 + β̇ x1 | x_t = x]"),
        FieldQuantity("drift", "b = E[α̇ x0 + β̇ x1 + γ̇ z | x_t = x] = v − γγ̇ s.", b, (
            mistake("gamma-gamma-dot-sign", ("v + γγ̇ s", lambda ex: v(ex) + gamma_gamma_dot(ex) * s(ex))),
            sign_flip(b),
            mistake("velocity-for-drift", ("v returned", v)),
            mistake("noise-term-twice", ("v − 2γγ̇ s", lambda ex: v(ex) - 2.0 * gamma_gamma_dot(ex) * s(ex))),
            mistake("one-sided-double-count", ("b − αα̇ s on a one-sided path (α also used as γ)",
                                               _plus(b, one_sided_noise_term))),
            mistake("nan-from-gamma-dot", ("v − (γ · γ̇) s with γ · γ̇ = 0 · inf", _plus(v, naive_noise_term))),
        ) + common(b), plain="b = E[α̇ x0 + β̇ x1 + γ̇ z | x_t = x] = v − γγ̇ s"),
        FieldQuantity("log_density", "log ρ_t(x), the log density of x_t; shape (n,).", F["log_density"], (
            mistake("density-for-log-density", ("ρ_t(x) returned", lambda ex: np.exp(F["log_density"](ex)))),
            sign_flip(F["log_density"]), time_reversed(F["log_density"], (1.0,)), swapped(F["log_density"])),
            scalar=True, plain="log ρ_t(x): the log density of x_t, shape (n,)"),
        FieldQuantity("divergence", "∇·b(x, t), the divergence of the drift b = v − γγ̇ s; shape (n,).",
                      F["divergence"], (sign_flip(F["divergence"]),) + tuple(m(F["divergence"]) for m in scalar_common)
                      + (constant_factor(F["divergence"]),),
                      scalar=True, plain="∇·b(x, t): the divergence of the drift b, shape (n,)"),
        FieldQuantity("forward_drift", "b_F = b + ε(t) s, for dX = b_F dt + √(2ε) dW forward in t.",
                      F["forward_drift"], sde_mistakes(1.0, F["forward_drift"]) + (sign_flip(F["forward_drift"]),)
                      + common(F["forward_drift"], (1.0, -1.0), sde_reversal("backward_drift")),
                      needs_eps=True, plain="b_F = b + ε s: the drift of dX = b_F dt + √(2ε) dW, t increasing"),
        FieldQuantity("backward_drift", "b_B = b − ε(t) s, for dX = b_B dt + √(2ε) dW with decreasing t.",
                      F["backward_drift"], sde_mistakes(-1.0, F["backward_drift"]) + (sign_flip(F["backward_drift"]),)
                      + common(F["backward_drift"], (1.0, -1.0), sde_reversal("forward_drift")),
                      needs_eps=True, plain="b_B = b − ε s: the drift of dX = b_B dt + √(2ε) dW, t decreasing"),
    ]
