r"""Comparing received values with exact ones, and naming the mistake that explains a difference.

One comparison serves the drawn checks (:func:`si_ref.conformance.check`) and the
golden vectors (:func:`si_ref.golden.verify`):

* entrywise ``|received − expected| <= atol + rtol |expected|``; at an infinite expected
  value only the same infinity agrees; NaN never does (:func:`close`);
* tolerances default to rtol = 1e-6, atol = 1e-8, and to rtol = 1e-5, atol = 1e-6 when
  the implementation returns float32 arrays (:class:`Tolerance`);
* a failure's diagnoses are the catalogued mistakes whose values reproduce the received
  ones at every failing input where they are defined (a NaN is reproduced by a NaN);
  forms with an estimated number (a constant factor, the δ of a guard, the δ of a floor)
  are fitted once on all failing inputs together (:func:`diagnoses`);
* values within float32 rounding of the exact ones, from an implementation that
  computes in float32, are named ``float32-rounding`` when no mistake matches.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .example import Example
from .mistakes import explanation
from .variants import Fitted

__all__ = ["Tolerance", "FLOAT64_TOLERANCE", "FLOAT32_TOLERANCE", "Diagnosis", "Failure", "close", "errors",
           "diagnoses", "strict_variants", "EVIDENCE"]

#: Default (rtol, atol) for float64 results.
FLOAT64_TOLERANCE = (1e-6, 1e-8)
#: Default (rtol, atol) for float32 results: a few float32 roundings (ε = 1.19e-7) of values of order 1.
FLOAT32_TOLERANCE = (1e-5, 1e-6)

#: Failing inputs gathered (when available) before shrinking starts; the diagnosis must fit all of them.
EVIDENCE = 6


@dataclass
class Tolerance:
    """The tolerance of a check: given by the user, or chosen by the dtype of what the implementation returns.

    ``float32_seen`` records that float32 defaults were used (the report says so).
    """

    rtol: float | None = None
    atol: float | None = None
    float32_seen: bool = False

    @property
    def given(self) -> bool:
        return self.rtol is not None or self.atol is not None

    def for_dtype(self, dtype) -> tuple:
        """(rtol, atol) for a result of ``dtype``; records when float32 defaults apply."""
        if self.given:
            return (self.rtol if self.rtol is not None else FLOAT64_TOLERANCE[0],
                    self.atol if self.atol is not None else FLOAT64_TOLERANCE[1])
        if np.dtype(dtype) in (np.dtype(np.float32), np.dtype(np.float16)):
            self.float32_seen = True
            return FLOAT32_TOLERANCE
        return FLOAT64_TOLERANCE

    @property
    def reported(self) -> tuple:
        """(rtol, atol) shown in the report."""
        if self.given:
            return self.for_dtype(np.float64)
        return FLOAT32_TOLERANCE if self.float32_seen else FLOAT64_TOLERANCE


@dataclass(frozen=True)
class Diagnosis:
    """A convention mistake whose value matches what the implementation returned.

    ``name`` is a stable identifier (e.g. ``"gamma-gamma-dot-sign"``), ``form`` the
    variant that matched (e.g. ``"v + γγ̇ s"``), ``explanation`` the fix.
    """

    name: str
    form: str
    explanation: str

    def __str__(self) -> str:
        return f"{self.name} ({self.form}): {self.explanation}"


@dataclass(eq=False)
class Failure:
    """One failing input: what was received (None when the implementation raised or returned no array)."""

    example: Example
    received: Any
    expected: np.ndarray
    error: str
    comparable: bool = True          # received has the exact value's shape: values can be matched
    hints: set = field(default_factory=set)   # (name, form) read from an exception or a result's shape
    received_dtype: Any = None
    rtol: float = FLOAT64_TOLERANCE[0]
    atol: float = FLOAT64_TOLERANCE[1]
    fixed: bool = False              # one of the deterministic endpoint / far-point inputs


def close(received, expected, rtol, atol) -> np.ndarray:
    """|received − expected| <= atol + rtol |expected| entrywise; at an infinite expected value (where that
    bound is infinite) only the same infinity agrees; NaN never does."""
    with np.errstate(invalid="ignore", over="ignore"):
        within = np.abs(received - expected) <= atol + rtol * np.abs(expected)
        return np.where(np.isinf(expected), received == expected, within)


def _same(received, value, rtol, atol) -> np.ndarray:
    """close, where a NaN is also reproduced by a NaN (a mistake that yields NaN explains a NaN)."""
    return close(received, value, rtol, atol) | (np.isnan(received) & np.isnan(value))


def errors(received, expected):
    """(max |received − expected|, max |received − expected| / |expected| where expected is finite and ≠ 0).

    An entry where the two are equal (infinities included) has error 0; one where exactly one
    is not finite, or they are different infinities, has error inf. NaN: no entry to measure.
    """
    received = np.asarray(received, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if expected.size == 0:
        return math.nan, math.nan
    with np.errstate(invalid="ignore", over="ignore"):
        both_finite = np.isfinite(received) & np.isfinite(expected)
        diff = np.where(both_finite, np.abs(received - expected), np.where(received == expected, 0.0, np.inf))
        scaled = np.isfinite(expected) & (expected != 0)
        rel = diff[scaled] / np.abs(expected[scaled])
    return float(diff.max()), (float(rel.max()) if rel.size else math.nan)


# --- evaluating the mistakes' forms ---------------------------------------------------------------

_strict = {"on": False}

#: What a form may raise where it is undefined at an example (a division by a vanishing coefficient, a
#: singular matrix): no evidence either way. Anything else is a bug in the catalogue, raised in strict mode.
_UNDEFINED = (ValueError, ZeroDivisionError, FloatingPointError, np.linalg.LinAlgError)


@contextmanager
def strict_variants():
    """Inside the block an exception raised while computing a mistake's form propagates (for tests):
    outside it, a form that raises gives no evidence, like one that is undefined."""
    previous = _strict["on"]
    _strict["on"] = True
    try:
        yield
    finally:
        _strict["on"] = previous


def _value(compute, *args):
    try:
        with np.errstate(all="ignore"):
            value = compute(*args)
    except _UNDEFINED:
        return None
    except Exception:
        if _strict["on"]:
            raise
        return None
    return None if value is None else np.asarray(value, dtype=np.float64)


def _fixed_matches(q, failure: Failure) -> dict:
    """{(mistake, form): matched} for the fixed forms computable at the failure's example."""
    out = {}
    ex, received, expected = failure.example, failure.received, failure.expected
    for m in q.mistakes:
        for form in m.variants:
            if isinstance(form, Fitted):
                continue
            value = _value(form.value, ex)
            if value is None:
                continue
            out[(m.name, form.form)] = bool(value.shape == received.shape
                                            and _same(received, value, failure.rtol, failure.atol).all()
                                            and not _same(value, expected, failure.rtol, failure.atol).all())
    return out


