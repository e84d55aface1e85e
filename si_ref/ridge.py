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
from scipy.linalg import cho_factor, cho_solve, eigh, solve_triangular
from scipy.special import logsumexp, softmax

from ._checks import as_points, as_real_scalar, as_times, check_rng, sample_weights, time_column
from .distributions import Gaussian, GaussianMixture
from .interpolants import Interpolant
from .progress import task
from .threads import with_blas_threads

__all__ = ["RandomFourierFeatures", "PolynomialFeatures", "PosteriorFeatures", "MixturePosteriorFeatures",
           "RidgeField", "TimeSlicedRidge", "gcv_alpha", "kmeans_centres", "fit_gaussian_mixture",
           "select_gaussian_mixture", "mixture_bic"]


def _finite_features(phi, x):
    """``phi`` unchanged if finite, else a ValueError naming x (points too large for float64 features)."""
    if not np.isfinite(phi).all():
        row = int(np.argwhere(~np.isfinite(phi))[0, 0])
        raise ValueError(
            f"x is too large for the features in float64: at row {row} (max |x| = {float(np.max(np.abs(x[row]))):.3g}) "
            f"a feature is NaN or inf. Rescale the problem so that |x| stays below about 1e100."
        )
    return phi


def _posterior_features(weights, x, t, t_range, time_degree):
    r"""Responsibilities times (1, x) times Legendre polynomials in t on ``t_range``: shape (n, m (d + 1)(q + 1)).

    .. math:: \phi_{k, j, l}(x, t) = r_k(x, t)\,(1, x)_j\,P_l\big(2 (t - t_0)/(t_1 - t_0) - 1\big)
    """
    n = x.shape[0]
    t0, t1 = t_range
    legendre = np.polynomial.legendre.legvander(2.0 * (t - t0) / (t1 - t0) - 1.0, time_degree)
    with np.errstate(over="ignore", invalid="ignore"):   # non-finite features are refused just below
        psi = (weights[:, :, None] * np.column_stack([np.ones(n), x])[:, None, :]).reshape(n, -1)
        phi = (psi[:, :, None] * legendre[:, None, :]).reshape(n, -1)
    return _finite_features(phi, x)


def _times_for(x, t):
    """Validated times as one value per row of x: shape (n,)."""
    return np.broadcast_to(time_column(as_times(t), x.shape[0]), (x.shape[0], 1))[:, 0].copy()


