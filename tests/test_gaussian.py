"""Exact Gaussian(-mixture) fields: identities, PDE residuals by finite differences,
Monte Carlo conditional expectations, quadratic objectives and the exact flow map."""

import mpmath as mp
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

import si_ref
from si_ref import strategies as sis

from reference import central_difference, divergence, gradient, laplacian, assert_raises_naming

cases = sis.gaussian_cases(st.integers(1, 4))
seeds = st.integers(0, 2**32 - 1)
IDENTITY_RTOL = 1e-10


def scale_of(*arrays):
    """Absolute floor for identities between fields whose terms have this size."""
    return 1e-10 * max(1.0, *(np.max(np.abs(a)) for a in arrays))


def coupled_endpoints(case, n, rng):
    """Draw (x0, x1) from the case's coupling: independent mixtures, or jointly Gaussian."""
    if case.interpolant.kind == "mirror":
        x1 = case.target.sample(n, rng)
        return x1, x1
    if case.cross_cov is None:
        return case.base.sample(n, rng), case.target.sample(n, rng)
    d = case.dim
    joint = np.block([[case.base.cov, case.cross_cov], [case.cross_cov.T, case.target.cov]])
    eigenvalues, vectors = np.linalg.eigh(joint)
    root = vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))  # PSD square root (test code only)
    draws = rng.standard_normal((n, 2 * d)) @ root.T
    return case.base.mean + draws[:, :d], case.target.mean + draws[:, d:]


def sample_x_t(case, t, n, rng):
    x0, x1 = coupled_endpoints(case, n, rng)
    z = rng.standard_normal((n, case.dim))
    return case.interpolant.interpolant(t, x0, x1, z), (x0, x1, z)


def smooth_in_time(case, t, h):
    """Skip times where the coefficients are not smooth on the scale of the stencil."""
    if isinstance(case.interpolant, si_ref.EncoderDecoderInterpolant):
        assume(abs(t - 0.5) > 5 * h)
    if isinstance(case.interpolant, si_ref.VPTrigInterpolant):
        assume(case.interpolant.gamma_schedule.max_gamma <= 0.99)


# --- identities between the fields -------------------------------------------------------------

@given(cases, sis.times(), seeds)
def test_interpolant_identity_x_equals_alpha_x0hat_plus_beta_x1hat_plus_gamma_eta(case, t, seed):
    x, _ = sample_x_t(case, t, 5, np.random.default_rng(seed))
    I = case.interpolant
    rebuilt = I.alpha(t) * case.denoise_x0(x, t) + I.beta(t) * case.denoise_x1(x, t) + I.gamma(t) * case.noise(x, t)
    np.testing.assert_allclose(rebuilt, x, rtol=IDENTITY_RTOL, atol=scale_of(x, case.denoise_x0(x, t)))


@given(cases, sis.times(), seeds)
def test_velocity_is_alpha_dot_x0hat_plus_beta_dot_x1hat(case, t, seed):
    x, _ = sample_x_t(case, t, 5, np.random.default_rng(seed))
    I = case.interpolant
    expected = I.alpha_dot(t) * case.denoise_x0(x, t) + I.beta_dot(t) * case.denoise_x1(x, t)
    np.testing.assert_allclose(case.velocity(x, t), expected, rtol=IDENTITY_RTOL, atol=scale_of(expected))


@given(cases, sis.times(), seeds)
def test_drift_is_velocity_minus_gamma_gamma_dot_score(case, t, seed):
    x, _ = sample_x_t(case, t, 5, np.random.default_rng(seed))
    s, v = case.score(x, t), case.velocity(x, t)
    expected = v - case.interpolant.gamma_gamma_dot(t) * s
    np.testing.assert_allclose(case.drift(x, t), expected, rtol=IDENTITY_RTOL, atol=scale_of(v, s))


@given(cases, sis.times(exclude_min=True, exclude_max=True), seeds)
def test_score_is_minus_noise_over_gamma_and_drift_is_velocity_plus_gamma_dot_noise(case, t, seed):
    gamma = case.interpolant.gamma(t)
    assume(gamma > 1e-3)
    x, _ = sample_x_t(case, t, 5, np.random.default_rng(seed))
    eta, s = case.noise(x, t), case.score(x, t)
    np.testing.assert_allclose(s, -eta / gamma, rtol=IDENTITY_RTOL, atol=scale_of(s))
    expected = case.velocity(x, t) + case.interpolant.gamma_dot(t) * eta
    np.testing.assert_allclose(case.drift(x, t), expected, rtol=IDENTITY_RTOL, atol=scale_of(expected))


@given(sis.gaussian_cases(st.integers(1, 4), families="mirror"), sis.times(), seeds)
def test_mirror_drift_is_minus_gamma_gamma_dot_score_and_velocity_vanishes(case, t, seed):
    x, _ = sample_x_t(case, t, 5, np.random.default_rng(seed))
    s = case.score(x, t)
    np.testing.assert_allclose(case.drift(x, t), -case.interpolant.gamma_gamma_dot(t) * s, rtol=IDENTITY_RTOL, atol=scale_of(s))
    np.testing.assert_array_equal(case.velocity(x, t), 0.0 * s)
    np.testing.assert_allclose(case.denoise_x0(x, t), case.denoise_x1(x, t), rtol=1e-14)


@given(sis.gaussian_cases(st.integers(1, 4), families=["one-sided-linear", "one-sided-trig"]),
       sis.times(exclude_max=True), seeds)
def test_one_sided_score_is_minus_x0hat_over_alpha(case, t, seed):
    alpha = case.interpolant.alpha(t)
    assume(alpha > 1e-3)
    x, _ = sample_x_t(case, t, 5, np.random.default_rng(seed))
    s = case.score(x, t)
    np.testing.assert_allclose(s, -case.denoise_x0(x, t) / alpha, rtol=IDENTITY_RTOL, atol=scale_of(s))


