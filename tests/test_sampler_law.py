"""The exact law of discretised samplers (si_ref/sampler_law.py) against independent oracles.

Oracles: mpmath at 60 digits with the textbook trace formulas (KL, W2); si_ref's own
``integrate`` pushing the d + 1 affine-basis points (ODE steps are deterministic and affine);
Monte Carlo of ``integrate`` within 4 standard errors computed from the exact law (SDE steps);
the exact flow map ``GaussianCase.flow_matrix``; the exact marginals of the interpolant and of
the diffusion path; and the papers' step functions (``ddim_step``, ``ddpm_step``) probed as
affine maps. Orders are fitted slopes of log W2 against log h, pinned to ±0.05.
"""

import mpmath
import numpy as np
import pytest

import si_ref
from si_ref.diffusion.case import DiffusionCase
from si_ref.diffusion.discrete import DiscreteSchedule, timesteps
from si_ref.diffusion.steps import ddim_step, ddpm_step
from si_ref.sampler_law import (
    AffineStep,
    GaussianLaw,
    affine_coefficients,
    ddim_law,
    ddpm_law,
    gaussian_kl,
    gaussian_w2,
    integrate_law,
    loop_law,
    probe_step,
    push_law,
)
from si_ref.samplers import (
    RK4,
    ButcherTableau,
    Euler,
    EulerMaruyama,
    ExplicitRungeKutta,
    Heun,
    SDETerm,
    StochasticHeun,
    integrate,
    uniform_grid,
)

S0 = np.array([[1.0, 0.3], [0.3, 0.5]])
S1 = np.array([[0.4, -0.2], [-0.2, 1.5]])
DIGITS = 60


def non_commuting_case():
    """Linear interpolant, Brownian γ, N(0, S0) -> N((3, -1), S1) with C = 0.3 L0 L1ᵀ: K Σ⁻¹ does not commute."""
    cross = 0.3 * np.linalg.cholesky(S0) @ np.linalg.cholesky(S1).T
    return si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()), si_ref.Gaussian(np.zeros(2), S0),
                               si_ref.Gaussian(np.array([3.0, -1.0]), S1), cross_cov=cross)


CASE = non_commuting_case()
START = GaussianLaw(CASE.mean(0.0), CASE.cov(0.0))
TARGET = GaussianLaw(CASE.mean(1.0), CASE.cov(1.0))


def eps_of_t(t):
    return 0.2 + np.sin(np.pi * t) ** 2


def fitted_order(steps, errors):
    return float(np.polyfit(np.log(1.0 / np.asarray(steps, dtype=float)), np.log(errors), 1)[0])


# --- mpmath references (textbook formulas at 60 digits) -----------------------------------------------

def _mp_sqrtm(matrix):
    values, vectors = mpmath.eigsy(matrix)
    n = matrix.rows
    root = mpmath.matrix(n, n)
    for i in range(n):
        root[i, i] = mpmath.sqrt(max(values[i], 0))
    return vectors * root * vectors.T


def mp_w2(p, q):
    """sqrt(|Δm|² + tr Sp + tr Sq − 2 tr (Sp^½ Sq Sp^½)^½), Dowson & Landau 1982, at 60 digits."""
    with mpmath.workdps(DIGITS):
        sp, sq = mpmath.matrix(p[1].tolist()), mpmath.matrix(q[1].tolist())
        x = _mp_sqrtm(sp)
        r = _mp_sqrtm(x * sq * x)
        d = sp.rows
        bures = sum(sp[i, i] + sq[i, i] - 2 * r[i, i] for i in range(d))
        means = sum((mpmath.mpf(float(a)) - mpmath.mpf(float(b))) ** 2 for a, b in zip(p[0], q[0]))
        return mpmath.sqrt(max(means + bures, 0))


def mp_kl(p, q):
    """½[tr(Sq⁻¹Sp) − d + Δmᵀ Sq⁻¹ Δm + log det Sq − log det Sp] at 60 digits."""
    with mpmath.workdps(DIGITS):
        sp, sq = mpmath.matrix(p[1].tolist()), mpmath.matrix(q[1].tolist())
        dm = mpmath.matrix([float(b) - mpmath.mpf(float(a)) for a, b in zip(p[0], q[0])])
        inv = sq ** -1
        trace = sum((inv * sp)[i, i] for i in range(sp.rows))
        quad = (dm.T * inv * dm)[0, 0]
        return (trace - sp.rows + quad + mpmath.log(mpmath.det(sq)) - mpmath.log(mpmath.det(sp))) / 2


