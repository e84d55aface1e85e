"""What the smoke tests of the validation studies assert alike (each test file keeps its own specifics)."""

import math


def assert_every_check_passes(study, results):
    """One check per tolerance, in order, each PASS, finite and judged with its own tolerance."""
    report = study.checks(results)
    assert [c.name for c in report] == list(study.TOLERANCES)
    failed = [c for c in report if not c.passed]
    assert not failed, failed
    for check in report:
        comparison, bound = study.TOLERANCES[check.name]
        assert check.tolerance == (comparison, bound)
        assert math.isfinite(check.value)
        assert check.value <= bound if comparison == "<=" else check.value >= bound
