"""Quota arithmetic: duty logs and inspection coverage against a campaign's quotas.

Rules (stated on the pages too):

- A monthly quota applies in the part of each month that falls inside its window (its phase, else
  the whole campaign). For a month only partly inside, the number is prorated by real working days
  and rounded up: 主要负责人 ≥10 个工作日 over a window holding 11 of the month's 22 working days
  asks for 5. A month wholly inside asks for the full number.
- 在生产现场履职 counts only the logged dates that are Chinese working days (holidays off, 调休
  make-up Saturdays and Sundays on) inside the window.
- Coverage: a town covers the 正常生产建设 enterprises of the town with its own inspections (检查单位 =
  the town); the county covers the county's with the county's own inspections. An enterprise counts
  once however often it was inspected.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from inspections import workdays
from inspections.choices import QuotaKind, QuotaPeriod
from inspections.models import Campaign, Inspection, PrincipalDutyLog, Quota
from portal.choices import ProductionStatus, RegionLevel
from portal.models import Enterprise, Region
from portal.scoping import ancestor_paths, in_subtree

DUTY_LOG_KINDS = frozenset(
    {
        QuotaKind.PRINCIPAL_DAYS_ON_SITE,
        QuotaKind.PRINCIPAL_LED_INSPECTIONS,
        QuotaKind.SAFETY_MEETINGS,
        QuotaKind.MAJOR_HAZARD_INVESTIGATION,
        QuotaKind.PARENT_LEADER_VISITS,
    }
)
COVERAGE_KINDS = frozenset({QuotaKind.TOWN_COVERAGE, QuotaKind.COUNTY_COVERAGE})


@dataclass(frozen=True)
class Requirement:
    window: tuple[dt.date, dt.date]
    number: Decimal
    prorated: bool
    calendar_missing: tuple[int, ...] = ()  # years whose holidays are not entered, when the number needs them


CALENDAR_MISSING = "节假日安排未录入"


def calendar_missing_text(years: tuple[int, ...] | list[int]) -> str:
    return f"{CALENDAR_MISSING}（{'、'.join(f'{year}年' for year in years)}），暂不按工作日核算"


def requirement(quota: Quota, month: dt.date) -> Requirement | None:
    """What a monthly quota asks for in `month`, or None when the month is outside its window."""
    start, end = quota.window()
    clipped = workdays.clip(month, start, end)
    if clipped is None:
        return None
    whole = (workdays.month_start(month), workdays.month_end(month))
    if quota.period != QuotaPeriod.MONTH or clipped == whole:
        return Requirement(clipped, quota.number, prorated=False)
    missing = tuple(workdays.missing_years(*whole))
    if missing:
        return Requirement(clipped, quota.number, prorated=False, calendar_missing=missing)
    full = workdays.workdays_between(*whole)
    part = workdays.workdays_between(*clipped)
    if len(part) >= len(full):
        return Requirement(clipped, quota.number, prorated=False)
    if not part:
        return Requirement(clipped, Decimal(0), prorated=True)
    number = Decimal(math.ceil(quota.number * len(part) / len(full)))
    return Requirement(clipped, number, prorated=True)


@dataclass
class QuotaCheck:
    quota: Quota
    month: dt.date
    requirement: Requirement
    actual: Decimal
    detail: str = ""
    not_counted: list[dt.date] = field(default_factory=list)
    calendar_missing: tuple[int, ...] = ()

    @property
    def required(self) -> Decimal:
        return self.requirement.number

    @property
    def met(self) -> bool:
        """Never met on a guessed calendar: the page says 节假日安排未录入 instead (see calendar_missing)."""
        return not self.calendar_missing and self.actual >= self.required

    @property
    def label(self) -> str:
        return self.quota.get_kind_display()


def campaigns_for_enterprise(enterprise: Enterprise) -> QuerySet[Campaign]:
    """The campaigns that reach an enterprise: issued by its county or above."""
    return Campaign.objects.filter(issuing_region__path__in=ancestor_paths(enterprise.town.path))


def _quotas(campaigns: Any, kinds: frozenset[str]) -> list[Quota]:
    return list(
        Quota.objects.filter(campaign__in=campaigns, kind__in=kinds)
        .select_related("campaign", "phase")
        .order_by("campaign__start_date", "order")
    )


def check_duty_log(log: PrincipalDutyLog, quota: Quota) -> QuotaCheck | None:
    check = _check_duty_log(log, quota)
    if check is not None and check.requirement.calendar_missing:
        check.calendar_missing = check.requirement.calendar_missing
        check.detail = calendar_missing_text(check.calendar_missing) + (f"；{check.detail}" if check.detail else "")
    return check


def _check_duty_log(log: PrincipalDutyLog, quota: Quota) -> QuotaCheck | None:
    need = requirement(quota, log.month)
    if need is None:
        return None
    first, last = need.window
    kind = quota.kind
    if kind == QuotaKind.PRINCIPAL_DAYS_ON_SITE:
        missing = tuple(workdays.missing_years(first, last))
        if missing:
            logged = [d for d in log.on_site_days() if first <= d <= last]
            detail = f"{calendar_missing_text(missing)}；已登记 {len(logged)} 天"
            return QuotaCheck(quota, log.month, need, Decimal(0), detail, calendar_missing=missing)
        counted = [d for d in log.on_site_days() if first <= d <= last and workdays.is_workday(d)]
        not_counted = [d for d in log.on_site_days() if d not in counted]
        detail = f"计入 {len(counted)} 个工作日"
        if not_counted:
            detail += "；不计入（非工作日或不在指标期间）：" + "、".join(f"{d:%m-%d}" for d in not_counted)
        return QuotaCheck(quota, log.month, need, Decimal(len(counted)), detail, not_counted)
    if kind == QuotaKind.PRINCIPAL_LED_INSPECTIONS:
        return QuotaCheck(quota, log.month, need, Decimal(log.inspections_led), f"带队检查 {log.inspections_led} 次")
    if kind == QuotaKind.SAFETY_MEETINGS:
        return QuotaCheck(quota, log.month, need, Decimal(log.safety_meetings), f"召开 {log.safety_meetings} 次")
    if kind == QuotaKind.MAJOR_HAZARD_INVESTIGATION:
        held = log.major_hazard_investigation_on
        done = held is not None and first <= held <= last
        detail = f"{held:%Y-%m-%d} 开展全面排查" if held else "未开展"
        return QuotaCheck(quota, log.month, need, Decimal(1 if done else 0), detail)
    if kind == QuotaKind.PARENT_LEADER_VISITS:
        if log.enterprise.parent_company_id is None:
            return None
        visits = log.parent_leader_visits or 0
        return QuotaCheck(quota, log.month, need, Decimal(visits), f"上级企业负责人到矿检查 {visits} 次")
    return None


def duty_log_checks(log: PrincipalDutyLog, campaigns: Any = None) -> list[QuotaCheck]:
    """Every duty-log quota of the campaigns reaching the enterprise, checked for the log's month."""
    if campaigns is None:
        campaigns = campaigns_for_enterprise(log.enterprise)
    checks = []
    for quota in _quotas(campaigns, DUTY_LOG_KINDS):
        check = check_duty_log(log, quota)
        if check is not None:
            checks.append(check)
    return checks


