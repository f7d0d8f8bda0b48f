"""The attestation endpoint's body, for the schema (the endpoint validates it itself, with
the contract it has had since before the API: engagements.views.api)."""

from __future__ import annotations

from rest_framework import serializers

from engagements.choices import AttestationResult, DutyKind


class AttestationIn(serializers.Serializer):
    duty = serializers.ChoiceField(choices=DutyKind.choices, required=False, default="backup")
    performed_at = serializers.DateTimeField()
    result = serializers.ChoiceField(choices=AttestationResult.choices)
    size_bytes = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    tool = serializers.CharField(required=False, allow_blank=True)
    reference = serializers.CharField(required=False, allow_blank=True)
    monitored = serializers.CharField(required=False, allow_blank=True)
    alerts_to = serializers.CharField(required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)


class AttestationOut(serializers.Serializer):
    id = serializers.IntegerField()
    duty = serializers.ChoiceField(choices=DutyKind.choices)
    result = serializers.ChoiceField(choices=AttestationResult.choices)
    performed_at = serializers.DateTimeField()
    on_time = serializers.BooleanField()
