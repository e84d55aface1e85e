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


def _kutta_three_eighths_step(field, x, t, dt):
    """Kutta's 3/8 rule, written from its tableau: what torchdiffeq calls "rk4"."""
    t = np.reshape(np.broadcast_to(np.asarray(t, dtype=float), (x.shape[0],)), (-1, 1))
    rows = []
    for i in range(x.shape[0]):
        xi, ti = x[i:i + 1], float(t[i, 0])
        k1 = field(xi, ti)
        k2 = field(xi + dt * k1 / 3, ti + dt / 3)
        k3 = field(xi + dt * (k2 - k1 / 3), ti + 2 * dt / 3)
        k4 = field(xi + dt * (k1 - k2 + k3), ti + dt)
        rows.append(xi + dt * (k1 + 3 * k2 + 3 * k3 + k4) / 8)
    return np.concatenate(rows)


def test_the_judge_of_the_solver_and_likelihood_outcomes():
    # the 3/8 rule is not the classical RK4: the checker names it (wrong-method, Kutta's 3/8 rule)
    case = study.reference_cases()[study.CONDOT]
    three_eighths = conformance.check(_kutta_three_eighths_step, "rk4_step", case, max_examples=10, shrink=False)
    assert not three_eighths.passed and three_eighths.diagnosis_names[0] == "wrong-method"
    assert "3/8 rule" in three_eighths.diagnoses[0].form
    assert study._is_documented(("wrong-method",), three_eighths)
    assert not study._is_documented(("PASS",), three_eighths)
    assert not study._is_documented((study.VALUES_DIFFER,), three_eighths)
    assert not study._is_documented((study.OUTSIDE_INTERVAL,), three_eighths)
    assert dict((m, (q, e)) for m, q, e in study.STEP_METHODS)["rk4"] == ("rk4_step", ("wrong-method",))

    # a likelihood that evaluates the field before t = 0 fails with si_ref's refusal: OUTSIDE_INTERVAL
    def overshooting(drift, divergence, x, base_log_density):
        drift(x, -0.01)
        return np.zeros(x.shape[0])
    early = conformance.check(overshooting, "ode_log_likelihood", study.likelihood_case(), max_examples=2,
                              shrink=False, rtol=study.LIKELIHOOD_RTOL, atol=study.LIKELIHOOD_ATOL)
    assert study._is_documented((study.OUTSIDE_INTERVAL,), early)
    assert not study._is_documented((study.VALUES_DIFFER, "divergence-sign"), early)


def test_the_likelihood_reference_is_a_condot_gaussian_case():
    case = study.likelihood_case()
    assert isinstance(case.interpolant, si_ref.OneSidedLinearInterpolant) and case.n_pairs == 1
    x = np.array([[0.5, -1.0], [3.0, 2.0]])
    np.testing.assert_allclose(case.log_density(x, 0.0), -0.5 * np.sum(x**2, axis=1) - np.log(2 * np.pi),
                               rtol=1e-13)                    # flow_matching's source N(0, I)
    planned = [p for p in study.plan() if p.quantity == "ode_log_likelihood"]
    assert [p.expected for p in planned] == [("PASS",), (study.OUTSIDE_INTERVAL,), ("divergence-sign",)]
    assert all(p.rtol == p.atol == study.LIKELIHOOD_RTOL and p.reference == "likelihood" for p in planned)


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
    assert [r["diagnoses"] for r in rows if r["group"] == "self-test"] == [["time-reversed"], ["alpha-beta-swapped"],
                                                                          ["divergence-sign"]]
    solver = {r["si_ref"]: r for r in rows if r["group"] == "solver"}
    assert [solver[q]["outcome"] for q in ("euler_step", "midpoint_step", "heun_step", "rk4_step")] == \
        ["PASS", "PASS", "PASS", "FAIL"]
    assert solver["rk4_step"]["diagnoses"] == ["wrong-method"] and solver["rk4_step"]["problem"] == "values differ"
    likelihood = [r for r in rows if r["group"] == "likelihood"]
    assert [r["outcome"] for r in likelihood] == ["PASS", "FAIL"]
    assert likelihood[1]["problem"].startswith("raised ValueError: t must lie in the closed interval [0, 1]")
    assert all(r["rtol"] == r["atol"] == study.LIKELIHOOD_RTOL for r in likelihood)
    cosine_garbage = [c for c in results["endpoints"] if c["outcome"] == study.RAISES_FINITE]
    assert {(c["scheduler"], c["t"]) for c in cosine_garbage} == {(study.COSINE, 1.0)}
    assert 0.0 < results["cosine_sigma_at_1"] < 1e-16
    assert [item["scheduler"] for item in results["not_compared"]] == list(study.NOT_COMPARED)


def test_torchdiffeq_rk4_is_the_three_eighths_rule():
    # the documented reading of the rk4 row: flow_matching's one rk4 step equals Kutta's 3/8 rule
    pytest.importorskip("torch")
    pytest.importorskip("flow_matching")
    case = study.reference_cases()[study.CONDOT]
    x = np.array([[0.4, -1.3], [2.0, 0.1], [-0.5, 0.7]])
    t = np.array([0.2, 0.55, 0.2])
    step = study._ode_step(study._peers(), "rk4")
    np.testing.assert_allclose(step(case.drift, x, t, 0.1), _kutta_three_eighths_step(case.drift, x, t, 0.1),
                               rtol=1e-12, atol=1e-12)


def test_the_tables_are_written_and_printed(results):
    results, out = results
    markdown = (out / "crosscheck_flow_matching.md").read_text(encoding="utf-8")
    assert markdown == study.format_report(results) + "\n"
    assert "## Disagreements found by the checker" in markdown and "All " in markdown.splitlines()[-1]
    stored = json.loads((out / "crosscheck_flow_matching.json").read_text(encoding="utf-8"))
    assert stored["rows"] == results["rows"]
    assert results["figures"] == []
