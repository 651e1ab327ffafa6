"""API serializers: output serializers for reading, input serializers that only validate.

Input serializers never save: the views pass `validated_data` to `portal.services`, which save
and write the audit row in one transaction. Every related field offered for writing draws its
choices from `visible_to(request.user)`, so an out-of-scope id is refused like a missing one.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.api.permissions import can_see_personal_data, can_write_enterprises, is_admin
from portal.choices import RegionLevel, Role
from portal.models import AuditEvent, Enterprise, ParentCompany, Person, Region, User
from portal.scoping import sees_personal_data
from portal.services import ENTERPRISE_EDITABLE_FIELDS, enterprise_field_refused
from portal.validators import normalize_credit_code, validate_credit_code

NOT_IN_SCOPE = "不存在或不在您的辖区内。"


class DescribedFieldsMixin:
    """Every field gets a Chinese description (its label) in the OpenAPI schema."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields: dict[str, serializers.Field] = super().get_fields()  # type: ignore[misc]
        for name, field in fields.items():
            if name == "id":
                field.label = field.help_text = "编号"
            elif not field.help_text and field.label:
                field.help_text = field.label
        return fields


# --- Strict JSON types for input: a number is not a text, "5" is not an id, "true" is not a boolean.


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)  # type: ignore[no-any-return]


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


class InputModelSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """Base of the input serializers: model text and boolean fields get the strict types."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.BooleanField: StrictBooleanField,
    }


class CreditCodeField(StrictCharField):
    """统一社会信用代码: folded to upper-case ASCII without spaces before it is checked and stored."""

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        return normalize_credit_code(value)


@extend_schema_field({"anyOf": [{"type": "string", "format": "email"}, {"type": "string", "maxLength": 0}]})
class OptionalEmailField(serializers.EmailField):
    """An e-mail address that may be left empty ("" is not a valid `format: email` by itself)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "电子邮件地址")
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 254)
        super().__init__(**kwargs)


def _request_user(serializer: serializers.BaseSerializer) -> Any:
    request = serializer.context.get("request")
    return getattr(request, "user", None)


def scoped_related(label: str, **kwargs: Any) -> StrictPrimaryKeyRelatedField:
    """A related field whose queryset is set per request (see `ScopedChoicesMixin`)."""
    message = f"{label}{NOT_IN_SCOPE}"
    return StrictPrimaryKeyRelatedField(
        label=label,
        queryset=kwargs.pop("queryset"),
        error_messages={
            "does_not_exist": message,
            "incorrect_type": f"{label}应为编号（整数）。",
            "required": f"必须指定{label}。",
            "null": f"必须指定{label}。",
        },
        **kwargs,
    )


