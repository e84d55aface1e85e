r"""Fit the drift b with the DEFAULT arguments of :func:`si_ref.fit_drift`, on several 2-D targets, and measure it.

Every fit is ``si_ref.fit_drift(interpolant, base, target, rng=rng, method=method)`` with
nothing else chosen by hand (the study's size arguments only override ``n_samples`` and
the MLP's ``epochs`` for the quick run). The defaults are chosen by the library from the
problem (:func:`si_ref.fitting.default_recipe`, :func:`si_ref.fitting.default_model`):
with a Gaussian base, the stable-target-field targets over blocks of 1024 samples,
weighted by :math:`\kappa(t) = \alpha^2\operatorname{tr}(S_0)/d + \gamma^2`; for ridge, a
time-sliced ridge regression on the posterior features of a Gaussian mixture fitted by
EM to target samples (components by BIC); for the MLP, three SiLU layers of width 128
trained in float32.

Cases (exact fields from :class:`si_ref.GaussianCase`):

* ``ring``: :math:`N(0, I_2)` to the 8-Gaussian ring of ``si_ref/validation/fit_drift.py``
  (radius 3, covariances 0.05 I, equal weights), linear interpolant, Brownian γ;
* ``mixture``: :math:`N(0, I_2)` to a mixture of 6 anisotropic, correlated Gaussians of
  unequal weights (:func:`anisotropic_mixture`: standard deviations 0.1 to 0.7 along
  rotated axes, weights 0.08 to 0.3), linear interpolant, Brownian γ;
* ``mixture_skewed_base``: the same target from the non-standard base
  :math:`N((0.5, -1), [[2, 0.6], [0.6, 0.5]])`, linear interpolant, Brownian γ;
* ``mixture_trig``: the same target and skewed base with the trigonometric interpolant
  :math:`x_t = \cos(\pi t/2) x_0 + \sin(\pi t/2) x_1 + \sqrt{t(1-t)} z`.

Measured, for t in {0.05, 0.15, ..., 0.95}: the :math:`\rho_t`-weighted relative L2 error
:math:`\sqrt{E|\hat b - b|^2 / E|b|^2}` with x ~ ρ_t by Monte Carlo
(:func:`si_ref.validation.fit_drift.relative_errors`), its mean and worst over t, and the
fit time (reported only: the machine may be shared; never checked).

Run from the repository root::

    python -m si_ref.validation.fit_defaults --out DIR [--quick] [--seed S]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import si_ref
from si_ref.progress import task
from si_ref.validation._common import Check, evaluate, report_footer, run_alone, save_figure
from si_ref.validation.fit_drift import TIMES, build_case, relative_errors

__all__ = ["TITLE", "SUMMARY", "CASES", "METHODS", "TOLERANCES", "QUICK_TOLERANCES", "QUICK", "SKEWED_BASE",
           "anisotropic_mixture", "build_cases", "run", "checks", "format_report", "main"]

TITLE = "Fitting with the defaults"
SUMMARY = (
    "fit_drift with default arguments (ridge and MLP) on 2-D Gaussian-mixture targets (8-ring; anisotropic, "
    "correlated, unequal-weight mixture from N(0, I), from a skewed Gaussian base, and with the trig interpolant): "
    "mean relative L2 error of b over t = 0.05..0.95 against the exact drift."
)

#: Case names, in report order.
CASES = ("ring", "mixture", "mixture_skewed_base", "mixture_trig")
#: Fitting methods.
METHODS = ("ridge", "mlp")

#: The non-standard Gaussian base of the skewed cases.
SKEWED_BASE = si_ref.Gaussian(np.array([0.5, -1.0]), np.array([[2.0, 0.6], [0.6, 0.5]]))

#: Default sizes: the bound of the issue, 3% mean relative error, for every case and method.
TOLERANCES: dict[str, tuple[str, float]] = {
    f"{case}_{method}_mean_relative_error": ("<=", 0.03) for case in CASES for method in METHODS
}

#: Quick sizes (QUICK: 12 000 pairs, 12 MLP epochs): ridge still within 6%, the barely trained MLP
#: within 35%, far below the error of a useless fit (a zero drift has relative error 1, a sign error 2).
QUICK_TOLERANCES: dict[str, tuple[str, float]] = {
    **{f"{case}_ridge_mean_relative_error": ("<=", 0.06) for case in CASES},
    **{f"{case}_mlp_mean_relative_error": ("<=", 0.35) for case in CASES},
}


def anisotropic_mixture() -> si_ref.GaussianMixture:
    """Six Gaussians with rotated covariances (standard deviations 0.1-0.7) and weights 0.08-0.3."""
    angles = np.array([0.3, 1.2, 2.0, 2.7, 0.9, 1.8])
    stds = np.array([[0.6, 0.15], [0.4, 0.1], [0.5, 0.2], [0.3, 0.12], [0.7, 0.25], [0.35, 0.1]])
    covs = []
    for angle, (major, minor) in zip(angles, stds):
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        covs.append(rotation @ np.diag([major**2, minor**2]) @ rotation.T)
    means = np.array([[-2.5, -1.0], [-1.0, 2.5], [1.5, 2.0], [3.0, -0.5], [0.5, -2.5], [0.0, 0.3]])
    return si_ref.GaussianMixture(np.array([0.3, 0.2, 0.15, 0.15, 0.12, 0.08]), means, np.stack(covs))


def build_cases() -> dict[str, si_ref.GaussianCase]:
    """The four cases of the module docstring, by name."""
    linear = si_ref.LinearInterpolant(si_ref.BrownianGamma())
    trig = si_ref.TrigInterpolant(si_ref.BrownianGamma())
    mixture = anisotropic_mixture()
    standard = si_ref.Gaussian(np.zeros(2), np.eye(2))
    return {
        "ring": build_case(),
        "mixture": si_ref.GaussianCase(linear, standard, mixture),
        "mixture_skewed_base": si_ref.GaussianCase(linear, SKEWED_BASE, mixture),
        "mixture_trig": si_ref.GaussianCase(trig, SKEWED_BASE, mixture),
    }


def _arguments(n_samples, mlp_epochs, n_eval, seed, tolerances):
    for name, value, lowest in (("n_samples", n_samples, 1000), ("mlp_epochs", mlp_epochs, 1), ("n_eval", n_eval, 10),
                                ("seed", seed, 0)):
        if value is None and name in ("n_samples", "mlp_epochs"):
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer; received {value!r} of type {type(value).__name__}.")
        if value < lowest:
            raise ValueError(f"{name} must be an integer >= {lowest}; received {name}={value!r}.")
    if tolerances not in ("default", "quick"):
        raise ValueError(f"tolerances must be 'default' or 'quick'; received {tolerances!r}.")


def run(out_dir, *, seed: int = 0, n_samples: int | None = None, mlp_epochs: int | None = None, n_eval: int = 4000,
        tolerances: str = "default") -> dict:
    r"""Fit b with the defaults for every case and method, write the figure, return the numbers.

    Parameters
    ----------
    out_dir : str or Path
        Folder for the PNG figure (created if missing).
    seed : int
        Seed of ``numpy.random.default_rng``, the only source of randomness.
    n_samples : int, optional
        Overrides the library's default number of antithetic pairs (None: the default).
    mlp_epochs : int, optional
        Overrides the default MLP epochs (None: the default).
    n_eval : int
        Points per time for the errors.
    tolerances : "default" or "quick"
        Which tolerances :func:`checks` applies; recorded in the results.

    Returns
    -------
    dict
        ``times``; per case and method ``"<case>_<method>"``: ``_relative_errors`` (list),
        ``_mean_relative_error``, ``_worst_relative_error``, ``_worst_time``, ``_fit_seconds``,
        ``_model``; ``"<case>_drift_norms"`` (E|b|² per t); ``sizes`` (the arguments used, None
        meaning the library default), ``tolerances``, ``tolerance_values`` (the bounds applied),
        ``figures``.
    """
    _arguments(n_samples, mlp_epochs, n_eval, seed, tolerances)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sizes = {"n_samples": n_samples, "mlp_epochs": mlp_epochs, "n_eval": n_eval}
    effective = dict(TOLERANCES, **(QUICK_TOLERANCES if tolerances == "quick" else {}))
    results: dict = {"times": list(TIMES), "sizes": sizes, "tolerances": tolerances,
                     "tolerance_values": {name: list(bound) for name, bound in effective.items()}}
    rng = np.random.default_rng(seed)
    for name, case in build_cases().items():
        for method in METHODS:
            key = f"{name}_{method}"
            options = {} if n_samples is None else {"n_samples": n_samples}
            if method == "mlp" and mlp_epochs is not None:
                options["epochs"] = mlp_epochs
            with task(f"fit_defaults {key}"):
                start = time.perf_counter()
                field = si_ref.fit_drift(case.interpolant, case.base, case.target, rng=rng, method=method, **options)
                seconds = time.perf_counter() - start
            rows = relative_errors(field, case, TIMES, n_eval, np.random.default_rng(seed + 1))  # same points per fit
            errors = [r for r, _, _ in rows]
            worst = int(np.argmax(errors))
            results[f"{key}_relative_errors"] = errors
            results[f"{key}_mean_relative_error"] = float(np.mean(errors))
            results[f"{key}_worst_relative_error"] = float(errors[worst])
            results[f"{key}_worst_time"] = float(TIMES[worst])
            results[f"{key}_fit_seconds"] = seconds
            results[f"{key}_model"] = _describe(field)
            results[f"{name}_drift_norms"] = [b for _, _, b in rows]
    results["figures"] = [_plot_errors(out, results)]
    return results


def _describe(field) -> str:
    if isinstance(field, si_ref.TimeSlicedRidge):
        features = field.slices_[0].features
        return (f"TimeSlicedRidge, {len(field.slices_)} slices, MixturePosteriorFeatures "
                f"({features.target.n_components} target components by BIC, {features.n_features} features per slice)")
    if isinstance(field, si_ref.MLPField):
        return repr(field)
    return type(field).__name__


def _plot_errors(out, results) -> str:
    fig = Figure(figsize=(3.3 * len(CASES), 3.2), layout="constrained")
    axes = fig.subplots(1, len(CASES), sharey=True)
    for ax, name in zip(axes, CASES):
        for method, marker in zip(METHODS, ("o", "s")):
            ax.semilogy(results["times"], results[f"{name}_{method}_relative_errors"], marker=marker, label=method)
        ax.axhline(0.03, color="0.5", linestyle="--", linewidth=0.8, label="3% (bound on the mean over t)")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("t")
    axes[0].set_ylabel(r"$\sqrt{E|\hat b - b|^2 / E|b|^2}$, $x \sim \rho_t$")
    axes[0].legend(fontsize=7)
    fig.suptitle("Relative L2 error of b fitted with the default arguments", fontsize=10)
    return save_figure(fig, out / "fit_defaults_errors.png", dpi=80)


def checks(results: dict) -> list[Check]:
    """Judge the mean relative errors against :data:`TOLERANCES` (:data:`QUICK_TOLERANCES` for a quick run)."""
    return evaluate(results, TOLERANCES, QUICK_TOLERANCES)


def format_report(results: dict) -> str:
    """Sizes and tolerances, the table of errors and fit times, the checks and the figure, as plain text."""
    sizes = results["sizes"]
    size_text = ", ".join(f"{k}={'library default' if v is None else v}" for k, v in sizes.items())
    lines = ["Drift fitted with the default arguments of si_ref.fit_drift vs the exact drift (2-D)", "",
             f"  sizes: {size_text}",
             f"  tolerances: {results['tolerances']}"
             + (" (QUICK_TOLERANCES: small sizes)" if results["tolerances"] == "quick" else ""),
             "", f"  {'case':<22} {'method':<6} {'mean':>8} {'worst':>8} {'at t':>5} {'fit s':>7}"]
    for name in CASES:
        for method in METHODS:
            key = f"{name}_{method}"
            lines.append(f"  {name:<22} {method:<6} {results[f'{key}_mean_relative_error']:8.4f} "
                         f"{results[f'{key}_worst_relative_error']:8.4f} {results[f'{key}_worst_time']:5.2f} "
                         f"{results[f'{key}_fit_seconds']:7.1f}")
    lines += ["  (fit times on whatever machine ran this, reported only; one BLAS thread unless the user chose)", "",
              "  per-time errors:", f"  {'case / method':<29} " + " ".join(f"{t:>6.2f}" for t in results["times"])]
    for name in CASES:
        for method in METHODS:
            lines.append(f"  {name + ' ' + method:<29} "
                         + " ".join(f"{e:6.3f}" for e in results[f"{name}_{method}_relative_errors"]))
    lines.append("")
    lines += [f"  {name}_{method}: {results[f'{name}_{method}_model']}" for name in CASES for method in METHODS]
    report = checks(results)
    lines += ["", f"  {'check':<46} {'value':>8}  {'tolerance':>9}  ok"]
    for c in report:
        lines.append(f"  {c.name:<46} {c.value:8.4f}  {c.tolerance[0]} {c.tolerance[1]:<6g}  "
                     f"{'PASS' if c.passed else 'FAIL'}")
    lines += report_footer(results, report)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the study, print the report; exit status 1 if any check fails."""
    return run_alone(sys.modules[__name__], argv, "Fit the drift with si_ref's default arguments; compare with exact.")


#: Small sizes for smoke tests (``--quick``).
QUICK = dict(n_samples=12_000, mlp_epochs=12, n_eval=400, tolerances="quick")


if __name__ == "__main__":
    sys.exit(main())
