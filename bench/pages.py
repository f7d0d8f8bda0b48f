"""Pages against a trivial signed-in reference (issue 16, P1-P4): query counts and p50 ratios.

Builds the data sets through the services on the PostgreSQL database named by BENCH_PG
(it is emptied first: give it a database of its own), starts gunicorn on 127.0.0.1 with
DEBUG off, and measures each page alternately with `/healthz` sent with the same session
cookie (for the status-change POST: a POST to `/healthz` with the same session and CSRF
token, which passes the whole middleware stack, CSRF check included, and answers 405).
Three rounds; medians; the ratio is page p50 / reference p50 measured in the same round.
Query counts come from Django's test client in-process (CaptureQueriesContext).

    BENCH_PG=postgres://portal:portal@127.0.0.1:54330/portal_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:63800/6 .venv/bin/python bench/pages.py
    # --reuse: keep the data built by a previous run; --huge: add the 10,000-engagement
    # portfolio (slow to build); --seconds 4: duration of each measurement
"""

# ruff: noqa: RUF001
from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

from common import ROOT
from load import measure

PORT = int(os.environ.get("BENCH_PORT", "18431"))  # another free loopback port if taken
SECRET_KEY = "bench-pages-" + "k" * 50
SMALL_PORTFOLIO, HUGE_PORTFOLIO = 100, 10000
LARGE_PORTFOLIO = int(os.environ.get("BENCH_LARGE", "2000"))


def reset_database(url: str) -> None:
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE")
        cur.execute("CREATE SCHEMA public")
    conn.close()


def setup(url: str, *, fresh: bool) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "psaas_portal.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["SECRET_KEY"] = SECRET_KEY  # the sessions made here must verify in gunicorn
    import logging

    import django

    if fresh:
        reset_database(url)
    django.setup()
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- data -------------------------------------------------------------------------------


def template(n_tasks: int, name: str, *, subscriber_owns_all: bool = False):
    """A published template of n tasks: mixed letters (as tests/test_query_budgets.py), or
    the subscriber Responsible and Accountable for every task (My work's sizes)."""
    from raci.matrix import Cell, Matrix, Row
    from raci.services import create_version

    rows = [
        Row(
            name=f"Task {i}",
            key=f"t{i}",
            cells={
                "Auth0": Cell("C" if subscriber_owns_all or i % 2 == 0 else "RA"),
                "Subscriber": Cell("RA" if subscriber_owns_all or i % 2 == 0 else "I"),
            },
            tracking="once" if subscriber_owns_all or i % 5 else "per_environment",
            due_offset_days=i % 30,
        )
        for i in range(1, n_tasks + 1)
    ]
    matrix = Matrix(title=name, parties=[("Auth0", True), ("Subscriber", False)], rows=rows)
    return create_version(matrix, template_name=name, publish=True)


def person(username: str, org):
    from django.contrib.auth import get_user_model

    from engagements.models import Profile

    user = get_user_model().objects.create_user(username, f"{username}@example.com")
    Profile.objects.create(user=user, organization=org)
    return user


def subscriber(name: str):
    from engagements.choices import OrganizationKind
    from engagements.models import Organization

    return Organization.objects.create(name=name, kind=OrganizationKind.SUBSCRIBER)


def engagement_for(version, name: str, *, cse, engineer, started: int = 3, organization=None):
    """An engagement through the services, with its CSE (a manager) and a subscriber engineer,
    and its first `started` tasks in progress."""
    from engagements.actions.engagements import create_engagement
    from engagements.actions.membership import add_member
    from engagements.actions.tasks import transition_task
    from engagements.choices import TaskStatus
    from raci.models import Party

    vendor, sub = Party.objects.get(name="Auth0"), Party.objects.get(name="Subscriber")
    organization = organization or subscriber(name)
    if isinstance(engineer, str):  # a username: a new person of this subscriber
        engineer = person(engineer, organization)
    engagement = create_engagement(
        organization=organization,
        name=name,
        version=version,
        kickoff_date=dt.date.today() - dt.timedelta(days=10),
    )
    for user in cse if isinstance(cse, list) else [cse]:
        add_member(engagement, user, party=vendor, is_manager=True)
    add_member(engagement, engineer, party=sub)
    for task in engagement.tasks.order_by("pk")[:started]:
        letters = {p.party.name: p for p in task.parties.select_related("party")}
        actor = engineer if letters["Subscriber"].responsible else cse
        actor = actor[0] if isinstance(actor, list) else actor
        transition_task(task, to=TaskStatus.IN_PROGRESS, actor=actor)
    return engagement


