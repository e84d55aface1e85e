"""Regression targets and loss values as checkable quantities (si_ref.checking.targets, si_ref.checking.losses).

si_ref's own implementations (si_ref.losses) pass, with a fixed reference and over
drawn references; every catalogued mistake, written the way a training script
writes it (its own closed forms of the path, torchcfm's conditional flow, a
torch-style mean over all elements, the malbergo objective), fails with that
diagnosis first; the exact values agree with independent oracles (central finite
differences of the path in t, si_ref.losses' Monte Carlo estimators on the same
samples, and a hand computation for one sample).
"""

from __future__ import annotations

import numpy as np
import pytest

import si_ref as S
from si_ref import conformance as C
from si_ref import references
from si_ref.checking.compare import Tolerance
from si_ref.checking.evaluate import evaluate
from si_ref.checking.example import Example
from si_ref.checking.losses import PerturbedField
from si_ref.losses import FIELD_TARGETS, mean_square_loss, objective, regression_target, sample_batch
from si_ref.quantities import QUANTITIES
from si_ref.schedules import GammaSchedule

FAST = dict(max_examples=15, shrink=False)
TARGETS = [f"target_{name}" for name in FIELD_TARGETS]
LOSSES = [f"loss_{name}" for name in FIELD_TARGETS]
LATENT_SCALE = 0.18215     # the SD1.5 VAE latent factor


# --- the user's closed forms of an asymmetric path ------------------------------------------------------
# α = (1 − t)², β = t, γ = (27/4) t (1 − t)²: α(1 − t) ≠ β(t) and γ(1 − t) ≠ γ(t), so a reversed
# clock, an α/β swap and a sign flip give different values.

def A(t):
    return (1 - t) ** 2


def dA(t):
    return -2 * (1 - t)


def B(t):
    return t * np.ones_like(t)


def dB(t):
    return np.ones_like(t)


def G(t):
    return 6.75 * t * (1 - t) ** 2


def dG(t):
    return 6.75 * (1 - t) * (1 - 3 * t)


class AsymmetricGamma(GammaSchedule):
    """γ = (27/4) t (1 − t)²: peak 1 at t = 1/3."""

    max_gamma = 1.0

    def _gamma(self, t):
        return G(t)

    def _gamma_dot(self, t):
        return dG(t)

    def _gamma_gamma_dot(self, t):
        return G(t) * dG(t)


PATH = S.CustomInterpolant(A, dA, B, dB, AsymmetricGamma())
LINEAR = S.LinearInterpolant(S.BrownianGamma())
SIGMA = 0.5
SB_PATH = S.LinearInterpolant(S.ScaledBrownianGamma(SIGMA ** 2))    # torchcfm's σ_t = σ √(t(1 − t))
BASE = S.Gaussian(np.array([-1.0, 0.5]), np.array([[0.6, 0.2], [0.2, 0.9]]))
TARGET = S.GaussianMixture(np.array([0.4, 0.6]), np.array([[2.0, 0.0], [-1.0, 2.0]]),
                           np.stack([np.diag([0.5, 0.2]), np.array([[0.4, 0.1], [0.1, 0.3]])]))
CASE = S.GaussianCase(PATH, BASE, TARGET)
#: d = 3 (at d = 2 a mean over all n·d entries of (f̂ − y)² equals the batch mean of ½ Σ_j: 2/d = 1).
CASE3 = S.GaussianCase(S.LinearInterpolant(S.BSquaredGamma()), S.Gaussian(np.zeros(3), np.eye(3)),
                       S.Gaussian(np.array([1.0, -2.0, 0.5]), np.diag([0.3, 0.5, 0.2])))


def col(t):
    return np.reshape(t, (-1, 1))


def x_t(t, x0, x1, z):
    t = col(t)
    return A(t) * x0 + B(t) * x1 + G(t) * z


def partial_t(t, x0, x1):
    t = col(t)
    return dA(t) * x0 + dB(t) * x1


# --- si_ref passes ------------------------------------------------------------------------------------

def fixed_reference(name):
    return PATH if name.startswith("target_") else CASE


@pytest.mark.parametrize("name", TARGETS + LOSSES)
def test_si_ref_passes_with_a_fixed_reference(name):
    reference = fixed_reference(name)
    report = C.check(C.reference_implementation(name)(reference), name, reference, **FAST)
    assert report.passed, str(report)
    assert report.examples > 15 and "0 failed" in report.details


