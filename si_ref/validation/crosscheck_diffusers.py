r"""Cross-check of HuggingFace diffusers' schedulers against si_ref, with si_ref's conformance checker.

diffusers (Apache-2.0; only *called* here, none of its code is copied) writes every
noise level of a discrete VP schedule through the table ``alphas_cumprod`` and converts
it, per scheduler, to the variables below. In si_ref's diffusion convention
(:mod:`si_ref.diffusion`: :math:`x = a\,x_{\mathrm{data}} + \sigma\varepsilon`, the data at σ = 0):

====================================  ================================================================
diffusers                             si_ref.diffusion
====================================  ================================================================
timestep t, ``alphas_cumprod[t]``     ᾱ; the level (a, σ) = (√ᾱ, √(1 − ᾱ)) (:class:`DiscreteSchedule`)
DDPM/DDIM/DPM sample                  x at that VP level
Euler/Heun/DPM ``sigmas``             σ_VE = σ/a = √((1 − ᾱ)/ᾱ) (``DiscreteSchedule.sigma_ve``)
Euler/Heun sample                     x/a = x_data + σ_VE ε (a = 1: Karras et al.'s variable)
``scale_model_input``                 x/a · 1/√(1 + σ_VE²): the VP sample, what the model sees
FlowMatch ``sigmas``, sample          σ and x of the rectified flow (1 − σ) x_data + σ ε
prediction_type "epsilon"             ε̂ = E[ε | x]
prediction_type "sample"              x̂ = E[x_data | x] (EDM's D)
prediction_type "v_prediction"        v̂ = a ε̂ − σ x̂
FlowMatch model output                u = E[ε − x_data | x] (the flow velocity)
``step()``                            ddpm_step, ddim_step / ddim_eta_step, euler_sigma_step,
                                      heun_sigma_step (two calls), dpm_solver_pp_1s_step / _2m_step,
                                      flow_match_euler_step
``add_noise``, FM ``scale_noise``     add_noise
``get_velocity``                      velocity_target
``pred_original_sample`` of step()    convert_epsilon_to_sample, convert_v_to_sample
FlowMatch ``shift``                   shift_sigma
====================================  ================================================================

**Adapters** expose each scheduler under si_ref's signatures (the quantities of
:mod:`si_ref.checking.diffusion_steps` and :mod:`si_ref.checking.diffusion_conversions`):
each call builds a fresh scheduler (DDPM/DDIM with ``clip_sample=False``; no thresholding), puts the
asked levels into its table in the dtype of the tensors (``alphas_cumprod = [ᾱ_prev, ᾱ]`` for
DDPM/DDIM, ``sigmas = [σ_VE, σ_VE_next, ...]`` for Euler/Heun/DPM, ``sigmas = [σ, σ_next]`` for
FlowMatch; a step is a function of the levels, and diffusers' own float32 tables are compared
in the sampling loops and the grid checks), and calls ``step()`` once (Heun twice, DPM's 2M twice,
the first call with D_prev). The model output of each prediction type is made from the exact
field the checker hands over (ε̂ or D) with :func:`si_ref.diffusion.convert_prediction` at the
level, at the point the scheduler gives the model (``scale_model_input``). Our noise reaches
DDIM through ``variance_noise``; DDPM only takes a ``generator``, so its adapter replaces the
module-level ``randn_tensor`` of ``diffusers.schedulers.scheduling_ddpm`` for the one call by a
function that returns our noise (its shape and dtype are checked); in the sampling loops DDPM
draws from a seeded ``torch.Generator`` per step and si_ref re-draws the same numbers with
``torch.randn`` (same seed, shape, dtype). Euler (no churn), Heun, DPM-Solver++ and FlowMatch
(no stochastic sampling) draw nothing. diffusers' ᾱ-based conversions and targets are VP: a
level (a, σ) is handed over as the VP level (a/r, σ/r) of x/r, r = √(a² + σ²) (ε̂ and x̂ are
unchanged by the scaling, v̂ is divided by r, the result multiplied back); FlowMatch's
``scale_noise`` gets (a, σ) as the rectified-flow level σ/(a + σ) of x/(a + σ).

**Both dtypes**: every adapter runs on float64 and on float32 tensors and returns NumPy arrays
of that dtype, so the checker compares float64 results with rtol = 1e-6, atol = 1e-8 and
float32 ones with rtol = 1e-5, atol = 1e-6 (``si_ref.checking.compare``). Besides the checker's
verdict each row reports the max relative disagreement max |received − exact| / max |exact| over
the quantity's fixed inputs, and the *float32 floor*: the same number for si_ref's own step
evaluated on inputs rounded to float32 (what any float32 evaluation loses before its arithmetic
starts). Where float32 tensors (or the float32 state of Euler, DPM-Solver++ and FlowMatch, whose
step() casts the sample) meet an ill-conditioned input -- x̂0 = (x − σ ε̂)/a at a = √ᾱ ≈ 0.006, a
step to σ_next = 0 from a far point, 1 − ᾱ of a float32 ᾱ next to 1, a level below float32's
range -- the checker's tolerance may be exceeded; whether its draws meet one depends on the
seed. Such a FAIL is the documented outcome :data:`FLOAT32_PRECISION` when, at the counterexample,
the float64 twin of the adapter agrees with the exact value to the float32 tolerance relative to
the largest magnitude there (atol + rtol max(|inputs|, |exact|)): the conventions are right, and
the disagreement is what float32 rounding of a state of that size costs.

**Sampling loops**: each scheduler's own N-step loop (``set_timesteps(N)``, N = 10) on the exact
model output of the Gaussian-mixture case, compared with si_ref's steps on the grid diffusers
produced (``alphas_cumprod``, ``timesteps``, ``sigmas`` read back), for each prediction type and
dtype: judged normwise, max |x_diffusers − x_si_ref| <= atol + rtol max |x_si_ref| with the dtype's
tolerance (the state of a whole loop, not an entrywise quantity). **Grid checks** measure what
diffusers' grids do against the textbook ones (:data:`GRID_DOCUMENTED`): DDIM's previous timestep
t − T//N on a ``linspace`` grid, the FlowMatch shift applied twice to the grid's end, DPM-Solver's
order per step, Heun's 19 evaluations and the state it leaves, the spacings against
:func:`si_ref.diffusion.discrete.timesteps`, the float32 tables against :class:`DiscreteSchedule`,
Euler's ``log_linear`` grid.

Every check passes when the outcome is the documented one (PASS where agreement is expected;
FAIL with the named diagnosis where a disagreement is documented), so a future diffusers version
that changes behaviour shows up as a FAIL here; deliberately mistranslated adapters (self-tests)
must fail with their diagnosis, so that agreement is not vacuous. Not checked: Euler's churn
(``s_churn > 0``: it reuses the model output computed before the noise is added, a different
method from EDM's Algorithm 2, :func:`edm_stochastic_step`), thresholding, learned variances,
DPM's SDE and third-order variants, and Karras/exponential/beta σ grids.

torch and diffusers are optional peers: when either cannot be imported, :func:`run` returns
``{"skipped": reason + install command, "figures": []}`` and :func:`checks` returns no checks.
The study writes ``crosscheck_diffusers.md`` and ``.json`` (no figures).

Run from the repository root::

    python -m si_ref.validation.crosscheck_diffusers --out DIR [--quick] [--seed S]
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Callable, NamedTuple

import numpy as np

from si_ref import conformance
from si_ref.checking.compare import FLOAT32_TOLERANCE, FLOAT64_TOLERANCE
from si_ref.checking.draw import time_range
from si_ref.checking.evaluate import exact_or_none
from si_ref.checking.table import QUANTITIES
from si_ref.diffusion import DiffusionCase, RectifiedFlowPath, VPLinearPath, convert_prediction
from si_ref.diffusion import discrete
from si_ref.diffusion import steps as si_steps
from si_ref.distributions import GaussianMixture
from si_ref.progress import task
from si_ref.validation._common import Check, run_alone

__all__ = [
    "TITLE", "SUMMARY", "QUICK", "INSTALL", "SCHEDULERS", "DTYPES", "PREDICTION_TYPES", "GRID_DOCUMENTED",
    "Check", "Peers", "Planned", "reference_case", "shift_case", "plan", "run", "checks", "format_report", "main",
]

TITLE = "Cross-check: HuggingFace diffusers schedulers against si_ref"
SUMMARY = (
    "si_ref's conformance checker run on diffusers 0.42.1's DDPM, DDIM, EulerDiscrete, HeunDiscrete, "
    "DPMSolverMultistep and FlowMatchEulerDiscrete schedulers (optional peer, called, never copied) through thin "
    "adapters under si_ref's step signatures, on the exact fields of a 2-d Gaussian-mixture case, in float64 and "
    "float32, for the epsilon, sample and v_prediction types: every step agrees with si_ref's step, to rounding in "
    "float64 where the scheduler keeps float64 (DDPM, DDIM, Heun) and to float32 precision where step() rounds the "
    "state to float32 (Euler, DPM-Solver++, FlowMatch); float32 tensors exceed the checker's float32 tolerance only "
    "at ill-conditioned inputs (tiny a, far points, 1 - alpha_bar of a float32 alpha_bar near 1, levels below "
    "float32's range), where the float64 twin of the adapter agrees. add_noise, get_velocity, scale_noise and "
    "pred_original_sample agree with si_ref's targets and conversions, except EulerDiscrete.get_velocity, which "
    "reads alphas_cumprod at the step's position instead of its timestep. Full 10-step loops agree with si_ref's "
    "steps on the grids diffusers makes; the grids differ from the textbook ones where documented: DDIM's previous "
    "timestep is t - T//N on a linspace grid, FlowMatch shifts the end of its grid twice (shift-twice), "
    "DPM-Solver++ takes its last step first-order (wrong-method against 2M), Heun ends with an Euler step and leaves "
    "its second stage pending. Mistranslated adapters are caught (noise-sign, off-by-one, wrong-method, "
    "alpha-beta-swapped, sign-flip). A check passes when the outcome is the documented one, so a change of "
    "behaviour in diffusers shows as a FAIL."
)

#: Versions the documented outcomes were measured with (another version is run, and any change shows as a FAIL).
DIFFUSERS_VERSION = "0.42.1"
TORCH_VERSION = "2.13.0"
#: Printed when a peer is missing. --no-deps: diffusers' requirements would pull other versions (torch above all);
#: these six packages are what importing the schedulers needs besides numpy, requests, filelock, PyYAML, ...
INSTALL = (f"pip install torch=={TORCH_VERSION} && pip install --no-deps diffusers=={DIFFUSERS_VERSION} "
           "huggingface_hub==2.4.0 httpx2==2.16.2 httpcore2==2.16.2 truststore==0.10.5 h11==0.16.0")

#: Keyword arguments of run() for a small, fast run (si-ref validate --quick): fewer drawn inputs, no shrinking
#: (the outcomes and diagnoses are the same; a failure shows its first failing input instead of a minimal one).
QUICK = dict(max_examples=2, n_points=16, shrink=False)

SCHEDULERS = ("DDPMScheduler", "DDIMScheduler", "EulerDiscreteScheduler", "HeunDiscreteScheduler",
              "DPMSolverMultistepScheduler", "FlowMatchEulerDiscreteScheduler")
#: The tensor dtypes every adapter and loop runs with.
DTYPES = ("float64", "float32")
_NUMPY = {"float64": np.float64, "float32": np.float32}
#: diffusers' prediction types checked (FlowMatch has none: its model output is always the velocity).
PREDICTION_TYPES = ("epsilon", "sample", "v_prediction")

#: Inference steps of the sampling loops and of the grid checks.
N_STEPS = 10

#: Documented outcomes that are neither PASS nor a diagnosis name of the checker.
FLOAT32_PRECISION = "float32 precision"
VALUES_DIFFER = "values differ, no catalogued mistake"


# --- the optional peers ----------------------------------------------------------------------------

class Peers(NamedTuple):
    """torch, the six scheduler classes by name, the module whose ``randn_tensor`` DDPMScheduler.step calls, and
    the versions."""

    torch: ModuleType
    classes: dict
    ddpm_module: ModuleType
    versions: dict


def _peers() -> Peers:
    """Import torch and the six schedulers (by name: ``from diffusers import *`` pulls in model code that needs
    safetensors); ImportError naming the missing module when either is not installed."""
    import torch
    import diffusers
    from diffusers import (DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler, EulerDiscreteScheduler,
                           FlowMatchEulerDiscreteScheduler, HeunDiscreteScheduler)
    from diffusers.schedulers import scheduling_ddpm

    classes = {c.__name__: c for c in (DDPMScheduler, DDIMScheduler, EulerDiscreteScheduler, HeunDiscreteScheduler,
                                       DPMSolverMultistepScheduler, FlowMatchEulerDiscreteScheduler)}
    versions = {"torch": str(torch.__version__), "diffusers": str(diffusers.__version__)}
    return Peers(torch, classes, scheduling_ddpm, versions)


@contextlib.contextmanager
def _quiet_diffusers():
    """diffusers' logger at ERROR for the block (the adapters call step() without scale_model_input where the
    model input is not needed), and its DeprecationWarnings ignored (numpy 2 warns about np.array on a tensor in
    its set_timesteps); both restored afterwards."""
    from diffusers.utils import logging as diffusers_logging

    level = diffusers_logging.get_verbosity()
    diffusers_logging.set_verbosity_error()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"diffusers\.")
            yield
    finally:
        diffusers_logging.set_verbosity(level)


# --- si_ref's references ----------------------------------------------------------------------------

#: The data: a 2-d, 2-component Gaussian mixture (the one of si_ref.references' diffusion cases).
DATA = GaussianMixture(np.array([0.6, 0.4]), np.array([[-1.0, -1.0], [1.5, 0.5]]),
                       np.stack([np.array([[0.8, 0.3], [0.3, 0.6]]), np.eye(2) * 0.4]))


def reference_case() -> DiffusionCase:
    """The mixture on the VP path with linear β (β from 0.1 to 20, DDPM's continuous limit): the reference of
    every step, conversion and target check (DPM-Solver's levels are drawn on its path, which must be VP because
    diffusers' DPMSolverMultistepScheduler keeps only σ_VE and rebuilds a = 1/√(1 + σ_VE²))."""
    return DiffusionCase(DATA, VPLinearPath(0.1, 20.0))


def shift_case() -> DiffusionCase:
    """The mixture on the rectified-flow path with shift 3 (SD3's): the reference of the shift checks."""
    return DiffusionCase(DATA, RectifiedFlowPath(3.0))


# --- tensors ------------------------------------------------------------------------------------------

def _tensor(peers: Peers, array, dtype: str):
    """A new torch tensor of ``dtype`` ("float64" or "float32") holding ``array``."""
    return peers.torch.from_numpy(np.array(array, dtype=_NUMPY[dtype]))


def _array(tensor) -> np.ndarray:
    """A NumPy copy of a torch tensor, in its own dtype (float32 stays float32: the checker's float32 tolerance)."""
    return tensor.detach().cpu().numpy().copy()


def _float64(tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy().astype(np.float64)


def _vp_of_ve(sigma_ve: float) -> tuple:
    """The VP level (a, σ) of σ_VE: a = 1/√(1 + σ_VE²), σ = σ_VE a ((1, 0) at σ_VE = 0)."""
    a = 1.0 / math.sqrt(1.0 + sigma_ve**2)
    return a, sigma_ve * a


@contextlib.contextmanager
def _given_noise(peers: Peers, noise, dtype: str):
    """``randn_tensor`` of diffusers.schedulers.scheduling_ddpm replaced, for the block, by a function that returns
    ``noise`` (checked: the shape and dtype DDPMScheduler.step asks for); restored afterwards."""
    module = peers.ddpm_module
    original = module.randn_tensor
    given = _tensor(peers, noise, dtype)

    def randn_tensor(shape, generator=None, device=None, dtype=None, layout=None):
        if tuple(shape) != tuple(given.shape) or dtype != given.dtype:
            raise ValueError(f"DDPMScheduler asked for noise of shape {tuple(shape)} and dtype {dtype}; the adapter "
                             f"holds {tuple(given.shape)} {given.dtype}.")
        return given.clone()
    module.randn_tensor = randn_tensor
    try:
        yield
    finally:
        module.randn_tensor = original


# --- the runners: diffusers' calls, given the model outputs ---------------------------------------------------

def _ddpm(peers, dtype, prediction, output, x, alpha_bar, alpha_bar_prev, noise):
    """DDPMScheduler.step from table entry t = 1 (ᾱ) to entry 0 (ᾱ_prev): before set_timesteps its previous
    timestep is t − 1. Returns the step's output (prev_sample, pred_original_sample)."""
    s = peers.classes["DDPMScheduler"](num_train_timesteps=2, clip_sample=False, thresholding=False,
                                       prediction_type=prediction)
    s.alphas_cumprod = _tensor(peers, [alpha_bar_prev, alpha_bar], dtype)
    with _given_noise(peers, noise, dtype):
        return s.step(_tensor(peers, output, dtype), 1, _tensor(peers, x, dtype))


def _ddim(peers, dtype, prediction, output, x, alpha_bar, alpha_bar_prev, eta=0.0, noise=None):
    """DDIMScheduler.step from table entry 1 (ᾱ) to entry 0 (ᾱ_prev): set_timesteps(2) on T = 2 gives the
    timesteps [1, 0] and the previous timestep t − T//N = 0. Our noise goes in as ``variance_noise``."""
    s = peers.classes["DDIMScheduler"](num_train_timesteps=2, clip_sample=False, thresholding=False,
                                       prediction_type=prediction)
    s.alphas_cumprod = _tensor(peers, [alpha_bar_prev, alpha_bar], dtype)
    s.set_timesteps(2)
    variance_noise = None if noise is None or eta == 0.0 else _tensor(peers, noise, dtype)
    return s.step(_tensor(peers, output, dtype), 1, _tensor(peers, x, dtype), eta=eta, variance_noise=variance_noise)


def _euler(peers, dtype, prediction, output_of, x, sigma, sigma_next):
    """EulerDiscreteScheduler.step on the grid [σ, σ_next]; ``output_of(x_model, a, s)`` gives the model output at
    the input scale_model_input hands the model (the VP sample) and its VP level."""
    s = peers.classes["EulerDiscreteScheduler"](prediction_type=prediction)
    s.set_timesteps(1)
    s.sigmas = _tensor(peers, [sigma, sigma_next], dtype)
    t = s.timesteps[0]
    sample = _tensor(peers, x, dtype)
    model_input = _float64(s.scale_model_input(sample, t))
    output = output_of(model_input, *_vp_of_ve(sigma))
    return s.step(_tensor(peers, output, dtype), t, sample)


def _heun(peers, dtype, prediction, output_of, x, sigma, sigma_next, *, corrector=True):
    """HeunDiscreteScheduler on the doubled grid [σ, σ_next, σ_next, 0]: its first call (Euler predictor), and, when
    σ_next > 0, its second call with the model evaluated at the predictor and σ_next. ``corrector=False`` returns
    after the first call (a self-test: the corrector skipped)."""
    s = peers.classes["HeunDiscreteScheduler"](prediction_type=prediction)
    s.set_timesteps(2)
    s.sigmas = _tensor(peers, [sigma, sigma_next, sigma_next, 0.0], dtype)
    sample = _tensor(peers, x, dtype)
    for stage, level in ((0, sigma), (1, sigma_next)):
        t = s.timesteps[stage]
        model_input = _float64(s.scale_model_input(sample, t))
        output = output_of(model_input, *_vp_of_ve(level))
        sample = s.step(_tensor(peers, output, dtype), t, sample).prev_sample
        if sigma_next == 0.0 or not corrector:
            break
    return sample


def _dpm(peers, dtype, prediction, outputs, xs, sigmas, *, lower_order_final=True, final="zero"):
    """DPMSolverMultistepScheduler (dpmsolver++, order 2, midpoint) on the σ_VE grid ``sigmas``: one step() per
    (output, x) pair. The last call's result is returned."""
    s = peers.classes["DPMSolverMultistepScheduler"](prediction_type=prediction, thresholding=False,
                                                     lower_order_final=lower_order_final, final_sigmas_type=final)
    s.set_timesteps(len(sigmas) - 1)
    s.sigmas = _tensor(peers, sigmas, dtype)
    result = None
    for k, (output, x) in enumerate(zip(outputs, xs)):
        result = s.step(_tensor(peers, output, dtype), s.timesteps[k], _tensor(peers, x, dtype)).prev_sample
    return result


def _flow_match(peers, dtype, velocity, x, sigma, sigma_next):
    """FlowMatchEulerDiscreteScheduler.step on the grid [σ, σ_next] (shift 1: set_timesteps(sigmas=[σ]) keeps σ)."""
    s = peers.classes["FlowMatchEulerDiscreteScheduler"]()
    s.set_timesteps(sigmas=[sigma])
    s.sigmas = _tensor(peers, [sigma, sigma_next], dtype)
    return s.step(_tensor(peers, velocity, dtype), s.timesteps[0], _tensor(peers, x, dtype))


# --- the adapters: diffusers under si_ref's signatures -----------------------------------------------------------

def _output_from(field, kind: str, prediction: str, x, a, s):
    """The model output of ``prediction`` at (x, a, s) made from the exact field ``field`` of type ``kind``."""
    if prediction == kind:
        return np.asarray(field, dtype=np.float64)
    return convert_prediction(field, x, a=a, sigma=s, source=kind, target=prediction)


def _named(fn, name):
    fn.__name__ = name
    return fn


def _ddpm_adapter(peers, dtype, prediction="epsilon", *, prev_at_current=False):
    """``ddpm_step(eps, x, alpha_bar, alpha_bar_prev, noise)`` by DDPMScheduler; ``prev_at_current`` reads ᾱ_prev at
    the current entry (a self-test: off by one)."""
    def ddpm_step(eps, x, alpha_bar, alpha_bar_prev, noise):
        ab, abp = float(alpha_bar), float(alpha_bar if prev_at_current else alpha_bar_prev)
        output = _output_from(eps, "epsilon", prediction, x, math.sqrt(ab), math.sqrt(1.0 - ab))
        return _array(_ddpm(peers, dtype, prediction, output, x, ab, abp, noise).prev_sample)
    return _named(ddpm_step, f"DDPMScheduler_{prediction}_step")


def _ddim_adapter(peers, dtype, prediction="epsilon", *, sign=1.0):
    """``ddim_step(eps, x, alpha_bar, alpha_bar_prev, eta=0, noise=None)`` by DDIMScheduler; ``sign=-1`` hands it
    −ε̂ (a self-test: a noise predictor of E[−ε | x])."""
    def ddim_step(eps, x, alpha_bar, alpha_bar_prev, eta=0.0, noise=None):
        ab = float(alpha_bar)
        output = _output_from(sign * np.asarray(eps, dtype=np.float64), "epsilon", prediction, x, math.sqrt(ab),
                              math.sqrt(1.0 - ab))
        return _array(_ddim(peers, dtype, prediction, output, x, ab, float(alpha_bar_prev), float(eta), noise)
                      .prev_sample)
    return _named(ddim_step, f"DDIMScheduler_{prediction}_step")


def _euler_adapter(peers, dtype, prediction="sample", *, next_at_current=False):
    """``euler_sigma_step(denoised, x, sigma, sigma_next)`` by EulerDiscreteScheduler (x is its VE sample);
    ``next_at_current`` reads σ_next at the current entry (a self-test: off by one)."""
    def euler_sigma_step(denoised, x, sigma, sigma_next):
        sigma = float(sigma)
        nxt = sigma if next_at_current else float(sigma_next)

        def output_of(model_input, a, s):
            return _output_from(denoised, "sample", prediction, model_input, a, s)
        return _array(_euler(peers, dtype, prediction, output_of, x, sigma, nxt).prev_sample)
    return _named(euler_sigma_step, f"EulerDiscreteScheduler_{prediction}_step")


def _heun_adapter(peers, dtype, prediction="sample", *, corrector=True):
    """``heun_sigma_step(denoiser, x, sigma, sigma_next)`` by HeunDiscreteScheduler's two calls; the denoiser (of the
    VE sample) is evaluated at the model input scaled back, x_model √(1 + σ²)."""
    def heun_sigma_step(denoiser, x, sigma, sigma_next):
        def output_of(model_input, a, s):
            sigma_ve = s / a
            denoised = np.asarray(denoiser(model_input / a, sigma_ve), dtype=np.float64)
            return _output_from(denoised, "sample", prediction, model_input, a, s)
        return _array(_heun(peers, dtype, prediction, output_of, x, float(sigma), float(sigma_next),
                            corrector=corrector))
    return _named(heun_sigma_step, f"HeunDiscreteScheduler_{prediction}_step")


def _dpm_sigma(level, swapped: bool) -> float:
    """σ_VE of a VP level (a, σ); ``swapped`` gives a/σ (a self-test: a and σ exchanged)."""
    a, sigma = (float(v) for v in level)
    top, bottom = (a, sigma) if swapped else (sigma, a)
    return top / bottom if bottom > 0 else math.inf


def _dpm_1s_adapter(peers, dtype, prediction="sample"):
    """``dpm_solver_pp_1s_step(denoised, x, level, level_next)``: the first step() of DPMSolverMultistepScheduler
    (always first order) on the grid [σ_VE, σ_VE_next]."""
    def dpm_solver_pp_1s_step(denoised, x, level, level_next):
        output = _output_from(denoised, "sample", prediction, x, *level)
        sigmas = [_dpm_sigma(level, False), _dpm_sigma(level_next, False)]
        return _array(_dpm(peers, dtype, prediction, [output], [x], sigmas))
    return _named(dpm_solver_pp_1s_step, f"DPMSolverMultistepScheduler_{prediction}_first_step")


def _dpm_2m_adapter(peers, dtype, prediction="sample", *, swapped=False, last=False, lower_order_final=True):
    """``dpm_solver_pp_2m_step(denoised, denoised_prev, x, level_prev, level, level_next)``: two step() calls of
    DPMSolverMultistepScheduler on [σ_prev, σ, σ_next, 0] (the second is 2M), the first with D_prev. D_prev goes in
    as the output of its type at (x, level_prev): the scheduler converts it back to D_prev whatever the point.
    ``last`` makes the second call the schedule's last (grid [σ_prev, σ, σ_next], final_sigmas_type="sigma_min",
    so that the step to σ_next > 0 is the last one); ``swapped`` hands σ_VE = a/σ (a self-test)."""
    def dpm_solver_pp_2m_step(denoised, denoised_prev, x, level_prev, level, level_next):
        outputs = [_output_from(denoised_prev, "sample", prediction, x, *level_prev),
                   _output_from(denoised, "sample", prediction, x, *level)]
        sigmas = [_dpm_sigma(v, swapped) for v in (level_prev, level, level_next)]
        if last:
            return _array(_dpm(peers, dtype, prediction, outputs, [x, x], sigmas, final="sigma_min",
                               lower_order_final=lower_order_final))
        return _array(_dpm(peers, dtype, prediction, outputs, [x, x], sigmas + [0.0],
                           lower_order_final=lower_order_final))
    return _named(dpm_solver_pp_2m_step, f"DPMSolverMultistepScheduler_{prediction}_second_step")


def _flow_match_adapter(peers, dtype, *, sign=1.0):
    """``flow_match_euler_step(velocity, x, sigma, sigma_next)`` by FlowMatchEulerDiscreteScheduler; ``sign=-1`` hands
    it x_data − ε (a self-test: the other velocity convention)."""
    def flow_match_euler_step(velocity, x, sigma, sigma_next):
        v = sign * np.asarray(velocity, dtype=np.float64)
        return _array(_flow_match(peers, dtype, v, x, float(sigma), float(sigma_next)).prev_sample)
    return _named(flow_match_euler_step, "FlowMatchEulerDiscreteScheduler_step")


def _shift_adapter(peers, *, twice=False):
    """``shift_sigma(sigma, shift)``: FlowMatchEulerDiscreteScheduler(shift=s).set_timesteps(sigmas=σ).sigmas[:-1]
    (the custom-sigmas path shifts once). ``twice`` passes those sigmas to set_timesteps(sigmas=...) again: what
    set_timesteps(N) does to the end of its grid, whose σ_min it reads from the constructor's already shifted table
    (see the grid check of the shift)."""
    def shift_sigma(sigma, shift):
        values = np.atleast_1d(np.asarray(sigma, dtype=np.float64))
        for _ in range(2 if twice else 1):
            s = peers.classes["FlowMatchEulerDiscreteScheduler"](shift=float(shift))
            s.set_timesteps(sigmas=values.tolist())
            values = _array(s.sigmas[:-1])
        return values
    return _named(shift_sigma, "FlowMatchEulerDiscreteScheduler_set_timesteps_sigmas" + ("_twice" if twice else ""))


def _rows_levels(a, sigma, n):
    """(a, σ) as arrays of shape (n,)."""
    return (np.broadcast_to(np.asarray(a, dtype=np.float64), (n,)).copy(),
            np.broadcast_to(np.asarray(sigma, dtype=np.float64), (n,)).copy())


def _by_level(a, sigma):
    """Row indices grouped by their level (a, σ), in order of first appearance."""
    groups: dict = {}
    for i, key in enumerate(zip(a.tolist(), sigma.tolist())):
        groups.setdefault(key, []).append(i)
    return groups


def _conversion_adapter(peers, dtype, scheduler: str, source: str, *, vp_scaling=True):
    """``convert(prediction, x, a, sigma)`` -> x̂ by ``pred_original_sample`` of DDPM's or DDIM's step() with
    prediction_type ``source``; rows grouped by level. The level (a, σ) is the VP level (a/r, σ/r) of x/r."""
    def convert(prediction, x, a, sigma):
        x = np.asarray(x, dtype=np.float64)
        p = np.asarray(prediction, dtype=np.float64)
        a, sigma = _rows_levels(a, sigma, x.shape[0])
        out = np.empty(x.shape, dtype=_NUMPY[dtype])
        for (ai, si), rows in _by_level(a, sigma).items():
            r = math.hypot(ai, si) if vp_scaling else 1.0
            ab = (ai / r) ** 2
            given = p[rows] / r if source == "v_prediction" else p[rows]
            if scheduler == "DDPMScheduler":
                s = peers.classes["DDPMScheduler"](num_train_timesteps=1, clip_sample=False, prediction_type=source)
                s.alphas_cumprod = _tensor(peers, [ab], dtype)
                step = s.step(_tensor(peers, given, dtype), 0, _tensor(peers, x[rows] / r, dtype))
            else:
                s = peers.classes["DDIMScheduler"](num_train_timesteps=1, clip_sample=False, prediction_type=source)
                s.alphas_cumprod = _tensor(peers, [ab], dtype)
                s.set_timesteps(1)
                step = s.step(_tensor(peers, given, dtype), 0, _tensor(peers, x[rows] / r, dtype))
            out[rows] = _array(step.pred_original_sample)
        return out
    return _named(convert, f"{scheduler}_{source}_pred_original_sample")


def _table_adapter(peers, dtype, scheduler: str, method: str, *, swapped=False):
    """``f(x_data, noise, a, sigma)`` by ``add_noise`` or ``get_velocity`` of DDPM/DDIM: one table entry per row
    (alphas_cumprod[i] = (a_i/r_i)², timesteps 0, ..., n − 1), the result times r_i. ``swapped`` puts (σ_i/r_i)² in
    the table (a self-test: signal and noise coefficients exchanged)."""
    def target(x_data, noise, a, sigma):
        x_data = np.asarray(x_data, dtype=np.float64)
        n = x_data.shape[0]
        a, sigma = _rows_levels(a, sigma, n)
        r = np.hypot(a, sigma)
        ab = ((sigma if swapped else a) / r) ** 2
        s = peers.classes[scheduler](num_train_timesteps=max(n, 1), clip_sample=False)
        s.alphas_cumprod = _tensor(peers, ab, dtype)
        t = peers.torch.arange(n)
        value = getattr(s, method)(_tensor(peers, x_data, dtype), _tensor(peers, noise, dtype), t)
        return _array(value * _tensor(peers, r[:, None], dtype))
    return _named(target, f"{scheduler}_{method}")


def _scale_noise_adapter(peers, dtype):
    """``add_noise(x_data, noise, a, sigma)`` by FlowMatchEulerDiscreteScheduler.scale_noise: (a, σ) is the
    rectified-flow level σ/(a + σ) of x/(a + σ); rows grouped by level."""
    def add_noise(x_data, noise, a, sigma):
        x_data = np.asarray(x_data, dtype=np.float64)
        noise = np.asarray(noise, dtype=np.float64)
        a, sigma = _rows_levels(a, sigma, x_data.shape[0])
        out = np.empty(x_data.shape, dtype=_NUMPY[dtype])
        for (ai, si), rows in _by_level(a, sigma).items():
            c = ai + si
            s = peers.classes["FlowMatchEulerDiscreteScheduler"]()
            s.set_timesteps(sigmas=[si / c])
            s.sigmas = _tensor(peers, [si / c, 0.0], dtype)
            value = s.scale_noise(_tensor(peers, x_data[rows], dtype), s.timesteps[:1],
                                  _tensor(peers, noise[rows], dtype))
            out[rows] = _array(value) * _NUMPY[dtype](c)
        return out
    return _named(add_noise, "FlowMatchEulerDiscreteScheduler_scale_noise")


def _euler_velocity_adapter(peers, dtype):
    """``velocity_target(x_data, noise, a, sigma)`` by EulerDiscreteScheduler.get_velocity: set_timesteps(n + 1), the
    row levels put at the table entries of the first n timesteps, get_velocity called with those timesteps."""
    def velocity_target(x_data, noise, a, sigma):
        x_data = np.asarray(x_data, dtype=np.float64)
        n = x_data.shape[0]
        a, sigma = _rows_levels(a, sigma, n)
        r = np.hypot(a, sigma)
        s = peers.classes["EulerDiscreteScheduler"]()
        s.set_timesteps(n + 1)
        table = s.alphas_cumprod.clone().to(getattr(peers.torch, dtype))
        timesteps = s.timesteps[:n]
        for i, t in enumerate(timesteps.tolist()):
            table[int(round(t))] = float((a[i] / r[i]) ** 2)
        s.alphas_cumprod = table
        value = s.get_velocity(_tensor(peers, x_data, dtype), _tensor(peers, noise, dtype), timesteps)
        return _array(value * _tensor(peers, r[:, None], dtype))
    return _named(velocity_target, "EulerDiscreteScheduler_get_velocity")



# --- what is checked ------------------------------------------------------------------------------------------

class Planned(NamedTuple):
    """One conformance check and its documented outcomes: any of ``expected`` ("PASS", a diagnosis name of the
    checker, :data:`FLOAT32_PRECISION` or :data:`VALUES_DIFFER`) is the documented behaviour. ``build(peers,
    dtype)`` returns the implementation for a tensor dtype (the row's ``dtype``; "float64" gives its float64 twin,
    the evidence of :data:`FLOAT32_PRECISION`); ``reference`` is "vp" (:func:`reference_case`) or "shift"
    (:func:`shift_case`); ``note`` says why a FAIL is documented."""

    group: str
    scheduler: str
    call: str
    adapter: str
    quantity: str
    dtype: str
    expected: tuple
    build: Callable
    reference: str = "vp"
    note: str = ""

    @property
    def expectation(self) -> str:
        return " or ".join(e if e == "PASS" else f"FAIL {e}" for e in self.expected)

    @property
    def name(self) -> str:
        return f"{self.call} [{self.adapter}; {self.dtype}] vs {self.quantity}: expect {self.expectation}"


#: Schedulers whose step() rounds the state to float32 whatever the tensors' dtype (notes §1.7: the sample is
#: cast at the start of step() and the result cast back).
FLOAT32_STATE = ("EulerDiscreteScheduler", "DPMSolverMultistepScheduler", "FlowMatchEulerDiscreteScheduler")
_PRECISION_NOTE = ("float32 tensors: rounding amplified by the step (x̂0 = (x − σ ε̂)/a at small a, far points, "
                   "1 − ᾱ of a float32 ᾱ near 1, a level below float32's range)")
_STATE_NOTE = ("step() rounds the state to float32 whatever the tensors' dtype: a float64 result carries float32 "
               "rounding of x")


def _precision_expected(scheduler: str, dtype: str):
    """PASS, or for float32 tensors and the schedulers that round the state, also FLOAT32_PRECISION (whether the
    checker's inputs meet an ill-conditioned spot depends on the draws)."""
    if dtype == "float32":
        return ("PASS", FLOAT32_PRECISION), _PRECISION_NOTE
    if scheduler in FLOAT32_STATE:
        return ("PASS", FLOAT32_PRECISION), _STATE_NOTE
    return ("PASS",), ""


_STEP = ".step(output, t, x)"
_NO_CLIP = "clip_sample=False"


def plan() -> list[Planned]:
    """Every conformance check of the study, with its documented outcomes, in report order."""
    rows = []

    def add(group, scheduler, call, adapter, quantity, build, dtypes=DTYPES, **kw):
        for dtype in dtypes:
            expected, note = _precision_expected(scheduler, dtype)
            rows.append(Planned(group, scheduler, call, adapter, quantity, dtype, expected, build, note=note, **kw))

    def types(build):
        return [(f"prediction_type={p!r}", lambda peers, d, p=p: build(peers, d, p)) for p in PREDICTION_TYPES]

    for label, build in types(_ddpm_adapter):
        add("step", "DDPMScheduler", f"DDPMScheduler({_NO_CLIP}){_STEP}", label, "ddpm_step", build)
    for label, build in types(_ddim_adapter):
        add("step", "DDIMScheduler", f"DDIMScheduler({_NO_CLIP}){_STEP}", label, "ddim_step", build)
    add("step", "DDIMScheduler", f"DDIMScheduler({_NO_CLIP}).step(output, t, x, eta, variance_noise=z)",
        "prediction_type='epsilon'", "ddim_eta_step", lambda peers, d: _ddim_adapter(peers, d))
    for label, build in types(_euler_adapter):
        add("step", "EulerDiscreteScheduler", f"EulerDiscreteScheduler(){_STEP}", label, "euler_sigma_step", build)
    # Heun with the model's own type only: an ε or v output made from D and converted back by the scheduler
    # loses rounding amplified 1/σ_next by the corrector at the tiny σ_next the checker draws (the loops run Heun
    # with every type on the exact fields themselves).
    add("step", "HeunDiscreteScheduler", "HeunDiscreteScheduler(): two step() calls", "prediction_type='sample'",
        "heun_sigma_step", lambda peers, d: _heun_adapter(peers, d))
    for label, build in types(_dpm_1s_adapter):
        add("step", "DPMSolverMultistepScheduler", "DPMSolverMultistepScheduler(): first step()", label,
            "dpm_solver_pp_1s_step", build)
    for label, build in types(_dpm_2m_adapter):
        add("step", "DPMSolverMultistepScheduler", "DPMSolverMultistepScheduler(): second step()", label,
            "dpm_solver_pp_2m_step", build)
    add("step", "FlowMatchEulerDiscreteScheduler", f"FlowMatchEulerDiscreteScheduler(){_STEP}", "velocity",
        "flow_match_euler_step", lambda peers, d: _flow_match_adapter(peers, d))

    dpm_last = "DPMSolverMultistepScheduler(final_sigmas_type='sigma_min', lower_order_final={}): last step() of N < 15"
    rows.append(Planned("documented", "DPMSolverMultistepScheduler", dpm_last.format(True), "prediction_type='sample'",
                        "dpm_solver_pp_2m_step", "float64", ("wrong-method",),
                        lambda peers, d: _dpm_2m_adapter(peers, d, last=True),
                        note="lower_order_final (the default) makes the last step first-order when N < 15: the 1S "
                             "update where Lu et al.'s Algorithm 2 takes 2M"))
    rows.append(Planned("documented", "DPMSolverMultistepScheduler", dpm_last.format(False), "prediction_type='sample'",
                        "dpm_solver_pp_2m_step", "float64", ("PASS", FLOAT32_PRECISION),
                        lambda peers, d: _dpm_2m_adapter(peers, d, last=True, lower_order_final=False),
                        note=_STATE_NOTE))
    rows.append(Planned("documented", "FlowMatchEulerDiscreteScheduler",
                        "FlowMatchEulerDiscreteScheduler(shift=s).set_timesteps(sigmas=sigma).sigmas", "shifted once",
                        "shift_sigma", "float32 (always)", ("PASS",), lambda peers, d: _shift_adapter(peers),
                        reference="shift"))
    rows.append(Planned("documented", "FlowMatchEulerDiscreteScheduler",
                        "FlowMatchEulerDiscreteScheduler(shift=s).set_timesteps(N): the end of its grid",
                        "set_timesteps(sigmas=...) on its own shifted sigmas", "shift_sigma", "float32 (always)",
                        ("shift-twice",), lambda peers, d: _shift_adapter(peers, twice=True), reference="shift",
                        note="set_timesteps(N) spaces the grid between the constructor's sigma_max and sigma_min, "
                             "which are already shifted, and shifts the result again (see the grid checks)"))

    for scheduler in ("DDPMScheduler", "DDIMScheduler"):
        for source, quantity in (("epsilon", "convert_epsilon_to_sample"), ("v_prediction", "convert_v_to_sample")):
            add("conversion", scheduler, f"{scheduler}(prediction_type={source!r}).step(...).pred_original_sample",
                "VP level of x/r", quantity,
                lambda peers, d, s=scheduler, p=source: _conversion_adapter(peers, d, s, p))
    for scheduler, method, quantity in (("DDPMScheduler", "add_noise", "add_noise"),
                                        ("DDIMScheduler", "add_noise", "add_noise"),
                                        ("DDPMScheduler", "get_velocity", "velocity_target"),
                                        ("DDIMScheduler", "get_velocity", "velocity_target")):
        add("target", scheduler, f"{scheduler}.{method}(x_data, noise, t)", "one table entry per row, VP level of x/r",
            quantity, lambda peers, d, s=scheduler, m=method: _table_adapter(peers, d, s, m))
    add("target", "FlowMatchEulerDiscreteScheduler", "FlowMatchEulerDiscreteScheduler.scale_noise(x_data, t, noise)",
        "rectified-flow level of x/(a + sigma)", "add_noise", lambda peers, d: _scale_noise_adapter(peers, d))
    rows.append(Planned("documented", "EulerDiscreteScheduler", "EulerDiscreteScheduler.get_velocity(x_data, noise, t)",
                        "row levels at the table entries of the timesteps", "velocity_target", "float64",
                        (VALUES_DIFFER,), lambda peers, d: _euler_velocity_adapter(peers, d),
                        note="it reads alphas_cumprod at the position of t in the inference timesteps, not at t"))

    self_tests = (
        ("DDIMScheduler", "ddim_step", "-eps handed over (mistranslated)", ("noise-sign",),
         lambda peers, d: _ddim_adapter(peers, d, sign=-1.0)),
        ("DDPMScheduler", "ddpm_step", "alpha_bar_prev read at the current entry (mistranslated)", ("off-by-one",),
         lambda peers, d: _ddpm_adapter(peers, d, prev_at_current=True)),
        ("EulerDiscreteScheduler", "euler_sigma_step", "sigma_next read at the current entry (mistranslated)",
         ("off-by-one",), lambda peers, d: _euler_adapter(peers, d, next_at_current=True)),
        ("HeunDiscreteScheduler", "heun_sigma_step", "second call skipped (mistranslated)", ("wrong-method",),
         lambda peers, d: _heun_adapter(peers, d, corrector=False)),
        ("DPMSolverMultistepScheduler", "dpm_solver_pp_2m_step", "sigma_VE = a/sigma (mistranslated)",
         ("alpha-beta-swapped",), lambda peers, d: _dpm_2m_adapter(peers, d, swapped=True)),
        ("FlowMatchEulerDiscreteScheduler", "flow_match_euler_step", "x_data - eps handed over (mistranslated)",
         ("sign-flip",), lambda peers, d: _flow_match_adapter(peers, d, sign=-1.0)),
        ("DDPMScheduler", "add_noise", "(sigma/r)^2 put in the table (mistranslated)", ("alpha-beta-swapped",),
         lambda peers, d: _table_adapter(peers, d, "DDPMScheduler", "add_noise", swapped=True)),
    )
    for scheduler, quantity, adapter, expected, build in self_tests:
        rows.append(Planned("self-test", scheduler, f"{scheduler} adapter", adapter, quantity, "float64", expected,
                            build, note="a deliberate mistranslation: the checker must catch it"))
    return rows


# --- running a check ------------------------------------------------------------------------------------------

def _round32(value):
    """An input rounded to float32 (arrays, numbers, pairs; a callable's outputs), as float64."""
    if callable(value):
        return lambda *args: _round32(np.asarray(value(*args), dtype=np.float64))
    if isinstance(value, tuple):
        return tuple(_round32(v) for v in value)
    if isinstance(value, (float, int, np.floating, np.ndarray)) and not isinstance(value, bool):
        rounded = np.asarray(value, dtype=np.float64).astype(np.float32).astype(np.float64)
        return float(rounded) if np.ndim(value) == 0 else rounded
    return value


def _normwise(received, expected) -> float:
    """max |received − expected| / max |expected| (inf when received is missing or not finite)."""
    if received is None or np.shape(received) != np.shape(expected) or not np.all(np.isfinite(received)):
        return math.inf
    scale = float(np.max(np.abs(expected)))
    error = float(np.max(np.abs(received - expected)))
    return error / scale if scale > 0 else (0.0 if error == 0 else math.inf)


def _call(fn, args):
    try:
        with np.errstate(all="ignore"):
            return np.asarray(fn(*args), dtype=np.float64)
    except Exception:  # noqa: BLE001 - an adapter that raises is measured as an infinite error
        return None


def _measure(q, implementation, reference) -> dict:
    """Max relative disagreement (normwise per input) of the implementation, and of si_ref's own implementation on
    inputs rounded to float32 (the float32 floor), over the quantity's fixed inputs."""
    worst = floor = 0.0
    own = q.own_implementation()
    for ex in q.fixed_examples(reference, None, time_range()):
        expected = exact_or_none(q, ex)
        if expected is None or not np.all(np.isfinite(expected)):
            continue
        fn, args = q.bind(implementation, ex)
        worst = max(worst, _normwise(_call(fn, args), expected))
        rounded = _call(own, [_round32(a) for a in args])
        if rounded is not None:
            floor = max(floor, _normwise(rounded, expected))
    return {"max_rel_error": worst, "float32_floor": floor}


def _magnitude(inputs: dict, expected) -> float:
    """The largest finite magnitude among the counterexample's array inputs and the exact value."""
    values = [np.asarray(expected, dtype=np.float64)] + [np.asarray(v, dtype=np.float64) for v in inputs.values()
                                                         if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
    finite = [np.abs(v[np.isfinite(v)]) for v in values]
    return max((float(np.max(v)) for v in finite if v.size), default=0.0)


def _twin_error(q, twin, report):
    """At the checker's counterexample, whether the float64 twin of the adapter is within the float32 tolerance of
    the exact value relative to the largest magnitude there: max |twin − exact| <= atol + rtol max(|inputs|, |exact|)
    with the float32 (rtol, atol) -- the rounding of a float32 state of that size. None when the failure has no
    comparable values."""
    c = report.counterexample
    if c is None or not (c.error == "values differ" or c.error.startswith("returned NaN or inf")):
        return None
    names = q.argument_names(None)
    if not all(name in c.inputs for name in names):
        return None
    value = _call(twin, [c.inputs[name] for name in names])
    expected = np.asarray(c.expected, dtype=np.float64)
    if value is None or value.shape != expected.shape or not np.all(np.isfinite(value)):
        return False
    rtol, atol = FLOAT32_TOLERANCE
    return bool(np.max(np.abs(value - expected)) <= atol + rtol * _magnitude(c.inputs, expected))


def _is_documented(expected: tuple, report, twin_within_float32) -> bool:
    """Whether the checker's report shows one of the documented outcomes (FLOAT32_PRECISION: a failure where the
    float64 twin of the adapter is within the float32 tolerance of the exact value at the counterexample)."""
    if report.passed:
        return "PASS" in expected
    names = set(report.diagnosis_names)
    for outcome in expected:
        if outcome in names:
            return True
        if outcome == FLOAT32_PRECISION and twin_within_float32:
            return True
        if outcome == VALUES_DIFFER and not names and report.counterexample.error == "values differ":
            return True
    return False


def _scalar_inputs(inputs: dict) -> dict:
    """The numbers among a counterexample's inputs (levels, η), each pair entry by index: where it failed."""
    out = {}
    for name, value in inputs.items():
        values = value if isinstance(value, tuple) else (value,)
        for i, v in enumerate(values):
            if isinstance(v, (int, float, np.floating)) or (isinstance(v, np.ndarray) and v.size == 1):
                out[name if len(values) == 1 else f"{name}[{i}]"] = float(np.asarray(v).reshape(()))
    return out


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _conformance_row(item: Planned, peers: Peers, references: dict, *, seed: int, max_examples: int,
                     shrink: bool) -> dict:
    q = QUANTITIES[item.quantity]
    reference = references[item.reference]
    dtype = item.dtype if item.dtype in DTYPES else "float32"
    implementation = item.build(peers, dtype)
    report = conformance.check(implementation, item.quantity, reference, max_examples=max_examples, seed=seed,
                               shrink=shrink)
    measured = _measure(q, implementation, reference)
    twin = None if report.passed else _twin_error(q, item.build(peers, "float64"), report)
    c = report.counterexample
    return {
        "check": item.name, "group": item.group, "scheduler": item.scheduler, "diffusers": item.call,
        "adapter": item.adapter, "dtype": item.dtype, "si_ref": item.quantity,
        "outcome": "PASS" if report.passed else "FAIL", "rtol": report.rtol, "atol": report.atol,
        "examples": report.examples, "diagnoses": list(report.diagnosis_names),
        "diagnosis_forms": [f"{d.name} ({d.form})" for d in report.diagnoses],
        "problem": _first_line(c.error) if c is not None else "",
        "counterexample_abs_error": None if c is None else float(c.max_abs_error),
        "counterexample_levels": {} if c is None else _scalar_inputs(c.inputs),
        "float64_twin_within_float32": twin,
        "max_rel_error": measured["max_rel_error"], "float32_floor": measured["float32_floor"],
        "expected": item.expectation, "note": item.note,
        "as_expected": _is_documented(item.expected, report, twin), "report": str(report),
    }


# --- sampling loops ---------------------------------------------------------------------------------------------

def _exact_output(case: DiffusionCase, prediction: str, x, a, s) -> np.ndarray:
    """The exact model output of ``prediction`` at the VP point x of level (a, s)."""
    method = {"epsilon": case.epsilon_at, "sample": case.denoised_at, "v_prediction": case.v_at}[prediction]
    return method(x, a, s)


def _velocity(case: DiffusionCase, x, sigma) -> np.ndarray:
    """The flow velocity u = ε̂ − x̂ at the rectified-flow level (1 − σ, σ)."""
    return case.epsilon_at(x, 1.0 - sigma, sigma) - case.denoised_at(x, 1.0 - sigma, sigma)


def _seeded(peers, seed: int):
    return peers.torch.Generator().manual_seed(seed)


def _loop_ddpm(peers, case, prediction, dtype, z, seed):
    torch = peers.torch
    s = peers.classes["DDPMScheduler"](clip_sample=False, prediction_type=prediction)
    s.set_timesteps(N_STEPS)
    table, ts = _float64(s.alphas_cumprod), [int(t) for t in s.timesteps]
    x = _tensor(peers, z, dtype)
    ours, theirs, mine = _float64(x), [], []
    for k, t in enumerate(ts):
        ab = table[t]
        abp = table[ts[k + 1]] if k + 1 < len(ts) else 1.0          # the next grid entry; 1 after the last
        level = (math.sqrt(ab), math.sqrt(1.0 - ab))
        output = _exact_output(case, prediction, _float64(x), *level)
        x = s.step(_tensor(peers, output, dtype), t, x, generator=_seeded(peers, seed + k)).prev_sample
        noise = _float64(torch.randn(tuple(x.shape), generator=_seeded(peers, seed + k), dtype=getattr(torch, dtype)))
        ours = si_steps.ddpm_step(case.epsilon_at(ours, *level), ours, ab, abp, noise)
        theirs.append(_float64(x))
        mine.append(ours)
    return theirs, mine, len(ts)


def _loop_ddim(peers, case, prediction, dtype, z, seed):
    s = peers.classes["DDIMScheduler"](clip_sample=False, prediction_type=prediction)
    s.set_timesteps(N_STEPS)
    table, ts = _float64(s.alphas_cumprod), [int(t) for t in s.timesteps]
    x = _tensor(peers, z, dtype)
    ours, theirs, mine = _float64(x), [], []
    for k, t in enumerate(ts):
        ab = table[t]
        abp = table[ts[k + 1]] if k + 1 < len(ts) else float(s.final_alpha_cumprod)
        level = (math.sqrt(ab), math.sqrt(1.0 - ab))
        output = _exact_output(case, prediction, _float64(x), *level)
        x = s.step(_tensor(peers, output, dtype), t, x).prev_sample
        ours = si_steps.ddim_step(case.epsilon_at(ours, *level), ours, ab, abp)
        theirs.append(_float64(x))
        mine.append(ours)
    return theirs, mine, len(ts)


def _loop_euler(peers, case, prediction, dtype, z, seed):
    s = peers.classes["EulerDiscreteScheduler"](prediction_type=prediction)
    s.set_timesteps(N_STEPS)
    sigmas = _float64(s.sigmas)
    x = _tensor(peers, z, dtype) * s.init_noise_sigma
    ours, theirs, mine = _float64(x), [], []
    for k, t in enumerate(s.timesteps):
        model_input = _float64(s.scale_model_input(x, t))
        output = _exact_output(case, prediction, model_input, *_vp_of_ve(sigmas[k]))
        x = s.step(_tensor(peers, output, dtype), t, x).prev_sample
        ours = si_steps.euler_sigma_step(case.denoised_at(ours, 1.0, sigmas[k]), ours, sigmas[k], sigmas[k + 1])
        theirs.append(_float64(x))
        mine.append(ours)
    return theirs, mine, len(s.timesteps)


def _loop_heun(peers, case, prediction, dtype, z, seed):
    s = peers.classes["HeunDiscreteScheduler"](prediction_type=prediction)
    s.set_timesteps(N_STEPS)
    sigmas = _float64(s.sigmas)                                  # [σ0, σ1, σ1, ..., σ_{N−1}, σ_{N−1}, 0]
    x = _tensor(peers, z, dtype) * s.init_noise_sigma
    ours, theirs, mine = _float64(x), [], []
    for t in s.timesteps:
        model_input = _float64(s.scale_model_input(x, t))
        output = _exact_output(case, prediction, model_input, *_vp_of_ve(sigmas[s.step_index]))
        x = s.step(_tensor(peers, output, dtype), t, x).prev_sample
        if s.state_in_first_order:                               # a base step completed (its second call)
            theirs.append(_float64(x))
    theirs.append(_float64(x))                                   # the last call: Euler to σ = 0, no second call
    grid = list(sigmas[0::2]) + [0.0]

    def denoiser(y, sigma):
        return case.denoised_at(y, 1.0, float(np.asarray(sigma).reshape(-1)[0]))
    for k in range(len(grid) - 1):
        ours = si_steps.heun_sigma_step(denoiser, ours, grid[k], grid[k + 1])
        mine.append(ours)
    return theirs, mine, len(s.timesteps)


def _loop_dpm(peers, case, prediction, dtype, z, seed):
    s = peers.classes["DPMSolverMultistepScheduler"](prediction_type=prediction)
    s.set_timesteps(N_STEPS)
    sigmas = _float64(s.sigmas)
    levels = [_vp_of_ve(v) for v in sigmas]
    x = _tensor(peers, z, dtype)
    ours, theirs, mine, previous = _float64(x), [], [], None
    for k, t in enumerate(s.timesteps):
        output = _exact_output(case, prediction, _float64(x), *levels[k])
        x = s.step(_tensor(peers, output, dtype), t, x).prev_sample
        denoised = case.denoised_at(ours, *levels[k])
        if previous is None or sigmas[k + 1] == 0.0:               # first-order first and last (to σ = 0) steps
            ours_next = si_steps.dpm_solver_pp_1s_step(denoised, ours, levels[k], levels[k + 1])
        else:
            ours_next = si_steps.dpm_solver_pp_2m_step(denoised, previous, ours, levels[k - 1], levels[k],
                                                       levels[k + 1])
        previous, ours = denoised, ours_next
        theirs.append(_float64(x))
        mine.append(ours)
    return theirs, mine, len(s.timesteps)


def _loop_flow_match(peers, case, shift, dtype, z, seed):
    s = peers.classes["FlowMatchEulerDiscreteScheduler"](shift=shift)
    s.set_timesteps(N_STEPS)
    sigmas = _float64(s.sigmas)
    x = _tensor(peers, z, dtype)
    ours, theirs, mine = _float64(x), [], []
    for k, t in enumerate(s.timesteps):
        x = s.step(_tensor(peers, _velocity(case, _float64(x), sigmas[k]), dtype), t, x).prev_sample
        ours = si_steps.flow_match_euler_step(_velocity(case, ours, sigmas[k]), ours, sigmas[k], sigmas[k + 1])
        theirs.append(_float64(x))
        mine.append(ours)
    return theirs, mine, len(s.timesteps)


_LOOPS = {"DDPMScheduler": _loop_ddpm, "DDIMScheduler": _loop_ddim, "EulerDiscreteScheduler": _loop_euler,
          "HeunDiscreteScheduler": _loop_heun, "DPMSolverMultistepScheduler": _loop_dpm}


def _loop_row(peers, case, scheduler, variant, dtype, z, seed) -> dict:
    """The scheduler's N-step loop against si_ref's steps on its grid; judged normwise at every base step."""
    if scheduler == "FlowMatchEulerDiscreteScheduler":
        theirs, mine, calls = _loop_flow_match(peers, case, variant, dtype, z, seed)
        label = f"shift={variant:g}"
    else:
        theirs, mine, calls = _LOOPS[scheduler](peers, case, variant, dtype, z, seed)
        label = f"prediction_type={variant!r}"
    rtol, atol = FLOAT64_TOLERANCE if dtype == "float64" else FLOAT32_TOLERANCE
    worst_rel, worst_ratio = 0.0, 0.0
    for a, b in zip(theirs, mine):
        scale = float(np.max(np.abs(b)))
        error = float(np.max(np.abs(a - b))) if np.all(np.isfinite(a)) else math.inf
        worst_rel = max(worst_rel, error / scale)
        worst_ratio = max(worst_ratio, error / (atol + rtol * scale))
    passed = len(theirs) == len(mine) and worst_ratio <= 1.0
    return {"check": f"{scheduler}: {N_STEPS}-step loop [{label}; {dtype}] vs si_ref's steps on its grid: expect PASS",
            "scheduler": scheduler, "variant": label, "dtype": dtype, "model_calls": calls, "steps": len(mine),
            "max_rel_error": worst_rel, "rtol": rtol, "atol": atol,
            "outcome": "PASS" if passed else "FAIL", "expected": "PASS", "as_expected": passed}


def _loops(peers, case, n_points: int, seed: int) -> list[dict]:
    z = np.random.default_rng(seed).standard_normal((n_points, case.dim))
    rows = []
    for scheduler in SCHEDULERS:
        variants = (1.0, 3.0) if scheduler == "FlowMatchEulerDiscreteScheduler" else PREDICTION_TYPES
        for variant in variants:
            for dtype in DTYPES:
                rows.append(_loop_row(peers, case, scheduler, variant, dtype, z, 1000 * seed))
    return rows


# --- the grids against the textbook ones ----------------------------------------------------------------------------

#: What each grid check documents (diffusers 0.42.1), by key: the text of the expectation.
GRID_DOCUMENTED = {
    "ddim-linspace-prev": "every step jumps from t to t - T//N = t - 100 (to ᾱ = 1 below 0), not to the next grid "
                          "entry: 9 of the 10 jumps land off the grid (999 -> 899, 888 -> 788, ..., 111 -> 11)",
    "ddim-linspace-effect": "the loop's final sample differs from si_ref's DDIM loop over consecutive entries of the "
                            "same grid by more than 1e-3 (relative to its largest value)",
    "flow-shift-twice": "set_timesteps(N) with shift s gives shift(linspace(1, shift(1/T), N)): equal to float32 "
                        "precision (<= 1e-6)",
    "flow-shift-textbook": "it differs from the once-shifted grid shift(linspace(1, 1/T, N)) by more than 1e-3 "
                           "(the last level is shift(shift(1/T)) = 0.00893, not shift(1/T) = 0.00299)",
    "flow-shift-dynamic": "use_dynamic_shifting=True with mu = ln s shifts once: equal to shift(linspace(1, 1/T, N)) "
                          "(<= 1e-6)",
    "dpm-orders-default": "final_sigmas_type='zero' (default), N = 10: orders [1, 2, 2, 2, 2, 2, 2, 2, 2, 1] (the last "
                          "step, to sigma = 0, is first order and returns x-hat)",
    "dpm-orders-sigma-min-10": "final_sigmas_type='sigma_min', N = 10: [1, 2, ..., 2, 1] (lower_order_final with "
                               "N < 15)",
    "dpm-orders-sigma-min-20": "final_sigmas_type='sigma_min', N = 20: [1, 2, ..., 2] (second order to the end)",
    "dpm-orders-no-lower-final": "final_sigmas_type='sigma_min', lower_order_final=False, N = 10: [1, 2, ..., 2]",
    "heun-calls": "N = 10 base steps take 19 model evaluations (the last step is one Euler step to sigma = 0)",
    "heun-state": "after the loop the scheduler is left in its second stage (state_in_first_order is False): a "
                  "further step() without set_timesteps would finish a Heun step that was never started",
    "spacing-ddim": "DDIM's leading, trailing and linspace timesteps for N = 10 and 7 equal "
                    "si_ref.diffusion.discrete.timesteps",
    "spacing-euler-linspace": "EulerDiscrete's linspace timesteps are not rounded: for N = 7 they differ from "
                              "si_ref's (rounded) ones by 0.5 (832.5, 166.5, ...)",
    "spacing-dpm-linspace": "DPMSolverMultistep's linspace grid is round(linspace(0, T - 1, N + 1)) without its last "
                            "point (999, 899, ..., 100): it differs from si_ref's linspace (999, 888, ..., 0)",
    "table-alphas-cumprod": "the float32 alphas_cumprod of linear, scaled_linear and squaredcos_cap_v2 agree with "
                            "si_ref's float64 DiscreteSchedule to within 1e-6 relative, except the last level of "
                            "squaredcos_cap_v2 (off by 1e-6 to 1e-4: its β is capped at 0.999, and 1 - β of "
                            "the float32 0.999 is off by 1.3e-5)",
    "table-sigma-near-data": "the float32 table loses the digits of 1 - ᾱ near the data: EulerDiscrete's sigma at "
                             "t = 0 (0.0100005 exactly) is off by more than 1e-5 relative",
    "euler-log-linear": "interpolation_type='log_linear' gives N + 2 sigmas for N timesteps, the last nonzero one "
                        "being sigma_min: the loop never reaches sigma = 0",
}


def _grid_row(key: str, measured: str, value: float, ok: bool) -> dict:
    return {"key": key, "check": f"grid {key}: {GRID_DOCUMENTED[key]}", "measured": measured, "value": float(value),
            "expected": GRID_DOCUMENTED[key], "as_expected": bool(ok)}


def _relative(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(np.asarray(b))))


def _ddim_linspace_rows(peers, case, z) -> list:
    """Which previous level DDIM(timestep_spacing="linspace") steps to: the next grid entry or t − T//N."""
    s = peers.classes["DDIMScheduler"](clip_sample=False, timestep_spacing="linspace")
    s.set_timesteps(N_STEPS)
    table, ts = _float64(s.alphas_cumprod), [int(t) for t in s.timesteps]
    jump, final = s.config.num_train_timesteps // N_STEPS, float(s.final_alpha_cumprod)
    x = _tensor(peers, z, "float64")
    ours = _float64(x)
    pairs, off_grid, all_jump = [], 0, True
    for k, t in enumerate(ts):
        ab = table[t]
        level = (math.sqrt(ab), math.sqrt(1.0 - ab))
        eps = case.epsilon_at(_float64(x), *level)
        before = _float64(x)
        x = s.step(_tensor(peers, eps, "float64"), t, x).prev_sample
        result = _float64(x)
        grid_prev = ts[k + 1] if k + 1 < len(ts) else -1
        candidates = {"grid": grid_prev, "jump": t - jump}
        matches = {}
        for name, tp in candidates.items():
            abp = table[tp] if tp >= 0 else final
            matches[name] = _relative(result, si_steps.ddim_step(eps, before, ab, abp)) <= 1e-5
        all_jump &= matches["jump"]
        off_grid += not matches["grid"]
        pairs.append(f"{t}->{t - jump if matches['jump'] else '?'}")
        abp_grid = table[grid_prev] if grid_prev >= 0 else final
        ours = si_steps.ddim_step(case.epsilon_at(ours, *level), ours, ab, abp_grid)
    effect = _relative(_float64(x), ours)
    return [_grid_row("ddim-linspace-prev", ", ".join(pairs) + f"; off the grid: {off_grid} of {len(ts)}", off_grid,
                      all_jump and off_grid == len(ts) - 1),
            _grid_row("ddim-linspace-effect", f"relative difference of the final samples {effect:.3g}", effect,
                      effect > 1e-3)]


def _flow_shift_rows(peers) -> list:
    shift, cls = 3.0, peers.classes["FlowMatchEulerDiscreteScheduler"]
    s = cls(shift=shift)
    s.set_timesteps(N_STEPS)
    grid = _float64(s.sigmas[:-1])
    T = s.config.num_train_timesteps
    once = discrete.shift_sigma(np.linspace(1.0, 1.0 / T, N_STEPS), shift)
    twice = discrete.shift_sigma(np.linspace(1.0, float(discrete.shift_sigma(1.0 / T, shift)), N_STEPS), shift)
    dynamic = cls(use_dynamic_shifting=True)
    dynamic.set_timesteps(N_STEPS, mu=math.log(shift))
    grid_dynamic = _float64(dynamic.sigmas[:-1])
    d_twice, d_once = float(np.max(np.abs(grid - twice))), float(np.max(np.abs(grid - once)))
    d_dynamic = float(np.max(np.abs(grid_dynamic - once)))
    return [_grid_row("flow-shift-twice", f"max |sigma - shift(linspace(1, shift(1/T), N))| = {d_twice:.3g}", d_twice,
                      d_twice <= 1e-6),
            _grid_row("flow-shift-textbook", f"max |sigma - shift(linspace(1, 1/T, N))| = {d_once:.3g}; last sigma "
                      f"{grid[-1]:.6g} (once-shifted: {once[-1]:.6g})", d_once, d_once > 1e-3),
            _grid_row("flow-shift-dynamic", f"max |sigma - shift(linspace(1, 1/T, N))| = {d_dynamic:.3g}", d_dynamic,
                      d_dynamic <= 1e-6)]


def _dpm_orders(peers, case, z, steps: int, **config) -> list:
    """The order of each step() of DPMSolverMultistepScheduler: 1 where it equals si_ref's 1S step from its own
    state, 2 where it equals the 2M step, 0 where neither."""
    s = peers.classes["DPMSolverMultistepScheduler"](prediction_type="sample", **config)
    s.set_timesteps(steps)
    sigmas = _float64(s.sigmas)
    levels = [_vp_of_ve(v) for v in sigmas]
    x = _tensor(peers, z, "float64")
    orders, previous = [], None
    for k, t in enumerate(s.timesteps):
        before = _float64(x)
        denoised = case.denoised_at(before, *levels[k])
        x = s.step(_tensor(peers, denoised, "float64"), t, x).prev_sample
        result = _float64(x)
        order = 0
        if _relative(result, si_steps.dpm_solver_pp_1s_step(denoised, before, levels[k], levels[k + 1])) <= 1e-5:
            order = 1
        elif previous is not None and sigmas[k + 1] > 0 and _relative(result, si_steps.dpm_solver_pp_2m_step(
                denoised, previous, before, levels[k - 1], levels[k], levels[k + 1])) <= 1e-5:
            order = 2
        orders.append(order)
        previous = denoised
    return orders


def _dpm_rows(peers, case, z) -> list:
    out = []
    for key, steps, config in (("dpm-orders-default", 10, {}),
                               ("dpm-orders-sigma-min-10", 10, {"final_sigmas_type": "sigma_min"}),
                               ("dpm-orders-sigma-min-20", 20, {"final_sigmas_type": "sigma_min"}),
                               ("dpm-orders-no-lower-final", 10, {"final_sigmas_type": "sigma_min",
                                                                  "lower_order_final": False})):
        orders = _dpm_orders(peers, case, z, steps, **config)
        last = 1 if key in ("dpm-orders-default", "dpm-orders-sigma-min-10") else 2
        documented = [1] + [2] * (steps - 2) + [last]
        out.append(_grid_row(key, f"orders {orders}", sum(o != d for o, d in zip(orders, documented)),
                             orders == documented))
    return out


def _heun_rows(peers, case, z) -> list:
    s = peers.classes["HeunDiscreteScheduler"](prediction_type="sample")
    s.set_timesteps(N_STEPS)
    x = _tensor(peers, z, "float64") * s.init_noise_sigma
    calls = 0
    for t in s.timesteps:
        model_input = _float64(s.scale_model_input(x, t))
        a, sigma = _vp_of_ve(float(s.sigmas[s.step_index]))
        x = s.step(_tensor(peers, case.denoised_at(model_input, a, sigma), "float64"), t, x).prev_sample
        calls += 1
    first_order = bool(s.state_in_first_order)
    return [_grid_row("heun-calls", f"{calls} model evaluations for N = {N_STEPS}", calls, calls == 2 * N_STEPS - 1),
            _grid_row("heun-state", f"state_in_first_order after the loop: {first_order}", float(first_order),
                      not first_order)]


def _spacing_rows(peers) -> list:
    schedule = discrete.DiscreteSchedule.linear(1000, 1e-4, 0.02)
    mismatches, cases = 0, []
    for spacing in discrete.TIMESTEP_SPACINGS:
        for steps in (10, 7):
            s = peers.classes["DDIMScheduler"](timestep_spacing=spacing)
            s.set_timesteps(steps)
            same = np.array_equal(s.timesteps.numpy(), discrete.timesteps(schedule, steps, spacing))
            mismatches += not same
            cases.append(f"{spacing} N={steps}: {'equal' if same else 'DIFFERENT'}")
    euler = peers.classes["EulerDiscreteScheduler"]()
    euler.set_timesteps(7)
    euler_gap = float(np.max(np.abs(euler.timesteps.numpy().astype(np.float64)
                                    - discrete.timesteps(schedule, 7, "linspace"))))
    dpm = peers.classes["DPMSolverMultistepScheduler"]()
    dpm.set_timesteps(N_STEPS)
    theirs = dpm.timesteps.numpy()
    textbook = discrete.timesteps(schedule, N_STEPS, "linspace")
    one_more = discrete.timesteps(schedule, N_STEPS + 1, "linspace")[:-1]      # N + 1 points, the last dropped
    return [_grid_row("spacing-ddim", "; ".join(cases), mismatches, mismatches == 0),
            _grid_row("spacing-euler-linspace", f"N = 7: {euler.timesteps.numpy().tolist()}; max difference "
                      f"{euler_gap:g}", euler_gap, euler_gap == 0.5),
            _grid_row("spacing-dpm-linspace", f"{theirs.tolist()}", float(np.max(np.abs(theirs - textbook))),
                      not np.array_equal(theirs, textbook) and np.array_equal(theirs, one_more))]


def _table_rows(peers) -> list:
    worst, capped, parts = 0.0, math.nan, []
    for name, kwargs in (("linear", {}), ("scaled_linear", {"beta_start": 0.00085, "beta_end": 0.012}),
                         ("squaredcos_cap_v2", {})):
        s = peers.classes["DDPMScheduler"](beta_schedule=name, **kwargs)
        ours = discrete.DiscreteSchedule.from_name(name, 1000, **kwargs).alphas_cumprod
        errors = np.abs(_float64(s.alphas_cumprod) - ours) / ours
        if name == "squaredcos_cap_v2":
            capped, errors = float(errors[-1]), errors[:-1]
        worst = max(worst, float(np.max(errors)))
        parts.append(f"{name} {float(np.max(errors)):.2g}")
    euler = peers.classes["EulerDiscreteScheduler"]()
    euler.set_timesteps(N_STEPS)
    sigma_0 = float(euler.sigmas[N_STEPS - 1])
    exact_0 = float(discrete.DiscreteSchedule.linear(1000, 1e-4, 0.02).sigma_ve[0])
    near = abs(sigma_0 - exact_0) / exact_0
    log_linear = peers.classes["EulerDiscreteScheduler"](interpolation_type="log_linear")
    log_linear.set_timesteps(N_STEPS)
    sigmas = _float64(log_linear.sigmas)
    return [_grid_row("table-alphas-cumprod", "max relative error of ᾱ: " + ", ".join(parts)
                      + f" (squaredcos_cap_v2 without its last level; at it {capped:.2g})", worst,
                      worst <= 1e-6 and 1e-6 < capped <= 1e-4),
            _grid_row("table-sigma-near-data", f"sigma(t = 0) = {sigma_0!r} vs {exact_0!r}: relative error {near:.2g}",
                      near, near > 1e-5),
            _grid_row("euler-log-linear", f"{len(sigmas)} sigmas for {len(log_linear.timesteps)} timesteps: the "
                      f"{N_STEPS} steps end at sigmas[{N_STEPS}] = {sigmas[N_STEPS]:.6g}, not at 0",
                      len(sigmas) - len(log_linear.timesteps), len(sigmas) == N_STEPS + 2 and sigmas[N_STEPS] > 0)]


def _grids(peers, case, n_points: int, seed: int) -> list[dict]:
    z = np.random.default_rng(seed + 1).standard_normal((n_points, case.dim))
    return (_ddim_linspace_rows(peers, case, z) + _flow_shift_rows(peers) + _dpm_rows(peers, case, z)
            + _heun_rows(peers, case, z) + _spacing_rows(peers) + _table_rows(peers))


# --- the study ------------------------------------------------------------------------------------------------

def _check_arguments(seed, max_examples, n_points, shrink):
    if not isinstance(shrink, bool):
        raise TypeError(f"shrink must be True or False; received {shrink!r}.")
    checked = []
    for name, value, lowest in (("seed", seed, 0), ("max_examples", max_examples, 1), ("n_points", n_points, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer; received {value!r} of type {type(value).__name__}.")
        if value < lowest:
            raise ValueError(f"{name} must be an integer >= {lowest}; received {name}={value!r}.")
        checked.append(int(value))
    return tuple(checked)


def run(out_dir, *, seed: int = 0, max_examples: int = 8, n_points: int = 64, shrink: bool = True) -> dict:
    """Run every check against diffusers, write the tables into ``out_dir`` and return them.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Folder for ``crosscheck_diffusers.md`` and ``.json`` (created if missing).
    seed : int
        Seed of the conformance checker (hypothesis), of the loops' starting points and of DDPM's generators.
    max_examples : int
        Inputs drawn per conformance check, after its fixed inputs (default 8).
    n_points : int
        Points per sampling loop and grid check (default 64).
    shrink : bool
        Shrink each failure to a minimal counterexample (default True; the quick run skips it).

    Returns
    -------
    dict
        ``"rows"`` (one per conformance check), ``"loops"``, ``"grids"``, ``"versions"``, the settings and
        ``"figures": []``; or, when torch or diffusers cannot be imported, ``{"skipped": reason with the
        install command, "figures": []}``.

    Raises
    ------
    TypeError, ValueError
        For a non-integer or out-of-range ``seed``, ``max_examples`` or ``n_points``, or a non-bool ``shrink``.
    """
    seed, max_examples, n_points = _check_arguments(seed, max_examples, n_points, shrink)
    try:
        peers = _peers()
    except ImportError as exc:
        return {"skipped": f"torch and diffusers are needed ({exc}); install with: {INSTALL}", "figures": []}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    references = {"vp": reference_case(), "shift": shift_case()}
    items = plan()
    rows = []
    with _quiet_diffusers():
        with task("diffusers checks", total=len(items), unit="check") as progress:
            for item in items:
                rows.append(_conformance_row(item, peers, references, seed=seed, max_examples=max_examples,
                                             shrink=shrink))
                progress.advance()
        with task("diffusers loops and grids"):
            loops = _loops(peers, references["vp"], n_points, seed)
            grids = _grids(peers, references["vp"], n_points, seed)
    results = {
        "versions": peers.versions, "seed": seed, "max_examples": max_examples, "n_points": n_points,
        "shrink": shrink, "n_steps": N_STEPS, "rows": rows, "loops": loops, "grids": grids, "figures": [],
    }
    (out / "crosscheck_diffusers.md").write_text(format_report(results) + "\n", encoding="utf-8")
    (out / "crosscheck_diffusers.json").write_text(json.dumps(results, indent=1, default=_json_default) + "\n",
                                                   encoding="utf-8")
    return results


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def checks(results: dict) -> list[Check]:
    """One check per conformance row, sampling loop and grid check (value 1 when the outcome is the documented
    one); none when the study was skipped."""
    if "skipped" in results:
        return []
    return [Check(row["check"], float(row["as_expected"]), (">=", 1.0), bool(row["as_expected"]))
            for group in ("rows", "loops", "grids") for row in results[group]]


def _cell(text) -> str:
    return str(text).replace("|", "\\|")


def _number(value) -> str:
    if value is None:
        return "-"
    value = float(value)
    return "inf" if math.isinf(value) else ("nan" if math.isnan(value) else f"{value:.2g}")


def _outcome_cell(row) -> str:
    text = row["outcome"]
    if row["diagnoses"]:
        text += " (" + ", ".join(row["diagnoses"]) + ")"
    elif row["outcome"] == "FAIL":
        text += " (no catalogued mistake)"
    return text


def format_report(results: dict) -> str:
    """The results as Markdown: conformance table (both dtypes side by side), disagreements, loops, grids."""
    if "skipped" in results:
        return f"skipped: {results['skipped']}"
    v = results["versions"]
    lines = [
        f"# {TITLE}", "",
        f"diffusers {v['diffusers']}, torch {v['torch']} (documented outcomes measured with {DIFFUSERS_VERSION}, "
        f"{TORCH_VERSION}). Reference: DiffusionCase(2-d two-component Gaussian mixture, VPLinearPath(0.1, 20)); "
        "shift checks on RectifiedFlowPath(3).",
        f"Checker: si_ref.conformance.check, fixed inputs then max_examples={results['max_examples']} drawn, "
        f"shrink={results['shrink']}, seed={results['seed']}; float64 results judged with rtol = "
        f"{FLOAT64_TOLERANCE[0]:g}, atol = {FLOAT64_TOLERANCE[1]:g}, float32 results with rtol = "
        f"{FLOAT32_TOLERANCE[0]:g}, atol = {FLOAT32_TOLERANCE[1]:g}. 'max rel' is max |received - exact| / max |exact| "
        "over the quantity's fixed inputs; 'floor' the same for si_ref's own step on inputs rounded to float32. "
        f"'{FLOAT32_PRECISION}': a failure where, at the counterexample, the float64 twin of the adapter is within "
        f"{FLOAT32_TOLERANCE[1]:g} + {FLOAT32_TOLERANCE[0]:g} max(|inputs|, |exact|) of the exact value (conventions "
        "right; what float32 rounding of a state of that size, or float32's range, costs).", "",
        "## Conformance checks", "",
        "| diffusers | adapter | si_ref quantity | dtype | outcome (diagnoses) | max rel | floor | expected "
        "| as expected |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        lines.append(f"| `{_cell(r['diffusers'])}` | {_cell(r['adapter'])} | {r['si_ref']} | {r['dtype']} "
                     f"| {_outcome_cell(r)} | {_number(r['max_rel_error'])} | {_number(r['float32_floor'])} "
                     f"| {r['expected']} | {'yes' if r['as_expected'] else '**NO**'} |")
    failed = [r for r in results["rows"] if r["outcome"] == "FAIL"]
    lines += ["", f"## Disagreements found by the checker ({len(failed)})", ""]
    kind = "minimal counterexample" if results["shrink"] else "first failing input (not shrunk)"
    for r in failed:
        where = ", ".join(f"{k} = {v:.4g}" for k, v in r["counterexample_levels"].items())
        forms = "; ".join(r["diagnosis_forms"]) or "none of the catalogued mistakes"
        if FLOAT32_PRECISION in r["expected"] and r["float64_twin_within_float32"]:
            reading = (f"{FLOAT32_PRECISION}: the float64 twin is within the float32 tolerance of the largest "
                       "magnitude there")
            if r["diagnoses"]:
                reading += " (so the diagnosis is a coincidence of the degenerate input, not a mistake)"
            reading += f"; {r['note']}"
        else:
            reading = r["note"]
        lines.append(f"- `{r['diffusers']}` [{r['adapter']}; {r['dtype']}] vs {r['si_ref']}: {r['problem']} at the "
                     f"{kind}{' (' + where + ')' if where else ''}, max |error| "
                     f"{_number(r['counterexample_abs_error'])}; checker's diagnosis: {forms}. {reading}.")
    if not failed:
        lines.append("- none")
    lines += ["", f"## Sampling loops ({results['n_steps']} steps, {results['n_points']} points, exact model outputs)",
              "", "Judged at every base step: max |x_diffusers - x_si_ref| <= atol + rtol max |x_si_ref| with the "
              "dtype's tolerance; si_ref steps on the levels diffusers' own grid holds.", "",
              "| scheduler | variant | dtype | model calls | max rel | outcome | as expected |",
              "|---|---|---|---|---|---|---|"]
    for r in results["loops"]:
        lines.append(f"| {r['scheduler']} | {_cell(r['variant'])} | {r['dtype']} | {r['model_calls']} "
                     f"| {_number(r['max_rel_error'])} | {r['outcome']} | {'yes' if r['as_expected'] else '**NO**'} |")
    lines += ["", "## Grids against the textbook ones (documented differences)", "",
              "| check | documented | measured | as expected |", "|---|---|---|---|"]
    for r in results["grids"]:
        lines.append(f"| {r['key']} | {_cell(r['expected'])} | {_cell(r['measured'])} "
                     f"| {'yes' if r['as_expected'] else '**NO**'} |")
    verdicts = checks(results)
    bad = [c.name for c in verdicts if not c.passed]
    lines += ["", f"All {len(verdicts)} checks as documented." if not bad
              else f"NOT as documented ({len(bad)}): " + "; ".join(bad)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the study and print its report; exit status 1 if an outcome is not the documented one."""
    return run_alone(sys.modules[__name__], argv,
                     "Run si_ref's conformance checker on diffusers' schedulers (optional peer); tables in --out.")


if __name__ == "__main__":
    sys.exit(main())
