"""Couplings with exact ground truth (si_ref/couplings.py), each against an independent oracle.

Oracles: the textbook matrix-square-root formulas (scipy.linalg.sqrtm, a different algorithm),
mpmath at 50 digits, Monte Carlo within standard errors, brute force over permutations, the
optimality conditions themselves (joint precision, cost of competing couplings), the exact
moment ODE of the linear SDE, and the optional peer POT (skipped when not installed).
"""

import doctest
import itertools
import math

import mpmath
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.integrate import solve_ivp
from scipy.linalg import sqrtm

import si_ref.couplings as couplings
from si_ref import (
    BrownianGamma,
    Gaussian,
    GaussianCase,
    GaussianMixture,
    LinearInterpolant,
    OneSidedLinearInterpolant,
    TrigInterpolant,
    ZeroGamma,
)
from si_ref.couplings import (
    GaussianOTMap,
    GaussianSchrodingerBridge,
    coupled_case,
    coupling_cost,
    entropic_cross_cov,
    minibatch_ot_pairs,
)
from si_ref.samplers import EulerMaruyama, SDETerm, integrate, uniform_grid


def random_spd(rng, d, floor=0.2):
    m = rng.standard_normal((d, d))
    return m @ m.T / d + floor * np.eye(d)


def random_pair(seed, d):
    rng = np.random.default_rng(seed)
    return (Gaussian(rng.standard_normal(d), random_spd(rng, d)),
            Gaussian(2.0 * rng.standard_normal(d), random_spd(rng, d)))


PAIRS = [(seed, d) for seed, d in ((0, 1), (1, 2), (2, 2), (3, 3), (4, 5))]
PAIR_IDS = [f"seed{seed}_d{d}" for seed, d in PAIRS]

# a fixed full-covariance pair for the statistical tests
BASE = Gaussian(np.array([0.5, -1.0]), np.array([[1.0, 0.3], [0.3, 0.6]]))
TARGET = Gaussian(np.array([2.0, 1.0]), np.array([[0.8, -0.4], [-0.4, 1.5]]))


def textbook_ot_matrix(s0, s1):
    """S0^{-1/2} (S0^{1/2} S1 S0^{1/2})^{1/2} S0^{-1/2} with scipy's sqrtm (Schur method) and an inverse."""
    r = np.real(sqrtm(s0))
    r_inv = np.linalg.inv(r)
    return r_inv @ np.real(sqrtm(r @ s1 @ r)) @ r_inv


def joint_cov(base, target, c):
    return np.block([[base.cov, c], [c.T, target.cov]])


def mutual_information(base, target, c):
    """KL(pi || base x target) of a Gaussian coupling: (1/2) log(det S0 det S1 / det J)."""
    return 0.5 * (np.linalg.slogdet(base.cov)[1] + np.linalg.slogdet(target.cov)[1]
                  - np.linalg.slogdet(joint_cov(base, target, c))[1])


def z_scores(a, b, reference):
    """Entrywise (mean of products - reference) / SE for Cov(a, b) with known zero means."""
    products = a[:, :, None] * b[:, None, :]
    return (products.mean(axis=0) - reference) / (products.std(axis=0, ddof=1) / math.sqrt(a.shape[0]))


# --- optimal transport map ------------------------------------------------------------------------

@pytest.mark.parametrize(("seed", "d"), PAIRS, ids=PAIR_IDS)
def test_ot_map_is_symmetric_positive_definite_and_pushes_base_onto_target(seed, d):
    base, target = random_pair(seed, d)
    ot_map = GaussianOTMap(base, target)
    a = ot_map.matrix
    assert_array_equal(a, a.T)
    assert np.linalg.eigvalsh(a)[0] > 0
    assert_allclose(a @ base.cov @ a, target.cov, rtol=1e-12, atol=1e-12 * np.abs(target.cov).max())
    assert_allclose(ot_map.cross_cov, base.cov @ a, rtol=1e-12, atol=1e-13)
    # T maps the base mean to the target mean
    assert_allclose(ot_map(base.mean[None]), target.mean[None], rtol=0, atol=1e-13)


