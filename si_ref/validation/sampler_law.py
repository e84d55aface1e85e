r"""The exact law of discretised samplers: convergence orders in W2 without Monte Carlo.

Conventions as in the README: t = 0 is the base, t = 1 the target; the forward SDE is
:math:`dX = (b + \varepsilon s)\,dt + \sqrt{2\varepsilon}\,dW` on increasing grids, the
backward SDE has drift :math:`b - \varepsilon s` on decreasing grids (arXiv:2303.08797v3,
eqs. (2.33)-(2.34)). For a single-Gaussian case every step of :mod:`si_ref.samplers` is
affine with Gaussian noise, so :func:`si_ref.sampler_law.integrate_law` gives the exact law of
the sampler's output, and :func:`~si_ref.sampler_law.gaussian_w2` its exact 2-Wasserstein
distance to the target (relative error below :math:`\kappa^2\varepsilon/2` for nearby laws,
κ the condition number of the covariances: no cancellation). The study has four parts, all
on the *non-commuting* case of the samplers study (linear interpolant, Brownian
:math:`\gamma = \sqrt{t(1-t)}`, :math:`N(0, S_0) \to N((3, -1), S_1)`, cross-covariance
:math:`C = 0.3\,L_0 L_1^\top`) and, for DDIM/DDPM, Gaussian data
:math:`N((1, -0.5), [[0.6, 0.2], [0.2, 0.3]])` on ᾱ levels uniform in log-SNR from −3 to 3.

1. **Orders.** W2 to the exact law (:math:`\rho_1` forward, :math:`\rho_0` backward, the
   marginal at the last level for DDIM/DDPM) against the number of steps, fitted slope of
   log W2 against log h, each within 0.05 of: ODE Euler 1, Heun 2, RK4 4 (16-256 steps);
   Euler-Maruyama 1 (weak) and stochastic Heun 2 (weak: for additive noise its mean map and
   noise covariance match the exact Gaussian transition to :math:`O(h^3)`), forward and
   backward, with ε = 0.5 and :math:`\varepsilon(t) = 0.2 + \sin^2(\pi t)` (32-256 steps);
   DDIM η = 0, DDIM η = 0.5 and DDPM, all 1 (32-256 levels).
2. **Monte Carlo cross-check.** :func:`si_ref.integrate` with ``n_paths`` paths on 4 coarse
   steps (EM forward ε = 0.5, EM backward ε(t), stochastic Heun forward ε(t), stochastic Heun
   backward ε = 0.8): the sample mean and covariance entries must lie within 4 standard errors
   of the exact law's (the standard errors computed from the exact law:
   :math:`\mathrm{Var}\,\hat S_{ij} \approx (S_{ii}S_{jj} + S_{ij}^2)/n`); the control: the continuous
   target is at least 5 standard errors away (the check can see the discretisation).
3. **Flow-map limit.** The RK4 law at 256 steps against the push-forward
   :math:`N(\mu_1, \Phi S_0 \Phi^\top)` by the exact flow matrix (``GaussianCase.flow_matrix``):
   W2 <= 1e-10; and :math:`\Phi S_0\Phi^\top = \Sigma_1` (W2 <= 1e-10).
4. **A wrong implementation must fail.** A torch-style Euler-Maruyama step (float32, a scalar
   t) judged exactly through :func:`~si_ref.sampler_law.loop_law`: written right, its law is
   si_ref's (W2 between them <= 1e-5); with noise :math:`\sqrt{\varepsilon h}` instead of
   :math:`\sqrt{2\varepsilon h}`, or with drift :math:`b - \varepsilon s` on the forward SDE, its W2 to
   the target stalls at a plateau (W2 at n = 256 steps >= 0.05 and >= 0.8 of W2 at n/4 steps)
   while si_ref's own falls as h (ratio <= 0.3).

``max_steps`` (QUICK: 128) caps the step counts of parts 1 and 4.

Run from the repository root::

    python -m si_ref.validation.sampler_law --out DIR [--quick] [--seed S]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import si_ref
from si_ref.diffusion.case import DiffusionCase
from si_ref.progress import task
from si_ref.sampler_law import GaussianLaw, ddim_law, ddpm_law, gaussian_kl, gaussian_w2, integrate_law, loop_law
from si_ref.samplers import RK4, Euler, EulerMaruyama, Heun, SDETerm, StochasticHeun, integrate, uniform_grid
from si_ref.validation._common import Check, check_table, evaluate, report_footer, run_alone, save_figure

__all__ = [
    "TITLE", "SUMMARY", "QUICK", "TOLERANCES", "DESCRIPTIONS", "Check", "case", "diffusion_case",
    "fitted_order", "run", "checks", "format_report", "main",
]

TITLE = "Exact law of discretised samplers"
SUMMARY = (
    "The exact Gaussian law of each discretised sampler (no Monte Carlo) converges in W2 at its order: ODE "
    "Euler/Heun/RK4 1/2/4, Euler-Maruyama 1 and stochastic Heun 2 (weak, forward and backward, constant and "
    "time-dependent eps), DDIM (eta 0, 0.5) and DDPM 1, each within 0.05; Monte Carlo of si_ref.integrate agrees "
    "within 4 standard errors; the RK4 law matches the exact flow-map push-forward to 1e-10; a float32 "
    "Euler-Maruyama with the wrong noise scale or sign stalls at a W2 plateau."
)

#: Step counts of the ODE and SDE order fits, and level counts of the DDIM/DDPM fits (those up to
#: ``max_steps`` are used).
ODE_STEPS = (16, 32, 64, 128, 256)
SDE_STEPS = (32, 64, 128, 256)
DIFFUSION_STEPS = (32, 64, 128, 256)
#: Allowed |fitted order − order|.
ORDER_TOLERANCE = 0.05
#: Steps of the Monte Carlo cross-check (coarse, so the discrete law differs from the target).
MC_STEPS = 4
#: Steps of the flow-map check; the wrong-implementation controls run 16, max_steps/4 and max_steps steps.
FLOW_STEPS = 256
CONTROL_EPS = 0.5


def eps_of_t(t):
    r""":math:`\varepsilon(t) = 0.2 + \sin^2(\pi t)`."""
    return 0.2 + np.sin(np.pi * t) ** 2


#: Name -> (stepper, order) of the ODE fits.
ODE_METHODS = {"euler": (Euler(), 1), "heun": (Heun(), 2), "rk4": (RK4(), 4)}
#: Name -> (stepper, order, ε, direction) of the SDE fits.
SDE_METHODS = {
    f"{name}_{direction}_{eps_name}": (stepper, order, eps, direction)
    for name, stepper, order in (("em", EulerMaruyama(), 1), ("sheun", StochasticHeun(), 2))
    for direction in ("forward", "backward")
    for eps_name, eps in (("eps_0.5", 0.5), ("eps_t", eps_of_t))
}
#: Name -> η (None: DDPM) of the diffusion fits, all of order 1.
DIFFUSION_METHODS = {"ddim_eta_0": 0.0, "ddim_eta_0.5": 0.5, "ddpm": None}
#: The Monte Carlo cases: name -> (stepper, ε, direction).
MC_CASES = {
    "em_forward_eps_0.5": (EulerMaruyama(), 0.5, "forward"),
    "em_backward_eps_t": (EulerMaruyama(), eps_of_t, "backward"),
    "sheun_forward_eps_t": (StochasticHeun(), eps_of_t, "forward"),
    "sheun_backward_eps_0.8": (StochasticHeun(), 0.8, "backward"),
}

ORDERS = {**{k: v[1] for k, v in ODE_METHODS.items()}, **{k: v[1] for k, v in SDE_METHODS.items()},
          **dict.fromkeys(DIFFUSION_METHODS, 1)}

#: Keyword arguments of run() for a small, fast run: fewer Monte Carlo paths, order fits up to 128 steps.
QUICK = dict(n_paths=20_000, max_steps=128)

TOLERANCES: dict[str, tuple[str, float]] = {
    **{f"{name}_order_deviation": ("<=", ORDER_TOLERANCE) for name in ORDERS},
    "mc_max_abs_z": ("<=", 4.0),
    "mc_min_control_z": (">=", 5.0),
    "flow_map_w2": ("<=", 1e-10),
    "flow_map_cov_vs_sigma1_w2": ("<=", 1e-10),
    "float32_right_vs_exact_w2": ("<=", 1e-5),
    "own_em_w2_ratio": ("<=", 0.3),
    "wrong_noise_w2_finest": (">=", 0.05),
    "wrong_noise_w2_ratio": (">=", 0.8),
    "wrong_sign_w2_finest": (">=", 0.05),
    "wrong_sign_w2_ratio": (">=", 0.8),
}

DESCRIPTIONS: dict[str, str] = {}
for _name, _order in ORDERS.items():
    DESCRIPTIONS[f"{_name}_order"] = f"{_name}: fitted order of W2 ({_order})"
    DESCRIPTIONS[f"{_name}_order_deviation"] = f"{_name}: |order - {_order}|"
    DESCRIPTIONS[f"{_name}_w2_finest"] = f"{_name}: W2 at the finest grid"
DESCRIPTIONS.update({
    "rk4_kl_finest": "rk4: KL(law || target) at the finest grid",
    **{f"mc_z_{name}": f"Monte Carlo {name}: max |z| (mean, cov)" for name in MC_CASES},
    "mc_max_abs_z": "Monte Carlo: max |z| over all cases",
    "mc_min_control_z": "Monte Carlo: min over cases of max |z| vs target",
    "flow_map_w2": "RK4 256 steps vs flow-map push-forward: W2",
    "flow_map_cov_vs_sigma1_w2": "N(mu1, Phi S0 Phi^T) vs N(mu1, Sigma1): W2",
    "float32_right_vs_exact_w2": "float32 EM (right) vs si_ref EM law, n steps: W2",
    "own_em_w2_finest": "si_ref EM: W2 to target at n = max_steps",
    "own_em_w2_ratio": "si_ref EM: W2(n)/W2(n/4)",
    "wrong_noise_w2_finest": "float32 EM, noise sqrt(eps h): W2 at n",
    "wrong_noise_w2_ratio": "float32 EM, noise sqrt(eps h): W2(n)/W2(n/4)",
    "wrong_sign_w2_finest": "float32 EM, drift b - eps s forward: W2 at n",
    "wrong_sign_w2_ratio": "float32 EM, drift b - eps s forward: W2(n)/W2(n/4)",
})
del _name, _order


# --- cases ------------------------------------------------------------------------------------------

S0 = np.array([[1.0, 0.3], [0.3, 0.5]])
S1 = np.array([[0.4, -0.2], [-0.2, 1.5]])


def case() -> si_ref.GaussianCase:
    r"""Linear, Brownian γ, :math:`N(0, S_0) \to N((3, -1), S_1)` with :math:`C = 0.3\,L_0 L_1^\top` (non-commuting)."""
    cross = 0.3 * np.linalg.cholesky(S0) @ np.linalg.cholesky(S1).T
    return si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()), si_ref.Gaussian(np.zeros(2), S0),
                               si_ref.Gaussian(np.array([3.0, -1.0]), S1), cross_cov=cross)


def diffusion_case() -> DiffusionCase:
    r"""Gaussian data :math:`N((1, -0.5), [[0.6, 0.2], [0.2, 0.3]])` on the VP path."""
    return DiffusionCase(si_ref.Gaussian(np.array([1.0, -0.5]), np.array([[0.6, 0.2], [0.2, 0.3]])))


def log_snr_levels(n: int) -> np.ndarray:
    r"""n + 1 levels ᾱ uniform in log-SNR :math:`\lambda = \log(\bar\alpha/(1 - \bar\alpha))` from −3 to 3."""
    return 1.0 / (1.0 + np.exp(-np.linspace(-3.0, 3.0, n + 1)))


def fitted_order(steps, errors) -> float:
    r"""Least-squares slope of :math:`\log W_2` against :math:`\log h`, :math:`h = 1/\text{steps}`."""
    return float(np.polyfit(np.log(1.0 / np.asarray(steps, dtype=float)), np.log(errors), 1)[0])


def _endpoints(gaussian_case, direction):
    start = GaussianLaw(gaussian_case.mean(0.0), gaussian_case.cov(0.0))
    end = GaussianLaw(gaussian_case.mean(1.0), gaussian_case.cov(1.0))
    return (start, end) if direction == "forward" else (end, start)


def _grid(n, direction):
    return uniform_grid(0.0, 1.0, n) if direction == "forward" else uniform_grid(1.0, 0.0, n)


# --- measurements -----------------------------------------------------------------------------------

def _orders(gc, results, max_steps):
    """Part 1: W2 to the exact law against the number of steps; the fitted orders."""
    curves = {}
    ode_steps = tuple(n for n in ODE_STEPS if n <= max_steps)
    sde_steps = tuple(n for n in SDE_STEPS if n <= max_steps)
    diffusion_steps = tuple(n for n in DIFFUSION_STEPS if n <= max_steps)
    start, target = _endpoints(gc, "forward")
    for name, (stepper, _) in ODE_METHODS.items():
        laws = [integrate_law(gc.drift, stepper, uniform_grid(0.0, 1.0, n), start).law() for n in ode_steps]
        curves[name] = (ode_steps, np.array([gaussian_w2(law, target) for law in laws]))
        if name == "rk4":
            results["rk4_kl_finest"] = gaussian_kl(laws[-1], target)
    for name, (stepper, _, eps, direction) in SDE_METHODS.items():
        begin, end = _endpoints(gc, direction)
        term = SDETerm(gc.drift, gc.score, eps)
        curves[name] = (sde_steps, np.array([gaussian_w2(integrate_law(term, stepper, _grid(n, direction), begin).law(),
                                                         end) for n in sde_steps]))
    dc = diffusion_case()

    def eps_model(x, alpha_bar):
        return dc.epsilon_at(x, np.sqrt(alpha_bar), np.sqrt(1.0 - alpha_bar))

    def marginal(alpha_bar):
        component = dc.components_at(np.sqrt(alpha_bar), np.sqrt(1.0 - alpha_bar))
        return GaussianLaw(component.means[0], component.covs[0])

    for name, eta in DIFFUSION_METHODS.items():
        errors = []
        for n in diffusion_steps:
            levels = log_snr_levels(n)
            laws = (ddpm_law(eps_model, levels, marginal(levels[0])) if eta is None
                    else ddim_law(eps_model, levels, marginal(levels[0]), eta=eta))
            errors.append(gaussian_w2(laws.law(), marginal(levels[-1])))
        curves[name] = (diffusion_steps, np.array(errors))
    for name, order in ORDERS.items():
        steps, errors = curves[name]
        results[f"{name}_order"] = fitted_order(steps, errors)
        results[f"{name}_order_deviation"] = abs(results[f"{name}_order"] - order)
        results[f"{name}_w2_finest"] = float(errors[-1])
    return curves


def _z_scores(samples, law):
    """max |z| of the sample mean and of the covariance entries (about the exact mean), SEs from the law."""
    n, s = samples.shape[0], law.cov
    z_mean = (samples.mean(axis=0) - law.mean) / np.sqrt(np.diag(s) / n)
    centred = samples - law.mean
    z_cov = (centred.T @ centred / n - s) / np.sqrt((np.outer(np.diag(s), np.diag(s)) + s**2) / n)
    return float(max(np.max(np.abs(z_mean)), np.max(np.abs(z_cov))))


def _monte_carlo(gc, n_paths, rng, results):
    """Part 2: integrate's samples vs the exact law of the discretised sampler, in standard errors."""
    z, control = {}, {}
    for name, (stepper, eps, direction) in MC_CASES.items():
        begin, end = _endpoints(gc, direction)
        term = SDETerm(gc.drift, gc.score, eps)
        grid = _grid(MC_STEPS, direction)
        x0 = rng.multivariate_normal(begin.mean, begin.cov, size=n_paths)
        samples = integrate(term, stepper, grid, x0, rng=rng).states[-1]
        law = integrate_law(term, stepper, grid, begin).law()
        z[name], control[name] = _z_scores(samples, law), _z_scores(samples, end)
        results[f"mc_z_{name}"] = z[name]
    results["mc_max_abs_z"] = max(z.values())
    results["mc_min_control_z"] = min(control.values())
    return z, control


