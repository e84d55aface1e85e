r"""The optimal transport map between the Gaussian endpoints of a case, called ``T(x)``.

For the cost :math:`|x_0 - x_1|^2` the optimal coupling of :math:`N(m_0, S_0)` and :math:`N(m_1, S_1)`
is the map :math:`T(x) = m_1 + A(x - m_0)` with A the symmetric positive definite solution of
:math:`A S_0 A = S_1` (:class:`si_ref.GaussianOTMap`; Dowson & Landau 1982, Olkin & Pukelsheim 1982).
Two other linear maps push :math:`N(m_0, S_0)` onto :math:`N(m_1, S_1)` as well and are the usual
mistakes: :math:`S_1^{1/2} S_0^{-1/2}` (whitening then colouring) and :math:`L_1 L_0^{-1}` (Cholesky
factors, the triangular Knothe–Rosenblatt map). Both are right when the covariances commute
(resp. are diagonal) and wrong, with a larger transport cost, otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.linalg import cho_solve, solve_triangular
from hypothesis import strategies as st

from hypothesis.extra import numpy as hnp

from .. import references as named
from ..couplings import GaussianOTMap, coupled_case
from ..distributions import Gaussian
from ..gaussian import GaussianCase, sym_sqrt
from ..interpolants import LinearInterpolant
from ..schedules import ZeroGamma
from .draw import FAR, draw_n, far_points, unit_points
from .example import Example
from .quantity import Quantity
from .variants import mistake, sign_flip

__all__ = ["MapQuantity", "coupling_quantities", "LOOK_ALIKE_GAP"]

#: Least relative difference max|M − A| / max|A| between the OT matrix A and each look-alike map M
#: (whitening–colouring, Cholesky ratio) of the drawn references.
LOOK_ALIKE_GAP = 0.02


def _endpoints_are_gaussian(case) -> bool:
    return (isinstance(case, GaussianCase) and case.interpolant.kind == "two-sided"
            and isinstance(case.base, Gaussian) and isinstance(case.target, Gaussian))


def _ot_map(ex: Example) -> np.ndarray:
    case = ex.reference
    return GaussianOTMap(case.base, case.target)(ex.x)


def _linear_map(matrix_of):
    """``value(example)``: m1 + M (x − m0) with ``M = matrix_of(S0, S1)``."""
    def value(ex: Example) -> np.ndarray:
        base, target = ex.reference.base, ex.reference.target
        return target.mean + (ex.x - base.mean) @ matrix_of(base, target).T
    return value


def _whiten_colour(base, target):
    """S1^{1/2} S0^{-1/2} = (S0^{-1/2} S1^{1/2})ᵀ, by a solve (the roots are symmetric)."""
    return np.linalg.solve(sym_sqrt(base.cov), sym_sqrt(target.cov)).T


def _cholesky_ratio(base, target):
    """L1 L0⁻¹ = (L0⁻ᵀ L1ᵀ)ᵀ, by a triangular solve."""
    return solve_triangular(base.chol, target.chol.T, lower=True, trans="T").T


def _conjugated(left: bool):
    """S0⁻¹ A S0 (``left``) or S0 A S0⁻¹: A = S0⁻¹ (S0 S1)^(1/2) with the product under the root reversed,
    S0⁻¹ (S1 S0)^(1/2) = S0⁻¹ A S0, or the inverse on the other side, (S0 S1)^(1/2) S0⁻¹ = S0 A S0⁻¹."""
    def matrix(base, target):
        a = GaussianOTMap(base, target).matrix
        factor = (base.chol, True)
        if left:
            return cho_solve(factor, a @ base.cov)                  # S0⁻¹ (A S0)
        return cho_solve(factor, (base.cov @ a).T).T                # (S0 A) S0⁻¹ = (S0⁻¹ (A S0))ᵀ
    return matrix


def _rotation(d: int, angles) -> np.ndarray:
    """Q = R₀₁(θ₀) R₁₂(θ₁) ⋯: Givens rotations in the coordinate planes (i, i + 1), shape (d, d)."""
    q = np.eye(d)
    for i, theta in enumerate(angles[: d - 1]):
        g = np.eye(d)
        g[[i, i, i + 1, i + 1], [i, i + 1, i, i + 1]] = np.cos(theta), -np.sin(theta), np.sin(theta), np.cos(theta)
        q = q @ g
    return q


def _look_alikes_apart(case: GaussianCase) -> bool:
    """Whether both look-alike maps differ from the OT map by LOOK_ALIKE_GAP (relative, max entry)."""
    a = GaussianOTMap(case.base, case.target).matrix
    scale = np.abs(a).max()
    return all(np.abs(m(case.base, case.target) - a).max() >= LOOK_ALIKE_GAP * scale
               for m in (_whiten_colour, _cholesky_ratio))


def _distinguishing_cases():
    """OT-coupled cases in d = 2 or 3 where the look-alike maps are not the OT map.

    In d = 1 every increasing linear map between the endpoints is the OT map, and for commuting
    (diagonal) covariances the whitening–colouring (Cholesky) map is too; generic draws of
    ``strategies.coupled_cases`` are often of these kinds. Here S_j = Q_j diag(λ_j) Q_jᵀ with
    eigenvalues spread at least 2:1 and the target's axes turned by 0.3 to 1.2 rad (in each
    coordinate plane) from the base's, then filtered by :func:`_look_alikes_apart`.
    """
    def of_dim(d):
        def build(mean0, mean1, small, large, middle, angle0, turn):
            def cov(eigenvalues, angles):
                q = _rotation(d, angles)
                return (q * eigenvalues) @ q.T
            lam0 = np.array([small[0], large[0], middle[0]][:d])
            lam1 = np.array([large[1], small[1], middle[1]][:d])
            angles0 = np.full(d - 1, angle0)
            base = Gaussian(mean0, cov(lam0, angles0))
            target = Gaussian(mean1, cov(lam1, angles0 + turn))
            return coupled_case(LinearInterpolant(ZeroGamma()), base, target, coupling="ot")

        means = hnp.arrays(np.float64, d, elements=st.floats(-3.0, 3.0))
        pair = lambda low, high: st.tuples(st.floats(low, high), st.floats(low, high))  # noqa: E731
        return st.builds(build, means, means, pair(0.2, 1.0), pair(2.0, 5.0), pair(0.2, 5.0),
                         st.floats(-np.pi, np.pi), st.floats(0.3, 1.2)).filter(_look_alikes_apart)

    return st.integers(2, 3).flatmap(of_dim)


@dataclass(frozen=True)
class MapQuantity(Quantity):
    """A map of points, ``T(x) -> (n, d)``, between the Gaussian endpoints of a two-sided ``GaussianCase``.

    Inputs: points in the bulk of the base :math:`N(m_0, S_0)` (``m0 + L0 u``, |u| <= 3), its mean and
    points far from it. The case's coupling and interpolant play no part: the map is that of its
    endpoints. Drawn references are in d = 2 or 3 with non-commuting covariances, where the look-alike
    maps differ from the OT map by at least :data:`LOOK_ALIKE_GAP` (:func:`_distinguishing_cases`); the
    named references include a 1-d case, where only a wrong sign or shape can show.
    """

    level: ClassVar[str] = "coupling"
    reference_type: ClassVar[type] = GaussianCase
    arguments: ClassVar[tuple] = ("x",)

    def shown_inputs(self, ex):
        return {"x": ex.x}

    def where(self, ex) -> str:
        """Where a fixed input is, for the report (the map has no time)."""
        return "the base mean and far points"

    def own_implementation(self, eps=None):
        return lambda reference: GaussianOTMap(reference.base, reference.target)

    def reference_strategy(self):
        return _distinguishing_cases()

    def fixed_references(self) -> list:
        return [named.CASES[k] for k in sorted(named.CASES) if self.accepts(named.CASES[k])]

    def draw(self, data, reference, eps, span):
        base = reference.base
        n = draw_n(data, reference.dim)
        x = base.mean + unit_points(data, n, reference.dim) @ base.chol.T
        return Example(reference, None, x=x)

    def fixed_examples(self, reference, eps, span):
        return [Example(reference, None, x=np.concatenate([reference.base.mean[None, :],
                                                             far_points(reference.dim)]))]

    def fixed_description(self, span) -> str:
        return f"the base mean and points far from it (|x| up to {FAR:g})"


def coupling_quantities() -> list:
    """The checkable quantities of the couplings: the optimal transport map."""
    return [MapQuantity(
        "ot_map",
        "T(x) = m1 + A (x − m0), A = S0^(−1/2) (S0^(1/2) S1 S0^(1/2))^(1/2) S0^(−1/2) (symmetric, A S0 A = S1): "
        "the optimal transport map for |x0 − x1|² from the case's base N(m0, S0) to its target N(m1, S1)",
        _ot_map,
        (sign_flip(_ot_map),
         mistake("whiten-colour-map", ("m1 + S1^(1/2) S0^(−1/2) (x − m0)", _linear_map(_whiten_colour))),
         mistake("triangular-map", ("m1 + L1 L0⁻¹ (x − m0), Cholesky factors", _linear_map(_cholesky_ratio))),
         mistake("root-product-order",
                 ("m1 + S0⁻¹ (S1 S0)^(1/2) (x − m0) = m1 + S0⁻¹ A S0 (x − m0)", _linear_map(_conjugated(True))),
                 ("m1 + (S0 S1)^(1/2) S0⁻¹ (x − m0) = m1 + S0 A S0⁻¹ (x − m0)", _linear_map(_conjugated(False))))),
        accepts=_endpoints_are_gaussian,
        plain="T(x) = m1 + A (x − m0): the optimal transport map between Gaussian endpoints",
    )]
