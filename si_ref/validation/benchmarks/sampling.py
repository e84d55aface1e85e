r"""Benchmark 3 of issue 9: sampling with the exact fields, throughput and per-step overhead.

The case is the first one of :mod:`validation.benchmarks.mixture_fields`: linear
interpolant, Brownian :math:`\gamma`, base :math:`N(0, I_2)`, target a mixture of 8
Gaussians in d = 2. Both samplers run :func:`si_ref.integrate` from t = 0 to t = 1
on :func:`si_ref.uniform_grid` (the exact fields are finite on all of [0, 1]):

* **RK4** on the probability flow :math:`\dot x = b(t, x)` with ``GaussianCase.drift``:
  4 drift evaluations per step, at t, t + h/2 (twice) and t + h;
* **Euler-Maruyama** on the forward SDE :math:`dX = (b + \varepsilon s)\,dt + \sqrt{2\varepsilon}\,dW`,
  ``SDETerm(drift, score, eps=1)``: one drift and one score evaluation per step.

Throughput is points × steps per second at N = 10^4 and 10^5 (median over repeats
of whole runs). The second table looks at small N (1 to 100 points), where the cost of
a step is mostly per call: it reports the time per step, the part proportional to N
(N × the per-point cost of the N = 10^5 run) and the rest, the overhead, and then
the pieces that make up that overhead, each timed on its own at N = 1:

* a field call at a time seen on the previous call (the per-time state, a Cholesky
  factor per pair, is cached on the last time) and at a new time;
* the input validation every public call performs (``x`` to a float64 copy checked
  finite, ``t`` checked in [0, 1]);
* the sampler's own work per step (stages, output checks, noise), with zero fields.

An RK4 step makes two drift calls at new times (t + h/2, t + h) and two at cached
ones (t, again t + h/2); an Euler-Maruyama step one drift call at a new time and
one score call at the same time; the last column adds the pieces up accordingly.

Run: ``python -m si_ref.validation.benchmarks --only sampling [--quick]``.
"""

from __future__ import annotations

import numpy as np

import si_ref
from si_ref._checks import as_points, as_times

from ._common import median_time, write_table
from .mixture_fields import mixture_case

NAME = "sampling"
TITLE = "Sampling with exact fields (d = 2, 8 components): points x steps per second"
OVERHEAD_NAME = "sampling_overhead"

#: ε of the forward SDE.
EPS = 1.0

FULL = {"throughput": ((10_000, 40), (100_000, 10)), "repeats": 5, "small_n": (1, 10, 100), "small_steps": 200,
        "small_repeats": 7, "call_repeats": 2000}
QUICK = {"throughput": ((1_000, 4), (3_000, 4)), "repeats": 2, "small_n": (1, 10), "small_steps": 10,
         "small_repeats": 2, "call_repeats": 20}


def _samplers(case):
    """name -> (run(x_start, grid), field calls per step)."""
    term = si_ref.SDETerm(case.drift, case.score, EPS)
    return {
        "RK4, probability flow": (lambda x, grid: si_ref.integrate(case.drift, si_ref.RK4(), grid, x), 4),
        "Euler-Maruyama, forward SDE": (lambda x, grid: si_ref.integrate(term, si_ref.EulerMaruyama(), grid, x,
                                                                           rng=np.random.default_rng(0)), 2),
    }


def _start(case, n: int) -> np.ndarray:
    return case.base.sample(n, np.random.default_rng(n))


def _throughput(case, settings) -> tuple[list[dict], dict]:
    rows, per_point_step = [], {}
    for name, (sample, calls) in _samplers(case).items():
        for n, steps in settings["throughput"]:
            x, grid = _start(case, n), si_ref.uniform_grid(0.0, 1.0, steps)
            seconds = median_time(lambda: sample(x, grid), repeats=settings["repeats"], warmup=1)
            rows.append({"sampler": name, "N": n, "steps": steps, "field calls per step": calls,
                         "ms per step": 1e3 * seconds / steps, "points x steps per second": n * steps / seconds,
                         "ns per point and field call": 1e9 * seconds / (n * steps * calls)})
            per_point_step[name] = seconds / (n * steps)        # the largest N is last: its value is kept
    return rows, per_point_step


