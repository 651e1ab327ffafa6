"""Writes of the monthly tables. Each function is one transaction that also writes its audit row.

Lifecycle of a table (one `Report` per region, month, campaign and kind):

    draft ──report_submit──▶ submitted ──report_sign──▶ signed (frozen)
      ▲  report_refresh keeps the one open version up to date; after a signed version, a change in
      └─ the records makes a new version (number + 1) listing its differences from the signed one.

A signed version keeps its .xlsx and .pdf (Django storage) with their SHA-256, the JSON snapshot of
the figures and the ids of the records behind every number. Nothing ever rewrites it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from inspections import services as field_services
from portal import limits, rules
from portal.choices import RegionLevel
from portal.models import Region, User
from reporting import audit_events as report_events
from reporting import leases, selectors, signing
from reporting.builders.pdf import build_pdf
from reporting.builders.xlsx import build_xlsx
from reporting.choices import FileFormat, JobPurpose, JobStatus, ReportKind, VersionStatus
from reporting.figures import (
    ReportError,
    Scope,
    Signatures,
    compute_table,
    month_bounds,
    period_for,
    record_ids,
    with_signatures,
)
from reporting.layouts import ACCOUNTABILITY, WINTER
from reporting.models import ACTIVE_JOB_STATUSES, ExportJob, Report, ReportVersion, ScheduledRun
from reporting.notices import table_submitted
from reporting.tables import TABLE_TYPES, AnyTable, ThreeListsTable, from_json, to_json

# --------------------------------------------------------------------------------------------
# Snapshots and differences
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    table: AnyTable
    figures: dict[str, Any]
    record_ids: dict[str, list[int]]
    fingerprint: str


def take_snapshot(kind: str, scope: Scope) -> Snapshot:
    """The figures (without signatures) and the record ids behind them, and their SHA-256 fingerprint."""
    table = compute_table(kind, scope)
    figures = to_json(table)
    ids = record_ids(kind, scope)
    return Snapshot(table, figures, ids, fingerprint_of(figures, ids))


def fingerprint_of(figures: dict[str, Any], ids: dict[str, list[int]]) -> str:
    canonical = json.dumps({"figures": figures, "record_ids": ids}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def differs_from(version: ReportVersion, kind: str, table: AnyTable) -> bool:
    """Whether `table` (computed from the records, without signatures) gives other figures than the version."""
    figures = to_json(table)
    if isinstance(table, ThreeListsTable):
        # A 三清单's record ids are the hazards of its rows: equal figures give the version's fingerprint, other
        # figures another one, so the snapshot (every row of the county, large) need not be read.
        ids = {"hazards": sorted(line.hazard_id for line in table.problems)}
        return version.fingerprint != fingerprint_of(figures, ids)
    return bool(version.figures != figures)


def table_of(version: ReportVersion) -> AnyTable:
    """The table exactly as the version's snapshot keeps it."""
    return from_json(TABLE_TYPES[version.report.kind], version.figures)  # type: ignore[no-any-return]


def cell_label(kind: str, key: str) -> str:
    if kind == ReportKind.ACCOUNTABILITY:
        return ACCOUNTABILITY.label_of(key)
    if kind == ReportKind.WINTER and "." in key:
        row, leaf = key.split(".", 1)
        return ("非煤矿山（本月）/ " if row == "month" else "累计 / ") + WINTER.label_of(leaf)
    return {"problems": "问题清单条数", "rectifications": "整改清单条数", "responsibilities": "责任清单条数"}.get(
        key, key
    )


_LIST_FIELDS: dict[str, list[tuple[str, str]]] = {
    ReportKind.WINTER: [("major_hazards", "重大隐患明细")],
    ReportKind.THREE_LISTS: [
        ("problems", "问题清单"),
        ("rectifications", "整改清单"),
        ("responsibilities", "责任清单"),
    ],
}


