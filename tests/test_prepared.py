"""psaas_portal.prepared: a query compiled once gives, for other ids, exactly what the ORM
gives (rows, select_related objects, annotations), and never another person's rows."""

from __future__ import annotations

import pytest
from django.http import Http404

from engagements.lookups import get_engagement_for_view
from engagements.models import Engagement
from psaas_portal import prepared

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache(monkeypatch):
    """Each test starts with no compiled shapes (so what it finds kept, it kept)."""
    monkeypatch.setattr(prepared, "_compiled", {})


def kept(key) -> bool | None:
    """True: compiled and kept; False: refused (run the ordinary way); None: never seen."""
    found = [entry for shape, entry in prepared._compiled.items() if shape[0] == key]
    return bool(found[0]) if found else None


def test_the_same_rows_as_the_orm_for_other_ids(engagement_a, engagement_b):
    def build(pk: int):
        return Engagement.objects.select_related("organization").filter(pk=pk)

    key = ("test engagement by id",)
    for engagement in (engagement_a, engagement_b, engagement_a):
        (got,) = prepared.rows(key, build, pk=engagement.pk)
        assert got.pk == engagement.pk and got.organization.name == engagement.organization.name
    assert prepared.rows(key, build, pk=10**6) == []
    assert kept(key) is True  # the rows above came from the compiled query


def test_a_compiled_visibility_check_keeps_people_apart(
    engagement_a, engagement_b, engineer_a, engineer_b
):
    """Compiled for one person, run for another: each sees their own engagement only."""
    for person, mine, other in (
        (engineer_a, engagement_a, engagement_b),
        (engineer_b, engagement_b, engagement_a),
    ):
        assert get_engagement_for_view(person, mine.pk).pk == mine.pk
        with pytest.raises(Http404):
            get_engagement_for_view(person, other.pk)


def test_an_id_out_of_a_columns_range_is_no_row(engagement_a):
    def build(pk: int):
        return Engagement.objects.filter(pk=pk)

    assert prepared.rows(("test out of range",), build, pk=2**40) == []


def test_the_portfolio_compiled_for_one_person_shows_another_only_theirs(
    client_for, engagement_a, engagement_b, cse, vendor_outsider
):
    from django.urls import reverse

    url = reverse("engagements:portfolio")
    names = [r["engagement"].name for r in client_for(cse).get(url).context["rows"]]
    assert names == ["Appliance A", "Appliance B"]
    assert client_for(vendor_outsider).get(url).context["rows"] == []
    assert [u.pk for u in client_for(vendor_outsider).get(url).context["cse_choices"]] == []
    again = [r["engagement"].name for r in client_for(cse).get(url).context["rows"]]
    assert again == names


def test_portfolio_pages_without_a_count(client_for, template_version, cse):
    """Page 2 of 27 engagements holds the last 2 and no next page; a page past the end (an
    old link) shows the last page, as before."""
    from django.urls import reverse

    from engagements.actions.membership import add_member
    from tests.factories import OrganizationFactory, make_engagement, vendor_party

    for i in range(27):
        engagement = make_engagement(OrganizationFactory(), f"P{i:02d}", version=template_version)
        add_member(engagement, cse, party=vendor_party(), is_manager=True)
    client = client_for(cse)
    url = reverse("engagements:portfolio") + "?sort=name"
    first = client.get(url).context["page_obj"]
    assert first.has_next() and not first.has_previous() and len(first) == 25
    second = client.get(url + "&page=2").context["page_obj"]
    assert [e.name for e in second.object_list] == ["P25", "P26"] and not second.has_next()
    past = client.get(url + "&page=99")
    assert past.status_code == 200
    assert [r["engagement"].name for r in past.context["rows"]] == ["P25", "P26"]


def test_a_related_managers_query_is_not_kept(engagement_a, engagement_b):
    """Built from `engagement.tasks`, the rows would carry the first engagement as their
    own: such a query runs the ordinary way each time."""

    def build(pk: int):
        return Engagement(pk=pk).tasks.order_by("pk")[:1]

    key = ("test related manager",)
    for engagement in (engagement_a, engagement_b):
        (task,) = prepared.rows(key, build, pk=engagement.pk)
        assert task.engagement.pk == engagement.pk
    assert kept(key) is False


def test_past_its_size_the_cache_runs_new_shapes_the_ordinary_way(engagement_a, monkeypatch):
    monkeypatch.setattr(prepared, "_compiled", {})
    monkeypatch.setattr(prepared, "MAX_SHAPES", 1)

    def build(pk: int):
        return Engagement.objects.filter(pk=pk)

    assert [e.pk for e in prepared.rows(("one",), build, pk=engagement_a.pk)] == [engagement_a.pk]
    assert [e.pk for e in prepared.rows(("two",), build, pk=engagement_a.pk)] == [engagement_a.pk]
    assert [key[0] for key in prepared._compiled] == [("one",)]


