r"""One step of each diffusion sampler, and the rectified-flow timestep shift, as checkable quantities.

Each step is called with its own arguments (below). The model outputs handed to it are the
case's exact fields at the current level, evaluated at x: ε̂ at (√ᾱ, √(1 − ᾱ)) for DDPM/DDIM,
EDM's denoiser D at (1, σ) (x = x_data + σ ε) for the σ steps (a callable D(x, sigma) for Heun
and EDM's stochastic sampler), D at (a, σ) for DPM-Solver++ (and D_prev at the previous level,
evaluated at a point ``x_prev`` drawn there), and the flow velocity u = E[ε − x_data | x] of the
plain rectified-flow path (a = 1 − σ) for the flow-matching Euler step. The check compares the
returned x. The exact values are the formulas below, written out here; si_ref's own
implementations are the functions of :mod:`si_ref.diffusion.steps` (and
:func:`si_ref.diffusion.discrete.shift_sigma`).

=======================  ===============================================================  =====================
quantity                 x_next                                                           source
=======================  ===============================================================  =====================
ddpm_step                μ̃ + √β̃ z, x̂0 = (x − √(1 − ᾱ) ε̂)/√ᾱ, β_t = 1 − ᾱ/ᾱ_prev,          Ho et al. 2020,
                         μ̃ = √ᾱ_prev β_t/(1 − ᾱ) x̂0 + √(ᾱ/ᾱ_prev)(1 − ᾱ_prev)/(1 − ᾱ) x,     eqs. (6), (7)
                         β̃ = (1 − ᾱ_prev)/(1 − ᾱ) β_t
ddim_step                √ᾱ_prev x̂0 + √(1 − ᾱ_prev) ε̂ (η = 0)                              Song et al. 2021,
ddim_eta_step            √ᾱ_prev x̂0 + √(1 − ᾱ_prev − σ_η²) ε̂ + σ_η z,                        eqs. (12), (16)
                         σ_η² = η² (1 − ᾱ_prev)/(1 − ᾱ) (1 − ᾱ/ᾱ_prev)
euler_sigma_step         x + (σ_next − σ) d, d = (x − D)/σ                                  Karras et al. 2022,
heun_sigma_step          x + (σ_next − σ)(d + d')/2, d' = (x̃ − D(x̃; σ_next))/σ_next,         Alg. 1
                         x̃ = x + (σ_next − σ) d (x̃ itself where σ_next = 0)
edm_stochastic_step      Heun from σ̂ = (1 + γ)σ at x̂ = x + √(σ̂² − σ²) S_noise z             Alg. 2
dpm_solver_pp_1s_step    (σ_next/σ) x − a_next (exp(−h) − 1) D, h = λ_next − λ, λ = log(a/σ)   Lu et al. 2022,
dpm_solver_pp_2m_step    the same with D̃ = (1 + 1/(2r)) D − 1/(2r) D_prev, r = h_prev/h      eq. (8), Alg. 2
flow_match_euler_step    x + (σ_next − σ) u                                                 Esser et al. 2024
shift_sigma              s σ/(1 + (s − 1) σ)                                                 ibid., eq. (23)
=======================  ===============================================================  =====================

Levels, ᾱ, η, γ are one number for the batch; levels of DPM-Solver++ are pairs (a, σ) taken on
the case's path; noise draws z have the shape of x (fixed inputs: all ones).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ..diffusion.paths import RectifiedFlowPath
from .diffusion_quantity import DiffusionStepQuantity, ShiftQuantity
from .variants import mistake

__all__ = ["diffusion_step_quantities"]


# --- the model outputs handed to a step ---------------------------------------------------------------

def _denoiser_of(case):
    """EDM's D(x, σ) = E[x_data | x_data + σ ε = x] of the case, σ a number or one per row."""
    def denoiser(x, sigma):
        s = np.asarray(sigma, dtype=np.float64)
        return case.denoised_at(x, 1.0, s.reshape(-1) if s.size > 1 else float(s.reshape(())))
    denoiser.__name__ = "exact_denoiser"
    return denoiser


def _io(ex, outputs):
    """The call's inputs by name: the named values, with the model outputs (stored, or the case's fields)."""
    io = dict(ex.values)
    io["x"] = ex.x
    for name, compute in outputs.items():
        if io.get(name) is None:
            io[name] = compute(ex)
    return io


def _vp_level(ex):
    ab = ex["alpha_bar"]
    return np.sqrt(ab), np.sqrt(1.0 - ab)


_EPS = {"eps": lambda ex: ex.reference.epsilon_at(ex.x, *_vp_level(ex))}
_DENOISED_VE = {"denoised": lambda ex: ex.reference.denoised_at(ex.x, 1.0, ex["sigma"])}
_DENOISER = {"denoiser": lambda ex: _denoiser_of(ex.reference)}
_DENOISED_DPM = {"denoised": lambda ex: ex.reference.denoised_at(ex.x, *ex["level"])}
_DENOISED_DPM_2M = {**_DENOISED_DPM,
                    "denoised_prev": lambda ex: ex.reference.denoised_at(ex["x_prev"], *ex["level_prev"])}
