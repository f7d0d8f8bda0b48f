"""What every API view shares: reading a body or query against its serializer, running one
service call (a stale write answered with the object as it is now)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.utils.cache import patch_cache_control
from rest_framework import serializers, viewsets

from engagements.errors import Conflict

from ..errors import StaleWrite

T = TypeVar("T")


def body(serializer_class: type[serializers.Serializer], request) -> dict:
    """The request's JSON body, validated (400 naming the field otherwise)."""
    data = request.data
    if not isinstance(data, dict):
        raise serializers.ValidationError({"body": ["The body must be a JSON object."]})
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def query(serializer_class: type[serializers.Serializer], request) -> dict:
    """The filters in the query string, validated; absent ones are left out. A filter given
    empty or twice is an error (not silently ignored, as an HTML form's would be)."""
    params = request.query_params
    errors = {}
    for name in serializer_class().fields:
        values = params.getlist(name)
        if len(values) > 1:
            errors[name] = ["Give this filter once."]
        elif values == [""]:
            errors[name] = ["This filter may not be empty."]
    if errors:
        raise serializers.ValidationError(errors)
    serializer = serializer_class(data=params)
    serializer.is_valid(raise_exception=True)
    return {k: v for k, v in serializer.validated_data.items() if v not in (None, "")}


def perform(action: Callable[[], T], *, current: Callable[[], Any]) -> T:
    """Runs one service call; Conflict (someone changed the object) becomes a 409 with
    `current()`, the object as it is now."""
    try:
        return action()
    except Conflict as exc:
        raise StaleWrite(str(exc), current=current()) from None


class ApiViewSet(viewsets.GenericViewSet):
    """The base of the API's viewsets: every answer belongs to one person, so no browser or
    shared cache keeps it (the portal's middleware sees sessions, not tokens)."""

    lookup_value_regex = r"[0-9]{1,18}"

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_cache_control(response, private=True, no_store=True)
        return response
