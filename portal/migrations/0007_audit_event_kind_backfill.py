"""Gives the audit rows written before event kinds a kind, read from their action, object type and summary.

The summaries were written by code (not typed by users), so their openings tell the event apart; each rule
is one UPDATE over the rows still without a kind, the specific ones first. What no rule recognises keeps a
`legacy.*` kind. The texts are copied here (a migration must not follow later code).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations
from django.db.models import Q

UNKNOWN = "legacy.unknown"

HAZARD = "事故隐患"
HAZARD_STEPS = [  # (summary opening after "隐患", kind); longer labels first where one starts another
    ("主要负责人签字上报", "hazard.report_signed"),
    ("上报", "hazard.reported"),
    ("镇确认", "hazard.town_confirmed"),
    ("县确认", "hazard.county_confirmed"),
    ("退回", "hazard.sent_back"),
    ("挂牌督办", "hazard.listed_for_supervision"),
    ("开始整改", "hazard.rectification_started"),
    ("申请销号", "hazard.closure_requested"),
    ("销号", "hazard.closed"),
    ("整改完成", "hazard.rectified"),
    ("验收", "hazard.verified"),
    ("申请延期", "hazard.extension_requested"),
    ("审批延期", "hazard.extension_decided"),
    ("回头看", "hazard.rechecked"),
    ("修改", "hazard.updated"),
    ("上传材料", "hazard.evidence_added"),
    ("管理员更正", "hazard.admin_amended"),
]


def _rules() -> list[tuple[Q, str]]:
    rules: list[tuple[Q, str]] = [
        (Q(action="login"), "auth.login"),
        (Q(action="logout", detail__contains="退出所有设备"), "auth.signed_out_everywhere"),
        (Q(action="logout", detail__contains="结束一个网页登录"), "auth.session_ended"),
        (Q(action="logout"), "auth.logout"),
        (Q(action="login_failed", detail__contains="身份确认未通过"), "user.reauth_failed"),
        (Q(action="login_failed", detail__contains="自查报告签字被拒绝"), "selfcheck.sign_refused"),
        (Q(action="login_failed"), "auth.login_failed"),
        (Q(action="denied"), "access.denied"),
        (Q(action="otp_added"), "otp.added"),
        (Q(action="otp_removed"), "otp.removed"),
        (Q(action="otp_verified"), "otp.verified"),
        (Q(action="otp_failed"), "otp.failed"),
        (Q(action="otp_backup_codes"), "otp.backup_codes"),
        (Q(action="otp_reset"), "otp.reset"),
        (Q(action="token_issued"), "token.issued"),
        (Q(action="token_revoked"), "token.revoked"),
        (Q(action="export", detail__contains="导出企业名录"), "enterprise.exported"),
        (Q(action="export", detail__contains="导出隐患台账"), "hazard.exported"),
        (Q(action="export", detail__contains="申请生成"), "export.requested"),
        (Q(action="export", detail__contains="下载已签字文件"), "report.file_downloaded"),
        (Q(action="export", detail__contains="下载报表文件"), "export.downloaded"),
        (Q(action="export"), "legacy.export"),
        (Q(action="import", detail__contains="导入判定依据目录"), "criteria.imported"),
        (Q(action="import", detail__contains="确认时未通过检查"), "ledger.refused"),
        (Q(action="import", detail__contains="隐患台账导入"), "ledger.imported"),
        (Q(action="import", detail__contains="导入企业名录"), "enterprise.imported"),
        (Q(action="import", detail__contains="导入执法"), "enforcement.imported"),
        (Q(action="import"), "legacy.import"),
        (Q(action="update", detail__contains="生成缩略图"), "file.thumbnail_made"),
        (Q(action="create", object_type="隐患台账上传记录"), "ledger.uploaded"),
    ]
    for label, kind in HAZARD_STEPS:
        rules.append((Q(action__in=["create", "update"], object_type=HAZARD, detail__contains=f"隐患{label}"), kind))
    rules += [
        (Q(action="create", object_type=HAZARD, detail__contains="隐患台账导入"), "hazard.ledger_imported"),
        (Q(action="update", object_type=HAZARD, detail__contains="隐患台账导入"), "hazard.updated"),
        (Q(action="create", object_type="月度报表"), "report.created"),
        (Q(action="update", object_type="月度报表", detail__contains="截止日未报送"), "report.overdue"),
        (Q(action="update", detail__contains="草稿数据已按最新记录更新"), "report.draft_refreshed"),
        (Q(action="create", object_type="报表版本"), "report.version_created"),
        (Q(action="update", object_type="报表版本", detail__contains="报送报表"), "report.submitted"),
        (Q(action="update", object_type="报表版本", detail__contains="申请签字"), "report.sign_requested"),
        (Q(action="update", object_type="报表版本", detail__contains="分管负责人签字"), "report.signed"),
        (Q(action="update", object_type="报表导出任务", detail__contains="任务超时"), "export.failed"),
        (Q(action="update", object_type="报表导出任务", detail__contains="已重新排队"), "export.requeued"),
        (Q(action="update", object_type="报表导出任务", detail__contains="任务已终止"), "export.given_up"),
        (Q(action="update", detail__contains="允许报表定时任务再次执行"), "schedule.rearmed"),
        (Q(action="update", object_type="检查记录", detail__contains="登记检查发现的隐患"), "inspection.hazard_reported"),
        (Q(action="update", object_type="检查记录", detail__contains="关联隐患"), "inspection.hazards_linked"),
        (Q(action="update", object_type="检查记录", detail__contains="登记谈心谈话"), "inspection.talk_or_exam_marked"),
        (Q(action="update", object_type="检查记录", detail__contains="登记逢查必考"), "inspection.talk_or_exam_marked"),
        (Q(action="create", object_type="逢查必考"), "exam.recorded"),
        (Q(action="create", object_type="自查自改报告"), "selfcheck.started"),
        (Q(action="update", object_type="自查自改报告", detail__contains="主要负责人签字报送"), "selfcheck.signed"),
        (Q(action__in=["create", "update"], object_type="镇阶段性进展", detail__endswith="报送"), "progress.submitted"),
        (Q(action="create", object_type="材料报送", detail__contains="报送月度报表"), "deliverable.table_recorded"),
        (Q(action="create", object_type="材料报送"), "deliverable.submitted"),
        (Q(action__in=["create", "update"], detail__contains="预警已处理"), "warning.resolved"),
        (Q(action="create", object_type="用户"), "user.created"),
        (Q(action="update", object_type="用户", detail__contains="修改密码"), "user.password_changed"),
        (Q(action="update", object_type="用户", detail__contains="身份确认通过"), "user.reauthenticated"),
        (Q(action="update", object_type="用户"), "user.updated"),
        (Q(action="create"), "record.created"),
        (Q(action="update"), "record.updated"),
        (Q(action="delete"), "record.deleted"),
    ]
    return rules


def backfill(apps: Any, schema_editor: Any) -> None:
    AuditEvent = apps.get_model("portal", "AuditEvent")
    for match, kind in _rules():
        AuditEvent.objects.filter(match, kind=UNKNOWN).update(kind=kind)


def unfill(apps: Any, schema_editor: Any) -> None:
    apps.get_model("portal", "AuditEvent").objects.update(kind=UNKNOWN)


class Migration(migrations.Migration):
    dependencies = [("portal", "0006_audit_event_kind")]

    operations = [migrations.RunPython(backfill, unfill)]
