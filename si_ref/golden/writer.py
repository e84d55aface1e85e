"""Building the golden vectors: si_ref's exact values at fixed inputs, and writing the set.

Evaluates the closed forms of every named reference of :mod:`si_ref.references`
(schedules, interpolants, Gaussian cases and the wrappers between fields, the diffusion
cases, the labelled cases guided at each strength of
:data:`si_ref.checking.guidance.FIXED_STRENGTHS` towards each label, and the optimal
transport map of each case with Gaussian endpoints) on the inputs fixed by
:mod:`si_ref.golden.format`, and writes them with its encoders:
:func:`write` and :func:`main_write` (``si-ref golden --out DIR``).
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np

from .. import references
from ..checking.example import Example
from ..checking.diffusion_quantity import (
    DiffusionExample,
    DiffusionFieldQuantity,
    DiffusionStepQuantity,
    LevelQuantity,
    ShiftQuantity,
    points_at_levels,
)
from ..checking.draw import points_in_components
from ..checking.couplings import MapQuantity
from ..checking.guidance import FIXED_STRENGTHS, GuidedFieldQuantity
from ..checking.likelihood import LikelihoodQuantity
from ..checking.losses import LossQuantity
from ..checking.quantity import PathQuantity, StepQuantity, WrapperQuantity, wrapper_call
from ..checking.linear_field import LinearField
from ..quantities import QUANTITIES, build_wrapper, describe
from .format import (
    BULK,
    CONVENTIONS,
    DIFFUSION_DATA_CASE,
    DIFFUSION_LEVELS,
    DIFFUSION_STEP_ROWS,
    EPS,
    FILES,
    FORMAT_VERSION,
    INTERPOLANT_DIM,
    LINEAR_FIELD,
    ROW_TIMES,
    SCHEDULE_GRID,
    SEED,
    STEP_DT,
    STEP_TIMES,
    TOLERANCE,
    _COEFFICIENTS,
    _HASH_TEXT,
    _PARAMETER_ARGUMENTS,
    _SCALAR_FIELDS,
    _VECTOR_FIELDS,
    _digest,
    _manifest_bytes,
    _npz_bytes,
    _vectors_json_bytes,
    _version,
)


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


def _bulk_choices(weights, n: int, d: int, rng):
    """Each row's component p ~ π, then u ~ N(0, I) cut at ±BULK (drawn in this order: the vectors depend on it)."""
    pick = rng.choice(weights.size, size=n, p=weights)
    u = np.clip(rng.standard_normal((n, d)), -BULK, BULK)
    return pick, u


def _bulk_points(case, t, rng) -> np.ndarray:
    """Row i drawn from ρ_{t[i]}: a component p ~ π, then μ_p + L_p u with u ~ N(0, I) cut at ±BULK."""
    components = case.components(t)
    return points_in_components(components, *_bulk_choices(components.weights, t.size, case.dim, rng))


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
        if not isinstance(q, WrapperQuantity):
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
            call = wrapper_call(q.wrapper)
            parameter = {"kind": q.parameter, "arguments": _PARAMETER_ARGUMENTS[q.parameter]}
            v.entry(q.name, "wrapper", name, call, inputs, keys[q.output],
                    rows=None if len(rows) == t.size else rows, eps=EPS if q.needs_eps else None,
                    parameter=parameter)


def linear_field() -> LinearField:
    """The field of the step entries, :data:`~si_ref.golden.format.LINEAR_FIELD`."""
    _, A, c = LINEAR_FIELD
    return LinearField(A, c)


