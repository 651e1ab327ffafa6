"""Audit events of field work, self-checks, campaign filings, warnings and the enforcement import.

One function per `AuditKind`; plain records of this app (teams, photos, calendar days, campaign items…)
use `portal.audit_events.record_created/updated/deleted`, whose rows name the record's type.
"""

from __future__ import annotations

from typing import Any

from inspections.models import (
    DeliverableSubmission,
    Exam,
    Inspection,
    SelfCheckReport,
    TownProgressReport,
    WarningResolution,
)
from portal.audit import audit_write
from portal.choices import AuditAction, AuditKind
from portal.models import AuditEvent, User


def _create_or_update(before: dict[str, Any] | None) -> str:
    return AuditAction.CREATE if before is None else AuditAction.UPDATE


# --- Field work --------------------------------------------------------------------------------


def inspection_talk_or_exam_marked(
    *, actor: User, inspection: Inspection, field: str, before: dict[str, Any], after: dict[str, Any]
) -> AuditEvent:
    return audit_write(
        kind=AuditKind.INSPECTION_TALK_OR_EXAM_MARKED, action=AuditAction.UPDATE, actor=actor, instance=inspection,
        before=before, after=after, extra={"inspection_id": inspection.pk, "field": field},
        detail="登记谈心谈话" if field == "talk_held" else "登记逢查必考",
    )  # fmt: skip


def inspection_hazard_reported(
    *, actor: User, inspection: Inspection, hazard_id: int, hazards: list[int]
) -> AuditEvent:
    return audit_write(
        kind=AuditKind.INSPECTION_HAZARD_REPORTED, action=AuditAction.UPDATE, actor=actor, instance=inspection,
        after={"hazards": hazards}, extra={"inspection_id": inspection.pk, "hazard_id": hazard_id},
        detail=f"登记检查发现的隐患 #{hazard_id}",
    )  # fmt: skip


def inspection_hazards_linked(
    *, actor: User, inspection: Inspection, before: list[int], after: list[int]
) -> AuditEvent:
    return audit_write(
        kind=AuditKind.INSPECTION_HAZARDS_LINKED, action=AuditAction.UPDATE, actor=actor, instance=inspection,
        before={"hazards": before}, after={"hazards": after},
        extra={"inspection_id": inspection.pk, "added": sorted(set(after) - set(before)),
               "removed": sorted(set(before) - set(after))},
        detail="关联隐患",
    )  # fmt: skip


def exam_recorded(*, actor: User, exam: Exam, after: dict[str, Any]) -> AuditEvent:
    return audit_write(
        kind=AuditKind.EXAM_RECORDED, action=AuditAction.CREATE, actor=actor, instance=exam, after=after,
        extra={"person_id": exam.person_id, "inspection_id": exam.inspection_id, "score": exam.score,
               "pass_mark": exam.pass_mark, "outcome": exam.outcome},
        detail=exam.outcome,
    )  # fmt: skip


# --- Self-checks -------------------------------------------------------------------------------


def self_check_started(*, actor: User, report: SelfCheckReport, after: dict[str, Any], on_behalf: bool) -> AuditEvent:
    return audit_write(
        kind=AuditKind.SELFCHECK_STARTED, action=AuditAction.CREATE, actor=actor, instance=report, after=after,
        extra={"enterprise_id": report.enterprise_id, "campaign_id": report.campaign_id, "on_behalf": on_behalf},
        detail="镇应急管理中心代企业填报" if on_behalf else "",
    )  # fmt: skip


def self_check_signed(
    *, actor: User, signer: User, report: SelfCheckReport, before: dict[str, Any], after: dict[str, Any]
) -> AuditEvent:
    detail = "主要负责人签字报送"
    if actor.pk != signer.pk:
        detail += f"（在{actor.scope_label} {actor.get_username()} 的设备上当面签字）"
    return audit_write(
        kind=AuditKind.SELFCHECK_SIGNED, action=AuditAction.UPDATE, actor=signer, instance=report, before=before,
        after=after, detail=detail,
        extra={"enterprise_id": report.enterprise_id, "signer_id": signer.pk,
               "device_of": actor.pk if actor.pk != signer.pk else None},
    )  # fmt: skip


def self_check_sign_refused(*, actor: User, report: SelfCheckReport, username: str) -> AuditEvent:
    return audit_write(
        kind=AuditKind.SELFCHECK_SIGN_REFUSED, action=AuditAction.LOGIN_FAILED, actor=actor, instance=report,
        extra={"enterprise_id": report.enterprise_id, "username": username[:40]},
        detail=f"自查报告签字被拒绝：账号“{username[:40]}”不是{report.enterprise.name}的主要负责人，未核对密码",
    )  # fmt: skip


# --- Filings of a campaign ---------------------------------------------------------------------


def progress_submitted(
    *, actor: User, report: TownProgressReport, before: dict[str, Any] | None, after: dict[str, Any]
) -> AuditEvent:
    return audit_write(
        kind=AuditKind.PROGRESS_SUBMITTED, action=_create_or_update(before), actor=actor, instance=report,
        before=before, after=after, extra={"phase_id": report.phase_id, "town_id": report.town_id}, detail="报送",
    )  # fmt: skip


def deliverable_submitted(*, actor: User, submission: DeliverableSubmission, after: dict[str, Any]) -> AuditEvent:
    return audit_write(
        kind=AuditKind.DELIVERABLE_SUBMITTED, action=AuditAction.CREATE, actor=actor, instance=submission,
        after=after, extra={"deliverable_id": submission.deliverable_id, "due_date": submission.due_date},
    )  # fmt: skip


def deliverable_table_recorded(*, actor: User, submission: DeliverableSubmission, after: dict[str, Any]) -> AuditEvent:
    return audit_write(
        kind=AuditKind.DELIVERABLE_TABLE_RECORDED, action=AuditAction.CREATE, actor=actor, instance=submission,
        after=after, extra={"deliverable_id": submission.deliverable_id, "due_date": submission.due_date},
        detail="报送月度报表，材料报送情况记为已提交",
    )  # fmt: skip


# --- Warnings and the enforcement import -------------------------------------------------------


def warning_resolved(
    *, actor: User, resolution: WarningResolution, title: str, before: dict[str, Any] | None, after: dict[str, Any]
) -> AuditEvent:
    return audit_write(
        kind=AuditKind.WARNING_RESOLVED, action=_create_or_update(before), actor=actor, instance=resolution,
        before=before, after=after, detail=f"预警已处理：{title}",
        extra={"key": resolution.key, "warning_kind": resolution.kind, "record_id": resolution.record_id},
    )  # fmt: skip


def enforcement_imported(*, actor: User, summary: str, detail: str, region_path: str, stored_path: str) -> AuditEvent:
    return audit_write(
        kind=AuditKind.ENFORCEMENT_IMPORTED, action=AuditAction.IMPORT, actor=actor, region_path=region_path,
        extra={"summary": summary, "file": stored_path},
        detail=f"{detail}：{summary}" + (f"；原文件 {stored_path}" if stored_path else ""),
    )  # fmt: skip
