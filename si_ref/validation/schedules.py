r"""Schedules: every family's :math:`\alpha, \beta, \gamma` and their derivatives, drawn and checked.

Conventions as in the README (Conventions): :math:`x_t = \alpha(t) x_0 + \beta(t) x_1 + \gamma(t) z`
on t in [0, 1], t = 0 the base and t = 1 the target (arXiv:2303.08797v3, Def. 2.1 and
Sec. 4.1). Every coefficient of :mod:`si_ref.interpolants` and every gamma schedule of
:mod:`si_ref.schedules` comes with a closed-form derivative; this study checks those
closed forms against an independent oracle and draws them.

1. **Derivatives.** For every family, combined with every gamma schedule it accepts
   (the variance-preserving trig needs :math:`\max\gamma < 1`, the encoder-decoder and the
   mirror need :math:`\gamma \not\equiv 0`, the one-sided families have :math:`\gamma \equiv 0`),
   :math:`\dot\alpha, \dot\beta` are compared with the eighth-order central
   difference (float64, step h = 1e-3)

   .. math::

       f'(t) \approx \frac1h \sum_{k=1}^{4} c_k \bigl(f(t + kh) - f(t - kh)\bigr), \qquad
       c = \bigl(\tfrac45, -\tfrac15, \tfrac4{105}, -\tfrac1{280}\bigr),

   whose truncation error is :math:`\tfrac{h^8}{630} |f^{(9)}|` and rounding error about
   :math:`10^{-16} |f| / h`. Times: a uniform grid of ``n_grid`` points on [0.02, 0.98] plus
   256 uniform random times (from ``seed``); inside, so that the stencil never reaches the
   endpoints, where :math:`\dot\gamma = \pm\infty` for the Brownian schedules. The error of a
   derivative d is :math:`|d - d_{\mathrm{fd}}| / (1 + |d_{\mathrm{fd}}|)` (relative where
   :math:`|d| \gtrsim 1`, absolute where d passes through zero); the study reports its
   maximum per family (over :math:`\dot\alpha, \dot\beta` and the accepted schedules).
   :math:`\dot\gamma` is checked the same way once per gamma schedule. The worst case is
   the Brownian :math:`\dot\gamma` at t = 0.02, whose ninth derivative is about
   :math:`10^{18}`: an error of about 5e-10. The encoder-decoder pieces join at t = 1/2 with value and slope 0 but
   different curvature, so stencils that straddle t = 1/2 (:math:`|t - \tfrac12| \le 4h`)
   are left out for that family.
2. **γγ̇.** The closed form ``gamma_gamma_dot`` against the product
   ``gamma(t) * gamma_dot(t)`` at times strictly inside (0, 1), down to 1e-12 from each
   end (same error measure; a few ulps expected).
3. **Boundary values** at t = 0 and t = 1 exactly: :math:`\alpha(0) = \beta(1) = 1`,
   :math:`\alpha(1) = \beta(0) = 0` (mirror: :math:`\alpha \equiv 0`, :math:`\beta \equiv 1`),
   :math:`\gamma(0) = \gamma(1) = 0`; the maximum deviation must be exactly 0. At the same
   points :math:`\dot\alpha, \dot\beta, \gamma\dot\gamma` must be finite and
   :math:`\dot\gamma` finite, except for the Brownian schedules, where it must be exactly
   :math:`+\infty` at 0 and :math:`-\infty` at 1 (the library's documented values).
4. **Variance preservation** of the VP trig family:
   :math:`\max_t |\alpha^2 + \beta^2 + \gamma^2 - 1|` on [0, 1] for every schedule it accepts.

Figures: ``families.png`` (one panel per family, coefficients solid and derivatives
dashed, plus :math:`\alpha^2 + \beta^2 + \gamma^2`), ``gamma_schedules.png``
(:math:`\gamma`, :math:`\dot\gamma` with a display-only axis clip, :math:`\gamma\dot\gamma`)
and ``derivative_errors.png`` (the finite-difference errors against t).

Run from the repository root::

    python -m si_ref.validation.schedules --out DIR [--quick] [--seed S]

or call :func:`run`, which returns the measured numbers (and the written figures)
without printing; :func:`checks` compares them with :data:`TOLERANCES`;
:func:`format_report` renders both as a table.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
from matplotlib.figure import Figure

import si_ref
from si_ref.interpolants import VP_MAX_GAMMA
from si_ref.validation._common import Check, check_table, evaluate, report_footer, run_alone, save_figure

__all__ = [
    "TITLE", "SUMMARY", "QUICK", "TOLERANCES", "DESCRIPTIONS", "SCHEDULES", "FAMILIES", "Check",
    "Case", "build_cases", "central_derivative", "derivative_error",
    "run", "checks", "format_report", "main",
]

TITLE = "Schedules"
SUMMARY = (
    "The closed-form derivatives of alpha and beta of every interpolant family (with every gamma schedule it "
    "accepts) and of gamma of every gamma schedule agree with 8th-order central differences (float64, "
    "h = 1e-3, t in [0.02, 0.98]) to 1e-10 for alpha, beta (measured ~2e-13) and 1e-8 for gamma (measured "
    "~5e-10 at worst, Brownian gamma near the ends); the closed "
    "form gamma*gamma_dot equals the product inside (0, 1) to a few ulps; the boundary values at t = 0 and 1 "
    "are exact; the endpoint derivatives are finite, or exactly +-inf for the Brownian gamma_dot, as "
    "documented; the VP trig family keeps alpha^2 + beta^2 + gamma^2 = 1 to rounding."
)

#: Step of the central differences: truncation h^8/630 |f^(9)| and rounding ~1e-16 |f| / h balance near 1e-3.
FD_STEP = 1e-3
#: c_k of f'(t) ≈ Σ_k c_k (f(t + kh) − f(t − kh)) / h, k = 1..4: the eighth-order central difference.
FD_COEFFICIENTS = (4.0 / 5.0, -1.0 / 5.0, 4.0 / 105.0, -1.0 / 280.0)
#: Interval of the derivative checks: inside, so the stencil (reach 4h) stays away from the endpoints.
FD_T_MIN, FD_T_MAX = 0.02, 0.98
#: Random times added to each grid (they come from the seed).
N_RANDOM = 256
#: Times next to the endpoints at which γγ̇ is compared with γ·γ̇ (where γ → 0 and |γ̇| may → ∞).
NEAR_ENDPOINT_TIMES = (1e-12, 1e-9, 1e-6, 1e-3, 1.0 - 1e-3, 1.0 - 1e-6, 1.0 - 1e-9, 1.0 - 1e-12)
#: Points of the plotting grid on [0, 1] (fixed: the figures do not depend on n_grid).
N_PLOT = 801
#: Display-only clip of the y axis where derivatives are drawn (Brownian γ̇ is ±inf at 0 and 1).
DISPLAY_CLIP = 4.0
#: Errors below this (exact zeros included) are drawn at this value on the log axis of the error figure.
ERROR_FLOOR = 1e-18

#: Gamma schedules: key -> (label, schedule).
SCHEDULES = {
    "zero": ("ZeroGamma", si_ref.ZeroGamma()),
    "brownian": ("BrownianGamma", si_ref.BrownianGamma()),
    "scaled_brownian": ("ScaledBrownianGamma(2)", si_ref.ScaledBrownianGamma(2.0)),
    "b_squared": ("BSquaredGamma", si_ref.BSquaredGamma()),
    "sine_squared": ("SineSquaredGamma", si_ref.SineSquaredGamma()),
    "sigmoid": ("SigmoidGamma(10)", si_ref.SigmoidGamma(10.0)),
}
#: The schedules whose γ̇ is infinite at t = 0 and 1 (γ = √(a t(1 − t))).
INFINITE_SLOPE_SCHEDULES = ("brownian", "scaled_brownian")

#: Interpolant families: key -> (label, class, schedules it is checked with, schedule of its figure panel).
#: The schedule lists follow the documented requirements of each class: VP trig needs max γ <= VP_MAX_GAMMA
#: (not sine-squared, whose maximum is 1); encoder-decoder and mirror need γ ≢ 0; one-sided means γ ≡ 0.
FAMILIES = {
    "linear": ("linear", si_ref.LinearInterpolant, tuple(SCHEDULES), "brownian"),
    "trig": ("trig", si_ref.TrigInterpolant, tuple(SCHEDULES), "brownian"),
    "vp_trig": ("VP trig", si_ref.VPTrigInterpolant,
                tuple(k for k, (_, s) in SCHEDULES.items() if s.max_gamma <= VP_MAX_GAMMA), "brownian"),
    "encoder_decoder": ("encoder-decoder", si_ref.EncoderDecoderInterpolant,
                        tuple(k for k, (_, s) in SCHEDULES.items() if not s.is_zero), "sine_squared"),
    "one_sided_linear": ("one-sided linear", si_ref.OneSidedLinearInterpolant, ("zero",), "zero"),
    "one_sided_trig": ("one-sided trig", si_ref.OneSidedTrigInterpolant, ("zero",), "zero"),
    "mirror": ("mirror", si_ref.MirrorInterpolant,
               tuple(k for k, (_, s) in SCHEDULES.items() if not s.is_zero), "brownian"),
}
#: Formulas of the panel titles (with the panel's schedule).
FAMILY_FORMULAS = {
    "linear": r"$\alpha = 1 - t$, $\beta = t$, $\gamma = \sqrt{t(1-t)}$",
    "trig": r"$\alpha = \cos\frac{\pi t}{2}$, $\beta = \sin\frac{\pi t}{2}$, $\gamma = \sqrt{t(1-t)}$",
    "vp_trig": r"$\alpha = r\cos\frac{\pi t}{2}$, $\beta = r\sin\frac{\pi t}{2}$, $r = \sqrt{1-\gamma^2}$, "
               r"$\gamma = \sqrt{t(1-t)}$",
    "encoder_decoder": r"$\alpha = \cos^2(\pi t)1_{t<1/2}$, $\beta = \cos^2(\pi t)1_{t>1/2}$, "
                       r"$\gamma = \sin^2(\pi t)$",
    "one_sided_linear": r"$\alpha = 1 - t$, $\beta = t$, $\gamma = 0$",
    "one_sided_trig": r"$\alpha = \cos\frac{\pi t}{2}$, $\beta = \sin\frac{\pi t}{2}$, $\gamma = 0$",
    "mirror": r"$\alpha = 0$, $\beta = 1$, $\gamma = \sqrt{t(1-t)}$",
}

#: Keyword arguments of run() for a small, fast run (si-ref validate --quick).
QUICK = dict(n_grid=201)

#: Acceptance bounds: name -> (comparison, bound). α̇, β̇ errors are rounding-dominated (measured <= 3e-13),
#: so 1e-10 leaves a factor ~500; γ̇ errors are truncation-dominated for the Brownian schedules (measured
#: 4.5e-10 next to t = 0.02, where h^8 |γ^(9)| / 630 ≈ 5e-10), so 1e-8 leaves a factor ~20. Any wrong factor
#: or sign gives an error >= ~0.1 somewhere and fails by seven orders of magnitude or more. γγ̇ vs γ·γ̇ and the
#: VP identity are rounding only: 1e-14 is ~50 ulps. Boundary values must be exact, and the endpoint
#: derivatives exactly as documented.
FAMILY_DERIVATIVE_TOLERANCE = 1e-10
GAMMA_DERIVATIVE_TOLERANCE = 1e-8
TOLERANCES: dict[str, tuple[str, float]] = {
    **{f"derivative_error_{family}": ("<=", FAMILY_DERIVATIVE_TOLERANCE) for family in FAMILIES},
    **{f"gamma_dot_error_{schedule}": ("<=", GAMMA_DERIVATIVE_TOLERANCE) for schedule in SCHEDULES},
    **{f"gamma_gamma_dot_vs_product_{schedule}": ("<=", 1e-14) for schedule in SCHEDULES},
    "boundary_max_deviation": ("<=", 0.0),
    "endpoint_derivative_mismatches": ("<=", 0.0),
    "vp_trig_variance_identity_max_error": ("<=", 1e-14),
}

#: One line per measured number, for the printed table.
DESCRIPTIONS: dict[str, str] = {
    **{f"derivative_error_{family}": f"{label}: max err of alpha', beta' vs FD (with {len(keys)} gamma)"
       for family, (label, _, keys, _) in FAMILIES.items()},
    **{f"gamma_dot_error_{schedule}": f"{label}: max err of gamma' vs FD"
       for schedule, (label, _) in SCHEDULES.items()},
    **{f"gamma_gamma_dot_vs_product_{schedule}": f"{label}: max err of gg' vs gamma * gamma' in (0, 1)"
       for schedule, (label, _) in SCHEDULES.items()},
    "boundary_max_deviation": "max |boundary value - exact| at t = 0, 1 (all cases)",
    "endpoint_derivative_mismatches": "endpoint derivatives not as documented (count)",
    "vp_trig_variance_identity_max_error": "VP trig: max |alpha^2 + beta^2 + gamma^2 - 1| on [0, 1]",
}


class Case(NamedTuple):
    """One interpolant of one family with one gamma schedule."""

    family: str
    schedule: str
    interpolant: si_ref.Interpolant


def build_cases() -> list[Case]:
    """Every family with every gamma schedule it accepts (see :data:`FAMILIES`), in a fixed order."""
    cases = []
    for family, (_, cls, schedule_keys, _) in FAMILIES.items():
        for key in schedule_keys:
            if family.startswith("one_sided"):
                interpolant = cls()                        # γ ≡ 0 is fixed by the class
            else:
                interpolant = cls(SCHEDULES[key][1])
            cases.append(Case(family, key, interpolant))
    return cases


# --- the oracle ------------------------------------------------------------------------------------

def central_derivative(f: Callable[[np.ndarray], np.ndarray], t: np.ndarray, h: float = FD_STEP) -> np.ndarray:
    r"""Eighth-order central difference :math:`\frac1h\sum_{k=1}^4 c_k (f(t+kh) - f(t-kh))` (:data:`FD_COEFFICIENTS`).

    Parameters
    ----------
    f : callable
        Vectorised ``f(t: ndarray) -> ndarray`` of the same shape.
    t : ndarray, shape (n,)
        With ``4 h <= t <= 1 - 4 h`` when f is defined on [0, 1] only.
    h : float

    Returns
    -------
    ndarray, shape (n,)
        Truncation error :math:`h^8 |f^{(9)}| / 630`, rounding about :math:`10^{-16} |f| / h`.
    """
    t = np.asarray(t, dtype=np.float64)
    total = np.zeros_like(t)
    for k, c in enumerate(FD_COEFFICIENTS, start=1):
        total += c * (np.asarray(f(t + k * h)) - np.asarray(f(t - k * h)))
    return total / h


def derivative_error(f: Callable, f_dot: Callable, t: np.ndarray, h: float = FD_STEP) -> np.ndarray:
    r"""Pointwise :math:`|\dot f(t) - \dot f_{\mathrm{fd}}(t)| / (1 + |\dot f_{\mathrm{fd}}(t)|)`.

    :math:`\dot f_{\mathrm{fd}}` is the oracle :func:`central_derivative` of ``f``. Relative where the derivative is large, absolute where it passes through zero.
    Returns ndarray of the shape of t.
    """
    numeric = central_derivative(f, t, h)
    return np.abs(np.asarray(f_dot(t)) - numeric) / (1.0 + np.abs(numeric))


def _grid_and_random(low, high, n_grid, rng):
    """The uniform grid of n_grid points on [low, high] followed by N_RANDOM uniform draws in it."""
    return np.concatenate([np.linspace(low, high, n_grid), rng.uniform(low, high, N_RANDOM)])


def _coefficient_errors(case: Case, t: np.ndarray) -> dict[str, np.ndarray]:
    """α̇, β̇ of one case vs central differences at t: name -> pointwise error (nan where not checked).

    γ̇ belongs to the schedule and is checked once per schedule (``gamma_dot_error_*``).
    """
    ip = case.interpolant
    errors = {
        "alpha": derivative_error(ip.alpha, ip.alpha_dot, t),
        "beta": derivative_error(ip.beta, ip.beta_dot, t),
    }
    if case.family == "encoder_decoder":
        # the pieces join at t = 1/2 with value and slope 0 but a curvature jump of 2π²: a stencil of
        # reach 4h across it measures the jump, not the closed form, so it is left out (not hidden: nan)
        straddles = np.abs(t - 0.5) <= 4.0 * FD_STEP * (1.0 + 1e-9)
        for value in errors.values():
            value[straddles] = np.nan
    return errors


def _endpoint_mismatches(case: Case) -> int:
    """How many of α̇, β̇, γγ̇, γ̇ at t = 0 and 1 differ from their documented finiteness / exact ±inf."""
    ip = case.interpolant
    ends = np.array([0.0, 1.0])
    mismatches = 0
    for values in (ip.alpha_dot(ends), ip.beta_dot(ends), ip.gamma_gamma_dot(ends)):
        mismatches += int(np.sum(~np.isfinite(values)))
    gamma_dot = ip.gamma_dot(ends)
    if case.schedule in INFINITE_SLOPE_SCHEDULES:
        # compared with ==, never subtracted: inf - inf would be nan (and a RuntimeWarning)
        mismatches += int(gamma_dot[0] != np.inf) + int(gamma_dot[1] != -np.inf)
    else:
        mismatches += int(np.sum(~np.isfinite(gamma_dot)))
    return mismatches


def _boundary_deviation(case: Case) -> float:
    """max |value − exact| of α, β, γ at t = 0 and 1 (mirror: α ≡ 0, β ≡ 1)."""
    ip = case.interpolant
    ends = np.array([0.0, 1.0])
    if case.family == "mirror":
        expected_alpha, expected_beta = np.array([0.0, 0.0]), np.array([1.0, 1.0])
    else:
        expected_alpha, expected_beta = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    return float(max(np.max(np.abs(ip.alpha(ends) - expected_alpha)),
                     np.max(np.abs(ip.beta(ends) - expected_beta)),
                     np.max(np.abs(ip.gamma(ends)))))


# --- figures ---------------------------------------------------------------------------------------

_COLORS = {"alpha": "tab:blue", "beta": "tab:orange", "gamma": "tab:green"}
_SCHEDULE_COLORS = {"zero": "0.5", "brownian": "tab:blue", "scaled_brownian": "tab:purple",
                    "b_squared": "tab:orange", "sine_squared": "tab:green", "sigmoid": "tab:red"}
_FAMILY_COLORS = {"linear": "tab:blue", "trig": "tab:orange", "vp_trig": "tab:green",
                  "encoder_decoder": "tab:red", "one_sided_linear": "tab:purple", "one_sided_trig": "tab:brown",
                  "mirror": "tab:pink"}


def _plot_families(out: Path) -> str:
    """families.png: α, β, γ (solid) and α̇, β̇, γ̇ (dashed) of each family on [0, 1], and the variances."""
    t = np.linspace(0.0, 1.0, N_PLOT)
    inside = t[1:-1]                    # γ̇ = ±inf at the ends for the Brownian schedule: drawn inside only
    fig = Figure(figsize=(17, 8.6), layout="constrained")
    axes = fig.subplots(2, 4).ravel()
    built = {c.family: c for c in build_cases() if c.schedule == FAMILIES[c.family][3]}   # the panel schedule
    for ax, (family, case) in zip(axes, built.items()):
        ip = case.interpolant
        label, _, _, _ = FAMILIES[family]
        for name, value, rate, symbol in (("alpha", ip.alpha, ip.alpha_dot, r"\alpha"),
                                          ("beta", ip.beta, ip.beta_dot, r"\beta"),
                                          ("gamma", ip.gamma, ip.gamma_dot, r"\gamma")):
            ax.plot(t, value(t), color=_COLORS[name], linewidth=1.8, label=rf"${symbol}$")
            ax.plot(inside, rate(inside), color=_COLORS[name], linewidth=1.4, linestyle="--",
                    label=rf"$\dot{symbol}$")
        ax.axhline(0.0, color="0.85", linewidth=0.8, zorder=0)
        ax.set_ylim(-DISPLAY_CLIP, DISPLAY_CLIP)
        ax.set_xlim(0.0, 1.0)
        ax.set_title(f"{label} ({SCHEDULES[case.schedule][0]})\n{FAMILY_FORMULAS[family]}", fontsize=9)
        ax.set_xlabel(r"$t$")
        ax.set_ylabel("coefficient (solid), derivative (dashed)", fontsize=8)
        ax.legend(fontsize=7, ncol=3, loc="best", framealpha=0.9)
    # last panel: the variance of x_t for independent standard x0, x1: α² + β² + γ²
    ax = axes[-1]
    for family in ("linear", "trig", "vp_trig", "encoder_decoder"):
        ip = built[family].interpolant
        ax.plot(t, ip.alpha(t) ** 2 + ip.beta(t) ** 2 + ip.gamma(t) ** 2, color=_FAMILY_COLORS[family],
                label=f"{FAMILIES[family][0]} ({SCHEDULES[built[family].schedule][0]})")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.3)
    ax.set_xlabel(r"$t$")
    ax.set_ylabel(r"$\alpha^2 + \beta^2 + \gamma^2$")
    ax.set_title(r"variance of $x_t$ for independent $x_0, x_1, z \sim N(0, I)$" "\n"
                 r"(VP trig: $\equiv 1$)", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    fig.suptitle(
        r"Interpolant coefficients on $[0, 1]$: $\alpha, \beta, \gamma$ solid, $\dot\alpha, \dot\beta, \dot\gamma$ "
        rf"dashed. The Brownian $\dot\gamma \to \pm\infty$ at $t = 0, 1$: y axis clipped to "
        rf"$[-{DISPLAY_CLIP:g}, {DISPLAY_CLIP:g}]$ for display only (data not clipped)", fontsize=11)
    return save_figure(fig, out / "families.png")


def _plot_gamma_schedules(out: Path) -> str:
    """gamma_schedules.png: γ, γ̇ (display-clipped axis) and the closed form γγ̇ of every schedule."""
    t = np.linspace(0.0, 1.0, N_PLOT)
    inside = t[1:-1]
    fig = Figure(figsize=(16, 5.0), layout="constrained")
    left, middle, right = fig.subplots(1, 3)
    for key, (label, schedule) in SCHEDULES.items():
        color = _SCHEDULE_COLORS[key]
        left.plot(t, schedule.gamma(t), color=color, label=label)
        middle.plot(inside, schedule.gamma_dot(inside), color=color, linestyle="--", label=label)
        right.plot(t, schedule.gamma_gamma_dot(t), color=color, label=label)
    left.set_ylabel(r"$\gamma(t)$")
    left.set_title(r"$\gamma$: zero at $t = 0$ and $1$, positive inside", fontsize=10)
    middle.set_ylim(-DISPLAY_CLIP, DISPLAY_CLIP)
    middle.set_ylabel(r"$\dot\gamma(t)$")
    middle.set_title(rf"$\dot\gamma$ on $(0, 1)$; axis clipped to $[-{DISPLAY_CLIP:g}, {DISPLAY_CLIP:g}]$ "
                     "for display only\n" r"(Brownian: $\dot\gamma(0) = +\infty$, $\dot\gamma(1) = -\infty$ exactly)",
                     fontsize=10)
    right.set_ylabel(r"$\gamma\dot\gamma(t)$ (closed form)")
    right.set_title(r"$\gamma\dot\gamma$: finite on all of $[0, 1]$ (Brownian: $a(1-2t)/2$)", fontsize=10)
    for ax in (left, middle, right):
        ax.axhline(0.0, color="0.85", linewidth=0.8, zorder=0)
        ax.set_xlim(0.0, 1.0)
        ax.set_xlabel(r"$t$")
        ax.legend(fontsize=8, loc="upper right")
    fig.suptitle("Gamma schedules of si_ref.schedules", fontsize=11)
    return save_figure(fig, out / "gamma_schedules.png")


def _plot_derivative_errors(out: Path, t: np.ndarray, family_errors: dict, schedule_errors: dict) -> str:
    """derivative_errors.png: pointwise FD errors against t, per family (worst case) and per schedule."""
    order = np.argsort(t, kind="stable")
    fig = Figure(figsize=(14, 5.0), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True)
    for ax, errors, colors, labels, tolerance in (
            (left, family_errors, _FAMILY_COLORS, {k: v[0] for k, v in FAMILIES.items()},
             FAMILY_DERIVATIVE_TOLERANCE),
            (right, schedule_errors, _SCHEDULE_COLORS, {k: v[0] for k, v in SCHEDULES.items()},
             GAMMA_DERIVATIVE_TOLERANCE)):
        for key, error in errors.items():
            # exact zeros (and values below the floor) are drawn at ERROR_FLOOR; nan (left out) leaves a gap
            ax.semilogy(t[order], np.fmax(error[order], ERROR_FLOOR), color=colors[key], linewidth=0.8,
                        alpha=0.85, label=labels[key])
        ax.axhline(tolerance, color="black", linestyle=":", label=f"tolerance {tolerance:g}")
        ax.set_xlim(FD_T_MIN, FD_T_MAX)
        ax.set_ylim(ERROR_FLOOR / 2, 1e-3)
        ax.set_xlabel(r"$t$")
        ax.grid(True, which="major", color="0.92")
        ax.legend(fontsize=7, loc="upper center", ncol=4)
    left.set_ylabel(r"$|d - d_{\mathrm{fd}}| / (1 + |d_{\mathrm{fd}}|)$" f"  (floor {ERROR_FLOOR:g})")
    left.set_title(r"families: worst of $\dot\alpha, \dot\beta$ over the accepted gamma schedules"
                   "\n(encoder-decoder: stencils across $t = 1/2$ left out)", fontsize=10)
    right.set_title(r"gamma schedules: $\dot\gamma$", fontsize=10)
    fig.suptitle(f"Closed-form derivatives vs 8th-order central differences (float64, h = {FD_STEP:g})",
                 fontsize=11)
    return save_figure(fig, out / "derivative_errors.png")


# --- the study -------------------------------------------------------------------------------------

def _check_arguments(seed, n_grid):
    """Return (seed, n_grid) as ints; TypeError for a non-integer (bool included), ValueError out of range."""
    checked = []
    for name, value, lowest, meaning in (("seed", seed, 0, "the seed of numpy.random.default_rng"),
                                         ("n_grid", n_grid, 2, "points of the uniform time grids")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer ({meaning}); received {value!r} of type "
                            f"{type(value).__name__}.")
        if value < lowest:
            raise ValueError(f"{name} must be an integer >= {lowest} ({meaning}); received {name}={value!r}.")
        checked.append(int(value))
    return tuple(checked)


def run(out_dir, *, seed: int = 0, n_grid: int = 2001) -> dict:
    r"""Run the study, write its figures into ``out_dir`` and return the measured numbers.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Folder for the PNG figures (created if missing).
    seed : int
        Seed of ``numpy.random.default_rng``, the only source of randomness: the
        :data:`N_RANDOM` random times added to each grid.
    n_grid : int
        Points of the uniform grids: on [0.02, 0.98] for the derivatives, on [0, 1]
        for γγ̇ (interior points) and the VP identity (default 2001).

    Returns
    -------
    dict
        Every key of :data:`DESCRIPTIONS` mapped to a float, and ``"figures"``: the
        list of written PNG paths (str). Deterministic for a given seed.

    Raises
    ------
    TypeError
        If ``seed`` or ``n_grid`` is not an integer.
    ValueError
        If ``seed < 0`` or ``n_grid < 2``.
    """
    seed, n_grid = _check_arguments(seed, n_grid)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    t_fd = _grid_and_random(FD_T_MIN, FD_T_MAX, n_grid, rng)
    t_unit = _grid_and_random(0.0, 1.0, n_grid, rng)
    t_open = np.concatenate([t_unit[(t_unit > 0.0) & (t_unit < 1.0)], NEAR_ENDPOINT_TIMES])
    cases = build_cases()
    results: dict = {}

    # 1. Derivatives of every family (with each accepted schedule) against central differences.
    family_errors = {}                       # family -> pointwise worst error over coefficients and schedules
    for case in cases:
        worst = np.fmax.reduce(list(_coefficient_errors(case, t_fd).values()))   # fmax: nan only if all nan
        family_errors[case.family] = np.fmax(family_errors.get(case.family, worst), worst)
    for family, error in family_errors.items():
        results[f"derivative_error_{family}"] = float(np.max(error[~np.isnan(error)]))
    schedule_errors = {}
    for key, (_, schedule) in SCHEDULES.items():
        error = schedule_errors[key] = derivative_error(schedule.gamma, schedule.gamma_dot, t_fd)
        results[f"gamma_dot_error_{key}"] = float(np.max(error))

        # 2. The closed form γγ̇ against the product γ·γ̇, strictly inside (0, 1) where both factors are finite.
        product = schedule.gamma(t_open) * schedule.gamma_dot(t_open)
        closed = schedule.gamma_gamma_dot(t_open)
        results[f"gamma_gamma_dot_vs_product_{key}"] = float(np.max(np.abs(closed - product) / (1.0 + np.abs(product))))

    # 3. Exact boundary values and the documented endpoint derivatives.
    results["boundary_max_deviation"] = max(_boundary_deviation(case) for case in cases)
    results["endpoint_derivative_mismatches"] = float(sum(_endpoint_mismatches(case) for case in cases))

    # 4. Variance preservation of VP trig: α² + β² + γ² = 1 on all of [0, 1].
    results["vp_trig_variance_identity_max_error"] = max(
        float(np.max(np.abs(ip.alpha(t_unit) ** 2 + ip.beta(t_unit) ** 2 + ip.gamma(t_unit) ** 2 - 1.0)))
        for ip in (case.interpolant for case in cases if case.family == "vp_trig"))

    # 5. Figures.
    results["figures"] = [
        _plot_families(out),
        _plot_gamma_schedules(out),
        _plot_derivative_errors(out, t_fd, family_errors, schedule_errors),
    ]
    return {**{k: results[k] for k in DESCRIPTIONS}, "figures": results["figures"]}


def checks(results: dict) -> list[Check]:
    """Judge the measured numbers against :data:`TOLERANCES`; a missing or NaN value fails."""
    return evaluate(results, TOLERANCES)


def format_report(results: dict) -> str:
    """The measured numbers, their checks and the figures as a short plain-text table."""
    report = checks(results)
    lines = [
        "Schedules: closed-form alpha, beta, gamma and derivatives of every family and gamma schedule",
        (f"  oracle: 8th-order central differences, float64, h = {FD_STEP:g}, t in [{FD_T_MIN}, {FD_T_MAX}] "
         f"(grid + {N_RANDOM} random times);"),
        "  err = |d - d_fd| / (1 + |d_fd|); gg' = closed-form gamma_gamma_dot; boundary at t = 0, 1 exactly.",
        "",
    ]
    lines += check_table(results, report, DESCRIPTIONS, width=66, value_format="9.2e", bound_format=".0e")
    lines += report_footer(results, report)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the study, print the report; exit status 1 if any check fails."""
    return run_alone(sys.modules[__name__], argv,
                     "Closed-form interpolant coefficients and gamma schedules vs finite differences; figures.")


if __name__ == "__main__":
    sys.exit(main())
