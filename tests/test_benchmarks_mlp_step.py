"""Smoke tests of the MLP training-step benchmark (quick mode): it runs and writes its tables.

No timing is asserted: this is a benchmark, and the test machine's speed is not under test.
"""

import json
import math

import numpy as np
import pytest

from si_ref.validation.benchmarks import _common, mlp_step

SKIPPED = "skipped: torch not installed; install with: pip install torch==2.13.0"
QUICK_ROWS = [(dtype, batch, width) for dtype in ("float32", "float64") for batch, width, _ in mlp_step.QUICK["sizes"]]


def read(out):
    table = json.loads((out / "mlp_step.json").read_text(encoding="utf-8"))
    return table, (out / "mlp_step.md").read_text(encoding="utf-8")


def test_flop_count_is_forward_and_weight_gradient_for_every_layer_and_input_gradient_after_the_first():
    # widths 11 -> 4 -> 4 -> 4 -> 2, batch 10: products of 2·10·(44, 16, 16, 8) flops
    forward = 2 * 10 * (11 * 4 + 4 * 4 + 4 * 4 + 4 * 2)
    assert mlp_step.matmul_flops(10, 4) == 2 * forward + (forward - 2 * 10 * 11 * 4)


def test_si_ref_step_is_the_fit_objective_and_leaves_inputs_untouched():
    inputs, targets = mlp_step.problem(8, np.float64)
    saved = inputs.copy(), targets.copy()
    net, optimizer = mlp_step.si_ref_model(4, np.float64)
    outputs = net.forward(inputs).copy()
    loss = mlp_step.si_ref_step(net, optimizer, inputs, targets)()
    np.testing.assert_allclose(loss, 0.5 * np.sum((outputs - targets) ** 2) / 8, rtol=1e-14)
    np.testing.assert_array_equal(inputs, saved[0])
    np.testing.assert_array_equal(targets, saved[1])
    assert optimizer.step_count == 1


def test_without_torch_every_row_says_skipped_with_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setattr(mlp_step, "optional_torch", lambda: None)
    monkeypatch.setattr(_common, "optional_torch", lambda: None)       # the machine record asks too
    text = mlp_step.run(tmp_path, quick=True)
    table, markdown = read(tmp_path)
    assert mlp_step.SKIPPED == SKIPPED
    assert [(row["dtype"], row["batch"], row["width"]) for row in table["rows"]] == QUICK_ROWS
    for row in table["rows"]:
        assert row["torch ms"] == row["si_ref/torch"] == row["max abs weight diff after 1 step"] == SKIPPED
        assert row["si_ref ms"] > 0 and row["si_ref GFLOP/s"] > 0          # si_ref is still timed alone
    assert table["skipped"] == SKIPPED and "torch" not in table["machine"]
    assert SKIPPED in markdown and markdown == text
    assert set(table["matmul_peak_gflops"]) == {"float32", "float64"}


def test_with_torch_both_sides_are_timed_and_take_the_same_step(tmp_path):
    pytest.importorskip("torch")
    text = mlp_step.run(tmp_path, quick=True)
    table, markdown = read(tmp_path)
    assert [(row["dtype"], row["batch"], row["width"]) for row in table["rows"]] == QUICK_ROWS
    assert table["skipped"] is None and "torch" in table["machine"] and markdown == text
    for row in table["rows"]:
        assert row["si_ref ms"] > 0 and row["torch ms"] > 0 and row["si_ref/torch"] > 0
        assert math.isfinite(row["% of matmul peak"]) and row["% of matmul peak"] > 0
        check = table["same_step_checks"][f"{row['dtype']} {row['batch']}x{row['width']}"]
        weights, gradients = 1e-5, 1e-5                                   # float32
        if row["dtype"] == "float64":
            weights, gradients = 1e-12, 1e-12
        assert row["max abs weight diff after 1 step"] == check["max |weight difference| after one step"]
        assert check["max |weight difference| after one step"] <= weights, (row, check)
        assert check["max |gradient difference| / max |gradient|"] <= gradients, (row, check)
        assert check["max |weight change| in the step"] > 0.5e-3           # Adam's first step moves by ~lr
        assert f"| {row['dtype']} | {row['batch']} | {row['width']} |" in markdown
