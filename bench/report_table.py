"""The table pages `make load` asks for ("page report-table"), one request at a time at county scale.

Data (bench only): `portal.demo`'s county scale and the reports bench's records for 泽州县 (bench/reports.py:
50,000 hazards, 5,000 enforcement records, the two seeded campaigns), as load/prepare.py adds them. Pages: the
tables that have a campaign in the latest month that has one (load/prepare.py's own choice, imported so that the
two never differ), for 泽州县 (read by its leader) and 巴公镇, 高都镇 (by their staff). No version exists for
them, as in the load.

For each page: the query count and the median server time and CPU time (this process: on SQLite the database's
work too), next to the baseline `/hazards/?page_size=20` of the same user, interleaved. The figure to compare
across runs on a busy machine is the ratio to that baseline.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.db import connection

from bench.harness import Case, check_baseline, ensure_scale, format_table, logged_in, measure, save_json

NAME = "report_table"
READERS = {"county": "county_leader", "town_bagong": "town_bagong", "town_gaodu": "town_gaodu"}
_ROW = re.compile(rb"<tr>")
_LIST_ROW = re.compile(rb'href="/hazards/\d+/" class="text-reset"')


def _rows(response: Any) -> int:
    return len(_ROW.findall(response.content))


def _list_rows(response: Any) -> int:
    return len(_LIST_ROW.findall(response.content))


def run(*, reps: int, log: Callable[[str], None] = print) -> dict[str, Any]:
    from bench import reports as reports_bench
    from load.prepare import _report_pages
    from portal.demo import DEMO_COUNTY_CODE
    from portal.models import Region, User

    ensure_scale("county")
    county = Region.objects.get(code=DEMO_COUNTY_CODE)
    reports_bench.ensure_data([county], log=log)
    users = {u.username: u for u in User.objects.filter(username__in=READERS.values())}
    regions = {"county_leader": county}
    for name in ("town_bagong", "town_gaodu"):
        town = users[name].region
        assert town is not None, name
        regions[name] = town
    reader = {region.code: users[name] for name, region in regions.items()}
    pages = _report_pages(list(regions.values()))
    clients = {user.username: logged_in(user) for user in reader.values()}
    log(
        f"County scale on {connection.vendor}: {len(pages)} table pages of {pages[0]['month']:%Y-%m} "
        f"(no version); {reps} timed requests per figure (median) after 2 warm-up requests, interleaved."
    )
    cases = [Case(f"baseline {name}", client, "/hazards/?page_size=20", _list_rows) for name, client in clients.items()]
    cases += [Case(reader[p["region"]].username, clients[reader[p["region"]].username], p["url"], _rows) for p in pages]
    measured = measure(cases, reps=reps)
    baselines = {m.label.removeprefix("baseline "): m for m in measured[: len(clients)]}
    for name, baseline in baselines.items():
        check_baseline(baseline, expected_rows=20, log=log, what=f"hazard list of {name}")
    ok = True
    table_rows = []
    for m in measured[len(clients) :]:
        b = baselines[m.label]
        ok = ok and m.status == 200 and bool(m.rows)
        table_rows.append(
            [
                m.label, m.url, m.status, m.queries, f"{m.median_ms:.1f}", f"{m.extra['cpu_median_ms']:.1f}",
                f"{b.median_ms:.1f}", f"{m.median_ms / b.median_ms:.1f}×",
            ]
        )  # fmt: skip
    log("")
    log(
        format_table(
            ["viewer", "page", "HTTP", "queries", "median ms", "CPU ms", "list median ms", "÷ list"], table_rows
        )
    )
    path = save_json(NAME, {"vendor": connection.vendor, "reps": reps, "results": measured})
    log(f"Results written to {path}")
    return {"ok": ok, "results": measured}
