from __future__ import annotations

from django.db import models


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class Tracking(models.TextChoices):
    """How an engagement tracks a template task."""

    ONCE = "once", "Once"
    PER_ENVIRONMENT = "per_environment", "Once per environment"
    RECURRING = "recurring", "Recurring"


class Phase(models.TextChoices):
    """When in an engagement's life a template task is worked: onboarding tasks are done once
    and count towards onboarding progress; operations tasks are the recurring work after
    go-live, shown by their live state."""

    ONBOARDING = "onboarding", "Onboarding"
    OPERATIONS = "operations", "Operations"


class PrerequisiteUntil(models.TextChoices):
    """What the required task must reach before the waiting task may start."""

    DONE = "done", "done"
    SIGNED_OFF = "signed_off", "signed off"


# The environments an engagement tracks per-environment tasks in (engagements.Environment
# has the same values; the template world names them for prerequisites).
ENVIRONMENTS: tuple[tuple[str, str], ...] = (
    ("development", "Development"),
    ("production", "Production"),
)


# The letters in their canonical order, with the field that stores each.
LETTERS: tuple[tuple[str, str, str], ...] = (
    ("R", "responsible", "Responsible"),
    ("A", "accountable", "Accountable"),
    ("C", "consulted", "Consulted"),
    ("I", "informed", "Informed"),
)
LETTER_FIELDS = {letter: field for letter, field, _ in LETTERS}


class ValueKind(models.TextChoices):
    """What an Infrastructure Checklist item's value is, so it can be checked as typed."""

    COUNT = "count", "A count (e.g. processors)"
    SIZE_GB = "size_gb", "A size in GB"
    ADDRESS = "address", "A host name or IP address"
    CIDR_LIST = "cidr_list", "Networks (CIDR)"
    CERTIFICATE = "certificate", "A certificate (subject and expiry date)"
    DNS_RECORDS = "dns_records", "DNS records"
    HOST_PORT = "host_port", "A host and port"
    ACCESS = "access", "Vendor access (jumphost or VPN, and its address)"
    TEXT = "text", "Free text"


# The kinds whose value is a number, and so may have a minimum and a maximum.
NUMERIC_KINDS = (ValueKind.COUNT, ValueKind.SIZE_GB)


class AccessMethod(models.TextChoices):
    JUMPHOST = "jumphost", "Jumphost"
    VPN = "vpn", "VPN"
