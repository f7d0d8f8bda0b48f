from __future__ import annotations

import pytest

from engagements import operations as ops


@pytest.fixture
def token(engagement_a, engineer_a):
    """An attestation token of the subscriber's engineer: (row, raw secret)."""
    return ops.create_attestation_token(engagement_a, actor=engineer_a, name="nightly")
