"""One input of a checkable quantity: the reference object, the times and the points."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .._checks import as_times, nonnegative_of_time

__all__ = ["Example", "column", "eps_column"]


@dataclass(frozen=True)
class Example:
    """One input at which a quantity is evaluated.

    Attributes
    ----------
    reference : GammaSchedule, Interpolant or GaussianCase
        The object that defines the exact value.
    t : float or ndarray, shape (n,)
    x : ndarray, shape (n, d), optional
        Points (fields, wrappers, steps, likelihoods).
    x0, x1, z : ndarray, shape (n, d), optional
        Inputs of the path quantities, the regression targets and the losses.
    eps : float or callable, optional
        ε(t) of the SDE drifts and the SDE steps.
    dt : float, optional
        Step size of the steps.
    xi : ndarray, shape (n, d), optional
        Standard normal draw of the SDE steps.
    c : optional
        A label: the implementation is called with it (``f(x, t, c)``); ``reference`` is then
        the conditional case given c, and ``labelled`` the labelled case it came from.
    labelled : optional
        The labelled case of a conditional check (``case(c)``: the exact case given c, None unconditional).

    Examples
    --------
    >>> from si_ref import references
    >>> ex = Example(references.gamma_schedule("brownian"), 0.25)
    >>> ex.reversed_t
    0.75
    """

    reference: Any
    t: Any
    x: np.ndarray | None = None
    x0: np.ndarray | None = None
    x1: np.ndarray | None = None
    z: np.ndarray | None = None
    eps: Any = None
    dt: float | None = None
    xi: np.ndarray | None = None
    c: Any = None
    labelled: Any = None

    def at(self, t) -> "Example":
        """The same example at other times."""
        return replace(self, t=t)

    def with_reference(self, reference) -> "Example":
        """The same inputs with another reference object."""
        return replace(self, reference=reference)

    @property
    def reversed_t(self):
        """1 − t, with the type of t (scalar stays scalar)."""
        return 1.0 - self.t if np.ndim(self.t) == 0 else 1.0 - np.asarray(self.t)

    @property
    def points(self) -> np.ndarray | None:
        """The (n, d) array that fixes n and d: ``x`` where given, else ``x1``."""
        return self.x if self.x is not None else self.x1

    @property
    def n(self) -> int:
        """Number of rows (1 for a scalar-time example with no points)."""
        points = self.points
        return points.shape[0] if points is not None else np.size(self.t)

    def rows(self, selection) -> "Example":
        """The example restricted to the rows ``selection`` (t of shape (n,) is cut too)."""
        cut = {name: getattr(self, name)[selection] for name in ("x", "x0", "x1", "z", "xi")
               if getattr(self, name) is not None}
        t = self.t if np.ndim(self.t) == 0 else np.asarray(self.t)[selection]
        return replace(self, t=t, **cut)


def column(values, ex: Example):
    """Coefficient values at ``ex.t`` shaped to broadcast against (n, d) rows."""
    v = np.asarray(values, dtype=np.float64)
    return v if v.ndim == 0 else v[:, None]


def eps_column(ex: Example):
    """ε(t) at ``ex.t`` as a column (or a scalar for a scalar t)."""
    return column(nonnegative_of_time(ex.eps, as_times(ex.t), "eps"), ex)
