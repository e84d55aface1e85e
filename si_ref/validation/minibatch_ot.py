r"""Minibatch OT against the exact OT coupling: how the coupling and its drift converge with the batch size.

Conventions as in the README's "Conventions" (t = 0 is the base, t = 1 the target). Base
:math:`\mu = N(0, I_2)`, target :math:`\nu = N(m_1, S_1)` with :math:`m_1 = (1, -\tfrac12)` and the full
covariance :math:`S_1 = [[2, 0.9], [0.9, 0.8]]`; the interpolant is linear with :math:`\gamma = 0`
(:math:`x_t = (1-t)x_0 + t x_1`, the setting of OT-CFM, Tong et al. 2023, and multisample flow
matching, Pooladian et al. 2023).

**The minibatch coupling.** For a batch size B, draw B base and B target points, pair them by the
optimal assignment (:func:`si_ref.couplings.minibatch_ot_pairs`), and take a uniformly random pair:
this defines a coupling :math:`\pi_B` of :math:`\mu` and :math:`\nu` (the marginals are exact). B = 1
is the independent coupling; as B grows :math:`\pi_B` approaches the OT coupling
:math:`x_1 = T(x_0)` (:class:`si_ref.couplings.GaussianOTMap`).

**What is measured, for B = 1, 2, 4, ..., ``max_batch``:**

* :math:`\|C_B - C_{OT}\|_F`, the error of the cross-covariance :math:`C_B = \operatorname{Cov}_{\pi_B}(x_0, x_1)`.
* The drift error :math:`\int_0^1 E_{x\sim\rho_t^{OT}} |b_B(x, t) - b_{OT}(x, t)|^2\,dt`, where
  :math:`b_B = \dot\mu + K_B\Sigma_B^{-1}(x - \mu)` is the population best *affine* drift of the
  minibatch coupling. An affine regression depends only on first and second moments, and those of
  :math:`(x_0, x_1)` under :math:`\pi_B` are :math:`m_0, m_1, S_0, S_1, C_B`, so :math:`b_B` is exactly
  the drift of ``GaussianCase(interpolant, base, target, cross_cov=C_B)`` (a check confirms the
  formulas used here against ``GaussianCase.drift``); :math:`b_{OT}` is the exact OT drift, the
  displacement-interpolation velocity. The expectation over :math:`x \sim \rho^{OT}_t` is exact
  (:math:`\operatorname{tr}(D\Sigma_{OT}D^\top)` with :math:`D = K_B\Sigma_B^{-1} - K_{OT}\Sigma_{OT}^{-1}`),
  the time integral a 24-point Gauss-Legendre rule. It is also reported relative to the
  independent coupling's drift error (C = 0).
* The pairs' transport cost :math:`E_{\pi_B}|x_0 - x_1|^2` against :math:`W_2^2`. For any coupling with
  these marginals the excess is :math:`-2\operatorname{tr}(C_B - C_{OT})`; it is reported both from
  the pairs directly (mean squared distance minus :math:`W_2^2`) and through :math:`C_B`.
* Fitted rates: the slopes of :math:`\log\|C_B - C_{OT}\|_F` and :math:`\log(\text{drift error})`
  against :math:`\log B` over :math:`B \ge 4`.

**Estimating** :math:`C_B`. Each batch gives :math:`Y_b = \tfrac1B\sum_i (x_{0,i} - m_0)(x_{1,\sigma(i)} - m_1)^\top`
and :math:`C_B = E[Y_b]`. Its batch-to-batch spread is of order :math:`B^{-1/2}` (the batch's own
empirical covariances fluctuate), so the plain mean has a standard error of order
:math:`N^{-1/2}` for N pairs whatever B, as large as the signal at B ~ 1000. For
:math:`B \ge 8` a control variate removes most of it: the same batch's *Gaussian* OT pairing,
:math:`X_b = (\hat m_0 - m_0)(\hat m_1 - m_1)^\top + \hat S_0 \hat A_b` (:math:`\hat m, \hat S` the
batch means and covariances, :math:`\hat A_b` the OT matrix between :math:`N(\cdot, \hat S_0)` and
:math:`N(\cdot, \hat S_1)`), whose expectation :math:`E[\hat S_0 \hat A_b]` is computed separately by
Monte Carlo over independent Wishart matrices :math:`B\hat S_j \sim W(S_j, B - 1)` (cheap: no
assignment), so :math:`C_B = E[Y_b - X_b] + E[X_b]` without bias. Standard errors combine both parts.

**Optional peer.** When POT is installed (``pip install pot``), entropic minibatch pairing
(``ot.sinkhorn`` with ``reg`` = ε = 0.5 on squared distances; the cross-covariance of each
batch plan :math:`\sum_{ij}\pi_{ij}(x_{0,i} - m_0)(x_{1,j} - m_1)^\top`) is compared with the exact
entropic coupling :func:`si_ref.couplings.entropic_cross_cov` and reported, unchecked; otherwise
that part is skipped. si_ref itself never imports POT.

Checks (:data:`TOLERANCES`): B = 1 is the independent coupling (every entry of :math:`C_1` within 4 SE
of 0, its cost within 4 SE of :math:`|m_0 - m_1|^2 + \operatorname{tr}S_0 + \operatorname{tr}S_1`);
no batch size beats :math:`W_2^2` (direct excess cost at least -4 SE); the C error never increases
by more than 2 SE from one B to the next; the fitted rates are at most -0.5 (C error, measured
about -0.75) and -1.0 (drift error, measured about -1.5); at the largest B (1024 by default),
:math:`\|C_B - C_{OT}\|_F \le 0.03` (measured 0.013 - 0.015 for seeds 0 - 2), the drift error
is at most 1e-3 of the independent coupling's (measured about 7e-5), and the excess cost is at
most 0.1 (measured 0.035 - 0.04); the affine drift formulas agree with ``GaussianCase.drift`` to 1e-10.

Run from the repository root::

    python -m si_ref.validation.minibatch_ot --out DIR [--quick] [--seed S]
"""

