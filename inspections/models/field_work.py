"""Field work of towns and county: 督查组, inspections with photos, 逢查必考 exams."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from inspections.choices import InspectionMethod
from inspections.models.campaigns import Campaign, validate_campaign_period
from inspections.models.paths import inspection_photo_path
from portal import limits
from portal.models import Enterprise, Person, Region
from portal.scoping import ScopedManager
from portal.validators import validate_plausible_date

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