# --- What the proof refuses (found by review: a shape is kept only when, built with the
# caller's own values, it compiles to the same SQL with those values at the slots) ------


def test_a_day_the_query_computes_with_is_not_frozen(engagement_a):
    import datetime as dt

    from engagements.models import EngagementTask

    def build(today: dt.date):
        return EngagementTask.objects.filter(
            engagement=engagement_a, due_date__lte=today + dt.timedelta(days=400)
        )

    key = ("test today plus",)
    for today in (dt.date(2026, 1, 5), dt.date(2025, 1, 1), dt.date(2026, 6, 1)):
        assert len(prepared.rows(key, build, today=today)) == len(build(today))
    assert kept(key) is False
    # today - n: the sentinel day cannot go back; the ordinary way, no error.
    assert len(
        prepared.rows(
            ("test today minus",),
            lambda today: build(today - dt.timedelta(3)),
            today=dt.date(2026, 1, 5),
        )
    ) == len(build(dt.date(2026, 1, 2)))


def test_an_id_that_drops_a_condition_out_of_range_is_not_kept(engagement_a):
    """A small integer column compiles the sentinel to "no condition": the proof sees the
    SQL differ for a real value and runs the query the ordinary way."""
    from engagements.models import EngagementTask

    def build(pk: int):
        return (
            EngagementTask.objects.filter(engagement=engagement_a)
            .exclude(position__lte=pk)
            .exclude(pk=pk)
        )

    key = ("test position",)
    for pk in (0, 3, 100):
        assert {t.pk for t in prepared.rows(key, build, pk=pk)} == {t.pk for t in build(pk)}
    assert kept(key) is False


def test_an_id_inside_a_string_is_not_kept(engagement_a, engagement_b):
    from engagements.models import Event

    def build(pk: int):
        return Event.objects.filter(engagement_id=pk, verb__contains=str(pk) + "x")

    for engagement in (engagement_a, engagement_b):
        assert prepared.rows(("test in string",), build, pk=engagement.pk) == []
    assert kept(("test in string",)) is False


def test_only_ids_and_days_are_taken_every_time(engagement_a):
    def build(pk):
        return Engagement.objects.filter(pk=pk)

    prepared.rows(("test types",), build, pk=engagement_a.pk)
    with pytest.raises(TypeError, match="pk is str"):
        prepared.rows(("test types",), build, pk=str(engagement_a.pk))


def test_two_call_sites_with_one_key_do_not_share_a_query(engagement_a, engagement_b):
    def engagement_by_id(pk: int):
        return Engagement.objects.filter(pk=pk)

    def other_engagements(pk: int):
        return Engagement.objects.exclude(pk=pk)

    assert [
        e.pk for e in prepared.rows(("test same key",), engagement_by_id, pk=engagement_a.pk)
    ] == [engagement_a.pk]
    assert [
        e.pk for e in prepared.rows(("test same key",), other_engagements, pk=engagement_a.pk)
    ] == [engagement_b.pk]
    mine = [e for shape, e in prepared._compiled.items() if shape[0] == ("test same key",)]
    assert [entry is not False for entry in mine] == [True, True]


def test_what_a_closure_captured_is_part_of_the_key(engagement_a, engagement_b):
    def page(start: int):
        def build(pk: int):
            return Engagement.objects.filter(pk__gte=pk).order_by("pk")[start : start + 1]

        return build

    first = prepared.rows(("test closure",), page(0), pk=0)
    second = prepared.rows(("test closure",), page(1), pk=0)
    mine = [e for shape, e in prepared._compiled.items() if shape[0] == ("test closure",)]
    assert [entry is not False for entry in mine] == [True, True]
    assert [e.pk for e in first] == [engagement_a.pk] and [e.pk for e in second] == [
        engagement_b.pk
    ]


def test_the_api_path_argument_is_an_id(engagement_a, engineer_a):
    assert get_engagement_for_view(engineer_a, str(engagement_a.pk)).pk == engagement_a.pk
    with pytest.raises(Http404):
        get_engagement_for_view(engineer_a, "12abc")


def test_moments_are_parameters_too(engagement_a):
    """Aware datetimes are substituted like ids and days (My work's presence query takes
    `now`); a naive one is refused."""
    import datetime as dt

    from engagements.models import Event

    def build(pk: int, since: dt.datetime):
        return Event.objects.filter(engagement_id=pk, created_at__gte=since)

    key = ("test moments",)
    for since in (dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2999, 1, 1, tzinfo=dt.UTC)):
        got = prepared.rows(key, build, pk=engagement_a.pk, since=since)
        assert [e.pk for e in got] == [e.pk for e in build(engagement_a.pk, since)]
    assert kept(key) is True
    with pytest.raises(TypeError, match="naive"):
        prepared.rows(key, build, pk=engagement_a.pk, since=dt.datetime(2000, 1, 1))
