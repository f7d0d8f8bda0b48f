"""Who may do what: one table of named rules.

Each rule says which letter (Responsible, Accountable, Consulted, the signing party, any
member, a manager) on which task of the engagement allows it, on which side where the
seed splits a shared letter, and in which states of the object. Services call `check`
(raising the one NotAllowed, or DomainError for a state that does not allow it), pages
call `offered` to show only what is allowed, and list queries use `task_q` and `rule_q`
(engagements.policy_queries, the same table read as SQL) so that "my work" means the same
thing. Membership is the one source of access: the letters a person
acts with are those of their party on the engagement.

The table itself is engagements.rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from psaas_portal.auth import holds_permission
from raci.models import Party

from . import permissions
from .choices import CLOSED_STATUSES, IssueScope, SeedTask
from .errors import Conflict, DomainError, NotAllowed
from .models import (
    AttestationToken,
    Engagement,
    EngagementTask,
    Handover,
    InfrastructureChecklist,
    Issue,
    Membership,
    StandingDuty,
    UpdateCycle,
)

# The rules as filters for list queries ("waiting on me"): the same table read as SQL,
# importable from here where the rules are applied.
from .policy_queries import rule_q as rule_q
from .policy_queries import task_q as task_q
from .rules import DUTY_TASK, MACHINE_OF, RULES, On, Rule, RuleName
from .states import (
    TASK,
    person_may_reach,
)

LETTER_NAMES = {
    "responsible": "Responsible party",
    "accountable": "Accountable party",
    "consulted": "Consulted party",
    "signer": "Accountable party",
    "member": "members",
    "manager": "managers",
}
KINDS: dict[type, On] = {
    EngagementTask: "task",
    InfrastructureChecklist: "checklist",
    UpdateCycle: "cycle",
    Handover: "handover",
    StandingDuty: "duty",
    AttestationToken: "token",
    Issue: "issue",
    Engagement: "engagement",
}


# --- Facts the rules read --------------------------------------------------------------


@dataclass(frozen=True)
class Seat:
    """Where a member sits on one engagement: their party and the named roles they hold.
    A letter with a role title applies only to the members holding that role."""

    party_id: int
    roles: frozenset[str] = frozenset()


SeatArg = Seat | None | Literal[False]  # False: look it up


def seats_of(user: Any, engagement_ids: Iterable[int] | None = None) -> dict[int, Seat]:
    """Engagement id -> the user's seat, for every engagement (or those given): one query."""
    if not getattr(user, "is_authenticated", False):
        return {}
    rows = Membership.objects.filter(user=user)
    if engagement_ids is not None:
        rows = rows.filter(engagement_id__in=list(engagement_ids))
    parties: dict[int, int] = {}
    roles: dict[int, set[str]] = {}
    for engagement_id, party_id, title in rows.values_list(
        "engagement_id", "party_id", "roles__title"
    ).order_by():
        parties[engagement_id] = party_id
        if title:
            roles.setdefault(engagement_id, set()).add(title)
    return {e: Seat(p, frozenset(roles.get(e, ()))) for e, p in parties.items()}


def member_seat(engagement_id: int, user: Any) -> Seat | None:
    """The user's seat on the engagement (one query), or None for a non-member."""
    return seats_of(user, [engagement_id]).get(engagement_id)


def member_party_id(engagement_id: int, user: Any) -> int | None:
    seat = member_seat(engagement_id, user)
    return seat.party_id if seat else None


def applies_to(cell: Any, seat: Seat | None) -> bool:
    """Whether a cell's letters are the seat's: its party, and its role if it names one."""
    return (
        seat is not None
        and cell.party_id == seat.party_id
        and (not cell.role_title or cell.role_title in seat.roles)
    )


