r"""Check another implementation against si_ref's exact values, and explain any disagreement.

The checker draws inputs with hypothesis -- times (endpoints included where
the quantity is defined there), points in the bulk of :math:`\rho_t`, and, unless
a reference is fixed, schedules, interpolants and Gaussian / Gaussian-mixture
cases -- compares the implementation with si_ref's exact value, shrinks a
failure to a minimal counterexample, and names the convention mistake that
explains it when the received value matches one (see :mod:`si_ref.quantities`
for the catalogue: sign flip, γγ̇ with the wrong sign, ±E[z | x], v given for b,
noise term counted twice, time reversed, α/β swapped, σ²/2 score scaling, t
broadcast along the wrong axis, ...).

Usage from pytest::

    from si_ref import conformance, GaussianCase, LinearInterpolant, BrownianGamma, Gaussian

    def test_my_drift():
        case = GaussianCase(LinearInterpolant(BrownianGamma()), Gaussian([0., 0.], np.eye(2)), my_target)
        conformance.assert_conforms(my_drift, "drift", case)       # AssertionError with the report

    report = conformance.check(my_drift, "drift", case)            # a Report, for other uses
    print(report)

Two modes:

* **fixed reference** -- pass ``reference`` (a ``GammaSchedule`` for γ quantities,
  an ``Interpolant`` for α, β and the interpolant, a ``GaussianCase`` for fields,
  wrappers and steps); the implementation is the callable itself.
* **drawn references** -- pass no reference; the implementation is then a
  *factory* ``make(reference) -> callable`` called with each drawn si_ref object
  (read its parameters, e.g. ``case.interpolant.alpha``, ``case.target.mean``).
  Wrappers are constructors already, so they are never wrapped in a factory.

Calling conventions (NumPy in, NumPy out): schedules and coefficients ``f(t)``;
interpolant quantities ``f(t, x0, x1, z)`` (``interpolant_partial_t``:
``f(t, x0, x1)``); fields ``f(x, t)``; wrappers ``Constructor(*fields, parameter)``
with si_ref's signature (e.g. ``DriftFromVelocityScore(velocity, score,
gamma_schedule)``; the schedule passed is si_ref's, with ``gamma``, ``gamma_dot``
and ``gamma_gamma_dot``); steps ``step(field, x, t, dt, eps, xi)``. ``t`` is a
float or an array of shape (n,); ``x`` has shape (n, d).

Adapting a PyTorch or JAX model (no framework is imported by si_ref)::

    field = conformance.as_numpy_field(model, to_backend=torch.from_numpy,
                                       from_backend=lambda y: y.detach().cpu().numpy())
    field = conformance.as_numpy_field(jax_fn, to_backend=jnp.asarray, from_backend=np.asarray)

Every argument is converted with ``to_backend`` (floats and None pass through)
and the result with ``from_backend``.

Reproducible and side-effect free: the same ``seed`` draws the same inputs whatever
else the process has imported or run (see "drawing examples" below), the
implementation is called a second time on every input where it fails (one that
answers differently, or raises only once, is reported as not deterministic), and nothing is written to disk (no hypothesis
database, no ``.hypothesis`` folder). ``str(report)`` is plain text for a terminal:
Unicode formulas, exact numbers (shortest round-trip decimals), no markup.
"""

from __future__ import annotations

import math
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, reject, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException, Unsatisfiable

from . import strategies as sis
from ._checks import as_bool, as_positive_real
from .gaussian import GaussianCase
from .interpolants import Interpolant
from .quantities import QUANTITIES, Example, Quantity, build_wrapper, describe, quantity
from .schedules import GammaSchedule

__all__ = [
    "check",
    "assert_conforms",
    "reference_implementation",
    "diagnose",
    "as_numpy_field",
    "Report",
    "Counterexample",
    "Diagnosis",
    "QUANTITIES",
]

#: Failing inputs gathered (when available) before shrinking starts; the diagnosis must fit all of them.
EVIDENCE = 6

_REFERENCE_TYPES = {
    "schedule": GammaSchedule,
    "interpolant": Interpolant,
    "field": GaussianCase,
    "wrapper": GaussianCase,
    "step": GaussianCase,
}


