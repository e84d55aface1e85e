"""Exact diffusion fields (DiffusionCase) against independent oracles.

* the textbook conditioning of a Gaussian, component by component, written here with
  ``scipy.linalg.cho_solve`` directly at the level (a, σ) (the library goes through
  si_ref's one-sided GaussianCase at x/(a + σ));
* self-normalised importance sampling over 200k data draws (no Gaussian algebra at all);
* finite differences of the library's own log density in x and τ: the score, the
  continuity equation of the flow velocity, the Fokker–Planck equations of the forward
  (noising) and reverse SDEs;
* si_ref's GaussianCase of ``path.interpolant()`` (the K Σ⁻¹ route) in time t = 1 − τ;
* the data distribution's own ``log_prob``/``score`` at τ = 0 where σ(0) = 0.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.linalg import cho_factor, cho_solve
from scipy.special import logsumexp, softmax
from scipy.stats import multivariate_normal

import si_ref
from si_ref import strategies as sis
from si_ref.diffusion import (
    PREDICTION_TYPES,
    CosinePath,
    DiffusionCase,
    EDMPath,
    RectifiedFlowPath,
    VEPath,
    VPLinearPath,
    ZeroTerminalSNRPath,
)

from reference import assert_raises_naming, central_difference, divergence, gradient

MIXTURE = si_ref.GaussianMixture(np.array([0.3, 0.7]), np.array([[-1.0, 0.5], [1.5, -0.5]]),
                                 np.stack([np.array([[0.5, 0.1], [0.1, 0.3]]), np.diag([0.2, 0.8])]))
GAUSSIAN_3D = si_ref.Gaussian(np.array([0.5, -1.0, 2.0]),
                              np.array([[1.0, 0.3, 0.0], [0.3, 0.6, -0.2], [0.0, -0.2, 0.4]]))
DATA = {"mixture-2d": MIXTURE, "gaussian-3d": GAUSSIAN_3D}
PATHS = {
    "vp-linear": VPLinearPath(),
    "cosine": CosinePath(),
    "ve": VEPath(),
    "edm": EDMPath(),
    "rectified-flow": RectifiedFlowPath(),
    "rectified-flow-shift-3": RectifiedFlowPath(3.0),
    "zero-terminal-snr-vp": ZeroTerminalSNRPath(),
}
A_ZERO_AT_END = ("cosine", "rectified-flow", "rectified-flow-shift-3", "zero-terminal-snr-vp")
FIELDS = ("epsilon", "denoised", "v", "score", "flow_velocity")
seeds = st.integers(0, 2**32 - 1)


# --- the oracle: conditioning of each Gaussian component at the level (a, σ) ------------------------

def components_of(data):
    if isinstance(data, si_ref.Gaussian):
        return [(1.0, data.mean, data.cov)]
    return list(zip(data.weights, data.means, data.covs))


def conditioning_oracle(data, x, a, sigma):
    """x = a x_data + σ ε with x_data ~ N(m, S) in component k: x ~ N(a m, C), C = a² S + σ² I,
    E[x_data | x, k] = m + a S C⁻¹ (x − a m), E[ε | x, k] = σ C⁻¹ (x − a m), ∇ log N = −C⁻¹ (x − a m);
    responsibilities ∝ π_k N(x; a m, C) (log-sum-exp). a, σ scalars."""
    d = x.shape[1]
    log_joint, denoised, eps, score = [], [], [], []
    for weight, m, S in components_of(data):
        factor = cho_factor(a * a * S + sigma * sigma * np.eye(d), lower=True)
        residual = x - a * m
        solved = cho_solve(factor, residual.T).T                        # C⁻¹ (x − a m), rows
        denoised.append(m + a * solved @ S)                              # S symmetric
        eps.append(sigma * solved)
        score.append(-solved)
        log_det = 2.0 * np.sum(np.log(np.diag(factor[0])))
        log_joint.append(np.log(weight) - 0.5 * (d * np.log(2 * np.pi) + log_det + np.sum(residual * solved, axis=1)))
    log_joint = np.array(log_joint).T                                     # (n, K)
    r = softmax(log_joint, axis=1)
    mix = lambda values: np.einsum("nk,knd->nd", r, np.array(values))
    out = {"denoised": mix(denoised), "epsilon": mix(eps), "score": mix(score),
           "log_density": logsumexp(log_joint, axis=1)}
    out["v"] = a * out["epsilon"] - sigma * out["denoised"]               # Salimans & Ho, eq. (D.2)
    return out


def draw_x(data, a, sigma, n, rng):
    return a * data.sample(n, rng) + sigma * rng.standard_normal((n, data.dim))


def at(case, name, x, a, sigma):
    return getattr(case, f"{name}_at")(x, a, sigma)


def assert_fields_match_oracle(case, x, a, sigma, rtol, label=""):
    expected = conditioning_oracle(case.data, x, a, sigma)
    for name, want in expected.items():
        np.testing.assert_allclose(at(case, name, x, a, sigma), want, rtol=rtol,
                                   atol=rtol * max(1.0, np.max(np.abs(want))), err_msg=f"{name} {label}")


LEVEL = st.one_of(st.just(0.0), st.floats(1e-12, 1e3))


@given(st.one_of(sis.gaussians(st.integers(1, 3)), sis.gaussian_mixtures(st.integers(1, 3), max_components=3)),
       LEVEL, LEVEL, seeds)
def test_fields_at_a_level_match_the_conditioning_oracle(data, a, sigma, seed):
    """Levels from 1e-12 to 1e3 on either side, 0 exactly on one of them."""
    if a == 0.0 and sigma == 0.0:
        sigma = 1.0
    rng = np.random.default_rng(seed)
    x = draw_x(data, a, sigma, 4, rng)
    assert_fields_match_oracle(DiffusionCase(data), x, a, sigma, rtol=1e-10)


EXTREME_LEVELS = {
    "a=1e-12": (1e-12, 1.0), "sigma=1e-12": (1.0, 1e-12), "a=0": (0.0, 1.0), "sigma=0": (1.0, 0.0),
    "a=sigma=1e-9": (1e-9, 1e-9), "a=1e-300": (1e-300, 2.0), "sigma=1e-300": (0.5, 1e-300),
    "ve-sigma-max": (1.0, 80.0), "edm-sigma-min": (1.0, 0.002),
}


@pytest.mark.parametrize("data", DATA.values(), ids=DATA.keys())
@pytest.mark.parametrize("a, sigma", EXTREME_LEVELS.values(), ids=EXTREME_LEVELS.keys())
def test_fields_at_extreme_levels_match_the_conditioning_oracle(data, a, sigma):
    rng = np.random.default_rng(5)
    case = DiffusionCase(data)
    x = np.concatenate([draw_x(data, a, sigma, 4, rng), 3.0 * rng.standard_normal((2, data.dim))])
    assert_fields_match_oracle(case, x, a, sigma, rtol=1e-12)
    if a <= 1e-12 and sigma >= 1.0:                       # nearly pure noise: x̂ is the data mean to O(a)
        mean = data.mean if isinstance(data, si_ref.Gaussian) else data.weights @ data.means
        np.testing.assert_allclose(case.denoised_at(x, a, sigma), np.broadcast_to(mean, x.shape), rtol=0, atol=1e-10)
    if sigma == 0.0:                                      # no noise: x̂ = x/a, ε̂ = E[ε] = 0
        np.testing.assert_allclose(case.denoised_at(x, a, sigma), x / a, rtol=0, atol=4e-16 * np.max(np.abs(x / a)))
        np.testing.assert_array_equal(case.epsilon_at(x, a, sigma), 0.0)


@pytest.mark.parametrize("data", DATA.values(), ids=DATA.keys())
def test_per_row_levels_equal_the_scalar_calls_row_by_row(data):
    """Rows with σ < a, σ > a, σ = a, a = 0 and σ = 0 in one call."""
    levels = np.array([(1.0, 0.2), (0.3, 2.0), (0.5, 0.5), (0.0, 1.5), (2.0, 0.0), (1e-12, 1.0), (1.0, 1e-12)])
    a, sigma = levels[:, 0], levels[:, 1]
    rng = np.random.default_rng(8)
    x = rng.standard_normal((len(levels), data.dim))
    case = DiffusionCase(data)
    for name in ("epsilon", "denoised", "v", "score", "log_density"):
        rows = at(case, name, x, a, sigma)
        for i in range(len(levels)):
            single = at(case, name, x[i:i + 1], a[i], sigma[i])[0]
            np.testing.assert_allclose(rows[i], single, rtol=1e-15, atol=1e-15 * max(1.0, np.max(np.abs(single))),
                                       err_msg=f"{name} row {i}")
    # one array, one scalar
    np.testing.assert_allclose(case.denoised_at(x, a, 0.7), np.concatenate(
        [case.denoised_at(x[i:i + 1], a[i], 0.7) for i in range(len(levels))]), rtol=1e-15, atol=1e-15)



@pytest.mark.parametrize("data", DATA.values(), ids=DATA.keys())
def test_levels_as_columns_or_one_element_arrays_equal_rows_and_scalars(data):
    """The level shapes every diffusion function takes: (n,) and (n, 1) are the same levels, and an
    array of one element is the scalar (bit for bit: the same branch is taken)."""
    a, sigma = np.array([1.0, 0.3, 0.0, 2.0]), np.array([0.2, 2.0, 1.5, 0.0])
    x = np.random.default_rng(9).standard_normal((4, data.dim))
    case = DiffusionCase(data)
    for name in ("epsilon", "denoised", "v", "score", "log_density"):
        np.testing.assert_array_equal(at(case, name, x, a[:, None], sigma[:, None]), at(case, name, x, a, sigma),
                                      err_msg=name)
        np.testing.assert_array_equal(at(case, name, x, np.array([0.7]), np.array([[0.4]])),
                                      at(case, name, x, 0.7, 0.4), err_msg=name)

# --- the score is the gradient of the library's own log density; Tweedie ------------------------------

def width(case, a, sigma):
    """The smallest standard deviation of the components of the law of x at the level."""
    covs = case.components_at(a, sigma).covs
    return np.sqrt(min(np.linalg.eigvalsh(c)[0] for c in covs))


@given(st.sampled_from(sorted(DATA)), st.floats(0.0, 3.0), st.floats(0.0, 3.0), seeds)
def test_score_is_the_gradient_of_log_density_and_tweedie_holds(name, a, sigma, seed):
    if a + sigma < 1e-3:
        a = 1.0
    data = DATA[name]
    case = DiffusionCase(data)
    x = draw_x(data, a, sigma, 4, np.random.default_rng(seed))
    h = 1e-3 * width(case, a, sigma)
    numeric = gradient(lambda y: case.log_density_at(y, a, sigma), x, h)
    score = case.score_at(x, a, sigma)
    np.testing.assert_allclose(score, numeric, rtol=1e-7, atol=1e-7 * np.max(np.abs(numeric)))
    # Tweedie: ε̂ = −σ s and x̂ = (x + σ² s)/a (different code routes: denoise_x0 / denoise_x1 / score)
    np.testing.assert_allclose(case.epsilon_at(x, a, sigma), -sigma * score, rtol=1e-12,
                               atol=1e-12 * max(1.0, sigma * np.max(np.abs(score))))
    if a > 1e-3:
        cancel = (np.max(np.abs(x)) + sigma**2 * np.max(np.abs(score))) / a
        np.testing.assert_allclose(case.denoised_at(x, a, sigma), (x + sigma**2 * score) / a, rtol=1e-12,
                                   atol=1e-12 * cancel)


# --- Monte Carlo: conditional means by self-normalised importance sampling -----------------------------

MC_LEVELS = {"vp-0.5": (VPLinearPath().a(0.5), VPLinearPath().sigma(0.5)), "vp-0.3": (VPLinearPath().a(0.3), VPLinearPath().sigma(0.3)),
             "ve-1": (1.0, 1.0), "sharp": (1.0, 0.3)}


@pytest.mark.parametrize("a, sigma", MC_LEVELS.values(), ids=MC_LEVELS.keys())
def test_fields_are_importance_weighted_monte_carlo_conditional_means(a, sigma):
    """Draw x_i ~ data (M = 200k); given x, w_i ∝ N(x; a x_i, σ² I) and ε_i = (x − a x_i)/σ:
    E[x_data | x] ≈ Σ w_i x_i, E[a ε − σ x_data | x] ≈ Σ w_i (a ε_i − σ x_i), ρ(x) ≈ mean_i N(x; a x_i, σ² I).
    Standard errors by the delta method; every estimate within 4 of them."""
    rng = np.random.default_rng(2024)
    M, d = 200_000, 2
    samples = MIXTURE.sample(M, rng)
    case = DiffusionCase(MIXTURE)
    x = draw_x(MIXTURE, a, sigma, 3, rng)
    for point in x:
        log_kernel = -0.5 * np.sum((point - a * samples) ** 2, axis=1) / sigma**2 - d * np.log(sigma) - 0.5 * d * np.log(2 * np.pi)
        w = np.exp(log_kernel - logsumexp(log_kernel))
        ess = 1.0 / np.sum(w**2)
        assert ess > 2000, ess
        here = point[None]
        eps = (point - a * samples) / sigma
        for name, y in (("denoised", samples), ("v", a * eps - sigma * samples)):
            estimate = w @ y
            standard_error = np.sqrt(w**2 @ (y - estimate) ** 2)
            exact = at(case, name, here, a, sigma)[0]
            np.testing.assert_array_less(np.abs(exact - estimate), 4 * standard_error, err_msg=name)
            if name == "denoised":      # power: the prior mean is far outside the error bars
                assert np.max(np.abs(MIXTURE.weights @ MIXTURE.means - estimate) / standard_error) > 20
        kernel = np.exp(log_kernel)
        log_rho, log_se = np.log(kernel.mean()), kernel.std() / (np.sqrt(M) * kernel.mean())
        assert abs(case.log_density_at(here, a, sigma)[0] - log_rho) < 4 * log_se, (log_rho, log_se)


# --- PDEs in τ by finite differences -------------------------------------------------------------------

TIME_STEP = 1e-3
PDE_TAUS = (0.1, 0.3, 0.5, 0.8)


def pde_terms(case, x, tau):
    path = case.path
    a, sigma = path.a(tau), path.sigma(tau)
    h = 1e-3 * width(case, a, sigma)
    dt_log_rho = central_difference(lambda s: case.log_density(x, s), tau, TIME_STEP)
    score = case.score(x, tau)
    laplacian_log_rho = divergence(lambda y: case.score(y, tau), x, h)
    return dt_log_rho, score, laplacian_log_rho, h


def assert_small(residual, *terms, rtol=1e-6):
    scale = sum(np.abs(term) for term in terms)
    np.testing.assert_array_less(np.abs(residual), rtol * scale + 1e-12)


@pytest.mark.parametrize("tau", PDE_TAUS)
@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_flow_velocity_satisfies_the_continuity_equation_in_tau(path, tau):
    """∂_τ log ρ + ∇·u + u·s = 0 (÷ρ of ∂_τ ρ + ∇·(u ρ) = 0); eighth-order differences of the library's
    log density (τ step 1e-3) and flow velocity (x step 1e-3 of the narrowest component)."""
    case = DiffusionCase(MIXTURE, path)
    x = draw_x(MIXTURE, path.a(tau), path.sigma(tau), 4, np.random.default_rng(1))
    dt_log_rho, score, _, h = pde_terms(case, x, tau)
    u = case.flow_velocity(x, tau)
    div_u = divergence(lambda y: case.flow_velocity(y, tau), x, h)
    transport = np.sum(u * score, axis=1)
    assert_small(dt_log_rho + div_u + transport, dt_log_rho, div_u, transport)


@pytest.mark.parametrize("tau", PDE_TAUS)
@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_forward_and_reverse_sdes_satisfy_the_fokker_planck_equation(path, tau):
    """Noising SDE dx = f x dτ + g dW: ∂_τ log ρ = −d f − f x·s + ½ g² (Δ log ρ + |s|²).
    Reverse SDE drift F (run with dτ < 0) has the same marginals:
    ∂_τ log ρ = −∇·F − F·s − ½ g² (Δ log ρ + |s|²), with ∇·F by differences of the library's F."""
    case = DiffusionCase(MIXTURE, path)
    x = draw_x(MIXTURE, path.a(tau), path.sigma(tau), 4, np.random.default_rng(2))
    dt_log_rho, score, lap, h = pde_terms(case, x, tau)
    f, g2 = path.drift_coefficient(tau), path.diffusion_squared(tau)
    d = x.shape[1]
    diffusion = 0.5 * g2 * (lap + np.sum(score**2, axis=1))
    drift_terms = -d * f - f * np.sum(x * score, axis=1)
    assert_small(dt_log_rho - drift_terms - diffusion, dt_log_rho, drift_terms, diffusion)
    F = case.reverse_sde_drift(x, tau)
    div_F = divergence(lambda y: case.reverse_sde_drift(y, tau), x, h)
    transport = np.sum(F * score, axis=1)
    assert_small(dt_log_rho + div_F + transport + diffusion, dt_log_rho, div_F, transport, diffusion)


