"""iCalendar (RFC 5545) output, through the icalendar package: handover invitations and a
person's private feed. All times are UTC."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//PSaaS Portal//Operations//EN"


def _calendar(method: str | None = None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    return cal


def _address(person: dict, **params) -> vCalAddress:
    address = vCalAddress(f"mailto:{person['email'] or 'unknown@invalid'}")
    address.params["CN"] = vText(person["name"])
    for key, value in params.items():
        address.params[key] = vText(value)
    return address


def invitation(data: dict, *, now: dt.datetime | None = None) -> bytes:
    """The handover as an invitation (METHOD:REQUEST) or its cancellation (METHOD:CANCEL),
    from the snapshot an event froze (see actions.handover.invitation_data)."""
    cancelled = data["status"] == "cancelled"
    cal = _calendar("CANCEL" if cancelled else "REQUEST")
    cal.add_component(_handover_event(data, now=now))
    return cal.to_ical()


def _handover_event(data: dict, *, now: dt.datetime | None = None) -> Event:
    start = dt.datetime.fromisoformat(data["start"]).astimezone(dt.UTC)
    event = Event()
    event.add("uid", data["uid"])
    event.add("sequence", data["sequence"])
    event.add("dtstamp", (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC))
    event.add("dtstart", start)
    event.add("duration", dt.timedelta(minutes=data["minutes"]))
    event.add("summary", data["summary"])
    event.add("description", data["agenda"])
    if data.get("location"):
        event.add("location", data["location"])
    event.add(
        "status",
        {"cancelled": "CANCELLED", "held": "CONFIRMED"}.get(data["status"], "CONFIRMED"),
    )
    event.add("organizer", _address(data["organizer"]))
    for person in data["attendees"]:
        event.add(
            "attendee",
            _address(person, ROLE="REQ-PARTICIPANT", PARTSTAT="NEEDS-ACTION", RSVP="TRUE"),
        )
    return event


def feed(entries: list[dict], *, name: str) -> bytes:
    """A person's feed: all-day due dates, timed update windows and handovers.

    Each entry: uid, summary, description, url, and either `date` (all day) or
    `start` and `end` (UTC datetimes); `status` optionally.
    """
    cal = _calendar()  # a subscription, not a scheduling message: no METHOD
    cal.add("x-wr-calname", name)
    cal.add("x-published-ttl", "PT1H")
    now = dt.datetime.now(dt.UTC)
    for entry in entries:
        event = Event()
        event.add("uid", entry["uid"])
        event.add("dtstamp", now)
        if "date" in entry:
            event.add("dtstart", entry["date"])
            event.add("dtend", entry["date"] + dt.timedelta(days=1))
        else:
            event.add("dtstart", entry["start"].astimezone(dt.UTC))
            event.add("dtend", entry["end"].astimezone(dt.UTC))
        event.add("summary", entry["summary"])
        if entry.get("description"):
            event.add("description", entry["description"])
        if entry.get("url"):
            event.add("url", settings.SITE_URL + entry["url"])
        if entry.get("sequence") is not None:
            event.add("sequence", entry["sequence"])
        if entry.get("status"):
            event.add("status", entry["status"])
        cal.add_component(event)
    return cal.to_ical()