def _fitted_matches(q, failures: list) -> dict:
    """{(mistake, form with the pooled number): [matched per failure, None where undefined]}."""
    out = {}
    for m in q.mistakes:
        for form in m.variants:
            if not isinstance(form, Fitted):
                continue
            estimates = [_value(form.fit, f.example, f.received) for f in failures]
            numbers = [float(e) for e in estimates if e is not None and np.isfinite(e)]
            if not numbers:
                continue
            parameter = float(np.median(numbers))
            matched = []
            for f, estimate in zip(failures, estimates):
                value = None if estimate is None else _value(form.value, f.example, parameter)
                matched.append(None if value is None else bool(
                    value.shape == f.received.shape and _same(f.received, value, f.rtol, f.atol).all()
                    and not _same(value, f.expected, f.rtol, f.atol).all()))
            out[(m.name, form.form.format(parameter=parameter))] = matched
    return out


def _float32_like(failure: Failure) -> bool:
    """Received from float32 arithmetic (float32 dtype, or every value representable in float32) and within
    float32 rounding of the exact values."""
    received = failure.received
    from_float32 = failure.received_dtype is not None and np.dtype(failure.received_dtype).itemsize <= 4
    if not from_float32:
        finite = received[np.isfinite(received)]
        from_float32 = finite.size > 0 and bool(np.all(finite.astype(np.float32).astype(np.float64) == finite))
        from_float32 = from_float32 and not np.all(finite == np.round(finite))   # not merely small integers
    return from_float32 and bool(close(received, failure.expected, *FLOAT32_TOLERANCE).all())


def diagnoses(q, failures: list) -> tuple:
    """The catalogued mistakes consistent with every comparable failure (where defined), in catalogue order.

    Diagnoses read from exceptions or result shapes (``Failure.hints``) are added: they do
    not compete with value matches, which they cannot be compared with. A failure with NaN
    or inf, or at a fixed input, that no form reproduces is left out of the intersection:
    NaN cannot be compared with the forms, and at 1e-12 from an endpoint or 1e3 from every
    mode the transformed forms (time reversed, α and β swapped) lose the digits they need.
    """
    comparable = [f for f in failures if f.comparable and f.received is not None]
    per_failure = [_fixed_matches(q, f) for f in comparable]
    for key, matched in _fitted_matches(q, comparable).items():
        for i, hit in enumerate(matched):
            if hit is not None:
                per_failure[i][key] = hit
    evidence = []
    for f, matches in zip(comparable, per_failure):
        # NaN/inf that no form reproduces cannot be compared with the forms; neither can a fixed input
        # next to an endpoint (1e-12 from it a reversed or swapped form loses digits) or far in a tail
        if (f.fixed or not np.isfinite(f.received).all()) and not any(matches.values()):
            continue
        evidence.append(matches)
    matched_somewhere = {key for m in evidence for key, hit in m.items() if hit}
    common = {key for key in matched_somewhere if all(m.get(key, True) for m in evidence)}
    for f in failures:
        common |= f.hints
    order = [m.name for m in q.mistakes]
    forms = [(m.name, form.form) for m in q.mistakes for form in m.variants]

    def rank(key):
        name, form = key
        if (name, form) in forms:
            return forms.index((name, form))
        if name in order:   # a fitted form: its text carries the number
            return next(i for i, (n, _) in enumerate(forms) if n == name)
        return len(forms)

    seen, out = set(), []
    for name, form in sorted(common, key=rank):
        if name not in seen:
            seen.add(name)
            out.append(Diagnosis(name, form, explanation(name)))
    if not out and comparable and all(_float32_like(f) for f in comparable):
        worst = max(errors(f.received, f.expected)[1] for f in comparable)
        out.append(Diagnosis("float32-rounding", f"max relative error {worst:.2g}, float32 ε = 1.2e-7",
                             explanation("float32-rounding")))
    return tuple(out)
