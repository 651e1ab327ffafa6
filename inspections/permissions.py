"""Who may record field work, and for whom.

Reading is scoped by `visible_to` alone. Writing adds two rules, checked in the services (and again
by pages and the API only to show or hide buttons):

- field work (inspections, talks, exams, enforcement records, teams) is recorded by 镇应急管理中心 staff
  for the enterprises of their town, and by 县局股室 staff for the enterprises of their county; the
  record's unit (检查单位 / 实施单位) is the recorder's own town or county, never chosen;
- a record is changed or deleted only by staff of the unit that made it;
- a self-check report is filed by the enterprise or its town (on its behalf) and signed by the
  enterprise's 主要负责人 alone; a 履职台账 is kept by the enterprise, its town or its county.

Callers ask these through `portal.rules` ("inspections.<action>", registered in inspections/rules.py).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from portal.choices import RegionLevel, Role
from portal.models import Enterprise, ParentCompany, Region
from portal.scoping import in_subtree, path_within

FIELD_ROLES = frozenset({Role.TOWN_STAFF, Role.COUNTY_STAFF})
ENTERPRISE_ROLES = frozenset({Role.ENTERPRISE_CLERK, Role.ENTERPRISE_PRINCIPAL})


def acting_unit(user: Any) -> Region | None:
    """The town or county a user records field work as, or None when the user does not record it."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.role not in FIELD_ROLES or user.region_id is None:
        return None
    region: Region = user.region
    expected = RegionLevel.TOWN if user.role == Role.TOWN_STAFF else RegionLevel.COUNTY
    return region if region.level == expected else None


def can_record_field_work(user: Any) -> bool:
    return acting_unit(user) is not None


def require_unit(user: Any) -> Region:
    unit = acting_unit(user)
    if unit is None:
        raise PermissionDenied("只有镇应急管理中心或县局股室的账号可以登记检查、执法和追责问责记录。")
    return unit


def enterprise_within(enterprise: Enterprise, unit: Region) -> bool:
    return path_within(enterprise.town.path, unit.path)


def require_enterprise_within(enterprise: Enterprise, unit: Region) -> None:
    if not enterprise_within(enterprise, unit):
        if unit.level == RegionLevel.TOWN:
            raise PermissionDenied(f"“{enterprise.name}”不是{unit.name}的企业，镇应急管理中心只能为本镇企业登记。")
        raise PermissionDenied(f"“{enterprise.name}”不在{unit.name}辖区内。")


def parent_company_within(company: ParentCompany, unit: Region) -> bool:
    """A parent company concerns a unit when it is registered there or owns a mine there."""
    if path_within(company.region.path, unit.path):
        return True
    return company.enterprises.filter(in_subtree(unit.path, "town__path")).exists()


def require_parent_company_within(company: ParentCompany, unit: Region) -> None:
    if not parent_company_within(company, unit):
        raise PermissionDenied(f"上级企业“{company.name}”在{unit.name}没有所属矿山，不能登记。")


def can_change_unit_record(user: Any, unit: Region) -> bool:
    """Only staff of the unit that made a record change or delete it."""
    mine = acting_unit(user)
    return mine is not None and mine.pk == unit.pk


def require_change_unit_record(user: Any, unit: Region) -> None:
    if not can_change_unit_record(user, unit):
        raise PermissionDenied(f"该记录由{unit.name}登记，只有{unit.name}可以修改或删除。")


def is_enterprise_user_of(user: Any, enterprise: Enterprise) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.role in ENTERPRISE_ROLES
        and user.enterprise_id == enterprise.pk
    )


def is_principal_of(user: Any, enterprise: Enterprise) -> bool:
    """The account of the enterprise's 主要负责人 (法定代表人 / 实际控制人 / 实际负责人)."""
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.role == Role.ENTERPRISE_PRINCIPAL
        and user.enterprise_id == enterprise.pk
        and user.person_id is not None
    )


def can_file_self_check(user: Any, enterprise: Enterprise) -> bool:
    """The enterprise's own accounts, or the staff of its town filing on its behalf."""
    if is_enterprise_user_of(user, enterprise):
        return True
    unit = acting_unit(user)
    return unit is not None and unit.level == RegionLevel.TOWN and enterprise_within(enterprise, unit)


def can_keep_duty_log(user: Any, enterprise: Enterprise) -> bool:
    """The enterprise's own accounts, its town's staff, the county's staff."""
    if is_enterprise_user_of(user, enterprise):
        return True
    unit = acting_unit(user)
    return unit is not None and enterprise_within(enterprise, unit)
