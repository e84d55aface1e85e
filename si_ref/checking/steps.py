r"""Quantities of one sampler step: Euler, midpoint, Heun, RK4, Euler–Maruyama and stochastic Heun.

ODE steps are called ``step(field, x, t, dt)`` with ``field`` the case's exact drift
b(x, t) (any callable ``f(x, t)``) and return x after one step of dX/dt = b from t to
t + dt. With stages k_i = b(x + dt Σ_j a_ij k_j, t + c_i dt) and x' = x + dt Σ b_i k_i
(Hairer, Nørsett & Wanner, *Solving ODEs I*, Sec. II.1):

============  ===============================================================
Euler         k1 = b(x, t); x' = x + dt k1
midpoint      k2 = b(x + dt/2 k1, t + dt/2); x' = x + dt k2
Heun          k2 = b(x + dt k1, t + dt); x' = x + dt (k1 + k2)/2
RK4           k2 = b(x + dt/2 k1, t + dt/2), k3 = b(x + dt/2 k2, t + dt/2),
              k4 = b(x + dt k3, t + dt); x' = x + dt (k1 + 2k2 + 2k3 + k4)/6
============  ===============================================================

SDE steps are called ``step(field, x, t, dt, eps, xi)`` with ``field`` the forward
drift b_F = b + ε s, ε(t) a number or callable and ξ ~ N(0, I) of shape (n, d), for
dX = b_F dt + σ_t dW with σ_t = √(2ε(t)) (arXiv:2303.08797v3, eq. (2.32)):

* Euler–Maruyama: x' = x + b_F(x, t) dt + σ_t √dt ξ;
* stochastic Heun (additive noise): x̃ = x + b_F(x, t) dt + σ_t √dt ξ,
  x' = x + dt (b_F(x, t) + b_F(x̃, t + dt))/2 + (σ_t + σ_{t+dt})/2 √dt ξ.

Each row i steps from its own time t[i] when t has shape (n,).
"""

from __future__ import annotations

import numpy as np

from ..samplers import EULER_TABLEAU, HEUN_TABLEAU, RK4_TABLEAU, ButcherTableau, EulerMaruyama, ExplicitRungeKutta
from ..samplers import SDETerm, StochasticHeun
from .example import Example, eps_column
from .quantity import StepQuantity
from .variants import mistake, per_column, wrong_axis

__all__ = ["step_quantities", "MIDPOINT_TABLEAU", "THREE_EIGHTHS_TABLEAU"]

#: Kutta's 3/8 rule (order 4; stages at t, t + dt/3, t + 2dt/3, t + dt, weights 1/8, 3/8, 3/8, 1/8): the
#: method torchdiffeq (and so flow_matching) calls "rk4" (Hairer, Nørsett & Wanner, Table II.1.1).
THREE_EIGHTHS_TABLEAU = ButcherTableau("3/8 rule", 4, a=((), (1 / 3,), (-1 / 3, 1.0), (1.0, -1.0, 1.0)),
                                       b=(1 / 8, 3 / 8, 3 / 8, 1 / 8), c=(0.0, 1 / 3, 2 / 3, 1.0))
#: The explicit midpoint method (order 2).
MIDPOINT_TABLEAU = ButcherTableau("midpoint", 2, a=((), (0.5,)), b=(0.0, 1.0), c=(0.0, 0.5))

#: Domain of the steps: t + dt stays in [0, 1] for dt <= 0.1.
_STEP_DOMAIN = (0.0, 0.9)


def _times(ex: Example):
    return np.broadcast_to(np.asarray(ex.t, dtype=np.float64), (ex.x.shape[0],))


