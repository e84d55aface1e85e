r"""The checkable quantities: what each one means, how to compute it exactly, and how it goes wrong.

This is the table behind :mod:`si_ref.conformance` and :mod:`si_ref.golden`.
Each :class:`Quantity` says

* its **level** -- what the implementation under test is and how it is called:

  ============  ==========================================  ===========================
  level         the implementation                          reference object
  ============  ==========================================  ===========================
  schedule      ``f(t) -> values`` (γ, γ̇ or γγ̇)            a ``GammaSchedule``
  interpolant   ``f(t)`` (α, α̇, β, β̇) or                   an ``Interpolant``
                ``f(t, x0, x1, z) -> (n, d)``
  field         ``f(x, t) -> (n, d)``                       a ``GaussianCase``
  wrapper       a constructor with si_ref's signature,      a ``GaussianCase``
                e.g. ``DriftFromVelocityScore(v, s, gamma)``
  step          ``step(field, x, t, dt, eps, xi) -> (n, d)``  a ``GaussianCase``
  ============  ==========================================  ===========================

* its **exact value** at an :class:`Example` (a reference, times and points), from
  si_ref's closed forms (DESIGN.md; arXiv:2303.08797v3, eqs. (2.1), (2.10),
  (2.14), (2.17), (2.21), (2.27));
* its catalogue of **mistakes**: the wrong values that the usual convention
  errors produce (sign flip, γγ̇ with the wrong sign, the other sign of the noise
  predictor, v given where b is expected, time reversed, α/β swapped, a
  σ²/2-type scaling of the score term, t broadcast along the wrong axis).
  A received value that matches one of them is diagnosed by name.

Times: ``t`` is a scalar or an array of shape (n,) (row i at time ``t[i]``);
points ``x`` have shape (n, d). All values are float64.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np

from . import wrappers as W
from ._checks import as_times, nonnegative_of_time
from .distributions import Gaussian
from .gaussian import GaussianCase
from .interpolants import Interpolant
from .references import unknown_name_error
from .schedules import GammaSchedule

__all__ = ["Example", "Mistake", "Quantity", "QUANTITIES", "LEVELS", "quantity", "plain_summary", "describe"]

LEVELS = ("schedule", "interpolant", "field", "wrapper", "step")

#: Interior margin used where a quantity divides by a coefficient that vanishes at an endpoint (closer to
#: the endpoint the conversion loses digits in any implementation: β = t³ is 1e-9 at t = 1e-3).
INTERIOR = 1e-2


# --- examples ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Example:
    """One input at which a quantity is evaluated.

    Attributes
    ----------
    reference : GammaSchedule, Interpolant or GaussianCase
        The object that defines the exact value.
    t : float or ndarray, shape (n,)
    x : ndarray, shape (n, d), optional
        Points (field, wrapper and step levels).
    x0, x1, z : ndarray, shape (n, d), optional
        Inputs of ``interpolant`` / ``interpolant_dot`` / ``interpolant_partial_t``.
    eps : float or callable, optional
        ε(t) of the SDE drifts and the Euler–Maruyama step.
    dt : float, optional
        Step size of the Euler–Maruyama step.
    xi : ndarray, shape (n, d), optional
        Standard normal draw of the Euler–Maruyama step.
    """

    reference: Any
    t: Any
    x: np.ndarray | None = None
    x0: np.ndarray | None = None
    x1: np.ndarray | None = None
    z: np.ndarray | None = None
    eps: Any = None
    dt: float | None = None
    xi: np.ndarray | None = None

    def at(self, t) -> "Example":
        """The same example at other times."""
        return replace(self, t=t)

    def with_reference(self, reference) -> "Example":
        return replace(self, reference=reference)

    @property
    def reversed_t(self):
        """1 − t, with the type of t (scalar stays scalar)."""
        return 1.0 - self.t if np.ndim(self.t) == 0 else 1.0 - np.asarray(self.t)


def _column(values, ex: Example):
    """Coefficient values at ex.t shaped to broadcast against (n, d) rows."""
    v = np.asarray(values, dtype=np.float64)
    return v if v.ndim == 0 else v[:, None]


def _eps_column(ex: Example):
    return _column(nonnegative_of_time(ex.eps, as_times(ex.t), "eps"), ex)


# --- reference transformations (used by the mistake catalogue) ---------------------------------

class _SwappedInterpolant(Interpolant):
    """x_t = β(t) x0 + α(t) x1 + γ(t) z: the coefficients of x0 and x1 exchanged (α/σ swapped)."""

    kind = "two-sided"

    def __init__(self, original: Interpolant):
        self.original = original
        self.gamma_schedule = original.gamma_schedule

    def _alpha(self, t):
        return self.original._beta(t)

    def _alpha_dot(self, t):
        return self.original._beta_dot(t)

    def _beta(self, t):
        return self.original._alpha(t)

    def _beta_dot(self, t):
        return self.original._alpha_dot(t)


class _ReversedGamma(GammaSchedule):
    """γ(1 − t) with its true derivative −γ̇(1 − t): a schedule written for the opposite time direction."""

    def __init__(self, original: GammaSchedule):
        self.original = original

    @property
    def max_gamma(self) -> float:
        return self.original.max_gamma

    def _gamma(self, t):
        return self.original._gamma(1.0 - t)

    def _gamma_dot(self, t):
        return -self.original._gamma_dot(1.0 - t)

    def _gamma_gamma_dot(self, t):
        return -self.original._gamma_gamma_dot(1.0 - t)


class _ReversedInterpolant(Interpolant):
    """α(1 − t), β(1 − t), γ(1 − t) with their true derivatives: the opposite time direction."""

    kind = "two-sided"

    def __init__(self, original: Interpolant):
        self.original = original
        self.gamma_schedule = _ReversedGamma(original.gamma_schedule)

    def _alpha(self, t):
        return self.original._alpha(1.0 - t)

    def _alpha_dot(self, t):
        return -self.original._alpha_dot(1.0 - t)

    def _beta(self, t):
        return self.original._beta(1.0 - t)

    def _beta_dot(self, t):
        return -self.original._beta_dot(1.0 - t)


def _swapped_case(case: GaussianCase) -> GaussianCase | None:
    """The case whose interpolant has α and β exchanged (None for a mirror, where it is the same law)."""
    if case.interpolant.kind == "mirror":
        return None
    return GaussianCase(_SwappedInterpolant(case.interpolant), case.base, case.target, cross_cov=case.cross_cov)


# --- mistakes --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mistake:
    """A named convention error and the values it produces.

    Attributes
    ----------
    name : str
        Stable identifier, e.g. ``"sign-flip"``.
    explanation : str
        What the mistake is and how to fix it.
    variants : tuple of (label, function)
        Each function maps an :class:`Example` to the wrong value (or None where it
        cannot be evaluated); ``label`` says which form of the mistake it is.
    """

    name: str
    explanation: str
    variants: tuple


def _mistake(name, explanation, *variants):
    return Mistake(name, explanation, tuple(variants))


SIGN_FLIP = "sign-flip"
GAMMA_GAMMA_DOT_SIGN = "gamma-gamma-dot-sign"
NOISE_SIGN = "noise-sign"
VELOCITY_FOR_DRIFT = "velocity-for-drift"
DRIFT_FOR_VELOCITY = "drift-for-velocity"
NOISE_TERM_TWICE = "noise-term-twice"
TIME_REVERSED = "time-reversed"
ALPHA_BETA_SWAPPED = "alpha-beta-swapped"
SCORE_SCALING = "score-scaling"
SCORE_TERM_SIGN = "score-term-sign"
T_WRONG_AXIS = "t-wrong-axis"
VARIANCE_FOR_STD = "variance-for-std"
FACTOR_TWO = "factor-two"
DENOISERS_SWAPPED = "denoisers-swapped"
NOISE_TERM_MISSING = "noise-term-missing"
SQRT_DT = "sqrt-dt"
DIFFUSION_SCALING = "diffusion-scaling"
DENSITY_FOR_LOG = "density-for-log-density"

_EXPLAIN = {
    SIGN_FLIP: "the value has the opposite sign of the exact one.",
    GAMMA_GAMMA_DOT_SIGN: ("the γγ̇ term has the wrong sign: the drift is b = v − γγ̇ s (mirror: b = −γγ̇ s, "
                           "velocity from drift: v = b + γγ̇ s). Published wrappers used v + γγ̇ s; "
                           "b = v + γ̇ η with a noise predictor of the opposite sign gives the same value."),
    NOISE_SIGN: ("the noise predictor has the other sign convention: si_ref's noise is η = +E[z | x_t = x] "
                 "= −γ s; the value matches −E[z | x] (or a conversion that assumes it)."),
    VELOCITY_FOR_DRIFT: ("the velocity v was given where the drift b was expected: the noise term "
                         "−γγ̇ s = γ̇ η is missing (b = v − γγ̇ s)."),
    DRIFT_FOR_VELOCITY: ("the drift b was given where the velocity v was expected (a 'velocity' trained on "
                         "∂_t I + γ̇ z learns b, not v = E[∂_t I | x])."),
    NOISE_TERM_TWICE: ("the noise term is counted twice: b − γγ̇ s = v − 2γγ̇ s, what a wrapper expecting v "
                       "returns when it is fed the drift b (a head trained on ∂_t I + γ̇ z)."),
    TIME_REVERSED: ("time runs the other way (t ↔ 1 − t): si_ref has t = 0 at the base x0 (noise) and t = 1 "
                    "at the target x1 (data)."),
    ALPHA_BETA_SWAPPED: ("the coefficients of x0 and x1 are exchanged (α/σ, signal/noise swapped): si_ref's "
                         "x_t = α(t) x0 + β(t) x1 + γ(t) z has α(0) = 1 multiplying the base x0."),
    SCORE_SCALING: ("the score term is scaled: si_ref's SDE drift is b ± ε s with diffusion √(2ε) "
                    "(σ²/2 = ε), and the score is s = ∇ log ρ_t, unscaled."),
    SCORE_TERM_SIGN: "the score term has the wrong sign: forward b_F = b + ε s, backward b_B = b − ε s.",
    T_WRONG_AXIS: ("t of shape (n,) is broadcast along the wrong axis of x (n, d): row i must use t[i]; "
                   "write coefficient(t)[:, None] * x."),
    VARIANCE_FOR_STD: "the variance γ² was used where the standard deviation γ belongs.",
    FACTOR_TWO: "off by a factor: γγ̇ = ½ d(γ²)/dt.",
    DENOISERS_SWAPPED: "the other denoiser: x̂0 = E[x0 | x_t = x] and x̂1 = E[x1 | x_t = x] are exchanged.",
    NOISE_TERM_MISSING: "the noise term γ̇ z is missing: d x_t / dt = ∂_t I + γ̇ z.",
    SQRT_DT: "the Brownian increment is mis-scaled: it is √(2 ε dt) ξ with ξ ~ N(0, I).",
    DIFFUSION_SCALING: "the diffusion coefficient is mis-scaled: dX = b_F dt + √(2ε) dW.",
    DENSITY_FOR_LOG: "the density ρ_t(x) was returned where its logarithm log ρ_t(x) was expected.",
}


def _explained(name, *variants):
    return _mistake(name, _EXPLAIN[name], *variants)


# --- helpers for exact values ----------------------------------------------------------------------

def _case_field(name: str) -> Callable[[Example], np.ndarray]:
    def value(ex: Example) -> np.ndarray:
        method = getattr(ex.reference, name)
        if name in ("forward_drift", "backward_drift"):
            return method(ex.x, ex.t, ex.eps)
        return method(ex.x, ex.t)
    return value


def _at_reversed(fn, sign=1.0):
    def value(ex):
        return sign * fn(ex.at(ex.reversed_t))
    return value


def _on_swapped(fn):
    def value(ex):
        if isinstance(ex.reference, GaussianCase):
            swapped = _swapped_case(ex.reference)
        elif isinstance(ex.reference, Interpolant) and ex.reference.kind != "mirror":
            swapped = _SwappedInterpolant(ex.reference)
        else:
            swapped = None
        return None if swapped is None else fn(ex.with_reference(swapped))
    return value


def _per_column(fn):
    """Row i, column j evaluated at t[j]: what ``coefficient(t) * x`` does when n == d."""
    def value(ex):
        t = np.asarray(ex.t)
        points = ex.x if ex.x is not None else ex.x1
        if t.ndim == 0 or points is None or points.shape[0] != points.shape[1] or np.all(t == t[0]):
            return None
        return np.stack([fn(ex.at(float(tj)))[:, j] for j, tj in enumerate(t)], axis=1)
    return value


def _scaled(fn, factor):
    def value(ex):
        return factor(ex) * fn(ex)
    return value


def _negated(fn):
    return _scaled(fn, lambda ex: -1.0)


def _time_reversed(fn, signs=(1.0, -1.0), *extra):
    labels = {1.0: "value at 1 − t", -1.0: "minus the value at 1 − t (d/dt changes sign)"}
    return _explained(TIME_REVERSED, *[(labels[s], _at_reversed(fn, s)) for s in signs], *extra)


def _swapped(fn):
    return _explained(ALPHA_BETA_SWAPPED, ("α and β exchanged", _on_swapped(fn)))


def _wrong_axis(fn):
    return _explained(T_WRONG_AXIS, ("row i, column j evaluated at t[j]", _per_column(fn)))


def _sign_flip(fn):
    return _explained(SIGN_FLIP, ("minus the exact value", _negated(fn)))


# --- the quantity table ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Quantity:
    """A checkable quantity.

    Attributes
    ----------
    name : str
    level : str
        One of ``LEVELS``.
    summary : str
        The definition, in si_ref's convention (plain text with Unicode formulas).
    plain : str
        One line for a terminal (at most ``PLAIN_WIDTH`` = 80 characters, no markup), e.g.
        ``"b = v − γγ̇ s from the velocity v and the score s"``; see :func:`plain_summary`.
    exact : callable
        ``exact(example) -> ndarray``.
    mistakes : tuple of Mistake
        In order of specificity (the first matching one is the main diagnosis).
    domain : callable
        ``domain(reference) -> (t_min, t_max)``: the closed time interval where the
        quantity is defined and finite for that reference.
    accepts : callable
        ``accepts(reference) -> bool``: whether the reference fits the quantity
        (e.g. a mirror case for ``MirrorVelocityFromScore``).
    families : tuple of str or None
        Interpolant families drawn when no reference is fixed (None: all).
    wrapper : type, optional
        For the wrapper level: si_ref's own implementation.
    inputs : tuple of str
        For the wrapper level: the exact fields passed to the constructor.
    parameter : str
        For the wrapper level: ``"gamma"``, ``"interpolant"``, ``"base"``, ``"eps"`` or
        ``"diffusion_squared"`` -- the last constructor argument.
    output : str
        For the wrapper level: the field the wrapper returns.
    needs_eps : bool
        The quantity depends on ε(t) (``eps=`` must be given to the checker).
    """

    name: str
    level: str
    summary: str
    exact: Callable[[Example], np.ndarray]
    mistakes: tuple = ()
    domain: Callable[[Any], tuple] = lambda reference: (0.0, 1.0)
    accepts: Callable[[Any], bool] = lambda reference: True
    families: tuple | None = None
    wrapper: type | None = None
    inputs: tuple = ()
    parameter: str = ""
    output: str = ""
    needs_eps: bool = False
    plain: str = ""

    def __post_init__(self):
        if not self.plain:   # a short definition is its own one-line summary
            object.__setattr__(self, "plain", self.summary.rstrip("."))


#: Longest one-line summary (:attr:`Quantity.plain`, in code points): indented after a 30-character name
#: column it still fits a 120-column terminal.
PLAIN_WIDTH = 80


def _closed(reference):
    return (0.0, 1.0)


def _interior(reference):
    return (INTERIOR, 1.0 - INTERIOR)


def _gamma_dot_finite(schedule: GammaSchedule):
    """(0, 1) closed unless γ̇ is infinite at an endpoint, then the interior."""
    ends = np.asarray(schedule.gamma_dot(np.array([0.0, 1.0])))
    return (0.0, 1.0) if np.all(np.isfinite(ends)) else _interior(schedule)


# schedule level ---------------------------------------------------------------------------------

def _schedule_value(method):
    def value(ex):
        return np.asarray(getattr(ex.reference, method)(ex.t), dtype=np.float64)
    return value


def _schedule_quantities():
    gamma = _schedule_value("gamma")
    gamma_dot = _schedule_value("gamma_dot")
    ggd = _schedule_value("gamma_gamma_dot")
    return [
        Quantity("gamma", "schedule", "γ(t), the scale of the latent noise γ(t) z; γ(0) = γ(1) = 0.", gamma, (
            _sign_flip(gamma),
            _explained(VARIANCE_FOR_STD, ("γ(t)²", _scaled(gamma, gamma))),
            _time_reversed(gamma, signs=(1.0,)),
        )),
        Quantity("gamma_dot", "schedule", "γ̇(t); exact ±inf where infinite (Brownian schedules at t = 0, 1).",
                 gamma_dot, (_sign_flip(gamma_dot), _time_reversed(gamma_dot))),
        Quantity("gamma_gamma_dot", "schedule", "γ(t) γ̇(t) = ½ d(γ²)/dt, finite on [0, 1].", ggd, (
            _sign_flip(ggd),
            _explained(FACTOR_TWO, ("2 γγ̇ = d(γ²)/dt", _scaled(ggd, lambda ex: 2.0)),
                       ("γγ̇ / 2", _scaled(ggd, lambda ex: 0.5))),
            _time_reversed(ggd),
        )),
    ]


# interpolant level --------------------------------------------------------------------------------

def _interpolant_method(method, *, needs_z=True):
    def value(ex):
        fn = getattr(ex.reference, method)
        if method in ("alpha", "alpha_dot", "beta", "beta_dot"):
            return np.asarray(fn(ex.t), dtype=np.float64)
        if needs_z:
            return fn(ex.t, ex.x0, ex.x1, ex.z)
        return fn(ex.t, ex.x0, ex.x1)
    return value


def _interpolant_dot_domain(interpolant):
    return _gamma_dot_finite(interpolant.gamma_schedule)


def _interpolant_quantities():
    out = []
    for name, partner in (("alpha", "beta"), ("beta", "alpha")):
        value = _interpolant_method(name)
        other = _interpolant_method(partner)
        out.append(Quantity(
            name, "interpolant",
            f"{'α' if name == 'alpha' else 'β'}(t), the coefficient of {'x0 (base)' if name == 'alpha' else 'x1 (target)'}.",
            value, (_explained(ALPHA_BETA_SWAPPED, (f"{partner} returned", other)),
                    _time_reversed(value, signs=(1.0,)))))
        dot = _interpolant_method(name + "_dot")
        other_dot = _interpolant_method(partner + "_dot")
        out.append(Quantity(
            name + "_dot", "interpolant", f"the time derivative of {name}.", dot,
            (_sign_flip(dot), _explained(ALPHA_BETA_SWAPPED, (f"{partner}_dot returned", other_dot)),
             _time_reversed(dot))))

    x_t = _interpolant_method("interpolant")
    dxdt = _interpolant_method("interpolant_dot")
    partial = _interpolant_method("interpolant_partial_t", needs_z=False)

    def with_gamma_squared(ex):
        I = ex.reference
        return (_column(I.alpha(ex.t), ex) * ex.x0 + _column(I.beta(ex.t), ex) * ex.x1
                + _column(I.gamma(ex.t) ** 2, ex) * ex.z)

    out += [
        Quantity("interpolant", "interpolant", "x_t = α(t) x0 + β(t) x1 + γ(t) z.", x_t, (
            _swapped(x_t), _time_reversed(x_t, signs=(1.0,)),
            _explained(VARIANCE_FOR_STD, ("α x0 + β x1 + γ² z", with_gamma_squared)),
            _wrong_axis(x_t))),
        Quantity("interpolant_dot", "interpolant",
                 "d x_t / dt = α̇ x0 + β̇ x1 + γ̇ z, the regression target of the drift b.", dxdt, (
                     _explained(NOISE_TERM_MISSING, ("∂_t I = α̇ x0 + β̇ x1", partial)),
                     _sign_flip(dxdt), _swapped(dxdt), _time_reversed(dxdt), _wrong_axis(dxdt)),
                 domain=_interpolant_dot_domain),
        Quantity("interpolant_partial_t", "interpolant",
                 "∂_t I = α̇ x0 + β̇ x1, the regression target of the velocity v.", partial, (
                     _sign_flip(partial), _swapped(partial), _time_reversed(partial), _wrong_axis(partial))),
    ]
    return out


# field level ----------------------------------------------------------------------------------

def _ggd(ex):
    return _column(ex.reference.interpolant.gamma_gamma_dot(ex.t), ex)


def _gamma(ex):
    return _column(ex.reference.interpolant.gamma(ex.t), ex)


def _positive_gamma_only(fn):
    def value(ex):
        g = np.asarray(ex.reference.interpolant.gamma(ex.t))
        return fn(ex) if np.all(g > 0) else None
    return value


def _field_quantities():
    F = {name: _case_field(name) for name in
         ("score", "noise", "denoise_x0", "denoise_x1", "velocity", "drift", "forward_drift", "backward_drift",
          "log_density", "divergence")}
    s, v, b = F["score"], F["velocity"], F["drift"]

    def score_scalings(ex_value):
        return _explained(
            SCORE_SCALING,
            ("(γ²/2) s: a σ²/2 scaling with σ = γ", _positive_gamma_only(_scaled(ex_value, lambda ex: 0.5 * _gamma(ex) ** 2))),
            ("γ² s", _positive_gamma_only(_scaled(ex_value, lambda ex: _gamma(ex) ** 2))),
            ("γ s = −η (minus the noise predictor)", _positive_gamma_only(_scaled(ex_value, _gamma))),
            ("−γ s = η (the noise predictor given as the score)",
             _positive_gamma_only(_scaled(ex_value, lambda ex: -_gamma(ex)))),
            ("2 s", _scaled(ex_value, lambda ex: 2.0)),
            ("s / 2", _scaled(ex_value, lambda ex: 0.5)),
        )

    def sde_mistakes(sign):
        """Mistakes of b ± ε s (sign +1 forward, −1 backward)."""
        def plus_score(fn, k):
            return lambda ex: fn(ex) + sign * k * _eps_column(ex) * s(ex)
        return (
            _explained(GAMMA_GAMMA_DOT_SIGN, ("v + γγ̇ s ± ε s", lambda ex: v(ex) + _ggd(ex) * s(ex) + sign * _eps_column(ex) * s(ex))),
            _explained(SCORE_TERM_SIGN, ("b ∓ ε s", plus_score(b, -1.0))),
            _explained(SCORE_SCALING,
                       ("b ± 2ε s: σ² s with σ² = 2ε (the ½ of σ²/2 dropped)", plus_score(b, 2.0)),
                       ("b ± (ε/2) s: (σ²/2) s with σ² = ε", plus_score(b, 0.5)),
                       ("b ± (ε²/2) s: ε used as the diffusion coefficient σ", lambda ex: b(ex) + sign * 0.5 * _eps_column(ex) ** 2 * s(ex))),
            _explained(VELOCITY_FOR_DRIFT, ("v ± ε s", plus_score(v, 1.0))),
            _explained(NOISE_TERM_TWICE, ("v − 2γγ̇ s ± ε s", lambda ex: v(ex) - 2.0 * _ggd(ex) * s(ex) + sign * _eps_column(ex) * s(ex))),
        )

    def common(fn, reversal_signs=(1.0, -1.0), *reversals):
        return (_time_reversed(fn, reversal_signs, *reversals), _swapped(fn), _wrong_axis(fn))

    def denoiser_mistakes(own, other, other_name):
        # In the reversed time direction x0 and x1 trade places: E[x0 | x_t] there is x̂1 at 1 − t here.
        return (_explained(DENOISERS_SWAPPED, (f"{other_name} returned", other)), _sign_flip(own)) + common(
            own, (1.0,), (f"{other_name} at 1 − t (x0 and x1 trade places)", _at_reversed(other)))

    def sde_reversal(other):
        # The forward SDE of the reversed direction is the backward SDE here: b'_F(x, t) = −b_B(x, 1 − t).
        label = "minus the " + ("backward" if other == "backward_drift" else "forward") + " drift at 1 − t"
        return (label, _at_reversed(F[other], -1.0))

    return [
        Quantity("score", "field", "s = ∇ log ρ_t(x).", s,
                 (_sign_flip(s), score_scalings(s)) + common(s, (1.0,))),
        Quantity("noise", "field", "η = E[z | x_t = x] = −γ s (the noise predictor, + sign).", F["noise"],
                 (_explained(NOISE_SIGN, ("−E[z | x]", _negated(F["noise"]))),) + common(F["noise"])),
        Quantity("denoise_x0", "field", "x̂0 = E[x0 | x_t = x].", F["denoise_x0"],
                 denoiser_mistakes(F["denoise_x0"], F["denoise_x1"], "x̂1")),
        Quantity("denoise_x1", "field", "x̂1 = E[x1 | x_t = x].", F["denoise_x1"],
                 denoiser_mistakes(F["denoise_x1"], F["denoise_x0"], "x̂0")),
        Quantity("velocity", "field", "v = E[α̇ x0 + β̇ x1 | x_t = x].", v,
                 (_sign_flip(v), _explained(DRIFT_FOR_VELOCITY, ("b returned", b))) + common(v)),
        Quantity("drift", "field", "b = E[α̇ x0 + β̇ x1 + γ̇ z | x_t = x] = v − γγ̇ s.", b, (
            _explained(GAMMA_GAMMA_DOT_SIGN, ("v + γγ̇ s", lambda ex: v(ex) + _ggd(ex) * s(ex))),
            _sign_flip(b),
            _explained(VELOCITY_FOR_DRIFT, ("v returned", v)),
            _explained(NOISE_TERM_TWICE, ("v − 2γγ̇ s", lambda ex: v(ex) - 2.0 * _ggd(ex) * s(ex))),
        ) + common(b)),
        Quantity("log_density", "field", "log ρ_t(x), the log density of x_t; shape (n,).", F["log_density"], (
            _explained(DENSITY_FOR_LOG, ("ρ_t(x) returned", lambda ex: np.exp(F["log_density"](ex)))),
            _sign_flip(F["log_density"]), _time_reversed(F["log_density"], (1.0,)), _swapped(F["log_density"]))),
        Quantity("divergence", "field", "∇·b(x, t), the divergence of the drift b = v − γγ̇ s; shape (n,).",
                 F["divergence"], (_sign_flip(F["divergence"]), _time_reversed(F["divergence"]),
                                   _swapped(F["divergence"]))),
        Quantity("forward_drift", "field", "b_F = b + ε(t) s, for dX = b_F dt + √(2ε) dW forward in t.",
                 F["forward_drift"], sde_mistakes(1.0) + (_sign_flip(F["forward_drift"]),)
                 + common(F["forward_drift"], (1.0, -1.0), sde_reversal("backward_drift")),
                 needs_eps=True),
        Quantity("backward_drift", "field", "b_B = b − ε(t) s, for dX = b_B dt + √(2ε) dW with decreasing t.",
                 F["backward_drift"], sde_mistakes(-1.0) + (_sign_flip(F["backward_drift"]),)
                 + common(F["backward_drift"], (1.0, -1.0), sde_reversal("forward_drift")),
                 needs_eps=True),
    ]


# wrapper level ----------------------------------------------------------------------------------

def _wrapper_parameter(parameter, case: GaussianCase, eps):
    I = case.interpolant
    if parameter == "gamma":
        return I.gamma_schedule
    if parameter in ("interpolant", "base"):      # "base": the base distribution follows as a last argument
        return I
    if parameter == "eps":
        return eps
    if parameter == "diffusion_squared":
        return (lambda t: 2.0 * nonnegative_of_time(eps, as_times(t), "eps")) if callable(eps) else 2.0 * eps
    raise ValueError(f"unknown wrapper parameter kind {parameter!r}; expected gamma, interpolant, base, eps "
                     f"or diffusion_squared.")


def _base_argument(case: GaussianCase):
    return None if case.interpolant.kind == "one-sided" else case.base


def build_wrapper(q: "Quantity", constructor, case: GaussianCase, eps=None, *, fields=None, parameter=None):
    """Construct ``constructor(*input fields, parameter[, base])`` the way si_ref's wrapper is built.

    ``fields`` overrides the exact input fields (callables ``f(x, t)``), ``parameter``
    the schedule / interpolant / ε.
    """
    inputs = fields if fields is not None else [_bound_field(case, name) for name in q.inputs]
    param = _wrapper_parameter(q.parameter, case, eps) if parameter is None else parameter
    if q.parameter == "base":
        return constructor(*inputs, param, _base_argument(case))
    return constructor(*inputs, param)


def _bound_field(case: GaussianCase, name: str):
    method = getattr(case, name)

    def field_(x, t):
        return method(x, t)
    return field_


def _wrapper_exact(q_name):
    def value(ex):
        q = QUANTITIES[q_name]
        return _case_field(q.output)(ex)
    return value


def _wrapper_with(q_name, *, parameter=None, fields=None):
    """si_ref's wrapper evaluated with a transformed parameter or transformed input fields."""
    def value(ex):
        q = QUANTITIES[q_name]
        case = ex.reference
        param = None if parameter is None else parameter(case, ex)
        if param is False:
            return None
        inputs = None if fields is None else fields(case, ex)
        return build_wrapper(q, q.wrapper, case, ex.eps, fields=inputs, parameter=param)(ex.x, ex.t)
    return value


