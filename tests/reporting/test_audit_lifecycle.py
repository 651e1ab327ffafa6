"""The background work of the monthly tables is in the audit log: each export job's lifecycle (requested,
started, finished / retrying, failed, requeued, given up) and each run of the daily schedule, with the
notifications it sent. Rows of the system carry no actor but "系统" and are filed under the job's region."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from portal.choices import AuditAction, AuditKind
from portal.models import AuditEvent
from reporting import leases, schedule, services
from reporting.choices import JobStatus, ReportKind
from reporting.models import ExportJob, ScheduledRun
from reporting.tasks import run_export

pytestmark = pytest.mark.django_db
MAY = dt.date(2024, 5, 1)


def _request(scenario: Any, cast: Any, month: dt.date = MAY) -> ExportJob:
    return services.export_request(
        actor=cast.county_staff, kind=ReportKind.ACCOUNTABILITY, region=scenario.world.county, month=month,
        file_format="xlsx",
    )  # fmt: skip


def _kinds(job: ExportJob) -> list[str]:
    return list(AuditEvent.objects.filter(object_id=str(job.pk)).order_by("id").values_list("kind", flat=True))


def test_an_export_job_is_audited_from_request_to_file(scenario: Any, cast: Any) -> None:
    job = _request(scenario, cast)
    assert run_export.apply(args=[str(job.pk)]).get() == "success"
    assert _kinds(job) == [AuditKind.EXPORT_REQUESTED, AuditKind.EXPORT_STARTED, AuditKind.EXPORT_FINISHED]
    requested, started, finished = AuditEvent.objects.filter(object_id=str(job.pk)).order_by("id")
    assert (requested.actor, requested.action) == (cast.county_staff, AuditAction.EXPORT)
    assert (started.actor, started.actor_name, started.action) == (None, "系统", AuditAction.JOB)
    assert started.extra["attempts"] == 1 and started.extra["job_id"] == str(job.pk)
    assert finished.extra["file"] and finished.region_path == scenario.world.county.path
    assert "后台任务完成" in finished.detail
    # A second delivery of the finished job claims nothing and writes nothing.
    assert run_export.apply(args=[str(job.pk)]).get() == "not pending"
    assert len(_kinds(job)) == 3


def test_a_failing_job_is_audited_retrying_then_failed(scenario: Any, cast: Any) -> None:
    job = _request(scenario, cast)
    assert services.export_claim(job_id=job.pk, claimant="w1")
    services.export_fail(job_id=job.pk, error="生成失败（OSError）：磁盘已满", retrying=True)
    assert services.export_claim(job_id=job.pk, claimant="w2")
    services.export_fail(job_id=job.pk, error="生成失败（OSError）：磁盘已满", retrying=False)
    assert _kinds(job) == [
        AuditKind.EXPORT_REQUESTED,
        AuditKind.EXPORT_STARTED,
        AuditKind.EXPORT_RETRYING,
        AuditKind.EXPORT_STARTED,
        AuditKind.EXPORT_FAILED,
    ]
    failed = AuditEvent.objects.filter(object_id=str(job.pk)).latest("id")
    assert failed.extra["error"] == "生成失败（OSError）：磁盘已满" and failed.extra["attempts"] == 2


def test_an_abandoned_job_is_audited_requeued_then_given_up(scenario: Any, cast: Any) -> None:
    job = _request(scenario, cast)
    for attempt in range(leases.MAX_ATTEMPTS):
        assert services.export_claim(job_id=job.pk, claimant=f"dead-{attempt}")
        with time_machine.travel(timezone.now() + dt.timedelta(seconds=leases.lease_seconds() + 1), tick=False):
            leases.export_requeue_abandoned()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    kinds = _kinds(job)
    assert kinds.count(AuditKind.EXPORT_STARTED) == leases.MAX_ATTEMPTS
    assert kinds.count(AuditKind.EXPORT_REQUEUED) == leases.MAX_ATTEMPTS - 1
    assert kinds[-1] == AuditKind.EXPORT_GIVEN_UP
    given_up = AuditEvent.objects.filter(object_id=str(job.pk)).latest("id")
    assert given_up.detail == leases.GAVE_UP_MESSAGE and given_up.extra["claimed_by"] == "dead-2"


def test_each_schedule_run_and_its_notifications_are_audited_once(scenario: Any, cast: Any) -> None:
    day = dt.date(2023, 12, 23)  # two days before the winter tables' deadline: drafts and reminders
    result = schedule.run_day(day)
    assert result.done and not result.failed
    runs = AuditEvent.objects.filter(kind=AuditKind.SCHEDULE_RAN)
    assert runs.count() == ScheduledRun.objects.filter(status=JobStatus.SUCCESS).count() == len(result.done)
    run = runs.filter(extra__step="remind").first()
    assert run is not None and run.actor_name == "系统" and run.detail.startswith("定时任务")
    sent = AuditEvent.objects.filter(kind=AuditKind.NOTIFICATION_SENT, detail__contains="请于2023-12-25前报送")
    told = {pk for row in sent for pk in row.extra["recipients"]}
    assert {cast.town_a_staff.pk, cast.town_b_staff.pk} <= told
    # Filed under the town told, so the county's admin reads them.
    assert {row.region_path for row in sent} == {scenario.world.town_a.path, scenario.world.town_b.path}
    # The beat fires again: nothing is redone, nothing audited twice.
    count = AuditEvent.objects.count()
    schedule.run_day(day)
    assert AuditEvent.objects.count() == count


def test_a_failed_schedule_step_is_audited_with_its_error(scenario: Any, cast: Any, monkeypatch: Any) -> None:
    def broken(due: Any, region: Any) -> str:
        raise RuntimeError("模拟故障")

    monkeypatch.setitem(schedule.STEPS, "remind", broken)
    result = schedule.run_day(dt.date(2023, 12, 23))
    assert result.failed
    failed = AuditEvent.objects.filter(kind=AuditKind.SCHEDULE_FAILED)
    assert failed.count() == len(result.failed)
    assert "RuntimeError: 模拟故障" in failed.first().extra["error"]  # type: ignore[union-attr]
    assert "失败：RuntimeError: 模拟故障" in failed.first().detail  # type: ignore[union-attr]