from __future__ import annotations

import importlib
import sys
import warnings
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from scipy.optimize import linear_sum_assignment
from scipy.stats import wishart

from si_ref.couplings import GaussianOTMap, coupling_cost, entropic_cross_cov
from si_ref.distributions import Gaussian
from si_ref.gaussian import GaussianCase
from si_ref.interpolants import LinearInterpolant
from si_ref.progress import task
from si_ref.schedules import ZeroGamma
from si_ref.validation._common import Check, check_table, evaluate, report_footer, run_alone, save_figure

__all__ = [
    "TITLE", "SUMMARY", "QUICK", "QUICK_TOLERANCES", "TOLERANCES", "DESCRIPTIONS", "Check",
    "BASE", "TARGET", "batch_sizes", "affine_drift_matrix", "drift_error", "run", "checks",
    "format_report", "main",
]

TITLE = "Minibatch OT vs exact OT"
SUMMARY = (
    "The minibatch OT coupling (optimal assignment within batches of size B) approaches the exact Gaussian OT "
    "coupling as B grows from 1 to 1024 in d = 2: the cross-covariance error, the drift error of the best "
    "affine drift (exact Gaussian expectations) and the excess transport cost over W2^2 decrease at fitted "
    "rates, B = 1 is the independent coupling, no B beats W2^2; entropic minibatch pairing (POT) is reported "
    "against the closed-form entropic coupling when POT is installed."
)

BASE = Gaussian(np.zeros(2), np.eye(2))
TARGET = Gaussian(np.array([1.0, -0.5]), np.array([[2.0, 0.9], [0.9, 0.8]]))
INTERPOLANT = LinearInterpolant(ZeroGamma())
#: Smallest batch size using the control variate (the batch covariances must be invertible).
CONTROL_VARIATE_MIN_BATCH = 8
#: Batches per batch size at least (for a standard error), whatever n_pairs.
MIN_BATCHES = 8
#: Nodes of the Gauss-Legendre rule for the time integral of the drift error.
TIME_NODES = 24
#: Smallest batch size in the rate fits.
RATE_MIN_BATCH = 4
#: Entropic minibatch (POT only): ε and the smallest batch size used (Sinkhorn converges slowly on
#: tiny batches, whose plans are nearly permutations at this ε, and the calls are many).
ENTROPIC_EPSILON = 0.5
ENTROPIC_MIN_BATCH = 32

#: Keyword arguments of run() for a small, fast run (si-ref validate --quick).
QUICK = dict(max_batch=64, n_pairs=2048, n_wishart=4000, tolerances="quick")

