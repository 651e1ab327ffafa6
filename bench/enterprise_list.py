"""企业名录 at province scale: the list page and the API next to the Django admin changelist.

For each viewer and page size (20/50/100): the query count and the median server time of
`/enterprises/` and `/api/v1/enterprises/`, and of `/admin/portal/enterprise/` showing the same rows
(the admin's `list_per_page` is set to the same size for the run):

- county staff of 泽州县 (300 enterprises) — baseline: the admin changelist as 泽州县's 管理员, which the
  admin scopes through the same `visible_to`, so it lists the same 300 rows;
- a superuser (all 6,000 enterprises) — baseline: the admin changelist as the superuser.

Targets (issue 2): at most 10 queries whatever the page size, and no slower than the admin.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

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

NAME = "enterprise_list"
SCALE = "province"
PAGE_SIZES = (20, 50, 100)
QUERY_TARGET = 10
LIST_URL = "/enterprises/"
API_URL = "/api/v1/enterprises/"
ADMIN_URL = "/admin/portal/enterprise/"

_ROW_LINK = re.compile(rb'href="/enterprises/\d+/"')


def _page_rows(response: Any) -> int:
    return len(_ROW_LINK.findall(response.content))


def _api_rows(response: Any) -> int:
    return len(response.json().get("results", []))


def _admin_rows(response: Any) -> int:
    return admin_rows(response)


def run(*, reps: int, log: Callable[[str], None] = print) -> dict[str, Any]:
    from django.contrib import admin

    from portal.models import Enterprise, Region, User

    seconds = ensure_scale(SCALE)
    users = {u.username: u for u in User.objects.filter(username__in=["county_staff", "county_admin", "superadmin"])}
    viewers = [
        ("县局股室 county_staff", users["county_staff"], "管理员 county_admin", users["county_admin"]),
        ("superuser", users["superadmin"], "superuser", users["superadmin"]),
    ]
    log(
        f"Province scale: {Enterprise.objects.count()} enterprises, "
        f"{Region.objects.filter(level='county').count()} counties, "
        f"{Region.objects.filter(level='town').count()} towns (seeded in {seconds:.1f} s); "
        f"{reps} timed requests per figure (median), after 2 warm-up requests; the page, the API and the admin "
        "are requested in turn so that they share the machine's load alike."
    )

    probe = logged_in(users["superadmin"]).get(f"{API_URL}?page_size=1")
    api_available = probe.status_code != 404
    if not api_available:
        log(f"{API_URL} answers 404: the API bench is skipped until the API exists.")

    model_admin = admin.site._registry[Enterprise]
    original_per_page = model_admin.list_per_page
    results: list[dict[str, Any]] = []
    try:
        for viewer_label, viewer, baseline_label, baseline_user in viewers:
            rows_visible = Enterprise.objects.visible_to(viewer).count()
            page_client = logged_in(viewer)
            # The admin requires a session verified by the second factor (else: 302 to the code page).
            admin_client = logged_in_verified(baseline_user)
            for size in PAGE_SIZES:
                expected = min(size, rows_visible)
                # The admin shows as many rows per page as the page under test.
                setattr(model_admin, "list_per_page", size)  # noqa: B010 - per-instance, for this run only
                cases = [
                    Case("admin", admin_client, ADMIN_URL, _admin_rows),
                    Case("list page", page_client, f"{LIST_URL}?page_size={size}", _page_rows),
                ]
                if api_available:
                    cases.append(Case("API", page_client, f"{API_URL}?page_size={size}", _api_rows))
                baseline, *measured = measure(cases, reps=reps)
                check_baseline(baseline, expected_rows=expected, log=log, what=f"admin for {viewer_label}, size {size}")
                for measurement in measured:
                    results.append(
                        {
                            "viewer": viewer_label,
                            "baseline_viewer": baseline_label,
                            "visible_rows": rows_visible,
                            "page_size": size,
                            "expected_rows": expected,
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
        if m.rows != r["expected_rows"] or b.rows != r["expected_rows"]:
            problems.append(f"rows {m.rows}/{b.rows}≠{r['expected_rows']}")
        queries_ok = m.queries <= QUERY_TARGET
        ratio = m.median_ms / b.median_ms if b.median_ms else float("inf")
        time_ok = ratio <= 1.0
        r.update(queries_ok=queries_ok, time_ok=time_ok, ratio=ratio, problems=problems)
        all_ok = all_ok and queries_ok and time_ok and not problems
        table_rows.append(
            [
                r["viewer"],
                r["visible_rows"],
                r["page_size"],
                m.label,
                m.queries,
                f"{m.median_ms:.1f}",
                f"{m.p90_ms:.1f}",
                b.queries,
                f"{b.median_ms:.1f}",
                f"{ratio:.2f}×",
                ("✓" if queries_ok else "✗")
                + " "
                + ("✓" if time_ok else "✗")
                + (" " + "; ".join(problems) if problems else ""),
            ]
        )
    log("")
    log(
        format_table(
            [
                "viewer",
                "rows",
                "size",
                "endpoint",
                "queries",
                "median ms",
                "p90 ms",
                "admin queries",
                "admin median ms",
                "vs admin",
                "targets",
            ],
            table_rows,
        )
    )
    log("")
    log(
        f"Targets: ≤ {QUERY_TARGET} queries whatever the page size (first ✓/✗), median no slower than the admin "
        "changelist for the same rows (second ✓/✗, 'vs admin' ≤ 1.00×)."
    )
    log("Admin baseline: county staff rows against 泽州县's 管理员 (the same 300 rows); superuser against superuser.")
    path = save_json(NAME, {"scale": SCALE, "reps": reps, "api_available": api_available, "results": results})
    log(f"Results written to {path}")
    return {"ok": all_ok, "results": results}
