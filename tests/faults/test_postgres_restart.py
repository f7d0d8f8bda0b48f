"""PostgreSQL restarted mid-burst, for real: a private PostgreSQL cluster (initdb in a temporary
directory) holds the demo data; a driver process makes status changes through the services
(as the web does), retrying a change the restart interrupted; a real worker delivers to the
relay; gunicorn serves pages. After the restart: no 500, every accepted change has its event,
every notification is delivered once."""

from __future__ import annotations

import glob
import http.cookiejar
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from engagements import tasks
from tests.conftest import service_missing
from tests.faults.conftest import Figures, stopwatch, wait_until
from tests.integration.conftest import free_port

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

FAST = {"NOTIFY_BACKOFF_BASE": "2", "NOTIFY_BACKOFF_MAX": "4", "NOTIFY_CLAIM_LEASE": "8"}
CHANGES = 40


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


class PrivatePostgres:
    """A throwaway cluster on 127.0.0.1 (as the postgres user when the tests run as root,
    since PostgreSQL refuses to run as root)."""

    def __init__(self):
        self.pg_ctl, self.initdb = _pg_bin("pg_ctl"), _pg_bin("initdb")
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="psaas-faults-pg-"))
        self.dir.chmod(0o755)
        self.data = self.dir / "data"
        self.url = f"postgres://portal:portal@127.0.0.1:{self.port}/portal"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        command = " ".join(args)
        if os.geteuid() == 0:
            argv = ["su", "postgres", "-s", "/bin/sh", "-c", f"cd / && {command}"]
        else:
            argv = ["/bin/sh", "-c", command]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120)

    def create(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        done = self._run(self.initdb, "-D", str(self.data), "-U", "portal", "-A", "trust")
        assert done.returncode == 0, done.stderr
        self.start()
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="portal", dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE portal")
        conn.close()

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data} -c fsync=off"
        done = self._run(
            self.pg_ctl,
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "server.log"),
            "-w",
            "-o",
            f"'{options}'",
            "start",
        )
        assert done.returncode == 0, done.stderr + done.stdout

    def stop(self) -> None:
        self._run(self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_postgres():
    if not (_pg_bin("pg_ctl") and _pg_bin("initdb")):
        service_missing("PostgreSQL server binaries (initdb, pg_ctl)")
    server = PrivatePostgres()
    try:
        server.create()
        yield server
    finally:  # a cluster that started is stopped, even when creating it failed halfway
        server.destroy()


def _env(url: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1", **extra}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


DRIVER = """
import os, time
from django.db import InterfaceError, OperationalError, connections
from engagements.actions.tasks import transition_task
from engagements.choices import TaskStatus
from engagements.models import Engagement, EngagementTask
from django.contrib.auth import get_user_model

n = int(os.environ["DRIVER_CHANGES"])
actor = get_user_model().objects.get(username="acme-engineer")
acme = Engagement.objects.get(name="Acme identity appliance")
task = EngagementTask.objects.get(engagement=acme, key="monitoring", environment="")
accepted, failures = 0, 0
deadline = time.monotonic() + 120  # bounded: never retries forever if the database is gone
while accepted < n and time.monotonic() < deadline:
    try:
        task.refresh_from_db()
        to = TaskStatus.NOT_STARTED if task.status == TaskStatus.IN_PROGRESS else TaskStatus.IN_PROGRESS
        transition_task(task, to=to, actor=actor)
        accepted += 1
        print("ACCEPTED", accepted, flush=True)
        time.sleep(0.1)
    except (OperationalError, InterfaceError):
        failures += 1
        connections.close_all()
        time.sleep(0.3)
print("DONE", accepted, failures, flush=True)
"""


class Web:
    """gunicorn on the private database; a signed-in browser session through it."""

    def __init__(self, url: str, broker: str, log: Path):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "psaas_portal.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--threads",
                "2",
                "--access-logfile",
                "-",
            ],
            cwd=settings.BASE_DIR,
            env=_env(url, CELERY_BROKER_URL=broker),
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        self.jar = jar

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=20) as response:
                return response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")
        except OSError:
            return 0, ""

    def sign_in(self, username: str, password: str) -> None:
        wait_until(lambda: self.get("/healthz")[0] == 200, 30, "gunicorn")
        _status, page = self.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token}
        ).encode()
        request = urllib.request.Request(
            self.base + "/accounts/login/", data=data, headers={"Referer": self.base + "/"}
        )
        with self.opener.open(request, timeout=20) as response:
            assert response.status == 200  # followed the redirect to My work
        assert any(c.name == "sessionid" for c in self.jar)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def test_postgres_restarted_mid_burst(
    private_postgres, start_worker, redis_server, relay, tmp_path
):
    url = private_postgres.url
    for command in (["migrate", "--noinput"], ["load_demo"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=settings.BASE_DIR,
            env=_env(url, CELERY_BROKER_URL=redis_server.url),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    import psycopg2

    def private(sql: str, *args):
        conn = psycopg2.connect(
            host="127.0.0.1", port=private_postgres.port, user="portal", dbname="portal"
        )
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                rows = cur.fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()

    def scalar(sql: str, *args) -> int:
        return private(sql, *args)[0][0]

    first_event = scalar("SELECT COALESCE(MAX(id), 0) FROM engagements_event")
    # Demo notifications are not this scenario's: settle them so only the burst's count.
    private(
        "UPDATE engagements_notification SET sent_at = now() WHERE sent_at IS NULL RETURNING id"
    )
    start_worker("wpg", smtp_port=relay.port, extra_env={"DATABASE_URL": url, **FAST})
    web = Web(url, redis_server.url, tmp_path / "gunicorn.log")
    driver = None
    try:
        web.sign_in("acme-engineer", "psaas-demo-2026")
        assert web.get("/engagements/")[0] == 200
        figures = Figures("PostgreSQL restarted mid-burst", changes=CHANGES, expected=0)
        driver_log = tmp_path / "driver.log"
        driver = subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", DRIVER],
            cwd=settings.BASE_DIR,
            env=_env(url, CELERY_BROKER_URL=redis_server.url, DRIVER_CHANGES=str(CHANGES)),
            stdout=driver_log.open("w"),
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: "ACCEPTED 10" in driver_log.read_text(), 60, "10 changes accepted")
        private_postgres.stop()
        down = stopwatch()
        time.sleep(2)
        private_postgres.start()
        driver.wait(timeout=90)
        out = driver_log.read_text()
        assert driver.returncode == 0, out[-2000:]
        accepted, failures = map(int, re.search(r"DONE (\d+) (\d+)", out).groups())
        # The web answers again, without a 500, once the database is back.
        statuses = [web.get(p)[0] for p in ("/engagements/", "/", "/notifications/")]
        assert statuses == [200, 200, 200], statuses
        # Every accepted change has its event.
        events = scalar(
            "SELECT COUNT(*) FROM engagements_event WHERE id > %s AND verb = %s",
            first_event,
            "task.status_changed",
        )
        assert events == accepted == CHANGES
        expected = scalar(
            "SELECT COUNT(*) FROM engagements_notification n JOIN engagements_event e "
            "ON n.event_id = e.id WHERE e.id > %s AND n.channel = 'email' AND NOT n.digest",
            first_event,
        )
        assert expected >= CHANGES  # the vendor's CSE at least, for each change

        def all_sent() -> bool:
            unsent = scalar(
                "SELECT COUNT(*) FROM engagements_notification WHERE sent_at IS NULL "
                "AND channel = 'email' AND NOT digest"
            )
            if unsent == 0:
                return True
            tasks.deliver_pending.delay()
            return False

        wait_until(all_sent, 60, "every notification sent after the restart", interval=1.5)
        figures.recover_s = stopwatch() - down
        time.sleep(1)
        figures.expected = expected
        figures.delivered, figures.duplicates = relay.handler.counts()
        figures.note = f"changes interrupted and retried={failures}"
        figures.record()
        assert (figures.delivered, figures.duplicates) == (expected, 0)
        access = (tmp_path / "gunicorn.log").read_text()
        assert '" 500 ' not in access, access[-2000:]
    finally:
        if driver is not None and driver.poll() is None:
            driver.kill()
            driver.wait(timeout=10)
        web.stop()
