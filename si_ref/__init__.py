"""si_ref: the NumPy reference implementation of stochastic interpolants.

Conventions (t = 0 is the base x0, t = 1 the target x1;
x_t = alpha(t) x0 + beta(t) x1 + gamma(t) z) are stated in the README and in
every docstring. Source: Albergo, Boffi & Vanden-Eijnden, arXiv:2209.15571
and arXiv:2303.08797.

For checking other implementations, import the submodules:
``si_ref.conformance`` (the checker), ``si_ref.golden`` (test vectors),
``si_ref.references`` (named schedules, interpolants and cases),
``si_ref.quantities`` (what each checkable quantity means and how it goes wrong)
and ``si_ref.strategies`` (hypothesis strategies).
"""

from .distributions import Gaussian, GaussianMixture
from .gaussian import GaussianCase, GaussianComponents
from .fitting import default_model, default_recipe, fit_drift, fit_field
from .likelihood import LikelihoodEstimate, ode_log_likelihood, sde_log_likelihood
from .losses import Batch, mean_square_loss, objective, sample_batch
from .metrics import energy_distance, mmd
from .mlp import MLP, Adam, MLPField, time_features
from .ridge import (
    MixturePosteriorFeatures,
    PolynomialFeatures,
    PosteriorFeatures,
    RandomFourierFeatures,
    RidgeField,
    TimeSlicedRidge,
    fit_gaussian_mixture,
    kmeans_centres,
    mixture_bic,
    select_gaussian_mixture,
)
from .threads import blas_threads
from .targets import conditional_target, conditional_variance_scale, reference_target
from .samplers import (
    RK4,
    Euler,
    EulerMaruyama,
    ExplicitRungeKutta,
    Heun,
    SDETerm,
    Solution,
    StochasticHeun,
    integrate,
    integrate_reference,
    uniform_grid,
)
from .interpolants import (
    INTERPOLANT_FAMILIES,
    AntitheticSample,
    CustomInterpolant,
    EncoderDecoderInterpolant,
    Interpolant,
    InterpolantSample,
    LinearInterpolant,
    MirrorInterpolant,
    OneSidedLinearInterpolant,
    OneSidedTrigInterpolant,
    TrigInterpolant,
    VPTrigInterpolant,
)
from .wrappers import (
    BackwardDriftFromDriftScore,
    DenoiserX0FromDenoiserX1,
    DenoiserX0FromScore,
    DenoiserX0FromVelocity,
    DenoiserX1FromDenoiserX0,
    DenoiserX1FromScore,
    DenoiserX1FromVelocity,
    DriftFromDenoisers,
    DriftFromScoreOneSided,
    DriftFromVelocityNoise,
    DriftFromVelocityScore,
    ForwardDriftFromDriftScore,
    MirrorDriftFromNoise,
    MirrorVelocityFromScore,
    NoiseFromScore,
    SDEDriftFromDriftScore,
    ScoreFromDenoiserX0OneSided,
    ScoreFromDenoisers,
    ScoreFromDriftOneSided,
    ScoreFromMirrorDrift,
    ScoreFromNoise,
    VelocityFromDenoiserX0,
    VelocityFromDenoiserX1,
    VelocityFromDenoisers,
    VelocityFromDriftScore,
    Wrapper,
)
from .schedules import (
    BrownianGamma,
    BSquaredGamma,
    GammaSchedule,
    ScaledBrownianGamma,
    SigmoidGamma,
    SineSquaredGamma,
    ZeroGamma,
)

