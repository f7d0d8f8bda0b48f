"""The live work's tables, one module per subdomain; every model is importable from here."""

from .checklists import ChecklistItem, ChecklistVM, InfrastructureChecklist, VirtualMachine
from .core import (
    Comment,
    Engagement,
    EngagementGroupObjectPermission,
    EngagementTask,
    EngagementUserObjectPermission,
    Event,
    EventQuerySet,
    MemberRole,
    Membership,
    Organization,
    Profile,
    SignOff,
    TaskParty,
)
from .invitations import Invitation, read_invitation_token, sign_invitation
from .notifications import Notification
from .operations import (
    Attestation,
    AttestationToken,
    CalendarFeed,
    Handover,
    Issue,
    Snapshot,
    StandingDuty,
    UpdateCycle,
    UpdateStage,
)

__all__ = [
    "Attestation",
    "AttestationToken",
    "CalendarFeed",
    "ChecklistItem",
    "ChecklistVM",
    "Comment",
    "Engagement",
    "EngagementGroupObjectPermission",
    "EngagementTask",
    "EngagementUserObjectPermission",
    "Event",
    "EventQuerySet",
    "Handover",
    "InfrastructureChecklist",
    "Invitation",
    "Issue",
    "MemberRole",
    "Membership",
    "Notification",
    "Organization",
    "Profile",
    "SignOff",
    "Snapshot",
    "StandingDuty",
    "TaskParty",
    "UpdateCycle",
    "UpdateStage",
    "VirtualMachine",
    "read_invitation_token",
    "sign_invitation",
]
