"""Reads: the scoped, filtered hazard list; hazard_get; the work queue; constant query counts."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from hazards.choices import HazardCategory, HazardLevel, HazardStatus, SupervisionLevel
from hazards.models import Hazard
from hazards.selectors import criterion_list, hazard_filterset, hazard_get, hazard_list, work_queue
from tests.conftest import Cast, World
from tests.hazards.conftest import add_extension, make_hazard

S = HazardStatus

EXPECTED_ENTERPRISES = {
    "clerk": {"enterprise_a"},
    "principal": {"enterprise_a"},
    "town_a_staff": {"enterprise_a", "enterprise_a2"},
    "town_b_staff": {"enterprise_b"},
    "county_staff": {"enterprise_a", "enterprise_a2", "enterprise_b"},
    "county_leader": {"enterprise_a", "enterprise_a2", "enterprise_b"},
    "admin": {"enterprise_a", "enterprise_a2", "enterprise_b"},
    "city_viewer": {"enterprise_a", "enterprise_a2", "enterprise_b"},
    "other_county_staff": {"enterprise_other"},
    "other_clerk": {"enterprise_other"},
}


@pytest.fixture
def one_each(world: World, catalogue: None) -> dict[str, Hazard]:
    return {
        name: make_hazard(getattr(world, name), level=HazardLevel.GENERAL, status=S.REPORTED)
        for name in ("enterprise_a", "enterprise_a2", "enterprise_b", "enterprise_other")
    }


@pytest.mark.parametrize("member", sorted(EXPECTED_ENTERPRISES))
def test_hazards_are_scoped_like_enterprises(cast: Cast, one_each: dict[str, Hazard], member: str) -> None:
    user = getattr(cast, member)
    visible = {h.pk for h in hazard_list(user=user)}
    assert visible == {one_each[name].pk for name in EXPECTED_ENTERPRISES[member]}
    for name, hazard in one_each.items():
        if name in EXPECTED_ENTERPRISES[member]:
            assert hazard_get(user=user, pk=hazard.pk) == hazard
        else:
            with pytest.raises(Http404):
                hazard_get(user=user, pk=hazard.pk)


def test_hazard_get_of_garbage_is_404(cast: Cast) -> None:
    with pytest.raises(Http404):
        hazard_get(user=cast.county_staff, pk="abc")  # type: ignore[arg-type]


@pytest.fixture
def varied(world: World, catalogue: None) -> dict[str, Hazard]:
    return {
        "major_a": make_hazard(
            world.enterprise_a, status=S.RECTIFYING, deadline=datetime.date(2024, 6, 1),
            supervision_level=SupervisionLevel.COUNTY, ledger_number="A-1",
        ),
        "general_a2": make_hazard(
            world.enterprise_a2, level=HazardLevel.GENERAL, status=S.REPORTED, category=HazardCategory.POWER,
            deadline=datetime.date(2099, 1, 1), description="配电柜接地不良",
        ),
        "major_b": make_hazard(world.enterprise_b, status=S.CLOSED, category=HazardCategory.VENTILATION),
        "other": make_hazard(world.enterprise_other, status=S.RECTIFYING),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"major_a", "general_a2", "major_b"}),
        ({"level": "major"}, {"major_a", "major_b"}),
        ({"status": ["rectifying", "closed"]}, {"major_a", "major_b"}),
        ({"town": "TOWN_B"}, {"major_b"}),
        ({"enterprise": "ENTERPRISE_A2"}, {"general_a2"}),
        ({"category": "ventilation"}, {"major_b"}),
        ({"overdue": "true"}, {"major_a"}),
        ({"supervised": "true"}, {"major_a"}),
        ({"supervised": "false"}, {"general_a2", "major_b"}),
        ({"open": "true"}, {"major_a", "general_a2"}),
        ({"q": "接地"}, {"general_a2"}),
        ({"q": "A-1"}, {"major_a"}),
        ({"q": "a-1"}, {"major_a"}),  # letters: case-insensitive
        ({"q": "ENTERPRISE_A2_NAME"}, {"general_a2"}),  # by the enterprise's name
        # An enterprise of another county is not offered as a choice: the filter is invalid, nothing leaks.
        ({"enterprise": "ENTERPRISE_OTHER"}, set()),
    ],
)
def test_filters(
    world: World, cast: Cast, varied: dict[str, Hazard], params: dict[str, Any], expected: set[str]
) -> None:
    replacements = {
        "TOWN_B": str(world.town_b.pk),
        "ENTERPRISE_A2": str(world.enterprise_a2.pk),
        "ENTERPRISE_OTHER": str(world.enterprise_other.pk),
        "ENTERPRISE_A2_NAME": world.enterprise_a2.name,
    }
    params = {k: replacements.get(v, v) if isinstance(v, str) else v for k, v in params.items()}
    result = {h.pk for h in hazard_list(user=cast.county_staff, params=params)}
    assert result == {varied[name].pk for name in expected}


def test_filterset_offers_only_visible_towns_and_enterprises(world: World, cast: Cast, catalogue: None) -> None:
    filterset = hazard_filterset(user=cast.town_a_staff, params={})
    assert set(filterset.filters["town"].queryset) == {world.town_a}
    assert set(filterset.filters["enterprise"].queryset) == {world.enterprise_a, world.enterprise_a2}


def _count_list_queries(user: Any) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as context:
        rows = [
            (h.enterprise.name, h.enterprise.town.name, h.criterion.code if h.criterion else "", h.is_overdue)
            for h in hazard_list(user=user, params={"level": "", "overdue": "", "ordering": "-deadline"})
        ]
    return len(context.captured_queries), len(rows)


def test_hazard_list_query_count_does_not_grow_with_rows(world: World, cast: Cast, catalogue: None) -> None:
    for _ in range(2):
        make_hazard(world.enterprise_a)
    small_queries, small_rows = _count_list_queries(cast.county_staff)
    for enterprise in (world.enterprise_a, world.enterprise_a2, world.enterprise_b):
        for _ in range(5):
            make_hazard(enterprise, level=HazardLevel.GENERAL, status=S.REPORTED)
            make_hazard(enterprise)
    large_queries, large_rows = _count_list_queries(cast.county_staff)
    assert (small_rows, large_rows) == (2, 32)
    assert small_queries == large_queries
    assert large_queries == 1  # the town and enterprise choice lists are lazy; the rows are one query


WORK = {
    # status → the members whose queue it is in
    ("major", S.DRAFT): {"principal"},
    ("major", S.PENDING_TOWN): {"town_a_staff"},
    ("major", S.PENDING_COUNTY): {"county_staff"},
    ("major", S.CONFIRMED): {"clerk", "principal"},
    ("major", S.RECTIFYING): {"clerk", "principal"},
    ("major", S.CLOSURE_REQUESTED): {"county_staff"},
    ("major", S.CLOSED): set(),
    ("general", S.REPORTED): {"clerk", "principal"},
    ("general", S.RECTIFYING): {"clerk", "principal"},
    ("general", S.RECTIFIED): {"town_a_staff"},
    ("general", S.VERIFIED): set(),
}


def test_work_queue_holds_what_waits_for_each_member(world: World, cast: Cast, catalogue: None) -> None:
    hazards = {key: make_hazard(world.enterprise_a, level=key[0], status=key[1]) for key in WORK}
    for member, user in cast.all().items():
        queue = {h.pk for h in work_queue(user=user)}
        expected = {hazards[key].pk for key, members in WORK.items() if member in members}
        assert queue == expected, member


def test_work_queue_includes_extensions_to_decide_and_skips_own_rectifications(
    world: World, cast: Cast, catalogue: None
) -> None:
    major = make_hazard(world.enterprise_a, status=S.RECTIFYING)
    general = make_hazard(world.enterprise_a, level=HazardLevel.GENERAL, status=S.RECTIFYING)
    add_extension(major, cast.clerk)
    add_extension(general, cast.clerk)
    assert {h.pk for h in work_queue(user=cast.county_staff)} == {major.pk, general.pk}
    assert {h.pk for h in work_queue(user=cast.town_a_staff)} == {general.pk}
    assert {h.pk for h in work_queue(user=cast.town_b_staff)} == set()
    assert {h.pk for h in work_queue(user=cast.other_county_staff)} == set()

    own = make_hazard(world.enterprise_a, level=HazardLevel.GENERAL, status=S.RECTIFIED)
    Hazard.objects.filter(pk=own.pk).update(rectified_by=cast.town_a_staff)
    assert own.pk not in {h.pk for h in work_queue(user=cast.town_a_staff)}


def test_catalogue_is_in_the_standards_order(catalogue: None) -> None:
    codes = [c.code for c in criterion_list()]
    assert len(codes) == 64
    assert codes[0] == "一（一）" and codes[31] == "一（三十二）"
    assert codes[32] == "二（一）" and codes[45] == "三（一）" and codes[-1] == "三（十九）"