@given(cases, sis.times(), seeds, st.floats(0.0, 3.0))
def test_sde_drifts_add_and_subtract_eps_times_score(case, t, seed, eps):
    x, _ = sample_x_t(case, t, 4, np.random.default_rng(seed))
    b, s = case.drift(x, t), case.score(x, t)
    np.testing.assert_allclose(case.forward_drift(x, t, eps), b + eps * s, rtol=1e-13, atol=scale_of(b, s))
    np.testing.assert_allclose(case.backward_drift(x, t, lambda u: eps * np.ones_like(u)), b - eps * s,
                               rtol=1e-13, atol=scale_of(b, s))


# --- an independent oracle: conditioning the joint Gaussian of (x0, x1, z) ----------------------

def component_list(dist):
    if isinstance(dist, si_ref.Gaussian):
        return [(1.0, dist.mean, dist.cov)]
    return list(zip(dist.weights, dist.means, dist.covs))


def joint_conditioning_oracle(case, x, t):
    """Every field from the textbook formula E[w | Aw = x] = m + S Aᵀ (A S Aᵀ)⁻¹ (x − A m) for
    w = (x0, x1, z) ~ N(m, S), x_t = A w with A = [αI, βI, γI], one pair at a time, with
    responsibilities from scipy's multivariate normal. Shares no code with si_ref.gaussian."""
    from scipy.special import logsumexp, softmax
    from scipy.stats import multivariate_normal

    I, d = case.interpolant, case.dim
    eye, zero = np.eye(d), np.zeros((d, d))
    if I.kind == "mirror":       # x0 is x1: the joint of (x1, x1, z)
        pairs = [(w, m, S, m, S, S) for w, m, S in component_list(case.target)]
    else:
        C = np.zeros((d, d)) if case.cross_cov is None else case.cross_cov
        pairs = [(w0 * w1, m0, S0, m1, S1, C)
                 for w0, m0, S0 in component_list(case.base) for w1, m1, S1 in component_list(case.target)]
    A = np.hstack([I.alpha(t) * eye, I.beta(t) * eye, I.gamma(t) * eye])
    A_dot = np.hstack([I.alpha_dot(t) * eye, I.beta_dot(t) * eye, I.gamma_dot(t) * eye])
    log_weights, conditional_means, scores = [], [], []
    for weight, m0, S0, m1, S1, C in pairs:
        m = np.concatenate([m0, m1, np.zeros(d)])
        S = np.block([[S0, C, zero], [C.T, S1, zero], [zero, zero, eye]])
        mean_x, cov_x = A @ m, A @ S @ A.T
        solved = np.linalg.solve(cov_x, (x - mean_x).T)            # (d, n)
        conditional_means.append((m[:, None] + S @ A.T @ solved).T)  # (n, 3d)
        scores.append(-solved.T)
        log_weights.append(np.log(weight) + multivariate_normal(mean_x, cov_x).logpdf(x).reshape(-1))
    log_weights = np.array(log_weights).T                            # (n, P)
    r = softmax(log_weights, axis=1)
    E = np.einsum("np,pnk->nk", r, np.array(conditional_means))       # E[w | x_t = x]
    return {
        "denoise_x0": E[:, :d], "denoise_x1": E[:, d:2 * d], "noise": E[:, 2 * d:],
        "velocity": E[:, :2 * d] @ A_dot[:, :2 * d].T, "drift": E @ A_dot.T,
        "score": np.einsum("np,pnd->nd", r, np.array(scores)), "log_density": logsumexp(log_weights, axis=1),
    }


@given(sis.gaussian_cases(st.integers(1, 4)), sis.times(exclude_min=True, exclude_max=True), seeds)
def test_fields_match_conditioning_of_the_joint_gaussian_of_x0_x1_z(case, t, seed):
    x, _ = sample_x_t(case, t, 4, np.random.default_rng(seed))
    for name, expected in joint_conditioning_oracle(case, x, t).items():
        np.testing.assert_allclose(getattr(case, name)(x, t), expected, rtol=1e-8, atol=1e-8 * max(1.0, np.max(np.abs(expected))), err_msg=name)


@given(sis.gaussians(2, min_eigenvalue=0.2, max_eigenvalue=3.0), sis.gaussians(2, min_eigenvalue=0.2, max_eigenvalue=3.0),
       st.floats(-0.9, 0.9), st.floats(0.0, 2 * np.pi), sis.interpolants(families=["linear", "trig", "vp-trig", "custom"]),
       sis.times(exclude_min=True, exclude_max=True), seeds)
def test_non_symmetric_cross_covariance_is_conditioned_on_the_right_side(base, target, rho, angle, interpolant, t, seed):
    """C and Cᵀ enter the identities and the PDEs only through C + Cᵀ; this oracle sees each."""
    assume(interpolant.kind == "two-sided")
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    c = np.linalg.cholesky(base.cov) @ (rho * rotation) @ np.linalg.cholesky(target.cov).T
    case = si_ref.GaussianCase(interpolant, base, target, cross_cov=c)
    x, _ = sample_x_t(case, t, 4, np.random.default_rng(seed))
    for name, expected in joint_conditioning_oracle(case, x, t).items():
        np.testing.assert_allclose(getattr(case, name)(x, t), expected, rtol=1e-8, atol=1e-8 * max(1.0, np.max(np.abs(expected))), err_msg=name)


# --- derivatives of the library's own density and fields -----------------------------------------

SPACE_STEP = 1e-3
TIME_STEP = 1e-3
PDE_RTOL = 1e-6


