"""Prediction-type conversions, schedule reparametrisation, EDM preconditioning, training targets,
and the one table of bad inputs of si_ref.diffusion (paths, case, conversions).

Oracles: the exact conditional-mean fields of DiffusionCase (checked against conditioning and
Monte Carlo in test_diffusion_case.py), the textbook formulas (Salimans & Ho 2022, App. D;
Karras et al. 2022, eq. (3) and Table 1; flow matching's x̂ = x − σ u), si_ref's GaussianCase
of ``path.interpolant()``, mpmath for EDM's coefficients and their design identities, and
the orthogonality of a conditional mean to every function of x (Monte Carlo).
"""

import itertools

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import si_ref
from si_ref.diffusion import (
    INTERPOLANT_FIELDS,
    PREDICTION_TYPES,
    CosinePath,
    DiffusionCase,
    DiffusionInterpolant,
    EDMDenoiser,
    EDMPath,
    InterpolantFieldFromPrediction,
    PredictionFromInterpolantField,
    PredictionFromPrediction,
    RectifiedFlowPath,
    ReparametrisedPrediction,
    VEPath,
    VPLinearPath,
    ZeroTerminalSNRPath,
    add_noise,
    convert_prediction,
    edm_network_target,
    edm_preconditioning,
    velocity_target,
)

from reference import assert_raises_naming

MIXTURE = si_ref.GaussianMixture(np.array([0.3, 0.7]), np.array([[-1.0, 0.5], [1.5, -0.5]]),
                                 np.stack([np.array([[0.5, 0.1], [0.1, 0.3]]), np.diag([0.2, 0.8])]))
PATHS = {
    "vp-linear": VPLinearPath(),
    "cosine": CosinePath(),
    "ve": VEPath(),
    "edm": EDMPath(),
    "rectified-flow": RectifiedFlowPath(),
    "rectified-flow-shift-3": RectifiedFlowPath(3.0),
    "zero-terminal-snr-vp": ZeroTerminalSNRPath(),
}
VARIANCE_PRESERVING = ("vp-linear", "cosine", "zero-terminal-snr-vp")
CASES = {name: DiffusionCase(MIXTURE, path) for name, path in PATHS.items()}
seeds = st.integers(0, 2**32 - 1)
#: Conversions amplify rounding by their condition number (1/a for x̂ from ε near the noise end,
#: 1/σ² for the score from x̂ near the data end): 8.6e-13 relative measured on τ ∈ [0.02, 0.98].
CONVERSION_RTOL = 1e-10


def draw_x(path, tau, n, rng):
    return path.a(tau) * MIXTURE.sample(n, rng) + path.sigma(tau) * rng.standard_normal((n, 2))


def level(path, tau):
    return dict(a=path.a(tau), sigma=path.sigma(tau), a_dot=path.a_dot(tau), sigma_dot=path.sigma_dot(tau))


def assert_close(got, expected, *, rtol=CONVERSION_RTOL, scale=(), err_msg=""):
    size = max([1.0, np.max(np.abs(expected))] + [np.max(np.abs(s)) for s in scale])
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * size, err_msg=err_msg)


def exact_model(case, kind):
    return lambda x, tau: case.prediction(kind, x, tau)


# --- every type to every other -----------------------------------------------------------------------

@given(st.sampled_from(sorted(PATHS)), st.sampled_from(PREDICTION_TYPES), st.sampled_from(PREDICTION_TYPES),
       st.floats(0.02, 0.98), seeds)
def test_converting_an_exact_prediction_gives_the_exact_target(name, source, target, tau, seed):
    path, case = PATHS[name], CASES[name]
    x = draw_x(path, tau, 4, np.random.default_rng(seed))
    p = case.prediction(source, x, tau)
    got = convert_prediction(p, x, source=source, target=target, **level(path, tau))
    assert_close(got, case.prediction(target, x, tau), scale=(x, p), err_msg=f"{source} -> {target}")
    back = convert_prediction(got, x, source=target, target=source, **level(path, tau))
    assert_close(back, p, scale=(x, got), err_msg=f"{source} -> {target} -> {source}")


@pytest.mark.parametrize("name", PATHS)
def test_every_ordered_pair_at_fixed_levels_with_per_row_levels(name):
    """All 25 ordered pairs, with a, σ, ȧ, σ̇ given per row (one τ per row)."""
    path, case = PATHS[name], CASES[name]
    tau = np.array([0.05, 0.3, 0.5, 0.7, 0.95])
    x = draw_x(path, tau[:, None], 5, np.random.default_rng(1))
    exact = {kind: case.prediction(kind, x, tau) for kind in PREDICTION_TYPES}
    for source, target in itertools.product(PREDICTION_TYPES, repeat=2):
        got = convert_prediction(exact[source], x, source=source, target=target, **level(path, tau))
        assert_close(got, exact[target], scale=(x, exact[source]), err_msg=f"{source} -> {target}")


