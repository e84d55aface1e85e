r"""Benchmark 2 of issue 9: exact Gaussian-mixture fields, si_ref against PyTorch autograd, and cost scaling.

The case: linear interpolant :math:`x_t = (1 - t)\,x_0 + t\,x_1 + \gamma(t) z` with the
Brownian :math:`\gamma = \sqrt{t(1-t)}`, base :math:`N(0, I_d)`, target a mixture of K
Gaussians with random means and random SPD covariances, at the fixed time t = 0.4 and
N points drawn from :math:`\rho_t`. Both sides return the drift b and the score s:

* **si_ref**: :meth:`si_ref.GaussianCase.drift_and_score` (one evaluation for both).
  ``drift(x, t)`` followed by ``score(x, t)`` is timed as well (two evaluations).
* **PyTorch** (float64, CPU), what a careful user writes: the per-component
  :math:`\mu_k(t), \Sigma_k(t), K_k(t)` from the closed forms, ``torch.linalg.cholesky``,
  one batched ``torch.linalg.solve_triangular`` for :math:`L_k^{-1}(x - \mu_k)`, the
  mixture log-density by ``torch.logsumexp``, the **score by autograd** of its sum
  (``torch.autograd.grad``), and the drift from the same formulas,
  :math:`b = \sum_k r_k [\dot\mu_k + K_k \Sigma_k^{-1}(x - \mu_k)]` with
  :math:`r = \operatorname{softmax}` of the log-joint and a second triangular solve.
  It shares no code with si_ref, so the (untimed) agreement of the two is also a check
  of si_ref's fields; the table reports the largest absolute differences.

Timings follow :mod:`validation.benchmarks._common`: the two sides alternate, each
reported time is a median, the ratio is the median of the per-pair ratios. Alternating
has a cost on a machine with few cores: after each of its calls PyTorch's worker threads
keep spinning for a while and slow down the NumPy call that follows, so si_ref is also
timed alone (``si_ref alone ms``, no PyTorch call in between), with its ``drift`` and
``score`` called separately for comparison (two evaluations instead of one).

**Cost scaling** of ``drift_and_score`` (d = 2): time against N at 8 components and
against the number of components at fixed N, with the least-squares slope of
log(time) on log(size). The fit in N starts at N = 10^4, where the work dominates the
fixed cost of a call (validation and the per-block calls, about 0.05 ms), which would
otherwise flatten the slope at the small end; the slope over the whole sweep is in the
JSON file too. Every timing repeats the call at one t, so si_ref's per-time state (the
Cholesky factors, cached for the last t) is computed once: about 0.06 ms saved per call,
under 1% of any si_ref time in the comparison; PyTorch recomputes its factors each call.

Run: ``python -m si_ref.validation.benchmarks --only mixture_fields [--quick]``.
"""

from __future__ import annotations

import numpy as np

import si_ref

from ._common import TORCH_INSTALL, median_time, optional_torch, paired_timings, write_table

NAME = "mixture_fields"
TITLE = "Exact Gaussian-mixture fields, drift and score together: si_ref vs PyTorch autograd"
SCALING_NAME = "mixture_fields_scaling"

#: The time of every evaluation.
TIME = 0.4
#: (label, d, number of target components)
CASES = (("d=2, 8 components", 2, 8), ("d=16, 32 components", 16, 32))
SKIPPED = f"skipped: torch not installed; install with: {TORCH_INSTALL}"

FULL = {"n": 100_000, "repeats": {2: 21, 16: 5}, "warmup": {2: 3, 16: 1},
        "scaling_n": np.logspace(3.5, 5.5, 9), "scaling_fit_from_n": 10**4,
        "scaling_components": (4, 8, 16, 32, 64), "scaling_fixed_n": 100_000, "scaling_repeats": 7}
QUICK = {"n": 2_000, "repeats": {2: 3, 16: 3}, "warmup": {2: 1, 16: 1},
         "scaling_n": np.logspace(2.5, 3.5, 3), "scaling_fit_from_n": 10**2.5,
         "scaling_components": (2, 4, 8), "scaling_fixed_n": 2_000, "scaling_repeats": 3}


def mixture_case(d: int, components: int, seed: int = 0) -> si_ref.GaussianCase:
    """Linear interpolant, Brownian γ, base N(0, I_d), target: K components with random means and SPD covariances."""
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.full(components, 2.0))
    means = 3.0 * rng.standard_normal((components, d))
    factors = rng.standard_normal((components, d, d)) / np.sqrt(d)
    covs = factors @ np.swapaxes(factors, -1, -2) + 0.1 * np.eye(d)      # SPD, eigenvalues >= 0.1
    target = si_ref.GaussianMixture(weights, means, covs)
    return si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()), si_ref.Gaussian(np.zeros(d), np.eye(d)), target)