def _step_vectors(v: _Vectors):
    """Each step quantity from (x, t) with the linear field: exact values from the quantity's formulas."""
    name, field = LINEAR_FIELD[0], linear_field()
    t = np.array(STEP_TIMES)
    for q in QUANTITIES.values():
        if not isinstance(q, StepQuantity):
            continue
        rng = _rng(f"{name}/{q.name}")
        x = rng.standard_normal((t.size, field.dim))
        xi = rng.standard_normal((t.size, field.dim)) if q.stochastic else None
        example = Example(field, t, x=x, eps=EPS if q.stochastic else None, dt=STEP_DT, xi=xi)
        keys = {"t": v.add("steps", name, "t", t, owner=q.name), "x": v.add("steps", name, "x", x, owner=q.name),
                "dt": v.add("steps", name, "dt", np.full(t.size, STEP_DT), owner=q.name)}
        if xi is not None:
            keys["xi"] = v.add("steps", name, "xi", xi, owner=q.name)
        out = v.add("steps", name, q.name, _finite(q.exact(example), f"steps/{name}/{q.name}"), q.name, owner=q.name)
        call = "step(field, x, t, dt, eps, xi)" if q.stochastic else "step(field, x, t, dt)"
        v.entry(q.name, "step", name, call, keys, out, eps=EPS if q.stochastic else None)


def _target_vectors(v: _Vectors):
    """The regression targets at the interpolants' stored rows (owning the rows where each is defined)."""
    t = np.array(ROW_TIMES)
    for name in sorted(references.INTERPOLANTS):
        interpolant = references.INTERPOLANTS[name]
        keys = {arg: f"interpolants/{name}/{arg}" for arg in ("t", "x0", "x1", "z")}
        rows_all = {arg: v.arrays[key] for arg, key in keys.items()}
        for q in QUANTITIES.values():
            if not (isinstance(q, PathQuantity) and q.name.startswith("target_")) or not q.accepts(interpolant):
                continue
            if interpolant.kind == "mirror" and q.name == "target_denoise_x0":
                continue   # x0 is x1 on a mirror path; the stored x0 and x1 are independent draws
            rows = _rows_in(q.domain(interpolant), t)
            if not rows:
                continue
            entry_keys, owner = keys, None
            if len(rows) < t.size:
                owner = q.name
                entry_keys = {arg: v.add("interpolants", name, arg, values[rows], owner=owner)
                              for arg, values in rows_all.items()}
            values = q.exact(_example(interpolant, t[rows], *(rows_all[a][rows] for a in ("x0", "x1", "z"))))
            out = v.add("interpolants", name, q.name, _finite(values, f"{name}/{q.name}"), q.name, owner=owner)
            v.entry(q.name, "interpolant", name, "f(t, x0, x1, z)", entry_keys, out)


def _loss_vectors(v: _Vectors):
    """Each loss on each interpolant, with the linear field as f̂'s exact part: f̂(x, t) = A x + t c + x/4."""
    _, A, c = LINEAR_FIELD
    t_all = np.array(ROW_TIMES)
    for name in sorted(references.INTERPOLANTS):
        interpolant = references.INTERPOLANTS[name]
        reference = LinearField(A, c, interpolant)
        for q in QUANTITIES.values():
            if not isinstance(q, LossQuantity) or not q.accepts(reference):
                continue
            rows = _rows_in(q.domain(reference), t_all)
            t = t_all[rows]
            rng = _rng(f"{name}/{q.name}")
            x1 = rng.standard_normal((t.size, reference.dim))
            x0 = x1.copy() if interpolant.kind == "mirror" else rng.standard_normal((t.size, reference.dim))
            z = rng.standard_normal((t.size, reference.dim))
            value = q.exact(Example(reference, t, x0=x0, x1=x1, z=z))
            keys = {arg: v.add("losses", name, arg, values, owner=q.name)
                    for arg, values in (("t", t), ("x0", x0), ("x1", x1), ("z", z))}
            out = v.add("losses", name, q.name, _finite(np.reshape(value, (1,)), f"losses/{name}/{q.name}"), q.name,
                        owner=q.name)
            v.used.add(LINEAR_FIELD[0])
            v.entry(q.name, "loss", name, "loss(field, t, x0, x1, z)", keys, out)


