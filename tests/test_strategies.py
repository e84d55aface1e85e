"""Tests of the public hypothesis strategies in si_ref.strategies.

(a) bad arguments raise InvalidArgument when the strategy is built, with exact messages;
(b) drawn values have the promised properties;
(c) every family is reachable from the default strategies;
(d) generators() draws numpy Generators.
"""

import numpy as np
import pytest
from hypothesis import Phase, assume, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from si_ref import (
    INTERPOLANT_FAMILIES,
    BrownianGamma,
    BSquaredGamma,
    CustomInterpolant,
    Gaussian,
    GaussianMixture,
    ScaledBrownianGamma,
    SigmoidGamma,
    SineSquaredGamma,
    ZeroGamma,
)
from si_ref import strategies as sis
from si_ref.diffusion import (
    DIFFUSION_PATHS,
    CosinePath,
    DiffusionCase,
    EDMPath,
    RectifiedFlowPath,
    VEPath,
    VPLinearPath,
    ZeroTerminalSNRPath,
)
from si_ref.interpolants import VP_MAX_GAMMA

EPS = np.finfo(np.float64).eps

# Exact classes (BrownianGamma subclasses ScaledBrownianGamma and the one-sided interpolants
# subclass the two-sided ones, so families are told apart with `type(x) is cls`).
GAMMA_CLASSES = {
    "zero": ZeroGamma,
    "brownian": BrownianGamma,
    "scaled-brownian": ScaledBrownianGamma,
    "bsquared": BSquaredGamma,
    "sine-squared": SineSquaredGamma,
    "sigmoid": SigmoidGamma,
}
GAMMA_FAMILY_LIST = str(list(sis.GAMMA_FAMILIES))
INTERPOLANT_FAMILY_LIST = str(list(sis.INTERPOLANT_FAMILY_NAMES))
DIFFUSION_FAMILY_LIST = str(list(sis.DIFFUSION_PATH_FAMILIES))

# Every schedule here peaks at t = 1/2; a fine grid through 1/2 measures the maximum independently.
T_GRID = np.linspace(0.0, 1.0, 2001)

# find() settings for reachability: no example database (each run starts afresh), enough
# examples that a family drawn with probability ≥ 1/20 is missed with probability < 1e-20,
# and no shrinking (only existence matters; shrinking custom interpolants costs seconds).
FIND = settings(database=None, max_examples=1000, phases=[Phase.generate])


def test_family_name_tables_match_the_classes_they_name():
    assert set(sis.GAMMA_FAMILIES) == set(GAMMA_CLASSES)
    assert sis.INTERPOLANT_FAMILY_NAMES == tuple(INTERPOLANT_FAMILIES)


# --- (a) bad arguments: one table ---------------------------------------------------------------