def _wrapper_per_column(q_name):
    """Inputs evaluated at the rows' times, the wrapper's coefficients at t[j] for column j."""
    def value(ex):
        t = np.asarray(ex.t)
        q = QUANTITIES[q_name]
        n, d = ex.x.shape
        if t.ndim == 0 or n != d or np.all(t == t[0]):
            return None
        case = ex.reference
        frozen = []
        for name in q.inputs:
            values = getattr(case, name)(ex.x, ex.t)
            frozen.append(lambda x_, t_, values=values: values)
        out = np.empty_like(ex.x)
        for j, tj in enumerate(t):
            out[:, j] = build_wrapper(q, q.wrapper, case, ex.eps, fields=frozen)(ex.x, float(tj))[:, j]
        return out
    return value


#: How the last constructor argument(s) of a wrapper are named in summaries.
_CALL_PARAMETER = {"gamma": "gamma_schedule", "interpolant": "interpolant", "base": "interpolant, base",
                   "eps": "eps", "diffusion_squared": "diffusion_squared"}


def _wrapper_quantities():
    specs = [
        # name, si_ref class, inputs, parameter, output, accepts, families, domain
        ("ScoreFromNoise", W.ScoreFromNoise, ("noise",), "gamma", "score", "positive-gamma", None, _interior),
        ("DriftFromVelocityScore", W.DriftFromVelocityScore, ("velocity", "score"), "gamma", "drift", None, None, _closed),
        ("MirrorVelocityFromScore", W.MirrorVelocityFromScore, ("score",), "gamma", "drift", "mirror", ("mirror",), _closed),
        ("NoiseFromScore", W.NoiseFromScore, ("score",), "gamma", "noise", None, None, _closed),
        ("ScoreFromDenoisers", W.ScoreFromDenoisers, ("denoise_x0", "denoise_x1"), "interpolant", "score",
         "positive-gamma", None, _interior),
        ("DenoiserX0FromScore", W.DenoiserX0FromScore, ("score",), "base", "denoise_x0", "gaussian-base",
         ("linear", "trig", "vp-trig", "encoder-decoder", "one-sided-linear", "one-sided-trig", "custom"), _closed),
        ("DenoiserX1FromScore", W.DenoiserX1FromScore, ("score",), "base", "denoise_x1", "gaussian-base",
         ("linear", "trig", "vp-trig", "one-sided-linear", "one-sided-trig", "custom"),   # β = 0 on [0, ½] for encoder-decoder
         lambda ref: (INTERIOR, 1.0)),
        ("VelocityFromDenoisers", W.VelocityFromDenoisers, ("denoise_x0", "denoise_x1"), "interpolant", "velocity",
         None, None, _closed),
        ("DriftFromDenoisers", W.DriftFromDenoisers, ("denoise_x0", "denoise_x1", "noise"), "interpolant", "drift",
         None, None, _interior),
        ("DriftFromVelocityNoise", W.DriftFromVelocityNoise, ("velocity", "noise"), "gamma", "drift", None, None, _interior),
        ("VelocityFromDriftScore", W.VelocityFromDriftScore, ("drift", "score"), "gamma", "velocity", None, None, _closed),
        ("ForwardDriftFromDriftScore", W.ForwardDriftFromDriftScore, ("drift", "score"), "eps", "forward_drift",
         None, None, _closed),
        ("BackwardDriftFromDriftScore", W.BackwardDriftFromDriftScore, ("drift", "score"), "eps", "backward_drift",
         None, None, _closed),
        ("SDEDriftFromDriftScore", W.SDEDriftFromDriftScore, ("drift", "score"), "diffusion_squared", "forward_drift",
         None, None, _closed),
        ("ScoreFromDenoiserX0OneSided", W.ScoreFromDenoiserX0OneSided, ("denoise_x0",), "interpolant", "score",
         "one-sided", ("one-sided-linear", "one-sided-trig"), lambda ref: (0.0, 1.0 - INTERIOR)),
        ("ScoreFromDriftOneSided", W.ScoreFromDriftOneSided, ("drift",), "interpolant", "score",
         "one-sided", ("one-sided-linear", "one-sided-trig"), lambda ref: (0.0, 1.0 - INTERIOR)),
        ("DriftFromScoreOneSided", W.DriftFromScoreOneSided, ("score",), "interpolant", "drift",
         "one-sided", ("one-sided-linear", "one-sided-trig"), _interior),
        ("MirrorDriftFromNoise", W.MirrorDriftFromNoise, ("noise",), "gamma", "drift", "mirror", ("mirror",), _interior),
        ("DenoiserX0FromDenoiserX1", W.DenoiserX0FromDenoiserX1, ("denoise_x1",), "interpolant", "denoise_x0",
         "zero-gamma", ("one-sided-linear", "one-sided-trig"), lambda ref: (0.0, 1.0 - INTERIOR)),
        ("DenoiserX1FromDenoiserX0", W.DenoiserX1FromDenoiserX0, ("denoise_x0",), "interpolant", "denoise_x1",
         "zero-gamma", ("one-sided-linear", "one-sided-trig"), lambda ref: (INTERIOR, 1.0)),
        ("VelocityFromDenoiserX1", W.VelocityFromDenoiserX1, ("denoise_x1",), "interpolant", "velocity",
         "zero-gamma", ("one-sided-linear", "one-sided-trig"), lambda ref: (0.0, 1.0 - INTERIOR)),
        ("VelocityFromDenoiserX0", W.VelocityFromDenoiserX0, ("denoise_x0",), "interpolant", "velocity",
         "zero-gamma", ("one-sided-linear", "one-sided-trig"), lambda ref: (INTERIOR, 1.0)),
        ("DenoiserX0FromVelocity", W.DenoiserX0FromVelocity, ("velocity",), "interpolant", "denoise_x0",
         "zero-gamma", ("one-sided-linear", "one-sided-trig"), _closed),
        ("DenoiserX1FromVelocity", W.DenoiserX1FromVelocity, ("velocity",), "interpolant", "denoise_x1",
         "zero-gamma", ("one-sided-linear", "one-sided-trig"), _closed),
    ]
    requirements = {
        None: lambda case: True,
        "positive-gamma": lambda case: not case.interpolant.gamma_schedule.is_zero,
        "mirror": lambda case: case.interpolant.kind == "mirror",
        "one-sided": lambda case: case.interpolant.kind == "one-sided",
        "zero-gamma": lambda case: case.interpolant.gamma_schedule.is_zero and case.interpolant.kind != "mirror",
        "gaussian-base": lambda case: case.interpolant.kind == "one-sided" or (
            case.interpolant.kind == "two-sided" and isinstance(case.base, Gaussian) and case.cross_cov is None),
    }
    out = []
    for name, cls, inputs, parameter, output, requirement, families, domain in specs:
        exact = _wrapper_exact(name)
        mistakes = list(_WRAPPER_MISTAKES.get(name, lambda: ())())
        if not any(m.name in (SIGN_FLIP, NOISE_SIGN, GAMMA_GAMMA_DOT_SIGN) for m in mistakes):
            mistakes.append(_sign_flip(exact))
        if parameter in ("gamma", "interpolant", "base"):
            mistakes.append(_explained(TIME_REVERSED, ("the wrapper's coefficients taken at 1 − t",
                                                       _wrapper_with(name, parameter=_reverse_parameter(parameter)))))
        if parameter in ("interpolant", "base"):
            mistakes.append(_explained(ALPHA_BETA_SWAPPED, ("the wrapper's α and β exchanged",
                                                            _wrapper_with(name, parameter=_swap_parameter))))
        mistakes.append(_explained(T_WRONG_AXIS, ("the wrapper's coefficients taken at t[j] for column j",
                                                  _wrapper_per_column(name))))
        call = f"{name}({', '.join(inputs)}, {_CALL_PARAMETER[parameter]})(x, t)"
        out.append(Quantity(
            name, "wrapper", f"{_PLAIN[name]}; called as {call}, it returns the {output} computed from the "
            f"exact {', '.join(inputs)}.",
            exact, tuple(mistakes), domain=domain, accepts=requirements[requirement], families=families,
            wrapper=cls, inputs=inputs, parameter=parameter, output=output,
            needs_eps=parameter in ("eps", "diffusion_squared")))
    return out


