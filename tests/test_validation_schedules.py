"""Smoke test of the schedules study (si_ref/validation/schedules.py) at its QUICK size."""

from pathlib import Path

import numpy as np
import pytest

from studies import assert_every_check_passes
from si_ref.validation import schedules


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIGURE_NAMES = {"families.png", "gamma_schedules.png", "derivative_errors.png"}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return schedules.run(tmp_path_factory.mktemp("schedules"), **schedules.QUICK)


def test_every_check_passes_at_the_quick_size(results):
    assert_every_check_passes(schedules, results)


def test_every_family_and_schedule_is_measured(results):
    numbers = [k for k in results if k != "figures"]
    assert numbers == list(schedules.DESCRIPTIONS)
    for family in ("linear", "trig", "vp_trig", "encoder_decoder", "one_sided_linear", "one_sided_trig", "mirror"):
        assert f"derivative_error_{family}" in results
    for schedule in ("zero", "brownian", "scaled_brownian", "b_squared", "sine_squared", "sigmoid"):
        assert f"gamma_dot_error_{schedule}" in results
        assert f"gamma_gamma_dot_vs_product_{schedule}" in results
    assert results["boundary_max_deviation"] == 0.0
    assert results["endpoint_derivative_mismatches"] == 0.0


def test_every_figure_is_written_as_a_png(results):
    paths = [Path(p) for p in results["figures"]]
    assert {p.name for p in paths} == FIGURE_NAMES
    for path in paths:
        assert path.is_file()
        assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_run_is_deterministic_for_a_given_seed(results, tmp_path):
    again = schedules.run(tmp_path, seed=0, **schedules.QUICK)   # the fixture used the default seed 0
    numbers = [k for k in results if k != "figures"]
    assert [again[k] for k in numbers] == [results[k] for k in numbers]   # bit-identical
    for first, second in zip(results["figures"], again["figures"]):
        assert Path(first).read_bytes() == Path(second).read_bytes()


def test_central_derivative_is_eighth_order_accurate():
    t = np.linspace(0.1, 0.9, 9)
    np.testing.assert_allclose(schedules.central_derivative(np.sin, t), np.cos(t), rtol=0, atol=1e-12)
    # exact for polynomials of degree <= 8 up to rounding: d/dt t^8 = 8 t^7
    np.testing.assert_allclose(schedules.central_derivative(lambda s: s ** 8, t), 8 * t ** 7, rtol=1e-11)


def test_derivative_error_detects_a_wrong_factor_or_sign():
    # the oracle must be able to fail: a 1 % factor, a sign flip and a missing chain-rule factor
    # must all exceed the tolerances by orders of magnitude
    t = np.linspace(schedules.FD_T_MIN, schedules.FD_T_MAX, 101)
    bound = schedules.GAMMA_DERIVATIVE_TOLERANCE
    half_pi = np.pi / 2
    assert np.max(schedules.derivative_error(np.sin, lambda s: 1.01 * np.cos(s), t)) > 1e3 * bound
    assert np.max(schedules.derivative_error(np.sin, lambda s: -np.cos(s), t)) > 1e6 * bound
    assert np.max(schedules.derivative_error(lambda s: np.sin(half_pi * s), lambda s: np.cos(half_pi * s), t)) \
        > 1e6 * bound
    assert np.max(schedules.derivative_error(np.sin, np.cos, t)) < schedules.FAMILY_DERIVATIVE_TOLERANCE


def test_checks_fail_on_nan_missing_or_out_of_tolerance_values(results):
    broken = dict(results)
    broken["derivative_error_trig"] = float("nan")
    del broken["gamma_dot_error_brownian"]
    broken["boundary_max_deviation"] = 1e-300                  # exactness means exactly zero
    broken["vp_trig_variance_identity_max_error"] = 1e-3
    failed = {c.name for c in schedules.checks(broken) if not c.passed}
    assert failed == {"derivative_error_trig", "gamma_dot_error_brownian", "boundary_max_deviation",
                      "vp_trig_variance_identity_max_error"}


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"n_grid": 1}, ValueError), ({"n_grid": 2.5}, TypeError), ({"n_grid": True}, TypeError),
     ({"seed": -1}, ValueError), ({"seed": "0"}, TypeError)],
    ids=["n_grid_below_two", "n_grid_not_integer", "n_grid_bool", "negative_seed", "seed_string"],
)
def test_run_refuses_bad_arguments(tmp_path, kwargs, error):
    name = next(iter(kwargs))
    with pytest.raises(error, match=name):
        schedules.run(tmp_path / "never", **kwargs)
    assert not (tmp_path / "never").exists()   # refused before anything is written


def test_main_exits_nonzero_when_a_check_fails(results, tmp_path, monkeypatch, capsys):
    # reuse the fixture's numbers: this tests main's verdict, not the study again
    monkeypatch.setattr(schedules, "run", lambda out_dir, *, seed, **sizes: results)
    assert schedules.main(["--out", str(tmp_path), "--quick"]) == 0
    assert "all checks PASS" in capsys.readouterr().out
    monkeypatch.setitem(schedules.TOLERANCES, "derivative_error_linear", ("<=", -1.0))
    assert schedules.main(["--out", str(tmp_path), "--quick"]) == 1
    assert "FAILED: derivative_error_linear" in capsys.readouterr().out
