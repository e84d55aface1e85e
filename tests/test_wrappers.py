"""Every wrapper of the conversion graph, fed exact fields, reproduces the exact target field."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import si_ref
from si_ref import strategies as sis
from si_ref import wrappers as W

from reference import central_difference, divergence, assert_raises_naming

seeds = st.integers(0, 2**32 - 1)
dims = st.integers(1, 4)
RTOL = 1e-10


def points_of(case, t, n, seed):
    """Typical points of ρ_t: draws of the interpolant (independent endpoints suffice here)."""
    rng = np.random.default_rng(seed)
    I = case.interpolant
    x1 = case.target.sample(n, rng)
    x0 = x1 if I.kind == "mirror" else case.base.sample(n, rng)
    return I.interpolant(t, x0, x1, rng.standard_normal((n, case.dim)))


def assert_field_close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=RTOL * max(1.0, np.max(np.abs(expected))))


# --- the seed's three wrappers -------------------------------------------------------------------

@given(sis.gaussian_cases(dims), sis.times(exclude_min=True, exclude_max=True), seeds)
def test_score_from_noise_reproduces_the_exact_score(case, t, seed):
    assume(case.interpolant.gamma(t) > 1e-3)
    x = points_of(case, t, 4, seed)
    wrapper = W.ScoreFromNoise(case.noise, case.interpolant.gamma_schedule)
    assert_field_close(wrapper(x, t), case.score(x, t))


@given(sis.gaussian_cases(dims), sis.times(), seeds)
def test_drift_from_velocity_score_reproduces_the_exact_drift_on_the_closed_interval(case, t, seed):
    x = points_of(case, t, 4, seed)
    wrapper = W.DriftFromVelocityScore(case.velocity, case.score, case.interpolant.gamma_schedule)
    assert_field_close(wrapper(x, t), case.drift(x, t))


@given(sis.gaussian_cases(dims, families="mirror"), sis.times(), seeds)
def test_mirror_velocity_from_score_reproduces_the_exact_mirror_drift(case, t, seed):
    x = points_of(case, t, 4, seed)
    wrapper = W.MirrorVelocityFromScore(case.score, case.interpolant.gamma_schedule)
    assert_field_close(wrapper(x, t), case.drift(x, t))


# --- the rest of the graph -------------------------------------------------------------------------

@given(sis.gaussian_cases(dims), sis.times(), seeds)
def test_noise_velocity_and_sde_drift_wrappers_reproduce_the_exact_fields(case, t, seed):
    x = points_of(case, t, 4, seed)
    schedule = case.interpolant.gamma_schedule
    assert_field_close(W.NoiseFromScore(case.score, schedule)(x, t), case.noise(x, t))
    assert_field_close(W.VelocityFromDriftScore(case.drift, case.score, schedule)(x, t), case.velocity(x, t))
    assert_field_close(W.VelocityFromDenoisers(case.denoise_x0, case.denoise_x1, case.interpolant)(x, t), case.velocity(x, t))
    eps_of_t = lambda s: 0.5 + np.asarray(s)  # noqa: E731  a time-dependent ε(t)
    assert_field_close(W.ForwardDriftFromDriftScore(case.drift, case.score, 0.7)(x, t), case.forward_drift(x, t, 0.7))
    assert_field_close(W.BackwardDriftFromDriftScore(case.drift, case.score, eps_of_t)(x, t), case.backward_drift(x, t, eps_of_t))
    # general Markovian SDE with g² = 2ε is the forward SDE
    assert_field_close(W.SDEDriftFromDriftScore(case.drift, case.score, 1.4)(x, t), case.forward_drift(x, t, 0.7))


@given(sis.gaussian_cases(dims), sis.times(exclude_min=True, exclude_max=True), seeds)
def test_wrappers_through_gamma_dot_or_one_over_gamma_reproduce_the_exact_fields_inside(case, t, seed):
    x = points_of(case, t, 4, seed)
    I = case.interpolant
    assert_field_close(W.DriftFromVelocityNoise(case.velocity, case.noise, I.gamma_schedule)(x, t), case.drift(x, t))
    assert_field_close(W.DriftFromDenoisers(case.denoise_x0, case.denoise_x1, case.noise, I)(x, t), case.drift(x, t))
    if I.gamma(t) > 1e-2:  # s = −(x − αx̂0 − βx̂1)/γ² amplifies rounding by 1/γ²
        np.testing.assert_allclose(W.ScoreFromDenoisers(case.denoise_x0, case.denoise_x1, I)(x, t), case.score(x, t),
                                   rtol=1e-8, atol=1e-8 * max(1.0, np.max(np.abs(case.score(x, t)))))


@given(sis.gaussian_cases(dims, cross_cov=False,
                          families=["linear", "trig", "vp-trig", "encoder-decoder", "one-sided-linear", "one-sided-trig", "custom"]),
       sis.times(), seeds)
def test_tweedie_denoisers_from_the_score_with_a_gaussian_base(case, t, seed):
    assume(isinstance(case.base, si_ref.Gaussian))  # any target, mixtures included
    x = points_of(case, t, 4, seed)
    I = case.interpolant
    base = None if I.kind == "one-sided" else case.base
    assert_field_close(W.DenoiserX0FromScore(case.score, I, base)(x, t), case.denoise_x0(x, t))
    if I.beta(t) > 1e-2:
        expected = case.denoise_x1(x, t)
        np.testing.assert_allclose(W.DenoiserX1FromScore(case.score, I, base)(x, t), expected,
                                   rtol=1e-8, atol=1e-8 * max(1.0, np.max(np.abs(expected))))


@given(sis.gaussian_cases(dims, families=["one-sided-linear", "one-sided-trig"]), sis.times(), seeds)
def test_one_sided_conversions_reproduce_the_exact_score_and_drift(case, t, seed):
    x = points_of(case, t, 4, seed)
    I = case.interpolant
    if I.alpha(t) > 1e-2:
        assert_field_close(W.ScoreFromDenoiserX0OneSided(case.denoise_x0, I)(x, t), case.score(x, t))
        assert_field_close(W.ScoreFromDriftOneSided(case.drift, I)(x, t), case.score(x, t))
    if I.beta(t) > 1e-2:
        assert_field_close(W.DriftFromScoreOneSided(case.score, I)(x, t), case.drift(x, t))


@given(sis.gaussian_cases(dims, families="mirror"), sis.times(exclude_min=True, exclude_max=True), seeds)
def test_mirror_conversions_reproduce_the_exact_fields(case, t, seed):
    x = points_of(case, t, 4, seed)
    schedule = case.interpolant.gamma_schedule
    assert_field_close(W.MirrorDriftFromNoise(case.noise, schedule)(x, t), case.drift(x, t))
    assume(abs(schedule.gamma_gamma_dot(t)) > 1e-3)
    assert_field_close(W.ScoreFromMirrorDrift(case.drift, schedule)(x, t), case.score(x, t))


deterministic_cases = sis.gaussian_cases(dims, families=["one-sided-linear", "one-sided-trig"]) | dims.flatmap(
    lambda d: st.builds(si_ref.GaussianCase, st.just(si_ref.LinearInterpolant(si_ref.ZeroGamma())), sis.gaussians(d), sis.gaussians(d))
)


@given(deterministic_cases, sis.times(min_t=0.01, max_t=0.99), seeds)
def test_data_noise_and_velocity_predictions_of_deterministic_paths_convert_exactly(case, t, seed):
    x = points_of(case, t, 4, seed)
    I = case.interpolant
    x0_hat, x1_hat, v = case.denoise_x0(x, t), case.denoise_x1(x, t), case.velocity(x, t)
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-8 * max(1.0, np.max(np.abs(b))))  # noqa: E731
    close(W.DenoiserX0FromDenoiserX1(case.denoise_x1, I)(x, t), x0_hat)
    close(W.DenoiserX1FromDenoiserX0(case.denoise_x0, I)(x, t), x1_hat)
    close(W.VelocityFromDenoiserX1(case.denoise_x1, I)(x, t), v)
    close(W.VelocityFromDenoiserX0(case.denoise_x0, I)(x, t), v)
    close(W.DenoiserX0FromVelocity(case.velocity, I)(x, t), x0_hat)
    close(W.DenoiserX1FromVelocity(case.velocity, I)(x, t), x1_hat)


# --- round trips ----------------------------------------------------------------------------------

def learned(x, t):
    """A stand-in for a network: an arbitrary smooth field f(x, t) of shape (n, d)."""
    return np.sin(x + np.reshape(t, (-1, 1))) + 0.3 * x[:, ::-1]


@given(sis.gamma_schedules(families=["brownian", "scaled-brownian", "bsquared", "sine-squared", "sigmoid"]),
       sis.times(exclude_min=True, exclude_max=True), sis.points(st.integers(1, 4)))
def test_round_trips_are_identities(schedule, t, x):
    assume(schedule.gamma(t) > 1e-3)
    round_trip = W.NoiseFromScore(W.ScoreFromNoise(learned, schedule), schedule)
    np.testing.assert_allclose(round_trip(x, t), learned(x, t), rtol=1e-13, atol=1e-13)
    drift = W.DriftFromVelocityScore(learned, lambda y, s: np.cos(y), schedule)
    back = W.VelocityFromDriftScore(drift, lambda y, s: np.cos(y), schedule)
    np.testing.assert_allclose(back(x, t), learned(x, t), rtol=1e-13, atol=1e-13)


# --- the sign is proved by the continuity equation --------------------------------------------------

def continuity_residual(case, drift, x, t, h=1e-3):
    """Σ|∂_t ρ + ∇·(b ρ)| over the points, relative to Σ(|∂_t ρ| + |∇·(b ρ)|), by finite differences.

    Summed over points because a wrong drift can satisfy the equation at isolated points
    (b_seed − b = 2γγ̇ s adds 2γγ̇ Δρ, which vanishes where ρ has an inflection)."""
    rho_t = central_difference(lambda s: case.density(x, s), t, h)
    flux = divergence(lambda y: drift(y, t) * case.density(y, t)[:, None], x, h)
    return np.sum(np.abs(rho_t + flux)) / np.sum(np.abs(rho_t) + np.abs(flux))


@pytest.mark.parametrize("t", [0.2, 0.35, 0.8])  # not 1/2: there γγ̇ = 0 and both signs agree
def test_drift_from_velocity_score_satisfies_continuity_and_the_seed_sign_does_not(t):
    base = si_ref.Gaussian(np.array([-1.0, 0.5]), np.array([[1.0, 0.2], [0.2, 0.6]]))
    target = si_ref.GaussianMixture(np.array([0.4, 0.6]), np.array([[2.0, 1.0], [1.0, -2.0]]),
                                    np.stack([0.3 * np.eye(2), np.array([[0.5, -0.1], [-0.1, 0.4]])]))
    case = si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()), base, target)
    x = points_of(case, t, 5, 1)
    schedule = case.interpolant.gamma_schedule
    right = W.DriftFromVelocityScore(case.velocity, case.score, schedule)
    seed_sign = lambda y, s: case.velocity(y, s) + schedule.gamma_gamma_dot(s) * case.score(y, s)  # noqa: E731
    assert continuity_residual(case, right, x, t) < 1e-7
    assert continuity_residual(case, seed_sign, x, t) > 1e-2


def test_mirror_sign_satisfies_continuity_and_the_seed_sign_does_not():
    target = si_ref.GaussianMixture(np.array([0.5, 0.5]), np.array([[1.5, 0.0], [-1.5, 0.5]]), np.stack([0.2 * np.eye(2)] * 2))
    case = si_ref.GaussianCase(si_ref.MirrorInterpolant(si_ref.BrownianGamma()), None, target)
    t = 0.3
    x = points_of(case, t, 5, 2)
    right = W.MirrorVelocityFromScore(case.score, case.interpolant.gamma_schedule)
    seed_sign = lambda y, s: case.interpolant.gamma_gamma_dot(s) * case.score(y, s)  # noqa: E731
    assert continuity_residual(case, right, x, t) < 1e-7
    assert continuity_residual(case, seed_sign, x, t) > 1e-2


# --- γ = 0 and the documented eps clamp ---------------------------------------------------------------

X = np.array([[0.5, -1.0], [1.0, 2.0], [0.0, 0.3]])


@pytest.mark.parametrize("t", [0.0, 1.0, np.array([0.5, 1.0, 0.2])], ids=["t=0", "t=1", "t-array"])
def test_score_from_noise_refuses_gamma_zero_without_eps(t):
    with pytest.raises(ValueError, match=r"gamma is zero at t = \[(0\.0|1\.0)\].*Pass min_divisor"):
        W.ScoreFromNoise(learned, si_ref.BrownianGamma())(X, t)


def test_eps_clamps_gamma_from_below_exactly_as_documented():
    schedule, eps = si_ref.BrownianGamma(), 1e-3
    t = np.array([0.0, 0.5, 1.0 - 1e-9])
    clamped = np.maximum(schedule.gamma(t), eps)
    expected = -learned(X, t) / clamped[:, None]
    result = W.ScoreFromNoise(learned, schedule, eps=eps)(X, t)
    assert np.isfinite(result).all()
    np.testing.assert_array_equal(result, expected)
    np.testing.assert_array_equal(result[1], -learned(X, t)[1] / 0.5)  # untouched where γ > eps


def test_wrappers_multiplying_by_an_infinite_gamma_dot_refuse_the_endpoints():
    schedule = si_ref.BrownianGamma()
    with pytest.raises(ValueError, match=r"gamma_dot is infinite at t = \[0\.0\].*DriftFromVelocityScore"):
        W.DriftFromVelocityNoise(learned, learned, schedule)(X, 0.0)
    with pytest.raises(ValueError, match=r"gamma_dot is infinite at t = \[1\.0\]"):
        W.MirrorDriftFromNoise(learned, schedule)(X, 1.0)
    # the form through γγ̇ is finite there
    assert np.isfinite(W.DriftFromVelocityScore(learned, learned, schedule)(X, 0.0)).all()


# --- conditioning ---------------------------------------------------------------------------------------

class Recorder:
    """A field that records how it was called."""

    def __init__(self, accepts_c=True):
        self.calls = []
        self.accepts_c = accepts_c

    def __call__(self, x, t, *args):
        if args and not self.accepts_c:
            raise TypeError("this field takes no conditioning")
        self.calls.append(args)
        return np.ones_like(x)


ONE_SIDED = si_ref.OneSidedLinearInterpolant()
TWO_SIDED = si_ref.LinearInterpolant(si_ref.BrownianGamma())
MIRROR_GAMMA = si_ref.SineSquaredGamma()
WRAPPER_BUILDERS = {
    "ScoreFromNoise": lambda f: W.ScoreFromNoise(f[0], si_ref.BrownianGamma()),
    "DriftFromVelocityScore": lambda f: W.DriftFromVelocityScore(f[0], f[1], si_ref.BrownianGamma()),
    "MirrorVelocityFromScore": lambda f: W.MirrorVelocityFromScore(f[0], MIRROR_GAMMA),
    "NoiseFromScore": lambda f: W.NoiseFromScore(f[0], si_ref.BrownianGamma()),
    "ScoreFromDenoisers": lambda f: W.ScoreFromDenoisers(f[0], f[1], TWO_SIDED),
    "DenoiserX0FromScore": lambda f: W.DenoiserX0FromScore(f[0], ONE_SIDED),
    "DenoiserX1FromScore": lambda f: W.DenoiserX1FromScore(f[0], ONE_SIDED),
    "VelocityFromDenoisers": lambda f: W.VelocityFromDenoisers(f[0], f[1], TWO_SIDED),
    "DriftFromDenoisers": lambda f: W.DriftFromDenoisers(f[0], f[1], f[2], TWO_SIDED),
    "DriftFromVelocityNoise": lambda f: W.DriftFromVelocityNoise(f[0], f[1], si_ref.BrownianGamma()),
    "VelocityFromDriftScore": lambda f: W.VelocityFromDriftScore(f[0], f[1], si_ref.BrownianGamma()),
    "ForwardDriftFromDriftScore": lambda f: W.ForwardDriftFromDriftScore(f[0], f[1], 0.5),
    "BackwardDriftFromDriftScore": lambda f: W.BackwardDriftFromDriftScore(f[0], f[1], lambda t: t),
    "SDEDriftFromDriftScore": lambda f: W.SDEDriftFromDriftScore(f[0], f[1], 1.0),
    "ScoreFromDenoiserX0OneSided": lambda f: W.ScoreFromDenoiserX0OneSided(f[0], ONE_SIDED),
    "ScoreFromDriftOneSided": lambda f: W.ScoreFromDriftOneSided(f[0], ONE_SIDED),
    "DriftFromScoreOneSided": lambda f: W.DriftFromScoreOneSided(f[0], ONE_SIDED),
    "MirrorDriftFromNoise": lambda f: W.MirrorDriftFromNoise(f[0], MIRROR_GAMMA),
    "ScoreFromMirrorDrift": lambda f: W.ScoreFromMirrorDrift(f[0], si_ref.BrownianGamma()),
    "DenoiserX0FromDenoiserX1": lambda f: W.DenoiserX0FromDenoiserX1(f[0], ONE_SIDED),
    "DenoiserX1FromDenoiserX0": lambda f: W.DenoiserX1FromDenoiserX0(f[0], ONE_SIDED),
    "VelocityFromDenoiserX0": lambda f: W.VelocityFromDenoiserX0(f[0], ONE_SIDED),
    "VelocityFromDenoiserX1": lambda f: W.VelocityFromDenoiserX1(f[0], ONE_SIDED),
    "DenoiserX0FromVelocity": lambda f: W.DenoiserX0FromVelocity(f[0], ONE_SIDED),
    "DenoiserX1FromVelocity": lambda f: W.DenoiserX1FromVelocity(f[0], ONE_SIDED),
}


def test_every_exported_wrapper_is_in_the_conditioning_table():
    exported = {name for name in W.__all__ if name != "Wrapper"}
    assert exported == set(WRAPPER_BUILDERS)


@pytest.mark.parametrize("name", sorted(WRAPPER_BUILDERS))
def test_conditioning_reaches_every_wrapped_field_and_is_not_passed_when_absent(name):
    recorders = [Recorder(), Recorder(), Recorder()]
    wrapper = WRAPPER_BUILDERS[name](recorders)
    t = np.array([0.3, 0.4, 0.6])
    label = {"class": 3}
    wrapper(X, t, c=label)
    used = [r for r in recorders if r.calls]
    assert used, "no wrapped field was called"
    assert all(call == (label,) for r in used for call in r.calls)
    strict = [Recorder(accepts_c=False) for _ in range(3)]
    out = WRAPPER_BUILDERS[name](strict)(X, t)  # fields without a conditioning argument still work
    assert out.shape == X.shape and out.dtype == np.float64
    assert all(call == () for r in strict for call in r.calls)


# --- shapes and bad input -----------------------------------------------------------------------------

@given(st.integers(1, 5), seeds)
def test_row_i_uses_time_i_even_when_n_equals_d(n, seed):
    x = np.random.default_rng(seed).standard_normal((n, n))
    t = np.linspace(0.11, 0.87, n)  # avoids t = 1/2, where ScoreFromMirrorDrift is undefined
    for name, build in WRAPPER_BUILDERS.items():
        wrapper = build([learned, learned, learned])
        together = wrapper(x, t)
        one_by_one = np.vstack([wrapper(x[i:i + 1], t[i]) for i in range(n)])
        np.testing.assert_allclose(together, one_by_one, rtol=1e-14, atol=1e-14, err_msg=name)


BAD = [
    ("field-not-callable", lambda: W.ScoreFromNoise("eta", si_ref.BrownianGamma()), TypeError, ["eta must be a field"]),
    ("schedule-wrong-type", lambda: W.NoiseFromScore(learned, TWO_SIDED), TypeError, ["gamma_schedule must be a GammaSchedule", "LinearInterpolant"]),
    ("interpolant-wrong-type", lambda: W.VelocityFromDenoisers(learned, learned, si_ref.BrownianGamma()), TypeError,
     ["interpolant must be an Interpolant", "BrownianGamma"]),
    ("eps-zero", lambda: W.ScoreFromNoise(learned, si_ref.BrownianGamma(), eps=0.0), ValueError, ["eps must be positive", "eps=0.0"]),
    ("sde-eps-negative", lambda: W.ForwardDriftFromDriftScore(learned, learned, -0.1), ValueError, ["eps must be finite and non-negative", "-0.1"]),
    ("sde-eps-callable-negative", lambda: W.BackwardDriftFromDriftScore(learned, learned, lambda t: -t)(X, 0.5), ValueError,
     ["eps must be finite and non-negative", "-0.5"]),
    ("wrapped-field-wrong-shape", lambda: W.NoiseFromScore(lambda x, t: x[:, :1], si_ref.BrownianGamma())(X, 0.5), ValueError,
     ["the wrapped score must return shape (n, d) = (3, 2)", "(3, 1)"]),
    ("affine-path-with-noise", lambda: W.DenoiserX0FromVelocity(learned, TWO_SIDED), ValueError,
     ["deterministic paths", "gamma = 0", "BrownianGamma"]),
    ("one-sided-with-two-sided", lambda: W.ScoreFromDriftOneSided(learned, TWO_SIDED), ValueError,
     ["needs a one-sided interpolant", "two-sided"]),
    ("one-sided-score-at-t-1", lambda: W.ScoreFromDenoiserX0OneSided(learned, ONE_SIDED)(X, 1.0), ValueError,
     ["alpha is zero at t = [1.0]", "Pass min_divisor"]),
    ("tweedie-x1-at-t-0", lambda: W.DenoiserX1FromScore(learned, ONE_SIDED)(X, 0.0), ValueError, ["beta is zero at t = [0.0]", "pass min_divisor"]),
    ("tweedie-two-sided-without-base", lambda: W.DenoiserX0FromScore(learned, TWO_SIDED), ValueError, ["base is required for a two-sided interpolant"]),
    ("from-velocity-takes-no-eps", lambda: W.DenoiserX0FromVelocity(learned, ONE_SIDED, eps=0.1), TypeError, ["eps"]),
    ("wrapped-field-nan", lambda: W.NoiseFromScore(lambda x, t: np.full_like(x, np.nan), si_ref.BrownianGamma())(X, 0.5), ValueError,
     ["the wrapped score returned NaN or inf"]),
    ("mirror-score-at-half", lambda: W.ScoreFromMirrorDrift(learned, si_ref.BrownianGamma())(X, 0.5), ValueError,
     ["gamma*gamma_dot is zero at t = [0.5]"]),
    ("x-wrong-shape", lambda: W.NoiseFromScore(learned, si_ref.BrownianGamma())(np.zeros(3), 0.5), ValueError, ["x must have shape (n, d)"]),
    ("t-wrong-length", lambda: W.NoiseFromScore(learned, si_ref.BrownianGamma())(X, np.full(2, 0.5)), ValueError,
     ["t must be a scalar or have shape (n,) = (3,)"]),
    ("t-outside", lambda: W.NoiseFromScore(learned, si_ref.BrownianGamma())(X, -0.5), ValueError, ["t must lie in the closed interval [0, 1]"]),
    # issue 14: results beyond float64 are refused, not returned as inf/NaN
    ("eps-clamp-overflows", lambda: W.ScoreFromNoise(lambda x, t: np.full_like(x, 1e10), si_ref.BrownianGamma(), eps=1e-300)(X, np.array([0.5, 0.0, 0.5])),
     ValueError, ["ScoreFromNoise overflows float64 at row 1 (t = 0.0)", "larger min_divisor"]),
    ("wrapped-values-overflow", lambda: W.DriftFromVelocityScore(lambda x, t: np.full_like(x, 1.7e308), lambda x, t: np.full_like(x, -1e308),
                                                                 si_ref.BrownianGamma())(X, 0.2), ValueError,
     ["DriftFromVelocityScore overflows float64 at row 0 (t = 0.2)"]),
    ("eps-nan", lambda: W.ScoreFromNoise(learned, si_ref.BrownianGamma(), eps=np.nan), ValueError, ["eps must be finite", "nan"]),
    ("eps-string", lambda: W.ScoreFromNoise(learned, si_ref.BrownianGamma(), eps="1e-3"), TypeError, ["eps must be a real number", "'1e-3'"]),
]


@pytest.mark.parametrize("call, exception, fragments", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_wrapper_input_raises_a_message_naming_argument_and_fix(call, exception, fragments):
    assert_raises_naming(call, exception, fragments)


def test_the_divisor_clamp_is_min_divisor_and_eps_stays_the_seeds_name_for_score_from_noise():
    import warnings

    from si_ref import _checks
    t = np.array([0.0, 0.5])
    schedule = si_ref.BrownianGamma()
    with warnings.catch_warnings():
        warnings.simplefilter("error")                      # the seed's keyword never warns
        seed = W.ScoreFromNoise(learned, schedule, eps=1e-3)(X[:2], t)
    np.testing.assert_array_equal(W.ScoreFromNoise(learned, schedule, min_divisor=1e-3)(X[:2], t), seed)
    with pytest.raises(TypeError, match="both min_divisor= and eps="):
        W.ScoreFromNoise(learned, schedule, min_divisor=1e-3, eps=1e-3)
    _checks._WARNED_ALIASES.discard(("ScoreFromDenoisers", "eps"))
    with pytest.warns(DeprecationWarning, match="eps= is deprecated; use min_divisor="):
        old = W.ScoreFromDenoisers(learned, learned, TWO_SIDED, eps=1e-3)
    assert old.min_divisor == W.ScoreFromDenoisers(learned, learned, TWO_SIDED, min_divisor=1e-3).min_divisor == 1e-3
