"""Issue 13 §6: the hazard step forms start from what is known — 挂牌督办's 督办单位 (the user's county
bureau) and 督办日期 (today), and 整改完成日期 (today) — and leave the unknown blank."""

from __future__ import annotations

import datetime as dt
import html
import re
from zoneinfo import ZoneInfo

import time_machine
from django.test import Client
from django.urls import reverse

from hazards.choices import HazardLevel, HazardStatus
from hazards.forms import bureau_name
from portal.models import User
from tests.conftest import Cast, World
from tests.hazards.conftest import make_hazard

SH = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 3, 17)
NOW = dt.datetime(2026, 3, 17, 9, 30, tzinfo=SH)


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form_html(body: str, slug: str) -> str:
    match = re.search(rf'data-testid="step-{slug}".*?</form>', body, re.S)
    assert match, slug
    return match.group(0)


def _value(form: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', form)
    assert match, name
    value = re.search(r'value="([^"]*)"', match.group(0))
    return html.unescape(value.group(1)) if value else None


@time_machine.travel(NOW, tick=False)
def test_supervision_form_starts_with_the_bureau_and_today(cast: Cast, world: World, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, level=HazardLevel.MAJOR, status=HazardStatus.CONFIRMED)
    body = _client(cast.county_staff).get(reverse("hazards:hazard-detail", args=[hazard.pk])).content.decode()
    form = _form_html(body, "supervise")
    assert _value(form, "supervise-unit") == "泽州县应急管理局"
    assert _value(form, "supervise-date") == TODAY.isoformat()
    assert _value(form, "supervise-doc_number") is None  # not known: stays blank
    # The bureau is the user's own county, never the hazard's when the user has one.
    assert bureau_name(world.other_county) == "上党区应急管理局"
    assert bureau_name(None) == ""
    # Town staff are not offered the step at all.
    town_body = _client(cast.town_a_staff).get(reverse("hazards:hazard-detail", args=[hazard.pk])).content.decode()
    assert 'data-testid="step-supervise"' not in town_body


@time_machine.travel(NOW, tick=False)
def test_rectified_on_starts_as_today(cast: Cast, world: World, catalogue: None) -> None:
    general = make_hazard(world.enterprise_a, level=HazardLevel.GENERAL, status=HazardStatus.RECTIFYING)
    body = _client(cast.town_a_staff).get(reverse("hazards:hazard-detail", args=[general.pk])).content.decode()
    assert _value(_form_html(body, "mark-rectified"), "mark-rectified-rectified_on") == TODAY.isoformat()
    major = make_hazard(world.enterprise_a, level=HazardLevel.MAJOR, status=HazardStatus.RECTIFYING)
    body = _client(cast.clerk).get(reverse("hazards:hazard-detail", args=[major.pk])).content.decode()
    assert _value(_form_html(body, "request-closure"), "request-closure-rectified_on") == TODAY.isoformat()
