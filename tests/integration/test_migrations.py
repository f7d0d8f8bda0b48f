"""The portal's own migrations apply forwards, back to zero and forwards again on an empty
database (PostgreSQL in CI). Django's and guardian's are theirs to keep reversible."""

from __future__ import annotations

import pytest

from tests.integration.test_backup_restore import fresh_database, manage  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)
OURS = ("portal", "engagements", "raci")


def test_our_migrations_forwards_back_and_forwards_again(fresh_database):  # noqa: F811
    url, _ = fresh_database
    forwards = manage(url, "migrate", "--noinput")
    assert forwards.returncode == 0, forwards.stderr
    for app in OURS:
        back = manage(url, "migrate", app, "zero", "--noinput")
        assert back.returncode == 0, f"{app}: {back.stderr[-2000:]}"
    listed = manage(url, "showmigrations", *OURS).stdout
    assert "[X]" not in listed and "[ ]" in listed
    again = manage(url, "migrate", "--noinput")
    assert again.returncode == 0, again.stderr
    assert "[ ]" not in manage(url, "showmigrations", *OURS).stdout


@pytest.mark.django_db(transaction=True)
def test_the_act_permission_goes_forwards_and_comes_back_backwards(engagement_a, engineer_a):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    def act_rows(apps):
        Row = apps.get_model("engagements", "EngagementUserObjectPermission")
        return set(
            Row.objects.filter(permission__codename="act_on_engagement").values_list(
                "user_id", "content_object_id"
            )
        )

    before, after = (
        [("engagements", "0006_notification_retry_at")],
        [("engagements", "0007_drop_act_permission")],
    )
    executor = MigrationExecutor(connection)
    executor.migrate(before)  # backwards through 0007: every member may act again
    executor.loader.build_graph()
    old = executor.loader.project_state(before).apps
    assert (engineer_a.pk, engagement_a.pk) in act_rows(old)
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor.loader.build_graph()
    assert act_rows(executor.loader.project_state(after).apps) == set()
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_old_fixed_checklist_items_take_their_definitions_from_the_template_version(
    engagement_a,
):
    """Before 0009 items were a fixed enum with a free-text value; after it, each item has
    the label, requirement and kind its version's item gives (raci 0003 seeds every existing
    version with the seed's items), and keeps its free text to show."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("engagements", "0008_member_roles"), ("raci", "0002_due_offset_limit")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    executor.loader.build_graph()
    old = executor.loader.project_state(before).apps
    Item = old.get_model("engagements", "ChecklistItem")
    Item.objects.filter(checklist__engagement_id=engagement_a.pk, key="smtp_servers").update(
        value="smtp.example.com:587"
    )
    assert Item.objects.filter(checklist__engagement_id=engagement_a.pk).count() == 18
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from engagements.models import ChecklistItem

    items = ChecklistItem.objects.filter(checklist__engagement=engagement_a)
    assert items.count() == 18
    smtp = items.filter(key="smtp_servers").first()
    assert (smtp.label, smtp.kind, smtp.required, smtp.value, smtp.parts) == (
        "SMTP server",
        "host_port",
        True,
        "smtp.example.com:587",
        {},
    )
    assert items.get(checklist__environment="development", key="processors").max_value == 512
    assert [i.key for i in items.filter(checklist__environment="production")][:2] == [
        "memory",
        "storage",
    ]
