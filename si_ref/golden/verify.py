"""Verifying an implementation against stored golden vectors: :func:`verify`.

Calls the implementation on the stored inputs of each entry, compares with the
stored outputs, and reports like :func:`si_ref.conformance.check`: the first
failing stored row as counterexample, with the diagnoses that fit every failing reference.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

import numpy as np

from .. import references
from .._checks import as_positive_real
from ..checking.compare import EVIDENCE, Failure, Tolerance, diagnoses, errors
from ..checking.evaluate import evaluate
from ..checking.report import Counterexample, Report
from ..diffusion.case import DiffusionCase
from ..gaussian import GaussianCase
from ..guidance import GuidanceCase, GuidedFields, guidance_strength
from ..interpolants import Interpolant
from ..checking.example import Example
from ..checking.linear_field import LinearField
from ..checking.losses import LossQuantity
from ..checking.quantity import WrapperQuantity, build_wrapper
from ..checking.table import QUANTITIES, describe
from ..schedules import GammaSchedule
from .format import LINEAR_FIELD, _REGENERATE, _json_dumps, _version
from .reader import GoldenSet, load

def _reference_object(level: str, name: str):
    if level == "loss":   # the linear field on the named interpolant
        from .writer import linear_field
        field = linear_field()
        return LinearField(field.A, field.c, _reference_object("interpolant", name))
    if level in ("step", "likelihood"):
        from .writer import linear_field
        if name != LINEAR_FIELD[0]:
            raise ValueError(f"the golden step vectors use the field {name!r}, which this si_ref ({_version()}) does "
                             f"not define; {_REGENERATE}.")
        return linear_field()
    table = {"schedule": references.GAMMA_SCHEDULES,
             "interpolant": references.INTERPOLANTS}.get(level, references.CASES)
    if level.startswith("diffusion"):
        table = references.DIFFUSION_CASES
    if level == "guidance":
        table = references.GUIDANCE_CASES
    if name not in table:
        raise ValueError(f"the golden vectors use the reference {name!r}, which this si_ref ({_version()}) does "
                         f"not define; {_REGENERATE}.")
    return table[name]


def _same_definition(golden: GoldenSet, level: str, name: str) -> None:
    """The named reference exists in this si_ref and is defined as when the vectors were written."""
    obj = _reference_object(level, name)
    stored = golden.manifest["references"].get(name)
    current = json.loads(_json_dumps(obj.definition() if level in ("step", "likelihood")
                                     else references.definition(name)))
    if level == "loss":   # f̂ is built on the linear field of the steps too
        _same_definition(golden, "step", LINEAR_FIELD[0])
    if stored != current:
        raise ValueError(f"the golden vectors were written for another definition of the reference {name!r} than "
                         f"this si_ref's; {_REGENERATE}.")


def _summary(quantity: str) -> str:
    """The one-line plain-text definition (a quantity stored by another si_ref may be unknown here)."""
    return QUANTITIES[quantity].plain if quantity in QUANTITIES else ""


def _check_tolerance(rtol, atol) -> tuple:
    """rtol and atol as floats >= 0, or None for the dtype-aware defaults."""
    return tuple(None if value is None else as_positive_real(value, name, allow_zero=True)
                 for value, name in ((rtol, "rtol"), (atol, "atol")))


def _reference_name(golden: GoldenSet, quantity: str, reference):
    """``reference`` as the name of a stored reference: a name, or a schedule / interpolant / case object."""
    if reference is None or isinstance(reference, str):
        return reference
    if isinstance(reference, GuidedFields):
        reference = reference.case          # the strength is the stored one; the entries are per named case
    if isinstance(reference, (GammaSchedule, Interpolant, GaussianCase, DiffusionCase, GuidanceCase)):
        name = references.name_of(reference)
        if name is None:
            raise ValueError(f"reference {describe(reference)} is not one of si_ref's named references, and golden "
                             f"vectors exist only for those; stored references for {quantity!r}: "
                             f"{list(golden.references(quantity))}. Pass one of these names (or its object from "
                             f"si_ref.references), or check other references with si_ref.conformance.check.")
        return name
    raise TypeError(f"reference must be the name (str) of a stored reference or a GammaSchedule, Interpolant, "
                    f"GaussianCase, DiffusionCase, GuidanceCase or GuidedFields; received {reference!r} of type "
                    f"{type(reference).__name__}.")


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


def _stored_strength(entry) -> str:
    """``'scale=3.0'`` or ``'weight=4.5'``: the guidance strength of a stored guided-field entry."""
    parameter = entry["parameter"]
    return f"{parameter['convention']}={parameter['value']!r}"


def _at_strength(entries: list, quantity: str, strength, *, factory: bool) -> list:
    """The guided-field entries to check: those at ``strength`` (a GuidanceStrength) when one is given.

    The vectors hold each labelled case at several strengths (``golden.writer``); a callable computes
    one, so without a factory the strength must be chosen (as the reference ``case.guided(...)``).
    """
    if entries[0]["level"] != "guidance":
        return entries
    stored = sorted({_stored_strength(e) for e in entries})
    if strength is not None:
        chosen = [e for e in entries
                  if math.isclose(guidance_strength(**{e["parameter"]["convention"]: e["parameter"]["value"]}).scale,
                                  strength.scale, rel_tol=1e-12, abs_tol=1e-12)]
        if not chosen:
            raise ValueError(f"no golden vectors of {quantity!r} at the strength {strength.describe()}; the stored "
                             f"strengths are {stored}. Pass reference=<GuidanceCase>.guided(...) at one of them, or "
                             f"check other strengths with si_ref.conformance.check.")
        return chosen
    if not factory and len(stored) > 1:
        raise ValueError(f"the golden vectors of {quantity!r} hold the strengths {stored}, and a callable (or a mapping "
                         f"of callables) computes one; received no strength. Pass "
                         f"reference=references.guidance_case(name).guided({stored[0]}) (a stored strength), or "
                         f"reference=None with a factory make(guided_fields) -> f(x, t, c).")
    return entries


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
    q = QUANTITIES.get(entries[0]["quantity"])
    factory = reference is None and (q.takes_factory if q is not None else level != "wrapper")
    return [(e, implementation, factory) for e in entries]


class _StoredCall:
    """How an entry's implementation is called, with the quantity's calling convention; a wrapper's input
    fields return the stored values (the vectors hold no others)."""

    def __init__(self, q, stored_inputs: dict):
        self.q = q
        self.stored_inputs = stored_inputs

    def bind(self, implementation, ex: Example):
        if not isinstance(self.q, WrapperQuantity):
            return self.q.bind(implementation, ex)
        rows = _rows_of(self.stored_inputs["t"], ex.t, self.stored_inputs["x"], ex.x)
        fields = [_stored_field(name, self.stored_inputs[name][rows], ex.x, np.asarray(ex.t))
                  for name in self.q.inputs]
        return build_wrapper(self.q, implementation, ex.reference, ex.eps, fields=fields), (ex.x, ex.t)

    def exact(self, ex):   # only the result's shape is asked (broadcast probes are not run on stored vectors)
        raise ValueError("stored vectors only")


def _rows_of(all_t, t, all_x, x):
    """Indices of the stored rows (t, x) among all stored rows of the entry."""
    t = np.atleast_1d(np.asarray(t))
    out = []
    for ti, xi in zip(t, x):
        match = np.flatnonzero((all_t == ti) & np.all(all_x == xi, axis=1))
        out.append(int(match[0]))
    return np.array(out, dtype=int)


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


class _Entry:
    """One stored check with its inputs, evaluated on any subset of its rows through the shared comparison."""

    def __init__(self, golden: GoldenSet, entry: dict):
        self.entry = entry
        self.quantity = entry["quantity"]
        self.level = entry["level"]
        self.reference_name = entry["reference"]
        self.reference = _reference_object(self.level, self.reference_name)
        self.c = None
        if self.level == "guidance":   # the labelled case guided at the stored strength, towards the stored label
            parameter = entry["parameter"]
            self.reference = self.reference.guided(**{parameter["convention"]: parameter["value"]})
            self.c = parameter["c"]
        output = golden[entry["output"]]
        self.batch = isinstance(QUANTITIES.get(self.quantity), LossQuantity)   # one number per batch: rows not separable
        if self.batch:
            self.rows = np.arange(golden[entry["inputs"]["t"]].shape[0])
            self.inputs = {name: golden[key] for name, key in entry["inputs"].items()}
            self.expected = output.reshape(())
        else:
            self.rows = np.arange(output.shape[0]) if entry["rows"] is None else np.array(entry["rows"], dtype=int)
            self.inputs = {name: golden[key][self.rows] for name, key in entry["inputs"].items()}
            self.expected = output[self.rows]
        self.eps = entry["eps"]
        self.q = QUANTITIES[self.quantity]
        self.call = _StoredCall(self.q, self.inputs)

    def example(self, local) -> Example:
        if self.batch:
            local = slice(None)
        args = {name: values[local] for name, values in self.inputs.items()}
        if hasattr(self.q, "stored_example"):     # the diffusion quantities: named inputs besides (t, x)
            return self.q.stored_example(self.reference, args, self.eps)
        if self.c is not None:                    # a guided field: f(x, t, c) of the guided reference
            return Example(self.reference.case.case(self.c), args["t"], x=args["x"], c=self.c,
                           labelled=self.reference)
        dt = float(args["dt"][0]) if "dt" in args and args["dt"].size else None
        return Example(self.reference, args.get("t"), x=args.get("x"), x0=args.get("x0"), x1=args.get("x1"),
                       z=args.get("z"), eps=self.eps, dt=dt, xi=args.get("xi"))

    def evaluate(self, implementation, local, tolerance) -> Failure | None:
        expected = self.expected if self.batch else self.expected[local]
        return evaluate(self.call, implementation, self.example(local), expected, tolerance, probe=False)


def _smallest_failure(item: _Entry, implementation, tolerance):
    """After a failure on all rows at once: the first row that fails alone, else the first two rows that fail
    together (a t broadcast along the wrong axis fails only for n > 1), as (local rows, failure)."""
    for size in (1, 2):
        for start in range(item.rows.size - size + 1):
            local = np.arange(start, start + size)
            failure = item.evaluate(implementation, local, tolerance)
            if failure is not None:
                return local, failure
    return None, None


def _bad_rows(failure: Failure) -> np.ndarray:
    from ..checking.compare import close
    agree = close(failure.received, failure.expected, failure.rtol, failure.atol)
    return np.flatnonzero(~agree.reshape(agree.shape[0], -1).all(axis=1))


def _counterexample(item: _Entry, local, failure: Failure, *, n_bad: int | None = None, where: str | None = None):
    """The counterexample at the local rows ``local`` (None: all rows)."""
    if local is None:
        local = np.arange(item.rows.size)
        where = where or f"the {item.rows.size} stored rows together (fewer rows pass)"
    else:
        local = np.atleast_1d(local)
        stored = [int(i) for i in item.rows[local]]
        where = f"stored row {stored[0]}" if len(stored) == 1 else f"stored rows {stored} together"
    received, expected = failure.received, failure.expected
    if n_bad is not None:
        received, expected = received[local], expected[local]
    inputs = {name: values[local] for name, values in item.inputs.items()}
    if item.eps is not None:
        inputs["eps"] = item.eps
    comparable = received is not None and received.shape == expected.shape
    abs_err, rel_err = errors(received, expected) if comparable else (math.nan, math.nan)
    error = f"{failure.error} at {where} of {item.entry['output']!r}"
    if n_bad is not None:
        error += f" ({n_bad} of {item.rows.size} rows differ)"
    return Counterexample(f"{item.reference_name}: {describe(item.reference)}", inputs, expected, received,
                          abs_err, rel_err, error)


def _at_rows(failure: Failure, bad: np.ndarray) -> Failure:
    """The failure restricted to its failing rows (the evidence for the diagnosis)."""
    return Failure(failure.example.rows(bad), failure.received[bad], failure.expected[bad], failure.error,
                   received_dtype=failure.received_dtype, rtol=failure.rtol, atol=failure.atol)


def verify(directory, quantity: str, implementation, *, reference=None,
           rtol: float | None = None, atol: float | None = None) -> Report:
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
    reference : str, GammaSchedule, Interpolant, GaussianCase, DiffusionCase or GuidedFields, optional
        Check only this reference: its name in :mod:`si_ref.references` (e.g.
        ``"mixture-2d-linear-brownian"``), or the object itself (one of that module's, or
        an equal rebuild: same family and parameters). For the guided-field quantities a
        callable needs ``reference=<named GuidanceCase>.guided(scale=g)`` at a stored strength
        (the entries at that strength are checked); a factory is called with each stored one.
    rtol, atol : float, optional
        Tolerance, finite and >= 0. Default rtol = 1e-6, atol = 1e-8, and rtol = 1e-5,
        atol = 1e-6 for an implementation that returns float32 arrays (the report says so).

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
    tolerance = Tolerance(rtol, atol)
    _select_entries(golden, quantity, None)                       # the quantity first: its errors come first
    strength = reference.strength if isinstance(reference, GuidedFields) else None
    reference = _reference_name(golden, quantity, reference)       # an object becomes its name
    entries = _select_entries(golden, quantity, reference)
    entries = _at_strength(entries, quantity, strength, factory=reference is None and not isinstance(implementation,
                                                                                                       Mapping))
    level = entries[0]["level"]
    chosen = _implementations(implementation, level, entries, reference)
    for entry, _, _ in chosen:
        _same_definition(golden, level, entry["reference"])
    if quantity not in QUANTITIES:
        raise ValueError(f"the golden vectors store {quantity!r}, which this si_ref ({_version()}) does not define; "
                         f"{_REGENERATE}.")

    rows_checked = values_compared = 0
    first = None                       # the counterexample of the first failing entry
    evidence: list = []                # failures (at their failing rows) of up to EVIDENCE entries
    hints: list = []
    for entry, impl, factory in chosen:
        item = _Entry(golden, entry)
        everything = np.arange(item.rows.size)
        rows_checked += item.rows.size
        if factory:
            try:
                impl = impl(item.reference)
            except Exception as exc:  # the user's factory raised
                if first is None:
                    first = _counterexample(item, None, Failure(
                        item.example(everything), None, item.expected, f"the factory raised {type(exc).__name__}: "
                        f"{exc} (with no reference given, the implementation is called as make(reference) and must "
                        f"return the callable)", comparable=False), where=f"the {item.rows.size} stored rows")
                continue
        failure = item.evaluate(impl, everything, tolerance)
        if failure is None or failure.comparable:
            values_compared += item.expected.size
        if failure is None:
            continue
        if failure.comparable and item.batch:   # one value for the whole batch
            if first is None:
                first = _counterexample(item, None, failure, where=f"the batch of {item.rows.size} stored rows")
            if len(evidence) < EVIDENCE:
                evidence.append((item.q, failure))
            continue
        if failure.comparable:
            bad = _bad_rows(failure)
            if first is None:
                first = _counterexample(item, int(bad[0]), failure, n_bad=bad.size)
            if len(evidence) < EVIDENCE:
                evidence.append((item.q, _at_rows(failure, bad)))
            continue
        hints.append(failure)
        if first is None:
            local, smallest = _smallest_failure(item, impl, tolerance)
            first = _counterexample(item, local, smallest if smallest is not None else failure)

    names = sorted({e["reference"] for e, _, _ in chosen})
    if tolerance.float32_seen:
        details_float32 = "\nthe implementation returned float32: compared with rtol = 1e-05, atol = 1e-06"
    else:
        details_float32 = ""
    details = (f"golden vectors in {golden.directory} (format {golden.manifest['format_version']}, written by si_ref "
               f"{golden.manifest.get('si_ref_version')})\n"
               f"{values_compared} stored values compared, {len(names)} reference(s): {', '.join(names)}"
               + details_float32)
    summary = _summary(quantity)
    if first is None:
        return Report(quantity, True, rows_checked, *tolerance.reported, summary=summary, details=details)
    found = diagnoses(QUANTITIES[quantity], [f for _, f in evidence] + hints)
    return Report(quantity, False, rows_checked, *tolerance.reported, first, found, summary=summary,
                  details=details)
