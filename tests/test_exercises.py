"""The classroom exercises: every stub fails its conformance check, every reference solution passes."""

import importlib

import numpy as np
import pytest

from si_ref.validate import REQUIRED, discover_studies
from si_ref.validation import exercises

#: Inputs per conformance check: a stub fails at the first one; 50 exercise each solution across
#: scalar and per-row times, n == d and the endpoints while keeping the file at a few seconds.
STUB_EXAMPLES = 5
SOLUTION_EXAMPLES = 50


def _modules(name):
    exercise = importlib.import_module(f"si_ref.validation.exercises.{name}")
    solution = importlib.import_module(f"si_ref.validation.exercises.solutions.{name}")
    return exercise, solution


def _text(reports):
    return "\n\n".join(str(r) for r in reports)


@pytest.mark.parametrize("name", exercises.EXERCISES)
def test_stubs_fail_every_check(name):
    exercise, _ = _modules(name)
    reports = exercise.check(exercise, max_examples=STUB_EXAMPLES)
    assert reports
    assert not any(r.passed for r in reports), _text(reports)


@pytest.mark.parametrize("name", exercises.EXERCISES)
def test_solutions_pass_every_check(name):
    exercise, solution = _modules(name)
    reports = exercise.check(solution, max_examples=SOLUTION_EXAMPLES)
    assert reports
    assert all(r.passed for r in reports), _text(reports)


def test_check_defaults_to_the_exercise_module_itself():
    exercise, _ = _modules("ex01_gamma_schedule")
    reports = exercise.check(max_examples=STUB_EXAMPLES)
    assert [r.quantity for r in reports] == ["gamma", "gamma_dot", "gamma_gamma_dot"]
    assert "NotImplementedError" in reports[0].counterexample.error


def test_package_entry_point_fails_on_the_stubs(capsys):
    status = exercises.main(["--max-examples", str(STUB_EXAMPLES)])
    lines = capsys.readouterr().out.splitlines()
    assert status == 1
    assert [line.split(":")[0] for line in lines[:-1]] == list(exercises.EXERCISES)
    assert all(": FAIL (0/" in line for line in lines[:-1])
    assert lines[-1].startswith(f"0/{len(exercises.EXERCISES)} exercises pass")


def test_package_entry_point_passes_on_the_solutions(capsys):
    status = exercises.main(["--solutions", "--max-examples", "3"])
    lines = capsys.readouterr().out.splitlines()
    assert status == 0, "\n".join(lines)
    assert all(": PASS (" in line for line in lines[:-1])


def test_exercises_package_is_not_a_validation_study():
    assert not any(hasattr(exercises, attribute) for attribute in REQUIRED)
    assert "exercises" not in discover_studies()


@pytest.mark.parametrize("name", exercises.EXERCISES)
def test_docstring_says_how_to_run_and_where_the_solution_is(name):
    exercise, _ = _modules(name)
    assert f"si-ref exercises check {name}.py" in exercise.__doc__ and "si-ref exercises init" in exercise.__doc__
    assert f"si_ref/validation/exercises/solutions/{name}.py" in exercise.__doc__


def test_ridge_fit_error_is_the_documented_one():
    """ex06's docstring: max |Φ(x) W − b(x)| over the checked box is 0.011 with seed 0, far below ATOL."""
    ex06, solution = _modules("ex06_ridge_fit")
    case = ex06.gaussian_case()
    chol = np.linalg.cholesky(case.cov(ex06.T0))
    grid = np.linspace(-3.0, 3.0, 7)
    u = np.stack(np.meshgrid(grid, grid), axis=-1).reshape(-1, 2)          # the box |u_j| <= 3, corners included
    x = case.mean(ex06.T0) + u @ chol.T
    error = np.abs(ex06.fitted_drift(solution.ridge_fit)(x, ex06.T0) - case.drift(x, ex06.T0)).max()
    np.testing.assert_allclose(error, 0.011, rtol=0.05)
    assert error < ex06.ATOL / 5


def test_ridge_fit_solution_solves_the_penalised_normal_equations():
    """The check of ex06 uses a negligible penalty; the optimality condition Φᵀ(Y − ΦW) = λW tests it."""
    _, solution = _modules("ex06_ridge_fit")
    rng = np.random.default_rng(1)
    phi, y, penalty = rng.standard_normal((50, 4)), rng.standard_normal((50, 3)), 7.5
    w = solution.ridge_fit(phi, y, penalty)
    assert w.shape == (4, 3)
    np.testing.assert_allclose(phi.T @ (y - phi @ w), penalty * w, rtol=1e-10, atol=1e-12)
