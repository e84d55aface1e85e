r"""Samplers: integrate the probability-flow ODE or the forward/backward SDEs.

Small orthogonal pieces joined by one entry point, :func:`integrate`:

* a **term**: a field ``b(x, t)`` for the ODE :math:`\dot x = b(t, x)`, or an
  :class:`SDETerm` (drift b, score s, diffusion ε(t)) for the SDEs
  :math:`dX = (b \pm \varepsilon s)\,dt + \sqrt{2\varepsilon}\,dW`;
* a **stepper**: :class:`Euler`, :class:`Heun`, :class:`RK4` (explicit
  Runge-Kutta methods defined by their Butcher tableaux) for ODEs;
  :class:`EulerMaruyama` and :class:`StochasticHeun` for SDEs;
* a **time grid**: :func:`uniform_grid` or any strictly monotone array of
  times in [0, 1]; increasing grids run forward, decreasing grids backward;
* **what to save**: ``save_at`` times (points of the grid).

:func:`integrate` returns a :class:`Solution` (``times``, ``states``).

Direction of the SDE: on an increasing grid the forward SDE
:math:`dX = (b + \varepsilon s)\,dt + \sqrt{2\varepsilon}\,dW` is integrated; on a
decreasing grid the backward SDE with drift :math:`b - \varepsilon s` is
integrated with decreasing t (arXiv:2303.08797v3, eqs. (2.33)-(2.34)). Both
have the marginals :math:`\rho_t` of the interpolant.

Why ``t_min``/``t_max``: some fields are singular at an endpoint (a score
:math:`-\eta/\gamma` at γ = 0, a drift through :math:`\dot\gamma` of a
Brownian schedule, a one-sided score :math:`-\hat x_0/\alpha` at t = 1); a grid
from ``t_min > 0`` or to ``t_max < 1`` never evaluates them there. The exact
fields of :class:`~si_ref.gaussian.GaussianCase` are finite on all of [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np
from scipy.integrate import solve_ivp

from ._checks import (
    as_count,
    call_field,
    as_points,
    as_real_scalar,
    as_time_scalar,
    as_times,
    check_rng,
    enough_memory,
    nonnegative_of_time,
    solver_tolerances,
)

__all__ = [
    "ButcherTableau",
    "EULER_TABLEAU",
    "HEUN_TABLEAU",
    "RK4_TABLEAU",
    "ExplicitRungeKutta",
    "Euler",
    "Heun",
    "RK4",
    "SDETerm",
    "EulerMaruyama",
    "StochasticHeun",
    "Solution",
    "uniform_grid",
    "integrate",
    "integrate_reference",
    "MAX_SOLVER_EVALUATIONS",
]

#: Default budget of right-hand-side evaluations of the adaptive solvers (``integrate_reference``,
#: ``ode_log_likelihood``): a smooth problem at the default tolerances needs a few thousand; a field
#: the solver cannot resolve (noisy, discontinuous) would otherwise shrink the step without end.
MAX_SOLVER_EVALUATIONS = 50_000


# --- time grids ----------------------------------------------------------------------------------

def uniform_grid(t_start, t_end, n_steps) -> np.ndarray:
    r"""``n_steps + 1`` equally spaced times from ``t_start`` to ``t_end`` (either order), ends exact.

    Use ``t_start = t_min > 0`` or ``t_end = t_max < 1`` to keep a field away from
    an endpoint where it is singular.
    """
    t_start, t_end = as_time_scalar(t_start, "t_start"), as_time_scalar(t_end, "t_end")
    n_steps = as_count(n_steps, "n_steps")
    if t_start == t_end:
        raise ValueError(f"t_start and t_end must differ; received both {t_start!r}.")
    with enough_memory(16 * (n_steps + 1), f"a grid of n_steps={n_steps}", "pass fewer steps."):
        grid = t_start + (t_end - t_start) * (np.arange(n_steps + 1) / n_steps)
    grid[-1] = t_end  # the last step lands exactly on the final time
    return grid


def _as_grid(grid) -> np.ndarray:
    times = as_times(grid, "grid")
    if times.ndim != 1 or times.size < 2:
        raise ValueError(f"grid must be a 1-d array of at least 2 times; received shape {times.shape}.")
    steps = np.diff(times)
    if not ((steps > 0).all() or (steps < 0).all()):
        i = int(np.argmax(steps <= 0) if steps[0] > 0 else np.argmax(steps >= 0))
        raise ValueError(
            f"grid must be strictly increasing or strictly decreasing; received "
            f"grid[{i}] = {float(times[i])!r} then grid[{i + 1}] = {float(times[i + 1])!r}. Sort it, or use uniform_grid."
        )
    return times


# --- fields and terms ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SDETerm:
    r"""The SDEs :math:`dX = (b \pm \varepsilon(t) s)\,dt + \sqrt{2\varepsilon(t)}\,dW` with the marginals :math:`\rho_t`.

    Parameters
    ----------
    drift : field
        :math:`b(x, t)`, the probability-flow drift.
    score : field
        :math:`s(x, t) = \nabla\log\rho_t(x)`.
    eps : float or callable
        :math:`\varepsilon(t) \ge 0`.

    On an increasing grid the drift is :math:`b + \varepsilon s` (forward SDE), on a
    decreasing grid :math:`b - \varepsilon s` (backward SDE); :math:`\varepsilon = 0`
    gives the probability-flow ODE.
    """

    drift: Callable
    score: Callable
    eps: object

    def __post_init__(self):
        for name in ("drift", "score"):
            if not callable(getattr(self, name)):
                raise TypeError(f"{name} must be a field f(x, t); received {getattr(self, name)!r}.")
        if not callable(self.eps):
            nonnegative_of_time(self.eps, np.zeros(()), "eps")

    def diffusion(self, t) -> float:
        """:math:`\\varepsilon(t)` at one time."""
        return float(nonnegative_of_time(self.eps, np.asarray(float(t)), "eps"))

    def sde_drift(self, x, t, c, step, sign):
        """:math:`b + \\text{sign}\\,\\varepsilon s` at (x, t)."""
        eps = self.diffusion(t)
        b = call_field(self.drift, "drift", x, t, c, step)
        if eps == 0.0:
            return b
        return b + sign * eps * call_field(self.score, "score", x, t, c, step)


# --- ODE steppers ---------------------------------------------------------------------------------

def _stage_time(t, t_next, fraction):
    """t + fraction (t_next − t), exactly t or t_next at the ends (never an ulp outside [0, 1])."""
    if fraction == 0.0:
        return t
    if fraction == 1.0:
        return t_next
    return t + fraction * (t_next - t)


class ButcherTableau(NamedTuple):
    """An explicit Runge-Kutta method: stages k_i = f(t + c_i h, x + h Σ_{j<i} a_ij k_j), x' = x + h Σ b_i k_i.

    ``a`` has one row per stage; row i lists a_i0, ..., a_i,i-1 (it may be padded with zeros
    up to s entries, as in a full matrix). ``b`` (weights, summing to 1) and ``c`` (nodes in
    [0, 1], so that stage times stay inside the step) have s entries each. Checked by
    :class:`ExplicitRungeKutta`.
    """

    name: str
    order: int
    a: tuple
    b: tuple
    c: tuple


EULER_TABLEAU = ButcherTableau("Euler", 1, a=((),), b=(1.0,), c=(0.0,))
HEUN_TABLEAU = ButcherTableau("Heun", 2, a=((), (1.0,)), b=(0.5, 0.5), c=(0.0, 1.0))
RK4_TABLEAU = ButcherTableau(
    "RK4", 4, a=((), (0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)), b=(1 / 6, 1 / 3, 1 / 3, 1 / 6), c=(0.0, 0.5, 0.5, 1.0)
)


#: The weights b of a tableau must sum to 1 within this tolerance (consistency: order >= 1).
TABLEAU_WEIGHT_TOLERANCE = 1e-12


def _check_tableau(tableau) -> None:
    """Refuse what is not an explicit, consistent Butcher tableau, naming the offending entry."""
    if not isinstance(tableau, ButcherTableau):
        raise TypeError(
            f"tableau must be a ButcherTableau(name, order, a, b, c), e.g. si_ref.samplers.RK4_TABLEAU; "
            f"received {tableau!r} of type {type(tableau).__name__}."
        )
    as_count(tableau.order, "tableau.order")
    parts = {}
    for part in ("a", "b", "c"):
        value = getattr(tableau, part)
        if not isinstance(value, (tuple, list)):
            raise TypeError(f"tableau.{part} must be a tuple; received {value!r} of type {type(value).__name__}.")
        parts[part] = value
    s = len(parts["b"])
    if s == 0 or len(parts["a"]) != s or len(parts["c"]) != s:
        raise ValueError(
            f"tableau must have as many rows of a and nodes c as weights b (s stages); received "
            f"{len(parts['a'])} rows of a, {len(parts['b'])} weights b and {len(parts['c'])} nodes c."
        )
    for i, row in enumerate(parts["a"]):
        if not isinstance(row, (tuple, list)) or len(row) > s:
            raise ValueError(
                f"tableau.a[{i}] must be a tuple of at most s = {s} coefficients; received {row!r}."
            )
        for j, entry in enumerate(row):
            value = as_real_scalar(entry, f"tableau.a[{i}][{j}]")
            if j >= i and value != 0.0:
                raise ValueError(
                    f"tableau.a[{i}][{j}] = {value!r} makes the method implicit (stage {i} would use "
                    f"stage {j} >= {i}); only explicit methods are supported: set entries on and above "
                    f"the diagonal to 0."
                )
    weights = [as_real_scalar(v, f"tableau.b[{i}]") for i, v in enumerate(parts["b"])]
    for i, node in enumerate(parts["c"]):
        value = as_real_scalar(node, f"tableau.c[{i}]")
        if not 0.0 <= value <= 1.0:
            raise ValueError(
                f"tableau.c[{i}] must lie in [0, 1] so that the stage time t + c h stays inside the step; "
                f"received {value!r}."
            )
    if abs(sum(weights) - 1.0) > TABLEAU_WEIGHT_TOLERANCE:
        raise ValueError(
            f"tableau.b must sum to 1 (a consistent method); received weights summing to {sum(weights)!r}."
        )


@dataclass(frozen=True)
class ExplicitRungeKutta:
    """An ODE stepper given by its Butcher tableau (checked: explicit, consistent, nodes in [0, 1]).

    Raises
    ------
    TypeError
        For a ``tableau`` that is not a :class:`ButcherTableau`, or non-real entries.
    ValueError
        For mismatched lengths of a, b and c, nonzero entries on or above the diagonal
        of a, nodes outside [0, 1], or weights that do not sum to 1.
    """

    tableau: ButcherTableau
    stochastic = False

    def __post_init__(self):
        _check_tableau(self.tableau)

    def step(self, field, x, t, t_next, c, step):
        """One step from (x, t) to t_next (t_next < t on decreasing grids)."""
        h = t_next - t
        stages = []
        for a_row, c_i in zip(self.tableau.a, self.tableau.c):
            x_stage = x
            for a_ij, k_j in zip(a_row, stages):
                if a_ij != 0.0:
                    x_stage = x_stage + (h * a_ij) * k_j
            stages.append(call_field(field, "field", x_stage, _stage_time(t, t_next, c_i), c, step))
        return x + h * sum(b_i * k for b_i, k in zip(self.tableau.b, stages))


@dataclass(frozen=True)
class Euler(ExplicitRungeKutta):
    """Forward Euler, order 1."""

    tableau: ButcherTableau = field(default=EULER_TABLEAU, init=False)


@dataclass(frozen=True)
class Heun(ExplicitRungeKutta):
    """Heun's method (explicit trapezoid), order 2."""

    tableau: ButcherTableau = field(default=HEUN_TABLEAU, init=False)


