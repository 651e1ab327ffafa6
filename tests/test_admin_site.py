from __future__ import annotations

import pytest
from django.test import Client

from portal.models import AuditEvent
from tests.conftest import Cast, World
from tests.otp_helpers import force_login_verified


def test_county_admin_manages_own_county_only(cast: Cast, world: World) -> None:
    client = Client()
    force_login_verified(client, cast.admin)
    body = client.get("/admin/portal/enterprise/").content.decode()
    assert "泽州县示范矿业有限公司" in body
    assert "上党区外县矿业有限公司" not in body
    assert client.get(f"/admin/portal/enterprise/{world.enterprise_other.pk}/change/").status_code == 302
    # The town choices offered are the admin's county's towns.
    form = client.get(f"/admin/portal/enterprise/{world.enterprise_a.pk}/change/").content.decode()
    assert "巴公镇" in form and "韩店镇" not in form


def test_admin_site_changes_are_audited(cast: Cast, world: World) -> None:
    client = Client()
    force_login_verified(client, cast.admin)
    url = f"/admin/portal/enterprise/{world.enterprise_a.pk}/change/"
    data = {
        "name": "泽州县示范矿业有限公司",
        "credit_code": "91140525MA0K7XQ215",
        "town": world.town_a.pk,
        "industry": "open_pit",
        "production_status": "suspended",
        "risk_grade": "",
        "standardization_grade": "",
        "license_number": "",
        "address": "",
        "contact_name": "",
        "contact_phone": "",
        "people-TOTAL_FORMS": "0",
        "people-INITIAL_FORMS": "0",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action="update", object_id=str(world.enterprise_a.pk))
    assert event.before["production_status"] == "producing"
    assert event.after["production_status"] == "suspended"
    assert event.detail == "管理后台"


@pytest.mark.parametrize("member", ["clerk", "town_a_staff", "county_staff", "county_leader", "city_viewer"])
def test_other_roles_have_no_admin_site(cast: Cast, member: str) -> None:
    user = getattr(cast, member)
    user.is_staff = True  # even if someone ticked the box by mistake
    user.save()
    client = Client()
    force_login_verified(client, user)
    response = client.get("/admin/portal/enterprise/")
    assert response.status_code == 403
