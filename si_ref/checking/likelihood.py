r"""The log-likelihood of the probability-flow ODE as a checkable quantity.

Along the probability flow :math:`\dot X_t = b(X_t, t)`, which carries :math:`\rho_0` to
:math:`\rho_t` (README, Conventions; arXiv:2303.08797v3, eq. (2.10) and the instantaneous change of
variables), :math:`\frac{d}{dt}\log\rho_t(X_t) = -\nabla\cdot b(X_t, t)`. For the path that
ends at a point :math:`X_1 = x`,

.. math::

    \log\rho_1(x) = \log\rho_0(X_0) - \int_0^1 \nabla\cdot b(X_t, t)\,dt,

computed by integrating :math:`(X_t, \int_t^1 \nabla\cdot b)` backwards from t = 1 to t = 0.

The implementation under test is called ``loglik(drift, divergence, x, base_log_density)``:

======================  ===========================================================
``drift``               the case's exact drift b(x, t): (n, d), t a float -> (n, d)
``divergence``          the case's exact ∇·b(x, t): (n, d), t a float -> (n,)
``x``                   points at t = 1, shape (n, d)
``base_log_density``    log ρ_0: (n, d) -> (n,) (the case's log density at t = 0)
======================  ===========================================================

and returns log ρ_1(x), shape (n,). The exact value is the case's closed form
``case.log_density(x, 1.0)``. Time is not an input: every example is at t = 1 (the
quantity's interval is [1, 1]; ``times=[1.0]`` is the only list that fits it).

Tolerances. An implementation integrates numerically: check it with ``rtol``/``atol`` that
match its solver (e.g. ``rtol=1e-4, atol=1e-4`` for an adaptive solver at its default
settings); the default float64 tolerance (rtol = 1e-6, atol = 1e-8) needs a tight solver.
si_ref's own implementation (``solve_ivp`` DOP853, rtol = atol = 1e-10) passes it.

The mistakes' values are computed with accurate flows: the augmented system
:math:`(\dot X, \dot\ell) = (b(X, t), \nabla\cdot b(X, t))` integrated by
:func:`si_ref.samplers.integrate_reference` (DOP853, rtol = 1e-10, atol = 1e-12), once per
example and direction (cached), with :math:`X_0` and :math:`I = \int_0^1 \nabla\cdot b(X_t, t)\,dt`
along the backward path through x, :math:`Y_1` and :math:`J = \int_0^1 \nabla\cdot b(Y_t, t)\,dt`
along the forward path from :math:`Y_0 = x`:

========================  ======================================================================
divergence-sign           log ρ_0(X_0) + I
wrong-direction           log ρ_0(x) − J (x taken as a point at t = 0: the log density of the
                          sample generated from x, log ρ_1(Y_1)); log ρ_0(Y_1) + J (the limits
                          of the integration exchanged); log ρ_0(Y_1) − J
estimator-scaling         log ρ_0(X_0) − d I, log ρ_0(X_0) − I/d, log ρ_0(X_0) − k I with a
                          whole number k >= 2 estimated from the values (a trace estimate
                          summed over k probes instead of averaged)
sign-flip                 −log ρ_1(x)
density-for-log-density   ρ_1(x)
constant-factor           c log ρ_1(x), c estimated
========================  ======================================================================

A time-reversed convention (data at t = 0, the diffusion models' convention) shows in a
likelihood integrator as the direction of integration: it is diagnosed ``wrong-direction``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from hypothesis import strategies as st

from .. import strategies as sis
from ..gaussian import GaussianCase
from ..likelihood import ode_log_likelihood
from ..samplers import integrate_reference
from .draw import bulk_points
from .example import Example
from .quantity import Quantity, _named_cases
from .variants import Fitted, constant_factor, mistake, negated

__all__ = ["LikelihoodQuantity", "likelihood_quantities", "ReferenceLogLikelihood", "LIKELIHOOD_TIME",
           "FAR_SIGMAS", "path_integral"]

#: The time of the points whose log density is asked: the target end.
LIKELIHOOD_TIME = 1.0

#: Distance, in standard deviations of ρ_1 (whitened by the Cholesky factor of its covariance), of the
#: fixed far points from the mean of ρ_1. Moderate on purpose: from the far points of the field quantities
#: (|x| up to 1e3) the backward flow of a mixture is stiffer -- measured with si_ref's DOP853 at 1e-10,
#: mixture-2d-linear-brownian and mixture-3d-linear-sigmoid need ten times the evaluations (3 s instead of
#: 0.3 s) -- and a peer's fixed-step or loosely tolerated solver misses there by more than any tolerance meant
#: for the bulk, where a likelihood is asked for; a convention mistake shows at five standard deviations as well.
FAR_SIGMAS = 5.0

#: Tolerances of the flows behind the mistakes' values (they need only be accurate to the check's tolerance).
_FORM_RTOL, _FORM_ATOL = 1e-10, 1e-12

#: Smallest and largest whole number of probes the estimator-scaling form recognises.
_MIN_PROBES, _MAX_PROBES = 2, 4096
#: A fitted probe count within this fraction of a whole number is read as that number.
_WHOLE = 0.02


# --- the calling convention ----------------------------------------------------------------------

def _drift_of(case: GaussianCase):
    def drift(x, t):
        return case.drift(x, t)
    return drift


def _divergence_of(case: GaussianCase):
    def divergence(x, t):
        return case.divergence(x, t)
    return divergence


def _base_log_density_of(case: GaussianCase):
    def base_log_density(x0):
        return case.log_density(x0, 0.0)
    return base_log_density


class ReferenceLogLikelihood:
    r"""si_ref's :func:`~si_ref.likelihood.ode_log_likelihood` behind the checked signature.

    ``loglik(drift, divergence, x, base_log_density)`` returns
    :math:`\log\rho_1(x) = \log\rho_0(X_0) - \int_0^1 \nabla\cdot b(X_t, t)\,dt` for x of shape
    (n, d), shape (n,): ``solve_ivp`` DOP853 with rtol = atol = 1e-10, the exact divergence.

    Called with a reference alone, ``loglik(case)``, it returns itself: the form
    ``make(reference) -> callable`` of the field quantities' reference implementations (the
    log-likelihood needs nothing from the reference beyond the callables it receives).
    """

    __name__ = "si_ref_ode_log_likelihood"

    def __call__(self, drift, divergence=None, x=None, base_log_density=None):
        if isinstance(drift, GaussianCase) and divergence is None and x is None and base_log_density is None:
            return self
        return ode_log_likelihood(drift, x, base_log_density, divergence=divergence)

    def __repr__(self):
        return "ReferenceLogLikelihood()"


# --- accurate flows for the mistakes' values -------------------------------------------------------

_cache_lock = threading.Lock()
_cache: dict = {}
_CACHE_SIZE = 256


def path_integral(case: GaussianCase, x: np.ndarray, start: float) -> tuple:
    r"""The probability-flow path through x at time ``start`` and the integral of ∇·b along it.

    Parameters
    ----------
    case : GaussianCase
    x : ndarray, shape (n, d)
        :math:`X_{start} = x`.
    start : {1.0, 0.0}
        1.0: integrate :math:`\dot X = b(X, t)` backwards to t = 0; 0.0: forwards to t = 1.

    Returns
    -------
    end : ndarray, shape (n, d)
        :math:`X_0` (start = 1) or :math:`X_1` (start = 0).
    integral : ndarray, shape (n,)
        :math:`\int_0^1 \nabla\cdot b(X_t, t)\,dt` along that path (t increasing, whichever
        way it was integrated).

    Notes
    -----
    The augmented system :math:`(\dot X, \dot\ell) = (b, \nabla\cdot b)`, :math:`\ell_{start} = 0`,
    is integrated by :func:`~si_ref.samplers.integrate_reference` (DOP853, rtol 1e-10,
    atol 1e-12): :math:`\ell_{end} = \int_{start}^{end}\nabla\cdot b\,dt`, which is minus the
    integral over [0, 1] when start = 1. Results are cached per (case, x, start).
    """
    x = np.asarray(x, dtype=np.float64)
    key = (id(case), float(start), x.shape, x.tobytes())
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] is case:
        return hit[1]
    n, d = x.shape

    def augmented(y, t):
        points = y[:, :d]
        return np.concatenate([case.drift(points, t), case.divergence(points, t)[:, None]], axis=1)

    end_time = 1.0 - float(start)
    solution = integrate_reference(augmented, np.concatenate([x, np.zeros((n, 1))], axis=1), float(start),
                                   end_time, rtol=_FORM_RTOL, atol=_FORM_ATOL)
    final = solution.states[-1]
    accumulated = final[:, d]                                 # ∫_start^end ∇·b dt
    result = (final[:, :d], accumulated if start == 0.0 else -accumulated)
    with _cache_lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.clear()
        _cache[key] = (case, result)
    return result


def _exact(ex: Example) -> np.ndarray:
    """log ρ_1(x), the case's closed form: (n,)."""
    return ex.reference.log_density(ex.x, LIKELIHOOD_TIME)