@dataclass(frozen=True)
class RK4(ExplicitRungeKutta):
    """The classical fourth-order Runge-Kutta method."""

    tableau: ButcherTableau = field(default=RK4_TABLEAU, init=False)


# --- SDE steppers ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class EulerMaruyama:
    r"""Euler-Maruyama: :math:`X' = X + h\,\mu(t, X) + \sqrt{2\varepsilon(t)|h|}\,\xi`, :math:`\xi \sim N(0, I)`.

    Strong order 1/2, weak order 1 (additive noise).
    """

    stochastic = True

    def step(self, term: SDETerm, x, t, t_next, c, step, rng, sign):
        h = t_next - t
        xi = rng.standard_normal(x.shape)
        return x + h * term.sde_drift(x, t, c, step, sign) + np.sqrt(2.0 * term.diffusion(t) * abs(h)) * xi


@dataclass(frozen=True)
class StochasticHeun:
    r"""Stochastic Heun for additive noise: a predictor-corrector in the drift.

    .. math::

        \tilde X = X + h\mu(t, X) + \sigma_t\,\Delta W, \qquad
        X' = X + \tfrac h2 [\mu(t, X) + \mu(t + h, \tilde X)] + \tfrac12(\sigma_t + \sigma_{t+h})\,\Delta W,

    with :math:`\sigma_t = \sqrt{2\varepsilon(t)}`, :math:`\Delta W = \sqrt{|h|}\,\xi`; the
    drift is evaluated at both ends of the step. Second order in the drift (exact
    order 2 when ε = 0, where it is Heun's method).
    """

    stochastic = True

    def step(self, term: SDETerm, x, t, t_next, c, step, rng, sign):
        h = t_next - t
        dw = np.sqrt(abs(h)) * rng.standard_normal(x.shape)
        sigma, sigma_next = np.sqrt(2.0 * term.diffusion(t)), np.sqrt(2.0 * term.diffusion(t_next))
        mu = term.sde_drift(x, t, c, step, sign)
        predictor = x + h * mu + sigma * dw
        mu_next = term.sde_drift(predictor, t_next, c, step, sign)
        return x + 0.5 * h * (mu + mu_next) + 0.5 * (sigma + sigma_next) * dw


