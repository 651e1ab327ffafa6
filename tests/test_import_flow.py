"""The shared preview/confirm mechanism of the Excel imports (portal.import_flow): staged uploads expire,
belong to their uploader, and commit once."""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.test import Client
from django.utils import timezone

from inspections.models import EnforcementRecord
from portal.choices import AuditAction
from portal.import_flow import (
    COMMITTED_MESSAGE,
    EXPIRED_MESSAGE,
    StagedUploadGone,
    StagedUploads,
    sign_ref,
    unsign_ref,
)
from portal.models import AuditEvent, Enterprise
from portal.uploads import PREVIEW_MAX_AGE, PreviewStore
from tests.conftest import Cast, World
from tests.hazards.ledger_xlsx import row, simple
from tests.inspections.test_enforcement_import import _good_rows, _xlsx
from tests.test_enterprise_import import good_rows, simple_file

STAGING = StagedUploads(PreviewStore(folder="imports/test-flow", salt="tests.import_flow"))
ENTERPRISES = "/enterprises/import/"
ENFORCEMENT = "/inspections/enforcement/import/"


@pytest.fixture(autouse=True)
def media(tmp_path: Path, settings: Any) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def imports() -> int:
    return AuditEvent.objects.filter(action=AuditAction.IMPORT).count()


# --- the store ----------------------------------------------------------------------------------


def test_a_staged_upload_is_its_uploaders_until_it_expires(
    world: World, cast: Cast, clock: time_machine.Coordinates
) -> None:
    token = STAGING.stage(user=cast.admin, data=b"contents", file_name="名录.xlsx")
    staged = STAGING.load(token, user=cast.admin)
    assert (staged.data, staged.file_name) == (b"contents", "名录.xlsx")
    assert staged.path.startswith("imports/test-flow/")
    # Another user holding the token finds nothing: a 404, whatever the page then shows.
    with pytest.raises(StagedUploadGone) as refused:
        STAGING.load(token, user=cast.county_staff)
    assert isinstance(refused.value, Http404)
    with pytest.raises(StagedUploadGone):
        STAGING.load(token[:-2] + "xx", user=cast.admin)
    clock.shift(datetime.timedelta(seconds=PREVIEW_MAX_AGE - 5))
    assert STAGING.load(token, user=cast.admin).data == b"contents"
    clock.shift(datetime.timedelta(seconds=10))
    with pytest.raises(StagedUploadGone) as expired:
        STAGING.load(token, user=cast.admin)
    assert str(expired.value) == EXPIRED_MESSAGE


def test_a_staged_upload_commits_once_and_a_failed_commit_gives_it_back(world: World, cast: Cast) -> None:
    token = STAGING.stage(user=cast.admin, data=b"contents", file_name="a.xlsx")
    staged = STAGING.load(token, user=cast.admin)
    with STAGING.claim(staged) as done:
        # A second confirmation racing the first one cannot claim it meanwhile.
        with pytest.raises(StagedUploadGone), STAGING.claim(staged):
            pass
        done(False)  # nothing written (the data changed since the preview): the preview may be tried again
    again = STAGING.load(token, user=cast.admin)
    with pytest.raises(RuntimeError), STAGING.claim(again):
        raise RuntimeError("the commit failed")
    with STAGING.claim(STAGING.load(token, user=cast.admin)) as done:
        done(True)
    with pytest.raises(StagedUploadGone) as gone:
        STAGING.load(token, user=cast.admin)
    assert str(gone.value) == COMMITTED_MESSAGE


def test_a_ledger_style_token_names_its_row_for_its_user_only(world: World, cast: Cast) -> None:
    token = sign_ref(salt="tests.ref", user=cast.clerk, ref={"id": 7})
    assert unsign_ref(token, salt="tests.ref", user=cast.clerk) == {"id": 7}
    for user, salt in ((cast.principal, "tests.ref"), (cast.clerk, "tests.other")):
        with pytest.raises(signing.BadSignature):
            unsign_ref(token, salt=salt, user=user)


# --- the pages ----------------------------------------------------------------------------------


def test_the_enterprise_preview_confirmed_twice_imports_once(world: World, cast: Cast) -> None:
    client = login(cast.admin)
    upload = SimpleUploadedFile("名录.xlsx", simple_file(good_rows(2)))
    preview = client.post(ENTERPRISES, {"action": "preview", "file": upload})
    assert preview.status_code == 200
    token = preview.context["token"]
    before = Enterprise.objects.count()
    assert client.post(ENTERPRISES, {"action": "commit", "token": token}).status_code == 302
    again = client.post(ENTERPRISES, {"action": "commit", "token": token})
    assert again.status_code == 400 and COMMITTED_MESSAGE in again.content.decode()
    assert Enterprise.objects.count() == before + 2
    assert imports() == 1


def test_an_enterprise_preview_expires(world: World, cast: Cast, clock: time_machine.Coordinates) -> None:
    client = login(cast.admin)
    upload = SimpleUploadedFile("名录.xlsx", simple_file(good_rows(1)))
    token = client.post(ENTERPRISES, {"action": "preview", "file": upload}).context["token"]
    clock.shift(datetime.timedelta(seconds=PREVIEW_MAX_AGE + 1))
    response = client.post(ENTERPRISES, {"action": "commit", "token": token})
    assert response.status_code == 400 and EXPIRED_MESSAGE in response.content.decode()
    assert imports() == 0


def test_the_enforcement_preview_confirmed_twice_imports_once(world: World, cast: Cast) -> None:
    client = login(cast.town_a_staff)
    upload = io.BytesIO(_xlsx(_good_rows(world)))
    upload.name = "台账.xlsx"
    preview = client.post(ENFORCEMENT, {"file": upload})
    assert preview.status_code == 200
    body = preview.content.decode()
    assert 'data-testid="import-rows"' in body and 'data-testid="commit-form"' in body
    token = preview.context["token"]
    assert client.post(ENFORCEMENT, {"action": "commit", "token": token}).status_code == 302
    again = client.post(ENFORCEMENT, {"action": "commit", "token": token})
    assert again.status_code == 400 and COMMITTED_MESSAGE in again.content.decode()
    assert EnforcementRecord.objects.count() == 4
    assert imports() == 1


def test_the_three_importers_preview_on_one_template(world: World, cast: Cast) -> None:
    enterprise = login(cast.admin).post(
        ENTERPRISES, {"action": "preview", "file": SimpleUploadedFile("a.xlsx", simple_file(good_rows(1)))}
    )
    enforcement_file = io.BytesIO(_xlsx(_good_rows(world)))
    enforcement_file.name = "b.xlsx"
    enforcement = login(cast.town_a_staff).post(ENFORCEMENT, {"file": enforcement_file})
    ledger = login(cast.clerk).post("/hazards/ledger/", {"file": SimpleUploadedFile("c.xlsx", simple([row()]))})
    for response in (enterprise, enforcement, ledger):
        assert response.status_code == 200
        assert response.templates[0].name == "portal/import_preview.html"
    assert 'data-testid="ledger-commit-form"' in ledger.content.decode()