@pytest.mark.parametrize("name", VARIANCE_PRESERVING)
def test_v_prediction_textbook_formulas_on_variance_preserving_paths(name):
    """Salimans & Ho 2022, App. D (a² + σ² = 1): x̂ = a x − σ v, ε̂ = σ x + a v."""
    path, case = PATHS[name], CASES[name]
    rng = np.random.default_rng(2)
    for tau in (0.1, 0.5, 0.9):
        a, sigma = path.a(tau), path.sigma(tau)
        x = draw_x(path, tau, 5, rng)
        v = case.v(x, tau)
        assert_close(convert_prediction(v, x, a=a, sigma=sigma, source="v_prediction", target="sample"), a * x - sigma * v,
                     rtol=1e-13, scale=(x, v))
        assert_close(convert_prediction(v, x, a=a, sigma=sigma, source="v_prediction", target="epsilon"), sigma * x + a * v,
                     rtol=1e-13, scale=(x, v))


@pytest.mark.parametrize("name", ["ve", "edm"])
def test_karras_pf_ode_from_the_denoiser(name):
    """a = 1: dx/dσ = (x − D(x; σ))/σ (Karras et al. eq. (3)), so dx/dτ = σ̇ (x − D)/σ."""
    path, case = PATHS[name], CASES[name]
    rng = np.random.default_rng(3)
    for tau in (0.05, 0.5, 0.95):
        x = draw_x(path, tau, 5, rng)
        D = case.denoised(x, tau)
        expected = path.sigma_dot(tau) * (x - D) / path.sigma(tau)
        assert_close(convert_prediction(D, x, source="sample", target="flow", **level(path, tau)), expected, rtol=1e-12)
        assert_close(case.flow_velocity(x, tau), expected, rtol=1e-12)


def test_flow_matching_velocity_and_sample():
    """Plain rectified flow, x = (1 − σ) x_data + σ ε: u = ε̂ − x̂ and x̂ = x − σ u (SD3 / diffusers' flow matching)."""
    path, case = PATHS["rectified-flow"], CASES["rectified-flow"]
    rng = np.random.default_rng(4)
    for tau in (0.1, 0.5, 0.9):
        x = draw_x(path, tau, 5, rng)
        u = case.flow_velocity(x, tau)
        assert_close(u, case.epsilon(x, tau) - case.denoised(x, tau), rtol=1e-12)
        assert_close(convert_prediction(u, x, source="flow", target="sample", **level(path, tau)), x - tau * u, rtol=1e-12)


# --- where a conversion is undefined ---------------------------------------------------------------------

X = np.array([[0.3, -0.2], [1.0, 0.5]])


@pytest.mark.parametrize("source, target, a, sigma, fragments", [
    ("epsilon", "sample", 0.0, 1.0, ["'sample' prediction is not determined by a 'epsilon'", "a = 0.0", "row 0"]),
    ("epsilon", "v_prediction", np.array([0.5, 0.0]), 1.0, ["a = 0.0", "sigma = 1.0", "row 1"]),
    ("sample", "epsilon", 1.0, 0.0, ["'epsilon' prediction is not determined by a 'sample'", "sigma = 0.0"]),
    ("sample", "score", 1.0, np.array([0.2, 0.0]), ["score is not a combination", "sigma = 0"]),
    ("score", "sample", 1.0, 0.0, ["score is not a combination", "sigma = 0"]),
], ids=["sample-from-epsilon-at-a-0", "v-from-epsilon-at-a-0-row-1", "epsilon-from-sample-at-sigma-0",
        "score-at-sigma-0-row-1", "score-source-at-sigma-0"])
def test_determinant_zero_conversions_raise_naming_the_level(source, target, a, sigma, fragments):
    assert_raises_naming(lambda: convert_prediction(X, X, a=a, sigma=sigma, source=source, target=target),
                         ValueError, fragments)


def test_epsilon_and_score_convert_at_a_zero():
    """At a = 0, x = σ ε̂: the ε- and score predictions determine each other (s = −ε̂/σ); only x̂ is lost."""
    eps = X.copy()
    np.testing.assert_allclose(convert_prediction(eps, X, a=0.0, sigma=2.0, source="epsilon", target="score"), -eps / 2.0)


def test_same_type_is_returned_unchanged_even_at_degenerate_levels():
    for kind in ("epsilon", "sample", "v_prediction"):
        np.testing.assert_array_equal(convert_prediction(X, X, a=0.0, sigma=1.0, source=kind, target=kind), X)
        np.testing.assert_array_equal(convert_prediction(X, X, a=1.0, sigma=0.0, source=kind, target=kind), X)


# --- the wrappers --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", PATHS)
def test_prediction_from_prediction_wraps_an_exact_model(name):
    path, case = PATHS[name], CASES[name]
    rng = np.random.default_rng(5)
    tau = np.array([0.1, 0.4, 0.8])
    x = draw_x(path, tau[:, None], 3, rng)
    for source, target in itertools.product(PREDICTION_TYPES, repeat=2):
        wrapped = PredictionFromPrediction(exact_model(case, source), path, source, target)
        assert_close(wrapped(x, tau), case.prediction(target, x, tau), scale=(x,), err_msg=f"{source} -> {target}")
    wrapped = PredictionFromPrediction(exact_model(case, "v_prediction"), path, "v_prediction", "flow")
    assert_close(wrapped(x, 0.5), case.flow_velocity(x, 0.5), scale=(x,), err_msg="scalar tau")


