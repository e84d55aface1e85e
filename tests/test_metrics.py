"""Tests of si_ref.metrics: energy distance and MMD against direct O(n²) formulas and scipy."""

import numpy as np
import pytest
import scipy.stats

from si_ref import metrics
from si_ref.metrics import energy_distance, median_bandwidth, mmd


def _direct_distances(a, b):
    """|a_i - b_j| for all pairs by broadcasting: the oracle, independent of cdist and chunking."""
    return np.sqrt(np.sum((a[:, None, :] - b[None, :, :]) ** 2, axis=-1))


def _direct_energy(x, y, unbiased):
    n, m = len(x), len(y)
    dxx, dyy, dxy = _direct_distances(x, x), _direct_distances(y, y), _direct_distances(x, y)
    if unbiased:
        return 2 * dxy.mean() - dxx.sum() / (n * (n - 1)) - dyy.sum() / (m * (m - 1))
    return 2 * dxy.mean() - dxx.mean() - dyy.mean()


def _direct_mmd(x, y, sigma, unbiased):
    k = lambda a, b: np.exp(-_direct_distances(a, b) ** 2 / (2 * sigma**2))  # noqa: E731
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    n, m = len(x), len(y)
    if unbiased:
        return (kxx.sum() - n) / (n * (n - 1)) + (kyy.sum() - m) / (m * (m - 1)) - 2 * kxy.mean()
    return kxx.mean() + kyy.mean() - 2 * kxy.mean()


@pytest.fixture
def samples():
    rng = np.random.default_rng(0)
    return rng.standard_normal((60, 3)), rng.standard_normal((45, 3)) + np.array([0.5, 0.0, -0.2])


@pytest.mark.parametrize("unbiased", [False, True], ids=["v_statistic", "u_statistic"])
def test_energy_distance_matches_the_direct_pair_formula(samples, unbiased):
    x, y = samples
    np.testing.assert_allclose(energy_distance(x, y, unbiased=unbiased), _direct_energy(x, y, unbiased), rtol=1e-12)


@pytest.mark.parametrize("unbiased", [False, True], ids=["v_statistic", "u_statistic"])
def test_mmd_matches_the_direct_pair_formula(samples, unbiased):
    x, y = samples
    np.testing.assert_allclose(mmd(x, y, bandwidth=0.8, unbiased=unbiased), _direct_mmd(x, y, 0.8, unbiased),
                               rtol=1e-12)


def test_mmd_default_bandwidth_is_the_median_pairwise_distance_of_the_pooled_sample(samples):
    x, y = samples
    pooled = np.vstack([x, y])
    d = _direct_distances(pooled, pooled)[np.triu_indices(len(pooled), k=1)]
    sigma = np.median(d)
    np.testing.assert_allclose(median_bandwidth(x, y), sigma, rtol=1e-14)
    np.testing.assert_allclose(mmd(x, y), _direct_mmd(x, y, sigma, False), rtol=1e-12)


def test_chunked_sums_equal_the_unchunked_ones(samples, monkeypatch):
    x, y = samples
    expected_e, expected_m = energy_distance(x, y), mmd(x, y, bandwidth=1.3)
    monkeypatch.setattr(metrics, "CHUNK_ELEMENTS", 7)     # row blocks of 1-7 rows, uneven last block
    np.testing.assert_allclose(energy_distance(x, y), expected_e, rtol=1e-13)
    np.testing.assert_allclose(mmd(x, y, bandwidth=1.3), expected_m, rtol=1e-13)


def test_median_heuristic_strides_large_pooled_samples(monkeypatch):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((30, 2)), rng.standard_normal((20, 2))
    monkeypatch.setattr(metrics, "MEDIAN_MAX_POINTS", 10)
    subset = np.vstack([x, y])[::5]                       # ceil(50 / 10) = 5
    d = _direct_distances(subset, subset)[np.triu_indices(len(subset), k=1)]
    np.testing.assert_allclose(median_bandwidth(x, y), np.median(d), rtol=1e-14)


def test_v_statistics_vanish_for_identical_samples(samples):
    x, _ = samples
    assert energy_distance(x, x.copy()) == 0.0
    assert mmd(x, x.copy(), bandwidth=1.0) == 0.0
    assert mmd(x, x.copy()) == 0.0


def test_u_statistics_are_near_zero_for_identical_samples(samples):
    # For y = x the U-statistics equal minus the mean over i != j of the within-sample kernel
    # (scaled by 1/(n-1)); they are O(1/n), not exactly 0.
    x, _ = samples
    n = len(x)
    mean_distance = _direct_distances(x, x).sum() / (n * (n - 1))
    # derivation: 2 S/n² - 2 S/(n(n-1)) = -2 S/(n²(n-1)) with S = Σ_ij |x_i - x_j|
    S = _direct_distances(x, x).sum()
    np.testing.assert_allclose(energy_distance(x, x, unbiased=True), -2 * S / (n**2 * (n - 1)), rtol=1e-12)
    assert abs(energy_distance(x, x, unbiased=True)) < 0.05 * mean_distance
    assert abs(mmd(x, x, bandwidth=1.0, unbiased=True)) < 0.05


