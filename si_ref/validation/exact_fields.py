r"""Exact fields: the continuity and Fokker–Planck equations hold for every interpolant family.

For each interpolant family and two 2D cases (a single Gaussian and a Gaussian mixture),
this study takes the library's own exact density :math:`\rho_t` and fields
(:class:`si_ref.GaussianCase`) and evaluates, at points :math:`x \sim \rho_t` drawn by
sampling the interpolant itself, the residuals

.. math::

    R_{\mathrm{ODE}} = \partial_t\rho + \nabla\cdot(b\rho), \qquad
    R_{F} = \partial_t\rho + \nabla\cdot(b_F\rho) - \varepsilon\Delta\rho, \qquad
    R_{B} = \partial_t\rho + \nabla\cdot(b_B\rho) + \varepsilon\Delta\rho,

with :math:`b_F = b + \varepsilon s` (``forward_drift``) and :math:`b_B = b - \varepsilon s`
(``backward_drift``); arXiv:2303.08797v3, eqs. (2.9), (2.20), (2.21). Every derivative is an
eighth-order central finite difference with step :math:`h = 10^{-3}` (in t of
:math:`\rho`, in x of the flux :math:`f\rho` and of :math:`\rho`). Finite differences belong
here, never in the library (README, Input policy: closed forms only). The measured number is the
relative residual

.. math::

    \max_t \frac{\max_i |R(x_i, t)|}{\max_i \big(|\partial_t\rho| + |\nabla\cdot(f\rho)|
    + \varepsilon|\Delta\rho|\big)(x_i, t)}

(:math:`\varepsilon = 0` for the continuity equation), with :math:`x_i \sim \rho_t` at each
of the times :data:`TIMES`. The denominator is the largest scale among the points of the same
time rather than the scale at each point, because pointwise all three terms can vanish
together: in the mirror case each is a multiple of :math:`\Delta\rho`, which is zero on a
curve, and there the pointwise ratio is finite-difference noise over finite-difference noise
(measured up to ~5e-7 for the default sizes; reported as ``*_max_pointwise_relative_residual``,
not checked). The finite-difference error of the measured number is about :math:`10^{-9}`
(rounding of the second differences, :math:`\sim 10^{-16}/h^2`); a wrong field gives O(1).
As a control that the residual can fail, the backward drift is also put into the *forward*
equation (an error :math:`2\varepsilon s`): its residual must be large for every family and case.

Families (``FAMILIES``) and cases:

* two-sided (linear, trig, VP trig, encoder–decoder): Gaussian case
  :math:`N(m_0, S_0) \to N(m_1, S_1)` with full covariances; mixture case: 2-component
  mixture :math:`\to` 3-component mixture (independent coupling);
* one-sided (linear, trig): base :math:`N(0, I)` (:math:`\gamma \equiv 0`), the same targets;
* mirror: :math:`x_t = x_1 + \gamma z` with :math:`x_1` from the same targets.

The times lie in [0.05, 0.95], so the time stencil :math:`t \pm 4h` stays inside (0, 1)
where every field is smooth, and at least 0.08 away from t = 1/2: the encoder–decoder is
only C¹ there (:math:`\ddot\alpha, \ddot\beta` jump), so a stencil across the kink would
measure that and not the fields, and the mirror's :math:`\dot\gamma(1/2) = 0` makes the
continuity equation read 0 = 0.

Figures: density snapshots :math:`\rho_t` at t = 0, 0.25, 0.5, 0.75, 1 of the linear
interpolant with the Brownian :math:`\gamma` from :math:`N(0, I)` to the 8-component ring
mixture (radius 3, covariance 0.05 I) with the drift b on top; and the residuals per family,
case and equation as a heat map, next to the control.

Run from the repository root::

    python -m si_ref.validation.exact_fields --out DIR [--quick] [--seed S]

or call :func:`run`, which returns the measured numbers (and the written figures) without
printing; :func:`checks` compares them with :data:`TOLERANCES`; :func:`format_report`
renders both as a table.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

import si_ref
from si_ref.validation._common import Check, evaluate, report_footer, run_alone, save_figure

__all__ = [
    "CASES", "EQUATIONS", "FAMILIES", "QUICK", "SUMMARY", "TIMES", "TITLE", "TOLERANCES",
    "Check", "Family", "Residual", "build_case", "checks", "format_report", "main", "pde_residuals",
    "pointwise_relative_residual", "relative_residual", "ring_case", "run", "sample_points",
]

TITLE = "Exact fields"
SUMMARY = (
    "For every interpolant family (linear, trig, VP trig, encoder-decoder, one-sided linear and trig, mirror) "
    "on a 2D Gaussian and a 2D mixture case, the library's exact density and drifts satisfy the continuity "
    "equation and the forward and backward Fokker-Planck equations (eps = 0.5): at points x ~ rho_t drawn by "
    "sampling the interpolant at ten times in [0.05, 0.95], the residual by eighth-order finite differences "
    "(h = 1e-3), relative to |d_t rho| + |div(f rho)| + eps |lap rho| (largest among the points of the same t), "
    "stays below 1e-6, while the backward drift put into the forward equation gives O(1)."
)
#: Keyword arguments of run() for a small, fast run (si-ref validate --quick).
QUICK = {"n_points": 4, "grid": 41}

#: Step of every finite difference: truncation ~ h^8 |f^(9)| is negligible, rounding of the
#: second differences ~ 3e-16 |rho| / h^2 ≈ 1e-9 relative.
FD_STEP = 1e-3
#: Eighth-order central weights for offsets -4..4 (times 1/h and 1/h²).
FIRST_DERIVATIVE = (1 / 280, -4 / 105, 1 / 5, -4 / 5, 0.0, 4 / 5, -1 / 5, 4 / 105, -1 / 280)
SECOND_DERIVATIVE = (-1 / 560, 8 / 315, -1 / 5, 8 / 5, -205 / 72, 8 / 5, -1 / 5, 8 / 315, -1 / 560)
OFFSETS = tuple(range(-4, 5))
#: Times of the residual points, in [0.05, 0.95] so that the stencil t ± 4h stays inside (0, 1),
#: and at least 0.08 from t = 1/2: the encoder–decoder is only C¹ there (its α̈, β̈ jump), and
#: for the mirror γ̇(1/2) = 0 makes ∂_tρ and b vanish, so the continuity equation would be 0 = 0.
TIMES = (0.05, 0.15, 0.25, 0.35, 0.42, 0.58, 0.65, 0.75, 0.85, 0.95)
#: Constant diffusion coefficient ε of the Fokker–Planck equations.
EPS = 0.5
#: The checked equations: continuity (b), forward Fokker–Planck (b_F, +εΔρ), backward (b_B, −εΔρ).
EQUATIONS = ("continuity", "forward_fp", "backward_fp")
CASES = ("gaussian", "mixture")
#: Times of the density snapshots and half-width of their window [-BOX, BOX]^2.
SNAPSHOT_TIMES = (0.0, 0.25, 0.5, 0.75, 1.0)
BOX = 4.5
#: Arrows per axis of the drift quivers on the snapshots.
N_QUIVER = 15

RTOL = 1e-6


class Family(NamedTuple):
    """One interpolant family of the study: a short name, a label and the interpolant."""

    name: str
    label: str
    interpolant: si_ref.Interpolant


FAMILIES = (
    Family("linear", "linear, Brownian", si_ref.LinearInterpolant(si_ref.BrownianGamma())),
    Family("trig", "trig, sin^2(pi t)", si_ref.TrigInterpolant(si_ref.SineSquaredGamma())),
    Family("vp_trig", "VP trig, Brownian", si_ref.VPTrigInterpolant(si_ref.BrownianGamma())),
    Family("encoder_decoder", "encoder-decoder, sin^2", si_ref.EncoderDecoderInterpolant()),
    Family("one_sided_linear", "one-sided linear", si_ref.OneSidedLinearInterpolant()),
    Family("one_sided_trig", "one-sided trig", si_ref.OneSidedTrigInterpolant()),
    Family("mirror", "mirror, scaled Brownian a=2", si_ref.MirrorInterpolant(si_ref.ScaledBrownianGamma(scale=2.0))),
)

#: Acceptance bounds: name -> (comparison, bound). One bound per family and case (the maximum
#: over the three equations and all points), and the control that the residual can fail.
TOLERANCES: dict[str, tuple[str, float]] = {
    **{f"{f.name}_{case}_max_relative_residual": ("<=", RTOL) for f in FAMILIES for case in CASES},
    "min_relative_residual_swapped_drift": (">=", 1e-2),
}


# --- cases -----------------------------------------------------------------------------------------

def _endpoints(case: str):
    """(two-sided base, target) of a case; one-sided families replace the base by N(0, I)."""
    if case == "gaussian":
        base = si_ref.Gaussian(np.array([-1.0, 0.5]), np.array([[1.5, -0.4], [-0.4, 0.8]]))
        target = si_ref.Gaussian(np.array([2.0, -1.0]), np.array([[1.0, 0.5], [0.5, 2.0]]))
        return base, target
    base = si_ref.GaussianMixture(
        np.array([0.3, 0.7]),
        np.array([[-2.0, 0.0], [1.0, 1.5]]),
        np.array([[[0.5, 0.1], [0.1, 0.3]], [[0.8, -0.2], [-0.2, 0.6]]]),
    )
    target = si_ref.GaussianMixture(
        np.array([0.5, 0.3, 0.2]),
        np.array([[2.0, 2.0], [-1.0, -2.0], [3.0, -1.0]]),
        np.array([[[0.2, 0.05], [0.05, 0.1]], [[0.3, -0.1], [-0.1, 0.4]], [[0.1, 0.0], [0.0, 0.25]]]),
    )
    return base, target


def build_case(family: Family, case: str) -> si_ref.GaussianCase:
    """The exact case of ``family`` on ``case`` ("gaussian" or "mixture").

    Two-sided families map the case's base to its target; one-sided families map N(0, I)
    (``base=None``) to the target; the mirror family maps the target to itself.
    """
    if case not in CASES:
        raise ValueError(f"case must be one of {CASES}; received {case!r}.")
    base, target = _endpoints(case)
    if family.interpolant.kind != "two-sided":
        base = None
    return si_ref.GaussianCase(family.interpolant, base, target)


def ring_case() -> si_ref.GaussianCase:
    """Linear interpolant, Brownian γ, from N(0, I) to 8 equal Gaussians of covariance 0.05 I on the circle of radius 3."""
    angles = np.arange(8) * np.pi / 4
    ring = si_ref.GaussianMixture(np.full(8, 1 / 8), 3.0 * np.column_stack([np.cos(angles), np.sin(angles)]),
                                  np.stack([0.05 * np.eye(2)] * 8))
    return si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()),
                               si_ref.Gaussian(np.zeros(2), np.eye(2)), ring)


def sample_points(case: si_ref.GaussianCase, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    r"""n points :math:`x \sim \rho_t` at each time of :data:`TIMES`, drawn by sampling the interpolant.

    Returns
    -------
    x : ndarray, shape (n * len(TIMES), 2)
    t : ndarray, shape (n * len(TIMES),)
        ``np.repeat(TIMES, n)``: the first n points belong to TIMES[0], and so on.
    """
    interpolant = case.interpolant
    t = np.repeat(np.asarray(TIMES), n)
    x1 = case.target.sample(t.size, rng)
    x0 = None if interpolant.kind == "mirror" else case.base.sample(t.size, rng)
    return interpolant.sample(t, x0, x1, rng).x, t


# --- residuals -----------------------------------------------------------------------------------

class Residual(NamedTuple):
    """A residual R at each point and its scale |∂_tρ| + |∇·(fρ)| + ε|Δρ|, both of shape (n,)."""

    residual: np.ndarray
    scale: np.ndarray


def pde_residuals(case: si_ref.GaussianCase, x: np.ndarray, t: np.ndarray, *, eps: float = EPS,
                  step: float = FD_STEP) -> dict[str, Residual]:
    r"""Residuals of the continuity and Fokker–Planck equations and their scales, at each point.

    .. math::

        R = \partial_t\rho + \nabla\cdot(f\rho) - \sigma\varepsilon\Delta\rho, \qquad
        \text{scale} = |\partial_t\rho| + |\nabla\cdot(f\rho)| + |\sigma|\varepsilon|\Delta\rho|,

    for (f, σ) = (b, 0) ("continuity"), (b_F, +1) ("forward_fp"), (b_B, −1) ("backward_fp")
    and the control (b_B, +1) ("swapped"): the backward drift in the forward equation.
    Derivatives: eighth-order central differences with step h of ``case.density`` (in t
    and, for Δρ, in x) and of the fluxes ``f(y, t) * case.density(y, t)`` (in x).

    Parameters
    ----------
    case : si_ref.GaussianCase
    x : ndarray, shape (n, d)
    t : ndarray, shape (n,)
        One time per point, with ``4 * step <= t <= 1 - 4 * step``.
    eps : float
        ε > 0.
    step : float
        h.

    Returns
    -------
    dict
        "continuity", "forward_fp", "backward_fp", "swapped": :class:`Residual`.
    """
    t = np.asarray(t, dtype=np.float64)
    if not (np.all(t >= 4 * step) and np.all(t <= 1 - 4 * step)):
        raise ValueError(f"t must lie in [4 * step, 1 - 4 * step] = [{4 * step}, {1 - 4 * step}] so that the "
                         f"time stencil stays in [0, 1]; received t in [{t.min()}, {t.max()}].")
    fields: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "b": lambda y: case.drift(y, t),
        "b_F": lambda y: case.forward_drift(y, t, eps),
        "b_B": lambda y: case.backward_drift(y, t, eps),
    }
    d_rho_dt = sum(w * case.density(x, t + k * step) for k, w in zip(OFFSETS, FIRST_DERIVATIVE) if w) / step
    divergence = {name: np.zeros(x.shape[0]) for name in fields}
    laplacian = np.zeros(x.shape[0])
    for i in range(x.shape[1]):
        for k, w1, w2 in zip(OFFSETS, FIRST_DERIVATIVE, SECOND_DERIVATIVE):
            y = x.copy()
            y[:, i] += k * step
            rho = case.density(y, t)
            laplacian += w2 * rho / step**2
            if w1:
                for name, field in fields.items():
                    divergence[name] += w1 * field(y)[:, i] * rho / step

    def terms(flux_divergence, sign):
        diffusion = sign * eps * laplacian
        return Residual(d_rho_dt + flux_divergence - diffusion,
                        np.abs(d_rho_dt) + np.abs(flux_divergence) + np.abs(diffusion))

    return {
        "continuity": terms(divergence["b"], 0.0),
        "forward_fp": terms(divergence["b_F"], 1.0),
        "backward_fp": terms(divergence["b_B"], -1.0),
        "swapped": terms(divergence["b_B"], 1.0),
    }


def relative_residual(r: Residual, n_times: int) -> float:
    r""":math:`\max_t \max_i |R_i| / \max_i \text{scale}_i`, the maxima over i within each time.

    The points come in ``n_times`` consecutive groups, one per time. The scale is the
    largest one among the points of the same time, not the scale at the point itself:
    pointwise, the three terms can vanish together (in the mirror case all of them are
    multiples of :math:`\Delta\rho`, which is zero on a curve), and the ratio would
    be finite-difference noise over finite-difference noise.
    """
    residual = np.abs(r.residual).reshape(n_times, -1).max(axis=1)
    scale = r.scale.reshape(n_times, -1).max(axis=1)
    return float(np.max(residual / scale))


def pointwise_relative_residual(r: Residual) -> float:
    r""":math:`\max_i |R_i| / \text{scale}_i` (informative only: ill-conditioned where every term vanishes)."""
    return float(np.max(np.abs(r.residual) / r.scale))


# --- figures -------------------------------------------------------------------------------------

def _plot_snapshots(out: Path, grid: int) -> str:
    """density_snapshots.png: ρ_t of the ring case as colour maps with the drift b on top."""
    case = ring_case()
    axis = np.linspace(-BOX, BOX, grid)
    g1, g2 = np.meshgrid(axis, axis)
    points = np.column_stack([g1.ravel(), g2.ravel()])
    q_axis = np.linspace(-BOX + 0.3, BOX - 0.3, N_QUIVER)
    q1, q2 = np.meshgrid(q_axis, q_axis)
    q_points = np.column_stack([q1.ravel(), q2.ravel()])
    spacing = q_axis[1] - q_axis[0]
    fig = Figure(figsize=(20, 4.9), layout="constrained")
    axes = fig.subplots(1, len(SNAPSHOT_TIMES))
    for ax, t in zip(axes, SNAPSHOT_TIMES):
        rho = case.density(points, t).reshape(g1.shape)
        image = ax.pcolormesh(g1, g2, rho, shading="auto", cmap="viridis")
        fig.colorbar(image, ax=ax, shrink=0.8, label=r"$\rho_t(x)$")
        b = case.drift(q_points, t)
        # one arrow scale per panel (|b| grows to ~30 far from the modes at t = 1, which would
        # shrink the early panels' arrows to dots); the title states it
        scale = float(np.max(np.linalg.norm(b, axis=1))) / (0.9 * spacing)
        ax.quiver(q_points[:, 0], q_points[:, 1], b[:, 0], b[:, 1], color="white", angles="xy",
                  scale_units="xy", scale=scale, width=0.005)
        ax.set_title(rf"$t = {t:g}$" "\n" rf"(an arrow one grid step long: $|b| = {scale * spacing:.2g}$)", fontsize=10)
        ax.set_xlabel(r"$x_1$")
        ax.set_ylabel(r"$x_2$")
        ax.set_xlim(-BOX, BOX)
        ax.set_ylim(-BOX, BOX)
        ax.set_aspect("equal")
    fig.suptitle(
        r"Exact density $\rho_t$ (colour) and drift $b$ (white arrows) of "
        r"$x_t = (1-t)x_0 + t x_1 + \sqrt{t(1-t)}\,z$, "
        r"$x_0 \sim N(0, I)$, $x_1 \sim$ 8 equal Gaussians on the circle of radius 3 (covariance $0.05 I$)",
        fontsize=11,
    )
    return save_figure(fig, out / "density_snapshots.png")


def _plot_residuals(out: Path, results: dict) -> str:
    """residuals.png: heat map of log10 relative residuals (family x case/equation) and the control."""
    columns = [(case, eq) for case in CASES for eq in EQUATIONS]
    floor = 1e-18     # a residual that is exactly 0 is drawn at the floor
    values = np.array([[max(results[f"{f.name}_{case}_{eq}"], floor) for case, eq in columns] for f in FAMILIES])
    fig = Figure(figsize=(15, 5.8), layout="constrained")
    heat, bars = fig.subplots(1, 2, width_ratios=[1.4, 1.0])
    norm = Normalize(vmin=-16.0, vmax=0.0)
    image = heat.imshow(np.log10(values), cmap="viridis", norm=norm, aspect="auto")
    for r in range(values.shape[0]):
        for c in range(values.shape[1]):
            heat.text(c, r, f"{values[r, c]:.0e}", ha="center", va="center", fontsize=8,
                      color="white" if np.log10(values[r, c]) < -8 else "black")
    heat.set_xticks(range(len(columns)), [f"{case}\n{eq.replace('_', ' ')}" for case, eq in columns], fontsize=8)
    heat.set_yticks(range(len(FAMILIES)), [f.label for f in FAMILIES], fontsize=8)
    bar = fig.colorbar(image, ax=heat, label=r"$\log_{10}$ max relative residual")
    bar.ax.axhline(np.log10(RTOL), color="red", linewidth=2)
    heat.set_title(f"Exact fields: max over points of the relative residual (tolerance {RTOL:g}, red on the "
                   "colour bar)", fontsize=10, loc="left")

    labels = [f"{f.label} / {case}" for f in FAMILIES for case in CASES]
    exact = [max(results[f"{f.name}_{case}_max_relative_residual"], floor) for f in FAMILIES for case in CASES]
    swapped = [results[f"{f.name}_{case}_swapped"] for f in FAMILIES for case in CASES]
    position = np.arange(len(labels))
    bars.barh(position - 0.2, exact, height=0.4, color="tab:green", label="exact fields (max of 3 equations)")
    bars.barh(position + 0.2, swapped, height=0.4, color="tab:gray", label=r"control: $b_B$ in the forward equation")
    bars.axvline(RTOL, color="red", linestyle="--", label=f"tolerance {RTOL:g}")
    bars.set_xscale("log")
    bars.set_xlim(1e-16, 10.0)
    bars.set_yticks(position, labels, fontsize=7)
    bars.invert_yaxis()
    bars.set_xlabel("max relative residual")
    bars.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=7)
    bars.set_title(r"Exact vs a wrong drift ($\varepsilon$ = " f"{EPS:g})", fontsize=10, loc="left")
    return save_figure(fig, out / "residuals.png")


# --- the study -----------------------------------------------------------------------------------

def _check_arguments(**values) -> dict:
    """Integers only (TypeError, bool refused) and at least their minimum (ValueError)."""
    minimum = {"seed": 0, "n_points": 1, "grid": 2}
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer; received {value!r} of type {type(value).__name__}.")
        if value < minimum[name]:
            raise ValueError(f"{name} must be an integer >= {minimum[name]}; received {name}={value!r}.")
    return {name: int(value) for name, value in values.items()}


def run(out_dir, *, seed: int = 0, n_points: int = 64, grid: int = 161) -> dict:
    r"""Run the study, write its figures into ``out_dir`` and return the measured numbers.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Folder for the PNG figures (created if missing).
    seed : int
        Seed of ``numpy.random.default_rng``: the times and the points :math:`x \sim \rho_t`.
    n_points : int
        Points :math:`x \sim \rho_t` per time of :data:`TIMES`, family and case (default 64,
        i.e. 640 points per family and case).
    grid : int
        Pixels per axis of the density snapshots (default 161).

    Returns
    -------
    dict
        ``"<family>_<case>_<equation>"`` (equation in :data:`EQUATIONS`) and
        ``"<family>_<case>_swapped"``: the relative residual (:func:`relative_residual`);
        ``"<family>_<case>_max_relative_residual"``: the max over the three equations;
        ``"<family>_<case>_max_pointwise_relative_residual"``: the same with pointwise
        ratios (:func:`pointwise_relative_residual`, informative, not checked);
        ``"max_relative_residual"`` over everything; ``"min_relative_residual_swapped_drift"``;
        ``"figures"``: the written PNG paths. Deterministic for a given seed.

    Raises
    ------
    TypeError, ValueError
        For a non-integer or too small ``seed``, ``n_points`` or ``grid``.
    """
    sizes = _check_arguments(seed=seed, n_points=n_points, grid=grid)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(sizes["seed"])
    results: dict = {}
    pointwise: dict[str, float] = {}
    for family in FAMILIES:
        for case_name in CASES:
            case = build_case(family, case_name)
            x, t = sample_points(case, sizes["n_points"], rng)
            key = f"{family.name}_{case_name}"
            for equation, r in pde_residuals(case, x, t).items():
                results[f"{key}_{equation}"] = relative_residual(r, len(TIMES))
                if equation != "swapped":
                    pointwise[equation] = pointwise_relative_residual(r)
            results[f"{key}_max_relative_residual"] = max(results[f"{key}_{eq}"] for eq in EQUATIONS)
            results[f"{key}_max_pointwise_relative_residual"] = max(pointwise.values())
    results["max_relative_residual"] = max(results[f"{f.name}_{c}_max_relative_residual"]
                                           for f in FAMILIES for c in CASES)
    results["min_relative_residual_swapped_drift"] = min(results[f"{f.name}_{c}_swapped"]
                                                         for f in FAMILIES for c in CASES)
    results["figures"] = [_plot_snapshots(out, sizes["grid"]), _plot_residuals(out, results)]
    return results


def checks(results: dict) -> list[Check]:
    """Judge the measured numbers against :data:`TOLERANCES`; a missing or NaN value fails."""
    return evaluate(results, TOLERANCES)


def format_report(results: dict) -> str:
    """The residuals per family, case and equation, the checks and the figures as plain text."""
    verdicts = checks(results)
    by_name = {c.name: c for c in verdicts}
    short = {"continuity": "ODE", "forward_fp": "FP fwd", "backward_fp": "FP bwd"}
    head = "".join(f"{case[:5] + ' ' + short[eq]:>13}" for case in CASES for eq in EQUATIONS)
    lines = [
        f"{TITLE}: max relative residual |R| / (|d_t rho| + |div(f rho)| + eps |lap rho|) over points x ~ rho_t,",
        f"  max over t in {TIMES} of max_i |R| / max_i scale;",
        f"  8th-order central differences (h = {FD_STEP:g}), eps = {EPS:g}; tolerance <= {RTOL:g} per family and case.",
        ("  control: backward drift in the forward equation, min over families and cases >= "
         f"{TOLERANCES['min_relative_residual_swapped_drift'][1]:g}."),
        "",
        f"  {'family':<30}{head}  {'pointwise':>10}  {'control':>8}  ok",
    ]
    for f in FAMILIES:
        row = "".join(f"{results[f'{f.name}_{case}_{eq}']:13.1e}" for case in CASES for eq in EQUATIONS)
        pointwise = max(results[f"{f.name}_{case}_max_pointwise_relative_residual"] for case in CASES)
        control = min(results[f"{f.name}_{case}_swapped"] for case in CASES)
        ok = all(by_name[f"{f.name}_{case}_max_relative_residual"].passed for case in CASES)
        lines.append(f"  {f.label:<30}{row}  {pointwise:10.1e}  {control:8.1e}  {'PASS' if ok else 'FAIL'}")
    lines.append("  (pointwise: max_i |R_i| / scale_i over both cases, not checked; control: min over both cases of the")
    lines.append("   residual with b_B in the forward equation, which must be large)")
    lines.append("")
    lines.append(f"  max relative residual (all)        {results['max_relative_residual']:.2e}")
    lines.append(f"  min control residual (swapped b_B) {results['min_relative_residual_swapped_drift']:.2e}")
    lines += report_footer(results, verdicts)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the study, print the report; exit status 1 if any check fails."""
    return run_alone(sys.modules[__name__], argv,
                     "Continuity and Fokker-Planck residuals of the exact fields, for every interpolant family.")


if __name__ == "__main__":
    sys.exit(main())
