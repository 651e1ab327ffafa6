"""Choices of the hazards app. Chinese labels are what users read; values stay stable in the DB."""

from __future__ import annotations

from django.db import models

from portal.choices import Industry


class MineType(models.TextChoices):
    """The three parts of 《金属非金属矿山重大事故隐患判定标准》, in the standard's own order (一、二、三)."""

    UNDERGROUND = "underground", "地下矿山"
    OPEN_PIT = "open_pit", "露天矿山"
    TAILINGS = "tailings", "尾矿库"


# The standard's section numbers: 一、地下矿山 二、露天矿山 三、尾矿库.
SECTION_MINE_TYPE: dict[str, str] = {"一": MineType.UNDERGROUND, "二": MineType.OPEN_PIT, "三": MineType.TAILINGS}
MINE_TYPE_SECTION: dict[str, str] = {value: key for key, value in SECTION_MINE_TYPE.items()}

# The part of the standard that an enterprise's industry falls under, when there is one.
INDUSTRY_MINE_TYPE: dict[str, str] = {
    Industry.UNDERGROUND: MineType.UNDERGROUND,
    Industry.OPEN_PIT: MineType.OPEN_PIT,
    Industry.QUARRY: MineType.OPEN_PIT,
    Industry.TAILINGS: MineType.TAILINGS,
}

MAIN_STANDARD_DOCUMENT = "矿安〔2022〕88号"
MAIN_STANDARD_TITLE = "金属非金属矿山重大事故隐患判定标准"


class HazardLevel(models.TextChoices):
    GENERAL = "general", "一般事故隐患"
    MAJOR = "major", "重大事故隐患"


class HazardCategory(models.TextChoices):
    SLOPE = "slope", "边坡"
    BLASTING = "blasting", "爆破"
    TRANSPORT = "transport", "运输"
    VENTILATION = "ventilation", "通风"
    WATER = "water", "防治水"
    ROOF = "roof", "顶板"
    POWER = "power", "供配电"
    HOISTING = "hoisting", "提升"
    TAILINGS = "tailings", "尾矿库"
    FIRE = "fire", "消防"
    CONFINED_SPACE = "confined_space", "有限空间"
    HOT_WORK = "hot_work", "动火"
    OUTSOURCING = "outsourcing", "外包"
    MANAGEMENT = "management", "管理"
    OTHER = "other", "其他"


# A hazard whose category nobody stated (a ledger without a 隐患类别 column): shown so, never guessed.
CATEGORY_UNSET_LABEL = "未分类"


class HazardSource(models.TextChoices):
    SELF_CHECK = "self_check", "企业自查"
    TOWN_INSPECTION = "town_inspection", "镇检查"
    COUNTY_INSPECTION = "county_inspection", "县局检查"
    SUPERIOR_INSPECTION = "superior_inspection", "上级检查"
    EXPERT_CHECK = "expert_check", "专家体检"
    TIP_OFF = "tip_off", "举报"


class HazardStatus(models.TextChoices):
    # 重大事故隐患
    DRAFT = "draft", "待主要负责人签字"
    PENDING_TOWN = "pending_town", "待镇确认"
    PENDING_COUNTY = "pending_county", "待县确认"
    CONFIRMED = "confirmed", "已确认"
    CLOSURE_REQUESTED = "closure_requested", "申请销号"
    CLOSED = "closed", "已销号"
    # 一般事故隐患
    REPORTED = "reported", "已上报"
    RECTIFIED = "rectified", "已整改"
    VERIFIED = "verified", "已验收"
    # both
    RECTIFYING = "rectifying", "整改中"

    @classmethod
    def finished(cls) -> frozenset[str]:
        """销号 or 验收: the hazard is closed and changes only by an admin."""
        return frozenset({cls.CLOSED, cls.VERIFIED})

    @classmethod
    def rectification_owed(cls) -> frozenset[str]:
        """Statuses in which the rectification is not yet done, so the deadline runs (逾期 applies)."""
        return frozenset({cls.DRAFT, cls.PENDING_TOWN, cls.PENDING_COUNTY, cls.CONFIRMED, cls.REPORTED, cls.RECTIFYING})

    @classmethod
    def open(cls) -> frozenset[str]:
        return frozenset(cls.values) - cls.finished()


class SupervisionLevel(models.TextChoices):
    PROVINCE = "province", "省级"
    CITY = "city", "市级"
    COUNTY = "county", "县级"


class EvidenceKind(models.TextChoices):
    PHOTO = "photo", "隐患照片"
    DOCUMENT = "document", "文件资料"
    RECTIFICATION = "rectification", "整改材料"
    CLOSURE = "closure", "销号材料"

    @classmethod
    def closure_evidence(cls) -> frozenset[str]:
        """What counts as evidence for 申请销号."""
        return frozenset({cls.RECTIFICATION, cls.CLOSURE})


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "已驳回"


class HazardAction(models.TextChoices):
    """What a HazardEvent records; also the names the permission table uses."""

    REPORT = "report", "上报"
    SIGN_REPORT = "sign_report", "主要负责人签字上报"
    TOWN_CONFIRM = "town_confirm", "镇确认"
    COUNTY_CONFIRM = "county_confirm", "县确认"
    SEND_BACK = "send_back", "退回"
    LIST_FOR_SUPERVISION = "list_for_supervision", "挂牌督办"
    START_RECTIFICATION = "start_rectification", "开始整改"
    REQUEST_CLOSURE = "request_closure", "申请销号"
    CLOSE = "close", "销号"
    MARK_RECTIFIED = "mark_rectified", "整改完成"
    VERIFY = "verify", "验收"
    REQUEST_EXTENSION = "request_extension", "申请延期"
    DECIDE_EXTENSION = "decide_extension", "审批延期"
    RECHECK = "recheck", "回头看"
    UPDATE = "update", "修改"
    ADD_EVIDENCE = "add_evidence", "上传材料"
    ADMIN_AMEND = "admin_amend", "管理员更正"
    LEDGER_IMPORT = "ledger_import", "台账导入"


class LedgerUploadStatus(models.TextChoices):
    """An uploaded 隐患台账: previewed and waiting for confirmation, imported, or refused when confirmed."""

    PENDING = "pending", "待确认"
    COMMITTED = "committed", "已导入"
    FAILED = "failed", "确认时未通过检查"


class NotificationKind(models.TextChoices):
    ACTION = "action", "待办"
    INFO = "info", "通知"
    DUE_SOON = "due_soon", "即将到期"
    OVERDUE = "overdue", "已逾期"


class ReminderKind(models.TextChoices):
    DUE_SOON = "due_soon", "3日内到期"
    OVERDUE = "overdue", "已逾期"
