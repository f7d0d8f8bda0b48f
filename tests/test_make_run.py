"""`make run PORT=…` gives the web server, the worker and beat a SITE_URL on that port, so
the links in the emails they send point where the portal listens."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_site_url_follows_port_under_make_run():
    dry = subprocess.run(
        ["make", "-n", "run", "PORT=8101"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    ).stdout
    line = dry[dry.index("SITE_URL=") :]  # the one shell line that starts all three
    assert "SITE_URL=${SITE_URL:-http://127.0.0.1:8101}" in line
    assert "celery -A psaas_portal worker" in line and "runserver --noreload 127.0.0.1:8101" in line
