r"""Benchmark of issue 14: one or two BLAS threads for si_ref's long work, on an idle and on a loaded machine.

:data:`si_ref.threads.DEFAULT_BLAS_THREADS` fixes how many BLAS threads si_ref's
long work uses unless the user chose. This benchmark measures that choice: every
workload below is timed with the BLAS limited to 1 thread and to 2 threads, in
the same process, in two machine states:

* **idle**: nothing started by the benchmark runs beside it (what else runs on the
  machine is recorded: the share of the CPUs used by other processes);
* **loaded**: one competing CPU-bound process (a Python busy loop started by the
  benchmark, the stand-in for another job on a shared machine) runs for the
  whole of these measurements and is terminated afterwards, in every case.

Workloads (the long work of si_ref; FULL sizes, QUICK sizes for smoke runs):

1. **ridge fit**: the fit_drift study's ridge recipe
   (:func:`si_ref.validation.fit_drift.ridge_model`: a
   :class:`si_ref.ridge.TimeSlicedRidge` of ten slices on
   :class:`si_ref.ridge.PosteriorFeatures` of 64 k-means centres, GCV, fitted by
   :func:`si_ref.fit_field` to the drift with targets over blocks of 1024 samples
   and weights :math:`\alpha^2 + \gamma^2`), k-means included, with 50 000
   antithetic pairs: a quarter of the study's 200 000 (the cost is linear in the
   pairs; the full size takes 10-20 s per fit with one thread, too long to repeat
   in four settings);
2. **MLP epochs**: :meth:`si_ref.MLPField.fit` of a float32 MLP with three SiLU
   layers of width 128, batch 512, Adam lr 1e-3 decaying to 3e-5, 2 epochs over
   100 000 points of the study's case (x ~ ρ_t, t ~ U[0, 1], exact drift as target);
3. **mixture fields**: :meth:`si_ref.GaussianCase.drift_and_score` of the study's
   8-Gaussian ring at t = 0.5 on N = 10⁵ points;
4. **Gram product**: :math:`\Phi^\top\Phi` in float64 with Φ of shape
   (20 000, 600), the product the ridge fits accumulate.

Thread limits: each timed call runs inside ``si_ref.blas_threads(None)`` (which
tells si_ref's own functions to leave the BLAS alone) and a
``threadpoolctl`` limit of ``k`` threads on the BLAS (``ThreadpoolController.limit(limits=k,
user_api="blas")``, the mechanism of ``threadpool_limits`` without scanning the
loaded libraries at every call). The comparison is therefore explicit even when
the user set a thread variable such as ``OPENBLAS_NUM_THREADS`` (recorded in
the table's notes). The JSON records the thread count seen from inside a
function decorated like si_ref's own (``with_blas_threads``), under each limit.

Timing: the two limits alternate, 1, 2, 2, 1, 1, 2, ... after ``warmup``
untimed calls of each; before each timed call the benchmark sleeps ``settle``
seconds (not timed), so that OpenBLAS's worker threads, which keep spinning for
about 0.1 s after a threaded call, do not weigh on the next call of the other
limit. Reported: the median of each side (seconds), the median of the per-pair
ratios 2-thread / 1-thread, and which limit was faster (equal within 5%
counts as neither). Every individual time is in the JSON.

Run: ``python -m si_ref.validation.benchmarks --only threads [--quick]``. The
full run takes a few minutes on 2 cores (one ridge fit of 50 000 pairs took
3.3 s with one thread on a busy 2-core machine, the MLP epochs 0.7 s, the Gram
product 0.15 s, drift_and_score 0.02 s), most of it in the loaded state. A quick
run is a smoke run of a few seconds: its sizes are too small to choose anything
from.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from si_ref.threads import blas_threads, user_thread_setting, with_blas_threads

from ._common import write_table

__all__ = ["NAME", "TITLE", "FULL", "QUICK", "STATES", "WORKLOADS", "COLUMNS", "workloads", "limited",
           "alternate", "competing_process", "verdict", "run"]

NAME = "threads"
TITLE = "BLAS threads for si_ref's long work: 1 vs 2, idle and with one competing CPU-bound process"

#: The machine states, in the order they are measured.
STATES = ("idle", "loaded: 1 competing busy process")

#: Workload keys, in the order of the table.
WORKLOADS = ("ridge", "mlp", "fields", "gram")

#: The columns of the table.
COLUMNS = ("workload", "state", "1 thread (median)", "2 threads (median)", "ratio 2/1", "which is faster")

#: The thread limits compared.
LIMITS = (1, 2)

#: Ratios within this relative distance of 1 count as "neither".
TIE = 0.05

#: Sizes, repeats (timed calls per limit and state), untimed calls per limit, pause before each
#: timed call (s), and the lifetime bound of the competing process (s; it is terminated earlier).
FULL = {
    "ridge": {"n_samples": 50_000, "n_centres": 64},
    "mlp": {"n_points": 100_000, "epochs": 2, "width": 128},
    "fields": {"n": 100_000},
    "gram": {"rows": 20_000, "cols": 600},
    "repeats": {"ridge": 5, "mlp": 5, "fields": 21, "gram": 21},
    "warmup": 1, "settle": 0.2, "competitor_seconds": 3600.0,
}
QUICK = {
    "ridge": {"n_samples": 2_000, "n_centres": 8},
    "mlp": {"n_points": 2_048, "epochs": 1, "width": 128},
    "fields": {"n": 5_000},
    "gram": {"rows": 2_000, "cols": 200},
    "repeats": {"ridge": 2, "mlp": 2, "fields": 2, "gram": 2},
    "warmup": 1, "settle": 0.0, "competitor_seconds": 120.0,
}

FIELDS_TIME = 0.5
SEED = 0


# --- the workloads ------------------------------------------------------------------------------

def _ridge(size: dict) -> tuple[str, Callable[[], object]]:
    import si_ref
    from si_ref.validation.fit_drift import REFERENCE_SIZE, build_case, ridge_model

    case = build_case()
    n_samples, n_centres = size["n_samples"], size["n_centres"]

    def fit():
        rng = np.random.default_rng(SEED)                     # the same work at every call
        model = ridge_model(case, n_centres, rng)
        return si_ref.fit_field("drift", case.interpolant, case.base, case.target, model=model, rng=rng,
                                n_samples=n_samples, reference_size=REFERENCE_SIZE, weighted=True)

    label = (f"ridge fit, fit_drift recipe (TimeSlicedRidge 10 slices x PosteriorFeatures, {n_centres} centres, "
             f"GCV), {n_samples} pairs")
    return label, fit


def _mlp(size: dict) -> tuple[str, Callable[[], object]]:
    import si_ref
    from si_ref.validation.fit_drift import build_case

    case = build_case()
    rng = np.random.default_rng(SEED)
    n, epochs, width = size["n_points"], size["epochs"], size["width"]
    t = rng.uniform(size=n)
    x = case.interpolant.sample(t, case.base.sample(n, rng), case.target.sample(n, rng), rng).x
    y = case.drift(x, t)

    def fit():
        model = si_ref.MLPField(2, widths=(width,) * 3, dtype=np.float32, rng=np.random.default_rng(SEED + 1))
        return model.fit(x, t, y, epochs=epochs, batch_size=512, lr=1e-3, lr_final=3e-5,
                         rng=np.random.default_rng(SEED + 2))

    label = f"MLPField.fit, float32 3x{width} SiLU, batch 512, {epochs} epoch(s) of {n} points"
    return label, fit


def _fields(size: dict) -> tuple[str, Callable[[], object]]:
    from si_ref.validation.fit_drift import build_case

    case = build_case()
    rng = np.random.default_rng(SEED)
    n = size["n"]
    x = case.interpolant.sample(FIELDS_TIME, case.base.sample(n, rng), case.target.sample(n, rng), rng).x
    label = f"GaussianCase.drift_and_score, 8-Gaussian ring, t = {FIELDS_TIME}, N = {n}"
    return label, lambda: case.drift_and_score(x, FIELDS_TIME)


def _gram(size: dict) -> tuple[str, Callable[[], object]]:
    rows, cols = size["rows"], size["cols"]
    phi = np.random.default_rng(SEED).standard_normal((rows, cols))
    out = np.empty((cols, cols))
    label = f"Gram product Phi^T Phi, float64, Phi ({rows}, {cols})"
    return label, lambda: np.matmul(phi.T, phi, out=out)


_BUILDERS = {"ridge": _ridge, "mlp": _mlp, "fields": _fields, "gram": _gram}


def workloads(settings: dict) -> dict[str, tuple[str, Callable[[], object]]]:
    """The workloads at the sizes of ``settings`` (:data:`FULL` or :data:`QUICK`).

    Parameters
    ----------
    settings : dict
        :data:`FULL`, :data:`QUICK`, or a dict of the same keys.

    Returns
    -------
    dict
        Workload key (:data:`WORKLOADS`) -> (label of the table, function doing the work once).
        The data are drawn here, once; each call repeats the same work.
    """
    return {key: _BUILDERS[key](settings[key]) for key in WORKLOADS}


# --- thread limits and timing -------------------------------------------------------------------

def _controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def limited(fn: Callable[[], object], limit: int, controller=None) -> Callable[[], object]:
    """``fn`` wrapped to run with at most ``limit`` BLAS threads, whatever si_ref or the environment say.

    Parameters
    ----------
    fn : callable
        The work, called without arguments.
    limit : int
        BLAS threads, >= 1.
    controller : threadpoolctl.ThreadpoolController, optional
        Reused across calls (a new one scans the loaded libraries).

    Returns
    -------
    callable
        Runs ``fn()`` inside ``si_ref.blas_threads(None)``, so that si_ref's own
        ``with_blas_threads`` functions leave the BLAS alone, and inside
        ``controller.limit(limits=limit, user_api="blas")``; returns its result.
    """
    controller = _controller() if controller is None else controller

    def call():
        with blas_threads(None), controller.limit(limits=limit, user_api="blas"):
            return fn()

    return call


@with_blas_threads
def _threads_seen_by_si_ref() -> list[int]:
    """BLAS thread counts as seen inside a function decorated like si_ref's long work."""
    return sorted({lib["num_threads"] for lib in _controller().info() if lib["user_api"] == "blas"})


