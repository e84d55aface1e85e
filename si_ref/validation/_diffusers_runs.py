r"""The measurements of :mod:`si_ref.validation.crosscheck_diffusers` (private: not a study).

How far an adapter is from the exact value (and the float32 floor), the float64 twin at a counterexample, the
schedulers' own N-step sampling loops against si_ref's steps on their grids, and the grid checks against the
textbook grids with what each documents (:data:`GRID_DOCUMENTED`). Peers are handed in; torch is never imported
here.
"""

from __future__ import annotations

import math

import numpy as np

from si_ref.checking.compare import FLOAT32_TOLERANCE, FLOAT64_TOLERANCE
from si_ref.checking.draw import time_range
from si_ref.checking.evaluate import exact_or_none
from si_ref.diffusion import DiffusionCase
from si_ref.diffusion import discrete
from si_ref.diffusion import steps as si_steps
from si_ref.validation._diffusers_adapters import _float64, _tensor, _vp_of_ve

#: Inference steps of the sampling loops and of the grid checks.
N_STEPS = 10


# --- running a check ------------------------------------------------------------------------------------------

def _round32(value):
    """An input rounded to float32 (arrays, numbers, pairs; a callable's outputs), as float64."""
    if callable(value):
        return lambda *args: _round32(np.asarray(value(*args), dtype=np.float64))
    if isinstance(value, tuple):
        return tuple(_round32(v) for v in value)
    if isinstance(value, (float, int, np.floating, np.ndarray)) and not isinstance(value, bool):
        rounded = np.asarray(value, dtype=np.float64).astype(np.float32).astype(np.float64)
        return float(rounded) if np.ndim(value) == 0 else rounded
    return value


def _normwise(received, expected) -> float:
    """max |received − expected| / max |expected| (inf when received is missing or not finite)."""
    if received is None or np.shape(received) != np.shape(expected) or not np.all(np.isfinite(received)):
        return math.inf
    scale = float(np.max(np.abs(expected)))
    error = float(np.max(np.abs(received - expected)))
    return error / scale if scale > 0 else (0.0 if error == 0 else math.inf)


def _call(fn, args):
    try:
        with np.errstate(all="ignore"):
            return np.asarray(fn(*args), dtype=np.float64)
    except Exception:  # noqa: BLE001 - an adapter that raises is measured as an infinite error
        return None


def _measure(q, implementation, reference) -> dict:
    """Max relative disagreement (normwise per input) of the implementation, and of si_ref's own implementation on
    inputs rounded to float32 (the float32 floor), over the quantity's fixed inputs."""
    worst = floor = 0.0
    own = q.own_implementation()
    for ex in q.fixed_examples(reference, None, time_range()):
        expected = exact_or_none(q, ex)
        if expected is None or not np.all(np.isfinite(expected)):
            continue
        fn, args = q.bind(implementation, ex)
        worst = max(worst, _normwise(_call(fn, args), expected))
        rounded = _call(own, [_round32(a) for a in args])
        if rounded is not None:
            floor = max(floor, _normwise(rounded, expected))
    return {"max_rel_error": worst, "float32_floor": floor}


