"""The "act" object permission goes: it was granted to every member, so it never refused
anyone; who may act is the policy's (engagements.policy), read from the letters."""

from django.db import migrations


def drop_act(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    # Deleting the permission deletes its guardian rows (their foreign key cascades).
    Permission.objects.filter(
        content_type__app_label="engagements", codename="act_on_engagement"
    ).delete()


def restore_act(apps, schema_editor):
    """Backwards: the code before this migration checks "act" for every member."""
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    Membership = apps.get_model("engagements", "Membership")
    Row = apps.get_model("engagements", "EngagementUserObjectPermission")
    content_type, _ = ContentType.objects.get_or_create(app_label="engagements", model="engagement")
    act, _ = Permission.objects.get_or_create(
        content_type=content_type,
        codename="act_on_engagement",
        defaults={"name": "Can act for their party on the engagement"},
    )
    Row.objects.bulk_create(
        [
            Row(permission=act, user_id=m.user_id, content_object_id=m.engagement_id)
            for m in Membership.objects.all()
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("engagements", "0006_notification_retry_at"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="engagement",
            options={
                "ordering": ["organization__name", "name"],
                "permissions": [
                    ("administer_engagement", "Can administer the engagement"),
                    ("administer_portal", "Administers the portal: every engagement and template"),
                ],
            },
        ),
        migrations.RunPython(drop_act, restore_act),
    ]
