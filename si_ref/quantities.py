r"""The checkable quantities: what each one means, how to compute it exactly, and how it goes wrong.

This is the table behind :mod:`si_ref.conformance` and :mod:`si_ref.golden`.
Each :class:`Quantity` says

* its **level** -- what the implementation under test is and how it is called:

  ============  ==========================================  ===========================
  level         the implementation                          reference object
  ============  ==========================================  ===========================
  schedule      ``f(t) -> values`` (γ, γ̇ or γγ̇)            a ``GammaSchedule``
  interpolant   ``f(t)`` (α, α̇, β, β̇) or                   an ``Interpolant``
                ``f(t, x0, x1, z) -> (n, d)``
  field         ``f(x, t) -> (n, d)``                       a ``GaussianCase``
  wrapper       a constructor with si_ref's signature,      a ``GaussianCase``
                e.g. ``DriftFromVelocityScore(v, s, gamma)``
  step          ``step(field, x, t, dt, eps, xi) -> (n, d)``  a ``GaussianCase``
  ============  ==========================================  ===========================

* its **exact value** at an :class:`Example` (a reference, times and points), from
  si_ref's closed forms (DESIGN.md; arXiv:2303.08797v3, eqs. (2.1), (2.10),
  (2.14), (2.17), (2.21), (2.27));
* its catalogue of **mistakes**: the wrong values that the usual convention
  errors produce (sign flip, γγ̇ with the wrong sign, the other sign of the noise
  predictor, v given where b is expected, time reversed, α/β swapped, a
  σ²/2-type scaling of the score term, t broadcast along the wrong axis).
  A received value that matches one of them is diagnosed by name.

Times: ``t`` is a scalar or an array of shape (n,) (row i at time ``t[i]``);
points ``x`` have shape (n, d). All values are float64.
"""

from __future__ import annotations

from .checking.example import Example
from .checking.quantity import INTERIOR, PLAIN_WIDTH, Quantity, build_wrapper
from .checking.table import LEVELS, QUANTITIES, describe, plain_summary, quantity
from .checking.variants import Mistake

__all__ = ["Example", "Mistake", "Quantity", "QUANTITIES", "LEVELS", "quantity", "plain_summary", "describe",
           "build_wrapper", "INTERIOR", "PLAIN_WIDTH"]
