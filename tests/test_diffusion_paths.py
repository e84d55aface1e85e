"""Diffusion paths against the papers' definitions, evaluated in 60-digit mpmath.

The oracle writes each family from its paper, in the naive form (ᾱ = exp(−∫β), the
cosine ratio, σ_min (σ_max/σ_min)^τ, σ_max τ, the shifted rectified-flow σ, Lin et al.'s
rescaling of √ᾱ), and differentiates with ``mpmath.diff``; no closed-form derivative and
no rearrangement of the library's is used. Then: exact endpoint values, the
variance-preserving identity, the published SDE coefficients, the log-SNR inverse, the
library's own derivatives against float64 finite differences of its own values, and
the path as si_ref's interpolant.
"""

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from si_ref.diffusion import (
    DIFFUSION_PATHS,
    CosinePath,
    DiffusionInterpolant,
    EDMPath,
    RectifiedFlowPath,
    VEPath,
    VPLinearPath,
    ZeroTerminalSNRPath,
)

from reference import assert_raises_naming, central_difference

#: Working digits: 60 plus twice the decades of the distance to the nearer end (the naive
#: 1 − ᾱ cancels there, and the derivative step is 1e-25 of that distance).
def digits(tau):
    distance = min(tau, 1.0 - tau)
    return 60 + (int(-2 * math.log10(distance)) if distance > 0 else 0)


#: At τ = 0 (σ) and τ = 1 (a), below this an mpmath value counts as the exact 0 of the
#: definition (the oracle's cos(π/2) is ~1e-61, not 0).
MP_ZERO = mp.mpf("1e-40")

PATHS = {
    "vp-linear": VPLinearPath(),
    "vp-linear-0.5-8": VPLinearPath(0.5, 8.0),
    "cosine": CosinePath(),
    "cosine-s0.02": CosinePath(0.02),
    "ve": VEPath(),
    "ve-0.002-80": VEPath(0.002, 80.0),
    "edm": EDMPath(),
    "edm-sigma-max-2": EDMPath(2.0),
    "rectified-flow": RectifiedFlowPath(),
    "rectified-flow-shift-3": RectifiedFlowPath(3.0),
    "rectified-flow-shift-0.3": RectifiedFlowPath(0.3),
    "zero-terminal-snr-vp": ZeroTerminalSNRPath(),
    "zero-terminal-snr-cosine": ZeroTerminalSNRPath(CosinePath()),
}
TAUS = [0.0, 1e-12, 1e-6, 0.3, 0.5, 0.999, 1 - 1e-12, 1.0]
QUANTITIES = ("a", "a_dot", "sigma", "sigma_dot", "sigma_sigma_dot", "log_snr", "drift_coefficient",
              "diffusion_squared")
RTOL = 1e-13

#: ZeroTerminalSNRPath needs a − a(1) near τ = 1; the VP path gives it as a(1) expm1(...) (no cancellation),
#: so the tolerances above hold at τ = 1 − 1e-12 too.

# --- the oracle ----------------------------------------------------------------------------------

