r"""Inputs of the checks: deterministic endpoint and far-point inputs, and hypothesis draws.

Every check first evaluates fixed inputs, the same for every seed: the endpoints
of the quantity's time interval (t = 0 and 1 where it is defined there), times next
to them (1e-12 from each end and the largest float below 1), t = ½, and, for
quantities of points, the modes of ρ_t (each component mean) and points far from
every mode (|x| up to 1e3). Then hypothesis draws times in the interval, points in
the bulk of a component of ρ_t (mean + Cholesky factor · u with |u| <= 3), and,
without a fixed reference, the references themselves.

Same seed, same inputs -- whatever else the process has imported. Hypothesis's own
provider mixes into its draws (a few draws in a hundred) numeric constants that it
collects from the source of every *local* module loaded in the process (not
site-packages, not test files) and caches under ``.hypothesis/constants/``. The
inputs drawn by a check then depended on which of the user's modules happened to be
imported: adding four literals to an adapter changed a check from 123 examples to 74
and a FAIL into a PASS. During a check the provider draws its constants from
hypothesis's fixed list of edge cases only; the rest of the generation is unchanged.
The method is swapped on the provider class (every generation path creates instances
of it) for the duration of the run; hypothesis runs in other threads meanwhile lose
only the local constants. Hypothesis has no setting for this (as of 6.155).
"""

from __future__ import annotations

import math
import threading
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st

from .. import strategies as sis
from ..gaussian import GaussianCase

__all__ = ["TimeRange", "time_range", "fixed_times", "draw_times", "draw_n", "unit_points", "draw_bulk",
           "points_in_components", "bulk_points", "far_points", "mode_and_far_points", "process_independent_draws",
           "FAR"]

#: Largest |x| of the far points tried at every check.
FAR = 1e3

#: Times tried before any random draw (clipped to the quantity's interval): the endpoints, their
#: neighbours and the middle. 1 − 2⁻⁵³ is the largest float below 1.
_FIXED_TIMES = (0.0, 1e-12, 0.5, 1.0 - 1e-12, math.nextafter(1.0, 0.0), 1.0)


class TimeRange(NamedTuple):
    """Where a check draws its times: a list of times, or the interval [low, high] (within [0, 1])."""

    values: tuple | None
    low: float
    high: float

    def within(self, domain, name: str) -> "TimeRange":
        """This range cut to the quantity's interval ``domain``; ValueError when nothing is left."""
        lo, hi = max(domain[0], self.low), min(domain[1], self.high)
        if self.values is not None:
            usable = tuple(t for t in self.values if lo <= t <= hi)
            if not usable:
                raise ValueError(f"times={list(self.values)} has no time in [{domain[0]:g}, {domain[1]:g}], where "
                                 f"{name!r} is checked; pass times inside that interval.")
            return TimeRange(usable, lo, hi)
        if lo > hi:
            raise ValueError(f"the interval [min_t, max_t] = [{self.low:g}, {self.high:g}] does not meet "
                             f"[{domain[0]:g}, {domain[1]:g}], where {name!r} is checked; pass an interval that "
                             f"overlaps it.")
        return TimeRange(None, lo, hi)


def time_range(times=None, min_t=None, max_t=None) -> TimeRange:
    """Validate the ``times=`` / ``min_t=`` / ``max_t=`` options of a check."""
    if times is not None and (min_t is not None or max_t is not None):
        raise ValueError("pass either times=[...] (a list of times) or min_t/max_t (an interval), not both.")
    if times is not None:
        try:
            values = np.atleast_1d(np.asarray(times, dtype=np.float64))
        except (TypeError, ValueError):
            raise TypeError(f"times must be a sequence of numbers in [0, 1]; received {times!r}.") from None
        listed = tuple(float(t) for t in values.ravel())
        if not listed or not all(0.0 <= t <= 1.0 for t in listed):
            raise ValueError(f"times must be a non-empty sequence of times in [0, 1]; received {list(listed)!r}. "
                             f"Pass e.g. times=[0.25, 0.5].")
        return TimeRange(listed, 0.0, 1.0)
    bounds = []
    for name, value, default in (("min_t", min_t, 0.0), ("max_t", max_t, 1.0)):
        if value is None:
            bounds.append(default)
            continue
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name} must be a number in [0, 1]; received {value!r} of type {type(value).__name__}.")
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"{name} must be a time in [0, 1]; received {value!r}. Pass e.g. {name}={default}.")
        bounds.append(float(value))
    if bounds[0] > bounds[1]:
        raise ValueError(f"min_t must be <= max_t; received min_t={min_t!r}, max_t={max_t!r}.")
    return TimeRange(None, bounds[0], bounds[1])


