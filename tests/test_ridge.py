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


# --- Gaussian mixtures fitted by EM, and their posterior features ----------------------------------

import io  # noqa: E402

from si_ref.progress import shown  # noqa: E402
from si_ref.ridge import (MixturePosteriorFeatures, _batched_cholesky, _batched_forward_solve,  # noqa: E402
                          fit_gaussian_mixture, mixture_bic, select_gaussian_mixture)


def _rotation(angle):
    return np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])


# three well-separated, anisotropic, correlated components of unequal weights
_TRUE_MIXTURE = si_ref.GaussianMixture(
    np.array([0.5, 0.3, 0.2]), np.array([[-3.0, 0.0], [2.0, 2.0], [1.0, -3.0]]),
    np.stack([_rotation(a) @ np.diag(s) @ _rotation(a).T
              for a, s in ((0.4, [0.5, 0.02]), (1.3, [0.2, 0.05]), (2.5, [0.3, 0.1]))]))


def _matched(fitted, true):
    """Indices of the fitted components nearest to each true mean."""
    return [int(np.argmin(np.sum((fitted.means - m) ** 2, axis=1))) for m in true.means]


def test_em_recovers_the_weights_means_and_covariances_of_a_sampled_mixture():
    rng = np.random.default_rng(0)
    points = _TRUE_MIXTURE.sample(40_000, rng)
    fitted = fit_gaussian_mixture(points, 3, rng)
    order = _matched(fitted, _TRUE_MIXTURE)
    assert sorted(order) == [0, 1, 2]
    # Monte Carlo accuracy: ~ sqrt(w (1 - w) / n) for weights, sd / sqrt(n w) for means
    np.testing.assert_allclose(fitted.weights[order], _TRUE_MIXTURE.weights, atol=0.01)
    np.testing.assert_allclose(fitted.means[order], _TRUE_MIXTURE.means, atol=0.02)
    np.testing.assert_allclose(fitted.covs[order], _TRUE_MIXTURE.covs, atol=0.03 * 0.5)


def test_bic_selects_the_true_number_of_components():
    rng = np.random.default_rng(1)
    points = _TRUE_MIXTURE.sample(6000, rng)
    assert select_gaussian_mixture(points, rng, max_components=6).n_components == 3
    scores = [mixture_bic(fit_gaussian_mixture(points, k, rng), points) for k in (1, 2, 3)]
    assert scores[2] < scores[1] < scores[0]


def test_em_never_decreases_the_likelihood_and_keeps_covariances_positive_definite():
    rng = np.random.default_rng(2)
    points = rng.standard_normal((500, 2)) * [3.0, 0.1]
    previous = -np.inf
    for iterations in (1, 3, 10, 50):
        fitted = fit_gaussian_mixture(points, 5, np.random.default_rng(7), max_iterations=iterations, tolerance=0.0)
        mean_ll = float(np.mean(fitted.log_prob(points)))
        assert mean_ll >= previous - 1e-9
        previous = mean_ll
        assert (np.linalg.eigvalsh(fitted.covs) > 0).all()


