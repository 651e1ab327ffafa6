"""REST API of the 隐患台账 upload (/api/v1/ledger-uploads/), on the directory API's plumbing.

Register in hazards/api/urls.py:  router.register("ledger-uploads", LedgerUploadViewSet, basename="ledger-upload")

The same service as the page (`hazards.ledger`): POST a file → the preview (every row as it will be
saved, every error by row and column, in Chinese); a file that passes is kept as a 待确认 upload, which
its uploader confirms with POST …/{id}/commit/ (re-validated, every row or none). Scope as everywhere:
an enterprise or an upload outside `visible_to` is a 404 (logged as 越权访问); a role that may not upload
is a 403.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from hazards.choices import LedgerUploadStatus
from hazards.ledger import (
    REFUSED_MESSAGE,
    LedgerError,
    enterprise_for_upload,
    ledger_upload_commit,
    ledger_upload_create,
    ledger_upload_preview,
    may_upload,
)
from hazards.models import LedgerUpload
from portal.api.views import ERRORS, IdFilter, ScopedViewSet, log_denied
from portal.models import Enterprise, User
from portal.spreadsheets import ImportResult, SpreadsheetError, read_bytes


def _user(request: Request) -> User:
    return request.user  # type: ignore[return-value]


# --- serializers -----------------------------------------------------------------------------------


class LedgerUploadSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True, label="企业名称")
    status_label = serializers.CharField(source="get_status_display", read_only=True, label="状态名称")

    class Meta:
        model = LedgerUpload
        fields = [
            "id", "enterprise", "enterprise_name", "original_name", "size", "sha256", "uploaded_by",
            "uploaded_by_name", "uploaded_at", "status", "status_label", "sheet_title", "header_row", "total_rows",
            "created_count", "updated_count", "unchanged_count", "error_count", "committed_at",
        ]  # fmt: skip
        read_only_fields = fields


class RowErrorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    row = serializers.IntegerField(label="行号", help_text="Excel 中的行号；0 表示整个文件。")
    column = serializers.CharField(label="列", help_text="文件中该列的表头；空表示整行或整个文件。")
    message = serializers.CharField(label="问题", help_text="中文说明。")
    text = serializers.CharField(label="完整说明", help_text="如“第3行 判定依据：……”。")


class PreviewRowSerializer(serializers.Serializer):  # type: ignore[type-arg]
    row = serializers.IntegerField(label="行号")
    action = serializers.ChoiceField(
        choices=[("create", "新增"), ("update", "更新"), ("unchanged", "未变")], label="操作"
    )
    action_label = serializers.CharField(label="操作名称")
    values = serializers.DictField(child=serializers.CharField(), label="保存的值", help_text="列名 → 将保存的值。")
    changes = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        label="变更",
        help_text="列名 → [原值, 新值]（仅“更新”的行）。",
    )


class LedgerPreviewSerializer(serializers.Serializer):  # type: ignore[type-arg]
    ok = serializers.BooleanField(label="检查通过")
    summary = serializers.CharField(label="结果", help_text="新增 N 条，更新 M 条，未变 K 条")
    created = serializers.IntegerField(label="新增条数")
    updated = serializers.IntegerField(label="更新条数")
    unchanged = serializers.IntegerField(label="未变条数")
    sheet_title = serializers.CharField(label="工作表")
    header_row = serializers.IntegerField(label="表头所在行")
    columns = serializers.ListField(child=serializers.CharField(), label="列")
    rows = PreviewRowSerializer(many=True, label="每一行将如何保存")
    # Declared fields leave the class namespace (DRF's metaclass), so this does not shadow Serializer.errors.
    errors = RowErrorSerializer(many=True, label="错误")  # type: ignore[assignment]


class LedgerUploadResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    upload = LedgerUploadSerializer(allow_null=True, label="上传记录", help_text="检查通过时为待确认的上传记录。")
    preview = LedgerPreviewSerializer(label="预览")


class LedgerUploadInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    file = serializers.FileField(
        label="隐患台账文件", help_text="Excel 工作簿（.xlsx）。", error_messages={"required": "请上传 Excel 文件。"}
    )
    enterprise = serializers.IntegerField(
        label="企业",
        max_value=IdFilter.ID_RANGE[-1],
        required=False,
        allow_null=True,
        default=None,
        help_text="企业编号：镇、县用户代为上传时必填；企业用户不填（只能为本企业上传）。",
    )


def preview_data(result: ImportResult) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "summary": result.summary(),
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "sheet_title": result.sheet_title,
        "header_row": result.header_row,
        "columns": result.columns,
        "rows": [
            {
                "row": row.row,
                "action": row.action,
                "action_label": row.action_label,
                "values": row.values,
                "changes": {label: list(change) for label, change in row.changes.items()},
            }
            for row in result.rows
        ],
        "errors": [
            {"row": error.row, "column": error.column, "message": error.message, "text": str(error)}
            for error in sorted(result.errors, key=lambda e: (e.row, e.column))
        ],
    }


# --- the viewset -----------------------------------------------------------------------------------

# Two shapes: the preview of a file with errors (LedgerUploadResult), or field errors of the input
# ({"file": […]}, {"enterprise": […]}) — an object either way.
_ERRORS_400 = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description=(
        "文件有错误（或不是可读的 .xlsx）：与 200 相同的 {upload, preview}，按行、列列出全部中文错误，未保存任何数据；"
        '或输入有误（未选文件、未指定企业等）：按字段列出的中文错误信息，例如 {"enterprise": ["…"]}。'
    ),
)
_ERRORS_409 = OpenApiResponse(
    response=LedgerUploadResultSerializer,
    description="该上传已导入或已失败，或确认时重新检查发现问题（数据在预览后有变化）：未导入任何数据。",
)


@extend_schema(tags=["隐患台账"])
@extend_schema_view(
    list=extend_schema(
        summary="台账上传记录列表",
        description="您数据范围内的隐患台账上传记录（最新的在前），可按企业和状态筛选。",
        parameters=[
            OpenApiParameter("enterprise", OpenApiTypes.INT, description="企业编号"),
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=LedgerUploadStatus.values,
                description="状态：待确认、已导入、确认时未通过检查",
            ),
        ],
        responses={200: LedgerUploadSerializer(many=True), 401: ERRORS[401]},
    ),
    retrieve=extend_schema(
        summary="台账上传记录",
        description="一次上传：谁在何时为哪家企业上传了什么文件，导入结果如何。",
        responses={200: LedgerUploadSerializer, 401: ERRORS[401], 404: ERRORS[404]},
    ),
)
class LedgerUploadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    model = LedgerUpload
    serializer_class = LedgerUploadSerializer
    permission_classes = [IsAuthenticated]
    filter_backends: list[Any] = []
    parser_classes = (MultiPartParser, FormParser, JSONParser)  # type: ignore[assignment]

    def get_queryset(self) -> QuerySet[LedgerUpload]:
        queryset = LedgerUpload.objects.visible_to(_user(self.request)).select_related("enterprise")
        params = self.request.query_params
        enterprise = params.get("enterprise")
        if enterprise:
            valid = enterprise.isascii() and enterprise.isdigit() and int(enterprise) in IdFilter.ID_RANGE
            queryset = queryset.filter(enterprise_id=enterprise) if valid else queryset.none()
        if params.get("status"):
            queryset = queryset.filter(status=params["status"])
        return queryset.order_by("-uploaded_at", "-id")

    def get_object(self) -> Any:
        try:
            return super().get_object()
        except Http404:
            raise NotFound("未找到该台账上传记录，或不在您的数据范围内。") from None

    def _require_uploader(self) -> User:
        user = _user(self.request)
        if not may_upload(user):
            raise PermissionDenied(REFUSED_MESSAGE)
        return user

    @extend_schema(
        summary="上传隐患台账（预览）",
        description=(
            "上传 .xlsx 隐患台账并检查：返回每一行将如何保存（新增/更新/未变及变更的字段）和按行、列的全部错误。"
            "检查通过时文件被保存为“待确认”的上传记录（201），由上传人调用确认导入接口写入；"
            "有错误时返回 400，不保存任何数据。"
            "企业用户为本企业上传；镇、县用户须指定辖区内的企业代为上传。"
        ),
        request={"multipart/form-data": LedgerUploadInputSerializer},
        responses={
            201: LedgerUploadResultSerializer,
            400: _ERRORS_400,
            401: ERRORS[401],
            403: ERRORS[403],
            404: ERRORS[404],
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = self._require_uploader()
        serializer = LedgerUploadInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        chosen = serializer.validated_data.get("enterprise")
        if user.enterprise_id is None and chosen is None:
            raise serializers.ValidationError({"enterprise": ["请指定要代为上传台账的企业。"]})
        try:
            enterprise = enterprise_for_upload(user, chosen)
        except Http404:
            log_denied(request, Enterprise, chosen)
            raise NotFound("未找到该企业，或不在您的数据范围内。") from None
        upload_file = serializer.validated_data["file"]
        file_name = str(upload_file.name).replace("\\", "/").rsplit("/", 1)[-1][:200]
        try:
            data = read_bytes(upload_file)
        except SpreadsheetError as exc:
            raise serializers.ValidationError({"file": [exc.message]}) from None
        result, upload = ledger_upload_create(actor=user, enterprise=enterprise, source=data, file_name=file_name)
        body = {
            "upload": LedgerUploadSerializer(upload).data if upload is not None else None,
            "preview": preview_data(result),
        }
        return Response(body, status=status.HTTP_201_CREATED if upload is not None else status.HTTP_400_BAD_REQUEST)

    @extend_schema(
        summary="台账预览",
        description="重新检查已保存的文件（按当前数据），返回每一行将如何保存和全部错误；不写入任何数据。",
        responses={200: LedgerUploadResultSerializer, 401: ERRORS[401], 403: ERRORS[403], 404: ERRORS[404]},
    )
    @action(detail=True, methods=["get"])
    def preview(self, request: Request, pk: str | None = None) -> Response:
        upload = self.get_object()  # scope first: an upload out of scope is a 404, whatever the role
        user = self._require_uploader()
        try:
            result = ledger_upload_preview(actor=user, upload=upload)
        except Http404:
            raise NotFound("未找到该企业，或不在您的数据范围内。") from None
        return Response({"upload": LedgerUploadSerializer(upload).data, "preview": preview_data(result)})

    @extend_schema(
        summary="确认导入",
        description=(
            "由上传人确认导入待确认的台账：重新读取并检查保存的文件，在一个事务中全部导入或全部不导入。"
            "重大事故隐患导入后为“待主要负责人签字”。"
        ),
        request=None,
        responses={
            200: LedgerUploadResultSerializer,
            401: ERRORS[401],
            403: ERRORS[403],
            404: ERRORS[404],
            409: _ERRORS_409,
        },
    )
    @action(detail=True, methods=["post"])
    def commit(self, request: Request, pk: str | None = None) -> Response:
        upload = self.get_object()  # scope first: an upload out of scope is a 404, whatever the role
        user = self._require_uploader()
        try:
            result = ledger_upload_commit(actor=user, upload=upload)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        except LedgerError as exc:
            body = {"upload": LedgerUploadSerializer(upload).data, "preview": {"ok": False}, "detail": str(exc)}
            return Response(body, status=status.HTTP_409_CONFLICT)
        upload.refresh_from_db()
        body = {"upload": LedgerUploadSerializer(upload).data, "preview": preview_data(result)}
        return Response(body, status=status.HTTP_200_OK if result.committed else status.HTTP_409_CONFLICT)

    @extend_schema(
        summary="下载原文件",
        description="上传时的原始文件；先校验数据范围，不在范围内返回 404。",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(response=OpenApiTypes.BINARY, description="文件内容"),
            401: ERRORS[401],
            404: ERRORS[404],
        },
    )
    @action(detail=True, methods=["get"])
    def file(self, request: Request, pk: str | None = None) -> FileResponse:
        upload = self.get_object()
        try:
            handle = upload.file.open("rb")
        except OSError:
            raise NotFound("原文件不存在。") from None
        return FileResponse(handle, as_attachment=True, filename=upload.original_name)


__all__ = ["LedgerUploadViewSet"]
