"""The ODE log-likelihood as a checkable quantity (si_ref/checking/likelihood.py).

The wrong implementations are written the way a user writes them, with scipy's solve_ivp and
their own formulas, never by calling the checker's forms: the divergence term added, x
carried forwards from t = 0, a Hutchinson estimate summed over its probes, a mean of the
Jacobian's diagonal. The exact value is checked against scipy.stats (the t = 1 marginal of a
single-Gaussian case is the target N(m1, S1)) and the flow behind the forms against the
exact linear flow map of a single-Gaussian case.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.stats import multivariate_normal

from si_ref import conformance as C
from si_ref import references
from si_ref.checking.draw import time_range
from si_ref.checking.example import Example
from si_ref.checking.likelihood import FAR_SIGMAS, ReferenceLogLikelihood, path_integral
from si_ref.quantities import QUANTITIES

NAME = "ode_log_likelihood"
FAST = dict(max_examples=3, shrink=False)
GAUSSIAN_2D = references.case("gaussian-2d-linear-brownian")
GAUSSIAN_1D = references.case("gaussian-1d-linear-brownian")
MIXTURE = references.case("mixture-2d-linear-brownian")
#: Tight enough that the wrong implementations reproduce their mistake to the default tolerance.
SOLVER = dict(method="DOP853", rtol=1e-9, atol=1e-9)


# --- wrong implementations, written as users write them -----------------------------------------------

def _augmented(drift, divergence_estimate, d):
    """d/dt (X, ℓ) = (b(X, t), div(X, t)) on the flattened state of n points."""
    def rhs(t, state):
        n = state.size // (d + 1)
        x = state[:n * d].reshape(n, d)
        return np.concatenate([drift(x, t).ravel(), divergence_estimate(x, t)])
    return rhs


def _solve(drift, divergence_estimate, x, t0, t1):
    """(X_{t1}, ∫_{t0}^{t1} div dt) from X_{t0} = x."""
    n, d = x.shape
    y0 = np.concatenate([x.ravel(), np.zeros(n)])
    sol = solve_ivp(_augmented(drift, divergence_estimate, d), (t0, t1), y0, **SOLVER)
    end = sol.y[:, -1]
    return end[:n * d].reshape(n, d), end[n * d:]


def loglik_divergence_added(drift, divergence, x, base_log_density):
    """Backwards from t = 1 to 0, but log ρ_0(X_0) + ∫₀¹ ∇·b: the integral's sign lost."""
    x0, accumulated = _solve(drift, divergence, x, 1.0, 0.0)    # accumulated = ∫_1^0 ∇·b = −∫_0^1 ∇·b
    return base_log_density(x0) - accumulated


def loglik_forwards(drift, divergence, x, base_log_density):
    """x treated as a base point: carried forwards from t = 0 to 1, log ρ_0(x) − ∫₀¹ ∇·b along the way."""
    _, integral = _solve(drift, divergence, x, 0.0, 1.0)
    return base_log_density(x) - integral


def loglik_hutchinson_summed(drift, divergence, x, base_log_density, n_probes=4):
    """Hutchinson's ξᵀ (∂b/∂x) ξ with Rademacher probes, summed over the probes instead of averaged.

    In one dimension every Rademacher probe gives the derivative exactly, so the sum is n_probes ∇·b;
    ∂b/∂x ξ by a central difference (exact up to rounding for the affine drift of a Gaussian case).
    """
    rng = np.random.default_rng(0)
    probes = rng.choice([-1.0, 1.0], size=(n_probes,) + x.shape)
    h = 1e-4

    def estimate(y, t):
        total = np.zeros(y.shape[0])
        for xi in probes:
            jvp = (drift(y + h * xi, t) - drift(y - h * xi, t)) / (2 * h)
            total += np.sum(xi * jvp, axis=1)
        return total                                           # missing: / n_probes
    x0, accumulated = _solve(drift, estimate, x, 1.0, 0.0)
    return base_log_density(x0) + accumulated


def loglik_mean_of_diagonal(drift, divergence, x, base_log_density):
    """The divergence as np.mean of the Jacobian's diagonal (central differences) instead of its sum."""
    h = 1e-4

    def estimate(y, t):
        diagonal = []
        for i in range(y.shape[1]):
            e = np.zeros(y.shape[1])
            e[i] = h
            diagonal.append((drift(y + e, t)[:, i] - drift(y - e, t)[:, i]) / (2 * h))
        return np.mean(diagonal, axis=0)                       # should be np.sum
    x0, accumulated = _solve(drift, estimate, x, 1.0, 0.0)
    return base_log_density(x0) + accumulated


def loglik_negated(drift, divergence, x, base_log_density):
    """A negative log-likelihood returned as the log-likelihood."""
    x0, accumulated = _solve(drift, divergence, x, 1.0, 0.0)
    return -(base_log_density(x0) + accumulated)


def loglik_density(drift, divergence, x, base_log_density):
    """The density itself: exp of the log-likelihood."""
    x0, accumulated = _solve(drift, divergence, x, 1.0, 0.0)
    return np.exp(base_log_density(x0) + accumulated)


