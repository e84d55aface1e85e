"""Tests of si_ref.distributions against independent oracles.

Oracles: ``scipy.stats.multivariate_normal`` for Gaussian log densities,
mixture log densities assembled here from scipy's component densities
(log-sum-exp, or a plain sum of densities where nothing underflows), central
finite differences of those log densities for scores, hand-derived values for
small cases, and exact moments for samples (tolerances from standard errors).
"""

import re

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from si_ref import Gaussian, GaussianMixture
from si_ref import strategies as sis


# --- independent oracles ------------------------------------------------------------------

def scipy_logpdf(mean, cov, x):
    """log N(x; mean, cov) by scipy, always of shape (n,) (scipy squeezes a single row)."""
    return np.reshape(multivariate_normal(mean, cov).logpdf(x), (x.shape[0],))


def mixture_log_joint(mixture, x):
    """log π_k + log N(x; m_k, S_k) from scipy: shape (n, k)."""
    return np.stack(
        [np.log(w) + scipy_logpdf(m, s, x) for w, m, s in zip(mixture.weights, mixture.means, mixture.covs)],
        axis=1,
    )


def mixture_logpdf(mixture, x):
    return logsumexp(mixture_log_joint(mixture, x), axis=1)


def central_difference_gradient(f, x, h):
    """(f(x + h e_i) − f(x − h e_i)) / 2h for each coordinate i; f maps (n, d) to (n,).

    Exact (up to rounding) when f is quadratic in x, for every h.
    """
    grad = np.empty_like(x)
    for i in range(x.shape[1]):
        step = np.zeros(x.shape[1])
        step[i] = h
        grad[:, i] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


def five_point_gradient(f, x, h):
    """(−f(x+2h) + 8f(x+h) − 8f(x−h) + f(x−2h)) / 12h per coordinate: truncation error O(h⁴ f⁽⁵⁾)."""
    grad = np.empty_like(x)
    for i in range(x.shape[1]):
        e = np.zeros(x.shape[1])
        e[i] = h
        grad[:, i] = (-f(x + 2 * e) + 8 * f(x + e) - 8 * f(x - e) + f(x - 2 * e)) / (12 * h)
    return grad


# --- strategies of (distribution, points) pairs of matching dimension ------------------------

def gaussian_with_points(*, max_abs=10.0, min_n=1):
    return st.integers(1, 4).flatmap(
        lambda d: st.tuples(sis.gaussians(d), sis.points(d, min_n=min_n, max_abs=max_abs))
    )


def mixture_with_points(*, max_abs=10.0, min_eigenvalue=0.1, max_components=3):
    return st.integers(1, 3).flatmap(
        lambda d: st.tuples(
            sis.gaussian_mixtures(d, max_components=max_components, min_eigenvalue=min_eigenvalue),
            sis.points(d, max_abs=max_abs),
        )
    )


# A correlated covariance with unequal variances, so that L Lᵀ ≠ Lᵀ L and every
# transposition / missing-factor bug in sampling or solving is visible.
COV3 = np.array([[2.0, 1.2, -0.6], [1.2, 1.5, 0.3], [-0.6, 0.3, 0.8]])
MEAN3 = np.array([1.0, -2.0, 0.5])


def small_mixture():
    return GaussianMixture(
        [0.2, 0.5, 0.3],
        [[-1.0, 0.0], [0.5, 1.0], [2.0, -1.0]],
        [[[1.0, 0.3], [0.3, 0.5]], [[0.4, 0.0], [0.0, 2.0]], [[1.5, -0.7], [-0.7, 1.0]]],
    )


# --- Gaussian: densities and scores ----------------------------------------------------------

