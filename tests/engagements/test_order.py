"""The engagement runs in order (issue 11): prerequisites hold tasks back until met or
overridden by the Accountable party; named roles decide who acts and signs; four eyes;
onboarding progress and the operations rows' live state."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from engagements.actions.checklists import review_checklist, save_checklist
from engagements.actions.membership import add_member
from engagements.actions.prerequisites import override_order
from engagements.actions.tasks import sign_off_task, transition_task
from engagements.choices import EngagementState, Environment, TaskStatus
from engagements.errors import DomainError, NotAllowed
from engagements.models import EngagementTask, Event, InfrastructureChecklist, Notification
from engagements.selectors.prerequisites import waits_of
from raci import prerequisites as raci_prerequisites
from raci import services as raci_services
from raci.matrix_diff import compare
from raci.models import Prerequisite, TemplateTask
from tests.conftest import task_of
from tests.factories import (
    OrganizationFactory,
    UserFactory,
    checklist_items,
    checklist_vms,
    make_engagement,
    subscriber_party,
    vendor_party,
)

pytestmark = pytest.mark.django_db
DEV, PROD = Environment.DEVELOPMENT, Environment.PRODUCTION
CSE, ENGINEER = "Auth0 Customer Success Engineer", "subscriber's infrastructure engineer"


@pytest.fixture
def ordered(template_version, org_a, cse, engineer_a):
    """An engagement that keeps the seed's order (no test go-ahead)."""
    engagement = make_engagement(org_a, "In order", version=template_version, in_order=True)
    add_member(engagement, cse, party=vendor_party(), roles=[CSE], is_manager=True)
    add_member(engagement, engineer_a, party=subscriber_party(), roles=[ENGINEER])
    return engagement


def accept_checklist(engagement, environment, engineer, cse):
    checklist = InfrastructureChecklist.objects.get(engagement=engagement, environment=environment)
    save_checklist(
        checklist, actor=engineer, items=checklist_items(), vms=checklist_vms(), submit=True
    )
    checklist.refresh_from_db()
    review_checklist(checklist, actor=cse, accept=True)


def finish(task, actor, *, sign=None):
    transition_task(task, to=TaskStatus.IN_PROGRESS, actor=actor)
    task.refresh_from_db()
    transition_task(task, to=TaskStatus.DONE, actor=actor)
    task.refresh_from_db()
    if sign is not None:
        sign_off_task(task, actor=sign)
        task.refresh_from_db()


def test_a_deployment_waits_for_its_environments_checklist(ordered, cse, engineer_a, vendor_org):
    second = UserFactory(username="cse-2", organization=vendor_org)
    add_member(ordered, second, party=vendor_party(), roles=[CSE])
    deploy = task_of(ordered, "deployment", DEV)
    with pytest.raises(DomainError, match=r"waits on: Preparing VM Infrastructure \[Development\]"):
        transition_task(deploy, to=TaskStatus.IN_PROGRESS, actor=cse)
    deploy.refresh_from_db()
    assert deploy.status == TaskStatus.NOT_STARTED
    accept_checklist(ordered, DEV, engineer_a, cse)
    # The last prerequisite met: the deployment's Responsible people (the CSE role's holders,
    # less the one who accepted) are told it is their turn.
    ready = Event.objects.get(verb="task.ready", task=deploy)
    assert set(Notification.objects.filter(event=ready).values_list("recipient", flat=True)) == {
        second.pk
    }
    transition_task(deploy, to=TaskStatus.IN_PROGRESS, actor=cse)


def test_production_waits_for_the_development_deployment_signed_off(ordered, cse, engineer_a):
    accept_checklist(ordered, DEV, engineer_a, cse)
    accept_checklist(ordered, PROD, engineer_a, cse)
    prod = task_of(ordered, "deployment", PROD)
    assert [w.text for w in waits_of(prod)] == [
        "Deployment to Development and Production environments [Development] signed off"
    ]
    dev = task_of(ordered, "deployment", DEV)
    finish(dev, cse)  # done is not enough: it must be signed off
    assert waits_of(prod)
    sign_off_task(dev, actor=cse)
    assert waits_of(prod) == []
    config_dev = task_of(ordered, "configuration", DEV)
    assert waits_of(config_dev) == []  # its own environment's deployment is signed off
    assert waits_of(task_of(ordered, "configuration", PROD))  # Production's is not


