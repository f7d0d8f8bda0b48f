from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from engagements.actions.checklists import review_checklist, save_checklist
from engagements.actions.tasks import transition_task
from engagements.choices import ChecklistStatus, Environment, TaskStatus
from engagements.errors import DomainError, NotAllowed, Refused
from engagements.models import ChecklistItem, Event, InfrastructureChecklist, VirtualMachine
from engagements.policy import moves_offered
from raci.checklist_values import PARTS
from tests.conftest import task_of
from tests.factories import checklist_items, checklist_vms

pytestmark = pytest.mark.django_db
DEV = Environment.DEVELOPMENT
SEED_KEYS = [
    "memory",
    "storage",
    "processors",
    "load_balancers",
    "networks",
    "ssl_certificates",
    "dns_records",
    "smtp_servers",
    "vendor_access",
]


def form_data(checklist, items: dict[str, dict], vms: list[dict] | None = None, **extra) -> dict:
    """The POST the checklist page sends: each item's typed parts, tick and note; the VM rows."""
    data = {"revision": checklist.revision, **extra}
    parts = {i.key: i for i in checklist.items.all()}
    for key, item in items.items():
        value = item["value"]
        if isinstance(value, str):
            value = {PARTS[parts[key].kind][0].name: value}
        for part, text in value.items():
            data[f"{key}-{part}"] = text
        data[f"{key}-note"] = item.get("note", "")
        if item["confirmed"]:
            data[f"{key}-confirmed"] = "on"
    if vms is not None:
        data["vm_rows"] = len(vms)
        for n, vm in enumerate(vms):
            for name, value in vm.items():
                data[f"vm-{n}-{name}"] = value
    return data


def submit(checklist, actor, **overrides):
    save_checklist(
        checklist, actor=actor, items=checklist_items(**overrides), vms=checklist_vms(), submit=True
    )
    checklist.refresh_from_db()
    return checklist


@pytest.fixture
def checklist(engagement_a):
    return InfrastructureChecklist.objects.get(engagement=engagement_a, environment=DEV)


def test_each_environment_has_a_checklist_with_the_template_versions_items(engagement_a):
    assert sorted(engagement_a.checklists.values_list("environment", flat=True)) == [
        "development",
        "production",
    ]
    for checklist in engagement_a.checklists.all():
        items = list(checklist.items.all())
        assert [i.key for i in items] == SEED_KEYS
        ssl = next(i for i in items if i.key == "ssl_certificates")
        assert (ssl.label, ssl.kind, ssl.required) == ("SSL certificate", "certificate", True)
        assert "expiry date" in ssl.requirement


def test_save_submit_accept_completes_the_task_and_records_the_inventory(
    checklist, engineer_a, cse, engagement_a
):
    save_checklist(
        checklist, actor=engineer_a, items={"memory": {"value": "16", "confirmed": True}}
    )
    task = task_of(engagement_a, "infrastructure", DEV)
    assert task.status == TaskStatus.IN_PROGRESS  # the first save starts the task
    memory = checklist.items.get(key="memory")
    assert (memory.value, memory.parts) == ("16 GB", {"number": 16})
    with pytest.raises(Refused, match="Storage: enter the value") as refused:
        save_checklist(checklist, actor=engineer_a, items={}, submit=True)
    assert refused.value.errors["vms"] == "VMs: list the environment's VMs before submitting"
    checklist.refresh_from_db()
    submit(checklist, engineer_a)
    assert checklist.status == ChecklistStatus.SUBMITTED and checklist.submitted_by == engineer_a
    assert not VirtualMachine.objects.exists()  # only acceptance makes the inventory
    with pytest.raises(NotAllowed, match="Consulted"):
        review_checklist(checklist, actor=engineer_a, accept=True)
    review_checklist(checklist, actor=cse, accept=True, comment="Looks right")
    checklist.refresh_from_db()
    task.refresh_from_db()
    assert checklist.status == ChecklistStatus.ACCEPTED
    assert task.status == TaskStatus.DONE
    inventory = list(VirtualMachine.objects.filter(engagement=engagement_a, environment=DEV))
    assert [
        (vm.name, vm.address, vm.processors, vm.memory_gb, vm.storage_gb) for vm in inventory
    ] == [
        ("app-1", "10.20.0.11", 8, 32, 200),
        ("app-2", "10.20.0.12", 8, 32, 200),
    ]
    accepted = Event.objects.get(task=task, verb="checklist.accepted")
    assert accepted.data["vms"] == ["app-1", "app-2"]
    verbs = list(Event.objects.filter(task=task).order_by("id").values_list("verb", flat=True))
    assert verbs == [
        "task.status_changed",
        "checklist.saved",
        "checklist.saved",
        "checklist.submitted",
        "checklist.accepted",
        "task.status_changed",
    ]


