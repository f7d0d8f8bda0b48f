"""Standing duties after go-live (Backing Up, Monitoring): their cadence, the subscriber's
attestations, and the missed duty reported once per missed period."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from engagements import events, policy
from engagements.audit import record_event, record_events
from engagements.choices import (
    AttestationResult,
    DutyKind,
)
from engagements.cleaning import CLOCK_SKEW, MAX_SIZE, aware, clean_text, utc
from engagements.errors import DomainError
from engagements.models import (
    Attestation,
    AttestationToken,
    Engagement,
    EngagementTask,
    StandingDuty,
)
from engagements.notifications import MemberRow
from engagements.policy import seed_task
from engagements.rules import DUTY_TASK
from engagements.states import other_tool, template_tool

# cadence, grace (days)
DUTY_DEFAULTS: dict[str, tuple[int, int]] = {DutyKind.BACKUP: (1, 1), DutyKind.MONITORING: (30, 7)}


def create_default_duties(engagement: Engagement) -> None:
    """A backup and a monitoring duty with the default cadences, where the template has the
    task (called when an engagement is created); their clocks start at go-live."""
    keys = set(
        engagement.tasks.live().filter(key__in=DUTY_TASK.values()).values_list("key", flat=True)
    )
    StandingDuty.objects.bulk_create(
        [
            StandingDuty(
                engagement=engagement,
                kind=kind,
                cadence_days=DUTY_DEFAULTS[kind][0],
                grace_days=DUTY_DEFAULTS[kind][1],
                due_at=None,  # the clock starts at go-live (start_duty_clocks)
            )
            for kind, key in DUTY_TASK.items()
            if key in keys
        ],
        ignore_conflicts=True,
    )


def start_duty_clocks(engagement: Engagement, *, now: dt.datetime | None = None) -> int:
    """Go-live (the Production deployment signed off): each duty not yet running is due a
    cadence from now. Called inside the sign-off's transaction."""
    now = now or timezone.now()
    started = 0
    for duty in StandingDuty.objects.select_for_update().filter(
        engagement=engagement, due_at__isnull=True
    ):
        duty.due_at = now + dt.timedelta(days=duty.cadence_days)
        duty.save(update_fields=["due_at"])
        started += 1
    return started


def _locked_duty(duty: StandingDuty | int) -> StandingDuty:
    pk = duty if isinstance(duty, int) else duty.pk
    return (
        StandingDuty.objects.select_for_update(of=("self",)).select_related("engagement").get(pk=pk)
    )


@transaction.atomic
def set_cadence(duty: StandingDuty, *, actor, cadence_days: int, grace_days: int) -> StandingDuty:
    duty = _locked_duty(duty)
    task = seed_task(duty.engagement_id, DUTY_TASK[duty.kind])
    policy.check(actor, "duty.cadence", duty, task=task)
    if not 1 <= int(cadence_days) <= 366 or not 0 <= int(grace_days) <= 60:
        raise DomainError("The cadence is 1 to 366 days and the grace 0 to 60 days.")
    before = (duty.cadence_days, duty.grace_days)
    duty.cadence_days, duty.grace_days = int(cadence_days), int(grace_days)
    if duty.last_attested_at is not None:
        old_due = duty.due_at
        duty.due_at = duty.last_attested_at + dt.timedelta(days=duty.cadence_days)
        if duty.missed_reported_for is not None and duty.missed_reported_for == old_due:
            duty.missed_reported_for = duty.due_at  # the same missed period: told once
    duty.save()
    record_event(
        duty.engagement,
        events.DUTY_CADENCE_SET,
        actor=actor,
        task=task,
        data={
            "duty": duty.pk,
            "summary": f"set {duty.get_kind_display().lower()} to every {duty.cadence_days} "
            f"day(s), {duty.grace_days} day(s) grace (was {before[0]} and {before[1]})",
        },
    )
    return duty


@dataclass(frozen=True)
class AttestationIn:
    performed_at: dt.datetime
    result: str
    tool: str = ""
    reference: str = ""
    size_bytes: int | None = None
    monitored: str = ""
    alerts_to: str = ""
    notes: str = ""


