r"""A checkable quantity: how it is called, where its inputs come from, and its exact value.

One class per calling convention; each object knows

* ``bind(implementation, example)``: the callable and the arguments the implementation
  under test receives (NumPy in, NumPy out);
* ``draw(data, reference, eps, span)`` and ``fixed_examples(reference, eps, span)``:
  its inputs (hypothesis draws; the deterministic endpoint and far-point inputs);
* ``exact(example)``: si_ref's value, from its closed forms;
* ``mistakes``: the catalogued mistakes with the forms they take for it.

==================  ==========================================  ===========================
class               the implementation                          reference object
==================  ==========================================  ===========================
ScheduleQuantity    ``f(t) -> values`` (γ, γ̇ or γγ̇)            a ``GammaSchedule``
CoefficientQuantity ``f(t)`` (α, α̇, β, β̇)                      an ``Interpolant``
PathQuantity        ``f(t, x0, x1, z) -> (n, d)``               an ``Interpolant``
FieldQuantity       ``f(x, t) -> (n, d)`` or ``(n,)``           a ``GaussianCase``
WrapperQuantity     a constructor with si_ref's signature,      a ``GaussianCase``
                    e.g. ``DriftFromVelocityScore(v, s, gamma)``
StepQuantity        ``step(field, x, t, dt[, eps, xi])``        a ``GaussianCase``
==================  ==========================================  ===========================

Times: ``t`` is a scalar or an array of shape (n,) (row i at time ``t[i]``);
points have shape (n, d). All values are float64.

The quantities of the diffusion conventions (reference: a :class:`si_ref.diffusion.DiffusionCase`;
fields in τ, conversions at a noise level, training targets, sampler steps) have their classes in
:mod:`si_ref.checking.diffusion_quantity`; the losses and the likelihood in their own modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import numpy as np
from hypothesis import strategies as st

from .. import references as named
from .. import strategies as sis
from .._checks import as_times, nonnegative_of_time
from ..gaussian import GaussianCase
from ..interpolants import INTERPOLANT_FAMILIES, Interpolant
from ..schedules import GammaSchedule
from .draw import FAR, TimeRange, bulk_points, draw_n, draw_times, fixed_times, mode_and_far_points, unit_points
from .example import Example

__all__ = ["Quantity", "ScheduleQuantity", "CoefficientQuantity", "PathQuantity", "FieldQuantity",
           "WrapperQuantity", "StepQuantity", "build_wrapper", "wrapper_call", "closed", "interior", "INTERIOR",
           "PLAIN_WIDTH", "FIXED_REFERENCES"]

#: Interior margin used where a quantity divides by a coefficient that vanishes at an endpoint (closer to
#: the endpoint the conversion loses digits in any implementation: β = t³ is 1e-9 at t = 1e-3).
INTERIOR = 1e-2

#: Longest one-line summary (:attr:`Quantity.plain`, in code points): indented after a 30-character name
#: column it still fits a 120-column terminal.
PLAIN_WIDTH = 80

#: With drawn references, the fixed inputs are tried on at most this many named references.
FIXED_REFERENCES = 3


def closed(reference):
    """The whole interval [0, 1]."""
    return (0.0, 1.0)


def interior(reference):
    """[INTERIOR, 1 − INTERIOR]: away from the endpoints where a divisor vanishes."""
    return (INTERIOR, 1.0 - INTERIOR)


def _always(reference):
    return True


@dataclass(frozen=True)
class Quantity:
    """A checkable quantity (base class: see the module docstring for the kinds).

    Attributes
    ----------
    name : str
    summary : str
        The definition, in si_ref's convention (plain text with Unicode formulas).
    exact : callable
        ``exact(example) -> ndarray``.
    mistakes : tuple of Mistake
        In order of specificity (the first matching one is the main diagnosis).
    domain : callable
        ``domain(reference) -> (t_min, t_max)``: the closed time interval where the
        quantity is defined and finite for that reference.
    accepts : callable
        ``accepts(reference) -> bool``: whether the reference fits the quantity.
    families : tuple of str or None
        Interpolant families drawn when no reference is fixed (None: all).
    needs_eps : bool
        The quantity depends on ε(t) (``eps=`` must be given to the checker).
    plain : str
        One line for a terminal (at most ``PLAIN_WIDTH`` characters, no markup).
    """

    name: str
    summary: str
    exact: Callable[[Example], np.ndarray]
    mistakes: tuple = ()
    domain: Callable[[Any], tuple] = closed
    accepts: Callable[[Any], bool] = _always
    families: tuple | None = None
    needs_eps: bool = False
    plain: str = ""

    #: What the quantity is (shown by ``si-ref check --list``).
    level: ClassVar[str] = ""
    #: The type of the reference object.
    reference_type: ClassVar[type] = object
    #: With drawn references the implementation is a factory ``make(reference) -> callable``.
    takes_factory: ClassVar[bool] = True

    def __post_init__(self):
        if not self.plain:   # a short definition is its own one-line summary
            object.__setattr__(self, "plain", self.summary.rstrip("."))

    # --- calling ------------------------------------------------------------------------------
    arguments: ClassVar[tuple] = ()

    def argument_names(self, ex: Example) -> tuple:
        """Names of the arguments the implementation receives, in order."""
        return self.arguments

    def bind(self, implementation, ex: Example) -> tuple:
        """(callable, arguments) of one call of the implementation at ``ex``."""
        return implementation, tuple(getattr(ex, name) for name in self.argument_names(ex))

    def shown_inputs(self, ex: Example) -> dict:
        """The inputs shown in a report: exactly what the implementation was given."""
        shown = {name: getattr(ex, name) for name in ("t", "x", "x0", "x1", "z", "dt", "xi")
                 if getattr(ex, name) is not None}
        if self.needs_eps:
            shown["eps"] = ex.eps
        return shown

    def defined(self, ex: Example) -> bool:
        """Whether si_ref's own value is defined at ``ex`` (a divisor that vanishes makes it undefined)."""
        return True

    def own_implementation(self, eps=None):
        """si_ref's implementation, in the form :func:`si_ref.conformance.check` calls without a reference."""
        return lambda reference: getattr(reference, self.name)

    # --- inputs ------------------------------------------------------------------------------
    def reference_strategy(self):
        raise NotImplementedError

    def fixed_references(self) -> list:
        """Named references (:mod:`si_ref.references`) tried with the fixed inputs when none is given."""
        return []

    def draw(self, data, reference, eps, span: TimeRange) -> Example:
        raise NotImplementedError

    def fixed_examples(self, reference, eps, span: TimeRange) -> list:
        return []

    def fixed_description(self, span: TimeRange) -> str:
        """What the fixed inputs are, for the report."""
        times = ", ".join(repr(t) for t in fixed_times(span))
        points = (f"; at each, every mode of ρ_t and points far from them (|x| up to {FAR:g})"
                  if self.reference_type is GaussianCase else "")
        return f"t in {{{times}}} (where defined){points}"


