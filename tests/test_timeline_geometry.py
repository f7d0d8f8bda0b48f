"""The timeline's geometry (psaas_portal.timeline_geometry): pure arithmetic, no database."""

from __future__ import annotations

import datetime as dt

from psaas_portal import timeline_geometry as geo

D = dt.date(2026, 3, 2)  # a Monday


def test_the_scale_maps_the_span_linearly_and_clamps_outside_it():
    scale = geo.Scale(D, D + dt.timedelta(days=10), 100, 200)
    assert scale.x(D) == 100
    assert scale.x(D + dt.timedelta(days=5)) == 150
    assert scale.x(D + dt.timedelta(days=10)) == 200
    assert scale.x(D - dt.timedelta(days=30)) == 100  # clamped to the left edge
    assert scale.x(D + dt.timedelta(days=99)) == 200  # and to the right one


def test_a_scale_of_one_day_does_not_divide_by_zero():
    assert geo.Scale(D, D, 0, 10).x(D) == 0


def test_the_span_covers_every_date_and_today_with_a_margin():
    start, end = geo.span([D, None, D + dt.timedelta(days=40)], D + dt.timedelta(days=60))
    assert start == D - dt.timedelta(days=3)
    assert end == D + dt.timedelta(days=63)
    # No dates at all: a fortnight from today.
    start, end = geo.span([None], D)
    assert (start, end) == (D - dt.timedelta(days=3), D + dt.timedelta(days=17))


def test_ticks_are_mondays_on_a_short_span_and_firsts_of_months_on_a_long_one():
    short = geo.Scale(D, D + dt.timedelta(days=30), 0, 100)
    assert [d.weekday() for d, _ in geo.ticks(short)] == [0] * 5
    long = geo.Scale(D, D + dt.timedelta(days=400), 0, 100)
    days = [d for d, _ in geo.ticks(long, most=8)]
    assert all(d.day == 1 for d in days) and 1 < len(days) <= 8
    xs = [x for _, x in geo.ticks(long)]
    assert xs == sorted(xs)


def test_lanes_stack_rows_under_the_axis_without_overlap():
    lanes, centres, height = geo.lanes([("", "Whole", 2), ("dev", "Development", 3)])
    assert [lane.y for lane in lanes] == [
        geo.AXIS_HEIGHT,
        geo.AXIS_HEIGHT + geo.LANE_HEADER + 2 * geo.ROW_HEIGHT,
    ]
    ys = [centres[("", 0)], centres[("", 1)], centres[("dev", 0)], centres[("dev", 2)]]
    assert ys == sorted(ys) and len(set(ys)) == 4
    assert centres[("dev", 0)] > lanes[1].y + geo.LANE_HEADER - geo.ROW_HEIGHT // 2
    assert height > centres[("dev", 2)] + geo.ROW_HEIGHT // 2 - 1


def test_an_arrow_leaves_one_marker_and_ends_short_of_the_other():
    path = geo.arrow((100, 50), (300, 110), gap=10)
    assert path.startswith("M110.0,50.0 C")
    assert path.endswith(" 290.0,110.0")
    # Backwards in time (the prerequisite is due later) still draws a curve, not a point.
    assert geo.arrow((300, 50), (100, 80)).count(",") == 4


def test_the_compact_bar_places_marks_in_percent_and_today():
    marks, today_x = geo.compact_bar(
        [(D, "done"), (None, "not_started"), (D + dt.timedelta(days=20), "overdue")],
        D + dt.timedelta(days=10),
    )
    assert [m.key for m in marks] == ["done", "overdue"]
    assert 0 < marks[0].x < today_x < marks[1].x < 100
    assert geo.compact_bar([(None, "done")], D) == ([], None)
