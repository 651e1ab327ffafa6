"""Writes to campaigns and their parts (phases, checklist areas and items, quotas, deliverables) and to the
per-county warning thresholds. Each function is one transaction that also writes its audit row.

Who: the superuser, or a 管理员 whose county issued the campaign (a county admin reads the city's and the
province's campaigns but does not edit them); `may_edit_campaign` is that rule, read by the admin site too.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction

from inspections.models import (
    Campaign,
    CampaignPhase,
    ChecklistArea,
    ChecklistItem,
    Deliverable,
    Quota,
    WarningSettings,
)
from portal import audit_events, rules
from portal.audit import snapshot
from portal.models import Region, User

_M = TypeVar("_M", bound=models.Model)

CAMPAIGN_FIELDS = frozenset(
    {"name", "document_number", "document_title", "issuing_region", "issuing_authority", "start_date", "end_date",
     "period_text", "summary"}
)  # fmt: skip
DELIVERABLE_FIELDS = (
    "order", "name", "submitter", "recipients", "kind", "schedule", "due_date", "day_of_month", "min_count",
    "requires_principal_signature", "description", "table",
)  # fmt: skip
# The fields of each part (its campaign, or checklist area, is given by the call, never by the data).
PART_FIELDS: dict[type[models.Model], frozenset[str]] = {
    CampaignPhase: frozenset({"order", "name", "kind", "start_date", "end_date", "description"}),
    ChecklistArea: frozenset({"order", "number", "title", "description"}),
    ChecklistItem: frozenset({"order", "text", "subject", "expected_answer", "guidance"}),
    Quota: frozenset({"order", "kind", "subject", "number", "unit", "period", "phase", "text"}),
    Deliverable: frozenset(DELIVERABLE_FIELDS),
}
WARNING_SETTINGS_FIELDS = frozenset({"long_open_major_hazard_days", "repeat_window_months"})


def may_edit_region(user: Any, region: Region | None) -> bool:
    """The superuser anywhere; a 管理员 in the subtree of their own region."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return rules.acts_for_region(user, region)


def may_edit_campaign(user: Any, campaign: Campaign | None) -> bool:
    """Whether `user` edits `campaign` and its parts (None: a new campaign, whose region is checked on save)."""
    if campaign is None:
        return bool(user is not None and (rules.is_superuser(user) or rules.is_region_admin(user)))
    return may_edit_region(user, campaign.issuing_region)


def _require_campaign_editor(actor: User | None, campaign: Campaign) -> None:
    if actor is not None:
        rules.require(actor, "inspections.edit_campaign", campaign)


