"""Smoke test of the exact-law study (si_ref/validation/sampler_law.py) at its QUICK sizes."""

import math
from pathlib import Path

import pytest

from studies import assert_every_check_passes
from si_ref.validation import sampler_law

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return sampler_law.run(tmp_path_factory.mktemp("sampler_law"), **sampler_law.QUICK)


def test_every_check_passes_at_the_quick_sizes(results):
    assert_every_check_passes(sampler_law, results)


def test_every_measured_number_is_a_finite_float(results):
    numbers = [k for k in results if k != "figures"]
    assert numbers == list(sampler_law.DESCRIPTIONS)
    assert all(isinstance(results[k], float) and math.isfinite(results[k]) for k in numbers)


def test_fitted_orders_are_reported_with_their_deviations(results):
    for name, order in sampler_law.ORDERS.items():
        assert results[f"{name}_order_deviation"] == abs(results[f"{name}_order"] - order)


def test_the_figure_is_written_as_a_png(results):
    (path,) = [Path(p) for p in results["figures"]]
    assert path.name == "convergence.png"
    assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_checks_fail_for_nan_missing_and_out_of_tolerance_values(results):
    broken = dict(results)
    broken["rk4_order_deviation"] = 0.2                  # an RK4 that is off its order
    broken["mc_max_abs_z"] = float("nan")
    broken["wrong_noise_w2_ratio"] = 0.25                 # a control that converges: the check cannot see the bug
    del broken["flow_map_w2"]
    failed = {c.name for c in sampler_law.checks(broken) if not c.passed}
    assert failed == {"rk4_order_deviation", "mc_max_abs_z", "wrong_noise_w2_ratio", "flow_map_w2"}


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"seed": -1}, ValueError), ({"n_paths": 10}, ValueError), ({"max_steps": 32}, ValueError),
     ({"n_paths": 1e4}, TypeError), ({"max_steps": True}, TypeError)],
    ids=["negative_seed", "n_paths_too_small", "max_steps_too_small", "n_paths_float", "max_steps_bool"],
)
def test_run_refuses_bad_arguments(tmp_path, kwargs, error):
    name = next(iter(kwargs))
    with pytest.raises(error, match=name):
        sampler_law.run(tmp_path / "never", **kwargs)
    assert not (tmp_path / "never").exists()


def test_main_exits_nonzero_when_a_check_fails(results, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sampler_law, "run", lambda out_dir, *, seed, **sizes: results)
    assert sampler_law.main(["--out", str(tmp_path), "--quick"]) == 0
    assert "all checks PASS" in capsys.readouterr().out
    monkeypatch.setitem(sampler_law.TOLERANCES, "flow_map_w2", ("<=", 0.0))
    assert sampler_law.main(["--out", str(tmp_path), "--quick"]) == 1
    assert "FAILED: flow_map_w2" in capsys.readouterr().out
