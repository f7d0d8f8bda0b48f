from __future__ import annotations

from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination


def checked_number(request, name: str, maximum: int) -> None:
    """?page= and ?page_size= are whole numbers from 1 to the maximum, given once, or absent
    (DRF alone would read an empty or repeated one as its default)."""
    values = request.query_params.getlist(name)
    if not values:
        return
    value = values[0]
    if (
        len(values) > 1
        or not (value.isascii() and value.isdigit())
        or not 1 <= int(value) <= maximum
    ):
        raise ValidationError({name: [f"A whole number from 1 to {maximum}, given once."]})


def bounded(parameters: list[dict], maximum: int) -> list[dict]:
    """The schema says what is checked: page and page_size are 1 or more, page_size at most
    the maximum."""
    for parameter in parameters:
        if parameter["schema"].get("type") == "integer":
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == "page_size":
                parameter["schema"]["maximum"] = maximum
    return parameters


class Pages(PageNumberPagination):
    """?page=N (and ?page_size=, at most 200); the answer has count, next, previous, results."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        checked_number(request, self.page_size_query_param, self.max_page_size)
        self.page_size = settings.API_PAGE_SIZE
        return super().get_page_size(request)

    def get_page_number(self, request, paginator):
        checked_number(request, self.page_query_param, 2**31)
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view):
        return bounded(super().get_schema_operation_parameters(view), self.max_page_size)


class EventCursor(CursorPagination):
    """The audit trail, newest first, by an opaque cursor: stable while events are added."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        checked_number(request, self.page_size_query_param, self.max_page_size)
        self.page_size = settings.API_PAGE_SIZE
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view):
        return bounded(super().get_schema_operation_parameters(view), self.max_page_size)
