r"""The seed notebook's study: its three wrappers against exact Gaussian fields, and its signs.

The seed code converts learned fields with three wrappers. With si_ref's
conventions (README, Conventions; arXiv:2303.08797v3, eqs. (2.10),
(2.18), (2.27) and Sec. 3.3) they are

.. math::

    s = -\eta/\gamma \quad (\texttt{ScoreFromNoise}), \qquad
    b = v - \gamma\dot\gamma\, s \quad (\texttt{DriftFromVelocityScore}), \qquad
    b = -\gamma\dot\gamma\, s \quad (\texttt{MirrorVelocityFromScore}),

whereas published versions of the seed code use :math:`v + \gamma\dot\gamma s`
and :math:`+\gamma\dot\gamma s`. This study

1. builds a 2D case whose score is known in closed form: the variance-preserving
   trig interpolant with the Brownian :math:`\gamma = \sqrt{t(1-t)}` between
   :math:`x_0, x_1 \sim N(0, I_2)` (independent). Since
   :math:`\alpha^2 + \beta^2 + \gamma^2 = 1`, :math:`\rho_t = N(0, I)` at every t,
   so :math:`s = -x`, :math:`\eta = \gamma x`, :math:`v = -\gamma\dot\gamma x`
   and :math:`b = 0`;
2. feeds the three wrappers with exact fields (``GaussianCase``) and measures
   their maximum error against the exact targets, on this case, on a linear
   interpolant towards a correlated Gaussian :math:`N(m, S)`, and on the
   mirror interpolant :math:`x_t = x_1 + \gamma z` with :math:`x_1 \sim N(0, I)`;
3. measures how far the seed's signs are from the exact drifts and evaluates the
   continuity-equation residual :math:`\partial_t\rho + \nabla\cdot(b\rho)` of
   each candidate drift by fourth-order central differences of the exact density;
4. draws the fields (quivers at t = 0.35, the Brownian schedule, the mirror drift
   at three times, exact vs seed-sign drifts).

Run from the repository root::

    python -m si_ref.validation.seed_wrappers --out DIR [--n-grid N] [--seed S]

or call :func:`run`, which returns the measured numbers (and the written
figures) without printing; :func:`checks` compares them with
:data:`TOLERANCES`; :func:`format_report` renders both as a table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

import si_ref
from si_ref.validation._common import Check, check_table, evaluate, report_footer, save_figure
from si_ref.wrappers import DriftFromVelocityScore, MirrorVelocityFromScore, ScoreFromNoise

__all__ = [
    "TOLERANCES",
    "DESCRIPTIONS",
    "Cases",
    "Check",
    "build_cases",
    "grid_points",
    "seed_sign_drift",
    "seed_sign_mirror_drift",
    "max_field_error",
    "continuity_residual",
    "run",
    "checks",
    "format_report",
    "main",
]

#: Half-width of the square [-BOX, BOX]^2 on which fields are compared and drawn.
BOX = 3.0
#: Times at which the wrappers are compared with the exact fields on the grid.
#: ScoreFromNoise divides by γ, which vanishes at t = 0 and 1, so it gets interior times only;
#: the two drift wrappers use the finite closed form γγ̇ and are also checked at the endpoints.
INTERIOR_TIMES = (0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95)
ENDPOINT_TIMES = (0.0, 1.0)
#: Random points (one time per row) on top of the grid: they exercise the per-point-time path.
N_RANDOM = 256
#: Times of the continuity-equation check. They stay 2 * FD_STEP away from 0 and 1 (the time
#: stencil must stay in [0, 1]) and avoid t = 1/2, where γγ̇ = 0 makes the mirror drift and
#: the seed-sign error vanish, so the check would have nothing to detect.
RESIDUAL_TIMES = (0.15, 0.35, 0.65, 0.85)
#: Points per residual time, drawn around the mean of ρ_t.
N_RESIDUAL = 32
#: Step of the fourth-order central differences: truncation ~ h^4 / 30 * |f^(5)| ≈ 1e-13 and
#: rounding ~ 1e-16 / h ≈ 1e-13, relative to the Gaussian density's scale.
FD_STEP = 1e-3
#: Time of the four-panel quiver figure.
QUIVER_TIME = 0.35
#: Times of the mirror-drift figure (at 1/2 the mirror drift vanishes identically).
MIRROR_TIMES = (0.2, 0.5, 0.8)

#: Acceptance bounds: name -> (comparison, bound). Wrapper errors are absolute (the fields are
#: O(1-10) on the grid, so 1e-13 is a few hundred ulps); "exact" residuals are far above the
#: ~1e-12 finite-difference error yet far below the seed-sign residuals, which must be O(0.1-1)
#: for the check to show that it can detect a sign error at all.
TITLE = 'Seed wrappers'
SUMMARY = (
    "The seed's three wrappers (ScoreFromNoise, DriftFromVelocityScore, MirrorVelocityFromScore) fed with exact Gaussian fields reproduce the exact score and drifts; the continuity equation holds with si_ref's signs (b = v − γγ̇s, mirror b = −γγ̇s) and fails with the published seed signs."
)
#: Keyword arguments of run() for a small, fast run (si-ref validate --quick).
QUICK = dict(n_grid=9)

TOLERANCES: dict[str, tuple[str, float]] = {
    "vp_max_error_score_equals_minus_x": ("<=", 1e-13),
    "vp_max_abs_exact_drift": ("<=", 1e-13),
    "max_error_score_from_noise": ("<=", 1e-13),
    "max_error_drift_from_velocity_score": ("<=", 1e-13),
    "max_error_mirror_velocity_from_score": ("<=", 1e-13),
    "continuity_residual_exact": ("<=", 1e-6),
    "continuity_residual_seed_sign": (">=", 1e-2),
    "mirror_continuity_residual_exact": ("<=", 1e-6),
    "mirror_continuity_residual_seed_sign": (">=", 1e-2),
    "vp_continuity_residual_exact": ("<=", 1e-6),
    "vp_continuity_residual_seed_sign": (">=", 1e-2),
}

#: One line per measured number, for the printed table.
DESCRIPTIONS: dict[str, str] = {
    "vp_max_error_score_equals_minus_x": "VP case: max |case.score(x, t) - (-x)|",
    "vp_max_abs_exact_drift": "VP case: max |case.drift(x, t)| (b = 0 exactly)",
    "max_error_score_from_noise": "ScoreFromNoise(eta) vs case.score (VP, linear)",
    "max_error_drift_from_velocity_score": "DriftFromVelocityScore(v, s) vs case.drift (VP, linear)",
    "max_error_mirror_velocity_from_score": "MirrorVelocityFromScore(s) vs mirror case.drift",
    "max_abs_seed_minus_exact_drift": "VP case: max |(v + gg' s) - b|",
    "max_abs_seed_minus_exact_mirror_drift": "mirror case: max |(+gg' s) - b|",
    "continuity_residual_exact": "linear case, b = v - gg' s: relative residual",
    "continuity_residual_seed_sign": "linear case, b = v + gg' s: relative residual",
    "mirror_continuity_residual_exact": "mirror case, b = -gg' s: relative residual",
    "mirror_continuity_residual_seed_sign": "mirror case, b = +gg' s: relative residual",
    "vp_continuity_residual_exact": "VP case, b = v - gg' s: residual / max rho",
    "vp_continuity_residual_seed_sign": "VP case, b = v + gg' s: residual / max rho",
}

Field = Callable[[np.ndarray, object], np.ndarray]


class Cases(NamedTuple):
    """The three exact Gaussian cases of the study (all in d = 2, Brownian γ)."""

    vp: si_ref.GaussianCase        # VP trig, N(0, I) -> N(0, I): ρ_t = N(0, I), s = -x, b = 0
    linear: si_ref.GaussianCase    # linear, N(0, I) -> N(m, S): every term of the residual is nonzero
    mirror: si_ref.GaussianCase    # mirror, x_t = x1 + γ z with x1 ~ N(0, I): ρ_t = N(0, (1 + γ²) I)


# --- cases and fields ------------------------------------------------------------------------------

def build_cases() -> Cases:
    r"""The exact Gaussian cases, all with the Brownian schedule :math:`\gamma = \sqrt{t(1-t)}`.

    * ``vp``: :math:`x_t = \sqrt{1-\gamma^2}(\cos\tfrac{\pi t}{2} x_0 + \sin\tfrac{\pi t}{2} x_1) + \gamma z`
      with :math:`x_0, x_1 \sim N(0, I_2)`, so :math:`\Sigma_t = (\alpha^2 + \beta^2 + \gamma^2) I = I`.
    * ``linear``: :math:`x_t = (1-t) x_0 + t x_1 + \gamma z` with :math:`x_0 \sim N(0, I_2)` and
      :math:`x_1 \sim N(m, S)`, :math:`m = (2, -1)`, :math:`S = [[1, 0.5], [0.5, 2]]`: a case in
      which :math:`\partial_t\rho` and :math:`\nabla\cdot(b\rho)` are both nonzero.
    * ``mirror``: :math:`x_t = x_1 + \gamma z` with :math:`x_1 \sim N(0, I_2)`, so
      :math:`\rho_t = N(0, (1+\gamma^2) I)`, :math:`s = -x/(1+\gamma^2)` and
      :math:`b = -\gamma\dot\gamma s = \gamma\dot\gamma x / (1+\gamma^2)`.
    """
    gamma = si_ref.BrownianGamma()
    standard = si_ref.Gaussian(np.zeros(2), np.eye(2))
    skewed = si_ref.Gaussian(np.array([2.0, -1.0]), np.array([[1.0, 0.5], [0.5, 2.0]]))
    return Cases(
        vp=si_ref.GaussianCase(si_ref.VPTrigInterpolant(gamma), standard, standard),
        linear=si_ref.GaussianCase(si_ref.LinearInterpolant(gamma), standard, skewed),
        mirror=si_ref.GaussianCase(si_ref.MirrorInterpolant(gamma), None, standard),
    )


def grid_points(n_grid: int, box: float = BOX) -> np.ndarray:
    """The ``n_grid x n_grid`` grid on [-box, box]^2 as points of shape (n_grid**2, 2), x1 fastest."""
    axis = np.linspace(-box, box, n_grid)
    x1, x2 = np.meshgrid(axis, axis)
    return np.column_stack([x1.ravel(), x2.ravel()])


def _gg_dot_column(gamma_schedule, t) -> np.ndarray:
    """γγ̇ at t as a column, shape (1, 1) for scalar t and (n, 1) for one time per point."""
    return np.reshape(gamma_schedule.gamma_gamma_dot(t), (-1, 1))


def seed_sign_drift(velocity: Field, score: Field, gamma_schedule) -> Field:
    r"""The seed's published drift :math:`b_{\mathrm{seed}} = v + \gamma\dot\gamma\, s` (wrong sign).

    The exact identity is :math:`b = v - \gamma\dot\gamma s`, so
    :math:`b_{\mathrm{seed}} - b = 2\gamma\dot\gamma s`. Kept here, outside the
    library, only to measure how wrong it is.

    Parameters
    ----------
    velocity, score : callable ``f(x, t)`` returning shape (n, d)
    gamma_schedule : si_ref.GammaSchedule

    Returns
    -------
    callable ``b(x, t)`` returning ndarray, shape (n, d)
    """
    def drift(x, t):
        return velocity(x, t) + _gg_dot_column(gamma_schedule, t) * score(x, t)
    return drift


def seed_sign_mirror_drift(score: Field, gamma_schedule) -> Field:
    r"""The seed's published mirror drift :math:`b_{\mathrm{seed}} = +\gamma\dot\gamma\, s` (wrong sign).

    The exact mirror drift is :math:`b = \dot\gamma\eta = -\gamma\dot\gamma s`, so
    :math:`b_{\mathrm{seed}} = -b` and the flow runs backwards in time.

    Returns
    -------
    callable ``b(x, t)`` returning ndarray, shape (n, d)
    """
    def drift(x, t):
        return _gg_dot_column(gamma_schedule, t) * score(x, t)
    return drift


# --- measurements --------------------------------------------------------------------------------

def max_field_error(field: Field, exact: Field, x: np.ndarray, times) -> float:
    r""":math:`\max_{t \in \text{times}} \max_{i, k} |f(x, t)_{ik} - f_{\mathrm{exact}}(x, t)_{ik}|`.

    Parameters
    ----------
    field, exact : callable ``f(x, t)`` returning shape (n, d)
    x : ndarray, shape (n, d)
    times : iterable of float, or ndarray of shape (n,)
        Scalar times are applied to all of ``x`` one at a time; an array of
        shape (n,) is passed whole (row i uses ``times[i]``).
    """
    if isinstance(times, np.ndarray) and times.ndim == 1 and times.shape[0] == x.shape[0]:
        return float(np.max(np.abs(field(x, times) - exact(x, times))))
    return max(float(np.max(np.abs(field(x, t) - exact(x, t)))) for t in times)


def _central_difference(f: Callable[[float], np.ndarray], h: float) -> np.ndarray:
    """f'(0) by the fourth-order stencil (-f(2h) + 8 f(h) - 8 f(-h) + f(-2h)) / (12 h)."""
    return (-f(2.0 * h) + 8.0 * f(h) - 8.0 * f(-h) + f(-2.0 * h)) / (12.0 * h)


