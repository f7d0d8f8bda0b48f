"""The named roles of a template version: the role titles its cells give each party.

A role exists because a cell names it ("R, A - Auth0 Customer Success Engineer"), so the
roles are versioned, edited and compared with the cells themselves. A letter with a role
applies to the members who hold that role; a letter without one, to every member of the
party (see engagements.policy).
"""

from __future__ import annotations

from .models import TemplateCell


def roles_by_party(version_id: int) -> dict[int, list[str]]:
    """Party id -> the role titles its cells name in the version, sorted (one query)."""
    rows = (
        TemplateCell.objects.filter(task__version_id=version_id)
        .exclude(role_title="")
        .values_list("party_id", "role_title")
        .distinct()
        .order_by("party_id", "role_title")
    )
    out: dict[int, list[str]] = {}
    for party_id, title in rows:
        out.setdefault(party_id, []).append(title)
    return out


def party_roles(version_id: int, party_id: int) -> list[str]:
    return roles_by_party(version_id).get(party_id, [])