_VELOCITY = {"velocity": lambda ex: (ex.reference.epsilon_at(ex.x, 1.0 - ex["sigma"], ex["sigma"])
                                     - ex.reference.denoised_at(ex.x, 1.0 - ex["sigma"], ex["sigma"]))}


def _form(outputs, formula):
    """A value function ``value(ex)`` of a formula of the call's inputs."""
    def value(ex):
        return formula(_io(ex, outputs))
    return value


def _own(name, **fixed):
    """si_ref.diffusion.steps' ``name`` (imported when called)."""
    def step(*args):
        from ..diffusion import steps
        return getattr(steps, name)(*args, **fixed)
    step.__name__ = f"si_ref_{name}"
    return step


# --- DDPM and DDIM -----------------------------------------------------------------------------------

def _x0_hat(io, *, roots=True, sign=1.0):
    ab = io["alpha_bar"]
    eps = sign * io["eps"]
    if roots:
        return (io["x"] - np.sqrt(1.0 - ab) * eps) / np.sqrt(ab)
    return (io["x"] - (1.0 - ab) * eps) / ab


def _ddpm(*, sign=1.0, std_power=0.5, x0_root=True, alpha_bar_prev=None):
    def formula(io):
        ab = io["alpha_bar"]
        abp = io["alpha_bar_prev"] if alpha_bar_prev is None else alpha_bar_prev(io)
        x0 = _x0_hat(io, sign=sign) if x0_root else (io["x"] - np.sqrt(1.0 - ab) * sign * io["eps"]) / ab
        beta_t = (abp - ab) / abp                                              # β_t = 1 − ᾱ/ᾱ_prev
        mean = (np.sqrt(abp) * beta_t / (1.0 - ab)) * x0 + (np.sqrt(ab / abp) * (1.0 - abp) / (1.0 - ab)) * io["x"]
        variance = (1.0 - abp) / (1.0 - ab) * beta_t                           # β̃
        return mean + variance ** std_power * io["noise"]
    return formula


def _ddim(*, eta=None, sign=1.0, eps_term=True, roots=True, variance="eta2", alpha_bar_prev=None):
    """Song et al. 2021 eq. (12); ``variance``: "eta2" (eq. (16)), "eta" (η for η²), "no-sqrt" (σ_η = η σ_1²)."""
    def formula(io):
        ab = io["alpha_bar"]
        abp = io["alpha_bar_prev"] if alpha_bar_prev is None else alpha_bar_prev(io)
        e = io.get("eta", 0.0) if eta is None else eta
        noise = io.get("noise")
        one = (1.0 - abp) / (1.0 - ab) * (1.0 - ab / abp)                      # σ_1², the η = 1 variance
        if variance == "eta2":
            s2, s = e**2 * one, e * np.sqrt(one)
        elif variance == "eta":
            s2, s = e * one, e * np.sqrt(one)                                  # η σ_1² under the root, η σ_1 as noise
        else:
            s2, s = (e * one) ** 2, e * one                                    # σ_η = η σ_1²: the √ forgotten
        if roots:
            x0 = _x0_hat(io, sign=sign)
            out = np.sqrt(abp) * x0
            if eps_term:
                if variance == "eta2":    # 1 − ᾱ_prev − σ_η², written without the cancellation as ᾱ_prev → 1
                    direction2 = (1.0 - abp) * ((1.0 - e**2) * (abp - ab) + ab * (1.0 - abp)) / (abp * (1.0 - ab))
                else:                     # a mistake's form: where its variance exceeds 1 − ᾱ_prev, no direction
                    direction2 = max(1.0 - abp - s2, 0.0)
                out = out + np.sqrt(direction2) * sign * io["eps"]
        else:
            x0 = _x0_hat(io, roots=False, sign=sign)
            out = abp * x0 + ((1.0 - abp) * sign * io["eps"] if eps_term else 0.0)
        if noise is not None and s:
            out = out + s * noise
        return out
    return formula


def _alpha_bar_draws(data, case):
    ab = data.draw(st.one_of(st.floats(1e-5, 0.9999), st.sampled_from((4e-5, 0.5, 0.9999))), label="alpha_bar")
    final = data.draw(st.booleans(), label="final step")
    if final:
        abp = 1.0
    else:
        u = data.draw(st.floats(1e-3, 1.0), label="u")
        abp = min(1.0, ab + u * (1.0 - ab))
    return {"alpha_bar": ab, "alpha_bar_prev": abp}


_ALPHA_BAR_PAIRS = ((4e-5, 1e-4), (0.02, 0.05), (0.3, 0.5), (0.5, 1.0), (0.9, 0.999), (0.9999, 1.0))


