"""Smoke test of the samplers study (si_ref/validation/samplers.py) at its QUICK sizes."""

import math
from pathlib import Path

import pytest

from studies import assert_every_check_passes
from si_ref.validation import samplers


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIGURE_NAMES = {"convergence.png", "samples.png", "likelihood.png"}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return samplers.run(tmp_path_factory.mktemp("samplers"), **samplers.QUICK)


def test_every_check_passes_at_the_quick_sizes(results):
    assert_every_check_passes(samplers, results)


def test_every_measured_number_is_a_finite_float(results):
    numbers = [k for k in results if k != "figures"]
    assert numbers == list(samplers.DESCRIPTIONS)
    assert all(isinstance(results[k], float) and math.isfinite(results[k]) for k in numbers)


def test_fitted_slopes_are_the_orders_of_the_steppers(results):
    # the deviations checked above are |slope - order|; the slopes themselves are reported too
    for case in ("non_commuting", "commuting"):
        for name, (_, order, tolerance) in samplers.STEPPERS.items():
            slope = results[f"{name}_slope_{case}"]
            assert abs(slope - order) <= tolerance, (case, name, slope)
            assert results[f"{name}_slope_deviation_{case}"] == abs(slope - order)


def test_every_figure_is_written_as_a_png(results):
    paths = [Path(p) for p in results["figures"]]
    assert {p.name for p in paths} == FIGURE_NAMES
    for path in paths:
        assert path.is_file()
        assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_checks_fail_for_nan_missing_and_out_of_tolerance_values(results):
    broken = dict(results)
    broken["rk4_slope_deviation_commuting"] = 0.5             # an RK4 that is off its order
    broken["sde_eps_2_mmd_ratio"] = float("nan")
    broken["sde_wrong_sign_mmd_ratio"] = 1.0                  # a comparison that cannot see a sign error
    del broken["ode_likelihood_max_abs_error"]
    failed = {c.name for c in samplers.checks(broken) if not c.passed}
    assert failed == {"rk4_slope_deviation_commuting", "sde_eps_2_mmd_ratio", "sde_wrong_sign_mmd_ratio",
                      "ode_likelihood_max_abs_error"}


def test_run_is_deterministic_for_a_given_seed(results, tmp_path):
    again = samplers.run(tmp_path, seed=0, **samplers.QUICK)   # the fixture used the default seed 0
    numbers = [k for k in results if k != "figures"]
    assert [again[k] for k in numbers] == [results[k] for k in numbers]   # bit-identical


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"seed": -1}, ValueError), ({"seed": "0"}, TypeError), ({"n_samples": 5}, ValueError),
     ({"n_repeats": 0}, ValueError), ({"n_paths": 1}, ValueError), ({"n_paths": True}, TypeError)],
    ids=["negative_seed", "seed_string", "n_samples_too_small", "n_repeats_zero", "n_paths_one", "n_paths_bool"],
)
def test_run_refuses_bad_arguments(tmp_path, kwargs, error):
    name = next(iter(kwargs))
    with pytest.raises(error, match=name):
        samplers.run(tmp_path / "never", **kwargs)
    assert not (tmp_path / "never").exists()   # refused before anything is written


def test_main_exits_nonzero_when_a_check_fails(results, tmp_path, monkeypatch, capsys):
    # reuse the fixture's numbers: this tests main's verdict, not the study again
    monkeypatch.setattr(samplers, "run", lambda out_dir, *, seed, **sizes: results)
    assert samplers.main(["--out", str(tmp_path), "--quick"]) == 0
    assert "all checks PASS" in capsys.readouterr().out
    monkeypatch.setitem(samplers.TOLERANCES, "ode_mmd_ratio", ("<=", -1.0))
    assert samplers.main(["--out", str(tmp_path), "--quick"]) == 1
    assert "FAILED: ode_mmd_ratio" in capsys.readouterr().out