# --- reports ---------------------------------------------------------------------------------

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
        return repr(float(value)) if isinstance(value, (float, np.floating)) else repr(value)
    return np.array2string(np.asarray(value), floatmode="unique", separator=", ", threshold=10**6,
                           max_line_width=100).replace("\n", "\n      ")


# --- adapters ---------------------------------------------------------------------------

def as_numpy_field(fn: Callable, *, to_backend: Callable, from_backend: Callable) -> Callable:
    """Wrap a framework function so that it takes and returns NumPy arrays.

    Parameters
    ----------
    fn : callable
        E.g. a PyTorch module or a JAX function of (x, t).
    to_backend : callable
        Applied to every array argument (Python floats and None pass through).
    from_backend : callable
        Applied to the result, which must then be array-like.
    """
    for name, value in (("fn", fn), ("to_backend", to_backend), ("from_backend", from_backend)):
        if not callable(value):
            raise TypeError(f"{name} must be callable; received {value!r} of type {type(value).__name__}. "
                            f"Pass a function, e.g. to_backend=torch.from_numpy.")

    def convert(a):
        return a if a is None or isinstance(a, (float, int)) or callable(a) else to_backend(np.asarray(a))

    def wrapped(*args):
        return np.asarray(from_backend(fn(*(convert(a) for a in args))))

    return wrapped


# --- drawing examples ----------------------------------------------------------------------
#
# Same seed, same inputs -- whatever else the process has imported. Hypothesis's own provider
# mixes into its draws (a few draws in a hundred) numeric constants that it collects from the
# source of every *local* module loaded in the process (not site-packages, not test files), and
# caches them under .hypothesis/constants/ in the working directory. The inputs drawn by check()
# then depended on which of the user's (or, in an editable install, si_ref's) modules happened to
# be imported before: one test file alone and the whole suite drew different inputs (and could
# reach different verdicts), and `si-ref check` left a .hypothesis folder behind. During check()
# the provider draws its constants from hypothesis's fixed list of edge cases only; the rest of
# the generation is unchanged. The method is swapped on the provider class (every generation
# path, including the engine's novel-prefix search, creates instances of it) for the duration of
# the run; hypothesis runs in other threads meanwhile lose only the local constants.

def _fixed_constant_draw():
    """A replacement for the provider's constant draw that ignores the loaded modules, with the
    provider class it belongs to (None when this hypothesis has no such hook: the checker then runs
    with hypothesis's provider unchanged)."""
    try:
        from hypothesis.internal.conjecture.choice import choice_constraints_key, choice_permitted
        from hypothesis.internal.conjecture.providers import GLOBAL_CONSTANTS, HypothesisProvider
    except ImportError:
        return None
    if not callable(getattr(HypothesisProvider, "_maybe_draw_constant", None)):
        return None
    permitted: dict = {}

    def draw_fixed_constant(self, choice_type, constraints, *, p=0.05):
        # the same random decisions as hypothesis's own draw, from the fixed pool of edge cases
        if self._random.random() > p:
            return None
        key = (choice_type, choice_constraints_key(choice_type, constraints))
        if key not in permitted:
            permitted[key] = tuple(c for c in GLOBAL_CONSTANTS.set_for_type(choice_type)
                                   if choice_permitted(c, constraints))
        pool = permitted[key]
        return self._random.choice(pool) if pool else None

    return HypothesisProvider, draw_fixed_constant


_FIXED_DRAW = _fixed_constant_draw()
_FIXED_DRAW_LOCK = threading.Lock()
_fixed_draw_state = {"users": 0, "saved": None}


@contextmanager
def _process_independent_draws():
    """Inside the block hypothesis draws no constants from the loaded modules (see above); nested and
    concurrent blocks share one swap, undone when the last one ends."""
    if _FIXED_DRAW is None:
        yield
        return
    provider, draw = _FIXED_DRAW
    with _FIXED_DRAW_LOCK:
        if _fixed_draw_state["users"] == 0:
            _fixed_draw_state["saved"] = provider.__dict__["_maybe_draw_constant"]
            provider._maybe_draw_constant = draw
        _fixed_draw_state["users"] += 1
    try:
        yield
    finally:
        with _FIXED_DRAW_LOCK:
            _fixed_draw_state["users"] -= 1
            if _fixed_draw_state["users"] == 0:
                provider._maybe_draw_constant = _fixed_draw_state["saved"]


