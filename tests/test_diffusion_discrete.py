"""Discrete diffusion schedules against independent oracles: mpmath at 50 digits, the papers' tables.

Every expected value is computed here another way: β tables and cumulative products in
mpmath from the papers' definitions (Ho et al. 2020; Nichol & Dhariwal 2021, eq. (17);
Lin et al. 2024, Algorithm 1 run literally; Karras et al. 2022, eq. (5)), the timestep
spacings from Lin et al. 2024, Table 2, and the timestep shift from the signal-to-noise
ratio it divides by s².
"""

import dataclasses
import doctest

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from si_ref.diffusion import discrete
from si_ref.diffusion.discrete import (
    BETA_SCHEDULES,
    DiscreteSchedule,
    edm_sigmas,
    rescale_zero_terminal_snr,
    shift_sigma,
    timesteps,
    unshift_sigma,
)

from reference import assert_raises_naming

mpmath.mp.dps = 50


def mp_cumulative(betas):
    """ᾱ_n = Π (1 − β_i) and 1 − ᾱ_n in mpmath, from the float64 β exactly as stored."""
    product, alphas_cumprod = mpmath.mpf(1), []
    for beta in betas:
        product *= 1 - mpmath.mpf(float(beta))
        alphas_cumprod.append(product)
    return alphas_cumprod


def as_float(values):
    return np.array([float(v) for v in values])


SCHEDULES = {
    "linear": lambda: DiscreteSchedule.linear(1000, 1e-4, 0.02),
    "scaled_linear": lambda: DiscreteSchedule.scaled_linear(1000, 0.00085, 0.012),
    "squaredcos_cap_v2": lambda: DiscreteSchedule.squaredcos_cap_v2(1000),
    "rescaled-scaled_linear": lambda: rescale_zero_terminal_snr(DiscreteSchedule.scaled_linear(1000)),
}


# --- the β tables --------------------------------------------------------------------------------

def test_linear_betas_are_ho_et_al_equally_spaced_table_with_exact_ends():
    s = DiscreteSchedule.linear(1000, 1e-4, 0.02)
    expected = [mpmath.mpf("1e-4") + n * (mpmath.mpf("0.02") - mpmath.mpf("1e-4")) / 999 for n in range(1000)]
    np.testing.assert_allclose(s.betas, as_float(expected), rtol=1e-15, atol=0)
    assert s.betas[0] == 1e-4 and s.betas[-1] == 0.02 and s.num_train_timesteps == 1000


def test_scaled_linear_betas_have_equally_spaced_square_roots():
    s = DiscreteSchedule.scaled_linear(1000, 0.00085, 0.012)
    lo, hi = mpmath.sqrt(mpmath.mpf("0.00085")), mpmath.sqrt(mpmath.mpf("0.012"))
    expected = [(lo + n * (hi - lo) / 999) ** 2 for n in range(1000)]
    np.testing.assert_allclose(s.betas, as_float(expected), rtol=2e-15, atol=0)


def test_squaredcos_cap_v2_is_nichol_dhariwal_eq_17_with_the_cap():
    T, offset = 1000, mpmath.mpf("0.008")

    def f(t):   # Nichol & Dhariwal 2021, eq. (17), written with the cosine as in the paper
        return mpmath.cos((t + offset) / (1 + offset) * mpmath.pi / 2) ** 2

    expected = [min(1 - f(mpmath.mpf(n + 1) / T) / f(mpmath.mpf(n) / T), mpmath.mpf("0.999")) for n in range(T)]
    s = DiscreteSchedule.squaredcos_cap_v2(T)
    np.testing.assert_allclose(s.betas, as_float(expected), rtol=5e-14, atol=0)
    assert s.betas[-1] == 0.999
    # wherever no β is capped, ᾱ_n is the paper's f((n + 1)/T) / f(0)
    uncapped = T - 1
    abar = as_float([f(mpmath.mpf(n + 1) / T) / f(0) for n in range(uncapped)])
    np.testing.assert_allclose(s.alphas_cumprod[:uncapped], abar, rtol=1e-12, atol=0)


def test_squaredcos_with_max_beta_one_ends_at_exactly_zero_signal():
    s = DiscreteSchedule.squaredcos_cap_v2(100, max_beta=1.0)
    assert s.betas[-1] == 1.0 and s.alphas_cumprod[-1] == 0.0 and s.a[-1] == 0.0
    assert s.sigma_ve[-1] == np.inf and s.log_snr[-1] == -np.inf and s.sigma[-1] == 1.0


