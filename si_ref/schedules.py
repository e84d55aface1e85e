r"""Gamma schedules: the scale :math:`\gamma(t)` of the latent noise :math:`\gamma(t) z`.

Every stochastic interpolant :math:`x_t = \alpha(t) x_0 + \beta(t) x_1 + \gamma(t) z`
(Albergo, Boffi & Vanden-Eijnden, arXiv:2303.08797v3, Def. 2.1, eq. (2.1))
needs :math:`\gamma(0) = \gamma(1) = 0`. Each schedule below gives, side by
side and in closed form,

* ``gamma(t)``            :math:`\gamma(t)`,
* ``gamma_dot(t)``        :math:`\dot\gamma(t)`,
* ``gamma_gamma_dot(t)``  :math:`\gamma(t)\dot\gamma(t)`.

The product :math:`\gamma\dot\gamma` is what the fields need
(:math:`b = v - \gamma\dot\gamma\, s`); it is finite on all of [0, 1] for
every schedule here, even where :math:`\dot\gamma` is not (Brownian
schedules at t = 0 and 1, where ``gamma_dot`` returns the exact ``+inf`` /
``-inf``, never a clamped number). Each schedule gives it in a closed form
that never involves an infinite factor (a plain product only where both
factors are finite everywhere, as for the sigmoid).

Accuracy near the endpoints: formulas are written in terms of ``t`` and
``1 - t`` (exact in floating point for t >= 1/2), e.g.
:math:`\sin(\pi t) = \sin(\pi \min(t, 1 - t))`, so values at
``t = 1 - 1e-12`` keep full relative precision.

All methods accept a real scalar or an array of any shape with values in
[0, 1] and return float64 of the same shape (a NumPy scalar for scalar input).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ._checks import as_real_scalar, as_times, scalar_or_array

__all__ = [
    "GammaSchedule",
    "ZeroGamma",
    "BrownianGamma",
    "ScaledBrownianGamma",
    "BSquaredGamma",
    "SineSquaredGamma",
    "SigmoidGamma",
]


# --- accurate trigonometric building blocks on [0, 1] --------------------------

def sin_pi(t: np.ndarray) -> np.ndarray:
    """sin(pi t) for t in [0, 1], accurate to full relative precision near t = 1.

    Uses sin(pi t) = sin(pi (1 - t)); ``1 - t`` is exact for t >= 1/2.
    """
    return np.sin(np.pi * np.minimum(t, 1.0 - t))


def cos_pi(t: np.ndarray) -> np.ndarray:
    """cos(pi t) = sin(pi (1/2 - t)), accurate near its zero at t = 1/2."""
    return np.sin(np.pi * (0.5 - t))


def _endpoint_infinities(t: np.ndarray, interior_value) -> np.ndarray:
    """+inf at t = 0, -inf at t = 1, ``interior_value(t_inside)`` elsewhere."""
    out = np.where(t == 0.0, np.inf, -np.inf)
    inside = (t > 0.0) & (t < 1.0)
    out[inside] = interior_value(t[inside])
    return out


class GammaSchedule(ABC):
    r"""Base class of the noise scales :math:`\gamma(t)`, with :math:`\gamma(0) = \gamma(1) = 0`.

    Subclasses implement ``_gamma``, ``_gamma_dot`` and ``_gamma_gamma_dot``
    on validated float64 arrays and the exact maximum ``max_gamma`` of
    :math:`\gamma` on [0, 1].
    """

    #: True only for the schedule that is identically zero.
    is_zero: ClassVar[bool] = False

    def gamma(self, t):
        r""":math:`\gamma(t)`. ``t``: scalar or array in [0, 1]; returns float64, same shape."""
        return scalar_or_array(self._gamma(as_times(t)))

    def gamma_dot(self, t):
        r""":math:`\dot\gamma(t)`; exact ``+inf``/``-inf`` where the derivative is infinite."""
        return scalar_or_array(self._gamma_dot(as_times(t)))

    def gamma_gamma_dot(self, t):
        r""":math:`\gamma(t)\dot\gamma(t)` in closed form; finite on all of [0, 1]."""
        return scalar_or_array(self._gamma_gamma_dot(as_times(t)))

    @property
    @abstractmethod
    def max_gamma(self) -> float:
        r"""The exact maximum of :math:`\gamma` over [0, 1]."""

    @abstractmethod
    def _gamma(self, t: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _gamma_dot(self, t: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _gamma_gamma_dot(self, t: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class ZeroGamma(GammaSchedule):
    r""":math:`\gamma(t) = 0`: no latent noise (deterministic and one-sided interpolants)."""

    is_zero: ClassVar[bool] = True

    @property
    def max_gamma(self) -> float:
        return 0.0

    def _gamma(self, t):
        return np.zeros_like(t)            # γ = 0

    def _gamma_dot(self, t):
        return np.zeros_like(t)            # γ̇ = 0

    def _gamma_gamma_dot(self, t):
        return np.zeros_like(t)            # γγ̇ = 0


@dataclass(frozen=True)
class ScaledBrownianGamma(GammaSchedule):
    r""":math:`\gamma(t) = \sqrt{a\, t (1 - t)}`, the standard deviation of a Brownian bridge scaled by ``a``.

    .. math::

        \dot\gamma = \frac{\sqrt{a}\,(1 - 2t)}{2\sqrt{t(1 - t)}}, \qquad
        \gamma\dot\gamma = \tfrac{a}{2}(1 - 2t).

    :math:`\dot\gamma(0) = +\infty` and :math:`\dot\gamma(1) = -\infty`
    exactly; ``gamma_dot`` returns these infinities. Source: arXiv:2303.08797v3,
    Remark 4.1, eq. (4.13); with a = 1 it is the Brownian bridge of Remark 2.4.

    Parameters
    ----------
    scale : float
        :math:`a > 0`. Maximum :math:`\gamma(1/2) = \sqrt{a}/2`.
    """

    scale: float = 1.0

    def __post_init__(self):
        scale = as_real_scalar(self.scale, "scale")
        if scale <= 0.0:
            raise ValueError(
                f"scale must be positive: gamma(t) = sqrt(scale * t * (1 - t)); "
                f"received scale={scale!r}. Pass a value > 0, or use ZeroGamma() for no noise."
            )
        object.__setattr__(self, "scale", scale)

    @property
    def max_gamma(self) -> float:
        return math.sqrt(self.scale) / 2.0

    def _gamma(self, t):
        # γ = √a √(t(1−t)); `a` stays outside the root so that a·t cannot lose digits in the
        # subnormal range (t(1−t) = t exactly there), and γ(1/2) = √a / 2 exactly
        return math.sqrt(self.scale) * np.sqrt(t * (1.0 - t))

    def _gamma_dot(self, t):
        root_a = math.sqrt(self.scale)                                 # γ̇ = √a (1−2t) / (2√(t(1−t)))
        return _endpoint_infinities(
            t, lambda s: root_a * (1.0 - 2.0 * s) / (2.0 * np.sqrt(s * (1.0 - s)))
        )

    def _gamma_gamma_dot(self, t):
        return 0.5 * self.scale * (1.0 - 2.0 * t)                      # γγ̇ = a(1−2t)/2


@dataclass(frozen=True)
class BrownianGamma(ScaledBrownianGamma):
    r""":math:`\gamma(t) = \sqrt{t(1 - t)}`: the Brownian-bridge schedule, ``ScaledBrownianGamma`` with a = 1.

    :math:`\dot\gamma = (1 - 2t)/(2\sqrt{t(1-t)})` is :math:`+\infty` at t = 0 and
    :math:`-\infty` at t = 1 (returned exactly); :math:`\gamma\dot\gamma = (1 - 2t)/2`.
    """

    scale: float = field(default=1.0, init=False, repr=False)


@dataclass(frozen=True)
class BSquaredGamma(GammaSchedule):
    r""":math:`\gamma(t) = t(1 - t)`, :math:`\dot\gamma = 1 - 2t`, :math:`\gamma\dot\gamma = t(1-t)(1-2t)`.

    Smooth at the endpoints (the square of the Brownian schedule). Source:
    arXiv:2303.08797v3, table "Differentiability of γ(t)z".
    """

    @property
    def max_gamma(self) -> float:
        return 0.25

    def _gamma(self, t):
        return t * (1.0 - t)                                           # γ = t(1−t)

    def _gamma_dot(self, t):
        return 1.0 - 2.0 * t                                           # γ̇ = 1 − 2t

    def _gamma_gamma_dot(self, t):
        return t * (1.0 - t) * (1.0 - 2.0 * t)                         # γγ̇ = t(1−t)(1−2t)


@dataclass(frozen=True)
class SineSquaredGamma(GammaSchedule):
    r""":math:`\gamma(t) = \sin^2(\pi t)`.

    .. math::

        \dot\gamma = 2\pi \sin(\pi t)\cos(\pi t), \qquad
        \gamma\dot\gamma = 2\pi \sin^3(\pi t)\cos(\pi t).

    Reaches :math:`\gamma(1/2) = 1`, so it cannot be used with the
    variance-preserving trig interpolant. Source: arXiv:2303.08797v3, eq. (4.11)
    (used with the encoder-decoder interpolant).
    """

    @property
    def max_gamma(self) -> float:
        return 1.0

    def _gamma(self, t):
        return sin_pi(t) ** 2                                          # γ = sin²(πt)

    def _gamma_dot(self, t):
        return 2.0 * np.pi * sin_pi(t) * cos_pi(t)                     # γ̇ = 2π sin(πt) cos(πt)

    def _gamma_gamma_dot(self, t):
        return 2.0 * np.pi * sin_pi(t) ** 3 * cos_pi(t)                # γγ̇ = 2π sin³(πt) cos(πt)


@dataclass(frozen=True)
class SigmoidGamma(GammaSchedule):
    r"""The shifted sigmoid bump, vanishing exactly at t = 0 and t = 1.

    With :math:`\sigma` the logistic function, :math:`f` the ``sharpness``
    and :math:`y = f(t - 1/2)`,

    .. math::

        \gamma(t) = \sigma(y + 1) - \sigma(y - 1) - \sigma(1 - f/2) + \sigma(-1 - f/2),

    the bump :math:`\sigma(y+1) - \sigma(y-1)` (even in :math:`y`) shifted down
    by its value at the endpoints. That difference cancels catastrophically
    near t = 0 and 1, so it is evaluated in the equivalent product form
    (from :math:`\sigma(a) - \sigma(b) = \sinh\frac{a-b}{2} / (2\cosh\frac a2 \cosh\frac b2)`):

    .. math::

        \gamma(t) = \frac{2 \sinh(1)\, \sinh(f t / 2)\, \sinh(f (1 - t) / 2)}
                         {(\cosh y + \cosh 1)(\cosh(f/2) + \cosh 1)}, \qquad
        \dot\gamma(t) = -\frac{f \sinh(1) \sinh y}{(\cosh y + \cosh 1)^2},

    and :math:`\gamma\dot\gamma` is their product (both are finite).
    Source: arXiv:2303.08797v3, table "Differentiability of γ(t)z"
    (the function written there as :math:`\hat\sigma(t)`); the default f = 10
    is the value in the authors' public code.

    Parameters
    ----------
    sharpness : float
        :math:`f`, in (0, 200]. Intermediate ``cosh`` products overflow near
        f ≈ 710; 200 leaves a wide margin and covers every practical bump.
    """

    sharpness: float = 10.0

    def __post_init__(self):
        f = as_real_scalar(self.sharpness, "sharpness")
        if not 0.0 < f <= 200.0:
            raise ValueError(
                f"sharpness must lie in (0, 200]; received sharpness={f!r}. "
                f"The default 10.0 is the usual choice."
            )
        object.__setattr__(self, "sharpness", f)

    @property
    def max_gamma(self) -> float:
        return float(self._gamma(np.array(0.5)))

    def _gamma(self, t):
        f = self.sharpness                                             # γ in product form
        y = f * (t - 0.5)
        numerator = 2.0 * math.sinh(1.0) * np.sinh(0.5 * f * t) * np.sinh(0.5 * f * (1.0 - t))
        return numerator / ((np.cosh(y) + math.cosh(1.0)) * (math.cosh(0.5 * f) + math.cosh(1.0)))

    def _gamma_dot(self, t):
        f = self.sharpness                                             # γ̇ = −f sinh1 sinh y / (cosh y + cosh1)²
        y = f * (t - 0.5)
        return -f * math.sinh(1.0) * np.sinh(y) / (np.cosh(y) + math.cosh(1.0)) ** 2

    def _gamma_gamma_dot(self, t):
        return self._gamma(t) * self._gamma_dot(t)                     # both finite: plain product