def _magnitude(inputs: dict, expected) -> float:
    """The largest finite magnitude among the counterexample's array inputs and the exact value."""
    values = [np.asarray(expected, dtype=np.float64)] + [np.asarray(v, dtype=np.float64) for v in inputs.values()
                                                         if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
    finite = [np.abs(v[np.isfinite(v)]) for v in values]
    return max((float(np.max(v)) for v in finite if v.size), default=0.0)


def _twin_error(q, twin, report):
    """At the checker's counterexample, whether the float64 twin of the adapter is within the float32 tolerance of
    the exact value relative to the largest magnitude there: max |twin − exact| <= atol + rtol max(|inputs|, |exact|)
    with the float32 (rtol, atol) -- the rounding of a float32 state of that size. None when the failure has no
    comparable values."""
    c = report.counterexample
    if c is None or not (c.error == "values differ" or c.error.startswith("returned NaN or inf")):
        return None
    names = q.argument_names(None)
    if not all(name in c.inputs for name in names):
        return None
    value = _call(twin, [c.inputs[name] for name in names])
    expected = np.asarray(c.expected, dtype=np.float64)
    if value is None or value.shape != expected.shape or not np.all(np.isfinite(value)):
        return False
    rtol, atol = FLOAT32_TOLERANCE
    return bool(np.max(np.abs(value - expected)) <= atol + rtol * _magnitude(c.inputs, expected))


def _scalar_inputs(inputs: dict) -> dict:
    """The numbers among a counterexample's inputs (levels, η), each pair entry by index: where it failed."""
    out = {}
    for name, value in inputs.items():
        values = value if isinstance(value, tuple) else (value,)
        for i, v in enumerate(values):
            if isinstance(v, (int, float, np.floating)) or (isinstance(v, np.ndarray) and v.size == 1):
                out[name if len(values) == 1 else f"{name}[{i}]"] = float(np.asarray(v).reshape(()))
    return out


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


# --- sampling loops ---------------------------------------------------------------------------------------------

def _exact_output(case: DiffusionCase, prediction: str, x, a, s) -> np.ndarray:
    """The exact model output of ``prediction`` at the VP point x of level (a, s)."""
    method = {"epsilon": case.epsilon_at, "sample": case.denoised_at, "v_prediction": case.v_at}[prediction]
    return method(x, a, s)


def _velocity(case: DiffusionCase, x, sigma) -> np.ndarray:
    """The flow velocity u = ε̂ − x̂ at the rectified-flow level (1 − σ, σ)."""
    return case.epsilon_at(x, 1.0 - sigma, sigma) - case.denoised_at(x, 1.0 - sigma, sigma)


def _seeded(peers, seed: int):
    return peers.torch.Generator().manual_seed(seed)


def _loop_ddpm(peers, case, prediction, dtype, z, seed):
    torch = peers.torch
    s = peers.classes["DDPMScheduler"](clip_sample=False, prediction_type=prediction)
    s.set_timesteps(N_STEPS)
    table, ts = _float64(s.alphas_cumprod), [int(t) for t in s.timesteps]
    x = _tensor(peers, z, dtype)
    ours, theirs, mine = _float64(x), [], []
    for k, t in enumerate(ts):
        ab = table[t]
        abp = table[ts[k + 1]] if k + 1 < len(ts) else 1.0          # the next grid entry; 1 after the last
        level = (math.sqrt(ab), math.sqrt(1.0 - ab))
        output = _exact_output(case, prediction, _float64(x), *level)
        x = s.step(_tensor(peers, output, dtype), t, x, generator=_seeded(peers, seed + k)).prev_sample
        noise = _float64(torch.randn(tuple(x.shape), generator=_seeded(peers, seed + k), dtype=getattr(torch, dtype)))
        ours = si_steps.ddpm_step(case.epsilon_at(ours, *level), ours, ab, abp, noise)
        theirs.append(_float64(x))
        mine.append(ours)
    return theirs, mine, len(ts)


def _loop_ddim(peers, case, prediction, dtype, z, seed):
    s = peers.classes["DDIMScheduler"](clip_sample=False, prediction_type=prediction)
    s.set_timesteps(N_STEPS)
    table, ts = _float64(s.alphas_cumprod), [int(t) for t in s.timesteps]
    x = _tensor(peers, z, dtype)
    ours, theirs, mine = _float64(x), [], []
    for k, t in enumerate(ts):
        ab = table[t]
        abp = table[ts[k + 1]] if k + 1 < len(ts) else float(s.final_alpha_cumprod)
        level = (math.sqrt(ab), math.sqrt(1.0 - ab))
        output = _exact_output(case, prediction, _float64(x), *level)
        x = s.step(_tensor(peers, output, dtype), t, x).prev_sample
        ours = si_steps.ddim_step(case.epsilon_at(ours, *level), ours, ab, abp)
        theirs.append(_float64(x))
        mine.append(ours)
    return theirs, mine, len(ts)


def _loop_euler(peers, case, prediction, dtype, z, seed):
    s = peers.classes["EulerDiscreteScheduler"](prediction_type=prediction)
    s.set_timesteps(N_STEPS)
    sigmas = _float64(s.sigmas)
    x = _tensor(peers, z, dtype) * s.init_noise_sigma
    ours, theirs, mine = _float64(x), [], []
    for k, t in enumerate(s.timesteps):
        model_input = _float64(s.scale_model_input(x, t))
        output = _exact_output(case, prediction, model_input, *_vp_of_ve(sigmas[k]))
        x = s.step(_tensor(peers, output, dtype), t, x).prev_sample
        ours = si_steps.euler_sigma_step(case.denoised_at(ours, 1.0, sigmas[k]), ours, sigmas[k], sigmas[k + 1])
        theirs.append(_float64(x))
        mine.append(ours)
    return theirs, mine, len(s.timesteps)


def _loop_heun(peers, case, prediction, dtype, z, seed):
    s = peers.classes["HeunDiscreteScheduler"](prediction_type=prediction)
    s.set_timesteps(N_STEPS)
    sigmas = _float64(s.sigmas)                                  # [σ0, σ1, σ1, ..., σ_{N−1}, σ_{N−1}, 0]
    x = _tensor(peers, z, dtype) * s.init_noise_sigma
    ours, theirs, mine = _float64(x), [], []
    for t in s.timesteps:
        model_input = _float64(s.scale_model_input(x, t))
        output = _exact_output(case, prediction, model_input, *_vp_of_ve(sigmas[s.step_index]))
        x = s.step(_tensor(peers, output, dtype), t, x).prev_sample
        if s.state_in_first_order:                               # a base step completed (its second call)
            theirs.append(_float64(x))
    theirs.append(_float64(x))                                   # the last call: Euler to σ = 0, no second call
    grid = list(sigmas[0::2]) + [0.0]

    def denoiser(y, sigma):
        return case.denoised_at(y, 1.0, float(np.asarray(sigma).reshape(-1)[0]))
    for k in range(len(grid) - 1):
        ours = si_steps.heun_sigma_step(denoiser, ours, grid[k], grid[k + 1])
        mine.append(ours)
    return theirs, mine, len(s.timesteps)


def _loop_dpm(peers, case, prediction, dtype, z, seed):
    s = peers.classes["DPMSolverMultistepScheduler"](prediction_type=prediction)
    s.set_timesteps(N_STEPS)
    sigmas = _float64(s.sigmas)
    levels = [_vp_of_ve(v) for v in sigmas]
    x = _tensor(peers, z, dtype)
    ours, theirs, mine, previous = _float64(x), [], [], None
    for k, t in enumerate(s.timesteps):
        output = _exact_output(case, prediction, _float64(x), *levels[k])
        x = s.step(_tensor(peers, output, dtype), t, x).prev_sample
        denoised = case.denoised_at(ours, *levels[k])
        if previous is None or sigmas[k + 1] == 0.0:               # first-order first and last (to σ = 0) steps
            ours_next = si_steps.dpm_solver_pp_1s_step(denoised, ours, levels[k], levels[k + 1])
        else:
            ours_next = si_steps.dpm_solver_pp_2m_step(denoised, previous, ours, levels[k - 1], levels[k],
                                                       levels[k + 1])
        previous, ours = denoised, ours_next
        theirs.append(_float64(x))
        mine.append(ours)
    return theirs, mine, len(s.timesteps)


def _loop_flow_match(peers, case, shift, dtype, z, seed):
    s = peers.classes["FlowMatchEulerDiscreteScheduler"](shift=shift)
    s.set_timesteps(N_STEPS)
    sigmas = _float64(s.sigmas)
    x = _tensor(peers, z, dtype)
    ours, theirs, mine = _float64(x), [], []
    for k, t in enumerate(s.timesteps):
        x = s.step(_tensor(peers, _velocity(case, _float64(x), sigmas[k]), dtype), t, x).prev_sample
        ours = si_steps.flow_match_euler_step(_velocity(case, ours, sigmas[k]), ours, sigmas[k], sigmas[k + 1])
        theirs.append(_float64(x))
        mine.append(ours)
    return theirs, mine, len(s.timesteps)


_LOOPS = {"DDPMScheduler": _loop_ddpm, "DDIMScheduler": _loop_ddim, "EulerDiscreteScheduler": _loop_euler,
          "HeunDiscreteScheduler": _loop_heun, "DPMSolverMultistepScheduler": _loop_dpm}


def _loop_row(peers, case, scheduler, variant, dtype, z, seed) -> dict:
    """The scheduler's N-step loop against si_ref's steps on its grid; judged normwise at every base step."""
    if scheduler == "FlowMatchEulerDiscreteScheduler":
        theirs, mine, calls = _loop_flow_match(peers, case, variant, dtype, z, seed)
        label = f"shift={variant:g}"
    else:
        theirs, mine, calls = _LOOPS[scheduler](peers, case, variant, dtype, z, seed)
        label = f"prediction_type={variant!r}"
    rtol, atol = FLOAT64_TOLERANCE if dtype == "float64" else FLOAT32_TOLERANCE
    worst_rel, worst_ratio = 0.0, 0.0
    for a, b in zip(theirs, mine):
        scale = float(np.max(np.abs(b)))
        error = float(np.max(np.abs(a - b))) if np.all(np.isfinite(a)) else math.inf
        worst_rel = max(worst_rel, error / scale)
        worst_ratio = max(worst_ratio, error / (atol + rtol * scale))
    passed = len(theirs) == len(mine) and worst_ratio <= 1.0
    return {"check": f"{scheduler}: {N_STEPS}-step loop [{label}; {dtype}] vs si_ref's steps on its grid: expect PASS",
            "scheduler": scheduler, "variant": label, "dtype": dtype, "model_calls": calls, "steps": len(mine),
            "max_rel_error": worst_rel, "rtol": rtol, "atol": atol,
            "outcome": "PASS" if passed else "FAIL", "expected": "PASS", "as_expected": passed}


# --- the grids against the textbook ones ----------------------------------------------------------------------------

#: What each grid check documents (diffusers 0.42.1), by key: the text of the expectation.
GRID_DOCUMENTED = {
    "ddim-linspace-prev": "every step jumps from t to t - T//N = t - 100 (to ᾱ = 1 below 0), not to the next grid "
                          "entry: 9 of the 10 jumps land off the grid (999 -> 899, 888 -> 788, ..., 111 -> 11)",
    "ddim-linspace-effect": "the loop's final sample differs from si_ref's DDIM loop over consecutive entries of the "
                            "same grid by more than 1e-3 (relative to its largest value)",
    "flow-shift-twice": "set_timesteps(N) with shift s gives shift(linspace(1, shift(1/T), N)): equal to float32 "
                        "precision (<= 1e-6)",
    "flow-shift-textbook": "it differs from the once-shifted grid shift(linspace(1, 1/T, N)) by more than 1e-3 "
                           "(the last level is shift(shift(1/T)) = 0.00893, not shift(1/T) = 0.00299)",
    "flow-shift-dynamic": "use_dynamic_shifting=True with mu = ln s shifts once: equal to shift(linspace(1, 1/T, N)) "
                          "(<= 1e-6)",
    "dpm-orders-default": "final_sigmas_type='zero' (default), N = 10: orders [1, 2, 2, 2, 2, 2, 2, 2, 2, 1] (the last "
                          "step, to sigma = 0, is first order and returns x-hat)",
    "dpm-orders-sigma-min-10": "final_sigmas_type='sigma_min', N = 10: [1, 2, ..., 2, 1] (lower_order_final with "
                               "N < 15)",
    "dpm-orders-sigma-min-20": "final_sigmas_type='sigma_min', N = 20: [1, 2, ..., 2] (second order to the end)",
    "dpm-orders-no-lower-final": "final_sigmas_type='sigma_min', lower_order_final=False, N = 10: [1, 2, ..., 2]",
    "heun-calls": "N = 10 base steps take 19 model evaluations (the last step is one Euler step to sigma = 0)",
    "heun-state": "after the loop the scheduler is left in its second stage (state_in_first_order is False): a "
                  "further step() without set_timesteps would finish a Heun step that was never started",
    "spacing-ddim": "DDIM's leading, trailing and linspace timesteps for N = 10 and 7 equal "
                    "si_ref.diffusion.discrete.timesteps",
    "spacing-euler-linspace": "EulerDiscrete's linspace timesteps are not rounded: for N = 7 they differ from "
                              "si_ref's (rounded) ones by 0.5 (832.5, 166.5, ...)",
    "spacing-dpm-linspace": "DPMSolverMultistep's linspace grid is round(linspace(0, T - 1, N + 1)) without its last "
                            "point (999, 899, ..., 100): it differs from si_ref's linspace (999, 888, ..., 0)",
    "table-alphas-cumprod": "the float32 alphas_cumprod of linear, scaled_linear and squaredcos_cap_v2 agree with "
                            "si_ref's float64 DiscreteSchedule to within 1e-6 relative, except the last level of "
                            "squaredcos_cap_v2 (off by 1e-6 to 1e-4: its β is capped at 0.999, and 1 - β of "
                            "the float32 0.999 is off by 1.3e-5)",
    "table-sigma-near-data": "the float32 table loses the digits of 1 - ᾱ near the data: EulerDiscrete's sigma at "
                             "t = 0 (0.0100005 exactly) is off by more than 1e-5 relative",
    "euler-log-linear": "interpolation_type='log_linear' gives N + 2 sigmas for N timesteps, the last nonzero one "
                        "being sigma_min: the loop never reaches sigma = 0",
}


def _grid_row(key: str, measured: str, value: float, ok: bool) -> dict:
    return {"key": key, "check": f"grid {key}: {GRID_DOCUMENTED[key]}", "measured": measured, "value": float(value),
            "expected": GRID_DOCUMENTED[key], "as_expected": bool(ok)}


def _relative(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(np.asarray(b))))


