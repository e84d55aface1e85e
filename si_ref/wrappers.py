r"""Wrappers: turn one learned field into another (the conversion graph).

Every wrapper is itself a field, callable as ``w(x, t, c=None)`` with ``x`` of
shape (n, d) and ``t`` a scalar or of shape (n,) (row i uses ``t[i]``, also
when n equals d); it returns float64 of shape (n, d). The wrapped fields are
called as ``f(x, t)``, or ``f(x, t, c)`` only when a conditioning ``c`` is
given. Wrapped outputs must have shape (n, d); they are not modified.

Conventions are si_ref's (README, Conventions): score
:math:`s = \nabla\log\rho_t`, noise :math:`\eta = E[z \mid x_t]`,
denoisers :math:`\hat x_0, \hat x_1`, velocity
:math:`v = E[\dot\alpha x_0 + \dot\beta x_1 \mid x_t]`, drift
:math:`b = v + \dot\gamma\eta = v - \gamma\dot\gamma s`
(arXiv:2303.08797v3, eqs. (2.10), (2.14), (2.17), (2.21), (2.27)).

A converted value beyond the float64 range (a huge wrapped value, or a division
by a tiny ``min_divisor`` clamp) raises a ``ValueError`` instead of returning inf or NaN.
Division by a coefficient that vanishes (γ at t = 0 and 1, α at t = 1, β at
t = 0) raises a ``ValueError`` naming the offending times. Wrappers that
divide by γ, α or β accept ``min_divisor``: the coefficient is then replaced by
``max(coefficient, min_divisor)`` (a clamp from below, applied only where it is
smaller) and the docstring says so. (Its older name ``eps`` — the seed's, for
``ScoreFromNoise`` — still works; ``eps`` elsewhere means the diffusion ε(t).) Divisors that change sign
(:math:`\gamma\dot\gamma`, :math:`\dot\alpha\beta - \alpha\dot\beta`) are never clamped. Where :math:`\dot\gamma` is infinite
(Brownian schedules at the endpoints) a wrapper that multiplies by it raises;
the forms through the finite :math:`\gamma\dot\gamma` never do.

The seed's three wrappers are ``ScoreFromNoise``, ``DriftFromVelocityScore``
and ``MirrorVelocityFromScore``; published versions of that code use
``v + γγ̇ s`` and ``+γγ̇ s``, which are wrong for a true score (the tests show
the continuity equation fails with those signs).
"""

from __future__ import annotations

import numpy as np

from ._checks import (as_points, as_real_scalar, as_times, call_model, nonnegative_of_time, offending_times,
                      renamed_keyword, time_column)
from .distributions import Gaussian
from .interpolants import Interpolant
from .schedules import GammaSchedule

__all__ = [
    "Wrapper",
    # the seed's three
    "ScoreFromNoise",
    "DriftFromVelocityScore",
    "MirrorVelocityFromScore",
    # score and noise
    "NoiseFromScore",
    "ScoreFromDenoisers",
    "DenoiserX0FromScore",
    "DenoiserX1FromScore",
    # velocity and drift
    "VelocityFromDenoisers",
    "DriftFromDenoisers",
    "DriftFromVelocityNoise",
    "VelocityFromDriftScore",
    # SDE drifts
    "ForwardDriftFromDriftScore",
    "BackwardDriftFromDriftScore",
    "SDEDriftFromDriftScore",
    # one-sided and mirror
    "ScoreFromDenoiserX0OneSided",
    "ScoreFromDriftOneSided",
    "DriftFromScoreOneSided",
    "MirrorDriftFromNoise",
    "ScoreFromMirrorDrift",
    # deterministic (γ = 0) affine paths: data prediction, noise prediction, velocity
    "DenoiserX0FromDenoiserX1",
    "DenoiserX1FromDenoiserX0",
    "VelocityFromDenoiserX0",
    "VelocityFromDenoiserX1",
    "DenoiserX0FromVelocity",
    "DenoiserX1FromVelocity",
]


# --- shared machinery ------------------------------------------------------------------------

def _check_field(field, name):
    if not callable(field):
        raise TypeError(f"{name} must be a field, a callable f(x, t) or f(x, t, c); received {field!r}.")
    return field


def _check_schedule(schedule):
    if not isinstance(schedule, GammaSchedule):
        raise TypeError(
            f"gamma_schedule must be a GammaSchedule such as BrownianGamma(); received "
            f"{type(schedule).__name__}."
        )
    return schedule