BAD_VALUES = [
    # (item, value, the message: the item named, and why)
    ("processors", "eight", "Processors: must be a whole number"),
    ("processors", "0", "Processors: 0 is below the minimum of 1"),
    ("processors", "513", "Processors: 513 is above the maximum of 512"),
    ("memory", "-4", "Memory: must be a whole number of GB"),
    ("storage", "2000000", "Storage: 2000000 is above the maximum of 1000000"),
    ("load_balancers", "lb_dev!", "Load balancer address: not a host name or IP address"),
    ("load_balancers", "10.0.0.300", "Load balancer address: not a host name or IP address"),
    ("networks", "10.20.0.5/24", "Networks: 10.20.0.5/24 has host bits set"),
    ("networks", "10.20.0.0", "Networks: 10.20.0.0 is not in CIDR notation"),
    (
        "ssl_certificates",
        {"subject": "CN=login.example.com", "expires": "2026-01-02"},
        "SSL certificate: the certificate expired on 2026-01-02",
    ),
    (
        "ssl_certificates",
        {"subject": "CN=login.example.com", "expires": "31/12/2027"},
        "SSL certificate: '31/12/2027' is not a date",
    ),
    ("ssl_certificates", {"subject": "", "expires": "2099-01-01"}, "SSL certificate: give both"),
    ("dns_records", "login.example.com MX mail", "DNS records: record 1: the type must be"),
    (
        "dns_records",
        "login.example.com A 10.0.0",
        "DNS records: record 1: '10.0.0' is not a valid A",
    ),
    (
        "smtp_servers",
        {"host": "smtp.example.com", "port": "70000"},
        "SMTP server: port must be 1–65535",  # noqa: RUF001
    ),
    ("smtp_servers", {"host": "smtp example", "port": "25"}, "SMTP server: the host is not"),
    (
        "vendor_access",
        {"method": "ssh", "address": "jump.example.com"},
        "choose a jumphost or a VPN",
    ),
    (
        "vendor_access",
        {"method": "vpn", "address": "vpn..example"},
        "Auth0 access (jumphost or VPN): the address",
    ),
]


@pytest.mark.parametrize(("key", "value", "message"), BAD_VALUES)
def test_a_malformed_or_out_of_range_value_is_refused_naming_the_item_and_nothing_is_saved(
    checklist, engineer_a, key, value, message
):
    if isinstance(value, dict) and value.get("expires") == "2026-01-02":
        assert timezone.localdate() > dt.date(2026, 1, 2)
    before = list(ChecklistItem.objects.filter(checklist=checklist).values())
    with pytest.raises(Refused, match=message.replace("(", r"\(").replace(")", r"\)")) as refused:
        save_checklist(
            checklist,
            actor=engineer_a,
            items=checklist_items(**{key: value}),
            vms=checklist_vms(),
            submit=True,
        )
    assert list(refused.value.errors) == [key]  # the others were fine
    checklist.refresh_from_db()
    assert checklist.status == ChecklistStatus.DRAFT and checklist.revision == 1
    assert list(ChecklistItem.objects.filter(checklist=checklist).values()) == before
    assert not checklist.vms.exists()
    assert not Event.objects.filter(verb__startswith="checklist.").exists()