# Both sides evaluate a quadratic form of size q ≤ |x − m|² / λ_min ≲ 4·20²/0.1 = 1.6e4 plus a
# log-determinant; with condition numbers ≤ 100 each is accurate to ~1e-13·(1 + q), so
# rtol = 1e-10 leaves margin while a wrong normaliser (e.g. a missing ½ on log det) fails by O(1).
@given(gaussian_with_points())
def test_gaussian_log_prob_matches_scipy_logpdf(case):
    gaussian, x = case
    np.testing.assert_allclose(
        gaussian.log_prob(x), scipy_logpdf(gaussian.mean, gaussian.cov, x), rtol=1e-10, atol=1e-10
    )


def test_gaussian_log_prob_at_the_mean_is_minus_half_log_det_two_pi_cov():
    # Hand-derived: det(2π S) = (2π)³ det S.
    g = Gaussian(MEAN3, COV3)
    expected = -0.5 * (3 * np.log(2 * np.pi) + np.log(np.linalg.det(COV3)))
    np.testing.assert_allclose(g.log_prob(MEAN3[None]), [expected], rtol=1e-14)


# log N is quadratic in x, so the central difference equals the gradient exactly for any h;
# only rounding remains, about 1e-13·|log N| / h ≲ 1e-13·1.6e4 = 2e-9 with h = 1.
@given(gaussian_with_points())
def test_gaussian_score_matches_finite_difference_gradient_of_scipy_logpdf(case):
    gaussian, x = case
    expected = central_difference_gradient(lambda y: scipy_logpdf(gaussian.mean, gaussian.cov, y), x, h=1.0)
    np.testing.assert_allclose(gaussian.score(x), expected, rtol=1e-8, atol=1e-7)


def test_gaussian_score_of_standard_normal_is_minus_x():
    x = np.array([[0.0, 0.0], [1.0, -2.0], [-3.5, 4.25]])
    np.testing.assert_allclose(Gaussian([0.0, 0.0], np.eye(2)).score(x), -x, rtol=0, atol=1e-15)


# --- Gaussian: far from the mode -------------------------------------------------------------

# |x| up to 1e3·√d: log N ~ −|x|²/(2λ_min) ~ −5e7, still representable. Same relative accuracy
# as near the mode (see above). The score is checked by the exact central difference with a
# large step (h = 10) so that rounding of |log N| ~ 5e7 stays small: 1e-13·5e7/10 = 5e-7,
# against scores of size ≳ 1e3/10 = 100.
@given(gaussian_with_points(max_abs=1e3))
def test_gaussian_log_prob_and_score_stay_finite_and_exact_far_from_the_mode(case):
    gaussian, x = case
    log_prob, score = gaussian.log_prob(x), gaussian.score(x)
    assert np.isfinite(log_prob).all() and np.isfinite(score).all()
    np.testing.assert_allclose(log_prob, scipy_logpdf(gaussian.mean, gaussian.cov, x), rtol=1e-10, atol=1e-10)
    expected = central_difference_gradient(lambda y: scipy_logpdf(gaussian.mean, gaussian.cov, y), x, h=10.0)
    np.testing.assert_allclose(score, expected, rtol=1e-7, atol=1e-5)


# --- mixtures: densities, responsibilities and scores -------------------------------------------

@given(mixture_with_points(max_abs=1e3))
def test_mixture_log_prob_matches_logsumexp_of_scipy_component_logpdfs(case):
    # Same accuracy budget as the Gaussian log density; covers points up to 1e3 away where
    # every component density underflows and a plain sum of densities would give log 0 = −inf.
    mixture, x = case
    log_prob = mixture.log_prob(x)
    assert log_prob.shape == (x.shape[0],) and np.isfinite(log_prob).all()
    np.testing.assert_allclose(log_prob, mixture_logpdf(mixture, x), rtol=1e-10, atol=1e-10)


