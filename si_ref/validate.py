"""``si-ref validate``: run every validation study and write ``REPORT.md`` with figures.

Studies are the modules of the ``validation`` package that follow the protocol
of ``si_ref/validation/_common.py`` (``TITLE``, ``SUMMARY``, ``QUICK``, ``run``,
``checks``); they are discovered, not listed here. A study whose optional
dependency is absent returns ``{"skipped": reason}`` and no checks: it is shown
as SKIPPED with the reason (and the install command) and does not fail the run. Each study writes its
figures into ``OUT/<name>/``; the report references them by relative path.
The report holds no timings, so it is byte-identical for a given seed; the
terminal shows progress and elapsed times. No check is ever a wall-clock time:
a correct install passes however slow or busy the machine.

``--quick`` runs each study with its ``QUICK`` keyword arguments: smaller sizes
and, where a study defines ``QUICK_TOLERANCES``, the tolerances that those
sizes can meet (still tight enough to catch a wrong field); the report states
the sizes and which tolerances were used.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from . import __version__, progress
from .threads import blas_threads

__all__ = ["discover_studies", "run_validation", "writable_folder"]

REQUIRED = ("TITLE", "SUMMARY", "QUICK", "run", "checks")


def discover_studies() -> dict:
    """Name -> module for every study in the ``validation`` package, in alphabetical order."""
    try:
        import si_ref.validation as validation
    except ImportError as exc:  # pragma: no cover - packaging error
        raise RuntimeError(f"the validation studies are not installed ({exc}); reinstall si_ref with pip install .") from exc
    studies = {}
    for info in sorted(pkgutil.iter_modules(validation.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"si_ref.validation.{info.name}")
        if all(hasattr(module, attribute) for attribute in REQUIRED):
            studies[info.name] = module
    return studies


def writable_folder(out, option: str = "--out") -> Path:
    """Create ``out`` if needed and make sure a file can be written there; returns it as a Path.

    Every subcommand that writes files checks its folder with this, so an unwritable
    folder gives the same message everywhere, before any work is done.

    Raises
    ------
    ValueError
        ``out`` cannot be created or written (the message names ``option`` and the reason).
    """
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ValueError(f"{option} {str(out)!r} is not a writable folder ({reason}); pass another {option}.") from None
    return out


def _format_value(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.3g}"


def _sizes_line(module, quick: bool) -> str:
    """Which sizes and tolerances the study ran with (stated in the report)."""
    if not quick:
        return "Default sizes and tolerances."
    sizes = ", ".join(f"{key}={value}" for key, value in module.QUICK.items())
    which = ("the quick tolerances (`QUICK_TOLERANCES`, shown in the table)" if getattr(module, "QUICK_TOLERANCES", None)
             else "the default tolerances")
    return f"Quick run: {sizes or 'default sizes'}; {which}."


def _study_section(index, name, module, checks, figures, error, out, skipped=None, quick=False):
    lines = [f"## {index}. {module.TITLE} (`{name}`)", "", module.SUMMARY, "", _sizes_line(module, quick), ""]
    if skipped:
        lines += [f"**SKIPPED**: {skipped}", ""]
    if error is not None:
        lines += ["**FAILED to run**:", "", "```", error.strip(), "```", ""]
    if checks:
        lines += ["| check | measured | tolerance | result |", "|---|---|---|---|"]
        for c in checks:
            comparison, bound = c.tolerance
            lines.append(f"| {c.name} | {_format_value(c.value)} | {comparison} {bound:g} | {'PASS' if c.passed else 'FAIL'} |")
        lines.append("")
    for figure in figures:
        relative = Path(figure).resolve().relative_to(out.resolve()).as_posix()
        lines += [f"![{Path(figure).stem}]({relative})", ""]
    return lines


def run_validation(out_dir="si_ref_report", *, quick=False, only=None, seed=0, stream=None) -> int:
    """Run the studies (all, or those named in ``only``) and write ``out_dir/REPORT.md``.

    Returns the exit status: 0 when every check of every study passed, else 1.

    Raises
    ------
    ValueError
        For an unknown study name (the valid names are listed) or an unwritable folder,
        before any study runs.
    """
    stream = sys.stdout if stream is None else stream
    studies = discover_studies()
    if only:
        unknown = [name for name in only if name not in studies]
        if unknown:
            raise ValueError(f"unknown study {unknown}; valid names: {sorted(studies)}.")
        studies = {name: studies[name] for name in studies if name in only}
    out = writable_folder(out_dir)

    header = [
        "# si_ref validation report", "",
        f"si_ref {__version__}; seed {seed}; {'quick' if quick else 'default'} sizes.", "",
    ]
    body, summary, all_passed = [], [], True
    start = time.perf_counter()
    for index, (name, module) in enumerate(studies.items(), start=1):
        print(f"[{index}/{len(studies)}] {name}: {module.TITLE} ...", file=stream, flush=True)
        began = time.perf_counter()
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        checks, figures, error, skipped = [], [], None, None
        try:
            with progress.task(f"[{index}/{len(studies)}] {name}"), blas_threads():
                results = module.run(folder, seed=seed, **(module.QUICK if quick else {}))
            checks = module.checks(results)
            figures = list(results.get("figures", []))
            skipped = results.get("skipped")   # an optional dependency is absent: reported, not failed
        except Exception:  # a failing study is reported, the others still run
            error = traceback.format_exc(limit=3)
        passed = error is None and all(c.passed for c in checks)
        all_passed &= passed
        failed = sum(not c.passed for c in checks)
        verdict = "SKIPPED" if skipped and passed else ("PASS" if passed else "FAIL")
        detail = f" ({skipped})" if skipped else ""
        print(f"    {verdict}: {len(checks) - failed}/{len(checks)} checks passed{detail}"
              f"{' (the study raised an error)' if error else ''}; {time.perf_counter() - began:.1f} s "
              f"(total {time.perf_counter() - start:.1f} s)", file=stream, flush=True)
        summary.append(f"- {module.TITLE} (`{name}`): {verdict}")
        body += _study_section(index, name, module, checks, figures, error, out, skipped, quick)
    text = "\n".join(header + ["## Summary", ""] + summary + [""] + body)
    (out / "REPORT.md").write_text(text + "\n", encoding="utf-8")
    print(f"{'PASS' if all_passed else 'FAIL'}: report written to {out / 'REPORT.md'}", file=stream, flush=True)
    return 0 if all_passed else 1