def fixed_times(span: TimeRange) -> tuple:
    """The deterministic times of a check: the listed times, or the endpoints, their neighbours and ½ in range."""
    if span.values is not None:
        return span.values
    inside = [t for t in _FIXED_TIMES if span.low <= t <= span.high]
    for end in (span.low, span.high, 0.5 * (span.low + span.high)):
        if end not in inside:
            inside.append(end)
    return tuple(sorted(set(inside)))


def _time_strategy(span: TimeRange):
    if span.values is not None:
        return st.sampled_from(span.values)
    return sis.times(min_t=span.low, max_t=span.high)


def draw_times(data, span: TimeRange, n: int):
    """A scalar t or a (n,) array of times in ``span``."""
    element = _time_strategy(span)
    if data.draw(st.booleans(), label="scalar t"):
        return data.draw(element, label="t")
    return np.array(data.draw(st.lists(element, min_size=n, max_size=n), label="t"), dtype=np.float64)


def draw_n(data, d):
    """Number of rows: 1 to 4, or d (where a t broadcast along the wrong axis gives values, not errors)."""
    return data.draw(st.one_of(st.integers(1, 4), st.just(d)), label="n")


def unit_points(data, n, d, bound=3.0):
    rows = st.lists(st.floats(-bound, bound), min_size=d, max_size=d)
    return np.array(data.draw(st.lists(rows, min_size=n, max_size=n), label="u"), dtype=np.float64).reshape(n, d)


def draw_bulk(data, n: int, d: int, n_components: int):
    """The drawn part of n points in the bulk: u of shape (n, d) with |u| <= 3, then each row's component
    (``pick``, integers of shape (n,)); returns (pick, u). The points are placed by :func:`points_in_components`
    or, at a diffusion noise level, by :func:`~si_ref.checking.diffusion_quantity.points_at_levels`."""
    u = unit_points(data, n, d)
    pick = np.array(data.draw(st.lists(st.integers(0, n_components - 1), min_size=n, max_size=n), label="component"))
    return pick, u


def points_in_components(components, pick, u) -> np.ndarray:
    """Row i at μ + L u_i with μ, Σ = L Lᵀ the mean and covariance of component ``pick[i]`` of row i's law.

    ``components`` has means of shape (n, P, d) and covariances (n, P, d, d) (one law per row, e.g.
    ``case.components(t)`` for t of shape (n,)); ``pick`` has shape (n,), ``u`` shape (n, d).
    """
    rows = np.arange(len(pick))
    chol = np.linalg.cholesky(components.covs[rows, pick])
    return components.means[rows, pick] + np.einsum("nij,nj->ni", chol, u)


def bulk_points(data, case: GaussianCase, t, n):
    """Points μ_p(t_i) + L_p(t_i) u_i with |u| <= 3: in the bulk of a component of ρ_t."""
    times = np.broadcast_to(np.asarray(t, dtype=np.float64), (n,))
    return points_in_components(case.components(times), *draw_bulk(data, n, case.dim, case.n_pairs))


def far_points(d: int) -> np.ndarray:
    """Points far from every mode: ±FAR along the first axis, (40, ..., 40), and FAR times a fixed unit
    vector with every coordinate nonzero. Shape (4, d)."""
    e1 = np.zeros(d)
    e1[0] = 1.0
    oblique = np.arange(1.0, d + 1.0) * (-1.0) ** np.arange(d)
    return np.stack([FAR * e1, -FAR * e1, np.full(d, 40.0), FAR * oblique / np.linalg.norm(oblique)])


def mode_and_far_points(case: GaussianCase, t: float) -> np.ndarray:
    """Each component mean of ρ_t, then the :func:`far_points`. Shape (P + 4, d)."""
    means = case.components(np.array([t])).means[0]
    return np.concatenate([means, far_points(case.dim)])


# --- the same draws whatever the process has loaded -------------------------------------------------

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
_fixed_draw_state: dict = {"users": 0, "saved": None}


@contextmanager
def process_independent_draws():
    """Inside the block hypothesis draws no constants from the loaded modules (see the module docstring);
    nested and concurrent blocks share one swap, undone when the last one ends."""
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
