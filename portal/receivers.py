"""Authentication events go to the audit log (登录、登录失败、退出)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from portal import audit_events
from portal.audit import current_ip
from portal.client_ip import client_ip
from portal.models import User


def _ip(request: HttpRequest | None) -> None:
    if request is not None and current_ip.get() is None:
        current_ip.set(client_ip(request))


@receiver(user_logged_in)
def on_login(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    _ip(request)
    audit_events.logged_in(user=user)


@receiver(user_logged_out)
def on_logout(sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        _ip(request)
        audit_events.logged_out(user=user)


@receiver(user_login_failed)
def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    _ip(request)
    username = str(credentials.get("username", ""))[:150]
    user = User.objects.filter(username=username).first()
    audit_events.login_failed(user=user, username=username)