def seed_task(
    engagement: Engagement | int, key: SeedTask | str, *, environment: str | None = None
) -> EngagementTask:
    """The engagement's live task for a seed key (for one environment where it is tracked
    per environment), letters prefetched; a clear error if the template has none."""
    engagement_id = engagement if isinstance(engagement, int) else engagement.pk
    tasks = EngagementTask.objects.live().filter(engagement_id=engagement_id, key=key)
    if environment is not None:
        tasks = tasks.filter(environment=environment)
    task = (
        tasks.select_related("engagement", "template_task")
        .prefetch_related("parties__party")
        .order_by("environment")
        .first()
    )
    if task is None:
        what = str(key).replace("_", " ")
        raise DomainError(
            f"This engagement's RACI template has no task for {what}"
            + (f" in {environment}." if environment else ".")
        )
    return task


@dataclass(frozen=True)
class Side:
    """The letters a party holds on one task, and whether it is the vendor's."""

    party_id: int | None = None
    responsible: bool = False
    accountable: bool = False
    consulted: bool = False
    is_vendor: bool = False
    signer: bool = False


def side_on(task: EngagementTask | None, seat: Seat | None) -> Side:
    """What the seat holds on the task (letters prefetched): its party's letters when the
    cell names no role or a role the member holds; nothing for a non-member."""
    party_id = seat.party_id if seat else None
    if task is None or seat is None:
        return Side(party_id)
    cells = list(task.parties.all())
    cell = next((c for c in cells if applies_to(c, seat)), None)
    if cell is None:
        return Side(party_id)
    has_accountable = any(c.accountable for c in cells)
    signer = cell.accountable or (cell.responsible and not has_accountable)
    return Side(
        party_id,
        cell.responsible,
        cell.accountable,
        cell.consulted,
        cell.party.is_vendor,
        signer,
    )


def kind_of(obj: Any) -> On:
    return KINDS[type(obj)]


def engagement_id_of(obj: Any) -> int:
    return obj.pk if isinstance(obj, Engagement) else obj.engagement_id


def state_of(obj: Any) -> str | None:
    machine = MACHINE_OF.get(kind_of(obj))
    return machine.state_of(obj) if machine else None


def task_key(rule: Rule, obj: Any) -> SeedTask | None:
    if rule.on == "duty":
        return DUTY_TASK[obj.kind]
    return rule.task


def subject_task(rule: Rule, obj: Any) -> EngagementTask | None:
    """The task whose letters decide the rule for this object (letters prefetched)."""
    if rule.on == "task":
        return obj
    key = task_key(rule, obj)
    if key is None:
        return None
    environment = obj.environment if rule.on == "checklist" else None
    return seed_task(engagement_id_of(obj), key, environment=environment)


# --- The verdicts ----------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str = ""
    by_state: bool = False  # refused for the object's state, not for who the person is
    conflict: bool = False  # refused because someone already did it (the rule's `requires`)


def letter_for(rule: Rule, obj: Any) -> str:
    """The letter that decides the rule for this object: an issue of integration scope is
    resolved by the party Consulted on Issue Resolution (the subscriber)."""
    if rule.integration_letter and getattr(obj, "scope", "") == IssueScope.INTEGRATION:
        return rule.integration_letter
    return str(rule.letter)


def _holds(rule: Rule, side: Side, user: Any, obj: Any) -> bool:
    if rule.letter == "manager":
        return permissions.can_administer(
            user, obj if isinstance(obj, Engagement) else obj.engagement
        )
    if rule.letter == "member":
        held = side.party_id is not None
    else:
        held = bool(getattr(side, letter_for(rule, obj)))
    if rule.side == "vendor":
        held = held and side.is_vendor
    elif rule.side == "subscriber":
        held = held and not side.is_vendor
    return held


def _completed_by(obj: Any, user: Any) -> bool:
    return bool(obj.completed_by_id) and obj.completed_by_id == getattr(user, "pk", None)


def _role(rule: Rule, task: EngagementTask | None) -> str:
    """The role the deciding cell names for the rule's letter, if one does."""
    if task is None or rule.letter in ("member", "manager"):
        return ""
    letter = "accountable" if rule.letter == "signer" else rule.letter
    cells = [c for c in task.parties.all() if getattr(c, letter) and c.role_title]
    if rule.letter == "signer" and not any(c.accountable for c in task.parties.all()):
        cells = [c for c in task.parties.all() if c.responsible and c.role_title]
    return cells[0].role_title if len(cells) == 1 else ""