def test_the_accountable_party_overrides_with_a_reason(client_for, ordered, cse, engineer_a):
    config = task_of(ordered, "configuration", DEV)  # Subscriber R, Auth0 C: no A, so R signs
    handover = task_of(ordered, "handover")  # Auth0 R, Subscriber C; waits on configuration
    with pytest.raises(NotAllowed):
        override_order(handover, actor=engineer_a, reason="go")  # not the signing party
    with pytest.raises(DomainError, match="reason"):
        override_order(handover, actor=cse, reason="  ")
    handover.refresh_from_db()
    assert handover.prerequisites_overridden_at is None
    # Over HTTP: the task page offers the override to its Accountable party and says why.
    client = client_for(cse)
    page = client.get(reverse("engagements:task-detail", args=[handover.pk])).content.decode()
    assert 'data-testid="waits-on"' in page and "Go ahead anyway" in page
    response = client.post(
        reverse("engagements:task-override-order", args=[handover.pk]),
        {"revision": handover.revision, "reason": "Meeting booked with the customer's CTO"},
    )
    assert response.status_code == 302
    handover.refresh_from_db()
    assert handover.prerequisites_override_reason == "Meeting booked with the customer's CTO"
    transition_task(handover, to=TaskStatus.IN_PROGRESS, actor=cse)
    event = Event.objects.get(verb="task.order_overridden")
    assert event.data["waits_on"].startswith("Configuration of Development and Production")
    page = client.get(reverse("engagements:task-detail", args=[handover.pk])).content.decode()
    assert 'data-testid="order-overridden"' in page
    response = client.get(reverse("engagements:export-events", args=[ordered.pk]))
    export = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(export)))
    assert any("goes ahead before its prerequisites" in " ".join(row) for row in rows)
    assert config.status == TaskStatus.NOT_STARTED


def test_a_refused_move_over_http_names_what_it_waits_on(client_for, ordered, cse):
    deploy = task_of(ordered, "deployment", DEV)
    client = client_for(cse)
    page = client.get(reverse("engagements:task-detail", args=[deploy.pk])).content.decode()
    assert "Start" not in page.split('data-testid="waits-on"')[0].split("Actions")[-1]
    response = client.post(
        reverse("engagements:task-transition", args=[deploy.pk]),
        {"to": TaskStatus.IN_PROGRESS, "revision": deploy.revision},
        follow=True,
    )
    assert "waits on: Preparing VM Infrastructure [Development] done" in response.content.decode()
    deploy.refresh_from_db()
    assert deploy.status == TaskStatus.NOT_STARTED


def test_only_the_cse_role_signs_off_a_deployment(engagement_a, cse, vendor_org):
    colleague = UserFactory(username="vendor-pm", organization=vendor_org)
    add_member(engagement_a, colleague, party=vendor_party(), is_manager=True)
    deploy = task_of(engagement_a, "deployment", DEV)
    finish(deploy, cse)
    with pytest.raises(NotAllowed, match="Accountable party's Auth0 Customer Success Engineer"):
        sign_off_task(deploy, actor=colleague)
    with pytest.raises(NotAllowed):
        transition_task(
            task_of(engagement_a, "deployment", PROD), to="in_progress", actor=colleague
        )
    sign_off_task(deploy, actor=cse)


def test_a_member_without_the_engineer_role_cannot_submit_the_checklist(engagement_a, org_a, cse):
    newcomer = UserFactory(username="acme-intern", organization=org_a)
    add_member(engagement_a, newcomer, party=subscriber_party())
    checklist = InfrastructureChecklist.objects.get(engagement=engagement_a, environment=DEV)
    with pytest.raises(NotAllowed):
        save_checklist(
            checklist, actor=newcomer, items=checklist_items(), vms=checklist_vms(), submit=True
        )


def test_four_eyes_keeps_the_completer_from_signing_off(engagement_a, cse, vendor_org):
    deploy = task_of(engagement_a, "deployment", DEV)
    EngagementTask.objects.filter(pk=deploy.pk).update(four_eyes=True)
    deploy.refresh_from_db()
    finish(deploy, cse)
    assert deploy.completed_by == cse
    with pytest.raises(NotAllowed, match="four eyes"):
        sign_off_task(deploy, actor=cse)
    second = UserFactory(username="cse-2", organization=vendor_org)
    add_member(engagement_a, second, party=vendor_party(), roles=[CSE])
    sign_off_task(deploy, actor=second)
    deploy.refresh_from_db()
    assert deploy.status == TaskStatus.SIGNED_OFF


