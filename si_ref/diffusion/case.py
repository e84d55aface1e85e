r"""Exact fields of a Gaussian diffusion path for Gaussian and Gaussian-mixture data.

For :math:`x = a\, x_{\mathrm{data}} + \sigma\varepsilon` with :math:`\varepsilon \sim N(0, I)`
independent of the data, every prediction target is a conditional expectation given x
(Ho et al. 2020; Salimans & Ho 2022, arXiv:2202.00512, Sec. 4 and App. D; Karras et al. 2022,
arXiv:2206.00364, eq. (3); Lipman et al. 2023, arXiv:2210.02747):

=====================  ==================================================  =============================
name                   definition                                          identity
=====================  ==================================================  =============================
ε-prediction ε̂         E[ε | x]                                            ε̂ = −σ s
x0-prediction x̂        E[x_data | x] (EDM's denoiser D)                    x = a x̂ + σ ε̂ (Tweedie)
v-prediction v̂         E[a ε − σ x_data | x]                               v̂ = a ε̂ − σ x̂
score s                ∇ log ρ_τ(x)                                         s = −ε̂/σ
flow velocity u        E[ȧ x_data + σ̇ ε | x] = dx/dτ of the PF-ODE          u = ȧ x̂ − σσ̇ s
PF-ODE drift           f x − ½ g² s (Song et al. 2021, eq. (13))           equal to u
reverse-SDE drift      f x − g² s (Song et al. 2021, eq. (6)), dτ < 0       u − ½ g² s
=====================  ==================================================  =============================

One maths: the values at a noise level (a, σ) are those of :class:`si_ref.GaussianCase`
for the one-sided interpolant with coefficients proportional to (σ, a) — the data are
its target and ε its N(0, I) base — evaluated at :math:`x/(a + \sigma)`
(scaling x by a constant scales the coefficients, not the conditional laws of ε and
x_data). The small one of a/(a + σ) and σ/(a + σ) is the case's time, so neither
coefficient is formed as 1 minus a number close to 1. :math:`\sigma\dot\sigma` enters
through the path's closed form, so ``flow_velocity`` is finite on [0, 1] whenever the data
covariances are SPD (VP paths have σ̇ = ∞ at τ = 0).

In si_ref's interpolant convention (:meth:`DiffusionPath.interpolant`, :math:`t = 1 - \tau`):
:math:`\hat x_0 = \hat\varepsilon`, :math:`\hat x_1 = \hat x`, si_ref's velocity = drift =
:math:`-u`, and the generative SDE (reverse SDE in τ) is si_ref's forward SDE with
:math:`\varepsilon(t) = \tfrac12 g^2(1 - t)`.

Shapes: ``x`` (n, d); ``tau`` a scalar or (n,); ``a``, ``sigma`` a scalar or (n,) or (n, 1)
(one level per row); vector fields (n, d), scalar fields (n,).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from .._checks import as_levels, as_points, as_time_scalar, as_times
from ..distributions import Gaussian, GaussianMixture
from ..gaussian import GaussianCase, GaussianComponents
from ..interpolants import Interpolant
from ..schedules import GammaSchedule, ZeroGamma
from .paths import TAU_MEANING, DiffusionPath

__all__ = ["DiffusionCase", "PREDICTION_TYPES"]

#: Prediction types, with diffusers' names where they have one ("sample" is x̂ = E[x_data | x]).
PREDICTION_TYPES = ("epsilon", "sample", "v_prediction", "score", "flow")


@dataclass(frozen=True)
class _NoiseSmall(Interpolant):
    """x = r (t ε + (1 − t) x_data): the case used where σ <= a, at t = σ/(a + σ) <= 1/2."""

    kind: ClassVar[str] = "one-sided"
    gamma_schedule: GammaSchedule = field(default=ZeroGamma(), init=False, repr=False)

    def _alpha(self, t):
        return t.copy()

    def _alpha_dot(self, t):
        return np.ones_like(t)

    def _beta(self, t):
        return 1.0 - t

    def _beta_dot(self, t):
        return np.full_like(t, -1.0)


@dataclass(frozen=True)
class _SignalSmall(Interpolant):
    """x = r ((1 − t) ε + t x_data): the case used where a < σ, at t = a/(a + σ) < 1/2."""

    kind: ClassVar[str] = "one-sided"
    gamma_schedule: GammaSchedule = field(default=ZeroGamma(), init=False, repr=False)

    def _alpha(self, t):
        return 1.0 - t

    def _alpha_dot(self, t):
        return np.full_like(t, -1.0)

    def _beta(self, t):
        return t.copy()

    def _beta_dot(self, t):
        return np.ones_like(t)


#: What a level (a, σ) is, for the messages of the functions that take one.
LEVEL_FIX = ("a and sigma are the signal and noise scales of x = a x_data + sigma eps, both >= 0 "
             "(a = sqrt(alpha_bar), sigma = sqrt(1 - alpha_bar) for a VP table).")


class DiffusionCase:
    r"""Exact fields of :math:`x_\tau = a(\tau) x_{\mathrm{data}} + \sigma(\tau)\varepsilon` (module docstring).

    Parameters
    ----------
    data : Gaussian or GaussianMixture
        The law of :math:`x_{\mathrm{data}}` (SPD covariances).
    path : DiffusionPath, optional
        Needed for the methods in τ (``epsilon(x, tau)`` ...); the methods at a noise
        level (``epsilon_at(x, a, sigma)`` ...) work without it (discrete schedules,
        EDM's σ grid).
    """

    def __init__(self, data, path: DiffusionPath | None = None):
        if not isinstance(data, (Gaussian, GaussianMixture)):
            raise TypeError(f"data must be a Gaussian or GaussianMixture; received {type(data).__name__}.")
        if path is not None and not isinstance(path, DiffusionPath):
            raise TypeError(f"path must be a DiffusionPath such as VPLinearPath() or None; received "
                            f"{type(path).__name__}.")
        self.data = data
        self.path = path
        self.dim = data.dim
        self._noise_small = GaussianCase(_NoiseSmall(), None, data)
        self._signal_small = GaussianCase(_SignalSmall(), None, data)

    def __repr__(self):
        return f"DiffusionCase(data={self.data!r}, path={self.path!r})"

    # --- at a noise level (a, σ) ------------------------------------------------------------------
    def _at(self, method: str, x, a, sigma, *, scale_power=0, offset=0.0):
        """``GaussianCase.method`` at x/(a + σ), by rows: the case whose time is the small ratio."""
        x = as_points(x, "x", d=self.dim)
        n = x.shape[0]
        a, sigma = (as_levels(v, name, n, low=0.0, fix=LEVEL_FIX) for v, name in ((a, "a"), (sigma, "sigma")))
        r = a + sigma
        if np.any(r == 0.0):
            raise ValueError("a and sigma must not both be 0 (x would be 0 whatever the data); received a = sigma = 0.")
        if a.ndim == 0 and sigma.ndim == 0:
            case, t = (self._noise_small, sigma / r) if sigma <= a else (self._signal_small, a / r)
            value = getattr(case, method)(x / r, float(t))
            return value * r**scale_power + (offset * np.log(r) if offset else 0.0)
        a, sigma, r = (np.broadcast_to(v, (n, 1))[:, 0] for v in (a, sigma, r))     # one level per row
        out = None
        for rows, case, t in ((sigma <= a, self._noise_small, sigma / r), (sigma > a, self._signal_small, a / r)):
            if not rows.any():
                continue
            value = getattr(case, method)(x[rows] / r[rows, None], t[rows])
            rr = r[rows] if value.ndim == 1 else r[rows, None]
            value = value * rr**scale_power + (offset * np.log(rr) if offset else 0.0)
            if out is None:
                out = np.empty((n,) + value.shape[1:])
            out[rows] = value
        return out

    def epsilon_at(self, x, a, sigma) -> np.ndarray:
        r""":math:`\hat\varepsilon = E[\varepsilon \mid a x_{\mathrm{data}} + \sigma\varepsilon = x]`; (n, d)."""
        return self._at("denoise_x0", x, a, sigma)

    def denoised_at(self, x, a, sigma) -> np.ndarray:
        r""":math:`\hat x = E[x_{\mathrm{data}} \mid a x_{\mathrm{data}} + \sigma\varepsilon = x]` (x0-prediction, EDM's D); (n, d)."""
        return self._at("denoise_x1", x, a, sigma)

    def score_at(self, x, a, sigma) -> np.ndarray:
        r""":math:`\nabla_x\log\rho(x)` of :math:`a x_{\mathrm{data}} + \sigma\varepsilon`; (n, d)."""
        return self._at("score", x, a, sigma, scale_power=-1)

    def log_density_at(self, x, a, sigma) -> np.ndarray:
        r""":math:`\log\rho(x)` of :math:`a x_{\mathrm{data}} + \sigma\varepsilon`; (n,)."""
        return self._at("log_density", x, a, sigma, offset=-float(self.dim))

    def v_at(self, x, a, sigma) -> np.ndarray:
        r"""v-prediction :math:`E[a\varepsilon - \sigma x_{\mathrm{data}} \mid x] = a\hat\varepsilon - \sigma\hat x` (Salimans & Ho 2022, eq. (D.2)); (n, d)."""
        eps, x0 = self.epsilon_at(x, a, sigma), self.denoised_at(x, a, sigma)
        a, sigma = (np.reshape(np.asarray(v, dtype=np.float64), (-1, 1)) for v in (a, sigma))
        return a * eps - sigma * x0

    def components_at(self, a, sigma) -> GaussianComponents:
        r"""The law of :math:`x = a\, x_{\mathrm{data}} + \sigma\varepsilon` at one level, as Gaussian components.

        .. math::

            \rho(x) = \sum_k \pi_k\, N\big(x;\ a\, m_k,\ a^2 S_k + \sigma^2 I\big)

        for data :math:`\sum_k \pi_k N(m_k, S_k)` (a :class:`Gaussian` is one component of weight 1).

        Parameters
        ----------
        a, sigma : float
            One level: a >= 0, σ >= 0 (a 0-d array or an array of one element is accepted).

        Returns
        -------
        GaussianComponents
            ``weights`` shape (k,), ``means`` shape (k, d), ``covs`` shape (k, d, d); new arrays.

        Raises
        ------
        TypeError
            For a non-real a or σ (bool, complex, a string).
        ValueError
            For NaN, inf or a negative value, or more than one level.
        """
        a, sigma = (self._one_level(v, name) for v, name in ((a, "a"), (sigma, "sigma")))
        weights, means, covs = ((np.ones(1), self.data.mean[None], self.data.cov[None])
                                if isinstance(self.data, Gaussian) else
                                (self.data.weights, self.data.means, self.data.covs))
        return GaussianComponents(weights.copy(), a * means, a**2 * covs + sigma**2 * np.eye(self.dim))

    @staticmethod
    def _one_level(value, name: str) -> float:
        level = as_levels(value, name, low=0.0, fix=LEVEL_FIX)
        if level.size != 1:
            raise ValueError(f"{name} must be a single level here (the law of x at one level); received shape "
                             f"{level.shape}. Call once per level.")
        return float(level.reshape(()))

    # --- in the path's time τ --------------------------------------------------------------------------
    def _require_path(self):
        if self.path is None:
            raise ValueError("this DiffusionCase has no path; pass path=VPLinearPath() (or another DiffusionPath) "
                             "to use the methods in tau, or use the *_at(x, a, sigma) methods.")
        return self.path

    def _levels(self, tau):
        path = self._require_path()
        t = as_times(tau, "tau", meaning=TAU_MEANING)
        return t, path._a(t), path._sigma(t)

    def epsilon(self, x, tau) -> np.ndarray:
        r"""ε-prediction :math:`E[\varepsilon \mid x_\tau = x]`; (n, d)."""
        _, a, s = self._levels(tau)
        return self.epsilon_at(x, a, s)

    def denoised(self, x, tau) -> np.ndarray:
        r"""x0-prediction :math:`E[x_{\mathrm{data}} \mid x_\tau = x]`; (n, d)."""
        _, a, s = self._levels(tau)
        return self.denoised_at(x, a, s)

    def v(self, x, tau) -> np.ndarray:
        r"""v-prediction :math:`E[a\varepsilon - \sigma x_{\mathrm{data}} \mid x_\tau = x]`; (n, d)."""
        _, a, s = self._levels(tau)
        return self.v_at(x, a, s)

    def score(self, x, tau) -> np.ndarray:
        r""":math:`\nabla\log\rho_\tau(x)`; (n, d)."""
        _, a, s = self._levels(tau)
        return self.score_at(x, a, s)

    def log_density(self, x, tau) -> np.ndarray:
        r""":math:`\log\rho_\tau(x)`; (n,)."""
        _, a, s = self._levels(tau)
        return self.log_density_at(x, a, s)

    def density(self, x, tau) -> np.ndarray:
        r""":math:`\rho_\tau(x)`; (n,)."""
        return np.exp(self.log_density(x, tau))

    def flow_velocity(self, x, tau) -> np.ndarray:
        r"""Flow velocity :math:`u = E[\dot a x_{\mathrm{data}} + \dot\sigma\varepsilon \mid x_\tau = x] = dx/d\tau`.

        Computed as :math:`\dot a\hat x - \sigma\dot\sigma\, s` (:math:`\dot\sigma\hat\varepsilon =
        -\sigma\dot\sigma s`), finite on [0, 1]. For rectified flow it is the target
        :math:`\varepsilon - x_{\mathrm{data}}` of flow matching (diffusers' ``prediction_type="flow"``); (n, d).
        """
        t, a, s = self._levels(tau)
        path = self.path
        x0 = self.denoised_at(x, a, s)
        score = self.score_at(x, a, s)
        a_dot, ss_dot = (np.reshape(c, (-1, 1)) for c in (path._a_dot(t), path._sigma_sigma_dot(t)))
        return a_dot * x0 - ss_dot * score

    def pf_ode_drift(self, x, tau) -> np.ndarray:
        r"""Probability-flow ODE drift :math:`f x - \tfrac12 g^2 s` in τ (Song et al. 2021, eq. (13)); (n, d).

        Equal to :meth:`flow_velocity` (a test checks it); written with the SDE's f and g²,
        so it raises where a = 0 (f infinite), where the flow velocity stays finite.
        """
        t, a, s = self._levels(tau)
        f = np.reshape(self.path.drift_coefficient(t), (-1, 1))
        g2 = np.reshape(self.path.diffusion_squared(t), (-1, 1))
        return f * as_points(x, "x", d=self.dim) - 0.5 * g2 * self.score_at(x, a, s)

    def reverse_sde_drift(self, x, tau) -> np.ndarray:
        r"""Drift :math:`f x - g^2 s` of the reverse-time SDE :math:`dx = [f x - g^2 s]\,d\tau + g\,d\bar W`
        run from τ = 1 to 0 (Anderson 1982; Song et al. 2021, eq. (6)); (n, d).

        Raises where a = 0 (f and g² infinite).
        """
        t, a, s = self._levels(tau)
        f = np.reshape(self.path.drift_coefficient(t), (-1, 1))
        g2 = np.reshape(self.path.diffusion_squared(t), (-1, 1))
        return f * as_points(x, "x", d=self.dim) - g2 * self.score_at(x, a, s)

    def prediction(self, prediction_type: str, x, tau) -> np.ndarray:
        """The exact field of ``prediction_type`` (one of :data:`PREDICTION_TYPES`) at (x, τ).

        ``"epsilon"`` is :meth:`epsilon`, ``"sample"`` :meth:`denoised`, ``"v_prediction"``
        :meth:`v`, ``"score"`` :meth:`score` and ``"flow"`` :meth:`flow_velocity`.

        Parameters
        ----------
        prediction_type : str
            One of :data:`PREDICTION_TYPES`.
        x : array_like, shape (n, d)
        tau : float or array_like, shape (n,)
            Times of the path in [0, 1].

        Returns
        -------
        ndarray, shape (n, d)

        Raises
        ------
        ValueError
            For an unknown ``prediction_type``, a case without a path, and as the method it selects
            (wrong shapes, NaN/inf, τ outside [0, 1]).
        TypeError
            For non-real x or τ.
        """
        methods = {"epsilon": self.epsilon, "sample": self.denoised, "v_prediction": self.v,
                   "score": self.score, "flow": self.flow_velocity}
        if prediction_type not in methods:
            raise ValueError(f"prediction_type must be one of {PREDICTION_TYPES}; received {prediction_type!r}.")
        return methods[prediction_type](x, tau)

    def components(self, tau) -> GaussianComponents:
        r"""Weights, means and covariances of :math:`\rho_\tau` at one τ: :meth:`components_at` at
        :math:`(a(\tau), \sigma(\tau))`.

        Parameters
        ----------
        tau : float
            One time of the path in [0, 1].

        Returns
        -------
        GaussianComponents
            ``weights`` shape (k,), ``means`` shape (k, d), ``covs`` shape (k, d, d).

        Raises
        ------
        ValueError
            For a case without a path, an array of times, NaN/inf or τ outside [0, 1].
        TypeError
            For a non-real τ.
        """
        _, a, s = self._levels(as_time_scalar(tau, "tau"))
        return self.components_at(a, s)

    def interpolant_case(self) -> GaussianCase:
        r"""si_ref's :class:`GaussianCase` of :meth:`DiffusionPath.interpolant` (time t = 1 − τ, base N(0, I))."""
        return GaussianCase(self._require_path().interpolant(), None, self.data)
