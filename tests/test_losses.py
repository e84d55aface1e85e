"""Quadratic objectives: unbiased (plain vs antithetic), minimised at the exact fields."""

import numpy as np
import pytest

import si_ref
from si_ref.losses import FIELD_TARGETS, Batch, mean_square_loss, objective, regression_target, sample_batch

from reference import assert_raises_naming


def mixture_case():
    target = si_ref.GaussianMixture(np.array([0.3, 0.7]), np.array([[-1.5, 0.0], [1.0, 1.0]]),
                                    np.stack([0.2 * np.eye(2), 0.4 * np.eye(2)]))
    return si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()), si_ref.Gaussian(np.zeros(2), np.eye(2)), target)


CASE = mixture_case()
BATCH = sample_batch(CASE.interpolant, CASE.base, CASE.target, 100_000, np.random.default_rng(0), t_min=1e-6, t_max=1 - 1e-6)


def perturbed(name):
    exact = getattr(CASE, name)
    return lambda x, t: exact(x, t) + 0.2 * np.sin(x) + 0.05


@pytest.mark.parametrize("name", FIELD_TARGETS)
@pytest.mark.parametrize("field_kind", ["exact", "perturbed"])
def test_plain_and_antithetic_estimators_agree_in_mean(name, field_kind):
    field = getattr(CASE, name) if field_kind == "exact" else perturbed(name)
    plain = objective(name, field, CASE.interpolant, BATCH)
    antithetic = objective(name, field, CASE.interpolant, BATCH, antithetic=True)
    # both estimate the same objective from the same batch; 4 combined standard errors
    combined = np.hypot(plain.standard_error, antithetic.standard_error)
    assert abs(plain.mean - antithetic.mean) < 4 * combined, (plain, antithetic)


@pytest.mark.parametrize("name", ["drift", "score"])
def test_antithetic_form_reduces_the_variance_for_the_brownian_gamma(name):
    plain = objective(name, getattr(CASE, name), CASE.interpolant, BATCH)
    antithetic = objective(name, getattr(CASE, name), CASE.interpolant, BATCH, antithetic=True)
    assert antithetic.standard_error < 0.6 * plain.standard_error, (plain, antithetic)


@pytest.mark.parametrize("name", FIELD_TARGETS)
def test_objective_is_minimised_at_the_exact_field_by_half_the_squared_perturbation(name):
    exact, wrong = getattr(CASE, name), perturbed(name)
    excess = objective(name, wrong, CASE.interpolant, BATCH).mean - objective(name, exact, CASE.interpolant, BATCH).mean
    # per sample the excess is (f − y)·δ + ½|δ|²; the first term has mean zero
    t, x0, x1, z = BATCH
    x = CASE.interpolant.interpolant(t, x0, x1, z)
    delta = wrong(x, t) - exact(x, t)
    cross = np.sum((exact(x, t) - regression_target(name, CASE.interpolant, BATCH)) * delta, axis=1)
    half_delta_sq = 0.5 * np.mean(np.sum(delta**2, axis=1))
    assert excess > 0
    assert abs(excess - half_delta_sq) < 4 * cross.std() / np.sqrt(cross.size), (excess, half_delta_sq)


@pytest.mark.parametrize("name", FIELD_TARGETS)
@pytest.mark.parametrize("antithetic", [False, True])
def test_mean_square_form_differs_by_half_the_mean_squared_target(name, antithetic):
    field = perturbed(name)
    plain_form = mean_square_loss(name, field, CASE.interpolant, BATCH, antithetic=antithetic).mean
    quadratic = objective(name, field, CASE.interpolant, BATCH, antithetic=antithetic).mean
    signs = (1.0, -1.0) if antithetic else (1.0,)
    half_y_sq = np.mean([0.5 * np.mean(np.sum(regression_target(name, CASE.interpolant, BATCH, s) ** 2, axis=1)) for s in signs])
    np.testing.assert_allclose(plain_form, quadratic + half_y_sq, rtol=1e-10)


