"""Coalesced wake-ups of the email drain: after commit, a change asks for a drain; when one
is already queued and has not started, it publishes nothing (a thousand commits in a burst
are a handful of task messages, not a thousand tasks racing for the same rows).

The marker is a key in the broker's Redis, set with SET NX and a short expiry by the one who
publishes, and deleted by the drain task as it starts, before it claims: a row committed
before the delete is seen by that claim, a row committed after it publishes a new drain.
A lost task (its publish failed, a worker died before it started) costs at most the expiry
(a few seconds) before the next commit publishes again, and the sweep (every minute)
delivers whatever is left either way. Without Redis (the filesystem broker of `make run`,
or Redis unreachable) every request publishes, as before.
"""

from __future__ import annotations

import contextlib

import redis

KEY = "psaas:emails:drain-queued"
EXPIRY_MS = 5000

_clients: dict[str, redis.Redis] = {}


def _client() -> redis.Redis | None:
    from psaas_portal.celery import app

    url = str(app.conf.broker_url or "")
    if not url.startswith(("redis://", "rediss://")):
        return None
    client = _clients.get(url)
    if client is None:
        client = _clients[url] = redis.Redis.from_url(
            url, socket_connect_timeout=1, socket_timeout=1
        )
    return client


def ask() -> bool:
    """True when the caller should publish a drain (none is queued, or Redis cannot say)."""
    client = _client()
    if client is None:
        return True
    try:
        return bool(client.set(KEY, b"1", nx=True, px=EXPIRY_MS))
    except redis.RedisError:
        return True  # the publish will most likely fail too; the sweep delivers


def clear() -> None:
    """The drain started (or its publish failed): the next commit publishes again."""
    client = _client()
    if client is None:
        return
    with contextlib.suppress(redis.RedisError):  # else the marker expires by itself
        client.delete(KEY)
