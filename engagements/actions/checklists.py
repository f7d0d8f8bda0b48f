"""The Infrastructure Checklist of each environment: the subscriber fills and submits it,
the vendor (Consulted) accepts it, which completes Preparing VM Infrastructure and makes the
VMs it lists the environment's VM inventory, or returns it.

Its items are copied from the template version (raci.ChecklistRequirement); their typed
values are checked by raci.checklist_values on every save and again on submission."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from engagements import events, policy
from engagements.actions.tasks import system_move
from engagements.audit import record_event
from engagements.choices import (
    ChecklistStatus,
    SeedTask,
    TaskStatus,
)
from engagements.cleaning import clean_text
from engagements.errors import Conflict, DomainError, Refused
from engagements.models import (
    ChecklistItem,
    ChecklistVM,
    Engagement,
    EngagementTask,
    InfrastructureChecklist,
    VirtualMachine,
)
from engagements.states import CHECKLIST, EDITABLE_CHECKLIST_STATES
from raci.checklist_values import (
    ValueRefused,
    check_tick,
    form_values,
    parse_value,
    parse_vms,
)
from raci.models import ChecklistRequirement


def checklist_task(checklist: InfrastructureChecklist) -> EngagementTask:
    """The Preparing VM Infrastructure task of the checklist's environment (letters prefetched)."""
    return policy.seed_task(
        checklist.engagement_id, SeedTask.INFRASTRUCTURE, environment=checklist.environment
    )


def _items_from(checklist: InfrastructureChecklist, requirements) -> list[ChecklistItem]:
    return [
        ChecklistItem(checklist=checklist, position=r.position, **r.spec().as_dict())
        for r in requirements
    ]


def create_checklists(engagement: Engagement, tasks: list[EngagementTask]) -> None:
    """A checklist per environment tracked by Preparing VM Infrastructure, with the items of
    the engagement's template version."""
    environments = [
        t.environment for t in tasks if t.key == SeedTask.INFRASTRUCTURE and t.environment
    ]
    if not environments:
        return
    requirements = list(
        ChecklistRequirement.objects.filter(version_id=engagement.template_version_id).order_by(
            "position"
        )
    )
    for environment in environments:
        checklist = InfrastructureChecklist.objects.create(
            engagement=engagement, environment=environment
        )
        ChecklistItem.objects.bulk_create(_items_from(checklist, requirements))


def follow_version_items(engagement: Engagement, version_id: int) -> list[str]:
    """The checklists still being filled in take the items of a newly applied version: items
    with the same key keep their values (checked again on the next save), new items are
    added, dropped items go. Submitted and accepted checklists keep theirs. Returns the
    environments whose checklists followed."""
    requirements = list(ChecklistRequirement.objects.filter(version_id=version_id))
    changed = []
    for checklist in engagement.checklists.filter(status__in=EDITABLE_CHECKLIST_STATES):
        items = {i.key: i for i in checklist.items.all()}
        wanted = {r.key: r for r in requirements}
        ChecklistItem.objects.filter(checklist=checklist).exclude(key__in=wanted).delete()
        ChecklistItem.objects.bulk_create(
            _items_from(checklist, [r for k, r in wanted.items() if k not in items])
        )
        for key, item in items.items():
            if key in wanted:
                r = wanted[key]
                for name, value in {"position": r.position, **r.spec().as_dict()}.items():
                    setattr(item, name, value)
                item.save()
        changed.append(checklist.environment)
    return changed


def _locked_checklist(
    checklist: InfrastructureChecklist, revision: int | None
) -> InfrastructureChecklist:
    locked = (
        InfrastructureChecklist.objects.select_for_update(of=("self",))
        .select_related("engagement")
        .get(pk=checklist.pk)
    )
    if revision is not None and revision != locked.revision:
        raise Conflict(
            "The checklist was changed by someone else since you opened it "
            f"(it is now {locked.get_status_display().lower()}). Nothing was saved; review it and try again."
        )
    return locked


def _bump(checklist: InfrastructureChecklist, **fields) -> None:
    for name, value in fields.items():
        setattr(checklist, name, value)
    checklist.revision += 1
    checklist.save(update_fields=[*fields, "revision", "updated_at"])


def _cleaned_items(
    checklist: InfrastructureChecklist, items: Mapping[str, Mapping[str, Any]]
) -> tuple[list[ChecklistItem], dict[str, str]]:
    """The items with their new values, normalised; and the refusals, item by item."""
    current = {item.key: item for item in checklist.items.all()}
    unknown = set(items) - set(current)
    if unknown:
        raise DomainError(f"Unknown checklist items: {', '.join(sorted(unknown))}.")
    today = timezone.localdate()
    changed, errors = [], {}
    for key, item in current.items():
        if key not in items:
            continue
        data = items[key]
        spec, confirmed = item.spec(), bool(data.get("confirmed"))
        try:
            parsed = parse_value(spec, data.get("value"), today=today)
            check_tick(spec, parsed, confirmed)
            note = clean_text(data.get("note", ""), f"{item.label} note", required=False)
        except ValueRefused as exc:
            errors[key] = exc.message
            continue
        except DomainError as exc:
            errors[key] = str(exc)
            continue
        value, parts = (parsed.display, parsed.parts) if parsed else ("", {})
        if (item.value, item.parts, item.note, item.confirmed) != (value, parts, note, confirmed):
            item.value, item.parts, item.note, item.confirmed = value, parts, note, confirmed
            changed.append(item)
    return changed, errors


def _replace_vms(checklist: InfrastructureChecklist, vms: list[dict[str, Any]]) -> bool:
    before = [vm.vm_values() for vm in checklist.vms.all()]
    if before == vms:
        return False
    checklist.vms.all().delete()
    ChecklistVM.objects.bulk_create(
        ChecklistVM(checklist=checklist, position=n, **vm) for n, vm in enumerate(vms, start=1)
    )
    return True


