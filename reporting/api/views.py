"""REST API of the monthly tables (/api/v1/…), on the directory API's plumbing.

Reading: reports and their versions through `visible_to` (out of scope → 404, logged by
`ScopedViewSet`); a table's live figures for a region the user may see. Writing: an export job
(the file is built on the worker; poll the job). Enterprise accounts see none of it.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal import reauth, rules
from portal.api.serializers import ErrorSerializer
from portal.api.views import AUTHENTICATION, ScopedViewSet, errors, log_denied
from portal.models import Region, User
from reporting import selectors, services
from reporting.api import serializers as api
from reporting.choices import ReportKind
from reporting.figures import ReportError, compute_table, parse_month
from reporting.models import ExportJob, Report, ReportVersion
from reporting.tables import to_json


def _user(request: Request) -> User:
    return request.user  # type: ignore[return-value]


def _region_or_404(request: Request, code: str) -> Region:
    """A region the user may report on; a region that exists but is refused is logged as 越权访问."""
    try:
        return selectors.region_for(user=_user(request), code=code)
    except Http404:
        refused = Region.objects.filter(code=code).values_list("pk", flat=True).first()
        if refused is not None:
            log_denied(request, Region, refused)
        raise


@extend_schema(tags=["月度报表"])
@extend_schema_view(
    list=extend_schema(
        summary="月度报表列表", description="您辖区内各单位各月的报表及其版本（草稿、已报送、已签字）。"
    ),
    retrieve=extend_schema(
        summary="月度报表详情",
        description="各版本的数据快照、来源记录编号、文件校验值（SHA-256）及与已签字版本的差异。",
        responses={200: api.ReportDetailSerializer, **errors(401, 404)},
    ),
)
class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    model = Report
    permission_classes = [IsAuthenticated]
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Report]:
        return (
            selectors.report_list(user=_user(self.request))
            .select_related("region", "campaign")
            .prefetch_related("versions")
            .order_by("-month", "kind", "region__code", "id")
        )

    def get_serializer_class(self) -> Any:
        return api.ReportDetailSerializer if self.action == "retrieve" else api.ReportSerializer


class ReportTableView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["月度报表"],
        summary="报表当前数据",
        description=(
            "按记录实时计算的整张报表（kind：accountability 追责问责情况统计表，winter 冬季行动工作报表，"
            "three-lists 三清单；month：YYYY-MM）。每个数字附其背后记录的页面地址。"
        ),
        responses={200: api.TableSerializer, **errors(401, 404)},
    )
    def get(self, request: Request, kind: str, code: str, month: str) -> Response:
        try:
            report_kind = ReportKind.from_cli(kind)
            first = parse_month(month)
        except (ValueError, ReportError) as exc:
            raise Http404 from exc
        region = _region_or_404(request, code)
        try:
            scope = selectors.scope_for(kind=report_kind, region=region, month=first)
        except ReportError as exc:
            raise Http404(exc.message) from exc
        table = compute_table(report_kind, scope)
        data = {
            "kind": report_kind.value,
            "title": table.heading.title,
            "unit_name": table.heading.unit_name,
            "campaign": scope.campaign.name,
            "period": scope.period.description,
            "cells": api.cell_rows(report_kind, table, region.code, f"{first:%Y-%m}"),
            "figures": to_json(table),
        }
        return Response(api.TableSerializer(data).data)


class ExportCreateView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["月度报表"],
        summary="生成报表文件",
        description=(
            "按当前记录在后台生成 Excel 或 PDF（未签字的草稿文件）；返回任务，轮询任务直到完成后下载。"
            "同一用户对同一报表、同一格式已有排队中或生成中的任务时，返回该任务，不重复生成。"
        ),
        request=api.ExportRequestSerializer,
        responses={
            202: api.ExportJobSerializer,
            400: OpenApiResponse(description="输入有误：按字段列出的中文错误信息。"),
            **errors(401, 404),
            429: OpenApiResponse(response=ErrorSerializer, description="导出请求过于频繁，请稍后再试。"),
        },
    )
    def post(self, request: Request) -> Response:
        user = _user(request)
        form = api.ExportRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        region = _region_or_404(request, form.validated_data["region"])
        kind = form.validated_data["kind"]
        try:
            month = parse_month(form.validated_data["month"])
            selectors.scope_for(kind=kind, region=region, month=month)
        except ReportError as exc:
            raise ValidationError({"month": [exc.message]}) from exc
        try:
            job = services.export_request(
                actor=user, kind=kind, region=region, month=month, file_format=form.validated_data["file_format"]
            )
        except services.ExportRateLimited as exc:
            raise Throttled(detail=exc.message) from exc
        return Response(api.ExportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class VersionSignView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["月度报表"],
        summary="分管负责人签字",
        description=(
            "对已报送的版本申请签字：fingerprint 填签字前读取的该版本的 sign_fingerprint，"
            "password 填签字人本人的登录密码（已启用两步验证的账号另填 otp_code）；身份确认失败返回 400，不申请签字。"
            "后台任务只在版本未被"
            "重新报送、数据未变化、签字人仍为本县在岗的分管负责人时签字并冻结；否则任务失败并给出中文原因，"
            "报表不冻结。签字处理完成前，该版本不能重新报送或更新。返回签字任务，轮询任务直到完成。"
        ),
        request=api.SignRequestSerializer,
        responses={
            202: api.ExportJobSerializer,
            400: OpenApiResponse(description="输入有误：按字段列出的中文错误信息。"),
            409: OpenApiResponse(
                description="版本已被重新报送、数据已变化或版本不是已报送状态：中文原因，未申请签字。"
            ),
            **errors(401, 403, 404),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        try:
            version = selectors.version_get(user=user, pk=pk)
        except Http404:
            log_denied(request, ReportVersion, pk)
            raise
        rules.require(user, "reporting.sign", version.report)
        form = api.SignRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:  # outside any transaction: the failure counters and audit rows stay
            reauth.reauthenticate(
                request=request,
                user=user,
                password=form.validated_data["password"],
                otp_code=form.validated_data.get("otp_code", ""),
                purpose="报表签字",
            )
        except DjangoValidationError as exc:
            return Response({"password": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
        try:
            job = services.sign_request(actor=user, version=version, fingerprint=form.validated_data["fingerprint"])
        except ReportError as exc:
            return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
        return Response(api.ExportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ExportDetailView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["月度报表"],
        summary="报表任务状态",
        description="排队中、生成中、已完成（附下载地址）或失败（附中文错误信息）。",
        responses={200: api.ExportJobSerializer, **errors(401, 404)},
    )
    def get(self, request: Request, pk: Any) -> Response:
        try:
            job = selectors.export_get(user=_user(request), pk=pk)
        except Http404:
            log_denied(request, ExportJob, pk)
            raise
        return Response(api.ExportJobSerializer(job).data)
