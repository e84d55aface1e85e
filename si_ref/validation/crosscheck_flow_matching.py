r"""Cross-check of Meta's ``flow_matching`` against si_ref, with si_ref's conformance checker.

``flow_matching`` (facebookresearch/flow_matching; CC BY-NC 4.0, so it is only *called*
here, never copied) writes its affine probability paths as
:math:`X_t = \sigma_t X_0 + \alpha_t X_1`, with the source :math:`X_0` (noise) at t = 0 and
the target :math:`X_1` (data) at t = 1. That is si_ref's one-sided interpolant
(README; ../shared/DESIGN.md; arXiv:2303.08797v3, Sec. 3.3 and eq. (2.1) with γ ≡ 0)
with the *names* of the coefficients exchanged and the same time direction:

========================  =======================================
flow_matching             si_ref
========================  =======================================
t                         t (no reversal)
X_0 (source), X_1         x0 (base, N(0, I)), x1 (target)
sigma_t, d_sigma_t        α(t), α̇(t)  (coefficient of x0)
alpha_t, d_alpha_t        β(t), β̇(t)  (coefficient of x1)
"epsilon" prediction      x̂0 = E[x0 | x_t = x]
"target" prediction       x̂1 = E[x1 | x_t = x]
"velocity"                v = E[α̇ x0 + β̇ x1 | x_t = x] (= b, γ ≡ 0)
========================  =======================================

Thin adapters (torch float64 tensors in, NumPy out, through
:func:`si_ref.conformance.as_numpy_field`) expose flow_matching under si_ref's calling
conventions, and :func:`si_ref.conformance.check` (``shrink=True``, tolerance
``|received - expected| <= 1e-8 + 1e-9 |expected|``, see :data:`RTOL`) compares them with
si_ref's exact values for CondOTScheduler (si_ref ``OneSidedLinearInterpolant``), CosineScheduler
(``OneSidedTrigInterpolant``) and PolynomialConvexScheduler(2) (``CustomInterpolant``
with α = 1 − t², β = t², one-sided):

1. **Schedulers.** sigma_t, d_sigma_t, alpha_t, d_alpha_t as si_ref's ``alpha``,
   ``alpha_dot``, ``beta``, ``beta_dot``. Expected: PASS.
2. **Path samples.** ``AffineProbPath(scheduler).sample(x_0=x0, x_1=x1, t).x_t`` as
   ``interpolant`` (z ignored, γ ≡ 0) and ``.dx_t`` as ``interpolant_partial_t``;
   ``sample`` requires t of shape (batch,), so a scalar t is expanded. Expected: PASS.
3. **Conversions.** Each of the six methods ``(value, x_t, t)`` as the si_ref wrapper
   of the same conversion, behind a constructor with the wrapper's signature
   (``VelocityFromDenoiserX1(field, interpolant)``; the interpolant is si_ref's, the
   coefficients used are flow_matching's):

   ======================  ==========================
   target_to_velocity      VelocityFromDenoiserX1
   epsilon_to_velocity     VelocityFromDenoiserX0
   velocity_to_target      DenoiserX1FromVelocity
   velocity_to_epsilon     DenoiserX0FromVelocity
   epsilon_to_target       DenoiserX1FromDenoiserX0
   target_to_epsilon       DenoiserX0FromDenoiserX1
   ======================  ==========================

   with two adapters each: (a) *t as passed* -- a per-row t of shape (n,) reaches
   flow_matching unchanged, as its signature suggests. The methods multiply the
   scheduler's values with x_t by plain broadcasting, so t runs along the feature axis:
   silently wrong when n == d, a RuntimeError when n != d. Expected: FAIL, diagnosed
   ``t-wrong-axis`` (from the values when n == d, from torch's "The size of tensor a (3)
   must match the size of tensor b (2)" when n != d).
   (b) *t[:, None]* -- per-row t reshaped to a column. Expected: PASS on the checker's
   domain of each wrapper (where si_ref's wrapper has a value, endpoints included), with
   one exception found by the checker: PolynomialConvexScheduler(2).velocity_to_target
   forms σ_t / (α̇σ − σ̇α) = σ_t / (2t) before multiplying by the velocity, which
   overflows to inf for t < 2.8e-309 (subnormal t) and returns inf/NaN where the exact
   x̂1 is finite (si_ref divides the whole numerator and stays finite). That is checked
   at t = 1e-310 alone (expected FAIL, NaN/inf), and the random checks of that method
   draw t from :data:`NORMAL_TIMES`, so that the overflow does not mask their outcome.
4. **Self-tests** (a deliberately mistranslated adapter must fail, so the agreement
   above is not vacuous): PolynomialConvexScheduler(2).sigma_t evaluated at 1 − t, and
   its alpha_t (the data coefficient) given as si_ref's α. Expected: FAIL, diagnosed
   ``time-reversed`` and ``alpha-beta-swapped`` (for p = 2 neither value is the other
   mistake, unlike CondOT where 1 − (1 − t) = t).
5. **Endpoints.** Each conversion at t = 0 and t = 1 exactly (scalar t, the exact
   input field of the case). Where si_ref's wrapper raises ``ValueError`` (a divisor
   vanishes: α at t = 1 for VelocityFromDenoiserX1 / DenoiserX0FromDenoiserX1, β at t = 0
   for VelocityFromDenoiserX0 / DenoiserX1FromDenoiserX0, α̇β − αβ̇ at t = 0 for the
   polynomial), flow_matching divides anyway and returns NaN/inf without a warning --
   except CosineScheduler at t = 1, where its sigma_t = cos(π/2) = 6.1e-17 ≠ 0: there
   target_to_velocity and target_to_epsilon return *finite* values far from any exact
   field (the conversion is ill-posed at t = 1). Everywhere else the two agree.
   These outcomes, measured with flow_matching 1.0.10, are :data:`ENDPOINT_DOCUMENTED`.

Every check passes when the outcome is the documented one (PASS where agreement is
expected; FAIL with the named diagnosis or failure where a disagreement is documented;
the endpoint table cell by cell), so a future flow_matching version that changes
behaviour shows up as a FAIL here. Every disagreement is listed in the report with the
checker's diagnosis. VPScheduler (β(0) = alpha_t(0) = 0.0066 ≠ 0) and LinearVPScheduler
(α̇(1) = d_sigma_t(1) = −inf) have no si_ref counterpart: si_ref's ``CustomInterpolant``
refuses their coefficients; the report says so and compares nothing.

torch and flow_matching are optional peers: when either cannot be imported, :func:`run`
returns ``{"skipped": reason + install command, "figures": []}`` and :func:`checks`
returns no checks. The study writes ``crosscheck_flow_matching.md`` and ``.json`` (no
figures).

Run from the repository root::

    python -m si_ref.validation.crosscheck_flow_matching --out DIR [--quick] [--seed S]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Callable, NamedTuple

import numpy as np

import si_ref
from si_ref import conformance, references
from si_ref.progress import task
from si_ref.quantities import QUANTITIES
from si_ref.validation._common import Check, run_alone

__all__ = [
    "TITLE", "SUMMARY", "QUICK", "INSTALL", "COEFFICIENTS", "CONVERSIONS", "ENDPOINT_DOCUMENTED", "Check",
    "Peers", "Planned", "polynomial_interpolant", "reference_interpolants", "reference_cases", "plan",
    "run", "checks", "format_report", "main",
]

TITLE = "Cross-check: flow_matching (Meta) against si_ref"
SUMMARY = (
    "si_ref's conformance checker run on Meta's flow_matching 1.0.10 (optional peer, CC BY-NC: called, never "
    "copied) through thin adapters (their sigma_t = alpha, alpha_t = beta, same t): CondOT, Cosine and "
    "PolynomialConvex(2) coefficients and AffineProbPath samples agree with si_ref's one-sided interpolants; the six "
    "conversion methods agree with si_ref's gamma = 0 wrappers when a per-row t is passed as t[:, None] (except "
    "PolynomialConvex(2).velocity_to_target at subnormal t, where a coefficient overflows to inf), and with t of "
    "shape (n,) passed as is the checker finds t-wrong-axis (or torch's size-mismatch error); deliberately "
    "mistranslated adapters are diagnosed time-reversed and alpha-beta-swapped; at t = 0, 1 flow_matching returns "
    "NaN/inf where si_ref raises (Cosine at t = 1: finite wrong values). A check passes when the outcome is the "
    "documented one, so a change of behaviour in flow_matching shows as a FAIL."
)

#: Versions the documented outcomes were measured with (another version is run, and any change shows as a FAIL).
FLOW_MATCHING_VERSION = "1.0.10"
TORCH_VERSION = "2.13.0"
#: Printed when a peer is missing. --no-deps: flow-matching's own requirements would pull a different torch.
INSTALL = (f"pip install torch=={TORCH_VERSION} && "
           f"pip install flow-matching=={FLOW_MATCHING_VERSION} --no-deps torchdiffeq tqdm")

#: Keyword arguments of run() for a small, fast run (si-ref validate --quick).
#: Shrinking is what costs in the failing checks (~0.35 s each of the ~6 s); the quick run skips it and
#: reports the first failing input instead of a minimal one (the outcomes and diagnoses are the same).
QUICK = dict(max_examples=20, shrink=False)

#: Entrywise tolerance |received − expected| <= ATOL + RTOL |expected| of every comparison. Both sides are
#: float64 closed forms of the same conversion, so they differ by rounding only, amplified by the divisor: the
#: worst on si_ref's domains is β(1e-3) = 1e-6 of the polynomial (x̂1 = (x − α x̂0)/β), an absolute error of
#: about ε |x| / β ≈ 1e-9 for |x| ≈ 3 (measured: 1.8e-12 at t = 0.01, where β = 1e-4). A mistranslation
#: changes values by O(1).
RTOL, ATOL = 1e-9, 1e-8

#: Power p of PolynomialConvexScheduler(p): alpha_t = t^p.
POLYNOMIAL_POWER = 2

#: si_ref coefficient -> the flow_matching SchedulerOutput field that is its value.
COEFFICIENTS = {"alpha": "sigma_t", "alpha_dot": "d_sigma_t", "beta": "alpha_t", "beta_dot": "d_alpha_t"}

#: flow_matching AffineProbPath conversion method -> the si_ref wrapper quantity of the same conversion.
CONVERSIONS = {
    "target_to_velocity": "VelocityFromDenoiserX1",
    "epsilon_to_velocity": "VelocityFromDenoiserX0",
    "velocity_to_target": "DenoiserX1FromVelocity",
    "velocity_to_epsilon": "DenoiserX0FromVelocity",
    "epsilon_to_target": "DenoiserX1FromDenoiserX0",
    "target_to_epsilon": "DenoiserX0FromDenoiserX1",
}

CONDOT = "CondOTScheduler()"
COSINE = "CosineScheduler()"
POLYNOMIAL = f"PolynomialConvexScheduler({POLYNOMIAL_POWER})"
#: The schedulers compared, in report order (keys of Peers.schedulers); VP and LinearVP are described only.
COMPARED = (CONDOT, COSINE, POLYNOMIAL)
NOT_COMPARED = ("VPScheduler()", "LinearVPScheduler()")

#: Outcome labels of the endpoint table.
AGREES = "agrees"
DIFFERS = "differs"
NAN_WHERE_DEFINED = "NaN/inf where si_ref has a value"
RAISES_NAN = "si_ref raises; NaN/inf"
RAISES_FINITE = "si_ref raises; finite"

#: The endpoint outcomes of flow_matching 1.0.10 that are not AGREES: (scheduler, method, t) -> outcome.
#: si_ref raises where its divisor vanishes; flow_matching divides by the same zero and returns NaN/inf,
#: except Cosine at t = 1, whose sigma_t(1) = cos(π/2) = 6.1e-17 is not zero.
ENDPOINT_DOCUMENTED = {
    **{(s, "target_to_velocity", 1.0): RAISES_NAN for s in (CONDOT, POLYNOMIAL)},       # ÷ sigma_t = α = 0
    **{(s, "target_to_epsilon", 1.0): RAISES_NAN for s in (CONDOT, POLYNOMIAL)},
    **{(s, "epsilon_to_velocity", 0.0): RAISES_NAN for s in COMPARED},                  # ÷ alpha_t = β = 0
    **{(s, "epsilon_to_target", 0.0): RAISES_NAN for s in COMPARED},
    (POLYNOMIAL, "velocity_to_target", 0.0): RAISES_NAN,    # ÷ (α̇β − αβ̇) = −2t = 0: (x, v) do not fix x̂0, x̂1
    (POLYNOMIAL, "velocity_to_epsilon", 0.0): RAISES_NAN,
    (COSINE, "target_to_velocity", 1.0): RAISES_FINITE,     # ÷ 6.1e-17: finite, unrelated to any exact field
    (COSINE, "target_to_epsilon", 1.0): RAISES_FINITE,
}
ENDPOINT_TIMES = (0.0, 1.0)
#: Points per endpoint evaluation (n != d, so a wrong axis could not pass unnoticed either).
N_ENDPOINT_POINTS = 3


# --- the optional peers ----------------------------------------------------------------------------

class Peers(NamedTuple):
    """torch, flow_matching's AffineProbPath class and scheduler instances keyed by their constructor call."""

    torch: ModuleType
    path_class: type
    schedulers: dict
    versions: dict


