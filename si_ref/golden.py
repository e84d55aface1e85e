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

File format (``format_version`` 1)
----------------------------------
A vector set is a folder with three files. Regenerating it (same si_ref and
NumPy versions) gives byte-identical files: no timestamps, no paths, keys sorted.

``vectors.npz``
    A ZIP archive (stored, not compressed; every member dated 1980-01-01 00:00:00)
    with one ``.npy`` member (NumPy format 1.0) per array, named ``KEY + ".npy"``
    and written in sorted key order. Every array is float64, little-endian
    (``<f8``), C order. ``numpy.load(path)[KEY]`` reads one array.

``vectors.json``
    The same arrays without NumPy: ``{"arrays": {KEY: nested lists}, "format_version": 1,
    "non_finite": ...}`` (UTF-8, one array per line). A 1-d array is a list of
    numbers, an (n, d) array a list of n rows. Finite numbers are written with
    the shortest decimal that reads back to the same float64 (Python's ``repr``);
    the non-finite values, which JSON has no numbers for, are the *strings*
    ``"inf"``, ``"-inf"`` and ``"nan"`` (only ±inf occurs: γ̇ at the endpoints of
    Brownian schedules). ``-0.0`` is written as ``-0.0``.

``manifest.json``
    UTF-8 JSON (keys sorted; each array record, entry and reference on one line) with

    * ``format_version`` (1), ``si_ref_version``, ``numpy_version``;
    * ``conventions``: the definitions and signs of every quantity (below);
    * ``eps``: ε of the SDE drifts (a constant; the wrapper
      ``SDEDriftFromDriftScore`` gets ``diffusion_squared = 2 eps``);
    * ``seed``: the seed of the NumPy ``Generator`` that drew the inputs;
    * ``tolerance``: the default ``rtol``, ``atol`` of :func:`verify`;
    * ``references``: ``{name: references.definition(name)}`` for every reference
      used, so that any language can rebuild the schedule, interpolant or case
      from its parameters;
    * ``hash``: how ``sha256`` is computed (below);
    * ``arrays``: one record per array, sorted by key: ``key``, ``group``,
      ``reference``, ``name`` (the last part of the key), ``quantity`` (the
      quantity whose exact value the array holds, or null for the free inputs
      ``t``, ``t_grid``, ``x``, ``x0``, ``x1``, ``z``), ``shape``, ``dtype``
      (``"float64"``) and ``sha256``: the hex SHA-256 digest of the array's
      C-order little-endian float64 bytes, i.e. in NumPy
      ``hashlib.sha256(numpy.ascontiguousarray(a, dtype="<f8").tobytes()).hexdigest()``
      (8 bytes per value, row after row; the bytes of ``-0.0`` differ from ``0.0``);
    * ``entries``: one record per check: ``quantity``, ``level`` (schedule,
      interpolant, field or wrapper), ``reference`` (a key of ``references``),
      ``call`` (how the implementation is called), ``inputs`` (``{argument name:
      key}``), ``output`` (key), ``rows`` (null: every row; else the list of row
      indices, taken from every input and the output alike, where the quantity
      is defined), ``eps`` (the number when the quantity depends on ε, else null)
      and, for wrappers, ``parameter`` (``kind``: gamma, interpolant, base, eps or
      diffusion_squared; ``arguments``: what is passed after the input fields).

Keys are ``GROUP/REFERENCE/NAME`` (or ``GROUP/REFERENCE/QUANTITY/NAME`` for the
inputs and output owned by one entry):

``schedules/<schedule>/``
    ``t`` (the grid of :data:`SCHEDULE_GRID`, both endpoints and points 1e-12 and
    1e-6 from them), ``gamma``, ``gamma_dot`` (exact ±inf where infinite) and
    ``gamma_gamma_dot``, shape (m,). Checks: ``f(t)``.
``interpolants/<interpolant>/``
    ``t_grid`` (the same grid) with ``alpha``, ``alpha_dot``, ``beta``, ``beta_dot``
    (``f(t)``); ``t`` (n,) with one time per row (:data:`ROW_TIMES`, 0 and 1
    included), ``x0``, ``x1``, ``z`` (n, 3) standard normal draws, and
    ``interpolant`` (``f(t, x0, x1, z)``), ``interpolant_partial_t``
    (``f(t, x0, x1)``) and ``interpolant_dot`` (``f(t, x0, x1, z)``). Where γ̇ is
    infinite at t = 0, 1 (Brownian γ) ``interpolant_dot`` is undefined there and
    its entry owns the rows in [0.01, 0.99]: ``interpolants/<name>/interpolant_dot/{t,
    x0, x1, z, interpolant_dot}``.
``fields/<case>/``
    ``t`` (n,) = :data:`ROW_TIMES`, ``x`` (n, d) drawn from ρ_t (row i from
    ρ_{t[i]}, within 3 standard deviations of a component), and every exact
    field at (x, t): ``score``, ``noise``, ``denoise_x0``, ``denoise_x1``,
    ``velocity``, ``drift``, ``forward_drift`` and ``backward_drift`` (with ε =
    ``eps``), all (n, d), and ``log_density`` and ``divergence`` (∇·b), shape (n,).
    Checks: ``f(x, t)``.
Wrappers
    Stored nowhere else: a wrapper's inputs are exact fields and its output is
    an exact field, so its entry points into ``fields/<case>/`` (``inputs``: ``t``,
    ``x`` and the input fields by name; ``output``: the field it returns), with
    ``rows`` restricting t to where the conversion is defined: inside the
    quantity's time domain of :mod:`si_ref.quantities` (e.g. [0.01, 0.99] for
    ``ScoreFromNoise``, which divides by γ) and where si_ref's own wrapper
    evaluates (e.g. not where the encoder-decoder β vanishes, t <= 1/2, for
    ``DenoiserX1FromScore``). Check: build ``Wrapper(*input fields, parameter)`` with
    input fields that return the stored inputs, call it at (x, t) of the rows,
    compare with the output at the rows.

Conventions (the full text is :data:`CONVENTIONS`, copied into ``manifest["conventions"]``):
t = 0 is the base x0, t = 1 the target x1; x_t = α(t) x0 + β(t) x1 + γ(t) z;
s = ∇log ρ_t, η = E[z | x_t] = −γ s, x̂0 = E[x0 | x_t], x̂1 = E[x1 | x_t],
v = E[α̇ x0 + β̇ x1 | x_t], b = v − γγ̇ s, b_F = b + ε s, b_B = b − ε s;
t has shape (n,) and row i of x (n, d) is at time t[i].

