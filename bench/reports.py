"""月度报表 at county and province scale: both tables, next to the raw SQL aggregate of the same figures.

Data (bench only, written with bulk_create on top of `portal.demo`'s scales; idempotent per county):
each county gets the two seeded campaigns (a copy of 泽州县's, as if every county issued the same
notices), and, per 300 enterprises, 50,000 hazards (5 % major, dates from 2023-09 to 2024-09, the
statuses of a real ledger), 5,000 enforcement records of every kind (80 % issued by the enterprise's
town, 20 % by the county; a tenth tagged with a campaign), 1,500 inspections and 40 督查组.

Figures, for 泽州县 (300 enterprises, 50,000 hazards, 5,000 enforcement records):

- `figures`: the table computed from the records (`reporting.figures.compute_table`);
- `xlsx` / `pdf`: the whole file as the worker and the shell command build it (campaign lookup,
  figures, builder);
- `pdf floor` (winter table only): the 重大隐患明细 cells as a bare WeasyPrint table (bench/pdf_floor.py),
  rendered interleaved with the real PDF (`compare_with_floor`: `--reps` renders each, at least 5 and at
  most 9, garbage collected before each, medians of CPU time); target: the real PDF within 1.3× its CPU
  time (issue 14 §4);
- `raw SQL`: hand-written SQL computing the same cells (one statement per source table, CASE
  expressions, plus the 重大隐患明细 rows), run through the same connection — the floor. The bench
  checks that it gives the same numbers as the portal.

Time is the median of `reps` runs (after one warm-up; the functions interleaved so that they share the
machine's load), wall clock and CPU time of this process (on SQLite the database work is in-process,
so CPU time is what the code costs whatever else the machine is doing); queries are counted on a
separate run, peak memory is tracemalloc's peak over one run (Python allocations). The raw SQL ratio
is taken on CPU time.

Province: both tables for every county of 山西省 (117), each with its own campaign — the side-by-side
roll-up of a city's or the province's page, computed with grouped queries (`compute_rollup`: one
query per source table for all counties whose campaigns share a period); and, for comparison, the
same computed one county at a time as a single table is (with its 重大隐患明细).

Targets (issue 5): a county's Excel under 1 s and under 20 queries, its figures within 3× of the raw
SQL floor; the province roll-up under 10 s.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bench.harness import ensure_scale, format_table, save_json
from bench.pdf_floor import TARGET_RATIO as PDF_FLOOR_RATIO
from bench.pdf_floor import compare_with_floor, render_floor

NAME = "reports"
COUNTY_CODE = "140525"
HAZARDS_PER_300 = 50_000
RECORDS_PER_300 = 5_000
INSPECTIONS_PER_300 = 1_500
TEAMS_PER_COUNTY = 40
MAJOR_SHARE = 0.05
BATCH = 5_000
MARK = "BR-"  # ledger numbers of bench hazards
PROBLEMS = ["边坡台阶超高", "爆破警戒点未设标志", "运输道路过窄", "配电箱未接地", "消防器材过期"]

ACC_MONTH = dt.date(2024, 5, 1)
WINTER_MONTH = dt.date(2023, 12, 1)
FIRST_DAY = dt.date(2023, 9, 1)
LAST_DAY = dt.date(2024, 9, 30)

COUNTY_XLSX_SECONDS = 1.0
COUNTY_QUERIES = 20
RAW_RATIO = 3.0
PROVINCE_SECONDS = 10.0
# Timed renders each of the winter PDF and of its floor (about 3 s each), interleaved: `--reps`, within these.
PDF_REPS = (5, 9)


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


def _campaign_templates() -> list[Any]:
    from inspections.models import Campaign

    return list(
        Campaign.objects.filter(
            issuing_region__code=COUNTY_CODE, document_number__in=["泽应急发〔2024〕83号", "泽应急发〔2023〕331号"]
        ).prefetch_related("deliverables")
    )


def ensure_campaigns(counties: list[Any]) -> None:
    """Every county issues the two campaigns (the seeded ones of 泽州县, copied as data)."""
    from inspections.models import Campaign, Deliverable

    templates = _campaign_templates()
    if len(templates) != 2:
        raise RuntimeError("the seeded campaigns of 泽州县 are missing (inspections migration 0002)")
    have = set(
        Campaign.objects.filter(document_number__in=[t.document_number for t in templates]).values_list(
            "issuing_region_id", "document_number"
        )
    )
    for county in counties:
        for template in templates:
            if (county.pk, template.document_number) in have:
                continue
            copy = Campaign.objects.create(
                name=template.name,
                document_number=template.document_number,
                document_title=template.document_title,
                issuing_region=county,
                issuing_authority=f"{county.name}应急管理局",
                start_date=template.start_date,
                end_date=template.end_date,
            )
            Deliverable.objects.bulk_create(
                [
                    Deliverable(
                        campaign=copy,
                        order=d.order,
                        name=d.name,
                        submitter=d.submitter,
                        recipients=d.recipients,
                        kind=d.kind,
                        schedule=d.schedule,
                        due_date=d.due_date,
                        day_of_month=d.day_of_month,
                        table=d.table,
                    )
                    for d in template.deliverables.all()
                ]
            )


def fast_insert(model: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT … VALUES through executemany: bench data by the hundred thousand, without model instances.

    Columns not given take the field's default (computed once); auto_now fields take now.
    """
    if not rows:
        return
    from django.utils import timezone

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    constants: dict[str, Any] = {}
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            constants[f.attname] = f.get_db_prep_save(now, connection)
        elif f.has_default() or f.null or f.blank:
            constants[f.attname] = f.get_db_prep_save(f.get_default(), connection)
    decimals = {f.attname for f in fields if f.get_internal_type() == "DecimalField"}
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608 - names from the model  # nosec B608 # names from the model
    names = [f.attname for f in fields]

    def value(row: dict[str, Any], name: str) -> Any:
        if name in row:
            item = row[name]
            return str(item) if name in decimals and item is not None else item
        return constants[name]

    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, [[value(row, name) for name in names] for row in rows[start : start + BATCH]])


