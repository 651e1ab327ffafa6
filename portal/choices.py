"""Choices of the directory. Chinese labels are what users read; values stay stable in the DB."""

from django.db import models


class RegionLevel(models.TextChoices):
    PROVINCE = "province", "省"
    CITY = "city", "市"
    COUNTY = "county", "县（市、区）"
    TOWN = "town", "镇/乡"


# The level as a short tag after a region's name, "泽州县（县级）": the choice labels themselves carry
# brackets ("县（市、区）") and read double-bracketed there.
REGION_LEVEL_TAGS: dict[str, str] = {
    RegionLevel.PROVINCE: "省级",
    RegionLevel.CITY: "市级",
    RegionLevel.COUNTY: "县级",
    RegionLevel.TOWN: "乡镇级",
}


class Industry(models.TextChoices):
    UNDERGROUND = "underground", "金属非金属地下矿山"
    OPEN_PIT = "open_pit", "金属非金属露天矿山"
    TAILINGS = "tailings", "尾矿库"
    QUARRY = "quarry", "小型露天采石场"
    EXPLORATION = "exploration", "地质勘探单位"
    OTHER = "other", "其他"


class ProductionStatus(models.TextChoices):
    PRODUCING = "producing", "正常生产"
    BUILDING = "building", "正常建设"
    SUSPENDED = "suspended", "停产"
    CONSTRUCTION_HALTED = "halted", "停建"
    CLOSED = "closed", "关闭"

    @classmethod
    def active(cls) -> list[str]:
        """正常生产建设: the enterprises the campaigns target."""
        return [cls.PRODUCING, cls.BUILDING]


class RiskGrade(models.TextChoices):
    A = "A", "A级"
    B = "B", "B级"
    C = "C", "C级"
    D = "D", "D级"


class StandardizationGrade(models.TextChoices):
    FIRST = "1", "一级"
    SECOND = "2", "二级"
    THIRD = "3", "三级"
    NONE = "none", "未达标"


class Role(models.TextChoices):
    ENTERPRISE_CLERK = "enterprise_clerk", "企业填报员"
    ENTERPRISE_PRINCIPAL = "enterprise_principal", "企业主要负责人"
    TOWN_STAFF = "town_staff", "镇应急管理中心"
    COUNTY_STAFF = "county_staff", "县局股室"
    COUNTY_LEADER = "county_leader", "分管负责人"
    ADMIN = "admin", "管理员"
    CITY_VIEWER = "city_viewer", "市局"

    @classmethod
    def enterprise_roles(cls) -> set[str]:
        return {cls.ENTERPRISE_CLERK, cls.ENTERPRISE_PRINCIPAL}


# The region level a role's scope must have; enterprise roles are scoped to one enterprise.
ROLE_REGION_LEVEL: dict[str, str] = {
    Role.TOWN_STAFF: RegionLevel.TOWN,
    Role.COUNTY_STAFF: RegionLevel.COUNTY,
    Role.COUNTY_LEADER: RegionLevel.COUNTY,
    Role.ADMIN: RegionLevel.COUNTY,
    Role.CITY_VIEWER: RegionLevel.CITY,
}


class PersonRole(models.TextChoices):
    PRINCIPAL = "principal", "主要负责人"
    DEPUTY = "deputy", "分管负责人"
    SAFETY = "safety", "安全负责人"
    TECHNICAL = "technical", "技术负责人"
    SPECIAL_OPERATOR = "special_operator", "特种作业人员"


class PrincipalKind(models.TextChoices):
    LEGAL_REPRESENTATIVE = "legal", "法定代表人"
    ACTUAL_CONTROLLER = "controller", "实际控制人"
    ACTUAL_RESPONSIBLE = "responsible", "实际负责人"


class StagedImportState(models.TextChoices):
    PENDING = "pending", "待确认"
    CLAIMED = "claimed", "导入中"
    COMMITTED = "committed", "已导入"


class AuditAction(models.TextChoices):
    CREATE = "create", "新增"
    UPDATE = "update", "修改"
    DELETE = "delete", "删除"
    LOGIN = "login", "登录"
    LOGIN_FAILED = "login_failed", "登录失败"
    LOGOUT = "logout", "退出"
    EXPORT = "export", "导出"
    IMPORT = "import", "导入"
    DENIED = "denied", "越权访问"
    OTP_ADDED = "otp_added", "绑定动态口令"
    OTP_REMOVED = "otp_removed", "解绑动态口令"
    OTP_VERIFIED = "otp_verified", "动态口令验证通过"
    OTP_FAILED = "otp_failed", "动态口令错误"
    OTP_BACKUP_CODES = "otp_backup_codes", "生成备用码"
    OTP_RESET = "otp_reset", "重置两步验证"
    TOKEN_ISSUED = "token_issued", "签发令牌"
    TOKEN_REVOKED = "token_revoked", "作废令牌"
    # Rows of what the system did on its own or told someone: counted apart from the users' writes.
    NOTIFY = "notify", "发送通知"
    JOB = "job", "后台任务"


