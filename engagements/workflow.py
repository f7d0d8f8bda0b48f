"""The task status workflow as data: one transitions table, and who holds which role.

A member of a Responsible party moves a task; a member of the Accountable
party signs it off and may reopen it. Where the template names no Accountable
party, the Responsible party closes it. The services consult this table; the
templates only show what it allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .choices import TaskStatus as S


class Role(StrEnum):
    RESPONSIBLE = "responsible"
    SIGNER = "signer"


@dataclass(frozen=True)
class Move:
    label: str
    role: Role
    needs_reason: bool = False
    optional_only: bool = False
    style: str = "primary"


TRANSITIONS: dict[tuple[str, str], Move] = {
    (S.NOT_STARTED, S.IN_PROGRESS): Move("Start", Role.RESPONSIBLE),
    (S.NOT_STARTED, S.BLOCKED): Move("Blocked…", Role.RESPONSIBLE, needs_reason=True, style="warn"),
    (S.NOT_STARTED, S.NOT_APPLICABLE): Move(
        "Not applicable", Role.RESPONSIBLE, optional_only=True, style="quiet"
    ),
    (S.IN_PROGRESS, S.DONE): Move("Mark done", Role.RESPONSIBLE),
    (S.IN_PROGRESS, S.BLOCKED): Move("Blocked…", Role.RESPONSIBLE, needs_reason=True, style="warn"),
    (S.IN_PROGRESS, S.NOT_STARTED): Move("Back to not started", Role.RESPONSIBLE, style="quiet"),
    (S.BLOCKED, S.IN_PROGRESS): Move("Unblock", Role.RESPONSIBLE),
    (S.REOPENED, S.IN_PROGRESS): Move("Start again", Role.RESPONSIBLE),
    (S.REOPENED, S.BLOCKED): Move("Blocked…", Role.RESPONSIBLE, needs_reason=True, style="warn"),
    (S.REOPENED, S.DONE): Move("Mark done", Role.RESPONSIBLE),
    (S.DONE, S.IN_PROGRESS): Move("Not done yet", Role.RESPONSIBLE, style="quiet"),
    (S.DONE, S.SIGNED_OFF): Move("Sign off", Role.SIGNER),
    (S.SIGNED_OFF, S.REOPENED): Move("Reopen…", Role.SIGNER, needs_reason=True, style="warn"),
    (S.NOT_APPLICABLE, S.NOT_STARTED): Move(
        "Applicable after all", Role.RESPONSIBLE, style="quiet"
    ),
}

# Sign-off and reopening have their own services (a SignOff record, a reason).
SPECIAL_TARGETS = {S.SIGNED_OFF, S.REOPENED}


def letters_by_party(task) -> dict[int, object]:
    """party id -> TaskParty, from a prefetched `parties` relation."""
    return {tp.party_id: tp for tp in task.parties.all()}


def responsible_party_ids(task) -> set[int]:
    return {tp.party_id for tp in task.parties.all() if tp.responsible}


def signer_party_ids(task) -> set[int]:
    """The Accountable parties, or the Responsible ones where the template names no A."""
    accountable = {tp.party_id for tp in task.parties.all() if tp.accountable}
    return accountable or responsible_party_ids(task)


def roles_of(task, party_id: int | None) -> set[Role]:
    if party_id is None:
        return set()
    roles = set()
    if party_id in responsible_party_ids(task):
        roles.add(Role.RESPONSIBLE)
    if party_id in signer_party_ids(task):
        roles.add(Role.SIGNER)
    return roles


def allowed_moves(task, party_id: int | None) -> list[tuple[str, Move]]:
    """The moves this party may make on the task now, as (target status, move)."""
    roles = roles_of(task, party_id)
    return [
        (to, move)
        for (frm, to), move in TRANSITIONS.items()
        if frm == task.status
        and move.role in roles
        and (task.is_optional or not move.optional_only)
    ]


def waiting_on(task) -> str:
    """ "vendor", "subscriber", "both" or "" (closed): whose move the task waits for."""
    if task.status in (S.SIGNED_OFF, S.NOT_APPLICABLE):
        return ""
    ids = signer_party_ids(task) if task.status == S.DONE else responsible_party_ids(task)
    sides = {tp.party.is_vendor for tp in task.parties.all() if tp.party_id in ids}
    if sides == {True, False}:
        return "both"
    if sides == {True}:
        return "vendor"
    if sides == {False}:
        return "subscriber"
    return ""