def _peers() -> Peers:
    """Import torch and flow_matching; ImportError (naming the missing module) when either is not installed."""
    import torch
    import flow_matching
    from flow_matching.path import AffineProbPath
    from flow_matching.path import scheduler as fm

    schedulers = {
        CONDOT: fm.CondOTScheduler(),
        COSINE: fm.CosineScheduler(),
        POLYNOMIAL: fm.PolynomialConvexScheduler(POLYNOMIAL_POWER),
        "VPScheduler()": fm.VPScheduler(),
        "LinearVPScheduler()": fm.LinearVPScheduler(),
    }
    versions = {"torch": str(torch.__version__), "flow_matching": str(getattr(flow_matching, "__version__", "?"))}
    return Peers(torch, AffineProbPath, schedulers, versions)


def _numpy_function(peers: Peers, fn: Callable) -> Callable:
    """``fn`` of torch tensors as a function of NumPy arrays: float64 copies in, NumPy out."""
    torch = peers.torch
    return conformance.as_numpy_field(fn, to_backend=lambda a: torch.from_numpy(np.array(a, dtype=np.float64)),
                                      from_backend=lambda y: y.detach().cpu().numpy())


def _times(t) -> np.ndarray:
    """si_ref's t (float or shape (n,)) as a float64 array: a 0-d array for a scalar, never a Python float
    (as_numpy_field passes floats through, and torch.* of a float raises in CondOT and Cosine)."""
    return np.asarray(t, dtype=np.float64)


