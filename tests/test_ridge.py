"""Ridge regression on features: exact on its span, equal to a direct least-squares solve."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.linalg import lstsq

import si_ref
from si_ref.ridge import PolynomialFeatures, RandomFourierFeatures, RidgeField

from reference import assert_raises_naming


def data(n, d, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(-2, 2, (n, d)), rng.uniform(0, 1, n), rng


@given(st.integers(1, 3), st.integers(0, 3), st.integers(0, 3), st.integers(0, 2**32 - 1))
def test_ridge_recovers_a_field_in_its_feature_span_to_round_off(d, degree, time_degree, seed):
    features = PolynomialFeatures(d, degree=degree, time_degree=time_degree)
    x, t, rng = data(200 + 4 * features.n_features, d, seed)
    true_coef = rng.standard_normal((features.n_features, d))
    y = features(x, t) @ true_coef
    model = RidgeField(features, alpha=1e-14).fit(x, t, y)
    x_new, t_new, _ = data(50, d, seed + 1)
    expected = features(x_new, t_new) @ true_coef
    np.testing.assert_allclose(model(x_new, t_new), expected, rtol=1e-7, atol=1e-7 * max(1.0, np.max(np.abs(expected))))


@given(st.integers(1, 3), st.floats(1e-8, 1e-1), st.integers(0, 2**32 - 1))
def test_closed_form_equals_a_direct_least_squares_solve(d, alpha, seed):
    features = RandomFourierFeatures(d, 40, length_scale=0.8, rng=np.random.default_rng(seed))
    x, t, rng = data(300, d, seed)
    y = np.sin(x) + t[:, None]
    model = RidgeField(features, alpha=alpha).fit(x, t, y)
    phi = features(x, t)
    lam = alpha * np.trace(phi.T @ phi) / phi.shape[1]
    # min |Y − ΦW|² + λ|W|²  ==  least squares on [Φ; √λ I] W = [Y; 0]
    augmented = np.vstack([phi, np.sqrt(lam) * np.eye(phi.shape[1])])
    direct = lstsq(augmented, np.vstack([y, np.zeros((phi.shape[1], d))]))[0]
    np.testing.assert_allclose(model.coef_, direct, rtol=1e-6, atol=1e-6 * np.max(np.abs(direct)))


def test_sample_weights_equal_repeated_samples():
    features = PolynomialFeatures(1, degree=3, time_degree=2)
    x, t, rng = data(100, 1, 3)
    y = np.cos(2 * x) + rng.normal(0, 0.1, (100, 1))
    weights = rng.integers(1, 4, 100)
    weighted = RidgeField(features, alpha=1e-6).fit(x, t, y, sample_weight=weights.astype(float))
    repeated = RidgeField(features, alpha=1e-6).fit(np.repeat(x, weights, 0), np.repeat(t, weights), np.repeat(y, weights, 0))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-8, atol=1e-10)


def test_gcv_picks_a_small_alpha_for_clean_data_and_a_larger_one_for_noisy_data():
    features = RandomFourierFeatures(1, 100, length_scale=0.5, rng=np.random.default_rng(0))
    x, t, rng = data(400, 1, 4)
    clean = np.sin(2 * x)
    noisy = clean + rng.normal(0, 1.0, clean.shape)
    alpha_clean = RidgeField(features, alpha="gcv").fit(x, t, clean).alpha_
    alpha_noisy = RidgeField(features, alpha="gcv").fit(x, t, noisy).alpha_
    assert alpha_clean < alpha_noisy


def test_ridge_fit_of_a_1d_drift_reaches_two_percent_in_seconds():
    """Regress the antithetic targets ∂_t I ± γ̇ z of a 1D Gaussian case on polynomial features."""
    case = si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BSquaredGamma()), si_ref.Gaussian(np.zeros(1), np.eye(1)),
                               si_ref.Gaussian(np.array([2.0]), np.array([[0.25]])))
    rng = np.random.default_rng(5)
    n = 50_000
    t, x0, x1, z = rng.random(n), rng.standard_normal((n, 1)), case.target.sample(n, rng), rng.standard_normal((n, 1))
    I = case.interpolant
    x = np.vstack([I.interpolant(t, x0, x1, z), I.interpolant(t, x0, x1, -z)])
    y = np.vstack([I.interpolant_dot(t, x0, x1, z), I.interpolant_dot(t, x0, x1, -z)])
    model = RidgeField(PolynomialFeatures(1, degree=3, time_degree=6), alpha=1e-10).fit(x, np.concatenate([t, t]), y)
    grid_t = np.linspace(0.05, 0.95, 10)
    errors = []
    for s in grid_t:
        points = I.interpolant(s, rng.standard_normal((2000, 1)), case.target.sample(2000, rng), rng.standard_normal((2000, 1)))
        exact = case.drift(points, s)
        errors.append(np.sqrt(np.mean((model(points, s) - exact) ** 2) / np.mean(exact**2)))
    assert np.mean(errors) < 0.02, errors  # measured about 1%: Monte Carlo noise of the targets


BAD = [
    ("alpha-zero", lambda: RidgeField(PolynomialFeatures(1), alpha=0.0), ValueError, ["alpha must be positive", "alpha=0.0"]),
    ("alpha-negative", lambda: RidgeField(PolynomialFeatures(1), alpha=-1.0), ValueError, ["alpha must be positive"]),
    ("features-not-callable", lambda: RidgeField("rff"), TypeError, ["features must be a callable"]),
    ("y-rows-differ", lambda: RidgeField(PolynomialFeatures(1)).fit(np.zeros((3, 1)), 0.5, np.zeros((2, 1))), ValueError,
     ["y must have one row per point of x, 3"]),
    ("y-dim-differs", lambda: RidgeField(PolynomialFeatures(1)).fit(np.zeros((3, 1)), 0.5, np.zeros((3, 2))), ValueError,
     ["y must have d = 1 columns"]),
    ("empty-data", lambda: RidgeField(PolynomialFeatures(1)).fit(np.zeros((0, 1)), np.zeros(0), np.zeros((0, 1))), ValueError,
     ["at least one sample"]),
    ("nan-in-data", lambda: RidgeField(PolynomialFeatures(1)).fit(np.full((3, 1), np.nan), 0.5, np.zeros((3, 1))), ValueError,
     ["x must contain only finite values"]),
    ("predict-before-fit", lambda: RidgeField(PolynomialFeatures(1)).predict(np.zeros((3, 1)), 0.5), ValueError, ["not fitted yet"]),
    ("rff-negative-scale", lambda: RandomFourierFeatures(1, 10, length_scale=-1.0, rng=np.random.default_rng(0)), ValueError,
     ["length scales must be positive"]),
    ("rff-no-rng", lambda: RandomFourierFeatures(1, 10, rng=0), TypeError, ["rng must be a numpy.random.Generator"]),
    ("poly-negative-degree", lambda: PolynomialFeatures(1, degree=-1), ValueError, ["degree must be an integer >= 0"]),
]


@pytest.mark.parametrize("call, exception, fragments", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_ridge_input_raises_a_clear_message(call, exception, fragments):
    assert_raises_naming(call, exception, fragments)


def test_gcv_score_equals_the_explicit_hat_matrix_formula():
    from si_ref.ridge import gcv_alpha

    features = RandomFourierFeatures(2, 30, length_scale=0.7, rng=np.random.default_rng(1))
    x, t, rng = data(120, 2, 6)
    y = np.sin(x) + rng.normal(0, 0.3, x.shape)
    phi = features(x, t)
    gram, rhs = phi.T @ phi, phi.T @ y
    alpha = 1e-3
    _, score = gcv_alpha(gram, rhs, float(np.sum(y * y)), x.shape[0], [alpha])
    lam = alpha * np.trace(gram) / gram.shape[0]
    hat = phi @ np.linalg.solve(gram + lam * np.eye(gram.shape[0]), phi.T)   # test-only explicit hat matrix
    residual = y - hat @ y
    n = x.shape[0]
    np.testing.assert_allclose(score, n * np.sum(residual**2) / (n - np.trace(hat)) ** 2, rtol=1e-8)


# --- posterior features and time slices ----------------------------------------------------------

from si_ref import strategies as sis  # noqa: E402
from si_ref.ridge import PosteriorFeatures, TimeSlicedRidge, kmeans_centres  # noqa: E402


@given(sis.interpolants(families=["linear", "trig", "vp-trig", "custom"]), sis.gaussians(2),
       st.floats(0.05, 0.95), st.floats(0.2, 1.0), st.integers(0, 2**32 - 1))
def test_posterior_features_span_the_exact_fields_of_an_equal_weight_kernel_target(interpolant, base, t, width, seed):
    # target (1/m) Σ_j N(c_j, ℓ² I): every field is Σ_j w_j(x, t)(a_j + B_j x), in the span at fixed t
    rng = np.random.default_rng(seed)
    if interpolant.kind == "one-sided":          # a custom interpolant may be one-sided: x0 ~ N(0, I)
        base = si_ref.Gaussian(np.zeros(2), np.eye(2))
    centres = rng.uniform(-3, 3, (3, 2))
    target = si_ref.GaussianMixture(np.full(3, 1 / 3), centres, np.stack([width**2 * np.eye(2)] * 3))
    case = si_ref.GaussianCase(interpolant, base, target)
    features = PosteriorFeatures(interpolant, centres, width, base=base, time_degree=0)

    def draw(n):
        return interpolant.interpolant(t, base.sample(n, rng), target.sample(n, rng), rng.standard_normal((n, 2)))
    x, x_new = draw(200), draw(50)
    for field in (case.drift, case.score, case.denoise_x1):
        model = RidgeField(features, alpha=1e-14).fit(x, t, field(x, t))
        expected = field(x_new, t)
        np.testing.assert_allclose(model(x_new, t), expected, rtol=1e-6, atol=1e-6 * (1 + np.abs(expected).max()))


def test_posterior_responsibilities_are_the_exact_mixture_posterior():
    interpolant = si_ref.LinearInterpolant(si_ref.BrownianGamma())
    base = si_ref.Gaussian(np.array([0.5, -1.0]), np.array([[2.0, 0.3], [0.3, 0.5]]))
    centres = np.array([[2.0, 0.0], [-1.0, 1.0], [0.0, -2.0]])
    features = PosteriorFeatures(interpolant, centres, 0.4, base=base)
    x = np.random.default_rng(1).standard_normal((20, 2))
    t = 0.3
    a, b, g = interpolant.alpha(t), interpolant.beta(t), interpolant.gamma(t)
    cov = a * a * base.cov + (g * g + b * b * 0.16) * np.eye(2)
    from scipy.stats import multivariate_normal
    density = np.column_stack([multivariate_normal(a * base.mean + b * c, cov).pdf(x) for c in centres])
    np.testing.assert_allclose(features.responsibilities(x, t), density / density.sum(1, keepdims=True), rtol=1e-10)
    assert features(x, t).shape == (20, features.n_features) == (20, 3 * 3 * 3)


def test_time_sliced_ridge_fits_each_slice_on_its_own_samples():
    # a field with a jump at t = 0.5 that each slice represents exactly
    rng = np.random.default_rng(0)
    x, t = rng.uniform(-2, 2, (2000, 2)), rng.uniform(0, 1, 2000)
    y = np.where(t[:, None] < 0.5, x * (1 + t[:, None]), -3.0 * x**2)
    model = TimeSlicedRidge(lambda t0, t1: PolynomialFeatures(2, degree=2, time_degree=1), [0.0, 0.5, 1.0],
                            alpha=1e-14).fit(x, t, y)
    x_new, t_new = rng.uniform(-2, 2, (100, 2)), rng.uniform(0, 1, 100)
    expected = np.where(t_new[:, None] < 0.5, x_new * (1 + t_new[:, None]), -3.0 * x_new**2)
    np.testing.assert_allclose(model(x_new, t_new), expected, rtol=1e-8, atol=1e-8)
    assert len(model.slices_) == 2


def test_ridge_accumulation_over_chunks_equals_one_block():
    features = PolynomialFeatures(2, degree=3, time_degree=2)
    x, t, rng = data(500, 2, 3)
    y = np.cos(x) + t[:, None]
    weights = rng.uniform(0.1, 2.0, 500)
    whole = RidgeField(features, alpha=1e-6, chunk_size=10_000).fit(x, t, y, sample_weight=weights)
    chunked = RidgeField(features, alpha=1e-6, chunk_size=7).fit(x, t, y, sample_weight=weights)
    np.testing.assert_allclose(chunked.coef_, whole.coef_, rtol=1e-9, atol=1e-12)


def test_kmeans_centres_find_well_separated_clusters():
    rng = np.random.default_rng(0)
    means = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    points = np.vstack([m + 0.1 * rng.standard_normal((200, 2)) for m in means])
    centres = kmeans_centres(points, 4, rng)
    np.testing.assert_allclose(np.sort(centres, axis=0), np.sort(means, axis=0), atol=0.05)


_LINEAR = si_ref.LinearInterpolant(si_ref.BrownianGamma())


@pytest.mark.parametrize("call, exception, fragments", [
    (lambda: PosteriorFeatures(_LINEAR, np.zeros((2, 2)), 0.0), ValueError, ["width must be positive", "0.0"]),
    (lambda: PosteriorFeatures(_LINEAR, np.zeros((2, 2)), 1.0, time_degree=-1), ValueError, ["time_degree", "-1"]),
    (lambda: PosteriorFeatures(_LINEAR, np.zeros((2, 2)), 1.0, t_range=(0.5, 0.5)), ValueError, ["t_range"]),
    (lambda: PosteriorFeatures("linear", np.zeros((2, 2)), 1.0), TypeError, ["interpolant must be an Interpolant"]),
    (lambda: PosteriorFeatures(_LINEAR, np.zeros((2, 2)), 1.0, base=si_ref.Gaussian(np.zeros(3), np.eye(3))),
     TypeError, ["base must be a si_ref.Gaussian of dimension 2"]),
    (lambda: TimeSlicedRidge(lambda a, b: None, [0.0, 0.7, 0.5, 1.0]), ValueError, ["edges must increase", "0.7"]),
    (lambda: TimeSlicedRidge(lambda a, b: None, [0.1, 1.0]), ValueError, ["from 0 to 1"]),
    (lambda: TimeSlicedRidge(lambda a, b: PolynomialFeatures(1), [0.0, 0.5, 1.0]).fit(
        np.zeros((3, 1)), np.full(3, 0.2), np.zeros((3, 1))), ValueError, ["no samples", "[0.5, 1)"]),
    (lambda: TimeSlicedRidge(lambda a, b: None).predict(np.zeros((1, 1)), 0.5), ValueError, ["not fitted"]),
    (lambda: kmeans_centres(np.zeros((3, 2)), 4, np.random.default_rng(0)), ValueError, ["m must be an integer in [1, 3]"]),
    (lambda: RidgeField(PolynomialFeatures(1), chunk_size=0), ValueError, ["chunk_size", "0"]),
])
def test_bad_posterior_feature_and_slice_input_raises_a_clear_message(call, exception, fragments):
    assert_raises_naming(call, exception, fragments)
