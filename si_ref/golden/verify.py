"""Verifying an implementation against stored golden vectors: :func:`verify`.

Calls the implementation on the stored inputs of each entry, compares with the
stored outputs, and reports like :func:`si_ref.conformance.check`: the first
failing stored row as counterexample, with the diagnoses that fit every failing reference.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .. import references
from .._checks import as_positive_real
from ..conformance import Counterexample, Diagnosis, Report, _close, _errors, diagnose
from ..gaussian import GaussianCase
from ..interpolants import Interpolant
from ..quantities import QUANTITIES, Example, build_wrapper, describe
from ..schedules import GammaSchedule
from .format import _COEFFICIENTS, _REGENERATE, _json_dumps, _version
from .reader import GoldenSet, load

#: Failing entries whose diagnoses are intersected (as the conformance checker's evidence).
_EVIDENCE = 6


def _reference_object(level: str, name: str):
    table = {"schedule": references.GAMMA_SCHEDULES,
             "interpolant": references.INTERPOLANTS}.get(level, references.CASES)
    if name not in table:
        raise ValueError(f"the golden vectors use the reference {name!r}, which this si_ref ({_version()}) does "
                         f"not define; {_REGENERATE}.")
    return table[name]


def _same_definition(golden: GoldenSet, level: str, name: str) -> None:
    """The named reference exists in this si_ref and is defined as when the vectors were written."""
    _reference_object(level, name)
    stored = golden.manifest["references"].get(name)
    current = json.loads(_json_dumps(references.definition(name)))
    if stored != current:
        raise ValueError(f"the golden vectors were written for another definition of the reference {name!r} than "
                         f"this si_ref's; {_REGENERATE}.")


def _summary(quantity: str) -> str:
    """The one-line plain-text definition (a quantity stored by another si_ref may be unknown here)."""
    return QUANTITIES[quantity].plain if quantity in QUANTITIES else ""


def _check_tolerance(rtol, atol) -> tuple:
    return as_positive_real(rtol, "rtol", allow_zero=True), as_positive_real(atol, "atol", allow_zero=True)


def _reference_name(golden: GoldenSet, quantity: str, reference):
    """``reference`` as the name of a stored reference: a name, or a schedule / interpolant / case object."""
    if reference is None or isinstance(reference, str):
        return reference
    if isinstance(reference, (GammaSchedule, Interpolant, GaussianCase)):
        name = references.name_of(reference)
        if name is None:
            raise ValueError(f"reference {describe(reference)} is not one of si_ref's named references, and golden "
                             f"vectors exist only for those; stored references for {quantity!r}: "
                             f"{list(golden.references(quantity))}. Pass one of these names (or its object from "
                             f"si_ref.references), or check other references with si_ref.conformance.check.")
        return name
    raise TypeError(f"reference must be the name (str) of a stored reference or a GammaSchedule, Interpolant or "
                    f"GaussianCase; received {reference!r} of type {type(reference).__name__}.")


def _select_entries(golden: GoldenSet, quantity, reference) -> list:
    if not isinstance(quantity, str):
        raise TypeError(f"quantity must be a name (str) such as 'drift'; received {quantity!r} of type "
                        f"{type(quantity).__name__}.")
    entries = golden.entries(quantity)
    if not entries:
        known = " (a quantity of the conformance table: check it with si_ref.conformance.check)" \
            if quantity in QUANTITIES else ""
        close = references.close_names(quantity, golden.quantities)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close and not known else ""
        raise ValueError(f"no golden vectors for quantity {quantity!r}{known}; {hint}stored quantities: "
                         f"{', '.join(golden.quantities)}.")
    if reference is None:
        return entries
    chosen = [e for e in entries if e["reference"] == reference]
    if not chosen:
        stored = [e["reference"] for e in entries]
        close = references.close_names(reference, stored)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
        raise ValueError(f"no golden vectors of {quantity!r} for reference {reference!r}; {hint}stored references "
                         f"for {quantity!r}: {stored}.")
    return chosen


def _implementations(implementation, level: str, entries: list, reference) -> list:
    """(entry, callable or factory flag) for the entries to check."""
    if isinstance(implementation, Mapping):
        names = [e["reference"] for e in entries]
        if not implementation:
            raise ValueError(f"implementation is an empty mapping; map reference names to callables, e.g. "
                             f"{{{names[0]!r}: f}}; stored references: {names}.")
        unknown = sorted(set(implementation) - set(names)) if reference is None else []
        if unknown:
            raise ValueError(f"implementation maps references with no stored vectors of this quantity: {unknown}; "
                             f"stored references: {names}.")
        if reference is not None and reference not in implementation:
            raise ValueError(f"implementation (a mapping) has no entry for reference {reference!r}; it maps "
                             f"{sorted(implementation)}.")
        chosen = [e for e in entries if e["reference"] in implementation]
        for e in chosen:
            if not callable(implementation[e["reference"]]):
                raise TypeError(f"implementation[{e['reference']!r}] must be callable; received "
                                f"{implementation[e['reference']]!r}.")
        return [(e, implementation[e["reference"]], False) for e in chosen]
    if not callable(implementation):
        raise TypeError(f"implementation must be callable (or a mapping {{reference name: callable}}); received "
                        f"{implementation!r}.")
    factory = reference is None and level != "wrapper"
    return [(e, implementation, factory) for e in entries]


@dataclass
class _Outcome:
    """What happened on some rows of an entry."""

    received: np.ndarray | None
    expected: np.ndarray
    error: str
    bad_rows: np.ndarray | None = None     # local row indices that differ (value comparison only)
    hint: bool = False                      # a broadcasting error: t along the wrong axis


class _Entry:
    """One stored check with its inputs, ready to evaluate on any subset of its rows."""

    def __init__(self, golden: GoldenSet, entry: dict):
        self.entry = entry
        self.quantity = entry["quantity"]
        self.level = entry["level"]
        self.reference_name = entry["reference"]
        self.reference = _reference_object(self.level, self.reference_name)
        output = golden[entry["output"]]
        self.rows = np.arange(output.shape[0]) if entry["rows"] is None else np.array(entry["rows"], dtype=int)
        self.inputs = {name: golden[key][self.rows] for name, key in entry["inputs"].items()}
        self.expected = output[self.rows]
        self.eps = entry["eps"]

    def arguments(self, local) -> dict:
        return {name: values[local] for name, values in self.inputs.items()}

    def example(self, local) -> Example:
        args = self.arguments(local)
        return Example(self.reference, args["t"], x=args.get("x"), x0=args.get("x0"), x1=args.get("x1"),
                       z=args.get("z"), eps=self.eps)

    def call(self, implementation, local):
        """Call the implementation on the rows ``local``; return (output, modified argument names)."""
        args = self.arguments(local)
        if self.level == "wrapper":
            q = QUANTITIES[self.quantity]
            fields = [_stored_field(name, args[name], args["x"], args["t"]) for name in q.inputs]
            fn = build_wrapper(q, implementation, self.reference, self.eps, fields=fields)
            names = ("x", "t")
        elif self.level == "field":
            fn, names = implementation, ("x", "t")
        elif self.quantity == "interpolant_partial_t":
            fn, names = implementation, ("t", "x0", "x1")
        elif self.level == "interpolant" and self.quantity not in _COEFFICIENTS:
            fn, names = implementation, ("t", "x0", "x1", "z")
        else:
            fn, names = implementation, ("t",)
        copies = [args[n].copy() for n in names]
        out = fn(*copies)
        modified = [n for n, c in zip(names, copies) if not np.array_equal(c, args[n])]
        return out, modified

    def evaluate(self, implementation, local, rtol, atol) -> _Outcome | None:
        expected = self.expected[local]
        try:
            out, modified = self.call(implementation, local)
        except Exception as exc:  # the implementation under test raised
            return _Outcome(None, expected, f"raised {type(exc).__name__}: {exc}",
                            hint=np.size(local) > 1 and "broadcast" in str(exc))
        if modified:
            return _Outcome(None, expected, f"modified its input argument(s) {modified} in place (inputs must be "
                            f"left unchanged)")
        received = np.asarray(out)
        if received.dtype.kind not in "iuf":
            return _Outcome(None, expected, f"returned {type(out).__name__} of dtype {received.dtype}; expected "
                            f"real numbers")
        received = received.astype(np.float64)
        if received.shape != expected.shape:
            hint = " (transposed?)" if received.ndim == 2 and received.shape == expected.shape[::-1] else ""
            return _Outcome(received, expected, f"returned shape {received.shape}; expected shape "
                            f"{expected.shape}{hint}")
        agree = _close(received, expected, rtol, atol)
        if agree.all():
            return None
        bad = np.flatnonzero(~agree.reshape(agree.shape[0], -1).all(axis=1))
        return _Outcome(received, expected, "values differ", bad_rows=bad)


def _stored_field(name, values, x, t):
    """An input field that returns the stored values, and refuses other inputs (the vectors hold no others)."""
    def stored(x_, t_, *conditioning):
        try:
            same = np.array_equal(np.asarray(x_), x) and np.array_equal(
                np.broadcast_to(np.asarray(t_, dtype=np.float64), t.shape), t)
        except (ValueError, TypeError):
            same = False
        if not same:
            raise ValueError(f"the wrapper called its input field {name!r} at other (x, t) than the stored ones; "
                             f"the golden vectors hold {name} only at the stored rows (a wrapper must call its "
                             f"input fields at the (x, t) it is given).")
        return values.copy()
    return stored


def _smallest_failure(item: _Entry, implementation, rtol, atol):
    """After a failure on all rows at once: the first row that fails alone, else the first two rows that fail
    together (a t broadcast along the wrong axis fails only for n > 1), as (local rows, outcome)."""
    for size in (1, 2):
        for start in range(item.rows.size - size + 1):
            local = np.arange(start, start + size)
            outcome = item.evaluate(implementation, local, rtol, atol)
            if outcome is not None:
                return local, outcome
    return None, None


def _counterexample(item: _Entry, local, outcome: _Outcome, n_bad: int | None = None,
                    where: str | None = None) -> Counterexample:
    """The counterexample at the local rows ``local`` (None: all rows); ``outcome`` is of those rows,
    or of all rows when ``n_bad`` is given (then its received values are cut to ``local``)."""
    if local is None:                # fails only with all rows together: show them all
        local = np.arange(item.rows.size)
        where = where or f"the {item.rows.size} stored rows together (fewer rows pass)"
    else:
        local = np.atleast_1d(local)
        stored = [int(i) for i in item.rows[local]]
        where = f"stored row {stored[0]}" if len(stored) == 1 else f"stored rows {stored} together"
    received, expected = outcome.received, outcome.expected
    if n_bad is not None:
        received, expected = received[local], expected[local]
    inputs = item.arguments(local)
    if item.eps is not None:
        inputs["eps"] = item.eps
    comparable = received is not None and received.shape == expected.shape
    abs_err, rel_err = _errors(received, expected) if comparable else (math.nan, math.nan)
    error = f"{outcome.error} at {where} of {item.entry['output']!r}"
    if n_bad is not None:
        error += f" ({n_bad} of {item.rows.size} rows differ)"
    return Counterexample(f"{item.reference_name}: {describe(item.reference)}", inputs, expected, received,
                          abs_err, rel_err, error)


def _t_wrong_axis(quantity: str) -> Diagnosis:
    source = QUANTITIES[quantity] if quantity in QUANTITIES else QUANTITIES["interpolant"]
    mistake = next((m for m in source.mistakes if m.name == "t-wrong-axis"),
                   next(m for m in QUANTITIES["interpolant"].mistakes if m.name == "t-wrong-axis"))
    return Diagnosis(mistake.name, "a broadcasting error with t of shape (n,)", mistake.explanation)


def _entry_diagnoses(item: _Entry, outcome: _Outcome, rtol, atol):
    """Diagnoses at the failing rows of one entry (None: not comparable)."""
    if item.quantity not in QUANTITIES or outcome.bad_rows is None:
        return None
    bad = outcome.bad_rows
    for local in (bad, np.arange(item.rows.size)):   # the failing rows; failing that, all rows
        try:
            with np.errstate(all="ignore"):
                found = diagnose(item.quantity, item.example(local), outcome.received[local], rtol=rtol, atol=atol)
        except (ValueError, ZeroDivisionError, FloatingPointError, np.linalg.LinAlgError):
            found = ()
        if found:
            return found
    return ()


def _combined(per_entry: list, hints: list) -> tuple:
    """Diagnoses consistent with every comparable failing entry (in the first one's order), plus hints."""
    comparable = [d for d in per_entry if d is not None]
    out = []
    if comparable:
        common = set.intersection(*({d.name for d in ds} for ds in comparable))
        out = [d for d in comparable[0] if d.name in common]
    for hint in hints:
        if hint.name not in {d.name for d in out}:
            out.append(hint)
    return tuple(out)


def verify(directory, quantity: str, implementation, *, reference=None,
           rtol: float = 1e-6, atol: float = 1e-8) -> Report:
    """Check an implementation against the stored golden vectors of one quantity.

    Only stored numbers are used: the implementation is called on the stored
    inputs and compared with the stored outputs, entrywise
    ``|received − expected| <= atol + rtol |expected|`` (infinities must be equal).

    Parameters
    ----------
    directory : str, path-like or GoldenSet
        A folder written by :func:`write` (loaded and hash-checked), or a loaded set.
    quantity : str
        A quantity with stored vectors (``GoldenSet.quantities``), e.g. ``"gamma_dot"``,
        ``"alpha"``, ``"interpolant"``, ``"drift"``, ``"log_density"``, ``"DriftFromVelocityScore"``.
    implementation : callable or mapping
        Called as the conformance checker calls it for the quantity's level:
        schedules and coefficients ``f(t)``; ``interpolant`` / ``interpolant_dot``
        ``f(t, x0, x1, z)``, ``interpolant_partial_t`` ``f(t, x0, x1)``; fields
        ``f(x, t)`` (the SDE drifts with ε = ``manifest["eps"]``); wrappers: a
        constructor called like si_ref's (``Wrapper(*input fields, parameter)``, see
        :func:`si_ref.quantities.build_wrapper`) whose input fields return the stored
        inputs, then called at the stored (x, t). ``t`` is an array of shape (n,),
        ``x`` of shape (n, d). Either

        * a mapping ``{reference name: callable}``: only those references are checked;
        * with ``reference`` given, the callable for that reference;
        * with ``reference`` None, for schedule, interpolant and field quantities, a
          *factory* ``make(ref) -> callable`` called with si_ref's reference object
          (a ``GammaSchedule``, ``Interpolant`` or ``GaussianCase``; read its
          parameters), as in :func:`si_ref.conformance.check`. Wrapper constructors
          are used as they are.
    reference : str, GammaSchedule, Interpolant or GaussianCase, optional
        Check only this reference: its name in :mod:`si_ref.references` (e.g.
        ``"mixture-2d-linear-brownian"``), or the object itself (one of that module's, or
        an equal rebuild: same family and parameters).
    rtol, atol : float
        Tolerance, finite and >= 0.

    Returns
    -------
    Report
        As :func:`si_ref.conformance.check` (``str(report)`` is the same plain-text
        report): ``examples`` is the number of stored rows evaluated, ``details`` says
        which vectors were used and how many values were compared. On
        failure the counterexample is the first failing stored row (t and x, or
        x0, x1, z, of that row), with expected and received values, and the
        diagnoses of :func:`si_ref.conformance.diagnose` that fit every failing
        reference.

    Raises
    ------
    ValueError
        For a missing or corrupted vector folder, a quantity with no stored vectors
        (the message suggests close names and lists those that exist), a reference
        with no stored vectors for the quantity (or no name), or a negative or NaN tolerance.
    TypeError
        For an implementation that is neither callable nor a mapping of callables, or
        a quantity or reference of the wrong type.
    """
    golden = directory if isinstance(directory, GoldenSet) else load(directory)
    rtol, atol = _check_tolerance(rtol, atol)
    _select_entries(golden, quantity, None)                       # the quantity first: its errors come first
    reference = _reference_name(golden, quantity, reference)       # an object becomes its name
    entries = _select_entries(golden, quantity, reference)
    level = entries[0]["level"]
    chosen = _implementations(implementation, level, entries, reference)
    for entry, _, _ in chosen:
        _same_definition(golden, level, entry["reference"])

    rows_checked = values_compared = 0
    first = None                       # (counterexample) of the first failing entry
    per_entry, hints = [], []
    for entry, impl, factory in chosen:
        item = _Entry(golden, entry)
        everything = np.arange(item.rows.size)
        rows_checked += item.rows.size
        if factory:
            try:
                impl = impl(item.reference)
            except Exception as exc:
                if first is None:
                    first = _counterexample(item, None, _Outcome(
                        None, item.expected, f"the factory raised {type(exc).__name__}: {exc} (with no reference "
                        f"given, the implementation is called as make(reference) and must return the callable)"),
                        where=f"the {item.rows.size} stored rows")
                continue
        outcome = item.evaluate(impl, everything, rtol, atol)
        if outcome is None or outcome.bad_rows is not None:
            values_compared += item.expected.size
        if outcome is None:
            continue
        if outcome.bad_rows is not None:
            if first is None:
                first = _counterexample(item, int(outcome.bad_rows[0]), outcome, outcome.bad_rows.size)
            if len(per_entry) < _EVIDENCE:
                per_entry.append(_entry_diagnoses(item, outcome, rtol, atol))
            continue
        if outcome.hint and item.quantity in QUANTITIES:
            hints.append(_t_wrong_axis(item.quantity))
        if first is None:
            local, smallest = _smallest_failure(item, impl, rtol, atol)
            first = _counterexample(item, local, smallest if smallest is not None else outcome)

    names = sorted({e["reference"] for e, _, _ in chosen})
    details = (f"golden vectors in {golden.directory} (format {golden.manifest['format_version']}, written by si_ref "
               f"{golden.manifest.get('si_ref_version')})\n"
               f"{values_compared} stored values compared, {len(names)} reference(s): {', '.join(names)}")
    summary = _summary(quantity)
    if first is None:
        return Report(quantity, True, rows_checked, rtol, atol, summary=summary, details=details)
    return Report(quantity, False, rows_checked, rtol, atol, first, _combined(per_entry, hints), summary=summary,
                  details=details)
