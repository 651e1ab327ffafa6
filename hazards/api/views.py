"""REST API of 隐患排查治理 (/api/v1/…), on the directory API's plumbing (`portal.api.views`).

Reading: every queryset comes from `hazards.selectors` (scoped by `visible_to`): a hazard out of scope is
a 404 and the attempt is logged as 越权访问. Steps: each POST action calls its service through
`hazards.steps.run_step`, so the answers are the pages' answers — 403 when the role may not take the step,
409 when the hazard's status does not allow it (or changed meanwhile), 400 for wrong input, with the
service's Chinese message; a refused step changes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from hazards import selectors, services
from hazards.api import serializers as api
from hazards.choices import ExtensionStatus, HazardAction, HazardLevel, MineType
from hazards.filters import HazardFilterSet
from hazards.models import ExtensionRequest, Hazard, HazardEvidence, MajorHazardCriterion, Notification
from hazards.paging import HazardPaginator, wide_scope, with_tiebreak
from hazards.signing import hazard_sign_authenticate
from hazards.steps import StepRefused, queued_actions, run_step
from hazards.workflow import WORKFLOW, StepDef, Workflow
from portal import rules
from portal.api.permissions import ADMINS, RoleWritePermission
from portal.api.views import ERRORS, IdFilter, PortalPagination, ScopedFilterBackend, ScopedViewSet, service_errors
from portal.filters import ScopedFilterSet
from portal.images import thumbnail_name
from portal.models import User
from portal.upload_types import DOCUMENTS

A = HazardAction


def _user(request: Request) -> User:
    return request.user  # type: ignore[return-value]


class StepConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "隐患当前状态不允许此操作。"
    default_code = "conflict"


HAZARD_ERRORS = {
    **ERRORS,
    403: OpenApiResponse(
        response=ERRORS[401].response, description="您的角色无权办理此步骤（返回中文说明，例如应由哪一级办理）。"
    ),
    409: OpenApiResponse(
        response=ERRORS[401].response,
        description="隐患当前状态不允许此步骤，或已被他人办理而状态已变更（返回中文说明）；未做任何修改。",
    ),
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: HAZARD_ERRORS[code] for code in codes}


# ScopedViewSet with the 404 in Chinese (the lookup is scoped; a miss is logged as 越权访问).
# (A comment, not a docstring: drf-spectacular would show a docstring as the operations' description.)
class HazardsViewSet(ScopedViewSet):
    def get_object(self) -> Any:
        try:
            return super().get_object()
        except Http404:
            raise NotFound("未找到该记录，或不在您的数据范围内。") from None


def _api_error(refused: StepRefused) -> APIException:
    if refused.status == 403:
        return PermissionDenied("；".join(refused.messages))
    if refused.status == 409:
        return StepConflict("；".join(refused.messages))
    if refused.error is None:
        return serializers.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: refused.messages})
    detail = serializers.as_serializer_error(refused.error)
    if "__all__" in detail:
        detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop("__all__")
    return serializers.ValidationError(detail)


class HazardPagination(PortalPagination):
    """Exact counts; for the wide scopes above 200,000 rows, PostgreSQL's estimate (see hazards.paging)."""

    allow_estimate = False

    @property
    def django_paginator_class(self) -> Any:  # type: ignore[override]
        return functools.partial(HazardPaginator, allow_estimate=self.allow_estimate)

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        self.allow_estimate = wide_scope(request.user, request.query_params)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data: Any) -> Response:
        assert self.page is not None
        return Response(
            {
                "count": self.page.paginator.count,
                "count_is_estimate": bool(getattr(self.page.paginator, "count_is_estimate", False)),
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        properties = paginated["properties"]
        properties["count"]["description"] = "符合条件的总条数（超过 20 万条时为数据库的估算值，见 count_is_estimate）"
        paginated["properties"] = {
            "count": properties["count"],
            "count_is_estimate": {
                "type": "boolean",
                "description": "count 是否为估算值；为 true 时仍可沿 next 逐页读到最后一条",
            },
            **{key: value for key, value in properties.items() if key != "count"},
        }
        paginated["required"] = [*paginated.get("required", []), "count_is_estimate"]
        return paginated


# --- Hazards ----------------------------------------------------------------------------------------

HAZARD_ORDERING = ("found_on", "deadline", "status", "level", "enterprise", "ledger_number")
STEP_RULES = (
    "每一步都由服务端按角色和数据范围校验：不在您数据范围内的隐患返回 404；角色不符返回 403；状态不符返回 409。"
)


def _step_schema(summary: str, description: str, request: Any) -> Callable[[Any], Any]:
    return extend_schema(
        summary=summary,
        description=f"{description}{STEP_RULES}",
        request=request,
        responses={200: api.HazardDetailSerializer, **errors(400, 401, 403, 404, 409)},
    )


# The step actions, generated from the step declarations (hazards.workflow): POST /hazards/{id}/<url_path>/
# with the declared input serializer, through `_run` (403/409 before 400), answering the hazard's detail.


def _fields(step: StepDef, request: Request, user: User, hazard: Hazard, data: dict[str, Any]) -> Any:
    return step.service_function()(actor=user, hazard=hazard, **data)


def _sign(step: StepDef, request: Request, user: User, hazard: Hazard, data: dict[str, Any]) -> Any:
    # The password again (and the 动态口令 once enrolled) before the service: hazards.signing.
    hazard_sign_authenticate(
        request=request, actor=user, password=data.pop("password"), otp_code=data.pop("otp_code", "")
    )
    return step.service_function()(actor=user, hazard=hazard, **data)


def _amend(step: StepDef, request: Request, user: User, hazard: Hazard, data: dict[str, Any]) -> Any:
    reason = data.pop("reason")
    if not data:
        raise serializers.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: ["没有提交要更正的字段。"]})
    return step.service_function()(actor=user, hazard=hazard, data=data, reason=reason)


