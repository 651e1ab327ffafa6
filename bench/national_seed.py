"""A nation's records on one PostgreSQL, written with COPY (no ORM per row): the data of `bench.national`.

Regions: the 31 provinces (their two-digit codes), 11 cities each (340), 8–9 counties per city (~2,800),
4 towns per county; 30,000 mines spread over the towns. Hazards (10,000,000 at `scale` 1), their events
(the chain of steps up to the hazard's status: 1–6 events), and enforcement records (1,000,000), over the
campaign months 2023-09 … 2024-09. Hazards and records are written in date order, as a ledger grows
(ids follow the dates — what a BRIN index on the dates needs). Ids are given in the COPY stream (events
need their hazard's id) and the sequences are reset after it; the tables' plain indexes, unique and
foreign-key constraints are dropped for the load and built again after it (one sorted build each),
then ANALYZE. Regions and mines already there (the migrations' 山西省 / 晋城市 / 泽州县) are kept.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

PROVINCES = [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53,
             54, 61, 62, 63, 64, 65]  # fmt: skip
CITIES_PER_PROVINCE = 11
TOWNS_PER_COUNTY = 4
MINES = 30_000
HAZARDS = 10_000_000
RECORDS = 1_000_000
FIRST_DAY = dt.date(2023, 9, 1)
LAST_DAY = dt.date(2024, 9, 30)
CHUNK = 100_000  # rows per COPY statement
MAJOR_SHARE = 0.05
NULL = "\\N"  # COPY's text format
MARK = "NA-"  # ledger numbers of this bench's hazards
PROBLEMS = ["边坡台阶超高", "爆破警戒点未设标志", "运输道路过窄", "配电箱未接地", "消防器材过期", "有限空间作业未审批"]

# (action, from, to): the steps a hazard went through to reach its status; a hazard of status S has the
# events of its chain up to S.
GENERAL_CHAIN = [
    ("report", "", "reported"),
    ("start_rectification", "reported", "rectifying"),
    ("mark_rectified", "rectifying", "rectified"),
    ("verify", "rectified", "verified"),
]
MAJOR_CHAIN = [
    ("sign_report", "draft", "pending_town"),
    ("town_confirm", "pending_town", "pending_county"),
    ("county_confirm", "pending_county", "confirmed"),
    ("start_rectification", "confirmed", "rectifying"),
    ("request_closure", "rectifying", "closure_requested"),
    ("close", "closure_requested", "closed"),
]
GENERAL_STATUSES = [("reported", 15), ("rectifying", 20), ("rectified", 15), ("verified", 50)]
MAJOR_STATUSES = [
    ("pending_county", 5),
    ("confirmed", 20),
    ("rectifying", 25),
    ("closure_requested", 10),
    ("closed", 40),
]


@dataclass
class Seeded:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    total_seconds: float = 0.0


def _text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        value = json.dumps(value)
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


class Table:
    """A model's COPY stream: the varying columns first (given per row), then every other column's constant."""

    def __init__(self, model: Any, varying: Sequence[str]) -> None:
        from django.utils import timezone

        now = timezone.now().isoformat()
        self.table = model._meta.db_table
        fields = {f.attname: f for f in model._meta.concrete_fields}
        rest = [f for name, f in fields.items() if name not in varying]
        constants = []
        for f in rest:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                constants.append(now)
            elif f.has_default():
                constants.append(_text(f.get_default()))
            else:
                constants.append("\\N" if f.null else "")
        self.columns = [fields[name].column for name in varying] + [f.column for f in rest]
        self.tail = ("\t" + "\t".join(constants) if constants else "") + "\n"

    def copy(self, lines: Iterator[str], *, log: Callable[[str], None], label: str, total: int) -> int:
        """COPY the lines (varying columns, tab-separated) in chunks; returns the rows written."""
        written = 0
        columns = ", ".join(f'"{c}"' for c in self.columns)
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg2's cursor under Django's wrapper
            while True:
                buffer = io.StringIO()
                count = 0
                for line in lines:
                    buffer.write(line)
                    buffer.write(self.tail)
                    count += 1
                    if count == CHUNK:
                        break
                if not count:
                    break
                buffer.seek(0)
                raw.copy_expert(f"COPY {self.table} ({columns}) FROM STDIN", buffer)
                written += count
                if written % (CHUNK * 10) == 0 or written == total:
                    log(f"  … {label}: {written:,} / {total:,}")
        return written


def _next_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608 - model table names  # nosec B608 # constant SQL from model and code names
        return int(cursor.fetchone()[0])


def _reset_sequence(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")  # noqa: S608  # nosec B608 # constant SQL from model and code names


def _strip(table: str) -> list[str]:
    """Drop the table's plain indexes and its unique / foreign-key constraints; returns what rebuilds them."""
    restore: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC",
            [table],
        )
        for name, definition in cursor.fetchall():
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            restore.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND NOT EXISTS ("
            " SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.schemaname) || '.' ||"
            " quote_ident(i.indexname))::regclass)",
            [table],
        )
        for name, definition in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
            restore.insert(0, definition)  # indexes first, then unique, then foreign keys
    return restore


