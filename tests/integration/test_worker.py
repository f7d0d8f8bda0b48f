from __future__ import annotations

import pytest

from psaas_portal.celery import app, ping


def test_a_real_worker_consumes_from_a_real_redis(start_worker, redis_server):
    assert app.conf.broker_url == redis_server.url
    worker = start_worker()
    result = ping.delay()
    worker.wait_for(f"Task psaas_portal.ping[{result.id}] succeeded")


@pytest.mark.django_db(transaction=True)
def test_a_worker_keeps_its_database_connection_between_tasks(start_worker):
    """Celery's Django fixup would close it after every task (a new PostgreSQL backend per
    batch of emails); the worker follows CONN_MAX_AGE and the health checks instead."""
    from django.db import connection

    from engagements.tasks import deliver_emails

    def worker_backends() -> set[int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'"
            )
            return {pid for (pid,) in cursor.fetchall()}

    worker = start_worker()

    def run_task() -> None:
        result = deliver_emails.delay()
        worker.wait_for(f"Task engagements.tasks.deliver_emails[{result.id}] succeeded")

    run_task()
    first = worker_backends()
    assert first, "the worker's connection was closed after its task"
    for _ in range(3):
        run_task()
    assert worker_backends() == first


def test_a_worker_process_leaves_its_start_up_objects_out_of_the_collector():
    import gc

    from celery import signals

    from psaas_portal.celery import _freeze_start_up_objects

    # Connected: each worker process runs it as it starts (the solo pool of these tests'
    # workers never sends the signal, so it is called here).
    assert _freeze_start_up_objects in signals.worker_process_init._live_receivers(None)
    assert gc.get_freeze_count() == 0
    try:
        _freeze_start_up_objects()
        assert gc.get_freeze_count() > 10_000  # modules, settings, templates: all of them
    finally:
        gc.unfreeze()