BAD_CALLS = [
    ("times-min-above-max", lambda: sis.times(min_t=0.7, max_t=0.2), "min_t=0.7 is larger than max_t=0.2"),
    ("times-min-negative", lambda: sis.times(min_t=-0.1), "min_t=-0.1 must lie in [0, 1]"),
    ("times-max-above-one", lambda: sis.times(max_t=1.5), "max_t=1.5 must lie in [0, 1]"),
    ("times-min-string", lambda: sis.times(min_t="0"), "min_t='0' must be a real number"),
    ("times-min-bool", lambda: sis.times(min_t=True), "min_t=True must be a real number"),
    ("times-max-nan", lambda: sis.times(max_t=float("nan")), "max_t=nan must be finite"),
    ("times-equal-ends-excluded", lambda: sis.times(min_t=0.5, max_t=0.5, exclude_min=True),
     "min_t=0.5 and max_t=0.5 with exclude_min=True and exclude_max=False leave no float time"),
    ("time-arrays-negative-n", lambda: sis.time_arrays(-1), "n=-1 must be at least 0"),
    ("time-arrays-float-n", lambda: sis.time_arrays(2.5), "n=2.5 must be an integer"),
    ("time-arrays-min-above-max", lambda: sis.time_arrays(3, min_t=0.9, max_t=0.1),
     "min_t=0.9 is larger than max_t=0.1"),
    ("gamma-families-empty", lambda: sis.gamma_schedules(families=[]),
     f"families=() is empty: name at least one of {GAMMA_FAMILY_LIST}"),
    ("gamma-families-unknown", lambda: sis.gamma_schedules(families=["brownian", "nope"]),
     f"families contains unknown names ['nope']; known: {GAMMA_FAMILY_LIST}"),
    ("gamma-families-unknown-string", lambda: sis.gamma_schedules(families="nope"),
     f"families contains unknown names ['nope']; known: {GAMMA_FAMILY_LIST}"),
    ("gamma-min-scale-zero", lambda: sis.gamma_schedules(min_scale=0), "min_scale=0.0 must be positive"),
    ("gamma-min-scale-above-max", lambda: sis.gamma_schedules(min_scale=3, max_scale=2),
     "min_scale=3.0 is larger than max_scale=2.0"),
    ("gamma-min-sharpness-zero", lambda: sis.gamma_schedules(min_sharpness=0),
     "min_sharpness=0.0 and max_sharpness=40.0 must lie in (0, 200]"),
    ("gamma-max-sharpness-too-large", lambda: sis.gamma_schedules(max_sharpness=300),
     "min_sharpness=1.0 and max_sharpness=300.0 must lie in (0, 200]"),
    ("gamma-min-sharpness-above-max", lambda: sis.gamma_schedules(min_sharpness=30, max_sharpness=20),
     "min_sharpness=30.0 is larger than max_sharpness=20.0"),
    ("gamma-max-gamma-zero-without-zero-family", lambda: sis.gamma_schedules(max_gamma=0, families=["brownian"]),
     "no schedule in families=['brownian'] has maximum below max_gamma=0.0"),
    ("gamma-max-gamma-below-every-peak",
     lambda: sis.gamma_schedules(max_gamma=0.2, families=["brownian", "bsquared"]),
     "no schedule in families=['brownian', 'bsquared'] has maximum below max_gamma=0.2"),
    ("gamma-max-gamma-infinite", lambda: sis.gamma_schedules(max_gamma=float("inf")), "max_gamma=inf must be finite"),
    ("interpolants-families-unknown", lambda: sis.interpolants(families=["bogus"]),
     f"families contains unknown names ['bogus']; known: {INTERPOLANT_FAMILY_LIST}"),
    ("interpolants-families-empty", lambda: sis.interpolants(families=[]),
     f"families=() is empty: name at least one of {INTERPOLANT_FAMILY_LIST}"),
    ("spd-dimension-zero", lambda: sis.spd_matrices(0), "d=0 must be at least 1"),
    ("spd-dimension-float", lambda: sis.spd_matrices(2.0), "d=2.0 must be an integer"),
    ("spd-min-eigenvalue-zero", lambda: sis.spd_matrices(2, min_eigenvalue=0), "min_eigenvalue=0.0 must be positive"),
    ("spd-min-eigenvalue-above-max", lambda: sis.spd_matrices(2, min_eigenvalue=5, max_eigenvalue=1),
     "min_eigenvalue=5.0 is larger than max_eigenvalue=1.0"),
    ("points-dimension-zero", lambda: sis.points(0), "d=0 must be at least 1"),
    ("points-min-n-above-max", lambda: sis.points(2, min_n=5, max_n=2), "min_n=5 is larger than max_n=2"),
    ("points-min-n-negative", lambda: sis.points(2, min_n=-1), "min_n=-1 must be at least 0"),
    ("points-max-abs-negative", lambda: sis.points(2, max_abs=-1), "max_abs=-1.0 must be non-negative"),
    ("gaussians-max-abs-mean-negative", lambda: sis.gaussians(2, max_abs_mean=-1),
     "max_abs_mean=-1.0 must be non-negative"),
    ("gaussians-min-eigenvalue-negative", lambda: sis.gaussians(2, min_eigenvalue=-1),
     "min_eigenvalue=-1.0 must be positive"),
    ("mixtures-dimension-zero", lambda: sis.gaussian_mixtures(0), "d=0 must be at least 1"),
    ("mixtures-min-components-zero", lambda: sis.gaussian_mixtures(2, min_components=0),
     "min_components=0 must be at least 1"),
    ("mixtures-min-components-above-max", lambda: sis.gaussian_mixtures(2, min_components=3, max_components=2),
     "min_components=3 is larger than max_components=2"),
    ("mixtures-weight-ratio-zero", lambda: sis.gaussian_mixtures(2, min_weight_ratio=0),
     "min_weight_ratio=0.0 must lie in (0, 1]"),
    ("mixtures-weight-ratio-above-one", lambda: sis.gaussian_mixtures(2, min_weight_ratio=1.5),
     "min_weight_ratio=1.5 must lie in (0, 1]"),
    ("diffusion-paths-families-unknown", lambda: sis.diffusion_paths(families=["vp"]),
     f"families contains unknown names ['vp']; known: {DIFFUSION_FAMILY_LIST}"),
    ("diffusion-paths-families-empty", lambda: sis.diffusion_paths(families=[]),
     f"families=() is empty: name at least one of {DIFFUSION_FAMILY_LIST}"),
    ("noise-levels-min-a-negative", lambda: sis.noise_levels(min_a=-1), "min_a=-1.0 must be non-negative"),
    ("noise-levels-min-sigma-above-max", lambda: sis.noise_levels(min_sigma=3, max_sigma=2),
     "min_sigma=3.0 is larger than max_sigma=2.0"),
    ("noise-levels-only-zero", lambda: sis.noise_levels(max_a=0, max_sigma=0),
     "max_a=0.0 and max_sigma=0.0 leave only a = sigma = 0, where x carries nothing"),
    ("noise-levels-vp-with-bounds", lambda: sis.noise_levels(variance_preserving=True, max_sigma=2),
     "variance_preserving=True draws a = cos θ, σ = sin θ; ['max_sigma'] must keep their defaults"),
    ("noise-levels-vp-not-bool", lambda: sis.noise_levels(variance_preserving=1),
     "variance_preserving=1 must be True or False"),
    ("diffusion-cases-max-components-zero", lambda: sis.diffusion_cases(2, max_components=0),
     "max_components=0 must be at least 1"),
    ("diffusion-cases-min-eigenvalue-zero", lambda: sis.diffusion_cases(2, min_eigenvalue=0),
     "min_eigenvalue=0.0 must be positive"),
    ("labels-one", lambda: sis.labelled_gaussian_mixtures(2, min_labels=1), "min_labels=1 must be at least 2"),
    ("labels-min-above-max", lambda: sis.labelled_gaussian_mixtures(2, min_labels=3, max_labels=2),
     "min_labels=3 is larger than max_labels=2"),
    ("labels-all-equal", lambda: sis.labelled_gaussian_mixtures(2, max_abs_mean=0, min_eigenvalue=1, max_eigenvalue=1),
     "max_abs_mean=0.0 with min_eigenvalue = max_eigenvalue = 1.0 makes every component equal, so no label "
     "changes the law; allow means or eigenvalues to vary"),
    ("cases-target-option-checked-when-built", lambda: sis.guidance_cases(2, max_components_per_label=0),
     "max_components_per_label=0 must be at least 1"),
    ("cases-unknown-option", lambda: sis.guidance_cases(2, max_label=3),
     "guidance_cases got unknown options ['max_label']; the target options are ['min_labels', 'max_labels', "
     "'max_components_per_label', 'max_abs_mean', 'min_eigenvalue', 'max_eigenvalue']"),
    ("cases-base-flag", lambda: sis.guidance_cases(2, gaussian_base=1), "gaussian_base=1 must be True or False"),
    ("strengths-min-above-max", lambda: sis.guidance_strengths(min_scale=4, max_scale=3),
     "min_scale=4.0 is larger than max_scale=3.0"),
    ("strengths-convention", lambda: sis.guidance_strengths(conventions=("w",)),
     "conventions=('w',) must be a non-empty sequence of 'scale' and 'weight'"),
    ("guided-fields-strengths-not-a-strategy", lambda: sis.guided_fields(2, strengths=3.0),
     "strengths=3.0 must be a strategy of GuidanceStrength, e.g. guidance_strengths(min_scale=3.0)"),
    ("coupled-unknown", lambda: sis.coupled_cases(2, couplings=("sinkhorn",)),
     "couplings=('sinkhorn',) holds unknown names ['sinkhorn']; valid: ('independent', 'ot', 'entropic')"),
    ("coupled-epsilon-zero", lambda: sis.coupled_cases(2, min_epsilon=0),
     "need 0 < min_epsilon <= max_epsilon; received 0.0 and 10.0"),
]


