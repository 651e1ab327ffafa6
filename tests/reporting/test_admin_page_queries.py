"""An admin's list pages cost no more queries than county staff's (bench/lists.py: ≤ 10 for every role).

Admins and superusers see the holiday-calendar banner on every page (inspections.workdays.calendar_warning);
the end of the known calendar it needs is read once into the cache shared by every process, not on every
page, and the banner still appears and goes as the calendar is entered."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from inspections import calendar_services
from portal.choices import Role
from reporting import services as report_services
from reporting.choices import ReportKind
from tests.conftest import Cast
from tests.factories import UserFactory
from tests.reporting.conftest import Scenario

QUERY_TARGET = 10
PAGES = (
    "/inspections/enforcement/",
    "/inspections/talks/",
    "/inspections/inspections/",
    "/inspections/exams/",
    "/reports/",
    "/hazards/",
)
BANNER = 'data-testid="calendar-warning"'


def queries(client: Client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries), response.content.decode()


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def with_report(scenario: Scenario) -> Scenario:
    report_services.report_get_or_create(
        kind=ReportKind.ACCOUNTABILITY, region=scenario.world.town_a, campaign=scenario.accountability,
        month=dt.date(2024, 5, 1), due_day=23,
    )  # fmt: skip
    return scenario


@pytest.mark.parametrize("url", PAGES)
def test_an_admins_page_costs_what_county_staffs_costs(
    with_report: Scenario, cast: Cast, django_assert_num_queries: Any, url: str
) -> None:
    staff = logged_in(cast.county_staff)
    staff.get(url)
    expected, _ = queries(staff, url)
    assert expected <= QUERY_TARGET, url
    root = UserFactory(username="root", role=Role.ADMIN, is_staff=True, is_superuser=True)
    # The superuser's unscoped hazard list first asks PostgreSQL's planner for an estimate (hazards.paging).
    estimate = int(url == "/hazards/" and connection.vendor == "postgresql")
    for user, extra in ((cast.admin, 0), (root, estimate)):
        client = logged_in(user)
        client.get(url)  # the first page of a process reads the calendar's end into the shared cache
        with django_assert_num_queries(expected + extra):
            client.get(url)


@time_machine.travel(dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC), tick=False)
def test_the_banner_shows_to_admins_only_and_goes_once_the_year_is_entered(with_report: Scenario, cast: Cast) -> None:
    """December 2026, the calendar known to 2026-12-31: admins are asked for 2027 on every page, from the
    cache after the first; entering 2027 through the calendar services ends the banner at once."""
    admin = logged_in(cast.admin)
    assert BANNER in queries(admin, "/reports/")[1]
    assert BANNER in queries(admin, "/inspections/talks/")[1]  # from the cache
    assert cache.get("inspections:calendar-known-until") == (2026, dt.date(2026, 12, 31))
    for user in (cast.county_staff, cast.town_a_staff, cast.city_viewer):
        assert BANNER not in queries(logged_in(user), "/inspections/talks/")[1]
    calendar_services.holiday_create(actor=cast.admin, date=dt.date(2027, 1, 1), kind="off", name="元旦")
    calendar_services.holiday_year_create(actor=cast.admin, year=2027, notice="国办发明电〔2026〕X号")
    assert BANNER not in queries(admin, "/reports/")[1]


def test_a_cache_that_fails_costs_the_query_not_the_page(
    with_report: Scenario, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache server down")

    admin = logged_in(cast.admin)
    admin.get("/reports/")
    warm, _ = queries(admin, "/reports/")
    monkeypatch.setattr(cache, "get", broken)
    monkeypatch.setattr(cache, "set", broken)
    assert queries(admin, "/reports/")[0] == warm + 1