def _reverse_parameter(parameter):
    def build(case, ex):
        if parameter == "gamma":
            return _ReversedGamma(case.interpolant.gamma_schedule)
        if case.interpolant.kind == "mirror":
            return False
        return _ReversedInterpolant(case.interpolant)
    return build


def _swap_parameter(case, ex):
    if case.interpolant.kind == "mirror":
        return False
    return _SwappedInterpolant(case.interpolant)


def _wrapper_mistake_table():
    s, v, b, eta = (_case_field(n) for n in ("score", "velocity", "drift", "noise"))

    def ggd(ex):
        return _ggd(ex)

    def gamma_dot(ex):
        return _column(ex.reference.interpolant.gamma_dot(ex.t), ex)

    def eps(ex):
        return _eps_column(ex)

    def with_eps(sign, k):
        return lambda ex: b(ex) + sign * k * eps(ex) * s(ex)

    return {
        "ScoreFromNoise": lambda: (
            _explained(NOISE_SIGN, ("+η/γ: the wrapper assumes η = −E[z | x]", lambda ex: eta(ex) / _gamma(ex))),
            _explained(SCORE_SCALING, ("−η (the division by γ forgotten)", _negated(eta)),
                       ("−η/γ² (divided by γ²)", lambda ex: -eta(ex) / _gamma(ex) ** 2)),
        ),
        "DriftFromVelocityScore": lambda: (
            _explained(GAMMA_GAMMA_DOT_SIGN, ("v + γγ̇ s", lambda ex: v(ex) + ggd(ex) * s(ex))),
            _sign_flip(b),
            _explained(VELOCITY_FOR_DRIFT, ("v returned", v)),
        ),
        "MirrorVelocityFromScore": lambda: (
            _explained(GAMMA_GAMMA_DOT_SIGN, ("+γγ̇ s", lambda ex: ggd(ex) * s(ex))),
        ),
        "NoiseFromScore": lambda: (
            _explained(NOISE_SIGN, ("+γ s = −E[z | x]", lambda ex: _gamma(ex) * s(ex))),
        ),
        "VelocityFromDriftScore": lambda: (
            _explained(GAMMA_GAMMA_DOT_SIGN, ("b − γγ̇ s", lambda ex: b(ex) - ggd(ex) * s(ex))),
            _sign_flip(v),
        ),
        "DriftFromVelocityNoise": lambda: (
            _explained(NOISE_SIGN, ("v − γ̇ η: the wrapper assumes η = −E[z | x]", lambda ex: v(ex) - gamma_dot(ex) * eta(ex))),
            _sign_flip(b),
        ),
        "ForwardDriftFromDriftScore": lambda: (
            _explained(SCORE_TERM_SIGN, ("b − ε s", with_eps(-1.0, 1.0))),
            _explained(SCORE_SCALING, ("b + 2ε s: σ² s with σ² = 2ε (the ½ of σ²/2 dropped)", with_eps(1.0, 2.0)),
                       ("b + (ε/2) s: (σ²/2) s with σ² = ε", with_eps(1.0, 0.5))),
        ),
        "BackwardDriftFromDriftScore": lambda: (
            _explained(SCORE_TERM_SIGN, ("b + ε s", with_eps(1.0, 1.0))),
            _explained(SCORE_SCALING, ("b − 2ε s: σ² s with σ² = 2ε (the ½ of σ²/2 dropped)", with_eps(-1.0, 2.0)),
                       ("b − (ε/2) s: (σ²/2) s with σ² = ε", with_eps(-1.0, 0.5))),
        ),
        "SDEDriftFromDriftScore": lambda: (
            _explained(SCORE_TERM_SIGN, ("b − (g²/2) s", with_eps(-1.0, 1.0))),
            _explained(SCORE_SCALING, ("b + g² s: the ½ of g²/2 dropped", with_eps(1.0, 2.0)),
                       ("b + (g²/4) s", with_eps(1.0, 0.5))),
        ),
    }


