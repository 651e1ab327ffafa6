"""Fault drills on the production-like stack (tests/prodstack.py), through HTTP and real processes:

a. the worker is killed (-9, the whole process group) in the middle of a report job → restarted at once,
   it gets the job again within the lease + the sweep interval (reporting/leases.py; Redis alone would
   wait its visibility timeout, an hour) and completes it, once; its pool process is killed while
   signing a table → the job completes once, one version;
b. Redis restarts while jobs wait in the queue (no worker) → they still run, each once;
c. PostgreSQL stops while a big ledger import is being written → a clear error, no partial rows
   once it is back, and the import then succeeds; right after a restart no request or job fails;
d. two county users confirm the same hazard at the same moment → one transition, one clear refusal.

A job is held in its middle, so that the kill lands there every time, by locking from the test the table
of records it reads next (inspections_enforcementrecord): the worker has claimed it (running, 20 %) and
waits. The web requests that start the jobs do not read that table.

Each drill leaves the stack healthy for the next. Figures are printed (pytest -s shows them).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.hazards import ledger_xlsx
from tests.prod.conftest import DEMO_PASSWORD, LEASE_SECONDS, SWEEP_SECONDS, wait_for_job
from tests.prodstack import PortalClient, ProdStack, Response
from tests.services import descendants, wait_until

pytestmark = [pytest.mark.processes, pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHINESE = re.compile(r"[\u4e00-\u9fff]{2,}")
SHOWCASE = "泽州县示范矿业有限公司"


def export(client: PortalClient, file_format: str, month: str = "2024-05") -> str:
    answer = client.post(
        "/api/v1/report-exports/",
        json_body={"kind": "accountability", "region": "140525", "month": month, "file_format": file_format},
    )
    assert answer.status == 202, answer.text[:2000]
    return str(answer.json()["id"])


def job_row(stack: ProdStack, job_id: str) -> tuple[str, int, int, str]:
    rows = stack.query("SELECT status, progress, attempts, file FROM reporting_exportjob WHERE id = %s", (job_id,))
    return rows[0]  # type: ignore[return-value]


def export_files(stack: ProdStack, job_id: str) -> list[str]:
    folder = stack.media_root / "reports" / "exports"
    return sorted(str(path.relative_to(stack.media_root)) for path in folder.rglob(f"{job_id}-*"))


def report(label: str, **figures: Any) -> None:
    print(f"\n[drill] {label}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))


# --- a. kill -9 the worker in the middle of a report job ------------------------------------------------


def test_worker_killed_mid_job_completes_once_after_restart(
    stack: ProdStack, login: Callable[[str], PortalClient], healthy_again: ProdStack
) -> None:
    county = login("county_staff")
    versions_before = stack.scalar("SELECT count(*) FROM reporting_reportversion")
    hold = stack.connect()
    hold.autocommit = False
    try:
        with hold.cursor() as cursor:
            cursor.execute("LOCK TABLE inspections_enforcementrecord IN ACCESS EXCLUSIVE MODE")
        job_id = export(county, "pdf")
        wait_until(lambda: job_row(stack, job_id)[:2] == ("running", 20), 60, "the worker never started the job")
        delivered_at = time.monotonic()
        stack.kill("worker")
        killed = time.monotonic()
    finally:
        hold.rollback()
        hold.close()
    time.sleep(1.0)
    # Nobody works on it now: claimed by a dead worker, no file.
    assert job_row(stack, job_id) == ("running", 20, 1, "")
    assert not stack.components["worker"].running()

    # Restarted at once: Redis would hand the dead worker's message out only after its visibility timeout
    # (an hour); the sweep requeues the job once the dead claim's heartbeat is past the lease.
    restarted = time.monotonic()
    stack.start_component("worker")
    ready = time.monotonic()
    job = wait_for_job(county, job_id, timeout=120)
    done = time.monotonic()
    assert job["status"] == "success", job
    status, progress, attempts, path = job_row(stack, job_id)
    assert (status, progress, attempts) == ("success", 100, 2)
    assert export_files(stack, job_id) == [path], "exactly one file for the job"
    download = county.get(job["file_url"])
    assert download.status == 200 and download.body.startswith(b"%PDF-")
    assert stack.scalar("SELECT count(*) FROM reporting_reportversion") == versions_before
    log = stack.components["worker"].log()
    assert log.count("run_export[") >= 2  # received twice: before the kill and after the restart
    requeued = stack.query(
        "SELECT actor_name, detail FROM portal_auditevent WHERE object_id = %s AND detail LIKE %s",
        (job_id, "%重新排队%"),
    )
    assert len(requeued) == 1 and requeued[0][0] == "系统", requeued
    # Bounded: the lease, one sweep interval, the worker's start and the job itself.
    assert done - killed < LEASE_SECONDS + SWEEP_SECONDS + (ready - restarted) + 30, done - killed
    report(
        "worker kill -9",
        killed_after_delivery_s=round(killed - delivered_at, 1),
        worker_start_s=round(ready - restarted, 1),
        kill_to_done_s=round(done - killed, 1),
        lease_s=LEASE_SECONDS,
        sweep_s=SWEEP_SECONDS,
        attempts=attempts,
        files=1,
    )


def submitted_version(stack: ProdStack, county: PortalClient) -> int:
    """The county's own 追责问责情况统计表 of 2024-05, drafted and submitted on its page (HTML forms)."""
    act = "/reports/accountability/140525/2024-05/act/"
    assert county.post(act, data={"action": "refresh"}).status == 200
    version_id = stack.scalar(
        "SELECT v.id FROM reporting_reportversion v JOIN reporting_report r ON r.id = v.report_id "
        "JOIN portal_region g ON g.id = r.region_id WHERE g.code = '140525' AND r.kind = 'accountability' "
        "AND r.month = '2024-05-01' AND v.status = 'draft'"
    )
    # the demo's towns have not submitted May's table: the county gives the reason (printed in 备注)
    data = {"action": "submit", "version": str(version_id), "missing_reason": "各镇尚未报送（演练）"}
    assert county.post(act, data=data).status == 200
    assert stack.scalar("SELECT status FROM reporting_reportversion WHERE id = %s", (version_id,)) == "submitted"
    return int(version_id)


