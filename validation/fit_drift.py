r"""Fit the drift b of a 2D interpolant from samples, by ridge regression and by an MLP, and measure it.

Case (exact fields from :class:`si_ref.GaussianCase`):

* base :math:`x_0 \sim N(0, I_2)`;
* target :math:`x_1`: a mixture of 8 Gaussians with equal weights, means
  :math:`3(\cos\frac{k\pi}{4}, \sin\frac{k\pi}{4})` on the ring of radius 3 and
  covariances :math:`0.05\,I_2`;
* linear interpolant with the Brownian schedule:
  :math:`x_t = (1-t)x_0 + t x_1 + \sqrt{t(1-t)}\,z` (``LinearInterpolant(BrownianGamma())``).

Four fits of b: (ridge, MLP) x (direct regression of :math:`\partial_t I + \dot\gamma z`,
or b assembled as :math:`v - \gamma\dot\gamma s` from fitted v and s, i.e.
``fit_drift(via="velocity-score")``). All use antithetic pairs :math:`x_\pm = I \pm \gamma z`
(``si_ref.fitting.training_data``). Measured:

1. for t in {0.05, 0.15, ..., 0.95}, the relative L2 error weighted by :math:`\rho_t`,
   :math:`\sqrt{E|\hat b - b|^2 / E|b|^2}` with x ~ ρ_t (Monte Carlo), and its mean over t;
   the pooled error :math:`\sqrt{\sum_t E|\hat b - b|^2 / \sum_t E|b|^2}` is reported as well;
2. samples: RK4 from :math:`x_0 \sim N(0, I)` at t = 0 to t = 1 with each fitted drift,
   compared with exact target samples by the squared MMD (Gaussian kernel, one
   fixed median-heuristic bandwidth) and the squared energy distance (V-statistics,
   :mod:`si_ref.metrics`). Noise floor: the same metric between samples of the
   exact-drift ODE (same x0, same grid) and the same target sample.

Why the per-time relative error is hard here: near :math:`t \approx 0.1` the
contraction :math:`\gamma\dot\gamma = (1-2t)/2` of the Brownian schedule nearly
cancels the pull towards the ring, so :math:`E|b|^2` is tiny (0.155 at t = 0.05,
0.005 at 0.1, 0.075 at 0.15), while the regression targets carry the
conditional variance of :math:`x_1` (about 10-20). The per-t error at 0.05 and
0.15 is noise-limited; see :data:`NOTES`.

The ridge model (:class:`TimeSlicedRidge`) is one ridge regression per time slice of
width 0.1: features :math:`\phi(x, t) = \psi(x) \otimes P(\tau)` with Legendre
polynomials :math:`P_0, P_1, P_2` of the slice's local time τ ∈ [-1, 1] and a
partition-of-unity local-linear basis :math:`\psi(x) = (w_j(x), w_j(x) x)_{j \le m}`,
:math:`w_j = \operatorname{softmax}_j(-|x - c_j|^2 / 2\ell^2)` with centres
:math:`c_j` from k-means on the slice's samples (m = 1 is the global linear model
:math:`(1, x)`). Per slice, m and the regularisation are chosen by generalised
cross-validation, and the number of samples is set by a compute budget
(:math:`n \cdot \dim\phi^2` fixed, at most ``n_samples`` pairs), so slices with a
simple model (near t = 0, where the targets are noisiest) get more samples.

Run from the repository root::

    python -m validation.fit_drift --out DIR [--quick] [--seed S]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from scipy.linalg import cho_factor, cho_solve
from scipy.spatial.distance import cdist
from scipy.special import softmax

import si_ref
from validation._common import Check, evaluate, save_figure
from si_ref.fitting import training_data
from si_ref.losses import sample_batch
from si_ref.ridge import gcv_alpha
from si_ref.metrics import energy_distance, median_bandwidth, mmd
from si_ref.wrappers import DriftFromVelocityScore

__all__ = [
    "TIMES", "FITS", "TOLERANCES", "NOTES", "Check", "build_case", "LocalLinearFeatures", "TimeSlicedRidge",
    "relative_errors", "run", "checks", "format_report", "main",
]

#: Times of the error table.
TIMES = tuple(round(0.05 + 0.1 * k, 2) for k in range(10))
#: The four fits: (method, via).
FITS = (("ridge", "direct"), ("ridge", "velocity-score"), ("mlp", "direct"), ("mlp", "velocity-score"))
#: Times of the quiver figure.
QUIVER_TIMES = (0.15, 0.55, 0.95)
#: A second, fixed MMD bandwidth (about twice the component standard deviation 0.22): the median
#: heuristic gives ~4 on this ring, a kernel too wide to see the components' shape.
FINE_BANDWIDTH = 0.5
#: Score targets -z/γ are undefined at γ = 0: score slices draw t from [T_EDGE, 1 - T_EDGE].
T_EDGE = 1e-3

#: Targets of the issue: name -> (comparison, bound).
TITLE = 'Fitting the drift'
SUMMARY = (
    'Ridge regression and the MLP fit b on N(0, I) → 8-Gaussian ring (linear interpolant, Brownian γ), directly and as v − γγ̇s; relative L2 errors against the exact drift and MMD of ODE samples against the exact-drift noise floor.'
)

TOLERANCES: dict[str, tuple[str, float]] = {
    "ridge_direct_mean_relative_error": ("<=", 0.03),
    "ridge_velocity-score_mean_relative_error": ("<=", 0.03),
    "ridge_direct_fit_seconds": ("<=", 30.0),
    "mlp_direct_mean_relative_error": ("<=", 0.03),
    "mlp_velocity-score_mean_relative_error": ("<=", 0.03),
    "ridge_direct_mmd_ratio": ("<=", 2.0),
    "ridge_velocity-score_mmd_ratio": ("<=", 2.0),
    "mlp_direct_mmd_ratio": ("<=", 2.0),
    "mlp_velocity-score_mmd_ratio": ("<=", 2.0),
    # the same target with a kernel narrow enough to see the components (FINE_BANDWIDTH)
    "ridge_direct_mmd_fine_ratio": ("<=", 2.0),
    "ridge_velocity-score_mmd_fine_ratio": ("<=", 2.0),
    "mlp_direct_mmd_fine_ratio": ("<=", 2.0),
    "mlp_velocity-score_mmd_fine_ratio": ("<=", 2.0),
}

NOTES = (
    "E|b|^2 under rho_t is 0.155 at t = 0.05 and 0.075 at t = 0.15 (b ~ 0 near t = 0.1),\n"
    "  while Var(target | x_t) is ~13-19 there: the per-t relative error at those times is noise-limited."
)


def build_case() -> si_ref.GaussianCase:
    """N(0, I_2) -> 8 Gaussians (weights 1/8, covariance 0.05 I) on the ring of radius 3, linear + Brownian γ."""
    angles = np.arange(8) * np.pi / 4
    ring = si_ref.GaussianMixture(np.full(8, 1 / 8), 3.0 * np.column_stack([np.cos(angles), np.sin(angles)]),
                                  np.stack([0.05 * np.eye(2)] * 8))
    return si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()),
                               si_ref.Gaussian(np.zeros(2), np.eye(2)), ring)


# --- the ridge model ---------------------------------------------------------------------------------

def _kmeans(x, m, rng, iterations=10):
    """Lloyd's k-means from m distinct random points of x: centres of shape (m, d)."""
    centres = x[rng.choice(x.shape[0], m, replace=False)].copy()
    for _ in range(iterations):
        labels = np.argmin(cdist(x, centres, "sqeuclidean"), axis=1)
        for j in range(m):
            members = labels == j
            if members.any():
                centres[j] = x[members].mean(axis=0)
    return centres


