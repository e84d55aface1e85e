"""Solution of exercise 6: ridge regression by a Cholesky solve of the normal equations."""

from __future__ import annotations

import sys

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from si_ref.validation.exercises import ex06_ridge_fit as exercise

__all__ = ["ridge_fit"]


def ridge_fit(features, targets, penalty):
    """W = argmin |Y − ΦW|² + λ|W|²: the zero of the gradient, (ΦᵀΦ + λ I) W = Φᵀ Y."""
    phi = np.asarray(features, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64)
    gram = phi.T @ phi + penalty * np.eye(phi.shape[1])    # SPD for λ > 0 or Φ of full column rank
    return cho_solve(cho_factor(gram), phi.T @ y)          # G = L Lᵀ; two triangular solves, no inverse


if __name__ == "__main__":
    raise SystemExit(exercise.main(sys.modules[__name__]))
