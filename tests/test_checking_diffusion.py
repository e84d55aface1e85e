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

FAST = dict(max_examples=6, shrink=False)
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

def _level(case, tau):
    return col(case.path.a(tau)), col(case.path.sigma(tau))


def eps_from_score(case):
    """ε̂ = +σ s: the sign of ε̂ = −σ s dropped (E[−ε | x])."""
    return lambda x, tau: _level(case, tau)[1] * case.score(x, tau)


def on_the_other_clock(case, method):
    """A model whose τ runs from the noise: evaluated at 1 − τ."""
    return lambda x, tau: getattr(case, method)(x, 1.0 - np.asarray(tau))


def swapped_level(case, method):
    """The path's a and σ exchanged: x read as σ x_data + a ε."""
    return lambda x, tau: getattr(case, method + "_at")(x, case.path.sigma(tau), case.path.a(tau))


def torch_style_eps(case):
    """Tweedie with (n,) coefficients multiplied straight into (n, d) points: a * x0 without [:, None]."""
    def eps(x, tau):
        a, sigma = case.path.a(tau), case.path.sigma(tau)
        return (x - a * case.denoised(x, tau)) / sigma
    return eps


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


FIELD_MISTAKES = [
    ("diffusion_epsilon", eps_from_score(CASE), CASE, "noise-sign"),
    ("diffusion_epsilon", on_the_other_clock(CASE, "epsilon"), CASE, "time-reversed"),
    ("diffusion_epsilon", swapped_level(CASE, "epsilon"), CASE, "alpha-beta-swapped"),
    ("diffusion_epsilon", torch_style_eps(CASE), CASE, "t-wrong-axis"),
    ("diffusion_denoised", si_ref_denoise_x0(CASE), CASE, "denoisers-swapped"),
    ("diffusion_denoised", on_the_other_clock(CASE, "denoised"), CASE, "time-reversed"),
    ("diffusion_v", v_other_sign(CASE), CASE, "sign-flip"),
    ("diffusion_v", swapped_level(CASE, "v"), CASE, "alpha-beta-swapped"),
    ("diffusion_score", score_without_sigma(CASE), CASE, "score-scaling"),
    ("diffusion_score", guarded_score(CASE), CASE, "additive-guard"),
    ("diffusion_flow_velocity", flow_other_convention(RF), RF, "sign-flip"),
    ("diffusion_flow_velocity", si_ref_velocity_at_tau(RF3), RF3, "time-reversed"),
    ("diffusion_flow_velocity", pf_ode_with_full_g2(CASE), CASE, "factor-two"),
    ("diffusion_reverse_sde_drift", reverse_drift(CASE, -1.0, 1.0), CASE, "score-term-sign"),
    ("diffusion_reverse_sde_drift", reverse_drift(CASE, 1.0, 0.5), CASE, "score-term-missing"),
]


@pytest.mark.parametrize("name, wrong, case, diagnosis", FIELD_MISTAKES,
                         ids=[f"{n}-{d}" for n, _, _, d in FIELD_MISTAKES])
def test_field_mistakes_are_named(name, wrong, case, diagnosis):
    report = C.check(wrong, name, case, **FAST)
    assert not report.passed and report.diagnosis_names[0] == diagnosis, str(report)


# conversions: convert(prediction, x, a, sigma) with a, σ floats or (n,) -----------------------------------

def per_row(fn):
    """Levels as columns (what correct torch code does with pad/[:, None])."""
    return lambda p, x, a, s: fn(p, x, col(a) if np.ndim(a) else a, col(s) if np.ndim(s) else s)


