r"""Exact classifier-free guidance for interpolants between labelled Gaussian mixtures.

A labelled target :math:`\rho(x) = \sum_k \pi_k N(x; m_k, S_k)` gives every component k a
label :math:`c_k`. The law of :math:`x_1` given the label c is the mixture of the
components of that label, with weights renormalised:
:math:`\rho(x \mid c) = \sum_{k: c_k = c} (\pi_k / \pi_c) N(x; m_k, S_k)`,
:math:`\pi_c = \sum_{k: c_k = c}\pi_k`. With an independent coupling of a base
:math:`x_0` (Gaussian or Gaussian mixture, the same for every label) and the target,
the *conditional* fields given c are the exact fields (:class:`~si_ref.GaussianCase`) of the
interpolant from the base to :math:`\rho(\cdot \mid c)`, and the *unconditional* fields
those from the base to :math:`\rho`. Every field is a callable ``f(x, t, c=None)``:
``c=None`` unconditional, ``c`` a label conditional, so the fields plug into the wrappers
and into ``si_ref.integrate(..., c=label)``.

Classifier-free guidance (CFG) combines the two, for any field f (score s, noise
:math:`\eta`, denoisers :math:`\hat x_0, \hat x_1`, velocity v, drift b, divergence), in one
of two conventions that are named explicitly everywhere:

* the **scale** convention (diffusers' ``guidance_scale``; keyword ``scale`` = g)

  .. math:: f_g = f_u + g\,(f_c - f_u) = g f_c + (1 - g) f_u ,

  g = 1 conditional, g = 0 unconditional;
* the **weight** convention of Ho & Salimans 2022 (arXiv:2207.12598, eq. (6); keyword
  ``weight`` = w)

  .. math:: f_w = (1 + w) f_c - w f_u ,

  w = 0 conditional, w = −1 unconditional. The two agree at g = 1 + w.

Both are affine combinations with coefficients that do not depend on the field and sum
to 1, so every identity of si_ref's conventions that is linear in the fields with
coefficients depending only on (x, t) (the table of fields in the README) holds for the guided
fields: :math:`\eta_g = -\gamma s_g`, :math:`b_g = v_g - \gamma\dot\gamma s_g`,
:math:`x = \alpha\hat x_{0,g} + \beta\hat x_{1,g} + \gamma\eta_g`,
:math:`v_g = \dot\alpha\hat x_{0,g} + \dot\beta\hat x_{1,g}`. Consequently guiding the
noise predictor, the velocity, the score or the drift gives *the same guided drift*
whenever the drift is obtained from the guided quantities by one of these identities:
always when a complete set is guided (b from (v, s), from (v, η), from
(:math:`\hat x_0, \hat x_1, \eta`)); from one field alone exactly where that field
determines b: one-sided interpolants (b affine in the score, or in :math:`\hat x_0`),
two-sided interpolants with a *Gaussian* base :math:`N(m_0, S_0)` independent of the
target (Stein's identity :math:`\hat x_0 = m_0 - \alpha S_0 s`, so b is affine in s with an
x-coefficient independent of the field). With a non-Gaussian base no single field
determines b; guiding only one of (v, s) and keeping the other unguided gives a different
drift. Measured (tests/test_guidance.py: two-sided linear interpolant, Brownian γ, a
two-component base, g = 3, t = 0.35, points where :math:`|b_g|` reaches 8.8):
:math:`v_u - \gamma\dot\gamma s_g` differs from :math:`b_g` by up to 6.7, and the
Gaussian-base route from the guided score alone (with the moment-matched base) by up to 9.3,
while every complete set agrees with :math:`b_g` to 1e-12.

Classifier guidance (Dhariwal & Nichol 2021, arXiv:2105.05233, Sec. 4) adds
:math:`g\nabla_x\log p(c \mid x_t = x)` to the unconditional score; since
:math:`s(x \mid c) - s(x) = \nabla_x\log p(c \mid x_t = x)` (Bayes), it equals the
scale-convention guided score.

The guided drift is not the drift of the interpolant to the tilted target: the guided
probability-flow ODE does *not* sample the tilted target
:math:`\rho_g \propto \rho(\cdot \mid c)^g \rho^{1-g}` (the density CFG is often said to
sample) except at g = 0 and g = 1. For Gaussian conditional and unconditional laws the
guided drift is affine, the output law of the ODE is Gaussian, and
:class:`GuidedGaussianPair` gives it exactly (mean and flow matrix by ``solve_ivp``), with
the tilted Gaussian and the KL and W2 gaps between them.

Shapes: ``x`` is (n, d); ``t`` a scalar or (n,); vector fields return (n, d), scalar fields
(n,). Everything is float64; inputs are never modified.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy.integrate import quad, solve_ivp
from scipy.linalg import cho_factor, cho_solve, eigh
from scipy.special import logsumexp

from ._checks import (
    as_count,
    as_points,
    as_real_scalar,
    as_time_scalar,
    as_times,
    check_rng,
    nonnegative_of_time,
    solver_tolerances,
    time_column,
)
from .distributions import Gaussian, GaussianMixture
from .gaussian import GaussianCase
from .interpolants import Interpolant
from .sampler_law import gaussian_kl, gaussian_w2

__all__ = [
    "GuidanceStrength",
    "guidance_strength",
    "guide",
    "GuidedField",
    "LabelledGaussianMixture",
    "GuidanceCase",
    "GuidedGaussianPair",
    "GuidedFields",
    "TiltedMixture",
    "tilted_target",
    "TiltGap",
    "GUIDED_FIELDS",
]

#: The fields that guidance combines linearly (vector fields and the divergence of the drift).
GUIDED_FIELDS = ("score", "noise", "denoise_x0", "denoise_x1", "velocity", "drift", "divergence")


# --- the guidance strength in its two conventions ----------------------------------------------

@dataclass(frozen=True)
class GuidanceStrength:
    r"""How strongly to guide, with the convention it was given in.

    The guided value is :math:`f_g = a_c f_c + a_u f_u` with :math:`a_c + a_u = 1`:

    * ``convention == "scale"`` (diffusers' ``guidance_scale`` g):
      :math:`a_c = g`, :math:`a_u = 1 - g`;
    * ``convention == "weight"`` (Ho & Salimans 2022, arXiv:2207.12598, eq. (6), w):
      :math:`a_c = 1 + w`, :math:`a_u = -w`.

    Build it with :func:`guidance_strength` (exactly one of ``scale`` and ``weight``).
    The coefficients are formed in the given convention, so g = 1 and w = 0 return the
    conditional field exactly and g = 0 (w = −1) the unconditional one.

    Attributes
    ----------
    convention : str
        ``"scale"`` or ``"weight"``.
    value : float
        g or w as given.
    """

    convention: str
    value: float

    def __post_init__(self):
        if self.convention not in ("scale", "weight"):
            raise ValueError(f"convention must be 'scale' or 'weight'; received {self.convention!r}. Build the "
                             f"strength with guidance_strength(scale=g) or guidance_strength(weight=w).")
        object.__setattr__(self, "value", as_real_scalar(self.value, self.convention))

    @property
    def scale(self) -> float:
        """g (diffusers' ``guidance_scale``): 1 + w in the weight convention."""
        return self.value if self.convention == "scale" else 1.0 + self.value

    @property
    def weight(self) -> float:
        """w of Ho & Salimans (eq. (6)): g − 1 in the scale convention."""
        return self.value if self.convention == "weight" else self.value - 1.0

    @property
    def conditional_coefficient(self) -> float:
        """:math:`a_c` = g, or 1 + w."""
        return self.scale

    @property
    def unconditional_coefficient(self) -> float:
        """:math:`a_u` = 1 − g, or −w (−(g − 1) is 1 − g exactly: negation and g − 1 round like 1 − g)."""
        return -self.weight

    def describe(self) -> str:
        """``'g = 3 (w = 2)'`` or ``'w = 2 (g = 3)'``, for messages."""
        if self.convention == "scale":
            return f"g = {self.scale:g} (w = {self.weight:g})"
        return f"w = {self.weight:g} (g = {self.scale:g})"

    def combine(self, conditional, unconditional) -> np.ndarray:
        """:math:`a_c f_c + a_u f_u` of two float64 arrays of one shape (no validation; see :func:`guide`)."""
        a_c, a_u = self.conditional_coefficient, self.unconditional_coefficient
        if a_u == 0.0:
            return np.array(conditional, dtype=np.float64)      # exactly f_c (g = 1, w = 0)
        if a_c == 0.0:
            return np.array(unconditional, dtype=np.float64)    # exactly f_u (g = 0, w = -1)
        return a_c * conditional + a_u * unconditional


def guidance_strength(*, scale=None, weight=None) -> GuidanceStrength:
    r"""The guidance strength from exactly one of ``scale`` (g) and ``weight`` (w = g − 1).

    Parameters
    ----------
    scale : float, optional
        g of :math:`f_u + g (f_c - f_u)` (diffusers' ``guidance_scale``).
    weight : float, optional
        w of :math:`(1 + w) f_c - w f_u` (Ho & Salimans 2022, arXiv:2207.12598, eq. (6)).

    Raises
    ------
    TypeError
        If both or neither are given, or the value is not a real number.
    ValueError
        If the value is NaN or infinite.
    """
    if isinstance(scale, GuidanceStrength) or isinstance(weight, GuidanceStrength):
        raise TypeError("scale and weight must be numbers (g or w); received a GuidanceStrength. Pass its number, "
                        "or pass it as strength=... where that keyword exists (GuidedField).")
    if (scale is None) == (weight is None):
        received = "both" if scale is not None else "neither"
        raise TypeError(
            f"give exactly one of scale (g, f_u + g (f_c - f_u), diffusers' guidance_scale) and weight "
            f"(w, (1 + w) f_c - w f_u, Ho & Salimans eq. (6)); received {received}. They are related by g = 1 + w."
        )
    if scale is not None:
        return GuidanceStrength("scale", as_real_scalar(scale, "scale"))
    return GuidanceStrength("weight", as_real_scalar(weight, "weight"))


def _strength(strength, scale, weight) -> GuidanceStrength:
    """A GuidanceStrength from keyword arguments, or the one given as ``strength``."""
    if strength is not None:
        if scale is not None or weight is not None:
            raise TypeError(f"give either strength or one of scale and weight; received strength={strength!r} and "
                            f"scale={scale!r}, weight={weight!r}. Drop one of them.")
        if not isinstance(strength, GuidanceStrength):
            raise TypeError(f"strength must be a GuidanceStrength from guidance_strength(); received "
                            f"{type(strength).__name__}.")
        return strength
    return guidance_strength(scale=scale, weight=weight)


def guide(conditional, unconditional, *, scale=None, weight=None) -> np.ndarray:
    r"""Classifier-free guidance of two values of one field: :math:`f_u + g(f_c - f_u) = (1 + w) f_c - w f_u`.

    Parameters
    ----------
    conditional, unconditional : array_like, same shape
        :math:`f(x, t \mid c)` and :math:`f(x, t)` (e.g. two outputs of one network, with the
        label and with the null label).
    scale, weight : float
        Exactly one: g (scale convention, diffusers' ``guidance_scale``) or w (Ho & Salimans
        2022, arXiv:2207.12598, eq. (6)); g = 1 + w.

    Returns
    -------
    ndarray of float64, the shape of the inputs.

    Raises
    ------
    TypeError, ValueError
        For non-real or non-finite arrays, mismatched shapes, or a bad strength.

    Examples
    --------
    >>> import numpy as np
    >>> from si_ref import guide
    >>> conditional, unconditional = np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]])
    >>> guide(conditional, unconditional, weight=2.0)      # (1 + w) f_c − w f_u
    array([[3., 6.]])
    >>> guide(conditional, unconditional, scale=3.0)       # f_u + g (f_c − f_u), g = 1 + w
    array([[3., 6.]])
    """
    strength = guidance_strength(scale=scale, weight=weight)
    values = []
    for name, value in (("conditional", conditional), ("unconditional", unconditional)):
        arr = np.asarray(value)
        if arr.dtype.kind not in "iuf":
            raise TypeError(f"{name} must be real numbers; received dtype {arr.dtype}. Pass a float array.")
        arr = arr.astype(np.float64)
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} must be finite; received NaN or inf. Check the model output that produced it.")
        values.append(arr)
    if values[0].shape != values[1].shape:
        raise ValueError(f"conditional and unconditional must have the same shape; received {values[0].shape} "
                         f"and {values[1].shape}.")
    return strength.combine(*values)


class GuidedField:
    r"""A guided field :math:`f_g(x, t, c) = a_c f(x, t, c) + a_u f(x, t)` from one conditional field.

    ``field`` is called as ``field(x, t)`` for the unconditional value and ``field(x, t, c)``
    for the conditional one (si_ref's convention: ``c`` passed only when given, as a network
    with a null label), so any si_ref field or wrapper with a ``c`` argument can be guided.

    Parameters
    ----------
    field : callable
        ``f(x, t, c=None)`` returning shape (n, d) (a vector field) or (n,) (a scalar field such
        as a divergence).
    scale, weight : float
        Exactly one: g of :math:`f_u + g(f_c - f_u)` (diffusers' ``guidance_scale``) or w of
        :math:`(1 + w) f_c - w f_u` (Ho & Salimans 2022, arXiv:2207.12598, eq. (6)).
    strength : GuidanceStrength, optional
        Instead of ``scale`` / ``weight``.

    Calling
    -------
    ``guided(x, t, c)``: x (n, d), t scalar or (n,), c the label (required: guidance without a
    label is the unconditional field, ``field(x, t)``). Returns float64 of the field's shape.
    """

    def __init__(self, field, *, scale=None, weight=None, strength=None):
        if not callable(field):
            raise TypeError(f"field must be a callable f(x, t, c=None); received {field!r}.")
        self.field = field
        self.strength = _strength(strength, scale, weight)

    def __repr__(self):
        name = getattr(self.field, "__qualname__", type(self.field).__name__)
        return f"GuidedField({name}, {self.strength.describe()})"

    def __call__(self, x, t, c=None):
        if c is None:
            raise ValueError(
                "a guided field needs the label c to guide towards; received c=None. Call it as f(x, t, c) "
                "(or pass c=label to si_ref.integrate); the unconditional field is the wrapped field(x, t)."
            )
        x = as_points(x, "x")
        times = as_times(t)
        time_column(times, x.shape[0])
        arg_t = lambda: times[()] if times.ndim == 0 else times.copy()   # noqa: E731  (a scalar stays a scalar)
        conditional = self._value(self.field(x.copy(), arg_t(), c), x, "f(x, t, c)")
        unconditional = self._value(self.field(x.copy(), arg_t()), x, "f(x, t)")
        if conditional.shape != unconditional.shape:
            raise ValueError(f"the wrapped field returned shape {conditional.shape} with c and "
                             f"{unconditional.shape} without; they must agree.")
        return self.strength.combine(conditional, unconditional)

    @staticmethod
    def _value(out, x, what):
        out = np.asarray(out)
        if out.shape not in (x.shape, x.shape[:1]):
            raise ValueError(f"the wrapped field's {what} must return shape (n, d) = {x.shape} or (n,) = "
                             f"{x.shape[:1]}; received shape {out.shape}.")
        if out.dtype.kind not in "iuf":
            raise TypeError(f"the wrapped field's {what} must return real numbers; received dtype {out.dtype}.")
        out = out.astype(np.float64)
        if not np.isfinite(out).all():
            raise ValueError(f"the wrapped field's {what} returned NaN or inf.")
        return out


# --- labelled targets ------------------------------------------------------------------------------

def _label(value, name="labels"):
    """A label as a Python int or str (NumPy integers and strings converted); bool, float, None refused."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be ints or strings; received the bool {value!r}. Use 0/1 or names.")
    if isinstance(value, (numbers.Integral, np.integer)):
        return int(value)
    if isinstance(value, (str, np.str_)):
        return str(value)
    raise TypeError(f"{name} must be ints or strings (hashable class labels); received {value!r} of type "
                    f"{type(value).__name__}.")


@dataclass(frozen=True, eq=False)
class LabelledGaussianMixture:
    r"""A Gaussian mixture whose components carry class labels: :math:`\sum_k \pi_k N(m_k, S_k)`, label :math:`c_k`.

    .. math::

        \rho(x \mid c) = \sum_{k: c_k = c} \frac{\pi_k}{\pi_c} N(x; m_k, S_k), \qquad
        \pi_c = \sum_{k: c_k = c} \pi_k, \qquad \rho = \sum_c \pi_c \rho(\cdot \mid c).

    Parameters
    ----------
    weights : array_like, shape (k,)
        Positive, summing to 1 (as :class:`~si_ref.GaussianMixture`); every label thus has
        positive weight :math:`\pi_c`.
    means : array_like, shape (k, d)
    covs : array_like, shape (k, d, d)
        Symmetric positive definite.
    labels : sequence of int or str, length k
        The label of each component (several components may share one). NumPy integers and
        strings are stored as Python ints and strs; bools and floats are refused.

    Attributes
    ----------
    mixture : GaussianMixture
        The unconditional target.
    label_values : tuple
        The distinct labels, in order of first appearance.
    """

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray
    labels: tuple
    mixture: GaussianMixture = field(init=False, repr=False)
    label_values: tuple = field(init=False, repr=False)

    def __post_init__(self):
        mixture = GaussianMixture(self.weights, self.means, self.covs)
        raw = self.labels
        if isinstance(raw, (str, bytes)) or not hasattr(raw, "__len__"):
            raise TypeError(f"labels must be a sequence of k = {mixture.n_components} labels (ints or strings), one "
                            f"per component; received {raw!r}.")
        if isinstance(raw, np.ndarray) and raw.ndim != 1:
            raise ValueError(f"labels must be one-dimensional, one label per component; received shape {raw.shape}.")
        labels = tuple(_label(v) for v in raw)
        if len(labels) != mixture.n_components:
            raise ValueError(
                f"labels must have one label per component: k = {mixture.n_components} (as in means); received "
                f"{len(labels)} labels. Give the label of every component, e.g. labels=[0, 0, 1]."
            )
        values = tuple(dict.fromkeys(labels))
        object.__setattr__(self, "weights", mixture.weights)
        object.__setattr__(self, "means", mixture.means)
        object.__setattr__(self, "covs", mixture.covs)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "mixture", mixture)
        object.__setattr__(self, "label_values", values)

    @property
    def dim(self) -> int:
        """The dimension d."""
        return self.mixture.dim

    def check_label(self, c):
        """The label ``c`` as stored (Python int or str); ``ValueError`` listing the valid labels if unknown."""
        try:
            label = _label(c, "c")
        except TypeError:
            raise TypeError(f"c must be one of the labels {list(self.label_values)} (or None for the unconditional "
                            f"field); received {c!r} of type {type(c).__name__}.") from None
        if label not in self.label_values:
            raise ValueError(f"c = {c!r} is not a label of the target; the labels are {list(self.label_values)}. "
                             f"Pass one of them, or c=None for the unconditional field.")
        return label

    def components_of(self, c) -> np.ndarray:
        """Indices of the components with label ``c``, shape (k_c,)."""
        label = self.check_label(c)
        return np.array([k for k, lab in enumerate(self.labels) if lab == label])

    def label_weight(self, c) -> float:
        r""":math:`\pi_c = \sum_{k: c_k = c}\pi_k`, the probability of the label."""
        return float(self.weights[self.components_of(c)].sum())

    def conditional(self, c):
        r""":math:`\rho(\cdot \mid c)`: a Gaussian for a label with one component, else a GaussianMixture."""
        index = self.components_of(c)
        if index.size == 1:
            return Gaussian(self.means[index[0]], self.covs[index[0]])
        w = self.weights[index]
        return GaussianMixture(w / w.sum(), self.means[index], self.covs[index])

    def sample(self, n, rng):
        """``(x, labels)``: n points (n, d) and their labels (a list of length n) drawn from :math:`\\rho`."""
        n = as_count(n, "n", minimum=0)
        check_rng(rng)
        component = rng.choice(self.mixture.n_components, size=n, p=self.weights)
        z = rng.standard_normal((n, self.dim))
        x = self.means[component] + np.einsum("nij,nj->ni", self.mixture.chols[component], z)
        return x, [self.labels[k] for k in component]


# --- the exact fields given a label -------------------------------------------------------------

class _LabelledCase:
    """Conditional (c a label) and unconditional (c None) exact fields of one interpolant and base."""

    def case(self, c=None) -> GaussianCase:  # pragma: no cover - abstract
        """The exact :class:`~si_ref.GaussianCase` given the label c (None: the unconditional one)."""
        raise NotImplementedError

    # every field f(x, t, c=None)
    def log_density(self, x, t, c=None) -> np.ndarray:
        r""":math:`\log\rho_t(x \mid c)` (c a label) or :math:`\log\rho_t(x)` (c None); returns (n,)."""
        return self.case(c).log_density(x, t)

    def density(self, x, t, c=None) -> np.ndarray:
        r""":math:`\rho_t(x \mid c)` or :math:`\rho_t(x)`; returns (n,)."""
        return self.case(c).density(x, t)

    def score(self, x, t, c=None) -> np.ndarray:
        r"""Score :math:`\nabla\log\rho_t(x \mid c)` (c None: unconditional); returns (n, d)."""
        return self.case(c).score(x, t)

    def noise(self, x, t, c=None) -> np.ndarray:
        r"""Noise :math:`\eta = E[z \mid x_t = x, c] = -\gamma s`; returns (n, d)."""
        return self.case(c).noise(x, t)

    def denoise_x0(self, x, t, c=None) -> np.ndarray:
        r"""Denoiser :math:`E[x_0 \mid x_t = x, c]`; returns (n, d)."""
        return self.case(c).denoise_x0(x, t)

    def denoise_x1(self, x, t, c=None) -> np.ndarray:
        r"""Denoiser :math:`E[x_1 \mid x_t = x, c]`; returns (n, d)."""
        return self.case(c).denoise_x1(x, t)

    def velocity(self, x, t, c=None) -> np.ndarray:
        r"""Velocity :math:`v = E[\dot\alpha x_0 + \dot\beta x_1 \mid x_t = x, c]`; returns (n, d)."""
        return self.case(c).velocity(x, t)

    def drift(self, x, t, c=None) -> np.ndarray:
        r"""Drift :math:`b = v - \gamma\dot\gamma s` (probability flow of :math:`\rho_t(\cdot \mid c)`); returns (n, d)."""
        return self.case(c).drift(x, t)

    def divergence(self, x, t, c=None) -> np.ndarray:
        r""":math:`\nabla\cdot b`; returns (n,)."""
        return self.case(c).divergence(x, t)

    def forward_drift(self, x, t, eps, c=None) -> np.ndarray:
        r"""Forward SDE drift :math:`b + \varepsilon s`; returns (n, d)."""
        return self.case(c).forward_drift(x, t, eps)

    def backward_drift(self, x, t, eps, c=None) -> np.ndarray:
        r"""Backward SDE drift :math:`b - \varepsilon s`; returns (n, d)."""
        return self.case(c).backward_drift(x, t, eps)

    def guided(self, *, scale=None, weight=None) -> "GuidedFields":
        r"""The exact classifier-free-guided fields, in the convention of the keyword given.

        ``scale`` = g: :math:`f_u + g(f_c - f_u)` (diffusers' ``guidance_scale``); ``weight`` = w:
        :math:`(1 + w) f_c - w f_u` (Ho & Salimans 2022, arXiv:2207.12598, eq. (6)). See
        :class:`GuidedFields`.
        """
        return GuidedFields(self, guidance_strength(scale=scale, weight=weight))


class GuidedFields:
    r"""Exact classifier-free-guided fields :math:`f_g(x, t, c) = a_c f(x, t \mid c) + a_u f(x, t)` of a labelled case.

    Attributes ``score``, ``noise``, ``denoise_x0``, ``denoise_x1``, ``velocity``, ``drift`` and
    ``divergence`` are :class:`GuidedField` objects, called as ``f(x, t, c)`` with c the label
    (x (n, d), t scalar or (n,)). Built by ``case.guided(scale=g)`` or ``case.guided(weight=w)``.
    The guided fields satisfy every linear identity of si_ref's conventions
    (:math:`\eta_g = -\gamma s_g`, :math:`b_g = v_g - \gamma\dot\gamma s_g`,
    :math:`x = \alpha\hat x_{0,g} + \beta\hat x_{1,g} + \gamma\eta_g`,
    :math:`\nabla\cdot b_g = a_c\nabla\cdot b_c + a_u\nabla\cdot b_u`), because
    :math:`a_c + a_u = 1`.
    """

    def __init__(self, case: _LabelledCase, strength: GuidanceStrength):
        self.case = case
        self.strength = strength
        for name in GUIDED_FIELDS:
            setattr(self, name, GuidedField(getattr(case, name), strength=strength))

    def __repr__(self):
        return f"GuidedFields({type(self.case).__name__}, {self.strength.describe()})"

    def forward_drift(self, x, t, eps, c) -> np.ndarray:
        r"""Guided forward SDE drift :math:`b_g + \varepsilon s_g` (= guiding :math:`b + \varepsilon s`); returns (n, d)."""
        eps_t = nonnegative_of_time(eps, as_times(t), "eps")
        return self.drift(x, t, c) + np.reshape(eps_t, (-1, 1)) * self.score(x, t, c)

    def backward_drift(self, x, t, eps, c) -> np.ndarray:
        r"""Guided backward SDE drift :math:`b_g - \varepsilon s_g`; returns (n, d)."""
        eps_t = nonnegative_of_time(eps, as_times(t), "eps")
        return self.drift(x, t, c) - np.reshape(eps_t, (-1, 1)) * self.score(x, t, c)


class GuidanceCase(_LabelledCase):
    r"""Exact conditional and unconditional fields of an interpolant to a labelled Gaussian-mixture target.

    The conditional fields given a label c are those of ``GaussianCase(interpolant, base,
    target.conditional(c))`` (the components of label c, weights renormalised); the
    unconditional ones those of ``GaussianCase(interpolant, base, target.mixture)``. The
    coupling of :math:`x_0` and :math:`x_1` is independent and the base does not depend on c.

    Parameters
    ----------
    interpolant : Interpolant
        Two-sided or one-sided (then ``base`` must be None or N(0, I)); not mirror (its base
        is the target itself, which would depend on c).
    base : Gaussian or GaussianMixture or None
    target : LabelledGaussianMixture

    Every field is ``f(x, t, c=None)`` (see :class:`_LabelledCase` methods: ``score``, ``noise``,
    ``denoise_x0``, ``denoise_x1``, ``velocity``, ``drift``, ``divergence``, ``log_density``,
    ``density``, ``forward_drift(x, t, eps, c=None)``, ``backward_drift``); :meth:`guided`
    gives the guided fields, :meth:`tilted_target` the tilted density
    :math:`\propto \rho(x \mid c)^g \rho(x)^{1-g}`.

    Raises
    ------
    TypeError, ValueError
        For a target that is not a LabelledGaussianMixture, a mirror interpolant, or what
        :class:`~si_ref.GaussianCase` refuses.
    """

    def __init__(self, interpolant: Interpolant, base, target: LabelledGaussianMixture):
        if not isinstance(target, LabelledGaussianMixture):
            raise TypeError(f"target must be a LabelledGaussianMixture(weights, means, covs, labels); received "
                            f"{type(target).__name__}.")
        if isinstance(interpolant, Interpolant) and interpolant.kind == "mirror":
            raise ValueError("a mirror interpolant maps the target to itself, so its base would depend on the label; "
                             "use a two-sided or one-sided interpolant for guidance.")
        self.target = target
        self.unconditional = GaussianCase(interpolant, base, target.mixture)
        self.interpolant = interpolant
        self.base = self.unconditional.base
        self.dim = target.dim
        self._conditional = {}

    @property
    def labels(self) -> tuple:
        """The distinct labels of the target."""
        return self.target.label_values

    def conditional_case(self, c) -> GaussianCase:
        """The GaussianCase from the base to :math:`\\rho(\\cdot \\mid c)` (built once per label)."""
        label = self.target.check_label(c)
        if label not in self._conditional:
            self._conditional[label] = GaussianCase(self.interpolant, self.base, self.target.conditional(label))
        return self._conditional[label]

    def case(self, c=None) -> GaussianCase:
        """The exact case given the label c (:meth:`conditional_case`), or :attr:`unconditional` for c = None."""
        return self.unconditional if c is None else self.conditional_case(c)

    def log_class_probability(self, x, t, c) -> np.ndarray:
        r""":math:`\log p(c \mid x_t = x) = \log\pi_c + \log\rho_t(x \mid c) - \log\rho_t(x)`; returns (n,)."""
        label = self.target.check_label(c)
        return math.log(self.target.label_weight(label)) + self.log_density(x, t, label) - self.log_density(x, t)

    def class_probabilities(self, x, t) -> np.ndarray:
        r""":math:`p(c \mid x_t = x)` for every label (columns in the order of :attr:`labels`); returns (n, L)."""
        logs = np.stack([math.log(self.target.label_weight(c)) + self.log_density(x, t, c) for c in self.labels], 1)
        return np.exp(logs - logsumexp(logs, axis=1, keepdims=True))

    def classifier_score(self, x, t, c) -> np.ndarray:
        r""":math:`\nabla_x\log p(c \mid x_t = x) = s(x \mid c) - s(x)` (Bayes), the classifier gradient of
        Dhariwal & Nichol 2021 (arXiv:2105.05233, Sec. 4.1); returns (n, d)."""
        label = self.target.check_label(c)
        return self.score(x, t, label) - self.score(x, t)

    def tilted_target(self, c, *, scale=None, weight=None):
        r"""The tilted target :math:`\rho_g \propto \rho(x \mid c)^g \rho(x)^{1-g}` at t = 1.

        A :class:`~si_ref.Gaussian` when both laws are single Gaussians (a target with one
        component), else a :class:`TiltedMixture`; see :func:`tilted_target`.
        """
        label = self.target.check_label(c)
        conditional = self.target.conditional(label)
        unconditional = self.target.mixture
        if unconditional.n_components == 1:
            unconditional = Gaussian(unconditional.means[0], unconditional.covs[0])
        return tilted_target(conditional, unconditional, scale=scale, weight=weight)


# --- tilted targets ----------------------------------------------------------------------------------

def _parts(dist):
    """(weights, means, covs) of a Gaussian or GaussianMixture."""
    if isinstance(dist, Gaussian):
        return np.ones(1), dist.mean[None], dist.cov[None]
    return dist.weights, dist.means, dist.covs


def _precision(cov):
    """S⁻¹ by Cholesky solves (symmetrised)."""
    p = cho_solve(cho_factor(cov, lower=True), np.eye(cov.shape[0]))
    return 0.5 * (p + p.T)


def _tilted_gaussian(conditional: Gaussian, unconditional: Gaussian, strength: GuidanceStrength) -> Gaussian:
    r"""N(m, P⁻¹) with P = a_c P_c + a_u P_u, m = P⁻¹(a_c P_c m_c + a_u P_u m_u); ValueError if P is not PD."""
    a_c, a_u = strength.conditional_coefficient, strength.unconditional_coefficient
    if a_u == 0.0:
        return Gaussian(conditional.mean, conditional.cov)
    if a_c == 0.0:
        return Gaussian(unconditional.mean, unconditional.cov)
    p_c, p_u = _precision(conditional.cov), _precision(unconditional.cov)
    precision = a_c * p_c + a_u * p_u
    smallest = float(np.linalg.eigvalsh(precision)[0])
    if not smallest > 1e-12 * float(np.abs(precision).max()):
        # P = P_u + g (P_c - P_u) is PD exactly for g in an interval around [0, 1]: 1 + g mu_i > 0 for the
        # generalised eigenvalues mu_i of (P_c - P_u, P_u)
        mu = eigh(p_c - p_u, p_u, eigvals_only=True)
        low = max([-1.0 / m for m in mu if m > 0], default=-math.inf)
        high = min([-1.0 / m for m in mu if m < 0], default=math.inf)
        raise ValueError(
            f"the tilted target rho_c^g rho_u^(1-g) with {strength.describe()} is not normalisable: its precision "
            f"g P_c + (1 - g) P_u has smallest eigenvalue {smallest:.3g}, not positive (at most 1e-12 of its largest "
            f"entry). It is a Gaussian for g in "
            f"({low:.6g}, {high:.6g}) (w = g - 1 in ({low - 1:.6g}, {high - 1:.6g})); choose a scale or weight there."
        )
    factor = cho_factor(precision, lower=True)
    cov = cho_solve(factor, np.eye(precision.shape[0]))
    mean = cho_solve(factor, a_c * p_c @ conditional.mean + a_u * p_u @ unconditional.mean)
    return Gaussian(mean, 0.5 * (cov + cov.T))


#: Rows of the angle grid of the tail test in d = 2 (directions θ in [0, π)).
_TAIL_ANGLES = 4096
#: The quadrature box is grown until the tilted density at its boundary is below this fraction of its maximum.
_BOX_TAIL = 1e-24


class TiltedMixture:
    r"""The tilted density :math:`\rho_g(x) = \rho_c(x)^{a_c}\rho_u(x)^{a_u} / Z` of two Gaussian mixtures.

    :math:`a_c = g, a_u = 1 - g` (scale convention) or :math:`a_c = 1 + w, a_u = -w` (weight
    convention); the density that classifier-free guidance is often said to sample
    (:math:`\rho(x \mid c)^{1+w}\rho(x)^{-w} \propto \rho(x)\,p(c \mid x)^{1+w}`, Ho & Salimans
    2022, Sec. 3.1).

    Normalisability: along a direction u, :math:`\log\rho_k(r u) = -\tfrac12 r^2 \min_j u^\top P_j u + O(r)`
    (the component of smallest precision along u dominates), so the integral converges iff
    :math:`q(u) = a_c \min_{j \in c} u^\top P_j u + a_u \min_{j \in u} u^\top P_j u > 0` for every
    unit u. In d = 1 this is one number; in d = 2 it is tested on 4096 directions with the
    Lipschitz bound of q in the angle (a rigorous test; a value within that bound of 0 raises
    as undecided). In d >= 3 only a sufficient condition is tested: the lower bound of q with
    :math:`a\min_j\lambda_{\min}(P_j)` for a coefficient a >= 0 and :math:`a\min_j\lambda_{\max}(P_j)`
    for a < 0 must be positive (else ValueError, undecided), and the normaliser is not computed.
    For labelled mixtures (the conditional components are among the unconditional ones)
    q > 0 for every g >= 0 (in d >= 3 the bound may be too weak to show it for g > 1).

    Normaliser: d = 1, ``scipy.integrate.quad`` (relative tolerance 1e-12) on a box outside
    which the density is below 1e-24 of its maximum, with the component means as break
    points; d = 2, the trapezoidal rule on a uniform grid of that box (spectrally accurate for
    these smooth, rapidly decaying integrands), whose step is at most half the smallest
    standard deviation of the tilted precision (at most 1025 points per axis), with the error
    estimated by the difference from the grid of twice the step (an over-estimate: it is the
    error of the coarser grid). :attr:`log_normaliser_error` is that estimate for log Z
    (measured: 3e-13 in d = 1 and 4e-7 in d = 2 for the cases of the tests at g = 3, where
    importance sampling with 1e5 points agrees within its standard errors, 2e-4 and 3e-4 relative).

    Parameters
    ----------
    conditional, unconditional : Gaussian or GaussianMixture
    strength : GuidanceStrength

    Attributes
    ----------
    tail_precision : float
        A positive lower bound of :math:`\min_u q(u)` (the Gaussian decay rate of the tails),
        used to size the quadrature box.

    Raises
    ------
    ValueError
        When the integral diverges (or its convergence is undecided), naming g and w.
    """

    def __init__(self, conditional, unconditional, strength: GuidanceStrength):
        for name, dist in (("conditional", conditional), ("unconditional", unconditional)):
            if not isinstance(dist, (Gaussian, GaussianMixture)):
                raise TypeError(f"{name} must be a Gaussian or GaussianMixture; received {type(dist).__name__}.")
        if conditional.dim != unconditional.dim:
            raise ValueError(f"conditional and unconditional must have one dimension; received {conditional.dim} "
                             f"and {unconditional.dim}.")
        self.conditional, self.unconditional, self.strength = conditional, unconditional, strength
        self.dim = conditional.dim
        self.tail_precision = self._tail_precision()
        self._normaliser = None

    def __repr__(self):
        return f"TiltedMixture(d={self.dim}, {self.strength.describe()})"

    def _tail_precision(self) -> float:
        """min over unit u of q(u); ValueError when not positive (divergent) or undecided."""
        a_c, a_u = self.strength.conditional_coefficient, self.strength.unconditional_coefficient
        p_c = np.array([_precision(s) for s in _parts(self.conditional)[2]])
        p_u = np.array([_precision(s) for s in _parts(self.unconditional)[2]])
        d = self.dim
        if d == 1:
            q, slack = a_c * p_c[:, 0, 0].min() + a_u * p_u[:, 0, 0].min(), 0.0
        elif d == 2:
            theta = np.linspace(0.0, np.pi, _TAIL_ANGLES, endpoint=False)
            u = np.stack([np.cos(theta), np.sin(theta)], 1)
            form = lambda p: np.einsum("ni,kij,nj->kn", u, p, u).min(axis=0)   # noqa: E731
            q_grid = a_c * form(p_c) + a_u * form(p_u)
            spread = lambda p: max(np.ptp(np.linalg.eigvalsh(m)) for m in p)  # noqa: E731
            lipschitz = abs(a_c) * spread(p_c) + abs(a_u) * spread(p_u)
            q, slack = float(q_grid.min()), lipschitz * (np.pi / _TAIL_ANGLES) / 2
        else:
            # a rigorous lower bound: min_j u'P_j u >= min_j λ_min(P_j), and <= min_j λ_max(P_j) (for a < 0)
            def lower(a, p):
                eigenvalues = np.linalg.eigvalsh(p)
                return a * eigenvalues[:, 0].min() if a >= 0 else a * eigenvalues[:, -1].min()

            q, slack = lower(a_c, p_c) + lower(a_u, p_u), 0.0
            if q > 0:
                return float(q)
            raise ValueError(
                f"the normalisability of the tilted target rho_c^g rho_u^(1-g) with {self.strength.describe()} "
                f"cannot be decided in d = {d}: the sufficient bound g min_j lambda(P_j) + (1 - g) min_j lambda(P_j) "
                f"(smallest or largest eigenvalues by the sign of the coefficient) is {q:.3g} <= 0. Use d <= 2, or "
                f"a scale g in [0, 1] (always normalisable).")
        if q - slack > 0:
            return float(q - slack)
        what = "diverges" if q < 0 else "cannot be decided (its tails are borderline)"
        raise ValueError(
            f"the tilted target rho_c^g rho_u^(1-g) with {self.strength.describe()} is not normalisable: its "
            f"integral {what}, since along some direction its log density behaves like -q r^2 / 2 with "
            f"q = {q:.3g} (minimum over directions of g min_(j in c) u'P_j u + (1 - g) min_j u'P_j u). Use a "
            f"larger g (negative g lets the unconditional tails dominate), e.g. g >= 0."
        )

    def log_unnormalised(self, x) -> np.ndarray:
        r""":math:`a_c\log\rho_c(x) + a_u\log\rho_u(x)` at the rows of x (n, d); returns (n,)."""
        x = as_points(x, "x", d=self.dim)
        return self.strength.combine(self.conditional.log_prob(x), self.unconditional.log_prob(x))

    def _box(self):
        """Lower and upper corners of a box outside which the density is below _BOX_TAIL of its maximum."""
        means = np.concatenate([_parts(self.conditional)[1], _parts(self.unconditional)[1]])
        centre = 0.5 * (means.min(axis=0) + means.max(axis=0))
        half = 0.5 * (means.max(axis=0) - means.min(axis=0)) + 12.0 / math.sqrt(self.tail_precision)
        peak = float(self.log_unnormalised(means).max())
        for _ in range(12):
            edge = self._box_boundary(centre, half)
            if float(self.log_unnormalised(edge).max()) < peak + math.log(_BOX_TAIL):
                return centre - half, centre + half
            half = 2.0 * half
        raise ValueError(f"could not find a box holding the tilted target ({self.strength.describe()}): its tails "
                         f"decay too slowly for quadrature.")

    def _box_boundary(self, centre, half):
        s = np.linspace(-1.0, 1.0, 401)
        if self.dim == 1:
            return (centre + half * np.array([-1.0, 1.0]))[:, None]
        sides = [np.stack([np.full_like(s, sign), s], 1) for sign in (-1.0, 1.0)]
        sides += [np.stack([s, np.full_like(s, sign)], 1) for sign in (-1.0, 1.0)]
        return centre + half * np.concatenate(sides)

    def _scalar_integrand(self, shift):
        """x -> exp(a_c log ρ_c(x) + a_u log ρ_u(x) − shift) for a float x (d = 1), without per-call validation."""
        a_c, a_u = self.strength.conditional_coefficient, self.strength.unconditional_coefficient

        def log_mixture(dist):
            w, m, s = _parts(dist)
            var = s[:, 0, 0]
            return np.log(w) - 0.5 * np.log(2.0 * np.pi * var), m[:, 0], var

        (lc, mc, vc), (lu, mu, vu) = log_mixture(self.conditional), log_mixture(self.unconditional)

        def f(v):
            log_c = logsumexp(lc - 0.5 * (v - mc) ** 2 / vc)
            log_u = logsumexp(lu - 0.5 * (v - mu) ** 2 / vu)
            return math.exp(a_c * log_c + a_u * log_u - shift)

        return f

    def _compute_normaliser(self):
        if self.dim > 2:
            raise ValueError(f"the normaliser of a tilted mixture is computed in d = 1 or 2; this one has d = {self.dim}. "
                             f"Estimate it by importance sampling: Z = E_rho_u[(rho_c / rho_u)^g].")
        low, high = self._box()
        means = np.concatenate([_parts(self.conditional)[1], _parts(self.unconditional)[1]])
        if self.dim == 1:
            grid = np.linspace(low[0], high[0], 4001)[:, None]
            shift = float(self.log_unnormalised(np.concatenate([grid, means])).max())
            f = self._scalar_integrand(shift)
            breaks = sorted(set(float(m) for m in means[:, 0] if low[0] < m < high[0]))
            value, error = quad(f, low[0], high[0], points=breaks or None, limit=500, epsabs=0.0, epsrel=1e-12)
            return shift, value, error
        # d = 2: trapezoid on grids of step h and h/2
        p = [_precision(s) for s in _parts(self.conditional)[2]] + [_precision(s) for s in _parts(self.unconditional)[2]]
        a = max(abs(self.strength.conditional_coefficient), abs(self.strength.unconditional_coefficient))
        curvature = a * max(float(np.linalg.eigvalsh(m)[-1]) for m in p)
        step = 0.5 / math.sqrt(curvature)
        n = int(min(max(np.ceil((high - low).max() / step), 64), 1024))
        values = []
        shift = None
        for points in (n // 2 + 1, n + 1):
            axes = [np.linspace(low[i], high[i], points) for i in range(2)]
            mesh = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 2)
            logs = self.log_unnormalised(mesh)
            if shift is None:
                shift = float(max(logs.max(), self.log_unnormalised(means).max()))
            weights = [np.full(points, axis[1] - axis[0]) for axis in axes]
            for w in weights:
                w[[0, -1]] *= 0.5
            values.append(float(np.einsum("i,j,ij->", weights[0], weights[1],
                                          np.exp(logs - shift).reshape(points, points))))
        return shift, values[1], abs(values[1] - values[0])

    def _ensure(self):
        if self._normaliser is None:
            self._normaliser = self._compute_normaliser()
        return self._normaliser

    @property
    def log_normaliser(self) -> float:
        r""":math:`\log Z = \log\int\rho_c^{a_c}\rho_u^{a_u}\,dx` (computed once; d = 1 or 2)."""
        shift, value, _ = self._ensure()
        return shift + math.log(value)

    @property
    def normaliser(self) -> float:
        """Z."""
        return math.exp(self.log_normaliser)

    @property
    def log_normaliser_error(self) -> float:
        """Estimated absolute error of :attr:`log_normaliser` (quad's estimate, or the step-halving difference)."""
        _, value, error = self._ensure()
        return error / value

    def log_prob(self, x) -> np.ndarray:
        r""":math:`\log\rho_g(x) = a_c\log\rho_c + a_u\log\rho_u - \log Z`; returns (n,)."""
        return self.log_unnormalised(x) - self.log_normaliser

    def density(self, x) -> np.ndarray:
        r""":math:`\rho_g(x)`; returns (n,)."""
        return np.exp(self.log_prob(x))


def tilted_target(conditional, unconditional, *, scale=None, weight=None):
    r"""The tilted law :math:`\rho_g \propto \rho_c^{g}\rho_u^{1-g} = \rho_c^{1+w}\rho_u^{-w}`.

    Parameters
    ----------
    conditional, unconditional : Gaussian or GaussianMixture
        :math:`\rho(\cdot \mid c)` and :math:`\rho`, of one dimension d.
    scale, weight : float
        Exactly one: g (diffusers' ``guidance_scale``) or w (Ho & Salimans 2022, eq. (6)); g = 1 + w.

    Returns
    -------
    Gaussian
        When both are Gaussian: precision :math:`P = g P_c + (1 - g) P_u`, mean
        :math:`P^{-1}(g P_c m_c + (1 - g) P_u m_u)`.
    TiltedMixture
        Otherwise (unnormalised log density, numerical normaliser in d <= 2).

    Raises
    ------
    ValueError
        When the tilted density is not normalisable (P not positive definite, or divergent
        mixture tails); the message names g and w and, for Gaussians, the normalisable range.
    """
    strength = guidance_strength(scale=scale, weight=weight)
    for name, dist in (("conditional", conditional), ("unconditional", unconditional)):
        if not isinstance(dist, (Gaussian, GaussianMixture)):
            raise TypeError(f"{name} must be a Gaussian or GaussianMixture; received {type(dist).__name__}.")
    if conditional.dim != unconditional.dim:
        raise ValueError(f"conditional and unconditional must have one dimension d; received {conditional.dim} "
                         f"and {unconditional.dim}.")
    if isinstance(conditional, Gaussian) and isinstance(unconditional, Gaussian):
        return _tilted_gaussian(conditional, unconditional, strength)
    return TiltedMixture(conditional, unconditional, strength)


# --- Gaussian pairs: the exact law of the guided ODE's output ----------------------------------------

class TiltGap(NamedTuple):
    r"""Distances between the guided ODE's output law and the tilted target (both Gaussian, at t = 1).

    Attributes
    ----------
    kl : float
        KL(ode_law ‖ tilted).
    w2 : float
        The 2-Wasserstein distance between them.
    ode_law : Gaussian
        The law of the guided probability-flow ODE's output (:meth:`GuidedGaussianPair.guided_ode_law`).
    tilted : Gaussian
        The tilted target :math:`\propto N(m_c, S_c)^g N(m_u, S_u)^{1-g}`.
    """

    kl: float
    w2: float
    ode_law: Gaussian
    tilted: Gaussian


class GuidedGaussianPair(_LabelledCase):
    r"""Guidance between a Gaussian conditional law N(m_c, S_c) and a Gaussian unconditional law N(m_u, S_u).

    The conditional fields (label ``label``) are those of ``GaussianCase(interpolant, base,
    conditional)``, the unconditional ones those of ``GaussianCase(interpolant, base,
    unconditional)``; both are affine in x, :math:`b_k(x) = \dot\mu_k + A_k(x - \mu_k)` with
    :math:`A_k = K_k\Sigma_k^{-1}`, so the guided drift :math:`b_g = a_c b_c + a_u b_u` is affine,
    :math:`b_g(x) = A_g x + a_g`, and from :math:`x_0 \sim N(m_0, S_0)` the guided
    probability-flow ODE has Gaussian marginals :math:`N(\mu(t), \Phi(t) S_0 \Phi(t)^\top)` with

    .. math::

        \dot\mu = b_g(\mu, t), \qquad \dot\Phi = A_g(t)\,\Phi, \qquad \mu(0) = m_0, \; \Phi(0) = I,

    (equivalently :math:`\dot\Sigma = A_g\Sigma + \Sigma A_g^\top`), integrated by
    :meth:`guided_ode_law`. It differs from the tilted target
    :math:`\propto N(m_c, S_c)^g N(m_u, S_u)^{1-g}` unless g = 0 or 1 (:meth:`tilt_gap`).

    Parameters
    ----------
    interpolant : Interpolant
        Two-sided or one-sided (base N(0, I)); not mirror.
    base : Gaussian or None
        :math:`x_0`, the same for both (None: N(0, I) for one-sided interpolants).
    conditional, unconditional : Gaussian
    label : int or str
        The label that selects the conditional fields (default ``"c"``).
    """

    def __init__(self, interpolant: Interpolant, base, conditional: Gaussian, unconditional: Gaussian, *, label="c"):
        for name, dist in (("conditional", conditional), ("unconditional", unconditional)):
            if not isinstance(dist, Gaussian):
                raise TypeError(f"{name} must be a Gaussian; received {type(dist).__name__} (for mixtures use "
                                f"GuidanceCase with a LabelledGaussianMixture).")
        if isinstance(interpolant, Interpolant) and interpolant.kind == "mirror":
            raise ValueError("a mirror interpolant maps the target to itself, so its base would depend on the label; "
                             "use a two-sided or one-sided interpolant for guidance.")
        if base is not None and not isinstance(base, Gaussian):
            raise TypeError(f"base must be a Gaussian (or None for N(0, I) with a one-sided interpolant); received "
                            f"{type(base).__name__}. The exact output law needs a Gaussian base.")
        self.label = _label(label, "label")
        self.conditional_case = GaussianCase(interpolant, base, conditional)
        self.unconditional_case = GaussianCase(interpolant, self.conditional_case.base, unconditional)
        self.interpolant = interpolant
        self.base = self.conditional_case.base
        self.conditional, self.unconditional = conditional, unconditional
        self.dim = conditional.dim

    def case(self, c=None) -> GaussianCase:
        """The exact case given the label (:attr:`conditional_case`), or :attr:`unconditional_case` for c = None."""
        if c is None:
            return self.unconditional_case
        try:
            label = _label(c, "c")
        except TypeError:
            label = None
        if label != self.label:
            raise ValueError(f"c = {c!r} is not the label of this pair; the only label is {self.label!r}. Pass "
                             f"c={self.label!r} for the conditional field, or c=None for the unconditional one.")
        return self.conditional_case

    def tilted_target(self, *, scale=None, weight=None) -> Gaussian:
        r"""The tilted Gaussian :math:`\propto N(m_c, S_c)^g N(m_u, S_u)^{1-g}` (see :func:`tilted_target`)."""
        return tilted_target(self.conditional, self.unconditional, scale=scale, weight=weight)

    def _affine_drift(self, t: float, target: Gaussian):
        """(A, a) with b(x, t) = A x + a for the exact drift towards ``target`` (independent coupling)."""
        I = self.interpolant
        t_arr = np.array(float(t))         # t is validated by the callers; the closed forms take float64 arrays
        a, a_dot, b, b_dot = (float(f(t_arr)) for f in (I._alpha, I._alpha_dot, I._beta, I._beta_dot))
        g, gg_dot = float(I.gamma_schedule._gamma(t_arr)), float(I.gamma_schedule._gamma_gamma_dot(t_arr))
        s0, m0, s1, m1 = self.base.cov, self.base.mean, target.cov, target.mean
        eye = np.eye(self.dim)
        cov = a * a * s0 + b * b * s1 + g * g * eye                  # Σ = α²S0 + β²S1 + γ²I
        k = a * a_dot * s0 + b * b_dot * s1 + gg_dot * eye            # K = αα̇S0 + ββ̇S1 + γγ̇I
        matrix = np.linalg.solve(cov, k).T                            # A = KΣ⁻¹ = (Σ⁻¹K)ᵀ (Σ is SPD)
        mean, mean_dot = a * m0 + b * m1, a_dot * m0 + b_dot * m1
        return matrix, mean_dot - matrix @ mean

    def guided_drift_matrix(self, t, *, scale=None, weight=None):
        r"""``(A_g, a_g)`` with :math:`b_g(x, t) = A_g x + a_g`: shapes (d, d) and (d,)."""
        strength = guidance_strength(scale=scale, weight=weight)
        t = as_time_scalar(t, "t")
        (A_c, a_c), (A_u, a_u) = self._affine_drift(t, self.conditional), self._affine_drift(t, self.unconditional)
        return strength.combine(A_c, A_u), strength.combine(a_c, a_u)

    def guided_ode_law(self, *, scale=None, weight=None, t=1.0, rtol=1e-12, atol=1e-14) -> Gaussian:
        r"""The exact law N(μ(t), Φ S_0 Φᵀ) of the guided probability-flow ODE at time t from :math:`x_0 \sim` base.

        Integrates :math:`\dot\mu = A_g\mu + a_g`, :math:`\dot\Phi = A_g\Phi` from 0 to t with
        ``scipy.integrate.solve_ivp`` (DOP853, ``rtol``, ``atol``). At g = 1 (w = 0) it is the
        conditional marginal :math:`N(\mu_c(t), \Sigma_c(t))`, at g = 0 the unconditional one.

        Raises
        ------
        ValueError
            For bad t, tolerances or strength; RuntimeError if the solver fails.
        """
        strength = guidance_strength(scale=scale, weight=weight)
        rtol, atol = solver_tolerances(rtol, atol)
        t_end = as_time_scalar(t, "t")
        d = self.dim
        if t_end == 0.0:
            return Gaussian(self.base.mean, self.base.cov)

        def rhs(s, y):
            A_c, c_c = self._affine_drift(s, self.conditional)
            A_u, c_u = self._affine_drift(s, self.unconditional)
            A, offset = strength.combine(A_c, A_u), strength.combine(c_c, c_u)
            mean, phi = y[:d], y[d:].reshape(d, d)
            return np.concatenate([A @ mean + offset, (A @ phi).ravel()])

        y0 = np.concatenate([self.base.mean, np.eye(d).ravel()])
        solution = solve_ivp(rhs, (0.0, t_end), y0, method="DOP853", rtol=rtol, atol=atol)
        if not solution.success:
            raise RuntimeError(f"the guided moment ODE failed: {solution.message}")
        mean, phi = solution.y[:d, -1], solution.y[d:, -1].reshape(d, d)
        cov = phi @ self.base.cov @ phi.T
        return Gaussian(mean, 0.5 * (cov + cov.T))

    def tilt_gap(self, *, scale=None, weight=None, rtol=1e-12, atol=1e-14) -> TiltGap:
        r"""KL(ODE output || tilted target) and W2 between them at t = 1.

        Both laws are Gaussian; the distances are :func:`si_ref.sampler_law.gaussian_kl` and
        :func:`si_ref.sampler_law.gaussian_w2` (forms that stay accurate for nearby laws, so the
        gap at g = 0 and 1 is at rounding level, about 1e-14 in W2). ``rtol`` and ``atol`` are
        those of :meth:`guided_ode_law` (the time is always t = 1, where the tilted target lives).
        """
        ode = self.guided_ode_law(scale=scale, weight=weight, t=1.0, rtol=rtol, atol=atol)
        tilted = self.tilted_target(scale=scale, weight=weight)
        return TiltGap(gaussian_kl(ode, tilted), gaussian_w2(ode, tilted), ode, tilted)
