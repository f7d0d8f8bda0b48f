"""Reads for the Infrastructure Checklist page: its items with their typed inputs, the VMs
it lists, and the environment's VM inventory."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engagements import policy
from engagements.choices import SeedTask
from engagements.errors import DomainError
from engagements.models import ChecklistItem, InfrastructureChecklist, VirtualMachine
from engagements.selectors.attached import Removal, attached, attached_json
from raci.checklist_values import PARTS, VM_FIELDS, form_values

BLANK_VM_ROWS = 3  # empty rows offered for more VMs (no script needed to add one)


@dataclass
class Input:
    """One input of an item's value, as the page renders it."""

    name: str  # the form field, e.g. "smtp_servers-port"
    id: str
    label: str
    input_type: str
    value: str
    choices: tuple[tuple[str, str], ...] = ()
    placeholder: str = ""


@dataclass
class ItemRow:
    item: ChecklistItem
    inputs: list[Input]
    confirmed: bool
    note: str
    error: str = ""
    error_id: str = ""


def _item_rows(
    items: list[ChecklistItem], posted: Mapping[str, Any] | None, errors: Mapping[str, str]
) -> list[ItemRow]:
    rows = []
    for item in items:
        shown = form_values(item.spec(), item.parts)
        confirmed, note = item.confirmed, item.note
        if posted is not None:  # a refused post: show what was typed, not what is stored
            shown = {name: str(posted.get(f"{item.key}-{name}", "")) for name in shown}
            confirmed = bool(posted.get(f"{item.key}-confirmed"))
            note = str(posted.get(f"{item.key}-note", ""))
        inputs = [
            Input(
                name=f"{item.key}-{part.name}",
                id=f"v-{item.key}-{part.name}",
                label=part.label,
                input_type=part.input_type,
                value=shown.get(part.name, ""),
                choices=part.choices,
                placeholder=part.placeholder,
            )
            for part in PARTS.get(item.kind, ())
        ]
        error = errors.get(item.key, "")
        rows.append(ItemRow(item, inputs, confirmed, note, error, f"e-{item.key}" if error else ""))
    return rows


def _vm_rows(
    checklist: InfrastructureChecklist, posted: Mapping[str, Any] | None, editable: bool
) -> list[dict[str, str]]:
    """The VM rows the form shows (posted ones after a refusal), and blank rows to add more."""
    if posted is not None:
        count = str(posted.get("vm_rows", ""))
        rows = [
            {f: str(posted.get(f"vm-{n}-{f}", "")) for f in VM_FIELDS}
            for n in range(min(int(count), 100) if count.isdigit() else 0)
        ]
        rows = [row for row in rows if any(row.values())]
    else:
        rows = [{f: str(v) for f, v in vm.vm_values().items()} for vm in checklist.vms.all()]
    if editable:
        rows += [dict.fromkeys(VM_FIELDS, "") for _ in range(BLANK_VM_ROWS)]
    return rows


def inventory_of(engagement_id: int, environment: str | None = None) -> list[VirtualMachine]:
    """The VM inventory of an engagement (or of one environment), 1 query."""
    vms = VirtualMachine.objects.filter(engagement_id=engagement_id)
    if environment:
        vms = vms.filter(environment=environment)
    return list(vms.order_by("environment", "name"))


def checklist_page(
    checklist: InfrastructureChecklist,
    *,
    user: Any,
    posted: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
) -> dict:
    """Queries: the task and letters (2), my party (1), items (1), the checklist's VMs (1),
    the environment's inventory (1). `posted` and `errors` re-show a refused form."""
    try:
        task = policy.seed_task(
            checklist.engagement_id, SeedTask.INFRASTRUCTURE, environment=checklist.environment
        )
    except DomainError:
        task = None
    offered = policy.offered(user, checklist, tasks={SeedTask.INFRASTRUCTURE: task})
    can_edit = "checklist.edit" in offered
    errors = errors or {}
    # Each item's files in the items' own query (no query per item).
    items: list[Any] = list(checklist.items.annotate(attached_rows=attached_json("checklist_item")))
    can_attach = "checklist.attach" in offered
    removal = Removal(user, checklist.engagement, can_attach=can_attach)
    for item in items:
        item.attached = removal.mark(attached(item.attached_rows))
    vm_rows = _vm_rows(checklist, posted, can_edit)
    return {
        "checklist": checklist,
        "engagement": checklist.engagement,
        "task": task,
        "items": items,
        "rows": _item_rows(items, posted, errors),
        "vm_rows": vm_rows,
        "vm_rows_count": len(vm_rows),
        "vm_error": errors.get("vms", ""),
        "inventory": inventory_of(checklist.engagement_id, checklist.environment),
        "can_edit": can_edit,
        "can_review": "checklist.review" in offered,
        "can_attach": can_attach,
        "has_attachments": any(item.attached for item in items),
    }