def continuity_residual(case: si_ref.GaussianCase, drift: Field, x: np.ndarray, t: float,
                        *, step: float = FD_STEP) -> tuple[np.ndarray, np.ndarray]:
    r"""Continuity-equation residual :math:`R = \partial_t\rho_t + \nabla\cdot(b\rho_t)` at (x, t).

    Both derivatives are fourth-order central differences with step h of the
    exact density ``case.density``: in time of :math:`\rho`, in space of the
    flux :math:`b\rho` along each coordinate,

    .. math::

        \partial_t\rho \approx \frac{-\rho_{t+2h} + 8\rho_{t+h} - 8\rho_{t-h} + \rho_{t-2h}}{12h},
        \qquad
        \nabla\cdot(b\rho) \approx \sum_k \frac{-F_k(x+2he_k) + 8F_k(x+he_k) - 8F_k(x-he_k) + F_k(x-2he_k)}{12h},

    with :math:`F = b\rho_t`. Finite differences belong here, in the checks,
    never in the library (README, Input policy: closed forms only).

    Parameters
    ----------
    case : si_ref.GaussianCase
        Supplies the exact density :math:`\rho_t`.
    drift : callable ``b(x, t)`` returning shape (n, d)
        The candidate drift.
    x : ndarray, shape (n, d)
    t : float
        With ``2 * step <= t <= 1 - 2 * step`` so that the time stencil stays in [0, 1].
    step : float
        h.

    Returns
    -------
    residual : ndarray, shape (n,)
        :math:`R(x_i, t)`.
    scale : ndarray, shape (n,)
        :math:`|\partial_t\rho| + |\nabla\cdot(b\rho)|`, the size of the two terms that must cancel.
    """
    if not 2.0 * step <= t <= 1.0 - 2.0 * step:
        raise ValueError(
            f"t must lie in [2 * step, 1 - 2 * step] = [{2 * step}, {1 - 2 * step}] so that the time "
            f"stencil stays in [0, 1]; received t={t!r}. Move t inward or reduce step."
        )
    d_rho_dt = _central_difference(lambda dt: case.density(x, t + dt), step)
    divergence = np.zeros(x.shape[0])
    for k in range(x.shape[1]):
        unit = np.zeros(x.shape[1])
        unit[k] = 1.0

        def flux_k(dx, unit=unit, k=k):
            shifted = x + dx * unit
            return drift(shifted, t)[:, k] * case.density(shifted, t)

        divergence += _central_difference(flux_k, step)
    return d_rho_dt + divergence, np.abs(d_rho_dt) + np.abs(divergence)


