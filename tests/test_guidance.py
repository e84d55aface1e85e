"""Classifier-free guidance (si_ref/guidance.py) against independent oracles.

Oracles: Gaussian conditioning of the joint law of (x0, x1, z, x_t) written out here with
numpy; scipy.stats.multivariate_normal densities of the time-t components (Bayes for
mixtures); finite differences in x and t; Monte Carlo with si_ref.integrate (RK4) and
importance sampling with stated standard errors.
"""

import math

import numpy as np
import pytest
from scipy.stats import multivariate_normal

import si_ref
from si_ref import guidance
from si_ref.guidance import (
    GuidanceCase,
    GuidedField,
    GuidedGaussianPair,
    LabelledGaussianMixture,
    TiltedMixture,
    guidance_strength,
    guide,
    tilted_target,
)
from si_ref.wrappers import (
    DenoiserX0FromScore,
    DenoiserX1FromScore,
    DriftFromDenoisers,
    DriftFromScoreOneSided,
    DriftFromVelocityScore,
    NoiseFromScore,
)

import reference
from reference import assert_raises_naming

LINEAR = si_ref.LinearInterpolant(si_ref.BrownianGamma())
TRIG = si_ref.TrigInterpolant(si_ref.SineSquaredGamma())
BASE = si_ref.Gaussian([0.3, -0.2], [[1.0, 0.2], [0.2, 0.8]])
MIXTURE_BASE = si_ref.GaussianMixture([0.5, 0.5], [[-1.0, 0.0], [1.0, 0.5]], [0.5 * np.eye(2), [[0.6, 0.1], [0.1, 0.4]]])
TARGET = LabelledGaussianMixture(
    [0.25, 0.35, 0.4],
    [[-2.0, 0.0], [-1.0, 1.5], [2.0, 0.5]],
    [0.3 * np.eye(2), np.diag([0.2, 0.4]), [[0.4, 0.1], [0.1, 0.3]]],
    [0, 0, "b"],
)
CASE = GuidanceCase(LINEAR, BASE, TARGET)
X = np.random.default_rng(0).normal(scale=1.5, size=(6, 2))


def coefficients(interpolant, t):
    return (float(interpolant.alpha(t)), float(interpolant.beta(t)), float(interpolant.gamma(t)))


def time_t_components(interpolant, base, weights, means, covs, t):
    """Weights, means and covariances of x_t for a Gaussian base and the given target components."""
    a, b, g = coefficients(interpolant, t)
    return [(w, a * base.mean + b * m, a * a * base.cov + b * b * s + g * g * np.eye(2))
            for w, m, s in zip(weights, means, covs)]


def posterior_expectations(interpolant, base, mean1, cov1, x, t):
    """E[x0 | x_t], E[x1 | x_t], E[z | x_t] for one target Gaussian: blocks of the joint covariance of (x0, x1, z, x_t)."""
    a, b, g = coefficients(interpolant, t)
    d = 2
    joint = np.zeros((3 * d, 3 * d))
    joint[:d, :d], joint[d:2 * d, d:2 * d], joint[2 * d:, 2 * d:] = base.cov, cov1, np.eye(d)
    mean = np.concatenate([base.mean, mean1, np.zeros(d)])
    read = np.hstack([a * np.eye(d), b * np.eye(d), g * np.eye(d)])       # x_t = a x0 + b x1 + g z
    cross = joint @ read.T                                                  # Cov((x0, x1, z), x_t)
    cov_t = read @ joint @ read.T
    gain = np.linalg.solve(cov_t, cross.T).T
    out = mean + (x - read @ mean) @ gain.T
    return out[:, :d], out[:, d:2 * d], out[:, 2 * d:]


def fd_gradient(f, x):
    """8th-order central differences (tests/reference.py) of a scalar function of the rows of x; returns (n, d)."""
    return reference.gradient(f, x, 1e-3)


# --- conditional and unconditional fields -----------------------------------------------------

