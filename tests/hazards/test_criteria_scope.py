"""National reference data is national: the 矿安〔2022〕88号 catalogue changes only by a superuser; a county adds
items of its own, seen and cited in that county only. Through the API, the admin site and the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from rest_framework.test import APIClient

from hazards import services
from hazards.choices import HazardCategory, HazardLevel, HazardSource, MineType
from hazards.criteria import CriterionCatalogue
from hazards.forms import criteria_for
from hazards.models import Hazard, MajorHazardCriterion
from portal.choices import Role
from portal.models import User
from tests.conftest import Cast, World
from tests.factories import UserFactory
from tests.hazards.conftest import open_pit_item
from tests.otp_helpers import force_login_verified


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def _superuser() -> User:
    return UserFactory(username="root", role="", is_superuser=True, is_staff=True)


def _other_admin(world: World) -> User:
    return UserFactory(username="other_admin", role=Role.ADMIN, region=world.other_county, is_staff=True)


def _county_item(world: World) -> MajorHazardCriterion:
    return services.criterion_create(
        actor=UserFactory(username="admin_of_county", role=Role.ADMIN, region=world.county),
        data={"document": "泽应急〔2025〕3号", "mine_type": MineType.OPEN_PIT, "number": 1, "label": "（一）",
              "text": "本县补充：采场边坡未按设计台阶开采。"},
    )  # fmt: skip


def test_county_admin_cannot_retire_or_change_a_national_item(cast: Cast, world: World, catalogue: None) -> None:
    item = open_pit_item()
    response = api(cast.admin).patch(f"/api/v1/hazard-criteria/{item.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 403
    assert "超级管理员" in str(response.json())
    response = api(cast.admin).patch(f"/api/v1/hazard-criteria/{item.pk}/", {"text": "改写"}, format="json")
    assert response.status_code == 403
    stored = MajorHazardCriterion.objects.get(pk=item.pk)
    assert stored.is_active and stored.text == item.text
    with pytest.raises(PermissionDenied):
        services.criterion_update(actor=cast.admin, criterion=item, data={"is_active": False})
    # So every county's major-hazard reports citing it are still accepted.
    hazard = services.hazard_report(
        actor=cast.other_clerk, enterprise=world.enterprise_other, level=HazardLevel.MAJOR, description="外县边坡",
        category=HazardCategory.SLOPE, source=HazardSource.SELF_CHECK, found_on=dt.date(2024, 5, 1), criterion=item,
    )  # fmt: skip
    assert hazard.criterion == item


def test_superuser_changes_the_national_catalogue(world: World, catalogue: None) -> None:
    item = open_pit_item()
    response = api(_superuser()).patch(f"/api/v1/hazard-criteria/{item.pk}/", {"note": "核对"}, format="json")
    assert response.status_code == 200, response.content
    assert MajorHazardCriterion.objects.get(pk=item.pk).note == "核对"


def test_national_items_are_read_only_in_the_admin_for_a_county_admin(
    cast: Cast, world: World, catalogue: None
) -> None:
    item = open_pit_item()
    client = Client()
    force_login_verified(client, cast.admin)
    page = client.get(f"/admin/hazards/majorhazardcriterion/{item.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    response = client.post(
        f"/admin/hazards/majorhazardcriterion/{item.pk}/change/",
        {"document": item.document, "mine_type": item.mine_type, "number": item.number, "label": item.label,
         "text": item.text, "sub_items": "[]", "note": "", "_save": "保存"},
    )  # fmt: skip
    assert response.status_code == 403
    # Nor can a county admin make a national item by choosing no region (the field is not theirs).
    added = client.post(
        "/admin/hazards/majorhazardcriterion/add/",
        {"document": "矿安〔2099〕1号", "mine_type": MineType.OPEN_PIT, "number": "1", "label": "（一）",
         "text": "冒充全国条目", "sub_items": "[]", "region": "", "is_active": "on", "_save": "保存"},
    )  # fmt: skip
    assert added.status_code == 302
    assert MajorHazardCriterion.objects.get(document="矿安〔2099〕1号").region == world.county
    with pytest.raises(PermissionDenied):
        services.criterion_create(
            actor=cast.admin,
            data={"document": "矿安〔2099〕2号", "mine_type": MineType.OPEN_PIT, "number": 1, "label": "（一）",
                  "text": "x", "region": None},
        )  # fmt: skip


VISIBLE = {
    "clerk": True, "principal": True, "town_a_staff": True, "town_b_staff": True, "county_staff": True,
    "county_leader": True, "admin": True, "city_viewer": False, "other_county_staff": False, "other_clerk": False,
}  # fmt: skip


def test_a_countys_items_are_seen_in_that_county_only(cast: Cast, world: World, catalogue: None) -> None:
    item = _county_item(world)
    assert item.region == world.county
    for member, visible in VISIBLE.items():
        response = api(getattr(cast, member)).get("/api/v1/hazard-criteria/", {"document": item.document})
        ids = [row["id"] for row in response.json()["results"]]
        assert (item.pk in ids) is visible, member
        national = api(getattr(cast, member)).get("/api/v1/hazard-criteria/", {"page_size": 100}).json()
        assert national["count"] == 64 + (1 if visible else 0), member
    # The other county's admin neither sees nor changes it.
    response = api(_other_admin(world)).patch(f"/api/v1/hazard-criteria/{item.pk}/", {"note": "x"}, format="json")
    assert response.status_code == 404
    with pytest.raises(PermissionDenied):
        services.criterion_update(actor=_other_admin(world), criterion=item, data={"note": "x"})
    # The county's admin does.
    response = api(cast.admin).patch(f"/api/v1/hazard-criteria/{item.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 200


def _major(criterion: MajorHazardCriterion, **extra: Any) -> dict[str, Any]:
    return {
        "level": "major", "description": "+320平台边坡有浮石", "category": "slope", "source": "self_check",
        "found_on": "2024-05-01", "criterion": criterion.pk, **extra,
    }  # fmt: skip


def test_a_countys_items_are_cited_in_that_county_only(cast: Cast, world: World, catalogue: None) -> None:
    item = _county_item(world)
    response = api(cast.other_clerk).post("/api/v1/hazards/", _major(item), format="json")
    assert response.status_code == 400 and "判定依据不存在或已停用" in str(response.json())
    assert not Hazard.objects.filter(enterprise=world.enterprise_other).exists()
    response = api(cast.principal).post("/api/v1/hazards/", _major(item), format="json")
    assert response.status_code == 201, response.content
    # The pages offer it for the county's enterprises only.
    assert item in criteria_for(world.enterprise_a)
    assert item not in criteria_for(world.enterprise_other)
    assert item not in criteria_for(None)


def test_the_ledger_import_matches_a_countys_items_in_that_county_only(world: World, catalogue: None) -> None:
    item = _county_item(world)
    ours = CriterionCatalogue.load(at_path=world.town_a.path)
    theirs = CriterionCatalogue.load(at_path=world.other_town.path)
    assert item in ours.items.values() and item not in theirs.items.values()
    assert open_pit_item() in theirs.items.values()  # the national items apply everywhere


def test_a_county_adds_no_item_under_a_national_document(cast: Cast, world: World, catalogue: None) -> None:
    data = {"document": open_pit_item().document, "mine_type": MineType.OPEN_PIT, "number": 99, "label": "（九十九）",
            "text": "冒充全国条目"}  # fmt: skip
    response = api(cast.admin).post("/api/v1/hazard-criteria/", data, format="json")
    assert response.status_code == 403 and "全国性判定依据" in str(response.json())
    assert not MajorHazardCriterion.objects.filter(number=99).exists()
    item = _county_item(world)
    response = api(cast.admin).patch(
        f"/api/v1/hazard-criteria/{item.pk}/", {"document": open_pit_item().document}, format="json"
    )
    assert response.status_code == 403
    assert MajorHazardCriterion.objects.get(pk=item.pk).document == "泽应急〔2025〕3号"
    created = api(_superuser()).post("/api/v1/hazard-criteria/", data, format="json")
    assert created.status_code == 201 and MajorHazardCriterion.objects.get(number=99).region is None
