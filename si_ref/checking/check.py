r"""The checker: fixed endpoint and far-point inputs, then hypothesis draws, shrinking and diagnosis.

See :mod:`si_ref.conformance` for the user's guide (calling conventions, modes,
adapting framework code).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, reject, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException, Unsatisfiable

from .._checks import as_bool, as_positive_real
from .compare import EVIDENCE, FLOAT32_TOLERANCE, Failure, Tolerance, diagnoses, errors
from .draw import TimeRange, process_independent_draws, time_range
from .evaluate import evaluate, exact_or_none
from .example import Example
from ..guidance import GuidedFields
from .guidance import GuidedFieldQuantity, blind_spots
from .quantity import FieldQuantity, Quantity, StepQuantity, WrapperQuantity
from .variants import Mistake, Variant
from .mistakes import explanation
from .report import Counterexample, Report
from .table import describe, quantity

__all__ = ["check", "assert_conforms", "diagnose", "reference_implementation"]


class _Mismatch(Exception):
    def __init__(self, failure: Failure):
        super().__init__(failure.error)
        self.failure = failure


def _tolerance_value(value, name):
    return None if value is None else as_positive_real(value, name, allow_zero=True)


def _check_reference_type(q: Quantity, reference, name: str) -> None:
    expected = q.reference_type
    if not isinstance(reference, expected):
        fix = ("Pass <GuidanceCase>.guided(scale=g) or .guided(weight=w) (named labelled cases: "
               "si_ref.references.GUIDANCE_CASES)" if isinstance(q, GuidedFieldQuantity)
               else f"Pass a {expected.__name__} (see si_ref.references for named ones)")
        raise TypeError(f"{name} for the {q.level}-level quantity {q.name!r} must be a {expected.__name__}; "
                        f"received {type(reference).__name__}. {fix}.")


def _check_options(q: Quantity, reference, eps, max_examples, seed, shrink):
    if reference is not None:
        _check_reference_type(q, reference, "reference")
        if not q.accepts(reference):
            raise ValueError(f"reference does not fit {q.name!r} ({q.plain}); received {describe(reference)}. "
                             f"Pass a reference of the kind the quantity needs, or None to draw them.")
    if q.needs_eps and eps is None:
        raise ValueError(f"quantity {q.name!r} depends on eps(t); pass eps=<number >= 0 or callable of t>, "
                         f"the ε your implementation uses.")
    if eps is not None and not callable(eps):
        eps = as_positive_real(eps, "eps", allow_zero=True)
    for name, value, low in (("max_examples", max_examples, 1), ("seed", seed, 0)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; received {value!r}. Pass e.g. {name}={max(low, 1)}.")
    return eps, int(max_examples), int(seed), as_bool(shrink, "shrink")


def _check_implementation(q: Quantity, implementation, reference) -> None:
    if callable(implementation):
        return
    if isinstance(q, WrapperQuantity):
        raise TypeError(f"implementation of {q.name!r} must be a constructor with si_ref's signature, e.g. "
                        f"si_ref.{q.name}; received {implementation!r} of type {type(implementation).__name__}.")
    kind = "a factory make(reference) -> callable" if reference is None and q.takes_factory else "a callable"
    raise TypeError(f"implementation must be callable ({kind}, see si_ref.conformance's calling conventions); "
                    f"received {implementation!r} of type {type(implementation).__name__}.")


def _factory_failure(q, ex, exc) -> Failure:
    expected = exact_or_none(q, ex)
    return Failure(ex, None, expected if expected is not None else np.asarray(q.exact(ex)),
                   f"the factory raised {type(exc).__name__}: {exc} (with no reference given, the implementation is "
                   f"called as make(reference) and must return the callable)", comparable=False)


class _Conditioning:
    """A conditional check: the label ``c`` and the labelled case it selects a conditional case from."""

    def __init__(self, q: Quantity, labelled, c):
        if not isinstance(q, FieldQuantity) or isinstance(q, StepQuantity):
            raise ValueError(f"c= applies to the field and wrapper quantities (called f(x, t, c)); {q.name!r} is a "
                             f"{q.level}-level quantity. Leave c=None for it.")
        if labelled is None or not callable(getattr(labelled, "case", None)):
            guided = (f" (guided fields: their guided {q.name} is the quantity 'guided_{q.name}'; the conditional "
                      f"{q.name} is that of their .case)" if isinstance(labelled, GuidedFields) else "")
            raise TypeError(f"c= needs a labelled reference with case(c) (the exact case given c; None: "
                            f"unconditional), e.g. "
                            f"si_ref.GuidanceCase; received reference={describe(labelled) if labelled is not None else None}"
                            f"{guided}. Pass reference=<a GuidanceCase> with c=<one of its labels>.")
        self.q, self.labelled, self.c = q, labelled, c
        self.case = labelled.case(c)   # raises ValueError naming the labels for an unknown c

    def attach(self, ex: Example) -> Example:
        return replace(ex, c=self.c, labelled=self.labelled)

    def quantity(self) -> Quantity:
        """The quantity with one more mistake: the conditioning dropped (the unconditional value)."""
        q = self.q

        def unconditional(ex):
            return q.exact(replace(ex, reference=ex.labelled.case(None), c=None, labelled=None))
        dropped = Mistake("condition-dropped", explanation("condition-dropped"),
                          (Variant("the unconditional value (c not passed on)", unconditional),))
        return replace(q, mistakes=q.mistakes + (dropped,))


def _guided_label(q: Quantity, reference, c):
    """The label of a guided-field check, validated against the reference's labels."""
    if reference is None:
        raise ValueError(f"c= of the guided quantity {q.name!r} needs the reference it is a label of; pass "
                         f"reference=<GuidanceCase>.guided(scale=g) with c=<one of its labels>, or leave c=None to "
                         f"draw the labels.")
    _check_reference_type(q, reference, "reference")
    return reference.case.target.check_label(c)   # ValueError listing the labels for an unknown c


