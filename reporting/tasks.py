"""Celery tasks of the monthly tables. Tasks receive ids and dates only, never model instances."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from portal import limits
from reporting import leases, schedule, selectors, services
from reporting.builders.pdf import build_pdf
from reporting.builders.xlsx import build_xlsx
from reporting.choices import FileFormat, JobPurpose, VersionStatus
from reporting.figures import ReportError, Signatures, compute_table
from reporting.leases import LeasedJobTask
from reporting.models import ExportJob

logger = logging.getLogger(__name__)


class ScheduleIncomplete(Exception):
    """Some steps failed; the task is retried and claims only those again."""


def _day(value: str | None) -> dt.date:
    return dt.date.fromisoformat(value) if value else timezone.localdate()


@shared_task(bind=True, name="reporting.tasks.run_monthly_schedule", max_retries=4, **limits.PERIODIC_JOB)
def run_monthly_schedule(self: Any, today: str | None = None) -> dict[str, Any]:
    """Beat, daily: drafts two days and one day before each deadline, reminders, and the deadline's flags."""
    day = _day(today)
    result = schedule.run_day(day)
    if result.failed:
        if self.request.retries < self.max_retries:
            raise self.retry(
                exc=ScheduleIncomplete("；".join(result.failed)),
                countdown=60 * 2**self.request.retries,
                args=[day.isoformat()],
            )
        logger.error("report schedule for %s gave up on: %s", day, result.failed)
    return {"done": len(result.done), "skipped": result.skipped, "failed": result.failed}


@shared_task(bind=True, name="reporting.tasks.check_amendments", max_retries=4, **limits.PERIODIC_JOB)
def check_amendments(self: Any, today: str | None = None) -> dict[str, Any]:
    """Beat, nightly: a signed table whose records have changed gets a new version listing the differences."""
    day = _day(today)
    result = schedule.check_amendments(day)
    if result.failed and self.request.retries < self.max_retries:
        raise self.retry(
            exc=ScheduleIncomplete("；".join(result.failed)),
            countdown=60 * 2**self.request.retries,
            args=[day.isoformat()],
        )
    return {"done": len(result.done), "skipped": result.skipped, "failed": result.failed}


def build_file(*, kind: str, region: Any, month: dt.date, file_format: str, label: str = "") -> bytes:
    """The table computed from the records now, as a file (the same path as the shell command)."""
    scope = selectors.scope_for(kind=kind, region=region, month=month)
    table = compute_table(kind, scope, Signatures(version_label=label))
    return build_xlsx(table) if file_format == FileFormat.XLSX else build_pdf(table)


def _timed_out(task: Any) -> str:
    """The reason written on a job stopped at its soft time limit (not retried: it would time out again)."""
    seconds = int(task.soft_time_limit or 0)
    return f"超过时限（{limits.seconds_label(seconds)}）仍未完成，任务已停止。请缩小范围后重试，或联系管理员。"


def _fail_or_retry(task: Any, *, job_id: str, exc: Exception, what: str) -> None:
    """An unexpected error: marks the job failed (or retrying) and raises the retry while retries remain,
    backing off 5, 10, 20 s. When none remain it returns and the caller re-raises the error."""
    retrying = task.request.retries < task.max_retries
    services.export_fail(job_id=job_id, error=f"{what}（{type(exc).__name__}）：{exc}", retrying=retrying)
    if retrying:
        raise task.retry(exc=exc, countdown=5 * 2**task.request.retries) from exc


@shared_task(bind=True, base=LeasedJobTask, name="reporting.tasks.run_sign", max_retries=3, **limits.REPORT_JOB)
def run_sign(self: Any, job_id: str) -> str:
    """分管负责人签字 on the worker: `report_sign` freezes the version with its files in one transaction."""
    if not services.export_claim(job_id=job_id, claimant=self.request.id or ""):
        return "not pending"
    job = ExportJob.objects.select_related("version", "requested_by").get(pk=job_id)
    try:
        if job.version is None or job.requested_by is None:
            raise ReportError("签字任务缺少报表版本或签字人。")
        if job.version.status == VersionStatus.SIGNED and job.version.signed_by_id == job.requested_by_id:
            # A worker died after signing, before marking its job done: the redelivered job is done.
            services.job_succeed(job_id=job_id)
            return "success"
        services.export_progress(job_id=job_id, progress=20)
        services.report_sign(actor=job.requested_by, version=job.version, fingerprint=job.fingerprint)
        services.job_succeed(job_id=job_id)
    except ReportError as exc:
        services.export_fail(job_id=job_id, error=exc.message, retrying=False)
        return "failed"
    except SoftTimeLimitExceeded:
        services.export_fail(job_id=job_id, error=_timed_out(self), retrying=False)
        return "failed"
    except Exception as exc:
        _fail_or_retry(self, job_id=job_id, exc=exc, what="签字失败")
        raise
    return "success"


@shared_task(bind=True, base=LeasedJobTask, name="reporting.tasks.run_export", max_retries=3, **limits.REPORT_JOB)
def run_export(self: Any, job_id: str) -> str:
    """Build the file of an ExportJob on the worker; progress and errors are written on the job."""
    if not services.export_claim(job_id=job_id, claimant=self.request.id or ""):
        return "not pending"
    job = ExportJob.objects.select_related("region").get(pk=job_id)
    try:
        services.export_progress(job_id=job_id, progress=20)
        stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
        content = build_file(
            kind=job.kind,
            region=job.region,
            month=job.month,
            file_format=job.file_format,
            label=f"草稿（未签字）· 生成于 {stamp}",
        )
        services.export_progress(job_id=job_id, progress=90)
        name = f"{job.region.code}-{job.month:%Y-%m}-{job.kind}.{job.file_format}"
        services.export_finish(job_id=job_id, content=content, file_name=name)
    except ReportError as exc:
        services.export_fail(job_id=job_id, error=exc.message, retrying=False)
        return "failed"
    except SoftTimeLimitExceeded:
        services.export_fail(job_id=job_id, error=_timed_out(self), retrying=False)
        return "failed"
    except Exception as exc:
        _fail_or_retry(self, job_id=job_id, exc=exc, what="生成失败")
        raise
    return "success"


@shared_task(name="reporting.tasks.requeue_abandoned_jobs", **limits.QUICK_JOB)
def requeue_abandoned_jobs() -> dict[str, Any]:
    """Beat, every REPORT_JOB_SWEEP_SECONDS: jobs whose worker died (heartbeat past the lease) are queued
    again for any live worker (reporting/leases.py)."""
    requeued = leases.export_requeue_abandoned()
    for job_id, purpose in requeued:
        (run_sign if purpose == JobPurpose.SIGN else run_export).delay(job_id)
    return {"requeued": [job_id for job_id, _ in requeued]}


@shared_task(name="reporting.tasks.expire_stale_jobs", **limits.QUICK_JOB)
def expire_stale_jobs() -> int:
    """Beat, every few minutes: a job killed at its hard time limit (or lost with its worker) is marked failed."""
    return services.export_expire_stale()
