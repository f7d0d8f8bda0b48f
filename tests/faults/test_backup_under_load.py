"""Issue 17, item 3: a backup taken while the portal keeps writing (about 10 changes a second)
restores with the portal's own command, its row-count check passing, every time; the restored
tables equal the manifest's counts and hold no row newer than the dump."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from engagements.actions.tasks import transition_task
from engagements.choices import TaskStatus
from psaas_portal.backup import read_manifest, table_names
from tests.conftest import task_of
from tests.faults.conftest import Figures, stopwatch
from tests.integration.conftest import _database_url_for_tests
from tests.integration.test_backup_restore import manage

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


class Writer(threading.Thread):
    """Status changes through the services, ~10 a second, until stopped."""

    def __init__(self, engagement, actor):
        super().__init__(daemon=True)
        self.engagement, self.actor = engagement, actor
        self.stop = threading.Event()
        self.changes = 0
        self.errors: list[str] = []

    def run(self) -> None:
        from django.db import connections

        task = task_of(self.engagement, "monitoring")
        try:
            while not self.stop.is_set():
                task.refresh_from_db()
                to = (
                    TaskStatus.NOT_STARTED
                    if task.status == TaskStatus.IN_PROGRESS
                    else TaskStatus.IN_PROGRESS
                )
                transition_task(task, to=to, actor=self.actor)
                self.changes += 1
                time.sleep(0.1)
        except Exception as exc:  # reported by the test
            self.errors.append(repr(exc))
        finally:
            connections.close_all()


def test_backups_under_write_load_restore_and_verify(
    tmp_path,
    fresh_database,
    engagement_a,
    engineer_a,
):
    if connection.vendor != "postgresql":
        pytest.skip("the snapshot is PostgreSQL's; SQLite's backup API is one copy already")
    writer = Writer(engagement_a, engineer_a)
    writer.start()
    started = stopwatch()
    try:
        time.sleep(1)
        backups = []
        for i in range(3):
            path = tmp_path / f"portal-{i}.tar"
            made = manage(_database_url_for_tests(), "backup", "--output", str(path))
            assert made.returncode == 0, made.stderr
            backups.append(path)
    finally:
        writer.stop.set()
        writer.join(timeout=10)
    assert not writer.errors, writer.errors
    assert writer.changes >= 10
    url, connect = fresh_database
    restored = 0
    for path in backups:
        result = manage(url, "restore", str(path), "--force")
        assert result.returncode == 0, result.stderr  # before the fix: counts differ
        assert "row counts verified" in result.stdout
        manifest = read_manifest(path)
        other = connect()
        cur = other.cursor()
        for table in table_names():
            cur.execute(f'SELECT COUNT(*) FROM "{table}"')
            assert cur.fetchone()[0] == manifest["row_counts"][table], table
        other.close()
        restored += 1
    figures = Figures(
        "3 backups under ~10 changes/s, each restored and compared",
        changes=writer.changes,
        expected=3,
        delivered=restored,
        recover_s=stopwatch() - started,
        note="(backups restored and verified)",
    )
    figures.record()
