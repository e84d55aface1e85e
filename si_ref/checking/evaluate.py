"""Calling the implementation under test at one input, and recording how it fails.

Shared by the drawn checks and the golden vectors: the implementation gets copies
of the inputs (an in-place modification is a failure), its result must be real
numbers of the exact value's shape, within the tolerance entrywise. A failing
input is called once more: one that answers differently (or raises only once) is
reported as not deterministic rather than as a wrong value.
"""

from __future__ import annotations

import numpy as np

from .compare import Failure, Tolerance, close, errors
from .example import Example

__all__ = ["invoke", "evaluate", "probe_broadcast", "exception_hints", "shape_hints", "exact_or_none",
           "NOT_DETERMINISTIC"]

#: Messages of broadcasting failures (NumPy; PyTorch's "The size of tensor a (4) must match the size of tensor b (2)").
_BROADCAST_HINT = ("operands could not be broadcast", "broadcast", "must match the size of tensor")

NOT_DETERMINISTIC = ("is not deterministic: called twice on the same input, {what}. An implementation must return "
                     "the same value for the same input (fix its random seed; switch off dropout or training mode)")


def _copy(a):
    return a.copy() if isinstance(a, np.ndarray) else a


def invoke(q, implementation, ex: Example):
    """Call the implementation on copies of the inputs; return (output, indices of modified arguments)."""
    fn, args = q.bind(implementation, ex)
    copies = tuple(_copy(a) for a in args)
    out = fn(*copies)
    modified = [i for i, (a, c) in enumerate(zip(args, copies)) if isinstance(a, np.ndarray) and not np.array_equal(a, c)]
    return out, modified


def exception_hints(error: BaseException, ex: Example) -> set:
    """A broadcasting error with t of shape (n,): t along the wrong axis."""
    message = str(error)
    t = np.asarray(ex.t)
    if t.ndim == 1 and t.size > 1 and any(h in message for h in _BROADCAST_HINT):
        return {("t-wrong-axis", "a broadcasting error with t of shape (n,)")}
    return set()


def shape_hints(received, expected_shape, ex: Example) -> set:
    """(n,) times against (n, d) points without [:, None] gives an (n, n)-shaped result when d == 1."""
    t = np.asarray(ex.t)
    if t.ndim == 1 and received.shape != tuple(expected_shape) and t.shape[0] in received.shape[1:]:
        return {("t-wrong-axis", f"t of shape {t.shape} broadcast to a result of shape {received.shape}")}
    return set()


def probe_broadcast(q, implementation, ex: Example) -> set:
    """With n == d a t of shape (n,) broadcast along the wrong axis gives values, not an error.

    Repeat the first row until n != d and call again: a broadcasting error (or a result of a
    broadcast shape) then names the mistake.
    """
    t = np.asarray(ex.t)
    points = ex.points
    if t.ndim != 1 or points is None or points.shape[0] != points.shape[1]:
        return set()
    extra = 1 if points.shape[0] + 1 != points.shape[1] else 2
    rows = np.concatenate([np.arange(points.shape[0]), np.zeros(extra, dtype=int)])
    probe = ex.rows(rows)
    try:
        with np.errstate(all="ignore"):
            out, _ = invoke(q, implementation, probe)
        expected_shape = np.shape(q.exact(probe))
    except Exception as exc:  # the implementation under test raised
        return exception_hints(exc, probe)
    return shape_hints(np.asarray(out), expected_shape, probe)


def _raised_once(q, implementation, ex: Example, exc: Exception) -> str:
    """After the implementation raised at ``ex``: "" when it raises again, the flakiness report when it returns."""
    try:
        with np.errstate(all="ignore"):
            invoke(q, implementation, ex)
    except Exception:  # raises every time: a plain failure
        return ""
    return NOT_DETERMINISTIC.format(what=f"it raised {type(exc).__name__}: {exc} the first time and returned "
                                         f"values the second time")


