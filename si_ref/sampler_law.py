r"""The exact law of a discretised sampler for a single-Gaussian case: no Monte Carlo.

For one Gaussian pair the fields of :class:`~si_ref.gaussian.GaussianCase` are affine in x:
the drift :math:`b(x, t) = \dot\mu + K\Sigma^{-1}(x - \mu)`, the score
:math:`s(x, t) = -\Sigma^{-1}(x - \mu)`, hence :math:`b \pm \varepsilon(t) s` (Albergo, Boffi &
Vanden-Eijnden, arXiv:2303.08797). Every explicit Runge-Kutta step, Euler-Maruyama step and
stochastic Heun step of :mod:`si_ref.samplers`, and every DDIM/DDPM step on an ε-prediction
of Gaussian data, is then an affine map with additive Gaussian noise,

.. math::

    x' = M x + v + N\xi, \qquad \xi \sim N(0, I_k),

so it maps the Gaussian law :math:`N(m, S)` to :math:`N(Mm + v,\ M S M^\top + N N^\top)`
exactly. Composing the steps gives the exact law of the sampler's output, and from it the
exact KL divergence and 2-Wasserstein distance to the target: discretisation errors of
1e-12 are measurable (a Monte Carlo estimate would need 1e24 paths).

Conventions: t = 0 is the base, t = 1 the target; a field is ``f(x, t)`` with x of shape
(n, d) (points are rows, so an affine field is :math:`f(x, t) = x A^\top + m`); on an
increasing grid the SDE drift is :math:`b + \varepsilon s` (forward SDE), on a decreasing
grid :math:`b - \varepsilon s` (backward SDE), with noise :math:`\sqrt{2\varepsilon(t)|h|}\,\xi`
(arXiv:2303.08797v3, eqs. (2.33)-(2.34); :mod:`si_ref.samplers`).

Contents

* :class:`GaussianLaw`, :func:`gaussian_kl`, :func:`gaussian_w2`: laws and their distances,
  accurate for nearby laws (no cancellation);
* :func:`affine_coefficients`: the matrix and offset of an affine field, probed and verified;
* :class:`AffineStep`, :func:`probe_step`, :func:`push_law`: the affine map of any step
  function ``step(x, noise)`` (yours or another library's), and the law after it;
* :func:`integrate_law`: the law of :func:`si_ref.samplers.integrate` (Euler, Heun, RK4, any
  explicit Runge-Kutta tableau, Euler-Maruyama, stochastic Heun), written from the maths of
  each method, not by calling the steppers, so that it is an independent oracle for them;
* :func:`loop_law`: the law of a user's loop ``step(x, t, t_next, noise)`` over a time grid;
* :func:`ddim_law`, :func:`ddpm_law`: the law of a DDIM (any η) or DDPM loop over ᾱ levels
  (Song et al. 2021, eq. (12); Ho et al. 2020, eqs. (6)-(7)).

Every array is float64; inputs are never modified.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.linalg import cholesky, solve_sylvester, solve_triangular

from ._checks import as_count, as_levels, as_positive_real, as_time_scalar
from .distributions import Gaussian
from .samplers import (
    EulerMaruyama,
    ExplicitRungeKutta,
    SDETerm,
    StochasticHeun,
    _as_grid,
    _check_tableau,
    _save_indices,
    _stage_time,
)

__all__ = [
    "GaussianLaw",
    "gaussian_kl",
    "gaussian_w2",
    "affine_coefficients",
    "AffineStep",
    "probe_step",
    "push_law",
    "LawSolution",
    "integrate_law",
    "loop_law",
    "DiffusionLaws",
    "ddim_law",
    "ddpm_law",
    "PSD_TOLERANCE",
    "SYLVESTER_MAX_CONDITION",
]

#: A covariance may be asymmetric, or have negative eigenvalues, by at most this much relative to
#: its largest entry (rounding in M S Mᵀ); it is then symmetrised. Anything larger is refused.
PSD_TOLERANCE = 1e-10

#: :func:`gaussian_w2` never tries the Sylvester form when both covariances have a condition number
#: λ_max/λ_min above this (its relative error grows like κ² ε); the Procrustes form is used instead.
SYLVESTER_MAX_CONDITION = 1e12

#: What an affine field is, for the messages of every probe.
AFFINE_FIX = ("The exact law needs an affine field: a single-Gaussian GaussianCase (its drift, score, "
              "forward_drift ...) or a DiffusionCase with Gaussian data; for a mixture, estimate the law by sampling.")


# --- laws -------------------------------------------------------------------------------------------

class GaussianLaw(NamedTuple):
    r"""The Gaussian law :math:`N(m, S)`, possibly degenerate (S positive semidefinite).

    Attributes
    ----------
    mean : ndarray, shape (d,)
    cov : ndarray, shape (d, d)
        Symmetric positive semidefinite (a point mass has ``cov = 0``).

    Build a checked one with :meth:`validated`; every function of this module also accepts
    a pair ``(mean, cov)`` or an :class:`si_ref.Gaussian` wherever it takes a law.
    """

    mean: np.ndarray
    cov: np.ndarray

    @classmethod
    def validated(cls, mean, cov, *, name: str = "law") -> "GaussianLaw":
        """A new ``GaussianLaw`` of float64 copies, checked: finite, shapes (d,) and (d, d), cov symmetric PSD.

        Asymmetry and negative eigenvalues up to :data:`PSD_TOLERANCE` (relative) are rounding:
        the covariance is symmetrised. Larger ones raise.

        Raises
        ------
        TypeError
            For non-real input.
        ValueError
            For wrong shapes, NaN/inf, or a covariance that is not symmetric positive semidefinite.
        """
        m = _real(mean, f"{name}.mean")
        s = _real(cov, f"{name}.cov")
        if m.ndim != 1 or m.size == 0:
            raise ValueError(f"{name}.mean must have shape (d,) with d >= 1; received shape {m.shape}.")
        d = m.size
        if s.shape != (d, d):
            raise ValueError(f"{name}.cov must have shape (d, d) = ({d}, {d}) to match the mean; "
                             f"received shape {s.shape}.")
        scale = float(np.max(np.abs(s))) if s.size else 0.0
        asymmetry = float(np.max(np.abs(s - s.T)))
        if asymmetry > PSD_TOLERANCE * scale:
            raise ValueError(f"{name}.cov must be symmetric; received max |S - S^T| = {asymmetry:.3g} "
                             f"(relative {asymmetry / scale:.3g}). Pass (S + S.T) / 2 if the asymmetry is rounding.")
        s = 0.5 * (s + s.T)
        smallest = float(np.linalg.eigvalsh(s)[0]) if scale > 0 else 0.0
        if smallest < -PSD_TOLERANCE * scale:
            raise ValueError(f"{name}.cov must be positive semidefinite; received a smallest eigenvalue "
                             f"{smallest:.6g}. A covariance is M M^T for some M; check how it was built.")
        return cls(m, s)


def _real(value, name: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be real numbers; received dtype {arr.dtype}. Pass a float array.")
    out = arr.astype(np.float64, copy=True)
    if not np.isfinite(out).all():
        raise ValueError(f"{name} must be finite; received NaN or inf. Remove them before calling.")
    return out


def _as_law(law, name: str) -> GaussianLaw:
    """A validated copy of a GaussianLaw, a pair (mean, cov) or an si_ref Gaussian."""
    if isinstance(law, Gaussian):
        return GaussianLaw.validated(law.mean, law.cov, name=name)
    if isinstance(law, (tuple, list)) and len(law) == 2:
        return GaussianLaw.validated(law[0], law[1], name=name)
    raise TypeError(f"{name} must be a GaussianLaw(mean, cov), a pair (mean, cov) or an si_ref.Gaussian; "
                    f"received {type(law).__name__}. Build one with GaussianLaw.validated(mean, cov).")


def _same_dim(p: GaussianLaw, q: GaussianLaw, names=("p", "q")):
    if p.mean.size != q.mean.size:
        raise ValueError(f"{names[0]} and {names[1]} must have the same dimension; received "
                         f"{p.mean.size} and {q.mean.size}.")


def _delta_minus_log1p(delta: np.ndarray) -> np.ndarray:
    r""":math:`\varphi(\delta) = \delta - \log(1 + \delta)` for δ > −1, without cancellation at small |δ|.

    For |δ| < 0.1 the series :math:`\sum_{k \ge 2} (-\delta)^k / k` (terms to k = 24 reach
    0.1^23 < 1e-17 of the leading one); elsewhere the direct difference loses at most a factor 20.
    """
    out = delta - np.log1p(delta)
    small = np.abs(delta) < 0.1
    if small.any():
        x = delta[small]
        series = np.zeros_like(x)
        for k in range(24, 1, -1):                       # Horner in -x: Σ_{k>=2} (-x)^k / k
            series = (-x) * (series + 1.0 / k)
        out[small] = (-x) * series                       # one more factor (-x): the sum starts at k = 2
    return out


def gaussian_kl(p, q) -> float:
    r"""KL(p‖q) between Gaussian laws, accurate also when p and q are close.

    .. math::

        \mathrm{KL}(p\,\|\,q) = \tfrac12\Big[\sum_i \big(\delta_i - \log(1 + \delta_i)\big)
            + (m_q - m_p)^\top S_q^{-1} (m_q - m_p)\Big], \qquad
        \delta = \operatorname{eig}\big(L_q^{-1}(S_p - S_q)L_q^{-\top}\big),

    with :math:`S_q = L_q L_q^\top` (Cholesky). This is the standard formula
    :math:`\tfrac12[\operatorname{tr}(S_q^{-1}S_p) - d + \Delta m^\top S_q^{-1}\Delta m
    + \log\det S_q - \log\det S_p]` (e.g. Pardo 2006, *Statistical Inference Based on
    Divergence Measures*, p. 45) rewritten with the eigenvalues :math:`1 + \delta_i` of
    :math:`S_q^{-1}S_p`, so that no term cancels: :math:`\delta - \log(1 + \delta)` is evaluated by
    its series for small |δ|, and :math:`S_p - S_q` is formed from the inputs directly.

    Parameters
    ----------
    p, q : GaussianLaw or (mean, cov) or si_ref.Gaussian
        Means shape (d,), covariances shape (d, d); :math:`S_q` must be positive definite.

    Returns
    -------
    float
        KL(p‖q) >= 0; ``inf`` when :math:`S_p` is singular (smallest eigenvalue at most
        ``10 d`` machine epsilons of its largest): p then lives on a subspace of q-measure 0.

    Raises
    ------
    TypeError, ValueError
        For invalid laws (see :meth:`GaussianLaw.validated`), different dimensions, or a
        singular :math:`S_q` (KL(p‖q) is infinite or undefined; compare with :func:`gaussian_w2`).
    """
    p, q = _as_law(p, "p"), _as_law(q, "q")
    _same_dim(p, q)
    d = p.mean.size
    try:
        lower = cholesky(q.cov, lower=True)
    except np.linalg.LinAlgError:
        lower = None
    if lower is None or np.min(np.diag(lower)) <= np.sqrt(10 * d * np.finfo(float).eps) * np.sqrt(np.max(np.diag(q.cov))):
        raise ValueError("q.cov must be positive definite for KL(p||q) (q's density divides by det S_q); received "
                         "a singular covariance. Use gaussian_w2, which allows degenerate laws.")
    eigen_p = np.linalg.eigvalsh(p.cov)
    if eigen_p[0] <= 10 * d * np.finfo(float).eps * max(eigen_p[-1], 0.0):
        return float("inf")
    half = solve_triangular(lower, p.cov - q.cov, lower=True)              # L⁻¹ Δ
    whitened = solve_triangular(lower, half.T, lower=True)                 # L⁻¹ (L⁻¹ Δ)ᵀ = L⁻¹ Δ L⁻ᵀ (Δ symmetric)
    delta = np.linalg.eigvalsh(0.5 * (whitened + whitened.T))
    if delta[0] <= -1.0:
        return float("inf")
    y = solve_triangular(lower, q.mean - p.mean, lower=True)
    return float(0.5 * (np.sum(_delta_minus_log1p(delta)) + y @ y))


def _sqrt_psd(eigenvalues, vectors, power=0.5):
    return (vectors * np.maximum(eigenvalues, 0.0) ** power) @ vectors.T


def _bures_squared(sp: np.ndarray, sq: np.ndarray) -> float:
    """d_B² of two PSD matrices: the Sylvester form where it is the more accurate, the Procrustes form otherwise."""
    if np.array_equal(sp, sq):
        return 0.0
    lam_p, vec_p = np.linalg.eigh(sp)
    lam_q, vec_q = np.linalg.eigh(sq)

    def condition(lam):
        return lam[-1] / lam[0] if lam[0] > 0 else np.inf

    if condition(lam_q) < condition(lam_p):               # d_B is symmetric: put the better conditioned first
        sp, sq, lam_p, vec_p, lam_q, vec_q = sq, sp, lam_q, vec_q, lam_p, vec_p
    kappa, largest = condition(lam_p), max(lam_p[-1], lam_q[-1])
    if kappa < SYLVESTER_MAX_CONDITION:
        # X = S_p^{1/2}, R = (X S_q X)^{1/2}, D = R − S_p solves S_p D + D R = X Δ X, d_B² = ‖X⁻¹ D‖²
        x = _sqrt_psd(lam_p, vec_p)
        x_inv = (vec_p / np.sqrt(lam_p)) @ vec_p.T
        inner = x @ sq @ x
        lam_r, vec_r = np.linalg.eigh(0.5 * (inner + inner.T))
        r = _sqrt_psd(lam_r, vec_r)
        rhs = x @ (sq - sp) @ x
        d = solve_sylvester(sp, r, 0.5 * (rhs + rhs.T))
        squared = float(np.sum((x_inv @ d) ** 2))
        # measured errors: Sylvester ≲ κ² ε d_B/2 (relative), Procrustes ≲ 2 ε √(κ λ_max) (absolute)
        if np.isfinite(squared) and kappa**1.5 * np.sqrt(squared) <= 4.0 * np.sqrt(largest):
            return squared
    # Procrustes: d_B² = min_U ‖X − Y U‖_F² over orthogonal U, attained at U = Z Wᵀ for X Y = W Σ Zᵀ
    x, y = _sqrt_psd(lam_p, vec_p), _sqrt_psd(lam_q, vec_q)
    w, _, zt = np.linalg.svd(x @ y)
    return float(np.sum((x - y @ (zt.T @ w.T)) ** 2))


def gaussian_w2(p, q) -> float:
    r"""The 2-Wasserstein distance between Gaussian laws, accurate also when p and q are close.

    .. math::

        W_2^2 = |m_p - m_q|^2 + d_B^2(S_p, S_q), \qquad
        d_B^2 = \operatorname{tr} S_p + \operatorname{tr} S_q
                - 2\operatorname{tr}\big(S_p^{1/2} S_q S_p^{1/2}\big)^{1/2}

    (Dowson & Landau 1982, J. Multivariate Anal. 12, 450; Olkin & Pukelsheim 1982, Linear
    Algebra Appl. 48, 257; Givens & Shortt 1984). The trace form cancels catastrophically
    for nearby laws, so it is never used. With :math:`X = S_p^{1/2}` (eigh),
    :math:`R = (X S_q X)^{1/2}` and :math:`\Delta = S_q - S_p`,

    .. math::

        d_B^2 = \|X - X^{-1}R\|_F^2 = \|X^{-1}D\|_F^2, \qquad S_p D + D R = X\Delta X,

    since :math:`\operatorname{tr}(R S_p^{-1} R) = \operatorname{tr} S_q` and
    :math:`R^2 - S_p^2 = X\Delta X`: the Sylvester equation (``scipy.linalg.solve_sylvester``)
    gives :math:`D = R - S_p` to relative accuracy from the small right-hand side, so
    :math:`W_2` of order 1e-12 keeps its leading digits. The better conditioned of
    :math:`S_p, S_q` plays the role of :math:`S_p` (:math:`d_B` is symmetric), with condition
    number κ; the relative error of this form, measured against 60-digit arithmetic, is
    below :math:`\kappa^2\varepsilon/2`.

    The Procrustes form :math:`d_B^2 = \min_U \|X - S_q^{1/2}U\|_F^2` over orthogonal U
    (U from the SVD of :math:`S_p^{1/2}S_q^{1/2}`) is a sum of squares whose absolute error in
    :math:`d_B` is below :math:`2\varepsilon\sqrt{\kappa\lambda_{\max}}` (measured); it is used
    where that is the smaller bound, i.e. for ill-conditioned covariances at larger distances,
    and for singular ones (degenerate laws, point masses: never NaN). For a singular
    covariance W2 itself is only Hölder-1/2 in the entries, so rounding of the inputs alone
    moves it by about :math:`\sqrt{\varepsilon\lambda_{\max}}`.

    Parameters
    ----------
    p, q : GaussianLaw or (mean, cov) or si_ref.Gaussian
        Means shape (d,), covariances shape (d, d), positive semidefinite.

    Returns
    -------
    float
        :math:`W_2(p, q) \ge 0`; exactly 0 for identical laws.

    Raises
    ------
    TypeError, ValueError
        For invalid laws (see :meth:`GaussianLaw.validated`) or different dimensions.

    Examples
    --------
    >>> import numpy as np
    >>> from si_ref import Gaussian, gaussian_w2
    >>> gaussian_w2(Gaussian(np.zeros(2), np.eye(2)), Gaussian(np.array([3.0, 4.0]), np.eye(2)))   # the mean shift
    5.0
    >>> gaussian_w2(Gaussian(np.zeros(2), np.eye(2)), Gaussian(np.zeros(2), 4 * np.eye(2)))   # std 1 -> 2 per axis
    1.4142135623730951
    """
    p, q = _as_law(p, "p"), _as_law(q, "q")
    _same_dim(p, q)
    difference = p.mean - q.mean
    return float(np.sqrt(difference @ difference + _bures_squared(p.cov, q.cov)))


# --- probing affine maps ----------------------------------------------------------------------------

def _check_points(d: int, k: int = 0):
    """Two fixed check points (x part (2, d), noise part (2, k)) off the probed basis: irregular entries."""
    j = np.arange(d + k, dtype=np.float64)
    first = 0.7 * (-1.0) ** j * (1.0 + 0.37 * j / max(d + k - 1, 1))
    second = -1.3 + 0.9 * np.cos(2.1 * j + 0.4)
    both = np.stack([first, second])
    return both[:, :d], both[:, d:]


def _default_rtol(dtype) -> float:
    """√ε of the dtype the user's code returned: 1.5e-8 for float64, 3.5e-4 for float32."""
    return float(np.sqrt(np.finfo(dtype if np.dtype(dtype).kind == "f" else np.float64).eps))