# How the validated input reaches the service (StepDef.api.call).
API_CALLS: dict[str, Callable[[StepDef, Request, User, Hazard, dict[str, Any]], Any]] = {
    "fields": _fields,
    "sign": _sign,
    "amend": _amend,
}


def step_action(step: StepDef) -> Callable[..., Response]:
    """The viewset action of one declared step, with its OpenAPI description."""
    spec = step.api
    assert spec is not None, step.action
    input_class = getattr(api, spec.serializer)
    call = API_CALLS[spec.call]

    def handler(self: Any, request: Request, pk: str | None = None) -> Response:
        hazard = self._run(request, step.action, input_class, lambda u, h, d: call(step, request, u, h, d))
        return self._detail(hazard)  # type: ignore[no-any-return]

    # DRF names the route, drf-spectacular the operation, after the function.
    handler.__name__ = handler.__qualname__ = spec.name
    routed = action(detail=True, methods=["post"], url_path=spec.url_path)(handler)
    return _step_schema(spec.summary, spec.description, input_class)(routed)  # type: ignore[no-any-return]


def step_actions_mixin(workflow: Workflow) -> type:
    """A base class holding one action per step the workflow offers in the API."""
    actions = {step.api.name: step_action(step) for step in workflow.api_steps if step.api is not None}
    return type("HazardStepActions", (), actions)


HazardStepActions: Any = step_actions_mixin(WORKFLOW)


