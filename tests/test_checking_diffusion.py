"""The diffusion quantities of the checker: si_ref's own implementations pass; each catalogued mistake, written the
way real code writes it (diffusers-style formulas, per-row broadcasting, a model on the other clock), fails with
its name.

The wrong implementations below are the user's code: their own formulas on the inputs they receive, or si_ref
objects combined the wrong way (si_ref's interpolant case in t = 1 − τ read as a diffusion model), never the
checker's candidate forms.
"""

from __future__ import annotations

import numpy as np
import pytest

from si_ref import conformance as C
from si_ref import references
from si_ref.checking import compare
from si_ref.diffusion import DiffusionCase, VPLinearPath
from si_ref.diffusion import steps as DS
from si_ref.quantities import QUANTITIES

FAST = dict(max_examples=4, shrink=False)
DIFFUSION = sorted(name for name, q in QUANTITIES.items() if q.level.startswith("diffusion"))

VP = references.diffusion_case("diffusion-2d-vp-linear")
VE = references.diffusion_case("diffusion-2d-ve")
EDM = references.diffusion_case("diffusion-2d-edm")
RF = references.diffusion_case("diffusion-2d-rectified-flow")
RF3 = references.diffusion_case("diffusion-2d-rectified-flow-shift-3")
COSINE = references.diffusion_case("diffusion-2d-cosine")
#: Asymmetric levels: VP with β_min = 0.1 has a(τ) ≠ σ(1 − τ) and a ≠ σ, so reversed and swapped forms differ.
CASE = VP


def col(value):
    return np.reshape(np.asarray(value, dtype=np.float64), (-1, 1))


def own(name):
    q = QUANTITIES[name]
    return q.own_implementation()


def fixed_reference(name):
    q = QUANTITIES[name]
    return next(case for case in references.DIFFUSION_CASES.values() if q.accepts(case))


# --- (i) si_ref's own implementations pass -----------------------------------------------------------------

def test_there_are_twenty_six_diffusion_quantities_in_four_levels():
    assert len(DIFFUSION) == 26
    assert {QUANTITIES[n].level for n in DIFFUSION} == {"diffusion", "diffusion conversion", "diffusion target",
                                                       "diffusion step"}


@pytest.mark.parametrize("name", DIFFUSION)
def test_si_ref_passes_each_diffusion_quantity_on_a_named_case(name):
    q = QUANTITIES[name]
    reference = fixed_reference(name)
    implementation = own(name)(reference) if q.takes_factory else own(name)
    report = C.check(implementation, name, reference, **FAST)
    assert report.passed, str(report)
    assert "0 failed" in report.details and report.examples > FAST["max_examples"]


@pytest.mark.parametrize("name", ["diffusion_flow_velocity", "diffusion_reverse_sde_drift", "convert_v_to_sample",
                                  "convert_epsilon_to_score", "add_noise", "ddim_eta_step", "heun_sigma_step",
                                  "dpm_solver_pp_2m_step", "shift_sigma"])
def test_si_ref_passes_over_drawn_diffusion_cases(name):
    report = C.check(own(name), name, max_examples=10, seed=2, shrink=False)
    assert report.passed, str(report)


def test_the_fields_are_checked_on_every_path_family():
    q = QUANTITIES["diffusion_score"]
    families = {type(case.path).__name__ for case in q.fixed_references()}
    assert families == {"VPLinearPath", "CosinePath", "VEPath", "EDMPath", "RectifiedFlowPath", "ZeroTerminalSNRPath"}


def test_the_reverse_sde_drift_skips_the_noise_end_where_a_vanishes():
    """a(1) = 0 on the cosine path: f and g² are infinite there; the fixed inputs at τ = 1 are left out."""
    report = C.check(COSINE.reverse_sde_drift, "diffusion_reverse_sde_drift", COSINE, **FAST)
    assert report.passed and "tau in {0.0, 1e-12, 0.5" in report.details, str(report)


# --- (ii) each mistake, as real code writes it, is named ---------------------------------------------------

#: SD1.5's VAE latent scale over SDXL's: a field scaled by a hard-coded constant of the other model.
VAE_RATIO = 0.18215 / 0.13025


def _level(case, tau):
    return col(case.path.a(tau)), col(case.path.sigma(tau))


def _raw_level(case, tau):
    """a(τ), σ(τ) as returned by the path: shape (n,) for τ of shape (n,), multiplied straight into (n, d)."""
    return case.path.a(tau), case.path.sigma(tau)


def scaled(case, method, factor=VAE_RATIO):
    return lambda x, tau: factor * getattr(case, method)(x, tau)


def negated(case, method):
    return lambda x, tau: -getattr(case, method)(x, tau)