def test_pool_process_killed_while_signing_is_requeued_and_signs_once(
    stack: ProdStack, login: Callable[[str], PortalClient], healthy_again: ProdStack
) -> None:
    # The other way a worker dies: the out-of-memory killer takes the pool process running the job; the
    # worker's main process lives on, gives the message back (task_reject_on_worker_lost) and forks anew.
    # The job here is 分管负责人签字, which freezes the version with its files.
    county, leader = login("county_staff"), login("county_leader")
    version_id = submitted_version(stack, county)
    report_id = stack.scalar("SELECT report_id FROM reporting_reportversion WHERE id = %s", (version_id,))
    worker = stack.components["worker"]
    # 签字 posts the fingerprint of the version the page showed (read before the records are locked below)
    page = leader.get("/reports/accountability/140525/2024-05/")
    shown = re.search(r'name="fingerprint" value="([0-9a-f]{64})"', page.text)
    assert shown, "the table page offers no 签字 for the submitted version"
    hold = stack.connect()
    hold.autocommit = False
    try:
        with hold.cursor() as cursor:
            cursor.execute("LOCK TABLE inspections_enforcementrecord IN ACCESS EXCLUSIVE MODE")
        signing = leader.post(
            "/reports/accountability/140525/2024-05/act/",
            data={
                "action": "sign",
                "version": str(version_id),
                "fingerprint": shown.group(1),
                "password": DEMO_PASSWORD,
            },
        )
        assert signing.status == 200 and "/reports/exports/" in signing.url, signing.url
        job_id = signing.url.rstrip("/").rsplit("/", 1)[-1]
        wait_until(lambda: job_row(stack, job_id)[:2] == ("running", 20), 60, "the worker never started signing")
        pool = descendants(worker.pid)
        assert pool, "the worker has no pool processes"
        for pid in pool:
            os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
    finally:
        hold.rollback()
        hold.close()
    job = wait_for_job(leader, job_id, timeout=60)
    done = time.monotonic()
    assert worker.running(), "the worker's main process should survive its pool"
    assert "WorkerLostError" in worker.log()
    assert (job["status"], job_row(stack, job_id)[2]) == ("success", 2), job
    versions = stack.query(
        "SELECT number, status, xlsx_file, pdf_file, xlsx_sha256, pdf_sha256 FROM reporting_reportversion "
        "WHERE report_id = %s",
        (report_id,),
    )
    assert [(number, status) for number, status, *_ in versions] == [(1, "signed")]
    _, _, xlsx, pdf, xlsx_sha256, pdf_sha256 = versions[0]
    folder = stack.media_root / "reports" / "accountability" / "140525" / "2024-05"
    stored = sorted(str(path.relative_to(stack.media_root)) for path in folder.iterdir())
    assert stored == sorted([xlsx, pdf]), "one .xlsx and one .pdf, no second set"
    assert hashlib.sha256((stack.media_root / xlsx).read_bytes()).hexdigest() == xlsx_sha256
    assert hashlib.sha256((stack.media_root / pdf).read_bytes()).hexdigest() == pdf_sha256
    report("pool process kill -9 while signing", pool=len(pool), kill_to_done_s=round(done - killed, 1), versions=1)


