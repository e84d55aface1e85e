r"""Exercise 8: classifier-free guidance in the (1 + w) convention.

A network trained with label dropout predicts a field both with the label c and without it
(the "null" label): the conditional :math:`f(x, t \mid c)` and the unconditional
:math:`f(x, t)`. Classifier-free guidance (Ho & Salimans 2022, arXiv:2207.12598, eq. (6))
samples with

.. math::

    f_w(x, t, c) = (1 + w)\, f(x, t \mid c) - w\, f(x, t),

w = 0 being the conditional field and w > 0 stronger guidance. Libraries such as diffusers
write the same thing with a *guidance scale* g, :math:`f_u + g (f_c - f_u)`, so g = 1 + w:
the diffusers default ``guidance_scale = 7.5`` is w = 6.5. Mixing the two conventions (using
w where g is meant) and swapping the conditional and unconditional outputs are the classic
mistakes; the check names them when it sees them.

The field can be any of si_ref's (score s = ∇ log ρ_t, noise η = E[z | x_t = x], velocity
v, drift b): the combination has coefficients that sum to 1, so η_w = −γ s_w and
b_w = v_w − γγ̇ s_w still hold for the guided fields.

Task
----
* ``GuidedField(field, w)``: a class whose instances are fields ``guided(x, t, c)`` returning
  :math:`(1 + w) f(x, t \mid c) - w f(x, t)`. ``field`` is called as ``field(x, t, c)`` for the
  conditional value and as ``field(x, t)`` for the unconditional one; x has shape (n, d),
  t is a float or an ndarray of shape (n,), c a label (an int or a string); return float64
  of shape (n, d).
* ``scale_from_weight(w)``: the diffusers guidance scale g that gives the same field as w.

Hints
-----
* Call the wrapped field twice: once with c, once without.
* Check your formula at w = 0 (must give the conditional field) and w = −1 (unconditional).

Check
-----
::

    si-ref exercises check ex08_guidance.py     # in the folder made by si-ref exercises init

builds ``GuidedField`` with the exact noise (w = 2) and the exact velocity (w = 6.5, diffusers'
default ``guidance_scale = 7.5``) of the named labelled case ``guidance-2d-linear-brownian``
(``si_ref.references``: linear interpolant, Brownian γ, base N(0, I), a three-component target
with labels 0, 0 and 1) and checks it with the conformance checker against si_ref's exact guided
fields (quantities ``guided_noise`` and ``guided_velocity``, reference ``case.guided(weight=w)``),
at the endpoints, far points and drawn points, times and labels; a failure names the mistake when
it recognises it (``guidance-off-by-one``: w used as the scale g; ``guidance-swapped``;
``guidance-missing``: the conditional field alone; ``condition-dropped``). ``scale_from_weight``
is checked at a few w.

A reference solution is in ``si_ref/validation/exercises/solutions/ex08_guidance.py``.
Do not look at it before you have tried.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np  # noqa: F401  (for your solution)

from si_ref import conformance, references
from si_ref.validation.exercises._common import module_or_self, print_reports

__all__ = ["CASE", "CHECKS", "WEIGHTS", "GuidedField", "scale_from_weight", "ScaleReport", "check", "main"]

#: The named labelled case of ``si_ref.references`` that supplies the exact fields.
CASE = "guidance-2d-linear-brownian"
#: (field, w) of the checks of ``GuidedField``: away from w = 1 (g = 2) and w = −½ (g = ½), where the
#: usual mistakes give the same values as each other or as the right answer.
CHECKS = (("noise", 2.0), ("velocity", 6.5))
#: The weights at which ``scale_from_weight`` is checked.
WEIGHTS = (2.0, 6.5, -0.5, 0.0, -1.0)


# --- your code -------------------------------------------------------------------------------

class GuidedField:
    """f_w(x, t, c) = (1 + w) f(x, t, c) − w f(x, t), from one field with and without the label."""

    def __init__(self, field, w):
        self.field = field
        self.w = w

    def __call__(self, x, t, c):
        raise NotImplementedError("exercise 8: return (1 + w) field(x, t, c) - w field(x, t)")


def scale_from_weight(w):
    """The guidance scale g of f_u + g (f_c − f_u) equal to the weight w of (1 + w) f_c − w f_u."""
    raise NotImplementedError("exercise 8: compare f_u + g (f_c - f_u) with (1 + w) f_c - w f_u")


# --- the check -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ScaleReport:
    """PASS or FAIL of ``scale_from_weight``, with the first wrong value and what it looks like."""

    passed: bool
    text: str
    quantity: str = "scale_from_weight"

    def __str__(self) -> str:
        return self.text


def _check_scale(function) -> ScaleReport:
    head = ("si_ref exercise 8: scale_from_weight: {}\n  definition: g with f_u + g (f_c - f_u) = (1 + w) f_c - w f_u "
            "for all f_c, f_u: g = 1 + w")
    for w in WEIGHTS:
        try:
            received = float(function(w))
        except Exception as exc:   # the student's code raised: that is the failure
            return ScaleReport(False, head.format("FAIL") + f"\n\n  w = {w!r}\n  expected = {1 + w!r}\n  raised "
                                                             f"{type(exc).__name__}: {exc}")
        if abs(received - (1.0 + w)) > 1e-12 * max(1.0, abs(1.0 + w)):
            guesses = ((w, "returned w itself: the two conventions differ by 1 (g = 1 + w)."),
                       (w - 1.0, "returned w - 1: that is w from g (w = g - 1), the inverse conversion."),
                       (-w, "returned -w: g is the coefficient of f_c, 1 + w."))
            # the first guess that matches (in order: at w = 0 the values w and -w coincide)
            diagnosis = next((text for value, text in guesses if received == value), "")
            return ScaleReport(False, head.format("FAIL") + f"\n\n  w = {w!r}\n  expected = {1 + w!r}\n  received = "
                                                             f"{received!r}" + (f"\n\nDiagnosis: {diagnosis}" if diagnosis else ""))
    return ScaleReport(True, head.format("PASS") + f"\n  {len(WEIGHTS)} weights checked: {list(WEIGHTS)}")


def check(module=None, *, max_examples: int = 100) -> list:
    """Check ``module.GuidedField`` (default: this module's) on the exact noise and velocity, and
    ``module.scale_from_weight``.

    Returns two ``si_ref.conformance.Report`` objects and a :class:`ScaleReport` (each has ``passed``
    and prints as a readable report).
    """
    module = module_or_self(module, __name__)
    case = references.guidance_case(CASE)
    reports = [conformance.check(module.GuidedField(getattr(case, field), w), f"guided_{field}",
                                 case.guided(weight=w), max_examples=max_examples)
               for field, w in CHECKS]
    return reports + [_check_scale(module.scale_from_weight)]


def main(module=None) -> int:
    """Print the reports; exit status 0 when all pass."""
    return print_reports(check(module))


if __name__ == "__main__":
    raise SystemExit(main())