def eps_from_score(case):
    """ε̂ = +σ s: the sign of ε̂ = −σ s dropped (E[−ε | x])."""
    return lambda x, tau: _level(case, tau)[1] * case.score(x, tau)


def on_the_other_clock(case, method):
    """A model whose τ runs from the noise: evaluated at 1 − τ."""
    return lambda x, tau: getattr(case, method)(x, 1.0 - np.asarray(tau))


def swapped_level(case, method):
    """The path's a and σ exchanged: x read as σ x_data + a ε."""
    return lambda x, tau: getattr(case, method + "_at")(x, case.path.sigma(tau), case.path.a(tau))


def torch_style(case, formula):
    """A field formed from (n,) coefficients multiplied straight into (n, d) arrays (no [:, None])."""
    return lambda x, tau: formula(case, x, tau, *_raw_level(case, tau))


def si_ref_denoise_x0(case):
    """si_ref's x̂0 (the base: the noise) of the interpolant case read as diffusers' x0 (the data)."""
    interpolant_case = case.interpolant_case()
    return lambda x, tau: interpolant_case.denoise_x0(x, 1.0 - np.asarray(tau))


def v_other_sign(case):
    def v(x, tau):
        a, sigma = _level(case, tau)
        return sigma * case.denoised(x, tau) - a * case.epsilon(x, tau)
    return v


def score_without_sigma(case):
    return lambda x, tau: -case.epsilon(x, tau)


def guarded_score(case):
    return lambda x, tau: -case.epsilon(x, tau) / (_level(case, tau)[1] + 1e-3)


def flow_other_convention(case):
    """x_data − ε: the rectified-flow velocity of d/dt with t = 1 − σ."""
    return lambda x, tau: case.denoised(x, tau) - case.epsilon(x, tau)


def flow_swapped_means(case):
    """ȧ ε̂ + σ̇ x̂: the two conditional means exchanged in u = ȧ x̂ + σ̇ ε̂."""
    return lambda x, tau: (col(case.path.a_dot(tau)) * case.epsilon(x, tau)
                           + col(case.path.sigma_dot(tau)) * case.denoised(x, tau))


def si_ref_velocity_at_tau(case):
    """si_ref's velocity of the interpolant case, called at t = τ (the time map forgotten)."""
    interpolant_case = case.interpolant_case()
    return lambda x, tau: interpolant_case.velocity(x, tau)


def pf_ode_with_full_g2(case):
    """score_sde's g² s · (0.5 if probability_flow else 1) with the 0.5 lost."""
    def drift(x, tau):
        f, g2 = col(case.path.drift_coefficient(tau)), col(case.path.diffusion_squared(tau))
        return f * x - g2 * case.score(x, tau)
    return drift


def reverse_drift(case, sign, weight):
    def drift(x, tau):
        f, g2 = col(case.path.drift_coefficient(tau)), col(case.path.diffusion_squared(tau))
        return f * x - sign * weight * g2 * case.score(x, tau)
    return drift


