"""Reads for what an in-place task move refreshes on the page it was made from (the
out-of-band fragments of the task panel's answer): the engagement page's status lines and
progress. The My work counters come from `selectors.mywork.my_work` itself."""

from __future__ import annotations

from collections import Counter

from engagements.choices import TaskStatus
from engagements.models import Engagement
from engagements.selectors.common import progress
from engagements.selectors.engagements import mark_lines, matrix_tasks, members_with_roles
from engagements.selectors.prerequisites import waits_of_tasks
from raci.choices import Phase


def engagement_refresh(engagement: Engagement) -> dict:
    """Every onboarding task's status line of the matrix (as `engagement_page` annotates it:
    url, overdue, waiting, waits) and the progress section's numbers.

    Queries: the tasks (1), their letters (1), the version's prerequisites (1), members
    with their roles (1), whatever the engagement's size."""
    tasks = matrix_tasks(engagement)
    onboarding = [t for t in tasks if t.phase == Phase.ONBOARDING]
    members = members_with_roles(engagement)
    mark_lines(onboarding, members, waits_of_tasks(tasks, engagement.template_version_id))
    status_counts = Counter(task.status for task in onboarding)
    return {
        "engagement": engagement,
        "lines": onboarding,
        "status_counts": [
            (s, TaskStatus(s).label, status_counts[s])
            for s in TaskStatus.values
            if status_counts[s]
        ],
        "progress": progress(status_counts),
        "overdue": sum(1 for t in tasks if t.is_overdue),
    }
