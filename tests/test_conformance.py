"""The conformance checker: si_ref's own implementations pass; each catalogued mistake fails with its diagnosis.

The wrong implementations are written the way a user writes them (their own
formulas, or si_ref objects combined the wrong way), never by calling the
checker's candidate formulas: a time-reversed drift comes from a case built in
the reversed time direction, an α/β swap from the case with base and target
exchanged (x_t = β x0 + α x1 + γ z has the law of α x1' + β x0' + γ z), the
noise term counted twice from feeding b into DriftFromVelocityScore.
"""

from __future__ import annotations

import numpy as np
import pytest

import si_ref as S
from si_ref import conformance as C
from si_ref import references
from si_ref.diffusion import DiffusionCase
from si_ref.quantities import QUANTITIES
from si_ref.schedules import GammaSchedule

FAST = dict(max_examples=25, shrink=False)


# --- references where each mistake is distinguishable --------------------------------------------

class AsymmetricGamma(GammaSchedule):
    """γ = (27/4) t (1 − t)²: peak 1 at t = 1/3, γ(1 − t) ≠ γ(t)."""

    max_gamma = 1.0

    def _gamma(self, t):
        return 6.75 * t * (1 - t) ** 2

    def _gamma_dot(self, t):
        return 6.75 * (1 - t) * (1 - 3 * t)

    def _gamma_gamma_dot(self, t):
        return 6.75**2 * t * (1 - t) ** 3 * (1 - 3 * t)


def asymmetric(gamma=None):
    """α = (1 − t)², β = t: α(1 − t) = t² differs from β, so time reversal and α/β swap differ."""
    return S.CustomInterpolant(lambda t: (1 - t) ** 2, lambda t: -2 * (1 - t), lambda t: t, lambda t: np.ones_like(t),
                               gamma or S.BrownianGamma())


def reversed_asymmetric(gamma=None):
    """The same path with time running the other way: α'(s) = β(1 − s) = 1 − s, β'(s) = α(1 − s) = s²."""
    return S.CustomInterpolant(lambda s: 1 - s, lambda s: -np.ones_like(s), lambda s: s**2, lambda s: 2 * s,
                               gamma or S.BrownianGamma())


BASE = S.Gaussian(np.array([-1.0, 0.5]), np.array([[0.6, 0.2], [0.2, 0.9]]))
TARGET = S.GaussianMixture(np.array([0.4, 0.6]), np.array([[2.0, 0.0], [-1.0, 2.0]]),
                           np.stack([np.diag([0.5, 0.2]), np.array([[0.4, 0.1], [0.1, 0.3]])]))
CASE = S.GaussianCase(asymmetric(), BASE, TARGET)
#: The user's model written with t = 0 at the data: its fields at s are ours at 1 − s.
REVERSED = S.GaussianCase(reversed_asymmetric(), TARGET, BASE)
#: x_t = β x0 + α x1 + γ z: the law of the original interpolant with base and target exchanged.
SWAPPED = S.GaussianCase(asymmetric(), TARGET, BASE)
EPS = 0.7


def col(values):
    return np.reshape(values, (-1, 1))


def ggd(t):
    return col(CASE.interpolant.gamma_gamma_dot(t))


def user_wrong_axis_drift(x, t):
    """A drift written without [:, None]: correct for scalar t, wrong for per-row t."""
    return CASE.velocity(x, t) - np.asarray(CASE.interpolant.gamma_gamma_dot(t)) * CASE.score(x, t)


FIELD_MISTAKES = [
    ("drift", lambda x, t: CASE.velocity(x, t) + ggd(t) * CASE.score(x, t), "gamma-gamma-dot-sign"),
    ("drift", lambda x, t: -CASE.drift(x, t), "sign-flip"),
    ("drift", lambda x, t: CASE.velocity(x, t), "velocity-for-drift"),
    ("drift", S.DriftFromVelocityScore(CASE.drift, CASE.score, CASE.interpolant.gamma_schedule), "noise-term-twice"),
    ("drift", REVERSED.drift, "time-reversed"),
    ("drift", SWAPPED.drift, "alpha-beta-swapped"),
    ("drift", user_wrong_axis_drift, "t-wrong-axis"),
    ("velocity", CASE.drift, "drift-for-velocity"),
    ("velocity", lambda x, t: -CASE.velocity(x, t), "sign-flip"),
    ("velocity", REVERSED.velocity, "time-reversed"),
    ("velocity", SWAPPED.velocity, "alpha-beta-swapped"),
    ("score", lambda x, t: -CASE.score(x, t), "sign-flip"),
    ("score", lambda x, t: 0.5 * col(CASE.interpolant.gamma(t)) ** 2 * CASE.score(x, t), "score-scaling"),
    ("score", CASE.noise, "score-scaling"),
    ("score", REVERSED.score, "time-reversed"),
    ("score", SWAPPED.score, "alpha-beta-swapped"),
    ("noise", lambda x, t: -CASE.noise(x, t), "noise-sign"),
    ("noise", REVERSED.noise, "time-reversed"),
    ("noise", SWAPPED.noise, "alpha-beta-swapped"),
    ("denoise_x0", CASE.denoise_x1, "denoisers-swapped"),
    ("denoise_x0", REVERSED.denoise_x0, "time-reversed"),
    ("denoise_x1", SWAPPED.denoise_x0, "alpha-beta-swapped"),   # x1 ~ target is SWAPPED's x0
    ("forward_drift", lambda x, t: CASE.backward_drift(x, t, EPS), "score-term-sign"),
    ("forward_drift", lambda x, t: CASE.drift(x, t) + 2 * EPS * CASE.score(x, t), "score-scaling"),
    ("forward_drift", lambda x, t: CASE.velocity(x, t) + ggd(t) * CASE.score(x, t) + EPS * CASE.score(x, t),
     "gamma-gamma-dot-sign"),
    ("forward_drift", lambda x, t: CASE.velocity(x, t) + EPS * CASE.score(x, t), "velocity-for-drift"),
    ("forward_drift", lambda x, t: REVERSED.forward_drift(x, t, EPS), "time-reversed"),
    ("backward_drift", lambda x, t: CASE.drift(x, t) - 0.5 * EPS * CASE.score(x, t), "score-scaling"),
    ("backward_drift", lambda x, t: CASE.forward_drift(x, t, EPS), "score-term-sign"),
]


