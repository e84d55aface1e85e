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

from .._checks import as_levels, as_points, as_positive_real, as_times, call_model
from .case import LEVEL_FIX, PREDICTION_TYPES
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


def _column(value, name: str, n: int, **bounds) -> np.ndarray:
    """A level or its derivative, a scalar or one per row, as a read-only (n, 1) column (validated by as_levels)."""
    return np.broadcast_to(as_levels(value, name, n, **bounds), (n, 1))


def _points_like(value, name: str, like: np.ndarray, like_name: str) -> np.ndarray:
    """Points of the shape of ``like`` (validated by as_points), one row per row of ``like``."""
    out = as_points(value, name, d=like.shape[1])
    if out.shape != like.shape:
        raise ValueError(f"{name} must have the shape of {like_name}, {like.shape}; received shape {out.shape}. "
                         f"Pass one row per row of {like_name}.")
    return out


#: a and σ of a conversion: >= 0, with what they are in the messages.
_LEVEL = dict(low=0.0, fix=LEVEL_FIX)
#: ȧ and σ̇: finite, any sign.
_DERIVATIVE = dict(fix="a_dot and sigma_dot are da/dtau and dsigma/dtau of the path; sigma_dot is infinite at "
                       "tau = 0 on VP paths: use the 'flow' type at tau > 0 there.")


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
    a, sigma : float or array_like, shape (n,) or (n, 1)
        The level: :math:`x = a x_{\mathrm{data}} + \sigma\varepsilon`, a >= 0, σ >= 0.
    source, target : str
        Prediction types (:data:`si_ref.diffusion.PREDICTION_TYPES`).
    a_dot, sigma_dot : float or array_like, shape (n,) or (n, 1), optional
        :math:`da/d\tau`, :math:`d\sigma/d\tau` (finite), needed only for ``"flow"``.

    Returns
    -------
    ndarray, shape (n, d)

    Raises
    ------
    TypeError
        For non-real or integer arrays, or non-real levels.
    ValueError
        For an unknown type, mismatched shapes, NaN/inf, a negative a or σ, or a level where
        the conversion is undefined (determinant 0, e.g. ``"sample"`` from ``"epsilon"`` at a = 0).
    """
    x = as_points(x, "x")
    p = _points_like(prediction, "prediction", x, "x")
    n = x.shape[0]
    a_, s_ = _column(a, "a", n, **_LEVEL), _column(sigma, "sigma", n, **_LEVEL)
    if source == target:
        _check_type(source, "source")
        return p
    if "flow" not in (source, target):
        a_dot = sigma_dot = None                 # unused; σ̇ = inf at τ = 0 of VP paths must not raise
    a_dot_ = None if a_dot is None else _column(a_dot, "a_dot", n, **_DERIVATIVE)
    s_dot_ = None if sigma_dot is None else _column(sigma_dot, "sigma_dot", n, **_DERIVATIVE)
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

    ``model(x, tau)`` predicts ``source`` on :math:`x_\tau = a(\tau)\, x_{\mathrm{data}} +
    \sigma(\tau)\varepsilon`; the wrapper returns :func:`convert_prediction` of it at the level
    :math:`(a(\tau), \sigma(\tau))` (the module table; Salimans & Ho 2022, arXiv:2202.00512, App. D).

    Parameters
    ----------
    model : callable
        ``model(x, tau)`` returning an array of shape (n, d), for x of shape (n, d) and tau a
        float64 scalar or an array of shape (n,); it gets copies.
    path : DiffusionPath
        Gives a, σ (and ȧ, σ̇ for ``"flow"``) at τ.
    source, target : str
        Prediction types (:data:`si_ref.diffusion.PREDICTION_TYPES`).

    Calling ``wrapper(x, tau)``: x of shape (n, d), tau a float or an array of shape (n,) in
    [0, 1]; returns a new float64 array of shape (n, d).

    Raises
    ------
    TypeError
        For a model that is not callable or a path that is not a :class:`DiffusionPath`; when
        called, for non-real x or τ, or a model output that is not real numbers.
    ValueError
        For an unknown type; when called, for wrong shapes, NaN/inf in x or in the model output,
        τ outside [0, 1], or a level where the conversion is undefined (:func:`convert_prediction`).
    """

    def __init__(self, model: Callable, path: DiffusionPath, source: str, target: str):
        if not callable(model):
            raise TypeError(f"model must be a callable model(x, tau); received {type(model).__name__}.")
        self.model, self.path = model, _check_path(path)
        self.source, self.target = _check_type(source, "source"), _check_type(target, "target")

    def __call__(self, x, tau):
        x = as_points(x, "x")
        t = as_times(tau, "tau", meaning=TAU_MEANING)
        p = call_model(self.model, "model", x, t, level_name="tau")
        P = self.path
        return convert_prediction(p, x, a=P._a(t), sigma=P._sigma(t), source=self.source, target=self.target,
                                  a_dot=P._a_dot(t), sigma_dot=P._sigma_dot(t))