class LocalLinearFeatures:
    r"""Partition-of-unity local-linear features times Legendre polynomials of a local time.

    .. math::

        \phi(x, t) = \big(w_j(x)\,(1, x)\big)_{j \le m} \otimes \big(P_k(\tau)\big)_{k \le q},
        \qquad w_j(x) = \frac{e^{-|x - c_j|^2/2\ell^2}}{\sum_i e^{-|x - c_i|^2/2\ell^2}},
        \qquad \tau = 2\frac{t - t_0}{t_1 - t_0} - 1.

    A field :math:`\sum_j w_j(x)(a_j(t) + B_j(t) x)` (e.g. the drift of a Gaussian
    mixture, :math:`\sum_p r_p(x)(\dot\mu_p + K_p\Sigma_p^{-1}(x - \mu_p))`) is
    represented with few features. One centre gives the global linear model.
    """

    def __init__(self, centres, length_scale, t0, t1, time_degree=2):
        self.centres = np.asarray(centres, dtype=np.float64)
        self.length_scale = float(length_scale)
        self.t0, self.t1, self.time_degree = float(t0), float(t1), int(time_degree)
        m, d = self.centres.shape
        self.n_features = m * (d + 1) * (self.time_degree + 1)

    def __call__(self, x, t):
        n = x.shape[0]
        t = np.broadcast_to(np.asarray(t, dtype=np.float64), (n,))
        weights = softmax(-cdist(x, self.centres, "sqeuclidean") / (2.0 * self.length_scale**2), axis=1)
        psi = (weights[:, :, None] * np.column_stack([np.ones(n), x])[:, None, :]).reshape(n, -1)
        legendre = np.polynomial.legendre.legvander(2.0 * (t - self.t0) / (self.t1 - self.t0) - 1.0, self.time_degree)
        return (psi[:, :, None] * legendre[:, None, :]).reshape(n, -1)


