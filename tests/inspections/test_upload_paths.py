"""One upload check (portal.upload_types) on every upload path: hazard evidence, inspection photos,
self-check evidence, 执法文书 and deliverables decide alike for the same purpose — documents take HEIC and
OFD on every path (hazard evidence used to refuse them), photos take HEIC but no document; a file whose
name claims another type than its content, an empty one and one over the size bound are refused
everywhere, and nothing is stored."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from hazards.choices import EvidenceKind, HazardStatus
from hazards.services import hazard_add_evidence
from inspections import services
from inspections.choices import EnforcementKind
from inspections.models import Campaign
from portal.upload_types import DOCUMENTS, OOXML, PHOTOS, check_upload
from tests.conftest import Cast, World
from tests.hazards.conftest import make_hazard
from tests.images import TINY_JPEG

HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
OFD = b"PK\x03\x04" + b"\x00" * 80
PDF = b"%PDF-1.7 test"

Upload = Callable[[bytes, str], str]  # stores the file on one path; returns the stored original name


@pytest.fixture(autouse=True)
def media(tmp_path: Path, settings: Any) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def _stored(media: Path) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file()] if media.exists() else []


def _hazard_evidence(cast: Cast, world: World, campaign: Campaign) -> Upload:
    hazard = make_hazard(world.enterprise_a, status=HazardStatus.RECTIFYING)

    def upload(data: bytes, name: str) -> str:
        evidence = hazard_add_evidence(
            actor=cast.clerk, hazard=hazard, file=io.BytesIO(data), original_name=name, kind=EvidenceKind.RECTIFICATION
        )
        return evidence.original_name

    return upload


def _inspection_photo(cast: Cast, world: World, campaign: Campaign) -> Upload:
    inspection = services.inspection_create(
        actor=cast.town_a_staff, enterprise=world.enterprise_a, date=dt.date(2024, 5, 10),
        method="four_no_two_straight", leader="赵卫东",
    )  # fmt: skip

    def upload(data: bytes, name: str) -> str:
        photo = services.inspection_photo_add(
            actor=cast.town_a_staff, inspection=inspection, upload=SimpleUploadedFile(name, data)
        )
        return photo.original_name

    return upload


def _self_check_evidence(cast: Cast, world: World, campaign: Campaign) -> Upload:
    report = services.self_check_start(actor=cast.clerk, campaign=campaign, enterprise=world.enterprise_a)
    row = report.answers.first()
    assert row is not None

    def upload(data: bytes, name: str) -> str:
        return services.self_check_add_evidence(
            actor=cast.clerk, answer=row, upload=SimpleUploadedFile(name, data)
        ).original_name

    return upload


def _enforcement_attachment(cast: Cast, world: World, campaign: Campaign) -> Upload:
    record = services.enforcement_record_create(
        actor=cast.town_a_staff, kind=EnforcementKind.SUSPENSION, date=dt.date(2024, 5, 10),
        enterprise=world.enterprise_a,
    )  # fmt: skip

    def upload(data: bytes, name: str) -> str:
        return services.enforcement_attachment_add(
            actor=cast.town_a_staff, record=record, upload=SimpleUploadedFile(name, data)
        ).original_name

    return upload


def _deliverable(cast: Cast, world: World, campaign: Campaign) -> Upload:
    summary = campaign.deliverables.get(name="工作总结")

    def upload(data: bytes, name: str) -> str:
        with time_machine.travel(dt.datetime(2024, 8, 20, 1, tzinfo=dt.UTC), tick=False):
            submission = services.submission_create(
                actor=cast.town_a_staff, deliverable=summary, due_date=dt.date(2024, 8, 23),
                file=SimpleUploadedFile(name, data),
            )  # fmt: skip
        return submission.original_name

    return upload


DOCUMENT_PATHS = {
    "hazard evidence": _hazard_evidence,
    "self-check evidence": _self_check_evidence,
    "enforcement attachment": _enforcement_attachment,
    "deliverable": _deliverable,
}
ALL_PATHS = {**DOCUMENT_PATHS, "inspection photo": _inspection_photo}


@pytest.mark.parametrize("path", sorted(DOCUMENT_PATHS))
def test_documents_take_heic_and_ofd_on_every_path(path: str, cast: Cast, world: World, campaign83: Campaign) -> None:
    upload = DOCUMENT_PATHS[path](cast, world, campaign83)
    assert upload(HEIC, "现场.heic") == "现场.heic"
    assert upload(OFD, "处罚决定书.ofd") == "处罚决定书.ofd"
    assert upload(PDF, "整改报告.pdf") == "整改报告.pdf"


def test_photos_take_heic_but_no_document(cast: Cast, world: World, campaign83: Campaign, media: Path) -> None:
    upload = _inspection_photo(cast, world, campaign83)
    assert upload(HEIC, "现场.heic") == "现场.heic"
    assert upload(TINY_JPEG, "现场.jpg") == "现场.jpg"
    before = _stored(media)
    for data, name in ((OFD, "决定书.ofd"), (PDF, "报告.pdf")):
        with pytest.raises(ValidationError, match="不支持的照片类型"):
            upload(data, name)
    assert _stored(media) == before


@pytest.mark.parametrize("path", sorted(ALL_PATHS))
def test_every_path_refuses_lying_empty_and_oversized_files(
    path: str, cast: Cast, world: World, campaign83: Campaign, media: Path, settings: Any
) -> None:
    upload = ALL_PATHS[path](cast, world, campaign83)
    before = _stored(media)
    with pytest.raises(ValidationError, match=r"文件内容与扩展名不符：文件“现场\.jpg”的内容不是JPG格式"):
        upload(PDF if path != "inspection photo" else HEIC, "现场.jpg")
    with pytest.raises(ValidationError, match="文件为空"):
        upload(b"", "现场.jpg")
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    with pytest.raises(ValidationError, match="文件超过 1 MB 的大小限制"):
        upload(TINY_JPEG + b"\x00" * (1024 * 1024), "现场.jpg")
    assert _stored(media) == before


def test_the_type_is_read_from_the_content_and_a_nameless_file_gets_its_extension() -> None:
    checked = check_upload(io.BytesIO(OFD), name="决定书", purpose=DOCUMENTS)
    assert (checked.kind, checked.extension, checked.stored_name, checked.size) == (OOXML, ".zip", "决定书.zip", 84)
    assert check_upload(io.BytesIO(TINY_JPEG), name=r"C:\照片\现场.JPEG", purpose=PHOTOS).stored_name == "现场.JPEG"
    with pytest.raises(ValidationError, match=r"不支持的照片类型“\.exe”"):
        check_upload(io.BytesIO(TINY_JPEG), name="现场.exe", purpose=PHOTOS)
    with pytest.raises(ValidationError, match="不支持的文件类型：无法从内容识别“run”的类型"):
        check_upload(io.BytesIO(b"MZ\x90\x00 a program"), name="run", purpose=DOCUMENTS)
    assert ".heic" in PHOTOS.extensions and ".ofd" in DOCUMENTS.extensions and ".ofd" not in PHOTOS.extensions


def test_hazard_evidence_page_and_api_take_heic_and_ofd_and_refuse_a_stranger(cast: Cast, world: World) -> None:
    """The decision reaches hazards' page and API (they used to refuse both); out of scope stays a 404."""
    hazard = make_hazard(world.enterprise_a, status=HazardStatus.RECTIFYING)
    client = Client()
    client.force_login(cast.clerk)
    page = client.post(
        f"/hazards/{hazard.pk}/evidence/",
        {"evidence-kind": EvidenceKind.RECTIFICATION, "evidence-file": SimpleUploadedFile("整改通知.ofd", OFD)},
    )
    assert page.status_code == 302
    api = APIClient()
    api.force_authenticate(cast.clerk)
    answer = api.post(
        f"/api/v1/hazards/{hazard.pk}/evidence/",
        {"file": SimpleUploadedFile("现场.heic", HEIC), "kind": EvidenceKind.PHOTO},
        format="multipart",
    )
    assert answer.status_code == 201, answer.json()
    assert sorted(hazard.evidence.values_list("original_name", flat=True)) == ["整改通知.ofd", "现场.heic"]
    stranger = APIClient()
    stranger.force_authenticate(cast.other_county_staff)
    refused = stranger.post(
        f"/api/v1/hazards/{hazard.pk}/evidence/",
        {"file": SimpleUploadedFile("现场.heic", HEIC), "kind": EvidenceKind.PHOTO},
        format="multipart",
    )
    assert refused.status_code == 404 and hazard.evidence.count() == 2