def _ddim_linspace_rows(peers, case, z) -> list:
    """Which previous level DDIM(timestep_spacing="linspace") steps to: the next grid entry or t − T//N."""
    s = peers.classes["DDIMScheduler"](clip_sample=False, timestep_spacing="linspace")
    s.set_timesteps(N_STEPS)
    table, ts = _float64(s.alphas_cumprod), [int(t) for t in s.timesteps]
    jump, final = s.config.num_train_timesteps // N_STEPS, float(s.final_alpha_cumprod)
    x = _tensor(peers, z, "float64")
    ours = _float64(x)
    pairs, off_grid, all_jump = [], 0, True
    for k, t in enumerate(ts):
        ab = table[t]
        level = (math.sqrt(ab), math.sqrt(1.0 - ab))
        eps = case.epsilon_at(_float64(x), *level)
        before = _float64(x)
        x = s.step(_tensor(peers, eps, "float64"), t, x).prev_sample
        result = _float64(x)
        grid_prev = ts[k + 1] if k + 1 < len(ts) else -1
        candidates = {"grid": grid_prev, "jump": t - jump}
        matches = {}
        for name, tp in candidates.items():
            abp = table[tp] if tp >= 0 else final
            matches[name] = _relative(result, si_steps.ddim_step(eps, before, ab, abp)) <= 1e-5
        all_jump &= matches["jump"]
        off_grid += not matches["grid"]
        pairs.append(f"{t}->{t - jump if matches['jump'] else '?'}")
        abp_grid = table[grid_prev] if grid_prev >= 0 else final
        ours = si_steps.ddim_step(case.epsilon_at(ours, *level), ours, ab, abp_grid)
    effect = _relative(_float64(x), ours)
    return [_grid_row("ddim-linspace-prev", ", ".join(pairs) + f"; off the grid: {off_grid} of {len(ts)}", off_grid,
                      all_jump and off_grid == len(ts) - 1),
            _grid_row("ddim-linspace-effect", f"relative difference of the final samples {effect:.3g}", effect,
                      effect > 1e-3)]


