"""The quantity table: plain one-line summaries for a terminal, and unknown names answered with close names."""

from __future__ import annotations

import re

import pytest

from si_ref import quantities
from si_ref.quantities import PLAIN_WIDTH, QUANTITIES, plain_summary, quantity

#: Sphinx roles and literals, LaTeX commands and reST emphasis: none belongs on a terminal.
MARKUP = [
    (":math:", re.compile(r":math:")),
    ("a Sphinx role", re.compile(r":[a-z]+:`")),
    ("double backticks", re.compile(r"``")),
    ("a backtick", re.compile(r"`")),
    ("a LaTeX command", re.compile(r"\\[A-Za-z]+")),
    ("a LaTeX brace group", re.compile(r"[_^]\{")),
]


def markup_in(text: str) -> list:
    return [what for what, pattern in MARKUP if pattern.search(text)]


def balanced(text: str) -> bool:
    """Brackets close in order: a formula cut in the middle leaves one open."""
    pairs, stack = {")": "(", "]": "[", "}": "{"}, []
    for ch in text:
        if ch in "([{":
            stack.append(ch)
        elif ch in pairs:
            if not stack or stack.pop() != pairs[ch]:
                return False
    return not stack


def test_the_markup_scanner_finds_what_it_looks_for():
    """The scanner itself (a scan that finds nothing proves nothing)."""
    assert markup_in(r":math:`s = -\eta / \gamma`") == [":math:", "a Sphinx role", "a backtick", "a LaTeX command"]
    assert markup_in("``eps``") == ["double backticks", "a backtick"]
    assert markup_in(r"\dot\gamma") == ["a LaTeX command"]
    assert markup_in("s = −η/γ, b = v − γγ̇ s") == []
    assert not balanced("x̂1 = (x − α m0 + (α² S0") and balanced("x̂1 = (x − α m0)/β")


@pytest.mark.parametrize("name", list(QUANTITIES))
def test_every_plain_summary_is_one_short_line_without_markup(name):
    q = QUANTITIES[name]
    text = q.plain
    assert text and "\n" not in text and text == text.strip(), repr(text)
    assert len(text) <= PLAIN_WIDTH, f"{len(text)} > {PLAIN_WIDTH}: {text!r}"
    assert markup_in(text) == [], text
    assert balanced(text), text
    assert plain_summary(q) == plain_summary(name) == text


@pytest.mark.parametrize("name", list(QUANTITIES))
def test_every_long_summary_is_plain_text_too(name):
    summary = QUANTITIES[name].summary
    assert markup_in(summary) == [], summary
    assert balanced(summary), summary


def test_summaries_state_the_sign_conventions():
    """The formulas of the README's conventions table, written out in Unicode."""
    assert "b = v − γγ̇ s" in plain_summary("DriftFromVelocityScore")
    assert "s = −η/γ" in plain_summary("ScoreFromNoise")
    assert "b = −γγ̇ s" in plain_summary("MirrorVelocityFromScore")
    assert "η = E[z | x_t = x] = −γ s" in plain_summary("noise")
    assert "b_F = b + ε s" in plain_summary("forward_drift")


@pytest.mark.parametrize("typo, suggestion", [
    ("drfit", "drift"),
    ("Drift", "drift"),
    ("gamma_dto", "gamma_dot"),
    ("scroe", "score"),
    ("DriftFromVelocity", "DriftFromVelocityScore"),
    ("denoise-x1", "denoise_x1"),
])
def test_an_unknown_quantity_suggests_the_closest_names_and_lists_all(typo, suggestion):
    with pytest.raises(ValueError) as info:
        quantity(typo)
    message = str(info.value)
    assert message.startswith(f"unknown quantity {typo!r}; did you mean ")
    head = message.split("valid names:")[0]
    assert repr(suggestion) in head
    listed = message.split("valid names:")[1]
    assert all(name in listed for name in QUANTITIES)


def test_a_name_far_from_every_quantity_gets_only_the_list():
    with pytest.raises(ValueError, match=r"unknown quantity 'zzzz'; valid names: BackwardDriftFromDriftScore") as info:
        quantity("zzzz")
    assert "did you mean" not in str(info.value)


@pytest.mark.parametrize("bad", [3, None, QUANTITIES["drift"]])
def test_a_quantity_name_must_be_a_string(bad):
    with pytest.raises(TypeError, match="quantity must be a name"):
        quantity(bad)


def test_plain_summary_of_an_unknown_name_raises_with_suggestions():
    with pytest.raises(ValueError, match="did you mean 'velocity'"):
        plain_summary("velocty")
    assert "plain_summary" in quantities.__all__
