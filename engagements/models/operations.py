from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from engagements.choices import (
    OPEN_CYCLE_STATES,
    OPEN_ISSUE_STATES,
    AttestationResult,
    CycleState,
    DutyKind,
    Environment,
    HandoverState,
    IssueScope,
    IssueState,
    Severity,
    TestResult,
)
from raci.models import Party

from ..querysets import DUTY_SLACK, StandingDutyQuerySet
from .core import Engagement, EngagementTask


class UpdateCycle(models.Model):
    """One appliance release applied to Development, tested, then applied to Production."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="update_cycles"
    )
    release = models.CharField(max_length=40, help_text="The appliance version, e.g. 2026.11.1")
    release_notes_url = models.URLField(max_length=300, blank=True)
    state = models.CharField(max_length=16, choices=CycleState.choices, default=CycleState.PROPOSED)
    # Which side proposed the current windows: the other side accepts them.
    windows_proposed_by = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    override_reason = models.TextField(blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    override_at = models.DateTimeField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["engagement", "-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=CycleState.values), name="cycle_state_valid"
            ),
            models.UniqueConstraint(fields=["engagement", "release"], name="cycle_release_unique"),
            # One cycle in flight per engagement.
            models.UniqueConstraint(
                fields=["engagement"],
                condition=Q(state__in=OPEN_CYCLE_STATES),
                name="cycle_one_open",
            ),
            models.CheckConstraint(
                condition=Q(override_at__isnull=True) | ~Q(override_reason=""),
                name="cycle_override_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Update to {self.release}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_CYCLE_STATES

    @property
    def gate_overridable(self) -> bool:
        """The Development gate has not been overridden for this run yet."""
        return self.override_at is None

    @property
    def has_development(self) -> bool:
        """Its engagement runs a Development environment (load the engagement with it)."""
        return self.engagement.has_development

    @property
    def production_startable(self) -> bool:
        """Not an agreed cycle that must update Development first (the gate after
        Development is the service's, with its own reason)."""
        return not (self.state == CycleState.AGREED and self.engagement.has_development)


class UpdateStage(models.Model):
    """One environment's part of a cycle: its window, the subscriber's preparation (the
    evidence the update needs), the vendor's run, and for Development the test result."""

    cycle = models.ForeignKey(UpdateCycle, on_delete=models.CASCADE, related_name="stages")
    environment = models.CharField(max_length=12, choices=Environment.choices)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    access_provided = models.BooleanField(default=False)
    present = models.CharField(
        max_length=300, blank=True, help_text="Who from the subscriber will be present."
    )
    prepared_at = models.DateTimeField(null=True, blank=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    scripts = models.TextField(blank=True, help_text="Manual scripts run, or 'none required'.")
    finished_at = models.DateTimeField(null=True, blank=True)
    test_result = models.CharField(max_length=8, choices=TestResult.choices, blank=True)
    test_notes = models.TextField(blank=True)
    tested_at = models.DateTimeField(null=True, blank=True)
    tested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The Accountable party let this environment's update start outside its window.
    window_override_reason = models.TextField(blank=True)
    window_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    window_override_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["cycle", "environment"]  # "development" sorts before "production"
        constraints = [
            models.UniqueConstraint(fields=["cycle", "environment"], name="stage_per_environment"),
            models.CheckConstraint(
                condition=Q(window_end__gt=F("window_start")), name="stage_window_ordered"
            ),
            models.CheckConstraint(
                condition=Q(environment__in=Environment.values), name="stage_environment_valid"
            ),
            models.CheckConstraint(
                condition=Q(test_result="") | Q(test_result__in=TestResult.values),
                name="stage_test_result_valid",
            ),
            models.CheckConstraint(
                condition=Q(window_override_at__isnull=True) | ~Q(window_override_reason=""),
                name="stage_window_override_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cycle}, {self.get_environment_display()}"

    @property
    def is_prepared(self) -> bool:
        return self.prepared_at is not None


class Snapshot(models.Model):
    """Evidence that a VM snapshot was taken before an update."""

    stage = models.ForeignKey(UpdateStage, on_delete=models.CASCADE, related_name="snapshots")
    vm = models.CharField(max_length=120)
    identifier = models.CharField(max_length=200)
    taken_at = models.DateTimeField()

    class Meta:
        ordering = ["stage", "vm"]
        constraints = [
            models.UniqueConstraint(fields=["stage", "vm"], name="snapshot_per_vm"),
        ]

    def __str__(self) -> str:
        return f"{self.vm}: {self.identifier}"


class Handover(models.Model):
    """The Operations Handover meeting: scheduled by the CSE, sent as an iCalendar invitation
    (one UID; SEQUENCE goes up with every reschedule or cancellation), then recorded as held."""

    DEFAULT_AGENDA = (
        "1. Monitoring the PSaaS Appliance: what to watch, where alerts go\n"
        "2. Backing up with the Command-Line Tools: schedule, retention, restore test\n"
        "3. Updates: how cycles are agreed, snapshots before each update, testing Development\n"
        "4. Questions"
    )

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="handovers")
    uid = models.UUIDField(unique=True, editable=False)
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(default=90)
    location = models.CharField(max_length=300, blank=True, help_text="Room or meeting link.")
    agenda = models.TextField()
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+")
    state = models.CharField(
        max_length=10, choices=HandoverState.choices, default=HandoverState.SCHEDULED
    )
    sequence = models.PositiveIntegerField(default=0)
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    notes = models.TextField(blank=True)
    questions_answered = models.TextField(blank=True)
    held_at = models.DateTimeField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["engagement", "-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=HandoverState.values), name="handover_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=15) & Q(duration_minutes__lte=480),
                name="handover_duration_range",
            ),
            models.UniqueConstraint(
                fields=["engagement"],
                condition=Q(state=HandoverState.SCHEDULED),
                name="handover_one_scheduled",
            ),
        ]

    def __str__(self) -> str:
        return f"Operations Handover, {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def ends_at(self):
        return self.starts_at + dt.timedelta(minutes=self.duration_minutes)


class StandingDuty(models.Model):
    """A duty the subscriber attests to on a cadence (backups daily, monitoring monthly)."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="duties")
    kind = models.CharField(max_length=12, choices=DutyKind.choices)
    cadence_days = models.PositiveSmallIntegerField()
    grace_days = models.PositiveSmallIntegerField(default=1)
    last_attested_at = models.DateTimeField(null=True, blank=True)
    # A cadence after the last successful attestation, or after go-live (the Production
    # deployment signed off); empty until then: no reminders before there is an appliance.
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Set when the vendor was told that the duty was missed past grace, for that due time:
    # one event per missed period.
    missed_reported_for = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StandingDutyQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "kind"]
        verbose_name_plural = "standing duties"
        constraints = [
            models.UniqueConstraint(fields=["engagement", "kind"], name="duty_per_kind"),
            models.CheckConstraint(condition=Q(kind__in=DutyKind.values), name="duty_kind_valid"),
            models.CheckConstraint(
                condition=Q(cadence_days__gte=1) & Q(cadence_days__lte=366),
                name="duty_cadence_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} every {self.cadence_days} day(s)"

    def is_past_grace(self, now: dt.datetime) -> bool:
        return self.due_at is not None and now > self.due_at + dt.timedelta(days=self.grace_days)

    def is_on_time(self, performed_at: dt.datetime) -> bool:
        """Done within the cadence (and the slack) of the last time, or the first time."""
        return self.due_at is None or performed_at <= self.due_at + DUTY_SLACK

    def state_at(self, now: dt.datetime) -> str:
        """ "not started" (before go-live), "on time", "due" (past due, within grace) or
        "missed" (past grace)."""
        if self.due_at is None:
            return "not started"
        if now <= self.due_at + DUTY_SLACK:
            return "on time"
        if not self.is_past_grace(now):
            return "due"
        return "missed"


class Attestation(models.Model):
    """The subscriber's record that a duty was done: append-only, like events."""

    duty = models.ForeignKey(StandingDuty, on_delete=models.PROTECT, related_name="attestations")
    performed_at = models.DateTimeField()
    result = models.CharField(max_length=10, choices=AttestationResult.choices)
    # Backups: the tool and the size or reference; monitoring: what and where alerts go.
    tool = models.CharField(max_length=120, blank=True)
    reference = models.CharField(max_length=200, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    monitored = models.CharField(max_length=300, blank=True)
    alerts_to = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    on_time = models.BooleanField(default=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    via_token = models.ForeignKey(
        "AttestationToken", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["duty", "-performed_at", "-id"]
        indexes = [models.Index(fields=["duty", "-performed_at"], name="attestation_duty_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(result__in=AttestationResult.values), name="attestation_result_valid"
            ),
            models.CheckConstraint(
                condition=Q(size_bytes__isnull=True) | Q(size_bytes__gte=0),
                name="attestation_size_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.duty.get_kind_display()} {self.get_result_display().lower()} at {self.performed_at:%Y-%m-%d %H:%M}"


class AttestationToken(models.Model):
    """A per-engagement credential for the subscriber's backup job: it may record
    attestations and nothing else. Only its SHA-256 is stored; the value is shown once."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="attestation_tokens"
    )
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16, help_text="The first characters, to recognise it.")
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["engagement", "-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class CalendarFeed(models.Model):
    """A person's private iCalendar feed: the secret is in the URL, stored as its SHA-256."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"


class Issue(models.Model):
    """A problem with the appliance, raised by the subscriber (and submitted to the Support
    Center), resolved by the vendor within the appliance's core."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="issues")
    title = models.CharField(max_length=200)
    environment = models.CharField(max_length=12, choices=Environment.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    description = models.TextField()
    scope = models.CharField(max_length=12, choices=IssueScope.choices, default=IssueScope.CORE)
    ticket_reference = models.CharField(max_length=60, blank=True)
    state = models.CharField(max_length=14, choices=IssueState.choices, default=IssueState.OPEN)
    resolution = models.TextField(blank=True)
    cycle = models.ForeignKey(
        UpdateCycle, null=True, blank=True, on_delete=models.SET_NULL, related_name="issues"
    )
    origin_task = models.ForeignKey(
        EngagementTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    revision = models.PositiveIntegerField(default=1)
    # When it passed its response target unanswered and was escalated (once).
    escalated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["engagement", "-created_at", "-id"]
        indexes = [models.Index(fields=["engagement", "state"], name="issue_engagement_state_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=IssueState.values), name="issue_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(severity__in=Severity.values), name="issue_severity_valid"
            ),
            models.CheckConstraint(
                condition=Q(scope__in=IssueScope.values), name="issue_scope_valid"
            ),
            models.CheckConstraint(
                condition=Q(environment__in=Environment.values), name="issue_environment_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_ISSUE_STATES

    @property
    def has_ticket(self) -> bool:
        return bool(self.ticket_reference)

    @property
    def ticket_url(self) -> str:
        """The Support Center link of its ticket (settings.ISSUE_TICKET_URL), if configured."""
        template = settings.ISSUE_TICKET_URL
        if not (template and self.ticket_reference):
            return ""
        return template.replace("{ticket}", quote(self.ticket_reference, safe=""))
