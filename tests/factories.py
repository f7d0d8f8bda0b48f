"""factory_boy factories and the named personas the tests speak of."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model

from engagements.actions.engagements import create_engagement
from engagements.choices import Environment, OrganizationKind
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
):
    """An engagement of the seed template. Unless `in_order`, its tasks may go ahead before
    their prerequisites (test setup for tests about something else; the order itself is
    tested with in_order=True)."""
    engagement = create_engagement(
        organization=org,
        name=name,
        version=version or seed_version(),
        kickoff_date=kickoff or dt.date(2026, 1, 5),
    )
    if not in_order:
        let_go_ahead(engagement)
    return engagement


def let_go_ahead(engagement) -> None:
    from django.utils import timezone

    from engagements.models import EngagementTask

    EngagementTask.objects.filter(engagement=engagement).update(
        prerequisites_overridden_at=timezone.now(),
        prerequisites_override_reason="test setup: the order is not what this test is about",
    )


def update_windows(days: int = 3) -> dict:
    """A Development window `days` from now and a Production window two days after it."""
    from django.utils import timezone

    base = timezone.now().replace(microsecond=0) + dt.timedelta(days=days)
    return {
        Environment.DEVELOPMENT: (base, base + dt.timedelta(hours=4)),
        Environment.PRODUCTION: (base + dt.timedelta(days=2), base + dt.timedelta(days=2, hours=4)),
    }