def _random_spd(rng, d, smallest=0.1):
    a = rng.standard_normal((d, d))
    return a @ a.T + smallest * np.eye(d)


@pytest.mark.parametrize("scale", [1e-1, 1e-4, 1e-8, 1e-10, 1e-12])
def test_w2_and_kl_match_mpmath_for_nearby_laws(scale):
    rng = np.random.default_rng(7)
    for d in (2, 3):
        sp = _random_spd(rng, d)
        b = rng.standard_normal((d, d))
        sq = sp + scale * (b + b.T) * 0.05
        mp_ = rng.standard_normal(d)
        mq = mp_ + scale * rng.standard_normal(d)
        p, q = (mp_, sp), (mq, sq)
        w2, kl = mp_w2(p, q), mp_kl(p, q)
        assert abs(gaussian_w2(p, q) - w2) <= 1e-12 * w2      # relative: a 1e-12 error would be visible
        assert abs(gaussian_w2(q, p) - w2) <= 1e-12 * w2
        assert abs(gaussian_kl(p, q) - kl) <= 1e-11 * kl


def test_w2_and_kl_match_mpmath_for_distant_laws():
    rng = np.random.default_rng(8)
    for _ in range(5):
        d = 3
        p = (rng.standard_normal(d), _random_spd(rng, d, 0.01))
        q = (3 * rng.standard_normal(d), _random_spd(rng, d, 1.0))
        assert gaussian_w2(p, q) == pytest.approx(float(mp_w2(p, q)), rel=1e-13)
        assert gaussian_kl(p, q) == pytest.approx(float(mp_kl(p, q)), rel=1e-12)


def test_the_textbook_trace_formula_would_lose_every_digit_here():
    # the same nearby pair: tr Sp + tr Sq − 2 tr R in float64 is rounding noise, the stable form is not
    rng = np.random.default_rng(9)
    sp = _random_spd(rng, 3)
    b = rng.standard_normal((3, 3))
    sq = sp + 1e-10 * (b + b.T)
    eigen, vectors = np.linalg.eigh(sp)
    x = (vectors * np.sqrt(eigen)) @ vectors.T
    inner_eigen = np.linalg.eigvalsh(x @ sq @ x)
    naive = np.trace(sp) + np.trace(sq) - 2 * np.sum(np.sqrt(inner_eigen))
    exact = float(mp_w2((np.zeros(3), sp), (np.zeros(3), sq))) ** 2
    assert abs(naive - exact) > 100 * exact                                # catastrophic cancellation
    assert gaussian_w2((np.zeros(3), sp), (np.zeros(3), sq)) ** 2 == pytest.approx(exact, rel=1e-11)


def test_w2_of_a_law_with_itself_is_exactly_zero_and_kl_too():
    law = GaussianLaw(np.array([0.3, -2.0]), S1)
    assert gaussian_w2(law, law) == 0.0
    assert gaussian_kl(law, law) == 0.0
    assert gaussian_w2(law, GaussianLaw(law.mean + np.array([3e-13, 4e-13]), S1)) == pytest.approx(5e-13, rel=1e-12)


def test_w2_of_degenerate_laws():
    # a point mass to N(m, S): W2² = |Δm|² + tr S exactly; a rank-1 covariance vs mpmath; never NaN
    point = GaussianLaw(np.array([1.0, 2.0]), np.zeros((2, 2)))
    other = GaussianLaw(np.array([-1.0, 0.5]), S0)
    assert gaussian_w2(point, other) == pytest.approx(np.sqrt(4.0 + 2.25 + np.trace(S0)), rel=1e-14)
    assert gaussian_w2(point, point) == 0.0
    rank_one = (np.zeros(2), np.array([[1.0, 2.0], [2.0, 4.0]]))
    for q in [(np.zeros(2), S0), (np.zeros(2), np.array([[1.0, 2.0], [2.0, 4.0 + 1e-6]])),
              (np.zeros(2), np.array([[4.0, -2.0], [-2.0, 1.0]]))]:
        value = gaussian_w2(rank_one, q)
        assert np.isfinite(value)
        assert abs(value - float(mp_w2(rank_one, q))) <= 1e-8


