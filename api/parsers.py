"""Request bodies: JSON only, bounded in size and depth, every string storable (the same
reader as the attestation endpoint, psaas_portal.inputs)."""

from __future__ import annotations

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import BaseParser

from psaas_portal import inputs


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The body is too large."
    default_code = "too_large"


class BadBody(exceptions.ParseError):
    """Malformed JSON or an unstorable string, naming the field (`body` for the whole)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field or "body", message


class BoundedJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY
        request = (parser_context or {}).get("request")
        declared = (request.META.get("CONTENT_LENGTH") if request is not None else None) or "0"
        try:
            too_large = int(declared) > limit
        except ValueError:
            raise exceptions.ParseError("Content-Length is not a number.") from None
        if too_large:
            raise BodyTooLarge(f"The body is larger than {limit} bytes.")
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise BodyTooLarge(f"The body is larger than {limit} bytes.")
        if not raw.strip():
            return {}
        try:
            return inputs.load_json(raw)
        except inputs.InputError as exc:
            raise BadBody(exc.field, exc.message) from None