# --- Coverage ---------------------------------------------------------------------------------


@dataclass
class UnitCoverage:
    unit: Region
    window: tuple[dt.date, dt.date]
    required_rate: Decimal  # percent
    targets: list[Enterprise]
    inspected_ids: set[int]

    @property
    def inspected(self) -> list[Enterprise]:
        return [e for e in self.targets if e.pk in self.inspected_ids]

    @property
    def missing(self) -> list[Enterprise]:
        return [e for e in self.targets if e.pk not in self.inspected_ids]

    @property
    def rate(self) -> Decimal:
        if not self.targets:
            return Decimal(100)
        return (Decimal(len(self.inspected)) * 100 / len(self.targets)).quantize(Decimal("0.1"))

    @property
    def met(self) -> bool:
        return self.rate >= self.required_rate

    @property
    def shortfall(self) -> int:
        """How many more enterprises must be visited to reach the rate."""
        needed = math.ceil(self.required_rate * len(self.targets) / 100)
        return max(0, needed - len(self.inspected))


@dataclass
class Coverage:
    campaign: Campaign | None
    window: tuple[dt.date, dt.date]
    towns: list[UnitCoverage]
    county: UnitCoverage | None


def coverage_window(campaign: Campaign | None, month: dt.date, kind: str) -> tuple[tuple[dt.date, dt.date], Decimal]:
    """The dates and the rate a coverage quota asks for in a month (100% / 30% by default)."""
    default = Decimal(100) if kind == QuotaKind.TOWN_COVERAGE else Decimal(30)
    full = (workdays.month_start(month), workdays.month_end(month))
    if campaign is None:
        return full, default
    quota = campaign.quotas.filter(kind=kind).select_related("phase", "campaign").first()
    if quota is None:
        return full, default
    start, end = quota.window()
    if quota.period == QuotaPeriod.MONTH:
        clipped = workdays.clip(month, start, end)
        return (clipped or full), quota.number
    return (start, end), quota.number


def coverage(*, county: Region, towns: list[Region], campaign: Campaign | None, month: dt.date) -> Coverage:
    """Coverage of the towns (each by its own inspections) and of the county (by the county's)."""
    town_window, town_rate = coverage_window(campaign, month, QuotaKind.TOWN_COVERAGE)
    county_window, county_rate = coverage_window(campaign, month, QuotaKind.COUNTY_COVERAGE)
    active = list(
        Enterprise.objects.filter(
            in_subtree(county.path, "town__path"), production_status__in=ProductionStatus.active()
        ).select_related("town")
    )
    first = min(town_window[0], county_window[0])
    last = max(town_window[1], county_window[1])
    visits: dict[int, list[tuple[int, dt.date]]] = defaultdict(list)
    for unit_id, enterprise_id, date in Inspection.objects.filter(
        enterprise__in=[e.pk for e in active], date__gte=first, date__lte=last
    ).values_list("unit_id", "enterprise_id", "date"):
        visits[enterprise_id].append((unit_id, date))

    def inspected_by(unit: Region, window: tuple[dt.date, dt.date]) -> set[int]:
        return {
            enterprise_id
            for enterprise_id, rows in visits.items()
            if any(u == unit.pk and window[0] <= d <= window[1] for u, d in rows)
        }

    town_rows = []
    for town in towns:
        targets = [e for e in active if e.town_id == town.pk]
        town_rows.append(UnitCoverage(town, town_window, town_rate, targets, inspected_by(town, town_window)))
    county_row = UnitCoverage(county, county_window, county_rate, active, inspected_by(county, county_window))
    return Coverage(campaign, town_window, town_rows, county_row)


def county_of(region: Region) -> Region | None:
    if region.level == RegionLevel.COUNTY:
        return region
    return region.county()


__all__ = [
    "Coverage",
    "QuotaCheck",
    "Requirement",
    "UnitCoverage",
    "check_duty_log",
    "coverage",
    "duty_log_checks",
    "requirement",
]