class RandomFourierFeatures:
    r"""Random Fourier features of u = (x, t): :math:`\phi(u) = \sqrt{2/m}\,\cos(\Omega u + \beta)`.

    :math:`\Omega_{ij} \sim N(0, 1/\ell_j^2)`, :math:`\beta_i \sim U[0, 2\pi)`, so that
    :math:`\phi(u)\cdot\phi(u')` approximates the Gaussian kernel with length scales
    ``length_scale`` for x and ``time_length_scale`` for t (Rahimi & Recht, 2007).
    A constant feature is appended. The features are bounded, :math:`|\phi_i| \le \sqrt{2/m}`,
    for every finite u (a NaN/inf from an overflowing :math:`\Omega u` raises a ValueError
    naming x); beyond :math:`|\Omega u| \approx 10^{15}` the phase carries no precision.

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
        with np.errstate(over="ignore", invalid="ignore"):
            np.cos(u @ self.frequencies + self.phases, out=out[:, :-1])
        out[:, :-1] *= np.sqrt(2.0 / (self.n_features - 1))
        out[:, -1] = 1.0
        return _finite_features(out, x)


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
        legendre = np.polynomial.legendre.legvander(s, self.time_degree)                  # (n, q + 1)
        with np.errstate(over="ignore", invalid="ignore"):   # non-finite features are refused just below
            monomials = np.prod(x[:, None, :] ** self.exponents[None, :, :], axis=2)    # (n, M)
            phi = (monomials[:, :, None] * legendre[:, None, :]).reshape(x.shape[0], -1)
        return _finite_features(phi, x)


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

    If the target were the mixture :math:`\frac1m\sum_j N(c_j, \ell^2 I)`, then with
    :math:`x_0 \sim N(m_0, S_0)` the point :math:`x_t` would be the mixture of
    :math:`N(\alpha m_0 + \beta c_j, \Sigma_t)`, :math:`\Sigma_t = \alpha^2 S_0 + (\gamma^2 + \beta^2\ell^2) I`,
    and every field (b, v, η, s, denoisers) would be :math:`\sum_j w_j(x, t)(a_j(t) + B_j(t)x)`
    with the posterior responsibilities

    .. math::

        w_j(x, t) = \operatorname{softmax}_j\big(-\tfrac12 |x - \alpha m_0 - \beta c_j|^2_{\Sigma_t^{-1}}\big).

    The features are :math:`\phi(x, t) = \big(w_j(x, t)\,(1, x)\big)_{j \le m} \otimes
    \big(P_k(\tau)\big)_{k \le q}`, with Legendre polynomials of
    :math:`\tau = 2(t - t_0)/(t_1 - t_0) - 1` for the slow time dependence of the coefficients
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
        with np.errstate(over="ignore", invalid="ignore"):
            logits = beta * ((shifted * inv_var) @ c.T) - 0.5 * beta**2 * (inv_var @ (c**2).T)
            return softmax(logits, axis=1)

    def __call__(self, x, t) -> np.ndarray:
        """Features of shape (n, m (d + 1)(q + 1))."""
        x = as_points(x, "x", d=self.dim)
        t = _times_for(x, t)
        return _posterior_features(self.responsibilities(x, t), x, t, self.t_range, self.time_degree)


# --- Gaussian mixtures fitted to samples, and the posterior features they give --------------------

def _batched_cholesky(A: np.ndarray, name: str) -> np.ndarray:
    r"""Lower Cholesky factors of SPD matrices A (..., d, d), vectorised over the leading axes.

    The textbook column recursion :math:`L_{jj} = \sqrt{A_{jj} - \sum_{k<j} L_{jk}^2}`,
    :math:`L_{ij} = (A_{ij} - \sum_{k<j} L_{ik}L_{jk}) / L_{jj}` (i > j), one vectorised
    operation per entry: for the small d of si_ref this is far faster than one LAPACK call
    per matrix. Raises a ValueError naming ``name`` if a pivot is not positive.
    """
    d = A.shape[-1]
    L = np.zeros_like(A)
    for j in range(d):
        pivot = A[..., j, j] - np.sum(L[..., j, :j] ** 2, axis=-1)
        if not (pivot > 0).all():
            raise ValueError(f"{name} must be symmetric positive definite; a Cholesky pivot is {float(np.min(pivot))!r}.")
        L[..., j, j] = np.sqrt(pivot)
        for i in range(j + 1, d):
            L[..., i, j] = (A[..., i, j] - np.sum(L[..., i, :j] * L[..., j, :j], axis=-1)) / L[..., j, j]
    return L


def _batched_forward_solve(L: np.ndarray, b: np.ndarray) -> np.ndarray:
    r"""Solve :math:`L y = b` by forward substitution for lower-triangular L (..., d, d), b (..., d)."""
    y = np.empty(np.broadcast_shapes(L.shape[:-1], b.shape))
    for i in range(L.shape[-1]):
        y[..., i] = (b[..., i] - np.sum(L[..., i, :i] * y[..., :i], axis=-1)) / L[..., i, i]
    return y


def _gaussian_log_densities(x: np.ndarray, means: np.ndarray, chols: np.ndarray) -> np.ndarray:
    r""":math:`\log N(x_n; m_k, L_k L_k^\top)` for x (n, d), means (k, d), chols (k, d, d): shape (n, k)."""
    d = x.shape[1]
    out = np.empty((x.shape[0], means.shape[0]))
    for k, (m, L) in enumerate(zip(means, chols)):
        u = solve_triangular(L, (x - m).T, lower=True)                     # (d, n), L⁻¹(x − m)
        out[:, k] = -0.5 * np.sum(u * u, axis=0) - np.sum(np.log(np.diag(L))) - 0.5 * d * np.log(2.0 * np.pi)
    return out


def _positive_count(value, name, example, *, upper=None):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= 1; received {value!r} of type {type(value).__name__}. "
                        f"Pass e.g. {name}={example}.")
    if value < 1 or (upper is not None and value > upper):
        bound = f" and <= {upper}" if upper is not None else ""
        raise ValueError(f"{name} must be an integer >= 1{bound}; received {name}={value!r}. Pass e.g. {name}={example}.")
    return int(value)


def fit_gaussian_mixture(points, n_components, rng, *, n_init=3, max_iterations=200, tolerance=1e-5,
                         covariance_floor=1e-6, start=None) -> GaussianMixture:
    r"""Maximum-likelihood Gaussian mixture with full covariances, fitted to ``points`` by EM.

    Expectation-maximisation (Dempster, Laird & Rubin, 1977): with responsibilities
    :math:`r_{ik} = \pi_k N(x_i; m_k, S_k) / \sum_l \pi_l N(x_i; m_l, S_l)` (log space),

    .. math::

        N_k = \sum_i r_{ik}, \quad \pi_k = N_k / n, \quad m_k = \frac{1}{N_k}\sum_i r_{ik} x_i, \quad
        S_k = \frac{1}{N_k}\sum_i r_{ik} (x_i - m_k)(x_i - m_k)^\top + \epsilon\,\bar s^2 I,

    iterated until the mean log-likelihood gains less than ``tolerance``. Each start is a
    k-means clustering (k-means++ seeding, :func:`scipy.cluster.vq.kmeans2`); of ``n_init``
    starts the fit of highest likelihood is returned (EM finds a local maximum, and a
    k-means start may split an elongated component). The floor
    :math:`\epsilon\bar s^2` (:math:`\bar s^2` the mean variance of the points) keeps every
    covariance positive definite; components that lose all their points are dropped, so the
    result may have fewer than ``n_components`` components.

    Parameters
    ----------
    points : array_like, shape (n, d)
    n_components : int
        k, 1 <= k <= n.
    rng : numpy.random.Generator
        Seeds the k-means starts.
    n_init : int
        Number of starts.
    max_iterations : int
    tolerance : float
        Stop when the mean log-likelihood per point improves by less than this.
    covariance_floor : float
        ε above, relative to the mean variance of the points.
    start : GaussianMixture, optional
        Start EM from this mixture's responsibilities instead (one run; ``n_init`` ignored),
        e.g. to refine a fit made on a subset.

    Returns
    -------
    GaussianMixture
    """
    points = as_points(points, "points")
    check_rng(rng)
    n, d = points.shape
    k = _positive_count(n_components, "n_components", 8, upper=n)
    n_init = _positive_count(n_init, "n_init", 3)
    max_iterations = _positive_count(max_iterations, "max_iterations", 200)
    tolerance = as_real_scalar(tolerance, "tolerance")
    floor = as_real_scalar(covariance_floor, "covariance_floor")
    if tolerance < 0 or floor <= 0:
        raise ValueError(f"tolerance must be >= 0 and covariance_floor > 0; received tolerance={tolerance!r}, "
                         f"covariance_floor={covariance_floor!r}.")
    spread = float(np.mean(np.var(points, axis=0)))
    floor = floor * (spread if spread > 0 else 1.0) * np.eye(d)
    if start is not None:
        if not isinstance(start, GaussianMixture) or start.dim != d or start.n_components != k:
            raise ValueError(f"start must be a GaussianMixture of dimension {d} with n_components = {k} components; "
                             f"received {start!r}.")
        return _em(points, k, rng, max_iterations, tolerance, floor, start)[0]
    best, best_ll = None, -np.inf
    for _ in range(1 if k == 1 else n_init):
        mixture, mean_ll = _em(points, k, rng, max_iterations, tolerance, floor)
        if mean_ll > best_ll or best is None:
            best, best_ll = mixture, mean_ll
    return best


def _em(points, k, rng, max_iterations, tolerance, floor, start=None):
    """One EM run from a k-means start (or from the mixture ``start``): (GaussianMixture, final mean log-likelihood)."""
    n, d = points.shape
    if start is not None:
        resp = start.responsibilities(points)
    else:
        labels = np.zeros(n, dtype=int) if k == 1 else kmeans2(points, k, iter=20, minit="++", seed=rng)[1]
        resp = np.zeros((n, k))
        resp[np.arange(n), labels] = 1.0
    previous = -np.inf
    for _ in range(max_iterations):
        counts = resp.sum(axis=0)
        keep = counts > 1e-8 * n                                    # drop components without points
        resp, counts = resp[:, keep], counts[keep]
        weights = counts / n
        means = (resp.T @ points) / counts[:, None]
        covs = np.empty((means.shape[0], d, d))
        for j, m in enumerate(means):
            centred = points - m
            covs[j] = (centred * resp[:, j:j + 1]).T @ centred / counts[j] + floor
        chols = np.linalg.cholesky(covs)
        log_joint = np.log(weights) + _gaussian_log_densities(points, means, chols)
        norm = logsumexp(log_joint, axis=1, keepdims=True)
        resp = np.exp(log_joint - norm)
        mean_ll = float(norm.mean())
        if mean_ll - previous < tolerance:
            break
        previous = mean_ll
    return GaussianMixture(weights / weights.sum(), means, covs), mean_ll


def mixture_bic(mixture: GaussianMixture, points) -> float:
    r"""Bayesian information criterion :math:`-2\sum_i \log\rho(x_i) + p\log n` of a mixture on ``points``.

    p = (k − 1) + k d + k d (d + 1)/2 free parameters (weights, means, full covariances).
    """
    points = as_points(points, "points", d=mixture.dim)
    k, d = mixture.n_components, mixture.dim
    p = (k - 1) + k * d + k * d * (d + 1) // 2
    return float(-2.0 * np.sum(mixture.log_prob(points)) + p * np.log(points.shape[0]))


def select_gaussian_mixture(points, rng, *, max_components=12, n_points=4000, n_init=2, patience=3,
                            **options) -> GaussianMixture:
    r"""The mixture of :func:`fit_gaussian_mixture` whose number of components minimises the BIC.

    k = 1, 2, ... is fitted to (at most) ``n_points`` of the points (a random subset, for
    speed) and judged by :func:`mixture_bic` on the same points, up to ``max_components``
    or until ``patience`` successive k fail to improve on the best; the winner is refitted on
    all the points. ``n_init`` and ``options`` go to :func:`fit_gaussian_mixture`.
    """
    points = as_points(points, "points")
    check_rng(rng)
    max_components = _positive_count(max_components, "max_components", 12)
    n_points = _positive_count(n_points, "n_points", 4000)
    patience = _positive_count(patience, "patience", 3)
    subset = points if points.shape[0] <= n_points else points[rng.choice(points.shape[0], n_points, replace=False)]
    best, best_k, best_score = None, 0, np.inf
    for k in range(1, min(max_components, subset.shape[0]) + 1):
        candidate = fit_gaussian_mixture(subset, k, rng, n_init=n_init, **options)
        score = mixture_bic(candidate, subset)
        if score < best_score:
            best, best_k, best_score = candidate, k, score
        elif k - best_k >= patience:
            break
    if subset is points:
        return best
    # refine the winner on all the points, starting from it (EM never lowers the likelihood)
    return fit_gaussian_mixture(points, best.n_components, rng, start=best, **options)


class MixturePosteriorFeatures:
    r"""Posterior features of a Gaussian-mixture model of the endpoints: they span every field of such a case.

    If the base were :math:`\sum_i \pi^0_i N(m^0_i, S^0_i)` and the target
    :math:`\sum_j \pi^1_j N(m^1_j, S^1_j)` (independent coupling), :math:`x_t` would be the
    mixture over pairs p = (i, j) of :math:`N(\mu_p(t), \Sigma_p(t))`,

    .. math::

        \mu_p = \alpha m^0_i + \beta m^1_j, \qquad
        \Sigma_p = \alpha^2 S^0_i + \beta^2 S^1_j + \gamma^2 I,

    and every field (b, v, η, s, denoisers) would be :math:`\sum_p r_p(x, t)\,(a_p(t) + B_p(t) x)`
    (README, Exact fields) with the responsibilities
    :math:`r_p = \operatorname{softmax}_p\big(\log\pi_p - \tfrac12\log\det\Sigma_p
    - \tfrac12 |x - \mu_p|^2_{\Sigma_p^{-1}}\big)`, :math:`\pi_p = \pi^0_i\pi^1_j`.
    The features are

    .. math::

        \phi(x, t) = \big(r_p(x, t)\,(1, x)\big)_{p} \otimes \big(P_k(\tau)\big)_{k \le q},
        \qquad \tau = 2(t - t_0)/(t_1 - t_0) - 1,

    P(p) (d + 1)(q + 1) of them, Legendre polynomials for the slow time dependence of the
    coefficients on ``t_range`` = (t0, t1). Ridge regression on them fits :math:`a_p, B_p`
    for the actual data; the mixture itself usually comes from :func:`select_gaussian_mixture`
    on target samples. For a mirror interpolant (α ≡ 0) the base plays no part.

    Parameters
    ----------
    interpolant : Interpolant
    target : GaussianMixture or Gaussian
        The model of the law of :math:`x_1`.
    base : Gaussian, GaussianMixture or None
        The model of the law of :math:`x_0` (None: N(0, I)).
    time_degree : int
        q >= 0.
    t_range : (float, float)

    Notes
    -----
    Covariances :math:`\Sigma_p(t)` depend on the row's time, so they are factorised per
    row and pair (a vectorised Cholesky, :math:`O(n P d^3)`); meant for small d.
    """

    def __init__(self, interpolant, target, *, base=None, time_degree=2, t_range=(0.0, 1.0)):
        if not isinstance(interpolant, Interpolant):
            raise TypeError(f"interpolant must be an Interpolant; received {type(interpolant).__name__}.")
        target = _as_mixture(target, "target")
        d = target.dim
        if base is None:
            base = Gaussian(np.zeros(d), np.eye(d))
        base = _as_mixture(base, "base")
        if base.dim != d:
            raise ValueError(f"base has dimension {base.dim} but target has dimension {d}; pass models of the same d.")
        if interpolant.kind == "mirror":      # α ≡ 0: only the target's components matter
            base = GaussianMixture(np.ones(1), np.zeros((1, d)), np.eye(d)[None])
        if isinstance(time_degree, (bool, np.bool_)) or not isinstance(time_degree, (int, np.integer)) or time_degree < 0:
            raise ValueError(f"time_degree must be a non-negative integer; received {time_degree!r}.")
        t0, t1 = (as_real_scalar(v, "t_range") for v in t_range)
        if not 0.0 <= t0 < t1 <= 1.0:
            raise ValueError(f"t_range must satisfy 0 <= t0 < t1 <= 1; received {t_range!r}.")
        self.interpolant, self.target, self.base = interpolant, target, base
        self.time_degree, self.t_range, self.dim = int(time_degree), (t0, t1), d
        i, j = np.meshgrid(np.arange(base.n_components), np.arange(target.n_components), indexing="ij")
        i, j = i.ravel(), j.ravel()
        self._log_prior = np.log(base.weights[i]) + np.log(target.weights[j])
        self._m0, self._m1 = base.means[i], target.means[j]                  # (P, d)
        self._S0, self._S1 = base.covs[i], target.covs[j]                    # (P, d, d)
        self.n_pairs = i.size
        self.n_features = self.n_pairs * (d + 1) * (self.time_degree + 1)

    def responsibilities(self, x, t) -> np.ndarray:
        r""":math:`r_p(x, t)`, shape (n, P) with P = base components × target components; rows sum to 1."""
        x = as_points(x, "x", d=self.dim)
        t = _times_for(x, t)
        I = self.interpolant
        alpha, beta, gamma = I.alpha(t), I.beta(t), I.gamma(t)
        a2, b2, g2 = (alpha**2)[:, None, None, None], (beta**2)[:, None, None, None], (gamma**2)[:, None, None, None]
        cov = a2 * self._S0 + b2 * self._S1 + g2 * np.eye(self.dim)          # (n, P, d, d)
        chol = _batched_cholesky(cov, "the covariance alpha^2 S0 + beta^2 S1 + gamma^2 I of x_t")
        centred = x[:, None, :] - alpha[:, None, None] * self._m0 - beta[:, None, None] * self._m1
        u = _batched_forward_solve(chol, centred)                            # L⁻¹(x − μ_p), (n, P, d)
        log_det_half = np.sum(np.log(np.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
        with np.errstate(over="ignore", invalid="ignore"):
            logits = self._log_prior - log_det_half - 0.5 * np.sum(u * u, axis=-1)
            return softmax(logits, axis=1)

    def __call__(self, x, t) -> np.ndarray:
        """Features of shape (n, P (d + 1)(q + 1))."""
        x = as_points(x, "x", d=self.dim)
        t = _times_for(x, t)
        return _posterior_features(self.responsibilities(x, t), x, t, self.t_range, self.time_degree)


def _as_mixture(model, name) -> GaussianMixture:
    if isinstance(model, GaussianMixture):
        return model
    if isinstance(model, Gaussian):
        return GaussianMixture(np.ones(1), model.mean[None], model.cov[None])
    raise TypeError(f"{name} must be a si_ref.Gaussian or si_ref.GaussianMixture (e.g. from select_gaussian_mixture); "
                    f"received {type(model).__name__}.")


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

    @with_blas_threads
    def fit(self, x, t, y, *, sample_weight=None) -> "RidgeField":
        r"""Fit to samples x (n, d), t scalar or (n,), targets y (n, d); returns self.

        ``sample_weight`` (n,): finite, non-negative, not all zero. Raises a ValueError naming
        the argument for bad shapes, NaN/inf, bad weights or features that are not finite.
        """
        x = as_points(x, "x")
        y = as_points(y, "y", d=x.shape[1])
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"y must have one row per point of x, {x.shape[0]}; received {y.shape[0]} rows.")
        if x.shape[0] == 0:
            raise ValueError("x must contain at least one sample; received n = 0.")
        times = _times_for(x, t)
        if sample_weight is not None:
            w = sample_weights(sample_weight, x.shape[0])
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
            with np.errstate(over="ignore"):   # overflow is checked once, below, with a clear message
                gram = phi.T @ phi if gram is None else gram + phi.T @ phi
                rhs = phi.T @ target if rhs is None else rhs + phi.T @ target
                y_norm += float(np.sum(target * target))
        if not (np.isfinite(gram).all() and np.isfinite(rhs).all() and np.isfinite(y_norm)):
            raise ValueError(f"x or y is too large for float64: the Gram matrix of the features overflows "
                             f"(max |x| = {float(np.max(np.abs(x))):.3g}, max |y| = {float(np.max(np.abs(y))):.3g}). "
                             f"Rescale the problem so that |x| and |y| stay below about 1e100.")
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

    @with_blas_threads
    def fit(self, x, t, y, *, sample_weight=None) -> "TimeSlicedRidge":
        """Fit each slice on the samples whose time falls in it; every slice needs samples (of positive weight).

        Progress: one step per slice (:func:`si_ref.progress.task`, unit "slice").
        """
        x = as_points(x, "x")
        y = as_points(y, "y", d=x.shape[1])
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"y must have one row per point of x, {x.shape[0]}; received {y.shape[0]} rows.")
        t = _times_for(x, t)
        w = None if sample_weight is None else sample_weights(sample_weight, x.shape[0])
        k = self.slice_index(t)
        slices = []
        with task("ridge on time slices", total=self.edges.size - 1, unit="slice") as progress:
            for j, (t0, t1) in enumerate(zip(self.edges[:-1], self.edges[1:])):
                rows = k == j
                if not rows.any():
                    raise ValueError(f"no samples with t in the slice [{t0:g}, {t1:g}); draw times covering [0, 1].")
                if w is not None and not w[rows].sum() > 0:
                    raise ValueError(f"sample_weight is zero for every sample in the slice [{t0:g}, {t1:g}); "
                                     f"give some samples of that slice a positive weight.")
                model = RidgeField(self.features_for_slice(float(t0), float(t1)), **self.options)
                slices.append(model.fit(x[rows], t[rows], y[rows], sample_weight=None if w is None else w[rows]))
                progress.advance()
        self.slices_ = slices
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
