"""Report jobs against a real Celery worker of the production-like stack (tests/prodstack.py):

a. an export that passes its soft time limit is marked 失败 with the Chinese reason, by the task itself;
b. an export whose pool process is killed at the hard limit every time ends 失败 through beat's sweep
   (reporting/leases.py: requeued until MAX_ATTEMPTS claims, then given up), not 运行中 for ever;
c. the 三清单 PDF of a county whose hazards carry texts at their max_length completes well within the
   soft limit, on the worker with the production limits (time and pages printed and bounded).

For a and b the worker and web are restarted with REPORT_JOB_SOFT_SECONDS / REPORT_JOB_HARD_SECONDS of a
few seconds (portal/limits.py; the sender stamps the limits on the message, and the worker obeys those).
A job is held in its middle deterministically as tests/prod/test_faults.py does: the test locks the table
the job reads next (inspections_enforcementrecord). Celery's soft limit is a signal, handled once the
blocked query returns: the lock is released after the soft limit (a) or never (b).
Both get their production limits back at the end.

Figures are printed (pytest -s shows them).
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from portal import limits
from tests.hazards import ledger_xlsx
from tests.prod.conftest import LEASE_SECONDS, SWEEP_SECONDS, wait_for_job
from tests.prod.test_faults import export, job_row, report
from tests.prodstack import PortalClient, ProdStack
from tests.reporting import pdftext
from tests.services import wait_until

pytestmark = [pytest.mark.processes, pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SOFT_S, HARD_S = 2, 6
LONG_HAZARDS = 50  # hazards of the county with every text at its max_length


def job_state(stack: ProdStack, job_id: str) -> tuple[str, str, int, str]:
    rows = stack.query("SELECT status, error, attempts, file FROM reporting_exportjob WHERE id = %s", (job_id,))
    return rows[0]  # type: ignore[return-value]


class HeldRecords:
    """LOCK TABLE inspections_enforcementrecord from the test, until released: a report job blocks there."""

    def __init__(self, stack: ProdStack) -> None:
        self.connection = stack.connect()
        self.connection.autocommit = False
        with self.connection.cursor() as cursor:
            cursor.execute("LOCK TABLE inspections_enforcementrecord IN ACCESS EXCLUSIVE MODE")

    def release(self) -> None:
        if self.connection is not None:
            self.connection.rollback()
            self.connection.close()
            self.connection = None


# --- c. the long-text 三清单 with the production limits ------------------------------------------------


def fill(text: str, length: int) -> str:
    return (text * (length // len(text) + 1))[:length]


def long_ledger(prefix: str) -> bytes:
    from hazards.models import Hazard

    size = limits.text_limits(Hazard)
    rows = [
        ledger_xlsx.row(
            f"{prefix}-{n:03d}",
            fill(f"第{n}处边坡浮石未清理，警戒标志缺失，运输道路临边无挡墙；", size["description"]),
            location=fill("+320平台北侧边坡", size["location"]),
            found_on=dt.date(2023, 12, 5),
            found_by=fill("张三", size["found_by"]),
            measures=fill("清理浮石，设置警戒标志和挡墙，安排专人巡查；", size["measures"]),
            unit=fill("采矿车间", size["responsible_unit"]),
            person=fill("李四", size["responsible_person"]),
            deadline=dt.date(2024, 1, 31),
            interim=fill("设置警戒线，专人看护；", size["interim_measures"]),
            note=fill("正在整改；", size["rectification_note"]),
        )
        for n in range(1, LONG_HAZARDS + 1)
    ]
    return ledger_xlsx.build(rows)


@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="需要 Debian 软件包 poppler-utils")
def test_three_lists_pdf_of_max_length_texts_completes_within_the_soft_limit(
    stack: ProdStack, login: Callable[[str], PortalClient]
) -> None:
    clerk, county = login("clerk"), login("county_staff")
    upload = clerk.post("/api/v1/ledger-uploads/", files={"file": ("长文本台账.xlsx", long_ledger("LONG"), XLSX)})
    assert upload.status == 201, upload.text[:3000]
    commit = clerk.post(f"/api/v1/ledger-uploads/{upload.json()['upload']['id']}/commit/")
    assert commit.status == 200, commit.text[:3000]
    longest = stack.scalar(
        "SELECT count(*) FROM hazards_hazard WHERE ledger_number LIKE 'LONG-%%' AND char_length(description) = %s",
        (limits.TEXT_NOTE,),
    )
    assert longest == LONG_HAZARDS

    started = time.monotonic()
    job_id = export_three_lists(county)
    job = wait_for_job(county, job_id, timeout=limits.REPORT_JOB["soft_time_limit"] + 60)
    took = time.monotonic() - started
    assert job["status"] == "success", job
    pdf = county.get(job["file_url"])
    assert pdf.status == 200 and pdf.body.startswith(b"%PDF-")
    pages = pdftext.pages(pdf.body)
    report(
        f"三清单 PDF of {LONG_HAZARDS} hazards with max-length texts",
        seconds=round(took, 1),
        pages=pages,
        kb=len(pdf.body) // 1024,
        soft_limit_s=limits.REPORT_JOB["soft_time_limit"],
    )
    # Every text is in (each hazard's description alone fills pages), and the file stays bounded.
    assert 4 * LONG_HAZARDS <= pages <= 20 * LONG_HAZARDS, pages
    # Well within the soft limit (5 minutes), with room for a county several times larger.
    assert took < limits.REPORT_JOB["soft_time_limit"] / 2, took


def export_three_lists(client: PortalClient) -> str:
    answer = client.post(
        "/api/v1/report-exports/",
        json_body={"kind": "three_lists", "region": "140525", "month": "2023-12", "file_format": "pdf"},
    )
    assert answer.status == 202, answer.text[:2000]
    return str(answer.json()["id"])


# --- a and b: a worker with limits of a few seconds -----------------------------------------------------


@pytest.fixture(scope="module")
def limited_worker(stack: ProdStack) -> Iterator[ProdStack]:
    """The worker and web with limits of a few seconds: the sender stamps a task's limits on its message
    (Celery's `timelimit` header), and the worker obeys the message, so both need them."""
    production = stack.env
    limited = {**production, "REPORT_JOB_SOFT_SECONDS": str(SOFT_S), "REPORT_JOB_HARD_SECONDS": str(HARD_S)}
    names = ("worker", "web")
    try:
        for name in names:
            stack.stop_component(name)
            stack.components[name].env = limited
            stack.start_component(name)
            environ = Path(f"/proc/{stack.components[name].pid}/environ").read_bytes().split(b"\0")
            assert f"REPORT_JOB_SOFT_SECONDS={SOFT_S}".encode() in environ
        yield stack
    finally:
        for name in names:
            stack.stop_component(name)
            stack.components[name].env = production
            stack.start_component(name)


def test_export_past_its_soft_limit_in_a_real_worker_is_marked_failed_with_the_reason(
    limited_worker: ProdStack, login: Callable[[str], PortalClient]
) -> None:
    stack = limited_worker
    leader = login("county_leader")
    log_from = len(stack.components["worker"].log())
    held = HeldRecords(stack)
    try:
        job_id = export(leader, "xlsx", month="2024-06")
        wait_until(lambda: job_row(stack, job_id)[:2] == ("running", 20), 60, "the worker never started the job")
        started = time.monotonic()
        time.sleep(SOFT_S + 1.5)  # past the soft limit, before the hard one
    finally:
        held.release()
    job = wait_for_job(leader, job_id, timeout=30)
    failed_after = time.monotonic() - started
    status, error, attempts, path = job_state(stack, job_id)
    log = stack.components["worker"].log()[log_from:]
    assert (job["status"], status, attempts, path) == ("failed", "failed", 1, ""), log[-3000:]
    assert error == f"超过时限（{SOFT_S} 秒）仍未完成，任务已停止。请缩小范围后重试，或联系管理员。"
    assert job["error"] == error
    assert f"Soft time limit ({SOFT_S}s) exceeded" in log, log[-3000:]
    assert "Hard time limit" not in log
    assert failed_after < HARD_S
    report("soft time limit in the worker", soft_s=SOFT_S, failed_after_s=round(failed_after, 1), error=error)


def test_export_killed_at_its_hard_limit_ends_failed_through_the_sweep(
    limited_worker: ProdStack, login: Callable[[str], PortalClient]
) -> None:
    from reporting.leases import GAVE_UP_MESSAGE, MAX_ATTEMPTS

    stack = limited_worker
    leader = login("county_leader")
    worker = stack.components["worker"]
    log_from = len(worker.log())
    held = HeldRecords(stack)
    try:
        job_id = export(leader, "pdf", month="2024-06")
        started = time.monotonic()
        seen: list[tuple[Any, ...]] = []

        def ended() -> bool:
            state = job_state(stack, job_id)
            if not seen or seen[-1][:3] != state[:3]:
                seen.append((*state[:3], round(time.monotonic() - started, 1)))
            return state[0] in ("failed", "success")

        # Each attempt: killed at HARD_S, requeued by the sweep once its heartbeat is past the lease.
        wait_until(ended, MAX_ATTEMPTS * (HARD_S + LEASE_SECONDS + SWEEP_SECONDS + 10) + 30, "the job never ended")
        took = time.monotonic() - started
    finally:
        held.release()
    status, error, attempts, path = job_state(stack, job_id)
    assert (status, error, attempts, path) == ("failed", GAVE_UP_MESSAGE, MAX_ATTEMPTS, ""), seen
    log = worker.log()[log_from:]
    assert log.count(f"Hard time limit ({HARD_S}s) exceeded") == MAX_ATTEMPTS, log[-3000:]
    assert worker.running(), "the worker's main process outlives its killed pool processes"
    audit = stack.query("SELECT detail FROM portal_auditevent WHERE object_id = %s ORDER BY id", (job_id,))
    details = [detail for (detail,) in audit]
    assert details.count(GAVE_UP_MESSAGE) == 1 and len([d for d in details if "重新排队" in d]) == MAX_ATTEMPTS - 1
    job = wait_for_job(leader, job_id, timeout=5)
    assert job["status"] == "failed" and job["error"] == GAVE_UP_MESSAGE
    report("hard time limit in the worker", hard_s=HARD_S, attempts=attempts, ended_after_s=round(took, 1), states=seen)