def test_batched_cholesky_and_forward_solve_match_scipy():
    from scipy.linalg import cholesky, solve_triangular
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 5, 3, 3))
    spd = a @ np.swapaxes(a, -1, -2) + 0.1 * np.eye(3)
    b = rng.standard_normal((4, 5, 3))
    L = _batched_cholesky(spd, "A")
    y = _batched_forward_solve(L, b)
    for i in range(4):
        for j in range(5):
            expected = cholesky(spd[i, j], lower=True)
            np.testing.assert_allclose(L[i, j], expected, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(y[i, j], solve_triangular(expected, b[i, j], lower=True), rtol=1e-10, atol=1e-12)


@given(sis.interpolants(families=["linear", "trig", "vp-trig", "mirror"]), sis.gaussians(2), st.floats(0.05, 0.95),
       st.integers(0, 2**32 - 1))
def test_mixture_posterior_features_span_the_exact_fields_of_a_mixture_case(interpolant, base, t, seed):
    # base and target mixtures of full-covariance components: every field is Σ_p r_p (a_p + B_p x) at fixed t
    rng = np.random.default_rng(seed)
    if interpolant.kind == "one-sided":
        base = si_ref.Gaussian(np.zeros(2), np.eye(2))
    base_mixture = si_ref.GaussianMixture(np.array([0.6, 0.4]), np.stack([base.mean, base.mean + 1.5]),
                                          np.stack([base.cov, 0.5 * np.eye(2)]))
    if interpolant.kind == "mirror":
        base_mixture = None
    case = si_ref.GaussianCase(interpolant, base_mixture, _TRUE_MIXTURE)    # mirror: base None
    features = MixturePosteriorFeatures(interpolant, _TRUE_MIXTURE, base=base_mixture, time_degree=0)

    def draw(n):
        x1 = _TRUE_MIXTURE.sample(n, rng)
        x0 = x1 if base_mixture is None else base_mixture.sample(n, rng)
        return interpolant.interpolant(t, x0, x1, rng.standard_normal((n, 2)))
    x, x_new = draw(300), draw(50)
    for field in (case.drift, case.denoise_x1):
        model = RidgeField(features, alpha=1e-14).fit(x, t, field(x, t))
        expected = field(x_new, t)
        np.testing.assert_allclose(model(x_new, t), expected, rtol=1e-5, atol=1e-5 * (1 + np.abs(expected).max()))


def test_mixture_responsibilities_are_the_exact_posterior_of_the_pairs():
    from scipy.stats import multivariate_normal
    interpolant = si_ref.TrigInterpolant(si_ref.BrownianGamma())
    base = si_ref.Gaussian(np.array([0.5, -1.0]), np.array([[2.0, 0.3], [0.3, 0.5]]))
    features = MixturePosteriorFeatures(interpolant, _TRUE_MIXTURE, base=base)
    x = np.random.default_rng(4).standard_normal((20, 2)) * 2
    t = 0.7
    a, b, g = interpolant.alpha(t), interpolant.beta(t), interpolant.gamma(t)
    density = np.column_stack([
        w * multivariate_normal(a * base.mean + b * m, a * a * base.cov + b * b * S + g * g * np.eye(2)).pdf(x)
        for w, m, S in zip(_TRUE_MIXTURE.weights, _TRUE_MIXTURE.means, _TRUE_MIXTURE.covs)])
    np.testing.assert_allclose(features.responsibilities(x, t), density / density.sum(1, keepdims=True), rtol=1e-9)
    assert features(x, np.full(20, t)).shape == (20, features.n_features) == (20, 3 * 3 * 3)


def test_time_sliced_ridge_reports_one_step_per_slice():
    rng = np.random.default_rng(0)
    x, t = rng.uniform(-2, 2, (300, 1)), rng.uniform(0, 1, 300)
    stream = io.StringIO()
    with shown(stream):
        TimeSlicedRidge(lambda t0, t1: PolynomialFeatures(1, degree=1, time_degree=0), [0.0, 0.3, 0.6, 1.0],
                        alpha=1e-8).fit(x, t, x)
    assert "slice 3/3" in stream.getvalue()


_POLY = PolynomialFeatures(1)
_X3 = np.zeros((3, 1))


@pytest.mark.parametrize("call, exception, fragments", [
    (lambda: RidgeField(_POLY).fit(_X3, 0.5, _X3, sample_weight=np.zeros(3)), ValueError,
     ["sample_weight", "not all zero", "sum 0.0"]),
    (lambda: RidgeField(_POLY).fit(_X3, 0.5, _X3, sample_weight=np.ones(2)), ValueError,
     ["sample_weight must have shape (n,) = (3,)", "(2,)"]),
    (lambda: RidgeField(_POLY).fit(_X3, 0.5, _X3, sample_weight=np.array(["a", "b", "c"])), TypeError,
     ["sample_weight must be real numbers"]),
    (lambda: TimeSlicedRidge(lambda a, b: _POLY, [0.0, 1.0]).fit(_X3, 0.5, _X3, sample_weight=np.zeros(3)), ValueError,
     ["sample_weight", "not all zero"]),
    (lambda: TimeSlicedRidge(lambda a, b: _POLY, [0.0, 1.0]).fit(_X3, 0.5, _X3, sample_weight=np.ones(5)), ValueError,
     ["sample_weight must have shape (n,) = (3,)", "(5,)"]),
    (lambda: TimeSlicedRidge(lambda a, b: _POLY, [0.0, 0.5, 1.0]).fit(
        _X3, np.array([0.1, 0.7, 0.8]), _X3, sample_weight=np.array([0.0, 1.0, 1.0])), ValueError,
     ["sample_weight is zero for every sample in the slice [0, 0.5)"]),
    (lambda: PolynomialFeatures(1, degree=3)(np.full((2, 1), 1e300), 0.5), ValueError, ["x is too large", "1e+300"]),
    (lambda: RidgeField(PosteriorFeatures(_LINEAR, np.zeros((2, 2)), 1.0)).fit(np.full((2, 2), 1e300), 0.5,
                                                                                np.zeros((2, 2))), ValueError,
     ["x or y is too large", "1e+300"]),
    (lambda: MixturePosteriorFeatures(_LINEAR, _TRUE_MIXTURE)(np.full((2, 2), 1e300), 0.5), ValueError,
     ["x is too large"]),
    (lambda: MixturePosteriorFeatures(_LINEAR, "ring"), TypeError, ["target must be a si_ref.Gaussian or si_ref.GaussianMixture"]),
    (lambda: MixturePosteriorFeatures(_LINEAR, _TRUE_MIXTURE, base=si_ref.Gaussian(np.zeros(3), np.eye(3))), ValueError,
     ["base has dimension 3"]),
    (lambda: MixturePosteriorFeatures(_LINEAR, _TRUE_MIXTURE, time_degree=-1), ValueError, ["time_degree", "-1"]),
    (lambda: fit_gaussian_mixture(np.zeros((3, 2)), 4, np.random.default_rng(0)), ValueError,
     ["n_components must be an integer >= 1 and <= 3", "4"]),
    (lambda: fit_gaussian_mixture(np.zeros((3, 2)), 2.0, np.random.default_rng(0)), TypeError, ["n_components must be an integer"]),
    (lambda: fit_gaussian_mixture(np.zeros((3, 2)), 2, 0), TypeError, ["rng must be a numpy.random.Generator"]),
    (lambda: select_gaussian_mixture(np.zeros((3, 2)), np.random.default_rng(0), max_components=0), ValueError,
     ["max_components must be an integer >= 1"]),
], ids=["weights-all-zero", "weights-wrong-length", "weights-not-numbers", "sliced-weights-all-zero",
        "sliced-weights-wrong-length", "slice-without-weight", "poly-huge-x", "posterior-huge-x",
        "mixture-huge-x", "mixture-target-not-a-model", "mixture-base-dimension", "mixture-time-degree",
        "em-too-many-components", "em-components-not-integer", "em-no-rng", "bic-max-components-zero"])
def test_bad_weights_huge_points_and_mixture_input_raise_a_clear_message(call, exception, fragments):
    assert_raises_naming(call, exception, fragments)


def test_zero_dimensional_arrays_are_accepted_as_scalars():
    rng = np.random.default_rng(0)
    x, t = rng.uniform(-1, 1, (50, 1)), rng.uniform(0, 1, 50)
    model = RidgeField(PolynomialFeatures(1, degree=1, time_degree=0), alpha=np.array(1e-8)).fit(x, t, 2 * x)
    np.testing.assert_allclose(model(x[:5], np.array(0.3)), 2 * x[:5], rtol=1e-6, atol=1e-6)
    features = MixturePosteriorFeatures(_LINEAR, _TRUE_MIXTURE, t_range=(np.array(0.1), np.array(0.9)))
    assert features.t_range == (0.1, 0.9)


def test_fourier_features_stay_bounded_for_every_finite_point():
    features = RandomFourierFeatures(2, 20, rng=np.random.default_rng(0))
    phi = features(np.array([[1e300, -1e300], [0.0, 0.0]]), 0.5)
    assert np.isfinite(phi).all() and np.abs(phi[:, :-1]).max() <= np.sqrt(2 / 20)


def test_ridge_fits_run_with_one_blas_thread_unless_the_user_chose(monkeypatch):
    from threadpoolctl import threadpool_info

    from si_ref.threads import USER_THREAD_VARIABLES
    for name in USER_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    seen = []
    polynomial = PolynomialFeatures(1, degree=1, time_degree=0)

    def features(x, t):
        seen.extend(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas")
        return polynomial(x, t)
    rng = np.random.default_rng(0)
    x, t = rng.uniform(-1, 1, (40, 1)), rng.uniform(0, 1, 40)
    RidgeField(features).fit(x, t, x)
    TimeSlicedRidge(lambda t0, t1: features, [0.0, 0.5, 1.0]).fit(x, t, x)
    assert seen and set(seen) == {1}


def test_docstrings_hold_latex_not_control_characters():
    import si_ref.ridge as module
    for obj in (module, PosteriorFeatures, MixturePosteriorFeatures, fit_gaussian_mixture, RandomFourierFeatures):
        assert not any(ord(c) < 32 and c != "\n" for c in obj.__doc__), obj
    assert "\\frac1m" in PosteriorFeatures.__doc__ and "\\alpha m_0" in PosteriorFeatures.__doc__
