"""Sign-in throttling around django-axes: the client address, the lockout page, its log line,
and the reset of a lockout once the owner of the account has proved it by email."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

log = logging.getLogger("psaas_portal.security")


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR; behind TRUSTED_PROXY_COUNT proxies, the address the outermost one saw.

    Each proxy appends the address it was connected from to X-Forwarded-For, so the last
    TRUSTED_PROXY_COUNT entries are trustworthy and anything left of them is the client's
    own claim. With fewer entries than proxies, the header was not set by our proxies.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    if count == 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [h for h in hops if h]
    if len(hops) < count:
        return remote
    return hops[-count]


def lockout_response(request: HttpRequest, original_response, credentials) -> HttpResponse:
    """The page a locked-out sign-in gets: what happened, for how long, and the way out."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "registration/locked_out.html",
        {"cooloff_minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )


def log_lockout(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    """One WARNING per locked-out attempt: who was tried and from where, never the password."""
    log.warning(
        "sign-in locked out: username=%r ip=%s (%d failures within %d minutes)",
        username,
        ip_address,
        settings.AXES_FAILURE_LIMIT,
        int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    )


def reset_lockout(user, request: HttpRequest) -> int:
    """Clears the failures counted against this user and against the address the reset was
    completed from: holding the reset link proves the mailbox, so the owner can sign in."""
    from axes.utils import reset

    count = reset(username=user.get_username())
    ip = client_ip(request)
    if ip:
        count += reset(ip=ip)
    if count:
        log.info("sign-in lockout cleared by a password reset: user_id=%s", user.pk)
    return count
