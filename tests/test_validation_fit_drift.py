"""Smoke test of the drift-fitting study (si_ref/validation/fit_drift.py) at its QUICK sizes.

At the quick sizes every check passes with the study's QUICK_TOLERANCES (what ``si-ref
validate --quick`` runs); the direct ridge fit must also beat the trivial predictor b^ = 0
(relative error 1) by a wide margin.
"""

import math
from pathlib import Path

import pytest

from si_ref.validation import fit_drift
from studies import assert_every_check_passes, effective_tolerances

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIGURE_NAMES = {"drift_quivers.png", "drift_errors.png", "drift_samples.png"}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return fit_drift.run(tmp_path_factory.mktemp("fit_drift"), **fit_drift.QUICK)


def test_every_figure_is_written_as_a_png(results):
    paths = [Path(p) for p in results["figures"]]
    assert {p.name for p in paths} == FIGURE_NAMES
    for path in paths:
        assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_measured_numbers_are_finite(results):
    assert results["times"] == list(fit_drift.TIMES)
    for method, via in fit_drift.FITS:
        key = f"{method}_{via}"
        errors = results[f"{key}_relative_errors"]
        assert len(errors) == len(fit_drift.TIMES) and all(math.isfinite(e) and e >= 0 for e in errors)
        for suffix in ("mean_relative_error", "pooled_relative_error", "fit_seconds", "mmd", "energy",
                       "mmd_ratio", "energy_ratio"):
            assert math.isfinite(results[f"{key}_{suffix}"]), (key, suffix)
    assert results["mmd_floor"] > 0 and results["energy_floor"] > 0


def test_direct_ridge_fit_beats_the_zero_predictor(results):
    assert results["ridge_direct_pooled_relative_error"] < 0.5
    assert results["ridge_direct_mean_relative_error"] < 0.5


def test_every_check_passes_at_the_quick_sizes(results):
    assert results["tolerances"] == "quick"
    assert_every_check_passes(fit_drift, results)


def test_quick_tolerances_still_reject_a_useless_fit(results):
    """A zero drift has relative error 1 and a sign error 2: the quick bounds stay far below."""
    tolerances = effective_tolerances(fit_drift, results)
    assert all(bound <= 0.35 for name, (_, bound) in tolerances.items() if name.endswith("relative_error"))


def test_no_check_is_a_wall_clock_time():
    assert not any("seconds" in name or "time" in name for name in {**fit_drift.TOLERANCES, **fit_drift.QUICK_TOLERANCES})


def test_checks_fail_for_missing_or_bad_values(results):
    broken = dict(results)
    broken["ridge_direct_mean_relative_error"] = 0.5
    broken["mlp_direct_mmd_ratio"] = float("nan")
    del broken["ridge_velocity-score_mean_relative_error"]
    failed = {c.name for c in fit_drift.checks(broken) if not c.passed}
    assert {"ridge_direct_mean_relative_error", "mlp_direct_mmd_ratio", "ridge_velocity-score_mean_relative_error"} <= failed


def test_report_lists_every_check(results):
    text = fit_drift.format_report(results)
    for name in fit_drift.TOLERANCES:
        assert name in text
    assert "tolerances: quick (QUICK_TOLERANCES: small sizes)" in text
    assert ("all checks PASS" in text) or ("FAILED:" in text)


@pytest.mark.parametrize(("kwargs", "error"), [({"n_samples": 10}, ValueError), ({"epochs": 1.5}, TypeError),
                                               ({"seed": -1}, ValueError), ({"tolerances": "loose"}, ValueError)],
                         ids=["too_few_samples", "epochs_not_integer", "negative_seed", "unknown_tolerances"])
def test_run_refuses_bad_arguments(tmp_path, kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        fit_drift.run(tmp_path / "never", **kwargs)
    assert not (tmp_path / "never").exists()