def definition(path):
    """(a, σ²) as mpmath functions of τ, from the papers' definitions."""
    if isinstance(path, VPLinearPath):              # Song et al. 2021, eq. (33): mean e^{−¼τ²(β_max−β_min) − ½τβ_min}
        b0, b1 = mp.mpf(path.beta_min), mp.mpf(path.beta_max)
        a = lambda t: mp.exp(-t**2 * (b1 - b0) / 4 - t * b0 / 2)
        return a, (lambda t: 1 - a(t) ** 2)     # variance 1 − e^{−½τ²(β_max−β_min) − τβ_min}
    if isinstance(path, CosinePath):                # Nichol & Dhariwal 2021, eq. (17): ᾱ = f(τ)/f(0)
        s = mp.mpf(path.s)
        f_root = lambda t: mp.cos((t + s) / (1 + s) * mp.pi / 2)    # √f, the positive root on [0, 1]
        a = lambda t: f_root(t) / f_root(0)
        return a, (lambda t: 1 - a(t) ** 2)
    if isinstance(path, VEPath):                    # Song et al. 2021, eq. (31): geometric σ
        lo, hi = mp.mpf(path.sigma_min), mp.mpf(path.sigma_max)
        return (lambda t: mp.mpf(1)), (lambda t: (lo * (hi / lo) ** t) ** 2)
    if isinstance(path, EDMPath):                   # Karras et al. 2022, Table 1: σ(t) = t, s(t) = 1
        hi = mp.mpf(path.sigma_max)
        return (lambda t: mp.mpf(1)), (lambda t: (hi * t) ** 2)
    if isinstance(path, RectifiedFlowPath):         # Esser et al. 2024, Sec. 5.3.2: shifted σ, a = 1 − σ
        k = mp.mpf(path.shift)
        sigma = lambda t: k * t / (1 + (k - 1) * t)
        return (lambda t: 1 - sigma(t)), (lambda t: sigma(t) ** 2)
    if isinstance(path, ZeroTerminalSNRPath):       # Lin et al. 2024, Algorithm 1, on √ᾱ
        old, _ = definition(path.path)

        def a(t):
            first, last = old(mp.mpf(0)), old(mp.mpf(1))
            return (old(t) - last) * first / (first - last)
        return a, (lambda t: 1 - a(t) ** 2)
    raise NotImplementedError(type(path))


def mp_derivative(f, tau, order=1):
    """d^order f/dτ at the float τ; the definitions are analytic across 0 and 1, so a central step is fine."""
    t = mp.mpf(tau)
    h = mp.mpf("1e-25") * (min(t, 1 - t) if 0 < tau < 1 else 1)
    return mp.diff(f, t, order, h=h)


def oracle(path, tau):
    """Every quantity at τ as a float (NaN where the library must raise: f, g² at a = 0)."""
    a_def, s2_def = definition(path)
    with mp.workdps(digits(tau)):
        t = mp.mpf(tau)
        a, s2, ds2 = a_def(t), s2_def(t), mp_derivative(s2_def, tau)
        a_zero, s_zero = tau == 1.0 and abs(a) < MP_ZERO, tau == 0.0 and abs(s2) < MP_ZERO**2
        if not s_zero:
            sigma_dot = mp_derivative(lambda u: mp.sqrt(s2_def(u)), tau)
        elif ds2 > MP_ZERO:
            sigma_dot = mp.inf                      # σ grows like √τ
        else:
            sigma_dot = mp.sqrt(mp_derivative(s2_def, tau, 2) / 2)   # σ grows linearly: σ̇ = √(½ (σ²)'')
        log_snr = mp.inf if s_zero else (-mp.inf if a_zero else mp.log(a**2 / s2))
        f = mp.nan if a_zero else mp_derivative(lambda u: mp.log(a_def(u)), tau)
        g2 = mp.nan if a_zero else ds2 - 2 * f * s2
        values = dict(a=0 if a_zero else a, a_dot=mp_derivative(a_def, tau), sigma=0 if s_zero else mp.sqrt(s2),
                      sigma_dot=sigma_dot, sigma_sigma_dot=ds2 / 2, log_snr=log_snr, drift_coefficient=f,
                      diffusion_squared=g2)
        return {name: float(value) for name, value in values.items()}


def library(path, tau):
    return {name: float(getattr(path, name)(tau)) for name in QUANTITIES
            if not (name in ("drift_coefficient", "diffusion_squared") and path.a(tau) == 0.0)}


def path_tau_params():
    params = []
    for name, path in PATHS.items():
        for tau in TAUS:
            params.append(pytest.param(path, tau, id=f"{name}-tau={tau!r}"))
    return params


# --- values and derivatives against the definitions ----------------------------------------------