@pytest.mark.parametrize("interpolant", [LINEAR, TRIG], ids=["linear", "trig"])
@pytest.mark.parametrize("t", [0.0, 0.3, 0.8, 1.0])
def test_single_component_label_fields_are_gaussian_conditioning(interpolant, t):
    case = GuidanceCase(interpolant, BASE, TARGET)
    x0_hat, x1_hat, z_hat = posterior_expectations(interpolant, BASE, TARGET.means[2], TARGET.covs[2], X, t)
    np.testing.assert_allclose(case.denoise_x1(X, t, "b"), x1_hat, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(case.denoise_x0(X, t, "b"), x0_hat, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(case.noise(X, t, "b"), z_hat, rtol=1e-11, atol=1e-12)
    [(_, mean, cov)] = time_t_components(interpolant, BASE, [1.0], TARGET.means[2:], TARGET.covs[2:], t)
    score = fd_gradient(lambda y: multivariate_normal(mean, cov).logpdf(y), X)
    np.testing.assert_allclose(case.score(X, t, "b"), score, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("c", [0, None])
def test_mixture_fields_are_bayes_averages_with_scipy_densities(c):
    t = 0.6
    index = [0, 1] if c == 0 else [0, 1, 2]
    weights = TARGET.weights[index] / TARGET.weights[index].sum()
    parts = time_t_components(LINEAR, BASE, weights, TARGET.means[index], TARGET.covs[index], t)
    joint = np.stack([w * multivariate_normal(m, s).pdf(X) for w, m, s in parts], 1)
    r = joint / joint.sum(1, keepdims=True)
    x1_parts = [posterior_expectations(LINEAR, BASE, TARGET.means[k], TARGET.covs[k], X, t)[1] for k in index]
    np.testing.assert_allclose(CASE.denoise_x1(X, t, c), np.einsum("nk,knd->nd", r, np.array(x1_parts)), rtol=1e-10)
    np.testing.assert_allclose(CASE.log_density(X, t, c), np.log(joint.sum(1)), rtol=1e-12)
    log_rho = lambda y: np.log(sum(w * multivariate_normal(m, s).pdf(y) for w, m, s in parts))  # noqa: E731
    np.testing.assert_allclose(CASE.score(X, t, c), fd_gradient(log_rho, X), rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("c", [0, "b", None])
def test_conditional_and_unconditional_drifts_satisfy_the_continuity_equation(c):
    # ∂_t log ρ + ∇·b + b·s = 0, ∂_t by 4th-order differences of the log density
    t, h = 0.45, 1e-4
    dlog = (-CASE.log_density(X, t + 2 * h, c) + 8 * CASE.log_density(X, t + h, c)
            - 8 * CASE.log_density(X, t - h, c) + CASE.log_density(X, t - 2 * h, c)) / (12 * h)
    residual = dlog + CASE.divergence(X, t, c) + np.sum(CASE.drift(X, t, c) * CASE.score(X, t, c), axis=1)
    np.testing.assert_allclose(residual, 0.0, atol=1e-8)
    # a sign error in the drift's noise term (v + γγ̇ s) breaks it
    wrong = CASE.velocity(X, t, c) + LINEAR.gamma_gamma_dot(t) * CASE.score(X, t, c)
    assert np.abs(dlog + CASE.divergence(X, t, c) + np.sum(wrong * CASE.score(X, t, c), 1)).max() > 0.05


@pytest.mark.parametrize("t", [0.2, 0.7])
def test_classifier_score_is_the_gradient_of_the_log_posterior_class_probability(t):
    parts = time_t_components(LINEAR, BASE, TARGET.weights, TARGET.means, TARGET.covs, t)

    def log_p0(y):   # log p(c = 0 | x_t = y) from scipy densities of the time-t components
        dens = np.stack([w * multivariate_normal(m, s).pdf(y) for w, m, s in parts], 1)
        return np.log(dens[:, :2].sum(1) / dens.sum(1))

    np.testing.assert_allclose(CASE.classifier_score(X, t, 0), fd_gradient(log_p0, X), rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(CASE.log_class_probability(X, t, 0), log_p0(X), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(CASE.class_probabilities(X, t)[:, 0], np.exp(log_p0(X)), rtol=1e-12)
    # classifier guidance (Dhariwal & Nichol) s + g ∇log p(c|x) is the scale-convention guided score
    g = 2.5
    np.testing.assert_allclose(CASE.score(X, t) + g * fd_gradient(log_p0, X),
                               CASE.guided(scale=g).score(X, t, 0), rtol=1e-7, atol=1e-7)


# --- guided fields ---------------------------------------------------------------------------------

@pytest.mark.parametrize("strength", [dict(scale=3.0), dict(weight=-0.4), dict(scale=-1.5)], ids=["g3", "w-0.4", "g-1.5"])
@pytest.mark.parametrize("t", [0.0, 0.35, 1.0])
def test_guided_fields_satisfy_the_identities(strength, t):
    guided = GuidanceCase(LINEAR, MIXTURE_BASE, TARGET).guided(**strength)
    a, b, g = coefficients(LINEAR, t)
    a_dot, b_dot, ggd = float(LINEAR.alpha_dot(t)), float(LINEAR.beta_dot(t)), float(LINEAR.gamma_gamma_dot(t))
    s, eta, x0, x1 = (getattr(guided, n)(X, t, 0) for n in ("score", "noise", "denoise_x0", "denoise_x1"))
    v, drift = guided.velocity(X, t, 0), guided.drift(X, t, 0)
    np.testing.assert_allclose(eta, -g * s, atol=1e-12)
    np.testing.assert_allclose(a * x0 + b * x1 + g * eta, X, atol=1e-12)
    np.testing.assert_allclose(v, a_dot * x0 + b_dot * x1, atol=1e-12)
    np.testing.assert_allclose(drift, v - ggd * s, atol=1e-12)
    if 0 < t < 1:   # divergence of the guided drift by finite differences of the guided drift
        div = reference.divergence(lambda y: guided.drift(y, t, 0), X, 1e-3)
        np.testing.assert_allclose(guided.divergence(X, t, 0), div, rtol=1e-7, atol=1e-7)


def test_both_conventions_agree_at_g_equal_one_plus_w_and_reduce_to_the_fields():
    t = 0.4
    for w in (-1.0, -0.3, 0.0, 2.0, 7.5):
        np.testing.assert_allclose(CASE.guided(weight=w).drift(X, t, 0), CASE.guided(scale=1 + w).drift(X, t, 0),
                                   rtol=1e-13, atol=1e-13)
    for name in guidance.GUIDED_FIELDS:
        conditional, unconditional = getattr(CASE, name)(X, t, 0), getattr(CASE, name)(X, t)
        assert np.array_equal(getattr(CASE.guided(scale=1.0), name)(X, t, 0), conditional)
        assert np.array_equal(getattr(CASE.guided(weight=0.0), name)(X, t, 0), conditional)
        assert np.array_equal(getattr(CASE.guided(scale=0.0), name)(X, t, 0), unconditional)
        assert np.array_equal(getattr(CASE.guided(weight=-1.0), name)(X, t, 0), unconditional)
        np.testing.assert_allclose(getattr(CASE.guided(weight=2.0), name)(X, t, 0),
                                   3.0 * conditional - 2.0 * unconditional, rtol=1e-14, atol=1e-14)
    assert not np.allclose(CASE.guided(weight=2.0).drift(X, t, 0), CASE.guided(scale=2.0).drift(X, t, 0))


def test_guiding_noise_velocity_score_or_drift_gives_one_guided_drift():
    t, g = 0.35, 3.0
    # two-sided, mixture base: any complete set of guided fields gives the guided drift
    case = GuidanceCase(LINEAR, MIXTURE_BASE, TARGET)
    guided = case.guided(scale=g)
    drift = guided.drift(X, t, 0)
    from_vs = DriftFromVelocityScore(guided.velocity, guided.score, LINEAR.gamma_schedule)(X, t, 0)
    from_denoisers = DriftFromDenoisers(guided.denoise_x0, guided.denoise_x1, guided.noise, LINEAR)(X, t, 0)
    np.testing.assert_allclose(from_vs, drift, atol=1e-12)
    np.testing.assert_allclose(from_denoisers, drift, atol=1e-12)
    # ... but guiding only the score (velocity left unconditional) does not
    half = DriftFromVelocityScore(case.velocity, guided.score, LINEAR.gamma_schedule)(X, t, 0)
    assert np.abs(half - drift).max() > 0.5
    # two-sided, Gaussian base: the score alone determines b (x̂0 = m0 − α S0 s), so guiding it suffices
    gauss = GuidanceCase(LINEAR, BASE, TARGET).guided(scale=g)
    s = gauss.score
    from_score = DriftFromDenoisers(DenoiserX0FromScore(s, LINEAR, BASE), DenoiserX1FromScore(s, LINEAR, BASE),
                                    NoiseFromScore(s, LINEAR.gamma_schedule), LINEAR)(X, t, 0)
    np.testing.assert_allclose(from_score, gauss.drift(X, t, 0), rtol=1e-11, atol=1e-11)
    # with the mixture base the same score-only route (base moment-matched, exact moments) is wrong
    weights, means = MIXTURE_BASE.weights, MIXTURE_BASE.means
    mean = weights @ means
    spread = np.einsum("k,kij->ij", weights, MIXTURE_BASE.covs) + (means - mean).T @ np.diag(weights) @ (means - mean)
    matched = si_ref.Gaussian(mean, spread)
    s = guided.score
    wrong = DriftFromDenoisers(DenoiserX0FromScore(s, LINEAR, matched), DenoiserX1FromScore(s, LINEAR, matched),
                               NoiseFromScore(s, LINEAR.gamma_schedule), LINEAR)(X, t, 0)
    assert np.abs(wrong - drift).max() > 0.1
    # one-sided: guided score -> drift by the one-sided formula is the guided drift
    one = GuidanceCase(si_ref.OneSidedLinearInterpolant(), None, TARGET).guided(weight=2.0)
    np.testing.assert_allclose(DriftFromScoreOneSided(one.score, si_ref.OneSidedLinearInterpolant())(X, t, 0),
                               one.drift(X, t, 0), rtol=1e-12, atol=1e-12)


def test_guided_sde_drifts_are_guided_drift_plus_or_minus_eps_score():
    guided, t, eps = CASE.guided(scale=2.0), 0.5, 0.7
    np.testing.assert_allclose(guided.forward_drift(X, t, eps, 0),
                               guided.drift(X, t, 0) + eps * guided.score(X, t, 0), atol=1e-13)
    guide_f = GuidedField(lambda x, t, c=None: CASE.forward_drift(x, t, eps, c), scale=2.0)
    np.testing.assert_allclose(guided.backward_drift(X, t, eps, 0) + 2 * eps * guided.score(X, t, 0),
                               guide_f(X, t, 0), atol=1e-12)


def test_guide_combines_arrays_in_either_convention():
    f_c, f_u = np.array([[1.0, 2.0]]), np.array([[0.5, -1.0]])
    np.testing.assert_array_equal(guide(f_c, f_u, scale=3.0), [[2.0, 8.0]])
    np.testing.assert_array_equal(guide(f_c, f_u, weight=3.0), [[2.5, 11.0]])
    strength = guidance_strength(weight=2.0)
    assert (strength.scale, strength.weight) == (3.0, 2.0)


# --- the guided ODE's output law and the tilted target --------------------------------------------

PAIR = GuidedGaussianPair(LINEAR, BASE, si_ref.Gaussian([2.0, 1.0], [[0.5, 0.1], [0.1, 0.3]]),
                          si_ref.Gaussian([0.0, 0.5], [[2.0, 0.3], [0.3, 1.5]]), label=1)


def test_guided_ode_law_at_g_one_and_zero_is_the_conditional_and_unconditional_marginal():
    for t in (0.5, 1.0):
        for strength, case in ((dict(scale=1.0), PAIR.conditional_case), (dict(weight=-1.0), PAIR.unconditional_case)):
            law = PAIR.guided_ode_law(t=t, **strength)
            np.testing.assert_allclose(law.mean, case.mean(t), rtol=1e-10, atol=1e-11)
            np.testing.assert_allclose(law.cov, case.cov(t), rtol=1e-10, atol=1e-11)
    for g in (0.0, 1.0):
        gap = PAIR.tilt_gap(scale=g)
        assert gap.kl < 1e-20 and gap.w2 < 1e-10


@pytest.mark.parametrize("strength", [dict(scale=3.0), dict(weight=-1.5)], ids=["g3", "g-0.5"])
def test_guided_ode_law_is_the_limit_of_the_exact_rk4_law_of_the_guided_drift(strength):
    # independent route: the guided drift as a field (GuidedField over GaussianCase.drift), probed as an affine
    # map and pushed through RK4 exactly by si_ref.sampler_law; RK4's error at 100 steps is ~2e-9
    from si_ref.sampler_law import gaussian_w2, integrate_law

    law = PAIR.guided_ode_law(**strength)
    rk4 = integrate_law(PAIR.guided(**strength).drift, si_ref.RK4(), si_ref.uniform_grid(0.0, 1.0, 100),
                        (PAIR.base.mean, PAIR.base.cov), c=1).law()
    assert gaussian_w2(rk4, (law.mean, law.cov)) < 1e-8
    assert gaussian_w2(law, PAIR.guided_ode_law(scale=1.0)) > 0.1        # not the unguided law


def test_guided_ode_law_matches_monte_carlo_and_differs_from_the_tilted_target():
    g, n = 3.0, 4000
    x0 = BASE.sample(n, np.random.default_rng(7))
    drift = PAIR.guided(scale=g).drift
    x1 = si_ref.integrate(drift, si_ref.RK4(), si_ref.uniform_grid(0.0, 1.0, 40), x0, c=1).states[-1]
    law, tilted = PAIR.guided_ode_law(scale=g), PAIR.tilted_target(scale=g)
    mean = x1.mean(0)
    np.testing.assert_array_less(np.abs(mean - law.mean), 4 * x1.std(0, ddof=1) / math.sqrt(n))
    centred = x1 - law.mean
    products = np.einsum("ni,nj->nij", centred, centred)
    se = products.std(0, ddof=1) / math.sqrt(n)
    np.testing.assert_array_less(np.abs(products.mean(0) - law.cov), 4 * se)
    # the tilted Gaussian is far outside the Monte Carlo error
    assert np.abs(mean - tilted.mean).max() > 40 * (x1.std(0) / math.sqrt(n)).max()
    gap = PAIR.tilt_gap(scale=g)
    assert gap.w2 > 0.5 and gap.kl > 1.0          # measured: W2 = 0.719, KL = 2.14 for this pair


def test_tilted_gaussian_is_the_normalised_product_of_powers():
    cond, uncond, g = PAIR.conditional, PAIR.unconditional, 2.5
    tilted = tilted_target(cond, uncond, scale=g)
    y = np.random.default_rng(1).normal(size=(8, 2))
    logs = g * multivariate_normal(cond.mean, cond.cov).logpdf(y) + (1 - g) * multivariate_normal(
        uncond.mean, uncond.cov).logpdf(y)
    offset = logs - multivariate_normal(tilted.mean, tilted.cov).logpdf(y)
    np.testing.assert_allclose(offset, offset[0], atol=1e-12)            # proportional
    numeric = TiltedMixture(cond, uncond, guidance_strength(scale=g))    # the quadrature route, on Gaussians
    np.testing.assert_allclose(numeric.log_normaliser, offset[0], atol=1e-9)


@pytest.mark.parametrize("d", [1, 2])
def test_tilted_mixture_normaliser_matches_importance_sampling(d):
    if d == 1:
        target = LabelledGaussianMixture([0.3, 0.4, 0.3], [[-2.0], [0.5], [2.5]], [[[0.09]], [[0.25]], [[0.16]]],
                                         [0, 1, 1])
        c = 1
    else:
        target, c = TARGET, 0
    g = 3.0
    tilted = tilted_target(target.conditional(c), target.mixture, scale=g)
    # Z = E_{ρ_c}[(ρ_c / ρ_u)^(g-1)]; the ratio is at most 1/π_c, so the estimate has a small variance
    x = target.conditional(c).sample(100_000, np.random.default_rng(2))
    ratio = np.exp((g - 1) * (target.conditional(c).log_prob(x) - target.mixture.log_prob(x)))
    estimate, se = ratio.mean(), ratio.std(ddof=1) / math.sqrt(ratio.size)
    assert abs(tilted.normaliser - estimate) < 4 * se
    assert tilted.log_normaliser_error < 1e-6
    assert tilted.normaliser > 1.01      # not the trivial Z = 1 of g = 0 or 1


# --- the gap between the guided ODE law and the tilted target -------------------------------------

def test_tilt_gap_is_kl_and_w2_by_the_textbook_formulas():
    # far-apart laws: the trace formulas have no cancellation to fear here
    gap = PAIR.tilt_gap(weight=2.0)
    p, q = gap.ode_law, gap.tilted
    q_inv = np.linalg.inv(q.cov)
    dm = p.mean - q.mean
    kl = 0.5 * (np.trace(q_inv @ p.cov) - 2 + dm @ q_inv @ dm + np.log(np.linalg.det(q.cov) / np.linalg.det(p.cov)))
    root = _sym_sqrt(_sym_sqrt(q.cov) @ p.cov @ _sym_sqrt(q.cov))
    w2 = math.sqrt(dm @ dm + np.trace(p.cov + q.cov - 2 * root))
    np.testing.assert_allclose([gap.kl, gap.w2], [kl, w2], rtol=1e-10)
    np.testing.assert_allclose([gap.kl, gap.w2], [2.14010, 0.718815], rtol=1e-5)   # the documented gap at g = 3


def _sym_sqrt(s):
    values, vectors = np.linalg.eigh(s)
    return (vectors * np.sqrt(values)) @ vectors.T


# --- bad inputs ----------------------------------------------------------------------------------------

def _mixture_1d(labels):
    return LabelledGaussianMixture([0.5, 0.5], [[0.0], [1.0]], [[[1.0]], [[0.01]]], labels)


BAD = [
    ("unknown-label", lambda: CASE.score(X, 0.5, 7), ValueError, ["c = 7", "[0, 'b']"]),
    ("label-float", lambda: CASE.score(X, 0.5, 0.5), TypeError, ["c must be one of the labels", "0.5"]),
    ("labels-too-short", lambda: _mixture_1d([0]), ValueError, ["one label per component", "k = 2", "1 labels"]),
    ("labels-2d", lambda: _mixture_1d(np.zeros((2, 1), int)), ValueError, ["one-dimensional", "(2, 1)"]),
    ("labels-bool", lambda: _mixture_1d([True, False]), TypeError, ["ints or strings", "bool"]),
    ("labels-float", lambda: _mixture_1d([0.0, 1.0]), TypeError, ["ints or strings", "float"]),
    ("tilt-gaussian-not-normalisable", lambda: PAIR.tilted_target(weight=-3.0), ValueError,
     ["not normalisable", "g = -2", "w = -3", "smallest eigenvalue", "for g in"]),
    ("tilt-mixture-diverges", lambda: tilted_target(_mixture_1d([0, 1]).conditional(1), _mixture_1d([0, 1]).mixture,
                                                    scale=-1.0), ValueError, ["not normalisable", "g = -1", "diverges"]),
    ("weight-nan", lambda: CASE.guided(weight=float("nan")), ValueError, ["weight must be finite", "nan"]),
    ("scale-inf", lambda: guide(X, X, scale=float("inf")), ValueError, ["scale must be finite", "inf"]),
    ("scale-and-weight", lambda: CASE.guided(scale=2.0, weight=1.0), TypeError, ["exactly one", "both", "g = 1 + w"]),
    ("no-strength", lambda: CASE.guided(), TypeError, ["exactly one", "neither"]),
    ("weight-string", lambda: guidance_strength(weight="2"), TypeError, ["weight must be a real number"]),
    ("guided-without-label", lambda: CASE.guided(scale=2.0).drift(X, 0.5), ValueError, ["needs the label c", "c=None"]),
    ("pair-wrong-label", lambda: PAIR.drift(X, 0.5, 0), ValueError, ["c = 0", "only label is 1"]),
    ("target-not-labelled", lambda: GuidanceCase(LINEAR, BASE, TARGET.mixture), TypeError,
     ["LabelledGaussianMixture", "GaussianMixture"]),
    ("guide-shapes", lambda: guide(X, X[:2], scale=2.0), ValueError, ["same shape", "(6, 2)", "(2, 2)"]),
    ("tilt-3d-undecided", lambda: tilted_target(
        si_ref.GaussianMixture([1.0], np.zeros((1, 3)), np.eye(3)[None]), si_ref.Gaussian(np.zeros(3), 0.5 * np.eye(3)),
        scale=3.0), ValueError, ["cannot be decided in d = 3", "g = 3", "is -1"]),
    ("tilt-gap-time", lambda: PAIR.tilt_gap(scale=2.0, t=0.5), TypeError, ["t"]),
    ("tilt-3d-normaliser", lambda: tilted_target(
        si_ref.GaussianMixture([1.0], np.zeros((1, 3)), np.eye(3)[None]), si_ref.Gaussian(np.zeros(3), np.eye(3)),
        scale=2.0).log_normaliser, ValueError, ["d = 1 or 2", "d = 3"]),
]


@pytest.mark.parametrize(("call", "exception", "fragments"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input_raises_naming_argument_expectation_and_value(call, exception, fragments):
    assert_raises_naming(call, exception, fragments)


def test_inputs_are_not_modified():
    x, t = X.copy(), np.full(X.shape[0], 0.4)
    weights = np.array([0.5, 0.5])
    LabelledGaussianMixture(weights, [[0.0], [1.0]], [[[1.0]], [[1.0]]], np.array([3, 4]))
    CASE.guided(scale=2.0).drift(x, t, 0)
    assert np.array_equal(x, X) and np.array_equal(t, np.full(X.shape[0], 0.4))
    assert np.array_equal(weights, [0.5, 0.5])


# --- exercise 8: the classic mistakes are caught and named ------------------------------------------

class _Mistaken:
    """A GuidedField(field, w) implementing ``formula(f_c, f_u, w)``, and scale_from_weight = ``scale``."""

    def __init__(self, formula, scale=lambda w: 1.0 + w):
        outer = self

        class GuidedField:
            def __init__(self, field, w):
                self.field, self.w = field, w

            def __call__(self, x, t, c):
                return outer.formula(self.field(x, t, c), self.field(x, t), self.w)

        self.formula, self.GuidedField, self.scale_from_weight = formula, GuidedField, scale


@pytest.mark.parametrize(("formula", "diagnosis"), [
    (lambda fc, fu, w: fu + w * (fc - fu), ("guidance-off-by-one",)),      # w used as the scale g
    (lambda fc, fu, w: (1 + w) * fu - w * fc, ("guidance-swapped",)),
    (lambda fc, fu, w: fc, ("guidance-missing",)),
    (lambda fc, fu, w: fc + w * (fu - fc), ()),                             # the sign of w: not catalogued
], ids=["w-as-scale", "swapped", "unguided", "sign"])
def test_exercise_names_the_classic_guidance_mistakes(formula, diagnosis):
    from si_ref.validation.exercises import ex08_guidance

    reports = ex08_guidance.check(_Mistaken(formula), max_examples=8)
    assert [r.passed for r in reports] == [False, False, True]
    for report in reports[:2]:
        assert report.diagnosis_names == diagnosis, str(report)
        assert "c = " in str(report) and "expected = " in str(report)


def test_exercise_names_the_inverse_conversion_of_the_scale():
    from si_ref.validation.exercises import ex08_guidance

    reports = ex08_guidance.check(_Mistaken(lambda fc, fu, w: (1 + w) * fc - w * fu, scale=lambda w: w - 1.0),
                                  max_examples=8)
    assert [r.passed for r in reports] == [True, True, False]
    assert "inverse conversion" in str(reports[2])