# --- the adapters: flow_matching under si_ref's calling conventions ---------------------------------

def _coefficient(peers: Peers, scheduler: str, name: str, *, at_one_minus_t: bool = False) -> Callable:
    """si_ref coefficient ``name`` (alpha, alpha_dot, beta, beta_dot) of a scheduler: f(t) -> array like t.

    ``at_one_minus_t`` evaluates the scheduler at 1 − t: a deliberate mistranslation (self-test).
    """
    field = COEFFICIENTS[name]
    value = _numpy_function(peers, lambda t: getattr(peers.schedulers[scheduler](t), field))

    def coefficient(t):
        t = _times(t)
        return value(1.0 - t if at_one_minus_t else t)
    return coefficient


def _swapped_alpha(peers: Peers, scheduler: str) -> Callable:
    """The scheduler's alpha_t given as si_ref's α: the name-for-name mistranslation (self-test)."""
    value = _numpy_function(peers, lambda t: peers.schedulers[scheduler](t).alpha_t)
    return lambda t: value(_times(t))


def _path_sample(peers: Peers, scheduler: str, attribute: str) -> Callable:
    """``AffineProbPath(scheduler).sample(x_0=x0, x_1=x1, t).<attribute>`` as f(t, x0, x1, z=None).

    z is not used: affine paths have γ ≡ 0. ``sample`` asserts t of shape (batch,), so a scalar t is
    expanded to one time per row.
    """
    path = peers.path_class(peers.schedulers[scheduler])
    draw = _numpy_function(peers, lambda x0, x1, t: getattr(path.sample(x_0=x0, x_1=x1, t=t), attribute))

    def interpolant(t, x0, x1, z=None):
        rows = np.broadcast_to(_times(t), (np.shape(x0)[0],))
        return draw(x0, x1, rows)
    return interpolant