@pytest.mark.parametrize("name", BETA_SCHEDULES)
def test_from_name_builds_the_class_method_of_that_name(name):
    np.testing.assert_array_equal(DiscreteSchedule.from_name(name, 50).betas, getattr(DiscreteSchedule, name)(50).betas)


# --- derived levels ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SCHEDULES)
def test_levels_match_mpmath_cumulative_products(name):
    s = SCHEDULES[name]()
    alphas_cumprod = mp_cumulative(s.betas)
    finite = slice(None) if s.alphas_cumprod[-1] > 0 else slice(0, -1)   # the zero-SNR end is checked exactly below
    abar = alphas_cumprod[finite]
    np.testing.assert_allclose(s.alphas_cumprod[finite], as_float(abar), rtol=3e-14, atol=0)
    np.testing.assert_allclose(s.one_minus_alphas_cumprod[finite], as_float([1 - v for v in abar]), rtol=4e-15, atol=0)
    np.testing.assert_allclose(s.a[finite], as_float([mpmath.sqrt(v) for v in abar]), rtol=3e-14, atol=0)
    np.testing.assert_allclose(s.sigma[finite], as_float([mpmath.sqrt(1 - v) for v in abar]), rtol=3e-14, atol=0)
    np.testing.assert_allclose(s.sigma_ve[finite], as_float([mpmath.sqrt((1 - v) / v) for v in abar]),
                               rtol=3e-14, atol=0)
    np.testing.assert_allclose(s.log_snr[finite], as_float([mpmath.log(v / (1 - v)) for v in abar]),
                               rtol=1e-12, atol=2e-13)
    np.testing.assert_allclose(s.log_alphas_cumprod[finite], as_float([mpmath.log(v) for v in abar]),
                               rtol=3e-14, atol=1e-16)


def test_small_one_minus_alphas_cumprod_keep_their_digits():
    # 1 − ᾱ_0 = β_0: log space keeps it to an ulp, 1 − cumprod(1 − β) loses about 1e-13 of it
    s = DiscreteSchedule.scaled_linear(1000, 0.00085, 0.012)
    exact = as_float([1 - v for v in mp_cumulative(s.betas[:3])])
    np.testing.assert_allclose(s.one_minus_alphas_cumprod[:3], exact, rtol=4e-16, atol=0)
    naive = 1.0 - np.cumprod(1.0 - s.betas[:3])
    assert np.max(np.abs(naive / exact - 1)) > 1e-14   # the check above would fail for the naive form


# --- Lin et al. 2024, Algorithm 1 --------------------------------------------------------------------

def mp_algorithm_1(betas):
    """Lin et al. 2024, Algorithm 1, line by line in mpmath."""
    roots = [mpmath.sqrt(v) for v in mp_cumulative(betas)]
    first, last = roots[0], roots[-1]
    roots = [(r - last) * first / (first - last) for r in roots]
    abar = [r**2 for r in roots]
    alphas = [abar[0]] + [abar[n] / abar[n - 1] for n in range(1, len(abar))]
    return [1 - a for a in alphas], abar


RESCALED = {
    "scaled_linear": lambda: DiscreteSchedule.scaled_linear(1000),
    "linear": lambda: DiscreteSchedule.linear(1000),
    "squaredcos_cap_v2": lambda: DiscreteSchedule.squaredcos_cap_v2(200),
}


@pytest.mark.parametrize("make", RESCALED.values(), ids=RESCALED.keys())
def test_rescale_zero_terminal_snr_is_lin_et_al_algorithm_1(make):
    original = make()
    before = original.betas.copy()
    rescaled = rescale_zero_terminal_snr(original)
    betas, abar = mp_algorithm_1(original.betas)
    np.testing.assert_allclose(rescaled.betas, as_float(betas), rtol=5e-14, atol=0)
    np.testing.assert_allclose(rescaled.alphas_cumprod[:-1], as_float(abar[:-1]), rtol=5e-13, atol=0)   # 1 − β′ near β′ = 1 carries ε/(1 − β′)
    assert rescaled.alphas_cumprod[-1] == 0.0 and rescaled.betas[-1] == 1.0
    assert rescaled.betas[0] == original.betas[0]                          # the first level is kept
    assert rescaled.sigma_ve[-1] == np.inf and rescaled.log_snr[-1] == -np.inf
    np.testing.assert_array_equal(original.betas, before)                 # the input is unchanged
    # √ᾱ' is an affine function of √ᾱ (Algorithm 1 shifts and scales)
    slope, intercept = np.polyfit(original.a, rescaled.a, 1)
    np.testing.assert_allclose(rescaled.a, slope * original.a + intercept, rtol=0, atol=1e-12)