@pytest.mark.parametrize("path, tau", path_tau_params())
def test_every_quantity_matches_the_papers_definition_in_mpmath(path, tau):
    expected, got = oracle(path, tau), library(path, tau)
    for name, value in got.items():
        want = expected[name]
        if math.isinf(want):
            assert value == want, (name, value, want)
            continue
        atol = 1e-40
        if name == "log_snr":     # λ = 2 log a − 2 log σ: rounding of each log, relative to their size
            atol = 4 * np.finfo(float).eps * (abs(2 * math.log(float(path.a(tau)))) + abs(2 * math.log(float(path.sigma(tau)))))
        np.testing.assert_allclose(value, want, rtol=RTOL, atol=atol, err_msg=name)


@given(st.sampled_from(["vp-linear", "cosine", "ve", "edm", "rectified-flow", "zero-terminal-snr-cosine",
                        "zero-terminal-snr-vp"]),
       st.floats(0.0, 5.0), st.floats(0.1, 30.0), st.one_of(st.just(0.0), st.floats(1e-300, 1.0)))
def test_quantities_match_the_definitions_for_drawn_parameters(family, p, q, tau):
    path = {
        "vp-linear": lambda: VPLinearPath(0.01 + p / 5.0, 0.01 + p / 5.0 + q),     # β_min = 0, s = 0: below
        "cosine": lambda: CosinePath(0.001 + p / 50.0),
        "ve": lambda: VEPath(0.001 + p / 10.0, 0.001 + p / 10.0 + q),
        "edm": lambda: EDMPath(q),
        "rectified-flow": lambda: RectifiedFlowPath(0.1 + p),
        "zero-terminal-snr-cosine": lambda: ZeroTerminalSNRPath(CosinePath(0.001 + p / 50.0)),
        "zero-terminal-snr-vp": lambda: ZeroTerminalSNRPath(VPLinearPath(0.01 + p / 5.0, 0.01 + p / 5.0 + q)),
    }[family]()
    expected, got = oracle(path, tau), library(path, tau)
    for name, value in got.items():
        want = expected[name]
        if math.isinf(want):
            assert value == want, (name, value, want)
        elif name == "log_snr":
            scale = abs(2 * math.log(float(path.a(tau)))) + abs(2 * math.log(float(path.sigma(tau))))
            np.testing.assert_allclose(value, want, rtol=1e-12, atol=4 * np.finfo(float).eps * scale, err_msg=name)
        else:
            np.testing.assert_allclose(value, want, rtol=1e-12, atol=1e-40, err_msg=name)


LINEAR_START = {
    "edm": EDMPath(),
    "rectified-flow": RectifiedFlowPath(),
    "rectified-flow-shift-3": RectifiedFlowPath(3.0),
    "vp-linear-beta-min-0": VPLinearPath(0.0, 20.0),
    "cosine-s-0": CosinePath(0.0),
}


@pytest.mark.parametrize("path", LINEAR_START.values(), ids=LINEAR_START.keys())
def test_sigma_dot_at_zero_is_finite_where_sigma_grows_linearly(path):
    """σ(0) = 0 with σσ̇(0) = 0: σ̇(0) = lim σ(h)/h, finite (not the +inf of the √τ paths)."""
    expected = oracle(path, 0.0)["sigma_dot"]
    assert math.isfinite(expected)
    np.testing.assert_allclose(float(path.sigma(1e-9)) / 1e-9, expected, rtol=1e-7)   # the slope, from σ alone
    np.testing.assert_allclose(float(path.sigma_dot(0.0)), expected, rtol=RTOL)


# --- exact values at the ends, no NaN anywhere ---------------------------------------------------

SQRT_START = ("vp-linear", "vp-linear-0.5-8", "cosine", "cosine-s0.02", "zero-terminal-snr-vp", "zero-terminal-snr-cosine")
SIGMA_ZERO_AT_START = SQRT_START + ("edm", "edm-sigma-max-2", "rectified-flow", "rectified-flow-shift-3",
                                    "rectified-flow-shift-0.3")
