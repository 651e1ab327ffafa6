"""工作台 at county scale: the home page (and GET /api/v1/me/tasks/) next to the hazard list page.

Data (bench only): `portal.demo`'s county scale (泽州县 with 300 enterprises) and the hazards table filled up
to BENCH_HOME_HAZARDS rows (default 50,000) by the hazard list bench's loader (its ledger's statuses: some
waiting at every step, some overdue). Viewers: 泽州县's county staff, its leader and 巴公镇's town staff.
For each: the query count and the median server time of `/` and `/api/v1/me/tasks/`, next to the baseline
`/hazards/?page_size=20` for the same user (answered 200 with 20 rows). The home page must show at least
one section (it is proven to have read the data).

Targets (issue 13 §1): the county staff's home page at most 15 queries and a median under 200 ms.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from django.db import connection

from bench.harness import Case, Measurement, check_baseline, ensure_scale, format_table, logged_in, measure, save_json
from bench.hazard_list import ensure_hazards

NAME = "home"
SCALE = "county"
TARGET_ROWS = int(os.environ.get("BENCH_HOME_HAZARDS", "50000"))
QUERY_TARGET = 15
TIME_TARGET_MS = 200.0
_SECTION = re.compile(rb'data-testid="section-')
_ROW_LINK = re.compile(rb'href="/hazards/\d+/" class="text-reset"')


def _sections(response: Any) -> int:
    return len(_SECTION.findall(response.content))


def _api_sections(response: Any) -> int:
    return len(response.json())


def _list_rows(response: Any) -> int:
    return len(_ROW_LINK.findall(response.content))


def run(*, reps: int, log: Callable[[str], None] = print) -> dict[str, Any]:
    from hazards.models import Hazard
    from portal.models import Enterprise, User

    seconds = ensure_scale(SCALE)
    total, seed_seconds = ensure_hazards(TARGET_ROWS, log=log)
    users = {u.username: u for u in User.objects.filter(username__in=["county_staff", "county_leader", "town_bagong"])}
    county = users["county_staff"].region
    log(
        f"County scale: {Enterprise.objects.count():,} enterprises, {total:,} hazards, "
        f"{Hazard.objects.visible_to(users['county_staff']).count():,} of them in {county} "
        f"(directory seeded in {seconds:.1f} s, hazards in {seed_seconds:.1f} s) on {connection.vendor}; "
        f"{reps} timed requests per figure (median) after 2 warm-up requests, interleaved with the baseline."
    )
    results: list[dict[str, Any]] = []
    for label in ("county_staff", "county_leader", "town_bagong"):
        client = logged_in(users[label])
        baseline, page, api = measure(
            [
                Case("hazard list", client, "/hazards/?page_size=20", _list_rows),
                Case("home page", client, "/", _sections),
                Case("me/tasks API", client, "/api/v1/me/tasks/", _api_sections),
            ],
            reps=reps,
        )
        expected = min(20, Hazard.objects.visible_to(users[label]).count())
        check_baseline(baseline, expected_rows=expected, log=log, what=f"hazard list of {label}")
        results.append({"viewer": label, "baseline": baseline, "page": page, "api": api})

    table_rows = []
    all_ok = True
    for r in results:
        b: Measurement = r["baseline"]
        for m in (r["page"], r["api"]):
            problems = []
            if m.status != 200 or b.status != 200:
                problems.append(f"HTTP {m.status}/{b.status}")
            if not m.rows:
                problems.append("no section")
            if b.rows != 20:
                problems.append(f"baseline rows {b.rows}≠20")
            targeted = r["viewer"] == "county_staff" and m.label == "home page"
            queries_ok = m.queries <= QUERY_TARGET
            time_ok = m.median_ms < TIME_TARGET_MS
            if targeted:
                all_ok = all_ok and queries_ok and time_ok and not problems
            all_ok = all_ok and not problems
            table_rows.append(
                [
                    r["viewer"], m.label, m.rows, m.queries, f"{m.median_ms:.1f}", f"{m.p90_ms:.1f}", b.queries,
                    f"{b.median_ms:.1f}",
                    (("✓" if queries_ok else "✗") + " " + ("✓" if time_ok else "✗") if targeted else "")
                    + (" " + "; ".join(problems) if problems else ""),
                ]
            )  # fmt: skip
    log("")
    log(
        format_table(
            [
                "viewer",
                "endpoint",
                "sections",
                "queries",
                "median ms",
                "p90 ms",
                "list queries",
                "list median ms",
                "targets",
            ],
            table_rows,
        )
    )
    log("")
    log(
        f"Targets: the county staff's home page ≤ {QUERY_TARGET} queries (first ✓/✗) and a median under "
        f"{TIME_TARGET_MS:.0f} ms (second ✓/✗). The list columns are the hazard list page (20 rows) for the same user."
    )
    path = save_json(
        NAME, {"scale": SCALE, "hazards": total, "vendor": connection.vendor, "reps": reps, "results": results}
    )
    log(f"Results written to {path}")
    return {"ok": all_ok, "results": results}
