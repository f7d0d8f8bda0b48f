"""Shared fixtures: the personas, and real services (required in CI, skipped locally when absent)."""

from __future__ import annotations

import logging
import os
import sys

import pytest
from django.contrib.auth.models import Group, Permission

from engagements.choices import OrganizationKind
from tests import logscrub
from tests.factories import (
    OrganizationFactory,
    UserFactory,
    make_engagement,
    seed_version,
    staff,
)

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES", "") not in ("", "0")


def service_missing(what: str) -> None:
    """A missing service fails in CI (REQUIRE_SERVICES=1) and skips on a developer's machine."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (REQUIRE_SERVICES=1) but not available", pytrace=False)
    pytest.skip(f"{what} not available (set it up, or run .ci/run)")


# --- Personas ---------------------------------------------------------------------


@pytest.fixture
def template_version(db):
    return seed_version()


@pytest.fixture
def vendor_org(db):
    return OrganizationFactory(name="Auth0", kind=OrganizationKind.VENDOR)


@pytest.fixture
def org_a(db):
    return OrganizationFactory(name="Subscriber A")


@pytest.fixture
def org_b(db):
    return OrganizationFactory(name="Subscriber B")


@pytest.fixture
def admin_user(vendor_org):
    group, _ = Group.objects.get_or_create(name="Portal admins")
    group.permissions.add(
        Permission.objects.get(codename="administer_portal"),
        Permission.objects.get(codename="change_templateversion"),
    )
    user = UserFactory(username="admin", organization=vendor_org)
    user.groups.add(group)
    return user


@pytest.fixture
def cse(vendor_org):
    return UserFactory(username="cse", organization=vendor_org)


@pytest.fixture
def vendor_outsider(vendor_org):
    """A vendor employee who is a member of no engagement."""
    return UserFactory(username="vendor-outsider", organization=vendor_org)


@pytest.fixture
def engineer_a(org_a):
    return UserFactory(username="engineer-a", organization=org_a)


@pytest.fixture
def engineer_b(org_b):
    return UserFactory(username="engineer-b", organization=org_b)


@pytest.fixture
def engagement_a(template_version, org_a, cse, engineer_a):
    engagement = make_engagement(org_a, "Appliance A", version=template_version)
    staff(engagement, cse, engineer_a)
    return engagement


@pytest.fixture
def engagement_b(template_version, org_b, cse, engineer_b):
    engagement = make_engagement(org_b, "Appliance B", version=template_version)
    staff(engagement, cse, engineer_b)
    return engagement


@pytest.fixture
def client_for(client):
    """A logged-in Django test client for a persona: client_for(engineer_a)."""

    def login(user):
        client.force_login(user)
        return client

    return login


def task_of(engagement, key: str, environment: str = ""):
    return engagement.tasks.prefetch_related("parties__party").get(key=key, environment=environment)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 is the production hasher; tests create many users, so they hash quickly."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_drain_marked_queued():
    """The "a drain is queued" marker (engagements.wakeup) lives in the broker's Redis for a
    few seconds: one left by the test before (whose drain no worker ran) would keep this
    test's commits from asking for delivery."""
    from engagements import wakeup

    wakeup.clear()


# --- Log scrubbing over the whole session --------------------------------------------
# Every record reaching the root logger is kept; at the end of the session the records and
# the *.log files of the processes the tests started are searched for the known passwords
# and for every session id and token the run produced. A find fails the run.

SECRETS = logscrub.Secrets()
_RECORDER = logscrub.LogRecorder()


def register_secret(value: str | None, kind: str) -> None:
    """A value no log line of this run may contain (a token, a cookie, a password)."""
    SECRETS.add(value, kind)


def _remember_session_id(sender, request=None, user=None, **kwargs) -> None:
    session = getattr(request, "session", None)
    if session is not None:
        register_secret(session.session_key, "session id")


@pytest.fixture(scope="session", autouse=True)
def _log_scrubber():
    from django.contrib.auth.signals import user_logged_in

    from engagements import models as engagement_models
    from engagements.actions import feeds, tokens

    user_logged_in.connect(_remember_session_id, dispatch_uid="tests.logscrub")
    # Every attestation token and calendar feed secret the run makes is a secret too.
    original_token, original_feed = tokens.create_attestation_token, feeds.rotate_calendar_feed

    def create_attestation_token(*args, **kwargs):
        token, raw = original_token(*args, **kwargs)
        register_secret(raw, "attestation token")
        return token, raw

    def rotate_calendar_feed(*args, **kwargs):
        raw = original_feed(*args, **kwargs)
        register_secret(raw, "calendar feed secret")
        return raw

    original_invitation = engagement_models.sign_invitation

    def sign_invitation(*args, **kwargs):
        token = original_invitation(*args, **kwargs)
        register_secret(token, "invitation token")
        return token

    # Wherever the portal's modules hold the functions (they import them by name).
    for module in [
        m for name, m in sys.modules.items() if name.startswith(("engagements", "accounts"))
    ]:
        if getattr(module, "create_attestation_token", None) is original_token:
            module.create_attestation_token = create_attestation_token
        if getattr(module, "rotate_calendar_feed", None) is original_feed:
            module.rotate_calendar_feed = rotate_calendar_feed
        if getattr(module, "sign_invitation", None) is original_invitation:
            module.sign_invitation = sign_invitation
    logging.getLogger().addHandler(_RECORDER)
    _RECORDER.active = True
    yield _RECORDER
    _RECORDER.active = False
    logging.getLogger().removeHandler(_RECORDER)


def pytest_runtest_setup(item):
    # Kept attached even if something reconfigured logging during the run.
    root = logging.getLogger()
    if getattr(_RECORDER, "active", False) and _RECORDER not in root.handlers:
        root.addHandler(_RECORDER)


def pytest_sessionfinish(session, exitstatus):
    sources = list(_RECORDER.lines)
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is not None and factory._basetemp is not None:
        sources += logscrub.process_logs(factory.getbasetemp())
    leaks = logscrub.find_leaks(sources, SECRETS)
    if not leaks:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"LOG SCRUB FAILED: {len(leaks)} secret(s) found in the logs of this run"]
    lines += [f"  a {leak.secret_kind} in {leak.where}: {leak.excerpt}" for leak in leaks]
    for line in lines:
        if reporter is not None:
            reporter.write_line(line, red=True)
        else:
            print(line)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
