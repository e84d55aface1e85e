"""The checker on code written the way real libraries write it: each new diagnosis, the fixed endpoint and
far-point inputs, float32 tolerances, time intervals, reproducibility, and the forms never failing silently.

Every wrong implementation here is the user's own formula (a floor on γ, a guard in a
denominator, γ · γ̇ formed from its factors, a float32 computation), never the checker's form.
"""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest
from scipy.special import logsumexp

import si_ref as S
from si_ref import conformance as C
from si_ref import references
from si_ref.checking import compare
from si_ref.checking.check import _fixed_phase
from si_ref.checking.draw import time_range
from si_ref.checking.table import QUANTITIES

FAST = dict(max_examples=25, shrink=False)
EPS = 0.5
CASE = references.case("mixture-2d-linear-brownian")
GAUSSIAN = references.case("gaussian-2d-linear-brownian")
ONE_SIDED = references.case("one-sided-2d-linear")
BROWNIAN = S.BrownianGamma()


def col(values):
    return np.reshape(np.asarray(values, dtype=np.float64), (-1, 1))


# --- diagnoses of what real code does ----------------------------------------------------------------

def test_a_score_scaled_by_an_arbitrary_constant_is_named_with_the_factor():
    report = C.check(lambda x, t: 0.32 * CASE.score(x, t), "score", CASE, **FAST)
    assert not report.passed and report.diagnosis_names[0] == "constant-factor", str(report)
    assert "0.32 × the exact value" in report.diagnoses[0].form


def test_gamma_floored_under_the_square_root_is_named():
    def gamma(t):                       # the common "numerically safe" Brownian bridge
        t = np.asarray(t, dtype=np.float64)
        return np.sqrt(t * (1 - t) + 1e-12)

    def gamma_dot(t):
        t = np.asarray(t, dtype=np.float64)
        return (1 - 2 * t) / (2 * np.sqrt(t * (1 - t) + 1e-12))

    report = C.check(gamma, "gamma", BROWNIAN, **FAST)
    assert not report.passed and report.diagnosis_names[0] == "gamma-floor", str(report)
    report = C.check(gamma_dot, "gamma_dot", BROWNIAN, **FAST)
    assert not report.passed and report.diagnosis_names[0] == "gamma-floor", str(report)
    assert "1e-12" in report.diagnoses[0].form


def test_gamma_gamma_dot_formed_from_its_factors_is_nan_at_the_endpoints_and_named():
    def ggd(t):
        return np.asarray(BROWNIAN.gamma(t)) * np.asarray(BROWNIAN.gamma_dot(t))

    for seed in range(3):   # found by the fixed inputs, whatever the draws
        report = C.check(ggd, "gamma_gamma_dot", BROWNIAN, max_examples=2, shrink=False, seed=seed)
        assert not report.passed and report.diagnosis_names[0] == "nan-from-gamma-dot", str(report)


def test_a_drift_with_gamma_dot_formed_first_is_named():
    def drift(x, t):
        g = col(CASE.interpolant.gamma(t) * np.ones(len(x)))
        g_dot = col(CASE.interpolant.gamma_dot(t) * np.ones(len(x)))
        return CASE.velocity(x, t) - g * g_dot * CASE.score(x, t)

    report = C.check(drift, "drift", CASE, **FAST)
    assert not report.passed and report.diagnosis_names[0] == "nan-from-gamma-dot", str(report)


def test_an_sde_drift_without_its_score_term_is_named():
    report = C.check(lambda x, t: CASE.drift(x, t), "forward_drift", CASE, eps=EPS, **FAST)
    assert not report.passed and report.diagnosis_names[0] == "score-term-missing", str(report)
    wrapper = lambda drift, score, eps: drift   # noqa: E731 - a conversion that forgets the score
    report = C.check(wrapper, "BackwardDriftFromDriftScore", CASE, eps=EPS, **FAST)
    assert not report.passed and report.diagnosis_names[0] == "score-term-missing", str(report)


def test_the_one_sided_noise_term_counted_twice_is_named():
    I = ONE_SIDED.interpolant

    def drift(x, t):   # v already holds α̇ x̂0 = −αα̇ s; the "γγ̇ term" added with γ = α counts it again
        return ONE_SIDED.velocity(x, t) - col(I.alpha(t) * I.alpha_dot(t) * np.ones(len(x))) * ONE_SIDED.score(x, t)

    report = C.check(drift, "drift", ONE_SIDED, **FAST)
    assert not report.passed and report.diagnosis_names[0] == "one-sided-double-count", str(report)