def _vp_current(values):
    ab = values["alpha_bar"]
    return np.sqrt(ab), np.sqrt(1.0 - ab)


def _ddpm_quantities():
    exact = _form(_EPS, _ddpm())
    ddim0 = _form(_EPS, _ddim(eta=0.0))
    at_current = lambda io: io["alpha_bar"]   # noqa: E731 - ᾱ_prev read at the current step's index
    ddpm = DiffusionStepQuantity(
        "ddpm_step",
        "x̂0 = (x − √(1 − ᾱ) ε̂)/√ᾱ, x_prev = μ̃(x, x̂0) + √β̃ z: one ancestral DDPM step from ᾱ to ᾱ_prev (Ho et "
        "al. 2020, eqs. (6), (7); fixed_small variance, no clipping), called ddpm_step(eps, x, alpha_bar, "
        "alpha_bar_prev, noise) with eps the exact ε̂ at (√ᾱ, √(1 − ᾱ)).",
        exact, (
            mistake("noise-sign", ("ε̂ taken as E[−ε | x]", _form(_EPS, _ddpm(sign=-1.0)))),
            mistake("variance-for-std", ("β̃ z: the noise scaled by the variance", _form(_EPS, _ddpm(std_power=1.0)))),
            mistake("alpha-bar-for-a", ("x̂0 = (x − √(1 − ᾱ) ε̂)/ᾱ: √ dropped on ᾱ",
                                        _form(_EPS, _ddpm(x0_root=False)))),
            mistake("off-by-one", ("x returned: ᾱ_prev read at the current step's index (ᾱ_prev = ᾱ, a zero step)",
                                   _form(_EPS, _ddpm(alpha_bar_prev=at_current)))),
            mistake("wrong-method", ("the deterministic DDIM update (η = 0): the noise dropped", ddim0)),
        ),
        arguments_=("eps", "x", "alpha_bar", "alpha_bar_prev", "noise"), model_outputs=lambda ex: _io(ex, _EPS),
        draw_values=_alpha_bar_draws, fixed_values=lambda case: [{"alpha_bar": ab, "alpha_bar_prev": abp}
                                                                 for ab, abp in _ALPHA_BAR_PAIRS],
        current_level=_vp_current, own=_own("ddpm_step"),
        fixed_text="(alpha_bar, alpha_bar_prev) in " + ", ".join(f"({a:g}, {b:g})" for a, b in _ALPHA_BAR_PAIRS),
        plain="x_prev = μ̃ + √β̃ z: one ancestral DDPM step (ε-prediction, fixed_small)")

    ddim = DiffusionStepQuantity(
        "ddim_step",
        "x_prev = √ᾱ_prev x̂0 + √(1 − ᾱ_prev) ε̂, x̂0 = (x − √(1 − ᾱ) ε̂)/√ᾱ: one deterministic DDIM step (η = 0; "
        "Song et al. 2021, eq. (12)), called ddim_step(eps, x, alpha_bar, alpha_bar_prev) with eps the exact ε̂ "
        "at (√ᾱ, √(1 − ᾱ)).",
        ddim0, (
            mistake("missing-eps-term", ("√ᾱ_prev x̂0: the direction √(1 − ᾱ_prev) ε̂ dropped",
                                         _form(_EPS, _ddim(eta=0.0, eps_term=False)))),
            mistake("noise-sign", ("ε̂ taken as E[−ε | x]", _form(_EPS, _ddim(eta=0.0, sign=-1.0)))),
            mistake("alpha-bar-for-a", ("ᾱ and 1 − ᾱ for their roots", _form(_EPS, _ddim(eta=0.0, roots=False)))),
            mistake("off-by-one", ("x returned: ᾱ_prev read at the current step's index (ᾱ_prev = ᾱ, a zero step)",
                                   _form(_EPS, _ddim(eta=0.0, alpha_bar_prev=at_current)))),
        ),
        arguments_=("eps", "x", "alpha_bar", "alpha_bar_prev"), model_outputs=lambda ex: _io(ex, _EPS),
        draw_values=_alpha_bar_draws, fixed_values=lambda case: [{"alpha_bar": ab, "alpha_bar_prev": abp}
                                                                 for ab, abp in _ALPHA_BAR_PAIRS],
        current_level=_vp_current, own=_own("ddim_step"),
        fixed_text="(alpha_bar, alpha_bar_prev) in " + ", ".join(f"({a:g}, {b:g})" for a, b in _ALPHA_BAR_PAIRS),
        plain="x_prev = √ᾱ_prev x̂0 + √(1 − ᾱ_prev) ε̂: one DDIM step (η = 0)")

    def eta_draws(data, case):
        values = _alpha_bar_draws(data, case)
        values["eta"] = data.draw(st.one_of(st.just(1.0), st.floats(0.1, 1.0)), label="eta")
        return values

    exact_eta = _form(_EPS, _ddim())
    ddim_eta = DiffusionStepQuantity(
        "ddim_eta_step",
        "x_prev = √ᾱ_prev x̂0 + √(1 − ᾱ_prev − σ_η²) ε̂ + σ_η z with σ_η² = η² (1 − ᾱ_prev)/(1 − ᾱ) (1 − ᾱ/ᾱ_prev): "
        "one DDIM step with η > 0 (Song et al. 2021, eqs. (12), (16); η = 1 is DDPM), called ddim_step(eps, x, "
        "alpha_bar, alpha_bar_prev, eta, noise).",
        exact_eta, (
            mistake("eta-variance",
                    ("σ_η² = η σ_1² under the direction's root (η for η²), σ_η = η σ_1 on the noise",
                     _form(_EPS, _ddim(variance="eta"))),
                    ("σ_η = η σ_1²: the √ of the variance forgotten", _form(_EPS, _ddim(variance="no-sqrt")))),
            mistake("missing-eps-term", ("√ᾱ_prev x̂0 + σ_η z: the direction term dropped",
                                         _form(_EPS, _ddim(eps_term=False)))),
            mistake("wrong-method", ("the η = 0 update: η or the noise ignored", ddim0)),
            mistake("noise-sign", ("ε̂ taken as E[−ε | x]", _form(_EPS, _ddim(sign=-1.0)))),
            mistake("alpha-bar-for-a", ("ᾱ and 1 − ᾱ for their roots", _form(_EPS, _ddim(roots=False)))),
            mistake("off-by-one", ("x returned: ᾱ_prev read at the current step's index (ᾱ_prev = ᾱ, a zero step)",
                                   _form(_EPS, _ddim(alpha_bar_prev=at_current)))),
        ),
        arguments_=("eps", "x", "alpha_bar", "alpha_bar_prev", "eta", "noise"), model_outputs=lambda ex: _io(ex, _EPS),
        draw_values=eta_draws,
        fixed_values=lambda case: [{"alpha_bar": ab, "alpha_bar_prev": abp, "eta": eta}
                                   for ab, abp in _ALPHA_BAR_PAIRS for eta in (0.5, 1.0)],
        current_level=_vp_current, own=_own("ddim_step"),
        fixed_text="(alpha_bar, alpha_bar_prev) in " + ", ".join(f"({a:g}, {b:g})" for a, b in _ALPHA_BAR_PAIRS)
        + ", eta in {0.5, 1}",
        plain="√ᾱ_prev x̂0 + √(1 − ᾱ_prev − σ_η²) ε̂ + σ_η z: one DDIM step, η > 0")
    return [ddpm, ddim, ddim_eta]


