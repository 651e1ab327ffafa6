from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from portal import rules
from portal.choices import Role

# Campaigns and field work (inspections): read by every regional role.
_FIELD_READERS: set[str] = {Role.TOWN_STAFF, Role.COUNTY_STAFF, Role.COUNTY_LEADER, Role.ADMIN, Role.CITY_VIEWER}

# (url name, label, roles that see it; None = every signed-in user). The menu groups them (NAV_GROUPS) so that
# it fits on one line at 1280 px.
NAVIGATION: list[tuple[str, str, set[str] | None]] = [
    ("home", "工作台", None),
    ("enterprise-list", "企业名录", None),
    ("hazards:hazard-list", "我的隐患", {Role.ENTERPRISE_CLERK, Role.ENTERPRISE_PRINCIPAL}),
    ("hazards:hazard-list", "隐患治理", _FIELD_READERS),
    (
        "hazards:work-queue",
        "待办",
        {Role.ENTERPRISE_CLERK, Role.ENTERPRISE_PRINCIPAL, Role.TOWN_STAFF, Role.COUNTY_STAFF},
    ),
    (
        "reporting:index",
        "月度报表",
        {Role.TOWN_STAFF, Role.COUNTY_STAFF, Role.COUNTY_LEADER, Role.ADMIN, Role.CITY_VIEWER},
    ),
    (
        "reporting:dashboard",
        "报表看板",
        {Role.TOWN_STAFF, Role.COUNTY_STAFF, Role.COUNTY_LEADER, Role.ADMIN, Role.CITY_VIEWER},
    ),
    ("inspections:campaign-list", "专项行动", None),
    ("inspections:inspection-list", "检查", _FIELD_READERS),
    ("inspections:enforcement-list", "执法问责", _FIELD_READERS),
    ("inspections:duty-log-list", "履职台账", None),
    ("inspections:warning-list", "预警", _FIELD_READERS),
    ("audit-list", "操作日志", {Role.ADMIN}),
    ("api-docs", "接口文档", {Role.ADMIN}),
]


# Menu entry (url name) -> the dropdown it sits in; entries not named here stand alone. A group that shows a
# user a single entry is drawn as that entry.
NAV_GROUPS: dict[str, str] = {
    "hazards:hazard-list": "隐患",
    "hazards:work-queue": "隐患",
    "reporting:index": "报表",
    "reporting:dashboard": "报表",
    "inspections:inspection-list": "检查执法",
    "inspections:enforcement-list": "检查执法",
    "inspections:duty-log-list": "检查执法",
    "inspections:warning-list": "检查执法",
    "audit-list": "系统",
    "api-docs": "系统",
}


def group_menu(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The flat menu entries grouped into dropdowns, in the order of their first entry."""
    menu: list[dict[str, Any]] = []
    groups: dict[str, dict[str, Any]] = {}
    for item in items:
        group_label = NAV_GROUPS.get(item["url_name"])
        if group_label is None:
            menu.append({**item, "children": None})
            continue
        group = groups.get(group_label)
        if group is None:
            group = groups[group_label] = {"url_name": "", "label": group_label, "badge": 0, "children": []}
            menu.append(group)
        group["children"].append(item)
        group["badge"] += item["badge"]
    for index, entry in enumerate(menu):
        if entry["children"] is not None and len(entry["children"]) == 1:
            menu[index] = {**entry["children"][0], "children": None}
    return menu


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    # The menu badges: the 工作台's counts (portal/worklist.py). A page that assembled them (the home page)
    # shows them at once; any other page loads them after it has rendered (portal.js, /me/badges/), so that
    # no page pays the worklist's queries for its menu.
    from portal import worklist

    counts = (
        worklist.badge_counts(worklist.request_sections(request)) if worklist.request_has_sections(request) else None
    )
    items = [
        {"url_name": name, "label": label, "badge": (counts or {}).get(name, 0)}
        for name, label, roles in NAVIGATION
        if roles is None or rules.has_role(user, roles)
    ]
    if counts is not None:
        items[0]["badge"] = sum(counts.values())
    return {"nav_items": group_menu(items), "nav_badges_deferred": counts is None}
