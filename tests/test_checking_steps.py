"""Step quantities: correct steps written as users write them pass; each catalogued mistake is named.

The steps below are the user's own code (one scalar t for the batch, per-row loops, a
predictor-corrector), never the checker's tableau forms.
"""

from __future__ import annotations

import numpy as np
import pytest

from si_ref import conformance as C
from si_ref import references

FAST = dict(max_examples=20, shrink=False)
CASE = references.case("mixture-2d-linear-brownian")
EPS = 0.3


def euler(field, x, t, dt):
    return x + dt * field(x, t)


def midpoint(field, x, t, dt, *, stage_time=0.5):
    k1 = field(x, t)
    return x + dt * field(x + 0.5 * dt * k1, t + stage_time * dt)


def heun(field, x, t, dt, *, corrector_time=1.0):
    k1 = field(x, t)
    k2 = field(x + dt * k1, t + corrector_time * dt)
    return x + 0.5 * dt * (k1 + k2)


def rk4(field, x, t, dt, *, middle=0.5):
    k1 = field(x, t)
    k2 = field(x + 0.5 * dt * k1, t + middle * dt)
    k3 = field(x + 0.5 * dt * k2, t + middle * dt)
    k4 = field(x + dt * k3, t + dt)
    return x + dt * (k1 + 2 * k2 + 2 * k3 + k4) / 6


def three_eighths(field, x, t, dt):   # torchdiffeq's "rk4"
    k1 = field(x, t)
    k2 = field(x + dt * k1 / 3, t + dt / 3)
    k3 = field(x + dt * (k2 - k1 / 3), t + 2 * dt / 3)
    k4 = field(x + dt * (k1 - k2 + k3), t + dt)
    return x + dt * (k1 + 3 * k2 + 3 * k3 + k4) / 8


def _sigma(eps, t):
    """σ = √(2ε(t)) as a column for a per-row t."""
    value = np.sqrt(2.0 * (eps(t) if callable(eps) else eps))
    return np.reshape(value, (-1, 1)) if np.ndim(value) else value


def euler_maruyama(field, x, t, dt, eps, xi):
    return x + dt * field(x, t) + _sigma(eps, t) * np.sqrt(dt) * xi


def stochastic_heun(field, x, t, dt, eps, xi, *, noise_end=True):
    dw = np.sqrt(dt) * xi
    s0 = _sigma(eps, t)
    s1 = _sigma(eps, t + dt) if noise_end else s0
    mu = field(x, t)
    predictor = x + dt * mu + s0 * dw
    return x + 0.5 * dt * (mu + field(predictor, t + dt)) + 0.5 * (s0 + s1) * dw


@pytest.mark.parametrize("name, step", [("euler_step", euler), ("midpoint_step", midpoint), ("heun_step", heun),
                                        ("rk4_step", rk4)])
def test_correct_ode_steps_pass_also_written_for_one_scalar_t(name, step):
    assert C.check(step, name, CASE, **FAST).passed
    per_time = C.scalar_time(lambda x, t, dt, field: step(field, x, t, dt))   # a step that takes one float t
    assert C.check(lambda field, x, t, dt: per_time(x, t, dt, field), name, CASE, **FAST).passed


def test_correct_sde_steps_pass_with_a_time_dependent_eps():
    eps = lambda t: 0.2 + 0.1 * np.asarray(t)   # noqa: E731
    for name, step in (("euler_maruyama_step", euler_maruyama), ("stochastic_heun_step", stochastic_heun)):
        report = C.check(step, name, CASE, eps=eps, **FAST)
        assert report.passed, str(report)


@pytest.mark.parametrize("name, wrong, diagnosis, form", [
    ("euler_step", lambda f, x, t, dt: x + dt * f(x, t + dt), "stage-time", "end of the step"),
    ("euler_step", lambda f, x, t, dt: x - dt * f(x, t), "sign-flip", ""),
    ("euler_step", lambda f, x, t, dt: euler(f, x, t, dt / 2), "step-size", "dt/2"),
    ("midpoint_step", lambda f, x, t, dt: midpoint(f, x, t, dt, stage_time=0.0), "stage-time", "at t"),
    ("midpoint_step", euler, "wrong-method", "Euler"),
    ("heun_step", lambda f, x, t, dt: heun(f, x, t, dt, corrector_time=0.0), "stage-time", "corrector stage at t"),
    ("heun_step", euler, "wrong-method", "Euler"),
    ("rk4_step", lambda f, x, t, dt: rk4(f, x, t, dt, middle=0.0), "stage-time", "middle stages at t"),
    ("rk4_step", three_eighths, "wrong-method", "3/8 rule"),
    ("rk4_step", lambda f, x, t, dt: rk4(f, x, t, 2 * dt), "step-size", "2 dt"),
])
def test_ode_step_mistakes_are_named(name, wrong, diagnosis, form):
    report = C.check(wrong, name, CASE, **FAST)
    assert not report.passed and report.diagnosis_names[0] == diagnosis, str(report)
    assert form in report.diagnoses[0].form


@pytest.mark.parametrize("wrong, diagnosis", [
    (euler_maruyama, "wrong-method"),
    (lambda f, x, t, dt, eps, xi: stochastic_heun(f, x, t, dt, eps, xi, noise_end=False), "diffusion-scaling"),
    (lambda f, x, t, dt, eps, xi: stochastic_heun(f, x, t, dt, eps, xi / np.sqrt(dt)), "sqrt-dt"),
])
def test_stochastic_heun_mistakes_are_named(wrong, diagnosis):
    eps = lambda t: 0.2 + 0.5 * np.asarray(t)   # noqa: E731 - time-dependent: σ(t) and σ(t + dt) differ
    report = C.check(wrong, "stochastic_heun_step", CASE, eps=eps, **FAST)
    assert not report.passed and report.diagnosis_names[0] == diagnosis, str(report)


def test_an_sde_step_given_the_drift_without_the_score_term_is_not_confused_with_a_correct_one():
    """The checker hands the step b_F; a step that adds ε s itself counts it twice and fails."""
    def adds_score(field, x, t, dt, eps, xi):
        return euler_maruyama(lambda y, s: field(y, s) + EPS * CASE.score(y, s), x, t, dt, eps, xi)
    report = C.check(adds_score, "euler_maruyama_step", CASE, eps=EPS, **FAST)
    assert not report.passed