def _check_interpolant(interpolant, *, zero_gamma=False, kind=None):
    if not isinstance(interpolant, Interpolant):
        raise TypeError(
            f"interpolant must be an Interpolant such as LinearInterpolant(BrownianGamma()); "
            f"received {type(interpolant).__name__}."
        )
    if zero_gamma and not interpolant.gamma_schedule.is_zero:
        raise ValueError(
            f"this conversion holds for deterministic paths x_t = alpha x0 + beta x1 (gamma = 0); "
            f"received {interpolant!r}. Use a one-sided interpolant or ZeroGamma()."
        )
    if kind is not None and interpolant.kind != kind:
        raise ValueError(
            f"this conversion needs a {kind} interpolant; received a {interpolant.kind} "
            f"interpolant ({type(interpolant).__name__})."
        )
    return interpolant


def _check_min_divisor(min_divisor, eps, where: str, *, seed_alias: bool = False):
    """The divisor clamp ``min_divisor`` (> 0 or None). ``eps`` is its older name: the seed's name for
    :class:`ScoreFromNoise` (accepted silently there), deprecated elsewhere (warns once)."""
    if seed_alias and eps is not None:
        if min_divisor is not None:
            raise TypeError(f"{where} received both min_divisor= and eps= (the seed's name for it); pass one.")
        value, name = eps, "eps"
    else:
        value = renamed_keyword("min_divisor", min_divisor, "eps", eps, where)
        name = "eps" if eps is not None else "min_divisor"
    if value is None:
        return None
    value = as_real_scalar(value, name)
    if value <= 0:
        raise ValueError(f"{name} must be positive (a lower clamp for a divisor); received {name}={value!r}.")
    return value


class Wrapper:
    """Base class of the conversion wrappers: validates (x, t), calls the wrapped fields.

    Each wrapper class states what it converts: ``inputs`` (the names of the fields its
    constructor takes first, e.g. ``("velocity", "score")``), ``parameter`` (what follows
    them: ``"gamma"`` a GammaSchedule, ``"interpolant"`` an Interpolant, ``"base"`` an
    Interpolant and the base distribution, ``"eps"`` ε, ``"diffusion_squared"`` g²) and
    ``output`` (the field it returns). The conformance checker builds wrappers from these.
    """

    inputs: tuple = ()
    parameter: str = ""
    output: str = ""

    def __call__(self, x, t, c=None):
        x = as_points(x, "x")
        times = as_times(t)
        column = time_column(times, x.shape[0])
        with np.errstate(over="ignore", invalid="ignore"):   # overflow is refused just below
            out = self._convert(x, times, column, c)
        finite = np.isfinite(out).all(axis=1)
        if not finite.all():
            row = int(np.argmax(~finite))
            raise ValueError(
                f"{type(self).__name__} overflows float64 at row {row} (t = "
                f"{float(np.broadcast_to(times, finite.shape)[row])!r}): the wrapped values or the divisor "
                f"(e.g. a tiny min_divisor clamp) give a result beyond 1.8e308. Rescale, or use a larger min_divisor."
            )
        return out

    def _convert(self, x, times, column, c):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def _field(field, name, x, t, c):
        """Call a wrapped field (with c only when given) through the shared check of user fields."""
        return call_model(field, f"the wrapped {name}", x, t, c=c)

    @staticmethod
    def _divisor(values, times, column, what, min_divisor, fix):
        """Return the coefficient as a column, refusing zeros unless ``min_divisor`` clamps them."""
        values = np.asarray(values, dtype=np.float64)
        if min_divisor is not None:
            values = np.maximum(values, min_divisor)
        zero = values == 0.0
        if zero.any():
            raise ValueError(
                f"{what} is zero at t = {offending_times(zero, times)}, where this conversion divides by it. "
                f"{fix}"
            )
        return values[:, None] if column.ndim == 2 else values

    @staticmethod
    def _finite_factor(values, times, what):
        """Refuse infinite multipliers (γ̇ of Brownian schedules at t = 0, 1)."""
        infinite = ~np.isfinite(values)
        if infinite.any():
            raise ValueError(
                f"{what} is infinite at t = {offending_times(infinite, times)}; use the form through the finite "
                f"gamma*gamma_dot (e.g. DriftFromVelocityScore), or t in (0, 1)."
            )
        return values

    @staticmethod
    def _col(values, column):
        return values[:, None] if column.ndim == 2 else values


# --- the seed's wrappers ---------------------------------------------------------------------------

