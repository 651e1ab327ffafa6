"""Figures of the county and town dashboards, each linked to the list behind it.

Hazards by level and status, rectification rates, overdue / 挂牌督办 / long-open major hazards,
inspection coverage against the quotas, the monthly tables on time / late / missing, and the
warnings that follow from them. A handful of aggregate queries, whatever the number of records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlencode

from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from hazards.choices import HazardLevel, HazardStatus
from hazards.models import Hazard, HazardQuerySet
from inspections import quotas
from inspections import warnings as warnings_engine
from inspections.choices import DeliverableSchedule, DeliverableSubmitter, DeliveryStatus, WarningKind
from inspections.models import Campaign, Deliverable
from portal.choices import RegionLevel
from portal.models import Region, User
from portal.scoping import ancestor_paths, in_subtree, path_within
from reporting.choices import ReportKind
from reporting.schedule import kind_of


def long_open_days(region: Region) -> int:
    """重大事故隐患长期存在: the county's threshold, the very one the warnings engine applies."""
    return warnings_engine.settings_for(region)[0]


def campaign_months(*, user: User) -> list[dict[str, Any]]:
    """The campaigns a user sees that ask for monthly tables, with their months and tables."""
    campaigns = Campaign.objects.visible_to(user).order_by("-start_date")
    deliverables = (
        Deliverable.objects.filter(campaign__in=campaigns, schedule=DeliverableSchedule.MONTHLY)
        .select_related("campaign")
        .order_by("campaign", "order")
    )
    by_campaign: dict[int, dict[str, Any]] = {}
    for deliverable in deliverables:
        kind = kind_of(deliverable)
        if kind is None:
            continue
        entry = by_campaign.setdefault(deliverable.campaign_id, {"campaign": deliverable.campaign, "months": {}})
        for due in deliverable.due_dates():
            month = due.replace(day=1)
            entry["months"].setdefault(month, {"month": month, "code": f"{month:%Y-%m}", "due": due, "kinds": []})
            entry["months"][month]["kinds"].append(ReportKind(kind))
    result = []
    for entry in by_campaign.values():
        months = sorted(entry["months"].values(), key=lambda item: item["month"])
        result.append({"campaign": entry["campaign"], "months": months})
    return result


def _hazard_url(region: Region, **params: Any) -> str:
    return f"{reverse('reporting:dashboard-hazards')}?{urlencode({'region': region.code, **params})}"


def hazards_of(user: User, region: Region) -> HazardQuerySet:
    """The region's hazards as the tables count them: reported (a draft the principal has not signed is left out)."""
    hazards = Hazard.objects.visible_to(user).filter(in_subtree(region.path, "enterprise__town__path"))
    return cast(HazardQuerySet, hazards.exclude(status=HazardStatus.DRAFT))


def hazard_list(*, user: User, region: Region, params: Any, today: dt.date) -> tuple[QuerySet[Hazard], str]:
    """The hazards a chart or a warning stands for."""
    hazards = hazards_of(user, region).select_related("enterprise", "enterprise__town")
    labels = []
    level = params.get("level", "")
    if level in HazardLevel.values:
        hazards = hazards.filter(level=level)
        labels.append(HazardLevel(level).label)
    status = params.get("status", "")
    if status in HazardStatus.values:
        hazards = hazards.filter(status=status)
        labels.append(HazardStatus(status).label)
    if params.get("overdue"):
        hazards = hazards.overdue(today)
        labels.append("逾期")
    if params.get("supervised"):
        hazards = hazards.exclude(supervision_level="").filter(status__in=HazardStatus.open())
        labels.append("挂牌督办未销号")
    if params.get("long_open"):
        days = long_open_days(region)
        hazards = hazards.filter(
            level=HazardLevel.MAJOR,
            status__in=HazardStatus.open(),
            found_on__lt=today - dt.timedelta(days=days),
        )
        labels.append(f"重大事故隐患超过{days}天未销号")
    return hazards.order_by("-found_on", "-id"), f"{region.name}：{'、'.join(labels) or '全部隐患'}"


