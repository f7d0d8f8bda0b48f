"""Hypothesis profiles: `ci` (the default: 500 generated bodies per endpoint) and `dev`
(HYPOTHESIS_PROFILE=dev, 50, for a quick look). No example database is written."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

COMMON = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,  # one client and engagement for all examples
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
}
settings.register_profile("ci", max_examples=500, **COMMON)
settings.register_profile("dev", max_examples=50, **COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
