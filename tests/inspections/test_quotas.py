"""Quota arithmetic with real Chinese working days (holidays and 调休 make-up days)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from inspections import quotas, workdays
from inspections.choices import QuotaKind
from inspections.models import Campaign, PrincipalDutyLog, Quota
from portal.models import Person
from tests.conftest import World

D = dt.date


def test_the_calendar_knows_holidays_and_make_up_days(db: None) -> None:
    # 2024 National Day: 10-01..10-07 off; Sunday 09-29 and Saturday 10-12 are working days.
    assert workdays.is_workday(D(2024, 10, 12)) and D(2024, 10, 12).weekday() == 5
    assert workdays.is_workday(D(2024, 9, 29)) and D(2024, 9, 29).weekday() == 6
    assert not workdays.is_workday(D(2024, 10, 7)) and D(2024, 10, 7).weekday() == 0
    assert len(workdays.workdays_between(D(2024, 10, 1), D(2024, 10, 31))) == 19  # 23 weekdays - 5 + 1
    # 2024 Spring Festival: 02-10..02-17 off; Sundays 02-04 and 02-18 are working days.
    assert workdays.is_workday(D(2024, 2, 4)) and workdays.is_workday(D(2024, 2, 18))
    assert len(workdays.workdays_between(D(2024, 2, 1), D(2024, 2, 29))) == 18
    # A year not entered falls back to Monday–Friday, and says so.
    assert not workdays.calendar_known(2031)
    assert workdays.is_workday(D(2031, 1, 1)) is (D(2031, 1, 1).weekday() < 5)


@pytest.fixture
def year_campaign(world: World) -> Campaign:
    campaign = Campaign.objects.create(
        name="全年履职检查", issuing_region=world.county, start_date=D(2024, 1, 1), end_date=D(2024, 12, 31)
    )
    Quota.objects.create(
        campaign=campaign, kind=QuotaKind.PRINCIPAL_DAYS_ON_SITE, subject="enterprise_principal", number=10,
        unit="个工作日", period="month",
    )  # fmt: skip
    return campaign


def _log(world: World, month: D, dates: list[D], **extra) -> PrincipalDutyLog:  # type: ignore[no-untyped-def]
    person = Person.objects.get(enterprise=world.enterprise_a, role="principal")
    return PrincipalDutyLog.objects.create(
        enterprise=world.enterprise_a, person=person, month=month, on_site_dates=[d.isoformat() for d in dates], **extra
    )


def _days_check(log: PrincipalDutyLog, campaign: Campaign) -> quotas.QuotaCheck:
    (check,) = [c for c in quotas.duty_log_checks(log, [campaign]) if c.quota.kind == QuotaKind.PRINCIPAL_DAYS_ON_SITE]
    return check


def test_days_on_site_across_national_day(cast, world: World, year_campaign: Campaign) -> None:  # type: ignore[no-untyped-def]
    # Ten dates logged; 10-03 (holiday) and 10-13 (Sunday) do not count, 10-12 (make-up Saturday) does.
    dates = [D(2024, 10, d) for d in (3, 8, 9, 10, 11, 12, 13, 14, 15, 16)]
    check = _days_check(_log(world, D(2024, 10, 1), dates), year_campaign)
    assert check.required == 10 and check.actual == 8 and not check.met
    assert check.not_counted == [D(2024, 10, 3), D(2024, 10, 13)]
    assert "10-03" in check.detail and "10-13" in check.detail


def test_days_on_site_met_with_a_make_up_day(cast, world: World, year_campaign: Campaign) -> None:  # type: ignore[no-untyped-def]
    dates = [D(2024, 10, d) for d in (8, 9, 10, 11, 12, 14, 15, 16, 17, 18)]
    check = _days_check(_log(world, D(2024, 10, 1), dates), year_campaign)
    assert check.actual == 10 and check.met


def test_spring_festival_sunday_counts(cast, world: World, year_campaign: Campaign) -> None:  # type: ignore[no-untyped-def]
    # 02-04 and 02-18 are Sundays worked (调休); 02-12 is a Monday of the holiday.
    dates = [D(2024, 2, d) for d in (4, 5, 6, 7, 8, 12, 18, 19, 20, 21)]
    check = _days_check(_log(world, D(2024, 2, 1), dates), year_campaign)
    assert check.actual == 9 and not check.met and check.not_counted == [D(2024, 2, 12)]


def test_a_partial_month_is_prorated_by_working_days(world: World, year_campaign: Campaign) -> None:
    quota = year_campaign.quotas.get()
    year_campaign.start_date = D(2024, 10, 14)
    year_campaign.save()
    quota.refresh_from_db()
    need = quotas.requirement(quota, D(2024, 10, 1))
    # 10-14..10-31 holds 14 of October's 19 working days: ceil(10 × 14 / 19) = 8.
    assert need is not None and need.window == (D(2024, 10, 14), D(2024, 10, 31))
    assert need.number == 8 and need.prorated
    assert quotas.requirement(quota, D(2024, 11, 1)).number == 10  # type: ignore[union-attr]
    assert quotas.requirement(quota, D(2024, 9, 1)) is None


def test_seed_quotas_apply_in_their_windows(cast, world: World, campaign83: Campaign, campaign331: Campaign) -> None:  # type: ignore[no-untyped-def]
    may = _log(world, D(2024, 5, 1), [], safety_meetings=1, major_hazard_investigation_on=D(2024, 5, 20))
    kinds = {c.quota.kind: c for c in quotas.duty_log_checks(may)}
    assert set(kinds) == {
        QuotaKind.PRINCIPAL_DAYS_ON_SITE, QuotaKind.SAFETY_MEETINGS, QuotaKind.MAJOR_HAZARD_INVESTIGATION,
    }  # fmt: skip
    assert kinds[QuotaKind.SAFETY_MEETINGS].met and kinds[QuotaKind.MAJOR_HAZARD_INVESTIGATION].met
    assert not kinds[QuotaKind.PRINCIPAL_DAYS_ON_SITE].met
    # 331号's 带队检查 applies 11-11..01-31: December yes, February (after the phase) no.
    december = _log(world, D(2023, 12, 1), [], inspections_led=1)
    (led,) = [c for c in quotas.duty_log_checks(december) if c.quota.kind == QuotaKind.PRINCIPAL_LED_INSPECTIONS]
    assert led.required == 2 and led.actual == 1 and not led.met
    february = _log(world, D(2024, 2, 1), [], inspections_led=0)
    assert not [c for c in quotas.duty_log_checks(february) if c.quota.kind == QuotaKind.PRINCIPAL_LED_INSPECTIONS]
    # November: the phase starts 11-11 (14 of 22 working days? computed) — prorated up.
    november = _log(world, D(2023, 11, 1), [], inspections_led=1)
    (nov,) = [c for c in quotas.duty_log_checks(november) if c.quota.kind == QuotaKind.PRINCIPAL_LED_INSPECTIONS]
    full = len(workdays.workdays_between(D(2023, 11, 1), D(2023, 11, 30)))
    part = len(workdays.workdays_between(D(2023, 11, 11), D(2023, 11, 30)))
    assert nov.required == Decimal(-(-2 * part // full)) and nov.requirement.prorated


def test_parent_leader_visits_only_with_a_parent(cast, world: World, campaign83: Campaign, parent_company) -> None:  # type: ignore[no-untyped-def]
    log = _log(world, D(2024, 6, 1), [], parent_leader_visits=2)
    (visits,) = [c for c in quotas.duty_log_checks(log) if c.quota.kind == QuotaKind.PARENT_LEADER_VISITS]
    assert visits.required == 3 and not visits.met
    person = Person.objects.create(enterprise=world.enterprise_b, name="刘铁矿", role="principal")
    other = PrincipalDutyLog.objects.create(enterprise=world.enterprise_b, person=person, month=D(2024, 6, 1))
    assert not [c for c in quotas.duty_log_checks(other) if c.quota.kind == QuotaKind.PARENT_LEADER_VISITS]


def _visit(unit_user, enterprise, day: D):  # type: ignore[no-untyped-def]
    from inspections.models import Inspection

    return Inspection.objects.create(
        enterprise=enterprise, unit=unit_user.region, date=day, method="random_check", leader="x"
    )


def test_coverage_per_town_and_county(cast, world: World, campaign331: Campaign) -> None:  # type: ignore[no-untyped-def]
    _visit(cast.town_a_staff, world.enterprise_a, D(2023, 12, 5))
    _visit(cast.town_a_staff, world.enterprise_a, D(2023, 12, 20))  # twice: still one enterprise
    _visit(cast.county_staff, world.enterprise_a2, D(2023, 12, 6))  # the county's visit covers no town
    _visit(cast.town_b_staff, world.enterprise_b, D(2023, 12, 7))
    _visit(cast.town_a_staff, world.enterprise_a2, D(2024, 1, 3))  # another month
    world.enterprise_other.production_status = "producing"
    result = quotas.coverage(
        county=world.county, towns=[world.town_a, world.town_b], campaign=campaign331, month=D(2023, 12, 1)
    )
    town_a, town_b = result.towns
    assert town_a.window == (D(2023, 12, 1), D(2023, 12, 31))
    assert [e.name for e in town_a.missing] == [world.enterprise_a2.name]
    assert town_a.rate == Decimal("50.0") and not town_a.met and town_a.shortfall == 1
    assert town_b.met and town_b.rate == 100
    county = result.county
    assert county is not None and len(county.targets) == 3 and county.inspected_ids == {world.enterprise_a2.pk}
    assert county.rate == Decimal("33.3") and county.met and county.required_rate == 30


def test_coverage_ignores_closed_mines_and_visits_outside_the_phase(cast, world: World, campaign331: Campaign) -> None:  # type: ignore[no-untyped-def]
    world.enterprise_a2.production_status = "closed"
    world.enterprise_a2.save()
    _visit(cast.town_a_staff, world.enterprise_a, D(2023, 11, 8))  # before 督查检查阶段 (11-11)
    result = quotas.coverage(county=world.county, towns=[world.town_a], campaign=campaign331, month=D(2023, 11, 1))
    (town_a,) = result.towns
    assert town_a.window == (D(2023, 11, 11), D(2023, 11, 30))
    assert [e.pk for e in town_a.targets] == [world.enterprise_a.pk]
    assert town_a.missing == [world.enterprise_a] and not town_a.met
    _visit(cast.town_a_staff, world.enterprise_a, D(2023, 11, 20))
    (town_a,) = quotas.coverage(
        county=world.county, towns=[world.town_a], campaign=campaign331, month=D(2023, 11, 1)
    ).towns
    assert town_a.met
    assert result.county is not None and result.county.rate == 0 and not result.county.met
