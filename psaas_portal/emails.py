"""One email helper: render subject, text and HTML templates; send many over one connection."""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template import Context
from django.template.loader import get_template, render_to_string


def render_plain(name: str, context: dict[str, Any]) -> str:
    """A plain-text template (a subject, a text part) with autoescaping off, whatever the
    template says: "subscriber's", never "subscriber&#x27;s"."""
    template = get_template(name).template  # the Django engine's own Template
    return template.render(Context(context, autoescape=False))


def render_parts(name: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """The subject, text and HTML of templates/emails/<name>_subject.txt, <name>.txt and
    <name>.html."""
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_plain(f"emails/{name}_subject.txt", context).split())
    text = render_plain(f"emails/{name}.txt", context)
    html = render_to_string(f"emails/{name}.html", context)
    return subject, text, html


def render_email(
    name: str, context: dict[str, Any], to: str, *, message_id: str | None = None
) -> EmailMultiAlternatives:
    """templates/emails/<name>_subject.txt, <name>.txt and <name>.html, as one message."""
    return compose(*render_parts(name, context), to, message_id=message_id)


def compose(
    subject: str, text: str, html: str, to: str, *, message_id: str | None = None
) -> EmailMultiAlternatives:
    """One message from rendered parts (render_parts)."""
    headers = {"Message-ID": message_id} if message_id else {}
    message = EmailMultiAlternatives(
        subject, text, settings.DEFAULT_FROM_EMAIL, [to], headers=headers
    )
    message.attach_alternative(html, "text/html")
    return message


# Refusals of one message (its sender, its recipient, its content): the others may still go.
MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)

Item = tuple[EmailMultiAlternatives, Callable[[], None], Callable[[Exception], None]]


def send_each(items: Iterable[Item]) -> int:
    """Sends messages over one connection, calling each one's `sent` callback right after it
    is accepted (so what was sent is recorded before the next is tried), or its `failed`
    callback when the server refuses that message alone. A connection-level error (refused,
    dropped, timed out) stops the batch and propagates: the caller retries what is left."""
    count = 0
    with get_connection(fail_silently=False) as connection:
        for message, sent, failed in items:
            message.connection = connection
            try:
                accepted = connection.send_messages([message])
            except MESSAGE_ERRORS as exc:
                failed(exc)
                continue
            if accepted:
                sent()
                count += 1
    return count
