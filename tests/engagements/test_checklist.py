from __future__ import annotations

import pytest
from django.urls import reverse

from engagements.actions.checklists import review_checklist, save_checklist
from engagements.choices import ChecklistItemKey, ChecklistStatus, Environment, TaskStatus
from engagements.errors import DomainError, NotAllowed
from engagements.models import ChecklistItem, Event, InfrastructureChecklist
from tests.conftest import task_of

pytestmark = pytest.mark.django_db
DEV = Environment.DEVELOPMENT


def full_items() -> dict[str, dict]:
    return {
        key: {"value": f"{key} ok", "confirmed": True, "note": ""}
        for key in ChecklistItemKey.values
    }


def form_data(checklist, items: dict[str, dict], **extra) -> dict:
    data = {"revision": checklist.revision, **extra}
    for key, item in items.items():
        data[f"{key}-value"] = item["value"]
        data[f"{key}-note"] = item["note"]
        if item["confirmed"]:
            data[f"{key}-confirmed"] = "on"
    return data


@pytest.fixture
def checklist(engagement_a):
    return InfrastructureChecklist.objects.get(engagement=engagement_a, environment=DEV)


def test_each_environment_has_a_checklist_with_the_seeds_items(engagement_a):
    assert sorted(engagement_a.checklists.values_list("environment", flat=True)) == [
        "development",
        "production",
    ]
    assert ChecklistItem.objects.filter(checklist__engagement=engagement_a).count() == 18


def test_save_submit_accept_completes_the_task(checklist, engineer_a, cse, engagement_a):
    save_checklist(
        checklist, actor=engineer_a, items={"memory": {"value": "16 GB", "confirmed": True}}
    )
    task = task_of(engagement_a, "infrastructure", DEV)
    assert task.status == TaskStatus.IN_PROGRESS  # the first save starts the task
    with pytest.raises(DomainError, match="missing: Storage"):
        save_checklist(checklist, actor=engineer_a, items={}, submit=True)
    checklist.refresh_from_db()
    save_checklist(checklist, actor=engineer_a, items=full_items(), submit=True)
    checklist.refresh_from_db()
    assert checklist.status == ChecklistStatus.SUBMITTED and checklist.submitted_by == engineer_a
    with pytest.raises(NotAllowed, match="Consulted"):
        review_checklist(checklist, actor=engineer_a, accept=True)
    review_checklist(checklist, actor=cse, accept=True, comment="Looks right")
    checklist.refresh_from_db()
    task.refresh_from_db()
    assert checklist.status == ChecklistStatus.ACCEPTED
    assert task.status == TaskStatus.DONE
    verbs = list(Event.objects.filter(task=task).order_by("id").values_list("verb", flat=True))
    assert verbs == [
        "task.status_changed",
        "checklist.saved",
        "checklist.saved",
        "checklist.submitted",
        "checklist.accepted",
        "task.status_changed",
    ]


def test_return_needs_a_comment_and_reopens_editing(checklist, engineer_a, cse):
    save_checklist(checklist, actor=engineer_a, items=full_items(), submit=True)
    checklist.refresh_from_db()
    with pytest.raises(DomainError, match="Say what needs changing"):
        review_checklist(checklist, actor=cse, accept=False)
    review_checklist(
        checklist, actor=cse, accept=False, item_comments={"dns_records": "Missing the admin host"}
    )
    checklist.refresh_from_db()
    assert checklist.status == ChecklistStatus.RETURNED
    assert checklist.items.get(key="dns_records").review_comment == "Missing the admin host"
    save_checklist(checklist, actor=engineer_a, items=full_items(), submit=True)


def test_the_vendor_cannot_fill_it_in(checklist, cse):
    with pytest.raises(NotAllowed, match="Responsible"):
        save_checklist(checklist, actor=cse, items=full_items())


def test_a_submitted_checklist_is_not_editable(checklist, engineer_a):
    save_checklist(checklist, actor=engineer_a, items=full_items(), submit=True)
    checklist.refresh_from_db()
    with pytest.raises(DomainError, match="can no longer be edited"):
        save_checklist(checklist, actor=engineer_a, items=full_items())


def test_failed_submit_over_http_saves_nothing(client_for, checklist, engineer_a):
    items = {**full_items(), "storage": {"value": "", "confirmed": False, "note": ""}}
    response = client_for(engineer_a).post(
        reverse("engagements:checklist-save", args=[checklist.pk]),
        form_data(checklist, items, submit="1"),
    )
    assert response.status_code == 400
    assert "missing: Storage" in response.content.decode()
    checklist.refresh_from_db()
    assert checklist.status == ChecklistStatus.DRAFT
    assert not checklist.items.exclude(value="").exists()


def test_http_flow_and_isolation(client_for, checklist, engineer_a, engineer_b, cse):
    url = reverse("engagements:checklist-save", args=[checklist.pk])
    assert (
        client_for(engineer_b)
        .get(reverse("engagements:checklist-detail", args=[checklist.pk]))
        .status_code
        == 404
    )
    assert client_for(engineer_b).post(url, form_data(checklist, full_items())).status_code == 404
    assert client_for(cse).post(url, form_data(checklist, full_items())).status_code == 403
    response = client_for(engineer_a).post(url, form_data(checklist, full_items(), submit="1"))
    assert response.status_code == 302
    checklist.refresh_from_db()
    review = reverse("engagements:checklist-review", args=[checklist.pk])
    assert (
        client_for(engineer_a)
        .post(review, {"revision": checklist.revision, "decision": "accept"})
        .status_code
        == 403
    )
    assert (
        client_for(cse)
        .post(review, {"revision": checklist.revision, "decision": "maybe"})
        .status_code
        == 400
    )
    assert (
        client_for(cse)
        .post(review, {"revision": checklist.revision, "decision": "accept"})
        .status_code
        == 302
    )
    checklist.refresh_from_db()
    assert checklist.status == ChecklistStatus.ACCEPTED


def test_my_work_lists_the_checklist_to_review_for_the_vendor(
    client_for, checklist, engineer_a, cse
):
    save_checklist(checklist, actor=engineer_a, items=full_items(), submit=True)
    response = client_for(cse).get(reverse("engagements:my-work"))
    assert response.context["to_review"] == [checklist]
    assert "Checklists to review" in response.content.decode()
    assert client_for(engineer_a).get(reverse("engagements:my-work")).context["to_review"] == []


def test_the_checklist_is_the_gate_infrastructure_is_not_marked_done_by_hand(
    checklist, engineer_a, cse, engagement_a
):
    from engagements.actions.tasks import transition_task
    from engagements.policy import member_seat, moves_offered

    task = task_of(engagement_a, "infrastructure", DEV)
    transition_task(task, to=TaskStatus.IN_PROGRESS, actor=engineer_a)
    task.refresh_from_db()
    party = member_seat(engagement_a.pk, engineer_a)
    assert TaskStatus.DONE not in [to for to, _ in moves_offered(task, party, engineer_a)]
    with pytest.raises(DomainError, match="accepts its Infrastructure Checklist"):
        transition_task(task, to=TaskStatus.DONE, actor=engineer_a)
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_PROGRESS
    save_checklist(checklist, actor=engineer_a, items=full_items(), submit=True)
    checklist.refresh_from_db()
    review_checklist(checklist, actor=cse, accept=True)
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE  # acceptance, and only acceptance, completes it