def test_kl_of_a_singular_law_is_infinite_and_a_singular_reference_is_refused():
    singular = (np.zeros(2), np.array([[1.0, 2.0], [2.0, 4.0]]))
    assert gaussian_kl(singular, (np.zeros(2), S0)) == np.inf
    with pytest.raises(ValueError, match="q.cov must be positive definite"):
        gaussian_kl((np.zeros(2), S0), singular)


# --- probing -------------------------------------------------------------------------------------------

def test_affine_coefficients_are_the_gaussian_drift_matrix():
    # b(x, t) = μ̇ + K Σ⁻¹ (x − μ): A = K Σ⁻¹ and m = μ̇ − A μ, read off the formula's ingredients
    t = 0.37
    a, m = affine_coefficients(CASE.drift, t, 2, centre=np.array([5.0, -3.0]))
    x = np.random.default_rng(0).standard_normal((6, 2))
    np.testing.assert_allclose(x @ a.T + m, CASE.drift(x, t), rtol=0, atol=1e-13)
    a_s, m_s = affine_coefficients(CASE.score, t, 2)
    np.testing.assert_allclose(a_s, -np.linalg.inv(CASE.cov(t)), rtol=1e-13)
    np.testing.assert_allclose(m_s, np.linalg.solve(CASE.cov(t), CASE.mean(t)), rtol=1e-13)


def test_probe_step_recovers_a_known_affine_step_and_push_law_moves_the_law():
    rng = np.random.default_rng(1)
    matrix, offset, noise = rng.standard_normal((3, 3)), rng.standard_normal(3), rng.standard_normal((3, 2))
    step = probe_step(lambda x, z: x @ matrix.T + offset + z @ noise.T, 3, noise_dim=2)
    for got, want in zip(step, (matrix, offset, noise)):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-14)
    law = GaussianLaw(rng.standard_normal(3), _random_spd(rng, 3))
    moved = push_law(law, AffineStep(matrix, offset, noise))
    np.testing.assert_allclose(moved.mean, matrix @ law.mean + offset, rtol=1e-14)
    np.testing.assert_allclose(moved.cov, matrix @ law.cov @ matrix.T + noise @ noise.T, rtol=1e-13)


# --- the law of si_ref's own samplers --------------------------------------------------------------------

RALSTON = ExplicitRungeKutta(ButcherTableau("Ralston", 2, a=((), (2 / 3,)), b=(0.25, 0.75), c=(0.0, 2 / 3)))
THREE_EIGHTHS = ExplicitRungeKutta(ButcherTableau(
    "3/8 rule", 4, a=((), (1 / 3,), (-1 / 3, 1.0), (1.0, -1.0, 1.0)), b=(1 / 8, 3 / 8, 3 / 8, 1 / 8),
    c=(0.0, 1 / 3, 2 / 3, 1.0)))


@pytest.mark.parametrize("stepper", [Euler(), Heun(), RK4(), RALSTON, THREE_EIGHTHS],
                         ids=["euler", "heun", "rk4", "ralston", "three_eighths"])
