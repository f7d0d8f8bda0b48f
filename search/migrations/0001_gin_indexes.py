"""GIN expression indexes for search, on PostgreSQL only (SQLite searches with icontains).

Expression indexes rather than stored search columns: nothing to keep in sync (no trigger,
no save hook, no column in the backups), and the tables stay the same on SQLite. Each
expression is the `Kind.vector()` of search/kinds.py as it was written here, frozen so that
a later change there cannot rewrite this migration: tests/search/test_search_postgres.py
checks with EXPLAIN that every kind's query is served by its index, so a changed vector
without a new index fails there.
"""

from typing import Any

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

CONFIGS = ("english", "simple")


def _vector(*weighted):
    vector: Any = None
    for config in CONFIGS:
        for weight in "ABCD":
            fields = [f for f, w in weighted if w == weight]
            if fields:
                part = SearchVector(*fields, weight=weight, config=config)
                vector = part if vector is None else vector + part
    return vector


INDEXES = [
    ("engagements", "Engagement", "search_engagement_gin", _vector(("name", "A"))),
    (
        "engagements",
        "EngagementTask",
        "search_task_gin",
        _vector(("name", "A"), ("description", "B"), ("notes", "B")),
    ),
    (
        "engagements",
        "Issue",
        "search_issue_gin",
        _vector(("title", "A"), ("ticket_reference", "A"), ("description", "B"), ("resolution", "B")),
    ),
    ("engagements", "Comment", "search_comment_gin", _vector(("body", "B"))),
]


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for app_label, model_name, name, vector in INDEXES:
        schema_editor.add_index(apps.get_model(app_label, model_name), GinIndex(vector, name=name))


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for app_label, model_name, name, vector in INDEXES:
        schema_editor.remove_index(
            apps.get_model(app_label, model_name), GinIndex(vector, name=name)
        )


class Migration(migrations.Migration):
    dependencies = [("engagements", "0014_questions")]

    operations = [migrations.RunPython(add_indexes, remove_indexes)]