@dataclass
class Summary:
    totals: dict[str, Any]
    warnings: list[dict[str, Any]]
    coverage: list[dict[str, Any]]
    deliverables: list[dict[str, Any]]
    charts: dict[str, Any] = field(default_factory=dict)


def _rate(done: int, total: int) -> float:
    return round(done * 100 / total, 1) if total else 0.0


def _hazard_figures(user: User, region: Region, today: dt.date) -> tuple[dict[str, Any], dict[str, Any]]:
    hazards = hazards_of(user, region)
    days = long_open_days(region)
    by = {(row["level"], row["status"]): row["n"] for row in hazards.values("level", "status").annotate(n=Count("id"))}
    flags = hazards.aggregate(
        overdue=Count("id", filter=Q(current_deadline__lt=today, status__in=HazardStatus.rectification_owed())),
        supervised=Count("id", filter=~Q(supervision_level="") & Q(status__in=HazardStatus.open())),
        long_open=Count(
            "id",
            filter=Q(
                level=HazardLevel.MAJOR,
                status__in=HazardStatus.open(),
                found_on__lt=today - dt.timedelta(days=days),
            ),
        ),
    )
    general = sum(n for (level, _), n in by.items() if level == HazardLevel.GENERAL)
    general_done = sum(by.get((HazardLevel.GENERAL, s), 0) for s in (HazardStatus.RECTIFIED, HazardStatus.VERIFIED))
    major = sum(n for (level, _), n in by.items() if level == HazardLevel.MAJOR)
    major_done = by.get((HazardLevel.MAJOR, HazardStatus.CLOSED), 0)
    totals = {
        "general": general,
        "general_done": general_done,
        "general_rate": _rate(general_done, general),
        "major": major,
        "major_done": major_done,
        "major_rate": _rate(major_done, major),
        **flags,
    }
    statuses = [status for status in HazardStatus if any((level, status.value) in by for level in HazardLevel.values)]
    chart = {
        "categories": [status.label for status in statuses],
        "series": [
            {
                "name": level.label,
                "data": [by.get((level.value, status.value), 0) for status in statuses],
                "urls": [_hazard_url(region, level=level.value, status=status.value) for status in statuses],
            }
            for level in HazardLevel
        ],
    }
    return totals, chart


def _coverage(region: Region, month: dt.date) -> list[dict[str, Any]]:
    """Inspection coverage of the month against the quotas (towns 100%, the county 30% by default)."""
    if region.level not in (RegionLevel.COUNTY, RegionLevel.TOWN):
        return []
    county = region if region.level == RegionLevel.COUNTY else quotas.county_of(region)
    if county is None:
        return []
    towns = (
        list(Region.objects.filter(parent=county).order_by("code")) if region.level == RegionLevel.COUNTY else [region]
    )
    last = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    campaign = (
        Campaign.objects.filter(
            issuing_region__path__in=ancestor_paths(county.path), start_date__lte=last, end_date__gte=month
        )
        .order_by("-start_date")
        .first()
    )
    result = quotas.coverage(county=county, towns=towns, campaign=campaign, month=month)
    units = list(result.towns) + ([result.county] if region.level == RegionLevel.COUNTY and result.county else [])
    return [
        {
            "name": unit.unit.name,
            "rate": float(unit.rate),
            "required": float(unit.required_rate),
            "inspected": len(unit.inspected),
            "targets": len(unit.targets),
            "met": unit.met,
            "missing": [enterprise.name for enterprise in unit.missing[:10]],
        }
        for unit in units
    ]


