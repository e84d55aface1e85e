r"""Quantities of the schedules and the path: γ, γ̇, γγ̇, α, α̇, β, β̇, x_t, dx_t/dt and ∂_t I.

Convention (arXiv:2303.08797v3, eq. (2.1)): x_t = α(t) x0 + β(t) x1 + γ(t) z with
α(0) = β(1) = 1, α(1) = β(0) = 0 and γ(0) = γ(1) = 0; d x_t/dt = α̇ x0 + β̇ x1 + γ̇ z
is the regression target of the drift b, ∂_t I = α̇ x0 + β̇ x1 that of the velocity v.
"""

from __future__ import annotations

import numpy as np

from ..schedules import GammaSchedule
from .example import Example, column
from .quantity import CoefficientQuantity, PathQuantity, ScheduleQuantity, interior
from .variants import Fitted, mistake, scaled, sign_flip, swapped, time_reversed, wrong_axis

__all__ = ["schedule_quantities", "interpolant_quantities", "gamma_dot_finite"]


def gamma_dot_finite(schedule: GammaSchedule):
    """[0, 1] unless γ̇ is infinite at an endpoint, then the interior."""
    ends = np.asarray(schedule.gamma_dot(np.array([0.0, 1.0])))
    return (0.0, 1.0) if np.all(np.isfinite(ends)) else interior(schedule)


def _method(name):
    def value(ex: Example):
        return np.asarray(getattr(ex.reference, name)(ex.t), dtype=np.float64)
    return value


def naive_gamma_gamma_dot(schedule: GammaSchedule, t):
    """γ(t) · γ̇(t) formed from the two factors: NaN where γ = 0 and γ̇ = ±inf (0 · inf)."""
    with np.errstate(invalid="ignore"):
        return np.asarray(schedule.gamma(t)) * np.asarray(schedule.gamma_dot(t))


# --- γ floored near the endpoints ----------------------------------------------------------------

def _at_zero_gamma(ex, received):
    gamma = np.broadcast_to(np.asarray(ex.reference.gamma(ex.t), dtype=np.float64), np.shape(received))
    return received[gamma == 0.0] if np.shape(received) == gamma.shape else np.array([])


def _fit_floor_under_sqrt(ex, received):
    """γ_δ = √(γ² + δ): δ = γ_δ² where γ = 0."""
    at_zero = _at_zero_gamma(ex, np.asarray(received))
    at_zero = at_zero[np.isfinite(at_zero) & (at_zero > 0)]
    return float(np.median(at_zero ** 2)) if at_zero.size else None


def _fit_clamp(ex, received):
    """γ_δ = max(γ, δ): δ = γ_δ where γ = 0."""
    at_zero = _at_zero_gamma(ex, np.asarray(received))
    at_zero = at_zero[np.isfinite(at_zero) & (at_zero > 0)]
    return float(np.median(at_zero)) if at_zero.size else None


def _fit_floor_from_gamma_dot(ex, received):
    """γ̇_δ = γγ̇/√(γ² + δ) is finite where γ̇ = ±inf: δ = (γγ̇ / γ̇_δ)² there."""
    s = ex.reference
    exact = np.broadcast_to(np.asarray(s.gamma_dot(ex.t), dtype=np.float64), np.shape(received))
    received = np.asarray(received)
    if received.shape != exact.shape:
        return None
    at_inf = np.isinf(exact) & np.isfinite(received) & (received != 0)
    if not at_inf.any():
        return None
    ggd = np.broadcast_to(np.asarray(s.gamma_gamma_dot(ex.t), dtype=np.float64), exact.shape)
    return float(np.median((ggd[at_inf] / received[at_inf]) ** 2))


def _floored_gamma(ex, delta):
    gamma = np.asarray(ex.reference.gamma(ex.t), dtype=np.float64)
    return np.sqrt(gamma ** 2 + delta)


def _floored_gamma_dot(ex, delta):
    s = ex.reference
    gamma = np.asarray(s.gamma(ex.t), dtype=np.float64)
    return np.asarray(s.gamma_gamma_dot(ex.t), dtype=np.float64) / np.sqrt(gamma ** 2 + delta)


def _gamma_floor_forms(kind):
    if kind == "gamma":
        return mistake("gamma-floor",
                       Fitted("γ = √(γ_exact² + δ) with δ = {parameter:.3g}", _fit_floor_under_sqrt, _floored_gamma),
                       Fitted("γ = max(γ_exact, {parameter:.3g})", _fit_clamp,
                              lambda ex, d: np.maximum(np.asarray(ex.reference.gamma(ex.t), dtype=np.float64), d)))
    return mistake("gamma-floor", Fitted("γ̇ of γ = √(γ_exact² + δ) with δ = {parameter:.3g}: finite where γ̇ = ±inf",
                                         _fit_floor_from_gamma_dot, _floored_gamma_dot))


