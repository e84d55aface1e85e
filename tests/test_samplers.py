"""ODE and SDE samplers against the exact flow map and the exact marginals of Gaussian cases."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import si_ref
from si_ref.samplers import (
    RK4,
    ButcherTableau,
    Euler,
    ExplicitRungeKutta,
    EulerMaruyama,
    Heun,
    SDETerm,
    StochasticHeun,
    integrate,
    integrate_reference,
    uniform_grid,
)

from reference import assert_raises_naming

S0 = np.array([[1.0, 0.3], [0.3, 0.5]])
S1 = np.array([[0.4, -0.2], [-0.2, 1.5]])


def non_commuting_case():
    c = 0.3 * np.linalg.cholesky(S0) @ np.linalg.cholesky(S1).T
    return si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()),
                               si_ref.Gaussian(np.zeros(2), S0), si_ref.Gaussian(np.array([3.0, -1.0]), S1), cross_cov=c)


def commuting_case():
    return si_ref.GaussianCase(si_ref.TrigInterpolant(si_ref.BSquaredGamma()),
                               si_ref.Gaussian(np.array([1.0, 0.0]), np.diag([1.0, 0.3])),
                               si_ref.Gaussian(np.array([-1.0, 2.0]), np.diag([0.5, 2.0])))


CASES = {"non-commuting": non_commuting_case, "commuting": commuting_case}
STEPPERS = {"Euler": (Euler(), 1, 0.1), "Heun": (Heun(), 2, 0.1), "RK4": (RK4(), 4, 0.15)}


def flow_errors(case, stepper, steps, x_start, t0=0.0, t1=1.0):
    exact = case.flow_map(x_start, t1, t0)
    return np.array([np.max(np.abs(integrate(case.drift, stepper, uniform_grid(t0, t1, n), x_start).states[-1] - exact))
                     for n in steps])


@pytest.mark.parametrize("case_name", CASES)
@pytest.mark.parametrize("stepper_name", STEPPERS)
def test_ode_steppers_converge_at_their_order_to_the_exact_flow_map(case_name, stepper_name):
    case = CASES[case_name]()
    stepper, order, tolerance = STEPPERS[stepper_name]
    assert case.commuting() == (case_name == "commuting")
    x_start = case.base.sample(20, np.random.default_rng(0))
    steps = np.array([8, 16, 32, 64])
    errors = flow_errors(case, stepper, steps, x_start)
    slope = np.polyfit(np.log(1.0 / steps), np.log(errors), 1)[0]
    assert abs(slope - order) <= tolerance, (stepper_name, errors, slope)


def test_rk4_with_64_steps_is_accurate_to_1e_8_on_a_smooth_case():
    # linear path with Brownian γ: Σ(t) is a quadratic polynomial in t
    case = si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()),
                               si_ref.Gaussian(np.array([1.0, 0.0]), np.diag([1.0, 0.3])),
                               si_ref.Gaussian(np.array([-1.0, 2.0]), np.diag([0.5, 2.0])))
    x_start = case.base.sample(50, np.random.default_rng(1))
    assert flow_errors(case, RK4(), [64], x_start)[0] <= 1e-8


@pytest.mark.parametrize("stepper, tolerance", [(RK4(), 1e-8), (Heun(), 1e-4)], ids=["RK4", "Heun"])
def test_forward_then_backward_integration_returns_to_the_start(stepper, tolerance):
    case = non_commuting_case()
    x_start = case.base.sample(20, np.random.default_rng(2))
    there = integrate(case.drift, stepper, uniform_grid(0, 1, 128), x_start).states[-1]
    back = integrate(case.drift, stepper, uniform_grid(1, 0, 128), there).states[-1]
    np.testing.assert_allclose(back, x_start, atol=tolerance)


def test_reference_integrator_matches_the_exact_flow_map_at_the_saved_times():
    case = non_commuting_case()
    x_start = case.base.sample(10, np.random.default_rng(3))
    times = np.array([0.0, 0.25, 0.6, 1.0])
    solution = integrate_reference(case.drift, x_start, 0.0, 1.0, save_at=times, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(solution.times, times)
    for t, state in zip(times, solution.states):
        np.testing.assert_allclose(state, case.flow_map(x_start, t, 0.0), atol=1e-9)


def test_saved_states_are_the_states_at_the_requested_grid_times():
    case = commuting_case()
    x_start = case.base.sample(5, np.random.default_rng(4))
    grid = uniform_grid(0, 1, 40)
    solution = integrate(case.drift, RK4(), grid, x_start, save_at=[grid[10], grid[0], grid[40]])
    np.testing.assert_array_equal(solution.times, [grid[0], grid[10], grid[40]])
    np.testing.assert_array_equal(solution.states[0], x_start)
    np.testing.assert_array_equal(solution.states[1], integrate(case.drift, RK4(), grid[:11], x_start).states[-1])
    np.testing.assert_allclose(solution.states[1], case.flow_map(x_start, grid[10], 0.0), atol=1e-6)  # RK4 error
    assert grid[-1] == 1.0 and uniform_grid(1, 0, 7)[-1] == 0.0   # the last step lands exactly


def test_a_user_tableau_padded_to_a_full_matrix_converges_at_its_order():
    # the explicit midpoint method, its a written as a full lower-triangular matrix with zeros
    midpoint = ExplicitRungeKutta(ButcherTableau("midpoint", 2, a=((0.0, 0.0), (0.5, 0.0)), b=(0.0, 1.0), c=(0.0, 0.5)))
    case = non_commuting_case()
    steps = np.array([8, 16, 32, 64])
    errors = flow_errors(case, midpoint, steps, case.base.sample(20, np.random.default_rng(5)))
    assert abs(np.polyfit(np.log(1.0 / steps), np.log(errors), 1)[0] - 2) <= 0.1, errors


def test_reference_integrator_saves_unsorted_times_once_each_in_the_order_of_integration():
    case = commuting_case()
    x_start = case.base.sample(4, np.random.default_rng(6))
    solution = integrate_reference(case.drift, x_start, 0.9, 0.1, save_at=[0.5, 0.9, 0.1, 0.5, 0.3])
    np.testing.assert_array_equal(solution.times, [0.9, 0.5, 0.3, 0.1])
    for t, state in zip(solution.times, solution.states):
        np.testing.assert_allclose(state, case.flow_map(x_start, t, 0.9), atol=1e-8)


def test_reference_integrator_refuses_a_field_it_cannot_resolve_within_its_budget():
    # a field that jumps at the scale of the tolerances: the adaptive step would shrink without end
    calls = [0]

    def jumpy(x, t):
        calls[0] += 1
        return np.sign(np.sin(1e7 * x)) * 1e-3 + 0.0 * t

    with pytest.raises(RuntimeError, match=r"integrate_reference did not finish within max_evaluations=300 .*raise max_evaluations"):
        integrate_reference(jumpy, np.full((2, 1), 0.3), 0.0, 1.0, max_evaluations=300)
    assert calls[0] == 300          # the budget is exact: the 301st call raises before the field runs


def test_time_bounds_accept_zero_dimensional_arrays_as_the_readme_says():
    np.testing.assert_array_equal(uniform_grid(np.array(0.2), np.array(1.0), 4), uniform_grid(0.2, 1.0, 4))
    case = commuting_case()
    x_start = case.base.sample(2, np.random.default_rng(8))
    np.testing.assert_array_equal(integrate_reference(case.drift, x_start, np.array(0.1), np.array(0.6)).states,
                                  integrate_reference(case.drift, x_start, 0.1, 0.6).states)


def test_an_ode_accepts_a_generator_and_ignores_it_bit_for_bit():
    case = commuting_case()
    x_start = case.base.sample(3, np.random.default_rng(7))
    grid = uniform_grid(0, 1, 10)
    np.testing.assert_array_equal(integrate(case.drift, Heun(), grid, x_start, rng=np.random.default_rng(0)).states,
                                  integrate(case.drift, Heun(), grid, x_start).states)


# --- SDEs --------------------------------------------------------------------------------------

EPSILONS = {"constant-0.5": 0.5, "constant-2": 2.0, "time-dependent": lambda t: 1.5 * np.sin(np.pi * t) ** 2 + 0.1}


def gaussian_case():
    return si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()),
                               si_ref.Gaussian(np.zeros(2), np.eye(2)), si_ref.Gaussian(np.array([2.0, -1.0]), S1))


@pytest.mark.parametrize("eps_name", EPSILONS)
@pytest.mark.parametrize("stepper", [EulerMaruyama(), StochasticHeun()], ids=["EM", "stochastic-Heun"])
def test_forward_sde_samples_have_the_exact_gaussian_marginal_at_t1(eps_name, stepper):
    case, n = gaussian_case(), 40_000
    rng = np.random.default_rng(5)
    x = integrate(SDETerm(case.drift, case.score, EPSILONS[eps_name]), stepper, uniform_grid(0, 1, 200),
                  case.base.sample(n, rng), rng=rng).states[-1]
    largest = np.max(np.diag(S1))
    # five standard errors of the sample moments, plus 0.01 for the O(h) bias of the scheme
    # (measured ~0.003 for Euler-Maruyama at 200 steps); a sign error in ε s fails by far
    np.testing.assert_allclose(x.mean(axis=0), case.mean(1.0), atol=5 * np.sqrt(largest / n) + 0.01)
    np.testing.assert_allclose(np.cov(x.T), S1, atol=5 * np.sqrt(2 / n) * largest + 0.01)


def test_backward_sde_samples_have_the_exact_base_marginal_at_t0():
    case, n = gaussian_case(), 40_000
    rng = np.random.default_rng(6)
    x = integrate(SDETerm(case.drift, case.score, 1.0), EulerMaruyama(), uniform_grid(1, 0, 200),
                  case.target.sample(n, rng), rng=rng).states[-1]
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=5 * np.sqrt(1 / n) + 0.01)
    np.testing.assert_allclose(np.cov(x.T), np.eye(2), atol=5 * np.sqrt(2 / n) + 0.01)


def mixture_cdf_along(case, direction, t):
    """CDF of the projection u·x of ρ_t (a Gaussian mixture) onto a unit vector u."""
    weights, means, covs = case.components(t)
    locs, scales = means @ direction, np.sqrt(np.einsum("i,pij,j->p", direction, covs, direction))
    return lambda v: np.sum(weights * stats.norm.cdf((np.asarray(v)[..., None] - locs) / scales), axis=-1)


@pytest.mark.parametrize("eps", [0.5, lambda t: 1.0 + t], ids=["constant", "time-dependent"])
def test_forward_sde_samples_match_the_exact_mixture_marginal_on_projections(eps):
    target = si_ref.GaussianMixture(np.array([0.3, 0.7]), np.array([[-2.0, 0.0], [2.0, 1.0]]),
                                    np.stack([0.2 * np.eye(2), np.array([[0.4, 0.1], [0.1, 0.3]])]))
    case = si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()), si_ref.Gaussian(np.zeros(2), np.eye(2)), target)
    rng = np.random.default_rng(7)
    x = integrate(SDETerm(case.drift, case.score, eps), StochasticHeun(), uniform_grid(0, 1, 200),
                  case.base.sample(4000, rng), rng=rng).states[-1]
    for direction in (np.array([1.0, 0.0]), np.array([0.6, 0.8])):
        p_value = stats.kstest(x @ direction, mixture_cdf_along(case, direction, 1.0)).pvalue
        assert p_value > 1e-3, (direction, p_value)  # fixed seed; a wrong sign of ε s gives p < 1e-10


def test_euler_maruyama_weak_error_shrinks_at_order_one():
    case, n = gaussian_case(), 200_000
    steps = np.array([4, 8, 16, 32])
    errors = []
    for k in steps:
        rng = np.random.default_rng(8)
        x = integrate(SDETerm(case.drift, case.score, 1.0), EulerMaruyama(), uniform_grid(0, 1, int(k)),
                      case.base.sample(n, rng), rng=rng).states[-1]
        errors.append(np.max(np.abs(np.cov(x.T) - S1)) + np.max(np.abs(x.mean(axis=0) - case.mean(1.0))))
    slope = np.polyfit(np.log(1.0 / steps), np.log(errors), 1)[0]
    # Monte Carlo noise (~0.004 at n = 2e5) stays well below the bias at 32 steps (~0.016)
    assert 0.8 <= slope <= 1.3, (errors, slope)


def test_stochastic_heun_is_more_accurate_in_law_than_euler_maruyama():
    """Moment errors at 8 steps (n = 2e5): about 0.014 for stochastic Heun against 0.063 for
    Euler-Maruyama; a Heun predictor without its noise term is worse than Euler-Maruyama."""
    case, n = gaussian_case(), 200_000
    errors = {}
    for stepper in (EulerMaruyama(), StochasticHeun()):
        rng = np.random.default_rng(10)
        x = integrate(SDETerm(case.drift, case.score, 1.0), stepper, uniform_grid(0, 1, 8),
                      case.base.sample(n, rng), rng=rng).states[-1]
        errors[type(stepper).__name__] = np.max(np.abs(np.cov(x.T) - S1)) + np.max(np.abs(x.mean(axis=0) - case.mean(1.0)))
    assert errors["StochasticHeun"] < 0.4 * errors["EulerMaruyama"], errors


def test_eps_zero_sde_is_the_ode():
    case = gaussian_case()
    x_start = case.base.sample(5, np.random.default_rng(9))
    sde = integrate(SDETerm(case.drift, case.score, 0.0), StochasticHeun(), uniform_grid(0, 1, 20), x_start,
                    rng=np.random.default_rng(0)).states[-1]
    ode = integrate(case.drift, Heun(), uniform_grid(0, 1, 20), x_start).states[-1]
    np.testing.assert_allclose(sde, ode, rtol=1e-14, atol=1e-14)


@given(st.integers(0, 2**32 - 1), st.sampled_from([EulerMaruyama(), StochasticHeun()]))
def test_same_seed_gives_bit_identical_paths(seed, stepper):
    case = gaussian_case()
    x_start = np.ones((3, 2))
    term = SDETerm(case.drift, case.score, 0.7)
    grid = uniform_grid(0, 1, 10)
    first = integrate(term, stepper, grid, x_start, rng=np.random.default_rng(seed), save_at=grid)
    second = integrate(term, stepper, grid, x_start, rng=np.random.default_rng(seed), save_at=grid)
    np.testing.assert_array_equal(first.states, second.states)


def test_plain_callables_and_conditioning_work_in_any_dimension():
    d = 7
    decay = lambda x, t, c: -c * x  # noqa: E731  ẋ = −c x, exact solution x0 e^{−c t}
    x_start = np.arange(2 * d, dtype=float).reshape(2, d)
    solution = integrate(decay, RK4(), uniform_grid(0, 1, 50), x_start, c=0.5)
    np.testing.assert_allclose(solution.states[-1], x_start * np.exp(-0.5), rtol=1e-8)
    np.testing.assert_array_equal(x_start, np.arange(2 * d, dtype=float).reshape(2, d))  # not modified


# --- bad input -------------------------------------------------------------------------------

CASE = gaussian_case()
X = np.zeros((3, 2))
BAD = [
    ("grid-not-monotone", lambda: integrate(CASE.drift, Euler(), [0.0, 0.5, 0.4, 1.0], X), ValueError,
     ["grid must be strictly increasing or strictly decreasing", "grid[1] = 0.5 then grid[2] = 0.4"]),
    ("grid-repeated-time", lambda: integrate(CASE.drift, Euler(), [0.0, 0.5, 0.5], X), ValueError, ["strictly"]),
    ("grid-outside", lambda: integrate(CASE.drift, Euler(), [0.0, 0.5, 1.2], X), ValueError,
     ["grid must lie in the closed interval [0, 1]", "1.2"]),
    ("field-wrong-shape", lambda: integrate(lambda x, t: x[:, :1], Euler(), [0.0, 0.5, 1.0], X), ValueError,
     ["must return shape (n, d) = (3, 2)", "step 0", "t = 0.0", "(3, 1)"]),
    ("field-nan", lambda: integrate(lambda x, t: x + (np.nan if t > 0.4 else 0.0), Euler(), [0.0, 0.5, 1.0], X), ValueError,
     ["returned NaN or inf at t = 0.5", "step 1", "t_min"]),
    ("eps-negative", lambda: SDETerm(CASE.drift, CASE.score, -1.0), ValueError, ["eps must be finite and non-negative", "-1.0"]),
    ("eps-callable-negative", lambda: integrate(SDETerm(CASE.drift, CASE.score, lambda t: t - 0.5), EulerMaruyama(), [0.0, 1.0], X,
                                                rng=np.random.default_rng(0)), ValueError, ["eps must be finite and non-negative", "-0.5"]),
    ("ode-stepper-with-sde", lambda: integrate(SDETerm(CASE.drift, CASE.score, 1.0), RK4(), [0.0, 1.0], X), TypeError,
     ["RK4 integrates a field (ODE)", "SDETerm"]),
    ("sde-stepper-with-field", lambda: integrate(CASE.drift, EulerMaruyama(), [0.0, 1.0], X, rng=np.random.default_rng(0)), TypeError,
     ["EulerMaruyama integrates an SDETerm"]),
    ("sde-without-rng", lambda: integrate(SDETerm(CASE.drift, CASE.score, 1.0), EulerMaruyama(), [0.0, 1.0], X), TypeError,
     ["rng must be a numpy.random.Generator"]),
    ("save-at-off-grid", lambda: integrate(CASE.drift, Euler(), [0.0, 0.5, 1.0], X, save_at=[0.3]), ValueError,
     ["save_at time 0.3 is not a point of the grid"]),
    ("uniform-grid-zero-steps", lambda: uniform_grid(0, 1, 0), ValueError, ["n_steps must be a positive integer"]),
    ("stepper-unknown", lambda: integrate(CASE.drift, "rk4", [0.0, 1.0], X), TypeError, ["stepper must be an instance such as Euler()"]),
    ("stepper-class", lambda: integrate(CASE.drift, RK4, [0.0, 1.0], X), TypeError, ["a class: add the parentheses"]),
    ("reference-empty-span", lambda: integrate_reference(CASE.drift, X, 0.5, 0.5), ValueError, ["t_start and t_end must differ"]),
    ("reference-save-outside", lambda: integrate_reference(CASE.drift, X, 0.2, 0.6, save_at=[0.1]), ValueError,
     ["save_at times must lie between t_start = 0.2 and t_end = 0.6"]),
    # issue 14
    ("tableau-none", lambda: ExplicitRungeKutta(tableau=None), TypeError,
     ["tableau must be a ButcherTableau(name, order, a, b, c)", "None", "RK4_TABLEAU"]),
    ("tableau-a-tuple", lambda: ExplicitRungeKutta(((), (1.0,))), TypeError, ["tableau must be a ButcherTableau", "tuple"]),
    ("tableau-b-longer-than-a", lambda: ExplicitRungeKutta(ButcherTableau("bad", 2, a=((),), b=(0.5, 0.5), c=(0.0,))), ValueError,
     ["as many rows of a and nodes c as weights b", "1 rows of a, 2 weights b and 1 nodes c"]),
    ("tableau-implicit", lambda: ExplicitRungeKutta(ButcherTableau("bad", 1, a=((0.5,),), b=(1.0,), c=(0.5,))), ValueError,
     ["tableau.a[0][0] = 0.5 makes the method implicit"]),
    ("tableau-row-too-long", lambda: ExplicitRungeKutta(ButcherTableau("bad", 1, a=((0.0, 0.0, 0.0),), b=(1.0,), c=(0.0,))), ValueError,
     ["tableau.a[0] must be a tuple of at most s = 1 coefficients"]),
    ("tableau-node-outside", lambda: ExplicitRungeKutta(ButcherTableau("bad", 1, a=((), (1.5,)), b=(0.5, 0.5), c=(0.0, 1.5))), ValueError,
     ["tableau.c[1] must lie in [0, 1]", "1.5"]),
    ("tableau-weights-sum", lambda: ExplicitRungeKutta(ButcherTableau("bad", 1, a=((),), b=(0.9,), c=(0.0,))), ValueError,
     ["tableau.b must sum to 1", "0.9"]),
    ("tableau-entry-nan", lambda: ExplicitRungeKutta(ButcherTableau("bad", 2, a=((), (np.nan,)), b=(0.5, 0.5), c=(0.0, 1.0))), ValueError,
     ["tableau.a[1][0] must be finite", "nan"]),
    ("tableau-entry-string", lambda: ExplicitRungeKutta(ButcherTableau("bad", 1, a=((),), b=("1",), c=(0.0,))), TypeError,
     ["tableau.b[0] must be a real number", "'1'"]),
    ("tableau-order-float", lambda: ExplicitRungeKutta(ButcherTableau("bad", 1.0, a=((),), b=(1.0,), c=(0.0,))), TypeError,
     ["tableau.order must be a positive integer", "1.0"]),
    ("save-at-empty", lambda: integrate(CASE.drift, Euler(), [0.0, 0.5, 1.0], X, save_at=np.zeros(0)), ValueError,
     ["save_at must hold at least one time", "empty", "Omit save_at"]),
    ("reference-save-at-empty", lambda: integrate_reference(CASE.drift, X, 0.0, 1.0, save_at=[]), ValueError,
     ["save_at must hold at least one time", "empty"]),
    ("ode-rng-not-generator", lambda: integrate(CASE.drift, RK4(), [0.0, 1.0], X, rng=0), TypeError,
     ["rng must be a numpy.random.Generator", "int", "default_rng"]),
    ("ode-rng-legacy", lambda: integrate(CASE.drift, Euler(), [0.0, 1.0], X, rng=np.random.RandomState(0)), TypeError,
     ["rng must be a numpy.random.Generator", "RandomState"]),
    ("sde-rng-seed", lambda: integrate(SDETerm(CASE.drift, CASE.score, 1.0), EulerMaruyama(), [0.0, 1.0], X, rng=1), TypeError,
     ["rng must be a numpy.random.Generator", "int"]),
    ("reference-rtol-nan", lambda: integrate_reference(CASE.drift, X, 0.0, 1.0, rtol=np.nan), ValueError, ["rtol must be finite", "nan"]),
    ("reference-atol-negative", lambda: integrate_reference(CASE.drift, X, 0.0, 1.0, atol=-1.0), ValueError,
     ["atol must be a finite number > 0", "-1.0"]),
    ("reference-atol-inf", lambda: integrate_reference(CASE.drift, X, 0.0, 1.0, atol=np.inf), ValueError, ["atol must be finite", "inf"]),
    ("reference-rtol-none", lambda: integrate_reference(CASE.drift, X, 0.0, 1.0, rtol=None), TypeError, ["rtol must be a real number", "None"]),
    ("reference-rtol-zero", lambda: integrate_reference(CASE.drift, X, 0.0, 1.0, rtol=0.0), ValueError, ["rtol must be a finite number > 0"]),
    ("reference-rtol-below-floor", lambda: integrate_reference(CASE.drift, X, 0.0, 1.0, rtol=1e-15), ValueError,
     ["rtol must be at least 100 machine epsilons", "1e-15"]),
    ("reference-max-evaluations-zero", lambda: integrate_reference(CASE.drift, X, 0.0, 1.0, max_evaluations=0), ValueError,
     ["max_evaluations must be a positive integer", "max_evaluations=0"]),
    ("reference-method-unknown", lambda: integrate_reference(CASE.drift, X, 0.0, 1.0, method="euler"), ValueError,
     ["method must be 'DOP853' or 'Radau'", "'euler'"]),
    ("reference-field-not-callable", lambda: integrate_reference("drift", X, 0.0, 1.0), TypeError, ["field must be a callable f(x, t)", "'drift'"]),
    ("uniform-grid-steps-float", lambda: uniform_grid(0, 1, 10.0), TypeError, ["n_steps must be a positive integer", "10.0", "float"]),
    ("uniform-grid-beyond-memory", lambda: uniform_grid(0, 1, 10**15), ValueError,
     ["a grid of n_steps=1000000000000000 would need about", "of memory", "pass fewer steps"]),
    ("uniform-grid-zero-d-times", lambda: uniform_grid(np.array([0.0, 1.0]), 1, 4), ValueError, ["t_start must be a single time"]),
]


@pytest.mark.parametrize("call, exception, fragments", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_sampler_input_raises_a_message_naming_argument_step_and_time(call, exception, fragments):
    assert_raises_naming(call, exception, fragments)