@pytest.mark.parametrize("name, wrong, diagnosis", FIELD_MISTAKES,
                         ids=[f"{n}-{d}-{i}" for i, (n, _, d) in enumerate(FIELD_MISTAKES)])
def test_field_mistakes_are_diagnosed(name, wrong, diagnosis):
    report = C.check(wrong, name, CASE, eps=EPS, **FAST)
    assert not report.passed
    assert report.diagnosis_names[:1] == (diagnosis,), str(report)


def test_symmetric_reference_reports_both_equivalent_mistakes():
    """On a linear interpolant with symmetric γ, time reversal and the α/β swap give the same drift: both are named."""
    case = references.case("gaussian-2d-linear-brownian")
    reversed_case = S.GaussianCase(case.interpolant, case.target, case.base)
    report = C.check(reversed_case.drift, "drift", case, **FAST)
    assert {"time-reversed", "alpha-beta-swapped"} <= set(report.diagnosis_names)


# --- schedules and interpolants ---------------------------------------------------------------------

ASYM_GAMMA = AsymmetricGamma()
LINEAR = S.LinearInterpolant(S.BrownianGamma())
ASYM = asymmetric(ASYM_GAMMA)


def user_interpolant(alpha, beta, gamma, *, column=True):
    def f(t, x0, x1, z):
        c = col if column else np.asarray
        return c(alpha(t)) * x0 + c(beta(t)) * x1 + c(gamma(t)) * z
    return f


SCHEDULE_MISTAKES = [
    ("gamma", S.BrownianGamma(), lambda t: -np.sqrt(t * (1 - t)), "sign-flip"),
    ("gamma", S.BrownianGamma(), lambda t: t * (1 - t), "variance-for-std"),
    ("gamma", ASYM_GAMMA, lambda t: 6.75 * (1 - t) * t**2, "time-reversed"),
    ("gamma_dot", S.BSquaredGamma(), lambda t: -(1 - 2 * t), "sign-flip"),
    ("gamma_dot", ASYM_GAMMA, lambda t: -6.75 * t * (3 * t - 2), "time-reversed"),      # −γ̇(1 − t)
    ("gamma_gamma_dot", S.BrownianGamma(), lambda t: 1 - 2 * t, "factor-two"),         # d(t − t²)/dt
    ("gamma_gamma_dot", S.BSquaredGamma(), lambda t: -(t * (1 - t)) * (1 - 2 * t), "sign-flip"),
    ("gamma_gamma_dot", ASYM_GAMMA, lambda t: 6.75**2 * (1 - t) * t**3 * (3 * t - 2), "time-reversed"),
]


@pytest.mark.parametrize("name, schedule, wrong, diagnosis", SCHEDULE_MISTAKES,
                         ids=[f"{n}-{d}-{i}" for i, (n, _, _, d) in enumerate(SCHEDULE_MISTAKES)])
def test_schedule_mistakes_are_diagnosed(name, schedule, wrong, diagnosis):
    report = C.check(wrong, name, schedule, **FAST)
    assert not report.passed
    assert report.diagnosis_names[:1] == (diagnosis,), str(report)


def asym_alpha(t):
    return (1 - t) ** 2


def asym_beta(t):
    return np.asarray(t, dtype=float)


INTERPOLANT_MISTAKES = [
    ("alpha", lambda t: np.asarray(t, dtype=float), "alpha-beta-swapped"),
    ("alpha", lambda t: np.asarray(t, dtype=float) ** 2, "time-reversed"),
    ("alpha_dot", lambda t: 2 * (1 - np.asarray(t)), "sign-flip"),
    ("alpha_dot", lambda t: np.ones_like(np.asarray(t, dtype=float)), "alpha-beta-swapped"),
    ("alpha_dot", lambda t: 2 * np.asarray(t, dtype=float), "time-reversed"),
    ("beta", asym_alpha, "alpha-beta-swapped"),
    ("beta_dot", lambda t: -np.ones_like(np.asarray(t, dtype=float)), "sign-flip"),
    ("interpolant", user_interpolant(asym_beta, asym_alpha, ASYM_GAMMA.gamma), "alpha-beta-swapped"),
    ("interpolant", user_interpolant(lambda t: np.asarray(t) ** 2, lambda t: 1 - np.asarray(t),
                                     lambda t: ASYM_GAMMA.gamma(1 - np.asarray(t))), "time-reversed"),
    ("interpolant", user_interpolant(asym_alpha, asym_beta, lambda t: ASYM_GAMMA.gamma(t) ** 2), "variance-for-std"),
    ("interpolant", user_interpolant(asym_alpha, asym_beta, ASYM_GAMMA.gamma, column=False), "t-wrong-axis"),
    ("interpolant_dot", lambda t, x0, x1, z: ASYM.interpolant_partial_t(t, x0, x1), "noise-term-missing"),
    ("interpolant_dot", user_interpolant(lambda t: 2 * (1 - np.asarray(t)), lambda t: -np.ones_like(np.asarray(t, float)),
                                         lambda t: -ASYM_GAMMA.gamma_dot(t)), "sign-flip"),
    ("interpolant_partial_t", lambda t, x0, x1: -ASYM.interpolant_partial_t(t, x0, x1), "sign-flip"),
]