@given(mixture_with_points(max_abs=3.0, min_eigenvalue=0.5))
def test_mixture_log_prob_is_log_of_weighted_sum_of_scipy_component_densities(case):
    # Near the modes (|x|, |m| ≤ 3 per coordinate, d ≤ 3, λ ≥ 0.5) each component density is
    # ≥ π_k e^{−½·108/0.5} (2π·10)^{−3/2} ≳ 1e-50, far above underflow, so the plain sum is an oracle.
    mixture, x = case
    total = sum(
        w * multivariate_normal(m, s).pdf(x).reshape(x.shape[0])
        for w, m, s in zip(mixture.weights, mixture.means, mixture.covs)
    )
    assert (total > 1e-250).all()
    np.testing.assert_allclose(mixture.log_prob(x), np.log(total), rtol=1e-10, atol=1e-10)


@given(mixture_with_points(max_abs=1e3))
def test_mixture_responsibilities_are_normalised_posterior_probabilities_from_scipy(case):
    mixture, x = case
    joint = mixture_log_joint(mixture, x)
    expected = np.exp(joint - logsumexp(joint, axis=1, keepdims=True))
    r = mixture.responsibilities(x)
    assert np.isfinite(r).all()
    np.testing.assert_allclose(r.sum(axis=1), 1.0, rtol=0, atol=1e-14)
    # Responsibilities are ratios of exponentials of log densities of size up to ~1e7, so an
    # absolute error of 1e-16·1e7 = 1e-9 in the exponent is unavoidable far away.
    np.testing.assert_allclose(r, expected, rtol=1e-8, atol=1e-12)


# The mixture log density is smooth but not quadratic, so a fourth-order stencil is used.
# With λ ≥ 0.5 and |x|, |m| ≤ 4, component scores differ by at most ~30 per coordinate, so the
# fifth derivative is ≲ 30⁵ ≈ 2.4e7 and the truncation error h⁴·f⁽⁵⁾/30 ≈ 1e-9 for h = 1e-4;
# rounding adds ~1e-14·|log ρ|/h ≈ 1e-8. Scores are O(1..30): a sign or factor error fails.
@given(mixture_with_points(max_abs=4.0, min_eigenvalue=0.5))
def test_mixture_score_matches_finite_difference_gradient_of_independent_log_density(case):
    mixture, x = case
    expected = five_point_gradient(lambda y: mixture_logpdf(mixture, y), x, h=1e-4)
    np.testing.assert_allclose(mixture.score(x), expected, rtol=1e-6, atol=1e-6)


def test_mixture_of_identical_components_has_the_density_and_score_of_that_gaussian():
    # Σ_k π_k N(x; m, S) = N(x; m, S) whatever the weights.
    x = np.array([[0.0, 0.0, 0.0], [3.0, -1.0, 2.0], [-40.0, 10.0, 7.0]])
    mixture = GaussianMixture([0.25, 0.75], [MEAN3, MEAN3], [COV3, COV3])
    np.testing.assert_allclose(mixture.log_prob(x), scipy_logpdf(MEAN3, COV3, x), rtol=1e-12)
    expected = central_difference_gradient(lambda y: scipy_logpdf(MEAN3, COV3, y), x, h=1.0)
    np.testing.assert_allclose(mixture.score(x), expected, rtol=1e-9, atol=1e-9)


def test_mixture_score_is_zero_at_the_centre_of_a_symmetric_two_component_mixture():
    mixture = GaussianMixture([0.5, 0.5], [[-2.0, 1.0], [2.0, 1.0]], [np.eye(2), np.eye(2)])
    np.testing.assert_allclose(mixture.score(np.array([[0.0, 1.0]])), [[0.0, 0.0]], rtol=0, atol=1e-15)


# --- mixtures: far from every mode ---------------------------------------------------------------

