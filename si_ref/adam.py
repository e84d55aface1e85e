r"""Adam, the optimiser of :class:`si_ref.MLPField` (Kingma & Ba, arXiv:1412.6980, Algorithm 1).

Its own module: the constant ε of Adam's denominator is Adam's ``eps`` here and nowhere else in
si_ref (there ``eps`` is the diffusion coefficient ε(t) of the SDEs).
"""

from __future__ import annotations

import numpy as np

from ._checks import as_real_scalar

__all__ = ["Adam"]


class Adam:
    r"""Adam (Kingma & Ba, arXiv:1412.6980, Algorithm 1), updating parameters in place.

    At step k, for each parameter p with gradient g:

    .. math::

        m \leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \qquad
        p \leftarrow p - \text{lr}\,\frac{m / (1 - \beta_1^k)}{\sqrt{v / (1 - \beta_2^k)} + \epsilon}.

    The update is computed in the equivalent form
    :math:`p \leftarrow p - \text{lr}_k\, m / (\sqrt v + \hat\epsilon)` with
    :math:`\text{lr}_k = \text{lr}\sqrt{1-\beta_2^k}/(1-\beta_1^k)` and
    :math:`\hat\epsilon = \epsilon\sqrt{1-\beta_2^k}` (multiply numerator
    and denominator by :math:`\sqrt{1-\beta_2^k}`), which needs one scratch
    buffer per parameter and no per-step allocation.

    Parameters
    ----------
    parameters : sequence of ndarray
        Floating-point arrays, updated in place (e.g. :meth:`MLP.parameters`).
    lr : float, default 1e-3
        Step size, > 0.
    beta1, beta2 : float, default 0.9, 0.999
        Moment decay rates in [0, 1).
    eps : float, default 1e-8
        > 0.

    Raises
    ------
    TypeError, ValueError
        For invalid hyperparameters or parameters that are not writable float arrays.
    """

    def __init__(self, parameters, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.parameters = list(parameters)
        if not self.parameters:
            raise ValueError("parameters must contain at least one array; received an empty sequence.")
        for i, p in enumerate(self.parameters):
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f" or not p.flags.writeable:
                raise TypeError(
                    f"parameters[{i}] must be a writable floating-point ndarray (it is updated in place); "
                    f"received {type(p).__name__}"
                    + (f" of dtype {p.dtype}" if isinstance(p, np.ndarray) else "") + "."
                )
        self.lr = as_real_scalar(lr, "lr")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0; received lr={self.lr!r}. Pass e.g. lr=1e-3.")
        self.beta1 = as_real_scalar(beta1, "beta1")
        self.beta2 = as_real_scalar(beta2, "beta2")
        for name, beta in (("beta1", self.beta1), ("beta2", self.beta2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name} must lie in [0, 1); received {name}={beta!r}. Pass e.g. {name}=0.9.")
        self.eps = as_real_scalar(eps, "eps")
        if self.eps <= 0:
            raise ValueError(f"eps must be > 0; received eps={self.eps!r}. Pass e.g. eps=1e-8.")
        self.m = [np.zeros_like(p) for p in self.parameters]
        self.v = [np.zeros_like(p) for p in self.parameters]
        self._scratch = [np.empty_like(p) for p in self.parameters]
        self.step_count = 0

    def step(self, gradients) -> None:
        """Apply one update from ``gradients`` (same shapes and dtypes as the parameters)."""
        gradients = list(gradients)
        if len(gradients) != len(self.parameters):
            raise ValueError(
                f"gradients must hold one array per parameter ({len(self.parameters)}); received "
                f"{len(gradients)}."
            )
        for i, (p, g) in enumerate(zip(self.parameters, gradients)):
            if not isinstance(g, np.ndarray) or g.shape != p.shape or g.dtype != p.dtype:
                got = f"shape {g.shape} and dtype {g.dtype}" if isinstance(g, np.ndarray) else type(g).__name__
                raise ValueError(
                    f"gradients[{i}] must have shape {p.shape} and dtype {p.dtype} like its parameter; "
                    f"received {got}."
                )
        self.step_count += 1
        k = self.step_count
        # Python floats: they never upcast float32 arrays
        lr_k = self.lr * np.sqrt(1.0 - self.beta2 ** k) / (1.0 - self.beta1 ** k)
        eps_k = self.eps * np.sqrt(1.0 - self.beta2 ** k)
        lr_k, eps_k = float(lr_k), float(eps_k)
        for p, g, m, v, s in zip(self.parameters, gradients, self.m, self.v, self._scratch):
            m *= self.beta1                              # m ← β1 m + (1 − β1) g
            np.multiply(g, 1.0 - self.beta1, out=s)
            m += s
            v *= self.beta2                              # v ← β2 v + (1 − β2) g²
            np.multiply(g, g, out=s)
            s *= 1.0 - self.beta2
            v += s
            np.sqrt(v, out=s)                            # p ← p − lr_k m / (√v + ε̂)
            s += eps_k
            np.divide(m, s, out=s)
            s *= lr_k
            p -= s