@pytest.mark.parametrize(("seed", "d"), PAIRS, ids=PAIR_IDS)
def test_ot_map_equals_the_textbook_square_root_formula(seed, d):
    base, target = random_pair(seed, d)
    assert_allclose(GaussianOTMap(base, target).matrix, textbook_ot_matrix(base.cov, target.cov),
                    rtol=1e-9, atol=1e-11)


def test_ot_map_in_one_dimension_is_the_ratio_of_standard_deviations():
    ot_map = GaussianOTMap(Gaussian(np.array([1.0]), np.array([[4.0]])), Gaussian(np.array([-2.0]), np.array([[9.0]])))
    assert_allclose(ot_map.matrix, [[1.5]], rtol=1e-15)
    assert_allclose(ot_map.w2_squared, 9.0 + (3.0 - 2.0) ** 2, rtol=1e-15)


@pytest.mark.parametrize(("seed", "d"), PAIRS, ids=PAIR_IDS)
def test_w2_squared_is_the_cost_of_the_ot_coupling(seed, d):
    base, target = random_pair(seed, d)
    ot_map = GaussianOTMap(base, target)
    # the closed-form expected cost E|x0 - x1|^2 of the coupling (x0, T(x0)), via its cross-covariance
    assert_allclose(coupling_cost(base, target, ot_map.cross_cov), ot_map.w2_squared, rtol=1e-11)
    # and the textbook trace formula with scipy's sqrtm
    r = np.real(sqrtm(base.cov))
    textbook = (np.sum((base.mean - target.mean) ** 2) + np.trace(base.cov) + np.trace(target.cov)
                - 2.0 * np.trace(np.real(sqrtm(r @ target.cov @ r))))
    assert_allclose(ot_map.w2_squared, textbook, rtol=1e-10)


def test_w2_squared_matches_monte_carlo_within_standard_errors():
    ot_map = GaussianOTMap(BASE, TARGET)
    x0 = BASE.sample(20000, np.random.default_rng(11))
    squared = np.sum((x0 - ot_map(x0)) ** 2, axis=1)
    z = (squared.mean() - ot_map.w2_squared) / (squared.std(ddof=1) / math.sqrt(squared.size))
    assert abs(z) <= 4.0, z


def test_w2_squared_of_nearby_gaussians_matches_mpmath():
    # W2^2 ~ 1e-12 here: the trace formula loses all digits to cancellation in float64
    rng = np.random.default_rng(5)
    s0 = random_spd(rng, 3)
    perturbation = 1e-6 * random_spd(rng, 3, floor=0.0)
    s1 = s0 + perturbation
    m0 = rng.standard_normal(3)
    m1 = m0 + 1e-7 * rng.standard_normal(3)
    ours = GaussianOTMap(Gaussian(m0, s0), Gaussian(m1, s1)).w2_squared
    mpmath.mp.dps = 50
    S0, S1 = mpmath.matrix(s0.tolist()), mpmath.matrix(s1.tolist())
    root = mpmath.sqrtm(S0)
    cross = mpmath.sqrtm(root * S1 * root)
    trace = lambda m: sum(m[i, i] for i in range(3))  # noqa: E731
    exact = (sum((mpmath.mpf(m1[i]) - mpmath.mpf(m0[i])) ** 2 for i in range(3))
             + trace(S0) + trace(S1) - 2 * trace(cross))
    assert 1e-14 < float(exact) < 1e-10
    assert_allclose(ours, float(exact), rtol=1e-6)