@pytest.mark.parametrize("call, message", [case[1:] for case in BAD_CALLS], ids=[case[0] for case in BAD_CALLS])
def test_bad_strategy_arguments_raise_invalid_argument_when_built_with_exact_message(call, message):
    # `call` only builds the strategy and never draws from it, so raising here is eager.
    with pytest.raises(InvalidArgument) as excinfo:
        call()
    assert str(excinfo.value) == message


# Adjacent floats with both ends excluded, and non-boolean flags, are refused when built.
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(min_t=0.5, max_t=float(np.nextafter(0.5, 1.0)), exclude_min=True, exclude_max=True),
        dict(min_t=0.0, max_t=5e-324, exclude_min=True, exclude_max=True),
        dict(exclude_min="yes"),
    ],
    ids=["adjacent-floats-both-excluded", "zero-and-smallest-subnormal-both-excluded", "exclude-min-not-bool"],
)
def test_times_arguments_leaving_no_time_or_of_wrong_type_raise_when_built(kwargs):
    with pytest.raises(InvalidArgument):
        sis.times(**kwargs)


# --- (b) drawn values: times ---------------------------------------------------------------------

def ordered_pair(low, high):
    return st.tuples(st.floats(low, high), st.floats(low, high)).map(sorted)


@given(st.data(), ordered_pair(0.0, 1.0), st.booleans(), st.booleans())
def test_times_lie_in_the_requested_interval_and_respect_excluded_ends(data, bounds, exclude_min, exclude_max):
    low, high = bounds
    assume(low < high or not (exclude_min or exclude_max))
    assume(np.nextafter(low, 2.0) < high or not (exclude_min and exclude_max))
    t = data.draw(sis.times(min_t=low, max_t=high, exclude_min=exclude_min, exclude_max=exclude_max))
    assert isinstance(t, float)
    assert low <= t <= high
    assert not (exclude_min and t == low)
    assert not (exclude_max and t == high)


