"""Hostile input, swept over every upload endpoint and every user-writable text field (issue 6, "Uploads").

* Every view that accepts a file — pages and API — is listed in ``ENDPOINTS``; a test walks the URLconf
  and fails when a view that reads ``request.FILES`` (or a DRF action with a multipart parser and a file
  field) is not in the list.
* Each endpoint gets: wrong types by content (names that lie, polyglots), a file over the size limit (refused
  from its size, without the application reading it), path tricks in the file name (stored under a generated
  name inside MEDIA_ROOT, the original shown escaped); the spreadsheet endpoints also zip bombs and XML
  entity attacks (refused within a time bound).
* Formula injection through every importer's text columns: stored as text, neutralised in every Excel export
  (hazard list, enterprise directory, filled ledger template, monthly tables), literal in the PDF.
* HTML/script written into every user-writable text field through the services, then every page that shows
  them rendered: the payload never appears unescaped.

Multipart bodies are built by hand: Django's test client would take the directory part off a file name
before sending it, and the point is what the server does with the name a hostile client sends.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import io
import json
import re
import shutil
import time
import urllib.parse
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from openpyxl import Workbook, load_workbook
from rest_framework import serializers as drf_serializers
from rest_framework.parsers import FileUploadParser, MultiPartParser
from rest_framework.test import APIClient

from hazards import services as hazard_services
from hazards.choices import HazardCategory, HazardLevel, HazardSource, HazardStatus
from hazards.criteria import load_catalogue_file
from hazards.models import Hazard, HazardEvidence, LedgerUpload, MajorHazardCriterion
from inspections import services as inspection_services
from inspections.models import (
    Campaign,
    Deliverable,
    DeliverableSubmission,
    EnforcementAttachment,
    EnforcementRecord,
    Inspection,
    InspectionPhoto,
    SelfCheckAnswer,
    SelfCheckEvidence,
)
from portal import services as portal_services
from portal.models import Enterprise, User
from tests import hostile_xlsx
from tests.conftest import Cast, World
from tests.factories import make_credit_code
from tests.hazards import ledger_xlsx
from tests.images import TINY_JPEG, TINY_PNG

pytestmark = pytest.mark.django_db

DAY = dt.date(2024, 5, 10)
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = TINY_JPEG  # real images: uploads are opened to read their pixel size
PNG = TINY_PNG
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64 + b"This program cannot be run"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'
# Polyglots: the magic of an accepted type, but not at the start (HTML first), or a GIF header on a zip.
HTML_THEN_PDF = b"<html><script>alert(1)</script></html>\n%PDF-1.7\n"
HTML_THEN_JPEG = b"<html><img src=x onerror=alert(1)></html>" + JPEG
GIF_ZIP = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;" + b"PK\x03\x04" + b"\x00" * 64

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
RAW_MARKERS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")

WRONG_TYPE_RE = re.compile(
    r"内容不是|不支持的|内容与扩展名|不是 ?Excel|网页（HTML/XML）|无法识别的文件类型|这是 PDF 文件|这是文本|旧版 Excel"
)
TOO_BIG_RE = re.compile(r"超过大小上限|大小限制|文件过大")


# --------------------------------------------------------------------------------------------
# Multipart by hand
# --------------------------------------------------------------------------------------------


def multipart(fields: dict[str, Any], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body; file names go as RFC 2231 ``filename*`` so that any character survives."""
    boundary = f"----hostile{uuid.uuid4().hex}"
    out = io.BytesIO()
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{item}\r\n'.encode())
    for field_name, file_name, content in files:
        quoted = urllib.parse.quote(file_name, safe="")
        out.write(
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field_name}\"; filename*=UTF-8''{quoted}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n".encode()
        )
        out.write(content)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def page_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def admin_page_client(user: User) -> Client:
    """A client whose session passed two-step verification, where the admin site asks for it."""
    try:
        from tests.otp_helpers import force_login_verified
    except ImportError:  # no two-step verification in this tree
        return page_client(user)
    client = Client()
    force_login_verified(client, user)
    return client


