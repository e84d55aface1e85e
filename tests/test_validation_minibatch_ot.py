"""Smoke test of the minibatch OT study (si_ref/validation/minibatch_ot.py) at its QUICK sizes."""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from studies import assert_every_check_passes
from si_ref import GaussianCase
from si_ref.couplings import GaussianOTMap, entropic_cross_cov
from si_ref.validation import minibatch_ot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return minibatch_ot.run(tmp_path_factory.mktemp("minibatch_ot"), **minibatch_ot.QUICK)


def test_every_check_passes_at_the_quick_sizes(results):
    assert results["tolerances"] == "quick"
    assert_every_check_passes(minibatch_ot, results)


def test_every_measured_number_is_a_finite_float(results):
    numbers = [k for k in results if k not in ("figures", "tolerances", "entropic_peer")]
    assert set(minibatch_ot.DESCRIPTIONS) <= set(numbers)
    for b in minibatch_ot.batch_sizes(minibatch_ot.QUICK["max_batch"]):
        assert f"cross_cov_error_B{b}" in numbers and f"drift_error_B{b}" in numbers
    assert all(isinstance(results[k], float) and math.isfinite(results[k]) for k in numbers)


def test_errors_shrink_with_the_batch_size(results):
    sizes = minibatch_ot.batch_sizes(minibatch_ot.QUICK["max_batch"])
    drift = [results[f"drift_error_B{b}"] for b in sizes]
    assert all(later < earlier for earlier, later in zip(drift, drift[1:]))
    # B = 1 is the independent coupling: its drift error is the exact one of C = 0 up to Monte Carlo
    assert_allclose(drift[0], results["drift_error_independent"], rtol=0.1)


def test_drift_error_vanishes_for_the_exact_ot_coupling_and_matches_gaussian_case():
    c_ot = GaussianOTMap(minibatch_ot.BASE, minibatch_ot.TARGET).cross_cov
    assert minibatch_ot.drift_error(c_ot, c_ot) == 0.0
    # against GaussianCase: Monte Carlo over x ~ rho_t of the OT case at one time, and exact per-time values
    c = entropic_cross_cov(minibatch_ot.BASE, minibatch_ot.TARGET, 1.0)
    _, t_nodes, values = minibatch_ot.drift_error(c, c_ot, per_time=True)
    ot_case = GaussianCase(minibatch_ot.INTERPOLANT, minibatch_ot.BASE, minibatch_ot.TARGET, cross_cov=c_ot)
    other = GaussianCase(minibatch_ot.INTERPOLANT, minibatch_ot.BASE, minibatch_ot.TARGET, cross_cov=c)
    rng = np.random.default_rng(0)
    k = 7
    t = float(t_nodes[k])
    x = rng.multivariate_normal(ot_case.mean(t), ot_case.cov(t), size=20000)
    squared = np.sum((other.drift(x, t) - ot_case.drift(x, t)) ** 2, axis=1)
    assert abs(squared.mean() - values[k]) <= 4 * squared.std() / math.sqrt(squared.size)


def test_the_figure_is_written_as_a_png(results):
    (path,) = [Path(p) for p in results["figures"]]
    assert path.name == "minibatch_ot.png" and path.read_bytes()[:8] == PNG_SIGNATURE


def test_checks_fail_for_nan_missing_and_out_of_tolerance_values(results):
    broken = dict(results)
    broken["independent_cross_cov_max_z"] = 9.0                 # B = 1 would not be independent
    broken["cross_cov_error_rate"] = float("nan")
    broken["cross_cov_error_largest_batch"] = 0.25               # above the quick bound 0.2
    del broken["excess_cost_min_z"]
    failed = {c.name for c in minibatch_ot.checks(broken) if not c.passed}
    assert failed == {"independent_cross_cov_max_z", "cross_cov_error_rate", "cross_cov_error_largest_batch",
                      "excess_cost_min_z"}
    default = dict(results, tolerances="default")                 # the default bound 0.03 fails at B = 64
    assert "cross_cov_error_largest_batch" in {c.name for c in minibatch_ot.checks(default) if not c.passed}


def test_run_is_deterministic_for_a_given_seed(results, tmp_path):
    again = minibatch_ot.run(tmp_path, seed=0, **minibatch_ot.QUICK)
    numbers = [k for k in results if k != "figures"]
    assert [again[k] for k in numbers] == [results[k] for k in numbers]


def test_entropic_part_is_skipped_without_pot_and_reported_with_it(results, tmp_path, monkeypatch):
    if importlib.util.find_spec("ot") is None:
        assert results["entropic_peer"].startswith("skipped")
        assert not any(k.startswith("entropic_error") for k in results)
        return
    assert "POT" in results["entropic_peer"]
    for b in (32, 64):
        # a smoke bound only: at these sizes the error (0.06-0.15, seeds 0-2) is as large as the gap from C_eps to
        # C_OT (0.16) or to C at 2 eps (0.14); the eps convention is tested against Sinkhorn in test_couplings.py
        assert 0.0 < results[f"entropic_error_B{b}"] < 0.3
    monkeypatch.setattr(minibatch_ot, "_import_pot", lambda: None)
    hidden = minibatch_ot.run(tmp_path, **minibatch_ot.QUICK)
    assert hidden["entropic_peer"].startswith("skipped")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"seed": -1}, ValueError), ({"seed": "0"}, TypeError), ({"max_batch": 48}, ValueError),
     ({"max_batch": 4}, ValueError), ({"n_pairs": 10}, ValueError), ({"n_wishart": 2.5}, TypeError),
     ({"tolerances": "loose"}, ValueError)],
    ids=["negative_seed", "seed_string", "max_batch_not_power_of_two", "max_batch_too_small", "n_pairs_too_small",
         "n_wishart_float", "unknown_tolerances"],
)
def test_run_refuses_bad_arguments(tmp_path, kwargs, error):
    name = next(iter(kwargs))
    with pytest.raises(error, match=name):
        minibatch_ot.run(tmp_path / "never", **kwargs)
    assert not (tmp_path / "never").exists()


def test_main_exits_nonzero_when_a_check_fails(results, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(minibatch_ot, "run", lambda out_dir, *, seed, **sizes: results)
    assert minibatch_ot.main(["--out", str(tmp_path), "--quick"]) == 0
    assert "all checks PASS" in capsys.readouterr().out
    monkeypatch.setitem(minibatch_ot.TOLERANCES, "drift_error_rate", ("<=", -5.0))
    assert minibatch_ot.main(["--out", str(tmp_path), "--quick"]) == 1
    assert "FAILED: drift_error_rate" in capsys.readouterr().out
