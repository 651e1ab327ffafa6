"""The main menu is grouped into dropdowns (issue 13 §6) so that it fits on one line at 1280 px: each role
sees its entries under 隐患, 报表, 检查执法 and 系统; a group with one entry for a role is that entry; a
dropdown's badge is the sum of its entries'."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from portal.context_processors import group_menu
from tests.conftest import Cast


def _menu(user) -> str:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    html = client.get("/enterprises/").content.decode()
    return html.split('id="mainnav"')[1].split("</nav>")[0]


def test_grouping_and_the_summed_badge() -> None:
    items = [
        {"url_name": "home", "label": "工作台", "badge": 3},
        {"url_name": "hazards:hazard-list", "label": "隐患治理", "badge": 0},
        {"url_name": "hazards:work-queue", "label": "待办", "badge": 2},
        {"url_name": "reporting:index", "label": "月度报表", "badge": 1},
        {"url_name": "audit-list", "label": "操作日志", "badge": 0},
    ]
    menu = group_menu(items)
    assert [entry["label"] for entry in menu] == ["工作台", "隐患", "月度报表", "操作日志"]
    hazards = menu[1]
    assert [c["label"] for c in hazards["children"]] == ["隐患治理", "待办"] and hazards["badge"] == 2
    assert menu[2]["children"] is None and menu[2]["url_name"] == "reporting:index"


@pytest.mark.parametrize(
    ("member", "groups", "entries"),
    [
        ("town_a_staff", {"隐患", "报表", "检查执法"}, {"隐患治理", "待办", "月度报表", "执法问责", "预警"}),
        ("admin", {"报表", "检查执法", "系统"}, {"操作日志", "接口文档", "隐患治理"}),
        ("clerk", {"隐患"}, {"我的隐患", "待办", "专项行动", "履职台账"}),
    ],
)
def test_each_role_sees_its_groups(cast: Cast, member: str, groups: set[str], entries: set[str]) -> None:
    html = _menu(getattr(cast, member))
    toggles = set(re.findall(r'data-bs-toggle="dropdown"[^>]*>([^<]+)<', html))
    assert groups <= toggles, toggles
    assert not {"工作台", "企业名录"} & toggles
    for label in entries:
        assert f">{label}<" in html, label
    assert "退出" in html and "修改密码" in html
