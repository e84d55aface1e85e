r"""Exercise 4: wrappers that convert one learned field into another.

A network is usually trained to predict one field; the others follow from exact
identities (si_ref's convention: s = ∇ log ρ_t, η = E[z | x_t = x], v = E[α̇ x0 + β̇ x1 | x_t = x],
b = E[α̇ x0 + β̇ x1 + γ̇ z | x_t = x]):

.. math::

    \eta = -\gamma s \quad\Longrightarrow\quad s = -\eta / \gamma \quad (\gamma > 0),

    b = v + \dot\gamma \eta = v - \gamma\dot\gamma\, s .

Published code has used ``v + γγ̇ s`` (wrong sign) and a noise predictor of the
other sign (−E[z | x]); both break the continuity equation ∂_t ρ + ∇·(b ρ) = 0.

Task
----
Write two classes, each a field once built (called as ``w(x, t)``, x of shape
(n, d), t a float or an ndarray of shape (n,) with row i at time t[i]; returning
float64 of shape (n, d)):

* ``ScoreFromNoise(eta, gamma_schedule)``: ``w(x, t) = −eta(x, t) / γ(t)``;
* ``DriftFromVelocityScore(velocity, score, gamma_schedule)``:
  ``w(x, t) = velocity(x, t) − γγ̇(t) score(x, t)``.

``eta``, ``velocity`` and ``score`` are fields ``f(x, t) -> (n, d)``;
``gamma_schedule`` is an object with methods ``gamma(t)``, ``gamma_dot(t)`` and
``gamma_gamma_dot(t)`` (si_ref's ``BrownianGamma()`` in the check), each returning
an array of the shape of t. ScoreFromNoise is checked at t in [0.001, 0.999]
(γ > 0); DriftFromVelocityScore on all of [0, 1], where only γγ̇ is finite for
the Brownian γ, so use ``gamma_gamma_dot``, not ``gamma(t) * gamma_dot(t)``.
(si_ref's own wrappers also accept an optional conditioning ``c``; not needed here.)

Hints
-----
* Store the arguments in ``__init__``; compute in ``__call__(self, x, t)``.
* A coefficient c(t) of shape (n,) multiplies the rows: ``c[:, None] * field_value``.

Check
-----
::

    si-ref exercises check ex04_wrappers.py     # in the folder made by si-ref exercises init

builds your classes the way si_ref's wrappers are built, with the exact noise,
velocity and score of the named two-sided case ``mixture-2d-linear-brownian``
(``si_ref.references``: a two-component Gaussian-mixture base, a four-component
target, linear interpolant, Brownian γ), and compares the outputs with the exact
score and drift (wrapper quantities ``ScoreFromNoise`` and ``DriftFromVelocityScore``);
a failure names the mistake when it recognises it (noise sign, division by γ
forgotten, v + γγ̇ s, coefficients at 1 − t, ...).

A reference solution is in ``si_ref/validation/exercises/solutions/ex04_wrappers.py``.
Do not look at it before you have tried.
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (for your solution)

from si_ref import conformance, references
from si_ref.validation.exercises._common import module_or_self, print_reports

__all__ = ["CASE", "ScoreFromNoise", "DriftFromVelocityScore", "check", "main"]

#: The named case of ``si_ref.references`` that supplies the exact input fields.
CASE = "mixture-2d-linear-brownian"


# --- your code -------------------------------------------------------------------------------

class ScoreFromNoise:
    """s = −η / γ, from a noise predictor η(x, t) = E[z | x_t = x]."""

    def __init__(self, eta, gamma_schedule):
        self.eta = eta
        self.gamma_schedule = gamma_schedule

    def __call__(self, x, t):
        raise NotImplementedError("exercise 4: return -eta(x, t) / gamma(t), gamma applied row by row")


class DriftFromVelocityScore:
    """b = v − γγ̇ s, from a velocity v(x, t) and a score s(x, t)."""

    def __init__(self, velocity, score, gamma_schedule):
        self.velocity = velocity
        self.score = score
        self.gamma_schedule = gamma_schedule

    def __call__(self, x, t):
        raise NotImplementedError("exercise 4: return velocity(x, t) - gamma_gamma_dot(t) score(x, t)")


# --- the check -------------------------------------------------------------------------------

def check(module=None, *, max_examples: int = 100) -> list:
    """Check ``module.ScoreFromNoise`` and ``module.DriftFromVelocityScore`` (default: this module's).

    Returns the two ``si_ref.conformance.Report`` objects.
    """
    module = module_or_self(module, __name__)
    reference = references.case(CASE)
    return [conformance.check(getattr(module, name), name, reference, max_examples=max_examples)
            for name in ("ScoreFromNoise", "DriftFromVelocityScore")]


def main(module=None) -> int:
    """Print the reports; exit status 0 when all pass."""
    return print_reports(check(module))


if __name__ == "__main__":
    raise SystemExit(main())
