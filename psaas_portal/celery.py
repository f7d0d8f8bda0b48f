"""The Celery application: configuration from Django settings (CELERY_*)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "psaas_portal.settings")

app = Celery("psaas_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.worker_hijack_root_logger = False  # the worker logs through Django's LOGGING


def _connect_logging() -> None:
    from .logs import connect_celery

    connect_celery(app)


_connect_logging()


@app.task(name="psaas_portal.ping")
def ping() -> str:
    """Answers "pong": lets tests and operators see a real worker consume a message."""
    return "pong"