from .couplings import (
    COUPLINGS,
    GaussianOTMap,
    GaussianSchrodingerBridge,
    MinibatchPairs,
    coupled_case,
    coupling_cost,
    entropic_cross_cov,
    minibatch_ot_pairs,
)
from .guidance import (
    GuidanceCase,
    GuidanceStrength,
    GuidedField,
    GuidedFields,
    GuidedGaussianPair,
    LabelledGaussianMixture,
    TiltedMixture,
    TiltGap,
    guidance_strength,
    guide,
    tilted_target,
)
from .sampler_law import (
    AffineStep,
    DiffusionLaws,
    GaussianLaw,
    LawSolution,
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

from . import diffusion
from .diffusion import *  # noqa: F401,F403  (diffusion conventions: names listed in diffusion.__all__)

__version__ = "0.1.0"

__all__ = [
    "__version__",
    # schedules
    "GammaSchedule",
    "ZeroGamma",
    "BrownianGamma",
    "ScaledBrownianGamma",
    "BSquaredGamma",
    "SineSquaredGamma",
    "SigmoidGamma",
    # interpolants
    "Interpolant",
    "LinearInterpolant",
    "TrigInterpolant",
    "VPTrigInterpolant",
    "EncoderDecoderInterpolant",
    "OneSidedLinearInterpolant",
    "OneSidedTrigInterpolant",
    "MirrorInterpolant",
    "CustomInterpolant",
    "InterpolantSample",
    "AntitheticSample",
    "INTERPOLANT_FAMILIES",
    # distributions
    "Gaussian",
    "GaussianMixture",
    # exact fields
    "GaussianCase",
    "GaussianComponents",
    # samplers and likelihoods
    "integrate",
    "integrate_reference",
    "uniform_grid",
    "Solution",
    "Euler",
    "Heun",
    "RK4",
    "ExplicitRungeKutta",
    "SDETerm",
    "EulerMaruyama",
    "StochasticHeun",
    "ode_log_likelihood",
    "sde_log_likelihood",
    "LikelihoodEstimate",
    # exact laws of discretised samplers (single-Gaussian cases) and distances between Gaussians
    "GaussianLaw",
    "gaussian_kl",
    "gaussian_w2",
    "affine_coefficients",
    "AffineStep",
    "probe_step",
    "push_law",
    "LawSolution",
    "integrate_law",
    "loop_law",
    "DiffusionLaws",
    "ddim_law",
    "ddpm_law",
    # couplings of base and target
    "COUPLINGS",
    "GaussianOTMap",
    "entropic_cross_cov",
    "coupling_cost",
    "coupled_case",
    "GaussianSchrodingerBridge",
    "MinibatchPairs",
    "minibatch_ot_pairs",
    # classifier-free guidance
    "LabelledGaussianMixture",
    "GuidanceCase",
    "GuidedGaussianPair",
    "GuidanceStrength",
    "guidance_strength",
    "guide",
    "GuidedField",
    "GuidedFields",
    "TiltedMixture",
    "tilted_target",
    "TiltGap",
    # objectives and fitting
    "Batch",
    "sample_batch",
    "objective",
    "mean_square_loss",
    "RidgeField",
    "RandomFourierFeatures",
    "PolynomialFeatures",
    "PosteriorFeatures",
    "TimeSlicedRidge",
    "kmeans_centres",
    "MixturePosteriorFeatures",
    "fit_gaussian_mixture",
    "select_gaussian_mixture",
    "mixture_bic",
    "conditional_target",
    "reference_target",
    "conditional_variance_scale",
    "MLP",
    "MLPField",
    "Adam",
    "time_features",
    "fit_field",
    "fit_drift",
    "default_recipe",
    "default_model",
    "energy_distance",
    "mmd",
    # BLAS threads of si_ref's long work
    "blas_threads",
    # wrappers: the seed's three, then the rest of the conversion graph
    "Wrapper",
    "ScoreFromNoise",
    "DriftFromVelocityScore",
    "MirrorVelocityFromScore",
    "NoiseFromScore",
    "ScoreFromDenoisers",
    "DenoiserX0FromScore",
    "DenoiserX1FromScore",
    "VelocityFromDenoisers",
    "DriftFromDenoisers",
    "DriftFromVelocityNoise",
    "VelocityFromDriftScore",
    "ForwardDriftFromDriftScore",
    "BackwardDriftFromDriftScore",
    "SDEDriftFromDriftScore",
    "ScoreFromDenoiserX0OneSided",
    "ScoreFromDriftOneSided",
    "DriftFromScoreOneSided",
    "MirrorDriftFromNoise",
    "ScoreFromMirrorDrift",
    "DenoiserX0FromDenoiserX1",
    "DenoiserX1FromDenoiserX0",
    "VelocityFromDenoiserX0",
    "VelocityFromDenoiserX1",
    "DenoiserX0FromVelocity",
    "DenoiserX1FromVelocity",
    # diffusion conventions (si_ref.diffusion)
    *diffusion.__all__,
]