#: Acceptance bounds: name -> (comparison, bound).
TOLERANCES: dict[str, tuple[str, float]] = {
    "independent_cross_cov_max_z": ("<=", 4.0),
    "independent_cost_z": ("<=", 4.0),
    "excess_cost_min_z": (">=", -4.0),
    "cross_cov_error_increases": ("<=", 0.0),
    "cross_cov_error_rate": ("<=", -0.5),
    "drift_error_rate": ("<=", -1.0),
    "cross_cov_error_largest_batch": ("<=", 0.03),
    "drift_error_ratio_largest_batch": ("<=", 1e-3),
    "excess_cost_largest_batch": ("<=", 0.1),
    "drift_formula_max_abs_error": ("<=", 1e-10),
}
#: At the QUICK sizes the largest batch is 64 (measured C error about 0.12, drift ratio about 5e-3, excess 0.3).
QUICK_TOLERANCES: dict[str, tuple[str, float]] = {
    "cross_cov_error_largest_batch": ("<=", 0.2),
    "drift_error_ratio_largest_batch": ("<=", 2e-2),
    "excess_cost_largest_batch": ("<=", 0.5),
}

#: One line per measured number, for the printed table (per-B numbers are added by run()).
DESCRIPTIONS: dict[str, str] = {
    "w2_squared": "W2^2 between base and target (exact)",
    "independent_cross_cov_max_z": "B = 1: max |C_1 entry| / SE (independent: C = 0)",
    "independent_cost_z": "B = 1: |cost - independent cost| / SE",
    "excess_cost_min_z": "min over B of (pair cost - W2^2) / SE",
    "cross_cov_error_increases": "steps in B where ||C_B - C_OT|| rises > 2 SE",
    "cross_cov_error_rate": "fitted slope of log ||C_B - C_OT||_F vs log B",
    "drift_error_rate": "fitted slope of log drift error vs log B",
    "excess_cost_rate": "fitted slope of log excess cost (via C_B) vs log B",
    "cross_cov_error_largest_batch": "largest B: ||C_B - C_OT||_F",
    "cross_cov_se_largest_batch": "largest B: standard error of ||C_B - C_OT||_F",
    "drift_error_largest_batch": "largest B: int E|b_B - b_OT|^2 dt",
    "drift_error_independent": "independent coupling: int E|b_0 - b_OT|^2 dt",
    "drift_error_ratio_largest_batch": "largest B: drift error / independent's",
    "excess_cost_largest_batch": "largest B: excess cost -2 tr(C_B - C_OT)",
    "drift_formula_max_abs_error": "affine drift formulas vs GaussianCase.drift",
}


def batch_sizes(max_batch: int) -> list[int]:
    """1, 2, 4, ..., max_batch (a power of two)."""
    return [2**k for k in range(int(np.log2(max_batch)) + 1)]


# --- exact Gaussian quantities ------------------------------------------------------------------

def affine_drift_matrix(cross_cov, t) -> np.ndarray:
    r""":math:`K\Sigma^{-1}` of the linear interpolant with :math:`\gamma = 0` between :data:`BASE` and :data:`TARGET`.

    :math:`\Sigma = (1-t)^2 S_0 + t^2 S_1 + t(1-t)(C + C^\top)`,
    :math:`K = -(1-t)S_0 + t S_1 - tC + (1-t)C^\top` (the Gaussian-case formulas of :mod:`si_ref.gaussian`, with
    :math:`\alpha = 1 - t, \beta = t`), so :math:`b(x) = \dot\mu + K\Sigma^{-1}(x - \mu)`. Any C for
    which Σ is positive definite (a slightly infeasible estimate included). Shape (d, d).
    """
    s0, s1, c = BASE.cov, TARGET.cov, np.asarray(cross_cov)
    sigma = (1 - t) ** 2 * s0 + t**2 * s1 + t * (1 - t) * (c + c.T)
    k = -(1 - t) * s0 + t * s1 - t * c + (1 - t) * c.T
    return np.linalg.solve(sigma, k.T).T                # K Σ⁻¹ = (Σ⁻¹ Kᵀ)ᵀ, Σ symmetric


def _sigma(cross_cov, t):
    c = np.asarray(cross_cov)
    return (1 - t) ** 2 * BASE.cov + t**2 * TARGET.cov + t * (1 - t) * (c + c.T)