A_ZERO_AT_END = ("cosine", "cosine-s0.02", "rectified-flow", "rectified-flow-shift-3", "rectified-flow-shift-0.3",
                 "zero-terminal-snr-vp", "zero-terminal-snr-cosine")


@pytest.mark.parametrize("name", PATHS)
def test_exact_endpoint_values(name):
    path = PATHS[name]
    assert path.a(0.0) == 1.0                                       # every family starts at the data
    if name in SIGMA_ZERO_AT_START:
        assert path.sigma(0.0) == 0.0 and path.log_snr(0.0) == np.inf and path.tau_of_log_snr(np.inf) == 0.0
    else:
        assert path.sigma(0.0) == path.sigma_min                    # VE carries σ_min at τ = 0
    if name in SQRT_START:
        assert path.sigma_dot(0.0) == np.inf                         # σ ~ √τ
        assert np.isfinite(path.sigma_sigma_dot(0.0)) and path.sigma_sigma_dot(0.0) > 0.0
    else:
        assert np.isfinite(path.sigma_dot(0.0))
    if name in A_ZERO_AT_END:
        assert path.a(1.0) == 0.0 and path.log_snr(1.0) == -np.inf and path.tau_of_log_snr(-np.inf) == 1.0
        np.testing.assert_allclose(path.sigma(1.0), 1.0, rtol=2.3e-16)
    else:
        assert path.a(1.0) > 0.0 and np.isfinite(path.log_snr(1.0))
    if isinstance(path, (VEPath, EDMPath)):
        grid = np.linspace(0.0, 1.0, 11)
        np.testing.assert_array_equal(path.a(grid), 1.0)
        np.testing.assert_array_equal(path.a_dot(grid), 0.0)
        np.testing.assert_array_equal(path.drift_coefficient(grid), 0.0)


@given(st.floats(0.0, 0.5))
def test_cosine_a_is_exactly_one_at_tau_zero_for_every_offset(s):
    """cos θ/cos θ0 at θ = θ0 rounded to 1 − 2⁻⁵³ for 13% of the offsets s (e.g. 0.0083), so
    ZeroTerminalSNRPath(CosinePath(s)) refused them (fixed: the normaliser is sin θ' = cos θ0)."""
    path = CosinePath(s)
    assert path.a(0.0) == 1.0 and path.sigma(0.0) == 0.0
    assert ZeroTerminalSNRPath(path).a(0.0) == 1.0


DENSE = np.unique(np.concatenate([np.linspace(0.0, 1.0, 2001), np.geomspace(1e-300, 1e-2, 300),
                                  1.0 - np.geomspace(1e-16, 1e-2, 150)]))


@pytest.mark.parametrize("name", PATHS)
def test_no_nan_on_the_closed_interval_and_f_g2_raise_only_where_a_is_zero(name):
    path = PATHS[name]
    values = {q: getattr(path, q)(DENSE) for q in ("a", "a_dot", "sigma", "sigma_dot", "sigma_sigma_dot", "log_snr")}
    for q, v in values.items():
        assert v.shape == DENSE.shape and v.dtype == np.float64, q
        assert not np.isnan(v).any(), (q, DENSE[np.isnan(v)][:3])
    for q in ("a", "a_dot", "sigma", "sigma_sigma_dot"):
        assert np.isfinite(values[q]).all(), q
    assert (values["a"] >= 0).all() and (values["sigma"] >= 0).all() and (values["sigma_sigma_dot"] >= 0).all()
    inside = DENSE[values["a"] > 0.0]
    for q in ("drift_coefficient", "diffusion_squared"):
        v = getattr(path, q)(inside)
        assert np.isfinite(v).all(), q
    assert (path.diffusion_squared(inside) >= 0).all()
    if name in A_ZERO_AT_END:
        for q in ("drift_coefficient", "diffusion_squared"):
            assert_raises_naming(lambda: getattr(path, q)(np.array([0.5, 1.0])), ValueError,
                                 ["infinite at tau = [1.0]", "a(tau) = 0"])


