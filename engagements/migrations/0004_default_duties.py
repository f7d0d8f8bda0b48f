"""Engagements created before standing duties existed get the default backup and
monitoring duties (where their template has those tasks). Their clocks start now where the
appliance is already live (the Production deployment signed off), else at go-live."""

import datetime as dt

from django.db import migrations
from django.utils import timezone

DEFAULTS = {"backup": (1, 1), "monitoring": (30, 7)}  # cadence, grace (days)


def add_duties(apps, schema_editor):
    EngagementTask = apps.get_model("engagements", "EngagementTask")
    StandingDuty = apps.get_model("engagements", "StandingDuty")
    now = timezone.now()
    live = set(
        EngagementTask.objects.filter(
            key="deployment", environment="production", status="signed_off"
        ).values_list("engagement_id", flat=True)
    )
    pairs = set(
        EngagementTask.objects.filter(key__in=DEFAULTS, retired_at__isnull=True).values_list(
            "engagement_id", "key"
        )
    )
    StandingDuty.objects.bulk_create(
        [
            StandingDuty(
                engagement_id=engagement_id,
                kind=key,
                cadence_days=DEFAULTS[key][0],
                grace_days=DEFAULTS[key][1],
                due_at=now + dt.timedelta(days=DEFAULTS[key][0]) if engagement_id in live else None,
                created_at=now,
            )
            for engagement_id, key in sorted(pairs)
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [("engagements", "0003_operations")]

    operations = [migrations.RunPython(add_duties, migrations.RunPython.noop)]