def drift_error(cross_cov, reference_cross_cov, *, per_time=False):
    r""":math:`\int_0^1 E_{x\sim\rho_t}|b_C - b_{C_{ref}}|^2 dt`, x distributed as under the reference coupling.

    The means of both drifts agree (same marginals), so the error at t is
    :math:`\operatorname{tr}(D\Sigma_{ref}D^\top)`, :math:`D = K\Sigma^{-1}|_C - K\Sigma^{-1}|_{C_{ref}}`.
    Gauss-Legendre with :data:`TIME_NODES` nodes. With ``per_time=True`` returns (integral, nodes, values).
    """
    nodes, weights = np.polynomial.legendre.leggauss(TIME_NODES)
    t_nodes, w_nodes = 0.5 * (nodes + 1), 0.5 * weights
    values = np.empty(TIME_NODES)
    for k, t in enumerate(t_nodes):
        d = affine_drift_matrix(cross_cov, t) - affine_drift_matrix(reference_cross_cov, t)
        values[k] = np.trace(d @ _sigma(reference_cross_cov, t) @ d.T)
    integral = float(w_nodes @ values)
    return (integral, t_nodes, values) if per_time else integral


def _drift_formula_error(c_ot) -> float:
    """max |affine drift here - GaussianCase.drift| for the OT, independent and an entropic coupling."""
    x = np.random.default_rng(12345).normal(size=(20, 2)) * 1.5 + 0.5
    worst = 0.0
    for c in (c_ot, np.zeros((2, 2)), entropic_cross_cov(BASE, TARGET, 1.0)):
        case = GaussianCase(INTERPOLANT, BASE, TARGET, cross_cov=c)
        for t in (0.0, 0.3, 0.7, 1.0):
            mean = (1 - t) * BASE.mean + t * TARGET.mean
            ours = (TARGET.mean - BASE.mean) + (x - mean) @ affine_drift_matrix(c, t).T
            worst = max(worst, float(np.max(np.abs(ours - case.drift(x, t)))))
    return worst


# --- batch statistics --------------------------------------------------------------------------

def _ot_cross_of_covs(s0, s1):
    """S0 A for stacks of SPD matrices (k, d, d): S0^{1/2} (S0^{1/2} S1 S0^{1/2})^{1/2} S0^{-1/2}, by eigh."""
    def root(s):
        w, v = np.linalg.eigh(s)
        return (v * np.sqrt(np.maximum(w, 0.0))[..., None, :]) @ np.swapaxes(v, -1, -2), \
            (v / np.sqrt(w)[..., None, :]) @ np.swapaxes(v, -1, -2)
    r, r_inv = root(s0)
    m, _ = root(r @ s1 @ r)
    return r @ m @ r_inv


def _batch_statistics(x0, x1, paired):
    """Per batch (k, d, d): Y_b of the pairs and the control variate X_b (batch Gaussian OT); plus per-batch costs."""
    b = x0.shape[1]
    y = np.einsum("kbi,kbj->kij", x0 - BASE.mean, paired - TARGET.mean) / b
    cost = np.mean(np.sum((x0 - paired) ** 2, axis=2), axis=1)
    if b < CONTROL_VARIATE_MIN_BATCH:
        return y, None, cost
    m0, m1 = x0.mean(axis=1), x1.mean(axis=1)
    s0 = np.einsum("kbi,kbj->kij", x0 - m0[:, None], x0 - m0[:, None]) / b
    s1 = np.einsum("kbi,kbj->kij", x1 - m1[:, None], x1 - m1[:, None]) / b
    x = np.einsum("ki,kj->kij", m0 - BASE.mean, m1 - TARGET.mean) + _ot_cross_of_covs(s0, s1)
    return y, x, cost


def _control_mean(b, n_wishart, rng):
    """Monte Carlo mean and SE of E[S0hat Ahat] with B Shat_j ~ Wishart(S_j, B - 1) independent (k, d, d)."""
    s0 = wishart.rvs(b - 1, BASE.cov / b, size=n_wishart, random_state=rng)
    s1 = wishart.rvs(b - 1, TARGET.cov / b, size=n_wishart, random_state=rng)
    values = _ot_cross_of_covs(s0, s1)
    return values.mean(axis=0), values.std(axis=0, ddof=1) / np.sqrt(n_wishart)


def _pair_batches(x0, x1):
    """Minibatch OT pairing of each batch (k, B, d): the assignment maximising the inner products."""
    paired = np.empty_like(x1)
    for k in range(x0.shape[0]):
        rows, columns = linear_sum_assignment(x0[k] @ x1[k].T, maximize=True)
        paired[k, rows] = x1[k, columns]
    return paired


