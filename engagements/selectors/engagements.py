from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db.models import (
    Count,
    F,
    OuterRef,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone

from engagements import policy
from engagements.choices import (
    Environment,
    SeedTask,
    TaskStatus,
)
from engagements.models import (
    Comment,
    Engagement,
    EngagementTask,
    Event,
    Membership,
    TaskParty,
)
from engagements.querysets import is_escalated
from engagements.rules import DUTY_TASK, RULES
from engagements.selectors.common import (
    EVENTS_PAGE_SIZE,
    PeekPage,
    letters_prefetch,
    progress,
    url_maker,
)
from engagements.selectors.prerequisites import rules_of_version, waits_of_tasks
from engagements.selectors.summary import page_parts
from psaas_portal import prepared
from raci.choices import Phase
from raci.matrix import Matrix, Row
from raci.models import ChecklistRequirement, VersionParty
from raci.order import requirements


@dataclass
class MatrixRow:
    """One template task of an engagement: its letters and a task per environment; for an
    operations task its live state instead of a one-off status."""

    position: int
    name: str
    notes: str
    is_optional: bool
    key: str = ""
    phase: str = Phase.ONBOARDING
    cells: list[TaskParty | None] = field(default_factory=list)
    people: list[list[str]] = field(default_factory=list)  # R and A holders per cell
    tasks: list[EngagementTask] = field(default_factory=list)
    live: str = ""

    @property
    def is_operations(self) -> bool:
        return self.phase == Phase.OPERATIONS

    @property
    def slots(self) -> list[tuple[TaskParty | None, list[str]]]:
        """Each party's cell with the people its R or A names."""
        return list(zip(self.cells, self.people, strict=True))


def holders(cell: TaskParty | None, members: list[Membership]) -> list[str]:
    """The people a Responsible or Accountable letter names: the party's members holding the
    cell's role (every member of the party where it names none)."""
    if cell is None or not (cell.responsible or cell.accountable):
        return []
    return [
        m.user.get_full_name() or m.user.get_username()
        for m in members
        if m.party_id == cell.party_id and (not cell.role_title or cell.role_title in m.role_titles)
    ]


def responsible_people(task: EngagementTask, members: list[Membership]) -> list[str]:
    """Who the task waits on: the people its Responsible letters name."""
    return [
        name for cell in task.parties.all() if cell.responsible for name in holders(cell, members)
    ]


NEXT_MOVE = {
    TaskStatus.NOT_STARTED: "to start it",
    TaskStatus.IN_PROGRESS: "to finish it",
    TaskStatus.BLOCKED: "to unblock it",
    TaskStatus.DONE: "to sign it off",
}


def waiting_for(task: EngagementTask, members: list[Membership]) -> str:
    """Whom an open task waits on, by name, and for what: "Alex Acme, to finish it" (the
    holders of the letter its next move needs: the signers once done, else Responsible);
    the party where no member holds the letter's role; "" when closed."""
    side = policy.waiting_on(task)
    if not side:
        return ""
    signing = task.status in (RULES["task.sign_off"].states or ())
    ids = policy.signer_party_ids(task) if signing else policy.responsible_party_ids(task)
    cells = [cell for cell in task.parties.all() if cell.party_id in ids]
    names = [name for cell in cells for name in holders(cell, members)]
    who = ", ".join(names) or " and ".join(
        f"the {cell.party.name}"
        + (f" {cell.role_title} (no one holds it)" if cell.role_title else "")
        for cell in cells
    )
    return f"{who}, {NEXT_MOVE.get(TaskStatus(task.status), 'to act')}"


def unheld_roles(tasks: Iterable[EngagementTask], members: Iterable[Membership]) -> list[str]:
    """The roles a letter of the engagement names that no member holds ("No one holds Auth0
    Customer Success Engineer"); members' roles prefetched."""
    named = {
        (tp.party_id, tp.role_title) for task in tasks for tp in task.parties.all() if tp.role_title
    }
    held = {(m.party_id, title) for m in members for title in m.role_titles}
    return sorted({title for party_id, title in named - held})


def matrix_tasks(engagement: Engagement) -> list[Any]:
    """The engagement's live tasks in matrix order, letters prefetched, each with its
    number of open questions (a subquery: no query more), 2 queries (the first compiled
    once per process: psaas_portal.prepared)."""
    return prepared.rows(("matrix tasks",), _matrix_tasks, engagement_id=engagement.pk)


def _matrix_tasks(engagement_id: int) -> Any:
    open_questions = (
        Comment.objects.filter(task=OuterRef("pk"), addressed_to__isnull=False)
        .filter(answered_at__isnull=True)
        .order_by()
        .values("task")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return (
        EngagementTask.objects.live()
        .filter(engagement_id=engagement_id)
        .annotate(open_questions=Coalesce(Subquery(open_questions), 0))
        .prefetch_related(letters_prefetch())
        .order_by("position", "environment")
    )


def mark_lines(tasks: list[Any], members: list[Membership], waits) -> None:
    """What a task's status line in the matrix shows (partials/task_line.html, inlined by
    the engagement page): its url, overdue, whom it waits on, escalated, and the
    prerequisites it waits on with their people. Shared by the page and the panel's
    out-of-band refresh, so the two never differ."""
    task_url = url_maker("engagements:task-detail")
    for task in tasks:
        task.url = task_url(task.pk)
        task.overdue = task.is_overdue  # read once: the page shows it and counts it
        task.waiting = waiting_for(task, members)
        task.escalated = is_escalated(task)
        task.waits = [(w, responsible_people(w.task, members)) for w in waits[task.pk]]


def members_with_roles(engagement: Engagement) -> list[Membership]:
    """The engagement's members with their party and named roles, one query (a row per
    role held, joined)."""
    members: dict[int, Membership] = {}
    for row in prepared.rows(("members with roles",), _members_query, engagement_id=engagement.pk):
        member = members.setdefault(row.pk, row)
        titles = member.__dict__.setdefault("held_role_titles", [])
        if row.held_role:
            titles.append(row.held_role)
    for member in members.values():
        member.__dict__["held_role_titles"].sort()
    return list(members.values())


def _members_query(engagement_id: int) -> Any:
    return (
        Membership.objects.filter(engagement_id=engagement_id)
        .select_related("user", "party")
        .annotate(held_role=F("roles__title"))
        .order_by("party__name", "user__username", "pk")
    )


def letters_memo() -> Callable[[TaskParty], str]:
    """A cell's letters as partials/letters.html renders them, rendered once per distinct
    cell of the page (a 200-task matrix has a handful): the same markup as everywhere
    else, without a template include per cell."""
    memo: dict[tuple, str] = {}

    def render(cell: TaskParty) -> str:
        key = (tuple(cell.letters), cell.condition, cell.role_title)
        if key not in memo:
            memo[key] = render_to_string("partials/letters.html", {"cell": cell})
        return memo[key]

    return render


def engagement_page(engagement: Engagement, *, user, events_page: int | str = 1) -> dict:
    """Everything the engagement page shows.

    Queries: the columns, the operations summary and the VM inventory (1:
    engagements.selectors.summary), tasks (1), their letters (1), the version's
    prerequisites (1), members with their roles (1), the events page (1).
    """
    parts = page_parts(engagement, now=timezone.now())
    columns = parts["columns"]
    tasks = matrix_tasks(engagement)
    members = members_with_roles(engagement)
    mark_lines(tasks, members, waits_of_tasks(tasks, engagement.template_version_id))
    rows: dict[int, MatrixRow] = {}
    letters_html = letters_memo()
    for task in tasks:
        row = rows.get(task.position)
        if row is None:
            by_party = {tp.party_id: tp for tp in task.parties.all()}
            cells = [by_party.get(c.party_id) for c in columns]
            for cell in cells:
                if cell is not None:
                    cell.html = letters_html(cell)
            row = rows[task.position] = MatrixRow(
                position=task.position,
                name=task.name,
                notes=task.notes,
                is_optional=task.is_optional,
                key=task.key,
                phase=task.phase,
                cells=cells,
                people=[holders(cell, members) for cell in cells],
            )
        row.tasks.append(task)
    onboarding = [t for t in tasks if t.phase == Phase.ONBOARDING]
    status_counts = Counter(task.status for task in onboarding)
    today = timezone.localdate()
    overdue = sum(1 for t in tasks if t.overdue)
    members_by_party = [
        (c.party, [m for m in members if m.party_id == c.party_id]) for c in columns
    ]
    my_membership = next((m for m in members if m.user_id == user.pk), None)
    events = PeekPage(None, events_page, EVENTS_PAGE_SIZE, fetch=partial(_events, engagement.pk))
    ops = parts["ops"]
    return {
        "inventory": parts["inventory"],
        "engagement": engagement,
        "columns": columns,
        "rows": with_live_states(list(rows.values()), ops),
        "ops": ops,
        "status_counts": [
            (s, TaskStatus(s).label, status_counts[s])
            for s in TaskStatus.values
            if status_counts[s]
        ],
        "progress": progress(status_counts),
        "unheld_roles": unheld_roles(tasks, members),
        "overdue": overdue,
        "today": today,
        "members_by_party": members_by_party,
        "my_membership": my_membership,
        "events": events,
    }


def _events(engagement_id: int, start: int, stop: int) -> list[Event]:
    """A page of the engagement's timeline (the first three pages compiled once each)."""

    def build(engagement_id: int) -> Any:
        return Event.objects.filter(engagement_id=engagement_id).select_related("actor", "task")[
            start:stop
        ]

    if start < 3 * EVENTS_PAGE_SIZE:
        return prepared.rows(("events page", start, stop), build, engagement_id=engagement_id)
    return list(build(engagement_id))


def engagement_rows(user):
    return Engagement.objects.visible_to(user).select_related(
        "organization", "template_version__template"
    )


def engagement_matrix(engagement: Engagement) -> Matrix:
    """The engagement's copy of the matrix (letters as copied), one row per template task.

    The JSON form also carries each environment's status and due date, and the checklist
    items are those of the engagement's template version (its checklists copy them).
    """
    columns = list(
        VersionParty.objects.filter(version_id=engagement.template_version_id).select_related(
            "party"
        )
    )
    rules = rules_of_version(engagement.template_version_id)
    rows: dict[int, Row] = {}
    for task in (
        engagement.tasks.live()
        .prefetch_related(letters_prefetch())
        .order_by("position", "environment")
    ):
        row = rows.get(task.position)
        if row is None:
            row = rows[task.position] = Row.of(
                task,
                task.parties.all(),
                requires=requirements(rules.get(task.template_task_id or 0, [])),
                extra={"status": {}},
            )
        row.extra["status"][task.environment or "all"] = {
            "status": task.status,
            "due_date": task.due_date.isoformat() if task.due_date else None,
        }
    return Matrix(
        title=f"{engagement.organization.name}: {engagement.name}",
        parties=[(c.party.name, c.party.is_vendor) for c in columns],
        rows=list(rows.values()),
        checklist=[
            r.spec()
            for r in ChecklistRequirement.objects.filter(
                version_id=engagement.template_version_id
            ).order_by("position")
        ],
    )


def seed_tasks_of(engagement_id: int, keys: Sequence[str]) -> dict[str, EngagementTask]:
    """One engagement's seed tasks by key (2 queries)."""
    return {key: task for (_, key), task in seed_tasks_of_many([engagement_id], keys).items()}


def seed_tasks_of_many(
    engagement_ids: Iterable[int], keys: Sequence[str]
) -> dict[tuple[int, str], EngagementTask]:
    """(engagement id, key) -> live seed task, letters and parties prefetched (2 queries)."""
    tasks = (
        EngagementTask.objects.live()
        .filter(engagement_id__in=engagement_ids, key__in=keys)
        .select_related("template_task")
        .prefetch_related(letters_prefetch())
        .order_by("environment")
    )
    out: dict[tuple[int, str], EngagementTask] = {}
    for task in tasks:
        out.setdefault((task.engagement_id, task.key), task)
    return out


def live_state(key: str, ops: dict) -> str:
    """What an operations task shows instead of a one-off status: the current update cycle's
    step, the last Development test, a duty's timeliness, the issues in each side's court."""
    cycle = ops["cycle"]
    if key == SeedTask.UPDATES:
        if cycle is None:
            return "No update cycle yet"
        return f"{cycle.release}: {cycle.get_state_display().lower()}"
    if key == SeedTask.UPDATE_TESTING:
        tested = (
            [s for s in cycle.stages.all() if s.environment == Environment.DEVELOPMENT]
            if cycle is not None
            else []
        )
        if not tested or not tested[0].test_result:
            return "No test result yet"
        return f"{cycle.release}: Development test {tested[0].get_test_result_display().lower()}"
    duty = next((d for d in ops["duties"] if DUTY_TASK.get(d.kind) == key), None)
    if duty is not None and duty.due_at is not None:
        return f"{duty.get_kind_display()}: {duty.state}"
    if key in (SeedTask.MONITORING, SeedTask.BACKUP):
        return "Starts when Production goes live"
    if key in (SeedTask.ISSUE_IDENTIFICATION, SeedTask.ISSUE_RESOLUTION):
        courts = ops["courts"]
        return (
            f"{courts['vendor']} open with the vendor · {courts['subscriber']} waiting on the "
            "subscriber"
        )
    return ""


def with_live_states(rows: list[MatrixRow], ops: dict) -> list[MatrixRow]:
    for row in rows:
        if row.is_operations:
            row.live = live_state(row.key, ops)
    return rows