def differences(
    kind: str, before: dict[str, Any], after: dict[str, Any], before_ids: dict[str, Any], after_ids: dict[str, Any]
) -> list[dict[str, Any]]:
    """What changed between two snapshots, for people: numbers, the records behind them, list lines."""
    table_type = TABLE_TYPES[kind]
    old_cells: dict[str, Any] = from_json(table_type, before).cells()
    new_cells: dict[str, Any] = from_json(table_type, after).cells()
    changes: list[dict[str, Any]] = []
    for key in new_cells:
        old, new = old_cells.get(key), new_cells[key]
        if old != new:
            changes.append(
                {"type": "value", "key": key, "label": cell_label(kind, key), "before": str(old), "after": str(new)}
            )
    for key in sorted(set(before_ids) | set(after_ids)):
        old_set, new_set = set(before_ids.get(key, [])), set(after_ids.get(key, []))
        if old_set != new_set:
            changes.append(
                {
                    "type": "records",
                    "key": key,
                    "label": cell_label(kind, key) if key not in ("major_hazards", "hazards") else "明细所列隐患",
                    "added": sorted(new_set - old_set),
                    "removed": sorted(old_set - new_set),
                }
            )
    for field, label in _LIST_FIELDS.get(kind, []):
        old_lines = {line["hazard_id"]: line for line in before.get(field, [])}
        new_lines = {line["hazard_id"]: line for line in after.get(field, [])}
        edited = sorted(
            hazard_id
            for hazard_id in set(old_lines) & set(new_lines)
            if {k: v for k, v in old_lines[hazard_id].items() if k != "number"}
            != {k: v for k, v in new_lines[hazard_id].items() if k != "number"}
        )
        if edited:
            changes.append({"type": "lines", "key": field, "label": f"{label}内容变更", "hazard_ids": edited})
    return changes


def describe(change: dict[str, Any]) -> str:
    if change["type"] == "value":
        return f"{change['label']}：{change['before']} → {change['after']}"
    if change["type"] == "records":
        parts = []
        if change["added"]:
            parts.append("新增记录 " + "、".join(f"#{pk}" for pk in change["added"]))
        if change["removed"]:
            parts.append("移出记录 " + "、".join(f"#{pk}" for pk in change["removed"]))
        return f"{change['label']}：{'；'.join(parts)}"
    return f"{change['label']}：隐患 " + "、".join(f"#{pk}" for pk in change["hazard_ids"])


# --------------------------------------------------------------------------------------------
# Reports and versions
# --------------------------------------------------------------------------------------------


def due_date(*, month: dt.date, day: int) -> dt.date:
    """The deadline in a month: the given day, or the month's last day when it is shorter."""
    last = month_bounds(month)[1]
    return last.replace(day=min(day, last.day))


@transaction.atomic
def report_get_or_create(*, kind: str, region: Region, campaign: Any, month: dt.date, due_day: int) -> Report:
    month = month.replace(day=1)
    period_for(campaign, month)  # refuses a month outside the campaign
    try:
        with transaction.atomic():
            report, created = Report.objects.get_or_create(
                kind=kind,
                region=region,
                campaign=campaign,
                month=month,
                defaults={"due_on": due_date(month=month, day=due_day)},
            )
    except IntegrityError:  # a concurrent job created it first
        report, created = Report.objects.get(kind=kind, region=region, campaign=campaign, month=month), False
    if created:
        report_events.report_created(report=report)
    return report


def _scope(report: Report) -> Scope:
    return Scope(region=report.region, campaign=report.campaign, period=period_for(report.campaign, report.month))


def _latest(report: Report) -> ReportVersion | None:
    return report.versions.order_by("-number").first()


def _last_signed(report: Report) -> ReportVersion | None:
    return report.versions.filter(status=VersionStatus.SIGNED).order_by("-number").first()


def _open(report: Report) -> ReportVersion | None:
    return report.versions.filter(status__in=[VersionStatus.DRAFT, VersionStatus.SUBMITTED]).first()


@transaction.atomic
def report_refresh(*, actor: User | None, report: Report) -> ReportVersion:
    """Bring the table's open version up to date with the records (idempotent).

    No version yet: version 1, a draft. A draft: its snapshot is replaced when the figures changed.
    A submitted version is left alone (signing checks it). Only signed versions: when the records now
    give other figures, a new draft version lists the differences from the last signed one.
    """
    report = Report.objects.select_for_update(of=("self",)).select_related("region", "campaign").get(pk=report.pk)
    snapshot = take_snapshot(report.kind, _scope(report))
    now = timezone.now()
    open_version = _open(report)
    if open_version is not None:
        if actor is not None and sign_pending(open_version):
            raise ReportError(SIGN_PENDING_MESSAGE)
        if open_version.status == VersionStatus.SUBMITTED or open_version.fingerprint == snapshot.fingerprint:
            return open_version
        signed = open_version.based_on
        open_version.figures = snapshot.figures
        open_version.record_ids = snapshot.record_ids
        open_version.fingerprint = snapshot.fingerprint
        open_version.computed_at = now
        if signed is not None:
            open_version.differences = differences(
                report.kind, signed.figures, snapshot.figures, signed.record_ids, snapshot.record_ids
            )
        open_version.save()
        report_events.report_draft_refreshed(actor=actor, version=open_version)
        return open_version
    signed = _last_signed(report)
    if signed is not None and signed.fingerprint == snapshot.fingerprint:
        return signed
    latest = _latest(report)
    version = ReportVersion.objects.create(
        report=report,
        number=(latest.number + 1) if latest else 1,
        status=VersionStatus.DRAFT,
        figures=snapshot.figures,
        record_ids=snapshot.record_ids,
        fingerprint=snapshot.fingerprint,
        based_on=signed,
        differences=(
            differences(report.kind, signed.figures, snapshot.figures, signed.record_ids, snapshot.record_ids)
            if signed is not None
            else []
        ),
        computed_at=now,
        created_by=actor,
    )
    report_events.report_version_created(
        actor=actor, version=version, after_signed=signed.number if signed is not None else None
    )
    return version


