"""REST API of the directory (/api/v1/).

Every queryset comes from `Model.objects.visible_to(request.user)` (via `portal.selectors` where a
selector exists): an object out of scope is a 404, and the attempt is written to the audit log
(越权访问). Role rules for writing are in `portal.api.permissions`. Writes go through
`portal.services`, which validate the whole record, save it and write the audit row in one
transaction; their Django validation errors come back as a 400 with the Chinese messages, and
nothing is saved.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import django_filters
from django import forms
from django.conf import settings
from django.contrib.auth import authenticate, user_logged_in
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from django.db.models import ProtectedError, Q, QuerySet, RestrictedError
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from portal import scoping, selectors, services
from portal.api import serializers as api
from portal.api.permissions import (
    ADMINS,
    ENTERPRISE_WRITERS,
    EnterpriseWritePermission,
    IsCountyAdmin,
    RoleWritePermission,
    has_role,
)
from portal.choices import AuditAction, AuditKind, PersonRole, RegionLevel, Role, audit_kind_groups
from portal.filters import EnterpriseFilterSet, ScopedFilterSet
from portal.models import AuditEvent, Enterprise, ParentCompany, Person, Region, User
from portal.otp import services as otp_services
from portal.tokens import services as token_services
from portal.tokens.authentication import ExpiringTokenAuthentication

# Token first: an anonymous request is then answered 401 with `WWW-Authenticate: Token`.
AUTHENTICATION = [ExpiringTokenAuthentication, SessionAuthentication]


# --- Plumbing ---------------------------------------------------------------------------------


class PortalPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    page_size_query_description = "每页条数（默认50，最多200）。"
    page_query_description = "页码，从1开始。"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if size < 1:
            raise serializers.ValidationError({self.page_size_query_param: ["每页条数应为正整数。"]})
        return min(size, self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
        return parameters

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated: dict[str, Any] = super().get_paginated_response_schema(schema)
        descriptions = {
            "count": "符合条件的总条数",
            "next": "下一页的地址（没有则为空）",
            "previous": "上一页的地址（没有则为空）",
            "results": "本页的记录",
        }
        for name, description in descriptions.items():
            paginated["properties"][name]["description"] = description
        return paginated


class ScopedFilterBackend(DjangoFilterBackend):
    """Passes the request's user to the FilterSet, whose related choices are scoped with it."""

    def get_filterset_kwargs(self, request: Request, queryset: QuerySet[Any], view: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = super().get_filterset_kwargs(request, queryset, view)
        kwargs["user"] = request.user
        return kwargs


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "该记录仍有关联数据，不能删除。"
    default_code = "conflict"


class LockedOut(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"


@contextmanager
def service_errors(conflict: str | None = None) -> Iterator[None]:
    """A service's validation error becomes a 400 by field; a protected relation a 409."""
    try:
        yield
    except DjangoValidationError as exc:
        detail = serializers.as_serializer_error(exc)
        if "__all__" in detail:
            detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop("__all__")
        raise serializers.ValidationError(detail) from exc
    except (ProtectedError, RestrictedError) as exc:
        raise Conflict(conflict) from exc


def _error(description: str, schema: Any = api.ErrorSerializer) -> OpenApiResponse:
    return OpenApiResponse(response=schema, description=description)


ERRORS: dict[int, OpenApiResponse] = {
    400: _error('输入有误：按字段列出的中文错误信息，例如 {"credit_code": ["…"]}。', OpenApiTypes.OBJECT),
    401: _error("未登录，或令牌无效。"),
    403: _error("您的角色无权进行此操作。"),
    404: _error("对象不存在，或不在您的数据范围内。"),
    409: _error("仍有关联记录（如企业、用户），不能删除。"),
    429: _error("登录失败次数过多，账号已暂时锁定。"),
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: ERRORS[code] for code in codes}


class IdFilter(django_filters.NumberFilter):
    """A filter on a foreign key's id that does not look the id up: any integer is accepted, and an
    unknown or out-of-scope id just matches nothing (the base queryset is already scoped)."""

    field_class = forms.IntegerField
    # Ids are positive 64-bit integers; a bigger number would overflow the database driver (SQLite).
    ID_RANGE = range(1, 2**63)

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value is None:
            return qs
        if value not in self.ID_RANGE:
            return qs.none()
        self._log_if_out_of_scope(value)
        return super().filter(qs, value)

    def _log_if_out_of_scope(self, value: int) -> None:
        """An existing row outside the user's scope named in a filter: 越权访问, as a direct lookup would be."""
        user = getattr(getattr(self, "parent", None), "user", None)
        if user is None:
            return
        model = self.model._meta.get_field(self.field_name.split("__")[0]).related_model
        manager = getattr(model, "_default_manager", None)
        if manager is None or not hasattr(manager, "visible_to"):
            return
        scoping.log_denied(
            user=user,
            model=model,
            lookup={"pk": value},
            detail=f"筛选条件 {self.field_name.split('__')[0]}={value}",
            visible=manager.visible_to(user),
        )


def _user_agent(request: Any) -> str:
    return str(request.META.get("HTTP_USER_AGENT", ""))[:200]


def _user(request: Request) -> User:
    return request.user  # type: ignore[return-value]


class PortalAutoSchema(AutoSchema):
    """Documents the `{id}` path segment as the integer it is (the URL pattern itself accepts any segment)."""

    def get_override_parameters(self) -> list[Any]:
        parameters: list[Any] = list(super().get_override_parameters())
        if "{id}" in self.path:
            parameters.append(OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="编号"))
        return parameters


# Object lookup through the scoped queryset; a miss on an existing object is logged as 越权访问.
# (A comment, not a docstring: drf-spectacular would show a docstring as the operations' description.)
class ScopedViewSet(viewsets.GenericViewSet):  # type: ignore[type-arg]
    authentication_classes = AUTHENTICATION
    parser_classes = (JSONParser,)
    pagination_class = PortalPagination
    # Any id segment reaches the view (and gets a JSON 404), not just [^/.]+ (Django's HTML 404).
    lookup_value_regex = "[^/]+"
    schema = PortalAutoSchema()
    model: ClassVar[type[models.Model]]
    lookup_field = "pk"

    def get_object(self) -> Any:
        try:
            return super().get_object()
        except Http404:
            self._log_denied()
            raise

    def _log_denied(self) -> None:
        log_denied(self.request, self.model, self.kwargs.get(self.lookup_field))


def log_denied(request: Request, model: type[models.Model], value: Any) -> None:
    """Logs 越权访问 when `value` is the id of an existing object the user was answered 404 for."""
    scoping.log_denied(
        user=_user(request), model=model, lookup={"pk": value}, detail=f"API {request.method} {request.path}"
    )


# --- Auth -------------------------------------------------------------------------------------


@extend_schema(
    tags=["认证"],
    summary="用户名和密码换取令牌",
    description=(
        "校验用户名和密码，返回一个新的 API 令牌（每台设备一个，可在 `device` 中注明设备）。"
        "之后在请求头中发送 `Authorization: Token <令牌>`。令牌闲置超过规定时间或到达 `expires_at` 即失效；"
        "修改或重置密码、账号停用、退出所有设备时作废。签发、作废、登录成功和失败都记入操作日志；"
        "连续失败达到上限后账号被暂时锁定（返回 429）。已启用两步验证的账号还须提交 `otp_token`"
        "（验证器中的 6 位动态口令或一个备用码），连续输错后需等待（返回 429）。"
    ),
    request=api.LoginSerializer,
    responses={200: api.TokenSerializer, **errors(400, 429)},
    auth=[],
)
class ObtainTokenView(APIView):
    authentication_classes = ()
    parser_classes = (JSONParser,)
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        serializer = api.LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The plain HttpRequest: django-axes counts the failure and flags a lockout on it, and the
        # audit receivers take the client address from it.
        http_request = request._request
        user = authenticate(
            request=http_request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if getattr(http_request, "axes_locked_out", False):
            # Answer in JSON ourselves; otherwise AxesMiddleware would swap in the HTML lockout page.
            http_request.axes_locked_out = False  # type: ignore[attr-defined]
            minutes = round(float(settings.AXES_COOLOFF_TIME) * 60)
            raise LockedOut(f"登录失败次数过多，账号已被暂时锁定，请{minutes}分钟后再试。")
        if user is None:
            raise serializers.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: ["用户名或密码错误。"]})
        self._check_second_factor(user, serializer.validated_data.get("otp_token", ""))
        user_logged_in.send(sender=user.__class__, request=http_request, user=user)
        token, key = token_services.api_token_issue(
            user=user, device=serializer.validated_data.get("device", "") or _user_agent(http_request)
        )
        issued = {"token": key, "expires_at": token.expires_at, "user": user}
        return Response(api.TokenSerializer(issued, context={"request": request}).data)

    @staticmethod
    def _check_second_factor(user: User, code: str) -> None:
        """A user with a confirmed TOTP device gets a token only with a current code (no password-only bypass)."""
        device = otp_services.confirmed_device(user)
        if device is None:
            return
        if not code:
            raise serializers.ValidationError({"otp_token": ["该账号已启用两步验证，请填写动态口令。"]})
        result = otp_services.second_factor_verify(user=user, code=code, purpose="API 令牌登录")
        if result.throttled:
            raise LockedOut(result.message)
        if not result.ok:
            raise serializers.ValidationError({"otp_token": [result.message]})