@pytest.mark.parametrize("name, wrong, diagnosis", INTERPOLANT_MISTAKES,
                         ids=[f"{n}-{d}-{i}" for i, (n, _, d) in enumerate(INTERPOLANT_MISTAKES)])
def test_interpolant_mistakes_are_diagnosed(name, wrong, diagnosis):
    report = C.check(wrong, name, ASYM, **FAST)
    assert not report.passed
    assert report.diagnosis_names[:1] == (diagnosis,), str(report)


# --- wrappers ------------------------------------------------------------------------------------

def column_of(schedule_method, t):
    return col(schedule_method(t))


class WrongSignDrift:
    """The published DriftFromVelocityScore: v + γγ̇ s."""

    def __init__(self, velocity, score, gamma):
        self.velocity, self.score, self.gamma = velocity, score, gamma

    def __call__(self, x, t):
        return self.velocity(x, t) + column_of(self.gamma.gamma_gamma_dot, t) * self.score(x, t)


class WrongAxisDrift(WrongSignDrift):
    def __call__(self, x, t):
        return self.velocity(x, t) - np.asarray(self.gamma.gamma_gamma_dot(t)) * self.score(x, t)


class PublishedMirror:
    """The published MirrorVelocityFromScore: +γγ̇ s."""

    def __init__(self, score, gamma):
        self.score, self.gamma = score, gamma

    def __call__(self, x, t):
        return column_of(self.gamma.gamma_gamma_dot, t) * self.score(x, t)


class ScoreFromMinusNoise:
    """Assumes the noise predictor is −E[z | x]: s = +η/γ."""

    def __init__(self, eta, gamma):
        self.eta, self.gamma = eta, gamma

    def __call__(self, x, t):
        return self.eta(x, t) / column_of(self.gamma.gamma, t)


class ScoreWithoutDivision(ScoreFromMinusNoise):
    def __call__(self, x, t):
        return -self.eta(x, t)


class NoiseFromScorePlus:
    def __init__(self, score, gamma):
        self.score, self.gamma = score, gamma

    def __call__(self, x, t):
        return column_of(self.gamma.gamma, t) * self.score(x, t)


class VelocityFromDriftScoreMinus(WrongSignDrift):
    def __call__(self, x, t):
        return self.velocity(x, t) - column_of(self.gamma.gamma_gamma_dot, t) * self.score(x, t)


class ForwardDriftSigmaSquared:
    """b + σ² s with σ² = 2ε: the ½ of σ²/2 dropped."""

    def __init__(self, drift, score, eps):
        self.drift, self.score, self.eps = drift, score, eps

    def __call__(self, x, t):
        return self.drift(x, t) + 2 * self.eps * self.score(x, t)


class SwappedVelocityFromDenoiserX1:
    """v = α̇ (x − β x̂1)/α + β̇ x̂1 written with α and β exchanged (α ↔ σ of flow-matching notation)."""

    def __init__(self, x1_hat, interpolant):
        self.x1_hat, self.I = x1_hat, interpolant

    def __call__(self, x, t):
        I, x1 = self.I, self.x1_hat(x, t)
        a, a_dot, b, b_dot = (col(f(t)) for f in (I.beta, I.beta_dot, I.alpha, I.alpha_dot))
        return a_dot * (x - b * x1) / a + b_dot * x1


TWO_SIDED = references.case("mixture-2d-linear-brownian")
MIRROR = references.case("mirror-2d-brownian")
ONE_SIDED = references.case("one-sided-2d-linear")

WRAPPER_MISTAKES = [
    ("DriftFromVelocityScore", WrongSignDrift, TWO_SIDED, "gamma-gamma-dot-sign"),
    ("DriftFromVelocityScore", WrongAxisDrift, TWO_SIDED, "t-wrong-axis"),
    ("MirrorVelocityFromScore", PublishedMirror, MIRROR, "gamma-gamma-dot-sign"),
    ("ScoreFromNoise", ScoreFromMinusNoise, TWO_SIDED, "noise-sign"),
    ("ScoreFromNoise", ScoreWithoutDivision, TWO_SIDED, "score-scaling"),
    ("NoiseFromScore", NoiseFromScorePlus, TWO_SIDED, "noise-sign"),
    ("VelocityFromDriftScore", VelocityFromDriftScoreMinus, TWO_SIDED, "gamma-gamma-dot-sign"),
    ("ForwardDriftFromDriftScore", ForwardDriftSigmaSquared, TWO_SIDED, "score-scaling"),
    ("VelocityFromDenoiserX1", SwappedVelocityFromDenoiserX1, ONE_SIDED, "alpha-beta-swapped"),
]


@pytest.mark.parametrize("name, wrong, case, diagnosis", WRAPPER_MISTAKES,
                         ids=[f"{n}-{d}" for n, _, _, d in WRAPPER_MISTAKES])
def test_wrapper_mistakes_are_diagnosed(name, wrong, case, diagnosis):
    report = C.check(wrong, name, case, eps=EPS, **FAST)
    assert not report.passed
    assert report.diagnosis_names[:1] == (diagnosis,) or _symmetric_swap(case, report), str(report)


def _symmetric_swap(case, report) -> bool:
    """On the symmetric one-sided paths (α(1 − t) = β(t)) swapping α and β is reversing time: both are named."""
    return case is ONE_SIDED and set(report.diagnosis_names[:2]) == {"alpha-beta-swapped", "time-reversed"}


