"""The log scrubber of tests/conftest.py: it finds a secret in a log record or a process's
log file, it knows the session ids of the run, and a leak fails the whole pytest run."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap

import pytest
from django.conf import settings
from django.urls import reverse

from tests import conftest, logscrub
from tests.factories import PASSWORD


def test_a_logged_secret_is_found_and_reported_masked():
    recorder = logscrub.LogRecorder()
    logger = logging.getLogger("tests.scrubber-demo")
    logger.propagate = False  # not into this run's own recorder: that would fail the run
    logger.addHandler(recorder)
    try:
        logger.warning("sign-in for %s with %s", "engineer-a", PASSWORD)
        logger.info("nothing to see")
    finally:
        logger.removeHandler(recorder)
    leaks = logscrub.find_leaks(recorder.lines, logscrub.Secrets())
    assert [(leak.secret_kind, leak.where) for leak in leaks] == [
        ("password", "logger tests.scrubber-demo")
    ]
    assert PASSWORD not in leaks[0].excerpt and "<password>" in leaks[0].excerpt


def test_a_secret_in_a_worker_log_file_is_found(tmp_path):
    secrets = logscrub.Secrets()
    secrets.add("0123456789abcdefsessionkey", "session id")
    (tmp_path / "w1").mkdir()
    (tmp_path / "w1" / "worker-w1-0.log").write_text("ok\ncookie 0123456789abcdefsessionkey\n")
    (tmp_path / "gunicorn.log").write_text("GET /healthz 200\n")
    leaks = logscrub.find_leaks(logscrub.process_logs(tmp_path), secrets)
    assert [(leak.secret_kind, leak.where.endswith("worker-w1-0.log")) for leak in leaks] == [
        ("session id", True)
    ]


@pytest.mark.django_db
def test_the_session_ids_of_the_run_are_secrets_and_the_recorder_listens(client, engineer_a):
    response = client.post(
        reverse("login"), {"username": engineer_a.username, "password": PASSWORD}
    )
    key = response.cookies[settings.SESSION_COOKIE_NAME].value
    assert (key, "session id") in conftest.SECRETS.items()
    assert conftest._RECORDER in logging.getLogger().handlers


def test_a_leak_fails_the_pytest_run(tmp_path):
    """A separate pytest run with this suite's conftest and one test that logs the tests'
    password: every test passes, the run fails, naming the leak and masking it."""
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import _log_scrubber, pytest_runtest_setup, pytest_sessionfinish\n"
    )
    (tmp_path / "test_leaky.py").write_text(
        textwrap.dedent(
            """
            import logging
            from tests.factories import PASSWORD

            def test_logs_a_password():
                logging.getLogger("leaky").warning("the password is %s", PASSWORD)
            """
        )
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-c",
            str(settings.BASE_DIR / "pyproject.toml"),
            "--rootdir",
            str(settings.BASE_DIR),
            f"--basetemp={tmp_path / 'inner'}",
            str(tmp_path / "test_leaky.py"),
        ],
        cwd=settings.BASE_DIR,
        env={**os.environ, "PYTHONPATH": str(settings.BASE_DIR)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "1 passed" in result.stdout, result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.TESTS_FAILED
    assert "LOG SCRUB FAILED: 1 secret(s)" in result.stdout
    assert "a password in logger leaky: WARNING the password is <password>" in result.stdout
    assert PASSWORD not in result.stdout