def _flow_map(gc, results):
    """Part 3: the RK4 law at 256 steps against the exact flow-map push-forward."""
    start, target = _endpoints(gc, "forward")
    phi = gc.flow_matrix(1.0, 0.0)
    pushed = GaussianLaw(gc.mean(1.0), phi @ start.cov @ phi.T)
    law = integrate_law(gc.drift, RK4(), uniform_grid(0.0, 1.0, FLOW_STEPS), start).law()
    results["flow_map_w2"] = gaussian_w2(law, pushed)
    results["flow_map_cov_vs_sigma1_w2"] = gaussian_w2(pushed, target)


def float32_em_step(gc, eps, *, noise_factor=2.0, score_sign=1.0):
    r"""A torch-style Euler-Maruyama step ``step(x, t, t_next, noise)``: float32, a scalar t.

    :math:`x' = x + h(b + \text{score\_sign}\,\varepsilon s) + \sqrt{\text{noise\_factor}\,\varepsilon|h|}\,\xi`;
    right with ``noise_factor=2``, ``score_sign=1`` on an increasing grid.
    """
    def step(x, t, t_next, noise):
        x32, z32 = x.astype(np.float32), noise.astype(np.float32)
        h = np.float32(t_next - t)
        drift = gc.drift(x32.astype(np.float64), t).astype(np.float32)
        score = gc.score(x32.astype(np.float64), t).astype(np.float32)
        return x32 + h * (drift + np.float32(score_sign * eps) * score) + np.sqrt(np.float32(noise_factor * eps) * abs(h)) * z32
    return step


