"""``python -m si_ref.validation.benchmarks [--out DIR] [--quick] [--only NAME ...]``: run every benchmark."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time

import si_ref.validation.benchmarks as package


def discover() -> dict:
    found = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        if all(hasattr(module, a) for a in ("NAME", "TITLE", "run")):
            found[module.NAME] = module
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m si_ref.validation.benchmarks", description=__doc__)
    parser.add_argument("--out", default="si_ref_benchmarks", help="folder for the JSON and Markdown tables")
    parser.add_argument("--quick", action="store_true", help="few repeats and small sizes (a smoke run)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks")
    args = parser.parse_args(argv)
    benchmarks = discover()
    if args.only:
        unknown = sorted(set(args.only) - set(benchmarks))
        if unknown:
            parser.error(f"unknown benchmark {unknown}; valid names: {sorted(benchmarks)}")
        benchmarks = {k: v for k, v in benchmarks.items() if k in args.only}
    for name, module in benchmarks.items():
        start = time.perf_counter()
        print(module.run(args.out, quick=args.quick))
        print(f"({name}: {time.perf_counter() - start:.1f} s)\n", flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
