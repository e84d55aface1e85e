r"""Cross-check of Meta's ``flow_matching`` against si_ref, with si_ref's conformance checker.

``flow_matching`` (facebookresearch/flow_matching; CC BY-NC 4.0, so it is only *called*
here, never copied) writes its affine probability paths as
:math:`X_t = \sigma_t X_0 + \alpha_t X_1`, with the source :math:`X_0` (noise) at t = 0 and
the target :math:`X_1` (data) at t = 1. That is si_ref's one-sided interpolant
(README, Conventions; arXiv:2303.08797v3, Sec. 3.3 and eq. (2.1) with γ ≡ 0)
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
ODESolver.sample          dX/dt = b(X, t), t increasing
compute_likelihood        log ρ_1(x) = log ρ_0(X_0) − ∫₀¹ ∇·b dt, from t = 1 to 0
========================  =======================================

Thin adapters (torch float64 tensors in, NumPy out, through
:func:`si_ref.conformance.as_numpy_field`) expose flow_matching under si_ref's calling
conventions, and :func:`si_ref.conformance.check` (``shrink=True``, tolerance
``|received - expected| <= 1e-8 + 1e-9 |expected|``, see :data:`RTOL`; the likelihood, a numerical
integration, with rtol = atol = 1e-6) compares them with
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
   mistake, unlike CondOT where 1 − (1 − t) = t). And the likelihood of 7. read as
   log p0(X_0) + ∫₀¹ ∇·u dt, its integral's sign flipped: expected FAIL, diagnosed
   ``divergence-sign``.
5. **Endpoints.** Each conversion at t = 0 and t = 1 exactly (scalar t, the exact
   input field of the case). Where si_ref's wrapper raises ``ValueError`` (a divisor
   vanishes: α at t = 1 for VelocityFromDenoiserX1 / DenoiserX0FromDenoiserX1, β at t = 0
   for VelocityFromDenoiserX0 / DenoiserX1FromDenoiserX0, α̇β − αβ̇ at t = 0 for the
   polynomial), flow_matching divides anyway and returns NaN/inf without a warning --
   except CosineScheduler at t = 1, where its sigma_t = cos(π/2) = 6.1e-17 ≠ 0: there
   target_to_velocity and target_to_epsilon return *finite* values far from any exact
   field (the conversion is ill-posed at t = 1). Everywhere else the two agree.
   These outcomes, measured with flow_matching 1.0.10, are :data:`ENDPOINT_DOCUMENTED`.
6. **ODE solver steps.** ``ODESolver(field).sample(x_init=x, step_size=dt, method=m,
   time_grid=[t, t + dt])``: one step of torchdiffeq's fixed-grid method m, as
   ``step(field, x, t, dt)`` (the checker's exact drift of ``one-sided-2d-linear``, a
   mixture target, is the field; rows of a per-row t are grouped by time, the grid
   holding one time). Expected: "euler" as ``euler_step``, "midpoint" as ``midpoint_step``
   and "heun2" as ``heun_step``: PASS. "rk4" as ``rk4_step``: FAIL, diagnosed
   ``wrong-method`` (Kutta's 3/8 rule) -- torchdiffeq's "rk4" is Kutta's 3/8 rule (weights
   1/8, 3/8, 3/8, 1/8 at t, t + dt/3, t + 2dt/3, t + dt), another fourth-order method than
   the classical RK4 (see :data:`STEP_METHODS`).
7. **Likelihood.** ``ODESolver(u).compute_likelihood(x_1=x, log_p0, time_grid=[1, 0],
   exact_divergence=True)`` as ``loglik(drift, divergence, x, base_log_density)`` on
   :func:`likelihood_case` (CondOT from N(0, I) to a correlated Gaussian: flow_matching's
   time and si_ref's agree, source at t = 0; its CondOT velocity is si_ref's drift of the
   one-sided linear interpolant, γ = 0; log_p0 is log N(0, I)). flow_matching's exact
   divergence differentiates the velocity with autograd, so the adapter hands it a torch
   velocity built from the given NumPy drift, which is affine in x for a single Gaussian
   (:func:`_affine_velocity`). Checked with rtol = atol = 1e-6 (a numerical integrator:
   :data:`LIKELIHOOD_RTOL`). Expected: with method "rk4", step_size 0.02: PASS (measured
   error <= 2e-9 at bulk points, 1.3e-8 five standard deviations out). With "dopri5" at
   flow_matching's default atol = rtol = 1e-5: FAIL, the velocity is called at t < 0 --
   torchdiffeq's adaptive methods step past the last time of the grid and interpolate
   back, so the model is evaluated before t = 0 (t = −0.005 here, −0.035 at tolerance
   1e-10, −0.12 with dopri8), where si_ref's exact field raises ``ValueError`` naming t
   (a network would be evaluated outside its training interval without notice); see
   :data:`ADAPTIVE_METHOD`. Not checked: the Hutchinson estimator (exact_divergence=False),
   which draws one Rademacher probe from torch's global generator per call.

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
from si_ref.checking.adapters import scalar_time
from si_ref.quantities import QUANTITIES
from si_ref.validation._common import Check, run_alone

__all__ = [
    "TITLE", "SUMMARY", "QUICK", "INSTALL", "COEFFICIENTS", "CONVERSIONS", "ENDPOINT_DOCUMENTED", "STEP_METHODS",
    "Check", "Peers", "Planned", "polynomial_interpolant", "reference_interpolants", "reference_cases",
    "likelihood_case", "plan",
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
    "NaN/inf where si_ref raises (Cosine at t = 1: finite wrong values). One step of ODESolver.sample agrees with "
    "si_ref's Euler, midpoint and Heun steps (torchdiffeq's euler, midpoint, heun2); its rk4 is Kutta's 3/8 rule, "
    "not the classical RK4 (named wrong-method). compute_likelihood with the exact divergence and a fixed-step rk4 agrees with the "
    "closed-form log rho_1 of a CondOT Gaussian case (rtol = atol = 1e-6); with dopri5 it calls the velocity at "
    "t < 0 (torchdiffeq steps past the end of the grid). A check passes when the outcome is the documented one, so "
    "a change of behaviour in flow_matching shows as a FAIL."
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
    """torch, flow_matching's AffineProbPath class, scheduler instances keyed by their constructor call, and its
    ODESolver class."""

    torch: ModuleType
    path_class: type
    schedulers: dict
    versions: dict
    ode_solver: type


def _peers() -> Peers:
    """Import torch and flow_matching; ImportError (naming the missing module) when either is not installed."""
    import torch
    import flow_matching
    from flow_matching.path import AffineProbPath
    from flow_matching.path import scheduler as fm
    from flow_matching.solver import ODESolver

    schedulers = {
        CONDOT: fm.CondOTScheduler(),
        COSINE: fm.CosineScheduler(),
        POLYNOMIAL: fm.PolynomialConvexScheduler(POLYNOMIAL_POWER),
        "VPScheduler()": fm.VPScheduler(),
        "LinearVPScheduler()": fm.LinearVPScheduler(),
    }
    versions = {"torch": str(torch.__version__), "flow_matching": str(getattr(flow_matching, "__version__", "?"))}
    return Peers(torch, AffineProbPath, schedulers, versions, ODESolver)


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


def _ode_step(peers: Peers, method: str) -> Callable:
    """One step of ``ODESolver(field).sample`` as ``step(field, x, t, dt)`` (si_ref's step quantities).

    ``sample(x_init=x, step_size=dt, method=method, time_grid=[t, t + dt])``: torchdiffeq's fixed-grid
    method over one step (its grid is ``arange(0, ceil(1 + (t_end − t)/dt)) dt + t`` with the last node set to
    t + dt, so one step of t + dt − t = dt up to rounding, and at most a second step of length zero). The grid
    holds one time for the whole batch, so a per-row t of shape (n,) is grouped by distinct time
    (:func:`si_ref.checking.adapters.scalar_time`); the checker's NumPy field becomes a function of tensors
    (:func:`si_ref.conformance.as_numpy_field` wraps callable arguments the other way).
    """
    torch = peers.torch

    def torch_step(field, x, t, dt):
        solver = peers.ode_solver(velocity_model=lambda x, t: field(x, t))
        grid = torch.tensor([t, t + dt], dtype=torch.float64)
        return solver.sample(x_init=x, step_size=dt, method=method, time_grid=grid)

    numpy_step = _numpy_function(peers, torch_step)
    grouped = scalar_time(lambda x, t, field, dt: numpy_step(field, x, t, dt))

    def step(field, x, t, dt):
        return grouped(x, t, field, dt)
    step.__name__ = f"ODESolver_{method}_step"
    return step


def _affine_velocity(peers: Peers, drift: Callable, d: int) -> Callable:
    r"""A torch velocity model ``u(x, t) = b(0, t) + M(t) x`` from a drift that is affine in x.

    :math:`M(t) = [b(e_1, t) - b(0, t), \ldots, b(e_d, t) - b(0, t)]`: exact (up to rounding) for the affine
    drift of a single-Gaussian case, :math:`b(x, t) = \dot\mu + K\Sigma^{-1}(x - \mu)`. The given drift is a
    NumPy function (wrapped to take and return tensors), which autograd cannot differentiate; written this way
    the model is a torch expression in x, so flow_matching's exact divergence (autograd, one gradient per
    coordinate) computes :math:`\operatorname{tr} M(t) = \nabla\cdot b`.
    """
    torch = peers.torch
    corners = torch.cat([torch.zeros(1, d, dtype=torch.float64), torch.eye(d, dtype=torch.float64)])

    def velocity(x, t):
        with torch.no_grad():
            values = drift(corners, t)
        offset, matrix = values[0], values[1:] - values[0]       # row i of matrix: M e_i = column i of M
        return offset + x @ matrix
    return velocity


def _log_likelihood(peers: Peers, method: str, *, step_size=None, rtol: float = 1e-5, atol: float = 1e-5,
                    divergence_sign_flipped: bool = False) -> Callable:
    """``ODESolver(velocity).compute_likelihood`` as ``loglik(drift, divergence, x, base_log_density)``.

    ``compute_likelihood(x_1=x, log_p0=base_log_density, step_size, method, atol, rtol, time_grid=[1, 0],
    exact_divergence=True)[1]``: flow_matching integrates (X, ∫ ∇·u) from t = 1 to 0 and returns
    log p0(X_0) + ∫₁⁰ ∇·u dt (its convention is si_ref's: source at t = 0, data at t = 1; its CondOT velocity
    is si_ref's drift of the one-sided linear interpolant, γ = 0). The velocity is :func:`_affine_velocity` of the
    given drift (the given divergence is not used: flow_matching computes its own). ``divergence_sign_flipped``
    reads the returned value as log p0(X_0) + ∫₀¹ ∇·u and flips the integral's sign: a deliberate
    mistranslation (self-test).
    """
    torch = peers.torch

    def torch_loglik(drift, divergence, x, base_log_density):
        solver = peers.ode_solver(velocity_model=_affine_velocity(peers, drift, x.shape[1]))
        grid = torch.tensor([1.0, 0.0], dtype=torch.float64)
        x_source, loglik = solver.compute_likelihood(x_1=x, log_p0=base_log_density, step_size=step_size,
                                                     method=method, atol=atol, rtol=rtol, time_grid=grid,
                                                     exact_divergence=True)
        if divergence_sign_flipped:
            base = base_log_density(x_source)
            return base - (loglik - base)
        return loglik
    loglik = _numpy_function(peers, torch_loglik)
    loglik.__name__ = f"ODESolver_compute_likelihood_{method}"
    return loglik


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


def likelihood_case() -> si_ref.GaussianCase:
    """The reference of the likelihood checks: CondOT (si_ref's one-sided linear interpolant, γ = 0) from
    N(0, I) to the correlated Gaussian target of ``one-sided-2d-trig``, N([2, −1], [[1, 0.5], [0.5, 2]]).

    A single Gaussian, so the drift is affine in x (what :func:`_affine_velocity` needs); log ρ_1 is the
    target's log density.
    """
    return si_ref.GaussianCase(si_ref.OneSidedLinearInterpolant(), None, references.case("one-sided-2d-trig").target)


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

#: A documented outcome: the values differ and no catalogued mistake explains them.
VALUES_DIFFER = "values differ, no catalogued mistake"
#: A documented outcome: the peer called the field at a time before t = 0, where si_ref's exact field raises.
OUTSIDE_INTERVAL = "field called at t < 0"
_OUTSIDE_MESSAGE = "raised ValueError: t must lie in the closed interval [0, 1]"

#: torchdiffeq fixed-grid methods of ODESolver.sample, checked over one step as si_ref's step quantities:
#: (method, si_ref quantity, documented outcomes). torchdiffeq's "heun2" is Heun's method (tableau c = (0, 1),
#: b = (1/2, 1/2)); its "rk4" is Kutta's 3/8 rule (rk4_alt_step_func: stages at t, t + dt/3, t + 2dt/3, t + dt,
#: weights 1/8, 3/8, 3/8, 1/8), fourth order like the classical RK4 (si_ref's rk4_step) but another method:
#: their steps differ by O(dt⁵), far above the tolerance; the checker names it (wrong-method, the 3/8 rule).
STEP_METHODS = (("euler", "euler_step", ("PASS",)), ("midpoint", "midpoint_step", ("PASS",)),
                ("heun2", "heun_step", ("PASS",)), ("rk4", "rk4_step", ("wrong-method",)))

#: compute_likelihood checked with a fixed grid: torchdiffeq's "rk4" (3/8 rule, fourth order) with this step.
#: Measured on likelihood_case(): |error| <= 2e-9 at bulk points and 5 standard deviations out (3.7e-11 with step
#: 0.01 at twice the cost); flow_matching's default "euler" with step 0.01 is off by 1.7e-2 relative (first
#: order), which no tolerance meant for a likelihood accepts.
LIKELIHOOD_METHOD, LIKELIHOOD_STEP = "rk4", 0.02
#: Tolerance of the likelihood checks (the module docstring of si_ref.checking.likelihood: users pass the
#: tolerance of their solver): 500 times the measured error; a mistake changes values by O(1).
LIKELIHOOD_RTOL = LIKELIHOOD_ATOL = 1e-6
#: compute_likelihood with an adaptive method at flow_matching's default tolerances (atol = rtol = 1e-5):
#: torchdiffeq's adaptive solvers step past the last time of the grid and interpolate back, so the velocity
#: is evaluated before t = 0 (measured: t = −0.035 with dopri5 at 1e-10, −0.12 with dopri8), where si_ref's
#: exact field refuses (ValueError naming t); a network is silently evaluated outside its training interval.
ADAPTIVE_METHOD = "dopri5"
#: Drawn inputs of the likelihood check that passes, whatever the run's size: each is a whole integration (50
#: steps of four stages, about 0.3 s), so 60 would cost 17 s. The failing likelihood checks draw at most
#: LIKELIHOOD_FAILING_EXAMPLES: they fail at the fixed inputs already, and each failing input is called twice.
LIKELIHOOD_EXAMPLES, LIKELIHOOD_FAILING_EXAMPLES = 20, 4


class Planned(NamedTuple):
    """One conformance check and its documented outcomes: any of ``expected`` ("PASS", a diagnosis name of
    the checker, :data:`TORCH_SIZE_ERROR`, :data:`NAN_OR_INF`, :data:`VALUES_DIFFER` or
    :data:`OUTSIDE_INTERVAL`) is the documented behaviour. ``times`` restricts the times drawn; None draws the
    quantity's domain. ``where`` says, for the report, how times or tolerance differ from the defaults.
    ``reference``: "" for the scheduler's interpolant (the scheduler's case for conversions), "case" for the
    scheduler's case (:func:`reference_cases`), "likelihood" for :func:`likelihood_case`. ``rtol``, ``atol``:
    the tolerance of the check (None: :data:`RTOL`, :data:`ATOL`). ``max_examples``: at most this many drawn
    inputs whatever the run's size (None: no cap)."""

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
    reference: str = ""
    rtol: float | None = None
    atol: float | None = None
    max_examples: int | None = None

    @property
    def expectation(self) -> str:
        return " or ".join(e if e == "PASS" else f"FAIL {e}" for e in self.expected)

    @property
    def label(self) -> str:
        """The adapter, and the times or tolerance when they are not the defaults."""
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
    for method, name, expected in STEP_METHODS:
        rows.append(Planned("solver", CONDOT, f"ODESolver(field).sample(step_size=dt, method='{method}', "
                            "time_grid=[t, t + dt])", "one step, rows grouped by t", name, expected,
                            lambda peers, m=method: _ode_step(peers, m), reference="case"))
    tolerance = dict(where=f"rtol = atol = {LIKELIHOOD_RTOL:g}", reference="likelihood", rtol=LIKELIHOOD_RTOL,
                     atol=LIKELIHOOD_ATOL, max_examples=LIKELIHOOD_FAILING_EXAMPLES)
    passing = {**tolerance, "max_examples": LIKELIHOOD_EXAMPLES}
    fixed_grid = (f"ODESolver(u).compute_likelihood(step_size={LIKELIHOOD_STEP:g}, method='{LIKELIHOOD_METHOD}', "
                  "exact_divergence=True)")
    rows.append(Planned("likelihood", CONDOT, fixed_grid, "u = the exact CondOT velocity (affine in x)",
                        "ode_log_likelihood", ("PASS",),
                        lambda peers: _log_likelihood(peers, LIKELIHOOD_METHOD, step_size=LIKELIHOOD_STEP),
                        **passing))
    rows.append(Planned("likelihood", CONDOT, f"ODESolver(u).compute_likelihood(method='{ADAPTIVE_METHOD}', "
                        "atol=1e-5, rtol=1e-5, exact_divergence=True)", "u = the exact CondOT velocity (affine in x)",
                        "ode_log_likelihood", (OUTSIDE_INTERVAL,),
                        lambda peers: _log_likelihood(peers, ADAPTIVE_METHOD), **tolerance))
    rows.append(Planned("self-test", POLYNOMIAL, f"{POLYNOMIAL}.sigma_t", "at 1 - t (mistranslated)", "alpha",
                        ("time-reversed",),
                        lambda peers: _coefficient(peers, POLYNOMIAL, "alpha", at_one_minus_t=True)))
    rows.append(Planned("self-test", POLYNOMIAL, f"{POLYNOMIAL}.alpha_t", "as alpha (mistranslated)", "alpha",
                        ("alpha-beta-swapped",), lambda peers: _swapped_alpha(peers, POLYNOMIAL)))
    rows.append(Planned("self-test", CONDOT, fixed_grid, "integral's sign flipped (mistranslated)",
                        "ode_log_likelihood", ("divergence-sign",),
                        lambda peers: _log_likelihood(peers, LIKELIHOOD_METHOD, step_size=LIKELIHOOD_STEP,
                                                      divergence_sign_flipped=True), **tolerance))
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
        if outcome == VALUES_DIFFER and not report.diagnoses and c.error == "values differ":
            return True
        if outcome == OUTSIDE_INTERVAL and c.error.startswith(_OUTSIDE_MESSAGE):
            return True
    return False


def _points_shape(counterexample) -> list | None:
    """Shape of the counterexample's points (x, or x0 for the interpolant); None for coefficients of t alone."""
    if counterexample is None:
        return None
    points = counterexample.inputs.get("x", counterexample.inputs.get("x0"))
    return None if points is None else list(np.shape(points))


def _reference(item: Planned, interpolants: dict, cases: dict):
    """The si_ref reference object of a planned check (see :class:`Planned`)."""
    if item.reference == "likelihood":
        return likelihood_case()
    if item.reference == "case" or item.group == "conversion":
        return cases[item.scheduler]
    return interpolants[item.scheduler]


def _conformance_row(item: Planned, peers: Peers, reference, *, seed: int, max_examples: int, shrink: bool) -> dict:
    rtol = RTOL if item.rtol is None else item.rtol
    atol = ATOL if item.atol is None else item.atol
    examples = max(max_examples, item.min_examples)
    if item.max_examples is not None:
        examples = min(examples, item.max_examples)
    report = conformance.check(item.build(peers), item.quantity, reference, times=item.times, rtol=rtol,
                               atol=atol, max_examples=examples, seed=seed, shrink=shrink)
    c = report.counterexample
    return {
        "check": item.name, "group": item.group, "scheduler": item.scheduler, "flow_matching": item.flow_matching,
        "adapter": item.label,
        "si_ref": item.quantity, "outcome": "PASS" if report.passed else "FAIL", "rtol": rtol, "atol": atol,
        "examples": report.examples, "diagnoses": list(report.diagnosis_names),
        "diagnosis_forms": [f"{d.name} ({d.form})" for d in report.diagnoses],
        "problem": _first_line(c.error) if c is not None else "",
        "counterexample_t": None if c is None or "t" not in c.inputs else np.asarray(c.inputs["t"]).tolist(),
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
            reference = _reference(item, interpolants, cases)
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
        f"{results['rtol']:g} |expected| (the likelihood checks: the tolerance in their adapter column, as for any "
        f"numerical integrator).", "",
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
        elif r["problem"].startswith(_OUTSIDE_MESSAGE):
            note = (" (torchdiffeq's adaptive methods step past the last time of the grid and interpolate back: "
                    "the velocity is evaluated before t = 0, where si_ref's exact field refuses; see the module "
                    "docstring)")
        elif r["si_ref"] == "rk4_step":
            note = " (torchdiffeq's 'rk4' is Kutta's 3/8 rule, not the classical RK4: another fourth-order method)"
        where = ", ".join(part for part in (
            "" if r["counterexample_t"] is None else f"t = {r['counterexample_t']}",
            "" if r["counterexample_shape"] is None else f"points of shape {tuple(r['counterexample_shape'])}") if part)
        lines.append(f"- `{r['flow_matching']}` [{r['adapter']}] vs {r['si_ref']}: {kind} {where}; "
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