def test_score_target_is_refused_where_gamma_vanishes():
    batch = Batch(np.array([0.0, 0.5]), np.zeros((2, 1)), np.ones((2, 1)), np.ones((2, 1)))
    with pytest.raises(ValueError, match=r"score target -z/gamma is undefined at t = \[0\.0\]"):
        objective("score", lambda x, t: x, si_ref.LinearInterpolant(si_ref.BrownianGamma()), batch)


def test_time_bounds_accept_zero_dimensional_arrays():
    batch = sample_batch(CASE.interpolant, CASE.base, CASE.target, 200, np.random.default_rng(1), t_min=np.array(0.3), t_max=np.array(0.6))
    same = sample_batch(CASE.interpolant, CASE.base, CASE.target, 200, np.random.default_rng(1), t_min=0.3, t_max=0.6)
    for a, b in zip(batch, same):
        np.testing.assert_array_equal(a, b)
    assert 0.3 <= batch.t.min() and batch.t.max() < 0.6


SMALL = sample_batch(CASE.interpolant, CASE.base, CASE.target, 8, np.random.default_rng(2), t_min=0.1, t_max=0.9)
NAN_AT_HALF = lambda x, t: np.where((t > 0.5)[:, None], np.nan, x)  # noqa: E731


class NoSample:
    dim = 2