# --- EDM: steps in σ ---------------------------------------------------------------------------------------

def _slope(x, denoised, sigma, sign=1.0):
    return sign * (x - denoised) / sigma


def _euler_sigma(*, sign=1.0, power=1.0, sigma_next=None):
    def formula(io):
        sigma = io["sigma"]
        nxt = io["sigma_next"] if sigma_next is None else sigma_next(io)
        return io["x"] + (nxt - sigma) * sign * (io["x"] - io["denoised"]) / sigma**power
    return formula


def _heun_from(x, sigma, sigma_next, denoiser, *, sign=1.0, second_level=None, second_divisor=None,
               corrector=True):
    """Karras et al. 2022, Alg. 1 lines 5-8 from (x, σ) to σ_next (Euler where σ_next = 0)."""
    d = _slope(x, denoiser(x, sigma), sigma, sign)
    euler = x + (sigma_next - sigma) * d
    if sigma_next == 0.0 or not corrector:
        return euler
    level = sigma_next if second_level is None else second_level
    divisor = sigma_next if second_divisor is None else second_divisor
    d_next = _slope(euler, denoiser(euler, level), divisor, sign)
    return x + (sigma_next - sigma) * 0.5 * (d + d_next)


def _heun(**options):
    def formula(io):
        sigma, nxt = io["sigma"], io["sigma_next"]
        kw = dict(options)
        if kw.pop("stage_at_sigma", False):
            if nxt == 0.0:
                return None
            kw["second_level"] = sigma
            if kw.pop("divide_by_sigma", False):
                kw["second_divisor"] = sigma
        return _heun_from(io["x"], sigma, nxt, io["denoiser"], **kw)
    return formula


def _edm(*, noise_scale="sqrt", from_sigma=False, length_from_sigma=False, corrector=True):
    """Karras et al. 2022, Alg. 2: noise up to σ̂ = (1 + γ)σ, then Heun from σ̂ to σ_next."""
    def formula(io):
        sigma, nxt, gamma = io["sigma"], io["sigma_next"], io["gamma"]
        sigma_hat = (1.0 + gamma) * sigma
        spread = np.sqrt(sigma_hat**2 - sigma**2) if noise_scale == "sqrt" else sigma_hat**2 - sigma**2
        x_hat = io["x"] + spread * io["s_noise"] * io["noise"]
        D = io["denoiser"]
        if from_sigma:           # the noise added, the step then taken as if still at σ
            return _heun_from(x_hat, sigma, nxt, D, corrector=corrector)
        if length_from_sigma:    # slopes at σ̂, the step length σ_next − σ
            d = _slope(x_hat, D(x_hat, sigma_hat), sigma_hat)
            euler = x_hat + (nxt - sigma) * d
            if nxt == 0.0:
                return euler
            return x_hat + (nxt - sigma) * 0.5 * (d + _slope(euler, D(euler, nxt), nxt))
        return _heun_from(x_hat, sigma_hat, nxt, D, corrector=corrector)
    return formula


