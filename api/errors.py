"""Every error the API answers is JSON: {"error": "<what went wrong>"}, plus "fields"
(name -> messages) for bad input and "current" (the object as it is now) for a stale
write. The domain's errors map as on the pages: refused by the rules 403, changed by
someone else 409, refused for the object's state or the input 400."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from engagements.errors import Conflict, DomainError, NotAllowed, NotFound, Refused

from .parsers import BadBody


class StaleWrite(exceptions.APIException):
    """Someone changed the object since the caller read it; `current` is how it is now."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, message: str, current: Any) -> None:
        super().__init__(message)
        self.current = current


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"items.memory.value": ["…"]}."""
    if isinstance(detail, Mapping):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = "" if key == "non_field_errors" else str(key)
            out.update(_flatten(value, f"{prefix}.{name}".strip(".") if name else prefix))
        return out
    if isinstance(detail, list) and detail and not all(isinstance(d, str) for d in detail):
        out = {}
        for index, value in enumerate(detail):
            out.update(_flatten(value, f"{prefix}.{index}".strip(".")))
        return out
    messages = [str(d) for d in detail] if isinstance(detail, list) else [str(detail)]
    return {prefix or "body": messages}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, NotFound):
        exc = Http404(str(exc))
    if isinstance(exc, NotAllowed):
        return Response({"error": str(exc)}, status=403)
    if isinstance(exc, Conflict):
        return Response({"error": str(exc)}, status=409)
    if isinstance(exc, Refused):  # a checklist's items, each refusal naming its item
        fields = {
            ("vms" if key == "vms" else f"items.{key}.value"): [message]
            for key, message in exc.errors.items()
        }
        return Response({"error": str(exc), "fields": fields}, status=400)
    if isinstance(exc, DomainError):
        return Response({"error": str(exc)}, status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first = next(iter(fields.items()))
        response.data = {"error": f"{first[0]}: {first[1][0]}", "fields": fields}
    elif isinstance(exc, BadBody):
        response.data = {"error": str(exc.detail), "fields": {exc.field: [exc.message]}}
    elif isinstance(exc, StaleWrite):
        response.data = {"error": str(exc.detail), "current": exc.current}
    else:
        detail = getattr(exc, "detail", None)
        response.data = {"error": str(detail) if detail is not None else str(exc)}
    return response
