"""隐患排查治理: hazards, the 判定依据 catalogue, the event timeline, evidence, extensions, notifications.

Records only. Every write goes through `hazards.services`; status, deadlines and notifications
are never changed in save() or in signals.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import unicodedata
from typing import Any, cast

from django.conf import settings
from django.db import models
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from hazards.choices import (
    CATEGORY_UNSET_LABEL,
    MAIN_STANDARD_DOCUMENT,
    MINE_TYPE_SECTION,
    EvidenceKind,
    ExtensionStatus,
    HazardAction,
    HazardCategory,
    HazardLevel,
    HazardSource,
    HazardStatus,
    LedgerUploadStatus,
    MineType,
    NotificationKind,
    ReminderKind,
    SupervisionLevel,
)
from portal import limits
from portal.scoping import ScopedManager, ScopedQuerySet, path_within
from portal.validators import validate_plausible_date

# How far ahead the daily reminder looks.
DUE_SOON_DAYS = 3


def local_today() -> datetime.date:
    """Today in the portal's time zone (Asia/Shanghai)."""
    return timezone.localdate()


def _ancestor_paths(path: str) -> list[str]:
    """ "/140000/140500/140525/108/" → "/140000/", "/140000/140500/", … (the path itself included)."""
    codes = [code for code in path.split("/") if code]
    return ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]


class CriterionQuerySet(models.QuerySet["MajorHazardCriterion"]):
    """National items (no region) apply everywhere; a county's own items only in that county's subtree."""

    def applicable_at(self, path: str) -> CriterionQuerySet:
        """The items that apply to an enterprise or a user at region `path`."""
        return self.filter(Q(region__isnull=True) | Q(region__path__in=_ancestor_paths(path)))

    def visible_to(self, user: Any) -> CriterionQuerySet:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        if user.enterprise_id is not None:
            return self.applicable_at(user.enterprise.town.path) if user.enterprise is not None else self.none()
        return self.applicable_at(user.region_path) if user.region_id is not None else self.none()


class MajorHazardCriterion(models.Model):
    """One item of the 判定依据 catalogue: 《金属非金属矿山重大事故隐患判定标准》 and any documents admins add.

    `region` is empty for the national catalogue (矿安〔2022〕88号 and its like: only a superuser changes it);
    a county's 管理员 adds items of the county's own, which apply (are seen and cited) in that county only.
    """

    document = models.CharField("依据文件文号", max_length=60, default=MAIN_STANDARD_DOCUMENT)
    mine_type = models.CharField("矿山类型", max_length=20, choices=MineType.choices)
    number = models.PositiveSmallIntegerField("序号", help_text="在该矿山类型中的顺序号，如（七）为 7。")
    label = models.CharField("条目编号", max_length=20, help_text="如“（七）”。")
    text = models.TextField("条目内容", max_length=limits.TEXT_NOTE)
    sub_items = models.JSONField("分项", default=list, blank=True)
    source = models.CharField("来源", max_length=200, blank=True)
    verification = models.TextField("核对情况", max_length=limits.TEXT_NOTE, blank=True)
    cross_checked_by = models.JSONField("核对来源", default=list, blank=True)
    note = models.TextField("说明", max_length=limits.TEXT_NOTE, blank=True)
    uncertain = models.BooleanField("文字待核", default=False)
    is_active = models.BooleanField("启用", default=True)
    region = models.ForeignKey(
        "portal.Region",
        verbose_name="适用辖区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="留空为全国性条目，只有超级管理员可以修改；县（市、区）补充的条目只在本辖区适用。",
    )

    objects = CriterionQuerySet.as_manager()

    class Meta:
        verbose_name = "重大事故隐患判定依据"
        verbose_name_plural = "重大事故隐患判定依据"
        ordering = ["document", "mine_type", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "mine_type", "number"],
                name="criterion_unique_number_per_mine_type",
                violation_error_message="同一文件、同一矿山类型下的条目序号不能重复。",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_mine_type_display()}{self.code}"

    @property
    def is_national(self) -> bool:
        return self.region_id is None

    def applies_at(self, path: str) -> bool:
        """Whether the item may be cited for an enterprise at region `path`."""
        return self.region_id is None or (self.region is not None and path_within(path, self.region.path))

    @property
    def section(self) -> str:
        return MINE_TYPE_SECTION.get(self.mine_type, "")

    @property
    def code(self) -> str:
        """The code ledgers use: section number + label, e.g. "二（七）"."""
        return f"{self.section}{self.label}"

    @property
    def full_text(self) -> str:
        return "\n".join([f"{self.label}{self.text}", *self.sub_items])


