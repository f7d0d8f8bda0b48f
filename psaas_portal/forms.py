"""The password reset email, sent through the portal's one email helper."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.urls import reverse

from .emails import render_email

log = logging.getLogger(__name__)


class PortalPasswordResetForm(PasswordResetForm):
    """Django's reset form (no hint whether the address is known; only active users with a
    usable password get a link), with our templates and a link built on SITE_URL rather than
    on the request's Host header."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ) -> None:
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
