"""Engagements as programs read them: the list row, and the detail with the live matrix."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from engagements.models import Engagement, TaskParty

from .tasks import TaskBriefOut


class OrganizationOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class EngagementOut(serializers.ModelSerializer):
    organization = OrganizationOut()
    template = serializers.SerializerMethodField()

    class Meta:
        model = Engagement
        fields = [
            "id",
            "name",
            "state",
            "kickoff_date",
            "environments",
            "created_at",
            "organization",
            "template",
        ]

    @extend_schema_field(
        {
            "type": "object",
            "properties": {"name": {"type": "string"}, "version": {"type": "integer"}},
            "required": ["name", "version"],
        }
    )
    def get_template(self, engagement: Engagement) -> dict:
        version = engagement.template_version
        return {"name": version.template.name, "version": version.number}


class LettersOut(serializers.ModelSerializer):
    party = serializers.IntegerField(source="party_id")
    letters = serializers.CharField(source="cell_text")

    class Meta:
        model = TaskParty
        fields = [
            "party",
            "letters",
            "responsible",
            "accountable",
            "consulted",
            "informed",
            "condition",
            "role_title",
        ]


class PartyOut(serializers.Serializer):
    id = serializers.IntegerField(source="party.id")
    name = serializers.CharField(source="party.name")
    is_vendor = serializers.BooleanField(source="party.is_vendor")


NO_LETTERS = {
    "letters": "",
    "responsible": False,
    "accountable": False,
    "consulted": False,
    "informed": False,
    "condition": "",
    "role_title": "",
}


class MatrixRowOut(serializers.Serializer):
    position = serializers.IntegerField()
    name = serializers.CharField()
    notes = serializers.CharField()
    is_optional = serializers.BooleanField()
    cells = serializers.SerializerMethodField(
        help_text="One per column, in the columns' order; letters is empty where the party "
        "holds none."
    )
    tasks = TaskBriefOut(many=True)

    @extend_schema_field(LettersOut(many=True))
    def get_cells(self, row) -> list:
        columns = self.context["columns"]
        return [
            LettersOut(cell).data if cell is not None else {"party": column.party_id, **NO_LETTERS}
            for cell, column in zip(row.cells, columns, strict=True)
        ]


class ProgressOut(serializers.Serializer):
    applicable = serializers.IntegerField()
    finished = serializers.IntegerField()
    percent = serializers.IntegerField()


class EngagementDetailOut(EngagementOut):
    """The engagement with its matrix: one column per party, one row per template task,
    each row's letters per column (null: no letter) and its live task per environment."""

    columns = PartyOut(many=True)
    rows = MatrixRowOut(many=True)
    progress = ProgressOut()

    class Meta(EngagementOut.Meta):
        fields = [*EngagementOut.Meta.fields, "columns", "rows", "progress"]
