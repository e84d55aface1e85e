"""The report of a check: PASS or FAIL, the minimal counterexample, the diagnoses.

``str(report)`` is plain text for a terminal: Unicode formulas, exact numbers
(shortest round-trip decimals), no markup.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .compare import Diagnosis

__all__ = ["Report", "Counterexample", "Diagnosis"]


@dataclass(frozen=True)
class Counterexample:
    """The minimal failing input found, with what was expected and what was received.

    Attributes
    ----------
    reference : str
        Description of the schedule, interpolant or Gaussian case.
    inputs : dict
        The arguments (t, x or x0/x1/z, dt, xi) as arrays: exactly what the implementation was given.
    expected : ndarray
    received : ndarray or None
        None when the implementation raised (see ``error``) or returned no array.
    max_abs_error : float
        ``max |received − expected|`` over all entries (inf where exactly one of the two is
        not finite, or they are different infinities; NaN when not comparable).
    max_rel_error : float
        ``max |received − expected| / |expected|`` over the entries with a finite, nonzero
        expected value (NaN when there is none, or when not comparable).
    error : str
        Why it failed: the exception raised, a shape or dtype mismatch, a value that changes
        from call to call, or "values differ".
    """

    reference: str
    inputs: dict
    expected: np.ndarray
    received: np.ndarray | None
    max_abs_error: float
    max_rel_error: float
    error: str


@dataclass(frozen=True)
class Report:
    """Result of a conformance check. ``str(report)`` is the readable report (plain text, one idea a line).

    Attributes
    ----------
    quantity : str
    passed : bool
    examples : int
        Number of inputs evaluated (including the shrinking phase).
    rtol, atol : float
        Tolerance used: ``|received − expected| <= atol + rtol |expected|`` entrywise.
    counterexample : Counterexample or None
    diagnoses : tuple of Diagnosis
        Mistakes consistent with every failing input seen, most specific first.
    summary : str
        The quantity's one-line definition (:func:`si_ref.quantities.plain_summary`).
    details : str
        Further lines about what was checked (e.g. which golden vectors), or "".
    """

    quantity: str
    passed: bool
    examples: int
    rtol: float
    atol: float
    counterexample: Counterexample | None = None
    diagnoses: tuple = ()
    summary: str = field(default="", compare=False)
    details: str = field(default="", compare=False)

    @property
    def diagnosis_names(self) -> tuple:
        return tuple(d.name for d in self.diagnoses)

    def raise_if_failed(self) -> "Report":
        """Raise ``AssertionError(str(self))`` when the check failed; return self otherwise."""
        if not self.passed:
            raise AssertionError(str(self))
        return self

    def __str__(self) -> str:
        lines = [f"si_ref conformance: {self.quantity}: {'PASS' if self.passed else 'FAIL'}"]
        if self.summary:
            lines.append(f"  definition: {self.summary}")
        lines += [f"  {line}" for line in self.details.splitlines()]
        lines.append(f"  {self.examples} inputs checked; passes where |received - expected| <= atol + rtol |expected| "
                     f"entrywise, atol = {self.atol!r}, rtol = {self.rtol!r}")
        c = self.counterexample
        if c is None:
            return "\n".join(lines)
        lines += ["", "Minimal counterexample:", f"  reference: {c.reference}"]
        for name, value in c.inputs.items():
            lines.append(f"  {name} = {_format(value)}")
        lines += [f"  expected = {_format(c.expected)}",
                  f"  received = {_format(c.received) if c.received is not None else '(nothing)'}",
                  f"  problem: {c.error}"]
        if not math.isnan(c.max_abs_error):
            relative = ("undefined (every expected value is 0)" if math.isnan(c.max_rel_error)
                        else repr(c.max_rel_error))
            lines.append(f"  max |received - expected| = {c.max_abs_error!r}; max relative error = {relative}")
        if self.diagnoses:
            lines += ["", "Diagnosis (the received values match this convention mistake at every failing input):"]
            lines += [f"  - {d}" for d in self.diagnoses]
        elif c.received is not None and c.expected is not None:
            lines += ["", "Diagnosis: none of the catalogued convention mistakes matches the received values."]
        return "\n".join(lines)


def _format(value) -> str:
    """Exact values: every float with the shortest decimal that reads back to the same float64."""
    if value is None:
        return "None"
    if callable(value):
        return getattr(value, "__name__", repr(value))
    if np.ndim(value) == 0:
        item = np.asarray(value).item() if isinstance(value, (np.ndarray, np.generic)) else value
        return repr(float(item)) if isinstance(item, float) else repr(item)
    return np.array2string(np.asarray(value), floatmode="unique", separator=", ", threshold=10**6,
                           max_line_width=100).replace("\n", "\n      ")
