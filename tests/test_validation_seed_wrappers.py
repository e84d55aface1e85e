"""Smoke test of the seed-wrapper study (si_ref/validation/seed_wrappers.py) on a small grid."""

from pathlib import Path

import numpy as np
import pytest

from studies import assert_every_check_passes
from si_ref.validation import seed_wrappers


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SMALL_GRID = 9
FIGURE_NAMES = {"quivers_t035.png", "brownian_gamma.png", "mirror_drift.png", "seed_signs.png"}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return seed_wrappers.run(tmp_path_factory.mktemp("seed_wrappers"), n_grid=SMALL_GRID)


def test_every_check_passes_on_a_small_grid(results):
    assert_every_check_passes(seed_wrappers, results)


def test_every_figure_is_written_as_a_png(results):
    paths = [Path(p) for p in results["figures"]]
    assert {p.name for p in paths} == FIGURE_NAMES
    for path in paths:
        assert path.is_file()
        assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_seed_sign_errors_match_their_closed_forms(results):
    # VP case at t = 0: b = 0 and s = -x, so v + gg' s - b = 2 gg' s = -x (gg'(0) = 1/2);
    # mirror case at t = 0: s = -x, so (+gg' s) - (-gg' s) = -x as well. The grid reaches |x_k| = 3.
    np.testing.assert_allclose(results["max_abs_seed_minus_exact_drift"], 3.0, rtol=1e-13)
    np.testing.assert_allclose(results["max_abs_seed_minus_exact_mirror_drift"], 3.0, rtol=1e-13)


def test_checks_fail_for_values_outside_their_tolerance(results):
    broken = dict(results)
    broken["max_error_score_from_noise"] = 1e-3           # a wrapper that is off
    broken["continuity_residual_seed_sign"] = 0.0          # a residual that cannot see a sign error
    broken["mirror_continuity_residual_exact"] = float("nan")
    del broken["vp_continuity_residual_exact"]
    failed = {c.name for c in seed_wrappers.checks(broken) if not c.passed}
    assert failed == {"max_error_score_from_noise", "continuity_residual_seed_sign",
                      "mirror_continuity_residual_exact", "vp_continuity_residual_exact"}


def test_run_is_deterministic_for_a_given_seed(results, tmp_path):
    again = seed_wrappers.run(tmp_path, n_grid=SMALL_GRID, seed=0)   # the fixture used the default seed 0
    numbers = [k for k in results if k != "figures"]
    assert numbers == list(seed_wrappers.DESCRIPTIONS)
    assert [again[k] for k in numbers] == [results[k] for k in numbers]   # bit-identical
    for first, second in zip(results["figures"], again["figures"]):
        assert Path(first).read_bytes() == Path(second).read_bytes()


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"n_grid": 1}, ValueError), ({"n_grid": 2.5}, TypeError), ({"n_grid": True}, TypeError),
     ({"seed": -1}, ValueError), ({"seed": "0"}, TypeError)],
    ids=["n_grid_below_two", "n_grid_not_integer", "n_grid_bool", "negative_seed", "seed_string"],
)
def test_run_refuses_bad_arguments(tmp_path, kwargs, error):
    name = next(iter(kwargs))
    with pytest.raises(error, match=name):
        seed_wrappers.run(tmp_path / "never", **kwargs)
    assert not (tmp_path / "never").exists()   # refused before anything is written


def test_command_line_refuses_a_grid_below_two(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        seed_wrappers.main(["--out", str(tmp_path), "--n-grid", "1"])
    assert exit_info.value.code == 2
    assert "n_grid must be an integer >= 2" in capsys.readouterr().err


def test_main_exits_nonzero_when_a_check_fails(results, tmp_path, monkeypatch, capsys):
    # reuse the fixture's numbers: this tests main's verdict, not the study again
    monkeypatch.setattr(seed_wrappers, "run", lambda out_dir, *, n_grid, seed: results)
    assert seed_wrappers.main(["--out", str(tmp_path)]) == 0
    assert "all checks PASS" in capsys.readouterr().out
    monkeypatch.setitem(seed_wrappers.TOLERANCES, "max_error_score_from_noise", ("<=", -1.0))
    assert seed_wrappers.main(["--out", str(tmp_path)]) == 1
    assert "FAILED: max_error_score_from_noise" in capsys.readouterr().out