Using the vectors from another language: read ``manifest.json`` and either file
of arrays; for each entry of ``manifest["entries"]`` take the arrays named by
``inputs`` and ``output``, keep the rows listed in ``rows`` (all when null),
call your implementation as ``call`` says (a wrapper: construct it from input
fields that return the stored input arrays, with the case's schedule,
interpolant, base or ε rebuilt from ``manifest["references"][reference]``), and
compare. An implementation passes an entry when, at every compared value,
``|received − expected| <= atol + rtol |expected|`` (an infinite expected value
must be received exactly); the default tolerance is ``rtol = 1e-6``, ``atol = 1e-8``.
The hashes let a reader check its decoding: hash the decoded float64 arrays.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import references
from ._checks import as_positive_real
from .conformance import Counterexample, Diagnosis, Report, _close, _errors, diagnose
from .gaussian import GaussianCase
from .interpolants import Interpolant
from .quantities import QUANTITIES, Example, build_wrapper, describe
from .schedules import GammaSchedule

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

#: Version of the file format; :func:`load` refuses other versions.
FORMAT_VERSION = 1
#: Seed of the NumPy Generator that draws the stored inputs (one stream per reference name).
SEED = 230308797
#: ε(t) = EPS (a constant) in the SDE drifts b_F = b + ε s and b_B = b − ε s.
EPS = 0.5
#: Times of the schedule and coefficient vectors: both endpoints and points 1e-12 and 1e-6 from them.
SCHEDULE_GRID = (0.0, 1e-12, 1e-6, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99,
                 1.0 - 1e-6, 1.0 - 1e-12, 1.0)
#: One time per row of the interpolant and field vectors (0 and 1 included).
ROW_TIMES = (0.0, 1e-6, 0.01, 0.05, 0.1, 0.2, 0.3, 0.45, 0.5, 0.6, 0.75, 0.9, 0.95, 0.99, 1.0 - 1e-6, 1.0)
#: Dimension of the stored interpolant inputs x0, x1, z.
INTERPOLANT_DIM = 3
#: Points are drawn as μ_p + L_p u with every |u_j| <= BULK (L_p L_pᵀ = Σ_p): in the bulk of ρ_t.
BULK = 3.0
#: Default tolerance of :func:`verify` (the same as :func:`si_ref.conformance.check`).
TOLERANCE = {"rtol": 1e-6, "atol": 1e-8}

FILES = ("manifest.json", "vectors.npz", "vectors.json")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_HASH_TEXT = ('sha256 = hex SHA-256 digest of the array\'s C-order little-endian float64 bytes '
              '(numpy: hashlib.sha256(numpy.ascontiguousarray(a, dtype="<f8").tobytes()).hexdigest())')
_NON_FINITE_TEXT = ('finite numbers are JSON numbers (shortest round-trip decimal); the non-finite values are the '
                    'strings "inf", "-inf" and "nan"')
_REGENERATE = "regenerate them with `si-ref golden --out DIR` (or si_ref.golden.write(DIR))"

#: The conventions, written into every manifest.
CONVENTIONS = """\
si_ref conventions (arXiv:2209.15571, arXiv:2303.08797).
Time t in [0, 1]: t = 0 is the base x0 (usually noise), t = 1 the target x1 (data).
Interpolant: x_t = alpha(t) x0 + beta(t) x1 + gamma(t) z, z ~ N(0, I) independent of (x0, x1);
  two-sided: alpha(0) = beta(1) = 1, alpha(1) = beta(0) = 0, gamma(0) = gamma(1) = 0;
  one-sided: gamma = 0 and x0 ~ N(0, I); mirror: x_t = x1 + gamma(t) z.
  interpolant_partial_t = d_t I = alpha_dot x0 + beta_dot x1; interpolant_dot = d_t I + gamma_dot z.
  gamma_dot is exactly +inf / -inf where infinite (Brownian gamma at t = 0 / t = 1);
  gamma_gamma_dot = gamma * gamma_dot in closed form, finite on [0, 1].
Fields, conditional expectations given x_t = x (rho_t is the density of x_t):
  score          s   = grad log rho_t(x)
  noise          eta = E[z | x_t = x] = -gamma s          (plus sign: eta is E[z], not -E[z])
  denoise_x0     E[x0 | x_t = x];  denoise_x1  E[x1 | x_t = x]
  velocity       v   = E[alpha_dot x0 + beta_dot x1 | x_t = x]
  drift          b   = E[alpha_dot x0 + beta_dot x1 + gamma_dot z | x_t = x] = v - gamma gamma_dot s
  forward_drift  b_F = b + eps s   (dX = b_F dt + sqrt(2 eps) dW, t increasing)
  backward_drift b_B = b - eps s   (the same SDE run with t decreasing)
  log_density    log rho_t(x);  divergence  div b (x)
Shapes: t is (n,) with row i at time t[i]; x, x0, x1, z and vector fields are (n, d);
log_density and divergence are (n,); schedule and coefficient vectors are (m,) on a time grid.
Wrappers (e.g. DriftFromVelocityScore(velocity, score, gamma_schedule)) convert exact input fields
into the output field; their entries name the inputs, the output and the constructor's last argument(s).
"""

#: Scalar fields stored besides the vector fields: shape (n,).
_SCALAR_FIELDS = ("log_density", "divergence")
_VECTOR_FIELDS = ("score", "noise", "denoise_x0", "denoise_x1", "velocity", "drift", "forward_drift",
                  "backward_drift")
_COEFFICIENTS = ("alpha", "alpha_dot", "beta", "beta_dot")
_PARAMETER_ARGUMENTS = {
    "gamma": "gamma_schedule: the gamma schedule of the case's interpolant",
    "interpolant": "interpolant: the case's interpolant",
    "base": "interpolant, base: the case's interpolant and base distribution (None for a one-sided interpolant)",
    "eps": "eps: the number manifest['eps']",
    "diffusion_squared": "diffusion_squared: 2 * manifest['eps']",
}
_CALL_PARAMETER = {"gamma": "gamma_schedule", "interpolant": "interpolant", "base": "interpolant, base",
                   "eps": "eps", "diffusion_squared": "diffusion_squared"}
#: Failing entries whose diagnoses are intersected (as the conformance checker's evidence).
_EVIDENCE = 6


# --- building the vectors ------------------------------------------------------------------------

