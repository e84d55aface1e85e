"""The si-ref console script."""

import pathlib
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
    for level in ("diffusion", "diffusion conversion", "diffusion target", "diffusion step"):
        assert f"\n  {level} level:" in out
    for name in ("diffusion_flow_velocity", "convert_v_to_sample", "velocity_target", "ddim_eta_step",
                 "dpm_solver_pp_2m_step", "shift_sigma"):
        assert f"    {name} " in out


@pytest.mark.parametrize("argv, message", [
    (["check", "nocolon", "--quantity", "drift"], "expected MODULE:CALLABLE"),
    (["check", "missing_file.py:f", "--quantity", "drift"], "no such file"),
    (["check", "no_such_module_xyz:f", "--quantity", "drift"], "cannot import module"),
    (["check", "si_ref:nothing_here", "--quantity", "drift"], "has no attribute"),
    (["check", "si_ref:GaussianCase", "--quantity", "drift", "--case", "nope"], "unknown case 'nope'"),
    (["check", "si_ref:GaussianCase", "--quantity", "drfit"], "did you mean 'drift'"),
    (["check", "si_ref:GaussianCase", "--quantity", "drift", "--gamma", "brownain"], "did you mean 'brownian'"),
    (["check", "si_ref:GaussianCase", "--quantity", "drift", "--case", "gaussian-1d-linear-brownian",
      "--gamma", "zero"], "at most one of"),
    (["check", "si_ref:GaussianCase"], "needs MODULE:CALLABLE and --quantity"),
])
def test_check_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_usage_errors_print_the_subcommands_usage(capsys):
    with pytest.raises(SystemExit) as info:
        main(["check", "si_ref:GaussianCase"])
    assert info.value.code == 2
    assert capsys.readouterr().err.startswith("usage: si-ref check")