def _zeroing(model):
    """The model, after overwriting its inputs with zeros: a model that writes into x and tau."""
    def wrapped(x, level):
        out = model(x.copy(), np.copy(level))
        x[...] = 0.0
        if isinstance(level, np.ndarray):
            level[...] = 0.0
        return out
    return wrapped


def test_wrapped_models_get_copies_and_the_caller_inputs_are_not_modified():
    """A model that writes into its arguments changes neither the conversion (it used to get the
    validated x itself, then used for x̂ = (x − σ ε̂)/a) nor the caller's arrays."""
    path, case = PATHS["cosine"], CASES["cosine"]
    x, tau = np.random.default_rng(12).standard_normal((3, 2)), np.array([0.2, 0.5, 0.7])
    x_before, tau_before = x.copy(), tau.copy()
    wrappers = [
        (PredictionFromPrediction(_zeroing(exact_model(case, "epsilon")), path, "epsilon", "sample"),
         PredictionFromPrediction(exact_model(case, "epsilon"), path, "epsilon", "sample"), tau),
        (PredictionFromInterpolantField(_zeroing(case.interpolant_case().score), path, "score", "sample"),
         PredictionFromInterpolantField(case.interpolant_case().score, path, "score", "sample"), tau),
        (ReparametrisedPrediction(_zeroing(exact_model(CASES["vp-linear"], "epsilon")), PATHS["vp-linear"], path,
                                  "v_prediction"),
         ReparametrisedPrediction(exact_model(CASES["vp-linear"], "epsilon"), PATHS["vp-linear"], path,
                                  "v_prediction"), tau),
        (EDMDenoiser(_zeroing(lambda x, c: 0.5 * x)), EDMDenoiser(lambda x, c: 0.5 * x), tau + 0.1),
    ]
    for zeroing, plain, level in wrappers:
        np.testing.assert_array_equal(zeroing(x, level), plain(x, level))
        np.testing.assert_array_equal(x, x_before)
        np.testing.assert_array_equal(tau, tau_before)


def test_integer_model_outputs_are_real_numbers_converted_to_float64():
    """As for si_ref's wrapped fields: real numbers are accepted, bool and complex refused (table)."""
    x = np.ones((4, 2))
    out = PredictionFromPrediction(lambda x, tau: np.zeros(x.shape, dtype=int), VPLinearPath(), "epsilon",
                                   "sample")(x, 0.5)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, x / VPLinearPath().a(0.5))

@pytest.mark.parametrize("name", ["vp-linear", "cosine", "zero-terminal-snr-vp"])
def test_wrappers_work_at_tau_zero_where_sigma_dot_is_infinite(name):
    """σ̇(0) = inf on these paths; only the 'flow' type needs it (fixed in convert_prediction: the derivatives
    were validated, and rejected, even for conversions that do not use them)."""
    path, case = PATHS[name], CASES[name]
    x = np.random.default_rng(6).standard_normal((3, 2))
    wrapped = PredictionFromPrediction(exact_model(case, "epsilon"), path, "epsilon", "sample")
    assert_close(wrapped(x, 0.0), x, rtol=1e-15)                    # σ(0) = 0: x̂ = x
    field = InterpolantFieldFromPrediction(exact_model(case, "epsilon"), path, "epsilon", "denoise_x1")
    assert_close(field(x, 1.0), x, rtol=1e-15)
    reparametrised = ReparametrisedPrediction(exact_model(CASES["cosine"], "epsilon"), PATHS["cosine"], path, "epsilon")
    assert_close(reparametrised(x, 0.0), case.epsilon(x, 0.0), rtol=1e-15)
    with pytest.raises(ValueError, match="sigma_dot must be finite"):     # the flow needs σ̇ and σ̇ ε̂ is inf·0 there
        PredictionFromPrediction(exact_model(case, "epsilon"), path, "epsilon", "flow")(x, 0.0)


@pytest.mark.parametrize("name", PATHS)
def test_interpolant_fields_from_predictions_and_back(name):
    """Against GaussianCase(path.interpolant()) at t = 1 − τ: x̂0 = ε̂, x̂1 = x̂, s, velocity = drift = −u."""
    path, case = PATHS[name], CASES[name]
    interpolant_case = case.interpolant_case()
    assert isinstance(interpolant_case.interpolant, DiffusionInterpolant)
    rng = np.random.default_rng(7)
    for tau in (0.25, 0.9375):
        t = 1.0 - tau
        x = draw_x(path, tau, 3, rng)
        for field in INTERPOLANT_FIELDS:
            expected = getattr(interpolant_case, field)(x, t)
            for source in PREDICTION_TYPES:
                got = InterpolantFieldFromPrediction(exact_model(case, source), path, source, field)(x, t)
                assert_close(got, expected, scale=(x,), err_msg=f"{source} -> {field} at t = {t}")
            for target in PREDICTION_TYPES:
                got = PredictionFromInterpolantField(getattr(interpolant_case, field), path, field, target)(x, tau)
                assert_close(got, case.prediction(target, x, tau), scale=(x,), err_msg=f"{field} -> {target} at tau = {tau}")