def test_a_tick_without_a_required_value_is_refused(checklist, engineer_a):
    with pytest.raises(Refused, match="SSL certificate: enter the value before ticking it"):
        save_checklist(
            checklist,
            actor=engineer_a,
            items={
                "ssl_certificates": {"value": {"subject": "", "expires": ""}, "confirmed": True}
            },
        )
    # Without the tick, an empty value is a draft like any other.
    save_checklist(
        checklist,
        actor=engineer_a,
        items={"ssl_certificates": {"value": {"subject": "", "expires": ""}, "confirmed": False}},
    )


def test_every_item_must_be_ticked_and_a_certificate_that_expired_since_saving_refuses_submission(
    checklist, engineer_a
):
    items = checklist_items()
    items["dns_records"]["confirmed"] = False
    with pytest.raises(Refused, match="DNS records: tick it as met before submitting"):
        save_checklist(checklist, actor=engineer_a, items=items, vms=checklist_vms(), submit=True)
    save_checklist(checklist, actor=engineer_a, items=checklist_items(), vms=checklist_vms())
    ChecklistItem.objects.filter(checklist=checklist, key="ssl_certificates").update(
        parts={"subject": "CN=login.example.com", "expires": "2026-01-02"}
    )
    checklist.refresh_from_db()
    with pytest.raises(Refused, match="the certificate expired on 2026-01-02"):
        save_checklist(checklist, actor=engineer_a, items={}, submit=True)


def test_vms_are_checked_and_a_name_listed_twice_is_refused(checklist, engineer_a):
    vms = checklist_vms()
    vms[1]["memory_gb"] = "0"
    with pytest.raises(
        Refused, match=r"VM 2 \(app-2\): memory \(GB\) must be a whole number from 1"
    ):
        save_checklist(checklist, actor=engineer_a, items={}, vms=vms)
    vms = checklist_vms()
    vms[1]["name"] = "APP-1"
    with pytest.raises(Refused, match="VMs: APP-1 is listed twice"):
        save_checklist(checklist, actor=engineer_a, items={}, vms=vms)
    save_checklist(checklist, actor=engineer_a, items={}, vms=[*checklist_vms(1), {}])  # blank row
    assert [vm.name for vm in checklist.vms.all()] == ["app-1"]


def test_return_needs_a_comment_and_reopens_editing(checklist, engineer_a, cse):
    submit(checklist, engineer_a)
    with pytest.raises(DomainError, match="Say what needs changing"):
        review_checklist(checklist, actor=cse, accept=False)
    review_checklist(
        checklist, actor=cse, accept=False, item_comments={"dns_records": "Missing the admin host"}
    )
    checklist.refresh_from_db()
    assert checklist.status == ChecklistStatus.RETURNED
    assert checklist.items.get(key="dns_records").review_comment == "Missing the admin host"
    assert not VirtualMachine.objects.exists()
    submit(checklist, engineer_a)


def test_the_vendor_cannot_fill_it_in(checklist, cse):
    with pytest.raises(NotAllowed, match="Responsible"):
        save_checklist(checklist, actor=cse, items=checklist_items())


def test_a_submitted_checklist_is_not_editable(checklist, engineer_a):
    submit(checklist, engineer_a)
    with pytest.raises(DomainError, match="can no longer be edited"):
        save_checklist(checklist, actor=engineer_a, items=checklist_items())


# --- Over HTTP ---------------------------------------------------------------------------------


def test_the_page_renders_typed_labelled_inputs(client_for, checklist, engineer_a):
    page = client_for(engineer_a).get(reverse("engagements:checklist-detail", args=[checklist.pk]))
    html = page.content.decode()
    assert '<input id="v-processors-number" name="processors-number" type="number"' in html
    assert 'min="1" max="512"' in html
    assert 'id="v-ssl_certificates-expires" name="ssl_certificates-expires" type="date"' in html
    assert '<label for="v-smtp_servers-port" class="small">Port</label>' in html
    assert '<select id="v-vendor_access-method" name="vendor_access-method"' in html
    assert 'name="vm-0-name"' in html and 'name="vm_rows" value="3"' in html