# --- the step -----------------------------------------------------------------------------------

def em_step_without_sqrt_dt(field, x, t, dt, eps, xi):
    return x + field(x, t) * dt + np.sqrt(2 * eps) * xi


def em_step_without_factor_two(field, x, t, dt, eps, xi):
    return x + field(x, t) * dt + np.sqrt(eps * dt) * xi


@pytest.mark.parametrize("wrong, diagnosis", [(em_step_without_sqrt_dt, "sqrt-dt"),
                                              (em_step_without_factor_two, "diffusion-scaling")])
def test_step_mistakes_are_diagnosed(wrong, diagnosis):
    report = C.check(wrong, "euler_maruyama_step", TWO_SIDED, eps=EPS, **FAST)
    assert not report.passed
    assert report.diagnosis_names[:1] == (diagnosis,), str(report)


# --- si_ref's own implementations pass ------------------------------------------------------------

def own(name):
    return C.reference_implementation(name, eps=EPS)


def fixed_reference(name):
    q = QUANTITIES[name]
    if q.reference_type is DiffusionCase:
        return next(case for case in references.DIFFUSION_CASES.values() if q.accepts(case))
    if q.level == "schedule":
        return S.SigmoidGamma(5.0)
    if q.level == "guidance":
        return references.guidance_case("guidance-2d-linear-brownian").guided(weight=2.0)
    if q.level == "interpolant":
        return ASYM
    for case in (CASE, TWO_SIDED, references.case("gaussian-2d-linear-brownian"), ONE_SIDED, MIRROR):
        if q.accepts(case):
            return case
    raise AssertionError(name)


@pytest.mark.parametrize("name", sorted(QUANTITIES))
def test_si_ref_passes_with_a_fixed_reference(name):
    q = QUANTITIES[name]
    reference = fixed_reference(name)
    implementation = own(name)
    if q.takes_factory:
        implementation = implementation(reference)
    drawn = 5 if q.level == "likelihood" else 20      # each likelihood input is a whole ODE integration
    report = C.check(implementation, name, reference, eps=EPS, max_examples=drawn)
    assert report.passed, str(report)
    assert report.examples > drawn and "0 failed" in report.details   # the fixed inputs, then the drawn ones


@pytest.mark.parametrize("name", ["gamma_dot", "interpolant", "drift", "score", "denoise_x1",
                                  "DriftFromVelocityScore", "DenoiserX1FromScore", "VelocityFromDenoiserX0"])
def test_si_ref_passes_over_drawn_references(name):
    report = C.check(own(name), name, eps=EPS, max_examples=30, seed=3)
    assert report.passed, str(report)


# --- reports, shrinking, failures of every kind ---------------------------------------------------------

def test_assert_conforms_raises_the_report_and_the_counterexample_is_shrunk():
    with pytest.raises(AssertionError, match="Minimal counterexample") as info:
        C.assert_conforms(WrongSignDrift, "DriftFromVelocityScore", TWO_SIDED)
    text = str(info.value)
    assert "gamma-gamma-dot-sign" in text and "expected" in text and "received" in text
    report = C.check(WrongSignDrift, "DriftFromVelocityScore", TWO_SIDED)
    example = report.counterexample
    assert example.inputs["x"].shape[0] == 1            # shrunk to a single point
    np.testing.assert_allclose(example.expected, TWO_SIDED.drift(example.inputs["x"], example.inputs["t"]), rtol=1e-12)
    assert example.max_abs_error > 1e-8 + 1e-6 * np.max(np.abs(example.expected))


def test_passing_report_and_determinism():
    first = C.check(TWO_SIDED.drift, "drift", TWO_SIDED, max_examples=15, seed=7)
    second = C.check(TWO_SIDED.drift, "drift", TWO_SIDED, max_examples=15, seed=7)
    assert first.passed and first == second
    assert "PASS" in str(first) and first.counterexample is None


def test_exceptions_shapes_nans_and_modified_inputs_are_reported():
    def raises(x, t):
        raise RuntimeError("model not loaded")
    report = C.check(raises, "drift", TWO_SIDED, **FAST)
    assert not report.passed and "raised RuntimeError: model not loaded" in report.counterexample.error

    report = C.check(lambda x, t: TWO_SIDED.drift(x, t).ravel(), "drift", TWO_SIDED, **FAST)
    assert not report.passed and "shape" in report.counterexample.error

    report = C.check(lambda x, t: np.full(np.shape(x), np.nan), "drift", TWO_SIDED, **FAST)
    assert not report.passed and "NaN" in report.counterexample.error

    def modifies(x, t):
        out = TWO_SIDED.drift(x, t)
        x[...] = 0.0
        return out
    report = C.check(modifies, "drift", TWO_SIDED, **FAST)
    assert not report.passed and "in place" in report.counterexample.error


def test_broadcast_error_in_one_dimension_is_diagnosed():
    case = references.case("gaussian-1d-linear-brownian")

    def drift(x, t):   # (n,) times (n, 1) broadcasts to (n, n)
        return case.velocity(x, t) - np.asarray(case.interpolant.gamma_gamma_dot(t)) * case.score(x, t)
    report = C.check(drift, "drift", case, **FAST)
    assert not report.passed and "t-wrong-axis" in report.diagnosis_names


def test_unmatched_error_has_no_diagnosis():
    report = C.check(lambda x, t: TWO_SIDED.drift(x, t) + 0.1, "drift", TWO_SIDED, **FAST)
    assert not report.passed and report.diagnoses == ()
    assert "none of the catalogued" in str(report)