@given(cases, sis.times(), seeds)
def test_score_is_the_gradient_of_log_density(case, t, seed):
    x, _ = sample_x_t(case, t, 4, np.random.default_rng(seed))
    numeric = gradient(lambda y: case.log_density(y, t), x, SPACE_STEP)
    np.testing.assert_allclose(case.score(x, t), numeric, rtol=PDE_RTOL, atol=PDE_RTOL * np.max(np.abs(numeric)))


@given(cases, sis.times(), seeds)
def test_divergence_is_the_trace_of_the_drift_jacobian(case, t, seed):
    x, _ = sample_x_t(case, t, 4, np.random.default_rng(seed))
    numeric = divergence(lambda y: case.drift(y, t), x, SPACE_STEP)
    np.testing.assert_allclose(case.divergence(x, t), numeric, rtol=PDE_RTOL, atol=PDE_RTOL * max(1.0, np.max(np.abs(numeric))))


# score_divergence against an independent second-order central-difference Laplacian of log ρ_t.
LAPLACIAN_STEP = 1e-4
#: Error of the 3-point second difference with step h in d dimensions: rounding about
#: 4 d eps |log ρ| / h² <= 4 * 3 * 2.2e-16 * 12 / 1e-8 ≈ 3.2e-6 (|log ρ| <= 12 at these points), plus
#: truncation d h² max|∂⁴ log ρ| / 12 <= 3 * 1e-8 * 200 / 12 ≈ 5e-7 (∂⁴ log ρ <= 200 measured with
#: h = 1e-3 on these cases). A wrong sign of either term of the formula is off by O(1).
LAPLACIAN_ATOL = 1e-5


def second_difference_laplacian(f, x, h):
    """Σ_i [f(x + h e_i) − 2 f(x) + f(x − h e_i)] / h², for f mapping (n, d) to (n,)."""
    centre = f(x)
    total = np.zeros(x.shape[0])
    for i in range(x.shape[1]):
        shift = np.zeros(x.shape[1])
        shift[i] = h
        total += (f(x + shift) - 2.0 * centre + f(x - shift)) / h**2
    return total


def laplacian_cases():
    s0 = np.array([[1.0, 0.3], [0.3, 0.5]])
    s1 = np.array([[0.4, -0.2], [-0.2, 1.5]])
    mixture = si_ref.GaussianMixture(np.array([0.3, 0.7]), np.array([[-2.0, 0.0], [2.0, 1.0]]),
                                     np.stack([0.2 * np.eye(2), np.array([[0.4, 0.1], [0.1, 0.3]])]))
    mixture_3d = si_ref.GaussianMixture(np.array([0.5, 0.5]), np.array([[1.0, 0.0, 0.0], [-1.0, 0.5, 0.0]]),
                                        np.stack([0.3 * np.eye(3), np.diag([0.2, 0.5, 1.0])]))
    return {
        "mixture-trig": si_ref.GaussianCase(si_ref.TrigInterpolant(si_ref.BrownianGamma()),
                                            si_ref.Gaussian(np.zeros(2), np.eye(2)), mixture),
        "coupled-gaussians": si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()), si_ref.Gaussian(np.zeros(2), s0),
                                                 si_ref.Gaussian(np.array([3.0, -1.0]), s1),
                                                 cross_cov=0.3 * np.linalg.cholesky(s0) @ np.linalg.cholesky(s1).T),
        "mirror-mixture-3d": si_ref.GaussianCase(si_ref.MirrorInterpolant(si_ref.SineSquaredGamma()), None, mixture_3d),
    }


@pytest.mark.parametrize("t", [0.0, 0.3, 0.7, 1.0])
@pytest.mark.parametrize("name", ["mixture-trig", "coupled-gaussians", "mirror-mixture-3d"])
def test_score_divergence_is_the_second_difference_laplacian_of_log_density(name, t):
    case = laplacian_cases()[name]
    x, _ = sample_x_t(case, t, 8, np.random.default_rng(11))
    numeric = second_difference_laplacian(lambda y: case.log_density(y, t), x, LAPLACIAN_STEP)
    assert np.max(np.abs(case.log_density(x, t))) <= 12.0          # the rounding bound above holds
    np.testing.assert_allclose(case.score_divergence(x, t), numeric, rtol=0, atol=LAPLACIAN_ATOL)


def test_zero_cross_covariance_is_the_independent_coupling():
    # an all-zero cross_cov is a valid coupling (x0, x1 uncorrelated), unlike an all-zero covariance
    base, target = si_ref.Gaussian(np.zeros(2), np.eye(2)), si_ref.Gaussian(np.array([1.0, 2.0]), np.diag([0.5, 2.0]))
    interpolant = si_ref.LinearInterpolant(si_ref.BrownianGamma())
    x = np.array([[0.3, -0.2], [1.0, 2.0]])
    coupled = si_ref.GaussianCase(interpolant, base, target, cross_cov=np.zeros((2, 2)))
    independent = si_ref.GaussianCase(interpolant, base, target)
    for name in FIELDS + ("divergence", "score_divergence"):
        np.testing.assert_array_equal(getattr(coupled, name)(x, 0.4), getattr(independent, name)(x, 0.4), err_msg=name)


def noise_floor(case, x, t):
    """Rounding in the differences is ~1e-12 ρ; where every term vanishes (a symmetric point) the
    residual is compared with 1e-9 ρ instead, still far below the O(ρ) error of a wrong field."""
    return 1e-9 * case.density(x, t)


def transport_terms(case, x, t, field):
    """(∂_t ρ, ∇·(f ρ)) at x by finite differences of the library's density and field f."""
    rho_t = central_difference(lambda s: case.density(x, s), t, TIME_STEP)
    flux = divergence(lambda y: field(y, t) * case.density(y, t)[:, None], x, SPACE_STEP)
    return rho_t, flux