def _tableau_step(a, b, c, *, sign=1.0, dt_scale=1.0):
    """x + sign · h Σ b_i k_i with k_i = f(x + h Σ a_ij k_j, t + c_i h), h = dt_scale · dt, per row."""
    def value(ex):
        case = ex.reference
        t = _times(ex)
        h = dt_scale * ex.dt
        stages = []
        for row, node in zip(a, c):
            x_stage = ex.x + h * sum((a_ij * k for a_ij, k in zip(row, stages)), np.zeros_like(ex.x))
            stages.append(case.drift(x_stage, t + node * h if node else t))
        return ex.x + sign * h * sum(w * k for w, k in zip(b, stages))
    return value


def _tableau(t: ButcherTableau):
    return t.a, t.b, t.c


def _own_ode_step(tableau):
    """si_ref.samplers.ExplicitRungeKutta with ``tableau``, one row at a time (it takes one time)."""
    stepper = ExplicitRungeKutta(tableau)

    def step(field, x, t, dt):
        times = np.broadcast_to(np.asarray(t, dtype=np.float64), (x.shape[0],))
        return np.concatenate([stepper.step(field, x[i:i + 1], float(ti), float(ti) + dt, None, 0)
                               for i, ti in enumerate(times)])
    step.__name__ = f"si_ref_{tableau.name.lower()}_step"
    return step


def _ode_step_quantities():
    euler = _tableau_step(*_tableau(EULER_TABLEAU))
    midpoint = _tableau_step(*_tableau(MIDPOINT_TABLEAU))
    heun = _tableau_step(*_tableau(HEUN_TABLEAU))
    rk4 = _tableau_step(*_tableau(RK4_TABLEAU))

    def common(exact, tableau):
        return (
            mistake("sign-flip", ("x − dt Σ b_i k_i (the drift's sign)", _tableau_step(*_tableau(tableau), sign=-1.0))),
            mistake("step-size", ("the step taken with dt/2", _tableau_step(*_tableau(tableau), dt_scale=0.5)),
                    ("the step taken with 2 dt", _tableau_step(*_tableau(tableau), dt_scale=2.0))),
            mistake("t-wrong-axis", ("row i, column j stepped from t[j]", per_column(exact))),
        )

    at_end = _tableau_step(((),), (1.0,), (1.0,))
    summary = "called as step(field, x, t, dt) with field the exact drift b(x, t); returns x at t + dt."
    return [
        StepQuantity("euler_step", f"x + dt b(x, t): one Euler step of dX/dt = b; {summary}", euler, (
            mistake("stage-time", ("x + dt b(x, t + dt): the drift at the end of the step", at_end)),
        ) + common(euler, EULER_TABLEAU), domain=lambda ref: _STEP_DOMAIN, own=_own_ode_step(EULER_TABLEAU),
            plain="x + dt b(x, t): one Euler step of dX/dt = b"),
        StepQuantity("midpoint_step", f"x + dt b(x + dt/2 b(x, t), t + dt/2): one explicit midpoint step; {summary}",
                     midpoint, (
                         mistake("stage-time",
                                 ("the second stage at t", _tableau_step(((), (0.5,)), (0.0, 1.0), (0.0, 0.0))),
                                 ("the second stage at t + dt", _tableau_step(((), (0.5,)), (0.0, 1.0), (0.0, 1.0)))),
                         mistake("wrong-method", ("an Euler step", euler), ("a Heun step", heun)),
                     ) + common(midpoint, MIDPOINT_TABLEAU), domain=lambda ref: _STEP_DOMAIN,
                     own=_own_ode_step(MIDPOINT_TABLEAU), plain="x + dt b(x + dt/2 b(x, t), t + dt/2): one midpoint step"),
        StepQuantity("heun_step", f"x + dt/2 (k1 + b(x + dt k1, t + dt)), k1 = b(x, t): one Heun step; {summary}",
                     heun, (
                         mistake("stage-time",
                                 ("the corrector stage at t", _tableau_step(((), (1.0,)), (0.5, 0.5), (0.0, 0.0))),
                                 ("the corrector stage at t + dt/2", _tableau_step(((), (1.0,)), (0.5, 0.5), (0.0, 0.5)))),
                         mistake("wrong-method", ("an Euler step (the corrector missing)", euler),
                                 ("the predictor x + dt b(x + dt k1, t + dt) returned",
                                  _tableau_step(((), (1.0,)), (0.0, 1.0), (0.0, 1.0))),
                                 ("a midpoint step", midpoint)),
                     ) + common(heun, HEUN_TABLEAU), domain=lambda ref: _STEP_DOMAIN,
                     own=_own_ode_step(HEUN_TABLEAU), plain="x + dt (k1 + k2)/2: one Heun step, k2 = b(x + dt k1, t + dt)"),
        StepQuantity("rk4_step", f"the classical fourth-order Runge–Kutta step; {summary}", rk4, (
            mistake("stage-time",
                    ("the middle stages at t", _tableau_step(RK4_TABLEAU.a, RK4_TABLEAU.b, (0.0, 0.0, 0.0, 1.0))),
                    ("every stage at t", _tableau_step(RK4_TABLEAU.a, RK4_TABLEAU.b, (0.0, 0.0, 0.0, 0.0)))),
            mistake("wrong-method", ("equal weights 1/4", _tableau_step(RK4_TABLEAU.a, (0.25,) * 4, RK4_TABLEAU.c)),
                    ("Kutta's 3/8 rule (torchdiffeq's 'rk4'): another fourth-order method",
                     _tableau_step(*_tableau(THREE_EIGHTHS_TABLEAU))),
                    ("an Euler step", euler), ("a midpoint step", midpoint)),
        ) + common(rk4, RK4_TABLEAU), domain=lambda ref: _STEP_DOMAIN, own=_own_ode_step(RK4_TABLEAU),
            plain="one classical RK4 step of dX/dt = b (weights 1/6, 1/3, 1/3, 1/6)"),
    ]


