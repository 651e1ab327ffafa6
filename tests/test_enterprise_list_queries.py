"""The enterprise list and detail pages run a fixed number of queries, however many rows there are."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from portal.choices import Industry, PersonRole, ProductionStatus, Role
from portal.models import Enterprise, User
from tests.conftest import Cast, World
from tests.factories import EnterpriseFactory, ParentCompanyFactory, PersonFactory, UserFactory

QUERY_TARGET = 10
ROW_LINK = re.compile(r'href="/enterprises/(\d+)/"')
VIEWERS = ["county_staff", "town_a_staff", "city_viewer", "admin", "superuser"]


def add_enterprises(world: World, count: int) -> None:
    """`count` more enterprises in 巴公镇 and 高都镇, half of them with a parent company and people."""
    company = ParentCompanyFactory(region=world.county)
    industries = list(Industry.values)
    for i in range(count):
        enterprise = EnterpriseFactory(
            town=world.town_a if i % 2 else world.town_b,
            parent_company=company if i % 2 else None,
            industry=industries[i % len(industries)],
            production_status=ProductionStatus.SUSPENDED if i % 3 == 0 else ProductionStatus.PRODUCING,
            risk_grade="ABCD"[i % 4],
        )
        PersonFactory(enterprise=enterprise, role=PersonRole.PRINCIPAL)


def viewer(cast: Cast, name: str) -> User:
    if name == "superuser":
        return UserFactory(username="root", role=Role.ADMIN, is_staff=True, is_superuser=True)
    user: User = getattr(cast, name)
    return user


def warm(client: Client) -> None:
    """One page first: an admin's pages read the end of the holiday calendar from the shared cache after the
    first (inspections.workdays.known_until), so the counts compared are those of a warm page."""
    assert client.get("/").status_code == 200


def query_count(client: Client, url: str) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries), response


def rows_shown(response: Any) -> list[int]:
    return [int(pk) for pk in ROW_LINK.findall(response.content.decode())]


@pytest.mark.parametrize("name", VIEWERS)
def test_list_page_queries_do_not_grow_with_the_rows(
    cast: Cast, world: World, client: Client, django_assert_num_queries: Any, name: str
) -> None:
    user = viewer(cast, name)
    client.force_login(user)
    urls = ["/enterprises/?page_size=100", "/enterprises/?page_size=20&ordering=-risk_grade&industry=open_pit"]

    add_enterprises(world, 5)
    warm(client)
    small = {url: query_count(client, url)[0] for url in urls}
    add_enterprises(world, 45)

    for url in urls:
        with django_assert_num_queries(small[url]):
            response = client.get(url)
        assert small[url] <= QUERY_TARGET, url
        visible = Enterprise.objects.visible_to(user)
        if "industry" in url:
            visible = visible.filter(industry="open_pit")
        page_size = int(url.split("page_size=")[1].split("&")[0])
        # The page really lists the rows (so the count above covers rendering them).
        assert len(rows_shown(response)) == min(page_size, visible.count()) > 0
        assert set(rows_shown(response)) <= set(visible.values_list("pk", flat=True))


def test_list_page_queries_are_the_same_at_every_page_size(cast: Cast, world: World, client: Client) -> None:
    add_enterprises(world, 120)
    client.force_login(cast.county_staff)
    counts = {size: query_count(client, f"/enterprises/?page_size={size}")[0] for size in (20, 50, 100)}
    assert len(set(counts.values())) == 1, counts
    # Filtering by town validates the town (one more query), still whatever the page size.
    town = world.town_a.pk
    filtered = {size: query_count(client, f"/enterprises/?page_size={size}&town={town}")[0] for size in (20, 50, 100)}
    assert len(set(filtered.values())) == 1, filtered
    assert filtered[20] <= QUERY_TARGET
    # A later page costs the same as the first.
    assert query_count(client, "/enterprises/?page_size=20&page=3")[0] == counts[20]


def test_htmx_table_fragment_queries_are_constant(cast: Cast, world: World, client: Client) -> None:
    client.force_login(cast.county_staff)
    add_enterprises(world, 5)
    few, _ = query_count(client, "/enterprises/?page_size=50")
    add_enterprises(world, 45)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/enterprises/?page_size=50", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<form" not in response.content.decode()  # the fragment, not the page
    assert len(captured.captured_queries) <= few
    assert len(rows_shown(response)) == 50


@pytest.mark.parametrize("name", ["county_staff", "town_a_staff", "clerk", "principal", "superuser"])
def test_detail_page_queries_do_not_grow_with_the_people(
    cast: Cast, world: World, client: Client, django_assert_num_queries: Any, name: str
) -> None:
    user = viewer(cast, name)
    client.force_login(user)
    enterprise = world.enterprise_a
    enterprise.parent_company = ParentCompanyFactory(region=world.county)
    enterprise.save()
    url = f"/enterprises/{enterprise.pk}/"

    PersonFactory.create_batch(4, enterprise=enterprise, role=PersonRole.SPECIAL_OPERATOR, certificate_number="T1")
    warm(client)
    few, response = query_count(client, url)
    assert few <= QUERY_TARGET
    PersonFactory.create_batch(45, enterprise=enterprise, role=PersonRole.SPECIAL_OPERATOR, certificate_number="T1")

    with django_assert_num_queries(few):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('class="list-group-item"') == enterprise.people.count() == 50


def test_town_filter_offers_only_visible_towns_labelled_by_county(cast: Cast, world: World, client: Client) -> None:
    def options(user: User, query: str = "") -> list[tuple[str, str, bool]]:
        client.force_login(user)
        html = client.get(f"/enterprises/{query}").content.decode()
        select = html.split('id="id_town">', 1)[1].split("</select>", 1)[0]
        return [
            (value, label, bool(selected))
            for value, selected, label in re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select)
        ]

    # Town staff: their own town only; county staff: the county's towns, no other county's.
    assert options(cast.town_a_staff) == [("", "全部", False), (str(world.town_a.pk), "巴公镇", False)]
    county_labels = [label for _, label, _ in options(cast.county_staff)]
    assert county_labels == ["全部", "高都镇", "巴公镇"]  # by code: 140525107, 140525108
    # Several counties in view: each town says which county it is in.
    root = viewer(cast, "superuser")
    labels = [label for _, label, _ in options(root)]
    assert labels == ["全部", "上党区韩店镇", "泽州县高都镇", "泽州县巴公镇"]
    # The chosen town stays selected, and the filter applies.
    chosen = options(cast.county_staff, f"?town={world.town_b.pk}")
    assert [(label, selected) for _, label, selected in chosen if selected] == [("高都镇", True)]
    response = client.get(f"/enterprises/?town={world.town_b.pk}")
    assert set(rows_shown(response)) == {world.enterprise_b.pk}
