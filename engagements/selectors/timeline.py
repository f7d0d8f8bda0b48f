"""The timeline picture of an engagement and the portfolio's compact bar of the same data.

Onboarding tasks by due date, per environment, with their status, whether they are overdue
or slipped, what they wait on (the version's prerequisites) and the operations windows
(update windows, the handover). "Slipped" is defined here once (`is_slipped`) and used by
the page, its table and the portfolio.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import DateTimeField, OuterRef, Subquery
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from engagements import events
from engagements.choices import OPEN_STATUSES, Environment, TaskStatus
from engagements.models import Engagement, EngagementTask, Event, Handover, UpdateStage
from engagements.querysets import is_overdue
from engagements.selectors.prerequisites import by_template_task, rules_of_version
from psaas_portal import prepared
from psaas_portal import timeline_geometry as geo
from raci.choices import Phase
from raci.order import applies_to, required_environments

# Each status: its colour, and a one-character symbol so colour is never the only sign.
STATUS_LOOK = {
    TaskStatus.NOT_STARTED: ("#ffffff", "○"),
    TaskStatus.IN_PROGRESS: ("#2f6fb5", "▶"),
    TaskStatus.BLOCKED: ("#b3261e", "■"),
    TaskStatus.DONE: ("#5e9c3a", "✓"),
    TaskStatus.SIGNED_OFF: ("#1f6b3a", "✔"),
    TaskStatus.NOT_APPLICABLE: ("#9aa3ad", "⊘"),
    TaskStatus.REOPENED: ("#c77700", "↺"),
}
LANE_TITLES = {"": "Whole engagement", **dict(Environment.choices)}
LANE_ORDER = ["", Environment.DEVELOPMENT, Environment.PRODUCTION]


def planned_due(kickoff: dt.date, offset_days: int | None) -> dt.date | None:
    """The due date the template planned: the kickoff plus the template task's offset."""
    return kickoff + dt.timedelta(days=offset_days) if offset_days is not None else None


def is_slipped(
    due: dt.date | None, planned: dt.date | None, done_on: dt.date | None, status: str
) -> bool:
    """Slipped: its due date was moved later than the template's plan (kickoff + offset),
    or it was done after its due date. A task marked not applicable never slips."""
    if status == TaskStatus.NOT_APPLICABLE or due is None:
        return False
    return bool((planned and due > planned) or (done_on and done_on > due))


def _first_done() -> Subquery:
    """When the task first moved to done (the status-change event's time), as a subquery, so
    the tasks' own query carries it."""
    return Subquery(
        Event.objects.filter(
            task=OuterRef("pk"),
            verb=events.TASK_STATUS_CHANGED.verb,
            to_state=TaskStatus.DONE,
        )
        .order_by("created_at")
        .values("created_at")[:1],
        output_field=DateTimeField(),
    )


def _onboarding_tasks():
    return (
        EngagementTask.objects.live()
        .filter(phase=Phase.ONBOARDING)
        .annotate(first_done_at=_first_done())
    )


