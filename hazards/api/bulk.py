"""POST /api/v1/hazard-bulk/<step>/: the bulk steps of the 待办 page (hazards.bulk) for API clients.

The steps and their names come from the step declarations (hazards.workflow, `bulk`); each hazard goes
through the same check and service as its single-step action, in its own transaction, so the answer is
one result per hazard (200) even when some are refused. 403 when the user's role never takes this step,
404 for a step that cannot be taken in bulk, 400 for a malformed list.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hazards import bulk
from hazards.api.views import errors
from hazards.choices import HazardAction, HazardStatus
from portal import limits
from portal.api.serializers import DescribedFieldsMixin, StrictCharField
from portal.api.views import AUTHENTICATION, IdFilter
from portal.models import User


class BulkStepInputSerializer(DescribedFieldsMixin, serializers.Serializer):  # type: ignore[type-arg]
    ids = serializers.ListField(
        label="隐患编号",
        child=serializers.IntegerField(min_value=1, max_value=IdFilter.ID_RANGE[-1], label="隐患编号"),
        min_length=1,
        max_length=bulk.MAX_ITEMS,
        help_text=f"要办理的隐患编号，一次 1 至 {bulk.MAX_ITEMS} 项；重复的编号只办理一次。",
        error_messages={
            "min_length": "请至少提交一项隐患编号。",
            "max_length": f"一次最多批量办理 {bulk.MAX_ITEMS} 项隐患。",
        },
    )
    comment = StrictCharField(
        label="意见",
        max_length=limits.TEXT_COMMENT,
        required=False,
        allow_blank=True,
        default="",
        help_text="记入每项隐患处理记录的意见（可不填）。",
    )


class BulkItemSerializer(DescribedFieldsMixin, serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField(label="隐患编号", help_text="隐患编号")
    ok = serializers.BooleanField(label="是否办理成功", help_text="是否办理成功")
    message = serializers.CharField(label="结果说明", help_text="办理结果或不能办理的原因（中文）")
    status = serializers.ChoiceField(
        label="办理后状态",
        choices=HazardStatus.choices,
        allow_null=True,
        help_text="隐患此时的状态；不在您数据范围内的隐患为 null",
    )


class BulkResultSerializer(DescribedFieldsMixin, serializers.Serializer):  # type: ignore[type-arg]
    action = serializers.CharField(label="办理事项", help_text="办理事项（中文）")
    done = serializers.IntegerField(label="办理成功项数", help_text="办理成功的项数")
    refused = serializers.IntegerField(label="未办理项数", help_text="未能办理的项数")
    results = BulkItemSerializer(many=True, label="逐项结果", help_text="按提交顺序的逐项结果")


def _describe_steps() -> str:
    return "；".join(f"{slug}：{HazardAction(action).label}" for slug, action in bulk.BULK_SLUGS.items())


class HazardBulkStepView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["隐患"],
        operation_id="hazard_bulk_step",
        summary="批量办理",
        description=(
            "同一意见批量办理多项隐患（镇确认、县确认、销号、验收），每项隐患与单项办理经过同样的校验和服务、"
            "各自一个事务：返回 200 和逐项结果（不在您数据范围内、状态不符或角色不符的项注明原因，其余照常办理）。"
            "您的角色不办理该事项时返回 403。"
        ),
        parameters=[
            OpenApiParameter(
                "step",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=list(bulk.BULK_SLUGS),
                description=f"办理事项（{_describe_steps()}）",
            )
        ],
        request=BulkStepInputSerializer,
        responses={200: BulkResultSerializer, **errors(400, 401, 403, 404)},
    )
    def post(self, request: Request, step: str) -> Response:
        user: User = request.user  # type: ignore[assignment]
        action = bulk.BULK_SLUGS.get(step)
        if action is None:
            raise NotFound("没有这个批量办理事项。")
        if action not in dict(bulk.bulk_actions_for(user)):
            raise PermissionDenied(f"您的角色不办理“{HazardAction(action).label}”。")
        serializer = BulkStepInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        results = bulk.hazard_bulk_step(
            actor=user, action=action, hazard_ids=data["ids"], comment=data.get("comment", "").strip()
        )
        items = [
            {
                "id": result.hazard_id,
                "ok": result.ok,
                "message": result.message,
                "status": result.hazard.status if result.hazard is not None else None,
            }
            for result in results
        ]
        done = sum(1 for result in results if result.ok)
        body = {"action": HazardAction(action).label, "done": done, "refused": len(results) - done, "results": items}
        return Response(BulkResultSerializer(body).data)