def _controls(gc, results, control_steps):
    """Part 4: si_ref's EM law, a right float32 EM and two wrong ones, W2 to the target."""
    start, target = _endpoints(gc, "forward")
    term = SDETerm(gc.drift, gc.score, CONTROL_EPS)
    implementations = {
        "right": float32_em_step(gc, CONTROL_EPS),
        "wrong_noise": float32_em_step(gc, CONTROL_EPS, noise_factor=1.0),
        "wrong_sign": float32_em_step(gc, CONTROL_EPS, score_sign=-1.0),
    }
    curves = {"own": [], **{name: [] for name in implementations}}
    final = {}
    for n in control_steps:
        grid = uniform_grid(0.0, 1.0, n)
        own = integrate_law(term, EulerMaruyama(), grid, start).law()
        curves["own"].append(gaussian_w2(own, target))
        for name, step in implementations.items():
            law = loop_law(step, grid, start).law()
            curves[name].append(gaussian_w2(law, target))
            if n == control_steps[-1] and name == "right":
                final["right"] = gaussian_w2(law, own)
    results["float32_right_vs_exact_w2"] = final["right"]
    results["own_em_w2_finest"] = curves["own"][-1]
    results["own_em_w2_ratio"] = curves["own"][-1] / curves["own"][-2]
    for name in ("wrong_noise", "wrong_sign"):
        results[f"{name}_w2_finest"] = curves[name][-1]
        results[f"{name}_w2_ratio"] = curves[name][-1] / curves[name][-2]
    return curves


