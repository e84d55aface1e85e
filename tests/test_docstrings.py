"""Every docstring of the package reads as written: no control characters, no half-escaped LaTeX.

A non-raw docstring that holds LaTeX turns ``\\frac`` into a form feed, ``\\beta`` into a
backspace, ``\\alpha`` into a bell and ``\\tfrac`` into a tab, and ``help()`` then shows
``rac1m`` or ``lpha``. The scan covers modules, classes, functions and methods, read from
the source (so nothing needs importing) and from the imported objects (what ``help()`` shows).
"""

import ast
import importlib
import inspect
import pathlib
import pkgutil

import pytest

import si_ref

PACKAGE = pathlib.Path(si_ref.__file__).parent
SOURCES = sorted(PACKAGE.rglob("*.py"))
ALLOWED = {"\n"}


def _bad_characters(text):
    return sorted({f"U+{ord(c):04X}" for c in text if (ord(c) < 32 or ord(c) == 127) and c not in ALLOWED})


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_source_docstrings_have_no_control_characters(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc and _bad_characters(doc):
                bad.append((getattr(node, "name", "<module>"), getattr(node, "lineno", 1), _bad_characters(doc)))
    assert not bad, f"{path}: docstrings with control characters (use r\"\"\"...\"\"\"): {bad}"


def _public_objects():
    modules = [si_ref] + [importlib.import_module(info.name)
                          for info in pkgutil.walk_packages(si_ref.__path__, "si_ref.")
                          if not info.name.endswith("__main__")]
    for module in modules:
        yield module.__name__, module
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and getattr(obj, "__module__", None) == module.__name__:
                yield f"{module.__name__}.{name}", obj
                if inspect.isclass(obj):
                    for attribute, member in vars(obj).items():
                        if inspect.isfunction(member) or isinstance(member, property):
                            yield f"{module.__name__}.{name}.{attribute}", member


def test_help_shows_no_control_characters():
    bad = [(name, _bad_characters(obj.__doc__)) for name, obj in _public_objects()
           if obj.__doc__ and _bad_characters(obj.__doc__)]
    assert not bad, bad


def test_the_scan_sees_a_half_escaped_latex_docstring():
    source = 'def f():\n    """\\frac12 \\alpha \\beta \\tfrac"""\n'
    doc = ast.get_docstring(ast.parse(source).body[0], clean=False)
    assert _bad_characters(doc) == ["U+0007", "U+0008", "U+0009", "U+000C"]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_sources_point_only_to_files_inside_the_repository(path):
    """A reader of the installed package has the README and the package, not the project's shared folder."""
    text = path.read_text(encoding="utf-8")
    for outside in ("../shared", "DESIGN.md", "DESIGN's"):
        assert outside not in text, f"{path.name} refers to {outside!r}; point to the README or a module instead"