class InterpolantFieldFromPrediction:
    r"""si_ref's field ``field`` (:data:`INTERPOLANT_FIELDS`) of ``path.interpolant()`` from a diffusion model.

    :meth:`DiffusionPath.interpolant` is :math:`x_t = a(1 - t)\, x_1 + \sigma(1 - t)\, x_0` with
    base :math:`x_0 = \varepsilon \sim N(0, I)` and target :math:`x_1 = x_{\mathrm{data}}`
    (one-sided, γ = 0), so at τ = 1 − t: x̂0 = ε̂, x̂1 = x̂, the score is unchanged, and
    velocity = drift = :math:`dx/dt = -u` (u = dx/dτ, the ``"flow"`` prediction).

    Parameters
    ----------
    model : callable
        ``model(x, tau)`` predicting ``source``, as in :class:`PredictionFromPrediction`.
    path : DiffusionPath
    source : str
        The model's prediction type (:data:`si_ref.diffusion.PREDICTION_TYPES`).
    field : str
        One of :data:`INTERPOLANT_FIELDS`.

    Calling ``wrapper(x, t)``: x of shape (n, d), t a float or an array of shape (n,) in
    [0, 1] (si_ref's time); returns a new float64 array of shape (n, d).

    Raises
    ------
    TypeError, ValueError
        As :class:`PredictionFromPrediction`, and a ``ValueError`` for an unknown ``field``.
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
    r"""A diffusion model of type ``target`` in τ from si_ref's field ``field_(x, t)`` of ``path.interpolant()``.

    The inverse of :class:`InterpolantFieldFromPrediction`: at t = 1 − τ, ε̂ = x̂0, x̂ = x̂1, the
    score is unchanged and u = −velocity = −drift; the result is then converted to ``target``
    by :func:`convert_prediction`.

    Parameters
    ----------
    field_ : callable
        ``field_(x, t)`` returning an array of shape (n, d), for x of shape (n, d) and t a float64
        scalar or an array of shape (n,); it gets copies.
    path : DiffusionPath
    field : str
        What ``field_`` computes, one of :data:`INTERPOLANT_FIELDS`.
    target : str
        The prediction type returned (:data:`si_ref.diffusion.PREDICTION_TYPES`).

    Calling ``wrapper(x, tau)``: x of shape (n, d), tau a float or an array of shape (n,) in
    [0, 1]; returns a new float64 array of shape (n, d).

    Raises
    ------
    TypeError
        For a ``field_`` that is not callable or a path that is not a :class:`DiffusionPath`;
        when called, for non-real x or τ, or an output of ``field_`` that is not real numbers.
    ValueError
        For an unknown ``field`` or ``target``; when called, as :class:`PredictionFromPrediction`.
    """

    def __init__(self, field_: Callable, path: DiffusionPath, field: str, target: str):
        if not callable(field_):
            raise TypeError(f"field_ must be a callable f(x, t); received {type(field_).__name__}.")
        if field not in INTERPOLANT_FIELDS:
            raise ValueError(f"field must be one of {INTERPOLANT_FIELDS}; received {field!r}.")
        source, sign = _DIFFUSION_OF[field]

        def model(x, tau):                     # x: the validated copy PredictionFromPrediction passes
            t = 1.0 - as_times(tau, "tau", meaning=TAU_MEANING)
            return sign * call_model(field_, "field_", x, t, level_name="t")
        self.converter = PredictionFromPrediction(model, path, source, target)

    def __call__(self, x, tau):
        return self.converter(x, tau)


class ReparametrisedPrediction:
    r"""A model trained on ``source_path`` used on ``target_path`` at the same log-SNR.

    The law of ε given :math:`x/a = x_{\mathrm{data}} + (\sigma/a)\varepsilon` depends on the level
    only through σ/a, so two Gaussian diffusion paths with the same signal-to-noise ratio
    :math:`a^2/\sigma^2` define the same denoising problem up to the scale of x (Kingma, Salimans,
    Poole & Ho 2021, "Variational Diffusion Models", arXiv:2107.00630, Sec. 5.1, equivalence of
    diffusion models in continuous time):

    .. math::

        \hat\varepsilon_Q(x, \tau_Q) = \hat\varepsilon_P\big(x\, a_P(\tau_P)/a_Q(\tau_Q),\ \tau_P\big),
        \qquad \lambda_P(\tau_P) = \lambda_Q(\tau_Q),

    exact for any data; where :math:`a_Q = 0` the input is scaled by :math:`\sigma_P/\sigma_Q`.
    ε- and x̂-predictions are unchanged by the input scaling; v, the score and the flow
    velocity are converted through (x̂, ε̂) at the two levels.

    Parameters
    ----------
    model : callable
        ``model(x, tau)`` predicting ``prediction_type`` on ``source_path``, as in
        :class:`PredictionFromPrediction` (called at the scaled x and at τ_P).
    source_path, target_path : DiffusionPath
    prediction_type : str
        One of :data:`si_ref.diffusion.PREDICTION_TYPES`, for the model and the result.

    Calling ``wrapper(x, tau)``: x of shape (n, d), tau (the time of ``target_path``) a float or
    an array of shape (n,) in [0, 1]; returns a new float64 array of shape (n, d).

    Raises
    ------
    TypeError
        For a model that is not callable or paths that are not :class:`DiffusionPath`; when
        called, for non-real x or τ, or a model output that is not real numbers.
    ValueError
        For an unknown ``prediction_type``; when called, where the target's log-SNR lies
        outside the source path's range, for wrong shapes, NaN/inf in x or in the model
        output, or τ outside [0, 1].
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
        p = call_model(self.model, "model", x_p, tau_p, level_name="tau")
        kind = self.prediction_type
        if kind in ("epsilon", "sample"):              # E[ε | x] and E[x_data | x] do not change with the scale
            return p
        qx, qe = _coefficients(kind, _column(a_q, "a", n), _column(s_q, "sigma", n),
                               *((_column(Q._a_dot(t), "a_dot", n, **_DERIVATIVE),
                                  _column(Q._sigma_dot(t), "sigma_dot", n, **_DERIVATIVE))
                                 if kind == "flow" else (None, None)))
        derivatives = dict(a_dot=P._a_dot(tau_p), sigma_dot=P._sigma_dot(tau_p)) if kind == "flow" else {}
        out = np.zeros_like(x)
        for target, coefficient in (("sample", qx), ("epsilon", qe)):   # only what the target needs
            if np.any(coefficient != 0.0):
                out = out + coefficient * convert_prediction(p, x_p, a=a_p, sigma=s_p, source=kind, target=target,
                                                             **derivatives)
        return out