_SPACES = re.compile(r"\s+")
_TRAILING_PUNCTUATION = "。.；;，,、！!"


def normalise_text(value: str) -> str:
    """Full-width to half-width (NFKC), no spaces: what makes two spellings of a ledger cell equal."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", value or ""))


def hazard_identity_key(*, ledger_number: str, found_on: datetime.date | None, description: str) -> str:
    """The identity of a hazard within its enterprise, so that a re-uploaded ledger updates instead of duplicating.

    The ledger's own 编号 when there is one; otherwise the date found and the normalised description.
    """
    number = normalise_text(ledger_number).upper()
    if number:
        return f"no:{number}"[:100]
    text = normalise_text(description).rstrip(_TRAILING_PUNCTUATION)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]
    return f"dd:{found_on.isoformat() if found_on else ''}:{digest}"


def overdue_condition(today: datetime.date) -> Q:
    """逾期 as a condition (the hazard list's filter, the warnings engine's 隐患整改逾期, the 工作台)."""
    return Q(current_deadline__lt=today, status__in=HazardStatus.rectification_owed())


class HazardQuerySet(ScopedQuerySet["Hazard"]):
    def visible_to(self, user: Any, *, semijoin: bool = False) -> HazardQuerySet:
        return cast(HazardQuerySet, super().visible_to(user, semijoin=semijoin))

    def overdue(self, today: datetime.date | None = None) -> HazardQuerySet:
        """逾期: the current deadline has passed and the rectification is not done (`overdue_condition`)."""
        return self.filter(overdue_condition(today or local_today()))

    def not_overdue(self, today: datetime.date | None = None) -> HazardQuerySet:
        today = today or local_today()
        return self.exclude(current_deadline__lt=today, status__in=HazardStatus.rectification_owed())

    def due_within(self, days: int, today: datetime.date | None = None) -> HazardQuerySet:
        today = today or local_today()
        return self.filter(
            current_deadline__gte=today,
            current_deadline__lte=today + datetime.timedelta(days=days),
            status__in=HazardStatus.rectification_owed(),
        )

    def with_overdue(self, today: datetime.date | None = None) -> HazardQuerySet:
        """Annotates `overdue_flag` (for ordering and the API; the `is_overdue` property needs no annotation)."""
        today = today or local_today()
        return self.annotate(
            overdue_flag=Case(
                When(current_deadline__lt=today, status__in=HazardStatus.rectification_owed(), then=Value(True)),
                default=Value(False),
                output_field=models.BooleanField(),
            )
        )


class HazardManager(ScopedManager["Hazard"]):
    def get_queryset(self) -> HazardQuerySet:
        return HazardQuerySet(self.model, using=self._db)

    def visible_to(self, user: Any, *, semijoin: bool = False) -> HazardQuerySet:
        return self.get_queryset().visible_to(user, semijoin=semijoin)

    def overdue(self, today: datetime.date | None = None) -> HazardQuerySet:
        return self.get_queryset().overdue(today)

    def not_overdue(self, today: datetime.date | None = None) -> HazardQuerySet:
        return self.get_queryset().not_overdue(today)

    def due_within(self, days: int, today: datetime.date | None = None) -> HazardQuerySet:
        return self.get_queryset().due_within(days, today)

    def with_overdue(self, today: datetime.date | None = None) -> HazardQuerySet:
        return self.get_queryset().with_overdue(today)


class Hazard(models.Model):
    """事故隐患: one row of an enterprise's 隐患台账, general or major."""

    enterprise = models.ForeignKey(
        "portal.Enterprise", verbose_name="企业", on_delete=models.PROTECT, related_name="hazards"
    )
    ledger_number = models.CharField("台账编号", max_length=60, blank=True)
    description = models.TextField("隐患内容", max_length=limits.TEXT_NOTE)
    location = models.CharField("隐患部位", max_length=200, blank=True)
    category = models.CharField("隐患类别", max_length=20, choices=HazardCategory.choices, blank=True)
    level = models.CharField("隐患级别", max_length=10, choices=HazardLevel.choices)
    criterion = models.ForeignKey(
        MajorHazardCriterion,
        verbose_name="判定依据",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hazards",
    )
    criterion_text = models.CharField("判定依据（原文）", max_length=300, blank=True)
    found_on = models.DateField("发现日期", validators=[validate_plausible_date])
    found_by = models.CharField("发现人", max_length=100, blank=True)
    source = models.CharField("隐患来源", max_length=30, choices=HazardSource.choices)

    # 五落实
    measures = models.TextField("整改措施", max_length=limits.TEXT_NOTE, blank=True)
    responsible_unit = models.CharField("责任单位", max_length=200, blank=True)
    responsible_person = models.CharField("责任人", max_length=100, blank=True)
    funds_wan = models.DecimalField("整改资金（万元）", max_digits=12, decimal_places=2, null=True, blank=True)
    deadline = models.DateField(
        "整改时限",
        null=True,
        blank=True,
        help_text="原定整改时限；批准延期后保留不变。",
        validators=[validate_plausible_date],
    )
    interim_measures = models.TextField("应急预案/临时管控措施", max_length=limits.TEXT_NOTE, blank=True)
    current_deadline = models.DateField(
        "现整改时限",
        null=True,
        blank=True,
        help_text="批准延期后的有效整改时限，逾期据此计算。",
        validators=[validate_plausible_date],
    )

    status = models.CharField("状态", max_length=20, choices=HazardStatus.choices)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="填报人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="签字人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    signed_at = models.DateTimeField("签字时间", null=True, blank=True)
    rectified_on = models.DateField("整改完成日期", null=True, blank=True, validators=[validate_plausible_date])
    rectification_note = models.TextField("整改情况", max_length=limits.TEXT_NOTE, blank=True)
    rectified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="整改填报人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="验收/销号人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_on = models.DateField("销号日期", null=True, blank=True, validators=[validate_plausible_date])

    # 挂牌督办
    supervision_level = models.CharField("挂牌督办级别", max_length=10, choices=SupervisionLevel.choices, blank=True)
    supervision_unit = models.CharField("督办单位", max_length=200, blank=True)
    supervision_doc_number = models.CharField("督办文号", max_length=100, blank=True)
    supervision_date = models.DateField("督办日期", null=True, blank=True, validators=[validate_plausible_date])
    supervision_deadline = models.DateField("督办期限", null=True, blank=True, validators=[validate_plausible_date])

    identity_key = models.CharField("台账识别码", max_length=100, editable=False)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    scope_region_path = "enterprise__town__path"
    scope_enterprise_path = "enterprise"

    objects = HazardManager()

    class Meta:
        verbose_name = "事故隐患"
        verbose_name_plural = "事故隐患"
        ordering = ["-found_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level=HazardLevel.GENERAL) | Q(criterion__isnull=False),
                name="major_hazard_cites_criterion",
                violation_error_message="重大事故隐患必须选择判定依据。",
            ),
            models.CheckConstraint(
                condition=Q(funds_wan__isnull=True) | Q(funds_wan__gte=0),
                name="hazard_funds_not_negative",
                violation_error_message="整改资金不能为负数。",
            ),
            models.UniqueConstraint(
                fields=["enterprise", "identity_key"],
                name="hazard_unique_identity_per_enterprise",
                violation_error_message="该企业已有同一编号（或同一发现日期和内容）的隐患。",
            ),
        ]
        indexes = [
            models.Index(fields=["enterprise", "status"], name="hazard_enterprise_status_idx"),
            models.Index(fields=["status", "current_deadline"], name="hazard_status_deadline_idx"),
            # 隐患整改逾期 of a region (the 预警 counts): from the region's enterprises into this index alone.
            models.Index(fields=["enterprise", "status", "current_deadline"], name="hazard_ent_status_dl_idx"),
            # The list's filters and sorts at province scale (a million rows): counts of 重大/逾期 read the
            # index only; sorting by the deadline walks an index instead of sorting the table.
            models.Index(fields=["level", "status", "current_deadline"], name="hazard_level_status_dl_idx"),
            models.Index(fields=["-found_on", "-id"], name="hazard_found_on_idx"),
            models.Index(fields=["current_deadline", "id"], name="hazard_deadline_idx"),
            models.Index(fields=["category", "status"], name="hazard_category_status_idx"),
            # A level's list in the default order (重大 + 逾期 at province scale): the page's ids are read from
            # this index alone (status and deadline checked in it), the first page and the deep ones alike.
            models.Index(
                fields=["level", "-found_on", "-id", "status", "current_deadline"], name="hazard_level_found_idx"
            ),
            # A region's or an enterprise's list in the default order: the ids of a page are read from this
            # index for the region's enterprises (no visit of the table's rows, which cost 0.5 s for a county).
            models.Index(fields=["enterprise", "-found_on", "-id"], name="hazard_enterprise_found_idx"),
            # 同类重大事故隐患反复出现 (inspections/warning_sources.py): the major hazards of each (enterprise,
            # 判定依据) in date order, read from this index alone (50,000 of a million rows at province scale).
            # Not a partial index: Django binds level as a parameter, for which SQLite reads every row to check it.
            models.Index(fields=["level", "enterprise", "criterion", "found_on", "id"], name="hazard_major_group_idx"),
            models.Index(
                fields=["supervision_level", "status"],
                name="hazard_supervised_idx",
                condition=~Q(supervision_level=""),
            ),
        ]

    def __str__(self) -> str:
        label = self.ledger_number or f"#{self.pk}"
        return f"{label} {self.description[:40]}"

    def get_category_display(self) -> str:  # type: ignore[no-redef]  # kept by Django over its generated one
        """The category's label; 未分类 when none was stated (Django keeps this method over its generated one)."""
        return str(dict(HazardCategory.choices).get(self.category, self.category)) or CATEGORY_UNSET_LABEL

    @property
    def is_major(self) -> bool:
        return self.level == HazardLevel.MAJOR

    @property
    def is_finished(self) -> bool:
        return self.status in HazardStatus.finished()

    def is_overdue_on(self, today: datetime.date) -> bool:
        return (
            self.current_deadline is not None
            and self.current_deadline < today
            and self.status in HazardStatus.rectification_owed()
        )

    @property
    def is_overdue(self) -> bool:
        """逾期, computed from the current deadline and today (Asia/Shanghai); never stored."""
        return self.is_overdue_on(local_today())

    @property
    def is_supervised(self) -> bool:
        return bool(self.supervision_level)

    def missing_five_implementations(self) -> list[str]:
        """The 五落实 items still missing, by their Chinese names."""
        missing = []
        if not self.measures.strip():
            missing.append("整改措施")
        if not self.responsible_unit.strip() or not self.responsible_person.strip():
            missing.append("责任单位和责任人")
        if self.funds_wan is None:
            missing.append("整改资金")
        if self.deadline is None:
            missing.append("整改时限")
        if not self.interim_measures.strip():
            missing.append("应急预案/临时管控措施")
        return missing


