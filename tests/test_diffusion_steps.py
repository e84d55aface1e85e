"""One-step diffusion samplers against identities between differently written formulas,
Gaussian conditioning, Monte Carlo with standard errors, and exact flows (fitted orders).

Oracles, none of them the step's formula restated:

* identities the papers state: DDIM (η = 0) is DPM-Solver++(1S) at (√ᾱ, √(1 − ᾱ)) (Lu et al.
  2022, Sec. 4.1) and Euler in σ/a for x/a (Karras et al. 2022, Sec. 3); DPM-Solver++(1S) with
  a = 1 is Euler in σ; DDIM with η = 1 is DDPM (Song et al. 2021, Sec. 4.1);
* Gaussian data N(m, S): the exact ε̂ = σ(a²S + σ²I)⁻¹(x − a m) and conditional means of the
  forward processes, computed by Gaussian conditioning with scipy, at 50 digits with mpmath
  for the DDPM posterior variance;
* the exact flows for data N(m, diag(s²)) of the EDM ODE (a = 1), of the VP probability-flow
  ODE and of the rectified-flow ODE: x(·) = a m + (x₀ − a₀ m) √(var/var₀) per coordinate.
"""

import mpmath
import numpy as np
import pytest
import scipy.linalg
from hypothesis import given
from hypothesis import strategies as st

from si_ref.diffusion.steps import (
    ddim_step,
    ddim_variance,
    ddpm_step,
    dpm_solver_pp_1s_step,
    dpm_solver_pp_2m_step,
    edm_stochastic_step,
    euler_sigma_step,
    flow_match_euler_step,
    heun_sigma_step,
)

from reference import assert_raises_naming

RNG_SEED = 20240516
M = np.array([0.7, -1.2, 0.3])
S_DIAG = np.array([0.25, 1.7, 0.6])        # data N(M, diag(S_DIAG)): the exact flows below
S_FULL = np.array([[1.0, 0.4], [0.4, 0.5]])
M_FULL = np.array([0.5, -1.0])             # data N(M_FULL, S_FULL): exact ε̂ by scipy solves


def points(n, d=3, seed=0):
    return np.random.default_rng(seed).standard_normal((n, d))


# --- exact Gaussian fields (written inline from Gaussian conditioning) ---------------------------------

def exact_eps(x, a, sigma, m=M_FULL, cov=S_FULL):
    """E[ε | x] for x = a x_data + σ ε, x_data ~ N(m, cov): σ (a² cov + σ² I)⁻¹ (x − a m)."""
    c = a**2 * cov + sigma**2 * np.eye(len(m))
    return sigma * scipy.linalg.solve(c, (x - a * m).T, assume_a="pos").T


def diag_denoiser(a, sigma, x):
    """E[x_data | x] for data N(M, diag(S_DIAG)): m + a s² / (a² s² + σ²) (x − a m), per coordinate."""
    return M + a * S_DIAG / (a**2 * S_DIAG + sigma**2) * (x - a * M)


def diag_flow(x0, a0, sigma0, a1, sigma1):
    """The exact probability-flow map from level (a0, σ0) to (a1, σ1) for data N(M, diag(S_DIAG))."""
    return a1 * M + (x0 - a0 * M) * np.sqrt((a1**2 * S_DIAG + sigma1**2) / (a0**2 * S_DIAG + sigma0**2))


def fitted_slope(h, errors):
    return np.polyfit(np.log(h), np.log(errors), 1)[0]


alpha_bars = st.floats(1e-4, 1 - 1e-4)


@st.composite
def level_pairs(draw):
    """(ᾱ, ᾱ_prev) with ᾱ < ᾱ_prev, and the gap not below 1e-6."""
    ab = draw(st.floats(1e-4, 0.999))
    abp = draw(st.floats(min(ab + 1e-6, 1.0), 1.0))
    return ab, abp


# --- identities between differently written steps ----------------------------------------------------------

@given(levels=level_pairs())
def test_ddim_eta_zero_is_dpm_solver_pp_1s_at_vp_levels(levels):
    ab, abp = levels
    x, eps = points(5, seed=1), points(5, seed=2)
    denoised = (x - np.sqrt(1 - ab) * eps) / np.sqrt(ab)
    expected = dpm_solver_pp_1s_step(denoised, x, (np.sqrt(ab), np.sqrt(1 - ab)), (np.sqrt(abp), np.sqrt(1 - abp)))
    np.testing.assert_allclose(ddim_step(eps, x, ab, abp), expected, rtol=1e-10, atol=1e-10)


