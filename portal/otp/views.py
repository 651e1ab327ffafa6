"""Pages of the two-step verification (两步验证).

A password login of a user with a confirmed device does not log in: `start_pending` keeps the
user's id in the session and `verify` logs in (a new session key) once the code is right. A
signed-in session that is not verified yet (enrolled elsewhere, or logged in before enrolling)
uses the same page to step up, for the admin site.
"""

from __future__ import annotations

import base64
import time
from io import BytesIO
from typing import Any
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import rules
from portal.models import User
from portal.otp import services
from portal.otp.forms import CodeForm, SecondFactorForm
from portal.scoping import visible_or_404

PENDING_SESSION_KEY = "otp_pending_login"


def is_verified(user: Any) -> bool:
    check = getattr(user, "is_verified", None)
    return bool(check()) if callable(check) else False


def _next_url(request: HttpRequest, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}" if next_url else reverse(url_name)


def start_pending(request: HttpRequest, user: User, next_url: str) -> HttpResponse:
    """The password was right; the code is asked next. Nothing is logged in yet."""
    request.session[PENDING_SESSION_KEY] = {
        "user": user.pk,
        "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[-1]),
        "at": time.time(),
    }
    return redirect(with_next("otp-verify", next_url))


def _pending_user(request: HttpRequest) -> tuple[User, str] | None:
    pending = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(pending, dict):
        return None
    if time.time() - float(pending.get("at", 0)) > settings.OTP_PENDING_LOGIN_SECONDS:
        del request.session[PENDING_SESSION_KEY]
        return None
    user_id = pending.get("user")
    if not isinstance(user_id, int):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    return user, str(pending.get("backend", ""))


def _mark_verified(request: HttpRequest, device: Any) -> None:
    # A session that gains a factor gets a new key (no fixation of a half-verified session).
    request.session.cycle_key()
    otp_login(request, device)


@never_cache
@sensitive_post_parameters("code")
def verify(request: HttpRequest) -> HttpResponse:
    """两步验证: the code after the password (or before the admin site)."""
    next_url = _next_url(request, settings.LOGIN_REDIRECT_URL and reverse(settings.LOGIN_REDIRECT_URL))
    pending = _pending_user(request)
    if pending is not None:
        user, backend = pending
    elif request.user.is_authenticated:
        if is_verified(request.user):
            return redirect(next_url)
        user, backend = request.user, ""  # type: ignore[assignment]
    else:
        messages.info(request, "请先输入用户名和密码。")
        return redirect(with_next("login", next_url))
    device = services.confirmed_device(user)
    if device is None:
        if pending is not None:  # removed in the meantime: the password is asked again
            del request.session[PENDING_SESSION_KEY]
            return redirect(with_next("login", next_url))
        return redirect(with_next("otp-enrol", next_url))
    form = SecondFactorForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        result = services.second_factor_verify(
            user=user, code=form.cleaned_data["code"], purpose="登录" if pending else "进入管理后台"
        )
        if result.ok:
            used = result.device
            used.refresh_from_db()
            if pending is not None:
                del request.session[PENDING_SESSION_KEY]
                login(request, user, backend=backend or None)  # rotates the session key
                otp_login(request, used)
            else:
                _mark_verified(request, used)
            left = services.backup_codes_left(user)
            if isinstance(used, StaticDevice):
                messages.warning(request, f"已使用一个备用码，还剩 {left} 个。请尽快在“两步验证”页面重新生成备用码。")
            return redirect(next_url)
        form.add_error("code", result.message)
        status = 429 if result.throttled else 200
    context = {"form": form, "next": next_url, "pending_user": user if pending else None}
    return render(request, "portal/otp_verify.html", context, status=status)


def _qr_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _secret_groups(device: TOTPDevice) -> str:
    secret = base64.b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@never_cache
