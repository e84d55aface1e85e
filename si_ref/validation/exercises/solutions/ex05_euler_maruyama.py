"""Solution of exercise 5: one Euler–Maruyama step of dX = b_F dt + √(2ε) dW."""

from __future__ import annotations

import sys

import numpy as np

from si_ref.validation.exercises import ex05_euler_maruyama as exercise

__all__ = ["euler_maruyama_step"]


def euler_maruyama_step(field, x, t, dt, eps, xi):
    """X_{t+dt} = x + b_F(x, t) dt + √(2 ε dt) ξ: the increment W_{t+dt} − W_t is √dt ξ."""
    x = np.asarray(x, dtype=np.float64)
    return x + np.asarray(field(x, t), dtype=np.float64) * dt + np.sqrt(2.0 * eps * dt) * np.asarray(xi, dtype=np.float64)


if __name__ == "__main__":
    raise SystemExit(exercise.main(sys.modules[__name__]))