def _conversion(peers: Peers, scheduler: str, method: str, *, column_t: bool) -> Callable:
    """A constructor with si_ref's wrapper signature ``(field, interpolant)`` around a conversion method.

    The wrapper returned is called as ``w(x, t)``: it evaluates the input field at si_ref's t and calls
    ``AffineProbPath(scheduler).<method>(value, x, t')`` with t' = t as passed (``column_t=False``,
    adapter (a)) or, for a per-row t of shape (n,), t' = t[:, None] (``column_t=True``, adapter (b)).
    The interpolant argument is si_ref's (the checker passes the reference's); the coefficients used are
    the scheduler's.
    """
    convert = _numpy_function(peers, getattr(peers.path_class(peers.schedulers[scheduler]), method))

    def constructor(field, interpolant):
        def wrapper(x, t, c=None):
            t = _times(t)
            theirs = t[:, None] if column_t and t.ndim == 1 else t
            return convert(field(x, t), x, theirs)
        return wrapper
    constructor.__name__ = f"{method}_as_wrapper"
    return constructor


# --- si_ref's references ------------------------------------------------------------------------

class _Monomial(NamedTuple):
    """t ↦ constant + factor · t^power on float64 arrays (a named callable: its repr is the formula)."""

    constant: float
    factor: float
    power: float

    def __call__(self, t):
        return self.constant + self.factor * np.asarray(t, dtype=np.float64) ** self.power

    def __repr__(self):
        return f"({self.constant:g} + {self.factor:g} t^{self.power:g})"


def polynomial_interpolant(power: int = POLYNOMIAL_POWER) -> si_ref.CustomInterpolant:
    """One-sided α = 1 − t^p, β = t^p (p >= 1): PolynomialConvexScheduler(p) in si_ref's names."""
    p = float(power)
    return si_ref.CustomInterpolant(_Monomial(1.0, -1.0, p), _Monomial(0.0, -p, p - 1.0),
                                    _Monomial(0.0, 1.0, p), _Monomial(0.0, p, p - 1.0), one_sided=True)


def reference_interpolants() -> dict:
    """Scheduler -> the si_ref interpolant with the same coefficients."""
    return {CONDOT: si_ref.OneSidedLinearInterpolant(), COSINE: si_ref.OneSidedTrigInterpolant(),
            POLYNOMIAL: polynomial_interpolant()}


def reference_cases() -> dict:
    """Scheduler -> a one-sided 2D Gaussian case (x0 ~ N(0, I)) whose exact fields feed the conversions.

    CondOT and the polynomial: the four-component mixture target of ``one-sided-2d-linear``; Cosine: the
    correlated Gaussian target of ``one-sided-2d-trig``. d = 2, so the checker draws both n == d and n != d.
    """
    linear = references.case("one-sided-2d-linear")
    return {CONDOT: linear, COSINE: references.case("one-sided-2d-trig"),
            POLYNOMIAL: si_ref.GaussianCase(polynomial_interpolant(), None, linear.target)}


