r"""Regression targets as checkable quantities: what a training loop regresses each head on.

A peer's training code draws (t, x0, x1, z), forms x_t = α(t) x0 + β(t) x1 + γ(t) z and
regresses the head f̂(x_t, t) on a target y whose conditional mean is the field
(arXiv:2303.08797v3, eqs. (2.13), (2.16), (2.19), (2.29); :func:`si_ref.losses.regression_target`):

=====================  ===========================================  ==========================
quantity               target y (shape (n, d))                      E[y | x_t = x]
=====================  ===========================================  ==========================
``target_drift``       d x_t/dt = α̇ x0 + β̇ x1 + γ̇ z                   the drift b
``target_velocity``    ∂_t I = α̇ x0 + β̇ x1                             the velocity v
``target_noise``       z                                            the noise η = −γ s
``target_score``       −z/γ  (γ > 0)                                the score s
``target_denoise_x0``  x0                                           x̂0
``target_denoise_x1``  x1                                           x̂1
=====================  ===========================================  ==========================

Each is called ``f(t, x0, x1, z) -> (n, d)`` with t a float or an array of shape (n,)
(row i at time t[i]) and x0, x1, z of shape (n, d); the reference is an
:class:`~si_ref.interpolants.Interpolant`. For a mirror interpolant (x_t = x1 + γ z) the
base and the target are the same data, so the checker draws x0 = x1 (as
:func:`si_ref.losses.sample_batch` does): returning x0 or x1 for ``target_denoise_x0`` is
then the same. The drift target is checked where γ̇ is finite (not at t = 0, 1 for the
Brownian schedules); the score target on [INTERIOR, 1 − INTERIOR] for interpolants with a
nonzero γ.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np

from .. import references as named
from .. import strategies as sis
from ..interpolants import Interpolant
from ..losses import Batch, regression_target
from .example import Example, column
from .paths import gamma_dot_finite
from .quantity import PathQuantity, interior
from .variants import (additive_guard, constant_factor, mistake, negated, sign_flip, swapped,
                       time_reversed, wrong_axis)

__all__ = ["TargetQuantity", "target_quantities", "target_value", "TARGET_NAMES"]

#: The fields with a regression target, in the order of :data:`si_ref.losses.FIELD_TARGETS`.
TARGET_NAMES = ("drift", "velocity", "noise", "score", "denoise_x0", "denoise_x1")


def _score_target(interpolant: Interpolant, t, z: np.ndarray) -> np.ndarray:
    gamma = np.asarray(interpolant.gamma(t), dtype=np.float64)
    if np.any(gamma == 0.0):
        zero = np.unique(np.broadcast_to(np.asarray(t, dtype=np.float64), gamma.shape)[gamma == 0.0])
        raise ValueError(f"the score target −z/γ is undefined at t = {zero.tolist()[:5]}, where γ(t) = 0; "
                         f"use times where γ > 0.")
    return -z / (gamma if gamma.ndim == 0 else gamma[:, None])


def target_value(name: str, interpolant: Interpolant, t, x0, x1, z) -> np.ndarray:
    r"""The regression target y of field ``name`` at (t, x0, x1, z).

    Parameters
    ----------
    name : str
        One of :data:`TARGET_NAMES`.
    interpolant : Interpolant
        Defines x_t = α x0 + β x1 + γ z.
    t : float or ndarray, shape (n,)
    x0, x1, z : ndarray, shape (n, d)

    Returns
    -------
    ndarray, shape (n, d)
        α̇ x0 + β̇ x1 + γ̇ z (drift), α̇ x0 + β̇ x1 (velocity), z (noise), −z/γ (score),
        x0 or x1 (denoisers).

    Raises
    ------
    ValueError
        For an unknown ``name``; for the score where γ(t) = 0 and for the drift where γ̇(t)
        is infinite (the message names the times).

    Examples
    --------
    >>> import numpy as np
    >>> from si_ref import references
    >>> I = references.interpolant("linear-brownian")
    >>> x0, x1, z = np.array([[1.0]]), np.array([[3.0]]), np.array([[0.5]])
    >>> target_value("velocity", I, 0.5, x0, x1, z)      # x1 − x0
    array([[2.]])
    >>> target_value("score", I, 0.5, x0, x1, z)         # −z/γ with γ(½) = ½
    array([[-1.]])
    """
    if name == "drift":
        return interpolant.interpolant_dot(t, x0, x1, z)
    if name == "velocity":
        return interpolant.interpolant_partial_t(t, x0, x1)
    if name == "noise":
        return np.array(z, dtype=np.float64)
    if name == "score":
        return _score_target(interpolant, t, np.asarray(z, dtype=np.float64))
    if name == "denoise_x0":
        return np.array(x0, dtype=np.float64)
    if name == "denoise_x1":
        return np.array(x1, dtype=np.float64)
    raise ValueError(f"name must be one of {list(TARGET_NAMES)}; received {name!r}.")


def _coupled(ex: Example) -> Example:
    """On a mirror interpolant the base is the target: x0 = x1 (as ``losses.sample_batch`` draws them)."""
    if ex.reference.kind == "mirror":
        return replace(ex, x0=ex.x1.copy())
    return ex


@dataclass(frozen=True)
class TargetQuantity(PathQuantity):
    """The regression target of field ``target``, called ``f(t, x0, x1, z) -> (n, d)``.

    Inputs as for :class:`~si_ref.checking.quantity.PathQuantity` (unit points for x0,
    x1 and z; at the fixed inputs zeros, ones and far rows |x| = 1e3), except that x0 = x1
    on a mirror interpolant. si_ref's implementation is :func:`si_ref.losses.regression_target`.
    """

    level: ClassVar[str] = "interpolant"
    target: str = ""

    def reference_strategy(self):
        return sis.interpolants(families=self.families).filter(self.accepts)

    def fixed_references(self) -> list:
        return [named.INTERPOLANTS[k] for k in sorted(named.INTERPOLANTS) if self.accepts(named.INTERPOLANTS[k])]

    def draw(self, data, reference, eps, span):
        return _coupled(super().draw(data, reference, eps, span))

    def fixed_examples(self, reference, eps, span):
        return [_coupled(ex) for ex in super().fixed_examples(reference, eps, span)]

    def own_implementation(self, eps=None):
        name = self.target

        def make(interpolant):
            def target(t, x0, x1, z):
                n = np.shape(x1)[0]
                times = np.array(np.broadcast_to(np.asarray(t, dtype=np.float64), (n,)))
                return regression_target(name, interpolant, Batch(times, x0, x1, z))
            target.__name__ = f"si_ref_target_{name}"
            return target
        return make


# --- values of the targets and of their mistakes ---------------------------------------------------

def _exact(name):
    def value(ex: Example) -> np.ndarray:
        return target_value(name, ex.reference, ex.t, ex.x0, ex.x1, ex.z)
    return value


def _gamma(ex):
    return column(ex.reference.gamma(ex.t), ex)


def _gamma_positive(fn):
    """``fn`` where γ(t) > 0 on every row; None elsewhere (no evidence either way)."""
    def value(ex):
        return fn(ex) if np.all(np.asarray(ex.reference.gamma(ex.t)) > 0) else None
    return value


def _with_noise_term(ex):
    """∂_t I + γ̇ z where γ̇ is finite on every row (None elsewhere): the drift's target given for ∂_t I."""
    I = ex.reference
    gamma_dot = np.asarray(I.gamma_dot(ex.t), dtype=np.float64)
    if not np.all(np.isfinite(gamma_dot)):
        return None
    return I.interpolant_partial_t(ex.t, ex.x0, ex.x1) + column(gamma_dot, ex) * ex.z


