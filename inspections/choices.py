"""Choices of campaigns and field work. Chinese labels are what users read; values stay stable in the DB.

`ENFORCEMENT_COLUMNS` is the one mapping from an enforcement kind to the column it counts in, in each
of the two monthly tables of the seeds (追责问责情况统计表 of 泽应急发〔2024〕83号 and 冬季行动工作报表
of 泽应急发〔2023〕331号). The reporting app builds its cells from it; nothing else decides what a
record counts as.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class CampaignPhaseKind(models.TextChoices):
    """What a phase is for (drives nothing but labels and the 自查自改 default due date)."""

    MOBILISATION = "mobilisation", "动员部署"
    SELF_CHECK = "self_check", "企业自查自改"
    INSPECTION = "inspection", "监督检查"
    REVIEW = "review", "回头看和总结"
    OTHER = "other", "其他"


class ChecklistSubject(models.TextChoices):
    ENTERPRISE = "enterprise", "非煤矿山企业"
    PARENT_COMPANY = "parent_company", "主体公司"


class ExpectedAnswer(models.TextChoices):
    """The answer that means compliance: most questions ask 是否做到, a few ask 是否存在 a bad practice."""

    YES = "yes", "是"
    NO = "no", "否"


class Answer(models.TextChoices):
    YES = "yes", "是"
    NO = "no", "否"
    NOT_APPLICABLE = "na", "不适用"


class QuotaKind(models.TextChoices):
    """What a quota measures. The kinds other than OTHER are checked against records."""

    PRINCIPAL_DAYS_ON_SITE = "principal_days_on_site", "主要负责人在生产现场履职（工作日）"
    PRINCIPAL_LED_INSPECTIONS = "principal_led_inspections", "主要负责人带队检查"
    SAFETY_MEETINGS = "safety_meetings", "安全生产办公会议"
    MAJOR_HAZARD_INVESTIGATION = "major_hazard_investigation", "重大事故隐患全面排查"
    PARENT_LEADER_VISITS = "parent_leader_visits", "上级企业负责人到矿山检查"
    PRINCIPAL_EXAM = "principal_exam", "逢查必考（主要负责人）"
    PRINCIPAL_TALK = "principal_talk", "谈心谈话（主要负责人）"
    TOWN_COVERAGE = "town_coverage", "镇检查覆盖率"
    COUNTY_COVERAGE = "county_coverage", "县局检查覆盖率"
    OTHER = "other", "其他（不自动核算）"


class QuotaSubject(models.TextChoices):
    ENTERPRISE_PRINCIPAL = "enterprise_principal", "企业主要负责人"
    ENTERPRISE = "enterprise", "非煤矿山企业"
    PARENT_LEADERS = "parent_leaders", "上级企业（主体公司）负责人"
    TOWN = "town", "镇应急管理中心"
    TOWN_LEADERS = "town_leaders", "镇领导"
    COUNTY = "county", "县应急管理局"


class QuotaPeriod(models.TextChoices):
    MONTH = "month", "每月"
    WEEK = "week", "每周"
    CAMPAIGN = "campaign", "行动期间"


class DeliverableSubmitter(models.TextChoices):
    ENTERPRISE = "enterprise", "企业"
    TOWN = "town", "镇应急管理中心"


class DeliverableSchedule(models.TextChoices):
    ONCE = "once", "一次（截止日期前）"
    MONTHLY = "monthly", "每月（每月某日前）"


class DeliverableKind(models.TextChoices):
    """How a deliverable is fulfilled."""

    UPLOAD = "upload", "上传文件"
    FORM = "form", "在线填写"
    SELF_CHECK_REPORT = "self_check_report", "自查自改报告（逐项填报并由主要负责人签字）"
    MAJOR_HAZARD = "major_hazard", "上报重大事故隐患"
    MONTHLY_TABLE = "monthly_table", "月度报表"


class DeliveryStatus(models.TextChoices):
    ON_TIME = "on_time", "按时"
    LATE = "late", "逾期提交"
    MISSING = "missing", "未提交"
    PENDING = "pending", "未到期"


class ReportStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已签字报送"


class ProgressStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已报送"


class InspectionMethod(models.TextChoices):
    FOUR_NO_TWO_STRAIGHT = "four_no_two_straight", "四不两直"
    OPEN_AND_COVERT = "open_and_covert", "明查暗访"
    EXPERT_CHECK = "expert_check", "专家体检"
    JOINT_ENFORCEMENT = "joint_enforcement", "联合执法"
    RANDOM_CHECK = "random_check", "随机抽查"
    REVISIT = "revisit", "回头看"


class EnforcementKind(models.TextChoices):
    """执法与追责问责: every kind the two monthly tables count, plus three for completeness."""

    TALK_ENTERPRISE = "talk_enterprise", "谈话（非煤矿山企业）"
    TALK_PARENT = "talk_parent", "谈话（上级企业）"
    PENALTY_ENTERPRISE = "penalty_enterprise", "行政处罚（非煤矿山企业）"
    PENALTY_PRINCIPAL = "penalty_principal", "行政处罚（企业主要负责人）"
    INTERVIEW_ENTERPRISE = "interview_enterprise", "约谈（非煤矿山企业）"
    INTERVIEW_PRINCIPAL = "interview_principal", "约谈（企业主要负责人）"
    INTERVIEW_PARENT = "interview_parent", "约谈（上级企业）"
    INTERVIEW_PARENT_LEADER = "interview_parent_leader", "约谈（上级企业主要负责人或分管负责人）"
    ACCOUNTABILITY_DISCIPLINE = "accountability_discipline", "责任追究（党纪政纪处理）"
    ACCOUNTABILITY_REASSIGNMENT = "accountability_reassignment", "责任追究（调整工作岗位）"
    ACCOUNTABILITY_DISMISSAL = "accountability_dismissal", "责任追究（解聘）"
    EXPOSURE_ENTERPRISE = "exposure_enterprise", "通报曝光（非煤矿山企业）"
    EXPOSURE_PRINCIPAL = "exposure_principal", "通报曝光（企业主要负责人）"
    JOINT_PUNISHMENT_PRINCIPAL = "joint_punishment_principal", "纳入联合惩戒对象（企业主要负责人）"
    JOINT_PUNISHMENT_ENTERPRISE = "joint_punishment_enterprise", "纳入联合惩戒对象（非煤矿山企业）"
    RESPONSIBILITY_LIST = "responsibility_list", "纳入安全生产主体责任名单"
    ORDER_RECTIFICATION = "order_rectification", "责令限期整改"
    SUSPENSION = "suspension", "停产整顿"
    PUBLIC_EXPOSURE_CASE = "public_exposure_case", "公开曝光案例"
    ILLEGAL_SUBCONTRACTING = "illegal_subcontracting", "查处违法分包转包和挂靠资质行为"
    LABOUR_DISPATCH = "labour_dispatch", "查处劳务派遣用工违法行为"
    CRIMINAL_REFERRAL = "criminal_referral", "行刑衔接"
    LICENCE_SUSPENSION = "licence_suspension", "暂扣证照"
    LICENCE_REVOCATION = "licence_revocation", "吊销证照"
    SEIZURE = "seizure", "查封扣押"


class EnforcementTarget(models.TextChoices):
    """Whom a kind is aimed at; decides which of enterprise / parent company / person must be given."""

    ENTERPRISE = "enterprise", "非煤矿山企业"
    PRINCIPAL = "principal", "企业主要负责人"
    ENTERPRISE_PERSON = "enterprise_person", "企业有关人员"
    PARENT = "parent", "上级企业"
    PARENT_LEADER = "parent_leader", "上级企业主要负责人或分管负责人"


ENFORCEMENT_TARGET: dict[str, str] = {
    EnforcementKind.TALK_ENTERPRISE: EnforcementTarget.ENTERPRISE_PERSON,
    EnforcementKind.TALK_PARENT: EnforcementTarget.PARENT,
    EnforcementKind.PENALTY_ENTERPRISE: EnforcementTarget.ENTERPRISE,
    EnforcementKind.PENALTY_PRINCIPAL: EnforcementTarget.PRINCIPAL,
    EnforcementKind.INTERVIEW_ENTERPRISE: EnforcementTarget.ENTERPRISE,
    EnforcementKind.INTERVIEW_PRINCIPAL: EnforcementTarget.PRINCIPAL,
    EnforcementKind.INTERVIEW_PARENT: EnforcementTarget.PARENT,
    EnforcementKind.INTERVIEW_PARENT_LEADER: EnforcementTarget.PARENT_LEADER,
    EnforcementKind.ACCOUNTABILITY_DISCIPLINE: EnforcementTarget.ENTERPRISE_PERSON,
    EnforcementKind.ACCOUNTABILITY_REASSIGNMENT: EnforcementTarget.ENTERPRISE_PERSON,
    EnforcementKind.ACCOUNTABILITY_DISMISSAL: EnforcementTarget.ENTERPRISE_PERSON,
    EnforcementKind.EXPOSURE_ENTERPRISE: EnforcementTarget.ENTERPRISE,
    EnforcementKind.EXPOSURE_PRINCIPAL: EnforcementTarget.PRINCIPAL,
    EnforcementKind.JOINT_PUNISHMENT_PRINCIPAL: EnforcementTarget.PRINCIPAL,
    EnforcementKind.JOINT_PUNISHMENT_ENTERPRISE: EnforcementTarget.ENTERPRISE,
    EnforcementKind.RESPONSIBILITY_LIST: EnforcementTarget.ENTERPRISE,
    EnforcementKind.ORDER_RECTIFICATION: EnforcementTarget.ENTERPRISE,
    EnforcementKind.SUSPENSION: EnforcementTarget.ENTERPRISE,
    EnforcementKind.PUBLIC_EXPOSURE_CASE: EnforcementTarget.ENTERPRISE,
    EnforcementKind.ILLEGAL_SUBCONTRACTING: EnforcementTarget.ENTERPRISE,
    EnforcementKind.LABOUR_DISPATCH: EnforcementTarget.ENTERPRISE,
    EnforcementKind.CRIMINAL_REFERRAL: EnforcementTarget.ENTERPRISE_PERSON,
    EnforcementKind.LICENCE_SUSPENSION: EnforcementTarget.ENTERPRISE,
    EnforcementKind.LICENCE_REVOCATION: EnforcementTarget.ENTERPRISE,
    EnforcementKind.SEIZURE: EnforcementTarget.ENTERPRISE,
}

# Kinds whose record carries a fine (万元): required and > 0 for them, refused for the others.
FINE_KINDS: frozenset[str] = frozenset({EnforcementKind.PENALTY_ENTERPRISE, EnforcementKind.PENALTY_PRINCIPAL})

# 谈心谈话 are enforcement records of these kinds (the table's 谈话情况 counts them).
TALK_KINDS: frozenset[str] = frozenset({EnforcementKind.TALK_ENTERPRISE, EnforcementKind.TALK_PARENT})


# --- The two monthly tables -------------------------------------------------------------------


class Measure(models.TextChoices):
    """How a column turns records into a number."""

    COUNT = "count", "记录数"  # 人次 / 次 / 处 / 人数 / 个: one per record
    DISTINCT_ENTERPRISES = "distinct_enterprises", "企业数（去重）"  # 家, of 非煤矿山企业
    DISTINCT_PARENTS = "distinct_parents", "上级企业数（去重）"  # 家, of 上级企业
    AMOUNT = "amount", "金额合计（万元）"


@dataclass(frozen=True)
class TableColumn:
    key: str
    group: str  # the upper header cell ("" when the column has a one-level header)
    label: str  # the lower header cell, word for word from the seed
    unit: str  # the unit row, word for word from the seed
    measure: str
    amount_unit: str = ""  # a second cell under the same header: the amount (万元)


ACCOUNTABILITY_TABLE = "accountability"  # 追责问责情况统计表 (泽应急发〔2024〕83号 附件)
WINTER_TABLE = "winter"  # 冬季行动工作报表 (泽应急发〔2023〕331号 附件)

# 追责问责情况统计表, left to right, as in the seed attachment.
ACCOUNTABILITY_COLUMNS: tuple[TableColumn, ...] = (
    TableColumn("talk_enterprise", "谈话情况", "非煤矿山企业", "人次", Measure.COUNT),
    TableColumn("talk_parent", "谈话情况", "上级企业", "家", Measure.DISTINCT_PARENTS),
    TableColumn("penalty_enterprise", "惩处情况", "非煤矿山企业行政处罚", "次", Measure.COUNT, "万元"),
    TableColumn("penalty_principal", "惩处情况", "非煤矿山企业主要负责人行政处罚", "次", Measure.COUNT, "万元"),
    TableColumn("interview_enterprise", "约谈情况", "非煤矿山企业", "处", Measure.COUNT),
    TableColumn("interview_principal", "约谈情况", "非煤矿山企业主要负责人", "人次", Measure.COUNT),
    TableColumn("interview_parent", "约谈情况", "上级企业", "家", Measure.DISTINCT_PARENTS),
    TableColumn("interview_parent_leader", "约谈情况", "上级企业主要负责人或分管负责人", "人次", Measure.COUNT),
    TableColumn("discipline", "责任追究情况", "党纪政纪处理", "人次", Measure.COUNT),
    TableColumn("reassignment", "责任追究情况", "调整工作岗位", "人次", Measure.COUNT),
    TableColumn("dismissal", "责任追究情况", "解聘", "人数", Measure.COUNT),
    TableColumn("exposure_enterprise", "通报曝光情况", "非煤矿山企业", "处", Measure.COUNT),
    TableColumn("exposure_principal", "通报曝光情况", "非煤矿山企业主要负责人", "人次", Measure.COUNT),
    TableColumn("joint_punishment_principal", "纳入联合惩戒对象", "非煤矿山企业主要负责人", "人次", Measure.COUNT),
    TableColumn("joint_punishment_enterprise", "纳入联合惩戒对象", "非煤矿山企业", "处", Measure.COUNT),
    TableColumn("responsibility_list", "纳入安全生产主体责任名单非煤矿山企业", "", "处", Measure.COUNT),
)

# The columns of 冬季行动工作报表 that enforcement records feed (the others come from teams,
# inspections and hazards): left to right as in the seed attachment.
WINTER_ENFORCEMENT_COLUMNS: tuple[TableColumn, ...] = (
    TableColumn("ordered_rectification", "", "责令限期整改企业数", "(家)", Measure.DISTINCT_ENTERPRISES),
    TableColumn("fine_amount", "", "行政罚款金额", "(万)", Measure.AMOUNT),
    TableColumn("suspension", "", "停产整顿数", "(家)", Measure.DISTINCT_ENTERPRISES),
    TableColumn("public_exposure_case", "", "公开曝光案例数", "(个)", Measure.COUNT),
    TableColumn("illegal_subcontracting", "", "查处违法分包转包和挂靠资质行为数", "(家)", Measure.DISTINCT_ENTERPRISES),
    TableColumn("labour_dispatch", "", "查处劳务派遣用工违法行为数", "(个)", Measure.COUNT),
)


@dataclass(frozen=True)
class KindColumns:
    """The column a kind counts in, per table (None: the table does not count that kind)."""

    accountability: str | None
    winter: str | None


_K = EnforcementKind
ENFORCEMENT_COLUMNS: dict[str, KindColumns] = {
    _K.TALK_ENTERPRISE: KindColumns("talk_enterprise", None),
    _K.TALK_PARENT: KindColumns("talk_parent", None),
    # 一案双罚: the enterprise's and the principal's fines are two records, two columns; both are 行政罚款.
    _K.PENALTY_ENTERPRISE: KindColumns("penalty_enterprise", "fine_amount"),
    _K.PENALTY_PRINCIPAL: KindColumns("penalty_principal", "fine_amount"),
    _K.INTERVIEW_ENTERPRISE: KindColumns("interview_enterprise", None),
    _K.INTERVIEW_PRINCIPAL: KindColumns("interview_principal", None),
    _K.INTERVIEW_PARENT: KindColumns("interview_parent", None),
    _K.INTERVIEW_PARENT_LEADER: KindColumns("interview_parent_leader", None),
    _K.ACCOUNTABILITY_DISCIPLINE: KindColumns("discipline", None),
    _K.ACCOUNTABILITY_REASSIGNMENT: KindColumns("reassignment", None),
    _K.ACCOUNTABILITY_DISMISSAL: KindColumns("dismissal", None),
    _K.EXPOSURE_ENTERPRISE: KindColumns("exposure_enterprise", None),
    _K.EXPOSURE_PRINCIPAL: KindColumns("exposure_principal", None),
    _K.JOINT_PUNISHMENT_PRINCIPAL: KindColumns("joint_punishment_principal", None),
    _K.JOINT_PUNISHMENT_ENTERPRISE: KindColumns("joint_punishment_enterprise", None),
    _K.RESPONSIBILITY_LIST: KindColumns("responsibility_list", None),
    _K.ORDER_RECTIFICATION: KindColumns(None, "ordered_rectification"),
    _K.SUSPENSION: KindColumns(None, "suspension"),
    _K.PUBLIC_EXPOSURE_CASE: KindColumns(None, "public_exposure_case"),
    _K.ILLEGAL_SUBCONTRACTING: KindColumns(None, "illegal_subcontracting"),
    _K.LABOUR_DISPATCH: KindColumns(None, "labour_dispatch"),
    # Kept for completeness; neither table has a column for them.
    _K.CRIMINAL_REFERRAL: KindColumns(None, None),
    _K.LICENCE_SUSPENSION: KindColumns(None, None),
    _K.LICENCE_REVOCATION: KindColumns(None, None),
    _K.SEIZURE: KindColumns(None, None),
}
del _K


def column_of(kind: str, table: str) -> str | None:
    """The one column of `table` (ACCOUNTABILITY_TABLE or WINTER_TABLE) that `kind` counts in."""
    columns = ENFORCEMENT_COLUMNS[kind]
    if table == ACCOUNTABILITY_TABLE:
        return columns.accountability
    if table == WINTER_TABLE:
        return columns.winter
    raise ValueError(f"unknown table {table!r}")


def kinds_for_column(column: str, table: str) -> list[str]:
    """Every kind that counts in `column` of `table` (the reverse of `column_of`)."""
    return [kind for kind in ENFORCEMENT_COLUMNS if column_of(kind, table) == column]


class WarningKind(models.TextChoices):
    """The kinds of the one warnings engine (inspections/warnings.py), in the order the pages show them."""

    OVERDUE_HAZARD = "overdue_hazard", "隐患整改逾期"
    PERFUNCTORY_SELF_CHECK = "perfunctory_self_check", "自查自改走过场"
    LONG_OPEN_MAJOR_HAZARD = "long_open_major_hazard", "重大事故隐患长期存在"
    REPEATED_MAJOR_HAZARD = "repeated_major_hazard", "同类重大事故隐患反复出现"
    QUOTA_MISS = "quota_miss", "未达到工作指标"
    EXAM_RETAKE_FAILED = "exam_retake_failed", "逢查必考补考不合格"
    LICENCE_EXPIRY = "licence_expiry", "安全生产许可证到期"
    CERTIFICATE_EXPIRY = "certificate_expiry", "人员证书到期"
    LATE_DELIVERABLE = "late_deliverable", "材料、报表逾期未报送"


class WarningSeverity(models.TextChoices):
    HIGH = "high", "严重"
    MEDIUM = "medium", "较重"
    LOW = "low", "一般"


class DeliverableTable(models.TextChoices):
    """Which monthly table a deliverable is (the same values as reporting.choices.ReportKind)."""

    ACCOUNTABILITY = "accountability", "追责问责情况统计表"
    WINTER = "winter", "冬季行动工作报表"
    THREE_LISTS = "three_lists", "问题、整改、责任三清单"