def test_times_option_and_tolerances():
    shifted = lambda x, t: TWO_SIDED.drift(x, t) * (1 + 1e-4)   # noqa: E731
    assert not C.check(shifted, "drift", TWO_SIDED, **FAST).passed
    assert C.check(shifted, "drift", TWO_SIDED, rtol=1e-3, **FAST).passed
    bad_at_half = lambda x, t: TWO_SIDED.drift(x, t) + (np.reshape(t, (-1, 1)) == 0.5)   # noqa: E731
    assert C.check(bad_at_half, "drift", TWO_SIDED, times=[0.25, 0.75], **FAST).passed
    assert not C.check(bad_at_half, "drift", TWO_SIDED, times=[0.5], **FAST).passed


def test_as_numpy_field_converts_both_ways():
    class Tensor:                       # a stand-in for a framework tensor
        def __init__(self, a):
            self.a = np.asarray(a)

    def model(x, t):
        assert isinstance(x, Tensor) and (isinstance(t, Tensor) or isinstance(t, float))
        times = t.a if isinstance(t, Tensor) else t
        return Tensor(TWO_SIDED.drift(x.a, times))

    field = C.as_numpy_field(model, to_backend=Tensor, from_backend=lambda y: y.a)
    assert C.check(field, "drift", TWO_SIDED, max_examples=10).passed


@pytest.mark.parametrize("call, error, match", [
    (lambda: C.check(TWO_SIDED.drift, "drfit", TWO_SIDED), ValueError, "unknown quantity 'drfit'"),
    (lambda: C.check(TWO_SIDED.drift, 3, TWO_SIDED), TypeError, "quantity must be a name"),
    (lambda: C.check(TWO_SIDED.drift, "drift", LINEAR), TypeError, "must be a GaussianCase"),
    (lambda: C.check(TWO_SIDED.drift, "forward_drift", TWO_SIDED), ValueError, "pass eps="),
    (lambda: C.check(TWO_SIDED.drift, "drift", TWO_SIDED, rtol=-1.0), ValueError, "rtol must be"),
    (lambda: C.check(TWO_SIDED.drift, "drift", TWO_SIDED, max_examples=0), ValueError, "max_examples must be"),
    (lambda: C.check(TWO_SIDED.drift, "drift", TWO_SIDED, times=[1.5]), ValueError, "times must be"),
    (lambda: C.check("drift", "drift", TWO_SIDED), TypeError, "must be callable"),
    (lambda: C.check(PublishedMirror, "MirrorVelocityFromScore", TWO_SIDED), ValueError, "does not fit"),
    (lambda: C.check(TWO_SIDED.score, "ScoreFromNoise", TWO_SIDED, times=[0.0]), ValueError, "has no time in"),
    (lambda: C.reference_implementation("forward_drift"), ValueError, "pass eps="),
    (lambda: C.check(S.DenoiserX1FromScore, "DenoiserX1FromScore", references.case("mixture-2d-encoder-decoder"),
                     times=[0.25]), ValueError, "no valid input"),
], ids=["unknown", "not-a-name", "reference-type", "eps-missing", "rtol", "max-examples", "times", "not-callable",
        "reference-kind", "times-outside-domain", "reference-implementation-eps", "undefined-everywhere"])
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_every_quantity_has_a_summary_and_mistakes():
    for name, q in QUANTITIES.items():
        assert q.summary and q.mistakes, name
        assert len({m.name for m in q.mistakes}) == len(q.mistakes), name


SIGN_NAMES = {"sign-flip", "noise-sign", "gamma-gamma-dot-sign", "v-sign"}
#: Steps: a negated step is no catalogued mistake (their sign mistakes flip a slope, not the result).
STEP_LEVELS = ("step", "diffusion step")


def negated(name):
    """si_ref's own implementation with its output negated (a constructor for wrappers, a factory for quantities
    called with a reference, the function itself otherwise)."""
    q = QUANTITIES[name]
    implementation = own(name)
    if q.level == "wrapper":
        return lambda *args: (lambda built: (lambda x, t: -built(x, t)))(implementation(*args))
    if not q.takes_factory:
        return lambda *args: -np.asarray(implementation(*args))
    return lambda reference: (lambda built: (lambda *args: -np.asarray(built(*args))))(implementation(reference))


@pytest.mark.parametrize("name", sorted(n for n, q in QUANTITIES.items() if q.level not in STEP_LEVELS))
def test_every_quantity_fails_when_negated(name):
    """Every quantity's checker catches a flipped sign; where the catalogue has a sign mistake it names it."""
    q = QUANTITIES[name]
    reference = fixed_reference(name)
    implementation = negated(name)
    if q.takes_factory:
        implementation = implementation(reference)
    report = C.check(implementation, name, reference, eps=EPS, **FAST)
    assert not report.passed
    if SIGN_NAMES & {m.name for m in q.mistakes}:
        assert report.diagnosis_names[0] in SIGN_NAMES, str(report)


class QuietSwappedVelocityFromDenoiserX1(SwappedVelocityFromDenoiserX1):
    """The swapped conversion returning inf/NaN where its divisor vanishes (as NumPy code does by default)."""

    def __call__(self, x, t):
        with np.errstate(all="ignore"):
            return super().__call__(x, t)


@pytest.mark.parametrize("seed", range(4))
def test_a_mistake_undefined_at_some_failing_inputs_is_still_named(seed):
    """Where the mistaken formula divides by zero (β = 0 at t = 0 for the swap) it gives no evidence either way."""
    report = C.check(QuietSwappedVelocityFromDenoiserX1, "VelocityFromDenoiserX1", ONE_SIDED, seed=seed, **FAST)
    assert not report.passed and _symmetric_swap(ONE_SIDED, report), str(report)
    report = C.check(CASE.noise, "score", CASE, seed=seed, **FAST)   # −γ s is undefined as a match where γ = 0
    assert not report.passed and report.diagnosis_names[:1] == ("score-scaling",), str(report)


