"""Variance-reduced targets: the Rao-Blackwell target against generic Gaussian conditioning and the exact
fields, the reference-block posterior mean against a brute-force importance-sampling sum."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_normal

import si_ref
from si_ref import strategies as sis
from si_ref.losses import FIELD_TARGETS, Batch, regression_target, sample_batch
from si_ref.targets import conditional_target, conditional_variance_scale, reference_target
from si_ref.fitting import training_data

from reference import assert_raises_naming

TWO_SIDED = ["linear", "trig", "vp-trig", "encoder-decoder", "custom"]


def generic_conditional(name, interpolant, base, t, x, x1):
    """E[y | x, x1] from the textbook formula for the jointly Gaussian (y, x) given x1, one point at a time:
    w = (x0, z) ~ N((m0, 0), diag(S0, I)); x = A w + β x1, y = C w + D x1 (+ the chosen target's map)."""
    d = x.shape[1]
    eye, zero = np.eye(d), np.zeros((d, d))
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        s = t[i]
        a, ad = interpolant.alpha(s), interpolant.alpha_dot(s)
        b, bd = interpolant.beta(s), interpolant.beta_dot(s)
        g, gd = interpolant.gamma(s), interpolant.gamma_dot(s)
        A = np.hstack([a * eye, g * eye])
        maps = {"drift": (np.hstack([ad * eye, gd * eye]), bd), "velocity": (np.hstack([ad * eye, zero]), bd),
                "noise": (np.hstack([zero, eye]), 0.0), "score": (np.hstack([zero, -eye / g]), 0.0) if g > 0 else None,
                "denoise_x0": (np.hstack([eye, zero]), 0.0), "denoise_x1": (np.hstack([zero, zero]), 1.0)}
        C, coefficient = maps[name]
        mean_w = np.concatenate([base.mean, np.zeros(d)])
        cov_w = np.block([[base.cov, zero], [zero, eye]])
        gain = C @ cov_w @ A.T @ np.linalg.inv(A @ cov_w @ A.T)
        out[i] = C @ mean_w + coefficient * x1[i] + gain @ (x[i] - A @ mean_w - b * x1[i])
    return out


@st.composite
def setups(draw, d=2):
    interpolant = draw(sis.interpolants(families=TWO_SIDED))
    # a custom interpolant may be one-sided: its x0 is N(0, I)
    base = si_ref.Gaussian(np.zeros(d), np.eye(d)) if interpolant.kind == "one-sided" else draw(sis.gaussians(d))
    target = draw(sis.gaussian_mixtures(d, max_components=3))
    seed = draw(st.integers(0, 2**32 - 1))
    return interpolant, base, target, np.random.default_rng(seed)


def draw_points(interpolant, base, target, rng, n=6, t_min=0.02, t_max=0.98):
    batch = sample_batch(interpolant, base, target, n, rng, t_min=t_min, t_max=t_max)
    return batch, interpolant.interpolant(batch.t, batch.x0, batch.x1, batch.z)


@pytest.mark.parametrize("name", FIELD_TARGETS)
@settings(max_examples=15)
@given(setup=setups())
def test_conditional_target_equals_generic_gaussian_conditioning(name, setup):
    interpolant, base, target, rng = setup
    batch, x = draw_points(interpolant, base, target, rng)
    if name == "score" and (interpolant.gamma(batch.t) == 0).any():
        return
    expected = generic_conditional(name, interpolant, base, batch.t, x, batch.x1)
    received = conditional_target(name, interpolant, base, batch.t, x, batch.x1)
    np.testing.assert_allclose(received, expected, rtol=1e-8, atol=1e-8 * (1 + np.abs(expected).max()))




@pytest.mark.parametrize("name", FIELD_TARGETS)
@settings(max_examples=15)
@given(setup=setups())
def test_tower_property_the_target_at_the_posterior_mean_of_x1_is_the_exact_field(name, setup):
    # ȳ is affine in x1, so E[ȳ | x_t = x] = ȳ(x, E[x1 | x]); E[x1 | x] is the exact x1-denoiser
    interpolant, base, target, rng = setup
    case = si_ref.GaussianCase(interpolant, base, target)
    batch, x = draw_points(interpolant, base, target, rng)
    received = conditional_target(name, interpolant, base, batch.t, x, case.denoise_x1(x, batch.t))
    expected = getattr(case, name)(x, batch.t)
    np.testing.assert_allclose(received, expected, rtol=1e-7, atol=1e-7 * (1 + np.abs(expected).max()))


@given(setup=setups(), block=st.integers(2, 9))
def test_reference_posterior_mean_equals_a_brute_force_importance_sum(setup, block):
    interpolant, base, target, rng = setup
    batch, x = draw_points(interpolant, base, target, rng, n=11)
    received = reference_target("denoise_x1", interpolant, base, batch.t, x, batch.x1, block_size=block)
    for i in range(x.shape[0]):
        start = (i // block) * block
        bank = batch.x1[start:start + block]
        a, b, g = interpolant.alpha(batch.t[i]), interpolant.beta(batch.t[i]), interpolant.gamma(batch.t[i])
        K = a * a * base.cov + g * g * np.eye(2)
        log_w = np.array([multivariate_normal(a * base.mean + b * x1j, K).logpdf(x[i]) for x1j in bank])
        w = np.exp(log_w - log_w.max())
        expected = (w / w.sum()) @ bank
        np.testing.assert_allclose(received[i], expected, rtol=1e-7, atol=1e-7 * (1 + np.abs(expected).max()))


@given(setup=setups())
def test_a_block_of_one_is_the_conditional_target(setup):
    interpolant, base, target, rng = setup
    batch, x = draw_points(interpolant, base, target, rng)
    for name in FIELD_TARGETS:
        np.testing.assert_allclose(reference_target(name, interpolant, base, batch.t, x, batch.x1, block_size=1),
                                   conditional_target(name, interpolant, base, batch.t, x, batch.x1),
                                   rtol=1e-12, atol=1e-12)


RING = si_ref.GaussianMixture(np.full(8, 1 / 8), 3.0 * np.column_stack([np.cos(np.arange(8) * np.pi / 4),
                                                                          np.sin(np.arange(8) * np.pi / 4)]),
                              np.stack([0.05 * np.eye(2)] * 8))
RING_CASE = si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()),
                                si_ref.Gaussian(np.zeros(2), np.eye(2)), RING)


