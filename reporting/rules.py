"""Who may open, submit and sign the monthly tables, registered with portal.rules (ReportingConfig.ready).

Scope is `visible_to` as everywhere; these rules add the role: enterprise accounts never see the tables,
the filing unit's own staff submit its table, the county's 分管负责人 signs.
"""

from __future__ import annotations

from typing import Any

from portal import rules
from portal.choices import RegionLevel, Role
from portal.scoping import path_within

# Who may open the tables at all; enterprise accounts never see them.
REPORT_ROLES = frozenset({Role.TOWN_STAFF, Role.COUNTY_STAFF, Role.COUNTY_LEADER, Role.ADMIN, Role.CITY_VIEWER})
# The table of a town is submitted by its 镇应急管理中心, a county's by its 股室 or 管理员.
TOWN_FILERS = frozenset({Role.TOWN_STAFF})
COUNTY_FILERS = frozenset({Role.COUNTY_STAFF, Role.ADMIN})


def sees_reports(user: Any, _obj: Any = None) -> bool:
    if not rules.is_signed_in(user):
        return False
    return bool(user.is_superuser or (user.enterprise_id is None and user.role in REPORT_ROLES))


def submits(user: Any, report: Any) -> bool:
    """The staff of the table's own region (a town's for a town, the county's desk for a county)."""
    if rules.is_superuser(user):
        return True
    if user.region_id != report.region_id:
        return False
    filers = TOWN_FILERS if report.region.level == RegionLevel.TOWN else COUNTY_FILERS
    return user.role in filers


def signs(user: Any, report: Any) -> bool:
    """The county's 分管负责人 (or a superuser), while the account is active."""
    if not user.is_active:
        return False
    if rules.is_superuser(user):
        return True
    return rules.leads_county(user) and path_within(report.region.path, user.region.path)


def register() -> None:
    rules.register("reporting.view", allow=sees_reports, refusal="您的角色无权查看月度报表。", per_object=False)
    rules.register("reporting.submit", allow=submits, refusal="只有填报单位的工作人员可以报送这张报表。")
    rules.register("reporting.sign", allow=signs, refusal="只有本县的分管负责人可以签字。")
    rules.register(
        "reporting.reset_schedule",
        allow=lambda user, _obj: rules.is_admin(user),
        refusal="只有管理员可以重置报表定时任务。",
        per_object=False,
    )
