"""One truth for "late" (issue 13 §3): the 工作台's late sections (`GET /api/v1/me/tasks/` and the home page),
the 预警 page, `GET /api/v1/warnings/` and the dashboard's 预警 box count the same open overdue hazards and
late filings, for every role, on the same data — a handled warning leaves all four at once."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from hazards.choices import HazardLevel, HazardStatus
from inspections.choices import (
    DeliverableKind,
    DeliverableSchedule,
    DeliverableSubmitter,
    DeliverableTable,
    WarningKind,
)
from inspections.models import Campaign, Deliverable
from inspections.warning_services import warning_resolve
from portal.models import User
from tests.conftest import Cast, World
from tests.hazards.conftest import make_hazard

TODAY = dt.date(2026, 5, 15)
NOW = dt.datetime(2026, 5, 15, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
S = HazardStatus
# The 工作台 section of each warnings kind.
SECTION = {WarningKind.OVERDUE_HAZARD: "hazard_overdue", WarningKind.LATE_DELIVERABLE: "deliverable_late"}


def overdue(enterprise: Any, status: str, days: int, level: str = HazardLevel.MAJOR) -> Any:
    deadline = TODAY + dt.timedelta(days=days)
    return make_hazard(enterprise, level=level, status=status, deadline=deadline, found_on=TODAY - dt.timedelta(30))


@pytest.fixture
def late_world(world: World, cast: Cast) -> dict[str, Any]:
    """Overdue hazards in both towns and in another county; a campaign whose town and enterprise filings and
    April table are late; one overdue hazard and one town's late filing handled by the county."""
    made = {
        "a_confirmed": overdue(world.enterprise_a, S.CONFIRMED, -3),
        "a_rectifying": overdue(world.enterprise_a, S.RECTIFYING, -10, HazardLevel.GENERAL),
        "b_pending": overdue(world.enterprise_b, S.PENDING_TOWN, -1),
        "other": overdue(world.enterprise_other, S.PENDING_TOWN, -2),
        "not_yet": overdue(world.enterprise_a, S.RECTIFYING, 3),
    }
    campaign = Campaign.objects.create(
        name="2026年非煤矿山专项检查", document_number="泽应急发〔2026〕1号", issuing_region=world.county,
        start_date=dt.date(2026, 4, 1), end_date=dt.date(2026, 8, 30),
    )  # fmt: skip
    Deliverable.objects.create(
        campaign=campaign, order=1, name="追责问责情况统计表", submitter=DeliverableSubmitter.TOWN, recipients="县局",
        kind=DeliverableKind.MONTHLY_TABLE, schedule=DeliverableSchedule.MONTHLY, day_of_month=23,
        table=DeliverableTable.ACCOUNTABILITY,
    )  # fmt: skip
    plan = Deliverable.objects.create(
        campaign=campaign, order=2, name="工作方案", submitter=DeliverableSubmitter.TOWN, recipients="县局",
        kind=DeliverableKind.UPLOAD, schedule=DeliverableSchedule.ONCE, due_date=dt.date(2026, 5, 10),
    )  # fmt: skip
    Deliverable.objects.create(
        campaign=campaign, order=3, name="企业承诺书", submitter=DeliverableSubmitter.ENTERPRISE, recipients="镇",
        kind=DeliverableKind.UPLOAD, schedule=DeliverableSchedule.ONCE, due_date=dt.date(2026, 5, 12),
    )  # fmt: skip
    with time_machine.travel(NOW, tick=False):
        hazard = made["a_confirmed"]
        warning_resolve(
            actor=cast.county_staff, key=f"{WarningKind.OVERDUE_HAZARD}:{hazard.pk}:{hazard.current_deadline}",
            note="已督促整改", today=TODAY,
        )  # fmt: skip
        warning_resolve(
            actor=cast.county_staff, key=f"{WarningKind.LATE_DELIVERABLE}:{plan.pk}:t{world.town_b.pk}:2026-05-10",
            note="已电话催报", today=TODAY,
        )  # fmt: skip
    return made


def counts_everywhere(user: User) -> dict[str, dict[str, int]]:
    """Per kind: the 工作台 (API and home page), the 预警 page, the warnings API and, for a region, the dashboard."""
    api = APIClient()
    api.force_authenticate(user)
    page = Client()
    page.force_login(user)
    tasks = {row["kind"]: row["count"] for row in api.get("/api/v1/me/tasks/").json()}
    home = {s.kind: s.count for _, _, sections in page.get("/").context["groups"] for s in sections}
    warnings_page = page.get("/inspections/warnings/")
    assert warnings_page.status_code == 200
    dashboard: dict[str, int] | None = None
    if user.region_id is not None:
        box = page.get("/reports/dashboard/")
        assert box.status_code == 200
        dashboard = {row["kind"]: row["count"] for row in box.context["data"].warnings}
    found: dict[str, dict[str, int]] = {}
    for kind, section in SECTION.items():
        listed = api.get("/api/v1/warnings/", {"kind": kind, "open": "true"})
        assert listed.status_code == 200
        found[kind] = {
            "me/tasks": tasks.get(section, 0),
            "home": home.get(section, 0),
            "warnings page": warnings_page.context["open_counts"][kind],
            "warnings API": len(listed.json()),
        }
        if dashboard is not None:
            found[kind]["dashboard"] = dashboard[kind]
    return found


@time_machine.travel(NOW, tick=False)
def test_every_role_sees_the_same_late_counts_everywhere(cast: Cast, late_world: dict[str, Any]) -> None:
    seen: dict[str, dict[str, int]] = {}
    for name, user in cast.all().items():
        found = counts_everywhere(user)
        for kind, where in found.items():
            assert len(set(where.values())) == 1, (name, kind, where)
            seen.setdefault(name, {})[kind] = next(iter(where.values()))
    overdue_, late = WarningKind.OVERDUE_HAZARD, WarningKind.LATE_DELIVERABLE
    # Overdue, open: 巴公镇's general one (its major one is handled), 高都镇's; another county's on its own.
    assert seen["county_staff"][overdue_] == 2 and seen["city_viewer"][overdue_] == 2
    assert seen["town_a_staff"][overdue_] == 1 and seen["town_b_staff"][overdue_] == 1
    assert seen["clerk"][overdue_] == 1 and seen["other_county_staff"][overdue_] == 1
    # Late filings, open: April's table (both towns), 工作方案 (巴公镇; 高都镇's is handled), 企业承诺书 per mine.
    assert seen["town_b_staff"][late] < seen["county_staff"][late]
    assert seen["clerk"][late] == 1  # its own 企业承诺书
    assert seen["other_county_staff"][late] == 0 and seen["other_clerk"][late] == 0


@time_machine.travel(NOW, tick=False)
def test_handling_a_warning_takes_it_out_of_every_count(cast: Cast, late_world: dict[str, Any]) -> None:
    before = counts_everywhere(cast.county_staff)[WarningKind.OVERDUE_HAZARD]["me/tasks"]
    hazard = late_world["b_pending"]
    warning_resolve(
        actor=cast.county_staff, key=f"{WarningKind.OVERDUE_HAZARD}:{hazard.pk}:{hazard.current_deadline}",
        note="已约谈", today=TODAY,
    )  # fmt: skip
    after = counts_everywhere(cast.county_staff)[WarningKind.OVERDUE_HAZARD]
    assert set(after.values()) == {before - 1}, after
