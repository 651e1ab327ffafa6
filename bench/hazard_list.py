"""隐患台账 at province scale: the hazard list page and the API next to the Django admin changelist.

Data (bench only): on top of `portal.demo`'s province scale (6,000 enterprises in 117 counties), the
hazards table is filled up to BENCH_HAZARDS rows (default 1,000,000 — about 170 per enterprise, so
泽州县's 300 enterprises hold about 50,000) with the statuses of a real ledger (5 % major, each citing a
criterion of its mine type; found over two years; some overdue, some 挂牌督办). Rows already there (from
another bench) count towards the total. PostgreSQL gets them through COPY, SQLite through executemany,
in batches of 100,000, then ANALYZE.

For each viewer and page size (20 and 100), and for one filtered query (major, overdue, in one town for
the county; major and overdue for the province): the query count and the median server time of
`/hazards/` and `/api/v1/hazards/`, and of `/admin/hazards/hazard/` showing the same rows (the admin's
`list_per_page` set to the same size; for the filtered query, the admin filters by level, the only one of
these filters it has):

- county staff of 泽州县 — baseline: the admin changelist as 泽州县's 管理员 (scoped through the same
  `visible_to`, so the same rows);
- a superuser (every hazard of the province) — baseline: the admin changelist as the superuser.

Targets (issue 3): at most 10 queries and a median under 150 ms, for the page and the API.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import random
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connection, transaction

from bench.harness import (
    Case,
    Measurement,
    admin_rows,
    check_baseline,
    ensure_scale,
    format_table,
    logged_in,
    logged_in_verified,
    measure,
    save_json,
)

NAME = "hazard_list"
SCALE = "province"
TARGET_ROWS = int(os.environ.get("BENCH_HAZARDS", "1000000"))
PAGE_SIZES = (20, 100)
QUERY_TARGET = 10
TIME_TARGET_MS = 150.0
BATCH = 100_000
MARK = "BH-"  # ledger numbers of this bench's hazards
LIST_URL = "/hazards/"
API_URL = "/api/v1/hazards/"
ADMIN_URL = "/admin/hazards/hazard/"
FIRST_DAY = dt.date(2024, 1, 1)
DAYS = 730
PROBLEMS = [
    "边坡台阶超高，局部出现浮石", "爆破警戒点未设置警示标志", "运输道路宽度不足且无安全挡墙", "配电箱未可靠接地",
    "消防器材过期未更换", "有限空间作业未审批", "采场作业平台宽度不足", "尾矿库排洪设施淤堵",
    "提升机制动装置未定期检测", "外包队伍未进行安全交底",
]  # fmt: skip

_ROW_LINK = re.compile(rb'href="/hazards/\d+/" class="text-reset"')


def _page_rows(response: Any) -> int:
    return len(_ROW_LINK.findall(response.content))


def _api_rows(response: Any) -> int:
    return len(response.json().get("results", []))


def _admin_rows(response: Any) -> int:
    return admin_rows(response)


# --- Data ---------------------------------------------------------------------------------------------


def _statuses(major: bool, rng: random.Random) -> str:
    from hazards.choices import HazardStatus as S

    if major:
        return rng.choices(
            [S.DRAFT, S.PENDING_TOWN, S.PENDING_COUNTY, S.CONFIRMED, S.RECTIFYING, S.CLOSURE_REQUESTED, S.CLOSED],
            weights=[2, 3, 3, 15, 25, 7, 45],
        )[0]
    return rng.choices([S.REPORTED, S.RECTIFYING, S.RECTIFIED, S.VERIFIED], weights=[10, 20, 10, 60])[0]


def _rows(
    count: int, start: int, enterprises: list[tuple[int, str]], criteria: dict[str, list[int]]
) -> Iterator[dict[str, Any]]:
    from hazards.choices import INDUSTRY_MINE_TYPE, HazardCategory, HazardSource, HazardStatus

    rng = random.Random(20240501 + start)  # noqa: S311 - bench data, not secrets  # nosec B311 # bench data
    categories = [c.value for c in HazardCategory]
    sources = [c.value for c in HazardSource]
    finished = HazardStatus.finished()
    rectified_states = finished | {HazardStatus.RECTIFIED, HazardStatus.CLOSURE_REQUESTED}
    any_criteria = [pk for items in criteria.values() for pk in items]
    for n in range(start, start + count):
        enterprise_id, industry = enterprises[n % len(enterprises)]
        major = rng.random() < 0.05
        status = _statuses(major, rng)
        found = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
        deadline = found + dt.timedelta(days=rng.choice((7, 15, 30, 60, 90)))
        extended = rng.random() < 0.03
        rectified = found + dt.timedelta(days=rng.randrange(1, 60)) if status in rectified_states else None
        closed = rectified + dt.timedelta(days=rng.randrange(1, 15)) if rectified and status in finished else None
        supervised = major and rng.random() < 0.3
        number = f"{MARK}{n:07d}"
        mine_type = INDUSTRY_MINE_TYPE.get(industry)
        yield {
            "enterprise_id": enterprise_id,
            "ledger_number": number,
            "description": f"{PROBLEMS[n % len(PROBLEMS)]}（{n}）",
            "location": f"+{200 + (n % 30) * 10}平台",
            "category": categories[n % len(categories)],
            "level": "major" if major else "general",
            "criterion_id": rng.choice(criteria.get(mine_type or "", any_criteria)) if major else None,
            "found_on": found,
            "found_by": "安全员",
            "source": sources[n % len(sources)],
            "measures": "立即整改，落实专人负责",
            "responsible_unit": "安全环保部",
            "responsible_person": "李安全",
            "funds_wan": f"{rng.randrange(1, 500) / 10:.2f}",
            "deadline": deadline,
            "interim_measures": "设置警戒，停止相关作业" if major else "",
            "current_deadline": deadline + dt.timedelta(days=30) if extended else deadline,
            "status": str(status),
            "rectified_on": rectified,
            "rectification_note": "已整改" if rectified else "",
            "closed_on": closed,
            "supervision_level": "county" if supervised else "",
            "supervision_unit": "县应急管理局" if supervised else "",
            "supervision_doc_number": f"应急督〔2024〕{n % 97}号" if supervised else "",
            "supervision_date": found + dt.timedelta(days=3) if supervised else None,
            "supervision_deadline": deadline if supervised else None,
            "identity_key": f"no:{number}",
        }


def _columns() -> list[Any]:
    from hazards.models import Hazard

    return [f for f in Hazard._meta.concrete_fields if not f.primary_key]


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def _insert(rows: list[dict[str, Any]], now: dt.datetime) -> None:
    from hazards.models import Hazard

    fields = _columns()
    defaults: dict[str, Any] = {}
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.attname] = now
        elif f.has_default():
            defaults[f.attname] = f.get_default()
        else:
            defaults[f.attname] = None if f.null else ""
    names = [f.attname for f in fields]
    table = Hazard._meta.db_table
    if connection.vendor == "postgresql":
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join(_copy_value(row.get(name, defaults[name])) for name in names))
            buffer.write("\n")
        buffer.seek(0)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg2's cursor under Django's wrapper
            raw.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)
        return
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608 - model names  # nosec B608 # model names
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    prepared = [
        [f.get_db_prep_save(row.get(f.attname, defaults[f.attname]), connection) for f in fields] for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, prepared)


def _drop_plain_indexes() -> list[str]:
    """Drop the hazards table's indexes that back no constraint; returns their CREATE statements."""
    from hazards.models import Hazard

    table = Hazard._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND NOT EXISTS ("
            " SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.schemaname) || '.' ||"
            " quote_ident(i.indexname))::regclass)",
            [table],
        )
        found = cursor.fetchall()
        for name, _definition in found:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    return [definition for _name, definition in found]