def _seeded_counties() -> set[int]:
    from hazards.models import Hazard

    counties = (
        Hazard.objects.filter(ledger_number__startswith=MARK)
        .values_list("enterprise__town__parent_id", flat=True)
        .distinct()
    )
    return {pk for pk in counties if pk is not None}


def _day(rng: random.Random) -> dt.date:
    return FIRST_DAY + dt.timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days + 1))


def seed_county(county: Any, *, log: Callable[[str], None]) -> dict[str, int]:
    """Hazards, enforcement records, inspections and teams for one county, at the county density."""
    from hazards.choices import HazardCategory, HazardLevel, HazardSource, HazardStatus
    from hazards.models import Hazard
    from hazards.models import MajorHazardCriterion as Criterion
    from inspections.choices import EnforcementKind, InspectionMethod
    from inspections.models import Campaign, EnforcementRecord, Inspection, InspectionTeam
    from portal.models import Enterprise, Region

    rng = random.Random(f"reports-bench-{county.code}")  # noqa: S311 - deterministic bench data  # nosec B311 # bench data
    enterprises = list(Enterprise.objects.filter(town__parent=county).values_list("id", "town_id", "parent_company_id"))
    if not enterprises:
        return {"hazards": 0, "records": 0}
    towns = list(Region.objects.filter(parent=county).values_list("id", flat=True))
    campaigns = list(Campaign.objects.filter(issuing_region=county).values_list("id", flat=True))
    criteria = list(Criterion.objects.values_list("id", flat=True)[:20])
    factor = len(enterprises) / 300
    n_hazards = round(HAZARDS_PER_300 * factor)
    n_records = round(RECORDS_PER_300 * factor)
    categories = [c.value for c in HazardCategory]
    sources = [c.value for c in HazardSource]
    general_statuses = [
        (HazardStatus.REPORTED, 15),
        (HazardStatus.RECTIFYING, 20),
        (HazardStatus.RECTIFIED, 15),
        (HazardStatus.VERIFIED, 50),
    ]
    major_statuses = [
        (HazardStatus.PENDING_COUNTY, 5),
        (HazardStatus.CONFIRMED, 20),
        (HazardStatus.RECTIFYING, 25),
        (HazardStatus.CLOSURE_REQUESTED, 10),
        (HazardStatus.CLOSED, 40),
    ]

    def pick(options: Sequence[tuple[str, int]]) -> str:
        return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]

    batch: list[dict[str, Any]] = []
    for index in range(n_hazards):
        enterprise_id, _, _ = enterprises[index % len(enterprises)]
        major = bool(criteria) and rng.random() < MAJOR_SHARE
        status = pick(major_statuses if major else general_statuses)
        found = _day(rng)
        done = status in (
            HazardStatus.RECTIFIED,
            HazardStatus.VERIFIED,
            HazardStatus.CLOSURE_REQUESTED,
            HazardStatus.CLOSED,
        )
        rectified = found + dt.timedelta(days=rng.randrange(1, 40)) if done else None
        closed = (
            rectified + dt.timedelta(days=rng.randrange(0, 10))
            if rectified and status in (HazardStatus.VERIFIED, HazardStatus.CLOSED)
            else None
        )
        deadline = found + dt.timedelta(days=rng.choice((15, 30, 60)))
        supervised = major and rng.random() < 0.3
        number = f"{MARK}{county.code}-{index:06d}"
        batch.append(
            {
                "enterprise_id": enterprise_id,
                "ledger_number": number,
                "identity_key": f"no:{number}",
                "description": f"基准测试隐患{index}：{rng.choice(PROBLEMS)}，需按规定整改。",
                "location": rng.choice(["采场", "破碎站", "运输道路", "配电室", "炸药库"]),
                "category": rng.choice(categories),
                "level": HazardLevel.MAJOR.value if major else HazardLevel.GENERAL.value,
                "criterion_id": rng.choice(criteria) if major else None,
                "found_on": found,
                "source": rng.choice(sources),
                "measures": "按规定整改并复查",
                "responsible_unit": "企业安全管理部门",
                "responsible_person": f"责任人{index % 97}",
                "funds_wan": Decimal(rng.randrange(10, 5000)) / 100,
                "deadline": deadline,
                "current_deadline": deadline,
                "status": str(status),
                "rectified_on": rectified,
                "closed_on": closed,
                "supervision_level": "county" if supervised else "",
                "supervision_unit": f"{county.name}应急管理局" if supervised else "",
            }
        )
    fast_insert(Hazard, batch)

    kinds = [k.value for k in EnforcementKind]
    fines = {EnforcementKind.PENALTY_ENTERPRISE, EnforcementKind.PENALTY_PRINCIPAL}
    parent_kinds = {
        EnforcementKind.TALK_PARENT,
        EnforcementKind.INTERVIEW_PARENT,
        EnforcementKind.INTERVIEW_PARENT_LEADER,
    }
    with_parent = [e for e in enterprises if e[2] is not None]
    records: list[dict[str, Any]] = []
    for index in range(n_records):
        kind = kinds[index % len(kinds)]
        enterprise_id, town_id, parent_id = enterprises[rng.randrange(len(enterprises))]
        if kind in parent_kinds:
            if not with_parent:
                kind = EnforcementKind.TALK_ENTERPRISE
            else:
                enterprise_id, town_id, parent_id = rng.choice(with_parent)
        records.append(
            {
                "kind": str(kind),
                "date": _day(rng),
                "issuing_unit_id": town_id if rng.random() < 0.8 else county.pk,
                "enterprise_id": None if kind in parent_kinds else enterprise_id,
                "parent_company_id": parent_id if kind in parent_kinds else None,
                "person_name": f"对象{index % 211}",
                "amount": Decimal(rng.randrange(50, 3000)) / 100 if kind in fines else None,
                "campaign_id": rng.choice(campaigns) if campaigns and rng.random() < 0.1 else None,
            }
        )
    fast_insert(EnforcementRecord, records)

    methods = [m.value for m in InspectionMethod]
    inspections: list[dict[str, Any]] = []
    for _ in range(round(INSPECTIONS_PER_300 * factor)):
        enterprise_id, town_id, _ = enterprises[rng.randrange(len(enterprises))]
        inspections.append(
            {
                "enterprise_id": enterprise_id,
                "unit_id": town_id if rng.random() < 0.75 else county.pk,
                "date": _day(rng),
                "method": rng.choice(methods),
                "leader": "检查组长",
            }
        )
    fast_insert(Inspection, inspections)
    if campaigns:
        InspectionTeam.objects.bulk_create(
            [
                InspectionTeam(
                    campaign_id=rng.choice(campaigns),
                    unit_id=rng.choice([*towns, county.pk]),
                    name=f"第{i + 1}督查组",
                    leader="组长",
                    formed_on=_day(rng),
                )
                for i in range(TEAMS_PER_COUNTY)
            ]
        )
    return {"hazards": n_hazards, "records": n_records}


