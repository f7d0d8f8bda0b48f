"""The password reset email, sent through the portal's one email helper."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.urls import reverse
from django.utils import timezone

from .emails import render_email

log = logging.getLogger(__name__)


class PortalPasswordResetForm(PasswordResetForm):
    """Django's reset form (no hint whether the address is known; only active users with a
    usable password get a link), with our templates and a link built on SITE_URL rather than
    on the request's Host header.

    Rate limited, so it cannot flood a mailbox: at most RESET_EMAILS_PER_USER emails per
    account and RESET_REQUESTS_PER_IP requests per client address within an hour. Past a
    limit the page answers the same (no hint) and the refusal is logged."""

    def save(self, *args, request=None, **kwargs):
        """The request's part, the same for a known and an unknown address: the per-address
        limit, then one task published. Looking the account up, the per-account limit and
        the email happen in the worker (`send_now`), so the answer takes the same time."""
        from .models import ResetRequest
        from .security import client_ip
        from .tasks import send_password_reset

        ip = client_ip(request) if request is not None else None
        since = timezone.now() - dt.timedelta(hours=1)
        ResetRequest.objects.filter(created_at__lt=since - dt.timedelta(days=1)).delete()
        if ip:
            # One row per request (user empty), whatever the address asked for.
            requests = ResetRequest.objects.filter(
                ip=ip, user_id__isnull=True, created_at__gte=since
            )
            if requests.count() >= settings.RESET_REQUESTS_PER_IP:
                log.warning("password reset refused: too many requests from %s", ip)
                return None
            ResetRequest.objects.create(ip=ip, sent=False)
        try:
            send_password_reset.delay(self.cleaned_data["email"], ip)
        except Exception:  # the broker is down: the page answers the same; an operator sees it
            log.exception("could not queue a password reset email")
        return None

    def send_now(self, ip: str | None) -> None:
        """The worker's part: Django's reset (active users with a usable password get a link)."""
        self._ip = ip
        super().save(domain_override="portal", request=None)

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ) -> None:
        from .models import ResetRequest

        user = context["user"]
        since = timezone.now() - dt.timedelta(hours=1)
        recent = ResetRequest.objects.filter(user_id=user.pk, sent=True, created_at__gte=since)
        if recent.count() >= settings.RESET_EMAILS_PER_USER:
            ResetRequest.objects.create(user_id=user.pk, ip=getattr(self, "_ip", None), sent=False)
            log.warning("password reset email not sent: limit reached for user_id=%s", user.pk)
            return
        ResetRequest.objects.create(user_id=user.pk, ip=getattr(self, "_ip", None))
        path = reverse(
            "password_reset_confirm",
            kwargs={"uidb64": context["uid"], "token": context["token"]},
        )
        message = render_email(
            "password_reset",
            {
                "recipient": context["user"],
                "link": f"{settings.SITE_URL}{path}",
                "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
            },
            to_email,
        )
        try:
            message.send()
        except Exception:
            # The page says the same whether or not a message went out; an operator sees why.
            log.exception(
                "could not send the password reset email to user_id=%s", context["user"].pk
            )
