"""Structured logs: every line carries the request id, the user id, the engagement id where
known, and the Celery task id; JSON lines when LOG_FORMAT=json, readable text otherwise.

A request id comes from a valid `X-Request-ID` header (from the proxy) or is made here; it
is sent back in the response and travels to the Celery tasks the request enqueues.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid

from django.utils.functional import empty

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
user_id: contextvars.ContextVar[str] = contextvars.ContextVar("user_id", default="")
engagement_id: contextvars.ContextVar[str] = contextvars.ContextVar("engagement_id", default="")
current_task_id: contextvars.ContextVar[str] = contextvars.ContextVar("task_id", default="")
current_request: contextvars.ContextVar = contextvars.ContextVar("request", default=None)


class RequestContextMiddleware:
    """Sets the log context for one request, and answers with its request id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        rid = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        tokens = [request_id.set(rid), engagement_id.set("")]
        request.request_id = rid
        try:
            # The user is not loaded here (that is a database query): the log filter reads it
            # from the request once something else has loaded it.
            tokens += [user_id.set(""), current_request.set(request)]
            response = self.get_response(request)
        finally:
            for var, token in zip(
                (request_id, engagement_id, user_id, current_request), tokens, strict=False
            ):
                var.reset(token)
        response[REQUEST_ID_HEADER] = rid
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if "engagement_id" in view_kwargs:
            engagement_id.set(str(view_kwargs["engagement_id"]))


def loaded_user_id(request) -> str:
    """The signed-in user's id if the request has already loaded its user, else "": reading
    `request.user` would query the database, and logging must work while it is down."""
    user = getattr(request, "_cached_user", None)  # set by django.contrib.auth's get_user
    if user is None:
        wrapped = getattr(getattr(request, "user", None), "_wrapped", None)
        user = None if wrapped is None or wrapped is empty else wrapped
    try:
        return str(user.pk) if user is not None and user.is_authenticated else ""
    except Exception:  # whatever it is, logging must not fail on it
        return ""


class ContextFilter(logging.Filter):
    """Adds the context to every record (empty strings where unknown)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # django.request logs a response after the middleware has left: read its request.
        # Never touches the database: a user not loaded yet is left out.
        request = getattr(record, "request", None) or current_request.get()
        record.request_id = request_id.get() or getattr(request, "request_id", "")
        record.user_id = user_id.get() or (loaded_user_id(request) if request is not None else "")
        record.engagement_id = engagement_id.get()
        record.task_id = current_task_id.get()
        return True


class ExpectedRefusalFilter(logging.Filter):
    """Keeps django.request's one line for an expected refusal and drops its traceback.

    Django logs a PermissionDenied (403: the policy said no) with the exception's traceback,
    and an Http404 raised in a view would carry one as well; both are the portal working as
    designed, so the console shows one warning line per refusal. Anything answered with a
    5xx, and every other exception, keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        from django.core.exceptions import PermissionDenied
        from django.http import Http404

        exc = record.exc_info[1] if record.exc_info else None
        if (
            isinstance(exc, (PermissionDenied, Http404))
            and getattr(record, "status_code", 500) < 500
        ):
            record.exc_info = None
            record.exc_text = None
        return True


# Defense in depth: the code logs no secret (the test suite's log scrubber checks every
# record), but a message built from outside input might carry one, so the formatters mask
# `password=…`-like pairs, session cookies and the token of a password reset link.
_SECRET_PAIR = re.compile(
    r"(?i)\b(password\d?|passwd|secret|token|api[_-]?key|sessionid|session_key|csrftoken"
    r"|csrfmiddlewaretoken|authorization)(['\"]?\s*[=:]\s*['\"]?)[^\s&'\",;}]+"
)
_RESET_LINK = re.compile(r"(/reset/[A-Za-z0-9_-]+/)(?!set-password/)[A-Za-z0-9:_-]+")


def redact(text: str) -> str:
    """The text with the values of secret-looking pairs and reset link tokens masked."""
    text = _SECRET_PAIR.sub(r"\1\2[redacted]", text)
    return _RESET_LINK.sub(r"\1[redacted]", text)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key in ("request_id", "user_id", "engagement_id", "task_id"):
            value = getattr(record, key, "")
            if value:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def connect_celery(app) -> None:
    """The request id rides along in the task message's headers; the worker logs it."""
    from celery.signals import before_task_publish, task_postrun, task_prerun

    @before_task_publish.connect(weak=False)
    def add_request_id(headers=None, **kwargs):
        if headers is not None and request_id.get():
            headers.setdefault("request_id", request_id.get())

    @task_prerun.connect(weak=False)
    def enter_task(task_id=None, task=None, **kwargs):
        current_task_id.set(task_id or "")
        request_id.set(getattr(task.request, "request_id", None) or "")

    @task_postrun.connect(weak=False)
    def leave_task(**kwargs):
        current_task_id.set("")
        request_id.set("")