def _measure_batch_size(b, n_pairs, n_wishart, rng, c_ot, w2):
    """Everything measured at one batch size: a dict of numbers (float) and arrays."""
    n_batches = max(MIN_BATCHES, n_pairs // b)
    x0 = BASE.sample(n_batches * b, rng).reshape(n_batches, b, 2)
    x1 = TARGET.sample(n_batches * b, rng).reshape(n_batches, b, 2)
    paired = x1 if b == 1 else _pair_batches(x0, x1)
    y, x, cost = _batch_statistics(x0, x1, paired)
    if x is None:
        estimate, variance = y.mean(axis=0), y.var(axis=0, ddof=1) / n_batches
    else:
        control, control_se = _control_mean(b, n_wishart, rng)
        difference = y - x
        estimate = difference.mean(axis=0) + control
        variance = difference.var(axis=0, ddof=1) / n_batches + control_se**2
    error_matrix = estimate - c_ot
    error = float(np.linalg.norm(error_matrix))
    # SE of the Frobenius norm by the delta method: sqrt(sum (e_ij / |e|)^2 var_ij)
    error_se = float(np.sqrt(np.sum((error_matrix / max(error, 1e-300)) ** 2 * variance)))
    direct_excess = cost - w2
    return dict(
        n_batches=n_batches, cross_cov=estimate, cross_cov_se=np.sqrt(variance),
        cross_cov_error=error, cross_cov_error_se=error_se,
        drift_error=drift_error(estimate, c_ot),
        excess_cost=float(-2.0 * np.trace(error_matrix)),
        excess_cost_se=float(2.0 * np.sqrt(np.sum(np.diag(variance)))),
        direct_excess_cost=float(direct_excess.mean()),
        direct_excess_cost_se=float(direct_excess.std(ddof=1) / np.sqrt(n_batches)),
        cost=float(cost.mean()), cost_se=float(cost.std(ddof=1) / np.sqrt(n_batches)),
    )


def _import_pot():
    """POT's ``ot`` module, imported only here and only for this optional part; None when not installed."""
    try:
        return importlib.import_module("ot")
    except ImportError:
        return None


def _entropic_minibatch(sizes, n_pairs, rng):
    """Entropic minibatch cross-covariance errors vs the exact entropic coupling (POT), or None without POT.

    Each batch's plan comes from ``ot.sinkhorn`` (``reg`` = :data:`ENTROPIC_EPSILON`, squared Euclidean
    costs; the exponential-domain iterations are safe here, the costs staying below about 100 ε); a
    plan whose iterations stop (1000) before the marginal error reaches 1e-7 is counted in the note.
    """
    ot = _import_pot()
    if ot is None:
        return None
    c_eps = entropic_cross_cov(BASE, TARGET, ENTROPIC_EPSILON)
    out, unconverged = {}, 0
    for b in [s for s in sizes if s >= ENTROPIC_MIN_BATCH]:
        n_batches = max(MIN_BATCHES, n_pairs // b)
        per_batch = np.empty((n_batches, 2, 2))
        uniform = np.full(b, 1.0 / b)
        for k in range(n_batches):
            x0, x1 = BASE.sample(b, rng), TARGET.sample(b, rng)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                plan = ot.sinkhorn(uniform, uniform, ot.dist(x0, x1), reg=ENTROPIC_EPSILON, method="sinkhorn",
                                   numItermax=1000, stopThr=1e-7)
            unconverged += any("did not converge" in str(w.message) for w in caught)
            per_batch[k] = (x0 - BASE.mean).T @ plan @ (x1 - TARGET.mean)
        estimate = per_batch.mean(axis=0)
        se = per_batch.std(axis=0, ddof=1) / np.sqrt(n_batches)
        error = float(np.linalg.norm(estimate - c_eps))
        out[b] = (error, float(np.sqrt(np.sum(((estimate - c_eps) / max(error, 1e-300)) ** 2 * se**2))))
    return {"version": str(ot.__version__), "errors": out, "unconverged": unconverged}


def _fitted_slope(sizes, values):
    sizes, values = np.asarray(sizes, float), np.asarray(values, float)
    keep = (sizes >= RATE_MIN_BATCH) & (values > 0)
    return float(np.polyfit(np.log(sizes[keep]), np.log(values[keep]), 1)[0])


# --- figure ---------------------------------------------------------------------------------------

def _plot(out, sizes, per_size, rates, independent_drift, entropic, c_ot) -> str:
    """minibatch_ot.png: C error, drift error, excess cost vs B, and the drift error over t."""
    b = np.asarray(sizes, float)
    fig = Figure(figsize=(12, 8.4), layout="constrained")
    (ax_c, ax_b), (ax_cost, ax_t) = fig.subplots(2, 2)
    err = np.array([per_size[s]["cross_cov_error"] for s in sizes])
    err_se = np.array([per_size[s]["cross_cov_error_se"] for s in sizes])
    ax_c.errorbar(b, err, yerr=2 * err_se, fmt="o-", color="tab:blue", capsize=3,
                  label=rf"minibatch OT $\pm$ 2 SE (rate {rates['cross_cov_error_rate']:.2f})")
    fit = b >= RATE_MIN_BATCH
    ax_c.loglog(b[fit], err[fit][0] * (b[fit] / b[fit][0]) ** rates["cross_cov_error_rate"], ":", color="tab:blue")
    if entropic:
        eb = sorted(entropic["errors"])
        ax_c.errorbar(eb, [entropic["errors"][s][0] for s in eb], yerr=[2 * entropic["errors"][s][1] for s in eb],
                      fmt="s-", color="tab:purple", capsize=3,
                      label=rf"entropic minibatch (POT), $\varepsilon = {ENTROPIC_EPSILON}$: vs exact $C_\varepsilon$")
    else:
        ax_c.text(0.03, 0.04, "entropic minibatch: skipped (POT is not installed)", transform=ax_c.transAxes,
                  fontsize=8, color="0.4")
    ax_c.set_xscale("log", base=2)
    ax_c.set_yscale("log")
    ax_c.set_xlabel("batch size B")
    ax_c.set_ylabel(r"$\|C_B - C_{OT}\|_F$ (entropic: $\|C_B^\varepsilon - C_\varepsilon\|_F$)")
    ax_c.set_title("cross-covariance of the minibatch coupling", fontsize=10)
    ax_c.legend(fontsize=8)
    drift = np.array([per_size[s]["drift_error"] for s in sizes])
    ax_b.loglog(b, drift, "o-", color="tab:green", label=f"minibatch OT (rate {rates['drift_error_rate']:.2f})")
    ax_b.loglog(b[fit], drift[fit][0] * (b[fit] / b[fit][0]) ** rates["drift_error_rate"], ":", color="tab:green")
    ax_b.axhline(independent_drift, color="0.5", linestyle="--", label="independent coupling (C = 0, exact)")
    ax_b.set_xscale("log", base=2)
    ax_b.set_xlabel("batch size B")
    ax_b.set_ylabel(r"$\int_0^1 E_{\rho_t^{OT}}|b_B - b_{OT}|^2\,dt$")
    ax_b.set_title(r"best affine drift of the minibatch coupling vs exact OT drift ($\gamma = 0$)", fontsize=10)
    ax_b.legend(fontsize=8)
    excess = np.array([per_size[s]["excess_cost"] for s in sizes])
    excess_se = np.array([per_size[s]["excess_cost_se"] for s in sizes])
    direct = np.array([per_size[s]["direct_excess_cost"] for s in sizes])
    direct_se = np.array([per_size[s]["direct_excess_cost_se"] for s in sizes])
    ax_cost.errorbar(b, excess, yerr=2 * excess_se, fmt="o-", color="tab:orange", capsize=3,
                     label=r"$-2\,\mathrm{tr}(C_B - C_{OT})$ (control variate) $\pm$ 2 SE")
    ax_cost.errorbar(b * 1.08, direct, yerr=2 * direct_se, fmt="x", color="0.3", capsize=2,
                     label=r"mean $|x_0 - x_1|^2 - W_2^2$ of the pairs $\pm$ 2 SE")
    ax_cost.set_xscale("log", base=2)
    ax_cost.set_yscale("symlog", linthresh=1e-2)
    ax_cost.axhline(0.0, color="0.6", linewidth=0.8)
    ax_cost.set_xlabel("batch size B")
    ax_cost.set_ylabel(r"$E_{\pi_B}|x_0 - x_1|^2 - W_2^2$")
    ax_cost.set_title("excess transport cost (no coupling can be below 0)", fontsize=10)
    ax_cost.legend(fontsize=8)
    for s, color in zip([s for s in sizes if s in (1, 4, 16, 64, 256, 1024)], ("0.5", "tab:red", "tab:orange",
                                                                             "tab:olive", "tab:cyan", "tab:blue")):
        _, t_nodes, values = drift_error(per_size[s]["cross_cov"], c_ot, per_time=True)
        ax_t.semilogy(t_nodes, values, "o-", markersize=3, color=color, label=f"B = {s}")
    low, high = ax_t.get_ylim()
    ax_t.set_ylim(low / 30, high)                                   # room for the legend below the curves
    ax_t.set_xlabel("t")
    ax_t.set_ylabel(r"$E_{\rho_t^{OT}}|b_B - b_{OT}|^2$")
    ax_t.set_title("drift error over time", fontsize=10)
    ax_t.legend(fontsize=8, loc="lower left", ncol=3)
    fig.suptitle(r"Minibatch OT pairing, $N(0, I_2) \to N(m_1, S_1)$ in d = 2: convergence to the exact OT coupling "
                 rf"($W_2^2$ = {coupling_cost(BASE, TARGET, c_ot):.4f})", fontsize=11)
    return save_figure(fig, Path(out) / "minibatch_ot.png")


# --- the study ------------------------------------------------------------------------------------

def _check_arguments(seed, max_batch, n_pairs, n_wishart, tolerances):
    checked = []
    for name, value, lowest, meaning in (
            ("seed", seed, 0, "the seed of numpy.random.SeedSequence"),
            ("max_batch", max_batch, 8, "the largest batch size, a power of two"),
            ("n_pairs", n_pairs, 64, "pairs per batch size"),
            ("n_wishart", n_wishart, 100, "Wishart draws for the control variate's mean")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer ({meaning}); received {value!r} of type {type(value).__name__}.")
        if value < lowest:
            raise ValueError(f"{name} must be an integer >= {lowest} ({meaning}); received {name}={value!r}.")
        checked.append(int(value))
    if checked[1] & (checked[1] - 1):
        raise ValueError(f"max_batch must be a power of two (batch sizes 1, 2, 4, ...); received max_batch={max_batch}.")
    if tolerances not in ("default", "quick"):
        raise ValueError(f"tolerances must be 'default' or 'quick'; received {tolerances!r}.")
    return tuple(checked)


def run(out_dir, *, seed: int = 0, max_batch: int = 1024, n_pairs: int = 8192, n_wishart: int = 20000,
        tolerances: str = "default") -> dict:
    r"""Run the study, write its figure into ``out_dir`` and return the measured numbers.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Folder for the PNG figure (created if missing).
    seed : int
        Seed of ``numpy.random.SeedSequence``.
    max_batch : int
        Largest batch size, a power of two >= 8 (default 1024); B = 1, 2, 4, ..., max_batch.
    n_pairs : int
        Pairs per batch size (at least :data:`MIN_BATCHES` batches each; default 8192).
    n_wishart : int
        Wishart draws for the mean of the control variate, per batch size (default 20000).
    tolerances : {"default", "quick"}
        Recorded as ``results["tolerances"]``; "quick" applies :data:`QUICK_TOLERANCES`.

    Returns
    -------
    dict
        Every key of :data:`DESCRIPTIONS` (floats), per-B numbers ``cross_cov_error_B{B}``,
        ``cross_cov_error_se_B{B}``, ``drift_error_B{B}``, ``excess_cost_B{B}``, ``direct_excess_cost_B{B}``,
        the entropic numbers ``entropic_error_B{B}`` when POT is installed, ``"entropic_peer"`` (a
        note), ``"tolerances"`` and ``"figures"``. Deterministic for a given seed.

    Raises
    ------
    TypeError, ValueError
        For arguments that are not integers, below their minimum, or max_batch not a power of two.
    """
    seed, max_batch, n_pairs, n_wishart = _check_arguments(seed, max_batch, n_pairs, n_wishart, tolerances)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sizes = batch_sizes(max_batch)
    rng_pairs, rng_entropic = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    ot_map = GaussianOTMap(BASE, TARGET)
    c_ot, w2 = ot_map.cross_cov, ot_map.w2_squared
    results: dict = {"w2_squared": w2, "drift_formula_max_abs_error": _drift_formula_error(c_ot)}
    per_size = {}
    with task("minibatch_ot", total=len(sizes) + 1, unit="part") as progress:
        for b in sizes:
            per_size[b] = _measure_batch_size(b, n_pairs, n_wishart, rng_pairs, c_ot, w2)
            progress.advance(detail=f"B = {b} done")
        entropic = _entropic_minibatch(sizes, n_pairs, rng_entropic)
        progress.advance(detail="entropic minibatch " + ("done" if entropic else "skipped (no POT)"))

    independent_cost = coupling_cost(BASE, TARGET, np.zeros((2, 2)))
    one = per_size[1]
    results["independent_cross_cov_max_z"] = float(np.max(np.abs(one["cross_cov"]) / one["cross_cov_se"]))
    results["independent_cost_z"] = abs(one["cost"] - independent_cost) / one["cost_se"]
    results["excess_cost_min_z"] = float(min(per_size[b]["direct_excess_cost"] / per_size[b]["direct_excess_cost_se"]
                                             for b in sizes))
    increases = 0
    for small, large in zip(sizes, sizes[1:]):
        rise = per_size[large]["cross_cov_error"] - per_size[small]["cross_cov_error"]
        increases += rise > 2.0 * np.hypot(per_size[small]["cross_cov_error_se"], per_size[large]["cross_cov_error_se"])
    results["cross_cov_error_increases"] = float(increases)
    results["cross_cov_error_rate"] = _fitted_slope(sizes, [per_size[b]["cross_cov_error"] for b in sizes])
    results["drift_error_rate"] = _fitted_slope(sizes, [per_size[b]["drift_error"] for b in sizes])
    results["excess_cost_rate"] = _fitted_slope(sizes, [per_size[b]["excess_cost"] for b in sizes])
    last = per_size[max_batch]
    independent_drift = drift_error(np.zeros((2, 2)), c_ot)
    results.update({
        "cross_cov_error_largest_batch": last["cross_cov_error"],
        "cross_cov_se_largest_batch": last["cross_cov_error_se"],
        "drift_error_largest_batch": last["drift_error"],
        "drift_error_independent": independent_drift,
        "drift_error_ratio_largest_batch": last["drift_error"] / independent_drift,
        "excess_cost_largest_batch": last["excess_cost"],
    })
    numbers = {k: float(results[k]) for k in DESCRIPTIONS}
    for b in sizes:
        for key in ("cross_cov_error", "cross_cov_error_se", "drift_error", "excess_cost", "excess_cost_se",
                    "direct_excess_cost", "direct_excess_cost_se"):
            numbers[f"{key}_B{b}"] = float(per_size[b][key])
    if entropic:
        for b, (error, se) in entropic["errors"].items():
            numbers[f"entropic_error_B{b}"] = error
            numbers[f"entropic_error_se_B{b}"] = se
        note = (f"POT {entropic['version']}: ot.sinkhorn, reg = {ENTROPIC_EPSILON}; batches stopped before "
                f"convergence: {entropic['unconverged']}")
    else:
        note = "skipped: POT is not installed (pip install pot)"
    figure = _plot(out, sizes, per_size, results, independent_drift, entropic, c_ot)
    return {**numbers, "entropic_peer": note, "tolerances": tolerances, "figures": [figure]}


def checks(results: dict) -> list[Check]:
    """Judge the measured numbers against :data:`TOLERANCES` (:data:`QUICK_TOLERANCES` for a quick run)."""
    return evaluate(results, TOLERANCES, QUICK_TOLERANCES)


def format_report(results: dict) -> str:
    """The measured numbers, their checks, a per-B table and the figure as plain text."""
    report = checks(results)
    sizes = sorted(int(k[len("drift_error_B"):]) for k in results if k.startswith("drift_error_B"))
    lines = [
        "Minibatch OT vs exact Gaussian OT (d = 2, linear interpolant, gamma = 0)",
        "  base N(0, I), target N((1, -0.5), [[2, 0.9], [0.9, 0.8]]); pairs by exact assignment per batch;",
        f"  C_B by batch means with a Gaussian-OT control variate (B >= {CONTROL_VARIATE_MIN_BATCH}).",
        "",
    ]
    lines += check_table(results, report, DESCRIPTIONS, width=52, value_format="10.3g", bound_format="g")
    lines += ["", f"  {'B':>5} {'||C_B-C_OT||':>13} {'SE':>8} {'drift error':>12} {'excess cost':>12} "
                  f"{'direct':>9} {'SE':>7} {'entropic':>9}"]
    for b in sizes:
        entropic = results.get(f"entropic_error_B{b}")
        lines.append(
            f"  {b:>5} {results[f'cross_cov_error_B{b}']:>13.4g} {results[f'cross_cov_error_se_B{b}']:>8.2g} "
            f"{results[f'drift_error_B{b}']:>12.4g} {results[f'excess_cost_B{b}']:>12.4g} "
            f"{results[f'direct_excess_cost_B{b}']:>9.3g} {results[f'direct_excess_cost_se_B{b}']:>7.2g} "
            f"{'' if entropic is None else format(entropic, '.3g'):>9}")
    lines.append(f"  entropic minibatch (vs exact C_eps, eps = {ENTROPIC_EPSILON}): {results.get('entropic_peer', '')}")
    lines += report_footer(results, report)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the study, print the report; exit status 1 if any check fails."""
    return run_alone(sys.modules[__name__], argv, "Minibatch OT against the exact Gaussian OT coupling.")


if __name__ == "__main__":
    sys.exit(main())
