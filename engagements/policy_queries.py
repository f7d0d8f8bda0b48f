"""The rule book as filters for list queries: a rule of engagements.rules read as SQL over
the letters of the engagement's tasks, so that "waiting on me" lists and the pages'
offers (engagements.policy) mean the same thing. Both read the one table; this module
only translates it."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q

from .choices import IssueScope
from .models import MemberRole, Membership, TaskParty
from .rules import MACHINE_OF, RULES, RuleName


def _my_parties(user: Any, engagement_ref: Any) -> Any:
    return Membership.objects.filter(user=user, engagement_id=OuterRef(engagement_ref)).values(
        "party_id"
    )


def _role_held(user: Any, engagement_ref: Any) -> Q:
    """On TaskParty rows: the cell names no role, or one the user holds on the engagement."""
    held = MemberRole.objects.filter(
        membership__user=user,
        membership__engagement_id=OuterRef(engagement_ref),
        title=OuterRef("role_title"),
    )
    return Q(role_title="") | Q(Exists(held))


def task_q(user: Any, name: RuleName) -> Q:
    """The rule as a filter on EngagementTask: tasks on which the user's party holds the
    rule's letter, in a state where the rule applies ("waiting on me")."""
    rule = RULES[name]
    if rule.on != "task" or rule.letter in ("member", "manager"):
        raise TypeError(f"{name} is not a rule on a task's letters")
    mine = TaskParty.objects.filter(
        _role_held(user, OuterRef(OuterRef("engagement_id"))),
        task=OuterRef("pk"),
        party_id__in=_my_parties(user, OuterRef("engagement_id")),
    )
    if rule.letter == "signer":
        any_accountable = TaskParty.objects.filter(task=OuterRef("pk"), accountable=True)
        held = Q(Exists(mine.filter(accountable=True))) | (
            Q(Exists(mine.filter(responsible=True))) & ~Q(Exists(any_accountable))
        )
    else:
        held = Q(Exists(mine.filter(**{str(rule.letter): True})))
    if rule.states is not None:
        held &= Q(status__in=rule.states)
    return held


def rule_q(name: RuleName, *, user: Any, party_ref: str = "my_party") -> Q:
    """The rule as a filter on the objects it applies to (cycles, issues, duties, handovers),
    for a queryset annotated with the person's party as `party_ref`: the party holds the
    rule's letter on the engagement's deciding task, and the object is in a state where the
    rule applies. Lists such as "waiting on me" are built from these."""
    rule = RULES[name]
    if rule.letter in ("member", "manager", "signer") or rule.on in ("task", "engagement"):
        raise TypeError(f"{name} has no object filter")
    key: Any = OuterRef("kind") if rule.on == "duty" else rule.task

    def holding(letter: str) -> Q:
        letters = TaskParty.objects.filter(
            _role_held(user, OuterRef(OuterRef("engagement_id"))),
            task__engagement_id=OuterRef("engagement_id"),
            task__key=key,
            task__retired_at__isnull=True,
            party_id=OuterRef(party_ref),
            **{letter: True},
        )
        if rule.on == "checklist":  # the infrastructure task of the checklist's environment
            letters = letters.filter(task__environment=OuterRef("environment"))
        if rule.side:
            letters = letters.filter(party__is_vendor=rule.side == "vendor")
        return Q(Exists(letters))

    held = holding(str(rule.letter))
    if rule.integration_letter:
        held = (~Q(scope=IssueScope.INTEGRATION) & held) | (
            Q(scope=IssueScope.INTEGRATION) & holding(rule.integration_letter)
        )
    if rule.states is not None:
        held &= Q(**{f"{MACHINE_OF[rule.on].field}__in": rule.states})
    return held
