r"""Conversions between diffusion prediction types, to and from si_ref's fields, and between schedules.

At a noise level (a, σ), :math:`x = a\hat x + \sigma\hat\varepsilon` ties the two conditional
means :math:`\hat x = E[x_{\mathrm{data}}|x]` and :math:`\hat\varepsilon = E[\varepsilon|x]`, and
every prediction type is a fixed linear combination of them
(Salimans & Ho 2022, arXiv:2202.00512, App. D; Karras et al. 2022, arXiv:2206.00364, Table 1):

==============  ======================================  =====================================
type            value p                                 (c_x̂, c_ε̂) with p = c_x̂ x̂ + c_ε̂ ε̂
==============  ======================================  =====================================
"epsilon"       ε̂                                        (0, 1)
"sample"        x̂ (x0-prediction)                        (1, 0)
"v_prediction"  v̂ = a ε̂ − σ x̂                            (−σ, a)
"score"         s = −ε̂/σ                                 (0, −1/σ), σ > 0
"flow"          u = ȧ x̂ + σ̇ ε̂ = dx/dτ                    (ȧ, σ̇): needs the path's derivatives
==============  ======================================  =====================================

A conversion solves the 2 × 2 system [x; p] = [[a, σ]; [c_x̂, c_ε̂]] [x̂; ε̂] by Cramer's rule
(determinant :math:`a c_{\hat\varepsilon} - \sigma c_{\hat x}`) and forms the other combination:
e.g. :math:`\hat x = (x - \sigma\hat\varepsilon)/a` from ε, :math:`\hat x = (a x - \sigma v)/(a^2 + \sigma^2)`
from v (= :math:`a x - \sigma v` on a VP path), :math:`\hat\varepsilon = (\sigma x + a v)/(a^2 + \sigma^2)`.
Where the determinant is 0 (x̂ from ε at a = 0, ε from x̂ at σ = 0) the conversion is
undefined and raises, naming the level.

si_ref's interpolant fields of :meth:`DiffusionPath.interpolant` (t = 1 − τ) are
x̂0 = ε̂, x̂1 = x̂, s = s, velocity = drift = −u.

Reparametrisation: a model trained on path P is used on path Q at the same log-SNR,
:math:`\hat\varepsilon_Q(x, \tau_Q) = \hat\varepsilon_P(x\, a_P/a_Q, \tau_P)` with
:math:`\lambda_P(\tau_P) = \lambda_Q(\tau_Q)`, exact for any data (the law of ε given
:math:`x/a = x_{\mathrm{data}} + (\sigma/a)\varepsilon` depends only on σ/a); for a = 0 the input is
:math:`x\,\sigma_P/\sigma_Q` instead.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from .._checks import as_points, as_positive_real, as_times
from .case import PREDICTION_TYPES
from .paths import TAU_MEANING, DiffusionPath

__all__ = [
    "convert_prediction",
    "PredictionFromPrediction",
    "InterpolantFieldFromPrediction",
    "PredictionFromInterpolantField",
    "ReparametrisedPrediction",
    "EDMPreconditioning",
    "edm_preconditioning",
    "EDMDenoiser",
    "edm_network_target",
    "add_noise",
    "velocity_target",
    "INTERPOLANT_FIELDS",
]

#: si_ref fields a diffusion prediction converts to (in time t = 1 − τ).
INTERPOLANT_FIELDS = ("denoise_x0", "denoise_x1", "score", "velocity", "drift")


def _column(value, n: int, name: str, *, nonnegative: bool = False) -> np.ndarray:
    """A level or its derivative, scalar or (n,), as an (n, 1) column; finite (and >= 0 for a and σ)."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be real numbers; received dtype {arr.dtype}. Pass floats.")
    arr = arr.astype(np.float64)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != n):
        raise ValueError(f"{name} must be a scalar or have shape (n,) = ({n},); received shape {arr.shape}.")
    bad = ~np.isfinite(arr) | ((arr < 0) if nonnegative else False)
    if np.any(bad):
        expected = "finite numbers >= 0" if nonnegative else "finite numbers"
        raise ValueError(f"{name} must be {expected}; received {float(arr[bad].ravel()[0])!r}.")
    return np.broadcast_to(np.reshape(arr, (-1, 1)), (n, 1))


