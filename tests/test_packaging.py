"""What ``pip install .`` puts into site-packages: the package si_ref and nothing else."""

import pathlib
import tomllib

from setuptools import find_packages

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _installed_packages():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools_config = config["tool"]["setuptools"]
    assert "package-dir" not in setuptools_config   # no folder mapped to another top-level name
    return find_packages(where=str(ROOT), **setuptools_config["packages"]["find"])


def test_only_the_si_ref_namespace_is_installed():
    packages = _installed_packages()
    assert {name.split(".")[0] for name in packages} == {"si_ref"}


def test_the_studies_benchmarks_and_exercises_ship_inside_si_ref():
    packages = set(_installed_packages())
    assert {"si_ref.validation", "si_ref.validation.benchmarks", "si_ref.validation.exercises",
            "si_ref.validation.exercises.solutions"} <= packages
    # every folder of Python files under si_ref is a package that ships
    folders = {p.parent for p in (ROOT / "si_ref").rglob("*.py") if "__pycache__" not in p.parts}
    assert {".".join(f.relative_to(ROOT).parts) for f in folders} <= packages


def test_no_top_level_validation_package_is_left_in_the_checkout():
    assert not (ROOT / "validation").exists()
