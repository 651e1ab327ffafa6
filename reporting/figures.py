"""The numbers of the monthly tables, computed from the records and nothing else.

Rules (also stated on the report page):

* Region. Enforcement records, inspections and 督查组 count for the unit that issued / did / formed
  them (a town's own work; a county = its towns plus its own records: the subtree of its path).
  Hazards count for the town of their enterprise.
* Period. 本月 is the reporting month (clipped to the campaign); 累计 — and the 追责问责情况统计表's
  "当月累计汇总数据" — runs from the campaign's start to the end of the reporting period.
* Campaign. Records tagged with the campaign, or with no campaign, count; records tagged with
  another campaign do not. 督查组 are always formed for one campaign.
* Hazards. A hazard counts as 排查 once it is reported (the principal has signed: not a draft);
  general hazards count as 已整改 when rectified by the period's end, major hazards when 销号 by it.
* Which enforcement kind counts in which column, and how (records, distinct enterprises, distinct
  parent companies, sum of 万元), is `inspections.choices.ENFORCEMENT_COLUMNS` — nowhere else.

Every cell is a `CellSpec`: a source table, a condition and a measure. The table is computed with
one aggregate query per source table (conditional aggregation), the drill-down of a cell is the same
base queryset filtered by the same condition, and the record ids a signed version keeps come from it.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.db import connection, connections, router
from django.db.models import Count, DecimalField, Model, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, Substr

from hazards.choices import HazardLevel, HazardSource, HazardStatus
from hazards.models import Hazard
from inspections.choices import (
    ACCOUNTABILITY_COLUMNS,
    ACCOUNTABILITY_TABLE,
    WINTER_ENFORCEMENT_COLUMNS,
    WINTER_TABLE,
    kinds_for_column,
)
from inspections.choices import Measure as EnforcementMeasure
from inspections.models import Campaign, EnforcementRecord, Inspection, InspectionTeam
from portal.choices import Industry, PersonRole, RegionLevel
from portal.models import Enterprise, Person, Region
from portal.scoping import ancestor_paths, in_subtree
from reporting.choices import ReportKind
from reporting.layouts import (
    ACCOUNTABILITY,
    THREE_LISTS_TITLE,
    WINTER,
    WINTER_TITLE,
    Layout,
)
from reporting.tables import (
    CENT,
    ZERO,
    AccountabilityRow,
    AccountabilityTable,
    AnyTable,
    Heading,
    MajorHazardLine,
    Period,
    ProblemLine,
    RectificationLine,
    ResponsibilityLine,
    ThreeListsTable,
    WinterRow,
    WinterTable,
    chinese_date,
)


class ReportError(Exception):
    """A table cannot be made as asked; the message is Chinese and meant for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Source(StrEnum):
    ENFORCEMENT = "enforcement"
    HAZARD = "hazard"
    INSPECTION = "inspection"
    TEAM = "team"


SOURCE_LABELS: dict[Source, str] = {
    Source.ENFORCEMENT: "执法与追责问责记录",
    Source.HAZARD: "事故隐患",
    Source.INSPECTION: "检查记录",
    Source.TEAM: "督查组",
}

SOURCE_MODELS: dict[Source, type[Model]] = {
    Source.ENFORCEMENT: EnforcementRecord,
    Source.HAZARD: Hazard,
    Source.INSPECTION: Inspection,
    Source.TEAM: InspectionTeam,
}

# The date that places a record in a period.
SOURCE_DATE: dict[Source, str] = {
    Source.ENFORCEMENT: "date",
    Source.HAZARD: "found_on",
    Source.INSPECTION: "date",
    Source.TEAM: "formed_on",
}

COUNT = "count"
DISTINCT_ENTERPRISES = "distinct_enterprises"
DISTINCT_PARENTS = "distinct_parents"
AMOUNT = "amount"


@dataclass(frozen=True)
class CellSpec:
    key: str  # "talk_enterprise"; "month.general_found" / "cumulative.general_found"
    source: Source
    condition: Q
    measure: str
    label: str  # for the drill-down page: 累计 / 一般隐患 / 已整改（项）


