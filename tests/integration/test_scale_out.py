"""Scale-out on one machine: two gunicorn instances, two Celery workers and one beat against
one PostgreSQL and one Redis, each on its own loopback port. Status changes go in through
both web instances; every notification is emailed once and every reminder once."""

from __future__ import annotations

import datetime as dt
import http.client
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from engagements import reminders as reminder_sweeps
from engagements.choices import Channel, ReminderKind, TaskStatus
from engagements.models import EngagementTask, Notification
from psaas_portal import settings as project_settings
from tests.conftest import register_secret, service_missing, task_of
from tests.factories import PASSWORD
from tests.integration.conftest import (
    Worker,
    _database_url_for_tests,
    free_port,
    wait_until,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

CHANGES_PER_ENGINEER = 16  # two engineers: 32 status changes, 32 emails to the CSE
OVERDUE = ["backup", "code_integration", "update_testing"]  # engineer A is Responsible
SECRET_KEY = "a-long-random-secret-key-for-the-scale-out-test-0123456789abcdef"


def production_env(redis_url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": _database_url_for_tests(),
        "CELERY_BROKER_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


class Web:
    """One gunicorn instance (deploy/gunicorn.conf.py, DEBUG off) on its own port."""

    def __init__(self, name: str, env: dict[str, str], log: Path):
        self.port = free_port()
        self.log = log
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py"],
            cwd=settings.BASE_DIR,
            env={**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": "2"},
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self) -> None:
        def up() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                return conn.getresponse().status == 200
            except OSError:
                return False

        wait_until(up, 30, f"gunicorn on port {self.port}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


class Browser:
    """One person's cookies, sent to whichever web instance a request goes to, as the
    TLS-terminating proxy in front of both would forward it."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def request(self, web: Web, method: str, path: str, form: dict | None = None):
        headers = {"X-Forwarded-Proto": "https"}
        body = None
        if form is not None:
            form = {**form, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
            body = urlencode(form)
            headers.update(
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Origin": f"https://127.0.0.1:{web.port}",
                }
            )
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=15)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
        finally:
            conn.close()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
                register_secret(self.cookies[key.strip()], f"cookie {key.strip()}")
        return response

    def sign_in(self, web: Web, username: str) -> None:
        assert self.request(web, "GET", "/accounts/login/").status == 200
        response = self.request(
            web, "POST", "/accounts/login/", {"username": username, "password": PASSWORD}
        )
        assert response.status == 302, response.status
        assert response.getheader("Location") == "/"


def drive_changes(browser: Browser, webs: list[Web], task, n: int, errors: list) -> None:
    """n status changes on one task, alternating between the web instances."""
    try:
        for i in range(n):
            revision = EngagementTask.objects.get(pk=task.pk).revision
            to = TaskStatus.IN_PROGRESS if i % 2 == 0 else TaskStatus.NOT_STARTED
            response = browser.request(
                webs[i % 2],
                "POST",
                f"/tasks/{task.pk}/transition/",
                {"to": to, "revision": revision, "reason": ""},
            )
            assert response.status == 302, (i, response.status)
            assert EngagementTask.objects.get(pk=task.pk).revision == revision + 1
    except BaseException as exc:  # reported by the test's thread
        errors.append(exc)
    finally:
        connection.close()  # this thread's own connection, or the test database stays in use


def test_two_web_two_workers_one_beat_deliver_every_email_once(
    tmp_path,
    redis_server,
    start_worker,
    smtp_server,
    engagement_a,
    engagement_b,
    engineer_a,
    engineer_b,
    cse,
    settings,
):
    if connection.vendor != "postgresql":
        service_missing(
            "PostgreSQL (DATABASE_URL=postgres://…): the scale-out run shares one PostgreSQL"
        )
    started = time.monotonic()
    # The web instances verify passwords with the production hashers (Argon2 first).
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    for person in (engineer_a, engineer_b):
        person.set_password(PASSWORD)
        person.save(update_fields=["password"])
    today = timezone.localdate()
    EngagementTask.objects.update(due_date=None)
    EngagementTask.objects.filter(engagement=engagement_a, key__in=OVERDUE).update(
        due_date=today - dt.timedelta(days=1)
    )

    static_root = tmp_path / "static"
    env = production_env(redis_server.url, STATIC_ROOT=str(static_root))
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
        timeout=120,
    )
    webs = [Web(name, env, tmp_path / f"gunicorn-{name}.log") for name in ("web1", "web2")]
    beat = None
    try:
        for worker in ("w1", "w2"):
            start_worker(worker, smtp=smtp_server)
        beat_log = tmp_path / "beat.log"
        beat = Worker(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "psaas_portal",
                    "beat",
                    "--loglevel=INFO",
                    f"--schedule={tmp_path / 'celerybeat-schedule'}",
                ],
                cwd=settings.BASE_DIR,
                env=production_env(
                    redis_server.url, REMINDER_SWEEP_SECONDS="10", NOTIFY_SWEEP_SECONDS="5"
                ),
                stdout=beat_log.open("w"),
                stderr=subprocess.STDOUT,
            ),
            beat_log,
        )
        for web in webs:
            web.wait_ready()

        # Each engineer signs in through a different instance; the session (in PostgreSQL)
        # then works on both.
        people = [(engineer_a, engagement_a), (engineer_b, engagement_b)]
        browsers = []
        for (person, _), web in zip(people, webs, strict=True):
            browser = Browser()
            browser.sign_in(web, person.username)
            browsers.append(browser)
        errors: list[BaseException] = []
        threads = [
            threading.Thread(
                target=drive_changes,
                args=(browser, webs, task_of(engagement, "monitoring"), CHANGES_PER_ENGINEER),
                kwargs={"errors": errors},
            )
            for browser, (_, engagement) in zip(browsers, people, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors

        # A reset link through gunicorn: its access log keeps the path without the token.
        token = "c0ffee-0123456789abcdef0123456789abcdef"
        register_secret(token, "reset token")
        Browser().request(webs[0], "GET", f"/accounts/reset/MQ/{token}/")

        # Reminders: beat's sweep every 10 s, and two more sweeps at once on the two workers.
        reminder_sweeps.send_reminders.delay()
        reminder_sweeps.send_reminders.delay()
        beat.wait_for("Sending due task send-reminders", timeout=30)

        changes = 2 * CHANGES_PER_ENGINEER
        expected = changes + len(OVERDUE)
        emails = Notification.objects.filter(channel=Channel.EMAIL)

        def all_sent() -> bool:
            return (
                emails.count() == expected
                and not emails.filter(sent_at__isnull=True).exists()
                and len(smtp_server.recorder.messages) >= expected
            )

        wait_until(all_sent, 60, f"{expected} emails sent")
        # Another beat sweep of each kind after everything was sent: it must send nothing.
        time.sleep(6)

        ids = smtp_server.recorder.message_ids()
        domain = settings.EMAIL_MESSAGE_ID_DOMAIN
        assert Counter(ids) == Counter(
            f"<notification-{pk}@{domain}>" for pk in emails.values_list("pk", flat=True)
        )  # every row's email arrived, and each exactly once
        assert len(ids) == expected
        reminders = emails.filter(kind=ReminderKind.OVERDUE)
        assert sorted(reminders.values_list("task__key", flat=True)) == sorted(OVERDUE)
        assert set(reminders.values_list("recipient", flat=True)) == {engineer_a.pk}
        assert Counter(smtp_server.recorder.to()) == {
            cse.email: changes,
            engineer_a.email: len(OVERDUE),
        }
        for web in webs:  # each instance served half of the changes
            transitions = web.log.read_text().count('/transition/ HTTP/1.1" 302')
            assert transitions == changes // 2, web.log.read_text()[-2000:]
        access = webs[0].log.read_text()
        assert "/accounts/reset/MQ/[redacted]/" in access and token not in access
        assert time.monotonic() - started < 90
    finally:
        for web in webs:
            web.stop()
        if beat is not None:
            beat.stop()