def _call(f, who: str, args, n: int, d: int, where: str) -> tuple[np.ndarray, np.dtype]:
    """f(*args) as float64 (n, d), checked, with the dtype it returned (for the affinity tolerance)."""
    out = np.asarray(f(*args))
    if out.dtype.kind not in "iuf":
        raise TypeError(f"{who} must return real numbers; at {where} it returned dtype {out.dtype}. Return a float "
                        f"array (for complex values, take the real part explicitly).")
    if out.shape != (n, d):
        raise ValueError(f"{who} must return shape (n, d) = ({n}, {d}), one row per input row; at {where} "
                         f"it returned shape {out.shape}. Return one output row per input row.")
    values = out.astype(np.float64)
    if not np.isfinite(values).all():
        raise ValueError(f"{who} returned NaN or inf at {where}. If it is singular at an endpoint, keep the "
                         f"grid away from it (t_min > 0 or t_max < 1).")
    return values, out.dtype


def _verify_affine(predicted, actual, scale, rtol, who, where):
    residual = float(np.max(np.abs(actual - predicted)))
    bound = rtol * float(np.max(scale))
    if not residual <= bound:
        raise ValueError(
            f"{who} is not affine at {where}: at a check point it differs from the affine map probed on the "
            f"basis vectors by {residual:.3g} (allowed {bound:.3g}, rtol={rtol:.3g}). {AFFINE_FIX}")


