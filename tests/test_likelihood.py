"""ODE and SDE log-likelihoods against the exact log density of Gaussian-mixture cases."""

import numpy as np
import pytest

import si_ref
from si_ref.likelihood import (
    finite_difference_divergence,
    hutchinson_divergence,
    ode_log_likelihood,
    sde_log_likelihood,
)
from si_ref.samplers import uniform_grid

from reference import assert_raises_naming


def mixture_case_2d():
    target = si_ref.GaussianMixture(np.array([0.3, 0.7]), np.array([[-2.0, 0.0], [2.0, 1.0]]),
                                    np.stack([0.2 * np.eye(2), np.array([[0.4, 0.1], [0.1, 0.3]])]))
    return si_ref.GaussianCase(si_ref.TrigInterpolant(si_ref.BrownianGamma()), si_ref.Gaussian(np.zeros(2), np.eye(2)), target)


def mixture_case_1d():
    target = si_ref.GaussianMixture(np.array([0.3, 0.7]), np.array([[-1.5], [1.0]]), np.array([[[0.2]], [[0.4]]]))
    return si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()), si_ref.Gaussian(np.zeros(1), np.eye(1)), target)


X2 = np.array([[-2.1, 0.2], [0.5, 0.5], [1.8, 1.3]])


def base_log_prob(case):
    return lambda y: case.log_density(y, 0.0)


@pytest.mark.parametrize("divergence, tolerance", [("exact", 1e-6), ("finite-difference", 1e-6)])
def test_ode_likelihood_matches_the_exact_log_density(divergence, tolerance):
    case = mixture_case_2d()
    div = case.divergence if divergence == "exact" else divergence
    estimate = ode_log_likelihood(case.drift, X2, base_log_prob(case), divergence=div)
    np.testing.assert_allclose(estimate, case.log_density(X2, 1.0), atol=tolerance)


def test_ode_likelihood_at_an_intermediate_time():
    case = mixture_case_2d()
    estimate = ode_log_likelihood(case.drift, X2, base_log_prob(case), divergence=case.divergence, t_start=0.6)
    np.testing.assert_allclose(estimate, case.log_density(X2, 0.6), atol=1e-6)


@pytest.mark.parametrize("probe", ["gaussian", "rademacher"])
def test_hutchinson_likelihood_is_unbiased_within_its_standard_error(probe):
    case, repeats = mixture_case_2d(), 150
    points = np.repeat(X2, repeats, axis=0)  # independent probes for every copy of a point
    estimates = ode_log_likelihood(case.drift, points, base_log_prob(case), divergence="hutchinson",
                                   probe=probe, rng=np.random.default_rng(11), rtol=1e-8, atol=1e-8).reshape(3, repeats)
    mean, standard_error = estimates.mean(axis=1), estimates.std(axis=1, ddof=1) / np.sqrt(repeats)
    assert np.all(standard_error > 0)
    assert np.all(np.abs(mean - case.log_density(X2, 1.0)) < 4 * standard_error), (mean - case.log_density(X2, 1.0), standard_error)


def test_divergence_estimators_match_the_exact_divergence():
    case, t = mixture_case_2d(), 0.4
    exact = case.divergence(X2, t)
    np.testing.assert_allclose(finite_difference_divergence(case.drift, X2, t), exact, atol=1e-8)
    probes = np.random.default_rng(0).standard_normal((3000, 3, 2))
    estimate = hutchinson_divergence(case.drift, X2, t, probes)
    # Var(ξᵀJξ) = ‖J‖_F² + tr(J²) ≲ 4 here for Gaussian ξ: standard error ≲ 0.04 at 3000 probes
    np.testing.assert_allclose(estimate, exact, atol=0.16)


# --- far points (issue 14): the divergence estimators at |x| = 1e10 ------------------------------

def single_gaussian_case(d):
    s0 = np.array([[1.0, 0.3], [0.3, 0.5]])[:d, :d]
    s1 = np.array([[0.4, -0.2], [-0.2, 1.5]])[:d, :d]
    return si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()), si_ref.Gaussian(np.zeros(d), s0),
                               si_ref.Gaussian(np.full(d, 2.0), s1))


def counted(field):
    calls = [0]

    def wrapped(x, t):
        calls[0] += 1
        return field(x, t)

    return wrapped, calls


@pytest.mark.parametrize("d, divergence", [(1, "hutchinson"), (2, "finite-difference"), (2, "hutchinson")],
                         ids=["1d-hutchinson", "2d-finite-difference", "2d-hutchinson"])