@given(cases, sis.times(min_t=0.01, max_t=0.99), seeds)
def test_drift_satisfies_the_continuity_equation(case, t, seed):
    smooth_in_time(case, t, TIME_STEP)
    x, _ = sample_x_t(case, t, 3, np.random.default_rng(seed))
    rho_t, flux = transport_terms(case, x, t, case.drift)
    residual = rho_t + flux
    np.testing.assert_array_less(np.abs(residual), PDE_RTOL * (np.abs(rho_t) + np.abs(flux)) + noise_floor(case, x, t))


@given(cases, sis.times(min_t=0.01, max_t=0.99), seeds, st.floats(0.1, 2.0))
def test_sde_drifts_satisfy_the_fokker_planck_equations(case, t, seed, eps):
    smooth_in_time(case, t, TIME_STEP)
    x, _ = sample_x_t(case, t, 3, np.random.default_rng(seed))
    diffusion = eps * laplacian(lambda y: case.density(y, t), x, SPACE_STEP)
    for field, sign in ((case.forward_drift, 1.0), (case.backward_drift, -1.0)):
        rho_t, flux = transport_terms(case, x, t, lambda y, s: field(y, s, eps))
        # forward: ∂_t ρ + ∇·(b_F ρ) = ε Δρ;  backward: ∂_t ρ + ∇·(b_B ρ) = −ε Δρ
        residual = rho_t + flux - sign * diffusion
        scale = np.abs(rho_t) + np.abs(flux) + np.abs(diffusion)
        np.testing.assert_array_less(np.abs(residual), PDE_RTOL * scale + noise_floor(case, x, t))


# --- Monte Carlo: the fields are conditional expectations ---------------------------------------

def local_linear_mean(x, y, center, width):
    """Intercept of y ~ a + c (x − center) over |x − center| < width, and its standard error."""
    inside = np.abs(x - center) < width
    design = np.column_stack([np.ones(inside.sum()), x[inside] - center])
    coef, *_ = np.linalg.lstsq(design, y[inside], rcond=None)
    residual = y[inside] - design @ coef
    sigma2 = residual @ residual / (inside.sum() - 2)
    covariance = sigma2 * np.linalg.inv(design.T @ design)  # 2x2 OLS covariance (test code only)
    return coef[0], np.sqrt(covariance[0, 0])


def test_fields_are_the_conditional_expectations_seen_in_monte_carlo():
    """Local linear regression of the regression targets on 10^6 samples of x_t (d = 1)."""
    rng = np.random.default_rng(2024)
    target = si_ref.GaussianMixture(np.array([0.3, 0.7]), np.array([[-2.0], [2.0]]), np.array([[[0.25]], [[0.5]]]))
    case = si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()), si_ref.Gaussian(np.zeros(1), np.eye(1)), target)
    I, t, n = case.interpolant, 0.6, 1_000_000
    x0, x1, z = rng.standard_normal((n, 1)), target.sample(n, rng), rng.standard_normal((n, 1))
    x = I.interpolant(t, x0, x1, z)[:, 0]
    targets = {
        "drift": I.interpolant_dot(t, x0, x1, z)[:, 0],
        "velocity": I.interpolant_partial_t(t, x0, x1)[:, 0],
        "noise": z[:, 0],
        "score": -z[:, 0] / I.gamma(t),
        "denoise_x0": x0[:, 0],
        "denoise_x1": x1[:, 0],
    }
    for center in (-1.0, 0.3, 1.5):
        for name, y in targets.items():
            estimate, standard_error = local_linear_mean(x, y, center, 0.05)
            exact = getattr(case, name)(np.array([[center]]), t)[0, 0]
            # the local-linear bias (~ f'' width² / 6 < 1e-3) is well below the standard error
            assert abs(estimate - exact) < 4 * standard_error, (name, center, estimate, exact, standard_error)


PERTURBATIONS = {
    "sine": lambda x: 0.3 * np.sin(x) + 0.1,
    "linear": lambda x: 0.2 * x[:, ::-1] - 0.05,
}


@pytest.mark.parametrize("perturbation", PERTURBATIONS.values(), ids=PERTURBATIONS.keys())
def test_exact_fields_minimise_their_quadratic_objectives(perturbation):
    """L(f) = E[½|f|² − y·f]: L(f + δ) − L(f) = ½E|δ|² exactly when f = E[y | x_t]."""
    rng = np.random.default_rng(7)
    base = si_ref.GaussianMixture(np.array([0.5, 0.5]), np.array([[-1.0, 0.0], [1.0, 0.5]]), np.stack([0.3 * np.eye(2)] * 2))
    target = si_ref.GaussianMixture(np.array([0.2, 0.8]), np.array([[2.0, 2.0], [-2.0, 1.0]]),
                                    np.array([[[0.5, 0.2], [0.2, 0.4]], [[0.3, 0.0], [0.0, 0.6]]]))
    case = si_ref.GaussianCase(si_ref.TrigInterpolant(si_ref.BrownianGamma()), base, target)
    I, n = case.interpolant, 200_000
    t = rng.uniform(0.05, 0.95, n)  # objectives integrate over t
    x0, x1, z = base.sample(n, rng), target.sample(n, rng), rng.standard_normal((n, 2))
    x = I.interpolant(t, x0, x1, z)
    gamma = I.gamma(t)[:, None]
    objectives = {
        "drift": I.interpolant_dot(t, x0, x1, z),   # L_b
        "velocity": I.interpolant_partial_t(t, x0, x1),  # L_v
        "noise": z,                                  # L_η
        "score": -z / gamma,                         # L_s = E[½|s|² + γ⁻¹ z·s]
        "denoise_x0": x0,
        "denoise_x1": x1,
    }
    delta = perturbation(x)
    half_delta_sq = 0.5 * np.sum(delta**2, axis=1)
    for name, y in objectives.items():
        f = getattr(case, name)(x, t)
        excess = (0.5 * np.sum((f + delta) ** 2, 1) - np.sum(y * (f + delta), 1)) - (0.5 * np.sum(f**2, 1) - np.sum(y * f, 1))
        gap = excess - half_delta_sq                 # = (f − y)·δ, mean zero for the exact field
        assert abs(gap.mean()) < 4 * gap.std() / np.sqrt(n), (name, gap.mean(), gap.std() / np.sqrt(n))