def _checked_fields(data: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(f"不能设置这些字段：{'、'.join(unknown)}。")


def _save_new(actor: User | None, instance: _M) -> _M:
    instance.full_clean()
    instance.save()
    audit_events.record_created(actor=actor, instance=instance, after=snapshot(instance))
    return instance


def _save_changes(actor: User | None, instance: _M, data: dict[str, Any]) -> _M:
    locked = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
    before = snapshot(locked)
    for key, value in data.items():
        setattr(locked, key, value)
    locked.full_clean()
    after = snapshot(locked)
    if after != before:
        locked.save()
        audit_events.record_updated(actor=actor, instance=locked, before=before, after=after)
    return locked


def _delete(actor: User | None, instance: models.Model) -> None:
    audit_events.record_deleted(actor=actor, instance=instance, before=snapshot(instance))
    instance.delete()


# --- campaigns ------------------------------------------------------------------------------------------


@transaction.atomic
def campaign_create(*, actor: User | None, data: dict[str, Any]) -> Campaign:
    _checked_fields(data, CAMPAIGN_FIELDS)
    campaign = Campaign(**data)
    if actor is not None and not may_edit_region(actor, data.get("issuing_region")):
        raise ValidationError({"issuing_region": "发文辖区必须是您所在的辖区或其下级。"})
    return _save_new(actor, campaign)


@transaction.atomic
def campaign_update(*, actor: User | None, campaign: Campaign, data: dict[str, Any]) -> Campaign:
    _checked_fields(data, CAMPAIGN_FIELDS)
    _require_campaign_editor(actor, campaign)
    if "issuing_region" in data and actor is not None and not may_edit_region(actor, data["issuing_region"]):
        raise ValidationError({"issuing_region": "发文辖区必须是您所在的辖区或其下级。"})
    return _save_changes(actor, campaign, data)


@transaction.atomic
def campaign_delete(*, actor: User | None, campaign: Campaign) -> None:
    """Deletes a campaign with its parts (each part audited); refused while records cite it."""
    _require_campaign_editor(actor, campaign)
    for area in campaign.checklist_areas.all():
        for item in area.items.all():
            audit_events.record_deleted(actor=actor, instance=item, before=snapshot(item))
    for related in (campaign.phases, campaign.checklist_areas, campaign.quotas, campaign.deliverables):
        for part in related.all():
            audit_events.record_deleted(actor=actor, instance=part, before=snapshot(part))
    _delete(actor, campaign)


# --- parts of a campaign ------------------------------------------------------------------------------


def _campaign_of(instance: models.Model) -> Campaign:
    if isinstance(instance, ChecklistItem):
        return instance.area.campaign
    return instance.campaign  # type: ignore[attr-defined, no-any-return]


def _check_phase(instance: models.Model, campaign: Campaign) -> None:
    phase = getattr(instance, "phase", None)
    if phase is not None and phase.campaign_id != campaign.pk:
        raise ValidationError({"phase": "适用阶段必须是本专项行动的阶段。"})


@transaction.atomic
def campaign_part_create(
    *, actor: User | None, model: type[_M], parent: Campaign | ChecklistArea, data: dict[str, Any]
) -> _M:
    """A phase, checklist area, quota or deliverable of `parent` (a campaign), or a checklist item of `parent`
    (a checklist area)."""
    _checked_fields(data, PART_FIELDS[model])
    if model is ChecklistItem:
        if not isinstance(parent, ChecklistArea):
            raise ValidationError("检查项必须属于一个检查方面。")
        instance: Any = model(area=parent, **data)
    else:
        if not isinstance(parent, Campaign):
            raise ValidationError(f"{model._meta.verbose_name}必须属于一个专项行动。")
        instance = model(campaign=parent, **data)
    campaign = _campaign_of(instance)
    _require_campaign_editor(actor, campaign)
    _check_phase(instance, campaign)
    return _save_new(actor, instance)


@transaction.atomic
def campaign_part_update(*, actor: User | None, part: _M, data: dict[str, Any]) -> _M:
    _checked_fields(data, PART_FIELDS[type(part)])
    campaign = _campaign_of(part)
    _require_campaign_editor(actor, campaign)
    if "phase" in data and data["phase"] is not None and data["phase"].campaign_id != campaign.pk:
        raise ValidationError({"phase": "适用阶段必须是本专项行动的阶段。"})
    return _save_changes(actor, part, data)


@transaction.atomic
def campaign_part_delete(*, actor: User | None, part: models.Model) -> None:
    _require_campaign_editor(actor, _campaign_of(part))
    if isinstance(part, ChecklistArea):
        for item in part.items.all():
            audit_events.record_deleted(actor=actor, instance=item, before=snapshot(item))
    _delete(actor, part)


# --- warning thresholds -------------------------------------------------------------------------------


def _require_county_editor(actor: User | None, county: Region | None) -> None:
    if actor is not None and not may_edit_region(actor, county):
        raise PermissionDenied("只能设置您所在县的预警阈值。")


@transaction.atomic
def warning_settings_create(*, actor: User | None, county: Region, data: dict[str, Any]) -> WarningSettings:
    _checked_fields(data, WARNING_SETTINGS_FIELDS)
    _require_county_editor(actor, county)
    return _save_new(actor, WarningSettings(county=county, **data))


@transaction.atomic
def warning_settings_update(*, actor: User | None, settings: WarningSettings, data: dict[str, Any]) -> WarningSettings:
    _checked_fields(data, WARNING_SETTINGS_FIELDS)
    _require_county_editor(actor, settings.county)
    return _save_changes(actor, settings, data)


@transaction.atomic
def warning_settings_delete(*, actor: User | None, settings: WarningSettings) -> None:
    """Back to the defaults (or the thresholds of a region above)."""
    _require_county_editor(actor, settings.county)
    _delete(actor, settings)