@pytest.mark.parametrize("name", TARGETS + LOSSES)
def test_si_ref_passes_over_drawn_references(name):
    # the losses' fixed inputs are covered with a fixed reference (here and in test_conformance)
    report = C.check(C.reference_implementation(name), name, seed=1, fixed=name in TARGETS, **FAST)
    assert report.passed, str(report)


def test_the_quantities_are_in_the_table_with_short_plain_summaries():
    for name in TARGETS + LOSSES:
        q = QUANTITIES[name]
        assert q.level == ("interpolant" if name in TARGETS else "loss")
        assert len(q.plain) <= 80 and "{" not in q.plain and q.mistakes


# --- targets: mistakes written as training code writes them -----------------------------------------------

def torchcfm_sb_conditional_flow(t, x0, x1, z):
    """torchcfm SchrodingerBridgeConditionalFlowMatcher: u_t = σ̇_t/σ_t (x_t − μ_t) + x1 − x0 = ∂_t I + γ̇ z.

    torchcfm also adds 1e-8 to 2t(1 − t); that guard changes γ̇ z by a relative 1e-8/(2t(1 − t)),
    visible at rtol = 1e-6 where x1 − x0 and γ̇ z nearly cancel, so it is left out here. Checked on
    [0.05, 0.95]: next to t = 0, x_t − μ_t = σ_t z is lost to rounding in μ_t + σ_t z − μ_t.
    """
    t = col(t)
    mu_t = t * x1 + (1 - t) * x0
    sigma_t = SIGMA * np.sqrt(t * (1 - t))
    xt = mu_t + sigma_t * z
    sigma_t_prime_over_sigma_t = (1 - 2 * t) / (2 * t * (1 - t))
    return sigma_t_prime_over_sigma_t * (xt - mu_t) + x1 - x0


def torchcfm_base_conditional_flow(t, x0, x1, z):
    """torchcfm ConditionalFlowMatcher.compute_conditional_flow, inherited by a path with a time-dependent σ_t."""
    return x1 - x0


def diffusers_flow_target(t, x0, x1, z):
    """SD3/Flux training: target = noise − data, the derivative along σ = 1 − t."""
    return x0 - x1


def drift_of(t, x0, x1, z):
    return partial_t(t, x0, x1) + dG(col(t)) * z


def sit_swapped_velocity(t, x0, x1, z):
    """SiT's alpha_t multiplies the data: read as si_ref's α it lands on x1."""
    t = col(t)
    return dA(t) * x1 + dB(t) * x0


def sit_swapped_drift(t, x0, x1, z):
    return sit_swapped_velocity(t, x0, x1, z) + dG(col(t)) * z


def data_clock_velocity(t, x0, x1, z):
    """Written for t = 0 at the data: a(t) = α(1 − t) = t², b(t) = β(1 − t) = 1 − t, with their derivatives."""
    t = col(t)
    return 2 * t * x0 - x1


def data_clock_drift(t, x0, x1, z):
    t = col(t)
    return 2 * t * x0 - x1 + 6.75 * t * (2 - 3 * t) * z     # g(t) = γ(1 − t) = 6.75 (1 − t) t²


def velocity_without_column(t, x0, x1, z):
    """compute_mu_t before pad_t_like_x: a (n,) t multiplied straight into (n, d) points."""
    t = np.asarray(t)
    return dA(t) * x0 + dB(t) * x1


def drift_without_column(t, x0, x1, z):
    t = np.asarray(t)
    return dA(t) * x0 + dB(t) * x1 + dG(t) * z


def per_timestep_velocity(t, x0, x1, z):
    """d x/dτ with τ = 1000 t (integer diffusion timesteps): 1/1000 of d x/dt."""
    return partial_t(t, x0, x1) / 1000.0


def per_timestep_drift(t, x0, x1, z):
    return drift_of(t, x0, x1, z) / 1000.0


def score_with_plus_sign(t, x0, x1, z):
    return z / G(col(t))


def score_as_minus_epsilon(t, x0, x1, z):
    """The ε-prediction target −z handed to the score head: the division by γ forgotten."""
    return -z


def score_over_variance(t, x0, x1, z):
    return -z / G(col(t)) ** 2


