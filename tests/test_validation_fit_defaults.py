"""Smoke test of the default-fitting study (si_ref/validation/fit_defaults.py) at its QUICK sizes.

Every check passes with the study's QUICK_TOLERANCES, the report states the sizes and
tolerances it used, and the quick bounds still reject a useless fit (a zero drift has
relative error 1).
"""

import math
from pathlib import Path

import pytest

from si_ref.validation import fit_defaults
from studies import assert_every_check_passes, effective_tolerances

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return fit_defaults.run(tmp_path_factory.mktemp("fit_defaults"), **fit_defaults.QUICK)


def test_every_check_passes_at_the_quick_sizes(results):
    assert results["tolerances"] == "quick"
    assert_every_check_passes(fit_defaults, results)


def test_the_figure_is_written_as_a_png(results):
    (path,) = [Path(p) for p in results["figures"]]
    assert path.name == "fit_defaults_errors.png"
    assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_every_case_and_method_is_measured_at_every_time(results):
    assert results["times"] == list(fit_defaults.TIMES)
    for case in fit_defaults.CASES:
        for method in fit_defaults.METHODS:
            key = f"{case}_{method}"
            errors = results[f"{key}_relative_errors"]
            assert len(errors) == len(fit_defaults.TIMES) and all(math.isfinite(e) and e >= 0 for e in errors)
            assert results[f"{key}_worst_relative_error"] == max(errors)
            assert results[f"{key}_mean_relative_error"] == pytest.approx(sum(errors) / len(errors))
            assert results[f"{key}_fit_seconds"] > 0


def test_the_ridge_default_beats_the_zero_predictor_by_far_even_at_quick_sizes(results):
    for case in fit_defaults.CASES:
        assert results[f"{case}_ridge_mean_relative_error"] < 0.1


def test_results_and_report_state_the_sizes_and_tolerances_used(results):
    quick = {k: v for k, v in fit_defaults.QUICK.items() if k != "tolerances"}
    assert results["sizes"] == quick
    assert results["tolerance_values"] == {k: list(v) for k, v in effective_tolerances(fit_defaults, results).items()}
    text = fit_defaults.format_report(results)
    for name, value in quick.items():
        assert f"{name}={value}" in text
    assert "tolerances: quick (QUICK_TOLERANCES: small sizes)" in text
    for name, (comparison, bound) in effective_tolerances(fit_defaults, results).items():
        assert name in text and f"{comparison} {bound:<6g}" in text
    assert "all checks PASS" in text


def test_quick_tolerances_still_reject_a_useless_fit():
    assert all(bound <= 0.35 for _, bound in fit_defaults.QUICK_TOLERANCES.values())
    assert all(bound == 0.03 for _, bound in fit_defaults.TOLERANCES.values())


def test_no_check_is_a_wall_clock_time():
    names = {**fit_defaults.TOLERANCES, **fit_defaults.QUICK_TOLERANCES}
    assert names and not any("seconds" in name or "time" in name for name in names)


def test_checks_fail_for_missing_or_bad_values(results):
    broken = dict(results)
    broken["ring_ridge_mean_relative_error"] = 0.5
    broken["mixture_mlp_mean_relative_error"] = float("nan")
    del broken["mixture_trig_ridge_mean_relative_error"]
    failed = {c.name for c in fit_defaults.checks(broken) if not c.passed}
    assert failed == {"ring_ridge_mean_relative_error", "mixture_mlp_mean_relative_error",
                      "mixture_trig_ridge_mean_relative_error"}


@pytest.mark.parametrize(("kwargs", "error"), [({"n_samples": 10}, ValueError), ({"mlp_epochs": 1.5}, TypeError),
                                               ({"seed": -1}, ValueError), ({"tolerances": "loose"}, ValueError),
                                               ({"n_eval": True}, TypeError)],
                         ids=["too_few_samples", "epochs_not_integer", "negative_seed", "unknown_tolerances",
                              "n_eval_bool"])
def test_run_refuses_bad_arguments(tmp_path, kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        fit_defaults.run(tmp_path / "never", **kwargs)
    assert not (tmp_path / "never").exists()
