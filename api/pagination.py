from __future__ import annotations

from django.conf import settings
from rest_framework.pagination import CursorPagination, PageNumberPagination


class Pages(PageNumberPagination):
    """?page=N (and ?page_size=, at most 200); the answer has count, next, previous, results."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        self.page_size = settings.API_PAGE_SIZE
        return super().get_page_size(request)


class EventCursor(CursorPagination):
    """The audit trail, newest first, by an opaque cursor: stable while events are added."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        self.page_size = settings.API_PAGE_SIZE
        return super().get_page_size(request)
