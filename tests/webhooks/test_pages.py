"""The webhook pages: the engagement's managers register endpoints, read the delivery log,
replay, enable and delete; a member who does not manage gets 403, anyone else 404; bad input
names the field and saves nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from engagements.actions.tasks import add_comment
from engagements.models import Event
from tests.conftest import task_of
from webhooks.actions import create_endpoint
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://93.184.216.34/hook"


def test_a_manager_registers_an_endpoint_and_sees_its_secret_once(client_for, engagement_a, cse):
    client = client_for(cse)
    url = reverse("webhooks:endpoints", args=[engagement_a.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"url": PUBLIC_URL, "kinds": ["task.commented", "issue.raised"], "description": "CI"}
    )
    assert response.status_code == 201
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.kinds == ["task.commented", "issue.raised"] and endpoint.created_by == cse
    assert endpoint.secret in response.content.decode()
    page = client.get(reverse("webhooks:endpoint", args=[endpoint.pk])).content.decode()
    assert endpoint.secret not in page and endpoint.secret_hint in page
    assert Event.objects.filter(verb="webhook.created", engagement=engagement_a).count() == 1
    # A secret of the program's own is kept as given.
    given = "whsec_" + "A" * 44
    client.post(url, {"url": PUBLIC_URL, "kinds": ["task.commented"], "secret": given})
    assert WebhookEndpoint.objects.filter(secret=given).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"url": PUBLIC_URL}, "Events"),
        ({"url": PUBLIC_URL, "kinds": ["task.nonsense"]}, "Events"),
        ({"url": PUBLIC_URL, "kinds": ["webhook.disabled"]}, "Events"),
        ({"url": "", "kinds": ["task.commented"]}, "URL"),
        ({"url": "https://10.0.0.1/x", "kinds": ["task.commented"]}, "URL"),
        ({"url": PUBLIC_URL, "kinds": ["task.commented"], "secret": "plain"}, "Secret"),
        ({"url": PUBLIC_URL, "kinds": ["task.commented"], "secret": "whsec_AAAA"}, "Secret"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(client_for, engagement_a, cse, data, field):
    before = Event.objects.count()
    response = client_for(cse).post(reverse("webhooks:endpoints", args=[engagement_a.pk]), data)
    assert response.status_code == 400
    assert f"{field}:" in response.content.decode()
    assert WebhookEndpoint.objects.count() == 0 and Event.objects.count() == before


def test_a_member_who_does_not_manage_gets_403_and_an_outsider_404(
    client_for, engagement_a, engineer_a, engineer_b, cse
):
    endpoint, _ = create_endpoint(engagement_a, actor=cse, url=PUBLIC_URL, kinds=["task.commented"])
    add_comment(task_of(engagement_a, "monitoring"), actor=cse, body="x")
    row = WebhookDelivery.objects.get()
    routes = [
        ("get", reverse("webhooks:endpoints", args=[engagement_a.pk])),
        ("post", reverse("webhooks:endpoints", args=[engagement_a.pk])),
        ("get", reverse("webhooks:endpoint", args=[endpoint.pk])),
        ("post", reverse("webhooks:endpoint-enable", args=[endpoint.pk])),
        ("post", reverse("webhooks:endpoint-delete", args=[endpoint.pk])),
        ("post", reverse("webhooks:delivery-replay", args=[row.pk])),
    ]
    for user, status in ((engineer_a, 403), (engineer_b, 404)):
        client = client_for(user)
        for method, url in routes:
            data = {"url": PUBLIC_URL, "kinds": ["task.commented"]}
            assert getattr(client, method)(url, data).status_code == status, (user, url)
    assert WebhookEndpoint.objects.count() == 1 and WebhookEndpoint.objects.get().enabled
    assert client_for(cse).put(routes[0][1]).status_code == 405


def test_replay_enable_and_delete(client_for, engagement_a, cse):
    endpoint, _ = create_endpoint(engagement_a, actor=cse, url=PUBLIC_URL, kinds=["task.commented"])
    add_comment(task_of(engagement_a, "monitoring"), actor=cse, body="x")
    row = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=row.pk).update(given_up_at=row.created_at, attempts=9)
    client = client_for(cse)
    page = client.get(reverse("webhooks:endpoint", args=[endpoint.pk])).content.decode()
    assert row.message_id in page and "Failed (given up)" in page and "Replay" in page
    message_id = row.message_id
    response = client.post(reverse("webhooks:delivery-replay", args=[row.pk]))
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.given_up_at is None and row.retry_at is None and row.message_id == message_id
    # Enabling an enabled endpoint is a conflict; nothing changes.
    assert client.post(reverse("webhooks:endpoint-enable", args=[endpoint.pk])).status_code == 409
    response = client.post(reverse("webhooks:endpoint-delete", args=[endpoint.pk]))
    assert response.status_code == 302
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()
    verbs = list(Event.objects.filter(verb__startswith="webhook.").values_list("verb", flat=True))
    assert sorted(verbs) == ["webhook.changed", "webhook.created", "webhook.deleted"]


def test_a_delivery_being_sent_is_not_replayed_twice(client_for, engagement_a, cse):
    """A row a worker holds now (claimed within the lease) is refused with a conflict and
    keeps its claim; so does enabling its endpoint."""
    from django.utils import timezone

    endpoint, _ = create_endpoint(engagement_a, actor=cse, url=PUBLIC_URL, kinds=["task.commented"])
    add_comment(task_of(engagement_a, "monitoring"), actor=cse, body="x")
    row = WebhookDelivery.objects.get()
    claimed = timezone.now()
    WebhookDelivery.objects.filter(pk=row.pk).update(claimed_at=claimed)
    response = client_for(cse).post(reverse("webhooks:delivery-replay", args=[row.pk]))
    assert response.status_code == 409
    row.refresh_from_db()
    assert row.claimed_at == claimed
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False)
    assert (
        client_for(cse).post(reverse("webhooks:endpoint-enable", args=[endpoint.pk])).status_code
        == 302
    )
    row.refresh_from_db()
    assert row.claimed_at == claimed
