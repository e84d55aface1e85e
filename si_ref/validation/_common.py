"""What every validation study shares: its checks, how they are judged, how figures are saved.

A study is a module of this package (name not starting with "_") that defines

* ``TITLE`` (str) and ``SUMMARY`` (str, what is checked and how);
* ``QUICK`` (dict): keyword arguments of ``run`` for a small, fast run whose checks
  all pass; a study whose small sizes cannot meet the default tolerances also
  defines ``QUICK_TOLERANCES`` (the overrides), puts ``tolerances="quick"`` in
  ``QUICK`` and records it as ``results["tolerances"]``;
* ``run(out_dir, *, seed=0, **sizes) -> dict``: measures, writes PNG figures into
  ``out_dir`` and returns the measured numbers, with the figure paths under
  ``"figures"``; deterministic for a given seed; prints nothing;
* ``checks(results) -> list[Check]``;

and can be run alone with ``python -m si_ref.validation.<name> --out DIR``.
``si-ref validate`` discovers the studies and collects their checks into a report.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import time
from pathlib import Path
from typing import NamedTuple

from si_ref.progress import quiet
from si_ref.threads import blas_threads

__all__ = ["Check", "evaluate", "save_figure", "run_alone", "check_table", "report_footer"]


class Check(NamedTuple):
    """One acceptance check: ``tolerance`` is ``(comparison, bound)`` with comparison "<=" or ">="."""

    name: str
    value: float
    tolerance: tuple[str, float]
    passed: bool


def evaluate(results: dict, tolerances: dict, quick_tolerances: dict | None = None) -> list[Check]:
    """Judge ``results[name]`` against ``tolerances[name] = (comparison, bound)``; missing or NaN fails.

    When ``results["tolerances"] == "quick"`` (a run at the study's ``QUICK`` sizes), the
    entries of ``quick_tolerances`` replace those of ``tolerances``.
    """
    if results.get("tolerances") == "quick" and quick_tolerances:
        tolerances = {**tolerances, **quick_tolerances}
    out = []
    for name, (comparison, bound) in tolerances.items():
        value = float(results.get(name, math.nan))
        if comparison == "<=":
            passed = value <= bound
        elif comparison == ">=":
            passed = value >= bound
        else:
            raise ValueError(f"tolerance comparison must be '<=' or '>='; received {comparison!r} for {name!r}.")
        out.append(Check(name, value, (comparison, float(bound)), bool(passed)))   # NaN compares False
    return out


def check_table(results: dict, checks: list, descriptions: dict, *, width: int, value_format: str,
                bound_format: str) -> list[str]:
    """Text rows ``description  value  tolerance  ok`` for each of ``descriptions`` (name -> description).

    ``value_format`` formats the measured value with its column width (e.g. ``"10.3g"``),
    ``bound_format`` the tolerance's bound (e.g. ``"g"``); quantities without a check get
    empty tolerance and verdict columns.
    """
    verdicts = {c.name: c for c in checks}
    value_width = int(value_format.split(".")[0])
    lines = [f"  {'quantity':<{width}} {'value':>{value_width}}  {'tolerance':>9}  ok"]
    for name, description in descriptions.items():
        value = results.get(name, math.nan)
        check = verdicts.get(name)
        bound = f"{check.tolerance[0]} {check.tolerance[1]:{bound_format}}" if check else ""
        status = ("PASS" if check.passed else "FAIL") if check else ""
        lines.append(f"  {description:<{width}} {value:{value_format}}  {bound:>9}  {status}")
    return lines


def report_footer(results: dict, checks: list) -> list[str]:
    """The figure paths and the overall verdict (the failed checks by name), as the last report lines."""
    failed = [c.name for c in checks if not c.passed]
    return ([""] + [f"  figure: {path}" for path in results.get("figures", [])] + [""]
            + ["  all checks PASS" if not failed else f"  FAILED: {', '.join(failed)}"])


def save_figure(fig, path, *, dpi=110) -> str:
    """Write a matplotlib ``Figure`` as PNG with the Agg canvas; returns the path as a string.

    No pyplot: no global backend state, no GUI, nothing left open between calls; no
    software version in the metadata, so the bytes depend only on the figure.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    path = Path(path)
    FigureCanvasAgg(fig)
    fig.savefig(path, format="png", dpi=dpi, metadata={"Software": None})
    return str(path)


def run_alone(study, argv: list[str] | None, description: str) -> int:
    """``python -m si_ref.validation.<name> --out DIR [--seed N] [--quick]``: run ``study``, print its report.

    ``study`` is the study's module (its ``run``, ``checks``, ``format_report`` and ``QUICK``);
    returns the exit status, 1 if any check fails.
    """
    name = getattr(getattr(study, "__spec__", None), "name", None) or study.__name__
    parser = argparse.ArgumentParser(prog=f"python -m {name}", description=description)
    parser.add_argument("--out", required=True, help="folder for the PNG figures (created if missing)")
    parser.add_argument("--seed", type=int, default=0, help="seed of numpy.random.default_rng (default 0)")
    parser.add_argument("--quick", action="store_true", help=f"small sizes {study.QUICK} (a few seconds)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines (shown only on a terminal anyway)")
    args = parser.parse_args(argv)
    if args.seed < 0:
        parser.error(f"seed must be an integer >= 0; received seed={args.seed}.")
    start = time.perf_counter()
    with contextlib.ExitStack() as stack:
        stack.enter_context(blas_threads())
        if args.quiet:
            stack.enter_context(quiet())
        results = study.run(args.out, seed=args.seed, **(dict(study.QUICK) if args.quick else {}))
    print(study.format_report(results))
    print(f"  runtime {time.perf_counter() - start:.1f} s (seed {args.seed}, {'quick' if args.quick else 'default'} sizes)")
    return 0 if all(c.passed for c in study.checks(results)) else 1