def _deliverables(user: User, region: Region, today: dt.date) -> list[dict[str, Any]]:
    """The monthly tables by kind, per town and due date of the last year: on time, late, missing, not yet
    due — read from the deliverables' filings (a town's table counts once submitted), the very status the
    材料报送情况 grid and the warnings show."""
    from inspections.deliverables import Filings, status_of

    towns = list(
        Region.objects.visible_to(user).filter(in_subtree(region.path), level=RegionLevel.TOWN).order_by("code")
    )
    if not towns:
        return []
    since = today - dt.timedelta(days=warnings_engine.DELIVERABLE_LOOKBACK_DAYS)
    deliverables = (
        Deliverable.objects.filter(
            campaign__in=Campaign.objects.visible_to(user).filter(end_date__gte=since),
            schedule=DeliverableSchedule.MONTHLY,
            submitter=DeliverableSubmitter.TOWN,
        )
        .exclude(table="")
        .select_related("campaign", "campaign__issuing_region")
        .order_by("campaign_id", "order", "id")
    )
    by_campaign: dict[int, list[Deliverable]] = {}
    for deliverable in deliverables:
        by_campaign.setdefault(deliverable.campaign_id, []).append(deliverable)
    counts: dict[str, dict[str, int]] = {}
    keys = {
        DeliveryStatus.ON_TIME: "on_time",
        DeliveryStatus.LATE: "late",
        DeliveryStatus.MISSING: "missing",
        DeliveryStatus.PENDING: "pending",
    }
    for items in by_campaign.values():
        campaign = items[0].campaign
        filing_towns = [town for town in towns if path_within(town.path, campaign.issuing_region.path)]
        if not filing_towns:
            continue
        filings = Filings(campaign, filing_towns)
        for deliverable in items:
            bucket = counts.setdefault(deliverable.table, {"on_time": 0, "late": 0, "missing": 0, "pending": 0})
            for due in deliverable.due_dates():
                if due < since:
                    continue
                for town in filing_towns:
                    dates = filings.town_dates(deliverable, town, due)
                    bucket[keys[DeliveryStatus(status_of(dates, due, deliverable.min_count, today))]] += 1
    return [{"kind": ReportKind(kind).label, **values} for kind, values in sorted(counts.items())]


def warning_box(*, user: User, region: Region, today: dt.date) -> list[dict[str, Any]]:
    """The 预警 box: the warnings engine's open warnings per kind in the region, each linked to the 预警
    page showing exactly those (the page, the API and the 工作台 read the same engine)."""
    counts = warnings_engine.warning_counts(user=user, today=today, region=region)
    page = reverse("inspections:warning-list")
    return [
        {
            "kind": kind,
            "label": WarningKind(kind).label,
            "count": count,
            "url": f"{page}?{urlencode({'kind': kind, 'region': region.code, 'open': 1})}",
        }
        for kind, count in counts.open.items()
    ]


def summary(*, user: User, region: Region, month: dt.date, today: dt.date) -> Summary:
    totals, level_chart = _hazard_figures(user, region, today)
    coverage = _coverage(region, month)
    deliverables = _deliverables(user, region, today)
    warnings = warning_box(user=user, region=region, today=today)
    charts = {
        "levels": level_chart,
        "rates": {
            "categories": ["一般事故隐患", "重大事故隐患"],
            "data": [totals["general_rate"], totals["major_rate"]],
            "urls": [
                _hazard_url(region, level=HazardLevel.GENERAL),
                _hazard_url(region, level=HazardLevel.MAJOR),
            ],
        },
        "coverage": {
            "categories": [row["name"] for row in coverage],
            "data": [row["rate"] for row in coverage],
            "required": [row["required"] for row in coverage],
            "urls": ["#coverage" for _ in coverage],
        },
        "deliverables": {
            "categories": [row["kind"] for row in deliverables],
            "series": [
                {"name": label, "key": key, "data": [row[key] for row in deliverables]}
                for key, label in (
                    ("on_time", "按时"),
                    ("late", "逾期报送"),
                    ("missing", "未报送"),
                    ("pending", "未到期"),
                )
            ],
            "url": reverse("reporting:index"),
        },
    }
    return Summary(totals=totals, warnings=warnings, coverage=coverage, deliverables=deliverables, charts=charts)
