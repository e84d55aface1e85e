"""Interpolant families against their definitions (400-digit mpmath) and finite differences."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import si_ref
from si_ref import strategies as sis

from reference import central_difference, coefficient_definitions, derivative, value

EXAMPLES = [
    si_ref.LinearInterpolant(si_ref.BrownianGamma()),
    si_ref.LinearInterpolant(si_ref.ZeroGamma()),
    si_ref.TrigInterpolant(si_ref.SigmoidGamma()),
    si_ref.VPTrigInterpolant(si_ref.BrownianGamma()),
    si_ref.VPTrigInterpolant(si_ref.ScaledBrownianGamma(3.9)),
    si_ref.VPTrigInterpolant(si_ref.ScaledBrownianGamma(4 * (1 - 1e-6) ** 2)),  # the largest peak accepted
    si_ref.EncoderDecoderInterpolant(),
    si_ref.EncoderDecoderInterpolant(si_ref.BSquaredGamma()),
    si_ref.OneSidedLinearInterpolant(),
    si_ref.OneSidedTrigInterpolant(),
    si_ref.MirrorInterpolant(si_ref.BrownianGamma()),
    si_ref.CustomInterpolant(
        lambda t: (1 - t) ** 2, lambda t: -2 * (1 - t), lambda t: t**3, lambda t: 3 * t**2,
        si_ref.SineSquaredGamma(),
    ),
]
IDS = [type(i).__name__ + "-" + type(i.gamma_schedule).__name__ for i in EXAMPLES]

COEFFICIENTS = ("alpha", "beta")
DERIVATIVES = {"alpha": "alpha_dot", "beta": "beta_dot"}
SUBNORMAL_FLOOR = 1e-300  # subnormal results carry only absolute precision 5e-324
interior_times = sis.times(exclude_min=True, exclude_max=True)


def batch(n, d, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal((n, d)) + 2.0, rng.standard_normal((n, d))


# --- boundary conditions -----------------------------------------------------------------

def expected_endpoint_coefficients(interpolant):
    """(α(0), β(0), α(1), β(1)) by kind."""
    return (0.0, 1.0, 0.0, 1.0) if interpolant.kind == "mirror" else (1.0, 0.0, 0.0, 1.0)


@given(sis.interpolants())
def test_coefficients_take_their_boundary_values_exactly(interpolant):
    a0, b0, a1, b1 = expected_endpoint_coefficients(interpolant)
    assert (interpolant.alpha(0.0), interpolant.beta(0.0)) == (a0, b0)
    assert (interpolant.alpha(1.0), interpolant.beta(1.0)) == (a1, b1)
    assert interpolant.gamma(0.0) == 0.0 and interpolant.gamma(1.0) == 0.0


@given(sis.interpolants(), st.integers(1, 5), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_interpolant_equals_the_endpoints_exactly(interpolant, n, d, seed):
    x0, x1, z = batch(n, d, seed)
    start = x1 if interpolant.kind == "mirror" else x0
    np.testing.assert_array_equal(interpolant.interpolant(0.0, x0, x1, z), start)
    np.testing.assert_array_equal(interpolant.interpolant(1.0, x0, x1, z), x1)
    np.testing.assert_array_equal(interpolant.interpolant(np.zeros(n), x0, x1, z), start)


# --- values and derivatives against the definitions ------------------------------------------

@given(sis.interpolants(), sis.times())
def test_coefficients_match_their_definitions(interpolant, t):
    for name, definition in zip(COEFFICIENTS, coefficient_definitions(interpolant)):
        expected = float(value(definition, t))
        np.testing.assert_allclose(getattr(interpolant, name)(t), expected, rtol=1e-13, atol=SUBNORMAL_FLOOR)


@given(sis.interpolants(), interior_times)
def test_coefficient_derivatives_match_derivatives_of_the_definitions(interpolant, t):
    # rounding gives ~1e-15 relative; any wrong factor or sign is O(1)
    for name, definition in zip(COEFFICIENTS, coefficient_definitions(interpolant)):
        expected = float(derivative(definition, t))
        np.testing.assert_allclose(getattr(interpolant, DERIVATIVES[name])(t), expected, rtol=1e-10, atol=1e-13)


EDGE_TIMES = [1e-12, 1.0 - 1e-12]


@pytest.mark.parametrize("interpolant", EXAMPLES, ids=IDS)
@pytest.mark.parametrize("t", EDGE_TIMES)
def test_coefficients_next_to_the_endpoints_keep_full_relative_precision(interpolant, t):
    """A naive cos(pi t / 2) loses 4 digits at 1 - t = 1e-12."""
    for name, definition in zip(COEFFICIENTS, coefficient_definitions(interpolant)):
        np.testing.assert_allclose(getattr(interpolant, name)(t), float(value(definition, t)), rtol=1e-14, atol=0)
        np.testing.assert_allclose(
            getattr(interpolant, DERIVATIVES[name])(t), float(derivative(definition, t)), rtol=1e-14, atol=0
        )


@given(sis.interpolants(families="vp-trig"), sis.time_arrays(st.integers(1, 20)))
def test_vp_trig_preserves_variance(interpolant, t):
    total = interpolant.alpha(t) ** 2 + interpolant.beta(t) ** 2 + interpolant.gamma(t) ** 2
    np.testing.assert_allclose(total, 1.0, rtol=1e-14)


@pytest.mark.parametrize("schedule", [si_ref.BrownianGamma(), si_ref.ScaledBrownianGamma(3.0)], ids=repr)
def test_vp_trig_derivatives_are_finite_at_the_endpoints_with_brownian_gamma(schedule):
    interpolant = si_ref.VPTrigInterpolant(schedule)
    ends = np.array([0.0, 1.0])
    a = schedule.scale
    # d/dt sqrt(1 - a t(1 - t)) = -a(1 - 2t) / (2 sqrt(...)) is -a/2 at 0 and +a/2 at 1
    np.testing.assert_allclose(interpolant.alpha_dot(ends), [-a / 2, -np.pi / 2], rtol=1e-15)
    np.testing.assert_allclose(interpolant.beta_dot(ends), [np.pi / 2, a / 2], rtol=1e-15)


def test_encoder_decoder_passes_through_pure_noise_at_one_half():
    interpolant = si_ref.EncoderDecoderInterpolant()
    x0, x1, z = batch(3, 2, 0)
    np.testing.assert_array_equal(interpolant.interpolant(0.5, x0, x1, z), z)  # γ(1/2) = sin²(π/2) = 1


# --- time derivatives of the process ---------------------------------------------------------

def fd_step(interpolant, t):
    """A step for which the 9-point stencil sees a smooth function of t."""
    h = 1e-3
    if isinstance(interpolant, si_ref.EncoderDecoderInterpolant):
        assume(abs(t - 0.5) > 5 * h)
    if isinstance(interpolant, si_ref.VPTrigInterpolant):
        # r = √(1 − γ²) varies on the scale √(1 − max γ) near its minimum; the
        # 400-digit derivative test covers peaks up to VP_MAX_GAMMA.
        assume(interpolant.gamma_schedule.max_gamma <= 0.99)
    return h


@given(sis.interpolants(), sis.times(min_t=0.05, max_t=0.95), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_interpolant_dot_is_the_time_derivative_of_the_interpolant(interpolant, t, d, seed):
    x0, x1, z = batch(3, d, seed)
    h = fd_step(interpolant, t)
    numeric = central_difference(lambda s: interpolant.interpolant(s, x0, x1, z), t, h)
    # truncation ~1e-13 at this distance from the endpoints, rounding ~3e-16 * 10 / 1e-3
    np.testing.assert_allclose(interpolant.interpolant_dot(t, x0, x1, z), numeric, rtol=1e-8, atol=1e-8)


@given(sis.interpolants(), sis.times(min_t=0.05, max_t=0.95), st.integers(0, 2**32 - 1))
def test_interpolant_partial_t_is_the_time_derivative_without_noise(interpolant, t, seed):
    x0, x1, _ = batch(4, 2, seed)
    h = fd_step(interpolant, t)
    zero = np.zeros_like(x0)
    numeric = central_difference(lambda s: interpolant.interpolant(s, x0, x1, zero), t, h)
    np.testing.assert_allclose(interpolant.interpolant_partial_t(t, x0, x1), numeric, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize(
    "t, named", [(0.0, r"\[0\.0\]"), (1.0, r"\[1\.0\]"), (np.array([0.5, 1.0]), r"\[1\.0\]")],
    ids=["t=0", "t=1", "t=[0.5,1]"],
)
def test_interpolant_dot_refuses_times_where_gamma_dot_is_infinite(t, named):
    interpolant = si_ref.LinearInterpolant(si_ref.BrownianGamma())
    x0, x1, z = batch(2, 3, 1)
    with pytest.raises(ValueError, match=r"interpolant_dot is undefined at t = " + named + r".*BrownianGamma"):
        interpolant.interpolant_dot(t, x0, x1, z)


def test_interpolant_dot_at_the_endpoints_is_finite_for_smooth_gamma():
    interpolant = si_ref.LinearInterpolant(si_ref.BSquaredGamma())
    x0, x1, z = batch(2, 3, 2)
    np.testing.assert_allclose(interpolant.interpolant_dot(0.0, x0, x1, z), x1 - x0 + z, rtol=1e-15)
    np.testing.assert_allclose(interpolant.interpolant_dot(1.0, x0, x1, z), x1 - x0 - z, rtol=1e-15)


# --- shapes, dtypes, purity, randomness ---------------------------------------------------------

@given(sis.interpolants(), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_row_i_uses_time_i_even_when_n_equals_d(interpolant, n, seed):
    x0, x1, z = batch(n, n, seed)
    t = np.linspace(0.1, 0.9, n)
    # NumPy's vectorised sin/cos may differ from its scalar path by an ulp or two.
    for method in ("interpolant", "interpolant_dot"):
        together = getattr(interpolant, method)(t, x0, x1, z)
        one_by_one = np.vstack([getattr(interpolant, method)(t[i], x0[i:i + 1], x1[i:i + 1], z[i:i + 1]) for i in range(n)])
        np.testing.assert_allclose(together, one_by_one, rtol=1e-14, atol=1e-300)
    together = interpolant.interpolant_partial_t(t, x0, x1)
    one_by_one = np.vstack([interpolant.interpolant_partial_t(t[i], x0[i:i + 1], x1[i:i + 1]) for i in range(n)])
    np.testing.assert_allclose(together, one_by_one, rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("interpolant", EXAMPLES, ids=IDS)
def test_results_are_float64_and_inputs_are_not_modified(interpolant):
    x0, x1, z = (a.astype(np.float32) for a in batch(4, 3, 3))
    t = np.array([0.2, 0.4, 0.6, 0.8], dtype=np.float32)
    copies = [a.copy() for a in (t, x0, x1, z)]
    results = [
        interpolant.interpolant(t, x0, x1, z),
        interpolant.interpolant_dot(t, x0, x1, z),
        interpolant.interpolant_partial_t(t, x0, x1),
        interpolant.alpha(t), interpolant.beta_dot(t), interpolant.gamma_gamma_dot(t),
    ]
    for result in results:
        assert result.dtype == np.float64
        result += 1.0  # results never alias the inputs
    for original, copy in zip((t, x0, x1, z), copies):
        np.testing.assert_array_equal(original, copy)


def test_mirror_accepts_no_x0_and_gamma_zero_interpolants_accept_no_z():
    x0, x1, z = batch(3, 2, 4)
    mirror = si_ref.MirrorInterpolant(si_ref.BrownianGamma())
    np.testing.assert_array_equal(mirror.interpolant(0.3, None, x1, z), mirror.interpolant(0.3, x0, x1, z))
    one_sided = si_ref.OneSidedTrigInterpolant()
    np.testing.assert_array_equal(one_sided.interpolant(0.3, x0, x1), one_sided.interpolant(0.3, x0, x1, z))
    np.testing.assert_array_equal(one_sided.interpolant_dot(0.3, x0, x1), one_sided.interpolant_partial_t(0.3, x0, x1))


@given(sis.interpolants(), st.integers(0, 2**32 - 1))
def test_same_seed_gives_bit_identical_samples(interpolant, seed):
    x0, x1, _ = batch(5, 2, 7)
    t = np.linspace(0.0, 1.0, 5)
    first = interpolant.sample(t, x0, x1, np.random.default_rng(seed))
    second = interpolant.sample(t, x0, x1, np.random.default_rng(seed))
    np.testing.assert_array_equal(first.x, second.x)
    np.testing.assert_array_equal(first.z, second.z)
    np.testing.assert_array_equal(first.z, np.random.default_rng(seed).standard_normal((5, 2)))
    np.testing.assert_array_equal(first.x, interpolant.interpolant(t, x0, x1, first.z))


@given(sis.interpolants(), sis.times(), st.integers(0, 2**32 - 1))
def test_antithetic_pair_is_symmetric_about_the_deterministic_part(interpolant, t, seed):
    x0, x1, _ = batch(4, 3, 8)
    pair = interpolant.sample_antithetic(t, x0, x1, np.random.default_rng(seed))
    np.testing.assert_array_equal(pair.z, np.random.default_rng(seed).standard_normal((4, 3)))
    np.testing.assert_allclose(pair.x_plus, interpolant.interpolant(t, x0, x1, pair.z), rtol=1e-15)
    np.testing.assert_allclose(pair.x_minus, interpolant.interpolant(t, x0, x1, -pair.z), rtol=1e-15)


def test_samples_have_the_exact_gaussian_moments():
    """x0 ~ N(0, I), x1 ~ N(m, S) independent: x_t ~ N(β m, α² I + β² S + γ² I)."""
    rng = np.random.default_rng(11)
    n, t = 200_000, 0.3
    target = si_ref.Gaussian(np.array([1.0, -2.0]), np.array([[2.0, 0.6], [0.6, 1.0]]))
    interpolant = si_ref.TrigInterpolant(si_ref.BrownianGamma())
    x = interpolant.sample(t, rng.standard_normal((n, 2)), target.sample(n, rng), rng).x
    a, b, g = interpolant.alpha(t), interpolant.beta(t), interpolant.gamma(t)
    cov = (a**2 + g**2) * np.eye(2) + b**2 * target.cov
    # five standard errors: sd(mean_i) = sqrt(cov_ii / n); sd(cov_ij) <= sqrt(2 / n) max cov_ii
    np.testing.assert_allclose(x.mean(axis=0), b * target.mean, atol=5 * np.sqrt(cov.max() / n))
    np.testing.assert_allclose(np.cov(x.T), cov, atol=5 * np.sqrt(2 / n) * cov.max())


def test_kind_of_every_family():
    kinds = {type(i).__name__: i.kind for i in EXAMPLES}
    assert kinds["OneSidedLinearInterpolant"] == kinds["OneSidedTrigInterpolant"] == "one-sided"
    assert kinds["MirrorInterpolant"] == "mirror"
    for name in ("LinearInterpolant", "TrigInterpolant", "VPTrigInterpolant", "EncoderDecoderInterpolant", "CustomInterpolant"):
        assert kinds[name] == "two-sided"
    one_sided_custom = si_ref.CustomInterpolant(
        lambda t: 1 - t, lambda t: -np.ones_like(t), lambda t: t, lambda t: np.ones_like(t), one_sided=True
    )
    assert one_sided_custom.kind == "one-sided"


def test_custom_interpolant_with_linear_closed_forms_reproduces_the_linear_family():
    custom = si_ref.CustomInterpolant(
        lambda t: 1 - t, lambda t: np.full_like(t, -1.0), lambda t: t, lambda t: np.ones_like(t),
        si_ref.BrownianGamma(),
    )
    linear = si_ref.LinearInterpolant(si_ref.BrownianGamma())
    x0, x1, z = batch(6, 2, 9)
    t = np.linspace(0.05, 0.95, 6)
    np.testing.assert_array_equal(custom.interpolant(t, x0, x1, z), linear.interpolant(t, x0, x1, z))
    np.testing.assert_array_equal(custom.interpolant_dot(t, x0, x1, z), linear.interpolant_dot(t, x0, x1, z))