# --- reparametrisation between schedules at matched log-SNR ------------------------------------------------

REPARAMETRISATION_TAUS = (0.2, 0.9)     # λ at 0.9 is below VE's and EDM's ranges for most targets


@pytest.mark.parametrize("source_name, target_name", list(itertools.product(PATHS, repeat=2)),
                         ids=[f"{s}-to-{t}" for s, t in itertools.product(PATHS, repeat=2)])
def test_reparametrised_exact_model_is_the_exact_field_of_the_target_path(source_name, target_name):
    """A model exact on the source path, used on the target path: the target's exact field wherever the target's
    log-SNR lies in the source's range, a ValueError naming the range elsewhere."""
    source, target = PATHS[source_name], PATHS[target_name]
    low, high = source.log_snr(1.0), source.log_snr(0.0)
    rng = np.random.default_rng(8)
    for tau in REPARAMETRISATION_TAUS:
        x = draw_x(target, tau, 3, rng)
        inside = low <= target.log_snr(tau) <= high
        for kind in PREDICTION_TYPES:
            wrapped = ReparametrisedPrediction(exact_model(CASES[source_name], kind), source, target, kind)
            if inside:
                assert_close(wrapped(x, tau), CASES[target_name].prediction(kind, x, tau), rtol=1e-12, scale=(x,),
                             err_msg=f"{kind} tau {tau}")
            else:
                assert_raises_naming(lambda: wrapped(x, tau), ValueError, ["log_snr must lie in this path's range"])


def test_ve_model_cannot_be_asked_below_its_sigma_min():
    """VE with σ_min = 0.01 used at EDM's σ = 80 τ = 8e-4 (λ = 14.3 > λ_VE(0) = 9.2)."""
    wrapped = ReparametrisedPrediction(exact_model(CASES["ve"], "sample"), PATHS["ve"], PATHS["edm"], "sample")
    x = np.zeros((2, 2))
    assert_raises_naming(lambda: wrapped(x, 1e-5), ValueError, ["log_snr must lie in this path's range", "[-7.82405, 9.21034]"])
    assert_close(wrapped(x, 0.5), CASES["edm"].denoised(x, 0.5), rtol=1e-12)


def test_reparametrisation_across_per_row_taus():
    source, target = PATHS["vp-linear"], PATHS["cosine"]
    tau = np.array([0.05, 0.5, 0.9])
    x = draw_x(target, tau[:, None], 3, np.random.default_rng(9))
    for kind in PREDICTION_TYPES:
        wrapped = ReparametrisedPrediction(exact_model(CASES["vp-linear"], kind), source, target, kind)
        assert_close(wrapped(x, tau), CASES["cosine"].prediction(kind, x, tau), rtol=1e-12, scale=(x,), err_msg=kind)


# --- EDM --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sigma", [0.002, 1.0, 80.0])
def test_edm_preconditioning_is_karras_table_1(sigma):
    """Table 1 with σ_data = 0.5 in 50-digit mpmath, and the design identities of App. B.6: the network
    input and training target have unit variance, c_in² (σ² + σ_d²) = 1 and
    c_out² = (1 − c_skip)² σ_d² + c_skip² σ², and c_skip minimises that c_out²."""
    c = edm_preconditioning(sigma, 0.5)
    with mp.workdps(50):
        s, sd = mp.mpf(sigma), mp.mpf("0.5")
        expected = (sd**2 / (s**2 + sd**2), s * sd / mp.sqrt(sd**2 + s**2), 1 / mp.sqrt(s**2 + sd**2), mp.log(s) / 4)
    for name, value, want in zip(c._fields, c, expected):
        np.testing.assert_allclose(value, float(want), rtol=1e-15, err_msg=name)
    sd = 0.5
    np.testing.assert_allclose(c.c_in**2 * (sigma**2 + sd**2), 1.0, rtol=1e-15)
    np.testing.assert_allclose(c.c_out**2, (1 - c.c_skip) ** 2 * sd**2 + c.c_skip**2 * sigma**2, rtol=1e-14)
    # d/dc [(1 − c)² σ_d² + c² σ²] = 0 at c = c_skip: c σ² = (1 − c) σ_d², i.e. c (σ² + σ_d²) = σ_d²
    np.testing.assert_allclose(c.c_skip * (sigma**2 + sd**2), sd**2, rtol=1e-15)


def test_edm_training_target_has_unit_variance_for_data_of_variance_sigma_data_squared():
    """Monte Carlo: y ~ N(0, σ_d² I), x = y + σ n: Var F = 1 for F = edm_network_target(y, x, σ), each σ."""
    rng = np.random.default_rng(10)
    n = 100_000
    for sigma in (0.002, 0.5, 80.0):
        y = 0.5 * rng.standard_normal((n, 2))
        target = edm_network_target(y, y + sigma * rng.standard_normal((n, 2)), sigma)
        variance = np.mean(target**2, axis=0)
        standard_error = np.std(target**2, axis=0) / np.sqrt(n)
        np.testing.assert_array_less(np.abs(variance - 1.0), 4 * standard_error)


