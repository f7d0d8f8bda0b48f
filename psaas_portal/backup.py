"""Consistent backups and verified restores of the portal's database.

A backup is one tar file holding the database (PostgreSQL: `pg_dump` custom format;
SQLite: the online backup API) and `manifest.json`: when, the portal's version, the
engine and server version, the applied migrations, the row count of every table and
the dump's SHA-256. A restore checks the checksum and the schema, refuses a non-empty
database unless forced, restores, and verifies the row counts against the manifest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import tarfile
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from django.apps import apps
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from . import backup_files

MANIFEST = "manifest.json"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why."""


def portal_version() -> str:
    try:
        return version("psaas-portal")
    except PackageNotFoundError:  # running from a checkout without an install
        return "unknown"


def table_names() -> list[str]:
    """Every table the portal's models (and Django's) own, as the database has them."""
    existing = set(connection.introspection.table_names())
    return sorted({m._meta.db_table for m in apps.get_models(include_auto_created=True)} & existing)


def row_counts() -> dict[str, int]:
    quote = connection.ops.quote_name
    counts = {}
    with connection.cursor() as cursor:
        for table in table_names():
            cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def applied_migrations() -> list[list[str]]:
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    return sorted([app, name] for app, name in loader.applied_migrations)


def _pg_env() -> tuple[list[str], dict[str, str]]:
    s = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": s.get("PASSWORD") or ""}
    args = [
        "-h",
        s.get("HOST") or "127.0.0.1",
        "-p",
        str(s.get("PORT") or 5432),
        "-U",
        s.get("USER") or "postgres",
    ]
    return args, env


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _counts_with(cursor, tables: list[str], quote) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")
        counts[table] = cursor.fetchone()[0]
    return counts


def _pg_dump(dump: Path) -> tuple[dict[str, int], list[list[str]], str, dict[str, str]]:
    """pg_dump of one exported snapshot; the row counts and the applied migrations are read
    in that same snapshot, so they describe exactly what the dump holds even while the
    portal keeps writing."""
    args, env = _pg_env()
    tables = table_names()
    quote = connection.ops.quote_name
    snap = connection.get_new_connection(connection.get_connection_params())
    try:
        snap.autocommit = False
        with snap.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counts = _counts_with(cursor, tables, quote)
            cursor.execute("SELECT app, name FROM django_migrations")
            migrations = sorted([app, name] for app, name in cursor.fetchall())
            files = backup_files.rows_in(cursor, quote)  # the attachment files it names
            # The snapshot lives as long as this transaction: pg_dump runs meanwhile.
            result = subprocess.run(
                [
                    "pg_dump",
                    "-Fc",
                    "--no-owner",
                    f"--snapshot={snapshot}",
                    *args,
                    "-d",
                    connection.settings_dict["NAME"],
                    "-f",
                    str(dump),
                ],
                env=env,
                capture_output=True,
                text=True,
            )
        snap.rollback()
        server = snap.server_version
    finally:
        snap.close()
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()[:500]}")
    return counts, migrations, str(server), files


def backup(output: Path) -> dict:
    """Writes the backup tar to `output`; returns its manifest."""
    engine = connection.vendor
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / ("database.dump" if engine == "postgresql" else "database.sqlite3")
        if engine == "postgresql":
            counts, migrations, server, files = _pg_dump(dump)
        elif engine == "sqlite":
            source = sqlite3.connect(connection.settings_dict["NAME"])
            target = sqlite3.connect(dump)
            with target:
                source.backup(target)  # a consistent copy while the portal keeps running
            source.close()
            # Counted in the copy itself, not in the live database that moved on.
            cursor = target.cursor()
            counts = _counts_with(cursor, table_names(), connection.ops.quote_name)
            cursor.execute("SELECT app, name FROM django_migrations")
            migrations = sorted([app, name] for app, name in cursor.fetchall())
            files = backup_files.rows_in(cursor, connection.ops.quote_name)
            target.close()
            server = sqlite3.sqlite_version
        else:
            raise BackupError(f"backups of {engine} databases are not supported")
        manifest = {
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "portal_version": portal_version(),
            "engine": engine,
            "server_version": str(server),
            "migrations": migrations,
            "row_counts": counts,
            "file": dump.name,
            "sha256": _sha256(dump),
        }
        output.parent.mkdir(parents=True, exist_ok=True)
        try:
            with tarfile.open(output, "w") as tar:
                tar.add(dump, arcname=dump.name)
                # The attachment files the dump's rows name (psaas_portal.backup_files).
                copied, gone = backup_files.add_files(tar, files)
                manifest["attachment_files"] = copied
                manifest["attachment_files_gone"] = gone
                data = json.dumps(manifest, indent=2).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        except backup_files.FileBackupError as exc:
            output.unlink(missing_ok=True)
            raise BackupError(str(exc)) from None
    return manifest


def read_manifest(path: Path) -> dict:
    try:
        with tarfile.open(path) as tar:
            return json.load(tar.extractfile(MANIFEST))
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        raise BackupError(f"{path} is not a portal backup ({exc})") from None


def is_empty() -> bool:
    return not any(row_counts().values())


def restore(path: Path, *, force: bool = False) -> dict:
    """Restores a backup into this database and verifies it; returns the manifest."""
    manifest = read_manifest(path)
    if manifest["engine"] != connection.vendor:
        raise BackupError(
            f"the backup is of a {manifest['engine']} database; this one is {connection.vendor}"
        )
    known = {
        (app, name)
        for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    }
    newer = [f"{app}.{name}" for app, name in manifest["migrations"] if (app, name) not in known]
    if newer:
        raise BackupError(
            f"the backup comes from a newer schema than this code ({', '.join(newer[:5])}); upgrade the code first"
        )
    if not is_empty() and not force:
        raise BackupError(
            "the database is not empty; restore into an empty database, or pass --force to replace it"
        )
    files_refused = backup_files.refusal(manifest, force=force)
    if files_refused:
        raise BackupError(files_refused)
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(path) as tar:
            tar.extract(manifest["file"], tmp, filter="data")
        dump = Path(tmp) / manifest["file"]
        if _sha256(dump) != manifest["sha256"]:
            raise BackupError("the backup's checksum does not match: the file is damaged")
        if connection.vendor == "postgresql":
            args, env = _pg_env()
            connection.close()
            result = subprocess.run(
                [
                    "pg_restore",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    *args,
                    "-d",
                    connection.settings_dict["NAME"],
                    str(dump),
                ],
                env=env,
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise BackupError(f"pg_restore failed: {result.stderr.strip()[:500]}")
        else:
            connection.close()
            target = sqlite3.connect(connection.settings_dict["NAME"])
            source = sqlite3.connect(dump)
            with target:
                source.backup(target)
            source.close()
            target.close()
    counts = row_counts()
    wrong = {t: (counts.get(t), n) for t, n in manifest["row_counts"].items() if counts.get(t) != n}
    if wrong:
        raise BackupError(
            f"row counts differ after the restore (table: restored, expected): {wrong}"
        )
    try:
        with tarfile.open(path) as tar:
            manifest["attachment_files_restored"] = backup_files.restore_files(
                tar, manifest, force=force
            )
    except backup_files.FileBackupError as exc:
        raise BackupError(f"the database was restored, but not its files: {exc}") from None
    return manifest