def loglik_halved(drift, divergence, x, base_log_density):
    """Half the log-likelihood (a log-likelihood per dimension of a 2-D case, say)."""
    x0, accumulated = _solve(drift, divergence, x, 1.0, 0.0)
    return 0.5 * (base_log_density(x0) + accumulated)


# --- si_ref passes; the exact value ---------------------------------------------------------------

def test_si_ref_passes_on_a_mixture_at_the_default_tolerance():
    report = C.check(C.reference_implementation(NAME), NAME, MIXTURE, max_examples=3)
    assert report.passed, str(report)
    assert report.rtol == 1e-6 and report.atol == 1e-8


def test_a_correct_user_implementation_passes():
    def loglik(drift, divergence, x, base_log_density):
        x0, accumulated = _solve(drift, divergence, x, 1.0, 0.0)
        return base_log_density(x0) + accumulated              # + ∫_1^0 ∇·b = − ∫_0^1 ∇·b
    assert C.check(loglik, NAME, GAUSSIAN_2D, max_examples=6).passed


def test_the_exact_value_is_the_scipy_log_density_of_the_target():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 2)) * 2.0
    ex = Example(GAUSSIAN_2D, 1.0, x=x)
    target = GAUSSIAN_2D.target
    expected = multivariate_normal(mean=target.mean, cov=target.cov).logpdf(x)
    np.testing.assert_allclose(QUANTITIES[NAME].exact(ex), expected, rtol=1e-13, atol=1e-13)
    own = ReferenceLogLikelihood()(GAUSSIAN_2D.drift, GAUSSIAN_2D.divergence, x,
                                   lambda y: GAUSSIAN_2D.log_density(y, 0.0))
    np.testing.assert_allclose(own, expected, rtol=1e-8, atol=1e-8)


def test_the_flow_behind_the_forms_is_the_exact_linear_flow():
    # single Gaussian: X_0 = μ_0 + Φ(0, 1)(x − μ_1) and ∫₀¹ ∇·b dt = log det Φ(1, 0) (Liouville)
    x = np.array([[0.3, -1.0], [2.0, 1.5]])
    x0, integral = path_integral(GAUSSIAN_2D, x, 1.0)
    np.testing.assert_allclose(x0, GAUSSIAN_2D.flow_map(x, 0.0, 1.0), rtol=1e-8, atol=1e-9)
    log_det = np.linalg.slogdet(GAUSSIAN_2D.flow_matrix(1.0, 0.0))[1]
    np.testing.assert_allclose(integral, log_det, rtol=1e-8, atol=1e-9)
    x1, forward = path_integral(GAUSSIAN_2D, x, 0.0)
    np.testing.assert_allclose(x1, GAUSSIAN_2D.flow_map(x, 1.0, 0.0), rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(forward, log_det, rtol=1e-8, atol=1e-9)


def test_the_inputs_are_at_t_one_and_the_far_points_moderate():
    q = QUANTITIES[NAME]
    fixed = q.fixed_examples(MIXTURE, None, time_range())
    assert [ex.t for ex in fixed] == [1.0, 1.0]
    np.testing.assert_allclose(fixed[0].x, MIXTURE.components(1.0).means)
    assert fixed[1].x.shape == (3, 2) and np.max(np.abs(fixed[1].x)) < 20.0
    assert FAR_SIGMAS == 5.0
    with pytest.raises(ValueError, match="has no time in"):
        C.check(ReferenceLogLikelihood(), NAME, MIXTURE, times=[0.5])


# --- each mistake is diagnosed --------------------------------------------------------------------

@pytest.mark.parametrize("wrong, case, diagnosis, form", [
    (loglik_divergence_added, GAUSSIAN_2D, "divergence-sign", "+ ∫₀¹ ∇·b(X_t, t) dt"),
    (loglik_forwards, GAUSSIAN_2D, "wrong-direction", "x taken as a point at t = 0"),
    (loglik_hutchinson_summed, GAUSSIAN_1D, "estimator-scaling", "− 4 ∫₀¹ ∇·b dt (a trace estimate summed over 4"),
    (loglik_mean_of_diagonal, GAUSSIAN_2D, "estimator-scaling", "− (1/d) ∫₀¹ ∇·b dt"),
    (loglik_negated, GAUSSIAN_2D, "sign-flip", "−log ρ_1(x)"),
    (loglik_density, GAUSSIAN_2D, "density-for-log-density", "exp"),
    (loglik_halved, GAUSSIAN_2D, "constant-factor", "0.5 ×"),
], ids=["divergence-added", "forwards", "hutchinson-summed", "mean-of-diagonal", "negated", "density", "halved"])
def test_each_mistake_is_diagnosed_first(wrong, case, diagnosis, form):
    report = C.check(wrong, NAME, case, **FAST)
    assert not report.passed
    assert report.diagnosis_names[:1] == (diagnosis,), str(report)
    assert form in report.diagnoses[0].form, str(report)
    assert set(report.counterexample.inputs) == {"x"}         # the callables are the case's own