def test_edm_denoiser_with_the_exact_network_is_the_exact_denoiser():
    """F(c_in x, c_noise) := edm_network_target(D_exact(x, σ), x, σ), decoding σ = e^{4 c_noise} and
    x = input · √(σ² + σ_d²) here; EDMDenoiser(F) must give D_exact back at VE levels (a = 1)."""
    sigma_data = 0.5
    case = DiffusionCase(MIXTURE)

    def network(x_in, c_noise):
        sigma = np.exp(4.0 * np.asarray(c_noise, dtype=float))
        x = x_in * np.reshape(np.sqrt(sigma**2 + sigma_data**2), (-1, 1))
        return edm_network_target(case.denoised_at(x, 1.0, sigma), x, sigma, sigma_data)

    denoiser = EDMDenoiser(network, sigma_data)
    rng = np.random.default_rng(11)
    for sigma in (0.002, 1.0, 80.0):
        x = MIXTURE.sample(4, rng) + sigma * rng.standard_normal((4, 2))
        assert_close(denoiser(x, sigma), case.denoised_at(x, 1.0, sigma), rtol=1e-12, scale=(x,))
    sigma = np.array([0.002, 0.3, 5.0, 80.0])
    x = MIXTURE.sample(4, rng) + sigma[:, None] * rng.standard_normal((4, 2))
    assert_close(denoiser(x, sigma), case.denoised_at(x, 1.0, sigma), rtol=1e-12, scale=(x,))


# --- training-time quantities: the fields are their conditional means -------------------------------------

def test_add_noise_and_velocity_target_have_the_exact_fields_as_conditional_means():
    """E[(Y − f(x)) h(x)] = 0 for every h exactly when f = E[Y | x]. Pairs (x_data, ε) drawn, x = add_noise(...),
    Y = velocity_target(...) with f = v_at, and Y = x_data with f = denoised_at; h over (1, x₁, x₂, tanh(x₁ x₂)).
    Per-row levels (a, σ) drawn from VP, each row its own level. The statistic has power: the swapped
    level (σ, a) in velocity_target is rejected."""
    rng = np.random.default_rng(12)
    n = 50_000
    tau = rng.uniform(0.05, 0.95, n)
    path = PATHS["vp-linear"]
    a, sigma = path.a(tau), path.sigma(tau)
    data, noise = MIXTURE.sample(n, rng), rng.standard_normal((n, 2))
    x = add_noise(data, noise, a, sigma)
    case = DiffusionCase(MIXTURE)
    tests = np.column_stack([np.ones(n), x, np.tanh(x[:, 0] * x[:, 1])])

    def z_scores(y, f):
        products = (y - f)[:, :, None] * tests[:, None, :]                  # (n, d, h)
        return products.mean(axis=0) / (products.std(axis=0) / np.sqrt(n))

    for name, y, f in (("v", velocity_target(data, noise, a, sigma), case.v_at(x, a, sigma)),
                       ("x_data", data, case.denoised_at(x, a, sigma)),
                       ("epsilon", noise, case.epsilon_at(x, a, sigma))):
        assert np.max(np.abs(z_scores(y, f))) < 4.5, name          # 12 statistics each
    wrong = velocity_target(data, noise, sigma, a)
    assert np.max(np.abs(z_scores(wrong, case.v_at(x, a, sigma)))) > 20


def test_add_noise_and_velocity_target_per_row_equal_scalar_calls():
    rng = np.random.default_rng(13)
    data, noise = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    a, sigma = np.array([1.0, 0.5, 0.0]), np.array([0.0, 0.8, 1.0])
    for function in (add_noise, velocity_target):
        rows = function(data, noise, a, sigma)
        for i in range(3):
            np.testing.assert_array_equal(rows[i:i + 1], function(data[i:i + 1], noise[i:i + 1], a[i], sigma[i]))
    np.testing.assert_array_equal(add_noise(data, noise, 1.0, 0.0), data)
    np.testing.assert_array_equal(velocity_target(data, noise, 1.0, 0.0), noise)


# --- one table of bad inputs: paths, case, conversions ----------------------------------------------------

XB = np.ones((4, 2))
VP = VPLinearPath()
CASE = DiffusionCase(MIXTURE, VP)
BARE = DiffusionCase(MIXTURE)
ZERO_MODEL = lambda x, tau: np.zeros_like(x)

