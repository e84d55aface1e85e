r"""Quadratic objectives whose minimisers are the fields, as Monte Carlo estimators.

For a target quantity y with :math:`f = E[y \mid x_t]`, the objective

.. math::

    L(\hat f) = \int_0^1 E\left[\tfrac12 |\hat f(x_t, t)|^2 - y \cdot \hat f(x_t, t)\right] dt

is minimised by :math:`\hat f = f`, and :math:`L(f + \delta) - L(f) = \tfrac12 E|\delta|^2`
(arXiv:2303.08797v3, eqs. (2.13), (2.16), (2.19), (2.29); README, Conventions):

==============  ==========================================  ===================================
field           regression target y                           objective
==============  ==========================================  ===================================
drift b         :math:`\partial_t I + \dot\gamma z`           :math:`L_b`
velocity v      :math:`\partial_t I`                          :math:`L_v`
noise η         :math:`z`                                     :math:`L_\eta`
score s         :math:`-z/\gamma`                             :math:`L_s = E[\tfrac12|\hat s|^2 + \gamma^{-1} z\cdot\hat s]`
denoisers       :math:`x_0`, :math:`x_1`
==============  ==========================================  ===================================

Antithetic forms average the sample at :math:`x_+ = I + \gamma z` (target
:math:`y(z)`) and at :math:`x_- = I - \gamma z` (target :math:`y(-z)`); the terms
:math:`\dot\gamma z\cdot(\hat b(x_+) - \hat b(x_-))/2` and
:math:`\gamma^{-1} z\cdot(\hat s(x_+) - \hat s(x_-))/2` stay bounded as γ → 0,
so the variance stays finite for the Brownian γ, whose :math:`E|\dot\gamma z|^2`
diverges at the endpoints (arXiv:2303.08797v3, Sec. 6.1).

The plain mean-square forms :math:`\tfrac12 E|\hat f - y|^2 = L(\hat f) + \tfrac12 E|y|^2`
differ from L by a constant; their minimum, :math:`\tfrac12 E|f - y|^2 =
\tfrac12 E[\operatorname{Var}(y \mid x_t)]`, is the irreducible part.

Times are drawn uniformly, so the estimators estimate the time integral over
[t_min, t_max] divided by its length.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ._checks import (as_bool, as_count, as_points, as_real_scalar, as_time_scalar, as_times, call_model, check_rng,
                      enough_memory)
from .interpolants import Interpolant

__all__ = ["Batch", "LossEstimate", "FIELD_TARGETS", "sample_batch", "regression_target", "objective",
           "mean_square_loss"]

#: Names of the fields with a quadratic objective.
FIELD_TARGETS = ("drift", "velocity", "noise", "score", "denoise_x0", "denoise_x1")


class Batch(NamedTuple):
    """Training samples: times t (n,), endpoints x0, x1 and latent z, each (n, d)."""

    t: np.ndarray
    x0: np.ndarray
    x1: np.ndarray
    z: np.ndarray


class LossEstimate(NamedTuple):
    """A Monte Carlo estimate: its ``mean`` and ``standard_error`` (std / √n)."""

    mean: float
    standard_error: float


def sample_batch(interpolant: Interpolant, base, target, n: int, rng, *, t_min=0.0, t_max=1.0) -> Batch:
    r"""Draw n independent (t, x0, x1, z): t ~ U[t_min, t_max], x0 ~ base, x1 ~ target, z ~ N(0, I).

    ``base`` and ``target`` have ``sample(n, rng)`` (e.g. ``Gaussian``, ``GaussianMixture``);
    for a mirror interpolant x0 is x1 (``base`` is ignored); otherwise ``base=None``
    means N(0, I) (the noise of one-sided interpolants). ``t_min`` and ``t_max`` are
    times in [0, 1] (numbers or 0-d arrays).

    Raises
    ------
    TypeError
        For an ``interpolant`` that is not an Interpolant, a ``base`` or ``target``
        without ``sample(n, rng)``, a non-integer ``n``, non-numeric times, or an
        ``rng`` that is not a ``numpy.random.Generator``.
    ValueError
        For n < 1, times outside [0, 1] or not ordered, samples of the wrong shape,
        or an n whose arrays would not fit in memory (the memory is named).
    """
    _check_interpolant(interpolant)
    check_rng(rng)
    n = as_count(n, "n")
    t_min, t_max = as_time_scalar(t_min, "t_min"), as_time_scalar(t_max, "t_max")
    if not 0.0 <= t_min < t_max <= 1.0:
        raise ValueError(f"t_min and t_max must satisfy 0 <= t_min < t_max <= 1; received t_min={t_min!r}, t_max={t_max!r}.")
    mirror = interpolant.kind == "mirror"
    for name, dist in (("target", target), ("base", None if mirror else base)):
        if dist is not None and not callable(getattr(dist, "sample", None)):
            raise TypeError(
                f"{name} must be a distribution with a method sample(n, rng), such as si_ref.Gaussian or "
                f"si_ref.GaussianMixture; received {type(dist).__name__}."
            )
    d = getattr(target, "dim", 1)
    d = d if isinstance(d, (int, np.integer)) and d > 0 else 1
    # t, x0, x1, z and the samplers' temporaries: about 4 arrays of n·d numbers
    with enough_memory(8 * n * (4 * d + 1), f"n={n} samples of dimension {d}", "draw smaller batches."):
        x1 = as_points(target.sample(n, rng), "target.sample(n, rng)")
        if x1.shape[0] != n:
            raise ValueError(f"target.sample(n, rng) must return n = {n} rows; received shape {x1.shape}.")
        if mirror:
            x0 = x1
        elif base is None:
            x0 = rng.standard_normal(x1.shape)
        else:
            x0 = as_points(base.sample(n, rng), "base.sample(n, rng)", d=x1.shape[1])
            if x0.shape[0] != n:
                raise ValueError(f"base.sample(n, rng) must return n = {n} rows; received shape {x0.shape}.")
        t = t_min + (t_max - t_min) * rng.random(n)
        return Batch(t, x0, x1, rng.standard_normal(x1.shape))


def _check_interpolant(interpolant):
    if not isinstance(interpolant, Interpolant):
        raise TypeError(
            f"interpolant must be an Interpolant such as si_ref.LinearInterpolant(si_ref.BrownianGamma()); "
            f"received {type(interpolant).__name__}."
        )
    return interpolant


def _check_batch(batch: Batch) -> Batch:
    if not isinstance(batch, Batch):
        raise TypeError(f"batch must be a si_ref.losses.Batch (from sample_batch); received {type(batch).__name__}.")
    x1 = as_points(batch.x1, "batch.x1")
    x0 = as_points(batch.x0, "batch.x0", d=x1.shape[1])
    z = as_points(batch.z, "batch.z", d=x1.shape[1])
    t = as_times(batch.t, "batch.t")
    if not (x0.shape == x1.shape == z.shape) or t.shape != (x1.shape[0],):
        raise ValueError(
            f"batch arrays must share n: t {t.shape}, x0 {x0.shape}, x1 {x1.shape}, z {z.shape}. "
            f"Build batches with sample_batch."
        )
    if x1.shape[0] == 0:
        raise ValueError("batch must contain at least one sample; received n = 0.")
    return Batch(t, x0, x1, z)


def regression_target(name: str, interpolant: Interpolant, batch: Batch, sign: float = 1.0) -> np.ndarray:
    r"""The target y of field ``name`` for the batch, with z replaced by ``sign * z``; shape (n, d).

    Raises ``ValueError`` where it is undefined: the score target :math:`-z/\gamma` at
    γ = 0, and the drift target at times where :math:`\dot\gamma` is infinite; ``TypeError``
    for an ``interpolant`` or ``batch`` of the wrong type.
    """
    if name not in FIELD_TARGETS:
        raise ValueError(f"name must be one of {list(FIELD_TARGETS)}; received {name!r}.")
    I = _check_interpolant(interpolant)
    t, x0, x1, z = _check_batch(batch)
    sign = as_real_scalar(sign, "sign")
    z = sign * z
    if name == "drift":
        return I.interpolant_dot(t, x0, x1, z)
    if name == "velocity":
        return I.interpolant_partial_t(t, x0, x1)
    if name == "noise":
        return z.copy()
    if name == "score":
        gamma = I.gamma(t)
        if (gamma == 0).any():
            raise ValueError(
                f"the score target -z/gamma is undefined at t = {np.unique(t[gamma == 0]).tolist()[:5]} "
                f"where gamma = 0; draw times from (0, 1) (sample_batch with t_min > 0 and t_max < 1)."
            )
        return -z / gamma[:, None]
    if name == "denoise_x0":
        return x0.copy()
    if name == "denoise_x1":
        return x1.copy()
    raise ValueError(f"name must be one of {list(FIELD_TARGETS)}; received {name!r}.")


def _field_values(field, x, t):
    """The field at (x, t), through the shared check of user fields (:func:`si_ref._checks.call_model`)."""
    return call_model(field, "the field", x, t, hint="If it is singular at an endpoint, draw times away from it "
                                                     "(sample_batch with t_min > 0 or t_max < 1).")


def _per_sample(name, field, interpolant, batch, antithetic, quadratic):
    """quadratic(f̂(x, t), y) per sample; antithetic: the mean over z and −z."""
    t, x0, x1, z = batch
    signs = (1.0, -1.0) if antithetic else (1.0,)
    with np.errstate(over="ignore", invalid="ignore"):   # overflow is refused by _estimate
        values = [quadratic(_field_values(field, interpolant.interpolant(t, x0, x1, sign * z), t),
                            regression_target(name, interpolant, batch, sign)) for sign in signs]
        return sum(values) / len(values)


def _estimate(values) -> LossEstimate:
    n = values.size
    with np.errstate(over="ignore", invalid="ignore"):
        mean = float(values.mean())
        error = float(values.std(ddof=1) / np.sqrt(n)) if n > 1 else float("inf")
    if not np.isfinite(values).all() or not np.isfinite(mean) or not (n == 1 or np.isfinite(error)):
        raise ValueError(
            "the loss overflows float64 (field values or targets near 1e154 or beyond); rescale the "
            "data or the field."
        )
    return LossEstimate(mean, error)


def _check_loss_arguments(name, field, interpolant, batch, antithetic):
    if name not in FIELD_TARGETS:
        raise ValueError(f"name must be one of {list(FIELD_TARGETS)}; received {name!r}.")
    if not callable(field):
        raise TypeError(f"field must be a callable f(x, t) returning shape (n, d); received {field!r}.")
    return _check_interpolant(interpolant), _check_batch(batch), as_bool(antithetic, "antithetic")


def objective(name: str, field: Callable, interpolant: Interpolant, batch: Batch, *, antithetic=False) -> LossEstimate:
    r"""Monte Carlo estimate of :math:`L(\hat f) = E[\tfrac12|\hat f|^2 - y\cdot\hat f]` for field ``name``.

    Parameters
    ----------
    name : str
        One of ``FIELD_TARGETS``.
    field : callable
        :math:`\hat f(x, t)`, (n, d) and (n,) to (n, d).
    interpolant : Interpolant
    batch : Batch
    antithetic : bool
        Average over :math:`x_\pm = I \pm \gamma z` (targets with ±z).

    Raises
    ------
    TypeError
        For a field that is not callable or returns non-real values, an ``interpolant``
        or ``batch`` of the wrong type, or a non-bool ``antithetic``.
    ValueError
        For an unknown name, a bad batch, a field returning the wrong shape or NaN/inf,
        a target undefined at a batch time, or a loss beyond the float64 range.
    """
    interpolant, batch, antithetic = _check_loss_arguments(name, field, interpolant, batch, antithetic)
    values = _per_sample(name, field, interpolant, batch, antithetic,
                         lambda f, y: 0.5 * np.sum(f * f, axis=1) - np.sum(y * f, axis=1))
    return _estimate(values)


def mean_square_loss(name: str, field: Callable, interpolant: Interpolant, batch: Batch, *, antithetic=False) -> LossEstimate:
    r"""Monte Carlo estimate of the plain form :math:`\tfrac12 E|\hat f - y|^2 = L(\hat f) + \tfrac12 E|y|^2`.

    Arguments and errors as in :func:`objective`.
    """
    interpolant, batch, antithetic = _check_loss_arguments(name, field, interpolant, batch, antithetic)
    values = _per_sample(name, field, interpolant, batch, antithetic,
                         lambda f, y: 0.5 * np.sum((f - y) ** 2, axis=1))
    return _estimate(values)
