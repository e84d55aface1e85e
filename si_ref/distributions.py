r"""Endpoint distributions with exact densities and scores: Gaussian and Gaussian mixture.

Both are validated when built (consistent shapes, finite values, symmetric
positive-definite covariances through a Cholesky factorisation, mixture
weights positive and summing to 1 within ``WEIGHT_SUM_TOLERANCE``) and keep
read-only float64 copies of their parameters. Densities are evaluated
through Cholesky solves and log-sum-exp; no explicit inverse is formed.

Shapes: ``x`` has shape (n, d); ``log_prob`` returns (n,), ``score`` (n, d).

Range: points so far from every component that the squared Mahalanobis distance
overflows float64 (about 1e154 in units of the standard deviation) are refused
with a ``ValueError`` rather than given a log density of -inf, and so are scores
beyond the float64 range. ``sample(n, rng)`` refuses an n whose samples would not
fit in memory (the memory is named) instead of raising ``MemoryError``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import cho_solve, solve_triangular
from scipy.special import logsumexp, softmax

from ._checks import as_points, check_rng, enough_memory, finite_log_weights, squared_norm

__all__ = ["Gaussian", "GaussianMixture", "WEIGHT_SUM_TOLERANCE", "SYMMETRY_TOLERANCE"]

#: Mixture weights must sum to 1 within this absolute tolerance.
WEIGHT_SUM_TOLERANCE = 1e-10
#: Covariances must be symmetric within this tolerance relative to their largest entry.
SYMMETRY_TOLERANCE = 1e-12

LOG_2PI = math.log(2.0 * math.pi)


def _real_array(value, name: str, ndim: int, shape_text: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must be a real array of shape {shape_text}; received dtype {arr.dtype}. "
            f"Pass floats."
        )
    if arr.ndim != ndim:
        raise ValueError(f"{name} must have shape {shape_text}; received shape {arr.shape}.")
    out = arr.astype(np.float64, copy=True)
    if not np.isfinite(out).all():
        raise ValueError(f"{name} must contain only finite values; received NaN or inf.")
    return out


def _cholesky_factors(covs: np.ndarray, name: str) -> np.ndarray:
    """Lower Cholesky factors of a stack (k, d, d) of SPD matrices, with clear errors."""
    scale = np.max(np.abs(covs), axis=(-2, -1), keepdims=True)
    asym = np.max(np.abs(covs - np.swapaxes(covs, -1, -2)) / np.where(scale > 0, scale, 1.0), axis=(-2, -1))
    if (asym > SYMMETRY_TOLERANCE).any():
        k = int(np.argmax(asym))
        raise ValueError(
            f"{name} must be symmetric; matrix {k} has relative asymmetry {asym[k]:.3g} "
            f"(tolerance {SYMMETRY_TOLERANCE:g}). Symmetrise it, e.g. (S + S.T) / 2."
        )
    chol = np.empty_like(covs)
    for k in range(covs.shape[0]):  # loop over components only, to name the bad one
        try:
            chol[k] = np.linalg.cholesky(covs[k])
        except np.linalg.LinAlgError:
            eig = np.linalg.eigvalsh(covs[k])
            raise ValueError(
                f"{name} must be positive definite; matrix {k} has smallest eigenvalue "
                f"{eig[0]:.3g}. Pass a symmetric positive-definite covariance."
            ) from None
    chol.setflags(write=False)
    return chol


def _component_log_densities(x, means, chol):
    """log N(x; m_k, L_k L_kᵀ) for all k: shape (n, k).

    Solves L_k y = (x − m_k)ᵀ, batched over components:
    log N = −½|y|² − Σ log diag L_k − (d/2) log 2π.
    """
    d = x.shape[1]
    centred = x[None, :, :] - means[:, None, :]                      # (k, n, d)
    y = solve_triangular(chol, np.swapaxes(centred, 1, 2), lower=True)  # (k, d, n)
    half_log_det = np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)  # (k,)
    return (-0.5 * squared_norm(y, axis=1) - half_log_det[:, None] - 0.5 * d * LOG_2PI).T


def _component_scores(x, means, chol):
    """−Σ_k⁻¹ (x − m_k) for all k: shape (k, n, d), by Cholesky solves."""
    centred = x[None, :, :] - means[:, None, :]
    return -np.swapaxes(cho_solve((chol, True), np.swapaxes(centred, 1, 2)), 1, 2)


def _check_n(n) -> int:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n must be a non-negative integer; received {n!r} of type {type(n).__name__}.")
    if n < 0:
        raise ValueError(f"n must be a non-negative integer; received n={n}.")
    return int(n)


def _sample_memory(n, d):
    """Refuse a sample whose arrays (about 3 of n·d float64 numbers, and n labels) would not fit in memory."""
    return enough_memory(8 * n * (3 * d + 1), f"n={n} samples of dimension {d}", "draw them in smaller batches.")


def _finite_scores(score, x):
    """Refuse scores beyond the float64 range (−S⁻¹(x − m) for x near 1e308 or a tiny S)."""
    bad = ~np.isfinite(score).all(axis=1)
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(
            f"the score at x overflows float64: at row {row} (max |x| = {float(np.max(np.abs(x[row]))):.3g}) "
            f"|S^-1 (x - m)| exceeds 1.8e308. Rescale the problem."
        )
    return score


@dataclass(frozen=True, eq=False)
class Gaussian:
    r"""The Gaussian :math:`N(m, S)` in dimension d.

    .. math::

        \log\rho(x) = -\tfrac12 (x - m)^\top S^{-1} (x - m) - \tfrac12 \log\det(2\pi S), \qquad
        \nabla\log\rho(x) = -S^{-1}(x - m).

    Parameters
    ----------
    mean : array_like, shape (d,)
    cov : array_like, shape (d, d)
        Symmetric positive definite (checked by Cholesky).
    """

    mean: np.ndarray
    cov: np.ndarray
    chol: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        mean = _real_array(self.mean, "mean", 1, "(d,)")
        if mean.size == 0:
            raise ValueError("mean must have d >= 1 entries; received an empty array.")
        cov = _real_array(self.cov, "cov", 2, "(d, d)")
        if cov.shape != (mean.size, mean.size):
            raise ValueError(
                f"cov must have shape (d, d) = ({mean.size}, {mean.size}) to match mean; "
                f"received shape {cov.shape}."
            )
        chol = _cholesky_factors(cov[None], "cov")[0]
        for a in (mean, cov):
            a.setflags(write=False)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "cov", cov)
        object.__setattr__(self, "chol", chol)

    @property
    def dim(self) -> int:
        """The dimension d."""
        return self.mean.size

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw n points :math:`m + L z` with :math:`S = L L^\\top`; returns shape (n, d)."""
        n = _check_n(n)
        check_rng(rng)
        with _sample_memory(n, self.dim):
            return self.mean + rng.standard_normal((n, self.dim)) @ self.chol.T

    def log_prob(self, x) -> np.ndarray:
        """Log density at each row of ``x`` (n, d); returns shape (n,)."""
        x = as_points(x, "x", d=self.dim)
        return finite_log_weights(_component_log_densities(x, self.mean[None], self.chol[None]), x)[:, 0]

    def score(self, x) -> np.ndarray:
        r""":math:`\nabla\log\rho(x) = -S^{-1}(x - m)` at each row of ``x`` (n, d); returns (n, d)."""
        x = as_points(x, "x", d=self.dim)
        with np.errstate(over="ignore"):
            return _finite_scores(_component_scores(x, self.mean[None], self.chol[None])[0], x)


