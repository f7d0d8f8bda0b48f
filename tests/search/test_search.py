"""Search: what it finds, for whom, ranked and highlighted; bad input; the GIN indexes in use;
the SQLite fallback's matching and snippets."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from engagements.actions.issues import raise_issue
from engagements.actions.tasks import add_comment
from engagements.choices import Environment
from search import selectors
from search.kinds import BY_KEY, KINDS
from search.selectors import MAX_LENGTH, search, tsquery, words_of
from tests.conftest import task_of
from tests.factories import store_attachments_in

pytestmark = pytest.mark.django_db


def keys(results) -> list[tuple[str, str]]:
    return [(hit.kind.key, hit.engagement) for hit in results.hits]


@pytest.fixture
def story(engagement_a, engagement_b, cse, engineer_a, engineer_b):
    deploy_a = task_of(engagement_a, "deployment", Environment.DEVELOPMENT)
    deploy_b = task_of(engagement_b, "deployment", Environment.DEVELOPMENT)
    add_comment(
        deploy_a, actor=cse, body="The firewall rule for ports 8443 & 8444 is <b>open</b> now."
    )
    add_comment(deploy_b, actor=cse, body="Firewall of subscriber B: secret layout.")
    raise_issue(
        engagement_a,
        actor=engineer_a,
        title="Firewall drops the health checks",
        environment=Environment.PRODUCTION,
        severity="high",
        description="Since Monday the load balancer marks every node down.",
    )
    raise_issue(
        engagement_b,
        actor=engineer_b,
        title="Firewall of B",
        environment=Environment.PRODUCTION,
        severity="high",
        description="B's own trouble.",
    )
    return deploy_a, deploy_b


def test_a_member_finds_their_engagements_things_and_none_of_another_tenants(
    story, engineer_a, engineer_b
):
    results = search(engineer_a, "firewall")
    assert sorted(keys(results)) == [
        ("comment", "Subscriber A: Appliance A"),
        ("issue", "Subscriber A: Appliance A"),
    ]
    # The issue's title matched (weight A): ranked above the comment's body (weight B).
    assert [h.kind.key for h in results.hits] == ["issue", "comment"]
    assert {e for _, e in keys(search(engineer_b, "firewall"))} == {"Subscriber B: Appliance B"}


def test_tasks_engagements_prefixes_and_stems(story, engineer_a, cse):
    found = search(engineer_a, "deploy")  # stems: "Deployment", "deploy"
    assert {
        (h.kind.key, h.title.replace("<mark>", "").replace("</mark>", "")) for h in found.hits
    } >= {
        ("task", "Deployment to Development and Production environments [Development]"),
    }
    assert all(e == "Subscriber A: Appliance A" for _, e in keys(found))
    # A prefix of the plain word ("deploym": not a prefix of the stem "deploy") and another
    # form of the word ("deploying": the same stem) both find it, and mark it.
    # (SQLite's icontains fallback knows no stems: the prefix only.)
    postgres = connection.vendor == "postgresql"
    for typed in ("deploym", "deploying") if postgres else ("deploym",):
        titles = [h.title for h in search(engineer_a, typed).hits if h.kind.key == "task"]
        assert (
            "<mark>Deployment</mark> to Development and Production environments [Development]"
            in titles
        )
    # A prefix finds the whole word; every word must match.
    assert ("engagement", "Subscriber A: Appliance A") in keys(search(engineer_a, "applia"))
    assert search(engineer_a, "firew checks").hits[0].kind.key == "issue"
    assert search(engineer_a, "firewall zebra").hits == []
    # The CSE is on both engagements: both appear.
    assert {e for _, e in keys(search(cse, "firewall"))} == {
        "Subscriber A: Appliance A",
        "Subscriber B: Appliance B",
    }


def test_snippets_and_titles_are_escaped_and_highlighted(story, engineer_a):
    comment = next(h for h in search(engineer_a, "firewall").hits if h.kind.key == "comment")
    assert "<mark>firewall</mark>" in comment.snippet
    # Escaped (ts_headline also drops what looks like a tag): no markup but <mark> gets out.
    assert "8443 &amp; 8444" in comment.snippet and "<b>" not in comment.snippet
    assert comment.url == reverse("engagements:task-detail", args=[story[0].pk])
    issue = next(h for h in search(engineer_a, "firewall").hits if h.kind.key == "issue")
    assert issue.title == "<mark>Firewall</mark> drops the health checks"


def test_bad_input_is_refused_with_a_message_naming_the_field(client_for, engineer_a):
    client = client_for(engineer_a)
    url = reverse("search:results")
    response = client.get(url, {"q": "x" * (MAX_LENGTH + 1)})
    assert response.status_code == 400
    assert f"Search: at most {MAX_LENGTH} characters" in response.content.decode()
    response = client.get(url, {"q": "*** :: !!"})
    assert response.status_code == 400
    assert "Search: type a word or a number" in response.content.decode()
    response = client.get(url, {"q": " ".join(f"w{i}" for i in range(20))})
    assert response.status_code == 400 and "at most 8 words" in response.content.decode()
    # No query: the page, with what search looks through, and no results.
    response = client.get(url)
    assert response.status_code == 200 and "Type a word to look for" in response.content.decode()
    # tsquery syntax typed by a person is only words to us: never an error.
    assert words_of("fire:* & !wall | 'x'") == ["fire", "wall", "x"]


def test_the_results_page_and_the_kind_filter(client_for, story, engineer_a):
    client = client_for(engineer_a)
    page = client.get(reverse("search:results"), {"q": "firewall"}).content.decode()
    assert page.count('data-testid="search-hit"') == 2
    assert "Subscriber B" not in page and "secret layout" not in page
    only = client.get(reverse("search:results"), {"q": "firewall", "kind": "issue"})
    assert only.content.decode().count('data-testid="search-hit"') == 1
    nothing = client.get(reverse("search:results"), {"q": "zebra"}).content.decode()
    assert 'data-testid="search-empty"' in nothing
    # The header carries the box on every page.
    assert (
        'data-testid="header-search"' in client.get(reverse("engagements:my-work")).content.decode()
    )


def test_more_hits_than_shown_are_said(engagement_a, cse, engineer_a, monkeypatch):
    monkeypatch.setattr(selectors, "PER_KIND", 3)
    task = task_of(engagement_a, "deployment", Environment.DEVELOPMENT)
    for n in range(5):
        add_comment(task, actor=cse, body=f"Backup note {n}")
    results = search(engineer_a, "backup note")
    assert [h.kind.key for h in results.hits] == ["comment"] * 3
    assert results.more == [BY_KEY["comment"]]


def test_the_sqlite_fallback_matches_every_word_and_cuts_a_snippet(story, engineer_a):
    """The icontains fallback (SQLite), run here on the same rows: the same visibility."""
    words = ["firewall"]
    found = [
        hit for kind in KINDS for hit in selectors._fallback(kind, kind.visible(engineer_a), words)
    ]
    assert sorted((h.kind.key, h.engagement) for h in found) == [
        ("comment", "Subscriber A: Appliance A"),
        ("issue", "Subscriber A: Appliance A"),
    ]
    comment = next(h for h in found if h.kind.key == "comment")
    assert "<mark>firewall</mark>" in comment.snippet
    assert "&amp; 8444 is &lt;b&gt;open" in comment.snippet
    long = "word " * 100 + "the needle is here " + "word " * 100
    snippet = selectors._cut(long, ["needle"])
    assert snippet.startswith("… ") and snippet.endswith(" …") and "<mark>needle</mark>" in snippet


def test_every_kind_is_served_by_its_gin_index(story, admin_user):
    """The migration's frozen expressions still match each kind's vector: the planner, with
    sequential scans off, reads each kind's GIN index (a changed vector needs a new index).
    On SQLite the migration adds no index and search falls back to icontains."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            for table in ("engagements_engagementtask", "engagements_comment"):
                names = connection.introspection.get_constraints(cursor, table)
                assert not [n for n in names if n.startswith("search_")], table
        assert {h.kind.key for h in search(admin_user, "firewall").hits} == {"comment", "issue"}
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    for kind in KINDS:
        model = kind.visible(admin_user).model  # the table alone: the index is on it
        plan = (
            model._default_manager.alias(_document=kind.vector())
            .filter(_document=tsquery(["firew"]))
            .order_by()
            .explain()
        )
        assert f"search_{kind.key}_gin" in plan, (kind.key, plan)


