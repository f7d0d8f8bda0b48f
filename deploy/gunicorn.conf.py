"""gunicorn settings, from environment variables (gunicorn -c deploy/gunicorn.conf.py)."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycling guards against slow leaks; at 2,000 (the old default) a loaded worker restarted
# about once a second. 50,000 with a 10% jitter recycles a busy worker every few minutes,
# and never all workers at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "50000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "5000"))
accesslog = "-"
errorlog = "-"
wsgi_app = "psaas_portal.wsgi:application"
# The path without the query string (%(U)s, not the request line %(r)s): the private calendar
# feed carries its secret in the query, and access logs must never hold secrets. The
# request id ties a line to the application's logs.
access_log_format = (
    '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s" req=%({x-request-id}o)s'
)


def _redacting_logger():
    """gunicorn's logger, with the access log's request line passed through the portal's
    redaction (a password reset link carries its token in the path)."""
    from gunicorn.glogging import Logger

    from psaas_portal.logs import redact

    class RedactingLogger(Logger):
        def atoms(self, resp, req, environ, request_time):
            atoms = super().atoms(resp, req, environ, request_time)
            for key in ("r", "U", "q", "f"):  # request line, path, query string, referer
                if isinstance(atoms.get(key), str):
                    atoms[key] = redact(atoms[key])
            return atoms

    return RedactingLogger


logger_class = _redacting_logger()