def ensure_data(counties: list[Any], *, log: Callable[[str], None]) -> float:
    started = time.perf_counter()
    done = _seeded_counties()
    missing = [county for county in counties if county.pk not in done]
    if not missing:
        return 0.0
    with transaction.atomic():
        ensure_campaigns(counties)
        totals = {"hazards": 0, "records": 0}
        for number, county in enumerate(missing, start=1):
            counts = seed_county(county, log=log)
            totals["hazards"] += counts["hazards"]
            totals["records"] += counts["records"]
            if number % 20 == 0:
                log(f"  … {number}/{len(missing)} counties seeded")
    seconds = time.perf_counter() - started
    log(
        f"Seeded {len(missing)} counties: {totals['hazards']:,} hazards, {totals['records']:,} enforcement records "
        f"in {seconds:.1f} s."
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return seconds


# --------------------------------------------------------------------------------------------
# The raw SQL floor
# --------------------------------------------------------------------------------------------


# The region as `IN (ids)` subqueries, as the portal's queries give it: the database drives from the
# region's units or enterprises (their indexes) instead of a date range over the whole province.
UNITS = "(SELECT id FROM portal_region WHERE path LIKE %s)"
ENTS = "(SELECT id FROM portal_enterprise WHERE town_id IN (SELECT id FROM portal_region WHERE path LIKE %s))"


def _in(kinds: list[str]) -> str:
    return "(" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def check_same_as_floor(same: bool, *, kind: str, rows: int, log: Callable[[str], None]) -> None:
    """The raw SQL floor is a baseline only if it computed the same cells (and 明细 rows): fail otherwise."""
    from bench.harness import BaselineError

    if not same:
        log(f"  ✗ baseline raw SQL for {kind}: different cells or 明细 rows than the portal's table")
        raise BaselineError(f"raw SQL floor of {kind} computed other numbers than the table")
    log(f"  ✓ baseline raw SQL for {kind}: the same cells, {rows} 明细 rows")


def raw_accountability(scope: Any) -> dict[str, Any]:
    from inspections.choices import ACCOUNTABILITY_COLUMNS, ACCOUNTABILITY_TABLE, Measure, kinds_for_column

    parts, keys = [], []
    for column in ACCOUNTABILITY_COLUMNS:
        condition = f"e.kind IN {_in(kinds_for_column(column.key, ACCOUNTABILITY_TABLE))}"
        if column.measure == Measure.DISTINCT_PARENTS:
            parts.append(f"COUNT(DISTINCT CASE WHEN {condition} THEN e.parent_company_id END)")
        elif column.measure == Measure.DISTINCT_ENTERPRISES:
            parts.append(f"COUNT(DISTINCT CASE WHEN {condition} THEN e.enterprise_id END)")
        else:
            parts.append(f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)")
        if column.amount_unit:
            keys.append(f"{column.key}_count")
            parts.append(f"COALESCE(SUM(CASE WHEN {condition} THEN e.amount END), 0)")
            keys.append(f"{column.key}_amount")
        else:
            keys.append(column.key)
    # The SQL text is built from the code's own constants (kinds of inspections.choices); values are parameters.
    sql = (
        f"SELECT {', '.join(parts)} FROM inspections_enforcementrecord e "  # noqa: S608  # nosec B608 # constant SQL
        f"WHERE e.issuing_unit_id IN {UNITS} AND e.date BETWEEN %s AND %s "
        "AND (e.campaign_id = %s OR e.campaign_id IS NULL)"
    )
    period = scope.period
    with connection.cursor() as cursor:
        cursor.execute(sql, [scope.region.path + "%", period.cumulative_start, period.end, scope.campaign.pk])
        row = cursor.fetchone()
    return {
        key: (Decimal(value).quantize(Decimal("0.01")) if key.endswith("_amount") else int(value or 0))
        for key, value in zip(keys, row, strict=True)
    }


def raw_winter(scope: Any) -> tuple[dict[str, Any], int]:
    """The 24 cells of the winter table and the 重大隐患明细 rows, in five statements."""
    from inspections.choices import WINTER_ENFORCEMENT_COLUMNS, WINTER_TABLE, Measure, kinds_for_column

    period = scope.period
    path = scope.region.path + "%"
    start, month_start, end, campaign = period.cumulative_start, period.start, period.end, scope.campaign.pk
    cells: dict[str, Any] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), SUM(CASE WHEN t.formed_on >= %s THEN 1 ELSE 0 END) FROM inspections_inspectionteam t "  # noqa: S608  # nosec B608 # constant SQL
            f"WHERE t.unit_id IN {UNITS} AND t.campaign_id = %s AND t.formed_on BETWEEN %s AND %s",
            [month_start, path, campaign, start, end],
        )
        total, month = cursor.fetchone()
        cells["cumulative.teams"], cells["month.teams"] = int(total or 0), int(month or 0)
        cursor.execute(
            "SELECT COUNT(DISTINCT i.enterprise_id), COUNT(DISTINCT CASE WHEN i.date >= %s THEN i.enterprise_id END) "  # noqa: S608  # nosec B608 # constant SQL
            f"FROM inspections_inspection i WHERE i.unit_id IN {UNITS} "
            "AND i.date BETWEEN %s AND %s AND (i.campaign_id = %s OR i.campaign_id IS NULL)",
            [month_start, path, start, end, campaign],
        )
        total, month = cursor.fetchone()
        cells["cumulative.enterprises_inspected"], cells["month.enterprises_inspected"] = int(total), int(month)
        general_done = "h.level = 'general' AND h.status IN ('rectified', 'verified') AND h.rectified_on <= %s"
        major_done = "h.level = 'major' AND h.status = 'closed' AND h.closed_on <= %s"
        cursor.execute(
            "SELECT "  # noqa: S608 - constant SQL; values are parameters  # nosec B608 # constant SQL
            "SUM(CASE WHEN h.level = 'general' THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN {general_done} THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN h.level = 'major' THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN {major_done} THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN h.level = 'general' AND h.found_on >= %s THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN {general_done} AND h.found_on >= %s THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN h.level = 'major' AND h.found_on >= %s THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN {major_done} AND h.found_on >= %s THEN 1 ELSE 0 END) "
            f"FROM hazards_hazard h WHERE h.enterprise_id IN {ENTS} "
            "AND h.found_on BETWEEN %s AND %s AND h.status <> 'draft'",
            [end, end, month_start, end, month_start, month_start, end, month_start, path, start, end],
        )
        values = [int(v or 0) for v in cursor.fetchone()]
        for prefix, chunk in (("cumulative", values[:4]), ("month", values[4:])):
            for key, value in zip(
                ("general_found", "general_rectified", "major_found", "major_rectified"), chunk, strict=True
            ):
                cells[f"{prefix}.{key}"] = value
        parts, keys = [], []
        for column in WINTER_ENFORCEMENT_COLUMNS:
            condition = f"e.kind IN {_in(kinds_for_column(column.key, WINTER_TABLE))}"
            for prefix, extra in (("cumulative", ""), ("month", " AND e.date >= %s")):
                if column.measure == Measure.DISTINCT_ENTERPRISES:
                    parts.append(f"COUNT(DISTINCT CASE WHEN {condition}{extra} THEN e.enterprise_id END)")
                elif column.measure == Measure.AMOUNT:
                    parts.append(f"COALESCE(SUM(CASE WHEN {condition}{extra} THEN e.amount END), 0)")
                else:
                    parts.append(f"SUM(CASE WHEN {condition}{extra} THEN 1 ELSE 0 END)")
                keys.append((f"{prefix}.{column.key}", column.measure == Measure.AMOUNT, bool(extra)))
        params: list[Any] = [month_start for _, _, monthly in keys if monthly]
        cursor.execute(
            f"SELECT {', '.join(parts)} FROM inspections_enforcementrecord e "  # noqa: S608 - kinds from the code  # nosec B608 # constant SQL
            f"WHERE e.issuing_unit_id IN {UNITS} AND e.date BETWEEN %s AND %s "
            "AND (e.campaign_id = %s OR e.campaign_id IS NULL)",
            [*params, path, start, end, campaign],
        )
        for (key, amount, _), value in zip(keys, cursor.fetchone(), strict=True):
            cells[key] = Decimal(value or 0).quantize(Decimal("0.01")) if amount else int(value or 0)
        cursor.execute(
            "SELECT h.id, h.description, h.location, h.status, h.found_on, h.measures, h.funds_wan, "  # noqa: S608  # nosec B608 # constant SQL
            "h.current_deadline, h.responsible_unit, h.responsible_person, h.supervision_unit, h.closed_on, "
            "n.name, n.industry, t.name "
            "FROM hazards_hazard h JOIN portal_enterprise n ON n.id = h.enterprise_id "
            "JOIN portal_region t ON t.id = n.town_id "
            f"WHERE h.enterprise_id IN {ENTS} AND h.found_on BETWEEN %s AND %s "
            "AND h.status <> 'draft' AND h.level = 'major' ORDER BY t.code, n.name, h.found_on, h.id",
            [path, start, end],
        )
        lines = len(cursor.fetchall())
    return cells, lines


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


