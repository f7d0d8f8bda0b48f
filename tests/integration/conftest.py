"""A real Celery worker process against the real broker, sharing the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection


def _database_url_for_tests() -> str:
    """The URL of the database the tests run on (pytest-django's test_… database)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    def __init__(self, proc: subprocess.Popen, log: Path):
        self.proc = proc
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"the worker exited ({self.proc.returncode}):\n{self.output()[-3000:]}"
                )
            time.sleep(0.1)
        raise AssertionError(
            f"{text!r} not in the worker's log after {timeout}s:\n{self.output()[-3000:]}"
        )

    def stop(self, sig: int | None = None) -> None:
        if self.proc.poll() is None:
            if sig is None:
                self.proc.terminate()
            else:
                self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@pytest.fixture
def start_worker(redis_url, tmp_path):
    """Starts real `celery worker` processes; each stops at the end of the test."""
    workers: list[Worker] = []

    def start(name: str = "w1", extra_env: dict[str, str] | None = None) -> Worker:
        log = tmp_path / f"worker-{name}-{len(workers)}.log"
        env = {
            **os.environ,
            "DATABASE_URL": _database_url_for_tests(),
            "CELERY_BROKER_URL": redis_url,
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "psaas_portal",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                f"--hostname={name}-{os.getpid()}@localhost",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        worker = Worker(proc, log)
        workers.append(worker)
        worker.wait_for("ready.", timeout=60)
        return worker

    yield start
    for worker in workers:
        worker.stop()