def _as_centre(centre, d: int, name: str = "centre") -> np.ndarray:
    if centre is None:
        return np.zeros(d)
    out = _real(centre, name)
    if out.shape != (d,):
        raise ValueError(f"{name} must have shape (d,) = ({d},); received shape {out.shape}.")
    return out


def _rtol(rtol):
    return None if rtol is None else as_positive_real(rtol, "rtol")


def _probe_field(field, who: str, level: float, level_name: str, centre: np.ndarray, c, rtol):
    """(A, m) with field(x, level) = x Aᵀ + m: d + 1 basis points and 2 check points in one call."""
    d = centre.size
    checks, _ = _check_points(d)
    points = np.concatenate([centre[None], centre + np.eye(d), centre + checks])
    where = f"{level_name} = {level!r}"
    args = (points.copy(), level) if c is None else (points.copy(), level, c)
    values, dtype = _call(field, who, args, points.shape[0], d, where)
    base = values[0]
    a = (values[1:d + 1] - base).T                                         # column j: f(c + e_j) − f(c)
    m = base - a @ centre
    predicted = base + checks @ a.T
    scale = np.abs(base) + np.abs(checks) @ np.abs(a).T + np.abs(values[d + 1:])
    _verify_affine(predicted, values[d + 1:], scale, rtol if rtol is not None else _default_rtol(dtype), who, where)
    return a, m


