"""The live work: organisations, engagements, memberships, tasks and their audit trail."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from raci.choices import Tracking
from raci.models import LetterFields, Party, TemplateTask, TemplateVersion

from .choices import (
    OPEN_CYCLE_STATES,
    OPEN_ISSUE_STATES,
    AttestationResult,
    Channel,
    ChecklistItemKey,
    ChecklistStatus,
    CycleState,
    Delivery,
    DutyKind,
    EngagementState,
    Environment,
    HandoverState,
    IssueState,
    NotificationReason,
    OrganizationKind,
    Severity,
    TaskStatus,
    TestResult,
)
from .querysets import EngagementQuerySet, EngagementTaskQuerySet


class Organization(models.Model):
    """The vendor, or a subscriber organisation that runs the appliance."""

    name = models.CharField(max_length=150, unique=True)
    kind = models.CharField(max_length=12, choices=OrganizationKind.choices)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=OrganizationKind.values), name="org_kind_valid"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_vendor(self) -> bool:
        return self.kind == OrganizationKind.VENDOR


class Profile(models.Model):
    """Which organisation a person works for (deciding which party they may join), and how
    they want to be told about changes."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="people")
    email_delivery = models.CharField(
        max_length=10, choices=Delivery.choices, default=Delivery.IMMEDIATE
    )
    portal_delivery = models.CharField(
        max_length=10, choices=Delivery.choices, default=Delivery.IMMEDIATE
    )
    last_digest_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(email_delivery__in=Delivery.values)
                & Q(portal_delivery__in=Delivery.values),
                name="profile_delivery_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.organization})"


class Engagement(models.Model):
    """One subscriber organisation's appliance, tracked against a RACI template version."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="engagements"
    )
    name = models.CharField(max_length=150)
    template_version = models.ForeignKey(
        TemplateVersion, on_delete=models.PROTECT, related_name="+"
    )
    kickoff_date = models.DateField()
    state = models.CharField(
        max_length=12, choices=EngagementState.choices, default=EngagementState.ONBOARDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = EngagementQuerySet.as_manager()

    class Meta:
        ordering = ["organization__name", "name"]
        permissions = [
            ("act_on_engagement", "Can act for their party on the engagement"),
            ("administer_engagement", "Can administer the engagement"),
            ("administer_portal", "Administers the portal: every engagement and template"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="engagement_name_unique"),
            models.CheckConstraint(
                condition=Q(state__in=EngagementState.values), name="engagement_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization.name}: {self.name}"


class EngagementUserObjectPermission(UserObjectPermissionBase):
    """django-guardian's per-user permissions on engagements, as a direct foreign key."""

    content_object = models.ForeignKey(Engagement, on_delete=models.CASCADE)


class EngagementGroupObjectPermission(GroupObjectPermissionBase):
    """django-guardian's per-group permissions on engagements (unused, required by guardian)."""

    content_object = models.ForeignKey(Engagement, on_delete=models.CASCADE)


