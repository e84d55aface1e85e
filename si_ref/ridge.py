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
from scipy.cluster.vq import kmeans2
from scipy.linalg import cho_factor, cho_solve, eigh
from scipy.special import softmax

from ._checks import as_points, as_real_scalar, as_times, check_rng, time_column
from .distributions import Gaussian
from .interpolants import Interpolant

__all__ = ["RandomFourierFeatures", "PolynomialFeatures", "PosteriorFeatures", "RidgeField", "TimeSlicedRidge",
           "gcv_alpha", "kmeans_centres"]


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


def kmeans_centres(points, m: int, rng, *, iterations: int = 30) -> np.ndarray:
    """m centres of ``points`` (n, d) by k-means with k-means++ seeding (``scipy.cluster.vq.kmeans2``): (m, d)."""
    points = as_points(points, "points")
    check_rng(rng)
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or not 1 <= m <= points.shape[0]:
        raise ValueError(f"m must be an integer in [1, {points.shape[0]}] (the number of points); received m={m!r}.")
    if m == 1:
        return points.mean(axis=0, keepdims=True)
    centres, _ = kmeans2(points, int(m), iter=iterations, minit="++", seed=rng)
    return centres


class PosteriorFeatures:
    r"""Features of (x, t) that span the drift of a Gaussian-kernel target exactly, for a Gaussian base.

    If the target were the mixture :math:`rac1m\sum_j N(c_j, \ell^2 I)`, then with
    :math:`x_0 \sim N(m_0, S_0)` the point :math:`x_t` would be the mixture of
    :math:`N(lpha m_0 + eta c_j, \Sigma_t)`, :math:`\Sigma_t = lpha^2 S_0 + (\gamma^2 + eta^2\ell^2) I`,
    and every field (b, v, η, s, denoisers) would be :math:`\sum_j w_j(x, t)(a_j(t) + B_j(t)x)`
    with the posterior responsibilities

    .. math::

        w_j(x, t) = \operatorname{softmax}_jig(-	frac12 |x - lpha m_0 - eta c_j|^2_{\Sigma_t^{-1}}ig).

    The features are :math:`\phi(x, t) = ig(w_j(x, t)\,(1, x)ig)_{j \le m} \otimes
    ig(P_k(	au)ig)_{k \le q}`, with Legendre polynomials of
    :math:`	au = 2(t - t_0)/(t_1 - t_0) - 1` for the slow time dependence of the coefficients
    on ``t_range`` = (t0, t1): m (d + 1)(q + 1) features. Ridge regression on them fits the
    coefficients for the actual target; centres from k-means of target samples
    (:func:`kmeans_centres`) and ℓ about the spread of a centre's cell work well.

    Parameters
    ----------
    interpolant : Interpolant
    centres : array_like (m, d)
    width : float
        ℓ > 0.
    base : Gaussian or None
        The law of x0 (None: N(0, I)).
    time_degree : int
        q >= 0.
    t_range : (float, float)
        Interval the Legendre polynomials are scaled to.
    """

    def __init__(self, interpolant, centres, width, *, base=None, time_degree=2, t_range=(0.0, 1.0)):
        if not isinstance(interpolant, Interpolant):
            raise TypeError(f"interpolant must be an Interpolant; received {type(interpolant).__name__}.")
        self.centres = as_points(centres, "centres").copy()
        m, d = self.centres.shape
        if m == 0:
            raise ValueError("centres must contain at least one centre; received shape (0, d).")
        self.width = as_real_scalar(width, "width")
        if not self.width > 0:
            raise ValueError(f"width must be positive; received width={width!r}.")
        if base is None:
            base = Gaussian(np.zeros(d), np.eye(d))
        if not isinstance(base, Gaussian) or base.dim != d:
            raise TypeError(f"base must be a si_ref.Gaussian of dimension {d} (or None for N(0, I)); received {base!r}.")
        if isinstance(time_degree, bool) or not isinstance(time_degree, (int, np.integer)) or time_degree < 0:
            raise ValueError(f"time_degree must be a non-negative integer; received {time_degree!r}.")
        t0, t1 = (as_real_scalar(v, "t_range") for v in t_range)
        if not 0.0 <= t0 < t1 <= 1.0:
            raise ValueError(f"t_range must satisfy 0 <= t0 < t1 <= 1; received {t_range!r}.")
        self.interpolant, self.base, self.time_degree, self.t_range = interpolant, base, int(time_degree), (t0, t1)
        lam, self._U = np.linalg.eigh(base.cov)
        self._lam = lam[None, :]
        self._centres_rotated = self.centres @ self._U
        self._mean_rotated = base.mean @ self._U
        self.dim = d
        self.n_features = m * (d + 1) * (self.time_degree + 1)

    def responsibilities(self, x, t) -> np.ndarray:
        """:math:`w_j(x, t)`, shape (n, m); rows sum to 1."""
        x = as_points(x, "x", d=self.dim)
        t = _times_for(x, t)
        I = self.interpolant
        alpha, beta, gamma = I.alpha(t)[:, None], I.beta(t)[:, None], I.gamma(t)[:, None]
        inv_var = 1.0 / (alpha**2 * self._lam + gamma**2 + beta**2 * self.width**2)       # (n, d) diagonal
        shifted = x @ self._U - alpha * self._mean_rotated
        c = self._centres_rotated
        logits = beta * ((shifted * inv_var) @ c.T) - 0.5 * beta**2 * (inv_var @ (c**2).T)
        return softmax(logits, axis=1)

    def __call__(self, x, t) -> np.ndarray:
        """Features of shape (n, m (d + 1)(q + 1))."""
        x = as_points(x, "x", d=self.dim)
        t = _times_for(x, t)
        n = x.shape[0]
        weights = self.responsibilities(x, t)
        psi = (weights[:, :, None] * np.column_stack([np.ones(n), x])[:, None, :]).reshape(n, -1)
        t0, t1 = self.t_range
        legendre = np.polynomial.legendre.legvander(2.0 * (t - t0) / (t1 - t0) - 1.0, self.time_degree)
        return (psi[:, :, None] * legendre[:, None, :]).reshape(n, -1)


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
    chunk_size : int
        Rows of Φ formed at a time: ΦᵀΦ and ΦᵀY are accumulated over chunks.

    Attributes (after ``fit``)
    --------------------------
    coef_ : ndarray, shape (m, d)
    alpha_ : float
        The relative regularisation used.
    """

    def __init__(self, features, *, alpha=1e-8, alpha_grid=None, chunk_size=20_000):
        if not callable(features):
            raise TypeError(f"features must be a callable phi(x, t); received {features!r}.")
        if not (isinstance(alpha, str) and alpha == "gcv"):
            alpha = as_real_scalar(alpha, "alpha")
            if alpha <= 0:
                raise ValueError(f"alpha must be positive (or 'gcv'); received alpha={alpha!r}.")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer; received {chunk_size!r}.")
        self.features = features
        self.chunk_size = int(chunk_size)
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
        times = _times_for(x, t)
        if sample_weight is not None:
            w = np.asarray(sample_weight, dtype=np.float64)
            if w.shape != (x.shape[0],) or not np.isfinite(w).all() or (w < 0).any():
                raise ValueError(f"sample_weight must be finite, non-negative, of shape ({x.shape[0]},).")
        gram = rhs = None
        y_norm = 0.0
        for start in range(0, x.shape[0], self.chunk_size):     # Φ is never held whole
            rows = slice(start, start + self.chunk_size)
            phi = np.asarray(self.features(x[rows], times[rows]), dtype=np.float64)
            n_rows = phi.shape[0] if phi.ndim == 2 else -1
            if n_rows != x[rows].shape[0] or not np.isfinite(phi).all():
                raise ValueError(f"features must return finite values of shape (n, m) with n = {x[rows].shape[0]}; "
                                 f"received shape {phi.shape}.")
            target = y[rows]
            if sample_weight is not None:
                root = np.sqrt(w[rows])[:, None]
                phi, target = phi * root, target * root
            gram = phi.T @ phi if gram is None else gram + phi.T @ phi
            rhs = phi.T @ target if rhs is None else rhs + phi.T @ target
            y_norm += float(np.sum(target * target))
        scale = np.trace(gram) / gram.shape[0]
        if self.alpha == "gcv":
            self.alpha_, _ = gcv_alpha(gram, rhs, y_norm, x.shape[0], self.alpha_grid)
        else:
            self.alpha_ = self.alpha
        factor = cho_factor(gram + self.alpha_ * scale * np.eye(gram.shape[0]), lower=True)
        self.coef_ = cho_solve(factor, rhs)
        return self

    def predict(self, x, t) -> np.ndarray:
        """The fitted field at x (n, d), t scalar or (n,): shape (n, d)."""
        if self.coef_ is None:
            raise ValueError("this RidgeField is not fitted yet; call fit(x, t, y) first.")
        x = as_points(x, "x", d=self.coef_.shape[1])
        return np.asarray(self.features(x, t), dtype=np.float64) @ self.coef_

    def __call__(self, x, t, c=None) -> np.ndarray:
        """A field: ``f(x, t)`` (``c`` is accepted and ignored: the fit is unconditional)."""
        return self.predict(x, t)


class TimeSlicedRidge:
    r"""A field fitted by one :class:`RidgeField` per time slice :math:`[e_k, e_{k+1})` (the last one closed).

    Parameters
    ----------
    features_for_slice : callable
        ``features_for_slice(t0, t1)`` returns the feature map of the slice [t0, t1]
        (e.g. ``lambda t0, t1: PosteriorFeatures(..., t_range=(t0, t1))``).
    edges : array_like
        Increasing slice edges from 0 to 1.
    alpha, alpha_grid, chunk_size
        As in :class:`RidgeField`, for every slice.

    Attributes (after ``fit``)
    --------------------------
    slices_ : list of RidgeField
    """

    def __init__(self, features_for_slice, edges=np.linspace(0.0, 1.0, 11), *, alpha="gcv", alpha_grid=None,
                 chunk_size=20_000):
        if not callable(features_for_slice):
            raise TypeError(f"features_for_slice must be a callable (t0, t1) -> features; received {features_for_slice!r}.")
        edges = np.asarray(edges, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or edges[0] != 0.0 or edges[-1] != 1.0 or not (np.diff(edges) > 0).all():
            raise ValueError(f"edges must increase strictly from 0 to 1; received {edges.tolist()!r}.")
        self.features_for_slice, self.edges = features_for_slice, edges
        self.options = dict(alpha=alpha, alpha_grid=alpha_grid, chunk_size=chunk_size)
        self.slices_: list = []

    def slice_index(self, t) -> np.ndarray:
        """Index k of the slice of each time, shape (n,)."""
        return np.clip(np.searchsorted(self.edges, t, side="right") - 1, 0, self.edges.size - 2)

    def fit(self, x, t, y, *, sample_weight=None) -> "TimeSlicedRidge":
        """Fit each slice on the samples whose time falls in it; every slice needs samples."""
        x = as_points(x, "x")
        y = as_points(y, "y", d=x.shape[1])
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"y must have one row per point of x, {x.shape[0]}; received {y.shape[0]} rows.")
        t = _times_for(x, t)
        k = self.slice_index(t)
        self.slices_ = []
        for j, (t0, t1) in enumerate(zip(self.edges[:-1], self.edges[1:])):
            rows = k == j
            if not rows.any():
                raise ValueError(f"no samples with t in the slice [{t0:g}, {t1:g}); draw times covering [0, 1].")
            model = RidgeField(self.features_for_slice(float(t0), float(t1)), **self.options)
            weight = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)[rows]
            self.slices_.append(model.fit(x[rows], t[rows], y[rows], sample_weight=weight))
        return self

    def predict(self, x, t) -> np.ndarray:
        """The fitted field at x (n, d), t scalar or (n,): shape (n, d)."""
        if not self.slices_:
            raise ValueError("this TimeSlicedRidge is not fitted yet; call fit(x, t, y) first.")
        x = as_points(x, "x", d=self.slices_[0].coef_.shape[1])
        t = _times_for(x, t)
        k = self.slice_index(t)
        out = np.empty_like(x)
        for j in np.unique(k):
            rows = k == j
            out[rows] = self.slices_[j].predict(x[rows], t[rows])
        return out

    def __call__(self, x, t, c=None) -> np.ndarray:
        """A field: ``f(x, t)`` (``c`` is ignored)."""
        return self.predict(x, t)
