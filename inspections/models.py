"""Campaigns (专项行动) as data, and the field work of towns and the county.

Scoping: every model reaches a region and an enterprise through `scope_region_path` /
`scope_enterprise_path` (see portal/scoping.py). A campaign and its parts are the exception in
direction: a county's campaign is read by the county, by everything below it (its towns and their
enterprises) and by the regions above it (the city), so the scoping also matches the
ancestors of the user's region (`scope_campaign_region_path`, read by portal.scoping).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from inspections.choices import (
    ENFORCEMENT_TARGET,
    FINE_KINDS,
    TALK_KINDS,
    Answer,
    CampaignPhaseKind,
    ChecklistSubject,
    DeliverableKind,
    DeliverableSchedule,
    DeliverableSubmitter,
    DeliverableTable,
    EnforcementKind,
    EnforcementTarget,
    ExpectedAnswer,
    InspectionMethod,
    ProgressStatus,
    QuotaKind,
    QuotaPeriod,
    QuotaSubject,
    ReportStatus,
    WarningKind,
)
from portal import limits
from portal.choices import RegionLevel
from portal.models import Enterprise, ParentCompany, Person, Region
from portal.scoping import ScopedManager, ScopedQuerySet
from portal.validators import validate_plausible_date

# --- Files ------------------------------------------------------------------------------------


def _upload_to(folder: str, filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()[:10]
    today = dt.date.today()
    return f"inspections/{folder}/{today:%Y/%m}/{uuid.uuid4().hex}{suffix}"


def inspection_photo_path(instance: Any, filename: str) -> str:
    return _upload_to("inspection-photos", filename)


def evidence_path(instance: Any, filename: str) -> str:
    return _upload_to("self-check-evidence", filename)


def enforcement_attachment_path(instance: Any, filename: str) -> str:
    return _upload_to("enforcement", filename)


def deliverable_path(instance: Any, filename: str) -> str:
    return _upload_to("deliverables", filename)


# --- Campaigns --------------------------------------------------------------------------------


class Campaign(models.Model):
    """A 专项行动 issued by a county (or above): phases, checklist, quotas and deliverables are its rows."""

    name = models.CharField("行动名称", max_length=200)
    document_number = models.CharField("文号", max_length=60, blank=True)
    document_title = models.CharField("通知标题", max_length=300, blank=True)
    issuing_region = models.ForeignKey(
        Region,
        verbose_name="发文辖区",
        on_delete=models.PROTECT,
        related_name="campaigns",
        limit_choices_to={"level__in": [RegionLevel.COUNTY, RegionLevel.CITY, RegionLevel.PROVINCE]},
    )
    issuing_authority = models.CharField("发文机关", max_length=100, blank=True)
    start_date = models.DateField("开始日期", validators=[validate_plausible_date])
    end_date = models.DateField("结束日期", validators=[validate_plausible_date])
    period_text = models.CharField("期限（原文）", max_length=100, blank=True, help_text="如：即日起至2024年8月30日")
    summary = models.TextField("工作目标 / 总体要求", max_length=limits.TEXT_LONG, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    scope_region_path = "issuing_region__path"
    scope_enterprise_path = None
    scope_campaign_region_path = "issuing_region__path"

    objects = ScopedManager[Any]()

    class Meta:
        verbose_name = "专项行动"
        verbose_name_plural = "专项行动"
        ordering = ["-start_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="campaign_ends_after_start",
                violation_error_message="结束日期不能早于开始日期。",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.document_number}）" if self.document_number else self.name

    def get_absolute_url(self) -> str:
        return reverse("inspections:campaign-detail", args=[self.pk])

    def is_running(self, on: dt.date) -> bool:
        return self.start_date <= on <= self.end_date


def validate_campaign_period(campaign: Campaign | None, on: dt.date | None) -> None:
    """A record tagged with a campaign is dated inside the campaign's period (else no table counts it)."""
    if campaign is None or on is None or not isinstance(on, dt.date) or campaign.is_running(on):
        return
    raise ValidationError(
        {
            "campaign": f"日期 {on:%Y-%m-%d} 不在专项行动“{campaign.name}”的期间"
            f"（{campaign.start_date:%Y-%m-%d} 至 {campaign.end_date:%Y-%m-%d}）内，"
            "请核对日期，或改选日期所在的专项行动、不选专项行动。"
        }
    )

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "结束日期不能早于开始日期。"})


