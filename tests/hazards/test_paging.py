"""Paging of the hazard lists by seek (hazards.paging.seek): the page's ids found first, the back half read
from the other end. Every sort gives every row exactly once across the pages, in the sort's order (ties
broken by id), the deep pages included, and a page costs as many queries as the first."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from hazards.choices import HazardLevel, HazardStatus
from hazards.models import Hazard
from hazards.paging import seek, with_tiebreak
from portal.models import User
from tests.conftest import Cast, World
from tests.hazards.conftest import make_hazard

S = HazardStatus
SORTS = ["", "found_on", "-found_on", "deadline", "-deadline", "status", "-level", "enterprise", "-ledger_number"]


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def hazards(world: World, catalogue: None) -> list[Hazard]:
    """Thirteen hazards sharing few found dates, deadlines and statuses (ties everywhere), two enterprises."""
    made = []
    for n in range(13):
        made.append(
            make_hazard(
                world.enterprise_a if n % 3 else world.enterprise_b,
                level=HazardLevel.MAJOR if n % 4 == 0 else HazardLevel.GENERAL,
                status=S.REPORTED if n % 4 else S.CONFIRMED,
                found_on=datetime.date(2024, 5, 1 + n % 2),
                deadline=datetime.date(2024, 6, 1 + n % 3),
                ledger_number=f"P-{n:02d}",
            )
        )
    return made


def _walk_api(client: APIClient, sort: str, size: int) -> list[int]:
    """Every page by number, as far as the count says (the last pages are read from the other end)."""
    start: dict[str, Any] = {"page_size": size, "ordering": sort} if sort else {"page_size": size}
    first = client.get("/api/v1/hazards/", start)
    assert first.status_code == 200, first.content[:300]
    count = first.json()["count"]
    seen = [row["id"] for row in first.json()["results"]]
    for number in range(2, -(-count // size) + 1):
        params: dict[str, Any] = {"page_size": size, "page": number}
        if sort:
            params["ordering"] = sort
        body = client.get("/api/v1/hazards/", params).json()
        seen += [row["id"] for row in body["results"]]
    return seen


@pytest.mark.parametrize("sort", SORTS)
def test_every_sort_pages_every_row_once_in_order(cast: Cast, hazards: list[Hazard], sort: str) -> None:
    from hazards.selectors import hazard_filterset

    params = {"ordering": sort} if sort else {}
    expected = list(
        with_tiebreak(hazard_filterset(user=cast.county_staff, params=params).qs).values_list("pk", flat=True)
    )
    assert sorted(expected) == sorted(h.pk for h in hazards)  # both enterprises lie in the county
    for size in (2, 3, 5):
        assert _walk_api(api(cast.county_staff), sort, size) == expected, (sort, size)


def test_seek_matches_plain_slicing_front_and_back(cast: Cast, hazards: list[Hazard]) -> None:
    queryset = with_tiebreak(Hazard.objects.visible_to(cast.county_staff).order_by("current_deadline"))
    plain = list(queryset)
    total = len(plain)
    for bottom in range(total):
        for top in (bottom + 1, bottom + 4, total):
            # Without the total the ids are read from the front; with it, the back half from the end.
            assert seek(queryset, bottom, top) == plain[bottom:top]
            assert seek(queryset, bottom, top, total=total) == plain[bottom:top]
    assert seek(queryset, 5, 5, total=total) == []


def test_a_deep_page_costs_the_queries_of_the_first(
    cast: Cast, hazards: list[Hazard], django_assert_num_queries: Any
) -> None:
    client = api(cast.county_staff)
    client.get("/api/v1/hazards/", {"page_size": 2})  # session and caches warm
    counts = []
    for page in (1, 4, 7):
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/api/v1/hazards/", {"page_size": "2", "page": str(page)})
        assert response.status_code == 200 and len(response.json()["results"]) in (1, 2)
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1] == counts[2] <= 10
    with django_assert_num_queries(counts[0]):
        client.get("/api/v1/hazards/", {"page_size": "2", "page": "6", "ordering": "enterprise"})


_ROW = re.compile(r'href="/hazards/(\d+)/" class="text-reset"')


def test_the_page_lists_the_last_page_like_the_api(cast: Cast, hazards: list[Hazard]) -> None:
    client = api(cast.county_staff)
    expected = _walk_api(client, "", 20)
    shown = [int(pk) for pk in _ROW.findall(client.get("/hazards/", {"page_size": 20}).content.decode())]
    assert shown == expected[:20]
    for _ in range(10):  # 23 rows: page 2 (3 rows) lies in the back half, read from the other end
        make_hazard(hazards[1].enterprise, level=HazardLevel.GENERAL, status=S.REPORTED)
    everything = _walk_api(client, "", 20)
    first = [int(pk) for pk in _ROW.findall(client.get("/hazards/", {"page_size": 20}).content.decode())]
    last = [int(pk) for pk in _ROW.findall(client.get("/hazards/", {"page_size": 20, "page": 2}).content.decode())]
    assert first + last == everything and len(set(everything)) == len(everything)
