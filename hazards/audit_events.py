"""Audit events of hazards: one function per workflow step, the ledger, the catalogue, notifications.

A step's row carries the hazard's status before and after and the step's comment in `extra`; its summary
is the one users have always read ("隐患镇确认：属实"). The services reach the step's function through
`STEP_EVENTS` (keyed by the HazardEvent action the step records), so a new step adds one function here and
one entry there. Notifications (站内通知 and e-mail) get one row per sending, not one per recipient.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hazards.choices import HazardAction
from hazards.models import Hazard, LedgerUpload
from portal.audit import audit_write, snapshot
from portal.choices import AuditAction, AuditKind
from portal.models import AuditEvent, Enterprise, User


def _step(
    kind: str,
    *,
    actor: User | None,
    hazard: Hazard,
    step: str,
    from_status: str,
    before: dict[str, Any] | None,
    comment: str,
    action: str = AuditAction.UPDATE,
) -> AuditEvent:
    label = HazardAction(step).label
    return audit_write(
        kind=kind, action=action, actor=actor, instance=hazard, before=before, after=snapshot(hazard),
        extra={"hazard_id": hazard.pk, "step": step, "from_status": from_status, "to_status": hazard.status,
               "comment": comment},
        detail=f"隐患{label}" + (f"：{comment}" if comment else ""),
    )  # fmt: skip


# The step functions take what `hazards.services._record` has (see `_step`): the hazard after the step, the
# actor, the step, the status and snapshot before, the comment. A report creates the hazard; the rest update it.


def hazard_reported(**step: Any) -> AuditEvent:
    return _step(AuditKind.HAZARD_REPORTED, action=AuditAction.CREATE, **step)


def hazard_report_signed(**step: Any) -> AuditEvent:
    return _step(AuditKind.HAZARD_REPORT_SIGNED, **step)


def hazard_town_confirmed(**step: Any) -> AuditEvent:
    return _step(AuditKind.HAZARD_TOWN_CONFIRMED, **step)


def hazard_county_confirmed(**step: Any) -> AuditEvent:
    return _step(AuditKind.HAZARD_COUNTY_CONFIRMED, **step)


def hazard_sent_back(**step: Any) -> AuditEvent:
    return _step(AuditKind.HAZARD_SENT_BACK, **step)


def hazard_listed_for_supervision(**step: Any) -> AuditEvent:
    return _step(AuditKind.HAZARD_LISTED, **step)


def hazard_rectification_started(**step: Any) -> AuditEvent:
    return _step(AuditKind.HAZARD_RECTIFICATION_STARTED, **step)


def hazard_closure_requested(**step: Any) -> AuditEvent:
    return _step(AuditKind.HAZARD_CLOSURE_REQUESTED, **step)


def hazard_closed(**step: Any) -> AuditEvent:
    return _step(AuditKind.HAZARD_CLOSED, **step)


def hazard_rectified(**step: Any) -> AuditEvent:
    return _step(AuditKind.HAZARD_RECTIFIED, **step)


def hazard_verified(**step: Any) -> AuditEvent:
    return _step(AuditKind.HAZARD_VERIFIED, **step)


def hazard_extension_requested(**step: Any) -> AuditEvent:
    return _step(AuditKind.HAZARD_EXTENSION_REQUESTED, **step)


def hazard_extension_decided(**step: Any) -> AuditEvent:
    return _step(AuditKind.HAZARD_EXTENSION_DECIDED, **step)


def hazard_rechecked(**step: Any) -> AuditEvent:
    return _step(AuditKind.HAZARD_RECHECKED, **step)


def hazard_updated(**step: Any) -> AuditEvent:
    return _step(AuditKind.HAZARD_UPDATED, **step)


def hazard_evidence_added(**step: Any) -> AuditEvent:
    return _step(AuditKind.HAZARD_EVIDENCE_ADDED, **step)


def hazard_admin_amended(**step: Any) -> AuditEvent:
    return _step(AuditKind.HAZARD_ADMIN_AMENDED, **step)


STEP_EVENTS: dict[str, Callable[..., AuditEvent]] = {
    HazardAction.REPORT: hazard_reported,
    HazardAction.SIGN_REPORT: hazard_report_signed,
    HazardAction.TOWN_CONFIRM: hazard_town_confirmed,
    HazardAction.COUNTY_CONFIRM: hazard_county_confirmed,
    HazardAction.SEND_BACK: hazard_sent_back,
    HazardAction.LIST_FOR_SUPERVISION: hazard_listed_for_supervision,
    HazardAction.START_RECTIFICATION: hazard_rectification_started,
    HazardAction.REQUEST_CLOSURE: hazard_closure_requested,
    HazardAction.CLOSE: hazard_closed,
    HazardAction.MARK_RECTIFIED: hazard_rectified,
    HazardAction.VERIFY: hazard_verified,
    HazardAction.REQUEST_EXTENSION: hazard_extension_requested,
    HazardAction.DECIDE_EXTENSION: hazard_extension_decided,
    HazardAction.RECHECK: hazard_rechecked,
    HazardAction.UPDATE: hazard_updated,
    HazardAction.ADD_EVIDENCE: hazard_evidence_added,
    HazardAction.ADMIN_AMEND: hazard_admin_amended,
}

# The kind each step's row carries, for the ledger's bulk rows (which record the same steps without the
# services, in one raw INSERT) and the migration of old rows. LEDGER_IMPORT is written only there.
STEP_KINDS: dict[str, str] = {
    HazardAction.REPORT: AuditKind.HAZARD_REPORTED,
    HazardAction.SIGN_REPORT: AuditKind.HAZARD_REPORT_SIGNED,
    HazardAction.TOWN_CONFIRM: AuditKind.HAZARD_TOWN_CONFIRMED,
    HazardAction.COUNTY_CONFIRM: AuditKind.HAZARD_COUNTY_CONFIRMED,
    HazardAction.SEND_BACK: AuditKind.HAZARD_SENT_BACK,
    HazardAction.LIST_FOR_SUPERVISION: AuditKind.HAZARD_LISTED,
    HazardAction.START_RECTIFICATION: AuditKind.HAZARD_RECTIFICATION_STARTED,
    HazardAction.REQUEST_CLOSURE: AuditKind.HAZARD_CLOSURE_REQUESTED,
    HazardAction.CLOSE: AuditKind.HAZARD_CLOSED,
    HazardAction.MARK_RECTIFIED: AuditKind.HAZARD_RECTIFIED,
    HazardAction.VERIFY: AuditKind.HAZARD_VERIFIED,
    HazardAction.REQUEST_EXTENSION: AuditKind.HAZARD_EXTENSION_REQUESTED,
    HazardAction.DECIDE_EXTENSION: AuditKind.HAZARD_EXTENSION_DECIDED,
    HazardAction.RECHECK: AuditKind.HAZARD_RECHECKED,
    HazardAction.UPDATE: AuditKind.HAZARD_UPDATED,
    HazardAction.ADD_EVIDENCE: AuditKind.HAZARD_EVIDENCE_ADDED,
    HazardAction.ADMIN_AMEND: AuditKind.HAZARD_ADMIN_AMENDED,
    HazardAction.LEDGER_IMPORT: AuditKind.HAZARD_LEDGER_IMPORTED,
}


# --- Files out and in --------------------------------------------------------------------------


def hazards_exported(*, user: User, rows: int, filters: str) -> AuditEvent:
    return audit_write(
        kind=AuditKind.HAZARDS_EXPORTED, action=AuditAction.EXPORT, actor=user,
        extra={"rows": rows, "filters": filters}, detail=f"导出隐患台账 {rows} 条；筛选条件：{filters}",
    )  # fmt: skip


def ledger_uploaded(*, actor: User | None, upload: LedgerUpload, enterprise: Enterprise, summary: str) -> AuditEvent:
    return audit_write(
        kind=AuditKind.LEDGER_UPLOADED, action=AuditAction.CREATE, actor=actor, instance=upload,
        extra={"enterprise_id": enterprise.pk, "file": upload.original_name, "summary": summary},
        detail=f"上传隐患台账 {upload.original_name}（{enterprise.name}），检查通过，待确认：{summary}",
    )  # fmt: skip


def ledger_imported(
    *, actor: User | None, actor_name: str, upload: LedgerUpload, enterprise: Enterprise, detail: str, summary: str
) -> AuditEvent:
    return audit_write(
        kind=AuditKind.LEDGER_IMPORTED, action=AuditAction.IMPORT, actor=actor, actor_name=actor_name,
        instance=upload, detail=f"{detail}（{enterprise.name}）：{summary}",
        extra={"enterprise_id": enterprise.pk, "file": upload.original_name, "summary": summary,
               "created": upload.created_count, "updated": upload.updated_count},
    )  # fmt: skip


def ledger_refused(*, actor: User | None, upload: LedgerUpload, errors: int) -> AuditEvent:
    return audit_write(
        kind=AuditKind.LEDGER_REFUSED, action=AuditAction.IMPORT, actor=actor, instance=upload,
        extra={"enterprise_id": upload.enterprise_id, "file": upload.original_name, "errors": errors},
        detail=f"隐患台账 {upload.original_name} 确认时未通过检查（{errors} 个问题），未导入任何数据",
    )  # fmt: skip


def criteria_imported(*, document: str, created: int, updated: int) -> AuditEvent:
    return audit_write(
        kind=AuditKind.CRITERIA_IMPORTED, action=AuditAction.IMPORT, actor=None, actor_name="系统", region_path="",
        extra={"document": document, "created": created, "updated": updated},
        detail=f"导入判定依据目录 {document}：新增 {created} 条，更新 {updated} 条",
    )  # fmt: skip


# --- Notifications -----------------------------------------------------------------------------


def notifications_sent(
    *,
    actor: User | None,
    recipients: Sequence[int],
    kind: str,
    message: str,
    hazard: Hazard | None = None,
    region_path: str | None = None,
) -> AuditEvent:
    """站内通知 to `recipients` (user ids). Filed under the hazard's town, the region given, or the sender's
    region; not on the hazard itself, whose own rows are its steps."""
    if hazard is not None:
        region_path = hazard.enterprise.town.path
    return audit_write(
        kind=AuditKind.NOTIFICATION_SENT, action=AuditAction.NOTIFY, actor=actor, region_path=region_path,
        extra={"recipients": list(recipients), "notification_kind": kind, "hazard_id": hazard.pk if hazard else None},
        detail=f"发送站内通知（{len(recipients)} 人）：{message}",
    )  # fmt: skip


def reminders_sent(*, claimed: int, notifications: int, recipients: Sequence[int], day: str) -> AuditEvent:
    return audit_write(
        kind=AuditKind.REMINDERS_SENT, action=AuditAction.NOTIFY, actor=None, actor_name="系统", region_path="",
        extra={"recipients": list(recipients), "notification_kind": "reminder", "reminders": claimed, "day": day},
        detail=f"发送隐患整改到期提醒：{claimed} 条隐患，{notifications} 条站内通知",
    )  # fmt: skip


def emails_sent(*, recipients: Sequence[int], subject: str) -> AuditEvent:
    return audit_write(
        kind=AuditKind.EMAIL_SENT, action=AuditAction.NOTIFY, actor=None, actor_name="系统", region_path="",
        extra={"recipients": list(recipients), "subject": subject},
        detail=f"发送邮件通知（{len(recipients)} 人）：{subject}",
    )  # fmt: skip
