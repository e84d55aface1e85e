"""Solution of exercise 4: s = −η/γ and b = v − γγ̇ s as wrappers."""

from __future__ import annotations

import sys

import numpy as np

from si_ref.validation.exercises import ex04_wrappers as exercise

__all__ = ["ScoreFromNoise", "DriftFromVelocityScore"]


def _rows(values, t):
    """A coefficient of t shaped to multiply the rows of an (n, d) array: (n, 1) when t has shape (n,)."""
    values = np.asarray(values, dtype=np.float64)
    return values[:, None] if np.ndim(t) == 1 else values


class ScoreFromNoise:
    """s = −η / γ (η = −γ s, so γ > 0 is needed)."""

    def __init__(self, eta, gamma_schedule):
        self.eta = eta
        self.gamma_schedule = gamma_schedule

    def __call__(self, x, t):
        gamma = np.asarray(self.gamma_schedule.gamma(t), dtype=np.float64)
        if np.any(gamma <= 0.0):
            raise ValueError(f"ScoreFromNoise divides by gamma(t), which is 0 at t = {np.unique(np.asarray(t)[gamma <= 0]).tolist()}.")
        return -np.asarray(self.eta(x, t), dtype=np.float64) / _rows(gamma, t)


class DriftFromVelocityScore:
    """b = v + γ̇ η = v − γγ̇ s, with the schedule's closed-form γγ̇ (finite at t = 0 and 1)."""

    def __init__(self, velocity, score, gamma_schedule):
        self.velocity = velocity
        self.score = score
        self.gamma_schedule = gamma_schedule

    def __call__(self, x, t):
        gamma_gamma_dot = _rows(self.gamma_schedule.gamma_gamma_dot(t), t)
        return np.asarray(self.velocity(x, t), dtype=np.float64) - gamma_gamma_dot * self.score(x, t)


if __name__ == "__main__":
    raise SystemExit(exercise.main(sys.modules[__name__]))