def api_client(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --------------------------------------------------------------------------------------------
# The scene: one object of each kind that files hang on
# --------------------------------------------------------------------------------------------


class Scene:
    """The cast, and one object of each kind that files hang on, made when first asked for."""

    def __init__(self, world: World, cast: Cast, media: Path) -> None:
        self.world, self.cast, self.media = world, cast, media

    @cached_property
    def hazard(self) -> Hazard:
        return hazard_services.hazard_report(
            actor=self.cast.clerk, enterprise=self.world.enterprise_a, level=HazardLevel.GENERAL,
            description="边坡浮石", category=HazardCategory.SLOPE, source=HazardSource.SELF_CHECK, found_on=DAY,
        )  # fmt: skip

    @cached_property
    def record(self) -> EnforcementRecord:
        return inspection_services.enforcement_record_create(
            actor=self.cast.town_a_staff, kind="suspension", date=DAY, enterprise=self.world.enterprise_a
        )

    @cached_property
    def inspection(self) -> Inspection:
        return inspection_services.inspection_create(
            actor=self.cast.town_a_staff, enterprise=self.world.enterprise_a, date=DAY,
            method="four_no_two_straight", leader="赵卫东",
        )  # fmt: skip

    @cached_property
    def campaign(self) -> Campaign:
        return _campaign83()

    @cached_property
    def answer(self) -> SelfCheckAnswer:
        report = inspection_services.self_check_start(
            actor=self.cast.clerk, campaign=self.campaign, enterprise=self.world.enterprise_a
        )
        answer = report.answers.select_related("item", "report").order_by("item__order", "id").first()
        assert answer is not None
        return answer

    @cached_property
    def deliverable(self) -> Deliverable:
        return self.campaign.deliverables.get(name="重大事故隐患排查整治台账")


@pytest.fixture
def media(tmp_path: Path, settings: Any) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    Path(settings.MEDIA_ROOT).mkdir(parents=True)
    return Path(settings.MEDIA_ROOT)


def _campaign83() -> Campaign:
    if not MajorHazardCriterion.objects.exists():
        load_catalogue_file()
    campaign = Campaign.objects.filter(document_number="泽应急发〔2024〕83号").first()
    if campaign is None:
        from django.apps import apps

        importlib.import_module("inspections.migrations.0002_seed_campaigns").seed(apps, None)
        campaign = Campaign.objects.get(document_number="泽应急发〔2024〕83号")
    return campaign


@pytest.fixture
def scene(world: World, cast: Cast, media: Path) -> Scene:
    return Scene(world, cast, media)


def prepare(scene: Scene, endpoint: Endpoint) -> None:
    """Make the objects the endpoint posts to before anything is counted."""
    for name in endpoint.send.__code__.co_names:
        if name in ("hazard", "record", "inspection", "answer", "campaign", "deliverable"):
            getattr(scene, name)


def stored_state(media: Path) -> tuple[Any, ...]:
    """Everything an upload could write: the rows holding files or imported rows, and the files on disk."""
    files = sorted(str(p) for p in media.rglob("*") if p.is_file())
    return (
        LedgerUpload.objects.count(),
        Hazard.objects.count(),
        HazardEvidence.objects.count(),
        Enterprise.objects.count(),
        EnforcementRecord.objects.count(),
        EnforcementAttachment.objects.count(),
        Inspection.objects.count(),
        InspectionPhoto.objects.count(),
        SelfCheckEvidence.objects.count(),
        DeliverableSubmission.objects.count(),
        files,
    )


# --------------------------------------------------------------------------------------------
# Valid spreadsheets for the three importers
# --------------------------------------------------------------------------------------------


def _xlsx(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


ENTERPRISE_HEADER = ["企业名称", "统一社会信用代码", "所在镇", "行业类别", "生产状态", "地址", "联系人", "许可证编号"]
ENFORCEMENT_HEADER = ["处理类型", "日期", "企业名称", "姓名", "罚款金额（万元）", "文书编号", "事由"]


def enterprise_xlsx(texts: list[str] | None = None) -> bytes:
    rows = [ENTERPRISE_HEADER]
    for i, text in enumerate(texts or ["正常文本"]):
        rows.append([f"{text}矿业{i}", make_credit_code(81000 + i), "巴公镇", "露天矿山", "正常生产", text, text, text])
    return _xlsx(rows)


def enforcement_xlsx(world: World, texts: list[str] | None = None) -> bytes:
    rows: list[list[Any]] = [ENFORCEMENT_HEADER]
    for i, text in enumerate(texts or ["正常文本"]):
        rows.append(
            ["约谈企业主要负责人", f"2024-05-{i + 1:02d}", world.enterprise_a.name, text, "", f"{text}{i}", text]
        )
    return _xlsx(rows)


def ledger_file(texts: list[str] | None = None, *, in_numbers: bool = False) -> bytes:
    """A ledger with the texts in every text column (and in 隐患编号 too when `in_numbers`)."""
    rows = []
    for i, text in enumerate(texts or ["正常文本"]):
        rows.append(
            ledger_xlsx.row(
                f"{text}{i}" if in_numbers else f"F-{i}",
                f"{text}边坡{i}",
                location=text,
                found_by=text,
                measures=text,
                unit=text,
                person=text,
                interim=text,
                note=text,
            )
        )
    return ledger_xlsx.simple(rows)


# --------------------------------------------------------------------------------------------
# The upload endpoints
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    url_name: str  # as reverse() knows it
    kind: str  # "xlsx" | "document" | "image"
    send: Callable[[Scene, str, bytes], Any]  # posts one file under the given name
    valid: Callable[[Scene], bytes]  # content the endpoint accepts
    valid_name: str
    shown_at: Callable[[Scene], tuple[User, str]] | None = None  # a page that shows the stored original name


def _page_post(user: User, url: str, fields: dict[str, Any], file_field: str, name: str, data: bytes) -> Any:
    body, content_type = multipart(fields, [(file_field, name, data)])
    return page_client(user).post(url, data=body, content_type=content_type)


def _api_post(user: User, url: str, fields: dict[str, Any], file_field: str, name: str, data: bytes) -> Any:
    body, content_type = multipart(fields, [(file_field, name, data)])
    return api_client(user).generic("POST", url, body, content_type=content_type)  # type: ignore[arg-type]


def _pdf(_: Scene) -> bytes:
    return PDF


def _jpeg(_: Scene) -> bytes:
    return JPEG


ENDPOINTS: list[Endpoint] = [
    # --- spreadsheets ---
    Endpoint(
        "enterprise-import",
        "xlsx",
        lambda s, n, d: _page_post(s.cast.county_staff, "/enterprises/import/", {}, "file", n, d),
        lambda s: enterprise_xlsx(),
        "企业名录.xlsx",
    ),
    Endpoint(
        "hazards:ledger-upload",
        "xlsx",
        lambda s, n, d: _page_post(s.cast.clerk, "/hazards/ledger/", {}, "file", n, d),
        lambda s: ledger_file(),
        "隐患台账.xlsx",
        lambda s: (s.cast.clerk, f"/hazards/ledger/{LedgerUpload.objects.latest('id').pk}/"),
    ),
    Endpoint(
        "hazards-api:ledger-upload-list",
        "xlsx",
        lambda s, n, d: _api_post(s.cast.clerk, "/api/v1/ledger-uploads/", {}, "file", n, d),
        lambda s: ledger_file(),
        "隐患台账.xlsx",
        lambda s: (s.cast.clerk, "/hazards/ledger/"),
    ),
    Endpoint(
        "inspections:enforcement-import",
        "xlsx",
        lambda s, n, d: _page_post(s.cast.town_a_staff, "/inspections/enforcement/import/", {}, "file", n, d),
        lambda s: enforcement_xlsx(s.world),
        "执法记录.xlsx",
    ),
    # --- evidence, attachments, photos ---
    Endpoint(
        "hazards:hazard-step",
        "document",
        lambda s, n, d: _page_post(
            s.cast.clerk, f"/hazards/{s.hazard.pk}/evidence/", {"evidence-kind": "photo"}, "evidence-file", n, d
        ),
        _pdf,
        "整改材料.pdf",
        lambda s: (s.cast.clerk, f"/hazards/{s.hazard.pk}/"),
    ),
    Endpoint(
        "hazards-api:hazard-evidence",
        "document",
        lambda s, n, d: _api_post(
            s.cast.clerk, f"/api/v1/hazards/{s.hazard.pk}/evidence/", {"kind": "photo"}, "file", n, d
        ),
        _pdf,
        "整改材料.pdf",
        lambda s: (s.cast.town_a_staff, f"/hazards/{s.hazard.pk}/"),
    ),
    Endpoint(
        "inspections:enforcement-create",
        "document",
        lambda s, n, d: _page_post(
            s.cast.town_a_staff,
            "/inspections/enforcement/new/",
            {"kind": "interview_principal", "date": "2024-05-11", "enterprise": s.world.enterprise_a.pk},
            "attachments",
            n,
            d,
        ),
        _pdf,
        "约谈记录.pdf",
        lambda s: (s.cast.town_a_staff, EnforcementRecord.objects.latest("id").get_absolute_url()),
    ),
    Endpoint(
        "inspections:enforcement-attachment-add",
        "document",
        lambda s, n, d: _page_post(
            s.cast.town_a_staff, f"/inspections/enforcement/{s.record.pk}/attachments/", {}, "files", n, d
        ),
        _pdf,
        "决定书.pdf",
        lambda s: (s.cast.county_staff, s.record.get_absolute_url()),
    ),
    Endpoint(
        "inspections:inspection-create",
        "image",
        lambda s, n, d: _page_post(
            s.cast.town_a_staff,
            "/inspections/inspections/new/",
            {
                "enterprise": s.world.enterprise_a.pk,
                "date": "2024-05-10",
                "method": "four_no_two_straight",
                "leader": "赵卫东",
            },
            "photos",
            n,
            d,
        ),
        _jpeg,
        "现场.jpg",
        lambda s: (s.cast.town_a_staff, Inspection.objects.latest("id").get_absolute_url()),
    ),
    Endpoint(
        "inspections:inspection-photo-add",
        "image",
        lambda s, n, d: _page_post(
            s.cast.town_a_staff, f"/inspections/inspections/{s.inspection.pk}/photos/", {}, "photos", n, d
        ),
        _jpeg,
        "现场.jpg",
        lambda s: (s.cast.county_staff, s.inspection.get_absolute_url()),
    ),
    Endpoint(
        "inspections-api:inspection-photos",
        "image",
        lambda s, n, d: _api_post(
            s.cast.town_a_staff, f"/api/v1/inspections/{s.inspection.pk}/photos/", {"caption": ""}, "file", n, d
        ),
        _jpeg,
        "现场.jpg",
        lambda s: (s.cast.town_a_staff, s.inspection.get_absolute_url()),
    ),
    Endpoint(
        "inspections:self-check-evidence",
        "document",
        lambda s, n, d: _page_post(
            s.cast.clerk,
            f"/inspections/self-checks/{s.answer.report_id}/items/{s.answer.item_id}/evidence/",
            {},
            "evidence",
            n,
            d,
        ),
        _pdf,
        "考勤.pdf",
        lambda s: (s.cast.clerk, f"/inspections/self-checks/{s.answer.report_id}/"),
    ),
    Endpoint(
        "inspections:submission-create",
        "document",
        lambda s, n, d: _page_post(
            s.cast.clerk,
            f"/inspections/campaigns/{s.campaign.pk}/deliverables/{s.deliverable.pk}/submit/",
            {"due_date": "2024-04-25", "title": "台账"},
            "file",
            n,
            d,
        ),
        _pdf,
        "台账.pdf",
        lambda s: (s.cast.clerk, f"/inspections/campaigns/{s.campaign.pk}/deliverables/{s.deliverable.pk}/submit/"),
    ),
    Endpoint(
        "inspections-api:deliverable-submission-list",
        "document",
        lambda s, n, d: _api_post(
            s.cast.clerk,
            "/api/v1/deliverable-submissions/",
            {"deliverable": s.deliverable.pk, "due_date": "2024-04-25"},
            "file",
            n,
            d,
        ),
        _pdf,
        "台账.pdf",
        lambda s: (s.cast.clerk, f"/inspections/campaigns/{s.campaign.pk}/deliverables/{s.deliverable.pk}/submit/"),
    ),
]
BY_NAME = {e.url_name: e for e in ENDPOINTS}
XLSX_ENDPOINTS = [e for e in ENDPOINTS if e.kind == "xlsx"]


def content_of(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else bytes(response.content)


def refusal_text(response: Any) -> str:
    """What the user is told: the messages of a redirect, the JSON errors, or the page."""
    if response.status_code in (301, 302, 303):
        return "\n".join(str(m) for m in get_messages(response.wsgi_request))
    if "json" in response.get("Content-Type", ""):
        return json.dumps(response.json(), ensure_ascii=False)
    return response.content.decode()


def accepted(response: Any) -> bool:
    if response.status_code in (200, 201):
        return "json" in response.get("Content-Type", "") or not re.search(
            r"errorlist|is-invalid|alert-danger", response.content.decode()
        )
    if response.status_code == 302:
        return not any(m.level_tag == "error" for m in get_messages(response.wsgi_request))
    return False


# --- every upload view is in the sweep --------------------------------------------------------


APP_PACKAGES = ("portal", "hazards", "inspections", "reporting")


def _functions_reached(func: Any, depth: int = 3, seen: set[Any] | None = None) -> Iterator[Any]:
    """The function and the app functions it names, a few calls deep (a view that hands over to an `*_view`)."""
    seen = set() if seen is None else seen
    func = inspect.unwrap(func)
    if func in seen:
        return
    seen.add(func)
    yield func
    code = getattr(func, "__code__", None)
    if code is None or depth == 0:
        return
    modules = [importlib.import_module(n) for n in code.co_names if n.startswith(APP_PACKAGES) and "." in n]
    for name in code.co_names:
        for namespace in [func.__globals__, *(vars(m) for m in modules)]:
            target = namespace.get(name)
            if inspect.isfunction(target) and target.__module__.startswith(APP_PACKAGES):
                yield from _functions_reached(target, depth - 1, seen)


def _has_file_field(serializer: Any) -> bool:
    fields = getattr(serializer, "_declared_fields", {})
    return any(isinstance(f, drf_serializers.FileField) for f in fields.values())


def _drf_takes_files(callback: Any) -> bool:
    cls = callback.cls
    parsers = callback.initkwargs.get("parser_classes", cls.parser_classes)
    if not any(issubclass(p, MultiPartParser | FileUploadParser) for p in parsers):
        return False
    for method in {m for m in getattr(callback, "actions", {}).values()} or {"post", "put", "patch"}:
        handler = getattr(cls, method, None)
        if handler is None:
            continue
        source = inspect.getsource(inspect.unwrap(handler))
        module = inspect.getmodule(handler)
        spaces = [vars(module)] + [vars(v) for v in vars(module).values() if inspect.ismodule(v)]
        for name in set(re.findall(r"\b(\w+Serializer)\b", source)):
            for space in spaces:
                if name in space and _has_file_field(space[name]):
                    return True
        if "request.FILES" in source:
            return True
    return False


def _upload_views() -> set[str]:
    found: set[str] = set()

    def walk(patterns: list[Any], namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace == "admin":
                    continue
                walk(p.url_patterns, f"{namespace}{p.namespace}:" if p.namespace else namespace)
            elif isinstance(p, URLPattern) and p.name:
                callback = p.callback
                if hasattr(callback, "cls"):
                    takes = _drf_takes_files(callback)
                else:
                    takes = any("request.FILES" in inspect.getsource(f) for f in _functions_reached(callback))
                if takes:
                    found.add(f"{namespace}{p.name}")

    walk(get_resolver().url_patterns, "")
    return found


# Views that take a file only to compare it and store nothing: each is walked here with hostile files
# (test_hash_only_uploads_store_nothing_and_answer_in_chinese) instead of the storing sweep above.
HASH_ONLY = {"reporting:verify": "/reports/verify/"}
HASH_ONLY_API = {"reporting-api:report-version-verify": "/api/v1/report-versions/verify/"}


def test_every_upload_view_is_in_the_sweep() -> None:
    views = _upload_views() - set(HASH_ONLY) - set(HASH_ONLY_API)
    assert views, "the walk found no upload view at all"
    missing = views - set(BY_NAME)
    assert not missing, f"upload views not covered by this sweep, add them to ENDPOINTS: {sorted(missing)}"
    gone = set(BY_NAME) - views
    assert not gone, f"ENDPOINTS names views that no longer take files: {sorted(gone)}"


@pytest.mark.parametrize("url_name", sorted(HASH_ONLY))
def test_hash_only_uploads_store_nothing_and_answer_in_chinese(url_name: str, cast: Cast, settings: Any) -> None:
    assert url_name in _upload_views()  # still a view that takes files
    media = Path(settings.MEDIA_ROOT)
    before = sorted(media.rglob("*")) if media.exists() else []
    hostile = [(case, name, data) for case, name, data in _wrong_types("document")]
    hostile.append(("oversize", "大文件.pdf", b"%PDF-1.4\n" + b"0" * (settings.UPLOAD_MAX_BYTES + 1)))
    hostile.append(("far-column-rows", "报表.xlsx", hostile_xlsx.far_column_rows(100_000)))
    for case, name, data in hostile:
        response = _page_post(cast.county_staff, HASH_ONLY[url_name], {}, "file", name, data)
        assert response.status_code < 500, case
        body = response.content.decode()
        assert "未找到一致的已签字文件" in body or "不是本门户生成的已签字文件" in body, (case, response.status_code)
        assert "<script>alert" not in body, case  # the file name is shown escaped
    after = sorted(media.rglob("*")) if media.exists() else []
    assert after == before  # nothing stored


@pytest.mark.parametrize("url_name", sorted(HASH_ONLY_API))
def test_hash_only_api_uploads_store_nothing_and_answer_in_chinese(url_name: str, cast: Cast, settings: Any) -> None:
    assert url_name in _upload_views()  # still a view that takes files
    media = Path(settings.MEDIA_ROOT)
    before = sorted(media.rglob("*")) if media.exists() else []
    hostile = [(case, name, data) for case, name, data in _wrong_types("document")]
    hostile.append(("oversize", "大文件.pdf", b"%PDF-1.4\n" + b"0" * (settings.UPLOAD_MAX_BYTES + 1)))
    hostile.append(("far-column-rows", "报表.xlsx", hostile_xlsx.far_column_rows(100_000)))
    for case, name, data in hostile:
        response = _api_post(cast.county_staff, HASH_ONLY_API[url_name], {}, "file", name, data)
        assert response.status_code in (200, 400), (case, response.status_code)
        if response.status_code == 200:
            assert response.json()["match"] is False, case  # a stranger's bytes never match a signed version
        else:
            assert "不是本门户生成的已签字文件" in response.content.decode(), case
    after = sorted(media.rglob("*")) if media.exists() else []
    assert after == before  # nothing stored


def test_the_admin_offers_no_file_upload(cast: Cast) -> None:
    """The admin is read-only where files live: no add form of a model with a file field (superuser)."""
    from django.contrib import admin

    superuser = User.objects.create_superuser("root_hostile", password="x-Hostile-2024")
    client = admin_page_client(superuser)
    assert client.get("/admin/").status_code == 200
    checked = 0
    for model in admin.site._registry:
        if not any(getattr(f, "get_internal_type", lambda: "")() == "FileField" for f in model._meta.get_fields()):
            continue
        response = client.get(f"/admin/{model._meta.app_label}/{model._meta.model_name}/add/")
        assert response.status_code == 403 or b'type="file"' not in response.content, model.__name__
        checked += 1
    assert checked, "no admin of a model with files was looked at"


# --- the valid file goes through (so that the refusals below mean something) -------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.url_name)
def test_a_valid_file_is_accepted(scene: Scene, endpoint: Endpoint) -> None:
    prepare(scene, endpoint)
    before = stored_state(scene.media)
    response = endpoint.send(scene, endpoint.valid_name, endpoint.valid(scene))
    assert accepted(response), (response.status_code, refusal_text(response)[:1500])
    assert stored_state(scene.media)[-1] != before[-1], "nothing was stored on disk"


# --- wrong type by content ---------------------------------------------------------------------


def _wrong_types(kind: str) -> list[tuple[str, str, bytes]]:
    if kind == "xlsx":
        return [
            ("pdf-named-xlsx", "台账.xlsx", PDF),
            ("html-named-xlsx", "台账.xlsx", HTML),
            ("exe-named-xlsx", "台账.xlsx", EXE),
            ("svg-named-xlsx", "台账.xlsx", SVG),
            ("html-then-pdf", "台账.xlsx", HTML_THEN_PDF),
            ("gif-zip-polyglot", "台账.xlsx", GIF_ZIP),
        ]
    cases = [
        ("pdf-named-xlsx", "材料.xlsx", PDF),
        ("html-named-png", "照片.png", HTML),
        ("svg-script", "照片.svg", SVG),
        ("svg-named-jpg", "照片.jpg", SVG),
        ("exe-named-pdf", "材料.pdf", EXE),
        ("exe-named-exe", "setup.exe", EXE),
        ("html-then-pdf", "材料.pdf", HTML_THEN_PDF),
        ("html-then-jpeg", "照片.jpg", HTML_THEN_JPEG),
        ("pdf-named-html", "page.html", PDF),
    ]
    if kind == "image":
        cases.append(("pdf-as-photo", "照片.pdf", PDF))
    return cases


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.url_name)
def test_wrong_type_by_content_is_refused_and_nothing_stored(scene: Scene, endpoint: Endpoint) -> None:
    prepare(scene, endpoint)
    failures = []
    for case, name, data in _wrong_types(endpoint.kind):
        before = stored_state(scene.media)
        response = endpoint.send(scene, name, data)
        text = refusal_text(response)
        if accepted(response) or not WRONG_TYPE_RE.search(text) or stored_state(scene.media) != before:
            failures.append(f"{case} ({name}): HTTP {response.status_code}, {text[:300]!r}")
    assert not failures, "\n".join(failures)


# --- over the size limit -----------------------------------------------------------------------


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Bytes the application reads from uploaded files (the parser's own spooling is not counted)."""
    counted: list[int] = []

    def read(self: UploadedFile, *args: Any) -> bytes:
        data = self.file.read(*args)  # type: ignore[union-attr]
        counted.append(len(data))
        return data

    monkeypatch.setattr(UploadedFile, "read", read, raising=False)
    return counted


LIMIT = 64 * 1024


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.url_name)
def test_over_the_size_limit_is_refused_without_reading_it(
    scene: Scene, endpoint: Endpoint, settings: Any, reads: list[int]
) -> None:
    settings.UPLOAD_MAX_BYTES = LIMIT
    valid = endpoint.valid(scene)
    # Valid magic and structure at the start, then padding: only the size can refuse it.
    data = valid + b"\x00" * (4 * LIMIT)
    prepare(scene, endpoint)
    before = stored_state(scene.media)
    response = endpoint.send(scene, endpoint.valid_name, data)
    assert not accepted(response)
    assert TOO_BIG_RE.search(refusal_text(response)), refusal_text(response)[:3000]
    assert stored_state(scene.media) == before
    assert sum(reads) <= LIMIT + 1, f"the application read {sum(reads)} bytes of a {len(data)}-byte upload"
    kept = [f.size for f in response.wsgi_request.FILES.values()]
    assert kept and max(kept) == LIMIT + 1, f"the request parser kept {kept} bytes of a {len(data)}-byte upload"


# --- spreadsheets: zip bombs and XML entities ---------------------------------------------------


def _bomb_total() -> bytes:
    """A real ledger whose worksheet inflates to 210 MB (the limit is 200 MB); ~200 KB on the wire."""
    return ledger_xlsx.zip_bomb(210 * 1024 * 1024)


def _bomb_ratio() -> bytes:
    """One 8 MB member of spaces: under the total limit, but a compression ratio of ~1000."""
    return ledger_xlsx.rewrite_member(
        ledger_file(), "xl/worksheets/sheet1.xml", b'<?xml version="1.0"?>' + b" " * (8 * 1024 * 1024)
    )


def _bomb_members() -> bytes:
    out = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(ledger_file()))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
        for i in range(2000):
            target.writestr(f"xl/media/x{i}.xml", b"<a/>")
    return out.getvalue()


def _billion_laughs() -> bytes:
    data = ledger_file()
    strings = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode() for i in range(1, 10)
        )
        + b']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        b"<si><t>&lol9;</t></si></sst>"
    )
    return (
        ledger_xlsx.rewrite_member(data, "xl/sharedStrings.xml", strings)
        if "xl/sharedStrings.xml" in zipfile.ZipFile(io.BytesIO(data)).namelist()
        else _with_member(data, "xl/sharedStrings.xml", strings)
    )


