r"""Quantities of classifier-free guidance: the guided fields of a labelled case, called ``f(x, t, c)``.

The reference is a :class:`si_ref.GuidedFields` object, ``case.guided(scale=g)`` or
``case.guided(weight=w)`` of a :class:`si_ref.GuidanceCase`: it fixes the labelled case and the
guidance strength. The exact value at (x, t) given the label c is

.. math:: f_g(x, t, c) = f(x, t) + g\,\big(f(x, t \mid c) - f(x, t)\big) = (1 + w) f(x, t \mid c) - w f(x, t),

g = 1 + w (the scale convention of diffusers' ``guidance_scale``; the weight convention of Ho &
Salimans 2022, arXiv:2207.12598, eq. (6)). The mistakes are the usual ones of code that combines a
conditional and an unconditional network output: the strength off by one (w used as g or g as w),
the two outputs exchanged, no guidance at all (the conditional output), or the label not passed on
(the unconditional output).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from hypothesis import strategies as st

from .. import references as named
from .. import strategies as sis
from ..guidance import GuidedFields
from .draw import FAR, bulk_points, draw_n, draw_times, fixed_times, mode_and_far_points
from .example import Example
from .quantity import FieldQuantity
from .variants import mistake, sign_flip

__all__ = ["GuidedFieldQuantity", "guidance_quantities", "blind_spots", "GUIDED_QUANTITY_FIELDS", "FIXED_STRENGTHS",
           "MISTAKE_SCALES"]

#: Quantity name -> the field of the labelled case that is guided.
GUIDED_QUANTITY_FIELDS = {
    "guided_score": "score",
    "guided_noise": "noise",
    "guided_denoise_x0": "denoise_x0",
    "guided_denoise_x1": "denoise_x1",
    "guided_velocity": "velocity",
    "guided_drift": "drift",
}

#: Strengths of the fixed references: one in each convention, away from the values where the
#: mistakes coincide (g = 2: g − 1 = 1; g = ½: 1 − g = g).
FIXED_STRENGTHS = ({"scale": 3.0}, {"weight": 4.5})


def _exact(name: str):
    def value(ex: Example) -> np.ndarray:
        return getattr(ex.labelled, name)(ex.x, ex.t, ex.c)
    return value


#: The guidance mistakes as the scale they use in place of g: (name, form, g ↦ the scale used).
MISTAKE_SCALES = (
    ("guidance-off-by-one", "(1 + g) f_c − g f_u: the scale g used as Ho & Salimans' w", lambda g: g + 1.0),
    ("guidance-off-by-one", "(g − 1) f_c + (2 − g) f_u: Ho & Salimans' w = g − 1 used as the scale",
     lambda g: g - 1.0),
    ("guidance-swapped", "g f_u + (1 − g) f_c: conditional and unconditional exchanged", lambda g: 1.0 - g),
    ("guidance-missing", "the conditional field f_c, unguided", lambda g: 1.0),
    ("condition-dropped", "the unconditional field f_u (the label not passed on)", lambda g: 0.0),
)


def _mistakes(name: str) -> tuple:
    forms: dict = {}
    for mistake_name, form, g_of in MISTAKE_SCALES:
        forms.setdefault(mistake_name, []).append((form, _at_scale(name, g_of)))
    return (sign_flip(_exact(name)),) + tuple(mistake(mistake_name, *variants) for mistake_name, variants in forms.items())


def blind_spots(g: float) -> str | None:
    """A note for a check at the scale g where a guidance mistake gives the right value, or two give the same.

    Every form is f_u + g' (f_c − f_u) with its own g' (:data:`MISTAKE_SCALES`): it is the right value
    where g' = g, and two forms are one where their g' agree (g = ½: swapped; g = 2: w = g − 1 used as the
    scale is no guidance at all)."""
    scales = [(mistake_name, g_of(g)) for mistake_name, _, g_of in MISTAKE_SCALES]
    unseen = sorted({m for m, scale in scales if math.isclose(scale, g, abs_tol=1e-9)})
    alike = sorted({f"{a} = {b}" for i, (a, sa) in enumerate(scales) for b, sb in scales[i + 1:]
                    if a != b and math.isclose(sa, sb, abs_tol=1e-9)})
    if not unseen and not alike:
        return None
    parts = ([f"{', '.join(unseen)} gives the right value here, so this check cannot see it"] if unseen else []) + \
        ([f"{', '.join(alike)} (the forms coincide, the diagnosis cannot tell them apart)"] if alike else [])
    return f"at g = {g:g}: " + "; ".join(parts) + ". Check at another strength too (e.g. g = 3)."


def _at_scale(name: str, g_of):
    """``value(example)``: the field ``name`` guided with the scale ``g_of(g)`` instead of the reference's g."""
    def value(ex: Example) -> np.ndarray:
        guided = ex.labelled
        g = g_of(guided.strength.scale)
        field = getattr(guided.case, name)
        return g * field(ex.x, ex.t, ex.c) + (1.0 - g) * field(ex.x, ex.t)
    return value