@dataclass(frozen=True)
class Scope:
    """What a table is about: a region, a campaign and the period of a reporting month."""

    region: Region
    campaign: Campaign
    period: Period


# --------------------------------------------------------------------------------------------
# Periods, campaigns, names
# --------------------------------------------------------------------------------------------


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    first = month.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def parse_month(value: str) -> dt.date:
    """ "2024-05" → 2024-05-01, or a Chinese error."""
    try:
        year, month = (int(part) for part in value.strip().split("-"))
        return dt.date(year, month, 1)
    except (ValueError, TypeError) as exc:
        raise ReportError(f"月份格式不正确：“{value}”，应为 YYYY-MM，如 2024-05。") from exc


def period_for(campaign: Campaign, month: dt.date) -> Period:
    first, last = month_bounds(month)
    start, end = max(first, campaign.start_date), min(last, campaign.end_date)
    if start > end:
        raise ReportError(
            f"{first.year}年{first.month}月不在“{campaign.name}”期间"
            f"（{chinese_date(campaign.start_date)}至{chinese_date(campaign.end_date)}）内。"
        )
    return Period(month=first, start=start, end=end, cumulative_start=campaign.start_date)


def unit_name(region: Region) -> str:
    """The bureau that files for a region: 巴公镇应急管理中心, 泽州县应急管理局, 晋城市应急管理局."""
    if region.level == RegionLevel.TOWN:
        return f"{region.name}应急管理中心"
    if region.level == RegionLevel.PROVINCE:
        return f"{region.name}应急管理厅"
    return f"{region.name}应急管理局"


# --------------------------------------------------------------------------------------------
# The cells
# --------------------------------------------------------------------------------------------

_ENFORCEMENT_MEASURE = {
    EnforcementMeasure.COUNT: COUNT,
    EnforcementMeasure.DISTINCT_ENTERPRISES: DISTINCT_ENTERPRISES,
    EnforcementMeasure.DISTINCT_PARENTS: DISTINCT_PARENTS,
    EnforcementMeasure.AMOUNT: AMOUNT,
}


def _general_rectified(end: dt.date) -> Q:
    return Q(
        level=HazardLevel.GENERAL,
        status__in=[HazardStatus.RECTIFIED, HazardStatus.VERIFIED],
        rectified_on__lte=end,
    )


def _major_rectified(end: dt.date) -> Q:
    return Q(level=HazardLevel.MAJOR, status=HazardStatus.CLOSED, closed_on__lte=end)


def _enforcement_spec(key: str, column: str, table: str, *, amount: bool, label: str) -> CellSpec:
    columns = ACCOUNTABILITY_COLUMNS if table == ACCOUNTABILITY_TABLE else WINTER_ENFORCEMENT_COLUMNS
    definition = next(item for item in columns if item.key == column)
    measure = AMOUNT if amount else _ENFORCEMENT_MEASURE[EnforcementMeasure(definition.measure)]
    return CellSpec(key, Source.ENFORCEMENT, Q(kind__in=kinds_for_column(column, table)), measure, label)


def _label(layout: Layout, key: str, prefix: str = "") -> str:
    return f"{prefix}{layout.label_of(key)}"


def accountability_specs() -> list[CellSpec]:
    """One row: 当月累计汇总数据 (the base queryset already spans the campaign start to the period end)."""
    return [
        _enforcement_spec(
            leaf.key,
            leaf.source_column,
            ACCOUNTABILITY_TABLE,
            amount=leaf.is_amount,
            label=_label(ACCOUNTABILITY, leaf.key),
        )
        for leaf in ACCOUNTABILITY.leaves()
    ]