# --- figures ----------------------------------------------------------------------------------------

def _step_axis(ax, steps):
    """Plain tick labels at the step counts, no minor labels (log axes would overlap them)."""
    from matplotlib.ticker import NullFormatter

    ax.set_xticks(list(steps))
    ax.set_xticklabels([str(n) for n in steps])
    ax.xaxis.set_minor_formatter(NullFormatter())


def _plot(out, curves, controls, control_steps, z, control_z, n_paths) -> str:
    """convergence.png: W2 vs steps (ODE, SDE, DDIM/DDPM), the wrong-implementation controls, the MC z-scores."""
    fig = Figure(figsize=(15, 9), layout="constrained")
    axes = fig.subplots(2, 3)
    groups = [
        (axes[0, 0], "ODE (exact law vs $\\rho_1$)", list(ODE_METHODS)),
        (axes[0, 1], "SDE, forward (vs $\\rho_1$) and backward (vs $\\rho_0$)", list(SDE_METHODS)),
        (axes[0, 2], "DDIM / DDPM, levels uniform in log-SNR", list(DIFFUSION_METHODS)),
    ]
    for ax, title, names in groups:
        for name in names:
            steps, errors = curves[name]
            style = "--" if "backward" in name else "-"
            marker = "s" if name.endswith("eps_t") else "o"
            ax.loglog(steps, errors, marker + style, markersize=4,
                      label=f"{name}: order {fitted_order(steps, errors):.3f}")
        _step_axis(ax, sorted({n for name in names for n in curves[name][0]}))
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("steps")
        ax.set_ylabel("$W_2$(exact law of the sampler, target)")
        ax.grid(True, which="both", color="0.9")
        ax.legend(fontsize=7, loc="lower left")
    ax = axes[1, 0]
    labels = {"own": "si_ref EulerMaruyama", "right": "float32 EM (right)",
              "wrong_noise": r"float32 EM, noise $\sqrt{\varepsilon h}$", "wrong_sign": r"float32 EM, drift $b - \varepsilon s$"}
    for name, values in controls.items():
        ax.loglog(control_steps, values, "o-" if name != "right" else "x:", label=labels[name])
    _step_axis(ax, control_steps)
    ax.set_title(f"judging another implementation exactly (forward SDE, $\\varepsilon = {CONTROL_EPS}$)", fontsize=10)
    ax.set_xlabel("steps")
    ax.set_ylabel("$W_2$ to $\\rho_1$")
    ax.grid(True, which="both", color="0.9")
    ax.legend(fontsize=8)
    ax = axes[1, 1]
    names = list(MC_CASES)
    k = np.arange(len(names))
    ax.bar(k - 0.2, [z[n] for n in names], width=0.4, color="tab:green", label="vs exact law of the sampler")
    ax.bar(k + 0.2, [control_z[n] for n in names], width=0.4, color="tab:red", label="vs continuous target (control)")
    ax.axhline(4.0, color="tab:green", linestyle="--", linewidth=1)
    ax.axhline(5.0, color="tab:red", linestyle=":", linewidth=1)
    ax.set_xticks(k)
    ax.set_xticklabels(names, fontsize=7, rotation=15)
    ax.set_ylabel("max |z| of sample mean and covariance")
    ax.set_yscale("log")
    ax.set_title(f"Monte Carlo of si_ref.integrate, {n_paths} paths, {MC_STEPS} steps", fontsize=10)
    ax.legend(fontsize=8)
    axes[1, 2].axis("off")
    axes[1, 2].text(0.0, 0.95, "Case: linear interpolant, Brownian $\\gamma$,\n$N(0, S_0) \\to N((3,-1), S_1)$, "
                    "$C = 0.3 L_0 L_1^T$ (d = 2)\n\nDDIM/DDPM: data $N((1,-0.5), S)$,\n"
                    "$\\bar\\alpha$ uniform in $\\log$ SNR $\\in [-3, 3]$\n\nNo Monte Carlo in the curves:\n"
                    "each point is the exact Gaussian law\nof the discretised sampler.", va="top", fontsize=10)
    fig.suptitle("Exact law of discretised samplers: W2 to the target against the number of steps", fontsize=12)
    return save_figure(fig, out / "convergence.png")