class _Vectors:
    """Arrays, their records and the entries, collected while building."""

    def __init__(self):
        self.arrays: dict = {}
        self.records: dict = {}
        self.entries: list = []
        self.used: set = set()

    def add(self, group, reference, name, values, quantity=None, owner=None) -> str:
        parts = [group, reference] + ([owner] if owner else []) + [name]
        key = "/".join(parts)
        array = np.ascontiguousarray(np.asarray(values, dtype=np.float64))
        if np.isnan(array).any():
            raise RuntimeError(f"si_ref produced NaN for the golden array {key!r}; this is a bug in si_ref.")
        if key in self.arrays:
            raise RuntimeError(f"duplicate golden array key {key!r}")
        self.arrays[key] = array
        self.records[key] = {"key": key, "group": group, "reference": reference, "name": name,
                             "quantity": quantity}
        self.used.add(reference)
        return key

    def entry(self, quantity, level, reference, call, inputs, output, *, rows=None, eps=None, parameter=None):
        record = {"quantity": quantity, "level": level, "reference": reference, "call": call,
                  "inputs": dict(inputs), "output": output, "rows": None if rows is None else [int(i) for i in rows],
                  "eps": eps}
        if parameter is not None:
            record["parameter"] = parameter
        self.entries.append(record)


def _version() -> str:
    """si_ref's version (imported late, so that si_ref/__init__.py may import this module anywhere)."""
    from . import __version__
    return __version__


def _rng(name: str) -> np.random.Generator:
    """An independent, reproducible stream per reference name (adding a reference changes no other)."""
    return np.random.default_rng([SEED, zlib.crc32(name.encode("utf-8"))])


def _finite(values, key):
    values = np.asarray(values, dtype=np.float64)
    if not np.isfinite(values).all():
        raise RuntimeError(f"si_ref produced a non-finite value for {key!r}; this is a bug in si_ref.")
    return values


def _rows_in(domain, t) -> list:
    lo, hi = domain
    return [i for i, ti in enumerate(t) if lo <= ti <= hi]


def _schedule_vectors(v: _Vectors):
    t = np.array(SCHEDULE_GRID)
    for name in sorted(references.GAMMA_SCHEDULES):
        schedule = references.GAMMA_SCHEDULES[name]
        t_key = v.add("schedules", name, "t", t)
        for quantity in ("gamma", "gamma_dot", "gamma_gamma_dot"):
            values = getattr(schedule, quantity)(t)      # γ̇ is exactly ±inf where infinite
            if quantity != "gamma_dot":
                _finite(values, f"schedules/{name}/{quantity}")
            out = v.add("schedules", name, quantity, values, quantity)
            v.entry(quantity, "schedule", name, "f(t)", {"t": t_key}, out)


def _interpolant_vectors(v: _Vectors):
    grid = np.array(SCHEDULE_GRID)
    t = np.array(ROW_TIMES)
    for name in sorted(references.INTERPOLANTS):
        interpolant = references.INTERPOLANTS[name]
        grid_key = v.add("interpolants", name, "t_grid", grid)
        for quantity in _COEFFICIENTS:
            out = v.add("interpolants", name, quantity,
                        _finite(getattr(interpolant, quantity)(grid), f"{name}/{quantity}"), quantity)
            v.entry(quantity, "interpolant", name, "f(t)", {"t": grid_key}, out)

        rng = _rng(name)
        x0, x1, z = (rng.standard_normal((t.size, INTERPOLANT_DIM)) for _ in range(3))
        keys = {"t": v.add("interpolants", name, "t", t)}
        for arg, values in (("x0", x0), ("x1", x1), ("z", z)):
            keys[arg] = v.add("interpolants", name, arg, values)
        out = v.add("interpolants", name, "interpolant", _finite(interpolant.interpolant(t, x0, x1, z), name),
                    "interpolant")
        v.entry("interpolant", "interpolant", name, "f(t, x0, x1, z)", keys, out)
        partial = {k: keys[k] for k in ("t", "x0", "x1")}
        out = v.add("interpolants", name, "interpolant_partial_t",
                    _finite(interpolant.interpolant_partial_t(t, x0, x1), name), "interpolant_partial_t")
        v.entry("interpolant_partial_t", "interpolant", name, "f(t, x0, x1)", partial, out)

        # d x_t/dt = ∂_t I + γ̇ z is undefined where γ̇ is infinite: that entry owns the rows where it is defined.
        rows = _rows_in(QUANTITIES["interpolant_dot"].domain(interpolant), t)
        dot_keys, owner = keys, None
        if len(rows) < t.size:
            owner = "interpolant_dot"
            dot_keys = {arg: v.add("interpolants", name, arg, values[rows], owner=owner)
                        for arg, values in (("t", t), ("x0", x0), ("x1", x1), ("z", z))}
        out = v.add("interpolants", name, "interpolant_dot",
                    _finite(interpolant.interpolant_dot(t[rows], x0[rows], x1[rows], z[rows]), name),
                    "interpolant_dot", owner=owner)
        v.entry("interpolant_dot", "interpolant", name, "f(t, x0, x1, z)", dot_keys, out)


def _bulk_points(case, t, rng) -> np.ndarray:
    """Row i drawn from ρ_{t[i]}: a component p ~ π, then μ_p + L_p u with u ~ N(0, I) cut at ±BULK."""
    components = case.components(t)
    rows = np.arange(t.size)
    pick = rng.choice(components.weights.size, size=t.size, p=components.weights)
    u = np.clip(rng.standard_normal((t.size, case.dim)), -BULK, BULK)
    chol = np.linalg.cholesky(components.covs[rows, pick])
    return components.means[rows, pick] + np.einsum("nij,nj->ni", chol, u)


def _field_values(case, name, x, t):
    if name in ("forward_drift", "backward_drift"):
        return getattr(case, name)(x, t, EPS)
    return getattr(case, name)(x, t)


def _field_vectors(v: _Vectors) -> dict:
    t = np.array(ROW_TIMES)
    keys_by_case = {}
    for name in sorted(references.CASES):
        case = references.CASES[name]
        x = _bulk_points(case, t, _rng(name))
        keys = {"t": v.add("fields", name, "t", t), "x": v.add("fields", name, "x", x)}
        for quantity in _VECTOR_FIELDS + _SCALAR_FIELDS:
            keys[quantity] = v.add("fields", name, quantity,
                                   _finite(_field_values(case, quantity, x, t), f"fields/{name}/{quantity}"), quantity)
            v.entry(quantity, "field", name, "f(x, t)", {"t": keys["t"], "x": keys["x"]}, keys[quantity],
                    eps=EPS if quantity in ("forward_drift", "backward_drift") else None)
        keys_by_case[name] = keys
    return keys_by_case