def test_default_times_reach_both_endpoints_and_excluded_times_avoid_them():
    assert find(sis.times(), lambda t: t == 0.0, settings=FIND) == 0.0
    assert find(sis.times(), lambda t: t == 1.0, settings=FIND) == 1.0
    # The open interval still gets arbitrarily close to the ends, which is where bugs live.
    assert 0.0 < find(sis.times(exclude_min=True, exclude_max=True), lambda t: t < 1e-300, settings=FIND)


@given(st.data(), st.integers(0, 6), ordered_pair(0.0, 1.0), st.booleans())
def test_time_arrays_have_shape_n_and_float64_times_within_bounds(data, n, bounds, exclude_ends):
    low, high = bounds
    assume(np.nextafter(low, 2.0) < high or not exclude_ends)
    t = data.draw(sis.time_arrays(n, min_t=low, max_t=high, exclude_min=exclude_ends, exclude_max=exclude_ends))
    assert t.shape == (n,) and t.dtype == np.float64
    assert ((low <= t) & (t <= high)).all()
    if exclude_ends:
        assert ((t != low) & (t != high)).all()


@given(sis.time_arrays(st.integers(2, 4)))
def test_time_arrays_accept_a_strategy_for_n(t):
    assert t.ndim == 1 and 2 <= t.size <= 4 and t.dtype == np.float64
    assert ((0.0 <= t) & (t <= 1.0)).all()


# --- (b) drawn values: matrices, points, distributions ---------------------------------------------

def eigenvalue_tolerance(d, max_eigenvalue):
    """Rounding budget for eigenvalues of Q diag(λ) Qᵀ: a backward-stable product and eigvalsh
    perturb each eigenvalue by O(d·eps·‖S‖₂), ‖S‖₂ ≤ max_eigenvalue. 16·d·eps·max leaves margin;
    a real error (λ², missing symmetrisation, non-orthogonal Q) is larger by many orders."""
    return 16 * d * EPS * max_eigenvalue


def assert_eigenvalues_within(s, low, high):
    eigenvalues = np.linalg.eigvalsh(s)
    tol = eigenvalue_tolerance(s.shape[0], high)
    np.testing.assert_array_less(low - tol, eigenvalues)
    np.testing.assert_array_less(eigenvalues, high + tol)


def eigenvalue_bounds():
    """(low, high) with low in [1e-3, 10] and high/low in [1, 1e4]."""
    return st.tuples(st.floats(1e-3, 10.0), st.floats(1.0, 1e4)).map(lambda p: (p[0], p[0] * p[1]))


@given(st.data(), st.integers(1, 5), eigenvalue_bounds())
def test_spd_matrices_are_symmetric_with_eigenvalues_in_the_requested_range(data, d, bounds):
    low, high = bounds
    s = data.draw(sis.spd_matrices(d, min_eigenvalue=low, max_eigenvalue=high))
    assert s.shape == (d, d) and s.dtype == np.float64
    np.testing.assert_array_equal(s, s.T)
    assert_eigenvalues_within(s, low, high)
    np.linalg.cholesky(s)  # positive definite in floating point too (low/high ≥ 1e-4 ≫ d·eps)


@given(sis.spd_matrices(st.integers(1, 4)))
def test_spd_matrices_with_default_bounds_have_eigenvalues_in_0_1_to_10(s):
    assert 1 <= s.shape[0] == s.shape[1] <= 4
    np.testing.assert_array_equal(s, s.T)
    assert_eigenvalues_within(s, 0.1, 10.0)


@given(st.data(), st.integers(1, 4), st.tuples(st.integers(0, 5), st.integers(0, 5)).map(sorted),
       st.floats(0.0, 1e3))