def _time_strategy(domain, times):
    lo, hi = domain
    if times is not None:
        usable = [t for t in times if lo <= t <= hi]
        if not usable:
            raise ValueError(f"times={list(times)} has no time in [{lo:g}, {hi:g}], where this quantity is checked; "
                             f"pass times inside that interval.")
        return st.sampled_from(usable)
    return sis.times(min_t=lo, max_t=hi)


def _draw_times(data, domain, times, n):
    element = _time_strategy(domain, times)
    if data.draw(st.booleans(), label="scalar t"):
        return data.draw(element, label="t")
    return np.array(data.draw(st.lists(element, min_size=n, max_size=n), label="t"), dtype=np.float64)


def _draw_n(data, d):
    return data.draw(st.one_of(st.integers(1, 4), st.just(d)), label="n")


def _unit_points(data, n, d, bound=3.0):
    rows = st.lists(st.floats(-bound, bound), min_size=d, max_size=d)
    return np.array(data.draw(st.lists(rows, min_size=n, max_size=n), label="u"), dtype=np.float64).reshape(n, d)


def _bulk_points(data, case: GaussianCase, t, n):
    """Points μ_p(t_i) + L_p(t_i) u_i with |u| <= 3: in the bulk of a component of ρ_t."""
    d = case.dim
    u = _unit_points(data, n, d)
    times = np.broadcast_to(np.asarray(t, dtype=np.float64), (n,))
    components = case.components(times)
    pick = np.array(data.draw(st.lists(st.integers(0, case.n_pairs - 1), min_size=n, max_size=n), label="component"))
    rows = np.arange(n)
    means = components.means[rows, pick]
    chol = np.linalg.cholesky(components.covs[rows, pick])
    return means + np.einsum("nij,nj->ni", chol, u)


def _draw_example(data, q: Quantity, reference, *, eps, times) -> Example:
    lo, hi = q.domain(reference)
    if q.level == "schedule":
        n = data.draw(st.integers(1, 4), label="n")
        return Example(reference, _draw_times(data, (lo, hi), times, n))
    if q.level == "interpolant":
        d = data.draw(st.integers(1, 3), label="d")
        n = _draw_n(data, d)
        t = _draw_times(data, (lo, hi), times, n)
        if q.name in ("alpha", "alpha_dot", "beta", "beta_dot"):
            return Example(reference, t)
        return Example(reference, t, x0=_unit_points(data, n, d), x1=_unit_points(data, n, d), z=_unit_points(data, n, d))
    d = reference.dim
    n = _draw_n(data, d)
    t = _draw_times(data, (lo, hi), times, n)
    x = _bulk_points(data, reference, t, n)
    if q.level == "step":
        dt = data.draw(st.floats(1e-3, 0.1), label="dt")
        return Example(reference, t, x=x, eps=eps, dt=dt, xi=_unit_points(data, n, d))
    return Example(reference, t, x=x, eps=eps)


def _reference_strategy(q: Quantity):
    if q.level == "schedule":
        return sis.gamma_schedules()
    if q.level == "interpolant":
        return sis.interpolants()
    cases = sis.gaussian_cases(st.integers(1, 3), families=q.families, max_components=3)
    return cases.filter(q.accepts)


# --- calling the implementation ------------------------------------------------------------

def _copy(a):
    return a.copy() if isinstance(a, np.ndarray) else a


def _arguments(q: Quantity, ex: Example) -> tuple:
    if q.level == "schedule" or q.name in ("alpha", "alpha_dot", "beta", "beta_dot"):
        return (ex.t,)
    if q.name == "interpolant_partial_t":
        return (ex.t, ex.x0, ex.x1)
    if q.level == "interpolant":
        return (ex.t, ex.x0, ex.x1, ex.z)
    return (ex.x, ex.t)