def _days() -> list[dt.date]:
    return [FIRST_DAY + dt.timedelta(days=n) for n in range((LAST_DAY - FIRST_DAY).days + 1)]


def _dated(count: int, rng: random.Random) -> Iterator[dt.date]:
    """`count` dates over the campaign months in order, weekdays busier than weekends."""
    days = _days()
    weights = [1.0 if day.weekday() < 5 else 0.4 for day in days]
    per_day = sorted(rng.choices(range(len(days)), weights=weights, k=count))
    for index in per_day:
        yield days[index]


def _regions(log: Callable[[str], None]) -> tuple[list[int], dict[int, int]]:
    """The region tree; returns the town ids and each town's province code."""
    from portal.models import Region

    existing = {code: (pk, path) for pk, code, path in Region.objects.values_list("id", "code", "path")}
    next_id = _next_id(Region._meta.db_table)
    rows: list[str] = []
    towns: list[int] = []
    province_of: dict[int, int] = {}

    def add(code: str, name: str, level: str, parent: tuple[int, str] | None) -> tuple[int, str]:
        nonlocal next_id
        if code in existing:
            return existing[code]
        pk, path = next_id, f"{parent[1] if parent else '/'}{code}/"
        next_id += 1
        rows.append(f"{pk}\t{code}\t{name}\t{level}\t{parent[0] if parent else NULL}\t{path}")
        return pk, path

    county_number = 0
    for p in PROVINCES:
        province = add(f"{p}0000", f"模拟省{p}", "province", None)
        cities = CITIES_PER_PROVINCE - (1 if p == PROVINCES[-1] else 0)
        for c in range(1, cities + 1):
            city = add(f"{p}{c:02d}00", f"模拟市{p}{c:02d}", "city", province)
            for k in range(1, 9 + (1 if c % 4 == 0 else 0)):
                county_number += 1
                code = f"{p}{c:02d}{k:02d}"
                county = add(code, f"模拟县{code}", "county", city)
                for t in range(1, TOWNS_PER_COUNTY + 1):
                    town = add(f"{code}{t:03d}", f"模拟镇{code}{t:03d}", "town", county)
                    towns.append(town[0])
                    province_of[town[0]] = p
    table = Table(Region, ["id", "code", "name", "level", "parent_id", "path"])
    table.copy(iter(line for line in rows), log=log, label="regions", total=len(rows))
    _reset_sequence(Region._meta.db_table)
    log(f"  regions: {len(rows):,} new ({county_number:,} counties)")
    return towns, province_of


def _enterprises(towns: list[int], rng: random.Random, log: Callable[[str], None]) -> list[tuple[int, int]]:
    """30,000 mines; returns (id, town id) of each."""
    from portal.models import Enterprise

    first = _next_id(Enterprise._meta.db_table)
    industries = ["open_pit", "quarry", "underground", "tailings", "exploration", "other"]
    weights = [40, 25, 15, 10, 5, 5]
    statuses = ["producing", "building", "suspended", "halted", "closed"]
    placed = [(first + n, rng.choice(towns)) for n in range(MINES)]

    def lines() -> Iterator[str]:
        for pk, town in placed:
            industry = rng.choices(industries, weights=weights)[0]
            status = rng.choices(statuses, weights=[70, 8, 15, 4, 3])[0]
            expiry = FIRST_DAY + dt.timedelta(days=rng.randrange(1, 1500))
            yield f"{pk}\t模拟矿山{pk}\t91{pk:016d}\t{town}\t{industry}\t{status}\t{rng.choice('ABCD')}\t{expiry}"

    table = Table(
        Enterprise,
        ["id", "name", "credit_code", "town_id", "industry", "production_status", "risk_grade", "license_expiry"],
    )
    table.copy(lines(), log=log, label="enterprises", total=MINES)
    _reset_sequence(Enterprise._meta.db_table)
    return placed


