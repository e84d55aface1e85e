r"""Ridge regression of a field on features of (x, t), solved in closed form.

Given samples :math:`(x_i, t_i, y_i)` and a feature map :math:`\phi(x, t) \in \mathbb{R}^m`,
the fitted field is :math:`\hat f(x, t) = W^\top \phi(x, t)` with

.. math::

    W = \arg\min_W \sum_i w_i |y_i - W^\top\phi_i|^2 + \lambda |W|_F^2
      = (\Phi^\top D \Phi + \lambda I)^{-1} \Phi^\top D Y,

solved by a Cholesky factorisation (``scipy.linalg.cho_factor``); D holds
optional sample weights. Since :math:`E[y \mid x_t]` minimises the square loss,
regressing the targets of :mod:`si_ref.losses` (e.g. :math:`\partial_t I + \dot\gamma z`)
fits the field (b, v, η, s, ...). Antithetic pairs are simply two samples.

Regularisation: ``alpha`` is relative, :math:`\lambda = \alpha \cdot \operatorname{tr}(\Phi^\top D\Phi)/m`
(the mean eigenvalue of the Gram matrix, so ``alpha`` does not depend on the
scale or number of samples); ``alpha="gcv"`` chooses it on a logarithmic grid
by generalised cross-validation, computed exactly from one eigendecomposition
of the Gram matrix.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, cho_solve, eigh

from ._checks import as_points, as_real_scalar, as_times, check_rng, time_column

__all__ = ["RandomFourierFeatures", "PolynomialFeatures", "RidgeField", "gcv_alpha"]


def _times_for(x, t):
    """Validated times as one value per row of x: shape (n,)."""
    return np.broadcast_to(time_column(as_times(t), x.shape[0]), (x.shape[0], 1))[:, 0].copy()


class RandomFourierFeatures:
    r"""Random Fourier features of u = (x, t): :math:`\phi(u) = \sqrt{2/m}\,\cos(\Omega u + \beta)`.

    :math:`\Omega_{ij} \sim N(0, 1/\ell_j^2)`, :math:`\beta_i \sim U[0, 2\pi)`, so that
    :math:`\phi(u)\cdot\phi(u')` approximates the Gaussian kernel with length scales
    ``length_scale`` for x and ``time_length_scale`` for t (Rahimi & Recht, 2007).
    A constant feature is appended.

    Parameters
    ----------
    dim : int
        d, the dimension of x.
    n_features : int
        m, the number of cosines.
    length_scale, time_length_scale : float
    rng : numpy.random.Generator
    """

    def __init__(self, dim, n_features, *, length_scale=1.0, time_length_scale=0.3, rng):
        check_rng(rng)
        for name, value in (("dim", dim), ("n_features", n_features)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer; received {value!r}.")
        scales = [as_real_scalar(length_scale, "length_scale")] * dim + [as_real_scalar(time_length_scale, "time_length_scale")]
        if min(scales) <= 0:
            raise ValueError(f"length scales must be positive; received length_scale={length_scale!r}, "
                             f"time_length_scale={time_length_scale!r}.")
        self.dim = int(dim)
        self.frequencies = rng.standard_normal((dim + 1, n_features)) / np.array(scales)[:, None]
        self.phases = rng.uniform(0.0, 2.0 * np.pi, n_features)
        self.n_features = int(n_features) + 1

    def __call__(self, x, t) -> np.ndarray:
        """Features of shape (n, m + 1)."""
        x = as_points(x, "x", d=self.dim)
        u = np.column_stack([x, _times_for(x, t)])
        out = np.empty((x.shape[0], self.n_features))
        np.cos(u @ self.frequencies + self.phases, out=out[:, :-1])
        out[:, :-1] *= np.sqrt(2.0 / (self.n_features - 1))
        out[:, -1] = 1.0
        return out


class PolynomialFeatures:
    r"""Monomials of x up to total degree p times Legendre polynomials :math:`P_k(2t - 1)`, k <= q.

    :math:`\phi(x, t) = \{x^\kappa P_k(2t-1) : |\kappa| \le p, k \le q\}`; a field
    polynomial in x and t of these degrees lies exactly in their span.
    """

    def __init__(self, dim, *, degree=3, time_degree=4):
        for name, value, low in (("dim", dim, 1), ("degree", degree, 0), ("time_degree", time_degree, 0)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}; received {value!r}.")
        self.dim, self.degree, self.time_degree = int(dim), int(degree), int(time_degree)
        exponents = [()]
        for _ in range(dim):  # all multi-indices κ with |κ| <= p
            exponents = [e + (k,) for e in exponents for k in range(degree + 1)]
        self.exponents = np.array([e for e in exponents if sum(e) <= degree], dtype=int)
        self.n_features = len(self.exponents) * (time_degree + 1)

    def __call__(self, x, t) -> np.ndarray:
        """Features of shape (n, n_monomials * (time_degree + 1))."""
        x = as_points(x, "x", d=self.dim)
        s = 2.0 * _times_for(x, t) - 1.0
        monomials = np.prod(x[:, None, :] ** self.exponents[None, :, :], axis=2)        # (n, M)
        legendre = np.polynomial.legendre.legvander(s, self.time_degree)                  # (n, q + 1)
        return (monomials[:, :, None] * legendre[:, None, :]).reshape(x.shape[0], -1)


def gcv_alpha(gram, rhs, y_norm, n, alpha_grid):
    r"""The relative α of the grid minimising GCV(λ) = n |Y − ΦW_λ|² / (n − tr H_λ)², and that score.

    From the Gram matrix :math:`\Phi^\top\Phi = V \operatorname{diag}(e) V^\top`, :math:`\Phi^\top Y`
    (``rhs``) and :math:`|Y|^2` (``y_norm``) alone, with :math:`\lambda = \alpha\,\operatorname{tr}(\Phi^\top\Phi)/m`
    and :math:`p = V^\top\Phi^\top Y`:
    :math:`|Y - \Phi W_\lambda|^2 = |Y|^2 - \sum p^2 (e + 2\lambda)/(e + \lambda)^2`,
    :math:`\operatorname{tr} H_\lambda = \sum e/(e + \lambda)`.

    Returns
    -------
    (alpha, score)

    Raises
    ------
    ValueError
        When every candidate has tr H >= n (more effective parameters than samples).
    """
    scale = np.trace(gram) / gram.shape[0]
    e, V = eigh(gram)
    e = np.maximum(e, 0.0)                     # rounding can leave tiny negative eigenvalues
    projected = V.T @ rhs                      # (m, d)
    best, best_score = None, np.inf
    for alpha in alpha_grid:
        lam = alpha * scale
        residual = max(y_norm - float(np.sum(projected**2 * ((e + 2.0 * lam) / (e + lam) ** 2)[:, None])), 0.0)
        dof = float(np.sum(e / (e + lam)))
        if dof >= n:
            continue
        score = n * residual / (n - dof) ** 2
        if score < best_score:
            best, best_score = float(alpha), score
    if best is None:
        raise ValueError("gcv found no admissible alpha (more features than samples at every candidate); pass alpha.")
    return best, best_score


class RidgeField:
    r"""A field :math:`\hat f(x, t) = W^\top\phi(x, t)` fitted by ridge regression (scikit-learn style).

    Parameters
    ----------
    features : callable
        :math:`\phi(x, t)`, (n, d) and t to (n, m), e.g. :class:`RandomFourierFeatures`.
    alpha : float or "gcv"
        Relative regularisation (see the module docstring), > 0; or "gcv".
    alpha_grid : array_like
        Candidates for "gcv" (default 1e-12 ... 1e-1).

    Attributes (after ``fit``)
    --------------------------
    coef_ : ndarray, shape (m, d)
    alpha_ : float
        The relative regularisation used.
    """

    def __init__(self, features, *, alpha=1e-8, alpha_grid=None):
        if not callable(features):
            raise TypeError(f"features must be a callable phi(x, t); received {features!r}.")
        if not (isinstance(alpha, str) and alpha == "gcv"):
            alpha = as_real_scalar(alpha, "alpha")
            if alpha <= 0:
                raise ValueError(f"alpha must be positive (or 'gcv'); received alpha={alpha!r}.")
        self.features = features
        self.alpha = alpha
        self.alpha_grid = np.logspace(-12, -1, 23) if alpha_grid is None else np.asarray(alpha_grid, dtype=float)
        self.coef_ = None
        self.alpha_ = None

    def fit(self, x, t, y, *, sample_weight=None) -> "RidgeField":
        """Fit to samples x (n, d), t scalar or (n,), targets y (n, d); returns self."""
        x = as_points(x, "x")
        y = as_points(y, "y", d=x.shape[1])
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"y must have one row per point of x, {x.shape[0]}; received {y.shape[0]} rows.")
        if x.shape[0] == 0:
            raise ValueError("x must contain at least one sample; received n = 0.")
        phi = np.asarray(self.features(x, t), dtype=np.float64)
        if phi.ndim != 2 or phi.shape[0] != x.shape[0] or not np.isfinite(phi).all():
            raise ValueError(f"features must return finite values of shape (n, m) with n = {x.shape[0]}; received shape {phi.shape}.")
        if sample_weight is not None:
            w = np.asarray(sample_weight, dtype=np.float64)
            if w.shape != (x.shape[0],) or not np.isfinite(w).all() or (w < 0).any():
                raise ValueError(f"sample_weight must be finite, non-negative, of shape ({x.shape[0]},).")
            root = np.sqrt(w)[:, None]
            phi, y = phi * root, y * root
        gram = phi.T @ phi
        rhs = phi.T @ y
        scale = np.trace(gram) / gram.shape[0]
        if self.alpha == "gcv":
            self.alpha_ = self._gcv(phi, y, gram, rhs, scale)
        else:
            self.alpha_ = self.alpha
        factor = cho_factor(gram + self.alpha_ * scale * np.eye(gram.shape[0]), lower=True)
        self.coef_ = cho_solve(factor, rhs)
        return self

    def _gcv(self, phi, y, gram, rhs, scale):
        best, _ = gcv_alpha(gram, rhs, float(np.sum(y * y)), phi.shape[0], self.alpha_grid)
        return best

    def predict(self, x, t) -> np.ndarray:
        """The fitted field at x (n, d), t scalar or (n,): shape (n, d)."""
        if self.coef_ is None:
            raise ValueError("this RidgeField is not fitted yet; call fit(x, t, y) first.")
        x = as_points(x, "x", d=self.coef_.shape[1])
        return np.asarray(self.features(x, t), dtype=np.float64) @ self.coef_

    def __call__(self, x, t, c=None) -> np.ndarray:
        """A field: ``f(x, t)`` (``c`` is accepted and ignored: the fit is unconditional)."""
        return self.predict(x, t)