class _AppendOnly(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RuntimeError(f"{self._meta.verbose_name}只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"{self._meta.verbose_name}只能追加，不能删除。")


class HazardEvent(_AppendOnly):
    """One step of a hazard's timeline: who, when, what, from which status to which, and why."""

    hazard = models.ForeignKey(Hazard, verbose_name="隐患", on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField("操作人姓名", max_length=150, blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now)
    action = models.CharField("操作", max_length=30, choices=HazardAction.choices)
    from_status = models.CharField("原状态", max_length=20, choices=HazardStatus.choices, blank=True)
    to_status = models.CharField("新状态", max_length=20, choices=HazardStatus.choices, blank=True)
    comment = models.TextField("意见/说明", max_length=limits.TEXT_COMMENT, blank=True)
    data = models.JSONField("附加信息", default=dict, blank=True)

    scope_region_path = "hazard__enterprise__town__path"
    scope_enterprise_path = "hazard__enterprise"

    objects = ScopedManager["HazardEvent"]()

    class Meta:
        verbose_name = "隐患处理记录"
        verbose_name_plural = "隐患处理记录"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["hazard", "created_at"], name="hazard_event_timeline_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.get_action_display()}"


class HazardEvidence(models.Model):
    """A photo or file about a hazard, stored through Django's storage API (local disk or S3-compatible)."""

    hazard = models.ForeignKey(Hazard, verbose_name="隐患", on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField("材料类型", max_length=20, choices=EvidenceKind.choices)
    file = models.FileField("文件", upload_to="hazards/%Y/%m/", max_length=255)
    # Pages embed only this small JPEG (made on upload from a photo); the original is a download.
    thumbnail = models.FileField("缩略图", upload_to="hazards/%Y/%m/", max_length=255, blank=True)
    original_name = models.CharField("原文件名", max_length=255)
    size = models.PositiveBigIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    description = models.CharField("说明", max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    scope_region_path = "hazard__enterprise__town__path"
    scope_enterprise_path = "hazard__enterprise"

    objects = ScopedManager["HazardEvidence"]()

    class Meta:
        verbose_name = "隐患材料"
        verbose_name_plural = "隐患材料"
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name}"


class ExtensionRequest(models.Model):
    """整改延期申请. The hazard's original deadline is never changed; the old current deadline is kept here."""

    hazard = models.ForeignKey(Hazard, verbose_name="隐患", on_delete=models.CASCADE, related_name="extensions")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField("申请时间", auto_now_add=True)
    old_deadline = models.DateField("原整改时限", validators=[validate_plausible_date])
    requested_deadline = models.DateField("申请延至", validators=[validate_plausible_date])
    reason = models.TextField("延期理由", max_length=limits.TEXT_COMMENT)
    status = models.CharField(
        "审批状态", max_length=10, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_comment = models.TextField("审批意见", max_length=limits.TEXT_COMMENT, blank=True)

    scope_region_path = "hazard__enterprise__town__path"
    scope_enterprise_path = "hazard__enterprise"

    objects = ScopedManager["ExtensionRequest"]()

    class Meta:
        verbose_name = "延期申请"
        verbose_name_plural = "延期申请"
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["hazard"],
                condition=Q(status=ExtensionStatus.PENDING),
                name="one_pending_extension_per_hazard",
                violation_error_message="该隐患已有待审批的延期申请。",
            )
        ]

    def __str__(self) -> str:
        return f"{self.hazard} 延期至 {self.requested_deadline:%Y-%m-%d}"


class Notification(models.Model):
    """站内通知: what a user must act on next, and reminders of deadlines."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="接收人", on_delete=models.CASCADE, related_name="hazard_notifications"
    )
    hazard = models.ForeignKey(
        Hazard, verbose_name="隐患", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField("类型", max_length=20, choices=NotificationKind.choices, default=NotificationKind.ACTION)
    message = models.CharField("内容", max_length=500)
    is_read = models.BooleanField("已读", default=False)
    created_at = models.DateTimeField("时间", default=timezone.now)
    read_at = models.DateTimeField("阅读时间", null=True, blank=True)

    class Meta:
        verbose_name = "站内通知"
        verbose_name_plural = "站内通知"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "is_read", "-created_at"], name="notification_inbox_idx")]

    def __str__(self) -> str:
        return self.message[:60]


class HazardReminder(models.Model):
    """The daily deadline job's claim: one row per hazard, kind and day, so no reminder is ever sent twice."""

    hazard = models.ForeignKey(Hazard, verbose_name="隐患", on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField("类型", max_length=10, choices=ReminderKind.choices)
    date = models.DateField("日期", validators=[validate_plausible_date])
    claim_token = models.CharField("处理批次", max_length=32, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "到期提醒记录"
        verbose_name_plural = "到期提醒记录"
        constraints = [
            models.UniqueConstraint(fields=["hazard", "kind", "date"], name="one_reminder_per_hazard_kind_day")
        ]
        indexes = [models.Index(fields=["date", "claim_token"], name="reminder_claim_idx")]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.hazard_id}"


class LedgerUpload(models.Model):
    """An uploaded 隐患台账 (Excel): the original file as it was received, who uploaded it for which enterprise,
    and what its import did. Created when a previewed file passes every check (待确认); the import sets
    the counts and 已导入. Stored through Django's storage API (local disk or S3-compatible)."""

    enterprise = models.ForeignKey(
        "portal.Enterprise", verbose_name="企业", on_delete=models.PROTECT, related_name="ledger_uploads"
    )
    file = models.FileField("原文件", upload_to="hazards/ledgers/%Y/%m/", max_length=255)
    original_name = models.CharField("原文件名", max_length=255)
    size = models.PositiveBigIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="上传人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_by_name = models.CharField("上传人姓名", max_length=150, blank=True)
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)
    status = models.CharField(
        "状态", max_length=10, choices=LedgerUploadStatus.choices, default=LedgerUploadStatus.PENDING
    )
    sheet_title = models.CharField("工作表", max_length=100, blank=True)
    header_row = models.PositiveIntegerField("表头所在行", default=0)
    total_rows = models.PositiveIntegerField("数据行数", default=0)
    created_count = models.PositiveIntegerField("新增条数", default=0)
    updated_count = models.PositiveIntegerField("更新条数", default=0)
    unchanged_count = models.PositiveIntegerField("未变条数", default=0)
    error_count = models.PositiveIntegerField("错误数", default=0)
    committed_at = models.DateTimeField("导入时间", null=True, blank=True)

    scope_region_path = "enterprise__town__path"
    scope_enterprise_path = "enterprise"

    objects = ScopedManager["LedgerUpload"]()

    class Meta:
        verbose_name = "隐患台账上传记录"
        verbose_name_plural = "隐患台账上传记录"
        ordering = ["-uploaded_at", "-id"]
        indexes = [models.Index(fields=["enterprise", "-uploaded_at"], name="ledger_upload_enterprise_idx")]

    def __str__(self) -> str:
        return f"{self.original_name}（{self.uploaded_at:%Y-%m-%d %H:%M}）"

    def summary(self) -> str:
        return f"新增 {self.created_count} 条，更新 {self.updated_count} 条，未变 {self.unchanged_count} 条"