# --- the exact flow map --------------------------------------------------------------------------

single_cases = sis.gaussian_cases(st.integers(1, 4), mixtures=False)


def drift_matrix(case, t):
    """K Σ⁻¹ read off the affine drift: columns b(μ + e_i) − b(μ)."""
    mu = case.mean(t)
    d = case.dim
    return (case.drift(mu + np.eye(d), t) - case.drift(mu[None], t)).T


@given(single_cases, sis.times(), sis.times())
def test_flow_matrix_maps_the_covariance_at_t0_to_the_covariance_at_t1(case, t0, t1):
    phi = case.flow_matrix(t1, t0)
    cov1 = case.cov(t1)
    np.testing.assert_allclose(phi @ case.cov(t0) @ phi.T, cov1, rtol=1e-9, atol=1e-9 * np.max(np.abs(cov1)))


@given(single_cases, sis.times(min_t=0.01, max_t=0.99), sis.times())
def test_flow_matrix_solves_its_ode(case, t1, t0):
    smooth_in_time(case, t1, TIME_STEP)
    phi_dot = central_difference(lambda s: case.flow_matrix(s, t0), t1, TIME_STEP)
    expected = drift_matrix(case, t1) @ case.flow_matrix(t1, t0)
    np.testing.assert_allclose(phi_dot, expected, rtol=1e-6, atol=1e-6 * max(1.0, np.max(np.abs(expected))))


@given(single_cases, sis.times(), sis.times(), sis.times())
def test_flow_matrices_compose(case, t0, t1, t2):
    composed = case.flow_matrix(t2, t1) @ case.flow_matrix(t1, t0)
    direct = case.flow_matrix(t2, t0)
    np.testing.assert_allclose(composed, direct, rtol=1e-8, atol=1e-8 * max(1.0, np.max(np.abs(direct))))


def commuting_case():
    rotation = np.array([[np.cos(0.4), -np.sin(0.4)], [np.sin(0.4), np.cos(0.4)]])
    s0 = rotation @ np.diag([1.0, 0.3]) @ rotation.T
    s1 = rotation @ np.diag([0.5, 2.0]) @ rotation.T
    c = rotation @ np.diag([0.2, -0.4]) @ rotation.T
    return si_ref.GaussianCase(si_ref.TrigInterpolant(si_ref.BrownianGamma()),
                               si_ref.Gaussian(np.array([1.0, 0.0]), s0), si_ref.Gaussian(np.array([-1.0, 2.0]), s1), cross_cov=c)


def test_closed_form_flow_matrix_matches_an_independent_integration_when_matrices_commute():
    case = commuting_case()
    assert case.commuting()
    t0, t1 = 0.0, 1.0
    solution = solve_ivp(lambda t, phi: (drift_matrix(case, t) @ phi.reshape(2, 2)).ravel(),
                         (t0, t1), np.eye(2).ravel(), method="DOP853", rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(case.flow_matrix(t1, t0), solution.y[:, -1].reshape(2, 2), rtol=1e-8, atol=1e-10)


def test_flow_map_transports_samples_of_rho_t0_to_samples_of_rho_t1():
    rng = np.random.default_rng(5)
    s0 = np.array([[1.0, 0.3], [0.3, 0.5]])
    s1 = np.array([[0.4, -0.2], [-0.2, 1.5]])
    c = 0.5 * np.linalg.cholesky(s0) @ np.linalg.cholesky(s1).T
    case = si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.SineSquaredGamma()),
                               si_ref.Gaussian(np.zeros(2), s0), si_ref.Gaussian(np.array([3.0, -1.0]), s1), cross_cov=c)
    assert not case.commuting()
    n, t0, t1 = 200_000, 0.1, 0.8
    x_t0, _ = sample_x_t(case, t0, n, rng)
    moved = case.flow_map(x_t0, t1, t0)
    cov1 = case.cov(t1)
    largest = np.max(np.diag(cov1))
    # five standard errors of the sample mean and covariance
    np.testing.assert_allclose(moved.mean(axis=0), case.mean(t1), atol=5 * np.sqrt(largest / n))
    np.testing.assert_allclose(np.cov(moved.T), cov1, atol=5 * np.sqrt(2 / n) * largest)
    np.testing.assert_allclose(case.flow_map(moved, t0, t1), x_t0, rtol=1e-9, atol=1e-9)


# --- consistency, endpoints, far points -----------------------------------------------------------

FIELDS = ("score", "noise", "denoise_x0", "denoise_x1", "velocity", "drift")


@given(st.integers(1, 4).flatmap(lambda d: st.tuples(sis.gaussians(d), sis.gaussians(d))),
       sis.interpolants(families=["linear", "trig", "vp-trig", "encoder-decoder", "custom"]), sis.time_arrays(3), seeds)
def test_single_gaussian_case_agrees_with_a_one_component_mixture(endpoints, interpolant, t, seed):
    base, target = endpoints
    assume(interpolant.kind == "two-sided")
    as_mixture = lambda g: si_ref.GaussianMixture(np.ones(1), g.mean[None], g.cov[None])  # noqa: E731
    single = si_ref.GaussianCase(interpolant, base, target)
    mixture = si_ref.GaussianCase(interpolant, as_mixture(base), as_mixture(target))
    x, _ = sample_x_t(single, t, 3, np.random.default_rng(seed))
    for name in FIELDS + ("log_density", "divergence"):
        np.testing.assert_allclose(getattr(mixture, name)(x, t), getattr(single, name)(x, t), rtol=1e-12, atol=1e-12)