class ScopedChoicesMixin:
    """Restricts the querysets of the fields named in `Meta.scoped_querysets` to the request's user."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields: dict[str, serializers.Field] = super().get_fields()  # type: ignore[misc]
        user = _request_user(self)  # type: ignore[arg-type]
        for name, build in getattr(self.Meta, "scoped_querysets", {}).items():  # type: ignore[attr-defined]
            field = fields.get(name)
            if isinstance(field, serializers.PrimaryKeyRelatedField):
                field.queryset = build(user)
        return fields


# --- Regions ----------------------------------------------------------------------------------


class RegionSerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    level_display = serializers.CharField(source="get_level_display", read_only=True, label="级别名称")

    class Meta:
        model = Region
        fields = ["id", "code", "name", "level", "level_display", "parent", "path"]


# --- Parent companies -------------------------------------------------------------------------


class ParentCompanySerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    region_name = serializers.CharField(source="region.name", read_only=True, label="监管辖区名称")

    class Meta:
        model = ParentCompany
        fields = ["id", "name", "credit_code", "region", "region_name", "address"]


class ParentCompanyInputSerializer(DescribedFieldsMixin, ScopedChoicesMixin, InputModelSerializer):
    credit_code = CreditCodeField(
        label="统一社会信用代码",
        max_length=40,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="18位，按 GB 32100-2015 校验；可留空。",
    )
    region = scoped_related("监管辖区", queryset=Region.objects.none())

    class Meta:
        model = ParentCompany
        fields = ["name", "credit_code", "region", "address"]
        scoped_querysets = {"region": lambda user: Region.objects.visible_to(user)}

    def validate_credit_code(self, value: str | None) -> str | None:
        if not value:
            return None
        _django_to_drf(validate_credit_code, value)
        duplicates = ParentCompany.objects.filter(credit_code=value)
        if self.instance is not None:
            duplicates = duplicates.exclude(pk=self.instance.pk)
        if duplicates.exists():
            raise serializers.ValidationError("统一社会信用代码已存在，不能重复登记。")
        return value


# --- Enterprises ------------------------------------------------------------------------------


class EnterpriseSerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    town_name = serializers.CharField(source="town.name", read_only=True, label="所在镇名称")
    county_name = serializers.SerializerMethodField(label="所在县（市、区）")
    parent_company_name = serializers.SerializerMethodField(label="上级企业名称")
    industry_display = serializers.CharField(source="get_industry_display", read_only=True, label="行业类别名称")
    production_status_display = serializers.CharField(
        source="get_production_status_display", read_only=True, label="生产状态名称"
    )

    class Meta:
        model = Enterprise
        fields = [
            "id", "name", "credit_code", "town", "town_name", "county_name", "industry", "industry_display",
            "production_status", "production_status_display", "parent_company", "parent_company_name",
            "risk_grade", "standardization_grade", "license_number", "license_expiry", "address",
            "contact_name", "contact_phone", "created_at", "updated_at",
        ]  # fmt: skip

    def to_representation(self, instance: Enterprise) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        request = self.context.get("request")
        if "contact_phone" in data and not sees_personal_data(
            getattr(request, "user", None), enterprise_id=instance.pk
        ):
            data["contact_phone"] = instance.masked_contact_phone
        return data

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_county_name(self, obj: Enterprise) -> str | None:
        parent = obj.town.parent
        return parent.name if parent is not None else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_parent_company_name(self, obj: Enterprise) -> str | None:
        return obj.parent_company.name if obj.parent_company is not None else None


class EnterpriseInputSerializer(DescribedFieldsMixin, ScopedChoicesMixin, InputModelSerializer):
    credit_code = CreditCodeField(
        label="统一社会信用代码", max_length=40, help_text="18位，按 GB 32100-2015 校验，全局唯一。"
    )
    town = scoped_related("所在镇", queryset=Region.objects.none())
    parent_company = scoped_related(
        "上级企业/主体公司", queryset=ParentCompany.objects.none(), required=False, allow_null=True
    )

    class Meta:
        model = Enterprise
        fields = list(ENTERPRISE_EDITABLE_FIELDS)
        scoped_querysets = {
            "town": lambda user: Region.objects.visible_to(user).filter(level=RegionLevel.TOWN),
            "parent_company": lambda user: ParentCompany.objects.visible_to(user),
        }

    def validate_credit_code(self, value: str) -> str:
        _django_to_drf(validate_credit_code, value)
        duplicates = Enterprise.objects.filter(credit_code=value)
        if self.instance is not None:
            duplicates = duplicates.exclude(pk=self.instance.pk)
        if duplicates.exists():
            raise serializers.ValidationError("统一社会信用代码已存在，不能重复登记。")
        return value


class EnterpriseSelfServiceInputSerializer(EnterpriseInputSerializer):
    """The enterprise clerk's own enterprise. Every field may be sent (a PUT sends them all), but only
    services.ENTERPRISE_SELF_SERVICE_FIELDS may change: the service refuses the others by name. Town,
    parent company and credit code are refused here already, before any lookup, so that the answer never
    tells whether another region, company or credit code exists."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for name, model in (("town", Region), ("parent_company", ParentCompany)):
            field = fields[name]
            assert isinstance(field, serializers.PrimaryKeyRelatedField)
            # Only the current value (none: no choice at all); the clerk sees no regions.
            current: Any = getattr(self.instance, f"{name}_id", None)
            field.queryset = model.objects.filter(pk=current)  # type: ignore[attr-defined]
            field.error_messages["does_not_exist"] = enterprise_field_refused(name)
        return fields

    def validate_credit_code(self, value: str) -> str:
        if self.instance is None or value != self.instance.credit_code:
            raise serializers.ValidationError(enterprise_field_refused("credit_code"))
        return value


