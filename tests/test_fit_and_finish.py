"""Issue 13 §6, fit and finish: no English sort labels, tab titles with a separator, the region label,
forms that start from what is known, and the 履职日期 date picker (static JS, no inline script)."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import django_filters
import pytest
import time_machine
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from portal.choices import PersonRole, PrincipalKind
from portal.filters import LabeledOrderingFilter
from portal.models import User
from portal.templatetags.page_title import page_title
from tests.conftest import Cast, World
from tests.factories import PersonFactory

SH = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 3, 17)
NOW = dt.datetime(2026, 3, 17, 9, 30, tzinfo=SH)

# Every list page with a sort control (the enterprise directory, hazards, and the field-work lists).
LIST_PAGES = (
    "/enterprises/",
    "/hazards/",
    "/inspections/enforcement/",
    "/inspections/talks/",
    "/inspections/exams/",
    "/inspections/inspections/",
    "/inspections/duty-logs/",
)
# Latin letters a user may read in a sort label (none today: brand names or units would go here).
ASCII_ALLOWED: frozenset[str] = frozenset()
ASCII_WORD = re.compile(r"[A-Za-z]+")
SELECT_RE = re.compile(r'<select[^>]*name="ordering"[^>]*>(.*?)</select>', re.S)
OPTION_RE = re.compile(r"<option[^>]*>(.*?)</option>", re.S)


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _english(labels: list[str]) -> list[str]:
    return [label for label in labels if set(ASCII_WORD.findall(label)) - ASCII_ALLOWED]


@pytest.mark.parametrize("url", LIST_PAGES)
def test_sort_labels_are_chinese_on_every_list_page(cast: Cast, url: str) -> None:
    response = _client(cast.county_staff).get(url)
    assert response.status_code == 200
    filterset = response.context.get("filter") or response.context.get("filterset")
    assert filterset is not None, url
    if "ordering" in filterset.filters:
        assert isinstance(filterset.filters["ordering"], LabeledOrderingFilter), url
        labels = [str(label) for _, label in filterset.form.fields["ordering"].choices if label]
        assert any("降序" in label for label in labels), url
        assert _english(labels) == [], url
    # And as rendered: the page's sort select, where it has one, shows the same Chinese labels.
    for select in SELECT_RE.findall(response.content.decode()):
        rendered = [html.unescape(text).strip() for text in OPTION_RE.findall(select)]
        assert _english(rendered) == [], url


def test_every_sortable_filterset_uses_the_labeled_ordering_filter() -> None:
    import hazards.filters
    import inspections.filters
    import portal.filters

    sortable = []
    for module in (portal.filters, hazards.filters, inspections.filters):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, django_filters.FilterSet):
                for name, declared in value.base_filters.items():
                    if isinstance(declared, django_filters.OrderingFilter):
                        assert isinstance(declared, LabeledOrderingFilter), (value.__name__, name)
                        sortable.append(value.__name__)
    assert {"EnterpriseFilterSet", "HazardFilterSet", "EnforcementRecordFilterSet"} <= set(sortable)


def test_talk_and_enforcement_lists_say_qiye_not_enterprise(cast: Cast) -> None:
    for url in ("/inspections/talks/", "/inspections/enforcement/"):
        body = _client(cast.county_staff).get(url).content.decode()
        assert "企业（降序）" in body
        assert "Enterprise" not in body


def test_an_ordering_parameter_without_a_chinese_label_is_refused_when_declared() -> None:
    with pytest.raises(ImproperlyConfigured, match="has no Chinese label"):
        LabeledOrderingFilter(fields=(("enterprise__name", "enterprise"),), field_labels={"name": "企业名称"})
    # A label keyed by the parameter or by the model field both count.
    for labels in ({"enterprise": "企业"}, {"enterprise__name": "企业"}):
        choices = LabeledOrderingFilter(fields=(("enterprise__name", "enterprise"),), field_labels=labels).extra[
            "choices"
        ]
        assert choices == [("enterprise", "企业"), ("-enterprise", "企业（降序）")]
    # The stock filter, for comparison, is what let English through with a label keyed by the parameter.
    stock = django_filters.OrderingFilter(
        fields=(("enterprise__name", "enterprise"),), field_labels={"enterprise": "企业"}
    )
    assert _english([str(label) for _, label in stock.extra["choices"]])


def test_tab_titles_have_a_separator(cast: Cast) -> None:
    body = _client(cast.county_staff).get("/inspections/talks/").content.decode()
    assert "<title>谈心谈话 · 非煤矿山安全监管门户</title>" in body
    body = _client(cast.county_staff).get("/inspections/enforcement/").content.decode()
    assert "<title>执法与追责问责 · 非煤矿山安全监管门户</title>" in body
    assert page_title("待办") == "待办 · 非煤矿山安全监管门户"
    assert page_title("  待办\n ") == "待办 · 非煤矿山安全监管门户"
    assert page_title("") == "非煤矿山安全监管门户"


def test_no_page_title_runs_into_the_portal_name(cast: Cast) -> None:
    for url in (*LIST_PAGES, "/", "/reports/"):
        body = _client(cast.county_staff).get(url).content.decode()
        (title,) = re.findall(r"<title>(.*?)</title>", body, re.S)
        assert title == "非煤矿山安全监管门户" or title.endswith(" · 非煤矿山安全监管门户"), (url, title)


def test_region_label_is_not_double_bracketed(cast: Cast, world: World) -> None:
    body = _client(cast.county_staff).get("/reports/").content.decode()
    assert "泽州县（县级）" in body
    assert "巴公镇（乡镇级）" in body
    assert "（县（" not in body
    assert world.county.level_tag == "县级" and world.city.level_tag == "市级"
    assert world.province.level_tag == "省级" and world.town_a.level_tag == "乡镇级"


def _selected_person(body: str) -> list[str]:
    select = re.search(r'<select[^>]*name="person"[^>]*>(.*?)</select>', body, re.S)
    assert select
    return re.findall(r'<option value="(\d+)"[^>]*selected', select.group(1))


def test_exam_starts_with_the_enterprise_principal(cast: Cast, world: World) -> None:
    other_principal = PersonFactory(
        enterprise=world.enterprise_a2, name="李石料", role=PersonRole.PRINCIPAL,
        principal_kind=PrincipalKind.LEGAL_REPRESENTATIVE,
    )  # fmt: skip
    outside = PersonFactory(enterprise=world.enterprise_other, role=PersonRole.PRINCIPAL)
    town = _client(cast.town_a_staff)
    # Two principals offered and no enterprise chosen: nothing is guessed.
    assert _selected_person(town.get("/inspections/exams/new/").content.decode()) == []
    chosen = town.get(f"/inspections/exams/new/?enterprise={world.enterprise_a2.pk}").content.decode()
    assert _selected_person(chosen) == [str(other_principal.pk)]
    chosen = town.get(f"/inspections/exams/new/?enterprise={world.enterprise_a.pk}").content.decode()
    assert _selected_person(chosen) == [str(cast.principal.person_id)]
    # An enterprise outside the user's unit selects nobody (and its principal is not even offered).
    outside_body = town.get(f"/inspections/exams/new/?enterprise={world.enterprise_other.pk}").content.decode()
    assert _selected_person(outside_body) == []
    assert f'value="{outside.pk}"' not in outside_body
    # Town B has one enterprise with one principal: it starts selected.
    PersonFactory(enterprise=world.enterprise_b, role=PersonRole.PRINCIPAL)
    (only,) = _selected_person(_client(cast.town_b_staff).get("/inspections/exams/new/").content.decode())
    assert world.enterprise_b.people.filter(pk=int(only), role=PersonRole.PRINCIPAL).exists()


def test_duty_dates_use_the_date_picker_without_inline_script(cast: Cast) -> None:
    body = _client(cast.clerk).get("/inspections/duty-logs/new/").content.decode()
    area = re.search(r'<textarea[^>]*name="on_site_text"[^>]*>', body)
    assert area and "data-date-list" in area.group(0)
    assert '<script src="/static/portal/date_list.js"' in body
    # The CSP forbids inline script: every script tag on the page loads a file.
    for tag in re.findall(r"<script[^>]*>", body):
        assert "src=" in tag, tag
    path = finders.find("portal/date_list.js")
    assert path is not None
    script = Path(str(path)).read_text()
    assert "textarea[data-date-list]" in script and 'type = "date"' in script
    assert "script-src 'self'" in settings.CONTENT_SECURITY_POLICY


@time_machine.travel(NOW, tick=False)
def test_duty_dates_from_the_picker_are_saved(cast: Cast, world: World) -> None:
    """What the picker writes (one ISO date a line) is what the form parses; bad input changes nothing."""
    from inspections.models import PrincipalDutyLog

    clerk = _client(cast.clerk)
    data: dict[str, Any] = {
        "enterprise": world.enterprise_a.pk, "person": cast.principal.person_id, "month_text": "2026-03",
        "on_site_text": "2026-03-02\n2026-03-03\n2026-03-04", "inspections_led": "1", "safety_meetings": "1",
        "major_hazard_investigation_on": "", "note": "",
    }  # fmt: skip
    bad = clerk.post("/inspections/duty-logs/new/", {**data, "on_site_text": "2026-03-02\n三月五日"})
    assert bad.status_code == 200 and "不是有效日期" in bad.content.decode()
    assert not PrincipalDutyLog.objects.exists()
    saved = clerk.post("/inspections/duty-logs/new/", data)
    assert saved.status_code == 302
    log = PrincipalDutyLog.objects.get()
    assert [d.isoformat() for d in log.on_site_days()] == ["2026-03-02", "2026-03-03", "2026-03-04"]