def _residual_points(case: si_ref.GaussianCase, rng: np.random.Generator) -> list[tuple[float, np.ndarray]]:
    """(t, x) pairs: N_RESIDUAL points x = μ_t + 1.5 ξ, ξ ~ N(0, I), at each residual time.

    Centred on the mean of ρ_t so that the density (and with it both terms of the
    residual) is not negligibly small at the test points.
    """
    return [(t, case.mean(t) + 1.5 * rng.standard_normal((N_RESIDUAL, case.dim))) for t in RESIDUAL_TIMES]


def _relative_residual(case, drift, points) -> float:
    r""":math:`\max_i |R_i| / \max_i (|\partial_t\rho_i| + |\nabla\cdot(b\rho)_i|)` over all (x, t).

    Maxima over the points, not pointwise ratios: at a point where both terms
    happen to cross zero a pointwise ratio would be rounding noise over rounding noise.
    """
    pairs = [continuity_residual(case, drift, x, t) for t, x in points]
    residual = np.concatenate([r for r, _ in pairs])
    scale = np.concatenate([s for _, s in pairs])
    return float(np.max(np.abs(residual)) / np.max(scale))


def _density_scaled_residual(case, drift, points) -> float:
    r""":math:`\max_i |R_i| / \max_t \rho_t(\mu_t)`: the residual in units of the peak density per unit time.

    Used for the VP case, where :math:`\partial_t\rho = 0` and the exact drift is
    zero, so the relative form is 0/0 for the right sign.
    """
    residual = np.concatenate([continuity_residual(case, drift, x, t)[0] for t, x in points])
    peak = max(float(case.density(case.mean(t)[None, :], t)[0]) for t, _ in points)
    return float(np.max(np.abs(residual)) / peak)