def affine_coefficients(field, t, dim, *, c=None, centre=None, rtol=None) -> tuple[np.ndarray, np.ndarray]:
    r"""The matrix A and offset m of a field that is affine in x: :math:`f(x, t) = A x + m`.

    For points as rows, ``field(x, t) = x @ A.T + m``. A and m are read off the field at a
    centre c and at :math:`c + e_j` (:math:`A e_j = f(c + e_j) - f(c)`, :math:`m = f(c) - Ac`),
    in one call of d + 3 points; two more points off the basis verify that the field is
    affine (within ``rtol`` of the size of the values).

    Parameters
    ----------
    field : callable
        ``f(x, t)`` (or ``f(x, t, c)`` when ``c`` is given), x of shape (n, d), returning (n, d).
    t : float
        One time in [0, 1] (t = 0 base, t = 1 target); passed as a Python float.
    dim : int
        The dimension d.
    c : optional
        Conditioning passed on as ``f(x, t, c)`` when given.
    centre : array_like, shape (d,), optional
        Where to probe (default 0); e.g. the mean of the law the field acts on.
    rtol : float, optional
        Allowed deviation from affinity, relative to the values; default :math:`\sqrt\varepsilon`
        of the dtype the field returns (1.5e-8 for float64, 3.5e-4 for float32).

    Returns
    -------
    A : ndarray, shape (d, d)
    m : ndarray, shape (d,)

    Raises
    ------
    ValueError
        If the field is not affine (the message names t), returns the wrong shape or NaN/inf,
        or for a bad t, dim, centre or rtol.
    TypeError
        For a field that is not callable or returns non-real values.
    """
    if not callable(field):
        raise TypeError(f"field must be a callable f(x, t); received {field!r}.")
    t = as_time_scalar(t, "t")
    d = as_count(dim, "dim")
    return _probe_field(field, "field", t, "t", _as_centre(centre, d), c, _rtol(rtol))


class AffineStep(NamedTuple):
    r"""One affine step with Gaussian noise: :math:`x' = M x + v + N\xi`, :math:`\xi \sim N(0, I_k)`.

    Attributes
    ----------
    matrix : ndarray, shape (d, d)
        M.
    offset : ndarray, shape (d,)
        v.
    noise_matrix : ndarray, shape (d, k)
        N (k = 0 for a deterministic step).
    """

    matrix: np.ndarray
    offset: np.ndarray
    noise_matrix: np.ndarray


def push_law(law, step: AffineStep) -> GaussianLaw:
    r"""The law after one affine step: :math:`N(Mm + v,\ M S M^\top + N N^\top)`, symmetrised.

    Parameters
    ----------
    law : GaussianLaw or (mean, cov) or si_ref.Gaussian
        The law of x, dimension d.
    step : AffineStep
        M (d, d), v (d,), N (d, k); ξ is independent of x.

    Returns
    -------
    GaussianLaw

    Raises
    ------
    TypeError, ValueError
        For an invalid law, a step that is not an AffineStep, or mismatched shapes.
    """
    law = _as_law(law, "law")
    if not isinstance(step, AffineStep):
        raise TypeError(f"step must be an AffineStep(matrix, offset, noise_matrix), e.g. from probe_step; "
                        f"received {type(step).__name__}.")
    d = law.mean.size
    matrix, offset, noise = (_real(getattr(step, name), f"step.{name}")
                             for name in ("matrix", "offset", "noise_matrix"))
    if matrix.shape != (d, d) or offset.shape != (d,) or noise.ndim != 2 or noise.shape[0] != d:
        raise ValueError(f"step must have matrix (d, d), offset (d,) and noise_matrix (d, k) with d = {d}; "
                         f"received shapes {matrix.shape}, {offset.shape} and {noise.shape}.")
    return _push(law, matrix, offset, noise)


def _push(law: GaussianLaw, matrix, offset, noise) -> GaussianLaw:
    cov = matrix @ law.cov @ matrix.T + noise @ noise.T
    return GaussianLaw(matrix @ law.mean + offset, 0.5 * (cov + cov.T))


