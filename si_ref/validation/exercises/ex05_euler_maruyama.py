r"""Exercise 5: one Euler–Maruyama step of the forward SDE.

With a diffusion coefficient ε ≥ 0, the SDE

.. math::

    dX_t = b_F(X_t, t)\,dt + \sqrt{2\varepsilon}\, dW_t, \qquad b_F = b + \varepsilon s,

run forward in t from X_0 ~ ρ_0 has the same marginals ρ_t as the interpolant
(∂_t ρ + ∇·(b_F ρ) = ε Δρ). Its Euler–Maruyama step of size dt is

.. math::

    X_{t+dt} = X_t + b_F(X_t, t)\,dt + \sqrt{2\varepsilon\,dt}\;\xi, \qquad \xi \sim N(0, I_d),

since the Brownian increment W_{t+dt} − W_t has standard deviation √dt, so the
noise of one step has variance 2ε dt.

Task
----
Write ``euler_maruyama_step(field, x, t, dt, eps, xi)`` returning X_{t+dt}:

* ``field``: the forward drift b_F, a callable ``field(x, t) -> (n, d)``;
* ``x``: ndarray (n, d), the current points; ``t``: a float or an ndarray (n,)
  (row i at time t[i]; pass it to ``field`` as it is);
* ``dt``: float > 0; ``eps``: float ≥ 0, the ε above; ``xi``: ndarray (n, d), the
  standard normal draw (given, so that the step is deterministic and checkable);
* return float64 of shape (n, d); do not modify ``x`` or ``xi`` in place (no ``x += ...``).

Hints
-----
One line. The usual mistakes: √(2ε) ξ without √dt, √(2ε) dt ξ, √(ε dt) ξ (the factor 2
lost: σ = √(2ε), so σ²/2 = ε), a minus sign on the drift.

Check
-----
::

    si-ref exercises check ex05_euler_maruyama.py     # in the folder made by si-ref exercises init

calls your step with the exact forward drift b + ε s of the named case
``gaussian-2d-linear-brownian`` (``si_ref.references``), ε = 0.5, drawn t in
[0, 0.9], dt in [0.001, 0.1], points and ξ, and compares with the exact step
(quantity ``euler_maruyama_step``); a failure names the mistake when it recognises it.

A reference solution is in ``si_ref/validation/exercises/solutions/ex05_euler_maruyama.py``.
Do not look at it before you have tried.
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (for your solution)

from si_ref import conformance, references
from si_ref.validation.exercises._common import module_or_self, print_reports

__all__ = ["CASE", "EPS", "euler_maruyama_step", "check", "main"]

#: The named case of ``si_ref.references`` whose forward drift is the field of the check.
CASE = "gaussian-2d-linear-brownian"
#: ε of the check.
EPS = 0.5


# --- your code -------------------------------------------------------------------------------

def euler_maruyama_step(field, x, t, dt, eps, xi):
    """x + field(x, t) dt + √(2 eps dt) xi; shape (n, d)."""
    raise NotImplementedError("exercise 5: return x + field(x, t) dt + sqrt(2 eps dt) xi")


# --- the check -------------------------------------------------------------------------------

def check(module=None, *, max_examples: int = 100) -> list:
    """Check ``module.euler_maruyama_step`` (default: this module's); returns one ``Report`` in a list."""
    module = module_or_self(module, __name__)
    return [conformance.check(module.euler_maruyama_step, "euler_maruyama_step", references.case(CASE),
                              eps=EPS, max_examples=max_examples)]


def main(module=None) -> int:
    """Print the report; exit status 0 when it passes."""
    return print_reports(check(module))


if __name__ == "__main__":
    raise SystemExit(main())