def _sigma_draws(data, case):
    sigma = data.draw(st.one_of(st.sampled_from((80.0, 1.0, 0.002)), st.floats(0.002, 80.0)), label="sigma")
    # σ_next = 0 or at least σ/1000: Heun's corrector divides by σ_next, and at a subnormal σ_next (a step
    # no sampler takes) any two correct implementations differ by 1e290 from rounding alone
    u = data.draw(st.one_of(st.just(0.0), st.floats(1e-3, 0.999)), label="u")
    return {"sigma": sigma, "sigma_next": sigma * u}


_SIGMA_PAIRS = ((80.0, 60.0), (80.0, 0.0), (2.0, 1.0), (0.5, 0.25), (0.01, 0.002), (0.002, 0.0))


def _ve_current(values):
    return 1.0, values["sigma"]


def _sigma_quantities():
    euler = _form(_DENOISED_VE, _euler_sigma())
    heun_exact = _form(_DENOISER, _heun())
    heun_euler = _form(_DENOISER, _heun(corrector=False))
    at_current = lambda io: io["sigma"]   # noqa: E731
    pairs_text = "(sigma, sigma_next) in " + ", ".join(f"({a:g}, {b:g})" for a, b in _SIGMA_PAIRS)
    fixed = lambda case: [{"sigma": s, "sigma_next": n} for s, n in _SIGMA_PAIRS]   # noqa: E731

    def edm_draws(data, case):
        values = _sigma_draws(data, case)
        values["gamma"] = data.draw(st.one_of(st.just(np.sqrt(2.0) - 1.0), st.floats(0.01, np.sqrt(2.0) - 1.0)),
                                    label="gamma")
        values["s_noise"] = data.draw(st.floats(1.0, 1.01), label="s_noise")
        return values

    return [
        DiffusionStepQuantity(
            "euler_sigma_step",
            "x + (σ_next − σ)(x − D)/σ: one Euler step of dx/dσ = (x − D(x; σ))/σ (Karras et al. 2022, Alg. 1), "
            "called euler_sigma_step(denoised, x, sigma, sigma_next) with D the exact denoiser at (1, σ).",
            euler, (
                mistake("sign-flip", ("d = (D − x)/σ: the slope's sign", _form(_DENOISED_VE, _euler_sigma(sign=-1.0)))),
                mistake("variance-for-std", ("d = (x − D)/σ²", _form(_DENOISED_VE, _euler_sigma(power=2.0)))),
                mistake("off-by-one", ("x returned: σ_next read at the current index (a zero step)",
                                       _form(_DENOISED_VE, _euler_sigma(sigma_next=at_current)))),
            ),
            arguments_=("denoised", "x", "sigma", "sigma_next"), model_outputs=lambda ex: _io(ex, _DENOISED_VE),
            draw_values=_sigma_draws, fixed_values=fixed, current_level=_ve_current, own=_own("euler_sigma_step"),
            fixed_text=pairs_text, plain="x + (σ_next − σ)(x − D)/σ: one Euler step in σ (EDM, a = 1)"),
        DiffusionStepQuantity(
            "heun_sigma_step",
            "x + (σ_next − σ)(d + d')/2 with d = (x − D(x; σ))/σ, x̃ = x + (σ_next − σ) d, d' = (x̃ − D(x̃; "
            "σ_next))/σ_next (x̃ where σ_next = 0): one Heun step in σ (Karras et al. 2022, Alg. 1), called "
            "heun_sigma_step(denoiser, x, sigma, sigma_next) with denoiser(x, sigma) the exact D.",
            heun_exact, (
                mistake("stage-time",
                        ("the second evaluation D(x̃; σ) at σ instead of σ_next (d' divided by σ_next)",
                         _form(_DENOISER, _heun(stage_at_sigma=True))),
                        ("d' = (x̃ − D(x̃; σ))/σ: the corrector's slope at σ",
                         _form(_DENOISER, _heun(stage_at_sigma=True, divide_by_sigma=True)))),
                mistake("wrong-method", ("an Euler step: the corrector skipped", heun_euler)),
                mistake("sign-flip", ("d = (D − x)/σ: the slopes' sign", _form(_DENOISER, _heun(sign=-1.0)))),
            ),
            arguments_=("denoiser", "x", "sigma", "sigma_next"), model_outputs=lambda ex: _io(ex, _DENOISER),
            draw_values=_sigma_draws, fixed_values=fixed, current_level=_ve_current, own=_own("heun_sigma_step"),
            fixed_text=pairs_text, plain="x + (σ_next − σ)(d + d')/2: one Heun step in σ (EDM, Algorithm 1)"),
        DiffusionStepQuantity(
            "edm_stochastic_step",
            "σ̂ = (1 + γ)σ, x̂ = x + √(σ̂² − σ²) S_noise z, then one Heun step from (x̂, σ̂) to σ_next: EDM's "
            "stochastic sampler (Karras et al. 2022, Alg. 2), called edm_stochastic_step(denoiser, x, sigma, "
            "sigma_next, gamma, noise, s_noise).",
            _form(_DENOISER, _edm()), (
                mistake("stage-time",
                        ("the step taken from σ instead of σ̂ (D and the slopes at σ, length σ_next − σ)",
                         _form(_DENOISER, _edm(from_sigma=True))),
                        ("slopes at σ̂, the step length σ_next − σ", _form(_DENOISER, _edm(length_from_sigma=True)))),
                mistake("variance-for-std", ("(σ̂² − σ²) S_noise z: the noise scaled by the variance",
                                             _form(_DENOISER, _edm(noise_scale="variance")))),
                mistake("wrong-method", ("an Euler step from (x̂, σ̂): the corrector skipped",
                                         _form(_DENOISER, _edm(corrector=False)))),
            ),
            arguments_=("denoiser", "x", "sigma", "sigma_next", "gamma", "noise", "s_noise"),
            model_outputs=lambda ex: _io(ex, _DENOISER), draw_values=edm_draws,
            fixed_values=lambda case: [{"sigma": s, "sigma_next": n, "gamma": g, "s_noise": 1.003}
                                       for s, n in _SIGMA_PAIRS for g in (0.25, float(np.sqrt(2.0) - 1.0))],
            current_level=_ve_current, own=_own("edm_stochastic_step"),
            fixed_text=pairs_text + ", gamma in {0.25, √2 − 1}, s_noise = 1.003",
            plain="noise to σ̂ = (1 + γ)σ, then Heun from σ̂: EDM's stochastic step (Algorithm 2)"),
    ]


