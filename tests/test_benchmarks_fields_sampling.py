"""Smoke tests of the field and sampling benchmarks (quick mode): they run and write their tables.

No timing is asserted: these are benchmarks, and the test machine's speed is not under test.
"""

import json
import math

import numpy as np
import pytest

from si_ref.validation.benchmarks import mixture_fields, sampling
from si_ref.validation.benchmarks._common import TORCH_INSTALL


@pytest.fixture(scope="module")
def fields_run(tmp_path_factory):
    """One quick run for the tests that read its tables. PyTorch runs on one thread here: its
    worker threads slow down by orders of magnitude when the test machine's cores are busy."""
    out = tmp_path_factory.mktemp("fields")
    torch = mixture_fields.optional_torch()
    threads = None if torch is None else torch.get_num_threads()
    if torch is not None:
        torch.set_num_threads(1)
    try:
        yield out, mixture_fields.run(out, quick=True)
    finally:
        if torch is not None:
            torch.set_num_threads(threads)


def read(out, name):
    return json.loads((out / f"{name}.json").read_text(encoding="utf-8")), (out / f"{name}.md").read_text(encoding="utf-8")


def test_mixture_fields_writes_the_comparison_and_the_scaling_tables(fields_run):
    out, text = fields_run
    table, markdown = read(out, "mixture_fields")
    assert [row["case"] for row in table["rows"]] == ["d=2, 8 components", "d=16, 32 components"]
    assert all(row["N"] == mixture_fields.QUICK["n"] and row["si_ref ms"] > 0 for row in table["rows"])
    assert {"cpu", "logical_cores", "numpy", "blas"} <= set(table["machine"])
    assert markdown in text and "| d=16, 32 components | 2000 |" in markdown
    scaling, scaling_markdown = read(out, "mixture_fields_scaling")
    sweeps = [(row["sweep"], row["components"], row["N"]) for row in scaling["rows"]]
    assert sweeps == [("N", 8, 316), ("N", 8, 1000), ("N", 8, 3162)] + [("components", k, 2000) for k in (2, 4, 8)]
    fits = scaling["fits"]
    assert math.isfinite(fits["exponent_in_N"]) and math.isfinite(fits["exponent_in_components"])
    assert f"{fits['exponent_in_N']:.2f} in N" in scaling_markdown and scaling_markdown in text


def test_mixture_fields_torch_and_si_ref_agree_to_1e_10(fields_run):
    pytest.importorskip("torch")
    out, _ = fields_run
    table, _ = read(out, "mixture_fields")
    for row in table["rows"]:
        assert row["max abs diff drift"] < 1e-10 and row["max abs diff score"] < 1e-10, row
        assert row["torch ms"] > 0 and row["ratio si_ref/torch"] > 0
    assert set(table["agreement"]) == {"d=2, 8 components", "d=16, 32 components"}


def test_mixture_fields_without_torch_reports_skipped_with_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setattr(mixture_fields, "optional_torch", lambda: None)
    monkeypatch.setattr(mixture_fields, "QUICK", {**mixture_fields.QUICK, "n": 200, "scaling_n": np.array([100.0, 200.0]),
                                                  "scaling_fit_from_n": 100, "scaling_components": (2, 4)})
    text = mixture_fields.run(tmp_path, quick=True)
    message = f"skipped: torch not installed; install with: {TORCH_INSTALL}"
    assert message == "skipped: torch not installed; install with: pip install torch==2.13.0"
    table, markdown = read(tmp_path, "mixture_fields")
    assert table["skipped"] == message and message in markdown and message in text
    for row in table["rows"]:
        assert row["torch ms"] == row["ratio si_ref/torch"] == row["max abs diff score"] == message
        assert row["si_ref ms"] > 0
    assert (tmp_path / "mixture_fields_scaling.md").exists()


def test_sampling_writes_throughput_and_overhead_tables(tmp_path):
    text = sampling.run(tmp_path, quick=True)
    table, markdown = read(tmp_path, "sampling")
    rows = [(row["sampler"], row["N"], row["field calls per step"]) for row in table["rows"]]
    assert rows == [("RK4, probability flow", 1000, 4), ("RK4, probability flow", 3000, 4),
                    ("Euler-Maruyama, forward SDE", 1000, 2), ("Euler-Maruyama, forward SDE", 3000, 2)]
    assert all(row["points x steps per second"] > 0 for row in table["rows"]) and markdown in text
    overhead, overhead_markdown = read(tmp_path, "sampling_overhead")
    measurements = [row["measurement"] for row in overhead["rows"]]
    assert measurements[:4] == ["RK4, probability flow: one step"] * 2 + ["Euler-Maruyama, forward SDE: one step"] * 2
    assert set(measurements[4:]) == set(overhead["pieces_us"]) and len(measurements) == 9
    assert "field call, new time" in overhead_markdown and overhead_markdown in text
