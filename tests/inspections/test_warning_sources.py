"""The per-row rules as SQL row sources (inspections/warning_sources.py) give exactly the Python rules' warnings:
the same keys in the same order, the same counts and open counts, on tricky data (per-county thresholds, month-end
clamping of the repeat window, same-day ties, names that prefix each other, handled warnings), for every role and
filter; and the 预警 page and API spend a fixed, small number of queries."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from hazards.choices import HazardCategory, HazardLevel, HazardSource, HazardStatus
from hazards.models import Hazard, MajorHazardCriterion
from inspections import warning_services, warnings
from inspections.choices import WarningKind
from inspections.models import WarningSettings
from inspections.warning_listing import WarningListing
from portal.choices import PersonRole
from portal.models import Enterprise, User
from tests.conftest import Cast, World
from tests.factories import EnterpriseFactory, PersonFactory, UserFactory

D = dt.date
LONG = WarningKind.LONG_OPEN_MAJOR_HAZARD
REPEATED = WarningKind.REPEATED_MAJOR_HAZARD
LICENCE = WarningKind.LICENCE_EXPIRY
CERTIFICATE = WarningKind.CERTIFICATE_EXPIRY
SOURCED = (WarningKind.OVERDUE_HAZARD, LONG, REPEATED, LICENCE, CERTIFICATE)
_n = itertools.count(1)


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


def major(enterprise: Enterprise, found_on: dt.date, criterion: MajorHazardCriterion, *,
          status: str = HazardStatus.RECTIFYING) -> Hazard:  # fmt: skip
    number = next(_n)
    return Hazard.objects.create(
        enterprise=enterprise, ledger_number=f"S{number:05d}", identity_key=f"no:S{number:05d}",
        description=f"来源测试隐患{number}", category=HazardCategory.SLOPE, level=HazardLevel.MAJOR,
        criterion=criterion, found_on=found_on, source=HazardSource.TOWN_INSPECTION, status=status,
        current_deadline=found_on + dt.timedelta(days=30),
    )  # fmt: skip


@dataclasses.dataclass
class Tricky:
    flagged: set[int]  # the hazards the repeat rule must flag
    not_flagged: set[int]
    superuser: User


@pytest.fixture
def tricky(world: World, cast: Cast, today: dt.date) -> Tricky:
    # The county (towns a and b) keeps major hazards 100 days and compares 1 month back; the other county
    # has the defaults (60 days, 12 months).
    WarningSettings.objects.create(county=world.county, long_open_major_hazard_days=100, repeat_window_months=1)
    c1, c2 = MajorHazardCriterion.objects.order_by("pk")[:2]
    closed = HazardStatus.CLOSED
    flagged, not_flagged = set(), set()
    # 12 months at the other county: 2024-02-29 less 12 months is 2023-02-28 (clamped); 2024-03-31's is 2023-03-31.
    major(world.enterprise_other, D(2023, 2, 28), c1, status=closed)
    flagged.add(major(world.enterprise_other, D(2024, 2, 29), c1, status=closed).pk)
    flagged.add(major(world.enterprise_other, D(2024, 3, 31), c1, status=closed).pk)
    major(world.enterprise_other, D(2023, 2, 27), c2, status=closed)
    not_flagged.add(major(world.enterprise_other, D(2024, 2, 28), c2, status=closed).pk)  # window from 2023-02-28
    # 1 month in the county: 2024-03-31 less a month is 2024-02-29; 2023-03-31's is 2023-02-28 (not leap).
    major(world.enterprise_a, D(2024, 2, 29), c1)
    flagged.add(major(world.enterprise_a, D(2024, 3, 31), c1).pk)
    major(world.enterprise_a, D(2024, 2, 28), c2, status=closed)
    not_flagged.add(major(world.enterprise_a, D(2024, 3, 30), c2, status=closed).pk)  # from 2024-02-29: 28th out
    major(world.enterprise_a2, D(2023, 1, 31), c1, status=closed)
    flagged.add(major(world.enterprise_a2, D(2023, 2, 28), c1, status=closed).pk)  # from 2023-01-28
    flagged.add(major(world.enterprise_a2, D(2023, 3, 31), c1, status=closed).pk)  # from 2023-02-28, its last day
    major(world.enterprise_b, D(2023, 1, 30), c1, status=closed)
    first = major(world.enterprise_b, D(2023, 3, 1), c1, status=closed)  # from 2023-02-01: 01-30 out
    not_flagged.add(first.pk)
    flagged.add(major(world.enterprise_b, D(2023, 3, 1), c1, status=closed).pk)  # same day, later id
    # 重大事故隐患长期存在 around the thresholds, with same-day ties over names that prefix each other.
    for enterprise, days in ((world.enterprise_a, 101), (world.enterprise_a, 100), (world.enterprise_b, 80),
                             (world.enterprise_other, 61), (world.enterprise_other, 60)):  # fmt: skip
        major(enterprise, today - dt.timedelta(days=days), c2)
    for name in ("甲矿", "甲矿二", "乙矿"):
        enterprise = EnterpriseFactory(name=name, town=world.town_a)
        major(enterprise, today - dt.timedelta(days=150), c1)
        major(enterprise, today - dt.timedelta(days=150), c1)  # also repeated: same day
        # 许可证: expired 10 days ago and one expiring in 80 days have the same `on`.
        enterprise.license_expiry = today - dt.timedelta(days=10)
        enterprise.save(update_fields=["license_expiry"])
        other = EnterpriseFactory(name=name + "矿", town=world.town_b, license_expiry=today + dt.timedelta(days=80))
        for certificate in ("", "安全资格证", "安全资格证书"):
            PersonFactory(enterprise=other, name="李四", role=PersonRole.SAFETY, certificate_type=certificate,
                          certificate_expiry=today - dt.timedelta(days=5))  # fmt: skip
            PersonFactory(enterprise=enterprise, name="李四", role=PersonRole.SAFETY, certificate_type=certificate,
                          certificate_expiry=today + dt.timedelta(days=85))  # fmt: skip
    # Handled: one warning of each sourced kind.
    for kind in (LONG, REPEATED, LICENCE, CERTIFICATE):
        key = next(iter(warnings.warnings_for(user=cast.county_staff, today=today, kinds=[kind]))).key
        warning_services.warning_resolve(actor=cast.county_staff, key=key, note="已处理")
    superuser = UserFactory(username="root-sources", is_superuser=True, is_staff=True)
    return Tricky(flagged=flagged, not_flagged=not_flagged, superuser=superuser)


def _roles(cast: Cast, tricky: Tricky) -> list[User]:
    return [*cast.all().values(), tricky.superuser]


def _keys(found: Any) -> list[str]:
    return [w.key for w in found]


def test_repeat_window_clamps_to_month_end(cast: Cast, tricky: Tricky, today: dt.date) -> None:
    found = {int(w.key.split(":")[1]) for w in warnings.warnings_for(user=tricky.superuser, today=today,
                                                                     kinds=[REPEATED])}  # fmt: skip
    assert tricky.flagged <= found and not tricky.not_flagged & found
    listing = WarningListing(user=tricky.superuser, today=today, kinds=[REPEATED])
    assert {int(w.key.split(":")[1]) for w in listing[0 : len(listing)]} == found


@pytest.mark.parametrize("only_open", [False, True])
def test_sources_equal_the_rules_for_every_role_and_filter(
    cast: Cast, world: World, tricky: Tricky, today: dt.date, only_open: bool
) -> None:
    filters_list: list[dict[str, Any]] = [
        {}, {"region": world.county}, {"region": world.town_a}, {"enterprise": world.enterprise_a},
        {"enterprise": world.enterprise_other},
    ]  # fmt: skip
    for user in _roles(cast, tricky):
        for filters in filters_list:
            expected = warnings.warnings_for(user=user, today=today, kinds=SOURCED, **filters)
            listing = WarningListing(user=user, today=today, kinds=SOURCED, only_open=only_open, **filters)
            shown = [w for w in expected if w.is_open or not only_open]
            assert _keys(listing[0 : len(listing)]) == _keys(shown), (user, filters)
            assert [w.title for w in listing[0 : len(listing)]] == [w.title for w in shown]
            assert [w.resolution for w in listing[0 : len(listing)]] == [w.resolution for w in shown]
            counts = warnings.warning_counts(user=user, today=today, kinds=SOURCED, **filters)
            assert counts.total == expected.counts and counts.open == expected.open_counts, (user, filters)


def test_every_page_boundary_of_each_kind(cast: Cast, tricky: Tricky, today: dt.date) -> None:
    for kind in SOURCED:
        expected = warnings.warnings_for(user=tricky.superuser, today=today, kinds=[kind])
        assert len(expected) >= 3, kind
        listing = WarningListing(user=tricky.superuser, today=today, kinds=[kind])
        for stop in range(1, len(expected) + 1):  # a page may end inside a group of one `on`
            assert _keys(listing[0:stop]) == _keys(expected[:stop]), (kind, stop)


def test_scope_clerk_sees_own_enterprise_only(cast: Cast, world: World, tricky: Tricky, today: dt.date) -> None:
    listing = WarningListing(user=cast.clerk, today=today, counted=True)
    shown = listing[0 : len(listing)]
    assert shown and {w.enterprise for w in shown} == {world.enterprise_a}
    other = WarningListing(user=cast.other_county_staff, today=today, kinds=SOURCED)
    assert {w.enterprise.town.parent for w in other[0 : len(other)] if w.enterprise} == {world.other_county}


def test_page_and_api_queries_are_few_and_fixed(cast: Cast, world: World, tricky: Tricky, today: dt.date) -> None:
    page, api = Client(), APIClient()
    page.force_login(tricky.superuser)
    api.force_authenticate(tricky.superuser)
    with CaptureQueriesContext(connection) as before_page:
        assert page.get("/inspections/warnings/").status_code == 200
    with CaptureQueriesContext(connection) as before_api:
        assert api.get("/api/v1/warnings/").status_code == 200
    c1 = MajorHazardCriterion.objects.order_by("pk").first()
    assert c1 is not None
    for i in range(6):  # more of every sourced kind
        enterprise = EnterpriseFactory(town=world.town_a, license_expiry=today + dt.timedelta(days=i))
        major(enterprise, today - dt.timedelta(days=200 + i), c1)
        major(enterprise, today - dt.timedelta(days=199 + i), c1)
        PersonFactory(enterprise=enterprise, certificate_expiry=today - dt.timedelta(days=i))
    # At most as many: a page without a repeated warning spends no query on the repeat evidence.
    with CaptureQueriesContext(connection) as after_page:
        assert page.get("/inspections/warnings/").status_code == 200
    with CaptureQueriesContext(connection) as after_api:
        assert api.get("/api/v1/warnings/").status_code == 200
    assert len(after_page.captured_queries) <= len(before_page.captured_queries)
    assert len(after_api.captured_queries) <= len(before_api.captured_queries)


def test_without_county_settings_the_defaults_apply(cast: Cast, world: World, tricky: Tricky, today: dt.date) -> None:
    WarningSettings.objects.all().delete()  # 60 days, 12 months everywhere
    for user in _roles(cast, tricky):
        for filters in ({}, {"region": world.town_a}):
            expected = warnings.warnings_for(user=user, today=today, kinds=SOURCED, **filters)
            listing = WarningListing(user=user, today=today, kinds=SOURCED, counted=True, **filters)
            assert _keys(listing[0 : len(listing)]) == _keys(expected), (user, filters)
            assert listing.counts == expected.counts and listing.open_counts == expected.open_counts
    repeated = {w.key for w in warnings.warnings_for(user=tricky.superuser, today=today, kinds=[REPEATED])}
    assert f"{REPEATED}:{max(tricky.not_flagged)}" in repeated  # 2023-03-01 after 2023-01-30: within 12 months now
