"""REST API of campaigns and field work (/api/v1/…), on the directory API's plumbing.

Reading: every queryset comes from `visible_to(request.user)` (out of scope → 404, logged as 越权访问
by `ScopedViewSet`). Writing: the services decide role and scope (a town records for its own
enterprises; an enterprise files only its own report; only its principal signs) — a refusal is a 403
with the Chinese reason, a validation error a 400 by field, and nothing is saved.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hazards.models import Hazard, MajorHazardCriterion
from inspections import deliverables, quotas, selectors, services, warning_services, warnings
from inspections.api import serializers as api
from inspections.choices import WarningKind
from inspections.filters import DutyLogFilterSet, EnforcementRecordFilterSet, ExamFilterSet, InspectionFilterSet
from inspections.models import (
    Campaign,
    DeliverableSubmission,
    EnforcementRecord,
    Exam,
    Inspection,
    InspectionTeam,
    PrincipalDutyLog,
    SelfCheckReport,
    TownProgressReport,
    WarningResolution,
)
from inspections.views import parse_month, warning_filters
from inspections.warning_listing import WarningListing
from portal import rules
from portal.api.views import AUTHENTICATION, ScopedFilterBackend, ScopedViewSet, errors, service_errors
from portal.models import User

UPLOAD_PARSERS = (MultiPartParser, FormParser, JSONParser)


def _user(request: Request) -> User:
    return request.user  # type: ignore[return-value]


# --- Campaigns --------------------------------------------------------------------------------


@extend_schema(tags=["专项行动"])
@extend_schema_view(
    list=extend_schema(summary="专项行动列表", description="本县及上级发布、适用于您辖区或企业的专项行动。"),
    retrieve=extend_schema(
        summary="专项行动详情",
        description="阶段、检查内容、工作指标和报送材料（含各期截止日期）。",
        responses={200: api.CampaignDetailSerializer, **errors(401, 404)},
    ),
)
class CampaignViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    model = Campaign
    permission_classes = [IsAuthenticated]
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Campaign]:
        campaigns = selectors.campaign_list(user=_user(self.request))
        if self.action != "retrieve":  # the list shows none of them: 5 queries saved per page
            return campaigns
        return campaigns.prefetch_related("phases", "checklist_areas__items", "quotas", "deliverables")

    def get_serializer_class(self) -> Any:
        return api.CampaignDetailSerializer if self.action == "retrieve" else api.CampaignSerializer

    @extend_schema(
        summary="材料报送情况（镇 × 材料）",
        description="每个镇每项材料每一期：按时、逾期提交、未提交、未到期；企业报送的材料按镇统计企业数。",
        responses={200: api.MatrixRowSerializer(many=True), **errors(401, 403, 404)},
    )
    @action(detail=True, methods=["get"])
    def matrix(self, request: Request, pk: str | None = None) -> Response:
        user = _user(request)
        campaign = self.get_object()
        if user.enterprise_id is not None:
            raise services.PermissionDenied("材料报送情况供镇应急管理中心和县局查看。")
        result = deliverables.matrix(
            campaign=campaign, towns=selectors.towns_for(user=user, county=campaign.issuing_region)
        )
        rows = [
            {
                "town": row.town.pk,
                "town_name": row.town.name,
                "cells": [
                    {
                        "deliverable": column.deliverable.pk,
                        "name": column.deliverable.name,
                        "due": column.due,
                        "status": cell.status,
                        "dates": cell.dates,
                        "counts": cell.counts,
                    }
                    for column, cell in zip(result.columns, row.cells, strict=True)
                ],
            }
            for row in result.rows
        ]
        return Response(api.MatrixRowSerializer(rows, many=True).data)


# --- Enforcement records ----------------------------------------------------------------------


@extend_schema(tags=["执法与追责问责"])
@extend_schema_view(
    list=extend_schema(
        summary="执法与追责问责记录列表", responses={200: api.EnforcementRecordSerializer, **errors(400, 401)}
    ),
    retrieve=extend_schema(summary="记录详情", responses={200: api.EnforcementRecordSerializer, **errors(401, 404)}),
    create=extend_schema(
        summary="登记记录",
        description="实施单位为登记人所在的镇或县局；镇只能为本镇企业登记。行政处罚须填金额（万元）。",
        request=api.EnforcementInputSerializer,
        responses={201: api.EnforcementRecordSerializer, **errors(400, 401, 403)},
    ),
    partial_update=extend_schema(
        summary="修改记录",
        description="只有实施单位可以修改。",
        request=api.EnforcementInputSerializer,
        responses={200: api.EnforcementRecordSerializer, **errors(400, 401, 403, 404)},
    ),
    destroy=extend_schema(
        summary="删除记录", description="只有实施单位可以删除。", responses={204: None, **errors(401, 403, 404)}
    ),
)
class EnforcementRecordViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ScopedViewSet,
):
    model = EnforcementRecord
    serializer_class = api.EnforcementRecordSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = [ScopedFilterBackend]
    filterset_class = EnforcementRecordFilterSet
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[EnforcementRecord]:
        return selectors.enforcement_list(user=_user(self.request)).prefetch_related("attachments", "hazards")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = api.EnforcementInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        with service_errors():
            record = services.enforcement_record_create(actor=_user(request), **serializer.validated_data)
        return Response(api.EnforcementRecordSerializer(record).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        record = self.get_object()
        rules.require(_user(request), "inspections.change_unit_record", record.issuing_unit)
        serializer = api.EnforcementInputSerializer(
            record, data=request.data, partial=True, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        with service_errors():
            record = services.enforcement_record_update(
                actor=_user(request), record=record, data=dict(serializer.validated_data)
            )
        return Response(api.EnforcementRecordSerializer(record).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        record = self.get_object()
        services.enforcement_record_delete(actor=_user(request), record=record)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    tags=["执法与追责问责"],
    summary="记录类型及其在月度报表中的栏目",
    description="每种类型在追责问责情况统计表和冬季行动工作报表中各只计入一个栏目（或不计入）。",
    responses={200: api.EnforcementKindSerializer(many=True)},
)
class EnforcementKindsView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response(api.EnforcementKindSerializer(api.EnforcementKindSerializer.rows(), many=True).data)


# --- Inspections ------------------------------------------------------------------------------


@extend_schema(tags=["检查"])
@extend_schema_view(
    list=extend_schema(summary="检查记录列表", responses={200: api.InspectionSerializer, **errors(400, 401)}),
    retrieve=extend_schema(summary="检查记录详情", responses={200: api.InspectionSerializer, **errors(401, 404)}),
    create=extend_schema(
        summary="登记检查",
        description="检查单位为登记人所在的镇或县局；镇只能检查本镇企业。",
        request=api.InspectionInputSerializer,
        responses={201: api.InspectionSerializer, **errors(400, 401, 403)},
    ),
    partial_update=extend_schema(
        summary="修改检查记录",
        request=api.InspectionInputSerializer,
        responses={200: api.InspectionSerializer, **errors(400, 401, 403, 404)},
    ),
    destroy=extend_schema(summary="删除检查记录", responses={204: None, **errors(400, 401, 403, 404)}),
)
class InspectionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ScopedViewSet,
):
    model = Inspection
    serializer_class = api.InspectionSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = [ScopedFilterBackend]
    filterset_class = InspectionFilterSet
    parser_classes = UPLOAD_PARSERS  # type: ignore[assignment]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Inspection]:
        return selectors.inspection_list(user=_user(self.request)).prefetch_related("photos", "hazards")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = api.InspectionInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        with service_errors():
            inspection = services.inspection_create(actor=_user(request), **serializer.validated_data)
        return Response(api.InspectionSerializer(inspection).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        inspection = self.get_object()
        serializer = api.InspectionInputSerializer(
            inspection, data=request.data, partial=True, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        with service_errors():
            inspection = services.inspection_update(
                actor=_user(request), inspection=inspection, data=dict(serializer.validated_data)
            )
        return Response(api.InspectionSerializer(inspection).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        inspection = self.get_object()
        with service_errors():
            services.inspection_delete(actor=_user(request), inspection=inspection)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="登记检查发现的隐患",
        description="通过隐患模块上报（来源为镇检查、县局检查或专家体检），并关联到本次检查。",
        request=api.InspectionHazardInputSerializer,
        responses={201: api.HazardRefSerializer, **errors(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def hazards(self, request: Request, pk: str | None = None) -> Response:
        inspection = self.get_object()
        serializer = api.InspectionHazardInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = {k: v for k, v in serializer.validated_data.items() if v not in (None, "")}
        if "criterion" in data:
            data["criterion"] = get_object_or_404(MajorHazardCriterion, pk=data["criterion"])
        with service_errors():
            hazard = services.inspection_report_hazard(actor=_user(request), inspection=inspection, **data)
        body = {"id": hazard.pk, "level": hazard.level, "status": hazard.status, "hazard_source": hazard.source}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="上传现场照片", request={"multipart/form-data": api.UploadSerializer},
        responses={201: api.PhotoSerializer, **errors(400, 401, 403, 404)},
    )  # fmt: skip
    @action(detail=True, methods=["post"])
    def photos(self, request: Request, pk: str | None = None) -> Response:
        inspection = self.get_object()
        serializer = api.UploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            photo = services.inspection_photo_add(
                actor=_user(request), inspection=inspection, upload=serializer.validated_data["file"],
                caption=serializer.validated_data["caption"],
            )  # fmt: skip
        return Response(api.PhotoSerializer(photo).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["检查"])
@extend_schema_view(
    list=extend_schema(summary="督查组列表"),
    create=extend_schema(
        summary="登记督查组",
        request=api.TeamInputSerializer,
        responses={201: api.TeamSerializer, **errors(400, 401, 403)},
    ),
)
class TeamViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, ScopedViewSet):
    model = InspectionTeam
    serializer_class = api.TeamSerializer
    permission_classes = [IsAuthenticated]
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[InspectionTeam]:
        return selectors.team_list(user=_user(self.request))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = api.TeamInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        with service_errors():
            team = services.inspection_team_create(actor=_user(request), **serializer.validated_data)
        return Response(api.TeamSerializer(team).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["检查"])
@extend_schema_view(
    list=extend_schema(summary="逢查必考记录列表"),
    retrieve=extend_schema(summary="考试记录详情"),
    create=extend_schema(
        summary="登记考试或补考",
        description="补考仍不合格的，列入通报曝光预警，并建议企业调整主要负责人。",
        request=api.ExamInputSerializer,
        responses={201: api.ExamSerializer, **errors(400, 401, 403)},
    ),
)
class ExamViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet):
    model = Exam
    serializer_class = api.ExamSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = [ScopedFilterBackend]
    filterset_class = ExamFilterSet

    def get_queryset(self) -> QuerySet[Exam]:
        return selectors.exam_list(user=_user(self.request))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = api.ExamInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        with service_errors():
            exam = services.exam_record(actor=_user(request), **serializer.validated_data)
        return Response(api.ExamSerializer(exam).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["履职台账"])
@extend_schema_view(
    list=extend_schema(
        summary="主要负责人履职台账列表", description="每条台账附当月各项指标的核算（真实工作日，含调休）。"
    ),
    retrieve=extend_schema(summary="履职台账详情"),
    create=extend_schema(
        summary="填报（或更新）某月履职台账",
        request=api.DutyLogInputSerializer,
        responses={201: api.DutyLogSerializer, **errors(400, 401, 403)},
    ),
)
class DutyLogViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet):
    model = PrincipalDutyLog
    serializer_class = api.DutyLogSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = [ScopedFilterBackend]
    filterset_class = DutyLogFilterSet

    def get_queryset(self) -> QuerySet[PrincipalDutyLog]:
        return selectors.duty_log_list(user=_user(self.request))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = api.DutyLogInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        with service_errors():
            log = services.duty_log_save(actor=_user(request), **serializer.validated_data)
        return Response(api.DutyLogSerializer(log).data, status=status.HTTP_201_CREATED)


# --- Self-check reports -----------------------------------------------------------------------


@extend_schema(tags=["自查自改报告"])
@extend_schema_view(
    list=extend_schema(summary="自查自改报告列表"),
    retrieve=extend_schema(summary="自查自改报告详情（含逐项回答）"),
    create=extend_schema(
        summary="开始填写（或取回）草稿",
        description="企业本身或所在镇应急管理中心（代企业填报）。",
        request=api.SelfCheckStartSerializer,
        responses={201: api.SelfCheckReportSerializer, **errors(400, 401, 403)},
    ),
)
class SelfCheckReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet):
    model = SelfCheckReport
    serializer_class = api.SelfCheckReportSerializer
    permission_classes = [IsAuthenticated]
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[SelfCheckReport]:
        queryset = SelfCheckReport.objects.visible_to(_user(self.request)).select_related("enterprise")
        campaign = self.request.query_params.get("campaign")
        if campaign and campaign.isdigit():
            queryset = queryset.filter(campaign_id=int(campaign))
        return queryset.prefetch_related("answers__item", "answers__evidence", "hazards").order_by("id")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = api.SelfCheckStartSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        with service_errors():
            report = services.self_check_start(actor=_user(request), **serializer.validated_data)
        return Response(api.SelfCheckReportSerializer(report).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="保存一项回答（草稿）", request=api.AnswerInputSerializer,
        responses={200: api.AnswerSerializer, **errors(400, 401, 403, 404)},
    )  # fmt: skip
    @action(detail=True, methods=["post"])
    def answers(self, request: Request, pk: str | None = None) -> Response:
        report = self.get_object()
        serializer = api.AnswerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = get_object_or_404(report.answers.select_related("item"), item_id=serializer.validated_data["item"])
        with service_errors():
            row = services.self_check_answer(
                actor=_user(request), report=report, item=row.item, answer=serializer.validated_data["answer"],
                note=serializer.validated_data["note"],
            )  # fmt: skip
        return Response(api.AnswerSerializer(row).data)

    @extend_schema(
        summary="保存综述和自查发现的隐患（草稿）", request=api.SummaryInputSerializer,
        responses={200: api.SelfCheckReportSerializer, **errors(400, 401, 403, 404)},
    )  # fmt: skip
    @action(detail=True, methods=["post"])
    def summary(self, request: Request, pk: str | None = None) -> Response:
        report = self.get_object()
        serializer = api.SummaryInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        hazards = None
        if "hazards" in serializer.validated_data:
            hazards = list(
                Hazard.objects.visible_to(_user(request)).filter(pk__in=serializer.validated_data["hazards"])
            )
        with service_errors():
            report = services.self_check_update(
                actor=_user(request), report=report, summary=serializer.validated_data.get("summary"), hazards=hazards
            )
        return Response(api.SelfCheckReportSerializer(report).data)

    @extend_schema(
        summary="主要负责人签字并报送",
        description=(
            "主要负责人本人账号：只填密码；在企业或镇应急管理中心的设备上当面签字：填写主要负责人的账号和密码。"
            "全部检查项回答后才能签字；签字后报告只读。fingerprint 填签字前读取的报告详情中的 fingerprint，"
            "报告内容（检查内容、回答、佐证材料、综述、隐患）此后有变化则拒绝签字。"
        ),
        request=api.SignInputSerializer,
        responses={200: api.SelfCheckReportSerializer, **errors(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, pk: str | None = None) -> Response:
        user = _user(request)
        report = self.get_object()
        serializer = api.SignInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        own = rules.may(user, "inspections.sign_self_check", report.enterprise)
        username = user.get_username() if own else serializer.validated_data.get("username", "")
        signer = services.self_check_authenticate_signer(
            request=request._request,
            actor=user,
            report=report,
            username=username,
            password=serializer.validated_data["password"],
            otp_code=serializer.validated_data.get("otp_code", ""),
        )
        if signer is None:
            raise api.serializers.ValidationError({"password": [services.SIGNER_REFUSED]})
        with service_errors():
            report = services.self_check_sign(
                actor=user,
                report=report,
                signer=signer,  # type: ignore[arg-type]
                fingerprint=serializer.validated_data["fingerprint"],
            )
        return Response(api.SelfCheckReportSerializer(report).data)


# --- Progress and submissions -----------------------------------------------------------------


@extend_schema(tags=["专项行动"])
@extend_schema_view(
    list=extend_schema(summary="镇阶段性进展列表"),
    create=extend_schema(
        summary="保存（或报送）本镇某阶段进展",
        request=api.ProgressInputSerializer,
        responses={201: api.ProgressSerializer, **errors(400, 401, 403)},
    ),
)
class ProgressViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, ScopedViewSet):
    model = TownProgressReport
    serializer_class = api.ProgressSerializer
    permission_classes = [IsAuthenticated]
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[TownProgressReport]:
        return TownProgressReport.objects.visible_to(_user(self.request)).select_related("town").order_by("id")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = api.ProgressInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        with service_errors():
            report = services.progress_save(actor=_user(request), **serializer.validated_data)
        return Response(api.ProgressSerializer(report).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["专项行动"])
@extend_schema_view(
    list=extend_schema(summary="材料报送记录列表"),
    create=extend_schema(
        summary="报送材料（上传或填写）",
        request={"multipart/form-data": api.SubmissionInputSerializer},
        responses={201: api.SubmissionSerializer, **errors(400, 401, 403)},
    ),
)
class SubmissionViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, ScopedViewSet):
    model = DeliverableSubmission
    serializer_class = api.SubmissionSerializer
    permission_classes = [IsAuthenticated]
    filter_backends: list[Any] = []
    parser_classes = UPLOAD_PARSERS  # type: ignore[assignment]

    def get_queryset(self) -> QuerySet[DeliverableSubmission]:
        return DeliverableSubmission.objects.visible_to(_user(self.request)).order_by("-submitted_at", "-id")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = api.SubmissionInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        with service_errors():
            submission = services.submission_create(actor=_user(request), **serializer.validated_data)
        return Response(api.SubmissionSerializer(submission).data, status=status.HTTP_201_CREATED)


# --- Roll-ups ---------------------------------------------------------------------------------


def _coverage_row(row: quotas.UnitCoverage) -> dict[str, Any]:
    return {
        "unit": row.unit.pk, "unit_name": row.unit.name, "start": row.window[0], "end": row.window[1],
        "targets": len(row.targets), "inspected": len(row.inspected), "rate": row.rate,
        "required_rate": row.required_rate, "met": row.met, "missing": [e.pk for e in row.missing],
    }  # fmt: skip


@extend_schema(
    tags=["检查"],
    summary="检查覆盖情况",
    description="各镇检查本镇正常生产建设企业的覆盖率（要求100%），县局检查全县企业的覆盖率（要求不少于30%）。",
    parameters=[
        OpenApiParameter("campaign", OpenApiTypes.INT, description="专项行动编号（默认当前进行中的行动）"),
        OpenApiParameter("month", OpenApiTypes.STR, description="月份，如 2023-12（默认本月）"),
        OpenApiParameter("county", OpenApiTypes.STR, description="县（市、区）的行政区划代码（市局用户选择）"),
    ],
    responses={200: api.CoverageSerializer, **errors(401, 403, 404)},
)
class CoverageView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        user = _user(request)
        if user.enterprise_id is not None:
            raise services.PermissionDenied("检查覆盖情况供镇应急管理中心和县局查看。")
        campaigns = selectors.campaign_list(user=user)
        requested = request.query_params.get("campaign")
        today = timezone.localdate()
        campaign = (
            get_object_or_404(campaigns, pk=int(requested))
            if requested and requested.isdigit()
            else campaigns.filter(start_date__lte=today, end_date__gte=today).first()
        )
        month = parse_month(request.query_params.get("month"), today)
        counties = selectors.counties_for(user=user)
        county = selectors.county_choice(user=user, requested=request.query_params.get("county"), counties=counties)
        body: dict[str, Any] = {
            "campaign": campaign.pk if campaign else None,
            "month": month,
            "towns": [],
            "county": None,
        }
        if county is not None:
            result = quotas.coverage(
                county=county, towns=selectors.towns_for(user=user, county=county), campaign=campaign, month=month
            )
            body["towns"] = [_coverage_row(row) for row in result.towns]
            town_user = user.region is not None and user.region.level == "town"
            body["county"] = _coverage_row(result.county) if result.county is not None and not town_user else None
        return Response(api.CoverageSerializer(body).data)


def _warning_row(w: warnings.Warning) -> dict[str, Any]:
    resolution = w.resolution
    return {
        "key": w.key,
        "kind": w.kind,
        "kind_label": w.kind_label,
        "severity": w.severity,
        "severity_label": w.severity_label,
        "subject": w.subject,
        "title": w.title,
        "on": w.on,
        "url": w.url,
        "enterprise": w.enterprise.pk if w.enterprise else None,
        "region": w.region.pk if w.region else None,
        "evidence": [{"text": e.text, "url": e.url} for e in w.evidence],
        "actions": [{"label": label, "url": url} for label, url in w.actions],
        "resolution": _resolution_row(resolution) if resolution is not None else None,
    }


def _resolution_row(resolution: WarningResolution) -> dict[str, Any]:
    by = resolution.resolved_by
    return {
        "note": resolution.note,
        "record": resolution.record_id,
        "record_url": resolution.record.get_absolute_url() if resolution.record is not None else "",
        "resolved_by": (by.full_name or by.get_username()) if by is not None else "",
        "resolved_at": resolution.resolved_at,
    }


@extend_schema(
    tags=["预警"],
    summary="预警",
    description=(
        "由记录自动得出（与预警页面、统计分析和工作台同一套规则）：隐患整改逾期、自查自改走过场、"
        "重大事故隐患长期存在、同类重大事故隐患反复出现、未达到工作指标、逢查必考补考不合格、"
        "安全生产许可证到期、人员证书到期、材料和报表逾期未报送。每条预警带类型、严重程度、对象、"
        "起始日期、依据链接和处理情况。按时间倒序分页返回（offset、limit），总条数见响应头 X-Total-Count。"
    ),
    parameters=[
        OpenApiParameter("month", OpenApiTypes.STR, description="指标核算的月份，如 2024-05（默认上个月）"),
        OpenApiParameter("kind", OpenApiTypes.STR, description="只看某类预警", enum=WarningKind.values),
        OpenApiParameter("region", OpenApiTypes.STR, description="只看某辖区（行政区划代码）"),
        OpenApiParameter("enterprise", OpenApiTypes.INT, description="只看某企业（企业编号）"),
        OpenApiParameter("open", OpenApiTypes.BOOL, description="true：只看尚未处理的预警"),
        OpenApiParameter("offset", OpenApiTypes.INT, description="跳过前若干条（分页，默认 0）"),
        OpenApiParameter("limit", OpenApiTypes.INT, description="本次最多返回条数（默认 100，最多 1000）"),
    ],
    responses={200: api.WarningSerializer(many=True), **errors(401, 404)},
)
class WarningView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        today = timezone.localdate()
        params = request.query_params
        month = parse_month(params.get("month"), warnings.last_complete_month(today))
        kind = params.get("kind") or None
        region, enterprise = warning_filters(request)
        only_open = params.get("open", "").lower() in ("1", "true", "yes")
        found = WarningListing(
            user=_user(request), today=today, month=month, kinds={kind} if kind else None, region=region,
            enterprise=enterprise, only_open=only_open,
        )  # fmt: skip
        offset, limit = _bounded(params.get("offset"), 0, len(found)), _bounded(params.get("limit"), 1, WARNINGS_MAX)
        rows = [_warning_row(w) for w in found[offset : offset + (limit or WARNINGS_PAGE)]]
        response = Response(api.WarningSerializer(rows, many=True).data)
        response["X-Total-Count"] = str(len(found))
        return response


WARNINGS_PAGE = 100  # warnings per answer unless `limit` says otherwise (the superuser's scope holds 300,000)
WARNINGS_MAX = 1000


def _bounded(value: str | None, low: int, high: int) -> int:
    """A non-negative integer parameter clamped to [low, high]; 0 when absent or not a number."""
    try:
        number = int(value or "")
    except ValueError:
        return 0
    return max(low, min(number, high))


@extend_schema(
    tags=["预警"],
    summary="登记预警的处理情况",
    description=(
        "镇应急管理中心、县局股室登记辖区内一条预警的处理情况：关联该企业的约谈、处罚记录（record），"
        "或填写处理说明（note）。再次登记覆盖之前的处理情况，均记入操作日志。"
    ),
    request=api.WarningResolveSerializer,
    responses={200: api.WarningSerializer, **errors(400, 401, 403)},
)
class WarningResolveView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

    def post(self, request: Request) -> Response:
        user = _user(request)
        rules.require(user, "inspections.record_field_work")
        data = api.WarningResolveSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        with service_errors():
            resolution = warning_services.warning_resolve(
                actor=user, key=values["key"], note=values.get("note", ""), record=values.get("record")
            )
            warning = warning_services.warning_find(user=user, key=resolution.key)
        return Response(api.WarningSerializer(_warning_row(warning)).data)