def _fixed_phase(q: Quantity, implementation, reference, eps, span: TimeRange, factory: bool, tolerance,
                 attach=None):
    """Evaluate the deterministic inputs; return (number evaluated, failures)."""
    references = [reference] if reference is not None else q.fixed_references()
    count, failures = 0, []
    for ref in references:
        try:
            examples = q.fixed_examples(ref, eps, span)
        except ValueError:
            if reference is not None:
                raise
            continue   # a named reference whose interval misses the requested times
        impl = implementation
        if factory and examples:
            try:
                impl = implementation(ref)
            except Exception as exc:  # the user's factory raised
                failures.append(_factory_failure(q, examples[0], exc))
                continue
        for ex in examples:
            ex = attach(ex) if attach is not None else ex
            expected = exact_or_none(q, ex)
            if expected is None:
                continue
            count += 1
            failure = evaluate(q, impl, ex, expected, tolerance)
            if failure is not None:
                failure.fixed = True
                failures.append(failure)
    return count, failures


def _fixed_description(q: Quantity, span: TimeRange, count: int, failed: int, reference) -> str:
    where = "" if reference is not None else " on named references"
    return f"fixed inputs{where}: {q.fixed_description(span)}: {count} evaluated, {failed} failed"


def _counterexample(q: Quantity, failure: Failure) -> Counterexample:
    comparable = failure.received is not None and failure.received.shape == failure.expected.shape
    abs_err, rel_err = errors(failure.received, failure.expected) if comparable else (math.nan, math.nan)
    ex = failure.example
    # a labelled check: the reference the user gives (a GuidanceCase, or guided fields with their strength), with c
    # among the inputs, rather than the conditional case given c that the values come from
    reference = ex.labelled if ex.labelled is not None else ex.reference
    return Counterexample(describe(reference), q.shown_inputs(ex), failure.expected, failure.received, abs_err,
                          rel_err, failure.error)