class ScoreFromNoise(Wrapper):
    r"""Score from a noise predictor: :math:`s = -\eta / \gamma` (arXiv:2303.08797v3, eq. (2.18)).

    Parameters
    ----------
    eta : field
        :math:`\eta(x, t) = E[z \mid x_t = x]` (the +E[z|x] convention).
    gamma_schedule : GammaSchedule
    min_divisor : float, optional
        Without it, times with :math:`\gamma(t) = 0` raise ``ValueError``. With it,
        :math:`s = -\eta / \max(\gamma(t), \text{min\_divisor})`.
    eps : float, optional
        The seed's name for ``min_divisor`` (the same clamp).
    """

    inputs = ("noise",)
    parameter = "gamma"
    output = "score"

    def __init__(self, eta, gamma_schedule, *, min_divisor=None, eps=None):
        self.eta = _check_field(eta, "eta")
        self.gamma_schedule = _check_schedule(gamma_schedule)
        self.min_divisor = _check_min_divisor(min_divisor, eps, "ScoreFromNoise", seed_alias=True)

    @property
    def eps(self):
        """The seed's name for :attr:`min_divisor`."""
        return self.min_divisor

    def _convert(self, x, times, column, c):
        gamma = self._divisor(self.gamma_schedule.gamma(times), times, column, "gamma", self.min_divisor,
                              "Pass min_divisor to clamp gamma from below, or use t in (0, 1).")
        return -self._field(self.eta, "eta", x, times, c) / gamma


class DriftFromVelocityScore(Wrapper):
    r"""Drift from velocity and score: :math:`b = v - \gamma\dot\gamma\, s` (arXiv:2303.08797v3, eq. (2.27)).

    Finite on [0, 1]: :math:`\gamma\dot\gamma` is the schedule's closed form.
    (The earliest public seed code used :math:`v + \gamma\dot\gamma s`, which violates
    the continuity equation for a true score.)
    """

    inputs = ("velocity", "score")
    parameter = "gamma"
    output = "drift"

    def __init__(self, velocity, score, gamma_schedule):
        self.velocity = _check_field(velocity, "velocity")
        self.score = _check_field(score, "score")
        self.gamma_schedule = _check_schedule(gamma_schedule)

    def _convert(self, x, times, column, c):
        gg_dot = self._col(self.gamma_schedule.gamma_gamma_dot(times), column)
        return self._field(self.velocity, "velocity", x, times, c) - gg_dot * self._field(self.score, "score", x, times, c)


class MirrorVelocityFromScore(Wrapper):
    r"""Mirror drift from the score: :math:`b = -\gamma\dot\gamma\, s` for :math:`x_t = x_1 + \gamma z`.

    Source: arXiv:2303.08797v3, Sec. 3.3 (mirror interpolants, :math:`b = \dot\gamma\eta_z`)
    with :math:`\eta = -\gamma s`. (Published seed code returns :math:`+\gamma\dot\gamma s`.)
    """

    inputs = ("score",)
    parameter = "gamma"
    output = "drift"

    def __init__(self, score, gamma_schedule):
        self.score = _check_field(score, "score")
        self.gamma_schedule = _check_schedule(gamma_schedule)

    def _convert(self, x, times, column, c):
        gg_dot = self._col(self.gamma_schedule.gamma_gamma_dot(times), column)
        return -gg_dot * self._field(self.score, "score", x, times, c)


# --- score, noise and denoisers --------------------------------------------------------------

class NoiseFromScore(Wrapper):
    r"""Noise from the score: :math:`\eta = -\gamma s` (exact also where :math:`\gamma = 0`, giving 0)."""

    inputs = ("score",)
    parameter = "gamma"
    output = "noise"

    def __init__(self, score, gamma_schedule):
        self.score = _check_field(score, "score")
        self.gamma_schedule = _check_schedule(gamma_schedule)

    def _convert(self, x, times, column, c):
        gamma = self._col(self.gamma_schedule.gamma(times), column)
        return -gamma * self._field(self.score, "score", x, times, c)


