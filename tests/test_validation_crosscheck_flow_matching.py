"""The flow_matching cross-check study (si_ref/validation/crosscheck_flow_matching.py).

torch and flow_matching are optional peers: without them the study reports itself skipped
(simulated here by making its import helper fail); with them it runs at its QUICK size and
every outcome must be the documented one. The judge of the outcomes and the documented
endpoint table are checked against si_ref alone, so they are tested without the peers too.
"""

import json
import math

import numpy as np
import pytest

import si_ref
from si_ref import conformance
from si_ref.quantities import QUANTITIES
from si_ref.validation import crosscheck_flow_matching as study


def _missing_peers():
    raise ImportError("No module named 'torch'")


# --- without the peers ------------------------------------------------------------------------

def test_run_is_skipped_with_the_install_command_when_a_peer_is_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(study, "_peers", _missing_peers)
    results = study.run(tmp_path / "out", **study.QUICK)
    assert set(results) == {"skipped", "figures"}
    assert results["figures"] == []
    assert "No module named 'torch'" in results["skipped"]
    assert ("install with: pip install torch==2.13.0 && pip install flow-matching==1.0.10 --no-deps torchdiffeq tqdm"
            in results["skipped"])
    assert study.checks(results) == []
    assert study.format_report(results) == f"skipped: {results['skipped']}"
    assert not (tmp_path / "out").exists()                   # nothing written when skipped


