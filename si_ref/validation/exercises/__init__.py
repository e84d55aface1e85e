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
import importlib.util
import shutil
import sys
from pathlib import Path

__all__ = ["EXERCISES", "check_all", "exercise_files", "init_folder", "load_student_file", "main", "topics"]

#: Exercise modules, in the order they are meant to be done.
EXERCISES = (
    "ex01_gamma_schedule",
    "ex02_interpolant",
    "ex03_gaussian_fields",
    "ex04_wrappers",
    "ex05_euler_maruyama",
    "ex06_ridge_fit",
    "ex07_diffusion",
    "ex08_guidance",
)


def topics() -> dict:
    """Exercise name -> the first line of its task (its docstring's title)."""
    out = {}
    for name in EXERCISES:
        spec = importlib.util.find_spec(f"{__name__}.{name}")
        text = Path(spec.origin).read_text(encoding="utf-8")
        doc = text.split('"""', 2)[1] if '"""' in text else name
        out[name] = doc.strip().splitlines()[0]
    return out


def init_folder(folder, *, force: bool = False) -> list[Path]:
    """Copy every exercise stub into ``folder`` (created if missing); returns the written paths.

    Raises
    ------
    ValueError
        When a file of that name already exists there (nothing is overwritten unless
        ``force``), or the folder cannot be written.
    """
    folder = Path(folder)
    sources = {name: Path(importlib.util.find_spec(f"{__name__}.{name}").origin) for name in EXERCISES}
    existing = [str(folder / f"{name}.py") for name in EXERCISES if (folder / f"{name}.py").exists()]
    if existing and not force:
        raise ValueError(f"{existing[0]} already exists (and {len(existing) - 1} more); nothing was copied. "
                         f"Choose an empty folder, or pass --force to overwrite your work with fresh stubs.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return [Path(shutil.copyfile(source, folder / f"{name}.py")) for name, source in sources.items()]
    except OSError as exc:
        raise ValueError(f"cannot write the exercises into {str(folder)!r} ({exc.strerror}); choose another folder.") from None


def exercise_files(path) -> dict:
    """Exercise name -> the student's file: ``path`` itself (an ``exNN_*.py`` file) or those in a folder.

    Raises
    ------
    ValueError
        For a missing path, a file not named after an exercise, or a folder with none.
    """
    path = Path(path)
    if path.is_file():
        if path.stem not in EXERCISES:
            raise ValueError(f"{str(path)!r} is not named after an exercise; expected one of "
                             f"{[name + '.py' for name in EXERCISES]} (si-ref exercises list).")
        return {path.stem: path}
    if path.is_dir():
        found = {name: path / f"{name}.py" for name in EXERCISES if (path / f"{name}.py").is_file()}
        if not found:
            raise ValueError(f"no exercise file in {str(path)!r}; copy the stubs there first with "
                             f"si-ref exercises init {path}.")
        return found
    raise ValueError(f"no such file or folder {str(path)!r}; give an exercise file or the folder made by "
                     f"si-ref exercises init.")


def load_student_file(path) -> "object":
    """Import the student's file at ``path`` as a fresh module (never an installed or cached copy)."""
    path = Path(path).resolve()
    name = f"si_ref_student_{path.stem}_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module   # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


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
