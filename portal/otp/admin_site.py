"""The Django admin asks for a verified session (两步验证) from everyone.

`install(admin.site)` turns the default site into `PortalAdminSite` in place, so that every
`admin.site.register` of the apps keeps working. The admin's own login form is not used: the
portal's login (django-axes, audit log) and the verification page are.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp.admin import OTPAdminSite

from portal.otp import services
from portal.otp.views import is_verified, with_next


class PortalAdminSite(OTPAdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and is_verified(user))

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        index = reverse("admin:index", current_app=self.name)
        next_url = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = index
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(next_url, reverse("login"))
        if not (user.is_active and user.is_staff):
            raise PermissionDenied
        if is_verified(user):
            return redirect(next_url)
        if services.confirmed_device(user) is not None:  # type: ignore[arg-type]
            return redirect(with_next("otp-verify", next_url))
        messages.info(request, "进入管理后台需要两步验证：请先绑定动态口令。")
        return redirect(with_next("otp-enrol", next_url))


def install(site: admin.AdminSite) -> None:
    site.__class__ = PortalAdminSite
    # Devices are managed on the portal's pages and by `manage.py otp_enrol` (both audited), not here.
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if site.is_registered(TOTPDevice):
        site.unregister(TOTPDevice)
    # Nor backup codes; and DRF's never-expiring tokens are not used at all (API tokens: portal.tokens).
    from django_otp.plugins.otp_static.models import StaticDevice
    from rest_framework.authtoken.models import TokenProxy

    for model in (StaticDevice, TokenProxy):
        if site.is_registered(model):
            site.unregister(model)