def points(case: si_ref.GaussianCase, n: int, t: float, seed: int = 1) -> np.ndarray:
    """n draws of x_t = (1 − t) x0 + t x1 + γ(t) z: points where ρ_t has its mass."""
    rng = np.random.default_rng(seed)
    x0, x1 = case.base.sample(n, rng), case.target.sample(n, rng)
    return case.interpolant.interpolant(t, x0, x1, rng.standard_normal((n, case.dim)))


def torch_drift_and_score(torch, target: si_ref.GaussianMixture, t: float):
    r"""The PyTorch version: ``fields(x) -> (drift, score)`` for x a float64 tensor (n, d).

    Written from the closed forms of the linear interpolant with Brownian γ and base
    N(0, I): :math:`\alpha = 1 - t`, :math:`\beta = t`, :math:`\gamma^2 = t(1 - t)`,
    :math:`\gamma\dot\gamma = (1 - 2t)/2`; component k has :math:`\mu_k = t m_k`,
    :math:`\dot\mu_k = m_k`, :math:`\Sigma_k = ((1-t)^2 + t(1-t)) I + t^2 S_k` and
    :math:`K_k = (-(1 - t) + (1 - 2t)/2) I + t S_k`.
    """
    f64 = torch.float64
    log_weights = torch.log(torch.tensor(target.weights, dtype=f64))     # torch.tensor copies (si_ref's are read-only)
    means = torch.tensor(target.means, dtype=f64)
    covs = torch.tensor(target.covs, dtype=f64)
    d = means.shape[1]
    eye = torch.eye(d, dtype=f64)
    half_d_log_2pi = 0.5 * d * float(np.log(2.0 * np.pi))

    def fields(x):
        mu, mu_dot = t * means, means                                       # (K, d)
        sigma = ((1 - t) ** 2 + t * (1 - t)) * eye + t**2 * covs            # (K, d, d)
        k_matrix = (-(1 - t) + 0.5 * (1 - 2 * t)) * eye + t * covs          # Cov(∂_t I + γ̇ z, x_t)
        chol = torch.linalg.cholesky(sigma)
        x = x.detach().requires_grad_(True)
        centred = (x.unsqueeze(0) - mu.unsqueeze(1)).transpose(1, 2)       # (K, d, n)
        y = torch.linalg.solve_triangular(chol, centred, upper=False)        # L⁻¹ (x − μ)
        half_log_det = torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
        log_joint = log_weights[:, None] - 0.5 * (y * y).sum(1) - half_log_det[:, None] - half_d_log_2pi
        log_density = torch.logsumexp(log_joint, dim=0)                      # (n,)
        (score,) = torch.autograd.grad(log_density.sum(), x)
        with torch.no_grad():
            r = torch.softmax(log_joint, dim=0)                              # (K, n)
            w = torch.linalg.solve_triangular(chol.transpose(1, 2), y, upper=True)   # Σ⁻¹ (x − μ)
            drift = torch.einsum("kn,kdn->nd", r, mu_dot[:, :, None] + k_matrix @ w)
        return drift, score

    return fields


def _fit_exponent(sizes, seconds) -> float:
    """Least-squares slope of log(seconds) against log(size)."""
    return float(np.polyfit(np.log(np.asarray(sizes, float)), np.log(np.asarray(seconds, float)), 1)[0])