# --- EDM preconditioning ----------------------------------------------------------------------------

#: EDM's σ: > 0, since c_noise = ln(σ)/4.
_EDM_SIGMA = dict(low=0.0, low_open=True,
                  fix="c_noise = ln(sigma)/4 is -inf at sigma = 0, where EDM's denoiser is the identity: "
                      "skip the network there.")


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

    Parameters
    ----------
    sigma : float or array_like
        σ > 0, any shape (c_noise is −inf at 0).
    sigma_data : float
        :math:`\sigma_d > 0`, the standard deviation of the data (0.5 in Karras et al.).

    Returns
    -------
    EDMPreconditioning
        Four float64 arrays of the shape of ``sigma``.

    Raises
    ------
    TypeError
        For non-real σ (bool, complex, a string) or σ_d.
    ValueError
        For σ <= 0, NaN or inf, or σ_d <= 0.
    """
    s = as_levels(sigma, "sigma", **_EDM_SIGMA)
    sd = as_positive_real(sigma_data, "sigma_data")
    total = s**2 + sd**2
    return EDMPreconditioning(sd**2 / total, s * sd / np.sqrt(total), 1.0 / np.sqrt(total), 0.25 * np.log(s))


def edm_network_target(denoised, x, sigma, sigma_data: float = 0.5) -> np.ndarray:
    r"""The network output F that makes EDM's D equal ``denoised``: :math:`F = (D - c_{\mathrm{skip}} x)/c_{\mathrm{out}}`
    (the training target of Karras et al. 2022, eq. (8)).

    x and denoised have shape (n, d); σ > 0 is a scalar or has shape (n,) or (n, 1); returns
    shape (n, d). Raises ``TypeError`` for non-real input and ``ValueError`` for wrong shapes,
    NaN/inf or σ <= 0.
    """
    x = as_points(x, "x")
    d = _points_like(denoised, "denoised", x, "x")
    c = edm_preconditioning(as_levels(sigma, "sigma", x.shape[0], **_EDM_SIGMA), sigma_data)
    return (d - c.c_skip * x) / c.c_out


class EDMDenoiser:
    r"""EDM's denoiser from a network F (Karras et al. 2022, arXiv:2206.00364, eq. (7) and Table 1).

    .. math::

        D(x; \sigma) = c_{\mathrm{skip}}(\sigma)\, x
                     + c_{\mathrm{out}}(\sigma)\, F\big(c_{\mathrm{in}}(\sigma)\, x,\ c_{\mathrm{noise}}(\sigma)\big)

    with the coefficients of :func:`edm_preconditioning`; D estimates
    :math:`E[x_{\mathrm{data}} \mid x_{\mathrm{data}} + \sigma\varepsilon = x]` (a = 1).

    Parameters
    ----------
    network : callable
        ``F(x_in, c_noise)`` returning an array of shape (n, d), for x_in of shape (n, d) and
        c_noise a float64 scalar or an array of shape (n,); it gets copies.
    sigma_data : float
        :math:`\sigma_d > 0` (0.5 in Karras et al.).

    Calling ``denoiser(x, sigma)``: x of shape (n, d), σ > 0 a float or an array of shape (n,)
    or (n, 1); returns a new float64 array of shape (n, d).

    Raises
    ------
    TypeError
        For a network that is not callable or a non-real σ_d; when called, for non-real x or σ,
        or a network output that is not real numbers.
    ValueError
        For σ_d <= 0; when called, for wrong shapes, NaN/inf in x, σ or the network output, or
        σ <= 0.
    """

    def __init__(self, network: Callable, sigma_data: float = 0.5):
        if not callable(network):
            raise TypeError(f"network must be a callable F(x, c_noise); received {type(network).__name__}.")
        self.network, self.sigma_data = network, as_positive_real(sigma_data, "sigma_data")

    def __call__(self, x, sigma):
        x = as_points(x, "x")
        levels = as_levels(sigma, "sigma", x.shape[0], **_EDM_SIGMA)     # 0-d or (n, 1)
        c = edm_preconditioning(levels, self.sigma_data)
        c_noise = c.c_noise[:, 0] if levels.ndim else c.c_noise
        output = call_model(self.network, "network", c.c_in * x, c_noise, level_name="c_noise")
        return c.c_skip * x + c.c_out * output


# --- training-time quantities -------------------------------------------------------------------------

def add_noise(x_data, noise, a, sigma) -> np.ndarray:
    r"""A point of the path: :math:`x = a\, x_{\mathrm{data}} + \sigma\varepsilon` (diffusers' ``add_noise``).

    For a VP table, :math:`a = \sqrt{\bar\alpha_n}` and :math:`\sigma = \sqrt{1 - \bar\alpha_n}`: a
    draw of :math:`q(x_n \mid x_0) = N(\sqrt{\bar\alpha_n}\, x_0, (1 - \bar\alpha_n) I)` (Ho, Jain &
    Abbeel 2020, arXiv:2006.11239, eq. (4)).

    Parameters
    ----------
    x_data : array_like, shape (n, d)
    noise : array_like, shape (n, d)
        ε, standard normal, given.
    a, sigma : float or array_like, shape (n,) or (n, 1)
        a >= 0, σ >= 0.

    Returns
    -------
    ndarray, shape (n, d)

    Raises
    ------
    TypeError
        For non-real or integer arrays, or non-real a, σ.
    ValueError
        For wrong shapes, NaN/inf, or a negative a or σ.
    """
    x0 = as_points(x_data, "x_data")
    e = _points_like(noise, "noise", x0, "x_data")
    n = x0.shape[0]
    return _column(a, "a", n, **_LEVEL) * x0 + _column(sigma, "sigma", n, **_LEVEL) * e


def velocity_target(x_data, noise, a, sigma) -> np.ndarray:
    r"""The v-prediction target :math:`v = a\varepsilon - \sigma x_{\mathrm{data}}` (Salimans & Ho 2022,
    arXiv:2202.00512, Sec. 4; diffusers' ``get_velocity``).

    Parameters
    ----------
    x_data : array_like, shape (n, d)
    noise : array_like, shape (n, d)
        ε, the noise of :math:`x = a\, x_{\mathrm{data}} + \sigma\varepsilon`.
    a, sigma : float or array_like, shape (n,) or (n, 1)
        a >= 0, σ >= 0.

    Returns
    -------
    ndarray, shape (n, d)

    Raises
    ------
    TypeError
        For non-real or integer arrays, or non-real a, σ.
    ValueError
        For wrong shapes, NaN/inf, or a negative a or σ.
    """
    x0 = as_points(x_data, "x_data")
    e = _points_like(noise, "noise", x0, "x_data")
    n = x0.shape[0]
    return _column(a, "a", n, **_LEVEL) * e - _column(sigma, "sigma", n, **_LEVEL) * x0