def _likelihood_vectors(v: _Vectors):
    """log ρ_1 at points around the mean of ρ_1 for the linear field's flow from N(0, I) (closed form)."""
    name, field = LINEAR_FIELD[0], linear_field()
    phi, shift = field.flow(1.0)
    u = _rng(f"{name}/likelihood").standard_normal((len(ROW_TIMES), field.dim))
    x = shift + u @ phi.T                       # x = X_1 of X_0 = u: in the bulk of ρ_1
    for q in QUANTITIES.values():
        if not isinstance(q, LikelihoodQuantity):
            continue
        keys = {"t": v.add("likelihood", name, "t", np.ones(x.shape[0]), owner=q.name),
                "x": v.add("likelihood", name, "x", x, owner=q.name)}
        out = v.add("likelihood", name, q.name, _finite(field.log_density(x, 1.0), f"likelihood/{q.name}"), q.name,
                    owner=q.name)
        v.entry(q.name, "likelihood", name, "loglik(drift, divergence, x, base_log_density)", keys, out)


# --- the diffusion conventions ------------------------------------------------------------------------

def _level_bulk(case, a, sigma, rng) -> np.ndarray:
    """Rows drawn from the law of x = a x_data + σ ε (a, σ of shape (n,)): a component p ~ π, then
    a m_p + L u with L Lᵀ = a² S_p + σ² I and u ~ N(0, I) cut at ±BULK."""
    a, sigma = np.atleast_1d(np.asarray(a, dtype=np.float64)), np.atleast_1d(np.asarray(sigma, dtype=np.float64))
    pick, u = _bulk_choices(case.components_at(1.0, 0.0).weights, a.size, case.dim, rng)
    return points_at_levels(case, a, sigma, pick, u)


def _diffusion_field_vectors(v: _Vectors):
    t = np.array(ROW_TIMES)
    for name in sorted(references.DIFFUSION_CASES):
        case = references.DIFFUSION_CASES[name]
        path = case.path
        x = _level_bulk(case, path.a(t), path.sigma(t), _rng(name))
        keys = {"tau": v.add("diffusion", name, "tau", t), "x": v.add("diffusion", name, "x", x)}
        for q in QUANTITIES.values():
            if not isinstance(q, DiffusionFieldQuantity) or not q.accepts(case):
                continue
            rows = [i for i in range(t.size) if _defined(q, DiffusionExample(case, t[i:i + 1], x=x[i:i + 1]))]
            entry_keys, owner = keys, None
            if len(rows) < t.size:
                owner = q.name
                entry_keys = {"tau": v.add("diffusion", name, "tau", t[rows], owner=owner),
                              "x": v.add("diffusion", name, "x", x[rows], owner=owner)}
            values = q.exact(DiffusionExample(case, t[rows], x=x[rows]))
            out = v.add("diffusion", name, q.name, _finite(values, f"diffusion/{name}/{q.name}"), q.name, owner=owner)
            v.entry(q.name, q.level, name, "f(x, tau)", entry_keys, out)


def _defined(q, ex) -> bool:
    try:
        np.asarray(q.exact(ex))
    except ValueError:
        return False
    return q.defined(ex)


def _diffusion_level_vectors(v: _Vectors):
    """Conversions and training targets: one level per row (DIFFUSION_LEVELS where each is checked)."""
    name = DIFFUSION_DATA_CASE
    case = references.DIFFUSION_CASES[name]
    levels = np.array(DIFFUSION_LEVELS)
    for q in QUANTITIES.values():
        if not isinstance(q, LevelQuantity):
            continue
        a_all, s_all = levels[:, 0], levels[:, 1]
        rows = [i for i in range(levels.shape[0]) if np.all(q.usable(a_all[i:i + 1], s_all[i:i + 1]))]
        a, sigma = a_all[rows], s_all[rows]
        rng = _rng(f"{name}/{q.name}")
        if q.is_target:
            inputs = {"x_data": rng.standard_normal((a.size, case.dim)),
                      "noise": rng.standard_normal((a.size, case.dim))}
            example = DiffusionExample(case, None, x0=inputs["x_data"], z=inputs["noise"],
                                       values={"a": a, "sigma": sigma})
            call = f"{q.name}(x_data, noise, a, sigma)"
        else:
            x = _level_bulk(case, a, sigma, rng)
            example = DiffusionExample(case, None, x=x, values={"a": a, "sigma": sigma})
            inputs = {"prediction": q.inputs_of(example), "x": x}
            call = "convert(prediction, x, a, sigma)"
        inputs.update(a=a, sigma=sigma)
        keys = {arg: v.add("diffusion", name, arg, _finite(values, f"{q.name}/{arg}"), owner=q.name)
                for arg, values in inputs.items()}
        out = v.add("diffusion", name, q.name, _finite(q.exact(example), f"diffusion/{name}/{q.name}"), q.name,
                    owner=q.name)
        v.entry(q.name, q.level, name, call, keys, out)


