"""Named references: lookups, close-name suggestions for unknown names, and names of objects."""

from __future__ import annotations

import numpy as np
import pytest

import si_ref as S
from si_ref import references as R


@pytest.mark.parametrize("lookup, typo, suggestion, what", [
    (R.case, "gaussian_2d_linear_brownian", "gaussian-2d-linear-brownian", "case"),
    (R.case, "mixture-2d-linear-brownain", "mixture-2d-linear-brownian", "case"),
    (R.interpolant, "linear", "linear-brownian", "interpolant"),
    (R.interpolant, "vp-trig", "vp-trig-brownian", "interpolant"),
    (R.gamma_schedule, "brownain", "brownian", "gamma schedule"),
    (R.gamma_schedule, "Sine-Squared", "sine-squared", "gamma schedule"),
    (R.definition, "mirror", "mirror-brownian", "reference"),
], ids=["case-underscores", "case-typo", "interpolant-prefix", "interpolant-prefix-2", "schedule-typo",
        "schedule-case", "definition-prefix"])
def test_an_unknown_name_suggests_the_closest_and_lists_all(lookup, typo, suggestion, what):
    with pytest.raises(ValueError) as info:
        lookup(typo)
    message = str(info.value)
    head, _, listed = message.partition("valid names:")
    assert head.startswith(f"unknown {what} {typo!r}; did you mean ")
    assert repr(suggestion) in head
    table = {"case": R.CASES, "interpolant": R.INTERPOLANTS, "gamma schedule": R.GAMMA_SCHEDULES,
             "reference": {**R.CASES, **R.INTERPOLANTS, **R.GAMMA_SCHEDULES}}[what]
    assert all(name in listed for name in table)


def test_a_name_far_from_every_case_gets_only_the_list():
    with pytest.raises(ValueError, match="unknown case 'qqqq'; valid names: coupled-2d-trig-bsquared") as info:
        R.case("qqqq")
    assert "did you mean" not in str(info.value)


@pytest.mark.parametrize("lookup", [R.case, R.interpolant, R.gamma_schedule, R.definition])
def test_a_reference_name_must_be_a_string(lookup):
    with pytest.raises(TypeError, match="must be"):
        lookup(3)


def test_close_names_rank_containing_names_then_spelling():
    assert R.close_names("drift", ["drift", "forward_drift", "score"]) == ["drift", "forward_drift"]
    assert R.close_names("scroe", ["score", "noise", "drift"]) == ["score"]
    assert R.close_names("xyz", ["score", "noise"]) == []


def test_name_of_finds_named_objects_and_equal_rebuilds():
    for table in (R.CASES, R.INTERPOLANTS, R.GAMMA_SCHEDULES):
        for name, value in table.items():
            assert R.name_of(value) == name
    assert R.name_of(S.LinearInterpolant(S.BrownianGamma())) == "linear-brownian"
    assert R.name_of(S.ScaledBrownianGamma(2.0)) == "scaled-brownian-2"
    rebuilt = S.GaussianCase(S.LinearInterpolant(S.BrownianGamma()), S.Gaussian(np.array([0.0]), np.array([[1.0]])),
                             S.Gaussian(np.array([3.0]), np.array([[0.25]])))
    assert R.name_of(rebuilt) == "gaussian-1d-linear-brownian"


def test_name_of_is_none_for_unnamed_objects():
    assert R.name_of(S.ScaledBrownianGamma(3.0)) is None
    assert R.name_of(S.LinearInterpolant(S.SineSquaredGamma())) is None
    other_target = S.GaussianCase(S.LinearInterpolant(S.BrownianGamma()), S.Gaussian(np.array([0.0]), np.array([[1.0]])),
                                  S.Gaussian(np.array([3.0]), np.array([[0.5]])))
    assert R.name_of(other_target) is None
    custom = S.CustomInterpolant(lambda t: 1 - t, lambda t: -np.ones_like(t), lambda t: t, lambda t: np.ones_like(t),
                                 S.BrownianGamma())
    assert R.name_of(custom) is None
    assert R.name_of("linear-brownian") is None and R.name_of(None) is None
