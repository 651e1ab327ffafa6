"""Over-long free text is refused with a Chinese message and changes nothing — through the API, the page's
form, the admin site and the ledger importer (a 1,000,000-character hazard description was accepted)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from hazards.choices import MineType
from hazards.ledger import ledger_import
from hazards.models import Hazard, HazardEvent, MajorHazardCriterion
from portal import limits
from tests.conftest import Cast, World
from tests.hazards.conftest import make_hazard
from tests.hazards.ledger_xlsx import row, simple
from tests.otp_helpers import force_login_verified

pytestmark = [pytest.mark.usefixtures("catalogue"), pytest.mark.django_db]

TOO_LONG = "隐" * (limits.TEXT_NOTE + 1)


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _report(**overrides: Any) -> dict[str, Any]:
    data = {
        "level": "general", "description": "+320平台边坡有浮石", "category": "slope", "source": "self_check",
        "found_on": "2024-05-01",
    }  # fmt: skip
    data.update(overrides)
    return data


def test_the_api_refuses_an_over_long_description_in_chinese(world: World, cast: Cast) -> None:
    response = _api(cast.clerk).post("/api/v1/hazards/", _report(description=TOO_LONG), format="json")
    assert response.status_code == 400
    assert response.json()["description"] == [f"不能超过 {limits.TEXT_NOTE} 个字。"]
    assert not Hazard.objects.exists()
    response = _api(cast.clerk).post("/api/v1/hazards/", _report(description="隐" * limits.TEXT_NOTE), format="json")
    assert response.status_code == 201, response.content


def test_the_api_refuses_over_long_measures_and_comment_on_an_edit(world: World, cast: Cast) -> None:
    hazard = make_hazard(world.enterprise_a, description="边坡浮石")
    events, measures = HazardEvent.objects.count(), hazard.measures
    url = f"/api/v1/hazards/{hazard.pk}/"
    response = _api(cast.clerk).patch(url, {"measures": TOO_LONG}, format="json")
    assert response.status_code == 400 and "不能超过" in response.json()["measures"][0]
    comment = "意" * (limits.TEXT_COMMENT + 1)
    response = _api(cast.clerk).patch(url, {"description": "边坡浮石（已核实）", "comment": comment}, format="json")
    assert response.status_code == 400 and "不能超过 1000 个字" in response.json()["comment"][0]
    hazard.refresh_from_db()
    assert hazard.description == "边坡浮石" and hazard.measures == measures and HazardEvent.objects.count() == events


def test_the_report_page_refuses_an_over_long_description_in_chinese(world: World, cast: Cast) -> None:
    client = Client()
    client.force_login(cast.clerk)
    response = client.post(reverse("hazards:hazard-report"), _report(description=TOO_LONG))
    assert response.status_code in (200, 400)
    errors = response.context["form"].errors["description"]
    assert errors == [f"不能超过 {limits.TEXT_NOTE} 个字（现有 {limits.TEXT_NOTE + 1} 个字）。"]
    assert f'maxlength="{limits.TEXT_NOTE}"' in response.content.decode()  # the browser stops typing there
    assert not Hazard.objects.exists()


def test_the_admin_refuses_an_over_long_criterion_text(cast: Cast) -> None:
    client = Client()
    force_login_verified(client, cast.admin)
    data = {
        "document": "矿安〔2024〕41号", "mine_type": MineType.OPEN_PIT, "number": "1", "label": "（一）",
        "text": TOO_LONG, "sub_items": "[]", "cross_checked_by": "[]", "is_active": "on",
    }  # fmt: skip
    response = client.post("/admin/hazards/majorhazardcriterion/add/", data)
    assert response.status_code == 200
    assert f"不能超过 {limits.TEXT_NOTE} 个字（现有 {limits.TEXT_NOTE + 1} 个字）" in response.content.decode()
    assert not MajorHazardCriterion.objects.filter(document="矿安〔2024〕41号").exists()


def test_the_ledger_importer_refuses_an_over_long_cell_by_row_and_column(world: World, cast: Cast) -> None:
    data = simple([row("YH-001"), row("YH-002", TOO_LONG)])
    result = ledger_import(source=data, enterprise=world.enterprise_a, actor=cast.clerk)
    assert not result.committed and not Hazard.objects.exists()
    assert result.error_lines() == [
        f"第3行 隐患内容：不能超过 {limits.TEXT_NOTE} 个字（现有 {limits.TEXT_NOTE + 1} 个字）。"
    ]
    long_measures = simple([row("YH-001", measures="措" * (limits.TEXT_NOTE + 1))])
    result = ledger_import(source=long_measures, enterprise=world.enterprise_a, actor=cast.clerk)
    assert [line.split("：")[0] for line in result.error_lines()] == ["第2行 整改措施"]
    fits = simple([row("YH-001", "隐" * limits.TEXT_NOTE)])
    assert ledger_import(source=fits, enterprise=world.enterprise_a, actor=cast.clerk).committed