def _invoke(q: Quantity, implementation, ex: Example):
    """Call the implementation on copies of the inputs; report an in-place modification."""
    if q.level == "wrapper":
        fn = build_wrapper(q, implementation, ex.reference, ex.eps)
        args = (ex.x, ex.t)
    elif q.level == "step":
        case, eps = ex.reference, ex.eps

        def forward_drift(x, t):
            return case.forward_drift(x, t, eps)

        fn, args = implementation, (forward_drift, ex.x, ex.t, ex.dt, ex.eps, ex.xi)
    else:
        fn, args = implementation, _arguments(q, ex)
    copies = tuple(_copy(a) for a in args)
    out = fn(*copies)
    modified = [i for i, (a, c) in enumerate(zip(args, copies)) if isinstance(a, np.ndarray) and not np.array_equal(a, c)]
    return out, modified


# --- si_ref's own implementations, in the checker's calling conventions ---------------------------

class _GivenNormals:
    """Stands in for a Generator: hands the sampler the checker's ξ instead of drawing."""

    def __init__(self, xi):
        self.xi = xi

    def standard_normal(self, shape):
        if tuple(shape) != self.xi.shape:
            raise ValueError(f"expected a draw of shape {self.xi.shape}; asked for {tuple(shape)}.")
        return self.xi


def _si_ref_euler_maruyama_step(field, x, t, dt, eps, xi):
    """si_ref.samplers.EulerMaruyama, one row at a time (it takes one time), with the given ξ."""
    from .samplers import EulerMaruyama, SDETerm

    term = SDETerm(field, lambda y, s: np.zeros_like(y), eps)   # the field is b_F already: no score term added
    times = np.broadcast_to(np.asarray(t, dtype=np.float64), (x.shape[0],))
    return np.concatenate([EulerMaruyama().step(term, x[i:i + 1], float(ti), float(ti) + dt, None, 0,
                                                _GivenNormals(xi[i:i + 1]), 1.0) for i, ti in enumerate(times)])


def reference_implementation(quantity_name: str, *, eps=None):
    """si_ref's own implementation of a quantity, in the form :func:`check` calls without a reference.

    A factory ``make(reference) -> callable`` for schedule, interpolant and field
    quantities (``forward_drift``/``backward_drift`` use ``eps``); si_ref's wrapper
    class for a wrapper; :class:`si_ref.samplers.EulerMaruyama` behind the step's
    signature for ``euler_maruyama_step``. Useful as a template, and to see the
    checker pass.
    """
    q = quantity(quantity_name)
    if q.level == "wrapper":
        return q.wrapper
    if q.level == "step":
        return _si_ref_euler_maruyama_step
    if q.needs_eps:
        if eps is None:
            raise ValueError(f"quantity {q.name!r} depends on eps(t); pass eps=<number >= 0 or callable of t>.")
        return lambda reference: (lambda x, t: getattr(reference, q.name)(x, t, eps))
    return lambda reference: getattr(reference, q.name)


# --- comparing ------------------------------------------------------------------------------

def _close(received, expected, rtol, atol) -> np.ndarray:
    """|received − expected| <= atol + rtol |expected| entrywise; at an infinite expected value (where that
    bound is infinite) only the same infinity agrees; NaN never does."""
    with np.errstate(invalid="ignore", over="ignore"):
        within = np.abs(received - expected) <= atol + rtol * np.abs(expected)
        return np.where(np.isinf(expected), received == expected, within)


def _errors(received, expected):
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


def _candidate_values(q: Quantity, ex: Example):
    """(mistake, form, value) for every mistake variant computable at ex."""
    out = []
    for mistake in q.mistakes:
        for form, fn in mistake.variants:
            try:
                with np.errstate(all="ignore"):
                    value = fn(ex)
            except (ValueError, ZeroDivisionError, FloatingPointError, np.linalg.LinAlgError):
                value = None
            if value is not None:
                out.append((mistake, form, np.asarray(value, dtype=np.float64)))
    return out


def _matching(q, ex, received, expected, rtol, atol) -> dict:
    """{(mistake, form): matched} for every variant that can be evaluated at ``ex``.

    A variant matches when it reproduces ``received`` and differs from ``expected``. Variants
    undefined at ``ex`` (e.g. a division by a vanishing coefficient) are absent: no evidence.
    """
    matches = {}
    for mistake, form, value in _candidate_values(q, ex):
        matches[(mistake.name, form)] = bool(value.shape == received.shape
                                             and _close(received, value, rtol, atol).all()
                                             and not _close(value, expected, rtol, atol).all())
    return matches