def score_on_data_clock(t, x0, x1, z):
    t = col(t)
    return -z / (6.75 * (1 - t) * t ** 2)                     # γ(1 − t)


def score_without_column(t, x0, x1, z):
    return -z / G(np.asarray(t))


def score_with_guard(t, x0, x1, z):
    return -z / (G(col(t)) + 1e-3)


def score_in_latent_units(t, x0, x1, z):
    return -z / G(col(t)) * LATENT_SCALE


TARGET_MISTAKES = [
    ("target_velocity", SB_PATH, torchcfm_sb_conditional_flow, "noise-term-included", dict(min_t=0.05, max_t=0.95)),
    ("target_velocity", PATH, drift_of, "noise-term-included", {}),
    ("target_velocity", LINEAR, diffusers_flow_target, "sign-flip", {}),
    ("target_velocity", PATH, lambda t, x0, x1, z: -partial_t(t, x0, x1), "sign-flip", {}),
    ("target_velocity", PATH, sit_swapped_velocity, "alpha-beta-swapped", {}),
    ("target_velocity", PATH, data_clock_velocity, "time-reversed", {}),
    ("target_velocity", PATH, velocity_without_column, "t-wrong-axis", {}),
    ("target_velocity", PATH, per_timestep_velocity, "constant-factor", {}),
    ("target_drift", LINEAR, torchcfm_base_conditional_flow, "noise-term-missing", {}),
    ("target_drift", PATH, lambda t, x0, x1, z: partial_t(t, x0, x1), "noise-term-missing", {}),
    ("target_drift", PATH, lambda t, x0, x1, z: -drift_of(t, x0, x1, z), "sign-flip", {}),
    ("target_drift", PATH, sit_swapped_drift, "alpha-beta-swapped", {}),
    ("target_drift", PATH, data_clock_drift, "time-reversed", {}),
    ("target_drift", PATH, drift_without_column, "t-wrong-axis", {}),
    ("target_drift", PATH, per_timestep_drift, "constant-factor", {}),
    ("target_score", PATH, score_with_plus_sign, "sign-flip", {}),
    ("target_score", PATH, score_as_minus_epsilon, "score-scaling", {}),
    ("target_score", PATH, score_over_variance, "score-scaling", {}),
    ("target_score", PATH, lambda t, x0, x1, z: z, "score-scaling", {}),
    ("target_score", PATH, score_on_data_clock, "time-reversed", {}),
    ("target_score", PATH, score_without_column, "t-wrong-axis", {}),
    ("target_score", PATH, score_with_guard, "additive-guard", {}),
    ("target_score", PATH, score_in_latent_units, "constant-factor", {}),
    ("target_noise", PATH, lambda t, x0, x1, z: -z, "noise-sign", {}),
    ("target_noise", PATH, lambda t, x0, x1, z: -z / G(col(t)), "wrong-target", {}),
    ("target_noise", PATH, lambda t, x0, x1, z: LATENT_SCALE * z, "constant-factor", {}),
    ("target_denoise_x0", PATH, lambda t, x0, x1, z: x1, "denoisers-swapped", {}),   # diffusers' "x_0" is the data
    ("target_denoise_x0", PATH, lambda t, x0, x1, z: -x0, "sign-flip", {}),
    ("target_denoise_x0", PATH, lambda t, x0, x1, z: x0 / LATENT_SCALE, "constant-factor", {}),
    ("target_denoise_x1", PATH, lambda t, x0, x1, z: x0, "denoisers-swapped", {}),
    ("target_denoise_x1", PATH, lambda t, x0, x1, z: -x1, "sign-flip", {}),
    ("target_denoise_x1", PATH, lambda t, x0, x1, z: LATENT_SCALE * x1, "constant-factor", {}),
]


@pytest.mark.parametrize("name, reference, wrong, diagnosis, options", TARGET_MISTAKES,
                         ids=[f"{n}-{d}-{i}" for i, (n, _, _, d, _) in enumerate(TARGET_MISTAKES)])
def test_target_mistakes_are_diagnosed(name, reference, wrong, diagnosis, options):
    report = C.check(wrong, name, reference, **FAST, **options)
    assert not report.passed
    assert report.diagnosis_names[:1] == (diagnosis,), str(report)


def test_every_catalogued_target_mistake_is_exercised():
    for name in TARGETS:
        tested = {d for n, _, _, d, _ in TARGET_MISTAKES if n == name}
        assert tested == {m.name for m in QUANTITIES[name].mistakes}, name