@given(cases, st.sampled_from([0.0, 1.0]), seeds)
def test_every_field_is_finite_at_the_endpoints(case, t, seed):
    x, _ = sample_x_t(case, t, 3, np.random.default_rng(seed))
    for name in FIELDS + ("log_density", "density", "divergence"):
        assert np.isfinite(getattr(case, name)(x, t)).all(), name
    assert np.isfinite(case.forward_drift(x, t, 1.0)).all()


def mp_mixture_score(case, x, t):
    """Score of ρ_t at one point from Σ π_p N_p(x) (−Σ_p⁻¹(x − μ_p)) / Σ π_p N_p(x), in 60-digit arithmetic."""
    weights, means, covs = case.components(t)
    with mp.workdps(60):
        numerator = mp.matrix([0] * case.dim)
        denominator = mp.mpf(0)
        for w, mu, cov in zip(weights, means, covs):
            cov_mp = mp.matrix(cov.tolist())
            diff = mp.matrix((x - mu).tolist())
            solved = mp.lu_solve(cov_mp, diff)
            quadratic = (diff.T * solved)[0]
            density = mp.mpf(w) * mp.exp(-quadratic / 2) / mp.sqrt(mp.det(2 * mp.pi * cov_mp))
            numerator += density * (-solved)
            denominator += density
        return np.array([float(v) for v in numerator / denominator])


@pytest.mark.parametrize("radius", [10.0, 1e2, 1e3])
def test_fields_stay_finite_and_accurate_far_from_every_mode(radius):
    rng = np.random.default_rng(3)
    target = si_ref.GaussianMixture(np.array([0.5, 0.3, 0.2]), rng.normal(size=(3, 2)),
                                    np.stack([0.1 * np.eye(2), np.diag([0.2, 0.05]), 0.3 * np.eye(2)]))
    case = si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()), si_ref.Gaussian(np.zeros(2), np.eye(2)), target)
    directions = np.array([[1.0, 0.0], [0.6, -0.8], [-0.28, 0.96]])
    x = radius * directions
    for t in (0.0, 0.5, 1.0):
        for name in FIELDS + ("log_density", "divergence"):
            assert np.isfinite(getattr(case, name)(x, t)).all(), (name, t)
        expected = np.array([mp_mixture_score(case, xi, t) for xi in x])
        np.testing.assert_allclose(case.score(x, t), expected, rtol=1e-12)


# --- bad input ----------------------------------------------------------------------------------

G2 = si_ref.Gaussian(np.zeros(2), np.eye(2))
LINEAR = si_ref.LinearInterpolant(si_ref.BrownianGamma())
CASE = si_ref.GaussianCase(LINEAR, G2, G2)
COUPLED = si_ref.GaussianCase(LINEAR, G2, si_ref.Gaussian(np.ones(2), np.array([[1.0, 0.5], [0.5, 2.0]])),
                              cross_cov=np.array([[0.2, 0.1], [0.0, 0.3]]))   # non-commuting: the ODE path

