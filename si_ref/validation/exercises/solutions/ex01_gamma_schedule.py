"""Solution of exercise 1: the Brownian gamma schedule γ(t) = √(t(1−t))."""

from __future__ import annotations

import sys

import numpy as np

from si_ref.validation.exercises import ex01_gamma_schedule as exercise

__all__ = ["gamma", "gamma_dot", "gamma_gamma_dot"]


def gamma(t):
    """γ(t) = √(t(1−t))."""
    t = np.asarray(t, dtype=np.float64)
    return np.sqrt(t * (1.0 - t))                     # 1 − t is exact for t ≥ ½


def gamma_dot(t):
    """γ̇(t) = (1−2t) / (2√(t(1−t))): +inf at t = 0, −inf at t = 1 (1/±0 in IEEE arithmetic)."""
    t = np.asarray(t, dtype=np.float64)
    with np.errstate(divide="ignore"):                # the infinities at the ends are the exact values
        return (1.0 - 2.0 * t) / (2.0 * np.sqrt(t * (1.0 - t)))


def gamma_gamma_dot(t):
    """γγ̇(t) = ½ d(t − t²)/dt = (1−2t)/2, finite everywhere (never γ times γ̇: 0 · inf at the ends)."""
    t = np.asarray(t, dtype=np.float64)
    return 0.5 - t


if __name__ == "__main__":
    raise SystemExit(exercise.main(sys.modules[__name__]))
