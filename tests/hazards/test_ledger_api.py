"""/api/v1/ledger-uploads/: upload → preview → commit through the API, scoped, for whom over the cast."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from hazards.choices import HazardStatus, LedgerUploadStatus
from hazards.models import Hazard, LedgerUpload
from portal.models import User
from tests.conftest import Cast, World
from tests.hazards.ledger_xlsx import WRONG_TYPES, counts, major_row, row, simple, stored_files

pytestmark = [pytest.mark.usefixtures("catalogue"), pytest.mark.django_db]
URL = "/api/v1/ledger-uploads/"


@pytest.fixture(autouse=True)
def frozen_today() -> Any:
    with time_machine.travel(datetime.datetime(2024, 7, 1, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def media(tmp_path: Path, settings: Any) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def send(client: APIClient, data: bytes, enterprise: int | None = None) -> Any:
    payload: dict[str, Any] = {"file": SimpleUploadedFile("台账.xlsx", data)}
    if enterprise is not None:
        payload["enterprise"] = enterprise
    return client.post(URL, payload, format="multipart")


@pytest.mark.parametrize("member", ["clerk", "principal", "town_a_staff", "county_staff"])
def test_upload_preview_and_commit(world: World, cast: Cast, member: str, media: Path) -> None:
    client = api(cast.all()[member])
    enterprise = None if member in ("clerk", "principal") else world.enterprise_a.pk
    response = send(client, simple([row("A-1"), major_row("A-2")]), enterprise)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["preview"]["summary"] == "新增 2 条，更新 0 条，未变 0 条" and body["preview"]["errors"] == []
    assert [r["action_label"] for r in body["preview"]["rows"]] == ["新增", "新增"]
    assert body["preview"]["rows"][1]["values"]["导入后状态"] == "待主要负责人签字"
    assert body["upload"]["status"] == LedgerUploadStatus.PENDING and Hazard.objects.count() == 0
    upload_id = body["upload"]["id"]
    assert client.get(f"{URL}{upload_id}/preview/").json()["preview"]["created"] == 2

    committed = client.post(f"{URL}{upload_id}/commit/")
    assert committed.status_code == 200, committed.json()
    assert committed.json()["upload"]["status"] == LedgerUploadStatus.COMMITTED
    assert committed.json()["upload"]["created_count"] == 2
    assert set(Hazard.objects.values_list("status", flat=True)) == {HazardStatus.REPORTED, HazardStatus.DRAFT}
    again = client.post(f"{URL}{upload_id}/commit/")
    assert again.status_code == 409 and "不能再次确认导入" in again.json()["detail"]
    assert Hazard.objects.count() == 2


def test_errors_by_row_and_column_and_nothing_written(world: World, cast: Cast, media: Path) -> None:
    client = api(cast.clerk)
    before = counts()
    response = send(client, simple([row("E-1"), major_row("E-2", criterion="三（九十）")]))
    assert response.status_code == 400
    body = response.json()
    assert body["upload"] is None
    assert body["preview"]["errors"] == [
        {
            "row": 3,
            "column": "判定依据",
            "message": "矿安〔2022〕88号尾矿库部分共19项，没有第（九十）项。",
            "text": "第3行 判定依据：矿安〔2022〕88号尾矿库部分共19项，没有第（九十）项。",
        }
    ]
    assert counts() == before and stored_files(media) == []


@pytest.mark.parametrize(("kind", "content", "message"), WRONG_TYPES, ids=[kind for kind, _, _ in WRONG_TYPES])
def test_hostile_files_are_refused(
    world: World, cast: Cast, media: Path, kind: str, content: bytes, message: str
) -> None:
    client = api(cast.clerk)
    before = counts()
    response = send(client, content)
    assert response.status_code == 400
    assert message in response.json()["preview"]["errors"][0]["message"]
    assert counts() == before and stored_files(media) == []


def test_who_may_upload_for_whom(world: World, cast: Cast, media: Path) -> None:
    data = simple([row()])
    for member in ("county_leader", "admin", "city_viewer"):
        assert send(api(cast.all()[member]), data, world.enterprise_a.pk).status_code == 403, member
    for member in ("town_b_staff", "other_county_staff"):
        assert send(api(cast.all()[member]), data, world.enterprise_a.pk).status_code == 404, member
    assert send(api(cast.clerk), data, world.enterprise_a2.pk).status_code == 404
    missing = send(api(cast.town_a_staff), data)
    assert missing.status_code == 400 and "enterprise" in missing.json()
    assert APIClient().post(URL, {"file": SimpleUploadedFile("a.xlsx", data)}).status_code == 401
    assert LedgerUpload.objects.count() == 0 and Hazard.objects.count() == 0


def test_only_the_uploader_commits_and_uploads_are_scoped(world: World, cast: Cast, media: Path) -> None:
    upload_id = send(api(cast.clerk), simple([row()])).json()["upload"]["id"]
    assert api(cast.principal).post(f"{URL}{upload_id}/commit/").status_code == 403
    assert api(cast.town_b_staff).post(f"{URL}{upload_id}/commit/").status_code == 404
    assert Hazard.objects.count() == 0
    for member in ("clerk", "principal", "town_a_staff", "county_staff", "county_leader", "admin", "city_viewer"):
        client = api(cast.all()[member])
        assert [u["id"] for u in client.get(URL).json()["results"]] == [upload_id], member
        assert client.get(f"{URL}{upload_id}/").status_code == 200
        assert client.get(f"{URL}{upload_id}/file/").status_code == 200
    for member in ("town_b_staff", "other_county_staff", "other_clerk"):
        client = api(cast.all()[member])
        assert client.get(URL).json()["results"] == [], member
        assert client.get(f"{URL}{upload_id}/").status_code == 404
        assert client.get(f"{URL}{upload_id}/file/").status_code == 404
    assert api(cast.county_staff).get(f"{URL}?status=committed").json()["results"] == []
    assert len(api(cast.county_staff).get(f"{URL}?enterprise={world.enterprise_a.pk}").json()["results"]) == 1
