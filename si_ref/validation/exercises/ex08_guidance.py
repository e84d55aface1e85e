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

builds ``GuidedField`` with the exact noise and the exact velocity of a labelled Gaussian
mixture (``si_ref.guidance.GuidanceCase``: linear interpolant, Brownian γ, a two-component
mixture base, a three-component target with labels 0, 0 and "b") and compares the outputs
with si_ref's exact guided fields (``case.guided(weight=w)``) for w in {0, 2, 7.5, −0.5, −1}, at
random points, times (t = 0 and t = 1 included, scalar and per-row) and labels; a failure
names the mistake when it recognises it (w used as the scale g, conditional and
unconditional swapped, the sign of w, only one of the two fields).

A reference solution is in ``si_ref/validation/exercises/solutions/ex08_guidance.py``.
Do not look at it before you have tried.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass

import numpy as np

from si_ref.validation.exercises._common import module_or_self, print_reports

__all__ = ["WEIGHTS", "GuidedField", "scale_from_weight", "reference_case", "GuidanceReport", "check", "main"]

#: Guidance weights w of the check (Ho & Salimans' convention).
WEIGHTS = (2.0, 7.5, -0.5, 0.0, -1.0)
#: Entrywise tolerance: |received − expected| <= ATOL + RTOL |expected|.
RTOL, ATOL = 1e-10, 1e-12


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

def reference_case():
    """The labelled case of the check (two-sided, mixture base; labels 0, 0, "b")."""
    import si_ref
    from si_ref.guidance import GuidanceCase, LabelledGaussianMixture

    base = si_ref.GaussianMixture([0.5, 0.5], [[-1.0, 0.0], [1.0, 0.5]], [0.5 * np.eye(2), [[0.6, 0.1], [0.1, 0.4]]])
    target = LabelledGaussianMixture([0.25, 0.35, 0.4], [[-2.0, 0.0], [-1.0, 1.5], [2.0, 0.5]],
                                     [0.3 * np.eye(2), np.diag([0.2, 0.4]), [[0.4, 0.1], [0.1, 0.3]]], [0, 0, "b"])
    return GuidanceCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()), base, target)


@dataclass(frozen=True)
class GuidanceReport:
    """PASS or FAIL of one quantity, with the first failing input and the recognised mistake."""

    quantity: str
    passed: bool
    examples: int
    definition: str
    counterexample: str = ""
    diagnosis: str = ""

    def __str__(self) -> str:
        lines = [f"si_ref exercise 8: {self.quantity}: {'PASS' if self.passed else 'FAIL'}",
                 f"  definition: {self.definition}",
                 f"  {self.examples} inputs checked; passes where |received - expected| <= {ATOL!r} + {RTOL!r} "
                 f"|expected| entrywise"]
        if self.counterexample:
            lines += ["", "First failing input:"] + [f"  {line}" for line in self.counterexample.splitlines()]
        if self.diagnosis:
            lines += ["", f"Diagnosis: {self.diagnosis}"]
        elif self.counterexample and "received =" in self.counterexample and "raised" not in self.counterexample:
            lines += ["", "Diagnosis: none of the catalogued mistakes matches the received values."]
        return "\n".join(lines)


#: Mistakes: name -> (form, explanation, value from (f_c, f_u, w)). A mistake is named when it matches
#: the received value at every failing input.
_MISTAKES = {
    "w-used-as-scale": ("f_u + w (f_c - f_u) = w f_c + (1 - w) f_u",
                        "w was used as diffusers' guidance scale g; in Ho & Salimans' convention g = 1 + w, so "
                        "the conditional coefficient is 1 + w.",
                        lambda fc, fu, w: w * fc + (1 - w) * fu),
    "conditional-unconditional-swapped": ("(1 + w) f_u - w f_c",
                                          "the conditional and unconditional fields are swapped: field(x, t, c) is "
                                          "the conditional one and gets the coefficient 1 + w.",
                                          lambda fc, fu, w: (1 + w) * fu - w * fc),
    "sign-of-w": ("(1 - w) f_c + w f_u", "the sign of w is flipped: guidance moves away from f_u, "
                  "f_c + w (f_c - f_u).", lambda fc, fu, w: (1 - w) * fc + w * fu),
    "conditional-only": ("f_c", "only the conditional field is returned; w is ignored.", lambda fc, fu, w: fc),
    "unconditional-only": ("f_u", "only the unconditional field is returned.", lambda fc, fu, w: fu),
    "coefficients-do-not-sum-to-one": ("(1 + w) f_c - f_u",
                                       "the coefficient of f_u must be -w, so that the coefficients sum to 1: "
                                       "(1 + w) + (-w) = 1.",
                                       lambda fc, fu, w: (1 + w) * fc - fu),
}


def _line(name, value) -> str:
    """``name = value``: floats with the shortest decimal that reads back to the same float64, arrays aligned."""
    if value is None:
        return f"{name} = (nothing)"
    if np.ndim(value) == 0:
        return f"{name} = {float(value)!r}"
    text = np.array2string(np.asarray(value), floatmode="unique", separator=", ", max_line_width=100)
    return f"{name} = " + text.replace("\n", "\n" + " " * (len(name) + 3))


def _close(received, expected):
    return received.shape == expected.shape and bool(np.all(np.abs(received - expected) <= ATOL + RTOL * np.abs(expected)))