# --- SDE steps ---------------------------------------------------------------------------------------

class _GivenNormals:
    """Stands in for a Generator: hands the sampler the checker's ξ instead of drawing."""

    def __init__(self, xi):
        self.xi = xi

    def standard_normal(self, shape):
        if tuple(shape) != self.xi.shape:
            raise ValueError(f"expected a draw of shape {self.xi.shape}; asked for {tuple(shape)}.")
        return self.xi


def _own_sde_step(stepper, name):
    """si_ref's SDE stepper, one row at a time, with the given ξ; the field is b_F already (no score added)."""
    def step(field, x, t, dt, eps, xi):
        term = SDETerm(field, lambda y, s: np.zeros_like(y), eps)
        times = np.broadcast_to(np.asarray(t, dtype=np.float64), (x.shape[0],))
        return np.concatenate([stepper.step(term, x[i:i + 1], float(ti), float(ti) + dt, None, 0,
                                            _GivenNormals(xi[i:i + 1]), 1.0) for i, ti in enumerate(times)])
    step.__name__ = name
    return step


def _forward_drift(ex, x, t):
    return ex.reference.forward_drift(x, t, ex.eps)


def _eps_at(ex, t):
    """ε at the times t (shape (n,)) as a column."""
    return eps_column(ex.at(t))


def _euler_maruyama(noise):
    """x + b_F dt + noise(ex, ε_t) ξ."""
    def value(ex):
        return ex.x + _forward_drift(ex, ex.x, ex.t) * ex.dt + noise(ex, eps_column(ex)) * ex.xi
    return value


def _stochastic_heun(*, corrector_time=1.0, noise_end=True, sign=1.0):
    def value(ex):
        t = _times(ex)
        sigma = np.sqrt(2.0 * eps_column(ex))
        t_next = t + ex.dt
        sigma_next = np.sqrt(2.0 * _eps_at(ex, t_next)) if noise_end else sigma
        dw = np.sqrt(ex.dt) * ex.xi
        mu = _forward_drift(ex, ex.x, t)
        predictor = ex.x + ex.dt * mu + sigma * dw
        mu_next = _forward_drift(ex, predictor, t + corrector_time * ex.dt)
        return ex.x + sign * 0.5 * ex.dt * (mu + mu_next) + 0.5 * (sigma + sigma_next) * dw
    return value