def _pick(options: Sequence[tuple[str, int]], rng: random.Random) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _hazards(
    count: int, mines: list[tuple[int, int]], rng: random.Random, log: Callable[[str], None]
) -> tuple[int, int]:
    """`count` hazards in date order and their events; returns (hazards, events)."""
    from hazards.choices import HazardCategory, HazardSource
    from hazards.models import Hazard, HazardEvent, MajorHazardCriterion

    criteria = list(MajorHazardCriterion.objects.values_list("id", flat=True)[:40])
    first = _next_id(Hazard._meta.db_table)
    first_event = _next_id(HazardEvent._meta.db_table)
    categories = [c.value for c in HazardCategory]
    sources = [c.value for c in HazardSource]
    events: list[str] = []
    event_id = first_event

    def hazard_lines() -> Iterator[str]:
        nonlocal event_id
        for n, found in enumerate(_dated(count, rng)):
            pk = first + n
            enterprise = mines[rng.randrange(len(mines))][0]
            major = rng.random() < MAJOR_SHARE
            status = _pick(MAJOR_STATUSES if major else GENERAL_STATUSES, rng)
            chain = MAJOR_CHAIN if major else GENERAL_CHAIN
            done = status in ("rectified", "verified", "closure_requested", "closed")
            rectified = found + dt.timedelta(days=rng.randrange(1, 40)) if done else None
            closed = (
                rectified + dt.timedelta(days=rng.randrange(0, 10))
                if rectified and status in ("verified", "closed")
                else None
            )
            deadline = found + dt.timedelta(days=rng.choice((15, 30, 60)))
            supervised = "county" if major and rng.random() < 0.3 else ""
            number = f"{MARK}{pk:08d}"
            yield (
                f"{pk}\t{enterprise}\t{number}\tno:{number}\t{PROBLEMS[n % len(PROBLEMS)]}（{n}）\t"
                f"{categories[n % len(categories)]}\t{'major' if major else 'general'}\t"
                f"{rng.choice(criteria) if major and criteria else NULL}\t{found}\t{sources[n % len(sources)]}\t"
                f"按规定整改并复查\t{deadline}\t{deadline}\t{status}\t{rectified or NULL}\t{closed or NULL}\t"
                f"{supervised}\t{rng.randrange(10, 5000) / 100:.2f}"
            )
            moment = dt.datetime.combine(found, dt.time(9), tzinfo=dt.UTC)
            for step, (action, before, after) in enumerate(chain):
                events.append(f"{event_id}\t{pk}\t{moment + dt.timedelta(days=step * 3)}\t{action}\t{before}\t{after}")
                event_id += 1
                if after == status:
                    break

    def event_lines() -> Iterator[str]:
        while events:
            batch = events[:]
            events.clear()
            yield from batch

    hazard_table = Table(
        Hazard,
        [
            "id",
            "enterprise_id",
            "ledger_number",
            "identity_key",
            "description",
            "category",
            "level",
            "criterion_id",
            "found_on",
            "source",
            "measures",
            "deadline",
            "current_deadline",
            "status",
            "rectified_on",
            "closed_on",
            "supervision_level",
            "funds_wan",
        ],
    )
    event_table = Table(HazardEvent, ["id", "hazard_id", "created_at", "action", "from_status", "to_status"])
    # Hazards and their events chunk by chunk: the events of a chunk are written right after it.
    source = hazard_lines()
    written = 0
    while written < count:
        size = min(CHUNK * 5, count - written)
        chunk = (next(source) for _ in range(size))
        written += hazard_table.copy(chunk, log=lambda m: None, label="hazards", total=count)
        event_table.copy(event_lines(), log=lambda m: None, label="events", total=0)
        log(f"  … hazards: {written:,} / {count:,} (events {event_id - first_event:,})")
    _reset_sequence(Hazard._meta.db_table)
    _reset_sequence(HazardEvent._meta.db_table)
    return written, event_id - first_event