# --- what is checked ------------------------------------------------------------------------------

#: A documented outcome that is neither a PASS nor a diagnosis name of the checker: adapter (a) may fail
#: with torch's "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1",
#: the t-wrong-axis mistake met with n = 3 != d = 2 (the checker reads that message as t-wrong-axis).
TORCH_SIZE_ERROR = "torch size mismatch"
_TORCH_SIZE_MESSAGE = "raised RuntimeError: The size of tensor"
#: A documented outcome: "returned NaN or inf where the exact value is finite".
NAN_OR_INF = "NaN/inf"
_NAN_MESSAGE = "returned NaN or inf where the exact value is finite"

#: PolynomialConvexScheduler(2).velocity_to_target forms the coefficient σ_t / (α̇_t σ_t − σ̇_t α_t) =
#: σ_t / (2t) before multiplying by the velocity; it overflows to inf for 2t < 1 / 1.8e308, i.e. t < 2.8e-309
#: (subnormal t), and the result is inf or NaN where si_ref, dividing the whole numerator, stays finite.
#: Checked deterministically at this t ...
SUBNORMAL_T = 1e-310
#: ... and the random checks of that method draw their times from this list (float64 normal numbers; t = 0 is
#: rejected by the checker, si_ref's wrapper raises there), so that the overflow does not mask their outcome.
NORMAL_TIMES = (0.0, 1e-300, 1e-100, 1e-12, 1e-6, 1e-3, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9,
                0.95, 0.99, 0.999, 1.0)
#: Inputs drawn at least by the checks of adapter (a): its mistake shows only with a per-row t of n >= 2
#: distinct times, and hypothesis starts with simple inputs (a scalar t, n = 1). Measured over seeds 0-9:
#: found by every one of the 18 checks at 30 inputs (not at 25 for seed 0).
WRONG_AXIS_MIN_EXAMPLES = 40


class Planned(NamedTuple):
    """One conformance check and its documented outcomes: any of ``expected`` ("PASS", a diagnosis name of
    the checker, :data:`TORCH_SIZE_ERROR` or :data:`NAN_OR_INF`) is the documented behaviour. ``times``
    restricts the times drawn (``where`` says how, for the report); None draws the quantity's domain."""

    group: str
    scheduler: str
    flow_matching: str
    adapter: str
    quantity: str
    expected: tuple
    build: Callable[[Peers], Callable]
    times: tuple | None = None
    where: str = ""
    min_examples: int = 1

    @property
    def expectation(self) -> str:
        return " or ".join(e if e == "PASS" else f"FAIL {e}" for e in self.expected)

    @property
    def label(self) -> str:
        """The adapter, and the times when they are restricted."""
        return f"{self.adapter}; {self.where}" if self.where else self.adapter

    @property
    def name(self) -> str:
        return f"{self.flow_matching} [{self.label}] vs {self.quantity}: expect {self.expectation}"


def plan() -> list[Planned]:
    """Every conformance check of the study, with its documented outcomes, in report order."""
    rows = []
    for s in COMPARED:
        for name, field in COEFFICIENTS.items():
            rows.append(Planned("scheduler", s, f"{s}.{field}", "t as passed", name, ("PASS",),
                                lambda peers, s=s, name=name: _coefficient(peers, s, name)))
    for s in COMPARED:
        for attribute, name in (("x_t", "interpolant"), ("dx_t", "interpolant_partial_t")):
            rows.append(Planned("path", s, f"AffineProbPath({s}).sample(...).{attribute}", "scalar t expanded",
                                name, ("PASS",), lambda peers, s=s, a=attribute: _path_sample(peers, s, a)))
    for s in COMPARED:
        for method, wrapper in CONVERSIONS.items():
            overflows = s == POLYNOMIAL and method == "velocity_to_target"
            times, where = (NORMAL_TIMES, "t from a list of normal floats") if overflows else (None, "")
            for column_t, adapter in ((False, "t as passed"), (True, "t[:, None]")):
                expected = ("PASS",) if column_t else ("t-wrong-axis", TORCH_SIZE_ERROR)
                rows.append(Planned("conversion", s, f"AffineProbPath({s}).{method}", adapter, wrapper, expected,
                                    lambda peers, s=s, m=method, c=column_t: _conversion(peers, s, m, column_t=c),
                                    times, where, 1 if column_t else WRONG_AXIS_MIN_EXAMPLES))
            if overflows:
                rows.append(Planned("conversion", s, f"AffineProbPath({s}).{method}", "t[:, None]", wrapper,
                                    (NAN_OR_INF,), lambda peers, s=s, m=method: _conversion(peers, s, m, column_t=True),
                                    (SUBNORMAL_T,), f"t = {SUBNORMAL_T:g} (subnormal)"))
    rows.append(Planned("self-test", POLYNOMIAL, f"{POLYNOMIAL}.sigma_t", "at 1 - t (mistranslated)", "alpha",
                        ("time-reversed",),
                        lambda peers: _coefficient(peers, POLYNOMIAL, "alpha", at_one_minus_t=True)))
    rows.append(Planned("self-test", POLYNOMIAL, f"{POLYNOMIAL}.alpha_t", "as alpha (mistranslated)", "alpha",
                        ("alpha-beta-swapped",), lambda peers: _swapped_alpha(peers, POLYNOMIAL)))
    return rows


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _is_documented(expected: tuple, report) -> bool:
    """Whether the checker's report shows one of the documented outcomes."""
    if report.passed:
        return "PASS" in expected
    c = report.counterexample
    for outcome in expected:
        if outcome in report.diagnosis_names:
            return True
        if outcome == TORCH_SIZE_ERROR and c.error.startswith(_TORCH_SIZE_MESSAGE):
            return True
        if outcome == NAN_OR_INF and c.error.startswith(_NAN_MESSAGE):
            return True
    return False