def alternate(one: Callable[[], object], two: Callable[[], object], *, repeats: int, warmup: int,
              settle: float) -> dict:
    """Time ``one`` and ``two`` alternately after ``warmup`` untimed calls of each.

    Parameters
    ----------
    one, two : callable
        The two settings of the same work (1 and 2 BLAS threads).
    repeats : int
        Timed calls of each, >= 1; the first of a pair alternates between ``one`` and ``two``.
    warmup : int
        Untimed calls of each before the timed ones, >= 0.
    settle : float
        Seconds of sleep before each timed call (not timed).

    Returns
    -------
    dict
        ``one_seconds``, ``two_seconds``: medians; ``ratio``: median of the per-pair ratios
        two / one; ``one_times``, ``two_times``: every timed call, seconds.
    """
    for _ in range(warmup):
        one()
        two()
    times: dict = {one: [], two: []}
    for i in range(repeats):
        for fn in ((one, two) if i % 2 == 0 else (two, one)):
            time.sleep(settle)
            start = time.perf_counter()
            fn()
            times[fn].append(time.perf_counter() - start)
    ratios = [b / a for a, b in zip(times[one], times[two])]
    return {"one_seconds": statistics.median(times[one]), "two_seconds": statistics.median(times[two]),
            "ratio": statistics.median(ratios), "one_times": times[one], "two_times": times[two]}