#: The cases of each step's vectors (DPM-Solver++ takes its levels on the path: a VP and a VE path).
_STEP_CASES = {"dpm_solver_pp_1s_step": (DIFFUSION_DATA_CASE, "diffusion-2d-ve"),
               "dpm_solver_pp_2m_step": (DIFFUSION_DATA_CASE, "diffusion-2d-ve")}


#: The function a step quantity calls when it is not its name (DDIM with η > 0 is ddim_step with eta and noise).
_STEP_FUNCTIONS = {"ddim_eta_step": "ddim_step"}


def _diffusion_step_vectors(v: _Vectors):
    for q in QUANTITIES.values():
        if isinstance(q, ShiftQuantity):
            name = "diffusion-2d-rectified-flow-shift-3"
            case = references.DIFFUSION_CASES[name]
            sigma = np.array(SCHEDULE_GRID)
            keys = {"sigma": v.add("diffusion", name, "sigma", sigma, owner=q.name),
                    "shift": v.add("diffusion", name, "shift", np.full(sigma.size, case.path.shift), owner=q.name)}
            out = v.add("diffusion", name, q.name, _finite(q.exact(DiffusionExample(case, sigma)), q.name), q.name,
                        owner=q.name)
            v.entry(q.name, q.level, name, "shift_sigma(sigma, shift)", keys, out)
            continue
        if not isinstance(q, DiffusionStepQuantity):
            continue
        for name in _STEP_CASES.get(q.name, (DIFFUSION_DATA_CASE,)):
            case = references.DIFFUSION_CASES[name]
            for k, setting in enumerate(q.fixed_values(case)):
                rng = _rng(f"{name}/{q.name}/{k}")
                n = DIFFUSION_STEP_ROWS
                a, sigma = q.current_level(setting)
                values = dict(setting)
                x = _level_bulk(case, np.full(n, a), np.full(n, sigma), rng)
                if "level_prev" in setting:
                    a_prev, sigma_prev = setting["level_prev"]
                    values["x_prev"] = _level_bulk(case, np.full(n, a_prev), np.full(n, sigma_prev), rng)
                if "noise" in q.arguments_:
                    values["noise"] = rng.standard_normal((n, case.dim))
                example = DiffusionExample(case, None, x=x, values=values)
                if not _defined(q, example):
                    continue
                inputs = {name_: value for name_, value in q.call_inputs(example).items() if not callable(value)}
                if "x_prev" in values:
                    inputs["x_prev"] = values["x_prev"]
                stored = {}
                for arg, value in inputs.items():
                    if isinstance(value, tuple):
                        value = np.tile(np.asarray(value, dtype=np.float64), (n, 1))
                    elif np.ndim(value) == 0:
                        value = np.full(n, float(value))
                    stored[arg] = v.add("diffusion", name, arg, _finite(value, f"{q.name}/{arg}"),
                                        owner=f"{q.name}/{k}")
                out = v.add("diffusion", name, q.name, _finite(q.exact(example), f"{q.name}/{k}"), q.name,
                            owner=f"{q.name}/{k}")
                function = _STEP_FUNCTIONS.get(q.name, q.name)
                v.entry(q.name, q.level, name, f"{function}({', '.join(q.arguments_)})", stored, out)


