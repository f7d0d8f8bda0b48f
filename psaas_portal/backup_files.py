"""The attachment files of a backup: every file the dump's attachment rows name, copied from
the "attachments" storage (local folder or S3 bucket) into the backup's tar under
`attachments/<key>`, each checked against the SHA-256 its row recorded; and on restore, put
back into the storage of the restoring portal and checked again.

The rows are read in the dump's own snapshot (psaas_portal.backup), so the files are
exactly those the restored database names. A file removed after the snapshot (its row
deleted and the file deleted after that commit) is listed in the manifest as gone: the
restored row then has no file, and the restore says so.
"""

from __future__ import annotations

import hashlib
import tarfile
import tempfile
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages

ALIAS = "attachments"
PREFIX = "attachments/"


class FileBackupError(Exception):
    pass


def attachment_table() -> str | None:
    if ALIAS not in settings.STORAGES or not apps.is_installed("attachments"):
        return None
    return apps.get_model("attachments", "Attachment")._meta.db_table


def rows_in(cursor: Any, quote: Any) -> dict[str, str]:
    """key -> sha256 of every attachment row, read with the dump's cursor (its snapshot)."""
    table = attachment_table()
    if table is None:
        return {}
    cursor.execute(f"SELECT {quote('key')}, sha256 FROM {quote(table)}")
    return dict(cursor.fetchall())


class _Hashing:
    """A file object that hashes what is read through it."""

    def __init__(self, f: Any) -> None:
        self.f, self.digest = f, hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        self.digest.update(data)
        return data


def add_files(tar: tarfile.TarFile, rows: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Copies each named file into the tar; returns (key -> sha256 copied, keys gone)."""
    if not rows:
        return {}, []
    storage = storages[ALIAS]
    model = apps.get_model("attachments", "Attachment")
    copied: dict[str, str] = {}
    gone: list[str] = []
    for key in sorted(rows):
        try:
            size = storage.size(key)
            source = storage.open(key, "rb")
        except (FileNotFoundError, OSError):
            source = None
        if source is None:
            if model.objects.filter(key=key).exists():
                raise FileBackupError(f"the attachment file {key} is missing from the storage")
            gone.append(key)  # removed after the snapshot was taken
            continue
        with source:
            reader = _Hashing(source)
            info = tarfile.TarInfo(PREFIX + key)
            info.size = size
            tar.addfile(info, reader)
        if reader.digest.hexdigest() != rows[key]:
            raise FileBackupError(f"the attachment file {key} does not match its checksum")
        copied[key] = rows[key]
    return copied, gone


def refusal(manifest: dict, *, force: bool) -> str:
    """Why the files cannot be restored here ("" if they can), checked before the database
    is touched: without --force, a file of the same name and other content is not replaced."""
    files: dict[str, str] = manifest.get("attachment_files", {})
    if not files or force:
        return ""
    storage = storages[ALIAS]
    for key, sha in sorted(files.items()):
        if storage.exists(key) and _sha256_of(storage, key) != sha:
            return (
                f"the attachments storage holds another file named {key}; restore into an "
                "empty storage, or pass --force to replace it"
            )
    return ""


def restore_files(tar: tarfile.TarFile, manifest: dict, *, force: bool) -> int:
    """Puts the backup's files into this portal's attachments storage, each checked against
    its checksum; returns how many. An existing file of the same name is replaced only with
    --force (a restore over a portal in use)."""
    files: dict[str, str] = manifest.get("attachment_files", {})
    if not files:
        return 0
    storage = storages[ALIAS]
    for key, sha in sorted(files.items()):
        member = tar.extractfile(PREFIX + key)
        if member is None:
            raise FileBackupError(f"the backup lacks the attachment file {key}")
        with tempfile.SpooledTemporaryFile(max_size=8 << 20) as spool:
            digest = hashlib.sha256()
            for chunk in iter(lambda m=member: m.read(1 << 20), b""):
                digest.update(chunk)
                spool.write(chunk)
            if digest.hexdigest() != sha:
                raise FileBackupError(f"the attachment file {key} in the backup is damaged")
            spool.seek(0)
            if storage.exists(key):
                if _sha256_of(storage, key) == sha:
                    continue  # the same file is already there
                if not force:
                    raise FileBackupError(
                        f"the attachments storage holds another file named {key}; pass --force "
                        "to replace it"
                    )
                storage.delete(key)
            if storage.save(key, File(spool, name=key)) != key:
                raise FileBackupError(f"the storage renamed {key}")
    return len(files)


def _sha256_of(storage: Any, key: str) -> str:
    digest = hashlib.sha256()
    with storage.open(key, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