def _external_entity() -> bytes:
    data = ledger_file()
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    head, _, rest = sheet.partition(b"?>")
    xxe = b'<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    rest = rest.replace(
        b"<sheetData>", b'<sheetData><row r="99"><c r="A99" t="inlineStr"><is><t>&xxe;</t></is></c></row>', 1
    )
    return ledger_xlsx.rewrite_member(data, "xl/worksheets/sheet1.xml", head + b"?>" + xxe + rest)


def _with_member(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(data))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
        target.writestr(name, content)
    return out.getvalue()


_ARCHIVES: dict[str, bytes] = {}
ARCHIVE_BUILDERS: dict[str, tuple[Callable[[], bytes], str]] = {
    "bomb-total-size": (_bomb_total, r"压缩炸弹|解压后超过"),
    "bomb-ratio": (_bomb_ratio, r"压缩比|压缩炸弹"),
    "bomb-many-members": (_bomb_members, r"部件.*超过上限"),
    "billion-laughs": (_billion_laughs, r"XML 实体|文档类型声明"),
    "external-entity": (_external_entity, r"XML 实体|文档类型声明"),
    # Small on the wire, huge once read: bounded by streaming the archive before any row is parsed.
    **{f"bounds-{name}": (build, expected) for name, (build, expected) in hostile_xlsx.HOSTILE.items()},
}


