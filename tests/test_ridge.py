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