def field_mistakes():
    """(quantity, mistake, reference, the user's wrong field)."""
    V, R, R3 = CASE, RF, RF3
    rows = [
        ("diffusion_epsilon", "noise-sign", V, eps_from_score(V)),
        ("diffusion_epsilon", "time-reversed", V, on_the_other_clock(V, "epsilon")),
        ("diffusion_epsilon", "alpha-beta-swapped", V, swapped_level(V, "epsilon")),
        ("diffusion_epsilon", "t-wrong-axis",   # Tweedie with a * x0 for a of shape (n,)
         V, torch_style(V, lambda c, x, t, a, s: (x - a * c.denoised(x, t)) / s)),
        ("diffusion_denoised", "denoisers-swapped", V, si_ref_denoise_x0(V)),
        ("diffusion_denoised", "sign-flip", V, negated(V, "denoised")),
        ("diffusion_denoised", "time-reversed", V, on_the_other_clock(V, "denoised")),
        ("diffusion_denoised", "alpha-beta-swapped", V, swapped_level(V, "denoised")),
        ("diffusion_denoised", "t-wrong-axis", V, torch_style(V, lambda c, x, t, a, s: (x - s * c.epsilon(x, t)) / a)),
        ("diffusion_v", "v-sign", V, v_other_sign(V)),
        ("diffusion_v", "time-reversed", V, on_the_other_clock(V, "v")),
        ("diffusion_v", "alpha-beta-swapped", V, swapped_level(V, "v")),
        ("diffusion_v", "t-wrong-axis", V,
         torch_style(V, lambda c, x, t, a, s: a * c.epsilon(x, t) - s * c.denoised(x, t))),
        ("diffusion_score", "sign-flip", V, negated(V, "score")),
        ("diffusion_score", "score-scaling", V, score_without_sigma(V)),
        ("diffusion_score", "time-reversed", V, on_the_other_clock(V, "score")),
        ("diffusion_score", "alpha-beta-swapped", V, swapped_level(V, "score")),
        ("diffusion_score", "t-wrong-axis", V, torch_style(V, lambda c, x, t, a, s: -c.epsilon(x, t) / s)),
        ("diffusion_score", "additive-guard", V, guarded_score(V)),
        ("diffusion_flow_velocity", "sign-flip", R, flow_other_convention(R)),
        ("diffusion_flow_velocity", "time-reversed", R3, si_ref_velocity_at_tau(R3)),
        ("diffusion_flow_velocity", "factor-two", V, pf_ode_with_full_g2(V)),
        ("diffusion_flow_velocity", "alpha-beta-swapped", VE, flow_swapped_means(VE)),   # on RF ȧ = −σ̇: = −u
        ("diffusion_flow_velocity", "t-wrong-axis", R3, torch_style(
            R3, lambda c, x, t, a, s: c.path.a_dot(t) * c.denoised(x, t) + c.path.sigma_dot(t) * c.epsilon(x, t))),
        ("diffusion_reverse_sde_drift", "score-term-sign", V, reverse_drift(V, -1.0, 1.0)),
        ("diffusion_reverse_sde_drift", "score-term-missing", V, reverse_drift(V, 1.0, 0.5)),
        ("diffusion_reverse_sde_drift", "sign-flip", V, negated(V, "reverse_sde_drift")),
        ("diffusion_reverse_sde_drift", "time-reversed", V, on_the_other_clock(V, "reverse_sde_drift")),
        ("diffusion_reverse_sde_drift", "t-wrong-axis", V, torch_style(
            V, lambda c, x, t, a, s: c.path.drift_coefficient(t) * x - c.path.diffusion_squared(t) * c.score(x, t))),
    ]
    methods = {"diffusion_epsilon": "epsilon", "diffusion_denoised": "denoised", "diffusion_v": "v",
               "diffusion_score": "score", "diffusion_flow_velocity": "flow_velocity",
               "diffusion_reverse_sde_drift": "reverse_sde_drift"}
    rows += [(name, "constant-factor", V, scaled(V, method)) for name, method in methods.items()]
    return rows


# conversions and targets: convert(prediction, x, a, sigma), f(x_data, noise, a, sigma) -------------------------

def per_row(fn):
    """Levels as columns (what correct torch code does with pad/[:, None])."""
    return lambda p, x, a, s: fn(p, x, col(a) if np.ndim(a) else a, col(s) if np.ndim(s) else s)


def unpadded(fn):
    """Levels of shape (n,) multiplied straight into (n, d) arrays."""
    return lambda p, x, a, s: fn(p, x, np.asarray(a), np.asarray(s))


def eps_to_v(sign_eps=1.0, vp=False, squares=False, v_sign=1.0):
    def convert(p, x, a, s):
        eps = sign_eps * p
        x0 = (x - s * eps) / a
        if vp:
            return (p - s * x) / a
        if squares:                       # get_velocity with alphas_cumprod for their roots
            return a**2 * eps - s**2 * x0
        return v_sign * (a * eps - s * x0)
    return per_row(convert)


def sample_to_v(vp=False, squares=False, v_sign=1.0):
    def convert(p, x, a, s):
        eps = (x - a * p) / s
        if vp:
            return (a * x - p) / s
        if squares:
            return a**2 * eps - s**2 * p
        return v_sign * (a * eps - s * p)
    return per_row(convert)