@transaction.atomic
def report_submit(*, actor: User, version: ReportVersion, missing_reason: str = "") -> ReportVersion:
    """The filing unit submits the table (town to county; the county's own to its leader).

    A town's submission marks the matching deliverable filed (材料报送情况). The county's table with
    towns still missing needs `missing_reason`, printed in the file's 备注 and shown to the leader."""
    locked = (
        ReportVersion.objects.select_for_update(of=("self",))
        .select_related("report__region", "report__campaign")
        .get(pk=version.pk)
    )
    report = locked.report
    if not rules.may(actor, "reporting.submit", report):
        raise ReportError("只有填报单位的工作人员可以报送这张报表。")
    if locked.status == VersionStatus.SIGNED:
        raise ReportError("该版本已签字，不能再报送。")
    if sign_pending(locked):
        raise ReportError(SIGN_PENDING_MESSAGE)
    missing = [town.name for town in selectors.towns_not_submitted(report)]
    if missing and not missing_reason.strip():
        raise ReportError(
            f"以下镇尚未报送本月报表：{'、'.join(missing)}。请填写未报送原因后再报送，原因将印在报表备注中。"
        )
    locked.missing_towns = missing
    locked.missing_reason = missing_reason.strip() if missing else ""
    snapshot = take_snapshot(report.kind, _scope(report))
    before = {"status": locked.status, "fingerprint": locked.fingerprint}
    locked.figures = snapshot.figures
    locked.record_ids = snapshot.record_ids
    locked.fingerprint = snapshot.fingerprint
    locked.computed_at = timezone.now()
    if locked.based_on is not None:
        signed = locked.based_on
        locked.differences = differences(
            report.kind, signed.figures, snapshot.figures, signed.record_ids, snapshot.record_ids
        )
    locked.status = VersionStatus.SUBMITTED
    locked.submitted_at = timezone.now()
    locked.submitted_by = actor
    locked.save()
    report_events.report_submitted(
        actor=actor, version=locked, before=before, missing=missing, reason=locked.missing_reason
    )
    if report.region.level == RegionLevel.TOWN and (found := selectors.deliverable_due(report)) is not None:
        field_services.submission_record_table(
            actor=actor, deliverable=found[0], town=report.region, due_date=found[1], title=str(report)
        )
    if before["status"] != VersionStatus.SUBMITTED:
        table_submitted(version=locked, actor=actor)  # the county (a town's table) or the leader (the county's)
    return locked


SIGN_PENDING_MESSAGE = "分管负责人的签字申请正在处理中，签字完成或失败前不能重新报送或更新这一版本。"
SHOWN_CHANGED_MESSAGE = (
    "申请签字时看到的报表已被重新报送或发生变化，签字未完成，报表未冻结。请刷新页面核对数据后重新签字。"
)