# --- DPM-Solver++ -----------------------------------------------------------------------------------------

def _lam(level, power=1.0):
    """λ = log(a/σ) (power 2: the log-SNR log(a²/σ²)); ±inf at a = 0 or σ = 0."""
    a, sigma = level
    with np.errstate(divide="ignore"):
        return power * (np.log(a) - np.log(sigma))


def _dpm(*, order=2, power=1.0, swap=False, solver="midpoint", history_swapped=False, level_next=None):
    """Lu et al. 2022 (DPM-Solver++), eq. (8) (order 1) and Algorithm 2 (order 2, ``solver`` midpoint); the
    ``"heun"`` variant is diffusers' solver_type="heun"."""
    def formula(io):
        def level_of(name):
            level = io[name] if not (name == "level_next" and level_next is not None) else level_next(io)
            return level[::-1] if swap else level
        (a, sigma), (a_next, sigma_next) = level_of("level"), level_of("level_next")
        if sigma == 0.0:
            return None
        lam, lam_next = _lam((a, sigma), power), _lam((a_next, sigma_next), power)
        with np.errstate(invalid="ignore"):
            minus_h = lam - lam_next                                            # −h
        phi = a_next * np.expm1(minus_h) if np.isfinite(minus_h) or minus_h == -np.inf else np.nan
        D, D_prev = io["denoised"], io.get("denoised_prev")
        if history_swapped:
            D, D_prev = D_prev, D
        if order == 1:
            return (sigma_next / sigma) * io["x"] - phi * D
        h = -minus_h
        h_prev = lam - _lam(level_of("level_prev"), power)
        if solver == "heun":
            first = (sigma_next / sigma) * io["x"] - phi * D
            return first + a_next * (np.expm1(-h) / h + 1.0) * (h / h_prev) * (D - D_prev)
        half_inverse_r = h / (2.0 * h_prev)                                     # 1/(2r), r = h_prev/h
        return (sigma_next / sigma) * io["x"] - phi * ((1.0 + half_inverse_r) * D - half_inverse_r * D_prev)
    return formula


def _exact_dpm(order):
    formula = _dpm(order=order)
    outputs = _DENOISED_DPM if order == 1 else _DENOISED_DPM_2M

    def value(ex):
        (a, sigma), (a_next, sigma_next) = ex["level"], ex["level_next"]
        if sigma == 0.0 or a_next == 0.0:
            raise ValueError("DPM-Solver++ steps from σ > 0 to a level with a > 0")
        if order == 2:
            a_prev, sigma_prev = ex["level_prev"]
            if sigma_next == 0.0 or a == 0.0 or sigma_prev == 0.0:
                raise ValueError("the 2M step needs finite λ at level and level_next and σ_prev > 0")
        return formula(_io(ex, outputs))
    return value