# --- readable reports --------------------------------------------------------------------------------

def report_lines_without_markup(report):
    from test_quantities import balanced, markup_in

    text = str(report)
    assert markup_in(text) == [], text
    definition = [line for line in text.splitlines() if line.startswith("  definition: ")]
    assert len(definition) == 1 and balanced(definition[0]), text
    assert definition[0] == f"  definition: {QUANTITIES[report.quantity].plain}"
    return text


@pytest.mark.parametrize("name, implementation, reference", [
    ("DriftFromVelocityScore", WrongSignDrift, TWO_SIDED),
    ("ScoreFromNoise", ScoreFromMinusNoise, TWO_SIDED),
    ("DenoiserX1FromScore", S.DenoiserX1FromScore, ONE_SIDED),
    ("drift", lambda x, t: TWO_SIDED.drift(x, t) + 0.1, TWO_SIDED),
    ("euler_maruyama_step", em_step_without_sqrt_dt, TWO_SIDED),
], ids=["failing-with-diagnosis", "wrapper-noise-sign", "passing-wrapper", "failing-without-diagnosis", "step"])
def test_reports_are_plain_text(name, implementation, reference):
    report = C.check(implementation, name, reference, eps=EPS, **FAST)
    text = report_lines_without_markup(report)
    assert text.splitlines()[0] == f"si_ref conformance: {name}: {'PASS' if report.passed else 'FAIL'}"


# --- the tolerance scales with |expected| ----------------------------------------------------------------

def scaled_drift(factor):
    return lambda x, t: factor * TWO_SIDED.drift(x, t)


def test_twice_the_exact_value_fails_at_rtol_one_half():
    """|2e − e| = |e| > 0.5 |e|: a tolerance scaled by |received| (|e| <= 0.5 |2e|) would pass it."""
    report = C.check(scaled_drift(2.0), "drift", TWO_SIDED, rtol=0.5, **FAST)
    assert not report.passed
    c = report.counterexample
    np.testing.assert_allclose(c.received, 2.0 * c.expected, rtol=1e-15)
    assert c.max_rel_error == pytest.approx(1.0, rel=1e-12)


def test_one_point_two_times_the_exact_value_passes_at_rtol_one_half():
    assert C.check(scaled_drift(1.2), "drift", TWO_SIDED, rtol=0.5, **FAST).passed
    assert not C.check(scaled_drift(1.2), "drift", TWO_SIDED, rtol=0.1, **FAST).passed


def test_atol_zero_asks_for_relative_agreement_only():
    assert C.check(TWO_SIDED.drift, "drift", TWO_SIDED, rtol=0.0, atol=0.0, **FAST).passed
    offset = lambda t: S.BrownianGamma().gamma(t) + 1e-12   # noqa: E731   γ(0) = 0 exactly
    assert C.check(offset, "gamma", S.BrownianGamma(), times=[0.0, 0.5], **FAST).passed    # within atol = 1e-8
    report = C.check(offset, "gamma", S.BrownianGamma(), times=[0.0, 0.5], atol=0.0, **FAST)
    assert not report.passed and 0.0 in np.ravel(report.counterexample.inputs["t"])   # 1e-12 > 0 + rtol · 0


# --- flaky implementations -----------------------------------------------------------------------------

@pytest.mark.parametrize("scale", [1e-3, 1.0])
def test_an_implementation_with_fresh_noise_each_call_is_reported_as_not_deterministic(scale):
    rng = np.random.default_rng(5)

    def noisy_drift(x, t):
        return TWO_SIDED.drift(x, t) + scale * rng.standard_normal(np.shape(x))

    report = C.check(noisy_drift, "drift", TWO_SIDED, max_examples=20)      # a report, not an exception
    assert not report.passed
    assert "is not deterministic" in report.counterexample.error, str(report)
    assert "not deterministic" in str(report)


def test_noise_below_the_tolerance_is_not_called_flaky():
    """Repeated calls may differ in the last bits (parallel reductions): within rtol they are the same value."""
    rng = np.random.default_rng(6)

    def jittery_drift(x, t):
        exact = TWO_SIDED.drift(x, t)
        return exact * (1.0 + 1e-12 * rng.standard_normal(exact.shape))

    assert C.check(jittery_drift, "drift", TWO_SIDED, **FAST).passed


def test_an_implementation_that_raises_on_its_second_call_is_not_deterministic():
    calls = [0]

    def second_call_raises(x, t):
        calls[0] += 1
        if calls[0] % 2 == 0:
            raise RuntimeError("state exhausted")
        return TWO_SIDED.drift(x, t)

    report = C.check(second_call_raises, "drift", TWO_SIDED, **FAST)
    assert not report.passed and "not deterministic" in report.counterexample.error
    assert "RuntimeError: state exhausted" in report.counterexample.error


# --- the reported errors are exact ----------------------------------------------------------------------

def reported_number(text, label):
    """The number after ``label = `` on the report line that starts with ``label`` (or holds it after a ';')."""
    import re
    match = re.search(r"^  (?:.*; )?" + re.escape(label) + r" = ([^;,\s]+)", text, flags=re.MULTILINE)
    assert match, text
    return float(match.group(1))


