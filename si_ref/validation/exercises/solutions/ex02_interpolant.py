"""Solution of exercise 2: x_t = (1 − t) x0 + t x1 + √(t(1−t)) z and d x_t/dt."""

from __future__ import annotations

import sys

import numpy as np

from si_ref.validation.exercises import ex02_interpolant as exercise

__all__ = ["interpolant", "interpolant_dot"]


def _rows(values, t):
    """A coefficient of t shaped to multiply the rows of an (n, d) array: (n, 1) when t has shape (n,)."""
    return values[:, None] if t.ndim == 1 else values


def interpolant(t, x0, x1, z):
    """x_t = α x0 + β x1 + γ z with α = 1 − t, β = t, γ = √(t(1−t))."""
    t = np.asarray(t, dtype=np.float64)
    alpha, beta, gamma = 1.0 - t, t, np.sqrt(t * (1.0 - t))
    return _rows(alpha, t) * x0 + _rows(beta, t) * x1 + _rows(gamma, t) * z


def interpolant_dot(t, x0, x1, z):
    """d x_t/dt = α̇ x0 + β̇ x1 + γ̇ z with α̇ = −1, β̇ = 1, γ̇ = (1−2t)/(2√(t(1−t))); t in (0, 1)."""
    t = np.asarray(t, dtype=np.float64)
    ends = (t <= 0.0) | (t >= 1.0)
    if np.any(ends):
        raise ValueError(f"interpolant_dot needs t in (0, 1), where gamma_dot is finite; received "
                         f"t = {np.unique(t[ends]).tolist()}.")
    gamma_dot = (1.0 - 2.0 * t) / (2.0 * np.sqrt(t * (1.0 - t)))
    return -np.asarray(x0, dtype=np.float64) + x1 + _rows(gamma_dot, t) * z


if __name__ == "__main__":
    raise SystemExit(exercise.main(sys.modules[__name__]))