def portfolio_engagements(version, upto: int, *, cse_small, cse_all) -> None:
    from engagements.models import Engagement

    have = Engagement.objects.filter(name__startswith="Portfolio ").count()
    started = time.monotonic()
    for i in range(have, upto):
        cses = [cse_all, cse_small] if i < SMALL_PORTFOLIO else [cse_all]
        engagement_for(
            version, f"Portfolio {i:05d}", cse=cses, engineer=f"bench-sub-{i}", started=0
        )
        if (i + 1) % 500 == 0:
            print(f"  {i + 1} engagements ({time.monotonic() - started:.0f} s)", flush=True)


def build(huge: bool) -> None:
    from engagements.choices import OrganizationKind
    from engagements.models import Organization
    from raci.services import load_seed_template

    started = time.monotonic()
    seed = load_seed_template()
    vendor = Organization.objects.create(name="Vendor", kind=OrganizationKind.VENDOR)
    cse, cse_small, cse_all = (
        person(n, vendor) for n in ("bench-cse", "bench-cse-small", "bench-cse-all")
    )
    cse_post = person("bench-cse-post", vendor)
    e12 = engagement_for(template(12, "Page 12"), "Engagement 12", cse=cse, engineer="bench-eng")
    engineer = e12.memberships.get(user__username="bench-eng").user
    engagement_for(
        template(200, "Page 200"),
        "Engagement 200",
        cse=cse,
        engineer=engineer,
        organization=e12.organization,
    )
    mine = dict(subscriber_owns_all=True)
    engagement_for(
        template(10, "Mine 10", **mine), "Mine 10", cse=cse, engineer="bench-eng-10", started=0
    )
    engagement_for(
        template(200, "Mine 200", **mine), "Mine 200", cse=cse, engineer="bench-eng-200", started=0
    )
    engagement_for(seed, "Post", cse=cse_post, engineer="bench-eng-post", started=0)
    portfolio_engagements(seed, LARGE_PORTFOLIO, cse_small=cse_small, cse_all=cse_all)
    if huge:
        portfolio_engagements(seed, HUGE_PORTFOLIO, cse_small=cse_small, cse_all=cse_all)
    analyze()
    print(f"built in {time.monotonic() - started:.0f} s", flush=True)


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --- what is measured -------------------------------------------------------------------


def targets(huge: bool) -> list[dict]:
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from engagements.models import Engagement, EngagementTask

    User = get_user_model()

    def user(name: str):
        return User.objects.get(username=name)

    def detail(name: str) -> str:
        return reverse("engagements:engagement-detail", args=[Engagement.objects.get(name=name).pk])

    post_task = EngagementTask.objects.get(engagement__name="Post", key="monitoring")
    rows = [
        dict(id="P1", page="engagement", size="12 tasks", user=user("bench-eng"), url=detail("Engagement 12")),
        dict(id="P1", page="engagement", size="200 tasks", user=user("bench-eng"), url=detail("Engagement 200")),
        dict(id="P2", page="portfolio", size=f"{SMALL_PORTFOLIO:,} engagements", user=user("bench-cse-small"), url=reverse("engagements:portfolio")),
        dict(id="P2", page="portfolio", size=f"{LARGE_PORTFOLIO if not huge else HUGE_PORTFOLIO:,} engagements", user=user("bench-cse-all"), url=reverse("engagements:portfolio")),
        dict(id="P3", page="My work", size="10 tasks", user=user("bench-eng-10"), url=reverse("engagements:my-work")),
        dict(id="P3", page="My work", size="200 tasks", user=user("bench-eng-200"), url=reverse("engagements:my-work")),
        dict(id="P4", page="status change POST", size="one task", user=user("bench-eng-post"), url=reverse("engagements:task-transition", args=[post_task.pk]), task=post_task),
    ]  # fmt: skip
    return rows


def count_queries(target: dict) -> int | str:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(target["user"], backend="django.contrib.auth.backends.ModelBackend")
    client.get("/healthz")  # a first request, as the session is then warm
    if "task" in target:
        counts = []
        for headers in ({}, {"HX-Request": "true"}):
            task = target["task"]
            task.refresh_from_db()
            to = "in_progress" if task.status == "not_started" else "not_started"
            with CaptureQueriesContext(connection) as ctx:
                response = client.post(
                    target["url"],
                    {"to": to, "reason": "", "revision": task.revision},
                    headers=headers,
                )
            assert response.status_code in (200, 302), response.status_code
            counts.append(len(ctx.captured_queries))
        return f"{counts[0]} ({counts[1]} htmx)"
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(target["url"])
    assert response.status_code == 200, (target["url"], response.status_code)
    return len(ctx.captured_queries)


def signed_in_cookie(user) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


# --- the server and the load generator ---------------------------------------------------


