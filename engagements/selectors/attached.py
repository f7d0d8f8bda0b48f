"""The files attached to the objects a page shows, read inside the page's own query.

The attachments app owns the table and the code that writes it; engagements does not import
it. A page annotates its task, checklist items, issue or handovers with `attached_json(...)`:
one correlated subquery that returns each owner's attachments as a JSON array (who and when
included), so listing them costs no query of its own, whatever the number of rows. The model
is read through the app registry, as engagements.querysets reads guardian's rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import Aggregate, F, JSONField, OuterRef, Subquery
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from engagements import policy


class JSONRows(Aggregate):
    """The grouped rows as one JSON array: jsonb_agg on PostgreSQL, json_group_array on
    SQLite (both keep the objects JSONObject builds)."""

    function = "JSON_GROUP_ARRAY"
    output_field = JSONField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="JSONB_AGG", **extra)


def attached_json(owner_field: str, ref: str = "pk") -> Subquery:
    """An annotation: the attachments whose `owner_field` is the row (`ref`), as JSON."""
    model = apps.get_model("attachments", "Attachment")
    rows = (
        model.objects.filter(**{owner_field: OuterRef(ref)})
        .order_by()
        .values(owner_field)
        .annotate(
            rows=JSONRows(
                JSONObject(
                    id=F("pk"),
                    name=F("name"),
                    size=F("size"),
                    at=F("uploaded_at"),
                    by=F("uploaded_by_id"),
                    first=F("uploaded_by__first_name"),
                    last=F("uploaded_by__last_name"),
                    username=F("uploaded_by__username"),
                )
            )
        )
        .values("rows")
    )
    return Subquery(rows, output_field=JSONField())


@dataclass(frozen=True)
class Attached:
    """One attachment as a page lists it."""

    pk: int
    name: str
    size: int
    uploaded_at: dt.datetime
    uploaded_by_id: int
    uploaded_by: str  # the person's full name
    removable: bool = False


def _when(raw: Any) -> dt.datetime:
    value = parse_datetime(str(raw).replace(" ", "T", 1)) or timezone.now()
    return value if timezone.is_aware(value) else timezone.make_aware(value, dt.UTC)


def attached(raw: Any) -> list[Attached]:
    """The annotation's JSON as rows, oldest first."""
    out = [
        Attached(
            pk=int(r["id"]),
            name=str(r["name"]),
            size=int(r["size"]),
            uploaded_at=_when(r["at"]),
            uploaded_by_id=int(r["by"]),
            uploaded_by=f"{r.get('first') or ''} {r.get('last') or ''}".strip()
            or str(r.get("username") or ""),
        )
        for r in (raw or [])
    ]
    return sorted(out, key=lambda a: (a.uploaded_at, a.pk))


class Removal:
    """Who may remove which attachment on one page: the person who attached it while they may
    still attach there, or the engagement's managers (read once, only when needed)."""

    def __init__(self, user: Any, engagement: Any, *, can_attach: bool) -> None:
        self.user, self.engagement, self.can_attach = user, engagement, can_attach
        self._manager: bool | None = None

    def manager(self) -> bool:
        if self._manager is None:
            self._manager = policy.judge(
                self.user, "attachment.remove_any", self.engagement, seat=None
            ).allowed
        return self._manager

    def mark(self, rows: list[Attached]) -> list[Attached]:
        return [
            Attached(
                a.pk,
                a.name,
                a.size,
                a.uploaded_at,
                a.uploaded_by_id,
                a.uploaded_by,
                removable=(self.can_attach and a.uploaded_by_id == self.user.pk) or self.manager(),
            )
            for a in rows
        ]


def attached_to(queryset: Any, owner_field: str) -> list[Attached]:
    """The attachments of the one row of `queryset` (for a page that did not annotate it)."""
    row = queryset.annotate(attached_rows=attached_json(owner_field)).values_list(
        "attached_rows", flat=True
    )
    return attached(row.first())