# --- the study --------------------------------------------------------------------------------------

def _check_arguments(seed, n_paths, max_steps):
    checked = []
    for name, value, lowest, meaning in (("seed", seed, 0, "the seed of numpy.random.default_rng"),
                                         ("n_paths", n_paths, 100, "paths of the Monte Carlo cross-check"),
                                         ("max_steps", max_steps, 64, "the finest grid of the order fits")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer ({meaning}); received {value!r} of type {type(value).__name__}.")
        if value < lowest:
            raise ValueError(f"{name} must be an integer >= {lowest} ({meaning}); received {name}={value!r}.")
        checked.append(int(value))
    return tuple(checked)


def run(out_dir, *, seed: int = 0, n_paths: int = 40_000, max_steps: int = 256) -> dict:
    r"""Run the study, write its figure into ``out_dir`` and return the measured numbers.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Folder for the PNG figure (created if missing).
    seed : int
        Seed of the Monte Carlo cross-check (the other parts are exact and use no randomness).
    n_paths : int
        Paths per Monte Carlo case (default 40 000, at least 100).
    max_steps : int
        The finest grid of the order fits and of the controls (default 256, at least 64); the
        fits use the step counts of :data:`ODE_STEPS` and :data:`DIFFUSION_STEPS` up to it.

    Returns
    -------
    dict
        Every key of :data:`DESCRIPTIONS` mapped to a float, and ``"figures"`` (list of str).

    Raises
    ------
    TypeError
        If an argument is not an integer.
    ValueError
        If an argument is below its minimum.
    """
    seed, n_paths, max_steps = _check_arguments(seed, n_paths, max_steps)
    control_steps = (16, max_steps // 4, max_steps)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    gc = case()
    results: dict = {}
    with task("sampler_law", total=4, unit="part") as progress:
        curves = _orders(gc, results, max_steps)
        progress.advance(detail="orders done; Monte Carlo next")
        z, control_z = _monte_carlo(gc, n_paths, rng, results)
        progress.advance(detail="Monte Carlo done; flow map next")
        _flow_map(gc, results)
        progress.advance(detail="flow map done; controls next")
        controls = _controls(gc, results, control_steps)
        progress.advance(detail="controls done")
    results["figures"] = [_plot(out, curves, controls, control_steps, z, control_z, n_paths)]
    return {**{k: float(results[k]) for k in DESCRIPTIONS}, "figures": results["figures"]}


def checks(results: dict) -> list[Check]:
    """Judge the measured numbers against :data:`TOLERANCES`; a missing or NaN value fails."""
    return evaluate(results, TOLERANCES)


def format_report(results: dict) -> str:
    """The measured numbers, their checks and the figure as a plain-text table."""
    report = checks(results)
    lines = [
        "Exact law of discretised samplers (d = 2, no Monte Carlo except part 2)",
        f"  ODE: {', '.join(map(str, ODE_STEPS))} steps; SDE: {', '.join(map(str, SDE_STEPS))} steps; "
        f"DDIM/DDPM: {', '.join(map(str, DIFFUSION_STEPS))} levels "
        f"(those up to max_steps);",
        f"  Monte Carlo: {MC_STEPS} steps; flow map: RK4 {FLOW_STEPS} steps; controls: 16, n/4, n = max_steps steps.",
        "",
    ]
    lines += check_table(results, report, DESCRIPTIONS, width=52, value_format="10.4g", bound_format="g")
    lines += report_footer(results, report)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the study, print the report; exit status 1 if any check fails."""
    return run_alone(sys.modules[__name__], argv, "Exact law of discretised samplers: orders in W2, MC, controls.")


if __name__ == "__main__":
    sys.exit(main())
