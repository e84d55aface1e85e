r"""Exact fields of stochastic interpolants between Gaussian and Gaussian-mixture endpoints.

For a pair p of a base component :math:`N(m_0, S_0)` and a target component
:math:`N(m_1, S_1)` with cross-covariance :math:`C = \operatorname{Cov}(x_0, x_1)`,
:math:`x_t = \alpha x_0 + \beta x_1 + \gamma z` is Gaussian with

.. math::

    \mu_p = \alpha m_0 + \beta m_1, \qquad
    \Sigma_p = \alpha^2 S_0 + \beta^2 S_1 + \alpha\beta (C + C^\top) + \gamma^2 I,

and every conditional expectation given :math:`x_t = x` is affine in x
(Gaussian conditioning). With :math:`w_p = \Sigma_p^{-1}(x - \mu_p)` and
:math:`K_p = \operatorname{Cov}(\partial_t I + \dot\gamma z, x_t) = \alpha\dot\alpha S_0 +
\beta\dot\beta S_1 + \dot\alpha\beta C + \alpha\dot\beta C^\top + \gamma\dot\gamma I`:

=====================  ===========================================================
score  s_p              :math:`-w_p`
noise  η_p = E[z|x]     :math:`\gamma w_p`
denoiser x̂0_p          :math:`m_0 + (\alpha S_0 + \beta C) w_p`
denoiser x̂1_p          :math:`m_1 + (\beta S_1 + \alpha C^\top) w_p`
drift  b_p              :math:`\dot\mu_p + K_p w_p`
velocity v_p            :math:`\dot\mu_p + (K_p - \gamma\dot\gamma I) w_p`
=====================  ===========================================================

For mixtures (independent coupling of base and target) the pairs are all
(j, k) with weights :math:`\pi_j \pi'_k`; each field is
:math:`\sum_p r_p(x) f_p(x)` with responsibilities
:math:`r_p \propto \pi_p N(x; \mu_p, \Sigma_p)` computed by log-sum-exp, and
:math:`\nabla\cdot b = \sum_p r_p [\operatorname{tr}(K_p\Sigma_p^{-1}) + b_p\cdot(s_p - s)]`.
Conventions and formulas: the README ("Conventions", "Exact fields");
arXiv:2303.08797v3, eqs. (2.10), (2.14), (2.17) and (2.21).

The product :math:`\gamma\dot\gamma` enters only through the schedule's closed
form, so every field is finite on the closed interval [0, 1] (Brownian
schedules included) whenever :math:`\Sigma_p(t)` is positive definite, which
holds for SPD endpoint covariances except for a degenerate cross-covariance
with :math:`\gamma = 0` (then a ``ValueError`` names the times).

Mirror interpolants (:math:`x_t = x_1 + \gamma z`) are the coupling
:math:`x_0 = x_1` of the target with itself (:math:`C = S_1`), so
:math:`\hat x_0 = \hat x_1`, :math:`v = 0` and :math:`b = -\gamma\dot\gamma s`.
One-sided interpolants need the base :math:`N(0, I)`.

Shapes: ``x`` is (n, d); ``t`` is a scalar or (n,) (one time per point);
vector fields return (n, d), scalar fields (n,).

Evaluation: the points are processed in blocks that fit the caches (a few hundred to a few
thousand points), so memory stays bounded for any n. With one time for all points, the
per-pair arrays are laid out (P, d, n), the Cholesky solves are substitutions vectorised
over pairs and points, and the per-time state (means, covariances and their Cholesky
factors) is cached for the last time asked (samplers ask for the same t repeatedly);
with one time per point each point gets its own state. Both paths compute the same
formulas and agree to rounding. :meth:`GaussianCase.drift_and_score` returns the drift and
the score of one evaluation.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.integrate import solve_ivp
from scipy.linalg import cho_solve
from scipy.special import logsumexp

from ._checks import (
    as_points,
    as_time_scalar,
    as_times,
    finite_log_weights,
    nonnegative_of_time,
    solver_tolerances,
    squared_norm,
    time_column,
)
from .distributions import Gaussian, GaussianMixture
from .interpolants import Interpolant

__all__ = ["GaussianCase", "GaussianComponents", "JOINT_PSD_TOLERANCE", "COMMUTE_TOLERANCE"]

#: A joint covariance [[S0, C], [Cᵀ, S1]] may have eigenvalues down to −tol · its largest entry.
JOINT_PSD_TOLERANCE = 1e-12
#: Matrices are treated as commuting when ‖AB − BA‖ ≤ tol · ‖A‖ ‖B‖ (max-abs norms).
COMMUTE_TOLERANCE = 1e-13
LOG_2PI = np.log(2.0 * np.pi)


class GaussianComponents(NamedTuple):
    """Parameters of the Gaussian components of :math:`\\rho_t = \\sum_p \\pi_p N(\\mu_p(t), \\Sigma_p(t))`.

    Attributes
    ----------
    weights : ndarray, shape (P,)
        :math:`\\pi_p`, summing to 1.
    means : ndarray, shape (P, d) or (m, P, d)
        :math:`\\mu_p(t)` (the leading axis follows an array ``t`` of shape (m,)).
    covs : ndarray, shape (P, d, d) or (m, P, d, d)
        :math:`\\Sigma_p(t)`.
    """

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray


class _PairState(NamedTuple):
    """Everything about the pairs at times t (leading axis m = 1 for scalar t, else n)."""

    gamma: np.ndarray          # (m, 1, 1)
    gamma_gamma_dot: np.ndarray  # (m, 1, 1)
    mean: np.ndarray           # (m, P, d)      μ_p
    mean_dot: np.ndarray       # (m, P, d)      μ̇_p
    cov: np.ndarray            # (m, P, d, d)   Σ_p
    chol: np.ndarray           # (m, P, d, d)   lower Cholesky factor of Σ_p
    K_velocity: np.ndarray     # (m, P, d, d)   Cov(∂_t I, x_t) = K − γγ̇ I
    gain0: np.ndarray          # (m, P, d, d)   α S0 + β C   = Cov(x0, x_t)
    gain1: np.ndarray          # (m, P, d, d)   β S1 + α Cᵀ  = Cov(x1, x_t)


#: Points per block: the per-pair arrays of one block (P × d values per point, or P × d² for one
#: time per point) hold about this many float64 values, so that a block stays in the caches, but
#: a block has at least _MIN_ROWS points (a few per time per point, where every point has its own
#: Cholesky factors), so that the per-block calls (about 2d + 20) are amortised.
#: Blocks only bound the memory: each row is computed on its own.
_BLOCK_VALUES = 2**16
_MIN_ROWS = 512
#: With one time for all points, a block's rows are also capped so that every matrix product
#: (at most d² multiply-adds per point, in K_p w_p) stays on one BLAS thread: OpenBLAS threads
#: products above 2^18 multiply-adds, and for these small products its threads waiting for each
#: other cost more than they save, by orders of magnitude when the cores are shared or busy.
_ONE_THREAD_PRODUCT = 2**18


class _SharedTime(NamedTuple):
    """The pair state at one time shared by all points, with what every block reuses."""

    state: _PairState          # leading axis m = 1
    mean_columns: np.ndarray   # (P, d, 1)   μ_p as columns
    chol: np.ndarray           # (P, d, d)   lower Cholesky factor L_p of Σ_p
    log_constant: np.ndarray   # (P,)        log π_p − log det L_p − (d/2) log 2π


class _Evaluation(NamedTuple):
    """Per-point, per-pair quantities at (x, t) for one block of n points, in one of two layouts.

    One time for all points (``shared``): vectors per pair and point are (P, d, n) and scalars
    (P, n), so each pair's points form one contiguous matrix for BLAS. One time per point:
    (n, P, d) and (n, P), with a pair state per point.
    """

    state: _PairState
    shared: bool
    w: np.ndarray                 # Σ_p⁻¹ (x − μ_p)                 (P, d, n) | (n, P, d)
    log_joint: np.ndarray         # log π_p + log N(x; μ_p, Σ_p)    (P, n)    | (n, P)
    responsibilities: np.ndarray  # r_p(x)                          (P, n)    | (n, P)


def _softmax(log_joint, axis):
    """Responsibilities exp(l − max l) / Σ exp(l − max l) along the pair axis, in a new array.

    The arithmetic of ``scipy.special.softmax`` without its per-call overhead.
    """
    r = log_joint - log_joint.max(axis=axis, keepdims=True)
    np.exp(r, out=r)
    r /= r.sum(axis=axis, keepdims=True)
    return r


def _substitute_forward(L, columns):
    """In place: columns ← L⁻¹ columns for lower-triangular L (P, d, d) and columns (P, d, n).

    Forward substitution, row by row for all pairs and points at once:
    y_i = (c_i − Σ_{j<i} L_ij y_j) / L_ii, the sum as one small matrix product per row.
    (A BLAS ``trsm`` per pair is somewhat faster on an idle machine, but BLAS runs it on
    several threads, which slow down by orders of magnitude when another process shares
    the cores; the block sizes keep these products on one thread, see ``_ONE_THREAD_PRODUCT``.)
    """
    for i in range(L.shape[-1]):
        if i:
            columns[:, i] -= np.matmul(L[:, i, None, :i], columns[:, :i])[:, 0]
        columns[:, i] /= L[:, i, i, None]


def _substitute_backward(L, columns):
    """In place: columns ← L⁻ᵀ columns, by back substitution on Lᵀ: w_i = (y_i − Σ_{j>i} L_ji w_j) / L_ii."""
    d = L.shape[-1]
    for i in reversed(range(d)):
        if i < d - 1:
            columns[:, i] -= np.matmul(L[:, None, i + 1:, i], columns[:, i + 1:])[:, 0]
        columns[:, i] /= L[:, i, i, None]


def _check_reachable(log_joint, x, start):
    """:func:`finite_log_weights` for a block of rows ``start, start + 1, ...`` of x, naming rows of the whole x.

    ``log_joint`` is (rows, P); the check passes unless some row is -inf for every pair.
    """
    if not np.isfinite(log_joint).any(axis=-1).all():
        earlier = np.zeros((start, log_joint.shape[-1]))     # rows of earlier blocks passed already
        finite_log_weights(np.concatenate([earlier, log_joint]), x)


def _check_finite_values(values, x, start):
    """Refuse field values beyond the float64 range (points near 1e154 and beyond in units of the
    standard deviations, where products such as b_p · s_p overflow), naming the row of the whole x."""
    for value in values:
        finite = np.isfinite(value)
        if not finite.all():
            row = start + int(np.argmax(~finite.reshape(finite.shape[0], -1).all(axis=1)))
            raise ValueError(
                f"a field value overflows float64 at row {row} of x (max |x| = {float(np.max(np.abs(x[row]))):.3g}): "
                f"the points or the endpoint means and covariances are too large for float64. Rescale the "
                f"problem so that points and means are below about 1e150."
            )


def _solve_lower(L, b):
    """L⁻¹ b for lower-triangular L (..., d, d) and b (..., d, k), by forward substitution.

    Vectorised over the leading axes with a loop over the d rows only: for many
    small systems (one per point and component) this is far faster than
    calling a LAPACK routine once per matrix.
    """
    y = np.empty(np.broadcast_shapes(L.shape[:-1], b.shape[:-2] + (L.shape[-1],)) + b.shape[-1:])
    for i in range(L.shape[-1]):
        partial = np.einsum("...j,...jk->...k", L[..., i, :i], y[..., :i, :])
        y[..., i, :] = (b[..., i, :] - partial) / L[..., i, i, None]
    return y


def _solve_lower_transpose(L, y):
    """L⁻ᵀ y for lower-triangular L (..., d, d), by back substitution on Lᵀ."""
    w = np.empty(np.broadcast_shapes(L.shape[:-1], y.shape[:-2] + (L.shape[-1],)) + y.shape[-1:])
    for i in reversed(range(L.shape[-1])):
        partial = np.einsum("...j,...jk->...k", L[..., i + 1:, i], w[..., i + 1:, :])
        w[..., i, :] = (y[..., i, :] - partial) / L[..., i, i, None]
    return w


def _same_distribution(a, b) -> bool:
    if type(a) is not type(b):
        return False
    names = ("mean", "cov") if isinstance(a, Gaussian) else ("weights", "means", "covs")
    return all(np.array_equal(getattr(a, n), getattr(b, n)) for n in names)


def _max_abs(a):
    return float(np.max(np.abs(a))) if a.size else 0.0


def _commute(a, b):
    return _max_abs(a @ b - b @ a) <= COMMUTE_TOLERANCE * max(_max_abs(a) * _max_abs(b), 1e-300)


def sym_sqrt(s):
    """Symmetric square root of a symmetric positive semidefinite matrix (eigendecomposition)."""
    eigenvalues, vectors = np.linalg.eigh(s)
    return (vectors * np.sqrt(np.maximum(eigenvalues, 0.0))) @ vectors.T


class GaussianCase:
    r"""Exact fields of the interpolant between Gaussian(-mixture) endpoints.

    Parameters
    ----------
    interpolant : Interpolant
        Any family. One-sided families need ``base`` = N(0, I) (or ``None``
        for it); mirror families map ``target`` to itself (``base`` must be
        ``None`` or ``target``).
    base, target : Gaussian or GaussianMixture
        Endpoint distributions of :math:`x_0` and :math:`x_1`, of equal dimension d.
    cross_cov : array_like, shape (d, d), optional
        :math:`C = \operatorname{Cov}(x_0, x_1)` of a jointly Gaussian coupling of
        two single Gaussians (two-sided families only). The joint covariance
        ``[[S0, C], [C.T, S1]]`` must be positive semidefinite. Default: independent.

    Raises
    ------
    TypeError, ValueError
        For mismatched types, dimensions or an invalid coupling, with the fix.
    """

    def __init__(self, interpolant: Interpolant, base, target, *, cross_cov=None):
        if not isinstance(interpolant, Interpolant):
            raise TypeError(
                f"interpolant must be an Interpolant such as LinearInterpolant(BrownianGamma()); "
                f"received {type(interpolant).__name__}."
            )
        if not isinstance(target, (Gaussian, GaussianMixture)):
            raise TypeError(
                f"target must be a Gaussian or GaussianMixture; received {type(target).__name__}."
            )
        d = target.dim
        kind = interpolant.kind
        if kind == "mirror":
            if base is not None and not _same_distribution(base, target):
                raise ValueError(
                    "base must be None (or equal to the target) for a mirror interpolant, which "
                    "maps the target distribution to itself; received a base that differs from it."
                )
            base = target
        elif kind == "one-sided" and base is None:
            base = Gaussian(np.zeros(d), np.eye(d))
        if not isinstance(base, (Gaussian, GaussianMixture)):
            raise TypeError(f"base must be a Gaussian or GaussianMixture; received {type(base).__name__}.")
        if base.dim != d:
            raise ValueError(
                f"base and target must have the same dimension; received base of dimension "
                f"{base.dim} and target of dimension {d}."
            )
        if kind == "one-sided" and not (
            isinstance(base, Gaussian) and np.array_equal(base.mean, np.zeros(d)) and np.array_equal(base.cov, np.eye(d))
        ):
            raise ValueError(
                "base must be the standard normal N(0, I) for a one-sided interpolant (x0 is "
                "the noise); pass base=None or Gaussian(np.zeros(d), np.eye(d))."
            )
        self.interpolant = interpolant
        self.base = base
        self.target = target
        self.dim = d
        self.cross_cov = None if cross_cov is None else self._check_cross_cov(cross_cov, kind)
        self._build_pairs(kind)
        self._last_time = None      # (key, _SharedTime) of the last single time evaluated

    # --- construction -------------------------------------------------------------------

    def _check_cross_cov(self, cross_cov, kind):
        if kind != "two-sided":
            raise ValueError(
                f"cross_cov applies to two-sided interpolants only; received a {kind} "
                f"interpolant ({type(self.interpolant).__name__}). Drop cross_cov."
            )
        if not (isinstance(self.base, Gaussian) and isinstance(self.target, Gaussian)):
            raise ValueError(
                "cross_cov couples two single Gaussians; mixtures use the independent "
                "coupling. Drop cross_cov or pass Gaussian endpoints."
            )
        c = np.asarray(cross_cov)
        if c.dtype.kind not in "iuf":
            raise TypeError(f"cross_cov must be a real (d, d) array; received dtype {c.dtype}.")
        d = self.dim
        if c.shape != (d, d):
            raise ValueError(f"cross_cov must have shape (d, d) = ({d}, {d}); received shape {c.shape}.")
        c = c.astype(np.float64, copy=True)
        if not np.isfinite(c).all():
            raise ValueError("cross_cov must contain only finite values; received NaN or inf.")
        joint = np.block([[self.base.cov, c], [c.T, self.target.cov]])
        smallest = float(np.linalg.eigvalsh(joint)[0])
        if smallest < -JOINT_PSD_TOLERANCE * _max_abs(joint):
            raise ValueError(
                f"cross_cov gives an invalid joint covariance [[S0, C], [C.T, S1]]: its smallest "
                f"eigenvalue is {smallest:.3g} < 0. A valid C satisfies S1 - C.T S0^-1 C >= 0, "
                f"e.g. C = S0^(1/2) R S1^(1/2) with ||R|| <= 1."
            )
        c.setflags(write=False)
        return c

    def _build_pairs(self, kind):
        """Stack the (base, target) component pairs: arrays with a leading axis P."""
        def parts(dist):
            if isinstance(dist, Gaussian):
                return np.ones(1), dist.mean[None], dist.cov[None]
            return dist.weights, dist.means, dist.covs

        w1, m1, s1 = parts(self.target)
        if kind == "mirror":  # the coupling x0 = x1 of the target with itself
            self._log_weights = np.log(w1)
            self._m0, self._s0, self._m1, self._s1, self._c = m1, s1, m1, s1, s1
            return
        w0, m0, s0 = parts(self.base)
        j, k = np.meshgrid(np.arange(len(w0)), np.arange(len(w1)), indexing="ij")
        j, k = j.ravel(), k.ravel()
        self._log_weights = np.log(w0[j]) + np.log(w1[k])      # weights are normalised by GaussianMixture
        self._m0, self._s0, self._m1, self._s1 = m0[j], s0[j], m1[k], s1[k]
        c = np.zeros((1, self.dim, self.dim)) if self.cross_cov is None else self.cross_cov[None]
        self._c = np.broadcast_to(c, self._s0.shape)

    @property
    def n_pairs(self) -> int:
        """The number P of Gaussian components of :math:`\\rho_t`."""
        return self._log_weights.size

    # --- per-time parameters ----------------------------------------------------------------

    def _coefficients(self, t):
        """α, α̇, β, β̇, γ, γγ̇ at validated times t (any shape), via the interpolant's closed forms."""
        I = self.interpolant
        return (I._alpha(t), I._alpha_dot(t), I._beta(t), I._beta_dot(t),
                I.gamma_schedule._gamma(t), I.gamma_schedule._gamma_gamma_dot(t))

    def _state(self, t: np.ndarray) -> _PairState:
        """Pair parameters at times t of shape (m,)."""
        a, a_dot, b, b_dot, g, gg_dot = (c[:, None, None, None] for c in self._coefficients(t))
        s0, s1, c = self._s0[None], self._s1[None], self._c[None]
        ct = np.swapaxes(c, -1, -2)
        eye = np.eye(self.dim)
        with np.errstate(over="ignore", invalid="ignore"):   # parameters near 1e308: the fields are refused later
            cov = a**2 * s0 + b**2 * s1 + a * b * (c + ct) + g**2 * eye
            K_velocity = a * a_dot * s0 + b * b_dot * s1 + a_dot * b * c + a * b_dot * ct   # K = K_velocity + γγ̇ I
            a3, a_dot3, b3, b_dot3 = (v[..., 0] for v in (a, a_dot, b, b_dot))
            mean = a3 * self._m0[None] + b3 * self._m1[None]
            mean_dot = a_dot3 * self._m0[None] + b_dot3 * self._m1[None]
        if not (np.isfinite(cov).all() and np.isfinite(mean).all()):
            raise ValueError(
                "the mean or covariance of x_t overflows float64 (endpoint means or covariances near "
                "1e308); rescale the problem."
            )
        try:
            chol = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            singular = [float(t[i]) for i in range(t.size) if np.any(np.linalg.eigvalsh(cov[i])[..., 0] <= 0)]
            raise ValueError(
                f"the covariance of x_t is singular at t = {singular[:5]}: with this coupling "
                f"and gamma = 0, x_t is degenerate and its density and fields are undefined "
                f"there. Use a gamma schedule that is positive inside (0, 1) or another cross_cov."
            ) from None
        return _PairState(
            gamma=g[:, :, :, 0], gamma_gamma_dot=gg_dot[:, :, :, 0], mean=mean, mean_dot=mean_dot,
            cov=cov, chol=chol, K_velocity=K_velocity, gain0=a * s0 + b * c, gain1=b * s1 + a * ct,
        )

    def _shared_time(self, t: float) -> _SharedTime:
        """The pair state at one time t for all points.

        Cached for the last time asked: samplers call the fields repeatedly at one t (RK4's
        middle stages, drift then score), and the state (a Cholesky factor per pair) is the
        same each time. The key is t's exact bits and the interpolant, so the cache never
        changes a value.
        """
        key = (t.hex(), self.interpolant)
        cached = self._last_time
        if cached is not None and cached[0][0] == key[0] and cached[0][1] is key[1]:
            return cached[1]
        state = self._state(np.array([t]))
        for array in state:
            array.setflags(write=False)
        chol = state.chol[0]
        half_log_det = np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(-1)
        shared = _SharedTime(
            state=state,
            mean_columns=state.mean[0][:, :, None],
            chol=chol,
            log_constant=self._log_weights - half_log_det - 0.5 * self.dim * LOG_2PI,
        )
        self._last_time = (key, shared)
        return shared

    def _evaluate_shared(self, x, block: slice, shared: _SharedTime) -> _Evaluation:
        """Rows ``block`` of x at the one time of ``shared``: layout (P, d, n), one column per point."""
        w = np.empty((self.n_pairs, self.dim, block.stop - block.start))
        np.subtract(x[block].T[None], shared.mean_columns, out=w)            # x − μ_p
        _substitute_forward(shared.chol, w)                                    # L_p⁻¹ (x − μ_p)
        log_joint = shared.log_constant[:, None] - 0.5 * squared_norm(w, axis=1)   # (P, n)
        _check_reachable(log_joint.T, x, block.start)
        _substitute_backward(shared.chol, w)                                   # Σ_p⁻¹ (x − μ_p) = L_p⁻ᵀ L_p⁻¹ (x − μ_p)
        return _Evaluation(shared.state, True, w, log_joint, _softmax(log_joint, axis=0))

    def _evaluate_per_point(self, x, block: slice, t) -> _Evaluation:
        """Rows ``block`` of x, row i at time t[i]: layout (n, P, d), vectorised substitution."""
        x_block = x[block]
        state = self._state(t[block])
        centred = x_block[:, None, :, None] - state.mean[..., None]          # (n, P, d, 1)
        y = _solve_lower(state.chol, centred)                                  # L⁻¹ (x − μ)
        w = _solve_lower_transpose(state.chol, y)                              # Σ⁻¹ (x − μ) = L⁻ᵀ L⁻¹ (x − μ)
        half_log_det = np.log(np.diagonal(state.chol, axis1=-2, axis2=-1)).sum(-1)  # (n, P)
        log_normal = -0.5 * squared_norm(y, axis=-2) - half_log_det[..., None] - 0.5 * self.dim * LOG_2PI
        log_joint = self._log_weights + log_normal[..., 0]
        _check_reachable(log_joint, x, block.start)
        return _Evaluation(state, False, w[..., 0], log_joint, _softmax(log_joint, axis=1))

    def _refuse_infinite_derivatives(self, t):
        """A clear error where a non-finite field value comes from an infinite α̇ or β̇ (not from large x)."""
        times = np.unique(np.reshape(t, -1))
        _, alpha_dot, _, beta_dot, _, _ = self._coefficients(times)
        infinite = ~(np.isfinite(alpha_dot) & np.isfinite(beta_dot))
        if infinite.any():
            raise ValueError(
                f"alpha_dot or beta_dot of {type(self.interpolant).__name__} is infinite at t = "
                f"{times[infinite][:5].tolist()}: the velocity, drift and divergence are formed from them and are "
                f"undefined there (their limit may be finite). Evaluate them at other times; for a diffusion path, "
                f"DiffusionCase.flow_velocity is finite at tau = 0."
            )

    def _blockwise(self, x, t, compute) -> tuple:
        """Validate (x, t) and apply ``compute`` to the evaluation of each block of points.

        ``compute(e)`` returns a tuple of arrays with the block's points along the first axis;
        the blocks' results are assembled into new arrays with n rows. Blocks bound the
        memory of the per-pair arrays (n P d values; n P d² for one time per point).
        """
        x = as_points(x, "x", d=self.dim)
        t = as_times(t)
        n = x.shape[0]
        time_column(t, n)                                        # validates the shape of t
        if t.ndim == 0:
            shared = self._shared_time(float(t))
            rows = max(1, min(max(_BLOCK_VALUES // (self.n_pairs * self.dim), _MIN_ROWS),
                              _ONE_THREAD_PRODUCT // self.dim**2))
            evaluate = lambda block: self._evaluate_shared(x, block, shared)  # noqa: E731
        else:
            rows = max(_BLOCK_VALUES // (self.n_pairs * self.dim**2), _MIN_ROWS // 8)
            evaluate = lambda block: self._evaluate_per_point(x, block, t)  # noqa: E731
        outputs = None
        for start in range(0, max(n, 1), rows):
            block = slice(start, min(start + rows, n))
            with np.errstate(over="ignore", invalid="ignore"):  # overflow is refused just below
                values = compute(evaluate(block))
            try:
                _check_finite_values(values, x, block.start)
            except ValueError:
                self._refuse_infinite_derivatives(t)
                raise
            if outputs is None:
                if block.stop == n:                              # one block: its results are the outputs
                    return tuple(np.ascontiguousarray(v) for v in values)
                outputs = tuple(np.empty((n,) + v.shape[1:]) for v in values)
            for out, value in zip(outputs, values):
                out[block] = value
        return outputs

    # --- per-pair arithmetic, in either layout of _Evaluation ---------------------------------

    @staticmethod
    def _per_point(array, n):
        """Broadcast a per-time array (m, P, ...) to per-point (n, P, ...)."""
        return np.broadcast_to(array, (n,) + array.shape[1:])

    @staticmethod
    def _points(e: _Evaluation) -> int:
        """The number of points of the block."""
        return e.w.shape[-1] if e.shared else e.w.shape[0]

    def _pair_vectors(self, e: _Evaluation, vectors):
        """Per-pair vectors (m, P, d), e.g. μ̇_p, in the layout of ``e``."""
        return vectors[0][:, :, None] if e.shared else self._per_point(vectors, self._points(e))

    def _pair_scalars(self, e: _Evaluation, scalars):
        """Per-pair scalars (m, P), e.g. tr(Σ_p⁻¹), in the layout of ``e.responsibilities``."""
        return scalars[0][:, None] if e.shared else self._per_point(scalars, self._points(e))

    def _matvec(self, e: _Evaluation, matrices):
        """M_p w_p for per-pair matrices M of shape (m, P, d, d), in the layout of ``e``."""
        if e.shared:
            return np.matmul(matrices[0], e.w)                                 # P BLAS products (d, d) (d, n)
        return np.einsum("npij,npj->npi", self._per_point(matrices, e.w.shape[0]), e.w)

    @staticmethod
    def _average(e: _Evaluation, per_pair):
        """Σ_p r_p f_p for per-pair vectors f in the layout of ``e``; returns (n, d)."""
        if e.shared:
            return np.einsum("pn,pdn->nd", e.responsibilities, per_pair)
        return np.einsum("np,npd->nd", e.responsibilities, per_pair)

    @staticmethod
    def _spread(e: _Evaluation, field):
        """A field (n, d) as per-pair vectors (every pair gets the same value at a point)."""
        return field.T[None] if e.shared else field[:, None, :]

    @staticmethod
    def _pair_dot(e: _Evaluation, a, b):
        """a_p · b_p for per-pair vectors, in the layout of ``e.responsibilities``."""
        return np.einsum("pdn,pdn->pn", a, b) if e.shared else np.einsum("npd,npd->np", a, b)

    @staticmethod
    def _expect(e: _Evaluation, per_pair):
        """Σ_p r_p c_p for per-pair scalars c; returns (n,)."""
        return np.einsum("pn,pn->n", e.responsibilities, per_pair) if e.shared else \
            np.einsum("np,np->n", e.responsibilities, per_pair)

    def _velocity_pairs(self, e: _Evaluation):
        """v_p = μ̇_p + (K_p − γγ̇ I) Σ_p⁻¹ (x − μ_p)."""
        pairs = self._matvec(e, e.state.K_velocity)
        pairs += self._pair_vectors(e, e.state.mean_dot)
        return pairs

    def _drift_pairs(self, e: _Evaluation):
        """b_p = μ̇_p + K_p Σ_p⁻¹ (x − μ_p) = v_p + γγ̇ w_p."""
        pairs = self._velocity_pairs(e)
        pairs += e.state.gamma_gamma_dot * e.w
        return pairs

    # --- public fields --------------------------------------------------------------------------

    def log_density(self, x, t) -> np.ndarray:
        r""":math:`\log\rho_t(x)`; x (n, d), t scalar or (n,); returns (n,)."""
        return self._blockwise(x, t, lambda e: (logsumexp(e.log_joint, axis=0 if e.shared else 1),))[0]

    def density(self, x, t) -> np.ndarray:
        r""":math:`\rho_t(x)`; returns (n,)."""
        return np.exp(self.log_density(x, t))

    def score(self, x, t) -> np.ndarray:
        r"""Score :math:`s = \nabla\log\rho_t(x) = -\sum_p r_p \Sigma_p^{-1}(x - \mu_p)`; returns (n, d)."""
        return self._blockwise(x, t, lambda e: (-self._average(e, e.w),))[0]

    def noise(self, x, t) -> np.ndarray:
        r"""Noise :math:`\eta = E[z \mid x_t = x] = \gamma \sum_p r_p \Sigma_p^{-1}(x - \mu_p) = -\gamma s`; returns (n, d)."""
        return self._blockwise(x, t, lambda e: (e.state.gamma[:, :, 0] * self._average(e, e.w),))[0]

    def denoise_x0(self, x, t) -> np.ndarray:
        r"""Denoiser :math:`\hat x_0 = E[x_0 \mid x_t = x]`; returns (n, d)."""
        return self._blockwise(x, t, lambda e: (
            self._average(e, self._pair_vectors(e, self._m0[None]) + self._matvec(e, e.state.gain0)),))[0]

    def denoise_x1(self, x, t) -> np.ndarray:
        r"""Denoiser :math:`\hat x_1 = E[x_1 \mid x_t = x]`; returns (n, d)."""
        return self._blockwise(x, t, lambda e: (
            self._average(e, self._pair_vectors(e, self._m1[None]) + self._matvec(e, e.state.gain1)),))[0]

    def drift(self, x, t) -> np.ndarray:
        r"""Drift :math:`b = E[\partial_t I + \dot\gamma z \mid x_t = x]` (the probability-flow velocity); returns (n, d)."""
        return self._blockwise(x, t, lambda e: (self._average(e, self._drift_pairs(e)),))[0]

    def drift_and_score(self, x, t) -> tuple[np.ndarray, np.ndarray]:
        r"""Drift :math:`b` and score :math:`s` at (x, t) from one evaluation: ``(drift(x, t), score(x, t))``.

        Both are averages over the components with the same responsibilities and the same
        :math:`\Sigma_p^{-1}(x - \mu_p)`, so one call costs about half of :meth:`drift`
        followed by :meth:`score` (the SDEs :math:`dX = (b \pm \varepsilon s)\,dt + \sqrt{2\varepsilon}\,dW`
        need both). The values are those of :meth:`drift` and :meth:`score`, bit for bit.

        Parameters
        ----------
        x : ndarray, shape (n, d)
        t : float or ndarray, shape (n,)

        Returns
        -------
        drift, score : ndarray, shape (n, d)
        """
        return self._blockwise(x, t, lambda e: (self._average(e, self._drift_pairs(e)), -self._average(e, e.w)))

    def velocity(self, x, t) -> np.ndarray:
        r"""Velocity :math:`v = E[\partial_t I \mid x_t = x] = b + \gamma\dot\gamma s`; returns (n, d).

        Exactly zero for mirror interpolants (:math:`\dot\alpha = \dot\beta = 0`).
        """
        return self._blockwise(x, t, lambda e: (self._average(e, self._velocity_pairs(e)),))[0]

    def _divergence(self, e: _Evaluation):
        eye = np.broadcast_to(np.eye(self.dim), e.state.cov.shape)
        K = e.state.K_velocity + e.state.gamma_gamma_dot[..., None] * eye
        sigma_inv_K = _solve_lower_transpose(e.state.chol, _solve_lower(e.state.chol, K))
        trace = np.trace(sigma_inv_K, axis1=-2, axis2=-1)                      # tr(Σ⁻¹K) = tr(KΣ⁻¹)
        b_pairs = self._drift_pairs(e)
        s_pairs = -e.w
        s = self._average(e, s_pairs)
        inner = self._pair_dot(e, b_pairs, s_pairs - self._spread(e, s))
        return self._expect(e, self._pair_scalars(e, trace) + inner)

    def divergence(self, x, t) -> np.ndarray:
        r""":math:`\nabla\cdot b = \sum_p r_p [\operatorname{tr}(K_p\Sigma_p^{-1}) + b_p\cdot(s_p - s)]`; returns (n,)."""
        return self._blockwise(x, t, lambda e: (self._divergence(e),))[0]

    def _score_divergence(self, e: _Evaluation):
        inverse_factor = _solve_lower(e.state.chol, np.broadcast_to(np.eye(self.dim), e.state.cov.shape))
        trace = np.sum(inverse_factor**2, axis=(-2, -1))                       # tr(Σ⁻¹) = ‖L⁻¹‖²_F
        s_pairs = -e.w
        s = self._average(e, s_pairs)
        inner = self._pair_dot(e, s_pairs, s_pairs - self._spread(e, s))
        return self._expect(e, -self._pair_scalars(e, trace) + inner)

    def score_divergence(self, x, t) -> np.ndarray:
        r""":math:`\nabla\cdot s = \Delta\log\rho_t = \sum_p r_p [-\operatorname{tr}(\Sigma_p^{-1}) + s_p\cdot(s_p - s)]`; returns (n,).

        From :math:`\nabla r_p = r_p (s_p - s)`. Used by the SDE likelihood estimator
        (:math:`\nabla\cdot b_F = \nabla\cdot b + \varepsilon\nabla\cdot s`).
        """
        return self._blockwise(x, t, lambda e: (self._score_divergence(e),))[0]

    def _drift_and_mean_w(self, x, t):
        """(b, Σ_p r_p Σ_p⁻¹ (x − μ_p)) = (b, −s) at (x, t)."""
        return self._blockwise(x, t, lambda e: (self._average(e, self._drift_pairs(e)), self._average(e, e.w)))

    def forward_drift(self, x, t, eps) -> np.ndarray:
        r"""Forward SDE drift :math:`b_F = b + \varepsilon(t) s` (arXiv:2303.08797v3, eq. (2.21)).

        :math:`dX = b_F\,dt + \sqrt{2\varepsilon}\,dW` forward in time has marginals :math:`\rho_t`.
        ``eps``: a number >= 0 or a callable of t returning such values.
        """
        b, mean_w = self._drift_and_mean_w(x, t)
        eps_t = nonnegative_of_time(eps, as_times(t), "eps")
        return b - np.reshape(eps_t, (-1, 1)) * mean_w

    def backward_drift(self, x, t, eps) -> np.ndarray:
        r"""Backward SDE drift :math:`b_B = b - \varepsilon(t) s`, for :math:`dX = b_B\,dt + \sqrt{2\varepsilon}\,dW` run with decreasing t."""
        b, mean_w = self._drift_and_mean_w(x, t)
        eps_t = nonnegative_of_time(eps, as_times(t), "eps")
        return b + np.reshape(eps_t, (-1, 1)) * mean_w

    # --- parameters of ρ_t -------------------------------------------------------------------

    def components(self, t) -> GaussianComponents:
        r"""Weights, means :math:`\mu_p(t)` and covariances :math:`\Sigma_p(t)` of the P components of :math:`\rho_t`."""
        tt = as_times(t)
        state = self._state(tt.reshape(-1))
        means, covs = state.mean, state.cov
        if tt.ndim == 0:
            means, covs = means[0], covs[0]
        return GaussianComponents(np.exp(self._log_weights), means, covs)

    def _single(self, name):
        if self.n_pairs != 1:
            raise ValueError(
                f"{name} is defined for single-Gaussian cases; this case has {self.n_pairs} "
                f"components. Use components(t) for mixtures."
            )

    def mean(self, t) -> np.ndarray:
        r""":math:`\mu(t) = \alpha m_0 + \beta m_1` of a single-Gaussian case: shape (d,) or (m, d)."""
        self._single("mean")
        means = self.components(t).means
        return means[..., 0, :]

    def cov(self, t) -> np.ndarray:
        r""":math:`\Sigma(t)` of a single-Gaussian case: shape (d, d) or (m, d, d)."""
        self._single("cov")
        return self.components(t).covs[..., 0, :, :]

    # --- exact flow map ---------------------------------------------------------------------

    def commuting(self) -> bool:
        r"""True when :math:`S_0, S_1, C` are symmetric and commute, so :math:`K = \tfrac12\dot\Sigma` and
        the flow map is :math:`\Phi = \Sigma_t^{1/2}\Sigma_{t_0}^{-1/2}`."""
        self._single("commuting")
        s0, s1, c = self._s0[0], self._s1[0], self._c[0]
        symmetric = _max_abs(c - c.T) <= COMMUTE_TOLERANCE * max(_max_abs(c), 1e-300)
        return symmetric and _commute(s0, s1) and _commute(s0, c) and _commute(s1, c)

    def flow_matrix(self, t1, t0, *, rtol=1e-12, atol=1e-14) -> np.ndarray:
        r"""The matrix :math:`\Phi(t_1, t_0)` of the exact ODE flow :math:`X_{t_1} = \mu_{t_1} + \Phi (X_{t_0} - \mu_{t_0})`.

        :math:`\Phi` solves :math:`\partial_{t_1}\Phi = K\Sigma^{-1}\Phi`, :math:`\Phi(t_0, t_0) = I`.
        When :math:`S_0, S_1, C` commute (:meth:`commuting`) it is the closed form
        :math:`\Sigma_{t_1}^{1/2}\Sigma_{t_0}^{-1/2}`; otherwise the matrix ODE is
        integrated by ``scipy.integrate.solve_ivp`` (DOP853, ``rtol``, ``atol``: finite and
        positive, ``rtol`` at least 100 machine epsilons; checked also when the closed form
        is used). ``t0 > t1`` integrates backwards. Single-Gaussian cases only.
        """
        self._single("flow_matrix")
        rtol, atol = solver_tolerances(rtol, atol)
        t0, t1 = as_time_scalar(t0, "t0"), as_time_scalar(t1, "t1")
        d = self.dim
        if t0 == t1:
            return np.eye(d)
        if self.commuting():
            # Σ1^{1/2} Σ0^{-1/2} = Σ0^{-1/2} Σ1^{1/2} (they commute): a solve, no inverse
            return np.linalg.solve(sym_sqrt(self.cov(t0)), sym_sqrt(self.cov(t1)))

        def rhs(t, phi):
            state = self._state(np.array([t]))
            K = state.K_velocity[0, 0] + state.gamma_gamma_dot[0, 0, 0] * np.eye(d)
            velocity_matrix = cho_solve((state.chol[0, 0], True), K.T).T   # K Σ⁻¹ = (Σ⁻¹ Kᵀ)ᵀ
            return (velocity_matrix @ phi.reshape(d, d)).ravel()

        solution = solve_ivp(rhs, (t0, t1), np.eye(d).ravel(), method="DOP853", rtol=rtol, atol=atol)
        if not solution.success:
            raise RuntimeError(f"flow-map integration failed: {solution.message}")
        return solution.y[:, -1].reshape(d, d)

    def flow_map(self, x, t1, t0, **tolerances) -> np.ndarray:
        r"""Transport points x ~ ρ_{t0} (n, d) along the probability flow to time t1: returns (n, d).

        :math:`X_{t_1} = \mu_{t_1} + \Phi(t_1, t_0)(x - \mu_{t_0})`; see :meth:`flow_matrix`.
        """
        x = as_points(x, "x", d=self.dim)
        phi = self.flow_matrix(t1, t0, **tolerances)
        return self.mean(float(t1)) + (x - self.mean(float(t0))) @ phi.T
