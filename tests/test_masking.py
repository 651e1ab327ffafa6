"""One masking rule for an enterprise's contact phone: the page, the API (list and detail) and the Excel export
show it in full to admins and to the enterprise's own users, masked to everyone else in scope."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from openpyxl import load_workbook
from rest_framework.test import APIClient

from portal.models import Enterprise
from tests.conftest import Cast, World

PHONE = "13912345678"
MASKED = "139****5678"
FULL = {"clerk", "principal", "admin"}
MEMBERS = ["clerk", "principal", "town_a_staff", "county_staff", "county_leader", "admin", "city_viewer"]


def _page(client: Client, enterprise: Enterprise) -> str:
    body = client.get(f"/enterprises/{enterprise.pk}/").content.decode()
    assert (PHONE in body) != (MASKED in body), "the page shows the phone exactly one way"
    return PHONE if PHONE in body else MASKED


def _api(client: APIClient, enterprise: Enterprise) -> set[str]:
    detail = client.get(f"/api/v1/enterprises/{enterprise.pk}/").json()["contact_phone"]
    listed = {
        row["contact_phone"]
        for row in client.get("/api/v1/enterprises/?page_size=200").json()["results"]
        if row["id"] == enterprise.pk
    }
    return {detail, *listed}


def _export(client: Client, enterprise: Enterprise) -> str:
    response = client.get("/enterprises/export.xlsx")
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row and "联系电话" in row)
    column = rows[header].index("联系电话")
    name_column = rows[header].index("企业名称")
    return next(str(row[column]) for row in rows[header + 1 :] if row and row[name_column] == enterprise.name)


@pytest.mark.parametrize("member", MEMBERS)
def test_page_api_and_export_mask_the_contact_phone_alike(world: World, cast: Cast, member: str) -> None:
    enterprise = world.enterprise_a
    Enterprise.objects.filter(pk=enterprise.pk).update(contact_phone=PHONE)
    enterprise.refresh_from_db()
    user = getattr(cast, member)
    web = Client()
    web.force_login(user)
    api = APIClient()
    api.force_authenticate(user)
    expected = PHONE if member in FULL else MASKED
    assert _page(web, enterprise) == expected
    assert _api(api, enterprise) == {expected}
    assert _export(web, enterprise) == expected
