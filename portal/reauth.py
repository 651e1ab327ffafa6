"""Re-authentication before a signature: one service for every signing path (page and API).

A signature is signing: the signed-in user types the password again, and a user with 两步验证 enrolled
also types a current 动态口令 or an unused 备用码 (password AND code: a signed-in session on an unlocked
device proves neither). Wrong attempts go where the login's go: the password through django-axes
(`authenticate`, counted per user name and address, locked out after AXES_FAILURE_LIMIT, audited as 登录失败
by the login signal), the code through django-otp's throttle (audited as 动态口令错误). Whatever failed,
the answer is the same Chinese message (no oracle telling a wrong password from a wrong code or a lockout).

Call it outside any transaction that might roll back: the failure counters and audit rows must stay.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import transaction

from portal import audit_events
from portal.models import User
from portal.otp.services import confirmed_device, second_factor_verify

REAUTH_REFUSED = "密码或动态口令不正确（或尝试过于频繁），未签字。"


def needs_code(user: User) -> bool:
    """The user has 两步验证 enrolled: a signature asks for the code as well as the password."""
    return confirmed_device(user) is not None


def _password_ok(request: Any, user: User, password: str) -> bool:
    if not password:
        return False
    # DRF's Request wraps the HttpRequest axes reads the address from.
    http_request = getattr(request, "_request", request)
    authenticated = authenticate(http_request, username=user.username, password=password)
    return authenticated is not None and authenticated.pk == user.pk


def _second_factor_refusal(user: User, otp_code: str, purpose: str) -> str:
    if not needs_code(user):
        return ""
    if not otp_code.strip():
        return "未填写动态口令"
    if not second_factor_verify(user=user, code=otp_code, purpose=purpose).ok:
        return "动态口令错误"
    return ""


def second_factor_passes(*, user: User, otp_code: str, purpose: str) -> bool:
    """For a signature whose password was checked elsewhere (the self-check's in-person signing): with a
    device enrolled, `otp_code` must be a current code or an unused backup code. A refusal is audited."""
    with transaction.atomic():
        refused = _second_factor_refusal(user, otp_code, purpose)
        if refused:
            audit_events.reauth_failed(user=user, purpose=purpose, refused=refused)
    return not refused


def reauthenticate(*, request: Any, user: User, password: str = "", otp_code: str = "", purpose: str) -> None:
    """Passes only when `password` is the user's (and, with a device enrolled, `otp_code` a current code or
    an unused backup code, which is then used up). Raises ValidationError(REAUTH_REFUSED) otherwise.

    Every outcome is audited with `purpose` (e.g. "月报签字"): a pass as 动态口令验证通过/修改, a refusal as 登录失败.
    """
    refused = ""
    with transaction.atomic():
        if not user.is_active:
            refused = "账号已停用"
        elif not _password_ok(request, user, password):
            refused = "密码错误或已锁定"
        else:
            refused = _second_factor_refusal(user, otp_code, purpose)
        if refused:
            audit_events.reauth_failed(user=user, purpose=purpose, refused=refused)
        else:
            audit_events.reauthenticated(user=user, purpose=purpose)
    if refused:
        raise ValidationError(REAUTH_REFUSED)