class ScoreFromDenoisers(Wrapper):
    r"""Score from both denoisers: :math:`s = -(x - \alpha\hat x_0 - \beta\hat x_1) / \gamma^2`.

    From :math:`x = \alpha\hat x_0 + \beta\hat x_1 + \gamma\eta` and :math:`s = -\eta/\gamma`.
    Divides by :math:`\gamma^2`: zero at t = 0, 1 raises, unless ``min_divisor`` clamps
    :math:`\gamma` from below (:math:`\gamma^2 \to \max(\gamma, \text{min\_divisor})^2`; ``eps`` is its
    deprecated name).
    """

    inputs = ("denoise_x0", "denoise_x1")
    parameter = "interpolant"
    output = "score"

    def __init__(self, denoise_x0, denoise_x1, interpolant, *, min_divisor=None, eps=None):
        self.denoise_x0 = _check_field(denoise_x0, "denoise_x0")
        self.denoise_x1 = _check_field(denoise_x1, "denoise_x1")
        self.interpolant = _check_interpolant(interpolant)
        self.min_divisor = _check_min_divisor(min_divisor, eps, type(self).__name__)

    def _convert(self, x, times, column, c):
        I = self.interpolant
        gamma = self._divisor(I.gamma(times), times, column, "gamma", self.min_divisor,
                              "Pass min_divisor to clamp gamma from below, or use t in (0, 1).")
        residual = (x - self._col(I.alpha(times), column) * self._field(self.denoise_x0, "denoise_x0", x, times, c)
                    - self._col(I.beta(times), column) * self._field(self.denoise_x1, "denoise_x1", x, times, c))
        return -residual / gamma**2


class _DenoiserFromScore(Wrapper):
    """Tweedie's formula for a Gaussian base N(m0, S0) independently coupled to the target."""

    def __init__(self, score, interpolant, base=None, *, min_divisor=None, eps=None):
        self.score = _check_field(score, "score")
        self.interpolant = _check_interpolant(interpolant)
        self.min_divisor = _check_min_divisor(min_divisor, eps, type(self).__name__)
        if self.interpolant.kind == "mirror":
            raise ValueError("Tweedie's formula here needs a Gaussian base; a mirror interpolant has none.")
        if base is None and self.interpolant.kind != "one-sided":
            raise ValueError(
                "base is required for a two-sided interpolant: pass the Gaussian base distribution "
                "(base=None means N(0, I) and is accepted only for one-sided interpolants)."
            )
        if base is not None and not isinstance(base, Gaussian):
            raise TypeError(f"base must be a Gaussian (the base distribution N(m0, S0)) or None for N(0, I); received {type(base).__name__}.")
        self.base = base

    def _base(self, d):
        if self.base is None:
            return np.zeros(d), np.eye(d)
        if self.base.dim != d:
            raise ValueError(f"x must have d = {self.base.dim} columns like the base; received d = {d}.")
        return self.base.mean, self.base.cov


class DenoiserX0FromScore(_DenoiserFromScore):
    r"""Tweedie for the base: :math:`\hat x_0 = m_0 - \alpha S_0 s`.

    For a Gaussian base :math:`N(m_0, S_0)` independent of :math:`(x_1, z)` is the noise
    :math:`u = \alpha x_0 + \gamma z \sim N(\alpha m_0, \alpha^2 S_0 + \gamma^2 I)`, so
    :math:`s = -\Sigma_u^{-1}(E[u \mid x_t] - \alpha m_0)` and
    :math:`E[x_0 \mid x_t] = m_0 + \alpha S_0 \Sigma_u^{-1}(E[u \mid x_t] - \alpha m_0)`.
    ``base=None`` means N(0, I) (one-sided interpolants only), giving :math:`\hat x_0 = -\alpha s`.
    """

    inputs = ("score",)
    parameter = "base"
    output = "denoise_x0"

    def _convert(self, x, times, column, c):
        m0, s0 = self._base(x.shape[1])
        alpha = self._col(self.interpolant.alpha(times), column)
        return m0 - alpha * (self._field(self.score, "score", x, times, c) @ s0.T)


class DenoiserX1FromScore(_DenoiserFromScore):
    r"""Tweedie for the target: :math:`\hat x_1 = (x - \alpha m_0 + (\alpha^2 S_0 + \gamma^2 I) s) / \beta`.

    Same setting as :class:`DenoiserX0FromScore`: :math:`x = \beta\hat x_1 + E[u \mid x_t]` and
    :math:`E[u \mid x_t] = \alpha m_0 - \Sigma_u s`. Divides by β: t = 0 raises unless
    ``min_divisor`` clamps β from below (``eps``: its deprecated name).
    """

    inputs = ("score",)
    parameter = "base"
    output = "denoise_x1"

    def _convert(self, x, times, column, c):
        m0, s0 = self._base(x.shape[1])
        I = self.interpolant
        alpha = self._col(I.alpha(times), column)
        gamma_sq = self._col(I.gamma(times) ** 2, column)
        beta = self._divisor(I.beta(times), times, column, "beta", self.min_divisor,
                             "At beta = 0 the data are not seen; pass min_divisor or use t > 0.")
        s = self._field(self.score, "score", x, times, c)
        sigma_s = alpha**2 * (s @ s0.T) + gamma_sq * s
        return (x - alpha * m0 + sigma_s) / beta