def _base(ex: Example, points) -> np.ndarray:
    """log ρ_0 at ``points`` (n, d): (n,)."""
    return ex.reference.log_density(points, 0.0)


def _backward(ex: Example) -> tuple:
    """(log ρ_0(X_0), I): the base term and ∫₀¹ ∇·b along the backward path from X_1 = x."""
    x0, integral = path_integral(ex.reference, ex.x, 1.0)
    return _base(ex, x0), integral


def _forward(ex: Example) -> tuple:
    """(Y_1, J): the end of the forward path from Y_0 = x and ∫₀¹ ∇·b along it."""
    return path_integral(ex.reference, ex.x, 0.0)


def _divergence_scaled(factor):
    """log ρ_0(X_0) − factor(ex) · I."""
    def value(ex):
        base, integral = _backward(ex)
        return base - factor(ex) * integral
    return value


def _fit_probe_count(ex: Example, received: np.ndarray):
    """The k of log ρ_0(X_0) − k I closest to ``received`` (least squares), read as a whole number of probes
    k >= 2; None otherwise, and None for k = d (the explicit form of the mistake names that one; k = 1 is the
    exact value, k = −1 the other sign)."""
    base, integral = _backward(ex)
    ok = np.isfinite(received) & np.isfinite(integral) & np.isfinite(base)
    norm = float(np.dot(integral[ok], integral[ok])) if ok.any() else 0.0
    if norm == 0.0:
        return None
    k = float(np.dot(base[ok] - received[ok], integral[ok])) / norm
    if not np.isfinite(k):
        return None
    whole = round(k)
    if not _MIN_PROBES <= whole <= _MAX_PROBES or abs(k - whole) > _WHOLE * whole or whole == ex.x.shape[1]:
        return None
    return float(whole)