@pytest.mark.parametrize("unbiased", [False, True], ids=["v_statistic", "u_statistic"])
def test_metrics_are_symmetric(samples, unbiased):
    x, y = samples
    np.testing.assert_allclose(energy_distance(x, y, unbiased=unbiased), energy_distance(y, x, unbiased=unbiased),
                               rtol=1e-13)
    np.testing.assert_allclose(mmd(x, y, bandwidth=0.7, unbiased=unbiased), mmd(y, x, bandwidth=0.7, unbiased=unbiased),
                               rtol=1e-13)
    np.testing.assert_allclose(mmd(x, y), mmd(y, x), rtol=1e-13)


def test_metrics_grow_with_the_shift_between_distributions():
    # Same base draws shifted by 0, 0.5, 1, 2: the U-statistics (unbiased, ~0 at no shift) increase,
    # and at shift 2 they are far above their values for two independent samples of one distribution.
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((400, 2)), rng.standard_normal((400, 2))
    shifts = [0.0, 0.5, 1.0, 2.0]
    energies = [energy_distance(x, y + np.array([s, 0.0]), unbiased=True) for s in shifts]
    mmds = [mmd(x, y + np.array([s, 0.0]), bandwidth=1.0, unbiased=True) for s in shifts]
    assert np.all(np.diff(energies) > 0) and np.all(np.diff(mmds) > 0)
    assert abs(energies[0]) < 0.02 and abs(mmds[0]) < 0.01
    assert energies[-1] > 1.0 and mmds[-1] > 0.2


def test_energy_distance_of_point_masses_is_twice_their_distance():
    # P = δ_a, Q = δ_b: D² = 2|a - b| - 0 - 0.
    x = np.array([[0.0, 0.0]] * 3)
    y = np.array([[3.0, 4.0]] * 2)
    np.testing.assert_allclose(energy_distance(x, y), 10.0, rtol=1e-15)
    # and MMD² = 1 + 1 - 2 exp(-25 / 2σ²)
    np.testing.assert_allclose(mmd(x, y, bandwidth=5.0), 2.0 - 2.0 * np.exp(-0.5), rtol=1e-14)


def test_energy_distance_agrees_with_scipy_in_one_dimension():
    r"""scipy.stats.energy_distance(u, v) = sqrt(2 ∫ (F - G)²) with F, G the empirical CDFs.

    Relation: for real X ~ F, Y ~ G, E|X - Y| = ∫ [F (1 - G) + G (1 - F)] du, so
    2 E|X - Y| - E|X - X'| - E|Y - Y'| = ∫ [2F + 2G - 4FG - 2F + 2F² - 2G + 2G²] du
    = 2 ∫ (F - G)² du. Applied to the empirical distributions, the left side is our V-statistic,
    hence scipy's value is its square root: energy_distance(x, y) = scipy(u, v)².
    """
    rng = np.random.default_rng(3)
    u, v = rng.standard_normal(70), 0.4 + 1.5 * rng.standard_normal(55)
    ours = energy_distance(u[:, None], v[:, None])
    np.testing.assert_allclose(ours, scipy.stats.energy_distance(u, v) ** 2, rtol=1e-12)
    assert not np.isclose(ours, scipy.stats.energy_distance(u, v), rtol=1e-3)   # the sqrt matters


def test_results_are_float64_for_float32_inputs(samples):
    x, y = samples
    for value in (energy_distance(x.astype(np.float32), y.astype(np.float32)),
                  mmd(x.astype(np.float32), y.astype(np.float32))):
        assert type(value) is float
    np.testing.assert_allclose(energy_distance(x.astype(np.float32), y.astype(np.float32)),
                               _direct_energy(x.astype(np.float32).astype(np.float64),
                                              y.astype(np.float32).astype(np.float64), False), rtol=1e-12)


def test_inputs_are_not_modified(samples):
    x, y = samples
    x_copy, y_copy = x.copy(), y.copy()
    energy_distance(x, y)
    mmd(x, y)
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(y, y_copy)