@pytest.mark.parametrize("name", PATHS)
def test_log_snr_decreases_strictly(name):
    """tau_of_log_snr relies on it (its docstring)."""
    lam = PATHS[name].log_snr(np.linspace(0.0, 1.0, 4001))
    assert (np.diff(lam) < 0).all()


@pytest.mark.parametrize("name", PATHS)
def test_variance_preserving_identity(name):
    path = PATHS[name]
    a, sigma = path.a(DENSE), path.sigma(DENSE)
    if path.variance_preserving:    # a² and σ² each carry ~1.5 ulps: 3 eps; the rescaled VP path forms
        # a = a(1) expm1(...)/(1 − a(1)) and σ² = (1 − a)(1 + a) from different closed forms: 16 eps
        tol = 16 * EPS if isinstance(path, ZeroTerminalSNRPath) else 3 * EPS
        np.testing.assert_allclose(a**2 + sigma**2, 1.0, rtol=0, atol=tol)
    else:
        assert np.max(np.abs(a**2 + sigma**2 - 1.0)) > 0.1       # the flag is not True by accident
    if isinstance(path, RectifiedFlowPath):
        np.testing.assert_allclose(a + sigma, 1.0, rtol=0, atol=2 * EPS)


def test_variance_preserving_flags():
    assert {name for name, path in PATHS.items() if path.variance_preserving} == {
        "vp-linear", "vp-linear-0.5-8", "cosine", "cosine-s0.02", "zero-terminal-snr-vp", "zero-terminal-snr-cosine"}
    assert set(DIFFUSION_PATHS) == {"vp-linear", "cosine", "ve", "edm", "rectified-flow", "zero-terminal-snr"}
    assert all(isinstance(cls(), cls) for cls in DIFFUSION_PATHS.values())


def test_scalar_in_scalar_out_and_array_shapes_kept():
    path = CosinePath()
    assert isinstance(path.a(0.3), np.float64) and np.ndim(path.a(0.3)) == 0
    grid = np.full((2, 3), 0.4)
    for q in QUANTITIES:
        assert getattr(path, q)(grid).shape == (2, 3), q
    assert path.tau_of_log_snr(np.zeros((2, 3))).shape == (2, 3)


# --- the SDE coefficients as published --------------------------------------------------------------

def test_vp_and_ve_sde_coefficients_are_song_et_al_eqs_30_to_33():
    """VP: f = −β/2, g² = β (eq. 32); VE: f = 0, g² = d[σ²]/dτ = 2σ² log(σ_max/σ_min) (eq. 30)."""
    tau = np.array([0.0, 1e-6, 0.25, 0.5, 0.9, 1.0])
    vp = VPLinearPath(0.1, 20.0)
    beta = 0.1 + (20.0 - 0.1) * tau
    np.testing.assert_allclose(vp.drift_coefficient(tau), -beta / 2, rtol=1e-15)
    np.testing.assert_allclose(vp.diffusion_squared(tau), beta, rtol=1e-15)
    ve = VEPath(0.01, 50.0)
    sigma = 0.01 * (50.0 / 0.01) ** tau
    np.testing.assert_array_equal(ve.drift_coefficient(tau), 0.0)
    np.testing.assert_allclose(ve.diffusion_squared(tau), 2 * sigma**2 * np.log(5000.0), rtol=1e-14)


INTERIOR = [0.05, 0.3, 0.5, 0.7, 0.95]