def test_a_mirror_path_draws_x0_equal_to_x1_so_either_denoiser_target_passes():
    mirror = references.interpolant("mirror-brownian")
    assert C.check(lambda t, x0, x1, z: x1.copy(), "target_denoise_x0", mirror, **FAST).passed
    assert C.check(lambda t, x0, x1, z: x0.copy(), "target_denoise_x1", mirror, **FAST).passed


def test_the_score_target_refuses_a_path_without_noise():
    with pytest.raises(ValueError, match="does not fit 'target_score'"):
        C.check(lambda t, x0, x1, z: z, "target_score", references.interpolant("one-sided-linear"))


# --- targets: exact values against independent oracles ------------------------------------------------------

@pytest.mark.parametrize("interpolant", [PATH] + [references.INTERPOLANTS[k] for k in sorted(references.INTERPOLANTS)],
                         ids=["asymmetric"] + sorted(references.INTERPOLANTS))
def test_derivative_targets_are_central_differences_of_the_path(interpolant):
    rng = np.random.default_rng(5)
    x0, x1, z = rng.standard_normal((3, 5, 2))
    t, h = np.array([0.1, 0.3, 0.45, 0.7, 0.9]), 1e-5     # not ½: the encoder-decoder path has a kink there
    no_noise = np.zeros_like(z)
    oracles = {
        "target_drift": (interpolant.interpolant(t + h, x0, x1, z) - interpolant.interpolant(t - h, x0, x1, z)) / (2 * h),
        "target_velocity": (interpolant.interpolant(t + h, x0, x1, no_noise)
                            - interpolant.interpolant(t - h, x0, x1, no_noise)) / (2 * h),
    }
    for name, oracle in oracles.items():
        exact = QUANTITIES[name].exact(Example(interpolant, t, x0=x0, x1=x1, z=z))
        own = C.reference_implementation(name)(interpolant)(t, x0, x1, z)
        np.testing.assert_allclose(exact, oracle, rtol=1e-7, atol=1e-8)
        np.testing.assert_allclose(own, oracle, rtol=1e-7, atol=1e-8)


def test_the_other_targets_by_hand():
    t = np.array([0.25, 0.5])                    # linear path, γ = √(t(1 − t)): γ(¼) = √3/4, γ(½) = ½
    x0, x1, z = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[5.0, 6.0], [7.0, 8.0]]), np.array([[0.5, -1.0], [2.0, 0.0]])
    ex = Example(LINEAR, t, x0=x0, x1=x1, z=z)
    hand = {"target_score": np.array([[-0.5 * 4 / np.sqrt(3), 4 / np.sqrt(3)], [-4.0, 0.0]]),
            "target_noise": z, "target_denoise_x0": x0, "target_denoise_x1": x1}
    for name, value in hand.items():
        np.testing.assert_allclose(QUANTITIES[name].exact(ex), value, rtol=1e-15)
        np.testing.assert_allclose(C.reference_implementation(name)(LINEAR)(t, x0, x1, z), value, rtol=1e-15)


# --- losses: mistakes written as training code writes them -----------------------------------------------

def half_sum(residual):
    return np.mean(0.5 * np.sum(residual ** 2, axis=1))


def velocity_loss_without_half(field, t, x0, x1, z):
    residual = field(x_t(t, x0, x1, z), t) - partial_t(t, x0, x1)
    return np.mean(np.sum(residual ** 2, axis=1))


def velocity_loss_half_mse(field, t, x0, x1, z):
    """0.5 * F.mse_loss(pred, target): ½ of the mean over all n·d entries (= 1/d of si_ref's value)."""
    residual = field(x_t(t, x0, x1, z), t) - partial_t(t, x0, x1)
    return 0.5 * np.mean(residual ** 2)


def torch_mse_velocity_loss(field, t, x0, x1, z):
    """torch.nn.functional.mse_loss(model(xt, t), ut), reduction='mean', on a linear path with γ = t(1 − t)."""
    t_ = col(t)
    xt = t_ * x1 + (1 - t_) * x0 + t_ * (1 - t_) * z
    ut = x1 - x0
    return np.mean((field(xt, t) - ut) ** 2)


