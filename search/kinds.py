"""What search looks through: one `Kind` per kind of result, in `KINDS`.

Each kind says where its rows come from (the visibility queryset the pages themselves use:
what a person may open, and nothing else), which fields are searched and how much each
weighs, and how a hit is shown (title, engagement, snippet, link). Adding a kind (as
attachment names were) is one entry here plus its GIN index in a migration; the results page,
the ranking, the SQLite fallback and the tests that every kind's index is used follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchVector
from django.db import models
from django.db.models.functions import Coalesce, Concat
from django.urls import reverse

from attachments.models import Attachment
from engagements.models import Comment, Engagement, EngagementTask, Issue

# Each document is indexed twice: English stems ("installing" finds "install") and the
# plain lower-cased words ("deploym" is a prefix of "deployment", not of its stem "deploy").
CONFIGS = ("english", "simple")
# The snippet is cut on plain words, so both kinds of match are highlighted.
HEADLINE_CONFIG = "simple"


def _name(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


@dataclass(frozen=True)
class Kind:
    key: str  # in the URL (?kind=task) and the result's data-kind
    label: str  # shown on each result
    # The rows this person may open: the same queryset the pages use (never a rule of its own).
    visible: Callable[[Any], models.QuerySet]
    # The searched fields and their weights (A counts most); the GIN index in
    # search/migrations is built on exactly this expression (tests/search checks it is used).
    weighted: tuple[tuple[str, str], ...]
    snippet_fields: tuple[str, ...]  # the text the snippet is cut from
    title: Callable[[Any], str]
    engagement: Callable[[Any], Engagement]
    url: Callable[[Any], str]
    related: tuple[str, ...] = ()

    def vector(self) -> Any:
        """The weighted tsvector expression (a SearchVector, or several combined with ||)."""
        vector: Any = None
        for config in CONFIGS:
            for weight in "ABCD":
                fields = [f for f, w in self.weighted if w == weight]
                if fields:
                    part = SearchVector(*fields, weight=weight, config=config)
                    vector = part if vector is None else vector + part
        assert vector is not None
        return vector

    def title_fields(self) -> tuple[str, ...]:
        return tuple(f for f, w in self.weighted if w == "A")

    def snippet_text(self) -> Any:
        if not self.snippet_fields:
            return models.Value("", output_field=models.TextField())
        parts: list[Any] = []
        for field in self.snippet_fields:
            if parts:
                parts.append(models.Value(" … "))
            parts.append(Coalesce(field, models.Value(""), output_field=models.TextField()))
        return parts[0] if len(parts) == 1 else Concat(*parts, output_field=models.TextField())


def _visible_engagements(user: Any) -> models.QuerySet:
    return Engagement.objects.visible_to(user)


def _visible_tasks(user: Any) -> models.QuerySet:
    return EngagementTask.objects.visible_to(user)


def _visible_issues(user: Any) -> models.QuerySet:
    # As engagements.lookups.get_owned_for_view: an issue is seen with its engagement.
    return Issue.objects.filter(engagement__in=Engagement.objects.visible_to(user))


def _visible_attachments(user: Any) -> models.QuerySet:
    # As the download view: a file is seen with its owner's engagement.
    return Attachment.objects.visible_to(user)


def _visible_comments(user: Any) -> models.QuerySet:
    # As the task page: a task's comments are seen with the task.
    return Comment.objects.filter(task__in=EngagementTask.objects.visible_to(user))


KINDS: tuple[Kind, ...] = (
    Kind(
        key="engagement",
        label="Engagement",
        visible=_visible_engagements,
        weighted=(("name", "A"),),
        snippet_fields=(),
        title=lambda e: e.name,
        engagement=lambda e: e,
        url=lambda e: reverse("engagements:engagement-detail", args=[e.pk]),
        related=("organization",),
    ),
    Kind(
        key="task",
        label="Task",
        visible=_visible_tasks,
        weighted=(("name", "A"), ("description", "B"), ("notes", "B")),
        snippet_fields=("description", "notes"),
        title=lambda t: t.label,
        engagement=lambda t: t.engagement,
        url=lambda t: reverse("engagements:task-detail", args=[t.pk]),
        related=("engagement__organization",),
    ),
    Kind(
        key="issue",
        label="Issue",
        visible=_visible_issues,
        weighted=(
            ("title", "A"),
            ("ticket_reference", "A"),
            ("description", "B"),
            ("resolution", "B"),
        ),
        snippet_fields=("description", "resolution"),
        title=lambda i: i.title,
        engagement=lambda i: i.engagement,
        url=lambda i: reverse("engagements:issue-detail", args=[i.pk]),
        related=("engagement__organization",),
    ),
    Kind(
        key="comment",
        label="Comment",
        visible=_visible_comments,
        weighted=(("body", "B"),),
        snippet_fields=("body",),
        title=lambda c: f"{_name(c.author)} on {c.task.label}",
        engagement=lambda c: c.task.engagement,
        url=lambda c: reverse("engagements:task-detail", args=[c.task_id]),
        related=("author", "task__engagement__organization"),
    ),
    Kind(
        key="attachment",
        label="Attachment",
        visible=_visible_attachments,
        weighted=(("name", "A"),),
        snippet_fields=(),
        title=lambda a: a.name,
        engagement=lambda a: a.engagement,
        url=lambda a: reverse("attachments:download", args=[a.pk]),
        related=("engagement__organization",),
    ),
)

BY_KEY = {kind.key: kind for kind in KINDS}
