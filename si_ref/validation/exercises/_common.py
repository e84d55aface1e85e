"""What the exercises share: which module to check, and printing the reports."""

from __future__ import annotations

import sys
from types import ModuleType

__all__ = ["module_or_self", "print_reports"]


def module_or_self(module: ModuleType | None, name: str) -> ModuleType:
    """``module``, or the exercise module called ``name`` (also when it runs as ``__main__``)."""
    return sys.modules[name] if module is None else module


def print_reports(reports: list) -> int:
    """Print each conformance report and a last line; returns the exit status (0 when all passed)."""
    for report in reports:
        print(report)
        print()
    passed = sum(r.passed for r in reports)
    print(f"{passed}/{len(reports)} checks passed." + ("" if passed == len(reports) else
          " Read the counterexample and the diagnosis above, fix, and run again."))
    return 0 if passed == len(reports) else 1