#: Messages of broadcasting failures (NumPy; PyTorch's "The size of tensor a (4) must match the size of tensor b (2)").
_BROADCAST_HINT = ("operands could not be broadcast", "broadcast", "must match the size of tensor")


def _exception_diagnoses(error: BaseException, ex: Example) -> set:
    message = str(error)
    t = np.asarray(ex.t)
    if t.ndim == 1 and any(h in message for h in _BROADCAST_HINT):
        return {("t-wrong-axis", "a broadcasting error with t of shape (n,)")}
    return set()


def _broadcast_shape_diagnoses(received, expected, ex: Example) -> set:
    """(n,) times against (n, d) points without [:, None] gives an (n, n)-shaped result when d == 1."""
    t = np.asarray(ex.t)
    if t.ndim == 1 and received.shape != expected.shape and t.shape[0] in received.shape[1:]:
        return {("t-wrong-axis", f"t of shape {t.shape} broadcast to a result of shape {received.shape}")}
    return set()


@dataclass
class _Failure:
    example: Example
    received: Any
    expected: np.ndarray
    error: str
    matches: dict | None       # {(mistake, form): matched}; None: not comparable (exception / shape)
    hints: set = field(default_factory=set)   # diagnoses read from an exception or a broadcast shape


class _Mismatch(Exception):
    def __init__(self, failure: _Failure):
        super().__init__(failure.error)
        self.failure = failure


def _evaluate(q: Quantity, implementation, ex: Example, rtol, atol) -> _Failure | None:
    try:
        expected = np.asarray(q.exact(ex), dtype=np.float64)
        if q.level == "wrapper":   # the conversion itself must be defined here (e.g. β ≠ 0 for x̂1 from s)
            build_wrapper(q, q.wrapper, ex.reference, ex.eps)(ex.x, ex.t)
    except ValueError:
        reject()  # si_ref has no value here (a divisor vanishes): not a valid input
    try:
        out, modified = _invoke(q, implementation, ex)
    except Exception as exc:  # the implementation under test raised
        unstable = _raised_once(q, implementation, ex, exc)
        if unstable:
            return _Failure(ex, None, expected, unstable, None)
        return _Failure(ex, None, expected, f"raised {type(exc).__name__}: {exc}", None, _exception_diagnoses(exc, ex))
    if modified:
        return _Failure(ex, None, expected, f"modified its input argument(s) {modified} in place "
                        f"(inputs must be left unchanged)", None)
    received = np.asarray(out)
    if received.dtype.kind not in "iuf":
        return _Failure(ex, None, expected, f"returned {type(out).__name__} of dtype {received.dtype}; "
                        f"expected real numbers", None)
    received = received.astype(np.float64)
    if received.shape == expected.shape and _close(received, expected, rtol, atol).all():
        return None
    # A failing input is called once more: a flaky implementation is reported as such, not as a wrong value
    # (a check that passes calls each input once, so checking costs one call per input).
    unstable = _nondeterminism(q, implementation, ex, received, rtol, atol)
    if unstable:
        return _Failure(ex, received, expected, unstable, None)
    if received.shape != expected.shape:
        hint = " (transposed?)" if received.shape == expected.shape[::-1] and received.ndim == 2 else ""
        return _Failure(ex, received, expected, f"returned shape {received.shape}; expected shape "
                        f"{expected.shape}{hint}", None, _broadcast_shape_diagnoses(received, expected, ex))
    bad = ~np.isfinite(received) & np.isfinite(expected)
    error = "returned NaN or inf where the exact value is finite" if bad.any() else "values differ"
    return _Failure(ex, received, expected, error, _matching(q, ex, received, expected, rtol, atol),
                    _probe_broadcast(q, implementation, ex))


_NOT_DETERMINISTIC = ("is not deterministic: called twice on the same input, {what}. An implementation must return "
                      "the same value for the same input (fix its random seed; switch off dropout or training mode)")


def _raised_once(q: Quantity, implementation, ex: Example, exc: Exception) -> str:
    """After the implementation raised at ``ex``: "" when it raises again, the flakiness report when it returns."""
    try:
        with np.errstate(all="ignore"):
            _invoke(q, implementation, ex)
    except Exception:  # raises every time: a plain failure
        return ""
    return _NOT_DETERMINISTIC.format(what=f"it raised {type(exc).__name__}: {exc} the first time and returned "
                                          f"values the second time")