def _defined_rows(q, case, rows, keys, arrays) -> list:
    """The rows where si_ref's own wrapper converts the exact inputs; it must agree with the exact output there.

    Inside ``q.domain(case)`` a conversion can still be undefined at some times (the
    encoder-decoder β vanishes on [0, 1/2], where x̂1 cannot be read from the score):
    those rows are left out of the entry.
    """
    t, x, expected = arrays[keys["t"]], arrays[keys["x"]], arrays[keys[q.output]]
    wrapper = build_wrapper(q, q.wrapper, case, EPS)

    def converted(selection):
        with np.errstate(divide="raise", invalid="raise", over="raise", under="ignore"):
            return wrapper(x[selection], t[selection])

    try:
        values, kept = converted(rows), list(rows)
    except (ValueError, FloatingPointError):
        kept = []
        for i in rows:
            try:
                converted([i])
                kept.append(i)
            except (ValueError, FloatingPointError):
                pass
        values = converted(kept) if kept else expected[:0]
    close = np.abs(values - expected[kept]) <= TOLERANCE["atol"] + TOLERANCE["rtol"] * np.abs(expected[kept])
    if not close.all():
        raise RuntimeError(f"si_ref's {q.name} disagrees with the exact {q.output} of {describe(case)}; this is a "
                           f"bug in si_ref.")
    return kept


def _wrapper_vectors(v: _Vectors, field_keys: dict):
    t = np.array(ROW_TIMES)
    for q in QUANTITIES.values():
        if q.level != "wrapper":
            continue
        for name in sorted(references.CASES):
            case = references.CASES[name]
            if not q.accepts(case):
                continue
            keys = field_keys[name]
            rows = _defined_rows(q, case, _rows_in(q.domain(case), t), keys, v.arrays)
            if not rows:
                continue
            inputs = {"t": keys["t"], "x": keys["x"], **{input_: keys[input_] for input_ in q.inputs}}
            call = f"{q.name}({', '.join(q.inputs)}, {_CALL_PARAMETER[q.parameter]})(x, t)"
            parameter = {"kind": q.parameter, "arguments": _PARAMETER_ARGUMENTS[q.parameter]}
            v.entry(q.name, "wrapper", name, call, inputs, keys[q.output],
                    rows=None if len(rows) == t.size else rows, eps=EPS if q.needs_eps else None,
                    parameter=parameter)


def _build() -> _Vectors:
    v = _Vectors()
    _schedule_vectors(v)
    _interpolant_vectors(v)
    _wrapper_vectors(v, _field_vectors(v))
    return v


# --- encoding ----------------------------------------------------------------------------------------

def _digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array, dtype="<f8").tobytes()).hexdigest()


def _npz_bytes(arrays: dict) -> bytes:
    """A .npz archive with fixed member dates and attributes, members in sorted key order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for key in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arrays[key], dtype="<f8"),
                                      version=(1, 0), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3                      # fixed, whatever the platform writing it
            info.external_attr = 0o100644 << 16
            archive.writestr(info, member.getvalue())
    return buffer.getvalue()


def _write_npz(path, arrays: dict) -> None:
    """Write ``arrays`` ({key: float64 array}) as a reproducible .npz file."""
    Path(path).write_bytes(_npz_bytes(arrays))


def _json_number(value: float):
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _to_json(array: np.ndarray):
    if array.ndim == 0:
        return _json_number(float(array))
    return [_to_json(row) for row in array]


def _from_json(value) -> np.ndarray:
    def number(item):
        if isinstance(item, list):
            return [number(i) for i in item]
        if isinstance(item, str):
            if item not in ("inf", "-inf", "nan"):
                raise ValueError(f"unexpected string {item!r} in vectors.json; only 'inf', '-inf', 'nan' are allowed.")
            return float(item)
        return float(item)
    return np.array(number(value), dtype=np.float64)


def _json_dumps(value, **options) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False, **options)


def _vectors_json_bytes(arrays: dict) -> bytes:
    """JSON with one array per line (keys sorted), so that a diff shows which array changed."""
    lines = ['{"arrays": {']
    keys = sorted(arrays)
    for i, key in enumerate(keys):
        separator = "," if i < len(keys) - 1 else ""
        lines.append(f"{_json_dumps(key)}: {_json_dumps(_to_json(arrays[key]), separators=(',', ':'))}{separator}")
    lines.append(f'}}, "format_version": {FORMAT_VERSION}, "non_finite": {_json_dumps(_NON_FINITE_TEXT)}}}')
    return ("\n".join(lines) + "\n").encode("utf-8")


def _manifest(v: _Vectors) -> dict:
    records = []
    for key in sorted(v.arrays):
        array = v.arrays[key]
        records.append({**v.records[key], "shape": list(array.shape), "dtype": "float64", "sha256": _digest(array)})
    return {
        "format_version": FORMAT_VERSION,
        "si_ref_version": _version(),
        "numpy_version": np.__version__,
        "description": ("si_ref golden test vectors: exact values of stochastic-interpolant quantities for named "
                        "references; the module docstring of si_ref.golden documents the format."),
        "conventions": CONVENTIONS,
        "eps": EPS,
        "seed": SEED,
        "tolerance": dict(TOLERANCE),
        "hash": _HASH_TEXT,
        "references": {name: references.definition(name) for name in sorted(v.used)},
        "arrays": records,
        "entries": v.entries,
    }


def _manifest_bytes(manifest: dict) -> bytes:
    """Keys sorted; each array record, entry and reference on one line (readable, diffable, compact)."""
    def one_line(value):
        return _json_dumps(value, separators=(", ", ": "))

    parts = []
    for key in sorted(manifest):
        value = manifest[key]
        if isinstance(value, list) and value:
            body = ",\n".join(f"  {one_line(item)}" for item in value)
            parts.append(f" {one_line(key)}: [\n{body}\n ]")
        elif isinstance(value, dict) and value:
            body = ",\n".join(f"  {one_line(k)}: {one_line(value[k])}" for k in sorted(value))
            parts.append(f" {one_line(key)}: {{\n{body}\n }}")
        else:
            parts.append(f" {one_line(key)}: {one_line(value)}")
    return ("{\n" + ",\n".join(parts) + "\n}\n").encode("utf-8")


# --- writing -------------------------------------------------------------------------------------------

def write(out_dir) -> Path:
    """Write the golden vector set (``manifest.json``, ``vectors.npz``, ``vectors.json``) into ``out_dir``.

    The folder is created if needed; existing files of the set are replaced, other
    files are left alone. The same si_ref and NumPy versions write byte-identical
    files (see the module docstring for the format).

    Parameters
    ----------
    out_dir : str or path-like

    Returns
    -------
    Path
        The folder written.

    Raises
    ------
    ValueError
        If ``out_dir`` exists and is not a folder.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out_dir must be a folder; {str(out)!r} exists and is a file. Choose another path.")
    v = _build()
    out.mkdir(parents=True, exist_ok=True)
    (out / "vectors.npz").write_bytes(_npz_bytes(v.arrays))
    (out / "vectors.json").write_bytes(_vectors_json_bytes(v.arrays))
    (out / "manifest.json").write_bytes(_manifest_bytes(_manifest(v)))
    return out