def _coefficients(kind: str, a, sigma, a_dot, sigma_dot):
    """(c_x̂, c_ε̂) of the prediction type at the level (columns (n, 1))."""
    if kind == "epsilon":
        return np.zeros_like(a), np.ones_like(a)
    if kind == "sample":
        return np.ones_like(a), np.zeros_like(a)
    if kind == "v_prediction":
        return -sigma, a
    if kind == "score":
        if np.any(sigma == 0.0):
            raise ValueError("the score is not a combination of x̂ and ε̂ at sigma = 0 (s = −ε̂/σ); convert at "
                             "sigma > 0.")
        return np.zeros_like(a), -1.0 / sigma
    if kind == "flow":
        if a_dot is None or sigma_dot is None:
            raise ValueError("the 'flow' prediction needs the path's derivatives: pass a_dot and sigma_dot.")
        return a_dot, sigma_dot
    raise ValueError(f"prediction type must be one of {PREDICTION_TYPES}; received {kind!r}.")


def convert_prediction(prediction, x, *, a, sigma, source: str, target: str, a_dot=None, sigma_dot=None):
    r"""Convert a prediction of type ``source`` at the level (a, σ) to type ``target`` (module table).

    Parameters
    ----------
    prediction, x : array_like, shape (n, d)
        The model output and the point it was evaluated at.
    a, sigma : float or array_like, shape (n,)
        The level: :math:`x = a x_{\mathrm{data}} + \sigma\varepsilon`.
    source, target : str
        Prediction types (:data:`si_ref.diffusion.PREDICTION_TYPES`).
    a_dot, sigma_dot : float or array_like, shape (n,), optional
        :math:`da/d\tau`, :math:`d\sigma/d\tau`, needed only for ``"flow"``.

    Returns
    -------
    ndarray, shape (n, d)

    Raises
    ------
    ValueError
        For an unknown type, mismatched shapes, or a level where the conversion is
        undefined (determinant 0, e.g. ``"sample"`` from ``"epsilon"`` at a = 0).
    """
    x = as_points(x, "x")
    p = as_points(prediction, "prediction", d=x.shape[1])
    n = x.shape[0]
    if p.shape[0] != n:
        raise ValueError(f"prediction must have the shape of x {x.shape}; received {p.shape}.")
    a_, s_ = _column(a, n, "a", nonnegative=True), _column(sigma, n, "sigma", nonnegative=True)
    if source == target:
        _check_type(source, "source")
        return p
    if "flow" not in (source, target):
        a_dot = sigma_dot = None                 # unused; σ̇ = inf at τ = 0 of VP paths must not raise
    a_dot_ = None if a_dot is None else _column(a_dot, n, "a_dot")
    s_dot_ = None if sigma_dot is None else _column(sigma_dot, n, "sigma_dot")
    cx, ce = _coefficients(source, a_, s_, a_dot_, s_dot_)
    qx, qe = _coefficients(target, a_, s_, a_dot_, s_dot_)
    det = a_ * ce - s_ * cx
    # where the target is a multiple k of the source (ε and the score: s = −ε/σ), it is k p at any level
    proportional = (cx * qe - ce * qx == 0.0) & ((cx != 0.0) | (ce != 0.0))
    undetermined = (det == 0.0) & ~proportional
    if np.any(undetermined):
        row = int(np.argmax(undetermined[:, 0]))
        raise ValueError(
            f"a {target!r} prediction is not determined by a {source!r} prediction at a = {float(a_[row, 0])!r}, "
            f"sigma = {float(s_[row, 0])!r} (row {row}): the determinant a c_eps − sigma c_x0 is 0 there "
            f"(e.g. x0 from epsilon at a = 0 or epsilon from x0 at sigma = 0). Convert at another level."
        )
    safe = np.where(det == 0.0, 1.0, det)
    x0 = (ce * x - s_ * p) / safe                # Cramer: [x; p] = [[a, σ]; [cx, ce]] [x̂; ε̂]
    eps = (a_ * p - cx * x) / safe
    solved = qx * x0 + qe * eps
    if not np.any(det == 0.0):
        return solved
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(cx != 0.0, qx / np.where(cx != 0.0, cx, 1.0), qe / np.where(ce != 0.0, ce, 1.0))
    return np.where(det == 0.0, k * p, solved)


