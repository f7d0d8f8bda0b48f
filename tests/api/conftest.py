from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from api.models import Scope
from api.tokens import create_api_token
from tests.conftest import register_secret


def make_token(user, scope: str = Scope.READ_WRITE, **kwargs) -> tuple:
    """A personal token (row, value); the value is a secret no log line may hold."""
    token, raw = create_api_token(user, name=kwargs.pop("name", "tests"), scope=scope, **kwargs)
    register_secret(raw, "API token")
    return token, raw


class Caller:
    """A program calling the API with one token (or none)."""

    def __init__(self, raw: str | None = None) -> None:
        self.client = APIClient()
        if raw:
            self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    def get(self, url, params=None):
        return self.client.get(url, params or {})

    def post(self, url, body=None, **extra):
        data = body if isinstance(body, (str, bytes)) else json.dumps(body or {})
        return self.client.post(url, data=data, content_type="application/json", **extra)


@pytest.fixture
def as_user():
    """as_user(engineer_a) -> a Caller with a fresh read-write token of that person."""

    def caller(user, scope: str = Scope.READ_WRITE) -> Caller:
        return Caller(make_token(user, scope)[1])

    return caller
