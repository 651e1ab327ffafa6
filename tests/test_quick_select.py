"""portal.widgets' selects write the same markup as Django's template-rendered ones, much faster; the filter
forms of the pages use them, and a hostile name is escaped."""

from __future__ import annotations

import re
import time

import pytest
from django import forms
from django.urls import reverse

from portal.widgets import QuickSelect, QuickSelectMultiple
from tests.factories import EnterpriseFactory, RegionFactory

CHOICES = [
    ("", "全部"),
    (1, "巴公镇"),
    (2, '<script>alert("x")</script> & "引号"'),
    ("组", [(3, "甲"), (4, "乙'")]),
    (None, "无"),
]


def _flat(markup: str) -> str:
    return re.sub(r">\s+<", "><", str(markup)).strip()


@pytest.mark.parametrize("value", [None, "", 1, "2", 4, "999"])
def test_quick_select_writes_what_djangos_select_writes(value: object) -> None:
    attrs = {"class": "form-select form-select-sm", "id": "id_town", "required": True, "disabled": False}
    expected = forms.Select(attrs=attrs, choices=CHOICES).render("town", value)
    assert _flat(QuickSelect(attrs=attrs, choices=CHOICES).render("town", value)) == _flat(expected)


@pytest.mark.parametrize("value", [None, [], ["1", "3"], [2, 4]])
def test_quick_select_multiple_writes_what_djangos_select_writes(value: object) -> None:
    expected = forms.SelectMultiple(attrs={"id": "id_kind"}, choices=CHOICES).render("kind", value)
    assert _flat(QuickSelectMultiple(attrs={"id": "id_kind"}, choices=CHOICES).render("kind", value)) == _flat(expected)


def test_a_hostile_label_is_escaped() -> None:
    markup = str(QuickSelect(choices=CHOICES).render("town", None))
    assert "<script>" not in markup
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;引号&quot;" in markup


def test_a_thousand_options_cost_a_fraction_of_the_templates() -> None:
    choices = [("", "全部"), *((n, f"第{n}镇") for n in range(1, 1500))]
    started = time.process_time()
    slow = forms.Select(choices=choices).render("town", 700)
    template_cpu = time.process_time() - started
    started = time.process_time()
    quick = QuickSelect(choices=choices).render("town", 700)
    quick_cpu = time.process_time() - started
    assert _flat(quick) == _flat(slow)
    assert quick_cpu < template_cpu / 3, (quick_cpu, template_cpu)


def test_the_field_work_filters_offer_their_towns_through_the_quick_select(cast, world, client) -> None:
    town = RegionFactory(code="140525199", name="<b>新</b>镇", level="town", parent=world.county)
    EnterpriseFactory(name="新镇矿业", town=town)
    client.force_login(cast.county_staff)
    for name in ("inspections:enforcement-list", "inspections:inspection-list", "inspections:talk-list"):
        page = client.get(reverse(name), {"town": town.pk}).content.decode()
        assert f'<option value="{town.pk}" selected>&lt;b&gt;新&lt;/b&gt;镇</option>' in page
        assert f'<option value="{world.other_town.pk}"' not in page  # out of scope: not offered