def winter_specs(period: Period) -> list[CellSpec]:
    specs: list[CellSpec] = []
    end = period.end
    for row, prefix in (("month", "非煤矿山（本月）/ "), ("cumulative", "累计 / ")):
        for leaf in WINTER.leaves():
            key = f"{row}.{leaf.key}"
            label = _label(WINTER, leaf.key, prefix)
            if leaf.key == "teams":
                spec = CellSpec(key, Source.TEAM, Q(), COUNT, label)
            elif leaf.key == "enterprises_inspected":
                spec = CellSpec(key, Source.INSPECTION, Q(), DISTINCT_ENTERPRISES, label)
            elif leaf.key == "general_found":
                spec = CellSpec(key, Source.HAZARD, Q(level=HazardLevel.GENERAL), COUNT, label)
            elif leaf.key == "general_rectified":
                spec = CellSpec(key, Source.HAZARD, _general_rectified(end), COUNT, label)
            elif leaf.key == "major_found":
                spec = CellSpec(key, Source.HAZARD, Q(level=HazardLevel.MAJOR), COUNT, label)
            elif leaf.key == "major_rectified":
                spec = CellSpec(key, Source.HAZARD, _major_rectified(end), COUNT, label)
            else:
                spec = _enforcement_spec(key, leaf.source_column, WINTER_TABLE, amount=leaf.is_amount, label=label)
            if row == "month":
                month_only = Q(**{f"{SOURCE_DATE[spec.source]}__gte": period.start})
                spec = dataclasses.replace(spec, condition=spec.condition & month_only)
            specs.append(spec)
    return specs


def specs_for(kind: str, period: Period) -> list[CellSpec]:
    if kind == ReportKind.ACCOUNTABILITY:
        return accountability_specs()
    if kind == ReportKind.WINTER:
        return winter_specs(period)
    return []


def spec_for(kind: str, period: Period, key: str) -> CellSpec:
    for spec in specs_for(kind, period):
        if spec.key == key:
            return spec
    raise ReportError("表中没有这个数据项。")


# --------------------------------------------------------------------------------------------
# Querysets
# --------------------------------------------------------------------------------------------


def _campaign_or_none(campaign: Campaign) -> Q:
    return Q(campaign=campaign) | Q(campaign__isnull=True)


def regions_under(path: str) -> QuerySet[Region, Any]:
    """The ids of a region and everything below it (one indexed range on the materialised path)."""
    return Region.objects.filter(in_subtree(path)).values("pk")


def enterprises_under(path: str) -> QuerySet[Enterprise, Any]:
    return Enterprise.objects.filter(town__in=regions_under(path)).values("pk")


def base_queryset(source: Source, scope: Scope) -> QuerySet[Any]:
    """Every record of `source` that the region's table may count, from the campaign's start to the period's end.

    Not scoped to a user: views intersect it with `visible_to`. The region is given as `IN (ids)`
    subqueries so that the database drives from the region's units or enterprises (their indexes)
    rather than from a date range over the whole province.
    """
    path = scope.region.path
    window = {f"{SOURCE_DATE[source]}__range": (scope.period.cumulative_start, scope.period.end)}
    if source is Source.ENFORCEMENT:
        return EnforcementRecord.objects.filter(issuing_unit__in=regions_under(path), **window).filter(
            _campaign_or_none(scope.campaign)
        )
    if source is Source.HAZARD:
        return Hazard.objects.filter(enterprise__in=enterprises_under(path), **window).exclude(
            status=HazardStatus.DRAFT
        )
    if source is Source.INSPECTION:
        return Inspection.objects.filter(unit__in=regions_under(path), **window).filter(
            _campaign_or_none(scope.campaign)
        )
    return InspectionTeam.objects.filter(unit__in=regions_under(path), campaign=scope.campaign, **window)


def _aggregate(spec: CellSpec) -> Any:
    if spec.measure == AMOUNT:
        return Coalesce(
            Sum("amount", filter=spec.condition),
            Value(ZERO),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        )
    if spec.measure == DISTINCT_ENTERPRISES:
        return Count("enterprise", distinct=True, filter=spec.condition)
    if spec.measure == DISTINCT_PARENTS:
        return Count("parent_company", distinct=True, filter=spec.condition)
    return Count("pk", filter=spec.condition)


