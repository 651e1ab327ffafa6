"""The admin site: the catalogue is editable (audited); hazards are read-only and scoped to the county."""

from __future__ import annotations

import pytest
from django.test import Client

from hazards.choices import MineType
from hazards.models import MajorHazardCriterion
from portal.models import AuditEvent
from tests.conftest import Cast, World
from tests.hazards.conftest import make_hazard
from tests.otp_helpers import force_login_verified


def test_county_admin_reads_own_county_hazards_only(world: World, cast: Cast, catalogue: None) -> None:
    mine = make_hazard(world.enterprise_a, description="本县的隐患：边坡浮石")
    other = make_hazard(world.enterprise_other, description="外县的隐患：排土场")
    client = Client()
    force_login_verified(client, cast.admin)
    body = client.get("/admin/hazards/hazard/").content.decode()
    assert "本县的隐患" in body and "外县的隐患" not in body
    page = client.get(f"/admin/hazards/hazard/{mine.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()  # read-only: changes go through the services
    assert client.get(f"/admin/hazards/hazard/{other.pk}/change/").status_code == 302
    assert client.get("/admin/hazards/hazard/add/").status_code == 403


def test_admin_adds_a_criterion_and_it_is_audited(cast: Cast, catalogue: None) -> None:
    client = Client()
    force_login_verified(client, cast.admin)
    response = client.post(
        "/admin/hazards/majorhazardcriterion/add/",
        {
            "document": "矿安〔2024〕41号",
            "mine_type": MineType.OPEN_PIT,
            "number": "1",
            "label": "（一）",
            "text": "补充情形示例。",
            "sub_items": "[]",
            "cross_checked_by": "[]",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    item = MajorHazardCriterion.objects.get(document="矿安〔2024〕41号")
    # A county admin's item is the county's own (national items change only by a superuser).
    assert item.region == cast.admin.region
    assert AuditEvent.objects.filter(
        action="create", object_id=str(item.pk), detail=f"管理后台：新增判定依据 {item}"
    ).exists()
    # The same number again for the same document and mine type is refused.
    again = client.post(
        "/admin/hazards/majorhazardcriterion/add/",
        {"document": "矿安〔2024〕41号", "mine_type": MineType.OPEN_PIT, "number": "1", "label": "（一）",
         "text": "重复", "sub_items": "[]", "cross_checked_by": "[]"},
    )  # fmt: skip
    assert again.status_code == 200
    assert "不能重复" in again.content.decode()


@pytest.mark.parametrize("member", ["clerk", "town_a_staff", "county_staff", "city_viewer"])
def test_other_roles_have_no_hazard_admin(cast: Cast, member: str) -> None:
    user = getattr(cast, member)
    user.is_staff = True
    user.save()
    client = Client()
    force_login_verified(client, user)
    assert client.get("/admin/hazards/hazard/").status_code == 403
    assert client.get("/admin/hazards/majorhazardcriterion/").status_code == 403
