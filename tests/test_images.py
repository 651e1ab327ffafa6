"""Images are bounded: a photo declaring more pixels than portal.limits allows is refused on every upload
path from its header (never decoded), with a Chinese message and nothing stored; accepted photos get a
server-made thumbnail, the only image pages embed, served through the same scoped download views; the
original is a download. Older photos get theirs from manage.py make_thumbnails."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import io
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import models
from django.test import Client
from PIL import Image
from rest_framework.test import APIClient

from hazards.choices import EvidenceKind, HazardStatus
from hazards.models import HazardEvidence
from hazards.services import hazard_add_evidence
from inspections import services as inspection_services
from inspections.files import validate_upload
from inspections.models import Inspection, InspectionPhoto
from portal import limits
from tests.conftest import Cast, World
from tests.hazards.conftest import catalogue, make_hazard  # noqa: F401 # the fixture, for make_hazard
from tests.images import TINY_JPEG, TINY_PNG, declared_png

pytestmark = [pytest.mark.usefixtures("catalogue"), pytest.mark.django_db]

BOMB = declared_png(30000, 30000)  # a few hundred bytes; decoding it would take ~2.7 GB
TOO_WIDE = declared_png(limits.IMAGE_MAX_SIDE + 1, 100)  # few pixels, but one side beyond the bound


@pytest.fixture(autouse=True)
def media(tmp_path: Path, settings: Any) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def stored_files(media: Path) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file()] if media.exists() else []


def photo_of(size: tuple[int, int], file_format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, file_format)
    return buffer.getvalue()


# --- the bound, from the header --------------------------------------------------------------------------


@pytest.mark.parametrize("images_only", [True, False])
def test_validate_upload_refuses_images_beyond_the_pixel_bounds(images_only: bool) -> None:
    """validate_upload is what every upload of field work goes through (photos, 佐证材料, 执法文书, 报送材料)."""
    for name, data, declared in (("bomb.png", BOMB, "90000 万像素"), ("wide.png", TOO_WIDE, "12001×100 像素")):
        with pytest.raises(ValidationError) as refused:
            validate_upload(SimpleUploadedFile(name, data), images_only=images_only)
        bounds = "最多 4000 万像素、单边不超过 12000 像素。请缩小或压缩后重新上传。"
        assert refused.value.messages == [f"文件“{name}”：图片尺寸过大（{declared}）：{bounds}"]
    broken = TINY_PNG[:40]  # the header cut off: nothing to read a size from
    with pytest.raises(ValidationError, match="无法识别的图片"):
        validate_upload(SimpleUploadedFile("cut.png", broken), images_only=images_only)
    assert validate_upload(SimpleUploadedFile("ok.png", TINY_PNG), images_only=images_only) == "ok.png"


def test_pillow_refuses_to_decode_beyond_the_bound_anywhere() -> None:
    assert Image.MAX_IMAGE_PIXELS == limits.IMAGE_MAX_PIXELS


# --- every file field is classified: an upload bounded in pixels, or a file the server makes ---------------

# Where each model file field that holds an upload is written, and that writer's bound on images.
UPLOADED = {
    ("hazards", "HazardEvidence", "file"): ("hazards.services", "hazard_add_evidence", "make_thumbnail("),
    ("inspections", "InspectionPhoto", "file"): ("inspections.services", "_add_photo", "validate_upload("),
    ("inspections", "SelfCheckEvidence", "file"): (
        "inspections.services", "self_check_add_evidence", "validate_upload(",
    ),
    ("inspections", "EnforcementAttachment", "file"): (
        "inspections.services", "_add_enforcement_attachment", "validate_upload(",
    ),
    ("inspections", "DeliverableSubmission", "file"): ("inspections.services", "submission_create", "validate_upload("),
}  # fmt: skip
SERVER_MADE = {
    ("hazards", "HazardEvidence", "thumbnail"),  # made by portal.images.make_thumbnail
    ("inspections", "InspectionPhoto", "thumbnail"),
    ("hazards", "LedgerUpload", "file"),  # a spreadsheet, bounded by portal.spreadsheets
    ("reporting", "ReportVersion", "xlsx_file"),
    ("reporting", "ReportVersion", "pdf_file"),
    ("reporting", "ExportJob", "file"),
}


def test_every_file_field_is_a_bounded_upload_or_made_by_the_server() -> None:
    fields = {
        (model._meta.app_label, model.__name__, field.name)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, models.FileField)
    }
    assert fields == set(UPLOADED) | SERVER_MADE, "classify the new file field here (and bound its images)"
    for module_name, function, check in UPLOADED.values():
        source = inspect.getsource(getattr(importlib.import_module(module_name), function))
        assert check in source, f"{module_name}.{function} stores an upload without {check}…)"


# --- hazard evidence: service, page, API ------------------------------------------------------------------


def test_hazard_evidence_beyond_the_bounds_is_refused_on_every_path(world: World, cast: Cast, media: Path) -> None:
    hazard = make_hazard(world.enterprise_a, status=HazardStatus.RECTIFYING)
    with pytest.raises(ValidationError, match="图片尺寸过大"):
        hazard_add_evidence(
            actor=cast.clerk, hazard=hazard, file=io.BytesIO(BOMB), original_name="现场.png", kind=EvidenceKind.PHOTO
        )
    client = Client()
    client.force_login(cast.clerk)
    page = client.post(
        f"/hazards/{hazard.pk}/evidence/",
        {"evidence-kind": EvidenceKind.PHOTO, "evidence-file": SimpleUploadedFile("现场.png", BOMB)},
    )
    assert page.status_code == 400 and "图片尺寸过大" in page.content.decode()
    api = APIClient()
    api.force_authenticate(cast.clerk)
    answer = api.post(
        f"/api/v1/hazards/{hazard.pk}/evidence/",
        {"file": SimpleUploadedFile("现场.png", TOO_WIDE), "kind": "photo"},
        format="multipart",
    )
    assert answer.status_code == 400 and "图片尺寸过大（12001×100 像素）" in str(answer.json())
    assert not HazardEvidence.objects.exists() and stored_files(media) == []


def test_hazard_photo_gets_a_thumbnail_which_is_all_the_page_embeds(world: World, cast: Cast) -> None:
    hazard = make_hazard(world.enterprise_a, status=HazardStatus.RECTIFYING)
    big = photo_of((1600, 1200), "JPEG")
    evidence = hazard_add_evidence(
        actor=cast.clerk, hazard=hazard, file=io.BytesIO(big), original_name="现场.jpg", kind=EvidenceKind.PHOTO
    )
    assert evidence.thumbnail.name.endswith(".thumb.jpg")
    with evidence.thumbnail.open("rb") as handle, Image.open(handle) as thumb:
        assert thumb.format == "JPEG" and thumb.size == (480, 360)
    document = hazard_add_evidence(
        actor=cast.clerk, hazard=hazard, file=io.BytesIO(b"%PDF-1.4 test"), original_name="整改报告.pdf",
        kind=EvidenceKind.RECTIFICATION,
    )  # fmt: skip
    assert not document.thumbnail

    client = Client()
    client.force_login(cast.clerk)
    html = client.get(f"/hazards/{hazard.pk}/").content.decode()
    original = f"/hazards/evidence/{evidence.pk}/"
    assert f'src="{original}?thumb=1"' in html and f'src="{original}"' not in html and "?inline=1" not in html
    served = client.get(original, {"thumb": "1"})
    assert served.status_code == 200 and "inline" in served["Content-Disposition"]
    assert served["Content-Type"] == "image/jpeg" and b"".join(served.streaming_content)[:3] == b"\xff\xd8\xff"
    download = client.get(original)
    assert "attachment" in download["Content-Disposition"] and b"".join(download.streaming_content) == big
    assert "attachment" not in client.get(original, {"inline": "1"})["Content-Disposition"]  # old links: thumbnail
    # The thumbnail is scoped like the original: another county does not find it.
    other = Client()
    other.force_login(cast.other_county_staff)
    assert other.get(original, {"thumb": "1"}).status_code == 404
    assert client.get(f"/hazards/evidence/{document.pk}/", {"thumb": "1"}).status_code == 404  # none for a PDF


# --- inspection photos: page, API -------------------------------------------------------------------------


def _inspection(cast: Cast, world: World) -> Inspection:
    return inspection_services.inspection_create(
        actor=cast.town_a_staff, enterprise=world.enterprise_a, date=dt.date(2024, 5, 10),
        method="four_no_two_straight", leader="赵卫东",
    )  # fmt: skip


def test_inspection_photos_beyond_the_bounds_are_refused_on_page_and_api(world: World, cast: Cast, media: Path) -> None:
    inspection = _inspection(cast, world)
    before = stored_files(media)
    client = Client()
    client.force_login(cast.town_a_staff)
    page = client.post(
        f"/inspections/inspections/{inspection.pk}/photos/", {"photos": [SimpleUploadedFile("现场.png", BOMB)]},
        follow=True,
    )  # fmt: skip
    assert "图片尺寸过大" in page.content.decode()
    api = APIClient()
    api.force_authenticate(cast.town_a_staff)
    answer = api.post(
        f"/api/v1/inspections/{inspection.pk}/photos/", {"file": SimpleUploadedFile("宽.png", TOO_WIDE)},
        format="multipart",
    )  # fmt: skip
    assert answer.status_code == 400 and "图片尺寸过大" in str(answer.json())
    assert not InspectionPhoto.objects.exists() and stored_files(media) == before


def test_inspection_photo_page_embeds_the_thumbnail_only(world: World, cast: Cast) -> None:
    inspection = _inspection(cast, world)
    upload = SimpleUploadedFile("现场.jpg", photo_of((900, 1200), "JPEG"))
    photo = inspection_services.inspection_photo_add(actor=cast.town_a_staff, inspection=inspection, upload=upload)
    with photo.thumbnail.open("rb") as handle, Image.open(handle) as thumb:
        assert thumb.size == (360, 480)
    client = Client()
    client.force_login(cast.town_a_staff)
    html = client.get(f"/inspections/inspections/{inspection.pk}/").content.decode()
    url = f"/inspections/files/photo/{photo.pk}/"
    assert f'src="{url}?thumb=1"' in html and f'src="{url}"' not in html
    assert "inline" in client.get(url, {"thumb": "1"})["Content-Disposition"]
    assert "attachment" in client.get(url)["Content-Disposition"]
    assert "attachment" in client.get(url, {"inline": "1"})["Content-Disposition"]  # an image is never inline
    api = APIClient()
    api.force_authenticate(cast.town_a_staff)
    listed = api.get(f"/api/v1/inspections/{inspection.pk}/").json()["photos"]
    assert [item["thumbnail_url"] for item in listed] == [f"{url}?thumb=1"]
    other = Client()
    other.force_login(cast.town_b_staff)
    assert other.get(url, {"thumb": "1"}).status_code == 404


# --- older photos -----------------------------------------------------------------------------------------


def test_make_thumbnails_fills_in_older_photos_and_skips_oversized_ones(world: World, cast: Cast) -> None:
    hazard = make_hazard(world.enterprise_a, status=HazardStatus.RECTIFYING)

    def stored(name: str, data: bytes) -> HazardEvidence:  # as uploads were stored before thumbnails existed
        evidence = HazardEvidence(hazard=hazard, kind="photo", original_name=name, size=len(data), sha256="0" * 64)
        evidence.file.save(name, ContentFile(data), save=False)
        evidence.save()
        return evidence

    old = stored("旧照片.jpg", TINY_JPEG)
    bomb = stored("炸弹.png", BOMB)
    out = io.StringIO()
    call_command("make_thumbnails", stdout=out)
    assert "已生成缩略图 1 张；跳过 1 个" in out.getvalue()
    old.refresh_from_db()
    bomb.refresh_from_db()
    assert old.thumbnail and not bomb.thumbnail
    call_command("make_thumbnails", stdout=(again := io.StringIO()))
    assert "已生成缩略图 0 张" in again.getvalue()


def test_the_api_gives_the_thumbnail_and_the_original_scoped(world: World, cast: Cast) -> None:
    hazard = make_hazard(world.enterprise_a, status=HazardStatus.RECTIFYING)
    evidence = hazard_add_evidence(
        actor=cast.clerk, hazard=hazard, file=io.BytesIO(photo_of((1000, 500))), original_name="现场.png",
        kind=EvidenceKind.PHOTO,
    )  # fmt: skip
    api = APIClient()
    api.force_authenticate(cast.town_a_staff)
    body = api.get(f"/api/v1/hazard-evidence/{evidence.pk}/").json()
    assert body["thumbnail_url"] == f"/api/v1/hazard-evidence/{evidence.pk}/file/?thumb=1"
    served = api.get(body["thumbnail_url"])
    assert served.status_code == 200
    with Image.open(io.BytesIO(b"".join(served.streaming_content))) as thumb:
        assert thumb.format == "JPEG" and thumb.size == (480, 240)
    other = APIClient()
    other.force_authenticate(cast.other_county_staff)
    assert other.get(body["thumbnail_url"]).status_code == 404
