r"""Exercise 1: the Brownian gamma schedule γ(t) = √(t(1−t)) and its derivatives.

In a stochastic interpolant x_t = α(t) x0 + β(t) x1 + γ(t) z (t = 0 the base x0,
t = 1 the target x1, z ~ N(0, I)), the latent noise has scale γ(t), which must
vanish at both ends and be positive inside. The Brownian-bridge choice is

.. math::

    \gamma(t) = \sqrt{t(1-t)}, \qquad
    \dot\gamma(t) = \frac{1-2t}{2\sqrt{t(1-t)}}, \qquad
    \gamma(t)\dot\gamma(t) = \tfrac12 \frac{d\gamma^2}{dt} = \frac{1-2t}{2}.

Task
----
Write three functions of t, a float or an ndarray of shape (n,) with values in
[0, 1], each returning float64 of the same shape as t (a scalar t gives a
0-d value):

* ``gamma(t)`` = γ(t);
* ``gamma_dot(t)`` = γ̇(t). It is infinite at the endpoints, and the check expects
  the exact values there: **γ̇(0) = +inf and γ̇(1) = −inf** (the limits of
  (1−2t)/(2√(t(1−t))) from inside). Do not clamp, and do not let NumPy print a
  divide-by-zero warning: compute inside ``with np.errstate(divide="ignore"):``;
* ``gamma_gamma_dot(t)`` = γγ̇(t) = (1−2t)/2, in this closed form, which is finite on all
  of [0, 1]. Computing ``gamma(t) * gamma_dot(t)`` instead gives 0 · inf = nan at
  the endpoints: that is why every si_ref formula uses γγ̇, never γ times γ̇.

Hints
-----
* ``t = np.asarray(t, dtype=np.float64)`` first; NumPy operations then work for
  both a scalar and an array.
* Near t = 1 write the factor as ``1.0 - t`` (it is exact for t ≥ ½).
* γγ̇ = ½ d(γ²)/dt and γ² = t − t², so no square root is needed.

Check
-----
::

    si-ref exercises check ex01_gamma_schedule.py     # in the folder made by si-ref exercises init

compares your functions with si_ref's ``BrownianGamma`` (quantities ``gamma``,
``gamma_dot`` and ``gamma_gamma_dot`` of ``si_ref.conformance``) at drawn times,
the endpoints included, to relative 1e-6; a failure shows the smallest failing
input and names the mistake when it recognises it (sign flip, γ² for γ, time
reversed, factor two, ...).

A reference solution is in ``si_ref/validation/exercises/solutions/ex01_gamma_schedule.py``.
Do not look at it before you have tried.
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (for your solution)

from si_ref import BrownianGamma, conformance
from si_ref.validation.exercises._common import module_or_self, print_reports

__all__ = ["gamma", "gamma_dot", "gamma_gamma_dot", "check", "main"]


# --- your code -------------------------------------------------------------------------------

def gamma(t):
    """γ(t) = √(t(1−t)); same shape as t, float64."""
    raise NotImplementedError("exercise 1: write gamma(t) = sqrt(t (1 - t))")


def gamma_dot(t):
    """γ̇(t) = (1−2t) / (2√(t(1−t))), with γ̇(0) = +inf and γ̇(1) = −inf exactly."""
    raise NotImplementedError("exercise 1: write gamma_dot(t) = (1 - 2t) / (2 sqrt(t (1 - t)))")


def gamma_gamma_dot(t):
    """γγ̇(t) = (1−2t)/2, finite on [0, 1]."""
    raise NotImplementedError("exercise 1: write gamma_gamma_dot(t) = (1 - 2t) / 2")


# --- the check -------------------------------------------------------------------------------

def check(module=None, *, max_examples: int = 100) -> list:
    """Check ``module.gamma``, ``.gamma_dot`` and ``.gamma_gamma_dot`` (default: this module's).

    Returns the three ``si_ref.conformance.Report`` objects.
    """
    module = module_or_self(module, __name__)
    reference = BrownianGamma()
    return [conformance.check(getattr(module, name), name, reference, max_examples=max_examples)
            for name in ("gamma", "gamma_dot", "gamma_gamma_dot")]


def main(module=None) -> int:
    """Print the reports; exit status 0 when all pass."""
    return print_reports(check(module))


if __name__ == "__main__":
    raise SystemExit(main())