def _local_date(when: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(when) if when is not None else None


@dataclass
class Row:
    """One task on the picture and in its table."""

    task: EngagementTask
    due: dt.date | None
    planned: dt.date | None
    done_on: dt.date | None
    overdue: bool
    slipped: bool
    fill: str = ""
    symbol: str = ""
    x: float = 0.0
    y: int = 0
    planned_x: float | None = None

    @property
    def status_label(self) -> str:
        return str(TaskStatus(self.task.status).label)

    @property
    def text_before(self) -> bool:
        """Near the right edge the status words go before the marker, not off the picture."""
        return self.x > geo.WIDTH - geo.STATUS_TEXT_ROOM

    @property
    def text_x(self) -> float:
        return round(self.x - 14, 1) if self.text_before else round(self.x + 14, 1)

    @property
    def slip_width(self) -> float:
        return round(self.x - self.planned_x, 1) if self.planned_x is not None else 0.0

    @property
    def marks(self) -> str:
        """The words for what the picture marks (the table's column)."""
        words = [w for w, on in (("overdue", self.overdue), ("slipped", self.slipped)) if on]
        return ", ".join(words)


def _row(task: EngagementTask, kickoff: dt.date, today: dt.date) -> Row:
    offset = task.template_task.due_offset_days if task.template_task else None
    planned = planned_due(kickoff, offset)
    done_on = _local_date(getattr(task, "first_done_at", None))
    fill, symbol = STATUS_LOOK[TaskStatus(task.status)]
    return Row(
        task=task,
        due=task.due_date,
        planned=planned,
        done_on=done_on,
        overdue=task.status in OPEN_STATUSES and is_overdue(task.due_date, today),
        slipped=is_slipped(task.due_date, planned, done_on, task.status),
        fill=fill,
        symbol=symbol,
    )


def _edges(tasks: list[EngagementTask], version_id: int) -> list[tuple[int, int]]:
    """(required task id, waiting task id) for every prerequisite of the version, met or not
    (the picture shows the order, not only what still waits): one query."""
    rules = rules_of_version(version_id)
    live = by_template_task(tasks)
    out = []
    for task in tasks:
        for p in rules.get(task.template_task_id or 0, []):
            if not applies_to(p.for_environment, task.environment):
                continue
            envs = required_environments(p.environment, task.environment, p.required.tracking)
            for required in live.get(p.required_id, []):
                if required.pk != task.pk and (envs is None or required.environment in envs):
                    out.append((required.pk, task.pk))
    return out


def _operations(engagement: Engagement) -> list[dict[str, Any]]:
    """Update windows (each environment's) and handovers, as markers: two queries."""
    out: list[dict[str, Any]] = []
    stages = UpdateStage.objects.filter(cycle__engagement=engagement).select_related("cycle")
    for s in stages.order_by("window_start"):
        out.append(
            {
                "kind": "window",
                "label": f"Update window: {s.cycle.release} on {s.get_environment_display()}",
                "start": timezone.localdate(s.window_start),
                "end": timezone.localdate(s.window_end),
                "state": s.cycle.get_state_display(),
            }
        )
    for h in Handover.objects.filter(engagement=engagement).order_by("starts_at"):
        day = timezone.localdate(h.starts_at)
        out.append(
            {
                "kind": "handover",
                "label": "Operations Handover",
                "start": day,
                "end": day,
                "state": h.get_state_display(),
            }
        )
    return out


def engagement_timeline(engagement: Engagement, *, today: dt.date | None = None) -> dict:
    """Everything the timeline page draws and lists. Queries: the tasks with their first
    done time (1), the version's prerequisites (1), update windows (1), handovers (1)."""
    today = today or timezone.localdate()
    tasks = list(
        _onboarding_tasks()
        .filter(engagement=engagement)
        .select_related("template_task")
        .order_by("position", "environment")
    )
    rows = [_row(t, engagement.kickoff_date, today) for t in tasks]
    ops = _operations(engagement)
    dates = [d for r in rows for d in (r.due, r.planned, r.done_on)]
    dates += [m["start"] for m in ops] + [m["end"] for m in ops] + [engagement.kickoff_date]
    start, end = geo.span(dates, today)
    scale = geo.Scale(start, end, geo.LABEL_WIDTH, geo.WIDTH - geo.PAD_RIGHT)

    by_lane: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_lane[r.task.environment].append(r)
    sizes = [(k, LANE_TITLES[k], len(by_lane[k])) for k in LANE_ORDER if by_lane[k]]
    if ops:
        sizes.append(("ops", "Operations", len(ops)))
    lanes, centres, height = geo.lanes(sizes)
    for key, _, _ in sizes:
        for i, r in enumerate(by_lane.get(key, [])):
            r.y = centres[(key, i)]
            r.x = scale.x(r.due) if r.due else scale.x0
            if r.slipped and r.due and r.planned and r.planned < r.due:
                r.planned_x = scale.x(r.planned)
    for i, m in enumerate(ops):
        m["y"] = centres[("ops", i)]
        m["x"] = scale.x(m["start"])
        m["width"] = max(scale.x(m["end"]) - m["x"], 6)

    placed = {r.task.pk: r for r in rows}
    arrows = []
    for required, waiting in _edges(tasks, engagement.template_version_id):
        a, b = placed[required], placed[waiting]
        if a.due and b.due:
            arrows.append(
                {
                    "path": geo.arrow((a.x, a.y), (b.x, b.y)),
                    "text": f"{b.task.label} waits on {a.task.label}",
                }
            )
    return {
        "rows": rows,
        "lanes": lanes,
        "operations": ops,
        "arrows": arrows,
        "ticks": geo.ticks(scale),
        "today": today,
        "today_x": scale.x(today),
        "height": height + geo.TODAY_LABEL_HEIGHT,
        "width": geo.WIDTH,
        "label_width": geo.LABEL_WIDTH,
        "legend": [(TaskStatus(s).label, fill, sym) for s, (fill, sym) in STATUS_LOOK.items()],
        "counts": {
            "overdue": sum(r.overdue for r in rows),
            "slipped": sum(r.slipped for r in rows),
            "undated": sum(r.due is None for r in rows),
        },
    }


def portfolio_bars(
    engagements: list[Engagement], *, today: dt.date | None = None
) -> dict[int, dict]:
    """The portfolio's compact bar per engagement of a page: one query over the page's
    onboarding tasks (with their first done time), whatever the page's size."""
    today = today or timezone.localdate()
    kickoff = {e.pk: e.kickoff_date for e in engagements}
    rows = prepared.rows(  # compiled once per page size
        ("portfolio bars", len(kickoff)), _bars_query, **prepared.numbered("e", kickoff)
    )
    per: dict[int, list[tuple[dt.date | None, str]]] = defaultdict(list)
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"overdue": 0, "slipped": 0})
    for engagement_id, status, due, offset, first_done in rows:
        planned = planned_due(kickoff[engagement_id], offset)
        overdue = status in OPEN_STATUSES and is_overdue(due, today)
        slipped = is_slipped(due, planned, _local_date(first_done), status)
        mark = "overdue" if overdue else ("slipped" if slipped else status)
        per[engagement_id].append((due, mark))
        counts[engagement_id]["overdue"] += overdue
        counts[engagement_id]["slipped"] += slipped
    out = {}
    for engagement_id, dates in per.items():
        marks, today_x = geo.compact_bar(dates, today)
        out[engagement_id] = {
            "marks": [
                {"x": m.x, "width": m.width, "key": m.key, "fill": _mark_fill(m.key)} for m in marks
            ],
            "today_x": today_x,
            **counts[engagement_id],
        }
    return out


