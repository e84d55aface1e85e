"""Solution of exercise 7: ε → v → x0 at any level, and one deterministic DDIM step."""

from __future__ import annotations

import sys

import numpy as np

from si_ref.validation.exercises import ex07_diffusion as exercise

__all__ = ["v_from_epsilon", "sample_from_v", "ddim_step"]


def _rows(level):
    """A level (float or shape (n,)) as a column that multiplies the rows of an (n, d) array."""
    return np.reshape(np.asarray(level, dtype=np.float64), (-1, 1))


def v_from_epsilon(prediction, x, a, sigma):
    """v̂ = ((a² + σ²) ε̂ − σ x)/a: x̂ = (x − σ ε̂)/a put into v̂ = a ε̂ − σ x̂."""
    a, sigma = _rows(a), _rows(sigma)
    if np.any(a == 0.0):
        raise ValueError("v_from_epsilon needs a > 0: at a = 0 the ε-prediction does not determine x̂.")
    return ((a**2 + sigma**2) * np.asarray(prediction, dtype=np.float64) - sigma * np.asarray(x, dtype=np.float64)) / a


def sample_from_v(prediction, x, a, sigma):
    """x̂ = (a x − σ v̂)/(a² + σ²), from x = a x̂ + σ ε̂ and v̂ = a ε̂ − σ x̂."""
    a, sigma = _rows(a), _rows(sigma)
    return (a * np.asarray(x, dtype=np.float64) - sigma * np.asarray(prediction, dtype=np.float64)) / (a**2 + sigma**2)


def ddim_step(eps, x, alpha_bar, alpha_bar_prev):
    """x_prev = √ᾱ_prev x̂ + √(1 − ᾱ_prev) ε̂ with x̂ = (x − √(1 − ᾱ) ε̂)/√ᾱ (Song et al. 2021, eq. (12), η = 0)."""
    ab, ab_prev = _rows(alpha_bar), _rows(alpha_bar_prev)
    if np.any(ab == 0.0):
        raise ValueError("ddim_step needs alpha_bar > 0: at pure noise x̂ is not determined by ε̂.")
    eps, x = np.asarray(eps, dtype=np.float64), np.asarray(x, dtype=np.float64)
    x0 = (x - np.sqrt(1.0 - ab) * eps) / np.sqrt(ab)
    return np.sqrt(ab_prev) * x0 + np.sqrt(1.0 - ab_prev) * eps


if __name__ == "__main__":
    raise SystemExit(exercise.main(sys.modules[__name__]))