def _gram(features, x, t, y, chunk=50_000):
    """ΦᵀΦ, ΦᵀY and |Y|², accumulated over row chunks (Φ never held whole)."""
    m = features.n_features
    gram, rhs, y_norm = np.zeros((m, m)), np.zeros((m, y.shape[1])), float(np.sum(y * y))
    for start in range(0, x.shape[0], chunk):
        rows = slice(start, start + chunk)
        phi = features(x[rows], t[rows])
        gram += phi.T @ phi
        rhs += phi.T @ y[rows]
    return gram, rhs, y_norm


def _ridge_gcv(gram, rhs, y_norm, n, alpha_grid):
    """(GCV score, relative α, coefficients): α from :func:`si_ref.ridge.gcv_alpha`, W by Cholesky."""
    alpha, score = gcv_alpha(gram, rhs, y_norm, n, alpha_grid)
    scale = np.trace(gram) / gram.shape[0]
    coef = cho_solve(cho_factor(gram + alpha * scale * np.eye(gram.shape[0]), lower=True), rhs)
    return score, alpha, coef


class TimeSlicedRidge:
    r"""A field fitted by one ridge regression per time slice [e_k, e_{k+1}) on :class:`LocalLinearFeatures`.

    Parameters
    ----------
    edges : array_like
        Increasing slice edges from 0 to 1.
    centre_counts : tuple of int
        Candidate numbers m of centres; GCV on ``n_pilot`` pairs picks one per slice.
    budget : float
        Final sample size per slice: ``min(n_max, budget / dim(φ)²)`` pairs (constant compute).
    """

    def __init__(self, edges=np.linspace(0.0, 1.0, 11), *, centre_counts=(1, 4, 16, 48), n_pilot=50_000,
                 n_max=1_000_000, budget=1.5e11, time_degree=2):
        self.edges = np.asarray(edges, dtype=np.float64)
        self.centre_counts, self.n_pilot, self.n_max = tuple(centre_counts), int(n_pilot), int(n_max)
        self.budget, self.time_degree = float(budget), int(time_degree)
        self.alpha_grid = np.logspace(-12, 0, 25)
        self.slices: list = []      # (features, coef) per slice
        self.summary: list = []     # (m, alpha, n_pairs) per slice

    def fit_field(self, name, case, rng):
        """Draw samples per slice and fit field ``name`` ("drift", "velocity", "score"); returns self."""
        interpolant = case.interpolant
        self.slices, self.summary = [], []
        for t0, t1 in zip(self.edges[:-1], self.edges[1:]):
            lo, hi = (max(t0, T_EDGE), min(t1, 1.0 - T_EDGE)) if name == "score" else (t0, t1)

            def draw(n):
                batch = sample_batch(interpolant, case.base, case.target, n, rng, t_min=lo, t_max=hi)
                return training_data(name, interpolant, batch, antithetic=True)

            x, t, y = draw(self.n_pilot)
            best = None
            for m in self.centre_counts:
                centres = _kmeans(x[:20_000], m, rng) if m > 1 else x.mean(axis=0, keepdims=True)
                if m > 1:   # ℓ: the median distance from a centre to its nearest other centre
                    distances = cdist(centres, centres)
                    np.fill_diagonal(distances, np.inf)
                    ell = float(np.median(distances.min(axis=1)))
                else:
                    ell = 1.0
                features = LocalLinearFeatures(centres, ell, t0, t1, self.time_degree)
                score, alpha, coef = _ridge_gcv(*_gram(features, x, t, y), x.shape[0], self.alpha_grid)
                if best is None or score < best[0]:
                    best = (score, m, features)
            _, m, features = best
            n_pairs = int(min(self.n_max, max(self.n_pilot, self.budget / features.n_features**2 / 2)))
            if n_pairs > self.n_pilot:
                x, t, y = draw(n_pairs)
            _, alpha, coef = _ridge_gcv(*_gram(features, x, t, y), x.shape[0], self.alpha_grid)
            self.slices.append((features, coef))
            self.summary.append((m, alpha, n_pairs))
        return self

    def __call__(self, x, t, c=None):
        x = np.asarray(x, dtype=np.float64)
        t = np.broadcast_to(np.asarray(t, dtype=np.float64), (x.shape[0],))
        k = np.clip(np.searchsorted(self.edges, t, side="right") - 1, 0, len(self.slices) - 1)
        out = np.empty_like(x)
        for j in np.unique(k):
            rows = k == j
            features, coef = self.slices[j]
            out[rows] = features(x[rows], t[rows]) @ coef
        return out


