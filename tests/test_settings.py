"""Settings come from the environment; a bad value stops start-up naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from psaas_portal.env import envbool, envchoice, envint, envlist


def test_typed_helpers(monkeypatch):
    monkeypatch.setenv("X_BOOL", "yes")
    monkeypatch.setenv("X_INT", "12")
    monkeypatch.setenv("X_LIST", "a, b,,c")
    assert envbool("X_BOOL", False) is True
    assert envint("X_INT", 1) == 12
    assert envlist("X_LIST") == ["a", "b", "c"]
    assert envbool("X_UNSET", True) is True


@pytest.mark.parametrize(
    "call, value, message",
    [
        (lambda: envbool("X", False), "maybe", "X must be a boolean"),
        (lambda: envint("X", 1), "ten", "X must be an integer"),
        (lambda: envint("X", 1, minimum=5), "2", "X must be at least 5"),
        (lambda: envchoice("X", "a", ("a", "b")), "c", "X must be one of a, b"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch, call, value, message):
    monkeypatch.setenv("X", value)
    with pytest.raises(ImproperlyConfigured, match=message):
        call()


def start(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    base = {
        k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *(args or ("check",))],
        cwd=settings.BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_secret_key():
    result = start({"DEBUG": "0", "ALLOWED_HOSTS": "portal.example.com"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = start({"DEBUG": "0", "SECRET_KEY": "x" * 60})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_a_bad_database_url_names_the_variable():
    result = start({"DATABASE_URL": "mysql://nope"})
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_check_deploy_is_clean_in_production_mode():
    result = start(
        {
            "DEBUG": "0",
            "SECRET_KEY": "a-long-random-secret-key-for-this-test-only-0123456789-abcdef",
            "ALLOWED_HOSTS": "portal.example.com",
        },
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_sign_in_throttling_is_configured_from_the_environment():
    result = start(
        {"AXES_FAILURE_LIMIT": "3", "AXES_COOLOFF": "2", "TRUSTED_PROXY_COUNT": "1"},
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; "
        "print(s.AXES_FAILURE_LIMIT, int(s.AXES_COOLOFF_TIME.total_seconds()), s.TRUSTED_PROXY_COUNT)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3", "120", "1"]
    bad = start({"AXES_FAILURE_LIMIT": "0"})
    assert bad.returncode != 0
    assert "AXES_FAILURE_LIMIT must be at least 1" in bad.stderr
