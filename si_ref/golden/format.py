r"""The golden vector file format: its document, its constants and its byte-level encoding.

Everything that fixes the bytes of a vector set lives here: the constants
(times, seed, ε, tolerance, conventions, key names) and the encoders of
``vectors.npz``, ``vectors.json`` and ``manifest.json``. :mod:`si_ref.golden.writer`
builds the arrays and writes them with these encoders; :mod:`si_ref.golden.reader`
reads them back; :mod:`si_ref.golden.verify` checks an implementation against them.

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
    * ``tolerance``: the default ``rtol``, ``atol`` of :func:`si_ref.golden.verify`;
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
``steps/linear-field-3d/<quantity>/``
    One group per step quantity (``euler_step``, ``midpoint_step``, ``heun_step``,
    ``rk4_step``, ``euler_maruyama_step``, ``stochastic_heun_step``): ``t`` (n,) =
    :data:`STEP_TIMES`, ``x`` (n, 3) standard normal draws, ``dt`` (n,) all equal to
    :data:`STEP_DT` (pass the number ``dt[0]``), for the SDE steps ``xi`` (n, 3)
    standard normal draws and ε = ``eps``, and the output (n, 3). The field handed to
    the step is the linear field b(x, t) = A x + t c whose A and c are
    ``manifest["references"]["linear-field-3d"]`` (:data:`LINEAR_FIELD`); for the SDE
    steps it is the forward drift b_F itself. Checks: ``step(field, x, t, dt)`` or
    ``step(field, x, t, dt, eps, xi)``.
``interpolants/<interpolant>/target_*``
    The regression targets (``target_drift``, ``target_velocity``, ``target_noise``,
    ``target_score``, ``target_denoise_x0``, ``target_denoise_x1``) at the stored
    ``t``, ``x0``, ``x1``, ``z`` of the interpolant, each owning the rows where it
    is defined when that is not every row. Checks: ``f(t, x0, x1, z)``.
``losses/<interpolant>/<quantity>/``
    One group per loss (``loss_drift``, ..., ``loss_denoise_x1``) and interpolant:
    ``t`` (n,) (:data:`ROW_TIMES` where the target is defined), ``x0``, ``x1``, ``z``
    (n, 3) standard normal draws (x0 = x1 on a mirror path), and the loss, shape (1,):
    the batch mean of ½ |f̂(x_t, t) − y|² summed over the 3 coordinates, with x_t and
    the target y on the interpolant and f̂(x, t) = A x + t c + x/4 (the linear field
    moved by x/4, as the checker's f̂ = exact field + x/4). Checks:
    ``loss(field, t, x0, x1, z)`` with ``field`` = f̂, compared with the one number
    (the ``rows`` of these entries are all rows: a loss is not separable by row).
``diffusion/<diffusion case>/``
    The diffusion fields in τ (``diffusion_epsilon``, ``diffusion_denoised``, ``diffusion_v``,
    ``diffusion_score``, ``diffusion_flow_velocity``, ``diffusion_reverse_sde_drift``) of every named
    diffusion case (:data:`si_ref.references.DIFFUSION_CASES`; the path and the data are in
    ``manifest["references"]``): ``tau`` (n,) = :data:`ROW_TIMES`, ``x`` (n, 2) with row i drawn from
    the law of x at τ[i], and each field (n, 2). The reverse-SDE drift is infinite where a(τ) = 0
    (τ = 1 on the cosine, rectified-flow and zero-terminal-SNR paths): its entry then owns the rows
    with a > 0 (``diffusion/<case>/diffusion_reverse_sde_drift/{tau, x, ...}``). Checks: ``f(x, tau)``.
``diffusion/<DIFFUSION_DATA_CASE>/<conversion or target>/``
    The conversions (``convert_epsilon_to_sample``, ...): ``a``, ``sigma`` (n,) (one level per row,
    from :data:`DIFFUSION_LEVELS` where the conversion is checked), ``x`` (n, 2) at row i's level,
    ``prediction`` (n, 2) the exact source field there, and the exact target field. Checks:
    ``convert(prediction, x, a, sigma)``. The training targets (``add_noise``, ``velocity_target``):
    ``x_data``, ``noise`` (n, 2) standard normal draws, ``a``, ``sigma`` (n,) and the target. Checks:
    ``f(x_data, noise, a, sigma)``.
``diffusion/<case>/<step>/<k>/``
    Sampler steps, one entry per setting k (the fixed settings of the quantity; one level for the
    batch): ``x`` (:data:`DIFFUSION_STEP_ROWS`, 2) drawn at the current level, the model outputs the
    step takes (``eps``, ``denoised``, ``denoised_prev`` at ``x_prev``, ``velocity``: the exact fields at
    the level), ``noise`` (n, 2) standard normal, the numbers of the setting stored once per row
    (``alpha_bar``, ``alpha_bar_prev``, ``eta``, ``sigma``, ``sigma_next``, ``gamma``, ``s_noise``: (n,),
    pass element 0; ``level_prev``, ``level``, ``level_next``: (n, 2) rows (a, σ), pass row 0 as a pair),
    and the result (n, 2). ``heun_sigma_step`` and ``edm_stochastic_step`` take a callable ``denoiser``
    D(x, sigma) = E[x_data | x_data + sigma eps = x], which is not stored: rebuild it from the case's data
    (a Gaussian mixture: the posterior mean is closed-form). Checks: as ``call`` says. ``shift_sigma``
    (``diffusion/diffusion-2d-rectified-flow-shift-3/shift_sigma/``): ``sigma`` (m,) on
    :data:`SCHEDULE_GRID`, ``shift`` (m,) all equal to the path's shift, the shifted σ.
``likelihood/linear-field-3d/ode_log_likelihood/``
    ``x`` (n, 3) points at t = 1 (the linear flow of standard normal draws), ``t`` (n,)
    all 1, and log ρ_1(x), shape (n,), for the flow dX/dt = A x + t c from ρ_0 = N(0, I):
    ρ_1 = N(v, Φ Φᵀ) with Φ = e^A and v the flow of 0 (:mod:`si_ref.checking.linear_field`).
    Checks: ``loglik(drift, divergence, x, base_log_density)`` with drift A x + t c,
    divergence tr A and base_log_density log N(0, I).

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
from pathlib import Path

import numpy as np

#: Version of the file format; :func:`si_ref.golden.load` refuses other versions.
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
#: The field given to the step, loss and likelihood entries, b(x, t) = A x + t c (name, A, c): rebuilt from the
#: manifest in any language. Three dimensions: a loss averaged over d coordinates instead of summed, and
#: torch's mse_loss (mean over all n·d entries, no ½: a factor 2/d), then differ from the exact value.
LINEAR_FIELD = ("linear-field-3d", ((-0.5, 0.3, 0.0), (-0.2, -0.8, 0.1), (0.1, 0.0, -0.3)), (0.4, -0.1, 0.2))
#: One start time per row of the step vectors (t + dt stays in [0, 1]).
STEP_TIMES = (0.0, 1e-6, 0.1, 0.25, 0.5, 0.75, 0.9)
#: Step size of the step vectors.
STEP_DT = 0.05
#: Noise levels (a, σ) of the rows of the diffusion conversion and training-target vectors (x = a x_data + σ ε).
DIFFUSION_LEVELS = ((1.0, 0.0), (1.0, 1e-12), (0.8, 0.6), (0.5, 0.5), (1.0, 2.0), (1.0, 80.0), (0.25, 0.75),
                    (0.1, 0.995), (1e-12, 1.0), (0.0, 1.0))
#: The diffusion case whose data the conversion, target and step vectors use (the path matters only to
#: DPM-Solver++, whose levels are taken on it, and to the shift).
DIFFUSION_DATA_CASE = "diffusion-2d-vp-linear"
#: Rows of each diffusion step entry (one level for the batch, as a sampler steps a batch).
DIFFUSION_STEP_ROWS = 4
#: Default tolerance of :func:`si_ref.golden.verify` (the same as :func:`si_ref.conformance.check`).
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
Diffusion conventions (references of kind diffusion_case): x = a x_data + sigma eps, eps ~ N(0, I)
independent of x_data, tau in [0, 1] with tau = 0 the data (the opposite of t above: t = 1 - tau);
VP tables have a = sqrt(alpha_bar), sigma = sqrt(1 - alpha_bar).
  epsilon E[eps | x]; denoised (x0-prediction, EDM's D) E[x_data | x]; v = a eps_hat - sigma x_hat;
  score grad log rho; flow velocity u = dx/dtau = a' x_hat + sigma' eps_hat (eps - x_data on rectified
  flow); reverse SDE drift f x - g^2 s with f = a'/a, g^2 = 2 sigma sigma' - 2 f sigma^2.
  Model outputs given to conversions and steps are these exact fields at the level of the call.
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


def _version() -> str:
    """si_ref's version (imported late, so that si_ref/__init__.py may import this module anywhere)."""
    from .. import __version__
    return __version__


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