# --- figures -------------------------------------------------------------------------------------

def _density_contours(ax, case, t, levels=6):
    """Light contour lines of ρ_t behind a quiver, with a legend entry."""
    axis = np.linspace(-BOX, BOX, 121)
    x1, x2 = np.meshgrid(axis, axis)
    rho = case.density(np.column_stack([x1.ravel(), x2.ravel()]), t).reshape(x1.shape)
    ax.contour(x1, x2, rho, levels=levels, colors="0.7", linewidths=0.8)
    return Line2D([], [], color="0.7", linewidth=0.8, label=r"contours of $\rho_t$")


def _arrow_scale(vectors_list, spacing) -> float:
    """Quiver ``scale`` (field units per data unit) so that the longest arrow spans 0.9 grid steps.

    A field that is zero up to rounding gets scale 1 (its arrows are dots): dividing
    by a norm of 1e-17 would blow rounding noise up to full-length arrows.
    """
    longest = max(float(np.max(np.linalg.norm(v, axis=1))) for v in vectors_list)
    return longest / (0.9 * spacing) if longest > 1e-12 else 1.0


def _quiver_panel(ax, case, t, points, vectors, *, scale, spacing, title, color):
    """One equal-aspect quiver panel over the contours of ρ_t, and a legend that states the arrow scale."""
    handle = _density_contours(ax, case, t)
    ax.quiver(points[:, 0], points[:, 1], vectors[:, 0], vectors[:, 1], color=color,
              angles="xy", scale_units="xy", scale=scale, width=0.004)
    largest = float(np.max(np.linalg.norm(vectors, axis=1)))
    if largest > 1e-12:
        # the legend states the magnitude of an arrow one grid step long: read the others against it
        label = f"arrows: one grid step = |f| {scale * spacing:.2g}"
    else:
        label = "arrows (none: the field is zero)"
        ax.text(0.5, 0.93, f"identically zero (max |f| = {largest:.1e})", transform=ax.transAxes,
                ha="center", fontsize=9, bbox={"facecolor": "white", "edgecolor": "0.6"})
    arrows = Line2D([], [], color=color, marker=r"$\rightarrow$", linestyle="none", markersize=10,
                    label=label)
    ax.legend(handles=[arrows, handle], loc="lower left", fontsize=7, framealpha=0.9)
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_xlabel(r"$x_1$")
    ax.set_ylabel(r"$x_2$")
    ax.set_xlim(-BOX - spacing, BOX + spacing)
    ax.set_ylim(-BOX - spacing, BOX + spacing)
    ax.set_aspect("equal")