def _model_output(model, x, time, name):
    out = model(x, time)
    arr = np.asarray(out)
    if arr.shape != x.shape or arr.dtype.kind not in "f":
        raise ValueError(f"{name} must return a float array of shape {x.shape}; returned {arr.dtype} {arr.shape}.")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} returned NaN or inf at {time!r}.")
    return arr.astype(np.float64)


def _check_type(kind, name):
    if kind not in PREDICTION_TYPES:
        raise ValueError(f"{name} must be one of {PREDICTION_TYPES}; received {kind!r}.")
    return kind


def _check_path(path):
    if not isinstance(path, DiffusionPath):
        raise TypeError(f"path must be a DiffusionPath such as VPLinearPath(); received {type(path).__name__}.")
    return path


class PredictionFromPrediction:
    r"""A model of type ``target`` from a model of type ``source`` on ``path``: called ``(x, tau)``.

    ``model(x, tau) -> (n, d)`` predicts ``source`` on :math:`x_\tau = a(\tau) x_{\mathrm{data}} +
    \sigma(\tau)\varepsilon`; the wrapper returns :func:`convert_prediction` of it.
    """

    def __init__(self, model: Callable, path: DiffusionPath, source: str, target: str):
        if not callable(model):
            raise TypeError(f"model must be a callable model(x, tau); received {type(model).__name__}.")
        self.model, self.path = model, _check_path(path)
        self.source, self.target = _check_type(source, "source"), _check_type(target, "target")

    def __call__(self, x, tau):
        x = as_points(x, "x")
        t = as_times(tau, "tau", meaning=TAU_MEANING)
        p = _model_output(self.model, x, tau, "model")
        P = self.path
        return convert_prediction(p, x, a=P._a(t), sigma=P._sigma(t), source=self.source, target=self.target,
                                  a_dot=P._a_dot(t), sigma_dot=P._sigma_dot(t))


class InterpolantFieldFromPrediction:
    r"""si_ref's field ``field`` (:data:`INTERPOLANT_FIELDS`) of ``path.interpolant()``, called ``(x, t)``.

    τ = 1 − t; x̂0 = ε̂, x̂1 = x̂, the score unchanged, velocity = drift = −u (γ = 0).
    """

    def __init__(self, model: Callable, path: DiffusionPath, source: str, field: str):
        if not callable(model):
            raise TypeError(f"model must be a callable model(x, tau); received {type(model).__name__}.")
        if field not in INTERPOLANT_FIELDS:
            raise ValueError(f"field must be one of {INTERPOLANT_FIELDS}; received {field!r}.")
        self.converter = PredictionFromPrediction(model, path, source, _DIFFUSION_OF[field][0])
        self.sign = _DIFFUSION_OF[field][1]
        self.field = field

    def __call__(self, x, t):
        tau = 1.0 - as_times(t, "t")
        return self.sign * self.converter(x, tau[()] if tau.ndim == 0 else tau)


#: si_ref field -> (diffusion prediction type, sign).
_DIFFUSION_OF = {"denoise_x0": ("epsilon", 1.0), "denoise_x1": ("sample", 1.0), "score": ("score", 1.0),
                 "velocity": ("flow", -1.0), "drift": ("flow", -1.0)}


