"""The table of checkable quantities, by name, and their descriptions for reports."""

from __future__ import annotations

import numpy as np

from ..diffusion.case import DiffusionCase
from ..distributions import Gaussian
from ..gaussian import GaussianCase
from ..guidance import GuidanceCase, GuidedFields, GuidedGaussianPair
from ..references import unknown_name_error
from .conversions import wrapper_quantities
from .couplings import coupling_quantities
from .diffusion_conversions import diffusion_conversion_quantities, diffusion_target_quantities
from .diffusion_fields import diffusion_field_quantities
from .diffusion_steps import diffusion_step_quantities
from .fields import field_quantities
from .guidance import guidance_quantities
from .likelihood import likelihood_quantities
from .losses import loss_quantities
from .paths import interpolant_quantities, schedule_quantities
from .quantity import Quantity
from .steps import step_quantities
from .targets import target_quantities

__all__ = ["QUANTITIES", "LEVELS", "quantity", "plain_summary", "describe"]

#: Every checkable quantity by name, in the order of ``si-ref check --list``.
QUANTITIES: dict = {q.name: q for q in (
    *schedule_quantities(),
    *interpolant_quantities(),
    *target_quantities(),
    *field_quantities(),
    *wrapper_quantities(),
    *guidance_quantities({q.name: q for q in field_quantities()}),
    *coupling_quantities(),
    *step_quantities(),
    *likelihood_quantities(),
    *loss_quantities(),
    *diffusion_field_quantities(),
    *diffusion_conversion_quantities(),
    *diffusion_target_quantities(),
    *diffusion_step_quantities(),
)}

#: What the quantities are, in table order.
LEVELS = tuple(dict.fromkeys(q.level for q in QUANTITIES.values()))


def quantity(name: str) -> Quantity:
    """The :class:`~si_ref.checking.quantity.Quantity` called ``name``.

    Raises
    ------
    TypeError
        If ``name`` is not a string.
    ValueError
        For an unknown name: the message suggests the closest names and lists all of them.

    Examples
    --------
    >>> quantity("drift").plain
    'b = E[α̇ x0 + β̇ x1 + γ̇ z | x_t = x] = v − γγ̇ s'
    """
    if not isinstance(name, str):
        raise TypeError(f"quantity must be a name (str) such as 'drift'; received {name!r} of type {type(name).__name__}.")
    if name not in QUANTITIES:
        raise unknown_name_error("quantity", name, QUANTITIES)
    return QUANTITIES[name]


def plain_summary(q) -> str:
    """The one-line plain-text summary of a quantity (a :class:`Quantity` or its name).

    Unicode formulas, no markup, at most ``PLAIN_WIDTH`` characters: what
    ``si-ref check --list`` prints after each name.
    """
    return (q if isinstance(q, Quantity) else quantity(q)).plain


def _array(a) -> str:
    return np.array2string(np.asarray(a), precision=6, separator=", ", max_line_width=10**6).replace("\n", "")


def _describe_distribution(dist) -> str:
    if isinstance(dist, Gaussian):
        return f"Gaussian(mean={_array(dist.mean)}, cov={_array(dist.cov)})"
    return (f"GaussianMixture(weights={_array(dist.weights)}, means={_array(dist.means)}, "
            f"covs={_array(dist.covs)})")


def describe(reference) -> str:
    """A readable, reproducible description of a schedule, interpolant, Gaussian, diffusion or guidance case."""
    if isinstance(reference, DiffusionCase):
        return f"DiffusionCase(data={_describe_distribution(reference.data)}, path={reference.path!r})"
    if isinstance(reference, GuidedFields):
        strength = reference.strength
        return f"{describe(reference.case)}.guided({strength.convention}={strength.value!r})"
    if isinstance(reference, GuidanceCase):
        target = reference.target
        return (f"GuidanceCase({reference.interpolant!r}, base={_describe_distribution(reference.base)}, "
                f"target=LabelledGaussianMixture(weights={_array(target.weights)}, means={_array(target.means)}, "
                f"covs={_array(target.covs)}, labels={list(target.labels)!r}))")
    if isinstance(reference, GuidedGaussianPair):
        return (f"GuidedGaussianPair({reference.interpolant!r}, base={_describe_distribution(reference.base)}, "
                f"conditional={_describe_distribution(reference.conditional)}, "
                f"unconditional={_describe_distribution(reference.unconditional)}, label={reference.label!r})")
    if isinstance(reference, GaussianCase):
        text = (f"GaussianCase({reference.interpolant!r}, base={_describe_distribution(reference.base)}, "
                f"target={_describe_distribution(reference.target)}")
        if reference.cross_cov is not None:
            text += f", cross_cov={_array(reference.cross_cov)}"
        return text + ")"
    return repr(reference)