def test_mixture_score_far_away_is_the_score_of_the_widest_component():
    # ρ = 0.9 N(0, I) + 0.1 N(0, 4I) in d = 2. At |x| = √2·1e3 the log-joint of the wide
    # component exceeds the narrow one by ½|x|²(1 − ¼) − log 9 − log 4 ≈ 7.5e5 nats, so the
    # narrow responsibility is e^{−7.5e5} = 0 and the score is exactly that of N(0, 4I): −x/4.
    mixture = GaussianMixture([0.9, 0.1], [[0.0, 0.0], [0.0, 0.0]], [np.eye(2), 4 * np.eye(2)])
    x = np.array([[1e3, -1e3], [-1e3, 0.0], [0.0, 1e3]])
    np.testing.assert_allclose(mixture.score(x), -x / 4, rtol=1e-15)
    # log ρ = log 0.1 + log N(x; 0, 4I) exactly, for the same reason.
    np.testing.assert_allclose(mixture.log_prob(x), np.log(0.1) + scipy_logpdf([0, 0], 4 * np.eye(2), x), rtol=1e-14)


# Far along a direction u, the log-joint of component k is −½ 1e6 uᵀS_k⁻¹u + O(1e3). We find
# the dominant component k* with scipy and require it to lead every other by > 40 nats, so the
# others' responsibilities are < e^{−40} ≈ 4e-18 and change the score by < 4e-18·1e5 (negligible).
# The score of k* is the exact central difference (quadratic) of its scipy log density; rounding
# is ~1e-13·5e7/10 = 5e-7 against scores ≳ 100.
@given(
    st.integers(1, 3).flatmap(lambda d: sis.gaussian_mixtures(d, min_components=2, max_components=4)),
    st.data(),
)
def test_mixture_score_far_away_approaches_the_score_of_the_dominant_component(mixture, data):
    u = data.draw(sis.points(mixture.dim, min_n=1, max_n=1, max_abs=1.0).filter(lambda v: np.linalg.norm(v) > 0.1))
    x = 1e3 * u / np.linalg.norm(u)
    joint = mixture_log_joint(mixture, x)[0]
    k = int(np.argmax(joint))
    assume(np.delete(joint, k).max() < joint[k] - 40.0)
    m, s = mixture.means[k], mixture.covs[k]
    expected = central_difference_gradient(lambda y: scipy_logpdf(m, s, y), x, h=10.0)
    score = mixture.score(x)
    assert np.isfinite(score).all() and np.isfinite(mixture.log_prob(x)).all()
    np.testing.assert_allclose(score, expected, rtol=1e-7, atol=1e-5)


def test_mixture_with_one_component_has_the_density_and_score_of_that_gaussian():
    x = np.array([[0.0, 0.0, 0.0], [3.0, -1.0, 2.0], [-1e3, 5e2, 1e3]])
    mixture = GaussianMixture([1.0], [MEAN3], [COV3])
    gaussian = Gaussian(MEAN3, COV3)
    np.testing.assert_allclose(mixture.log_prob(x), gaussian.log_prob(x), rtol=1e-14)
    np.testing.assert_allclose(mixture.score(x), gaussian.score(x), rtol=1e-14)
    np.testing.assert_array_equal(mixture.responsibilities(x), np.ones((3, 1)))


# --- sampling ------------------------------------------------------------------------------

def _assert_moments_within_standard_errors(samples, mean, cov, z_max=5.0):
    """Sample mean and covariance agree with (mean, cov) within z_max standard errors.

    SE of the mean_i: sqrt(cov_ii / n). SE of the covariance entry (i, j): the standard
    deviation of the centred products (x_i − x̄_i)(x_j − x̄_j) over sqrt(n) (valid for any
    distribution with finite fourth moments, e.g. mixtures). With fixed seeds the test is
    deterministic; 5 SE means a correct sampler passes with probability 1 − 6e-7 per entry
    for whatever seed is chosen, while a wrong factor (L instead of Lᵀ, a missing mean) is
    off by O(1) ≫ 5 SE ≈ 0.02.
    """
    n = samples.shape[0]
    centred = samples - samples.mean(axis=0)
    products = centred[:, :, None] * centred[:, None, :]
    z_mean = (samples.mean(axis=0) - mean) / np.sqrt(np.diag(cov) / n)
    z_cov = (products.mean(axis=0) - cov) / (products.std(axis=0) / np.sqrt(n))
    np.testing.assert_array_less(np.abs(z_mean), z_max)
    np.testing.assert_array_less(np.abs(z_cov), z_max)


