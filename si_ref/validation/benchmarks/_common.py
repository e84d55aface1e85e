"""What every benchmark shares: the machine record, paired timings, ratios, and the JSON/Markdown tables.

Timing protocol (issue 9): each comparison times its two sides in the same
process, alternating A, B, A, B, ... after ``warmup`` untimed calls of each;
the reported time of a side is the median over ``repeats`` calls and the
ratio is the median of the per-pair ratios A_i / B_i (robust to slow drifts
of the machine). Benchmarks are never run by the test suite with timed
assertions; their smoke tests only check that they run and write tables.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Callable

import numpy as np

__all__ = ["machine", "paired_timings", "median_time", "matmul_peak_gflops", "write_table", "optional_torch",
           "TORCH_INSTALL"]

#: How to install the optional peer on these machines (a local CPU build; other versions download GPU wheels).
TORCH_INSTALL = "pip install torch==2.13.0"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas() -> str:
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')} ({blas.get('openblas configuration', '').strip()})"
    except Exception:  # numpy's config layout is not a stable API
        return "unknown"


def machine() -> dict:
    """CPU model, logical cores, Python, NumPy and its BLAS, SciPy, and torch when present."""
    import scipy

    record = {
        "cpu": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": _blas(),
        "scipy": scipy.__version__,
        "date": time.strftime("%Y-%m-%d"),
    }
    torch = optional_torch()
    if torch is not None:
        record["torch"] = torch.__version__
        record["torch_threads"] = torch.get_num_threads()
    return record


def optional_torch():
    """The torch module, or None when it is not installed (the benchmark then reports 'skipped')."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def median_time(fn: Callable[[], object], *, repeats: int = 21, warmup: int = 3) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeats`` calls after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def paired_timings(a: Callable[[], object], b: Callable[[], object], *, repeats: int = 21, warmup: int = 3) -> dict:
    """Time ``a`` and ``b`` alternately; medians of each and the median of the pairwise ratios a/b."""
    for _ in range(warmup):
        a()
        b()
    ta, tb = [], []
    for i in range(repeats):
        order = ((a, ta), (b, tb)) if i % 2 == 0 else ((b, tb), (a, ta))   # alternate which side goes first
        for fn, record in order:
            start = time.perf_counter()
            fn()
            record.append(time.perf_counter() - start)
    ratios = [x / y for x, y in zip(ta, tb)]
    return {"a_seconds": statistics.median(ta), "b_seconds": statistics.median(tb),
            "ratio": statistics.median(ratios), "repeats": repeats}


def matmul_peak_gflops(dtype=np.float32, n: int = 1024, *, repeats: int = 11) -> float:
    """The machine's measured matrix-multiply rate: 2 n³ flops of ``a @ b`` over the median time, in GFLOP/s."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((n, n), dtype=dtype)
    seconds = median_time(lambda: np.matmul(a, b, out=out), repeats=repeats)
    return 2.0 * n**3 / seconds / 1e9


def _markdown(title: str, rows: list[dict], record: dict, command: str) -> str:
    columns = list(rows[0]) if rows else []
    lines = [f"## {title}", "", f"`{command}` on {record['cpu']} ({record['logical_cores']} logical cores), "
             f"numpy {record['numpy']} with {record['blas']}"
             + (f", torch {record['torch']} ({record['torch_threads']} threads)" if "torch" in record else "")
             + f", {record['date']}.", ""]
    if columns:
        lines += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        for row in rows:
            lines.append("| " + " | ".join(_cell(row[c]) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def write_table(out_dir, name: str, title: str, rows: list[dict], *, command: str, extra: dict | None = None) -> str:
    """Write ``name.json`` and ``name.md`` into ``out_dir``; return the Markdown (also for printing)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    record = machine()
    (out / f"{name}.json").write_text(json.dumps({"title": title, "command": command, "machine": record,
                                                  "rows": rows, **(extra or {})}, indent=1) + "\n", encoding="utf-8")
    text = _markdown(title, rows, record, command)
    (out / f"{name}.md").write_text(text, encoding="utf-8")
    return text