def archive(kind: str) -> bytes:
    if kind not in _ARCHIVES:
        _ARCHIVES[kind] = ARCHIVE_BUILDERS[kind][0]()
    return _ARCHIVES[kind]


@pytest.mark.parametrize("endpoint", XLSX_ENDPOINTS, ids=lambda e: e.url_name)
def test_zip_bombs_and_xml_entities_are_refused_fast(scene: Scene, endpoint: Endpoint) -> None:
    prepare(scene, endpoint)
    for kind, (_build, expected) in ARCHIVE_BUILDERS.items():
        data = archive(kind)
        before = stored_state(scene.media)
        started = time.perf_counter()
        response = endpoint.send(scene, "台账.xlsx", data)
        elapsed = time.perf_counter() - started
        text = refusal_text(response)
        assert not accepted(response), kind
        assert re.search(expected, text), (kind, text[:3000])
        assert "root:" not in text, kind
        assert stored_state(scene.media) == before, kind
        assert elapsed < 3.0, f"{kind} took {elapsed:.1f} s to refuse"


# --- path tricks in file names -----------------------------------------------------------------

PATH_TRICKS = [
    ("dot-dot", "../../../../etc/passwd{ext}"),
    ("dot-dot-backslash", "..\\..\\..\\windows\\win.ini{ext}"),
    ("absolute", "/etc/cron.d/evil{ext}"),
    ("nul-byte", "evil.php\x00{ext}"),
    ("very-long", "a" * 300 + "{ext}"),
    ("long-chinese", "长" * 80 + "{ext}"),
    ("windows-reserved", "CON{ext}"),
    ("rtl-override", "invoice\u202egpj{ext}"),
    ("html-entities", "&lt;script&gt;alert(1)&lt;{ext}"),
    ("html", '"><img src=x onerror=alert(1)>{ext}'),  # last: the page shows the latest upload
]
GENERATED_NAME_RE = re.compile(r"^[0-9a-f]{32}\.[a-z]{3,4}$")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.url_name)
def test_path_tricks_in_file_names_are_stored_under_a_generated_name(scene: Scene, endpoint: Endpoint) -> None:
    ext = Path(endpoint.valid_name).suffix
    media = scene.media.resolve()
    for case, template in PATH_TRICKS:
        name = template.format(ext=ext)
        before = set(stored_state(scene.media)[-1])
        response = endpoint.send(scene, name, endpoint.valid(scene))
        assert accepted(response), (case, refusal_text(response)[:2000])
        new = [Path(p) for p in set(stored_state(scene.media)[-1]) - before]
        assert new, f"{case}: nothing stored"
        for path in new:
            assert path.resolve().is_relative_to(media), (case, path)
            assert GENERATED_NAME_RE.match(path.name), (case, path.name)
        for recorded in _recorded_names():
            assert not set(recorded) & {"/", "\\", "\x00", "\u202e"}, (case, recorded)
            assert len(recorded) <= 255, case
    if endpoint.shown_at is not None:  # the last name sent is the HTML one; the page is read once
        user, url = endpoint.shown_at(scene)
        body = page_client(user).get(url).content.decode()
        for marker in RAW_MARKERS:
            assert marker not in body, url
        assert "onerror=alert(1)&gt;" in body, f"the original name is not shown on {url}"