@pytest.mark.parametrize("t", [0.05, 0.5, 0.9])
def test_reference_targets_have_far_less_variance_and_the_same_mean(t):
    # measured (n = 2e4 pairs): mean squared deviation from b relative to E|b|^2, plain vs blocks of 1024:
    # t = 0.05: 125 vs 0.050; t = 0.5: 1.23 vs 0.0016; t = 0.9: 0.26 vs 0.0027 (ratio at most 0.010)
    rng = np.random.default_rng(3)
    I = RING_CASE.interpolant
    n = 20 * 1024
    batch = sample_batch(I, RING_CASE.base, RING, n, rng)
    batch = Batch(np.full(n, t), batch.x0, batch.x1, batch.z)
    x = I.interpolant(batch.t, batch.x0, batch.x1, batch.z)
    exact = RING_CASE.drift(x, t)
    plain = regression_target("drift", I, batch) - exact
    reduced = reference_target("drift", I, RING_CASE.base, batch.t, x, batch.x1, block_size=1024) - exact
    assert np.mean(np.sum(reduced**2, 1)) < 0.02 * np.mean(np.sum(plain**2, 1))
    # both are unbiased for b (the reference one up to O(1/B)): mean deviation within 4 standard errors;
    # samples of one block share its reference sample, so the standard error is over the 20 block means
    for deviation in (plain, reduced):
        block_means = deviation.reshape(20, 1024, 2).mean(axis=1)
        se = block_means.std(axis=0, ddof=1) / np.sqrt(20)
        assert (np.abs(deviation.mean(axis=0)) < 4 * se).all()


