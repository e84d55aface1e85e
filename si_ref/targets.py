r"""Variance-reduced regression targets for a Gaussian base: conditional on x1, and over a reference block.

The plain regression target of a field (:mod:`si_ref.losses`), e.g.
:math:`y = \dot\alpha x_0 + \dot\beta x_1 + \dot\gamma z` for the drift b, has
:math:`E[y \mid x_t] = b(x_t)`, but its conditional variance is large: near
t = 0 the Brownian :math:`\dot\gamma z` and the unresolved :math:`x_0` and
:math:`x_1` make it 10²-10³ times :math:`E|b|^2` on the ring case of
``si_ref/validation/fit_drift.py``. When the base is Gaussian, :math:`x_0 \sim N(m_0, S_0)`
independent of :math:`x_1` and z, two exact identities remove most of it.

**Conditional on x1 (Rao-Blackwell).** Given :math:`x_1`, the point
:math:`x = \alpha x_0 + \beta x_1 + \gamma z` is Gaussian, :math:`x \mid x_1 \sim
N(\alpha m_0 + \beta x_1, K)` with :math:`K = \alpha^2 S_0 + \gamma^2 I`, so with
:math:`u = x - \alpha m_0 - \beta x_1` (Gaussian conditioning):

.. math::

    E[x_0 \mid x, x_1] = m_0 + \alpha S_0 K^{-1} u, \qquad E[z \mid x, x_1] = \gamma K^{-1} u,

and every target, being affine in :math:`(x_0, x_1, z)`, has a closed-form
:math:`\bar y(x, x_1) = E[y \mid x_t = x, x_1]`:

==============  =====================================================================
field           :math:`\bar y(x, x_1)`
==============  =====================================================================
drift b         :math:`\dot\alpha m_0 + \dot\beta x_1 + (\dot\alpha\alpha S_0 + \gamma\dot\gamma I) K^{-1} u`
velocity v      :math:`\dot\alpha m_0 + \dot\beta x_1 + \dot\alpha\alpha S_0 K^{-1} u`
noise η         :math:`\gamma K^{-1} u`
score s         :math:`-K^{-1} u` (the score of :math:`x \mid x_1`)
denoise_x0      :math:`m_0 + \alpha S_0 K^{-1} u`
denoise_x1      :math:`x_1`
==============  =====================================================================

By the tower property :math:`E[\bar y \mid x_t] = E[y \mid x_t]`: the same field, and
:math:`\operatorname{Var}(\bar y \mid x_t) \le \operatorname{Var}(y \mid x_t)`. Only
:math:`\gamma\dot\gamma` appears, which is finite where :math:`\dot\gamma` is not (Brownian γ at 0, 1).

**Over a reference block (stable target field).** :math:`\bar y` is affine in :math:`x_1`,
so :math:`E[y \mid x_t = x] = \bar y(x, E[x_1 \mid x_t = x])`. The posterior mean of
:math:`x_1` is estimated by self-normalised importance sampling over a block
:math:`\{x_1^{(j)}\}_{j \le B}` of target samples that contains the sample's own :math:`x_1`:

.. math::

    \hat m_1(x) = \sum_j \pi_j x_1^{(j)}, \qquad
    \pi_j \propto \exp\!\big(-\tfrac12 |x - \alpha m_0 - \beta x_1^{(j)}|^2_{K^{-1}}\big),

the "stable target field" of Xu, Tong, Li, Wang, Liu, Ji, Gong, Jaakkola & Sun,
*Stable Target Field for Reduced Variance Score Estimation in Diffusion Models*,
ICLR 2023 (arXiv:2302.00670, eq. (5)), here for every field of a stochastic
interpolant with a Gaussian base. Its bias is :math:`O(1/B)` and vanishes with the
block size; B = 1 is the Rao-Blackwell target. Blocks are consecutive runs of
``block_size`` samples of the batch (independent draws, so every block is a fresh
reference sample; the last block may be shorter).

Conventions: arXiv:2303.08797v3, eq. (2.1) for :math:`x_t` and eqs. (2.13)-(2.29) for
the targets (see :mod:`si_ref.losses`); shapes: t (n,), x and x1 (n, d).
"""

