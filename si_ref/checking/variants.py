r"""The wrong values a mistake produces, and the references transformed to compute them.

A :class:`Mistake` of a quantity is a catalogue name (:mod:`si_ref.checking.mistakes`)
with the *forms* it takes for that quantity:

* a :class:`Variant` is a fixed wrong value, ``value(example) -> ndarray`` (or None
  where it is undefined at that example, e.g. a division by a vanishing coefficient);
* a :class:`Fitted` form has one unknown number (a constant factor, the δ of a guard
  in a denominator) estimated from the received values, ``fit(example, received)``,
  then ``value(example, parameter)``; the checker pools the estimates of every
  failing input, so one number must explain them all.

The transformed references (time reversed, α and β exchanged) keep the kind of the
original interpolant (two-sided, one-sided or mirror), so that a conversion that
needs a one-sided path accepts them.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ..gaussian import GaussianCase
from ..interpolants import Interpolant
from ..schedules import GammaSchedule
from .mistakes import explanation

__all__ = ["Variant", "Fitted", "Mistake", "mistake", "negated", "scaled", "at_reversed", "on_swapped",
           "per_column", "sign_flip", "time_reversed", "swapped", "wrong_axis", "constant_factor",
           "additive_guard", "SwappedInterpolant", "ReversedGamma", "ReversedInterpolant", "swapped_case"]


class Variant(NamedTuple):
    """One form of a mistake: ``value(example)`` is the wrong value (None: undefined there)."""

    form: str
    value: Callable


class Fitted(NamedTuple):
    """A form with one number estimated from the received values.

    ``fit(example, received) -> float or None``; ``value(example, parameter) -> ndarray``;
    ``form`` is a format string with ``{parameter}``.
    """

    form: str
    fit: Callable
    value: Callable


class Mistake(NamedTuple):
    """A catalogued mistake (``name``, ``explanation``) and its forms for one quantity."""

    name: str
    explanation: str
    variants: tuple


def mistake(name: str, *forms) -> Mistake:
    """The mistake ``name`` with the given forms (:class:`Variant`, :class:`Fitted` or (form, value) pairs)."""
    return Mistake(name, explanation(name), tuple(f if isinstance(f, (Variant, Fitted)) else Variant(*f)
                                                   for f in forms))


# --- transformed references ------------------------------------------------------------------------

class SwappedInterpolant(Interpolant):
    """x_t = β(t) x0 + α(t) x1 + γ(t) z: the coefficients of x0 and x1 exchanged (α/σ swapped).

    Keeps the kind of the original: a swapped one-sided path still has x0 ~ N(0, I).
    """

    def __init__(self, original: Interpolant):
        self.original = original
        self.gamma_schedule = original.gamma_schedule

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.original.kind

    def _alpha(self, t):
        return self.original._beta(t)

    def _alpha_dot(self, t):
        return self.original._beta_dot(t)

    def _beta(self, t):
        return self.original._alpha(t)

    def _beta_dot(self, t):
        return self.original._alpha_dot(t)


class ReversedGamma(GammaSchedule):
    """γ(1 − t) with its true derivative −γ̇(1 − t): a schedule written for the opposite time direction."""

    def __init__(self, original: GammaSchedule):
        self.original = original

    @property
    def max_gamma(self) -> float:
        return self.original.max_gamma

    @property
    def is_zero(self) -> bool:
        return self.original.is_zero

    def _gamma(self, t):
        return self.original._gamma(1.0 - t)

    def _gamma_dot(self, t):
        return -self.original._gamma_dot(1.0 - t)

    def _gamma_gamma_dot(self, t):
        return -self.original._gamma_gamma_dot(1.0 - t)


class ReversedInterpolant(Interpolant):
    """α(1 − t), β(1 − t), γ(1 − t) with their true derivatives: the opposite time direction (same kind)."""

    def __init__(self, original: Interpolant):
        self.original = original
        self.gamma_schedule = ReversedGamma(original.gamma_schedule)

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.original.kind

    def _alpha(self, t):
        return self.original._alpha(1.0 - t)

    def _alpha_dot(self, t):
        return -self.original._alpha_dot(1.0 - t)

    def _beta(self, t):
        return self.original._beta(1.0 - t)

    def _beta_dot(self, t):
        return -self.original._beta_dot(1.0 - t)


def swapped_case(case: GaussianCase) -> GaussianCase | None:
    """The case whose interpolant has α and β exchanged (None for a mirror, where it is the same law)."""
    if case.interpolant.kind == "mirror":
        return None
    return GaussianCase(SwappedInterpolant(case.interpolant), case.base, case.target, cross_cov=case.cross_cov)


# --- building forms ------------------------------------------------------------------------------------

def scaled(fn, factor):
    """``factor(example) * fn(example)``."""
    def value(ex):
        return factor(ex) * fn(ex)
    return value


def negated(fn):
    return scaled(fn, lambda ex: -1.0)


def at_reversed(fn, sign=1.0):
    """``sign * fn`` at 1 − t."""
    def value(ex):
        return sign * fn(ex.at(ex.reversed_t))
    return value


def on_swapped(fn):
    """``fn`` with the reference's α and β exchanged (None for a mirror)."""
    def value(ex):
        if isinstance(ex.reference, GaussianCase):
            swapped_reference = swapped_case(ex.reference)
        elif isinstance(ex.reference, Interpolant) and ex.reference.kind != "mirror":
            swapped_reference = SwappedInterpolant(ex.reference)
        else:
            swapped_reference = None
        return None if swapped_reference is None else fn(ex.with_reference(swapped_reference))
    return value


