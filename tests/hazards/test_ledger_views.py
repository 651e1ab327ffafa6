"""The 隐患台账 upload pages: who may upload for whom over the whole cast, preview → confirm, the kept file,
the template, and hostile files refused through the page with nothing written."""

from __future__ import annotations

import datetime
import io
import re
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from hazards.choices import HazardStatus, LedgerUploadStatus
from hazards.models import Hazard, LedgerUpload
from portal.choices import AuditAction
from portal.models import AuditEvent, Enterprise, User
from tests.conftest import Cast, World
from tests.hazards.ledger_xlsx import (
    WRONG_TYPES,
    counts,
    major_row,
    row,
    simple,
    stored_files,
    with_entities,
    zip_bomb,
)

pytestmark = [pytest.mark.usefixtures("catalogue"), pytest.mark.django_db]

UPLOAD_URL = "/hazards/ledger/"
UPLOADERS_OF_A = ("clerk", "principal", "town_a_staff", "county_staff")
OUT_OF_SCOPE_OF_A = ("town_b_staff", "other_county_staff", "other_clerk")
NOT_UPLOADERS = ("county_leader", "admin", "city_viewer")


@pytest.fixture(autouse=True)
def frozen_today() -> Any:
    with time_machine.travel(datetime.datetime(2024, 7, 1, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def media(tmp_path: Path, settings: Any) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post_file(client: Client, data: bytes, enterprise: Enterprise | None = None, name: str = "台账.xlsx") -> Any:
    payload: dict[str, Any] = {"file": SimpleUploadedFile(name, data)}
    if enterprise is not None:
        payload["enterprise"] = str(enterprise.pk)
    return client.post(UPLOAD_URL, payload)


def token_of(response: Any) -> str:
    match = re.search(rb'name="token" value="([^"]+)"', response.content)
    assert match, response.content.decode()[:2000]
    return match.group(1).decode()


def upload_and_confirm(user: User, enterprise: Enterprise, data: bytes) -> Any:
    client = login(user)
    response = post_file(client, data, enterprise)
    assert response.status_code == 200, response.content.decode()[:3000]
    upload = LedgerUpload.objects.latest("id")
    return client.post(f"/hazards/ledger/{upload.pk}/confirm/", {"token": token_of(response)})


# --- who may upload for whom ---------------------------------------------------------------------


@pytest.mark.parametrize("member", UPLOADERS_OF_A)
def test_uploaders_preview_and_confirm_for_enterprise_a(world: World, cast: Cast, member: str, media: Path) -> None:
    user = cast.all()[member]
    client = login(user)
    assert client.get(UPLOAD_URL).status_code == 200
    data = simple([row("P-1"), major_row("P-2")])
    before = counts()
    response = post_file(client, data, world.enterprise_a)
    assert response.status_code == 200
    body = response.content.decode()
    assert "检查通过，确认后将：新增 2 条，更新 0 条，未变 0 条" in body
    assert "待主要负责人签字" in body and "已上报" in body  # the status each row will get
    upload = LedgerUpload.objects.get()
    assert upload.status == LedgerUploadStatus.PENDING and upload.uploaded_by == user
    assert counts()[:2] == before[:2]  # a preview writes no hazard

    confirm = client.post(f"/hazards/ledger/{upload.pk}/confirm/", {"token": token_of(response)})
    assert confirm.status_code == 302 and confirm.url == f"/hazards/ledger/{upload.pk}/"
    upload.refresh_from_db()
    assert upload.status == LedgerUploadStatus.COMMITTED and upload.created_count == 2
    assert set(Hazard.objects.values_list("enterprise", "status")) == {
        (world.enterprise_a.pk, HazardStatus.REPORTED),
        (world.enterprise_a.pk, HazardStatus.DRAFT),
    }
    page = client.get(f"/hazards/ledger/{upload.pk}/")
    assert "新增 2 条，更新 0 条，未变 0 条" in page.content.decode()


@pytest.mark.parametrize("member", OUT_OF_SCOPE_OF_A)
def test_outside_the_scope_the_enterprise_is_not_found(world: World, cast: Cast, member: str, media: Path) -> None:
    client = login(cast.all()[member])
    before = counts()
    response = post_file(client, simple([row()]), world.enterprise_a)
    assert response.status_code == 404
    after = counts()
    # nothing written but the one 越权访问 audit row naming the enterprise
    assert after[:2] == before[:2] and after[3:] == before[3:] and after[2] == before[2] + 1
    denied = AuditEvent.objects.filter(action=AuditAction.DENIED, object_id=str(world.enterprise_a.pk))
    assert denied.get().actor == cast.all()[member]
    assert stored_files(media) == []


@pytest.mark.parametrize("member", NOT_UPLOADERS)
def test_other_roles_may_not_upload(world: World, cast: Cast, member: str, media: Path) -> None:
    client = login(cast.all()[member])
    assert client.get(UPLOAD_URL).status_code == 403
    assert post_file(client, simple([row()]), world.enterprise_a).status_code == 403
    assert Hazard.objects.count() == 0 and LedgerUpload.objects.count() == 0


def test_anonymous_is_sent_to_login(world: World) -> None:
    response = Client().get(UPLOAD_URL)
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_enterprise_users_upload_only_for_their_own_enterprise(world: World, cast: Cast, media: Path) -> None:
    client = login(cast.clerk)
    assert post_file(client, simple([row()]), world.enterprise_a2).status_code == 404  # same town, not theirs
    response = post_file(client, simple([row()]))  # no choice: their own
    assert response.status_code == 200 and LedgerUpload.objects.get().enterprise == world.enterprise_a


def test_the_upload_form_lists_the_enterprises_in_scope(world: World, cast: Cast) -> None:
    town = login(cast.town_a_staff).get(UPLOAD_URL).content.decode()
    assert world.enterprise_a.name in town and world.enterprise_a2.name in town
    assert world.enterprise_b.name not in town
    county = login(cast.county_staff).get(UPLOAD_URL).content.decode()
    assert world.enterprise_b.name in county and world.enterprise_other.name not in county
    missing = login(cast.town_a_staff).post(UPLOAD_URL, {"file": SimpleUploadedFile("a.xlsx", simple([row()]))})
    assert missing.status_code == 400 and "请选择要代为上传台账的企业" in missing.content.decode()


def test_only_the_uploader_confirms_with_a_valid_token(world: World, cast: Cast, media: Path) -> None:
    clerk = login(cast.clerk)
    response = post_file(clerk, simple([row()]), world.enterprise_a)
    upload = LedgerUpload.objects.get()
    token = token_of(response)
    # The principal sees the pending upload but may not confirm it, not even with the clerk's token.
    principal = login(cast.principal)
    assert "等待上传人确认导入" in principal.get(f"/hazards/ledger/{upload.pk}/").content.decode()
    assert principal.post(f"/hazards/ledger/{upload.pk}/confirm/", {"token": token}).status_code == 400
    assert clerk.post(f"/hazards/ledger/{upload.pk}/confirm/", {"token": token + "x"}).status_code == 400
    assert login(cast.town_b_staff).post(f"/hazards/ledger/{upload.pk}/confirm/", {"token": token}).status_code == 404
    assert Hazard.objects.count() == 0
    assert clerk.post(f"/hazards/ledger/{upload.pk}/confirm/", {"token": token}).status_code == 302
    # A second confirmation of the same upload writes nothing more.
    again = clerk.post(f"/hazards/ledger/{upload.pk}/confirm/", {"token": token}, follow=True)
    assert "不能再次确认导入" in again.content.decode()
    assert Hazard.objects.count() == 1


def test_preview_with_errors_lists_them_and_offers_no_confirmation(world: World, cast: Cast, media: Path) -> None:
    client = login(cast.clerk)
    before = counts()
    response = post_file(client, simple([row("X-1"), major_row("X-2", criterion="露天矿山第（九十）项")]))
    assert response.status_code == 400
    body = response.content.decode()
    assert "发现 1 个问题" in body and "未导入任何数据" in body
    assert "第3行" in body and "判定依据" in body and "没有第（九十）项" in body
    assert 'name="token"' not in body
    assert counts() == before and stored_files(media) == []


def test_confirmation_revalidates_and_writes_nothing_when_the_data_changed(
    world: World, cast: Cast, media: Path
) -> None:
    upload_and_confirm(cast.clerk, world.enterprise_a, simple([major_row("C-1")]))
    client = login(cast.clerk)
    response = post_file(client, simple([major_row("C-1", description="改写")]), world.enterprise_a)
    assert response.status_code == 200
    hazard = Hazard.objects.get()
    Hazard.objects.filter(pk=hazard.pk).update(status=HazardStatus.PENDING_TOWN)  # signed meanwhile
    upload = LedgerUpload.objects.latest("id")
    stale = client.post(f"/hazards/ledger/{upload.pk}/confirm/", {"token": token_of(response)})
    assert stale.status_code == 409 and "确认时重新检查发现问题" in stale.content.decode()
    hazard.refresh_from_db()
    assert hazard.description != "改写"
    upload.refresh_from_db()
    assert upload.status == LedgerUploadStatus.FAILED


# --- the kept file, the history, the template ---------------------------------------------------------


def test_the_original_file_is_kept_and_downloaded_within_scope(world: World, cast: Cast, media: Path) -> None:
    data = simple([row()])
    upload_and_confirm(cast.clerk, world.enterprise_a, data)
    upload = LedgerUpload.objects.get()
    for member in ("clerk", "principal", "town_a_staff", "county_staff", "county_leader", "admin", "city_viewer"):
        response = login(cast.all()[member]).get(f"/hazards/ledger/{upload.pk}/file/")
        assert response.status_code == 200, member
        assert b"".join(response.streaming_content) == data
        assert login(cast.all()[member]).get(f"/hazards/ledger/{upload.pk}/").status_code == 200
    for member in OUT_OF_SCOPE_OF_A:
        assert login(cast.all()[member]).get(f"/hazards/ledger/{upload.pk}/file/").status_code == 404
        assert login(cast.all()[member]).get(f"/hazards/ledger/{upload.pk}/").status_code == 404
    history = login(cast.town_a_staff).get(UPLOAD_URL).content.decode()
    assert "台账.xlsx" in history and "新增 1 条" in history
    assert "台账.xlsx" not in login(cast.town_b_staff).get(UPLOAD_URL).content.decode()


def test_templates_blank_and_filled_within_scope(world: World, cast: Cast, media: Path) -> None:
    upload_and_confirm(cast.clerk, world.enterprise_a, simple([row("T-1", "模板里的隐患")]))
    blank = login(cast.town_b_staff).get("/hazards/ledger/template.xlsx")
    assert blank.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(blank.streaming_content))).active
    assert sheet.max_row == 2  # title and header, no hazard
    filled = login(cast.clerk).get("/hazards/ledger/template.xlsx?filled=1")
    content = load_workbook(io.BytesIO(b"".join(filled.streaming_content))).active
    assert [cell.value for cell in content[3]][:2] == ["T-1", "模板里的隐患"]
    town = login(cast.town_a_staff).get(f"/hazards/ledger/template.xlsx?enterprise={world.enterprise_a.pk}")
    assert town.status_code == 200
    outside = login(cast.town_b_staff).get(f"/hazards/ledger/template.xlsx?enterprise={world.enterprise_a.pk}")
    assert outside.status_code == 404