# --- the entry point --------------------------------------------------------------------------------

class Solution(NamedTuple):
    """Result of :func:`integrate`.

    Attributes
    ----------
    times : ndarray, shape (k,)
        The saved times, in the order of integration.
    states : ndarray, shape (k, n, d)
        The states at those times.
    """

    times: np.ndarray
    states: np.ndarray


def _save_times(save_at) -> np.ndarray:
    """Validated ``save_at`` times, flattened; an empty request is refused (omit it for the ends)."""
    wanted = as_times(save_at, "save_at").reshape(-1)
    if wanted.size == 0:
        raise ValueError(
            "save_at must hold at least one time; received an empty array. Omit save_at to save "
            "the first and last states."
        )
    return wanted


def _save_indices(grid, save_at):
    if save_at is None:
        return np.array([0, grid.size - 1])
    wanted = _save_times(save_at)
    indices = []
    for s in wanted:
        hit = np.flatnonzero(grid == s)
        if hit.size == 0:
            raise ValueError(
                f"save_at time {float(s)!r} is not a point of the grid; add it to the grid "
                f"(states are saved at grid points only, never interpolated)."
            )
        indices.append(int(hit[0]))
    return np.array(sorted(set(indices), key=lambda i: i))


def integrate(term, stepper, grid, x_start, *, save_at=None, rng=None, c=None) -> Solution:
    r"""Integrate an ODE or SDE on a time grid.

    Parameters
    ----------
    term : field or SDETerm
        A field ``b(x, t)`` (ODE :math:`\dot x = b`) with an ODE stepper, or an
        :class:`SDETerm` with an SDE stepper.
    stepper : Euler, Heun, RK4, ExplicitRungeKutta, EulerMaruyama or StochasticHeun
    grid : array_like, shape (m,)
        Strictly monotone times in [0, 1]; decreasing grids integrate backwards.
    x_start : ndarray, shape (n, d)
        The state at ``grid[0]`` (not modified).
    save_at : array_like, optional
        Grid times at which to save the state (default: the first and last).
    rng : numpy.random.Generator, optional
        Required for SDE steppers; the same seed gives bit-identical paths. ODE
        steppers use no randomness: leave it None (anything else but a Generator
        is refused, so that a wrong argument is never silently ignored).
    c : optional
        Conditioning passed to the fields as ``f(x, t, c)`` when given.

    Returns
    -------
    Solution
        ``times`` (k,) and ``states`` (k, n, d).

    Raises
    ------
    ValueError
        For a grid that is not strictly monotone or leaves [0, 1], an empty ``save_at``
        or one off the grid, or a field that returns the wrong shape or a non-finite
        value (the step and time are named).
    TypeError
        For a stepper that does not match the term, a missing ``rng`` for an SDE, or
        an ``rng`` that is not a ``numpy.random.Generator``.
    """
    grid = _as_grid(grid)
    x = as_points(x_start, "x_start")
    stochastic = None if isinstance(stepper, type) else getattr(stepper, "stochastic", None)
    if stochastic is None:
        raise TypeError(
            f"stepper must be an instance such as Euler(), Heun(), RK4(), EulerMaruyama() or "
            f"StochasticHeun(); received {stepper!r}{' (a class: add the parentheses)' if isinstance(stepper, type) else ''}."
        )
    if stochastic != isinstance(term, SDETerm):
        raise TypeError(
            f"{type(stepper).__name__} integrates {'an SDETerm' if stochastic else 'a field (ODE)'}; "
            f"received {type(term).__name__}. Pair ODE steppers with a field and SDE steppers with SDETerm."
        )
    if not stochastic and not callable(term):
        raise TypeError(f"term must be a field f(x, t); received {term!r}.")
    if stochastic or rng is not None:
        check_rng(rng)
    sign = 1.0 if grid[-1] > grid[0] else -1.0   # forward SDE on increasing grids, backward otherwise
    saved = _save_indices(grid, save_at)
    states = np.empty((saved.size,) + x.shape)
    position = {int(i): k for k, i in enumerate(saved)}
    if 0 in position:
        states[position[0]] = x
    for step in range(grid.size - 1):
        t, t_next = float(grid[step]), float(grid[step + 1])
        if stochastic:
            x = stepper.step(term, x, t, t_next, c, step, rng, sign)
        else:
            x = stepper.step(term, x, t, t_next, c, step)
        if step + 1 in position:
            states[position[step + 1]] = x
    return Solution(times=grid[saved], states=states)