# --- time-only quantities -------------------------------------------------------------------------

@dataclass(frozen=True)
class ScheduleQuantity(Quantity):
    """γ, γ̇ or γγ̇ of a ``GammaSchedule``, called ``f(t)``."""

    level: ClassVar[str] = "schedule"
    reference_type: ClassVar[type] = GammaSchedule
    arguments: ClassVar[tuple] = ("t",)

    def reference_strategy(self):
        return sis.gamma_schedules()

    def fixed_references(self) -> list:
        return [named.GAMMA_SCHEDULES[k] for k in sorted(named.GAMMA_SCHEDULES)]

    def draw(self, data, reference, eps, span):
        n = data.draw(st.integers(1, 4), label="n")
        return Example(reference, draw_times(data, span.within(self.domain(reference), self.name), n))

    def fixed_examples(self, reference, eps, span):
        times = fixed_times(span.within(self.domain(reference), self.name))
        return [Example(reference, np.array(times))] + [Example(reference, t) for t in times]


@dataclass(frozen=True)
class CoefficientQuantity(ScheduleQuantity):
    """α, α̇, β or β̇ of an ``Interpolant``, called ``f(t)``."""

    level: ClassVar[str] = "interpolant"
    reference_type: ClassVar[type] = Interpolant

    def reference_strategy(self):
        return sis.interpolants()

    def fixed_references(self) -> list:
        return [named.INTERPOLANTS[k] for k in sorted(named.INTERPOLANTS)]