def _flow_shift_rows(peers) -> list:
    shift, cls = 3.0, peers.classes["FlowMatchEulerDiscreteScheduler"]
    s = cls(shift=shift)
    s.set_timesteps(N_STEPS)
    grid = _float64(s.sigmas[:-1])
    T = s.config.num_train_timesteps
    once = discrete.shift_sigma(np.linspace(1.0, 1.0 / T, N_STEPS), shift)
    twice = discrete.shift_sigma(np.linspace(1.0, float(discrete.shift_sigma(1.0 / T, shift)), N_STEPS), shift)
    dynamic = cls(use_dynamic_shifting=True)
    dynamic.set_timesteps(N_STEPS, mu=math.log(shift))
    grid_dynamic = _float64(dynamic.sigmas[:-1])
    d_twice, d_once = float(np.max(np.abs(grid - twice))), float(np.max(np.abs(grid - once)))
    d_dynamic = float(np.max(np.abs(grid_dynamic - once)))
    return [_grid_row("flow-shift-twice", f"max |sigma - shift(linspace(1, shift(1/T), N))| = {d_twice:.3g}", d_twice,
                      d_twice <= 1e-6),
            _grid_row("flow-shift-textbook", f"max |sigma - shift(linspace(1, 1/T, N))| = {d_once:.3g}; last sigma "
                      f"{grid[-1]:.6g} (once-shifted: {once[-1]:.6g})", d_once, d_once > 1e-3),
            _grid_row("flow-shift-dynamic", f"max |sigma - shift(linspace(1, 1/T, N))| = {d_dynamic:.3g}", d_dynamic,
                      d_dynamic <= 1e-6)]


