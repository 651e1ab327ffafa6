"""Settings of the warnings engine and the warnings staff have resolved."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from inspections.choices import WarningKind
from inspections.models.enforcement import EnforcementRecord
from portal import limits
from portal.choices import RegionLevel
from portal.models import Enterprise, Region
from portal.scoping import ScopedManager


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
