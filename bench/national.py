"""A nation on one PostgreSQL (issue 14 §6): `python -m bench national [--scale F]`, not run by default.

Needs PostgreSQL (`python -m bench national` starts a throwaway server unless BENCH_DATABASE_URL names
one). The real schema (the migrations) is seeded by `bench.national_seed` with COPY: 31 provinces,
~2,800 counties, 30,000 mines, 10,000,000 hazards with their events and 1,000,000 enforcement records at
`--scale 1` (hazards, events and records scale; regions and mines do not). Then, each next to a raw SQL
floor run in the same process on the same connection, interleaved, and checked to give the same numbers:

- one county's two monthly tables (`reporting.figures.compute_table`) — target < 1 s;
  floor: bench/reports.py's raw SQL (`raw_accountability`, `raw_winter` with its 重大隐患明细 rows);
- the province roll-up: both tables of every county of province 14 side by side (`compute_rollup`, as
  bench/reports.py drives it) — target < 10 s; floor: the same SQL grouped by region, one pass per
  table (bench/national_floor.py);
- the national roll-up: both tables of the 31 provinces side by side, and of all ~2,800 counties side
  by side — target < 60 s; floor: the same;
- the hazard list page and API (20 rows) of a county's 县局股室, of a province-wide account (a 市局
  viewer scoped to the province: there is no province role) and of a superuser (the nation) — target
  < 150 ms; baseline: the admin changelist of the same rows.

BRIN: the tables are written in date order (ids follow the dates). After the figures, a BRIN index on
`hazards_hazard.found_on` and `inspections_enforcementrecord.date` is built and the national roll-up
and its floor measured again; the index is dropped afterwards (the production schema is not changed).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.harness import Case, format_table, logged_in, measure, save_json
from bench.hazard_list import _admin_rows, _api_rows, _page_rows
from bench.reports import ACC_MONTH, WINTER_MONTH, raw_accountability, raw_winter

NAME = "national"
SEED_TARGET_S = 15 * 60
COUNTY_S, PROVINCE_S, NATION_S, LIST_MS = 1.0, 10.0, 60.0, 150.0
PROVINCE_CODE = "140000"
COUNTY_CODE = "140101"
BRIN = [("hazards_hazard", "found_on"), ("inspections_enforcementrecord", "date")]


def _kinds() -> list[tuple[str, Any, Callable[[Any], Any]]]:
    from reporting.choices import ReportKind

    return [
        (ReportKind.ACCOUNTABILITY, ACC_MONTH, raw_accountability),
        (ReportKind.WINTER, WINTER_MONTH, lambda scope: raw_winter(scope)[0]),
    ]


def _rollup(regions: list[Any]) -> dict[tuple[str, int], dict[str, Any]]:
    """Both tables of every region side by side through the portal's grouped queries."""
    from reporting import selectors
    from reporting.figures import compute_rollup

    cells = {}
    for kind, month, _ in _kinds():
        scopes = selectors.scopes_for(kind=kind, regions=regions, month=month)
        tables = compute_rollup(kind, [s for s in scopes.values() if not isinstance(s, str)])
        cells.update({(kind, pk): table.cells() for pk, table in tables.items()})
    return cells


def _floor(regions: list[Any]) -> dict[tuple[str, int], dict[str, Any]]:
    """The same cells through raw SQL grouped by region (bench/national_floor.py), one pass per table."""
    from bench import national_floor
    from reporting import selectors

    cells = {}
    for kind, month, _ in _kinds():
        scopes = selectors.scopes_for(kind=kind, regions=regions, month=month)
        found = [s for s in scopes.values() if not isinstance(s, str)]
        grouped = national_floor.accountability if kind == "accountability" else national_floor.winter
        cells.update({(kind, pk): value for pk, value in grouped(found).items()})
    return cells


def _county_floor(county: Any) -> dict[tuple[str, int], dict[str, Any]]:
    """One county's cells through bench/reports.py's raw SQL (the winter table's with its 明细 rows)."""
    from reporting import selectors

    return {
        (kind, county.pk): raw(selectors.scope_for(kind=kind, region=county, month=month))
        for kind, month, raw in _kinds()
    }


