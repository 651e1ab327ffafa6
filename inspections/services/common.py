"""Checks shared by the field-work services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from hazards.models import Hazard
from inspections.models import Campaign
from portal import rules
from portal.choices import PersonRole
from portal.models import Enterprise, Person, User

# --- Shared checks ----------------------------------------------------------------------------


def _not_in_future(value: dt.date, field: str, label: str) -> None:
    if value > timezone.localdate():
        raise ValidationError({field: f"{label}不能晚于今天。"})


def _require_visible_campaign(actor: User, campaign: Campaign | None) -> None:
    if campaign is not None and not Campaign.objects.visible_to(actor).filter(pk=campaign.pk).exists():
        raise ValidationError({"campaign": "专项行动不存在或不在您的辖区内。"})


def principal_of(enterprise: Enterprise) -> Person | None:
    """The enterprise's 主要负责人, when exactly one is registered."""
    principals = list(enterprise.people.filter(role=PersonRole.PRINCIPAL)[:2])
    return principals[0] if len(principals) == 1 else None


def _checked_hazards(actor: User, enterprise: Enterprise | None, hazards: Iterable[Hazard]) -> list[Hazard]:
    """Hazards a record may link: visible to the actor and, when the record names an enterprise, its own."""
    chosen = list(hazards)
    if not chosen:
        return []
    visible = set(Hazard.objects.visible_to(actor).filter(pk__in=[h.pk for h in chosen]).values_list("pk", flat=True))
    for hazard in chosen:
        if hazard.pk not in visible:
            raise ValidationError({"hazards": "隐患不存在或不在您的辖区内。"})
        if enterprise is not None and hazard.enterprise_id != enterprise.pk:
            raise ValidationError({"hazards": f"隐患“{hazard}”不是{enterprise.name}的隐患。"})
    return chosen


def ensure_can_record(actor: Any) -> None:
    """Raises PermissionDenied unless the user records field work (for pages that only show a form)."""
    if not rules.may(actor, "inspections.record_field_work"):
        raise PermissionDenied("只有镇应急管理中心或县局股室的账号可以登记。")