def compute_cells(specs: Iterable[CellSpec], scope: Scope) -> dict[str, int | Decimal]:
    """All cells, one aggregate query per source table."""
    by_source: dict[Source, list[CellSpec]] = {}
    for spec in specs:
        by_source.setdefault(spec.source, []).append(spec)
    values: dict[str, int | Decimal] = {}
    for source, group in by_source.items():
        aliases = {f"c{index}": spec for index, spec in enumerate(group)}
        result = base_queryset(source, scope).aggregate(**{alias: _aggregate(spec) for alias, spec in aliases.items()})
        for alias, spec in aliases.items():
            value = result[alias]
            values[spec.key] = Decimal(value).quantize(CENT) if spec.measure == AMOUNT else int(value or 0)
    return values


# --- The same queries, compiled once ------------------------------------------------------------
#
# Compiling 18–24 filtered aggregates costs Django several times what running them costs. The
# structure of a table's queries never changes, only the region, the campaign and the dates: so
# each (table, source) query is compiled once by the ORM with sentinel values in their place, and
# later calls run that SQL with the real values put back. `compute_cells` (the plain ORM path) and
# this one are held to the same numbers by the tests.

_SENTINEL_PATH = "/~region~/"
_SENTINEL_CAMPAIGN = -7_654_321
_SENTINEL_DATES = {
    "cumulative_start": dt.date(1901, 1, 1),
    "start": dt.date(1901, 1, 2),
    "end": dt.date(1901, 1, 3),
}


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, str], ...]  # (param position, what goes there)
    specs: tuple[CellSpec, ...]  # in the order of the SELECT columns


_COMPILED: dict[tuple[str, str, str, str], _Compiled] = {}


def _sentinel_scope() -> Scope:
    period = Period(
        month=_SENTINEL_DATES["start"],
        start=_SENTINEL_DATES["start"],
        end=_SENTINEL_DATES["end"],
        cumulative_start=_SENTINEL_DATES["cumulative_start"],
    )
    return Scope(region=Region(path=_SENTINEL_PATH), campaign=Campaign(pk=_SENTINEL_CAMPAIGN), period=period)


def _compile(kind: str, source: Source, using: str) -> _Compiled:
    scope = _sentinel_scope()
    specs = tuple(spec for spec in specs_for(kind, scope.period) if spec.source is source)
    query = base_queryset(source, scope).order_by().query.chain()
    query.clear_select_clause()
    for index, spec in enumerate(specs):
        query.add_annotation(_aggregate(spec), f"c{index}", select=True)
    sql, params = query.get_compiler(using).as_sql()
    order = [int(alias[1:]) for alias in query.annotation_select]
    slots: list[tuple[int, str]] = []
    for position, value in enumerate(params):
        if value == _SENTINEL_CAMPAIGN:
            slots.append((position, "campaign"))
        elif isinstance(value, str) and _SENTINEL_PATH in value:
            slots.append((position, "path:" + value))
        else:
            for name, day in _SENTINEL_DATES.items():
                if value == day or value == str(day):
                    slots.append((position, f"date:{name}:{'str' if isinstance(value, str) else 'date'}"))
    return _Compiled(sql, tuple(params), tuple(slots), tuple(specs[i] for i in order))


def _params(compiled: _Compiled, scope: Scope) -> list[Any]:
    params = list(compiled.params)
    for position, slot in compiled.slots:
        if slot == "campaign":
            params[position] = scope.campaign.pk
        elif slot.startswith("path:"):
            pattern = slot[len("path:") :]
            params[position] = pattern.replace(_SENTINEL_PATH, connection.ops.prep_for_like_query(scope.region.path))
        else:
            _, name, form = slot.split(":")
            day = getattr(scope.period, name)
            params[position] = str(day) if form == "str" else day
    return params


def compute_cells_compiled(kind: str, scope: Scope) -> dict[str, int | Decimal]:
    """`compute_cells(specs_for(kind, period), scope)`, without compiling the queries again."""
    values: dict[str, int | Decimal] = {}
    using = router.db_for_read(SOURCE_MODELS[Source.ENFORCEMENT])
    for source in dict.fromkeys(spec.source for spec in specs_for(kind, scope.period)):
        key = (kind, source.value, connections[using].vendor, using)
        compiled = _COMPILED.get(key)
        if compiled is None:
            compiled = _COMPILED[key] = _compile(kind, source, using)
        with connections[using].cursor() as cursor:
            cursor.execute(compiled.sql, _params(compiled, scope))
            row = cursor.fetchone()
        for spec, value in zip(compiled.specs, row, strict=True):
            if spec.measure == AMOUNT:
                values[spec.key] = Decimal(str(value or 0)).quantize(CENT)
            else:
                values[spec.key] = int(value or 0)
    return values


