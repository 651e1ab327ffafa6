"""Serializers of the hazards API: output serializers read; input serializers only validate.

Input serializers never save: the views pass `validated_data` to `hazards.services`, which check the
role and status again under the row lock, write the event and the audit row. Related fields offered for
writing draw their choices from `visible_to(request.user)` (enterprises) or the active catalogue.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hazards.choices import (
    CATEGORY_UNSET_LABEL,
    EvidenceKind,
    HazardAction,
    HazardCategory,
    HazardLevel,
    HazardSource,
    HazardStatus,
    SupervisionLevel,
)
from hazards.fields import declared_fields
from hazards.fingerprint import hazard_fingerprint
from hazards.models import (
    ExtensionRequest,
    Hazard,
    HazardEvent,
    HazardEvidence,
    MajorHazardCriterion,
    Notification,
    local_today,
)
from hazards.permissions import ADMIN, ENTERPRISE, REGION_STAFF, allowed_actions
from portal import limits
from portal.api.serializers import (
    DescribedFieldsMixin,
    InputModelSerializer,
    ScopedChoicesMixin,
    StrictBooleanField,
    StrictCharField,
    StrictPrimaryKeyRelatedField,
    scoped_related,
)
from portal.models import Enterprise
from portal.reauth import REAUTH_REFUSED
from portal.upload_types import DOCUMENTS


def _text(label: str, *, required: bool = False, max_length: int | None = None, help_text: str = "") -> Any:
    kwargs: dict[str, Any] = {"label": label, "required": required, "allow_blank": not required}
    if max_length is not None:
        kwargs["max_length"] = max_length
    if not required:
        kwargs["default"] = ""
    return StrictCharField(help_text=help_text or label, **kwargs)


def _date(label: str, *, required: bool = False, help_text: str = "") -> serializers.DateField:
    if required:
        return serializers.DateField(label=label, help_text=help_text or f"{label}（YYYY-MM-DD）")
    return serializers.DateField(
        label=label, required=False, allow_null=True, default=None, help_text=help_text or f"{label}（YYYY-MM-DD）"
    )


def _funds() -> serializers.DecimalField:
    return serializers.DecimalField(
        label="整改资金（万元）",
        help_text="整改资金，单位万元，不能为负数。",
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        default=None,
    )


def _criterion_field() -> StrictPrimaryKeyRelatedField:
    return StrictPrimaryKeyRelatedField(
        label="判定依据编号",
        help_text="重大事故隐患必填：判定依据条目的编号（见 /api/v1/hazard-criteria/）；一般事故隐患不填。",
        queryset=MajorHazardCriterion.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
        error_messages={
            "does_not_exist": "判定依据不存在或已停用。",
            "incorrect_type": "判定依据应为编号（整数）。",
        },
    )


# --- The 判定依据 catalogue ------------------------------------------------------------------------------


class CriterionSerializer(DescribedFieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    mine_type_display = serializers.CharField(source="get_mine_type_display", read_only=True, label="矿山类型名称")
    code = serializers.CharField(read_only=True, label="条目编号（如“二（七）”）")

    class Meta:
        model = MajorHazardCriterion
        fields = [
            "id", "document", "mine_type", "mine_type_display", "number", "label", "code", "text", "sub_items",
            "is_active", "uncertain", "note",
        ]  # fmt: skip


class CriterionInputSerializer(DescribedFieldsMixin, InputModelSerializer):
    sub_items = serializers.ListField(
        child=StrictCharField(label="分项", max_length=limits.TEXT_NOTE),
        label="分项",
        help_text="条目下的分项（文字列表）。",
        required=False,
    )

    class Meta:
        model = MajorHazardCriterion
        fields = ["document", "mine_type", "number", "label", "text", "sub_items", "note", "is_active"]
        # Uniqueness is checked by the service (full_clean), with its Chinese message.
        validators: list[Any] = []


# --- Hazards -------------------------------------------------------------------------------------------


_DATETIME = serializers.DateTimeField()


class HazardSerializer(DescribedFieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True, label="企业名称")
    town = serializers.IntegerField(source="enterprise.town_id", read_only=True, label="所在镇编号")
    town_name = serializers.CharField(source="enterprise.town.name", read_only=True, label="所在镇名称")
    level_display = serializers.CharField(source="get_level_display", read_only=True, label="隐患级别名称")
    category_display = serializers.CharField(source="get_category_display", read_only=True, label="隐患类别名称")
    source_display = serializers.CharField(source="get_source_display", read_only=True, label="隐患来源名称")
    status_display = serializers.CharField(source="get_status_display", read_only=True, label="状态名称")
    criterion_code = serializers.SerializerMethodField(label="判定依据条目（如“露天矿山二（七）”）")
    is_overdue = serializers.BooleanField(
        read_only=True, label="是否逾期", help_text="按现整改时限和今天（北京时间）计算：时限已过且尚未整改完成。"
    )
    is_supervised = serializers.BooleanField(read_only=True, label="是否挂牌督办")

    class Meta:
        model = Hazard
        fields = [
            "id", "enterprise", "enterprise_name", "town", "town_name", "ledger_number", "description", "location",
            "category", "category_display", "level", "level_display", "criterion", "criterion_code",
            "criterion_text", "found_on", "found_by", "source", "source_display", "measures", "responsible_unit",
            "responsible_person", "funds_wan", "deadline", "current_deadline", "interim_measures", "status",
            "status_display", "is_overdue", "is_supervised", "supervision_level", "supervision_unit",
            "supervision_doc_number", "supervision_date", "supervision_deadline", "rectified_on",
            "rectification_note", "closed_on", "created_at", "updated_at",
        ]  # fmt: skip

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_criterion_code(self, obj: Hazard) -> str | None:
        criterion = obj.criterion
        return f"{criterion.get_mine_type_display()}{criterion.code}" if criterion is not None else None

    # The list's hot path. DRF's generic to_representation spends most of a 100-row page resolving
    # sources (inspect.signature on every get_*_display, per row); this builds the same dict directly
    # (tests/hazards/test_api.py checks that it equals the generic one). Subclasses add their fields.
    _BASE_FIELDS = frozenset(Meta.fields)
    _TEXT = (
        "ledger_number", "description", "location", "criterion_text", "found_by", "measures", "responsible_unit",
        "responsible_person", "interim_measures", "supervision_unit", "supervision_doc_number",
        "rectification_note",
    )  # fmt: skip
    _DATES = (
        "found_on", "deadline", "current_deadline", "supervision_date", "supervision_deadline", "rectified_on",
        "closed_on",
    )  # fmt: skip
    _LEVELS = dict(HazardLevel.choices)
    _CATEGORIES = {**dict(HazardCategory.choices), "": CATEGORY_UNSET_LABEL}
    _SOURCES = dict(HazardSource.choices)
    _STATUSES = dict(HazardStatus.choices)
    _CENT = Decimal("0.01")

    def to_representation(self, instance: Hazard) -> dict[str, Any]:
        obj = instance
        enterprise = obj.enterprise
        today = local_today()
        data: dict[str, Any] = {
            "id": obj.pk,
            "enterprise": obj.enterprise_id,
            "enterprise_name": enterprise.name,
            "town": enterprise.town_id,
            "town_name": enterprise.town.name,
            "category": obj.category,
            "category_display": self._CATEGORIES.get(obj.category, obj.category),
            "level": obj.level,
            "level_display": self._LEVELS.get(obj.level, obj.level),
            "criterion": obj.criterion_id,
            "criterion_code": self.get_criterion_code(obj),
            "source": obj.source,
            "source_display": self._SOURCES.get(obj.source, obj.source),
            "funds_wan": None if obj.funds_wan is None else f"{Decimal(obj.funds_wan).quantize(self._CENT):f}",
            "status": obj.status,
            "status_display": self._STATUSES.get(obj.status, obj.status),
            "is_overdue": obj.is_overdue_on(today),
            "is_supervised": obj.is_supervised,
            "supervision_level": obj.supervision_level,
            "created_at": _DATETIME.to_representation(obj.created_at),
            "updated_at": _DATETIME.to_representation(obj.updated_at),
        }
        for name in self._TEXT:
            data[name] = getattr(obj, name)
        for name in self._DATES:
            value = getattr(obj, name)
            data[name] = value.isoformat() if value is not None else None
        ordered = {name: data[name] for name in self.Meta.fields if name in data}
        for name, field in self.fields.items():
            if name not in self._BASE_FIELDS:
                attribute = field.get_attribute(obj)
                ordered[name] = None if attribute is None else field.to_representation(attribute)
        return ordered


class HazardDetailSerializer(HazardSerializer):
    criterion_full_text = serializers.SerializerMethodField(label="判定依据条文")
    signed_by_name = serializers.SerializerMethodField(label="签字人")
    signed_at = serializers.DateTimeField(read_only=True, label="签字时间")
    rectified_by_name = serializers.SerializerMethodField(label="整改填报人")
    verified_by_name = serializers.SerializerMethodField(label="验收/销号人")
    allowed_actions = serializers.SerializerMethodField(
        label="当前用户可办理的步骤",
        help_text=(
            "当前用户此时可对该隐患办理的步骤代码，如 town_confirm（镇确认，POST confirm-town/）、"
            "county_confirm（县确认，POST confirm-county/）、send_back（退回）、close（销号）等。"
        ),
    )

    fingerprint = serializers.SerializerMethodField(
        label="隐患内容指纹", help_text="主要负责人签字上报时原样提交（sign-report/ 的 fingerprint）。"
    )

    class Meta(HazardSerializer.Meta):
        fields = [
            *HazardSerializer.Meta.fields, "criterion_full_text", "signed_by_name", "signed_at",
            "rectified_by_name", "verified_by_name", "allowed_actions", "fingerprint",
        ]  # fmt: skip

    def get_fingerprint(self, obj: Hazard) -> str:
        return hazard_fingerprint(obj)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_criterion_full_text(self, obj: Hazard) -> str | None:
        return obj.criterion.full_text if obj.criterion is not None else None

    @staticmethod
    def _name(user: Any) -> str | None:
        return (user.full_name or user.get_username()) if user is not None else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_signed_by_name(self, obj: Hazard) -> str | None:
        return self._name(obj.signed_by)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_rectified_by_name(self, obj: Hazard) -> str | None:
        return self._name(obj.rectified_by)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_verified_by_name(self, obj: Hazard) -> str | None:
        return self._name(obj.verified_by)

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=HazardAction.choices)))
    def get_allowed_actions(self, obj: Hazard) -> list[str]:
        request = self.context.get("request")
        return allowed_actions(request.user, obj) if request is not None else []


class WorkQueueItemSerializer(HazardSerializer):
    waiting_for = serializers.SerializerMethodField(
        label="待办事项", help_text="该隐患等待当前用户办理的步骤（中文），如“镇确认”“审批延期”。"
    )
    extension_pending = serializers.BooleanField(read_only=True, label="有待审批的延期申请")

    class Meta(HazardSerializer.Meta):
        fields = [*HazardSerializer.Meta.fields, "waiting_for", "extension_pending"]

    def get_waiting_for(self, obj: Hazard) -> str:
        waiting: dict[tuple[str, str], str] = self.context.get("waiting", {})
        return waiting.get((obj.level, obj.status), "") or (
            "审批延期" if getattr(obj, "extension_pending", False) else ""
        )


class HazardReportInputSerializer(DescribedFieldsMixin, ScopedChoicesMixin, serializers.Serializer):  # type: ignore[type-arg]
    enterprise = scoped_related(
        "企业",
        queryset=Enterprise.objects.none(),
        required=False,
        help_text="企业编号；企业用户可不填（默认为本企业）。须在您的数据范围内。",
    )
    level = serializers.ChoiceField(label="隐患级别", choices=HazardLevel.choices, help_text="隐患级别")
    criterion = _criterion_field()
    criterion_text = _text("判定依据（原文）", max_length=300)
    description = _text("隐患内容", max_length=limits.TEXT_NOTE, required=True)
    location = _text("隐患部位", max_length=200)
    category = serializers.ChoiceField(label="隐患类别", choices=HazardCategory.choices, help_text="隐患类别")
    source = serializers.ChoiceField(label="隐患来源", choices=HazardSource.choices, help_text="隐患来源")  # type: ignore[assignment]
    found_on = _date("发现日期", required=True)
    found_by = _text("发现人", max_length=100)
    ledger_number = _text("台账编号", max_length=60)
    measures = _text("整改措施", max_length=limits.TEXT_NOTE)
    responsible_unit = _text("责任单位", max_length=200)
    responsible_person = _text("责任人", max_length=100)
    funds_wan = _funds()
    deadline = _date("整改时限")
    interim_measures = _text("应急预案/临时管控措施", max_length=limits.TEXT_NOTE)
    comment = _text("说明", max_length=limits.TEXT_COMMENT)

    class Meta:
        scoped_querysets = {"enterprise": lambda user: Enterprise.objects.visible_to(user)}


class HazardUpdateInputSerializer(DescribedFieldsMixin, serializers.Serializer):  # type: ignore[type-arg]
    """Only the fields sent are changed (PATCH)."""

    ledger_number = StrictCharField(label="台账编号", max_length=60, required=False, allow_blank=True)
    description = StrictCharField(label="隐患内容", max_length=limits.TEXT_NOTE, required=False)
    location = StrictCharField(label="隐患部位", max_length=200, required=False, allow_blank=True)
    category = serializers.ChoiceField(label="隐患类别", choices=HazardCategory.choices, required=False)
    criterion = StrictPrimaryKeyRelatedField(
        label="判定依据编号",
        queryset=MajorHazardCriterion.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": "判定依据不存在或已停用。", "incorrect_type": "判定依据应为编号（整数）。"},
    )
    criterion_text = StrictCharField(label="判定依据（原文）", max_length=300, required=False, allow_blank=True)
    found_on = serializers.DateField(label="发现日期", required=False)
    found_by = StrictCharField(label="发现人", max_length=100, required=False, allow_blank=True)
    source = serializers.ChoiceField(label="隐患来源", choices=HazardSource.choices, required=False)  # type: ignore[assignment]
    measures = StrictCharField(label="整改措施", max_length=limits.TEXT_NOTE, required=False, allow_blank=True)
    responsible_unit = StrictCharField(label="责任单位", max_length=200, required=False, allow_blank=True)
    responsible_person = StrictCharField(label="责任人", max_length=100, required=False, allow_blank=True)
    funds_wan = serializers.DecimalField(
        label="整改资金（万元）", max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    deadline = serializers.DateField(label="整改时限", required=False, allow_null=True)
    interim_measures = StrictCharField(
        label="应急预案/临时管控措施", max_length=limits.TEXT_NOTE, required=False, allow_blank=True
    )
    rectification_note = StrictCharField(
        label="整改情况", max_length=limits.TEXT_NOTE, required=False, allow_blank=True
    )
    comment = StrictCharField(
        label="说明", max_length=limits.TEXT_COMMENT, required=False, allow_blank=True, help_text="记入处理记录的说明。"
    )


class AdminAmendInputSerializer(HazardUpdateInputSerializer):
    level = serializers.ChoiceField(label="隐患级别", choices=HazardLevel.choices, required=False)
    current_deadline = serializers.DateField(label="现整改时限", required=False, allow_null=True)
    rectified_on = serializers.DateField(label="整改完成日期", required=False, allow_null=True)
    closed_on = serializers.DateField(label="销号日期", required=False, allow_null=True)
    supervision_level = serializers.ChoiceField(
        label="挂牌督办级别", choices=SupervisionLevel.choices, required=False, allow_blank=True
    )
    supervision_unit = StrictCharField(label="督办单位", max_length=200, required=False, allow_blank=True)
    supervision_doc_number = StrictCharField(label="督办文号", max_length=100, required=False, allow_blank=True)
    supervision_date = serializers.DateField(label="督办日期", required=False, allow_null=True)
    supervision_deadline = serializers.DateField(label="督办期限", required=False, allow_null=True)
    reason = StrictCharField(
        label="更正理由", max_length=limits.TEXT_COMMENT, help_text="必填：更正的理由（记入处理记录和操作日志）。"
    )
    comment = None  # type: ignore[assignment]


# The input serializers offer exactly the fields the declaration gives their roles (hazards.fields);
# which of them a user may change on a given hazard now, the service decides (403 naming the field).
FIELD_SERIALIZERS: dict[type[serializers.Serializer], tuple[frozenset[str], frozenset[str]]] = {  # type: ignore[type-arg]
    HazardUpdateInputSerializer: (ENTERPRISE | REGION_STAFF, frozenset({"comment"})),
    AdminAmendInputSerializer: (ADMIN, frozenset({"reason"})),
}
for _serializer, (_roles, _extra) in FIELD_SERIALIZERS.items():
    _offered = set(_serializer._declared_fields) - _extra
    if _offered != declared_fields(_roles):
        raise ImproperlyConfigured(
            f"{_serializer.__name__} offers {sorted(_offered)}, the declaration {sorted(declared_fields(_roles))}"
        )


# --- Step inputs ------------------------------------------------------------------------------------------


class StepInputSerializer(DescribedFieldsMixin, serializers.Serializer):  # type: ignore[type-arg]
    expected_status = serializers.ChoiceField(
        label="办理时看到的状态",
        choices=HazardStatus.choices,
        required=False,
        help_text="可选：办理时所看到的隐患状态；若隐患已被他人办理而状态不同，返回 409，不做任何修改。",
    )
    comment = _text("意见", max_length=limits.TEXT_COMMENT, help_text="记入处理记录的意见或说明。")


class SignReportInputSerializer(StepInputSerializer):
    fingerprint = serializers.CharField(
        label="隐患内容指纹",
        max_length=64,
        help_text="签字前读取的隐患详情中的 fingerprint；隐患内容、材料或判定依据此后有修改则返回 409，不签字。",
    )
    # A signature asks for the password again (portal.reauth): missing, blank or wrong, the one refusal.
    password = serializers.CharField(
        label="登录密码",
        max_length=128,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="主要负责人本人的登录密码（签字前再次确认身份）。",
        error_messages={"required": REAUTH_REFUSED, "blank": REAUTH_REFUSED, "null": REAUTH_REFUSED},
    )
    otp_code = serializers.CharField(
        label="动态口令",
        max_length=16,
        required=False,
        allow_blank=True,
        help_text="已启用两步验证的账号必填：验证器当前显示的 6 位数字，或一个未用过的备用码。",
    )


class SendBackInputSerializer(StepInputSerializer):
    reason = _text("退回理由", max_length=limits.TEXT_COMMENT, required=True)
    comment = None  # type: ignore[assignment]


class SuperviseInputSerializer(StepInputSerializer):
    level = serializers.ChoiceField(label="督办级别", choices=SupervisionLevel.choices, help_text="省级、市级或县级")
    unit = _text("督办单位", required=True, max_length=200)
    doc_number = _text("督办文号", required=True, max_length=100)
    date = _date("督办日期", required=True)
    deadline = _date("督办期限", required=True)


class StartRectificationInputSerializer(StepInputSerializer):
    """The 五落实 may be completed in the same step; fields not sent keep what is recorded."""

    measures = StrictCharField(label="整改措施", max_length=limits.TEXT_NOTE, required=False)
    responsible_unit = StrictCharField(label="责任单位", max_length=200, required=False)
    responsible_person = StrictCharField(label="责任人", max_length=100, required=False)
    funds_wan = serializers.DecimalField(
        label="整改资金（万元）", max_digits=12, decimal_places=2, min_value=0, required=False
    )
    deadline = serializers.DateField(label="整改时限", required=False)
    interim_measures = StrictCharField(label="应急预案/临时管控措施", max_length=limits.TEXT_NOTE, required=False)


class RequestClosureInputSerializer(StepInputSerializer):
    rectified_on = _date("整改完成日期", required=True)
    rectification_note = _text("整改情况", max_length=limits.TEXT_NOTE, required=True)


class MarkRectifiedInputSerializer(StepInputSerializer):
    rectified_on = _date("整改完成日期", required=True)
    rectification_note = _text("整改情况", max_length=limits.TEXT_NOTE, help_text="整改情况；不填时须已上传整改材料。")


class CloseInputSerializer(StepInputSerializer):
    closed_on = _date("销号日期", help_text="销号日期（YYYY-MM-DD），不填为今天。")


class RecheckInputSerializer(StepInputSerializer):
    passed = StrictBooleanField(
        label="是否合格", help_text="回头看是否合格；不合格时隐患重新打开（整改中），须填写意见。"
    )
    new_deadline = _date("新的整改时限", help_text="不合格时可指定新的整改时限（YYYY-MM-DD）。")


class EvidenceUploadSerializer(DescribedFieldsMixin, serializers.Serializer):  # type: ignore[type-arg]
    file = serializers.FileField(label="文件", help_text=f"{DOCUMENTS.description}；按内容识别类型，不超过 10 MB。")
    kind = serializers.ChoiceField(label="材料类型", choices=EvidenceKind.choices, help_text="材料类型")
    description = _text("说明", max_length=200)


class ExtensionInputSerializer(DescribedFieldsMixin, serializers.Serializer):  # type: ignore[type-arg]
    requested_deadline = _date("申请延至", required=True)
    reason = _text("延期理由", max_length=limits.TEXT_COMMENT, required=True)


class ExtensionDecisionInputSerializer(DescribedFieldsMixin, serializers.Serializer):  # type: ignore[type-arg]
    approve = StrictBooleanField(label="是否批准", help_text="true 批准（整改时限延至申请日期），false 驳回。")
    comment = _text("审批意见", max_length=limits.TEXT_COMMENT, help_text="审批意见；驳回时必填。")


# --- Timeline, evidence, extensions, notifications ------------------------------------------------------


class EventSerializer(DescribedFieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    action_display = serializers.CharField(source="get_action_display", read_only=True, label="操作名称")
    from_status_display = serializers.CharField(source="get_from_status_display", read_only=True, label="原状态名称")
    to_status_display = serializers.CharField(source="get_to_status_display", read_only=True, label="新状态名称")

    class Meta:
        model = HazardEvent
        fields = [
            "id", "created_at", "actor", "actor_name", "action", "action_display", "from_status",
            "from_status_display", "to_status", "to_status_display", "comment", "data",
        ]  # fmt: skip


class EvidenceSerializer(DescribedFieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    kind_display = serializers.CharField(source="get_kind_display", read_only=True, label="材料类型名称")
    download_url = serializers.SerializerMethodField(label="下载地址", help_text="经权限检查的下载地址（API）。")
    thumbnail_url = serializers.SerializerMethodField(
        label="缩略图地址",
        help_text="照片的缩略图（JPEG，最长边 480 像素）；非照片为空。显示时请用缩略图，不要直接显示原图。",
    )

    class Meta:
        model = HazardEvidence
        fields = [
            "id", "hazard", "kind", "kind_display", "original_name", "size", "sha256", "description",
            "uploaded_by", "uploaded_at", "download_url", "thumbnail_url",
        ]  # fmt: skip
        extra_kwargs = {"sha256": {"help_text": "文件内容的 SHA-256 摘要（十六进制）"}}

    def get_download_url(self, obj: HazardEvidence) -> str:
        return f"/api/v1/hazard-evidence/{obj.pk}/file/"

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_thumbnail_url(self, obj: HazardEvidence) -> str | None:
        return f"/api/v1/hazard-evidence/{obj.pk}/file/?thumb=1" if obj.thumbnail else None


class ExtensionSerializer(DescribedFieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    status_display = serializers.CharField(source="get_status_display", read_only=True, label="审批状态名称")

    class Meta:
        model = ExtensionRequest
        fields = [
            "id", "hazard", "requested_by", "requested_at", "old_deadline", "requested_deadline", "reason",
            "status", "status_display", "decided_by", "decided_at", "decision_comment",
        ]  # fmt: skip


class NotificationSerializer(DescribedFieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    kind_display = serializers.CharField(source="get_kind_display", read_only=True, label="类型名称")

    class Meta:
        model = Notification
        fields = ["id", "hazard", "kind", "kind_display", "message", "is_read", "created_at", "read_at"]


class MarkReadInputSerializer(DescribedFieldsMixin, serializers.Serializer):  # type: ignore[type-arg]
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1, label="通知编号"),
        required=False,
        allow_empty=True,
        label="通知编号",
        help_text="要标为已读的通知编号；不填则将您的全部通知标为已读。",
    )


class MarkReadResultSerializer(DescribedFieldsMixin, serializers.Serializer):  # type: ignore[type-arg]
    updated = serializers.IntegerField(label="标为已读的条数")