def test_gaussian_samples_have_the_exact_mean_and_covariance():
    samples = Gaussian(MEAN3, COV3).sample(200_000, np.random.default_rng(20240601))
    assert samples.shape == (200_000, 3) and samples.dtype == np.float64
    _assert_moments_within_standard_errors(samples, MEAN3, COV3)


def test_mixture_samples_have_the_exact_mixture_mean_and_covariance():
    mixture = small_mixture()
    w, m, s = mixture.weights, mixture.means, mixture.covs
    # Law of total expectation / variance: E x = Σ π_k m_k, Cov x = Σ π_k (S_k + m_k m_kᵀ) − E x E xᵀ.
    mean = w @ m
    cov = np.einsum("k,kij->ij", w, s + m[:, :, None] * m[:, None, :]) - np.outer(mean, mean)
    samples = mixture.sample(200_000, np.random.default_rng(7))
    assert samples.shape == (200_000, 2) and samples.dtype == np.float64
    _assert_moments_within_standard_errors(samples, mean, cov)


def test_mixture_samples_each_component_with_its_weight_mean_and_covariance():
    # Components 40 apart with variances ≤ 1.5: assigning a sample to the nearest mean errs
    # with probability < Φ(−20/√1.5) ≈ 1e-59, so the nearest mean recovers the true label.
    weights = np.array([0.2, 0.5, 0.3])
    means = np.array([[-40.0, 0.0], [0.0, 40.0], [40.0, -40.0]])
    covs = small_mixture().covs
    n = 150_000
    samples = GaussianMixture(weights, means, covs).sample(n, np.random.default_rng(11))
    labels = np.argmin(np.linalg.norm(samples[:, None, :] - means[None], axis=2), axis=1)
    freq = np.bincount(labels, minlength=3) / n
    # Binomial SE sqrt(π(1 − π)/n) ≤ 1.3e-3; 5 SE as in the moment checks.
    np.testing.assert_array_less(np.abs(freq - weights), 5 * np.sqrt(weights * (1 - weights) / n))
    for k in range(3):
        _assert_moments_within_standard_errors(samples[labels == k], means[k], covs[k])


@pytest.mark.parametrize(
    "distribution",
    [Gaussian(MEAN3, COV3), small_mixture()],
    ids=["gaussian", "mixture"],
)
def test_same_seed_gives_bit_identical_samples_and_other_seeds_differ(distribution):
    a = distribution.sample(50, np.random.default_rng(123))
    b = distribution.sample(50, np.random.default_rng(123))
    c = distribution.sample(50, np.random.default_rng(124))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # Sampling advances the generator: two calls on one generator differ.
    rng = np.random.default_rng(123)
    assert not np.array_equal(distribution.sample(50, rng), distribution.sample(50, rng))


@pytest.mark.parametrize(
    "distribution",
    [Gaussian(MEAN3, COV3), small_mixture()],
    ids=["gaussian", "mixture"],
)
@pytest.mark.parametrize("n", [0, 1, np.int64(5)], ids=["zero", "one", "numpy-int"])
def test_sample_returns_float64_array_of_shape_n_by_d(distribution, n):
    samples = distribution.sample(n, np.random.default_rng(0))
    assert samples.shape == (int(n), distribution.dim)
    assert samples.dtype == np.float64