def _probe_step(step, who: str, d: int, k: int, centre: np.ndarray, rtol, where: str, extra=()) -> AffineStep:
    """M, v, N of step(x, *extra, noise) = x Mᵀ + v + noise Nᵀ, probed at (c, 0), (c + e_j, 0), (c, e_l)."""
    checks_x, checks_z = _check_points(d, k)
    x = np.concatenate([centre[None], centre + np.eye(d), np.tile(centre, (k, 1)), centre + checks_x])
    z = np.concatenate([np.zeros((1 + d, k)), np.eye(k), checks_z])
    values, dtype = _call(step, who, (x.copy(), *extra, z.copy()), x.shape[0], d, where)
    base = values[0]
    matrix = (values[1:1 + d] - base).T
    noise = (values[1 + d:1 + d + k] - base).T
    offset = base - matrix @ centre
    predicted = base + checks_x @ matrix.T + checks_z @ noise.T
    scale = (np.abs(base) + np.abs(checks_x) @ np.abs(matrix).T + np.abs(checks_z) @ np.abs(noise).T
             + np.abs(values[1 + d + k:]))
    _verify_affine(predicted, values[1 + d + k:], scale, rtol if rtol is not None else _default_rtol(dtype), who, where)
    return AffineStep(matrix, offset, noise)


def probe_step(step, dim, *, noise_dim=None, centre=None, rtol=None) -> AffineStep:
    r"""The affine map of a step function ``step(x, noise) -> x'``, e.g. another library's sampler step.

    A step that is affine in (x, noise), :math:`x' = M x + v + N\xi`, is read off at
    :math:`(c, 0)`, :math:`(c + e_j, 0)` and :math:`(c, e_l)` in one call of 1 + d + k + 2 rows;
    the last two rows verify affinity. Any implementation can be judged this way: wrap
    its step (float32, torch, a scalar t inside) as a function of NumPy arrays.

    Parameters
    ----------
    step : callable
        ``step(x, noise)``: x of shape (n, d), noise of shape (n, k) (the standard-normal draw
        the step would use; the step must not draw its own), returns (n, d).
    dim : int
        d.
    noise_dim : int, optional
        k >= 0 (default d).
    centre : array_like, shape (d,), optional
        Where to probe (default 0).
    rtol : float, optional
        Allowed deviation from affinity relative to the values; default :math:`\sqrt\varepsilon` of
        the dtype the step returns (float32 code gets 3.5e-4).

    Returns
    -------
    AffineStep

    Raises
    ------
    ValueError
        If the step is not affine in (x, noise), returns the wrong shape or NaN/inf.
    TypeError
        For a step that is not callable or returns non-real values.
    """
    if not callable(step):
        raise TypeError(f"step must be a callable step(x, noise) -> x'; received {step!r}.")
    d = as_count(dim, "dim")
    k = d if noise_dim is None else as_count(noise_dim, "noise_dim", minimum=0)
    return _probe_step(step, "step", d, k, _as_centre(centre, d), _rtol(rtol), "the probe")


# --- the law of si_ref's samplers -------------------------------------------------------------------

class LawSolution(NamedTuple):
    """Result of :func:`integrate_law` and :func:`loop_law`: the exact laws at the saved times.

    Attributes
    ----------
    times : ndarray, shape (k,)
        The saved times, in the order of integration.
    means : ndarray, shape (k, d)
    covs : ndarray, shape (k, d, d)
    """

    times: np.ndarray
    means: np.ndarray
    covs: np.ndarray

    def law(self, index: int = -1) -> GaussianLaw:
        """The law at saved time ``index`` (default: the last) as a :class:`GaussianLaw` (copies)."""
        return _law_at(self, index)


def _law_at(solution, index: int) -> GaussianLaw:
    """Copies of ``solution.means[index]`` and ``solution.covs[index]`` as a GaussianLaw."""
    return GaussianLaw(solution.means[index].copy(), solution.covs[index].copy())


class _Probes:
    """Cached affine coefficients of the term's fields at each time (a field is probed once per time)."""

    def __init__(self, term, sign, d, c, rtol):
        self.term, self.sign, self.d, self.c, self.rtol = term, sign, d, c, rtol
        self.centre = np.zeros(d)
        self.cache = {}

    def field(self, f, who, t):
        key = (who, t)
        if key not in self.cache:
            self.cache[key] = _probe_field(f, who, t, "t", self.centre, self.c, self.rtol)
        return self.cache[key]

    def ode(self, t):
        return self.field(self.term, "field", t)

    def sde(self, t):
        """A, m of the SDE drift b + sign ε(t) s at t, and ε(t) (the score is not probed where ε = 0)."""
        eps = self.term.diffusion(t)
        a, m = self.field(self.term.drift, "drift", t)
        if eps == 0.0:
            return a, m, eps
        a_s, m_s = self.field(self.term.score, "score", t)
        return a + (self.sign * eps) * a_s, m + (self.sign * eps) * m_s, eps


def _runge_kutta(tableau, probes: _Probes, t, t_next) -> AffineStep:
    r"""Stages :math:`k_i = P_i x + q_i` with :math:`P_i = A_i(I + h\sum_j a_{ij}P_j)`,
    :math:`q_i = A_i h\sum_j a_{ij} q_j + m_i`; :math:`x' = (I + h\sum_i b_i P_i)x + h\sum_i b_i q_i`."""
    d, h = probes.d, t_next - t
    eye = np.eye(d)
    ps, qs = [], []
    for row, node in zip(tableau.a, tableau.c):
        a_i, m_i = probes.ode(_stage_time(t, t_next, float(node)))
        y_matrix, y_offset = eye.copy(), np.zeros(d)                       # stage input: x + h Σ a_ij k_j
        for a_ij, p_j, q_j in zip(row, ps, qs):
            y_matrix += (h * float(a_ij)) * p_j
            y_offset += (h * float(a_ij)) * q_j
        ps.append(a_i @ y_matrix)
        qs.append(a_i @ y_offset + m_i)
    matrix = eye + h * sum(float(b_i) * p_i for b_i, p_i in zip(tableau.b, ps))
    offset = h * sum(float(b_i) * q_i for b_i, q_i in zip(tableau.b, qs))
    return AffineStep(matrix, offset, np.zeros((d, 0)))


def _euler_maruyama(probes: _Probes, t, t_next) -> AffineStep:
    r""":math:`x' = (I + hA)x + hm + \sqrt{2\varepsilon(t)|h|}\,\xi`."""
    h = t_next - t
    a, m, eps = probes.sde(t)
    return AffineStep(np.eye(probes.d) + h * a, h * m, np.sqrt(2.0 * eps * abs(h)) * np.eye(probes.d))