def ensure_hazards(target: int, *, log: Callable[[str], None]) -> tuple[int, float]:
    """Fill the hazards table up to `target` rows (this bench's rows and any other's); returns (count, seconds)."""
    from django.utils import timezone

    from hazards.criteria import load_catalogue_file
    from hazards.models import Hazard, MajorHazardCriterion
    from portal.models import Enterprise

    existing = Hazard.objects.count()
    if existing >= target:
        return existing, 0.0
    started = time.perf_counter()
    if not MajorHazardCriterion.objects.exists():
        load_catalogue_file()
    criteria: dict[str, list[int]] = {}
    for pk, mine_type in MajorHazardCriterion.objects.filter(is_active=True).values_list("pk", "mine_type"):
        criteria.setdefault(mine_type, []).append(pk)
    enterprises = list(Enterprise.objects.order_by("id").values_list("id", "industry"))
    first = Hazard.objects.filter(ledger_number__startswith=MARK).count()
    missing = target - existing
    now = timezone.now()
    with transaction.atomic():
        # On PostgreSQL the plain indexes are dropped for the load and built again after it: one sorted
        # build per index instead of a million insertions into each (constraints' indexes stay).
        indexes = _drop_plain_indexes() if connection.vendor == "postgresql" else []
        done = 0
        while done < missing:
            size = min(BATCH, missing - done)
            _insert(list(_rows(size, first + done, enterprises, criteria)), now)
            done += size
            log(f"  … {existing + done:,} / {target:,} hazards")
        if indexes:
            log(f"  … building {len(indexes)} indexes again")
            with connection.cursor() as cursor:
                # The foreign keys are checked at commit (deferred); check them now, or PostgreSQL refuses
                # to build an index on a table with pending trigger events.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                for definition in indexes:
                    cursor.execute(definition)
    with connection.cursor() as cursor:
        # As the table would be in production: statistics and the visibility map (index-only counts).
        cursor.execute("VACUUM ANALYZE hazards_hazard" if connection.vendor == "postgresql" else "ANALYZE")
    return target, time.perf_counter() - started