SOLVER_METHODS = ("DOP853", "Radau", "RK45", "LSODA")


def check_solver_method(method) -> str:
    """One of :data:`SOLVER_METHODS` (the ``solve_ivp`` methods si_ref accepts)."""
    if not isinstance(method, str) or method not in SOLVER_METHODS:
        raise ValueError(f"method must be 'DOP853' or 'Radau' (or 'RK45', 'LSODA'); received {method!r}.")
    return method


def budgeted(rhs, max_evaluations, what):
    """``rhs`` that refuses to be called more than ``max_evaluations`` times (a guard for ``solve_ivp``).

    An adaptive solver shrinks its step without end on a right-hand side it cannot
    resolve (noisy or discontinuous values); the budget turns that into a clear error.
    """
    calls = [0]

    def counted(t, y):
        calls[0] += 1
        if calls[0] > max_evaluations:
            raise RuntimeError(
                f"{what} did not finish within max_evaluations={max_evaluations} evaluations of the right-hand "
                f"side (now at t = {float(t)!r}): the adaptive solver keeps shrinking its step, which happens "
                f"when the field is noisy or discontinuous at the scale of rtol/atol. Loosen rtol/atol, "
                f"smooth the field, or raise max_evaluations."
            )
        return rhs(t, y, calls[0])

    return counted


