r"""The thin diffusers adapters of :mod:`si_ref.validation.crosscheck_diffusers` (private: not a study).

Everything that imports torch and diffusers (lazily, inside :func:`_peers` and :func:`_quiet_diffusers`), builds
a scheduler and exposes its ``step()``, ``add_noise``, ``get_velocity`` and ``scale_noise`` under si_ref's
signatures, with the torch/NumPy helpers they need. What the adapters translate, and how, is told in the study's
module docstring.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from types import ModuleType
from typing import NamedTuple

import numpy as np

from si_ref.diffusion import convert_prediction

#: The NumPy dtype of each tensor dtype the adapters run with.
_NUMPY = {"float64": np.float64, "float32": np.float32}


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