@pytest.mark.parametrize("name", PATHS)
def test_derivatives_are_finite_differences_of_the_librarys_own_values(name):
    """ȧ, σσ̇, f = (log a)', g² = (σ²)' − 2 f σ² against eighth-order differences (h = 1e-3) of a and σ²."""
    path = PATHS[name]
    h = 1e-3
    for tau in INTERIOR:
        a_dot = central_difference(lambda s: path.a(s), tau, h)
        sq_dot = central_difference(lambda s: path.sigma(s) ** 2, tau, h)
        f = central_difference(lambda s: np.log(path.a(s)), tau, h)
        scale = max(1.0, abs(sq_dot))
        np.testing.assert_allclose(path.a_dot(tau), a_dot, rtol=1e-9, atol=1e-12, err_msg=f"a_dot {tau}")
        np.testing.assert_allclose(path.sigma_sigma_dot(tau), sq_dot / 2, rtol=1e-9, atol=1e-12 * scale,
                                   err_msg=f"sigma_sigma_dot {tau}")
        np.testing.assert_allclose(path.sigma_dot(tau), sq_dot / (2 * path.sigma(tau)), rtol=1e-9, err_msg=f"sigma_dot {tau}")
        np.testing.assert_allclose(path.drift_coefficient(tau), f, rtol=1e-9, atol=1e-12, err_msg=f"f {tau}")
        np.testing.assert_allclose(path.diffusion_squared(tau), sq_dot - 2 * f * path.sigma(tau) ** 2,
                                   rtol=1e-9, atol=1e-12 * scale, err_msg=f"g2 {tau}")


# --- the log-SNR and its inverse ---------------------------------------------------------------------

def log_snr_slope(path, tau):
    """|dλ/dτ| from the mpmath definition (for the conditioning of the inverse)."""
    a_def, s2_def = definition(path)
    with mp.workdps(digits(tau)):
        return abs(float(mp_derivative(lambda u: mp.log(a_def(u) ** 2 / s2_def(u)), tau)))


EPS = np.finfo(float).eps


def tau_error(tau):
    """The accuracy of a computed τ: brentq's stopping rule (rtol = 1e-15) plus 2 ulps."""
    return 1e-15 * tau + 2 * np.spacing(tau)


@pytest.mark.parametrize("name", PATHS)
def test_tau_round_trip(name):
    """τ → λ → τ. Tolerance: a few ulps of τ plus the rounding of λ (4 eps (|2 log a| + |2 log σ|))
    carried by 1/|λ'| — VE at τ = 1e-12 cannot do better than 6e-17 absolute (λ' = −17)."""
    path = PATHS[name]
    for tau in TAUS:
        lam = path.log_snr(tau)
        back = path.tau_of_log_snr(lam)
        if np.isinf(lam):
            assert back == tau, (tau, back)
            continue
        rounding = 4 * EPS * (abs(2 * np.log(path.a(tau))) + abs(2 * np.log(path.sigma(tau))))
        np.testing.assert_allclose(back, tau, rtol=4 * EPS, atol=rounding / log_snr_slope(path, tau),
                                   err_msg=f"tau = {tau!r}")


@pytest.mark.parametrize("name", PATHS)
def test_log_snr_round_trip(name):
    """λ → τ → λ over the path's range. Tolerance: 8 eps |λ| plus |λ'| times the error of τ: brentq's
    stopping rule 1e-15 τ (cosine, zero terminal SNR) and 2 ulps of τ (the float τ next to 1 is coarse:
    λ moves by 2e-4 per ulp at τ = 1 − 1e-12 of rectified flow)."""
    path = PATHS[name]
    low, high = path.log_snr(1.0), path.log_snr(0.0)
    grid = np.linspace(max(low, -60.0), min(high, 60.0), 13)
    grid = np.concatenate([grid, [low, high]] if np.isfinite(high) else [grid, [low]])
    grid = grid[np.isfinite(grid)]
    taus = path.tau_of_log_snr(grid)
    assert ((taus >= 0.0) & (taus <= 1.0)).all()
    for lam, tau in zip(grid, taus):
        slope = log_snr_slope(path, tau)
        np.testing.assert_allclose(path.log_snr(tau), lam, rtol=8 * EPS, atol=8 * EPS + slope * tau_error(tau),
                                   err_msg=f"lambda = {float(lam)!r}")