BAD = [
    ("interpolant-not-interpolant", lambda: si_ref.GaussianCase("linear", G2, G2), TypeError, ["interpolant must be an Interpolant"]),
    ("target-not-distribution", lambda: si_ref.GaussianCase(LINEAR, G2, np.eye(2)), TypeError, ["target must be a Gaussian or GaussianMixture"]),
    ("dimensions-differ", lambda: si_ref.GaussianCase(LINEAR, si_ref.Gaussian(np.zeros(3), np.eye(3)), G2), ValueError,
     ["same dimension", "base of dimension 3", "target of dimension 2"]),
    ("cross-cov-invalid", lambda: si_ref.GaussianCase(LINEAR, G2, G2, cross_cov=2 * np.eye(2)), ValueError,
     ["cross_cov gives an invalid joint covariance", "smallest eigenvalue is -1"]),
    ("cross-cov-shape", lambda: si_ref.GaussianCase(LINEAR, G2, G2, cross_cov=np.eye(3)), ValueError,
     ["cross_cov must have shape (d, d) = (2, 2)", "(3, 3)"]),
    ("cross-cov-with-mixture", lambda: si_ref.GaussianCase(LINEAR, G2, si_ref.GaussianMixture(np.ones(1), np.zeros((1, 2)), np.eye(2)[None]),
                                                           cross_cov=np.zeros((2, 2))), ValueError, ["cross_cov couples two single Gaussians"]),
    ("cross-cov-one-sided", lambda: si_ref.GaussianCase(si_ref.OneSidedLinearInterpolant(), G2, G2, cross_cov=np.zeros((2, 2))), ValueError,
     ["cross_cov applies to two-sided interpolants only"]),
    ("one-sided-base-not-standard", lambda: si_ref.GaussianCase(si_ref.OneSidedTrigInterpolant(), si_ref.Gaussian(np.ones(2), np.eye(2)), G2),
     ValueError, ["base must be the standard normal N(0, I)", "base=None"]),
    ("mirror-with-other-base", lambda: si_ref.GaussianCase(si_ref.MirrorInterpolant(si_ref.BrownianGamma()), si_ref.Gaussian(np.ones(2), np.eye(2)), G2),
     ValueError, ["base must be None (or equal to the target) for a mirror interpolant"]),
    ("t-outside", lambda: CASE.drift(np.zeros((3, 2)), 1.5), ValueError, ["t must lie in the closed interval [0, 1]", "1.5"]),
    ("t-wrong-length", lambda: CASE.score(np.zeros((3, 2)), np.full(2, 0.5)), ValueError, ["t must be a scalar or have shape (n,) = (3,)"]),
    ("x-wrong-dimension", lambda: CASE.score(np.zeros((3, 3)), 0.5), ValueError, ["x must have d = 2 columns", "(3, 3)"]),
    ("x-one-point-flat", lambda: CASE.noise(np.zeros(2), 0.5), ValueError, ["x must have shape (n, d)", "x[None, :]"]),
    ("eps-negative", lambda: CASE.forward_drift(np.zeros((3, 2)), 0.5, -1.0), ValueError, ["eps must be finite and non-negative", "-1.0"]),
    ("eps-callable-nan", lambda: CASE.backward_drift(np.zeros((3, 2)), 0.5, lambda t: np.nan), ValueError, ["eps must be finite and non-negative", "nan"]),
    ("eps-string", lambda: CASE.forward_drift(np.zeros((3, 2)), 0.5, "1"), TypeError, ["eps must be a real number"]),
    ("degenerate-coupling-without-noise", lambda: si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.ZeroGamma()), G2, G2, cross_cov=-np.eye(2)).score(np.zeros((1, 2)), 0.5),
     ValueError, ["the covariance of x_t is singular at t = [0.5]"]),
    ("x-beyond-float64-range", lambda: CASE.score(np.array([[1e160, 0.0]]), 0.5), ValueError,
     ["x is too far from every component for float64", "row 0"]),
    ("flow-matrix-two-times", lambda: CASE.flow_matrix(np.array([0.5, 0.6]), 0.1), ValueError, ["t1 must be a single time"]),
    ("mean-of-a-mixture", lambda: si_ref.GaussianCase(LINEAR, G2, si_ref.GaussianMixture(np.full(2, 0.5), np.zeros((2, 2)), np.stack([np.eye(2)] * 2))).mean(0.5),
     ValueError, ["mean is defined for single-Gaussian cases", "2 components"]),
    # issue 14: tolerances, all-zero covariances, values beyond float64
    ("flow-matrix-rtol-nan", lambda: COUPLED.flow_matrix(0.5, 0.1, rtol=np.nan), ValueError, ["rtol must be finite", "nan"]),
    ("flow-matrix-atol-negative", lambda: COUPLED.flow_matrix(0.5, 0.1, atol=-1e-12), ValueError, ["atol must be a finite number > 0", "-1e-12"]),
    ("flow-matrix-rtol-none", lambda: COUPLED.flow_matrix(0.5, 0.1, rtol=None), TypeError, ["rtol must be a real number", "None"]),
    ("flow-matrix-rtol-inf-closed-form", lambda: CASE.flow_matrix(0.5, 0.1, rtol=np.inf), ValueError, ["rtol must be finite", "inf"]),
    ("flow-matrix-rtol-below-floor", lambda: COUPLED.flow_matrix(0.5, 0.1, rtol=1e-16), ValueError,
     ["rtol must be at least 100 machine epsilons", "1e-16"]),
    ("flow-map-unknown-tolerance", lambda: COUPLED.flow_map(np.zeros((1, 2)), 0.5, 0.1, tol=1e-3), TypeError, ["tol"]),
    ("base-cov-all-zero", lambda: si_ref.GaussianCase(LINEAR, si_ref.Gaussian(np.zeros(2), np.zeros((2, 2))), G2), ValueError,
     ["cov must be positive definite", "smallest eigenvalue 0"]),
    ("target-mixture-cov-all-zero", lambda: si_ref.GaussianCase(LINEAR, G2, si_ref.GaussianMixture(np.full(2, 0.5), np.zeros((2, 2)),
                                                                                                   np.stack([np.eye(2), np.zeros((2, 2))]))),
     ValueError, ["covs must be positive definite; matrix 1", "smallest eigenvalue 0"]),
    ("drift-overflows-from-means", lambda: si_ref.GaussianCase(LINEAR, si_ref.Gaussian(np.array([1.5e308]), np.eye(1)),
                                                               si_ref.Gaussian(np.array([-1.5e308]), np.eye(1))).drift(np.zeros((2, 1)), 0.5),
     ValueError, ["a field value overflows float64 at row 0", "Rescale"]),
    ("mean-overflows", lambda: si_ref.GaussianCase(si_ref.TrigInterpolant(si_ref.BrownianGamma()), si_ref.Gaussian(np.array([1.5e308]), np.eye(1)),
                                                   si_ref.Gaussian(np.array([1.5e308]), np.eye(1))).score(np.zeros((2, 1)), 0.5),
     ValueError, ["the mean or covariance of x_t overflows float64"]),
]