class CampaignPhase(models.Model):
    campaign = models.ForeignKey(Campaign, verbose_name="专项行动", on_delete=models.CASCADE, related_name="phases")
    order = models.PositiveSmallIntegerField("顺序", default=0)
    name = models.CharField("阶段名称", max_length=100)
    kind = models.CharField(
        "阶段类型", max_length=20, choices=CampaignPhaseKind.choices, default=CampaignPhaseKind.OTHER
    )
    start_date = models.DateField("开始日期", validators=[validate_plausible_date])
    end_date = models.DateField("结束日期", validators=[validate_plausible_date])
    description = models.TextField("工作内容", max_length=limits.TEXT_LONG, blank=True)

    scope_region_path = "campaign__issuing_region__path"
    scope_enterprise_path = None
    scope_campaign_region_path = "campaign__issuing_region__path"

    objects = ScopedManager[Any]()

    class Meta:
        verbose_name = "行动阶段"
        verbose_name_plural = "行动阶段"
        ordering = ["campaign", "order", "start_date", "id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.start_date:%Y-%m-%d} 至 {self.end_date:%Y-%m-%d}）"

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "阶段结束日期不能早于开始日期。"})


class ChecklistArea(models.Model):
    campaign = models.ForeignKey(
        Campaign, verbose_name="专项行动", on_delete=models.CASCADE, related_name="checklist_areas"
    )
    order = models.PositiveSmallIntegerField("顺序", default=0)
    number = models.CharField("序号", max_length=10, blank=True, help_text="如：一、二")
    title = models.CharField("检查方面", max_length=200)
    description = models.TextField("说明", max_length=limits.TEXT_LONG, blank=True)

    scope_region_path = "campaign__issuing_region__path"
    scope_enterprise_path = None
    scope_campaign_region_path = "campaign__issuing_region__path"

    objects = ScopedManager[Any]()

    class Meta:
        verbose_name = "检查方面"
        verbose_name_plural = "检查方面"
        ordering = ["campaign", "order", "id"]

    def __str__(self) -> str:
        return f"（{self.number}）{self.title}" if self.number else self.title


class ChecklistItem(models.Model):
    area = models.ForeignKey(ChecklistArea, verbose_name="检查方面", on_delete=models.CASCADE, related_name="items")
    order = models.PositiveSmallIntegerField("顺序", default=0)
    text = models.TextField("检查内容", max_length=limits.TEXT_NOTE)
    subject = models.CharField(
        "适用对象", max_length=20, choices=ChecklistSubject.choices, default=ChecklistSubject.ENTERPRISE
    )
    expected_answer = models.CharField(
        "合规回答", max_length=3, choices=ExpectedAnswer.choices, default=ExpectedAnswer.YES,
        help_text="回答为此项时表示符合要求；如“是否存在以包代管”，合规回答为“否”。",
    )  # fmt: skip
    guidance = models.TextField("要求（原文）", max_length=limits.TEXT_LONG, blank=True)

    scope_region_path = "area__campaign__issuing_region__path"
    scope_enterprise_path = None
    scope_campaign_region_path = "area__campaign__issuing_region__path"

    objects = ScopedManager[Any]()

    class Meta:
        verbose_name = "检查项"
        verbose_name_plural = "检查项"
        ordering = ["area__order", "area_id", "order", "id"]

    def __str__(self) -> str:
        return self.text[:60]


class Quota(models.Model):
    """A number to reach: who, what, how many, per what period (e.g. 主要负责人每月现场履职不少于10个工作日)."""

    campaign = models.ForeignKey(Campaign, verbose_name="专项行动", on_delete=models.CASCADE, related_name="quotas")
    order = models.PositiveSmallIntegerField("顺序", default=0)
    kind = models.CharField("指标类型", max_length=40, choices=QuotaKind.choices)
    subject = models.CharField("责任主体", max_length=30, choices=QuotaSubject.choices)
    number = models.DecimalField("数值", max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal(0))])
    unit = models.CharField("单位", max_length=20, help_text="如：个工作日、次、%")
    period = models.CharField("周期", max_length=10, choices=QuotaPeriod.choices, default=QuotaPeriod.MONTH)
    phase = models.ForeignKey(
        CampaignPhase,
        verbose_name="适用阶段",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quotas",
        help_text="留空表示整个行动期间。",
    )
    text = models.TextField("要求（原文）", max_length=limits.TEXT_LONG, blank=True)

    scope_region_path = "campaign__issuing_region__path"
    scope_enterprise_path = None
    scope_campaign_region_path = "campaign__issuing_region__path"

    objects = ScopedManager[Any]()

    class Meta:
        verbose_name = "工作指标"
        verbose_name_plural = "工作指标"
        ordering = ["campaign", "order", "id"]

    def __str__(self) -> str:
        who, period, what = self.get_subject_display(), self.get_period_display(), self.get_kind_display()
        return f"{who}{period}{what}≥{self.number:g}{self.unit}"

    def window(self) -> tuple[dt.date, dt.date]:
        """The dates the quota applies in: its phase, else the whole campaign."""
        if self.phase_id is not None and self.phase is not None:
            return self.phase.start_date, self.phase.end_date
        return self.campaign.start_date, self.campaign.end_date