def test_running_alone_without_the_peers_prints_skipped_and_exits_0(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(study, "_peers", _missing_peers)
    assert study.main(["--out", str(tmp_path), "--quick"]) == 0
    assert capsys.readouterr().out.startswith("skipped: torch and flow_matching are needed")


@pytest.mark.parametrize("arguments, error", [
    (dict(seed=-1), ValueError),
    (dict(seed=1.5), TypeError),
    (dict(max_examples=0), ValueError),
    (dict(max_examples=True), TypeError),
    (dict(shrink="yes"), TypeError),
], ids=["negative-seed", "float-seed", "zero-examples", "bool-examples", "non-bool-shrink"])
def test_bad_arguments_are_refused_before_the_peers_are_imported(monkeypatch, tmp_path, arguments, error):
    monkeypatch.setattr(study, "_peers", _missing_peers)
    with pytest.raises(error, match=next(iter(arguments))):
        study.run(tmp_path, **arguments)


def test_the_polynomial_reference_has_the_schedulers_coefficients():
    ip = study.polynomial_interpolant(2)
    t = np.linspace(0.0, 1.0, 11)
    np.testing.assert_allclose(ip.alpha(t), 1.0 - t**2, rtol=0, atol=1e-15)
    np.testing.assert_allclose(ip.alpha_dot(t), -2.0 * t, rtol=0, atol=1e-15)
    np.testing.assert_allclose(ip.beta(t), t**2, rtol=0, atol=1e-15)
    np.testing.assert_allclose(ip.beta_dot(t), 2.0 * t, rtol=0, atol=1e-15)
    assert ip.kind == "one-sided"


def test_documented_endpoint_failures_are_exactly_where_si_ref_raises():
    # The documented table says where flow_matching returns NaN/inf or finite values without an exact
    # counterpart: exactly the (scheduler, method, t) at which si_ref's own wrapper refuses to divide.
    cases = study.reference_cases()
    x = np.array([[0.3, -1.2], [1.0, 0.5], [-0.7, 2.0]])
    raising = set()
    for scheduler in study.COMPARED:
        case = cases[scheduler]
        for method, name in study.CONVERSIONS.items():
            q = QUANTITIES[name]
            for t in study.ENDPOINT_TIMES:
                try:
                    q.wrapper(getattr(case, q.inputs[0]), case.interpolant)(x, t)
                except ValueError:
                    raising.add((scheduler, method, t))
    assert raising == set(study.ENDPOINT_DOCUMENTED)


def test_the_judge_accepts_only_the_documented_outcomes():
    linear = si_ref.OneSidedLinearInterpolant()
    poly = study.polynomial_interpolant(2)
    right = conformance.check(lambda t: 1.0 - np.asarray(t, dtype=float), "alpha", linear, max_examples=20)
    reversed_ = conformance.check(lambda t: 1.0 - (1.0 - np.asarray(t, dtype=float)) ** 2, "alpha", poly,
                                  max_examples=20)
    assert right.passed and not reversed_.passed
    assert study._is_documented(("PASS",), right)
    assert not study._is_documented(("time-reversed",), right)
    assert study._is_documented(("time-reversed",), reversed_)
    assert not study._is_documented(("PASS",), reversed_)
    assert not study._is_documented(("alpha-beta-swapped",), reversed_)

    def size_mismatch(t):
        raise RuntimeError("The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1")

    raised = conformance.check(size_mismatch, "alpha", linear, max_examples=5)
    assert study._is_documented(("t-wrong-axis", study.TORCH_SIZE_ERROR), raised)
    assert "t-wrong-axis" in raised.diagnosis_names      # the checker reads torch's size-mismatch message too


def test_checks_fail_when_an_outcome_changes():
    row = {"check": "x [t as passed] vs alpha: expect PASS", "as_expected": False}
    cells = [{"scheduler": s, "as_expected": True} for s in study.COMPARED]
    cells[1]["as_expected"] = False
    verdicts = study.checks({"rows": [row], "endpoints": cells})
    assert [c.passed for c in verdicts] == [False, True, False, True]
    assert verdicts[0].value == 0.0 and verdicts[2].value == 1.0


# --- with the peers --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def results(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("flow_matching")
    out = tmp_path_factory.mktemp("crosscheck_flow_matching")
    return study.run(out, **study.QUICK), out


def test_every_outcome_is_the_documented_one_at_the_quick_size(results):
    results, _ = results
    verdicts = study.checks(results)
    assert len(verdicts) == len(study.plan()) + len(study.COMPARED)
    assert [c.name for c in verdicts[:len(study.plan())]] == [p.name for p in study.plan()]
    failed = [c.name for c in verdicts if not c.passed]
    assert not failed, failed
    assert all(math.isfinite(c.value) for c in verdicts)


def test_the_findings_are_in_the_results(results):
    results, _ = results
    rows = results["rows"]
    assert all(r["outcome"] == "PASS" for r in rows if r["group"] in ("scheduler", "path"))
    conversions = [r for r in rows if r["group"] == "conversion"]
    as_passed = [r for r in conversions if r["adapter"].startswith("t as passed")]
    assert len(as_passed) == 18 and all(r["outcome"] == "FAIL" for r in as_passed)
    assert any("t-wrong-axis" in r["diagnoses"] for r in as_passed)
    column = [r for r in conversions if r["adapter"].startswith("t[:, None]")]
    assert [r["outcome"] for r in column if "subnormal" in r["adapter"]] == ["FAIL"]
    assert all(r["outcome"] == "PASS" for r in column if "subnormal" not in r["adapter"])
    assert [r["diagnoses"] for r in rows if r["group"] == "self-test"] == [["time-reversed"], ["alpha-beta-swapped"]]
    cosine_garbage = [c for c in results["endpoints"] if c["outcome"] == study.RAISES_FINITE]
    assert {(c["scheduler"], c["t"]) for c in cosine_garbage} == {(study.COSINE, 1.0)}
    assert 0.0 < results["cosine_sigma_at_1"] < 1e-16
    assert [item["scheduler"] for item in results["not_compared"]] == list(study.NOT_COMPARED)


def test_the_tables_are_written_and_printed(results):
    results, out = results
    markdown = (out / "crosscheck_flow_matching.md").read_text(encoding="utf-8")
    assert markdown == study.format_report(results) + "\n"
    assert "## Disagreements found by the checker" in markdown and "All " in markdown.splitlines()[-1]
    stored = json.loads((out / "crosscheck_flow_matching.json").read_text(encoding="utf-8"))
    assert stored["rows"] == results["rows"]
    assert results["figures"] == []
