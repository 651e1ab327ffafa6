"""Enterprises' self-check reports (自查报告), their answers and evidence."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from inspections.choices import Answer, ReportStatus
from inspections.models.campaigns import Campaign, ChecklistItem
from inspections.models.paths import evidence_path
from portal import limits
from portal.models import Enterprise, Person, Region
from portal.scoping import ScopedManager

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