class AuditKind(models.TextChoices):
    """What happened, one value per domain event (as Zulip's RealmAuditLog.event_type).

    Each kind is written by exactly one function in its app's `audit_events.py` (tests walk the code for
    it); `AuditAction` stays beside it for the older coarse reading. The values live here, in the lowest
    app, because the audit row's field needs every choice; they are only names, so no app is imported.
    `legacy.*` are only for rows written before kinds existed whose meaning the migration could not tell.
    """

    # Any app: plain records (the object's type says which) created, changed, deleted.
    RECORD_CREATED = "record.created", "新增记录"
    RECORD_UPDATED = "record.updated", "修改记录"
    RECORD_DELETED = "record.deleted", "删除记录"
    FILE_THUMBNAIL_MADE = "file.thumbnail_made", "生成缩略图"
    # portal: accounts, sign-in, access
    AUTH_LOGIN = "auth.login", "登录"
    AUTH_LOGOUT = "auth.logout", "退出登录"
    AUTH_LOGIN_FAILED = "auth.login_failed", "登录失败"
    AUTH_SIGNED_OUT_EVERYWHERE = "auth.signed_out_everywhere", "退出所有设备"
    AUTH_SESSION_ENDED = "auth.session_ended", "结束一个网页登录"
    ACCESS_DENIED = "access.denied", "越权访问"
    USER_CREATED = "user.created", "新建账号"
    USER_UPDATED = "user.updated", "修改账号"
    USER_ROLE_GRANTED = "user.role_granted", "变更角色或辖区"
    USER_PASSWORD_CHANGED = "user.password_changed", "修改密码"
    USER_REAUTHENTICATED = "user.reauthenticated", "身份确认通过"
    USER_REAUTH_FAILED = "user.reauth_failed", "身份确认未通过"
    OTP_ADDED = "otp.added", "绑定动态口令"
    OTP_REMOVED = "otp.removed", "解绑动态口令"
    OTP_VERIFIED = "otp.verified", "动态口令验证通过"
    OTP_FAILED = "otp.failed", "动态口令错误"
    OTP_BACKUP_CODES = "otp.backup_codes", "生成备用码"
    OTP_RESET = "otp.reset", "重置两步验证"
    TOKEN_ISSUED = "token.issued", "签发 API 令牌"
    TOKEN_REVOKED = "token.revoked", "作废 API 令牌"
    ENTERPRISES_EXPORTED = "enterprise.exported", "导出企业名录"
    ENTERPRISES_IMPORTED = "enterprise.imported", "导入企业名录"
    BACKUP_RESTORED = "backup.restored", "恢复备份"
    # hazards
    HAZARD_REPORTED = "hazard.reported", "隐患上报"
    HAZARD_REPORT_SIGNED = "hazard.report_signed", "隐患主要负责人签字上报"
    HAZARD_TOWN_CONFIRMED = "hazard.town_confirmed", "隐患镇确认"
    HAZARD_COUNTY_CONFIRMED = "hazard.county_confirmed", "隐患县确认"
    HAZARD_SENT_BACK = "hazard.sent_back", "隐患退回"
    HAZARD_LISTED = "hazard.listed_for_supervision", "隐患挂牌督办"
    HAZARD_RECTIFICATION_STARTED = "hazard.rectification_started", "隐患开始整改"
    HAZARD_CLOSURE_REQUESTED = "hazard.closure_requested", "隐患申请销号"
    HAZARD_CLOSED = "hazard.closed", "隐患销号"
    HAZARD_RECTIFIED = "hazard.rectified", "隐患整改完成"
    HAZARD_VERIFIED = "hazard.verified", "隐患验收"
    HAZARD_EXTENSION_REQUESTED = "hazard.extension_requested", "隐患申请延期"
    HAZARD_EXTENSION_DECIDED = "hazard.extension_decided", "隐患审批延期"
    HAZARD_RECHECKED = "hazard.rechecked", "隐患回头看"
    HAZARD_UPDATED = "hazard.updated", "隐患修改"
    HAZARD_EVIDENCE_ADDED = "hazard.evidence_added", "隐患上传材料"
    HAZARD_ADMIN_AMENDED = "hazard.admin_amended", "隐患管理员更正"
    HAZARD_LEDGER_IMPORTED = "hazard.ledger_imported", "隐患台账导入"
    HAZARDS_EXPORTED = "hazard.exported", "导出隐患台账"
    LEDGER_UPLOADED = "ledger.uploaded", "上传隐患台账"
    LEDGER_IMPORTED = "ledger.imported", "导入隐患台账"
    LEDGER_REFUSED = "ledger.refused", "隐患台账确认时未通过"
    CRITERIA_IMPORTED = "criteria.imported", "导入判定依据目录"
    NOTIFICATION_SENT = "notification.sent", "发送站内通知"
    REMINDERS_SENT = "notification.reminders_sent", "发送整改到期提醒"
    EMAIL_SENT = "notification.emailed", "发送邮件通知"
    # inspections
    INSPECTION_HAZARD_REPORTED = "inspection.hazard_reported", "登记检查发现的隐患"
    INSPECTION_HAZARDS_LINKED = "inspection.hazards_linked", "检查关联隐患"
    INSPECTION_TALK_OR_EXAM_MARKED = "inspection.talk_or_exam_marked", "登记谈心谈话或逢查必考"
    EXAM_RECORDED = "exam.recorded", "登记逢查必考"
    SELFCHECK_STARTED = "selfcheck.started", "开始自查"
    SELFCHECK_SIGNED = "selfcheck.signed", "自查报告签字报送"
    SELFCHECK_SIGN_REFUSED = "selfcheck.sign_refused", "自查报告签字被拒绝"
    PROGRESS_SUBMITTED = "progress.submitted", "报送阶段性进展"
    DELIVERABLE_SUBMITTED = "deliverable.submitted", "材料报送"
    DELIVERABLE_TABLE_RECORDED = "deliverable.table_recorded", "月度报表记为材料已提交"
    WARNING_RESOLVED = "warning.resolved", "预警已处理"
    ENFORCEMENT_IMPORTED = "enforcement.imported", "导入执法记录"
    # reporting
    REPORT_CREATED = "report.created", "建立报表"
    REPORT_DRAFT_REFRESHED = "report.draft_refreshed", "报表草稿更新"
    REPORT_VERSION_CREATED = "report.version_created", "生成报表版本"
    REPORT_SUBMITTED = "report.submitted", "报送报表"
    REPORT_SIGN_REQUESTED = "report.sign_requested", "申请签字"
    REPORT_SIGNED = "report.signed", "报表签字"
    REPORT_OVERDUE = "report.overdue", "报表逾期未报送"
    REPORT_FILE_DOWNLOADED = "report.file_downloaded", "下载已签字文件"
    EXPORT_REQUESTED = "export.requested", "申请生成文件"
    EXPORT_STARTED = "export.started", "后台任务开始"
    EXPORT_FINISHED = "export.finished", "后台任务完成"
    EXPORT_RETRYING = "export.retrying", "后台任务出错，稍后重试"
    EXPORT_FAILED = "export.failed", "后台任务失败"
    EXPORT_REQUEUED = "export.requeued", "后台任务重新排队"
    EXPORT_GIVEN_UP = "export.given_up", "后台任务放弃"
    EXPORT_DOWNLOADED = "export.downloaded", "下载报表文件"
    SCHEDULE_RAN = "schedule.ran", "定时任务执行"
    SCHEDULE_FAILED = "schedule.failed", "定时任务失败"
    SCHEDULE_REARMED = "schedule.rearmed", "允许定时任务再次执行"
    # Rows written before kinds existed whose meaning cannot be told from the action and object.
    LEGACY_EXPORT = "legacy.export", "导出（旧记录）"
    LEGACY_IMPORT = "legacy.import", "导入（旧记录）"
    LEGACY_UPDATE = "legacy.update", "修改（旧记录）"
    LEGACY_UNKNOWN = "legacy.unknown", "其他（旧记录）"


# The audit page's 事件 filter groups the kinds by domain (the part before the dot), under these names.
AUDIT_KIND_GROUP_LABELS: dict[str, str] = {
    "record": "记录", "file": "文件", "auth": "登录", "access": "越权访问", "user": "账号", "otp": "两步验证",
    "token": "API 令牌",  # nosec B105 # the audit filter's label for token events, not a password
    "enterprise": "企业名录", "hazard": "事故隐患", "ledger": "隐患台账", "criteria": "判定依据",
    "notification": "通知", "inspection": "检查记录", "exam": "逢查必考", "selfcheck": "自查自改",
    "progress": "阶段性进展", "deliverable": "材料报送", "warning": "预警", "enforcement": "执法记录",
    "report": "月度报表", "export": "后台任务", "schedule": "定时任务", "backup": "备份恢复", "legacy": "旧记录",
}  # fmt: skip


def audit_kind_groups() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(group label, "domain." prefix, [(kind, label)…]) in the order the kinds are declared."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for value, label in AuditKind.choices:
        groups.setdefault(value.split(".", 1)[0], []).append((value, label))
    return [(AUDIT_KIND_GROUP_LABELS[domain], f"{domain}.", kinds) for domain, kinds in groups.items()]
