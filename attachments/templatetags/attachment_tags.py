from __future__ import annotations

from django import template
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from attachments.limits import allowed_extensions

register = template.Library()


@register.simple_tag
def attachment_limits() -> str:
    """What the upload form accepts, from settings (the limits the service checks)."""
    return (
        f"Up to {filesizeformat(settings.ATTACHMENT_MAX_BYTES)}: "
        f"{', '.join(allowed_extensions())}. Web pages, SVG images and programs are refused."
    )