def _likelihood_mistakes() -> tuple:
    def direction_from_base(ex):                      # log ρ_0(x) − J = log ρ_1(Y_1)
        _, integral = _forward(ex)
        return _base(ex, ex.x) - integral

    def direction_limits_exchanged(ex):              # log ρ_0(Y_1) + J
        end, integral = _forward(ex)
        return _base(ex, end) + integral

    def direction_forward(ex):                       # log ρ_0(Y_1) − J
        end, integral = _forward(ex)
        return _base(ex, end) - integral

    def dimension(ex):
        return float(ex.x.shape[1])

    return (
        mistake("divergence-sign", ("log ρ_0(X_0) + ∫₀¹ ∇·b(X_t, t) dt (the divergence term added)",
                                    _divergence_scaled(lambda ex: -1.0))),
        mistake("wrong-direction",
                ("log ρ_0(x) − ∫₀¹ ∇·b(Y_t, t) dt along the forward flow from Y_0 = x (x taken as a point at t = 0: "
                 "the log density of the sample generated from x)", direction_from_base),
                ("log ρ_0(Y_1) + ∫₀¹ ∇·b(Y_t, t) dt with Y_0 = x (the limits of the integration exchanged)",
                 direction_limits_exchanged),
                ("log ρ_0(Y_1) − ∫₀¹ ∇·b(Y_t, t) dt with Y_0 = x (integrated forwards from x)", direction_forward)),
        mistake("estimator-scaling",
                ("log ρ_0(X_0) − d ∫₀¹ ∇·b dt (the divergence summed over d probes, not averaged)",
                 _divergence_scaled(dimension)),
                ("log ρ_0(X_0) − (1/d) ∫₀¹ ∇·b dt (the Jacobian's diagonal averaged where it is summed)",
                 _divergence_scaled(lambda ex: 1.0 / dimension(ex))),
                Fitted("log ρ_0(X_0) − {parameter:.0f} ∫₀¹ ∇·b dt (a trace estimate summed over {parameter:.0f} probes, "
                       "not averaged)",
                       _fit_probe_count, lambda ex, k: _divergence_scaled(lambda e: k)(ex))),
        mistake("sign-flip", ("−log ρ_1(x)", negated(_exact))),
        mistake("density-for-log-density", ("ρ_1(x) = exp(log ρ_1(x))", lambda ex: np.exp(_exact(ex)))),
        constant_factor(_exact),
    )


# --- the quantity -----------------------------------------------------------------------------------

def _at_one(reference) -> tuple:
    """The quantity's time interval: the single time t = 1."""
    return (LIKELIHOOD_TIME, LIKELIHOOD_TIME)


