"""Smoke test of the guidance study (si_ref/validation/guidance.py) at its QUICK sizes."""

import math
from pathlib import Path

import numpy as np
import pytest

from studies import assert_every_check_passes
from si_ref.validation import guidance

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return guidance.run(tmp_path_factory.mktemp("guidance"), **guidance.QUICK)


def test_every_check_passes_at_the_quick_sizes(results):
    assert_every_check_passes(guidance, results)


def test_every_measured_number_is_a_finite_float(results):
    numbers = [k for k in results if k != "figures"]
    assert numbers == list(guidance.DESCRIPTIONS)
    assert all(isinstance(results[k], float) and math.isfinite(results[k]) for k in numbers)


def test_documented_gap_at_g3_is_the_measured_one(results):
    # the module docstring and SUMMARY state W2 = 0.719, KL = 2.14 for the pair at g = 3 (exact, not sampled)
    assert round(results["pair_w2_gap_g3"], 3) == 0.719
    assert round(results["pair_kl_gap_g3"], 2) == 2.14
    assert abs(results["mixture_push_mass_g3"] - 1.0) < 5e-3   # trapezoid on the pushed grid (QUICK: 201 points)


def test_every_figure_is_written_as_a_png(results):
    paths = [Path(p) for p in results["figures"]]
    assert {p.name for p in paths} == {"pair_gap.png", "mixture_densities.png"}
    for path in paths:
        assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_checks_fail_for_nan_missing_and_out_of_tolerance_values(results):
    broken = dict(results)
    broken["pair_w2_gap_g3"] = 0.0                 # a guided ODE that sampled the tilted target
    broken["mc_mean_max_z"] = float("nan")
    del broken["identity_max_residual"]
    failed = {c.name for c in guidance.checks(broken) if not c.passed}
    assert failed == {"pair_w2_gap_g3", "mc_mean_max_z", "identity_max_residual"}


def test_monte_carlo_part_is_deterministic_for_a_given_seed():
    draws = []
    for _ in range(2):
        numbers = {}
        guidance._pair_part(numbers, np.random.default_rng(5), 200, 6)
        draws.append(numbers)
    assert draws[0] == draws[1]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"seed": -1}, ValueError), ({"n_samples": 10}, ValueError), ({"n_grid": 1.5}, TypeError),
     ({"n_scales": 12}, ValueError), ({"push_steps": True}, TypeError)],
    ids=["negative_seed", "n_samples_too_small", "n_grid_float", "n_scales_not_5k_plus_1", "push_steps_bool"],
)
def test_run_refuses_bad_arguments(tmp_path, kwargs, error):
    name = next(iter(kwargs))
    with pytest.raises(error, match=name):
        guidance.run(tmp_path / "never", **kwargs)
    assert not (tmp_path / "never").exists()