def _nondeterminism(q, implementation, ex: Example, first: np.ndarray, rtol, atol) -> str:
    """Call the implementation a second time on the same input; "" when it returns the same values.

    Values within the tolerance of each other count as the same (reductions on parallel hardware
    may differ in the last bits from call to call).
    """
    try:
        with np.errstate(all="ignore"):
            out, _ = invoke(q, implementation, ex)
        second = np.asarray(out, dtype=np.float64)
    except Exception as exc:  # the implementation under test raised
        return NOT_DETERMINISTIC.format(what=f"it returned values the first time and raised {type(exc).__name__}: "
                                             f"{exc} the second time")
    if second.shape != first.shape:
        return NOT_DETERMINISTIC.format(what=f"it returned shape {first.shape}, then shape {second.shape}")
    same_nan = np.isnan(first) == np.isnan(second)
    if same_nan.all() and (close(second, first, rtol, atol) | np.isnan(first)).all():
        return ""
    difference, _ = errors(second, first)
    return NOT_DETERMINISTIC.format(what=f"it returned different values (max |first - second| = {difference!r})")


def evaluate(q, implementation, ex: Example, expected: np.ndarray, tolerance: Tolerance, *,
             second_call: bool = True, probe: bool = True) -> Failure | None:
    """Call the implementation at ``ex`` and compare with ``expected``; None when it agrees.

    ``q`` says how the implementation is called (``q.bind``). ``second_call``: call a failing
    input again to tell a flaky implementation from a wrong one. ``probe``: with n == d, call
    again on grown rows to tell a t broadcast along the wrong axis (needs ``q.exact``).
    """
    try:
        with np.errstate(all="ignore"):   # the values are judged; NumPy's warnings are not failures
            out, modified = invoke(q, implementation, ex)
    except Exception as exc:  # the implementation under test raised
        unstable = _raised_once(q, implementation, ex, exc) if second_call else ""
        if unstable:
            return Failure(ex, None, expected, unstable, comparable=False)
        return Failure(ex, None, expected, f"raised {type(exc).__name__}: {exc}", comparable=False,
                       hints=exception_hints(exc, ex))
    if modified:
        return Failure(ex, None, expected, f"modified its input argument(s) {modified} in place "
                       f"(inputs must be left unchanged)", comparable=False)
    received = np.asarray(out)
    if received.dtype.kind not in "iuf":
        return Failure(ex, None, expected, f"returned {type(out).__name__} of dtype {received.dtype}; "
                       f"expected real numbers", comparable=False)
    dtype = received.dtype
    rtol, atol = tolerance.for_dtype(dtype)
    received = received.astype(np.float64)
    if received.shape == expected.shape and close(received, expected, rtol, atol).all():
        return None
    unstable = _nondeterminism(q, implementation, ex, received, rtol, atol) if second_call else ""
    if unstable:
        return Failure(ex, received, expected, unstable, comparable=False, received_dtype=dtype, rtol=rtol, atol=atol)
    if received.shape != expected.shape:
        hint = " (transposed?)" if received.shape == expected.shape[::-1] and received.ndim == 2 else ""
        return Failure(ex, received, expected, f"returned shape {received.shape}; expected shape "
                       f"{expected.shape}{hint}", comparable=False, hints=shape_hints(received, expected.shape, ex),
                       received_dtype=dtype, rtol=rtol, atol=atol)
    bad = ~np.isfinite(received) & np.isfinite(expected)
    error = "returned NaN or inf where the exact value is finite" if bad.any() else "values differ"
    return Failure(ex, received, expected, error, hints=probe_broadcast(q, implementation, ex) if probe else set(),
                   received_dtype=dtype, rtol=rtol, atol=atol)


def exact_or_none(q, ex: Example):
    """si_ref's value at ``ex`` as float64, or None where it is undefined (ValueError: a divisor vanishes)."""
    try:
        expected = np.asarray(q.exact(ex), dtype=np.float64)
    except ValueError:
        return None
    return expected if q.defined(ex) else None