@given(levels=level_pairs())
def test_ddim_eta_zero_is_euler_in_sigma_over_a_for_the_scaled_variable(levels):
    ab, abp = levels
    x, eps = points(5, seed=3), points(5, seed=4)
    a, ap = np.sqrt(ab), np.sqrt(abp)
    ve, ve_prev = np.sqrt((1 - ab) / ab), np.sqrt((1 - abp) / abp)         # σ/a of both levels
    denoised = x / a - ve * eps                                            # D with x/a = D + (σ/a) ε
    expected = ap * euler_sigma_step(denoised, x / a, ve, ve_prev)
    np.testing.assert_allclose(ddim_step(eps, x, ab, abp), expected, rtol=1e-10, atol=1e-10)


@given(sigma=st.floats(1e-3, 100.0), sigma_next=st.floats(0.0, 100.0))
def test_dpm_solver_pp_1s_with_a_one_is_euler_in_sigma(sigma, sigma_next):
    x, denoised = points(4, seed=5), points(4, seed=6)
    np.testing.assert_allclose(dpm_solver_pp_1s_step(denoised, x, (1.0, sigma), (1.0, sigma_next)),
                               euler_sigma_step(denoised, x, sigma, sigma_next), rtol=1e-12, atol=1e-12)


@given(levels=level_pairs())
def test_ddim_eta_one_is_the_ddpm_step(levels):
    ab, abp = levels
    x, eps, z = points(5, seed=7), points(5, seed=8), points(5, seed=9)
    np.testing.assert_allclose(ddim_step(eps, x, ab, abp, 1.0, z), ddpm_step(eps, x, ab, abp, z), rtol=1e-11, atol=1e-12)


@given(levels=level_pairs())
def test_ddim_variance_is_the_ddpm_posterior_variance_from_the_forward_chain(levels):
    ab, abp = levels
    # forward chain: x_prev = √ᾱ_prev x0 + √(1 − ᾱ_prev) ε1, x = √α x_prev + √(1 − α) ξ, α = ᾱ/ᾱ_prev;
    # Var[x_prev | x, x0] = Var[x_prev|x0] − Cov(x_prev, x|x0)² / Var[x|x0], at 50 digits
    ab_mp, abp_mp = mpmath.mpf(ab), mpmath.mpf(abp)
    alpha = ab_mp / abp_mp
    var_prev = 1 - abp_mp
    posterior = var_prev - (mpmath.sqrt(alpha) * var_prev) ** 2 / (alpha * var_prev + 1 - alpha)
    np.testing.assert_allclose(ddim_variance(ab, abp), float(posterior), rtol=1e-11, atol=1e-300)
    # and it is the variance of the noise in one DDIM step at η = 1 and of the DDPM step
    x, eps, z = points(3, seed=10), points(3, seed=11), points(3, seed=12)
    np.testing.assert_allclose(ddim_step(eps, x, ab, abp, 1.0, z) - ddim_step(eps, x, ab, abp, 1.0, 0 * z),
                               np.sqrt(float(posterior)) * z, rtol=1e-9, atol=1e-12)


def test_ddim_variance_broadcasts_and_returns_scalars_for_scalars():
    out = ddim_variance(np.array([0.1, 0.2, 0.3]), 0.5)
    assert out.shape == (3,) and out.dtype == np.float64
    assert isinstance(ddim_variance(0.3, 0.5), np.float64) and ddim_variance(0.3, 0.3) == 0.0


# --- Gaussian data: exact ε̂, means by Gaussian conditioning, Monte Carlo ------------------------------------

def test_ddpm_step_mean_is_the_conditional_mean_of_the_forward_chain():
    ab, abp = 0.35, 0.62
    x = points(6, d=2, seed=13)
    eps = exact_eps(x, np.sqrt(ab), np.sqrt(1 - ab))
    # x_prev = √ᾱ_prev x0 + √(1 − ᾱ_prev) ε1, x = √α x_prev + √(1 − α) ξ: condition x_prev on x
    alpha = ab / abp
    cov_prev = abp * S_FULL + (1 - abp) * np.eye(2)
    cov_x = alpha * cov_prev + (1 - alpha) * np.eye(2)
    mean = np.sqrt(abp) * M_FULL + (np.sqrt(alpha) * cov_prev @ np.linalg.solve(cov_x, (x - np.sqrt(ab) * M_FULL).T)).T
    np.testing.assert_allclose(ddpm_step(eps, x, ab, abp, np.zeros_like(x)), mean, rtol=1e-12, atol=1e-13)