# --- measurements -----------------------------------------------------------------------------------

def relative_errors(field, case, times, n, rng):
    r"""Per time: (:math:`\sqrt{E|\hat b - b|^2/E|b|^2}`, :math:`E|\hat b - b|^2`, :math:`E|b|^2`) with x ~ ρ_t."""
    out = []
    for t in times:
        x = case.interpolant.sample(t, case.base.sample(n, rng), case.target.sample(n, rng), rng).x
        exact = case.drift(x, t)
        error = np.mean(np.sum((field(x, t) - exact) ** 2, axis=1))
        norm = np.mean(np.sum(exact**2, axis=1))
        out.append((float(np.sqrt(error / norm)), float(error), float(norm)))
    return out


def _fit(case, method, via, rng, *, n_samples, epochs, ridge_options):
    """One fit of b; returns (field, seconds, description)."""
    start = time.perf_counter()
    if method == "ridge":
        def one(name):
            return TimeSlicedRidge(n_max=n_samples, **ridge_options).fit_field(name, case, rng)
        if via == "direct":
            field = one("drift")
            info = f"(m, n_pairs) per slice: {[(m, n) for m, _, n in field.summary]}"
        else:
            velocity, score = one("velocity"), one("score")
            field = DriftFromVelocityScore(velocity, score, case.interpolant.gamma_schedule)
            info = (f"v: {[(m, n) for m, _, n in velocity.summary]}; s: {[(m, n) for m, _, n in score.summary]}")
    else:
        n_mlp = max(1, n_samples // 10)

        def one(name):
            model = si_ref.MLPField(2, widths=(64, 64, 64), rng=rng)
            t_min, t_max = (T_EDGE, 1 - T_EDGE) if name == "score" else (0.0, 1.0)
            return si_ref.fit_field(name, case.interpolant, case.base, case.target, rng=rng, model=model,
                                    n_samples=n_mlp, t_min=t_min, t_max=t_max, epochs=epochs,
                                    batch_size=512, lr=1e-3)
        if via == "direct":
            field = one("drift")
        else:
            field = DriftFromVelocityScore(one("velocity"), one("score"), case.interpolant.gamma_schedule)
        info = f"MLP (64, 64, 64) SiLU, {n_mlp} antithetic pairs, {epochs} epochs, batch 512, Adam lr 1e-3"
    return field, time.perf_counter() - start, info


def _arguments(n_samples, epochs, n_eval, n_steps, seed):
    for name, value, lowest in (("n_samples", n_samples, 1000), ("epochs", epochs, 1), ("n_eval", n_eval, 10),
                                ("n_steps", n_steps, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer; received {value!r} of type {type(value).__name__}.")
        if value < lowest:
            raise ValueError(f"{name} must be an integer >= {lowest}; received {name}={value!r}.")


def run(out_dir, *, n_samples: int = 1_000_000, epochs: int = 40, n_eval: int = 4000, n_steps: int = 100,
        seed: int = 0, ridge_options: dict | None = None) -> dict:
    r"""Run the study, write the figures into ``out_dir`` and return the measured numbers.

    Parameters
    ----------
    out_dir : str or Path
        Folder for the PNG figures (created if missing).
    n_samples : int
        Ridge: at most this many antithetic pairs per time slice (default 10⁶). The MLP
        trains on ``n_samples // 10`` pairs drawn with t ~ U[0, 1].
    epochs : int
        MLP epochs (batch 512, Adam lr 1e-3, widths (64, 64, 64)).
    n_eval : int
        Points per time for the errors, and size of the generated and target samples.
    n_steps : int
        RK4 steps from t = 0 to 1.
    seed : int
        Seed of ``numpy.random.default_rng``, the only source of randomness.
    ridge_options : dict, optional
        Extra keywords of :class:`TimeSlicedRidge` (``centre_counts``, ``n_pilot``, ``budget``).

    Returns
    -------
    dict
        ``times``; per fit ``"<method>_<via>"``: ``_relative_errors`` (list), ``_mean_relative_error``,
        ``_pooled_relative_error``, ``_fit_seconds``, ``_mmd``, ``_energy``, ``_mmd_ratio``,
        ``_energy_ratio``, ``_mmd_fine_ratio`` (bandwidth :data:`FINE_BANDWIDTH`), ``_info``; ``drift_norms`` (E|b|² per t), ``mmd_floor``,
        ``energy_floor``, ``bandwidth`` and ``figures`` (PNG paths).
    """
    _arguments(n_samples, epochs, n_eval, n_steps, seed)
    ridge_options = dict(ridge_options or {})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    case = build_case()
    results: dict = {"times": list(TIMES)}
    fields = {}
    for method, via in FITS:
        key = f"{method}_{via}"
        field, seconds, info = _fit(case, method, via, rng, n_samples=n_samples, epochs=epochs,
                                    ridge_options=ridge_options)
        fields[key] = field
        rows = relative_errors(field, case, TIMES, n_eval, np.random.default_rng(seed + 1))  # same points per fit
        results[f"{key}_relative_errors"] = [r for r, _, _ in rows]
        results[f"{key}_mean_relative_error"] = float(np.mean([r for r, _, _ in rows]))
        results[f"{key}_pooled_relative_error"] = float(np.sqrt(sum(e for _, e, _ in rows) / sum(b for _, _, b in rows)))
        results[f"{key}_fit_seconds"] = seconds
        results[f"{key}_info"] = info
        results["drift_norms"] = [b for _, _, b in rows]

    # samples: same x0 for every drift, one target sample, one bandwidth
    sample_rng = np.random.default_rng(seed + 2)
    x0 = case.base.sample(n_eval, sample_rng)
    target = case.target.sample(n_eval, sample_rng)
    grid = si_ref.uniform_grid(0.0, 1.0, n_steps)
    generated = {"exact": si_ref.integrate(case.drift, si_ref.RK4(), grid, x0).states[-1]}
    for key, field in fields.items():
        generated[key] = si_ref.integrate(field, si_ref.RK4(), grid, x0).states[-1]
    bandwidth = median_bandwidth(generated["exact"], target)
    results["bandwidth"] = bandwidth
    results["mmd_floor"] = mmd(generated["exact"], target, bandwidth=bandwidth)
    results["energy_floor"] = energy_distance(generated["exact"], target)
    results["mmd_fine_floor"] = mmd(generated["exact"], target, bandwidth=FINE_BANDWIDTH)
    for key in fields:
        results[f"{key}_mmd_fine_ratio"] = mmd(generated[key], target, bandwidth=FINE_BANDWIDTH) / results["mmd_fine_floor"]
        results[f"{key}_mmd"] = mmd(generated[key], target, bandwidth=bandwidth)
        results[f"{key}_energy"] = energy_distance(generated[key], target)
        results[f"{key}_mmd_ratio"] = results[f"{key}_mmd"] / results["mmd_floor"]
        results[f"{key}_energy_ratio"] = results[f"{key}_energy"] / results["energy_floor"]

    results["figures"] = [
        _plot_quivers(out, case, fields),
        _plot_errors(out, results),
        _plot_samples(out, generated, target),
    ]
    return results


# --- figures ----------------------------------------------------------------------------------------

def _plot_quivers(out, case, fields) -> str:
    axis = np.linspace(-4.0, 4.0, 17)
    g1, g2 = np.meshgrid(axis, axis)
    grid = np.column_stack([g1.ravel(), g2.ravel()])
    columns = [("exact", case.drift)] + list(fields.items())
    fig = Figure(figsize=(3.2 * len(columns), 3.2 * len(QUIVER_TIMES)), layout="constrained")
    axes = fig.subplots(len(QUIVER_TIMES), len(columns), squeeze=False)
    dense = np.linspace(-4.0, 4.0, 81)
    d1, d2 = np.meshgrid(dense, dense)
    for row, t in zip(axes, QUIVER_TIMES):
        exact = case.drift(grid, t)
        scale = float(np.max(np.linalg.norm(exact, axis=1))) / 0.45   # longest exact arrow: 0.9 grid steps
        rho = case.density(np.column_stack([d1.ravel(), d2.ravel()]), t).reshape(d1.shape)
        for ax, (name, field) in zip(row, columns):
            v = exact if name == "exact" else field(grid, t)
            ax.contour(d1, d2, rho, levels=5, colors="0.75", linewidths=0.6)
            ax.quiver(grid[:, 0], grid[:, 1], v[:, 0], v[:, 1], angles="xy", scale_units="xy", scale=scale,
                      color="black" if name == "exact" else "tab:red", width=0.004)
            ax.set_title(f"{name}, t = {t}", fontsize=9)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle("Drift b: exact vs fitted (same arrow scale per row; contours of rho_t)", fontsize=10)
    return save_figure(fig, out / "drift_quivers.png", dpi=80)


def _plot_errors(out, results) -> str:
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    for method, via in FITS:
        key = f"{method}_{via}"
        ax.semilogy(results["times"], results[f"{key}_relative_errors"], marker="o",
                    label=f"{key} (mean {results[f'{key}_mean_relative_error']:.3f})")
    ax.axhline(0.03, color="0.5", linestyle="--", label="target 3%")
    ax.set_xlabel("t")
    ax.set_ylabel(r"$\sqrt{E|\hat b - b|^2 / E|b|^2}$, $x \sim \rho_t$")
    ax.set_title("Relative L2 error of the fitted drift")
    ax.legend(fontsize=8)
    return save_figure(fig, out / "drift_errors.png", dpi=80)


def _plot_samples(out, generated, target) -> str:
    fig = Figure(figsize=(3.2 * len(generated), 3.4), layout="constrained")
    axes = fig.subplots(1, len(generated), squeeze=False)[0]
    for ax, (name, points) in zip(axes, generated.items()):
        ax.scatter(target[:, 0], target[:, 1], s=1, color="0.7", label="target")
        ax.scatter(points[:, 0], points[:, 1], s=1, color="tab:blue" if name == "exact" else "tab:red",
                   label=f"ODE, {name} drift")
        ax.set_title(name, fontsize=9)
        ax.set_aspect("equal")
        ax.set_xlim(-4.5, 4.5)
        ax.set_ylim(-4.5, 4.5)
        ax.legend(fontsize=6, loc="upper right", markerscale=4)
    fig.suptitle("Samples at t = 1 (RK4 from x0 ~ N(0, I)) vs target samples", fontsize=10)
    return save_figure(fig, out / "drift_samples.png", dpi=80)


# --- checks and report ------------------------------------------------------------------------------

def checks(results: dict) -> list[Check]:
    """Judge the measured numbers against :data:`TOLERANCES`; a missing or NaN value fails."""
    return evaluate(results, TOLERANCES)


def format_report(results: dict) -> str:
    """The error table, the sample metrics, the checks and the figures as plain text."""
    keys = [f"{m}_{v}" for m, v in FITS]
    lines = ["Fitted drift vs exact: N(0, I) -> 8-Gaussian ring (r = 3, cov 0.05 I), linear, Brownian gamma",
             "", "  relative L2 error sqrt(E|b^ - b|^2 / E|b|^2), x ~ rho_t",
             f"  {'t':>7} {'E|b|^2':>8} " + " ".join(f"{k:>22}" for k in keys)]
    for i, t in enumerate(results["times"]):
        lines.append(f"  {t:7.2f} {results['drift_norms'][i]:8.3f} "
                     + " ".join(f"{results[f'{k}_relative_errors'][i]:22.4f}" for k in keys))
    for label, suffix in (("mean", "mean_relative_error"), ("pooled", "pooled_relative_error"),
                          ("fit s", "fit_seconds"), ("MMD^2", "mmd"), ("/floor", "mmd_ratio"),
                          ("MMD^2(0.5)/floor", "mmd_fine_ratio"),
                          ("energy", "energy"), ("/floor", "energy_ratio")):
        lines.append(f"  {label:>16} " + " ".join(f"{results[f'{k}_{suffix}']:22.4g}" for k in keys))
    lines += ["", f"  noise floors (exact-drift ODE vs target, n equal): MMD^2 {results['mmd_floor']:.3g}, "
                  f"energy {results['energy_floor']:.3g}; bandwidth {results['bandwidth']:.3f} "
                  f"(MMD^2 at bandwidth {FINE_BANDWIDTH}: floor {results['mmd_fine_floor']:.3g})",
              "  " + NOTES, ""]
    lines += [f"  {k}: {results[f'{k}_info']}" for k in keys]
    lines += ["", f"  {'check':<44} {'value':>10}  {'target':>9}  ok"]
    report = checks(results)
    for c in report:
        lines.append(f"  {c.name:<44} {c.value:10.4g}  {c.tolerance[0]} {c.tolerance[1]:<6g}  "
                     f"{'PASS' if c.passed else 'FAIL'}")
    lines.append("")
    lines += [f"  figure: {p}" for p in results["figures"]]
    failed = [c.name for c in report if not c.passed]
    lines.append("  all checks PASS" if not failed else f"  FAILED: {', '.join(failed)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the study and print the report; exit status 1 if a check fails."""
    parser = argparse.ArgumentParser(prog="python -m validation.fit_drift",
                                     description="Fit the drift of a 2D interpolant by ridge and MLP; compare with exact.")
    parser.add_argument("--out", required=True, help="folder for the PNG figures")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run of a few seconds)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else {}
    start = time.perf_counter()
    results = run(args.out, seed=args.seed, **sizes)
    print(format_report(results))
    print(f"  runtime {time.perf_counter() - start:.1f} s")
    return 0 if all(c.passed for c in checks(results)) else 1


#: Small sizes for smoke tests (``--quick``).
QUICK = dict(n_samples=20_000, epochs=2, n_eval=300, n_steps=20,
             ridge_options=dict(centre_counts=(1, 8), n_pilot=5_000, budget=1e9))


if __name__ == "__main__":
    sys.exit(main())