# --- dtypes, copies, immutability ------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float16, np.float32], ids=["float16", "float32"])
def test_low_precision_points_give_float64_results_equal_to_the_upcast_input(dtype):
    x = np.array([[0.1, -2.3, 4.0], [1.7, 0.0, -0.9]], dtype=dtype)
    x64 = x.astype(np.float64)
    for dist in (Gaussian(MEAN3, COV3), GaussianMixture([0.4, 0.6], [MEAN3, -MEAN3], [COV3, np.eye(3)])):
        for method in ("log_prob", "score"):
            out = getattr(dist, method)(x)
            assert out.dtype == np.float64
            np.testing.assert_array_equal(out, getattr(dist, method)(x64))


def test_float32_and_integer_parameters_are_stored_as_float64():
    g = Gaussian(np.array([1, 2], dtype=np.int32), np.eye(2, dtype=np.float32))
    assert g.mean.dtype == np.float64 and g.cov.dtype == np.float64
    m = GaussianMixture(np.array([0.5, 0.5], dtype=np.float32), np.zeros((2, 1), dtype=np.int64),
                        np.ones((2, 1, 1), dtype=np.float32))
    assert m.weights.dtype == m.means.dtype == m.covs.dtype == np.float64


def test_gaussian_keeps_read_only_copies_of_its_parameters():
    mean, cov = MEAN3.copy(), COV3.copy()
    g = Gaussian(mean, cov)
    x = np.array([[0.3, -1.0, 2.0]])
    before = (g.log_prob(x), g.score(x))
    mean[:] = 100.0
    cov[:] = 7.0 * np.eye(3)
    np.testing.assert_array_equal(g.mean, MEAN3)
    np.testing.assert_array_equal(g.cov, COV3)
    np.testing.assert_array_equal(g.log_prob(x), before[0])
    np.testing.assert_array_equal(g.score(x), before[1])
    for name in ("mean", "cov", "chol"):
        arr = getattr(g, name)
        assert not arr.flags.writeable, name
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 0.0


def test_mixture_keeps_read_only_copies_of_its_parameters():
    weights, means, covs = np.array([0.3, 0.7]), np.array([[0.0], [1.0]]), np.array([[[1.0]], [[2.0]]])
    mixture = GaussianMixture(weights, means, covs)
    x = np.array([[0.5], [-2.0]])
    before = (mixture.log_prob(x), mixture.score(x))
    weights[:] = [0.9, 0.1]
    means[:] = 50.0
    covs[:] = 9.0
    np.testing.assert_array_equal(mixture.weights, [0.3, 0.7])
    np.testing.assert_array_equal(mixture.means, [[0.0], [1.0]])
    np.testing.assert_array_equal(mixture.covs, [[[1.0]], [[2.0]]])
    np.testing.assert_array_equal(mixture.log_prob(x), before[0])
    np.testing.assert_array_equal(mixture.score(x), before[1])
    for name in ("weights", "means", "covs", "chols"):
        arr = getattr(mixture, name)
        assert not arr.flags.writeable, name
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 0.0


@given(gaussian_with_points(max_abs=1e3))
def test_evaluation_never_modifies_the_points_and_accepts_read_only_points(case):
    gaussian, x = case
    mixture = GaussianMixture([0.5, 0.5], [gaussian.mean, -gaussian.mean], [gaussian.cov, np.eye(gaussian.dim)])
    original = x.copy()
    x.setflags(write=False)
    for call in (gaussian.log_prob, gaussian.score, mixture.log_prob, mixture.score, mixture.responsibilities):
        call(x)
        np.testing.assert_array_equal(x, original)


# --- validation: one table of bad inputs ------------------------------------------------------------

G = Gaussian(MEAN3, COV3)
M = small_mixture()
RNG = np.random.default_rng(0)