def _stochastic_heun(probes: _Probes, t, t_next) -> AffineStep:
    r"""Predictor :math:`\tilde x = x + h(Ax + m) + \sigma\Delta W`, corrector
    :math:`x' = x + \tfrac h2[Ax + m + A'\tilde x + m'] + \tfrac12(\sigma + \sigma')\Delta W`, so

    .. math::

        M = I + \tfrac h2(A + A' + hA'A), \quad v = \tfrac h2(m + m' + hA'm), \quad
        N = \sqrt{|h|}\,\big(\tfrac h2\sigma A' + \tfrac12(\sigma + \sigma')I\big),

    with :math:`\sigma = \sqrt{2\varepsilon(t)}`, :math:`\sigma' = \sqrt{2\varepsilon(t + h)}`, ΔW = √|h| ξ."""
    h, eye = t_next - t, np.eye(probes.d)
    a, m, eps = probes.sde(t)
    a_next, m_next, eps_next = probes.sde(t_next)
    sigma, sigma_next = np.sqrt(2.0 * eps), np.sqrt(2.0 * eps_next)
    matrix = eye + 0.5 * h * (a + a_next + h * (a_next @ a))
    offset = 0.5 * h * (m + m_next + h * (a_next @ m))
    noise = np.sqrt(abs(h)) * (0.5 * h * sigma * a_next + 0.5 * (sigma + sigma_next) * eye)
    return AffineStep(matrix, offset, noise)


def _law_stepper(stepper):
    """The affine recurrence of a stepper of si_ref.samplers: a function (probes, t, t_next) -> AffineStep."""
    if isinstance(stepper, ExplicitRungeKutta):
        _check_tableau(stepper.tableau)
        return lambda probes, t, t_next: _runge_kutta(stepper.tableau, probes, t, t_next), False
    if isinstance(stepper, EulerMaruyama):
        return _euler_maruyama, True
    if isinstance(stepper, StochasticHeun):
        return _stochastic_heun, True
    raise TypeError(
        f"stepper must be an instance of Euler(), Heun(), RK4(), ExplicitRungeKutta(tableau), EulerMaruyama() or "
        f"StochasticHeun() from si_ref.samplers; received {stepper!r}"
        f"{' (a class: add the parentheses)' if isinstance(stepper, type) else ''}. For another stepper, wrap its "
        f"step as step(x, t, t_next, noise) and use loop_law.")


def integrate_law(term, stepper, grid, law_start, *, save_at=None, c=None, rtol=None) -> LawSolution:
    r"""The exact law of :func:`si_ref.samplers.integrate`'s output when the start is Gaussian and the fields affine.

    Each step is written as :math:`x' = M x + v + N\xi` from the maths of the method, not by
    calling the stepper (so the result is an independent oracle for the steppers):

    * explicit Runge-Kutta with tableau (a, b, c) (Euler, Heun, RK4, ...): the stage
      :math:`k_i = f(x + h\sum_j a_{ij}k_j,\ t + c_i h) = P_i x + q_i` with
      :math:`P_i = A(t + c_i h)(I + h\sum_j a_{ij}P_j)`, so :math:`M = I + h\sum_i b_i P_i`, N = 0;
    * Euler-Maruyama (:class:`~si_ref.samplers.EulerMaruyama`): :math:`M = I + hA(t)`,
      :math:`v = h\,m(t)`, :math:`N = \sqrt{2\varepsilon(t)|h|}\,I`;
    * stochastic Heun (:class:`~si_ref.samplers.StochasticHeun`): :math:`M = I + \tfrac h2(A + A' + hA'A)`,
      :math:`N = \sqrt{|h|}(\tfrac h2\sigma A' + \tfrac12(\sigma + \sigma')I)`, primes at t + h;

    where :math:`A(t)x + m(t)` is the (probed, :func:`affine_coefficients`) field for ODEs, and
    the SDE drift :math:`b + \varepsilon s` on increasing grids (forward SDE) or
    :math:`b - \varepsilon s` on decreasing grids (backward SDE) for an
    :class:`~si_ref.samplers.SDETerm`. The law is pushed by :func:`push_law` at each step.

    Parameters
    ----------
    term : field or SDETerm
        As in :func:`si_ref.samplers.integrate`; every field must be affine in x (a
        single-Gaussian :class:`~si_ref.gaussian.GaussianCase`).
    stepper : Euler, Heun, RK4, ExplicitRungeKutta, EulerMaruyama or StochasticHeun
    grid : array_like, shape (m,)
        Strictly monotone times in [0, 1] (t = 0 base, t = 1 target); decreasing grids run backwards.
    law_start : GaussianLaw or (mean, cov) or si_ref.Gaussian
        The law of the state at ``grid[0]``; its covariance may be singular (a point mass).
    save_at : array_like, optional
        Grid times at which to save the law (default: the first and last).
    c : optional
        Conditioning passed to the fields as ``f(x, t, c)`` when given.
    rtol : float, optional
        Tolerance of the affinity check (:func:`affine_coefficients`).

    Returns
    -------
    LawSolution
        ``times`` (k,), ``means`` (k, d), ``covs`` (k, d, d).

    Raises
    ------
    TypeError
        For a stepper that is not one of those above (or a class), a stepper that does not
        match the term, or a term that is not callable.
    ValueError
        For a field that is not affine (a mixture case; the time is named), a bad grid or
        ``save_at``, an invalid start law, or a field returning the wrong shape or NaN/inf.

    Examples
    --------
    Four RK4 steps of the probability flow from N(0, 1) to N(1, 4) (linear interpolant, γ = 0):
    the exact law of the discretised output, no sampling.

    >>> import numpy as np
    >>> import si_ref
    >>> case = si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.ZeroGamma()),
    ...                            si_ref.Gaussian(np.zeros(1), np.eye(1)), si_ref.Gaussian(np.ones(1), 4 * np.eye(1)))
    >>> law = si_ref.integrate_law(case.drift, si_ref.RK4(), si_ref.uniform_grid(0.0, 1.0, 4), case.base).law()
    >>> round(float(law.mean[0]), 12), round(float(law.cov[0, 0]), 4)   # the target: mean 1, variance 4
    (1.0, 3.9967)
    """
    grid = _as_grid(grid)
    recurrence, stochastic = _law_stepper(stepper)
    if stochastic != isinstance(term, SDETerm):
        raise TypeError(
            f"{type(stepper).__name__} integrates {'an SDETerm' if stochastic else 'a field (ODE)'}; received "
            f"{type(term).__name__}. Pair ODE steppers with a field and SDE steppers with SDETerm.")
    if not stochastic and not callable(term):
        raise TypeError(f"term must be a field f(x, t); received {term!r}.")
    law = _as_law(law_start, "law_start")
    d = law.mean.size
    probes = _Probes(term, 1.0 if grid[-1] > grid[0] else -1.0, d, c, _rtol(rtol))
    saved = _save_indices(grid, save_at)
    position = {int(i): k for k, i in enumerate(saved)}
    means, covs = np.empty((saved.size, d)), np.empty((saved.size, d, d))
    for step in range(grid.size):
        if step > 0:
            probes.centre = law.mean                                      # probe where the law is
            affine = recurrence(probes, float(grid[step - 1]), float(grid[step]))
            law = _push(law, *affine)
        if step in position:
            means[position[step]], covs[position[step]] = law
    return LawSolution(grid[saved].copy(), means, covs)