@dataclass(frozen=True)
class GuidedFieldQuantity(FieldQuantity):
    r"""A guided field :math:`f_g(x, t, c)` of a :class:`si_ref.GuidedFields` reference, called ``f(x, t, c)``.

    Inputs: a label c of the case (drawn, or fixed by ``check(..., c=label)``), times, and points in
    the bulk of the conditional :math:`\rho_t(\cdot \mid c)` (drawn) or at its modes and far from
    them (fixed inputs).
    """

    level: ClassVar[str] = "guidance"
    reference_type: ClassVar[type] = GuidedFields
    field_name: str = "drift"
    label: Any = None

    def own_implementation(self, eps=None):
        return lambda reference: getattr(reference, self.field_name)

    def reference_strategy(self):
        return sis.guided_fields(st.integers(1, 3)).filter(self.accepts)

    def fixed_references(self) -> list:
        names = sorted(named.GUIDANCE_CASES)
        out = [named.GUIDANCE_CASES[name].guided(**strength) for name in names for strength in FIXED_STRENGTHS]
        return [r for r in out if self.accepts(r)]

    def _labels(self, reference) -> tuple:
        return (reference.case.target.check_label(self.label),) if self.label is not None else reference.case.labels

    def draw(self, data, reference, eps, span):
        c = data.draw(st.sampled_from(self._labels(reference)), label="c")
        case = reference.case.case(c)
        n = draw_n(data, case.dim)
        t = draw_times(data, span.within(self.domain(reference), self.name), n)
        return Example(case, t, x=bulk_points(data, case, t, n), eps=eps, c=c, labelled=reference)

    def fixed_examples(self, reference, eps, span):
        out = []
        for c in self._labels(reference):
            case = reference.case.case(c)
            out += [Example(case, t, x=mode_and_far_points(case, t), eps=eps, c=c, labelled=reference)
                    for t in fixed_times(span.within(self.domain(reference), self.name))]
        return out

    def fixed_description(self, span) -> str:
        times = ", ".join(repr(t) for t in fixed_times(span))
        return (f"t in {{{times}}} (where defined); at each, for every label c, every mode of ρ_t(· | c) and "
                f"points far from them (|x| up to {FAR:g})")


def _domain(base_quantity):
    return lambda reference: base_quantity.domain(reference.case.unconditional)


def _accepts(base_quantity):
    return lambda reference: base_quantity.accepts(reference.case.unconditional)


def guidance_quantities(field_quantities: dict) -> list:
    """The guided-field quantities, with the domains of the unguided ``field_quantities`` (name -> quantity)."""
    out = []
    for name, field in GUIDED_QUANTITY_FIELDS.items():
        base = field_quantities[field]
        out.append(GuidedFieldQuantity(
            name,
            f"f_g(x, t, c) = f(x, t) + g (f(x, t | c) − f(x, t)) = (1 + w) f(x, t | c) − w f(x, t) for f = {field} "
            f"({base.plain}); g = 1 + w",
            _exact(field), _mistakes(field), domain=_domain(base), accepts=_accepts(base), field_name=field,
            plain=f"classifier-free guided {field}: f_u + g (f_c − f_u), g = 1 + w"))
    return out