def _county(county: Any) -> dict[tuple[str, int], dict[str, Any]]:
    from reporting import selectors
    from reporting.figures import compute_table

    return {
        (kind, county.pk): compute_table(kind, selectors.scope_for(kind=kind, region=county, month=month)).cells()
        for kind, month, _ in _kinds()
    }


def _timed(functions: dict[str, Callable[[], Any]], reps: int) -> dict[str, tuple[float, int, Any]]:
    """(median seconds, queries, result) of each function: one counted run (it warms the caches), then
    `reps` timed runs interleaved, rotating who goes first, so that they share the machine's load alike."""
    counted = {}
    for name, function in functions.items():
        with CaptureQueriesContext(connection) as captured:
            result = function()
        counted[name] = (len(captured.captured_queries), result)
    names = list(functions)
    times: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(reps):
        for offset in range(len(names)):
            name = names[(rep + offset) % len(names)]
            started = time.perf_counter()
            functions[name]()
            times[name].append(time.perf_counter() - started)
    return {name: (statistics.median(times[name]), *counted[name]) for name in names}


def _figures(regions: list[Any], reps: int, one: Any = None) -> tuple[tuple[float, int], tuple[float, int], bool]:
    portal = (lambda: _county(one)) if one is not None else (lambda: _rollup(regions))
    floor = (lambda: _county_floor(one)) if one is not None else (lambda: _floor(regions))
    got = _timed({"portal": portal, "floor": floor}, reps)
    same = bool(got["portal"][2]) and got["portal"][2] == got["floor"][2]
    return got["portal"][:2], got["floor"][:2], same


def _users(county: Any, province: Any) -> list[tuple[str, Any]]:
    from portal.choices import Role
    from portal.models import User

    def user(username: str, **fields: Any) -> Any:
        found = User.objects.filter(username=username).first()
        if found is None:
            found = User.objects.create(username=username, **fields)
        return found

    return [
        ("county 县局股室", user("nat_county", role=Role.COUNTY_STAFF, region=county)),
        ("province (市局 viewer on the province)", user("nat_province", role=Role.CITY_VIEWER, region=province)),
        ("nation (superuser)", user("nat_super", role=Role.ADMIN, is_superuser=True, is_staff=True)),
    ]


def _brin(create: bool) -> float:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table, column in BRIN:
            name = f"bench_brin_{table}"[:60]
            if create:
                cursor.execute(f"CREATE INDEX {name} ON {table} USING brin ({column})")
            else:
                cursor.execute(f"DROP INDEX IF EXISTS {name}")
            cursor.execute(f"ANALYZE {table}")
    return time.perf_counter() - started