def test_estimated_divergences_integrate_exactly_at_points_of_magnitude_1e10(d, divergence):
    # For one Gaussian, ∇·b = tr(KΣ⁻¹) = ½ d/dt log det Σ_t does not depend on x, so with log ρ_0 := 0 the
    # result is ∫_1^0 ∇·b dt = ½ (log det S0 − log det S1) at any point. The drift is affine, so a central
    # difference is exact up to rounding, and Rademacher probes are exact in 1-d (ξ² = 1). In 2-d the
    # Hutchinson estimate has a probe error ξ1 ξ2 (J12 + J21) per point; only its finiteness is checked.
    case = single_gaussian_case(d)
    drift, calls = counted(case.drift)
    x = np.array([[1e10] + [0.0] * (d - 1), [-3e9] + [7e9] * (d - 1), [0.5] * d])
    estimate = ode_log_likelihood(drift, x, ZERO_X, divergence=divergence, rng=np.random.default_rng(0))
    expected = 0.5 * (np.linalg.slogdet(case.base.cov)[1] - np.linalg.slogdet(case.target.cov)[1])
    # the solver tolerance (rtol = atol = 1e-10 on the integral) bounds the error
    if not (d == 2 and divergence == "hutchinson"):
        np.testing.assert_allclose(estimate, expected, atol=1e-7)
    assert np.isfinite(estimate).all()
    # it returns after a few hundred right-hand sides (each 1 + 2 probes or 2d drift calls), not by the budget
    assert calls[0] <= 5000, calls[0]


def test_hutchinson_likelihood_of_a_mixture_returns_at_points_of_magnitude_1e10():
    case = mixture_case_2d()
    drift, calls = counted(case.drift)
    x = np.array([[1e10, 0.0], [0.5, 0.5]])
    estimate = ode_log_likelihood(drift, x, base_log_prob(case), divergence="hutchinson", rng=np.random.default_rng(0))
    exact = case.log_density(x, 1.0)
    assert calls[0] <= 5000, calls[0]
    # far away, log ρ_1 ≈ −1.4e20 is dominated by the transported base density −|X_0|²/2: the solver's
    # rtol = 1e-10 on X_0 gives about 2e-10 relative; the probe error is O(1), absolute
    np.testing.assert_allclose(estimate[0], exact[0], rtol=1e-9)
    assert abs(estimate[1] - exact[1]) < 5.0


def test_ode_likelihood_refuses_a_drift_it_cannot_resolve_within_its_budget():
    def jumpy(x, t):
        return np.sign(np.sin(1e7 * x)) * 1e-3 + 0.0 * t

    drift, calls = counted(jumpy)
    with pytest.raises(RuntimeError, match=r"ode_log_likelihood did not finish within max_evaluations=200 "):
        ode_log_likelihood(drift, np.full((2, 1), 0.3), ZERO_X, divergence=lambda y, t: np.zeros(y.shape[0]), max_evaluations=200)
    assert calls[0] == 200


@pytest.mark.parametrize("control_variate", [False, True], ids=["plain", "control-variate"])
def test_sde_likelihood_estimate_agrees_within_its_standard_error_in_1d(control_variate):
    case = mixture_case_1d()
    x = np.array([[-1.2], [0.3], [1.1]])
    estimate = sde_log_likelihood(case.drift, case.score, 0.5, x, base_log_prob(case),
                                  divergence_drift=case.divergence, divergence_score=case.score_divergence,
                                  grid=uniform_grid(1, 0, 400), n_paths=4000, rng=np.random.default_rng(12),
                                  control_variate=control_variate)
    error = estimate.mean - case.log_density(x, 1.0)
    # discretisation bias of Euler-Maruyama at 400 steps is up to ~4.5e-3 (measured, control variate),
    # added to 4 standard errors
    assert np.all(np.abs(error) < 4 * estimate.standard_error + 6e-3), (error, estimate.standard_error)
    if control_variate:  # the martingale carries nearly all of the variance
        assert np.all(estimate.standard_error < 5e-3)


def test_sde_likelihood_without_the_ito_correction_is_biased():
    """Dropping ε|s|² (the Itô correction) shifts the estimate by many standard errors."""
    case = mixture_case_1d()
    x = np.array([[0.3]])
    eps = 0.5
    kwargs = dict(divergence_drift=case.divergence, grid=uniform_grid(1, 0, 200), n_paths=2000, control_variate=True)
    right = sde_log_likelihood(case.drift, case.score, eps, x, base_log_prob(case), divergence_score=case.score_divergence,
                               rng=np.random.default_rng(13), **kwargs)
    # ε ∇·s + ε|s|² = ε Δρ/ρ; replacing ∇·s by −|s|² cancels the correction term
    no_correction = sde_log_likelihood(case.drift, case.score, eps, x, base_log_prob(case),
                                       divergence_score=lambda y, t: case.score_divergence(y, t) - np.sum(case.score(y, t) ** 2, 1),
                                       rng=np.random.default_rng(13), **kwargs)
    exact = case.log_density(x, 1.0)
    assert abs(right.mean[0] - exact[0]) < 4 * right.standard_error[0] + 1e-2
    assert abs(no_correction.mean[0] - exact[0]) > 10 * no_correction.standard_error[0] + 1e-2