def test_a_long_preview_is_paged(world: World, cast: Cast, media: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hazards.ledger_views.PREVIEW_PAGE_SIZE", 5)
    client = login(cast.clerk)
    response = post_file(client, simple([row(f"G-{n}", f"隐患{n}") for n in range(12)]))
    assert response.status_code == 200 and response.content.count(b'<td data-label="\xe8\xa1\x8c"') == 5
    upload = LedgerUpload.objects.get()
    third = client.get(f"/hazards/ledger/{upload.pk}/?page=3").content.decode()
    assert "第 3 / 3 页" in third and "第13行" in third and "第2行" not in third


# --- hostile files through the page ---------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "content", "message"), WRONG_TYPES, ids=[kind for kind, _, _ in WRONG_TYPES])
def test_wrong_types_are_refused_by_content(
    world: World, cast: Cast, media: Path, kind: str, content: bytes, message: str
) -> None:
    client = login(cast.clerk)
    before = counts()
    response = post_file(client, content, name="台账.xlsx")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert counts() == before and stored_files(media) == []


def test_oversize_zip_bomb_and_entities_are_refused(world: World, cast: Cast, media: Path, settings: Any) -> None:
    client = login(cast.clerk)
    before = counts()
    settings.SPREADSHEET_MAX_UNCOMPRESSED_BYTES = 2 * 1024 * 1024
    bomb = post_file(client, zip_bomb(3 * 1024 * 1024))
    assert bomb.status_code == 400 and "压缩炸弹" in bomb.content.decode()
    entities = post_file(client, with_entities())
    assert entities.status_code == 400 and "不允许的 XML 实体" in entities.content.decode()
    settings.UPLOAD_MAX_BYTES = 1000
    oversize = post_file(client, simple([row()]))
    assert oversize.status_code == 400 and "文件过大" in oversize.content.decode()
    assert counts() == before and stored_files(media) == []


def test_formulas_are_stored_as_text(world: World, cast: Cast, media: Path) -> None:
    formula = '=HYPERLINK("http://evil.example","点我")'
    assert upload_and_confirm(cast.clerk, world.enterprise_a, simple([row("F-1", formula)])).status_code == 302
    assert Hazard.objects.get().description == formula