def conversion_mistakes():
    """(quantity, mistake, reference, the user's conversion)."""
    c = {
        "convert_epsilon_to_sample": [
            ("noise-sign", lambda p, x, a, s: (x + s * p) / a),
            ("sign-flip", lambda p, x, a, s: (s * p - x) / a),
            ("alpha-bar-for-a", lambda p, x, a, s: (x - (s**2) ** 0.5 * p) / a**2),   # alpha_prod for its root
            ("variance-for-std", lambda p, x, a, s: (x - s**2 * p) / a),
            ("alpha-beta-swapped", lambda p, x, a, s: (x - a * p) / s),
            ("additive-guard", lambda p, x, a, s: (x - s * p) / (a + 1e-3)),
        ],
        "convert_sample_to_epsilon": [
            ("noise-sign", lambda p, x, a, s: (a * p - x) / s),
            ("alpha-bar-for-a", lambda p, x, a, s: (x - a**2 * p) / s),
            ("variance-for-std", lambda p, x, a, s: (x - a * p) / s**2),
            ("alpha-beta-swapped", lambda p, x, a, s: (x - s * p) / a),
            ("additive-guard", lambda p, x, a, s: (x - a * p) / (s + 1e-3)),
        ],
        "convert_v_to_sample": [
            ("vp-only-formula", lambda p, x, a, s: a * x - s * p),         # DPM-Solver's VP form
            ("sign-flip", lambda p, x, a, s: (s * p - a * x) / (a**2 + s**2)),
            ("v-sign", lambda p, x, a, s: a * x + s * p),                   # PR 1421's first try
            ("alpha-bar-for-a", lambda p, x, a, s: a**2 * x - s * p),
            ("alpha-beta-swapped", lambda p, x, a, s: (s * x - a * p) / (a**2 + s**2)),
        ],
        "convert_v_to_epsilon": [
            ("vp-only-formula", lambda p, x, a, s: a * p + s * x),
            ("sign-flip", lambda p, x, a, s: -(s * x + a * p) / (a**2 + s**2)),
            ("v-sign", lambda p, x, a, s: (s * x - a * p) / (a**2 + s**2)),
            ("alpha-bar-for-a", lambda p, x, a, s: a**2 * p + s**2 * x),    # alpha_prod * v + beta_prod * x
            ("alpha-beta-swapped", lambda p, x, a, s: (a * x + s * p) / (a**2 + s**2)),
        ],
        "convert_score_to_epsilon": [
            ("noise-sign", lambda p, x, a, s: s * p),
            ("score-scaling", lambda p, x, a, s: -p),
            ("variance-for-std", lambda p, x, a, s: -(s**2) * p),
            ("alpha-beta-swapped", lambda p, x, a, s: -a * p),
        ],
        "convert_epsilon_to_score": [
            ("noise-sign", lambda p, x, a, s: p / s),
            ("score-scaling", lambda p, x, a, s: -p),
            ("variance-for-std", lambda p, x, a, s: -p / s**2),
            ("alpha-beta-swapped", lambda p, x, a, s: -p / a),
            ("additive-guard", lambda p, x, a, s: -p / (s + 1e-3)),
        ],
    }
    rows = [(name, mistake, VP, per_row(fn)) for name, forms in c.items() for mistake, fn in forms]
    rows += [
        ("convert_epsilon_to_v", "vp-only-formula", VP, eps_to_v(vp=True)),
        ("convert_epsilon_to_v", "v-sign", VP, eps_to_v(v_sign=-1.0)),
        ("convert_epsilon_to_v", "alpha-bar-for-a", VP, eps_to_v(squares=True)),
        ("convert_epsilon_to_v", "noise-sign", VP, eps_to_v(sign_eps=-1.0)),
        ("convert_sample_to_v", "vp-only-formula", VP, sample_to_v(vp=True)),
        ("convert_sample_to_v", "v-sign", VP, sample_to_v(v_sign=-1.0)),
        ("convert_sample_to_v", "alpha-bar-for-a", VP, sample_to_v(squares=True)),
    ]
    correct = {
        "convert_epsilon_to_sample": lambda p, x, a, s: (x - s * p) / a,
        "convert_sample_to_epsilon": lambda p, x, a, s: (x - a * p) / s,
        "convert_v_to_sample": lambda p, x, a, s: (a * x - s * p) / (a**2 + s**2),
        "convert_v_to_epsilon": lambda p, x, a, s: (s * x + a * p) / (a**2 + s**2),
        "convert_epsilon_to_v": lambda p, x, a, s: ((a**2 + s**2) * p - s * x) / a,
        "convert_sample_to_v": lambda p, x, a, s: (a * x - (a**2 + s**2) * p) / s,
        "convert_score_to_epsilon": lambda p, x, a, s: -s * p,
        "convert_epsilon_to_score": lambda p, x, a, s: -p / s,
    }
    rows += [(name, "t-wrong-axis", VP, unpadded(fn)) for name, fn in correct.items()]
    rows += [(name, "constant-factor", VP, per_row(lambda p, x, a, s, fn=fn: VAE_RATIO * fn(p, x, a, s)))
             for name, fn in correct.items()]
    return rows