@dataclass(frozen=True, eq=False)
class GaussianMixture:
    r"""The mixture :math:`\sum_k \pi_k N(m_k, S_k)` with full covariances.

    .. math::

        \log\rho(x) = \operatorname{logsumexp}_k [\log\pi_k + \log N(x; m_k, S_k)], \qquad
        \nabla\log\rho(x) = \sum_k r_k(x) \, (-S_k^{-1}(x - m_k)),

    with responsibilities :math:`r_k = \operatorname{softmax}_k(\log\pi_k + \log N(x; m_k, S_k))`
    computed in log space, so the score stays finite and accurate far from every mode.

    Parameters
    ----------
    weights : array_like, shape (k,)
        Positive, summing to 1 within ``WEIGHT_SUM_TOLERANCE``; stored divided by
        their sum, so that the density integrates to 1 to rounding.
    means : array_like, shape (k, d)
    covs : array_like, shape (k, d, d)
        Each symmetric positive definite.
    """

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray
    chols: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        weights = _real_array(self.weights, "weights", 1, "(k,)")
        means = _real_array(self.means, "means", 2, "(k, d)")
        covs = _real_array(self.covs, "covs", 3, "(k, d, d)")
        k, d = means.shape
        if k == 0 or d == 0:
            raise ValueError(
                f"means must have shape (k, d) with k >= 1 components and d >= 1; received "
                f"shape {means.shape}."
            )
        if weights.size != k:
            raise ValueError(
                f"weights must have shape (k,) with k = {k} components as in means; "
                f"received shape {weights.shape}."
            )
        if covs.shape != (k, d, d):
            raise ValueError(
                f"covs must have shape (k, d, d) = ({k}, {d}, {d}) to match means; "
                f"received shape {covs.shape}."
            )
        if (weights <= 0).any():
            raise ValueError(
                f"weights must be positive; received {weights.tolist()}. Drop components "
                f"of zero weight."
            )
        total = float(weights.sum())
        if abs(total - 1.0) > WEIGHT_SUM_TOLERANCE:
            raise ValueError(
                f"weights must sum to 1 (within {WEIGHT_SUM_TOLERANCE:g}); received sum "
                f"{total!r}. Normalise them: weights / weights.sum()."
            )
        chols = _cholesky_factors(covs, "covs")
        weights = weights / total  # exact normalisation of weights already within 1e-10 of it
        for a in (weights, means, covs):
            a.setflags(write=False)
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "means", means)
        object.__setattr__(self, "covs", covs)
        object.__setattr__(self, "chols", chols)

    @property
    def dim(self) -> int:
        """The dimension d."""
        return self.means.shape[1]

    @property
    def n_components(self) -> int:
        """The number of components k."""
        return self.means.shape[0]

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw n points: a component index from the weights, then a Gaussian draw; shape (n, d)."""
        n = _check_n(n)
        check_rng(rng)
        with _sample_memory(n, self.dim):
            labels = rng.choice(self.n_components, size=n, p=self.weights)
            z = rng.standard_normal((n, self.dim))
            out = np.empty((n, self.dim))
            for k in range(self.n_components):      # per component: O(n d) memory, never (n, d, d)
                rows = labels == k
                out[rows] = self.means[k] + np.einsum("ij,nj->ni", self.chols[k], z[rows])
            return out

    def _log_joint(self, x):
        return finite_log_weights(np.log(self.weights) + _component_log_densities(x, self.means, self.chols), x)

    def log_prob(self, x) -> np.ndarray:
        """Log density at each row of ``x`` (n, d); returns shape (n,)."""
        x = as_points(x, "x", d=self.dim)
        return logsumexp(self._log_joint(x), axis=1)

    def responsibilities(self, x) -> np.ndarray:
        r"""Posterior component probabilities :math:`r_k(x)`; returns shape (n, k), rows summing to 1."""
        x = as_points(x, "x", d=self.dim)
        return softmax(self._log_joint(x), axis=1)

    def score(self, x) -> np.ndarray:
        r""":math:`\nabla\log\rho(x) = \sum_k r_k(x)\,(-S_k^{-1}(x - m_k))`; returns shape (n, d)."""
        x = as_points(x, "x", d=self.dim)
        r = softmax(self._log_joint(x), axis=1)                      # (n, k)
        with np.errstate(over="ignore", invalid="ignore"):
            return _finite_scores(np.einsum("nk,knd->nd", r, _component_scores(x, self.means, self.chols)), x)
