"""POST /api/v1/hazard-bulk/<step>/ (hazards.api.bulk): the 待办 page's bulk steps for API clients — one
comment, many hazards, one result per hazard; the same service and refusals as one step at a time."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from hazards.bulk import MAX_ITEMS
from hazards.choices import HazardLevel, HazardStatus
from hazards.models import Hazard, HazardEvent
from portal.choices import AuditAction
from portal.models import AuditEvent
from tests.conftest import Cast, World
from tests.hazards.conftest import add_evidence, make_hazard

GENERAL = HazardLevel.GENERAL


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _rectified(enterprise: Any, **fields: Any) -> Hazard:
    hazard = make_hazard(enterprise, level=GENERAL, status=HazardStatus.RECTIFIED, **fields)
    add_evidence(hazard)
    return hazard


def test_the_town_verifies_many_and_gets_a_result_for_each(cast: Cast, world: World) -> None:
    first = _rectified(world.enterprise_a)
    own_work = _rectified(world.enterprise_a, rectified_by=cast.town_a_staff)
    still_rectifying = make_hazard(world.enterprise_a, level=GENERAL, status=HazardStatus.RECTIFYING)
    elsewhere = _rectified(world.enterprise_b)
    ids = [first.pk, own_work.pk, still_rectifying.pk, elsewhere.pk, first.pk]
    response = _client(cast.town_a_staff).post(
        "/api/v1/hazard-bulk/verify/", {"ids": ids, "comment": "经现场核查，已整改到位。"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["action"] == "验收" and body["done"] == 1 and body["refused"] == 3
    results = {item["id"]: item for item in body["results"]}
    assert [item["id"] for item in body["results"]] == ids[:4]  # in the order sent, once each
    assert results[first.pk] == {"id": first.pk, "ok": True, "message": "已验收", "status": "verified"}
    assert "整改填报人不能验收自己填报的整改" in results[own_work.pk]["message"]
    assert results[own_work.pk]["status"] == "rectified"
    assert not results[still_rectifying.pk]["ok"] and "整改中" in results[still_rectifying.pk]["message"]
    assert results[elsewhere.pk] == {
        "id": elsewhere.pk, "ok": False, "message": "隐患不存在或不在您的辖区内。", "status": None,
    }  # fmt: skip
    event = HazardEvent.objects.get(hazard=first, action="verify")
    assert event.comment == "经现场核查，已整改到位。" and event.actor == cast.town_a_staff
    assert set(Hazard.objects.filter(pk__in=ids[1:4]).values_list("status", flat=True)) == {
        HazardStatus.RECTIFIED, HazardStatus.RECTIFYING,
    }  # fmt: skip
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, object_id=str(elsewhere.pk)).exists()


def test_the_county_confirms_in_bulk(cast: Cast, world: World) -> None:
    waiting = [make_hazard(world.enterprise_a, status=HazardStatus.PENDING_COUNTY) for _ in range(2)]
    response = _client(cast.county_staff).post(
        "/api/v1/hazard-bulk/confirm-county/", {"ids": [h.pk for h in waiting]}, format="json"
    )
    assert response.status_code == 200 and response.json()["done"] == 2
    assert set(Hazard.objects.filter(pk__in=[h.pk for h in waiting]).values_list("status", flat=True)) == {
        HazardStatus.CONFIRMED
    }


def test_who_may_not_and_bad_input_change_nothing(cast: Cast, world: World) -> None:
    hazard = _rectified(world.enterprise_a)
    payload = {"ids": [hazard.pk]}
    # A role that never verifies: refused as a whole, whatever the ids.
    for user in (cast.clerk, cast.county_staff, cast.city_viewer):
        response = _client(user).post("/api/v1/hazard-bulk/verify/", payload, format="json")
        assert response.status_code == 403, user
        assert "验收" in response.json()["detail"]
    town = _client(cast.town_a_staff)
    # Steps that need more than a comment are not bulk steps.
    for step in ("send-back", "supervise", "sign-report", "nothing"):
        assert town.post(f"/api/v1/hazard-bulk/{step}/", payload, format="json").status_code == 404
    too_many = list(range(1, MAX_ITEMS + 2))
    for bad in ({"ids": []}, {"ids": "1,2"}, {"ids": too_many}, {"ids": [2**63]}, {"comment": "无编号"}):
        response = town.post("/api/v1/hazard-bulk/verify/", bad, format="json")
        assert response.status_code == 400, bad
        assert "ids" in response.json()
    assert APIClient().post("/api/v1/hazard-bulk/verify/", payload, format="json").status_code == 401
    hazard.refresh_from_db()
    assert hazard.status == HazardStatus.RECTIFIED
    assert not HazardEvent.objects.filter(hazard=hazard, action="verify").exists()
