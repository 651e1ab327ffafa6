"""The data of a load run, written into the stack's database before locust starts.

Run with the stack's environment (scripts/prod_run.sh writes it to $ROOT/portal.env):

    python -m load.prepare FIXTURE.json

On top of `seed_demo --scale county` (300 enterprises in 泽州县) it adds what the pages need to show
at county scale — the reports bench's data for 泽州县 (bench/reports.py: the two seeded campaigns,
50,000 hazards, 5,000 enforcement records, inspections) — then:

- accounts for the writers: a clerk and a principal (load-clerk-N, load-principal-N) for each of
  CLERK_ENTERPRISES enterprises of 泽州县, so that concurrent ledger uploads and signatures never
  wait for each other's enterprise;
- pools of major hazards put in the state a cheap step expects (待主要负责人签字 for each principal,
  待镇确认 in 巴公镇 and 高都镇, 待县确认 in the county): every pooled hazard is taken by one simulated
  user once, so two users never race for the same hazard;
- one export job per region (county, two towns), built by the stack's Celery worker, whose file the
  load downloads;
- the report table pages that have a campaign.

Everything the locustfile needs is written to FIXTURE.json.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import django

CLERK_ENTERPRISES = 50
TOWN_USERS = ("town_bagong", "town_gaodu")
POOL_PER_TOWN = 150
POOL_COUNTY = 600
SIGN_POOL_PER_ENTERPRISE = 8
DETAIL_SAMPLE = 200
EXPORT_WAIT_SECONDS = 120


def log(message: str) -> None:
    print(f"[load.prepare] {message}", flush=True)


def _pool(queryset: Any, status: str, limit: int) -> list[int]:
    """Up to `limit` major hazards of `queryset`, put in `status` (bench data: plain UPDATE, no events)."""
    from hazards.choices import HazardLevel

    ids = list(queryset.filter(level=HazardLevel.MAJOR).order_by("id").values_list("id", flat=True)[:limit])
    queryset.model.objects.filter(id__in=ids).update(
        status=status, rectified_on=None, closed_on=None, signed_by=None, signed_at=None
    )
    return ids


def _accounts(county: Any) -> list[dict[str, Any]]:
    from django.contrib.auth.hashers import make_password

    from portal.choices import PersonRole, Role
    from portal.demo import DEMO_PASSWORD
    from portal.models import Enterprise, Person, User

    # One hash for all: PBKDF2 at the production cost takes a good part of a second per account.
    password = make_password(DEMO_PASSWORD)
    enterprises = list(
        Enterprise.objects.filter(town__parent=county)
        .exclude(users__in=User.objects.exclude(username__startswith="load-"))
        .order_by("id")[:CLERK_ENTERPRISES]
    )
    existing = set(User.objects.filter(username__startswith="load-").values_list("username", flat=True))
    people = {
        p.enterprise_id: p
        for p in Person.objects.filter(enterprise__in=enterprises, role=PersonRole.PRINCIPAL).order_by("-id")
    }
    new: list[User] = []
    accounts = []
    for n, enterprise in enumerate(enterprises, start=1):
        clerk, principal = f"load-clerk-{n}", f"load-principal-{n}"
        if clerk not in existing:
            new.append(
                User(username=clerk, password=password, role=Role.ENTERPRISE_CLERK, enterprise=enterprise,
                     full_name=f"填报员{n}")
            )  # fmt: skip
        if principal not in existing:
            new.append(
                User(username=principal, password=password, role=Role.ENTERPRISE_PRINCIPAL, enterprise=enterprise,
                     full_name=f"负责人{n}", person=people.get(enterprise.pk))
            )  # fmt: skip
        accounts.append({"clerk": clerk, "principal": principal, "enterprise": enterprise.pk})
    User.objects.bulk_create(new)
    return accounts


def _report_pages(regions: list[Any]) -> list[dict[str, Any]]:
    """The tables that have a campaign in the latest month that has one: kind, region code, month, URL."""
    from reporting.choices import ReportKind
    from reporting.figures import ReportError
    from reporting.selectors import scope_for

    pages: list[dict[str, Any]] = []
    for month in [dt.date(2024, m, 1) for m in (3, 2, 1)] + [dt.date(2023, m, 1) for m in (12, 11)]:
        for kind in ReportKind:
            for region in regions:
                try:
                    scope_for(kind=kind, region=region, month=month)
                except ReportError:
                    continue
                url = f"/reports/{kind.cli_name}/{region.code}/{month:%Y-%m}/"
                pages.append({"kind": kind.value, "region": region.code, "month": month, "url": url})
        if pages:
            return pages
    return pages


def _exports(users: dict[str, Any], regions: dict[str, str], pages: list[dict[str, Any]]) -> dict[str, str]:
    """One xlsx export per region (of a table it has), built by the stack's worker; region code → the file's URL."""
    from django.db import transaction

    from reporting.choices import FileFormat, JobStatus, ReportKind
    from reporting.models import ExportJob
    from reporting.services import export_request

    jobs = {}
    for code, username in regions.items():
        page = next(p for p in pages if p["region"] == code)
        with transaction.atomic():
            job = export_request(
                actor=users[username], kind=ReportKind(page["kind"]), region=users[username].region,
                month=page["month"], file_format=FileFormat.XLSX,
            )  # fmt: skip
        jobs[code] = job.pk
    deadline = time.monotonic() + EXPORT_WAIT_SECONDS
    while True:
        states = dict(ExportJob.objects.filter(pk__in=jobs.values()).values_list("pk", "status"))
        if all(state == JobStatus.SUCCESS for state in states.values()):
            break
        if any(state == JobStatus.FAILED for state in states.values()) or time.monotonic() > deadline:
            errors = list(ExportJob.objects.filter(pk__in=jobs.values()).values_list("status", "error"))
            raise SystemExit(f"[load.prepare] the worker did not build the export files: {errors}")
        time.sleep(0.5)
    return {code: f"/reports/exports/{pk}/file/" for code, pk in jobs.items()}


def prepare() -> dict[str, Any]:
    from django.db import connection, transaction

    from bench import reports as reports_bench
    from hazards.choices import HazardStatus
    from hazards.models import Hazard
    from portal.demo import DEMO_COUNTY_CODE, DEMO_PASSWORD
    from portal.models import Region, User

    started = time.perf_counter()
    county = Region.objects.get(code=DEMO_COUNTY_CODE)
    reports_bench.ensure_data([county], log=log)
    log(f"county data ready in {time.perf_counter() - started:.1f} s")

    users = {u.username: u for u in User.objects.filter(username__in=["county_staff", "county_leader", *TOWN_USERS])}
    town_of: dict[str, Region] = {}
    for name in TOWN_USERS:
        region = users[name].region
        assert region is not None, f"{name} has no town"
        town_of[name] = region
    county_hazards = Hazard.objects.filter(enterprise__town__parent=county)
    with transaction.atomic():
        accounts = _accounts(county)
        towns: list[dict[str, Any]] = []
        taken: set[int] = set()
        for username in TOWN_USERS:
            town = town_of[username]
            in_town = county_hazards.filter(enterprise__town=town)
            pool = _pool(in_town, HazardStatus.PENDING_TOWN, POOL_PER_TOWN)
            taken.update(pool)
            sample = list(in_town.order_by("-id").values_list("id", flat=True)[:DETAIL_SAMPLE])
            towns.append({"username": username, "town": town.pk, "pool": pool, "detail": sample})
        load_enterprises = [a["enterprise"] for a in accounts]
        for account in accounts:
            own = county_hazards.filter(enterprise_id=account["enterprise"]).exclude(id__in=taken)
            account["pool"] = _pool(own, HazardStatus.DRAFT, SIGN_POOL_PER_ENTERPRISE)
            taken.update(account["pool"])
            account["detail"] = list(own.order_by("-id").values_list("id", flat=True)[:20])
        county_pool = _pool(
            county_hazards.exclude(id__in=taken).exclude(enterprise_id__in=load_enterprises),
            HazardStatus.PENDING_COUNTY,
            POOL_COUNTY,
        )
    county_detail = list(county_hazards.order_by("-id").values_list("id", flat=True)[:DETAIL_SAMPLE])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE hazards_hazard")

    regions = [county, *town_of.values()]
    pages = _report_pages(regions)
    if {p["region"] for p in pages} != {r.code for r in regions}:
        raise SystemExit("[load.prepare] no report table has a campaign: the seeded campaigns are missing")
    exports = _exports(users, {county.code: "county_staff", **{town_of[n].code: n for n in TOWN_USERS}}, pages)
    signs = sum(len(a["pool"]) for a in accounts)
    log(
        f"{len(accounts)} enterprises with a clerk and a principal, pools: sign {signs}, "
        f"town confirm {sum(len(t['pool']) for t in towns)}, county confirm {len(county_pool)}; "
        f"{len(pages)} report pages, {len(exports)} export files; {time.perf_counter() - started:.1f} s in all"
    )
    return {
        "password": DEMO_PASSWORD,
        "county": {"code": county.code, "users": ["county_staff"], "leaders": ["county_leader"],
                   "pool": county_pool, "detail": county_detail},
        "towns": towns,
        "enterprises": accounts,
        "reports": [{"region": p["region"], "url": p["url"]} for p in pages],
        "exports": exports,
        "town_codes": {name: region.code for name, region in town_of.items()},
    }  # fmt: skip


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m load.prepare FIXTURE.json", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    fixture = prepare()
    Path(argv[1]).write_text(json.dumps(fixture, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