# --- Measuring -----------------------------------------------------------------------------------------


def run(*, reps: int, log: Callable[[str], None] = print) -> dict[str, Any]:
    from django.contrib import admin

    from hazards.models import Hazard
    from portal.models import Enterprise, Region, User

    seconds = ensure_scale(SCALE)
    total, seed_seconds = ensure_hazards(TARGET_ROWS, log=log)
    users = {u.username: u for u in User.objects.filter(username__in=["county_staff", "county_admin", "superadmin"])}
    county = users["county_staff"].region
    assert county is not None
    town = Region.objects.filter(parent=county).order_by("code").first()
    assert town is not None
    log(
        f"Province scale: {Enterprise.objects.count():,} enterprises, {total:,} hazards "
        f"(directory seeded in {seconds:.1f} s, hazards in {seed_seconds:.1f} s) on {connection.vendor}; "
        f"{reps} timed requests per figure (median) after 2 warm-up requests, the page, the API and the admin "
        "requested in turn so that they share the machine's load alike."
    )
    viewers = [
        ("县局股室 county_staff", users["county_staff"], users["county_admin"], f"town={town.pk}&"),
        ("superuser", users["superadmin"], users["superadmin"], ""),
    ]
    model_admin = admin.site._registry[Hazard]
    original_per_page = model_admin.list_per_page
    results: list[dict[str, Any]] = []
    try:
        for viewer_label, viewer, baseline_user, town_filter in viewers:
            visible = Hazard.objects.visible_to(viewer)
            page_client = logged_in(viewer)
            # The admin requires a session verified by the second factor (else: 302 to the code page).
            admin_client = logged_in_verified(baseline_user)
            queries: list[tuple[str, int, str, str]] = [("all", size, f"page_size={size}", "") for size in PAGE_SIZES]
            # A filtered view: major hazards, overdue (and in one town for the county).
            filtered = f"{town_filter}level=major&overdue=true&page_size=20"
            admin_filtered = "level__exact=major"  # the admin filters by level; it has no town or 逾期 filter
            label = "major, overdue" + (", one town" if town_filter else "")
            queries.append((label, 20, filtered, admin_filtered))
            for label, size, query, admin_query in queries:
                expected_qs = visible
                if label != "all":
                    expected_qs = visible.filter(level="major").overdue()
                    if town_filter:
                        expected_qs = expected_qs.filter(enterprise__town=town)
                rows_visible = expected_qs.count()
                # The admin's rows: the same queryset, or for the filtered case the level filter alone.
                admin_rows = min(size, rows_visible if label == "all" else visible.filter(level="major").count())
                setattr(model_admin, "list_per_page", size)  # noqa: B010 - per-instance, for this run only
                admin_url = f"{ADMIN_URL}?{admin_query}" if admin_query else ADMIN_URL
                cases = [
                    Case("admin", admin_client, admin_url, _admin_rows),
                    Case("list page", page_client, f"{LIST_URL}?{query}", _page_rows),
                    Case("API", page_client, f"{API_URL}?{query}", _api_rows),
                ]
                baseline, *measured = measure(cases, reps=reps)
                check_baseline(baseline, expected_rows=admin_rows, log=log, what=f"admin for {viewer_label}, {label}")
                for measurement in measured:
                    results.append(
                        {
                            "viewer": viewer_label,
                            "query": label,
                            "visible_rows": rows_visible,
                            "page_size": size,
                            "expected_rows": min(size, rows_visible),
                            "measurement": measurement,
                            "admin": baseline,
                        }
                    )
    finally:
        setattr(model_admin, "list_per_page", original_per_page)  # noqa: B010

    table_rows = []
    all_ok = True
    for r in results:
        m: Measurement = r["measurement"]
        b: Measurement = r["admin"]
        problems = []
        if m.status != 200 or b.status != 200:
            problems.append(f"HTTP {m.status}/{b.status}")
        if m.rows != r["expected_rows"]:
            problems.append(f"rows {m.rows}≠{r['expected_rows']}")
        queries_ok = m.queries <= QUERY_TARGET
        time_ok = m.median_ms < TIME_TARGET_MS
        r.update(queries_ok=queries_ok, time_ok=time_ok, problems=problems)
        all_ok = all_ok and queries_ok and time_ok and not problems
        table_rows.append(
            [
                r["viewer"], r["query"], f"{r['visible_rows']:,}", r["page_size"], m.label, m.queries,
                f"{m.median_ms:.1f}", f"{m.p90_ms:.1f}", b.queries, f"{b.median_ms:.1f}",
                ("✓" if queries_ok else "✗") + " " + ("✓" if time_ok else "✗")
                + (" " + "; ".join(problems) if problems else ""),
            ]
        )  # fmt: skip
    log("")
    log(
        format_table(
            [
                "viewer",
                "query",
                "rows",
                "size",
                "endpoint",
                "queries",
                "median ms",
                "p90 ms",
                "admin queries",
                "admin median ms",
                "targets",
            ],
            table_rows,
        )
    )
    log("")
    log(
        f"Targets: ≤ {QUERY_TARGET} queries (first ✓/✗) and a median under {TIME_TARGET_MS:.0f} ms (second ✓/✗), "
        "for the page and the API. The admin columns are the changelist for the same rows (county staff against "
        "泽州县's 管理员, superuser against superuser; the filtered admin case filters by level only: "
        "the admin has no town or 逾期 filter)."
    )
    path = save_json(
        NAME, {"scale": SCALE, "hazards": total, "vendor": connection.vendor, "reps": reps, "results": results}
    )
    log(f"Results written to {path}")
    return {"ok": all_ok, "results": results}