CONVERSION_MISTAKES = [
    ("convert_epsilon_to_sample", per_row(lambda p, x, a, s: (x + s * p) / a), "noise-sign"),
    ("convert_epsilon_to_sample",   # alphas_cumprod where its root belongs: alpha_prod_t for alpha_prod_t ** 0.5
     per_row(lambda p, x, a, s: (x - (s**2) ** 0.5 * p) / a**2), "alpha-bar-for-a"),
    ("convert_epsilon_to_sample", per_row(lambda p, x, a, s: (x - s * p) / (a + 1e-3)), "additive-guard"),
    ("convert_epsilon_to_sample", lambda p, x, a, s: (x - s * p) / a, "t-wrong-axis"),   # (n,) levels, no [:, None]
    ("convert_sample_to_epsilon", per_row(lambda p, x, a, s: (x - s * p) / a), "alpha-beta-swapped"),
    ("convert_v_to_sample", per_row(lambda p, x, a, s: a * x - s * p), "vp-only-formula"),       # DPM-Solver's VP form
    ("convert_v_to_sample", per_row(lambda p, x, a, s: a * x + s * p), "v-sign"),                # PR 1421's first try
    ("convert_v_to_epsilon", per_row(lambda p, x, a, s: a * p + s * x), "vp-only-formula"),
    ("convert_v_to_epsilon",   # alpha_prod_t * v + beta_prod_t * x: both roots dropped
     per_row(lambda p, x, a, s: a**2 * p + s**2 * x), "alpha-bar-for-a"),
    ("convert_epsilon_to_v", per_row(lambda p, x, a, s: (p - s * x) / a), "vp-only-formula"),
    ("convert_sample_to_v", per_row(lambda p, x, a, s: a * ((x - a * p) / s) - s * p) , None),   # correct: passes
    ("convert_score_to_epsilon", per_row(lambda p, x, a, s: -p), "score-scaling"),
    ("convert_score_to_epsilon", per_row(lambda p, x, a, s: -(s**2) * p), "variance-for-std"),
    ("convert_epsilon_to_score", per_row(lambda p, x, a, s: p / s), "noise-sign"),
    ("convert_epsilon_to_score", per_row(lambda p, x, a, s: -p / (s + 1e-3)), "additive-guard"),
]


@pytest.mark.parametrize("name, wrong, diagnosis", CONVERSION_MISTAKES,
                         ids=[f"{n}-{d}" for n, _, d in CONVERSION_MISTAKES])
def test_conversion_mistakes_are_named(name, wrong, diagnosis):
    report = C.check(wrong, name, VP, **FAST)
    if diagnosis is None:
        assert report.passed, str(report)
        return
    assert not report.passed and report.diagnosis_names[0] == diagnosis, str(report)


def add_noise_squared(x_data, noise, a, sigma):
    """diffusers' add_noise with sqrt_alpha_prod = alphas_cumprod (the ** 0.5 lost): ᾱ x + σ ε."""
    alpha_prod = col(a) ** 2
    return alpha_prod * x_data + col(sigma) * noise


def add_noise_variance(x_data, noise, a, sigma):
    return col(a) * x_data + col(sigma) ** 2 * noise


def add_noise_unpadded(x_data, noise, a, sigma):
    return np.asarray(a) * x_data + np.asarray(sigma) * noise


TARGET_MISTAKES = [
    ("add_noise", add_noise_squared, "alpha-bar-for-a"),
    ("add_noise", add_noise_variance, "variance-for-std"),
    ("add_noise", add_noise_unpadded, "t-wrong-axis"),
    ("velocity_target", lambda x0, z, a, s: col(s) * x0 - col(a) * z, "v-sign"),
    ("velocity_target", lambda x0, z, a, s: z - x0, "wrong-target"),
]


@pytest.mark.parametrize("name, wrong, diagnosis", TARGET_MISTAKES, ids=[f"{n}-{d}" for n, _, d in TARGET_MISTAKES])
def test_training_target_mistakes_are_named(name, wrong, diagnosis):
    report = C.check(wrong, name, VP, max_examples=25, shrink=False)
    assert not report.passed and report.diagnosis_names[0] == diagnosis, str(report)


# steps: written as diffusers' schedulers write them ---------------------------------------------------------

def ddim(eps, x, alpha_bar, alpha_bar_prev, eta=0.0, noise=None, *, direction=True, variance_eta="squared",
         prev=None):
    alpha_prod_t, alpha_prod_t_prev = alpha_bar, alpha_bar_prev if prev is None else prev
    beta_prod_t = 1 - alpha_prod_t
    pred_original_sample = (x - beta_prod_t ** 0.5 * eps) / alpha_prod_t ** 0.5
    variance = (1 - alpha_prod_t_prev) / beta_prod_t * (1 - alpha_prod_t / alpha_prod_t_prev)
    std_dev_t = eta * variance ** 0.5
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