def _who(rule: Rule, task: EngagementTask | None, letter: str | None = None) -> str:
    if letter is not None and letter != rule.letter:  # an integration issue's other letter
        return f"the {LETTER_NAMES[letter]} on {task.name if task else 'the task'}"
    if rule.letter == "member":
        return "members of the engagement"
    if rule.letter == "manager":
        return "the engagement's managers and portal admins"
    role = _role(rule, task)
    if rule.on == "task":
        if role:
            return f"the {LETTER_NAMES[rule.letter]}'s {role}"
        return f"a member of its {LETTER_NAMES[rule.letter]}"
    whose = f"the {rule.side}'s " if rule.side else "the "
    where = f" on {task.name}" if task is not None else ""
    if role:
        return f"{whose}{LETTER_NAMES[rule.letter]}'s {role}{where}"
    return f"{whose}{LETTER_NAMES[rule.letter]}{where}"


def judge(
    user: Any,
    name: RuleName,
    obj: Any,
    *,
    task: EngagementTask | None = None,
    seat: SeatArg = False,
) -> Verdict:
    """Whether the user may do `name` on the object now, and why not.

    `task` and `seat` may be passed when the caller has them (saves queries)."""
    rule = RULES[name]
    if kind_of(obj) != rule.on:
        raise TypeError(f"{name} applies to a {rule.on}, not a {kind_of(obj)}")
    if task is None:
        task = subject_task(rule, obj)
    if seat is False:
        seat = member_seat(engagement_id_of(obj), user)
    side = side_on(task, seat)
    if not _holds(rule, side, user, obj):
        who = _who(rule, task, letter_for(rule, obj) if rule.letter != "manager" else None)
        return Verdict(False, rule.refusal or f"Only {who} can {rule.doing}.")
    if rule.four_eyes and getattr(obj, "four_eyes", False) and _completed_by(obj, user):
        return Verdict(
            False,
            f"{_noun(obj)} asks for four eyes: someone other than the person who completed "
            f"it must {rule.doing}.",
        )
    state = state_of(obj)
    if rule.states is not None and state not in rule.states:
        label = MACHINE_OF[rule.on].label(state or "").lower()
        reason = rule.in_state.format(noun=_noun(obj), state=label, doing=rule.doing)
        return Verdict(False, reason, by_state=True)
    if rule.not_proposer and side.party_id == obj.windows_proposed_by_id:
        return Verdict(False, "The windows were proposed by your side; the other side agrees them.")
    if rule.requires and not getattr(obj, rule.requires):
        return Verdict(False, rule.unmet, by_state=True, conflict=rule.requires_conflict)
    return Verdict(True)


def _noun(obj: Any) -> str:
    if isinstance(obj, UpdateCycle):
        return f"The update to {obj.release}"
    if isinstance(obj, Issue):
        return f"Issue #{obj.pk}"
    if isinstance(obj, EngagementTask):
        return obj.label
    return MACHINE_OF[kind_of(obj)].noun


def check(
    user: Any,
    name: RuleName,
    obj: Any,
    *,
    task: EngagementTask | None = None,
    seat: SeatArg = False,
) -> Side:
    """Raises NotAllowed (who) or DomainError (state) unless the rule allows it now;
    returns the letters the user's seat holds on the deciding task."""
    rule = RULES[name]
    if task is None:
        task = subject_task(rule, obj)
    if seat is False:
        seat = member_seat(engagement_id_of(obj), user)
    verdict = judge(user, name, obj, task=task, seat=seat)
    if not verdict.allowed:
        if verdict.conflict:
            raise Conflict(verdict.reason)
        raise (DomainError if verdict.by_state else NotAllowed)(verdict.reason)
    return side_on(task, seat)