def main_write(out_dir) -> str:
    """:func:`write`, returning the one-paragraph message that ``si-ref golden --out DIR`` prints."""
    out = write(out_dir)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    sizes = ", ".join(f"{name} ({(out / name).stat().st_size / 1024:.0f} KB)" for name in FILES)
    quantities = sorted({e["quantity"] for e in manifest["entries"]})
    return (f"Wrote si_ref golden vectors (format {FORMAT_VERSION}, si_ref {_version()}) to {out}: {sizes}; "
            f"{len(manifest['arrays'])} arrays, {len(manifest['entries'])} checks of {len(quantities)} quantities "
            f"on {len(manifest['references'])} references. Check an implementation with "
            f"si_ref.golden.verify({str(out)!r}, quantity, implementation).")


# --- reading ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GoldenSet:
    """A loaded, hash-checked golden vector set.

    Attributes
    ----------
    directory : Path
    manifest : dict
        The parsed ``manifest.json``.
    arrays : dict
        ``{key: ndarray}`` (float64, read-only).
    """

    directory: Path
    manifest: dict = field(repr=False)
    arrays: dict = field(repr=False)

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self.arrays:
            raise KeyError(f"no golden array {key!r}; see manifest['arrays'] for the keys.")
        return self.arrays[key]

    @property
    def eps(self) -> float:
        return float(self.manifest["eps"])

    @property
    def quantities(self) -> tuple:
        """The quantities with stored vectors, sorted."""
        return tuple(sorted({e["quantity"] for e in self.manifest["entries"]}))

    def entries(self, quantity: str | None = None, reference: str | None = None) -> list:
        """The entries (dicts, see the module docstring), optionally of one quantity and one reference."""
        return [e for e in self.manifest["entries"]
                if (quantity is None or e["quantity"] == quantity)
                and (reference is None or e["reference"] == reference)]

    def references(self, quantity: str) -> tuple:
        """Names of the references with stored vectors for ``quantity``, in entry order."""
        return tuple(e["reference"] for e in self.entries(quantity))


def _directory(directory) -> Path:
    if isinstance(directory, (str, Path)) or hasattr(directory, "__fspath__"):
        path = Path(directory)
    else:
        raise TypeError(f"directory must be a path (str or path-like); received {directory!r} of type "
                        f"{type(directory).__name__}.")
    if not path.is_dir():
        raise ValueError(f"golden vector folder {str(path)!r} does not exist (or is not a folder); write one with "
                         f"`si-ref golden --out {path}` (or si_ref.golden.write(path)).")
    for name in FILES[:2]:
        if not (path / name).is_file():
            raise ValueError(f"{str(path)!r} is not a golden vector folder: {name} is missing; {_REGENERATE}.")
    return path


def _read_manifest(path: Path) -> dict:
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read {str(path / 'manifest.json')!r} ({exc}); {_REGENERATE}.") from None
    if not isinstance(manifest, dict) or "format_version" not in manifest:
        raise ValueError(f"{str(path / 'manifest.json')!r} has no format_version; it is not a golden vector "
                         f"manifest; {_REGENERATE}.")
    if manifest["format_version"] != FORMAT_VERSION:
        raise ValueError(f"the golden vectors in {str(path)!r} have format_version {manifest['format_version']!r}; "
                         f"this si_ref ({_version()}) reads format_version {FORMAT_VERSION}; {_REGENERATE}.")
    for required in ("arrays", "entries", "eps", "references"):
        if required not in manifest:
            raise ValueError(f"{str(path / 'manifest.json')!r} lacks {required!r}; {_REGENERATE}.")
    return manifest


def _checked(arrays: dict, manifest: dict, source: str) -> dict:
    """Compare keys, shapes and sha256 with the manifest; raise naming the first bad array."""
    records = {r["key"]: r for r in manifest["arrays"]}
    missing = sorted(set(records) - set(arrays))
    extra = sorted(set(arrays) - set(records))
    if missing or extra:
        raise ValueError(f"{source} does not match manifest.json: arrays missing {missing[:5]}, not in the manifest "
                         f"{extra[:5]}; {_REGENERATE}.")
    for key in sorted(records):
        record, array = records[key], arrays[key]
        if list(array.shape) != list(record["shape"]):
            raise ValueError(f"golden array {key!r} in {source} has shape {array.shape}; the manifest records "
                             f"{tuple(record['shape'])}: the file is corrupted; {_REGENERATE}.")
        digest = _digest(array)
        if digest != record["sha256"]:
            raise ValueError(f"golden array {key!r} in {source} is corrupted: its sha256 is {digest}, the manifest "
                             f"records {record['sha256']}; {_REGENERATE}.")
        array.setflags(write=False)
    return arrays


def load(directory) -> GoldenSet:
    """Read a golden vector set and check it against its manifest.

    Parameters
    ----------
    directory : str or path-like
        A folder written by :func:`write`.

    Returns
    -------
    GoldenSet

    Raises
    ------
    ValueError
        If the folder or a file is missing, the format version differs, or an
        array's shape or sha256 differs from the manifest (the message names the
        array and says how to regenerate the set).
    """
    path = _directory(directory)
    manifest = _read_manifest(path)
    arrays = {}
    try:
        with np.load(path / "vectors.npz", allow_pickle=False) as archive:
            for key in archive.files:
                array = archive[key]
                if array.dtype != np.dtype("<f8"):
                    raise ValueError(f"golden array {key!r} in vectors.npz has dtype {array.dtype}; expected "
                                     f"float64 (<f8); {_REGENERATE}.")
                arrays[key] = np.ascontiguousarray(array)
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(f"cannot read {str(path / 'vectors.npz')!r} ({exc}); {_REGENERATE}.") from None
    return GoldenSet(path, manifest, _checked(arrays, manifest, "vectors.npz"))


