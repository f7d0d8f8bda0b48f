from __future__ import annotations

from django.db import models


class OrganizationKind(models.TextChoices):
    VENDOR = "vendor", "Vendor"
    SUBSCRIBER = "subscriber", "Subscriber"


class EngagementState(models.TextChoices):
    ONBOARDING = "onboarding", "Onboarding"
    LIVE = "live", "Live"
    CLOSED = "closed", "Closed"


class Environment(models.TextChoices):
    DEVELOPMENT = "development", "Development"
    PRODUCTION = "production", "Production"


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    BLOCKED = "blocked", "Blocked"
    DONE = "done", "Done"
    SIGNED_OFF = "signed_off", "Signed off"
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    REOPENED = "reopened", "Reopened"


OPEN_STATUSES = (
    TaskStatus.NOT_STARTED,
    TaskStatus.IN_PROGRESS,
    TaskStatus.BLOCKED,
    TaskStatus.REOPENED,
)
CLOSED_STATUSES = (TaskStatus.SIGNED_OFF, TaskStatus.NOT_APPLICABLE)


class ChecklistStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    RETURNED = "returned", "Returned"
    ACCEPTED = "accepted", "Accepted"


class ChecklistItemKey(models.TextChoices):
    """The items of the PSaaS Appliance Infrastructure Checklist, as the seed names them."""

    MEMORY = "memory", "Memory"
    STORAGE = "storage", "Storage"
    PROCESSORS = "processors", "Processors"
    LOAD_BALANCERS = "load_balancers", "Load balancers"
    NETWORKS = "networks", "Networks"
    SSL_CERTIFICATES = "ssl_certificates", "SSL certificates"
    DNS_RECORDS = "dns_records", "DNS records"
    SMTP_SERVERS = "smtp_servers", "SMTP servers"
    VENDOR_ACCESS = "vendor_access", "Vendor access via jumphost/VPN"


CHECKLIST_HINTS = {
    ChecklistItemKey.MEMORY: "e.g. 16 GB per VM",
    ChecklistItemKey.STORAGE: "e.g. 100 GB SSD per VM",
    ChecklistItemKey.PROCESSORS: "e.g. 4 vCPU per VM",
    ChecklistItemKey.LOAD_BALANCERS: "e.g. lb-dev.example.com, TLS passthrough",
    ChecklistItemKey.NETWORKS: "subnets, firewall rules opened",
    ChecklistItemKey.SSL_CERTIFICATES: "issuer and expiry of the certificate",
    ChecklistItemKey.DNS_RECORDS: "the host names created",
    ChecklistItemKey.SMTP_SERVERS: "relay host and port",
    ChecklistItemKey.VENDOR_ACCESS: "jumphost or VPN details shared with the vendor",
}


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    PORTAL = "portal", "In the portal"


class Delivery(models.TextChoices):
    """A person's preference for one channel."""

    IMMEDIATE = "immediate", "Immediately"
    DIGEST = "digest", "Daily digest"
    OFF = "off", "Off"


class NotificationReason(models.TextChoices):
    INFORMED = "informed", "You are Informed"
    CONSULTED = "consulted", "You are Consulted"
    ACCOUNTABLE = "accountable", "You are Accountable"
    RESPONSIBLE = "responsible", "You are Responsible"
    INVOLVED = "involved", "You work on this task"


class ReminderKind(models.TextChoices):
    DUE_SOON = "reminder.due_soon", "Due soon"
    OVERDUE = "reminder.overdue", "Overdue"
    ESCALATION = "reminder.escalation", "Overdue past the grace period"