def target_mistakes():
    def target(formula, pad=True):
        return lambda x0, z, a, s: formula(x0, z, col(a) if pad and np.ndim(a) else np.asarray(a),
                                           col(s) if pad and np.ndim(s) else np.asarray(s))
    add = lambda x0, z, a, s: a * x0 + s * z        # noqa: E731
    v = lambda x0, z, a, s: a * z - s * x0          # noqa: E731
    return [
        ("add_noise", "alpha-bar-for-a", VP, target(lambda x0, z, a, s: a**2 * x0 + s * z)),  # sqrt_alpha_prod = ᾱ
        ("add_noise", "variance-for-std", VP, target(lambda x0, z, a, s: a * x0 + s**2 * z)),
        ("add_noise", "alpha-beta-swapped", VP, target(lambda x0, z, a, s: s * x0 + a * z)),
        ("add_noise", "t-wrong-axis", VP, target(add, pad=False)),
        ("add_noise", "constant-factor", VP, target(lambda x0, z, a, s: VAE_RATIO * add(x0, z, a, s))),
        ("velocity_target", "v-sign", VP, target(lambda x0, z, a, s: s * x0 - a * z)),
        ("velocity_target", "alpha-bar-for-a", VP, target(lambda x0, z, a, s: a**2 * z - s**2 * x0)),
        ("velocity_target", "alpha-beta-swapped", VP, target(lambda x0, z, a, s: s * z - a * x0)),
        ("velocity_target", "wrong-target", VP, target(lambda x0, z, a, s: z - x0)),
        ("velocity_target", "t-wrong-axis", VP, target(v, pad=False)),
        ("velocity_target", "constant-factor", VP, target(lambda x0, z, a, s: VAE_RATIO * v(x0, z, a, s))),
    ]


# steps: written as diffusers' schedulers and k-diffusion write them ---------------------------------------------

def ddim(eps, x, alpha_bar, alpha_bar_prev, eta=0.0, noise=None, *, direction=True, variance_eta="squared",
         prev=None, roots=True):
    alpha_prod_t, alpha_prod_t_prev = alpha_bar, alpha_bar_prev if prev is None else prev
    beta_prod_t = 1 - alpha_prod_t
    variance = (1 - alpha_prod_t_prev) / beta_prod_t * (1 - alpha_prod_t / alpha_prod_t_prev)
    std_dev_t = eta * variance ** 0.5
    if not roots:   # alphas_cumprod for sqrt_alphas_cumprod throughout
        pred_original_sample = (x - beta_prod_t * eps) / alpha_prod_t
        out = alpha_prod_t_prev * pred_original_sample + (1 - alpha_prod_t_prev) * eps
        return out + std_dev_t * noise if eta > 0 else out
    pred_original_sample = (x - beta_prod_t ** 0.5 * eps) / alpha_prod_t ** 0.5
    if variance_eta == "squared":
        pred_sample_direction = (1 - alpha_prod_t_prev - std_dev_t**2) ** 0.5 * eps
    else:   # DDPM_inversion: (1 - alpha_prod_t_prev - eta * variance) ** 0.5
        pred_sample_direction = (1 - alpha_prod_t_prev - eta * variance) ** 0.5 * eps
    out = alpha_prod_t_prev ** 0.5 * pred_original_sample
    if direction:
        out = out + pred_sample_direction
    if eta > 0:
        out = out + std_dev_t * noise
    return out


def ddpm(eps, x, alpha_bar, alpha_bar_prev, noise, *, eps_sign=1.0, variance_power=0.5, prev=None, x0_root=True):
    abp = alpha_bar_prev if prev is None else prev
    alpha_t = alpha_bar / abp
    beta_t = 1 - alpha_t
    pred_original_sample = (x - (1 - alpha_bar) ** 0.5 * eps_sign * eps) / alpha_bar ** (0.5 if x0_root else 1.0)
    mean = (abp ** 0.5 * beta_t / (1 - alpha_bar)) * pred_original_sample \
        + (alpha_t ** 0.5 * (1 - abp) / (1 - alpha_bar)) * x
    variance = (1 - abp) / (1 - alpha_bar) * beta_t
    return mean + variance ** variance_power * noise


def to_d(x, sigma, denoised, sign=1.0, power=1.0):   # k-diffusion's to_d
    return sign * (x - denoised) / sigma**power


def euler(denoised, x, sigma, sigma_next, *, sign=1.0, power=1.0, nxt=None):
    nxt = sigma_next if nxt is None else nxt
    return x + to_d(x, sigma, denoised, sign, power) * (nxt - sigma)


def heun(denoiser, x, sigma, sigma_next, *, second_at_sigma=False, corrector=True, sign=1.0):
    d = to_d(x, sigma, denoiser(x, sigma), sign)
    x_2 = x + d * (sigma_next - sigma)
    if sigma_next == 0 or not corrector:
        return x_2
    d_2 = to_d(x_2, sigma_next, denoiser(x_2, sigma if second_at_sigma else sigma_next), sign)
    return x + (d + d_2) / 2 * (sigma_next - sigma)