def load_json(directory) -> dict:
    """Read ``vectors.json`` (the NumPy-free variant) as ``{key: float64 ndarray}``, checked against the manifest.

    The strings ``"inf"``, ``"-inf"`` and ``"nan"`` are decoded to the floats; every
    array's sha256 must equal the manifest's (so the JSON holds exactly the bits of
    ``vectors.npz``). Raises ValueError like :func:`load`.
    """
    path = _directory(directory)
    manifest = _read_manifest(path)
    try:
        document = json.loads((path / "vectors.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read {str(path / 'vectors.json')!r} ({exc}); {_REGENERATE}.") from None
    if document.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"vectors.json has format_version {document.get('format_version')!r}; expected "
                         f"{FORMAT_VERSION}; {_REGENERATE}.")
    arrays = {key: _from_json(value) for key, value in document["arrays"].items()}
    for record in manifest["arrays"]:   # an empty dimension cannot be read back from nested lists
        if record["key"] in arrays and arrays[record["key"]].size == 0:
            arrays[record["key"]] = arrays[record["key"]].reshape(record["shape"])
    return _checked(arrays, manifest, "vectors.json")


# --- verifying ----------------------------------------------------------------------------------------

def _reference_object(level: str, name: str):
    table = {"schedule": references.GAMMA_SCHEDULES,
             "interpolant": references.INTERPOLANTS}.get(level, references.CASES)
    if name not in table:
        raise ValueError(f"the golden vectors use the reference {name!r}, which this si_ref ({_version()}) does "
                         f"not define; {_REGENERATE}.")
    return table[name]


def _same_definition(golden: GoldenSet, level: str, name: str) -> None:
    """The named reference exists in this si_ref and is defined as when the vectors were written."""
    _reference_object(level, name)
    stored = golden.manifest["references"].get(name)
    current = json.loads(_json_dumps(references.definition(name)))
    if stored != current:
        raise ValueError(f"the golden vectors were written for another definition of the reference {name!r} than "
                         f"this si_ref's; {_REGENERATE}.")


def _summary(quantity: str) -> str:
    """The one-line plain-text definition (a quantity stored by another si_ref may be unknown here)."""
    return QUANTITIES[quantity].plain if quantity in QUANTITIES else ""


def _check_tolerance(rtol, atol) -> tuple:
    return as_positive_real(rtol, "rtol", allow_zero=True), as_positive_real(atol, "atol", allow_zero=True)


def _reference_name(golden: GoldenSet, quantity: str, reference):
    """``reference`` as the name of a stored reference: a name, or a schedule / interpolant / case object."""
    if reference is None or isinstance(reference, str):
        return reference
    if isinstance(reference, (GammaSchedule, Interpolant, GaussianCase)):
        name = references.name_of(reference)
        if name is None:
            raise ValueError(f"reference {describe(reference)} is not one of si_ref's named references, and golden "
                             f"vectors exist only for those; stored references for {quantity!r}: "
                             f"{list(golden.references(quantity))}. Pass one of these names (or its object from "
                             f"si_ref.references), or check other references with si_ref.conformance.check.")
        return name
    raise TypeError(f"reference must be the name (str) of a stored reference or a GammaSchedule, Interpolant or "
                    f"GaussianCase; received {reference!r} of type {type(reference).__name__}.")


def _select_entries(golden: GoldenSet, quantity, reference) -> list:
    if not isinstance(quantity, str):
        raise TypeError(f"quantity must be a name (str) such as 'drift'; received {quantity!r} of type "
                        f"{type(quantity).__name__}.")
    entries = golden.entries(quantity)
    if not entries:
        known = " (a quantity of the conformance table: check it with si_ref.conformance.check)" \
            if quantity in QUANTITIES else ""
        close = references.close_names(quantity, golden.quantities)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close and not known else ""
        raise ValueError(f"no golden vectors for quantity {quantity!r}{known}; {hint}stored quantities: "
                         f"{', '.join(golden.quantities)}.")
    if reference is None:
        return entries
    chosen = [e for e in entries if e["reference"] == reference]
    if not chosen:
        stored = [e["reference"] for e in entries]
        close = references.close_names(reference, stored)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
        raise ValueError(f"no golden vectors of {quantity!r} for reference {reference!r}; {hint}stored references "
                         f"for {quantity!r}: {stored}.")
    return chosen


def _implementations(implementation, level: str, entries: list, reference) -> list:
    """(entry, callable or factory flag) for the entries to check."""
    if isinstance(implementation, Mapping):
        names = [e["reference"] for e in entries]
        if not implementation:
            raise ValueError(f"implementation is an empty mapping; map reference names to callables, e.g. "
                             f"{{{names[0]!r}: f}}; stored references: {names}.")
        unknown = sorted(set(implementation) - set(names)) if reference is None else []
        if unknown:
            raise ValueError(f"implementation maps references with no stored vectors of this quantity: {unknown}; "
                             f"stored references: {names}.")
        if reference is not None and reference not in implementation:
            raise ValueError(f"implementation (a mapping) has no entry for reference {reference!r}; it maps "
                             f"{sorted(implementation)}.")
        chosen = [e for e in entries if e["reference"] in implementation]
        for e in chosen:
            if not callable(implementation[e["reference"]]):
                raise TypeError(f"implementation[{e['reference']!r}] must be callable; received "
                                f"{implementation[e['reference']]!r}.")
        return [(e, implementation[e["reference"]], False) for e in chosen]
    if not callable(implementation):
        raise TypeError(f"implementation must be callable (or a mapping {{reference name: callable}}); received "
                        f"{implementation!r}.")
    factory = reference is None and level != "wrapper"
    return [(e, implementation, factory) for e in entries]


@dataclass
class _Outcome:
    """What happened on some rows of an entry."""

    received: np.ndarray | None
    expected: np.ndarray
    error: str
    bad_rows: np.ndarray | None = None     # local row indices that differ (value comparison only)
    hint: bool = False                      # a broadcasting error: t along the wrong axis