def test_training_data_with_reference_blocks_keeps_the_antithetic_inputs():
    rng = np.random.default_rng(0)
    batch = sample_batch(RING_CASE.interpolant, RING_CASE.base, RING, 50, rng)
    x_plain, t_plain, _ = training_data("drift", RING_CASE.interpolant, batch)
    x, t, y = training_data("drift", RING_CASE.interpolant, batch, reference_size=16, base=RING_CASE.base)
    np.testing.assert_array_equal(x, x_plain)
    np.testing.assert_array_equal(t, t_plain)
    half = reference_target("drift", RING_CASE.interpolant, RING_CASE.base, batch.t, x[:50], batch.x1, block_size=16)
    np.testing.assert_array_equal(y[:50], half)


def test_docstrings_hold_no_control_characters():
    import si_ref.targets as module
    for text in (module.__doc__, conditional_variance_scale.__doc__, conditional_target.__doc__, reference_target.__doc__):
        assert not any(ord(c) < 32 and c not in "\n" for c in text), text
    assert "\\alpha" in conditional_variance_scale.__doc__


def test_conditional_variance_scale_accepts_a_zero_dimensional_time():
    value = conditional_variance_scale(LINEAR, None, np.array(0.25))
    np.testing.assert_allclose(value, 0.75 ** 2 + 0.25 * 0.75, rtol=1e-15)
    assert np.asarray(value).dtype == np.float64


def test_conditional_variance_scale():
    I = si_ref.TrigInterpolant(si_ref.BrownianGamma())
    t = np.linspace(0, 1, 7)
    np.testing.assert_allclose(conditional_variance_scale(I, None, t), I.alpha(t) ** 2 + I.gamma(t) ** 2, rtol=1e-15)
    base = si_ref.Gaussian(np.zeros(2), np.diag([1.0, 3.0]))
    np.testing.assert_allclose(conditional_variance_scale(I, base, t), 2 * I.alpha(t) ** 2 + I.gamma(t) ** 2,
                               rtol=1e-15)


LINEAR = si_ref.LinearInterpolant(si_ref.BrownianGamma())
POINTS = np.zeros((2, 2))


@pytest.mark.parametrize("call, exception, fragments", [
    (lambda: conditional_target("speed", LINEAR, None, np.full(2, 0.5), POINTS, POINTS), ValueError,
     ["name must be one of", "'speed'"]),
    (lambda: conditional_target("drift", si_ref.MirrorInterpolant(si_ref.BrownianGamma()), None, np.full(2, 0.5),
                                POINTS, POINTS), ValueError, ["mirror", "x0 = x1"]),
    (lambda: conditional_target("drift", LINEAR, RING, np.full(2, 0.5), POINTS, POINTS), TypeError,
     ["base must be a si_ref.Gaussian", "GaussianMixture"]),
    (lambda: conditional_target("drift", LINEAR, None, np.array([0.5, 1.0]), POINTS, POINTS), ValueError,
     ["singular", "t = [1.0]", "t_max < 1"]),
    (lambda: conditional_target("drift", LINEAR, None, np.full(3, 0.5), POINTS, POINTS), ValueError,
     ["must share n", "t (3,)"]),
    (lambda: reference_target("drift", LINEAR, None, np.full(2, 0.5), POINTS, POINTS, block_size=0), ValueError,
     ["block_size must be a positive integer", "0"]),
    (lambda: conditional_variance_scale(LINEAR, RING, 0.5), TypeError, ["base must be a si_ref.Gaussian"]),
    (lambda: conditional_variance_scale(LINEAR, None, "0.5"), TypeError, ["t must be real numbers in [0, 1]", "'0.5'"]),
    (lambda: conditional_variance_scale(LINEAR, None, True), TypeError, ["t must be real numbers in [0, 1]", "True"]),
    (lambda: conditional_variance_scale(LINEAR, None, 1.5), ValueError, ["t must lie in the closed interval [0, 1]", "1.5"]),
    (lambda: conditional_target("drift", LINEAR, None, np.array(["a", "b"]), POINTS, POINTS), TypeError,
     ["t must be real numbers"]),
], ids=["unknown-name", "mirror", "mixture-base", "singular-at-one", "n-differs", "block-size-zero",
        "scale-mixture-base", "scale-t-string", "scale-t-bool", "scale-t-outside", "target-t-strings"])
def test_bad_target_input_raises_a_clear_message(call, exception, fragments):
    assert_raises_naming(call, exception, fragments)