@pytest.mark.parametrize("name, delta, divisor", [("ScoreFromNoise", 1e-6, "γ"), ("ScoreFromDenoisers", 1e-8, "γ²")])
def test_an_additive_guard_in_a_denominator_is_named_with_its_size(name, delta, divisor):
    I = CASE.interpolant

    class Guarded:
        def __init__(self, *args):
            self.fields, self.last = args[:-1], args[-1]

        def __call__(self, x, t):
            if name == "ScoreFromNoise":
                return -self.fields[0](x, t) / (col(self.last.gamma(t) * np.ones(len(x))) + delta)
            x0, x1 = self.fields[0](x, t), self.fields[1](x, t)
            a, b, g = (col(f(t) * np.ones(len(x))) for f in (I.alpha, I.beta, I.gamma))
            return -(x - a * x0 - b * x1) / (g**2 + delta)

    report = C.check(Guarded, name, CASE, min_t=0.01, max_t=0.05, **FAST)
    assert not report.passed and report.diagnosis_names[0] == "additive-guard", str(report)
    assert f"δ = {delta:.3g}" in report.diagnoses[0].form and divisor in report.diagnoses[0].form


def test_alpha_and_sigma_swapped_on_a_one_sided_path_is_named():
    """Before, the swapped form was built as a two-sided path with base=None and raised: silently dropped."""
    path = S.CustomInterpolant(lambda t: (1 - t) ** 2, lambda t: -2 * (1 - t), lambda t: t, lambda t: np.ones_like(t),
                               S.ZeroGamma(), one_sided=True)
    case = S.GaussianCase(path, None, S.Gaussian(np.array([1.0, -0.5]), np.diag([0.4, 0.7])))

    def denoiser(score, interpolant, base):   # x̂0 = −σ s with the peer's σ = β (signal/noise swapped)
        return lambda x, t: -col(interpolant.beta(t) * np.ones(len(x))) * score(x, t)

    report = C.check(denoiser, "DenoiserX0FromScore", case, **FAST)
    assert not report.passed and report.diagnosis_names[0] == "alpha-beta-swapped", str(report)


# --- float32 ------------------------------------------------------------------------------------------

def _float32_drift(x, t):
    """The exact Gaussian drift computed in float32, as a float32 model would."""
    return GAUSSIAN.drift(x, t).astype(np.float32)


def test_a_correct_float32_implementation_passes_with_the_default_tolerance_and_the_report_says_so():
    report = C.check(_float32_drift, "drift", GAUSSIAN, min_t=0.05, max_t=0.95, **FAST)
    assert report.passed, str(report)
    assert (report.rtol, report.atol) == (1e-5, 1e-6) and "float32" in str(report)


def test_float32_rounding_under_a_tight_tolerance_is_named():
    report = C.check(_float32_drift, "drift", GAUSSIAN, min_t=0.05, max_t=0.95, rtol=1e-9, atol=1e-12, **FAST)
    assert not report.passed and report.diagnosis_names == ("float32-rounding",), str(report)
    upcast = lambda x, t: _float32_drift(x, t).astype(np.float64)   # noqa: E731 - float32 inside, float64 out
    report = C.check(upcast, "drift", GAUSSIAN, min_t=0.05, max_t=0.95, rtol=1e-9, atol=1e-12, **FAST)
    assert not report.passed and report.diagnosis_names == ("float32-rounding",), str(report)


# --- fixed endpoint and far-point inputs ----------------------------------------------------------------

def test_a_nan_at_t_equal_1_is_found_for_every_seed():
    def noise(x, t):   # a noise ODE written as (x − β x̂1)/γ-style code: fine inside, 0/0 at t = 1
        t = np.broadcast_to(np.asarray(t, dtype=np.float64), (len(x),))
        out = CASE.noise(x, t)
        out[t == 1.0] = np.nan
        return out

    for seed in range(6):
        report = C.check(noise, "noise", CASE, max_examples=3, shrink=False, seed=seed)
        assert not report.passed and "NaN" in report.counterexample.error, str(report)


def test_mixture_fields_that_underflow_far_from_the_modes_are_found():
    def score(x, t):   # a mixture score with plain exp: every weight underflows at |x| ~ 1e3, 0/0 = NaN
        comp = CASE.components(np.broadcast_to(np.asarray(t, dtype=np.float64), (len(x),)))
        diff = x[:, None, :] - comp.means
        prec = np.linalg.inv(comp.covs)
        quad = np.einsum("npi,npij,npj->np", diff, prec, diff)
        dens = comp.weights * np.exp(-0.5 * quad) / np.sqrt(np.linalg.det(2 * np.pi * comp.covs))
        resp = dens / dens.sum(axis=1, keepdims=True)
        return -np.einsum("np,npij,npj->ni", resp, prec, diff)

    report = C.check(score, "score", CASE, max_examples=3, shrink=False)
    assert not report.passed and "NaN" in report.counterexample.error, str(report)
    assert np.abs(report.counterexample.inputs["x"]).max() >= 40.0