def integrate_reference(field, x_start, t_start, t_end, *, save_at=None, method="DOP853",
                        rtol=1e-10, atol=1e-12, c=None, max_evaluations=MAX_SOLVER_EVALUATIONS) -> Solution:
    r"""Ground-truth ODE trajectories with ``scipy.integrate.solve_ivp`` (adaptive; DOP853 or Radau).

    All n points are integrated as one system of size n·d. ``save_at`` (default:
    the end points) may be any times between ``t_start`` and ``t_end``; the solver
    stops at them exactly (``t_eval``), and they are returned once each, in the order
    of integration (as :func:`integrate` does).

    Parameters
    ----------
    rtol, atol : float
        Finite and positive; ``rtol`` at least 100 machine epsilons (smaller values are
        refused, where ``solve_ivp`` would silently raise them).
    max_evaluations : int
        Budget of field evaluations (default :data:`MAX_SOLVER_EVALUATIONS`).

    Raises
    ------
    TypeError
        For a field that is not callable, or non-numeric tolerances.
    ValueError
        For bad points or times, an empty ``save_at`` or times outside the span, bad
        tolerances or method, or a field returning the wrong shape or NaN/inf.
    RuntimeError
        When the solver fails or exceeds ``max_evaluations``.
    """
    if not callable(field):
        raise TypeError(f"field must be a callable f(x, t); received {field!r}.")
    method = check_solver_method(method)
    rtol, atol = solver_tolerances(rtol, atol)
    max_evaluations = as_count(max_evaluations, "max_evaluations")
    x = as_points(x_start, "x_start")
    t_start, t_end = as_time_scalar(t_start, "t_start"), as_time_scalar(t_end, "t_end")
    if t_start == t_end:
        raise ValueError(f"t_start and t_end must differ; received both {t_start!r}.")
    times = np.array([t_start, t_end]) if save_at is None else _save_times(save_at)
    low, high = min(t_start, t_end), max(t_start, t_end)
    if ((times < low) | (times > high)).any():
        raise ValueError(f"save_at times must lie between t_start = {t_start!r} and t_end = {t_end!r}; "
                         f"received {times.tolist()}.")
    times = np.unique(times)                      # increasing, each once
    if t_end < t_start:
        times = times[::-1]                       # solve_ivp wants t_eval in the order of integration
    shape = x.shape

    def rhs(t, y, call):
        return call_field(field, "field", y.reshape(shape), t, c, f"(solver call {call})").ravel()

    solution = solve_ivp(budgeted(rhs, max_evaluations, "integrate_reference"), (t_start, t_end), x.ravel(),
                         method=method, t_eval=times, rtol=rtol, atol=atol)
    if not solution.success:
        raise RuntimeError(f"solve_ivp failed: {solution.message}")
    return Solution(times=solution.t, states=solution.y.T.reshape((-1,) + shape))