def _drawn_phase(q: Quantity, implementation, reference, eps, span: TimeRange, factory: bool, tolerance,
                 max_examples: int, seed: int, shrink: bool, fixed_count: int, attach=None):
    """Draw inputs with hypothesis; return (number evaluated, failures, the failure to report or None).

    A few independent failures (``EVIDENCE``) are collected before the first is handed to
    hypothesis to shrink: shrunk inputs are alike (t = 0, x at a mean), where different
    mistakes can coincide.
    """
    drawn: list = []
    count, raised = [0], [False]
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])

    @hypothesis_seed(seed)
    # database=None: nothing is stored; backend pinned: another backend would not use hypothesis's provider
    @settings(max_examples=max_examples, database=None, deadline=None, derandomize=False, phases=phases,
              backend="hypothesis", suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
              report_multiple_bugs=False)
    @given(st.data())
    def run(data):
        ref = reference if reference is not None else data.draw(q.reference_strategy(), label="reference")
        example = q.draw(data, ref, eps, span)
        example = attach(example) if attach is not None else example
        expected = exact_or_none(q, example)
        if expected is None:
            reject()  # si_ref has no value here (a divisor vanishes): not a valid input
        count[0] += 1
        impl = implementation
        if factory:
            try:
                impl = implementation(ref)
            except Exception as exc:  # the user's factory raised
                failure = _factory_failure(q, example, exc)
                drawn.append(failure)
                raise _Mismatch(failure) from None
        failure = evaluate(q, impl, example, expected, tolerance)
        if failure is not None:
            drawn.append(failure)
            if raised[0] or len(drawn) >= EVIDENCE:
                raised[0] = True
                raise _Mismatch(failure)

    try:
        with process_independent_draws():
            run()
        final = drawn[0] if drawn else None   # fewer than EVIDENCE failures: the first, unshrunk
    except _Mismatch as exc:
        final = exc.failure
    except Unsatisfiable:
        if not fixed_count:
            raise ValueError(
                f"no valid input for {q.name!r}: si_ref's own value is undefined at every drawn input (e.g. at "
                f"times where the conversion divides by a vanishing coefficient); pass other times or another "
                f"reference.") from None
        final = drawn[0] if drawn else None
    except HypothesisException as exc:  # e.g. a flaky implementation (different results on the same input)
        final = drawn[-1] if drawn else None
        if final is None:
            raise
        final = Failure(final.example, final.received, final.expected,
                        f"{final.error}; hypothesis could not reproduce the failure reliably "
                        f"({type(exc).__name__})", comparable=final.comparable, hints=final.hints,
                        received_dtype=final.received_dtype, rtol=final.rtol, atol=final.atol)

    return count[0], drawn, final


