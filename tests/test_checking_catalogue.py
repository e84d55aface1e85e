"""The mistake catalogue: every name has an explanation, a real-world pattern, and a row in the README."""

from pathlib import Path

from si_ref.checking.mistakes import CATALOGUE
from si_ref.checking.patterns import PATTERNS
from si_ref.checking.table import QUANTITIES

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_catalogued_mistake_has_a_pattern_and_every_pattern_a_mistake():
    assert set(PATTERNS) == set(CATALOGUE)
    for name, (pattern, source) in PATTERNS.items():
        assert pattern.strip() and source.strip(), name


def test_the_readme_table_is_the_pattern_table():
    for name, (pattern, source) in PATTERNS.items():
        row = f"| `{name}` | {pattern.replace('|', chr(92) + '|')} | {source.replace('|', chr(92) + '|')} |"
        assert row in README, name


def test_every_mistake_named_by_a_quantity_is_catalogued_and_every_catalogued_one_is_used():
    used = {m.name for q in QUANTITIES.values() for m in q.mistakes}
    assert used <= set(CATALOGUE)
    hints = {"float32-rounding"}   # named by the comparison itself, not by a quantity's form
    assert set(CATALOGUE) - used - hints == set(), "catalogued but never produced"