@dataclass
class Figure:
    seconds: float  # median wall time
    cpu: float  # median CPU time of this process (SQLite runs in-process: load from other processes aside)
    queries: int
    peak_mib: float
    result: Any = None


def figure_json(figure: Figure) -> dict[str, Any]:
    return {
        "seconds": figure.seconds,
        "cpu_seconds": figure.cpu,
        "queries": figure.queries,
        "peak_mib": figure.peak_mib,
    }


def count(function: Callable[[], Any]) -> tuple[int, float, Any]:
    """Queries, peak MiB (tracemalloc, a run of its own) and the result of one run each."""
    with CaptureQueriesContext(connection) as captured:
        result = function()
    queries = len(captured.captured_queries)
    tracemalloc.start()
    function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return queries, peak / (1024 * 1024), result


def measure(functions: dict[str, Callable[[], Any]], reps: int, *, warmup: bool = True) -> dict[str, Figure]:
    """Queries and peak memory on a separate run each; then `reps` timed runs, interleaved (round robin,
    rotating who goes first) so that the functions share the machine's load alike."""
    counted: dict[str, tuple[int, float, Any]] = {}
    for name, function in functions.items():
        if warmup:
            function()
        counted[name] = count(function)
    names = list(functions)
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(reps):
        for offset in range(len(names)):
            name = names[(rep + offset) % len(names)]
            started, started_cpu = time.perf_counter(), time.process_time()
            functions[name]()
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - started_cpu)
    return {name: Figure(statistics.median(wall[name]), statistics.median(cpu[name]), *counted[name]) for name in names}