@given(st.sampled_from(sorted(PATHS)), st.floats(0.0, 1.0))
def test_log_snr_round_trip_drawn(name, u):
    path = PATHS[name]
    low, high = max(path.log_snr(1.0), -40.0), min(path.log_snr(0.0), 40.0)
    lam = (1.0 - u) * low + u * high            # exactly low at u = 0 and high at u = 1
    tau = path.tau_of_log_snr(lam)
    slope = log_snr_slope(path, tau)
    np.testing.assert_allclose(path.log_snr(tau), lam, rtol=8 * EPS, atol=8 * EPS + slope * tau_error(tau))


BOUNDED = {
    "vp-linear-below": (VPLinearPath(), lambda p: p.log_snr(1.0) - 1e-9, "-10.0"),
    "ve-above": (VEPath(), lambda p: p.log_snr(0.0) + 0.5, "9.71"),
    "ve-below": (VEPath(), lambda p: -20.0, "-20.0"),
    "edm-below": (EDMPath(), lambda p: -9.0, "-9.0"),
}


@pytest.mark.parametrize("path, value, shown", BOUNDED.values(), ids=BOUNDED.keys())
def test_tau_of_log_snr_outside_the_range_raises(path, value, shown):
    assert_raises_naming(lambda: path.tau_of_log_snr(np.array([0.0, value(path)])), ValueError,
                         ["log_snr must lie in this path's range", shown])


def test_tau_of_log_snr_at_the_range_ends_and_nan():
    ve = VEPath()
    assert ve.tau_of_log_snr(ve.log_snr(0.0)) == 0.0
    np.testing.assert_allclose(ve.tau_of_log_snr(ve.log_snr(1.0)), 1.0, rtol=2 * EPS)
    assert_raises_naming(lambda: CosinePath().tau_of_log_snr(np.nan), ValueError, ["log_snr must not be NaN"])


@pytest.mark.parametrize("name", ["rectified-flow", "rectified-flow-shift-3", "cosine", "zero-terminal-snr-vp"])
def test_tau_of_log_snr_of_minus_infinity_is_one_without_warnings(name):
    """The paths with a(1) = 0 reach λ = −inf; the suite turns RuntimeWarnings into errors."""
    assert PATHS[name].tau_of_log_snr(np.array([-np.inf, np.inf])).tolist() == [1.0, 0.0]


# --- the path as si_ref's interpolant (t = 1 − τ) --------------------------------------------------

@pytest.mark.parametrize("name", PATHS)
def test_interpolant_coefficients_are_the_path_at_one_minus_t(name):
    """α(t) = σ(1 − t), β(t) = a(1 − t), α̇ = −σ̇(1 − t), β̇ = −ȧ(1 − t), γ ≡ 0; against the mpmath oracle
    at τ = 1 − t (t chosen with 1 − t exact)."""
    path = PATHS[name]
    interpolant = path.interpolant()
    assert isinstance(interpolant, DiffusionInterpolant) and interpolant.kind == "one-sided"
    for t in (0.25, 0.5, 0.75, 0.875):
        want = oracle(path, 1.0 - t)
        np.testing.assert_allclose(interpolant.alpha(t), want["sigma"], rtol=RTOL)
        np.testing.assert_allclose(interpolant.beta(t), want["a"], rtol=RTOL)
        np.testing.assert_allclose(interpolant.alpha_dot(t), -want["sigma_dot"], rtol=RTOL)
        np.testing.assert_allclose(interpolant.beta_dot(t), -want["a_dot"], rtol=RTOL, atol=1e-300)
        assert interpolant.gamma(t) == 0.0 and interpolant.gamma_gamma_dot(t) == 0.0
    rng = np.random.default_rng(3)
    eps, data = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    t = np.array([0.0, 0.25, 0.5, 1.0])
    expected = path.sigma(1.0 - t)[:, None] * eps + path.a(1.0 - t)[:, None] * data
    np.testing.assert_allclose(interpolant.interpolant(t, eps, data), expected, rtol=1e-15)
