from __future__ import annotations

from enum import StrEnum

from django.db import models


class OrganizationKind(models.TextChoices):
    VENDOR = "vendor", "Vendor"
    SUBSCRIBER = "subscriber", "Subscriber"


class SeedTask(StrEnum):
    """The keys of the seed template's tasks: the portal's own work hangs on them (the
    checklist on infrastructure, update cycles on updates, issues on the issue tasks)."""

    INFRASTRUCTURE = "infrastructure"
    DEPLOYMENT = "deployment"
    CONFIGURATION = "configuration"
    HANDOVER = "handover"
    MONITORING = "monitoring"
    BACKUP = "backup"
    CODE_INTEGRATION = "code_integration"
    USER_MIGRATION = "user_migration"
    UPDATES = "updates"
    UPDATE_TESTING = "update_testing"
    ISSUE_IDENTIFICATION = "issue_identification"
    ISSUE_RESOLUTION = "issue_resolution"


class EngagementState(models.TextChoices):
    ONBOARDING = "onboarding", "Onboarding"
    LIVE = "live", "Live"
    CLOSED = "closed", "Closed"


class InvitationState(models.TextChoices):
    """An invitation to an engagement; "expired" is read off its time, not stored."""

    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REVOKED = "revoked", "Revoked"


class Environment(models.TextChoices):
    DEVELOPMENT = "development", "Development"
    PRODUCTION = "production", "Production"


class EnvironmentSet(models.TextChoices):
    """The environments an engagement runs, chosen when it is started. Production is always
    one of them (it is what the engagement deploys); Development is where updates are tested
    first, and a subscriber may run without one."""

    BOTH = "both", "Development and Production"
    PRODUCTION = "production", "Production only"

    @property
    def environments(self) -> tuple[str, ...]:
        if self == EnvironmentSet.BOTH:
            return (Environment.DEVELOPMENT, Environment.PRODUCTION)
        return (Environment.PRODUCTION,)


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    BLOCKED = "blocked", "Blocked"
    DONE = "done", "Done"
    SIGNED_OFF = "signed_off", "Signed off"
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    REOPENED = "reopened", "Reopened"


OPEN_STATUSES = (
    TaskStatus.NOT_STARTED,
    TaskStatus.IN_PROGRESS,
    TaskStatus.BLOCKED,
    TaskStatus.REOPENED,
)
CLOSED_STATUSES = (TaskStatus.SIGNED_OFF, TaskStatus.NOT_APPLICABLE)


class ChecklistStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    RETURNED = "returned", "Returned"
    ACCEPTED = "accepted", "Accepted"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    PORTAL = "portal", "In the portal"
    CHAT = "chat", "Chat (Slack or Teams)"


# The channels whose rows are sent (queued, claimed, marked sent). A portal notification is
# shown where it is written: never queued, its `sent_at` stays empty.
SENT_CHANNELS = (Channel.EMAIL, Channel.CHAT)


class ChatKind(models.TextChoices):
    """The chat services whose incoming webhooks the portal posts to."""

    SLACK = "slack", "Slack"
    TEAMS = "teams", "Microsoft Teams"


class Delivery(models.TextChoices):
    """A person's preference for one channel."""

    IMMEDIATE = "immediate", "Immediately"
    DIGEST = "digest", "Daily digest"
    OFF = "off", "Off"


class NotificationReason(models.TextChoices):
    INFORMED = "informed", "You are Informed"
    CONSULTED = "consulted", "You are Consulted"
    ACCOUNTABLE = "accountable", "You are Accountable"
    RESPONSIBLE = "responsible", "You are Responsible"
    INVOLVED = "involved", "You work on this task"
    ATTENDEE = "attendee", "You are invited"
    YOUR_TURN = "your_turn", "It is your turn: the next step is yours"
    ESCALATED = "escalated", "It was escalated to you"
    MANAGER = "manager", "You manage this engagement"


class ReminderKind(models.TextChoices):
    DUE_SOON = "reminder.due_soon", "Due soon"
    OVERDUE = "reminder.overdue", "Overdue"
    ESCALATION = "reminder.escalation", "Overdue past the grace period"
    SIGN_OFF_DUE = "reminder.sign_off_due", "Done, waiting for your sign-off"
    WINDOW_SOON = "reminder.window_soon", "An update window starts within a day"
    WINDOW_UNPREPARED = "reminder.window_unprepared", "An update window starts unprepared"
    DUTY_DUE = "reminder.duty_due", "Standing duty due"


# --- Operations after go-live ------------------------------------------------------


class CycleState(models.TextChoices):
    """An update cycle, from the vendor's proposal to Production done."""

    PROPOSED = "proposed", "Windows proposed"
    AGREED = "agreed", "Windows agreed"
    DEV_UPDATING = "dev_updating", "Updating Development"
    DEV_TESTING = "dev_testing", "Testing Development"
    DEV_FAILED = "dev_failed", "Development test failed"
    DEV_PASSED = "dev_passed", "Development passed"
    PROD_UPDATING = "prod_updating", "Updating Production"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


OPEN_CYCLE_STATES = tuple(
    s for s in CycleState.values if s not in (CycleState.COMPLETED, CycleState.CANCELLED)
)


class TestResult(models.TextChoices):
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"


class HandoverState(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    HELD = "held", "Held"
    CANCELLED = "cancelled", "Cancelled"


class DutyKind(models.TextChoices):
    """The seed's standing duties: Backing Up and Monitoring (task keys)."""

    BACKUP = "backup", "Backing up"
    MONITORING = "monitoring", "Monitoring review"


class AttestationResult(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class IssueState(models.TextChoices):
    OPEN = "open", "Open"
    INVESTIGATING = "investigating", "Investigating"
    WAITING = "waiting", "Waiting on subscriber"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


OPEN_ISSUE_STATES = (IssueState.OPEN, IssueState.INVESTIGATING, IssueState.WAITING)


class IssueScope(models.TextChoices):
    """Where an issue lies, as the seed words it: the vendor supports the appliance's core
    (it resolves) and consults on integration with the subscriber's applications (the
    subscriber resolves)."""

    CORE = "core", "The appliance's core (Auth0 resolves)"
    INTEGRATION = "integration", "Integration with our applications (Auth0 consults)"


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical: service down"
    HIGH = "high", "High: major function impaired"
    MEDIUM = "medium", "Medium: partial or workaround available"
    LOW = "low", "Low: question or minor"
