r"""Couplings of two Gaussians with exact ground truth: optimal transport, entropic OT, Schrödinger bridge.

A coupling of the base :math:`\mu = N(m_0, S_0)` and the target :math:`\nu = N(m_1, S_1)` (both in
dimension d, covariances SPD) is a joint law of :math:`(x_0, x_1)` with these marginals. The
interpolant's exact fields depend on a jointly Gaussian coupling only through its cross-covariance
:math:`C = \operatorname{Cov}(x_0, x_1) = E[(x_0 - m_0)(x_1 - m_1)^\top]`, which
:class:`si_ref.GaussianCase` takes as ``cross_cov``. This module gives C in closed form for:

======================  =====================================  ==============================
coupling                cross-covariance C                     cost E|x0 − x1|²
======================  =====================================  ==============================
independent             0                                      |m0 − m1|² + tr S0 + tr S1
optimal transport (W2)  S0 A = L N^{1/2} L⁻¹                   W2² (the least possible)
entropic OT, ε ≥ 0      L H_ε L⁻¹                              :func:`coupling_cost`
Schrödinger bridge, σ   entropic OT with ε = 2σ²               :func:`coupling_cost`
======================  =====================================  ==============================

with the Cholesky factor :math:`S_0 = L L^\top`, the whitened target covariance
:math:`N = L^\top S_1 L = V \operatorname{diag}(n_i) V^\top` (SPD) and

.. math::

    A = L^{-\top} N^{1/2} L^{-1}, \qquad
    H_\varepsilon = V \operatorname{diag}\!\Big(\frac{n_i}{\sqrt{n_i + \varepsilon^2/16} + \varepsilon/4}\Big) V^\top
    = (N + \tfrac{\varepsilon^2}{16} I)^{1/2} - \tfrac{\varepsilon}{4} I.

**Optimal transport.** For the cost :math:`|x_0 - x_1|^2` the optimal coupling of two Gaussians
is deterministic, :math:`x_1 = T(x_0) = m_1 + A(x_0 - m_0)`, with A the unique symmetric positive
definite solution of :math:`A S_0 A = S_1`; in the usual notation
:math:`A = S_0^{-1/2}(S_0^{1/2} S_1 S_0^{1/2})^{1/2} S_0^{-1/2}` (Dowson & Landau 1982;
Olkin & Pukelsheim 1982; Knott & Smith 1984; Peyré & Cuturi, *Computational Optimal Transport*,
Remark 2.31). The form with L is the same matrix (it is symmetric PD and solves
:math:`A S_0 A = L^{-\top} N L^{-1} = S_1`), computed by triangular solves and one
symmetric eigendecomposition, with no inverse formed.
:math:`W_2^2 = |m_0 - m_1|^2 + \|(A - I) L\|_F^2` (that is :math:`E|x_0 - T(x_0)|^2`), which
has no cancellation for nearby Gaussians, unlike the equal
:math:`\operatorname{tr}S_0 + \operatorname{tr}S_1 - 2\operatorname{tr}(S_0^{1/2}S_1S_0^{1/2})^{1/2}`.

**Entropic OT.** Convention: :math:`\pi_\varepsilon` minimises

.. math::

    E_\pi |x_0 - x_1|^2 + \varepsilon\, \mathrm{KL}(\pi \,\|\, \mu \otimes \nu)

over couplings :math:`\pi` of :math:`\mu` and :math:`\nu` (this is POT's ``ot.sinkhorn(a, b, M, reg=ε)``
with squared Euclidean costs M, and Janati et al.'s :math:`\sigma^2 = \varepsilon / 2`). Its first-order
condition makes the density ratio :math:`d\pi/d(\mu\otimes\nu) = \exp((f(x_0) + g(x_1) - |x_0 - x_1|^2)/\varepsilon)`;
the only term coupling :math:`x_0` and :math:`x_1` in :math:`\log\pi` is then
:math:`+\tfrac{2}{\varepsilon} x_0^\top x_1`, so the off-diagonal block of the joint precision
:math:`P = [[S_0, C], [C^\top, S_1]]^{-1}` is :math:`P_{01} = -\tfrac{2}{\varepsilon} I`.
Derivation of C: the block inverse gives
:math:`P_{01} = -S_0^{-1} C (S_1 - C^\top S_0^{-1} C)^{-1}`; with :math:`G = S_0^{-1} C` the condition
reads :math:`G = \tfrac{2}{\varepsilon}(S_1 - G^\top S_0 G)` (so G is symmetric) and
:math:`G S_0 G + \tfrac{\varepsilon}{2} G = S_1`; with :math:`H = L^\top G L` this is
:math:`H^2 + \tfrac{\varepsilon}{2} H = N`, whose positive definite root is :math:`H_\varepsilon`
above, so :math:`C = S_0 G = L H_\varepsilon L^{-1}`. The form :math:`n/(\sqrt{n + \varepsilon^2/16} + \varepsilon/4)`
is free of cancellation for large ε. Limits: :math:`\varepsilon = 0` gives :math:`H_0 = N^{1/2}`, the OT
coupling; :math:`H_\varepsilon \approx 2N/\varepsilon \to 0` as :math:`\varepsilon \to \infty`,
the independent coupling. The same closed form is
:math:`C = S_0^{1/2}(S_0^{1/2} S_1 S_0^{1/2} + \tfrac{\varepsilon^2}{16} I)^{1/2} S_0^{-1/2} - \tfrac{\varepsilon}{4} I`
of Janati, Muzellec, Peyré & Cuturi, "Entropic optimal transport between unbalanced Gaussian
measures has a closed form", NeurIPS 2020 (Theorem 1, balanced case) and Mallasto, Gerolin & Minh,
"Entropy-regularized 2-Wasserstein distance between Gaussian measures", Inf. Geom. 2021.

**Schrödinger bridge.** For the reference process :math:`\sigma W` (Brownian motion with variance
:math:`\sigma^2 t`) started from :math:`\mu`, the bridge minimises :math:`\mathrm{KL}(P \| R)` over
path laws P with marginals :math:`\mu` at t = 0 and :math:`\nu` at t = 1. Splitting P into its
endpoint law and its bridges, the bridges are those of R (Brownian bridges,
:math:`x_t = (1-t)x_0 + t x_1 + \sigma\sqrt{t(1-t)}\,z`) and the endpoint law minimises
:math:`\mathrm{KL}(\pi \| R_{01})` with :math:`\log R_{01} = \log\mu(x_0) - |x_1 - x_0|^2/(2\sigma^2) + \text{const}`,
i.e. :math:`E_\pi|x_0 - x_1|^2/(2\sigma^2) + \mathrm{KL}(\pi\|\mu\otimes\nu)` up to constants fixed
by the marginals: the entropic OT coupling with :math:`\varepsilon = 2\sigma^2`. So the bridge's
marginals are those of ``LinearInterpolant(ScaledBrownianGamma(σ²))`` with that coupling, and the
bridge is the Markov process :math:`dX = (b + \tfrac{\sigma^2}{2} s)\,dt + \sigma\,dW`, the
interpolant's forward SDE with :math:`\varepsilon = \sigma^2/2` (its drift equals the Brownian-bridge
drift averaged given :math:`X_t`, :math:`E[(x_1 - x_t)/(1 - t) \mid x_t]`). Bunne, Hsieh, Cuturi &
Krause, "The Schrödinger bridge between Gaussian measures has a closed form", AISTATS 2023.

**Minibatch OT.** :func:`minibatch_ot_pairs` re-pairs a batch of base and target samples by the
exact assignment of minimal total squared distance, the practice of Tong et al. 2023
("Improving and generalizing flow-based generative models with minibatch optimal transport") and
Pooladian et al. 2023 ("Multisample flow matching"). Entropic minibatch pairing needs Sinkhorn,
which si_ref leaves to the optional peer POT (see the ``minibatch_ot`` validation study).

All results are float64; inputs are never modified. Conventions: the README's "Conventions" and the
Gaussian-case formulas of :mod:`si_ref.gaussian` (t = 0 the base, t = 1 the target).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy.linalg import solve_triangular
from scipy.optimize import linear_sum_assignment

from ._checks import as_points, as_positive_real, enough_memory
from .distributions import Gaussian, GaussianMixture
from .gaussian import GaussianCase
from .interpolants import Interpolant, LinearInterpolant
from .samplers import SDETerm
from .schedules import ScaledBrownianGamma

__all__ = [
    "COUPLINGS",
    "GaussianOTMap",
    "entropic_cross_cov",
    "coupling_cost",
    "coupled_case",
    "GaussianSchrodingerBridge",
    "MinibatchPairs",
    "minibatch_ot_pairs",
]

#: The couplings of :func:`coupled_case`.
COUPLINGS = ("independent", "ot", "entropic")


# --- shared linear algebra -----------------------------------------------------------------------

def _gaussian_pair(base, target):
    """Validate two single Gaussians of the same dimension; returns them."""
    for name, value in (("base", base), ("target", target)):
        if not isinstance(value, Gaussian):
            kind = "a GaussianMixture (couplings here are between single Gaussians)" \
                if isinstance(value, GaussianMixture) else type(value).__name__
            raise TypeError(
                f"{name} must be a si_ref.Gaussian(mean, cov); received {kind}. "
                f"Build it with Gaussian(np.zeros(d), np.eye(d)) or similar."
            )
    if base.dim != target.dim:
        raise ValueError(
            f"base and target must have the same dimension; received base of dimension {base.dim} "
            f"and target of dimension {target.dim}."
        )
    return base, target


def _whitened_target(base, target):
    """Eigenvalues n (ascending) and vectors V of N = Lᵀ S1 L, with S0 = L Lᵀ (base.chol)."""
    L = base.chol
    N = L.T @ target.cov @ L
    N = 0.5 * (N + N.T)                           # symmetric in exact arithmetic; eigh reads one triangle
    n, V = np.linalg.eigh(N)
    return np.maximum(n, 0.0), V                  # N is SPD: a negative eigenvalue is rounding only


def _similar(L, H):
    """L H L⁻¹ for lower-triangular L and symmetric H: L (L⁻ᵀ H)ᵀ, by one triangular solve."""
    return L @ solve_triangular(L, H, lower=True, trans="T").T


# --- optimal transport -----------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class GaussianOTMap:
    r"""The optimal transport map :math:`T(x) = m_1 + A(x - m_0)` from :math:`N(m_0, S_0)` to :math:`N(m_1, S_1)`.

    For the cost :math:`|x_0 - x_1|^2`, with :math:`S_0 = L L^\top` and :math:`N = L^\top S_1 L`,

    .. math::

        A = S_0^{-1/2}(S_0^{1/2} S_1 S_0^{1/2})^{1/2} S_0^{-1/2} = L^{-\top} N^{1/2} L^{-1}, \qquad
        C = \operatorname{Cov}(x_0, T(x_0)) = S_0 A, \qquad
        W_2^2 = |m_0 - m_1|^2 + \|(A - I)L\|_F^2.

    A is symmetric positive definite and the unique such solution of :math:`A S_0 A = S_1`
    (so T pushes the base onto the target); by Brenier's theorem the gradient of a convex
    function pushing the base onto the target is the optimal map. Sources: Dowson & Landau 1982,
    Olkin & Pukelsheim 1982, Knott & Smith 1984; Peyré & Cuturi, *Computational Optimal
    Transport*, Remark 2.31. A singular :math:`S_0` (a degenerate base, which ``Gaussian``
    refuses) has an optimal coupling but in general no map; its C is the limit of
    :func:`entropic_cross_cov` as ε → 0, not computed here. Accuracy degrades with the
    condition number of :math:`S_0` (triangular solves with L).

    Parameters
    ----------
    base, target : Gaussian
        :math:`N(m_0, S_0)` and :math:`N(m_1, S_1)`, same dimension d.

    Attributes
    ----------
    matrix : ndarray, shape (d, d)
        A (symmetric positive definite, read-only).
    cross_cov : ndarray, shape (d, d)
        :math:`C = S_0 A`, the ``cross_cov`` of the OT coupling for :class:`si_ref.GaussianCase`.
    w2_squared : float
        The squared 2-Wasserstein distance :math:`W_2^2`.

    Raises
    ------
    TypeError
        If base or target is not a ``Gaussian``.
    ValueError
        If their dimensions differ.

    Examples
    --------
    >>> import numpy as np
    >>> from si_ref import Gaussian
    >>> from si_ref.couplings import GaussianOTMap
    >>> T = GaussianOTMap(Gaussian(np.zeros(1), np.eye(1)), Gaussian(np.ones(1), 4 * np.eye(1)))
    >>> float(T.matrix[0, 0]), float(T.w2_squared)
    (2.0, 2.0)
    """

    base: Gaussian
    target: Gaussian
    matrix: np.ndarray = field(init=False, repr=False)
    cross_cov: np.ndarray = field(init=False, repr=False)
    w2_squared: float = field(init=False)

    def __post_init__(self):
        _gaussian_pair(self.base, self.target)
        L = self.base.chol
        n, V = _whitened_target(self.base, self.target)
        root_N = (V * np.sqrt(n)) @ V.T                                        # N^{1/2}
        left = solve_triangular(L, root_N, lower=True, trans="T")               # L⁻ᵀ N^{1/2}
        A = solve_triangular(L, left.T, lower=True, trans="T")                  # L⁻ᵀ (N^{1/2} L⁻¹) = A
        A = 0.5 * (A + A.T)
        C = L @ left.T                                                          # S0 A = L N^{1/2} L⁻¹
        shift = self.target.mean - self.base.mean
        excess = (A - np.eye(A.shape[0])) @ L                                   # (A − I) L
        w2 = float(shift @ shift + np.sum(excess**2))
        for a in (A, C):
            a.setflags(write=False)
        object.__setattr__(self, "matrix", A)
        object.__setattr__(self, "cross_cov", C)
        object.__setattr__(self, "w2_squared", w2)

    def __call__(self, x) -> np.ndarray:
        r""":math:`T(x) = m_1 + A(x - m_0)` for each row of x, shape (n, d); returns a new (n, d) array."""
        x = as_points(x, "x", d=self.base.dim)
        return self.target.mean + (x - self.base.mean) @ self.matrix.T


# --- entropic optimal transport --------------------------------------------------------------------

def entropic_cross_cov(base, target, epsilon) -> np.ndarray:
    r"""Cross-covariance :math:`C_\varepsilon = \operatorname{Cov}(x_0, x_1)` of the entropic OT coupling of two Gaussians.

    Convention: :math:`\pi_\varepsilon` minimises :math:`E_\pi|x_0 - x_1|^2 + \varepsilon\,\mathrm{KL}(\pi\,\|\,\mu\otimes\nu)`
    over couplings of :math:`\mu = N(m_0, S_0)` and :math:`\nu = N(m_1, S_1)`; it is jointly
    Gaussian with means :math:`m_0, m_1` and

    .. math::

        C_\varepsilon = L H_\varepsilon L^{-1}, \qquad
        H_\varepsilon = (N + \tfrac{\varepsilon^2}{16} I)^{1/2} - \tfrac{\varepsilon}{4} I, \qquad
        S_0 = L L^\top,\; N = L^\top S_1 L,

    the positive definite root of :math:`H^2 + \tfrac{\varepsilon}{2} H = N`, equivalent to the
    optimality condition that the off-diagonal block of :math:`[[S_0, C], [C^\top, S_1]]^{-1}` is
    :math:`-\tfrac{2}{\varepsilon} I` (derivation in the module docstring). H is evaluated in the
    eigenbasis of N as :math:`n_i / (\sqrt{n_i + \varepsilon^2/16} + \varepsilon/4)`, without cancellation.
    ``epsilon = 0`` gives the OT coupling (:attr:`GaussianOTMap.cross_cov`); C → 0 (independent) as
    ε → ∞. Equal to :math:`S_0^{1/2}(S_0^{1/2}S_1S_0^{1/2} + \tfrac{\varepsilon^2}{16}I)^{1/2}S_0^{-1/2} - \tfrac{\varepsilon}{4}I`
    of Janati, Muzellec, Peyré & Cuturi (NeurIPS 2020, Theorem 1, with their :math:`\sigma^2 = \varepsilon/2`);
    see also Mallasto, Gerolin & Minh (2021) and Bunne et al. (AISTATS 2023).

    Parameters
    ----------
    base, target : Gaussian
        Same dimension d.
    epsilon : float
        :math:`\varepsilon \ge 0`, in units of squared distance (POT's ``reg`` for squared Euclidean costs).

    Returns
    -------
    ndarray, shape (d, d)
        :math:`C_\varepsilon`, a new float64 array; pass it as ``cross_cov`` to :class:`si_ref.GaussianCase`.

    Raises
    ------
    TypeError
        If base or target is not a ``Gaussian``, or epsilon is not a real number.
    ValueError
        If the dimensions differ, or epsilon is negative, NaN or infinite.
    """
    _gaussian_pair(base, target)
    epsilon = as_positive_real(epsilon, "epsilon", allow_zero=True)
    n, V = _whitened_target(base, target)
    quarter = 0.25 * epsilon
    denominator = np.hypot(np.sqrt(n), quarter) + quarter                  # hypot: no overflow of ε² for huge ε
    # h = n / (√(n + ε²/16) + ε/4); the denominator vanishes only for n = ε = 0 (an eigenvalue of the SPD
    # N rounded to 0), where h = √n = 0 is the limit
    h = np.divide(n, denominator, out=np.zeros_like(n), where=denominator > 0)
    H = (V * h) @ V.T
    return _similar(base.chol, H)


def coupling_cost(base, target, cross_cov) -> float:
    r"""The transport cost :math:`E|x_0 - x_1|^2` of a coupling of two Gaussians with cross-covariance C.

    .. math::

        E|x_0 - x_1|^2 = |m_0 - m_1|^2 + \operatorname{tr}S_0 + \operatorname{tr}S_1 - 2\operatorname{tr}C.

    Valid for any coupling of :math:`N(m_0, S_0)` and :math:`N(m_1, S_1)` with cross-covariance C
    (only second moments enter). For the OT coupling it is :math:`W_2^2`, but
    :attr:`GaussianOTMap.w2_squared` computes that without the cancellation of this formula.

    Parameters
    ----------
    base, target : Gaussian
    cross_cov : array_like, shape (d, d)
        :math:`C = \operatorname{Cov}(x_0, x_1)`; only its shape and finiteness are checked.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        For non-Gaussian endpoints or a non-real cross_cov.
    ValueError
        For mismatched dimensions, a cross_cov of the wrong shape or with NaN/inf.
    """
    _gaussian_pair(base, target)
    c = np.asarray(cross_cov)
    d = base.dim
    if c.dtype.kind not in "iuf":
        raise TypeError(f"cross_cov must be a real (d, d) array; received dtype {c.dtype}. Pass floats.")
    if c.shape != (d, d):
        raise ValueError(f"cross_cov must have shape (d, d) = ({d}, {d}) (Cov(x0, x1) of the base and target "
                         f"dimension); received shape {c.shape}. Pass E[(x0 - m0)(x1 - m1)^T].")
    c = c.astype(np.float64)
    if not np.isfinite(c).all():
        raise ValueError(f"cross_cov must contain only finite values; received NaN or inf at "
                         f"{np.argwhere(~np.isfinite(c))[0].tolist()}. Pass a finite cross-covariance.")
    shift = target.mean - base.mean
    return float(shift @ shift + np.trace(base.cov) + np.trace(target.cov) - 2.0 * np.trace(c))


def coupled_case(interpolant, base, target, *, coupling="independent", epsilon=None) -> GaussianCase:
    r"""The exact :class:`si_ref.GaussianCase` of ``interpolant`` with a chosen coupling of base and target.

    ===============  ===================================================  ================
    ``coupling``     cross-covariance C = Cov(x0, x1)                     ``epsilon``
    ===============  ===================================================  ================
    "independent"    0 (mixtures allowed, as in GaussianCase)             None
    "ot"             :attr:`GaussianOTMap.cross_cov` (S0 A)               None
    "entropic"       :func:`entropic_cross_cov` (C_ε)                     ε ≥ 0 (required)
    ===============  ===================================================  ================

    With ``coupling="ot"`` and ``ZeroGamma()`` the linear interpolant's drift is the
    displacement-interpolation (McCann) velocity; ``"entropic"`` with
    ``LinearInterpolant(ScaledBrownianGamma(epsilon / 2))`` is the Schrödinger bridge
    (:class:`GaussianSchrodingerBridge`).

    Parameters
    ----------
    interpolant : Interpolant
        Two-sided for "ot" and "entropic" (GaussianCase refuses a cross_cov otherwise).
    base, target : Gaussian (GaussianMixture allowed for "independent")
    coupling : {"independent", "ot", "entropic"}
    epsilon : float, optional
        The entropic parameter; required for "entropic", refused otherwise.

    Returns
    -------
    GaussianCase

    Raises
    ------
    TypeError, ValueError
        For an unknown coupling, a missing or unexpected epsilon, and everything
        :class:`si_ref.GaussianCase` refuses.
    """
    if not isinstance(coupling, str) or coupling not in COUPLINGS:
        raise ValueError(f"coupling must be one of {COUPLINGS}; received {coupling!r}. Pass one of them "
                         f"(\"entropic\" with epsilon=<float >= 0>).")
    if coupling == "entropic" and epsilon is None:
        raise ValueError(
            "epsilon is required for coupling='entropic' (the weight of KL(pi || base x target)); "
            "received None. Pass e.g. epsilon=1.0, or coupling='ot' for epsilon = 0."
        )
    if coupling != "entropic" and epsilon is not None:
        raise ValueError(
            f"epsilon applies to coupling='entropic' only; received epsilon={epsilon!r} with "
            f"coupling={coupling!r}. Drop epsilon or use coupling='entropic'."
        )
    if not isinstance(interpolant, Interpolant):
        raise TypeError(
            f"interpolant must be an Interpolant such as LinearInterpolant(BrownianGamma()); "
            f"received {type(interpolant).__name__}."
        )
    if coupling == "independent":
        return GaussianCase(interpolant, base, target)
    cross_cov = GaussianOTMap(base, target).cross_cov if coupling == "ot" else \
        entropic_cross_cov(base, target, epsilon)
    return GaussianCase(interpolant, base, target, cross_cov=cross_cov)


# --- Schrödinger bridge ----------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class GaussianSchrodingerBridge:
    r"""The Schrödinger bridge between two Gaussians for the reference process :math:`\sigma W`.

    The bridge is the law of paths closest in KL to Brownian motion with variance
    :math:`\sigma^2 t` among those starting from the base and ending at the target
    (Bunne, Hsieh, Cuturi & Krause, AISTATS 2023). Its endpoint coupling is the entropic OT
    coupling with :math:`\varepsilon = 2\sigma^2` (:func:`entropic_cross_cov`; derivation in the
    module docstring) and its time marginals are those of the stochastic interpolant

    .. math::

        x_t = (1 - t)x_0 + t x_1 + \sigma\sqrt{t(1-t)}\,z, \qquad (x_0, x_1) \sim \pi_{2\sigma^2},

    i.e. ``LinearInterpolant(ScaledBrownianGamma(sigma**2))`` (:attr:`case`). As a Markov process
    it is the interpolant's forward SDE with :math:`\varepsilon = \sigma^2/2`:

    .. math::

        dX_t = \big(b(X_t, t) + \tfrac{\sigma^2}{2} s(X_t, t)\big)\,dt + \sigma\,dW_t, \qquad X_0 \sim N(m_0, S_0),

    whose drift equals :math:`E[(x_1 - x_t)/(1 - t) \mid x_t]`, the Brownian-bridge drift averaged
    over the coupling; simulating it reproduces :math:`\operatorname{Cov}(X_0, X_1) = C_{2\sigma^2}`
    (for another coupling of the same marginals the SDE's endpoint covariance differs from the
    coupling's: only the bridge's coupling is kept by the Markovian projection).

    Parameters
    ----------
    base, target : Gaussian
        Same dimension d.
    sigma : float
        :math:`\sigma > 0`, the reference diffusion's standard deviation per unit time.

    Attributes
    ----------
    entropic_epsilon : float
        :math:`2\sigma^2`, the ε of the static entropic OT problem.
    sde_eps : float
        :math:`\sigma^2/2`, the ε of si_ref's SDE :math:`dX = (b + \varepsilon s)dt + \sqrt{2\varepsilon}dW`.
    cross_cov : ndarray, shape (d, d)
        :math:`C_{2\sigma^2}`.
    interpolant : LinearInterpolant
        ``LinearInterpolant(ScaledBrownianGamma(sigma**2))``.
    case : GaussianCase
        The exact fields of that interpolant with the bridge's coupling.

    Raises
    ------
    TypeError
        If base or target is not a ``Gaussian`` or sigma is not a real number.
    ValueError
        For mismatched dimensions or sigma not finite and > 0.
    """

    base: Gaussian
    target: Gaussian
    sigma: float
    entropic_epsilon: float = field(init=False)
    sde_eps: float = field(init=False)
    cross_cov: np.ndarray = field(init=False, repr=False)
    interpolant: LinearInterpolant = field(init=False, repr=False)
    case: GaussianCase = field(init=False, repr=False)

    def __post_init__(self):
        _gaussian_pair(self.base, self.target)
        sigma = as_positive_real(self.sigma, "sigma")
        variance = sigma * sigma
        if not 0.0 < 2.0 * variance < np.inf:   # σ² (and ε = 2σ²) must be a positive finite float
            raise ValueError(f"sigma must have sigma**2 a positive finite float (the reference process has variance "
                             f"sigma**2 t, the entropic epsilon is 2 sigma**2); received sigma={sigma!r}, whose square "
                             f"{'overflows' if variance > 1.0 else 'underflows to 0'}. Rescale the problem (units of "
                             f"distance) so that sigma lies within about 1e-150 to 1e150.")
        cross_cov = entropic_cross_cov(self.base, self.target, 2.0 * variance)
        interpolant = LinearInterpolant(ScaledBrownianGamma(variance))     # γ² = σ² t(1 − t)
        case = GaussianCase(interpolant, self.base, self.target, cross_cov=cross_cov)
        for name, value in (("sigma", sigma), ("entropic_epsilon", 2.0 * variance), ("sde_eps", 0.5 * variance),
                            ("cross_cov", case.cross_cov), ("interpolant", interpolant), ("case", case)):
            object.__setattr__(self, name, value)

    def drift(self, x, t) -> np.ndarray:
        r"""The bridge's Markovian drift :math:`b + \tfrac{\sigma^2}{2} s` at x (n, d), t scalar or (n,); returns (n, d)."""
        return self.case.forward_drift(x, t, self.sde_eps)

    def sde_term(self) -> SDETerm:
        r"""``SDETerm(case.drift, case.score, sigma**2 / 2)``: on an increasing grid, :func:`si_ref.integrate` runs the bridge."""
        return SDETerm(self.case.drift, self.case.score, self.sde_eps)


# --- minibatch OT ------------------------------------------------------------------------------------

class MinibatchPairs(NamedTuple):
    """Result of :func:`minibatch_ot_pairs`: the pairs ``(x0[i], x1[i])``.

    Attributes
    ----------
    x0 : ndarray, shape (n, d)
        A float64 copy of the base batch, in its original order.
    x1 : ndarray, shape (n, d)
        The target batch reordered: ``x1_original[permutation]``.
    permutation : ndarray of int, shape (n,)
        Row i of x0 is paired with row ``permutation[i]`` of the original x1.
    """

    x0: np.ndarray
    x1: np.ndarray
    permutation: np.ndarray


def minibatch_ot_pairs(x0, x1) -> MinibatchPairs:
    r"""Pair a base batch with a target batch by the optimal assignment for squared distances.

    Returns the permutation :math:`\sigma` minimising :math:`\sum_i |x_{0,i} - x_{1,\sigma(i)}|^2`,
    the exact OT plan between the two empirical measures of n points each (an optimal plan between
    uniform measures of equal size is a permutation, Birkhoff–von Neumann). Since
    :math:`\sum_i |x_{0,i}|^2 + |x_{1,\sigma(i)}|^2` does not depend on :math:`\sigma`, this is the
    assignment maximising :math:`\sum_i x_{0,i}\cdot x_{1,\sigma(i)}`, which is solved
    (``scipy.optimize.linear_sum_assignment`` on the inner products: no cancellation in the costs).
    Training on these pairs is the minibatch OT of Tong et al. 2023 (OT-CFM) and Pooladian et al.
    2023 (multisample flow matching); as the batch size grows the coupling approaches the
    population OT coupling (see the ``minibatch_ot`` validation study). A batch of one point is
    the independent coupling.

    Parameters
    ----------
    x0, x1 : array_like, shape (n, d)
        Base and target samples (floating point, same shape). Not modified.

    Returns
    -------
    MinibatchPairs
        ``(x0, x1_reordered, permutation)``, new float64 arrays and an integer array.

    Raises
    ------
    TypeError
        For non-floating-point input.
    ValueError
        For shapes other than (n, d), different shapes, NaN/inf, or a cost matrix (n², float64)
        that does not fit in memory.

    Examples
    --------
    >>> import numpy as np
    >>> from si_ref import minibatch_ot_pairs
    >>> pairs = minibatch_ot_pairs(np.array([[0.0], [1.0]]), np.array([[1.1], [0.1]]))
    >>> pairs.permutation.tolist(), pairs.x1.ravel().tolist()   # each x0 paired with its nearest x1
    ([1, 0], [0.1, 1.1])
    """
    x0 = as_points(x0, "x0")
    x1 = as_points(x1, "x1")
    if x0.shape != x1.shape:
        raise ValueError(
            f"x0 and x1 must have the same shape (n, d) (a minibatch pairs n base with n target points); "
            f"received x0 of shape {x0.shape} and x1 of shape {x1.shape}. Draw batches of equal size."
        )
    n = x0.shape[0]
    with enough_memory(16 * n * n, f"an assignment between two batches of n={n} points",
                       "use smaller minibatches (minibatch OT is meant for batches of up to a few thousand)."):
        similarity = x0 @ x1.T                                          # x0_i · x1_j, (n, n)
        rows, columns = linear_sum_assignment(similarity, maximize=True)
    permutation = np.empty(n, dtype=np.intp)
    permutation[rows] = columns
    return MinibatchPairs(x0, x1[permutation], permutation)