class PredictionFromInterpolantField:
    r"""A diffusion model of type ``target`` in τ from si_ref's field ``field(x, t)`` of ``path.interpolant()``."""

    def __init__(self, field_: Callable, path: DiffusionPath, field: str, target: str):
        if not callable(field_):
            raise TypeError(f"field_ must be a callable f(x, t); received {type(field_).__name__}.")
        if field not in INTERPOLANT_FIELDS:
            raise ValueError(f"field must be one of {INTERPOLANT_FIELDS}; received {field!r}.")
        source, sign = _DIFFUSION_OF[field]

        def model(x, tau):
            t = 1.0 - as_times(tau, "tau", meaning=TAU_MEANING)
            return sign * _model_output(field_, x, t[()] if t.ndim == 0 else t, "field_")
        self.converter = PredictionFromPrediction(model, path, source, target)

    def __call__(self, x, tau):
        return self.converter(x, tau)


class ReparametrisedPrediction:
    r"""A model trained on ``source_path`` used on ``target_path`` at the same log-SNR (module docstring).

    Called ``(x, tau)`` with τ the time of ``target_path``; returns the ``prediction_type``
    of ``target_path`` at (x, τ). ε- and x̂-predictions are unchanged by the input scaling;
    v, the score and the flow velocity are converted through (x̂, ε̂).

    Raises
    ------
    ValueError
        Where the target's log-SNR lies outside the source path's range.
    """

    def __init__(self, model: Callable, source_path: DiffusionPath, target_path: DiffusionPath,
                 prediction_type: str):
        if not callable(model):
            raise TypeError(f"model must be a callable model(x, tau); received {type(model).__name__}.")
        self.model = model
        self.source_path, self.target_path = _check_path(source_path), _check_path(target_path)
        self.prediction_type = _check_type(prediction_type, "prediction_type")

    def __call__(self, x, tau):
        x = as_points(x, "x")
        t = as_times(tau, "tau", meaning=TAU_MEANING)
        P, Q = self.source_path, self.target_path
        tau_p = np.asarray(P.tau_of_log_snr(Q.log_snr(t)))
        a_p, s_p, a_q, s_q = P._a(tau_p), P._sigma(tau_p), Q._a(t), Q._sigma(t)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(a_q > 0, a_p / np.where(a_q > 0, a_q, 1.0), s_p / np.where(s_q > 0, s_q, 1.0))
        x_p = x * np.reshape(scale, (-1, 1))
        n = x.shape[0]
        p = _model_output(self.model, x_p, tau_p[()] if tau_p.ndim == 0 else tau_p, "model")
        kind = self.prediction_type
        if kind in ("epsilon", "sample"):              # E[ε | x] and E[x_data | x] do not change with the scale
            return p
        qx, qe = _coefficients(kind, _column(a_q, n, "a"), _column(s_q, n, "sigma"),
                               *((_column(Q._a_dot(t), n, "a_dot"), _column(Q._sigma_dot(t), n, "sigma_dot"))
                                 if kind == "flow" else (None, None)))
        derivatives = dict(a_dot=P._a_dot(tau_p), sigma_dot=P._sigma_dot(tau_p)) if kind == "flow" else {}
        out = np.zeros_like(x)
        for target, coefficient in (("sample", qx), ("epsilon", qe)):   # only what the target needs
            if np.any(coefficient != 0.0):
                out = out + coefficient * convert_prediction(p, x_p, a=a_p, sigma=s_p, source=kind, target=target,
                                                             **derivatives)
        return out


# --- EDM preconditioning ----------------------------------------------------------------------------

class EDMPreconditioning(NamedTuple):
    """c_skip, c_out, c_in, c_noise of EDM (Karras et al. 2022, Table 1), each with the shape of σ."""

    c_skip: np.ndarray
    c_out: np.ndarray
    c_in: np.ndarray
    c_noise: np.ndarray