def _far_points(case: GaussianCase) -> np.ndarray:
    r"""m ± FAR_SIGMAS · L e1 and m + FAR_SIGMAS · L u, with m and L Lᵀ the mean and covariance of ρ_1 (moments
    of the mixture) and, for d > 1, u a fixed unit vector with every coordinate nonzero: shape (3, d) or (2, 1)."""
    components = case.components(np.array([LIKELIHOOD_TIME]))
    weights, means, covs = components.weights, components.means[0], components.covs[0]
    mean = weights @ means
    centred = means - mean
    cov = np.einsum("p,pij->ij", weights, covs) + np.einsum("p,pi,pj->ij", weights, centred, centred)
    factor = np.linalg.cholesky(cov)
    d = case.dim
    e1 = np.zeros(d)
    e1[0] = 1.0
    oblique = np.arange(1.0, d + 1.0) * (-1.0) ** np.arange(d)
    directions = np.stack([e1, -e1] + ([oblique / np.linalg.norm(oblique)] if d > 1 else []))
    return mean + FAR_SIGMAS * directions @ factor.T


@dataclass(frozen=True)
class LikelihoodQuantity(Quantity):
    r"""log ρ_1(x) by the probability-flow ODE, called ``loglik(drift, divergence, x, base_log_density)``.

    The implementation receives the case's exact drift b(x, t) and divergence ∇·b(x, t)
    (callables of x (n, d) and a float t), the points x (n, d) at t = 1 and log ρ_0 (a callable
    of (n, d) points); it returns (n,) values of
    :math:`\log\rho_1(x) = \log\rho_0(X_0) - \int_0^1 \nabla\cdot b(X_t, t)\,dt`. It is generic
    (no factory: the same callable serves every reference). Inputs: points in the bulk of
    :math:`\rho_1` (1 to 4 rows), after the fixed inputs: the modes of :math:`\rho_1`, and
    three points :data:`FAR_SIGMAS` standard deviations from its mean.
    """

    level: ClassVar[str] = "likelihood"
    reference_type: ClassVar[type] = GaussianCase
    takes_factory: ClassVar[bool] = False
    arguments: ClassVar[tuple] = ("drift", "divergence", "x", "base_log_density")

    def bind(self, implementation, ex: Example) -> tuple:
        case = ex.reference
        return implementation, (_drift_of(case), _divergence_of(case), ex.x, _base_log_density_of(case))

    def shown_inputs(self, ex: Example) -> dict:
        """The points x (at t = 1); the callables are the case's exact drift, divergence and log ρ_0."""
        return {"x": ex.x}

    def own_implementation(self, eps=None):
        return ReferenceLogLikelihood()

    def reference_strategy(self):
        cases = sis.gaussian_cases(st.integers(1, 3), families=self.families, max_components=3)
        return cases.filter(self.accepts)

    def fixed_references(self) -> list:
        return _named_cases(self)

    def draw(self, data, reference, eps, span) -> Example:
        span.within(self.domain(reference), self.name)     # refuses times that exclude t = 1
        n = data.draw(st.integers(1, 4), label="n")
        return Example(reference, LIKELIHOOD_TIME, x=bulk_points(data, reference, LIKELIHOOD_TIME, n), eps=eps)

    def fixed_description(self, span) -> str:
        return f"t = 1: the modes of ρ_1 and points {FAR_SIGMAS:g} standard deviations from its mean"

    def fixed_examples(self, reference, eps, span) -> list:
        span.within(self.domain(reference), self.name)
        modes = reference.components(np.array([LIKELIHOOD_TIME])).means[0]
        return [Example(reference, LIKELIHOOD_TIME, x=modes, eps=eps),
                Example(reference, LIKELIHOOD_TIME, x=_far_points(reference), eps=eps)]


def likelihood_quantities() -> list:
    """The likelihood-level quantities: ``ode_log_likelihood``."""
    return [LikelihoodQuantity(
        "ode_log_likelihood",
        "log ρ_1(x) = log ρ_0(X_0) − ∫₀¹ ∇·b(X_t, t) dt, with X solving dX/dt = b(X, t) backwards from X_1 = x "
        "to t = 0; called as loglik(drift, divergence, x, base_log_density) with the exact b, ∇·b and log ρ_0, "
        "x of shape (n, d) at t = 1; returns shape (n,).",
        _exact, _likelihood_mistakes(), domain=_at_one,
        plain="log ρ_1(x) = log ρ_0(X_0) − ∫₀¹ ∇·b dt, X from X_1 = x backwards to t = 0")]