def per_column(fn):
    """Row i, column j evaluated at t[j]: what ``coefficient(t) * x`` does when n == d."""
    def value(ex):
        t = np.asarray(ex.t)
        points = ex.points
        if t.ndim == 0 or points is None or points.shape[0] != points.shape[1] or np.all(t == t[0]):
            return None
        return np.stack([np.asarray(fn(ex.at(float(tj))))[:, j] for j, tj in enumerate(t)], axis=1)
    return value


def sign_flip(fn) -> Mistake:
    return mistake("sign-flip", ("minus the exact value", negated(fn)))


#: The forms of :func:`time_reversed` by sign, in si_ref's time t.
_REVERSED_LABELS = {1.0: "value at 1 − t", -1.0: "minus the value at 1 − t (d/dt changes sign)"}


def time_reversed(fn, signs=(1.0, -1.0), *extra, labels=None) -> Mistake:
    """``sign * fn`` at 1 − t for each sign in ``signs``, then the ``extra`` forms; ``labels`` maps a sign to
    its form's label (default: worded in si_ref's time t)."""
    labels = _REVERSED_LABELS if labels is None else labels
    return mistake("time-reversed", *[(labels[s], at_reversed(fn, s)) for s in signs], *extra)


def swapped(fn) -> Mistake:
    return mistake("alpha-beta-swapped", ("α and β exchanged", on_swapped(fn)))


def wrong_axis(fn, time="t") -> Mistake:
    """Row i, column j evaluated at the j-th time (``time`` names it in the form: t, or τ for diffusion)."""
    return mistake("t-wrong-axis", (f"row i, column j evaluated at {time}[j]", per_column(fn)))


# --- fitted forms -----------------------------------------------------------------------------------

def _fit_factor(exact):
    def fit(ex, received):
        expected = np.asarray(exact(ex), dtype=np.float64)
        ok = np.isfinite(expected) & np.isfinite(received)
        if expected.shape != received.shape or not ok.any():
            return None
        e, r = expected[ok], received[ok]
        norm = float(np.dot(e, e))
        if norm == 0.0:
            return None
        factor = float(np.dot(r, e)) / norm
        return factor if np.isfinite(factor) and factor != 0.0 else None
    return fit


def constant_factor(exact) -> Mistake:
    """The exact value times one constant, estimated by least squares: c = Σ r e / Σ e²."""
    return mistake("constant-factor", Fitted("your values = {parameter:.6g} × the exact value", _fit_factor(exact),
                                             lambda ex, c: c * np.asarray(exact(ex), dtype=np.float64)))


def additive_guard(exact, divisor, divisor_name: str) -> Mistake:
    """exact · c/(c + δ): the value N/c computed as N/(c + δ), with δ estimated from the received values.

    ``divisor(example)`` is c shaped to broadcast against the value.
    """
    def fit(ex, received):
        expected = np.asarray(exact(ex), dtype=np.float64)
        c = np.broadcast_to(np.asarray(divisor(ex), dtype=np.float64), expected.shape)
        ok = np.isfinite(expected) & np.isfinite(received) & (received != 0) & (expected != 0) & np.isfinite(c)
        if expected.shape != received.shape or not ok.any():
            return None
        delta = float(np.median(c[ok] * (expected[ok] / received[ok] - 1.0)))
        return delta if np.isfinite(delta) and delta != 0.0 else None

    def value(ex, delta):
        expected = np.asarray(exact(ex), dtype=np.float64)
        c = np.asarray(divisor(ex), dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            return expected * c / (c + delta)

    return mistake("additive-guard", Fitted(f"a guard δ = {{parameter:.3g}} added to the divisor {divisor_name}",
                                            fit, value))