def test_ddim_step_with_eta_is_affine_in_x_with_the_stated_noise_variance():
    ab, abp, eta = 0.2, 0.55, 0.6
    a, sigma, ap = np.sqrt(ab), np.sqrt(1 - ab), np.sqrt(abp)
    # Song et al. 2021, eq. (7): x_prev = √ᾱ_prev x0 + c (x − √ᾱ x0)/√(1 − ᾱ) + s z = √ᾱ_prev x0 + c ε + s z,
    # s² = η² × the DDPM posterior variance (eq. (16)), c² = 1 − ᾱ_prev − s²
    alpha = ab / abp
    s2 = eta**2 * ((1 - abp) - alpha * (1 - abp) ** 2 / (1 - ab))
    c = np.sqrt(1 - abp - s2)
    x_row = np.array([[0.9, -0.4]])
    cov_x = ab * S_FULL + (1 - ab) * np.eye(2)
    cross = a * ap * S_FULL + c * sigma * np.eye(2)                        # Cov(x_prev, x)
    mean = ap * M_FULL + (cross @ np.linalg.solve(cov_x, (x_row - a * M_FULL).T)).T
    # the step with no noise is that conditional mean, and it is affine in x
    eps = exact_eps(x_row, a, sigma)
    np.testing.assert_allclose(ddim_step(eps, x_row, ab, abp, eta, np.zeros_like(x_row)), mean, rtol=1e-12, atol=1e-13)
    # Monte Carlo over the noise: sample mean and variance within 5 standard errors
    n = 40_000
    x = np.repeat(x_row, n, axis=0)
    out = ddim_step(exact_eps(x, a, sigma), x, ab, abp, eta, np.random.default_rng(RNG_SEED).standard_normal(x.shape))
    assert np.all(np.abs(out.mean(axis=0) - mean[0]) < 5 * np.sqrt(s2 / n))
    assert np.all(np.abs(out.var(axis=0, ddof=1) - s2) < 5 * s2 * np.sqrt(2 / (n - 1)))


# --- EDM: Euler and Heun in σ against the exact flow -----------------------------------------------------------

def edm_denoiser(x, sigma):
    return diag_denoiser(1.0, sigma, x)


def edm_flow(x0, sigma0, sigma1):
    return diag_flow(x0, 1.0, sigma0, 1.0, sigma1)


@pytest.mark.parametrize("method, order", [("euler", 1), ("heun", 2)])
def test_sigma_steppers_local_error_is_order_plus_one(method, order):
    x0, sigma0 = 2.0 * points(8, seed=14), 1.5
    h = 0.5 * 2.0 ** -np.arange(6)
    errors = []
    for step in h:
        if method == "euler":
            out = euler_sigma_step(edm_denoiser(x0, sigma0), x0, sigma0, sigma0 - step)
        else:
            out = heun_sigma_step(edm_denoiser, x0, sigma0, sigma0 - step)
        errors.append(np.max(np.abs(out - edm_flow(x0, sigma0, sigma0 - step))))
    slope = fitted_slope(h, np.array(errors))
    assert abs(slope - (order + 1)) < 0.1, (errors, slope)


@pytest.mark.parametrize("method, order", [("euler", 1), ("heun", 2)])
def test_sigma_steppers_global_error_has_their_order(method, order):
    x0, start, end = 5.0 * points(8, seed=15), 5.0, 0.2
    counts = np.array([10, 20, 40, 80])
    errors = []
    for count in counts:
        grid, x = np.linspace(start, end, count + 1), x0
        for sigma, sigma_next in zip(grid[:-1], grid[1:]):
            x = (euler_sigma_step(edm_denoiser(x, sigma), x, sigma, sigma_next) if method == "euler"
                 else heun_sigma_step(edm_denoiser, x, sigma, sigma_next))
        errors.append(np.max(np.abs(x - edm_flow(x0, start, end))))
    slope = fitted_slope(1.0 / counts, np.array(errors))
    assert abs(slope - order) < 0.1, (errors, slope)


