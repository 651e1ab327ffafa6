"""Helpers of every hazard write: the row lock, the event and audit record."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404

from hazards.choices import HazardAction, HazardStatus
from hazards.models import Hazard, HazardEvent
from portal.audit import audit_record, snapshot
from portal.choices import AuditAction
from portal.models import User

A = HazardAction
S = HazardStatus


class HazardStateChanged(ValidationError):
    """Someone else moved the hazard on since the caller read it."""


# --- helpers --------------------------------------------------------------------------------------


def _name(user: User | None) -> str:
    if user is None:
        return "系统"
    return user.full_name or user.get_username()


def _lock(*, actor: User, hazard: Hazard, expect_status: bool = True) -> Hazard:
    """The hazard row, locked, as the actor may see it; 404 outside scope; refusal if it moved on."""
    try:
        locked = (
            Hazard.objects.visible_to(actor)
            .select_for_update(of=("self",))
            .select_related("enterprise__town")
            .get(pk=hazard.pk)
        )
    except Hazard.DoesNotExist:
        raise Http404("未找到该隐患。") from None
    if expect_status and locked.status != hazard.status:
        raise HazardStateChanged(
            f"该隐患状态已变更为“{locked.get_status_display()}”（原为“{HazardStatus(hazard.status).label}”），"
            "请刷新页面后重试。"
        )
    return locked


def _require_text(value: str | None, message: str, field: str | None = None) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: message} if field else message)
    return text


def _record(
    *,
    actor: User | None,
    hazard: Hazard,
    action: str,
    from_status: str,
    before: dict[str, Any] | None,
    comment: str = "",
    data: dict[str, Any] | None = None,
    audit_action: str = AuditAction.UPDATE,
) -> HazardEvent:
    event = HazardEvent.objects.create(
        hazard=hazard,
        actor=actor,
        actor_name=_name(actor),
        action=action,
        from_status=from_status,
        to_status=hazard.status,
        comment=comment,
        data=data or {},
    )
    label = HazardAction(action).label
    audit_record(
        actor=actor,
        action=audit_action,
        instance=hazard,
        before=before,
        after=snapshot(hazard),
        detail=f"隐患{label}" + (f"：{comment}" if comment else ""),
    )
    return event