def test_the_four_eyes_option_is_template_data(admin_user, template_version):
    draft = raci_services.start_draft(template_version, actor=admin_user)
    task = draft.tasks.get(key="deployment")
    raci_services.update_task(draft, task_id=task.pk, actor=admin_user, four_eyes=True)
    draft = raci_services.publish_version(draft, actor=admin_user)
    diff = compare(
        raci_services.version_matrix(template_version), raci_services.version_matrix(draft)
    )
    assert [c.changes for c in diff.changed] == [["sign-off now needs four eyes"]]
    engagement = make_engagement(OrganizationFactory(), version=draft)
    assert engagement.tasks.get(key="deployment", environment=DEV).four_eyes


def test_onboarding_reaches_100_and_the_engagement_goes_live(client_for, ordered, cse, engineer_a):
    for env in (DEV, PROD):
        accept_checklist(ordered, env, engineer_a, cse)
        infra = task_of(ordered, "infrastructure", env)
        sign_off_task(infra, actor=engineer_a)
    for env in (DEV, PROD):
        finish(task_of(ordered, "deployment", env), cse, sign=cse)
        finish(task_of(ordered, "configuration", env), engineer_a, sign=engineer_a)
    ordered.refresh_from_db()
    assert ordered.state == EngagementState.LIVE
    finish(task_of(ordered, "handover"), cse, sign=cse)
    finish(task_of(ordered, "code_integration"), engineer_a, sign=engineer_a)
    migration = task_of(ordered, "user_migration")
    transition_task(migration, to=TaskStatus.NOT_APPLICABLE, actor=engineer_a, reason="none")
    page = client_for(cse).get(reverse("engagements:engagement-detail", args=[ordered.pk]))
    assert page.context["progress"]["percent"] == 100
    html = page.content.decode()
    assert "8 of 8 onboarding tasks" in html and "(100%)" in html  # migration: not applicable
    assert "<strong>Live</strong>" in html
    # The operations rows show their live state, not "Not started".
    assert 'data-testid="live-backup">Backing up: on time' in html


def test_no_one_holding_a_role_is_a_warning(client_for, template_version, org_a, cse):
    engagement = make_engagement(org_a, "Nobody", version=template_version)
    add_member(engagement, cse, party=vendor_party(), is_manager=True)  # no roles
    html = (
        client_for(cse)
        .get(reverse("engagements:engagement-detail", args=[engagement.pk]))
        .content.decode()
    )
    assert "No one holds Auth0 Customer Success Engineer" in html
    assert "No one holds subscriber&#x27;s infrastructure engineer" in html
    portfolio = client_for(cse).get(reverse("engagements:portfolio")).content.decode()
    assert "No one holds Auth0 Customer Success Engineer" in portfolio


def test_a_prerequisite_cycle_blocks_publishing(admin_user, template_version):
    draft = raci_services.start_draft(template_version, actor=admin_user)
    infra = draft.tasks.get(key="infrastructure")
    deploy = draft.tasks.get(key="deployment")
    # deployment waits on infrastructure; infrastructure waiting on deployment is refused.
    with pytest.raises(raci_services.TemplateError, match="go round in a circle"):
        raci_prerequisites.add_prerequisite(
            draft, task_id=infra.pk, required_id=deploy.pk, actor=admin_user
        )
    assert not Prerequisite.objects.filter(task=infra).exists()
    # Written behind the editor's back (an import), the cycle is a hygiene error and blocks
    # publishing.
    Prerequisite.objects.create(task=infra, required=deploy)
    findings = raci_services.hygiene_findings(raci_services.version_matrix(draft))
    assert any(f.is_error for f in findings)
    with pytest.raises(raci_services.TemplateError, match="circle"):
        draft = raci_services.publish_version(draft, actor=admin_user)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"until": "maybe"}, "Until"),
        ({"environment": "staging"}, "Environment: unknown"),
        ({"for_environment": "development", "task": "handover"}, "For environment"),
        ({"environment": "development", "required": "handover"}, "not tracked per environment"),
        ({"required": "deployment", "task": "deployment"}, "another environment of itself"),
    ],
)
def test_bad_prerequisites_are_refused_naming_the_field(
    admin_user, template_version, fields, message
):
    draft = raci_services.start_draft(template_version, actor=admin_user)
    task = draft.tasks.get(key=fields.pop("task", "code_integration"))
    required = draft.tasks.get(key=fields.pop("required", "infrastructure"))
    before = Prerequisite.objects.count()
    with pytest.raises(raci_services.TemplateError, match=message):
        raci_prerequisites.add_prerequisite(
            draft, task_id=task.pk, required_id=required.pk, actor=admin_user, **fields
        )
    assert Prerequisite.objects.count() == before


