from __future__ import annotations

import datetime as dt
import logging
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from engagements.actions.engagements import create_engagement
from engagements.actions.membership import add_member
from engagements.choices import (
    OrganizationKind,
)
from engagements.management.demo_story import Story
from engagements.models import Engagement, Organization, Profile
from engagements.tasks import deliver_pending_batches
from raci.models import Party
from raci.services import load_seed_template

# Demo only: these accounts exist to try the portal, never in production.
DEMO_PASSWORD = "psaas-demo-2026"
PORTAL_ADMINS = "Portal admins"
ADMIN_PERMS = [
    ("engagements", "administer_portal"),
    *[
        ("raci", f"{action}_{model}")
        for model in (
            "party",
            "racitemplate",
            "templateversion",
            "versionparty",
            "templatetask",
            "templatecell",
        )
        for action in ("view", "add", "change", "delete")
    ],
    *[
        ("engagements", f"{action}_{model}")
        for model in ("organization", "profile", "engagement", "membership")
        for action in ("view", "add", "change")
    ],
    ("engagements", "view_event"),
    *[
        ("engagements", f"view_{model}")
        for model in (
            "updatecycle",
            "handover",
            "standingduty",
            "attestation",
            "attestationtoken",
            "issue",
        )
    ],
    ("engagements", "view_engagementtask"),
    ("auth", "view_user"),
    ("auth", "add_user"),
    ("auth", "change_user"),
]

USERS = [
    # username, first, last, organisation, portal admin
    ("admin", "Ada", "Admin", "Auth0", True),
    ("cse", "Casey", "Engineer", "Auth0", False),
    ("acme-engineer", "Alex", "Acme", "Acme Corp", False),
    ("globex-engineer", "Gita", "Globex", "Globex", False),
    ("initech-engineer", "Ines", "Initech", "Initech", False),
]
# Subscriber, engagement, its engineer, and days since kickoff: one engagement per stage.
ENGAGEMENTS = [
    ("Acme Corp", "Acme identity appliance", "acme-engineer", 70),
    ("Initech", "Initech identity appliance", "initech-engineer", 35),
    ("Globex", "Globex identity appliance", "globex-engineer", 12),
]


def login_lines() -> list[str]:
    """The demo logins, one line each (load_demo and make run's banner print them)."""
    lines = []
    for username, _first, _last, org, is_admin in USERS:
        role = (
            "portal admin"
            if is_admin
            else (
                "CSE, every engagement" if username == "cse" else f"infrastructure engineer, {org}"
            )
        )
        lines.append(f"  {username:<16} {DEMO_PASSWORD}   ({role})")
    return lines


@contextmanager
def deliver_here():
    """Celery tasks run in this process while the block runs (not published to the broker),
    without a log line for each task that succeeded (failures are still logged)."""
    from psaas_portal.celery import app

    trace = logging.getLogger("celery.app.trace")
    was, level = app.conf.task_always_eager, trace.level
    app.conf.task_always_eager = True
    trace.setLevel(logging.WARNING)
    try:
        yield
    finally:
        app.conf.task_always_eager = was
        trace.setLevel(level)


class Command(BaseCommand):
    help = "Loads the PSaaS Appliance template and demo organisations, engagements and users (idempotent)."

    def handle(self, *args, **options) -> None:
        # The demo's emails go out here, once, as its story commits (each through the
        # delivery's claim, so never twice): nothing is left queued for a worker that
        # `make run` starts next, and a second load changes nothing and sends nothing.
        with deliver_here():
            self._load()
            # Whatever the eager tasks did not send (when another Celery app is current,
            # `.delay` publishes instead of running here): sent now, through the same claim,
            # so a worker started next finds nothing left.
            deliver_pending_batches()
        if options["verbosity"] >= 1:
            self.stdout.write(
                self.style.SUCCESS("Demo data ready. Demo logins (demo only, never in production):")
            )
            for line in login_lines():
                self.stdout.write(line)

    def _load(self) -> None:
        with transaction.atomic():
            version = load_seed_template()
            admins = self._admin_group()
            orgs = {
                "Auth0": self._org("Auth0", OrganizationKind.VENDOR),
                "Acme Corp": self._org("Acme Corp", OrganizationKind.SUBSCRIBER),
                "Globex": self._org("Globex", OrganizationKind.SUBSCRIBER),
                "Initech": self._org("Initech", OrganizationKind.SUBSCRIBER),
            }
            users = {}
            for username, first, last, org, is_admin in USERS:
                users[username] = self._user(
                    username, first, last, orgs[org], admins if is_admin else None
                )
            # The CSE is a vendor manager: they start engagements in the portal.
            managers, _ = Group.objects.get_or_create(name="Vendor managers")
            managers.permissions.add(
                Permission.objects.get(
                    content_type__app_label="engagements", codename="start_engagement"
                )
            )
            users["cse"].groups.add(managers)
            vendor = Party.objects.get(name="Auth0")
            subscriber = Party.objects.get(name="Subscriber")
            today = timezone.localdate()
            story = Story(users)
            for org, name, engineer, days in ENGAGEMENTS:
                engagement = Engagement.objects.filter(organization=orgs[org], name=name).first()
                if engagement is not None:
                    continue  # loaded before: nothing to change, no events
                with story.clock.at(-days - 2, 9):
                    engagement = create_engagement(
                        organization=orgs[org],
                        name=name,
                        version=version,
                        kickoff_date=today - dt.timedelta(days=days),
                        actor=users["admin"],
                    )
                    add_member(
                        engagement,
                        users["cse"],
                        party=vendor,
                        roles=["Auth0 Customer Success Engineer"],
                        is_manager=True,
                        actor=users["admin"],
                    )
                    add_member(
                        engagement,
                        users[engineer],
                        party=subscriber,
                        roles=["subscriber's infrastructure engineer"],
                        actor=users["admin"],
                    )
                getattr(story, org.split()[0].lower())(engagement)

    def _admin_group(self) -> Group:
        group, _ = Group.objects.get_or_create(name=PORTAL_ADMINS)
        for app_label, codename in ADMIN_PERMS:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        return group

    def _org(self, name: str, kind: str) -> Organization:
        org, _ = Organization.objects.get_or_create(name=name, defaults={"kind": kind})
        return org

    def _user(self, username: str, first: str, last: str, org: Organization, group: Group | None):
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(
                username,
                email=f"{username}@{org.name.lower().replace(' ', '')}.example",
                password=DEMO_PASSWORD,
                first_name=first,
                last_name=last,
            )
        Profile.objects.get_or_create(user=user, defaults={"organization": org})
        if group is not None:
            user.groups.add(group)
            if not user.is_staff:
                user.is_staff = True  # reaches the Django admin with the group's model permissions
                user.save(update_fields=["is_staff"])
        return user
