r"""Exercise 3: the exact score and drift between two Gaussians.

Base x0 ~ N(m0, S0) at t = 0 and target x1 ~ N(m1, S1) at t = 1, independent,
joined by the linear interpolant with the Brownian gamma (exercise 2):
x_t = α x0 + β x1 + γ z with α = 1 − t, β = t, γ = √(t(1−t)), z ~ N(0, I).
Then x_t is Gaussian, x_t ~ N(μ_t, Σ_t), with

.. math::

    \mu_t = \alpha m_0 + \beta m_1, \qquad
    \Sigma_t = \alpha^2 S_0 + \beta^2 S_1 + \gamma^2 I,

and since (x_t, ẋ_t) with ẋ_t = α̇ x0 + β̇ x1 + γ̇ z is jointly Gaussian, every
conditional expectation given x_t = x is affine in x (Gaussian conditioning):

.. math::

    s(x, t) = \nabla \log\rho_t(x) = -\Sigma_t^{-1}(x - \mu_t),

    b(x, t) = E[\dot\alpha x_0 + \dot\beta x_1 + \dot\gamma z \mid x_t = x]
            = \dot\mu_t + K_t \Sigma_t^{-1}(x - \mu_t),

    \dot\mu_t = \dot\alpha m_0 + \dot\beta m_1, \qquad
    K_t = \operatorname{Cov}(\dot x_t, x_t) = \alpha\dot\alpha S_0 + \beta\dot\beta S_1 + \gamma\dot\gamma I,

with α̇ = −1, β̇ = 1 and γγ̇ = (1 − 2t)/2. Note the product γγ̇ in K: it is finite at
t = 0 and 1 although γ̇ is not, so b is defined on all of [0, 1].

Task
----
Write ``score(x, t)`` = s and ``drift(x, t)`` = b for the fixed parameters
``M0, S0, M1, S1`` of this module (do not change them: the check builds its
reference from them).

* x: ndarray of shape (n, d) (here d = 2); return float64 of shape (n, d).
* t: a float in [0, 1], or an ndarray of shape (n,) with row i at time t[i]
  (then Σ_t, K_t and μ_t differ from row to row).
* Both are checked on the closed interval [0, 1], endpoints included.

Hints
-----
* Solve Σ_t w = x − μ_t (``np.linalg.solve``, or a Cholesky factorisation);
  never form Σ_t⁻¹. ``np.linalg.solve`` accepts a stack of matrices (n, d, d)
  and right-hand sides (n, d, 1).
* For t of shape (n,), build the stacks with ``coefficient[:, None, None] * S0``.
* Use γγ̇ = (1 − 2t)/2 and γ² = t(1 − t) directly, never γ times γ̇.
* Check yourself in one dimension with S0 = S1 = 1, m0 = m1 = 0: at t = ½,
  Σ = ½ + ¼ = ¾ and K = 0, so s = −4x/3 and b = 0.

Check
-----
::

    si-ref exercises check ex03_gaussian_fields.py     # in the folder made by si-ref exercises init

compares ``score`` and ``drift`` with si_ref's ``GaussianCase`` built from the
same parameters (field quantities ``score`` and ``drift``) at drawn times and
points in the bulk of ρ_t; a failure names the mistake when it recognises it
(for the drift: v + γγ̇ s instead of v − γγ̇ s, v given for b, time reversed, ...).

A reference solution is in ``si_ref/validation/exercises/solutions/ex03_gaussian_fields.py``.
Do not look at it before you have tried.
"""

from __future__ import annotations

import numpy as np

from si_ref import BrownianGamma, Gaussian, GaussianCase, LinearInterpolant, conformance
from si_ref.validation.exercises._common import module_or_self, print_reports

__all__ = ["M0", "S0", "M1", "S1", "gaussian_case", "score", "drift", "check", "main"]

#: Base N(M0, S0) at t = 0.
M0 = np.array([-1.0, 0.5])
S0 = np.array([[1.0, 0.3],
               [0.3, 0.5]])
#: Target N(M1, S1) at t = 1.
M1 = np.array([2.0, 1.0])
S1 = np.array([[0.4, -0.1],
               [-0.1, 0.8]])


def gaussian_case() -> GaussianCase:
    """si_ref's exact fields for these parameters (the reference of the check; exercise 6 uses it too)."""
    return GaussianCase(LinearInterpolant(BrownianGamma()), Gaussian(M0, S0), Gaussian(M1, S1))


# --- your code -------------------------------------------------------------------------------

def score(x, t):
    """s(x, t) = −Σ_t⁻¹ (x − μ_t); shape (n, d)."""
    raise NotImplementedError("exercise 3: write score(x, t) = -Sigma_t^{-1} (x - mu_t)")


def drift(x, t):
    """b(x, t) = μ̇_t + K_t Σ_t⁻¹ (x − μ_t); shape (n, d)."""
    raise NotImplementedError("exercise 3: write drift(x, t) = mu_dot_t + K_t Sigma_t^{-1} (x - mu_t)")


# --- the check -------------------------------------------------------------------------------

def check(module=None, *, max_examples: int = 100) -> list:
    """Check ``module.score`` and ``module.drift`` (default: this module's) against :func:`gaussian_case`.

    Returns the two ``si_ref.conformance.Report`` objects.
    """
    module = module_or_self(module, __name__)
    reference = gaussian_case()
    return [conformance.check(getattr(module, name), name, reference, max_examples=max_examples)
            for name in ("score", "drift")]


def main(module=None) -> int:
    """Print the reports; exit status 0 when all pass."""
    return print_reports(check(module))


if __name__ == "__main__":
    raise SystemExit(main())