class _Entry:
    """One stored check with its inputs, ready to evaluate on any subset of its rows."""

    def __init__(self, golden: GoldenSet, entry: dict):
        self.entry = entry
        self.quantity = entry["quantity"]
        self.level = entry["level"]
        self.reference_name = entry["reference"]
        self.reference = _reference_object(self.level, self.reference_name)
        output = golden[entry["output"]]
        self.rows = np.arange(output.shape[0]) if entry["rows"] is None else np.array(entry["rows"], dtype=int)
        self.inputs = {name: golden[key][self.rows] for name, key in entry["inputs"].items()}
        self.expected = output[self.rows]
        self.eps = entry["eps"]

    def arguments(self, local) -> dict:
        return {name: values[local] for name, values in self.inputs.items()}

    def example(self, local) -> Example:
        args = self.arguments(local)
        return Example(self.reference, args["t"], x=args.get("x"), x0=args.get("x0"), x1=args.get("x1"),
                       z=args.get("z"), eps=self.eps)

    def call(self, implementation, local):
        """Call the implementation on the rows ``local``; return (output, modified argument names)."""
        args = self.arguments(local)
        if self.level == "wrapper":
            q = QUANTITIES[self.quantity]
            fields = [_stored_field(name, args[name], args["x"], args["t"]) for name in q.inputs]
            fn = build_wrapper(q, implementation, self.reference, self.eps, fields=fields)
            names = ("x", "t")
        elif self.level == "field":
            fn, names = implementation, ("x", "t")
        elif self.quantity == "interpolant_partial_t":
            fn, names = implementation, ("t", "x0", "x1")
        elif self.level == "interpolant" and self.quantity not in _COEFFICIENTS:
            fn, names = implementation, ("t", "x0", "x1", "z")
        else:
            fn, names = implementation, ("t",)
        copies = [args[n].copy() for n in names]
        out = fn(*copies)
        modified = [n for n, c in zip(names, copies) if not np.array_equal(c, args[n])]
        return out, modified

    def evaluate(self, implementation, local, rtol, atol) -> _Outcome | None:
        expected = self.expected[local]
        try:
            out, modified = self.call(implementation, local)
        except Exception as exc:  # the implementation under test raised
            return _Outcome(None, expected, f"raised {type(exc).__name__}: {exc}",
                            hint=np.size(local) > 1 and "broadcast" in str(exc))
        if modified:
            return _Outcome(None, expected, f"modified its input argument(s) {modified} in place (inputs must be "
                            f"left unchanged)")
        received = np.asarray(out)
        if received.dtype.kind not in "iuf":
            return _Outcome(None, expected, f"returned {type(out).__name__} of dtype {received.dtype}; expected "
                            f"real numbers")
        received = received.astype(np.float64)
        if received.shape != expected.shape:
            hint = " (transposed?)" if received.ndim == 2 and received.shape == expected.shape[::-1] else ""
            return _Outcome(received, expected, f"returned shape {received.shape}; expected shape "
                            f"{expected.shape}{hint}")
        agree = _close(received, expected, rtol, atol)
        if agree.all():
            return None
        bad = np.flatnonzero(~agree.reshape(agree.shape[0], -1).all(axis=1))
        return _Outcome(received, expected, "values differ", bad_rows=bad)


def _stored_field(name, values, x, t):
    """An input field that returns the stored values, and refuses other inputs (the vectors hold no others)."""
    def stored(x_, t_, *conditioning):
        try:
            same = np.array_equal(np.asarray(x_), x) and np.array_equal(
                np.broadcast_to(np.asarray(t_, dtype=np.float64), t.shape), t)
        except (ValueError, TypeError):
            same = False
        if not same:
            raise ValueError(f"the wrapper called its input field {name!r} at other (x, t) than the stored ones; "
                             f"the golden vectors hold {name} only at the stored rows (a wrapper must call its "
                             f"input fields at the (x, t) it is given).")
        return values.copy()
    return stored


def _smallest_failure(item: _Entry, implementation, rtol, atol):
    """After a failure on all rows at once: the first row that fails alone, else the first two rows that fail
    together (a t broadcast along the wrong axis fails only for n > 1), as (local rows, outcome)."""
    for size in (1, 2):
        for start in range(item.rows.size - size + 1):
            local = np.arange(start, start + size)
            outcome = item.evaluate(implementation, local, rtol, atol)
            if outcome is not None:
                return local, outcome
    return None, None


def _counterexample(item: _Entry, local, outcome: _Outcome, n_bad: int | None = None,
                    where: str | None = None) -> Counterexample:
    """The counterexample at the local rows ``local`` (None: all rows); ``outcome`` is of those rows,
    or of all rows when ``n_bad`` is given (then its received values are cut to ``local``)."""
    if local is None:                # fails only with all rows together: show them all
        local = np.arange(item.rows.size)
        where = where or f"the {item.rows.size} stored rows together (fewer rows pass)"
    else:
        local = np.atleast_1d(local)
        stored = [int(i) for i in item.rows[local]]
        where = f"stored row {stored[0]}" if len(stored) == 1 else f"stored rows {stored} together"
    received, expected = outcome.received, outcome.expected
    if n_bad is not None:
        received, expected = received[local], expected[local]
    inputs = item.arguments(local)
    if item.eps is not None:
        inputs["eps"] = item.eps
    comparable = received is not None and received.shape == expected.shape
    abs_err, rel_err = _errors(received, expected) if comparable else (math.nan, math.nan)
    error = f"{outcome.error} at {where} of {item.entry['output']!r}"
    if n_bad is not None:
        error += f" ({n_bad} of {item.rows.size} rows differ)"
    return Counterexample(f"{item.reference_name}: {describe(item.reference)}", inputs, expected, received,
                          abs_err, rel_err, error)


def _t_wrong_axis(quantity: str) -> Diagnosis:
    source = QUANTITIES[quantity] if quantity in QUANTITIES else QUANTITIES["interpolant"]
    mistake = next((m for m in source.mistakes if m.name == "t-wrong-axis"),
                   next(m for m in QUANTITIES["interpolant"].mistakes if m.name == "t-wrong-axis"))
    return Diagnosis(mistake.name, "a broadcasting error with t of shape (n,)", mistake.explanation)


