"""The restore drill: data made through the services, backed up, restored into a fresh
database, compared table by table and row by row; and the refusals of restore."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from attachments.actions import add_attachment
from attachments.models import Attachment
from engagements.actions.tasks import add_comment, transition_task
from engagements.choices import TaskStatus
from engagements.models import InfrastructureChecklist
from psaas_portal.backup import table_names
from tests.conftest import task_of
from tests.factories import store_attachments_in
from tests.integration.conftest import _database_url_for_tests

pytestmark = pytest.mark.django_db(transaction=True)


def manage(database_url: str, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, **extra_env}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def fresh_database(tmp_path):
    """An empty database beside the test database, removed afterwards."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        yield (
            f"sqlite:///{tmp_path / 'restored.sqlite3'}",
            lambda: sqlite3.connect(tmp_path / "restored.sqlite3"),
        )
        return
    import psycopg2

    name = f"restore_{uuid.uuid4().hex[:10]}"
    params = {
        "host": db["HOST"] or "127.0.0.1",
        "port": db["PORT"] or 5432,
        "user": db["USER"],
        "password": db["PASSWORD"],
    }
    admin = psycopg2.connect(dbname=db["NAME"], **params)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{params['host']}:{params['port']}/{name}"
    opened = []

    def connect():
        conn = psycopg2.connect(dbname=name, **params)
        opened.append(conn)
        return conn

    yield url, connect
    for conn in opened:
        conn.close()
    with admin.cursor() as cur:
        _drop_database(cur, name)
    admin.close()


def _drop_database(cur, name: str) -> None:
    """A plain DROP first: PostgreSQL stops an autovacuum worker busy on the database itself
    (one often is, on a database just restored), where WITH (FORCE) refuses to terminate it
    ("must be a member of the role whose process is being terminated": it is nobody's);
    FORCE only for a session of ours left open."""
    import psycopg2.errors

    deadline = time.monotonic() + 30
    while True:
        try:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
            return
        except psycopg2.errors.ObjectInUse:
            try:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                return
            except psycopg2.errors.InsufficientPrivilege:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)


def rows_of(conn, table: str) -> list[tuple]:
    cur = conn.cursor()
    cur.execute(f'SELECT * FROM "{table}" ORDER BY 1')
    return [tuple(str(v) for v in row) for row in cur.fetchall()]


def files_in(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_restore_drill(tmp_path, fresh_database, engagement_a, engineer_a, cse, settings):
    source_files, restored_files = tmp_path / "files", tmp_path / "restored-files"
    store_attachments_in(settings, source_files)
    monitoring = task_of(engagement_a, "monitoring")
    transition_task(monitoring, to=TaskStatus.IN_PROGRESS, actor=engineer_a)
    add_comment(monitoring, actor=engineer_a, body="Prometheus alerts go to #ops")
    item = InfrastructureChecklist.objects.filter(engagement=engagement_a).first().items.first()
    for owner, name, content in (
        (monitoring, "alerts.pdf", b"%PDF-1.7 alert routing"),
        (item, "cert.pem", b"-----BEGIN CERTIFICATE-----\nMIIB\n"),
    ):
        add_attachment(owner, actor=engineer_a, upload=SimpleUploadedFile(name, content))
    backup_file = tmp_path / "portal.tar"
    made = manage(
        _database_url_for_tests(),
        "backup",
        "--output",
        str(backup_file),
        ATTACHMENT_ROOT=str(source_files),
    )
    assert made.returncode == 0, made.stderr
    assert "Backed up" in made.stdout and "2 attachment files" in made.stdout

    url, connect = fresh_database
    # A storage holding another file under one of the names: refused before the database
    # is touched (the restore then goes ahead into the still empty database).
    clash = restored_files / Attachment.objects.get(name="alerts.pdf").key
    clash.parent.mkdir(parents=True)
    clash.write_bytes(b"%PDF another file")
    refused = manage(url, "restore", str(backup_file), ATTACHMENT_ROOT=str(restored_files))
    assert refused.returncode != 0 and "holds another file" in refused.stderr
    clash.unlink()
    restored = manage(url, "restore", str(backup_file), ATTACHMENT_ROOT=str(restored_files))
    assert restored.returncode == 0, restored.stderr
    assert "row counts verified" in restored.stdout
    assert "2 attachment files restored" in restored.stdout
    # The files came back, byte for byte, under the names the restored rows hold.
    assert files_in(restored_files) == files_in(source_files)
    assert len(files_in(restored_files)) == 2

    other = connect()
    tables = table_names()
    assert len(tables) > 20
    source = _raw_connection_to_the_test_database()
    try:
        for table in tables:
            assert rows_of(other, table) == rows_of(source, table), table
    finally:
        source.close()
        other.close()

    # Refusals: a database that is not empty, unless forced.
    again = manage(url, "restore", str(backup_file), ATTACHMENT_ROOT=str(restored_files))
    assert again.returncode != 0 and "not empty" in again.stderr
    # Forced over a storage whose copy of a file was changed: replaced from the backup.
    changed = restored_files / Attachment.objects.get(name="alerts.pdf").key
    changed.write_bytes(b"%PDF tampered")
    forced = manage(
        url, "restore", str(backup_file), "--force", ATTACHMENT_ROOT=str(restored_files)
    )
    assert forced.returncode == 0, forced.stderr
    assert files_in(restored_files) == files_in(source_files)


def _raw_connection_to_the_test_database():
    """The same kind of plain driver connection as the restored side, so values compare alike."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return sqlite3.connect(db["NAME"])
    import psycopg2

    return psycopg2.connect(
        dbname=db["NAME"],
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"],
    )


def _rewrite(backup_file: Path, target: Path, change) -> None:
    with tarfile.open(backup_file) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        change(manifest)
        dump = tar.getmember(manifest["file"])
        data = tar.extractfile(dump).read()
    with tarfile.open(target, "w") as out:
        for name, content in (
            ("manifest.json", json.dumps(manifest).encode()),
            (manifest["file"], data),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            out.addfile(info, io.BytesIO(content))


def test_restore_refuses_a_newer_schema_and_a_damaged_file(tmp_path, fresh_database, engagement_a):
    backup_file = tmp_path / "portal.tar"
    assert manage(_database_url_for_tests(), "backup", "--output", str(backup_file)).returncode == 0
    url, _ = fresh_database
    newer = tmp_path / "newer.tar"
    _rewrite(
        backup_file,
        newer,
        lambda m: m["migrations"].append(["engagements", "9999_from_the_future"]),
    )
    result = manage(url, "restore", str(newer))
    assert result.returncode != 0 and "newer schema" in result.stderr
    damaged = tmp_path / "damaged.tar"
    _rewrite(backup_file, damaged, lambda m: m.update(sha256="0" * 64))
    result = manage(url, "restore", str(damaged))
    assert result.returncode != 0 and "checksum" in result.stderr
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    result = manage(url, "restore", str(not_a_backup))
    assert result.returncode != 0 and "not a portal backup" in result.stderr
