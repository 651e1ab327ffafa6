"""Pages: 修改密码 through the service (so that it revokes the API tokens), and 登录设备 (the user's API
tokens and web sessions, one token revoked, or 「退出所有设备」)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import PasswordChangeView
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from portal import services
from portal.models import User
from portal.scoping import log_denied
from portal.tokens import services as token_services
from portal.tokens.models import ApiToken


class PortalPasswordChangeView(PasswordChangeView):
    """Django's page and form (old password checked, rules applied); the change itself is the service's."""

    template_name = "registration/password_change.html"

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        user: User = self.request.user  # type: ignore[assignment]
        services.user_set_password(actor=user, user=user, password=form.cleaned_data["new_password1"])
        # This session carries on; the others end (their auth hash no longer matches).
        update_session_auth_hash(self.request, user)
        return redirect(self.get_success_url())


@never_cache
@login_required
def devices(request: HttpRequest) -> HttpResponse:
    """登录设备: the user's live API tokens and how many web sessions are signed in."""
    user: User = request.user  # type: ignore[assignment]
    tokens = ApiToken.objects.owned_by(user).alive().order_by("-created_at", "-id")
    sessions = token_services.user_session_list(user=user)
    current = request.session.session_key
    context: dict[str, Any] = {
        "tokens": tokens,
        "sessions": [{**row, "current": row.pop("key") == current} for row in sessions],
        "session_count": len(sessions),
    }
    return render(request, "portal/devices.html", context)


@never_cache
@login_required
@require_POST
def session_end(request: HttpRequest) -> HttpResponse:
    """Ends one of the user's web sessions, named by its reference (a digest: the key is never shown)."""
    user: User = request.user  # type: ignore[assignment]
    ref = str(request.POST.get("ref", ""))[:64]
    if not ref or not token_services.user_session_end(actor=user, ref=ref):
        raise Http404("未找到该网页登录。")
    messages.success(request, "已结束该网页登录。")
    if request.session.session_key and token_services.session_ref(request.session.session_key) == ref:
        logout(request)
        return redirect("login")
    return redirect("devices")


@never_cache
@login_required
@require_POST
def device_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    token = ApiToken.objects.owned_by(user).filter(pk=pk).select_related("user").first()
    if token is None:
        raise _token_not_found(request, pk)
    token_services.api_token_revoke(actor=user, token=token)
    messages.success(request, f"已作废令牌 {token.prefix}…，使用它的设备需要重新登录。")
    return redirect("devices")


def _token_not_found(request: HttpRequest, pk: int) -> Exception:
    """Another user's token is none of this user's business: 404, and the attempt is logged (越权访问)."""
    log_denied(
        user=request.user,
        model=ApiToken,
        lookup={"pk": pk},
        detail=f"{request.method} {request.path}",
        visible=ApiToken.objects.owned_by(request.user),
    )
    return Http404("未找到该令牌。")


@never_cache
@login_required
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    """「退出所有设备」: every API token and every web session of the user, this one included."""
    user: User = request.user  # type: ignore[assignment]
    tokens, sessions = token_services.user_sign_out_everywhere(actor=user, user=user)
    logout(request)
    messages.success(request, f"已退出所有设备：作废 {tokens} 个 API 令牌，结束 {sessions} 个网页登录。请重新登录。")
    return redirect("login")


__all__ = ["PortalPasswordChangeView", "device_revoke", "devices", "session_end", "sign_out_everywhere"]
