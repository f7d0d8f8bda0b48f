"""The Celery application: configuration from Django settings (CELERY_*)."""

from __future__ import annotations

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "psaas_portal.settings")

app = Celery("psaas_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.worker_hijack_root_logger = False  # the worker logs through Django's LOGGING


def _connect_logging() -> None:
    from .logs import connect_celery

    connect_celery(app)


_connect_logging()


@signals.worker_process_init.connect(weak=False)
def _freeze_start_up_objects(**kwargs) -> None:
    """The objects a worker process starts with (modules, settings, templates, URL patterns,
    tens of thousands of them, alive until it ends) are moved out of the garbage collector's
    reach (gc.freeze), so its full passes walk only what the tasks made. Measured in one
    process sending 4,900 emails: one full pass of 90 to 110 ms (0.02 ms per email), none
    after the freeze (issue 16, P5)."""
    import gc

    gc.freeze()


@signals.task_prerun.connect(weak=False)
@signals.task_postrun.connect(weak=False)
def _database_connections(task=None, **kwargs) -> None:
    """A worker keeps its database connection between tasks by Django's own rules, as the web
    process does between requests: closed once older than CONN_MAX_AGE or after an error,
    checked before reuse (CONN_HEALTH_CHECKS). Celery's Django fixup would otherwise close
    it after every task (CELERY_DB_REUSE_MAX in settings turns that off): a new PostgreSQL
    backend, with cold caches, for every batch of emails (issue 16, P5). Tasks run eagerly
    (inside a caller's transaction) are left alone, as the fixup leaves them."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


@app.task(name="psaas_portal.ping")
def ping() -> str:
    """Answers "pong": lets tests and operators see a real worker consume a message."""
    return "pong"