def test_a_wrong_sign_of_the_reverse_drift_fails_the_fokker_planck_check():
    """The check above has power: f x + g² s (the sign error) leaves an O(1) residual."""
    path, tau = VPLinearPath(), 0.5
    case = DiffusionCase(MIXTURE, path)
    x = draw_x(MIXTURE, path.a(tau), path.sigma(tau), 4, np.random.default_rng(2))
    dt_log_rho, score, lap, h = pde_terms(case, x, tau)
    g2 = path.diffusion_squared(tau)
    wrong = lambda y: case.reverse_sde_drift(y, tau) + 2 * g2 * case.score(y, tau)
    residual = (dt_log_rho + divergence(wrong, x, h) + np.sum(wrong(x) * score, axis=1)
                + 0.5 * g2 * (lap + np.sum(score**2, axis=1)))
    assert np.max(np.abs(residual)) > 0.1


# --- identities between the drifts --------------------------------------------------------------------

DRIFT_TAUS = np.array([0.0, 1e-12, 1e-6, 0.05, 0.3, 0.5, 0.9, 0.99])


@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_pf_ode_drift_is_the_flow_velocity_and_reverse_drift_subtracts_half_g2_score(path):
    """f x − ½ g² s (Song et al. eq. 13) against ȧ x̂ − σσ̇ s; f x − g² s against u − ½ g² s."""
    case = DiffusionCase(MIXTURE, path)
    rng = np.random.default_rng(4)
    for tau in DRIFT_TAUS:
        x = draw_x(MIXTURE, path.a(tau), path.sigma(tau), 5, rng)
        u, s = case.flow_velocity(x, tau), case.score(x, tau)
        f, g2 = path.drift_coefficient(tau), path.diffusion_squared(tau)
        scale = 1e-12 * max(1.0, np.max(np.abs(f * x)), np.max(np.abs(g2 * s)))
        np.testing.assert_allclose(case.pf_ode_drift(x, tau), u, rtol=1e-11, atol=scale, err_msg=f"tau {tau}")
        np.testing.assert_allclose(case.reverse_sde_drift(x, tau), u - 0.5 * g2 * s, rtol=1e-11, atol=scale,
                                   err_msg=f"tau {tau}")