def loop_law(step, times, law_start, *, noise_dim=None, rtol=None) -> LawSolution:
    r"""The exact law of a user's sampling loop ``x = step(x, t, t_next, noise)`` over ``times``.

    Each call is probed as an affine map in (x, noise) (:func:`probe_step`, centred at the
    current mean) and the law pushed through it, so a sampler from any library can be judged
    exactly: wrap its step as a NumPy function (it may compute in float32 and use a scalar t).

    Parameters
    ----------
    step : callable
        ``step(x, t, t_next, noise)``: x (n, d), t and t_next Python floats, noise (n, k)
        standard normal given to the step (it must not draw its own); returns (n, d).
    times : array_like, shape (m,)
        The times of the loop (any finite real numbers: t, σ, or indices), m >= 2.
    law_start : GaussianLaw or (mean, cov) or si_ref.Gaussian
        The law of x at ``times[0]``.
    noise_dim : int, optional
        k >= 0 (default d).
    rtol : float, optional
        Tolerance of the affinity check; default √ε of the dtype the step returns.

    Returns
    -------
    LawSolution
        The laws at every time (k = m).

    Raises
    ------
    ValueError
        For a step that is not affine in (x, noise) (the step and times are named), wrong
        output shapes, NaN/inf, bad times or law.
    TypeError
        For a step that is not callable, or non-real times.
    """
    if not callable(step):
        raise TypeError(f"step must be a callable step(x, t, t_next, noise) -> x'; received {step!r}.")
    grid = _real(times, "times")
    if grid.ndim != 1 or grid.size < 2:
        raise ValueError(f"times must be a 1-d array of at least 2 times; received shape {grid.shape}.")
    law = _as_law(law_start, "law_start")
    d = law.mean.size
    k = d if noise_dim is None else as_count(noise_dim, "noise_dim", minimum=0)
    rtol = _rtol(rtol)
    means, covs = np.empty((grid.size, d)), np.empty((grid.size, d, d))
    means[0], covs[0] = law
    for i in range(grid.size - 1):
        t, t_next = float(grid[i]), float(grid[i + 1])
        affine = _probe_step(step, "step", d, k, law.mean, rtol, f"step {i} (t = {t!r} -> t_next = {t_next!r})",
                             extra=(t, t_next))
        law = _push(law, *affine)
        means[i + 1], covs[i + 1] = law
    return LawSolution(grid, means, covs)


# --- DDIM and DDPM ----------------------------------------------------------------------------------

class DiffusionLaws(NamedTuple):
    """Result of :func:`ddim_law` and :func:`ddpm_law`: the exact laws at each ᾱ level of the loop.

    Attributes
    ----------
    alpha_bars : ndarray, shape (k,)
        The levels, from the noisiest (start) to the last.
    means : ndarray, shape (k, d)
    covs : ndarray, shape (k, d, d)
    """

    alpha_bars: np.ndarray
    means: np.ndarray
    covs: np.ndarray

    def law(self, index: int = -1) -> GaussianLaw:
        """The law at level ``index`` (default: the last) as a :class:`GaussianLaw` (copies)."""
        return _law_at(self, index)


def _alpha_bar_levels(alpha_bars) -> np.ndarray:
    """The levels ᾱ as a new float64 array (k,), k >= 2: in (0, 1], strictly increasing (only the last may be 1)."""
    levels = as_levels(alpha_bars, "alpha_bars", low=0.0, high=1.0, low_open=True, fix=(
        "Pass DiscreteSchedule.alphas_cumprod at the inference timesteps, noisiest first (ᾱ = 0 has no ε-step)."))
    if levels.ndim != 1 or levels.size < 2:
        raise ValueError(f"alpha_bars must be a 1-d array of at least 2 levels; received shape {levels.shape}. "
                         f"Pass the levels of the loop, noisiest first.")
    steps = np.diff(levels)
    if not (steps > 0).all():
        i = int(np.argmax(steps <= 0))
        raise ValueError(
            f"alpha_bars must be strictly increasing (each step goes to a less noisy level); received "
            f"alpha_bars[{i}] = {float(levels[i])!r} then alpha_bars[{i + 1}] = {float(levels[i + 1])!r}. "
            f"Reverse the timesteps (noisiest first).")
    return levels


def _denoised_affine(e_matrix, e_offset, alpha_bar):
    r"""x̂0 = (x − √(1 − ᾱ) ε̂)/√ᾱ with ε̂ = E x + e: the pair (G, g) of x̂0 = G x + g."""
    root, root_noise = np.sqrt(alpha_bar), np.sqrt(1.0 - alpha_bar)
    return (np.eye(e_matrix.shape[0]) - root_noise * e_matrix) / root, -(root_noise / root) * e_offset


def _diffusion_loop(eps_model, alpha_bars, law_start, rtol, step_of):
    if not callable(eps_model):
        raise TypeError(f"eps_model must be a callable eps_model(x, alpha_bar) returning E[eps | x] of shape (n, d); "
                        f"received {eps_model!r}.")
    levels = _alpha_bar_levels(alpha_bars)
    law = _as_law(law_start, "law_start")
    d = law.mean.size
    rtol = _rtol(rtol)
    means, covs = np.empty((levels.size, d)), np.empty((levels.size, d, d))
    means[0], covs[0] = law
    for i in range(levels.size - 1):
        ab, abp = float(levels[i]), float(levels[i + 1])
        e_matrix, e_offset = _probe_field(eps_model, "eps_model", ab, "alpha_bar", law.mean, None, rtol)
        law = _push(law, *step_of(e_matrix, e_offset, ab, abp))
        means[i + 1], covs[i + 1] = law
    return DiffusionLaws(levels, means, covs)


