r"""Quantities of the diffusion fields in τ: ε̂, x̂ (the denoiser D), v̂, the score, the flow velocity and the
reverse-SDE drift of a :class:`~si_ref.diffusion.DiffusionCase`, each called ``f(x, tau)``.

For :math:`x_\tau = a(\tau) x_{\mathrm{data}} + \sigma(\tau)\varepsilon` (τ = 0 the data; Ho et al. 2020;
Song et al. 2021, arXiv:2011.13456, eqs. (6), (13); Salimans & Ho 2022, arXiv:2202.00512, App. D;
Lipman et al. 2023, arXiv:2210.02747):

=============================  ============================================  ===========================
quantity                       value                                         the case's method
=============================  ============================================  ===========================
``diffusion_epsilon``          ε̂ = E[ε | x_τ = x] = −σ s                      ``epsilon``
``diffusion_denoised``         x̂ = E[x_data | x_τ = x] (EDM's D)             ``denoised``
``diffusion_v``                v̂ = E[a ε − σ x_data | x] = a ε̂ − σ x̂          ``v``
``diffusion_score``            s = ∇ log ρ_τ(x)                               ``score``
``diffusion_flow_velocity``    u = E[ȧ x_data + σ̇ ε | x] = ȧ x̂ − σσ̇ s        ``flow_velocity``
``diffusion_reverse_sde_drift``  f x − g² s, run with dτ < 0 (where a > 0)    ``reverse_sde_drift``
=============================  ============================================  ===========================

with f = ȧ/a and g² = 2σσ̇ − 2 f σ² the forward SDE's coefficients; the probability-flow ODE
drift f x − ½ g² s equals u. The exact values are the case's closed forms (Gaussian
conditional expectations, :class:`si_ref.GaussianCase` at the noise level).

si_ref's interpolant time is t = 1 − τ (t = 1 the data); si_ref's velocity at t is −u(x, 1 − t).
"""

from __future__ import annotations

import numpy as np

from .diffusion_quantity import DiffusionFieldQuantity, column_of
from .variants import additive_guard, constant_factor, mistake, negated, sign_flip, time_reversed, wrong_axis

__all__ = ["diffusion_field_quantities", "field_of"]


def field_of(method: str):
    """``value(example)``: the case's exact ``method`` at (x, τ)."""
    def value(ex):
        return getattr(ex.reference, method)(ex.x, ex.t)
    return value


def _level(ex):
    path = ex.reference.path
    return path.a(ex.t), path.sigma(ex.t)


def _at_swapped_level(method: str):
    """The case's ``method`` at the level (σ, a): a and σ exchanged (x = σ x_data + a ε)."""
    def value(ex):
        a, sigma = _level(ex)
        return getattr(ex.reference, method)(ex.x, sigma, a)
    return value


def _sde(ex):
    """(f, g²) as columns (ValueError where a = 0: both are infinite there)."""
    path = ex.reference.path
    return column_of(path.drift_coefficient(ex.t)), column_of(path.diffusion_squared(ex.t))


def _score_over(power):
    """−ε̂/σ^power where σ > 0 (None elsewhere)."""
    def value(ex):
        _, sigma = _level(ex)
        if np.any(np.asarray(sigma) == 0.0):
            return None
        return -ex.reference.epsilon(ex.x, ex.t) / column_of(sigma) ** power
    return value


def _drift_with(score_weight):
    """f x − score_weight · g² s (where a > 0)."""
    def value(ex):
        f, g2 = _sde(ex)
        return f * ex.x - score_weight * g2 * ex.reference.score(ex.x, ex.t)
    return value


def _sigma_column(ex):
    return column_of(_level(ex)[1])


#: The time-reversed form of a field in τ.
_AT_ONE_MINUS_TAU = {1.0: "the value at 1 − τ"}


def _common(exact, method):
    """The mistakes every field has: time reversed, a and σ exchanged, t broadcast along columns, a factor."""
    return (
        time_reversed(exact, (1.0,), labels={1.0: "the value at 1 − τ (the time map t = 1 − τ forgotten)"}),
        mistake("alpha-beta-swapped", ("a and σ exchanged: x read as σ x_data + a ε",
                                       _at_swapped_level(method + "_at"))),
        wrong_axis(exact, time="τ"),
        constant_factor(exact),
    )