def _call_costs(case, repeats: int) -> dict:
    """Seconds per call at N = 1 of the pieces a step is made of."""
    x = _start(case, 1)
    times = iter(np.tile(np.linspace(0.05, 0.95, 1001), repeats // 1001 + 10))    # a new time on every call
    zero = lambda y, t: np.zeros_like(y)  # noqa: E731
    grid = si_ref.uniform_grid(0.0, 1.0, 50)
    costs = {
        "field call, same time as the previous call": median_time(lambda: case.drift(x, 0.4), repeats=repeats),
        "field call, new time": median_time(lambda: case.drift(x, float(next(times))), repeats=repeats),
        "input validation of a call (x, t)": median_time(lambda: (as_points(x, "x", d=case.dim), as_times(0.4)), repeats=repeats),
        "RK4 sampler work per step (zero field)":
            median_time(lambda: si_ref.integrate(zero, si_ref.RK4(), grid, x), repeats=max(3, repeats // 100)) / 50,
        "Euler-Maruyama sampler work per step (zero fields)":
            median_time(lambda: si_ref.integrate(si_ref.SDETerm(zero, zero, EPS), si_ref.EulerMaruyama(), grid, x,
                                                 rng=np.random.default_rng(0)), repeats=max(3, repeats // 100)) / 50,
    }
    return costs


def _overhead(case, settings, per_point_step) -> tuple[list[dict], dict]:
    rows = []
    costs = _call_costs(case, settings["call_repeats"])
    same, new = costs["field call, same time as the previous call"], costs["field call, new time"]
    predicted = {"RK4, probability flow": 2 * new + 2 * same + costs["RK4 sampler work per step (zero field)"],
                 "Euler-Maruyama, forward SDE": new + same + costs["Euler-Maruyama sampler work per step (zero fields)"]}
    for name, (sample, _) in _samplers(case).items():
        grid = si_ref.uniform_grid(0.0, 1.0, settings["small_steps"])
        for n in settings["small_n"]:
            x = _start(case, n)
            step = median_time(lambda: sample(x, grid), repeats=settings["small_repeats"], warmup=1) / settings["small_steps"]
            proportional = n * per_point_step[name]
            rows.append({"measurement": f"{name}: one step", "N": n, "us": 1e6 * step,
                         "us proportional to N": 1e6 * proportional, "us overhead": 1e6 * (step - proportional),
                         "us predicted from the pieces below (N = 1)": 1e6 * predicted[name] if n == 1 else ""})
    for piece, seconds in costs.items():
        rows.append({"measurement": piece, "N": 1, "us": 1e6 * seconds, "us proportional to N": "",
                     "us overhead": "", "us predicted from the pieces below (N = 1)": ""})
    return rows, {k: 1e6 * v for k, v in costs.items()}


def run(out_dir, *, quick: bool = False) -> str:
    """Measure, write ``sampling`` and ``sampling_overhead`` (JSON and Markdown); return the Markdown."""
    settings = QUICK if quick else FULL
    command = "python -m si_ref.validation.benchmarks --only sampling" + (" --quick" if quick else "")
    case = mixture_case(2, 8)
    rows, per_point_step = _throughput(case, settings)
    text = write_table(out_dir, NAME, TITLE, rows, command=command, extra={"eps": EPS, "grid": "uniform on [0, 1]"})
    overhead_rows, pieces = _overhead(case, settings, per_point_step)
    overhead_title = ("Per-step overhead at small N (same case): time per step, its part proportional to N "
                      "(from the largest N above) and the rest; then the pieces of the rest at N = 1")
    text += "\n" + write_table(out_dir, OVERHEAD_NAME, overhead_title, overhead_rows, command=command,
                               extra={"pieces_us": pieces})
    return text
