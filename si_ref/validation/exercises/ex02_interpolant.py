r"""Exercise 2: the linear interpolant with the Brownian gamma, and its time derivative.

The stochastic interpolant between a base sample x0 (t = 0) and a target sample
x1 (t = 1) is

.. math::

    x_t = \alpha(t) x_0 + \beta(t) x_1 + \gamma(t) z, \qquad z \sim N(0, I_d),

here with α(t) = 1 − t, β(t) = t and the Brownian γ(t) = √(t(1−t)) of exercise 1.
Its time derivative, the regression target of the drift b, is

.. math::

    \frac{d x_t}{dt} = \dot\alpha(t) x_0 + \dot\beta(t) x_1 + \dot\gamma(t) z
                    = -x_0 + x_1 + \frac{1-2t}{2\sqrt{t(1-t)}}\, z .

Task
----
Write ``interpolant(t, x0, x1, z)`` = x_t and ``interpolant_dot(t, x0, x1, z)`` = d x_t/dt.

* x0, x1, z: ndarrays of shape (n, d); return float64 of shape (n, d).
* t: a float (every row at that time) or an ndarray of shape (n,) (**row i at
  time t[i]**). Broadcasting rule: a coefficient c(t) of shape (n,) multiplies
  the rows, ``c(t)[:, None] * x``; ``c(t) * x`` would broadcast along the
  columns (or fail), and when n == d it silently gives a wrong answer.
* ``interpolant_dot`` is checked only at interior times, where γ̇ is finite
  (t in [0.001, 0.999]); at t = 0 or 1 it may raise a ValueError naming t.
* Do not modify the inputs in place.

Hints
-----
* ``t = np.asarray(t, dtype=np.float64)``; then ``c[:, None]`` if ``t.ndim == 1``.
* α̇ = −1 and β̇ = +1; reuse your γ and γ̇ from exercise 1.

Check
-----
::

    si-ref exercises check ex02_interpolant.py     # in the folder made by si-ref exercises init

compares both functions with si_ref's ``LinearInterpolant(BrownianGamma())``
(quantities ``interpolant`` and ``interpolant_dot``) on drawn t, x0, x1, z
(including n == d with distinct times, which catches the broadcasting mistake);
a failure names the mistake when it recognises it (α/β swapped, time reversed,
γ² for γ, noise term missing, t broadcast along the wrong axis, ...).

A reference solution is in ``si_ref/validation/exercises/solutions/ex02_interpolant.py``.
Do not look at it before you have tried.
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (for your solution)

from si_ref import BrownianGamma, LinearInterpolant, conformance
from si_ref.validation.exercises._common import module_or_self, print_reports

__all__ = ["interpolant", "interpolant_dot", "check", "main"]


# --- your code -------------------------------------------------------------------------------

def interpolant(t, x0, x1, z):
    """x_t = (1 − t) x0 + t x1 + √(t(1−t)) z; shape (n, d), row i at t[i] when t has shape (n,)."""
    raise NotImplementedError("exercise 2: write interpolant(t, x0, x1, z) = (1-t) x0 + t x1 + sqrt(t(1-t)) z")


def interpolant_dot(t, x0, x1, z):
    """d x_t / dt = −x0 + x1 + γ̇(t) z for t in (0, 1); shape (n, d)."""
    raise NotImplementedError("exercise 2: write interpolant_dot(t, x0, x1, z) = -x0 + x1 + gamma_dot(t) z")


# --- the check -------------------------------------------------------------------------------

def check(module=None, *, max_examples: int = 100) -> list:
    """Check ``module.interpolant`` and ``module.interpolant_dot`` (default: this module's).

    Returns the two ``si_ref.conformance.Report`` objects.
    """
    module = module_or_self(module, __name__)
    reference = LinearInterpolant(BrownianGamma())
    return [conformance.check(getattr(module, name), name, reference, max_examples=max_examples)
            for name in ("interpolant", "interpolant_dot")]


def main(module=None) -> int:
    """Print the reports; exit status 0 when all pass."""
    return print_reports(check(module))


if __name__ == "__main__":
    raise SystemExit(main())