def _dpm_orders(peers, case, z, steps: int, **config) -> list:
    """The order of each step() of DPMSolverMultistepScheduler: 1 where it equals si_ref's 1S step from its own
    state, 2 where it equals the 2M step, 0 where neither."""
    s = peers.classes["DPMSolverMultistepScheduler"](prediction_type="sample", **config)
    s.set_timesteps(steps)
    sigmas = _float64(s.sigmas)
    levels = [_vp_of_ve(v) for v in sigmas]
    x = _tensor(peers, z, "float64")
    orders, previous = [], None
    for k, t in enumerate(s.timesteps):
        before = _float64(x)
        denoised = case.denoised_at(before, *levels[k])
        x = s.step(_tensor(peers, denoised, "float64"), t, x).prev_sample
        result = _float64(x)
        order = 0
        if _relative(result, si_steps.dpm_solver_pp_1s_step(denoised, before, levels[k], levels[k + 1])) <= 1e-5:
            order = 1
        elif previous is not None and sigmas[k + 1] > 0 and _relative(result, si_steps.dpm_solver_pp_2m_step(
                denoised, previous, before, levels[k - 1], levels[k], levels[k + 1])) <= 1e-5:
            order = 2
        orders.append(order)
        previous = denoised
    return orders


def _dpm_rows(peers, case, z) -> list:
    out = []
    for key, steps, config in (("dpm-orders-default", 10, {}),
                               ("dpm-orders-sigma-min-10", 10, {"final_sigmas_type": "sigma_min"}),
                               ("dpm-orders-sigma-min-20", 20, {"final_sigmas_type": "sigma_min"}),
                               ("dpm-orders-no-lower-final", 10, {"final_sigmas_type": "sigma_min",
                                                                  "lower_order_final": False})):
        orders = _dpm_orders(peers, case, z, steps, **config)
        last = 1 if key in ("dpm-orders-default", "dpm-orders-sigma-min-10") else 2
        documented = [1] + [2] * (steps - 2) + [last]
        out.append(_grid_row(key, f"orders {orders}", sum(o != d for o, d in zip(orders, documented)),
                             orders == documented))
    return out