def _plot_quivers(out, cases, grid, spacing, fields) -> str:
    """quivers_t035.png: score, velocity, drift (VP case) and mirror drift at t = QUIVER_TIME."""
    t = QUIVER_TIME
    panels = [
        (cases.vp, fields["score"](grid, t), r"score $s = -\eta/\gamma$ (ScoreFromNoise)", "tab:blue"),
        (cases.vp, cases.vp.velocity(grid, t), r"velocity $v$ (exact input)", "tab:green"),
        (cases.vp, fields["drift"](grid, t), r"drift $b = v - \gamma\dot\gamma s$ (DriftFromVelocityScore)",
         "tab:red"),
        (cases.mirror, fields["mirror"](grid, t),
         r"mirror drift $b = -\gamma\dot\gamma s$ (MirrorVelocityFromScore)", "tab:purple"),
    ]
    fig = Figure(figsize=(11, 11), layout="constrained")
    axes = fig.subplots(2, 2)
    for ax, (case, vectors, title, color) in zip(axes.ravel(), panels):
        _quiver_panel(ax, case, t, grid, vectors, scale=_arrow_scale([vectors], spacing), spacing=spacing,
                      title=title, color=color)
    fig.suptitle(
        rf"Seed wrappers fed with exact fields at $t = {t}$ (Brownian $\gamma$); first three: VP trig "
        r"$N(0, I) \to N(0, I)$, where $\rho_t = N(0, I)$ so $b \equiv 0$; last: mirror, $x_1 \sim N(0, I)$",
        fontsize=10,
    )
    return save_figure(fig, out / "quivers_t035.png")


