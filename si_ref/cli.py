"""The ``si-ref`` command line.

Subcommands grow with the project; today:

* ``si-ref --version`` / ``si-ref --help``;
* ``si-ref validate [--out DIR] [--quick] [--only NAME ...] [--seed N]``: run the
  validation studies and write ``DIR/REPORT.md`` (see :mod:`si_ref.validate`);
* ``si-ref demo [--seed N] [--n N]``: a short, self-checking tour (schedule
  values, and Monte Carlo moments of x_t against their closed forms);
* ``si-ref check MODULE:CALLABLE --quantity NAME [--case NAME | --interpolant NAME |
  --gamma NAME] [--eps E] [...]``: check another implementation with the
  conformance checker (:mod:`si_ref.conformance`) and print the report; exit
  status 0 when it conforms, 1 when not; ``si-ref check --list`` lists the
  quantities and the named references;
* ``si-ref golden write --out DIR`` (also ``si-ref golden --out DIR``): write the
  golden test vectors (:mod:`si_ref.golden`); ``si-ref golden verify DIR
  MODULE:CALLABLE --quantity NAME [--case | --interpolant | --gamma NAME]``: check an
  implementation against stored vectors;
* ``si-ref exercises list | init DIR [--force] | check FILE_OR_DIR``: the classroom
  exercises (:mod:`si_ref.validation.exercises`), copied into and checked in the
  student's own folder;
* ``si-ref benchmarks [--out DIR] [--quick] [--only NAME ...]``: the benchmarks of
  :mod:`si_ref.validation.benchmarks`.

Long work runs with the BLAS threads of :mod:`si_ref.threads` (one, unless the
user set a thread variable) and shows progress on a terminal
(:mod:`si_ref.progress`; ``--quiet`` silences it). A usage error prints the
subcommand's usage and exits with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import pkgutil
import sys
import textwrap
from pathlib import Path

import numpy as np

from . import __version__
from .distributions import Gaussian
from .interpolants import LinearInterpolant
from .schedules import BrownianGamma


def _demo(seed: int, n: int) -> int:
    """Print schedule values and compare sample moments of x_t with the exact ones.

    For independent x0 ~ N(m0, S0), x1 ~ N(m1, S1) and z ~ N(0, I),
    x_t ~ N(α m0 + β m1, α² S0 + β² S1 + γ² I).
    """
    interpolant = LinearInterpolant(BrownianGamma())
    grid = np.linspace(0.0, 1.0, 5)
    print("Linear interpolant, Brownian gamma: x_t = (1 - t) x0 + t x1 + sqrt(t (1 - t)) z")
    print(f"{'t':>6} {'alpha':>8} {'beta':>8} {'gamma':>8} {'gamma_dot':>10} {'gamma*gamma_dot':>16}")
    for t in grid:
        print(
            f"{t:6.2f} {interpolant.alpha(t):8.4f} {interpolant.beta(t):8.4f} "
            f"{interpolant.gamma(t):8.4f} {interpolant.gamma_dot(t):10.4f} "
            f"{interpolant.gamma_gamma_dot(t):16.4f}"
        )
    rng = np.random.default_rng(seed)
    base = Gaussian(np.zeros(2), np.eye(2))
    target = Gaussian(np.array([2.0, -1.0]), np.array([[1.0, 0.5], [0.5, 2.0]]))
    t = 0.3
    x = interpolant.sample(t, base.sample(n, rng), target.sample(n, rng), rng).x
    a, b, g = interpolant.alpha(t), interpolant.beta(t), interpolant.gamma(t)
    exact_mean = a * base.mean + b * target.mean
    exact_cov = a**2 * base.cov + b**2 * target.cov + g**2 * np.eye(2)
    mean_error = np.max(np.abs(x.mean(axis=0) - exact_mean))
    cov_error = np.max(np.abs(np.cov(x.T) - exact_cov))
    # Six standard errors: var(sample mean) = S_ii / n, var(sample cov_ij) <= 2 max_i S_ii² / n.
    largest_variance = float(np.max(np.diag(exact_cov)))
    mean_tolerance = 6.0 * np.sqrt(largest_variance / n)
    cov_tolerance = 6.0 * np.sqrt(2.0 / n) * largest_variance
    ok = mean_error < mean_tolerance and cov_error < cov_tolerance
    print(f"\nMonte Carlo check at t = {t} with n = {n} samples (seed {seed}):")
    print(f"  max |sample mean - exact mean| = {mean_error:.2e}  (tolerance {mean_tolerance:.2e})")
    print(f"  max |sample cov  - exact cov | = {cov_error:.2e}  (tolerance {cov_tolerance:.2e})")
    print("  PASS" if ok else "  FAIL")
    return 0 if ok else 1


def _load_callable(spec: str):
    """``module:attr`` or ``path/to/file.py:attr`` (``attr`` may be dotted) -> the object."""
    module_name, sep, attribute = spec.rpartition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"expected MODULE:CALLABLE such as my_package.fields:drift or my_file.py:drift; received {spec!r}.")
    if module_name.endswith(".py") or "/" in module_name:
        path = Path(module_name)
        if not path.is_file():
            raise ValueError(f"no such file {module_name!r}; give a path to a .py file or an importable module name.")
        loader_spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules.setdefault(path.stem, module)
        loader_spec.loader.exec_module(module)
    else:
        if "" not in sys.path and "." not in sys.path:
            sys.path.insert(0, "")   # like python -m: the current folder is importable
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ValueError(f"cannot import module {module_name!r} ({exc}); check the name or pass a file path.") from None
    obj = module
    for part in attribute.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"{module_name} has no attribute {attribute!r}.")
        obj = getattr(obj, part)
    return obj


#: Width of the lines of ``si-ref check --list`` (names 30 columns, then the plain-text summary).
LIST_WIDTH = 120


def _list_quantities() -> int:
    from . import references
    from .quantities import LEVELS, QUANTITIES, plain_summary

    print("Quantities (si-ref check ... --quantity NAME):")
    for level in LEVELS:
        print(f"\n  {level} level:")
        for name, q in QUANTITIES.items():
            if q.level == level:
                print(f"    {name:30s} {plain_summary(q)}")
    print("\nNamed references:")
    for option, names in (("--gamma", references.GAMMA_SCHEDULES), ("--interpolant", references.INTERPOLANTS),
                          ("--case", {**references.CASES, **references.DIFFUSION_CASES})):
        lines = textwrap.wrap(", ".join(names), width=LIST_WIDTH - 17, break_on_hyphens=False)
        print(f"  {option:14s} " + ("\n" + " " * 17).join(lines))
    return 0


def _reference(args, parser):
    """The named reference of ``--case``/``--interpolant``/``--gamma`` (at most one), or None."""
    from . import references

    chosen = [name for name in ("case", "interpolant", "gamma") if getattr(args, name) is not None]
    if len(chosen) > 1:
        parser.error(f"give at most one of --case, --interpolant, --gamma; received {['--' + c for c in chosen]}")
    if args.case is not None:
        if args.case in references.DIFFUSION_CASES:
            return references.diffusion_case(args.case)
        return references.case(args.case)
    if args.interpolant is not None:
        return references.interpolant(args.interpolant)
    if args.gamma is not None:
        return references.gamma_schedule(args.gamma)
    return None


def _check(args, parser) -> int:
    from . import conformance
    from .quantities import quantity

    if args.list:
        return _list_quantities()
    if args.target is None or args.quantity is None:
        parser.error("check needs MODULE:CALLABLE and --quantity NAME (see si-ref check --list)")
    try:
        q = quantity(args.quantity)
        reference = _reference(args, parser)
        implementation = _load_callable(args.target)
        report = conformance.check(implementation, q.name, reference, eps=args.eps, times=args.times,
                                   min_t=args.min_t, max_t=args.max_t, rtol=args.rtol, atol=args.atol,
                                   max_examples=args.max_examples, seed=args.seed, shrink=not args.no_shrink,
                                   fixed=not args.no_fixed)
    except (ValueError, TypeError) as exc:
        parser.error(str(exc))
    if reference is None and q.takes_factory:
        print(f"(no reference given: {args.target} was called as a factory, make(reference) -> callable, "
              f"with drawn references)")
    print(report)
    return 0 if report.passed else 1


def _golden(args, parser) -> int:
    from . import golden
    from .validate import writable_folder

    if args.action is not None and args.out is not None:
        parser.error(f"--out belongs after 'write' (si-ref golden write --out DIR); received it before {args.action!r}")
    if args.action == "verify":
        try:
            reference = _reference(args, parser)
            implementation = _load_callable(args.target)
            report = golden.verify(args.directory, args.quantity, implementation, reference=reference,
                                   rtol=args.rtol, atol=args.atol)
        except (ValueError, TypeError) as exc:
            parser.error(str(exc))
        print(report)
        return 0 if report.passed else 1
    out = args.out if args.action is None else args.write_out
    if out is None:
        parser.error("give an action: si-ref golden write --out DIR, or si-ref golden verify DIR MODULE:CALLABLE "
                     "--quantity NAME")
    try:
        writable_folder(out)
        written = golden.write(out)
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
    print(f"golden test vectors written to {written}")
    return 0


def _exercises(args, parser) -> int:
    from .validation import exercises

    if args.action == "list":
        for name, topic in exercises.topics().items():
            print(f"{name:24s} {topic}")
        print("\nCopy them into a folder of yours with si-ref exercises init DIR, edit, then "
              "si-ref exercises check DIR.")
        return 0
    if args.action == "init":
        try:
            written = exercises.init_folder(args.folder, force=args.force)
        except ValueError as exc:
            parser.error(str(exc))
        for path in written:
            print(f"  {path}")
        print(f"{len(written)} exercise stubs copied into {args.folder}. Fill in the functions marked "
              f"'your code', then run: si-ref exercises check {args.folder}")
        return 0
    if args.action == "check":
        if args.max_examples < 1:
            parser.error(f"--max-examples must be an integer >= 1; received {args.max_examples}")
        try:
            files = exercises.exercise_files(args.path)
        except ValueError as exc:
            parser.error(str(exc))
        from .validation.exercises._common import print_reports

        status = 0
        for name, path in files.items():
            print(f"=== {name} ({path})")
            exercise = importlib.import_module(f"si_ref.validation.exercises.{name}")
            try:
                student = exercises.load_student_file(path)
            except Exception as exc:   # the student's file does not even import: say so, go on
                print(f"{path} could not be imported: {type(exc).__name__}: {exc}\n")
                status = 1
                continue
            status |= print_reports(exercise.check(student, max_examples=args.max_examples))
            print()
        return status
    parser.error("give an action: list, init DIR or check FILE_OR_DIR")
    return 2  # pragma: no cover - parser.error exits


def _benchmarks(args, parser) -> int:
    from .validation.benchmarks.__main__ import main as benchmarks_main
    from .validate import writable_folder

    try:
        writable_folder(args.out)
    except ValueError as exc:
        parser.error(str(exc))
    argv = ["--out", args.out] + (["--quick"] if args.quick else []) + (["--only", *args.only] if args.only else [])
    return benchmarks_main(argv)


def study_names() -> list[str]:
    """Names of the validation studies (modules of :mod:`si_ref.validation`), without importing them."""
    from . import validation

    return sorted(info.name for info in pkgutil.iter_modules(validation.__path__)
                  if not info.ispkg and not info.name.startswith("_"))


def _add_reference_options(parser) -> None:
    parser.add_argument("--case", help="named Gaussian case (fields, wrappers, steps) or diffusion case "
                        "(diffusion fields, conversions, steps)")
    parser.add_argument("--interpolant", help="named interpolant (alpha, beta, interpolant, ...)")
    parser.add_argument("--gamma", help="named gamma schedule (gamma, gamma_dot, gamma_gamma_dot)")


def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    """The ``si-ref`` parser and its subcommand parsers by name (errors print the subcommand's usage)."""
    parser = argparse.ArgumentParser(
        prog="si-ref",
        description="si_ref: NumPy reference implementation of stochastic interpolants.",
    )
    parser.add_argument("--version", action="version", version=f"si_ref {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub = {}
    quiet = argparse.ArgumentParser(add_help=False)
    quiet.add_argument("--quiet", action="store_true", help="no progress lines (shown only on a terminal anyway)")

    sub["validate"] = validate = commands.add_parser(
        "validate", parents=[quiet], help="run every validation study and write a report with figures",
        description="Run the validation studies and write OUT/REPORT.md with figures. Exit status 0 when every "
                    "check passes, 1 when one fails, 2 for a usage error. Studies: " + ", ".join(study_names()) + ".")
    validate.add_argument("--out", default="si_ref_report", help="output folder (default ./si_ref_report)")
    validate.add_argument("--quick", action="store_true", help="small sizes and their tolerances (about a minute)")
    validate.add_argument("--only", nargs="+", metavar="NAME", help="run only these studies: " + ", ".join(study_names()))
    validate.add_argument("--seed", type=int, default=0, help="random seed (default 0)")

    sub["demo"] = demo = commands.add_parser("demo", help="print a short self-checking tour of si_ref")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--n", type=int, default=100_000, help="Monte Carlo sample size (default 100000)")

    sub["check"] = check = commands.add_parser(
        "check", parents=[quiet], help="check another implementation against si_ref's exact values",
        description="Check MODULE:CALLABLE (a module name or a .py file, then the attribute) as the named quantity. "
                    "With --case/--interpolant/--gamma the callable is the implementation itself; without, it is a "
                    "factory make(reference) -> callable called with drawn si_ref references (wrappers and steps "
                    "need no factory). Exit status 0 when it conforms, 1 when not, 2 for a usage error.")
    check.add_argument("target", nargs="?", metavar="MODULE:CALLABLE")
    check.add_argument("--quantity", help="quantity name (see --list)")
    _add_reference_options(check)
    check.add_argument("--eps", type=float, help="eps of the SDE drifts and the SDE steps")
    check.add_argument("--times", type=float, nargs="+", help="check only at these times")
    check.add_argument("--min-t", type=float, help="check only at times >= MIN_T")
    check.add_argument("--max-t", type=float, help="check only at times <= MAX_T")
    check.add_argument("--rtol", type=float, help="relative tolerance (default 1e-6; 1e-5 for float32 results)")
    check.add_argument("--atol", type=float, help="absolute tolerance (default 1e-8; 1e-6 for float32 results)")
    check.add_argument("--no-fixed", action="store_true",
                       help="skip the fixed endpoint and far-point inputs (for approximate, fitted fields)")
    check.add_argument("--max-examples", type=int, default=100, help="inputs to draw (default 100)")
    check.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    check.add_argument("--no-shrink", action="store_true", help="report the first failure without shrinking it")
    check.add_argument("--list", action="store_true", help="list the quantities and named references, then exit")

    sub["golden"] = golden = commands.add_parser(
        "golden", help="write the golden test vectors, or verify an implementation against them",
        description="si-ref golden write --out DIR writes the vectors (npz + JSON + manifest); "
                    "si-ref golden verify DIR MODULE:CALLABLE --quantity NAME checks an implementation against them.")
    golden.add_argument("--out", help="output folder (same as: golden write --out DIR)")
    actions = golden.add_subparsers(dest="action", metavar="ACTION")
    sub["golden write"] = write = actions.add_parser("write", help="write the vectors into --out DIR")
    write.add_argument("--out", dest="write_out", required=True, help="output folder")
    sub["golden verify"] = verify = actions.add_parser(
        "verify", parents=[quiet], help="check MODULE:CALLABLE against the stored vectors of one quantity",
        description="Call MODULE:CALLABLE on the stored inputs of --quantity and compare with the stored outputs. "
                    "With --case/--interpolant/--gamma the callable is the implementation for that reference; "
                    "without, a factory make(reference) -> callable. Exit status 0 when it conforms, 1 when not.")
    verify.add_argument("directory", metavar="DIR", help="folder written by si-ref golden write")
    verify.add_argument("target", metavar="MODULE:CALLABLE")
    verify.add_argument("--quantity", required=True, help="quantity name (see si-ref check --list)")
    _add_reference_options(verify)
    verify.add_argument("--rtol", type=float, help="relative tolerance (default 1e-6; 1e-5 for float32 results)")
    verify.add_argument("--atol", type=float, help="absolute tolerance (default 1e-8; 1e-6 for float32 results)")

    sub["exercises"] = exercises = commands.add_parser(
        "exercises", help="classroom exercises: list them, copy the stubs, check your files",
        description="si-ref exercises list; si-ref exercises init DIR copies the stubs into DIR; "
                    "si-ref exercises check FILE_OR_DIR checks your files (never the installed copies).")
    actions = exercises.add_subparsers(dest="action", metavar="ACTION")
    sub["exercises list"] = actions.add_parser("list", help="the exercises and their topics")
    sub["exercises init"] = init = actions.add_parser("init", help="copy the exercise stubs into a folder of yours")
    init.add_argument("folder", metavar="DIR")
    init.add_argument("--force", action="store_true", help="overwrite exercise files already in DIR")
    sub["exercises check"] = ex_check = actions.add_parser("check", parents=[quiet], help="check your exercise files")
    ex_check.add_argument("path", metavar="FILE_OR_DIR")
    ex_check.add_argument("--max-examples", type=int, default=100, help="inputs per check (default 100)")

    sub["benchmarks"] = benchmarks = commands.add_parser(
        "benchmarks", parents=[quiet], help="time si_ref against its peers (tables as JSON and Markdown)")
    benchmarks.add_argument("--out", default="si_ref_benchmarks", help="output folder (default ./si_ref_benchmarks)")
    benchmarks.add_argument("--quick", action="store_true", help="few repeats and small sizes (a smoke run)")
    benchmarks.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks")
    return parser, sub


def _run(args, parser, sub) -> int:
    command = args.command
    if command == "validate":
        if args.seed < 0:
            sub["validate"].error(f"--seed must be a non-negative integer; received {args.seed}")
        from .validate import run_validation

        try:
            return run_validation(args.out, quick=args.quick, only=args.only, seed=args.seed)
        except ValueError as exc:
            sub["validate"].error(str(exc))
    if command == "demo":
        if args.n < 2:
            sub["demo"].error(f"--n must be at least 2; received {args.n}")
        if args.seed < 0:
            sub["demo"].error(f"--seed must be a non-negative integer; received {args.seed}")
        return _demo(args.seed, args.n)
    if command == "check":
        return _check(args, sub["check"])
    if command == "golden":
        action = args.action
        return _golden(args, sub["golden" if action is None else f"golden {action}"])
    if command == "exercises":
        return _exercises(args, sub["exercises" if args.action is None else f"exercises {args.action}"])
    if command == "benchmarks":
        return _benchmarks(args, sub["benchmarks"])
    parser.print_help()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``si-ref`` console script; returns the exit status."""
    from . import progress
    from .threads import blas_threads

    parser, sub = build_parser()
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        stack.enter_context(blas_threads())
        if getattr(args, "quiet", False):
            stack.enter_context(progress.quiet())
        return _run(args, parser, sub)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
