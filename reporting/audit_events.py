"""Audit events of the monthly tables: reports and versions, the background jobs that build and sign
them (requested, started, finished, retrying, failed, requeued, given up), and the daily schedule's runs.

One function per `AuditKind`; jobs and runs are written by the worker, so their rows have no actor but
"系统" unless a user asked for them.
"""

from __future__ import annotations

from typing import Any

from portal.audit import audit_write
from portal.choices import AuditAction, AuditKind
from portal.models import AuditEvent, User
from reporting.models import ExportJob, Report, ReportVersion, ScheduledRun

SYSTEM = "系统"


def _job(job: ExportJob) -> dict[str, Any]:
    return {"job_id": str(job.pk), "purpose": job.purpose, "report_kind": job.kind, "month": job.month,
            "file_format": job.file_format, "attempts": job.attempts}  # fmt: skip


# --- Reports and versions ----------------------------------------------------------------------


def report_created(*, report: Report) -> AuditEvent:
    return audit_write(
        kind=AuditKind.REPORT_CREATED, action=AuditAction.CREATE, actor=None, instance=report,
        extra={"report_kind": report.kind, "month": report.month}, after={"report": str(report)},
    )  # fmt: skip


def report_draft_refreshed(*, actor: User | None, version: ReportVersion) -> AuditEvent:
    return audit_write(
        kind=AuditKind.REPORT_DRAFT_REFRESHED, action=AuditAction.UPDATE, actor=actor, instance=version,
        extra={"report_id": version.report_id, "number": version.number}, detail="草稿数据已按最新记录更新",
    )  # fmt: skip


def report_version_created(*, actor: User | None, version: ReportVersion, after_signed: int | None) -> AuditEvent:
    detail = (
        "生成草稿" if after_signed is None else f"已签字的第{after_signed}版之后数据发生变化，生成第{version.number}版"
    )
    return audit_write(
        kind=AuditKind.REPORT_VERSION_CREATED, action=AuditAction.CREATE, actor=actor, instance=version,
        extra={"report_id": version.report_id, "number": version.number, "after_signed": after_signed},
        detail=detail,
    )  # fmt: skip


def report_submitted(
    *, actor: User, version: ReportVersion, before: dict[str, Any], missing: list[str], reason: str
) -> AuditEvent:
    return audit_write(
        kind=AuditKind.REPORT_SUBMITTED, action=AuditAction.UPDATE, actor=actor, instance=version,
        before=before, after={"status": version.status, "fingerprint": version.fingerprint, "missing_towns": missing},
        extra={"report_id": version.report_id, "number": version.number, "missing_towns": missing,
               "reason": reason},
        detail="报送报表" + (f"（未报送的镇：{'、'.join(missing)}；原因：{reason}）" if missing else ""),
    )  # fmt: skip


def report_sign_requested(*, actor: User, version: ReportVersion, job: ExportJob) -> AuditEvent:
    return audit_write(
        kind=AuditKind.REPORT_SIGN_REQUESTED, action=AuditAction.UPDATE, actor=actor, instance=version,
        extra={"report_id": version.report_id, "number": version.number, "job_id": str(job.pk)},
        detail="申请签字（后台生成文件）",
    )  # fmt: skip


def report_signed(*, actor: User, version: ReportVersion, before: dict[str, Any], after: dict[str, Any]) -> AuditEvent:
    return audit_write(
        kind=AuditKind.REPORT_SIGNED, action=AuditAction.UPDATE, actor=actor, instance=version, before=before,
        after=after, extra={"report_id": version.report_id, "number": version.number, **after},
        detail="分管负责人签字，报表冻结",
    )  # fmt: skip


def report_overdue(*, report: Report) -> AuditEvent:
    return audit_write(
        kind=AuditKind.REPORT_OVERDUE, action=AuditAction.UPDATE, actor=None, instance=report,
        extra={"report_kind": report.kind, "month": report.month}, detail="截止日未报送",
    )  # fmt: skip


def signed_file_downloaded(*, user: User, version: ReportVersion, file_format: str) -> AuditEvent:
    return audit_write(
        kind=AuditKind.REPORT_FILE_DOWNLOADED, action=AuditAction.EXPORT, actor=user, instance=version,
        extra={"report_id": version.report_id, "number": version.number, "file_format": file_format},
        detail=f"下载已签字文件（{file_format}）",
    )  # fmt: skip


# --- Background jobs ---------------------------------------------------------------------------


