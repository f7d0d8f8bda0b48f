"""Real services for the integration tests, all on 127.0.0.1 and stopped by the fixtures:
a Redis server of the test's own (so it can be stopped and started), real `celery worker`
processes sharing the test database, and an SMTP server (aiosmtpd) recording every message."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from psaas_portal.celery import app as celery_app
from tests.conftest import service_missing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# --- Redis -----------------------------------------------------------------------------


class RedisServer:
    def __init__(self, port: int, workdir: Path):
        self.port, self.workdir, self.proc = port, workdir, None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: _port_open(self.port), 10, f"Redis on port {self.port}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        wait_until(lambda: not _port_open(self.port), 10, "Redis to stop")


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_server(tmp_path, monkeypatch):
    """A Redis of this test's own; the in-process Celery app publishes to it."""
    if not shutil.which("redis-server"):
        service_missing("redis-server (apt-get install redis-server)")
    server = RedisServer(free_port(), tmp_path)
    server.start()
    # Celery reads CELERY_BROKER_URL from the environment before its own configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", server.url)
    old = (
        celery_app.conf.broker_url,
        celery_app.conf.broker_transport_options,
        celery_app.conf.task_publish_retry,
    )
    celery_app.conf.broker_url = server.url
    celery_app.conf.broker_transport_options = {
        **settings.REDIS_TRANSPORT_OPTIONS,
        "visibility_timeout": 30,
    }
    celery_app.conf.task_publish_retry = False  # a down broker fails the publish at once
    _reset_pool()
    assert celery_app.connection_for_write().port == server.port
    yield server
    server.stop()
    (
        celery_app.conf.broker_url,
        celery_app.conf.broker_transport_options,
        celery_app.conf.task_publish_retry,
    ) = old
    monkeypatch.undo()
    _reset_pool()


def _reset_pool() -> None:
    """Drops the app's broker connections so the next publish connects to the new URL."""
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
    celery_app.amqp._producer_pool = None


# --- SMTP ------------------------------------------------------------------------------


class Recorder:
    """An aiosmtpd handler keeping every accepted message; optionally slow."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.messages: list[email.message.Message] = []
        self.lock = threading.Lock()
        self.on_recipient = None  # called with the count of messages accepted so far

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.on_recipient is not None:
            self.on_recipient(len(self.messages))
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
            if server.transport is None or server.transport.is_closing():
                return "451 client went away"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def message_ids(self) -> list[str]:
        with self.lock:
            return [m["Message-ID"] for m in self.messages]

    def to(self) -> list[str]:
        with self.lock:
            return [m["To"] for m in self.messages]


class SmtpServer:
    """aiosmtpd on 127.0.0.1: the messages in `recorder`, and the connections clients opened
    (`connections`, the controller's own start-up probe not counted)."""

    def __init__(self, port: int, delay: float = 0.0):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import SMTP

        server = self
        self.port = port
        self.connections = 0
        self.recorder = Recorder(delay)

        class Counting(SMTP):
            def connection_made(self, transport):
                with server.recorder.lock:
                    server.connections += 1
                super().connection_made(transport)

        class CountingController(Controller):
            def factory(self):
                return Counting(self.handler, **self.SMTP_kwargs)

        self.controller = CountingController(self.recorder, hostname="127.0.0.1", port=port)

    def start(self) -> None:
        self.controller.start()
        self.connections = 0  # the controller's own probe at start

    def stop(self) -> None:
        self.controller.stop()


@pytest.fixture
def smtp_server():
    """An SMTP server on 127.0.0.1 recording every message; `smtp_server.stop()` refuses connections."""
    server = SmtpServer(free_port())
    server.start()
    yield server
    with contextlib.suppress(Exception):  # already stopped by the test
        server.stop()


# --- Workers ---------------------------------------------------------------------------


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
        def seen():
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"the worker exited ({self.proc.returncode}):\n{self.output()[-3000:]}"
                )
            return text in self.output()

        try:
            wait_until(seen, timeout, repr(text))
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nworker log:\n{self.output()[-3000:]}") from None

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@pytest.fixture
def start_worker(redis_server, tmp_path):
    """Starts real `celery worker` processes on the test's Redis and database."""
    workers: list[Worker] = []

    def start(
        name: str = "w1",
        smtp: SmtpServer | None = None,
        smtp_port: int | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> Worker:
        log = tmp_path / f"worker-{name}-{len(workers)}.log"
        env = {
            **os.environ,
            "DATABASE_URL": _database_url_for_tests(),
            "CELERY_BROKER_URL": redis_server.url,
            "CELERY_VISIBILITY_TIMEOUT": "60",
            "PYTHONUNBUFFERED": "1",
            "NOTIFY_RETRY_BACKOFF": "1",
            "NOTIFY_RETRY_BACKOFF_MAX": "4",
            **(extra_env or {}),
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        port = smtp.port if smtp else smtp_port
        if port:
            env.update(
                EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                EMAIL_HOST="127.0.0.1",
                EMAIL_PORT=str(port),
                EMAIL_TIMEOUT="5",
            )
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
                f"--hostname={name}-{os.getpid()}-{len(workers)}@localhost",
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