def cell_queryset(kind: str, scope: Scope, key: str) -> QuerySet[Any]:
    """The records behind one cell (not yet scoped to a user)."""
    spec = spec_for(kind, scope.period, key)
    return base_queryset(spec.source, scope).filter(spec.condition)


def cell_record_ids(kind: str, scope: Scope) -> dict[str, list[int]]:
    """For the snapshot of a signed version: the ids of the records behind every cell."""
    ids: dict[str, list[int]] = {}
    for spec in specs_for(kind, scope.period):
        queryset = base_queryset(spec.source, scope).filter(spec.condition)
        ids[spec.key] = sorted(queryset.values_list("pk", flat=True))
    return ids


# --------------------------------------------------------------------------------------------
# Lists: 重大隐患明细, 三清单
# --------------------------------------------------------------------------------------------

_HAZARD_FIELDS = (
    "id",
    "description",
    "location",
    "level",
    "source",
    "status",
    "found_on",
    "measures",
    "funds_wan",
    "current_deadline",
    "deadline",
    "rectified_on",
    "closed_on",
    "responsible_unit",
    "responsible_person",
    "supervision_unit",
    "supervision_level",
    "criterion_text",
    "enterprise_id",
    "enterprise__name",
    "enterprise__industry",
    "enterprise__town__name",
)

_STATUS_LABELS = dict(HazardStatus.choices)
_LEVEL_LABELS = dict(HazardLevel.choices)
_INDUSTRY_LABELS = dict(Industry.choices)


def major_hazard_queryset(scope: Scope) -> QuerySet[Hazard]:
    """重大隐患明细: the major hazards found since the campaign began, up to the period's end."""
    return (
        base_queryset(Source.HAZARD, scope)
        .filter(level=HazardLevel.MAJOR)
        .order_by("enterprise__town__code", "enterprise__name", "found_on", "id")
    )


def _plan(row: dict[str, Any]) -> str:
    deadline = row["current_deadline"] or row["deadline"]
    parts = [row["description"].strip()]
    if row["location"]:
        parts[0] += f"（部位：{row['location']}）"
    plan = []
    if row["measures"]:
        plan.append(f"整改措施：{row['measures'].strip()}")
    if deadline:
        plan.append(f"整改时限：{chinese_date(deadline)}")
    who = " ".join(value for value in (row["responsible_unit"], row["responsible_person"]) if value)
    if who:
        plan.append(f"责任单位/责任人：{who}")
    if row["funds_wan"] is not None:
        plan.append(f"整改资金：{Decimal(row['funds_wan']):.2f}万元")
    status = _STATUS_LABELS.get(row["status"], row["status"])
    if row["status"] == HazardStatus.CLOSED and row["closed_on"]:
        status += f"（{chinese_date(row['closed_on'])}）"
    plan.append(f"现状：{status}")
    return parts[0] + "\n" + "；".join(plan) + "。"


def major_hazard_lines(scope: Scope, limit: int | None = None) -> tuple[MajorHazardLine, ...]:
    """The 重大隐患明细, numbered; its first `limit` lines only when given."""
    rows = major_hazard_queryset(scope).values(*_HAZARD_FIELDS)
    if limit is not None:
        rows = rows[:limit]
    return tuple(
        MajorHazardLine(
            number=index,
            hazard_id=row["id"],
            enterprise=row["enterprise__name"],
            town=row["enterprise__town__name"],
            industry=_INDUSTRY_LABELS.get(row["enterprise__industry"], row["enterprise__industry"]),
            supervision_unit=row["supervision_unit"],
            detail=_plan(row),
        )
        for index, row in enumerate(rows, start=1)
    )