def test_the_editor_adds_and_removes_a_prerequisite_over_http(
    client_for, admin_user, template_version
):
    draft = raci_services.start_draft(template_version, actor=admin_user)
    task = draft.tasks.get(key="code_integration")
    required = draft.tasks.get(key="configuration")
    client = client_for(admin_user)
    url = reverse("raci:add-prerequisite", args=[draft.pk])
    response = client.post(
        url,
        {"task": task.pk, "required": required.pk, "until": "done", "environment": "production"},
    )
    assert response.status_code == 302
    added = Prerequisite.objects.get(task=task, required=required)
    assert (
        added.describe()
        == "Configuration of Development and Production environments (Production) done"
    )
    page = client.get(reverse("raci:version-detail", args=[draft.pk])).content.decode()
    assert (
        "waits on Configuration of Development and Production environments (Production) done"
        in page
    )
    response = client.post(
        reverse("raci:remove-prerequisite", args=[draft.pk]), {"prerequisite": added.pk}
    )
    assert not Prerequisite.objects.filter(pk=added.pk).exists()
    # A published version is frozen.
    published = template_version
    response = client.post(
        reverse("raci:add-prerequisite", args=[published.pk]),
        {"task": TemplateTask.objects.filter(version=published).first().pk, "required": 1},
    )
    assert response.status_code == 400


def test_phases_are_template_data_in_the_diff(admin_user, template_version):
    draft = raci_services.start_draft(template_version, actor=admin_user)
    task = draft.tasks.get(key="code_integration")
    raci_services.update_task(draft, task_id=task.pk, actor=admin_user, phase="operations")
    diff = compare(
        raci_services.version_matrix(template_version), raci_services.version_matrix(draft)
    )
    assert [c.changes for c in diff.changed] == [["phase onboarding → operations"]]
    with pytest.raises(raci_services.TemplateError, match="Phase"):
        raci_services.update_task(draft, task_id=task.pk, actor=admin_user, phase="later")
    seed = {t.key: t.phase for t in template_version.tasks.all()}
    assert [k for k, p in seed.items() if p == "operations"] == [
        "monitoring",
        "backup",
        "updates",
        "update_testing",
        "issue_identification",
        "issue_resolution",
    ]


def test_the_matrix_names_what_and_whom_a_task_waits_on(client_for, ordered, cse, engineer_a):
    engineer_a.first_name, engineer_a.last_name = "Alex", "Acme"
    engineer_a.save()
    checklist = InfrastructureChecklist.objects.get(engagement=ordered, environment=PROD)
    save_checklist(checklist, actor=engineer_a, items=checklist_items(), vms=checklist_vms())
    deploy = task_of(ordered, "deployment", PROD)
    html = (
        client_for(cse)
        .get(reverse("engagements:engagement-detail", args=[ordered.pk]))
        .content.decode()
    )
    waits = html.split(f'data-testid="waits-{deploy.pk}">')[1].split("</span>")[0]
    assert waits.startswith(
        "waits on Preparing VM Infrastructure [Production], in progress, Alex Acme"
    )
    assert (
        "Deployment to Development and Production environments [Development], not started" in waits
    )


def test_applying_a_version_that_drops_a_role_says_who_loses_it(
    client_for, admin_user, engagement_a, cse, template_version
):
    from engagements.actions.templates import apply_template_version
    from engagements.models import MemberRole
    from raci.models import TemplateCell

    draft = raci_services.start_draft(template_version, actor=admin_user)
    TemplateCell.objects.filter(task__version=draft, role_title=CSE).update(role_title="")
    newer = raci_services.publish_version(draft, actor=admin_user)
    page = (
        client_for(cse)
        .get(reverse("engagements:engagement-template", args=[engagement_a.pk]))
        .content.decode()
    )
    assert 'data-testid="roles-lost"' in page and "loses <strong>Auth0 Customer Success" in page
    event = apply_template_version(engagement_a, newer, actor=cse)
    assert event.data["roles_lost"] == [f"{cse.get_full_name()}: {CSE}"]
    assert not MemberRole.objects.filter(membership__user=cse, membership__engagement=engagement_a)
