r"""A linear field b(x, t) = A x + t c: a reference that any language rebuilds from two arrays.

The golden vectors of the steps, the losses and the likelihood hand the
implementation this field instead of a Gaussian case's exact fields (which take a
Gaussian-mixture engine to evaluate): it is written down from A and c alone, and
everything about it is exact.

* Every field name (``drift``, ``forward_drift``, ``velocity``, ``noise``, ``score``,
  ``denoise_x0``, ``denoise_x1``) returns b, so that the forms of the catalogued
  mistakes, written for Gaussian cases, apply unchanged.
* The flow of dX/dt = b from X_0 ~ N(0, I) is affine: with the augmented matrix
  M = [[A, c, 0], [0, 0, 1], [0, 0, 0]] of size d + 2, ``expm(t M)`` maps (X_0, 0, 1) to
  (X_t, t, 1), so X_t = Φ(t) X_0 + v(t) with Φ(t) = e^{tA} (the top-left block) and v(t)
  its column d + 1 (the top rows). Hence ρ_t = N(v(t), Φ(t) Φ(t)ᵀ) exactly and
  ∇·b = tr A: ``log_density`` and ``divergence`` are closed forms.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import expm
from scipy.stats import multivariate_normal

__all__ = ["LinearField"]


class LinearField:
    """The field b(x, t) = A x + t c (every field name returns it), with its exact flow from N(0, I).

    Parameters
    ----------
    A : array_like, shape (d, d)
    c : array_like, shape (d,)
    interpolant : Interpolant, optional
        The path that the losses form x_t and the targets with (golden loss vectors).

    Examples
    --------
    >>> field = LinearField([[-0.5, 0.0], [0.0, -0.5]], [0.0, 0.0])
    >>> field.drift(np.array([[2.0, 4.0]]), 0.3)
    array([[-1., -2.]])
    >>> float(field.divergence(np.zeros((1, 2)), 0.7)[0])
    -1.0
    """

    def __init__(self, A, c, interpolant=None):
        self.A = np.array(A, dtype=np.float64)
        self.c = np.array(c, dtype=np.float64)
        d = self.c.size
        if self.A.shape != (d, d):
            raise ValueError(f"A must have shape (d, d) = ({d}, {d}) for c of {d} entries; received {self.A.shape}.")
        self.dim = d
        self.interpolant = interpolant

    def drift(self, x, t):
        """b(x, t) = A x + t c; x (n, d), t a float or (n,)."""
        t = np.asarray(t, dtype=np.float64)
        return x @ self.A.T + (t[:, None] if t.ndim else t) * self.c

    def forward_drift(self, x, t, eps):
        """The same field: for the SDE steps it *is* the forward drift b_F (ε is not used)."""
        return self.drift(x, t)

    velocity = noise = score = denoise_x0 = denoise_x1 = backward_drift = drift

    def divergence(self, x, t):
        """∇·b = tr A, shape (n,)."""
        return np.full(np.shape(x)[0], float(np.trace(self.A)))

    def flow(self, t: float) -> tuple:
        """(Φ(t), v(t)): X_t = Φ(t) X_0 + v(t) along dX/dt = b."""
        d = self.dim
        M = np.zeros((d + 2, d + 2))
        M[:d, :d], M[:d, d], M[d, d + 1] = self.A, self.c, 1.0
        E = expm(float(t) * M)
        return E[:d, :d], E[:d, d + 1]

    def log_density(self, x, t):
        """log ρ_t(x) for X_0 ~ N(0, I): ρ_t = N(v(t), Φ(t) Φ(t)ᵀ); shape (n,). t is one time."""
        times = np.unique(np.asarray(t, dtype=np.float64))
        if times.size != 1:
            raise ValueError(f"t must be one time for LinearField.log_density; received {np.asarray(t)!r}.")
        phi, v = self.flow(times[0])
        return np.atleast_1d(multivariate_normal(mean=v, cov=phi @ phi.T).logpdf(np.asarray(x)))

    def definition(self) -> dict:
        return {"kind": "LinearField", "field": "b(x, t) = A x + t c", "A": self.A.tolist(), "c": self.c.tolist()}

    def __repr__(self) -> str:
        return f"LinearField(A={self.A.tolist()}, c={self.c.tolist()})"