ZERO = lambda y, t: np.zeros(y.shape[0])  # noqa: E731
ZERO_X = lambda y: np.zeros(y.shape[0])  # noqa: E731
ZERO_FIELD = lambda y, t: np.zeros_like(y)  # noqa: E731

BAD = [
    ("divergence-unknown", lambda: ode_log_likelihood(mixture_case_2d().drift, X2, np.zeros, divergence="autodiff"), ValueError,
     ["divergence must be a callable", "'autodiff'"]),
    ("hutchinson-without-rng", lambda: ode_log_likelihood(mixture_case_2d().drift, X2, np.zeros, divergence="hutchinson"), TypeError,
     ["rng must be a numpy.random.Generator"]),
    ("probe-unknown", lambda: ode_log_likelihood(mixture_case_2d().drift, X2, np.zeros, divergence="hutchinson", probe="uniform",
                                                 rng=np.random.default_rng(0)), ValueError, ["probe must be 'gaussian' or 'rademacher'"]),
    ("sde-grid-increasing", lambda: sde_log_likelihood(np.zeros_like, np.zeros_like, 1.0, X2, np.zeros, divergence_drift=None,
                                                       divergence_score=None, grid=[0.0, 1.0], n_paths=10, rng=np.random.default_rng(0)),
     ValueError, ["grid must be decreasing"]),
    ("sde-one-path", lambda: sde_log_likelihood(np.zeros_like, np.zeros_like, 1.0, X2, np.zeros, divergence_drift=ZERO,
                                                divergence_score=ZERO, grid=[1.0, 0.0], n_paths=1, rng=np.random.default_rng(0)),
     ValueError, ["n_paths must be an integer >= 2"]),
    ("sde-divergence-not-callable", lambda: sde_log_likelihood(np.zeros_like, np.zeros_like, 1.0, X2, np.zeros, divergence_drift=None,
                                                               divergence_score=ZERO, grid=[1.0, 0.0], n_paths=2, rng=np.random.default_rng(0)),
     TypeError, ["divergence_drift must be a callable"]),
    ("sde-divergence-wrong-shape", lambda: sde_log_likelihood(ZERO_FIELD, ZERO_FIELD, 1.0, X2, ZERO_X,
                                                              divergence_drift=lambda y, t: np.zeros((y.shape[0], 1)), divergence_score=ZERO,
                                                              grid=[1.0, 0.0], n_paths=2, rng=np.random.default_rng(0)),
     ValueError, ["divergence_drift must return real values of shape (n,) = (6,)", "at step 0 (t = 1.0)", "(6, 1)"]),
    ("ode-base-log-prob-wrong-shape", lambda: ode_log_likelihood(mixture_case_2d().drift, X2, lambda y: np.zeros((3, 1)),
                                                                 divergence=mixture_case_2d().divergence), ValueError,
     ["base_log_prob must return real values of shape (n,) = (3,)", "(3, 1)"]),
    ("ode-divergence-nan", lambda: ode_log_likelihood(mixture_case_2d().drift, X2, ZERO_X, divergence=lambda y, t: np.full(3, np.nan)),
     ValueError, ["divergence returned NaN or inf"]),
    ("ode-step-zero", lambda: ode_log_likelihood(mixture_case_2d().drift, X2, ZERO_X, divergence="finite-difference", step=0.0), ValueError,
     ["step must be a positive difference step"]),
    ("ode-divergence-missing", lambda: ode_log_likelihood(mixture_case_2d().drift, X2, ZERO_X), TypeError, ["divergence"]),
    # issue 14: tolerances, budgets, counts, bools, callables, memory
    ("ode-rtol-nan", lambda: ode_log_likelihood(ZERO_FIELD, X2, ZERO_X, divergence=ZERO, rtol=np.nan), ValueError, ["rtol must be finite", "nan"]),
    ("ode-rtol-inf", lambda: ode_log_likelihood(ZERO_FIELD, X2, ZERO_X, divergence=ZERO, rtol=np.inf), ValueError, ["rtol must be finite", "inf"]),
    ("ode-atol-negative", lambda: ode_log_likelihood(ZERO_FIELD, X2, ZERO_X, divergence=ZERO, atol=-1e-10), ValueError,
     ["atol must be a finite number > 0", "-1e-10"]),
    ("ode-atol-none", lambda: ode_log_likelihood(ZERO_FIELD, X2, ZERO_X, divergence=ZERO, atol=None), TypeError, ["atol must be a real number", "None"]),
    ("ode-rtol-below-floor", lambda: ode_log_likelihood(ZERO_FIELD, X2, ZERO_X, divergence=ZERO, rtol=1e-16), ValueError,
     ["rtol must be at least 100 machine epsilons"]),
    ("ode-method-unknown", lambda: ode_log_likelihood(ZERO_FIELD, X2, ZERO_X, divergence=ZERO, method="BDF"), ValueError,
     ["method must be 'DOP853' or 'Radau'", "'BDF'"]),
    ("ode-max-evaluations-float", lambda: ode_log_likelihood(ZERO_FIELD, X2, ZERO_X, divergence=ZERO, max_evaluations=1e4), TypeError,
     ["max_evaluations must be a positive integer", "10000.0"]),
    ("ode-step-nan", lambda: ode_log_likelihood(ZERO_FIELD, X2, ZERO_X, divergence="finite-difference", step=np.nan), ValueError,
     ["step must be finite", "nan"]),
    ("ode-step-none", lambda: ode_log_likelihood(ZERO_FIELD, X2, ZERO_X, divergence="finite-difference", step=None), TypeError,
     ["step must be a real number", "None"]),
    ("ode-n-probes-float", lambda: ode_log_likelihood(ZERO_FIELD, X2, ZERO_X, divergence="hutchinson", n_probes=2.0,
                                                     rng=np.random.default_rng(0)), TypeError, ["n_probes must be a positive integer", "2.0"]),
    ("ode-n-probes-beyond-memory", lambda: ode_log_likelihood(ZERO_FIELD, X2, ZERO_X, divergence="hutchinson", n_probes=10**12,
                                                              rng=np.random.default_rng(0)), ValueError,
     ["n_probes=1000000000000 probes for 3 points of dimension 2 would need about", "of memory"]),
    ("ode-drift-not-callable", lambda: ode_log_likelihood(None, X2, ZERO_X, divergence=ZERO), TypeError, ["drift must be a field b(x, t)", "None"]),
    ("ode-base-log-prob-not-callable", lambda: ode_log_likelihood(ZERO_FIELD, X2, 0.0, divergence=ZERO), TypeError,
     ["base_log_prob must be a callable", "0.0"]),
    ("hutchinson-probes-nan", lambda: hutchinson_divergence(ZERO_FIELD, X2, 0.5, np.full((1, 3, 2), np.nan)), ValueError,
     ["probes must contain only finite values"]),
    ("hutchinson-probes-complex", lambda: hutchinson_divergence(ZERO_FIELD, X2, 0.5, np.ones((1, 3, 2), dtype=complex)), TypeError,
     ["probes must be real numbers", "complex128"]),
    ("finite-difference-field-not-callable", lambda: finite_difference_divergence("b", X2, 0.5), TypeError, ["field must be a field f(x, t)", "'b'"]),
    ("sde-control-variate-string", lambda: sde_log_likelihood(ZERO_FIELD, ZERO_FIELD, 1.0, X2, ZERO_X, divergence_drift=ZERO, divergence_score=ZERO,
                                                              grid=[1.0, 0.0], n_paths=2, rng=np.random.default_rng(0), control_variate="yes"),
     TypeError, ["control_variate must be True or False", "'yes'"]),
    ("sde-control-variate-none", lambda: sde_log_likelihood(ZERO_FIELD, ZERO_FIELD, 1.0, X2, ZERO_X, divergence_drift=ZERO, divergence_score=ZERO,
                                                            grid=[1.0, 0.0], n_paths=2, rng=np.random.default_rng(0), control_variate=None),
     TypeError, ["control_variate must be True or False", "None"]),
    ("sde-score-not-callable", lambda: sde_log_likelihood(ZERO_FIELD, "s", 1.0, X2, ZERO_X, divergence_drift=ZERO, divergence_score=ZERO,
                                                          grid=[1.0, 0.0], n_paths=2, rng=np.random.default_rng(0)),
     TypeError, ["score must be a field s(x, t)", "'s'"]),
    ("sde-n-paths-beyond-memory", lambda: sde_log_likelihood(ZERO_FIELD, ZERO_FIELD, 1.0, X2, ZERO_X, divergence_drift=ZERO, divergence_score=ZERO,
                                                             grid=[1.0, 0.0], n_paths=10**12, rng=np.random.default_rng(0)),
     ValueError, ["n_paths=1000000000000 paths for 3 points of dimension 2 would need about", "fewer paths"]),
    ("sde-eps-negative", lambda: sde_log_likelihood(ZERO_FIELD, ZERO_FIELD, -1.0, X2, ZERO_X, divergence_drift=ZERO, divergence_score=ZERO,
                                                    grid=[1.0, 0.0], n_paths=2, rng=np.random.default_rng(0)),
     ValueError, ["eps must be finite and non-negative", "-1.0"]),
]


@pytest.mark.parametrize("call, exception, fragments", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_likelihood_input_raises_a_clear_message(call, exception, fragments):
    assert_raises_naming(call, exception, fragments)
