"""`check --deploy`: the development switches of outgoing HTTP are off in production."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Warning, register


@register("security", deploy=True)
def outgoing_http_switches(app_configs, **kwargs):
    found = []
    for name in ("WEBHOOKS_ALLOW_HTTP", "WEBHOOKS_ALLOW_PRIVATE"):
        if getattr(settings, name) and not settings.DEBUG:
            found.append(
                Warning(
                    f"{name} is on: webhooks and chat channels may be sent "
                    + (
                        "over plain http."
                        if name.endswith("HTTP")
                        else "to loopback and private addresses (SSRF)."
                    ),
                    hint=f"Unset {name} in production; it is for development and tests.",
                    id=f"webhooks.W00{1 if name.endswith('HTTP') else 2}",
                )
            )
    return found