@transaction.atomic
def save_checklist(
    checklist: InfrastructureChecklist,
    *,
    actor,
    items: Mapping[str, Mapping[str, Any]],
    vms: list[Mapping[str, Any]] | None = None,
    revision: int | None = None,
    submit: bool = False,
) -> InfrastructureChecklist:
    """Saves the subscriber's draft (typed values, ticks and notes per item, and the VMs when
    given), and submits it if asked.

    Every value is checked (raci.checklist_values); one refused item refuses the whole save
    with every refusal named (`Refused`). Saving and submitting are one transaction: a
    refused submission saves nothing.
    """
    checklist = _locked_checklist(checklist, revision)
    task = checklist_task(checklist)
    policy.check(actor, "checklist.edit", checklist, task=task)
    changed, errors = _cleaned_items(checklist, items)
    new_vms = None
    if vms is not None:
        try:
            new_vms = parse_vms(list(vms))
        except ValueRefused as exc:
            errors["vms"] = exc.message
    if errors:
        raise Refused(errors)
    ChecklistItem.objects.bulk_update(changed, ["value", "parts", "note", "confirmed"])
    vms_changed = new_vms is not None and _replace_vms(checklist, new_vms)
    _bump(checklist)
    system_move(task, TaskStatus.IN_PROGRESS, actor=actor, via="checklist")
    record_event(
        checklist.engagement,
        events.CHECKLIST_SAVED,
        actor=actor,
        task=task,
        data={
            "environment": checklist.environment,
            "items": [item.key for item in changed],
            **({"vms": [vm["name"] for vm in new_vms or []]} if vms_changed else {}),
        },
    )
    if submit:
        _submit(checklist, task, actor)
    return checklist


def submission_refusals(checklist: InfrastructureChecklist) -> dict[str, str]:
    """What stops the checklist from being submitted, item by item: every item ticked as met,
    every required value present and still valid (a certificate may have expired since it was
    saved), and at least one VM listed."""
    today = timezone.localdate()
    errors: dict[str, str] = {}
    for item in checklist.items.all():
        spec = item.spec()
        try:
            parsed = parse_value(spec, form_values(spec, item.parts), today=today)
            check_tick(spec, parsed, True)
        except ValueRefused as exc:
            errors[item.key] = exc.message
            continue
        if not item.confirmed:
            errors[item.key] = f"{item.label}: tick it as met before submitting"
    if not checklist.vms.exists():
        errors["vms"] = "VMs: list the environment's VMs before submitting"
    return errors


def _submit(checklist: InfrastructureChecklist, task: EngagementTask, actor: Any) -> None:
    policy.check(actor, "checklist.submit", checklist, task=task)
    errors = submission_refusals(checklist)
    if errors:
        raise Refused(errors)
    before = CHECKLIST.apply(checklist, ChecklistStatus.SUBMITTED)
    _bump(checklist, status=checklist.status, submitted_at=timezone.now(), submitted_by=actor)
    record_event(
        checklist.engagement,
        events.CHECKLIST_SUBMITTED,
        actor=actor,
        task=task,
        from_state=before,
        to_state=ChecklistStatus.SUBMITTED,
        data={"environment": checklist.environment},
    )


def _record_inventory(checklist: InfrastructureChecklist) -> list[str]:
    """The accepted checklist's VMs replace the environment's VM inventory."""
    VirtualMachine.objects.filter(
        engagement_id=checklist.engagement_id, environment=checklist.environment
    ).delete()
    now = timezone.now()
    vms = VirtualMachine.objects.bulk_create(
        VirtualMachine(
            engagement_id=checklist.engagement_id,
            environment=checklist.environment,
            checklist=checklist,
            recorded_at=now,
            **vm.vm_values(),
        )
        for vm in checklist.vms.all()
    )
    return [vm.name for vm in vms]


@transaction.atomic
def review_checklist(
    checklist: InfrastructureChecklist,
    *,
    actor,
    accept: bool,
    comment: str = "",
    item_comments: dict[str, str] | None = None,
    revision: int | None = None,
) -> InfrastructureChecklist:
    """The vendor accepts the submitted checklist (completing the task) or returns it with comments."""
    checklist = _locked_checklist(checklist, revision)
    task = checklist_task(checklist)
    policy.check(actor, "checklist.review", checklist, task=task)
    comment = clean_text(comment, "comment", required=False)
    item_comments = {
        k: clean_text(v, "item comment", required=False) for k, v in (item_comments or {}).items()
    }
    if not accept and not (comment or any(item_comments.values())):
        raise DomainError("Say what needs changing: a comment on at least one item, or overall.")
    for item in checklist.items.all():
        new = item_comments.get(item.key, "")
        if item.review_comment != new:
            item.review_comment = new
            item.save(update_fields=["review_comment"])
    to = ChecklistStatus.ACCEPTED if accept else ChecklistStatus.RETURNED
    CHECKLIST.apply(checklist, to)
    _bump(
        checklist, status=to, reviewed_at=timezone.now(), reviewed_by=actor, review_comment=comment
    )
    record_event(
        checklist.engagement,
        events.CHECKLIST_ACCEPTED if accept else events.CHECKLIST_RETURNED,
        actor=actor,
        task=task,
        from_state=ChecklistStatus.SUBMITTED,
        to_state=to,
        data={
            "environment": checklist.environment,
            "comment": comment,
            "items": {k: v for k, v in item_comments.items() if v},
            **({"vms": _record_inventory(checklist)} if accept else {}),
        },
    )
    if accept:
        system_move(task, TaskStatus.DONE, actor=actor, via="checklist")
    return checklist
