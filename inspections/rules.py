"""The field-work and campaign actions, registered with portal.rules (imported by InspectionsConfig.ready).

The rules themselves are inspections/permissions.py (who records field work, for whom, and who changes a
record) and campaign_services.may_edit_* (a campaign is edited in the issuing 管理员's subtree); this
module makes them reachable as "inspections.<action>" through `portal.rules`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from inspections import permissions
from inspections.campaign_services import may_edit_campaign
from portal import rules
from portal.scoping import in_subtree


def _require_within(user: Any, enterprise: Any) -> None:
    permissions.require_enterprise_within(enterprise, permissions.require_unit(user))


def _unit_enterprises(queryset: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """The enterprises of the user's own town or county (none for whoever records no field work)."""
    unit = permissions.acting_unit(user)
    if unit is None:
        return queryset.none()
    return queryset.filter(in_subtree(unit.path, "town__path"))


def _require_change(user: Any, unit: Any) -> None:
    permissions.require_change_unit_record(user, unit)


def register() -> None:
    rules.register(
        "inspections.record_field_work",
        allow=lambda user, _obj: permissions.can_record_field_work(user),
        check=lambda user, _obj: permissions.require_unit(user),
        per_object=False,
    )
    # The object is an enterprise: field work is recorded for the enterprises of the recorder's unit.
    rules.register("inspections.record_for_enterprise", check=_require_within, rows=_unit_enterprises)
    # The object is the record's unit (检查单位 / 实施单位): only that unit's staff change or delete it.
    rules.register(
        "inspections.change_unit_record",
        allow=permissions.can_change_unit_record,
        check=_require_change,
    )
    rules.register(
        "inspections.edit_campaign",
        allow=may_edit_campaign,
        refusal="只有发文辖区的管理员可以修改该专项行动。",
    )
    rules.register(
        "inspections.keep_calendar",
        allow=lambda user, _obj: bool(user.is_active and rules.is_admin(user)),
        refusal="只有管理员可以修改节假日安排。",
        per_object=False,
    )