def three_lists_queryset(scope: Scope) -> QuerySet[Hazard]:
    """The problems of the 三清单: found this month, plus those found earlier in the campaign not yet rectified."""
    end = scope.period.end
    done = _general_rectified(end) | _major_rectified(end)
    return (
        base_queryset(Source.HAZARD, scope)
        .filter(Q(found_on__gte=scope.period.start) | ~done)
        .order_by("enterprise__town__code", "enterprise__name", "found_on", "id")
    )


def three_lists(scope: Scope, heading: Heading, county: str, limit: int | None = None) -> ThreeListsTable:
    """The three lists (one line per hazard in each, in the same order); their first `limit` lines only when given."""
    rows_query = three_lists_queryset(scope).values(*_HAZARD_FIELDS)
    rows = list(rows_query if limit is None else rows_query[:limit])
    enterprise_ids = {row["enterprise_id"] for row in rows}
    principals: dict[int, str] = {}
    for enterprise_id, name in (
        Person.objects.filter(enterprise_id__in=enterprise_ids, role=PersonRole.PRINCIPAL)
        .order_by("enterprise_id", "id")
        .values_list("enterprise_id", "name")
    ):
        if enterprise_id is not None:
            principals.setdefault(enterprise_id, name)
    sources = dict(HazardSource.choices)
    problems, rectifications, responsibilities = [], [], []
    for number, row in enumerate(rows, start=1):
        status = _STATUS_LABELS.get(row["status"], row["status"])
        is_major = row["level"] == HazardLevel.MAJOR
        problems.append(
            ProblemLine(
                number=number,
                hazard_id=row["id"],
                enterprise=row["enterprise__name"],
                town=row["enterprise__town__name"],
                description=row["description"],
                location=row["location"],
                level=_LEVEL_LABELS.get(row["level"], row["level"]),
                source=sources.get(row["source"], row["source"]),
                found_on=row["found_on"],
            )
        )
        rectifications.append(
            RectificationLine(
                number=number,
                hazard_id=row["id"],
                enterprise=row["enterprise__name"],
                description=row["description"],
                measures=row["measures"],
                funds_wan=Decimal(row["funds_wan"]).quantize(CENT) if row["funds_wan"] is not None else None,
                deadline=row["current_deadline"] or row["deadline"],
                status=status,
                rectified_on=row["rectified_on"],
            )
        )
        responsibilities.append(
            ResponsibilityLine(
                number=number,
                hazard_id=row["id"],
                enterprise=row["enterprise__name"],
                description=row["description"],
                responsible_unit=row["responsible_unit"],
                responsible_person=row["responsible_person"],
                principal=principals.get(row["enterprise_id"], ""),
                supervising_unit=(
                    f"{county}应急管理局" if is_major and county else f"{row['enterprise__town__name']}应急管理中心"
                ),
            )
        )
    return ThreeListsTable(
        heading=heading,
        problems=tuple(problems),
        rectifications=tuple(rectifications),
        responsibilities=tuple(responsibilities),
    )


def _county_name(region: Region) -> str:
    if region.level == RegionLevel.COUNTY:
        return region.name
    if region.level == RegionLevel.TOWN:
        county = Region.objects.filter(path__in=ancestor_paths(region.path), level=RegionLevel.COUNTY).first()
        return county.name if county else ""
    return ""


# --------------------------------------------------------------------------------------------
# Whole tables
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signatures:
    """Who filled and who signed: printed on the table, not part of the figures."""

    filled_on: dt.date | None = None
    filled_by: str = ""
    filler_phone: str = ""
    leader_name: str = ""
    version_label: str = ""


def title_for(kind: str, region: Region, county: str) -> str:
    if kind == ReportKind.ACCOUNTABILITY:
        return ACCOUNTABILITY.title
    if kind == ReportKind.WINTER:
        return WINTER_TITLE.format(county=county or region.name)
    return THREE_LISTS_TITLE.format(unit=region.name)


def heading_for(kind: str, scope: Scope, signatures: Signatures | None = None, county: str = "") -> Heading:
    signatures = signatures or Signatures()
    return Heading(
        title=title_for(kind, scope.region, county),
        unit_name=unit_name(scope.region),
        region_code=scope.region.code,
        region_name=scope.region.name,
        campaign_name=scope.campaign.name,
        period=scope.period,
        filled_on=signatures.filled_on,
        filled_by=signatures.filled_by,
        filler_phone=signatures.filler_phone,
        leader_name=signatures.leader_name,
        version_label=signatures.version_label,
    )


