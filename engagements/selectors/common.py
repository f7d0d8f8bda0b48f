from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

from django.core.paginator import Paginator
from django.db.models import (
    Case,
    IntegerField,
    Prefetch,
    Value,
    When,
)
from django.urls import reverse
from django.utils.functional import cached_property

from engagements import policy
from engagements.choices import (
    CLOSED_STATUSES,
    TaskStatus,
)
from engagements.models import (
    EngagementTask,
    TaskParty,
)
from engagements.querysets import due_soon_until

PAGE_SIZE = 50


class PeekPage:
    """One page of a long list (the timeline) without counting it: the page's rows and one
    more, to know whether a next page exists. Shows as "Page N" with previous and next."""

    paginator = None

    def __init__(self, queryset, number: int | str, per_page: int, *, fetch=None) -> None:
        """`fetch(start, stop)`, when given, reads the rows instead of slicing `queryset`
        (None: slice it)."""
        try:
            self.number = max(1, int(number))
        except (TypeError, ValueError):
            self.number = 1
        start = (self.number - 1) * per_page
        rows = fetch(start, start + per_page + 1) if fetch is not None else None
        if rows is None:
            rows = list(queryset[start : start + per_page + 1])
        self.object_list = rows[:per_page]
        self._has_next = len(rows) > per_page

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    def has_next(self) -> bool:
        return self._has_next

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


class CountedPaginator(Paginator):
    """A paginator told the number of rows a query already counted, so paging costs no
    second COUNT."""

    def __init__(self, object_list, per_page, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


EVENTS_PAGE_SIZE = 25


def letters_prefetch() -> Prefetch:
    """A task's letters with their parties. Unordered: TaskParty's default ordering (by task,
    then party) joins the engagement and its organisation only to sort, and every reader
    keys the letters by party."""
    return Prefetch("parties", queryset=TaskParty.objects.select_related("party").order_by())


def urgency(today: dt.date) -> Case:
    soon = due_soon_until(today)
    return Case(
        When(due_date__lt=today, then=Value(0)),
        When(due_date__lte=soon, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )


def expectation(task: EngagementTask, seat: policy.Seat | None) -> str:
    """What the task expects of this seat now, in words for My work."""
    side = policy.side_on(task, seat)
    if task.status == TaskStatus.DONE:
        return "Sign off" if side.signer else "Waiting for sign-off"
    if task.status in CLOSED_STATUSES:
        return ""
    if side.responsible:
        return "Unblock" if task.status == TaskStatus.BLOCKED else "Act"
    return "Waiting on the Responsible party"


def progress(status_counts: Counter) -> dict:
    applicable = sum(n for s, n in status_counts.items() if s != TaskStatus.NOT_APPLICABLE)
    finished = status_counts[TaskStatus.DONE] + status_counts[TaskStatus.SIGNED_OFF]
    return {
        "applicable": applicable,
        "finished": finished,
        "percent": round(100 * finished / applicable) if applicable else 0,
    }


def url_maker(name: str) -> Callable[[int], str]:
    """The URL of one object by id, reversed once for a whole list (a page of 200 tasks
    would otherwise resolve the same pattern 200 times)."""
    sentinel = "2147483647"
    pattern = reverse(name, args=[int(sentinel)])
    head, tail = pattern.split(sentinel, 1)
    return lambda pk: f"{head}{int(pk)}{tail}"
