"""Shared set-up for the benchmarks: a scratch PostgreSQL database, an SMTP sink, a worker.

Run from the project root with the venv's python, PostgreSQL and Redis reachable:
    BENCH_PG=postgres://portal:portal@127.0.0.1:5432/postgres \\
    BENCH_REDIS=redis://127.0.0.1:6379/15 .venv/bin/python bench/fanout.py
The scripts create a database of their own (psaas_bench_*) on that server and drop it at
the end; they never touch another database. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def scratch_database(name: str) -> str:
    """Creates (or recreates) database `name` on BENCH_PG's server; returns its URL."""
    import psycopg2

    admin_url = os.environ.get("BENCH_PG")
    if not admin_url:
        sys.exit(
            "set BENCH_PG=postgres://user:password@127.0.0.1:5432/postgres (a role that may create databases)"
        )
    parsed = urlparse(admin_url)
    if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("BENCH_PG must point at a PostgreSQL on this machine (127.0.0.1)")
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return urlunparse(parsed._replace(path=f"/{name}"))


def drop_database(name: str) -> None:
    import psycopg2

    conn = psycopg2.connect(os.environ["BENCH_PG"])
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def setup_django(database_url: str, **env: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "psaas_portal.settings")
    os.environ.update(env)
    import logging

    import django

    django.setup()
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """An SMTP server on 127.0.0.1 that counts messages and connections, and keeps nothing."""

    def __init__(self):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import SMTP

        sink = self
        self.messages = 0
        self.connections = 0
        self.last = 0.0  # time.monotonic() of the last message accepted
        self.lock = threading.Lock()

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                with sink.lock:
                    sink.messages += 1
                    sink.last = time.monotonic()
                return "250 OK"

        class CountingSMTP(SMTP):
            def connection_made(self, transport):
                with sink.lock:
                    sink.connections += 1
                super().connection_made(transport)

        class CountingController(Controller):
            def factory(self):
                return CountingSMTP(self.handler, **self.SMTP_kwargs)

        self.port = free_port()
        self.controller = CountingController(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def start_worker(
    database_url: str, broker_url: str, smtp_port: int, log: Path, concurrency: int = 2
) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "psaas_portal",
            "worker",
            f"--concurrency={concurrency}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--hostname=bench@localhost",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"the worker did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.2)
    return proc
