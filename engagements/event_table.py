"""Who is told of each event kind, in words: the table the README carries, made from the
registry (engagements.events); a test keeps the two the same."""

from __future__ import annotations

from .choices import NotificationReason as Reason
from .events import REGISTRY, Reach

WHO_WORDS = {
    "informed": "Informed parties",
    "consulted": "Consulted parties",
    "responsible": "the Responsible party's people",
    "involved": "the Responsible and Accountable parties' people",
    "signers": "the signing party (A, or R without an A)",
    "addressed": "the party a question (or its answer) is for",
    "members": "every member of both parties",
    "listed": "the people it was escalated to",
}


def _reach_words(reach: Reach) -> str:
    if reach.who == "turn":
        words = f"your turn: whoever rule `{reach.rule}` lets act"
    elif reach.who == "listed" and reach.reason == Reason.MANAGER:
        words = "the engagement's managers"
    else:
        words = WHO_WORDS[reach.who]
    if reach.conditional and reach.who in ("informed", "consulted"):
        words += " (a conditional letter: on issues only)"
    if reach.when_to:
        words += f" when it moves to {reach.when_to.replace('_', ' ')}"
    if reach.when_from:
        words += f" when it leaves {reach.when_from.replace('_', ' ')}"
    return words


def audience_table() -> str:
    """Every event kind and who hears of it, as a Markdown table (the README carries it; a
    test keeps the two the same)."""
    lines = ["| event | who is told |", "| --- | --- |"]
    for verb, kind in REGISTRY.items():
        who = "; ".join(_reach_words(r) for r in kind.reach) or "nobody (audit trail only)"
        if kind.invites:
            who += "; the attendees, with the calendar invitation"
        if kind.issue or kind.issue_when_to:
            who += " — an issue" + (
                f" when it moves to {kind.issue_when_to.replace('_', ' ')}"
                if kind.issue_when_to
                else ""
            )
        if kind.issue_when_from:
            who += f", and its end when it leaves {kind.issue_when_from.replace('_', ' ')}"
        if kind.ends_issue_flag:
            who += " — the end of an issue when it follows one (a re-test, after a miss)"
        lines.append(f"| `{verb}` | {who} |")
    return "\n".join(lines) + "\n"
