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
from scipy.linalg import solve_triangular
from hypothesis import strategies as st

from .. import references as named
from .. import strategies as sis
from ..couplings import GaussianOTMap
from ..distributions import Gaussian
from ..gaussian import GaussianCase, sym_sqrt
from .draw import FAR, draw_n, far_points, unit_points
from .example import Example
from .quantity import Quantity
from .variants import mistake, sign_flip

__all__ = ["MapQuantity", "coupling_quantities"]


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


@dataclass(frozen=True)
class MapQuantity(Quantity):
    """A map of points, ``T(x) -> (n, d)``, between the Gaussian endpoints of a two-sided ``GaussianCase``.

    Inputs: points in the bulk of the base :math:`N(m_0, S_0)` (``m0 + L0 u``, |u| <= 3), its mean and
    points far from it. The case's coupling and interpolant play no part: the map is that of its
    endpoints.
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
        return sis.coupled_cases(st.integers(1, 3))

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
        "T(x) = m1 + A (x − m0), A = S0^{-1/2} (S0^{1/2} S1 S0^{1/2})^{1/2} S0^{-1/2} (symmetric, A S0 A = S1): "
        "the optimal transport map for |x0 − x1|² from the case's base N(m0, S0) to its target N(m1, S1)",
        _ot_map,
        (sign_flip(_ot_map),
         mistake("whiten-colour-map", ("m1 + S1^{1/2} S0^{-1/2} (x − m0)", _linear_map(_whiten_colour))),
         mistake("triangular-map", ("m1 + L1 L0⁻¹ (x − m0), Cholesky factors", _linear_map(_cholesky_ratio)))),
        accepts=_endpoints_are_gaussian,
        plain="T(x) = m1 + A (x − m0): the optimal transport map between Gaussian endpoints",
    )]