def shown_fingerprint(version: ReportVersion) -> str:
    """What the leader sees and signs, as one SHA-256: the version (id, number), its figures and record ids
    (the version's fingerprint) and its submission (who, when: they are printed on the signed files).

    The table page posts it with 签字; the sign job signs only while the version still gives it."""
    canonical = json.dumps(
        {
            "version": version.pk,
            "number": version.number,
            "status": version.status,
            "fingerprint": version.fingerprint,
            "submitted_at": version.submitted_at.isoformat() if version.submitted_at else None,
            "submitted_by": version.submitted_by_id,
        },
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def sign_pending(version: ReportVersion) -> bool:
    """A sign job of this version is queued or running: the version must stay as it was shown."""
    return version.jobs.filter(purpose=JobPurpose.SIGN, status__in=[JobStatus.PENDING, JobStatus.RUNNING]).exists()


def signatures_for(version: ReportVersion, *, leader: User | None = None) -> Signatures:
    submitter = version.submitted_by
    submitted = timezone.localtime(version.submitted_at).date() if version.submitted_at else None
    return Signatures(
        filled_on=submitted,
        filled_by=(submitter.full_name or submitter.username) if submitter else "",
        filler_phone=submitter.phone if submitter else "",
        leader_name=(leader.full_name or leader.username) if leader else "",
        version_label="" if leader else f"第{version.number}版 {version.get_status_display()}（未签字）",
    )


def missing_remark(version: ReportVersion) -> str:
    """备注 of a county table submitted while towns were missing."""
    if not version.missing_towns:
        return ""
    return f"备注：报送时{'、'.join(version.missing_towns)}未报送本月报表，原因：{version.missing_reason}"


def _file_name(report: Report, number: int, extension: str) -> str:
    return f"{report.region.code}-{report.month:%Y-%m}-{report.kind}-v{number}.{extension}"


@transaction.atomic
def report_sign(*, actor: User, version: ReportVersion, fingerprint: str) -> ReportVersion:
    """分管负责人签字: the submitted figures are frozen with their files and checksums.

    `fingerprint` is `shown_fingerprint` of the version as the leader saw it when asking to sign. Refused
    (nothing frozen) when the version was re-submitted or changed since, when the records have changed
    since the submission, or when the leader is no longer active or no longer entitled to sign (the
    account is read again here: the job may run long after the click).
    """
    locked = (
        ReportVersion.objects.select_for_update(of=("self",))
        .select_related("report__region", "report__campaign", "submitted_by")
        .get(pk=version.pk)
    )
    report = locked.report
    signer = User.objects.select_related("region").filter(pk=actor.pk).first()
    if signer is None or not signer.is_active:
        raise ReportError("签字人账号已停用，签字未完成，报表未冻结。")
    if not rules.may(signer, "reporting.sign", report):
        raise ReportError("只有本县的分管负责人可以签字。")
    actor = signer
    if locked.status != VersionStatus.SUBMITTED:
        raise ReportError("只能对已报送的报表签字。")
    if fingerprint != shown_fingerprint(locked):
        raise ReportError(SHOWN_CHANGED_MESSAGE)
    current = take_snapshot(report.kind, _scope(report))
    if current.fingerprint != locked.fingerprint:
        changes = differences(report.kind, locked.figures, current.figures, locked.record_ids, current.record_ids)
        listed = "；".join(describe(change) for change in changes[:5]) or "数据来源记录有变化"
        raise ReportError(f"报送后数据已发生变化，请填报单位重新报送后再签字。变化：{listed}")
    table = with_signatures(table_of(locked), signatures_for(locked, leader=actor))
    remark = missing_remark(locked)
    # Fixed before the files are built: the footer's 签字时间 and 校验码 are computed from it.
    signed_at = timezone.now()
    seal = signing.seal_line(version=locked, signer=actor, signed_at=signed_at)
    xlsx = build_xlsx(table, remark, seal=seal)
    pdf = build_pdf(table, remark, seal=seal)
    locked.xlsx_file.save(_file_name(report, locked.number, "xlsx"), ContentFile(xlsx), save=False)
    locked.pdf_file.save(_file_name(report, locked.number, "pdf"), ContentFile(pdf), save=False)
    locked.xlsx_sha256 = hashlib.sha256(xlsx).hexdigest()
    locked.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    locked.status = VersionStatus.SIGNED
    locked.signed_at = signed_at
    locked.signed_by = actor
    locked.save()
    report_events.report_signed(
        actor=actor,
        version=locked,
        before={"status": VersionStatus.SUBMITTED},
        after={"status": VersionStatus.SIGNED, "xlsx_sha256": locked.xlsx_sha256, "pdf_sha256": locked.pdf_sha256},
    )
    return locked


@transaction.atomic
def report_flag_missing(*, report: Report) -> Report:
    """On the deadline: the table has not been submitted (recorded once; the county is told by the caller)."""
    updated = Report.objects.filter(pk=report.pk, flagged_missing_at__isnull=True).update(
        flagged_missing_at=timezone.now()
    )
    report.refresh_from_db()
    if updated:
        report_events.report_overdue(report=report)
    return report


# --------------------------------------------------------------------------------------------
# Export jobs (built on the worker)
# --------------------------------------------------------------------------------------------


class ExportRateLimited(ReportError):
    """Too many export jobs from one user in the window (the API answers 429, the page shows the message)."""


def _export_rate_check(actor: User) -> None:
    """At most EXPORT_RATE_COUNT new export jobs per user in EXPORT_RATE_WINDOW seconds (counted in the database,
    so every web process agrees)."""
    since = timezone.now() - dt.timedelta(seconds=limits.EXPORT_RATE_WINDOW)
    recent = ExportJob.objects.filter(purpose=JobPurpose.EXPORT, requested_by=actor, created_at__gte=since).count()
    if recent >= limits.EXPORT_RATE_COUNT:
        raise ExportRateLimited(
            f"导出请求过于频繁：{limits.seconds_label(limits.EXPORT_RATE_WINDOW)}内最多申请 "
            f"{limits.EXPORT_RATE_COUNT} 次，请稍后再试。"
        )


def _active_export(*, actor: User, kind: str, region: Region, month: dt.date, file_format: str) -> ExportJob | None:
    return (
        ExportJob.objects.filter(
            purpose=JobPurpose.EXPORT,
            requested_by=actor,
            kind=kind,
            region=region,
            month=month,
            file_format=file_format,
            status__in=ACTIVE_JOB_STATUSES,
        )
        .order_by("created_at")
        .first()
    )


def export_request(*, actor: User, kind: str, region: Region, month: dt.date, file_format: str) -> ExportJob:
    """One queued or running export per user × table × format: asking again answers with that job.

    The partial unique constraint `one_active_export_per_user_table_format` makes this hold under
    concurrency (PostgreSQL and SQLite): of simultaneous requests one inserts, the others find its job.
    """
    month = month.replace(day=1)
    file_format = FileFormat(file_format)
    export_expire_stale()  # a job killed at its hard limit must not answer for new requests forever
    key: dict[str, Any] = {"actor": actor, "kind": kind, "region": region, "month": month, "file_format": file_format}
    existing = _active_export(**key)
    if existing is not None:
        return existing
    try:
        return _export_create(**key)
    except IntegrityError:  # a concurrent identical request inserted first: answer with its job
        existing = _active_export(**key)
        if existing is None:
            raise
        return existing


@transaction.atomic
def _export_create(*, actor: User, kind: str, region: Region, month: dt.date, file_format: str) -> ExportJob:
    _export_rate_check(actor)
    job = ExportJob.objects.create(kind=kind, region=region, month=month, file_format=file_format, requested_by=actor)
    report_events.export_requested(actor=actor, job=job)
    from reporting.tasks import run_export

    transaction.on_commit(lambda: run_export.delay(str(job.pk)))
    return job


@transaction.atomic
def sign_request(*, actor: User, version: ReportVersion, fingerprint: str) -> ExportJob:
    """The leader asks to sign what the page showed (`fingerprint`: `shown_fingerprint` of the version then):
    checked now, done on the worker (building the files can take a while), which signs only if it is unchanged.
    """
    locked = ReportVersion.objects.select_for_update(of=("self",)).select_related("report__region").get(pk=version.pk)
    report = locked.report
    if not rules.may(actor, "reporting.sign", report):
        raise ReportError("只有本县的分管负责人可以签字。")
    if locked.status != VersionStatus.SUBMITTED:
        raise ReportError("只能对已报送的报表签字。")
    if fingerprint != shown_fingerprint(locked):
        raise ReportError(SHOWN_CHANGED_MESSAGE)
    waiting = locked.jobs.filter(purpose=JobPurpose.SIGN, status__in=[JobStatus.PENDING, JobStatus.RUNNING]).first()
    if waiting is not None:
        return waiting
    job = ExportJob.objects.create(
        purpose=JobPurpose.SIGN,
        version=locked,
        fingerprint=fingerprint,
        kind=report.kind,
        region=report.region,
        month=report.month,
        file_format=FileFormat.PDF,
        requested_by=actor,
    )
    report_events.report_sign_requested(actor=actor, version=locked, job=job)
    from reporting.tasks import run_sign

    transaction.on_commit(lambda: run_sign.delay(str(job.pk)))
    return job


def job_succeed(*, job_id: Any) -> None:
    with transaction.atomic():
        done = ExportJob.objects.filter(pk=job_id).exclude(status=JobStatus.SUCCESS)
        if done.update(status=JobStatus.SUCCESS, progress=100, finished_at=timezone.now()):
            report_events.export_finished(job=ExportJob.objects.select_related("region").get(pk=job_id))


def export_claim(*, job_id: Any, claimant: str) -> bool:
    """Pending → running under `claimant` (the delivering message's task id), once: a conditional UPDATE,
    so of two deliveries of the same job one claims it and the other finds nothing to claim.

    A job left "running" by a worker that died (kill -9, out of memory) is claimable again once its
    heartbeat is older than the lease (reporting/leases.py), whoever delivers it: the broker's
    redelivery or the sweep's new message. A job whose holder is alive, or a finished one, never is.
    """
    now = timezone.now()
    claimed = ExportJob.objects.filter(leases.claimable(now), pk=job_id).update(
        status=JobStatus.RUNNING, progress=5, attempts=F("attempts") + 1, started_at=now, heartbeat_at=now,
        claimed_by=claimant[:64], error="",
    )  # fmt: skip
    if claimed:
        report_events.export_started(job=ExportJob.objects.select_related("region").get(pk=job_id))
    return bool(claimed)


def export_progress(*, job_id: Any, progress: int) -> None:
    ExportJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(progress=progress)


@transaction.atomic
def export_finish(*, job_id: Any, content: bytes, file_name: str) -> ExportJob:
    job = ExportJob.objects.select_for_update().get(pk=job_id)
    if job.status == JobStatus.SUCCESS:  # a redelivered copy finished first: keep its file, make no second one
        return job
    job.file.save(file_name, ContentFile(content), save=False)
    job.status = JobStatus.SUCCESS
    job.progress = 100
    job.finished_at = timezone.now()
    job.save()
    report_events.export_finished(job=job)
    return job


def export_expire_stale(*, now: dt.datetime | None = None) -> int:
    """Jobs still "running" past their task's hard time limit (plus a minute's grace) were killed by the
    worker (or the worker died and the message is gone): they are marked failed with the reason."""
    hard = int(limits.REPORT_JOB["time_limit"])
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=hard + 60)
    # Only a job nobody holds any more (its heartbeat past the lease): a live holder is never failed here.
    stale = list(ExportJob.objects.filter(leases.abandoned(now), started_at__lt=cutoff).values_list("pk", flat=True))
    if not stale:
        return 0
    with transaction.atomic():
        count = ExportJob.objects.filter(pk__in=stale, status=JobStatus.RUNNING, started_at__lt=cutoff).update(
            status=JobStatus.FAILED,
            error=f"超过时限（{limits.seconds_label(hard)}）仍未完成，任务已被终止。请重新申请，或联系管理员。",
            finished_at=timezone.now(),
        )
        for job in ExportJob.objects.filter(pk__in=stale, status=JobStatus.FAILED):
            report_events.export_failed(job=job, error=job.error, detail="任务超时，标记为失败")
    return count