def _table_from_cells(
    kind: str, heading: Heading, cells: dict[str, int | Decimal], major_hazards: tuple[MajorHazardLine, ...] = ()
) -> AnyTable:
    if kind == ReportKind.ACCOUNTABILITY:
        return AccountabilityTable(heading=heading, row=AccountabilityRow(**cells))  # type: ignore[arg-type]
    month = {key.split(".", 1)[1]: value for key, value in cells.items() if key.startswith("month.")}
    cumulative = {key.split(".", 1)[1]: value for key, value in cells.items() if key.startswith("cumulative.")}
    return WinterTable(
        heading=heading,
        month=WinterRow(**month),  # type: ignore[arg-type]
        cumulative=WinterRow(**cumulative),  # type: ignore[arg-type]
        major_hazards=major_hazards,
    )


def compute_table(kind: str, scope: Scope, signatures: Signatures | None = None) -> AnyTable:
    """The whole table of `kind` for a region, campaign and month, from the records."""
    county = _county_name(scope.region) if kind != ReportKind.ACCOUNTABILITY else ""
    heading = heading_for(kind, scope, signatures, county)
    if kind == ReportKind.ACCOUNTABILITY:
        return _table_from_cells(kind, heading, compute_cells_compiled(kind, scope))
    if kind == ReportKind.WINTER:
        return _table_from_cells(kind, heading, compute_cells_compiled(kind, scope), major_hazard_lines(scope))
    if kind == ReportKind.THREE_LISTS:
        return three_lists(scope, heading, county)
    raise ReportError(f"未知的报表类型：{kind}")


def compute_table_head(kind: str, scope: Scope, rows: int) -> tuple[AnyTable, int]:
    """`compute_table` with its lists (重大隐患明细, 三清单) cut to their first `rows` lines, and the length of
    the whole list (0 for a table without one): what the table page shows when it compares nothing with the
    whole table. At county scale the lists run to thousands of hazards; their first lines and a count cost a
    fraction of building every line (the cells are computed exactly as by `compute_table`)."""
    if kind == ReportKind.ACCOUNTABILITY:
        return compute_table(kind, scope), 0
    county = _county_name(scope.region)
    heading = heading_for(kind, scope, None, county)
    if kind == ReportKind.WINTER:
        lines = major_hazard_lines(scope, rows)
        total = len(lines) if len(lines) < rows else major_hazard_queryset(scope).count()
        return _table_from_cells(kind, heading, compute_cells_compiled(kind, scope), lines), total
    if kind == ReportKind.THREE_LISTS:
        table = three_lists(scope, heading, county, rows)
        total = len(table.problems) if len(table.problems) < rows else three_lists_queryset(scope).count()
        return table, total
    raise ReportError(f"未知的报表类型：{kind}")


def list_length(table: AnyTable) -> int:
    """How many lines the table's list has (重大隐患明细, or each of the 三清单); 0 for a table without one."""
    if isinstance(table, WinterTable):
        return len(table.major_hazards)
    if isinstance(table, ThreeListsTable):
        return len(table.problems)
    return 0


# --------------------------------------------------------------------------------------------
# Many regions at once: a city's counties or the province's, side by side
# --------------------------------------------------------------------------------------------

SOURCE_PATH: dict[Source, str] = {
    Source.ENFORCEMENT: "issuing_unit__path",
    Source.HAZARD: "enterprise__town__path",
    Source.INSPECTION: "unit__path",
    Source.TEAM: "unit__path",
}


