"""Solution of exercise 3: exact score and drift between N(M0, S0) and N(M1, S1), linear-Brownian."""

from __future__ import annotations

import sys

import numpy as np

from si_ref.validation.exercises import ex03_gaussian_fields as exercise
from si_ref.validation.exercises.ex03_gaussian_fields import M0, M1, S0, S1

__all__ = ["score", "drift"]


def _moments(t):
    """μ_t, μ̇_t (m, d), Σ_t and K_t (m, d, d) with m = 1 for a scalar t, else m = n (one per row)."""
    t = np.atleast_1d(np.asarray(t, dtype=np.float64))
    alpha, alpha_dot, beta, beta_dot = 1.0 - t, -1.0, t, 1.0
    gamma_squared = t * (1.0 - t)
    gamma_gamma_dot = 0.5 - t                            # ½ d(γ²)/dt, finite at t = 0 and 1
    eye = np.eye(M0.shape[0])

    def stack(c, matrix):                                # c(t) S for every time: (m, d, d)
        return np.asarray(c, dtype=np.float64)[..., None, None] * matrix

    mean = alpha[:, None] * M0 + beta[:, None] * M1                          # μ = α m0 + β m1
    mean_dot = np.broadcast_to(alpha_dot * M0 + beta_dot * M1, mean.shape)   # μ̇ = α̇ m0 + β̇ m1
    cov = stack(alpha**2, S0) + stack(beta**2, S1) + stack(gamma_squared, eye)                  # Σ
    k = stack(alpha * alpha_dot, S0) + stack(beta * beta_dot, S1) + stack(gamma_gamma_dot, eye)  # K
    return mean, mean_dot, cov, k


def _whitened(x, cov, mean):
    """w = Σ⁻¹ (x − μ), by a linear solve for each row (a stack of one Σ broadcasts over the rows)."""
    u = np.asarray(x, dtype=np.float64) - mean
    return np.linalg.solve(cov, u[:, :, None])[:, :, 0]


def score(x, t):
    """s = −Σ_t⁻¹ (x − μ_t)."""
    mean, _, cov, _ = _moments(t)
    return -_whitened(x, cov, mean)


def drift(x, t):
    """b = μ̇_t + K_t Σ_t⁻¹ (x − μ_t)."""
    mean, mean_dot, cov, k = _moments(t)
    w = _whitened(x, cov, mean)
    return mean_dot + (k @ w[:, :, None])[:, :, 0]          # matmul broadcasts one K over the rows


if __name__ == "__main__":
    raise SystemExit(exercise.main(sys.modules[__name__]))
