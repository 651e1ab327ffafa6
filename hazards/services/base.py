"""Helpers of every hazard write: the row lock, the event and audit record."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from hazards import audit_events as hazard_events
from hazards.choices import HazardAction, HazardStatus
from hazards.models import Hazard, HazardEvent
from portal.bulk import bulk_insert
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
    hazard_events.STEP_EVENTS[action](
        actor=actor, hazard=hazard, step=action, from_status=from_status, before=before, comment=comment
    )
    return event


def record_events_many(events: Iterable[Mapping[str, Any]], *, at: datetime.datetime | None = None) -> int:
    """Many timeline events at once (a ledger import's), inside the caller's transaction, with one timestamp.

    Each entry holds what `_record` gives one event: hazard, actor, action, from_status, comment, data, and
    to_status when it is not the hazard's status now (a step of an imported history); actor_name when the
    writer is not a user's own name (``manage.py import_ledger``). Their audit rows go to
    `portal.audit.audit_record_many`. One timestamp, ``at`` when the caller gives its own. Written by
    `portal.bulk.bulk_insert` (COPY on PostgreSQL).
    """
    now = at or timezone.now()
    rows = [
        {
            "hazard_id": event["hazard"].pk,
            "actor_id": event["actor"].pk if event["actor"] is not None else None,
            "actor_name": event.get("actor_name") or _name(event["actor"]),
            "created_at": now,
            "action": event["action"],
            "from_status": event["from_status"],
            "to_status": event.get("to_status", event["hazard"].status),
            "comment": event.get("comment", ""),
            "data": event.get("data") or {},
        }
        for event in events
    ]
    bulk_insert(HazardEvent, rows)
    return len(rows)
