"""Property-based fuzzing (Hypothesis) of the attestation API and of the forms' POSTs: any
body, of any type, size or nesting, with any unicode (lone surrogates and NUL included), gets
an answer below 500; and a refused body (4xx) records nothing."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from engagements.actions.tokens import create_attestation_token
from engagements.models import Attestation, Event, Issue, StandingDuty
from raci import services as raci_services
from raci.models import TemplateTask
from tests.conftest import task_of

pytestmark = pytest.mark.django_db

# Any character, surrogates included (Hypothesis leaves category Cs out by default).
ANY_CHAR = st.characters(codec=None, exclude_categories=())
TEXT = st.one_of(
    st.text(ANY_CHAR, max_size=60),
    st.text(st.sampled_from("\x00\r\n\t\x1b\x7f\u2028\ud800\udfff=+-@aZ 9"), max_size=20),
    st.text(max_size=3000),
)
TIMES = st.one_of(
    st.datetimes(timezones=st.timezones() | st.just(dt.UTC)).map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "2026-11-27T02:00:00Z\x00",
            "2026-11-27T02:00:00+24:00",
            "2026-13-01",
            "",
        ]
    ),
    TEXT,
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
FIELDS = [
    "duty",
    "performed_at",
    "result",
    "tool",
    "reference",
    "size_bytes",
    "monitored",
    "alerts_to",
    "notes",
]


def _good() -> dict:
    return {
        "duty": "backup",
        "performed_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
        "result": "succeeded",
        "tool": "Command-Line Tools",
    }


@st.composite
def api_bodies(draw) -> bytes:
    kind = draw(st.sampled_from(["object", "any", "nested", "bytes"]))
    if kind == "object":
        body = _good()
        for key in draw(st.lists(st.sampled_from(FIELDS), max_size=4, unique=True)):
            body[key] = draw(TIMES if key == "performed_at" else JSON)
        body.update(draw(st.dictionaries(TEXT, JSON, max_size=2)))
        return json.dumps(body).encode()  # lone surrogates travel as \ud800 escapes
    if kind == "any":
        return json.dumps(draw(JSON)).encode()
    if kind == "nested":
        depth = draw(st.integers(min_value=1, max_value=3000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        return (opener * depth + "1" + closer * draw(st.integers(0, depth))).encode()
    return draw(st.binary(max_size=2000))


def test_the_attestation_api_never_fails_and_refusals_record_nothing(
    client, engagement_a, engineer_a
):
    _, raw = create_attestation_token(engagement_a, actor=engineer_a, name="fuzz")
    url = reverse("engagements:api-attestations", args=[engagement_a.pk])
    seen: dict[int, int] = {}

    @given(body=api_bodies())
    def post(body: bytes):
        before = (Attestation.objects.count(), Event.objects.count())
        response = client.post(
            url, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
        )
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code < 500, body[:200]
        assert response["Content-Type"] == "application/json"
        if response.status_code >= 400:
            assert "error" in response.json()
            assert (Attestation.objects.count(), Event.objects.count()) == before, body[:200]

    post()
    print(f"FUZZ attestation API: {sum(seen.values())} bodies, answers {sorted(seen.items())}")
    assert sum(seen.values()) >= 500 or _dev_profile()
    assert 500 not in seen


def _dev_profile() -> bool:
    from hypothesis import settings

    return settings.default.max_examples < 500


def _form_body(fields: dict) -> bytes:
    """URL-encoded as a browser would, but with lone surrogates passed through as bytes
    (invalid UTF-8 on the wire, which Django must survive)."""
    return urlencode(
        {
            k.encode("utf-8", "surrogatepass"): v.encode("utf-8", "surrogatepass")
            for k, v in fields.items()
        }
    ).encode()


def form_data(names: list[str]):
    return st.dictionaries(
        st.sampled_from(names), TEXT | TIMES | st.integers().map(str), max_size=len(names)
    ).flatmap(lambda d: st.dictionaries(TEXT, TEXT, max_size=2).map(lambda extra: {**extra, **d}))


FORMS = {
    "issue": (
        lambda e, t, d: reverse("engagements:issues", args=[e.pk]),
        ["title", "environment", "severity", "description", "ticket_reference", "cycle"],
        lambda: Issue.objects.count(),
    ),
    "token": (
        lambda e, t, d: reverse("engagements:token-create", args=[e.pk]),
        ["name"],
        lambda: 0,
    ),
    "comment": (
        lambda e, t, d: reverse("engagements:task-comment", args=[t.pk]),
        ["body", "addressed_to"],
        lambda: 0,
    ),
    "transition": (
        lambda e, t, d: reverse("engagements:task-transition", args=[t.pk]),
        ["to", "revision", "reason"],
        lambda: 0,
    ),
    "attest": (
        lambda e, t, d: reverse("engagements:duty-action", args=[d.pk, "attest"]),
        [
            "performed_at",
            "result",
            "tool",
            "reference",
            "size_bytes",
            "monitored",
            "alerts_to",
            "notes",
        ],
        lambda: Attestation.objects.count(),
    ),
    "preferences": (
        lambda e, t, d: reverse("engagements:notification-preferences"),
        ["email_delivery", "portal_delivery"],
        lambda: 0,
    ),
}


@pytest.mark.parametrize("name", list(FORMS))
def test_form_posts_never_fail_and_refusals_record_nothing(
    client_for, engagement_a, engineer_a, name
):
    client = client_for(engineer_a)
    task = task_of(engagement_a, "monitoring")
    duty = StandingDuty.objects.filter(engagement=engagement_a, kind="backup").first()
    make_url, names, rows = FORMS[name]
    url = make_url(engagement_a, task, duty)
    seen: dict[int, int] = {}

    @given(fields=form_data(names))
    def post(fields: dict):
        before = (Event.objects.count(), rows())
        response = client.post(
            url, data=_form_body(fields), content_type="application/x-www-form-urlencoded"
        )
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code < 500, fields
        if response.status_code >= 400:
            assert (Event.objects.count(), rows()) == before, fields

    post()
    print(f"FUZZ form {name}: {sum(seen.values())} posts, answers {sorted(seen.items())}")
    assert sum(seen.values()) >= 500 or _dev_profile()


def test_template_editor_posts_never_fail(client_for, admin_user):
    version = raci_services.load_seed_template()
    draft = raci_services.start_draft(version, actor=admin_user)
    client = client_for(admin_user)
    task_id, party_id = draft.tasks.first().pk, draft.columns.first().party_id
    urls = [
        reverse("raci:add-task", args=[draft.pk]),
        reverse("raci:set-cell", args=[draft.pk]),
        reverse("raci:update-task", args=[draft.pk]),
    ]
    names = [
        "name",
        "letters",
        "condition",
        "role_title",
        "notes",
        "description",
        "due_offset_days",
        "tracking",
        "anchor",
    ]
    seen: dict[int, int] = {}

    @given(which=st.sampled_from(urls), fields=form_data(names))
    def post(which: str, fields: dict):
        fields = {**fields, "task": str(task_id), "party": str(party_id)}
        before = TemplateTask.objects.count()
        response = client.post(
            which, data=_form_body(fields), content_type="application/x-www-form-urlencoded"
        )
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code < 500, fields
        if response.status_code >= 400:
            assert TemplateTask.objects.count() == before

    post()
    print(f"FUZZ template editor: {sum(seen.values())} posts, answers {sorted(seen.items())}")
    assert sum(seen.values()) >= 500 or _dev_profile()