def export_fail(*, job_id: Any, error: str, retrying: bool) -> None:
    with transaction.atomic():
        ExportJob.objects.filter(pk=job_id).update(
            status=JobStatus.PENDING if retrying else JobStatus.FAILED,
            error=error[: limits.TEXT_SYSTEM],
            finished_at=None if retrying else timezone.now(),
        )
        job = ExportJob.objects.select_related("region").filter(pk=job_id).first()
        if job is None:
            return
        if retrying:
            report_events.export_retrying(job=job, error=job.error)
        else:
            report_events.export_failed(job=job, error=job.error)


@transaction.atomic
def scheduled_run_allow_again(*, actor: User, runs: Iterable[ScheduledRun]) -> int:
    """Lets failed beat steps run again (their attempts back to 0): the actor's 管理员 scope only; audited."""
    rules.require(actor, "reporting.reset_schedule")
    visible = ScheduledRun.objects.visible_to(actor).filter(pk__in=[run.pk for run in runs], status=JobStatus.FAILED)
    failed = list(visible.select_for_update())
    for run in failed:
        ScheduledRun.objects.filter(pk=run.pk).update(attempts=0)
        report_events.schedule_rearmed(actor=actor, run=run)
    return len(failed)


__all__ = [
    "ExportRateLimited",
    "ReportError",
    "Snapshot",
    "describe",
    "differences",
    "export_claim",
    "export_expire_stale",
    "export_fail",
    "export_finish",
    "export_progress",
    "export_request",
    "job_succeed",
    "report_flag_missing",
    "report_get_or_create",
    "report_refresh",
    "report_sign",
    "report_submit",
    "scheduled_run_allow_again",
    "shown_fingerprint",
    "sign_pending",
    "sign_request",
    "take_snapshot",
]