def _nondeterminism(q: Quantity, implementation, ex: Example, first: np.ndarray, rtol, atol) -> str:
    """Call the implementation a second time on the same input; "" when it returns the same values.

    Values within the tolerance of each other count as the same (reductions on parallel hardware
    may differ in the last bits from call to call). A flaky implementation is reported as such,
    rather than failing at one input and passing when hypothesis replays it.
    """
    try:
        with np.errstate(all="ignore"):
            out, _ = _invoke(q, implementation, ex)
        second = np.asarray(out, dtype=np.float64)
    except Exception as exc:  # the implementation under test raised
        return _NOT_DETERMINISTIC.format(what=f"it returned values the first time and raised {type(exc).__name__}: "
                                              f"{exc} the second time")
    if second.shape != first.shape:
        return _NOT_DETERMINISTIC.format(what=f"it returned shape {first.shape}, then shape {second.shape}")
    same_nan = np.isnan(first) == np.isnan(second)
    if same_nan.all() and (_close(second, first, rtol, atol) | np.isnan(first)).all():
        return ""
    difference, _ = _errors(second, first)
    return _NOT_DETERMINISTIC.format(what=f"it returned different values (max |first - second| = {difference!r})")


def _probe_broadcast(q: Quantity, implementation, ex: Example) -> set:
    """With n == d a t of shape (n,) broadcast along the wrong axis gives values, not an error.

    Repeat the first row until n != d and call again: a broadcasting error (or a result of a
    broadcast shape) then names the mistake.
    """
    t = np.asarray(ex.t)
    points = ex.x if ex.x is not None else ex.x1
    if t.ndim != 1 or points is None or points.shape[0] != points.shape[1]:
        return set()
    extra = 1 if points.shape[0] + 1 != points.shape[1] else 2
    rows = np.concatenate([np.arange(points.shape[0]), np.zeros(extra, dtype=int)])
    grown = {name: getattr(ex, name)[rows] for name in ("x", "x0", "x1", "z", "xi") if getattr(ex, name) is not None}
    probe = replace(ex, t=t[rows], **grown)
    try:
        with np.errstate(all="ignore"):
            out, _ = _invoke(q, implementation, probe)
    except Exception as exc:  # the implementation under test raised
        return _exception_diagnoses(exc, probe)
    expected_shape = (len(rows),) + points.shape[1:] if q.name not in ("log_density", "divergence") else (len(rows),)
    return _broadcast_shape_diagnoses(np.asarray(out), np.empty(expected_shape), probe)


def _example_inputs(q: Quantity, ex: Example) -> dict:
    inputs = {"t": ex.t}
    for name in ("x", "x0", "x1", "z", "dt", "xi"):
        value = getattr(ex, name)
        if value is not None:
            inputs[name] = value
    if q.needs_eps:
        inputs["eps"] = ex.eps
    return inputs


def _diagnoses(q: Quantity, failures: list) -> tuple:
    """Mistake variants consistent with every comparable failure (where defined), in catalogue order.

    Diagnoses read from exceptions or result shapes (``hints``) are added: they do
    not compete with value matches, which they cannot be compared with.
    """
    compared = [f.matches for f in failures if f.matches is not None]
    matched_somewhere = {key for m in compared for key, hit in m.items() if hit}
    # consistent: matched at every failing input where the variant is defined
    common = {key for key in matched_somewhere if all(m.get(key, True) for m in compared)}
    for f in failures:
        common |= f.hints
    order = [(m.name, form) for m in q.mistakes for form, _ in m.variants]
    explanations = {m.name: m.explanation for m in q.mistakes}
    explanations.setdefault("t-wrong-axis", QUANTITIES["interpolant"].mistakes[-1].explanation)
    ranked = sorted(common, key=lambda nf: order.index(nf) if nf in order else len(order))
    seen, out = set(), []
    for name, form in ranked:
        if name not in seen:
            seen.add(name)
            out.append(Diagnosis(name, form, explanations[name]))
    return tuple(out)


def _tolerances(rtol, atol):
    """rtol and atol as floats >= 0 (zero is meaningful: atol = 0 asks for relative agreement only)."""
    return as_positive_real(rtol, "rtol", allow_zero=True), as_positive_real(atol, "atol", allow_zero=True)


