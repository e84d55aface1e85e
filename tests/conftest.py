"""Hypothesis profiles (a fast, derandomised default for CI and a ``thorough`` one) and one BLAS thread per
test process.

Select with ``HYPOTHESIS_PROFILE=thorough python -m pytest``.
"""

import os

import numpy  # noqa: F401  (loads the BLAS that threadpoolctl limits)
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