def _django_to_drf(validator: Any, value: Any) -> None:
    try:
        validator(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(list(exc.messages)) from exc


# --- People -----------------------------------------------------------------------------------


class PersonSerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    """ID number and phone are masked unless the reader is an admin or belongs to the person's enterprise."""

    enterprise_name = serializers.SerializerMethodField(label="企业名称")
    parent_company_name = serializers.SerializerMethodField(label="上级企业名称")
    role_display = serializers.CharField(source="get_role_display", read_only=True, label="职务名称")
    id_number = serializers.SerializerMethodField(label="身份证号", help_text="身份证号；无权查看时为脱敏值。")
    phone = serializers.SerializerMethodField(label="电话", help_text="电话；无权查看时为脱敏值。")
    personal_data_masked = serializers.SerializerMethodField(label="个人信息已脱敏")

    class Meta:
        model = Person
        fields = [
            "id", "enterprise", "enterprise_name", "parent_company", "parent_company_name", "name", "role",
            "role_display", "principal_kind", "id_number", "phone", "personal_data_masked", "certificate_type",
            "certificate_number", "certificate_expiry",
        ]  # fmt: skip

    def _masked(self, obj: Person) -> bool:
        return not can_see_personal_data(_request_user(self), obj)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_enterprise_name(self, obj: Person) -> str | None:
        return obj.enterprise.name if obj.enterprise is not None else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_parent_company_name(self, obj: Person) -> str | None:
        return obj.parent_company.name if obj.parent_company is not None else None

    def get_id_number(self, obj: Person) -> str:
        return obj.masked_id_number if self._masked(obj) else obj.id_number

    def get_phone(self, obj: Person) -> str:
        return obj.masked_phone if self._masked(obj) else obj.phone

    def get_personal_data_masked(self, obj: Person) -> bool:
        return self._masked(obj)


# --- Accounts ---------------------------------------------------------------------------------


class UserSerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    email = OptionalEmailField(read_only=True)
    role_display = serializers.CharField(source="get_role_display", read_only=True, label="角色名称")
    region_name = serializers.SerializerMethodField(label="所属辖区名称")
    enterprise_name = serializers.SerializerMethodField(label="所属企业名称")

    class Meta:
        model = User
        fields = [
            "id", "username", "full_name", "role", "role_display", "region", "region_name", "enterprise",
            "enterprise_name", "person", "phone", "email", "is_active", "last_login", "date_joined",
        ]  # fmt: skip

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_region_name(self, obj: User) -> str | None:
        return obj.region.name if obj.region is not None else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_enterprise_name(self, obj: User) -> str | None:
        return obj.enterprise.name if obj.enterprise is not None else None


class MePermissionsSerializer(serializers.Serializer):
    write_enterprises = serializers.BooleanField(label="可维护企业名录", help_text="可维护企业名录")
    write_parent_companies = serializers.BooleanField(label="可维护上级企业", help_text="可维护上级企业")
    manage_users = serializers.BooleanField(label="可管理用户", help_text="可管理用户")
    read_audit_log = serializers.BooleanField(label="可查看操作日志", help_text="可查看操作日志")
    see_personal_data = serializers.BooleanField(
        label="可查看全部个人信息", help_text="可查看辖区内全部人员的身份证号和电话（否则仅本企业人员）"
    )


class MeSerializer(UserSerializer):
    is_superuser = serializers.BooleanField(read_only=True, label="超级用户")
    scope_label = serializers.CharField(read_only=True, label="数据范围")
    permissions = serializers.SerializerMethodField(label="权限")

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "is_superuser", "scope_label", "permissions"]

    @extend_schema_field(MePermissionsSerializer)
    def get_permissions(self, obj: User) -> dict[str, bool]:
        return {
            "write_enterprises": can_write_enterprises(obj),
            "write_parent_companies": is_admin(obj),
            "manage_users": is_admin(obj),
            "read_audit_log": is_admin(obj),
            "see_personal_data": is_admin(obj),
        }


