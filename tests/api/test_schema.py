"""The schema and its reference page: served to anyone (no data in them), valid OpenAPI 3,
and the page runs from our own static files under the portal's CSP (no inline script or
style, nothing from another origin)."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_the_schema_is_served_and_names_every_resource(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    for resource in ("engagements", "tasks", "checklists", "cycles", "issues", "events"):
        assert f"/api/v1/{resource}/" in paths
    assert "/api/v1/notifications/{id}/read/" in paths
    assert "/api/v1/engagements/{engagement_id}/attestations/" in paths
    assert schema["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    transition = schema["paths"]["/api/v1/tasks/{id}/transition/"]["post"]
    assert {"200", "400", "401", "403", "404", "409", "413", "415", "429"} <= set(
        transition["responses"]
    )
    body = schema["components"]["schemas"]["TransitionInRequest"]
    assert body["additionalProperties"] is False


def test_the_reference_page_uses_only_our_static_files_under_the_csp(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<style" not in html and " style=" not in html
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts and all('src="' in attributes for attributes in scripts)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert all(source.startswith("/") for source in sources), sources  # same origin only
    for source in sources:
        if source.startswith("/static/"):
            path = source.removeprefix("/static/")
            assert finders.find(path), f"{path} is not among our static files"
    init = next(s for s in sources if "script" in s and not s.startswith("/static/"))
    script = client.get(init.replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()