def _blocked_folder(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    return str(blocker / "out")


@pytest.mark.parametrize("argv, usage", [
    (["validate", "--quick", "--out", "{out}"], "usage: si-ref validate"),
    (["golden", "--out", "{out}"], "usage: si-ref golden"),
    (["golden", "write", "--out", "{out}"], "usage: si-ref golden write"),
    (["benchmarks", "--quick", "--out", "{out}"], "usage: si-ref benchmarks"),
    (["exercises", "init", "{out}"], "usage: si-ref exercises init"),
], ids=["validate", "golden", "golden-write", "benchmarks", "exercises-init"])
def test_an_unwritable_folder_gets_the_same_message_in_every_subcommand(argv, usage, tmp_path, capsys):
    out = _blocked_folder(tmp_path)
    with pytest.raises(SystemExit) as info:
        main([a.replace("{out}", out) for a in argv])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(usage)
    assert f"{out!r} is not a writable folder" in err or "cannot write the exercises into" in err


@pytest.fixture(scope="module")
def golden_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("golden")
    assert main(["golden", "write", "--out", str(out)]) == 0
    return out


def test_golden_verify_passes_si_ref_and_fails_the_published_sign(golden_dir, user_file, capsys):
    assert main(["golden", "verify", str(golden_dir), f"{user_file}:gamma", "--quantity", "gamma",
                 "--gamma", "brownian"]) == 0
    assert main(["golden", "verify", str(golden_dir), f"{user_file}:published_drift", "--quantity", "drift"]) == 1
    out = capsys.readouterr().out
    assert "PASS" in out and "FAIL" in out


def test_golden_verify_usage_errors_name_the_problem(tmp_path, user_file, capsys):
    with pytest.raises(SystemExit) as info:
        main(["golden", "verify", str(tmp_path / "missing"), f"{user_file}:gamma", "--quantity", "gamma"])
    assert info.value.code == 2
    assert capsys.readouterr().err.startswith("usage: si-ref golden verify")


def test_exercises_init_check_and_list_work_on_the_students_own_files(tmp_path, capsys):
    from si_ref.validation import exercises

    folder = tmp_path / "mine"
    assert main(["exercises", "init", str(folder)]) == 0
    assert sorted(p.stem for p in folder.glob("*.py")) == sorted(exercises.EXERCISES)
    # a student solves exercise 1 in their copy: only their file decides the verdict
    solution = (pathlib.Path(exercises.__file__).parent / "solutions" / "ex01_gamma_schedule.py").read_text()
    (folder / "ex01_gamma_schedule.py").write_text(solution)
    capsys.readouterr()
    assert main(["exercises", "check", str(folder / "ex01_gamma_schedule.py"), "--max-examples", "20"]) == 0
    assert "3/3 checks passed" in capsys.readouterr().out
    (folder / "ex01_gamma_schedule.py").write_text(solution.replace("(1.0 - 2.0 * t)", "(2.0 * t - 1.0)"))
    assert main(["exercises", "check", str(folder), "--max-examples", "5"]) == 1
    out = capsys.readouterr().out
    assert "=== ex01_gamma_schedule" in out and "=== ex06_ridge_fit" in out
    assert main(["exercises", "list"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in exercises.EXERCISES)


def test_exercises_init_never_overwrites_a_students_work(tmp_path, capsys):
    folder = tmp_path / "mine"
    assert main(["exercises", "init", str(folder)]) == 0
    (folder / "ex02_interpolant.py").write_text("# my work\n")
    with pytest.raises(SystemExit) as info:
        main(["exercises", "init", str(folder)])
    assert info.value.code == 2
    assert "already exists" in capsys.readouterr().err
    assert (folder / "ex02_interpolant.py").read_text() == "# my work\n"


@pytest.mark.parametrize("argv, message", [
    (["exercises", "check", "{tmp}/nothing"], "no such file or folder"),
    (["exercises", "check", "{tmp}"], "no exercise file in"),
    (["exercises", "check", "{tmp}/notes.py"], "is not named after an exercise"),
], ids=["missing", "empty-folder", "wrong-name"])
def test_exercises_check_usage_errors(argv, message, tmp_path, capsys):
    (tmp_path / "notes.py").write_text("x = 1\n")
    with pytest.raises(SystemExit) as info:
        main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: si-ref exercises check") and message in err


def test_a_copied_exercise_runs_as_a_script_on_itself(tmp_path):
    folder = tmp_path / "mine"
    assert main(["exercises", "init", str(folder)]) == 0
    run = subprocess.run([sys.executable, str(folder / "ex01_gamma_schedule.py")], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1 and "0/3 checks passed" in run.stdout


def test_check_leaves_no_hypothesis_folder_behind(user_file, tmp_path):
    """hypothesis fixes its storage folder when imported, so only a fresh process in a fresh folder shows it."""
    run = subprocess.run([sys.executable, "-m", "si_ref", "check", f"{user_file}:gamma", "--quantity", "gamma",
                          "--gamma", "brownian", "--max-examples", "5"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["user_impl.py"]


def test_check_list_is_plain_text_that_fits_the_terminal(capsys):
    from si_ref.cli import LIST_WIDTH

    assert main(["check", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(len(line) <= LIST_WIDTH for line in lines), max(lines, key=len)
    text = "\n".join(lines)
    assert ":math:" not in text and "``" not in text and "\\" not in text
    assert "s = −η/γ" in text


def test_golden_out_before_an_action_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["golden", "--out", str(tmp_path), "verify", str(tmp_path), "x.py:f", "--quantity", "gamma"])
    assert info.value.code == 2
    assert "--out belongs after 'write'" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["exercises", "check", "DIR", "--quiet"],
                                  ["golden", "verify", "DIR", "m:f", "--quantity", "gamma", "--quiet"],
                                  ["check", "--list", "--quiet"], ["validate", "--quiet"], ["benchmarks", "--quiet"]],
                         ids=["exercises-check", "golden-verify", "check", "validate", "benchmarks"])
def test_every_long_running_subcommand_accepts_quiet(argv):
    from si_ref.cli import build_parser

    parser, _ = build_parser()
    assert parser.parse_args(argv).quiet is True


def test_check_and_golden_verify_take_a_named_diffusion_case(tmp_path, capsys):
    """--case accepts the diffusion cases of si_ref.references: a DDIM step without its ε term is named."""
    wrong = tmp_path / "wrong_ddim.py"
    wrong.write_text(
        "import numpy as np\n"
        "def ddim(eps, x, alpha_bar, alpha_bar_prev):\n"
        "    ab, abp = np.reshape(alpha_bar, (-1, 1)), np.reshape(alpha_bar_prev, (-1, 1))\n"
        "    return np.sqrt(abp) * (x - np.sqrt(1.0 - ab) * eps) / np.sqrt(ab)\n", encoding="utf-8")
    argv = ["check", f"{wrong}:ddim", "--quantity", "ddim_step", "--case", "diffusion-2d-cosine", "--max-examples", "5"]
    assert main(argv) == 1
    assert "missing-eps-term" in capsys.readouterr().out
    assert main(["check", "si_ref.diffusion.steps:ddim_step", "--quantity", "ddim_step", "--case",
                 "diffusion-2d-cosine", "--max-examples", "5"]) == 0
    capsys.readouterr()
    folder = tmp_path / "golden"
    assert main(["golden", "write", "--out", str(folder)]) == 0
    capsys.readouterr()
    assert main(["golden", "verify", str(folder), f"{wrong}:ddim", "--quantity", "ddim_step",
                 "--case", "diffusion-2d-vp-linear"]) == 1
    assert "missing-eps-term" in capsys.readouterr().out
