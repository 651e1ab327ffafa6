"""Serializers of the monthly tables' API. Read-only views of the records; writes go through services."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from reporting import services, signing
from reporting.choices import FileFormat, ReportKind
from reporting.models import ExportJob, Report, ReportVersion


class ReportVersionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    status_display = serializers.CharField(source="get_status_display", read_only=True, help_text="状态（中文）")
    changes = serializers.SerializerMethodField(help_text="与所更正的已签字版本相比的变化（中文描述）")
    sign_fingerprint = serializers.SerializerMethodField(
        help_text="签字时原样提交（versions/{id}/sign/ 的 fingerprint）：版本、数据、来源记录和报送人、报送时间的指纹"
    )

    verification_code = serializers.SerializerMethodField(
        help_text="已签字版本的校验码（印在签字文件的签字行：签字人、签字时间、版本号、校验码）；未签字为空"
    )

    class Meta:
        model = ReportVersion
        fields = [
            "id", "number", "status", "status_display", "fingerprint", "computed_at", "submitted_at", "signed_at",
            "xlsx_sha256", "pdf_sha256", "based_on", "changes", "sign_fingerprint", "verification_code",
        ]  # fmt: skip
        read_only_fields = fields

    def get_changes(self, obj: ReportVersion) -> list[str]:
        return [services.describe(change) for change in obj.differences]

    def get_sign_fingerprint(self, obj: ReportVersion) -> str:
        return services.shown_fingerprint(obj)

    def get_verification_code(self, obj: ReportVersion) -> str:
        return signing.code_of(obj)


class SignRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    fingerprint = serializers.CharField(
        max_length=64,
        help_text=(
            "签字前读取的报表版本的 sign_fingerprint；版本此后被重新报送或数据有变化则拒绝签字（409），不做任何修改。"
        ),
    )
    password = serializers.CharField(
        label="登录密码",
        max_length=128,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="签字人本人的登录密码（签字前再次确认身份）。",
    )
    otp_code = serializers.CharField(
        label="动态口令",
        max_length=16,
        required=False,
        allow_blank=True,
        help_text="已启用两步验证的账号必填：验证器当前显示的 6 位数字，或一个未用过的备用码。",
    )


class ReportVersionDetailSerializer(ReportVersionSerializer):
    class Meta(ReportVersionSerializer.Meta):
        fields = [*ReportVersionSerializer.Meta.fields, "figures", "record_ids"]
        read_only_fields = fields


class ReportSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    kind_display = serializers.CharField(source="get_kind_display", read_only=True, help_text="报表名称")
    region_code = serializers.CharField(source="region.code", read_only=True, help_text="行政区划代码")
    region_name = serializers.CharField(source="region.name", read_only=True, help_text="填报单位辖区")
    campaign_name = serializers.CharField(source="campaign.name", read_only=True, help_text="专项行动")
    versions = ReportVersionSerializer(many=True, read_only=True, help_text="各版本，最新的在前")

    class Meta:
        model = Report
        fields = [
            "id", "kind", "kind_display", "region", "region_code", "region_name", "campaign", "campaign_name",
            "month", "due_on", "flagged_missing_at", "versions",
        ]  # fmt: skip
        read_only_fields = fields


class ReportDetailSerializer(ReportSerializer):
    versions = ReportVersionDetailSerializer(many=True, read_only=True, help_text="各版本（含数据快照和来源记录编号）")


class CellSerializer(serializers.Serializer):  # type: ignore[type-arg]
    key = serializers.CharField(help_text="数据项")
    title = serializers.CharField(help_text="表头（分组 / 列（单位））")
    value = serializers.CharField(help_text="数值（金额为两位小数的字符串）")
    records_url = serializers.CharField(help_text="该数字背后记录的页面地址")


class TableSerializer(serializers.Serializer):  # type: ignore[type-arg]
    kind = serializers.CharField(help_text="报表类型")
    title = serializers.CharField(help_text="标题")
    unit_name = serializers.CharField(help_text="填报单位")
    campaign = serializers.CharField(help_text="专项行动")
    period = serializers.CharField(help_text="统计期间")
    cells = CellSerializer(many=True, help_text="各数据项（三清单为各清单条数）")
    figures = serializers.JSONField(help_text="整张表的数据（与已签字版本的快照格式相同）")


class ExportRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    kind = serializers.ChoiceField(choices=ReportKind.choices, help_text="报表类型")
    region = serializers.CharField(max_length=12, help_text="行政区划代码")
    month = serializers.RegexField(r"^\d{4}-\d{2}$", max_length=7, help_text="月份，YYYY-MM")
    file_format = serializers.ChoiceField(choices=FileFormat.choices, help_text="文件格式")


class ExportJobSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    status_display = serializers.CharField(source="get_status_display", read_only=True, help_text="状态（中文）")
    file_url = serializers.SerializerMethodField(help_text="完成后可下载的地址")

    class Meta:
        model = ExportJob
        fields = [
            "id", "purpose", "kind", "region", "month", "file_format", "status", "status_display", "progress",
            "error", "created_at", "finished_at", "file_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_file_url(self, obj: ExportJob) -> str:
        from django.urls import reverse

        if obj.file:
            return reverse("reporting:export-file", args=[obj.pk])
        return ""


def cell_rows(kind: str, table: Any, region_code: str, month: str) -> list[dict[str, str]]:
    from django.urls import reverse

    from reporting.services import cell_label  # the labels the differences use too

    rows = []
    for key, value in table.cells().items():
        url = (
            reverse("reporting:cell", args=[ReportKind(kind).cli_name, region_code, month, key])
            if kind != ReportKind.THREE_LISTS
            else reverse("reporting:cell", args=[ReportKind(kind).cli_name, region_code, month, "hazards"])
        )
        rows.append({"key": key, "title": cell_label(kind, key), "value": str(value), "records_url": url})
    return rows
