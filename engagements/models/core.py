from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from engagements.choices import (
    OPEN_STATUSES,
    Delivery,
    EngagementState,
    Environment,
    EnvironmentSet,
    OrganizationKind,
    TaskStatus,
)
from engagements.querysets import EngagementQuerySet, EngagementTaskQuerySet, is_overdue
from raci.choices import Phase, Tracking
from raci.models import LetterFields, Party, TemplateTask, TemplateVersion


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
    time_zone = models.CharField(
        max_length=64, blank=True, help_text="An IANA time zone; empty: the portal's TIME_ZONE."
    )

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
    environments = models.CharField(
        max_length=12, choices=EnvironmentSet.choices, default=EnvironmentSet.BOTH
    )
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
            ("administer_engagement", "Can administer the engagement"),
            ("administer_portal", "Administers the portal: every engagement and template"),
            ("start_engagement", "Starts engagements in the portal (vendor managers)"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="engagement_name_unique"),
            models.CheckConstraint(
                condition=Q(state__in=EngagementState.values), name="engagement_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(environments__in=EnvironmentSet.values),
                name="engagement_environments_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization.name}: {self.name}"

    @property
    def environment_list(self) -> tuple[str, ...]:
        """The environments it runs, Development first."""
        return EnvironmentSet(self.environments).environments

    @property
    def has_development(self) -> bool:
        return self.environments == EnvironmentSet.BOTH


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

    @property
    def role_titles(self) -> list[str]:
        """The named roles held (prefetch `roles`, or read them with the membership as
        `held_role_titles`, see engagements.selectors.engagements.members_with_roles)."""
        if "held_role_titles" in self.__dict__:
            return self.__dict__["held_role_titles"]
        return sorted(role.title for role in self.roles.all())


class MemberRole(models.Model):
    """A named role of its party that a member holds on the engagement (e.g. "Auth0
    Customer Success Engineer"): the roles are the role titles the template version's cells
    give the party. A letter with a role applies only to the members who hold it."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="roles")
    title = models.CharField(max_length=120)

    class Meta:
        ordering = ["membership", "title"]
        constraints = [
            models.UniqueConstraint(fields=["membership", "title"], name="member_role_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.membership.user} as {self.title}"


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
    phase = models.CharField(max_length=12, choices=Phase.choices, default=Phase.ONBOARDING)
    four_eyes = models.BooleanField(default=False)
    status = models.CharField(
        max_length=16, choices=TaskStatus.choices, default=TaskStatus.NOT_STARTED
    )
    # Who moved it to done (the four-eyes rule keeps them from signing it off).
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The Accountable party let it go ahead with its prerequisites unmet (with a reason).
    prerequisites_overridden_at = models.DateTimeField(null=True, blank=True)
    prerequisites_overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    prerequisites_override_reason = models.TextField(blank=True)
    # The due date whose overdue work was escalated (once per due date).
    escalated_for = models.DateField(null=True, blank=True)
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

    @property
    def is_overdue(self) -> bool:
        """Still open the day after its due date (the rule of EngagementTask.objects.overdue)."""
        return self.status in OPEN_STATUSES and is_overdue(self.due_date, timezone.localdate())

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
        help_text="Set when the comment is a question: the party asked (the Consulted party, "
        "or the Responsible one when a Consulted party asks).",
    )
    answer_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="answers"
    )
    answered_at = models.DateTimeField(null=True, blank=True, help_text="A question answered.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.task}"

    @property
    def is_question(self) -> bool:
        return self.addressed_to_id is not None

    @property
    def is_open_question(self) -> bool:
        return self.is_question and self.answered_at is None
