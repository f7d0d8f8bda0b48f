from __future__ import annotations

from celery import shared_task

from .models import Heartbeat


@shared_task(ignore_result=True, expires=60)
def heartbeat() -> None:
    """Beat sends it every HEARTBEAT_SECONDS; the worker that runs it shows workers are alive."""
    Heartbeat.beat("worker")


@shared_task(ignore_result=True)
def send_password_reset(email: str, ip: str | None = None) -> None:
    """The password reset email, sent after the page answered (the same path whether or not
    the address belongs to an account)."""
    from .forms import PortalPasswordResetForm

    form = PortalPasswordResetForm({"email": email})
    if form.is_valid():
        form.send_now(ip)