def test_points_have_the_requested_shape_and_bounds(data, d, n_range, max_abs):
    min_n, max_n = n_range
    x = data.draw(sis.points(d, min_n=min_n, max_n=max_n, max_abs=max_abs))
    assert x.dtype == np.float64 and x.ndim == 2
    assert x.shape[1] == d and min_n <= x.shape[0] <= max_n
    assert np.isfinite(x).all() and (np.abs(x) <= max_abs).all()


@given(sis.points(st.integers(2, 3)))
def test_points_accept_a_strategy_for_d_and_default_to_1_to_8_rows_within_10(x):
    assert x.shape[1] in (2, 3) and 1 <= x.shape[0] <= 8
    assert (np.abs(x) <= 10.0).all()


@given(st.data(), st.integers(1, 4), st.floats(0.0, 5.0), eigenvalue_bounds())
def test_gaussians_have_dimension_d_bounded_mean_and_covariance_eigenvalues_in_range(data, d, max_abs_mean, bounds):
    low, high = bounds
    g = data.draw(sis.gaussians(d, max_abs_mean=max_abs_mean, min_eigenvalue=low, max_eigenvalue=high))
    assert isinstance(g, Gaussian) and g.dim == d
    assert (np.abs(g.mean) <= max_abs_mean).all()
    np.testing.assert_array_equal(g.cov, g.cov.T)
    assert_eigenvalues_within(g.cov, low, high)


@given(sis.gaussians(st.integers(2, 3)))
def test_gaussians_accept_a_strategy_for_d(g):
    assert isinstance(g, Gaussian) and g.dim in (2, 3)
    assert (np.abs(g.mean) <= 3.0).all()
    assert_eigenvalues_within(g.cov, 0.1, 10.0)


@given(st.data(), st.integers(1, 3), st.tuples(st.integers(1, 4), st.integers(1, 4)).map(sorted),
       st.floats(0.01, 1.0), eigenvalue_bounds())
def test_gaussian_mixtures_have_dimension_d_and_the_requested_component_count_and_weights(
    data, d, k_range, ratio, bounds
):
    kmin, kmax = k_range
    low, high = bounds
    mixture = data.draw(sis.gaussian_mixtures(
        d, min_components=kmin, max_components=kmax, min_weight_ratio=ratio, min_eigenvalue=low, max_eigenvalue=high
    ))
    assert isinstance(mixture, GaussianMixture)
    assert mixture.dim == d and kmin <= mixture.n_components <= kmax
    w = mixture.weights
    np.testing.assert_allclose(w.sum(), 1.0, rtol=0, atol=4 * kmax * EPS)
    # Normalising divides every raw weight by the same sum, so ratios survive up to 2 eps.
    assert w.min() >= ratio * w.max() * (1 - 4 * EPS)
    assert (np.abs(mixture.means) <= 3.0).all()
    for cov in mixture.covs:
        assert_eigenvalues_within(cov, low, high)


def test_gaussian_mixtures_reach_weight_ratios_near_min_weight_ratio():
    # Weights are drawn, not fixed: ratios close to the 0.1 floor occur.
    strategy = sis.gaussian_mixtures(1, min_components=2, max_components=2, min_weight_ratio=0.1)
    found = find(strategy, lambda m: m.weights.min() < 0.2 * m.weights.max(), settings=FIND)
    assert 0.1 * (1 - 4 * EPS) <= found.weights.min() / found.weights.max() < 0.2


@given(sis.gaussian_mixtures(st.integers(1, 2), min_components=2, max_components=2))
def test_gaussian_mixtures_accept_a_strategy_for_d(mixture):
    assert mixture.dim in (1, 2) and mixture.n_components == 2


# --- (b) drawn values: gamma schedules ----------------------------------------------------------------

def assert_max_gamma_is_the_maximum_on_a_grid(schedule):
    values = schedule.gamma(T_GRID)
    # The grid contains t = 1/2, where each family peaks; γ(1/2) is evaluated by the same
    # formula as max_gamma for some families, hence the relative 1e-12 rather than equality.
    np.testing.assert_allclose(values.max(), schedule.max_gamma, rtol=1e-12, atol=0)