# --- b. Redis restarts while jobs are queued -------------------------------------------------------------


def test_redis_restart_keeps_queued_jobs(
    stack: ProdStack, login: Callable[[str], PortalClient], healthy_again: ProdStack
) -> None:
    import redis

    county = login("county_staff")
    stack.stop_component("worker")
    stack.stop_component("beat")  # its periodic messages would change the queue's length meanwhile
    # Three distinct jobs (identical requests are answered with the one job already queued).
    jobs = [export(county, "xlsx", month) for month in ("2024-05", "2024-06", "2024-07")]
    broker = redis.Redis(host="127.0.0.1", port=stack.redis.port)
    queued_before = broker.llen("celery")
    assert queued_before >= 3, queued_before
    started = time.monotonic()
    stack.restart_redis()
    restart_s = time.monotonic() - started
    queued_after = broker.llen("celery")
    assert queued_after == queued_before, "the queued messages did not survive the restart"
    assert all(job_row(stack, job_id)[0] == "pending" for job_id in jobs)
    wait_until(lambda: stack.health()[0] == 200, 30, "/healthz not healthy after the Redis restart")

    stack.start_component("worker")
    started = time.monotonic()
    results = [wait_for_job(county, job_id, timeout=90) for job_id in jobs]
    assert [r["status"] for r in results] == ["success"] * 3, results
    for job_id in jobs:
        status, _, attempts, path = job_row(stack, job_id)
        assert (status, attempts) == ("success", 1)
        assert export_files(stack, job_id) == [path]
    # And the web keeps sending to the restarted Redis.
    after = export(county, "xlsx")
    assert wait_for_job(county, after)["status"] == "success"
    report(
        "redis restart",
        queued=queued_before,
        after_restart=queued_after,
        restart_s=round(restart_s, 1),
        all_done_s=round(time.monotonic() - started, 1),
    )


# --- c. PostgreSQL stops during a ledger import ----------------------------------------------------------


def big_ledger(rows: int) -> bytes:
    found = dt.date(2025, 3, 1)  # outside every campaign's months: the monthly tables stay small
    return ledger_xlsx.build(
        [
            ledger_xlsx.row(f"BIG-{n:05d}", f"台账导入演练隐患第{n}条", found_on=found, deadline=dt.date(2026, 12, 31))
            for n in range(1, rows + 1)
        ]
    )


def hazard_count(stack: ProdStack) -> int:
    return int(stack.scalar("SELECT count(*) FROM hazards_hazard"))


def test_postgres_stopped_during_a_ledger_import(
    stack: ProdStack, login: Callable[[str], PortalClient], healthy_again: ProdStack
) -> None:
    rows = 3000
    clerk = login("clerk")
    upload = clerk.post("/api/v1/ledger-uploads/", files={"file": ("大台账.xlsx", big_ledger(rows), XLSX)})
    assert upload.status == 201, upload.text[:2000]
    upload_id = upload.json()["upload"]["id"]
    before = hazard_count(stack)

    answers: list[Response] = []
    sent = threading.Event()

    def confirm() -> None:
        sent.set()
        answers.append(clerk.post(f"/api/v1/ledger-uploads/{upload_id}/commit/"))

    thread = threading.Thread(target=confirm)
    thread.start()
    sent.wait()

    def inserting() -> bool:
        found = stack.query(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
            "AND (query ILIKE 'INSERT INTO \"hazards_hazard%%' OR query ILIKE 'COPY \"hazards_hazard%%')"
        )  # the import writes hazards and their events by INSERT, or by COPY on PostgreSQL (portal.bulk)
        return bool(found[0][0])

    wait_until(inserting, 60, "the import never started writing hazards", interval=0.01)
    stopped = time.monotonic()
    stack.stop_postgres("fast")
    thread.join(timeout=60)
    answer = answers[0]
    body = answer.text
    report("postgres stop", status=answer.status, body=body[:200].replace("\n", " "))
    assert answer.status in (500, 503), (answer.status, body[:2000])
    assert "Traceback" not in body and "OperationalError" not in body and "psycopg2" not in body
    assert CHINESE.search(body), f"no Chinese message: {body[:500]}"
    while_down = PortalClient(stack.base_url).get("/healthz")
    assert while_down.status == 503

    stack.start_postgres()
    down_s = time.monotonic() - stopped
    # Back at once, without a health probe first.
    pages = [clerk.get(f"/api/v1/ledger-uploads/{upload_id}/").status for _ in range(3 * stack.web_concurrency)]
    assert pages == [200] * len(pages), pages
    assert hazard_count(stack) == before, "partial rows after the failed import"
    assert stack.query("SELECT status, committed_at FROM hazards_ledgerupload WHERE id = %s", (upload_id,)) == [
        ("pending", None)
    ]
    assert stack.scalar("SELECT count(*) FROM hazards_hazard WHERE ledger_number LIKE 'BIG-%%'") == 0

    started = time.monotonic()
    retry = clerk.post(f"/api/v1/ledger-uploads/{upload_id}/commit/")
    retry_s = time.monotonic() - started
    assert retry.status == 200, retry.text[:2000]
    assert hazard_count(stack) == before + rows
    assert stack.query("SELECT status, created_count FROM hazards_ledgerupload WHERE id = %s", (upload_id,)) == [
        ("committed", rows)
    ]
    report("postgres stop", rows=rows, down_s=round(down_s, 1), retry_s=round(retry_s, 1))