def _plot_brownian_gamma(out) -> str:
    """brownian_gamma.png: γ, γ̇ (display-clipped) and γγ̇ of BrownianGamma on [0, 1]."""
    schedule = si_ref.BrownianGamma()
    t = np.linspace(0.0, 1.0, 1001)
    # γ̇ is ±inf at t = 0, 1 (returned exactly by the library); plot it on the interior only
    t_inner = np.linspace(1e-3, 1.0 - 1e-3, 999)
    clip = 3.0
    fig = Figure(figsize=(7.5, 4.8), layout="constrained")
    ax = fig.subplots()
    ax.plot(t, schedule.gamma(t), color="tab:blue", label=r"$\gamma = \sqrt{t(1-t)}$")
    ax.plot(t_inner, schedule.gamma_dot(t_inner), color="tab:orange",
            label=r"$\dot\gamma = (1-2t)/(2\sqrt{t(1-t)})$, $t \in [10^{-3}, 1-10^{-3}]$")
    ax.plot(t, schedule.gamma_gamma_dot(t), color="tab:green", linestyle="--",
            label=r"$\gamma\dot\gamma = (1-2t)/2$ (closed form, finite on $[0, 1]$)")
    ax.axhline(0.0, color="0.8", linewidth=0.8)
    # the data are not clipped; only the axis is, so the legend formula stays the plotted curve
    ax.set_ylim(-clip, clip)
    ax.text(0.5, 0.04, rf"$\dot\gamma \to +\infty$ as $t \to 0$ and $-\infty$ as $t \to 1$; "
            rf"axis clipped to $[-{clip:g}, {clip:g}]$ for display only",
            transform=ax.transAxes, ha="center", fontsize=8)
    ax.set_xlabel(r"$t$")
    ax.set_ylabel("value")
    ax.set_title(r"BrownianGamma: $\gamma$, $\dot\gamma$ and $\gamma\dot\gamma$")
    ax.legend(loc="upper right", fontsize=8)
    return save_figure(fig, out / "brownian_gamma.png")


def _plot_mirror_drift(out, cases, grid, spacing, mirror_field) -> str:
    """mirror_drift.png: b = -γγ̇ s of the mirror case at MIRROR_TIMES, one arrow scale for all panels."""
    vectors = [mirror_field(grid, t) for t in MIRROR_TIMES]
    scale = _arrow_scale(vectors, spacing)   # shared, so the panels compare magnitudes
    fig = Figure(figsize=(15, 5.6), layout="constrained")
    axes = fig.subplots(1, len(MIRROR_TIMES))
    for ax, t, v in zip(axes, MIRROR_TIMES, vectors):
        _quiver_panel(ax, cases.mirror, t, grid, v, scale=scale, spacing=spacing,
                      title=rf"$t = {t}$, $\gamma\dot\gamma = {float(cases.mirror.interpolant.gamma_gamma_dot(t)):.2f}$",
                      color="tab:purple")
    fig.suptitle(
        r"Mirror drift $b = -\gamma\dot\gamma\, s = \gamma\dot\gamma\, x / (1 + \gamma^2)$ for "
        r"$x_t = x_1 + \gamma z$, $x_1 \sim N(0, I)$: outward while noise is added, zero at $t = 1/2$, "
        r"inward while it is removed",
        fontsize=10,
    )
    return save_figure(fig, out / "mirror_drift.png")


def _plot_seed_signs(out, cases, grid, spacing, exact_fields, seed_fields, residuals) -> str:
    """seed_signs.png: exact vs seed-sign drift for each case at t = QUIVER_TIME, one scale per row."""
    t = QUIVER_TIME
    rows = [
        ("vp", "VP trig", cases.vp, "vp_continuity_residual", "residual / max rho"),
        ("linear", "linear", cases.linear, "continuity_residual", "relative residual"),
        ("mirror", "mirror", cases.mirror, "mirror_continuity_residual", "relative residual"),
    ]
    checked = ", ".join(f"{r:g}" for r in RESIDUAL_TIMES)
    fig = Figure(figsize=(10, 15), layout="constrained")
    axes = fig.subplots(len(rows), 2)
    for (name, label, case, key, measure), row in zip(rows, axes):
        exact = exact_fields[name](grid, t)
        seed = seed_fields[name](grid, t)
        scale = _arrow_scale([exact, seed], spacing)
        exact_formula = r"$-\gamma\dot\gamma s$" if name == "mirror" else r"$v - \gamma\dot\gamma s$"
        seed_formula = r"$+\gamma\dot\gamma s$" if name == "mirror" else r"$v + \gamma\dot\gamma s$"
        for ax, kind, formula, color in ((row[0], "exact", exact_formula, "tab:red"),
                                         (row[1], "seed sign", seed_formula, "tab:gray")):
            value = residuals[f"{key}_{kind.replace(' ', '_')}"]
            _quiver_panel(ax, case, t, grid, exact if kind == "exact" else seed, scale=scale, spacing=spacing,
                          color=color, title=f"{label}: {kind} b = {formula}\n{measure}: {value:.1e}")
    fig.suptitle(rf"Exact drift vs the seed's published sign at $t = {t}$ (same arrow scale in each row)"
                 f"\ncontinuity residuals: max over t = {checked}", fontsize=11)
    return save_figure(fig, out / "seed_signs.png")


