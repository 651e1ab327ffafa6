"""The filing loop through the API (issue 13 §4–5): a town or the county submits its monthly table (the
page's 生成草稿 + 报送), and anyone in scope checks whether a file is byte for byte a signed version (the
page 核验已签字文件). Both call the services the pages call."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal import limits, rules
from portal.api.views import AUTHENTICATION, errors
from reporting import selectors, services, signing
from reporting.api import serializers as api
from reporting.api.views import _region_or_404, _user
from reporting.choices import ReportKind
from reporting.figures import ReportError, parse_month
from reporting.models import Report


class SubmitInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    missing_reason = serializers.CharField(
        label="未报送原因",
        required=False,
        allow_blank=True,
        max_length=limits.TEXT_COMMENT,
        help_text="县局报送时仍有镇未报送本月报表的，必填：原因印在报表备注中，分管负责人签字前可见。",
    )


class SubmittedVersionSerializer(api.ReportVersionSerializer):
    class Meta(api.ReportVersionSerializer.Meta):
        fields = [*api.ReportVersionSerializer.Meta.fields, "report", "missing_towns", "missing_reason"]
        read_only_fields = fields


class TableSubmitView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["月度报表"],
        summary="报送报表",
        description=(
            "填报单位按最新记录生成本月报表并报送（镇报县局；县局报分管负责人签字）。镇报送后，专项行动中对应的"
            "材料报送即记为已报送。县局报送时仍有镇未报送的，须填写 missing_reason，否则返回 400 并列出未报送的镇。"
        ),
        request=SubmitInputSerializer,
        responses={
            200: SubmittedVersionSerializer,
            400: OpenApiResponse(description="未填写未报送原因等：中文原因。"),
            **errors(401, 403, 404),
        },
    )
    def post(self, request: Request, kind: str, code: str, month: str) -> Response:
        user = _user(request)
        try:
            report_kind = ReportKind.from_cli(kind)
            first = parse_month(month)
        except (ValueError, ReportError) as exc:
            raise Http404 from exc
        region = _region_or_404(request, code)
        if not rules.may(user, "reporting.submit", Report(kind=report_kind, region=region)):
            raise PermissionDenied("只有填报单位的工作人员可以报送这张报表。")
        data = SubmitInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            scope = selectors.scope_for(kind=report_kind, region=region, month=first)
        except ReportError as exc:
            raise Http404(exc.message) from exc
        try:
            report = services.report_get_or_create(
                kind=report_kind, region=region, campaign=scope.campaign, month=first,
                due_day=selectors.due_day(report_kind, scope.campaign),
            )  # fmt: skip
            version = services.report_refresh(actor=user, report=report)
            version = services.report_submit(
                actor=user, version=version, missing_reason=data.validated_data.get("missing_reason", "")
            )
        except ReportError as exc:
            return Response({"missing_reason": [exc.message]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(SubmittedVersionSerializer(version).data)


class VerifyInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    file = serializers.FileField(label="文件", help_text="要核验的 Excel 或 PDF 文件（本门户生成的已签字文件）。")


class VerifyResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    match = serializers.BooleanField(help_text="是否与本辖区某一已签字版本的文件逐字节一致")
    version = serializers.IntegerField(allow_null=True, help_text="一致时：报表版本编号")
    number = serializers.IntegerField(allow_null=True, help_text="一致时：版本号")
    report = serializers.CharField(help_text="一致时：报表名称（单位、月份、报表）")
    file_format = serializers.CharField(help_text="一致时：xlsx 或 pdf")
    signed_by = serializers.CharField(help_text="一致时：签字人")
    signed_at = serializers.DateTimeField(allow_null=True, help_text="一致时：签字时间")
    verification_code = serializers.CharField(help_text="一致时：校验码（印在签字行）")


class VerifyView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]

    @extend_schema(
        tags=["月度报表"],
        summary="核验已签字文件",
        description="上传一个文件：是否与本辖区某一已签字版本的 Excel 或 PDF 逐字节一致，一致时给出是哪一版。",
        request={"multipart/form-data": VerifyInputSerializer},
        responses={200: VerifyResultSerializer, **errors(400, 401)},
    )
    def post(self, request: Request) -> Response:
        data = VerifyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        if upload.size is None or upload.size > settings.UPLOAD_MAX_BYTES:
            max_mb = settings.UPLOAD_MAX_BYTES // (1024 * 1024)
            raise serializers.ValidationError({"file": [f"文件超过 {max_mb} MB，不是本门户生成的已签字文件，未核验。"]})
        # a match outside the scope is answered as none (and logged as 越权访问 by find_signed)
        found = signing.find_signed(user=_user(request), content=upload.read())
        result: dict[str, Any] = {
            "match": found is not None, "version": None, "number": None, "report": "", "file_format": "",
            "signed_by": "", "signed_at": None, "verification_code": "",
        }  # fmt: skip
        if found is not None:
            version = found.version
            result.update(
                version=version.pk, number=version.number, report=str(version.report), file_format=found.file_format,
                signed_by=signing.signer_name(version.signed_by) if version.signed_by else "",
                signed_at=version.signed_at, verification_code=found.code,
            )  # fmt: skip
        return Response(VerifyResultSerializer(result).data)
