"""Writes of the two-step verification: every one checks a code and writes an audit row."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import audit_events, rules
from portal.models import User
from portal.tokens.services import api_token_revoke_all

DEVICE_NAME = "手机动态口令"
BACKUP_DEVICE_NAME = "备用码"
BACKUP_CODE_COUNT = 10
# A backup code: 8 characters of base32 (django-otp's StaticToken.random_token), case and spaces ignored.
BACKUP_CODE_RE = re.compile(r"[a-z2-7]{8}")


@dataclass(frozen=True)
class CodeCheck:
    """The outcome of checking a code: accepted, or refused (and how long to wait, if throttled)."""

    ok: bool
    wait_seconds: int = 0
    # The device that accepted the code (the TOTP device or the backup codes), for django_otp.login.
    device: Any = None
    # New backup codes, shown once (enrolment and regeneration only).
    backup_codes: tuple[str, ...] = field(default=())

    @property
    def throttled(self) -> bool:
        return self.wait_seconds > 0

    @property
    def message(self) -> str:
        if self.ok:
            return ""
        if self.throttled:
            return f"动态口令错误次数过多，请 {self.wait_seconds} 秒后再试。"
        return "动态口令错误或已使用过，请输入验证器中当前显示的 6 位数字，或一个未用过的备用码。"


def normalize_code(code: str) -> str:
    """Authenticator codes are shown as "123 456" and backup codes may be typed in capitals: both accepted."""
    return re.sub(r"[\s-]", "", code).lower()


def is_backup_code(code: str) -> bool:
    return bool(BACKUP_CODE_RE.fullmatch(normalize_code(code)))


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


def backup_device(user: User) -> StaticDevice | None:
    if not user.pk:
        return None
    return StaticDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def backup_codes_left(user: User) -> int:
    device = backup_device(user)
    return device.token_set.count() if device is not None else 0


def _new_backup_codes(user: User) -> tuple[str, ...]:
    """Replaces the user's backup codes with a new set (the old ones stop working)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    codes: list[str] = []
    while len(codes) < BACKUP_CODE_COUNT:
        code = StaticToken.random_token()
        if code not in codes:
            codes.append(code)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return tuple(codes)