def test_fixed_inputs_include_the_endpoints_their_neighbours_and_far_points():
    seen = []

    def drift(x, t):
        seen.append((np.atleast_1d(np.asarray(t, dtype=np.float64)).copy(), x.copy()))
        return CASE.drift(x, t)

    assert C.check(drift, "drift", CASE, max_examples=1).passed
    times = {float(v) for t, _ in seen for v in t}
    assert {0.0, 1e-12, 0.5, 1.0 - 1e-12, np.nextafter(1.0, 0.0), 1.0} <= times
    assert max(np.abs(x).max() for _, x in seen) == 1e3
    log_weights = logsumexp(np.zeros(3))   # noqa: F841 - scipy imported for the score above


def test_fixed_false_checks_only_drawn_inputs():
    report = C.check(CASE.drift, "drift", CASE, fixed=False, max_examples=5)
    assert report.passed and report.examples == 5 and "fixed=False" in report.details


# --- time intervals -------------------------------------------------------------------------------------

def test_min_t_and_max_t_restrict_every_time():
    times = []

    def drift(x, t):
        times.extend(np.atleast_1d(np.asarray(t, dtype=np.float64)).tolist())
        return CASE.drift(x, t)

    assert C.check(drift, "drift", CASE, min_t=0.2, max_t=0.3, max_examples=20).passed
    assert min(times) >= 0.2 and max(times) <= 0.3 and {0.2, 0.3} <= set(times)


@pytest.mark.parametrize("options, message", [
    (dict(times=[0.5], min_t=0.1), "either times"),
    (dict(min_t=0.6, max_t=0.4), "min_t must be <= max_t"),
    (dict(min_t=1.5), "min_t must be a time in [0, 1]"),
    (dict(max_t="1"), "max_t must be a number"),
])
def test_bad_time_intervals_are_refused(options, message):
    with pytest.raises((ValueError, TypeError), match=message.replace("[", r"\[").replace("]", r"\]")):
        C.check(CASE.drift, "drift", CASE, **options)


def test_an_interval_outside_the_quantity_domain_is_refused():
    with pytest.raises(ValueError, match="does not meet"):
        C.check(lambda t: BROWNIAN.gamma_dot(t), "ScoreFromNoise", CASE, min_t=0.995, max_t=1.0)


# --- reproducibility --------------------------------------------------------------------------------

def test_the_same_seed_gives_the_same_report_after_importing_a_module_full_of_new_literals(tmp_path, monkeypatch):
    def run():
        inputs = []

        def drift(x, t):
            inputs.append((np.asarray(t, dtype=np.float64).tobytes(), x.tobytes()))
            return CASE.drift(x, t) + (1e-3 if np.any(np.asarray(t) > 0.9) else 0.0)
        return C.check(drift, "drift", CASE, max_examples=40, seed=5), inputs

    first, first_inputs = run()
    literals = [round(0.0137 * i - 2.0, 4) for i in range(400)] + [0.91, 0.95, 0.999, 3.14159]
    (tmp_path / "fresh_literals_module.py").write_text(f"VALUES = {literals!r}\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("fresh_literals_module")
    try:
        second, second_inputs = run()
    finally:
        sys.modules.pop("fresh_literals_module", None)
    assert first_inputs == second_inputs
    assert str(first) == str(second) and not first.passed


# --- the forms of every mistake are computed without hidden exceptions ------------------------------

@pytest.mark.parametrize("name", sorted(QUANTITIES))
def test_every_mistake_form_evaluates_or_is_undefined_without_raising(name):
    """In strict mode an exception inside a form propagates: none may hide behind 'no evidence'."""
    q = QUANTITIES[name]
    reference = next(r for r in q.fixed_references() if q.accepts(r)) if q.fixed_references() else None
    if reference is None:
        pytest.skip(f"{name} has no named reference")
    tolerance = compare.Tolerance()
    own = q.own_implementation(EPS)
    impl = own(reference) if q.takes_factory else own
    count, failures = _fixed_phase(q, impl, reference, EPS, time_range(), False, tolerance)
    assert count and not failures
    examples = [ex for ex in q.fixed_examples(reference, EPS, time_range())]
    with compare.strict_variants():
        for ex in examples[:3]:
            try:
                expected = np.asarray(q.exact(ex), dtype=np.float64)
            except ValueError:
                continue
            wrong = compare.Failure(ex, -expected + 1.0, expected, "values differ")
            compare.diagnoses(q, [wrong])