def _records(
    count: int,
    mines: list[tuple[int, int]],
    towns_county: dict[int, int],
    campaigns: dict[int, list[int]],
    province_of: dict[int, int],
    rng: random.Random,
    log: Callable[[str], None],
) -> int:
    """`count` enforcement records of every kind in date order, 80 % issued by the mine's town, 20 % by its county."""
    from inspections.choices import EnforcementKind
    from inspections.models import EnforcementRecord

    first = _next_id(EnforcementRecord._meta.db_table)
    parent_kinds = {"talk_parent", "interview_parent", "interview_parent_leader"}
    kinds = [k.value for k in EnforcementKind if k.value not in parent_kinds]
    fines = {EnforcementKind.PENALTY_ENTERPRISE.value, EnforcementKind.PENALTY_PRINCIPAL.value}

    def lines() -> Iterator[str]:
        for n, day in enumerate(_dated(count, rng)):
            enterprise, town = mines[rng.randrange(len(mines))]
            kind = kinds[n % len(kinds)]
            unit = town if rng.random() < 0.8 else towns_county[town]
            amount = f"{rng.randrange(50, 3000) / 100:.2f}" if kind in fines else NULL
            options = campaigns.get(province_of[town], [])
            campaign = rng.choice(options) if options and rng.random() < 0.1 else NULL
            yield f"{first + n}\t{kind}\t{day}\t{unit}\t{enterprise}\t对象{n % 211}\t{amount}\t{campaign}"

    table = Table(
        EnforcementRecord,
        ["id", "kind", "date", "issuing_unit_id", "enterprise_id", "person_name", "amount", "campaign_id"],
    )
    written = table.copy(lines(), log=log, label="enforcement records", total=count)
    _reset_sequence(EnforcementRecord._meta.db_table)
    return written


def seed(*, scale: float, log: Callable[[str], None]) -> Seeded:
    """The nation at `scale` (hazards, events and records scaled; regions and mines always whole)."""
    from bench.reports import ensure_campaigns
    from hazards.models import Hazard, HazardEvent
    from inspections.models import EnforcementRecord
    from portal.models import Region

    rng = random.Random(20240501)  # noqa: S311 - deterministic bench data  # nosec B311 # bench data
    result = Seeded()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '256MB'")
    step = time.perf_counter()
    towns, province_of = _regions(log)
    towns_county = dict(Region.objects.filter(level="town").values_list("id", "parent_id"))
    result.seconds["regions"] = time.perf_counter() - step
    result.rows["regions"] = Region.objects.count()
    provinces = list(Region.objects.filter(level="province", code__in=[f"{p}0000" for p in PROVINCES]))
    ensure_campaigns(provinces)  # each province issues the two campaigns (62 rows through the ORM)
    from inspections.models import Campaign

    campaigns: dict[int, list[int]] = {}
    for pk, code in Campaign.objects.filter(issuing_region__in=provinces).values_list("id", "issuing_region__code"):
        campaigns.setdefault(int(code[:2]), []).append(pk)
    step = time.perf_counter()
    mines = _enterprises(towns, rng, log)
    result.seconds["enterprises"] = time.perf_counter() - step
    result.rows["enterprises"] = len(mines)

    tables = [Hazard._meta.db_table, HazardEvent._meta.db_table, EnforcementRecord._meta.db_table]
    restore = [statement for table in tables for statement in _strip(table)]
    step = time.perf_counter()
    hazards, events = _hazards(round(HAZARDS * scale), mines, rng, log)
    result.seconds["hazards + events"] = time.perf_counter() - step
    result.rows["hazards"], result.rows["events"] = hazards, events
    step = time.perf_counter()
    result.rows["enforcement records"] = _records(
        round(RECORDS * scale), mines, towns_county, campaigns, province_of, rng, log
    )
    result.seconds["enforcement records"] = time.perf_counter() - step
    step = time.perf_counter()
    log(f"  … building {len(restore)} indexes and constraints again")
    with connection.cursor() as cursor:
        for statement in sorted(restore, key=lambda s: "FOREIGN KEY" in s):  # indexes before foreign keys
            cursor.execute(statement)
    result.seconds["indexes + constraints"] = time.perf_counter() - step
    step = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # statistics and the visibility map, as a table in service has them
    result.seconds["vacuum analyze"] = time.perf_counter() - step
    result.total_seconds = time.perf_counter() - started
    return result