# --- path quantities: functions of (t, x0, x1, z) -------------------------------------------------

def _far_rows(d: int) -> np.ndarray:
    """Rows for x0, x1, z at the fixed inputs: zeros, ones, a far point and a mixed-sign far point."""
    signs = (-1.0) ** np.arange(d)
    return np.stack([np.zeros(d), np.ones(d), np.full(d, 1e3), 1e3 * signs])


@dataclass(frozen=True)
class PathQuantity(Quantity):
    """A function of (t, x0, x1, z) for an ``Interpolant``: the path, its derivatives, regression targets."""

    level: ClassVar[str] = "interpolant"
    reference_type: ClassVar[type] = Interpolant
    needs_z: bool = True

    def argument_names(self, ex):
        return ("t", "x0", "x1", "z") if self.needs_z else ("t", "x0", "x1")

    def shown_inputs(self, ex):
        return {name: getattr(ex, name) for name in self.argument_names(ex)}

    def reference_strategy(self):
        return sis.interpolants()

    def fixed_references(self) -> list:
        return [named.INTERPOLANTS[k] for k in sorted(named.INTERPOLANTS)]

    def draw(self, data, reference, eps, span):
        d = data.draw(st.integers(1, 3), label="d")
        n = draw_n(data, d)
        t = draw_times(data, span.within(self.domain(reference), self.name), n)
        return Example(reference, t, x0=unit_points(data, n, d), x1=unit_points(data, n, d),
                       z=unit_points(data, n, d))

    def fixed_examples(self, reference, eps, span):
        d = 2
        rows = _far_rows(d)
        k = rows.shape[0]
        # every combination of the rows for x0, x1, z: 64 rows per time
        i0, i1, iz = (g.ravel() for g in np.meshgrid(np.arange(k), np.arange(k), np.arange(k), indexing="ij"))
        out = []
        for t in fixed_times(span.within(self.domain(reference), self.name)):
            out.append(Example(reference, t, x0=rows[i0], x1=rows[i1], z=rows[iz]))
        return out


# --- fields: functions of (x, t) for a Gaussian case ----------------------------------------------

def _named_cases(q) -> list:
    fitting = [named.CASES[k] for k in sorted(named.CASES)
               if q.accepts(named.CASES[k]) and (q.families is None or _family(named.CASES[k]) in q.families)]
    return fitting[:FIXED_REFERENCES]


def _family(case: GaussianCase) -> str | None:
    """The family name (``strategies.INTERPOLANT_FAMILY_NAMES``) of the case's interpolant."""
    return next((name for name, cls in INTERPOLANT_FAMILIES.items() if type(case.interpolant) is cls), None)