def _recorded_names() -> list[str]:
    names: list[str] = []
    for model in (LedgerUpload, HazardEvidence, EnforcementAttachment, InspectionPhoto, SelfCheckEvidence):
        names += list(model.objects.values_list("original_name", flat=True))
    names += list(DeliverableSubmission.objects.exclude(original_name="").values_list("original_name", flat=True))
    return names


# --------------------------------------------------------------------------------------------
# Formula injection through the importers, neutralised in every export
# --------------------------------------------------------------------------------------------

FORMULAS = [
    "=1+2",
    "+1+2",
    "-1+2",
    "@SUM(1,2)",
    "\t=1+2",
    "\r=1+2",
    "＝1+2",
    '=HYPERLINK("http://evil.example/","点我")',
    "=cmd|' /C calc'!A0",
]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
PLAIN_NUMBER_RE = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


def stored_form(payload: str) -> str:
    """What an import keeps: the text, trimmed (a leading tab or CR is whitespace)."""
    return payload.strip()


def assert_workbook_neutralised(data: bytes, expected: list[str]) -> None:
    """No cell is a formula or starts with a trigger; each expected text is there behind an apostrophe."""
    workbook = load_workbook(io.BytesIO(data))
    values: list[str] = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str):
                    value = cell.value
                    values.append(value)
                    risky = value.startswith(TRIGGERS) and not PLAIN_NUMBER_RE.match(value) and value.strip("-—")
                    assert not risky, f"{sheet.title}!{cell.coordinate} starts like a formula: {value!r}"
    joined = "\n".join(values)
    for text in expected:
        assert "'" + text in joined, f"{text!r} not found neutralised in the export"


def test_formula_injection_through_the_ledger_is_stored_as_text_and_neutralised(scene: Scene) -> None:
    client = page_client(scene.cast.clerk)
    body, content_type = multipart({}, [("file", "台账.xlsx", ledger_file(FORMULAS, in_numbers=True))])
    response = client.post("/hazards/ledger/", data=body, content_type=content_type)
    assert response.status_code == 200, refusal_text(response)[:3000]
    upload = LedgerUpload.objects.latest("id")
    token = re.search(rb'name="token" value="([^"]+)"', response.content)
    assert token
    assert client.post(f"/hazards/ledger/{upload.pk}/confirm/", {"token": token.group(1).decode()}).status_code == 302
    for i, payload in enumerate(FORMULAS):
        text = stored_form(payload)
        hazard = Hazard.objects.get(ledger_number=stored_form(f"{payload}{i}"))
        assert hazard.rectification_note == text
        assert hazard.location == text and hazard.found_by == text and hazard.measures == text
        assert hazard.responsible_unit == text and hazard.responsible_person == text
        assert hazard.interim_measures == text and hazard.description.startswith(text)
    expected = [stored_form(p) for p in FORMULAS]
    export = client.get("/hazards/export.xlsx")
    assert export.status_code == 200
    assert_workbook_neutralised(content_of(export), expected)
    template = client.get(f"/hazards/ledger/template.xlsx?enterprise={scene.world.enterprise_a.pk}")
    assert template.status_code == 200
    assert_workbook_neutralised(content_of(template), expected)


def test_formula_injection_through_the_enterprise_import_is_stored_as_text_and_neutralised(scene: Scene) -> None:
    client = page_client(scene.cast.county_staff)
    body, content_type = multipart({}, [("file", "名录.xlsx", enterprise_xlsx(FORMULAS))])
    preview = client.post("/enterprises/import/", data=body, content_type=content_type)
    assert preview.status_code == 200, refusal_text(preview)[:3000]
    token = preview.context["token"]
    assert client.post("/enterprises/import/", {"action": "commit", "token": token}).status_code == 302
    for i, payload in enumerate(FORMULAS):
        enterprise = Enterprise.objects.get(credit_code=make_credit_code(81000 + i))
        text = stored_form(payload)
        assert enterprise.address == text and enterprise.contact_name == text and enterprise.license_number == text
        assert enterprise.name.startswith(text)
    export = client.get("/enterprises/export.xlsx")
    assert export.status_code == 200
    assert_workbook_neutralised(content_of(export), [stored_form(p) for p in FORMULAS])


