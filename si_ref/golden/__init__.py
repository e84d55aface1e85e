r"""Golden test vectors: si_ref's exact values, stored for implementations in any language.

:func:`write` evaluates si_ref's closed forms for every named reference of
:mod:`si_ref.references` at fixed inputs and writes three files; :func:`load`
reads them back and checks their hashes; :func:`verify` checks an
implementation against them and reports like :func:`si_ref.conformance.check`
(counterexample and diagnosis), using only the stored numbers::

    from si_ref import golden
    golden.write("golden")                                    # or: si-ref golden --out golden
    report = golden.verify("golden", "drift", lambda case: my_drift_for(case))
    print(report)

The file format (three files, the key layout, the conventions and the hashes) is
documented in :mod:`si_ref.golden.format`. The package has four modules:
:mod:`~si_ref.golden.format` (the format, its constants and encoders),
:mod:`~si_ref.golden.writer` (building and writing the vectors),
:mod:`~si_ref.golden.reader` (loading and hash-checking a set) and
:mod:`~si_ref.golden.verify` (checking an implementation against a set).
"""

# The public names, plus _version and _write_npz (used by the tests) as package attributes.
from .format import (  # noqa: F401
    BULK,
    CONVENTIONS,
    EPS,
    FILES,
    FORMAT_VERSION,
    INTERPOLANT_DIM,
    ROW_TIMES,
    SCHEDULE_GRID,
    SEED,
    TOLERANCE,
    _version,
    _write_npz,
)
from .reader import GoldenSet, load, load_json
from .writer import main_write, write
from .verify import verify   # rebinds the package attribute `verify` from the submodule to the function

__all__ = [
    "CONVENTIONS",
    "EPS",
    "FORMAT_VERSION",
    "ROW_TIMES",
    "SCHEDULE_GRID",
    "SEED",
    "GoldenSet",
    "load",
    "load_json",
    "main_write",
    "verify",
    "write",
]
