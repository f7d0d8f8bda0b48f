"""factory_boy factories and the named personas the tests speak of."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import factory
from django.contrib.auth import get_user_model

from engagements.actions.engagements import create_engagement
from engagements.choices import Environment, OrganizationKind, Severity
from engagements.models import Organization, Profile
from raci.models import Party
from raci.services import load_seed_template

PASSWORD = "correct-horse-battery-staple"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Subscriber {n}")
    kind = OrganizationKind.SUBSCRIBER


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def organization(self, create, extracted, **kwargs):
        if create and extracted is not None:
            Profile.objects.update_or_create(user=self, defaults={"organization": extracted})


def seed_version():
    return load_seed_template()


def vendor_party() -> Party:
    return Party.objects.get(name="Auth0")


def subscriber_party() -> Party:
    return Party.objects.get(name="Subscriber")


def make_engagement(
    org: Organization,
    name: str = "Appliance",
    *,
    kickoff: dt.date | None = None,
    version=None,
    in_order: bool = False,
    environments: str = "both",
):
    """An engagement of the seed template (Development and Production, unless
    `environments="production"`). Unless `in_order`, its tasks may go ahead before
    their prerequisites (test setup for tests about something else; the order itself is
    tested with in_order=True)."""
    engagement = create_engagement(
        organization=org,
        name=name,
        version=version or seed_version(),
        kickoff_date=kickoff or dt.date(2026, 1, 5),
        environments=environments,
    )
    if not in_order:
        let_go_ahead(engagement)
    return engagement


def raise_production_issue(engagement, engineer, title: str = "Callback fails", **extra):
    """A high-severity production issue raised by the subscriber's engineer."""
    from engagements.actions.issues import raise_issue

    return raise_issue(
        engagement,
        actor=engineer,
        title=title,
        environment=Environment.PRODUCTION,
        severity=Severity.HIGH,
        description="Our app's login callback gets a 400.",
        **extra,
    )


def let_go_ahead(engagement) -> None:
    from django.utils import timezone

    from engagements.models import EngagementTask

    EngagementTask.objects.filter(engagement=engagement).update(
        prerequisites_overridden_at=timezone.now(),
        prerequisites_override_reason="test setup: the order is not what this test is about",
    )


def update_windows(days: float = 0) -> dict:
    """A Development window from an hour before now + `days`, five hours long (with the
    default, the Development update may start now), and a Production window right after it."""
    from django.utils import timezone

    base = timezone.now().replace(microsecond=0) + dt.timedelta(days=days, hours=-1)
    return {
        Environment.DEVELOPMENT: (base, base + dt.timedelta(hours=5)),
        Environment.PRODUCTION: (base + dt.timedelta(hours=5), base + dt.timedelta(hours=9)),
    }


@contextmanager
def in_window(cycle, environment: str, minutes: int = 1) -> Iterator[dt.datetime]:
    """Run a block as if it were `minutes` into the cycle's window for `environment` (one
    second later at each read of the clock, so events keep their order)."""
    import itertools
    from unittest import mock

    stage = cycle.stages.get(environment=environment)
    start = stage.window_start + dt.timedelta(minutes=minutes)
    ticks = itertools.count()
    with mock.patch(
        "django.utils.timezone.now", side_effect=lambda: start + dt.timedelta(seconds=next(ticks))
    ):
        yield start


def checklist_items(**overrides) -> dict[str, dict]:
    """A valid value, ticked, for each item of the seed template's checklist; `overrides`
    replace an item's value (a string, or a dict of its parts)."""
    from django.utils import timezone

    values = {
        "memory": "32",
        "storage": "200",
        "processors": "8",
        "load_balancers": "lb.example.com",
        "networks": "10.20.0.0/24",
        "ssl_certificates": {
            "subject": "CN=login.example.com",
            "expires": (timezone.localdate() + dt.timedelta(days=300)).isoformat(),
        },
        "dns_records": "login.example.com CNAME lb.example.com",
        "smtp_servers": {"host": "smtp.example.com", "port": "587"},
        "vendor_access": {"method": "vpn", "address": "vpn.example.com"},
        **overrides,
    }
    return {key: {"value": value, "confirmed": True, "note": ""} for key, value in values.items()}


def checklist_vms(n: int = 2) -> list[dict]:
    return [
        {
            "name": f"app-{i}",
            "address": f"10.20.0.{10 + i}",
            "processors": "8",
            "memory_gb": "32",
            "storage_gb": "200",
        }
        for i in range(1, n + 1)
    ]


def store_attachments_in(settings, folder):
    """Points the "attachments" storage at a folder of the test's own (a FileSystemStorage),
    so a test sees exactly the files it made; returns the folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(folder)},
        },
    }
    return folder


def staff(engagement, cse, engineer):
    """The usual two members: the CSE as the vendor's manager with the template's CSE role,
    the engineer in the subscriber's party as its infrastructure engineer. Returns the
    engagement."""
    from engagements.actions.membership import add_member

    add_member(
        engagement,
        cse,
        party=vendor_party(),
        roles=["Auth0 Customer Success Engineer"],
        is_manager=True,
    )
    add_member(
        engagement,
        engineer,
        party=subscriber_party(),
        roles=["subscriber's infrastructure engineer"],
    )
    return engagement
