r"""Cross-check of HuggingFace diffusers' schedulers against si_ref, with si_ref's conformance checker.

diffusers (Apache-2.0; only *called* here, none of its code is copied) writes every
noise level of a discrete VP schedule through the table ``alphas_cumprod`` and converts
it, per scheduler, to the variables below. In si_ref's diffusion convention
(:mod:`si_ref.diffusion`: :math:`x = a\,x_{\mathrm{data}} + \sigma\varepsilon`, the data at σ = 0):

====================================  ================================================================
diffusers                             si_ref.diffusion
====================================  ================================================================
timestep t, ``alphas_cumprod[t]``     ᾱ; the level (a, σ) = (√ᾱ, √(1 − ᾱ)) (:class:`DiscreteSchedule`)
DDPM/DDIM/DPM sample                  x at that VP level
Euler/Heun/DPM ``sigmas``             σ_VE = σ/a = √((1 − ᾱ)/ᾱ) (``DiscreteSchedule.sigma_ve``)
Euler/Heun sample                     x/a = x_data + σ_VE ε (a = 1: Karras et al.'s variable)
``scale_model_input``                 x/a · 1/√(1 + σ_VE²): the VP sample, what the model sees
FlowMatch ``sigmas``, sample          σ and x of the rectified flow (1 − σ) x_data + σ ε
prediction_type "epsilon"             ε̂ = E[ε | x]
prediction_type "sample"              x̂ = E[x_data | x] (EDM's D)
prediction_type "v_prediction"        v̂ = a ε̂ − σ x̂
FlowMatch model output                u = E[ε − x_data | x] (the flow velocity)
``step()``                            ddpm_step, ddim_step / ddim_eta_step, euler_sigma_step,
                                      heun_sigma_step (two calls), dpm_solver_pp_1s_step / _2m_step,
                                      flow_match_euler_step
``add_noise``, FM ``scale_noise``     add_noise
``get_velocity``                      velocity_target
``pred_original_sample`` of step()    convert_epsilon_to_sample, convert_v_to_sample
FlowMatch ``shift``                   shift_sigma
====================================  ================================================================

**Adapters** expose each scheduler under si_ref's signatures (the quantities of
:mod:`si_ref.checking.diffusion_steps` and :mod:`si_ref.checking.diffusion_conversions`):
each call builds a fresh scheduler (DDPM/DDIM with ``clip_sample=False``; no thresholding), puts the
asked levels into its table in the dtype of the tensors (``alphas_cumprod = [ᾱ_prev, ᾱ]`` for
DDPM/DDIM, ``sigmas = [σ_VE, σ_VE_next, ...]`` for Euler/Heun/DPM, ``sigmas = [σ, σ_next]`` for
FlowMatch; a step is a function of the levels, and diffusers' own float32 tables are compared
in the sampling loops and the grid checks), and calls ``step()`` once (Heun twice, DPM's 2M twice,
the first call with D_prev). The model output of each prediction type is made from the exact
field the checker hands over (ε̂ or D) with :func:`si_ref.diffusion.convert_prediction` at the
level, at the point the scheduler gives the model (``scale_model_input``). Our noise reaches
DDIM through ``variance_noise``; DDPM only takes a ``generator``, so its adapter replaces the
module-level ``randn_tensor`` of ``diffusers.schedulers.scheduling_ddpm`` for the one call by a
function that returns our noise (its shape and dtype are checked); in the sampling loops DDPM
draws from a seeded ``torch.Generator`` per step and si_ref re-draws the same numbers with
``torch.randn`` (same seed, shape, dtype). Euler (no churn), Heun, DPM-Solver++ and FlowMatch
(no stochastic sampling) draw nothing. diffusers' ᾱ-based conversions and targets are VP: a
level (a, σ) is handed over as the VP level (a/r, σ/r) of x/r, r = √(a² + σ²) (ε̂ and x̂ are
unchanged by the scaling, v̂ is divided by r, the result multiplied back); FlowMatch's
``scale_noise`` gets (a, σ) as the rectified-flow level σ/(a + σ) of x/(a + σ).

**Both dtypes**: every adapter runs on float64 and on float32 tensors and returns NumPy arrays
of that dtype, so the checker compares float64 results with rtol = 1e-6, atol = 1e-8 and
float32 ones with rtol = 1e-5, atol = 1e-6 (``si_ref.checking.compare``). Besides the checker's
verdict each row reports the max relative disagreement max |received − exact| / max |exact| over
the quantity's fixed inputs, and the *float32 floor*: the same number for si_ref's own step
evaluated on inputs rounded to float32 (what any float32 evaluation loses before its arithmetic
starts). Where float32 tensors (or the float32 state of Euler, DPM-Solver++ and FlowMatch, whose
step() casts the sample) meet an ill-conditioned input -- x̂0 = (x − σ ε̂)/a at a = √ᾱ ≈ 0.006, a
step to σ_next = 0 from a far point, 1 − ᾱ of a float32 ᾱ next to 1, a level below float32's
range -- the checker's tolerance may be exceeded; whether its draws meet one depends on the
seed. Such a FAIL is the documented outcome :data:`FLOAT32_PRECISION` when, at the counterexample,
the float64 twin of the adapter agrees with the exact value to the float32 tolerance relative to
the largest magnitude there (atol + rtol max(|inputs|, |exact|)): the conventions are right, and
the disagreement is what float32 rounding of a state of that size costs.

**Sampling loops**: each scheduler's own N-step loop (``set_timesteps(N)``, N = 10) on the exact
model output of the Gaussian-mixture case, compared with si_ref's steps on the grid diffusers
produced (``alphas_cumprod``, ``timesteps``, ``sigmas`` read back), for each prediction type and
dtype: judged normwise, max |x_diffusers − x_si_ref| <= atol + rtol max |x_si_ref| with the dtype's
tolerance (the state of a whole loop, not an entrywise quantity). **Grid checks** measure what
diffusers' grids do against the textbook ones (:data:`GRID_DOCUMENTED`): DDIM's previous timestep
t − T//N on a ``linspace`` grid, the FlowMatch shift applied twice to the grid's end, DPM-Solver's
order per step, Heun's 19 evaluations and the state it leaves, the spacings against
:func:`si_ref.diffusion.discrete.timesteps`, the float32 tables against :class:`DiscreteSchedule`,
Euler's ``log_linear`` grid.

Every check passes when the outcome is the documented one (PASS where agreement is expected;
FAIL with the named diagnosis where a disagreement is documented), so a future diffusers version
that changes behaviour shows up as a FAIL here; deliberately mistranslated adapters (self-tests)
must fail with their diagnosis, so that agreement is not vacuous. Not checked: Euler's churn
(``s_churn > 0``: it reuses the model output computed before the noise is added, a different
method from EDM's Algorithm 2, :func:`edm_stochastic_step`), thresholding, learned variances,
DPM's SDE and third-order variants, and Karras/exponential/beta σ grids.

torch and diffusers are optional peers: when either cannot be imported, :func:`run` returns
``{"skipped": reason + install command, "figures": []}`` and :func:`checks` returns no checks.
The study writes ``crosscheck_diffusers.md`` and ``.json`` (no figures).
The adapters live in :mod:`si_ref.validation._diffusers_adapters` (the only code that imports torch and
diffusers), the measurements, sampling loops and grid checks in :mod:`si_ref.validation._diffusers_runs`.

Run from the repository root::

    python -m si_ref.validation.crosscheck_diffusers --out DIR [--quick] [--seed S]
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from si_ref import conformance
from si_ref.checking.compare import FLOAT32_TOLERANCE, FLOAT64_TOLERANCE
from si_ref.checking.table import QUANTITIES
from si_ref.diffusion import DiffusionCase, RectifiedFlowPath, VPLinearPath
from si_ref.distributions import GaussianMixture
from si_ref.progress import task
from si_ref.validation._common import Check, run_alone
# The adapters (diffusers under si_ref's signatures) and the measurements live in private modules; the names the
# study uses are imported here (and so stay reachable as attributes of this module).
from si_ref.validation._diffusers_adapters import (
    Peers, _conversion_adapter, _ddim_adapter, _ddpm_adapter, _dpm_1s_adapter, _dpm_2m_adapter, _euler_adapter,
    _euler_velocity_adapter, _flow_match_adapter, _heun_adapter, _peers, _quiet_diffusers, _scale_noise_adapter,
    _shift_adapter, _table_adapter)
from si_ref.validation._diffusers_runs import (
    GRID_DOCUMENTED, N_STEPS, _first_line, _grids, _loop_row, _measure, _scalar_inputs, _twin_error)
from si_ref.validation._diffusers_runs import _normwise, _round32  # noqa: F401 - re-exported: the tests call them

__all__ = [
    "TITLE", "SUMMARY", "QUICK", "INSTALL", "SCHEDULERS", "DTYPES", "PREDICTION_TYPES", "GRID_DOCUMENTED",
    "Check", "Peers", "Planned", "reference_case", "shift_case", "plan", "run", "checks", "format_report", "main",
]

TITLE = "Cross-check: HuggingFace diffusers schedulers against si_ref"
SUMMARY = (
    "si_ref's conformance checker run on diffusers 0.42.1's DDPM, DDIM, EulerDiscrete, HeunDiscrete, "
    "DPMSolverMultistep and FlowMatchEulerDiscrete schedulers (optional peer, called, never copied) through thin "
    "adapters under si_ref's step signatures, on the exact fields of a 2-d Gaussian-mixture case, in float64 and "
    "float32, for the epsilon, sample and v_prediction types: every step agrees with si_ref's step, to rounding in "
    "float64 where the scheduler keeps float64 (DDPM, DDIM, Heun) and to float32 precision where step() rounds the "
    "state to float32 (Euler, DPM-Solver++, FlowMatch); float32 tensors exceed the checker's float32 tolerance only "
    "at ill-conditioned inputs (tiny a, far points, 1 - alpha_bar of a float32 alpha_bar near 1, levels below "
    "float32's range), where the float64 twin of the adapter agrees. add_noise, get_velocity, scale_noise and "
    "pred_original_sample agree with si_ref's targets and conversions, except EulerDiscrete.get_velocity, which "
    "reads alphas_cumprod at the step's position instead of its timestep. Full 10-step loops agree with si_ref's "
    "steps on the grids diffusers makes; the grids differ from the textbook ones where documented: DDIM's previous "
    "timestep is t - T//N on a linspace grid, FlowMatch shifts the end of its grid twice (shift-twice), "
    "DPM-Solver++ takes its last step first-order (wrong-method against 2M), Heun ends with an Euler step and leaves "
    "its second stage pending. Mistranslated adapters are caught (noise-sign, off-by-one, wrong-method, "
    "alpha-beta-swapped, sign-flip). A check passes when the outcome is the documented one, so a change of "
    "behaviour in diffusers shows as a FAIL."
)

#: Versions the documented outcomes were measured with (another version is run, and any change shows as a FAIL).
DIFFUSERS_VERSION = "0.42.1"
TORCH_VERSION = "2.13.0"
#: Printed when a peer is missing. --no-deps: diffusers' requirements would pull other versions (torch above all);
#: these six packages are what importing the schedulers needs besides numpy, requests, filelock, PyYAML, ...
INSTALL = (f"pip install torch=={TORCH_VERSION} && pip install --no-deps diffusers=={DIFFUSERS_VERSION} "
           "huggingface_hub==2.4.0 httpx2==2.16.2 httpcore2==2.16.2 truststore==0.10.5 h11==0.16.0")

#: Keyword arguments of run() for a small, fast run (si-ref validate --quick): fewer drawn inputs, no shrinking
#: (the outcomes and diagnoses are the same; a failure shows its first failing input instead of a minimal one).
QUICK = dict(max_examples=2, n_points=16, shrink=False)

SCHEDULERS = ("DDPMScheduler", "DDIMScheduler", "EulerDiscreteScheduler", "HeunDiscreteScheduler",
              "DPMSolverMultistepScheduler", "FlowMatchEulerDiscreteScheduler")
#: The tensor dtypes every adapter and loop runs with.
DTYPES = ("float64", "float32")
#: diffusers' prediction types checked (FlowMatch has none: its model output is always the velocity).
PREDICTION_TYPES = ("epsilon", "sample", "v_prediction")

#: Documented outcomes that are neither PASS nor a diagnosis name of the checker.
FLOAT32_PRECISION = "float32 precision"
VALUES_DIFFER = "values differ, no catalogued mistake"


# --- si_ref's references ----------------------------------------------------------------------------

#: The data: a 2-d, 2-component Gaussian mixture (the one of si_ref.references' diffusion cases).
DATA = GaussianMixture(np.array([0.6, 0.4]), np.array([[-1.0, -1.0], [1.5, 0.5]]),
                       np.stack([np.array([[0.8, 0.3], [0.3, 0.6]]), np.eye(2) * 0.4]))


def reference_case() -> DiffusionCase:
    """The mixture on the VP path with linear β (β from 0.1 to 20, DDPM's continuous limit): the reference of
    every step, conversion and target check (DPM-Solver's levels are drawn on its path, which must be VP because
    diffusers' DPMSolverMultistepScheduler keeps only σ_VE and rebuilds a = 1/√(1 + σ_VE²))."""
    return DiffusionCase(DATA, VPLinearPath(0.1, 20.0))


def shift_case() -> DiffusionCase:
    """The mixture on the rectified-flow path with shift 3 (SD3's): the reference of the shift checks."""
    return DiffusionCase(DATA, RectifiedFlowPath(3.0))


# --- what is checked ------------------------------------------------------------------------------------------

class Planned(NamedTuple):
    """One conformance check and its documented outcomes: any of ``expected`` ("PASS", a diagnosis name of the
    checker, :data:`FLOAT32_PRECISION` or :data:`VALUES_DIFFER`) is the documented behaviour. ``build(peers,
    dtype)`` returns the implementation for a tensor dtype (the row's ``dtype``; "float64" gives its float64 twin,
    the evidence of :data:`FLOAT32_PRECISION`); ``reference`` is "vp" (:func:`reference_case`) or "shift"
    (:func:`shift_case`); ``note`` says why a FAIL is documented."""

    group: str
    scheduler: str
    call: str
    adapter: str
    quantity: str
    dtype: str
    expected: tuple
    build: Callable
    reference: str = "vp"
    note: str = ""

    @property
    def expectation(self) -> str:
        return " or ".join(e if e == "PASS" else f"FAIL {e}" for e in self.expected)

    @property
    def name(self) -> str:
        return f"{self.call} [{self.adapter}; {self.dtype}] vs {self.quantity}: expect {self.expectation}"


#: Schedulers whose step() rounds the state to float32 whatever the tensors' dtype (notes §1.7: the sample is
#: cast at the start of step() and the result cast back).
FLOAT32_STATE = ("EulerDiscreteScheduler", "DPMSolverMultistepScheduler", "FlowMatchEulerDiscreteScheduler")
_PRECISION_NOTE = ("float32 tensors: rounding amplified by the step (x̂0 = (x − σ ε̂)/a at small a, far points, "
                   "1 − ᾱ of a float32 ᾱ near 1, a level below float32's range)")
_STATE_NOTE = ("step() rounds the state to float32 whatever the tensors' dtype: a float64 result carries float32 "
               "rounding of x")


def _precision_expected(scheduler: str, dtype: str):
    """PASS, or for float32 tensors and the schedulers that round the state, also FLOAT32_PRECISION (whether the
    checker's inputs meet an ill-conditioned spot depends on the draws)."""
    if dtype == "float32":
        return ("PASS", FLOAT32_PRECISION), _PRECISION_NOTE
    if scheduler in FLOAT32_STATE:
        return ("PASS", FLOAT32_PRECISION), _STATE_NOTE
    return ("PASS",), ""


_STEP = ".step(output, t, x)"
_NO_CLIP = "clip_sample=False"


def plan() -> list[Planned]:
    """Every conformance check of the study, with its documented outcomes, in report order."""
    rows = []

    def add(group, scheduler, call, adapter, quantity, build, dtypes=DTYPES, **kw):
        for dtype in dtypes:
            expected, note = _precision_expected(scheduler, dtype)
            rows.append(Planned(group, scheduler, call, adapter, quantity, dtype, expected, build, note=note, **kw))

    def types(build):
        return [(f"prediction_type={p!r}", lambda peers, d, p=p: build(peers, d, p)) for p in PREDICTION_TYPES]

    for label, build in types(_ddpm_adapter):
        add("step", "DDPMScheduler", f"DDPMScheduler({_NO_CLIP}){_STEP}", label, "ddpm_step", build)
    for label, build in types(_ddim_adapter):
        add("step", "DDIMScheduler", f"DDIMScheduler({_NO_CLIP}){_STEP}", label, "ddim_step", build)
    add("step", "DDIMScheduler", f"DDIMScheduler({_NO_CLIP}).step(output, t, x, eta, variance_noise=z)",
        "prediction_type='epsilon'", "ddim_eta_step", lambda peers, d: _ddim_adapter(peers, d))
    for label, build in types(_euler_adapter):
        add("step", "EulerDiscreteScheduler", f"EulerDiscreteScheduler(){_STEP}", label, "euler_sigma_step", build)
    # Heun with the model's own type only: an ε or v output made from D and converted back by the scheduler
    # loses rounding amplified 1/σ_next by the corrector at the tiny σ_next the checker draws (the loops run Heun
    # with every type on the exact fields themselves).
    add("step", "HeunDiscreteScheduler", "HeunDiscreteScheduler(): two step() calls", "prediction_type='sample'",
        "heun_sigma_step", lambda peers, d: _heun_adapter(peers, d))
    for label, build in types(_dpm_1s_adapter):
        add("step", "DPMSolverMultistepScheduler", "DPMSolverMultistepScheduler(): first step()", label,
            "dpm_solver_pp_1s_step", build)
    for label, build in types(_dpm_2m_adapter):
        add("step", "DPMSolverMultistepScheduler", "DPMSolverMultistepScheduler(): second step()", label,
            "dpm_solver_pp_2m_step", build)
    add("step", "FlowMatchEulerDiscreteScheduler", f"FlowMatchEulerDiscreteScheduler(){_STEP}", "velocity",
        "flow_match_euler_step", lambda peers, d: _flow_match_adapter(peers, d))

    dpm_last = "DPMSolverMultistepScheduler(final_sigmas_type='sigma_min', lower_order_final={}): last step() of N < 15"
    rows.append(Planned("documented", "DPMSolverMultistepScheduler", dpm_last.format(True), "prediction_type='sample'",
                        "dpm_solver_pp_2m_step", "float64", ("wrong-method",),
                        lambda peers, d: _dpm_2m_adapter(peers, d, last=True),
                        note="lower_order_final (the default) makes the last step first-order when N < 15: the 1S "
                             "update where Lu et al.'s Algorithm 2 takes 2M"))
    rows.append(Planned("documented", "DPMSolverMultistepScheduler", dpm_last.format(False), "prediction_type='sample'",
                        "dpm_solver_pp_2m_step", "float64", ("PASS", FLOAT32_PRECISION),
                        lambda peers, d: _dpm_2m_adapter(peers, d, last=True, lower_order_final=False),
                        note=_STATE_NOTE))
    rows.append(Planned("documented", "FlowMatchEulerDiscreteScheduler",
                        "FlowMatchEulerDiscreteScheduler(shift=s).set_timesteps(sigmas=sigma).sigmas", "shifted once",
                        "shift_sigma", "float32 (always)", ("PASS",), lambda peers, d: _shift_adapter(peers),
                        reference="shift"))
    rows.append(Planned("documented", "FlowMatchEulerDiscreteScheduler",
                        "FlowMatchEulerDiscreteScheduler(shift=s).set_timesteps(N): the end of its grid",
                        "set_timesteps(sigmas=...) on its own shifted sigmas", "shift_sigma", "float32 (always)",
                        ("shift-twice",), lambda peers, d: _shift_adapter(peers, twice=True), reference="shift",
                        note="set_timesteps(N) spaces the grid between the constructor's sigma_max and sigma_min, "
                             "which are already shifted, and shifts the result again (see the grid checks)"))

    for scheduler in ("DDPMScheduler", "DDIMScheduler"):
        for source, quantity in (("epsilon", "convert_epsilon_to_sample"), ("v_prediction", "convert_v_to_sample")):
            add("conversion", scheduler, f"{scheduler}(prediction_type={source!r}).step(...).pred_original_sample",
                "VP level of x/r", quantity,
                lambda peers, d, s=scheduler, p=source: _conversion_adapter(peers, d, s, p))
    for scheduler, method, quantity in (("DDPMScheduler", "add_noise", "add_noise"),
                                        ("DDIMScheduler", "add_noise", "add_noise"),
                                        ("DDPMScheduler", "get_velocity", "velocity_target"),
                                        ("DDIMScheduler", "get_velocity", "velocity_target")):
        add("target", scheduler, f"{scheduler}.{method}(x_data, noise, t)", "one table entry per row, VP level of x/r",
            quantity, lambda peers, d, s=scheduler, m=method: _table_adapter(peers, d, s, m))
    add("target", "FlowMatchEulerDiscreteScheduler", "FlowMatchEulerDiscreteScheduler.scale_noise(x_data, t, noise)",
        "rectified-flow level of x/(a + sigma)", "add_noise", lambda peers, d: _scale_noise_adapter(peers, d))
    rows.append(Planned("documented", "EulerDiscreteScheduler", "EulerDiscreteScheduler.get_velocity(x_data, noise, t)",
                        "row levels at the table entries of the timesteps", "velocity_target", "float64",
                        (VALUES_DIFFER,), lambda peers, d: _euler_velocity_adapter(peers, d),
                        note="it reads alphas_cumprod at the position of t in the inference timesteps, not at t"))

    self_tests = (
        ("DDIMScheduler", "ddim_step", "-eps handed over (mistranslated)", ("noise-sign",),
         lambda peers, d: _ddim_adapter(peers, d, sign=-1.0)),
        ("DDPMScheduler", "ddpm_step", "alpha_bar_prev read at the current entry (mistranslated)", ("off-by-one",),
         lambda peers, d: _ddpm_adapter(peers, d, prev_at_current=True)),
        ("EulerDiscreteScheduler", "euler_sigma_step", "sigma_next read at the current entry (mistranslated)",
         ("off-by-one",), lambda peers, d: _euler_adapter(peers, d, next_at_current=True)),
        ("HeunDiscreteScheduler", "heun_sigma_step", "second call skipped (mistranslated)", ("wrong-method",),
         lambda peers, d: _heun_adapter(peers, d, corrector=False)),
        ("DPMSolverMultistepScheduler", "dpm_solver_pp_2m_step", "sigma_VE = a/sigma (mistranslated)",
         ("alpha-beta-swapped",), lambda peers, d: _dpm_2m_adapter(peers, d, swapped=True)),
        ("FlowMatchEulerDiscreteScheduler", "flow_match_euler_step", "x_data - eps handed over (mistranslated)",
         ("sign-flip",), lambda peers, d: _flow_match_adapter(peers, d, sign=-1.0)),
        ("DDPMScheduler", "add_noise", "(sigma/r)^2 put in the table (mistranslated)", ("alpha-beta-swapped",),
         lambda peers, d: _table_adapter(peers, d, "DDPMScheduler", "add_noise", swapped=True)),
    )
    for scheduler, quantity, adapter, expected, build in self_tests:
        rows.append(Planned("self-test", scheduler, f"{scheduler} adapter", adapter, quantity, "float64", expected,
                            build, note="a deliberate mistranslation: the checker must catch it"))
    return rows


# --- running a check ------------------------------------------------------------------------------------------

def _is_documented(expected: tuple, report, twin_within_float32) -> bool:
    """Whether the checker's report shows one of the documented outcomes (FLOAT32_PRECISION: a failure where the
    float64 twin of the adapter is within the float32 tolerance of the exact value at the counterexample)."""
    if report.passed:
        return "PASS" in expected
    names = set(report.diagnosis_names)
    for outcome in expected:
        if outcome in names:
            return True
        if outcome == FLOAT32_PRECISION and twin_within_float32:
            return True
        if outcome == VALUES_DIFFER and not names and report.counterexample.error == "values differ":
            return True
    return False


def _conformance_row(item: Planned, peers: Peers, references: dict, *, seed: int, max_examples: int,
                     shrink: bool) -> dict:
    q = QUANTITIES[item.quantity]
    reference = references[item.reference]
    dtype = item.dtype if item.dtype in DTYPES else "float32"
    implementation = item.build(peers, dtype)
    report = conformance.check(implementation, item.quantity, reference, max_examples=max_examples, seed=seed,
                               shrink=shrink)
    measured = _measure(q, implementation, reference)
    twin = None if report.passed else _twin_error(q, item.build(peers, "float64"), report)
    c = report.counterexample
    return {
        "check": item.name, "group": item.group, "scheduler": item.scheduler, "diffusers": item.call,
        "adapter": item.adapter, "dtype": item.dtype, "si_ref": item.quantity,
        "outcome": "PASS" if report.passed else "FAIL", "rtol": report.rtol, "atol": report.atol,
        "examples": report.examples, "diagnoses": list(report.diagnosis_names),
        "diagnosis_forms": [f"{d.name} ({d.form})" for d in report.diagnoses],
        "problem": _first_line(c.error) if c is not None else "",
        "counterexample_abs_error": None if c is None else float(c.max_abs_error),
        "counterexample_levels": {} if c is None else _scalar_inputs(c.inputs),
        "float64_twin_within_float32": twin,
        "max_rel_error": measured["max_rel_error"], "float32_floor": measured["float32_floor"],
        "expected": item.expectation, "note": item.note,
        "as_expected": _is_documented(item.expected, report, twin), "report": str(report),
    }


# --- sampling loops ---------------------------------------------------------------------------------------------

def _loops(peers, case, n_points: int, seed: int) -> list[dict]:
    z = np.random.default_rng(seed).standard_normal((n_points, case.dim))
    rows = []
    for scheduler in SCHEDULERS:
        variants = (1.0, 3.0) if scheduler == "FlowMatchEulerDiscreteScheduler" else PREDICTION_TYPES
        for variant in variants:
            for dtype in DTYPES:
                rows.append(_loop_row(peers, case, scheduler, variant, dtype, z, 1000 * seed))
    return rows


# --- the study ------------------------------------------------------------------------------------------------

def _check_arguments(seed, max_examples, n_points, shrink):
    if not isinstance(shrink, bool):
        raise TypeError(f"shrink must be True or False; received {shrink!r}.")
    checked = []
    for name, value, lowest in (("seed", seed, 0), ("max_examples", max_examples, 1), ("n_points", n_points, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer; received {value!r} of type {type(value).__name__}.")
        if value < lowest:
            raise ValueError(f"{name} must be an integer >= {lowest}; received {name}={value!r}.")
        checked.append(int(value))
    return tuple(checked)


def run(out_dir, *, seed: int = 0, max_examples: int = 8, n_points: int = 64, shrink: bool = True) -> dict:
    """Run every check against diffusers, write the tables into ``out_dir`` and return them.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Folder for ``crosscheck_diffusers.md`` and ``.json`` (created if missing).
    seed : int
        Seed of the conformance checker (hypothesis), of the loops' starting points and of DDPM's generators.
    max_examples : int
        Inputs drawn per conformance check, after its fixed inputs (default 8).
    n_points : int
        Points per sampling loop and grid check (default 64).
    shrink : bool
        Shrink each failure to a minimal counterexample (default True; the quick run skips it).

    Returns
    -------
    dict
        ``"rows"`` (one per conformance check), ``"loops"``, ``"grids"``, ``"versions"``, the settings and
        ``"figures": []``; or, when torch or diffusers cannot be imported, ``{"skipped": reason with the
        install command, "figures": []}``.

    Raises
    ------
    TypeError, ValueError
        For a non-integer or out-of-range ``seed``, ``max_examples`` or ``n_points``, or a non-bool ``shrink``.
    """
    seed, max_examples, n_points = _check_arguments(seed, max_examples, n_points, shrink)
    try:
        peers = _peers()
    except ImportError as exc:
        return {"skipped": f"torch and diffusers are needed ({exc}); install with: {INSTALL}", "figures": []}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    references = {"vp": reference_case(), "shift": shift_case()}
    items = plan()
    rows = []
    with _quiet_diffusers():
        with task("diffusers checks", total=len(items), unit="check") as progress:
            for item in items:
                rows.append(_conformance_row(item, peers, references, seed=seed, max_examples=max_examples,
                                             shrink=shrink))
                progress.advance()
        with task("diffusers loops and grids"):
            loops = _loops(peers, references["vp"], n_points, seed)
            grids = _grids(peers, references["vp"], n_points, seed)
    results = {
        "versions": peers.versions, "seed": seed, "max_examples": max_examples, "n_points": n_points,
        "shrink": shrink, "n_steps": N_STEPS, "rows": rows, "loops": loops, "grids": grids, "figures": [],
    }
    (out / "crosscheck_diffusers.md").write_text(format_report(results) + "\n", encoding="utf-8")
    (out / "crosscheck_diffusers.json").write_text(json.dumps(results, indent=1, default=_json_default) + "\n",
                                                   encoding="utf-8")
    return results


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def checks(results: dict) -> list[Check]:
    """One check per conformance row, sampling loop and grid check (value 1 when the outcome is the documented
    one); none when the study was skipped."""
    if "skipped" in results:
        return []
    return [Check(row["check"], float(row["as_expected"]), (">=", 1.0), bool(row["as_expected"]))
            for group in ("rows", "loops", "grids") for row in results[group]]


def _cell(text) -> str:
    return str(text).replace("|", "\\|")


def _number(value) -> str:
    if value is None:
        return "-"
    value = float(value)
    return "inf" if math.isinf(value) else ("nan" if math.isnan(value) else f"{value:.2g}")


def _outcome_cell(row) -> str:
    text = row["outcome"]
    if row["diagnoses"]:
        text += " (" + ", ".join(row["diagnoses"]) + ")"
    elif row["outcome"] == "FAIL":
        text += " (no catalogued mistake)"
    return text


def format_report(results: dict) -> str:
    """The results as Markdown: conformance table (both dtypes side by side), disagreements, loops, grids."""
    if "skipped" in results:
        return f"skipped: {results['skipped']}"
    v = results["versions"]
    lines = [
        f"# {TITLE}", "",
        f"diffusers {v['diffusers']}, torch {v['torch']} (documented outcomes measured with {DIFFUSERS_VERSION}, "
        f"{TORCH_VERSION}). Reference: DiffusionCase(2-d two-component Gaussian mixture, VPLinearPath(0.1, 20)); "
        "shift checks on RectifiedFlowPath(3).",
        f"Checker: si_ref.conformance.check, fixed inputs then max_examples={results['max_examples']} drawn, "
        f"shrink={results['shrink']}, seed={results['seed']}; float64 results judged with rtol = "
        f"{FLOAT64_TOLERANCE[0]:g}, atol = {FLOAT64_TOLERANCE[1]:g}, float32 results with rtol = "
        f"{FLOAT32_TOLERANCE[0]:g}, atol = {FLOAT32_TOLERANCE[1]:g}. 'max rel' is max |received - exact| / max |exact| "
        "over the quantity's fixed inputs; 'floor' the same for si_ref's own step on inputs rounded to float32. "
        f"'{FLOAT32_PRECISION}': a failure where, at the counterexample, the float64 twin of the adapter is within "
        f"{FLOAT32_TOLERANCE[1]:g} + {FLOAT32_TOLERANCE[0]:g} max(|inputs|, |exact|) of the exact value (conventions "
        "right; what float32 rounding of a state of that size, or float32's range, costs).", "",
        "## Conformance checks", "",
        "| diffusers | adapter | si_ref quantity | dtype | outcome (diagnoses) | max rel | floor | expected "
        "| as expected |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        lines.append(f"| `{_cell(r['diffusers'])}` | {_cell(r['adapter'])} | {r['si_ref']} | {r['dtype']} "
                     f"| {_outcome_cell(r)} | {_number(r['max_rel_error'])} | {_number(r['float32_floor'])} "
                     f"| {r['expected']} | {'yes' if r['as_expected'] else '**NO**'} |")
    failed = [r for r in results["rows"] if r["outcome"] == "FAIL"]
    lines += ["", f"## Disagreements found by the checker ({len(failed)})", ""]
    kind = "minimal counterexample" if results["shrink"] else "first failing input (not shrunk)"
    for r in failed:
        where = ", ".join(f"{k} = {v:.4g}" for k, v in r["counterexample_levels"].items())
        forms = "; ".join(r["diagnosis_forms"]) or "none of the catalogued mistakes"
        if FLOAT32_PRECISION in r["expected"] and r["float64_twin_within_float32"]:
            reading = (f"{FLOAT32_PRECISION}: the float64 twin is within the float32 tolerance of the largest "
                       "magnitude there")
            if r["diagnoses"]:
                reading += " (so the diagnosis is a coincidence of the degenerate input, not a mistake)"
            reading += f"; {r['note']}"
        else:
            reading = r["note"]
        lines.append(f"- `{r['diffusers']}` [{r['adapter']}; {r['dtype']}] vs {r['si_ref']}: {r['problem']} at the "
                     f"{kind}{' (' + where + ')' if where else ''}, max |error| "
                     f"{_number(r['counterexample_abs_error'])}; checker's diagnosis: {forms}. {reading}.")
    if not failed:
        lines.append("- none")
    lines += ["", f"## Sampling loops ({results['n_steps']} steps, {results['n_points']} points, exact model outputs)",
              "", "Judged at every base step: max |x_diffusers - x_si_ref| <= atol + rtol max |x_si_ref| with the "
              "dtype's tolerance; si_ref steps on the levels diffusers' own grid holds.", "",
              "| scheduler | variant | dtype | model calls | max rel | outcome | as expected |",
              "|---|---|---|---|---|---|---|"]
    for r in results["loops"]:
        lines.append(f"| {r['scheduler']} | {_cell(r['variant'])} | {r['dtype']} | {r['model_calls']} "
                     f"| {_number(r['max_rel_error'])} | {r['outcome']} | {'yes' if r['as_expected'] else '**NO**'} |")
    lines += ["", "## Grids against the textbook ones (documented differences)", "",
              "| check | documented | measured | as expected |", "|---|---|---|---|"]
    for r in results["grids"]:
        lines.append(f"| {r['key']} | {_cell(r['expected'])} | {_cell(r['measured'])} "
                     f"| {'yes' if r['as_expected'] else '**NO**'} |")
    verdicts = checks(results)
    bad = [c.name for c in verdicts if not c.passed]
    lines += ["", f"All {len(verdicts)} checks as documented." if not bad
              else f"NOT as documented ({len(bad)}): " + "; ".join(bad)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the study and print its report; exit status 1 if an outcome is not the documented one."""
    return run_alone(sys.modules[__name__], argv,
                     "Run si_ref's conformance checker on diffusers' schedulers (optional peer); tables in --out.")


if __name__ == "__main__":
    sys.exit(main())