def edm(denoiser, x, sigma, sigma_next, gamma, noise, s_noise=1.0, *, from_sigma=False, variance=False,
        corrector=True):
    sigma_hat = sigma * (gamma + 1)
    spread = sigma_hat**2 - sigma**2
    x_hat = x + (spread if variance else spread ** 0.5) * s_noise * noise
    start = sigma if from_sigma else sigma_hat
    return heun(denoiser, x_hat, start, sigma_next, corrector=corrector)


def _lambda(level, log_snr=False, swap=False):
    a, s = level[::-1] if swap else level
    with np.errstate(divide="ignore"):
        return (2.0 if log_snr else 1.0) * (np.log(a) - np.log(s)), a, s


def dpm_1s(denoised, x, level, level_next, *, log_snr=False, swap=False):
    lam, _, s = _lambda(level, log_snr, swap)
    lam_n, a_n, s_n = _lambda(level_next, log_snr, swap)
    return (s_n / s) * x - a_n * np.expm1(lam - lam_n) * denoised


def dpm_2m(denoised, denoised_prev, x, level_prev, level, level_next, *, history_swapped=False, log_snr=False,
           swap=False):
    m0, m1 = (denoised_prev, denoised) if history_swapped else (denoised, denoised_prev)
    (lam_p, _, _), (lam, _, s), (lam_n, a_n, s_n) = (_lambda(l, log_snr, swap) for l in (level_prev, level, level_next))
    h, h_0 = lam_n - lam, lam - lam_p
    r0 = h_0 / h
    D0, D1 = m0, (1.0 / r0) * (m0 - m1)
    return (s_n / s) * x - a_n * np.expm1(-h) * D0 - 0.5 * a_n * np.expm1(-h) * D1


def shift(sigma, s):
    return s * sigma / (1 + (s - 1) * sigma)


def step_mistakes():
    rows = [
        ("ddpm_step", "noise-sign", lambda e, x, ab, abp, z: ddpm(e, x, ab, abp, z, eps_sign=-1.0)),
        ("ddpm_step", "variance-for-std", lambda e, x, ab, abp, z: ddpm(e, x, ab, abp, z, variance_power=1.0)),
        ("ddpm_step", "alpha-bar-for-a", lambda e, x, ab, abp, z: ddpm(e, x, ab, abp, z, x0_root=False)),
        ("ddpm_step", "off-by-one", lambda e, x, ab, abp, z: ddpm(e, x, ab, abp, z, prev=ab)),
        ("ddpm_step", "wrong-method", lambda e, x, ab, abp, z: ddim(e, x, ab, abp)),
        ("ddim_step", "missing-eps-term", lambda e, x, ab, abp: ddim(e, x, ab, abp, direction=False)),
        ("ddim_step", "noise-sign", lambda e, x, ab, abp: ddim(-e, x, ab, abp)),
        ("ddim_step", "alpha-bar-for-a", lambda e, x, ab, abp: ddim(e, x, ab, abp, roots=False)),
        ("ddim_step", "off-by-one", lambda e, x, ab, abp: ddim(e, x, ab, abp, prev=ab)),
        ("ddim_eta_step", "eta-variance",
         lambda e, x, ab, abp, eta, z: ddim(e, x, ab, abp, eta, z, variance_eta="linear")),
        ("ddim_eta_step", "missing-eps-term",
         lambda e, x, ab, abp, eta, z: ddim(e, x, ab, abp, eta, z, direction=False)),
        ("ddim_eta_step", "wrong-method", lambda e, x, ab, abp, eta, z: ddim(e, x, ab, abp)),
        ("ddim_eta_step", "noise-sign", lambda e, x, ab, abp, eta, z: ddim(-e, x, ab, abp, eta, z)),
        ("ddim_eta_step", "alpha-bar-for-a", lambda e, x, ab, abp, eta, z: ddim(e, x, ab, abp, eta, z, roots=False)),
        ("ddim_eta_step", "off-by-one", lambda e, x, ab, abp, eta, z: ddim(e, x, ab, abp, eta, z, prev=ab)),
        ("euler_sigma_step", "sign-flip", lambda D, x, s, n: euler(D, x, s, n, sign=-1.0)),
        ("euler_sigma_step", "variance-for-std", lambda D, x, s, n: euler(D, x, s, n, power=2.0)),
        ("euler_sigma_step", "off-by-one", lambda D, x, s, n: euler(D, x, s, n, nxt=s)),
        ("heun_sigma_step", "stage-time", lambda D, x, s, n: heun(D, x, s, n, second_at_sigma=True)),
        ("heun_sigma_step", "wrong-method", lambda D, x, s, n: heun(D, x, s, n, corrector=False)),
        ("heun_sigma_step", "sign-flip", lambda D, x, s, n: heun(D, x, s, n, sign=-1.0)),
        ("edm_stochastic_step", "stage-time", lambda D, x, s, n, g, z, sn: edm(D, x, s, n, g, z, sn, from_sigma=True)),
        ("edm_stochastic_step", "variance-for-std",
         lambda D, x, s, n, g, z, sn: edm(D, x, s, n, g, z, sn, variance=True)),
        ("edm_stochastic_step", "wrong-method",
         lambda D, x, s, n, g, z, sn: edm(D, x, s, n, g, z, sn, corrector=False)),
        ("dpm_solver_pp_1s_step", "alpha-bar-for-a", lambda D, x, l, ln: dpm_1s(D, x, l, ln, log_snr=True)),
        ("dpm_solver_pp_1s_step", "alpha-beta-swapped", lambda D, x, l, ln: dpm_1s(D, x, l, ln, swap=True)),
        ("dpm_solver_pp_1s_step", "off-by-one", lambda D, x, l, ln: dpm_1s(D, x, l, l)),
        ("dpm_solver_pp_2m_step", "wrong-method", lambda D, Dp, x, lp, l, ln: dpm_1s(D, x, l, ln)),
        ("dpm_solver_pp_2m_step", "off-by-one",
         lambda D, Dp, x, lp, l, ln: dpm_2m(D, Dp, x, lp, l, ln, history_swapped=True)),
        ("dpm_solver_pp_2m_step", "alpha-bar-for-a",
         lambda D, Dp, x, lp, l, ln: dpm_2m(D, Dp, x, lp, l, ln, log_snr=True)),
        ("dpm_solver_pp_2m_step", "alpha-beta-swapped",
         lambda D, Dp, x, lp, l, ln: dpm_2m(D, Dp, x, lp, l, ln, swap=True)),
        ("flow_match_euler_step", "sign-flip", lambda u, x, s, n: x - (n - s) * u),
        ("flow_match_euler_step", "off-by-one", lambda u, x, s, n: x + (s - s) * u),
    ]
    out = [(name, mistake, VP, wrong) for name, mistake, wrong in rows]
    out += [("shift_sigma", "shift-twice", RF3, lambda sigma, s: shift(shift(sigma, s), s)),
            ("shift_sigma", "time-reversed", RF3, lambda sigma, s: 1 - shift(1 - sigma, s))]
    return out