def warm(path: str, cookie: str, workers: int) -> None:
    """A few plain requests with a long timeout, so that every worker has imported and
    compiled what the page needs before wrk times it (wrk counts a 2 s wait as an error)."""
    import urllib.request

    for _ in range(2 * workers):
        request = urllib.request.Request(
            f"http://127.0.0.1:{PORT}{path}", headers={"Cookie": cookie}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 200, (path, response.status)


def start_gunicorn(url: str, workdir: Path, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "STATIC_ROOT": str(workdir / "static"),
        "GUNICORN_BIND": f"127.0.0.1:{PORT}",
        "WEB_CONCURRENCY": str(workers),
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    log = workdir / "gunicorn.log"
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    import urllib.request

    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=2)
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)


# --- main -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reuse", action="store_true", help="keep the data of a previous run")
    parser.add_argument("--huge", action="store_true", help="portfolio at 10,000 engagements")
    parser.add_argument("--seconds", type=float, default=4.0, help="each measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args()

    url = os.environ.get("BENCH_PG")
    if not url:
        sys.exit(
            "set BENCH_PG=postgres://user:password@127.0.0.1:5432/portal_bench (emptied by this script)"
        )
    if urlparse(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("BENCH_PG must point at a PostgreSQL on this machine (127.0.0.1)")
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
    setup(url, fresh=not args.reuse)

    from django.contrib.auth import get_user_model

    built = get_user_model().objects.filter(username="bench-cse-all").exists()
    if not built:
        build(args.huge)
    elif args.huge:
        from engagements.models import Engagement

        if Engagement.objects.filter(name__startswith="Portfolio ").count() < HUGE_PORTFOLIO:
            from raci.services import load_seed_template

            User = get_user_model()
            portfolio_engagements(
                load_seed_template(),
                HUGE_PORTFOLIO,
                cse_small=User.objects.get(username="bench-cse-small"),
                cse_all=User.objects.get(username="bench-cse-all"),
            )
            analyze()

    rows = targets(args.huge)
    for row in rows:
        row["queries"] = count_queries(row)
        row["cookie"] = signed_in_cookie(row["user"])
        row["ratios"], row["p50s"], row["refs"] = [], [], []

    workdir = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    server = start_gunicorn(url, workdir, args.workers)
    try:
        for row in rows:  # warm each worker's caches once (patient: a cold worker is slow)
            warm(row["url"] if "task" not in row else "/healthz", row["cookie"], args.workers)
        for r in range(args.rounds):
            for row in rows:
                post = "task" in row
                ref = measure(
                    PORT,
                    "/healthz",
                    cookie=row["cookie"],
                    seconds=args.seconds,
                    method="POST" if post else "GET",
                    expect=405 if post else 200,  # the reference POST: CSRF passed, no view
                )
                page = measure(PORT, row["url"], cookie=row["cookie"], seconds=args.seconds, method="POST" if post else "GET", task=row.get("task"), expect=302 if post else 200)  # fmt: skip
                row["p50s"].append(page["p50"])
                row["refs"].append(ref["p50"])
                row["ratios"].append(page["p50"] / ref["p50"])
            print(f"round {r + 1} of {args.rounds} done", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
        from psaas_portal.celery import app

        app.control.purge()  # the POSTs' deliveries: no worker runs here

    goals = {
        "P1": ("8", {"12 tasks": 5, "200 tasks": 15}),
        "P2": ("8", None),
        "P3": ("6", None),
        "P4": ("10", None),
    }
    print()
    print(f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; gunicorn {args.workers} workers, DEBUG off; "
          f"{'wrk' if shutil.which('wrk') else 'python'} -c1, {args.seconds:g} s each, {args.rounds} rounds, medians")  # fmt: skip
    print()
    print("| id | page | size | queries (goal) | p50 | reference p50 | × reference (goal) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        qgoal, ratio_goals = goals[row["id"]]
        rgoal = {"P1": (ratio_goals or {}).get(row["size"]), "P2": 8, "P3": 5, "P4": 3}[row["id"]]
        print(
            f"| {row['id']} | {row['page']} | {row['size']} | {row['queries']} (≤ {qgoal}) "
            f"| {statistics.median(row['p50s']):.1f} ms | {statistics.median(row['refs']):.2f} ms "
            f"| {statistics.median(row['ratios']):.1f}× (≤ {rgoal}×) |"
        )
    p2 = [r for r in rows if r["id"] == "P2"]
    growth = statistics.median(p2[1]["p50s"]) / statistics.median(p2[0]["p50s"])
    print(
        f"\nP2: p50 at {p2[1]['size']} is {growth:.2f}× the p50 at {p2[0]['size']} (goal ≤ 1.2× at 10,000)"
    )


if __name__ == "__main__":
    main()