def run(*, reps: int, log: Callable[[str], None] = print) -> dict[str, Any]:
    from hazards.models import Hazard
    from inspections.models import EnforcementRecord
    from portal.models import Enterprise, Region
    from reporting import selectors
    from reporting.builders.pdf import build_pdf, lists_of
    from reporting.builders.xlsx import build_xlsx
    from reporting.choices import ReportKind
    from reporting.figures import compute_rollup, compute_table

    pdf_reps = max(PDF_REPS[0], min(reps, PDF_REPS[1]))
    reps = max(3, min(reps, 10))
    ensure_scale("county")
    county = Region.objects.get(code=COUNTY_CODE)
    ensure_data([county], log=log)
    enterprises = Enterprise.objects.filter(town__parent=county).count()
    hazards = Hazard.objects.filter(enterprise__town__parent=county).count()
    records = EnforcementRecord.objects.filter(issuing_unit__path__startswith=county.path).count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    log(
        f"泽州县: {enterprises} enterprises, {hazards:,} hazards, {records:,} enforcement records; "
        f"median of {reps} runs. Load average {load:.1f} on {os.cpu_count()} CPUs: wall time includes waiting for "
        "the CPU when the machine is busy; CPU time does not."
    )

    rows: list[list[Any]] = []
    results: dict[str, Any] = {"county": {}, "province": {}}
    ok = True
    for kind, month, raw in (
        (ReportKind.ACCOUNTABILITY, ACC_MONTH, raw_accountability),
        (ReportKind.WINTER, WINTER_MONTH, raw_winter),
    ):
        scope = selectors.scope_for(kind=kind, region=county, month=month)

        def figures(kind: str = kind, scope: Any = scope) -> Any:
            return compute_table(kind, scope)

        def xlsx(kind: str = kind, month: dt.date = month) -> bytes:
            return build_xlsx(compute_table(kind, selectors.scope_for(kind=kind, region=county, month=month)))

        def floor(raw: Callable[[Any], Any] = raw, scope: Any = scope) -> Any:
            return raw(scope)

        got = measure({"figures": figures, "xlsx": xlsx, "raw": floor}, reps)
        table = got["figures"].result
        raw_cells = got["raw"].result if kind == ReportKind.ACCOUNTABILITY else got["raw"].result[0]
        same = table.cells() == raw_cells
        if kind == ReportKind.WINTER:
            same = same and got["raw"].result[1] == len(table.major_hazards)
        detail_rows = len(table.major_hazards) if kind == ReportKind.WINTER else 0  # none in the accountability table
        check_same_as_floor(same, kind=kind, rows=detail_rows, log=log)

        def pdf_file(table: Any = table) -> bytes:
            return build_pdf(table)

        pdf_floor: Figure | None = None
        if kind == ReportKind.WINTER:
            # The 明细 list against WeasyPrint's floor (bench/pdf_floor.py), interleaved in the same run.
            major = lists_of(table)[0]

            def floor_file(major: Any = major) -> bytes:
                return render_floor(major.columns, major.widths, major.rows)

            compared = compare_with_floor(pdf_file, floor_file, reps=pdf_reps)
            log(compared.summary())
            pdf = Figure(
                statistics.median(compared.document_wall), statistics.median(compared.document_cpu), *count(pdf_file)
            )
            pdf_floor = Figure(
                statistics.median(compared.floor_wall), statistics.median(compared.floor_cpu), *count(floor_file)
            )
        else:
            pdf = measure({"pdf": pdf_file}, 1, warmup=False)["pdf"]
        raw_fig = got["raw"]
        ratio = got["figures"].cpu / raw_fig.cpu if raw_fig.cpu else float("inf")
        xlsx_fig = got["xlsx"]
        structural = same and xlsx_fig.queries < COUNTY_QUERIES and ratio <= RAW_RATIO
        kind_ok = structural and xlsx_fig.seconds < COUNTY_XLSX_SECONDS
        cpu_ok = structural and xlsx_fig.cpu < COUNTY_XLSX_SECONDS
        verdict = f"{'✓' if kind_ok else '✗'} wall, {'✓' if cpu_ok else '✗'} CPU"
        ok = ok and kind_ok
        label = ReportKind(kind).label
        extra = f"（明细 {len(table.major_hazards)} 行）" if kind == ReportKind.WINTER else ""

        def line(title: str, what: str, fig: Figure, versus: str, target: str) -> list[Any]:
            return [
                title,
                what,
                fig.queries,
                f"{fig.seconds * 1000:.0f}",
                f"{fig.cpu * 1000:.0f}",
                f"{fig.peak_mib:.1f}",
                versus,
                target,
            ]

        rows.append(line(f"{label}{extra}", "figures", got["figures"], f"{ratio:.2f}×", ""))
        rows.append(
            line(
                "", "xlsx (lookup + figures + file)", xlsx_fig, f"{xlsx_fig.cpu / raw_fig.cpu:.2f}×",
                verdict + ("" if same else "; numbers differ from raw SQL"),
            )
        )  # fmt: skip
        if pdf_floor is None:
            rows.append(line("", "pdf (from the figures)", pdf, "", "not a target"))
        else:
            floor_ratio = pdf.cpu / pdf_floor.cpu if pdf_floor.cpu else float("inf")
            pdf_ok = floor_ratio <= PDF_FLOOR_RATIO
            ok = ok and pdf_ok
            rows.append(
                line(
                    "", "pdf (from the figures)", pdf, f"{floor_ratio:.2f}× floor",
                    f"{'✓' if pdf_ok else '✗'} ≤ {PDF_FLOOR_RATIO}× floor (CPU)",
                )
            )  # fmt: skip
            rows.append(line("", "pdf floor (bare table, same cells)", pdf_floor, "1.00× floor", "WeasyPrint floor"))
        rows.append(line("", "raw SQL floor", raw_fig, "1.00×", "same numbers" if same else "DIFFERENT"))
        results["county"][kind] = {
            "figures": figure_json(got["figures"]),
            "xlsx": figure_json(xlsx_fig),
            "pdf": figure_json(pdf),
            **(
                {
                    "pdf_floor": figure_json(pdf_floor),
                    "pdf_vs_floor_cpu": pdf.cpu / pdf_floor.cpu if pdf_floor.cpu else None,
                }
                if pdf_floor
                else {}
            ),
            "raw_sql": figure_json(raw_fig),
            "same_numbers": same,
            "figures_vs_raw_cpu": ratio,
            "ok": kind_ok,
        }
    log("")
    log(format_table(["table", "what", "queries", "wall ms", "CPU ms", "peak MiB", "vs raw SQL (CPU)", "target"], rows))

    # --- province: every county's two tables (the side-by-side roll-up) ---------------------------
    ensure_scale("province")
    counties = list(Region.objects.filter(level="county").order_by("code"))
    ensure_data(counties, log=log)
    total_hazards = Hazard.objects.count()
    total_records = EnforcementRecord.objects.count()

    def rollup() -> int:
        """The province's side by side: both tables of every county (numbers only), grouped queries."""
        cells = 0
        for kind, month in ((ReportKind.ACCOUNTABILITY, ACC_MONTH), (ReportKind.WINTER, WINTER_MONTH)):
            scopes = selectors.scopes_for(kind=kind, regions=counties, month=month)
            tables = compute_rollup(kind, [scope for scope in scopes.values() if not isinstance(scope, str)])
            cells += sum(len(table.cells()) for table in tables.values())
        return cells

    def one_by_one() -> int:
        """The same, one county at a time (as a single table is computed), for comparison."""
        cells = 0
        for each in counties:
            for kind, month in ((ReportKind.ACCOUNTABILITY, ACC_MONTH), (ReportKind.WINTER, WINTER_MONTH)):
                cells += len(compute_table(kind, selectors.scope_for(kind=kind, region=each, month=month)).cells())
        return cells

    started, started_cpu = time.perf_counter(), time.process_time()
    with CaptureQueriesContext(connection) as captured:
        loop_cells = one_by_one()
    loop_s, loop_cpu, loop_q = time.perf_counter() - started, time.process_time() - started_cpu, len(captured)
    roll = measure({"rollup": rollup}, 1)["rollup"]
    roll_s, roll_q, roll_mb, cells = roll.seconds, roll.queries, roll.peak_mib, roll.result
    roll_ok = roll_s < PROVINCE_SECONDS
    ok = ok and roll_ok
    log("")
    log(
        f"Province: {len(counties)} counties, {Enterprise.objects.count():,} enterprises, {total_hazards:,} hazards, "
        f"{total_records:,} enforcement records. Both tables for every county ({cells:,} cells): "
        f"{roll_s:.2f} s (CPU {roll.cpu:.2f} s), {roll_q} queries, peak {roll_mb:.1f} MiB — "
        f"target < {PROVINCE_SECONDS:.0f} s {'✓' if roll_ok else '✗'}. "
        f"One county at a time (each with its 重大隐患明细): {loop_s:.2f} s (CPU {loop_cpu:.2f} s), {loop_q} queries, "
        f"{loop_cells:,} cells."
    )
    results["province"] = {
        "counties": len(counties),
        "hazards": total_hazards,
        "records": total_records,
        "seconds": roll_s,
        "cpu_seconds": roll.cpu,
        "queries": roll_q,
        "peak_mib": roll_mb,
        "ok": roll_ok,
        "one_by_one": {"seconds": loop_s, "cpu_seconds": loop_cpu, "queries": loop_q},
    }
    log(
        f"Targets: county Excel < {COUNTY_XLSX_SECONDS:.0f} s and < {COUNTY_QUERIES} queries, figures within "
        f"{RAW_RATIO:.0f}× of the raw SQL floor (figures row, 'vs raw SQL'), the same numbers as the raw SQL; "
        f"province roll-up < {PROVINCE_SECONDS:.0f} s."
    )
    path = save_json(NAME, results)
    log(f"Results written to {path}")
    return {"ok": ok, **results}
