r"""Exercise 6: fit the drift by ridge regression, and check the fitted field.

The drift is a conditional expectation, b(x, t) = E[y | x_t = x] with
y = α̇ x0 + β̇ x1 + γ̇ z, so it minimises the square loss E|y − f(x_t)|² over all
functions f: regressing targets y on features of x_t estimates b. Here the
setting of exercise 3 (base N(M0, S0), target N(M1, S1), linear interpolant,
Brownian γ) at the single time t0 = ``T0`` = 0.25, where b(·, t0) is affine in x,
so the features Φ(x) = [1, x] (shape (n, d + 1)) can represent it exactly.

The targets used are the variance-reduced ȳ = E[y | x_t, x1] of
``si_ref.targets.conditional_target`` (exact for a Gaussian base; by the tower
property E[ȳ | x_t] = E[y | x_t] = b). (t0 = ½ would be a poor choice: there
γ̇ = 0, and b coincides with the velocity v.)

Task
----
Write ``ridge_fit(features, targets, penalty)`` returning the ridge-regression
weights

.. math::

    W = \arg\min_W \|Y - \Phi W\|_F^2 + \lambda \|W\|_F^2,
    \qquad\text{i.e.}\qquad (\Phi^\top\Phi + \lambda I)\, W = \Phi^\top Y,

(set the gradient −2Φᵀ(Y − ΦW) + 2λW to zero), with ``features`` Φ of shape
(n, m), ``targets`` Y of shape (n, k), ``penalty`` λ ≥ 0 a float; return W of
shape (m, k), float64. The fitted field is x ↦ Φ(x) W.

Hints
-----
* G = ΦᵀΦ + λI is symmetric positive definite (for λ > 0, or Φ of full column
  rank): solve with a Cholesky factorisation G = L Lᵀ
  (``scipy.linalg.cho_factor`` / ``cho_solve``), or with ``np.linalg.lstsq`` on
  the stacked system [Φ; √λ I] W = [Y; 0]. Never form G⁻¹.
* One solve handles all k columns of Y at once.

Check
-----
::

    si-ref exercises check ex06_ridge_fit.py     # in the folder made by si-ref exercises init

draws ``N_SAMPLES`` = 100,000 triples (x0, x1, z) with ``numpy.random.default_rng(SEED)``,
forms x_t and ȳ at t0, fits W = ridge_fit(Φ(x_t), ȳ, ``PENALTY`` = 1e-3), and checks
the field x ↦ Φ(x) W against si_ref's exact drift of the same case with the
conformance checker (quantity ``drift`` at times=[t0], points in the bulk of ρ_t0 only,
``fixed=False``: a fitted field is not meant to extrapolate to the far points:
μ + L u with |u_j| ≤ 3, Σ = L Lᵀ), to the absolute tolerance ``ATOL`` = 0.1 (rtol = 0).

Why 0.1: the residual ȳ − b(x_t) is Gaussian, independent of x_t, with covariance
R ≈ [[0.50, −0.01], [−0.01, 0.76]] (measured), so the least-squares field has
error of standard deviation ≈ √(R_jj (1 + |u|²) / n) at μ + L u: at most ≈ 0.012 in
the box |u_j| ≤ 3 for n = 10⁵. Measured max |Φ(x) W − b(x)| over that box: 0.011 with
seed 0; median 0.018 and worst 0.039 over seeds 0–99. The tolerance is 2.5× that
worst case and about 8 standard deviations, while the mistakes this check is for
(a missing or wrongly placed penalty of size ~n, a transpose, a dropped intercept)
err by O(1). The penalty's bias, ≈ λ/n relative, is below 10⁻⁷: the check tests the
solve, not the value of λ. The whole check takes well under a second.

A reference solution is in ``si_ref/validation/exercises/solutions/ex06_ridge_fit.py``.
Do not look at it before you have tried.
"""

from __future__ import annotations

import numpy as np

from si_ref import conformance
from si_ref.targets import conditional_target
from si_ref.validation.exercises._common import module_or_self, print_reports
from si_ref.validation.exercises.ex03_gaussian_fields import gaussian_case

__all__ = ["T0", "N_SAMPLES", "PENALTY", "SEED", "ATOL", "features", "training_data", "fitted_drift",
           "ridge_fit", "check", "main"]

#: The time of the fit and of the check.
T0 = 0.25
#: Training samples (the fitted field's error is ≈ 4/√N_SAMPLES at the edge of the checked box).
N_SAMPLES = 100_000
#: λ of the ridge penalty.
PENALTY = 1e-3
#: Seed of numpy.random.default_rng for the training samples.
SEED = 0
#: Absolute tolerance of the check (module docstring: why 0.1).
ATOL = 0.1


# --- your code -------------------------------------------------------------------------------

def ridge_fit(features, targets, penalty):
    """W solving (ΦᵀΦ + λ I) W = Φᵀ Y; features (n, m), targets (n, k) -> W (m, k)."""
    raise NotImplementedError("exercise 6: solve (Phi^T Phi + penalty I) W = Phi^T Y with a Cholesky factorisation")


# --- the setting (given) ---------------------------------------------------------------------

def features(x):
    """Φ(x) = [1, x]: shape (n, d + 1)."""
    x = np.asarray(x, dtype=np.float64)
    return np.column_stack([np.ones(x.shape[0]), x])


def training_data(n_samples: int = N_SAMPLES, seed: int = SEED):
    """Points x_t0 (n, d) and targets ȳ = E[α̇ x0 + β̇ x1 + γ̇ z | x_t0, x1] (n, d) of the case of exercise 3."""
    case = gaussian_case()
    interpolant = case.interpolant
    rng = np.random.default_rng(seed)
    x0 = case.base.sample(n_samples, rng)
    x1 = case.target.sample(n_samples, rng)
    z = rng.standard_normal(x0.shape)
    t = np.full(n_samples, T0)
    x = interpolant.interpolant(t, x0, x1, z)
    return x, conditional_target("drift", interpolant, case.base, t, x, x1)


def fitted_drift(ridge_fit_function, *, n_samples: int = N_SAMPLES, seed: int = SEED, penalty: float = PENALTY):
    """The field (x, t) ↦ Φ(x) W with W = ridge_fit_function(Φ(x_t0), ȳ, penalty), fitted at t0 = T0.

    The field ignores t: it is meant to be evaluated at t0 only. If the fit raises, the field
    raises a RuntimeError naming the error (so that the conformance report shows it).
    """
    x, y = training_data(n_samples, seed)
    try:
        weights = np.asarray(ridge_fit_function(features(x), y, penalty), dtype=np.float64)
    except Exception as exc:  # reported by the checker through the field
        message = f"ridge_fit(features, targets, penalty) raised {type(exc).__name__}: {exc}"

        def failed(x_, t_):
            raise RuntimeError(message)
        return failed

    def field(x_, t_):
        return features(x_) @ weights
    return field


# --- the check -------------------------------------------------------------------------------

def check(module=None, *, max_examples: int = 100) -> list:
    """Fit with ``module.ridge_fit`` (default: this module's) and check the fitted drift at T0.

    Returns one ``si_ref.conformance.Report`` in a list.
    """
    module = module_or_self(module, __name__)
    return [conformance.check(fitted_drift(module.ridge_fit), "drift", gaussian_case(), times=[T0],
                              rtol=0.0, atol=ATOL, max_examples=max_examples, fixed=False)]


def main(module=None) -> int:
    """Print the report; exit status 0 when it passes."""
    return print_reports(check(module))


if __name__ == "__main__":
    raise SystemExit(main())