def test_rescaling_a_zero_terminal_snr_schedule_changes_nothing():
    once = rescale_zero_terminal_snr(DiscreteSchedule.linear(500))
    twice = rescale_zero_terminal_snr(once)
    np.testing.assert_allclose(twice.betas, once.betas, rtol=1e-14, atol=0)


# --- immutability and copies ---------------------------------------------------------------------------

def test_schedule_is_frozen_and_its_arrays_read_only():
    betas = np.linspace(1e-4, 0.02, 10)
    s = DiscreteSchedule(betas)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.betas = betas
    for name in ("betas", "alphas_cumprod", "one_minus_alphas_cumprod", "a", "sigma", "sigma_ve", "log_snr",
                 "log_alphas_cumprod"):
        with pytest.raises(ValueError):
            getattr(s, name)[0] = 0.5
    betas[0] = 0.5                                  # the caller's array is copied, not shared
    assert s.betas[0] == 1e-4


def test_integer_and_float32_tables_become_float64():
    s = DiscreteSchedule(np.array([0.1, 0.2], dtype=np.float32))
    assert s.betas.dtype == s.alphas_cumprod.dtype == np.float64
    assert DiscreteSchedule([0.5, 1]).alphas_cumprod[-1] == 0.0


# --- timesteps ------------------------------------------------------------------------------------------

LIN_TABLE_2 = {   # Lin et al. 2024, Table 2 (T = 1000, S = 10), 1-based there; 0-based here (minus 1)
    "linspace": [1000, 889, 778, 667, 556, 445, 334, 223, 112, 1],
    "leading": [901, 801, 701, 601, 501, 401, 301, 201, 101, 1],
    "trailing": [1000, 900, 800, 700, 600, 500, 400, 300, 200, 100],
}


@pytest.mark.parametrize("spacing", LIN_TABLE_2)
def test_timesteps_are_lin_et_al_table_2(spacing):
    out = timesteps(DiscreteSchedule.linear(1000), 10, spacing)
    np.testing.assert_array_equal(out, np.array(LIN_TABLE_2[spacing]) - 1)
    assert out.dtype == np.int64