class _UserScopeInput(DescribedFieldsMixin, ScopedChoicesMixin, InputModelSerializer):
    region = scoped_related("所属辖区", queryset=Region.objects.none(), required=False, allow_null=True)
    enterprise = scoped_related("所属企业", queryset=Enterprise.objects.none(), required=False, allow_null=True)
    person = scoped_related("对应人员", queryset=Person.objects.none(), required=False, allow_null=True)
    email = OptionalEmailField()

    class Meta:
        model = User
        fields: list[str] = []
        scoped_querysets = {
            "region": lambda user: Region.objects.visible_to(user),
            "enterprise": lambda user: Enterprise.objects.visible_to(user),
            "person": lambda user: Person.objects.visible_to(user),
        }

    def _check_password(self, password: str, attrs: dict[str, Any]) -> None:
        candidate = User(**{k: v for k, v in attrs.items() if k != "password"})
        if self.instance is not None:
            candidate.username = attrs.get("username", self.instance.username)
            candidate.full_name = attrs.get("full_name", self.instance.full_name)
            candidate.email = attrs.get("email", self.instance.email)
        try:
            password_validation.validate_password(password, candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc


class UserCreateSerializer(_UserScopeInput):
    password = StrictCharField(
        max_length=128,
        label="初始密码",
        write_only=True,
        style={"input_type": "password"},
        help_text="至少10位，不能过于简单。",
    )
    role = serializers.ChoiceField(label="角色", choices=Role.choices)

    class Meta(_UserScopeInput.Meta):
        fields = ["username", "password", "full_name", "role", "region", "enterprise", "person", "phone", "email"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        self._check_password(attrs["password"], attrs)
        return attrs


class UserUpdateSerializer(_UserScopeInput):
    password = StrictCharField(
        max_length=128,
        label="新密码",
        write_only=True,
        required=False,
        style={"input_type": "password"},
        help_text="留空则不修改密码。",
    )

    class Meta(_UserScopeInput.Meta):
        fields = ["full_name", "role", "region", "enterprise", "person", "phone", "email", "is_active", "password"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        actor = _request_user(self)
        if self.instance is not None and actor is not None and self.instance.pk == actor.pk:
            if "role" in attrs and attrs["role"] != self.instance.role:
                raise serializers.ValidationError({"role": "不能修改自己的角色。"})
            if attrs.get("is_active") is False:
                raise serializers.ValidationError({"is_active": "不能停用自己的账号。"})
        if attrs.get("password"):
            self._check_password(attrs["password"], attrs)
        return attrs


# --- Audit log and token ----------------------------------------------------------------------


class AuditEventSerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    action_display = serializers.CharField(source="get_action_display", read_only=True, label="操作名称")
    kind_display = serializers.CharField(source="get_kind_display", read_only=True, label="事件名称")

    class Meta:
        model = AuditEvent
        fields = [
            "id", "created_at", "actor", "actor_name", "action", "action_display", "kind", "kind_display",
            "object_type", "object_id", "object_repr", "before", "after", "detail", "extra", "ip_address",
        ]  # fmt: skip


class LoginSerializer(DescribedFieldsMixin, serializers.Serializer):
    username = StrictCharField(label="用户名", max_length=150)
    password = StrictCharField(label="密码", max_length=128, style={"input_type": "password"}, trim_whitespace=False)
    otp_token = StrictCharField(
        label="动态口令",
        required=False,
        max_length=12,
        help_text="已启用两步验证的账号必填：验证器中当前显示的 6 位数字，或一个未用过的备用码。",
    )
    device = StrictCharField(
        label="设备",
        required=False,
        max_length=200,
        help_text="可选：此令牌用于哪台设备或哪个程序（显示在“登录设备”中，便于辨认和作废）。",
    )


class TokenSerializer(DescribedFieldsMixin, serializers.Serializer):
    token = serializers.CharField(label="令牌", help_text="在请求头中发送：Authorization: Token <令牌>", read_only=True)
    expires_at = serializers.DateTimeField(
        label="最迟失效时间", read_only=True, help_text="令牌到此时间失效；闲置超过规定时间也会提前失效。"
    )
    user = MeSerializer(read_only=True, label="当前用户")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(label="说明", help_text="错误说明（中文）。")


# --- 工作台 (GET /api/v1/me/tasks/) -------------------------------------------------------------


class TaskItemSerializer(serializers.Serializer):
    label = serializers.CharField(read_only=True, label="事项", help_text="事项名称。")  # type: ignore[assignment]
    url = serializers.CharField(read_only=True, label="链接", help_text="该事项的页面地址。")
    detail = serializers.CharField(read_only=True, label="说明", help_text="期限、状态等说明。")
    mine = serializers.BooleanField(
        read_only=True, label="本人事项", help_text="是否由本人处理（逾期事项中排在前面）。"
    )


class TaskSectionSerializer(serializers.Serializer):
    kind = serializers.CharField(read_only=True, label="类别", help_text="事项类别代码，如 hazard_town_confirm。")
    group = serializers.CharField(
        read_only=True,
        label="分组",
        help_text="waiting 待我处理、due 14天内到期、late 已逾期、own 本企业、notices 最新通知。",
    )
    group_label = serializers.CharField(read_only=True, label="分组名称", help_text="分组的中文名称。")
    label = serializers.CharField(  # type: ignore[assignment]
        read_only=True, label="名称", help_text="事项类别的中文名称。"
    )
    count = serializers.IntegerField(read_only=True, label="数量", help_text="该类事项的总数。")
    severity = serializers.CharField(read_only=True, label="紧急程度", help_text="info、warning 或 danger。")
    url = serializers.CharField(read_only=True, label="全部事项链接", help_text="查看全部该类事项的页面地址。")
    items = TaskItemSerializer(many=True, read_only=True, label="前几项", help_text="最先到期或最早的几项。")
