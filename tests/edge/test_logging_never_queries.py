"""Issue 17, item 5: the logging filter never touches the database (a user not loaded is left
out), so an error logged while PostgreSQL is down keeps its request id."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils.functional import SimpleLazyObject

from psaas_portal import logs


def _database_down():
    raise connection.Database.OperationalError("connection refused")


def test_the_filter_does_not_load_a_lazy_user():
    request = RequestFactory().get("/engagements/")
    request.request_id = "req-lazy-user-1"
    request.user = SimpleLazyObject(_database_down)  # what AuthenticationMiddleware sets
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "boom", (), None)
    record.request = request
    assert logs.ContextFilter().filter(record) is True  # before the fix: OperationalError
    assert record.request_id == "req-lazy-user-1" and record.user_id == ""


@pytest.mark.django_db
def test_a_loaded_user_is_still_named(engineer_a):
    request = RequestFactory().get("/engagements/")
    request.user = SimpleLazyObject(lambda: engineer_a)
    request.user.pk  # noqa: B018 (loaded by the view)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
    record.request = request
    logs.ContextFilter().filter(record)
    assert record.user_id == str(engineer_a.pk)


@pytest.mark.django_db
def test_the_middleware_makes_no_query_of_its_own():
    request = RequestFactory().get("/healthz")
    request.user = SimpleLazyObject(_database_down)
    middleware = logs.RequestContextMiddleware(lambda r: __import__("django").http.HttpResponse())
    with CaptureQueriesContext(connection) as queries:
        response = middleware(request)  # before the fix: it loaded the user
    assert len(queries) == 0 and response["X-Request-ID"]
