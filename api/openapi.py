"""The schema's description of errors: every operation documents the JSON error body for
each status it may answer with, so a client (and schemathesis) knows them all."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from rest_framework import serializers


class ErrorOut(serializers.Serializer):
    error = serializers.CharField(help_text="What went wrong, for a person to read.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Bad input: each field's name (dotted for nested ones) and its messages.",
    )
    current = serializers.JSONField(
        required=False, help_text="A stale write (409): the object as it is now."
    )


ALWAYS = {
    "401": "Not signed in: no token, or an unknown, revoked or expired one.",
    "404": "No such object, or not visible to you.",
    "406": "Only application/json is served.",
    "429": "Too many requests for this token; retry after the Retry-After seconds.",
}
WRITES = {
    "400": "Bad input (malformed JSON, a wrong type, an unknown field) or refused by the "
    "object's state; nothing was saved.",
    "403": "The rules do not allow you this action (the reason is given), or the token is "
    "read-only.",
    "409": "Changed by someone else since you read it (the revision); nothing was saved.",
    "413": "The body is larger than API_MAX_BODY bytes.",
    "415": "The body must be application/json.",
}
READS = {"400": "A bad query parameter.", "403": "Not allowed."}


class AutoSchema(BaseAutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        extra = dict(ALWAYS)
        extra.update(WRITES if self.method not in ("GET", "HEAD", "OPTIONS") else READS)
        for code, description in extra.items():
            if code not in responses:
                body = self._get_response_for_code(ErrorOut, code)
                body["description"] = description
                responses[code] = body
        return responses


ID_PATTERN = "^[0-9]{1,18}$"


def as_enforced(result, generator, request, public):
    """A postprocessing hook: request bodies admit no other properties (the API refuses an
    unknown field with a 400), so the schema says so; and an object's id in a path (matched
    by the routers' lookup_value_regex, digits) is an integer, as it is everywhere else."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    for item in result.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "path" and schema.get("pattern") == ID_PATTERN:
                    parameter["schema"] = {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}
    return result
