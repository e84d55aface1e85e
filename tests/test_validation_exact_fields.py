"""Smoke test of the exact-fields study (si_ref/validation/exact_fields.py) at its QUICK sizes."""

from pathlib import Path

import numpy as np
import pytest

from studies import assert_every_check_passes
from si_ref.validation import exact_fields


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIGURE_NAMES = {"density_snapshots.png", "residuals.png"}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return exact_fields.run(tmp_path_factory.mktemp("exact_fields"), **exact_fields.QUICK)


def test_every_check_passes_at_quick_sizes(results):
    assert_every_check_passes(exact_fields, results)


def test_every_family_and_case_is_checked_at_one_in_a_million(results):
    for family in exact_fields.FAMILIES:
        for case in exact_fields.CASES:
            assert exact_fields.TOLERANCES[f"{family.name}_{case}_max_relative_residual"] == ("<=", 1e-6)
            for equation in exact_fields.EQUATIONS:
                assert 0.0 <= results[f"{family.name}_{case}_{equation}"] <= 1e-6


def test_every_figure_is_written_as_a_png(results):
    paths = [Path(p) for p in results["figures"]]
    assert {p.name for p in paths} == FIGURE_NAMES
    for path in paths:
        assert path.is_file()
        assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_checks_fail_on_nan_missing_and_out_of_tolerance_values(results):
    broken = dict(results)
    broken["linear_gaussian_max_relative_residual"] = float("nan")
    del broken["mirror_mixture_max_relative_residual"]
    broken["trig_mixture_max_relative_residual"] = 1e-3                 # a wrong field
    broken["min_relative_residual_swapped_drift"] = 1e-9                 # a residual that cannot fail
    failed = {c.name for c in exact_fields.checks(broken) if not c.passed}
    assert failed == {"linear_gaussian_max_relative_residual", "mirror_mixture_max_relative_residual",
                      "trig_mixture_max_relative_residual", "min_relative_residual_swapped_drift"}
    assert all(not c.passed for c in exact_fields.checks({}))


def test_the_residual_detects_a_wrong_drift():
    # flipping the sign of γγ̇ s in b (the seed's published sign) breaks the continuity equation
    family = exact_fields.FAMILIES[0]
    case = exact_fields.build_case(family, "mixture")
    x, t = exact_fields.sample_points(case, 4, np.random.default_rng(1))
    gg_dot = family.interpolant.gamma_gamma_dot(t)[:, None]

    class WrongDrift:  # the case with b replaced by v + γγ̇ s
        def __getattr__(self, name):
            return getattr(case, name)

        def drift(self, y, s):
            return case.velocity(y, s) + gg_dot * case.score(y, s)

    exact = exact_fields.pde_residuals(case, x, t)["continuity"]
    wrong = exact_fields.pde_residuals(WrongDrift(), x, t)["continuity"]
    n_times = len(exact_fields.TIMES)
    assert exact_fields.relative_residual(exact, n_times) < 1e-9
    assert exact_fields.relative_residual(wrong, n_times) > 1e-2


def test_run_is_deterministic_for_a_given_seed(results, tmp_path):
    again = exact_fields.run(tmp_path, seed=0, **exact_fields.QUICK)   # the fixture used the default seed 0
    numbers = [k for k in results if k != "figures"]
    assert [again[k] for k in numbers] == [results[k] for k in numbers]   # bit-identical
    for first, second in zip(results["figures"], again["figures"]):
        assert Path(first).read_bytes() == Path(second).read_bytes()


def test_run_prints_nothing(tmp_path, capsys):
    exact_fields.run(tmp_path, n_points=1, grid=11)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"n_points": 0}, ValueError), ({"n_points": 2.5}, TypeError), ({"grid": True}, TypeError),
     ({"grid": 1}, ValueError), ({"seed": -1}, ValueError)],
    ids=["no_points", "n_points_not_integer", "grid_bool", "grid_below_two", "negative_seed"],
)
def test_run_refuses_bad_arguments(tmp_path, kwargs, error):
    name = next(iter(kwargs))
    with pytest.raises(error, match=name):
        exact_fields.run(tmp_path / "never", **kwargs)
    assert not (tmp_path / "never").exists()   # refused before anything is written


def test_main_exits_nonzero_when_a_check_fails(results, tmp_path, monkeypatch, capsys):
    # reuse the fixture's numbers: this tests main's verdict, not the study again
    monkeypatch.setattr(exact_fields, "run", lambda out_dir, **kwargs: results)
    assert exact_fields.main(["--out", str(tmp_path), "--quick"]) == 0
    assert "all checks PASS" in capsys.readouterr().out
    monkeypatch.setitem(exact_fields.TOLERANCES, "linear_gaussian_max_relative_residual", ("<=", -1.0))
    assert exact_fields.main(["--out", str(tmp_path), "--quick"]) == 1
    assert "FAILED: linear_gaussian_max_relative_residual" in capsys.readouterr().out