@pytest.mark.parametrize("max_gamma", [0.01, 0.1, 0.25, 0.3, 0.5, 0.75, 1.0, VP_MAX_GAMMA, 1.5])
@given(data=st.data())
def test_gamma_schedules_with_max_gamma_draw_only_schedules_strictly_below_it(max_gamma, data):
    schedule = data.draw(sis.gamma_schedules(max_gamma=max_gamma))
    assert schedule.max_gamma < max_gamma
    # The evaluated γ may round one ulp past the cap: ScaledBrownianGamma(0.24999999999999997)
    # has max_gamma = √a/2 = 0.24999999999999997 but gamma(0.5) = √(a·¼) = 0.25, and with the cap
    # VP_MAX_GAMMA a drawn a = 3.9999920000039992 gives gamma(0.5) = VP_MAX_GAMMA + 1 ulp.
    # Two ulps of slack still catch any real overshoot (a wrong cap is off by ≫ 1e-16).
    assert schedule.gamma(T_GRID).max() <= max_gamma * (1 + 2 * EPS)
    assert_max_gamma_is_the_maximum_on_a_grid(schedule)


@given(st.data(), st.floats(0.3, 2.0), st.sampled_from(["scaled-brownian", "sigmoid"]))
def test_gamma_schedules_cap_the_continuous_families_below_max_gamma(data, max_gamma, family):
    # Scaled-Brownian peaks at √a/2 (up to 1 for a ≤ 4); sigmoid peaks at up to 0.462.
    schedule = data.draw(sis.gamma_schedules(families=family, max_gamma=max_gamma))
    assert type(schedule) is GAMMA_CLASSES[family]
    assert schedule.max_gamma < max_gamma
    assert schedule.gamma(T_GRID).max() <= max_gamma * (1 + 2 * EPS)  # rounding, as above


# ZeroGamma peaks at 0.0, which is not strictly below max_gamma <= 0: no schedule is left.
@pytest.mark.parametrize("max_gamma", [0.0, -1.0], ids=["zero", "negative"])
def test_gamma_schedules_with_non_positive_max_gamma_leave_no_schedule(max_gamma):
    with pytest.raises(InvalidArgument):
        sis.gamma_schedules(max_gamma=max_gamma)


@pytest.mark.parametrize("family", sis.GAMMA_FAMILIES)
@given(data=st.data())
def test_gamma_schedules_filtered_by_family_draw_only_that_family(family, data):
    for families in (family, [family]):  # a single name or a list of names
        schedule = data.draw(sis.gamma_schedules(families=families))
        assert type(schedule) is GAMMA_CLASSES[family]
        assert_max_gamma_is_the_maximum_on_a_grid(schedule)
        assert schedule.gamma(0.0) == 0.0 and schedule.gamma(1.0) == 0.0


@given(sis.gamma_schedules(families=["scaled-brownian", "sigmoid"], min_scale=2.0, max_scale=3.0,
                           min_sharpness=5.0, max_sharpness=6.0))
def test_gamma_schedules_draw_scales_and_sharpnesses_within_their_ranges(schedule):
    assert type(schedule) in (ScaledBrownianGamma, SigmoidGamma)
    if type(schedule) is ScaledBrownianGamma:
        assert 2.0 <= schedule.scale <= 3.0
    else:
        assert 5.0 <= schedule.sharpness <= 6.0


# --- (b) drawn values: interpolants ----------------------------------------------------------------

