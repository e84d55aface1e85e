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
]


@pytest.mark.parametrize("call, exception, fragments", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_loss_input_raises_a_clear_message(call, exception, fragments):
    assert_raises_naming(call, exception, fragments)