_WRAPPER_MISTAKES: dict = {}


# step level -------------------------------------------------------------------------------------

def _step_quantities():
    def increment(ex, scale):
        eps_t = _eps_column(ex)
        return scale(ex, eps_t) * ex.xi

    def drift(ex):
        return ex.reference.forward_drift(ex.x, ex.t, ex.eps)

    def stepped(scale):
        return lambda ex: ex.x + drift(ex) * ex.dt + increment(ex, scale)

    exact = stepped(lambda ex, e: np.sqrt(2.0 * e * ex.dt))
    return [Quantity(
        "euler_maruyama_step", "step",
        "x_next = x + b_F(x, t) dt + √(2 ε(t) dt) ξ: one Euler–Maruyama step of dX = b_F dt + √(2ε) dW, "
        "called as step(field, x, t, dt, eps, xi) with field the forward drift b_F and ξ ~ N(0, I).",
        exact, (
            _explained(SQRT_DT, ("√(2ε) ξ (√dt missing)", stepped(lambda ex, e: np.sqrt(2.0 * e))),
                       ("√(2ε) dt ξ (dt for √dt)", stepped(lambda ex, e: np.sqrt(2.0 * e) * ex.dt))),
            _explained(DIFFUSION_SCALING, ("√(ε dt) ξ (the factor 2 of √(2ε) missing)", stepped(lambda ex, e: np.sqrt(e * ex.dt))),
                       ("ε √dt ξ (ε used as the diffusion coefficient)", stepped(lambda ex, e: e * np.sqrt(ex.dt))),
                       ("2ε √dt ξ (σ² used for σ)", stepped(lambda ex, e: 2.0 * e * np.sqrt(ex.dt)))),
            _explained(SIGN_FLIP, ("x − b_F dt + √(2ε dt) ξ (drift sign)",
                                   lambda ex: ex.x - drift(ex) * ex.dt + increment(ex, lambda ex, e: np.sqrt(2.0 * e * ex.dt)))),
            _explained(T_WRONG_AXIS, ("row i, column j evaluated at t[j]", _per_column(exact))),
        ),
        domain=lambda ref: (0.0, 0.9), needs_eps=True)]


