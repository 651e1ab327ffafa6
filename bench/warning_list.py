"""The 预警 page and API at province scale, per role: `python -m bench.warning_list [--reps N] [--only a,b]`.

Reads the bench database `python -m bench lists` seeded (bench-out/bench.sqlite3, or BENCH_DATABASE_URL): it
seeds nothing. For each viewer: `/inspections/warnings/`, `/api/v1/warnings/` and a deep page of each, the query
count and the median server and CPU time (requests interleaved as `harness.measure` does). A request slower
than PROBE_LIMIT_MS is timed once (a 40 s list would hold the run for minutes), as bench/lists.py does.
Run the same file against another checkout (PYTHONPATH) for a baseline in the same run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

VIEWERS = ("superadmin", "city_viewer", "county_staff", "town_bagong", "clerk")
URLS = (
    "/inspections/warnings/",
    "/api/v1/warnings/",
    "/inspections/warnings/?page=200",
    "/api/v1/warnings/?offset=4000&limit=20",
)
PROBE_LIMIT_MS = 2000.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated viewers (default: all)")
    parser.add_argument("--label", default="")
    args = parser.parse_args(argv)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.harness import Case, format_table, logged_in, measure
    from portal.models import User

    viewers = [v for v in (args.only.split(",") if args.only else VIEWERS) if v]
    rows = []
    for username in viewers:
        client = logged_in(User.objects.get(username=username))
        fast = []
        for url in URLS:
            with CaptureQueriesContext(connection) as captured:
                started, cpu = time.perf_counter(), time.process_time()
                response = client.get(url)
                took, cpu_took = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
            if took >= PROBE_LIMIT_MS:
                timing = [f"{took:.0f} (1 req.)", f"{cpu_took:.0f}"]
                rows.append([username, url, response.status_code, len(captured), *timing])
            else:
                fast.append(Case(url, client, url))
        for m in measure(fast, reps=args.reps) if fast else []:
            rows.append([username, m.url, m.status, m.queries, f"{m.median_ms:.1f}", f"{m.extra['cpu_median_ms']:.1f}"])
    print(f"{args.label} on {connection.vendor}, load average {os.getloadavg()[0]:.1f}, {args.reps} reps")
    print(format_table(["viewer", "url", "HTTP", "queries", "median ms", "CPU ms"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
