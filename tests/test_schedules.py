"""Gamma schedules against their definitions evaluated in 400-digit arithmetic."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import si_ref
from si_ref import strategies as sis

from reference import derivative, gamma_definition, value

ALL_SCHEDULES = [
    si_ref.ZeroGamma(),
    si_ref.BrownianGamma(),
    si_ref.ScaledBrownianGamma(scale=2.5),
    si_ref.BSquaredGamma(),
    si_ref.SineSquaredGamma(),
    si_ref.SigmoidGamma(),
    si_ref.SigmoidGamma(sharpness=3.0),
]
IDS = [repr(g) for g in ALL_SCHEDULES]

# Closed form vs a 400-digit numerical derivative of the definition: rounding
# in float64 gives ~1e-15 relative; 1e-10 leaves room for nothing but bugs
# (a wrong factor or sign is an O(1) error). ATOL covers values crossing zero.
DERIVATIVE_RTOL = 1e-10
ATOL = 1e-13
# Results in the subnormal range (below 2.2e-308) only carry absolute precision
# 5e-324, so relative comparisons of values at subnormal t get this floor.
SUBNORMAL_FLOOR = 1e-300
interior_times = sis.times(exclude_min=True, exclude_max=True)


@pytest.mark.parametrize("schedule", ALL_SCHEDULES, ids=IDS)
def test_gamma_vanishes_exactly_at_both_endpoints(schedule):
    assert schedule.gamma(0.0) == 0.0
    assert schedule.gamma(1.0) == 0.0
    np.testing.assert_array_equal(schedule.gamma(np.array([0.0, 1.0])), [0.0, 0.0])


@pytest.mark.parametrize("schedule", ALL_SCHEDULES, ids=IDS)
def test_gamma_gamma_dot_is_finite_on_the_closed_interval(schedule):
    grid = np.linspace(0.0, 1.0, 1001)
    assert np.isfinite(schedule.gamma_gamma_dot(grid)).all()


@pytest.mark.parametrize("scale", [1.0, 0.3, 2.0])
def test_brownian_gamma_dot_is_exactly_infinite_at_the_endpoints(scale):
    schedule = si_ref.ScaledBrownianGamma(scale)
    assert schedule.gamma_dot(0.0) == math.inf
    assert schedule.gamma_dot(1.0) == -math.inf
    np.testing.assert_array_equal(schedule.gamma_dot(np.array([1.0, 0.0])), [-math.inf, math.inf])
    # while γγ̇ has the finite limits ±a/2 (arXiv:2303.08797v3, after eq. (4.13))
    assert schedule.gamma_gamma_dot(0.0) == scale / 2
    assert schedule.gamma_gamma_dot(1.0) == -scale / 2


def test_brownian_gamma_is_scaled_brownian_with_scale_one():
    t = np.linspace(0.0, 1.0, 11)
    for method in ("gamma", "gamma_dot", "gamma_gamma_dot"):
        np.testing.assert_array_equal(
            getattr(si_ref.BrownianGamma(), method)(t), getattr(si_ref.ScaledBrownianGamma(1.0), method)(t)
        )


@pytest.mark.parametrize("schedule", ALL_SCHEDULES, ids=IDS)
def test_values_at_half_and_max_gamma_match_the_definition(schedule):
    definition = gamma_definition(schedule)
    np.testing.assert_allclose(schedule.gamma(0.5), float(value(definition, 0.5)), rtol=1e-15, atol=0)
    # every schedule here peaks at t = 1/2 (symmetric, unimodal)
    grid = np.linspace(0.0, 1.0, 2001)
    assert schedule.max_gamma >= schedule.gamma(grid).max() * (1 - 1e-15)  # values carry ~1 ulp
    np.testing.assert_allclose(schedule.max_gamma, schedule.gamma(0.5), rtol=1e-15)


@given(sis.gamma_schedules(), interior_times)
def test_gamma_matches_its_definition(schedule, t):
    expected = float(value(gamma_definition(schedule), t))
    np.testing.assert_allclose(schedule.gamma(t), expected, rtol=1e-13, atol=SUBNORMAL_FLOOR)


@given(sis.gamma_schedules(), interior_times)
def test_gamma_dot_matches_derivative_of_the_definition(schedule, t):
    expected = float(derivative(gamma_definition(schedule), t))
    np.testing.assert_allclose(schedule.gamma_dot(t), expected, rtol=DERIVATIVE_RTOL, atol=ATOL)


@given(sis.gamma_schedules(), interior_times)
def test_gamma_gamma_dot_matches_gamma_times_derivative_of_the_definition(schedule, t):
    definition = gamma_definition(schedule)
    expected = float(value(definition, t) * derivative(definition, t))
    np.testing.assert_allclose(schedule.gamma_gamma_dot(t), expected, rtol=DERIVATIVE_RTOL, atol=ATOL)


@given(sis.gamma_schedules(), interior_times)
def test_gamma_gamma_dot_equals_product_of_gamma_and_gamma_dot_inside(schedule, t):
    product = schedule.gamma(t) * schedule.gamma_dot(t)
    np.testing.assert_allclose(schedule.gamma_gamma_dot(t), product, rtol=1e-12, atol=SUBNORMAL_FLOOR)


EDGE_TIMES = [1e-12, 1.0 - 1e-12, 1e-300, 1.0 - 2.0**-53]


@pytest.mark.parametrize("schedule", ALL_SCHEDULES, ids=IDS)
@pytest.mark.parametrize("t", EDGE_TIMES)
def test_values_next_to_the_endpoints_keep_full_relative_precision(schedule, t):
    """A naive sin(pi t) or a difference of sigmoids loses up to 4 digits at 1 - t = 1e-12."""
    definition = gamma_definition(schedule)
    exact_gamma = value(definition, t)
    exact_gamma_dot = derivative(definition, t)
    np.testing.assert_allclose(schedule.gamma(t), float(exact_gamma), rtol=1e-14, atol=0)
    np.testing.assert_allclose(schedule.gamma_dot(t), float(exact_gamma_dot), rtol=1e-14, atol=0)
    np.testing.assert_allclose(
        schedule.gamma_gamma_dot(t), float(exact_gamma * exact_gamma_dot), rtol=1e-14, atol=0
    )


@given(sis.gamma_schedules(), sis.time_arrays(st.integers(0, 6)))
def test_array_input_is_evaluated_elementwise_as_float64(schedule, t):
    for method in ("gamma", "gamma_dot", "gamma_gamma_dot"):
        values = getattr(schedule, method)(t)
        assert values.dtype == np.float64 and values.shape == t.shape
        scalars = [getattr(schedule, method)(float(s)) for s in t]
        # NumPy's vectorised sin/cos may differ from its scalar path by 1 ulp.
        np.testing.assert_allclose(values, np.array(scalars, dtype=np.float64).reshape(t.shape), rtol=1e-15)


def test_scalar_input_gives_a_numpy_float64_scalar_and_integers_are_accepted():
    value = si_ref.BrownianGamma().gamma(1)
    assert isinstance(value, np.float64) and value == 0.0
    assert si_ref.BSquaredGamma().gamma(np.float32(0.5)) == 0.25
    assert si_ref.BSquaredGamma().gamma(np.array([[0.5, 0.0]], dtype=np.float32)).dtype == np.float64


def test_times_are_not_modified():
    t = np.array([0.0, 0.3, 1.0])
    before = t.copy()
    si_ref.SigmoidGamma().gamma_dot(t)
    np.testing.assert_array_equal(t, before)


def test_sigmoid_peak_is_the_bump_height_shifted_by_its_endpoint_value():
    # γ(1/2) = σ(1) − σ(−1) − σ(1 − f/2) + σ(−1 − f/2), evaluated here in double precision
    sigmoid = lambda a: 1.0 / (1.0 + math.exp(-a))  # noqa: E731
    f = 10.0
    expected = sigmoid(1) - sigmoid(-1) - sigmoid(1 - f / 2) + sigmoid(-1 - f / 2)
    np.testing.assert_allclose(si_ref.SigmoidGamma(f).max_gamma, expected, rtol=1e-14)
