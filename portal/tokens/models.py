"""The API token row: only a SHA-256 of the key is stored (the key is shown once, at login)."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def owned_by(self, user: Any) -> ApiTokenQuerySet:
        """A user's own tokens: the only rows of this table anyone reads (not even an admin reads others')."""
        if user is None or not getattr(user, "is_authenticated", False) or not user.pk:
            return self.none()
        return self.filter(user_id=user.pk)

    def alive(self, now: dt.datetime | None = None) -> ApiTokenQuerySet:
        """Neither past the absolute lifetime nor idle for longer than the idle lifetime."""
        now = now or timezone.now()
        idle_since = now - idle_lifetime()
        return self.filter(expires_at__gt=now).filter(
            models.Q(last_used_at__gt=idle_since) | models.Q(last_used_at__isnull=True, created_at__gt=idle_since)
        )


def idle_lifetime() -> dt.timedelta:
    return dt.timedelta(seconds=settings.API_TOKEN_IDLE_SECONDS)


def absolute_lifetime() -> dt.timedelta:
    return dt.timedelta(seconds=settings.API_TOKEN_MAX_AGE_SECONDS)


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, related_name="api_tokens"
    )
    key_hash = models.CharField("令牌摘要", max_length=64, unique=True)
    prefix = models.CharField("令牌前缀", max_length=8, help_text="令牌的前 8 位，用于辨认设备，不能用于登录。")
    device = models.CharField("设备", max_length=200, blank=True)
    created_at = models.DateTimeField("签发时间", default=timezone.now)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    expires_at = models.DateTimeField("最迟失效时间")
    created_ip = models.GenericIPAddressField("签发时的 IP 地址", null=True, blank=True)
    # The user's session auth hash when the token was issued (an HMAC of the password hash): a password
    # changed by any path — the password page, the API, the admin site, `manage.py changepassword` —
    # no longer matches, and the token stops working even where no service revoked it.
    auth_hash = models.CharField("口令指纹", max_length=128)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}…（{self.device or '未注明设备'}）"

    @property
    def idle_expires_at(self) -> dt.datetime:
        return (self.last_used_at or self.created_at) + idle_lifetime()

    @property
    def ends_at(self) -> dt.datetime:
        """When the token stops working if it is not used again."""
        return min(self.expires_at, self.idle_expires_at)
