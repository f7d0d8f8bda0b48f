"""The engagement page's fixed parts in one query: its columns (the version's parties), the
operations summary (the current update cycle with its stages, the next handover, each duty
with its last attestation, the five most severe open issues and the counts in each side's
court) and the VM inventory.

Each part is a subquery on the engagement's row that returns JSON; the rows come back as
model instances (`hydrate`: each field converted as the ORM converts it), so the page and
its templates use them as before. Six queries become one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    JSONField,
    Model,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, JSONObject

from engagements.choices import (
    OPEN_CYCLE_STATES,
    OPEN_ISSUE_STATES,
    HandoverState,
    IssueState,
    Severity,
)
from engagements.models import (
    Attestation,
    Engagement,
    Handover,
    Issue,
    StandingDuty,
    UpdateCycle,
    UpdateStage,
    VirtualMachine,
)
from psaas_portal import prepared
from raci.models import Party, VersionParty

SEVERITY_ORDER = Case(
    *(When(severity=s, then=Value(i)) for i, s in enumerate(Severity.values)),
    output_field=IntegerField(),
)


def _fields(model: type[Model], prefix: str = "", **extra: Any) -> JSONObject:
    """A JSON object of the model's fields (reached through `prefix`, a relation's path)."""
    fields = {f.attname: F(prefix + f.attname) for f in model._meta.concrete_fields}
    return JSONObject(**fields, **extra)


def hydrate(model: type[Model], data: dict[str, Any], db: str = "default") -> Any:
    """The model instance a JSON object of its fields describes, as the ORM would load it."""
    fields = model._meta.concrete_fields
    return model.from_db(
        db, [f.attname for f in fields], [f.to_python(data[f.attname]) for f in fields]
    )


def _json(query: Any) -> Subquery:
    return Subquery(query, output_field=JSONField())


def _count(query: Any) -> Coalesce:
    counted = query.order_by().values("engagement").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def page_parts(engagement: Engagement, *, now: dt.datetime) -> dict[str, Any]:
    """columns, ops (the Operations section: the current cycle, the next handover or window, each duty's last attestation, the open issues) and inventory: one query on PostgreSQL
    (elsewhere, e.g. SQLite under `make run`, the same parts read one by one)."""
    if connection.vendor != "postgresql":
        from engagements.selectors.checklists import inventory_of

        return {
            "columns": list(
                VersionParty.objects.filter(
                    version_id=engagement.template_version_id
                ).select_related("party")
            ),
            "ops": _operations_portably(engagement, now),
            "inventory": inventory_of(engagement.pk),
        }
    # The SQL depends on nothing but the engagement's id: built once per process.
    rows = prepared.rows(("page parts",), _parts_query, pk=engagement.pk)
    return _parts(rows[0], now)


def _parts_query(pk: int) -> Any:
    mine = {"engagement": OuterRef("pk")}
    stages = (
        UpdateStage.objects.filter(cycle=OuterRef("pk"))
        .order_by("environment")
        .values(j=_fields(UpdateStage))
    )
    cycle = (
        UpdateCycle.objects.filter(**mine)
        .order_by(
            Case(When(state__in=OPEN_CYCLE_STATES, then=Value(0)), default=Value(1)),
            "-created_at",
        )
        .values(j=_fields(UpdateCycle, stages=ArraySubquery(stages)))[:1]
    )
    handover = (
        Handover.objects.filter(**mine)
        .exclude(state=HandoverState.CANCELLED)
        .order_by(Case(When(state=HandoverState.SCHEDULED, then=Value(0)), default=Value(1)))
        .values(j=_fields(Handover))[:1]
    )
    open_issues = Issue.objects.filter(**mine, state__in=OPEN_ISSUE_STATES)
    issues = open_issues.order_by(SEVERITY_ORDER, "-created_at").values(j=_fields(Issue))[:5]
    last = Attestation.objects.filter(duty=OuterRef("pk")).order_by("-performed_at", "-id")
    duties = (
        StandingDuty.objects.filter(**mine)
        .order_by("kind")
        .values(
            j=_fields(
                StandingDuty,
                last_result=Subquery(last.values("result")[:1]),
                last_performed_at=Subquery(last.values("performed_at")[:1]),
                last_on_time=Subquery(last.values("on_time")[:1]),
            )
        )
    )
    columns = (
        VersionParty.objects.filter(version=OuterRef("template_version_id"))
        .order_by("position")
        .values(j=_fields(VersionParty, party=_fields(Party, prefix="party__")))
    )
    vms = (
        VirtualMachine.objects.filter(**mine)
        .order_by("environment", "name")
        .values(j=_fields(VirtualMachine))
    )
    return (
        Engagement.objects.filter(pk=pk)
        .annotate(
            p_columns=ArraySubquery(columns),
            p_cycle=_json(cycle),
            p_handover=_json(handover),
            p_issues=ArraySubquery(issues),
            p_vendor=_count(open_issues.filter(~Q(state=IssueState.WAITING))),
            p_subscriber=_count(open_issues.filter(state=IssueState.WAITING)),
            p_duties=ArraySubquery(duties),
            p_vms=ArraySubquery(vms),
        )
        .values(
            "p_columns",
            "p_cycle",
            "p_handover",
            "p_issues",
            "p_vendor",
            "p_subscriber",
            "p_duties",
            "p_vms",
        )
    )


def _parts(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    columns = []
    for data in row["p_columns"]:
        column = hydrate(VersionParty, data)
        column.party = hydrate(Party, data["party"])
        columns.append(column)
    cycle = None
    if row["p_cycle"] is not None:
        cycle = hydrate(UpdateCycle, row["p_cycle"])
        stages = [hydrate(UpdateStage, s) for s in row["p_cycle"]["stages"] or ()]
        for stage in stages:
            stage.cycle = cycle
        cached = cycle.stages.all()
        cached._result_cache, cached._prefetch_done = stages, True
        cycle._prefetched_objects_cache = {"stages": cached}
    handover = hydrate(Handover, row["p_handover"]) if row["p_handover"] else None
    attestation = {f.attname: f for f in Attestation._meta.concrete_fields}
    duties = []
    for data in row["p_duties"]:
        duty = hydrate(StandingDuty, data)
        duty.last_result = data["last_result"]
        duty.last_performed_at = attestation["performed_at"].to_python(data["last_performed_at"])
        duty.last_on_time = data["last_on_time"]
        duty.state = duty.state_at(now)
        duties.append(duty)
    courts = {"vendor": row["p_vendor"], "subscriber": row["p_subscriber"]}
    next_window = None
    if cycle is not None and cycle.is_open:
        upcoming = [s for s in cycle.stages.all() if s.started_at is None and s.window_end > now]
        next_window = upcoming[0] if upcoming else None
    ops = {
        "cycle": cycle,
        "next_window": next_window,
        "handover": handover,
        "duties": duties,
        "open_issues": [hydrate(Issue, data) for data in row["p_issues"]],
        "open_issue_count": courts["vendor"] + courts["subscriber"],
        "courts": courts,
        "now": now,
    }
    return {
        "columns": columns,
        "ops": ops,
        "inventory": [hydrate(VirtualMachine, data) for data in row["p_vms"]],
    }


def _operations_portably(engagement: Engagement, now: dt.datetime) -> dict[str, Any]:
    """The ops part read one by one, for databases without PostgreSQL's aggregates."""
    cycle = (
        engagement.update_cycles.order_by(
            Case(When(state__in=OPEN_CYCLE_STATES, then=Value(0)), default=Value(1)),
            "-created_at",
        )
        .prefetch_related("stages")
        .first()
    )
    handover = (
        engagement.handovers.exclude(state=HandoverState.CANCELLED)
        .order_by(Case(When(state=HandoverState.SCHEDULED, then=Value(0)), default=Value(1)))
        .first()
    )
    open_issues = list(
        engagement.issues.filter(state__in=OPEN_ISSUE_STATES).order_by(
            SEVERITY_ORDER, "-created_at"
        )
    )
    waiting = sum(1 for issue in open_issues if issue.state == IssueState.WAITING)
    courts = {"vendor": len(open_issues) - waiting, "subscriber": waiting}
    next_window = None
    if cycle is not None and cycle.is_open:
        upcoming = [s for s in cycle.stages.all() if s.started_at is None and s.window_end > now]
        next_window = upcoming[0] if upcoming else None
    return {
        "cycle": cycle,
        "next_window": next_window,
        "handover": handover,
        "duties": duties_of(engagement, now),
        "open_issues": open_issues[:5],
        "open_issue_count": courts["vendor"] + courts["subscriber"],
        "courts": courts,
        "now": now,
    }


def duties_of(engagement: Engagement, now: dt.datetime) -> list[StandingDuty]:
    """Each duty with its last attestation's result, time and timeliness (1 query)."""
    last = Attestation.objects.filter(duty=OuterRef("pk")).order_by("-performed_at", "-id")
    duties = list(
        engagement.duties.annotate(
            last_result=Subquery(last.values("result")[:1]),
            last_performed_at=Subquery(last.values("performed_at")[:1]),
            last_on_time=Subquery(last.values("on_time")[:1]),
        ).order_by("kind")
    )
    for duty in duties:
        duty.state = duty.state_at(now)
    return duties
