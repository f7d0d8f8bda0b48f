from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from engagements.actions.checklists import review_checklist, save_checklist
from engagements.actions.cycles import (
    SnapshotIn,
    accept_windows,
    finish_update,
    post_status,
    propose_cycle,
    record_preparation,
    record_test,
    start_update,
)
from engagements.actions.duties import AttestationIn, record_attestation
from engagements.actions.engagements import create_engagement
from engagements.actions.handover import schedule_handover
from engagements.actions.issues import move_issue, raise_issue
from engagements.actions.membership import add_member
from engagements.actions.tasks import add_comment, sign_off_task, transition_task
from engagements.choices import (
    AttestationResult,
    DutyKind,
    Environment,
    IssueState,
    OrganizationKind,
    Severity,
    TaskStatus,
)
from engagements.models import Engagement, Organization, Profile, StandingDuty
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
]


# What the demo's subscriber filled in on its Development checklist.
DEMO_CHECKLIST = {
    "memory": "32 GB per VM (3 VMs)",
    "storage": "200 GB SSD per VM",
    "processors": "8 vCPU per VM",
    "load_balancers": "lb-dev.acme.example (TLS passthrough)",
    "networks": "10.20.0.0/24, ports 443 and 22 from the jumphost",
    "ssl_certificates": "CN=login-dev.acme.example, expires 2027-10-01",
    "dns_records": "login-dev.acme.example -> lb-dev",
    "smtp_servers": "smtp.acme.example:587",
    "vendor_access": "jumphost jump.acme.example for the CSE",
}