def _heun_rows(peers, case, z) -> list:
    s = peers.classes["HeunDiscreteScheduler"](prediction_type="sample")
    s.set_timesteps(N_STEPS)
    x = _tensor(peers, z, "float64") * s.init_noise_sigma
    calls = 0
    for t in s.timesteps:
        model_input = _float64(s.scale_model_input(x, t))
        a, sigma = _vp_of_ve(float(s.sigmas[s.step_index]))
        x = s.step(_tensor(peers, case.denoised_at(model_input, a, sigma), "float64"), t, x).prev_sample
        calls += 1
    first_order = bool(s.state_in_first_order)
    return [_grid_row("heun-calls", f"{calls} model evaluations for N = {N_STEPS}", calls, calls == 2 * N_STEPS - 1),
            _grid_row("heun-state", f"state_in_first_order after the loop: {first_order}", float(first_order),
                      not first_order)]


def _spacing_rows(peers) -> list:
    schedule = discrete.DiscreteSchedule.linear(1000, 1e-4, 0.02)
    mismatches, cases = 0, []
    for spacing in discrete.TIMESTEP_SPACINGS:
        for steps in (10, 7):
            s = peers.classes["DDIMScheduler"](timestep_spacing=spacing)
            s.set_timesteps(steps)
            same = np.array_equal(s.timesteps.numpy(), discrete.timesteps(schedule, steps, spacing))
            mismatches += not same
            cases.append(f"{spacing} N={steps}: {'equal' if same else 'DIFFERENT'}")
    euler = peers.classes["EulerDiscreteScheduler"]()
    euler.set_timesteps(7)
    euler_gap = float(np.max(np.abs(euler.timesteps.numpy().astype(np.float64)
                                    - discrete.timesteps(schedule, 7, "linspace"))))
    dpm = peers.classes["DPMSolverMultistepScheduler"]()
    dpm.set_timesteps(N_STEPS)
    theirs = dpm.timesteps.numpy()
    textbook = discrete.timesteps(schedule, N_STEPS, "linspace")
    one_more = discrete.timesteps(schedule, N_STEPS + 1, "linspace")[:-1]      # N + 1 points, the last dropped
    return [_grid_row("spacing-ddim", "; ".join(cases), mismatches, mismatches == 0),
            _grid_row("spacing-euler-linspace", f"N = 7: {euler.timesteps.numpy().tolist()}; max difference "
                      f"{euler_gap:g}", euler_gap, euler_gap == 0.5),
            _grid_row("spacing-dpm-linspace", f"{theirs.tolist()}", float(np.max(np.abs(theirs - textbook))),
                      not np.array_equal(theirs, textbook) and np.array_equal(theirs, one_more))]


