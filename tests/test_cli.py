"""The si-ref console script."""

import subprocess
import sys

import pytest

import si_ref
from si_ref.cli import main


def test_version_flag_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"si_ref {si_ref.__version__}"


def test_help_lists_the_subcommands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "demo" in capsys.readouterr().out


def test_no_subcommand_prints_help_and_succeeds(capsys):
    assert main([]) == 0
    assert "usage: si-ref" in capsys.readouterr().out


def test_demo_passes_its_monte_carlo_check(capsys):
    assert main(["demo", "--n", "20000", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "PASS" in out and "FAIL" not in out


def test_demo_rejects_a_sample_size_below_two(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--n", "1"])
    assert exit_info.value.code == 2
    assert "--n must be at least 2; received 1" in capsys.readouterr().err


def test_python_dash_m_runs_the_same_cli():
    result = subprocess.run([sys.executable, "-m", "si_ref", "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == f"si_ref {si_ref.__version__}"


USER_CODE = '''
import numpy as np

def gamma(t):
    return np.sqrt(t * (1 - t))

def published_drift(case):
    def drift(x, t):
        return case.velocity(x, t) + np.reshape(case.interpolant.gamma_gamma_dot(t), (-1, 1)) * case.score(x, t)
    return drift
'''


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "user_impl.py"
    path.write_text(USER_CODE)
    return path


def test_check_passes_a_correct_schedule_from_a_file(user_file, capsys):
    assert main(["check", f"{user_file}:gamma", "--quantity", "gamma", "--gamma", "brownian", "--max-examples", "20"]) == 0
    assert "gamma: PASS" in capsys.readouterr().out


def test_check_reports_the_published_sign_mistake_with_exit_status_one(user_file, capsys):
    status = main(["check", f"{user_file}:published_drift", "--quantity", "drift", "--max-examples", "15"])
    out = capsys.readouterr().out
    assert status == 1
    assert "called as a factory" in out and "Minimal counterexample" in out and "gamma-gamma-dot-sign" in out


def test_check_imports_a_module_by_name(capsys):
    assert main(["check", "si_ref.references:CASES.get", "--quantity", "gamma", "--gamma", "zero",
                 "--max-examples", "5"]) == 1   # dict.get(t) returns None: not an array
    assert "gamma: FAIL" in capsys.readouterr().out


def test_check_list_names_quantities_and_references(capsys):
    assert main(["check", "--list"]) == 0
    out = capsys.readouterr().out
    assert "DriftFromVelocityScore" in out and "mixture-2d-linear-brownian" in out and "euler_maruyama_step" in out


@pytest.mark.parametrize("argv, message", [
    (["check", "nocolon", "--quantity", "drift"], "expected MODULE:CALLABLE"),
    (["check", "missing_file.py:f", "--quantity", "drift"], "no such file"),
    (["check", "no_such_module_xyz:f", "--quantity", "drift"], "cannot import module"),
    (["check", "si_ref:nothing_here", "--quantity", "drift"], "has no attribute"),
    (["check", "si_ref:GaussianCase", "--quantity", "drift", "--case", "nope"], "unknown case 'nope'"),
    (["check", "si_ref:GaussianCase", "--quantity", "drift", "--case", "gaussian-1d-linear-brownian",
      "--gamma", "zero"], "at most one of"),
    (["check", "si_ref:GaussianCase"], "needs MODULE:CALLABLE and --quantity"),
])
def test_check_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err