def _check(*, user: User, device: Device, code: str, purpose: str) -> CodeCheck:
    """Checks a code under a row lock, so that parallel guesses are all counted by the throttle."""
    device = type(device).objects.select_for_update().get(pk=device.pk)
    allowed, data = device.verify_is_allowed()
    if not allowed:
        locked_until = (data or {}).get("locked_until")
        wait = 1
        if locked_until is not None:
            wait = max(1, math.ceil((locked_until - timezone.now()).total_seconds()))
        audit_events.otp_failed(user=user, purpose=purpose, detail=f"{purpose}：尝试过于频繁，未校验")
        return CodeCheck(ok=False, wait_seconds=wait)
    if device.verify_token(normalize_code(code)):
        return CodeCheck(ok=True, device=device)
    device.refresh_from_db(fields=["throttling_failure_count"])
    audit_events.otp_failed(
        user=user,
        purpose=purpose,
        detail=f"{purpose}：{'备用码' if isinstance(device, StaticDevice) else '动态口令'}错误"
        f"（连续第 {device.throttling_failure_count} 次）",
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
    revoked = api_token_revoke_all(actor=user, user=user, reason="启用两步验证（原令牌仅凭密码签发）")
    codes = _new_backup_codes(user)
    audit_events.otp_added(
        actor=user,
        user=user,
        after={"device": device.name, "backup_codes": len(codes)},
        detail="绑定动态口令设备，生成备用码" + ("，已作废原 API 令牌" if revoked else ""),
    )
    return CodeCheck(ok=True, device=device, backup_codes=codes)


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
        StaticDevice.objects.filter(user=user).delete()
        audit_events.otp_removed(
            actor=user,
            user=user,
            before={"device": name},
            detail="解绑动态口令设备（备用码一并作废）",
        )
    return result


@transaction.atomic
def device_verify(*, user: User, device: TOTPDevice, code: str, purpose: str = "登录") -> CodeCheck:
    """The second step of a login (web or API), or a signed-in session asking for the admin site."""
    if device.user_id != user.pk or not device.confirmed:
        raise ValueError("device does not belong to this user")
    result = _check(user=user, device=device, code=code, purpose=purpose)
    if result.ok:
        audit_events.otp_verified(user=user, purpose=purpose)
    return result


@transaction.atomic
def second_factor_verify(*, user: User, code: str, purpose: str = "登录") -> CodeCheck:
    """The second step with whatever the user typed: a 6-digit code of the authenticator, or a backup code
    (used up by this). `ok` with the device that accepted it; a user without a device gets a refusal."""
    if is_backup_code(code):
        backup = backup_device(user)
        if backup is None or confirmed_device(user) is None:
            return CodeCheck(ok=False)
        result = _check(user=user, device=backup, code=code, purpose=purpose)
        if result.ok:
            left = backup_codes_left(user)
            audit_events.otp_verified(user=user, purpose=purpose, backup_codes_left=left)
        return result
    device = confirmed_device(user)
    if device is None:
        return CodeCheck(ok=False)
    return device_verify(user=user, device=device, code=code, purpose=purpose)


@transaction.atomic
def backup_codes_regenerate(*, user: User, code: str) -> CodeCheck:
    """New backup codes (the old ones stop working); a current code of the authenticator proves the phone."""
    device = confirmed_device(user)
    if device is None:
        raise ValueError("no device")
    result = _check(user=user, device=device, code=code, purpose="重新生成备用码")
    if not result.ok:
        return result
    codes = _new_backup_codes(user)
    audit_events.otp_backup_codes_made(user=user, codes=len(codes))
    return CodeCheck(ok=True, device=device, backup_codes=codes)


def may_reset_two_factor(*, actor: Any, user: User) -> bool:
    """The rule for 「重置两步验证」: a county admin (or a superuser) for an account in their scope, not their
    own (their own goes through the code or the server command), and a superuser's only by a superuser."""
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.pk == user.pk:
        return False
    if not rules.is_admin(actor):
        return False
    if user.is_superuser and not actor.is_superuser:
        return False
    return User.objects.visible_to(actor).filter(pk=user.pk).exists()


@transaction.atomic
def two_factor_reset_by_admin(*, actor: User, user: User) -> int:
    """「重置两步验证」 for a user who lost the phone and the backup codes: every device and backup code
    removed, every API token revoked; the user enrols again at the next login. Returns the devices removed."""
    if not may_reset_two_factor(actor=actor, user=user):
        raise PermissionError("not allowed to reset this user's two-step verification")
    removed = TOTPDevice.objects.filter(user=user).delete()[1].get("otp_totp.TOTPDevice", 0)
    StaticDevice.objects.filter(user=user).delete()
    tokens = api_token_revoke_all(actor=actor, user=user, reason="管理员重置两步验证")
    audit_events.otp_reset(actor=actor, user=user, devices=removed, tokens=tokens)
    return removed


@transaction.atomic
def device_enrol_by_operator(*, user: User, replace: bool = False) -> TOTPDevice:
    """`manage.py otp_enrol`: a confirmed device made on the server (the secret is printed there)."""
    existing = confirmed_device(user)
    if existing is not None and not replace:
        raise ValueError("already enrolled")
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
    api_token_revoke_all(actor=None, user=user, reason="服务器命令 otp_enrol 绑定动态口令", actor_name="manage.py")
    audit_events.otp_added(
        actor=None,
        user=user,
        after={"device": device.name},
        detail="由服务器命令 otp_enrol 绑定" + ("（替换原设备）" if existing is not None else ""),
        actor_name="manage.py",
    )
    return device


@transaction.atomic
def device_remove_by_operator(*, user: User) -> int:
    """`manage.py otp_enrol --remove`: for a user who lost the phone."""
    removed = TOTPDevice.objects.filter(user=user).delete()[0]
    StaticDevice.objects.filter(user=user).delete()
    if removed:
        audit_events.otp_removed(
            actor=None,
            user=user,
            detail="由服务器命令 otp_enrol --remove 解绑",
            actor_name="manage.py",
        )
    return removed