def _inputs(rng, labels, max_examples):
    """(x, t, c, w) examples: the endpoints, per-row times and n == d first, then random ones."""
    fixed = [(rng.normal(scale=1.5, size=(3, 2)), 0.0, labels[0], WEIGHTS[0]),
             (rng.normal(scale=1.5, size=(3, 2)), 1.0, labels[1], WEIGHTS[1]),
             (rng.normal(scale=1.5, size=(2, 2)), rng.uniform(0, 1, 2), labels[0], WEIGHTS[2]),
             (rng.normal(scale=1.5, size=(4, 2)), 0.5, labels[1], WEIGHTS[3]),
             (rng.normal(scale=1.5, size=(4, 2)), rng.uniform(0, 1, 4), labels[0], WEIGHTS[4])]
    out = fixed[:max_examples]
    while len(out) < max_examples:
        n = int(rng.integers(1, 6))
        t = float(rng.uniform()) if rng.uniform() < 0.5 else rng.uniform(0, 1, n)
        out.append((rng.normal(scale=1.5, size=(n, 2)), t, labels[int(rng.integers(len(labels)))],
                    float(WEIGHTS[int(rng.integers(len(WEIGHTS)))])))
    return out


def _check_guided_field(cls, case, field_name, max_examples) -> GuidanceReport:
    field = getattr(case, field_name)
    quantity = f"GuidedField({field_name})"
    definition = f"(1 + w) {field_name}(x, t, c) - w {field_name}(x, t)  (Ho & Salimans 2022, eq. (6))"
    rng = np.random.default_rng(8)
    failures = []
    examples = _inputs(rng, case.labels, max_examples)
    checked = 0
    for x, t, c, w in examples:
        checked += 1
        expected = getattr(case.guided(weight=w), field_name)(x, t, c)
        f_c, f_u = field(x, t, c), field(x, t)
        try:
            received = np.asarray(cls(field, w)(x.copy(), np.copy(t) if np.ndim(t) else t, c), dtype=np.float64)
        except Exception as exc:   # the student's code raised: report it as the failure
            message = traceback.format_exception_only(type(exc), exc)[-1].strip()
            failures.append((x, t, c, w, expected, None, f"raised {message}", None))
            break
        if not _close(received, expected):
            problem = "values differ" if received.shape == expected.shape else \
                f"shape {received.shape}, expected {expected.shape}"
            failures.append((x, t, c, w, expected, received, problem, (f_c, f_u)))
    if not failures:
        return GuidanceReport(quantity, True, checked, definition)
    x, t, c, w, expected, received, problem, _ = failures[0]
    text = [_line("x", x), _line("t", t), f"c = {c!r}", f"w = {w!r}", _line("expected", expected),
            _line("received", received), f"problem: {problem}"]
    diagnosis = ""
    comparable = [f for f in failures if f[5] is not None and f[5].shape == f[4].shape]
    if comparable and len(comparable) == len(failures):
        for name, (form, explanation, variant) in _MISTAKES.items():
            if all(_close(f[5], variant(*f[7], f[3])) for f in comparable):
                diagnosis = f"{name} ({form}): {explanation}"
                break
    return GuidanceReport(quantity, False, checked, definition, "\n".join(text), diagnosis)


def _check_scale(function) -> GuidanceReport:
    definition = "g with f_u + g (f_c - f_u) = (1 + w) f_c - w f_u for all f_c, f_u: g = 1 + w"
    for w in WEIGHTS:
        try:
            received = float(function(w))
        except Exception as exc:
            return GuidanceReport("scale_from_weight", False, len(WEIGHTS), definition,
                                  f"w = {w!r}\nexpected = {1 + w!r}\nreceived = (nothing)\n"
                                  f"problem: raised {type(exc).__name__}: {exc}")
        if not _close(np.array(received), np.array(1.0 + w)):
            guesses = ((w, "returned w itself: the two conventions differ by 1 (g = 1 + w)."),
                       (w - 1.0, "returned w - 1: that is w from g (w = g - 1), the inverse conversion."),
                       (-w, "returned -w: g is the coefficient of f_c, 1 + w."))
            # the first guess that matches (a list, not a dict: at w = 0 the values w and -w coincide)
            diagnosis = next((text for value, text in guesses if received == value), "")
            return GuidanceReport("scale_from_weight", False, len(WEIGHTS), definition,
                                  f"w = {w!r}\nexpected = {1 + w!r}\nreceived = {received!r}\nproblem: values differ",
                                  diagnosis)
    return GuidanceReport("scale_from_weight", True, len(WEIGHTS), definition)


def check(module=None, *, max_examples: int = 100) -> list:
    """Check ``module.GuidedField`` (on the exact noise and velocity) and ``module.scale_from_weight``.

    Returns three :class:`GuidanceReport` objects (``quantity``, ``passed``, ``str(report)``).
    """
    module = module_or_self(module, __name__)
    case = reference_case()
    return [_check_guided_field(module.GuidedField, case, "noise", max_examples),
            _check_guided_field(module.GuidedField, case, "velocity", max_examples),
            _check_scale(module.scale_from_weight)]


def main(module=None) -> int:
    """Print the reports; exit status 0 when all pass."""
    return print_reports(check(module))


if __name__ == "__main__":
    raise SystemExit(main())
