"""One small state-machine helper for every model with a status.

A machine is a table of moves, (from, to) -> Move. A move a person makes names the
policy rule that allows it (engagements.rules says who holds the rule). System moves are
the ones the portal makes as the consequence of another action (a checklist accepted
completes its task), declared with the machine by cause, so no code moves a status by a
side door.
The tables themselves are in engagements.states.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models

from .errors import DomainError


@dataclass(frozen=True)
class Move:
    """One allowed move, and the policy rule (engagements.rules) a person needs to make it."""

    label: str = ""
    rule: str = ""
    needs_reason: bool = False
    optional_only: bool = False
    style: str = "primary"

    @property
    def by_person(self) -> bool:
        return bool(self.rule)


class StateMachine:
    """The allowed moves of one model's status field."""

    def __init__(
        self,
        name: str,
        states: type[models.TextChoices],
        moves: dict[tuple[str, str], Move],
        *,
        field: str = "status",
        noun: str = "",
        system: dict[str, set[tuple[str, str]]] | None = None,
    ) -> None:
        self.name = name
        self.states = states
        self.moves = moves
        self.field = field
        self.noun = noun or name
        # System moves by cause: what the portal moves by itself when that happens.
        self.system = {cause: frozenset(pairs) for cause, pairs in (system or {}).items()}
        for frm, to in [*moves, *(p for pairs in self.system.values() for p in pairs)]:
            assert frm in states.values and to in states.values, (name, frm, to)

    def label(self, state: str) -> str:
        return str(dict(self.states.choices).get(state, state))

    def state_of(self, obj: Any) -> str:
        return str(getattr(obj, self.field))

    def move(self, frm: str, to: str) -> Move | None:
        return self.moves.get((frm, to))

    def moves_from(self, state: str) -> list[tuple[str, Move]]:
        return [(to, move) for (frm, to), move in self.moves.items() if frm == state]

    def states_for(self, rule: str) -> frozenset[str]:
        """The states in which some move needs `rule`: where the policy may offer it."""
        return frozenset(frm for (frm, _), move in self.moves.items() if move.rule == rule)

    def targets(self, rule: str) -> frozenset[str]:
        return frozenset(to for (_, to), move in self.moves.items() if move.rule == rule)

    def check(self, obj: Any, to: str, *, what: str = "") -> Move:
        """The person's move from the object's state to `to`, or DomainError naming both."""
        frm = self.state_of(obj)
        move = self.moves.get((frm, to))
        usable = move is not None and move.by_person
        if move is not None and move.optional_only and not getattr(obj, "is_optional", False):
            usable = False
        if not usable:
            raise DomainError(
                f"{what or self.noun} cannot go from {self.label(frm).lower()} "
                f"to {self.label(to).lower()}."
            )
        assert move is not None
        return move

    def system_moves(self, cause: str, frm: str, to: str) -> bool:
        """Whether `cause` moves the object from `frm` to `to` by itself."""
        return (frm, to) in self.system.get(cause, frozenset())

    def apply(self, obj: Any, to: str, *, what: str = "") -> str:
        """Checks and sets the new state on the object (not saved); returns the old one."""
        self.check(obj, to, what=what)
        before = self.state_of(obj)
        setattr(obj, self.field, to)
        return before

    def can(self, frm: str, to: str) -> bool:
        return (frm, to) in self.moves
