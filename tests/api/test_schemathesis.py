"""schemathesis, an outside test suite, against a live server over every operation of the
schema, with a read-write personal token: no server error, no response outside the schema
(status, content type, headers, body), no invalid request accepted, no operation that lets
an unauthenticated request through. Bounded: a few examples per operation, two workers.

`make schemathesis` runs this test alone and shows schemathesis's own report."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client

from engagements.actions.cycles import propose_cycle
from engagements.actions.issues import raise_issue
from engagements.actions.tasks import transition_task
from engagements.choices import TaskStatus
from engagements.models import Event, Notification
from tests.api.conftest import make_token
from tests.conftest import task_of
from tests.factories import update_windows

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "unsupported_method",
    "ignored_auth",
]
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "8"))
ST = Path(sys.executable).with_name("st")


@pytest.fixture
def data(transactional_db, engagement_a, engagement_b, engineer_a, cse):
    """Something to read and act on: tasks moved, an issue, an update cycle, notifications;
    returns the ids schemathesis is given to try (A's, which the token sees, and B's,
    which it must not)."""
    deploy = task_of(engagement_a, "deployment", "development")
    transition_task(deploy, to=TaskStatus.IN_PROGRESS, actor=cse)
    transition_task(deploy, to=TaskStatus.BLOCKED, actor=cse, reason="waiting on VMs")
    raise_issue(
        engagement_a,
        actor=engineer_a,
        title="Emails not sent",
        environment="production",
        severity="high",
        description="SMTP relay refuses",
    )
    propose_cycle(engagement_a, actor=cse, release="2026.12.1", windows=update_windows())
    ids: set[int] = {engagement_a.pk, engagement_b.pk}
    for engagement in (engagement_a, engagement_b):
        ids |= set(engagement.tasks.values_list("pk", flat=True)[:6])
        ids |= set(engagement.checklists.values_list("pk", flat=True))
        ids |= set(engagement.issues.values_list("pk", flat=True))
        ids |= set(engagement.update_cycles.values_list("pk", flat=True))
        ids |= set(Event.objects.filter(engagement=engagement).values_list("pk", flat=True)[:5])
        ids |= set(
            Notification.objects.filter(engagement=engagement).values_list("pk", flat=True)[:5]
        )
    return sorted(ids)


CONFIG = """
# Real ids, half of the time, so that operations reach past the 404 into the services.
[dictionaries.ids]
values = {ids}

[parameters]
"path.id" = {{ dictionary = "ids", probability = 0.5 }}
"path.engagement_id" = {{ dictionary = "ids", probability = 0.5 }}
"query.engagement" = {{ dictionary = "ids", probability = 0.3 }}

# Invalid input is refused with a 4xx the schema documents; a body over API_MAX_BODY is a
# 413 before it is read (schemathesis's long strings make such bodies).
[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
"""


def test_schemathesis_finds_nothing(live_server, data, engineer_a, settings, tmp_path):
    settings.API_THROTTLE_RATE = "100000/min"  # the suite's own pace is not what is tested
    cache.clear()
    _, raw = make_token(engineer_a)
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.format(ids=json.dumps(data)))
    command = [
        str(ST),
        "--config-file",
        str(config),
        "run",
        f"{live_server.url}/api/schema/",
        "--header",
        f"Authorization: Bearer {raw}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "2",
        "--seed",
        os.environ.get("SCHEMATHESIS_SEED", "14"),
        "--generation-database",
        "none",
        "--request-timeout",
        "20",
        "--no-color",
        "--output-truncate",
        "true",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_TELEMETRY": "false", "NO_COLOR": "1"},
    )
    output = result.stdout + result.stderr
    print(output.replace(raw, "psap_…"))
    assert result.returncode == 0, "schemathesis found problems (its report is above)"
    # The report's summary: every operation of our schema ran; every case passed.
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    ours = sum(1 for item in schema["paths"].values() for method in item if method in HTTP_METHODS)
    selected = re.search(r"Selected: (\d+)/(\d+)", output)
    tested = re.search(r"Tested: (\d+)", output)
    cases = re.search(r"(\d+) generated, (\d+) passed", output)
    assert selected and tested and cases, output[-3000:]
    assert int(selected.group(1)) == int(selected.group(2)) == int(tested.group(1)) == ours
    assert int(cases.group(1)) == int(cases.group(2)) > 0
    assert "failed" not in output.split("Test cases:")[-1].splitlines()[1]
    print(f"schemathesis: {ours} operations, {cases.group(1)} cases, all passed")
