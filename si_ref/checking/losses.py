r"""Loss values as checkable quantities: the batch mean-square loss of each field's regression.

A peer's training step computes, for a batch (t, x0, x1, z) of n samples in dimension d,

.. math::

    L = \frac1n \sum_{i=1}^n \tfrac12 \,\big|\hat f(x_{t_i}, t_i) - y_i\big|^2,
    \qquad x_t = \alpha(t) x_0 + \beta(t) x_1 + \gamma(t) z,

with |·|² summed over the d coordinates and y the regression target of the field
(:mod:`si_ref.checking.targets`; arXiv:2303.08797v3, eqs. (2.13), (2.16), (2.19), (2.29)):
d x_t/dt = α̇ x0 + β̇ x1 + γ̇ z for the drift, ∂_t I = α̇ x0 + β̇ x1 for the velocity, z for
the noise η, −z/γ for the score, x0 and x1 for the denoisers. This is the value of
:func:`si_ref.losses.mean_square_loss` (its ``mean``; the standard error is not asked for).

The implementation is called ``loss(field, t, x0, x1, z) -> float`` (a Python float or a
0-d array) with t a float or an array of shape (n,) and x0, x1, z of shape (n, d); the
reference is a :class:`~si_ref.gaussian.GaussianCase`, whose interpolant defines x_t. The
``field`` it receives is the deterministic callable

.. math::

    \hat f(x, t) = f(x, t) + \tfrac14 x,

the case's exact field f moved off the minimiser (:class:`PerturbedField`): at the minimiser
the loss is the irreducible ½ E[Var(y | x_t)], and a mis-scaled target or loss hides better
there. Inputs: x0 in the bulk of the base (ρ_0), x1 in the bulk of the target (ρ_1), z of
unit size; on a mirror interpolant x0 = x1 (the base is the target, as
:func:`si_ref.losses.sample_batch` draws them). The fixed inputs put the modes of ρ_0 and
ρ_1 in one batch and the far points (|x| up to 1e3) in another, at the endpoints where the
target is defined, next to them and at t = ½.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ClassVar

import numpy as np
from hypothesis import strategies as st

from .. import references as named
from .. import strategies as sis
from ..gaussian import GaussianCase
from ..losses import Batch, mean_square_loss
from .draw import FAR, bulk_points, draw_n, draw_times, fixed_times, unit_points
from .example import Example, column
from .paths import gamma_dot_finite
from .quantity import FIXED_REFERENCES, Quantity, closed, interior
from .targets import TARGET_NAMES, target_value
from .variants import ReversedInterpolant, SwappedInterpolant, at_reversed, mistake, scaled

__all__ = ["LossQuantity", "PerturbedField", "PERTURBATION", "loss_quantities", "loss_value"]

#: f̂(x, t) = f(x, t) + PERTURBATION · x: the field given to the loss under test.
PERTURBATION = 0.25


class PerturbedField:
    r"""The field handed to a loss: :math:`\hat f(x, t) = f(x, t) + \tfrac14 x`, f the case's exact field ``name``.

    Parameters
    ----------
    case : GaussianCase
    name : str
        One of :data:`si_ref.checking.targets.TARGET_NAMES`.

    Notes
    -----
    Called ``field(x, t)`` with x of shape (n, d) and t a float or an array of shape (n,);
    returns shape (n, d), float64. Deterministic; it does not modify x.

    Examples
    --------
    >>> import numpy as np
    >>> from si_ref import references
    >>> case = references.case("gaussian-1d-linear-brownian")
    >>> field = PerturbedField(case, "score")
    >>> x = np.array([[0.5]])
    >>> bool(np.allclose(field(x, 0.3), case.score(x, 0.3) + 0.25 * x))
    True
    """

    def __init__(self, case: GaussianCase, name: str):
        if name not in TARGET_NAMES:
            raise ValueError(f"name must be one of {list(TARGET_NAMES)}; received {name!r}.")
        self.case = case
        self.name = name
        self.__name__ = f"{name}(x, t) + {PERTURBATION:g} x"

    def __call__(self, x, t):
        x = np.asarray(x, dtype=np.float64)
        return getattr(self.case, self.name)(x, t) + PERTURBATION * x

    def __repr__(self) -> str:
        return f"PerturbedField({self.__name__})"


def _half_sum(residual: np.ndarray) -> float:
    """The batch mean of ½ Σ_j r_ij²."""
    return float(np.mean(0.5 * np.sum(residual ** 2, axis=1)))


def loss_value(name: str, case: GaussianCase, t, x0, x1, z, *, interpolant=None, target=None) -> float:
    r"""The batch mean of ½ |f̂(x_t, t) − y|², with f̂ = :class:`PerturbedField` ``(case, name)``.

    Parameters
    ----------
    name : str
        One of :data:`si_ref.checking.targets.TARGET_NAMES`.
    case : GaussianCase
    t : float or ndarray, shape (n,)
    x0, x1, z : ndarray, shape (n, d)
    interpolant : Interpolant, optional
        The path that forms x_t and y (default: the case's; the mistakes pass another).
    target : ndarray, shape (n, d), optional
        y (default: the target of ``name`` on that path, :func:`~si_ref.checking.targets.target_value`).

    Returns
    -------
    float
        :math:`\frac1n \sum_i \tfrac12 \sum_j (\hat f(x_{t_i}, t_i) - y_i)_j^2`.

    Raises
    ------
    ValueError
        Where the target is undefined (the score at γ = 0, the drift where γ̇ is infinite).

    Examples
    --------
    One sample, d = 1, linear path with γ = √(t(1 − t)) at t = ½: x_t = ½ (x0 + x1) + ½ z.

    >>> import numpy as np
    >>> from si_ref import references
    >>> case = references.case("gaussian-1d-linear-brownian")
    >>> x0, x1, z = np.array([[0.0]]), np.array([[2.0]]), np.array([[0.0]])
    >>> f_hat = PerturbedField(case, "denoise_x1")(np.array([[1.0]]), 0.5)[0, 0]
    >>> bool(np.isclose(loss_value("denoise_x1", case, 0.5, x0, x1, z), 0.5 * (f_hat - 2.0) ** 2))
    True
    """
    path = case.interpolant if interpolant is None else interpolant
    x_t = path.interpolant(t, x0, x1, z)
    y = target_value(name, path, t, x0, x1, z) if target is None else target
    return _half_sum(PerturbedField(case, name)(x_t, t) - y)


# --- the quantity ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class LossQuantity(Quantity):
    r"""The mean-square loss of field ``target``, called ``loss(field, t, x0, x1, z) -> float``.

    ``field`` is :class:`PerturbedField` ``(case, target)``; the value is the batch mean of
    ½ |field(x_t, t) − y|² (summed over the coordinates), shape (). With no reference the
    implementation is a factory ``make(case) -> loss``. si_ref's implementation is
    :func:`si_ref.losses.mean_square_loss` (its ``mean``).
    """

    level: ClassVar[str] = "loss"
    reference_type: ClassVar[type] = GaussianCase
    takes_factory: ClassVar[bool] = True
    target: str = ""

    def given_field(self, ex: Example) -> PerturbedField:
        """The field handed to the loss at ``ex``."""
        return PerturbedField(ex.reference, self.target)

    def argument_names(self, ex):
        return ("field", "t", "x0", "x1", "z")

    def bind(self, implementation, ex):
        return implementation, (self.given_field(ex), ex.t, ex.x0, ex.x1, ex.z)

    def shown_inputs(self, ex):
        return {"field": self.given_field(ex), "t": ex.t, "x0": ex.x0, "x1": ex.x1, "z": ex.z}

    def own_implementation(self, eps=None):
        name = self.target

        def make(case):
            def loss(field, t, x0, x1, z):
                n = np.shape(x1)[0]
                times = np.array(np.broadcast_to(np.asarray(t, dtype=np.float64), (n,)))
                return mean_square_loss(name, field, case.interpolant, Batch(times, x0, x1, z)).mean
            loss.__name__ = f"si_ref_loss_{name}"
            return loss
        return make

    def reference_strategy(self):
        cases = sis.gaussian_cases(st.integers(1, 3), families=self.families, max_components=3)
        return cases.filter(self.accepts)

    def fixed_references(self) -> list:
        fitting = [named.CASES[k] for k in sorted(named.CASES) if self.accepts(named.CASES[k])]
        return fitting[:FIXED_REFERENCES]

    def draw(self, data, reference, eps, span):
        n = draw_n(data, reference.dim)
        t = draw_times(data, span.within(self.domain(reference), self.name), n)
        x1 = bulk_points(data, reference, 1.0, n)
        x0 = x1.copy() if reference.interpolant.kind == "mirror" else bulk_points(data, reference, 0.0, n)
        return Example(reference, t, x0=x0, x1=x1, z=unit_points(data, n, reference.dim))

    def fixed_examples(self, reference, eps, span):
        modes0, modes1 = (reference.components(np.array([s])).means[0] for s in (0.0, 1.0))
        d = reference.dim
        e1 = np.eye(d)[0]
        far = np.stack([FAR * e1, -FAR * e1, np.full(d, 40.0), FAR * (-1.0) ** np.arange(d) / np.sqrt(d)])
        batches = [(modes0, modes1), (far, far[::-1])]
        out = []
        for t in fixed_times(span.within(self.domain(reference), self.name)):
            for x0, x1 in batches:
                if reference.interpolant.kind == "mirror":
                    x0 = x1
                n = x1.shape[0]
                z = (-1.0) ** (np.arange(n)[:, None] + np.arange(d)[None, :])
                out.append(Example(reference, t, x0=x0.copy(), x1=x1.copy(), z=z))
        return out


# --- values of the loss and of its mistakes --------------------------------------------------------

def _exact(name):
    def value(ex: Example):
        return np.asarray(loss_value(name, ex.reference, ex.t, ex.x0, ex.x1, ex.z))
    return value


def _with_target(name, target):
    """The loss with y = ``target(ex)`` on the case's path (None where ``target`` is None)."""
    def value(ex):
        y = target(ex)
        return None if y is None else np.asarray(loss_value(name, ex.reference, ex.t, ex.x0, ex.x1, ex.z, target=y))
    return value


def _on_path(name, make_path, target_sign=1.0):
    """The loss with x_t and y formed on the path ``make_path(interpolant)`` (None: no such path); f̂ at t."""
    def value(ex):
        path = make_path(ex.reference.interpolant)
        if path is None:
            return None
        y = target_sign * target_value(name, path, ex.t, ex.x0, ex.x1, ex.z)
        return np.asarray(loss_value(name, ex.reference, ex.t, ex.x0, ex.x1, ex.z, interpolant=path, target=y))
    return value


def _objective(name):
    """E[½|f̂|² − y·f̂]: the mean square minus ½ E|y|²."""
    def value(ex):
        I = ex.reference.interpolant
        y = target_value(name, I, ex.t, ex.x0, ex.x1, ex.z)
        f = PerturbedField(ex.reference, name)(I.interpolant(ex.t, ex.x0, ex.x1, ex.z), ex.t)
        return np.asarray(np.mean(0.5 * np.sum(f * f, axis=1) - np.sum(y * f, axis=1)))
    return value


def _dimension(ex):
    return float(ex.x1.shape[1])


def _gamma(ex):
    return column(ex.reference.interpolant.gamma(ex.t), ex)


def _where_gamma_positive(fn):
    def value(ex):
        return fn(ex) if np.all(np.asarray(ex.reference.interpolant.gamma(ex.t)) > 0) else None
    return value


def _velocity_target(ex):
    return ex.reference.interpolant.interpolant_partial_t(ex.t, ex.x0, ex.x1)


def _drift_target_where_finite(ex):
    """∂_t I + γ̇ z where γ̇ is finite on every row (None elsewhere)."""
    I = ex.reference.interpolant
    gamma_dot = np.asarray(I.gamma_dot(ex.t), dtype=np.float64)
    if not np.all(np.isfinite(gamma_dot)):
        return None
    return _velocity_target(ex) + column(gamma_dot, ex) * ex.z


#: Per field: the other targets a loss regresses on by mistake, (form, y(example) or None).
_WRONG_TARGETS: dict = {
    "drift": (("y = ∂_t I: the velocity's target (γ̇ z left out)", _velocity_target),),
    "velocity": (("y = ∂_t I + γ̇ z: the drift's target", _drift_target_where_finite),),
    "noise": (("y = −z: the target of −E[z | x_t]", lambda ex: -ex.z),
              ("y = −z/γ: the score's target", _where_gamma_positive(lambda ex: -ex.z / _gamma(ex)))),
    "score": (("y = +z/γ: the score's target with the sign flipped",
               _where_gamma_positive(lambda ex: ex.z / _gamma(ex))),
              ("y = −z: the division by γ forgotten", lambda ex: -ex.z)),
    "denoise_x0": (("y = x1: the other denoiser's target", lambda ex: ex.x1),),
    "denoise_x1": (("y = x0: the other denoiser's target", lambda ex: ex.x0),),
}

#: What each loss is the loss of: (field symbol, target y).
_DESCRIPTION = {
    "drift": ("the drift b", "dx_t/dt = α̇ x0 + β̇ x1 + γ̇ z"),
    "velocity": ("the velocity v", "∂_t I = α̇ x0 + β̇ x1"),
    "noise": ("the noise η", "z"),
    "score": ("the score s", "−z/γ"),
    "denoise_x0": ("the denoiser x̂0", "x0"),
    "denoise_x1": ("the denoiser x̂1", "x1"),
}


def _domain(name) -> Callable:
    if name == "drift":
        return lambda case: gamma_dot_finite(case.interpolant.gamma_schedule)
    if name == "score":
        return interior
    return closed


def _accepts(name) -> Callable:
    if name == "score":
        return lambda case: not case.interpolant.gamma_schedule.is_zero
    return lambda case: True


def _loss_quantity(name: str) -> LossQuantity:
    exact = _exact(name)
    derivative = name in ("drift", "velocity")
    # the path run backwards, I(1 − t), with its own derivative −İ(1 − t) as the target of b and v
    reversal = [("x_t and y on the path run backwards (α(1 − t), β(1 − t), γ(1 − t)), f̂ at t",
                 _on_path(name, ReversedInterpolant))]
    if derivative:
        reversal.append(("x_t at 1 − t and y = +İ(1 − t) (d/dt not negated), f̂ at t",
                         _on_path(name, ReversedInterpolant, -1.0)))
    reversal.append(("the whole loss at 1 − t, f̂ included", at_reversed(exact)))
    field, target = _DESCRIPTION[name]
    return LossQuantity(
        f"loss_{name}",
        f"the batch mean of ½ |f̂(x_t, t) − y|², summed over the d coordinates, with y = {target} and "
        f"x_t = α x0 + β x1 + γ z: the mean-square loss of {field}; called loss(field, t, x0, x1, z) with "
        f"field f̂(x, t) = {name}(x, t) + 0.25 x (the exact field moved off the minimiser); a scalar.",
        exact, (
            mistake("loss-scaling",
                    ("mean of |f̂ − y|²: the ½ left out", scaled(exact, lambda ex: 2.0)),
                    ("mean of ½|f̂ − y|²/d: averaged over the d coordinates", scaled(exact, lambda ex: 1.0 / _dimension(ex))),
                    ("mean of (f̂ − y)² over all n·d entries (torch mse_loss, reduction='mean')",
                     scaled(exact, lambda ex: 2.0 / _dimension(ex)))),
            mistake("loss-form", ("mean of ½|f̂|² − y·f̂", _objective(name))),
            mistake("wrong-target", *[(form, _with_target(name, y)) for form, y in _WRONG_TARGETS[name]]),
            mistake("time-reversed", *reversal),
            mistake("alpha-beta-swapped", ("x_t and y with α and β exchanged, f̂ at t",
                                           _on_path(name, lambda I: None if I.kind == "mirror" else SwappedInterpolant(I)))),
        ),
        domain=_domain(name), accepts=_accepts(name), target=name,
        plain=f"loss of {field.split()[-1]}: batch mean of ½|f̂(x_t, t) − y|², y = {target}")


def loss_quantities() -> list:
    """The mean-square losses of the six fields (drift, velocity, noise, score, denoisers) as :class:`LossQuantity`.

    Mistakes, most specific first: ``loss-scaling`` (the ½ left out; averaged over the
    coordinates; both, as ``torch.nn.functional.mse_loss`` does by default), ``loss-form``
    (½|f̂|² − y·f̂: same minimiser, off by ½ E|y|²), ``wrong-target`` (another field's
    target: ∂_t I + γ̇ z for the velocity, ∂_t I for the drift, −z or −z/γ for the noise,
    +z/γ or −z for the score, the other endpoint for a denoiser), ``time-reversed`` (x_t and y
    formed at 1 − t), ``alpha-beta-swapped`` (x_t and y with α and β exchanged).
    """
    return [_loss_quantity(name) for name in TARGET_NAMES]