def _guidance_vectors(v: _Vectors):
    """Each guided field of each named labelled case, at each fixed strength and label: rows at ROW_TIMES in
    the bulk of the conditional ρ_t(· | c). The entry's ``parameter`` holds the strength and the label."""
    t = np.array(ROW_TIMES)
    for name in sorted(references.GUIDANCE_CASES):
        case = references.GUIDANCE_CASES[name]
        for strength in FIXED_STRENGTHS:
            (convention, value), = strength.items()
            guided = case.guided(**strength)
            for c in case.labels:
                owner = f"{convention}={value!r}/c={c}"
                x = _bulk_points(case.case(c), t, _rng(f"{name}/{owner}"))
                keys = {"t": v.add("guidance", name, "t", t, owner=owner),
                        "x": v.add("guidance", name, "x", x, owner=owner)}
                for q in QUANTITIES.values():
                    if not isinstance(q, GuidedFieldQuantity) or not q.accepts(guided):
                        continue
                    rows = _rows_in(q.domain(guided), t)
                    values = q.exact(Example(case.case(c), t[rows], x=x[rows], c=c, labelled=guided))
                    out = v.add("guidance", name, q.name, _finite(values, f"{name}/{owner}/{q.name}"), q.name,
                                owner=owner)
                    v.entry(q.name, q.level, name, "f(x, t, c)", keys, out,
                            rows=None if len(rows) == t.size else rows,
                            parameter={"convention": convention, "value": value, "c": c})


def _coupling_vectors(v: _Vectors):
    """The OT map of each named case with Gaussian endpoints, at base points m0 + L0 u (u ~ N(0, I) cut at ±BULK)."""
    for q in QUANTITIES.values():
        if not isinstance(q, MapQuantity):
            continue
        for name in sorted(references.CASES):
            case = references.CASES[name]
            if not q.accepts(case):
                continue
            u = np.clip(_rng(f"{name}/{q.name}").standard_normal((len(ROW_TIMES), case.dim)), -BULK, BULK)
            x = case.base.mean + u @ case.base.chol.T
            keys = {"x": v.add("couplings", name, "x", x, owner=q.name)}
            out = v.add("couplings", name, q.name, _finite(q.exact(Example(case, None, x=x)), f"{name}/{q.name}"),
                        q.name, owner=q.name)
            v.entry(q.name, q.level, name, "T(x)", keys, out)


def _example(interpolant, t, x0, x1, z):
    return Example(interpolant, t, x0=x0, x1=x1, z=z)


def _build() -> _Vectors:
    v = _Vectors()
    _schedule_vectors(v)
    _interpolant_vectors(v)
    _target_vectors(v)
    _wrapper_vectors(v, _field_vectors(v))
    _step_vectors(v)
    _loss_vectors(v)
    _likelihood_vectors(v)
    _diffusion_field_vectors(v)
    _diffusion_level_vectors(v)
    _diffusion_step_vectors(v)
    _guidance_vectors(v)
    _coupling_vectors(v)
    return v


def _definition(name: str) -> dict:
    """The parameters of a reference: si_ref.references' definition, or the linear field of the steps."""
    return linear_field().definition() if name == LINEAR_FIELD[0] else references.definition(name)


def _manifest(v: _Vectors) -> dict:
    records = []
    for key in sorted(v.arrays):
        array = v.arrays[key]
        records.append({**v.records[key], "shape": list(array.shape), "dtype": "float64", "sha256": _digest(array)})
    return {
        "format_version": FORMAT_VERSION,
        "si_ref_version": _version(),
        "numpy_version": np.__version__,
        # part of the written bytes, so unchanged: si_ref.golden's docstring points to si_ref.golden.format
        "description": ("si_ref golden test vectors: exact values of stochastic-interpolant quantities for named "
                        "references; the module docstring of si_ref.golden documents the format."),
        "conventions": CONVENTIONS,
        "eps": EPS,
        "seed": SEED,
        "tolerance": dict(TOLERANCE),
        "hash": _HASH_TEXT,
        "references": {name: _definition(name) for name in sorted(v.used)},
        "arrays": records,
        "entries": v.entries,
    }


# --- writing -------------------------------------------------------------------------------------------

def write(out_dir) -> Path:
    """Write the golden vector set (``manifest.json``, ``vectors.npz``, ``vectors.json``) into ``out_dir``.

    The folder is created if needed; existing files of the set are replaced, other
    files are left alone. The same si_ref and NumPy versions write byte-identical
    files (see :mod:`si_ref.golden.format` for the format).

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