# --- velocity and drift --------------------------------------------------------------------------

class VelocityFromDenoisers(Wrapper):
    r"""Velocity from the denoisers: :math:`v = \dot\alpha\hat x_0 + \dot\beta\hat x_1`."""

    inputs = ("denoise_x0", "denoise_x1")
    parameter = "interpolant"
    output = "velocity"

    def __init__(self, denoise_x0, denoise_x1, interpolant):
        self.denoise_x0 = _check_field(denoise_x0, "denoise_x0")
        self.denoise_x1 = _check_field(denoise_x1, "denoise_x1")
        self.interpolant = _check_interpolant(interpolant)

    def _convert(self, x, times, column, c):
        I = self.interpolant
        return (self._col(I.alpha_dot(times), column) * self._field(self.denoise_x0, "denoise_x0", x, times, c)
                + self._col(I.beta_dot(times), column) * self._field(self.denoise_x1, "denoise_x1", x, times, c))


class DriftFromDenoisers(Wrapper):
    r"""Drift from denoisers and noise: :math:`b = \dot\alpha\hat x_0 + \dot\beta\hat x_1 + \dot\gamma\eta`
    (arXiv:2303.08797v3, eq. (4.4)). Raises where :math:`\dot\gamma` is infinite."""

    inputs = ("denoise_x0", "denoise_x1", "noise")
    parameter = "interpolant"
    output = "drift"

    def __init__(self, denoise_x0, denoise_x1, noise, interpolant):
        self.velocity = VelocityFromDenoisers(denoise_x0, denoise_x1, interpolant)
        self.noise = _check_field(noise, "noise")
        self.interpolant = self.velocity.interpolant

    def _convert(self, x, times, column, c):
        gamma_dot = self._finite_factor(self.interpolant.gamma_dot(times), times, "gamma_dot")
        return self.velocity._convert(x, times, column, c) + self._col(gamma_dot, column) * self._field(self.noise, "noise", x, times, c)


class DriftFromVelocityNoise(Wrapper):
    r"""Drift from velocity and noise: :math:`b = v + \dot\gamma\eta`. Raises where :math:`\dot\gamma` is infinite."""

    inputs = ("velocity", "noise")
    parameter = "gamma"
    output = "drift"

    def __init__(self, velocity, noise, gamma_schedule):
        self.velocity = _check_field(velocity, "velocity")
        self.noise = _check_field(noise, "noise")
        self.gamma_schedule = _check_schedule(gamma_schedule)

    def _convert(self, x, times, column, c):
        gamma_dot = self._finite_factor(self.gamma_schedule.gamma_dot(times), times, "gamma_dot")
        return self._field(self.velocity, "velocity", x, times, c) + self._col(gamma_dot, column) * self._field(self.noise, "noise", x, times, c)


class VelocityFromDriftScore(Wrapper):
    r"""Velocity from drift and score: :math:`v = b + \gamma\dot\gamma\, s` (inverse of :class:`DriftFromVelocityScore`)."""

    inputs = ("drift", "score")
    parameter = "gamma"
    output = "velocity"

    def __init__(self, drift, score, gamma_schedule):
        self.drift = _check_field(drift, "drift")
        self.score = _check_field(score, "score")
        self.gamma_schedule = _check_schedule(gamma_schedule)

    def _convert(self, x, times, column, c):
        gg_dot = self._col(self.gamma_schedule.gamma_gamma_dot(times), column)
        return self._field(self.drift, "drift", x, times, c) + gg_dot * self._field(self.score, "score", x, times, c)


# --- SDE drifts ------------------------------------------------------------------------------------

class _DriftPlusScore(Wrapper):
    sign = 1.0
    factor = 1.0
    coefficient_name = "eps"

    def __init__(self, drift, score, coefficient):
        self.drift = _check_field(drift, "drift")
        self.score = _check_field(score, "score")
        if not callable(coefficient):
            nonnegative_of_time(coefficient, np.zeros(()), self.coefficient_name)  # refuse bad numbers early
        self.coefficient = coefficient

    def _convert(self, x, times, column, c):
        k = self.factor * self._col(nonnegative_of_time(self.coefficient, times, self.coefficient_name), column)
        return self._field(self.drift, "drift", x, times, c) + self.sign * k * self._field(self.score, "score", x, times, c)


class ForwardDriftFromDriftScore(_DriftPlusScore):
    r"""Forward SDE drift :math:`b_F = b + \varepsilon(t) s` (arXiv:2303.08797v3, eq. (2.21)).

    :math:`dX = b_F\,dt + \sqrt{2\varepsilon}\,dW`, run forward in t, has the marginals
    :math:`\rho_t`. ``eps``: a number >= 0 or a callable of t.
    """

    inputs = ("drift", "score")
    parameter = "eps"
    output = "forward_drift"

    def __init__(self, drift, score, eps):
        super().__init__(drift, score, eps)