BAD_INPUTS = [
    # Gaussian parameters
    ("gaussian-cov-not-positive-definite", lambda: Gaussian([0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]]),
     ValueError, "cov must be positive definite"),
    ("gaussian-cov-singular", lambda: Gaussian([0.0, 0.0], [[1.0, 1.0], [1.0, 1.0]]),
     ValueError, "cov must be positive definite"),
    ("gaussian-cov-asymmetric", lambda: Gaussian([0.0, 0.0], [[1.0, 0.5], [0.4, 1.0]]),
     ValueError, "cov must be symmetric"),
    ("gaussian-cov-shape-mismatch", lambda: Gaussian([0.0, 0.0], np.eye(3)),
     ValueError, re.escape("cov must have shape (d, d) = (2, 2)")),
    ("gaussian-cov-not-2d", lambda: Gaussian([0.0, 0.0], [1.0, 1.0]),
     ValueError, re.escape("cov must have shape (d, d)")),
    ("gaussian-mean-not-1d", lambda: Gaussian([[0.0, 0.0]], np.eye(2)),
     ValueError, re.escape("mean must have shape (d,)")),
    ("gaussian-mean-nan", lambda: Gaussian([np.nan, 0.0], np.eye(2)),
     ValueError, "mean must contain only finite values"),
    ("gaussian-cov-inf", lambda: Gaussian([0.0, 0.0], [[np.inf, 0.0], [0.0, 1.0]]),
     ValueError, "cov must contain only finite values"),
    ("gaussian-mean-complex", lambda: Gaussian(np.array([0.0, 1j]), np.eye(2)),
     TypeError, "mean must be a real array"),
    ("gaussian-cov-boolean", lambda: Gaussian([0.0, 0.0], np.eye(2, dtype=bool)),
     TypeError, "cov must be a real array"),
    # mixture parameters
    ("mixture-weights-sum-not-one", lambda: GaussianMixture([0.5, 0.4], np.zeros((2, 1)), np.ones((2, 1, 1))),
     ValueError, "weights must sum to 1"),
    ("mixture-weights-negative", lambda: GaussianMixture([1.5, -0.5], np.zeros((2, 1)), np.ones((2, 1, 1))),
     ValueError, "weights must be positive"),
    ("mixture-weights-zero", lambda: GaussianMixture([1.0, 0.0], np.zeros((2, 1)), np.ones((2, 1, 1))),
     ValueError, "weights must be positive"),
    ("mixture-weights-count-mismatch", lambda: GaussianMixture([1.0], np.zeros((2, 1)), np.ones((2, 1, 1))),
     ValueError, re.escape("weights must have shape (k,) with k = 2")),
    ("mixture-covs-shape-mismatch", lambda: GaussianMixture([0.5, 0.5], np.zeros((2, 2)), np.ones((2, 1, 1))),
     ValueError, re.escape("covs must have shape (k, d, d) = (2, 2, 2)")),
    ("mixture-means-not-2d", lambda: GaussianMixture([0.5, 0.5], np.zeros(2), np.ones((2, 1, 1))),
     ValueError, re.escape("means must have shape (k, d)")),
    ("mixture-covs-not-positive-definite",
     lambda: GaussianMixture([0.5, 0.5], np.zeros((2, 2)), [np.eye(2), [[1.0, 2.0], [2.0, 1.0]]]),
     ValueError, "covs must be positive definite; matrix 1"),
    ("mixture-covs-asymmetric",
     lambda: GaussianMixture([0.5, 0.5], np.zeros((2, 2)), [np.eye(2), [[1.0, 0.5], [0.4, 1.0]]]),
     ValueError, "covs must be symmetric; matrix 1"),
    ("mixture-weights-complex", lambda: GaussianMixture(np.array([0.5, 0.5j]), np.zeros((2, 1)), np.ones((2, 1, 1))),
     TypeError, "weights must be a real array"),
    # points
    ("x-integer", lambda: G.log_prob(np.zeros((2, 3), dtype=int)), TypeError, "x must be a floating-point array"),
    ("x-complex", lambda: G.score(np.zeros((2, 3), dtype=complex)), TypeError, "x must be a floating-point array"),
    ("x-boolean", lambda: M.log_prob(np.zeros((2, 2), dtype=bool)), TypeError, "x must be a floating-point array"),
    ("x-mixture-integer", lambda: M.score(np.zeros((2, 2), dtype=np.int64)), TypeError, "x must be a floating-point array"),
    ("x-wrong-dimension", lambda: G.log_prob(np.zeros((2, 2))), ValueError, "x must have d = 3 columns"),
    ("x-mixture-wrong-dimension", lambda: M.responsibilities(np.zeros((2, 3))), ValueError, "x must have d = 2 columns"),
    ("x-one-dimensional", lambda: G.score(np.zeros(3)), ValueError, re.escape("x must have shape (n, d)")),
    ("x-nan", lambda: M.score(np.array([[0.0, np.nan]])), ValueError, "x must contain only finite values"),
    # sample(n, rng)
    ("n-negative", lambda: G.sample(-1, RNG), ValueError, "n must be a non-negative integer"),
    ("n-float", lambda: G.sample(2.0, RNG), TypeError, "n must be a non-negative integer"),
    ("n-bool", lambda: M.sample(True, RNG), TypeError, "n must be a non-negative integer"),
    ("n-mixture-negative", lambda: M.sample(-3, RNG), ValueError, "n must be a non-negative integer"),
    ("rng-legacy-random-state", lambda: G.sample(2, np.random.RandomState(0)), TypeError,
     "rng must be a numpy.random.Generator"),
    ("rng-integer-seed", lambda: M.sample(2, 0), TypeError, "rng must be a numpy.random.Generator"),
    ("rng-none", lambda: G.sample(2, None), TypeError, "rng must be a numpy.random.Generator"),
    # issue 14: all-zero covariances, n beyond memory, values beyond float64
    ("gaussian-cov-all-zero", lambda: Gaussian([0.0, 0.0], np.zeros((2, 2))), ValueError,
     "cov must be positive definite; matrix 0 has smallest eigenvalue 0"),
    ("mixture-cov-all-zero", lambda: GaussianMixture([0.5, 0.5], np.zeros((2, 2)), [np.eye(2), np.zeros((2, 2))]),
     ValueError, "covs must be positive definite; matrix 1 has smallest eigenvalue 0"),
    ("n-beyond-memory", lambda: G.sample(10**12, RNG), ValueError,
     r"n=1000000000000 samples of dimension 3 would need about .* TiB of memory"),
    ("n-mixture-beyond-memory", lambda: M.sample(10**12, RNG), ValueError,
     r"n=1000000000000 samples of dimension 2 would need about .* TiB of memory.*smaller batches"),
    ("log-prob-beyond-float64", lambda: G.log_prob(np.array([[1e200, 0.0, 0.0]])), ValueError,
     "x is too far from every component for float64: at row 0"),
    ("score-beyond-float64", lambda: Gaussian([0.0], [[1e-10]]).score(np.array([[0.0], [1e305]])), ValueError,
     "the score at x overflows float64: at row 1"),
    ("mixture-score-beyond-float64", lambda: GaussianMixture([1.0], [[0.0]], [[[1e-10]]]).score(np.array([[1e305]])), ValueError,
     "x is too far from every component"),
]

# Dimension d = 0 is refused with a message naming mean / means.
BAD_INPUTS_EMPTY = [
    pytest.param(lambda: Gaussian(np.zeros(0), np.zeros((0, 0))), ValueError, "mean",
                 id="gaussian-zero-dimension"),
    pytest.param(lambda: GaussianMixture([1.0], np.zeros((1, 0)), np.zeros((1, 0, 0))), ValueError, "means",
                 id="mixture-zero-dimension"),
]


@pytest.mark.parametrize(
    "call, error, message",
    [pytest.param(*case[1:], id=case[0]) for case in BAD_INPUTS] + BAD_INPUTS_EMPTY,
)
def test_bad_input_raises_an_error_that_names_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()
