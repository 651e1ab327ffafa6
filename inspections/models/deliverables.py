"""What a campaign asks towns and enterprises to file; the filings and reminders."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from inspections.choices import (
    DeliverableKind,
    DeliverableSchedule,
    DeliverableSubmitter,
    DeliverableTable,
    ProgressStatus,
)
from inspections.models.campaigns import Campaign, CampaignPhase, CampaignScopedManager
from inspections.models.paths import deliverable_path
from portal import limits
from portal.models import Enterprise, Region
from portal.scoping import ScopedManager
from portal.validators import validate_plausible_date


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

    objects = CampaignScopedManager()

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