def _score_over(power):
    """−z/γ^power where γ > 0."""
    return _gamma_positive(lambda ex: -ex.z / _gamma(ex) ** power)


def _accepts_nonzero_gamma(interpolant) -> bool:
    return not interpolant.gamma_schedule.is_zero


def target_quantities() -> list:
    """The six regression targets (drift, velocity, noise, score, denoisers) as :class:`TargetQuantity` objects.

    Mistakes, most specific first (the first matching one is the main diagnosis):

    * drift, dx_t/dt: ``noise-term-missing`` (∂_t I), ``sign-flip``, ``alpha-beta-swapped``,
      ``time-reversed``, ``t-wrong-axis``, ``constant-factor``;
    * velocity, ∂_t I: ``noise-term-included`` (∂_t I + γ̇ z, where γ̇ is finite), then as the drift;
    * noise, z: ``noise-sign`` (−z), ``wrong-target`` (the score's −z/γ), ``constant-factor``;
    * score, −z/γ: ``sign-flip`` (+z/γ), ``score-scaling`` (−z, −z/γ², z), ``time-reversed``
      (−z/γ(1 − t)), ``t-wrong-axis``, ``additive-guard`` (−z/(γ + δ)), ``constant-factor``;
    * denoisers x0, x1: ``denoisers-swapped``, ``sign-flip``, ``constant-factor``.
    """
    drift, velocity, noise, score = (_exact(n) for n in ("drift", "velocity", "noise", "score"))
    x0_target, x1_target = _exact("denoise_x0"), _exact("denoise_x1")

    def derivative_mistakes(fn):
        return (sign_flip(fn), swapped(fn), time_reversed(fn), wrong_axis(fn), constant_factor(fn))

    return [
        TargetQuantity(
            "target_drift",
            "d x_t/dt = α̇ x0 + β̇ x1 + γ̇ z, the regression target of the drift b = E[d x_t/dt | x_t]; "
            "called f(t, x0, x1, z), defined where γ̇ is finite.",
            drift, (mistake("noise-term-missing", ("∂_t I = α̇ x0 + β̇ x1: γ̇ z left out", velocity)),)
            + derivative_mistakes(drift),
            domain=lambda interpolant: gamma_dot_finite(interpolant.gamma_schedule), target="drift",
            plain="y = dx_t/dt = α̇ x0 + β̇ x1 + γ̇ z: what the drift b is regressed on"),
        TargetQuantity(
            "target_velocity",
            "∂_t I = α̇ x0 + β̇ x1, the regression target of the velocity v = E[∂_t I | x_t]; called "
            "f(t, x0, x1, z) (z is not used).",
            velocity, (mistake("noise-term-included", ("∂_t I + γ̇ z: the drift's target", _with_noise_term)),)
            + derivative_mistakes(velocity),
            target="velocity", plain="y = ∂_t I = α̇ x0 + β̇ x1: what the velocity v is regressed on"),
        TargetQuantity(
            "target_noise",
            "z, the regression target of the noise predictor η = E[z | x_t] = −γ s; called f(t, x0, x1, z).",
            noise, (
                mistake("noise-sign", ("−z: the target of −E[z | x_t]", negated(noise))),
                mistake("wrong-target", ("−z/γ: the score's target given for η", _score_over(1))),
                constant_factor(noise)),
            target="noise", plain="y = z: what the noise predictor η = E[z | x_t] is regressed on"),
        TargetQuantity(
            "target_score",
            "−z/γ, the regression target of the score s = E[−z/γ | x_t] = ∇ log ρ_t, where γ > 0; called "
            "f(t, x0, x1, z), checked on [INTERIOR, 1 − INTERIOR] for interpolants with a nonzero γ.",
            score, (
                sign_flip(score),
                mistake("score-scaling", ("−z: the division by γ forgotten", _gamma_positive(negated(noise))),
                        ("−z/γ²: divided by the variance γ² instead of γ", _score_over(2)),
                        ("z: the noise target given for the score", _gamma_positive(noise))),
                time_reversed(score, (1.0,)), wrong_axis(score),
                additive_guard(score, _gamma, "γ"),
                constant_factor(score)),
            domain=interior, accepts=_accepts_nonzero_gamma, target="score",
            plain="y = −z/γ (γ > 0): what the score s = ∇ log ρ_t is regressed on"),
        TargetQuantity(
            "target_denoise_x0", "x0, the regression target of the denoiser x̂0 = E[x0 | x_t]; called "
            "f(t, x0, x1, z) (on a mirror path x0 = x1).",
            x0_target, (mistake("denoisers-swapped", ("x1 returned", x1_target)), sign_flip(x0_target),
                        constant_factor(x0_target)),
            target="denoise_x0", plain="y = x0: what the base denoiser x̂0 = E[x0 | x_t] is regressed on"),
        TargetQuantity(
            "target_denoise_x1", "x1, the regression target of the denoiser x̂1 = E[x1 | x_t]; called "
            "f(t, x0, x1, z).",
            x1_target, (mistake("denoisers-swapped", ("x0 returned", x0_target)), sign_flip(x1_target),
                        constant_factor(x1_target)),
            target="denoise_x1", plain="y = x1: what the target denoiser x̂1 = E[x1 | x_t] is regressed on"),
    ]