@transaction.atomic
def record_attestation(
    duty: StandingDuty,
    *,
    actor,
    attestation: AttestationIn,
    token: AttestationToken | None = None,
) -> Attestation:
    """The subscriber attests that the duty was done (or that a backup failed).

    Through the portal the person must be Responsible for the duty's task; through a token
    the token vouches for the engagement (the event's actor is the token's creator)."""
    duty = _locked_duty(duty)
    task = seed_task(duty.engagement_id, DUTY_TASK[duty.kind])
    # Through a token, its creator must still be Responsible: a token outlives no one's role.
    policy.check(actor, "attestation.record", duty, task=task)
    a = attestation
    if a.result not in AttestationResult.values:
        raise DomainError("The result is succeeded or failed.")
    now = timezone.now()
    if utc(a.performed_at, "The time it was done") > now + CLOCK_SKEW:
        raise DomainError("The time it was done is in the future.")
    performed_at = aware(a.performed_at, "The time it was done")
    if a.size_bytes is not None and not 0 <= a.size_bytes <= MAX_SIZE:
        raise DomainError("The size is a number of bytes, from 0 to 2^63-1.")
    fields = {
        "tool": clean_text(a.tool, "tool", required=duty.kind == DutyKind.BACKUP)[:120],
        "reference": clean_text(a.reference, "reference", required=False)[:200],
        "monitored": clean_text(
            a.monitored, "what is monitored", required=duty.kind == DutyKind.MONITORING
        )[:300],
        "alerts_to": clean_text(
            a.alerts_to, "where alerts go", required=duty.kind == DutyKind.MONITORING
        )[:200],
        "notes": clean_text(a.notes, "notes", required=a.result == AttestationResult.FAILED),
    }
    # On time: within the cadence (and a little slack) of the last one, or the first one.
    on_time = duty.is_on_time(performed_at)
    record = Attestation.objects.create(
        duty=duty,
        performed_at=performed_at,
        result=a.result,
        size_bytes=a.size_bytes,
        on_time=on_time,
        recorded_by=actor,
        via_token=token,
        **fields,
    )
    succeeded = a.result == AttestationResult.SUCCEEDED
    # Done after a miss was reported: whoever heard of the miss hears that it ended.
    after_miss = bool(duty.missed_reported_for and duty.missed_reported_for == duty.due_at)
    if succeeded and (duty.last_attested_at is None or performed_at > duty.last_attested_at):
        # (a first attestation before go-live starts the clock too)
        duty.last_attested_at = performed_at
        duty.due_at = performed_at + dt.timedelta(days=duty.cadence_days)
        duty.save(update_fields=["last_attested_at", "due_at"])
    if token is not None:
        AttestationToken.objects.filter(pk=token.pk).update(last_used_at=now)
    what = duty.get_kind_display().lower()
    late = "" if on_time else " (late)"
    expected = template_tool(task)
    flagged = duty.kind == DutyKind.BACKUP and other_tool(expected, fields["tool"])
    if flagged:
        late += f" with {fields['tool']}, not the template's {expected}"
    summary = (
        f"attested {what} done at {performed_at:%Y-%m-%d %H:%M} UTC{late}"
        if succeeded
        else f"reported a failed {what} at {performed_at:%Y-%m-%d %H:%M} UTC: {fields['notes']}"
    )
    record_event(
        duty.engagement,
        events.DUTY_ATTESTED if succeeded else events.DUTY_FAILED,
        actor=actor,
        task=task,
        to_state=a.result,
        data={
            "duty": duty.pk,
            "attestation": record.pk,
            "summary": summary,
            "on_time": on_time,
            "after_miss": succeeded and after_miss,
            **({"other_tool": fields["tool"]} if flagged else {}),
            **({"via": "token", "token": token.prefix} if token else {}),
        },
    )
    return record


@transaction.atomic
def report_missed(
    duty_ids: list[int],
    *,
    now: dt.datetime,
    tasks: dict[tuple[int, str], EngagementTask],
    members: dict[int, list[MemberRow]],
) -> int:
    """Past the grace period, tells the vendor once per missed due time (the conditional
    letter fires: a missed cadence is an issue), for a batch of duties in one transaction:
    the duties locked and read again (a second sweep waits, then finds them reported), one
    UPDATE marking them, one INSERT of their events and one of their notifications; the
    duty tasks (letters prefetched) and the engagements' members come from the sweep's own
    reads. Four queries for the batch, whatever the number of misses. Returns the number
    of events written."""
    locked = list(
        StandingDuty.objects.select_for_update(of=("self",)).filter(pk__in=duty_ids).order_by("pk")
    )
    newly = [
        duty
        for duty in locked
        if duty.is_past_grace(now)
        and duty.missed_reported_for != duty.due_at
        and (duty.engagement_id, DUTY_TASK[duty.kind]) in tasks
    ]
    if not newly:
        return 0
    StandingDuty.objects.filter(pk__in=[d.pk for d in newly]).update(
        missed_reported_for=F("due_at")
    )
    items = []
    for duty in newly:
        assert duty.due_at is not None  # past grace implies a due time
        items.append(
            (
                tasks[(duty.engagement_id, DUTY_TASK[duty.kind])],
                {
                    "duty": duty.pk,
                    "summary": f"{duty.get_kind_display()} was due {duty.due_at:%Y-%m-%d %H:%M} "
                    f"UTC and is {(now - duty.due_at).days} day(s) late, past the "
                    f"{duty.grace_days}-day grace",
                },
            )
        )
    record_events(events.DUTY_MISSED, items, members=members)
    return len(newly)
