from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from engagements.models import Engagement
from engagements.selectors.engagements import engagement_matrix
from raci import matrix as fmt
from raci.models import TemplateVersion
from raci.services import version_matrix

WRITERS = {"csv": fmt.to_csv, "json": fmt.to_json, "table": fmt.to_table}


class Command(BaseCommand):
    help = "Prints a RACI matrix: the latest published template by default, or an engagement's."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--engagement", type=int, help="An engagement id.")
        parser.add_argument("--template", help="A template name (its latest published version).")
        parser.add_argument(
            "--template-version",
            dest="template_version",
            type=int,
            help="With --template: a version number.",
        )
        parser.add_argument("--format", choices=sorted(WRITERS), default="table")

    def handle(
        self,
        *args,
        engagement: int | None,
        template: str | None,
        template_version: int | None,
        format: str,
        **options,
    ):
        version = template_version
        if engagement is not None and template:
            raise CommandError("Give --engagement or --template, not both.")
        if engagement is not None:
            found = Engagement.objects.filter(pk=engagement).select_related("organization").first()
            if found is None:
                raise CommandError(f"No engagement with id {engagement}.")
            matrix = engagement_matrix(found)
        else:
            if version is not None:
                if not template:
                    raise CommandError("--template-version needs --template.")
                tv = TemplateVersion.objects.filter(template__name=template, number=version).first()
            else:
                tv = TemplateVersion.objects.latest_published(template)
            if tv is None:
                what = f"template {template!r}" if template else "any template"
                raise CommandError(
                    f"No published version of {what}."
                    if version is None
                    else f"No version {version} of {template!r}."
                )
            matrix = version_matrix(tv)
        self.stdout.write(WRITERS[format](matrix), ending="")