def _table_rows(peers) -> list:
    worst, capped, parts = 0.0, math.nan, []
    for name, kwargs in (("linear", {}), ("scaled_linear", {"beta_start": 0.00085, "beta_end": 0.012}),
                         ("squaredcos_cap_v2", {})):
        s = peers.classes["DDPMScheduler"](beta_schedule=name, **kwargs)
        ours = discrete.DiscreteSchedule.from_name(name, 1000, **kwargs).alphas_cumprod
        errors = np.abs(_float64(s.alphas_cumprod) - ours) / ours
        if name == "squaredcos_cap_v2":
            capped, errors = float(errors[-1]), errors[:-1]
        worst = max(worst, float(np.max(errors)))
        parts.append(f"{name} {float(np.max(errors)):.2g}")
    euler = peers.classes["EulerDiscreteScheduler"]()
    euler.set_timesteps(N_STEPS)
    sigma_0 = float(euler.sigmas[N_STEPS - 1])
    exact_0 = float(discrete.DiscreteSchedule.linear(1000, 1e-4, 0.02).sigma_ve[0])
    near = abs(sigma_0 - exact_0) / exact_0
    log_linear = peers.classes["EulerDiscreteScheduler"](interpolation_type="log_linear")
    log_linear.set_timesteps(N_STEPS)
    sigmas = _float64(log_linear.sigmas)
    return [_grid_row("table-alphas-cumprod", "max relative error of ᾱ: " + ", ".join(parts)
                      + f" (squaredcos_cap_v2 without its last level; at it {capped:.2g})", worst,
                      worst <= 1e-6 and 1e-6 < capped <= 1e-4),
            _grid_row("table-sigma-near-data", f"sigma(t = 0) = {sigma_0!r} vs {exact_0!r}: relative error {near:.2g}",
                      near, near > 1e-5),
            _grid_row("euler-log-linear", f"{len(sigmas)} sigmas for {len(log_linear.timesteps)} timesteps: the "
                      f"{N_STEPS} steps end at sigmas[{N_STEPS}] = {sigmas[N_STEPS]:.6g}, not at 0",
                      len(sigmas) - len(log_linear.timesteps), len(sigmas) == N_STEPS + 2 and sigmas[N_STEPS] > 0)]


def _grids(peers, case, n_points: int, seed: int) -> list[dict]:
    z = np.random.default_rng(seed + 1).standard_normal((n_points, case.dim))
    return (_ddim_linspace_rows(peers, case, z) + _flow_shift_rows(peers) + _dpm_rows(peers, case, z)
            + _heun_rows(peers, case, z) + _spacing_rows(peers) + _table_rows(peers))
