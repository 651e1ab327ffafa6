"""/api/v1/auth/: the caller's API tokens (list, revoke one), logout, and 「退出所有设备」.

A token is only ever read by its owner (`ApiToken.objects.owned_by`): another user's token id is a 404,
logged as 越权访问 like any other lookup outside the caller's reach.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import logout
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal import scoping
from portal.api.serializers import DescribedFieldsMixin
from portal.api.views import AUTHENTICATION, ScopedViewSet, _user, errors
from portal.tokens import services as token_services
from portal.tokens.models import ApiToken


class ApiTokenSerializer(DescribedFieldsMixin, serializers.ModelSerializer):
    current = serializers.SerializerMethodField(label="当前请求所用令牌")
    ends_at = serializers.DateTimeField(read_only=True, label="失效时间（如不再使用）")

    class Meta:
        model = ApiToken
        fields = ["id", "prefix", "device", "created_at", "last_used_at", "expires_at", "ends_at", "current"]
        read_only_fields = fields

    def get_current(self, obj: ApiToken) -> bool:
        request = self.context.get("request")
        auth = getattr(request, "auth", None)
        return isinstance(auth, ApiToken) and auth.pk == obj.pk


class SignOutSerializer(DescribedFieldsMixin, serializers.Serializer):
    tokens = serializers.IntegerField(label="作废的令牌数")
    sessions = serializers.IntegerField(label="结束的网页登录数")


@extend_schema(tags=["认证"])
@extend_schema_view(
    list=extend_schema(
        summary="我的 API 令牌",
        description=(
            "当前用户仍有效的 API 令牌（每台设备一个）：前缀、设备、签发和最近使用时间、失效时间。不含令牌本身。"
        ),
        responses={200: ApiTokenSerializer, **errors(400, 401, 404)},
    ),
    destroy=extend_schema(
        summary="作废一个 API 令牌",
        description="作废自己的一个令牌（记入操作日志）；他人的令牌返回 404。",
        responses={204: None, **errors(401, 403, 404, 409)},
    ),
)
class ApiTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, ScopedViewSet):
    model = ApiToken
    serializer_class = ApiTokenSerializer
    permission_classes = [IsAuthenticated]
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[ApiToken]:
        return ApiToken.objects.owned_by(_user(self.request)).alive().select_related("user").order_by("-created_at")

    def _log_denied(self) -> None:
        scoping.log_denied(
            user=_user(self.request),
            model=ApiToken,
            lookup={"pk": self.kwargs.get(self.lookup_field)},
            detail=f"API {self.request.method} {self.request.path}",
            visible=ApiToken.objects.owned_by(_user(self.request)),
        )

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        token = self.get_object()
        token_services.api_token_revoke(actor=_user(request), token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    tags=["认证"],
    summary="退出（作废当前令牌）",
    description="作废本次请求所用的 API 令牌（记入操作日志）；以网页登录调用时结束本次网页登录。",
    request=None,
    responses={204: None, **errors(400, 401, 403)},
)
class LogoutView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]
    parser_classes = (JSONParser,)

    def post(self, request: Request) -> Response:
        user = _user(request)
        if isinstance(request.auth, ApiToken):
            token_services.api_token_revoke(actor=user, token=request.auth, reason="退出")
        else:
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    tags=["认证"],
    summary="退出所有设备",
    description="作废当前用户的全部 API 令牌（包括本次所用的）并结束其所有网页登录，记入操作日志。",
    request=None,
    responses={200: SignOutSerializer, **errors(400, 401, 403)},
)
class SignOutEverywhereView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]
    parser_classes = (JSONParser,)

    def post(self, request: Request) -> Response:
        user = _user(request)
        tokens, sessions = token_services.user_sign_out_everywhere(actor=user, user=user)
        return Response({"tokens": tokens, "sessions": sessions})
