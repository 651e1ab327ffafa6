"""Enforcement records (约谈, 谈心谈话, 行政处罚 …) and their attachments."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse

from inspections.choices import ENFORCEMENT_TARGET, FINE_KINDS, TALK_KINDS, EnforcementKind, EnforcementTarget
from inspections.models.campaigns import Campaign, validate_campaign_period
from inspections.models.field_work import Exam, Inspection
from inspections.models.paths import enforcement_attachment_path
from portal import limits
from portal.models import Enterprise, ParentCompany, Person, Region
from portal.scoping import ScopedManager, ScopedQuerySet
from portal.validators import validate_plausible_date


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