def _check_reference_type(q: Quantity, reference, name: str) -> None:
    expected = _REFERENCE_TYPES[q.level]
    if not isinstance(reference, expected):
        raise TypeError(f"{name} for the {q.level}-level quantity {q.name!r} must be a {expected.__name__}; "
                        f"received {type(reference).__name__}. Pass a {expected.__name__} (see si_ref.references "
                        f"for named ones).")


def diagnose(quantity_name: str, example: Example, received, *, rtol=1e-6, atol=1e-8) -> tuple:
    """The catalogued mistakes that reproduce ``received`` at one :class:`~si_ref.quantities.Example`.

    Parameters
    ----------
    quantity_name : str
    example : Example
        The input: its reference must fit the quantity's level (a ``GammaSchedule``,
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

    Used by :func:`si_ref.golden.verify`.
    """
    q = quantity(quantity_name)
    rtol, atol = _tolerances(rtol, atol)
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
    received = received.astype(np.float64)
    expected = np.asarray(q.exact(example), dtype=np.float64)
    if received.shape != expected.shape:
        raise ValueError(f"received must have the shape of the exact {q.name} at this example, {expected.shape}; "
                         f"received shape {received.shape}. Pass the output for the example's rows "
                         f"(a shape mismatch is itself the failure: no value mistake can be named).")
    failure = _Failure(example, received, expected, "", _matching(q, example, received, expected, rtol, atol))
    return _diagnoses(q, [failure])


# --- the checker ---------------------------------------------------------------------------