class BackwardDriftFromDriftScore(_DriftPlusScore):
    r"""Backward SDE drift :math:`b_B = b - \varepsilon(t) s`, for :math:`dX = b_B\,dt + \sqrt{2\varepsilon}\,dW`
    run with decreasing t (arXiv:2303.08797v3, eqs. (2.22)-(2.23))."""

    inputs = ("drift", "score")
    parameter = "eps"
    output = "backward_drift"

    sign = -1.0

    def __init__(self, drift, score, eps):
        super().__init__(drift, score, eps)


class SDEDriftFromDriftScore(_DriftPlusScore):
    r"""Drift of the Markovian SDE :math:`dX = (b + \tfrac12 g(t)^2 s)\,dt + g(t)\,dW` with marginals :math:`\rho_t`.

    The forward SDE with :math:`\varepsilon = g^2/2`; ``diffusion_squared`` is
    :math:`g(t)^2 \ge 0`, a number or a callable of t.
    """

    inputs = ("drift", "score")
    parameter = "diffusion_squared"
    output = "forward_drift"

    factor = 0.5
    coefficient_name = "diffusion_squared"

    def __init__(self, drift, score, diffusion_squared):
        super().__init__(drift, score, diffusion_squared)


# --- one-sided and mirror ------------------------------------------------------------------------

class ScoreFromDenoiserX0OneSided(Wrapper):
    r"""One-sided score from the noise denoiser: :math:`s = -\hat x_0 / \alpha` (arXiv:2303.08797v3, eq. (4.16)).

    For one-sided paths :math:`x_t = \alpha x_0 + \beta x_1`, :math:`x_0 \sim N(0, I)`.
    Divides by α (zero at t = 1) unless ``min_divisor`` clamps it from below (``eps``: its deprecated name).
    """

    inputs = ("denoise_x0",)
    parameter = "interpolant"
    output = "score"

    def __init__(self, denoise_x0, interpolant, *, min_divisor=None, eps=None):
        self.denoise_x0 = _check_field(denoise_x0, "denoise_x0")
        self.interpolant = _check_interpolant(interpolant, kind="one-sided")
        self.min_divisor = _check_min_divisor(min_divisor, eps, type(self).__name__)

    def _convert(self, x, times, column, c):
        alpha = self._divisor(self.interpolant.alpha(times), times, column, "alpha", self.min_divisor,
                              "Pass min_divisor to clamp alpha from below, or use t < 1.")
        return -self._field(self.denoise_x0, "denoise_x0", x, times, c) / alpha


class ScoreFromDriftOneSided(Wrapper):
    r"""One-sided score from the drift: :math:`s = -(\beta b - \dot\beta x) / (\alpha(\dot\alpha\beta - \alpha\dot\beta))`.

    From :math:`b = \dot\alpha\hat x_0 + \dot\beta\hat x_1`, :math:`x = \alpha\hat x_0 + \beta\hat x_1`
    (:math:`\gamma = 0`) and :math:`s = -\hat x_0/\alpha` (arXiv:2303.08797v3, eqs. (4.16), (4.19)).
    Divides by α (zero at t = 1) unless ``min_divisor`` clamps it (``eps``: its deprecated name), and by
    :math:`\dot\alpha\beta - \alpha\dot\beta` (nonzero for the one-sided families).
    """

    inputs = ("drift",)
    parameter = "interpolant"
    output = "score"

    def __init__(self, drift, interpolant, *, min_divisor=None, eps=None):
        self.drift = _check_field(drift, "drift")
        self.interpolant = _check_interpolant(interpolant, kind="one-sided")
        self.min_divisor = _check_min_divisor(min_divisor, eps, type(self).__name__)

    def _convert(self, x, times, column, c):
        I = self.interpolant
        alpha = self._divisor(I.alpha(times), times, column, "alpha", self.min_divisor,
                              "Pass min_divisor to clamp alpha from below, or use t < 1.")
        beta, beta_dot = self._col(I.beta(times), column), self._col(I.beta_dot(times), column)
        wronskian = self._divisor(I.alpha_dot(times) * I.beta(times) - I.alpha(times) * I.beta_dot(times),
                                  times, column, "alpha_dot*beta - alpha*beta_dot", None,
                                  "The path does not determine x0 from (x, b) there.")
        return -(beta * self._field(self.drift, "drift", x, times, c) - beta_dot * x) / (alpha * wronskian)