@pytest.mark.parametrize("name", A_ZERO_AT_END)
def test_sde_drifts_raise_where_a_is_zero_but_the_flow_velocity_is_finite(name):
    case = DiffusionCase(MIXTURE, PATHS[name])
    x = np.array([[0.3, -0.2]])
    assert np.isfinite(case.flow_velocity(x, 1.0)).all()
    for method in (case.pf_ode_drift, case.reverse_sde_drift):
        assert_raises_naming(lambda: method(x, 1.0), ValueError, ["tau = [1.0]", "a(tau) = 0"])


# --- si_ref's interpolant fields (t = 1 − τ) --------------------------------------------------------------

EXACT_TAUS = (0.0625, 0.25, 0.5, 0.75, 0.9375)      # 1 − (1 − τ) = τ exactly


@pytest.mark.parametrize("data", DATA.values(), ids=DATA.keys())
@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_interpolant_case_fields_are_the_diffusion_fields_at_one_minus_t(path, data):
    """GaussianCase of path.interpolant() (its K Σ⁻¹ route): x̂0 = ε̂, x̂1 = x̂, s = s, velocity = drift = −u,
    log ρ equal; its forward SDE drift with ε(t) = ½ g²(1 − t) is −(reverse SDE drift), its backward SDE drift
    with the same ε is −f x (the noising SDE run forward in τ)."""
    case = DiffusionCase(data, path)
    interpolant = case.interpolant_case()
    rng = np.random.default_rng(6)
    for tau in EXACT_TAUS:
        t = 1.0 - tau
        x = draw_x(data, path.a(tau), path.sigma(tau), 4, rng)
        pairs = {"denoise_x0": case.epsilon(x, tau), "denoise_x1": case.denoised(x, tau), "score": case.score(x, tau),
                 "velocity": -case.flow_velocity(x, tau), "drift": -case.flow_velocity(x, tau),
                 "log_density": case.log_density(x, tau)}
        for name, expected in pairs.items():
            np.testing.assert_allclose(getattr(interpolant, name)(x, t), expected, rtol=1e-10,
                                       atol=1e-10 * max(1.0, np.max(np.abs(expected))), err_msg=f"{name} tau {tau}")
        half_g2 = 0.5 * path.diffusion_squared(tau)
        reverse = case.reverse_sde_drift(x, tau)
        np.testing.assert_allclose(interpolant.forward_drift(x, t, half_g2), -reverse, rtol=1e-10,
                                   atol=1e-10 * max(1.0, np.max(np.abs(reverse))))
        np.testing.assert_allclose(interpolant.backward_drift(x, t, half_g2), -path.drift_coefficient(tau) * x,
                                   rtol=1e-10, atol=1e-10 * max(1.0, np.max(np.abs(reverse))))