@login_required
@sensitive_post_parameters("code")
def enrol(request: HttpRequest) -> HttpResponse:
    """绑定动态口令: the secret (QR code and text) and the first code that confirms it."""
    user: User = request.user  # type: ignore[assignment]
    next_url = _next_url(request, reverse("otp-overview"))
    if services.confirmed_device(user) is not None:
        messages.info(request, "已绑定动态口令。如需更换，请先解绑原设备。")
        return redirect("otp-overview")
    device = services.pending_device(user)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        result = services.device_confirm(user=user, device=device, code=form.cleaned_data["code"])
        if result.ok:
            device.refresh_from_db()
            _mark_verified(request, device)
            messages.success(request, "两步验证已启用。以后登录时需要输入验证器中的动态口令。")
            return _show_backup_codes(request, result.backup_codes, next_url)
        form.add_error("code", result.message)
        status = 429 if result.throttled else 200
    context = {
        "form": form,
        "next": next_url,
        "device": device,
        "config_url": device.config_url,
        "secret": _secret_groups(device),
        "qr": _qr_data_uri(device.config_url),
        "staff_required": user.is_staff,
    }
    return render(request, "portal/otp_enrol.html", context, status=status)


def _show_backup_codes(request: HttpRequest, codes: tuple[str, ...], next_url: str) -> HttpResponse:
    """The backup codes, shown this once (they are not shown again; new ones replace them)."""
    return render(request, "portal/otp_backup_codes.html", {"codes": codes, "next": next_url})


def _overview_context(user: User, **extra: Any) -> dict[str, Any]:
    return {
        "device": services.confirmed_device(user),
        "form": CodeForm(),
        "backup_form": CodeForm(prefix="backup"),
        "backup_codes_left": services.backup_codes_left(user),
        "verified": is_verified(user),
        **extra,
    }


@never_cache
@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """两步验证: whether it is on, the backup codes left, and the forms that renew them or remove the device."""
    user: User = request.user  # type: ignore[assignment]
    return render(request, "portal/otp_overview.html", _overview_context(user))


@never_cache
@login_required
@require_POST
@sensitive_post_parameters("backup-code")
def backup_codes(request: HttpRequest) -> HttpResponse:
    """重新生成备用码: needs a current code of the authenticator; the new codes are shown once."""
    user: User = request.user  # type: ignore[assignment]
    if services.confirmed_device(user) is None:
        return redirect("otp-overview")
    form = CodeForm(request.POST, prefix="backup")
    status = 200
    if form.is_valid():
        result = services.backup_codes_regenerate(user=user, code=form.cleaned_data["code"])
        if result.ok:
            messages.success(request, "已重新生成备用码，原备用码作废。")
            return _show_backup_codes(request, result.backup_codes, reverse("otp-overview"))
        form.add_error("code", result.message)
        status = 429 if result.throttled else 200
    return render(request, "portal/otp_overview.html", _overview_context(user, backup_form=form), status=status)


@never_cache
@login_required
@require_POST
@sensitive_post_parameters("code")
def remove(request: HttpRequest) -> HttpResponse:
    """解绑动态口令: needs a current code."""
    user: User = request.user  # type: ignore[assignment]
    device = services.confirmed_device(user)
    if device is None:
        return redirect("otp-overview")
    form = CodeForm(request.POST)
    status = 200
    if form.is_valid():
        result = services.device_remove(user=user, code=form.cleaned_data["code"])
        if result.ok:
            request.session.pop(DEVICE_ID_SESSION_KEY, None)
            request.session.cycle_key()
            messages.success(request, "已解绑动态口令，两步验证已关闭。")
            return redirect("otp-overview")
        form.add_error("code", result.message)
        status = 429 if result.throttled else 200
    return render(request, "portal/otp_overview.html", _overview_context(user, form=form), status=status)


@never_cache
@login_required
def reset(request: HttpRequest, pk: int) -> HttpResponse:
    """重置两步验证 (county admin): a user of the admin's county lost the phone and the backup codes."""
    actor: User = request.user  # type: ignore[assignment]
    target = visible_or_404(request, User, pk=pk)  # out of scope: 404 (logged), whatever the role
    if not rules.is_admin(actor):
        raise PermissionDenied("只有管理员可以重置其他用户的两步验证。")
    if not services.may_reset_two_factor(actor=actor, user=target):
        raise PermissionDenied("不能重置自己或超级用户的两步验证。")
    if request.method == "POST":
        services.two_factor_reset_by_admin(actor=actor, user=target)
        messages.success(request, f"已重置 {target.username} 的两步验证：动态口令和备用码已作废，API 令牌已全部作废。")
        return redirect("otp-reset", pk=target.pk)
    context = {"target": target, "enrolled": services.confirmed_device(target) is not None}
    return render(request, "portal/otp_reset.html", context)


__all__ = ["PENDING_SESSION_KEY", "backup_codes", "enrol", "overview", "remove", "reset", "start_pending", "verify"]