def _entry_diagnoses(item: _Entry, outcome: _Outcome, rtol, atol):
    """Diagnoses at the failing rows of one entry (None: not comparable)."""
    if item.quantity not in QUANTITIES or outcome.bad_rows is None:
        return None
    bad = outcome.bad_rows
    for local in (bad, np.arange(item.rows.size)):   # the failing rows; failing that, all rows
        try:
            with np.errstate(all="ignore"):
                found = diagnose(item.quantity, item.example(local), outcome.received[local], rtol=rtol, atol=atol)
        except (ValueError, ZeroDivisionError, FloatingPointError, np.linalg.LinAlgError):
            found = ()
        if found:
            return found
    return ()


def _combined(per_entry: list, hints: list) -> tuple:
    """Diagnoses consistent with every comparable failing entry (in the first one's order), plus hints."""
    comparable = [d for d in per_entry if d is not None]
    out = []
    if comparable:
        common = set.intersection(*({d.name for d in ds} for ds in comparable))
        out = [d for d in comparable[0] if d.name in common]
    for hint in hints:
        if hint.name not in {d.name for d in out}:
            out.append(hint)
    return tuple(out)


def verify(directory, quantity: str, implementation, *, reference=None,
           rtol: float = 1e-6, atol: float = 1e-8) -> Report:
    """Check an implementation against the stored golden vectors of one quantity.

    Only stored numbers are used: the implementation is called on the stored
    inputs and compared with the stored outputs, entrywise
    ``|received − expected| <= atol + rtol |expected|`` (infinities must be equal).

    Parameters
    ----------
    directory : str, path-like or GoldenSet
        A folder written by :func:`write` (loaded and hash-checked), or a loaded set.
    quantity : str
        A quantity with stored vectors (``GoldenSet.quantities``), e.g. ``"gamma_dot"``,
        ``"alpha"``, ``"interpolant"``, ``"drift"``, ``"log_density"``, ``"DriftFromVelocityScore"``.
    implementation : callable or mapping
        Called as the conformance checker calls it for the quantity's level:
        schedules and coefficients ``f(t)``; ``interpolant`` / ``interpolant_dot``
        ``f(t, x0, x1, z)``, ``interpolant_partial_t`` ``f(t, x0, x1)``; fields
        ``f(x, t)`` (the SDE drifts with ε = ``manifest["eps"]``); wrappers: a
        constructor called like si_ref's (``Wrapper(*input fields, parameter)``, see
        :func:`si_ref.quantities.build_wrapper`) whose input fields return the stored
        inputs, then called at the stored (x, t). ``t`` is an array of shape (n,),
        ``x`` of shape (n, d). Either

        * a mapping ``{reference name: callable}``: only those references are checked;
        * with ``reference`` given, the callable for that reference;
        * with ``reference`` None, for schedule, interpolant and field quantities, a
          *factory* ``make(ref) -> callable`` called with si_ref's reference object
          (a ``GammaSchedule``, ``Interpolant`` or ``GaussianCase``; read its
          parameters), as in :func:`si_ref.conformance.check`. Wrapper constructors
          are used as they are.
    reference : str, GammaSchedule, Interpolant or GaussianCase, optional
        Check only this reference: its name in :mod:`si_ref.references` (e.g.
        ``"mixture-2d-linear-brownian"``), or the object itself (one of that module's, or
        an equal rebuild: same family and parameters).
    rtol, atol : float
        Tolerance, finite and >= 0.

    Returns
    -------
    Report
        As :func:`si_ref.conformance.check` (``str(report)`` is the same plain-text
        report): ``examples`` is the number of stored rows evaluated, ``details`` says
        which vectors were used and how many values were compared. On
        failure the counterexample is the first failing stored row (t and x, or
        x0, x1, z, of that row), with expected and received values, and the
        diagnoses of :func:`si_ref.conformance.diagnose` that fit every failing
        reference.

    Raises
    ------
    ValueError
        For a missing or corrupted vector folder, a quantity with no stored vectors
        (the message suggests close names and lists those that exist), a reference
        with no stored vectors for the quantity (or no name), or a negative or NaN tolerance.
    TypeError
        For an implementation that is neither callable nor a mapping of callables, or
        a quantity or reference of the wrong type.
    """
    golden = directory if isinstance(directory, GoldenSet) else load(directory)
    rtol, atol = _check_tolerance(rtol, atol)
    _select_entries(golden, quantity, None)                       # the quantity first: its errors come first
    reference = _reference_name(golden, quantity, reference)       # an object becomes its name
    entries = _select_entries(golden, quantity, reference)
    level = entries[0]["level"]
    chosen = _implementations(implementation, level, entries, reference)
    for entry, _, _ in chosen:
        _same_definition(golden, level, entry["reference"])

    rows_checked = values_compared = 0
    first = None                       # (counterexample) of the first failing entry
    per_entry, hints = [], []
    for entry, impl, factory in chosen:
        item = _Entry(golden, entry)
        everything = np.arange(item.rows.size)
        rows_checked += item.rows.size
        if factory:
            try:
                impl = impl(item.reference)
            except Exception as exc:
                if first is None:
                    first = _counterexample(item, None, _Outcome(
                        None, item.expected, f"the factory raised {type(exc).__name__}: {exc} (with no reference "
                        f"given, the implementation is called as make(reference) and must return the callable)"),
                        where=f"the {item.rows.size} stored rows")
                continue
        outcome = item.evaluate(impl, everything, rtol, atol)
        if outcome is None or outcome.bad_rows is not None:
            values_compared += item.expected.size
        if outcome is None:
            continue
        if outcome.bad_rows is not None:
            if first is None:
                first = _counterexample(item, int(outcome.bad_rows[0]), outcome, outcome.bad_rows.size)
            if len(per_entry) < _EVIDENCE:
                per_entry.append(_entry_diagnoses(item, outcome, rtol, atol))
            continue
        if outcome.hint and item.quantity in QUANTITIES:
            hints.append(_t_wrong_axis(item.quantity))
        if first is None:
            local, smallest = _smallest_failure(item, impl, rtol, atol)
            first = _counterexample(item, local, smallest if smallest is not None else outcome)

    names = sorted({e["reference"] for e, _, _ in chosen})
    details = (f"golden vectors in {golden.directory} (format {golden.manifest['format_version']}, written by si_ref "
               f"{golden.manifest.get('si_ref_version')})\n"
               f"{values_compared} stored values compared, {len(names)} reference(s): {', '.join(names)}")
    summary = _summary(quantity)
    if first is None:
        return Report(quantity, True, rows_checked, rtol, atol, summary=summary, details=details)
    return Report(quantity, False, rows_checked, rtol, atol, first, _combined(per_entry, hints), summary=summary,
                  details=details)
