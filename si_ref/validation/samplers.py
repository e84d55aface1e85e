r"""Samplers against exact ground truth: ODE convergence orders, ODE vs SDE samples, likelihoods.

Conventions as in the README (Conventions): t = 0 is the base, t = 1
the target; the probability flow is :math:`\dot x = b(t, x)`; the forward SDE is
:math:`dX = (b + \varepsilon s)\,dt + \sqrt{2\varepsilon}\,dW` (arXiv:2303.08797v3,
eqs. (2.33)-(2.34)); all fields are the exact ones of :class:`si_ref.GaussianCase`.
The study has three parts.

1. **Convergence orders.** Euler, Heun and RK4 (:func:`si_ref.integrate` on
   :func:`si_ref.uniform_grid` with 8, 16, 32, 64 steps) from t = 0 to t = 1,
   against the exact flow map :math:`X_1 = \mu_1 + \Phi(1, 0)(X_0 - \mu_0)`
   (``GaussianCase.flow_map``) of two single-Gaussian cases in d = 2:

   * *non-commuting*: linear interpolant, Brownian :math:`\gamma = \sqrt{t(1-t)}`,
     :math:`x_0 \sim N(0, S_0)`, :math:`x_1 \sim N((3, -1), S_1)` with the
     cross-covariance :math:`C = 0.3\,L_0 L_1^\top` (:math:`S_i = L_i L_i^\top`),
     so :math:`K\Sigma^{-1}` does not commute across times and :math:`\Phi` is the
     solution of :math:`\dot\Phi = K\Sigma^{-1}\Phi` (``solve_ivp`` at rtol 1e-12);
   * *commuting*: trig interpolant, :math:`\gamma = t(1-t)`, diagonal covariances,
     where :math:`\Phi = \Sigma_1^{1/2}\Sigma_0^{-1/2}` in closed form.

   The error is :math:`\max_{i,k} |X^{(h)}_{1,ik} - X_{1,ik}|` over 20 base points;
   the fitted slope of :math:`\log(\text{error})` against :math:`\log h` must be
   within 0.1 of 1 (Euler) and 2 (Heun) and within 0.15 of 4 (RK4). On a smooth
   case (linear interpolant, Brownian γ, diagonal covariances: :math:`\Sigma_t` is
   a quadratic polynomial in t) RK4 with 64 steps must be accurate to 1e-8.

2. **ODE vs SDE samples.** From :math:`x_0 \sim N(0, I_2)` to the 2D mixture
   :math:`0.3\,N((-2, 0), 0.2 I) + 0.7\,N((2, 1), [[0.4, 0.1], [0.1, 0.3]])`
   (linear interpolant, Brownian γ): the ODE by RK4 (50 steps) and the forward SDE
   by Euler-Maruyama (200 steps) with :math:`\varepsilon = 0.5`, :math:`\varepsilon = 2`
   and :math:`\varepsilon(t) = 1.5\sin^2(\pi t) + 0.1`. Each sample of n points is
   compared with an exact target sample of n points by the squared MMD
   (:func:`si_ref.metrics.mmd`, V-statistic, Gaussian kernel of fixed bandwidth
   0.5). The *noise floor* is the same statistic between two independent exact
   samples of the same size, so a perfect sampler has ratio about 1. Both are
   averaged over ``n_repeats`` independent repetitions (each with its own exact
   reference; the floor uses 4 independent exact samples per reference), because
   a single ratio of two V-statistics fluctuates by tens of percent. Each ratio
   must be at most 2. A control that must fail: the forward SDE with the sign of
   :math:`\varepsilon s` flipped (drift :math:`b - \varepsilon s`, ε = 0.5) must be
   at least 5 times the floor.

3. **Likelihoods** on the same mixture case, at points drawn from the target:
   :func:`si_ref.ode_log_likelihood` with the exact divergence against
   ``GaussianCase.log_density`` at t = 1 (max abs error at most 1e-6), and the
   backward-SDE estimate :func:`si_ref.sde_log_likelihood` (ε = 0.5,
   Euler-Maruyama on 400 steps, ``control_variate=True``), whose error must stay
   within 4 standard errors plus 6e-3 (the discretisation bias, measured
   2e-3 - 6e-3 at 400 steps) at every point. The plain estimator (no control
   variate, same number of paths) is reported alongside to show the variance reduction.

Run from the repository root::

    python -m si_ref.validation.samplers --out DIR [--quick] [--seed S]

or call :func:`run`, which returns the measured numbers (and the written
figures) without printing; :func:`checks` compares them with
:data:`TOLERANCES`; :func:`format_report` renders both as a table.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
from matplotlib.figure import Figure

import si_ref
from si_ref.likelihood import ode_log_likelihood, sde_log_likelihood
from si_ref.progress import task
from si_ref.metrics import mmd
from si_ref.samplers import (
    RK4,
    Euler,
    EulerMaruyama,
    Heun,
    SDETerm,
    integrate,
    uniform_grid,
)
from si_ref.validation._common import Check, check_table, evaluate, report_footer, run_alone, save_figure

__all__ = [
    "TITLE", "SUMMARY", "QUICK", "TOLERANCES", "DESCRIPTIONS", "STEPPERS", "EPSILONS", "Check",
    "non_commuting_case", "commuting_case", "smooth_case", "mixture_case", "flow_errors", "fitted_slope",
    "run", "checks", "format_report", "main",
]

TITLE = "Samplers"
SUMMARY = (
    "Euler, Heun and RK4 converge at orders 1, 2 and 4 to the exact Gaussian flow map (non-commuting and "
    "commuting cases; RK4 at 64 steps within 1e-8 on a smooth case); ODE and forward-SDE samples "
    "(eps = 0.5, 2, eps(t)) of a 2D Gaussian mixture are within twice the MMD noise floor of exact samples, "
    "while a flipped sign of eps*s is not; the ODE log-likelihood with the exact divergence matches the "
    "exact log density to 1e-6 and the backward-SDE estimate (control variate) agrees within 4 SE + 6e-3."
)

#: Step counts of the order fits (h = 1/steps); cheap, so the same at every size.
ORDER_STEPS = (8, 16, 32, 64)
#: Base points per order fit.
N_ORDER_POINTS = 20
#: Steppers of the order fits: name -> (stepper, order, tolerance on |slope - order|).
STEPPERS = {"euler": (Euler(), 1, 0.1), "heun": (Heun(), 2, 0.1), "rk4": (RK4(), 4, 0.15)}
#: Steps of the RK4 accuracy check on the smooth case, its points, and its bound.
SMOOTH_STEPS, N_SMOOTH_POINTS = 64, 50
#: Diffusion coefficients of the SDE samplers: name -> ε (constant or a function of t).
EPSILONS = {
    "eps_0.5": 0.5,
    "eps_2": 2.0,
    "eps_t": lambda t: 1.5 * np.sin(np.pi * t) ** 2 + 0.1,   # small at both ends, 1.6 at t = 1/2
}
EPSILON_LABELS = {"eps_0.5": r"$\varepsilon = 0.5$", "eps_2": r"$\varepsilon = 2$",
                  "eps_t": r"$\varepsilon(t) = 1.5\sin^2\pi t + 0.1$"}
EPSILON_TEXT = {"eps_0.5": "eps = 0.5", "eps_2": "eps = 2", "eps_t": "eps(t)"}
#: Steps of the ODE (RK4) and SDE (Euler-Maruyama) samplers.
ODE_STEPS, SDE_STEPS = 50, 200
#: Fixed kernel bandwidth of the MMD: one value for every comparison, so the ratios are comparable.
MMD_BANDWIDTH = 0.5
#: Independent exact samples per reference in the noise floor (exact samples are cheap).
FLOOR_SAMPLES_PER_REFERENCE = 4
#: ε of the wrong-sign control and the SDE likelihood.
CONTROL_EPS = 0.5
LIKELIHOOD_EPS = 0.5
#: Points of the ODE and SDE likelihood checks, and the Euler-Maruyama steps of the SDE estimate.
N_ODE_LIKELIHOOD_POINTS, N_SDE_LIKELIHOOD_POINTS, LIKELIHOOD_STEPS = 16, 5, 400
#: Allowance for the O(h) discretisation bias of the SDE likelihood at 400 steps (measured 2e-3 - 6e-3).
SDE_LIKELIHOOD_BIAS = 6e-3

#: Keyword arguments of run() for a small, fast run (si-ref validate --quick). The order fits and
#: step counts do not change; the Monte Carlo sizes shrink and the noise floor shrinks with them.
QUICK = dict(n_samples=500, n_repeats=4, n_paths=1000)

#: Acceptance bounds: name -> (comparison, bound).
TOLERANCES: dict[str, tuple[str, float]] = {
    **{f"{name}_slope_deviation_{case}": ("<=", tolerance)
       for case in ("non_commuting", "commuting") for name, (_, _, tolerance) in STEPPERS.items()},
    "rk4_error_64_steps_smooth": ("<=", 1e-8),
    "ode_mmd_ratio": ("<=", 2.0),
    **{f"sde_{name}_mmd_ratio": ("<=", 2.0) for name in EPSILONS},
    "sde_wrong_sign_mmd_ratio": (">=", 5.0),
    "ode_likelihood_max_abs_error": ("<=", 1e-6),
    "sde_likelihood_excess_over_4se": ("<=", SDE_LIKELIHOOD_BIAS),
}

#: One line per measured number, for the printed table.
DESCRIPTIONS: dict[str, str] = {}
for _case in ("non_commuting", "commuting"):
    for _name, (_, _order, _) in STEPPERS.items():
        DESCRIPTIONS[f"{_name}_slope_{_case}"] = f"{_case.replace('_', '-')}: fitted order of {_name} ({_order})"
        DESCRIPTIONS[f"{_name}_slope_deviation_{_case}"] = f"{_case.replace('_', '-')}: |slope - {_order}| of {_name}"
        DESCRIPTIONS[f"{_name}_error_64_steps_{_case}"] = f"{_case.replace('_', '-')}: {_name} max error at 64 steps"
DESCRIPTIONS.update({
    "rk4_error_64_steps_smooth": "smooth case: RK4 max error at 64 steps",
    "mmd_noise_floor": "MMD^2 of independent exact samples (noise floor)",
    "ode_mmd_ratio": "RK4 ODE samples: MMD^2 / noise floor",
    **{f"sde_{name}_mmd_ratio": f"SDE (EM) {EPSILON_TEXT[name]}: MMD^2 / noise floor" for name in EPSILONS},
    "sde_wrong_sign_mmd_ratio": "SDE with b - eps s (wrong sign): MMD^2 / floor",
    "ode_likelihood_max_abs_error": "ODE log-likelihood, exact div: max |error|",
    "sde_likelihood_max_abs_error": "SDE log-likelihood (control variate): max |error|",
    "sde_likelihood_max_standard_error": "SDE log-likelihood (control variate): max SE",
    "sde_likelihood_excess_over_4se": "SDE log-likelihood: max(|error| - 4 SE)",
    "sde_likelihood_plain_max_standard_error": "SDE log-likelihood (plain): max SE",
})
del _case, _name, _order


# --- cases ---------------------------------------------------------------------------------------

S0 = np.array([[1.0, 0.3], [0.3, 0.5]])
S1 = np.array([[0.4, -0.2], [-0.2, 1.5]])


def non_commuting_case() -> si_ref.GaussianCase:
    r"""Linear, Brownian γ, :math:`N(0, S_0) \to N((3, -1), S_1)` with :math:`C = 0.3\,L_0 L_1^\top`."""
    cross = 0.3 * np.linalg.cholesky(S0) @ np.linalg.cholesky(S1).T
    return si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()), si_ref.Gaussian(np.zeros(2), S0),
                               si_ref.Gaussian(np.array([3.0, -1.0]), S1), cross_cov=cross)


def commuting_case() -> si_ref.GaussianCase:
    r"""Trig, :math:`\gamma = t(1-t)`, :math:`N((1, 0), \mathrm{diag}(1, 0.3)) \to N((-1, 2), \mathrm{diag}(0.5, 2))`."""
    return si_ref.GaussianCase(si_ref.TrigInterpolant(si_ref.BSquaredGamma()),
                               si_ref.Gaussian(np.array([1.0, 0.0]), np.diag([1.0, 0.3])),
                               si_ref.Gaussian(np.array([-1.0, 2.0]), np.diag([0.5, 2.0])))


def smooth_case() -> si_ref.GaussianCase:
    r"""Linear, Brownian γ, diagonal covariances: :math:`\Sigma_t = (1-t)^2 S_0 + t^2 S_1 + t(1-t) I` is quadratic in t."""
    return si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()),
                               si_ref.Gaussian(np.array([1.0, 0.0]), np.diag([1.0, 0.3])),
                               si_ref.Gaussian(np.array([-1.0, 2.0]), np.diag([0.5, 2.0])))


def mixture_case() -> si_ref.GaussianCase:
    r"""Linear, Brownian γ, :math:`N(0, I_2) \to 0.3\,N((-2, 0), 0.2 I) + 0.7\,N((2, 1), [[0.4, 0.1], [0.1, 0.3]])`."""
    target = si_ref.GaussianMixture(np.array([0.3, 0.7]), np.array([[-2.0, 0.0], [2.0, 1.0]]),
                                    np.stack([0.2 * np.eye(2), np.array([[0.4, 0.1], [0.1, 0.3]])]))
    return si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()),
                               si_ref.Gaussian(np.zeros(2), np.eye(2)), target)


# --- measurements --------------------------------------------------------------------------------

def flow_errors(case: si_ref.GaussianCase, stepper, steps, x_start: np.ndarray) -> np.ndarray:
    r""":math:`\max_{i,k}|X^{(h)}_1 - X_1|` for each step count: the stepper from t = 0 to 1 vs ``case.flow_map``.

    Parameters
    ----------
    case : si_ref.GaussianCase
        A single-Gaussian case (its flow map exists).
    stepper : Euler, Heun or RK4
    steps : sequence of int
    x_start : ndarray, shape (n, d)
        Points at t = 0.

    Returns
    -------
    ndarray, shape (len(steps),)
    """
    exact = case.flow_map(x_start, 1.0, 0.0)
    return np.array([np.max(np.abs(integrate(case.drift, stepper, uniform_grid(0.0, 1.0, int(n)), x_start).states[-1]
                                   - exact)) for n in steps])


def fitted_slope(steps, errors) -> float:
    r"""Least-squares slope of :math:`\log(\text{error})` against :math:`\log h`, :math:`h = 1/\text{steps}`."""
    return float(np.polyfit(np.log(1.0 / np.asarray(steps, dtype=float)), np.log(errors), 1)[0])


class _Samples(NamedTuple):
    """Samples of the first repetition, kept for the scatter figure."""

    exact: np.ndarray
    generated: dict


def _sample_comparison(case, n_samples, n_repeats, rng):
    """Part 2: MMD² of each sampler against exact samples, averaged over repetitions, and the floor."""
    samplers = {"ode": None, **{f"sde_{name}": eps for name, eps in EPSILONS.items()}, "sde_wrong_sign": CONTROL_EPS}
    sums = dict.fromkeys(samplers, 0.0)
    floor = 0.0
    first = None

    def flipped_score(x, t):   # forward SDE with b - ε s: the sign error the control must detect
        return -case.score(x, t)

    for repeat in range(n_repeats):
        reference = case.target.sample(n_samples, rng)
        for _ in range(FLOOR_SAMPLES_PER_REFERENCE):
            floor += mmd(case.target.sample(n_samples, rng), reference, bandwidth=MMD_BANDWIDTH)
        x0 = case.base.sample(n_samples, rng)   # the same base points for every sampler
        generated = {}
        for name, eps in samplers.items():
            if name == "ode":
                x1 = integrate(case.drift, RK4(), uniform_grid(0.0, 1.0, ODE_STEPS), x0).states[-1]
            else:
                score = flipped_score if name == "sde_wrong_sign" else case.score
                x1 = integrate(SDETerm(case.drift, score, eps), EulerMaruyama(), uniform_grid(0.0, 1.0, SDE_STEPS),
                               x0, rng=rng).states[-1]
            sums[name] += mmd(x1, reference, bandwidth=MMD_BANDWIDTH)
            generated[name] = x1
        if repeat == 0:
            first = _Samples(reference, generated)
    floor /= n_repeats * FLOOR_SAMPLES_PER_REFERENCE
    ratios = {f"{name}_mmd_ratio": sums[name] / n_repeats / floor for name in samplers}
    return floor, ratios, first


def _likelihoods(case, n_paths, rng):
    """Part 3: the ODE log-likelihood (exact divergence) and the SDE estimates vs the exact log density."""
    def base_log_prob(y):
        return case.log_density(y, 0.0)

    x_ode = case.target.sample(N_ODE_LIKELIHOOD_POINTS, rng)
    ode_error = ode_log_likelihood(case.drift, x_ode, base_log_prob, divergence=case.divergence) \
        - case.log_density(x_ode, 1.0)
    x_sde = case.target.sample(N_SDE_LIKELIHOOD_POINTS, rng)
    exact_sde = case.log_density(x_sde, 1.0)
    estimates = {}
    for control_variate in (True, False):
        estimates[control_variate] = sde_log_likelihood(
            case.drift, case.score, LIKELIHOOD_EPS, x_sde, base_log_prob, divergence_drift=case.divergence,
            divergence_score=case.score_divergence, grid=uniform_grid(1.0, 0.0, LIKELIHOOD_STEPS), n_paths=n_paths,
            rng=rng, control_variate=control_variate)
    cv = estimates[True]
    sde_error = cv.mean - exact_sde
    numbers = {
        "ode_likelihood_max_abs_error": float(np.max(np.abs(ode_error))),
        "sde_likelihood_max_abs_error": float(np.max(np.abs(sde_error))),
        "sde_likelihood_max_standard_error": float(np.max(cv.standard_error)),
        "sde_likelihood_excess_over_4se": float(np.max(np.abs(sde_error) - 4.0 * cv.standard_error)),
        "sde_likelihood_plain_max_standard_error": float(np.max(estimates[False].standard_error)),
    }
    plain_error = estimates[False].mean - exact_sde
    detail = dict(ode_error=ode_error, exact_ode=case.log_density(x_ode, 1.0), sde_error=sde_error,
                  sde_se=cv.standard_error, plain_error=plain_error, plain_se=estimates[False].standard_error)
    return numbers, detail


# --- figures -------------------------------------------------------------------------------------

_COLORS = {"euler": "tab:blue", "heun": "tab:orange", "rk4": "tab:green"}


def _plot_convergence(out, steps, errors, slopes, smooth_error) -> str:
    """convergence.png: log error vs log h for each stepper and case, with reference slopes."""
    h = 1.0 / np.asarray(steps, dtype=float)
    fig = Figure(figsize=(11, 4.8), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    titles = {"non_commuting": "non-commuting: linear, Brownian $\\gamma$, cross-covariance $C$",
              "commuting": "commuting: trig, $\\gamma = t(1-t)$, diagonal covariances"}
    for ax, case in zip(axes, ("non_commuting", "commuting")):
        for name, (stepper, order, _) in STEPPERS.items():
            e = errors[case][name]
            ax.loglog(h, e, "o-", color=_COLORS[name],
                      label=f"{stepper.tableau.name}: fitted slope {slopes[case][name]:.2f}")
            # reference slope through the coarsest point: e_ref(h) = e(h_0) (h / h_0)^order
            ax.loglog(h, e[0] * (h / h[0]) ** order, ":", color=_COLORS[name], linewidth=1.2,
                      label=rf"reference slope {order}")
        ax.set_title(titles[case], fontsize=10)
        ax.set_xlabel(r"step $h = 1/n$")
        ax.grid(True, which="both", color="0.9")
        ax.legend(fontsize=8, loc="lower right")
    axes[0].set_ylabel(r"$\max_{i,k} |X^{(h)}_1 - X_1|$ (exact flow map)")
    axes[1].loglog([1.0 / SMOOTH_STEPS], [smooth_error], "*", color="black", markersize=11,
                   label=f"RK4, smooth case, {SMOOTH_STEPS} steps: {smooth_error:.1e}")
    axes[1].legend(fontsize=8, loc="lower right")
    fig.suptitle(f"ODE steppers vs the exact Gaussian flow map from t = 0 to 1 ({N_ORDER_POINTS} points, d = 2)",
                 fontsize=11)
    return save_figure(fig, out / "convergence.png")


def _plot_samples(out, samples, ratios, floor, n_samples) -> str:
    """samples.png: exact target sample, ODE and SDE samples, and the wrong-sign control."""
    panels = [("exact", samples.exact, "exact target sample (reference)", "0.3")]
    panels.append(("ode", samples.generated["ode"],
                   f"ODE, RK4 {ODE_STEPS} steps\nMMD$^2$/floor = {ratios['ode_mmd_ratio']:.2f}", "tab:blue"))
    for name in EPSILONS:
        panels.append((name, samples.generated[f"sde_{name}"],
                       (f"SDE, EM {SDE_STEPS} steps, {EPSILON_LABELS[name]}\n"
                        f"MMD$^2$/floor = {ratios[f'sde_{name}_mmd_ratio']:.2f}"), "tab:green"))
    panels.append(("wrong", samples.generated["sde_wrong_sign"],
                   (rf"control: drift $b - \varepsilon s$, $\varepsilon = {CONTROL_EPS}$ (wrong sign)"
                    f"\nMMD$^2$/floor = {ratios['sde_wrong_sign_mmd_ratio']:.0f}"), "tab:red"))
    everything = np.concatenate([p[1] for p in panels[:-1]])
    low, high = everything.min(axis=0) - 0.5, everything.max(axis=0) + 0.5
    fig = Figure(figsize=(13, 6.8), layout="constrained")
    axes = fig.subplots(2, 3)
    for ax, (_, x, title, color) in zip(axes.ravel(), panels):
        ax.scatter(samples.exact[:, 0], samples.exact[:, 1], s=3, color="0.85", linewidths=0)
        ax.scatter(x[:, 0], x[:, 1], s=3, color=color, alpha=0.6, linewidths=0)
        ax.set_title(title, fontsize=9)
        ax.set_xlim(low[0], high[0])
        ax.set_ylim(low[1], high[1])
        ax.set_aspect("equal")
        ax.set_xlabel(r"$x_1$")
        ax.set_ylabel(r"$x_2$")
    fig.suptitle(
        rf"Samples at t = 1 from $x_0 \sim N(0, I)$ (first repetition, n = {n_samples}; grey: exact sample); "
        rf"MMD$^2$ with bandwidth {MMD_BANDWIDTH}, noise floor {floor:.1e}", fontsize=10)
    return save_figure(fig, out / "samples.png")


def _plot_likelihood(out, detail, n_paths) -> str:
    """likelihood.png: ODE errors per point; SDE estimates (control variate, plain) with 4 SE bars."""
    fig = Figure(figsize=(15, 4.6), layout="constrained")
    left, middle, right = fig.subplots(1, 3)
    errors = np.abs(detail["ode_error"])
    left.semilogy(detail["exact_ode"], np.maximum(errors, 1e-17), "o", color="tab:blue")
    left.axhline(TOLERANCES["ode_likelihood_max_abs_error"][1], color="tab:red", linestyle="--",
                 label="tolerance 1e-6")
    left.set_xlabel(r"exact $\log\rho_1(x)$")
    left.set_ylabel(r"$|\,$ODE estimate $- \log\rho_1(x)|$")
    left.set_title("ODE log-likelihood, exact divergence (DOP853, rtol 1e-10)", fontsize=10)
    left.legend(fontsize=8)
    k = np.arange(detail["sde_error"].size)
    for ax, error, se, label, color in ((middle, detail["sde_error"], detail["sde_se"], "with control variate", "tab:green"),
                                        (right, detail["plain_error"], detail["plain_se"], "plain", "0.4")):
        ax.errorbar(k, error, yerr=4 * se, fmt="o", color=color, capsize=3, label=r"estimate $\pm$ 4 SE")
        ax.fill_between([-0.5, k[-1] + 0.5], -SDE_LIKELIHOOD_BIAS, SDE_LIKELIHOOD_BIAS, color="tab:green",
                        alpha=0.15, label=f"bias allowance $\\pm${SDE_LIKELIHOOD_BIAS:g}")
        ax.axhline(0.0, color="0.6", linewidth=0.8)
        ax.set_xlim(-0.5, k[-1] + 0.5)
        ax.set_xticks(k)
        ax.set_xlabel("point (drawn from the target)")
        ax.set_ylabel(r"estimate $- \log\rho_1(x)$")
        ax.set_title(f"backward-SDE estimate, {label}", fontsize=10)
        ax.legend(fontsize=8)
    fig.suptitle(rf"Log-likelihood of the 2D mixture at t = 1 vs GaussianCase.log_density; SDE: "
                 rf"$\varepsilon = {LIKELIHOOD_EPS}$, Euler-Maruyama {LIKELIHOOD_STEPS} steps, {n_paths} paths",
                 fontsize=11)
    return save_figure(fig, out / "likelihood.png")


# --- the study -----------------------------------------------------------------------------------

def _check_arguments(seed, n_samples, n_repeats, n_paths):
    """Return the arguments as ints; TypeError for a non-integer (bool included), ValueError out of range."""
    checked = []
    for name, value, lowest, meaning in (
            ("seed", seed, 0, "the seed of numpy.random.SeedSequence"),
            ("n_samples", n_samples, 10, "points per sample in the MMD comparison"),
            ("n_repeats", n_repeats, 1, "repetitions of the MMD comparison"),
            ("n_paths", n_paths, 2, "backward paths per point of the SDE likelihood")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer ({meaning}); received {value!r} of type "
                            f"{type(value).__name__}.")
        if value < lowest:
            raise ValueError(f"{name} must be an integer >= {lowest} ({meaning}); received {name}={value!r}.")
        checked.append(int(value))
    return tuple(checked)


def run(out_dir, *, seed: int = 0, n_samples: int = 2000, n_repeats: int = 4, n_paths: int = 4000) -> dict:
    r"""Run the study, write its figures into ``out_dir`` and return the measured numbers.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Folder for the PNG figures (created if missing).
    seed : int
        Seed of ``numpy.random.SeedSequence``; each part draws from its own spawned
        generator, so changing one part's size leaves the others' draws unchanged.
    n_samples : int
        Points per sample in the MMD comparison (default 2000).
    n_repeats : int
        Independent repetitions of the MMD comparison, averaged (default 4).
    n_paths : int
        Backward paths per point of the SDE likelihood (default 4000).

    Returns
    -------
    dict
        Every key of :data:`DESCRIPTIONS` mapped to a float, and ``"figures"``: the
        list of written PNG paths (str). Deterministic for a given seed.

    Raises
    ------
    TypeError
        If an argument is not an integer.
    ValueError
        If an argument is below its minimum (seed 0, n_samples 10, n_repeats 1, n_paths 2).
    """
    seed, n_samples, n_repeats, n_paths = _check_arguments(seed, n_samples, n_repeats, n_paths)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng_order, rng_samples, rng_likelihood = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    results: dict = {}

    with task("samplers", total=3, unit="part") as progress:
        errors, slopes, first, floor, ratios, detail = _measure(results, n_samples, n_repeats, n_paths,
                                                                rng_order, rng_samples, rng_likelihood, progress)

    # 4. Figures.
    results["figures"] = [
        _plot_convergence(out, ORDER_STEPS, errors, slopes, results["rk4_error_64_steps_smooth"]),
        _plot_samples(out, first, ratios, floor, n_samples),
        _plot_likelihood(out, detail, n_paths),
    ]
    return {**{k: results[k] for k in DESCRIPTIONS}, "figures": results["figures"]}


def _measure(results, n_samples, n_repeats, n_paths, rng_order, rng_samples, rng_likelihood, progress):
    """Parts 1-3 of :func:`run` (orders, samples, likelihoods) into ``results``; returns what the figures need."""
    # 1. Convergence orders against the exact flow map.
    errors, slopes = {}, {}
    for case_name, build in (("non_commuting", non_commuting_case), ("commuting", commuting_case)):
        case = build()
        x_start = case.base.sample(N_ORDER_POINTS, rng_order)
        errors[case_name], slopes[case_name] = {}, {}
        for name, (stepper, order, _) in STEPPERS.items():
            e = errors[case_name][name] = flow_errors(case, stepper, ORDER_STEPS, x_start)
            slope = slopes[case_name][name] = fitted_slope(ORDER_STEPS, e)
            results[f"{name}_slope_{case_name}"] = slope
            results[f"{name}_slope_deviation_{case_name}"] = abs(slope - order)
            results[f"{name}_error_64_steps_{case_name}"] = float(e[ORDER_STEPS.index(64)])
    smooth = smooth_case()
    results["rk4_error_64_steps_smooth"] = float(
        flow_errors(smooth, RK4(), [SMOOTH_STEPS], smooth.base.sample(N_SMOOTH_POINTS, rng_order))[0])
    progress.advance(detail="orders done; samples next")

    # 2. ODE and SDE samples vs exact samples, relative to the noise floor of exact vs exact.
    mixture = mixture_case()
    floor, ratios, first = _sample_comparison(mixture, n_samples, n_repeats, rng_samples)
    results["mmd_noise_floor"] = float(floor)
    results.update({k: float(v) for k, v in ratios.items()})
    progress.advance(detail="samples done; likelihoods next")

    # 3. Likelihoods vs the exact log density.
    numbers, detail = _likelihoods(mixture, n_paths, rng_likelihood)
    results.update(numbers)
    progress.advance(detail="likelihoods done")
    return errors, slopes, first, floor, ratios, detail


def checks(results: dict) -> list[Check]:
    """Judge the measured numbers against :data:`TOLERANCES`; a missing or NaN value fails."""
    return evaluate(results, TOLERANCES)


def format_report(results: dict) -> str:
    """The measured numbers, their checks and the figures as a short plain-text table."""
    report = checks(results)
    lines = [
        "Samplers vs exact Gaussian ground truth (d = 2)",
        f"  orders: {', '.join(map(str, ORDER_STEPS))} steps on [0, 1], {N_ORDER_POINTS} points, vs flow_map;",
        (f"  samples: RK4 {ODE_STEPS} / Euler-Maruyama {SDE_STEPS} steps, N(0, I) -> 2-component mixture, "
         f"MMD^2 (bandwidth {MMD_BANDWIDTH});"),
        f"  likelihood: ODE (exact divergence) and backward SDE (eps {LIKELIHOOD_EPS}, {LIKELIHOOD_STEPS} steps).",
        "",
    ]
    lines += check_table(results, report, DESCRIPTIONS, width=54, value_format="10.3g", bound_format="g")
    lines += report_footer(results, report)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the study, print the report; exit status 1 if any check fails."""
    return run_alone(sys.modules[__name__], argv,
                     "ODE/SDE samplers and likelihoods against exact Gaussian ground truth.")


if __name__ == "__main__":
    sys.exit(main())
