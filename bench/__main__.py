"""Run the benchmarks: `python -m bench [NAME ...] [--reps N] [--reuse] [--postgres] [--strict]`.

Each bench is a module of this package with `run(*, reps, log) -> {"ok": bool, ...}`; add yours
to BENCHES. They share one bench database (bench-out/bench.sqlite3 by default, rebuilt each run;
BENCH_DATABASE_URL or DATABASE_URL for PostgreSQL; --postgres starts a throwaway PostgreSQL server
from the installed binaries) and the seeded scales of `portal.demo`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from typing import Any

# name → module; run in this order.
BENCHES: dict[str, str] = {
    "enterprise_list": "bench.enterprise_list",
    "hazard_list": "bench.hazard_list",
    "lists": "bench.lists",
    "home": "bench.home",
    "ledger": "bench.ledger",
    "reports": "bench.reports",
    "report_table": "bench.report_table",
    "national": "bench.national",
}
# Run only when named (minutes of seeding on a PostgreSQL server of its own): not part of `make bench`.
ON_REQUEST = {"national"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"benches to run (default: all but {', '.join(ON_REQUEST)}, of {', '.join(BENCHES)})",
    )
    parser.add_argument("--reps", type=int, default=20, help="timed requests per figure (default 20)")
    parser.add_argument("--reuse", action="store_true", help="keep the SQLite bench database of the last run")
    parser.add_argument("--postgres", action="store_true", help="run on a throwaway PostgreSQL server")
    parser.add_argument("--scale", type=float, default=1.0, help="national: share of the rows to seed (default 1)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHES]
    if unknown:
        parser.error(f"unknown bench: {', '.join(unknown)} (choose from {', '.join(BENCHES)})")

    server: Any = None
    os.environ["BENCH_NATIONAL_SCALE"] = str(args.scale)
    if args.postgres or ("national" in args.names and not os.environ.get("BENCH_DATABASE_URL")):
        from tests.services import PostgresServer

        server = PostgresServer().start()
        os.environ["BENCH_DATABASE_URL"] = server.url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

    import django

    django.setup()
    from bench import harness

    started = time.perf_counter()
    try:
        print(f"Bench database: {harness.database_label()}")
        harness.prepare_database(fresh=not args.reuse)
        outcomes: dict[str, bool] = {}
        for name in args.names or [n for n in BENCHES if n not in ON_REQUEST]:
            print(f"\n=== {name} ===")
            module = importlib.import_module(BENCHES[name])
            try:
                outcome = module.run(reps=args.reps, log=print)
            except harness.BaselineError as broken:
                # A figure next to a baseline that measured nothing (a redirect, an error page, other rows)
                # is no figure: the bench fails, the others still run.
                print(f"BASELINE BROKEN: {broken}")
                outcome = {"ok": False}
            outcomes[name] = bool(outcome.get("ok"))
    finally:
        if server is not None:
            from django.db import connections

            connections.close_all()
            server.stop()
    print(f"\nAll benches done in {time.perf_counter() - started:.0f} s.")
    for name, ok in outcomes.items():
        print(f"  {name}: {'targets met' if ok else 'TARGETS MISSED'}")
    return 1 if args.strict and not all(outcomes.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
