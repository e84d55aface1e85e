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
* ``si-ref golden --out DIR``: write the golden test vectors (:mod:`si_ref.golden`).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
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


def _list_quantities() -> int:
    from . import references
    from .quantities import QUANTITIES

    print("Quantities (si-ref check ... --quantity NAME):")
    for level in ("schedule", "interpolant", "field", "wrapper", "step"):
        print(f"\n  {level} level:")
        for name, q in QUANTITIES.items():
            if q.level == level:
                print(f"    {name:30s} {q.summary.splitlines()[0][:100]}")
    print("\nNamed references:")
    print(f"  --gamma        {', '.join(references.GAMMA_SCHEDULES)}")
    print(f"  --interpolant  {', '.join(references.INTERPOLANTS)}")
    print(f"  --case         {', '.join(references.CASES)}")
    return 0


def _check(args, parser) -> int:
    from . import conformance, references
    from .quantities import quantity

    if args.list:
        return _list_quantities()
    if args.target is None or args.quantity is None:
        parser.error("check needs MODULE:CALLABLE and --quantity NAME (see si-ref check --list)")
    chosen = [name for name in ("case", "interpolant", "gamma") if getattr(args, name) is not None]
    if len(chosen) > 1:
        parser.error(f"give at most one of --case, --interpolant, --gamma; received {chosen}")
    try:
        q = quantity(args.quantity)
        reference = None
        if args.case is not None:
            reference = references.case(args.case)
        elif args.interpolant is not None:
            reference = references.interpolant(args.interpolant)
        elif args.gamma is not None:
            reference = references.gamma_schedule(args.gamma)
        implementation = _load_callable(args.target)
        report = conformance.check(implementation, q.name, reference, eps=args.eps, times=args.times,
                                   rtol=args.rtol, atol=args.atol, max_examples=args.max_examples,
                                   seed=args.seed, shrink=not args.no_shrink)
    except (ValueError, TypeError) as exc:
        parser.error(str(exc))
    if reference is None and q.level not in ("wrapper", "step"):
        print(f"(no reference given: {args.target} was called as a factory, make(reference) -> callable, "
              f"with drawn references)")
    print(report)
    return 0 if report.passed else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="si-ref",
        description="si_ref: NumPy reference implementation of stochastic interpolants.",
    )
    parser.add_argument("--version", action="version", version=f"si_ref {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    validate = commands.add_parser("validate", help="run every validation study and write a report with figures")
    validate.add_argument("--out", default="si_ref_report", help="output folder (default ./si_ref_report)")
    validate.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    validate.add_argument("--only", nargs="+", metavar="NAME", help="run only these studies")
    validate.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo = commands.add_parser("demo", help="print a short self-checking tour of si_ref")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--n", type=int, default=100_000, help="Monte Carlo sample size (default 100000)")
    check = commands.add_parser(
        "check", help="check another implementation against si_ref's exact values",
        description="Check MODULE:CALLABLE (a module name or a .py file, then the attribute) as the named quantity. "
                    "With --case/--interpolant/--gamma the callable is the implementation itself; without, it is a "
                    "factory make(reference) -> callable called with drawn si_ref references (wrappers and steps "
                    "need no factory). Exit status 0 when it conforms, 1 when not, 2 for a usage error.")
    check.add_argument("target", nargs="?", metavar="MODULE:CALLABLE")
    check.add_argument("--quantity", help="quantity name (see --list)")
    check.add_argument("--case", help="named Gaussian case (fields, wrappers, steps)")
    check.add_argument("--interpolant", help="named interpolant (alpha, beta, interpolant, ...)")
    check.add_argument("--gamma", help="named gamma schedule (gamma, gamma_dot, gamma_gamma_dot)")
    check.add_argument("--eps", type=float, help="eps of the SDE drifts and the Euler-Maruyama step")
    check.add_argument("--times", type=float, nargs="+", help="check only at these times")
    check.add_argument("--rtol", type=float, default=1e-6, help="relative tolerance (default 1e-6)")
    check.add_argument("--atol", type=float, default=1e-8, help="absolute tolerance (default 1e-8)")
    check.add_argument("--max-examples", type=int, default=100, help="inputs to draw (default 100)")
    check.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    check.add_argument("--no-shrink", action="store_true", help="report the first failure without shrinking it")
    check.add_argument("--list", action="store_true", help="list the quantities and named references, then exit")
    golden = commands.add_parser("golden", help="write the golden test vectors (npz + JSON + manifest)")
    golden.add_argument("--out", required=True, help="output folder")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``si-ref`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "validate":
        if args.seed < 0:
            parser.error(f"--seed must be a non-negative integer; received {args.seed}")
        from .validate import run_validation

        try:
            return run_validation(args.out, quick=args.quick, only=args.only, seed=args.seed)
        except ValueError as exc:
            parser.error(str(exc))
    if args.command == "demo":
        if args.n < 2:
            parser.error(f"--n must be at least 2; received {args.n}")
        if args.seed < 0:
            parser.error(f"--seed must be a non-negative integer; received {args.seed}")
        return _demo(args.seed, args.n)
    if args.command == "check":
        return _check(args, parser)
    if args.command == "golden":
        from .golden import write

        try:
            out = write(args.out)
        except (ValueError, OSError) as exc:
            parser.error(str(exc))
        print(f"golden test vectors written to {out}")
        return 0
    parser.print_help()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