@pytest.mark.parametrize(("seed", "d"), PAIRS[1:], ids=PAIR_IDS[1:])
def test_no_other_linear_map_pushing_base_onto_target_is_cheaper(seed, d):
    # every linear map pushing N(m0, S0) onto N(m1, S1) is m1 + S1^{1/2} Q S0^{-1/2} (x - m0), Q orthogonal
    base, target = random_pair(seed, d)
    ot_map = GaussianOTMap(base, target)
    rng = np.random.default_rng(100 + seed)
    r0_inv = np.linalg.inv(np.real(sqrtm(base.cov)))
    r1 = np.real(sqrtm(target.cov))
    costs = []
    for _ in range(20):
        q, upper = np.linalg.qr(rng.standard_normal((d, d)))
        q *= np.sign(np.diag(upper))
        m = r1 @ q @ r0_inv
        assert_allclose(m @ base.cov @ m.T, target.cov, atol=1e-10)       # a valid competitor
        costs.append(coupling_cost(base, target, base.cov @ m.T))
    assert min(costs) > ot_map.w2_squared + 1e-9


def test_ot_map_pairs_are_the_optimal_assignment_of_their_samples():
    # a deterministic OT map is cyclically monotone: shuffled images are re-paired exactly
    ot_map = GaussianOTMap(BASE, TARGET)
    rng = np.random.default_rng(3)
    x0 = BASE.sample(200, rng)
    shuffle = rng.permutation(200)
    pairs = minibatch_ot_pairs(x0, ot_map(x0)[shuffle])
    assert_array_equal(shuffle[pairs.permutation], np.arange(200))


def test_ot_map_agrees_with_pot():
    ot = pytest.importorskip("ot")
    for seed, d in PAIRS:
        base, target = random_pair(seed, d)
        ot_map = GaussianOTMap(base, target)
        a, b = ot.gaussian.bures_wasserstein_mapping(base.mean, target.mean, base.cov, target.cov)
        assert_allclose(ot_map.matrix, a, rtol=1e-8, atol=1e-10)
        x = base.sample(5, np.random.default_rng(seed))
        assert_allclose(ot_map(x), x @ a.T + b.reshape(-1), rtol=1e-8, atol=1e-10)
        w = ot.gaussian.bures_wasserstein_distance(base.mean, target.mean, base.cov, target.cov)
        assert_allclose(ot_map.w2_squared, float(w) ** 2, rtol=1e-8)


# --- entropic optimal transport ------------------------------------------------------------------

EPSILONS = (1e-3, 0.3, 1.0, 4.0, 50.0)