class Deliverable(models.Model):
    """Who submits what, to whom, by when (once by a date, or monthly by a day)."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="专项行动", on_delete=models.CASCADE, related_name="deliverables"
    )
    order = models.PositiveSmallIntegerField("顺序", default=0)
    name = models.CharField("报送材料", max_length=200)
    submitter = models.CharField("报送单位", max_length=20, choices=DeliverableSubmitter.choices)
    recipients = models.CharField("报送对象", max_length=100, help_text="如：镇应急管理中心和县局")
    kind = models.CharField("报送方式", max_length=20, choices=DeliverableKind.choices, default=DeliverableKind.UPLOAD)
    schedule = models.CharField("报送周期", max_length=10, choices=DeliverableSchedule.choices)
    due_date = models.DateField(
        "截止日期", null=True, blank=True, help_text="一次性报送的截止日期。", validators=[validate_plausible_date]
    )
    day_of_month = models.PositiveSmallIntegerField(
        "每月截止日",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(31)],
        help_text="按月报送时每月的截止日（如23日）。",
    )
    min_count = models.PositiveSmallIntegerField("至少报送数量", default=1)
    requires_principal_signature = models.BooleanField("须主要负责人签字", default=False)
    description = models.TextField("要求（原文）", max_length=limits.TEXT_LONG, blank=True)
    # Which monthly table this deliverable is: drafts, reminders and the filing status follow this
    # field, never the deliverable's name (renaming it changes nothing).
    table = models.CharField(
        "对应月度报表", max_length=20, choices=DeliverableTable.choices, blank=True,
        help_text="按月报送的固定格式报表（系统生成草稿、提醒和报送状态）；其他材料留空。",
    )  # fmt: skip

    scope_region_path = "campaign__issuing_region__path"
    scope_enterprise_path = None
    scope_campaign_region_path = "campaign__issuing_region__path"

    objects = ScopedManager[Any]()

    class Meta:
        verbose_name = "报送材料"
        verbose_name_plural = "报送材料"
        ordering = ["campaign", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(schedule=DeliverableSchedule.ONCE, due_date__isnull=False)
                    | models.Q(schedule=DeliverableSchedule.MONTHLY, day_of_month__isnull=False)
                ),
                name="deliverable_has_due",
                violation_error_message="一次性报送须填截止日期，按月报送须填每月截止日。",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_submitter_display()}：{self.name}"

    def clean(self) -> None:
        if self.schedule == DeliverableSchedule.ONCE and self.due_date is None:
            raise ValidationError({"due_date": "一次性报送须填写截止日期。"})
        if self.schedule == DeliverableSchedule.MONTHLY and self.day_of_month is None:
            raise ValidationError({"day_of_month": "按月报送须填写每月截止日。"})

    def due_dates(self) -> list[dt.date]:
        """Every due date of this deliverable within its campaign.

        Monthly: the given day of each month from the campaign's first month to its last, kept when it
        falls inside the campaign (a month shorter than the day falls due on its last day).
        """
        if self.schedule == DeliverableSchedule.ONCE:
            return [self.due_date] if self.due_date is not None else []
        assert self.day_of_month is not None
        start, end = self.campaign.start_date, self.campaign.end_date
        dates: list[dt.date] = []
        year, month = start.year, start.month
        while (year, month) <= (end.year, end.month):
            last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
            due = dt.date(year, month, min(self.day_of_month, last))
            if start <= due <= end:
                dates.append(due)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return dates


# --- Submissions of deliverables, progress reports ----------------------------------------------


class DeliverableSubmission(models.Model):
    """One filing of a deliverable by a town or an enterprise, for one due date."""

    deliverable = models.ForeignKey(
        Deliverable, verbose_name="报送材料", on_delete=models.PROTECT, related_name="submissions"
    )
    town = models.ForeignKey(
        Region, verbose_name="报送镇", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="报送企业", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_date = models.DateField("对应截止日期", validators=[validate_plausible_date])
    title = models.CharField("标题", max_length=200, blank=True)
    content = models.TextField("内容", max_length=limits.TEXT_LONG, blank=True)
    file = models.FileField("附件", upload_to=deliverable_path, max_length=200, blank=True)
    original_name = models.CharField("原文件名", max_length=200, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="报送人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField("报送时间")

    scope_region_path = ("town__path", "enterprise__town__path")
    scope_enterprise_path = "enterprise"

    objects = ScopedManager["DeliverableSubmission"]()

    class Meta:
        verbose_name = "材料报送"
        verbose_name_plural = "材料报送"
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(town__isnull=False, enterprise__isnull=True)
                    | models.Q(town__isnull=True, enterprise__isnull=False)
                ),
                name="submission_has_one_submitter",
                violation_error_message="材料须由一个镇或一个企业报送。",
            )
        ]

    def __str__(self) -> str:
        return f"{self.deliverable.name}（{self.due_date:%Y-%m-%d}）"


class DeliverableReminder(models.Model):
    """A reminder sent (3 days or 1 day before a due date). The unique row is the claim: sent once."""

    deliverable = models.ForeignKey(Deliverable, verbose_name="报送材料", on_delete=models.CASCADE, related_name="+")
    due_date = models.DateField("截止日期", validators=[validate_plausible_date])
    days_before = models.PositiveSmallIntegerField("提前天数")
    recipient_key = models.CharField("提醒对象键", max_length=40)
    town = models.ForeignKey(
        Region, verbose_name="镇", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    recipients = models.TextField("收件账号", max_length=limits.TEXT_SYSTEM, blank=True)
    sent_at = models.DateTimeField("提醒时间", auto_now_add=True)

    scope_region_path = ("town__path", "enterprise__town__path")
    scope_enterprise_path = "enterprise"

    objects = ScopedManager["DeliverableReminder"]()

    class Meta:
        verbose_name = "报送提醒"
        verbose_name_plural = "报送提醒"
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["deliverable", "due_date", "recipient_key", "days_before"], name="reminder_sent_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.deliverable.name} {self.due_date:%Y-%m-%d} 前{self.days_before}日提醒"


class TownProgressReport(models.Model):
    """A town's 阶段性进展 for one phase: what was done, the problems found, the measures taken."""

    campaign = models.ForeignKey(Campaign, verbose_name="专项行动", on_delete=models.PROTECT, related_name="+")
    phase = models.ForeignKey(
        CampaignPhase, verbose_name="阶段", on_delete=models.PROTECT, related_name="progress_reports"
    )
    town = models.ForeignKey(Region, verbose_name="镇", on_delete=models.PROTECT, related_name="+")
    progress = models.TextField("工作进展", max_length=limits.TEXT_NOTE, blank=True)
    problems = models.TextField("发现的问题", max_length=limits.TEXT_NOTE, blank=True)
    measures = models.TextField("采取的措施", max_length=limits.TEXT_NOTE, blank=True)
    status = models.CharField("状态", max_length=10, choices=ProgressStatus.choices, default=ProgressStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="填报人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="报送人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    scope_region_path = "town__path"
    scope_enterprise_path = None

    objects = ScopedManager["TownProgressReport"]()

    class Meta:
        verbose_name = "镇阶段性进展"
        verbose_name_plural = "镇阶段性进展"
        ordering = ["campaign", "phase__order", "town__code"]
        constraints = [models.UniqueConstraint(fields=["phase", "town"], name="progress_once_per_phase_and_town")]

    def __str__(self) -> str:
        return f"{self.town.name} {self.phase.name} 进展"


# --- Self-check reports -------------------------------------------------------------------------


class SelfCheckReport(models.Model):
    """自查自改报告: the campaign's checklist answered by one enterprise, signed by its principal."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="专项行动", on_delete=models.PROTECT, related_name="self_check_reports"
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.PROTECT, related_name="self_check_reports"
    )
    status = models.CharField("状态", max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT)
    summary = models.TextField("自查自改情况综述", max_length=limits.TEXT_LONG, blank=True)
    hazards = models.ManyToManyField(
        "hazards.Hazard", verbose_name="自查发现的隐患", blank=True, related_name="self_check_reports"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="填报账号", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filed_by_unit = models.ForeignKey(
        Region,
        verbose_name="代填单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="由镇应急管理中心代企业填报时记录代填的镇。",
    )
    signed_by_person = models.ForeignKey(
        Person, verbose_name="签字人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_name = models.CharField("签字人姓名", max_length=50, blank=True)
    signed_by_account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="签字账号",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    signed_at = models.DateTimeField("签字时间", null=True, blank=True)
    signed_on_device_of = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="签字所用登录账号",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="主要负责人在镇应急管理中心的设备上当面签字时，当时登录的账号。",
    )
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True)
    checklist_snapshot = models.JSONField(
        "签字时的检查内容",
        default=dict,
        blank=True,
        help_text="主要负责人签字时的专项行动信息及各检查项的内容、合规回答和要求；签字后的报告按此显示。",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    scope_region_path = "enterprise__town__path"
    scope_enterprise_path = "enterprise"

    objects = ScopedManager["SelfCheckReport"]()

    class Meta:
        verbose_name = "自查自改报告"
        verbose_name_plural = "自查自改报告"
        ordering = ["campaign", "enterprise__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "enterprise"], name="self_check_once_per_campaign"),
            models.CheckConstraint(
                condition=models.Q(status=ReportStatus.DRAFT)
                | models.Q(signed_at__isnull=False, signed_by_person__isnull=False, submitted_at__isnull=False),
                name="submitted_self_check_is_signed",
                violation_error_message="报送的自查自改报告必须有主要负责人签字。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise.name} 自查自改报告（{self.campaign.name}）"

    def get_absolute_url(self) -> str:
        return reverse("inspections:self-check-detail", args=[self.pk])

    @property
    def is_submitted(self) -> bool:
        return self.status == ReportStatus.SUBMITTED


class SelfCheckAnswer(models.Model):
    report = models.ForeignKey(SelfCheckReport, verbose_name="报告", on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(ChecklistItem, verbose_name="检查项", on_delete=models.PROTECT, related_name="+")
    answer = models.CharField("回答", max_length=3, choices=Answer.choices, blank=True)
    note = models.TextField("说明", max_length=limits.TEXT_NOTE, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    scope_region_path = "report__enterprise__town__path"
    scope_enterprise_path = "report__enterprise"

    objects = ScopedManager["SelfCheckAnswer"]()

    class Meta:
        verbose_name = "自查回答"
        verbose_name_plural = "自查回答"
        ordering = ["report", "item__area__order", "item__order", "id"]
        constraints = [models.UniqueConstraint(fields=["report", "item"], name="one_answer_per_item")]

    def __str__(self) -> str:
        return f"{self.item} → {self.get_answer_display() or '未答'}"

    @property
    def is_compliant(self) -> bool | None:
        if self.answer in ("", Answer.NOT_APPLICABLE):
            return None
        return self.answer == self.item.expected_answer


class SelfCheckEvidence(models.Model):
    answer = models.ForeignKey(SelfCheckAnswer, verbose_name="回答", on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField("佐证材料", upload_to=evidence_path, max_length=200)
    original_name = models.CharField("原文件名", max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    scope_region_path = "answer__report__enterprise__town__path"
    scope_enterprise_path = "answer__report__enterprise"

    objects = ScopedManager["SelfCheckEvidence"]()

    class Meta:
        verbose_name = "佐证材料"
        verbose_name_plural = "佐证材料"
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


# --- Field work -------------------------------------------------------------------------------


class InspectionTeam(models.Model):
    """督查组 formed by a town or the county for a campaign (counted in 冬季行动工作报表: 成立督查组)."""

    campaign = models.ForeignKey(Campaign, verbose_name="专项行动", on_delete=models.PROTECT, related_name="teams")
    unit = models.ForeignKey(Region, verbose_name="组建单位", on_delete=models.PROTECT, related_name="+")
    name = models.CharField("督查组名称", max_length=100)
    leader = models.CharField("组长", max_length=50)
    members = models.TextField("成员", max_length=limits.TEXT_LIST, blank=True, help_text="每行一人，或用顿号分隔。")
    formed_on = models.DateField("成立日期", validators=[validate_plausible_date])
    note = models.TextField("备注", max_length=limits.TEXT_NOTE, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", null=True, on_delete=models.SET_NULL, related_name="+"
    )

    scope_region_path = "unit__path"
    scope_enterprise_path = None

    objects = ScopedManager["InspectionTeam"]()

    class Meta:
        verbose_name = "督查组"
        verbose_name_plural = "督查组"
        ordering = ["-formed_on", "id"]

    def __str__(self) -> str:
        return self.name


class Inspection(models.Model):
    """检查: a town's or the county's visit to one enterprise."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name="被检查企业", on_delete=models.PROTECT, related_name="inspections"
    )
    unit = models.ForeignKey(Region, verbose_name="检查单位", on_delete=models.PROTECT, related_name="+")
    date = models.DateField("检查日期", validators=[validate_plausible_date])
    method = models.CharField("检查方式", max_length=30, choices=InspectionMethod.choices)
    campaign = models.ForeignKey(
        Campaign, verbose_name="专项行动", null=True, blank=True, on_delete=models.PROTECT, related_name="inspections"
    )
    team = models.ForeignKey(
        InspectionTeam,
        verbose_name="督查组",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inspections",
    )
    leader = models.CharField("带队人", max_length=50)
    members = models.TextField(
        "检查人员", max_length=limits.TEXT_LIST, blank=True, help_text="每行一人，或用顿号分隔。"
    )
    findings = models.TextField("检查情况", max_length=limits.TEXT_NOTE, blank=True)
    hazards = models.ManyToManyField(
        "hazards.Hazard", verbose_name="发现的隐患", blank=True, related_name="inspections"
    )
    talk_held = models.BooleanField("开展谈心谈话", default=False)
    exam_held = models.BooleanField("开展逢查必考", default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    scope_region_path = "enterprise__town__path"
    scope_enterprise_path = "enterprise"

    objects = ScopedManager["Inspection"]()

    class Meta:
        verbose_name = "检查记录"
        verbose_name_plural = "检查记录"
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["unit", "date"], name="inspection_unit_date_idx"),
            models.Index(fields=["enterprise", "date"], name="inspection_enterprise_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.enterprise.name}（{self.get_method_display()}）"

    def get_absolute_url(self) -> str:
        return reverse("inspections:inspection-detail", args=[self.pk])

    def clean(self) -> None:
        validate_campaign_period(self.campaign, self.date)


class InspectionPhoto(models.Model):
    inspection = models.ForeignKey(Inspection, verbose_name="检查记录", on_delete=models.CASCADE, related_name="photos")
    file = models.FileField("照片", upload_to=inspection_photo_path, max_length=200)
    # Pages embed only this small JPEG (made on upload); the original is a download.
    thumbnail = models.FileField("缩略图", upload_to=inspection_photo_path, max_length=200, blank=True)
    original_name = models.CharField("原文件名", max_length=200)
    caption = models.CharField("说明", max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    scope_region_path = "inspection__enterprise__town__path"
    scope_enterprise_path = "inspection__enterprise"

    objects = ScopedManager["InspectionPhoto"]()

    class Meta:
        verbose_name = "检查照片"
        verbose_name_plural = "检查照片"
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.caption or self.original_name


class Exam(models.Model):
    """逢查必考: one sitting of a principal's exam; a retake points at the failed sitting it repeats."""

    enterprise = models.ForeignKey(Enterprise, verbose_name="企业", on_delete=models.PROTECT, related_name="exams")
    person = models.ForeignKey(Person, verbose_name="主要负责人", on_delete=models.PROTECT, related_name="exams")
    unit = models.ForeignKey(Region, verbose_name="组织考试单位", on_delete=models.PROTECT, related_name="+")
    campaign = models.ForeignKey(
        Campaign, verbose_name="专项行动", null=True, blank=True, on_delete=models.PROTECT, related_name="exams"
    )
    inspection = models.ForeignKey(
        Inspection, verbose_name="检查记录", null=True, blank=True, on_delete=models.SET_NULL, related_name="exams"
    )
    date = models.DateField("考试日期", validators=[validate_plausible_date])
    score = models.DecimalField(
        "成绩",
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    pass_mark = models.DecimalField(
        "合格分数线", max_digits=5, decimal_places=1, default=Decimal(80),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )  # fmt: skip
    retake_of = models.OneToOneField(
        "self", verbose_name="补考对应的考试", null=True, blank=True, on_delete=models.PROTECT, related_name="retake"
    )
    note = models.TextField("备注", max_length=limits.TEXT_NOTE, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    scope_region_path = "enterprise__town__path"
    scope_enterprise_path = "enterprise"

    objects = ScopedManager["Exam"]()

    class Meta:
        verbose_name = "逢查必考"
        verbose_name_plural = "逢查必考"
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        label = "补考" if self.retake_of_id else "考试"
        return f"{self.person.name} {self.date:%Y-%m-%d} {label} {self.score}分"

    def clean(self) -> None:
        validate_campaign_period(self.campaign, self.date)

    @property
    def passed(self) -> bool:
        return self.score >= self.pass_mark

    @property
    def is_retake(self) -> bool:
        return self.retake_of_id is not None

    @property
    def outcome(self) -> str:
        if self.passed:
            return "合格"
        return "补考不合格：通报曝光，建议调整主要负责人" if self.is_retake else "不合格：责令重新学习和补考"


class PrincipalDutyLog(models.Model):
    """履职台账: one enterprise's month — the principal's days on site, inspections led, meetings,
    the monthly full major-hazard investigation, and the visits of the parent company's leaders."""

    enterprise = models.ForeignKey(Enterprise, verbose_name="企业", on_delete=models.PROTECT, related_name="duty_logs")
    person = models.ForeignKey(Person, verbose_name="主要负责人", on_delete=models.PROTECT, related_name="duty_logs")
    month = models.DateField("月份", help_text="该月1日。", validators=[validate_plausible_date])
    on_site_dates = models.JSONField("在生产现场履职日期", default=list, blank=True)
    inspections_led = models.PositiveSmallIntegerField("带队检查次数", default=0)
    safety_meetings = models.PositiveSmallIntegerField("安全生产办公会议次数", default=0)
    major_hazard_investigation_on = models.DateField(
        "重大事故隐患全面排查日期", null=True, blank=True, validators=[validate_plausible_date]
    )
    parent_leader_visits = models.PositiveSmallIntegerField(
        "上级企业负责人到矿检查次数", null=True, blank=True, help_text="无上级企业时留空。"
    )
    note = models.TextField("备注", max_length=limits.TEXT_NOTE, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="填报人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    scope_region_path = "enterprise__town__path"
    scope_enterprise_path = "enterprise"

    objects = ScopedManager["PrincipalDutyLog"]()

    class Meta:
        verbose_name = "主要负责人履职台账"
        verbose_name_plural = "主要负责人履职台账"
        ordering = ["-month", "enterprise__name"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "month"], name="duty_log_once_per_month"),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise.name} {self.month:%Y-%m} 履职台账"

    def on_site_days(self) -> list[dt.date]:
        return sorted({dt.date.fromisoformat(value) for value in self.on_site_dates or []})


class EnforcementRecord(models.Model):
    """执法与追责问责: one act of a town or the county — the only source of the monthly tables."""

    kind = models.CharField("类型", max_length=40, choices=EnforcementKind.choices, db_index=True)
    date = models.DateField("日期", db_index=True, validators=[validate_plausible_date])
    issuing_unit = models.ForeignKey(Region, verbose_name="实施单位", on_delete=models.PROTECT, related_name="+")
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name="非煤矿山企业",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enforcement_records",
    )
    parent_company = models.ForeignKey(
        ParentCompany,
        verbose_name="上级企业",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enforcement_records",
    )
    person = models.ForeignKey(
        Person, verbose_name="对象人员", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    person_name = models.CharField("对象人员姓名", max_length=50, blank=True)
    person_title = models.CharField("对象人员职务", max_length=50, blank=True, help_text="如：主要负责人、分管负责人")
    amount = models.DecimalField(
        "金额（万元）",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    document_number = models.CharField("文书编号", max_length=100, blank=True)
    campaign = models.ForeignKey(
        Campaign,
        verbose_name="专项行动",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enforcement_records",
    )
    inspection = models.ForeignKey(
        Inspection,
        verbose_name="检查记录",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="enforcement_records",
    )
    exam = models.ForeignKey(
        Exam,
        verbose_name="逢查必考记录",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="enforcement_records",
    )
    description = models.TextField("事由及内容", max_length=limits.TEXT_NOTE, blank=True)
    hazards = models.ManyToManyField(
        "hazards.Hazard", verbose_name="关联隐患", blank=True, related_name="enforcement_records"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    scope_region_path = ("enterprise__town__path", "parent_company__region__path", "issuing_unit__path")
    scope_enterprise_path = "enterprise"

    objects = ScopedManager["EnforcementRecord"]()

    class Meta:
        verbose_name = "执法与追责问责记录"
        verbose_name_plural = "执法与追责问责记录"
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["issuing_unit", "date", "kind"], name="enforcement_unit_date_kind_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(enterprise__isnull=False) | models.Q(parent_company__isnull=False),
                name="enforcement_has_a_target",
                violation_error_message="必须指定非煤矿山企业或上级企业。",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True) | models.Q(kind__in=sorted(FINE_KINDS)),
                name="enforcement_amount_only_for_fines",
                violation_error_message="只有行政处罚记录填写金额。",
            ),
        ]

    def __str__(self) -> str:
        target = self.enterprise.name if self.enterprise else (self.parent_company.name if self.parent_company else "")
        who = f" {self.person_name}" if self.person_name else ""
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()} {target}{who}"

    def get_absolute_url(self) -> str:
        return reverse("inspections:enforcement-detail", args=[self.pk])

    @property
    def target(self) -> str:
        return ENFORCEMENT_TARGET[self.kind]

    def clean(self) -> None:
        validate_campaign_period(self.campaign, self.date)
        errors: dict[str, str] = {}
        target = ENFORCEMENT_TARGET.get(self.kind)
        label = self.get_kind_display()
        needs_enterprise = {
            EnforcementTarget.ENTERPRISE,
            EnforcementTarget.PRINCIPAL,
            EnforcementTarget.ENTERPRISE_PERSON,
        }
        needs_parent = {EnforcementTarget.PARENT, EnforcementTarget.PARENT_LEADER}
        needs_person = {
            EnforcementTarget.PRINCIPAL,
            EnforcementTarget.ENTERPRISE_PERSON,
            EnforcementTarget.PARENT_LEADER,
        }
        if target in needs_enterprise and self.enterprise_id is None:
            errors["enterprise"] = f"{label}须指定非煤矿山企业。"
        if target in needs_parent and self.parent_company_id is None:
            errors["parent_company"] = f"{label}须指定上级企业。"
        if target in needs_person and not self.person_name.strip():
            errors["person_name"] = f"{label}须填写对象人员姓名。"
        if self.kind in FINE_KINDS:
            if self.amount is None:
                errors["amount"] = "行政处罚须填写罚款金额（万元）。"
        elif self.amount is not None:
            errors["amount"] = "只有行政处罚记录填写金额。"
        if (
            self.enterprise_id is not None
            and self.parent_company_id is not None
            and self.enterprise is not None
            and self.enterprise.parent_company_id != self.parent_company_id
        ):
            errors["parent_company"] = "所选上级企业不是该企业的上级企业。"
        if self.person_id is not None and self.person is not None:
            if self.person.enterprise_id is not None and self.person.enterprise_id != self.enterprise_id:
                errors["person"] = "对象人员不属于所选企业。"
            if self.person.parent_company_id is not None and self.person.parent_company_id != self.parent_company_id:
                errors["person"] = "对象人员不属于所选上级企业。"
        if errors:
            raise ValidationError(errors)


class TalkManager(ScopedManager["Talk"]):
    def get_queryset(self) -> ScopedQuerySet[Talk]:
        return super().get_queryset().filter(kind__in=sorted(TALK_KINDS))


class Talk(EnforcementRecord):
    """谈心谈话: enforcement records of the 谈话 kinds, with their own page."""

    objects = TalkManager()  # type: ignore[assignment,misc]

    class Meta:
        proxy = True
        verbose_name = "谈心谈话"
        verbose_name_plural = "谈心谈话"


class EnforcementAttachment(models.Model):
    record = models.ForeignKey(
        EnforcementRecord, verbose_name="记录", on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField("附件", upload_to=enforcement_attachment_path, max_length=200)
    original_name = models.CharField("原文件名", max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    scope_region_path = (
        "record__enterprise__town__path",
        "record__parent_company__region__path",
        "record__issuing_unit__path",
    )
    scope_enterprise_path = "record__enterprise"

    objects = ScopedManager["EnforcementAttachment"]()

    class Meta:
        verbose_name = "执法文书附件"
        verbose_name_plural = "执法文书附件"
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class WarningSettings(models.Model):
    """Thresholds of the derived warnings, per county (admins edit them)."""

    county = models.OneToOneField(
        Region,
        verbose_name="县（市、区）",
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"level": RegionLevel.COUNTY},
    )
    long_open_major_hazard_days = models.PositiveSmallIntegerField(
        "重大事故隐患长期存在（天）", default=60, validators=[MinValueValidator(1)],
        help_text="重大事故隐患自发现之日起超过此天数仍未销号，即列入预警。",
    )  # fmt: skip
    repeat_window_months = models.PositiveSmallIntegerField(
        "同类重大事故隐患反复出现（月）", default=12, validators=[MinValueValidator(1)]
    )

    scope_region_path = "county__path"
    scope_enterprise_path = None

    objects = ScopedManager["WarningSettings"]()

    class Meta:
        verbose_name = "预警阈值"
        verbose_name_plural = "预警阈值"

    def __str__(self) -> str:
        return f"{self.county.name} 预警阈值"


# --- The working-day calendar (节假日安排): data, seeded from chinesecalendar, extended by admins ---------


class HolidayYear(models.Model):
    """A year whose 放假/调休 arrangement is entered completely (the State Council's notice).

    Until a year has a row here, quota checks for it say 节假日安排未录入 instead of guessing.
    """

    year = models.PositiveSmallIntegerField("年份", unique=True)
    notice = models.CharField("通知文号或标题", max_length=200, blank=True, help_text="如：国办发明电〔2025〕7号")
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        verbose_name = "节假日安排年份"
        verbose_name_plural = "节假日安排年份"
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year}年节假日安排"


class Holiday(models.Model):
    """One day that differs from Monday–Friday: a day off (放假) or a make-up working day (调休上班)."""

    class Kind(models.TextChoices):
        OFF = "off", "放假"
        WORK = "work", "调休上班"

    date = models.DateField("日期", unique=True, validators=[validate_plausible_date])
    kind = models.CharField("类别", max_length=8, choices=Kind.choices)
    name = models.CharField("节日", max_length=40, help_text="如：春节、国庆节")

    class Meta:
        verbose_name = "节假日与调休"
        verbose_name_plural = "节假日与调休"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}{self.get_kind_display()}"


class WarningResolution(models.Model):
    """What was done about one warning (inspections/warnings.py), keyed by the warning's stable key.

    The warnings themselves are derived from the records every time; only the handling is stored:
    a 约谈/处罚 record linked, or 已处理 with a note. Written only by `services.warning_resolve`.
    """

    key = models.CharField("预警标识", max_length=200, unique=True)
    kind = models.CharField("预警类型", max_length=40, choices=WarningKind.choices)
    region = models.ForeignKey(Region, verbose_name="所属辖区", on_delete=models.PROTECT, related_name="+")
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    record = models.ForeignKey(
        EnforcementRecord, verbose_name="约谈/处罚记录", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    note = models.TextField("处理情况", max_length=limits.TEXT_COMMENT, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="处理人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField("处理时间")

    scope_region_path = "region__path"
    scope_enterprise_path = "enterprise"

    objects = ScopedManager["WarningResolution"]()

    class Meta:
        verbose_name = "预警处理"
        verbose_name_plural = "预警处理"
        ordering = ["-resolved_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.key}"
