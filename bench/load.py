"""The load generator of bench/pages.py: wrk when installed, else a small Python client.

One connection sends one request after another for a few seconds, so the p50 is one
request's latency, not queueing. For the status-change POST the body alternates between
two statuses with the revision each move leaves, so that every request is a real move.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CSRF = "b" * 32  # an unmasked secret: accepted in the cookie and the header alike


WRK_SCRIPT = """
-- Globals, not locals: done() runs in wrk's main Lua state, and reads each thread's own
-- counts through thread:get(). The POST's body follows the moves that succeeded (`ok`),
-- not the requests generated: wrk calls request() once more per thread to check it.
ok, unexpected = 0, 0
local threads = {}
local method, body_kind, revision = "%(method)s", "%(body)s", %(revision)d
wrk.headers["Cookie"] = "%(cookie)s"
wrk.headers["X-CSRFToken"] = "%(csrf)s"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
setup = function(thread)
  table.insert(threads, thread)
end
request = function()
  local body = nil
  if body_kind == "transition" then
    local to = (ok %% 2 == 0) and "%(first)s" or "%(second)s"
    body = "to=" .. to .. "&reason=&revision=" .. (revision + ok)
  elseif method == "POST" then
    body = "x=1"
  end
  return wrk.format(method, "%(path)s", nil, body)
end
response = function(status, headers, body)
  if status == %(expect)d then ok = ok + 1 else unexpected = unexpected + 1 end
end
done = function(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("unexpected") end
  io.write(string.format("RESULT p50=%%d n=%%d bad=%%d\\n", latency:percentile(50),
    summary.requests, bad + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""


def measure(
    port: int,
    path: str,
    *,
    cookie: str,
    seconds: float,
    method: str = "GET",
    task=None,
    expect: int = 200,
) -> dict:
    """p50 latency in ms of one connection sending `path` for `seconds`."""
    body, revision, first, second = "", 0, "", ""
    if task is not None:
        task.refresh_from_db()
        body, revision = "transition", task.revision
        first, second = (
            ("in_progress", "not_started")
            if task.status == "not_started"
            else ("not_started", "in_progress")
        )
    cookie = f"{cookie}; csrftoken={CSRF}"
    if shutil.which("wrk"):
        script = Path(tempfile.mkstemp(suffix=".lua")[1])
        script.write_text(WRK_SCRIPT % dict(method=method, expect=expect, body=body, revision=revision, cookie=cookie, csrf=CSRF, path=path, first=first, second=second))  # fmt: skip
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                "-c1",
                f"-d{max(1, round(seconds))}s",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        script.unlink()
        m = re.search(r"RESULT p50=(\d+) n=(\d+) bad=(\d+)", out)
        assert m, out
        p50, n, bad = int(m[1]) / 1000, int(m[2]), int(m[3])
    else:
        p50, n, bad = python_load(
            port, path, cookie, seconds, method, body, revision, first, second, expect
        )
    if bad:
        sys.exit(f"{bad} of {n} requests to {path} failed")
    return {"p50": p50, "n": n}


def python_load(port, path, cookie, seconds, method, body_kind, revision, first, second, expect):
    """The fallback when wrk is not installed: one keep-alive connection, sequential."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {
        "Cookie": cookie,
        "X-CSRFToken": CSRF,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    latencies, bad, counter = [], 0, 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        body = None
        if body_kind == "transition":
            to = first if counter % 2 == 0 else second
            body = f"to={to}&reason=&revision={revision + counter}"
        elif method == "POST":
            body = "x=1"
        counter += 1
        t = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        latencies.append((time.perf_counter() - t) * 1000)
        bad += response.status != expect
    conn.close()
    return statistics.median(latencies), len(latencies), bad