@pytest.mark.parametrize(("seed", "d"), PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("epsilon", EPSILONS)
def test_entropic_coupling_has_joint_precision_off_diagonal_minus_two_over_epsilon(seed, d, epsilon):
    base, target = random_pair(seed, d)
    c = entropic_cross_cov(base, target, epsilon)
    joint = joint_cov(base, target, c)
    assert np.linalg.eigvalsh(joint)[0] > 0                                      # feasible, strictly inside
    precision = np.linalg.inv(joint)
    assert_allclose(epsilon * precision[:d, d:], -2.0 * np.eye(d), atol=1e-7 if epsilon < 0.01 else 1e-10)
    GaussianCase(LinearInterpolant(BrownianGamma()), base, target, cross_cov=c)   # accepted as a coupling


@pytest.mark.parametrize(("seed", "d"), PAIRS, ids=PAIR_IDS)
def test_entropic_coupling_equals_the_closed_form_of_janati_et_al(seed, d):
    # S0^{1/2} (S0^{1/2} S1 S0^{1/2} + eps^2/16 I)^{1/2} S0^{-1/2} - eps/4 I, with scipy's sqrtm
    base, target = random_pair(seed, d)
    r = np.real(sqrtm(base.cov))
    for epsilon in (0.1, 2.0):
        inner = np.real(sqrtm(r @ target.cov @ r + epsilon**2 / 16 * np.eye(d)))
        expected = r @ inner @ np.linalg.inv(r) - epsilon / 4 * np.eye(d)
        assert_allclose(entropic_cross_cov(base, target, epsilon), expected, rtol=1e-9, atol=1e-11)


def test_entropic_coupling_minimises_cost_plus_epsilon_times_kl_among_gaussian_couplings():
    epsilon = 0.7
    c = entropic_cross_cov(BASE, TARGET, epsilon)
    objective = lambda cc: coupling_cost(BASE, TARGET, cc) + epsilon * mutual_information(BASE, TARGET, cc)  # noqa: E731
    best = objective(c)
    rng = np.random.default_rng(8)
    for size in (1e-1, 1e-2, 1e-3):
        for _ in range(10):
            perturbed = c + size * rng.standard_normal((2, 2))
            if np.linalg.eigvalsh(joint_cov(BASE, TARGET, perturbed))[0] > 0:
                assert objective(perturbed) > best
    # the OT and independent couplings are worse for this objective too (OT: infinite KL)
    assert objective(np.zeros((2, 2))) > best
    near_ot = entropic_cross_cov(BASE, TARGET, 1e-4)
    assert objective(near_ot) > best


@pytest.mark.parametrize(("seed", "d"), PAIRS, ids=PAIR_IDS)
def test_entropic_coupling_tends_to_ot_as_epsilon_vanishes_and_to_independence_as_it_grows(seed, d):
    base, target = random_pair(seed, d)
    c_ot = GaussianOTMap(base, target).cross_cov
    assert_allclose(entropic_cross_cov(base, target, 0.0), c_ot, rtol=1e-13, atol=1e-14)
    errors = [np.abs(entropic_cross_cov(base, target, e) - c_ot).max() for e in (1e-2, 1e-3, 1e-4)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-3
    # eps C -> 2 S0 S1 (H ~ 2N / eps): a first-order statement, sharper than C -> 0
    for epsilon in (1e6, 1e12, 1e200):
        assert_allclose(epsilon * entropic_cross_cov(base, target, epsilon), 2.0 * base.cov @ target.cov,
                        rtol=1e-5 if epsilon == 1e6 else 1e-10, atol=1e-12)


def test_entropic_coupling_agrees_with_pot_sinkhorn_on_samples():
    ot = pytest.importorskip("ot")
    epsilon, n = 1.0, 600
    rng = np.random.default_rng(4)
    x0, x1 = BASE.sample(n, rng), TARGET.sample(n, rng)
    plan = ot.sinkhorn(np.full(n, 1.0 / n), np.full(n, 1.0 / n), ot.dist(x0, x1), reg=epsilon,
                       method="sinkhorn_log", numItermax=5000, stopThr=1e-10)
    c_hat = (x0 - BASE.mean).T @ plan @ (x1 - TARGET.mean)
    # POT's reg is our epsilon: the closed forms at epsilon / 2 and 2 epsilon (the factor-two slip between the
    # conventions, Janati et al.'s sigma^2 = epsilon / 2) are farther from the plan's moments than its sampling
    # error (measured 0.046 for C_eps, 0.12 and 0.16 for the other two; 0.02-0.06 and >= 0.12 over seeds 4-7)
    error = {factor: np.abs(c_hat - entropic_cross_cov(BASE, TARGET, factor * epsilon)).max() for factor in (0.5, 1, 2)}
    assert error[1] < 0.08 < min(error[0.5], error[2]), error
    # the independent and OT couplings are farther still
    assert np.abs(c_hat).max() > 0.3
    assert np.abs(c_hat - GaussianOTMap(BASE, TARGET).cross_cov).max() > 0.15


# --- Schrödinger bridge ------------------------------------------------------------------------------

SIGMA = 0.8


def endpoint_cross_cov_of_sde(drift, base):
    """Exact Cov(X0, X1) of the linear SDE dX = drift dt + noise from X0 ~ base: Q' = M(t) Q, Q(0) = S0.

    M(t) is the Jacobian of the affine drift, read off from d + 1 evaluations (exact for affine maps).
    """
    d = base.dim
    points = np.vstack([np.zeros(d), np.eye(d)])

    def rhs(t, q):
        values = drift(points, t)
        return ((values[1:] - values[0]).T @ q.reshape(d, d)).ravel()

    solution = solve_ivp(rhs, (0.0, 1.0), base.cov.ravel(), method="DOP853", rtol=1e-11, atol=1e-13)
    return solution.y[:, -1].reshape(d, d).T            # Q(1) = Cov(X1, X0); transposed: Cov(X0, X1)


def test_bridge_is_the_brownian_bridge_interpolant_with_the_entropic_coupling():
    bridge = GaussianSchrodingerBridge(BASE, TARGET, SIGMA)
    t = np.linspace(0.0, 1.0, 11)
    assert_allclose(bridge.interpolant.gamma(t) ** 2, SIGMA**2 * t * (1 - t), rtol=1e-14, atol=1e-17)
    assert_allclose(bridge.interpolant.alpha(t), 1 - t, rtol=1e-15)
    assert bridge.entropic_epsilon == 2 * SIGMA**2 and bridge.sde_eps == SIGMA**2 / 2
    assert_array_equal(bridge.cross_cov, entropic_cross_cov(BASE, TARGET, 2 * SIGMA**2))
    assert_array_equal(bridge.case.cross_cov, bridge.cross_cov)
    assert_allclose(bridge.case.cov(0.0), BASE.cov, rtol=1e-15)          # marginals: x_0 ~ base, x_1 ~ target
    assert_allclose(bridge.case.cov(1.0), TARGET.cov, rtol=1e-15)
    assert_allclose(bridge.case.mean(1.0), TARGET.mean, rtol=1e-15)


def test_bridge_drift_is_the_brownian_bridge_drift_averaged_given_x_t():
    # u(x, t) = E[(x1 - x_t) / (1 - t) | x_t = x] = (xhat1 - x) / (1 - t), from the denoiser
    bridge = GaussianSchrodingerBridge(BASE, TARGET, SIGMA)
    x = np.random.default_rng(6).normal(size=(7, 2)) * 2
    for t in (0.05, 0.4, 0.9):
        expected = (bridge.case.denoise_x1(x, t) - x) / (1 - t)
        assert_allclose(bridge.drift(x, t), expected, rtol=1e-11, atol=1e-11)


def test_bridge_sde_reproduces_the_entropic_coupling_exactly_and_by_monte_carlo():
    bridge = GaussianSchrodingerBridge(BASE, TARGET, SIGMA)
    # exact: the moment ODE of the linear SDE
    assert_allclose(endpoint_cross_cov_of_sde(bridge.drift, BASE), bridge.cross_cov, rtol=1e-9, atol=1e-10)
    # Monte Carlo: Euler-Maruyama, 4000 paths, 200 steps
    rng = np.random.default_rng(0)
    x0 = BASE.sample(4000, rng)
    x1 = integrate(bridge.sde_term(), EulerMaruyama(), uniform_grid(0.0, 1.0, 200), x0, rng=rng).states[-1]
    z = z_scores(x0 - BASE.mean, x1 - TARGET.mean, bridge.cross_cov)
    assert np.abs(z).max() <= 4.0, z
    # the marginal at t = 1 is the target: mean and covariance within 4 SE
    centred = x1 - TARGET.mean
    assert np.abs(centred.mean(axis=0) / (centred.std(axis=0, ddof=1) / math.sqrt(4000))).max() <= 4.0
    assert np.abs(z_scores(centred, centred, TARGET.cov)).max() <= 4.0


def test_forward_sde_of_the_independent_coupling_does_not_keep_that_coupling():
    # same marginals (Brownian-bridge interpolant, independent coupling), same SDE form: Cov(X0, X1) != 0
    bridge = GaussianSchrodingerBridge(BASE, TARGET, SIGMA)
    independent = GaussianCase(bridge.interpolant, BASE, TARGET)
    drift = lambda x, t: independent.forward_drift(x, t, bridge.sde_eps)  # noqa: E731
    exact = endpoint_cross_cov_of_sde(drift, BASE)
    assert np.abs(exact).max() > 0.3
    assert np.abs(exact - bridge.cross_cov).max() > 0.05
    rng = np.random.default_rng(1)
    x0 = BASE.sample(4000, rng)
    term = SDETerm(independent.drift, independent.score, bridge.sde_eps)
    x1 = integrate(term, EulerMaruyama(), uniform_grid(0.0, 1.0, 200), x0, rng=rng).states[-1]
    assert np.abs(z_scores(x0 - BASE.mean, x1 - TARGET.mean, np.zeros((2, 2)))).max() > 10.0   # not C = 0
    assert np.abs(z_scores(x0 - BASE.mean, x1 - TARGET.mean, exact)).max() <= 4.0             # the projection's C


def test_bridge_fields_satisfy_the_continuity_and_fokker_planck_equations():
    bridge = GaussianSchrodingerBridge(BASE, TARGET, SIGMA)
    case, eps = bridge.case, bridge.sde_eps
    x = np.random.default_rng(2).normal(size=(6, 2)) + 1.0
    h = 1e-5
    for t in (0.2, 0.5, 0.8):
        dlog = (case.log_density(x, t + h) - case.log_density(x, t - h)) / (2 * h)
        b, s = case.drift(x, t), case.score(x, t)
        continuity = dlog + case.divergence(x, t) + np.sum(b * s, axis=1)          # d_t log rho + div b + b.s
        assert np.abs(continuity).max() < 1e-7
        u = bridge.drift(x, t)
        div_u = case.divergence(x, t) + eps * case.score_divergence(x, t)
        fokker_planck = dlog + div_u + np.sum(u * s, axis=1) - eps * (case.score_divergence(x, t) + np.sum(s * s, axis=1))
        assert np.abs(fokker_planck).max() < 1e-7


def test_named_coupled_cases_are_the_ot_and_bridge_couplings_of_their_endpoints():
    from si_ref import references
    ot_case = references.case("ot-2d-linear-zero")
    assert_allclose(ot_case.cross_cov, ot_case.base.cov @ textbook_ot_matrix(ot_case.base.cov, ot_case.target.cov),
                    rtol=1e-9, atol=1e-12)                                   # Cov(x0, A x0) = S0 Aᵀ = S0 A
    bridge_case = references.case("schrodinger-bridge-2d-linear")
    bridge = GaussianSchrodingerBridge(bridge_case.base, bridge_case.target, 1.0)
    assert_allclose(bridge_case.cross_cov, bridge.cross_cov, rtol=1e-14)
    t = np.linspace(0.0, 1.0, 7)
    assert_allclose(bridge_case.interpolant.gamma(t) ** 2, t * (1 - t), rtol=1e-14, atol=1e-17)   # sigma = 1
    x = np.random.default_rng(12).normal(size=(4, 2))
    assert_allclose(bridge_case.drift(x, 0.3), bridge.case.drift(x, 0.3), rtol=1e-13, atol=1e-13)


# --- the chooser -------------------------------------------------------------------------------------

def test_coupled_case_sets_the_cross_covariance_of_each_coupling():
    interpolant = LinearInterpolant(ZeroGamma())
    assert coupled_case(interpolant, BASE, TARGET).cross_cov is None
    ot_case = coupled_case(interpolant, BASE, TARGET, coupling="ot")
    assert_array_equal(ot_case.cross_cov, GaussianOTMap(BASE, TARGET).cross_cov)
    entropic = coupled_case(TrigInterpolant(BrownianGamma()), BASE, TARGET, coupling="entropic", epsilon=0.5)
    assert_array_equal(entropic.cross_cov, entropic_cross_cov(BASE, TARGET, 0.5))
    mixture = GaussianMixture([0.5, 0.5], [[0.0, 0.0], [1.0, 1.0]], [np.eye(2), np.eye(2)])
    assert coupled_case(interpolant, BASE, mixture).n_pairs == 2


def test_ot_case_with_zero_gamma_transports_points_along_the_ot_map():
    # displacement interpolation: x_t = (1 - t) x0 + t T(x0); its flow map from 0 to 1 is T
    case = coupled_case(LinearInterpolant(ZeroGamma()), BASE, TARGET, coupling="ot")
    x0 = BASE.sample(5, np.random.default_rng(9))
    assert_allclose(case.flow_map(x0, 1.0, 0.0), GaussianOTMap(BASE, TARGET)(x0), rtol=1e-8, atol=1e-8)
    for t in (0.0, 0.3, 1.0):
        x_t = (1 - t) * x0 + t * GaussianOTMap(BASE, TARGET)(x0)
        assert_allclose(case.drift(x_t, t), GaussianOTMap(BASE, TARGET)(x0) - x0, rtol=1e-10, atol=1e-10)


# --- minibatch OT ------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_minibatch_pairs_are_optimal_against_brute_force(n):
    rng = np.random.default_rng(n)
    for d in (1, 2, 3):
        for _ in range(3):
            x0, x1 = rng.normal(size=(n, d)), rng.normal(size=(n, d)) + 0.5
            pairs = minibatch_ot_pairs(x0, x1)
            assert sorted(pairs.permutation.tolist()) == list(range(n))
            assert_array_equal(pairs.x1, x1[pairs.permutation])
            cost = np.sum((pairs.x0 - pairs.x1) ** 2)
            brute = min(np.sum((x0 - x1[list(p)]) ** 2) for p in itertools.permutations(range(n)))
            assert_allclose(cost, brute, rtol=1e-12, atol=1e-14)


def test_minibatch_pairs_leave_inputs_untouched_and_return_float64_copies():
    rng = np.random.default_rng(7)
    x0, x1 = rng.normal(size=(8, 2)).astype(np.float32), rng.normal(size=(8, 2))
    x0_before, x1_before = x0.copy(), x1.copy()
    x1.setflags(write=False)
    pairs = minibatch_ot_pairs(x0, x1)
    assert_array_equal(x0, x0_before)
    assert_array_equal(x1, x1_before)
    assert pairs.x0.dtype == pairs.x1.dtype == np.float64
    assert not np.shares_memory(pairs.x0, x0) and not np.shares_memory(pairs.x1, x1)
    pairs.x1[:] = 0.0                                                     # writable, and not a view of x1
    assert_array_equal(x1, x1_before)


def test_minibatch_of_one_point_is_the_independent_pair():
    pairs = minibatch_ot_pairs(np.array([[1.0, 2.0]]), np.array([[-3.0, 0.5]]))
    assert_array_equal(pairs.permutation, [0])
    assert_array_equal(pairs.x1, [[-3.0, 0.5]])


def test_docstring_examples_run():
    result = doctest.testmod(couplings, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# --- bad inputs ----------------------------------------------------------------------------------------

MIXTURE = GaussianMixture([0.5, 0.5], [[0.0, 0.0], [1.0, 1.0]], [np.eye(2), np.eye(2)])
BASE_3D = Gaussian(np.zeros(3), np.eye(3))
LINEAR = LinearInterpolant(BrownianGamma())

BAD_CALLS = [
    ("ot_map_mixture_base", lambda: GaussianOTMap(MIXTURE, TARGET), TypeError, "base must be a si_ref.Gaussian"),
    ("ot_map_array_target", lambda: GaussianOTMap(BASE, np.eye(2)), TypeError, "target must be a si_ref.Gaussian"),
    ("ot_map_dimensions", lambda: GaussianOTMap(BASE_3D, TARGET), ValueError, "same dimension"),
    ("ot_map_call_wrong_d", lambda: GaussianOTMap(BASE, TARGET)(np.zeros((4, 3))), ValueError, "d = 2 columns"),
    ("ot_map_call_1d", lambda: GaussianOTMap(BASE, TARGET)(np.zeros(2)), ValueError, "x must have shape"),
    ("entropic_negative", lambda: entropic_cross_cov(BASE, TARGET, -1.0), ValueError, "epsilon must be a finite number >= 0"),
    ("entropic_nan", lambda: entropic_cross_cov(BASE, TARGET, float("nan")), ValueError, "epsilon must be finite"),
    ("entropic_inf", lambda: entropic_cross_cov(BASE, TARGET, float("inf")), ValueError, "epsilon must be finite"),
    ("entropic_string", lambda: entropic_cross_cov(BASE, TARGET, "1"), TypeError, "epsilon must be a real number"),
    ("entropic_none", lambda: entropic_cross_cov(BASE, TARGET, None), TypeError, "epsilon must be a real number"),
    ("entropic_mixture", lambda: entropic_cross_cov(BASE, MIXTURE, 1.0), TypeError, "GaussianMixture"),
    ("cost_shape", lambda: coupling_cost(BASE, TARGET, np.zeros((2, 3))), ValueError, r"cross_cov must have shape \(d, d\)"),
    ("cost_nan", lambda: coupling_cost(BASE, TARGET, np.full((2, 2), np.nan)), ValueError, "finite"),
    ("cost_complex", lambda: coupling_cost(BASE, TARGET, np.zeros((2, 2), complex)), TypeError, "real"),
    ("chooser_unknown", lambda: coupled_case(LINEAR, BASE, TARGET, coupling="sinkhorn"), ValueError, "coupling must be one of"),
    ("chooser_missing_epsilon", lambda: coupled_case(LINEAR, BASE, TARGET, coupling="entropic"), ValueError, "epsilon is required"),
    ("chooser_stray_epsilon", lambda: coupled_case(LINEAR, BASE, TARGET, coupling="ot", epsilon=1.0), ValueError, "epsilon applies"),
    ("chooser_not_interpolant", lambda: coupled_case("linear", BASE, TARGET), TypeError, "interpolant must be"),
    ("chooser_one_sided", lambda: coupled_case(OneSidedLinearInterpolant(), Gaussian(np.zeros(2), np.eye(2)), TARGET,
                                               coupling="ot"), ValueError, "two-sided"),
    ("chooser_ot_mixture", lambda: coupled_case(LINEAR, BASE, MIXTURE, coupling="ot"), TypeError, "GaussianMixture"),
    ("bridge_sigma_zero", lambda: GaussianSchrodingerBridge(BASE, TARGET, 0.0), ValueError, "sigma must be a finite number > 0"),
    ("bridge_sigma_negative", lambda: GaussianSchrodingerBridge(BASE, TARGET, -1.0), ValueError, "sigma"),
    ("bridge_sigma_overflow", lambda: GaussianSchrodingerBridge(BASE, TARGET, 1e200), ValueError,
     "sigma must have sigma\\*\\*2 a positive finite float.*overflows"),
    ("bridge_sigma_underflow", lambda: GaussianSchrodingerBridge(BASE, TARGET, 1e-200), ValueError,
     "underflows to 0"),
    ("bridge_sigma_bool", lambda: GaussianSchrodingerBridge(BASE, TARGET, True), TypeError, "sigma must be a real number"),
    ("bridge_mixture", lambda: GaussianSchrodingerBridge(MIXTURE, TARGET, 1.0), TypeError, "base must be"),
    ("pairs_shapes_differ", lambda: minibatch_ot_pairs(np.zeros((3, 2)), np.zeros((4, 2))), ValueError, "same shape"),
    ("pairs_integers", lambda: minibatch_ot_pairs(np.zeros((3, 2), int), np.zeros((3, 2))), TypeError, "x0 must be a floating-point"),
    ("pairs_1d", lambda: minibatch_ot_pairs(np.zeros(3), np.zeros(3)), ValueError, r"x0 must have shape \(n, d\)"),
    ("pairs_nan", lambda: minibatch_ot_pairs(np.zeros((3, 2)), np.full((3, 2), np.nan)), ValueError, "x1 must contain only finite"),
]


@pytest.mark.parametrize(("call", "error", "match"), [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS])
def test_bad_inputs_are_refused_with_a_message_naming_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
