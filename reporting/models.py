"""月报统计: the monthly tables, their versions (draft → submitted → signed, frozen), export jobs and
the beat job's claims.

Records only. Every write goes through `reporting.services`; nothing happens in save() or signals.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from portal import limits
from portal.models import Region
from portal.scoping import ScopedManager
from reporting.choices import FileFormat, JobPurpose, JobStatus, ReportKind, ScheduleStep, VersionStatus

# A job in these states is still to do: one per user × table × format (exports), one per version (signing).
ACTIVE_JOB_STATUSES = [JobStatus.PENDING, JobStatus.RUNNING]


def _version_file_path(instance: Any, filename: str) -> str:
    report = instance.report
    return f"reports/{report.kind}/{report.region.code}/{report.month:%Y-%m}/v{instance.number}-{filename}"


def _export_file_path(instance: Any, filename: str) -> str:
    return f"reports/exports/{instance.created_at:%Y/%m}/{instance.pk}-{filename}"


class Report(models.Model):
    """One table of one region for one month of a campaign (追责问责情况统计表 of 巴公镇 for 2024年5月)."""

    kind = models.CharField("报表", max_length=20, choices=ReportKind.choices)
    region = models.ForeignKey(Region, verbose_name="填报单位辖区", on_delete=models.PROTECT, related_name="+")
    campaign = models.ForeignKey(
        "inspections.Campaign", verbose_name="专项行动", on_delete=models.PROTECT, related_name="reports"
    )
    month = models.DateField("月份", help_text="该月1日。")
    due_on = models.DateField("报送截止日期")
    flagged_missing_at = models.DateTimeField("截止日未报送标记时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    scope_region_path = "region__path"
    scope_enterprise_path = None

    objects = ScopedManager["Report"]()

    class Meta:
        verbose_name = "月度报表"
        verbose_name_plural = "月度报表"
        ordering = ["-month", "kind", "region__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "region", "campaign", "month"],
                name="one_report_per_kind_region_campaign_month",
                violation_error_message="该单位本月的这张报表已存在。",
            )
        ]

    def __str__(self) -> str:
        return f"{self.region.name}{self.month.year}年{self.month.month}月{self.get_kind_display()}"

    def get_absolute_url(self) -> str:
        return reverse("reporting:table", args=[self.kind, self.region.code, f"{self.month:%Y-%m}"])


class ReportVersion(models.Model):
    """A version of a table. Signed versions are frozen: files, figures, record ids and checksums never change."""

    report = models.ForeignKey(Report, verbose_name="报表", on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField("版本号")
    status = models.CharField("状态", max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    figures = models.JSONField("数据快照", default=dict)
    record_ids = models.JSONField("数据来源记录", default=dict)
    fingerprint = models.CharField("数据指纹", max_length=64)
    based_on = models.ForeignKey(
        "self",
        verbose_name="所更正的已签字版本",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="amendments",
    )
    differences = models.JSONField("与已签字版本的差异", default=list, blank=True)
    computed_at = models.DateTimeField("数据计算时间")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="报送人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The county's table submitted while towns had not submitted theirs: who, and the reason given
    # (printed in the file's 备注; the leader sees both before signing).
    missing_towns = models.JSONField("报送时未报送的镇", default=list, blank=True)
    missing_reason = models.TextField("未报送原因", max_length=limits.TEXT_COMMENT, blank=True)
    signed_at = models.DateTimeField("签字时间", null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="签字人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    xlsx_file = models.FileField("Excel 文件", upload_to=_version_file_path, max_length=255, blank=True)
    xlsx_sha256 = models.CharField("Excel SHA-256", max_length=64, blank=True)
    pdf_file = models.FileField("PDF 文件", upload_to=_version_file_path, max_length=255, blank=True)
    pdf_sha256 = models.CharField("PDF SHA-256", max_length=64, blank=True)

    scope_region_path = "report__region__path"
    scope_enterprise_path = None

    objects = ScopedManager["ReportVersion"]()

    class Meta:
        verbose_name = "报表版本"
        verbose_name_plural = "报表版本"
        ordering = ["report", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="report_version_number_unique"),
            # At most one version in the works (draft or submitted) per table: building a draft twice
            # updates that one instead of making a second.
            models.UniqueConstraint(
                fields=["report"],
                condition=Q(status__in=[VersionStatus.DRAFT, VersionStatus.SUBMITTED]),
                name="one_open_version_per_report",
            ),
            models.CheckConstraint(
                condition=~Q(status=VersionStatus.SIGNED)
                | (Q(signed_at__isnull=False) & ~Q(xlsx_sha256="") & ~Q(pdf_sha256="")),
                name="signed_version_has_files",
                violation_error_message="已签字版本必须保存文件及其校验值。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.report} 第{self.number}版（{self.get_status_display()}）"

    @property
    def is_signed(self) -> bool:
        return self.status == VersionStatus.SIGNED

    @property
    def label(self) -> str:
        return f"第{self.number}版 {self.get_status_display()}"


class ExportJob(models.Model):
    """Work asked for from the UI and done on the worker (the task receives only the id): a file of the
    table as the records give it now, or the signing of a submitted version (which builds its files)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    purpose = models.CharField("任务", max_length=10, choices=JobPurpose.choices, default=JobPurpose.EXPORT)
    version = models.ForeignKey(
        ReportVersion, verbose_name="签字的版本", null=True, blank=True, on_delete=models.CASCADE, related_name="jobs"
    )
    kind = models.CharField("报表", max_length=20, choices=ReportKind.choices)
    region = models.ForeignKey(Region, verbose_name="辖区", on_delete=models.PROTECT, related_name="+")
    month = models.DateField("月份")
    file_format = models.CharField("格式", max_length=5, choices=FileFormat.choices)
    fingerprint = models.CharField(
        "签字时所见报表指纹",
        max_length=64,
        blank=True,
        help_text="申请签字时页面显示的版本指纹；签字任务只签这一内容。",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField("状态", max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    progress = models.PositiveSmallIntegerField("进度（%）", default=0)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    file = models.FileField("文件", upload_to=_export_file_path, max_length=255, blank=True)
    error = models.TextField("错误信息", max_length=limits.TEXT_SYSTEM, blank=True)
    created_at = models.DateTimeField("申请时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    # The claim of a running job (reporting/leases.py): which delivery holds it, and when that worker last
    # said it is alive. A running job whose heartbeat is older than REPORT_JOB_LEASE_SECONDS is abandoned.
    claimed_by = models.CharField("执行者", max_length=64, blank=True)
    heartbeat_at = models.DateTimeField("最近心跳", null=True, blank=True)

    scope_region_path = "region__path"
    scope_enterprise_path = None

    objects = ScopedManager["ExportJob"]()

    class Meta:
        verbose_name = "报表导出任务"
        verbose_name_plural = "报表导出任务"
        ordering = ["-created_at"]
        constraints = [
            # Identical export requests share one job while it is queued or running (reporting.services).
            models.UniqueConstraint(
                fields=["requested_by", "kind", "region", "month", "file_format"],
                condition=Q(purpose=JobPurpose.EXPORT, status__in=ACTIVE_JOB_STATUSES),
                name="one_active_export_per_user_table_format",
                violation_error_message="同一报表同一格式已有正在生成的导出任务。",
            )
        ]

    def __str__(self) -> str:
        what = "签字" if self.purpose == JobPurpose.SIGN else self.get_file_format_display()
        return f"{self.region.name}{self.month:%Y-%m} {self.get_kind_display()}（{what}）"

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.SUCCESS, JobStatus.FAILED)


class ScheduledRun(models.Model):
    """The beat job's claim of one step for one table and day: a step runs once however often beat fires."""

    step = models.CharField("步骤", max_length=20, choices=ScheduleStep.choices)
    kind = models.CharField("报表", max_length=20, choices=ReportKind.choices)
    campaign = models.ForeignKey(
        "inspections.Campaign", verbose_name="专项行动", on_delete=models.CASCADE, related_name="+"
    )
    region = models.ForeignKey(Region, verbose_name="辖区", on_delete=models.CASCADE, related_name="+")
    month = models.DateField("月份")
    run_on = models.DateField("执行日期")
    status = models.CharField("状态", max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    detail = models.TextField("结果", max_length=limits.TEXT_SYSTEM, blank=True)
    error = models.TextField("错误信息", max_length=limits.TEXT_TRACE, blank=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    scope_region_path = "region__path"
    scope_enterprise_path = None

    objects = ScopedManager["ScheduledRun"]()

    class Meta:
        verbose_name = "报表定时任务记录"
        verbose_name_plural = "报表定时任务记录"
        ordering = ["-run_on", "step", "region__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["step", "kind", "campaign", "region", "month", "run_on"], name="one_scheduled_run_per_step_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.run_on} {self.get_step_display()} {self.region.name} {self.get_kind_display()}"