#: One-line plain-text summaries (Unicode formulas, no markup), shown by ``si-ref check --list`` and in reports.
_PLAIN = {
    "gamma": "γ(t): the scale of the latent noise γ(t) z; γ(0) = γ(1) = 0",
    "gamma_dot": "γ̇(t) = dγ/dt; exactly ±inf where infinite (Brownian γ at t = 0 and 1)",
    "gamma_gamma_dot": "γγ̇(t) = ½ d(γ²)/dt in closed form, finite on [0, 1]",
    "alpha": "α(t): the coefficient of the base x0 in x_t = α x0 + β x1 + γ z",
    "alpha_dot": "α̇(t) = dα/dt",
    "beta": "β(t): the coefficient of the target x1 in x_t = α x0 + β x1 + γ z",
    "beta_dot": "β̇(t) = dβ/dt",
    "interpolant": "x_t = α(t) x0 + β(t) x1 + γ(t) z",
    "interpolant_dot": "dx_t/dt = α̇ x0 + β̇ x1 + γ̇ z: the regression target of the drift b",
    "interpolant_partial_t": "∂_t I = α̇ x0 + β̇ x1: the regression target of the velocity v",
    "score": "s = ∇ log ρ_t(x): the score of the density of x_t",
    "noise": "η = E[z | x_t = x] = −γ s: the noise predictor (plus sign)",
    "denoise_x0": "x̂0 = E[x0 | x_t = x]: the base denoiser",
    "denoise_x1": "x̂1 = E[x1 | x_t = x]: the target denoiser",
    "velocity": "v = E[α̇ x0 + β̇ x1 | x_t = x]",
    "drift": "b = E[α̇ x0 + β̇ x1 + γ̇ z | x_t = x] = v − γγ̇ s",
    "log_density": "log ρ_t(x): the log density of x_t, shape (n,)",
    "divergence": "∇·b(x, t): the divergence of the drift b, shape (n,)",
    "forward_drift": "b_F = b + ε s: the drift of dX = b_F dt + √(2ε) dW, t increasing",
    "backward_drift": "b_B = b − ε s: the drift of dX = b_B dt + √(2ε) dW, t decreasing",
    "ScoreFromNoise": "s = −η/γ from the noise predictor η = E[z | x_t] (γ > 0)",
    "DriftFromVelocityScore": "b = v − γγ̇ s from the velocity v and the score s",
    "MirrorVelocityFromScore": "mirror drift b = −γγ̇ s from the score s",
    "NoiseFromScore": "η = −γ s from the score s",
    "ScoreFromDenoisers": "s = −(x − α x̂0 − β x̂1)/γ² from both denoisers (γ > 0)",
    "DenoiserX0FromScore": "x̂0 = m0 − α S0 s from the score (Gaussian base N(m0, S0))",
    "DenoiserX1FromScore": "x̂1 = (x − α m0 + (α² S0 + γ² I) s)/β from the score (Gaussian base)",
    "VelocityFromDenoisers": "v = α̇ x̂0 + β̇ x̂1 from both denoisers",
    "DriftFromDenoisers": "b = α̇ x̂0 + β̇ x̂1 + γ̇ η from both denoisers and the noise η",
    "DriftFromVelocityNoise": "b = v + γ̇ η from the velocity v and the noise η",
    "VelocityFromDriftScore": "v = b + γγ̇ s from the drift b and the score s",
    "ForwardDriftFromDriftScore": "b_F = b + ε s from the drift b and the score s",
    "BackwardDriftFromDriftScore": "b_B = b − ε s from the drift b and the score s",
    "SDEDriftFromDriftScore": "b + ½ g² s, the drift of dX = (b + ½ g² s) dt + g dW, from b and s",
    "ScoreFromDenoiserX0OneSided": "one-sided s = −x̂0/α from the base denoiser x̂0",
    "ScoreFromDriftOneSided": "one-sided s = −(β b − β̇ x)/(α (α̇ β − α β̇)) from the drift b",
    "DriftFromScoreOneSided": "one-sided b = (β̇ x − α (α̇ β − α β̇) s)/β from the score s",
    "MirrorDriftFromNoise": "mirror drift b = γ̇ η from the noise η",
    "DenoiserX0FromDenoiserX1": "x̂0 = (x − β x̂1)/α from the target denoiser (γ = 0)",
    "DenoiserX1FromDenoiserX0": "x̂1 = (x − α x̂0)/β from the base denoiser (γ = 0)",
    "VelocityFromDenoiserX1": "v = α̇ (x − β x̂1)/α + β̇ x̂1 from the target denoiser (γ = 0)",
    "VelocityFromDenoiserX0": "v = α̇ x̂0 + β̇ (x − α x̂0)/β from the base denoiser (γ = 0)",
    "DenoiserX0FromVelocity": "x̂0 = (β v − β̇ x)/(α̇ β − α β̇) from the velocity v (γ = 0)",
    "DenoiserX1FromVelocity": "x̂1 = (α̇ x − α v)/(α̇ β − α β̇) from the velocity v (γ = 0)",
    "euler_maruyama_step": "x + b_F dt + √(2ε dt) ξ: one Euler–Maruyama step, ξ ~ N(0, I)",
}


