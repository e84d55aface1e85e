"""`si-ref validate`: discovers every study, writes REPORT.md with valid figures, exits 1 iff a check fails."""

import re

import pytest

from si_ref.cli import main
from si_ref.validate import discover_studies

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


#: Two fast studies for the report's structure; every study's own smoke test runs it at its QUICK
#: sizes and asserts that every check passes there, which is what ``validate --quick`` runs.
FAST_STUDIES = ("schedules", "seed_wrappers")


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    status = main(["validate", "--quick", "--quiet", "--only", *FAST_STUDIES, "--out", str(out)])
    return out, status, (out / "REPORT.md").read_text(encoding="utf-8")


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


def test_validate_works_from_a_folder_with_a_validation_module(tmp_path):
    """A validation.py (or validation/ package) in the working directory must not shadow si_ref's studies."""
    import subprocess
    import sys

    (tmp_path / "validation.py").write_text("raise RuntimeError('the wrong validation module was imported')\n")
    (tmp_path / "si_ref_validation").mkdir()
    run = subprocess.run([sys.executable, "-m", "si_ref", "validate", "--quick", "--only", "seed_wrappers",
                          "--out", "report"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "report" / "REPORT.md").is_file()


def test_every_figure_referenced_by_the_report_is_a_png(quick_report):
    out, _, report = quick_report
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert figures
    for figure in figures:
        assert (out / figure).read_bytes()[:8] == PNG_SIGNATURE, figure


def test_report_is_deterministic_for_a_seed(tmp_path):
    reports = []
    for folder in ("a", "b"):
        main(["validate", "--quick", "--only", "seed_wrappers", "--seed", "3", "--out", str(tmp_path / folder)])
        reports.append((tmp_path / folder / "REPORT.md").read_bytes())
    assert reports[0] == reports[1]
    pngs = sorted(p.name for p in (tmp_path / "a" / "seed_wrappers").glob("*.png"))
    for name in pngs:
        assert (tmp_path / "a" / "seed_wrappers" / name).read_bytes() == (tmp_path / "b" / "seed_wrappers" / name).read_bytes()


def test_unknown_study_name_lists_the_valid_names(capsys):
    with pytest.raises(SystemExit) as info:
        main(["validate", "--only", "nonsense"])
    assert info.value.code == 2
    error = capsys.readouterr().err
    assert "unknown study ['nonsense']" in error and "seed_wrappers" in error


def test_unwritable_out_fails_before_any_study_runs(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(SystemExit) as info:
        main(["validate", "--quick", "--out", str(blocker / "report")])
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert "is not a writable folder" in captured.err and "[1/" not in captured.out
    assert captured.err.startswith("usage: si-ref validate")


def test_a_study_without_its_optional_dependency_is_skipped_not_failed(tmp_path, monkeypatch, capsys):
    import types

    import si_ref.validate as validate

    study = types.SimpleNamespace(
        TITLE="Optional peer", SUMMARY="Needs a package.", QUICK={},
        run=lambda out, seed=0: {"skipped": "peer not installed; install with: pip install peer", "figures": []},
        checks=lambda results: [])
    monkeypatch.setattr(validate, "discover_studies", lambda: {"optional": study})
    assert validate.run_validation(tmp_path) == 0
    report = (tmp_path / "REPORT.md").read_text(encoding="utf-8")
    assert "- Optional peer (`optional`): SKIPPED" in report
    assert "**SKIPPED**: peer not installed; install with: pip install peer" in report
    assert "SKIPPED: 0/0 checks passed (peer not installed" in capsys.readouterr().out


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
