"""What the smoke tests of the validation studies assert alike (each test file keeps its own specifics)."""

import math


def effective_tolerances(study, results):
    """The study's tolerances, with its QUICK_TOLERANCES applied when the run says it used them."""
    tolerances = dict(study.TOLERANCES)
    if results.get("tolerances") == "quick":
        tolerances.update(study.QUICK_TOLERANCES)
    return tolerances


def assert_every_check_passes(study, results):
    """One check per tolerance, in order, each PASS, finite and judged with its own tolerance."""
    report = study.checks(results)
    tolerances = effective_tolerances(study, results)
    assert [c.name for c in report] == list(tolerances)
    failed = [c for c in report if not c.passed]
    assert not failed, failed
    for check in report:
        comparison, bound = tolerances[check.name]
        assert check.tolerance == (comparison, bound)
        assert math.isfinite(check.value)
        assert check.value <= bound if comparison == "<=" else check.value >= bound