def test_formula_injection_through_the_enforcement_import_is_stored_as_text(scene: Scene) -> None:
    client = page_client(scene.cast.town_a_staff)
    body, content_type = multipart({}, [("file", "执法.xlsx", enforcement_xlsx(scene.world, FORMULAS))])
    preview = client.post("/inspections/enforcement/import/", data=body, content_type=content_type)
    assert preview.status_code == 200, refusal_text(preview)[:3000]
    done = client.post("/inspections/enforcement/import/", {"action": "commit", "token": preview.context["token"]})
    assert done.status_code == 302
    stored = set(EnforcementRecord.objects.values_list("person_name", "document_number", "description"))
    for i, payload in enumerate(FORMULAS):
        text = stored_form(payload)
        assert (text, f"{text}{i}", text) in stored


# --------------------------------------------------------------------------------------------
# HTML/script in every user-writable text field
# --------------------------------------------------------------------------------------------

XSS = [SCRIPT, IMG]


def x(label: str, i: int = 0) -> str:
    """A payload that also says where it was written (to find it on the pages)."""
    return f"{label}{XSS[i % 2]}"


@pytest.fixture
def hostile(scene: Scene) -> dict[str, Any]:
    """Payloads written through the services into every text field users write."""
    w, c = scene.world, scene.cast
    portal_services.enterprise_update(
        actor=c.county_staff, enterprise=w.enterprise_a,
        data={"address": x("地址"), "contact_name": x("联系人", 1), "license_number": x("许可证")},
    )  # fmt: skip
    hazard = hazard_services.hazard_report(
        actor=c.clerk, enterprise=w.enterprise_a, level=HazardLevel.GENERAL, description=x("隐患内容"),
        category=HazardCategory.SLOPE, source=HazardSource.SELF_CHECK, found_on=DAY, location=x("部位", 1),
        found_by=x("发现人"), ledger_number="X-1", measures=x("措施", 1), responsible_unit=x("责任单位"),
        responsible_person=x("责任人", 1), deadline=DAY + dt.timedelta(days=400), interim_measures=x("临时措施"),
        comment=x("上报说明", 1),
    )  # fmt: skip
    hazard = hazard_services.hazard_request_extension(
        actor=c.clerk, hazard=hazard, requested_deadline=DAY + dt.timedelta(days=500), reason=x("延期理由")
    ).hazard
    hazard_services.hazard_add_evidence(
        actor=c.clerk, hazard=hazard, file=io.BytesIO(PNG), original_name=f"{IMG}.png", kind="photo",
        description=x("材料说明", 1),
    )  # fmt: skip
    inspection = inspection_services.inspection_create(
        actor=c.town_a_staff, enterprise=w.enterprise_a, date=DAY, method="four_no_two_straight",
        leader=x("带队"), members=x("成员", 1), findings=x("检查情况"),
    )  # fmt: skip
    record = inspection_services.enforcement_record_create(
        actor=c.town_a_staff, kind="talk_enterprise", date=DAY, enterprise=w.enterprise_a,
        person_name=x("姓名"), person_title=x("职务", 1), document_number=x("文号"), description=x("事由", 1),
    )  # fmt: skip
    report = scene.answer.report
    inspection_services.self_check_answer(
        actor=c.clerk, report=report, item=scene.answer.item, answer="no", note=x("自查说明", 1)
    )
    inspection_services.self_check_update(actor=c.clerk, report=report, summary=x("自查总结"))
    inspection_services.submission_create(
        actor=c.clerk, deliverable=scene.deliverable, due_date=dt.date(2024, 4, 25), title=x("报送标题"),
        content=x("报送内容", 1), file=SimpleUploadedFile(f"{SCRIPT}.pdf", PDF),
    )  # fmt: skip
    return {"hazard": hazard, "inspection": inspection, "record": record, "report": report}


def assert_escaped(body: str, *labels: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in body, f"unescaped payload {marker!r} on the page"
    for label in labels:
        assert re.search(re.escape(label) + r"(&lt;script&gt;|&quot;&gt;&lt;img)", body), f"{label} not shown escaped"


def _pages(scene: Scene, h: dict[str, Any]) -> list[tuple[User, str, tuple[str, ...]]]:
    c, w = scene.cast, scene.world
    hazard, inspection, record, report = h["hazard"], h["inspection"], h["record"], h["report"]
    sub = f"/inspections/campaigns/{scene.campaign.pk}/deliverables/{scene.deliverable.pk}/submit/"
    return [
        (c.county_staff, "/enterprises/", ()),
        (c.county_staff, f"/enterprises/{w.enterprise_a.pk}/", ("地址", "联系人", "许可证")),
        (c.county_staff, "/hazards/", ("隐患内容", "部位")),
        (
            c.clerk,
            f"/hazards/{hazard.pk}/",
            ("隐患内容", "部位", "措施", "责任单位", "责任人", "临时措施", "延期理由", "材料说明"),
        ),
        (c.town_a_staff, f"/hazards/{hazard.pk}/", ("上报说明", "发现人")),
        (c.town_a_staff, "/hazards/queue/", ("隐患内容",)),
        (c.town_a_staff, "/hazards/notifications/", ()),
        (c.town_a_staff, "/inspections/inspections/", ()),
        (c.town_a_staff, inspection.get_absolute_url(), ("带队", "成员", "检查情况")),
        (c.town_a_staff, "/inspections/enforcement/", ("姓名",)),
        (c.town_a_staff, record.get_absolute_url(), ("姓名", "文号", "事由")),
        (c.town_a_staff, "/inspections/talks/", ()),
        (c.clerk, report.get_absolute_url(), ("自查说明", "自查总结")),
        (c.town_a_staff, report.get_absolute_url(), ("自查说明", "自查总结")),
        (c.clerk, sub, ("报送标题",)),
        (c.admin, "/audit/", ("地址",)),
        (c.admin, "/admin/hazards/hazard/", ()),
        (c.admin, f"/admin/hazards/hazard/{hazard.pk}/change/", ("隐患内容",)),
        (c.admin, f"/admin/inspections/inspection/{inspection.pk}/change/", ("检查情况",)),
        (c.admin, f"/admin/inspections/enforcementrecord/{record.pk}/change/", ("事由",)),
        (c.admin, f"/admin/portal/enterprise/{w.enterprise_a.pk}/change/", ()),
        (c.admin, "/admin/portal/auditevent/", ()),
    ]


def test_html_in_every_text_field_is_escaped_on_every_page(scene: Scene, hostile: dict[str, Any]) -> None:
    for user, url, labels in _pages(scene, hostile):
        response = (admin_page_client if url.startswith("/admin/") else page_client)(user).get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert_escaped(response.content.decode(), *labels)


def test_html_in_text_fields_is_escaped_in_the_report_drill_down(scene: Scene, hostile: dict[str, Any]) -> None:
    from tests.reporting.conftest import accountability_campaign

    accountability_campaign(scene.world.county)
    client = page_client(scene.cast.county_staff)
    url = "/reports/accountability/140525/2024-05/cell/talk_enterprise/"
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    assert_escaped(response.content.decode(), "姓名")


def test_html_stays_inert_text_in_the_excel_exports(scene: Scene, hostile: dict[str, Any]) -> None:
    client = page_client(scene.cast.county_staff)
    for url, expected in (
        ("/hazards/export.xlsx", x("隐患内容")),
        ("/enterprises/export.xlsx", x("地址")),
    ):
        response = client.get(url)
        workbook = load_workbook(io.BytesIO(content_of(response)))
        values = [c.value for s in workbook.worksheets for r in s.iter_rows() for c in r if isinstance(c.value, str)]
        assert expected in values, url


# --------------------------------------------------------------------------------------------
# Monthly tables: Excel and PDF
# --------------------------------------------------------------------------------------------


def _hostile_three_lists() -> Any:
    from reporting.tables import ProblemLine, RectificationLine, ResponsibilityLine, ThreeListsTable
    from tests.reporting.samples import heading

    texts = [*(stored_form(f) for f in FORMULAS), SCRIPT, IMG, '=HYPERLINK("x","<b>粗</b>")']
    problems = tuple(
        ProblemLine(
            i + 1, i + 1, f"企业{t}", "巴公镇", f"{t}", f"部位{t}", "一般事故隐患", "镇检查", dt.date(2023, 12, 5)
        )
        for i, t in enumerate(texts)
    )
    rectifications = tuple(
        RectificationLine(i + 1, i + 1, f"企业{i}", t, t, Decimal("1.00"), None, "整改中", None)
        for i, t in enumerate(texts)
    )
    responsibilities = tuple(ResponsibilityLine(i + 1, i + 1, f"企业{i}", t, t, t, t, t) for i, t in enumerate(texts))
    table = ThreeListsTable(
        heading=heading(f"三清单{SCRIPT}", unit_name=f"巴公镇{IMG}", filled_by="=1+2"),
        problems=problems,
        rectifications=rectifications,
        responsibilities=responsibilities,
    )
    return table, texts


def test_monthly_table_xlsx_neutralises_formulas_and_keeps_html_as_text() -> None:
    from reporting.builders.xlsx import build_xlsx

    table, texts = _hostile_three_lists()
    data = build_xlsx(table)
    expected = [t for t in texts if t.startswith(TRIGGERS) and not PLAIN_NUMBER_RE.match(t)]
    assert_workbook_neutralised(data, [stored for stored in expected])
    workbook = load_workbook(io.BytesIO(data))
    values = [c.value for s in workbook.worksheets for r in s.iter_rows() for c in r if isinstance(c.value, str)]
    assert SCRIPT in values and IMG in values


needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="需要 Debian 软件包 poppler-utils")


