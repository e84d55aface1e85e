"""Classroom exercises on stochastic interpolants, each checked by ``si_ref.conformance``.

Each exercise is a module ``exNN_<topic>.py`` of this package: its docstring states
the task in si_ref's convention (t = 0 is the base x0, t = 1 the target x1;
x_t = α x0 + β x1 + γ z; score s = ∇ log ρ_t; noise η = E[z | x_t] = −γ s;
drift b = v − γγ̇ s; points of shape (n, d), t a scalar or of shape (n,)), the
student fills in its stubs, and

    python -m si_ref.validation.exercises.ex01_gamma_schedule

runs the conformance checker on them and prints its reports (exit status 0 when
all pass). ``python -m si_ref.validation.exercises`` checks every exercise and prints one
line per exercise; ``--solutions`` checks the reference solutions instead.

Reference solutions are in ``si_ref/validation/exercises/solutions/``, with the same
function names. Try the exercise first.

This package is not a validation study (``si-ref validate`` skips it): it defines
none of the study attributes, and importing it imports no exercise.
"""

from __future__ import annotations

import argparse
import importlib

__all__ = ["EXERCISES", "check_all", "main"]

#: Exercise modules, in the order they are meant to be done.
EXERCISES = (
    "ex01_gamma_schedule",
    "ex02_interpolant",
    "ex03_gaussian_fields",
    "ex04_wrappers",
    "ex05_euler_maruyama",
    "ex06_ridge_fit",
)


def check_all(*, solutions: bool = False, max_examples: int | None = None) -> dict:
    """Run every exercise's ``check``; returns ``{exercise name: list of Report}``.

    ``solutions=True`` checks the modules of ``validation.exercises.solutions``
    instead of the student files; ``max_examples`` (default: each exercise's own)
    is passed on to the conformance checker.
    """
    out = {}
    for name in EXERCISES:
        exercise = importlib.import_module(f"{__name__}.{name}")
        target = importlib.import_module(f"{__name__}.solutions.{name}") if solutions else exercise
        options = {} if max_examples is None else {"max_examples": max_examples}
        out[name] = exercise.check(target, **options)
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m si_ref.validation.exercises [--solutions] [--max-examples N]``: one line per exercise.

    Returns the exit status: 0 when every check of every exercise passed, else 1.
    """
    parser = argparse.ArgumentParser(prog="python -m si_ref.validation.exercises",
                                     description="Check every classroom exercise with si_ref's conformance checker.")
    parser.add_argument("--solutions", action="store_true", help="check the reference solutions instead")
    parser.add_argument("--max-examples", type=int, default=None, help="inputs drawn per check (default: each exercise's)")
    args = parser.parse_args(argv)
    if args.max_examples is not None and args.max_examples < 1:
        parser.error(f"--max-examples must be an integer >= 1; received {args.max_examples}.")
    results = check_all(solutions=args.solutions, max_examples=args.max_examples)
    for name, reports in results.items():
        passed = sum(r.passed for r in reports)
        failing = ", ".join(r.quantity for r in reports if not r.passed)
        print(f"{name}: {'PASS' if passed == len(reports) else 'FAIL'} ({passed}/{len(reports)} checks passed"
              f"{'; failing: ' + failing if failing else ''})")
    done = sum(all(r.passed for r in reports) for reports in results.values())
    print(f"{done}/{len(results)} exercises pass. Run python -m si_ref.validation.exercises.<name> for the full reports.")
    return 0 if done == len(results) else 1
