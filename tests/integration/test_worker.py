from __future__ import annotations

from psaas_portal.celery import app, ping


def test_a_real_worker_consumes_from_a_real_redis(start_worker, redis_server):
    assert app.conf.broker_url == redis_server.url
    worker = start_worker()
    result = ping.delay()
    worker.wait_for(f"Task psaas_portal.ping[{result.id}] succeeded")
