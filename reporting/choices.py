"""Choices of the monthly tables. Chinese labels are what users read; values stay stable in the DB."""

from __future__ import annotations

from django.db import models


class ReportKind(models.TextChoices):
    ACCOUNTABILITY = "accountability", "追责问责情况统计表"
    WINTER = "winter", "冬季行动工作报表"
    THREE_LISTS = "three_lists", "问题、整改、责任三清单"

    @classmethod
    def from_cli(cls, value: str) -> ReportKind:
        """The shell spells three_lists as three-lists."""
        return cls(value.replace("-", "_"))

    @property
    def cli_name(self) -> str:
        return self.value.replace("_", "-")


# The day of the month a table is due when the campaign's deliverables do not say otherwise
# (泽应急发〔2024〕83号: 每月23日前; 泽应急发〔2023〕331号: 每月25日前).
DEFAULT_DUE_DAY: dict[str, int] = {
    ReportKind.ACCOUNTABILITY: 23,
    ReportKind.WINTER: 25,
    ReportKind.THREE_LISTS: 25,
}


class FileFormat(models.TextChoices):
    XLSX = "xlsx", "Excel"
    PDF = "pdf", "PDF"


class JobPurpose(models.TextChoices):
    EXPORT = "export", "生成文件"
    SIGN = "sign", "签字并冻结"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已报送"
    SIGNED = "signed", "已签字"


class JobStatus(models.TextChoices):
    PENDING = "pending", "排队中"
    RUNNING = "running", "生成中"
    SUCCESS = "success", "已完成"
    FAILED = "failed", "失败"


class ScheduleStep(models.TextChoices):
    """What the beat job does for a table on a given day relative to its deadline."""

    DRAFT_EARLY = "draft_early", "截止前两日生成草稿"
    DRAFT_LATE = "draft_late", "截止前一日生成草稿"
    REMIND = "remind", "提醒未报送的镇"
    FLAG_MISSING = "flag_missing", "截止日标记未报送"
    NOTIFY_MISSING = "notify_missing", "截止日向县局通报未报送"
    CHECK_AMENDMENTS = "check_amendments", "检查已签字报表的数据变更"