@extend_schema(tags=["隐患"])
@extend_schema_view(
    list=extend_schema(
        summary="隐患列表",
        description=(
            "您数据范围内的隐患（企业用户为本企业的隐患），可按级别、状态、镇、企业、类别、来源、逾期、挂牌督办筛选，"
            "按 q 搜索隐患内容、编号、部位或企业名称，用 ordering 排序。与隐患台账页面和 Excel 导出使用同一套筛选。"
            "is_overdue（逾期）按现整改时限计算，不手工填写。"
        ),
        parameters=[
            OpenApiParameter("overdue", OpenApiTypes.BOOL, description="逾期：true 只看逾期，false 只看未逾期"),
            OpenApiParameter(
                "supervised", OpenApiTypes.BOOL, description="挂牌督办：true 只看已挂牌督办，false 只看未督办"
            ),
            OpenApiParameter(
                "open", OpenApiTypes.BOOL, description="未销号：true 只看未销号（未验收），false 只看已销号"
            ),
            OpenApiParameter(
                "ordering",
                OpenApiTypes.STR,
                description=(
                    "排序字段：found_on 发现日期、deadline 整改时限、status 状态、level 隐患级别、enterprise 企业、"
                    "ledger_number 台账编号；前加 - 为倒序。默认按发现日期倒序。"
                ),
                enum=[f"{sign}{name}" for name in HAZARD_ORDERING for sign in ("", "-")],
            ),
        ],
        responses={200: api.HazardSerializer, **errors(400, 401, 404)},
    ),
    retrieve=extend_schema(
        summary="隐患详情",
        description=(
            "含判定依据条文、签字和验收人员，以及当前用户此时可办理的步骤（allowed_actions）。"
            "不在您数据范围内的隐患返回 404。"
        ),
        responses={200: api.HazardDetailSerializer, **errors(401, 404)},
    ),
    create=extend_schema(
        summary="上报隐患",
        description=(
            "企业、镇应急管理中心或县局股室上报隐患。一般事故隐患直接上报；重大事故隐患须选择判定依据"
            "（矿安〔2022〕88号的条目），填报后待企业主要负责人签字（sign-report）。企业用户可不填企业。"
        ),
        request=api.HazardReportInputSerializer,
        responses={201: api.HazardDetailSerializer, **errors(400, 401, 403)},
    ),
    partial_update=extend_schema(
        summary="修改隐患信息",
        description=(
            "修改未销号隐患的内容或“五落实”（只改提交的字段，不改级别和状态）。重大事故隐患签字上报后，"
            "企业只能补充“五落实”；已销号（已验收）的隐患只能由管理员更正（admin-amend）。"
        ),
        request=api.HazardUpdateInputSerializer,
        responses={200: api.HazardDetailSerializer, **errors(400, 401, 403, 404, 409)},
    ),
)
class HazardViewSet(HazardStepActions, mixins.ListModelMixin, mixins.RetrieveModelMixin, HazardsViewSet):
    model = Hazard
    pagination_class = HazardPagination
    permission_classes = [IsAuthenticated]
    filter_backends = [ScopedFilterBackend]
    filterset_class = HazardFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Hazard]:
        queryset = selectors.hazard_base(user=_user(self.request)).order_by("-found_on", "-id")
        if self.action != "list":
            queryset = queryset.select_related("signed_by", "rectified_by", "verified_by")
        return queryset

    def get_serializer_class(self) -> Any:
        return api.HazardSerializer if self.action == "list" else api.HazardDetailSerializer

    def filter_queryset(self, queryset: Any) -> Any:
        return with_tiebreak(super().filter_queryset(queryset))

    def _detail(self, hazard: Hazard, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=hazard.pk)
        return Response(api.HazardDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def _run(
        self,
        request: Request,
        step: str,
        input_class: type[serializers.Serializer],  # type: ignore[type-arg]
        call: Callable[[User, Hazard, dict[str, Any]], Any],
    ) -> Any:
        """Role and status first (403/409), then the input (400), then the service under its lock."""
        hazard = self.get_object()
        user = _user(request)
        serializer = input_class(data=request.data, context=self.get_serializer_context())
        try:
            if not serializer.is_valid():
                run_step(actor=user, hazard=hazard, action=step, call=lambda h: None)
                raise serializers.ValidationError(serializer.errors)
            data = dict(serializer.validated_data)
            seen = data.pop("expected_status", None)
            return run_step(
                actor=user, hazard=hazard, action=step, seen_status=seen, call=lambda h: call(user, h, data)
            )
        except StepRefused as refused:
            raise _api_error(refused) from refused

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = _user(request)
        try:
            rules.require(user, "hazards.report", HazardLevel.GENERAL)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        serializer = api.HazardReportInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if user.enterprise_id is not None:
            data["enterprise"] = user.enterprise
        elif data.get("enterprise") is None:
            raise serializers.ValidationError({"enterprise": ["必须指定企业。"]})
        with service_errors():
            hazard = services.hazard_report(actor=user, **data)
        return self._detail(hazard, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        def call(user: User, hazard: Hazard, data: dict[str, Any]) -> Hazard:
            comment = data.pop("comment", "")
            if not data:
                raise serializers.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: ["没有提交要修改的字段。"]})
            return services.hazard_update(actor=user, hazard=hazard, data=data, comment=comment)

        return self._detail(self._run(request, A.UPDATE, api.HazardUpdateInputSerializer, call))

    # Timeline, evidence, extensions --------------------------------------------------------------------

    @extend_schema(
        summary="处理记录",
        description="隐患的全部处理记录（谁、何时、从何状态到何状态、意见），按时间先后。",
        responses={200: api.EventSerializer(many=True), **errors(401, 404)},
    )
    @action(detail=True, methods=["get"], url_path="events")
    def events(self, request: Request, pk: str | None = None) -> Response:
        hazard = self.get_object()
        events = selectors.hazard_events(user=_user(request), hazard=hazard)
        return Response(api.EventSerializer(events, many=True).data)

    @extend_schema(
        methods=["GET"],
        summary="照片和材料列表",
        description="隐患的照片、文件、整改材料和销号材料；文件经 download_url 下载（同样校验数据范围）。",
        responses={200: api.EvidenceSerializer(many=True), **errors(401, 404)},
    )
    @extend_schema(
        methods=["POST"],
        summary="上传照片或材料",
        description=(
            f"multipart/form-data 上传一个文件。文件类型按内容识别（{DOCUMENTS.description}），"
            "超过大小限制或类型不符返回 400，不保存任何内容。已销号的隐患不能再上传（409）。"
        ),
        request={"multipart/form-data": api.EvidenceUploadSerializer},
        responses={201: api.EvidenceSerializer, **errors(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["get", "post"], url_path="evidence", parser_classes=[MultiPartParser, FormParser])
    def evidence(self, request: Request, pk: str | None = None) -> Response:
        if request.method == "GET":
            hazard = self.get_object()
            items = selectors.hazard_evidence(user=_user(request), hazard=hazard)
            return Response(api.EvidenceSerializer(items, many=True).data)

        def call(user: User, hazard: Hazard, data: dict[str, Any]) -> HazardEvidence:
            upload = data["file"]
            return services.hazard_add_evidence(
                actor=user, hazard=hazard, file=upload, original_name=upload.name, kind=data["kind"],
                description=data.get("description", ""),
            )  # fmt: skip

        item = self._run(request, A.ADD_EVIDENCE, api.EvidenceUploadSerializer, call)
        return Response(api.EvidenceSerializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        summary="延期申请列表",
        description="该隐患的全部延期申请（含已审批的），最新的在前。",
        responses={200: api.ExtensionSerializer(many=True), **errors(401, 404)},
    )
    @extend_schema(
        methods=["POST"],
        summary="申请延期",
        description=(
            "企业申请延长整改时限（须晚于现整改时限；同一隐患同时只能有一份待审批的申请）。"
            "批准前整改时限不变；重大事故隐患由县局审批，一般事故隐患由镇或县审批。"
        ),
        request=api.ExtensionInputSerializer,
        responses={201: api.ExtensionSerializer, **errors(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["get", "post"], url_path="extensions")
    def extensions(self, request: Request, pk: str | None = None) -> Response:
        if request.method == "GET":
            hazard = self.get_object()
            items = selectors.hazard_extensions(user=_user(request), hazard=hazard)
            return Response(api.ExtensionSerializer(items, many=True).data)
        item = self._run(
            request, A.REQUEST_EXTENSION, api.ExtensionInputSerializer,
            lambda u, h, d: services.hazard_request_extension(actor=u, hazard=h, **d),
        )  # fmt: skip
        return Response(api.ExtensionSerializer(item).data, status=status.HTTP_201_CREATED)


# --- Extension requests -----------------------------------------------------------------------------------


class ExtensionFilterSet(ScopedFilterSet):
    status = django_filters.ChoiceFilter(label="审批状态", choices=ExtensionStatus.choices)
    hazard = IdFilter(label="隐患编号", field_name="hazard__id")

    class Meta:
        model = ExtensionRequest
        fields = ["status", "hazard"]

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)


@extend_schema(tags=["隐患"])
@extend_schema_view(
    list=extend_schema(
        summary="延期申请（全部隐患）",
        description="您数据范围内隐患的延期申请，可按审批状态和隐患筛选；待审批的申请也在待办（work-queue）中。",
        responses={200: api.ExtensionSerializer, **errors(400, 401, 404)},
    ),
    retrieve=extend_schema(
        summary="延期申请详情",
        description="不在您数据范围内的申请返回 404。",
        responses={200: api.ExtensionSerializer, **errors(401, 404)},
    ),
)
class ExtensionRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, HazardsViewSet):
    model = ExtensionRequest
    serializer_class = api.ExtensionSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = [ScopedFilterBackend]
    filterset_class = ExtensionFilterSet

    def get_queryset(self) -> QuerySet[ExtensionRequest]:
        return ExtensionRequest.objects.visible_to(_user(self.request)).order_by("-requested_at", "-id")

    @extend_schema(
        summary="审批延期",
        description=(
            "批准后整改时限延至申请日期（原定时限保留）；驳回须填写理由。重大事故隐患由县局股室审批，"
            f"一般事故隐患由镇应急管理中心或县局股室审批；已审批的申请返回 409。{STEP_RULES}"
        ),
        request=api.ExtensionDecisionInputSerializer,
        responses={200: api.ExtensionSerializer, **errors(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="decide")
    def decide(self, request: Request, pk: str | None = None) -> Response:
        extension = self.get_object()
        user = _user(request)
        hazard = selectors.hazard_get(user=user, pk=extension.hazard_id)
        serializer = api.ExtensionDecisionInputSerializer(data=request.data)
        try:
            if not serializer.is_valid():
                run_step(actor=user, hazard=hazard, action=A.DECIDE_EXTENSION, call=lambda h: None)
                raise serializers.ValidationError(serializer.errors)
            data = serializer.validated_data
            decided = run_step(
                actor=user, hazard=hazard, action=A.DECIDE_EXTENSION,
                call=lambda h: services.hazard_decide_extension(
                    actor=user, extension=extension, approve=data["approve"], comment=data.get("comment", "")
                ),
            )  # fmt: skip
        except StepRefused as refused:
            raise _api_error(refused) from refused
        return Response(api.ExtensionSerializer(decided).data)


# --- Evidence files ------------------------------------------------------------------------------------------


@extend_schema(tags=["隐患"])
@extend_schema_view(
    retrieve=extend_schema(
        summary="材料详情",
        description="照片或材料的信息；不在您数据范围内的返回 404。",
        responses={200: api.EvidenceSerializer, **errors(401, 404)},
    ),
)
class HazardEvidenceViewSet(mixins.RetrieveModelMixin, HazardsViewSet):
    model = HazardEvidence
    serializer_class = api.EvidenceSerializer
    permission_classes = [IsAuthenticated]
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[HazardEvidence]:
        return HazardEvidence.objects.visible_to(_user(self.request)).order_by("id")

    @extend_schema(
        summary="下载材料文件",
        description=(
            "文件只经此接口（或页面的下载链接）提供，先校验数据范围：不在范围内返回 404。"
            "thumb=1 时返回上传时生成的缩略图（JPEG，最长边 480 像素；非照片或尚无缩略图时 404）。"
        ),
        parameters=[
            OpenApiParameter(
                "thumb", OpenApiTypes.STR, enum=["1"], required=False, description="1：只取缩略图（供列表显示）"
            )
        ],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(response=OpenApiTypes.BINARY, description="文件内容"),
            **errors(401, 404),
        },
    )
    @action(detail=True, methods=["get"], url_path="file")
    def file(self, request: Request, pk: str | None = None) -> FileResponse:
        evidence = self.get_object()
        thumb = request.query_params.get("thumb") == "1"
        stored = evidence.thumbnail if thumb else evidence.file
        if not stored or not stored.name:
            raise Http404("文件不存在。")
        try:
            handle = stored.open("rb")
        except OSError as exc:
            raise Http404("文件不存在。") from exc
        name = thumbnail_name(evidence.original_name) if thumb else evidence.original_name
        response = FileResponse(handle, as_attachment=True, filename=name)
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


# --- The 判定依据 catalogue ---------------------------------------------------------------------------------------


class CriterionFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="搜索（条目内容或编号）", method="search")
    mine_type = django_filters.ChoiceFilter(label="矿山类型", choices=MineType.choices)
    document = django_filters.CharFilter(label="依据文件文号", field_name="document")
    is_active = django_filters.BooleanFilter(label="启用")

    class Meta:
        model = MajorHazardCriterion
        fields = ["q", "mine_type", "document", "is_active"]

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    def search(self, queryset: QuerySet[MajorHazardCriterion], name: str, value: str) -> Any:
        value = value.strip()
        return queryset.filter(Q(text__icontains=value) | Q(label__icontains=value)) if value else queryset


CRITERION_WRITE_RULES = (
    "全国性条目（矿安〔2022〕88号等）只有超级管理员可以修改或停用；县（市、区）管理员可以新增本辖区的补充条目，"
    "这些条目只在本辖区可见、可引用，也只能由本辖区管理员修改。同一文件、同一矿山类型下序号不能重复；"
    "已被隐患引用的条目不能删除，只能停用（is_active=false）。修改记入操作日志。"
)


@extend_schema(tags=["重大事故隐患判定依据"])
@extend_schema_view(
    list=extend_schema(
        summary="判定依据目录",
        description=(
            "《金属非金属矿山重大事故隐患判定标准》（矿安〔2022〕88号）的条目及管理员补充的条目，按地下矿山、露天矿山、"
            "尾矿库的顺序；可按矿山类型、启用状态筛选。所有登录用户可读。"
        ),
        responses={200: api.CriterionSerializer, **errors(400, 401, 404)},
    ),
    retrieve=extend_schema(
        summary="判定依据条目",
        description="一个条目（含分项和核对情况）。",
        responses={200: api.CriterionSerializer, **errors(401, 404)},
    ),
    create=extend_schema(
        summary="新增判定依据条目（管理员）",
        description=CRITERION_WRITE_RULES,
        request=api.CriterionInputSerializer,
        responses={201: api.CriterionSerializer, **errors(400, 401, 403)},
    ),
    partial_update=extend_schema(
        summary="修改判定依据条目（管理员）",
        description=CRITERION_WRITE_RULES,
        request=api.CriterionInputSerializer,
        responses={200: api.CriterionSerializer, **errors(400, 401, 403, 404)},
    ),
)
class CriterionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, HazardsViewSet
):
    model = MajorHazardCriterion
    serializer_class = api.CriterionSerializer
    permission_classes = [IsAuthenticated, RoleWritePermission]
    write_roles = ADMINS
    filter_backends = [ScopedFilterBackend]
    filterset_class = CriterionFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[MajorHazardCriterion]:
        return selectors.criterion_list(active_only=False, user=_user(self.request))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = api.CriterionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            criterion = services.criterion_create(actor=_user(request), data=dict(serializer.validated_data))
        return Response(api.CriterionSerializer(criterion).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        criterion = self.get_object()
        serializer = api.CriterionInputSerializer(criterion, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            criterion = services.criterion_update(
                actor=_user(request), criterion=criterion, data=dict(serializer.validated_data)
            )
        return Response(api.CriterionSerializer(criterion).data)


# --- Work queue and notifications ----------------------------------------------------------------------------------


@extend_schema(tags=["隐患"])
@extend_schema_view(
    list=extend_schema(
        summary="待办",
        description=(
            "等待当前用户办理的隐患（按角色：主要负责人签字、镇确认、县确认、落实整改、申请销号审核、验收、延期审批），"
            "整改时限近的在前。整改填报人自己的整改不在其待办中。"
        ),
        responses={200: api.WorkQueueItemSerializer, **errors(400, 401, 404)},
    ),
)
class WorkQueueViewSet(mixins.ListModelMixin, HazardsViewSet):
    model = Hazard
    pagination_class = HazardPagination
    serializer_class = api.WorkQueueItemSerializer
    permission_classes = [IsAuthenticated]
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Hazard]:
        pending = ExtensionRequest.objects.filter(hazard=OuterRef("pk"), status=ExtensionStatus.PENDING)
        return selectors.work_queue(user=_user(self.request)).annotate(extension_pending=Exists(pending))

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["waiting"] = queued_actions(_user(self.request))
        return context


class NotificationFilterSet(django_filters.FilterSet):
    is_read = django_filters.BooleanFilter(label="已读")
    kind = django_filters.ChoiceFilter(label="类型", choices=Notification._meta.get_field("kind").choices)

    class Meta:
        model = Notification
        fields = ["is_read", "kind"]

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)


@extend_schema(tags=["站内通知"])
@extend_schema_view(
    list=extend_schema(
        summary="我的通知",
        description="当前用户的站内通知（待办、到期提醒、逾期提醒、办理结果），最新的在前；可按已读和类型筛选。",
        responses={200: api.NotificationSerializer, **errors(400, 401, 404)},
    ),
)
class NotificationViewSet(mixins.ListModelMixin, HazardsViewSet):
    model = Notification
    serializer_class = api.NotificationSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = [ScopedFilterBackend]
    filterset_class = NotificationFilterSet

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return Notification.objects.none()
        return selectors.notification_list(user=_user(self.request))

    @extend_schema(
        summary="标为已读",
        description="将指定编号（ids）的通知标为已读；不填 ids 则全部标为已读。只影响您自己的通知。",
        request=api.MarkReadInputSerializer,
        responses={200: api.MarkReadResultSerializer, **errors(400, 401)},
    )
    @action(detail=False, methods=["post"], url_path="mark-read")
    def mark_read(self, request: Request) -> Response:
        serializer = api.MarkReadInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ids = serializer.validated_data.get("ids")
        count = services.notification_mark_read(actor=_user(request), notification_ids=ids)
        return Response({"updated": count})
