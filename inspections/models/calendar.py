"""The working-day calendar: holidays and 调休 per year."""

from __future__ import annotations

from django.db import models

from portal.validators import validate_plausible_date

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