def check(implementation, quantity_name: str, reference=None, *, eps=None, c=None, times=None, min_t=None,
          max_t=None, rtol: float | None = None, atol: float | None = None, max_examples: int = 100, seed: int = 0,
          shrink: bool = True, fixed: bool = True) -> Report:
    """Check ``implementation`` of a named quantity against si_ref's exact value.

    Parameters
    ----------
    implementation : callable
        See :mod:`si_ref.conformance` for the calling convention of each quantity;
        a factory ``make(reference)`` when ``reference`` is None (except for wrappers and steps).
    quantity_name : str
        A key of ``QUANTITIES`` (e.g. ``"gamma_dot"``, ``"interpolant"``, ``"drift"``,
        ``"DriftFromVelocityScore"``, ``"heun_step"``).
    reference : GammaSchedule, Interpolant, GaussianCase, DiffusionCase or GuidedFields, optional
        Fix the reference (the kind the quantity names: ``si-ref check --list``); None draws them
        (schedules, interpolants or cases of dimension 1 to 3 with up to 3 mixture components;
        guided fields of labelled cases; for ``"ot_map"`` Gaussian endpoints in d = 2 or 3).
    eps : float or callable, optional
        ε(t) used by the implementation; required by the SDE drifts and the SDE steps.
    c : optional
        A label. For the guided-field quantities (``"guided_drift"``, …; reference
        ``GuidanceCase.guided(scale=g)``) the label to guide towards (default: every label).
        For the other field and wrapper quantities: check the conditional field given c. ``reference`` must then be a labelled
        case with ``case(c)`` (:class:`si_ref.GuidanceCase`, :class:`si_ref.GuidedGaussianPair`); a field is
        called ``f(x, t, c)``, a wrapper is built from input fields ``f(x, t, c=None)`` and called
        ``(x, t, c)``. A value equal to the unconditional one is diagnosed ``condition-dropped``.
    times : sequence of float, optional
        Check only at these times.
    min_t, max_t : float, optional
        Check only at times in [min_t, max_t] (instead of ``times``).
    rtol, atol : float, optional
        Entrywise tolerance ``|received − expected| <= atol + rtol |expected|``. Default:
        rtol = 1e-6, atol = 1e-8; for an implementation that returns float32 arrays,
        rtol = 1e-5, atol = 1e-6 (the report says which were used).
    max_examples : int
        Number of drawn inputs (hypothesis ``max_examples``), after the fixed ones.
    seed : int
        The same seed, implementation and options draw the same inputs and give the same
        report, whatever other modules the process has imported or edited (hypothesis's
        constants from local modules are switched off during the check). Not reproducible:
        a check of an implementation that is itself not deterministic, and inputs across
        hypothesis versions.
    shrink : bool
        Shrink a failure to a minimal counterexample (slower).
    fixed : bool
        Evaluate the fixed endpoint and far-point inputs first (see Notes). ``False`` checks only
        drawn inputs in the bulk of ρ_t: for approximations (a fitted model, a truncated
        series) that are meant to be accurate there only.

    Returns
    -------
    Report
        ``report.passed``; on failure the counterexample and the diagnoses.

    Raises
    ------
    TypeError, ValueError
        For an unknown quantity (the message suggests close names), a reference of the wrong kind,
        a missing or negative ``eps``, a negative or NaN tolerance, a non-boolean ``shrink``, bad
        ``times``, ``min_t``, ``max_t``, ``max_examples`` or ``seed``.

    Notes
    -----
    Before any random draw the check evaluates fixed inputs: t = 0 and 1 where the quantity is
    defined there, 1e-12 from each end, the largest float below 1 and ½, at every mode of ρ_t
    and at points far from them (|x| up to 1e3), so that NaN or inf at an endpoint or in a
    tail is always found. The implementation is called a second time on each failing input:
    one that answers differently (or raises only once) is reported as not deterministic.
    Nothing is written to disk (no hypothesis database, no ``.hypothesis`` folder).

    Examples
    --------
    >>> from si_ref import references
    >>> case = references.case("gaussian-2d-linear-brownian")
    >>> check(case.drift, "drift", case, max_examples=5).passed
    True
    >>> check(case.velocity, "drift", case, max_examples=5).diagnosis_names[0]
    'velocity-for-drift'
    """
    q = quantity(quantity_name)
    conditioning = None
    if c is not None and isinstance(q, GuidedFieldQuantity):
        q = replace(q, label=_guided_label(q, reference, c))    # the label to guide towards, fixed
    elif c is not None:
        conditioning = _Conditioning(q, reference, c)
        q, reference = conditioning.quantity(), conditioning.case
    attach = conditioning.attach if conditioning is not None else None
    eps, max_examples, seed, shrink = _check_options(q, reference, eps, max_examples, seed, shrink)
    tolerance = Tolerance(_tolerance_value(rtol, "rtol"), _tolerance_value(atol, "atol"))
    span = time_range(times, min_t, max_t)
    if reference is not None:
        span.within(q.domain(reference), q.name)   # refuse times outside the quantity's interval now
    _check_implementation(q, implementation, reference)
    factory = reference is None and q.takes_factory
    fixed = as_bool(fixed, "fixed")

    fixed_count, fixed_failures = (_fixed_phase(q, implementation, reference, eps, span, factory, tolerance, attach)
                                if fixed else (0, []))
    count, drawn, final = _drawn_phase(q, implementation, reference, eps, span, factory, tolerance, max_examples,
                                       seed, shrink, fixed_count, attach)

    details = ([_fixed_description(q, span, fixed_count, len(fixed_failures), reference)] if fixed
               else ["fixed inputs: not evaluated (fixed=False): drawn inputs in the bulk of ρ_t only"])
    note = blind_spots(reference.strength.scale) if isinstance(q, GuidedFieldQuantity) and reference is not None \
        else None
    if note:
        details.append(note)
    if tolerance.float32_seen:
        details.append(f"the implementation returned float32: compared with the float32 defaults rtol = "
                       f"{FLOAT32_TOLERANCE[0]!r}, atol = {FLOAT32_TOLERANCE[1]!r}")
    rtol_used, atol_used = tolerance.reported
    examples = fixed_count + count
    if final is None and not fixed_failures:
        return Report(q.name, True, examples, rtol_used, atol_used, summary=q.plain, details="\n".join(details))
    if final is None:
        final = fixed_failures[0]
    # Drawn failures are the evidence when there are any: the fixed inputs sit on degenerate spots (next to
    # an endpoint, far in a tail) where several mistakes coincide or lose digits.
    # drawn: the first independent ones and the last steps of the shrinking (each form is evaluated at each)
    evidence = (drawn if len(drawn) <= 2 * EVIDENCE else drawn[:EVIDENCE] + drawn[-EVIDENCE:]) if drawn \
        else fixed_failures[:EVIDENCE]
    if fixed_failures and final is not fixed_failures[0]:
        first = fixed_failures[0]
        details.append(f"first fixed failure: {first.error} at {_where(q, first.example)}")
    return Report(q.name, False, examples, rtol_used, atol_used, _counterexample(q, final), diagnoses(q, evidence),
                  summary=q.plain, details="\n".join(details))


