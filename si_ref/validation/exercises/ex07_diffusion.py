r"""Exercise 7: diffusion predictions (ε → v → x0) and one DDIM step.

Diffusion code writes the noisy point as :math:`x = a\, x_{\mathrm{data}} + \sigma\varepsilon`
(:math:`\varepsilon \sim N(0, I)`; for DDPM tables :math:`a = \sqrt{\bar\alpha}`,
:math:`\sigma = \sqrt{1 - \bar\alpha}`). A network predicts one of

* ε̂ = E[ε | x] (ε-prediction),
* x̂ = E[x_data | x] (x0- or "sample" prediction),
* v̂ = a ε̂ − σ x̂ (v-prediction, Salimans & Ho 2022, arXiv:2202.00512, Sec. 4),

and they are tied by :math:`x = a\hat x + \sigma\hat\varepsilon`. Published code writes
``x0 = a x − σ v``, which holds only when :math:`a^2 + \sigma^2 = 1`; in general

.. math::

    \hat v = \frac{(a^2 + \sigma^2)\hat\varepsilon - \sigma x}{a}, \qquad
    \hat x = \frac{a x - \sigma \hat v}{a^2 + \sigma^2}.

One DDIM step (Song, Meng & Ermon 2021, arXiv:2010.02502, eq. (12) with σ_η = 0) from
:math:`\bar\alpha` to the less noisy :math:`\bar\alpha_{\mathrm{prev}}`:

.. math::

    \hat x = \frac{x - \sqrt{1 - \bar\alpha}\,\hat\varepsilon}{\sqrt{\bar\alpha}}, \qquad
    x_{\mathrm{prev}} = \sqrt{\bar\alpha_{\mathrm{prev}}}\,\hat x + \sqrt{1 - \bar\alpha_{\mathrm{prev}}}\,\hat\varepsilon .

Task
----
Write three functions; arrays ``x``, ``prediction``, ``eps`` have shape (n, d); the levels
``a``, ``sigma``, ``alpha_bar``, ``alpha_bar_prev`` are floats or arrays of shape (n,)
(row i at its own level); return float64 arrays of shape (n, d):

* ``v_from_epsilon(prediction, x, a, sigma)``: v̂ from ε̂ (a > 0);
* ``sample_from_v(prediction, x, a, sigma)``: x̂ from v̂ (any level with a + σ > 0);
* ``ddim_step(eps, x, alpha_bar, alpha_bar_prev)``: x_prev of one deterministic DDIM step.

Hints
-----
* A level of shape (n,) multiplies rows: ``np.reshape(a, (-1, 1)) * x`` works for scalars too.
* The check uses levels that are *not* variance preserving (a² + σ² ≠ 1, e.g. VE with
  a = 1, σ = 80): ``x0 = a x − σ v`` fails there.

Check
-----
::

    si-ref exercises check ex07_diffusion.py     # in the folder made by si-ref exercises init

compares your functions with si_ref's exact values (conformance quantities
``convert_epsilon_to_v``, ``convert_v_to_sample`` and ``ddim_step``) on the named diffusion
case ``diffusion-2d-vp-linear`` (``si_ref.references.DIFFUSION_CASES``: a two-component
Gaussian mixture on the VP path with linear β), with the exact ε̂ and v̂ of the case as
inputs; a failure names the mistake when it recognises it (the VP-only formula, ᾱ used
where √ᾱ is meant, a sign, the ε term of DDIM missing, ...).

A reference solution is in ``si_ref/validation/exercises/solutions/ex07_diffusion.py``.
Do not look at it before you have tried.
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (for your solution)

from si_ref import conformance, references
from si_ref.validation.exercises._common import module_or_self, print_reports

__all__ = ["CASE", "QUANTITIES", "v_from_epsilon", "sample_from_v", "ddim_step", "check", "main"]

#: The named diffusion case of ``si_ref.references`` that supplies the exact model outputs.
CASE = "diffusion-2d-vp-linear"
#: Your function -> the conformance quantity it is checked as.
QUANTITIES = {"v_from_epsilon": "convert_epsilon_to_v", "sample_from_v": "convert_v_to_sample",
              "ddim_step": "ddim_step"}


# --- your code -------------------------------------------------------------------------------

def v_from_epsilon(prediction, x, a, sigma):
    """v̂ = a ε̂ − σ x̂ from the ε-prediction at the level (a, σ)."""
    raise NotImplementedError("exercise 7: eliminate x̂ = (x − σ ε̂)/a from v̂ = a ε̂ − σ x̂")


def sample_from_v(prediction, x, a, sigma):
    """x̂ = E[x_data | x] from the v-prediction at the level (a, σ)."""
    raise NotImplementedError("exercise 7: solve x = a x̂ + σ ε̂, v̂ = a ε̂ − σ x̂ for x̂")


def ddim_step(eps, x, alpha_bar, alpha_bar_prev):
    """One deterministic DDIM step (η = 0) from ᾱ to ᾱ_prev."""
    raise NotImplementedError("exercise 7: x_prev = √ᾱ_prev x̂ + √(1 − ᾱ_prev) ε̂, x̂ from x and ε̂")


# --- the check -------------------------------------------------------------------------------

def check(module=None, *, max_examples: int = 100) -> list:
    """Check the three functions of ``module`` (default: this module's); returns the three reports."""
    module = module_or_self(module, __name__)
    reference = references.diffusion_case(CASE)
    return [conformance.check(getattr(module, name), quantity, reference, max_examples=max_examples)
            for name, quantity in QUANTITIES.items()]


def main(module=None) -> int:
    """Print the reports; exit status 0 when all pass."""
    return print_reports(check(module))


if __name__ == "__main__":
    raise SystemExit(main())