def ddpm(eps, x, alpha_bar, alpha_bar_prev, noise, *, eps_sign=1.0, variance_power=0.5, prev=None):
    abp = alpha_bar_prev if prev is None else prev
    alpha_t = alpha_bar / abp
    beta_t = 1 - alpha_t
    pred_original_sample = (x - (1 - alpha_bar) ** 0.5 * eps_sign * eps) / alpha_bar ** 0.5
    mean = (abp ** 0.5 * beta_t / (1 - alpha_bar)) * pred_original_sample \
        + (alpha_t ** 0.5 * (1 - abp) / (1 - alpha_bar)) * x
    variance = (1 - abp) / (1 - alpha_bar) * beta_t
    return mean + variance ** variance_power * noise


def to_d(x, sigma, denoised):   # k-diffusion
    return (x - denoised) / sigma


def euler(denoised, x, sigma, sigma_next, *, sign=1.0, nxt=None):
    nxt = sigma_next if nxt is None else nxt
    return x + sign * to_d(x, sigma, denoised) * (nxt - sigma)


def heun(denoiser, x, sigma, sigma_next, *, second_at_sigma=False, corrector=True):
    d = to_d(x, sigma, denoiser(x, sigma))
    x_2 = x + d * (sigma_next - sigma)
    if sigma_next == 0 or not corrector:
        return x_2
    d_2 = to_d(x_2, sigma_next, denoiser(x_2, sigma if second_at_sigma else sigma_next))
    return x + (d + d_2) / 2 * (sigma_next - sigma)


def edm(denoiser, x, sigma, sigma_next, gamma, noise, s_noise=1.0, *, from_sigma=False, variance=False,
        corrector=True):
    sigma_hat = sigma * (gamma + 1)
    spread = sigma_hat**2 - sigma**2
    x_hat = x + (spread if variance else spread ** 0.5) * s_noise * noise
    start = sigma if from_sigma else sigma_hat
    return heun(denoiser, x_hat, start, sigma_next, corrector=corrector)


def dpm_1s(denoised, x, level, level_next, *, log_snr=False, swap=False):
    (a, s), (a_n, s_n) = (level[::-1], level_next[::-1]) if swap else (level, level_next)
    k = 2.0 if log_snr else 1.0
    lam, lam_n = k * np.log(a / s), k * np.log(a_n / s_n) if s_n > 0 else np.inf
    h = lam_n - lam
    return (s_n / s) * x - a_n * np.expm1(-h) * denoised


def dpm_2m(denoised, denoised_prev, x, level_prev, level, level_next, *, history_swapped=False):
    m0, m1 = (denoised_prev, denoised) if history_swapped else (denoised, denoised_prev)
    lam = [np.log(a / s) for a, s in (level_prev, level, level_next)]
    h, h_0 = lam[2] - lam[1], lam[1] - lam[0]
    r0 = h_0 / h
    D0, D1 = m0, (1.0 / r0) * (m0 - m1)
    a_n, s_n = level_next
    return (s_n / level[1]) * x - a_n * np.expm1(-h) * D0 - 0.5 * a_n * np.expm1(-h) * D1


