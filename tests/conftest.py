"""Hypothesis profiles (a fast, derandomised default for CI and a ``thorough`` one), one BLAS thread per test
process, and pytest-xdist groups for modules that share a module-scoped fixture.

Select with ``HYPOTHESIS_PROFILE=thorough python -m pytest``.
"""

import os

import numpy  # noqa: F401  (loads the BLAS that threadpoolctl limits)
import pytest
from hypothesis import HealthCheck, settings
from threadpoolctl import threadpool_limits

settings.register_profile(
    "default",
    max_examples=20,   # 40 took the suite to 190 s on 2 cores (limit 3 minutes); `thorough` runs 1000
    deadline=None,
    derandomize=True,  # CI runs the same examples every time; `thorough` explores
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# One BLAS thread per test process: pytest-xdist already runs one worker per core, and OpenBLAS's threads
# on the small matrices of the tests only wait for each other (a 2 x 2 triangular solve took milliseconds
# on a busy machine). Tests of si_ref.threads set their own limits inside this one.
_ONE_BLAS_THREAD = threadpool_limits(limits=1, user_api="blas")


@pytest.hookimpl(tryfirst=True)   # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Keep the tests of a module that shares a module-scoped fixture (a study run, a vector set) on one
    pytest-xdist worker (``--dist loadgroup`` in pyproject.toml), so that the fixture is computed once
    instead of once per worker; every other test is spread as under ``--dist load``."""
    import pytest

    for item in items:
        definitions = getattr(item, "_fixtureinfo", None)
        if definitions is None:
            continue
        shared = any(d.scope == "module" and d.baseid == item.nodeid.split("::")[0]
                     for defs in definitions.name2fixturedefs.values() for d in defs)
        if shared:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
