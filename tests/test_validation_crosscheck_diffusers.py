"""The diffusers cross-check study (si_ref/validation/crosscheck_diffusers.py).

torch and diffusers are optional peers: without them the study reports itself skipped
(simulated here by making its import helper fail); with them it runs at its QUICK size and
every outcome must be the documented one. The plan, the judge of the outcomes and the
bookkeeping are checked against si_ref alone, so they are tested without the peers too.
"""

import json
import math

import numpy as np
import pytest

from si_ref import conformance
from si_ref.checking.table import QUANTITIES
from si_ref.diffusion import discrete
from si_ref.diffusion import steps as si_steps
from si_ref.validation import crosscheck_diffusers as study


def _missing_peers():
    raise ImportError("No module named 'diffusers'")


# --- without the peers ------------------------------------------------------------------------

def test_run_is_skipped_with_the_install_command_when_a_peer_is_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(study, "_peers", _missing_peers)
    results = study.run(tmp_path / "out", **study.QUICK)
    assert set(results) == {"skipped", "figures"}
    assert results["figures"] == []
    assert "No module named 'diffusers'" in results["skipped"]
    assert ("install with: pip install torch==2.13.0 && pip install --no-deps diffusers==0.42.1 huggingface_hub==2.4.0 "
            "httpx2==2.16.2 httpcore2==2.16.2 truststore==0.10.5 h11==0.16.0") in results["skipped"]
    assert study.checks(results) == []
    assert study.format_report(results) == f"skipped: {results['skipped']}"
    assert not (tmp_path / "out").exists()                   # nothing written when skipped


