"""The ``si-ref`` command line.

Subcommands grow with the project; today:

* ``si-ref --version`` / ``si-ref --help``;
* ``si-ref validate [--out DIR] [--quick] [--only NAME ...] [--seed N]``: run the
  validation studies and write ``DIR/REPORT.md`` (see :mod:`si_ref.validate`);
* ``si-ref demo [--seed N] [--n N]``: a short, self-checking tour (schedule
  values, and Monte Carlo moments of x_t against their closed forms).
"""

from __future__ import annotations

import argparse
import sys

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
    parser.print_help()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
