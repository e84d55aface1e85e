r"""Spatially linear stochastic interpolants :math:`x_t = \alpha(t) x_0 + \beta(t) x_1 + \gamma(t) z`.

Conventions (the si_ref contract, README: Conventions): t runs from the base
(t = 0, :math:`x_0`) to the target (t = 1, :math:`x_1`); :math:`z \sim N(0, I_d)`
is independent of :math:`(x_0, x_1)`. Source: Albergo, Boffi &
Vanden-Eijnden, arXiv:2303.08797v3: Def. 2.1, eq. (2.1) (stochastic
interpolant); Sec. 4, eq. (4.1) and the table of linear interpolants in
Sec. 4.1 (spatially linear families); Sec. 3.2, eq. (3.15) and Sec. 4.4,
eq. (4.15) (one-sided); Sec. 3.3, eq. (3.25) (mirror). Each class states its
formulas and its source.

Three kinds of interpolant (attribute ``kind``):

* ``"two-sided"``: :math:`\alpha(0) = \beta(1) = 1`, :math:`\alpha(1) = \beta(0) = 0`,
  :math:`\gamma(0) = \gamma(1) = 0`; base and target are arbitrary.
* ``"one-sided"``: same boundary values, :math:`\gamma \equiv 0`, and the base
  :math:`x_0 \sim N(0, I_d)` plays the role of the noise.
* ``"mirror"``: :math:`x_t = x_1 + \gamma(t) z` (:math:`\alpha \equiv 0`,
  :math:`\beta \equiv 1`); base and target are the same data.

Shapes: ``t`` is a scalar or has shape (n,); ``x0``, ``x1`` and ``z`` have
shape (n, d); results are float64 of shape (n, d). Row ``i`` uses time
``t[i]`` (also when n equals d). Coefficient methods (``alpha``, ...)
accept any shape of ``t`` and act elementwise.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable, ClassVar, NamedTuple

import numpy as np

from ._checks import as_points, as_times, check_rng, offending_times, scalar_or_array, time_column
from .schedules import GammaSchedule, SineSquaredGamma, ZeroGamma, cos_pi, sin_pi

__all__ = [
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
    "VP_MAX_GAMMA",
]

HALF_PI = 0.5 * math.pi
#: Largest peak of gamma accepted by VPTrigInterpolant (r = √(1 − γ²) keeps >= 10 digits).
VP_MAX_GAMMA = 1.0 - 1e-6


class InterpolantSample(NamedTuple):
    """A draw of :math:`x_t` together with the latent noise that made it.

    Attributes
    ----------
    x : ndarray, shape (n, d)
        :math:`x_t = \\alpha x_0 + \\beta x_1 + \\gamma z`.
    z : ndarray, shape (n, d)
        The standard normal :math:`z` used.
    """

    x: np.ndarray
    z: np.ndarray


class AntitheticSample(NamedTuple):
    """Antithetic pair :math:`x_\\pm = \\alpha x_0 + \\beta x_1 \\pm \\gamma z` sharing one z.

    Used by the antithetic loss estimators (arXiv:2303.08797v3, Sec. 6.1, "Antithetic sampling") that
    keep the variance finite when :math:`\\dot\\gamma` blows up at the endpoints.
    """

    x_plus: np.ndarray
    x_minus: np.ndarray
    z: np.ndarray


class Interpolant(ABC):
    r"""Base class: :math:`x_t = \alpha(t) x_0 + \beta(t) x_1 + \gamma(t) z`.

    Subclasses give :math:`\alpha, \dot\alpha, \beta, \dot\beta` in closed
    form (methods ``_alpha`` etc. on validated float64 arrays) and hold the
    gamma schedule in the attribute ``gamma_schedule``.
    """

    #: "two-sided", "one-sided" or "mirror".
    kind: ClassVar[str] = "two-sided"
    #: True when α ≡ 0 (mirror): x0 may then be omitted (``None``).
    alpha_is_zero: ClassVar[bool] = False
    gamma_schedule: GammaSchedule

    def _check_gamma_schedule(self):
        if not isinstance(self.gamma_schedule, GammaSchedule):
            raise TypeError(
                f"gamma_schedule must be a GammaSchedule such as BrownianGamma(); "
                f"received {self.gamma_schedule!r} of type {type(self.gamma_schedule).__name__}."
            )

    # --- coefficients -----------------------------------------------------------
    def alpha(self, t):
        r""":math:`\alpha(t)`, the coefficient of :math:`x_0`."""
        return scalar_or_array(self._alpha(as_times(t)))

    def alpha_dot(self, t):
        r""":math:`\dot\alpha(t)`."""
        return scalar_or_array(self._alpha_dot(as_times(t)))

    def beta(self, t):
        r""":math:`\beta(t)`, the coefficient of :math:`x_1`."""
        return scalar_or_array(self._beta(as_times(t)))

    def beta_dot(self, t):
        r""":math:`\dot\beta(t)`."""
        return scalar_or_array(self._beta_dot(as_times(t)))

    def gamma(self, t):
        r""":math:`\gamma(t)`, the coefficient of :math:`z` (from ``gamma_schedule``)."""
        return self.gamma_schedule.gamma(t)

    def gamma_dot(self, t):
        r""":math:`\dot\gamma(t)`; exact ``±inf`` where infinite (Brownian at t = 0, 1)."""
        return self.gamma_schedule.gamma_dot(t)

    def gamma_gamma_dot(self, t):
        r""":math:`\gamma(t)\dot\gamma(t)` in closed form, finite on [0, 1]."""
        return self.gamma_schedule.gamma_gamma_dot(t)

    @abstractmethod
    def _alpha(self, t: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _alpha_dot(self, t: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _beta(self, t: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _beta_dot(self, t: np.ndarray) -> np.ndarray: ...

    # --- the process ----------------------------------------------------------------
    def _points(self, t, x0, x1, z, *, need_z=True):
        """Validate (t, x0, x1, z); return (t column, x0, x1, z) with absent terms as None.

        ``need_z=False`` is for quantities without the noise term (z is then ignored).
        """
        given = {"x0": x0, "x1": x1, "z": z}
        if x1 is None:
            raise ValueError("x1 must be an array of shape (n, d); received None.")
        if x0 is None and not self.alpha_is_zero:
            raise ValueError(
                f"x0 must be an array of shape (n, d); received None. Only a mirror "
                f"interpolant (alpha = 0) may omit x0; {type(self).__name__} has alpha != 0."
            )
        if not need_z:
            given["z"] = z = None
        elif z is None and not self.gamma_schedule.is_zero:
            raise ValueError(
                f"z must be an array of shape (n, d); received None. z may be omitted "
                f"only when gamma = 0; this interpolant uses {self.gamma_schedule!r}."
            )
        arrays = {name: as_points(a, name) for name, a in given.items() if a is not None}
        shape = arrays["x1"].shape
        for name, a in arrays.items():
            if a.shape != shape:
                raise ValueError(
                    f"{name} must have the same shape as x1, {shape}; received shape "
                    f"{a.shape}. x0, x1 and z are batches of n points in dimension d."
                )
        tt = time_column(as_times(t), shape[0])
        return tt, arrays.get("x0"), arrays["x1"], arrays.get("z")

    def _deterministic_part(self, tt, x0, x1):
        out = self._beta(tt) * x1
        if x0 is not None:
            out += self._alpha(tt) * x0
        return out

    def interpolant(self, t, x0, x1, z=None) -> np.ndarray:
        r"""The stochastic interpolant :math:`x_t = \alpha(t) x_0 + \beta(t) x_1 + \gamma(t) z`.

        Parameters
        ----------
        t : float or ndarray, shape (n,)
            Times in [0, 1].
        x0, x1 : ndarray, shape (n, d)
            Base and target points. ``x0`` may be ``None`` for a mirror interpolant.
        z : ndarray, shape (n, d), optional
            Standard normal latent; may be omitted only when :math:`\gamma \equiv 0`.

        Returns
        -------
        ndarray, shape (n, d)
        """
        tt, x0, x1, z = self._points(t, x0, x1, z)
        out = self._deterministic_part(tt, x0, x1)
        if z is not None:
            out += self.gamma_schedule._gamma(tt) * z
        return out

    def interpolant_partial_t(self, t, x0, x1) -> np.ndarray:
        r""":math:`\partial_t I = \dot\alpha(t) x_0 + \dot\beta(t) x_1`, the regression target of the velocity v.

        Shapes as in :meth:`interpolant`. This is the time derivative of
        :math:`x_t` without the noise term :math:`\dot\gamma z`.
        """
        tt, x0, x1, _ = self._points(t, x0, x1, None, need_z=False)
        out = self._beta_dot(tt) * x1
        if x0 is not None:
            out += self._alpha_dot(tt) * x0
        return out

    def interpolant_dot(self, t, x0, x1, z=None) -> np.ndarray:
        r""":math:`\frac{d}{dt} x_t = \partial_t I + \dot\gamma(t) z`, the regression target of the drift b.

        Shapes as in :meth:`interpolant`.

        Raises
        ------
        ValueError
            At times where :math:`\dot\gamma` is infinite (t = 0 or 1 for the
            Brownian schedules) while z is present: the derivative does not
            exist there. Use t in (0, 1), or the antithetic form.
        """
        tt, x0, x1, z = self._points(t, x0, x1, z)
        out = self._beta_dot(tt) * x1
        if x0 is not None:
            out += self._alpha_dot(tt) * x0
        if z is not None:
            gamma_dot = self.gamma_schedule._gamma_dot(tt)
            infinite = ~np.isfinite(gamma_dot)
            if infinite.any():
                raise ValueError(
                    f"interpolant_dot is undefined at t = {offending_times(infinite, tt)}: gamma_dot is "
                    f"infinite there for {self.gamma_schedule!r}. Evaluate at t in (0, 1) "
                    f"(e.g. a grid from t_min > 0 to t_max < 1)."
                )
            out += gamma_dot * z
        return out

    def sample(self, t, x0, x1, rng) -> InterpolantSample:
        r"""Draw :math:`z \sim N(0, I_d)` and return :math:`x_t` with it.

        Parameters
        ----------
        t : float or ndarray, shape (n,)
        x0, x1 : ndarray, shape (n, d)
            ``x0`` may be ``None`` for a mirror interpolant.
        rng : numpy.random.Generator
            The only source of randomness; ``z = rng.standard_normal((n, d))``.

        Returns
        -------
        InterpolantSample
            ``(x, z)``, both of shape (n, d).
        """
        self._points(t, x0, x1, None, need_z=False)   # validate before drawing
        z = self._draw_z(x1, rng)
        return InterpolantSample(x=self.interpolant(t, x0, x1, z), z=z)

    def sample_antithetic(self, t, x0, x1, rng) -> AntitheticSample:
        r"""Draw one z and return :math:`x_\pm = \alpha x_0 + \beta x_1 \pm \gamma z`.

        Same arguments as :meth:`sample`. Returns ``AntitheticSample(x_plus, x_minus, z)``.
        """
        self._points(t, x0, x1, None, need_z=False)   # validate before drawing
        z = self._draw_z(x1, rng)
        tt, x0_, x1_, z_ = self._points(t, x0, x1, z)
        mean = self._deterministic_part(tt, x0_, x1_)
        noise = self.gamma_schedule._gamma(tt) * z_
        return AntitheticSample(x_plus=mean + noise, x_minus=mean - noise, z=z)

    def _draw_z(self, x1, rng) -> np.ndarray:
        check_rng(rng)
        shape = as_points(x1, "x1").shape
        return rng.standard_normal(shape)


# --- two-sided families -------------------------------------------------------------------

@dataclass(frozen=True)
class LinearInterpolant(Interpolant):
    r"""Linear: :math:`\alpha = 1 - t`, :math:`\beta = t` (arXiv:2303.08797v3, Sec. 4.1, table of linear interpolants).

    :math:`\dot\alpha = -1`, :math:`\dot\beta = 1`. With ``ZeroGamma()`` this is
    the deterministic interpolant of rectified flow.
    """

    gamma_schedule: GammaSchedule

    def __post_init__(self):
        self._check_gamma_schedule()

    def _alpha(self, t):
        return 1.0 - t                       # α = 1 − t

    def _alpha_dot(self, t):
        return np.full_like(t, -1.0)         # α̇ = −1

    def _beta(self, t):
        return t.copy()                      # β = t

    def _beta_dot(self, t):
        return np.ones_like(t)               # β̇ = 1


@dataclass(frozen=True)
class TrigInterpolant(Interpolant):
    r"""Trigonometric: :math:`\alpha = \cos(\pi t/2)`, :math:`\beta = \sin(\pi t/2)` (arXiv:2303.08797v3, Sec. 4.1, table).

    :math:`\dot\alpha = -\tfrac\pi2 \sin(\pi t/2)`, :math:`\dot\beta = \tfrac\pi2 \cos(\pi t/2)`.
    :math:`\cos(\pi t/2)` is evaluated as :math:`\sin(\pi(1-t)/2)` so that it keeps
    full relative precision near t = 1.
    """

    gamma_schedule: GammaSchedule

    def __post_init__(self):
        self._check_gamma_schedule()

    def _alpha(self, t):
        return np.sin(HALF_PI * (1.0 - t))                # α = cos(πt/2) = sin(π(1−t)/2)

    def _alpha_dot(self, t):
        return -HALF_PI * np.sin(HALF_PI * t)             # α̇ = −(π/2) sin(πt/2)

    def _beta(self, t):
        return np.sin(HALF_PI * t)                        # β = sin(πt/2)

    def _beta_dot(self, t):
        return HALF_PI * np.sin(HALF_PI * (1.0 - t))      # β̇ = (π/2) cos(πt/2)


@dataclass(frozen=True)
class VPTrigInterpolant(Interpolant):
    r"""Variance-preserving trig: :math:`\alpha^2 + \beta^2 + \gamma^2 = 1`.

    .. math::

        \alpha = r \cos(\pi t/2), \quad \beta = r \sin(\pi t/2), \quad
        r = \sqrt{1 - \gamma^2}, \quad \dot r = -\gamma\dot\gamma / r,

        \dot\alpha = \dot r \cos(\pi t/2) - \tfrac\pi2 r \sin(\pi t/2), \quad
        \dot\beta = \dot r \sin(\pi t/2) + \tfrac\pi2 r \cos(\pi t/2).

    The derivatives go through the closed-form :math:`\gamma\dot\gamma`, so they
    stay finite at the endpoints even for the Brownian schedule (whose
    :math:`\dot\gamma` is infinite there). Requires :math:`\gamma < 1` on
    [0, 1]; more precisely :math:`\max\gamma \le 1 - 10^{-6}` (``VP_MAX_GAMMA``, checked
    when built), since the relative rounding error of :math:`r` at the peak is
    about :math:`10^{-16} / (1 - \max\gamma)`. Source: arXiv:2303.08797v3, Sec. 4.2,
    eqs. (4.8) and (4.10) (the paper's "trig" interpolant).
    """

    gamma_schedule: GammaSchedule

    def __post_init__(self):
        self._check_gamma_schedule()
        if not self.gamma_schedule.max_gamma <= VP_MAX_GAMMA:
            raise ValueError(
                f"VPTrigInterpolant needs gamma(t) <= 1 - 1e-6 on [0, 1] so that "
                f"alpha^2 + beta^2 = 1 - gamma^2 is positive with at least 10 correct "
                f"digits; received {self.gamma_schedule!r} with max gamma = "
                f"{self.gamma_schedule.max_gamma!r}. Use a schedule with a smaller "
                f"maximum, e.g. BrownianGamma() (max 0.5)."
            )

    def _r(self, t):
        gamma = self.gamma_schedule._gamma(t)
        return np.sqrt((1.0 - gamma) * (1.0 + gamma))          # r = √(1 − γ²), no cancellation in γ²

    def _r_dot(self, t):
        return -self.gamma_schedule._gamma_gamma_dot(t) / self._r(t)

    def _alpha(self, t):
        return self._r(t) * np.sin(HALF_PI * (1.0 - t))      # α = r cos(πt/2)

    def _alpha_dot(self, t):                                   # α̇ = ṙ cos(πt/2) − (π/2) r sin(πt/2)
        return self._r_dot(t) * np.sin(HALF_PI * (1.0 - t)) - HALF_PI * self._r(t) * np.sin(HALF_PI * t)

    def _beta(self, t):
        return self._r(t) * np.sin(HALF_PI * t)               # β = r sin(πt/2)

    def _beta_dot(self, t):                                    # β̇ = ṙ sin(πt/2) + (π/2) r cos(πt/2)
        return self._r_dot(t) * np.sin(HALF_PI * t) + HALF_PI * self._r(t) * np.sin(HALF_PI * (1.0 - t))


@dataclass(frozen=True)
class EncoderDecoderInterpolant(Interpolant):
    r"""Encoder-decoder: the base is encoded into noise at t = 1/2, then decoded into the target.

    .. math::

        \alpha = \cos^2(\pi t)\, 1_{[0, 1/2)}(t), \qquad
        \beta = \cos^2(\pi t)\, 1_{(1/2, 1]}(t),

    with :math:`\dot\alpha = -2\pi\cos(\pi t)\sin(\pi t)\, 1_{[0,1/2)}` and
    :math:`\dot\beta = -2\pi\cos(\pi t)\sin(\pi t)\, 1_{(1/2,1]}` (both C¹: the
    pieces meet with value and slope 0 at t = 1/2, where :math:`x_{1/2} = \gamma(1/2) z`).
    Requires :math:`\gamma(1/2) > 0` (checked when built). Source:
    arXiv:2303.08797v3, eq. (4.11), with :math:`\gamma = \sin^2(\pi t)` there.
    """

    gamma_schedule: GammaSchedule = field(default_factory=SineSquaredGamma)

    def __post_init__(self):
        self._check_gamma_schedule()
        if not self.gamma_schedule.gamma(0.5) > 0.0:
            raise ValueError(
                f"EncoderDecoderInterpolant needs gamma(1/2) > 0, since x_t = gamma(t) z "
                f"at t = 1/2; received {self.gamma_schedule!r} with gamma(1/2) = "
                f"{float(self.gamma_schedule.gamma(0.5))!r}. Use e.g. SineSquaredGamma()."
            )

    def _alpha(self, t):
        return np.where(t < 0.5, cos_pi(t) ** 2, 0.0)                          # α = cos²(πt) on [0, ½)

    def _alpha_dot(self, t):
        return np.where(t < 0.5, -2.0 * np.pi * cos_pi(t) * sin_pi(t), 0.0)   # α̇ = −2π cos(πt) sin(πt)

    def _beta(self, t):
        return np.where(t > 0.5, cos_pi(t) ** 2, 0.0)                          # β = cos²(πt) on (½, 1]

    def _beta_dot(self, t):
        return np.where(t > 0.5, -2.0 * np.pi * cos_pi(t) * sin_pi(t), 0.0)   # β̇ = −2π cos(πt) sin(πt)


@dataclass(frozen=True)
class MirrorInterpolant(Interpolant):
    r"""Mirror: :math:`x_t = x_1 + \gamma(t) z` (:math:`\alpha \equiv 0`, :math:`\beta \equiv 1`).

    Base and target are the same data distribution; the process adds noise
    and removes it again. ``x0`` is not used and may be ``None``. Requires a
    schedule that is not identically zero. Source: arXiv:2303.08797v3, Sec. 3.3,
    Def. 3.6 and eq. (3.25) with K(t, x1) = x1.
    """

    kind: ClassVar[str] = "mirror"
    alpha_is_zero: ClassVar[bool] = True
    gamma_schedule: GammaSchedule

    def __post_init__(self):
        self._check_gamma_schedule()
        if self.gamma_schedule.is_zero:
            raise ValueError(
                "MirrorInterpolant needs a gamma schedule that is positive inside (0, 1); "
                "received ZeroGamma(), for which x_t = x1 at all times. Use e.g. BrownianGamma()."
            )

    def _alpha(self, t):
        return np.zeros_like(t)              # α = 0

    def _alpha_dot(self, t):
        return np.zeros_like(t)              # α̇ = 0

    def _beta(self, t):
        return np.ones_like(t)               # β = 1

    def _beta_dot(self, t):
        return np.zeros_like(t)              # β̇ = 0


# --- one-sided families (x0 ~ N(0, I), gamma = 0) -----------------------------------

@dataclass(frozen=True)
class OneSidedLinearInterpolant(LinearInterpolant):
    r"""One-sided linear: :math:`x_t = (1 - t) x_0 + t x_1` with :math:`x_0 \sim N(0, I)` and :math:`\gamma = 0`.

    The Gaussian base plays the role of the noise (arXiv:2303.08797v3, eq. (4.15)
    and the table in Sec. 4.1);
    this is the conditional path of flow matching / rectified flow from noise.
    """

    kind: ClassVar[str] = "one-sided"
    gamma_schedule: GammaSchedule = field(default=ZeroGamma(), init=False, repr=False)


@dataclass(frozen=True)
class OneSidedTrigInterpolant(TrigInterpolant):
    r"""One-sided trig: :math:`x_t = \cos(\pi t/2) x_0 + \sin(\pi t/2) x_1`, :math:`x_0 \sim N(0, I)`, :math:`\gamma = 0`.

    Variance preserving for a standardised target (arXiv:2303.08797v3, eq. (4.15)
    and the table in Sec. 4.1).
    """

    kind: ClassVar[str] = "one-sided"
    gamma_schedule: GammaSchedule = field(default=ZeroGamma(), init=False, repr=False)


# --- custom ---------------------------------------------------------------------------

_PROBE_TIMES = np.array([0.1, 0.25, 0.5, 0.75, 0.9])
_FD_STEP = 1e-3
_BOUNDARY_TOLERANCE = 1e-12
_DERIVATIVE_RTOL = 1e-6


def _fourth_order_derivative(f, t, h):
    """Central difference (−f(t+2h) + 8f(t+h) − 8f(t−h) + f(t−2h)) / 12h, error O(h⁴)."""
    return (-f(t + 2 * h) + 8 * f(t + h) - 8 * f(t - h) + f(t - 2 * h)) / (12 * h)


@dataclass(frozen=True)
class CustomInterpolant(Interpolant):
    r"""User-supplied closed forms :math:`\alpha, \dot\alpha, \beta, \dot\beta` with any gamma schedule.

    Each callable maps a float64 array of times to an array of the same
    shape (vectorised, elementwise). Checked when built:

    * boundary values :math:`\alpha(0) = \beta(1) = 1`, :math:`\alpha(1) = \beta(0) = 0`
      within 1e-12;
    * each derivative against a fourth-order central difference of its value
      at t = 0.1, 0.25, 0.5, 0.75, 0.9 (step 1e-3), within 1e-6 (1 + |derivative|);
    * finite values of the right shape (also at every later call).

    Parameters
    ----------
    alpha, alpha_dot, beta, beta_dot : callable
        ``f(t: ndarray) -> ndarray``.
    gamma_schedule : GammaSchedule, default ZeroGamma()
    one_sided : bool, default False
        Declare :math:`x_0 \sim N(0, I)` (``kind == "one-sided"``); requires ``ZeroGamma()``.
    """

    alpha_fn: Callable[[np.ndarray], np.ndarray]
    alpha_dot_fn: Callable[[np.ndarray], np.ndarray]
    beta_fn: Callable[[np.ndarray], np.ndarray]
    beta_dot_fn: Callable[[np.ndarray], np.ndarray]
    gamma_schedule: GammaSchedule = field(default_factory=ZeroGamma)
    one_sided: bool = False

    def __post_init__(self):
        self._check_gamma_schedule()
        for name in ("alpha_fn", "alpha_dot_fn", "beta_fn", "beta_dot_fn"):
            if not callable(getattr(self, name)):
                raise TypeError(
                    f"{name} must be a callable f(t) -> array; received "
                    f"{getattr(self, name)!r}. Pass e.g. lambda t: 1 - t."
                )
        if not isinstance(self.one_sided, bool):
            raise TypeError(f"one_sided must be True or False; received {self.one_sided!r}.")
        if self.one_sided and not self.gamma_schedule.is_zero:
            raise ValueError(
                f"a one-sided interpolant has gamma = 0 (x0 ~ N(0, I) is the noise); "
                f"received gamma_schedule={self.gamma_schedule!r}. Pass ZeroGamma() or one_sided=False."
            )
        ends = np.array([0.0, 1.0])
        for name, expected in (("alpha_fn", [1.0, 0.0]), ("beta_fn", [0.0, 1.0])):
            got = self._call(name, ends)
            if not np.all(np.abs(got - expected) <= _BOUNDARY_TOLERANCE):
                raise ValueError(
                    f"{name} must satisfy {name[:-3]}(0) = {expected[0]:g} and "
                    f"{name[:-3]}(1) = {expected[1]:g}; received {float(got[0])!r} and {float(got[1])!r}. "
                    f"An interpolant must equal x0 at t = 0 and x1 at t = 1."
                )
        for value, derivative in (("alpha_fn", "alpha_dot_fn"), ("beta_fn", "beta_dot_fn")):
            self._call(derivative, ends)  # finite at the endpoints too
            claimed = self._call(derivative, _PROBE_TIMES)
            numeric = _fourth_order_derivative(lambda s: self._call(value, s), _PROBE_TIMES, _FD_STEP)
            bad = np.abs(claimed - numeric) > _DERIVATIVE_RTOL * (1.0 + np.abs(numeric))
            if bad.any():
                i = int(np.argmax(bad))
                raise ValueError(
                    f"{derivative} disagrees with the derivative of {value} at "
                    f"t = {_PROBE_TIMES[i]}: {derivative} gives {float(claimed[i])!r}, a finite "
                    f"difference of {value} gives {float(numeric[i])!r}. {derivative} must be "
                    f"d/dt of {value}; check its formula."
                )

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "one-sided" if self.one_sided else "two-sided"

    def _call(self, name: str, t: np.ndarray) -> np.ndarray:
        """Evaluate a user callable on a copy of t; check dtype, shape and NaN."""
        try:
            raw = np.asarray(getattr(self, name)(t.copy()))
        except Exception as exc:  # report which callable failed, keep the cause
            raise ValueError(f"{name} raised {type(exc).__name__} when called on an array of times: {exc}") from exc
        if raw.dtype.kind not in "iuf":
            raise TypeError(f"{name} must return real numbers; received dtype {raw.dtype}.")
        try:
            out = np.broadcast_to(raw, t.shape).astype(np.float64)
        except ValueError:
            raise ValueError(
                f"{name} must return an array of the same shape as t, {t.shape}; "
                f"received shape {raw.shape}. Write it elementwise with NumPy functions."
            ) from None
        bad = ~np.isfinite(out)
        if bad.any():
            raise ValueError(
                f"{name} must return finite values; it returned {float(out[bad].ravel()[0])!r} at "
                f"t = {float(np.broadcast_to(t, out.shape)[bad].ravel()[0])!r}. Closed forms with an "
                f"infinite derivative at an endpoint are not supported by CustomInterpolant."
            )
        return out

    def _alpha(self, t):
        return self._call("alpha_fn", t)

    def _alpha_dot(self, t):
        return self._call("alpha_dot_fn", t)

    def _beta(self, t):
        return self._call("beta_fn", t)

    def _beta_dot(self, t):
        return self._call("beta_dot_fn", t)


#: Family name -> class, for strategies, the CLI and golden vectors.
INTERPOLANT_FAMILIES = {
    "linear": LinearInterpolant,
    "trig": TrigInterpolant,
    "vp-trig": VPTrigInterpolant,
    "encoder-decoder": EncoderDecoderInterpolant,
    "one-sided-linear": OneSidedLinearInterpolant,
    "one-sided-trig": OneSidedTrigInterpolant,
    "mirror": MirrorInterpolant,
    "custom": CustomInterpolant,
}
