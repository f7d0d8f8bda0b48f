from __future__ import annotations

import io

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The body is too large."
    default_code = "too_large"


class BoundedJSONParser(JSONParser):
    """JSON only, at most API_MAX_BODY bytes (read no further than that)."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        try:
            if declared and int(declared) > limit:
                raise BodyTooLarge(f"The body is larger than {limit} bytes.")
        except ValueError:
            raise exceptions.ParseError("Content-Length is not a number.") from None
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise BodyTooLarge(f"The body is larger than {limit} bytes.")
        if not body.strip():
            return {}
        return super().parse(io.BytesIO(body), media_type, parser_context)