def _where(q: Quantity, ex: Example) -> str:
    """Where a fixed input is, in a few words: its time, or what the quantity says (a noise level, a step's levels)."""
    where = getattr(q, "where", None)
    return where(ex) if where is not None else f"t = {_short(ex.t)}"


def _short(t) -> str:
    values = np.unique(np.atleast_1d(np.asarray(t, dtype=np.float64)))
    return repr(float(values[0])) if values.size == 1 else f"{values.tolist()[:4]}"


def assert_conforms(implementation, quantity_name: str, reference=None, **options) -> Report:
    """:func:`check`, raising ``AssertionError`` with the readable report on failure (for pytest)."""
    return check(implementation, quantity_name, reference, **options).raise_if_failed()


def diagnose(quantity_name: str, example: Example, received, *, rtol=1e-6, atol=1e-8) -> tuple:
    """The catalogued mistakes that reproduce ``received`` at one :class:`~si_ref.quantities.Example`.

    Parameters
    ----------
    quantity_name : str
    example : Example
        The input: its reference must fit the quantity (a ``GammaSchedule``,
        ``Interpolant`` or ``GaussianCase``), and ``eps`` must be set for the SDE drifts.
    received : array_like
        What the implementation returned at ``example``; the shape of the exact value.
    rtol, atol : float
        Tolerance (>= 0) of a match: ``|received − value| <= atol + rtol |value|``.

    Returns
    -------
    tuple of Diagnosis
        Empty when no catalogued mistake matches (or ``received`` is right).

    Raises
    ------
    TypeError
        If ``example`` is not an :class:`Example` or its reference is of the wrong kind,
        or ``received`` is not real numbers.
    ValueError
        For a bad tolerance, a missing ``eps``, or ``received`` of another shape than the exact value.
    """
    q = quantity(quantity_name)
    rtol, atol = as_positive_real(rtol, "rtol", allow_zero=True), as_positive_real(atol, "atol", allow_zero=True)
    if not isinstance(example, Example):
        raise TypeError(f"example must be a si_ref.quantities.Example (the reference, t and the points); received "
                        f"{type(example).__name__}. Build one, e.g. Example(case, t, x=x).")
    _check_reference_type(q, example.reference, "example.reference")
    if q.needs_eps and example.eps is None:
        raise ValueError(f"quantity {q.name!r} depends on eps(t); the example has eps=None. Pass "
                         f"Example(..., eps=<number >= 0 or callable of t>).")
    received = np.asarray(received)
    if received.dtype.kind not in "iuf":
        raise TypeError(f"received must be real numbers; received an array of dtype {received.dtype}. Pass the "
                        f"implementation's output as a float array.")
    dtype = received.dtype
    received = received.astype(np.float64)
    expected = np.asarray(q.exact(example), dtype=np.float64)
    if received.shape != expected.shape:
        raise ValueError(f"received must have the shape of the exact {q.name} at this example, {expected.shape}; "
                         f"received shape {received.shape}. Pass the output for the example's rows "
                         f"(a shape mismatch is itself the failure: no value mistake can be named).")
    failure = Failure(example, received, expected, "", received_dtype=dtype, rtol=rtol, atol=atol)
    return diagnoses(q, [failure])


def reference_implementation(quantity_name: str, *, eps=None):
    """si_ref's own implementation of a quantity, in the form :func:`check` calls without a reference.

    A factory ``make(reference) -> callable`` for schedule, interpolant and field
    quantities (``forward_drift``/``backward_drift`` use ``eps``); si_ref's wrapper
    class for a wrapper; si_ref's stepper behind the step's signature for a step.
    Useful as a template, and to see the checker pass.

    Examples
    --------
    >>> check(reference_implementation("heun_step"), "heun_step", max_examples=5).passed
    True
    """
    return quantity(quantity_name).own_implementation(eps)
