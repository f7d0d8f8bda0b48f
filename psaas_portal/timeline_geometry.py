"""Where things go on a timeline picture: dates to x, rows to y, arrows between markers.

Pure arithmetic over dates and numbers (no Django, no database), so the engagement's
timeline page and the portfolio's compact bar place things the same way and the geometry
is tested on its own (tests/test_timeline_geometry.py). Units are the SVG's viewBox units;
the browser scales the picture to its width.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 1000  # the viewBox width: the picture scales to any screen from this
LABEL_WIDTH = 300  # the left column with each row's label
PAD_RIGHT = 24
ROW_HEIGHT = 30
LANE_HEADER = 30
AXIS_HEIGHT = 40
TODAY_LABEL_HEIGHT = 18  # under the lanes: "Today" at the foot of its line
STATUS_TEXT_ROOM = 190  # the width a marker's status words take after it


@dataclass(frozen=True)
class Scale:
    """A linear map from days in [start, end] to x in [x0, x1]."""

    start: dt.date
    end: dt.date
    x0: float
    x1: float

    @property
    def days(self) -> int:
        return max((self.end - self.start).days, 1)

    def x(self, day: dt.date) -> float:
        """The x of a day, clamped into the chart so a date far out still shows at its edge."""
        offset = min(max((day - self.start).days, 0), self.days)
        return round(self.x0 + (self.x1 - self.x0) * offset / self.days, 1)


def span(
    dates: Sequence[dt.date | None], today: dt.date, *, margin_days: int = 3
) -> tuple[dt.date, dt.date]:
    """The days the picture covers: every known date and today, with a margin each side
    (a fortnight around today when there are no dates)."""
    known = [d for d in dates if d is not None] + [today]
    start, end = min(known), max(known)
    if (end - start).days < 14:
        end = start + dt.timedelta(days=14)
    return start - dt.timedelta(days=margin_days), end + dt.timedelta(days=margin_days)


def ticks(scale: Scale, *, most: int = 8) -> list[tuple[dt.date, float]]:
    """Axis ticks on the first of each month, or each Monday when the span is short; never
    more than `most` (every n-th is kept)."""
    days = (scale.start + dt.timedelta(days=i) for i in range(scale.days + 1))
    if scale.days > 70:
        chosen = [d for d in days if d.day == 1]
    else:
        chosen = [d for d in days if d.weekday() == 0]
    step = max(1, -(-len(chosen) // most))
    return [(d, scale.x(d)) for d in chosen[::step]]


@dataclass(frozen=True)
class Lane:
    """A band of rows under a header (an environment, or the operations markers)."""

    key: str
    title: str
    y: int  # the header's top
    rows: int


def lanes(
    sizes: Sequence[tuple[str, str, int]],
) -> tuple[list[Lane], dict[tuple[str, int], int], int]:
    """Stacks lanes of rows under the axis. `sizes`: (key, title, number of rows).

    Returns the lanes, each row's centre y by (lane key, index) and the picture's height."""
    y = AXIS_HEIGHT
    out: list[Lane] = []
    centres: dict[tuple[str, int], int] = {}
    for key, title, rows in sizes:
        out.append(Lane(key, title, y, rows))
        top = y + LANE_HEADER
        for i in range(rows):
            centres[(key, i)] = top + ROW_HEIGHT * i + ROW_HEIGHT // 2
        y = top + ROW_HEIGHT * rows
    return out, centres, y + 8


def arrow(start: tuple[float, float], end: tuple[float, float], *, gap: float = 9) -> str:
    """An SVG path from one marker to another: out to the right, then a curve into the
    target's left side, stopping `gap` short of each marker's centre."""
    (x1, y1), (x2, y2) = start, end
    x1 += gap
    x2 -= gap
    bend = max(abs(x2 - x1) / 2, 20)
    return (
        f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    )


@dataclass(frozen=True)
class Segment:
    """A piece of a compact bar: [x, x + width) in percent of the bar, for one task."""

    x: float
    width: float
    key: str


def compact_bar(
    dates: Sequence[tuple[dt.date | None, str]], today: dt.date
) -> tuple[list[Segment], float | None]:
    """A portfolio row's bar: each dated task as a thin mark at its due date, in percent of
    the bar's width (0-100), and today's place on it (None when the bar has no dates).

    `dates`: (due date, a key such as the status) per task; undated tasks are left out."""
    known = [(d, k) for d, k in dates if d is not None]
    if not known:
        return [], None
    start, end = span([d for d, _ in known], today, margin_days=1)
    scale = Scale(start, end, 0, 100)
    marks = [Segment(scale.x(d), 1.2, k) for d, k in sorted(known, key=lambda p: p[0])]
    return marks, scale.x(today)
