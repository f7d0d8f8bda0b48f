from __future__ import annotations

import pytest

from engagements.actions.tokens import create_attestation_token


@pytest.fixture
def token(engagement_a, engineer_a):
    """An attestation token of the subscriber's engineer: (row, raw secret)."""
    return create_attestation_token(engagement_a, actor=engineer_a, name="nightly")
