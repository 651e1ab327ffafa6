"""Campaigns (专项行动): phases, checklists, quotas, and how campaigns are scoped."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse

from inspections.choices import (
    CampaignPhaseKind,
    ChecklistSubject,
    ExpectedAnswer,
    QuotaKind,
    QuotaPeriod,
    QuotaSubject,
)
from portal import limits
from portal.choices import RegionLevel
from portal.models import Region
from portal.scoping import ScopedManager, ScopedQuerySet
from portal.validators import validate_plausible_date

# --- Scoping of campaigns ---------------------------------------------------------------------


def ancestor_paths(path: str) -> list[str]:
    """ "/140000/140500/140525/" → ["/140000/", "/140000/140500/", "/140000/140500/140525/"]."""
    codes = [code for code in path.split("/") if code]
    return ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]


class CampaignScopedQuerySet(ScopedQuerySet[Any]):
    """A campaign reaches down (the issuing region's subtree and its enterprises) and up (its ancestors)."""

    def visible_to(self, user: Any) -> CampaignScopedQuerySet:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        lookup: str = self.model.scope_campaign_region_path  # type: ignore[attr-defined]
        if user.enterprise_id is not None:
            enterprise = user.enterprise
            if enterprise is None:
                return self.none()
            return self.filter(**{f"{lookup}__in": ancestor_paths(enterprise.town.path)})
        if user.region_id is not None:
            path = user.region_path
            return self.filter(
                models.Q(**{f"{lookup}__startswith": path}) | models.Q(**{f"{lookup}__in": ancestor_paths(path)})
            )
        return self.none()


class CampaignScopedManager(ScopedManager[Any]):
    def get_queryset(self) -> CampaignScopedQuerySet:
        return CampaignScopedQuerySet(self.model, using=self._db)

    def visible_to(self, user: Any) -> CampaignScopedQuerySet:
        return self.get_queryset().visible_to(user)


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

    objects = CampaignScopedManager()

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

    objects = CampaignScopedManager()

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

    objects = CampaignScopedManager()

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

    objects = CampaignScopedManager()

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

    objects = CampaignScopedManager()

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