@pytest.mark.parametrize("family", sis.INTERPOLANT_FAMILY_NAMES)
@given(data=st.data())
def test_interpolants_filtered_by_family_are_valid_instances_of_that_family(family, data):
    interpolant = data.draw(sis.interpolants(families=[family]))
    assert type(interpolant) is INTERPOLANT_FAMILIES[family]
    ends = np.array([0.0, 1.0])
    np.testing.assert_array_equal(interpolant.gamma(ends), [0.0, 0.0])
    if family == "mirror":
        np.testing.assert_array_equal(interpolant.alpha(ends), [0.0, 0.0])
        np.testing.assert_array_equal(interpolant.beta(ends), [1.0, 1.0])
    else:  # x_0 at t = 0 and x_1 at t = 1 (custom closed forms are checked to 1e-12 when built)
        np.testing.assert_allclose(interpolant.alpha(ends), [1.0, 0.0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(interpolant.beta(ends), [0.0, 1.0], rtol=0, atol=1e-12)
    schedule = interpolant.gamma_schedule
    if family == "vp-trig":
        assert schedule.max_gamma <= VP_MAX_GAMMA
    if family in ("encoder-decoder", "mirror"):
        assert schedule.gamma(0.5) > 0.0
    if family.startswith("one-sided") or (family == "custom" and interpolant.one_sided):
        assert type(schedule) is ZeroGamma and interpolant.kind == "one-sided"


# --- (c) every family is reachable from the defaults ------------------------------------------------

@pytest.mark.parametrize("family", sis.GAMMA_FAMILIES)
def test_every_gamma_family_is_reachable_from_default_gamma_schedules(family):
    cls = GAMMA_CLASSES[family]
    assert type(find(sis.gamma_schedules(), lambda g: type(g) is cls, settings=FIND)) is cls


@pytest.mark.parametrize("family", sis.INTERPOLANT_FAMILY_NAMES)
def test_every_interpolant_family_is_reachable_from_default_interpolants(family):
    cls = INTERPOLANT_FAMILIES[family]
    assert type(find(sis.interpolants(), lambda i: type(i) is cls, settings=FIND)) is cls


@pytest.mark.parametrize("one_sided", [False, True], ids=["two-sided", "one-sided"])
def test_custom_interpolants_reach_both_kinds(one_sided):
    found = find(sis.interpolants(families="custom"), lambda i: i.one_sided is one_sided, settings=FIND)
    assert isinstance(found, CustomInterpolant) and found.one_sided is one_sided


@pytest.mark.parametrize(
    "family, gamma_family",
    [("linear", g) for g in sis.GAMMA_FAMILIES]
    + [("vp-trig", g) for g in sis.GAMMA_FAMILIES if g != "sine-squared"]  # sin² peaks at 1 > VP_MAX_GAMMA
    + [("mirror", g) for g in sis.GAMMA_FAMILIES if g != "zero"],          # mirror needs γ > 0 inside
)
def test_every_admissible_gamma_family_is_reachable_inside_interpolants(family, gamma_family):
    cls = GAMMA_CLASSES[gamma_family]
    found = find(sis.interpolants(families=family), lambda i: type(i.gamma_schedule) is cls, settings=FIND)
    assert type(found.gamma_schedule) is cls


# --- (d) generators ---------------------------------------------------------------------------------

@given(sis.generators(), sis.generators())
def test_generators_draw_distinct_numpy_generators(a, b):
    assert isinstance(a, np.random.Generator) and isinstance(b, np.random.Generator)
    assert a is not b  # never one shared generator whose state leaks between draws
    assert np.isfinite(a.standard_normal(3)).all()


def test_generators_reach_different_seeds():
    first = np.random.default_rng(0).standard_normal(4)
    found = find(sis.generators(), lambda g: not np.array_equal(g.standard_normal(4), first), settings=FIND)
    assert isinstance(found, np.random.Generator)


# --- (e) diffusion paths, noise levels and diffusion cases -------------------------------------------------

DIFFUSION_CLASSES = {"vp-linear": VPLinearPath, "cosine": CosinePath, "ve": VEPath, "edm": EDMPath,
                     "rectified-flow": RectifiedFlowPath, "zero-terminal-snr": ZeroTerminalSNRPath}
TAU_GRID = np.array([0.0, 1e-12, 1e-6, 0.01, 0.25, 0.5, 0.75, 0.99, 1.0 - 1e-12, 1.0])


def test_diffusion_family_names_match_the_path_classes():
    assert sis.DIFFUSION_PATH_FAMILIES == tuple(DIFFUSION_PATHS)
    assert {name: DIFFUSION_PATHS[name] for name in DIFFUSION_CLASSES} == DIFFUSION_CLASSES


def assert_path_parameters_in_range(path):
    if type(path) is VPLinearPath:
        assert 0.01 <= path.beta_min <= 1.0 and 5.0 <= path.beta_max <= 25.0
    elif type(path) is CosinePath:
        assert 0.0 <= path.s <= 0.02
    elif type(path) is VEPath:
        assert 0.002 <= path.sigma_min <= 0.1 and 10.0 <= path.sigma_max <= 100.0
    elif type(path) is EDMPath:
        assert 1.0 <= path.sigma_max <= 100.0
    elif type(path) is RectifiedFlowPath:
        assert 0.5 <= path.shift <= 5.0
    else:
        assert type(path) is ZeroTerminalSNRPath
        assert_path_parameters_in_range(path.path)
        assert path.a(1.0) == 0.0


@given(sis.diffusion_paths())
def test_diffusion_paths_have_parameters_in_range_and_finite_coefficients_on_the_closed_interval(path):
    assert_path_parameters_in_range(path)
    for name in ("a", "a_dot", "sigma", "sigma_sigma_dot"):
        values = getattr(path, name)(TAU_GRID)
        assert np.isfinite(values).all(), name
    assert (path.a(TAU_GRID) >= 0).all() and (path.sigma(TAU_GRID) >= 0).all()
    assert (path.a(TAU_GRID) + path.sigma(TAU_GRID) > 0).all()
    assert path.a(0.0) == pytest.approx(1.0, rel=4 * EPS) and path.sigma(1.0) > path.sigma(0.0)


@pytest.mark.parametrize("family", sorted(DIFFUSION_CLASSES))
def test_every_diffusion_path_family_is_reachable_and_filtered_by_name(family):
    cls = DIFFUSION_CLASSES[family]
    assert type(find(sis.diffusion_paths(), lambda p: type(p) is cls, settings=FIND)) is cls
    only = find(sis.diffusion_paths(families=family), lambda p: True, settings=FIND)
    assert type(only) is cls


def test_rectified_flow_paths_reach_the_plain_path_and_shifts_on_both_sides_of_one():
    paths = sis.diffusion_paths(families="rectified-flow")
    assert find(paths, lambda p: p.shift == 1.0, settings=FIND).shift == 1.0
    assert find(paths, lambda p: p.shift < 1.0, settings=FIND).shift >= 0.5
    assert find(paths, lambda p: p.shift > 3.0, settings=FIND).shift <= 5.0


@given(sis.noise_levels())
def test_noise_levels_are_pairs_of_floats_in_range_never_both_zero_nor_below_1e_minus_12(level):
    a, sigma = level
    assert isinstance(a, float) and isinstance(sigma, float)
    assert 0.0 <= a <= 1.0 and 0.0 <= sigma <= 100.0 and (a, sigma) != (0.0, 0.0)
    assert a == 0.0 or a >= 1e-12
    assert sigma == 0.0 or sigma >= 1e-12


@pytest.mark.parametrize("which, value", [(0, 0.0), (0, 1e-12), (0, 1.0), (1, 0.0), (1, 1e-12), (1, 100.0)],
                         ids=["a-0", "a-1e-12", "a-1", "sigma-0", "sigma-1e-12", "sigma-max"])
def test_noise_levels_hit_the_edges(which, value):
    assert find(sis.noise_levels(), lambda level: level[which] == value, settings=FIND)[which] == value


@given(st.data(), st.tuples(st.floats(0.0, 2.0), st.floats(0.0, 2.0)).map(sorted),
       st.tuples(st.floats(0.0, 50.0), st.floats(0.0, 50.0)).map(sorted))
def test_noise_levels_respect_their_bounds(data, a_range, sigma_range):
    assume(a_range[1] > 0 or sigma_range[1] > 0)
    a, sigma = data.draw(sis.noise_levels(min_a=a_range[0], max_a=a_range[1], min_sigma=sigma_range[0],
                                          max_sigma=sigma_range[1]))
    assert a_range[0] <= a <= a_range[1] and sigma_range[0] <= sigma <= sigma_range[1]


@given(sis.noise_levels(variance_preserving=True))
def test_variance_preserving_noise_levels_lie_on_the_unit_circle(level):
    a, sigma = level
    assert 0.0 <= a <= 1.0 and 0.0 <= sigma <= 1.0
    np.testing.assert_allclose(a**2 + sigma**2, 1.0, rtol=0, atol=4 * EPS)


@pytest.mark.parametrize("edge", [(1.0, 0.0), (1.0, 1e-12), (1e-12, 1.0), (0.0, 1.0)], ids=str)
def test_variance_preserving_noise_levels_hit_both_ends(edge):
    assert find(sis.noise_levels(variance_preserving=True), lambda level: level == edge, settings=FIND) == edge


@settings(max_examples=30)
@given(sis.diffusion_cases(st.integers(1, 3)), sis.times(), st.data())
def test_diffusion_cases_have_finite_exact_fields_at_every_time(case, tau, data):
    assert isinstance(case, DiffusionCase) and isinstance(case.data, (Gaussian, GaussianMixture))
    assert 1 <= case.dim <= 3
    assert_path_parameters_in_range(case.path)
    x = data.draw(sis.points(case.dim, max_n=3, max_abs=5.0))
    assume(x.shape[0] > 0)
    for method in ("epsilon", "denoised", "v", "score", "flow_velocity"):
        values = getattr(case, method)(x, tau)
        assert values.shape == x.shape and np.isfinite(values).all(), method


def test_diffusion_cases_reach_mixtures_and_single_gaussians_and_respect_families():
    cases = sis.diffusion_cases(2, families=["ve"], max_components=2)
    assert isinstance(find(cases, lambda c: isinstance(c.data, GaussianMixture), settings=FIND).data, GaussianMixture)
    found = find(cases, lambda c: isinstance(c.data, Gaussian), settings=FIND)
    assert isinstance(found.data, Gaussian) and type(found.path) is VEPath
    single = find(sis.diffusion_cases(1, mixtures=False), lambda c: True, settings=FIND)
    assert isinstance(single.data, Gaussian)