MISTAKES = field_mistakes() + conversion_mistakes() + target_mistakes() + step_mistakes()


def test_every_mistake_of_every_diffusion_quantity_has_a_hand_written_wrong_implementation():
    catalogued = {(name, m.name) for name in DIFFUSION for m in QUANTITIES[name].mistakes}
    written = [(name, mistake) for name, mistake, _, _ in MISTAKES]
    assert len(written) == len(set(written))
    assert set(written) == catalogued


@pytest.mark.parametrize("name, mistake, case, wrong", MISTAKES, ids=[f"{n}-{m}" for n, m, _, _ in MISTAKES])
def test_each_diffusion_mistake_is_named(name, mistake, case, wrong):
    # levels of shape (n,) broadcast along the columns show only when n = d (else NumPy raises): more draws
    options = dict(FAST, max_examples=30) if mistake == "t-wrong-axis" else FAST
    report = C.check(wrong, name, case, **options)
    assert not report.passed and report.diagnosis_names[0] == mistake, str(report)


def test_the_hand_written_steps_and_conversions_pass_without_their_mistakes():
    for name, step in (("ddpm_step", ddpm), ("ddim_step", ddim), ("ddim_eta_step", ddim), ("euler_sigma_step", euler),
                       ("heun_sigma_step", heun), ("edm_stochastic_step", edm), ("dpm_solver_pp_1s_step", dpm_1s),
                       ("dpm_solver_pp_2m_step", dpm_2m)):
        report = C.check(step, name, VP, **FAST)
        assert report.passed, str(report)
    assert C.check(shift, "shift_sigma", RF3, **FAST).passed
    assert C.check(eps_to_v(), "convert_epsilon_to_v", VP, **FAST).passed
    assert C.check(sample_to_v(), "convert_sample_to_v", VP, **FAST).passed


