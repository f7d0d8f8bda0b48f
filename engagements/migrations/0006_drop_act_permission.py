"""The "act" object permission goes: it was granted to every member, so it never refused
anyone; who may act is the policy's (engagements.policy), read from the letters."""

from django.db import migrations


def drop_act(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    # Deleting the permission deletes its guardian rows (their foreign key cascades).
    Permission.objects.filter(
        content_type__app_label="engagements", codename="act_on_engagement"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("engagements", "0005_append_only_triggers"),
        ("auth", "0012_alter_user_first_name_max_length"),
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
        # Backwards there is nothing to restore: the permission was never read.
        migrations.RunPython(drop_act, migrations.RunPython.noop),
    ]