def _sde_step_quantities():
    exact = _euler_maruyama(lambda ex, e: np.sqrt(2.0 * e * ex.dt))
    heun = _stochastic_heun()
    return [
        StepQuantity(
            "euler_maruyama_step",
            "x_next = x + b_F(x, t) dt + √(2 ε(t) dt) ξ: one Euler–Maruyama step of dX = b_F dt + √(2ε) dW, "
            "called as step(field, x, t, dt, eps, xi) with field the forward drift b_F and ξ ~ N(0, I).",
            exact, (
                mistake("sqrt-dt", ("√(2ε) ξ (√dt missing)", _euler_maruyama(lambda ex, e: np.sqrt(2.0 * e))),
                        ("√(2ε) dt ξ (dt for √dt)", _euler_maruyama(lambda ex, e: np.sqrt(2.0 * e) * ex.dt))),
                mistake("diffusion-scaling",
                        ("√(ε dt) ξ (the factor 2 of √(2ε) missing)", _euler_maruyama(lambda ex, e: np.sqrt(e * ex.dt))),
                        ("ε √dt ξ (ε used as the diffusion coefficient)", _euler_maruyama(lambda ex, e: e * np.sqrt(ex.dt))),
                        ("2ε √dt ξ (σ² used for σ)", _euler_maruyama(lambda ex, e: 2.0 * e * np.sqrt(ex.dt)))),
                mistake("sign-flip", ("x − b_F dt + √(2ε dt) ξ (drift sign)",
                                      lambda ex: exact(ex) - 2.0 * _forward_drift(ex, ex.x, ex.t) * ex.dt)),
                wrong_axis(exact),
            ),
            domain=lambda ref: _STEP_DOMAIN, needs_eps=True, field_name="forward_drift", stochastic=True,
            own=_own_sde_step(EulerMaruyama(), "si_ref_euler_maruyama_step"),
            plain="x + b_F dt + √(2ε dt) ξ: one Euler–Maruyama step, ξ ~ N(0, I)"),
        StepQuantity(
            "stochastic_heun_step",
            "x̃ = x + b_F(x, t) dt + σ(t) √dt ξ, x_next = x + dt (b_F(x, t) + b_F(x̃, t + dt))/2 + (σ(t) + "
            "σ(t + dt))/2 √dt ξ with σ(t) = √(2ε(t)): one stochastic Heun step, called as step(field, x, t, dt, eps, xi) with "
            "field the forward drift b_F and ξ ~ N(0, I).",
            heun, (
                mistake("stage-time", ("the corrector's drift at t", _stochastic_heun(corrector_time=0.0))),
                mistake("wrong-method", ("an Euler–Maruyama step (the corrector missing)", exact)),
                mistake("diffusion-scaling", ("σ(t) √dt ξ: the noise at t only (σ(t + dt) not averaged in)",
                                              _stochastic_heun(noise_end=False))),
                mistake("sqrt-dt", ("√dt missing from the increment",
                                    lambda ex: heun(Example(ex.reference, ex.t, x=ex.x, eps=ex.eps, dt=ex.dt,
                                                            xi=ex.xi / np.sqrt(ex.dt))))),
                mistake("sign-flip", ("x − dt (b_F + b_F(x̃))/2 + ... (drift sign)", _stochastic_heun(sign=-1.0))),
                wrong_axis(heun),
            ),
            domain=lambda ref: _STEP_DOMAIN, needs_eps=True, field_name="forward_drift", stochastic=True,
            own=_own_sde_step(StochasticHeun(), "si_ref_stochastic_heun_step"),
            plain="x + dt (b_F(x, t) + b_F(x̃, t + dt))/2 + noise: one stochastic Heun step"),
    ]


def step_quantities() -> list:
    return _ode_step_quantities() + _sde_step_quantities()
