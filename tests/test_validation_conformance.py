"""Smoke test of si_ref/validation/conformance.py (study 6) at its quick size."""

import json

import pytest

from si_ref.validation import conformance as study


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("conformance")
    return out, study.run(out, seed=0, **study.QUICK)


def test_every_check_passes(results):
    _, measured = results
    failed = [c for c in study.checks(measured) if not c.passed]
    assert not failed, study.format_report(measured)


def test_each_published_mistake_gets_its_diagnosis(results):
    _, measured = results
    assert len(measured["mistakes"]) == len(study.MISTAKES)
    for row in measured["mistakes"]:
        assert not row["passed"] and row["expected"] in row["diagnoses"], row


def test_golden_vectors_and_figure_are_written(results):
    out, measured = results
    manifest = json.loads((out / "golden" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format_version"] == 1 and manifest["arrays"]
    assert all(path.endswith(".png") for path in measured["figures"])
    assert "quantities_failing_for_si_ref" in study.format_report(measured)


def test_bad_size_is_refused(tmp_path):
    with pytest.raises(ValueError, match="max_examples must be an integer >= 1"):
        study.run(tmp_path, max_examples=0)
