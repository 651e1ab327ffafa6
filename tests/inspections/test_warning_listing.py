"""The 预警 page's and API's listing (`WarningListing`): 隐患整改逾期 counted in SQL and read one page at a time,
the same warnings in the same order as the straightforward evaluation (`warnings_for`), for every role."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from hazards.choices import HazardLevel, HazardStatus
from inspections import warning_services, warnings
from inspections.choices import DeliverableKind, DeliverableSchedule, DeliverableSubmitter, WarningKind
from inspections.models import Campaign, Deliverable
from inspections.warning_listing import WarningListing
from portal.models import User
from tests.conftest import Cast, World
from tests.factories import EnterpriseFactory
from tests.inspections.test_warning_engine import _records, hazard

OVERDUE = WarningKind.OVERDUE_HAZARD


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def seeded(world: World, cast: Cast, today: dt.date) -> None:
    """Overdue hazards of many kinds of tie (same deadline, names that prefix each other, both levels), the other
    rules' records (`_records`), a late filing, and one handled warning."""
    campaign = Campaign.objects.create(
        name="列表测试行动", issuing_region=world.county, start_date=today - dt.timedelta(days=70),
        end_date=today + dt.timedelta(days=60),
    )  # fmt: skip
    Deliverable.objects.create(
        campaign=campaign, name="月度工作小结", submitter=DeliverableSubmitter.TOWN, recipients="县局",
        kind=DeliverableKind.UPLOAD, schedule=DeliverableSchedule.MONTHLY, day_of_month=1,
    )  # fmt: skip
    _records(world, today, 8)
    same_day = today - dt.timedelta(days=3)
    for name in ("甲矿", "甲矿二", "乙矿", "Z矿"):
        enterprise = EnterpriseFactory(name=name, town=world.town_a)
        hazard(enterprise, deadline=same_day)
        hazard(enterprise, deadline=same_day, level=HazardLevel.MAJOR, status=HazardStatus.CONFIRMED)
        hazard(enterprise, deadline=same_day)
    first = next(w for w in warnings.warnings_for(user=cast.county_staff, today=today, kinds=[OVERDUE]))
    warning_services.warning_resolve(actor=cast.county_staff, key=first.key, note="已处理")


def _roles(cast: Cast) -> list[User]:
    return [getattr(cast, f.name) for f in dataclasses.fields(cast)]


def _keys(found: Any) -> list[str]:
    return [w.key for w in found]


@pytest.mark.parametrize("only_open", [False, True])
def test_listing_equals_the_evaluation_for_every_role(
    cast: Cast, world: World, seeded: None, today: dt.date, only_open: bool
) -> None:
    for user in _roles(cast):
        for filters in ({}, {"region": world.town_a}, {"enterprise": world.enterprise_a}):
            expected = warnings.warnings_for(user=user, today=today, **filters)
            listing = WarningListing(user=user, today=today, only_open=only_open, counted=True, **filters)
            assert listing.counts == expected.counts, (user, filters)
            assert listing.open_counts == expected.open_counts, (user, filters)
            shown = [w for w in expected if w.is_open or not only_open]
            assert len(listing) == len(shown)
            assert _keys(listing[0 : len(listing)]) == _keys(shown), (user, filters)
            for start, stop in ((0, 5), (5, 12), (len(shown) - 3, len(shown) + 10)):
                assert _keys(listing[start:stop]) == _keys(shown[max(start, 0) : stop]), (user, start, stop)
            if shown:
                assert listing[len(shown) - 1].key == shown[-1].key


def test_listing_of_one_kind_evaluates_that_kind(cast: Cast, seeded: None, today: dt.date) -> None:
    for kind in WarningKind.values:
        expected = warnings.warnings_for(user=cast.county_staff, today=today, kinds=[kind])
        listing = WarningListing(user=cast.county_staff, today=today, kinds=[kind])
        assert _keys(listing[0 : len(listing)]) == _keys(expected), kind


def test_overdue_tie_order_is_the_evaluation_order(cast: Cast, seeded: None, today: dt.date) -> None:
    expected = warnings.warnings_for(user=cast.county_staff, today=today, kinds=[OVERDUE])
    titles = [w.title for w in expected if w.on == today - dt.timedelta(days=2)]
    assert len(titles) >= 12  # the 4 enterprises' hazards of one deadline, ordered by title then rule order
    listing = WarningListing(user=cast.county_staff, today=today, kinds=[OVERDUE])
    assert [w.title for w in listing[0 : len(listing)] if w.on == today - dt.timedelta(days=2)] == titles
    for stop in range(1, len(expected) + 1):  # a page may end inside a group of one deadline
        assert _keys(listing[0:stop]) == _keys(expected[:stop]), stop


def test_page_queries_do_not_grow_with_warnings(
    cast: Cast, world: World, seeded: None, today: dt.date, django_assert_num_queries: Any
) -> None:
    with CaptureQueriesContext(connection) as small:
        first = WarningListing(user=cast.county_staff, today=today, counted=True)[0:20]
    _records(world, today, 25)
    with django_assert_num_queries(len(small.captured_queries)):
        listing = WarningListing(user=cast.county_staff, today=today, counted=True)
        page = listing[0:20]
    assert len(first) == len(page) == 20 and listing.counts[OVERDUE] > 40


def test_api_pages_with_offset_and_limit(cast: Cast, seeded: None, today: dt.date) -> None:
    api = APIClient()
    api.force_authenticate(cast.county_staff)
    everything = api.get("/api/v1/warnings/", {"limit": 1000})
    total = int(everything["X-Total-Count"])
    rows = everything.json()
    assert total == len(rows) > 10
    assert [r["key"] for r in rows] == _keys(warnings.warnings_for(user=cast.county_staff, today=today))
    page = api.get("/api/v1/warnings/", {"offset": 5, "limit": 4}).json()
    assert [r["key"] for r in page] == [r["key"] for r in rows[5:9]]
    assert len(api.get("/api/v1/warnings/", {"limit": "x"}).json()) == min(total, 100)
    outsider = APIClient()
    outsider.force_authenticate(cast.other_county_staff)
    keys = {r["key"] for r in outsider.get("/api/v1/warnings/", {"limit": 1000}).json()}
    assert not keys & {r["key"] for r in rows if r["kind"] == OVERDUE}
