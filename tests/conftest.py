"""Hypothesis profiles: a fast, derandomised default for CI and a ``thorough`` one.

Select with ``HYPOTHESIS_PROFILE=thorough python -m pytest``.
"""

import os

from hypothesis import HealthCheck, settings

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