@given(total=st.integers(1, 1200), data=st.data(), spacing=st.sampled_from(["leading", "trailing", "linspace"]))
def test_timesteps_are_n_strictly_decreasing_levels_of_the_schedule(total, data, spacing):
    steps = data.draw(st.integers(1, total))
    out = timesteps(DiscreteSchedule(np.full(total, 1e-3)), steps, spacing)
    assert out.shape == (steps,) and out.dtype == np.int64
    assert (np.diff(out) < 0).all() and out.min() >= 0 and out.max() <= total - 1
    if spacing == "trailing" or (spacing == "linspace" and steps > 1):
        assert out[0] == total - 1                      # both start at the last (noisiest) level
    if spacing != "trailing":
        assert out[-1] == 0                             # both end at the first level (so N = 1 gives [0])
    if spacing == "leading":
        np.testing.assert_array_equal(np.diff(out), -(total // steps))


def test_leading_steps_offset_shifts_every_timestep():
    s = DiscreteSchedule.linear(1000)
    np.testing.assert_array_equal(timesteps(s, 50, "leading", steps_offset=1), timesteps(s, 50, "leading") + 1)


# --- EDM σ grid -------------------------------------------------------------------------------------------

def mp_edm(n, sigma_min, sigma_max, rho):
    lo, hi, rho = mpmath.mpf(sigma_min), mpmath.mpf(sigma_max), mpmath.mpf(rho)
    return [(hi ** (1 / rho) + mpmath.mpf(i) / (n - 1) * (lo ** (1 / rho) - hi ** (1 / rho))) ** rho for i in range(n)]


def test_edm_sigmas_for_n_18_match_karras_eq_5_at_50_digits():
    sigmas = edm_sigmas(18)
    assert sigmas.shape == (19,) and sigmas[-1] == 0.0
    assert sigmas[0] == 80.0 and sigmas[17] == 0.002
    np.testing.assert_allclose(sigmas[:-1], as_float(mp_edm(18, 0.002, 80.0, 7.0)), rtol=1e-12, atol=0)


@given(n=st.integers(2, 300), low=st.floats(1e-4, 1.0), ratio=st.floats(1.01, 1e5), rho=st.floats(0.5, 12.0))
def test_edm_sigmas_decrease_strictly_from_sigma_max_to_sigma_min(n, low, ratio, rho):
    high = low * ratio
    sigmas = edm_sigmas(n, low, high, rho, append_zero=False)
    assert sigmas.shape == (n,) and sigmas[0] == high and sigmas[-1] == low
    assert (np.diff(sigmas) < 0).all()
    middle = n // 2
    np.testing.assert_allclose(sigmas[middle], float(mp_edm(n, low, high, rho)[middle]), rtol=1e-12)


# --- timestep shift -----------------------------------------------------------------------------------------

@given(sigma=st.floats(1e-6, 1 - 1e-6), shift=st.floats(0.05, 20.0))
def test_shift_divides_the_signal_to_noise_ratio_by_shift_squared(sigma, shift):
    # x = (1 − σ) x_data + σ ε has SNR ((1 − σ)/σ)²; Esser et al. 2024, Sec. 5.3.2: SNR' = SNR / s²,
    # i.e. (1 − σ')/σ' = (1 − σ)/(s σ): solved for σ' at 50 digits
    with mpmath.workdps(50):
        ratio = (1 - mpmath.mpf(sigma)) / (mpmath.mpf(shift) * mpmath.mpf(sigma))
        expected = float(1 / (1 + ratio))
    shifted = shift_sigma(sigma, shift)
    np.testing.assert_allclose(shifted, expected, rtol=2e-15, atol=0)
    np.testing.assert_allclose(unshift_sigma(shifted, shift), sigma, rtol=1e-14, atol=1e-16)


def test_shift_fixes_the_ends_and_is_the_identity_for_shift_one():
    grid = np.linspace(0, 1, 11)
    out = shift_sigma(grid, 3.0)
    assert out[0] == 0.0 and out[-1] == 1.0 and out.shape == (11,)
    assert shift_sigma(0.5, 3.0) == 0.75                       # 3·½ / (1 + 2·½)
    np.testing.assert_array_equal(shift_sigma(grid, 1.0), grid)
    assert isinstance(shift_sigma(0.5, 3.0), np.float64)
    assert (np.diff(out) > 0).all()


def test_docstring_examples_run():
    result = doctest.testmod(discrete)
    assert result.attempted > 0 and result.failed == 0, result


# --- bad inputs ------------------------------------------------------------------------------------------------

S = DiscreteSchedule.linear(100)
BAD = [
    ("betas-2d", lambda: DiscreteSchedule(np.full((2, 2), 0.1)), ValueError, ["betas must be a non-empty 1-d", "(2, 2)"]),
    ("betas-empty", lambda: DiscreteSchedule([]), ValueError, ["betas must be a non-empty 1-d", "(0,)"]),
    ("betas-nan", lambda: DiscreteSchedule([0.1, np.nan]), ValueError, ["betas must be finite", "betas[1]", "nan"]),
    ("betas-zero", lambda: DiscreteSchedule([0.0, 0.1]), ValueError, ["betas must lie in (0, 1)", "betas[0] = 0.0"]),
    ("betas-one-inside", lambda: DiscreteSchedule([0.1, 1.0, 0.1]), ValueError, ["betas[1] = 1.0", "last index only"]),
    ("betas-above-one-last", lambda: DiscreteSchedule([0.1, 1.5]), ValueError, ["betas[1] = 1.5", "(0, 1]"]),
    ("betas-complex", lambda: DiscreteSchedule(np.array([0.1 + 0j])), TypeError, ["betas must be real", "complex"]),
    ("linear-T-zero", lambda: DiscreteSchedule.linear(0), ValueError, ["num_train_timesteps must be a positive integer"]),
    ("linear-T-float", lambda: DiscreteSchedule.linear(10.0), TypeError, ["num_train_timesteps must be a positive"]),
    ("linear-beta-end", lambda: DiscreteSchedule.linear(10, 1e-4, 2.0), ValueError, ["beta_end must lie in (0, 1]", "2.0"]),
    ("scaled-beta-start", lambda: DiscreteSchedule.scaled_linear(10, -1.0), ValueError, ["beta_start must lie in", "-1.0"]),
    ("cos-max-beta", lambda: DiscreteSchedule.squaredcos_cap_v2(10, 1.5), ValueError, ["max_beta must lie in (0, 1]"]),
    ("from-name", lambda: DiscreteSchedule.from_name("cosine"), ValueError, ["beta_schedule must be one of", "'cosine'"]),
    ("rescale-type", lambda: rescale_zero_terminal_snr(np.ones(3)), TypeError, ["schedule must be a DiscreteSchedule"]),
    ("rescale-one-level", lambda: rescale_zero_terminal_snr(DiscreteSchedule([0.1])), ValueError,
     ["at least 2 levels", "T = 1"]),
    ("timesteps-zero", lambda: timesteps(S, 0), ValueError, ["num_inference_steps must be a positive integer"]),
    ("timesteps-too-many", lambda: timesteps(S, 101), ValueError,
     ["num_inference_steps must be at most num_train_timesteps = 100", "101"]),
    ("timesteps-spacing", lambda: timesteps(S, 10, "uniform"), ValueError, ["spacing must be one of", "'uniform'"]),
    ("timesteps-offset-negative", lambda: timesteps(S, 10, steps_offset=-1), ValueError,
     ["steps_offset must be a non-negative integer"]),
    ("timesteps-offset-trailing", lambda: timesteps(S, 10, "trailing", steps_offset=1), ValueError,
     ["steps_offset applies to spacing='leading' only", "'trailing'"]),
    ("timesteps-offset-too-large", lambda: timesteps(S, 10, steps_offset=10), ValueError,
     ["steps_offset=10 moves the first timestep to 100", "steps_offset <= 9"]),
    ("timesteps-schedule", lambda: timesteps(1000, 10), TypeError, ["schedule must be a DiscreteSchedule", "int"]),
    ("edm-n-one", lambda: edm_sigmas(1), ValueError, ["n must be an integer >= 2"]),
    ("edm-order", lambda: edm_sigmas(10, 80.0, 0.002), ValueError,
     ["sigma_min must be smaller than sigma_max", "sigma_min=80.0"]),
    ("edm-rho", lambda: edm_sigmas(10, rho=0.0), ValueError, ["rho must be a finite number > 0"]),
    ("edm-append", lambda: edm_sigmas(10, append_zero=1), TypeError, ["append_zero must be True or False"]),
    ("shift-negative", lambda: shift_sigma(0.5, -1.0), ValueError, ["shift must be a finite number > 0"]),
    ("shift-array", lambda: shift_sigma(0.5, np.ones(2)), TypeError, ["shift must be a positive real number"]),
    ("shift-sigma-range", lambda: shift_sigma(np.array([0.5, 1.5]), 3.0), ValueError,
     ["sigma must be finite numbers in [0, 1]", "1.5 at index 1"]),
    ("unshift-nan", lambda: unshift_sigma(np.nan, 3.0), ValueError, ["sigma_shifted must be finite", "nan"]),
    ("shift-string", lambda: shift_sigma("0.5", 3.0), TypeError, ["sigma must be real numbers"]),
    ("unshift-bool", lambda: unshift_sigma(True, 3.0), TypeError, ["sigma_shifted must be real numbers in [0, 1]", "True"]),
    ("unshift-negative", lambda: unshift_sigma(-0.5, 3.0), ValueError,
     ["sigma_shifted must be finite numbers in [0, 1]", "-0.5", "(1 - sigma) x_data + sigma eps"]),
]


@pytest.mark.parametrize("call, exception, fragments", [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_inputs_raise_naming_the_argument(call, exception, fragments):
    assert_raises_naming(call, exception, fragments)


@settings(max_examples=40)
@given(st.integers(1, 2000))
def test_squaredcos_with_max_beta_one_ends_at_zero_terminal_snr(count):
    """β_(T−1) = 1 − f(1)/f((T−1)/T) = 1 exactly, whatever the rounding of the angles."""
    schedule = DiscreteSchedule.squaredcos_cap_v2(count, max_beta=1.0)
    assert schedule.betas[-1] == 1.0 and schedule.alphas_cumprod[-1] == 0.0


def test_rescale_refuses_a_schedule_that_loses_no_signal():
    with pytest.raises(ValueError, match="schedule must lose signal"):
        rescale_zero_terminal_snr(DiscreteSchedule(np.full(3, 1e-20)))
