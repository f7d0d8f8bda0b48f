"""Settings for the PSaaS Portal, all read from environment variables.

With nothing set, the portal runs on an embedded default that needs no server:
SQLite in var/, a Celery broker on the filesystem (a real worker still runs),
and emails written as files under var/mail/. See README.md, "Configuration".
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from sso.config import providers_from_env

from .env import envbool, envchoice, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("PORTAL_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = envbool("DEBUG", True)

SECRET_KEY = envstr("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

# The base URL put into emails and calendar feeds (no request at hand there).
SITE_URL = envstr("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "guardian",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served as our own static files (CSP)
    "psaas_portal.apps.PortalConfig",
    "raci",
    "engagements",
    "accounts",
    "sso",
    "api",
    "attachments",
    "webhooks",
    "search",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "psaas_portal.sessions.SessionIdleRefreshMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # django.contrib.auth's, with the user read in the session's own query.
    "psaas_portal.signed_in.SessionUserAuthenticationMiddleware",
    "accounts.middleware.TimeZoneMiddleware",
    "psaas_portal.logs.RequestContextMiddleware",
    "psaas_portal.middleware.PrivateCacheControlMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "accounts.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, so the lockout page it returns still passes through the headers above.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "psaas_portal.urls"
WSGI_APPLICATION = "psaas_portal.wsgi.application"
ASGI_APPLICATION = "psaas_portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "engagements.context_processors.portal",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASE_URL = envstr("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")
try:
    _db = dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
except Exception as exc:  # dj-database-url raises several types for a bad URL
    raise ImproperlyConfigured(f"DATABASE_URL is not a usable database URL: {exc}") from None
if _db["ENGINE"] not in (
    "django.db.backends.sqlite3",
    "django.db.backends.postgresql",
):
    raise ImproperlyConfigured("DATABASE_URL must be a sqlite:// or postgres:// URL")
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["CONN_MAX_AGE"] = 0
    # A file-backed test database, so a worker process can share it in tests.
    _db["TEST"] = {"NAME": str(VAR_DIR / "test-portal.sqlite3")}
    _db["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth and object permissions ----------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First: a locked-out sign-in is refused here, before any password hash is computed.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# No guardian anonymous user: object permissions are never given to anonymous.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# Sign-in throttling (django-axes, attempts in the database): after AXES_FAILURE_LIMIT failures
# for one username, or from one IP address, sign-in is refused for AXES_COOLOFF minutes, with
# the right password too and without checking it. A success resets the count; so does a
# password reset by email (the owner of the mailbox can always recover).
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5, minimum=1)
# The password reset form: emails per account and requests per client address, per hour.
RESET_EMAILS_PER_USER = envint("RESET_EMAILS_PER_USER", 3, minimum=1)
RESET_REQUESTS_PER_IP = envint("RESET_REQUESTS_PER_IP", 20, minimum=1)
AXES_COOLOFF_TIME = dt.timedelta(minutes=envint("AXES_COOLOFF", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username"], ["ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no start-up banner in every command's output; lockouts are logged by us
# A refused attempt during a lockout does not restart it: it ends AXES_COOLOFF after it began.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The client address: REMOTE_ADDR, or with TRUSTED_PROXY_COUNT proxies in front, the address
# the outermost of them saw (X-Forwarded-For, counted from the right: never the client's own).
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "psaas_portal.security.client_ip"
AXES_LOCKOUT_CALLABLE = "psaas_portal.security.lockout_response"
# Axes masks the password always; the username stays readable in its log lines (who was
# attacked), and the CSRF token is masked in the attempt rows it keeps.
AXES_SENSITIVE_PARAMETERS = ["csrfmiddlewaretoken"]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"

# Two-factor sign-in (accounts/two_factor.py): required for the vendor's staff and portal
# admins where this is on (the default wherever DEBUG is off), optional for subscribers.
TWO_FACTOR_REQUIRED_FOR_STAFF = envbool("TWO_FACTOR_REQUIRED_FOR_STAFF", not DEBUG)
OTP_TOTP_ISSUER = envstr("OTP_TOTP_ISSUER", "PSaaS Portal")

# Single sign-on with OpenID Connect (sso/config.py): the identity providers, each with the
# email domains whose people sign in there. None configured: everyone signs in with a password.
SSO_PROVIDERS = providers_from_env(os.environ)
SSO_TIMEOUT = envint("SSO_TIMEOUT", 10, minimum=1)  # seconds for each call to a provider
SSO_DISCOVERY_SECONDS = envint("SSO_DISCOVERY_SECONDS", 3600, minimum=0)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "engagements:my-work"
LOGOUT_REDIRECT_URL = "login"

# Argon2 first (argon2-cffi ships wheels: no build step); older hashes still verify and
# are upgraded at the next sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation -----------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = envstr("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise serves from the finders here
# whitenoise serves static files from the web process: compressed, with hashed names
# (run `manage.py collectstatic` when deploying) and cached for a year.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Attachments ----------------------------------------------------------------
# Files attached to tasks, checklist items, issues and handover notes, stored through the
# "attachments" storage alias: local files under the var directory by default, an
# S3-compatible bucket (django-storages with boto3) when ATTACHMENT_S3_BUCKET is set. They
# are never served from a public URL: the portal's download view checks access first.
ATTACHMENT_ROOT = Path(envstr("ATTACHMENT_ROOT", str(VAR_DIR / "attachments")))
ATTACHMENT_S3_BUCKET = envstr("ATTACHMENT_S3_BUCKET")
if ATTACHMENT_S3_BUCKET:
    STORAGES["attachments"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": ATTACHMENT_S3_BUCKET,
            "endpoint_url": envstr("ATTACHMENT_S3_ENDPOINT_URL") or None,
            "access_key": envstr("ATTACHMENT_S3_ACCESS_KEY_ID") or None,
            "secret_key": envstr("ATTACHMENT_S3_SECRET_ACCESS_KEY") or None,
            "region_name": envstr("ATTACHMENT_S3_REGION") or None,
            "location": envstr("ATTACHMENT_S3_PREFIX", "attachments"),
            "default_acl": None,  # the bucket's own policy: private
            "querystring_auth": True,
            "file_overwrite": False,  # keys are unique anyway; never replace a stored file
        },
    }
else:
    STORAGES["attachments"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # No URL of their own: they are served by the access-checked view only.
        "OPTIONS": {"location": str(ATTACHMENT_ROOT)},
    }
ATTACHMENT_MAX_BYTES = envint("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1)
# By extension; the content is sniffed too (attachments.limits). HTML, SVG,
# scripts and executables are refused whatever this says.
_ATTACHMENT_TYPES = "pdf png jpg jpeg gif webp txt log csv json yaml yml md pem crt cer der zip gz"
ATTACHMENT_ALLOWED_TYPES = [
    t.lower().lstrip(".")
    for t in envlist("ATTACHMENT_ALLOWED_TYPES", [*_ATTACHMENT_TYPES.split(), "docx", "xlsx"])
]

# --- Email --------------------------------------------------------------------
EMAIL_BACKEND = envchoice(
    "EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend",
    (
        "django.core.mail.backends.filebased.EmailBackend",
        "django.core.mail.backends.smtp.EmailBackend",
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
    ),
)
EMAIL_FILE_PATH = envstr("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = envstr("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = envint("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "PSaaS Portal <portal@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery -------------------------------------------------------------------
_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL", "filesystem://localhost//")
if CELERY_BROKER_URL in ("filesystem://", "filesystem:///"):
    # The filesystem transport has no host; naming one keeps kombu from warning "No
    # hostname was supplied" at every connection.
    CELERY_BROKER_URL = "filesystem://localhost//"
REDIS_TRANSPORT_OPTIONS = {
    # Above the longest task's time limit, so a slow task is never redelivered
    # to a second worker while the first is still on it.
    "visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1),
    # Publishing to a broker that is down fails at once instead of retrying for
    # seconds inside a request: the notification rows are committed and the
    # sweep delivers them. (Workers reconnect by their own, longer policy.)
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.1,
}
if not CELERY_BROKER_URL.startswith(("redis://", "rediss://", "filesystem://", "memory://")):
    raise ImproperlyConfigured(
        "CELERY_BROKER_URL must be a redis://, rediss:// or filesystem:// URL"
    )
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("out", "processed", "control"):
        (_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "out"),
        "data_folder_out": str(_BROKER_DIR / "out"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        "store_processed": False,
        # Broadcast (worker control) exchanges; kombu's default is ./control.
        "control_folder": str(_BROKER_DIR / "control"),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = REDIS_TRANSPORT_OPTIONS
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = max(1, CELERY_TASK_TIME_LIMIT - 30)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the database connection after every task unless this is set
# (it then closes it every N tasks); the worker follows CONN_MAX_AGE and the health checks
# instead (psaas_portal.celery._database_connections).
CELERY_DB_REUSE_MAX = 1000
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Publishing gives up fast when the broker is down: the change is committed and its
# notification rows wait for the sweep, so a request never hangs on Redis.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2

# --- Notifications and reminders --------------------------------------------------
NOTIFY_BATCH_SIZE = envint("NOTIFY_BATCH_SIZE", 100, minimum=1)
NOTIFY_SWEEP_SECONDS = envint("NOTIFY_SWEEP_SECONDS", 60, minimum=5)
NOTIFY_SWEEP_MAX_BATCHES = envint("NOTIFY_SWEEP_MAX_BATCHES", 100, minimum=1)
# A claimed row whose worker died is claimable again after this. A live worker renews its
# claim before each message (when a second has passed) and skips a row whose claim it lost;
# one message's exchange (MAIL, RCPT, DATA, the end of data) is bounded by a few
# EMAIL_TIMEOUTs, so a lease of six of them never lets two workers send one row.
NOTIFY_CLAIM_LEASE = envint("NOTIFY_CLAIM_LEASE", max(60, 6 * EMAIL_TIMEOUT), minimum=1)
# Accepted messages are recorded as sent a group at a time: one UPDATE when this many were
# accepted, or before the next message once NOTIFY_RECORD_MS passed since the first
# unrecorded one, and at the end of the batch. A worker killed mid-batch leaves at most one
# group unrecorded: those messages are sent again after the lease, with the same Message-ID.
# 50: two UPDATEs per batch of 100, not five (each an ORM statement, a round trip and a
# commit while the SMTP connection waits); the bound on what a kill resends stays one group,
# accepted within the last NOTIFY_RECORD_MS (issue 16, P5; bench/README.md).
NOTIFY_RECORD_EVERY = envint("NOTIFY_RECORD_EVERY", 50, minimum=1)
NOTIFY_RECORD_MS = envint("NOTIFY_RECORD_MS", 1000, minimum=1)
NOTIFY_MAX_ATTEMPTS = envint("NOTIFY_MAX_ATTEMPTS", 10, minimum=1)
# A temporary refusal (SMTP 4xx) of one message waits NOTIFY_BACKOFF_BASE * 2**(attempt-1)
# seconds, capped at NOTIFY_BACKOFF_MAX, with jitter; a permanent one (5xx) is given up.
NOTIFY_BACKOFF_BASE = envint("NOTIFY_BACKOFF_BASE", 60, minimum=1)
NOTIFY_BACKOFF_MAX = envint("NOTIFY_BACKOFF_MAX", 6 * 3600, minimum=1)
NOTIFY_MAX_RETRIES = envint("NOTIFY_MAX_RETRIES", 8, minimum=0)
NOTIFY_RETRY_BACKOFF = envint("NOTIFY_RETRY_BACKOFF", 2, minimum=1)
NOTIFY_RETRY_BACKOFF_MAX = envint("NOTIFY_RETRY_BACKOFF_MAX", 600, minimum=1)
EMAIL_MESSAGE_ID_DOMAIN = envstr("EMAIL_MESSAGE_ID_DOMAIN", "psaas-portal.local")
REMINDER_SWEEP_SECONDS = envint("REMINDER_SWEEP_SECONDS", 3600, minimum=10)
REMINDER_LEAD_DAYS = envint("REMINDER_LEAD_DAYS", 3, minimum=0)
REMINDER_GRACE_DAYS = envint("REMINDER_GRACE_DAYS", 3, minimum=0)
REMINDER_BATCH_SIZE = envint("REMINDER_BATCH_SIZE", 500, minimum=1)
# An update starts only with VM snapshots taken within this many hours.
SNAPSHOT_MAX_AGE_HOURS = envint("SNAPSHOT_MAX_AGE_HOURS", 24, minimum=1)
# The vendor's role that overdue work escalates to when its Responsible and Accountable
# people are the same, and that unanswered issues escalate to.
CSE_ROLE = envstr("CSE_ROLE", "Auth0 Customer Success Engineer")
# Response targets of open issues per severity: hours (h) or working days (d, Monday to
# Friday); past it, the issue escalates to the engagement's CSE once.
ISSUE_RESPONSE_TARGETS = {
    severity: envstr(f"ISSUE_RESPONSE_{severity.upper()}", default)
    for severity, default in (("critical", "4h"), ("high", "1d"), ("medium", "3d"), ("low", "5d"))
}
for _severity, _target in ISSUE_RESPONSE_TARGETS.items():
    if not re.fullmatch(r"[1-9][0-9]{0,3}[hd]", _target):
        raise ImproperlyConfigured(
            f"ISSUE_RESPONSE_{_severity.upper()} must be hours or working days, e.g. 4h or 3d."
        )
# The Support Center's ticket references (a regular expression they must match) and, when
# set, the URL of a ticket, with {ticket} where its reference goes.
ISSUE_TICKET_PATTERN = envstr("ISSUE_TICKET_PATTERN", r"[A-Za-z]{1,10}-?[0-9]{1,12}")
try:
    re.compile(ISSUE_TICKET_PATTERN)
except re.error as exc:
    raise ImproperlyConfigured(f"ISSUE_TICKET_PATTERN is not a regular expression: {exc}") from None
ISSUE_TICKET_URL = envstr("ISSUE_TICKET_URL", "")
DIGEST_HOUR = envint("DIGEST_HOUR", 7, minimum=0)
DIGEST_MIN_HOURS = envint("DIGEST_MIN_HOURS", 20, minimum=0)
# Notification rows are delivery records, not the audit trail (that is the Event): settled
# ones older than this are deleted daily, in batches.
NOTIFY_RETENTION_DAYS = envint("NOTIFY_RETENTION_DAYS", 180, minimum=7)

HEARTBEAT_SECONDS = envint("HEARTBEAT_SECONDS", 30, minimum=1)
HEARTBEAT_MAX_AGE = envint("HEARTBEAT_MAX_AGE", 120, minimum=1)
# --- Outgoing HTTP: webhooks (webhooks/) and chat channels (Slack, Teams) -------------
# Only https, and never to loopback, private, link-local or otherwise non-public addresses
# (server-side request forgery), checked when a URL is saved and again at each delivery.
# Both switches are for development and tests only (a receiver on 127.0.0.1).
WEBHOOKS_ALLOW_HTTP = envbool("WEBHOOKS_ALLOW_HTTP", False)
WEBHOOKS_ALLOW_PRIVATE = envbool("WEBHOOKS_ALLOW_PRIVATE", False)
# Seconds to connect, and to wait for the answer; redirects are never followed.
WEBHOOKS_TIMEOUT = envint("WEBHOOKS_TIMEOUT", 5, minimum=1)
# A refused delivery is retried after WEBHOOKS_BACKOFF_BASE * 2**(attempt-1) seconds (capped
# at WEBHOOKS_BACKOFF_MAX, jittered) until WEBHOOKS_RETRY_FOR seconds after the event; an
# endpoint failing for WEBHOOKS_DISABLE_AFTER seconds is disabled and its managers emailed.
WEBHOOKS_BACKOFF_BASE = envint("WEBHOOKS_BACKOFF_BASE", 30, minimum=1)
WEBHOOKS_BACKOFF_MAX = envint("WEBHOOKS_BACKOFF_MAX", 3600, minimum=1)
WEBHOOKS_RETRY_FOR = envint("WEBHOOKS_RETRY_FOR", 24 * 3600, minimum=60)
WEBHOOKS_DISABLE_AFTER = envint("WEBHOOKS_DISABLE_AFTER", 24 * 3600, minimum=60)
WEBHOOKS_SWEEP_SECONDS = envint("WEBHOOKS_SWEEP_SECONDS", 30, minimum=5)
WEBHOOKS_BATCH_SIZE = envint("WEBHOOKS_BATCH_SIZE", 50, minimum=1)
# A claimed batch is another worker's again after the lease: long enough for every delivery
# of a batch to time out twice (connect and read), so a slow receiver never makes a batch
# be claimed, and sent, twice (review finding); only a crashed worker's rows wait for it.
WEBHOOKS_CLAIM_LEASE = envint(
    "WEBHOOKS_CLAIM_LEASE", max(60, 2 * WEBHOOKS_BATCH_SIZE * WEBHOOKS_TIMEOUT + 60), minimum=1
)

# Task modules besides each app's tasks.py (autodiscovered): the reminder sweeps, chat.
CELERY_IMPORTS = ("engagements.reminders", "engagements.chat")
CELERY_BEAT_SCHEDULER = "psaas_portal.beat:HeartbeatScheduler"

CELERY_BEAT_SCHEDULE: dict = {
    "heartbeat": {
        "task": "psaas_portal.tasks.heartbeat",
        "schedule": HEARTBEAT_SECONDS,
    },
    "deliver-pending-notifications": {
        "task": "engagements.tasks.deliver_pending",
        "schedule": NOTIFY_SWEEP_SECONDS,
    },
    "send-reminders": {
        "task": "engagements.tasks.send_reminders",
        "schedule": REMINDER_SWEEP_SECONDS,
    },
    "send-digests": {
        "task": "engagements.tasks.send_digests",
        "schedule": crontab(minute=0, hour=DIGEST_HOUR),
    },
    "prune-notifications": {
        "task": "engagements.tasks.prune_notifications",
        "schedule": crontab(minute=30, hour=3),
    },
    "deliver-due-webhooks": {
        "task": "webhooks.tasks.deliver_due",
        "schedule": WEBHOOKS_SWEEP_SECONDS,
    },
    "deliver-pending-chat": {
        "task": "engagements.chat.deliver_pending_chat",
        "schedule": NOTIFY_SWEEP_SECONDS,
    },
    "send-chat-digests": {
        "task": "engagements.chat.send_chat_digests",
        "schedule": crontab(minute=5, hour=DIGEST_HOUR),
    },
}

# --- Sessions and security ----------------------------------------------------
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 60 * 60 * 8, minimum=60)
# The idle timeout: the age counts from the session's last refresh, which happens when
# SESSION_REFRESH_SECONDS have passed (psaas_portal.sessions), not on every request.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = envint(
    "SESSION_REFRESH_SECONDS", max(60, SESSION_COOKIE_AGE // 20), minimum=1
)
# Database sessions that know whose they are (psaas_portal.sessions): listed and ended on
# the account page, and ended when a person is removed from their last engagement.
SESSION_ENGINE = "psaas_portal.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # probes speak plain HTTP on loopback
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

ADMIN_URL = envstr("ADMIN_URL", "admin/").strip("/") + "/"

# Content Security Policy: every script and style comes from our own static files;
# no inline scripts, no eval, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Cache ----------------------------------------------------------------------
# The API's per-token throttles count here. One process needs nothing; with several web
# processes set CACHE_URL=redis://… so they share the counts.
CACHE_URL = envstr("CACHE_URL")
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured("CACHE_URL must be a redis:// or rediss:// URL")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# --- The REST API (api/) ------------------------------------------------------------
# Requests per token (or per signed-in person) and the largest JSON body accepted.
API_THROTTLE_RATE = envstr("API_THROTTLE_RATE", "600/min")
API_MAX_BODY = envint("API_MAX_BODY", 64 * 1024, minimum=1024)
API_PAGE_SIZE = envint("API_PAGE_SIZE", 50, minimum=1)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.TokenScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.PerTokenThrottle"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "api.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_VERSIONING_CLASS": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "iso-8601",
    "UNICODE_JSON": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PSaaS Portal API",
    "DESCRIPTION": "The RACI matrix, live, for programs: the same rules as the pages.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TaskStatusEnum": "engagements.choices.TaskStatus",
        "IssueStateEnum": "engagements.choices.IssueState",
        "CycleStateEnum": "engagements.choices.CycleState",
        "EngagementStateEnum": "engagements.choices.EngagementState",
        "ChecklistStatusEnum": "engagements.choices.ChecklistStatus",
    },
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.openapi.as_enforced",
    ],
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "attestationToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "An engagement's attestation token (psat_…), for backup jobs.",
            }
        }
    },
}

# --- Portal behaviour ---------------------------------------------------------
# An invitation link to join an engagement is valid this many days (resending renews it).
INVITATION_VALID_DAYS = envint("INVITATION_VALID_DAYS", 7, minimum=1)
# Tasks due within this many days count as "due soon" on My work.
PORTAL_DUE_SOON_DAYS = envint("PORTAL_DUE_SOON_DAYS", 7, minimum=0)

LOG_FORMAT = envchoice("LOG_FORMAT", "text", ("text", "json"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "psaas_portal.logs.ContextFilter"},
        "expected_refusals": {"()": "psaas_portal.logs.ExpectedRefusalFilter"},
    },
    "formatters": {
        "text": {
            "()": "psaas_portal.logs.TextFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s user=%(user_id)s "
            "engagement=%(engagement_id)s task=%(task_id)s] %(message)s",
        },
        "json": {"()": "psaas_portal.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        },
    },
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler (DEBUG only) would print each line a second time,
        # without the context: its records go to the root handler alone.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # A 403 or 404 is one warning line, without a traceback (5xx keep theirs).
        "django.request": {"filters": ["expected_refusals"], "propagate": True},
    },
}