class DriftFromScoreOneSided(Wrapper):
    r"""One-sided drift from the score: :math:`b = (\dot\beta x - \alpha(\dot\alpha\beta - \alpha\dot\beta) s) / \beta`.

    Inverse of :class:`ScoreFromDriftOneSided`. Divides by β (zero at t = 0) unless
    ``min_divisor`` clamps it from below (``eps``: its deprecated name).
    """

    inputs = ("score",)
    parameter = "interpolant"
    output = "drift"

    def __init__(self, score, interpolant, *, min_divisor=None, eps=None):
        self.score = _check_field(score, "score")
        self.interpolant = _check_interpolant(interpolant, kind="one-sided")
        self.min_divisor = _check_min_divisor(min_divisor, eps, type(self).__name__)

    def _convert(self, x, times, column, c):
        I = self.interpolant
        beta = self._divisor(I.beta(times), times, column, "beta", self.min_divisor,
                             "Pass min_divisor to clamp beta from below, or use t > 0.")
        alpha = self._col(I.alpha(times), column)
        wronskian = self._col(I.alpha_dot(times) * I.beta(times) - I.alpha(times) * I.beta_dot(times), column)
        beta_dot = self._col(I.beta_dot(times), column)
        return (beta_dot * x - alpha * wronskian * self._field(self.score, "score", x, times, c)) / beta


class MirrorDriftFromNoise(Wrapper):
    r"""Mirror drift from the noise: :math:`b = \dot\gamma\eta` (arXiv:2303.08797v3, Remark 3.8).

    Raises where :math:`\dot\gamma` is infinite; :class:`MirrorVelocityFromScore` is finite there.
    """

    inputs = ("noise",)
    parameter = "gamma"
    output = "drift"

    def __init__(self, noise, gamma_schedule):
        self.noise = _check_field(noise, "noise")
        self.gamma_schedule = _check_schedule(gamma_schedule)

    def _convert(self, x, times, column, c):
        gamma_dot = self._finite_factor(self.gamma_schedule.gamma_dot(times), times, "gamma_dot")
        return self._col(gamma_dot, column) * self._field(self.noise, "noise", x, times, c)


class ScoreFromMirrorDrift(Wrapper):
    r"""Score from the mirror drift: :math:`s = -b / (\gamma\dot\gamma)`.

    Undefined where :math:`\gamma\dot\gamma = 0` (e.g. t = 1/2 for symmetric schedules,
    where the mirror drift vanishes identically): those times raise.
    """

    inputs = ("drift",)
    parameter = "gamma"
    output = "score"

    def __init__(self, drift, gamma_schedule):
        self.drift = _check_field(drift, "drift")
        self.gamma_schedule = _check_schedule(gamma_schedule)

    def _convert(self, x, times, column, c):
        gg_dot = self._divisor(self.gamma_schedule.gamma_gamma_dot(times), times, column, "gamma*gamma_dot", None,
                               "The mirror drift carries no information about the score there.")
        return -self._field(self.drift, "drift", x, times, c) / gg_dot


# --- deterministic affine paths (γ = 0): the flow-matching conversions ------------------------------

class _AffinePathWrapper(Wrapper):
    r"""For :math:`x_t = \alpha x_0 + \beta x_1` (γ = 0), :math:`x = \alpha\hat x_0 + \beta\hat x_1` and
    :math:`v = \dot\alpha\hat x_0 + \dot\beta\hat x_1` determine each other.

    In the notation of flow-matching libraries (:math:`x_t = \alpha_t X_1 + \sigma_t X_0`,
    X_0 the noise) :math:`\alpha_t` is si_ref's β, :math:`\sigma_t` is si_ref's α, the
    "x1 prediction" is :math:`\hat x_1`, the "noise (epsilon) prediction" is :math:`\hat x_0`
    and the "velocity" is v.
    """

    source_name = "field"

    def __init__(self, field, interpolant, *, min_divisor=None, eps=None):
        self.field = _check_field(field, self.source_name)
        self.interpolant = _check_interpolant(interpolant, zero_gamma=True)
        self.min_divisor = _check_min_divisor(min_divisor, eps, type(self).__name__)

    def _parts(self, x, times, column, c):
        I = self.interpolant
        coefficients = {name: self._col(getattr(I, name)(times), column)
                        for name in ("alpha", "alpha_dot", "beta", "beta_dot")}
        return coefficients, self._field(self.field, self.source_name, x, times, c)


