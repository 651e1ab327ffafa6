"""`Authorization: Token <key>` for the API: the key's hash is looked up, and the token must be alive.

A token stops working when it is revoked (deleted), idle for API_TOKEN_IDLE_SECONDS, older than
API_TOKEN_MAX_AGE_SECONDS, when its user is deactivated, or when the user's password changed since it was
issued (by whatever path: the token keeps the session auth hash of its issue).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.crypto import constant_time_compare
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from portal.tokens.models import ApiToken, hash_key

# last_used_at is written at most this often per token (not at every request).
TOUCH_SECONDS = 60
INVALID = "令牌无效或已作废，请重新登录获取新令牌。"


class ExpiringTokenAuthentication(TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        token = ApiToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()
        if token is None:
            raise AuthenticationFailed(INVALID)
        user = token.user
        if not user.is_active:
            raise AuthenticationFailed("账号已停用。")
        now = timezone.now()
        if token.expires_at <= now or token.idle_expires_at <= now:
            raise AuthenticationFailed("令牌已过期，请重新登录获取新令牌。")
        if not constant_time_compare(token.auth_hash, user.get_session_auth_hash()):
            raise AuthenticationFailed("密码已修改，原令牌已失效，请重新登录获取新令牌。")
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() >= TOUCH_SECONDS:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return user, token
