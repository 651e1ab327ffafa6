"""The inspections lists' enterprise filter at province scale: beyond the hazard list's option limit it offers
the chosen town's enterprises (or asks for a town first), and still accepts any enterprise in scope."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from hazards import views as hazard_views
from tests.conftest import Cast, World

LISTS = [
    "inspections:inspection-list",
    "inspections:enforcement-list",
    "inspections:exam-list",
    "inspections:duty-log-list",
]


def _page(user: object, name: str, **params: object) -> str:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    response = client.get(reverse(name), params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("name", LISTS)
def test_enterprise_options_capped(cast: Cast, world: World, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    option_a = f">{world.enterprise_a.name}</option>"
    option_b = f">{world.enterprise_b.name}</option>"
    body = _page(cast.county_staff, name)
    assert option_a in body and option_b in body  # few enough: all offered
    monkeypatch.setattr(hazard_views, "ENTERPRISE_OPTIONS_LIMIT", 2)  # 3 in scope, 2 in 巴公镇
    body = _page(cast.county_staff, name)
    assert "企业较多" in body and option_a not in body and option_b not in body
    chosen = _page(cast.county_staff, name, enterprise=world.enterprise_b.pk)
    assert option_b in chosen and option_a not in chosen  # the chosen one stays selectable
    if name != "inspections:exam-list" and name != "inspections:duty-log-list":  # the lists with a town filter
        of_town = _page(cast.county_staff, name, town=world.town_a.pk)
        assert option_a in of_town and option_b not in of_town
    assert option_b not in _page(cast.county_staff, name, enterprise=str(2**70))