# --- finite on the closed interval, exact limits -------------------------------------------------------

CLOSED_TAUS = (0.0, 1e-12, 1 - 1e-12, 1.0)


@pytest.mark.parametrize("data", DATA.values(), ids=DATA.keys())
@pytest.mark.parametrize("name", PATHS)
def test_every_field_is_finite_at_and_next_to_the_ends(name, data):
    path = PATHS[name]
    case = DiffusionCase(data, path)
    x = np.random.default_rng(7).standard_normal((5, data.dim)) * 2.0
    for tau in CLOSED_TAUS:
        for field in FIELDS + ("log_density",):
            value = getattr(case, field)(x, tau)
            assert np.isfinite(value).all() and value.dtype == np.float64, (field, tau)
        assert (case.density(x, tau) >= 0).all()
        if path.a(tau) > 0:
            for field in ("pf_ode_drift", "reverse_sde_drift"):
                assert np.isfinite(getattr(case, field)(x, tau)).all(), (field, tau)


@pytest.mark.parametrize("data", DATA.values(), ids=DATA.keys())
@pytest.mark.parametrize("name", ["vp-linear", "cosine", "zero-terminal-snr-vp", "rectified-flow"])
def test_fields_at_tau_zero_are_the_limits_and_the_data_distribution(name, data):
    """σ(0) = 0, a(0) = 1: u(0) = lim u(τ) (checked at τ = 1e-9 where σ̇ is finite), x̂ = x, ε̂ = 0,
    and log ρ_0, s_0 are the data distribution's own log_prob and score."""
    case = DiffusionCase(data, PATHS[name])
    x = np.random.default_rng(9).standard_normal((5, data.dim))
    u0 = case.flow_velocity(x, 0.0)
    np.testing.assert_allclose(u0, case.flow_velocity(x, 1e-9), rtol=1e-7, atol=1e-7 * np.max(np.abs(u0)))
    np.testing.assert_allclose(case.denoised(x, 0.0), x, rtol=0, atol=4e-16 * np.max(np.abs(x)))
    np.testing.assert_array_equal(case.epsilon(x, 0.0), 0.0)
    np.testing.assert_allclose(case.log_density(x, 0.0), data.log_prob(x), rtol=1e-13)
    np.testing.assert_allclose(case.score(x, 0.0), data.score(x), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("data", DATA.values(), ids=DATA.keys())
@pytest.mark.parametrize("name", A_ZERO_AT_END)
def test_fields_at_tau_one_where_a_is_zero_are_pure_noise(name, data):
    """a(1) = 0, σ(1) = 1: x̂ = E[x_data] (the data mean), ε̂ = x, s = −x, log ρ = log N(x; 0, I)."""
    case = DiffusionCase(data, PATHS[name])
    x = np.random.default_rng(10).standard_normal((5, data.dim))
    mean = data.mean if isinstance(data, si_ref.Gaussian) else data.weights @ data.means
    np.testing.assert_allclose(case.denoised(x, 1.0), np.broadcast_to(mean, x.shape), rtol=1e-15)
    np.testing.assert_allclose(case.epsilon(x, 1.0), x, rtol=1e-15)
    np.testing.assert_allclose(case.score(x, 1.0), -x, rtol=1e-15)
    np.testing.assert_allclose(case.log_density(x, 1.0), multivariate_normal(np.zeros(data.dim)).logpdf(x), rtol=1e-14)


# --- methods in τ, dispatch, components ---------------------------------------------------------------

@pytest.mark.parametrize("name", PATHS)
def test_methods_in_tau_are_the_methods_at_the_paths_level(name):
    path = PATHS[name]
    case, bare = DiffusionCase(MIXTURE, path), DiffusionCase(MIXTURE)
    x = np.random.default_rng(11).standard_normal((3, 2))
    tau = np.array([0.2, 0.6, 0.95])
    a, sigma = path.a(tau), path.sigma(tau)
    for field in ("epsilon", "denoised", "v", "score", "log_density"):
        np.testing.assert_array_equal(getattr(case, field)(x, tau), at(bare, field, x, a, sigma), err_msg=field)
    methods = {"epsilon": case.epsilon, "sample": case.denoised, "v_prediction": case.v, "score": case.score,
               "flow": case.flow_velocity}
    assert set(methods) == set(PREDICTION_TYPES)
    for kind, method in methods.items():
        np.testing.assert_array_equal(case.prediction(kind, x, tau), method(x, tau), err_msg=kind)
    np.testing.assert_allclose(case.density(x, tau), np.exp(case.log_density(x, tau)), rtol=1e-15)


def test_components_are_the_scaled_data_components_and_give_the_log_density():
    path, tau = VPLinearPath(), 0.4
    case = DiffusionCase(MIXTURE, path)
    a, sigma = path.a(tau), path.sigma(tau)
    weights, means, covs = case.components(tau)
    np.testing.assert_array_equal(weights, MIXTURE.weights)
    np.testing.assert_allclose(means, a * MIXTURE.means, rtol=1e-15)
    np.testing.assert_allclose(covs, a**2 * MIXTURE.covs + sigma**2 * np.eye(2), rtol=1e-15)
    x = np.random.default_rng(12).standard_normal((4, 2))
    log_rho = logsumexp([np.log(w) + multivariate_normal(m, c).logpdf(x) for w, m, c in zip(weights, means, covs)], axis=0)
    np.testing.assert_allclose(case.log_density(x, tau), log_rho, rtol=1e-13)
    single = DiffusionCase(GAUSSIAN_3D).components_at(2.0, 0.5)
    np.testing.assert_allclose(single.covs[0], 4.0 * GAUSSIAN_3D.cov + 0.25 * np.eye(3), rtol=1e-15)


def test_float32_input_gives_float64_and_inputs_are_not_modified():
    case = DiffusionCase(MIXTURE, CosinePath())
    x = np.random.default_rng(13).standard_normal((3, 2)).astype(np.float32)
    a = np.array([0.2, 0.5, 0.9])
    x_copy, a_copy = x.copy(), a.copy()
    for field in FIELDS:
        assert getattr(case, field)(x, 0.4).dtype == np.float64
    assert case.denoised_at(x, a, 0.3).dtype == np.float64
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(a, a_copy)
    np.testing.assert_allclose(case.denoised(x, 0.4), case.denoised(x.astype(np.float64), 0.4), rtol=1e-15)


def test_si_ref_velocity_of_a_vp_path_names_the_infinite_derivative_at_the_data_end():
    """At t = 1 (τ = 0) α̇ = −σ̇(0) = −∞: si_ref's velocity is refused with that reason (not "rescale the
    points"), while the diffusion flow velocity, its finite limit, is returned."""
    case = DiffusionCase(si_ref.Gaussian(np.zeros(2), np.eye(2)), VPLinearPath())
    x = np.ones((2, 2))
    with pytest.raises(ValueError, match=r"alpha_dot or beta_dot of DiffusionInterpolant is infinite at t = \[1.0\]"):
        case.interpolant_case().velocity(x, 1.0)
    assert np.isfinite(case.flow_velocity(x, 0.0)).all()
