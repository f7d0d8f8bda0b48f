"""Walking the attachments storage: every stored name (for pruning and backups)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def stored_names(storage: Any, folder: str = "") -> Iterator[str]:
    """Every file name under `folder`, recursively (local folders and S3 prefixes alike)."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:  # nothing stored yet
        return
    prefix = f"{folder}/" if folder else ""
    for name in files:
        yield prefix + name
    for sub in folders:
        yield from stored_names(storage, prefix + sub)
