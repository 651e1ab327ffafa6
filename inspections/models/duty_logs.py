"""Principals' duty logs (主要负责人履职记录)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from portal import limits
from portal.models import Enterprise, Person
from portal.scoping import ScopedManager
from portal.validators import validate_plausible_date


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