def malbergo_velocity_objective(field, t, x0, x1, z):
    """loss_per_sample_v: ½|v̂|² − ∂_t I · v̂."""
    v = field(x_t(t, x0, x1, z), t)
    return np.mean(0.5 * np.sum(v * v, axis=1) - np.sum(partial_t(t, x0, x1) * v, axis=1))


def velocity_loss_on_the_drift_target(field, t, x0, x1, z):
    """torchcfm SB-CFM's u_t (∂_t I + γ̇ z) used to train the velocity head."""
    return half_sum(field(x_t(t, x0, x1, z), t) - drift_of(t, x0, x1, z))


def drift_loss_without_noise_term(field, t, x0, x1, z):
    return half_sum(field(x_t(t, x0, x1, z), t) - partial_t(t, x0, x1))


def noise_loss_with_minus_z(field, t, x0, x1, z):
    return half_sum(field(x_t(t, x0, x1, z), t) + z)


def score_loss_with_plus_z_over_gamma(field, t, x0, x1, z):
    return half_sum(field(x_t(t, x0, x1, z), t) - z / G(col(t)))


def denoiser_x0_loss_on_the_data(field, t, x0, x1, z):
    return half_sum(field(x_t(t, x0, x1, z), t) - x1)


def velocity_loss_on_the_data_clock(field, t, x0, x1, z):
    """a(t) = α(1 − t) = t², b(t) = β(1 − t) = 1 − t, g(t) = γ(1 − t), the target their derivative; f̂ at t."""
    t_ = col(t)
    xt = t_ ** 2 * x0 + (1 - t_) * x1 + 6.75 * (1 - t_) * t_ ** 2 * z
    return half_sum(field(xt, t) - (2 * t_ * x0 - x1))


def velocity_loss_sit_swapped(field, t, x0, x1, z):
    t_ = col(t)
    xt = B(t_) * x0 + A(t_) * x1 + G(t_) * z
    return half_sum(field(xt, t) - (dB(t_) * x0 + dA(t_) * x1))


LOSS_MISTAKES = [
    ("loss_velocity", CASE, velocity_loss_without_half, "loss-scaling"),
    ("loss_velocity", CASE, velocity_loss_half_mse, "loss-scaling"),
    ("loss_velocity", CASE3, torch_mse_velocity_loss, "loss-scaling"),
    ("loss_velocity", CASE, malbergo_velocity_objective, "loss-form"),
    ("loss_velocity", CASE, velocity_loss_on_the_drift_target, "wrong-target"),
    ("loss_drift", CASE, drift_loss_without_noise_term, "wrong-target"),
    ("loss_noise", CASE, noise_loss_with_minus_z, "wrong-target"),
    ("loss_score", CASE, score_loss_with_plus_z_over_gamma, "wrong-target"),
    ("loss_denoise_x0", CASE, denoiser_x0_loss_on_the_data, "wrong-target"),
    ("loss_velocity", CASE, velocity_loss_on_the_data_clock, "time-reversed"),
    ("loss_velocity", CASE, velocity_loss_sit_swapped, "alpha-beta-swapped"),
]


@pytest.mark.parametrize("name, case, wrong, diagnosis", LOSS_MISTAKES,
                         ids=[f"{n}-{d}-{i}" for i, (n, _, _, d) in enumerate(LOSS_MISTAKES)])
def test_loss_mistakes_are_diagnosed(name, case, wrong, diagnosis):
    report = C.check(wrong, name, case, **FAST)
    assert not report.passed
    assert report.diagnosis_names[:1] == (diagnosis,), str(report)


def test_every_catalogued_loss_mistake_is_exercised():
    tested = {d for _, _, _, d in LOSS_MISTAKES}
    for name in LOSSES:
        assert {m.name for m in QUANTITIES[name].mistakes} <= tested, name


# --- losses: exact values against independent oracles --------------------------------------------------------

@pytest.mark.parametrize("name", FIELD_TARGETS)
def test_loss_value_is_si_ref_losses_monte_carlo_mean_square_on_the_same_samples(name):
    rng = np.random.default_rng(11)
    batch = sample_batch(PATH, BASE, TARGET, 200, rng, t_min=0.05, t_max=0.95)
    field = PerturbedField(CASE, name)
    value = QUANTITIES[f"loss_{name}"].exact(Example(CASE, batch.t, x0=batch.x0, x1=batch.x1, z=batch.z))
    assert np.shape(value) == ()
    np.testing.assert_allclose(value, mean_square_loss(name, field, PATH, batch).mean, rtol=1e-12)
    # ½|f̂ − y|² = (½|f̂|² − y·f̂) + ½|y|²: the objective plus the constant
    y = regression_target(name, PATH, batch)
    constant = np.mean(0.5 * np.sum(y ** 2, axis=1))
    np.testing.assert_allclose(value, objective(name, field, PATH, batch).mean + constant, rtol=1e-10)


