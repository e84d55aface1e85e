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