def _check_options(q: Quantity, reference, eps, times, rtol, atol, max_examples, seed, shrink):
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
    rtol, atol = _tolerances(rtol, atol)
    for name, value, low in (("max_examples", max_examples, 1), ("seed", seed, 0)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; received {value!r}. Pass e.g. {name}={max(low, 1)}.")
    shrink = as_bool(shrink, "shrink")
    if times is not None:
        try:
            values = np.atleast_1d(np.asarray(times, dtype=np.float64))
        except (TypeError, ValueError):
            raise TypeError(f"times must be a sequence of numbers in [0, 1]; received {times!r}.") from None
        times = [float(t) for t in values.ravel()]
        if not times or not all(0.0 <= t <= 1.0 for t in times):
            raise ValueError(f"times must be a non-empty sequence of times in [0, 1]; received {times!r}. "
                             f"Pass e.g. times=[0.25, 0.5].")
    return eps, times, rtol, atol, int(max_examples), int(seed), shrink


def check(implementation, quantity_name: str, reference=None, *, eps=None, times=None,
          rtol: float = 1e-6, atol: float = 1e-8, max_examples: int = 100, seed: int = 0,
          shrink: bool = True) -> Report:
    """Check ``implementation`` of a named quantity against si_ref's exact value.

    Parameters
    ----------
    implementation : callable
        See the module docstring for the calling convention of each level;
        a factory ``make(reference)`` when ``reference`` is None (except for wrappers).
    quantity_name : str
        A key of ``QUANTITIES`` (e.g. ``"gamma_dot"``, ``"interpolant"``, ``"drift"``,
        ``"DriftFromVelocityScore"``, ``"euler_maruyama_step"``).
    reference : GammaSchedule, Interpolant or GaussianCase, optional
        Fix the reference; None draws them (schedules, interpolants or cases of
        dimension 1 to 3 with up to 3 mixture components).
    eps : float or callable, optional
        ε(t) used by the implementation; required by the SDE drifts and the step.
    times : sequence of float, optional
        Check only at these times (default: drawn from the quantity's domain, endpoints included).
    rtol, atol : float
        Entrywise tolerance ``|received − expected| <= atol + rtol |expected|``.
    max_examples : int
        Number of drawn inputs (hypothesis ``max_examples``).
    seed : int
        Reproducibility: the same seed draws the same inputs, whatever else the process has
        imported or run before (the inputs depend only on the seed, the arguments and the
        hypothesis version).
    shrink : bool
        Shrink a failure to a minimal counterexample (slower).

    Returns
    -------
    Report
        ``report.passed``; on failure the counterexample and the diagnoses. The implementation is
        called again at each failing input: one that returns different values for the same input
        (or raises only once) fails with a report saying that it is not deterministic.

    Raises
    ------
    TypeError, ValueError
        For an unknown quantity (the message suggests close names), a reference of the wrong kind,
        a missing or negative ``eps``, a negative or NaN tolerance, a non-boolean ``shrink``, bad
        ``times``, ``max_examples`` or ``seed``.

    Nothing is written to disk (no hypothesis database, no ``.hypothesis`` folder).
    """
    q = quantity(quantity_name)
    eps, times, rtol, atol, max_examples, seed, shrink = _check_options(q, reference, eps, times, rtol, atol,
                                                                        max_examples, seed, shrink)
    if q.level != "wrapper" and not callable(implementation):
        kind = "a factory make(reference) -> callable" if reference is None and q.level != "step" else "a callable"
        raise TypeError(f"implementation must be callable ({kind}, see si_ref.conformance's calling conventions); "
                        f"received {implementation!r} of type {type(implementation).__name__}.")
    if q.level == "wrapper" and not callable(implementation):
        raise TypeError(f"implementation of {q.name!r} must be a constructor with si_ref's signature, e.g. "
                        f"si_ref.{q.name}; received {implementation!r} of type {type(implementation).__name__}.")
    factory = reference is None and q.level != "wrapper" and q.level != "step"
    failures: list = []
    count, raised = [0], [False]

    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])

    @hypothesis_seed(seed)
    # database=None: nothing is stored; backend pinned: another backend would not use hypothesis's provider
    @settings(max_examples=max_examples, database=None, deadline=None, derandomize=False, phases=phases,
              backend="hypothesis", suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
              report_multiple_bugs=False)
    @given(st.data())
    def run(data):
        ref = reference if reference is not None else data.draw(_reference_strategy(q), label="reference")
        example = _draw_example(data, q, ref, eps=eps, times=times)
        count[0] += 1
        impl = implementation
        if factory:
            try:
                impl = implementation(ref)
            except Exception as exc:
                failure = _Failure(example, None, np.asarray(q.exact(example)),
                                   f"the factory raised {type(exc).__name__}: {exc} (with no reference given, the "
                                   f"implementation is called as make(reference) and must return the callable)", None)
                failures.append(failure)
                raise _Mismatch(failure) from None
        failure = _evaluate(q, impl, example, rtol, atol)
        if failure is not None:
            failures.append(failure)
            # Collect a few independent failures before handing the first to hypothesis to shrink:
            # shrunk inputs are alike (t = 0, x at a mean), where different mistakes can coincide.
            if raised[0] or len(failures) >= EVIDENCE:
                raised[0] = True
                raise _Mismatch(failure)

    try:
        with _process_independent_draws():
            run()
        final = failures[0] if failures else None   # fewer than EVIDENCE failures: the first, unshrunk
    except _Mismatch as exc:
        final = exc.failure
    except Unsatisfiable:
        raise ValueError(
            f"no valid input for {q.name!r}: si_ref's own value is undefined at every drawn input (e.g. at times "
            f"where the conversion divides by a vanishing coefficient); pass other times or another reference."
        ) from None
    except HypothesisException as exc:  # e.g. a flaky implementation (different results on the same input)
        final = failures[-1] if failures else None
        if final is None:
            raise
        final = _Failure(final.example, final.received, final.expected,
                         f"{final.error}; hypothesis could not reproduce the failure reliably ({type(exc).__name__})",
                         final.matches)
    if final is None:
        return Report(q.name, True, count[0], rtol, atol, summary=q.plain)

    abs_err, rel_err = (_errors(final.received, final.expected)
                        if final.received is not None and final.received.shape == final.expected.shape
                        else (math.nan, math.nan))
    counterexample = Counterexample(describe(final.example.reference), _example_inputs(q, final.example),
                                    final.expected, final.received, abs_err, rel_err, final.error)
    return Report(q.name, False, count[0], rtol, atol, counterexample, _diagnoses(q, failures), summary=q.plain)


def assert_conforms(implementation, quantity_name: str, reference=None, **options) -> Report:
    """:func:`check`, raising ``AssertionError`` with the readable report on failure (for pytest)."""
    return check(implementation, quantity_name, reference, **options).raise_if_failed()
