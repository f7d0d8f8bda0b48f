"""An update cycle's windows and environments: a window for each environment the
engagement runs (Production after Development), and the words that name them."""

from __future__ import annotations

import datetime as dt

from engagements.choices import Environment
from engagements.cleaning import aware
from engagements.errors import DomainError

DEV, PROD = Environment.DEVELOPMENT, Environment.PRODUCTION
MAX_WINDOW = dt.timedelta(days=7)


def check_windows(
    windows: dict[str, tuple[dt.datetime, dt.datetime]], environments: tuple[str, ...]
) -> dict:
    """A window for each environment the engagement runs, and none for another; Production's
    after Development's."""
    extra = [env for env in windows if env not in environments]
    if extra:
        raise DomainError(
            f"This engagement runs {' and '.join(Environment(e).label for e in environments)} "
            f"only: give no {Environment(extra[0]).label} window."
        )
    out = {}
    for env in environments:
        if env not in windows:
            raise DomainError(f"Give a {Environment(env).label} window.")
        start, end = windows[env]
        label = Environment(env).label
        start, end = aware(start, f"The {label} start"), aware(end, f"The {label} end")
        if end <= start:
            raise DomainError(f"The {label} window must end after it starts.")
        if end - start > MAX_WINDOW:
            raise DomainError(f"The {label} window is longer than {MAX_WINDOW.days} days.")
        out[env] = (start, end)
    if DEV in out and out[PROD][0] < out[DEV][1]:
        raise DomainError(
            "The Production window must start after the Development window ends: "
            "Development is updated and tested first."
        )
    return out


def span(start: dt.datetime, end: dt.datetime) -> str:
    return f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"


def window_text(windows: dict) -> str:
    return "; ".join(
        f"{Environment(env).label} {span(*windows[env])}" for env in (DEV, PROD) if env in windows
    )