@dataclass(frozen=True)
class FieldQuantity(Quantity):
    """A field of a ``GaussianCase``, called ``f(x, t)``; values (n, d), or (n,) when ``scalar``."""

    level: ClassVar[str] = "field"
    reference_type: ClassVar[type] = GaussianCase
    arguments: ClassVar[tuple] = ("x", "t")
    scalar: bool = False

    def bind(self, implementation, ex):
        """``f(x, t)``, or ``f(x, t, c)`` in a conditional check (``ex.c`` given)."""
        return implementation, (ex.x, ex.t) if ex.c is None else (ex.x, ex.t, ex.c)

    def shown_inputs(self, ex):
        shown = super().shown_inputs(ex)
        if ex.c is not None:
            shown["c"] = ex.c
        return shown

    def own_implementation(self, eps=None):
        if self.needs_eps:
            if eps is None:
                raise ValueError(f"quantity {self.name!r} depends on eps(t); pass eps=<number >= 0 or callable of t>.")
            return lambda reference: (lambda x, t: getattr(reference, self.name)(x, t, eps))
        return lambda reference: getattr(reference, self.name)

    def reference_strategy(self):
        cases = sis.gaussian_cases(st.integers(1, 3), families=self.families, max_components=3)
        return cases.filter(self.accepts)

    def fixed_references(self) -> list:
        return _named_cases(self)

    def draw(self, data, reference, eps, span):
        n = draw_n(data, reference.dim)
        t = draw_times(data, span.within(self.domain(reference), self.name), n)
        return Example(reference, t, x=bulk_points(data, reference, t, n), eps=eps)

    def fixed_examples(self, reference, eps, span):
        return [Example(reference, t, x=mode_and_far_points(reference, t), eps=eps)
                for t in fixed_times(span.within(self.domain(reference), self.name))]


# --- wrappers ----------------------------------------------------------------------------------------

def _wrapper_parameter(kind: str, case: GaussianCase, eps):
    I = case.interpolant
    if kind == "gamma":
        return I.gamma_schedule
    if kind in ("interpolant", "base"):      # "base": the base distribution follows as a last argument
        return I
    if kind == "eps":
        return eps
    if kind == "diffusion_squared":
        return (lambda t: 2.0 * nonnegative_of_time(eps, as_times(t), "eps")) if callable(eps) else 2.0 * eps
    raise ValueError(f"unknown wrapper parameter kind {kind!r}; expected gamma, interpolant, base, eps "
                     f"or diffusion_squared.")


def _bound_field(case: GaussianCase, name: str):
    method = getattr(case, name)

    def field_(x, t):
        return method(x, t)
    return field_


def _labelled_field(labelled, name: str):
    """``f(x, t, c=None)``: the conditional field given c, the unconditional one without c."""
    def field_(x, t, c=None):
        return getattr(labelled.case(c), name)(x, t)
    return field_


def build_wrapper(wrapper_class, constructor, case: GaussianCase, eps=None, *, fields=None, parameter=None):
    """``constructor(*input fields, parameter[, base])``, built the way si_ref's ``wrapper_class`` is.

    ``wrapper_class`` is si_ref's wrapper (or a :class:`WrapperQuantity`): its ``inputs`` and
    ``parameter`` say what the constructor takes. ``fields`` overrides the exact input fields
    (callables ``f(x, t)``), ``parameter`` the schedule / interpolant / ε.
    """
    spec = wrapper_class.wrapper if isinstance(wrapper_class, WrapperQuantity) else wrapper_class
    inputs = fields if fields is not None else [_bound_field(case, name) for name in spec.inputs]
    param = _wrapper_parameter(spec.parameter, case, eps) if parameter is None else parameter
    if spec.parameter == "base":
        base = None if case.interpolant.kind == "one-sided" else case.base
        return constructor(*inputs, param, base)
    return constructor(*inputs, param)


def wrapper_call(wrapper_class) -> str:
    """How a wrapper is called, e.g. ``DriftFromVelocityScore(velocity, score, gamma_schedule)(x, t)``."""
    inputs = ", ".join(wrapper_class.inputs)
    return f"{wrapper_class.__name__}({inputs}, {CALL_PARAMETER[wrapper_class.parameter]})(x, t)"


#: How the last constructor argument(s) of a wrapper are named in summaries.
CALL_PARAMETER = {"gamma": "gamma_schedule", "interpolant": "interpolant", "base": "interpolant, base",
                  "eps": "eps", "diffusion_squared": "diffusion_squared"}


