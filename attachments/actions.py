"""Attaching a file and removing it: one transaction each, with an actor, an event from the
registry (engagements.events: attachment.added, attachment.removed) told to whom the owner's
task's letters say, and the file written so that a refusal or a failed transaction leaves
nothing behind.

Order of an upload: the limits (attachments.limits) and the policy are checked before a
byte is stored; inside the transaction the row and the event are written first and the file
last, so any error before it rolls the rows back with nothing stored, and an error while
storing deletes what was written and rolls back. What is left is a commit that fails after
the file was stored (the database gone at that very moment, or a caller's outer transaction
rolled back): `manage.py prune_attachments` deletes stored files no row names, once they are
older than a day.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.files.storage import storages
from django.db import transaction

from engagements import events, policy
from engagements.audit import record_event
from engagements.choices import Environment, SeedTask
from engagements.errors import DomainError, NotAllowed
from engagements.models import ChecklistItem, EngagementTask, Handover, Issue
from engagements.rules import RuleName

from .limits import check_upload
from .models import Attachment

log = logging.getLogger(__name__)
STORAGE = "attachments"


def storage() -> Any:
    """The attachments storage (settings.STORAGES["attachments"]), looked up on each use so
    that a changed setting (tests, a second storage) is followed."""
    return storages[STORAGE]


@dataclass(frozen=True)
class Owner:
    """What an attachment hangs on, as the rules and the event see it."""

    obj: Any  # the model instance the attachment points to
    field: str  # its foreign key on Attachment
    rule: RuleName  # who may attach
    policy_obj: Any  # what the rule is judged on (a checklist item's checklist)
    task: EngagementTask  # the task whose letters decide the rule and who is told
    words: str  # "Preparing VM Infrastructure (Development)", "issue #4"
    data: dict[str, Any]  # links the event carries (the issue page reads `issue`)


def owner_of(obj: Any) -> Owner:
    """The owner's rule, deciding task and words (the task's letters prefetched)."""
    if isinstance(obj, EngagementTask):
        task = (
            EngagementTask.objects.select_related("engagement")
            .prefetch_related("parties__party")
            .get(pk=obj.pk)
        )
        if task.retired_at is not None:
            raise NotAllowed(
                f"{task.label} was dropped by a newer template version; it is kept read-only."
            )
        return Owner(task, "task", "task.attach", task, task, task.label, {})
    if isinstance(obj, ChecklistItem):
        checklist = obj.checklist
        task = policy.seed_task(
            checklist.engagement_id, SeedTask.INFRASTRUCTURE, environment=checklist.environment
        )
        env = dict(Environment.choices)[checklist.environment]
        return Owner(
            obj,
            "checklist_item",
            "checklist.attach",
            checklist,
            task,
            f"{obj.label} on the {env} Infrastructure Checklist",
            {"checklist": checklist.pk, "environment": checklist.environment},
        )
    if isinstance(obj, Issue):
        task = policy.seed_task(obj.engagement_id, SeedTask.ISSUE_IDENTIFICATION)
        return Owner(obj, "issue", "issue.attach", obj, task, f"issue #{obj.pk}", {"issue": obj.pk})
    if isinstance(obj, Handover):
        task = policy.seed_task(obj.engagement_id, SeedTask.HANDOVER)
        return Owner(
            obj,
            "handover",
            "handover.attach",
            obj,
            task,
            "the Operations Handover",
            {"handover": obj.pk},
        )
    raise TypeError(f"nothing can be attached to a {type(obj).__name__}")


def _key(engagement_id: int, name: str) -> str:
    """A storage name no other file has: the engagement, a random folder, a safe name."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:80] or "file"
    return f"{engagement_id}/{uuid.uuid4().hex}/{safe}"


def _digest(upload: Any) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def add_attachment(owner: Any, *, actor: Any, upload: Any) -> Attachment:
    """Attaches the uploaded file to a task, checklist item, issue or handover."""
    checked = check_upload(upload)  # before anything: a refusal stores nothing
    with transaction.atomic():
        it = owner_of(owner)
        policy.check(actor, it.rule, it.policy_obj, task=it.task)
        engagement = it.task.engagement
        key = _key(engagement.pk, checked.name)
        attachment = Attachment.objects.create(
            engagement=engagement,
            name=checked.name,
            key=key,
            size=checked.size,
            content_type=checked.content_type,
            sha256=_digest(upload),
            uploaded_by=actor,
            **{it.field: it.obj},
        )
        record_event(
            engagement,
            events.ATTACHMENT_ADDED,
            actor=actor,
            task=it.task,
            data={
                "attachment": attachment.pk,
                "name": checked.name,
                "owner": it.words,
                "size": checked.size,
                **it.data,
            },
        )
        # Last: an error here rolls the rows back; what was written is deleted first.
        try:
            saved = storage().save(key, upload)
        except Exception as exc:  # the storage's own errors vary (OSError, botocore's)
            log.warning("could not store attachment %s", key, exc_info=True)
            _delete_quietly(key)
            raise DomainError(
                "File: it could not be stored just now; nothing was saved. Try again."
            ) from exc
        if saved != key:  # a storage that renamed it would break the row's link: refuse
            _delete_quietly(saved)
            raise DomainError("File: the storage did not keep the file's name; nothing was saved.")
    return attachment


def remove_attachment(attachment: Attachment | int, *, actor: Any) -> None:
    """Removes an attachment: the person who attached it (while they may still attach there)
    or a manager of the engagement. The event stays in the audit trail; the file is deleted
    from the storage after commit."""
    pk = attachment if isinstance(attachment, int) else attachment.pk
    with transaction.atomic():
        row = (
            Attachment.objects.select_for_update(of=("self",))
            .select_related("engagement", "task", "checklist_item__checklist", "issue", "handover")
            .filter(pk=pk)
            .first()
        )
        if row is None:
            raise DomainError("That file was already removed.")
        it = owner_of(row.owner)
        if row.uploaded_by_id == getattr(actor, "pk", None):
            policy.check(actor, it.rule, it.policy_obj, task=it.task)
        else:
            policy.check(actor, "attachment.remove_any", row.engagement)
        record_event(
            row.engagement,
            events.ATTACHMENT_REMOVED,
            actor=actor,
            task=it.task,
            data={"attachment": row.pk, "name": row.name, "owner": it.words, **it.data},
        )
        key = row.key
        row.delete()
        transaction.on_commit(partial(_delete_quietly, key))


def _delete_quietly(key: str) -> None:
    """Deletes a stored file; a failure is logged (prune_attachments finds it later)."""
    try:
        storage().delete(key)
    except Exception:
        log.warning("could not delete attachment file %s; prune_attachments will", key)