def schedule_quantities() -> list:
    gamma, gamma_dot, ggd = _method("gamma"), _method("gamma_dot"), _method("gamma_gamma_dot")
    return [
        ScheduleQuantity("gamma", "γ(t), the scale of the latent noise γ(t) z; γ(0) = γ(1) = 0.", gamma, (
            sign_flip(gamma),
            mistake("variance-for-std", ("γ(t)²", scaled(gamma, gamma))),
            time_reversed(gamma, signs=(1.0,)),
            _gamma_floor_forms("gamma"),
        ), plain="γ(t): the scale of the latent noise γ(t) z; γ(0) = γ(1) = 0"),
        ScheduleQuantity("gamma_dot", "γ̇(t); exact ±inf where infinite (Brownian schedules at t = 0, 1).",
                         gamma_dot, (sign_flip(gamma_dot), time_reversed(gamma_dot), _gamma_floor_forms("gamma_dot")),
                         plain="γ̇(t) = dγ/dt; exactly ±inf where infinite (Brownian γ at t = 0 and 1)"),
        ScheduleQuantity("gamma_gamma_dot", "γ(t) γ̇(t) = ½ d(γ²)/dt, finite on [0, 1].", ggd, (
            mistake("nan-from-gamma-dot", ("γ(t) · γ̇(t) formed from the factors",
                                           lambda ex: naive_gamma_gamma_dot(ex.reference, ex.t))),
            sign_flip(ggd),
            mistake("factor-two", ("2 γγ̇ = d(γ²)/dt", scaled(ggd, lambda ex: 2.0)),
                    ("γγ̇ / 2", scaled(ggd, lambda ex: 0.5))),
            time_reversed(ggd),
        ), plain="γγ̇(t) = ½ d(γ²)/dt in closed form, finite on [0, 1]"),
    ]


# --- the interpolant -------------------------------------------------------------------------------

def _path_method(name, *, needs_z=True):
    def value(ex):
        fn = getattr(ex.reference, name)
        return fn(ex.t, ex.x0, ex.x1, ex.z) if needs_z else fn(ex.t, ex.x0, ex.x1)
    return value


def interpolant_quantities() -> list:
    out = []
    symbols = {"alpha": ("α", "x0 (base)"), "beta": ("β", "x1 (target)")}
    for name, partner in (("alpha", "beta"), ("beta", "alpha")):
        value, other = _method(name), _method(partner)
        symbol, of = symbols[name]
        out.append(CoefficientQuantity(
            name, f"{symbol}(t), the coefficient of {of}.", value,
            (mistake("alpha-beta-swapped", (f"{partner} returned", other)), time_reversed(value, signs=(1.0,))),
            plain=f"{symbol}(t): the coefficient of the {'base x0' if name == 'alpha' else 'target x1'} in "
                  f"x_t = α x0 + β x1 + γ z"))
        dot, other_dot = _method(name + "_dot"), _method(partner + "_dot")
        out.append(CoefficientQuantity(
            name + "_dot", f"the time derivative of {name}.", dot,
            (sign_flip(dot), mistake("alpha-beta-swapped", (f"{partner}_dot returned", other_dot)),
             time_reversed(dot)),
            plain=f"{symbol}̇(t) = d{symbol}/dt"))

    x_t = _path_method("interpolant")
    dxdt = _path_method("interpolant_dot")
    partial = _path_method("interpolant_partial_t", needs_z=False)

    def with_gamma_squared(ex):
        I = ex.reference
        return (column(I.alpha(ex.t), ex) * ex.x0 + column(I.beta(ex.t), ex) * ex.x1
                + column(I.gamma(ex.t) ** 2, ex) * ex.z)

    out += [
        PathQuantity("interpolant", "x_t = α(t) x0 + β(t) x1 + γ(t) z.", x_t, (
            swapped(x_t), time_reversed(x_t, signs=(1.0,)),
            mistake("variance-for-std", ("α x0 + β x1 + γ² z", with_gamma_squared)),
            wrong_axis(x_t))),
        PathQuantity("interpolant_dot", "d x_t / dt = α̇ x0 + β̇ x1 + γ̇ z, the regression target of the drift b.",
                     dxdt, (mistake("noise-term-missing", ("∂_t I = α̇ x0 + β̇ x1", partial)),
                            sign_flip(dxdt), swapped(dxdt), time_reversed(dxdt), wrong_axis(dxdt)),
                     domain=lambda interpolant: gamma_dot_finite(interpolant.gamma_schedule),
                     plain="dx_t/dt = α̇ x0 + β̇ x1 + γ̇ z: the regression target of the drift b"),
        PathQuantity("interpolant_partial_t", "∂_t I = α̇ x0 + β̇ x1, the regression target of the velocity v.",
                     partial, (sign_flip(partial), swapped(partial), time_reversed(partial), wrong_axis(partial)),
                     needs_z=False, plain="∂_t I = α̇ x0 + β̇ x1: the regression target of the velocity v"),
    ]
    return out