@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_ode_law_is_the_law_of_integrate_pushing_the_affine_basis(stepper, direction):
    # an ODE step is deterministic and affine: pushing m and m + L e_j (S = L Lᵀ) gives the law exactly
    grid = np.array([0.0, 0.1, 0.15, 0.4, 0.8, 1.0]) if direction == "forward" else np.array([1.0, 0.7, 0.3, 0.0])
    law = START if direction == "forward" else TARGET
    chol = np.linalg.cholesky(law.cov)
    points = np.vstack([law.mean, law.mean + chol.T])
    out = integrate(CASE.drift, stepper, grid, points, save_at=grid[[0, 2, -1]]).states
    exact = integrate_law(CASE.drift, stepper, grid, law, save_at=grid[[0, 2, -1]])
    for k in range(3):
        spread = out[k, 1:] - out[k, 0]
        np.testing.assert_allclose(exact.means[k], out[k, 0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(exact.covs[k], spread.T @ spread, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(exact.times, grid[[0, 2, -1]])


def _monte_carlo_within_4_standard_errors(samples, law):
    """z-scores of the sample mean and covariance entries, standard errors from the exact law."""
    n = samples.shape[0]
    s = law.cov
    z_mean = (samples.mean(axis=0) - law.mean) / np.sqrt(np.diag(s) / n)
    centred = samples - law.mean                                   # the exact mean: no n − 1 correction
    sample_cov = centred.T @ centred / n
    se_cov = np.sqrt((np.outer(np.diag(s), np.diag(s)) + s**2) / n)
    z_cov = (sample_cov - s) / se_cov
    return np.max(np.abs(z_mean)), np.max(np.abs(z_cov))


@pytest.mark.parametrize(
    ("stepper", "eps", "direction"),
    [(EulerMaruyama(), 0.5, "forward"), (EulerMaruyama(), eps_of_t, "backward"),
     (StochasticHeun(), eps_of_t, "forward"), (StochasticHeun(), 0.8, "backward")],
    ids=["em_forward_const", "em_backward_callable", "heun_forward_callable", "heun_backward_const"],
)
def test_sde_law_matches_monte_carlo_of_integrate(stepper, eps, direction):
    # 4 coarse steps: the discrete law is far from the continuous one, so the check sees the discretisation
    grid = uniform_grid(0.0, 1.0, 4) if direction == "forward" else uniform_grid(1.0, 0.0, 4)
    start, end = (START, TARGET) if direction == "forward" else (TARGET, START)
    rng = np.random.default_rng(11)
    n = 40_000
    x0 = rng.multivariate_normal(start.mean, start.cov, size=n)
    term = SDETerm(CASE.drift, CASE.score, eps)
    samples = integrate(term, stepper, grid, x0, rng=rng).states[-1]
    law = integrate_law(term, stepper, grid, start).law()
    z_mean, z_cov = _monte_carlo_within_4_standard_errors(samples, law)
    assert z_mean <= 4.0 and z_cov <= 4.0, (z_mean, z_cov)
    # control: the continuous target is many standard errors away at 4 steps, so the check can fail
    assert max(_monte_carlo_within_4_standard_errors(samples, end)) > 8.0


class _GivenNoise:
    """A stand-in for the Generator of an SDE stepper: its one draw per step is the probe's noise."""

    def __init__(self, noise):
        self.noise = noise

    def standard_normal(self, shape):
        assert shape == self.noise.shape, (shape, self.noise.shape)
        return self.noise


@pytest.mark.parametrize("stepper", [EulerMaruyama(), StochasticHeun()], ids=["em", "heun"])
@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_sde_law_is_the_law_of_the_steppers_own_step_probed_exactly(stepper, direction):
    # the stepper's step(term, x, t, t_next, c, step, rng, sign) with its single draw replaced by the probe
    # noise is affine in (x, noise): loop_law gives its law exactly, to rounding (Monte Carlo sees only 1e-2)
    grid = np.array([0.0, 0.1, 0.35, 0.4, 0.8, 1.0])
    sign = 1.0
    if direction == "backward":
        grid, sign = grid[::-1].copy(), -1.0
    start = START if direction == "forward" else TARGET
    term = SDETerm(CASE.drift, CASE.score, eps_of_t)
    probed = loop_law(lambda x, t, t_next, z: stepper.step(term, x, t, t_next, None, 0, _GivenNoise(z), sign),
                      grid, start)
    exact = integrate_law(term, stepper, grid, start, save_at=grid)
    np.testing.assert_allclose(exact.means, probed.means, rtol=0, atol=1e-13)
    np.testing.assert_allclose(exact.covs, probed.covs, rtol=0, atol=1e-13)
    assert np.abs(exact.covs[-1] - exact.covs[0]).max() > 0.1                 # the law moved: the check can fail


def test_rk4_law_converges_to_the_exact_flow_map_pushforward():
    phi = CASE.flow_matrix(1.0, 0.0)
    pushed = GaussianLaw(CASE.mean(1.0), phi @ START.cov @ phi.T)
    law = integrate_law(CASE.drift, RK4(), uniform_grid(0.0, 1.0, 256), START).law()
    assert gaussian_w2(law, pushed) <= 1e-10
    assert gaussian_w2(pushed, TARGET) <= 1e-10                     # Φ S0 Φᵀ = Σ(1): the flow transports ρ


def test_sde_laws_converge_to_the_target_law():
    for stepper in (EulerMaruyama(), StochasticHeun()):
        term = SDETerm(CASE.drift, CASE.score, eps_of_t)
        coarse, fine = (gaussian_w2(integrate_law(term, stepper, uniform_grid(0.0, 1.0, n), START).law(), TARGET)
                        for n in (16, 128))
        assert fine < coarse / 7 and fine < 4e-3


# --- orders --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("stepper", "order"), [(Euler(), 1), (Heun(), 2), (RK4(), 4)], ids=["euler", "heun", "rk4"])
def test_ode_law_converges_at_the_order_of_the_method(stepper, order):
    steps = (16, 32, 64, 128)
    errors = [gaussian_w2(integrate_law(CASE.drift, stepper, uniform_grid(0.0, 1.0, n), START).law(), TARGET)
              for n in steps]
    assert abs(fitted_order(steps, errors) - order) <= 0.05


@pytest.mark.parametrize(("stepper", "order"), [(EulerMaruyama(), 1), (StochasticHeun(), 2)], ids=["em", "heun"])
@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_sde_law_converges_at_the_weak_order(stepper, order, direction):
    # stochastic Heun with additive noise: M and N N^T match the exact Gaussian transition to O(h^3)
    steps = (32, 64, 128)
    term = SDETerm(CASE.drift, CASE.score, 0.5)
    start, end = (START, TARGET) if direction == "forward" else (TARGET, START)
    errors = []
    for n in steps:
        grid = uniform_grid(0.0, 1.0, n) if direction == "forward" else uniform_grid(1.0, 0.0, n)
        errors.append(gaussian_w2(integrate_law(term, stepper, grid, start).law(), end))
    assert abs(fitted_order(steps, errors) - order) <= 0.05


DATA = si_ref.Gaussian(np.array([1.0, -0.5]), np.array([[0.6, 0.2], [0.2, 0.3]]))
DIFFUSION = DiffusionCase(DATA)


def eps_model(x, alpha_bar):
    return DIFFUSION.epsilon_at(x, np.sqrt(alpha_bar), np.sqrt(1.0 - alpha_bar))


def marginal(alpha_bar):
    component = DIFFUSION.components_at(np.sqrt(alpha_bar), np.sqrt(1.0 - alpha_bar))
    return GaussianLaw(component.means[0], component.covs[0])


def log_snr_levels(n):
    """ᾱ at n + 1 levels uniform in log-SNR λ = log(ᾱ/(1 − ᾱ)) from −3 to 3 (noisiest first)."""
    return 1.0 / (1.0 + np.exp(-np.linspace(-3.0, 3.0, n + 1)))


@pytest.mark.parametrize("sampler", ["ddim", "ddim_eta_0.5", "ddpm"])
def test_ddim_and_ddpm_laws_converge_at_order_one(sampler):
    steps = (32, 64, 128)
    errors = []
    for n in steps:
        levels = log_snr_levels(n)
        if sampler == "ddpm":
            law = ddpm_law(eps_model, levels, marginal(levels[0]))
        else:
            law = ddim_law(eps_model, levels, marginal(levels[0]), eta=0.5 if sampler.endswith("0.5") else 0.0)
        errors.append(gaussian_w2(law.law(), marginal(levels[-1])))
    assert abs(fitted_order(steps, errors) - 1.0) <= 0.05


def test_ddpm_law_is_ddim_law_at_eta_one_and_the_law_of_ddpm_step():
    levels = np.concatenate([log_snr_levels(6), [1.0]])              # the last step returns x̂0
    start = marginal(levels[0])
    ddpm = ddpm_law(eps_model, levels, start)
    ddim = ddim_law(eps_model, levels, start, eta=1.0)
    np.testing.assert_allclose(ddpm.means, ddim.means, rtol=0, atol=1e-13)
    np.testing.assert_allclose(ddpm.covs, ddim.covs, rtol=0, atol=1e-13)
    # the paper step of si_ref.diffusion.steps, probed as an affine map in (x, noise)
    probed = loop_law(lambda x, ab, abp, z: ddpm_step(eps_model(x, ab), x, ab, abp, z), levels, start)
    np.testing.assert_allclose(probed.means, ddpm.means, rtol=0, atol=1e-12)
    np.testing.assert_allclose(probed.covs, ddpm.covs, rtol=0, atol=1e-12)


def test_ddim_law_is_the_law_of_ddim_step_pushing_the_affine_basis():
    levels = log_snr_levels(5)
    start = marginal(levels[0])
    points = np.vstack([start.mean, start.mean + np.linalg.cholesky(start.cov).T])
    for ab, abp in zip(levels[:-1], levels[1:]):
        points = ddim_step(eps_model(points, ab), points, ab, abp)
    law = ddim_law(eps_model, levels, start).law()
    spread = points[1:] - points[0]
    np.testing.assert_allclose(law.mean, points[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(law.cov, spread.T @ spread, rtol=0, atol=1e-12)


def test_ddim_law_on_a_diffusers_table_is_the_law_of_ddim_step():
    # Stable-Diffusion-like: scaled_linear table, 10 "leading" timesteps + offset 1, final step to ᾱ = 1
    schedule = DiscreteSchedule.scaled_linear()
    levels = np.append(schedule.alphas_cumprod[timesteps(schedule, 10, "leading", steps_offset=1)], 1.0)
    start = marginal(levels[0])
    for eta in (0.0, 0.7):
        probed = loop_law(lambda x, ab, abp, z: ddim_step(eps_model(x, ab), x, ab, abp, eta, z), levels, start)
        exact = ddim_law(eps_model, levels, start, eta=eta)
        np.testing.assert_allclose(exact.means, probed.means, rtol=0, atol=1e-12)
        np.testing.assert_allclose(exact.covs, probed.covs, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(exact.alpha_bars, levels)


def test_sde_laws_with_zero_diffusion_are_the_ode_laws_of_euler_and_heun():
    grid = np.array([0.0, 0.2, 0.5, 0.55, 1.0])
    term = SDETerm(CASE.drift, CASE.score, 0.0)
    for sde, ode in ((EulerMaruyama(), Euler()), (StochasticHeun(), Heun())):
        a = integrate_law(term, sde, grid, START, save_at=grid)
        b = integrate_law(CASE.drift, ode, grid, START, save_at=grid)
        np.testing.assert_allclose(a.means, b.means, rtol=0, atol=1e-14)
        np.testing.assert_allclose(a.covs, b.covs, rtol=0, atol=1e-14)


def test_conditioning_is_passed_to_the_fields():
    def scaled_drift(x, t, c):
        return c * CASE.drift(x, t)

    a, m = affine_coefficients(scaled_drift, 0.3, 2, c=2.0)
    a1, m1 = affine_coefficients(CASE.drift, 0.3, 2)
    np.testing.assert_allclose(a, 2.0 * a1, rtol=1e-14)
    np.testing.assert_allclose(m, 2.0 * m1, rtol=1e-14)
    grid = uniform_grid(0.0, 1.0, 8)
    with_c = integrate_law(scaled_drift, RK4(), grid, START, c=1.0)
    np.testing.assert_array_equal(with_c.covs, integrate_law(CASE.drift, RK4(), grid, START).covs)


# --- judging someone else's sampler exactly -----------------------------------------------------------------

def _float32_em_step(case, eps, *, noise_factor, score_sign):
    """A torch-style Euler-Maruyama step: float32, a scalar t, the library's own formula."""
    def step(x, t, t_next, noise):
        x32, z32 = x.astype(np.float32), noise.astype(np.float32)
        h = np.float32(t_next - t)
        drift = case.drift(x32.astype(np.float64), t).astype(np.float32)
        score = case.score(x32.astype(np.float64), t).astype(np.float32)
        mu = drift + np.float32(score_sign * eps) * score
        return x32 + h * mu + np.sqrt(np.float32(noise_factor * eps) * abs(h)) * z32
    return step


def test_a_wrong_noise_scale_stalls_at_a_plateau_while_si_refs_sampler_converges():
    eps = 0.5
    term = SDETerm(CASE.drift, CASE.score, eps)
    right = _float32_em_step(CASE, eps, noise_factor=2.0, score_sign=1.0)
    wrong_noise = _float32_em_step(CASE, eps, noise_factor=1.0, score_sign=1.0)       # √(ε h) for √(2ε|h|)
    wrong_sign = _float32_em_step(CASE, eps, noise_factor=2.0, score_sign=-1.0)       # forward SDE with b − εs
    own, good, bad_noise, bad_sign = [], [], [], []
    for n in (16, 32, 128):
        grid = uniform_grid(0.0, 1.0, n)
        own.append(gaussian_w2(integrate_law(term, EulerMaruyama(), grid, START).law(), TARGET))
        good.append(gaussian_w2(loop_law(right, grid, START).law(), TARGET))
        bad_noise.append(gaussian_w2(loop_law(wrong_noise, grid, START).law(), TARGET))
        bad_sign.append(gaussian_w2(loop_law(wrong_sign, grid, START).law(), TARGET))
    assert own[-1] < own[0] / 7                                                       # si_ref: W2 → 0 (order 1)
    np.testing.assert_allclose(good, own, rtol=0, atol=2e-6)                          # right float32 step: same law
    for stalled in (bad_noise, bad_sign):
        assert stalled[-1] > 0.05 and stalled[-1] > 0.8 * stalled[1] and stalled[-1] > 20 * own[-1]


# --- bad inputs --------------------------------------------------------------------------------------------

def _mixture_case():
    target = si_ref.GaussianMixture(np.array([0.3, 0.7]), np.array([[-2.0, 0.0], [2.0, 1.0]]),
                                    np.stack([0.2 * np.eye(2), 0.3 * np.eye(2)]))
    return si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()),
                               si_ref.Gaussian(np.zeros(2), np.eye(2)), target)


MIXTURE = _mixture_case()
GRID = uniform_grid(0.0, 1.0, 4)
BAD_CALLS = {
    "mixture_field": (lambda: integrate_law(MIXTURE.drift, Euler(), GRID, START), ValueError,
                      r"not affine at t = 0\.25.*single-Gaussian GaussianCase"),
    "mixture_score": (lambda: integrate_law(SDETerm(CASE.drift, MIXTURE.score, 0.5), EulerMaruyama(), GRID, START),
                      ValueError, "score is not affine"),
    "stepper_class": (lambda: integrate_law(CASE.drift, RK4, GRID, START), TypeError, "add the parentheses"),
    "stepper_unknown": (lambda: integrate_law(CASE.drift, "rk4", GRID, START), TypeError, "loop_law"),
    "ode_stepper_sde_term": (lambda: integrate_law(SDETerm(CASE.drift, CASE.score, 0.5), RK4(), GRID, START),
                             TypeError, "Pair ODE steppers"),
    "sde_stepper_field": (lambda: integrate_law(CASE.drift, EulerMaruyama(), GRID, START), TypeError, "SDETerm"),
    "grid_not_monotone": (lambda: integrate_law(CASE.drift, Euler(), [0.0, 0.5, 0.3], START), ValueError,
                          "strictly increasing or strictly decreasing"),
    "grid_outside": (lambda: integrate_law(CASE.drift, Euler(), [0.0, 1.5], START), ValueError, r"\[0, 1\]"),
    "save_at_off_grid": (lambda: integrate_law(CASE.drift, Euler(), GRID, START, save_at=[0.3]), ValueError,
                         "not a point of the grid"),
    "start_not_psd": (lambda: integrate_law(CASE.drift, Euler(), GRID, (np.zeros(2), np.array([[1.0, 2.0], [2.0, 1.0]]))),
                      ValueError, "law_start.cov must be positive semidefinite"),
    "start_asymmetric": (lambda: integrate_law(CASE.drift, Euler(), GRID, (np.zeros(2), np.array([[1.0, 0.1], [0.0, 1.0]]))),
                         ValueError, "law_start.cov must be symmetric"),
    "start_wrong_shape": (lambda: integrate_law(CASE.drift, Euler(), GRID, (np.zeros(2), np.eye(3))), ValueError,
                          r"law_start.cov must have shape \(d, d\)"),
    "start_nan": (lambda: integrate_law(CASE.drift, Euler(), GRID, (np.array([np.nan, 0.0]), np.eye(2))), ValueError,
                  "law_start.mean must be finite"),
    "start_not_a_law": (lambda: integrate_law(CASE.drift, Euler(), GRID, np.eye(2)), TypeError, "GaussianLaw"),
    "w2_dimensions": (lambda: gaussian_w2((np.zeros(2), np.eye(2)), (np.zeros(3), np.eye(3))), ValueError,
                      "same dimension"),
    "probe_not_affine": (lambda: probe_step(lambda x, z: x**2 + z, 2), ValueError, "step is not affine"),
    "probe_wrong_shape": (lambda: probe_step(lambda x, z: x[:, :1], 2), ValueError, r"shape \(n, d\)"),
    "affine_t_outside": (lambda: affine_coefficients(CASE.drift, 1.2, 2), ValueError, r"t must lie"),
    "ddim_levels_decreasing": (lambda: ddim_law(eps_model, [0.5, 0.4], marginal(0.5)), ValueError,
                               "strictly increasing"),
    "ddim_level_zero": (lambda: ddim_law(eps_model, [0.0, 0.4], marginal(0.5)), ValueError,
                        r"alpha_bars must be finite numbers in \(0, 1\]; received 0\.0 at index 0"),
    "ddim_level_one_inside": (lambda: ddim_law(eps_model, [0.3, 1.0, 1.0], marginal(0.3)), ValueError,
                              r"strictly increasing.*alpha_bars\[1\] = 1\.0"),
    "ddim_eta_negative": (lambda: ddim_law(eps_model, [0.3, 0.4], marginal(0.3), eta=-1.0), ValueError, "eta"),
    "ddim_eta_too_large": (lambda: ddim_law(eps_model, [0.3, 0.9], marginal(0.3), eta=3.0), ValueError,
                           "too large"),
    "ddim_model_not_callable": (lambda: ddim_law(None, [0.3, 0.4], marginal(0.3)), TypeError, "eps_model"),
    "loop_times_short": (lambda: loop_law(lambda x, t, tn, z: x, [0.0], START), ValueError, "at least 2"),
    "push_not_a_step": (lambda: push_law(START, (np.eye(2), np.zeros(2))), TypeError, "AffineStep"),
}


@pytest.mark.parametrize("name", list(BAD_CALLS))
def test_bad_input_raises_a_readable_error(name):
    call, error, message = BAD_CALLS[name]
    with pytest.raises(error, match=message):
        call()


def test_inputs_are_never_modified():
    mean, cov = START.mean.copy(), START.cov.copy()
    grid = uniform_grid(0.0, 1.0, 3)

    def meddling(x, t):
        out = CASE.drift(x, t)
        x[:] = 1e9                                                      # a field that writes into its input
        return out

    law = integrate_law(meddling, Heun(), grid, (mean, cov))
    np.testing.assert_array_equal(mean, START.mean)
    np.testing.assert_array_equal(cov, START.cov)
    np.testing.assert_array_equal(grid, uniform_grid(0.0, 1.0, 3))
    reference = integrate_law(CASE.drift, Heun(), grid, START)
    np.testing.assert_allclose(law.covs, reference.covs, rtol=1e-14)


@pytest.mark.parametrize("kappa", [1e2, 1e4, 1e6, 1e9])
def test_w2_of_ill_conditioned_covariances_meets_its_documented_error_bound(kappa):
    # documented: relative κ²ε/2 (Sylvester form) or absolute 2ε√(κ λ_max) (Procrustes), the smaller applies
    rng = np.random.default_rng(int(np.log10(kappa)))
    eps = np.finfo(float).eps
    rotation, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    sp = rotation @ np.diag([1.0, 0.3, 1.0 / kappa]) @ rotation.T
    sp = 0.5 * (sp + sp.T)
    b = rng.standard_normal((3, 3))
    for scale in (1e-1, 1e-5, 1e-9):
        sq = sp + scale * (b @ b.T)
        p, q = (np.zeros(3), sp), (np.zeros(3), sq)
        exact = float(mp_w2(p, q))
        bound = min(kappa**2 * eps / 2 * exact, 2 * eps * np.sqrt(kappa * np.linalg.eigvalsh(sq)[-1]))
        assert abs(gaussian_w2(p, q) - exact) <= 4 * bound + 1e-16 * exact