from __future__ import annotations

import numpy as np
from scipy.special import softmax

from ._checks import as_points, as_times
from .distributions import Gaussian
from .interpolants import Interpolant
from .losses import FIELD_TARGETS

__all__ = ["conditional_target", "reference_target", "conditional_variance_scale"]


def _check(name, interpolant, base, t, x, x1):
    if name not in FIELD_TARGETS:
        raise ValueError(f"name must be one of {list(FIELD_TARGETS)}; received {name!r}.")
    if not isinstance(interpolant, Interpolant):
        raise TypeError(f"interpolant must be an Interpolant; received {type(interpolant).__name__}.")
    if interpolant.kind == "mirror":
        raise ValueError("conditional targets need x0 independent of x1; a mirror interpolant has x0 = x1. "
                         "Use the plain targets (reference_size=None).")
    x1 = as_points(x1, "x1")
    d = x1.shape[1]
    x = as_points(x, "x", d=d)
    if base is None:
        base = Gaussian(np.zeros(d), np.eye(d))
    if not isinstance(base, Gaussian):
        raise TypeError(f"base must be a si_ref.Gaussian (or None for N(0, I)): the conditional targets use its "
                        f"mean and covariance; received {type(base).__name__}.")
    if base.dim != d:
        raise ValueError(f"base has dimension {base.dim} but the points have d = {d}.")
    t = as_times(t)
    if x.shape != x1.shape or t.shape != (x1.shape[0],):
        raise ValueError(f"t (n,), x (n, d) and x1 (n, d) must share n; received t {t.shape}, x {x.shape}, x1 {x1.shape}.")
    return base, t, x, x1


class _Frame:
    """The base's eigenbasis, S0 = U diag(λ) Uᵀ, where K = α² S0 + γ² I is diagonal: k = α² λ + γ²."""

    def __init__(self, interpolant, base, t):
        lam, self.U = np.linalg.eigh(base.cov)
        self.m0 = base.mean @ self.U
        I = interpolant
        self.alpha, self.alpha_dot = I.alpha(t)[:, None], I.alpha_dot(t)[:, None]
        self.beta, self.beta_dot = I.beta(t)[:, None], I.beta_dot(t)[:, None]
        self.gamma, self.gamma_gamma_dot = I.gamma(t)[:, None], I.gamma_gamma_dot(t)[:, None]
        self.lam = lam[None, :]
        self.k = self.alpha**2 * self.lam + self.gamma**2              # (n, d), diagonal of K
        singular = ~(self.k > 0).all(axis=1)
        if singular.any():
            raise ValueError(
                f"conditional targets are undefined where alpha^2 S0 + gamma^2 I is singular (x_t = beta x1 exactly), "
                f"at t = {np.unique(t[singular]).tolist()[:5]}; draw times away from them (e.g. t_max < 1)."
            )

    def rotate(self, x):
        return x @ self.U

    def target(self, name, x, x1):
        """ȳ(x, x1) in the eigenbasis (x, x1 rotated), per the table of the module docstring."""
        u_over_k = (x - self.alpha * self.m0 - self.beta * x1) / self.k
        if name == "drift":
            return self.alpha_dot * self.m0 + self.beta_dot * x1 + (self.alpha_dot * self.alpha * self.lam
                                                                     + self.gamma_gamma_dot) * u_over_k
        if name == "velocity":
            return self.alpha_dot * self.m0 + self.beta_dot * x1 + self.alpha_dot * self.alpha * self.lam * u_over_k
        if name == "noise":
            return self.gamma * u_over_k
        if name == "score":
            return -u_over_k
        if name == "denoise_x0":
            return self.m0 + self.alpha * self.lam * u_over_k
        return x1.copy()                                                # denoise_x1


