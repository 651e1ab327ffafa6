"""Report jobs are bounded: time limits (a job stopped or killed at its limit is marked failed, in Chinese),
one queued or running export per user × table × format, and a per-user rate on creating them.

Through the service, the task body (as the worker runs it), the table page and the API; the concurrent
requests race on real PostgreSQL (`--db=postgresql`), the constraint itself is checked on both databases.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from portal import limits
from portal.models import AuditEvent
from reporting import schedule, services
from reporting.choices import FileFormat, JobStatus, ReportKind, VersionStatus
from reporting.models import ExportJob, ReportVersion, ScheduledRun
from reporting.tasks import expire_stale_jobs, run_export, run_sign

MAY = dt.date(2024, 5, 1)
DEC = dt.date(2023, 12, 1)


def deliver(task: Any, job_id: Any) -> str:
    """Run the task body as the worker does for a first delivery."""
    task.push_request(id="t-1", retries=0, delivery_info={"redelivered": False})
    try:
        return task.run(str(job_id))  # type: ignore[no-any-return]
    finally:
        task.pop_request()


def request(user: Any, region: Any, *, file_format: str = "xlsx", month: dt.date = MAY) -> ExportJob:
    return services.export_request(
        actor=user, kind=ReportKind.ACCOUNTABILITY, region=region, month=month, file_format=file_format
    )


# --- time limits ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_export_stopped_at_its_soft_time_limit_is_marked_failed_with_the_reason(
    scenario: Any, cast: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = request(cast.county_staff, scenario.world.county)

    def runs_too_long(**kwargs: Any) -> bytes:
        raise SoftTimeLimitExceeded()  # what Celery raises inside the task when the soft limit passes

    monkeypatch.setattr("reporting.tasks.build_file", runs_too_long)
    assert deliver(run_export, job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.finished_at is not None and not job.file
    assert job.error.startswith("超过时限（5 分钟）仍未完成，任务已停止。")
    assert job.attempts == 1  # not retried: it would only time out again


@pytest.mark.django_db
def test_a_sign_job_stopped_at_its_soft_time_limit_fails_and_signs_nothing(
    scenario: Any, cast: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = services.report_get_or_create(
        kind=ReportKind.ACCOUNTABILITY, region=scenario.world.town_a, campaign=scenario.accountability, month=MAY,
        due_day=23,
    )  # fmt: skip
    version = services.report_submit(
        actor=cast.town_a_staff, version=services.report_refresh(actor=None, report=report)
    )
    job = services.sign_request(
        actor=cast.county_leader, version=version, fingerprint=services.shown_fingerprint(version)
    )

    def runs_too_long(table: Any) -> bytes:
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr("reporting.services.build_pdf", runs_too_long)
    assert deliver(run_sign, job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "超过时限" in job.error
    signed = ReportVersion.objects.get(pk=version.pk)
    assert signed.status == VersionStatus.SUBMITTED and not signed.xlsx_file and not signed.xlsx_sha256


@pytest.mark.django_db
def test_a_job_killed_at_its_hard_limit_is_marked_failed_by_the_sweeper(scenario: Any, cast: Any) -> None:
    killed = request(cast.county_staff, scenario.world.county)
    fresh = request(cast.county_staff, scenario.world.county, file_format="pdf")
    waiting = request(cast.town_a_staff, scenario.world.town_a)
    assert services.export_claim(job_id=killed.pk, claimant="t-1") and services.export_claim(
        job_id=fresh.pk, claimant="t-2"
    )
    hard = int(limits.REPORT_JOB["time_limit"])
    # The worker killed the pool process at the hard limit: nothing wrote on the job, it still says 生成中.
    # Its heartbeat stopped with it (reporting/leases.py); the fresh one's holder is alive.
    long_ago = timezone.now() - dt.timedelta(seconds=hard + 61)
    ExportJob.objects.filter(pk=killed.pk).update(started_at=long_ago, heartbeat_at=long_ago)
    ExportJob.objects.filter(pk=fresh.pk).update(started_at=timezone.now() - dt.timedelta(seconds=hard - 5))

    assert expire_stale_jobs.run() == 1
    killed.refresh_from_db()
    assert killed.status == JobStatus.FAILED and killed.finished_at is not None
    assert killed.error.startswith("超过时限（6 分钟）仍未完成，任务已被终止。")
    assert AuditEvent.objects.filter(object_id=str(killed.pk), detail="任务超时，标记为失败").count() == 1
    assert ExportJob.objects.get(pk=fresh.pk).status == JobStatus.RUNNING  # still within its limit
    assert ExportJob.objects.get(pk=waiting.pk).status == JobStatus.PENDING  # queued, not started
    assert expire_stale_jobs.run() == 0  # once


@pytest.mark.django_db
def test_a_killed_job_does_not_answer_for_new_requests(scenario: Any, cast: Any) -> None:
    killed = request(cast.county_staff, scenario.world.county)
    assert services.export_claim(job_id=killed.pk, claimant="t-1")
    an_hour_ago = timezone.now() - dt.timedelta(hours=1)
    ExportJob.objects.filter(pk=killed.pk).update(started_at=an_hour_ago, heartbeat_at=an_hour_ago)
    again = request(cast.county_staff, scenario.world.county)
    assert again.pk != killed.pk and again.status == JobStatus.PENDING
    assert ExportJob.objects.get(pk=killed.pk).status == JobStatus.FAILED


def test_beat_runs_the_sweeper(settings: Any) -> None:
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == expire_stale_jobs.name]
    assert len(entries) == 1 and float(entries[0]["schedule"]) <= limits.REPORT_JOB["time_limit"]


# --- one job per user × table × format -------------------------------------------------------------------


@pytest.mark.django_db
def test_identical_requests_share_one_job(scenario: Any, cast: Any, django_capture_on_commit_callbacks: Any) -> None:
    county = scenario.world.county
    with django_capture_on_commit_callbacks() as queued:
        jobs = {request(cast.county_staff, county).pk for _ in range(20)}
    assert len(jobs) == 1 and ExportJob.objects.count() == 1
    assert len(queued) == 1  # one message for the worker, not twenty
    assert AuditEvent.objects.filter(action="export", object_id=str(jobs.pop())).count() == 1
    # Another format, another user, another month: jobs of their own.
    assert request(cast.county_staff, county, file_format="pdf").pk != request(cast.county_staff, county).pk
    assert request(cast.county_leader, county).pk != request(cast.county_staff, county).pk
    assert request(cast.county_staff, county, month=dt.date(2024, 6, 1)).pk != request(cast.county_staff, county).pk
    assert ExportJob.objects.count() == 4


@pytest.mark.django_db
@pytest.mark.parametrize("outcome", ["success", "failed"])
def test_a_finished_job_does_not_answer_for_a_new_request(scenario: Any, cast: Any, outcome: str) -> None:
    first = request(cast.county_staff, scenario.world.county)
    if outcome == "success":
        services.job_succeed(job_id=first.pk)
    else:
        services.export_fail(job_id=first.pk, error="生成失败", retrying=False)
    assert request(cast.county_staff, scenario.world.county).pk != first.pk
    # A job waiting for its retry is still the one to wait for.
    second = request(cast.county_staff, scenario.world.county)
    services.export_fail(job_id=second.pk, error="数据库暂时不可用", retrying=True)
    assert request(cast.county_staff, scenario.world.county).pk == second.pk


@pytest.mark.django_db
def test_the_database_refuses_a_second_active_identical_export(scenario: Any, cast: Any) -> None:
    job = request(cast.county_staff, scenario.world.county)
    same = {
        "kind": job.kind, "region": job.region, "month": job.month, "file_format": job.file_format,
        "requested_by": cast.county_staff,
    }  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        ExportJob.objects.create(**same, status=JobStatus.RUNNING)
    ExportJob.objects.create(**same, status=JobStatus.SUCCESS)  # finished ones are many
    ExportJob.objects.create(**same, status=JobStatus.FAILED)


@pytest.mark.django_db
def test_the_page_and_the_api_answer_with_the_running_job(scenario: Any, cast: Any, client: Any) -> None:
    client.force_login(cast.town_a_staff)
    url = reverse("reporting:act", args=["winter", "140525108", "2023-12"])
    first = client.post(url, {"action": "export_xlsx"})
    second = client.post(url, {"action": "export_xlsx"})
    assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]
    job = ExportJob.objects.get()
    assert first["Location"] == reverse("reporting:export", args=[job.pk])
    api = APIClient()
    api.force_authenticate(cast.town_a_staff)
    body = {"kind": "winter", "region": "140525108", "month": "2023-12", "file_format": "xlsx"}
    answer = api.post("/api/v1/report-exports/", body, format="json")
    assert answer.status_code == 202 and answer.json()["id"] == str(job.pk)
    assert ExportJob.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_identical_requests_make_one_job_on_postgresql(scenario: Any, cast: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions: run with --db=postgresql")
    count = 8
    start = threading.Barrier(count)
    answers: list[str] = []
    failures: list[BaseException] = []

    def ask() -> None:
        try:
            start.wait(timeout=20)
            answers.append(str(request(cast.county_staff, scenario.world.county).pk))
        except BaseException as exc:  # noqa: BLE001 # reported by the assertion below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert len(answers) == count and len(set(answers)) == 1
    assert ExportJob.objects.count() == 1
    assert AuditEvent.objects.filter(action="export").count() == 1


# --- per-user rate ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_user_creating_jobs_too_fast_is_refused_in_chinese(
    scenario: Any, cast: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "EXPORT_RATE_COUNT", 3)
    county = scenario.world.county
    for _ in range(3):
        services.job_succeed(job_id=request(cast.county_staff, county).pk)
    with pytest.raises(services.ExportRateLimited) as refused:
        request(cast.county_staff, county)
    assert refused.value.message == "导出请求过于频繁：10 分钟内最多申请 3 次，请稍后再试。"
    assert ExportJob.objects.count() == 3

    api = APIClient()
    api.force_authenticate(cast.county_staff)
    body = {"kind": "accountability", "region": "140525", "month": "2024-05", "file_format": "pdf"}
    answer = api.post("/api/v1/report-exports/", body, format="json")
    assert answer.status_code == 429 and "导出请求过于频繁" in answer.json()["detail"]

    client.force_login(cast.county_staff)
    page = client.post(
        reverse("reporting:act", args=["accountability", "140525", "2024-05"]), {"action": "export_pdf"}, follow=True
    )
    assert "导出请求过于频繁" in page.content.decode()
    assert ExportJob.objects.count() == 3  # nothing was created by the refused requests

    # Others are not slowed down; and once the window has passed, the user may ask again.
    assert request(cast.county_leader, county).status == JobStatus.PENDING
    ExportJob.objects.filter(requested_by=cast.county_staff).update(
        created_at=timezone.now() - dt.timedelta(seconds=limits.EXPORT_RATE_WINDOW + 1)
    )
    assert request(cast.county_staff, county, file_format=FileFormat.PDF).status == JobStatus.PENDING


@pytest.mark.django_db
def test_an_identical_request_is_answered_even_at_the_rate_limit(
    scenario: Any, cast: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "EXPORT_RATE_COUNT", 1)
    job = request(cast.county_staff, scenario.world.county)
    assert request(cast.county_staff, scenario.world.county).pk == job.pk  # no new job: not counted, not refused


@pytest.mark.django_db
def test_the_beat_job_stops_at_its_soft_time_limit_and_the_next_run_resumes(
    scenario: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The day's loop catches each step's errors; the soft limit must stop it, not be recorded and skipped."""
    calls = {"n": 0}

    def timed(step: Any) -> Any:
        def run(due: Any, region: Any) -> str:
            calls["n"] += 1
            if calls["n"] == 3:
                raise SoftTimeLimitExceeded()
            return step(due, region)  # type: ignore[no-any-return]

        return run

    for name, step in list(schedule.STEPS.items()):
        monkeypatch.setitem(schedule.STEPS, name, timed(step))
    day = dt.date(2023, 12, 23)  # two days before the 25th: drafts and reminders for three regions
    first = schedule.run_day(day)
    assert first.timed_out and len(first.done) == 2 and len(first.failed) == 1
    stopped = ScheduledRun.objects.get(status=JobStatus.FAILED)
    assert stopped.error == schedule.TIMED_OUT and stopped.error.startswith("超过时限")
    assert ScheduledRun.objects.count() == 3  # nothing after it was started

    second = schedule.run_day(day)
    assert not second.failed and not second.timed_out and len(second.done) > 1
    assert not ScheduledRun.objects.exclude(status=JobStatus.SUCCESS).exists()