def verdict(ratio: float) -> str:
    """Which limit is faster from the ratio 2-thread / 1-thread: "1 thread", "2 threads" or "neither (...)"."""
    if abs(ratio - 1.0) < TIE:
        return f"neither (within {TIE:.0%})"
    return "1 thread" if ratio > 1.0 else "2 threads"


# --- the competing process and the CPU use of others -------------------------------------------

#: The competing process: a Python busy loop that also ends by itself after a bound (seconds, argv[1]).
BUSY_LOOP = "import sys, time\nend = time.monotonic() + float(sys.argv[1])\nwhile time.monotonic() < end:\n    pass\n"


def _process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` from /proc (None where unavailable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


@contextlib.contextmanager
def competing_process(max_seconds: float) -> Iterator[dict]:
    """Run one CPU-bound busy-loop child process for the duration of the block.

    Parameters
    ----------
    max_seconds : float
        The child ends by itself after this many seconds, even if this process dies
        without terminating it.

    Yields
    ------
    dict
        ``pid`` of the child; filled in on exit: ``alive_at_end`` (still running when the
        block ended), ``seconds`` (wall), ``cpu_seconds`` and ``cpu_share`` (its CPU time
        over the wall time; None where /proc is missing), ``exit_code``.

    Notes
    -----
    The child is terminated (then killed if it does not exit within 5 s) and reaped in a
    ``finally`` clause, whatever happens in the block.
    """
    child = subprocess.Popen([sys.executable, "-c", BUSY_LOOP, repr(float(max_seconds))],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    record = {"pid": child.pid, "max_seconds": float(max_seconds)}
    start = time.perf_counter()
    try:
        time.sleep(0.3)                                   # let the interpreter start and reach the loop
        yield record
    finally:
        record["seconds"] = time.perf_counter() - start
        record["alive_at_end"] = child.poll() is None
        record["cpu_seconds"] = _process_cpu_seconds(child.pid)
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        record["exit_code"] = child.returncode
        cpu = record["cpu_seconds"]
        record["cpu_share"] = None if cpu is None or record["seconds"] <= 0 else cpu / record["seconds"]


def _jiffies() -> tuple[int, int] | None:
    """(busy jiffies of all CPUs, jiffies of this process and its reaped children) from /proc; None elsewhere."""
    try:
        cpu = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        own = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return None
    return sum(cpu) - cpu[3] - cpu[4], sum(int(v) for v in own[11:15])


@contextlib.contextmanager
def _others_cpu() -> Iterator[dict]:
    """Measure the share of all CPUs (per cent) used by other processes during the block."""
    record: dict = {"load_average_before": list(os.getloadavg())}
    before, start = _jiffies(), time.perf_counter()
    try:
        yield record
    finally:
        after, seconds = _jiffies(), time.perf_counter() - start
        record["load_average_after"] = list(os.getloadavg())
        record["seconds"] = seconds
        if before is None or after is None or seconds <= 0:
            record["other_processes_cpu_percent"] = None
        else:
            others = (after[0] - before[0]) - (after[1] - before[1])
            record["other_processes_cpu_percent"] = max(
                0.0, 100.0 * others / os.sysconf("SC_CLK_TCK") / seconds / os.cpu_count())


# --- the table ----------------------------------------------------------------------------------

def _measure_state(work: dict, settings: dict, controller) -> tuple[list[dict], dict]:
    rows, raw = [], {}
    for key in WORKLOADS:
        label, fn = work[key]
        timing = alternate(limited(fn, 1, controller), limited(fn, 2, controller),
                           repeats=settings["repeats"][key], warmup=settings["warmup"], settle=settings["settle"])
        rows.append({"workload": label, "1 thread (median)": timing["one_seconds"],
                     "2 threads (median)": timing["two_seconds"], "ratio 2/1": timing["ratio"],
                     "which is faster": verdict(timing["ratio"])})
        raw[key] = {"1 thread seconds": timing["one_times"], "2 threads seconds": timing["two_times"]}
    return rows, raw


def _notes(user: str | None, blas: list[dict], seen: dict, states: dict, competitor: dict, settings: dict,
           quick: bool) -> list[str]:
    libraries = ", ".join(f"{lib['internal_api']} {lib.get('version')} ({lib['num_threads']} threads by default)"
                          for lib in blas) or "none found by threadpoolctl: the limits had no effect"
    idle = states[STATES[0]]["other_processes_cpu_percent"]
    loaded = states[STATES[1]]["other_processes_cpu_percent"]
    share = competitor.get("cpu_share")
    notes = [
        "Medians in seconds over the timed calls of each limit; ratio 2/1 is the median of the per-pair ratios "
        f"(> 1: one thread is faster); 'neither' when within {TIE:.0%}.",
        "User thread variable: " + (f"{user} is set; the comparison still sets 1 and 2 BLAS threads explicitly "
                                    "with threadpoolctl." if user else "none set."),
        f"BLAS: {libraries}; threads seen inside si_ref's decorated functions under the limits: "
        + ", ".join(f"limit {k} -> {v}" for k, v in seen.items()) + ".",
        f"Timed calls per limit: {', '.join(f'{k} {v}' for k, v in settings['repeats'].items())}; "
        f"{settings['warmup']} untimed call(s) each first; {settings['settle']} s pause before each timed call.",
        f"CPU share used by other processes (% of all {os.cpu_count()} CPUs): idle state "
        + ("n/a" if idle is None else f"{idle:.0f}%") + ", loaded state " + ("n/a" if loaded is None else f"{loaded:.0f}%")
        + " (the competing process included); the competing process (pid "
        f"{competitor['pid']}) got " + ("n/a" if share is None else f"{share:.0%}") + " of one CPU, ran to the end: "
        f"{competitor['alive_at_end']}, terminated afterwards (exit code {competitor['exit_code']}).",
    ]
    if quick:
        notes.append("Quick sizes: a smoke run, too small to choose a thread count from.")
    return notes


def run(out_dir, *, quick: bool = False) -> str:
    """Time every workload with 1 and 2 BLAS threads, idle and loaded; write ``threads.json`` and ``threads.md``.

    Parameters
    ----------
    out_dir : str or Path
        Folder of the tables (created if missing).
    quick : bool, default False
        :data:`QUICK` sizes and repeats (a smoke run of a few seconds) instead of :data:`FULL`.

    Returns
    -------
    str
        The Markdown table with its notes, as written to ``threads.md``.
    """
    settings = QUICK if quick else FULL
    controller = _controller()
    blas = [lib for lib in controller.info() if lib["user_api"] == "blas"]
    user = user_thread_setting()
    seen = {k: limited(_threads_seen_by_si_ref, k, controller)() for k in LIMITS}
    start = time.perf_counter()
    work = workloads(settings)
    rows, raw, states, competitor = [], {}, {}, {}
    for state in STATES:
        with contextlib.ExitStack() as stack:
            if state != STATES[0]:
                competitor = stack.enter_context(competing_process(settings["competitor_seconds"]))
            usage = stack.enter_context(_others_cpu())
            state_rows, raw[state] = _measure_state(work, settings, controller)
        states[state] = usage
        rows += [{"workload": r["workload"], "state": state, **{c: r[c] for c in COLUMNS[2:]}} for r in state_rows]
    rows = [{c: row[c] for c in COLUMNS} for row in rows]
    notes = _notes(user, blas, seen, states, competitor, settings, quick)
    extra = {
        "quick": quick, "workloads": {key: work[key][0] for key in WORKLOADS},
        "sizes": {key: settings[key] for key in WORKLOADS}, "repeats": settings["repeats"],
        "warmup": settings["warmup"], "settle_seconds": settings["settle"], "limits": list(LIMITS),
        "user_thread_setting": user, "blas_libraries": blas,
        "threads_seen_inside_si_ref": {str(k): v for k, v in seen.items()},
        "states": states, "competing_process": competitor, "times": raw, "notes": notes,
        "seconds": time.perf_counter() - start,
    }
    command = "python -m si_ref.validation.benchmarks --only threads" + (" --quick" if quick else "")
    text = write_table(out_dir, NAME, TITLE, rows, command=command, extra=extra)
    text += "\n" + "\n".join(f"- {note}" for note in notes) + "\n"
    (Path(out_dir) / f"{NAME}.md").write_text(text, encoding="utf-8")
    return text
