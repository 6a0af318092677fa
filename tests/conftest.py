"""Test configuration: hypothesis profiles chosen by SWIMLAB_HYPOTHESIS_PROFILE (ci | dev | nightly)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile("dev", max_examples=150, deadline=None)
settings.register_profile(
    "nightly", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("SWIMLAB_HYPOTHESIS_PROFILE", "ci"))