@needs_poppler
def test_monthly_table_pdf_shows_html_and_formulas_literally() -> None:
    from reporting.builders.pdf import build_pdf, render_html
    from tests.reporting import pdftext

    table, _texts = _hostile_three_lists()
    html = render_html(table)
    for marker in RAW_MARKERS:
        assert marker not in html
    text = pdftext.text(build_pdf(table))
    for payload in (SCRIPT, IMG, "<b>粗</b>", "=HYPERLINK", "＝1+2", "@SUM(1,2)"):
        assert payload.replace(" ", "") in text, payload


# --------------------------------------------------------------------------------------------
# HTML in imported cells and file names: the previews and their error lines
# --------------------------------------------------------------------------------------------


def test_html_in_imported_cells_is_escaped_in_the_previews(scene: Scene) -> None:
    w, c = scene.world, scene.cast
    bad_date = ["约谈企业主要负责人", SCRIPT, w.enterprise_a.name, IMG, "", "", ""]
    cases = [
        (c.clerk, "/hazards/ledger/", ledger_file(XSS)),
        (c.county_staff, "/enterprises/import/", enterprise_xlsx(XSS)),
        (c.town_a_staff, "/inspections/enforcement/import/", enforcement_xlsx(w, XSS)),
        # A refused row: the error line quotes the cell.
        (c.town_a_staff, "/inspections/enforcement/import/", _xlsx([ENFORCEMENT_HEADER, bad_date])),
        (c.clerk, "/hazards/ledger/", ledger_xlsx.simple([ledger_xlsx.row("E-1", SCRIPT, found_on=IMG)])),
    ]
    for user, url, data in cases:
        body, content_type = multipart({}, [("file", f"{IMG}.xlsx", data)])
        response = page_client(user).post(url, data=body, content_type=content_type)
        assert response.status_code in (200, 400), (url, response.status_code)
        html = response.content.decode()
        for marker in RAW_MARKERS:
            assert marker not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "onerror=alert(1)&gt;" in html, url


# --------------------------------------------------------------------------------------------
# Monthly tables from the database: the page, the drill-down, the Excel and the PDF
# --------------------------------------------------------------------------------------------

FORMULA_HTML = f'=HYPERLINK("http://evil.example/","{SCRIPT}")'


@pytest.fixture
def hostile_major_hazard(world: World) -> Hazard:
    from tests.reporting.conftest import hazard, winter_campaign

    winter_campaign(world.county)
    return hazard(
        world.enterprise_a, level=HazardLevel.MAJOR, found_on=dt.date(2023, 12, 4), status=HazardStatus.CONFIRMED,
        description=FORMULA_HTML, location=IMG, measures=f"@{SCRIPT}", responsible_unit=f"+{IMG}",
        responsible_person="-1+2", deadline=dt.date(2024, 1, 15), current_deadline=dt.date(2024, 1, 15),
        supervision_level="county", supervision_unit=f"={SCRIPT}",
    )  # fmt: skip