def _path_level(case, tau):
    return float(case.path.a(tau)), float(case.path.sigma(tau))


def _dpm_draws(order):
    def draw(data, case):
        tau = data.draw(st.one_of(st.just(1.0), st.floats(1e-3, 1.0)), label="tau")
        u = data.draw(st.one_of(st.just(0.0), st.floats(0.0, 0.99)) if order == 1 else st.floats(0.01, 0.99),
                      label="u")
        values = {"level": _path_level(case, tau), "level_next": _path_level(case, tau * u)}
        if order == 2:
            tau = min(tau, 0.99)
            values["level"] = _path_level(case, tau)
            values["level_next"] = _path_level(case, tau * u)
            v = data.draw(st.floats(0.01, 1.0), label="v")
            values["level_prev"] = _path_level(case, tau + v * (1.0 - tau))
        return values
    return draw


_TAU_PAIRS = ((1.0, 0.9), (0.9, 0.5), (0.5, 0.2), (0.2, 0.05), (0.05, 0.0))
_TAU_TRIPLES = ((1.0, 0.9, 0.8), (0.6, 0.5, 0.3), (0.3, 0.2, 0.1), (0.1, 0.05, 0.01))


def _dpm_current(values):
    return values["level"]


def _dpm_quantities():
    at_current = lambda io: io["level"]   # noqa: E731
    one = _form(_DENOISED_DPM, _dpm(order=1))
    two_common = dict(current_level=_dpm_current, references=None)
    return [
        DiffusionStepQuantity(
            "dpm_solver_pp_1s_step",
            "(σ_next/σ) x − a_next (exp(−h) − 1) D, h = λ_next − λ, λ = log(a/σ): one first-order DPM-Solver++ step "
            "(Lu et al. 2022, eq. (8); DDIM with η = 0 on a VP path), called dpm_solver_pp_1s_step(denoised, x, "
            "level, level_next) with levels (a, σ) on the case's path and D the exact denoiser at level.",
            _exact_dpm(1), (
                mistake("alpha-bar-for-a", ("h from the log-SNR log(a²/σ²) instead of log(a/σ)",
                                            _form(_DENOISED_DPM, _dpm(order=1, power=2.0)))),
                mistake("alpha-beta-swapped", ("a and σ exchanged in both levels",
                                               _form(_DENOISED_DPM, _dpm(order=1, swap=True)))),
                mistake("off-by-one", ("x returned: level_next read at the current index (a zero step)",
                                       _form(_DENOISED_DPM, _dpm(order=1, level_next=at_current)))),
            ),
            arguments_=("denoised", "x", "level", "level_next"), draw_values=_dpm_draws(1),
            model_outputs=lambda ex: _io(ex, _DENOISED_DPM),
            fixed_values=lambda case: [{"level": _path_level(case, t), "level_next": _path_level(case, n)}
                                       for t, n in _TAU_PAIRS],
            own=_own("dpm_solver_pp_1s_step"),
            fixed_text="levels on the case's path at (tau, tau_next) in "
            + ", ".join(f"({a:g}, {b:g})" for a, b in _TAU_PAIRS),
            plain="(σ_next/σ) x − a_next (exp(−h) − 1) D: one DPM-Solver++(1S) step", **two_common),
        DiffusionStepQuantity(
            "dpm_solver_pp_2m_step",
            "(σ_next/σ) x − a_next (exp(−h) − 1) D̃ with D̃ = (1 + 1/(2r)) D − 1/(2r) D_prev, r = h_prev/h: one "
            "DPM-Solver++(2M) step (Lu et al. 2022, Algorithm 2), called dpm_solver_pp_2m_step(denoised, "
            "denoised_prev, x, level_prev, level, level_next) with D_prev the exact denoiser at level_prev "
            "evaluated at a point x_prev of that level.",
            _exact_dpm(2), (
                mistake("wrong-method",
                        ("the first-order (1S) update: D_prev ignored (as lower_order_final does on the last steps)",
                         one),
                        ("diffusers' solver_type='heun' second-order update",
                         _form(_DENOISED_DPM_2M, _dpm(solver="heun")))),
                mistake("off-by-one", ("the history read one entry off: D_prev used as the current output and D as "
                                       "the previous", _form(_DENOISED_DPM_2M, _dpm(history_swapped=True)))),
                mistake("alpha-bar-for-a", ("h and h_prev from the log-SNR log(a²/σ²) instead of log(a/σ)",
                                            _form(_DENOISED_DPM_2M, _dpm(power=2.0)))),
                mistake("alpha-beta-swapped", ("a and σ exchanged in the levels",
                                               _form(_DENOISED_DPM_2M, _dpm(swap=True)))),
            ),
            arguments_=("denoised", "denoised_prev", "x", "level_prev", "level", "level_next"),
            draw_values=_dpm_draws(2), model_outputs=lambda ex: _io(ex, _DENOISED_DPM_2M),
            fixed_values=lambda case: [{"level_prev": _path_level(case, p), "level": _path_level(case, t),
                                        "level_next": _path_level(case, n)} for p, t, n in _TAU_TRIPLES],
            own=_own("dpm_solver_pp_2m_step"),
            fixed_text="levels on the case's path at (tau_prev, tau, tau_next) in "
            + ", ".join(f"({a:g}, {b:g}, {c:g})" for a, b, c in _TAU_TRIPLES),
            plain="(σ_next/σ) x − a_next (exp(−h) − 1) D̃: one DPM-Solver++(2M) step", **two_common),
    ]


