"""`si-ref validate`: discovers every study, writes REPORT.md with valid figures, exits 1 iff a check fails."""

import re
import subprocess
import sys

import pytest

from si_ref.cli import main
from si_ref.validate import discover_studies

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


#: Two fast studies for the report's structure; every study's own smoke test runs it at its QUICK
#: sizes and asserts that every check passes there, which is what ``validate --quick`` runs.
FAST_STUDIES = ("seed_wrappers",)


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    """``python -m si_ref validate --quick`` in a folder holding a ``validation.py`` and a ``validation/``
    package, which must not shadow si_ref's studies (they ship inside si_ref)."""
    folder = tmp_path_factory.mktemp("cwd")
    (folder / "validation.py").write_text("raise RuntimeError('the wrong validation module was imported')\n")
    (folder / "validation").mkdir()
    (folder / "validation" / "__init__.py").write_text("raise RuntimeError('the wrong validation package')\n")
    run = subprocess.run([sys.executable, "-m", "si_ref", "validate", "--quick", "--only", *FAST_STUDIES,
                          "--out", "report"], cwd=folder, capture_output=True, text=True, timeout=600)
    out = folder / "report"
    assert (out / "REPORT.md").is_file(), run.stdout + run.stderr
    return out, run.returncode, (out / "REPORT.md").read_text(encoding="utf-8")


def test_quick_validation_passes_and_reports_each_study_with_its_sizes(quick_report):
    out, status, report = quick_report
    studies = discover_studies()
    for name in FAST_STUDIES:
        module = studies[name]
        assert f"(`{name}`)" in report and module.TITLE in report
        sizes = ", ".join(f"{key}={value}" for key, value in module.QUICK.items())
        assert f"Quick run: {sizes}" in report
    verdicts = re.findall(r"^- .*\(`(\w+)`\): (PASS|FAIL|SKIPPED)$", report, flags=re.M)
    assert verdicts == [(name, "PASS") for name in FAST_STUDIES]
    assert status == 0


def test_every_study_runs_quick_with_the_tolerances_its_sizes_meet():
    """A study with QUICK_TOLERANCES asks for them in QUICK; none is judged on wall-clock time."""
    for name, module in discover_studies().items():
        overrides = getattr(module, "QUICK_TOLERANCES", None)
        if overrides:
            assert module.QUICK.get("tolerances") == "quick", name
            assert set(overrides) <= set(module.TOLERANCES), name
        names = set(getattr(module, "TOLERANCES", {})) | set(overrides or {})
        assert not any("second" in n or "time" in n.split("_") for n in names), (name, names)


def test_validate_help_lists_the_study_names(capsys):
    with pytest.raises(SystemExit) as info:
        main(["validate", "--help"])
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for name in discover_studies():
        assert name in text


@pytest.mark.filterwarnings("ignore:.*found in sys.modules after import of package:RuntimeWarning")
@pytest.mark.parametrize("name", sorted(discover_studies()))
def test_every_study_runs_alone_as_a_module(name, monkeypatch, capsys):
    """``python -m si_ref.validation.<name>`` reaches the study's command line (its runs are tested in its file)."""
    import runpy

    monkeypatch.setattr(sys, "argv", [name, "--help"])
    with pytest.raises(SystemExit) as info:
        runpy.run_module(f"si_ref.validation.{name}", run_name="__main__", alter_sys=True)
    assert info.value.code == 0
    assert f"python -m si_ref.validation.{name}" in capsys.readouterr().out


def test_progress_names_the_study_on_a_shown_stream_and_is_silent_when_quiet(tmp_path, monkeypatch):
    import io
    import types

    import si_ref.validate as validate
    from si_ref import progress

    def run(out, seed=0):
        with progress.task("fitting", total=2, unit="slice") as fit:
            fit.advance()
            fit.advance()
        return {"figures": []}

    study = types.SimpleNamespace(TITLE="Progress", SUMMARY="Reports two steps.", QUICK={}, run=run,
                                  checks=lambda results: [])
    monkeypatch.setattr(validate, "discover_studies", lambda: {"stepping": study})
    shown, silent = io.StringIO(), io.StringIO()
    with progress.shown(shown):
        assert validate.run_validation(tmp_path / "a", stream=io.StringIO()) == 0
    with progress.shown(silent), progress.quiet():
        assert validate.run_validation(tmp_path / "b", stream=io.StringIO()) == 0
    lines = shown.getvalue().splitlines()
    assert lines[0].startswith("[1/1] stepping:")
    assert any(line.startswith("[1/1] stepping > fitting: slice 2/2") for line in lines)
    assert silent.getvalue() == ""