class Command(BaseCommand):
    help = "Loads the PSaaS Appliance template and demo organisations, engagements and users (idempotent)."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            version = load_seed_template()
            admins = self._admin_group()
            orgs = {
                "Auth0": self._org("Auth0", OrganizationKind.VENDOR),
                "Acme Corp": self._org("Acme Corp", OrganizationKind.SUBSCRIBER),
                "Globex": self._org("Globex", OrganizationKind.SUBSCRIBER),
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
            acme = self._engagement(
                orgs["Acme Corp"],
                "Acme identity appliance",
                version,
                today - dt.timedelta(days=40),
                users["admin"],
            )
            globex = self._engagement(
                orgs["Globex"],
                "Globex identity appliance",
                version,
                today - dt.timedelta(days=10),
                users["admin"],
            )
            for engagement, engineer in ((acme, "acme-engineer"), (globex, "globex-engineer")):
                if engagement.memberships.exists():
                    continue  # loaded before: nothing to change, no events
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
            if not acme.events.filter(verb__startswith="task.").exists():
                self._progress_acme(acme, users)
            if not globex.events.filter(verb__startswith="task.").exists():
                self._progress_globex(globex, users)
            if not acme.update_cycles.exists():
                self._operate_acme(acme, users)
        self.stdout.write(
            self.style.SUCCESS("Demo data ready. Demo logins (demo only, never in production):")
        )
        for username, _first, _last, org, is_admin in USERS:
            role = (
                "portal admin"
                if is_admin
                else (
                    "CSE, both engagements"
                    if username == "cse"
                    else f"infrastructure engineer, {org}"
                )
            )
            self.stdout.write(f"  {username:<16} {DEMO_PASSWORD}   ({role})")

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

    def _engagement(self, org, name, version, kickoff, actor) -> Engagement:
        existing = Engagement.objects.filter(organization=org, name=name).first()
        if existing:
            return existing
        return create_engagement(
            organization=org, name=name, version=version, kickoff_date=kickoff, actor=actor
        )

    def _task(self, engagement, name_start: str, environment: str = ""):
        return engagement.tasks.get(name__startswith=name_start, environment=environment)

    def _move(self, task, actor, *statuses, reason=""):
        for status in statuses:
            task.refresh_from_db()
            transition_task(
                task, to=status, actor=actor, reason=reason if status == TaskStatus.BLOCKED else ""
            )

    def _progress_acme(self, engagement, users) -> None:
        eng, cse = users["acme-engineer"], users["cse"]
        dev = Environment.DEVELOPMENT
        prod = Environment.PRODUCTION
        vm_dev = self._task(engagement, "Preparing VM", dev)
        # The checklist is the gate: submitted by the subscriber, accepted by the vendor,
        # which completes Preparing VM Infrastructure; the subscriber (A) signs it off.
        checklist = engagement.checklists.get(environment=dev)
        save_checklist(
            checklist,
            actor=eng,
            items={
                key: {"value": value, "confirmed": True} for key, value in DEMO_CHECKLIST.items()
            },
            submit=True,
        )
        review_checklist(checklist, actor=cse, accept=True, comment="All in place, thanks.")
        vm_dev.refresh_from_db()
        sign_off_task(vm_dev, actor=eng, comment="Checklist accepted for Development.")
        deploy_dev = self._task(engagement, "Deployment", dev)
        self._move(deploy_dev, cse, TaskStatus.IN_PROGRESS, TaskStatus.DONE)
        self._move(self._task(engagement, "Preparing VM", prod), eng, TaskStatus.IN_PROGRESS)
        self._move(self._task(engagement, "Configuration", dev), eng, TaskStatus.IN_PROGRESS)
        self._move(
            self._task(engagement, "Configuration", prod),
            eng,
            TaskStatus.BLOCKED,
            reason="Waiting for the production SSL certificate from our PKI team.",
        )
        add_comment(
            self._task(engagement, "Code Integration"),
            actor=eng,
            body="Which SDK version should our login app use against the appliance?",
            addressed_to=Party.objects.get(name="Auth0"),
        )

    def _progress_globex(self, engagement, users) -> None:
        eng = users["globex-engineer"]
        self._move(
            self._task(engagement, "Preparing VM", Environment.DEVELOPMENT),
            eng,
            TaskStatus.IN_PROGRESS,
        )

    def _operate_acme(self, engagement, users) -> None:
        """After go-live: a completed update cycle, a current one whose Development test
        failed (an open issue), a scheduled handover, backups on time and late, monitoring."""
        eng, cse = users["acme-engineer"], users["cse"]
        now = timezone.now().replace(second=0, microsecond=0)
        dev, prod = Environment.DEVELOPMENT, Environment.PRODUCTION

        def at(days: float, hours: int = 0):
            return now + dt.timedelta(days=days, hours=hours)

        def prepare(cycle, env, when):
            record_preparation(
                cycle,
                actor=eng,
                environment=env,
                snapshots=[
                    SnapshotIn(
                        f"psaas-{env[:3]}-{n}", f"snap-{env[:3]}-{n}-{when:%Y%m%d-%H%M}", when
                    )
                    for n in (1, 2)
                ],
                access_provided=True,
                present="Alex Acme (infrastructure), on-call DBA",
            )

        # Production went live (the CSE signed off its deployment): the duty clocks start.
        deploy_prod = self._task(engagement, "Deployment", prod)
        self._move(deploy_prod, cse, TaskStatus.IN_PROGRESS, TaskStatus.DONE)
        deploy_prod.refresh_from_db()
        sign_off_task(deploy_prod, actor=cse, comment="Production is live.")

        done = propose_cycle(
            engagement,
            actor=cse,
            release="2026.10.2",
            release_notes_url="https://support.example.com/psaas/releases/2026.10.2",
            windows={dev: (at(-20), at(-20, 3)), prod: (at(-17), at(-17, 3))},
        )
        accept_windows(done, actor=eng)
        prepare(done, dev, at(-20, -1))
        start_update(done, actor=cse, environment=dev)
        post_status(done, actor=cse, message="Appliance packages installed; running migrations.")
        finish_update(done, actor=cse, scripts="none required")
        record_test(done, actor=eng, result="passed", notes="Logins, MFA and SSO to our apps.")
        prepare(done, prod, at(-17, -1))
        start_update(done, actor=cse, environment=prod)
        finish_update(done, actor=cse, scripts="post-update reindex (12 minutes)")

        current = propose_cycle(
            engagement,
            actor=cse,
            release="2026.12.1",
            release_notes_url="https://support.example.com/psaas/releases/2026.12.1",
            windows={dev: (at(-1), at(-1, 4)), prod: (at(6), at(6, 4))},
        )
        accept_windows(current, actor=eng)
        prepare(current, dev, at(0, -1))
        start_update(current, actor=cse, environment=dev)
        finish_update(current, actor=cse, scripts="none required")
        record_test(
            current,
            actor=eng,
            result="failed",
            notes="Password reset emails are not sent since the update (SMTP relay timeout).",
        )

        handover_time = (now + dt.timedelta(days=5)).replace(hour=15, minute=0)
        schedule_handover(
            engagement,
            actor=cse,
            starts_at=handover_time,
            attendee_ids=[cse.pk, eng.pk],
            location="https://meet.example.com/acme-psaas-handover",
        )

        # As if the appliance had gone live at kickoff: backups daily, monitoring monthly.
        kickoff = timezone.make_aware(
            dt.datetime.combine(engagement.kickoff_date, dt.time(9, 0)), dt.UTC
        )
        for duty in engagement.duties.all():
            StandingDuty.objects.filter(pk=duty.pk).update(
                created_at=kickoff, due_at=kickoff + dt.timedelta(days=duty.cadence_days)
            )
        backup = engagement.duties.get(kind=DutyKind.BACKUP)
        for days_ago, result, notes in [
            (39.5, AttestationResult.SUCCEEDED, ""),  # on time
            (33, AttestationResult.SUCCEEDED, ""),  # late: due 38.5 days ago
            (32, AttestationResult.FAILED, "Backup volume full; cleaned up and re-ran."),
            (1.2, AttestationResult.SUCCEEDED, ""),  # late again
            (0.2, AttestationResult.SUCCEEDED, ""),  # on time
        ]:
            when = now - dt.timedelta(days=days_ago)
            record_attestation(
                backup,
                actor=eng,
                attestation=AttestationIn(
                    performed_at=when,
                    result=result,
                    tool="PSaaS Appliance Command-Line Tools",
                    reference=f"backup-{when:%Y%m%d-%H%M}.tar.gz",
                    size_bytes=2_400_000_000 if result == AttestationResult.SUCCEEDED else None,
                    notes=notes,
                ),
            )
        record_attestation(
            engagement.duties.get(kind=DutyKind.MONITORING),
            actor=eng,
            attestation=AttestationIn(
                performed_at=now - dt.timedelta(days=12),
                result=AttestationResult.SUCCEEDED,
                monitored="VM CPU, memory and disk; appliance /health; certificate expiry",
                alerts_to="Acme on-call (PagerDuty), infra@acme.example",
            ),
        )
        issue = raise_issue(
            engagement,
            actor=eng,
            title="Dashboard slow to load user search",
            environment=prod,
            severity=Severity.MEDIUM,
            description="User search in the Dashboard takes 8-10 s for common names.",
            ticket_reference="SC-20417",
        )
        move_issue(issue, actor=cse, to=IssueState.INVESTIGATING)