@pytest.mark.parametrize("k", [-1000, -600, 600, 1000])
def test_metrics_are_exact_at_any_float64_scale(samples, k):
    # scaling by 2**k is exact, so the oracle is the direct formula on the unscaled samples:
    # D²(2^k x, 2^k y) = 2^k D²(x, y), and the MMD with bandwidth 2^k σ (or the median) is unchanged.
    x, y = samples
    xs, ys = np.ldexp(x, k), np.ldexp(y, k)
    np.testing.assert_allclose(energy_distance(xs, ys), np.ldexp(_direct_energy(x, y, False), k), rtol=1e-12)
    np.testing.assert_allclose(mmd(xs, ys, bandwidth=np.ldexp(1.3, k)), _direct_mmd(x, y, 1.3, False), rtol=1e-12)
    np.testing.assert_allclose(median_bandwidth(xs, ys), np.ldexp(median_bandwidth(x, y), k), rtol=1e-15)
    np.testing.assert_allclose(mmd(xs, ys, unbiased=True), mmd(x, y, unbiased=True), rtol=1e-12)


def test_mmd_kernel_limits_for_extreme_bandwidths(samples):
    x, y = samples
    # σ far below every distance: k = 1 on the diagonal only; far above: k = 1 everywhere
    n, m = len(x), len(y)
    np.testing.assert_allclose(mmd(x, y, bandwidth=1e-300), 1 / n + 1 / m, rtol=1e-15)
    assert mmd(x, y, bandwidth=1e300) == 0.0


_GOOD = np.zeros((3, 2))
_ONE = np.ones((1, 2))
_HUGE = np.array([[1.7e308]])   # and -_HUGE: a distance of 3.4e308


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: energy_distance(np.zeros(3), _GOOD), ValueError, "x must have shape"),
        (lambda: energy_distance(_GOOD, np.zeros((3, 3))), ValueError, "same dimension"),
        (lambda: energy_distance(np.zeros((0, 2)), _GOOD), ValueError, "at least one point"),
        (lambda: energy_distance(_GOOD, np.array([[0.0, np.nan]])), ValueError, "finite"),
        (lambda: energy_distance(np.zeros((3, 2), dtype=int), _GOOD), TypeError, "floating-point"),
        (lambda: energy_distance(_ONE, _GOOD, unbiased=True), ValueError, "at least 2 points"),
        (lambda: energy_distance(_GOOD, _GOOD, unbiased="yes"), TypeError, "unbiased"),
        (lambda: mmd(_GOOD, _GOOD + 1.0, bandwidth=0.0), ValueError, "bandwidth must be positive"),
        (lambda: mmd(_GOOD, _GOOD + 1.0, bandwidth=-1.0), ValueError, "bandwidth must be positive"),
        (lambda: mmd(_GOOD, _GOOD + 1.0, bandwidth=np.inf), ValueError, "bandwidth must be finite"),
        (lambda: mmd(_GOOD, _GOOD + 1.0, bandwidth="1"), TypeError, "bandwidth must be a real number"),
        (lambda: mmd(_GOOD, _GOOD), ValueError, "median pairwise distance"),
        (lambda: mmd(_GOOD, _GOOD.T), ValueError, "same dimension"),
        (lambda: energy_distance(_HUGE, -_HUGE), ValueError, r"energy distance of x and y exceeds the float64 range"),
        (lambda: median_bandwidth(_HUGE, -_HUGE), ValueError, r"median pairwise distance of the pooled sample exceeds the float64"),
        (lambda: mmd(_GOOD, _GOOD + 1.0, unbiased=2), TypeError, r"unbiased must be True or False; received 2"),
        (lambda: mmd(_GOOD, _GOOD + 1.0, unbiased=None), TypeError, r"unbiased must be True or False; received None"),
        (lambda: energy_distance(_GOOD, _GOOD, unbiased=np.array([True])), TypeError, r"unbiased must be True or False"),
        (lambda: mmd(_GOOD, _GOOD + 1.0, bandwidth=None, unbiased="no"), TypeError, r"unbiased must be True or False"),
        (lambda: mmd(np.array([[1e300]]), np.array([[-1e300]]), bandwidth=1e-300), ValueError,
         r"bandwidth=1e-300 is too small for samples of magnitude up to about 2\*\*997"),
        (lambda: mmd(_GOOD, _GOOD + 1.0, bandwidth=np.nan), ValueError, "bandwidth must be finite"),
    ],
    ids=["x_1d", "dimension_mismatch", "empty_x", "nan_in_y", "integer_x", "unbiased_one_point",
         "unbiased_not_bool", "zero_bandwidth", "negative_bandwidth", "infinite_bandwidth",
         "string_bandwidth", "median_zero", "mmd_dimension_mismatch", "energy_overflows", "median_overflows",
         "unbiased_int", "unbiased_none", "unbiased_array", "unbiased_string_mmd", "bandwidth_below_scale",
         "nan_bandwidth"],
)
def test_bad_inputs_raise_readable_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
