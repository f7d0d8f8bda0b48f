"""What each person may see, and the rules about time, as queryset methods: every view
and sweep starts from these."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Subquery

from psaas_portal.auth import cache_of, holds_permission

from .choices import OPEN_STATUSES, IssueState

VIEW = "view_engagement"
PORTAL_ADMIN = "engagements.administer_portal"


def visible_engagements_q(user: Any, ref: str = "pk") -> Q:
    """A filter for the engagements the user may view: an id subquery, not a list in Python.

    The guardian rows are read through the app registry: this module sits under the
    models, which it must not import."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    return visible_q_of(user.pk, admin=holds_permission(user, PORTAL_ADMIN), ref=ref)


def visible_q_of(user_id: int, *, admin: bool, ref: str = "pk") -> Q:
    """visible_engagements_q for an active user by id, given whether they are a portal
    admin (its SQL depends on nothing else: psaas_portal.prepared compiles it once)."""
    if admin:
        return Q()
    rows = apps.get_model("engagements", "EngagementUserObjectPermission").objects.filter(
        user_id=user_id, permission_id=view_permission_id(), content_object=OuterRef(ref)
    )
    return Q(Exists(rows))


def view_permission_id() -> Subquery:
    """The view permission's id as a scalar subquery (an InitPlan, run once), not a join to
    the permission table: with the join PostgreSQL cannot use the statistics of the
    permission rows' user and permission columns together, estimates that a viewer sees a
    few dozen engagements when they see 10,000, and sorts a portfolio page over all of them
    instead of walking the subscribers' name index (30 ms against 0.5 ms at 10,000)."""
    return Subquery(
        apps.get_model("auth", "Permission")
        .objects.filter(content_type__app_label="engagements", codename=VIEW)
        .order_by()
        .values("pk")[:1]
    )


def visible_engagement_expression(user: Any, ref: str = "engagement_id") -> Q:
    """The same rule as visible_engagements_q, as a condition to select with the row (no
    query of its own: a portal admin's permission is read in the row's query when it is not
    already known this request). For a read that must decide visibility together with the
    row it locks (engagements.selectors.locked)."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    return visibility_of(user.pk, admin_known(user), ref)


def admin_known(user: Any) -> bool | None:
    """Whether this request already knows the user is a portal admin (None: not read yet)."""
    return cache_of(user).get("_held_permissions", {}).get(PORTAL_ADMIN)


def visibility_of(user_id: int, known: bool | None, ref: str = "engagement_id") -> Q:
    """visible_engagement_expression for an active user by id, given what admin_known says
    (its SQL depends on nothing else: psaas_portal.prepared compiles it once)."""
    if known:
        return Q(pk__isnull=False)
    rows = apps.get_model("engagements", "EngagementUserObjectPermission").objects.filter(
        user_id=user_id, permission_id=view_permission_id(), content_object=OuterRef(ref)
    )
    if known is False:
        return Q(Exists(rows))
    app_label, codename = PORTAL_ADMIN.split(".", 1)
    admin = apps.get_model("auth", "Permission").objects.filter(
        Q(user__id=user_id) | Q(group__user__id=user_id),
        content_type__app_label=app_label,
        codename=codename,
    )
    return Q(Exists(admin)) | Q(Exists(rows))


# --- Time rules, each written once ------------------------------------------------------
# A task is overdue when it is still open (work owed: not done, signed off or not
# applicable) the day after its due date; due soon within PORTAL_DUE_SOON_DAYS; past grace
# REMINDER_GRACE_DAYS after its due date (reminders escalate then).


def due_soon_until(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=settings.PORTAL_DUE_SOON_DAYS)


def grace_cutoff(today: dt.date) -> dt.date:
    """Tasks due before this day are past the grace period."""
    return today - dt.timedelta(days=settings.REMINDER_GRACE_DAYS)


def remind_until(today: dt.date) -> dt.date:
    """Reminders start REMINDER_LEAD_DAYS before the due date."""
    return today + dt.timedelta(days=settings.REMINDER_LEAD_DAYS)


# A nightly job that ends a little later than yesterday's is not late, and is not reminded.
DUTY_SLACK = dt.timedelta(hours=2)


def late_cutoff(now: dt.datetime) -> dt.datetime:
    """A duty due before this moment is late at `now` (past the nightly job's slack)."""
    return now - DUTY_SLACK


def is_overdue(due_date: dt.date | None, today: dt.date) -> bool:
    return due_date is not None and due_date < today


def is_due_soon(due_date: dt.date | None, today: dt.date) -> bool:
    return due_date is not None and today <= due_date <= due_soon_until(today)


def is_past_grace(due_date: dt.date | None, today: dt.date) -> bool:
    return due_date is not None and due_date < grace_cutoff(today)


# An escalation stays open while what it was about is still owed: a task escalated for its
# current due date and still open; an issue escalated and still unanswered (open).
def escalated_task_q(prefix: str = "") -> Q:
    return Q(
        **{
            f"{prefix}status__in": list(OPEN_STATUSES),
            f"{prefix}escalated_for": F(f"{prefix}due_date"),
        }
    )


def is_escalated(task: Any) -> bool:
    """The same rule as escalated_task_q, for a task in hand."""
    return (
        task.status in OPEN_STATUSES
        and task.escalated_for is not None
        and task.escalated_for == task.due_date
    )


def escalated_issue_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}state": IssueState.OPEN, f"{prefix}escalated_at__isnull": False})


class EngagementQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> EngagementQuerySet:
        return self.filter(visible_engagements_q(user))


class EngagementTaskQuerySet(models.QuerySet):
    def live(self) -> EngagementTaskQuerySet:
        """Tasks of the engagement's current template version (not retired by a newer one)."""
        return self.filter(retired_at__isnull=True)

    def visible_to(self, user: Any) -> EngagementTaskQuerySet:
        return self.filter(visible_engagements_q(user, ref="engagement_id"))

    def overdue(self, today: dt.date) -> EngagementTaskQuerySet:
        return self.filter(status__in=OPEN_STATUSES, due_date__lt=today)

    def due_soon(self, today: dt.date) -> EngagementTaskQuerySet:
        return self.filter(due_date__gte=today, due_date__lte=due_soon_until(today))

    def past_grace(self, today: dt.date) -> EngagementTaskQuerySet:
        return self.filter(due_date__lt=grace_cutoff(today))

    def to_remind(self, today: dt.date) -> EngagementTaskQuerySet:
        return self.filter(due_date__isnull=False, due_date__lte=remind_until(today))


class StandingDutyQuerySet(models.QuerySet):
    def late(self, now: dt.datetime) -> StandingDutyQuerySet:
        """Past due, beyond the slack a nightly job gets (reminded once a day)."""
        return self.due_before(late_cutoff(now))

    def due_before(self, cutoff: dt.datetime) -> StandingDutyQuerySet:
        """Late at the moment whose late_cutoff is `cutoff` (for a query that takes the
        cutoff as its parameter)."""
        return self.filter(due_at__lt=cutoff)