# (id, call, exception, fragments that must all appear in the message)
BAD_INPUTS = [
    # paths
    ("vp-beta-min-negative", lambda: VPLinearPath(beta_min=-0.1), ValueError, ["beta_min", "-0.1"]),
    ("vp-beta-max-below-min", lambda: VPLinearPath(2.0, 1.0), ValueError, ["beta_max must be >= beta_min"]),
    ("vp-beta-max-string", lambda: VPLinearPath(beta_max="20"), TypeError, ["beta_max must be a real number"]),
    ("cosine-s-negative", lambda: CosinePath(s=-0.01), ValueError, ["s must be", "-0.01"]),
    ("ve-sigma-min-zero", lambda: VEPath(sigma_min=0.0), ValueError, ["sigma_min", "> 0"]),
    ("ve-sigma-max-below-min", lambda: VEPath(1.0, 0.5), ValueError, ["sigma_max must be > sigma_min"]),
    ("edm-sigma-max-nan", lambda: EDMPath(np.nan), ValueError, ["sigma_max must be finite"]),
    ("rf-shift-zero", lambda: RectifiedFlowPath(0.0), ValueError, ["shift", "> 0"]),
    ("rf-shift-bool", lambda: RectifiedFlowPath(True), TypeError, ["shift must be a real number"]),
    ("ztsnr-of-ve", lambda: ZeroTerminalSNRPath(VEPath()), TypeError, ["path must be a variance-preserving"]),
    ("ztsnr-of-string", lambda: ZeroTerminalSNRPath("vp"), TypeError, ["path must be a variance-preserving"]),
    ("interpolant-of-string", lambda: DiffusionInterpolant("vp"), TypeError, ["path must be a DiffusionPath", "str"]),
    ("tau-above-one", lambda: VP.a(1.5), ValueError, ["tau must lie in", "1.5"]),
    ("tau-negative-in-array", lambda: VP.sigma(np.array([0.2, -0.1])), ValueError, ["tau must lie in", "-0.1"]),
    ("tau-nan", lambda: VP.log_snr(np.nan), ValueError, ["tau must be finite", "nan"]),
    ("tau-string", lambda: VP.sigma_dot("0.5"), TypeError, ["tau must be real"]),
    ("tau-complex", lambda: VP.a_dot(0.5 + 0j), TypeError, ["tau must be real", "complex"]),
    ("log-snr-nan", lambda: VP.tau_of_log_snr(np.nan), ValueError, ["log_snr must not be NaN"]),
    ("log-snr-below-range", lambda: VP.tau_of_log_snr(-11.0), ValueError, ["log_snr must lie in", "-11.0"]),
    # case
    ("case-data-string", lambda: DiffusionCase("data"), TypeError, ["data must be a Gaussian or GaussianMixture", "str"]),
    ("case-path-string", lambda: DiffusionCase(MIXTURE, "vp"), TypeError, ["path must be a DiffusionPath", "str"]),
    ("case-a-negative", lambda: BARE.denoised_at(XB, -1.0, 1.0), ValueError, ["a must be finite numbers >= 0", "-1.0"]),
    ("case-sigma-nan", lambda: BARE.epsilon_at(XB, 1.0, np.nan), ValueError, ["sigma must be finite numbers >= 0", "nan"]),
    ("case-sigma-inf-row", lambda: BARE.score_at(XB, 1.0, np.array([1.0, np.inf, 1.0, 1.0])), ValueError,
     ["sigma must be finite", "inf"]),
    ("case-a-sigma-both-zero", lambda: BARE.v_at(XB, 0.0, 0.0), ValueError, ["a and sigma must not both be 0"]),
    ("case-a-wrong-length", lambda: BARE.denoised_at(XB, np.ones(3), 1.0), ValueError,
     ["a must be a scalar or have shape (n,) or (n, 1) with n = 4", "(3,)"]),
    ("case-sigma-two-columns", lambda: BARE.denoised_at(XB, 1.0, np.ones((4, 2))), ValueError,
     ["sigma must be a scalar or have shape (n,) or (n, 1) with n = 4", "(4, 2)"]),
    ("case-a-string", lambda: BARE.denoised_at(XB, "1", 1.0), TypeError, ["a must be real numbers", "<U1"]),
    ("case-a-bool", lambda: BARE.denoised_at(XB, True, 1.0), TypeError, ["a must be real numbers >= 0", "True"]),
    ("case-a-negative-row", lambda: BARE.denoised_at(XB, np.array([1.0, 1.0, -2.0, 1.0]), 1.0), ValueError,
     ["a must be finite numbers >= 0", "-2.0 at row 2", "a = sqrt(alpha_bar)"]),
    ("case-components-a-array", lambda: BARE.components_at(np.ones(2), 1.0), ValueError,
     ["a must be a single level", "(2,)"]),
    ("case-components-sigma-negative", lambda: BARE.components_at(1.0, -1.0), ValueError,
     ["sigma must be finite numbers >= 0", "-1.0"]),
    ("case-x-wrong-dimension", lambda: BARE.log_density_at(np.ones((4, 3)), 1.0, 1.0), ValueError,
     ["x must have d = 2 columns", "(4, 3)"]),
    ("case-x-int", lambda: CASE.score(np.ones((4, 2), dtype=int), 0.5), TypeError, ["x must be a floating-point array"]),
    ("case-tau-above-one", lambda: CASE.epsilon(XB, 1.5), ValueError, ["tau must lie in", "1.5"]),
    ("case-no-path", lambda: BARE.flow_velocity(XB, 0.5), ValueError, ["has no path", "path=VPLinearPath()"]),
    ("case-no-path-interpolant", lambda: BARE.interpolant_case(), ValueError, ["has no path"]),
    ("case-unknown-prediction", lambda: CASE.prediction("x0", XB, 0.5), ValueError,
     ["prediction_type must be one of", "'x0'"]),
    ("case-components-tau-array", lambda: CASE.components(np.array([0.2, 0.3])), ValueError,
     ["tau must be a single time", "(2,)"]),
    # conversions
    ("convert-unknown-source", lambda: convert_prediction(XB, XB, a=1.0, sigma=1.0, source="eps", target="sample"),
     ValueError, ["prediction type must be one of", "'eps'"]),
    ("convert-unknown-target", lambda: convert_prediction(XB, XB, a=1.0, sigma=1.0, source="epsilon", target="x0"),
     ValueError, ["prediction type must be one of", "'x0'"]),
    ("convert-flow-without-derivatives", lambda: convert_prediction(XB, XB, a=1.0, sigma=1.0, source="flow",
                                                                    target="sample"),
     ValueError, ["needs the path's derivatives", "a_dot and sigma_dot"]),
    ("convert-prediction-rows", lambda: convert_prediction(np.ones((3, 2)), XB, a=1.0, sigma=1.0, source="epsilon",
                                                           target="sample"),
     ValueError, ["prediction must have the shape of x, (4, 2)", "(3, 2)"]),
    ("convert-prediction-columns", lambda: convert_prediction(np.ones((4, 3)), XB, a=1.0, sigma=1.0, source="epsilon",
                                                              target="sample"),
     ValueError, ["prediction must have d = 2 columns"]),
    ("convert-a-wrong-length", lambda: convert_prediction(XB, XB, a=np.ones(3), sigma=1.0, source="epsilon",
                                                          target="sample"),
     ValueError, ["a must be a scalar or have shape (n,) or (n, 1) with n = 4", "(3,)"]),
    ("convert-sigma-nan", lambda: convert_prediction(XB, XB, a=1.0, sigma=np.nan, source="epsilon", target="sample"),
     ValueError, ["sigma must be finite"]),
    ("convert-x-nan", lambda: convert_prediction(XB, np.full((4, 2), np.nan), a=1.0, sigma=1.0, source="epsilon",
                                                 target="sample"),
     ValueError, ["x must contain only finite values"]),
    pytest.param("convert-a-negative", lambda: convert_prediction(XB, XB, a=-1.0, sigma=1.0, source="epsilon",
                                                                  target="sample"),
                 ValueError, ["a must be", "-1.0"]),
    ("wrapper-model-not-callable", lambda: PredictionFromPrediction("model", VP, "epsilon", "sample"), TypeError,
     ["model must be a callable", "str"]),
    ("wrapper-path-string", lambda: PredictionFromPrediction(ZERO_MODEL, "vp", "epsilon", "sample"), TypeError,
     ["path must be a DiffusionPath", "str"]),
    ("wrapper-unknown-source", lambda: PredictionFromPrediction(ZERO_MODEL, VP, "noise", "sample"), ValueError,
     ["source must be one of", "'noise'"]),
    ("wrapper-unknown-target", lambda: PredictionFromPrediction(ZERO_MODEL, VP, "epsilon", "velocity"), ValueError,
     ["target must be one of", "'velocity'"]),
    ("wrapper-model-wrong-shape", lambda: PredictionFromPrediction(lambda x, tau: x[:, :1], VP, "epsilon", "sample")(XB, 0.5),
     ValueError, ["model must return shape (n, d) = (4, 2)", "(4, 1)"]),
    ("wrapper-model-complex", lambda: PredictionFromPrediction(lambda x, tau: x + 0j, VP, "epsilon", "sample")(XB, 0.5),
     TypeError, ["model must return real numbers", "complex128"]),
    ("wrapper-model-bool", lambda: PredictionFromPrediction(lambda x, tau: x > 0, VP, "epsilon", "sample")(XB, 0.5),
     TypeError, ["model must return real numbers", "bool"]),
    ("from-field-output-complex", lambda: PredictionFromInterpolantField(lambda x, t: x + 0j, VP, "score", "epsilon")(XB, 0.5),
     TypeError, ["field_ must return real numbers", "complex128"]),
    ("wrapper-model-nan", lambda: PredictionFromPrediction(lambda x, tau: np.full((4, 2), np.nan), VP, "epsilon",
                                                           "sample")(XB, 0.5),
     ValueError, ["model returned NaN or inf at tau = 0.5", "row 0"]),
    ("wrapper-tau-above-one", lambda: PredictionFromPrediction(ZERO_MODEL, VP, "epsilon", "sample")(XB, 2.0), ValueError,
     ["tau must lie in", "2.0"]),
    ("field-unknown", lambda: InterpolantFieldFromPrediction(ZERO_MODEL, VP, "epsilon", "noise"), ValueError,
     ["field must be one of", "'noise'"]),
    ("field-t-negative", lambda: InterpolantFieldFromPrediction(ZERO_MODEL, VP, "epsilon", "score")(XB, -0.5), ValueError,
     ["t must lie in", "-0.5"]),
    ("from-field-not-callable", lambda: PredictionFromInterpolantField(None, VP, "score", "epsilon"), TypeError,
     ["field_ must be a callable", "NoneType"]),
    ("from-field-unknown-field", lambda: PredictionFromInterpolantField(ZERO_MODEL, VP, "x1", "epsilon"), ValueError,
     ["field must be one of", "'x1'"]),
    ("reparametrised-unknown-type", lambda: ReparametrisedPrediction(ZERO_MODEL, VP, VEPath(), "velocity"), ValueError,
     ["prediction_type must be one of", "'velocity'"]),
    ("reparametrised-target-path", lambda: ReparametrisedPrediction(ZERO_MODEL, VP, None, "epsilon"), TypeError,
     ["path must be a DiffusionPath", "NoneType"]),
    ("edm-sigma-zero", lambda: edm_preconditioning(0.0), ValueError, ["sigma must be finite numbers > 0"]),
    ("edm-sigma-negative-row", lambda: edm_preconditioning(np.array([1.0, -2.0])), ValueError,
     ["sigma must be finite numbers > 0"]),
    ("edm-sigma-data-negative", lambda: edm_preconditioning(1.0, sigma_data=-0.5), ValueError, ["sigma_data", "-0.5"]),
    ("edm-network-not-callable", lambda: EDMDenoiser(3), TypeError, ["network must be a callable", "int"]),
    ("edm-denoiser-sigma-string", lambda: EDMDenoiser(ZERO_MODEL)(XB, "2.0"), TypeError,
     ["sigma must be real numbers > 0", "'2.0'"]),
    ("edm-denoiser-sigma-wrong-length", lambda: EDMDenoiser(ZERO_MODEL)(XB, np.ones(3)), ValueError,
     ["sigma must be a scalar or have shape (n,) or (n, 1) with n = 4", "(3,)"]),
    ("edm-denoiser-sigma-zero-row", lambda: EDMDenoiser(ZERO_MODEL)(XB, np.array([1.0, 0.0, 1.0, 1.0])), ValueError,
     ["sigma must be finite numbers > 0", "0.0 at row 1", "skip the network there"]),
    ("edm-network-complex", lambda: EDMDenoiser(lambda x, c: x + 0j)(XB, 1.0), TypeError,
     ["network must return real numbers", "complex128"]),
    ("edm-network-nan", lambda: EDMDenoiser(lambda x, c: np.full_like(x, np.inf))(XB, 1.0), ValueError,
     ["network returned NaN or inf at c_noise = 0.0"]),
    ("edm-target-denoised-shape", lambda: edm_network_target(np.ones((4, 3)), XB, 1.0), ValueError,
     ["denoised must have d = 2 columns"]),
    ("edm-target-denoised-rows", lambda: edm_network_target(np.ones((1, 2)), XB, 1.0), ValueError,
     ["denoised must have the shape of x, (4, 2)", "(1, 2)"]),
    ("edm-target-sigma-bool", lambda: edm_network_target(XB, XB, True), TypeError, ["sigma must be real numbers > 0"]),
    ("add-noise-int-data", lambda: add_noise(np.ones((4, 2), dtype=int), XB, 1.0, 1.0), TypeError,
     ["x_data must be a floating-point array", "int64"]),
    ("add-noise-noise-shape", lambda: add_noise(XB, np.ones((4, 3)), 1.0, 1.0), ValueError, ["noise must have d = 2 columns"]),
    ("add-noise-noise-rows", lambda: add_noise(XB, np.ones((1, 2)), 1.0, 1.0), ValueError,
     ["noise must have the shape of x_data, (4, 2)", "(1, 2)"]),
    ("add-noise-sigma-wrong-length", lambda: add_noise(XB, XB, 1.0, np.ones(5)), ValueError,
     ["sigma must be a scalar or have shape (n,) or (n, 1) with n = 4", "(5,)"]),
    ("add-noise-a-bool", lambda: add_noise(XB, XB, True, 0.0), TypeError, ["a must be real numbers >= 0", "True"]),
    ("velocity-target-noise-rows", lambda: velocity_target(XB, np.ones((2, 2)), 1.0, 1.0), ValueError,
     ["noise must have the shape of x_data"]),
    ("convert-a-dot-bool", lambda: convert_prediction(XB, XB, a=1.0, sigma=1.0, source="flow", target="sample",
                                                      a_dot=True, sigma_dot=1.0),
     TypeError, ["a_dot must be real numbers", "True"]),
    ("velocity-target-a-inf", lambda: velocity_target(XB, XB, np.inf, 1.0), ValueError, ["a must be finite"]),
    pytest.param("add-noise-sigma-negative", lambda: add_noise(XB, XB, 1.0, -0.5), ValueError, ["sigma must be", "-0.5"]),
]


def _case_id(case):
    return case.values[0] if hasattr(case, "values") else case[0]


@pytest.mark.parametrize("name, call, exception, fragments", BAD_INPUTS, ids=[_case_id(c) for c in BAD_INPUTS])
def test_bad_input_raises_naming_the_argument(name, call, exception, fragments):
    assert_raises_naming(call, exception, fragments)


@pytest.mark.parametrize("sigma", ["2.0", True, 1.0 + 0.5j], ids=["string", "bool", "complex"])
def test_edm_preconditioning_refuses_non_real_sigma(sigma):
    with pytest.raises(TypeError, match="sigma must be real numbers"):
        edm_preconditioning(sigma)
