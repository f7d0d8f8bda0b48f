"""The production web process: gunicorn with DEBUG off, static files through whitenoise."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from django.conf import settings

from tests.integration.conftest import free_port, wait_until


def test_gunicorn_serves_health_and_hashed_static_files(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "a-long-random-secret-key-for-the-serving-test-0123456789abcdef",
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(tmp_path / "static"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    root = Path(settings.BASE_DIR)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=root,
        env=env,
        check=True,
        timeout=120,
    )
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
    hashed = manifest["paths"]["css/portal.css"]
    assert hashed != "css/portal.css"
    gunicorn = Path(sys.executable).parent / "gunicorn"
    log = (tmp_path / "gunicorn.log").open("w")
    proc = subprocess.Popen(
        [str(gunicorn), "-c", "deploy/gunicorn.conf.py"],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"

        def up():
            try:
                return urllib.request.urlopen(f"{base}/healthz", timeout=2).status == 200
            except OSError:
                return False

        wait_until(up, 30, "gunicorn")
        # As the TLS-terminating proxy in front of gunicorn says it.
        https = {"X-Forwarded-Proto": "https"}
        static = f"{base}/static/{hashed}"
        response = urllib.request.urlopen(urllib.request.Request(static, headers=https), timeout=5)
        assert response.status == 200
        assert "max-age=315360000" in response.headers["Cache-Control"]
        request = urllib.request.Request(static, headers={**https, "Accept-Encoding": "gzip"})
        assert urllib.request.urlopen(request, timeout=5).headers.get("Content-Encoding") == "gzip"
        plain = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        plain.request("GET", "/engagements/")
        redirect = plain.getresponse()
        assert redirect.status == 301  # production redirects plain HTTP to HTTPS
        assert redirect.getheader("Location").startswith("https://")
        # Secrets in a query string (the calendar feed's) never reach the access log.
        probe = f"{base}/healthz?token=feed-secret-never-logged-0123456789"
        assert urllib.request.urlopen(probe, timeout=5).status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    access = (tmp_path / "gunicorn.log").read_text()
    assert '"GET /healthz HTTP/1.1" 200' in access  # the path, without the query
    assert "feed-secret-never-logged" not in access
