"""The working-day calendar as data: seeded from chinesecalendar, entered by admins for new years.

2027 is not entered (the package knows holidays up to 2026): 2027-01-01 元旦 would otherwise count as a
working day. Quota checks for 2027 say 节假日安排未录入 on the page, in the API and in the warnings;
once an admin enters the year (services, also through the admin site), the real days count.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from rest_framework.test import APIClient

from inspections import calendar_services, quotas, workdays
from inspections.choices import QuotaKind
from inspections.models import Campaign, Holiday, HolidayYear, PrincipalDutyLog, Quota
from portal.models import AuditEvent, Person
from tests.conftest import Cast, World
from tests.otp_helpers import force_login_verified

D = dt.date
TODAY = dt.datetime(2026, 12, 2, 10, tzinfo=dt.UTC)


@pytest.fixture
def campaign_2027(world: World) -> Campaign:
    campaign = Campaign.objects.create(
        name="2027年履职检查", issuing_region=world.county, start_date=D(2027, 1, 1), end_date=D(2027, 12, 31)
    )
    Quota.objects.create(
        campaign=campaign, kind=QuotaKind.PRINCIPAL_DAYS_ON_SITE, subject="enterprise_principal", number=10,
        unit="个工作日", period="month",
    )  # fmt: skip
    Quota.objects.create(
        campaign=campaign, kind=QuotaKind.SAFETY_MEETINGS, subject="enterprise_principal", number=1,
        unit="次", period="month",
    )  # fmt: skip
    return campaign


@pytest.fixture
def log_2027(cast: Cast, world: World) -> PrincipalDutyLog:
    person = Person.objects.get(enterprise=world.enterprise_a, role="principal")
    dates = [D(2027, 1, d) for d in (1, 4, 5, 6, 7, 8, 11, 12, 13, 14)]  # 01-01 is 元旦
    return PrincipalDutyLog.objects.create(
        enterprise=world.enterprise_a, person=person, month=D(2027, 1, 1),
        on_site_dates=[d.isoformat() for d in dates], safety_meetings=1,
    )  # fmt: skip


def enter_2027(actor: Any) -> None:
    calendar_services.holiday_create(actor=actor, date=D(2027, 1, 1), kind="off", name="元旦")
    calendar_services.holiday_year_create(actor=actor, year=2027, notice="国办发明电〔2026〕X号")


def test_the_seeded_calendar_is_data_up_to_2026(db: None) -> None:
    assert HolidayYear.objects.filter(year__gte=2004).count() == 23
    assert workdays.calendar_known(2026) and not workdays.calendar_known(2027)
    assert Holiday.objects.get(date=D(2026, 10, 1)).name == "国庆节"
    assert Holiday.objects.filter(date__year=2026, kind="work").exists()  # 调休 days
    assert not workdays.is_workday(D(2026, 1, 1))
    # The data is what is read: change it, and the working days change.
    Holiday.objects.filter(date=D(2026, 1, 1)).delete()
    workdays.forget()
    assert workdays.is_workday(D(2026, 1, 1))


def test_a_year_not_entered_says_so_instead_of_guessing(
    cast: Cast, world: World, campaign_2027: Campaign, log_2027: PrincipalDutyLog
) -> None:
    checks = {c.quota.kind: c for c in quotas.duty_log_checks(log_2027, [campaign_2027])}
    days = checks[QuotaKind.PRINCIPAL_DAYS_ON_SITE]
    assert days.calendar_missing == (2027,) and not days.met
    assert days.detail.startswith("节假日安排未录入（2027年）") and "已登记 10 天" in days.detail
    # A count that needs no calendar (a whole month, not prorated) is still checked.
    assert checks[QuotaKind.SAFETY_MEETINGS].met and not checks[QuotaKind.SAFETY_MEETINGS].calendar_missing

    # The page and the API say it too.
    client = Client()
    client.force_login(cast.county_staff)
    page = client.get("/inspections/duty-logs/").content.decode()
    assert "节假日安排未录入" in page
    api = APIClient()
    api.force_authenticate(cast.county_staff)
    body = api.get(f"/api/v1/duty-logs/{log_2027.pk}/").json()
    (api_days,) = [c for c in body["checks"] if c["kind"] == QuotaKind.PRINCIPAL_DAYS_ON_SITE]
    assert api_days["calendar_missing"] == [2027] and api_days["met"] is False

    # Entered by an admin: 元旦 does not count, the nine other days do.
    enter_2027(cast.admin)
    days = _days(log_2027, campaign_2027)
    assert days.calendar_missing == () and days.actual == 9 and days.not_counted == [D(2027, 1, 1)]


def _days(log: PrincipalDutyLog, campaign: Campaign) -> quotas.QuotaCheck:
    (check,) = [c for c in quotas.duty_log_checks(log, [campaign]) if c.quota.kind == QuotaKind.PRINCIPAL_DAYS_ON_SITE]
    return check


def test_a_prorated_month_of_a_year_not_entered_is_not_guessed(world: World, campaign_2027: Campaign) -> None:
    campaign_2027.start_date = D(2027, 1, 15)
    campaign_2027.save()
    quota = campaign_2027.quotas.get(kind=QuotaKind.PRINCIPAL_DAYS_ON_SITE)
    need = quotas.requirement(quota, D(2027, 1, 1))
    assert need is not None and need.calendar_missing == (2027,) and not need.prorated


@pytest.mark.parametrize("who", ["clerk", "town_a_staff", "county_staff", "county_leader", "city_viewer"])
def test_only_admins_change_the_calendar(cast: Cast, who: str) -> None:
    actor = getattr(cast, who)
    with pytest.raises(PermissionDenied, match="只有管理员可以修改节假日安排"):
        calendar_services.holiday_create(actor=actor, date=D(2027, 1, 1), kind="off", name="元旦")
    calendar_services.holiday_create(actor=cast.admin, date=D(2027, 1, 1), kind="off", name="元旦")
    holiday = Holiday.objects.get(date=D(2027, 1, 1))
    with pytest.raises(PermissionDenied):
        calendar_services.holiday_year_create(actor=actor, year=2027)
    with pytest.raises(PermissionDenied):
        calendar_services.holiday_delete(actor=actor, holiday=holiday)
    assert not HolidayYear.objects.filter(year=2027).exists() and Holiday.objects.filter(pk=holiday.pk).exists()


def test_calendar_rules_refuse_bad_input_and_change_nothing(cast: Cast) -> None:
    before = (Holiday.objects.count(), HolidayYear.objects.count(), AuditEvent.objects.count())
    cases = [
        (dict(date=D(2027, 1, 4), kind="work", name="元旦"), "是工作日（周一至周五），不需要登记调休上班"),
        (dict(date=D(2026, 10, 1), kind="off", name="国庆节"), "已登记"),
        (dict(date=D(1, 1, 1), kind="off", name="元旦"), "不在 1950-01-01 至 2099-12-31 之间"),
        (dict(date=D(2027, 1, 1), kind="off", name="  "), "请填写节日名称"),
        (dict(date=D(2027, 1, 1), kind="maybe", name="元旦"), "类别只能是"),
    ]
    for data, message in cases:
        with pytest.raises(ValidationError, match=message):
            calendar_services.holiday_create(actor=cast.admin, **data)
    with pytest.raises(ValidationError, match="请先在“节假日与调休”中录入 2027 年的放假和调休日期"):
        calendar_services.holiday_year_create(actor=cast.admin, year=2027)
    with pytest.raises(ValidationError, match="2026 年的节假日安排已经登记"):
        calendar_services.holiday_year_create(actor=cast.admin, year=2026)
    assert (Holiday.objects.count(), HolidayYear.objects.count(), AuditEvent.objects.count()) == before


def test_the_admin_site_writes_the_calendar_through_the_services(cast: Cast) -> None:
    client = Client()
    force_login_verified(client, cast.admin)
    assert client.get("/admin/inspections/holiday/").status_code == 200
    # A make-up day on a weekday is refused on the form, in Chinese, and nothing is saved.
    refused = client.post("/admin/inspections/holiday/add/", {"date": "2027-01-04", "kind": "work", "name": "元旦"})
    assert refused.status_code == 200 and "不需要登记调休上班" in refused.content.decode()
    assert not Holiday.objects.filter(date=D(2027, 1, 4)).exists()
    # The year cannot be marked entered before its days.
    early = client.post("/admin/inspections/holidayyear/add/", {"year": "2027", "notice": "国办发明电"})
    assert early.status_code == 200 and "请先在“节假日与调休”中录入 2027 年" in early.content.decode()

    added = client.post("/admin/inspections/holiday/add/", {"date": "2027-01-01", "kind": "off", "name": "元旦"})
    assert added.status_code == 302
    holiday = Holiday.objects.get(date=D(2027, 1, 1))
    assert AuditEvent.objects.filter(action="create", object_id=str(holiday.pk), actor=cast.admin).exists()
    year = client.post("/admin/inspections/holidayyear/add/", {"year": "2027", "notice": "国办发明电〔2026〕X号"})
    assert year.status_code == 302 and workdays.calendar_known(2027)
    deleted = client.post(f"/admin/inspections/holiday/{holiday.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302 and not Holiday.objects.filter(pk=holiday.pk).exists()
    assert AuditEvent.objects.filter(action="delete", object_id=str(holiday.pk)).exists()
    assert not workdays.is_workday(D(2027, 1, 2))  # Saturday, Monday–Friday otherwise
    assert workdays.is_workday(D(2027, 1, 1))  # the deleted day is a working day again (cache cleared)


def test_staff_without_the_admin_role_do_not_see_the_calendar_admin(cast: Cast) -> None:
    user = cast.county_staff
    user.is_staff = True
    user.save()
    client = Client()
    force_login_verified(client, user)
    assert client.get("/admin/inspections/holiday/").status_code == 403
    response = client.post("/admin/inspections/holiday/add/", {"date": "2027-01-01", "kind": "off", "name": "元旦"})
    assert response.status_code == 403 and not Holiday.objects.filter(date=D(2027, 1, 1)).exists()


@time_machine.travel(TODAY, tick=False)
def test_admins_are_warned_sixty_days_before_the_calendar_ends(cast: Cast) -> None:
    assert workdays.calendar_warning(D(2026, 10, 31)) is None  # 61 days left
    assert "还有 60 天" in (workdays.calendar_warning(D(2026, 11, 1)) or "")
    assert "2027年的节假日安排尚未录入" in (workdays.calendar_warning(D(2027, 1, 5)) or "")

    def banner(user: Any) -> bool:
        client = Client()
        client.force_login(user)
        return 'data-testid="calendar-warning"' in client.get("/").content.decode()

    assert banner(cast.admin)
    assert "节假日安排只录入到 2026-12-31（还有 29 天）" in (workdays.calendar_warning(D(2026, 12, 2)) or "")
    assert not banner(cast.county_staff) and not banner(cast.town_a_staff) and not banner(cast.clerk)
    enter_2027(cast.admin)
    assert not banner(cast.admin)


def test_warnings_do_not_report_a_quota_miss_on_a_calendar_not_entered(
    cast: Cast, world: World, campaign_2027: Campaign, log_2027: PrincipalDutyLog
) -> None:
    from inspections.warnings import quota_misses

    def misses() -> list[str]:
        found = quota_misses(user=cast.county_staff, month=D(2027, 1, 1), today=D(2027, 2, 10))
        return [w.title for w in found if "主要负责人履职未达到指标" in w.title]

    assert misses() == []
    enter_2027(cast.admin)  # now 9 of 10 working days: a real miss, reported
    assert misses() == [f"{world.enterprise_a.name}：2027年01月主要负责人履职未达到指标"]