def run(*, reps: int, log: Callable[[str], None] = print) -> dict[str, Any]:
    from bench.national_seed import seed
    from hazards.models import Hazard
    from portal.models import Region

    if connection.vendor != "postgresql":
        log("national: PostgreSQL only (run `python -m bench national`, which starts one).")
        return {"ok": False}
    scale = float(os.environ.get("BENCH_NATIONAL_SCALE", "1.0"))
    reps = max(1, min(reps, 5))
    log(f"Seeding the nation at scale {scale} (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs) …")
    seeded = seed(scale=scale, log=log)
    rows = sum(seeded.rows.values())
    log("")
    counts = {**seeded.rows, "hazards + events": seeded.rows["hazards"] + seeded.rows["events"]}
    seed_rows = [
        [name, f"{counts[name]:,}" if name in counts else "", f"{seconds:.1f}",
         f"{counts[name] / seconds:,.0f}" if name in counts and seconds else ""]
        for name, seconds in seeded.seconds.items()
    ]  # fmt: skip
    log(format_table(["step", "rows", "seconds", "rows/s"], seed_rows))
    events_rate = (seeded.rows["hazards"] + seeded.rows["events"]) / seeded.seconds["hazards + events"]
    full = seeded.total_seconds / scale if scale else 0.0
    seed_ok = seeded.total_seconds < SEED_TARGET_S and scale >= 1.0
    extrapolated = "✓" if full < SEED_TARGET_S else "✗"
    seed_verdict = ("✓" if seed_ok else "✗") if scale >= 1.0 else f"(extrapolated {extrapolated})"
    log(
        f"Seeded {rows:,} rows in {seeded.total_seconds:.0f} s ({rows / seeded.total_seconds:,.0f} rows/s; hazards "
        f"with events {events_rate:,.0f} rows/s). Scale {scale}: at scale 1 about {full:.0f} s by linear "
        f"extrapolation (regions and mines do not grow, so a little less) — target < {SEED_TARGET_S} s " + seed_verdict
    )

    county = Region.objects.get(code=COUNTY_CODE)
    province = Region.objects.get(code=PROVINCE_CODE)
    counties = list(Region.objects.filter(level="county", path__startswith=province.path).order_by("code"))
    provinces = list(Region.objects.filter(level="province").order_by("code"))
    all_counties = list(Region.objects.filter(level="county").order_by("code"))
    table: list[list[Any]] = []
    results: dict[str, Any] = {"scale": scale, "seed": {"rows": seeded.rows, "seconds": seeded.seconds,
                                                         "total_seconds": seeded.total_seconds}}  # fmt: skip
    ok = True
    roll_reps = 3 if scale < 0.2 else 1  # a national roll-up at full scale takes minutes

    def figure(label: str, regions: list[Any], target: float, one: Any = None, suffix: str = "") -> None:
        nonlocal ok
        (seconds, queries), (floor, _), same = _figures(regions, reps if one is not None else roll_reps, one)
        met = same and seconds < target
        ok = ok and met
        table.append([label + suffix, f"{seconds:.2f}", queries, f"{floor:.2f}",
                      f"{seconds / floor:.2f}×" if floor else "",
                      f"{'✓' if met else '✗'} < {target:.0f} s" + ("" if same else "; NUMBERS DIFFER")])  # fmt: skip
        results[label + suffix] = {"seconds": seconds, "queries": queries, "floor_seconds": floor,
                                   "same_numbers": same, "ok": met}  # fmt: skip
        log(f"  {label}{suffix}: {seconds:.2f} s, raw SQL {floor:.2f} s, same numbers: {same}")

    figure(f"county {county.name}, both tables", [county], COUNTY_S, one=county)
    figure(f"province roll-up ({len(counties)} counties)", counties, PROVINCE_S)
    figure(f"national roll-up ({len(provinces)} provinces)", provinces, NATION_S)
    figure(f"national roll-up ({len(all_counties):,} counties)", all_counties, NATION_S)
    brin_build = _brin(create=True)
    figure(f"national roll-up ({len(provinces)} provinces)", provinces, NATION_S, suffix=" + BRIN")
    _brin(create=False)
    log("")
    log(format_table(["figure", "portal s", "queries", "raw SQL floor s", "vs floor", "target"], table))
    log(f"(BRIN indexes built in {brin_build:.1f} s, then dropped.)")

    list_rows: list[list[Any]] = []
    lists: list[dict[str, Any]] = []
    for label, user in _users(county, province):
        visible = Hazard.objects.visible_to(user).count()
        client = logged_in(user)
        admin = logged_in(user) if user.is_superuser else None
        cases = [Case("list page", client, "/hazards/?page_size=20", _page_rows),
                 Case("API", client, "/api/v1/hazards/?page_size=20", _api_rows)]  # fmt: skip
        if admin is not None:
            cases.append(Case("admin", admin, "/admin/hazards/hazard/", _admin_rows))
        for m in measure(cases, reps=max(reps, 5)):
            expected = min(20 if m.label != "admin" else 100, visible)
            met = m.status == 200 and m.rows == expected and m.median_ms < LIST_MS
            if m.label != "admin":
                ok = ok and met
            list_rows.append([label, f"{visible:,}", m.label, m.queries, f"{m.median_ms:.0f}", f"{m.p90_ms:.0f}",
                              "baseline" if m.label == "admin" else f"{'✓' if met else '✗'} < {LIST_MS:.0f} ms"
                              + ("" if m.rows == expected else f"; rows {m.rows}≠{expected}")])  # fmt: skip
            lists.append({"viewer": label, "visible": visible, "endpoint": m.label, "queries": m.queries,
                          "median_ms": m.median_ms, "p90_ms": m.p90_ms, "ok": met})  # fmt: skip
    results["lists"] = lists
    log("")
    log(format_table(["viewer", "visible hazards", "endpoint", "queries", "median ms", "p90 ms", "target"], list_rows))
    path = save_json(NAME, results)
    log(f"Results written to {path}")
    return {"ok": ok, **results}