def test_loss_values_by_hand_for_one_sample():
    """1-d: base N(0, 1), target N(3, ¼), linear path, γ = √(t(1 − t)); t = ½, x0 = 0.4, x1 = 2.8, z = −0.6.

    α = β = γ = ½: x_t = 0.2 + 1.4 − 0.3 = 1.3, μ = 1.5, Σ = ¼ + ¼·¼ + ¼ = 0.5625;
    x̂1 = 3 + β S1 (x − μ)/Σ = 3 − 0.025/0.5625, x̂0 = 0 + α S0 (x − μ)/Σ = −0.1/0.5625, v = x̂1 − x̂0.
    """
    case = references.case("gaussian-1d-linear-brownian")
    t, x0, x1, z = 0.5, np.array([[0.4]]), np.array([[2.8]]), np.array([[-0.6]])
    x = 1.3
    denoise_x1 = 3.0 - 0.5 * 0.25 * 0.2 / 0.5625
    denoise_x0 = -0.5 * 1.0 * 0.2 / 0.5625
    hand = {"denoise_x1": 0.5 * (denoise_x1 + 0.25 * x - 2.8) ** 2,
            "velocity": 0.5 * (denoise_x1 - denoise_x0 + 0.25 * x - 2.4) ** 2}
    # x̂1 = 133/45, f̂ = 133/45 + 13/40 = 1181/360, f̂ − x1 = 173/360
    np.testing.assert_allclose(hand["denoise_x1"], 0.5 * (173 / 360) ** 2, rtol=1e-12)
    for name, value in hand.items():
        ex = Example(case, t, x0=x0, x1=x1, z=z)
        np.testing.assert_allclose(QUANTITIES[f"loss_{name}"].exact(ex), value, rtol=1e-12)
        own = C.reference_implementation(f"loss_{name}")(case)(PerturbedField(case, name), t, x0, x1, z)
        np.testing.assert_allclose(own, value, rtol=1e-12)


def test_the_given_field_is_the_exact_field_plus_a_quarter_of_x():
    x = np.array([[0.3, -1.2], [2.0, 0.1]])
    np.testing.assert_allclose(PerturbedField(CASE, "drift")(x, 0.4), CASE.drift(x, 0.4) + 0.25 * x, rtol=1e-15)
    with pytest.raises(ValueError, match="name must be one of"):
        PerturbedField(CASE, "divergence")


# --- a scalar result goes through the comparison ------------------------------------------------------------

def test_scalar_results_are_compared_as_shape_zero():
    q = QUANTITIES["loss_noise"]
    rng = np.random.default_rng(2)
    x0, x1, z = rng.standard_normal((3, 4, 2))
    ex = Example(CASE, np.array([0.1, 0.4, 0.6, 0.9]), x0=x0, x1=x1, z=z)
    expected = np.asarray(q.exact(ex), dtype=np.float64)
    own = C.reference_implementation("loss_noise")(CASE)
    tolerance = Tolerance()
    assert expected.shape == ()
    assert evaluate(q, lambda *a: float(own(*a)), ex, expected, tolerance) is None          # a Python float
    assert evaluate(q, lambda *a: np.asarray(own(*a)), ex, expected, tolerance) is None     # a 0-d array
    assert evaluate(q, lambda *a: np.float32(own(*a)), ex, expected, tolerance) is None     # float32 rounding
    failure = evaluate(q, lambda *a: np.array([own(*a)]), ex, expected, tolerance)          # shape (1,)
    assert failure is not None and "shape (1,)" in failure.error and "expected shape ()" in failure.error
    wrong = 2.0 * float(expected)
    assert C.diagnose("loss_noise", ex, wrong)[0].name == "loss-scaling"
    report = C.check(noise_loss_with_minus_z, "loss_noise", CASE, **FAST)
    assert "field = noise(x, t) + 0.25 x" in str(report) and "expected = " in str(report)