def diffusion_field_quantities() -> list:
    eps, x0, v, s = (field_of(m) for m in ("epsilon", "denoised", "v", "score"))
    u, reverse = field_of("flow_velocity"), field_of("reverse_sde_drift")
    call = "called f(x, tau), tau = 0 the data"
    return [
        DiffusionFieldQuantity(
            "diffusion_epsilon", f"ε̂ = E[ε | x_τ = x] = −σ s, the ε-prediction of x_τ = a x_data + σ ε; {call}.",
            eps, (mistake("noise-sign", ("−ε̂ = E[−ε | x]: the other sign of the noise", negated(eps))),)
            + _common(eps, "epsilon"), method="epsilon",
            plain="ε̂ = E[ε | x_τ = x], the ε-prediction (τ = 0 the data)"),
        DiffusionFieldQuantity(
            "diffusion_denoised", f"x̂ = E[x_data | x_τ = x], the x0-prediction (EDM's denoiser D); {call}.",
            x0, (mistake("denoisers-swapped", ("ε̂ returned: the noise's conditional mean for the data's", eps)),
                 sign_flip(x0)) + _common(x0, "denoised"), method="denoised",
            plain="x̂ = E[x_data | x_τ = x], the x0-prediction (EDM's D)"),
        DiffusionFieldQuantity(
            "diffusion_v", f"v̂ = E[a ε − σ x_data | x_τ = x] = a ε̂ − σ x̂, the v-prediction (Salimans & Ho); {call}.",
            v, (mistake("v-sign", ("σ x̂ − a ε̂: v with the opposite sign", negated(v))),)
            + _common(v, "v"), method="v", plain="v̂ = a ε̂ − σ x̂, the v-prediction (Salimans & Ho 2022)"),
        DiffusionFieldQuantity(
            "diffusion_score", f"s = ∇ log ρ_τ(x) = −ε̂/σ; {call}.",
            s, (sign_flip(s),
                mistake("score-scaling", ("−ε̂: the division by σ forgotten", _score_over(0)),
                        ("−ε̂/σ²: divided by the variance σ² instead of σ", _score_over(2))),
                time_reversed(s, (1.0,), labels=_AT_ONE_MINUS_TAU),
                mistake("alpha-beta-swapped", ("a and σ exchanged", _at_swapped_level("score_at"))),
                wrong_axis(s, time="τ"),
                additive_guard(s, _sigma_column, "σ"),
                constant_factor(s)),
            method="score", plain="s = ∇ log ρ_τ(x) = −ε̂/σ (τ = 0 the data)"),
        DiffusionFieldQuantity(
            "diffusion_flow_velocity",
            f"u = dx/dτ = E[ȧ x_data + σ̇ ε | x] = ȧ x̂ − σσ̇ s, the probability-flow velocity (diffusers' "
            f"'flow' target ε − x_data on rectified flow); {call}.",
            u, (mistake("sign-flip", ("x_data − ε convention: −u", negated(u))),
                time_reversed(u, (-1.0, 1.0), labels={-1.0: "si_ref's velocity at t = τ: −u(x, 1 − τ)",
                                                      1.0: "u(x, 1 − τ)"}),
                mistake("factor-two", ("f x − g² s: the reverse-SDE drift for the probability flow f x − ½ g² s",
                                       _drift_with(1.0))),
                mistake("alpha-beta-swapped", ("ε̂ and x̂ exchanged: ȧ ε̂ + σ̇ x̂",
                                               lambda ex: _swapped_flow(ex))),
                wrong_axis(u, time="τ"),
                constant_factor(u)),
            method="flow_velocity", plain="u = dx/dτ = ȧ x̂ − σσ̇ s, the flow velocity (ε − x_data on RF)"),
        DiffusionFieldQuantity(
            "diffusion_reverse_sde_drift",
            f"f x − g² s, the drift of the reverse-time SDE dx = (f x − g² s) dτ + g dW̄ run from τ = 1 to 0 "
            f"(Song et al. 2021, eq. (6)), where a > 0; {call}.",
            reverse, (mistake("score-term-sign", ("f x + g² s", _drift_with(-1.0))),
                      mistake("score-term-missing", ("f x − ½ g² s: the probability-flow ODE drift", _drift_with(0.5))),
                      sign_flip(reverse),
                      time_reversed(reverse, (1.0,), labels=_AT_ONE_MINUS_TAU),
                      wrong_axis(reverse, time="τ"),
                      constant_factor(reverse)),
            method="reverse_sde_drift", plain="f x − g² s: the reverse-SDE drift in τ (where a > 0)"),
    ]


def _swapped_flow(ex):
    """ȧ ε̂ + σ̇ x̂ where σ̇ is finite: the flow velocity with the two conditional means exchanged."""
    path = ex.reference.path
    sigma_dot = np.asarray(path.sigma_dot(ex.t))
    if not np.all(np.isfinite(sigma_dot)):
        return None
    return (column_of(path.a_dot(ex.t)) * ex.reference.epsilon(ex.x, ex.t)
            + column_of(sigma_dot) * ex.reference.denoised(ex.x, ex.t))
