"""Smoke test of the drift-fitting study (si_ref/validation/fit_drift.py) at small sizes.

The accuracy targets of the study are not required here (the sizes are tiny); the direct
ridge fit must still beat the trivial predictor b^ = 0 (relative error 1) by a wide margin.
"""

import math
from pathlib import Path

import pytest

from si_ref.validation import fit_drift

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


def test_checks_have_one_entry_per_tolerance(results):
    report = fit_drift.checks(results)
    assert [c.name for c in report] == list(fit_drift.TOLERANCES)
    for check in report:
        comparison, bound = fit_drift.TOLERANCES[check.name]
        assert check.tolerance == (comparison, bound)
        assert check.passed == (check.value <= bound if comparison == "<=" else check.value >= bound)


def test_checks_fail_for_missing_or_bad_values(results):
    broken = dict(results)
    broken["ridge_direct_mean_relative_error"] = 0.5
    broken["mlp_direct_mmd_ratio"] = float("nan")
    del broken["ridge_direct_fit_seconds"]
    failed = {c.name for c in fit_drift.checks(broken) if not c.passed}
    assert {"ridge_direct_mean_relative_error", "mlp_direct_mmd_ratio", "ridge_direct_fit_seconds"} <= failed


def test_report_lists_every_check(results):
    text = fit_drift.format_report(results)
    for name in fit_drift.TOLERANCES:
        assert name in text
    assert ("all checks PASS" in text) or ("FAILED:" in text)


@pytest.mark.parametrize(("kwargs", "error"), [({"n_samples": 10}, ValueError), ({"epochs": 1.5}, TypeError),
                                               ({"seed": -1}, ValueError)],
                         ids=["too_few_samples", "epochs_not_integer", "negative_seed"])
def test_run_refuses_bad_arguments(tmp_path, kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        fit_drift.run(tmp_path / "never", **kwargs)
    assert not (tmp_path / "never").exists()