@pytest.mark.parametrize("shrink", [False, True])
def test_reported_errors_are_those_of_the_implementation_at_the_reported_input(shrink):
    def wrong(x, t):   # wrong by a relative 1e-3 and an absolute 2e-4
        return TWO_SIDED.drift(x, t) * (1 + 1e-3) + 2e-4

    report = C.check(wrong, "drift", TWO_SIDED, max_examples=25, shrink=shrink)
    c = report.counterexample
    x, t = c.inputs["x"], c.inputs["t"]
    # independently: si_ref's closed form (not the checker's copy) and the implementation, at the reported input
    expected = TWO_SIDED.drift(x, t)
    received = wrong(x, t)
    np.testing.assert_array_equal(c.expected, expected)
    np.testing.assert_array_equal(c.received, received)
    difference = np.abs(received - expected)
    assert c.max_abs_error == float(np.max(difference))
    assert c.max_rel_error == float(np.max(difference / np.abs(expected)))
    text = str(report)
    assert reported_number(text, "max |received - expected|") == c.max_abs_error
    assert reported_number(text, "max relative error") == c.max_rel_error
    # the printed inputs are the exact inputs: reading them back gives the same floats
    assert reported_number(text.replace("[", "").replace("]", ""), "t") == float(np.ravel(t)[0])


def test_relative_error_is_undefined_where_every_expected_value_is_zero():
    shifted = lambda t: S.BrownianGamma().gamma(t) + 0.25   # noqa: E731   γ(0) = 0 exactly
    report = C.check(shifted, "gamma", S.BrownianGamma(), times=[0.0], **FAST)
    c = report.counterexample
    assert np.all(c.expected == 0.0) and c.max_abs_error == 0.25
    assert np.isnan(c.max_rel_error)
    assert "max relative error = undefined (every expected value is 0)" in str(report)


def test_an_infinite_error_is_reported_as_inf():
    def gamma_dot(t):   # −∞ for +∞ at t = 0 (Brownian γ̇)
        values = S.BrownianGamma().gamma_dot(t)
        return np.where(np.isinf(values), -values, values)

    report = C.check(gamma_dot, "gamma_dot", S.BrownianGamma(), times=[0.0], **FAST)
    assert not report.passed and report.counterexample.max_abs_error == np.inf


# --- bad inputs -----------------------------------------------------------------------------------------

def check_drift(**options):
    return lambda: C.check(TWO_SIDED.drift, "drift", TWO_SIDED, **options)


def drift_example():
    from si_ref.quantities import Example
    return Example(TWO_SIDED, 0.3, x=np.array([[0.5, -0.25]]))   # γγ̇ ≠ 0 (it vanishes at t = 1/2)


BAD_CHECK_OPTIONS = [
    ("eps-negative", lambda: C.check(TWO_SIDED.drift, "forward_drift", TWO_SIDED, eps=-1.0), ValueError,
     ["eps must be a finite number >= 0", "-1.0"]),
    ("eps-nan", lambda: C.check(TWO_SIDED.drift, "forward_drift", TWO_SIDED, eps=float("nan")), ValueError,
     ["eps must be finite", "nan"]),
    ("eps-string", lambda: C.check(TWO_SIDED.drift, "forward_drift", TWO_SIDED, eps="0.5"), TypeError,
     ["eps must be a real number", "'0.5'"]),
    ("eps-bool", check_drift(eps=True), TypeError, ["eps must be a real number", "True"]),
    ("rtol-nan", check_drift(rtol=float("nan")), ValueError, ["rtol must be finite", "nan"]),
    ("atol-negative", check_drift(atol=-1e-9), ValueError, ["atol must be a finite number >= 0", "-1e-09"]),
    ("atol-string", check_drift(atol="1e-8"), TypeError, ["atol must be a real number", "'1e-8'"]),
    ("shrink-string", check_drift(shrink="yes"), TypeError, ["shrink must be True or False", "'yes'"]),
    ("shrink-int", check_drift(shrink=1), TypeError, ["shrink must be True or False", "1"]),
    ("seed-negative", check_drift(seed=-1), ValueError, ["seed must be an integer >= 0", "-1"]),
    ("max-examples-float", check_drift(max_examples=2.5), ValueError, ["max_examples must be an integer >= 1", "2.5"]),
    ("times-nan", check_drift(times=[float("nan")]), ValueError, ["times must be", "nan"]),
    ("times-strings", check_drift(times=["a"]), TypeError, ["times must be a sequence of numbers", "'a'"]),
    ("unknown-quantity", lambda: C.check(TWO_SIDED.drift, "drfit", TWO_SIDED), ValueError,
     ["unknown quantity 'drfit'", "did you mean 'drift'", "valid names:"]),
    ("factory-not-callable", lambda: C.check(3, "drift"), TypeError,
     ["implementation must be callable", "a factory make(reference) -> callable", "int"]),
    ("wrapper-not-callable", lambda: C.check("DriftFromVelocityScore", "DriftFromVelocityScore", TWO_SIDED), TypeError,
     ["must be a constructor with si_ref's signature", "si_ref.DriftFromVelocityScore", "str"]),
    ("adapter-backend-not-callable", lambda: C.as_numpy_field(TWO_SIDED.drift, to_backend=None, from_backend=np.asarray),
     TypeError, ["to_backend must be callable", "None"]),
]


@pytest.mark.parametrize("call, error, fragments", [row[1:] for row in BAD_CHECK_OPTIONS],
                         ids=[row[0] for row in BAD_CHECK_OPTIONS])
def test_bad_check_options_raise_naming_the_argument(call, error, fragments):
    from reference import assert_raises_naming
    assert_raises_naming(call, error, fragments)