def edm_preconditioning(sigma, sigma_data: float = 0.5) -> EDMPreconditioning:
    r"""EDM's preconditioning (Karras et al. 2022, arXiv:2206.00364, Table 1 and eq. (7)).

    :math:`c_{\mathrm{skip}} = \sigma_d^2/(\sigma^2 + \sigma_d^2)`,
    :math:`c_{\mathrm{out}} = \sigma\sigma_d/\sqrt{\sigma^2 + \sigma_d^2}`,
    :math:`c_{\mathrm{in}} = 1/\sqrt{\sigma^2 + \sigma_d^2}`, :math:`c_{\mathrm{noise}} = \tfrac14\ln\sigma`,
    so that :math:`D(x; \sigma) = c_{\mathrm{skip}} x + c_{\mathrm{out}} F(c_{\mathrm{in}} x; c_{\mathrm{noise}})`.
    σ > 0 (c_noise is −inf at 0).
    """
    s = np.asarray(sigma)
    if s.dtype.kind not in "iuf":
        raise TypeError(f"sigma must be real numbers > 0; received dtype {s.dtype}. Pass floats.")
    s = s.astype(np.float64)
    if not np.isfinite(s).all() or (s <= 0).any():
        raise ValueError(f"sigma must be finite numbers > 0 (c_noise = ln(sigma)/4); received {sigma!r}. "
                         f"EDM's denoiser at sigma = 0 is the identity: skip the network there.")
    sd = as_positive_real(sigma_data, "sigma_data")
    total = s**2 + sd**2
    return EDMPreconditioning(sd**2 / total, s * sd / np.sqrt(total), 1.0 / np.sqrt(total), 0.25 * np.log(s))


def edm_network_target(denoised, x, sigma, sigma_data: float = 0.5) -> np.ndarray:
    r"""The network output F that makes EDM's D equal ``denoised``: :math:`F = (D - c_{\mathrm{skip}} x)/c_{\mathrm{out}}`
    (the training target of eq. (8)); x, denoised (n, d), σ > 0 scalar or (n,)."""
    x = as_points(x, "x")
    d = as_points(denoised, "denoised", d=x.shape[1])
    c = edm_preconditioning(np.reshape(np.asarray(sigma, dtype=np.float64), (-1, 1)), sigma_data)
    return (d - c.c_skip * x) / c.c_out


class EDMDenoiser:
    r"""EDM's denoiser :math:`D(x; \sigma) = c_{\mathrm{skip}} x + c_{\mathrm{out}} F(c_{\mathrm{in}} x, c_{\mathrm{noise}})`
    from a network ``F(x, c_noise)``; called ``(x, sigma)``."""

    def __init__(self, network: Callable, sigma_data: float = 0.5):
        if not callable(network):
            raise TypeError(f"network must be a callable F(x, c_noise); received {type(network).__name__}.")
        self.network, self.sigma_data = network, as_positive_real(sigma_data, "sigma_data")

    def __call__(self, x, sigma):
        x = as_points(x, "x")
        c = edm_preconditioning(np.reshape(np.asarray(sigma, dtype=np.float64), (-1, 1)), self.sigma_data)
        c_noise = c.c_noise[:, 0] if np.ndim(sigma) else c.c_noise[0, 0]
        return c.c_skip * x + c.c_out * _model_output(self.network, c.c_in * x, c_noise, "network")


# --- training-time quantities -------------------------------------------------------------------------

def add_noise(x_data, noise, a, sigma) -> np.ndarray:
    r""":math:`x = a\, x_{\mathrm{data}} + \sigma\varepsilon` (diffusers' ``add_noise``); arrays (n, d), a, σ scalar or (n,)."""
    x0 = as_points(x_data, "x_data")
    e = as_points(noise, "noise", d=x0.shape[1])
    n = x0.shape[0]
    return _column(a, n, "a", nonnegative=True) * x0 + _column(sigma, n, "sigma", nonnegative=True) * e


def velocity_target(x_data, noise, a, sigma) -> np.ndarray:
    r"""The v-prediction target :math:`v = a\varepsilon - \sigma x_{\mathrm{data}}` (Salimans & Ho 2022, Sec. 4;
    diffusers' ``get_velocity``)."""
    x0 = as_points(x_data, "x_data")
    e = as_points(noise, "noise", d=x0.shape[1])
    n = x0.shape[0]
    return _column(a, n, "a", nonnegative=True) * e - _column(sigma, n, "sigma", nonnegative=True) * x0
