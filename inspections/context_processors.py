"""The calendar warning for admins on every portal page (60 days before the known calendar ends)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from inspections import workdays
from portal import rules


def calendar_warning(request: HttpRequest) -> dict[str, Any]:
    user: Any = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not rules.is_admin(user):
        return {}
    message = workdays.calendar_warning(timezone.localdate())
    return {"calendar_warning": message} if message else {}