class DenoiserX0FromDenoiserX1(_AffinePathWrapper):
    r""":math:`\hat x_0 = (x - \beta\hat x_1) / \alpha` (noise prediction from x1 prediction); α = 0 (t = 1) raises unless ``min_divisor`` (``eps``: its deprecated name)."""

    inputs = ("denoise_x1",)
    parameter = "interpolant"
    output = "denoise_x0"

    source_name = "denoise_x1"

    def _convert(self, x, times, column, c):
        k, x1_hat = self._parts(x, times, column, c)
        alpha = self._divisor(self.interpolant.alpha(times), times, column, "alpha", self.min_divisor, "Pass min_divisor or use t < 1.")
        return (x - k["beta"] * x1_hat) / alpha


class DenoiserX1FromDenoiserX0(_AffinePathWrapper):
    r""":math:`\hat x_1 = (x - \alpha\hat x_0) / \beta` (x1 prediction from noise prediction); β = 0 (t = 0) raises unless ``min_divisor`` (``eps``: its deprecated name)."""

    inputs = ("denoise_x0",)
    parameter = "interpolant"
    output = "denoise_x1"

    source_name = "denoise_x0"

    def _convert(self, x, times, column, c):
        k, x0_hat = self._parts(x, times, column, c)
        beta = self._divisor(self.interpolant.beta(times), times, column, "beta", self.min_divisor, "Pass min_divisor or use t > 0.")
        return (x - k["alpha"] * x0_hat) / beta


class VelocityFromDenoiserX1(_AffinePathWrapper):
    r""":math:`v = \dot\alpha (x - \beta\hat x_1)/\alpha + \dot\beta\hat x_1` (velocity from x1 prediction); α = 0 raises unless ``min_divisor`` (``eps``: its deprecated name)."""

    inputs = ("denoise_x1",)
    parameter = "interpolant"
    output = "velocity"

    source_name = "denoise_x1"

    def _convert(self, x, times, column, c):
        k, x1_hat = self._parts(x, times, column, c)
        alpha = self._divisor(self.interpolant.alpha(times), times, column, "alpha", self.min_divisor, "Pass min_divisor or use t < 1.")
        return k["alpha_dot"] * (x - k["beta"] * x1_hat) / alpha + k["beta_dot"] * x1_hat


class VelocityFromDenoiserX0(_AffinePathWrapper):
    r""":math:`v = \dot\alpha\hat x_0 + \dot\beta (x - \alpha\hat x_0)/\beta` (velocity from noise prediction); β = 0 raises unless ``min_divisor`` (``eps``: its deprecated name)."""

    inputs = ("denoise_x0",)
    parameter = "interpolant"
    output = "velocity"

    source_name = "denoise_x0"

    def _convert(self, x, times, column, c):
        k, x0_hat = self._parts(x, times, column, c)
        beta = self._divisor(self.interpolant.beta(times), times, column, "beta", self.min_divisor, "Pass min_divisor or use t > 0.")
        return k["alpha_dot"] * x0_hat + k["beta_dot"] * (x - k["alpha"] * x0_hat) / beta


class _FromVelocity(_AffinePathWrapper):
    source_name = "velocity"

    def __init__(self, field, interpolant):  # the divisor α̇β − αβ̇ changes sign: no clamp
        super().__init__(field, interpolant)

    def _wronskian(self, times, column):
        I = self.interpolant
        return self._divisor(I.alpha_dot(times) * I.beta(times) - I.alpha(times) * I.beta_dot(times), times, column,
                             "alpha_dot*beta - alpha*beta_dot", None, "The path does not determine the denoisers from v there.")


class DenoiserX0FromVelocity(_FromVelocity):
    r""":math:`\hat x_0 = (\beta v - \dot\beta x) / (\dot\alpha\beta - \alpha\dot\beta)` (noise prediction from velocity)."""

    inputs = ("velocity",)
    parameter = "interpolant"
    output = "denoise_x0"

    def _convert(self, x, times, column, c):
        k, v = self._parts(x, times, column, c)
        return (k["beta"] * v - k["beta_dot"] * x) / self._wronskian(times, column)


class DenoiserX1FromVelocity(_FromVelocity):
    r""":math:`\hat x_1 = (\dot\alpha x - \alpha v) / (\dot\alpha\beta - \alpha\dot\beta)` (x1 prediction from velocity)."""

    inputs = ("velocity",)
    parameter = "interpolant"
    output = "denoise_x1"

    def _convert(self, x, times, column, c):
        k, v = self._parts(x, times, column, c)
        return (k["alpha_dot"] * x - k["alpha"] * v) / self._wronskian(times, column)
