"""The GIN expression index for attachment names (the attachment kind of search/kinds.py),
on PostgreSQL only, frozen as 0001 freezes the others."""

from typing import Any

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

CONFIGS = ("english", "simple")


def _vector() -> Any:
    vector: Any = None
    for config in CONFIGS:
        part = SearchVector("name", weight="A", config=config)
        vector = part if vector is None else vector + part
    return vector


NAME = "search_attachment_gin"


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(
            apps.get_model("attachments", "Attachment"), GinIndex(_vector(), name=NAME)
        )


def remove_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(
            apps.get_model("attachments", "Attachment"), GinIndex(_vector(), name=NAME)
        )


class Migration(migrations.Migration):
    dependencies = [("search", "0001_gin_indexes"), ("attachments", "0001_initial")]

    operations = [migrations.RunPython(add_index, remove_index)]
