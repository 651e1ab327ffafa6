"""Reads of campaigns and field work. Every queryset that reaches a user starts from `visible_to`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404

from inspections.answered import as_answered
from inspections.choices import (
    ACCOUNTABILITY_COLUMNS,
    ACCOUNTABILITY_TABLE,
    WINTER_ENFORCEMENT_COLUMNS,
    WINTER_TABLE,
    Measure,
    TableColumn,
    kinds_for_column,
)
from inspections.filters import EnforcementRecordFilterSet
from inspections.models import (
    Campaign,
    EnforcementRecord,
    Exam,
    Inspection,
    InspectionTeam,
    PrincipalDutyLog,
    SelfCheckAnswer,
    SelfCheckReport,
)
from portal import rules
from portal.choices import ProductionStatus, RegionLevel
from portal.models import Enterprise, Region, User
from portal.scoping import in_subtree

# --- Campaigns --------------------------------------------------------------------------------


def campaign_list(*, user: User) -> QuerySet[Campaign]:
    return Campaign.objects.visible_to(user).select_related("issuing_region").order_by("-start_date", "id")


# --- Enforcement records ----------------------------------------------------------------------


def enforcement_list(*, user: User, params: Any = None) -> QuerySet[EnforcementRecord]:
    queryset = (
        EnforcementRecord.objects.visible_to(user)
        .select_related("issuing_unit", "enterprise", "enterprise__town", "parent_company", "campaign")
        .order_by("-date", "-id")
    )
    if params is None:
        return queryset
    return EnforcementRecordFilterSet(params, queryset=queryset, user=user).qs


@dataclass(frozen=True)
class ColumnFigure:
    column: TableColumn
    value: Decimal | int  # the number of the column's unit (人次, 家, 处, 次 …) or the amount
    amount: Decimal | None  # the 万元 cell under the same header, when the column has one
    kinds: tuple[str, ...]


def _column_aggregates(column: TableColumn, table: str) -> dict[str, Any]:
    kinds = kinds_for_column(column.key, table)
    condition = Q(kind__in=kinds)
    aggregates: dict[str, Any] = {}
    if column.measure == Measure.COUNT:
        aggregates[f"{column.key}__value"] = Count("id", filter=condition)
    elif column.measure == Measure.DISTINCT_ENTERPRISES:
        aggregates[f"{column.key}__value"] = Count("enterprise", filter=condition, distinct=True)
    elif column.measure == Measure.DISTINCT_PARENTS:
        aggregates[f"{column.key}__value"] = Count("parent_company", filter=condition, distinct=True)
    elif column.measure == Measure.AMOUNT:
        aggregates[f"{column.key}__value"] = Sum("amount", filter=condition)
    if column.amount_unit:
        aggregates[f"{column.key}__amount"] = Sum("amount", filter=condition)
    return aggregates


def enforcement_column_figures(records: QuerySet[EnforcementRecord], table: str) -> list[ColumnFigure]:
    """The enforcement columns of a monthly table over `records` (already scoped and cut to a period),
    in one query. Amounts are in 万元, to two decimals; an empty column is 0."""
    columns = ACCOUNTABILITY_COLUMNS if table == ACCOUNTABILITY_TABLE else WINTER_ENFORCEMENT_COLUMNS
    if table not in (ACCOUNTABILITY_TABLE, WINTER_TABLE):
        raise ValueError(f"unknown table {table!r}")
    aggregates: dict[str, Any] = {}
    for column in columns:
        aggregates.update(_column_aggregates(column, table))
    row = records.order_by().aggregate(**aggregates)
    figures = []
    for column in columns:
        value = row[f"{column.key}__value"]
        if column.measure == Measure.AMOUNT:
            value = Decimal(value or 0).quantize(Decimal("0.01"))
        amount = None
        if column.amount_unit:
            amount = Decimal(row[f"{column.key}__amount"] or 0).quantize(Decimal("0.01"))
        figures.append(ColumnFigure(column, value or 0, amount, tuple(kinds_for_column(column.key, table))))
    return figures


# --- Exams ------------------------------------------------------------------------------------


def exam_list(*, user: User) -> QuerySet[Exam]:
    return (
        Exam.objects.visible_to(user)
        .select_related("enterprise", "enterprise__town", "person", "unit", "campaign", "retake_of")
        .order_by("-date", "-id")
    )


# --- Inspections, teams, duty logs -------------------------------------------------------------


def inspection_list(*, user: User) -> QuerySet[Inspection]:
    return (
        Inspection.objects.visible_to(user)
        .select_related("enterprise", "enterprise__town", "unit", "campaign", "team")
        .order_by("-date", "-id")
    )


def team_list(*, user: User) -> QuerySet[InspectionTeam]:
    return InspectionTeam.objects.visible_to(user).select_related("unit", "campaign").order_by("-formed_on", "id")


def duty_log_list(*, user: User) -> QuerySet[PrincipalDutyLog]:
    return (
        PrincipalDutyLog.objects.visible_to(user)
        .select_related("enterprise", "enterprise__town", "person", "enterprise__parent_company")
        .order_by("-month", "enterprise__name")
    )


def duty_log_enterprises(*, user: User) -> QuerySet[Enterprise]:
    """The enterprises whose duty log the user may keep."""
    if user.enterprise_id is not None:
        return Enterprise.objects.visible_to(user)
    return rules.restrict(Enterprise.objects.all(), user, "inspections.record_for_enterprise").order_by(
        "town__code", "name"
    )


# --- Regions for the roll-ups ------------------------------------------------------------------


def counties_for(*, user: User) -> list[Region]:
    """The counties a user's views roll up: their own (town users: their town's), or those of their city."""
    if user.region_id is not None and user.region is not None:
        region = user.region
        if region.level == RegionLevel.TOWN:
            county = region.county()
            return [county] if county is not None else []
        if region.level == RegionLevel.COUNTY:
            return [region]
    return list(Region.objects.visible_to(user).filter(level=RegionLevel.COUNTY).order_by("code"))


def county_choice(*, user: User, requested: str | None, counties: list[Region]) -> Region | None:
    if requested:
        for county in counties:
            if county.code == requested or str(county.pk) == requested:
                return county
        raise Http404
    return counties[0] if counties else None


def towns_for(*, user: User, county: Region) -> list[Region]:
    """The towns of `county` the user may see (a town's staff: their town only)."""
    return list(
        Region.objects.visible_to(user).filter(in_subtree(county.path), level=RegionLevel.TOWN).order_by("code")
    )


# --- Self-check reports -------------------------------------------------------------------------


def self_check_list(*, user: User, campaign: Campaign) -> QuerySet[SelfCheckReport]:
    return (
        SelfCheckReport.objects.visible_to(user)
        .filter(campaign=campaign)
        .select_related("enterprise", "enterprise__town", "filed_by_unit")
        .order_by("enterprise__town__code", "enterprise__name")
    )


def self_check_get(*, user: User, pk: int) -> SelfCheckReport:
    return get_object_or_404(
        SelfCheckReport.objects.visible_to(user).select_related(
            "campaign", "enterprise", "enterprise__town", "filed_by_unit", "signed_by_account", "signed_on_device_of"
        ),
        pk=pk,
    )


def self_check_rows(*, report: SelfCheckReport) -> list[tuple[Any, list[SelfCheckAnswer]]]:
    """The answers grouped by checklist area, in the campaign's order, with their evidence."""
    answers = as_answered(
        report,
        report.answers.select_related("item", "item__area")
        .prefetch_related("evidence")
        .order_by("item__area__order", "item__area_id", "item__order", "item_id"),
    )
    # a signed report reads its items as signed (inspections.answered), in their order then
    answers.sort(key=lambda a: (a.item.area.order, a.item.area_id, a.item.order, a.item_id))
    grouped: dict[int, tuple[Any, list[SelfCheckAnswer]]] = {}
    for answer in answers:
        area = answer.item.area
        grouped.setdefault(area.pk, (area, []))[1].append(answer)
    return list(grouped.values())


def target_enterprises(*, user: User, campaign: Campaign) -> QuerySet[Enterprise]:
    """The 正常生产建设 enterprises a campaign reaches that the user may see."""
    return (
        Enterprise.objects.visible_to(user)
        .filter(in_subtree(campaign.issuing_region.path, "town__path"), production_status__in=ProductionStatus.active())
        .select_related("town")
        .order_by("town__code", "name")
    )
