"""The fault suite's services: the integration suite's Redis, workers and SMTP server, plus a
relay that can answer 4xx or 5xx to DATA, or disappear and come back on the same port.

Every scenario counts emails by Message-ID (delivered, duplicates) and records its figures;
the session's summary prints them as one table (the README's "Reliability under faults")."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections import Counter
from dataclasses import dataclass

import pytest

from tests.integration.conftest import (  # noqa: F401 (fixtures)
    free_port,
    redis_server,
    start_worker,
    wait_until,
)
from tests.integration.test_backup_restore import fresh_database  # noqa: F401 (fixture)

RESULTS: list[dict] = []


class FaultyHandler:
    """Answers DATA with `reply` (250 records the message, 4xx/5xx refuses it)."""

    def __init__(self):
        self.reply = "250 OK"
        self.delay = 0.0
        self.lock = threading.Lock()
        self.message_ids: list[str] = []
        self.refused = 0
        self.on_recipient = None  # called with the count of messages accepted so far

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.on_recipient is not None:
            self.on_recipient(len(self.message_ids))
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        reply = self.reply
        if not reply.startswith("250"):
            with self.lock:
                self.refused += 1
            return reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.message_ids.append(message["Message-ID"])
        return "250 OK"

    def counts(self) -> tuple[int, int]:
        """(distinct Message-IDs delivered, duplicates)."""
        with self.lock:
            seen = Counter(self.message_ids)
        return len(seen), sum(n - 1 for n in seen.values())


class FaultyRelay:
    """An aiosmtpd relay on a fixed port that can refuse (4xx/5xx), go away and come back."""

    def __init__(self, port: int):
        self.port = port
        self.handler = FaultyHandler()
        self.controller = None

    def up(self) -> None:
        from aiosmtpd.controller import Controller

        if self.controller is None:
            self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
            self.controller.start()

    def down(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def relay():
    server = FaultyRelay(free_port())
    server.up()
    yield server
    server.down()


@dataclass
class Figures:
    scenario: str
    changes: int
    expected: int
    delivered: int = 0
    duplicates: int = 0
    recover_s: float = 0.0
    note: str = ""

    def record(self) -> None:
        RESULTS.append(self.__dict__.copy())
        print(
            f"FAULTS {self.scenario}: changes={self.changes} expected={self.expected} "
            f"delivered={self.delivered} duplicates={self.duplicates} "
            f"recover_s={self.recover_s:.1f} {self.note}"
        )


def stopwatch() -> float:
    return time.monotonic()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not RESULTS:
        return
    terminalreporter.section("fault scenarios")
    terminalreporter.write_line(
        "| scenario | changes | notifications expected | delivered | duplicates | seconds to recover |"
    )
    terminalreporter.write_line("| --- | --- | --- | --- | --- | --- |")
    for r in RESULTS:
        terminalreporter.write_line(
            f"| {r['scenario']} | {r['changes']} | {r['expected']} | {r['delivered']} "
            f"| {r['duplicates']} | {r['recover_s']:.1f} |"
        )
