r"""Diffusion conventions as exact ground truth.

The diffusion convention :math:`x_\tau = a(\tau) x_{\mathrm{data}} + \sigma(\tau)\varepsilon`
(τ = 0 the data, τ = 1 the noise) next to si_ref's interpolants (t = 1 − τ):

* :mod:`si_ref.diffusion.paths`: VP (linear β), cosine, VE, EDM's σ-time, rectified flow
  with a timestep shift, zero-terminal-SNR rescaling; closed-form derivatives;
* :mod:`si_ref.diffusion.case`: exact ε-, x0-, v-, score-, flow-velocity, PF-ODE and
  reverse-SDE fields for Gaussian and Gaussian-mixture data (:class:`DiffusionCase`);
* :mod:`si_ref.diffusion.conversions`: every prediction type to every other, to and from
  si_ref's fields, between schedules, and EDM's preconditioning;
* :mod:`si_ref.diffusion.discrete`: DDPM β tables, ᾱ, timestep spacings, EDM's σ grid;
* :mod:`si_ref.diffusion.steps`: one step of DDPM, DDIM, Euler/Heun in σ, DPM-Solver++
  and flow-matching Euler.
"""

from .paths import (
    DIFFUSION_PATHS,
    CosinePath,
    DiffusionInterpolant,
    DiffusionPath,
    EDMPath,
    RectifiedFlowPath,
    VEPath,
    VPLinearPath,
    ZeroTerminalSNRPath,
)
from .case import PREDICTION_TYPES, DiffusionCase
from .conversions import (
    INTERPOLANT_FIELDS,
    EDMDenoiser,
    EDMPreconditioning,
    InterpolantFieldFromPrediction,
    PredictionFromInterpolantField,
    PredictionFromPrediction,
    ReparametrisedPrediction,
    add_noise,
    convert_prediction,
    edm_network_target,
    edm_preconditioning,
    velocity_target,
)
from .discrete import (
    BETA_SCHEDULES,
    TIMESTEP_SPACINGS,
    DiscreteSchedule,
    edm_sigmas,
    rescale_zero_terminal_snr,
    shift_sigma,
    timesteps,
    unshift_sigma,
)
from .steps import (
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

__all__ = [
    "DiffusionPath", "VPLinearPath", "CosinePath", "VEPath", "EDMPath", "RectifiedFlowPath",
    "ZeroTerminalSNRPath", "DiffusionInterpolant", "DIFFUSION_PATHS", "DiffusionCase", "PREDICTION_TYPES",
    "convert_prediction", "PredictionFromPrediction", "InterpolantFieldFromPrediction",
    "PredictionFromInterpolantField", "ReparametrisedPrediction", "EDMPreconditioning", "edm_preconditioning",
    "EDMDenoiser", "edm_network_target", "add_noise", "velocity_target", "INTERPOLANT_FIELDS",
    "DiscreteSchedule", "BETA_SCHEDULES", "TIMESTEP_SPACINGS", "timesteps", "rescale_zero_terminal_snr", "edm_sigmas", "shift_sigma", "unshift_sigma",
    "ddpm_step", "ddim_step", "ddim_variance", "euler_sigma_step", "heun_sigma_step", "edm_stochastic_step",
    "dpm_solver_pp_1s_step", "dpm_solver_pp_2m_step", "flow_match_euler_step",
]
