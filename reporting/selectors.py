"""Reads of the monthly tables. Everything that reaches a user is scoped with `visible_to`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from inspections.choices import DeliverableSchedule
from inspections.models import Campaign, Deliverable, DeliverableSubmission
from portal import rules
from portal.choices import RegionLevel
from portal.models import Region, User
from portal.scoping import ancestor_paths, path_within
from reporting.choices import DEFAULT_DUE_DAY, ReportKind
from reporting.figures import (
    SOURCE_MODELS,
    ReportError,
    Scope,
    Source,
    cell_queryset,
    major_hazard_queryset,
    month_bounds,
    period_for,
    spec_for,
    three_lists_queryset,
)
from reporting.models import ExportJob, Report, ReportVersion


def _deliverable_q(kind: str) -> Q:
    """The deliverables that are this table: by `Deliverable.table`, never by their name."""
    return Q(schedule=DeliverableSchedule.MONTHLY, table=kind)


def deliverable_for(kind: str, campaign: Campaign) -> Deliverable | None:
    return campaign.deliverables.filter(_deliverable_q(kind)).order_by("order", "id").first()


def deliverable_due(report: Report) -> tuple[Deliverable, dt.date] | None:
    """The deliverable this table is (`Deliverable.table`) and its due date in the report's month."""
    deliverable = deliverable_for(report.kind, report.campaign)
    if deliverable is None:
        return None
    due = next((d for d in deliverable.due_dates() if d.replace(day=1) == report.month), None)
    return (deliverable, due) if due is not None else None


def towns_not_submitted(report: Report) -> list[Region]:
    """The towns of a county's table that have not submitted their own table of that month — read from
    the deliverable's filings, the very status the 材料报送情况 grid and the warnings show."""
    if report.region.level != RegionLevel.COUNTY:
        return []
    found = deliverable_due(report)
    if found is None:
        return []
    deliverable, due = found
    filed = DeliverableSubmission.objects.filter(deliverable=deliverable, due_date=due, town__isnull=False)
    return list(
        Region.objects.filter(parent=report.region, level=RegionLevel.TOWN)
        .exclude(pk__in=filed.values("town_id"))
        .order_by("code")
    )


def due_day(kind: str, campaign: Campaign) -> int:
    deliverable = deliverable_for(kind, campaign)
    if deliverable is not None and deliverable.day_of_month:
        return int(deliverable.day_of_month)
    return DEFAULT_DUE_DAY[kind]


def campaign_for(*, kind: str, region: Region, month: dt.date) -> Campaign:
    """The campaign whose deliverables ask for this table in this month, issued by the region or above it."""
    first, last = month_bounds(month)
    deliverables = Deliverable.objects.filter(_deliverable_q(kind))
    campaign = (
        Campaign.objects.filter(
            issuing_region__path__in=ancestor_paths(region.path),
            start_date__lte=last,
            end_date__gte=first,
            pk__in=deliverables.values("campaign_id"),
        )
        .select_related("issuing_region")
        .order_by("-start_date", "-id")
        .first()
    )
    if campaign is None:
        raise ReportError(
            f"{region.name}{first.year}年{first.month}月没有需要报送“{ReportKind(kind).label}”的专项行动。"
        )
    return campaign


def scopes_for(*, kind: str, regions: list[Region], month: dt.date) -> dict[int, Scope | str]:
    """`scope_for` of many regions in one query: region id → its Scope, or the Chinese reason there is none."""
    first, last = month_bounds(month)
    ancestors = {path for region in regions for path in ancestor_paths(region.path)}
    campaigns = list(
        Campaign.objects.filter(
            issuing_region__path__in=ancestors,
            start_date__lte=last,
            end_date__gte=first,
            pk__in=Deliverable.objects.filter(_deliverable_q(kind)).values("campaign_id"),
        )
        .select_related("issuing_region")
        .order_by("-start_date", "-id")
    )
    result: dict[int, Scope | str] = {}
    for region in regions:
        campaign = next((c for c in campaigns if path_within(region.path, c.issuing_region.path)), None)
        if campaign is None:
            result[region.pk] = (
                f"{region.name}{first.year}年{first.month}月没有需要报送“{ReportKind(kind).label}”的专项行动。"
            )
        else:
            result[region.pk] = Scope(region=region, campaign=campaign, period=period_for(campaign, month))
    return result


def scope_for(*, kind: str, region: Region, month: dt.date, campaign: Campaign | None = None) -> Scope:
    campaign = campaign or campaign_for(kind=kind, region=region, month=month)
    return Scope(region=region, campaign=campaign, period=period_for(campaign, month))


def region_for(*, user: User, code: str) -> Region:
    """A region the user may report on, or 404 (also for enterprise accounts and unknown codes)."""
    if not rules.may(user, "reporting.view"):
        raise Http404
    return get_object_or_404(Region.objects.visible_to(user).exclude(level=RegionLevel.PROVINCE), code=code)


def report_list(*, user: User) -> QuerySet[Report]:
    if not rules.may(user, "reporting.view"):
        return Report.objects.none()
    return Report.objects.visible_to(user).select_related("region", "campaign")


def version_get(*, user: User, pk: int) -> ReportVersion:
    if not rules.may(user, "reporting.view"):
        raise Http404
    return get_object_or_404(
        ReportVersion.objects.visible_to(user).select_related("report", "report__region", "report__campaign"), pk=pk
    )


def export_get(*, user: User, pk: Any) -> ExportJob:
    if not rules.may(user, "reporting.view"):
        raise Http404
    return get_object_or_404(ExportJob.objects.visible_to(user).select_related("region"), pk=pk)


LIST_KEYS = {"major_hazards": "重大隐患明细", "hazards": "问题、整改、责任三清单所列隐患"}


def cell_records(*, user: User, kind: str, scope: Scope, key: str) -> tuple[QuerySet[Any], Source, str]:
    """The records behind one number (or one list) of a table, as far as the user may see them."""
    if key in LIST_KEYS:
        if key == "major_hazards" and kind == ReportKind.WINTER:
            behind = major_hazard_queryset(scope)
        elif key == "hazards" and kind == ReportKind.THREE_LISTS:
            behind = three_lists_queryset(scope)
        else:
            raise ReportError("表中没有这个数据项。")
        source, label = Source.HAZARD, LIST_KEYS[key]
    else:
        spec = spec_for(kind, scope.period, key)
        behind, source, label = cell_queryset(kind, scope, key), spec.source, spec.label
    model: Any = SOURCE_MODELS[source]
    records = model.objects.visible_to(user).filter(pk__in=behind.values("pk"))
    related = {
        Source.ENFORCEMENT: ("issuing_unit", "enterprise", "parent_company"),
        Source.HAZARD: ("enterprise", "enterprise__town"),
        Source.INSPECTION: ("unit", "enterprise"),
        Source.TEAM: ("unit",),
    }[source]
    return records.select_related(*related).order_by(*_ORDER[source]), source, label


_ORDER = {
    Source.ENFORCEMENT: ("date", "id"),
    Source.HAZARD: ("found_on", "id"),
    Source.INSPECTION: ("date", "id"),
    Source.TEAM: ("formed_on", "id"),
}


def child_regions(region: Region) -> QuerySet[Region]:
    """A city's counties, a county's towns: the columns of a side-by-side view."""
    return Region.objects.filter(parent=region).order_by("code")
