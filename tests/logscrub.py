"""Log scrubbing over the whole test session: every log record of the run (and the log files
of the processes the integration tests start) is searched for passwords, session ids and
tokens. A secret found fails the run. Wired up in tests/conftest.py."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from engagements.management.commands.load_demo import DEMO_PASSWORD
from tests.factories import PASSWORD

# Passwords the code and the tests type in; dynamic secrets are added with register().
KNOWN_PASSWORDS = {
    DEMO_PASSWORD,
    PASSWORD,
    "a-much-longer-new-passphrase",  # tests/engagements/test_auth.py
    "a-fresh-reset-passphrase-2026",  # tests/test_password_reset.py
    "another-guess-xyz",  # tests/test_sign_in_throttling.py
}
MIN_SECRET_LENGTH = 8  # shorter values would match ordinary words


@dataclass(frozen=True)
class Leak:
    secret_kind: str
    where: str
    excerpt: str  # the line with the secret masked, so the report does not leak it again


class Secrets:
    """What must never be logged, by kind ("password", "session id", "reset token")."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()
        for value in KNOWN_PASSWORDS:
            self.add(value, "password")

    def add(self, value: str | None, kind: str) -> None:
        if value and len(value) >= MIN_SECRET_LENGTH:
            with self._lock:
                self._values.setdefault(value, kind)

    def items(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._values.items())


class LogRecorder(logging.Handler):
    """Keeps every formatted record (message, arguments and traceback) it is handed, as
    (logger name, text)."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a record that cannot be formatted still has its raw parts
            text = f"{record.msg!r} {record.args!r}"
        with self.lock:
            self.lines.append((f"logger {record.name}", text))


def find_leaks(lines: Iterable[tuple[str, str]], secrets: Secrets) -> list[Leak]:
    """(where, text) pairs searched for every secret; one Leak per secret and place."""
    values = secrets.items()
    leaks: dict[tuple[str, str], Leak] = {}
    for where, text in lines:
        for value, kind in values:
            if value in text and (value, where) not in leaks:
                line = next(line for line in text.splitlines() if value in line)
                leaks[(value, where)] = Leak(kind, where, line.replace(value, f"<{kind}>")[:300])
    return list(leaks.values())


def process_logs(root: Path) -> list[tuple[str, str]]:
    """The *.log files the integration tests' processes (workers, gunicorn, beat) wrote."""
    found = []
    if root.is_dir():
        for path in sorted(root.rglob("*.log")):
            if path.is_file():
                found.append((str(path), path.read_text(errors="replace")))
    return found