def test_monthly_tables_from_the_database_escape_and_neutralise(cast: Cast, hostile_major_hazard: Hazard) -> None:
    from reporting.builders.pdf import render_html
    from reporting.builders.xlsx import build_xlsx
    from reporting.figures import Scope, compute_table, period_for
    from tests.reporting.conftest import winter_campaign

    world_county = hostile_major_hazard.enterprise.town.parent
    assert world_county is not None
    campaign = winter_campaign(world_county)
    client = page_client(cast.county_staff)
    for url in (
        "/reports/winter/140525/2023-12/",
        "/reports/winter/140525/2023-12/cell/major_hazards/",
        "/reports/winter/140525/2023-12/cell/month.major_found/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        for marker in RAW_MARKERS:
            assert marker not in body, url
        assert "&lt;script&gt;" in body or "&lt;img src=x" in body, f"the hazard is not shown on {url}"
    period = period_for(campaign, dt.date(2023, 12, 1))
    county_table = compute_table("winter", Scope(region=world_county, campaign=campaign, period=period))
    town_table = compute_table(
        "three_lists", Scope(region=hostile_major_hazard.enterprise.town, campaign=campaign, period=period)
    )
    for table in (county_table, town_table):
        data = build_xlsx(table)
        assert_workbook_neutralised(data, [FORMULA_HTML] if table is town_table else [])
        values = "\n".join(
            c.value for s in load_workbook(io.BytesIO(data)).worksheets for r in s.iter_rows() for c in r
            if isinstance(c.value, str)
        )  # fmt: skip
        assert SCRIPT in values, type(table).__name__
        html = render_html(table)
        for marker in RAW_MARKERS:
            assert marker not in html, type(table).__name__


@needs_poppler
def test_monthly_table_pdf_from_the_database_shows_the_text_literally(cast: Cast, hostile_major_hazard: Hazard) -> None:
    from reporting.builders.pdf import build_pdf
    from reporting.figures import Scope, compute_table, period_for
    from tests.reporting import pdftext
    from tests.reporting.conftest import winter_campaign

    town = hostile_major_hazard.enterprise.town
    campaign = winter_campaign(town.parent)  # type: ignore[arg-type]
    table = compute_table(
        "three_lists", Scope(region=town, campaign=campaign, period=period_for(campaign, dt.date(2023, 12, 1)))
    )
    text = pdftext.text(build_pdf(table))
    for payload in (SCRIPT, "=HYPERLINK", "onerror=alert(1)>", f"@{SCRIPT}"):
        assert payload.replace(" ", "") in text, payload


def test_html_in_query_parameters_is_not_reflected_raw(scene: Scene) -> None:
    """Search boxes, filters, sorting and paging echo what the user typed: escaped, never as markup."""
    params = urllib.parse.urlencode(
        {"q": SCRIPT, "town": IMG, "enterprise": IMG, "ordering": IMG, "page": IMG, "status": IMG, "level": IMG,
         "month": IMG, "kind": IMG, "due": IMG, "exam": IMG, "template": "", "campaign": IMG}
    )  # fmt: skip
    c = scene.cast
    pages = [
        (c.county_staff, "/enterprises/"),
        (c.county_staff, "/hazards/"),
        (c.county_staff, "/hazards/queue/"),
        (c.county_staff, "/inspections/inspections/"),
        (c.county_staff, "/inspections/enforcement/"),
        (c.town_a_staff, "/inspections/enforcement/new/"),
        (c.town_a_staff, "/inspections/inspections/new/"),
        (c.county_staff, "/inspections/warnings/"),
        (c.county_staff, "/inspections/coverage/"),
        (c.county_staff, "/inspections/talks/"),
        (c.admin, "/audit/"),
        (c.county_staff, "/reports/"),
        (c.county_staff, "/reports/dashboard/hazards/"),
        (c.clerk, "/hazards/ledger/"),
    ]
    for user, url in pages:
        response = page_client(user).get(f"{url}?{params}")
        assert response.status_code in (200, 400, 404), (url, response.status_code)
        body = response.content.decode()
        for marker in RAW_MARKERS:
            assert marker not in body, url


def _download_urls() -> list[str]:
    urls = [f"/hazards/evidence/{pk}/" for pk in HazardEvidence.objects.values_list("pk", flat=True)]
    urls += [f"/hazards/evidence/{pk}/?inline=1" for pk in HazardEvidence.objects.values_list("pk", flat=True)]
    urls += [f"/api/v1/hazard-evidence/{pk}/file/" for pk in HazardEvidence.objects.values_list("pk", flat=True)]
    urls += [f"/hazards/ledger/{pk}/file/" for pk in LedgerUpload.objects.values_list("pk", flat=True)]
    for kind, model in (
        ("enforcement", EnforcementAttachment),
        ("photo", InspectionPhoto),
        ("evidence", SelfCheckEvidence),
        ("submission", DeliverableSubmission),
    ):
        for pk in model.objects.values_list("pk", flat=True):
            urls += [f"/inspections/files/{kind}/{pk}/", f"/inspections/files/{kind}/{pk}/?inline=1"]
    return urls


def test_stored_files_are_downloaded_with_their_sniffed_type_and_nosniff(scene: Scene) -> None:
    """Every file stored under a hostile name comes back with nosniff, never as HTML or SVG, the name quoted."""
    for endpoint in ENDPOINTS:
        if endpoint.url_name in ("enterprise-import", "inspections:enforcement-import"):
            continue  # previews are kept for the confirmation only, never downloaded
        prepare(scene, endpoint)
        response = endpoint.send(scene, f"{IMG}{Path(endpoint.valid_name).suffix}", endpoint.valid(scene))
        assert accepted(response), endpoint.url_name
    urls = _download_urls()
    assert len(urls) >= 14
    client = page_client(scene.cast.county_staff)
    clerk = page_client(scene.cast.clerk)
    for url in urls:
        response = client.get(url)
        if response.status_code == 404:  # the clerk's own self-check evidence and ledger
            response = clerk.get(url)
        assert response.status_code == 200, url
        assert response["X-Content-Type-Options"] == "nosniff", url
        content_type = response["Content-Type"]
        assert not content_type.startswith(("text/html", "image/svg", "application/xhtml", "text/xml")), url
        disposition = response["Content-Disposition"]
        assert "\r" not in disposition and "\n" not in disposition
        assert disposition.startswith(("attachment", "inline")), url
        if disposition.startswith("inline"):
            assert content_type.startswith(("image/", "application/pdf")), (url, content_type)


def test_html_in_the_other_text_fields_is_escaped(scene: Scene, hostile: dict[str, Any]) -> None:
    """Parent companies, people, account names, extension decisions, teams, progress reports, duty logs, photo
    captions and the sheet title of an uploaded ledger."""
    from portal.choices import PersonRole

    w, c = scene.world, scene.cast
    company = portal_services.parent_company_create(
        actor=c.admin, name=x("集团"), region=w.county, address=x("集团地址", 1)
    )
    portal_services.enterprise_update(actor=c.admin, enterprise=w.enterprise_a, data={"parent_company": company})
    portal_services.person_create(actor=c.admin, enterprise=w.enterprise_a, name=x("安全员"), role=PersonRole.SAFETY)
    portal_services.user_update(actor=c.admin, user=c.clerk, data={"full_name": x("账号姓名", 1)})
    hazard = hostile["hazard"]
    extension = hazard.extensions.get()
    hazard_services.hazard_decide_extension(
        actor=c.town_a_staff, extension=extension, approve=False, comment=x("驳回理由")
    )
    campaign = scene.campaign
    inspection_services.inspection_team_create(
        actor=c.town_a_staff, campaign=campaign, name=x("督查组"), leader=x("组长", 1), formed_on=DAY,
        members=x("组员"), note=x("备注", 1),
    )  # fmt: skip
    phase = campaign.phases.order_by("order").first()
    assert phase is not None
    inspection_services.progress_save(
        actor=c.town_a_staff,
        phase=phase,
        progress=x("进展"),
        problems=x("问题", 1),
        measures=x("举措"),
        submit=True,
    )
    inspection_services.duty_log_save(
        actor=c.clerk, enterprise=w.enterprise_a, month=dt.date(2024, 5, 1), note=x("履职备注", 1)
    )
    inspection_services.inspection_photo_add(
        actor=c.town_a_staff, inspection=hostile["inspection"], upload=SimpleUploadedFile("现场.jpg", JPEG),
        caption=x("照片说明"),
    )  # fmt: skip
    body, content_type = multipart({}, [("file", "台账.xlsx", ledger_xlsx.build([ledger_xlsx.row("S-1")], sheet=IMG))])
    assert page_client(c.clerk).post("/hazards/ledger/", data=body, content_type=content_type).status_code == 200
    ledger = LedgerUpload.objects.latest("id")
    pages: list[tuple[User, str, tuple[str, ...]]] = [
        (c.county_staff, f"/enterprises/{w.enterprise_a.pk}/", ("集团", "安全员")),
        (c.county_staff, "/enterprises/", ()),
        (c.clerk, "/hazards/", ("账号姓名",)),
        (c.town_a_staff, f"/hazards/{hazard.pk}/", ("驳回理由", "账号姓名")),
        (c.town_a_staff, "/inspections/teams/", ("督查组", "组长")),
        (c.county_staff, f"/inspections/campaigns/{campaign.pk}/progress/", ("进展",)),
        (c.clerk, "/inspections/duty-logs/", ()),
        (c.town_a_staff, hostile["inspection"].get_absolute_url(), ("照片说明",)),
        (c.clerk, f"/hazards/ledger/{ledger.pk}/", ()),
        (c.admin, "/audit/", ("集团",)),
    ]
    for user, url, labels in pages:
        response = page_client(user).get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert_escaped(response.content.decode(), *labels)


def test_a_malformed_upload_request_is_refused_in_chinese(scene: Scene) -> None:
    """A file name too long for the multipart part header (Django refuses the part): a Chinese 400 page, nothing
    stored."""
    endpoint = BY_NAME["hazards:hazard-step"]
    prepare(scene, endpoint)
    before = stored_state(scene.media)
    response = endpoint.send(scene, "长" * 200 + ".pdf", PDF)
    assert response.status_code == 400
    assert "请求无法处理" in response.content.decode()
    assert stored_state(scene.media) == before