def _comparison(torch, settings) -> tuple[list[dict], dict]:
    rows, agreement = [], {}
    n = settings["n"]
    for label, d, components in CASES:
        case = mixture_case(d, components)
        x = points(case, n, TIME)
        repeats, warmup = settings["repeats"][d], settings["warmup"][d]
        si_ref_call = lambda: case.drift_and_score(x, TIME)  # noqa: E731
        alone = median_time(si_ref_call, repeats=repeats, warmup=warmup)
        separate = median_time(lambda: (case.drift(x, TIME), case.score(x, TIME)), repeats=repeats, warmup=warmup)
        row = {"case": label, "N": n}
        if torch is None:
            row.update({"si_ref ms": 1e3 * alone, "torch ms": SKIPPED, "ratio si_ref/torch": SKIPPED})
            diff_drift = diff_score = SKIPPED
        else:
            fields = torch_drift_and_score(torch, case.target, TIME)
            x_torch = torch.from_numpy(x)
            drift, score = case.drift_and_score(x, TIME)                  # agreement: untimed
            torch_drift, torch_score = (v.detach().numpy() for v in fields(x_torch))
            diff_drift = float(np.max(np.abs(drift - torch_drift)))
            diff_score = float(np.max(np.abs(score - torch_score)))
            agreement[label] = {"drift": diff_drift, "score": diff_score,
                                "max abs drift": float(np.max(np.abs(drift))), "max abs score": float(np.max(np.abs(score)))}
            timing = paired_timings(si_ref_call, lambda: fields(x_torch), repeats=repeats, warmup=warmup)
            row.update({"si_ref ms": 1e3 * timing["a_seconds"], "torch ms": 1e3 * timing["b_seconds"],
                        "ratio si_ref/torch": timing["ratio"]})
        row.update({"si_ref alone ms": 1e3 * alone, "si_ref drift(); score() alone ms": 1e3 * separate,
                    "max abs diff drift": diff_drift, "max abs diff score": diff_score})
        rows.append(row)
    return rows, agreement


def _scaling(settings) -> tuple[list[dict], dict]:
    rows = []
    repeats = settings["scaling_repeats"]
    case = mixture_case(2, 8)
    for n in np.unique(np.round(settings["scaling_n"]).astype(int)):
        x = points(case, int(n), TIME)
        seconds = median_time(lambda: case.drift_and_score(x, TIME), repeats=repeats)
        rows.append({"sweep": "N", "d": 2, "components": 8, "N": int(n), "ms": 1e3 * seconds,
                     "ns per point and component": 1e9 * seconds / (n * 8)})
    fixed_n = settings["scaling_fixed_n"]
    for components in settings["scaling_components"]:
        case = mixture_case(2, components)
        x = points(case, fixed_n, TIME)
        seconds = median_time(lambda: case.drift_and_score(x, TIME), repeats=repeats)
        rows.append({"sweep": "components", "d": 2, "components": components, "N": fixed_n, "ms": 1e3 * seconds,
                     "ns per point and component": 1e9 * seconds / (fixed_n * components)})
    in_n = [r for r in rows if r["sweep"] == "N" and r["N"] >= settings["scaling_fit_from_n"]]
    in_k = [r for r in rows if r["sweep"] == "components"]
    fits = {
        "exponent_in_N": _fit_exponent([r["N"] for r in in_n], [r["ms"] for r in in_n]),
        "N_range": [in_n[0]["N"], in_n[-1]["N"]],
        "exponent_in_N_whole_sweep": _fit_exponent([r["N"] for r in rows if r["sweep"] == "N"],
                                                   [r["ms"] for r in rows if r["sweep"] == "N"]),
        "exponent_in_components": _fit_exponent([r["components"] for r in in_k], [r["ms"] for r in in_k]),
        "components_range": [in_k[0]["components"], in_k[-1]["components"]],
        "components_fixed_N": fixed_n,
    }
    return rows, fits


def run(out_dir, *, quick: bool = False) -> str:
    """Measure, write ``mixture_fields`` and ``mixture_fields_scaling`` (JSON and Markdown); return the Markdown."""
    settings = QUICK if quick else FULL
    command = "python -m si_ref.validation.benchmarks --only mixture_fields" + (" --quick" if quick else "")
    torch = optional_torch()
    rows, agreement = _comparison(torch, settings)
    title = TITLE + (f" ({SKIPPED})" if torch is None else f" (t = {TIME}, float64)")
    extra = {"time": TIME, "agreement": agreement, "skipped": SKIPPED if torch is None else None}
    text = write_table(out_dir, NAME, title, rows, command=command, extra=extra)
    scaling_rows, fits = _scaling(settings)
    scaling_title = (f"Cost scaling of si_ref drift_and_score (d = 2, t = {TIME}): exponent "
                     f"{fits['exponent_in_N']:.2f} in N (fit over N = {fits['N_range'][0]}...{fits['N_range'][1]}, "
                     f"8 components), {fits['exponent_in_components']:.2f} in the number of components "
                     f"(fit over {fits['components_range'][0]}...{fits['components_range'][1]} at N = {fits['components_fixed_N']})")
    text += "\n" + write_table(out_dir, SCALING_NAME, scaling_title, scaling_rows, command=command, extra={"fits": fits})
    return text