def export_requested(*, actor: User, job: ExportJob) -> AuditEvent:
    return audit_write(
        kind=AuditKind.EXPORT_REQUESTED, action=AuditAction.EXPORT, actor=actor, instance=job, extra=_job(job),
        detail=f"申请生成{job}",
    )  # fmt: skip


def export_started(*, job: ExportJob) -> AuditEvent:
    return audit_write(
        kind=AuditKind.EXPORT_STARTED, action=AuditAction.JOB, actor=None, actor_name=SYSTEM, instance=job,
        extra={**_job(job), "claimed_by": job.claimed_by},
        detail=f"后台任务开始（第 {job.attempts} 次）：{job}",
    )  # fmt: skip


def export_finished(*, job: ExportJob) -> AuditEvent:
    return audit_write(
        kind=AuditKind.EXPORT_FINISHED, action=AuditAction.JOB, actor=None, actor_name=SYSTEM, instance=job,
        extra={**_job(job), "file": job.file.name if job.file else ""}, detail=f"后台任务完成：{job}",
    )  # fmt: skip


def export_retrying(*, job: ExportJob, error: str) -> AuditEvent:
    return audit_write(
        kind=AuditKind.EXPORT_RETRYING, action=AuditAction.JOB, actor=None, actor_name=SYSTEM, instance=job,
        extra={**_job(job), "error": error}, detail=f"后台任务出错，稍后重试：{error}",
    )  # fmt: skip


def export_failed(*, job: ExportJob, error: str, detail: str = "") -> AuditEvent:
    return audit_write(
        kind=AuditKind.EXPORT_FAILED, action=AuditAction.JOB, actor=None, actor_name=SYSTEM, instance=job,
        extra={**_job(job), "error": error},
        detail=detail or f"后台任务失败：{error}",
    )  # fmt: skip


def export_requeued(*, job: ExportJob, reason: str) -> AuditEvent:
    before = {"status": job.status, "claimed_by": job.claimed_by, "attempts": job.attempts}
    return audit_write(
        kind=AuditKind.EXPORT_REQUEUED, action=AuditAction.UPDATE, actor=None, actor_name=SYSTEM, instance=job,
        before=before, after={"status": "pending"}, extra={**_job(job), "claimed_by": job.claimed_by}, detail=reason,
    )  # fmt: skip


def export_given_up(*, job: ExportJob, reason: str) -> AuditEvent:
    before = {"status": job.status, "claimed_by": job.claimed_by, "attempts": job.attempts}
    return audit_write(
        kind=AuditKind.EXPORT_GIVEN_UP, action=AuditAction.UPDATE, actor=None, actor_name=SYSTEM, instance=job,
        before=before, after={"status": "failed"}, extra={**_job(job), "claimed_by": job.claimed_by}, detail=reason,
    )  # fmt: skip


def export_downloaded(*, user: User, job: ExportJob) -> AuditEvent:
    return audit_write(
        kind=AuditKind.EXPORT_DOWNLOADED, action=AuditAction.EXPORT, actor=user, instance=job, extra=_job(job),
        detail="下载报表文件",
    )  # fmt: skip


# --- The daily schedule ------------------------------------------------------------------------


def _run(run: ScheduledRun) -> dict[str, Any]:
    return {"run_id": run.pk, "step": run.step, "report_kind": run.kind, "campaign_id": run.campaign_id,
            "month": run.month, "run_on": run.run_on}  # fmt: skip


def schedule_ran(*, run: ScheduledRun, result: str) -> AuditEvent:
    return audit_write(
        kind=AuditKind.SCHEDULE_RAN, action=AuditAction.JOB, actor=None, actor_name=SYSTEM, instance=run,
        extra={**_run(run), "result": result}, detail=f"定时任务{run.get_step_display()}：{result}",
    )  # fmt: skip


def schedule_failed(*, run: ScheduledRun, error: str) -> AuditEvent:
    first_line = (error.splitlines() or [""])[0]
    return audit_write(
        kind=AuditKind.SCHEDULE_FAILED, action=AuditAction.JOB, actor=None, actor_name=SYSTEM, instance=run,
        extra={**_run(run), "error": error}, detail=f"定时任务{run.get_step_display()}失败：{first_line}",
    )  # fmt: skip


def schedule_rearmed(*, actor: User, run: ScheduledRun) -> AuditEvent:
    return audit_write(
        kind=AuditKind.SCHEDULE_REARMED, action=AuditAction.UPDATE, actor=actor, instance=run, extra=_run(run),
        detail="允许报表定时任务再次执行",
    )  # fmt: skip