def _rollup_queryset(source: Source, scopes: list[Scope]) -> QuerySet[Any]:
    """The records of several regions of one level whose campaigns share one period (see `compute_rollup`)."""
    period = scopes[0].period
    under = Q()
    for scope in scopes:
        under |= in_subtree(scope.region.path)
    regions = Region.objects.filter(under).values("pk")
    window = {f"{SOURCE_DATE[source]}__range": (period.cumulative_start, period.end)}
    campaigns = [scope.campaign.pk for scope in scopes]
    tagged = Q(campaign__isnull=True) | Q(campaign__in=campaigns)
    if source is Source.ENFORCEMENT:
        return EnforcementRecord.objects.filter(tagged, issuing_unit__in=regions, **window)
    if source is Source.HAZARD:
        enterprises = Enterprise.objects.filter(town__in=regions).values("pk")
        return Hazard.objects.filter(enterprise__in=enterprises, **window).exclude(status=HazardStatus.DRAFT)
    if source is Source.INSPECTION:
        return Inspection.objects.filter(tagged, unit__in=regions, **window)
    return InspectionTeam.objects.filter(unit__in=regions, campaign__in=campaigns, **window)


def compute_rollup(kind: str, scopes: list[Scope]) -> dict[int, AnyTable]:
    """The tables (numbers only, without the 重大隐患明细) of many regions, keyed by region id.

    Regions of one level whose campaigns share one period are computed together: one aggregate
    query per source table, grouped by the region's path. A record counts for a region under the
    same rules as `compute_table`; "tagged with the region's campaign" becomes "tagged with one of
    the group's campaigns", which is the same thing as long as a unit tags its records only with
    campaigns issued over it (a town cannot see a sibling county's campaign). Tests hold the two
    ways of computing to the same numbers.
    """
    if kind not in (ReportKind.ACCOUNTABILITY, ReportKind.WINTER):
        raise ReportError("只有追责问责情况统计表和冬季行动工作报表可以汇总对照。")
    groups: dict[tuple[Period, int], list[Scope]] = {}
    for scope in scopes:
        groups.setdefault((scope.period, len(scope.region.path)), []).append(scope)
    tables: dict[int, AnyTable] = {}
    for (period, length), members in groups.items():
        by_path = {scope.region.path: scope for scope in members}
        cells: dict[str, dict[str, int | Decimal]] = {path: {} for path in by_path}
        by_source: dict[Source, list[CellSpec]] = {}
        for spec in specs_for(kind, period):
            by_source.setdefault(spec.source, []).append(spec)
        for source, specs in by_source.items():
            aliases = {f"c{index}": spec for index, spec in enumerate(specs)}
            rows = (
                _rollup_queryset(source, members)
                .annotate(bucket=Substr(SOURCE_PATH[source], 1, length))
                .values("bucket")
                .order_by()
                .annotate(**{alias: _aggregate(spec) for alias, spec in aliases.items()})
            )
            found = {row["bucket"]: row for row in rows}
            for path in by_path:
                row = found.get(path, {})
                for alias, spec in aliases.items():
                    value = row.get(alias)
                    cells[path][spec.key] = (
                        Decimal(value or 0).quantize(CENT) if spec.measure == AMOUNT else int(value or 0)
                    )
        for path, scope in by_path.items():
            county = scope.region.name if kind == ReportKind.WINTER and scope.region.level == RegionLevel.COUNTY else ""
            heading = heading_for(kind, scope, None, county)
            tables[scope.region.pk] = _table_from_cells(kind, heading, cells[path])
    return tables


def record_ids(kind: str, scope: Scope) -> dict[str, list[int]]:
    """Every record id behind the table: per cell, and for the lists their hazards."""
    if kind == ReportKind.THREE_LISTS:
        return {"hazards": sorted(three_lists_queryset(scope).values_list("pk", flat=True))}
    ids = cell_record_ids(kind, scope)
    if kind == ReportKind.WINTER:
        ids["major_hazards"] = sorted(major_hazard_queryset(scope).values_list("pk", flat=True))
    return ids


def with_signatures(table: AnyTable, signatures: Signatures) -> AnyTable:
    heading = dataclasses.replace(
        table.heading,
        filled_on=signatures.filled_on,
        filled_by=signatures.filled_by,
        filler_phone=signatures.filler_phone,
        leader_name=signatures.leader_name,
        version_label=signatures.version_label,
    )
    return dataclasses.replace(table, heading=heading)