BAD = [
    ("unknown-field", lambda: objective("flow", CASE.drift, CASE.interpolant, BATCH), ValueError, ["name must be one of"]),
    ("batch-not-batch", lambda: objective("drift", CASE.drift, CASE.interpolant, (1, 2, 3, 4)), TypeError, ["batch must be a si_ref.losses.Batch"]),
    ("batch-shapes-differ", lambda: objective("noise", CASE.noise, CASE.interpolant, Batch(np.zeros(3), np.zeros((3, 2)), np.zeros((2, 2)), np.zeros((3, 2)))),
     ValueError, ["batch arrays must share n"]),
    ("batch-empty", lambda: objective("noise", CASE.noise, CASE.interpolant, Batch(np.zeros(0), np.zeros((0, 2)), np.zeros((0, 2)), np.zeros((0, 2)))),
     ValueError, ["at least one sample"]),
    ("batch-nan", lambda: objective("noise", CASE.noise, CASE.interpolant, Batch(np.zeros(1), np.full((1, 2), np.nan), np.zeros((1, 2)), np.zeros((1, 2)))),
     ValueError, ["batch.x0 must contain only finite values"]),
    ("field-wrong-shape", lambda: objective("noise", lambda x, t: x[:, :1], CASE.interpolant, BATCH), ValueError,
     ["the field must return shape (n, d)"]),
    ("sample-n-zero", lambda: sample_batch(CASE.interpolant, CASE.base, CASE.target, 0, np.random.default_rng(0)), ValueError,
     ["n must be a positive integer"]),
    ("sample-times-reversed", lambda: sample_batch(CASE.interpolant, CASE.base, CASE.target, 5, np.random.default_rng(0), t_min=0.8, t_max=0.2),
     ValueError, ["0 <= t_min < t_max <= 1"]),
    # issue 14: wrong types reaching attribute errors, NaN fields, overflow, n beyond memory, bools
    ("sample-interpolant-a-string", lambda: sample_batch("linear", CASE.base, CASE.target, 5, np.random.default_rng(0)), TypeError,
     ["interpolant must be an Interpolant", "str"]),
    ("sample-target-an-array", lambda: sample_batch(CASE.interpolant, CASE.base, np.zeros((5, 2)), 5, np.random.default_rng(0)), TypeError,
     ["target must be a distribution with a method sample(n, rng)", "ndarray"]),
    ("sample-base-without-sample", lambda: sample_batch(CASE.interpolant, NoSample(), CASE.target, 5, np.random.default_rng(0)), TypeError,
     ["base must be a distribution with a method sample(n, rng)", "NoSample"]),
    ("sample-n-beyond-memory", lambda: sample_batch(CASE.interpolant, CASE.base, CASE.target, 10**12, np.random.default_rng(0)), ValueError,
     ["n=1000000000000 samples of dimension 2 would need about", "TiB of memory", "smaller batches"]),
    ("sample-n-float", lambda: sample_batch(CASE.interpolant, CASE.base, CASE.target, 5.0, np.random.default_rng(0)), TypeError,
     ["n must be a positive integer", "5.0"]),
    ("sample-t-max-above-one", lambda: sample_batch(CASE.interpolant, CASE.base, CASE.target, 5, np.random.default_rng(0), t_max=np.array(1.5)),
     ValueError, ["t_max must lie in the closed interval [0, 1]", "1.5"]),
    ("sample-rng-seed", lambda: sample_batch(CASE.interpolant, CASE.base, CASE.target, 5, 0), TypeError, ["rng must be a numpy.random.Generator"]),
    ("objective-interpolant-wrong-type", lambda: objective("drift", CASE.drift, CASE.base, SMALL), TypeError,
     ["interpolant must be an Interpolant", "Gaussian"]),
    ("mean-square-interpolant-none", lambda: mean_square_loss("noise", CASE.noise, None, SMALL), TypeError,
     ["interpolant must be an Interpolant", "NoneType"]),
    ("regression-target-interpolant-wrong-type", lambda: regression_target("noise", "linear", SMALL), TypeError,
     ["interpolant must be an Interpolant", "str"]),
    ("regression-target-batch-tuple", lambda: regression_target("noise", CASE.interpolant, tuple(SMALL)), TypeError,
     ["batch must be a si_ref.losses.Batch"]),
    ("objective-field-not-callable", lambda: objective("noise", np.zeros((8, 2)), CASE.interpolant, SMALL), TypeError,
     ["field must be a callable f(x, t)"]),
    ("objective-field-nan", lambda: objective("noise", NAN_AT_HALF, CASE.interpolant, SMALL), ValueError,
     ["the field returned NaN or inf at", "t_min > 0 or t_max < 1"]),
    ("mean-square-field-inf", lambda: mean_square_loss("drift", lambda x, t: np.full_like(x, np.inf), CASE.interpolant, SMALL), ValueError,
     ["the field returned NaN or inf at", "8 of 8 rows"]),
    ("objective-field-complex", lambda: objective("noise", lambda x, t: x + 0j, CASE.interpolant, SMALL), TypeError,
     ["the field must return real numbers", "complex128"]),
    ("objective-overflows", lambda: objective("noise", lambda x, t: np.full_like(x, 1e200), CASE.interpolant, SMALL), ValueError,
     ["the loss overflows float64"]),
    ("objective-antithetic-string", lambda: objective("noise", CASE.noise, CASE.interpolant, SMALL, antithetic="yes"), TypeError,
     ["antithetic must be True or False", "'yes'"]),
    ("mean-square-antithetic-int", lambda: mean_square_loss("noise", CASE.noise, CASE.interpolant, SMALL, antithetic=2), TypeError,
     ["antithetic must be True or False", "2"]),
    ("objective-antithetic-none", lambda: objective("noise", CASE.noise, CASE.interpolant, SMALL, antithetic=None), TypeError,
     ["antithetic must be True or False", "None"]),
    ("batch-time-outside", lambda: objective("noise", CASE.noise, CASE.interpolant, Batch(np.array([1.5]), np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((1, 2)))),
     ValueError, ["batch.t must lie in the closed interval [0, 1]", "1.5"]),
]


@pytest.mark.parametrize("call, exception, fragments", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_loss_input_raises_a_clear_message(call, exception, fragments):
    assert_raises_naming(call, exception, fragments)