def _points_shape(counterexample) -> list | None:
    """Shape of the counterexample's points (x, or x0 for the interpolant); None for coefficients of t alone."""
    if counterexample is None:
        return None
    points = counterexample.inputs.get("x", counterexample.inputs.get("x0"))
    return None if points is None else list(np.shape(points))


def _conformance_row(item: Planned, peers: Peers, reference, *, seed: int, max_examples: int, shrink: bool) -> dict:
    report = conformance.check(item.build(peers), item.quantity, reference, times=item.times, rtol=RTOL,
                               atol=ATOL, max_examples=max(max_examples, item.min_examples), seed=seed, shrink=shrink)
    c = report.counterexample
    return {
        "check": item.name, "group": item.group, "scheduler": item.scheduler, "flow_matching": item.flow_matching,
        "adapter": item.label,
        "si_ref": item.quantity, "outcome": "PASS" if report.passed else "FAIL",
        "examples": report.examples, "diagnoses": list(report.diagnosis_names),
        "diagnosis_forms": [f"{d.name} ({d.form})" for d in report.diagnoses],
        "problem": _first_line(c.error) if c is not None else "",
        "counterexample_t": None if c is None else np.asarray(c.inputs["t"]).tolist(),
        "counterexample_shape": _points_shape(c),
        "expected": item.expectation, "as_expected": _is_documented(item.expected, report), "report": str(report),
    }


# --- the endpoints ------------------------------------------------------------------------------

def _endpoint_cell(peers: Peers, scheduler: str, method: str, case: si_ref.GaussianCase, t: float,
                   x: np.ndarray) -> dict:
    """si_ref's wrapper and flow_matching's method at one endpoint (scalar t), with the exact fields as input."""
    q = QUANTITIES[CONVERSIONS[method]]
    source = getattr(case, q.inputs[0])
    exact = getattr(case, q.output)(x, t)           # the exact output field: finite on [0, 1] for these cases
    try:
        ours = q.wrapper(source, case.interpolant)(x, t)
    except ValueError:
        ours = None
    convert = _numpy_function(peers, getattr(peers.path_class(peers.schedulers[scheduler]), method))
    theirs = np.asarray(convert(source(x, t), x, _times(t)), dtype=np.float64)
    finite = bool(np.all(np.isfinite(theirs)))
    with np.errstate(invalid="ignore"):             # NaN/inf rows are classified, not subtracted
        error = float(np.max(np.abs(theirs - exact))) if finite else float("nan")
    if ours is None:
        outcome = RAISES_FINITE if finite else RAISES_NAN
    elif not finite:
        outcome = NAN_WHERE_DEFINED
    else:
        outcome = AGREES if np.all(np.abs(theirs - ours) <= ATOL + RTOL * np.abs(ours)) else DIFFERS
    expected = ENDPOINT_DOCUMENTED.get((scheduler, method, t), AGREES)
    return {"scheduler": scheduler, "method": method, "si_ref": q.name, "t": t, "outcome": outcome,
            "max_abs_error_vs_exact_field": error, "expected": expected, "as_expected": outcome == expected}


def _endpoints(peers: Peers, cases: dict, rng: np.random.Generator) -> list[dict]:
    cells = []
    for s in COMPARED:
        x = rng.standard_normal((N_ENDPOINT_POINTS, cases[s].dim))
        for method in CONVERSIONS:
            for t in ENDPOINT_TIMES:
                cells.append(_endpoint_cell(peers, s, method, cases[s], t, x))
    return cells