@extend_schema(
    tags=["认证"],
    summary="当前用户",
    description="当前登录用户的账号、角色、数据范围和权限。",
    responses={200: api.MeSerializer, **errors(401)},
)
class MeView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response(api.MeSerializer(request.user, context={"request": request}).data)


@extend_schema(
    tags=["认证"],
    summary="我的工作台",
    description=(
        "当前用户的工作台：待我处理、14天内到期、已逾期、本企业事项及最新通知，每类给出数量和最前面几项的链接，"
        "与网页工作台相同。只含当前用户数据范围内的事项。"
    ),
    responses={200: api.TaskSectionSerializer(many=True), **errors(401)},
)
class MeTasksView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        from portal import worklist

        return Response(worklist.as_json(worklist.request_sections(request)))


# --- Regions ----------------------------------------------------------------------------------


class RegionFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(label="搜索（名称或代码）", method="search")
    level = django_filters.ChoiceFilter(label="级别", choices=RegionLevel.choices)
    parent = IdFilter(label="上级区划编号", field_name="parent__id")

    class Meta:
        model = Region
        fields = ["q", "level", "parent"]

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)

    def search(self, queryset: QuerySet[Region], name: str, value: str) -> QuerySet[Region]:
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(code__startswith=value)) if value else queryset


@extend_schema(tags=["行政区划"])
@extend_schema_view(
    list=extend_schema(
        summary="行政区划列表",
        description="您数据范围内的行政区划（辖区用户为本辖区及其下级，企业用户为企业所在镇）。",
        responses={200: api.RegionSerializer, **errors(400, 401, 404)},
    ),
    retrieve=extend_schema(
        summary="行政区划详情",
        description="不在您数据范围内的区划返回 404。",
        responses={200: api.RegionSerializer, **errors(401, 404)},
    ),
)
class RegionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    model = Region
    serializer_class = api.RegionSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = [ScopedFilterBackend, OrderingFilter]
    filterset_class = RegionFilterSet
    ordering_fields = ["code", "name", "level"]
    ordering = ["code"]

    def get_queryset(self) -> QuerySet[Region]:
        return Region.objects.visible_to(_user(self.request)).order_by("code")