def test_last_euler_and_heun_step_to_sigma_zero_return_the_denoised_value():
    x, sigma = points(4, seed=16), 0.7
    denoised = edm_denoiser(x, sigma)
    np.testing.assert_allclose(euler_sigma_step(denoised, x, sigma, 0.0), denoised, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(heun_sigma_step(edm_denoiser, x, sigma, 0.0), denoised, rtol=1e-14, atol=1e-15)


def test_heun_with_per_row_levels_corrects_only_rows_with_positive_sigma_next():
    x = points(4, seed=17)
    sigma, sigma_next = np.array([1.0, 2.0, 0.5, 3.0]), np.array([0.0, 1.0, 0.0, 2.5])
    seen = []

    def recording(x_in, sigma_in):
        seen.append(np.shape(sigma_in))
        return edm_denoiser(x_in, sigma_in)

    out = heun_sigma_step(recording, x, sigma, sigma_next[:, None])
    assert seen == [(4, 1), (2, 1)]                 # the correction only on the two rows with σ_next > 0
    for i in range(4):
        expected = heun_sigma_step(edm_denoiser, x[i:i + 1], sigma[i], sigma_next[i])
        np.testing.assert_allclose(out[i:i + 1], expected, rtol=1e-14, atol=1e-15)


def test_edm_stochastic_step_without_churn_is_heun():
    x, z = points(5, seed=18), points(5, seed=19)
    np.testing.assert_array_equal(edm_stochastic_step(edm_denoiser, x, 2.0, 1.2, 0.0, z),
                                  heun_sigma_step(edm_denoiser, x, 2.0, 1.2))


def test_edm_stochastic_step_churn_reaches_the_marginal_at_the_raised_level():
    # data N(M, diag(S)): x ~ N(M, S + σ² I); adding √(σ̂² − σ²) z gives N(M, S + σ̂² I); a Heun step
    # from σ̂ to σ_next = σ̂ is the identity, so the step returns x̂ itself
    sigma, gamma, n = 0.8, 0.35, 50_000
    rng = np.random.default_rng(RNG_SEED)
    x = M + np.sqrt(S_DIAG + sigma**2) * rng.standard_normal((n, 3))
    sigma_hat = (1 + gamma) * sigma
    out = edm_stochastic_step(edm_denoiser, x, sigma, sigma_hat, gamma, rng.standard_normal((n, 3)))
    variance = S_DIAG + sigma_hat**2
    assert np.all(np.abs(out.mean(axis=0) - M) < 5 * np.sqrt(variance / n))
    assert np.all(np.abs(out.var(axis=0, ddof=1) - variance) < 5 * variance * np.sqrt(2 / (n - 1)))


def test_edm_stochastic_step_is_heun_from_the_raised_level_after_scaled_noise():
    x, z = points(5, seed=20), points(5, seed=21)
    sigma, sigma_next, gamma, s_noise = 2.0, 1.1, 0.2, 1.007
    sigma_hat = sigma * (1 + gamma)
    x_hat = x + np.sqrt(sigma_hat**2 - sigma**2) * s_noise * z            # Algorithm 2, line 6, as printed
    np.testing.assert_allclose(edm_stochastic_step(edm_denoiser, x, sigma, sigma_next, gamma, z, s_noise),
                               heun_sigma_step(edm_denoiser, x_hat, sigma_hat, sigma_next), rtol=1e-13, atol=1e-14)


# --- DPM-Solver++ on the exact VP flow -------------------------------------------------------------------------------

def vp_level(lam):
    """(a, σ) with a² + σ² = 1 and log(a/σ) = λ."""
    return 1.0 / np.sqrt(1.0 + np.exp(-2.0 * lam)), 1.0 / np.sqrt(1.0 + np.exp(2.0 * lam))


def dpm_solve(x0, lambdas, second_order):
    x, previous = x0, None
    for i in range(len(lambdas) - 1):
        level, level_next = vp_level(lambdas[i]), vp_level(lambdas[i + 1])
        denoised = diag_denoiser(*level, x)
        if second_order and previous is not None:
            x = dpm_solver_pp_2m_step(denoised, previous[0], x, previous[1], level, level_next)
        else:
            x = dpm_solver_pp_1s_step(denoised, x, level, level_next)
        previous = (denoised, level)
    return x


@pytest.mark.parametrize("second_order, order", [(False, 1), (True, 2)], ids=["1S", "2M"])
def test_dpm_solver_pp_global_error_has_its_order(second_order, order):
    start, end = -1.5, 3.0
    x0 = 1.5 * points(8, seed=22)
    exact = diag_flow(x0, *vp_level(start), *vp_level(end))
    counts = np.array([20, 40, 80, 160])
    errors = np.array([np.max(np.abs(dpm_solve(x0, np.linspace(start, end, k + 1), second_order) - exact))
                       for k in counts])
    slope = fitted_slope(1.0 / counts, errors)
    assert abs(slope - order) < 0.1, (errors, slope)


def test_dpm_solver_pp_2m_reduces_to_1s_for_a_constant_denoiser_and_a_pure_noise_previous_level():
    x, denoised, other = points(4, seed=23), points(4, seed=24), points(4, seed=25)
    level, level_next = vp_level(0.3), vp_level(0.9)
    one_step = dpm_solver_pp_1s_step(denoised, x, level, level_next)
    np.testing.assert_allclose(dpm_solver_pp_2m_step(denoised, denoised, x, vp_level(-0.2), level, level_next),
                               one_step, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(dpm_solver_pp_2m_step(denoised, other, x, (0.0, 1.0), level, level_next),
                               one_step, rtol=1e-14, atol=1e-15)


def test_dpm_solver_pp_1s_limits_at_zero_snr_ends_are_continuous():
    x, denoised = points(4, seed=26), points(4, seed=27)
    a, sigma = 0.8, 0.6
    # to the data: σ_next → 0 gives a_next D
    np.testing.assert_array_equal(dpm_solver_pp_1s_step(denoised, x, (a, sigma), (1.0, 0.0)), denoised)
    near = dpm_solver_pp_1s_step(denoised, x, (a, sigma), (1.0, 1e-13))
    np.testing.assert_allclose(near, denoised, rtol=0, atol=1e-11)
    # from zero terminal SNR: a → 0 gives (σ_next/σ) x + a_next D
    exact = dpm_solver_pp_1s_step(denoised, x, (0.0, 1.0), (a, sigma))
    np.testing.assert_allclose(exact, sigma * x + a * denoised, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(dpm_solver_pp_1s_step(denoised, x, (1e-13, 1.0), (a, sigma)), exact, rtol=0, atol=1e-11)
    # toward pure noise: a_next → 0, the limit a_next (e^(−h) − 1) → a σ_next/σ
    limit = dpm_solver_pp_1s_step(denoised, x, (a, sigma), (0.0, 1.0))
    np.testing.assert_allclose(dpm_solver_pp_1s_step(denoised, x, (a, sigma), (1e-13, 1.0)), limit, rtol=0, atol=1e-11)


# --- flow matching ---------------------------------------------------------------------------------------------------

def rf_velocity(x, sigma):
    """E[ε − x_data | x] for x = (1 − σ) x_data + σ ε, data N(M, diag(S)), by Gaussian conditioning."""
    variance = (1 - sigma) ** 2 * S_DIAG + sigma**2
    return -M + (sigma - (1 - sigma) * S_DIAG) / variance * (x - (1 - sigma) * M)


def test_flow_match_euler_converges_at_first_order_to_the_exact_rectified_flow():
    x0 = points(8, seed=28)                                                # pure noise at σ = 1
    exact = diag_flow(x0, 0.0, 1.0, 1.0, 0.0)
    counts = np.array([10, 20, 40, 80])
    errors = []
    for count in counts:
        grid, x = np.linspace(1.0, 0.0, count + 1), x0
        for sigma, sigma_next in zip(grid[:-1], grid[1:]):
            x = flow_match_euler_step(rf_velocity(x, sigma), x, sigma, sigma_next)
        errors.append(np.max(np.abs(x - exact)))
    slope = fitted_slope(1.0 / counts, np.array(errors))
    assert abs(slope - 1) < 0.1, (errors, slope)
    # local error: second order
    h = 0.2 * 2.0 ** -np.arange(6)
    local = [np.max(np.abs(flow_match_euler_step(rf_velocity(x0, 0.6), x0, 0.6, 0.6 - step)
                           - diag_flow(x0, 0.4, 0.6, 0.4 + step, 0.6 - step))) for step in h]
    assert abs(fitted_slope(h, np.array(local)) - 2) < 0.1, local


# --- shared conventions: per-row levels, copies, dtypes ------------------------------------------------------------

def model(x):
    """A row-wise stand-in for a model output (row i depends on row i of x only)."""
    return np.sin(x) + 0.25


STEP_CALLS = {
    "ddpm": lambda x, lv, lv2: ddpm_step(model(x), x, lv, lv2, x * 0.5),
    "ddim": lambda x, lv, lv2: ddim_step(model(x), x, lv, lv2, 0.5, x * 0.5),
    "euler": lambda x, lv, lv2: euler_sigma_step(model(x), x, 1 + lv, lv2),
    "heun": lambda x, lv, lv2: heun_sigma_step(edm_denoiser, x, 1 + lv, lv2),
    "edm-stochastic": lambda x, lv, lv2: edm_stochastic_step(edm_denoiser, x, 1 + lv, lv2, lv / 4, x * 0.5),
    "dpm-1s": lambda x, lv, lv2: dpm_solver_pp_1s_step(model(x), x, (np.sqrt(lv), np.sqrt(1 - lv)),
                                                      (np.sqrt(lv2), np.sqrt(1 - lv2))),
    "dpm-2m": lambda x, lv, lv2: dpm_solver_pp_2m_step(model(x), x * 0.3, x, (np.sqrt(lv / 2), np.sqrt(1 - lv / 2)),
                                                      (np.sqrt(lv), np.sqrt(1 - lv)), (np.sqrt(lv2), np.sqrt(1 - lv2))),
    "flow-match": lambda x, lv, lv2: flow_match_euler_step(model(x), x, lv2, lv),
}


@pytest.mark.parametrize("name", STEP_CALLS)
def test_per_row_levels_equal_row_by_row_scalar_steps(name):
    x = points(4, seed=29)
    level, level_next = np.array([0.2, 0.4, 0.5, 0.7]), np.array([0.3, 0.6, 0.9, 0.8])
    call = STEP_CALLS[name]
    rows = call(x, level, level_next)
    np.testing.assert_allclose(call(x, level[:, None], level_next[:, None]), rows, rtol=1e-15, atol=0)
    for i in range(4):
        np.testing.assert_allclose(call(x[i:i + 1], level[i], level_next[i]), rows[i:i + 1], rtol=1e-14, atol=1e-15)
    assert rows.shape == x.shape and rows.dtype == np.float64


@pytest.mark.parametrize("name", STEP_CALLS)
def test_steps_never_modify_their_inputs_and_return_float64(name):
    x = points(4, seed=30).astype(np.float32)
    level, level_next = np.array([0.2, 0.4, 0.5, 0.7]), np.array([0.3, 0.6, 0.9, 0.8])
    copies = (x.copy(), level.copy(), level_next.copy())
    out = STEP_CALLS[name](x, level, level_next)
    for before, after in zip(copies, (x, level, level_next)):
        np.testing.assert_array_equal(before, after)
    assert out.dtype == np.float64 and x.dtype == np.float32


def test_a_denoiser_gets_a_scalar_for_one_level_and_a_column_for_levels_per_row():
    """One level (a float, or an array of one element, also for n = 1) reaches D as a float64
    scalar; levels per row as shape (n, 1). D gets copies."""
    seen = []

    def denoiser(x, sigma):
        seen.append(np.shape(sigma))
        x[...] = np.nan                                      # writes into its copy only
        return np.zeros_like(x)

    x = np.ones((3, 2))
    heun_sigma_step(denoiser, x, 1.0, 0.5)
    heun_sigma_step(denoiser, x, np.array([1.0]), np.array([[0.5]]))
    heun_sigma_step(denoiser, x[:1], np.array([1.0]), np.array([0.5]))
    heun_sigma_step(denoiser, x, np.array([1.0, 2.0, 3.0]), np.full((3, 1), 0.5))
    assert seen == [(), (), (), (), (), (), (3, 1), (3, 1)]
    np.testing.assert_array_equal(x, 1.0)

def test_ddim_clip_denoised_clamps_the_data_prediction_only_when_asked():
    x, eps = 3.0 * points(5, seed=31), points(5, seed=32)
    ab = 0.5
    denoised = (x - np.sqrt(1 - ab) * eps) / np.sqrt(ab)
    assert np.abs(denoised).max() > 1
    # the final step to ᾱ_prev = 1 returns x̂0 itself
    np.testing.assert_allclose(ddim_step(eps, x, ab, 1.0), denoised, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(ddim_step(eps, x, ab, 1.0, clip_denoised=1.0), np.clip(denoised, -1, 1),
                               rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(ddpm_step(eps, x, ab, 1.0, 0 * x, clip_denoised=2.0), np.clip(denoised, -2, 2),
                               rtol=1e-14, atol=1e-15)


# --- bad inputs -------------------------------------------------------------------------------------------------------

X = np.ones((4, 2))
E = np.zeros((4, 2))


def denoiser_of_shape(shape):
    return lambda x, sigma: np.zeros(shape)


BAD = [
    ("eps-shape", lambda: ddim_step(np.ones((3, 2)), X, 0.5, 0.6), ValueError,
     ["eps must have the shape of x, (4, 2)", "received shape (3, 2)"]),
    ("eps-nan", lambda: ddpm_step(np.full((4, 2), np.nan), X, 0.5, 0.6, E), ValueError, ["eps must contain only finite"]),
    ("x-int", lambda: ddim_step(E, np.ones((4, 2), dtype=int), 0.5, 0.6), TypeError, ["x must be a floating-point"]),
    ("x-1d", lambda: euler_sigma_step(np.ones(2), np.ones(2), 1.0, 0.5), ValueError, ["x must have shape (n, d)"]),
    ("noise-shape", lambda: ddpm_step(E, X, 0.5, 0.6, np.ones((4, 3))), ValueError, ["noise must have the shape of x"]),
    ("noise-missing", lambda: ddim_step(E, X, 0.5, 0.6, eta=0.5), ValueError, ["noise is required when eta > 0"]),
    ("alpha-bar-zero", lambda: ddim_step(E, X, 0.0, 0.6), ValueError, ["alpha_bar must be > 0", "zero terminal SNR"]),
    ("alpha-bar-one", lambda: ddpm_step(E, X, 1.0, 1.0, E), ValueError, ["alpha_bar must be < 1"]),
    ("alpha-bar-range", lambda: ddim_step(E, X, 1.5, 0.6), ValueError, ["alpha_bar must be finite numbers in [0, 1]", "1.5", "alphas_cumprod"]),
    ("alpha-bar-prev-order", lambda: ddim_step(E, X, 0.6, 0.5), ValueError,
     ["alpha_bar_prev must be >= alpha_bar", "alpha_bar_prev=0.5 < alpha_bar=0.6"]),
    ("alpha-bar-prev-negative", lambda: ddpm_step(E, X, 0.5, -0.1, E), ValueError, ["alpha_bar_prev must be finite numbers in [0, 1]", "-0.1"]),
    ("alpha-bar-shape", lambda: ddim_step(E, X, np.full(3, 0.5), 0.6), ValueError,
     ["alpha_bar must be a scalar or have shape (n,) or (n, 1) with n = 4", "(3,)"]),
    ("alpha-bar-inf", lambda: ddim_step(E, X, np.inf, 0.6), ValueError, ["alpha_bar must be finite", "inf"]),
    ("alpha-bar-bool", lambda: ddim_step(E, X, True, 0.6), TypeError, ["alpha_bar must be real numbers in [0, 1]", "True"]),
    ("eta-negative", lambda: ddim_step(E, X, 0.5, 0.6, eta=-0.1), ValueError, ["eta must be a finite number >= 0"]),
    ("eta-too-large", lambda: ddim_step(E, X, 0.5, 0.6, eta=5.0, noise=E), ValueError,
     ["eta=5.0 is too large", "Pass eta <="]),
    ("clip-negative", lambda: ddim_step(E, X, 0.5, 0.6, clip_denoised=-1.0), ValueError,
     ["clip_denoised must be a finite number > 0"]),
    ("variance-order", lambda: ddim_variance(0.7, 0.6), ValueError, ["alpha_bar_prev must be >= alpha_bar"]),
    ("variance-one", lambda: ddim_variance(1.0, 1.0), ValueError, ["alpha_bar must be < 1"]),
    ("variance-range", lambda: ddim_variance(0.5, 1.2), ValueError, ["alpha_bar_prev must be finite numbers in [0, 1]"]),
    ("variance-bool", lambda: ddim_variance(True, 0.6), TypeError, ["alpha_bar must be real numbers in [0, 1]"]),
    ("variance-nan-entry", lambda: ddim_variance(np.array([0.5, np.nan]), 0.6), ValueError,
     ["alpha_bar must be finite numbers in [0, 1]", "nan at index 1"]),
    ("sigma-nan-row", lambda: euler_sigma_step(E, X, np.array([1.0, np.nan, 1.0, 1.0]), 0.5), ValueError,
     ["sigma must be finite numbers >= 0", "nan at row 1"]),
    ("variance-broadcast", lambda: ddim_variance(np.ones(2) / 2, np.ones(3) / 2), ValueError, ["must broadcast together"]),
    ("sigma-zero", lambda: euler_sigma_step(E, X, 0.0, 0.0), ValueError, ["sigma must be > 0", "undefined at σ = 0"]),
    ("sigma-next-negative", lambda: euler_sigma_step(E, X, 1.0, -0.5), ValueError, ["sigma_next must be finite numbers >= 0", "-0.5"]),
    ("denoised-shape", lambda: euler_sigma_step(np.ones((4, 3)), X, 1.0, 0.5), ValueError,
     ["denoised must have the shape of x"]),
    ("denoiser-not-callable", lambda: heun_sigma_step(E, X, 1.0, 0.5), TypeError, ["denoiser must be a callable"]),
    ("denoiser-bad-shape", lambda: heun_sigma_step(denoiser_of_shape((4, 3)), X, 1.0, 0.5), ValueError,
     ["denoiser must return shape (n, d) = (4, 2)", "(4, 3)"]),
    ("denoiser-complex", lambda: heun_sigma_step(lambda x, s: x + 0j, X, 1.0, 0.5), TypeError,
     ["denoiser must return real numbers", "complex128"]),
    ("denoiser-nan", lambda: heun_sigma_step(lambda x, s: x * np.nan, X, 1.0, 0.5), ValueError,
     ["denoiser returned NaN or inf at sigma = 1.0", "row 0"]),
    ("gamma-negative", lambda: edm_stochastic_step(lambda x, s: x, X, 1.0, 0.5, -0.1, E),
     ValueError, ["gamma must be finite numbers >= 0", "-0.1"]),
    ("s-noise-negative", lambda: edm_stochastic_step(lambda x, s: x, X, 1.0, 0.5, 0.1, E, s_noise=-1.0), ValueError,
     ["s_noise must be a finite number >= 0"]),
    ("level-not-pair", lambda: dpm_solver_pp_1s_step(E, X, 0.5, (0.6, 0.8)), TypeError,
     ["level must be a pair (a, sigma)", "float"]),
    ("level-three", lambda: dpm_solver_pp_1s_step(E, X, (0.5, 0.5, 0.5), (0.6, 0.8)), TypeError,
     ["level must be a pair (a, sigma)", "length 3"]),
    ("level-sigma-zero", lambda: dpm_solver_pp_1s_step(E, X, (1.0, 0.0), (0.6, 0.8)), ValueError,
     ["level must have sigma > 0"]),
    ("level-next-both-zero", lambda: dpm_solver_pp_1s_step(E, X, (0.6, 0.8), (0.0, 0.0)), ValueError,
     ["level_next must not have a = sigma = 0"]),
    ("level-a-negative", lambda: dpm_solver_pp_1s_step(E, X, (-0.6, 0.8), (0.8, 0.6)), ValueError,
     ["level[0] (a) must be finite numbers >= 0", "-0.6"]),
    ("2m-final-step", lambda: dpm_solver_pp_2m_step(E, E, X, (0.5, 0.9), (0.6, 0.8), (1.0, 0.0)), ValueError,
     ["level_next must have a > 0 and sigma > 0", "dpm_solver_pp_1s_step"]),
    ("2m-level-a-zero", lambda: dpm_solver_pp_2m_step(E, E, X, (0.0, 1.0), (0.0, 1.0), (0.6, 0.8)), ValueError,
     ["level must have a > 0 for the 2M step"]),
    ("2m-no-step", lambda: dpm_solver_pp_2m_step(E, E, X, (0.5, 0.9), (0.6, 0.8), (0.6, 0.8)), ValueError,
     ["level_next must differ from level"]),
    ("2m-prev-same", lambda: dpm_solver_pp_2m_step(E, E, X, (0.6, 0.8), (0.6, 0.8), (0.8, 0.6)), ValueError,
     ["level_prev must differ from level"]),
    ("2m-denoised-prev-shape", lambda: dpm_solver_pp_2m_step(E, np.ones((2, 2)), X, (0.5, 0.9), (0.6, 0.8), (0.8, 0.6)),
     ValueError, ["denoised_prev must have the shape of x"]),
    ("flow-sigma-above-one", lambda: flow_match_euler_step(E, X, 1.2, 0.5), ValueError, ["sigma must be finite numbers in [0, 1]", "1.2"]),
    ("flow-velocity-shape", lambda: flow_match_euler_step(np.ones((4, 1)), X, 1.0, 0.5), ValueError,
     ["velocity must have the shape of x"]),
]


@pytest.mark.parametrize("call, exception, fragments", [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_inputs_raise_naming_the_argument(call, exception, fragments):
    assert_raises_naming(call, exception, fragments)


def test_ddim_variance_refuses_a_zero_previous_level():
    with pytest.raises(ValueError, match="alpha_bar_prev must be > 0"):
        ddim_variance(0.0, 0.0)


@pytest.mark.parametrize("level_prev", [(0.9, 0.1), (1.0, 0.0)], ids=["less-noisy", "the-data"])
def test_dpm_solver_pp_2m_refuses_a_previous_level_that_is_not_noisier(level_prev):
    """The 2M step extrapolates from the denoised value of the step before, taken at a noisier level."""
    x = np.ones((2, 2))
    with pytest.raises(ValueError, match="level_prev must be noisier than level"):
        dpm_solver_pp_2m_step(x, x, x, level_prev, (0.6, 0.8), (0.8, 0.6))