def _bars_query(**engagement_ids: int) -> Any:
    return (
        _onboarding_tasks()
        .filter(engagement_id__in=prepared.in_order("e", engagement_ids))
        .values_list(
            "engagement_id", "status", "due_date", "template_task__due_offset_days", "first_done_at"
        )
        .order_by()
    )


def _mark_fill(key: str) -> str:
    if key == "overdue":
        return "#b3261e"
    if key == "slipped":
        return "#c77700"
    fill = STATUS_LOOK[TaskStatus(key)][0]
    return "#6b7682" if fill == "#ffffff" else fill


def portfolio_bar_html(engagement: Engagement, bar: dict, url: str) -> SafeString:
    """The compact timeline of one engagement as the portfolio shows it: a mark per
    onboarding task at its due date; overdue and slipped marks are full height, the others
    half; the counts say it in words. Built here rather than by a template include per row
    (25 includes with a loop each were most of the portfolio's rendering); numbers are
    written as `{% localize off %}` writes them."""

    def num(value: Any) -> str:
        return str(formats.localize(value, use_l10n=False))

    rects = [
        f'<rect x="{num(m["x"])}" y="0" width="{num(m["width"])}" height="14" fill="{m["fill"]}"/>'
        if m["key"] in ("overdue", "slipped")
        else f'<rect x="{num(m["x"])}" y="4" width="{num(m["width"])}" height="6" fill="{m["fill"]}"/>'
        for m in bar["marks"]
    ]
    if bar["today_x"] is not None:
        rects.append(
            f'<rect x="{num(bar["today_x"])}" y="0" width="0.6" height="14" fill="#1b2430"/>'
        )
    words = "Timeline"
    if bar["overdue"]:
        words += f" · {num(bar['overdue'])} overdue"
    if bar["slipped"]:
        words += f" · {num(bar['slipped'])} slipped"
    return format_html(
        '<a href="{}" class="small" data-testid="portfolio-bar-{}"><svg class="portfolio-bar" '
        'viewBox="0 0 100 14" preserveAspectRatio="none" role="img" aria-label="Timeline of '
        '{}: {} dated tasks, {} overdue, {} slipped"><rect x="0" y="6" width="100" height="2" '
        'fill="#d5dbe1"/>{}</svg>{}</a>',
        url,
        num(engagement.pk),
        engagement.name,
        num(len(bar["marks"])),
        num(bar["overdue"]),
        num(bar["slipped"]),
        mark_safe("".join(rects)),  # numbers and fixed colours only
        words,
    )