def _build_table():
    _WRAPPER_MISTAKES.update(_wrapper_mistake_table())
    table = {}
    for q in _schedule_quantities() + _interpolant_quantities() + _field_quantities() + _wrapper_quantities() + _step_quantities():
        table[q.name] = replace(q, plain=_PLAIN[q.name])
    return table


QUANTITIES: dict = {}
QUANTITIES.update(_build_table())


def quantity(name: str) -> Quantity:
    """The :class:`Quantity` called ``name``.

    Raises
    ------
    TypeError
        If ``name`` is not a string.
    ValueError
        For an unknown name: the message suggests the closest names and lists all of them.
    """
    if not isinstance(name, str):
        raise TypeError(f"quantity must be a name (str) such as 'drift'; received {name!r} of type {type(name).__name__}.")
    if name not in QUANTITIES:
        raise unknown_name_error("quantity", name, QUANTITIES)
    return QUANTITIES[name]


def plain_summary(q) -> str:
    """The one-line plain-text summary of a quantity (a :class:`Quantity` or its name).

    Unicode formulas, no markup, at most ``PLAIN_WIDTH`` characters: what
    ``si-ref check --list`` prints after each name.
    """
    return (q if isinstance(q, Quantity) else quantity(q)).plain


# --- descriptions for reports ---------------------------------------------------------------

def _array(a) -> str:
    return np.array2string(np.asarray(a), precision=6, separator=", ", max_line_width=10**6).replace("\n", "")


def _describe_distribution(dist) -> str:
    if isinstance(dist, Gaussian):
        return f"Gaussian(mean={_array(dist.mean)}, cov={_array(dist.cov)})"
    return (f"GaussianMixture(weights={_array(dist.weights)}, means={_array(dist.means)}, "
            f"covs={_array(dist.covs)})")


def describe(reference) -> str:
    """A readable, reproducible description of a schedule, interpolant or Gaussian case."""
    if isinstance(reference, GaussianCase):
        text = (f"GaussianCase({reference.interpolant!r}, base={_describe_distribution(reference.base)}, "
                f"target={_describe_distribution(reference.target)}")
        if reference.cross_cov is not None:
            text += f", cross_cov={_array(reference.cross_cov)}"
        return text + ")"
    return repr(reference)