class Membership(models.Model):
    """A person in one party of one engagement: the one source of truth for access.

    django-guardian object permissions are derived from these rows (see
    engagements.permissions) and never granted by hand.
    """

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    role_title = models.CharField(max_length=120, blank=True)
    is_manager = models.BooleanField(
        default=False, help_text="May administer the engagement (members, template updates)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["engagement", "party", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["engagement", "user"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} - {self.party} on {self.engagement}"


class EngagementTask(models.Model):
    """A task of one engagement, copied from its template version (one per environment where tracked so)."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="tasks")
    template_task = models.ForeignKey(
        TemplateTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position = models.PositiveSmallIntegerField()
    key = models.SlugField(max_length=60, blank=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    environment = models.CharField(max_length=12, choices=Environment.choices, blank=True)
    tracking = models.CharField(max_length=20, choices=Tracking.choices, default=Tracking.ONCE)
    is_optional = models.BooleanField(default=False)
    status = models.CharField(
        max_length=16, choices=TaskStatus.choices, default=TaskStatus.NOT_STARTED
    )
    blocked_reason = models.TextField(blank=True)
    due_date = models.DateField(null=True, blank=True)
    # Bumped on every change: a form carries the value it saw, so a stale
    # submission is refused instead of silently overwriting.
    revision = models.PositiveIntegerField(default=1)
    reopen_count = models.PositiveIntegerField(default=0)
    # Set when a newer template version dropped the task but it had history to keep.
    retired_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EngagementTaskQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "position", "environment"]
        indexes = [
            models.Index(fields=["status", "due_date"], name="task_status_due_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "position", "environment"],
                condition=Q(retired_at__isnull=True),
                name="task_position_unique",
            ),
            models.CheckConstraint(
                condition=Q(status__in=TaskStatus.values), name="task_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=TaskStatus.NOT_APPLICABLE) | Q(is_optional=True),
                name="task_not_applicable_only_optional",
            ),
            models.CheckConstraint(
                condition=~Q(status=TaskStatus.BLOCKED) | ~Q(blocked_reason=""),
                name="task_blocked_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(environment="") | Q(environment__in=Environment.values),
                name="task_environment_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        name = f"{self.name} (if required)" if self.is_optional else self.name
        if self.environment:
            return f"{name} [{self.get_environment_display()}]"
        return name

    def clean(self) -> None:
        if self.status == TaskStatus.NOT_APPLICABLE and not self.is_optional:
            raise ValidationError("Only an optional task can be not applicable.")


class TaskParty(LetterFields):
    """The letters one party holds on one engagement task (copied from the template)."""

    task = models.ForeignKey(EngagementTask, on_delete=models.CASCADE, related_name="parties")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["task", "party"]
        verbose_name_plural = "task parties"
        constraints = [
            models.UniqueConstraint(fields=["task", "party"], name="task_party_unique"),
            *LetterFields.letter_constraints("task_party"),
        ]

    def __str__(self) -> str:
        return f"{self.party}: {self.cell_text()}"


class EventQuerySet(models.QuerySet):
    def update(self, **kwargs):  # pragma: no cover - guarded path
        raise TypeError("Events are append-only: they are never updated.")

    def delete(self):
        raise TypeError("Events are append-only: they are never deleted.")


class Event(models.Model):
    """One change to an engagement, appended to its audit trail and never edited or deleted."""

    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="events")
    task = models.ForeignKey(
        EngagementTask, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verb = models.CharField(max_length=40)
    from_state = models.CharField(max_length=40, blank=True)
    to_state = models.CharField(max_length=40, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["engagement", "-created_at"], name="event_engagement_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.verb}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise TypeError("Events are append-only: they are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Events are append-only: they are never deleted.")


class SignOff(models.Model):
    """An immutable record that a member of the signing party accepted a done task.

    The CSE's sign-off of each environment's deployment is the central one. A
    reopened task needs a new sign-off: `round` counts reopenings, and one
    sign-off per task and round is a database constraint, so two people
    signing at once leave exactly one record.
    """

    task = models.ForeignKey(EngagementTask, on_delete=models.PROTECT, related_name="signoffs")
    round = models.PositiveIntegerField(default=0)
    environment = models.CharField(max_length=12, choices=Environment.choices, blank=True)
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(auto_now_add=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-signed_at"]
        constraints = [
            models.UniqueConstraint(fields=["task", "round"], name="signoff_once_per_round"),
        ]

    def __str__(self) -> str:
        return f"{self.task} signed off by {self.signed_by} at {self.signed_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise TypeError("Sign-offs are immutable.")
        super().save(*args, **kwargs)


class Comment(models.Model):
    """A comment on a task, or a question addressed to a Consulted party."""

    task = models.ForeignKey(EngagementTask, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    addressed_to = models.ForeignKey(
        Party,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Set when the comment is a question to a Consulted party.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.task}"

    @property
    def is_question(self) -> bool:
        return self.addressed_to_id is not None


class InfrastructureChecklist(models.Model):
    """The PSaaS Appliance Infrastructure Checklist of one environment of an engagement.

    The subscriber saves drafts and submits it when the VMs are ready; the
    vendor (Consulted on Preparing VM Infrastructure) accepts it or returns it
    with a comment per item. Acceptance completes that environment's task.
    """

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="checklists")
    environment = models.CharField(max_length=12, choices=Environment.choices)
    status = models.CharField(
        max_length=12, choices=ChecklistStatus.choices, default=ChecklistStatus.DRAFT
    )
    revision = models.PositiveIntegerField(default=1)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_comment = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["engagement", "environment"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "environment"], name="checklist_per_environment"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ChecklistStatus.values), name="checklist_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(environment__in=Environment.values), name="checklist_environment_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Infrastructure checklist, {self.get_environment_display()}, {self.engagement}"

    @property
    def is_editable(self) -> bool:
        return self.status in (ChecklistStatus.DRAFT, ChecklistStatus.RETURNED)


class ChecklistItem(models.Model):
    """One item of a checklist: a value or a confirmation, a note, and the reviewer's comment."""

    checklist = models.ForeignKey(
        InfrastructureChecklist, on_delete=models.CASCADE, related_name="items"
    )
    key = models.CharField(max_length=20, choices=ChecklistItemKey.choices)
    value = models.CharField(max_length=500, blank=True)
    confirmed = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    review_comment = models.TextField(blank=True)

    class Meta:
        ordering = ["checklist", "id"]
        constraints = [
            models.UniqueConstraint(fields=["checklist", "key"], name="checklist_item_unique"),
            models.CheckConstraint(
                condition=Q(key__in=ChecklistItemKey.values), name="checklist_item_key_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.get_key_display()

    @property
    def is_complete(self) -> bool:
        return self.confirmed or bool(self.value.strip())


class Notification(models.Model):
    """One message to one person on one channel: the outbox.

    Written in the same transaction as the change (its Event) or by the
    reminder sweep, delivered after commit by Celery, and marked sent once.
    A worker claims rows before sending (`claimed_at`), so two workers never
    send the same row; the unique keys make a duplicate row impossible.
    """

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    task = models.ForeignKey(
        EngagementTask,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    kind = models.CharField(max_length=40, help_text="The event's verb, or the reminder's kind.")
    reason = models.CharField(max_length=20, blank=True, choices=NotificationReason.choices)
    digest = models.BooleanField(default=False, help_text="Waits for the daily digest.")
    day = models.DateField(null=True, blank=True, help_text="For reminders: the day it is for.")
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    retry_at = models.DateTimeField(
        null=True, blank=True, help_text="After a temporary refusal: not tried before this."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["channel", "digest", "created_at"],
                condition=Q(sent_at__isnull=True),
                name="notification_unsent_idx",
            ),
            models.Index(
                fields=["recipient", "channel", "-created_at"], name="notification_inbox_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "recipient", "channel"],
                condition=Q(event__isnull=False),
                name="notification_once_per_event",
            ),
            models.UniqueConstraint(
                fields=["task", "recipient", "channel", "kind", "day"],
                condition=Q(event__isnull=True),
                name="reminder_once_per_day",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="notification_channel_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient} by {self.channel}"


# --- Operations after go-live -------------------------------------------------------
# Update cycles, the Operations Handover, standing duties and issues. Each belongs to one
# engagement and is worked through one of its (recurring) seed tasks, whose letters decide
# who acts and who is told.


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
                condition=Q(environment__in=Environment.values), name="issue_environment_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_ISSUE_STATES