def test_a_refused_submit_over_http_names_the_field_next_to_it_and_saves_nothing(
    client_for, checklist, engineer_a
):
    items = checklist_items(smtp_servers={"host": "smtp.example.com", "port": "99999"})
    response = client_for(engineer_a).post(
        reverse("engagements:checklist-save", args=[checklist.pk]),
        form_data(checklist, items, checklist_vms(), submit="1"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "SMTP server: port must be 1–65535" in html  # noqa: RUF001
    assert '<p class="field-error msg msg-error small" id="e-smtp_servers">' in html
    assert 'aria-describedby="r-smtp_servers e-smtp_servers" aria-invalid="true"' in html
    assert 'value="99999"' in html  # what was typed is shown again
    checklist.refresh_from_db()
    assert checklist.status == ChecklistStatus.DRAFT and checklist.revision == 1
    assert not checklist.items.exclude(value="").exists() and not checklist.vms.exists()


def test_htmx_save_answers_with_the_checklist_fragment(client_for, checklist, engineer_a):
    response = client_for(engineer_a).post(
        reverse("engagements:checklist-save", args=[checklist.pk]),
        form_data(checklist, checklist_items(), checklist_vms()),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<div id="checklist">') and "Draft saved." in html
    assert 'value="app-2"' in html


def test_http_flow_inventory_and_isolation(client_for, checklist, engineer_a, engineer_b, cse):
    url = reverse("engagements:checklist-save", args=[checklist.pk])
    data = form_data(checklist, checklist_items(), checklist_vms())
    assert (
        client_for(engineer_b)
        .get(reverse("engagements:checklist-detail", args=[checklist.pk]))
        .status_code
        == 404
    )
    assert client_for(engineer_b).post(url, data).status_code == 404
    assert client_for(cse).post(url, data).status_code == 403
    response = client_for(engineer_a).post(url, {**data, "submit": "1"})
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
    engagement_page = client_for(cse).get(
        reverse("engagements:engagement-detail", args=[checklist.engagement_id])
    )
    assert '<th scope="row">app-2</th><td>10.20.0.12</td>' in engagement_page.content.decode()
    page = client_for(engineer_a).get(reverse("engagements:checklist-detail", args=[checklist.pk]))
    html = page.content.decode()
    assert "smtp.example.com:587" in html and 'name="vm-0-name"' not in html  # read-only now


def test_my_work_lists_the_checklist_to_review_for_the_vendor(
    client_for, checklist, engineer_a, cse
):
    submit(checklist, engineer_a)
    response = client_for(cse).get(reverse("engagements:my-work"))
    assert response.context["to_review"] == [checklist]
    assert "Checklists to review" in response.content.decode()
    assert client_for(engineer_a).get(reverse("engagements:my-work")).context["to_review"] == []


def test_the_checklist_is_the_gate_infrastructure_is_not_marked_done_by_hand(
    checklist, engineer_a, cse, engagement_a
):
    from engagements.policy import member_seat

    task = task_of(engagement_a, "infrastructure", DEV)
    transition_task(task, to=TaskStatus.IN_PROGRESS, actor=engineer_a)
    task.refresh_from_db()
    party = member_seat(engagement_a.pk, engineer_a)
    assert TaskStatus.DONE not in [to for to, _ in moves_offered(task, party, engineer_a)]
    with pytest.raises(DomainError, match="accepts its Infrastructure Checklist"):
        transition_task(task, to=TaskStatus.DONE, actor=engineer_a)
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_PROGRESS
    submit(checklist, engineer_a)
    review_checklist(checklist, actor=cse, accept=True)
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE  # acceptance, and only acceptance, completes it


def test_a_refused_vm_over_http_is_named_above_the_vm_rows(client_for, checklist, engineer_a):
    vms = checklist_vms()
    vms[0]["address"] = "not an address"
    response = client_for(engineer_a).post(
        reverse("engagements:checklist-save", args=[checklist.pk]),
        form_data(checklist, checklist_items(), vms),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="e-vms">VM 1 (app-1): the address is not a host name or IP address' in html
    assert 'value="not an address"' in html
    assert not checklist.vms.exists() and not checklist.items.exclude(value="").exists()