def offered(
    user: Any,
    obj: Any,
    *,
    names: Iterable[RuleName] | None = None,
    tasks: Mapping[Any, EngagementTask | None] | None = None,
    seat: SeatArg = False,
) -> set[RuleName]:
    """Every rule on this kind of object (or of `names`) that the user may use now: what a
    page offers. Pass the seed tasks (key -> task, letters prefetched) and the seat when
    the page has them, so that offering costs no query."""
    kind = kind_of(obj)
    if seat is False:
        seat = member_seat(engagement_id_of(obj), user)
    tasks = dict(tasks or {})
    wanted = set(names) if names is not None else None
    out: set[RuleName] = set()
    for name, rule in RULES.items():
        if rule.on != kind or (wanted is not None and name not in wanted):
            continue
        key = task_key(rule, obj)
        if key not in tasks:
            try:
                tasks[key] = subject_task(rule, obj)
            except DomainError:
                tasks[key] = None
        task = tasks[key]
        if rule.on != "task" and rule.letter not in ("manager",) and task is None:
            continue
        if judge(user, name, obj, task=task, seat=seat).allowed:
            out.add(name)
    return out


def moves_offered(task: EngagementTask, seat: Seat | None, user: Any = None) -> list:
    """The task moves this seat may make now, as (target status, Move), in table order."""
    side = side_on(task, seat)
    out = []
    for to, move in TASK.moves_from(task.status):
        if not move.by_person or (move.optional_only and not task.is_optional):
            continue
        if not person_may_reach(task, to):
            continue
        rule = RULES[move.rule]  # type: ignore[index]
        if _holds(rule, side, user, task):
            out.append((to, move))
    return out


# --- Members and new engagements ------------------------------------------------------


def manages_every_party(user: Any, engagement: Engagement) -> bool:
    """Portal admins and the vendor's managers manage the members of every party; a
    manager on the subscriber's side only those of its own party."""
    if permissions.is_portal_admin(user):
        return True
    return Membership.objects.filter(
        engagement=engagement, user=user, is_manager=True, party__is_vendor=True
    ).exists()


def party_scope_refusal(user: Any, engagement: Engagement, party: Party) -> str:
    """Why the user may not manage `party`'s members on the engagement ("" if they may).
    (Only the party; whether they manage the engagement at all is the member.* rules'.)"""
    if manages_every_party(user, engagement):
        return ""
    mine = member_party_id(engagement.pk, user)
    if mine is not None and mine == party.pk:
        return ""
    return f"Only the vendor's managers can manage the members of {party.name}."


def check_party_scope(user: Any, engagement: Engagement, party: Party) -> None:
    refusal = party_scope_refusal(user, engagement, party)
    if refusal:
        raise NotAllowed(refusal)


START_ENGAGEMENT = "engagements.start_engagement"


def may_start_engagement(user: Any) -> bool:
    """Portal admins, and the vendor's staff holding the start permission (the "Vendor
    managers" group), start engagements in the portal."""
    if permissions.is_portal_admin(user):
        return True
    return permissions.is_vendor_staff(user) and holds_permission(user, START_ENGAGEMENT)


def check_start_engagement(user: Any) -> None:
    if not may_start_engagement(user):
        raise NotAllowed("Only portal admins and the vendor's managers can start engagements.")


# --- Letters read off a task (prefetched `parties`) ----------------------------------------


def responsible_party_ids(task: EngagementTask) -> set[int]:
    return {tp.party_id for tp in task.parties.all() if tp.responsible}


def signer_party_ids(task: EngagementTask) -> set[int]:
    """The Accountable parties, or the Responsible ones where the template names no A."""
    accountable = {tp.party_id for tp in task.parties.all() if tp.accountable}
    return accountable or responsible_party_ids(task)


def waiting_on(task: EngagementTask) -> str:
    """ "vendor", "subscriber", "both" or "" (closed): whose move the task waits for, by the
    rule its state needs (sign-off from the signers, any other move from R)."""
    if task.status in CLOSED_STATUSES:
        return ""
    signing = RULES["task.sign_off"].states or frozenset()
    ids = signer_party_ids(task) if task.status in signing else responsible_party_ids(task)
    sides = {tp.party.is_vendor for tp in task.parties.all() if tp.party_id in ids}
    if sides == {True, False}:
        return "both"
    if sides == {True}:
        return "vendor"
    if sides == {False}:
        return "subscriber"
    return ""