def test_attachment_names_are_found_within_the_engagements_one_may_see(
    engagement_a, engagement_b, cse, engineer_a, engineer_b, settings, tmp_path, client_for
):
    """Attachment names are a kind of their own (issue 15, item 6): found by their name
    within the engagements the person may see, linked to the access-checked download."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from attachments.actions import add_attachment

    store_attachments_in(settings, tmp_path)
    for engagement, actor in ((engagement_a, engineer_a), (engagement_b, engineer_b)):
        add_attachment(
            task_of(engagement, "deployment", Environment.DEVELOPMENT),
            actor=actor,
            upload=SimpleUploadedFile(
                "load balancer certificate.txt", b"subject=lb\n", content_type="text/plain"
            ),
        )
    found = [h for h in search(engineer_a, "balancer certif").hits if h.kind.key == "attachment"]
    assert [(h.kind.key, h.engagement) for h in found] == [
        ("attachment", "Subscriber A: Appliance A")
    ]
    assert "/attachments/" in found[0].url
    assert client_for(engineer_a).get(found[0].url).status_code == 200
    assert client_for(engineer_b).get(found[0].url).status_code == 404
    assert {h.engagement for h in search(engineer_b, "balancer certificate").hits} == {
        "Subscriber B: Appliance B"
    }
