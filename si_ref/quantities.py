r"""The checkable quantities: what each one means, how to compute it exactly, and how it goes wrong.

This is the table behind :mod:`si_ref.conformance` and :mod:`si_ref.golden`,
kept importable under its old name; the model lives in :mod:`si_ref.checking`:
:mod:`~si_ref.checking.quantity` (one class per calling convention: how a quantity
is called, where its inputs come from), :mod:`~si_ref.checking.table` (every
quantity by name), :mod:`~si_ref.checking.mistakes` (the catalogue) and
:mod:`~si_ref.checking.variants` (the wrong values each mistake produces).

Each :class:`Quantity` has a ``level`` (schedule, interpolant, field, wrapper,
step, loss, likelihood: what the implementation is and how it is called), an
``exact(example)`` from si_ref's closed forms (arXiv:2303.08797v3, eqs. (2.1),
(2.10), (2.14), (2.17), (2.21), (2.27)) and ``mistakes``: the wrong values of the
usual convention errors, matched against what an implementation returned.

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