def test_requests_and_jobs_right_after_a_postgres_restart(
    stack: ProdStack, login: Callable[[str], PortalClient], healthy_again: ProdStack
) -> None:
    # Every gunicorn worker and Celery pool process keeps its connection between requests (CONN_MAX_AGE):
    # after PostgreSQL restarts, none of them may answer the next request or job with that dead connection.
    county = login("county_staff")
    warm = [county.get("/api/v1/hazards/?page_size=1").status for _ in range(3 * stack.web_concurrency)]
    assert warm == [200] * len(warm)
    assert wait_for_job(county, export(county, "xlsx"))["status"] == "success"
    stack.stop_postgres("fast")
    stack.start_postgres()
    pages = [county.get("/api/v1/hazards/?page_size=1").status for _ in range(3 * stack.web_concurrency)]
    job_id = export(county, "xlsx")
    job = wait_for_job(county, job_id, timeout=60)
    report("postgres restart while idle", pages=pages, job=job["status"])
    assert pages == [200] * len(pages), pages
    assert job["status"] == "success" and job_row(stack, job_id)[2] == 1, job


# --- d. two county users confirm the same hazard at once ---------------------------------------------------


def test_two_county_users_confirm_the_same_hazard_at_once(
    stack: ProdStack, login: Callable[[str], PortalClient]
) -> None:
    stack.manage(
        "shell", "-c",
        "from portal import services; from portal.models import Region, User\n"
        "if not User.objects.filter(username='county_staff2').exists():\n"
        f"    services.user_create(actor=None, username='county_staff2', password='{DEMO_PASSWORD}', "
        "role='county_staff', full_name='县局股室二', region=Region.objects.get(code='140525'))",
    )  # fmt: skip
    clerk, principal, town = login("clerk"), login("principal"), login("town_bagong")
    first, second = login("county_staff"), login("county_staff2")
    ledger = ledger_xlsx.build([ledger_xlsx.major_row("RACE-900", deadline=dt.date(2026, 12, 31))])
    upload = clerk.post("/api/v1/ledger-uploads/", files={"file": ("台账.xlsx", ledger, XLSX)})
    assert upload.status == 201, upload.text[:2000]
    assert clerk.post(f"/api/v1/ledger-uploads/{upload.json()['upload']['id']}/commit/").status == 200
    hazard_id = stack.scalar("SELECT id FROM hazards_hazard WHERE ledger_number = 'RACE-900'")
    shown = principal.get(f"/api/v1/hazards/{hazard_id}/").json()["fingerprint"]  # the signer reads it first
    signing = {"fingerprint": shown, "password": DEMO_PASSWORD}  # a signature asks for the password again
    for client, name, body in ((principal, "sign-report", signing), (town, "confirm-town", {})):
        answer = client.post(f"/api/v1/hazards/{hazard_id}/{name}/", json_body=body)
        assert answer.status == 200, answer.text[:2000]

    barrier = threading.Barrier(2)
    answers: dict[str, Response] = {}

    def confirm(client: PortalClient) -> None:
        barrier.wait()
        answers[client.username] = client.post(
            f"/api/v1/hazards/{hazard_id}/confirm-county/", json_body={"comment": f"{client.username} 确认"}
        )

    threads = [threading.Thread(target=confirm, args=(client,)) for client in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    statuses = sorted(answer.status for answer in answers.values())
    refused = next(answer for answer in answers.values() if answer.status != 200)
    report("concurrent confirm", statuses=statuses, refusal=refused.text[:200])
    assert statuses == [200, 409], {name: (a.status, a.text[:300]) for name, a in answers.items()}
    assert CHINESE.search(refused.json()["detail"]), refused.text
    events = stack.query(
        "SELECT action, from_status, to_status FROM hazards_hazardevent WHERE hazard_id = %s AND action = %s",
        (hazard_id, "county_confirm"),
    )
    assert events == [("county_confirm", "pending_county", "confirmed")]
    assert stack.scalar("SELECT status FROM hazards_hazard WHERE id = %s", (hazard_id,)) == "confirmed"