def _not_compared(peers: Peers) -> list[dict]:
    """VP and LinearVP: their coefficients at the ends, and why si_ref's CustomInterpolant refuses them."""
    out = []
    for s in NOT_COMPARED:
        values = {name: _coefficient(peers, s, name) for name in COEFFICIENTS}
        ends = np.array([0.0, 1.0])
        try:
            si_ref.CustomInterpolant(values["alpha"], values["alpha_dot"], values["beta"], values["beta_dot"],
                                     one_sided=True)
            refusal = "si_ref accepted the coefficients (not expected: compare them)"
        except ValueError as exc:
            refusal = _first_line(str(exc))
        out.append({"scheduler": s, "refusal": refusal,
                    **{f"{field}(0, 1)": [float(v) for v in values[name](ends)]
                       for name, field in COEFFICIENTS.items()}})
    return out


# --- the study -------------------------------------------------------------------------------

def _check_arguments(seed, max_examples, shrink):
    if not isinstance(shrink, bool):
        raise TypeError(f"shrink must be True or False; received {shrink!r}.")
    checked = []
    for name, value, lowest in (("seed", seed, 0), ("max_examples", max_examples, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer; received {value!r} of type {type(value).__name__}.")
        if value < lowest:
            raise ValueError(f"{name} must be an integer >= {lowest}; received {name}={value!r}.")
        checked.append(int(value))
    return tuple(checked)


def run(out_dir, *, seed: int = 0, max_examples: int = 60, shrink: bool = True) -> dict:
    """Run every check against flow_matching, write the tables into ``out_dir`` and return them.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Folder for ``crosscheck_flow_matching.md`` and ``.json`` (created if missing).
    seed : int
        Seed of the conformance checker (hypothesis) and of the endpoint points.
    max_examples : int
        Inputs drawn per conformance check (default 60; at least :data:`WRONG_AXIS_MIN_EXAMPLES` for adapter (a)).
    shrink : bool
        Shrink each failure to a minimal counterexample (default True; the quick run skips it).

    Returns
    -------
    dict
        ``"rows"`` (one per conformance check), ``"endpoints"`` (one per scheduler, method and endpoint),
        ``"not_compared"``, ``"versions"``, the settings and ``"figures": []``; or, when torch or
        flow_matching cannot be imported, ``{"skipped": reason with the install command, "figures": []}``.

    Raises
    ------
    TypeError, ValueError
        For a non-integer or out-of-range ``seed`` or ``max_examples``, or a non-bool ``shrink``.
    """
    seed, max_examples = _check_arguments(seed, max_examples, shrink)
    try:
        peers = _peers()
    except ImportError as exc:
        return {"skipped": f"torch and flow_matching are needed ({exc}); install with: {INSTALL}", "figures": []}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    interpolants, cases = reference_interpolants(), reference_cases()
    rows, items = [], list(plan())
    with task("flow_matching checks", total=len(items), unit="check") as progress:
        for item in items:
            reference = cases[item.scheduler] if item.group == "conversion" else interpolants[item.scheduler]
            rows.append(_conformance_row(item, peers, reference, seed=seed, max_examples=max_examples, shrink=shrink))
            progress.advance()
    cosine = peers.schedulers[COSINE](peers.torch.tensor(1.0, dtype=peers.torch.float64))
    results = {
        "versions": peers.versions, "seed": seed, "max_examples": max_examples, "shrink": shrink,
        "rtol": RTOL, "atol": ATOL,
        "rows": rows,
        "endpoints": _endpoints(peers, cases, np.random.default_rng(seed)),
        "not_compared": _not_compared(peers),
        "cosine_sigma_at_1": float(cosine.sigma_t), "cosine_d_alpha_at_1": float(cosine.d_alpha_t),
        "figures": [],
    }
    (out / "crosscheck_flow_matching.md").write_text(format_report(results) + "\n", encoding="utf-8")
    (out / "crosscheck_flow_matching.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return results


def checks(results: dict) -> list[Check]:
    """One check per conformance row (value 1 when the outcome is the documented one) and one per scheduler
    for the endpoint table (value: cells whose outcome differs from :data:`ENDPOINT_DOCUMENTED`); none when
    the study was skipped."""
    if "skipped" in results:
        return []
    out = [Check(row["check"], float(row["as_expected"]), (">=", 1.0), bool(row["as_expected"]))
           for row in results["rows"]]
    for s in COMPARED:
        cells = [cell for cell in results["endpoints"] if cell["scheduler"] == s]
        mismatches = sum(not cell["as_expected"] for cell in cells)
        out.append(Check(f"{s}: the {len(cells)} conversion outcomes at t = 0, 1 as documented (mismatches)",
                         float(mismatches if cells else 1), ("<=", 0.0), bool(cells) and mismatches == 0))
    return out


def _cell(text) -> str:
    return str(text).replace("|", "\\|")


def format_report(results: dict) -> str:
    """The results as Markdown: conformance table, disagreements, endpoint table, schedulers not compared."""
    if "skipped" in results:
        return f"skipped: {results['skipped']}"
    v = results["versions"]
    lines = [
        f"# {TITLE}", "",
        f"flow_matching {v['flow_matching']}, torch {v['torch']} (documented outcomes measured with "
        f"{FLOW_MATCHING_VERSION}, {TORCH_VERSION}). Translation: their t = si_ref t, sigma_t = alpha, "
        "alpha_t = beta, X_0 = x0 (noise), X_1 = x1 (data), epsilon = x0-hat, target = x1-hat.",
        f"Checker: si_ref.conformance.check, max_examples={results['max_examples']} (adapter (a): at least "
        f"{WRONG_AXIS_MIN_EXAMPLES}), shrink={results['shrink']}, "
        f"seed={results['seed']}, tolerance |received - expected| <= {results['atol']:g} + "
        f"{results['rtol']:g} |expected|.", "",
        "## Conformance checks", "",
        "| flow_matching | adapter | si_ref quantity | outcome | examples | diagnoses | problem (first line) "
        "| expected | as expected |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        lines.append(f"| `{_cell(r['flow_matching'])}` | {_cell(r['adapter'])} | {r['si_ref']} | {r['outcome']} "
                     f"| {r['examples']} | {', '.join(r['diagnoses']) or '-'} | {_cell(r['problem']) or '-'} "
                     f"| {r['expected']} | {'yes' if r['as_expected'] else '**NO**'} |")
    failed = [r for r in results["rows"] if r["outcome"] == "FAIL"]
    lines += ["", f"## Disagreements found by the checker ({len(failed)})", ""]
    kind = "minimal counterexample" if results["shrink"] else "first failing input (not shrunk)"
    for r in failed:
        note = ""
        if r["group"] == "self-test":
            note = " (deliberate mistranslation: the checker must catch it)"
        elif not r["diagnoses"] and r["problem"].startswith(_TORCH_SIZE_MESSAGE):
            note = (f" (the study's reading: t of shape ({len(r['counterexample_t'])},) against points of shape "
                    f"{tuple(r['counterexample_shape'])} is t-wrong-axis; torch reports it as a size mismatch, "
                    "which the checker does not recognise)")
        elif r["problem"].startswith(_NAN_MESSAGE):
            note = " (a coefficient overflows to inf; see the module docstring)"
        points = "" if r["counterexample_shape"] is None else f", points of shape {tuple(r['counterexample_shape'])}"
        lines.append(f"- `{r['flow_matching']}` [{r['adapter']}] vs {r['si_ref']}: {kind} "
                     f"t = {r['counterexample_t']}{points}; "
                     f"{r['problem']}; checker's diagnosis: "
                     f"{'; '.join(r['diagnosis_forms']) or 'none of the catalogued mistakes'}{note}.")
    if not failed:
        lines.append("- none")
    lines += ["", "## Conversions at the endpoints (scalar t, exact input fields)", "",
              "| scheduler | method | si_ref wrapper | t = 0 | t = 1 | as documented |", "|---|---|---|---|---|---|"]
    by_key = {(c["scheduler"], c["method"], c["t"]): c for c in results["endpoints"]}
    for s in COMPARED:
        for method, wrapper in CONVERSIONS.items():
            cells = [by_key[(s, method, t)] for t in ENDPOINT_TIMES]
            shown = []
            for c in cells:
                text = c["outcome"]
                if c["outcome"] == RAISES_FINITE:
                    text += f" (max abs error vs the exact field {c['max_abs_error_vs_exact_field']:.3g})"
                shown.append(text)
            ok = all(c["as_expected"] for c in cells)
            lines.append(f"| {s} | {method} | {wrapper} | {shown[0]} | {shown[1]} | {'yes' if ok else '**NO**'} |")
    lines += ["", f"CosineScheduler at t = 1: sigma_t = {results['cosine_sigma_at_1']:.3g}, d_alpha_t = "
              f"{results['cosine_d_alpha_at_1']:.3g} (si_ref: alpha(1) = beta_dot(1) = 0 exactly).", "",
              "## Not compared (no si_ref counterpart)", ""]
    for item in results["not_compared"]:
        numbers = ", ".join(f"{k} = [{a:.8g}, {b:.8g}]" for k, (a, b) in
                            ((k, item[k]) for k in item if k.endswith("(0, 1)")))
        lines.append(f"- {item['scheduler']}: {numbers}. si_ref.CustomInterpolant: {item['refusal']}")
    bad = [c.name for c in checks(results) if not c.passed]
    lines += ["", f"All {len(checks(results))} checks as documented." if not bad
              else f"NOT as documented ({len(bad)}): " + "; ".join(bad)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the study and print its report; exit status 1 if an outcome is not the documented one."""
    return run_alone(sys.modules[__name__], argv,
                     "Run si_ref's conformance checker on flow_matching (optional peer); tables in --out.")


if __name__ == "__main__":
    sys.exit(main())
