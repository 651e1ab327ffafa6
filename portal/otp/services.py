"""Writes of the two-step verification: every one checks a code and writes an audit row."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from portal.audit import audit_record
from portal.choices import AuditAction
from portal.models import User

DEVICE_NAME = "手机动态口令"


@dataclass(frozen=True)
class CodeCheck:
    """The outcome of checking a code: accepted, or refused (and how long to wait, if throttled)."""

    ok: bool
    wait_seconds: int = 0

    @property
    def throttled(self) -> bool:
        return self.wait_seconds > 0

    @property
    def message(self) -> str:
        if self.ok:
            return ""
        if self.throttled:
            return f"动态口令错误次数过多，请 {self.wait_seconds} 秒后再试。"
        return "动态口令错误或已使用过，请输入验证器中当前显示的 6 位数字。"


def confirmed_device(user: User) -> TOTPDevice | None:
    if not user.pk:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def pending_device(user: User) -> TOTPDevice:
    """The unconfirmed device an enrolment shows (the same secret until it is confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def _check(*, user: User, device: TOTPDevice, code: str, purpose: str) -> CodeCheck:
    """Checks a code under a row lock, so that parallel guesses are all counted by the throttle."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    allowed, data = device.verify_is_allowed()
    if not allowed:
        locked_until = (data or {}).get("locked_until")
        wait = 1
        if locked_until is not None:
            wait = max(1, math.ceil((locked_until - timezone.now()).total_seconds()))
        audit_record(
            actor=user, action=AuditAction.OTP_FAILED, instance=user, detail=f"{purpose}：尝试过于频繁，未校验"
        )
        return CodeCheck(ok=False, wait_seconds=wait)
    if device.verify_token(code.strip()):
        return CodeCheck(ok=True)
    device.refresh_from_db(fields=["throttling_failure_count"])
    audit_record(
        actor=user,
        action=AuditAction.OTP_FAILED,
        instance=user,
        detail=f"{purpose}：动态口令错误（连续第 {device.throttling_failure_count} 次）",
    )
    return CodeCheck(ok=False)


@transaction.atomic
def device_confirm(*, user: User, device: TOTPDevice, code: str) -> CodeCheck:
    """Confirms an enrolment with the first code the user's authenticator shows.

    The user's API token is revoked: it was issued on the password alone.
    """
    if device.user_id != user.pk or device.confirmed:
        raise ValueError("device does not belong to this enrolment")
    result = _check(user=user, device=device, code=code, purpose="绑定")
    if not result.ok:
        return result
    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
    device.confirmed = True
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    revoked = Token.objects.filter(user=user).delete()[0]
    audit_record(
        actor=user,
        action=AuditAction.OTP_ADDED,
        instance=user,
        after={"device": device.name},
        detail="绑定动态口令设备" + ("，已作废原 API 令牌" if revoked else ""),
    )
    return result


@transaction.atomic
def device_remove(*, user: User, code: str) -> CodeCheck:
    """Removes the user's device; a current code proves the device is in hand."""
    device = confirmed_device(user)
    if device is None:
        raise ValueError("no device to remove")
    result = _check(user=user, device=device, code=code, purpose="解绑")
    if result.ok:
        name = device.name
        TOTPDevice.objects.filter(user=user).delete()
        audit_record(
            actor=user,
            action=AuditAction.OTP_REMOVED,
            instance=user,
            before={"device": name},
            detail="解绑动态口令设备",
        )
    return result


@transaction.atomic
def device_verify(*, user: User, device: TOTPDevice, code: str, purpose: str = "登录") -> CodeCheck:
    """The second step of a login (web or API), or a signed-in session asking for the admin site."""
    if device.user_id != user.pk or not device.confirmed:
        raise ValueError("device does not belong to this user")
    result = _check(user=user, device=device, code=code, purpose=purpose)
    if result.ok:
        audit_record(actor=user, action=AuditAction.OTP_VERIFIED, instance=user, detail=purpose)
    return result


@transaction.atomic
def device_enrol_by_operator(*, user: User, replace: bool = False) -> TOTPDevice:
    """`manage.py otp_enrol`: a confirmed device made on the server (the secret is printed there)."""
    existing = confirmed_device(user)
    if existing is not None and not replace:
        raise ValueError("already enrolled")
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
    Token.objects.filter(user=user).delete()
    audit_record(
        actor=None,
        action=AuditAction.OTP_ADDED,
        instance=user,
        after={"device": device.name},
        detail="由服务器命令 otp_enrol 绑定" + ("（替换原设备）" if existing is not None else ""),
        actor_name="manage.py",
    )
    return device


@transaction.atomic
def device_remove_by_operator(*, user: User) -> int:
    """`manage.py otp_enrol --remove`: for a user who lost the phone."""
    removed = TOTPDevice.objects.filter(user=user).delete()[0]
    if removed:
        audit_record(
            actor=None,
            action=AuditAction.OTP_REMOVED,
            instance=user,
            detail="由服务器命令 otp_enrol --remove 解绑",
            actor_name="manage.py",
        )
    return removed