BAD_DIAGNOSE_CALLS = [
    ("example-none", lambda: C.diagnose("drift", None, np.zeros((1, 2))), TypeError,
     ["example must be a si_ref.quantities.Example", "NoneType"]),
    ("reference-of-another-level", lambda: C.diagnose("gamma", drift_example(), np.zeros(1)), TypeError,
     ["example.reference", "must be a GammaSchedule", "GaussianCase"]),
    ("rtol-nan", lambda: C.diagnose("drift", drift_example(), np.zeros((1, 2)), rtol=float("nan")), ValueError,
     ["rtol must be finite", "nan"]),
    ("atol-negative", lambda: C.diagnose("drift", drift_example(), np.zeros((1, 2)), atol=-1.0), ValueError,
     ["atol must be a finite number >= 0", "-1.0"]),
    ("received-wrong-ndim", lambda: C.diagnose("drift", drift_example(), np.zeros(2)), ValueError,
     ["received must have the shape", "(1, 2)", "received shape (2,)"]),
    ("received-wrong-shape", lambda: C.diagnose("drift", drift_example(), np.zeros((2, 1))), ValueError,
     ["received must have the shape", "(1, 2)", "(2, 1)"]),
    ("received-strings", lambda: C.diagnose("drift", drift_example(), np.array([["a", "b"]])), TypeError,
     ["received must be real numbers"]),
    ("eps-missing", lambda: C.diagnose("forward_drift", drift_example(), np.zeros((1, 2))), ValueError,
     ["depends on eps", "eps=None"]),
    ("unknown-quantity", lambda: C.diagnose("scroe", drift_example(), np.zeros((1, 2))), ValueError,
     ["did you mean 'score'"]),
]


@pytest.mark.parametrize("call, error, fragments", [row[1:] for row in BAD_DIAGNOSE_CALLS],
                         ids=[row[0] for row in BAD_DIAGNOSE_CALLS])
def test_bad_diagnose_calls_raise_naming_the_argument(call, error, fragments):
    from reference import assert_raises_naming
    assert_raises_naming(call, error, fragments)


def test_diagnose_names_the_mistake_at_one_example():
    ex = drift_example()
    wrong = TWO_SIDED.velocity(ex.x, ex.t) + TWO_SIDED.interpolant.gamma_gamma_dot(ex.t) * TWO_SIDED.score(ex.x, ex.t)
    assert C.diagnose("drift", ex, wrong)[0].name == "gamma-gamma-dot-sign"
    assert C.diagnose("drift", ex, TWO_SIDED.drift(ex.x, ex.t)) == ()


def test_check_and_diagnose_leave_their_inputs_unchanged():
    ex = drift_example()
    received = -TWO_SIDED.drift(ex.x, ex.t)
    before = (ex.x.copy(), received.copy())
    C.diagnose("drift", ex, received)
    np.testing.assert_array_equal(ex.x, before[0])
    np.testing.assert_array_equal(received, before[1])
    times = [0.25, 0.5]
    C.check(TWO_SIDED.drift, "drift", TWO_SIDED, times=times, **FAST)
    assert times == [0.25, 0.5]


# --- the same inputs whatever ran before, and nothing left on disk -----------------------------------------

#: Runs the same check in a fresh interpreter after importing a local module full of numbers.
DRAWN_INPUTS = """
import hashlib, sys
import numpy as np
from si_ref import conformance, references

def drawn_inputs_digest():
    case = references.case("mixture-2d-linear-brownian")
    digest = hashlib.sha256()
    def logging_drift(x, t):
        digest.update(np.ascontiguousarray(x, dtype="<f8").tobytes())
        digest.update(np.ascontiguousarray(t, dtype="<f8").tobytes())
        return case.drift(x, t)
    report = conformance.check(logging_drift, "drift", case, max_examples=30, seed=11)
    return f"{report.passed} {report.examples} {digest.hexdigest()}"

if __name__ == "__main__":
    sys.path.insert(0, sys.argv[1])
    import many_numbers   # hypothesis collects the numbers of local modules and used to draw them
    print(drawn_inputs_digest())
"""


def test_check_draws_the_same_inputs_whatever_was_imported_and_writes_nothing(tmp_path):
    import subprocess
    import sys

    modules = tmp_path / "modules"
    modules.mkdir()
    numbers = [round(-3.0 + 0.02 * i, 2) for i in range(301)] + [0.123, 0.777, 1e-7, 2, 3]
    (modules / "many_numbers.py").write_text(f"NUMBERS = {numbers!r}\n", encoding="utf-8")
    script = tmp_path / "drawn_inputs.py"
    script.write_text(DRAWN_INPUTS, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    fresh = subprocess.run([sys.executable, str(script), str(modules)], cwd=work, capture_output=True, text=True,
                           check=True).stdout.strip()
    namespace = {}
    exec(compile(DRAWN_INPUTS, "drawn_inputs", "exec"), namespace)
    here = namespace["drawn_inputs_digest"]()
    assert fresh == here
    assert fresh.startswith("True 36 ")   # 6 fixed inputs, then 30 drawn
    assert sorted(p.name for p in work.iterdir()) == [], "check() wrote into the working directory"
    assert not (tmp_path / ".hypothesis").exists()


def test_the_verdict_does_not_depend_on_what_ran_before():
    """The drawn-references check of DenoiserX1FromScore once failed alone and passed in the whole suite."""
    first = C.check(own("DenoiserX1FromScore"), "DenoiserX1FromScore", eps=EPS, max_examples=30, seed=3)
    for name in ("drift", "score", "interpolant", "gamma_dot"):   # other checks, other draws in between
        C.check(own(name), name, eps=EPS, max_examples=10, seed=1)
    again = C.check(own("DenoiserX1FromScore"), "DenoiserX1FromScore", eps=EPS, max_examples=30, seed=3)
    assert first.passed and first == again
