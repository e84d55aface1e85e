r"""Gaussian diffusion paths :math:`x_\tau = a(\tau)\, x_{\mathrm{data}} + \sigma(\tau)\, \varepsilon`.

The diffusion convention (Ho et al. 2020; Song et al. 2021, arXiv:2011.13456;
Karras et al. 2022, arXiv:2206.00364): time :math:`\tau \in [0, 1]` runs from the
data (τ = 0) to the noise (τ = 1), :math:`\varepsilon \sim N(0, I)` is independent of
the data, and nothing requires :math:`a(1) = 0` (VP with linear β keeps
:math:`a(1) = e^{-5.025}`) or :math:`\sigma(0) = 0` (VE starts at σ_min). Each path
gives, side by side and in closed form,

* ``a(tau)``, ``a_dot(tau)``                         :math:`a`, :math:`\dot a = da/d\tau`,
* ``sigma(tau)``, ``sigma_dot(tau)``                 :math:`\sigma`, :math:`\dot\sigma`
  (exact ``+inf`` where σ grows like √τ from 0),
* ``sigma_sigma_dot(tau)``                           :math:`\sigma\dot\sigma`, finite on [0, 1],

and from them the log signal-to-noise ratio :math:`\lambda = \log(a^2/\sigma^2)` and the
coefficients of the forward SDE :math:`dx = f(\tau) x\, d\tau + g(\tau)\, dW` that has these
marginals (Song et al. 2021, eqs. (5), (29)–(34); Kingma et al. 2021, arXiv:2107.00630, eq. (28)):

.. math::

    f = \dot a / a, \qquad g^2 = 2\sigma\dot\sigma - 2 f \sigma^2 = -\sigma^2 \dot\lambda .

Relation to si_ref's interpolants (time :math:`t = 1 - \tau`, t = 1 the data):
:meth:`DiffusionPath.interpolant` is the one-sided interpolant
:math:`x_t = \alpha(t) x_0 + \beta(t) x_1` with :math:`x_0 = \varepsilon`,
:math:`x_1 = x_{\mathrm{data}}`, :math:`\alpha(t) = \sigma(1 - t)`, :math:`\beta(t) = a(1 - t)`
and :math:`\dot\alpha(t) = -\dot\sigma(1 - t)`, :math:`\dot\beta(t) = -\dot a(1 - t)`.

All methods accept a real scalar or an array of any shape with values in [0, 1] and
return float64 of the same shape (a NumPy scalar for scalar input).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from scipy.optimize import brentq

from .._checks import as_positive_real, as_times, scalar_or_array
from ..interpolants import Interpolant
from ..schedules import GammaSchedule, ZeroGamma

__all__ = [
    "DiffusionPath",
    "VPLinearPath",
    "CosinePath",
    "VEPath",
    "EDMPath",
    "RectifiedFlowPath",
    "ZeroTerminalSNRPath",
    "DiffusionInterpolant",
    "DIFFUSION_PATHS",
]


#: How τ is read, for the error messages of out-of-range times.
TAU_MEANING = "tau = 0 is the data, tau = 1 the noise"


def _as_taus(tau, name: str = "tau") -> np.ndarray:
    return as_times(tau, name, meaning=TAU_MEANING)


def _where_positive(value: np.ndarray, numerator: np.ndarray) -> np.ndarray:
    """numerator / value where value > 0, exact +inf where value = 0 (numerator > 0 there)."""
    out = np.full(value.shape, np.inf)
    positive = value > 0.0
    out[positive] = numerator[positive] / value[positive]
    return out


class DiffusionPath(ABC):
    r"""Base class: :math:`x_\tau = a(\tau) x_{\mathrm{data}} + \sigma(\tau)\varepsilon`, τ = 0 the data.

    Subclasses implement ``_a``, ``_a_dot``, ``_sigma``, ``_sigma_sigma_dot`` on validated
    float64 arrays (and ``_sigma_dot`` where σ̇ has a better closed form than σσ̇/σ).
    ``variance_preserving`` is True when :math:`a^2 + \sigma^2 = 1`.
    """

    variance_preserving: ClassVar[bool] = False

    # --- coefficients ---------------------------------------------------------------------
    def a(self, tau):
        r""":math:`a(\tau)`, the coefficient of the data (diffusers: ``alphas_cumprod ** 0.5``)."""
        return scalar_or_array(self._a(_as_taus(tau)))

    def a_dot(self, tau):
        r""":math:`\dot a(\tau) = da/d\tau`."""
        return scalar_or_array(self._a_dot(_as_taus(tau)))

    def sigma(self, tau):
        r""":math:`\sigma(\tau)`, the coefficient of the noise ε."""
        return scalar_or_array(self._sigma(_as_taus(tau)))

    def sigma_dot(self, tau):
        r""":math:`\dot\sigma(\tau)`; exact ``+inf`` where σ = 0 and σ grows like √τ."""
        return scalar_or_array(self._sigma_dot(_as_taus(tau)))

    def sigma_sigma_dot(self, tau):
        r""":math:`\sigma\dot\sigma = \tfrac12 d\sigma^2/d\tau` in closed form, finite on [0, 1]."""
        return scalar_or_array(self._sigma_sigma_dot(_as_taus(tau)))

    def log_snr(self, tau):
        r""":math:`\lambda(\tau) = \log(a^2/\sigma^2)`; exact ``+inf`` where σ = 0, ``-inf`` where a = 0."""
        t = _as_taus(tau)
        with np.errstate(divide="ignore"):
            return scalar_or_array(2.0 * (np.log(self._a(t)) - np.log(self._sigma(t))))

    def drift_coefficient(self, tau):
        r""":math:`f(\tau) = \dot a / a` of the forward SDE :math:`dx = f x\,d\tau + g\,dW`.

        Raises
        ------
        ValueError
            Where a = 0 (pure noise), where f is infinite.
        """
        t = _as_taus(tau)
        a = self._a(t)
        self._require_signal(a, t, "the drift coefficient f = a'/a")
        return scalar_or_array(self._a_dot(t) / a)

    def diffusion_squared(self, tau):
        r""":math:`g(\tau)^2 = 2\sigma\dot\sigma - 2(\dot a/a)\sigma^2` of the forward SDE.

        Raises
        ------
        ValueError
            Where a = 0 (pure noise), where g² is infinite.
        """
        t = _as_taus(tau)
        a = self._a(t)
        self._require_signal(a, t, "the diffusion coefficient g² = 2σσ' − 2(a'/a)σ²")
        return scalar_or_array(self._diffusion_squared(t, a))

    def _diffusion_squared(self, t, a):
        sigma = self._sigma(t)
        return 2.0 * self._sigma_sigma_dot(t) - 2.0 * self._a_dot(t) / a * sigma**2

    def tau_of_log_snr(self, log_snr):
        r"""The time τ with :math:`\lambda(\tau)` = ``log_snr`` (λ decreases strictly in τ).

        A closed form where the family has one, otherwise a bracketing root finder
        (``scipy.optimize.brentq`` to 4 ulps of τ).

        Raises
        ------
        ValueError
            When ``log_snr`` lies outside the path's range [λ(1), λ(0)].
        """
        lam = np.asarray(log_snr, dtype=np.float64)
        if np.isnan(lam).any():
            raise ValueError("log_snr must not be NaN; received NaN.")
        low, high = float(self.log_snr(1.0)), float(self.log_snr(0.0))
        outside = (lam < low) | (lam > high)
        if outside.any():
            raise ValueError(
                f"log_snr must lie in this path's range [{low:.6g}, {high:.6g}] (λ(1), λ(0)); received "
                f"{float(lam[outside].ravel()[0])!r}. A model of this path cannot be asked at that noise level; "
                f"use a path whose range covers it."
            )
        return scalar_or_array(self._tau_of_log_snr(lam.copy()))

    def _tau_of_log_snr(self, lam: np.ndarray) -> np.ndarray:
        out = np.empty(lam.shape)
        for index, value in np.ndenumerate(lam):
            if value == np.inf:
                out[index] = 0.0 if self._sigma(np.zeros(1))[0] == 0.0 else brentq(
                    lambda s: float(self.log_snr(s)) - value, 0.0, 1.0)
            elif value == -np.inf:
                out[index] = 1.0
            else:
                out[index] = brentq(lambda s: float(self.log_snr(s)) - value, 0.0, 1.0, xtol=1e-300, rtol=1e-15)
        return out

    def interpolant(self) -> "DiffusionInterpolant":
        r"""This path as si_ref's one-sided interpolant in time :math:`t = 1 - \tau` (module docstring)."""
        return DiffusionInterpolant(self)

    # --- for subclasses ---------------------------------------------------------------------
    @abstractmethod
    def _a(self, t: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _a_dot(self, t: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _sigma(self, t: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _sigma_sigma_dot(self, t: np.ndarray) -> np.ndarray: ...

    def _sigma_dot(self, t: np.ndarray) -> np.ndarray:
        return _where_positive(self._sigma(t), self._sigma_sigma_dot(t))      # σ̇ = σσ̇ / σ

    def _a_minus_end(self, t: np.ndarray) -> np.ndarray:
        """a(τ) − a(1); families where a(1) ≠ 0 give a form without cancellation near τ = 1."""
        return self._a(t) - self._a(np.ones(1))[0]

    @staticmethod
    def _require_signal(a, t, what):
        if np.any(a == 0.0):
            bad = [float(v) for v in np.asarray(t)[a == 0.0][:5]]
            raise ValueError(
                f"{what} is infinite at tau = {bad}, where a(tau) = 0 (pure noise). Evaluate it at tau < 1, "
                f"or use the flow velocity a' x̂ + σ' ε̂, which is finite there."
            )


# --- variance preserving -------------------------------------------------------------------

@dataclass(frozen=True)
class VPLinearPath(DiffusionPath):
    r"""VP SDE with linear β (Song et al. 2021, arXiv:2011.13456, eqs. (11), (32)–(33)).

    :math:`\beta(\tau) = \beta_{\min} + (\beta_{\max} - \beta_{\min})\tau`,
    :math:`B(\tau) = \int_0^\tau \beta = \beta_{\min}\tau + \tfrac12(\beta_{\max} - \beta_{\min})\tau^2`,
    :math:`a = e^{-B/2}`, :math:`\sigma = \sqrt{1 - e^{-B}}` (``-expm1``),
    :math:`\dot a = -\tfrac12\beta a`, :math:`\sigma\dot\sigma = \tfrac12 \beta e^{-B}`,
    so :math:`f = -\beta/2`, :math:`g^2 = \beta`. The continuous limit of DDPM's
    β table :math:`\beta_i = \beta(\tau_i)/T` (defaults 0.1 and 20 ↔ 1e-4 and 0.02 for T = 1000).
    """

    beta_min: float = 0.1
    beta_max: float = 20.0
    variance_preserving: ClassVar[bool] = True

    def __post_init__(self):
        object.__setattr__(self, "beta_min", as_positive_real(self.beta_min, "beta_min", allow_zero=True))
        object.__setattr__(self, "beta_max", as_positive_real(self.beta_max, "beta_max"))
        if not self.beta_max >= self.beta_min:
            raise ValueError(f"beta_max must be >= beta_min; received beta_min={self.beta_min!r}, "
                             f"beta_max={self.beta_max!r}. Swap them.")

    def _B(self, t):
        return t * (self.beta_min + 0.5 * (self.beta_max - self.beta_min) * t)

    def _beta(self, t):
        return self.beta_min + (self.beta_max - self.beta_min) * t

    def _a(self, t):
        return np.exp(-0.5 * self._B(t))                       # a = e^{−B/2}

    def _a_dot(self, t):
        return -0.5 * self._beta(t) * self._a(t)              # ȧ = −β a / 2

    def _sigma(self, t):
        return np.sqrt(-np.expm1(-self._B(t)))                # σ = √(1 − e^{−B})

    def _sigma_sigma_dot(self, t):
        return 0.5 * self._beta(t) * np.exp(-self._B(t))      # σσ̇ = β e^{−B} / 2

    def _diffusion_squared(self, t, a):
        return self._beta(t)                                  # g² = β

    def _sigma_dot(self, t):
        # σ̇ = σσ̇/σ; at τ = 0, σ ~ √(β_min τ): +inf, unless β_min = 0, where σ ~ τ √(β_max/2)
        out = _where_positive(self._sigma(t), self._sigma_sigma_dot(t))
        if self.beta_min == 0.0:
            out[t == 0.0] = math.sqrt(0.5 * self.beta_max)
        return out

    def _a_minus_end(self, t):
        # a(τ) − a(1) = a(1) (e^{(B(1) − B(τ))/2} − 1), B(1) − B(τ) = (1 − τ)(β_min + ½(β_max − β_min)(1 + τ))
        gap = (1.0 - t) * (self.beta_min + 0.5 * (self.beta_max - self.beta_min) * (1.0 + t))
        return self._a(np.ones(1))[0] * np.expm1(0.5 * gap)

    def _tau_of_log_snr(self, lam):
        # ᾱ = a² = sigmoid(λ), so B = −log ᾱ = log(1 + e^{−λ}); B(τ) = B solved without cancellation.
        B = np.logaddexp(0.0, -lam)
        delta = self.beta_max - self.beta_min
        with np.errstate(divide="ignore", invalid="ignore"):
            tau = 2.0 * B / (self.beta_min + np.sqrt(self.beta_min**2 + 2.0 * delta * B))
        return np.where(B == 0.0, 0.0, tau)


@dataclass(frozen=True)
class CosinePath(DiffusionPath):
    r"""The cosine schedule (Nichol & Dhariwal 2021, arXiv:2102.09672, eq. (17)), continuous in τ.

    :math:`\bar\alpha(\tau) = \cos^2\theta(\tau)/\cos^2\theta_0` with
    :math:`\theta(\tau) = \frac{\tau + s}{1 + s}\frac\pi2`, :math:`\theta_0 = \theta(0)`; so
    :math:`a = \cos\theta/\cos\theta_0`, :math:`\dot a = -\theta'\sin\theta/\cos\theta_0`,
    :math:`\sigma = \sqrt{\sin(\theta - \theta_0)\sin(\theta + \theta_0)}/\cos\theta_0`
    (:math:`\cos^2\theta_0 - \cos^2\theta` without cancellation), :math:`\sigma\dot\sigma = -a\dot a`,
    :math:`\theta' = \pi/(2(1 + s))`. :math:`a(1) = 0` exactly (``cos θ`` is evaluated as
    :math:`\sin(\frac{1 - \tau}{1 + s}\frac\pi2)`); the paper clips its discrete β at 0.999, a
    choice of the discretisation, not of this path.
    """

    s: float = 0.008
    variance_preserving: ClassVar[bool] = True

    def __post_init__(self):
        object.__setattr__(self, "s", as_positive_real(self.s, "s", allow_zero=True))

    @property
    def _scale(self):
        return 0.5 * math.pi / (1.0 + self.s)                # θ' = π / (2 (1 + s))

    def _cos_theta(self, t):
        return np.sin(self._scale * (1.0 - t))               # cos θ = sin(π/2 − θ)

    def _a(self, t):
        return self._cos_theta(t) / math.sin(self._scale)       # cos θ0 = sin(θ'), so a(0) = 1 exactly

    def _a_dot(self, t):
        return -self._scale * np.sin(self._scale * (t + self.s)) / math.cos(self._scale * self.s)

    def _sigma(self, t):
        theta0 = self._scale * self.s
        theta = self._scale * (t + self.s)
        return np.sqrt(np.sin(self._scale * t) * np.sin(theta + theta0)) / math.cos(theta0)

    def _sigma_sigma_dot(self, t):
        return -self._a(t) * self._a_dot(t)                  # σσ̇ = −a ȧ (a² + σ² = 1)

    def _sigma_dot(self, t):
        # σ̇ = σσ̇/σ; at τ = 0, σ ~ √(θ' τ sin 2θ0)/cos θ0: +inf, unless s = 0, where σ = sin(πτ/2)
        out = _where_positive(self._sigma(t), self._sigma_sigma_dot(t))
        if self.s == 0.0:
            out[t == 0.0] = self._scale
        return out


@dataclass(frozen=True)
class ZeroTerminalSNRPath(DiffusionPath):
    r"""A VP path rescaled to zero terminal SNR (Lin et al. 2024, arXiv:2305.08891, Algorithm 1).

    :math:`a_{\mathrm{new}} = a(0)\,(a - a(1))/(a(0) - a(1))` and
    :math:`\sigma_{\mathrm{new}} = \sqrt{1 - a_{\mathrm{new}}^2}`, so that
    :math:`a_{\mathrm{new}}(1) = 0` (pure noise at τ = 1) and the data end is unchanged.
    Requires a variance-preserving ``path`` with :math:`a(0) = 1`; then
    :math:`1 - a_{\mathrm{new}} = (1 - a)/(1 - a(1))` with :math:`1 - a = \sigma^2/(1 + a)`
    keeps σ_new's digits near τ = 0. :math:`\sigma\dot\sigma = -a_{\mathrm{new}}\dot a_{\mathrm{new}}`.
    """

    path: DiffusionPath = field(default_factory=VPLinearPath)
    variance_preserving: ClassVar[bool] = True

    def __post_init__(self):
        if not isinstance(self.path, DiffusionPath) or not self.path.variance_preserving:
            raise TypeError(f"path must be a variance-preserving DiffusionPath such as VPLinearPath(); received "
                            f"{self.path!r}.")
        if float(self.path.a(0.0)) != 1.0:
            raise ValueError(f"path must have a(0) = 1 (data at tau = 0); received a(0) = {float(self.path.a(0.0))!r}.")
        if not float(self.path.a(1.0)) < 1.0:
            raise ValueError("path must have a(1) < 1 to be rescaled; received a(1) = 1.")

    @property
    def _a1(self):
        return float(self.path.a(1.0))

    def _a(self, t):
        return self.path._a_minus_end(t) / (1.0 - self._a1)

    def _a_dot(self, t):
        return self.path._a_dot(t) / (1.0 - self._a1)

    def _sigma(self, t):
        a = self.path._a(t)
        one_minus = self.path._sigma(t) ** 2 / ((1.0 + a) * (1.0 - self._a1))     # 1 − a_new
        return np.sqrt(one_minus * (1.0 + self._a(t)))

    def _sigma_sigma_dot(self, t):
        return -self._a(t) * self._a_dot(t)

    def _sigma_dot(self, t):
        # near τ = 0, σ_new = σ / √(1 − a(1)) to first order: σ̇_new(0) = σ̇(0) / √(1 − a(1))
        out = _where_positive(self._sigma(t), self._sigma_sigma_dot(t))
        at_zero = t == 0.0
        out[at_zero] = self.path._sigma_dot(t[at_zero]) / math.sqrt(1.0 - self._a1)
        return out


# --- variance exploding ---------------------------------------------------------------------

@dataclass(frozen=True)
class VEPath(DiffusionPath):
    r"""VE SDE (Song et al. 2021, arXiv:2011.13456, eqs. (9), (30)–(31)): :math:`a = 1`,
    :math:`\sigma(\tau) = \sigma_{\min}(\sigma_{\max}/\sigma_{\min})^\tau` (geometric).

    :math:`\dot\sigma = \sigma\log(\sigma_{\max}/\sigma_{\min})`, :math:`f = 0`,
    :math:`g^2 = 2\sigma^2\log(\sigma_{\max}/\sigma_{\min})`. At τ = 0 the data carry noise σ_min.
    """

    sigma_min: float = 0.01
    sigma_max: float = 50.0

    def __post_init__(self):
        object.__setattr__(self, "sigma_min", as_positive_real(self.sigma_min, "sigma_min"))
        object.__setattr__(self, "sigma_max", as_positive_real(self.sigma_max, "sigma_max"))
        if not self.sigma_max > self.sigma_min:
            raise ValueError(f"sigma_max must be > sigma_min; received sigma_min={self.sigma_min!r}, "
                             f"sigma_max={self.sigma_max!r}.")

    @property
    def _log_ratio(self):
        return math.log(self.sigma_max / self.sigma_min)

    def _a(self, t):
        return np.ones_like(t)

    def _a_dot(self, t):
        return np.zeros_like(t)

    def _sigma(self, t):
        return self.sigma_min * np.exp(self._log_ratio * t)

    def _sigma_dot(self, t):
        return self._sigma(t) * self._log_ratio

    def _sigma_sigma_dot(self, t):
        return self._sigma(t) ** 2 * self._log_ratio

    def _tau_of_log_snr(self, lam):
        return (np.log(self.sigma_min) + 0.5 * lam) / -self._log_ratio    # σ = e^{−λ/2}


@dataclass(frozen=True)
class EDMPath(DiffusionPath):
    r"""EDM's σ-time (Karras et al. 2022, arXiv:2206.00364, Table 1: σ(t) = t, s(t) = 1), on τ ∈ [0, 1].

    :math:`a = 1`, :math:`\sigma(\tau) = \sigma_{\max}\tau`, so EDM's time is
    :math:`t = \sigma = \sigma_{\max}\tau`; the probability-flow ODE is
    :math:`dx/d\sigma = (x - D(x; \sigma))/\sigma` (eq. (1) with σ(t) = t and the score of eq. (3)).
    The sampling grid and the preconditioning are in :mod:`si_ref.diffusion.discrete`
    (``edm_sigmas``) and :mod:`si_ref.diffusion.conversions` (``edm_preconditioning``).
    """

    sigma_max: float = 80.0

    def __post_init__(self):
        object.__setattr__(self, "sigma_max", as_positive_real(self.sigma_max, "sigma_max"))

    def _a(self, t):
        return np.ones_like(t)

    def _a_dot(self, t):
        return np.zeros_like(t)

    def _sigma(self, t):
        return self.sigma_max * t

    def _sigma_dot(self, t):
        return np.full_like(t, self.sigma_max)

    def _sigma_sigma_dot(self, t):
        return self.sigma_max**2 * t

    def _tau_of_log_snr(self, lam):
        return np.exp(-0.5 * lam) / self.sigma_max


# --- rectified flow -------------------------------------------------------------------------

@dataclass(frozen=True)
class RectifiedFlowPath(DiffusionPath):
    r"""Rectified flow / flow matching (Liu et al. 2023; Esser et al. 2024, arXiv:2403.03206) with a shift.

    :math:`\sigma(\tau) = \frac{s\tau}{1 + (s - 1)\tau}` (SD3's timestep shift, Sec. 5.3.2;
    s = 1 is the plain path σ = τ), :math:`a = 1 - \sigma = \frac{1 - \tau}{1 + (s - 1)\tau}`,
    :math:`\dot\sigma = -\dot a = \frac{s}{(1 + (s - 1)\tau)^2}`. The flow velocity
    :math:`dx/d\tau` of the plain path is :math:`\varepsilon - x_{\mathrm{data}}` given the pair.
    """

    shift: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "shift", as_positive_real(self.shift, "shift"))

    def _denominator(self, t):
        return 1.0 + (self.shift - 1.0) * t

    def _a(self, t):
        return (1.0 - t) / self._denominator(t)

    def _a_dot(self, t):
        return -self._sigma_dot(t)

    def _sigma(self, t):
        return self.shift * t / self._denominator(t)

    def _sigma_dot(self, t):
        return self.shift / self._denominator(t) ** 2

    def _sigma_sigma_dot(self, t):
        return self._sigma(t) * self._sigma_dot(t)

    def _tau_of_log_snr(self, lam):
        k = np.exp(-0.5 * lam)                     # σ/a at the asked level
        with np.errstate(invalid="ignore"):        # k = inf at λ = −inf: inf/inf, replaced by τ = 1 below
            sigma = k / (1.0 + k)                  # on the plain path σ = τ
        return np.where(np.isinf(k), 1.0, sigma / (self.shift - (self.shift - 1.0) * sigma))


# --- the path as si_ref's interpolant -------------------------------------------------------

@dataclass(frozen=True)
class DiffusionInterpolant(Interpolant):
    r"""A diffusion path as si_ref's one-sided interpolant in time :math:`t = 1 - \tau`.

    :math:`x_t = \sigma(1 - t)\, x_0 + a(1 - t)\, x_1` with :math:`x_0 = \varepsilon \sim N(0, I)`
    and :math:`x_1` the data: :math:`\alpha(t) = \sigma(1 - t)`, :math:`\beta(t) = a(1 - t)`,
    :math:`\dot\alpha(t) = -\dot\sigma(1 - t)`, :math:`\dot\beta(t) = -\dot a(1 - t)`, γ = 0.
    ``kind`` is "one-sided" in the sense that matters to :class:`si_ref.GaussianCase`
    (x_0 ~ N(0, I) is the noise, γ = 0), but the boundary values are the path's, not
    those of si_ref's one-sided families (α(0) = σ(1) need not be 0 or 1). si_ref's
    drift and velocity of this interpolant are formed from α̇ and raise a ``ValueError``
    where σ̇ is infinite (t = 1 of VP paths); :meth:`si_ref.diffusion.DiffusionCase.flow_velocity`
    gives the finite limit there.
    """

    path: DiffusionPath
    kind: ClassVar[str] = "one-sided"
    gamma_schedule: GammaSchedule = field(default=ZeroGamma(), init=False, repr=False)

    def __post_init__(self):
        if not isinstance(self.path, DiffusionPath):
            raise TypeError(f"path must be a DiffusionPath such as VPLinearPath(); received "
                            f"{type(self.path).__name__}.")

    def _alpha(self, t):
        return self.path._sigma(1.0 - t)

    def _alpha_dot(self, t):
        return -self.path._sigma_dot(1.0 - t)

    def _beta(self, t):
        return self.path._a(1.0 - t)

    def _beta_dot(self, t):
        return -self.path._a_dot(1.0 - t)


#: The path families by name (the defaults of each), for strategies and the checker.
DIFFUSION_PATHS = {
    "vp-linear": VPLinearPath,
    "cosine": CosinePath,
    "ve": VEPath,
    "edm": EDMPath,
    "rectified-flow": RectifiedFlowPath,
    "zero-terminal-snr": ZeroTerminalSNRPath,
}