@pytest.mark.parametrize("call, exception, fragments", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_case_input_raises_a_message_naming_argument_and_fix(call, exception, fragments):
    assert_raises_naming(call, exception, fragments)


def test_mirror_accepts_a_base_equal_to_its_target_and_times_as_zero_d_arrays():
    target = si_ref.Gaussian(np.array([1.0, 2.0]), np.eye(2))
    copy = si_ref.Gaussian(np.array([1.0, 2.0]), np.eye(2))
    mirror = si_ref.MirrorInterpolant(si_ref.BrownianGamma())
    x = np.array([[0.3, 0.4]])
    np.testing.assert_array_equal(si_ref.GaussianCase(mirror, copy, target).score(x, 0.3),
                                  si_ref.GaussianCase(mirror, None, target).score(x, 0.3))
    np.testing.assert_array_equal(CASE.flow_matrix(np.array(0.5), np.array(0.1)), CASE.flow_matrix(0.5, 0.1))


# --- drift_and_score, and the two evaluation paths (one time for all points, one time per point) ---

@given(cases, sis.times(exclude_min=True, exclude_max=True), seeds, st.booleans())
def test_drift_and_score_match_the_joint_conditioning_oracle_and_the_gradient_of_log_density(case, t, seed, per_point):
    x, _ = sample_x_t(case, t, 4, np.random.default_rng(seed))
    times = np.full(len(x), t) if per_point else t
    drift, score = case.drift_and_score(x, times)
    expected = joint_conditioning_oracle(case, x, t)["drift"]
    np.testing.assert_allclose(drift, expected, rtol=1e-8, atol=1e-8 * max(1.0, np.max(np.abs(expected))))
    numeric = gradient(lambda y: case.log_density(y, times), x, SPACE_STEP)
    np.testing.assert_allclose(score, numeric, rtol=PDE_RTOL, atol=PDE_RTOL * np.max(np.abs(numeric)))


@given(cases, sis.times(), seeds, st.booleans())
def test_drift_and_score_return_the_values_of_drift_and_of_score_bit_for_bit(case, t, seed, per_point):
    x, _ = sample_x_t(case, t, 5, np.random.default_rng(seed))
    times = np.full(len(x), t) if per_point else t
    drift, score = case.drift_and_score(x, times)
    np.testing.assert_array_equal(drift, case.drift(x, times))
    np.testing.assert_array_equal(score, case.score(x, times))
    assert drift.dtype == score.dtype == np.float64 and drift.flags.c_contiguous and score.flags.c_contiguous


@given(cases, sis.times(), seeds)
def test_one_time_for_all_points_agrees_with_the_same_time_given_per_point(case, t, seed):
    """The two evaluation paths (blocks of (P, d, n) with row-wise substitution; per-point states) agree."""
    x, _ = sample_x_t(case, t, 5, np.random.default_rng(seed))
    per_point = np.full(len(x), t)
    for name in FIELDS + ("log_density", "divergence", "score_divergence"):
        shared, expected = getattr(case, name)(x, t), getattr(case, name)(x, per_point)
        np.testing.assert_allclose(shared, expected, rtol=1e-10, atol=1e-10 * max(1.0, np.max(np.abs(expected))), err_msg=name)
    for eps in (0.0, 0.7):
        np.testing.assert_allclose(case.forward_drift(x, t, eps), case.forward_drift(x, per_point, eps), rtol=1e-10,
                                   atol=1e-10 * max(1.0, np.max(np.abs(case.forward_drift(x, t, eps)))))


def mixture_case_2d(components=3, seed=5):
    rng = np.random.default_rng(seed)
    factors = rng.normal(size=(components, 2, 2))
    target = si_ref.GaussianMixture(rng.dirichlet(np.ones(components)), 2.0 * rng.normal(size=(components, 2)),
                                    factors @ np.swapaxes(factors, 1, 2) + 0.2 * np.eye(2))
    return si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()), si_ref.Gaussian(np.zeros(2), np.eye(2)), target)


@pytest.mark.parametrize("per_point", [False, True], ids=["one-time", "time-per-point"])
def test_blocks_of_points_give_the_values_of_one_block(monkeypatch, per_point):
    from si_ref import gaussian

    case = mixture_case_2d()
    x = np.random.default_rng(0).normal(size=(23, 2)) * 3.0
    t = np.linspace(0.0, 1.0, 23) if per_point else 0.3
    whole = {name: getattr(case, name)(x, t) for name in FIELDS + ("log_density", "divergence", "score_divergence")}
    monkeypatch.setattr(gaussian, "_BLOCK_VALUES", 1)          # one point per block
    monkeypatch.setattr(gaussian, "_ONE_THREAD_PRODUCT", 1)
    for name, expected in whole.items():
        np.testing.assert_allclose(getattr(case, name)(x, t), expected, rtol=1e-13, atol=1e-13, err_msg=name)
    drift, score = case.drift_and_score(x, t)
    np.testing.assert_allclose(drift, whole["drift"], rtol=1e-13, atol=1e-13)
    for field in (case.score(np.zeros((0, 2)), t if not per_point else np.zeros(0)), *case.drift_and_score(np.zeros((0, 2)), 0.3)):
        assert field.shape == (0, 2)


@pytest.mark.parametrize("t", [0.5, np.full(6, 0.5)], ids=["one-time", "time-per-point"])
def test_a_point_beyond_float64_range_in_a_later_block_is_named_by_its_row(monkeypatch, t):
    from si_ref import gaussian

    monkeypatch.setattr(gaussian, "_BLOCK_VALUES", 1)
    monkeypatch.setattr(gaussian, "_ONE_THREAD_PRODUCT", 1)
    x = np.zeros((6, 2))
    x[4, 0] = 1e160
    assert_raises_naming(lambda: CASE.drift_and_score(x, t), ValueError, ["x is too far from every component for float64", "row 4"])


def test_cached_state_of_the_last_time_never_leaks_into_other_times_or_results():
    case, fresh = mixture_case_2d(), mixture_case_2d()
    x = np.random.default_rng(1).normal(size=(7, 2))
    for t in (0.2, 0.7, 0.2, 0.2, 1.0, 0.0, -0.0, 0.7):    # repeated times reuse the state of the last one
        drift, score = case.drift_and_score(x, t)
        np.testing.assert_array_equal(drift, si_ref.GaussianCase(fresh.interpolant, fresh.base, fresh.target).drift(x, t))
        np.testing.assert_array_equal(score, fresh.score(x, t))
        drift[:] = np.nan                                   # results are new arrays: writing to them is harmless
        components = case.components(t)
        components.means[...] = 1e3                         # so are the parameters handed out
    np.testing.assert_array_equal(case.drift(x, 0.7), fresh.drift(x, 0.7))
