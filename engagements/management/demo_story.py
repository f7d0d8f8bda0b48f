"""The demo's story, told through the services at the times it happened.

Three engagements at three stages: Globex in infrastructure (its Development checklist
returned with a comment), Initech between deployments (Development deployed and signed off,
Production under way), Acme live (onboarding done in order, an Operations Handover held
before its due date, two update cycles, backups and monitoring since go-live, issues).

Every step goes through the same service a person's click would, so nothing happens before
its prerequisites. To spread the events over the weeks since kickoff, `Clock.at` moves
Django's clock (django.utils.timezone.now) back to the step's time while it runs: the demo
loader alone writes historical times, and every rule (due dates, windows in the future,
duty timeliness) is checked against the time of the step.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

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
from engagements.actions.handover import record_handover_held, schedule_handover
from engagements.actions.issues import move_issue, raise_issue
from engagements.actions.tasks import add_comment, sign_off_task, transition_task
from engagements.choices import AttestationResult, DutyKind, Environment, IssueState, Severity
from engagements.choices import TaskStatus as S
from raci.models import Party

DEV, PROD = Environment.DEVELOPMENT, Environment.PRODUCTION


class Clock:
    """Days relative to today; `at` runs a block as if it were then (one second per read
    of the clock, so the events of a step keep their order)."""

    def __init__(self) -> None:
        self.now = timezone.now().replace(microsecond=0)

    def day(self, days: float, hour: int = 10) -> dt.datetime:
        base = (self.now + dt.timedelta(days=days)).replace(hour=hour, minute=0, second=0)
        return min(base, self.now)

    @contextmanager
    def at(self, days: float, hour: int = 10) -> Iterator[dt.datetime]:
        start = self.day(days, hour)
        ticks = itertools.count()
        with mock.patch(
            "django.utils.timezone.now",
            side_effect=lambda: start + dt.timedelta(seconds=next(ticks)),
        ):
            yield start


def checklist_values(when: dt.date, env: str, org: str) -> dict[str, dict]:
    host = f"{org}.example"
    tag = "dev" if env == DEV else "prod"
    values = {
        "memory": "32",
        "storage": "200",
        "processors": "8",
        "load_balancers": f"lb-{tag}.{host}",
        "networks": "10.20.0.0/24\n10.20.1.0/24" if env == DEV else "10.30.0.0/24",
        "ssl_certificates": {
            "subject": f"CN=login-{tag}.{host}",
            "expires": (when + dt.timedelta(days=365)).isoformat(),
        },
        "dns_records": f"login-{tag}.{host} CNAME lb-{tag}.{host}",
        "smtp_servers": {"host": f"smtp.{host}", "port": "587"},
        "vendor_access": {"method": "jumphost", "address": f"jump.{host}"},
    }
    return {key: {"value": value, "confirmed": True} for key, value in values.items()}


def vms(env: str, count: int = 3) -> list[dict]:
    tag = "dev" if env == DEV else "prod"
    net = "10.20.0" if env == DEV else "10.30.0"
    return [
        {
            "name": f"psaas-{tag}-{n}",
            "address": f"{net}.{10 + n}",
            "processors": "8",
            "memory_gb": "32",
            "storage_gb": "200",
        }
        for n in range(1, count + 1)
    ]


class Story:
    def __init__(self, users: dict) -> None:
        self.clock = Clock()
        self.cse = users["cse"]
        self.users = users

    def task(self, engagement, key: str, env: str = ""):
        return engagement.tasks.get(key=key, environment=env)

    def move(self, engagement, key: str, env: str, actor, *statuses, reason: str = "") -> None:
        for status in statuses:
            transition_task(
                self.task(engagement, key, env),
                to=status,
                actor=actor,
                reason=reason if status in (S.BLOCKED, S.NOT_APPLICABLE) else "",
            )

    def sign(self, engagement, key: str, env: str, actor, comment: str = "") -> None:
        sign_off_task(self.task(engagement, key, env), actor=actor, comment=comment)

    def checklist(self, engagement, env, engineer, days, *, returned_first=False, accept=True):
        """The subscriber fills the environment's checklist and submits it; the vendor
        accepts it (completing Preparing VM Infrastructure) or returns it with a comment."""
        org = engagement.organization.name.split()[0].lower()
        checklist = engagement.checklists.get(environment=env)
        values = checklist_values(self.clock.day(days).date(), env, org)
        with self.clock.at(days - 3):
            save_checklist(checklist, actor=engineer, items=values, vms=vms(env))
        with self.clock.at(days - 1, 16):
            checklist.refresh_from_db()
            save_checklist(checklist, actor=engineer, items=values, vms=vms(env), submit=True)
        if returned_first:
            with self.clock.at(days, 11):
                checklist.refresh_from_db()
                review_checklist(
                    checklist,
                    actor=self.cse,
                    accept=False,
                    comment="Please add the second DNS record for the admin console and "
                    "confirm the jumphost allows our SSH key.",
                )
            if not accept:
                return
            with self.clock.at(days + 1, 14):
                checklist.refresh_from_db()
                save_checklist(checklist, actor=engineer, items=values, vms=vms(env), submit=True)
            days += 2
        if accept:
            with self.clock.at(days, 15):
                checklist.refresh_from_db()
                review_checklist(checklist, actor=self.cse, accept=True, comment="All in place.")
            with self.clock.at(days, 17):
                self.sign(engagement, "infrastructure", env, engineer, "Checklist accepted.")

    def deploy(self, engagement, env, days) -> None:
        with self.clock.at(days, 9):
            self.move(engagement, "deployment", env, self.cse, S.IN_PROGRESS)
        with self.clock.at(days + 1, 12):
            self.move(engagement, "deployment", env, self.cse, S.DONE)
        with self.clock.at(days + 1, 16):
            self.sign(engagement, "deployment", env, self.cse, f"{env.title()} is deployed.")

    def configure(self, engagement, env, engineer, days, *, finish=True) -> None:
        with self.clock.at(days, 10):
            self.move(engagement, "configuration", env, engineer, S.IN_PROGRESS)
        if finish:
            with self.clock.at(days + 3, 15):
                self.move(engagement, "configuration", env, engineer, S.DONE)
            with self.clock.at(days + 3, 16):
                self.sign(engagement, "configuration", env, engineer)

    # --- The three engagements ------------------------------------------------------------

    def globex(self, engagement) -> None:
        """In infrastructure: the Development checklist came back with a comment."""
        engineer = self.users["globex-engineer"]
        self.checklist(engagement, DEV, engineer, -4, returned_first=True, accept=False)
        with self.clock.at(-2):
            self.move(engagement, "infrastructure", PROD, engineer, S.IN_PROGRESS)

    def initech(self, engagement) -> None:
        """Between deployments: Development deployed and being configured, Production's
        infrastructure accepted and its deployment under way."""
        engineer = self.users["initech-engineer"]
        self.checklist(engagement, DEV, engineer, -27)
        self.deploy(engagement, DEV, -24)
        self.configure(engagement, DEV, engineer, -21, finish=False)
        self.checklist(engagement, PROD, engineer, -12, returned_first=True)
        with self.clock.at(-3, 9):
            self.move(engagement, "deployment", PROD, self.cse, S.IN_PROGRESS)
        with self.clock.at(-18, 14):
            add_comment(
                self.task(engagement, "code_integration"),
                actor=engineer,
                body="Which SDK version should our login app use against the appliance?",
                addressed_to=Party.objects.get(name="Auth0"),
            )

    def acme(self, engagement) -> None:
        """Live for seven weeks, onboarding done in order."""
        engineer = self.users["acme-engineer"]
        self.checklist(engagement, DEV, engineer, -64, returned_first=True)
        self.checklist(engagement, PROD, engineer, -57)
        self.deploy(engagement, DEV, -55)
        self.configure(engagement, DEV, engineer, -53)
        self.deploy(engagement, PROD, -50)  # signed off on day -49: Acme goes live
        self.configure(engagement, PROD, engineer, -47)
        with self.clock.at(-45, 11):
            self.move(engagement, "code_integration", "", engineer, S.IN_PROGRESS)
        with self.clock.at(-44, 9):
            handover = schedule_handover(
                engagement,
                actor=self.cse,
                starts_at=self.clock.day(-40, 15),
                attendee_ids=[self.cse.pk, engineer.pk],
                location="https://meet.example.com/acme-psaas-handover",
            )
        with self.clock.at(-40, 17):
            record_handover_held(
                handover,
                actor=self.cse,
                notes="Walked through monitoring, backups with the Command-Line Tools, and "
                "the update cycle.",
                questions_answered="Snapshot retention; who to page at night.",
            )
        with self.clock.at(-39, 9):
            self.sign(engagement, "handover", "", self.cse, "Handover held on 90 minutes.")
        with self.clock.at(-20, 16):
            self.move(engagement, "code_integration", "", engineer, S.DONE)
        with self.clock.at(-19, 10):
            self.sign(engagement, "code_integration", "", engineer)
        with self.clock.at(-12, 10):
            self.move(engagement, "user_migration", "", engineer, S.IN_PROGRESS)
        self.operate_acme(engagement, engineer)

    def operate_acme(self, engagement, engineer) -> None:
        """After go-live: backups daily and monitoring monthly, a completed update cycle and
        a current one whose Development test failed, an issue under investigation."""
        backup = engagement.duties.get(kind=DutyKind.BACKUP)
        for days, hour, result in [
            (-48, 2, AttestationResult.SUCCEEDED),
            (-46, 14, AttestationResult.SUCCEEDED),  # late
            (-45, 2, AttestationResult.FAILED),
            (-44, 2, AttestationResult.SUCCEEDED),
            (-1, 2, AttestationResult.SUCCEEDED),  # late again
            (0, 2, AttestationResult.SUCCEEDED),
        ]:
            with self.clock.at(days, hour) as when:
                record_attestation(
                    backup,
                    actor=engineer,
                    attestation=AttestationIn(
                        performed_at=when,
                        result=result,
                        tool="PSaaS Appliance Command-Line Tools",
                        reference=f"backup-{when:%Y%m%d-%H%M}.tar.gz",
                        size_bytes=2_400_000_000 if result == AttestationResult.SUCCEEDED else None,
                        notes="Backup volume full; cleaned up and re-ran."
                        if result == AttestationResult.FAILED
                        else "",
                    ),
                )
        with self.clock.at(-12, 9) as when:
            record_attestation(
                engagement.duties.get(kind=DutyKind.MONITORING),
                actor=engineer,
                attestation=AttestationIn(
                    performed_at=when,
                    result=AttestationResult.SUCCEEDED,
                    monitored="VM CPU, memory and disk; appliance /health; certificate expiry",
                    alerts_to="Acme on-call (PagerDuty), infra@acme.example",
                ),
            )
        self.update_cycle(engagement, engineer, "2026.10.2", -30, fails=False)
        self.update_cycle(engagement, engineer, "2026.12.1", -2, fails=True)
        with self.clock.at(-1, 13):
            issue = raise_issue(
                engagement,
                actor=engineer,
                title="Dashboard slow to load user search",
                environment=PROD,
                severity=Severity.MEDIUM,
                description="User search in the Dashboard takes 8-10 s for common names.",
                ticket_reference="SC-20417",
            )
        with self.clock.at(0, 9):
            move_issue(issue, actor=self.cse, to=IssueState.INVESTIGATING)

    def update_cycle(self, engagement, engineer, release: str, days: int, *, fails: bool):
        def window(offset: float) -> tuple[dt.datetime, dt.datetime]:
            start = (self.clock.now + dt.timedelta(days=days + offset)).replace(
                hour=20, minute=0, second=0
            )
            return start, start + dt.timedelta(hours=3)

        def prepare(env: str, offset: float) -> None:
            with self.clock.at(days + offset, 18) as when:
                record_preparation(
                    cycle,
                    actor=engineer,
                    environment=env,
                    snapshots=[
                        SnapshotIn(vm["name"], f"snap-{vm['name']}-{when:%Y%m%d}", when)
                        for vm in vms(env)
                    ],
                    access_provided=True,
                    present="Alex Acme (infrastructure), on-call DBA",
                )

        with self.clock.at(days - 4, 10):
            cycle = propose_cycle(
                engagement,
                actor=self.cse,
                release=release,
                release_notes_url=f"https://support.example.com/psaas/releases/{release}",
                windows={DEV: window(0), PROD: window(3)},
            )
        with self.clock.at(days - 3, 9):
            accept_windows(cycle, actor=engineer)
        prepare(DEV, 0)
        with self.clock.at(days, 20):
            start_update(cycle, actor=self.cse, environment=DEV)
        with self.clock.at(days, 21):
            post_status(cycle, actor=self.cse, message="Packages installed; running migrations.")
        with self.clock.at(days, 22):
            finish_update(cycle, actor=self.cse, scripts="none required")
        with self.clock.at(days + 1, 11):
            record_test(
                cycle,
                actor=engineer,
                result="failed" if fails else "passed",
                notes="Password reset emails are not sent since the update (SMTP relay timeout)."
                if fails
                else "Logins, MFA and SSO to our apps.",
            )
        if fails:
            return
        prepare(PROD, 3)
        with self.clock.at(days + 3, 20):
            start_update(cycle, actor=self.cse, environment=PROD)
        with self.clock.at(days + 3, 22):
            finish_update(cycle, actor=self.cse, scripts="post-update reindex (12 minutes)")