# --- Parent companies -------------------------------------------------------------------------


class ParentCompanyFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(label="搜索（名称或信用代码）", method="search")
    region = IdFilter(label="监管辖区编号", field_name="region__id")

    class Meta:
        model = ParentCompany
        fields = ["q", "region"]

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)

    def search(self, queryset: QuerySet[ParentCompany], name: str, value: str) -> QuerySet[ParentCompany]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(credit_code__icontains=value.upper()))


PARENT_COMPANY_WRITE_RULES = (
    "统一社会信用代码可留空，填写时按 GB 32100-2015 校验且不能重复；监管辖区须在您的辖区内。保存成功记入操作日志。"
)


@extend_schema(tags=["上级企业"])
@extend_schema_view(
    list=extend_schema(
        summary="上级企业/主体公司列表",
        description="您数据范围内的上级企业；企业用户看到本企业所属的上级企业。",
        responses={200: api.ParentCompanySerializer, **errors(400, 401, 404)},
    ),
    retrieve=extend_schema(
        summary="上级企业详情",
        description="不在您数据范围内的上级企业返回 404。",
        responses={200: api.ParentCompanySerializer, **errors(401, 404)},
    ),
    create=extend_schema(
        summary="新增上级企业（管理员）",
        description=PARENT_COMPANY_WRITE_RULES,
        request=api.ParentCompanyInputSerializer,
        responses={201: api.ParentCompanySerializer, **errors(400, 401, 403)},
    ),
    update=extend_schema(
        summary="修改上级企业（管理员）",
        description=PARENT_COMPANY_WRITE_RULES,
        request=api.ParentCompanyInputSerializer,
        responses={200: api.ParentCompanySerializer, **errors(400, 401, 403, 404)},
    ),
    partial_update=extend_schema(
        summary="部分修改上级企业（管理员）",
        description=PARENT_COMPANY_WRITE_RULES,
        request=api.ParentCompanyInputSerializer,
        responses={200: api.ParentCompanySerializer, **errors(400, 401, 403, 404)},
    ),
    destroy=extend_schema(
        summary="删除上级企业（管理员）",
        description="其下仍有企业时不能删除（409）；其人员一并删除，逐条记入操作日志。",
        responses={204: None, **errors(401, 403, 404, 409)},
    ),
)
class ParentCompanyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ScopedViewSet,
):
    model = ParentCompany
    serializer_class = api.ParentCompanySerializer
    permission_classes = [IsAuthenticated, RoleWritePermission]
    write_roles = ADMINS
    filter_backends = [ScopedFilterBackend, OrderingFilter]
    filterset_class = ParentCompanyFilterSet
    ordering_fields = ["name", "credit_code"]
    ordering = ["name"]

    def get_queryset(self) -> QuerySet[ParentCompany]:
        return ParentCompany.objects.visible_to(_user(self.request)).select_related("region").order_by("name", "id")

    def _output(self, company: ParentCompany, code: int = status.HTTP_200_OK) -> Response:
        return Response(api.ParentCompanySerializer(company, context=self.get_serializer_context()).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = api.ParentCompanyInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        with service_errors():
            company = services.parent_company_create(actor=_user(request), **serializer.validated_data)
        return self._output(company, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        company = self.get_object()
        serializer = api.ParentCompanyInputSerializer(
            company, data=request.data, partial=kwargs.get("partial", False), context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        with service_errors():
            company = services.parent_company_update(
                actor=_user(request), company=company, data=serializer.validated_data
            )
        return self._output(company)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        company = self.get_object()
        with service_errors(conflict="该上级企业下仍有企业，不能删除。"):
            services.parent_company_delete(actor=_user(request), company=company)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Enterprises ------------------------------------------------------------------------------

ENTERPRISE_WRITE_RULES = (
    "统一社会信用代码按 GB 32100-2015 校验且不能重复；所在镇和上级企业须在您的辖区内。"
    "出错时返回按字段列出的中文错误信息，不保存任何数据；保存成功记入操作日志。"
)
ENTERPRISE_UPDATE_RULES = (
    ENTERPRISE_WRITE_RULES + "企业填报员可以修改本企业的生产状态、安全生产许可证编号及有效期、地址、联系人和联系电话；"
    "其余字段（企业名称、统一社会信用代码、所在镇、行业类别、上级企业、风险等级、标准化等级）可以原样提交，"
    "但一旦改动即返回 400，并指明不能修改的字段。"
)
ENTERPRISE_ORDERING = ("name", "credit_code", "town", "industry", "production_status", "risk_grade", "license_expiry")


@extend_schema(tags=["企业"])
@extend_schema_view(
    list=extend_schema(
        summary="企业列表",
        description=(
            "您数据范围内的非煤矿山企业，可按镇、行业、生产状态、风险等级、上级企业筛选，按 q 搜索名称或信用代码，"
            "用 ordering 排序（前加 - 为倒序）。与企业列表页和导出使用同一套筛选。"
        ),
        parameters=[
            OpenApiParameter(
                "active", OpenApiTypes.BOOL, description="正常生产建设：true 只看正常生产、正常建设，false 只看其他"
            ),
            OpenApiParameter("parent_company", OpenApiTypes.INT, description="上级企业编号"),
            OpenApiParameter(
                "ordering",
                OpenApiTypes.STR,
                description=(
                    "排序字段：name 企业名称、credit_code 统一社会信用代码、town 所在镇、industry 行业类别、"
                    "production_status 生产状态、risk_grade 风险等级、license_expiry 许可证有效期；前加 - 为倒序，"
                    "多个字段用逗号分隔。"
                ),
                enum=[f"{sign}{name}" for name in ENTERPRISE_ORDERING for sign in ("", "-")],
            ),
        ],
        responses={200: api.EnterpriseSerializer, **errors(400, 401, 404)},
    ),
    retrieve=extend_schema(
        summary="企业详情",
        description="不在您数据范围内的企业返回 404，并记入操作日志（越权访问）。",
        responses={200: api.EnterpriseSerializer, **errors(401, 404)},
    ),
    create=extend_schema(
        summary="新增企业（管理员、县局股室）",
        description=ENTERPRISE_WRITE_RULES,
        request=api.EnterpriseInputSerializer,
        responses={201: api.EnterpriseSerializer, **errors(400, 401, 403)},
    ),
    update=extend_schema(
        summary="修改企业（管理员、县局股室；企业填报员改本企业）",
        description=ENTERPRISE_UPDATE_RULES,
        request=api.EnterpriseInputSerializer,
        responses={200: api.EnterpriseSerializer, **errors(400, 401, 403, 404)},
    ),
    partial_update=extend_schema(
        summary="部分修改企业（管理员、县局股室；企业填报员改本企业）",
        description=ENTERPRISE_UPDATE_RULES,
        request=api.EnterpriseInputSerializer,
        responses={200: api.EnterpriseSerializer, **errors(400, 401, 403, 404)},
    ),
    destroy=extend_schema(
        summary="删除企业（管理员、县局股室）",
        description="仍有用户账号等关联记录时不能删除（409）。",
        responses={204: None, **errors(401, 403, 404, 409)},
    ),
)
class EnterpriseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ScopedViewSet,
):
    model = Enterprise
    serializer_class = api.EnterpriseSerializer
    permission_classes = [IsAuthenticated, EnterpriseWritePermission]
    write_roles = ENTERPRISE_WRITERS
    # EnterpriseFilterSet carries its own `ordering` parameter.
    filter_backends = [ScopedFilterBackend]
    filterset_class = EnterpriseFilterSet

    def get_queryset(self) -> QuerySet[Enterprise]:
        return selectors.enterprise_list(user=_user(self.request))

    def _output(self, enterprise: Enterprise, code: int = status.HTTP_200_OK) -> Response:
        return Response(api.EnterpriseSerializer(enterprise, context=self.get_serializer_context()).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = api.EnterpriseInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        with service_errors():
            enterprise = services.enterprise_create(actor=_user(request), **serializer.validated_data)
        return self._output(enterprise, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        enterprise = self.get_object()
        user = _user(request)
        # EnterpriseWritePermission let the user in: a writer, or the clerk of this very enterprise.
        self_service = not has_role(user, ENTERPRISE_WRITERS)
        input_class = api.EnterpriseSelfServiceInputSerializer if self_service else api.EnterpriseInputSerializer
        serializer = input_class(
            enterprise, data=request.data, partial=kwargs.get("partial", False), context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        with service_errors():
            if self_service:
                enterprise = services.enterprise_update_by_enterprise(
                    actor=user, enterprise=enterprise, data=serializer.validated_data
                )
            else:
                enterprise = services.enterprise_update(
                    actor=user, enterprise=enterprise, data=serializer.validated_data
                )
        return self._output(enterprise)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        enterprise = self.get_object()
        with service_errors(conflict="该企业仍有关联的用户账号或其他记录，不能删除。"):
            services.enterprise_delete(actor=_user(request), enterprise=enterprise)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- People -----------------------------------------------------------------------------------


class PersonFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(label="搜索（姓名）", field_name="name", lookup_expr="icontains")
    enterprise = IdFilter(label="企业编号", field_name="enterprise__id")
    parent_company = IdFilter(label="上级企业编号", field_name="parent_company__id")
    role = django_filters.ChoiceFilter(label="职务", choices=PersonRole.choices)

    class Meta:
        model = Person
        fields = ["q", "enterprise", "parent_company", "role"]

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)


@extend_schema(tags=["人员"])
@extend_schema_view(
    list=extend_schema(
        summary="人员列表",
        description="您数据范围内企业和上级企业的人员。身份证号和电话仅对管理员和本企业用户显示全文，其他人看到脱敏值。",
        responses={200: api.PersonSerializer, **errors(400, 401, 404)},
    ),
    retrieve=extend_schema(
        summary="人员详情",
        description="身份证号和电话按权限脱敏；不在您数据范围内的人员返回 404。",
        responses={200: api.PersonSerializer, **errors(401, 404)},
    ),
)
class PersonViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    model = Person
    serializer_class = api.PersonSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = [ScopedFilterBackend, OrderingFilter]
    filterset_class = PersonFilterSet
    ordering_fields = ["name", "role", "certificate_expiry"]
    ordering = ["role", "name"]

    def get_queryset(self) -> QuerySet[Person]:
        return (
            Person.objects.visible_to(_user(self.request))
            .select_related("enterprise", "parent_company")
            .order_by("role", "name", "id")
        )


# --- Accounts ---------------------------------------------------------------------------------


class UserFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(label="搜索（账号或姓名）", method="search")
    role = django_filters.ChoiceFilter(label="角色", choices=Role.choices)
    region = IdFilter(label="所属辖区编号", field_name="region__id")
    enterprise = IdFilter(label="所属企业编号", field_name="enterprise__id")
    is_active = django_filters.BooleanFilter(label="启用")

    class Meta:
        model = User
        fields = ["q", "role", "region", "enterprise", "is_active"]

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)

    def search(self, queryset: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        value = value.strip()
        return queryset.filter(Q(username__icontains=value) | Q(full_name__icontains=value)) if value else queryset


@extend_schema(tags=["用户"])
@extend_schema_view(
    list=extend_schema(
        summary="用户列表（管理员）",
        description="管理员所在县的用户账号。",
        responses={200: api.UserSerializer, **errors(400, 401, 403, 404)},
    ),
    retrieve=extend_schema(
        summary="用户详情（管理员）",
        description="管理员所在县以外的用户返回 404。",
        responses={200: api.UserSerializer, **errors(401, 403, 404)},
    ),
    create=extend_schema(
        summary="新增用户（管理员）",
        description=(
            "每个用户一个角色、一个数据范围：企业角色指定所属企业，其他角色指定相应级别的所属辖区"
            "（镇应急管理中心为镇，县局股室、分管负责人、管理员为县）。辖区和企业须在管理员所在县内。"
        ),
        request=api.UserCreateSerializer,
        responses={201: api.UserSerializer, **errors(400, 401, 403)},
    ),
    update=extend_schema(
        summary="修改用户（管理员）",
        description="可修改姓名、角色、数据范围、联系方式、启用状态和密码；不能修改自己的角色或停用自己。",
        request=api.UserUpdateSerializer,
        responses={200: api.UserSerializer, **errors(400, 401, 403, 404)},
    ),
    partial_update=extend_schema(
        summary="部分修改用户（管理员）",
        description="只修改提交的字段；规则同“修改用户”。",
        request=api.UserUpdateSerializer,
        responses={200: api.UserSerializer, **errors(400, 401, 403, 404)},
    ),
)
class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ScopedViewSet,
):
    model = User
    serializer_class = api.UserSerializer
    permission_classes = [IsAuthenticated, IsCountyAdmin]
    filter_backends = [ScopedFilterBackend, OrderingFilter]
    filterset_class = UserFilterSet
    ordering_fields = ["username", "full_name", "role", "last_login"]
    ordering = ["username"]

    def get_queryset(self) -> QuerySet[User]:
        return User.objects.visible_to(_user(self.request)).order_by("username")

    def _output(self, user: User, code: int = status.HTTP_200_OK) -> Response:
        return Response(api.UserSerializer(user, context=self.get_serializer_context()).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = api.UserCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        with service_errors():
            user = services.user_create(actor=_user(request), **serializer.validated_data)
        return self._output(user, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        target = self.get_object()
        actor = _user(request)
        if target.is_superuser and not actor.is_superuser:
            raise PermissionDenied("不能修改超级用户的账号。")
        serializer = api.UserUpdateSerializer(
            target, data=request.data, partial=kwargs.get("partial", False), context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        password = data.pop("password", "")
        with service_errors(), transaction.atomic():
            target = services.user_update(actor=actor, user=target, data=data)
            if password:
                services.user_set_password(actor=actor, user=target, password=password)
        return self._output(target)

    @extend_schema(
        summary="重置两步验证（管理员）",
        description=(
            "用户的手机和备用码都丢失时：解绑其动态口令、作废备用码和全部 API 令牌，用户下次登录只需密码，"
            "可重新绑定。只能重置本县的其他用户（不能重置自己的）；记入操作日志。"
        ),
        request=None,
        responses={204: None, **errors(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="reset-two-factor")
    def reset_two_factor(self, request: Request, pk: str | None = None) -> Response:
        target = self.get_object()
        actor = _user(request)
        if not otp_services.may_reset_two_factor(actor=actor, user=target):
            raise PermissionDenied("不能重置自己或超级用户的两步验证。")
        otp_services.two_factor_reset_by_admin(actor=actor, user=target)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Audit log --------------------------------------------------------------------------------


class AuditEventFilterSet(ScopedFilterSet):
    action = django_filters.ChoiceFilter(label="操作", choices=AuditAction.choices)
    kind = django_filters.ChoiceFilter(label="事件", choices=AuditKind.choices)
    kind_group = django_filters.ChoiceFilter(
        label="事件类别",
        field_name="kind",
        lookup_expr="startswith",
        choices=[(prefix, label) for label, prefix, _ in audit_kind_groups()],
        help_text="一类事件，如 “hazard.”（事故隐患的各步骤）。",
    )
    actor = IdFilter(label="操作人编号", field_name="actor__id")
    actor_name = django_filters.CharFilter(label="操作人账号", field_name="actor_name")
    object_type = django_filters.CharFilter(label="对象类型", field_name="object_type")
    object_id = django_filters.CharFilter(label="对象编号", field_name="object_id")
    created_after = django_filters.IsoDateTimeFilter(label="起始时间", field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(label="截止时间", field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = [
            "action", "kind", "kind_group", "actor", "actor_name", "object_type", "object_id", "created_after",
            "created_before",
        ]  # fmt: skip

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)


@extend_schema(tags=["操作日志"])
@extend_schema_view(
    list=extend_schema(
        summary="操作日志（管理员）",
        description="管理员所在县的修改留痕：新增、修改、删除、登录、登录失败、导出、越权访问等，按时间倒序。"
        "每条记录的 kind 是发生了什么（如 hazard.town_confirmed 隐患镇确认），extra 是该事件的数据。",
        responses={200: api.AuditEventSerializer, **errors(400, 401, 403, 404)},
    ),
    retrieve=extend_schema(
        summary="操作日志详情（管理员）",
        description="一条操作记录，含修改前后的值。",
        responses={200: api.AuditEventSerializer, **errors(401, 403, 404)},
    ),
)
class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    model = AuditEvent
    serializer_class = api.AuditEventSerializer
    permission_classes = [IsAuthenticated, IsCountyAdmin]
    filter_backends = [ScopedFilterBackend, OrderingFilter]
    filterset_class = AuditEventFilterSet
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> QuerySet[AuditEvent]:
        return selectors.audit_event_list(user=_user(self.request))
