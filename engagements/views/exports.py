from __future__ import annotations

import json

from django.http import (
    StreamingHttpResponse,
)
from django.views.decorators.http import require_GET

from engagements import events
from engagements.choices import TaskStatus
from engagements.lookups import (
    get_engagement_for_view,
)
from engagements.models import Event
from engagements.selectors.engagements import engagement_matrix
from psaas_portal import csvsafe


def _csv_response(filename: str, rows) -> StreamingHttpResponse:
    """Streams CSV rows, so a long audit trail never sits in memory."""

    class Echo:
        def write(self, value):
            return value

    writer = csvsafe.writer(Echo())  # cells that would run as formulas are quoted
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _status_words(value: str) -> str:
    """A status as the pages say it ("Not started"), not its stored code."""
    return str(TaskStatus(value).label) if value in TaskStatus.values else value


@require_GET
def export_matrix(request, engagement_id: int):
    engagement = get_engagement_for_view(request.user, engagement_id)
    matrix = engagement_matrix(engagement)
    environments = ["all", "development", "production"]

    def rows():
        yield [
            "task",
            *matrix.party_names,
            "notes",
            *(f"status {e}" for e in environments),
            *(f"due {e}" for e in environments),
        ]
        for row in matrix.rows:
            status = row.extra["status"]
            yield [
                row.display_name,
                *(row.cells[p].text() if p in row.cells else "" for p in matrix.party_names),
                row.notes,
                *(_status_words(status.get(e, {}).get("status", "")) for e in environments),
                *(status.get(e, {}).get("due_date") or "" for e in environments),
            ]

    return _csv_response(f"engagement-{engagement.pk}-matrix.csv", rows())


@require_GET
def export_events(request, engagement_id: int):
    engagement = get_engagement_for_view(request.user, engagement_id)
    trail = (
        Event.objects.filter(engagement=engagement)
        .select_related("actor", "task")
        .order_by("created_at", "id")
    )

    def rows():
        yield [
            "time (UTC)",
            "actor",
            "event",
            "task",
            "environment",
            "from",
            "to",
            "what happened",
            "data",
        ]
        for event in trail.iterator(chunk_size=2000):
            task = event.task
            yield [
                event.created_at.isoformat(),
                events.person(event.actor) or "The portal",
                events.title(event, task),
                task.name if task else "",
                task.get_environment_display() if task else "",
                events.state_label(event, event.from_state),
                events.state_label(event, event.to_state),
                events.sentence(event, task),
                json.dumps(event.data, sort_keys=True),
            ]

    return _csv_response(f"engagement-{engagement.pk}-audit-trail.csv", rows())