STEP_MISTAKES = [
    ("ddpm_step", lambda e, x, ab, abp, z: ddpm(e, x, ab, abp, z, eps_sign=-1.0), "noise-sign"),
    ("ddpm_step", lambda e, x, ab, abp, z: ddpm(e, x, ab, abp, z, variance_power=1.0), "variance-for-std"),
    ("ddpm_step", lambda e, x, ab, abp, z: ddpm(e, x, ab, abp, z, prev=ab), "off-by-one"),
    ("ddpm_step", lambda e, x, ab, abp, z: ddim(e, x, ab, abp), "wrong-method"),
    ("ddim_step", lambda e, x, ab, abp: ddim(e, x, ab, abp, direction=False), "missing-eps-term"),
    ("ddim_step", lambda e, x, ab, abp: ddim(e, x, ab, abp, prev=ab), "off-by-one"),
    ("ddim_eta_step", lambda e, x, ab, abp, eta, z: ddim(e, x, ab, abp, eta, z, variance_eta="linear"),
     "eta-variance"),
    ("ddim_eta_step", lambda e, x, ab, abp, eta, z: ddim(e, x, ab, abp), "wrong-method"),
    ("ddim_eta_step", lambda e, x, ab, abp, eta, z: ddim(e, x, ab, abp, eta, z, direction=False), "missing-eps-term"),
    ("euler_sigma_step", lambda D, x, s, n: euler(D, x, s, n, sign=-1.0), "sign-flip"),
    ("euler_sigma_step", lambda D, x, s, n: euler(D, x, s, n, nxt=s), "off-by-one"),
    ("heun_sigma_step", lambda D, x, s, n: heun(D, x, s, n, second_at_sigma=True), "stage-time"),
    ("heun_sigma_step", lambda D, x, s, n: heun(D, x, s, n, corrector=False), "wrong-method"),
    ("edm_stochastic_step", lambda D, x, s, n, g, z, sn: edm(D, x, s, n, g, z, sn, from_sigma=True), "stage-time"),
    ("edm_stochastic_step", lambda D, x, s, n, g, z, sn: edm(D, x, s, n, g, z, sn, variance=True), "variance-for-std"),
    ("edm_stochastic_step", lambda D, x, s, n, g, z, sn: edm(D, x, s, n, g, z, sn, corrector=False), "wrong-method"),
    ("dpm_solver_pp_1s_step", lambda D, x, l, ln: dpm_1s(D, x, l, ln, log_snr=True), "alpha-bar-for-a"),
    ("dpm_solver_pp_1s_step", lambda D, x, l, ln: dpm_1s(D, x, l, ln, swap=True), "alpha-beta-swapped"),
    ("dpm_solver_pp_2m_step", lambda D, Dp, x, lp, l, ln: dpm_1s(D, x, l, ln), "wrong-method"),
    ("dpm_solver_pp_2m_step", lambda D, Dp, x, lp, l, ln: dpm_2m(D, Dp, x, lp, l, ln, history_swapped=True),
     "off-by-one"),
    ("flow_match_euler_step", lambda u, x, s, n: x - (n - s) * u, "sign-flip"),
    ("flow_match_euler_step", lambda u, x, s, n: x + (s - s) * u, "off-by-one"),
]


@pytest.mark.parametrize("name, wrong, diagnosis", STEP_MISTAKES, ids=[f"{n}-{d}" for n, _, d in STEP_MISTAKES])
def test_step_mistakes_are_named(name, wrong, diagnosis):
    report = C.check(wrong, name, VP, **FAST)
    assert not report.passed and report.diagnosis_names[0] == diagnosis, str(report)


def test_the_hand_written_steps_pass():
    """The user-style steps above, without their mistakes, agree with the exact formulas."""
    for name, step in (("ddpm_step", ddpm), ("ddim_step", ddim), ("ddim_eta_step", ddim), ("euler_sigma_step", euler),
                       ("heun_sigma_step", heun), ("edm_stochastic_step", edm), ("dpm_solver_pp_1s_step", dpm_1s),
                       ("dpm_solver_pp_2m_step", dpm_2m)):
        report = C.check(step, name, VP, **FAST)
        assert report.passed, str(report)


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


def shift(sigma, s):
    return s * sigma / (1 + (s - 1) * sigma)


@pytest.mark.parametrize("wrong, diagnosis", [
    (lambda sigma, s: shift(shift(sigma, s), s), "shift-twice"),
    (lambda sigma, s: 1 - shift(1 - sigma, s), "time-reversed"),
], ids=["shift-twice", "time-reversed"])
def test_shift_mistakes_are_named(wrong, diagnosis):
    report = C.check(wrong, "shift_sigma", RF3, **FAST)
    assert not report.passed and report.diagnosis_names[0] == diagnosis, str(report)
    assert C.check(shift, "shift_sigma", RF3, **FAST).passed


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