@dataclass(frozen=True)
class WrapperQuantity(FieldQuantity):
    """A conversion wrapper: the implementation is a constructor with si_ref's signature.

    It is built with the exact input fields of the case and the case's schedule,
    interpolant (and base) or ε (``wrapper.inputs``, ``wrapper.parameter``), then
    called ``(x, t)``; its value must be the exact ``wrapper.output`` field.
    """

    level: ClassVar[str] = "wrapper"
    takes_factory: ClassVar[bool] = False
    wrapper: type | None = None

    @property
    def inputs(self) -> tuple:
        """The input fields of the constructor (``wrapper.inputs``)."""
        return self.wrapper.inputs

    @property
    def output(self) -> str:
        return self.wrapper.output

    @property
    def parameter(self) -> str:
        return self.wrapper.parameter

    def bind(self, implementation, ex):
        """Built with the exact input fields; in a conditional check (``ex.c`` given) the fields take
        ``c`` (the conditional field given c, the unconditional one without it) and the wrapper is
        called ``(x, t, c)``: a wrapper that does not pass c on returns the unconditional value."""
        if ex.c is None:
            return build_wrapper(self, implementation, ex.reference, ex.eps), (ex.x, ex.t)
        fields = [_labelled_field(ex.labelled, name) for name in self.inputs]
        return build_wrapper(self, implementation, ex.reference, ex.eps, fields=fields), (ex.x, ex.t, ex.c)

    def defined(self, ex):
        """si_ref's own conversion must be defined here (e.g. β ≠ 0 for x̂1 from the score)."""
        try:
            build_wrapper(self, self.wrapper, ex.reference, ex.eps)(ex.x, ex.t)
        except ValueError:
            return False
        return True

    def own_implementation(self, eps=None):
        return self.wrapper


# --- steps -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StepQuantity(FieldQuantity):
    """One step of a sampler from (x, t), called ``step(field, x, t, dt[, eps, xi])``.

    ``field`` is the case's exact ``field_name`` (the drift b for ODE steps, the forward
    drift b_F = b + ε s for SDE steps); ``stochastic`` steps also receive ε and the
    standard normal draw ξ (n, d).
    """

    level: ClassVar[str] = "step"
    takes_factory: ClassVar[bool] = False
    field_name: str = "drift"
    stochastic: bool = False
    own: Callable | None = field(default=None, compare=False)
    dt_range: tuple = (1e-3, 0.1)

    def argument_names(self, ex):
        return ("field", "x", "t", "dt", "eps", "xi") if self.stochastic else ("field", "x", "t", "dt")

    def shown_inputs(self, ex):
        shown = {"t": ex.t, "x": ex.x, "dt": ex.dt}
        if self.stochastic:
            shown.update(eps=ex.eps, xi=ex.xi)
        return shown

    def given_field(self, ex):
        """The exact field handed to the step, ``f(x, t)``."""
        case, eps = ex.reference, ex.eps
        if self.field_name in ("forward_drift", "backward_drift"):
            method = getattr(case, self.field_name)
            return lambda x, t: method(x, t, eps)
        method = getattr(case, self.field_name)
        return lambda x, t: method(x, t)

    def bind(self, implementation, ex):
        args = (self.given_field(ex), ex.x, ex.t, ex.dt) + ((ex.eps, ex.xi) if self.stochastic else ())
        return implementation, args

    def own_implementation(self, eps=None):
        return self.own

    def draw(self, data, reference, eps, span):
        n = draw_n(data, reference.dim)
        t = draw_times(data, span.within(self.domain(reference), self.name), n)
        x = bulk_points(data, reference, t, n)
        dt = data.draw(st.floats(*self.dt_range), label="dt")
        xi = unit_points(data, n, reference.dim) if self.stochastic else None
        return Example(reference, t, x=x, eps=eps, dt=dt, xi=xi)

    def fixed_examples(self, reference, eps, span):
        out = []
        for t in fixed_times(span.within(self.domain(reference), self.name)):
            x = mode_and_far_points(reference, t)
            xi = np.ones_like(x) if self.stochastic else None
            out.append(Example(reference, t, x=x, eps=eps, dt=self.dt_range[0], xi=xi))
        return out
