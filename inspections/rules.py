"""The field-work and campaign actions, registered with portal.rules (imported by InspectionsConfig.ready).

The rules themselves are inspections/permissions.py (who records field work, for whom, who changes a
record, who files and signs a self-check report, who keeps a 履职台账) and campaign_services.may_edit_*
(a campaign is edited in the issuing 管理员's subtree); this module makes them reachable as
"inspections.<action>" through `portal.rules`. Services, pages, forms and the API ask `rules`, never
inspections.permissions, for a decision; they read `permissions.acting_unit(user)` only for its value
(the unit a record is made for).
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet

from inspections import permissions
from inspections.campaign_services import may_edit_campaign
from portal import rules
from portal.choices import RegionLevel
from portal.models import Region
from portal.scoping import in_subtree


def recording_unit(user: Any) -> Region:
    """The town or county `user` records field work as (the record's unit, never chosen), once
    "inspections.record_field_work" is required of them: its refusal when they record none."""
    rules.require(user, "inspections.record_field_work")
    return cast(Region, permissions.acting_unit(user))


def _require_within(user: Any, enterprise: Any) -> None:
    permissions.require_enterprise_within(enterprise, permissions.require_unit(user))


def _require_company_within(user: Any, company: Any) -> None:
    permissions.require_parent_company_within(company, permissions.require_unit(user))


def _acts_for_town(user: Any, _obj: Any) -> bool:
    unit = permissions.acting_unit(user)
    return unit is not None and unit.level == RegionLevel.TOWN


def _principal_refusal(_user: Any, enterprise: Any) -> str:
    return f"只有{enterprise.name}的主要负责人本人可以签字。"


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
    # The object is a parent company (上级企业): recorded for when it is registered in, or owns a mine in,
    # the recorder's unit.
    rules.register("inspections.record_for_parent_company", check=_require_company_within)
    # Works as a 镇应急管理中心 (阶段性进展, a town's deliverables). Callers that refuse give their own wording.
    rules.register(
        "inspections.act_for_town",
        allow=_acts_for_town,
        refusal="只有镇应急管理中心的账号可以办理。",
        per_object=False,
    )
    # The object is an enterprise: its own accounts, or its town's staff filing on its behalf.
    rules.register(
        "inspections.file_self_check",
        allow=permissions.can_file_self_check,
        refusal="只有本企业或所在镇应急管理中心（代企业填报）可以填写自查自改报告。",
    )
    # The object is an enterprise: only its 主要负责人's own account signs its self-check report.
    rules.register(
        "inspections.sign_self_check",
        allow=permissions.is_principal_of,
        refusal=_principal_refusal,
    )
    # The object is an enterprise: its own accounts, its town's staff, the county's staff.
    rules.register(
        "inspections.keep_duty_log",
        allow=permissions.can_keep_duty_log,
        refusal="只有本企业、所在镇应急管理中心或县局可以填报该企业的履职台账。",
    )