def test_running_alone_without_the_peers_prints_skipped_and_exits_0(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(study, "_peers", _missing_peers)
    assert study.main(["--out", str(tmp_path), "--quick"]) == 0
    assert capsys.readouterr().out.startswith("skipped: torch and diffusers are needed")


@pytest.mark.parametrize("arguments, error", [
    (dict(seed=-1), ValueError),
    (dict(seed=1.5), TypeError),
    (dict(max_examples=0), ValueError),
    (dict(max_examples=True), TypeError),
    (dict(n_points=0), ValueError),
    (dict(shrink="yes"), TypeError),
], ids=["negative-seed", "float-seed", "zero-examples", "bool-examples", "zero-points", "non-bool-shrink"])
def test_bad_arguments_are_refused_before_the_peers_are_imported(monkeypatch, tmp_path, arguments, error):
    monkeypatch.setattr(study, "_peers", _missing_peers)
    with pytest.raises(error, match=next(iter(arguments))):
        study.run(tmp_path, **arguments)


def test_the_plan_covers_every_scheduler_in_both_dtypes_with_named_quantities():
    planned = study.plan()
    assert len({p.name for p in planned}) == len(planned)                   # check names are unique
    assert all(p.quantity in QUANTITIES for p in planned)
    steps = [p for p in planned if p.group == "step"]
    assert {p.scheduler for p in steps} == set(study.SCHEDULERS)
    for scheduler in study.SCHEDULERS:
        rows = [p for p in steps if p.scheduler == scheduler]
        assert sorted(p.dtype for p in rows) == sorted(study.DTYPES * (len(rows) // 2))
    # float64 results of the schedulers that keep float64 must agree exactly; the others may show float32 rounding
    for p in steps:
        if p.dtype == "float64" and p.scheduler not in study.FLOAT32_STATE:
            assert p.expected == ("PASS",), p.name
        else:
            assert p.expected == ("PASS", study.FLOAT32_PRECISION), p.name
    self_tests = [p for p in planned if p.group == "self-test"]
    assert len(self_tests) >= 6 and all("PASS" not in p.expected for p in self_tests)
    documented = {p.quantity: p.expected for p in planned if p.group == "documented" and "PASS" not in p.expected}
    assert documented == {"dpm_solver_pp_2m_step": ("wrong-method",), "shift_sigma": ("shift-twice",),
                          "velocity_target": (study.VALUES_DIFFER,)}


def test_the_references_fit_their_quantities():
    vp, shifted = study.reference_case(), study.shift_case()
    for p in study.plan():
        reference = shifted if p.reference == "shift" else vp
        assert QUANTITIES[p.quantity].accepts(reference), p.name
    a, sigma = vp.path.a(0.3), vp.path.sigma(0.3)
    np.testing.assert_allclose(a**2 + sigma**2, 1.0, rtol=1e-14)            # VP: what DPM-Solver's σ_VE needs
    assert shifted.path.shift == 3.0


def test_the_judge_accepts_only_the_documented_outcomes():
    case = study.shift_case()
    right = conformance.check(discrete.shift_sigma, "shift_sigma", case, max_examples=5)

    def twice(sigma, shift):
        return discrete.shift_sigma(discrete.shift_sigma(sigma, shift), shift)

    doubled = conformance.check(twice, "shift_sigma", case, max_examples=5, shrink=False)
    assert right.passed and not doubled.passed
    assert study._is_documented(("PASS",), right, None)
    assert not study._is_documented(("shift-twice",), right, None)
    assert study._is_documented(("shift-twice",), doubled, None)
    assert not study._is_documented(("PASS",), doubled, None)
    assert not study._is_documented((study.VALUES_DIFFER,), doubled, None)      # a catalogued mistake matched

    def slightly_off(eps, x, alpha_bar, alpha_bar_prev):
        return si_steps.ddim_step(eps, x, alpha_bar, alpha_bar_prev) + 1e-3

    off = conformance.check(slightly_off, "ddim_step", study.reference_case(), max_examples=3, shrink=False)
    assert not off.passed and not off.diagnosis_names
    assert study._is_documented((study.VALUES_DIFFER,), off, None)
    # float32 precision needs the evidence of the float64 twin at the counterexample
    assert study._is_documented(("PASS", study.FLOAT32_PRECISION), off, True)
    assert not study._is_documented(("PASS", study.FLOAT32_PRECISION), off, False)
    assert not study._is_documented(("PASS", study.FLOAT32_PRECISION), off, None)


def test_the_float32_helpers():
    rounded = study._round32((0.1, np.array([1.0 / 3.0])))
    assert rounded[0] == float(np.float32(0.1)) and rounded[1][0] == float(np.float32(1.0 / 3.0))
    assert study._round32(lambda x: x / 3.0)(1.0) == float(np.float32(1.0 / 3.0))
    assert study._normwise(np.array([1.0, 2.5]), np.array([1.0, 2.0])) == 0.25
    assert study._normwise(None, np.ones(2)) == math.inf
    assert study._normwise(np.array([np.nan]), np.ones(1)) == math.inf


def test_checks_fail_when_an_outcome_changes():
    results = {"rows": [{"check": "a", "as_expected": True}, {"check": "b", "as_expected": False}],
               "loops": [{"check": "c", "as_expected": True}], "grids": [{"check": "d", "as_expected": False}]}
    verdicts = study.checks(results)
    assert [c.name for c in verdicts] == ["a", "b", "c", "d"]
    assert [c.passed for c in verdicts] == [True, False, True, False]
    assert [c.value for c in verdicts] == [1.0, 0.0, 1.0, 0.0]


# --- with the peers --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def peers():
    pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    return study._peers()


@pytest.fixture(scope="module")
def results(peers, tmp_path_factory):
    out = tmp_path_factory.mktemp("crosscheck_diffusers")
    return study.run(out, **study.QUICK), out


def test_every_outcome_is_the_documented_one_at_the_quick_size(results):
    results, _ = results
    verdicts = study.checks(results)
    assert len(verdicts) == len(study.plan()) + len(results["loops"]) + len(results["grids"])
    assert [c.name for c in verdicts[:len(study.plan())]] == [p.name for p in study.plan()]
    failed = [c.name for c in verdicts if not c.passed]
    assert not failed, failed
    assert set(study.GRID_DOCUMENTED) == {r["key"] for r in results["grids"]}


def test_the_findings_are_in_the_results(results):
    results, _ = results
    rows = results["rows"]
    exact = [r for r in rows if r["group"] == "step" and r["dtype"] == "float64"
             and r["scheduler"] not in study.FLOAT32_STATE]
    assert exact and all(r["outcome"] == "PASS" and r["max_rel_error"] < 1e-12 for r in exact)
    assert all(r["max_rel_error"] < 1e-3 for r in rows if r["group"] in ("step", "conversion", "target"))
    assert [r["diagnoses"] for r in rows if r["group"] == "self-test"] == [
        ["noise-sign"], ["off-by-one"], ["off-by-one"], ["wrong-method"], ["alpha-beta-swapped"], ["sign-flip"],
        ["alpha-beta-swapped"]]
    by_note = {r["diffusers"]: r for r in rows if r["group"] == "documented"}
    assert [r["diagnoses"] for k, r in by_note.items() if "lower_order_final=True" in k] == [["wrong-method"]]
    assert [r["diagnoses"] for k, r in by_note.items() if "end of its grid" in k] == [["shift-twice"]]
    velocity = [r for k, r in by_note.items() if k.startswith("EulerDiscreteScheduler.get_velocity")]
    assert [(r["outcome"], r["diagnoses"]) for r in velocity] == [("FAIL", [])]
    assert all(r["outcome"] == "PASS" for r in results["loops"])
    assert {r["model_calls"] for r in results["loops"] if r["scheduler"] == "HeunDiscreteScheduler"} == {19}
    grids = {r["key"]: r for r in results["grids"]}
    assert grids["ddim-linspace-prev"]["value"] == 9.0
    assert 1e-3 < grids["flow-shift-textbook"]["value"] < 1e-2


def test_adapters_reproduce_si_ref_steps_in_float64(peers):
    # the thin adapters themselves, at one input: DDIM keeps float64 exactly, FlowMatch rounds its state to float32
    case = study.reference_case()
    x = np.array([[0.3, -1.2], [1.0, 0.5], [-0.7, 2.0]])
    ab, abp = 0.3, 0.7
    eps = case.epsilon_at(x, np.sqrt(ab), np.sqrt(1 - ab))
    with study._quiet_diffusers():
        ddim = study._ddim_adapter(peers, "float64")(eps, x, ab, abp)
        flow = study._flow_match_adapter(peers, "float64")(eps, x, 0.8, 0.5)
        shifted = study._shift_adapter(peers)(np.array([0.25, 0.5]), 3.0)
    np.testing.assert_allclose(ddim, si_steps.ddim_step(eps, x, ab, abp), rtol=1e-14, atol=1e-14)
    assert ddim.dtype == np.float64
    np.testing.assert_allclose(flow, si_steps.flow_match_euler_step(eps, x, 0.8, 0.5), rtol=1e-6)
    np.testing.assert_allclose(shifted, discrete.shift_sigma(np.array([0.25, 0.5]), 3.0), rtol=1e-6)
    assert shifted.dtype == np.float32


def test_the_tables_are_written_and_printed(results):
    results, out = results
    markdown = (out / "crosscheck_diffusers.md").read_text(encoding="utf-8")
    assert markdown == study.format_report(results) + "\n"
    assert "## Disagreements found by the checker" in markdown and "All " in markdown.splitlines()[-1]
    stored = json.loads((out / "crosscheck_diffusers.json").read_text(encoding="utf-8"))
    assert [r["check"] for r in stored["rows"]] == [r["check"] for r in results["rows"]]
    assert results["figures"] == []