def conditional_target(name, interpolant: Interpolant, base, t, x, x1) -> np.ndarray:
    r"""The Rao-Blackwellised target :math:`E[y \mid x_t = x, x_1]` of field ``name``; shape (n, d).

    Parameters
    ----------
    name : str
        One of ``si_ref.losses.FIELD_TARGETS``.
    interpolant : Interpolant
        Not a mirror one (x0 must be independent of x1).
    base : Gaussian or None
        The law of x0 (None: N(0, I)).
    t : ndarray (n,)
    x, x1 : ndarray (n, d)
        Points :math:`x_t` and the target samples they were drawn with.

    Raises
    ------
    ValueError
        Where :math:`K = \alpha^2 S_0 + \gamma^2 I` is singular (e.g. t = 1 for the linear
        interpolant): there :math:`x_t = \beta x_1` and the conditioning is degenerate.
    """
    base, t, x, x1 = _check(name, interpolant, base, t, x, x1)
    frame = _Frame(interpolant, base, t)
    return frame.target(name, frame.rotate(x), frame.rotate(x1)) @ frame.U.T


def reference_target(name, interpolant: Interpolant, base, t, x, x1, *, block_size: int) -> np.ndarray:
    r"""The stable-target-field estimate of :math:`E[y \mid x_t = x]` over blocks of ``block_size`` samples.

    Sample i of block :math:`\mathcal B` gets :math:`\bar y(x_i, \hat m_1(x_i))` with
    :math:`\hat m_1(x_i) = \sum_{j \in \mathcal B} \pi_{ij} x_1^{(j)}` (module docstring);
    the block contains sample i's own :math:`x_1^{(i)}`. Cost O(n · block_size · d).
    ``block_size=1`` gives :func:`conditional_target`.
    """
    if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise ValueError(f"block_size must be a positive integer; received {block_size!r}.")
    base, t, x, x1 = _check(name, interpolant, base, t, x, x1)
    frame = _Frame(interpolant, base, t)
    xr, x1r = frame.rotate(x), frame.rotate(x1)
    shifted = xr - frame.alpha * frame.m0                                   # x - α m0, (n, d)
    posterior_mean = np.empty_like(x1r)
    for start in range(0, x1r.shape[0], block_size):
        rows = slice(start, start + block_size)
        bank = x1r[rows]                                                   # (B, d)
        beta, inv_k = frame.beta[rows], 1.0 / frame.k[rows]                 # (b, 1), (b, d)
        # log π_ij = β x̃_i·K⁻¹ x1_j − β²/2 x1_j·K⁻¹ x1_j + const(i)
        logits = (beta * shifted[rows] * inv_k) @ bank.T - 0.5 * beta**2 * (inv_k @ (bank**2).T)
        posterior_mean[rows] = softmax(logits, axis=1) @ bank
    return frame.target(name, xr, posterior_mean) @ frame.U.T


def conditional_variance_scale(interpolant: Interpolant, base, t) -> np.ndarray:
    r"""Sample weights :math:`\kappa(t) = \alpha^2 \operatorname{tr}(S_0)/d + \gamma^2`, the mean variance of :math:`x_t \mid x_1`; shape (n,).

    The conditional targets of b, s and η carry :math:`K^{-1}u` with :math:`u \sim N(0, K)`,
    whose variance grows like :math:`1/\kappa` where :math:`K \to 0` (t → 1 for the linear
    interpolant: :math:`\kappa = 1 - t` with the Brownian γ), so the normal equations of
    an unweighted fit have a log-divergent variance over a slice that reaches t = 1.
    Weighting the squares by κ keeps it finite; the weighted least-squares minimiser is
    still the field wherever the model can represent it (the weights depend on t only).
    """
    if not isinstance(interpolant, Interpolant):
        raise TypeError(f"interpolant must be an Interpolant; received {type(interpolant).__name__}.")
    t = as_times(t)
    if base is None:
        mean_variance = 1.0
    elif isinstance(base, Gaussian):
        mean_variance = float(np.trace(base.cov)) / base.dim
    else:
        raise TypeError(f"base must be a si_ref.Gaussian (or None for N(0, I)); received {type(base).__name__}.")
    return interpolant.alpha(t) ** 2 * mean_variance + interpolant.gamma(t) ** 2