# --- the study -----------------------------------------------------------------------------------

def _check_arguments(n_grid, seed):
    """Return (n_grid, seed) as ints; TypeError for a non-integer (bool included), ValueError out of range."""
    for name, value, lowest, meaning in (("n_grid", n_grid, 2, "points per axis of the grid"),
                                         ("seed", seed, 0, "the seed of numpy.random.default_rng")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer ({meaning}); received {value!r} of type "
                            f"{type(value).__name__}.")
        if value < lowest:
            raise ValueError(f"{name} must be an integer >= {lowest} ({meaning}); received {name}={value!r}.")
    return int(n_grid), int(seed)


def run(out_dir, *, n_grid: int = 25, seed: int = 0) -> dict:
    r"""Run the study, write its figures into ``out_dir`` and return the measured numbers.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Folder for the PNG figures (created if missing).
    n_grid : int
        Points per axis of the grid on :math:`[-3, 3]^2` used for the wrapper
        comparisons and the quivers (default 25, i.e. 625 points).
    seed : int
        Seed of ``numpy.random.default_rng``, the only source of randomness (the
        random evaluation points, their times, and the residual points).

    Returns
    -------
    dict
        Every key of :data:`DESCRIPTIONS` mapped to a float, and ``"figures"``:
        the list of written PNG paths (str). Deterministic for a given seed.

    Raises
    ------
    TypeError
        If ``n_grid`` or ``seed`` is not an integer.
    ValueError
        If ``n_grid < 2`` or ``seed < 0``.
    """
    n_grid, seed = _check_arguments(n_grid, seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    cases = build_cases()
    grid = grid_points(n_grid)
    spacing = 2.0 * BOX / (n_grid - 1)
    random_x = rng.uniform(-BOX, BOX, size=(N_RANDOM, 2))
    random_t = rng.uniform(0.02, 0.98, size=N_RANDOM)
    results: dict = {}

    # 1. The closed-form case: ρ_t = N(0, I), hence s = -x and b = v - γγ̇ s = -γγ̇ x + γγ̇ x = 0.
    all_times = INTERIOR_TIMES + ENDPOINT_TIMES
    results["vp_max_error_score_equals_minus_x"] = max_field_error(cases.vp.score, lambda x, t: -x, grid, all_times)
    results["vp_max_abs_exact_drift"] = max_field_error(cases.vp.drift, lambda x, t: np.zeros_like(x), grid, all_times)

    # 2. The three wrappers fed with exact fields. Each uses the schedule of its own interpolant.
    score_errors, drift_errors = [], []
    wrapped_scores, wrapped_drifts = {}, {}     # case name -> wrapper fed with that case's exact fields
    for name in ("vp", "linear"):
        case = getattr(cases, name)
        schedule = case.interpolant.gamma_schedule
        score = wrapped_scores[name] = ScoreFromNoise(case.noise, schedule)
        drift = wrapped_drifts[name] = DriftFromVelocityScore(case.velocity, case.score, schedule)
        score_errors += [max_field_error(score, case.score, grid, INTERIOR_TIMES),
                         max_field_error(score, case.score, random_x, random_t)]
        drift_errors += [max_field_error(drift, case.drift, grid, all_times),
                         max_field_error(drift, case.drift, random_x, random_t)]
    mirror_schedule = cases.mirror.interpolant.gamma_schedule
    wrapped_drifts["mirror"] = MirrorVelocityFromScore(cases.mirror.score, mirror_schedule)
    results["max_error_score_from_noise"] = max(score_errors)
    results["max_error_drift_from_velocity_score"] = max(drift_errors)
    results["max_error_mirror_velocity_from_score"] = max(
        max_field_error(wrapped_drifts["mirror"], cases.mirror.drift, grid, all_times),
        max_field_error(wrapped_drifts["mirror"], cases.mirror.drift, random_x, random_t),
    )

    # 3. The seed's signs: b_seed - b = 2γγ̇ s (two-sided) and b_seed = -b (mirror).
    seed_fields = {
        name: seed_sign_drift(getattr(cases, name).velocity, getattr(cases, name).score,
                              getattr(cases, name).interpolant.gamma_schedule)
        for name in ("vp", "linear")
    }
    seed_fields["mirror"] = seed_sign_mirror_drift(cases.mirror.score, mirror_schedule)
    results["max_abs_seed_minus_exact_drift"] = max_field_error(seed_fields["vp"], cases.vp.drift, grid, all_times)
    results["max_abs_seed_minus_exact_mirror_drift"] = max_field_error(
        seed_fields["mirror"], cases.mirror.drift, grid, all_times)
    # The exact drifts in the residuals are the wrappers' outputs, so the continuity equation
    # checks the wrappers themselves, not only the library's Gaussian fields.
    for name, prefix, measure in (("linear", "", _relative_residual),
                                  ("mirror", "mirror_", _relative_residual),
                                  ("vp", "vp_", _density_scaled_residual)):
        points = _residual_points(getattr(cases, name), rng)
        results[f"{prefix}continuity_residual_exact"] = measure(getattr(cases, name), wrapped_drifts[name], points)
        results[f"{prefix}continuity_residual_seed_sign"] = measure(getattr(cases, name), seed_fields[name], points)

    # 4. Figures.
    results["figures"] = [
        _plot_quivers(out, cases, grid, spacing, {"score": wrapped_scores["vp"], "drift": wrapped_drifts["vp"],
                                                  "mirror": wrapped_drifts["mirror"]}),
        _plot_brownian_gamma(out),
        _plot_mirror_drift(out, cases, grid, spacing, wrapped_drifts["mirror"]),
        _plot_seed_signs(out, cases, grid, spacing, wrapped_drifts, seed_fields, results),
    ]
    return results


def checks(results: dict) -> list[Check]:
    """Judge the measured numbers against :data:`TOLERANCES`; a missing or NaN value fails."""
    return evaluate(results, TOLERANCES)


def format_report(results: dict) -> str:
    """The measured numbers, their checks and the figures as a short plain-text table."""
    report = checks(results)
    lines = [
        "Seed wrappers vs exact Gaussian fields (Brownian gamma, d = 2)",
        "  VP: VP trig N(0, I) -> N(0, I) (rho_t = N(0, I), s = -x, b = 0);",
        "  linear: linear N(0, I) -> N((2, -1), [[1, .5], [.5, 2]]); mirror: x1 + gamma z, x1 ~ N(0, I).",
        "  gg' = gamma * gamma_dot; residual = d/dt rho + div(b rho) by 4th-order central differences.",
        "",
    ]
    lines += check_table(results, report, DESCRIPTIONS, width=58, value_format="9.2e", bound_format=".0e")
    lines += report_footer(results, report)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the study, print the table; exit status 1 if any check fails."""
    parser = argparse.ArgumentParser(
        prog="python -m si_ref.validation.seed_wrappers",
        description="The seed wrappers against exact Gaussian fields, and the seed's sign choices.",
    )
    parser.add_argument("--out", required=True, help="folder for the PNG figures (created if missing)")
    parser.add_argument("--n-grid", type=int, default=25, help="grid points per axis on [-3, 3]^2 (default 25)")
    parser.add_argument("--seed", type=int, default=0, help="seed of numpy.random.default_rng (default 0)")
    args = parser.parse_args(argv)
    try:
        _check_arguments(args.n_grid, args.seed)
    except (TypeError, ValueError) as error:
        parser.error(str(error))
    start = time.perf_counter()
    results = run(args.out, n_grid=args.n_grid, seed=args.seed)
    print(format_report(results))
    print(f"  runtime {time.perf_counter() - start:.1f} s (seed {args.seed}, {args.n_grid} x {args.n_grid} grid)")
    return 0 if all(c.passed for c in checks(results)) else 1


if __name__ == "__main__":
    sys.exit(main())
