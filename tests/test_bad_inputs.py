"""One table of bad inputs: each raises ValueError or TypeError naming the argument,
what was expected and what was received."""

import numpy as np
import pytest

import si_ref
from si_ref import samplers

from reference import assert_raises_naming

LINEAR = si_ref.LinearInterpolant(si_ref.BrownianGamma())
X = np.ones((4, 2))
RNG = np.random.default_rng(0)
G2 = si_ref.Gaussian(np.zeros(2), np.eye(2))


def custom(**overrides):
    forms = dict(
        alpha_fn=lambda t: 1 - t,
        alpha_dot_fn=lambda t: -np.ones_like(t),
        beta_fn=lambda t: t,
        beta_dot_fn=lambda t: np.ones_like(t),
    )
    forms.update(overrides)
    return lambda: si_ref.CustomInterpolant(**forms)


# (id, call, exception, fragments that must all appear in the message)
CASES = [
    # times
    ("t-above-one", lambda: si_ref.BrownianGamma().gamma(1.5), ValueError, ["t must lie in", "[0, 1]", "1.5"]),
    ("t-negative", lambda: LINEAR.alpha(np.array([0.2, -0.1])), ValueError, ["t must lie in", "-0.1"]),
    ("t-nan", lambda: si_ref.SigmoidGamma().gamma_dot(np.nan), ValueError, ["t must be finite", "nan"]),
    ("t-inf", lambda: LINEAR.interpolant(np.inf, X, X, X), ValueError, ["t must be finite", "inf"]),
    ("t-complex", lambda: si_ref.BSquaredGamma().gamma(0.5 + 0j), TypeError, ["t must be real", "complex"]),
    ("t-bool", lambda: LINEAR.beta(np.array([True])), TypeError, ["t must be real", "bool"]),
    ("t-string", lambda: LINEAR.beta("0.5"), TypeError, ["t must be real", "<U3"]),
    ("t-wrong-length", lambda: LINEAR.interpolant(np.full(3, 0.5), X, X, X), ValueError,
     ["t must be a scalar or have shape (n,) = (4,)", "received shape (3,)"]),
    ("t-column", lambda: LINEAR.interpolant(np.full((4, 1), 0.5), X, X, X), ValueError,
     ["t must be a scalar or have shape (n,)", "received shape (4, 1)"]),
    # points
    ("x0-x1-shapes-differ", lambda: LINEAR.interpolant(0.5, np.ones((4, 3)), X, X), ValueError,
     ["x0 must have the same shape as x1, (4, 2)", "received shape (4, 3)"]),
    ("z-shape-differs", lambda: LINEAR.interpolant(0.5, X, X, np.ones((3, 2))), ValueError,
     ["z must have the same shape as x1", "(3, 2)"]),
    ("x0-one-dimensional", lambda: LINEAR.interpolant(0.5, np.ones(2), X, X), ValueError,
     ["x0 must have shape (n, d)", "received shape (2,)", "x0[None, :]"]),
    ("x1-three-dimensional", lambda: LINEAR.interpolant_partial_t(0.5, X, np.ones((4, 2, 1))), ValueError,
     ["x1 must have shape (n, d)", "(4, 2, 1)"]),
    ("x0-int-dtype", lambda: LINEAR.interpolant(0.5, np.ones((4, 2), dtype=int), X, X), TypeError,
     ["x0 must be a floating-point array", "int64"]),
    ("x1-complex-dtype", lambda: LINEAR.interpolant(0.5, X, X.astype(complex), X), TypeError,
     ["x1 must be a floating-point array", "complex128"]),
    ("z-bool-dtype", lambda: LINEAR.interpolant_dot(0.5, X, X, X > 0), TypeError,
     ["z must be a floating-point array", "bool"]),
    ("x0-nan", lambda: LINEAR.interpolant(0.5, np.full((4, 2), np.nan), X, X), ValueError,
     ["x0 must contain only finite values", "NaN or inf"]),
    ("z-missing", lambda: LINEAR.interpolant(0.5, X, X), ValueError,
     ["z must be an array of shape (n, d); received None", "BrownianGamma()"]),
    ("x0-missing", lambda: LINEAR.interpolant(0.5, None, X, X), ValueError,
     ["x0 must be an array of shape (n, d); received None", "mirror"]),
    ("x1-missing", lambda: LINEAR.interpolant(0.5, X, None, X), ValueError,
     ["x1 must be an array of shape (n, d); received None"]),
    # randomness
    ("rng-legacy-random-state", lambda: LINEAR.sample(0.5, X, X, np.random.RandomState(0)), TypeError,
     ["rng must be a numpy.random.Generator", "RandomState", "default_rng"]),
    ("rng-integer-seed", lambda: LINEAR.sample_antithetic(0.5, X, X, 0), TypeError,
     ["rng must be a numpy.random.Generator", "int"]),
    # schedule parameters
    ("scale-negative", lambda: si_ref.ScaledBrownianGamma(-1.0), ValueError, ["scale must be positive", "-1.0"]),
    ("scale-zero", lambda: si_ref.ScaledBrownianGamma(0), ValueError, ["scale must be positive", "scale=0.0", "ZeroGamma"]),
    ("scale-nan", lambda: si_ref.ScaledBrownianGamma(np.nan), ValueError, ["scale must be finite", "nan"]),
    ("scale-complex", lambda: si_ref.ScaledBrownianGamma(1j), TypeError, ["scale must be a real number", "complex"]),
    ("scale-string", lambda: si_ref.ScaledBrownianGamma("2"), TypeError, ["scale must be a real number", "'2'"]),
    ("scale-bool", lambda: si_ref.ScaledBrownianGamma(True), TypeError, ["scale must be a real number", "bool"]),
    ("brownian-with-scale", lambda: si_ref.BrownianGamma(2.0), TypeError, ["argument"]),
    ("sharpness-negative", lambda: si_ref.SigmoidGamma(-1.0), ValueError, ["sharpness must lie in (0, 200]", "-1.0"]),
    ("sharpness-too-large", lambda: si_ref.SigmoidGamma(1e3), ValueError, ["sharpness must lie in (0, 200]", "1000.0"]),
    # family conditions
    ("vp-trig-gamma-reaches-one", lambda: si_ref.VPTrigInterpolant(si_ref.SineSquaredGamma()), ValueError,
     ["VPTrigInterpolant needs gamma(t) <= 1 - 1e-6", "SineSquaredGamma()", "max gamma = 1.0"]),
    ("vp-trig-gamma-above-one", lambda: si_ref.VPTrigInterpolant(si_ref.ScaledBrownianGamma(5.0)), ValueError,
     ["VPTrigInterpolant needs gamma(t) <= 1 - 1e-6", "ScaledBrownianGamma(scale=5.0)"]),
    ("encoder-decoder-zero-gamma", lambda: si_ref.EncoderDecoderInterpolant(si_ref.ZeroGamma()), ValueError,
     ["needs gamma(1/2) > 0", "ZeroGamma()", "gamma(1/2) = 0.0"]),
    ("mirror-zero-gamma", lambda: si_ref.MirrorInterpolant(si_ref.ZeroGamma()), ValueError,
     ["MirrorInterpolant needs a gamma schedule that is positive", "ZeroGamma()"]),
    ("gamma-schedule-a-string", lambda: si_ref.TrigInterpolant("brownian"), TypeError,
     ["gamma_schedule must be a GammaSchedule", "'brownian'", "str"]),
    ("one-sided-takes-no-gamma", lambda: si_ref.OneSidedLinearInterpolant(si_ref.BrownianGamma()), TypeError,
     ["argument"]),
    # custom interpolants
    ("custom-alpha-dot-wrong", custom(alpha_dot_fn=lambda t: -2 * np.ones_like(t)), ValueError,
     ["alpha_dot_fn disagrees with the derivative of alpha_fn at t = 0.1", "alpha_dot_fn gives -2.0",
      "a finite difference of alpha_fn gives -0.99999"]),
    ("custom-beta-dot-wrong-sign", custom(beta_dot_fn=lambda t: -np.ones_like(t)), ValueError,
     ["beta_dot_fn disagrees with the derivative of beta_fn", "-1.0"]),
    ("custom-alpha-boundary", custom(alpha_fn=lambda t: 0.5 * (1 - t), alpha_dot_fn=lambda t: -0.5 * np.ones_like(t)),
     ValueError, ["alpha_fn must satisfy alpha(0) = 1 and alpha(1) = 0", "received 0.5 and 0.0"]),
    ("custom-beta-boundary", custom(beta_fn=lambda t: t + 0.1), ValueError,
     ["beta_fn must satisfy beta(0) = 0 and beta(1) = 1", "0.1"]),
    ("custom-not-callable", custom(beta_fn=1.0), TypeError, ["beta_fn must be a callable", "1.0"]),
    ("custom-wrong-shape", custom(alpha_fn=lambda t: np.ones(3)), ValueError,
     ["alpha_fn must return an array of the same shape as t, (2,)", "received shape (3,)"]),
    ("custom-complex-output", custom(beta_fn=lambda t: t + 0j), TypeError, ["beta_fn must return real numbers", "complex"]),
    ("custom-nan-output", custom(beta_fn=lambda t: np.where(t > 0.5, np.nan, t)), ValueError,
     ["beta_fn must return finite values; it returned nan at t = 1.0"]),
    ("custom-inf-derivative", custom(beta_dot_fn=lambda t: np.where(t == 1.0, np.inf, 1.0)), ValueError,
     ["beta_dot_fn must return finite values; it returned inf at t = 1.0"]),
    ("custom-one-sided-with-noise", lambda: si_ref.CustomInterpolant(
        lambda t: 1 - t, lambda t: -np.ones_like(t), lambda t: t, lambda t: np.ones_like(t),
        si_ref.BrownianGamma(), one_sided=True), ValueError,
     ["a one-sided interpolant has gamma = 0", "BrownianGamma()"]),
    # issue 14 (fuzz of the public API), one row per finding; each module's table has more
    ("fuzz-sample-batch-base-not-distribution", lambda: si_ref.sample_batch(LINEAR, np.eye(2), G2, 4, RNG), TypeError,
     ["base must be a distribution with a method sample(n, rng)", "ndarray"]),
    ("fuzz-mean-square-loss-interpolant-a-schedule", lambda: si_ref.mean_square_loss("noise", lambda x, t: x, si_ref.BrownianGamma(),
                                                                                     si_ref.sample_batch(LINEAR, G2, G2, 4, RNG)), TypeError,
     ["interpolant must be an Interpolant", "BrownianGamma"]),
    ("fuzz-objective-nan-field", lambda: si_ref.objective("velocity", lambda x, t: x * np.nan, LINEAR, si_ref.sample_batch(LINEAR, G2, G2, 4, RNG)),
     ValueError, ["the field returned NaN or inf at", "4 of 4 rows"]),
    ("fuzz-runge-kutta-tableau-a-string", lambda: samplers.ExplicitRungeKutta("RK4"), TypeError,
     ["tableau must be a ButcherTableau", "'RK4'"]),
    ("fuzz-runge-kutta-b-longer-than-a", lambda: samplers.ExplicitRungeKutta(samplers.ButcherTableau("x", 2, ((),), (0.5, 0.5), (0.0, 1.0))),
     ValueError, ["1 rows of a, 2 weights b and 2 nodes c"]),
    ("fuzz-integrate-save-at-empty-list", lambda: si_ref.integrate(lambda x, t: x, si_ref.Euler(), [0.0, 1.0], X, save_at=[]), ValueError,
     ["save_at must hold at least one time"]),
    ("fuzz-integrate-rng-a-function", lambda: si_ref.integrate(lambda x, t: x, si_ref.Euler(), [0.0, 1.0], X, rng=np.random.default_rng),
     TypeError, ["rng must be a numpy.random.Generator", "function"]),
    ("fuzz-ode-likelihood-rtol-a-string", lambda: si_ref.ode_log_likelihood(lambda x, t: x, X, lambda y: np.zeros(len(y)),
                                                                            divergence=lambda y, t: np.full(len(y), 2.0), rtol="1e-8"), TypeError,
     ["rtol must be a real number", "'1e-8'"]),
    ("fuzz-flow-matrix-atol-nan", lambda: si_ref.GaussianCase(LINEAR, G2, G2).flow_matrix(0.5, 0.0, atol=np.nan), ValueError,
     ["atol must be finite", "nan"]),
    ("fuzz-integrate-reference-rtol-negative", lambda: si_ref.integrate_reference(lambda x, t: x, X, 0.0, 1.0, rtol=-1e-8), ValueError,
     ["rtol must be a finite number > 0", "-1e-08"]),
    ("fuzz-energy-distance-overflows", lambda: si_ref.energy_distance(np.array([[1e308]]), np.array([[-1e308]])), ValueError,
     ["the energy distance of x and y exceeds the float64 range"]),
    ("fuzz-mmd-unbiased-numpy-int", lambda: si_ref.mmd(X, X + 1.0, unbiased=np.int64(1)), TypeError, ["unbiased must be True or False", "1"]),
    ("fuzz-sde-likelihood-control-variate-one", lambda: si_ref.sde_log_likelihood(
        lambda x, t: x, lambda x, t: x, 1.0, X, lambda y: np.zeros(len(y)), divergence_drift=lambda y, t: np.zeros(len(y)),
        divergence_score=lambda y, t: np.zeros(len(y)), grid=[1.0, 0.0], n_paths=2, rng=RNG, control_variate=1), TypeError,
     ["control_variate must be True or False", "1"]),
    ("fuzz-gaussian-sample-beyond-memory", lambda: si_ref.Gaussian(np.zeros(1), np.eye(1)).sample(10**12, RNG), ValueError,
     ["n=1000000000000 samples of dimension 1 would need about", "of memory"]),
    ("fuzz-gaussian-cov-all-zero", lambda: si_ref.Gaussian(np.zeros(3), np.zeros((3, 3))), ValueError,
     ["cov must be positive definite", "smallest eigenvalue 0"]),
]


@pytest.mark.parametrize("call, exception, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_a_message_naming_argument_expectation_and_value(call, exception, fragments):
    assert_raises_naming(call, exception, fragments)