def ddim_law(eps_model, alpha_bars, law_start, *, eta=0.0, rtol=None) -> DiffusionLaws:
    r"""The exact law of a DDIM loop over the levels ``alpha_bars`` (noisiest first) for an affine ε̂.

    Song, Meng & Ermon 2021 (arXiv:2010.02502), eqs. (12) and (16), from level ᾱ to the less
    noisy ᾱ' with :math:`\hat\varepsilon(x) = E x + e` (probed, :func:`affine_coefficients`):

    .. math::

        \hat x_0 = \frac{x - \sqrt{1 - \bar\alpha}\,\hat\varepsilon}{\sqrt{\bar\alpha}}, \quad
        x' = \sqrt{\bar\alpha'}\,\hat x_0 + \sqrt{1 - \bar\alpha' - \sigma_\eta^2}\,\hat\varepsilon + \sigma_\eta\xi,
        \quad \sigma_\eta^2 = \eta^2\frac{1 - \bar\alpha'}{1 - \bar\alpha}\Big(1 - \frac{\bar\alpha}{\bar\alpha'}\Big),

    an affine map with noise :math:`\sigma_\eta I` (:math:`1 - \bar\alpha' - \sigma_\eta^2` is
    computed as :math:`(1 - \bar\alpha')[\bar\alpha'(1 - \bar\alpha) - \eta^2(\bar\alpha' - \bar\alpha)]
    / (\bar\alpha'(1 - \bar\alpha))`). Path :math:`x = \sqrt{\bar\alpha}\,x_{\mathrm{data}} +
    \sqrt{1 - \bar\alpha}\,\varepsilon`; no clipping of x̂0 (clipping is not affine).

    Parameters
    ----------
    eps_model : callable
        ``eps_model(x, alpha_bar)``: x (n, d), alpha_bar a Python float; returns ε̂ (n, d),
        affine in x (e.g. ``DiffusionCase(Gaussian(m, S)).epsilon_at(x, √ᾱ, √(1 − ᾱ))``).
    alpha_bars : array_like, shape (k,)
        Strictly increasing levels in (0, 1), the last may be 1 (its step returns x̂0).
    law_start : GaussianLaw or (mean, cov) or si_ref.Gaussian
        The law of x at ``alpha_bars[0]``.
    eta : float
        η >= 0 (0: deterministic DDIM, 1: DDPM's variance), with :math:`\sigma_\eta^2 \le 1 - \bar\alpha'`.
    rtol : float, optional
        Tolerance of the affinity check.

    Returns
    -------
    DiffusionLaws
        The laws at every level.

    Raises
    ------
    ValueError
        For levels outside (0, 1], not increasing, an η too large for a step, a model that is
        not affine (the level is named), or an invalid law.
    TypeError
        For a model that is not callable, or non-real arguments.
    """
    eta = as_positive_real(eta, "eta", allow_zero=True)

    def step(e_matrix, e_offset, ab, abp):
        g_matrix, g_offset = _denoised_affine(e_matrix, e_offset, ab)
        bracket = abp * (1.0 - ab) - eta**2 * (abp - ab)                   # ᾱ'(1 − ᾱ) − η²(ᾱ' − ᾱ)
        if bracket < 0.0:
            raise ValueError(f"eta={eta!r} is too large for the step from alpha_bar={ab!r} to {abp!r}: "
                             f"σ_η² > 1 − ᾱ'. Pass eta <= 1.")
        direction = np.sqrt((1.0 - abp) * bracket / (abp * (1.0 - ab)))    # √(1 − ᾱ' − σ_η²)
        variance = eta**2 * (1.0 - abp) / (1.0 - ab) * (abp - ab) / abp    # σ_η²
        matrix = np.sqrt(abp) * g_matrix + direction * e_matrix
        offset = np.sqrt(abp) * g_offset + direction * e_offset
        return matrix, offset, np.sqrt(variance) * np.eye(e_matrix.shape[0])

    return _diffusion_loop(eps_model, alpha_bars, law_start, rtol, step)


def ddpm_law(eps_model, alpha_bars, law_start, *, rtol=None) -> DiffusionLaws:
    r"""The exact law of an ancestral DDPM loop ("fixed_small" variance) over ``alpha_bars`` for an affine ε̂.

    Ho, Jain & Abbeel 2020 (arXiv:2006.11239), eqs. (6)-(7), for a strided step from ᾱ to
    ᾱ' (:math:`\alpha_t = \bar\alpha/\bar\alpha'`, :math:`\beta_t = 1 - \alpha_t`):

    .. math::

        x' = \frac{\sqrt{\bar\alpha'}\,\beta_t}{1 - \bar\alpha}\hat x_0
             + \frac{\sqrt{\alpha_t}(1 - \bar\alpha')}{1 - \bar\alpha} x + \sqrt{\tilde\beta}\,\xi, \qquad
        \tilde\beta = \frac{1 - \bar\alpha'}{1 - \bar\alpha}\beta_t,

    with :math:`\hat x_0 = (x - \sqrt{1 - \bar\alpha}\,\hat\varepsilon)/\sqrt{\bar\alpha}` affine in x.
    Written from eq. (7) independently of :func:`ddim_law`; mathematically the same as
    ``ddim_law(..., eta=1)`` (Song et al. 2021, Sec. 4.1), which the tests check.

    Parameters
    ----------
    eps_model, alpha_bars, law_start, rtol
        As in :func:`ddim_law`.

    Returns
    -------
    DiffusionLaws
        The laws at every level.

    Raises
    ------
    TypeError, ValueError
        As :func:`ddim_law`.
    """
    def step(e_matrix, e_offset, ab, abp):
        g_matrix, g_offset = _denoised_affine(e_matrix, e_offset, ab)
        beta_t = (abp - ab) / abp
        coef_denoised = np.sqrt(abp) * beta_t / (1.0 - ab)
        coef_x = np.sqrt(ab / abp) * (1.0 - abp) / (1.0 - ab)
        variance = (1.0 - abp) / (1.0 - ab) * beta_t
        matrix = coef_denoised * g_matrix + coef_x * np.eye(e_matrix.shape[0])
        return matrix, coef_denoised * g_offset, np.sqrt(variance) * np.eye(e_matrix.shape[0])

    return _diffusion_loop(eps_model, alpha_bars, law_start, rtol, step)