# --- flow matching -----------------------------------------------------------------------------------------

def _flow(*, sign=1.0, sigma_next=None):
    def formula(io):
        nxt = io["sigma_next"] if sigma_next is None else sigma_next(io)
        return io["x"] + sign * (nxt - io["sigma"]) * io["velocity"]
    return formula


def _flow_draws(data, case):
    sigma = data.draw(st.one_of(st.sampled_from((1.0, 0.0)), st.floats(0.0, 1.0)), label="sigma")
    # σ_next = 0 or at least σ/1000: Heun's corrector divides by σ_next, and at a subnormal σ_next (a step
    # no sampler takes) any two correct implementations differ by 1e290 from rounding alone
    u = data.draw(st.one_of(st.just(0.0), st.floats(1e-3, 0.999)), label="u")
    return {"sigma": sigma, "sigma_next": sigma * u}


_FLOW_PAIRS = ((1.0, 0.9), (0.5, 0.25), (0.1, 0.0), (1e-12, 0.0))


def _flow_quantities():
    return [DiffusionStepQuantity(
        "flow_match_euler_step",
        "x + (σ_next − σ) u: one Euler step of dx/dσ = u on the rectified-flow path x = (1 − σ) x_data + σ ε "
        "(diffusers' FlowMatchEulerDiscreteScheduler), called flow_match_euler_step(velocity, x, sigma, "
        "sigma_next) with u = E[ε − x_data | x] exact.",
        _form(_VELOCITY, _flow()), (
            mistake("sign-flip", ("x − (σ_next − σ) u: the velocity in the x_data − ε convention",
                                  _form(_VELOCITY, _flow(sign=-1.0)))),
            mistake("off-by-one", ("x returned: σ_next read at the current index (a zero step)",
                                   _form(_VELOCITY, _flow(sigma_next=lambda io: io["sigma"])))),
        ),
        arguments_=("velocity", "x", "sigma", "sigma_next"), model_outputs=lambda ex: _io(ex, _VELOCITY),
        draw_values=_flow_draws, fixed_values=lambda case: [{"sigma": s, "sigma_next": n} for s, n in _FLOW_PAIRS],
        current_level=lambda values: (1.0 - values["sigma"], values["sigma"]), own=_own("flow_match_euler_step"),
        fixed_text="(sigma, sigma_next) in " + ", ".join(f"({a:g}, {b:g})" for a, b in _FLOW_PAIRS),
        plain="x + (σ_next − σ) u: one flow-matching Euler step (u = ε − x_data)")]


# --- the timestep shift ------------------------------------------------------------------------------------

def _shift(ex, sigma=None):
    s = float(ex.reference.path.shift)
    sigma = ex.t if sigma is None else sigma
    return s * sigma / (1.0 + (s - 1.0) * sigma)


def _shifted_reference(reference) -> bool:
    return isinstance(getattr(reference, "path", None), RectifiedFlowPath) and reference.path.shift != 1.0


def _own_shift(sigma, shift):
    from ..diffusion.discrete import shift_sigma
    return shift_sigma(sigma, shift)


_own_shift.__name__ = "si_ref_shift_sigma"


def _shift_quantities():
    return [ShiftQuantity(
        "shift_sigma",
        "σ' = s σ/(1 + (s − 1) σ): the timestep shift of rectified flows (Esser et al. 2024, eq. (23); diffusers' "
        "shift), called shift_sigma(sigma, shift) with sigma of shape (n,) in [0, 1] and the shift s of the "
        "case's RectifiedFlowPath (s ≠ 1).",
        _shift, (
            mistake("shift-twice", ("the shift applied to an already shifted σ", lambda ex: _shift(ex, _shift(ex)))),
            mistake("time-reversed", ("1 − shift(1 − σ): the shift applied on the clock t = 1 − σ",
                                      lambda ex: 1.0 - _shift(ex, 1.0 - ex.t))),
        ),
        accepts=_shifted_reference, own=_own_shift,
        plain="σ' = s σ/(1 + (s − 1) σ): the rectified-flow timestep shift")]


def diffusion_step_quantities() -> list:
    return _ddpm_quantities() + _sigma_quantities() + _dpm_quantities() + _flow_quantities() + _shift_quantities()