def test_the_2m_step_is_checked_on_a_non_vp_path_and_diffusers_heun_variant_is_named():
    def heun_variant(D, Dp, x, lp, l, ln):
        lam = [np.log(a / s) for a, s in (lp, l, ln)]
        h, r0 = lam[2] - lam[1], (lam[1] - lam[0]) / (lam[2] - lam[1])
        a_n, s_n = ln
        return (s_n / l[1]) * x - a_n * np.expm1(-h) * D + a_n * (np.expm1(-h) / h + 1.0) * (D - Dp) / r0
    assert C.check(DS.dpm_solver_pp_2m_step, "dpm_solver_pp_2m_step", VE, **FAST).passed
    report = C.check(heun_variant, "dpm_solver_pp_2m_step", VE, **FAST)
    assert not report.passed and report.diagnosis_names[0] == "wrong-method", str(report)
    assert "heun" in report.diagnoses[0].form


def test_the_score_conversion_is_checked_at_the_noise_end_where_a_vanishes():
    """s = −ε̂/σ needs no a: an implementation that gives up at a = 0 (x̂ = (x − σ ε̂)/a formed on the way) fails."""
    def via_x0(p, x, a, s):
        a, s = (col(v) if np.ndim(v) else v for v in (a, s))
        with np.errstate(divide="ignore", invalid="ignore"):
            x0 = (x - s * p) / a
            return -(x - a * x0) / s**2
    report = C.check(via_x0, "convert_epsilon_to_score", VP, **FAST)
    assert not report.passed and "at a = 0.0, sigma = 1.0" in report.details, str(report)


def test_a_model_on_a_vp_path_used_for_a_ve_level_is_diagnosed_vp_only_formula_on_non_vp_levels_only():
    """On a VP level (a² + σ² = 1) a x − σ v̂ is right; the checker finds the VE and EDM levels where it is not."""
    report = C.check(per_row(lambda p, x, a, s: a * x - s * p), "convert_v_to_sample", EDM, **FAST)
    assert not report.passed and report.diagnosis_names[0] == "vp-only-formula", str(report)
    assert not np.isclose(np.asarray(report.counterexample.inputs["a"]) ** 2
                          + np.asarray(report.counterexample.inputs["sigma"]) ** 2, 1.0).all()


# --- reports --------------------------------------------------------------------------------------------------

def test_a_step_report_shows_the_inputs_the_step_received():
    report = C.check(lambda e, x, ab, abp: ddim(e, x, ab, abp, direction=False), "ddim_step", VP, **FAST)
    text = str(report)
    for name in ("eps = ", "x = ", "alpha_bar = ", "alpha_bar_prev = ", "missing-eps-term"):
        assert name in text, text
    assert "DiffusionCase(data=GaussianMixture(" in text


def test_a_conversion_report_shows_the_level_and_the_prediction():
    report = C.check(per_row(lambda p, x, a, s: a * x - s * p), "convert_v_to_sample", VE, **FAST)
    text = str(report)
    assert "prediction = " in text and "a = " in text and "sigma = " in text, text


def test_diagnose_names_a_mistake_at_one_diffusion_example():
    from si_ref.checking.diffusion_quantity import DiffusionExample

    x = np.array([[0.5, -0.3], [1.0, 2.0]])
    ex = DiffusionExample(VP, None, x=x, values={"alpha_bar": 0.3, "alpha_bar_prev": 0.6})
    eps = VP.epsilon_at(x, 0.3**0.5, 0.7**0.5)
    found = C.diagnose("ddim_step", ex, ddim(eps, x, 0.3, 0.6, direction=False))
    assert found and found[0].name == "missing-eps-term"


# --- (iii) every form evaluates on drawn inputs without exceptions -------------------------------------------

@pytest.mark.parametrize("name", DIFFUSION)
def test_every_diffusion_form_evaluates_on_drawn_inputs_without_raising(name):
    """In strict mode an exception inside a form propagates: run a failing check (every form is evaluated)."""
    q = QUANTITIES[name]
    implementation = own(name)
    if q.takes_factory:
        wrong = lambda reference: (lambda built: (lambda *a: 1.5 * np.asarray(built(*a)) + 0.25))(  # noqa: E731
            implementation(reference))
    else:
        wrong = lambda *a: 1.5 * np.asarray(implementation(*a)) + 0.25   # noqa: E731
    with compare.strict_variants():
        report = C.check(wrong, name, max_examples=4, seed=5, shrink=False)
    assert not report.passed


# --- the reference of the diffusion quantities -------------------------------------------------------------

def test_a_gaussian_case_is_refused_for_a_diffusion_quantity():
    with pytest.raises(TypeError, match="must be a DiffusionCase"):
        C.check(lambda x, tau: x, "diffusion_score", references.case("gaussian-2d-linear-brownian"))


def test_a_case_without_a_shift_is_refused_for_the_shift():
    with pytest.raises(ValueError, match="does not fit 'shift_sigma'"):
        C.check(shift, "shift_sigma", DiffusionCase(VP.data, VPLinearPath()))
