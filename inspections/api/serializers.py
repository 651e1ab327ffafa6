"""API serializers of campaigns and field work: output serializers read, input serializers only validate.

Input serializers never save: the views pass `validated_data` to `inspections.services`. Every related
field offered for writing draws its choices from `visible_to(request.user)`, so an out-of-scope id is
refused like a missing one.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import QueryDict
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hazards.models import Hazard
from inspections.answered import as_answered, campaign_as_answered, self_check_fingerprint
from inspections.choices import (
    ENFORCEMENT_COLUMNS,
    ENFORCEMENT_TARGET,
    Answer,
    EnforcementKind,
    EnforcementTarget,
    InspectionMethod,
)
from inspections.models import (
    Campaign,
    CampaignPhase,
    ChecklistArea,
    ChecklistItem,
    Deliverable,
    DeliverableSubmission,
    EnforcementAttachment,
    EnforcementRecord,
    Exam,
    Inspection,
    InspectionPhoto,
    InspectionTeam,
    PrincipalDutyLog,
    Quota,
    SelfCheckAnswer,
    SelfCheckReport,
    TownProgressReport,
)
from portal import limits
from portal.api.serializers import DescribedFieldsMixin, ScopedChoicesMixin, scoped_related
from portal.models import Enterprise, ParentCompany, Person


def _url(kind: str, pk: int) -> str:
    return f"/inspections/files/{kind}/{pk}/"


# --- Campaigns --------------------------------------------------------------------------------


class PhaseSerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = CampaignPhase
        fields = ["id", "order", "name", "kind", "start_date", "end_date", "description"]


class ChecklistItemSerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = ChecklistItem
        fields = ["id", "order", "text", "subject", "expected_answer", "guidance"]


class ChecklistAreaSerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    items = ChecklistItemSerializer(many=True, read_only=True, label="检查项")

    class Meta:
        model = ChecklistArea
        fields = ["id", "order", "number", "title", "description", "items"]


class QuotaSerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True, label="指标类型名称")

    class Meta:
        model = Quota
        fields = ["id", "order", "kind", "kind_display", "subject", "number", "unit", "period", "phase", "text"]


class DeliverableSerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    due_dates = serializers.ListField(child=serializers.DateField(), read_only=True, label="各期截止日期")

    class Meta:
        model = Deliverable
        fields = [
            "id", "order", "name", "submitter", "recipients", "kind", "schedule", "due_date", "day_of_month",
            "min_count", "requires_principal_signature", "description", "due_dates",
        ]  # fmt: skip


class CampaignSerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    issuing_region_name = serializers.CharField(source="issuing_region.name", read_only=True, label="发文辖区名称")

    class Meta:
        model = Campaign
        fields = [
            "id", "name", "document_number", "document_title", "issuing_region", "issuing_region_name",
            "issuing_authority", "start_date", "end_date", "period_text",
        ]  # fmt: skip


class CampaignDetailSerializer(CampaignSerializer):
    phases = PhaseSerializer(many=True, read_only=True, label="阶段")
    checklist_areas = ChecklistAreaSerializer(many=True, read_only=True, label="检查内容")
    quotas = QuotaSerializer(many=True, read_only=True, label="工作指标")
    deliverables = DeliverableSerializer(many=True, read_only=True, label="报送材料")

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "summary", "phases", "checklist_areas", "quotas", "deliverables"]


# --- Enforcement records ----------------------------------------------------------------------


class AttachmentSerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    url = serializers.SerializerMethodField(label="下载地址")

    class Meta:
        model = EnforcementAttachment
        fields = ["id", "original_name", "uploaded_at", "url"]

    def get_url(self, obj: EnforcementAttachment) -> str:
        return _url("enforcement", obj.pk)


class EnforcementRecordSerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True, label="类型名称")
    issuing_unit_name = serializers.CharField(source="issuing_unit.name", read_only=True, label="实施单位名称")
    enterprise_name = serializers.SerializerMethodField(label="企业名称")
    parent_company_name = serializers.SerializerMethodField(label="上级企业名称")
    accountability_column = serializers.SerializerMethodField(label="追责问责情况统计表中所计栏目")
    winter_column = serializers.SerializerMethodField(label="冬季行动工作报表中所计栏目")
    attachments = AttachmentSerializer(many=True, read_only=True, label="附件")

    class Meta:
        model = EnforcementRecord
        fields = [
            "id", "kind", "kind_display", "date", "issuing_unit", "issuing_unit_name", "enterprise", "enterprise_name",
            "parent_company", "parent_company_name", "person", "person_name", "person_title", "amount",
            "document_number", "campaign", "inspection", "exam", "hazards", "description", "accountability_column",
            "winter_column", "attachments", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_enterprise_name(self, obj: EnforcementRecord) -> str | None:
        return obj.enterprise.name if obj.enterprise else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_parent_company_name(self, obj: EnforcementRecord) -> str | None:
        return obj.parent_company.name if obj.parent_company else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_accountability_column(self, obj: EnforcementRecord) -> str | None:
        return ENFORCEMENT_COLUMNS[obj.kind].accountability

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_winter_column(self, obj: EnforcementRecord) -> str | None:
        return ENFORCEMENT_COLUMNS[obj.kind].winter


def parent_company_choices(user: Any) -> Any:
    """The parent companies a user may name: those in their scope, and those owning a mine in it (as the page's
    form offers). Any other id is "不存在或不在您的辖区内", exactly like an id that names nothing."""
    owning = Enterprise.objects.visible_to(user).values("parent_company")
    return ParentCompany.objects.filter(
        Q(pk__in=ParentCompany.objects.visible_to(user).values("pk")) | Q(pk__in=owning)
    )


class EnforcementInputSerializer(DescribedFieldsMixin, ScopedChoicesMixin, serializers.ModelSerializer):
    kind = serializers.ChoiceField(label="类型", choices=EnforcementKind.choices)
    enterprise = scoped_related("非煤矿山企业", queryset=Enterprise.objects.none(), required=False, allow_null=True)
    parent_company = scoped_related("上级企业", queryset=ParentCompany.objects.none(), required=False, allow_null=True)
    person = scoped_related("对象人员", queryset=Person.objects.none(), required=False, allow_null=True)
    campaign = scoped_related("专项行动", queryset=Campaign.objects.none(), required=False, allow_null=True)
    inspection = scoped_related("检查记录", queryset=Inspection.objects.none(), required=False, allow_null=True)
    exam = scoped_related("逢查必考记录", queryset=Exam.objects.none(), required=False, allow_null=True)
    hazards = serializers.PrimaryKeyRelatedField(
        label="关联隐患", many=True, required=False, queryset=Hazard.objects.none()
    )

    class Meta:
        model = EnforcementRecord
        fields = [
            "kind", "date", "enterprise", "parent_company", "person", "person_name", "person_title", "amount",
            "document_number", "campaign", "inspection", "exam", "hazards", "description",
        ]  # fmt: skip
        scoped_querysets = {
            "enterprise": lambda user: Enterprise.objects.visible_to(user),
            "parent_company": lambda user: parent_company_choices(user),
            "person": lambda user: Person.objects.visible_to(user),
            "campaign": lambda user: Campaign.objects.visible_to(user),
            "inspection": lambda user: Inspection.objects.visible_to(user),
            "exam": lambda user: Exam.objects.visible_to(user),
        }

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        request = self.context.get("request")
        hazards = fields["hazards"]
        assert isinstance(hazards, serializers.ManyRelatedField)
        hazards.child_relation.queryset = Hazard.objects.visible_to(getattr(request, "user", None))
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None and not attrs.get("enterprise") and not attrs.get("parent_company"):
            raise serializers.ValidationError({"enterprise": ["必须指定非煤矿山企业或上级企业。"]})
        return attrs


class EnforcementKindSerializer(serializers.Serializer):
    value = serializers.CharField(label="类型值", help_text="类型值")
    kind_label = serializers.CharField(label="类型名称", help_text="类型名称")
    target = serializers.ChoiceField(choices=EnforcementTarget.choices, label="对象", help_text="对象")
    accountability_column = serializers.CharField(
        allow_null=True, label="追责问责情况统计表栏目", help_text="在追责问责情况统计表中所计的栏目（无则为空）"
    )
    winter_column = serializers.CharField(
        allow_null=True, label="冬季行动工作报表栏目", help_text="在冬季行动工作报表中所计的栏目（无则为空）"
    )

    @staticmethod
    def rows() -> list[dict[str, Any]]:
        return [
            {
                "value": value,
                "kind_label": label,
                "target": ENFORCEMENT_TARGET[value],
                "accountability_column": ENFORCEMENT_COLUMNS[value].accountability,
                "winter_column": ENFORCEMENT_COLUMNS[value].winter,
            }
            for value, label in EnforcementKind.choices
        ]


# --- Inspections, teams, exams, duty logs -----------------------------------------------------


class PhotoSerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    url = serializers.SerializerMethodField(label="照片地址")
    thumbnail_url = serializers.SerializerMethodField(
        label="缩略图地址", help_text="缩略图（JPEG，最长边 480 像素）；显示时请用缩略图，原图只供下载。"
    )

    class Meta:
        model = InspectionPhoto
        fields = ["id", "original_name", "caption", "uploaded_at", "url", "thumbnail_url"]

    def get_url(self, obj: InspectionPhoto) -> str:
        return _url("photo", obj.pk)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_thumbnail_url(self, obj: InspectionPhoto) -> str | None:
        return f"{_url('photo', obj.pk)}?thumb=1" if obj.thumbnail else None


class InspectionSerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True, label="企业名称")
    unit_name = serializers.CharField(source="unit.name", read_only=True, label="检查单位名称")
    method_display = serializers.CharField(source="get_method_display", read_only=True, label="检查方式名称")
    photos = PhotoSerializer(many=True, read_only=True, label="照片")

    class Meta:
        model = Inspection
        fields = [
            "id", "enterprise", "enterprise_name", "unit", "unit_name", "date", "method", "method_display",
            "campaign", "team", "leader", "members", "findings", "hazards", "talk_held", "exam_held", "photos",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class InspectionInputSerializer(DescribedFieldsMixin, ScopedChoicesMixin, serializers.ModelSerializer):
    enterprise = scoped_related("被检查企业", queryset=Enterprise.objects.none())
    method = serializers.ChoiceField(label="检查方式", choices=InspectionMethod.choices)
    campaign = scoped_related("专项行动", queryset=Campaign.objects.none(), required=False, allow_null=True)
    team = scoped_related("督查组", queryset=InspectionTeam.objects.none(), required=False, allow_null=True)

    class Meta:
        model = Inspection
        fields = [
            "enterprise",
            "date",
            "method",
            "campaign",
            "team",
            "leader",
            "members",
            "findings",
            "talk_held",
            "exam_held",
        ]
        scoped_querysets = {
            "enterprise": lambda user: Enterprise.objects.visible_to(user),
            "campaign": lambda user: Campaign.objects.visible_to(user),
            "team": lambda user: InspectionTeam.objects.visible_to(user),
        }


class InspectionHazardInputSerializer(DescribedFieldsMixin, serializers.Serializer):
    level = serializers.ChoiceField(label="隐患级别", choices=[("general", "一般事故隐患"), ("major", "重大事故隐患")])
    category = serializers.CharField(label="隐患类别", max_length=20)
    description = serializers.CharField(label="隐患内容", max_length=limits.TEXT_NOTE)
    location = serializers.CharField(label="隐患部位", required=False, allow_blank=True, max_length=200)
    criterion = serializers.IntegerField(label="判定依据编号（重大事故隐患必填）", required=False, allow_null=True)
    deadline = serializers.DateField(label="整改时限", required=False, allow_null=True)
    measures = serializers.CharField(label="整改措施", max_length=limits.TEXT_NOTE, required=False, allow_blank=True)


class HazardRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(label="隐患编号", help_text="隐患编号")
    level = serializers.CharField(label="隐患级别", help_text="隐患级别")
    status = serializers.CharField(label="状态", help_text="状态")
    hazard_source = serializers.CharField(label="来源", help_text="来源")


class TeamSerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True, label="组建单位名称")

    class Meta:
        model = InspectionTeam
        fields = ["id", "campaign", "unit", "unit_name", "name", "leader", "members", "formed_on", "note"]
        read_only_fields = fields


class TeamInputSerializer(DescribedFieldsMixin, ScopedChoicesMixin, serializers.ModelSerializer):
    campaign = scoped_related("专项行动", queryset=Campaign.objects.none())

    class Meta:
        model = InspectionTeam
        fields = ["campaign", "name", "leader", "members", "formed_on", "note"]
        scoped_querysets = {"campaign": lambda user: Campaign.objects.visible_to(user)}


class ExamSerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    passed = serializers.BooleanField(read_only=True, label="是否合格")
    outcome = serializers.CharField(read_only=True, label="结论")
    person_name = serializers.CharField(source="person.name", read_only=True, label="主要负责人姓名")

    class Meta:
        model = Exam
        fields = [
            "id", "enterprise", "person", "person_name", "unit", "campaign", "inspection", "date", "score", "pass_mark",
            "retake_of", "passed", "outcome", "note", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class ExamInputSerializer(DescribedFieldsMixin, ScopedChoicesMixin, serializers.ModelSerializer):
    enterprise = scoped_related("企业", queryset=Enterprise.objects.none())
    person = scoped_related("主要负责人", queryset=Person.objects.none())
    campaign = scoped_related("专项行动", queryset=Campaign.objects.none(), required=False, allow_null=True)
    inspection = scoped_related("检查记录", queryset=Inspection.objects.none(), required=False, allow_null=True)
    retake_of = scoped_related("补考对应的考试", queryset=Exam.objects.none(), required=False, allow_null=True)

    class Meta:
        model = Exam
        fields = ["enterprise", "person", "date", "score", "pass_mark", "retake_of", "campaign", "inspection", "note"]
        scoped_querysets = {
            "enterprise": lambda user: Enterprise.objects.visible_to(user),
            "person": lambda user: Person.objects.visible_to(user),
            "campaign": lambda user: Campaign.objects.visible_to(user),
            "inspection": lambda user: Inspection.objects.visible_to(user),
            "retake_of": lambda user: Exam.objects.visible_to(user),
        }


class QuotaCheckSerializer(serializers.Serializer):
    quota = serializers.IntegerField(label="指标编号", help_text="指标编号")
    kind = serializers.CharField(label="指标类型", help_text="指标类型")
    name = serializers.CharField(label="指标名称", help_text="指标名称")
    required_number = serializers.DecimalField(
        max_digits=8, decimal_places=2, label="要求", help_text="本月要求（已按工作日折算）"
    )
    actual = serializers.DecimalField(max_digits=8, decimal_places=2, label="实际", help_text="实际完成")
    met = serializers.BooleanField(label="是否达标", help_text="是否达标")
    prorated = serializers.BooleanField(label="是否折算", help_text="是否按工作日比例折算")
    detail = serializers.CharField(label="说明", help_text="说明")
    calendar_missing = serializers.ListField(
        child=serializers.IntegerField(),
        label="节假日安排未录入的年份",
        help_text="节假日安排未录入的年份：非空时不按工作日核算，met 为 false",
    )


class DutyLogSerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    checks = serializers.SerializerMethodField(label="指标核算")

    class Meta:
        model = PrincipalDutyLog
        fields = [
            "id", "enterprise", "person", "month", "on_site_dates", "inspections_led", "safety_meetings",
            "major_hazard_investigation_on", "parent_leader_visits", "note", "updated_at", "checks",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(QuotaCheckSerializer(many=True))
    def get_checks(self, obj: PrincipalDutyLog) -> list[dict[str, Any]]:
        from inspections.quotas import duty_log_checks

        return [
            {
                "quota": c.quota.pk,
                "kind": c.quota.kind,
                "name": c.label,
                "required_number": c.required,
                "actual": c.actual,
                "met": c.met,
                "prorated": c.requirement.prorated,
                "detail": c.detail,
                "calendar_missing": list(c.calendar_missing),
            }
            for c in duty_log_checks(obj)
        ]


class DutyLogInputSerializer(DescribedFieldsMixin, ScopedChoicesMixin, serializers.Serializer):
    enterprise = scoped_related("企业", queryset=Enterprise.objects.none())
    month = serializers.DateField(label="月份（该月任一日）")
    person = scoped_related("主要负责人", queryset=Person.objects.none(), required=False, allow_null=True)
    on_site_dates = serializers.ListField(child=serializers.DateField(), label="在生产现场履职日期", required=False)
    inspections_led = serializers.IntegerField(label="带队检查次数", min_value=0, default=0)
    safety_meetings = serializers.IntegerField(label="安全生产办公会议次数", min_value=0, default=0)
    major_hazard_investigation_on = serializers.DateField(
        label="重大事故隐患全面排查日期", required=False, allow_null=True
    )
    parent_leader_visits = serializers.IntegerField(
        label="上级企业负责人到矿检查次数", min_value=0, required=False, allow_null=True
    )
    note = serializers.CharField(
        label="备注", max_length=limits.TEXT_NOTE, required=False, allow_blank=True, default=""
    )

    class Meta:
        scoped_querysets = {
            "enterprise": lambda user: Enterprise.objects.visible_to(user),
            "person": lambda user: Person.objects.visible_to(user),
        }


# --- Self-check reports, progress, submissions --------------------------------------------------


class AnswerSerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    text = serializers.CharField(source="item.text", read_only=True, label="检查内容")
    expected_answer = serializers.CharField(
        source="item.expected_answer", read_only=True, label="合规回答", help_text="已签字报告为签字时的内容。"
    )
    evidence = serializers.SerializerMethodField(label="佐证材料")

    class Meta:
        model = SelfCheckAnswer
        fields = ["id", "item", "text", "expected_answer", "answer", "note", "evidence", "updated_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_evidence(self, obj: SelfCheckAnswer) -> list[str]:
        return [_url("evidence", e.pk) for e in obj.evidence.all()]


class SelfCheckReportSerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True, label="企业名称")
    campaign_name = serializers.SerializerMethodField(label="专项行动名称", help_text="已签字报告为签字时的名称。")
    answers = serializers.SerializerMethodField(
        label="逐项回答", help_text="已签字报告的检查内容和合规回答为签字时的内容（此后修改检查项不影响）。"
    )
    fingerprint = serializers.SerializerMethodField(
        label="报告内容指纹", help_text="签字时原样提交；报告内容此后有变化则拒绝签字。"
    )

    class Meta:
        model = SelfCheckReport
        fields = [
            "id", "campaign", "campaign_name", "enterprise", "enterprise_name", "status", "summary", "hazards",
            "filed_by_unit", "signed_name", "signed_by_account", "signed_on_device_of", "signed_at", "submitted_at",
            "created_at", "updated_at", "answers", "fingerprint",
        ]  # fmt: skip
        read_only_fields = fields

    def get_campaign_name(self, obj: SelfCheckReport) -> str:
        return campaign_as_answered(obj).name

    @extend_schema_field(AnswerSerializer(many=True))
    def get_answers(self, obj: SelfCheckReport) -> Any:
        return AnswerSerializer(as_answered(obj, obj.answers.all()), many=True).data

    def get_fingerprint(self, obj: SelfCheckReport) -> str:
        return "" if obj.is_submitted else self_check_fingerprint(obj)


class SelfCheckStartSerializer(DescribedFieldsMixin, ScopedChoicesMixin, serializers.Serializer):
    campaign = scoped_related("专项行动", queryset=Campaign.objects.none())
    enterprise = scoped_related("企业", queryset=Enterprise.objects.none())

    class Meta:
        scoped_querysets = {
            "campaign": lambda user: Campaign.objects.visible_to(user),
            "enterprise": lambda user: Enterprise.objects.visible_to(user),
        }


class AnswerInputSerializer(DescribedFieldsMixin, serializers.Serializer):
    item = serializers.IntegerField(label="检查项编号")
    answer = serializers.ChoiceField(label="回答", choices=[("", "未答"), *Answer.choices], allow_blank=True)
    note = serializers.CharField(
        label="说明", max_length=limits.TEXT_NOTE, required=False, allow_blank=True, default=""
    )


class SummaryInputSerializer(DescribedFieldsMixin, serializers.Serializer):
    summary = serializers.CharField(
        label="自查自改情况综述", max_length=limits.TEXT_LONG, required=False, allow_blank=True
    )
    hazards = serializers.ListField(child=serializers.IntegerField(), label="自查发现的隐患编号", required=False)


class SignInputSerializer(DescribedFieldsMixin, serializers.Serializer):
    username = serializers.CharField(
        max_length=150,
        label="主要负责人账号",
        required=False,
        allow_blank=True,
        help_text="在他人设备上当面签字时填写；本人账号签字时留空。",
    )
    password = serializers.CharField(
        label="主要负责人密码", max_length=128, style={"input_type": "password"}, trim_whitespace=False
    )
    otp_code = serializers.CharField(
        label="动态口令",
        max_length=16,
        required=False,
        allow_blank=True,
        help_text="签字人已启用两步验证时必填：验证器当前显示的 6 位数字，或一个未用过的备用码。",
    )
    fingerprint = serializers.CharField(
        label="报告内容指纹",
        max_length=64,
        help_text="签字前读取的报告详情中的 fingerprint；报告内容此后有变化则拒绝签字（400），不做任何修改。",
    )


class ProgressSerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    town_name = serializers.CharField(source="town.name", read_only=True, label="镇名称")

    class Meta:
        model = TownProgressReport
        fields = [
            "id", "campaign", "phase", "town", "town_name", "progress", "problems", "measures", "status",
            "submitted_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ProgressInputSerializer(DescribedFieldsMixin, ScopedChoicesMixin, serializers.Serializer):
    phase = scoped_related("阶段", queryset=CampaignPhase.objects.none())
    progress = serializers.CharField(label="工作进展", max_length=limits.TEXT_NOTE, allow_blank=True)
    problems = serializers.CharField(
        label="发现的问题", max_length=limits.TEXT_NOTE, required=False, allow_blank=True, default=""
    )
    measures = serializers.CharField(
        label="采取的措施", max_length=limits.TEXT_NOTE, required=False, allow_blank=True, default=""
    )
    submit = serializers.BooleanField(label="报送", default=False)

    class Meta:
        scoped_querysets = {"phase": lambda user: CampaignPhase.objects.visible_to(user)}


class SubmissionSerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    url = serializers.SerializerMethodField(label="附件地址")

    class Meta:
        model = DeliverableSubmission
        fields = [
            "id", "deliverable", "town", "enterprise", "due_date", "title", "content", "original_name",
            "submitted_at", "url",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_url(self, obj: DeliverableSubmission) -> str | None:
        return _url("submission", obj.pk) if obj.file else None


class SubmissionInputSerializer(DescribedFieldsMixin, ScopedChoicesMixin, serializers.Serializer):
    deliverable = scoped_related("报送材料", queryset=Deliverable.objects.none())
    due_date = serializers.DateField(label="对应截止日期")
    title = serializers.CharField(label="标题", max_length=200, required=False, allow_blank=True, default="")
    content = serializers.CharField(
        label="内容", max_length=limits.TEXT_LONG, required=False, allow_blank=True, default=""
    )
    file = serializers.FileField(label="附件", required=False, allow_null=True)

    class Meta:
        scoped_querysets = {"deliverable": lambda user: Deliverable.objects.visible_to(user)}

    def to_internal_value(self, data: Any) -> Any:
        # A file comes as multipart/form-data, where every value is text: the id of the deliverable too
        # (a JSON body keeps the strict integer).
        if isinstance(data, QueryDict):
            deliverable = data.get("deliverable", "")
            if isinstance(deliverable, str) and deliverable.isdigit():
                data = {**data.dict(), "deliverable": int(deliverable)}
        return super().to_internal_value(data)


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(label="文件", help_text="文件")
    caption = serializers.CharField(
        label="说明", max_length=200, help_text="说明", required=False, allow_blank=True, default=""
    )


# --- Read-only roll-ups -----------------------------------------------------------------------


class MatrixCellSerializer(serializers.Serializer):
    deliverable = serializers.IntegerField(label="报送材料编号", help_text="报送材料编号")
    name = serializers.CharField(label="报送材料", help_text="报送材料")
    due = serializers.DateField(label="截止日期", help_text="截止日期")
    status = serializers.CharField(
        label="状态", help_text="on_time 按时 / late 逾期提交 / missing 未提交 / pending 未到期"
    )
    dates = serializers.ListField(child=serializers.DateField(), label="报送日期", help_text="报送日期")
    counts = serializers.DictField(
        child=serializers.IntegerField(), label="企业数", help_text="企业报送材料：各状态的企业数"
    )


class MatrixRowSerializer(serializers.Serializer):
    town = serializers.IntegerField(label="镇编号", help_text="镇编号")
    town_name = serializers.CharField(label="镇", help_text="镇")
    cells = MatrixCellSerializer(many=True, label="各项材料", help_text="各项材料")


class CoverageRowSerializer(serializers.Serializer):
    unit = serializers.IntegerField(label="单位编号", help_text="单位编号")
    unit_name = serializers.CharField(label="单位", help_text="单位")
    start = serializers.DateField(label="统计起", help_text="统计起")
    end = serializers.DateField(label="统计止", help_text="统计止")
    targets = serializers.IntegerField(label="应检查企业数", help_text="应检查企业数")
    inspected = serializers.IntegerField(label="已检查企业数", help_text="已检查企业数")
    rate = serializers.DecimalField(max_digits=5, decimal_places=1, label="覆盖率（%）", help_text="覆盖率（%）")
    required_rate = serializers.DecimalField(max_digits=5, decimal_places=1, label="要求（%）", help_text="要求（%）")
    met = serializers.BooleanField(label="是否达标", help_text="是否达标")
    missing = serializers.ListField(
        child=serializers.IntegerField(), label="尚未检查的企业编号", help_text="尚未检查的企业编号"
    )


class CoverageSerializer(serializers.Serializer):
    campaign = serializers.IntegerField(allow_null=True, label="专项行动编号", help_text="专项行动编号")
    month = serializers.DateField(label="月份", help_text="月份（该月1日）")
    towns = CoverageRowSerializer(many=True, label="各镇", help_text="各镇")
    county = CoverageRowSerializer(allow_null=True, label="县局", help_text="县局")


class WarningResolutionSerializer(serializers.Serializer):
    note = serializers.CharField(label="处理情况", help_text="处理情况")
    record = serializers.IntegerField(allow_null=True, label="约谈/处罚记录编号", help_text="约谈/处罚记录编号")
    record_url = serializers.CharField(label="记录地址", help_text="约谈/处罚记录的页面地址（无则为空）")
    resolved_by = serializers.CharField(label="处理人", help_text="处理人")
    resolved_at = serializers.DateTimeField(label="处理时间", help_text="处理时间")


class WarningSerializer(serializers.Serializer):
    key = serializers.CharField(label="预警标识", help_text="稳定的预警标识（登记处理情况时使用）")
    kind = serializers.CharField(label="类型", help_text="类型")
    kind_label = serializers.CharField(label="类型名称", help_text="类型名称")
    severity = serializers.CharField(label="严重程度", help_text="high（严重）、medium（较重）、low（一般）")
    severity_label = serializers.CharField(label="严重程度名称", help_text="严重程度名称")
    subject = serializers.CharField(label="对象", help_text="预警涉及的企业或单位")
    title = serializers.CharField(label="预警", help_text="预警")
    on = serializers.DateField(label="起始日期", help_text="预警自何日起成立")
    url = serializers.CharField(label="依据地址", help_text="依据的页面地址（无则为空）")
    enterprise = serializers.IntegerField(allow_null=True, label="企业编号", help_text="企业编号")
    region = serializers.IntegerField(allow_null=True, label="单位编号", help_text="单位编号")
    evidence = serializers.ListField(child=serializers.DictField(), label="依据", help_text="依据（text, url）")
    actions = serializers.ListField(
        child=serializers.DictField(), label="处置", help_text="登记约谈、处罚的地址（label, url）"
    )
    resolution = WarningResolutionSerializer(allow_null=True, label="处理情况", help_text="处理情况（未处理为空）")


class WarningResolveSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=200, label="预警标识", help_text="预警标识（预警列表的 key）")
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, label="处理情况", help_text="处理说明（不关联记录时必填）"
    )
    record = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1, label="约谈/处罚记录编号",
        help_text="该企业的约谈、处罚记录编号",
    )  # fmt: skip

    def validate_record(self, value: int | None) -> EnforcementRecord | None:
        if value is None:
            return None
        request = self.context["request"]
        record = EnforcementRecord.objects.visible_to(request.user).filter(pk=value).first()
        if record is None:
            raise serializers.ValidationError("约谈、处罚记录不存在或不在您的辖区内。")
        return record
