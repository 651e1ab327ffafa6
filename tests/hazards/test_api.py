"""The hazards REST API: scoped reads, filters and pagination with constant queries, every step as a POST
(404 outside the scope, 403 wrong role, 409 wrong or changed status, 400 wrong input — in Chinese, nothing
changed), evidence uploads and scoped downloads, extensions, the catalogue, the work queue, notifications."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from hazards.choices import EvidenceKind, ExtensionStatus, HazardLevel, HazardStatus, MineType
from hazards.models import ExtensionRequest, Hazard, HazardEvent, HazardEvidence, MajorHazardCriterion, Notification
from portal.choices import AuditAction
from portal.models import AuditEvent, User
from tests.conftest import Cast, World
from tests.factories import TEST_PASSWORD
from tests.hazards.conftest import PNG_BYTES, add_evidence, add_extension, make_hazard, open_pit_item

S = HazardStatus
MAJOR = HazardLevel.MAJOR
GENERAL = HazardLevel.GENERAL
TODAY = datetime.date.today()
CHINESE = re.compile(r"[\u4e00-\u9fff]")
MEMBERS = [
    "clerk", "principal", "town_a_staff", "town_b_staff", "county_staff", "county_leader", "admin",
    "city_viewer", "other_county_staff", "other_clerk",
]  # fmt: skip
SEES_ENTERPRISE_A = {"clerk", "principal", "town_a_staff", "county_staff", "county_leader", "admin", "city_viewer"}


def api(user: User | None = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, (response.status_code, response.content[:300])
    return response.json()["results"]  # type: ignore[no-any-return]


def url(hazard: Hazard | int, step: str = "") -> str:
    pk = hazard if isinstance(hazard, int) else hazard.pk
    return f"/api/v1/hazards/{pk}/{step + '/' if step else ''}"


# --- Reading ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("member", MEMBERS)
def test_list_and_retrieve_are_scoped(world: World, cast: Cast, catalogue: None, member: str) -> None:
    mine = make_hazard(world.enterprise_a, level=GENERAL, status=S.REPORTED)
    other = make_hazard(world.enterprise_other, level=GENERAL, status=S.REPORTED)
    client = api(getattr(cast, member))
    ids = {row["id"] for row in results(client.get("/api/v1/hazards/"))}
    sees = member in SEES_ENTERPRISE_A
    assert (mine.pk in ids) is sees
    assert (other.pk in ids) is (member in {"other_county_staff", "other_clerk"})
    response = client.get(url(mine))
    assert response.status_code == (200 if sees else 404)
    if sees:
        body = response.json()
        assert body["enterprise_name"] == "泽州县示范矿业有限公司" and body["status_display"] == "已上报"
        assert body["is_overdue"] is True  # the default deadline 2024-06-30 has passed
    else:
        assert CHINESE.search(response.json()["detail"])
        assert AuditEvent.objects.filter(action=AuditAction.DENIED, object_id=str(mine.pk)).exists()


def test_anonymous_is_401(world: World, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a)
    for path in ("/api/v1/hazards/", url(hazard), "/api/v1/work-queue/", "/api/v1/notifications/"):
        assert APIClient().get(path).status_code == 401, path
    assert APIClient().post(url(hazard, "confirm-town"), {}, format="json").status_code == 401


def test_filters_and_pagination(world: World, cast: Cast, catalogue: None) -> None:
    overdue = make_hazard(world.enterprise_a, status=S.RECTIFYING, deadline=TODAY - datetime.timedelta(days=1))
    fine = make_hazard(world.enterprise_a2, status=S.RECTIFYING, deadline=TODAY + datetime.timedelta(days=9))
    general = make_hazard(world.enterprise_b, level=GENERAL, status=S.REPORTED, deadline=None)
    supervised = make_hazard(world.enterprise_b, status=S.CONFIRMED, supervision_level="city", deadline=None)
    client = api(cast.county_staff)

    def ids(**params: Any) -> set[int]:
        return {row["id"] for row in results(client.get("/api/v1/hazards/", params))}

    assert ids() == {overdue.pk, fine.pk, general.pk, supervised.pk}
    assert ids(level="general") == {general.pk}
    assert ids(status=["rectifying", "confirmed"]) == {overdue.pk, fine.pk, supervised.pk}
    assert ids(town=world.town_b.pk) == {general.pk, supervised.pk}
    assert ids(enterprise=world.enterprise_a2.pk) == {fine.pk}
    assert ids(overdue="true") == {overdue.pk}
    assert ids(supervised="true") == {supervised.pk}
    assert ids(supervision_level="city") == {supervised.pk}
    ordered = [
        row["id"] for row in results(client.get("/api/v1/hazards/", {"ordering": "-deadline", "status": "rectifying"}))
    ]
    assert ordered == [fine.pk, overdue.pk]
    # An enterprise outside the scope is not a choice: 400, in Chinese.
    response = client.get("/api/v1/hazards/", {"enterprise": world.enterprise_other.pk})
    assert response.status_code == 400 and CHINESE.search(str(response.json()))
    page = client.get("/api/v1/hazards/", {"page_size": 3}).json()
    assert page["count"] == 4 and len(page["results"]) == 3 and page["next"]


def _fill(world: World, count: int) -> None:
    for i in range(count):
        enterprise = (world.enterprise_a, world.enterprise_a2, world.enterprise_b)[i % 3]
        hazard = make_hazard(enterprise, status=(S.PENDING_COUNTY, S.RECTIFYING)[i % 2])
        if i % 4 == 1:
            add_extension(hazard, None)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", ["/api/v1/hazards/", "/api/v1/work-queue/"])
def test_list_query_count_does_not_grow(
    world: World, cast: Cast, catalogue: None, django_assert_num_queries: Any, path: str
) -> None:
    client = api(cast.county_staff)
    _fill(world, 2)
    client.get(path)
    with CaptureQueriesContext(connection) as few:
        assert results(client.get(path))
    _fill(world, 80)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(results(client.get(path))) == 50
    assert len(few.captured_queries) <= 10


# --- Reporting --------------------------------------------------------------------------------------


def _report(**overrides: Any) -> dict[str, Any]:
    data = {
        "level": "general", "description": "+320平台边坡有浮石", "category": "slope", "source": "self_check",
        "found_on": "2024-05-01",
    }  # fmt: skip
    data.update(overrides)
    return data


def test_report_through_the_api(world: World, cast: Cast, catalogue: None) -> None:
    response = api(cast.clerk).post("/api/v1/hazards/", _report(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["enterprise"] == world.enterprise_a.pk and body["status"] == "reported"
    assert set(body["allowed_actions"]) == {"start_rectification", "request_extension", "update", "add_evidence"}

    response = api(cast.principal).post("/api/v1/hazards/", _report(level="major"), format="json")
    assert response.status_code == 400 and "判定依据" in response.json()["criterion"][0]
    item = open_pit_item(7)
    response = api(cast.principal).post(
        "/api/v1/hazards/", _report(level="major", criterion=item.pk, description="另一条"), format="json"
    )
    assert response.status_code == 201 and response.json()["status"] == "draft"
    assert response.json()["criterion_code"] == "露天矿山二（七）"
    assert "sign_report" in response.json()["allowed_actions"]

    # The town reports for its own enterprises only; readers do not report.
    town = api(cast.town_a_staff)
    response = town.post("/api/v1/hazards/", _report(enterprise=world.enterprise_b.pk), format="json")
    assert response.status_code == 400 and "不存在或不在您的辖区内" in response.json()["enterprise"][0]
    assert town.post("/api/v1/hazards/", _report(), format="json").status_code == 400  # no enterprise
    response = town.post("/api/v1/hazards/", _report(enterprise=world.enterprise_a2.pk), format="json")
    assert response.status_code == 201
    for member in ("county_leader", "city_viewer"):
        response = api(getattr(cast, member)).post("/api/v1/hazards/", _report(), format="json")
        assert response.status_code == 403 and CHINESE.search(response.json()["detail"])
    assert Hazard.objects.count() == 3
    # Strict JSON types.
    assert api(cast.clerk).post("/api/v1/hazards/", _report(description=5), format="json").status_code == 400


# --- Steps ------------------------------------------------------------------------------------------


CONFIRM_TOWN_CODES = {
    "clerk": 403, "principal": 403, "town_a_staff": 200, "town_b_staff": 404, "county_staff": 403,
    "county_leader": 403, "admin": 403, "city_viewer": 403, "other_county_staff": 404, "other_clerk": 404,
}  # fmt: skip


@pytest.mark.parametrize("member", MEMBERS)
def test_confirm_town_for_every_member(world: World, cast: Cast, catalogue: None, member: str) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.PENDING_TOWN)
    response = api(getattr(cast, member)).post(url(hazard, "confirm-town"), {"comment": "属实"}, format="json")
    assert response.status_code == CONFIRM_TOWN_CODES[member], response.content
    hazard.refresh_from_db()
    if response.status_code == 200:
        assert hazard.status == S.PENDING_COUNTY and response.json()["status"] == "pending_county"
        assert HazardEvent.objects.get(hazard=hazard).comment == "属实"
    else:
        assert CHINESE.search(response.json()["detail"])
        assert hazard.status == S.PENDING_TOWN and not HazardEvent.objects.filter(hazard=hazard).exists()


def test_wrong_or_changed_status_is_409(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.PENDING_COUNTY)
    client = api(cast.town_a_staff)
    response = client.post(url(hazard, "confirm-town"), {}, format="json")
    assert response.status_code == 409
    assert response.json()["detail"] == "该隐患当前状态为“待县确认”，不能进行“镇确认”。"
    response = api(cast.county_staff).post(
        url(hazard, "confirm-county"), {"expected_status": "pending_town"}, format="json"
    )
    assert response.status_code == 409 and "该隐患状态已变更为“待县确认”" in response.json()["detail"]
    assert not HazardEvent.objects.exists()


def test_role_is_checked_before_the_input(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.PENDING_TOWN)
    assert api(cast.clerk).post(url(hazard, "send-back"), {}, format="json").status_code == 403
    response = api(cast.town_a_staff).post(url(hazard, "send-back"), {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    response = api(cast.town_a_staff).post(url(hazard, "send-back"), {"reason": "  "}, format="json")
    assert response.status_code == 400 and response.json()["reason"] == ["该字段不能为空。"]
    assert api(cast.town_a_staff).post(url(hazard, "send-back"), {"reason": 1}, format="json").status_code == 400
    hazard.refresh_from_db()
    assert hazard.status == S.PENDING_TOWN


def test_major_workflow_through_the_api(world: World, cast: Cast, catalogue: None) -> None:
    item = open_pit_item(3)
    response = api(cast.clerk).post(
        "/api/v1/hazards/", _report(level="major", criterion=item.pk, found_on=TODAY.isoformat()), format="json"
    )
    pk = response.json()["id"]
    shown = {
        "fingerprint": api(cast.principal).get(f"/api/v1/hazards/{pk}/").json()["fingerprint"],
        "password": TEST_PASSWORD,  # a signature asks for the password again
    }
    assert api(cast.clerk).post(url(pk, "sign-report"), shown, format="json").status_code == 403
    none_shown = {"password": TEST_PASSWORD}
    assert api(cast.principal).post(url(pk, "sign-report"), none_shown, format="json").status_code == 400
    assert api(cast.principal).post(url(pk, "sign-report"), shown, format="json").status_code == 200
    assert api(cast.town_a_staff).post(url(pk, "confirm-town"), {}, format="json").status_code == 200
    assert api(cast.county_staff).post(url(pk, "confirm-county"), {}, format="json").status_code == 200
    supervise = {
        "level": "county", "unit": "泽州县应急管理局", "doc_number": "泽应急督〔2024〕7号",
        "date": TODAY.isoformat(), "deadline": (TODAY + datetime.timedelta(days=30)).isoformat(),
    }  # fmt: skip
    response = api(cast.county_staff).post(url(pk, "supervise"), supervise, format="json")
    assert response.status_code == 200 and response.json()["is_supervised"] is True

    clerk = api(cast.clerk)
    response = clerk.post(url(pk, "start-rectification"), {}, format="json")
    assert response.status_code == 400 and "“五落实”不全" in str(response.json())
    response = clerk.patch(url(pk), {"description": "改写内容"}, format="json")
    assert response.status_code == 403 and "只能补充“五落实”" in response.json()["detail"]
    response = clerk.patch(url(pk), {"measures": "削坡", "responsible_unit": "采矿车间"}, format="json")
    assert response.status_code == 200 and response.json()["measures"] == "削坡"
    deadline = (TODAY + datetime.timedelta(days=20)).isoformat()
    five = {"responsible_person": "李安全", "funds_wan": "8.00", "deadline": deadline, "interim_measures": "警戒"}
    response = clerk.post(url(pk, "start-rectification"), five, format="json")
    assert response.status_code == 200 and response.json()["status"] == "rectifying"

    closure = {"rectified_on": TODAY.isoformat(), "rectification_note": "已削坡"}
    response = clerk.post(url(pk, "request-closure"), closure, format="json")
    assert response.status_code == 400 and "整改材料" in str(response.json())
    upload = SimpleUploadedFile("整改后.png", PNG_BYTES, content_type="image/png")
    response = clerk.post(url(pk, "evidence"), {"file": upload, "kind": "rectification"}, format="multipart")
    assert response.status_code == 201, response.content
    evidence = response.json()
    assert evidence["original_name"] == "整改后.png" and evidence["size"] == len(PNG_BYTES)
    assert clerk.post(url(pk, "request-closure"), closure, format="json").status_code == 200

    # The rectifier never closes; the county does.
    response = api(cast.county_staff).post(url(pk, "close"), {"comment": "同意"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "closed"
    assert response.json()["verified_by_name"]
    events = api(cast.county_staff).get(url(pk, "events")).json()
    assert [e["action"] for e in events] == [
        "report", "sign_report", "town_confirm", "county_confirm", "list_for_supervision", "update",
        "start_rectification", "add_evidence", "request_closure", "close",
    ]  # fmt: skip
    assert events[2]["from_status_display"] == "待镇确认" and events[2]["to_status_display"] == "待县确认"
    # Closed: only an admin changes it, with a reason.
    assert clerk.patch(url(pk), {"measures": "再改"}, format="json").status_code == 409
    assert (
        api(cast.county_staff).post(url(pk, "admin-amend"), {"reason": "x", "location": "a"}, format="json").status_code
        == 403
    )
    response = api(cast.admin).post(url(pk, "admin-amend"), {"location": "+300平台"}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    response = api(cast.admin).post(url(pk, "admin-amend"), {"location": "+300平台", "reason": "笔误"}, format="json")
    assert response.status_code == 200 and response.json()["location"] == "+300平台"
    assert response.json()["status"] == "closed"
    # 回头看 fails: reopened.
    response = api(cast.town_a_staff).post(url(pk, "recheck"), {"passed": False, "comment": "复现"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "rectifying"


def test_general_workflow_and_the_rectifier_rule(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, level=GENERAL, status=S.RECTIFYING)
    town = api(cast.town_a_staff)
    done = {"rectified_on": TODAY.isoformat(), "rectification_note": "立查立改"}
    assert town.post(url(hazard, "mark-rectified"), done, format="json").status_code == 200
    response = town.post(url(hazard, "verify"), {}, format="json")
    assert response.status_code == 403 and "整改填报人不能验收自己填报的整改" in response.json()["detail"]
    assert api(cast.county_staff).post(url(hazard, "verify"), {}, format="json").status_code == 403
    hazard.refresh_from_db()
    assert hazard.status == S.RECTIFIED


# --- Evidence ---------------------------------------------------------------------------------------------


def test_evidence_upload_is_checked_by_content(world: World, cast: Cast, catalogue: None, settings: Any) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.RECTIFYING)
    clerk = api(cast.clerk)
    fake = SimpleUploadedFile("照片.png", b"<html>not an image</html>", content_type="image/png")
    response = clerk.post(url(hazard, "evidence"), {"file": fake, "kind": "photo"}, format="multipart")
    assert response.status_code == 400 and "不支持的文件类型" in str(response.json())
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    big = SimpleUploadedFile("大.png", PNG_BYTES + b"\x00" * (1024 * 1024), content_type="image/png")
    response = clerk.post(url(hazard, "evidence"), {"file": big, "kind": "photo"}, format="multipart")
    assert response.status_code == 400 and "大小限制" in str(response.json())
    response = clerk.post(url(hazard, "evidence"), {"kind": "photo"}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()
    # Readers do not upload; other counties do not even see it.
    upload = SimpleUploadedFile("a.png", PNG_BYTES, content_type="image/png")
    assert api(cast.city_viewer).post(url(hazard, "evidence"), {"file": upload, "kind": "photo"}).status_code == 403
    upload = SimpleUploadedFile("a.png", PNG_BYTES, content_type="image/png")
    assert (
        api(cast.other_county_staff).post(url(hazard, "evidence"), {"file": upload, "kind": "photo"}).status_code == 404
    )
    assert not HazardEvidence.objects.exists()


@pytest.mark.parametrize("member", MEMBERS)
def test_evidence_download_is_scoped(world: World, cast: Cast, catalogue: None, member: str) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.RECTIFYING)
    evidence = add_evidence(hazard, cast.clerk, kind=EvidenceKind.PHOTO)
    client = api(getattr(cast, member))
    listing = client.get(url(hazard, "evidence"))
    response = client.get(f"/api/v1/hazard-evidence/{evidence.pk}/file/")
    if member in SEES_ENTERPRISE_A:
        assert listing.status_code == 200 and listing.json()[0]["download_url"].endswith(f"/{evidence.pk}/file/")
        assert response.status_code == 200 and b"".join(response.streaming_content) == PNG_BYTES
        assert client.get(f"/api/v1/hazard-evidence/{evidence.pk}/").json()["kind_display"] == "隐患照片"
    else:
        assert listing.status_code == 404 and response.status_code == 404


# --- Extensions -------------------------------------------------------------------------------------------


def test_extension_request_and_decision(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.RECTIFYING, deadline=TODAY + datetime.timedelta(days=3))
    later = (TODAY + datetime.timedelta(days=33)).isoformat()
    clerk = api(cast.clerk)
    response = clerk.post(
        url(hazard, "extensions"), {"requested_deadline": later, "reason": "设备到货延迟"}, format="json"
    )
    assert response.status_code == 201
    extension = response.json()
    assert extension["status"] == "pending" and extension["old_deadline"] == str(TODAY + datetime.timedelta(days=3))
    response = clerk.post(url(hazard, "extensions"), {"requested_deadline": later, "reason": "再次"}, format="json")
    assert response.status_code == 400 and "待审批的延期申请" in str(response.json())
    assert api(cast.town_b_staff).get(f"/api/v1/hazard-extensions/{extension['id']}/").status_code == 404

    decide = f"/api/v1/hazard-extensions/{extension['id']}/decide/"
    assert api(cast.town_a_staff).post(decide, {"approve": True}, format="json").status_code == 403
    assert api(cast.clerk).post(decide, {"approve": True}, format="json").status_code == 403
    response = api(cast.county_staff).post(decide, {"approve": False}, format="json")
    assert response.status_code == 400 and "驳回延期申请必须填写理由" in str(response.json())
    response = api(cast.county_staff).post(decide, {"approve": True}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "approved"
    hazard.refresh_from_db()
    assert str(hazard.current_deadline) == later and hazard.deadline == TODAY + datetime.timedelta(days=3)
    response = api(cast.county_staff).post(decide, {"approve": True}, format="json")
    assert response.status_code == 409 and "已批准" in response.json()["detail"]
    listed = results(api(cast.county_staff).get("/api/v1/hazard-extensions/", {"status": "approved"}))
    assert [row["id"] for row in listed] == [extension["id"]]
    assert ExtensionRequest.objects.get().status == ExtensionStatus.APPROVED


# --- The catalogue -----------------------------------------------------------------------------------------


def test_catalogue_read_for_all_written_by_admins(world: World, cast: Cast, catalogue: None) -> None:
    page = api(cast.clerk).get("/api/v1/hazard-criteria/", {"page_size": 100}).json()
    assert page["count"] == 64 and page["results"][0]["code"] == "一（一）"
    assert len(results(api(cast.clerk).get("/api/v1/hazard-criteria/", {"mine_type": "open_pit"}))) == 13
    item = {
        "document": "晋应急〔2024〕1号",
        "mine_type": "open_pit",
        "number": 1,
        "label": "（一）",
        "text": "地方补充条目",
    }
    for member in ("county_staff", "clerk", "town_a_staff"):
        response = api(getattr(cast, member)).post("/api/v1/hazard-criteria/", item, format="json")
        assert response.status_code == 403, member
    response = api(cast.admin).post("/api/v1/hazard-criteria/", item, format="json")
    assert response.status_code == 201, response.content
    created = MajorHazardCriterion.objects.get(pk=response.json()["id"])
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, object_id=str(created.pk)).exists()
    response = api(cast.admin).post("/api/v1/hazard-criteria/", item, format="json")
    assert response.status_code == 400 and "不能重复" in str(response.json())
    response = api(cast.admin).patch(f"/api/v1/hazard-criteria/{created.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert (
        api(cast.county_staff)
        .patch(f"/api/v1/hazard-criteria/{created.pk}/", {"is_active": True}, format="json")
        .status_code
        == 403
    )
    # A deactivated item can no longer be cited.
    response = api(cast.principal).post("/api/v1/hazards/", _report(level="major", criterion=created.pk), format="json")
    assert response.status_code == 400 and "已停用" in str(response.json())
    assert MajorHazardCriterion.objects.filter(mine_type=MineType.OPEN_PIT).count() == 14


# --- Work queue and notifications -------------------------------------------------------------------------------


def test_work_queue_per_member(world: World, cast: Cast, catalogue: None) -> None:
    pending_town = make_hazard(world.enterprise_a, status=S.PENDING_TOWN)
    draft = make_hazard(world.enterprise_a, status=S.DRAFT)
    rectifying = make_hazard(world.enterprise_a, status=S.RECTIFYING)
    add_extension(rectifying, cast.clerk)
    expected = {
        "principal": {draft.pk: "主要负责人签字上报", rectifying.pk: "申请销号"},
        "clerk": {rectifying.pk: "申请销号"},
        "town_a_staff": {pending_town.pk: "镇确认"},
        "county_staff": {rectifying.pk: "审批延期"},
        "city_viewer": {},
        "other_county_staff": {},
    }
    for member, items in expected.items():
        rows = results(api(getattr(cast, member)).get("/api/v1/work-queue/"))
        assert {row["id"]: row["waiting_for"] for row in rows} == items, member


def test_notifications_are_own_and_marked_read(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.PENDING_TOWN)
    one = Notification.objects.create(recipient=cast.town_a_staff, hazard=hazard, message="请确认")
    two = Notification.objects.create(recipient=cast.town_a_staff, hazard=hazard, message="第二条")
    theirs = Notification.objects.create(recipient=cast.county_staff, hazard=hazard, message="县局的")
    client = api(cast.town_a_staff)
    assert {row["id"] for row in results(client.get("/api/v1/notifications/"))} == {one.pk, two.pk}
    response = client.post("/api/v1/notifications/mark-read/", {"ids": [one.pk, theirs.pk]}, format="json")
    assert response.status_code == 200 and response.json() == {"updated": 1}
    assert {row["id"] for row in results(client.get("/api/v1/notifications/", {"is_read": "false"}))} == {two.pk}
    assert client.post("/api/v1/notifications/mark-read/", {}, format="json").json() == {"updated": 1}
    theirs.refresh_from_db()
    assert not theirs.is_read
    assert client.post("/api/v1/notifications/mark-read/", {"ids": ["x"]}, format="json").status_code == 400


def test_steps_notify_whoever_acts_next(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.PENDING_TOWN)
    api(cast.town_a_staff).post(url(hazard, "confirm-town"), {}, format="json")
    rows = results(api(cast.county_staff).get("/api/v1/notifications/"))
    assert len(rows) == 1 and "请县局确认" in rows[0]["message"] and rows[0]["hazard"] == hazard.pk


def test_put_and_delete_are_not_offered(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.PENDING_TOWN)
    assert api(cast.admin).put(url(hazard), {}, format="json").status_code == 405
    assert api(cast.admin).delete(url(hazard)).status_code == 405


def test_the_fast_representation_equals_drfs_generic_one(world: World, cast: Cast, catalogue: None) -> None:
    from decimal import Decimal

    from rest_framework import serializers as drf
    from rest_framework.test import APIRequestFactory

    from hazards.api import serializers as api_serializers
    from hazards.selectors import hazard_base

    make_hazard(world.enterprise_a, status=S.RECTIFYING, funds_wan=Decimal("3"), supervision_level="province")
    make_hazard(world.enterprise_b, level=GENERAL, status=S.VERIFIED, five=False, deadline=None, location="")
    closed = make_hazard(world.enterprise_a2, status=S.CLOSED, closed_on=TODAY, rectified_on=TODAY)
    Hazard.objects.filter(pk=closed.pk).update(signed_by=cast.principal, signed_at="2024-05-02T08:30:00+08:00")
    request = APIRequestFactory().get("/api/v1/hazards/")
    request.user = cast.county_staff
    hazards = list(hazard_base(user=cast.county_staff).select_related("signed_by", "rectified_by", "verified_by"))
    assert len(hazards) == 3
    for serializer_class in (
        api_serializers.HazardSerializer,
        api_serializers.HazardDetailSerializer,
        api_serializers.WorkQueueItemSerializer,
    ):
        for hazard in hazards:
            hazard.extension_pending = False  # type: ignore[attr-defined]
            serializer = serializer_class(context={"request": request, "waiting": {}})
            fast = serializer.to_representation(hazard)
            generic = drf.ModelSerializer.to_representation(serializer, hazard)
            assert fast == dict(generic), serializer_class.__name__
            assert list(fast) == list(generic)


# --- Counting at province scale -------------------------------------------------------------------------------


def test_large_lists_show_the_estimate_and_still_page_to_the_end(
    world: World, cast: Cast, catalogue: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hazards import paging

    hazards = [make_hazard(world.enterprise_a, level=GENERAL, status=S.REPORTED) for _ in range(5)]
    # As PostgreSQL's planner would answer for a province's list (SQLite has no estimate).
    monkeypatch.setattr(paging, "estimated_rows", lambda queryset: 1_000_000)
    # A county's list is always counted exactly, and so is a city's narrowed to a town.
    county = api(cast.county_staff).get("/api/v1/hazards/").json()
    assert county["count"] == 5 and county["count_is_estimate"] is False
    narrowed = api(cast.city_viewer).get("/api/v1/hazards/", {"town": world.town_a.pk}).json()
    assert narrowed["count"] == 5 and narrowed["count_is_estimate"] is False
    client = api(cast.city_viewer)
    body = client.get("/api/v1/hazards/", {"page_size": 2}).json()
    assert body["count"] == 1_000_000 and body["count_is_estimate"] is True
    seen = [row["id"] for row in body["results"]]
    while body["next"]:
        body = client.get(body["next"]).json()
        seen += [row["id"] for row in body["results"]]
    assert sorted(seen) == sorted(h.pk for h in hazards)  # every row once, and the paging stops at the end
    assert client.get("/api/v1/hazards/", {"page": 0}).status_code == 404

    page = api(cast.city_viewer).get("/hazards/", {"page_size": 20}).content.decode()
    assert "共 约 1000000 条隐患" in page
    assert "共 5 条隐患" in api(cast.city_viewer).get("/hazards/", {"town": world.town_a.pk}).content.decode()
    monkeypatch.setattr(paging, "estimated_rows", lambda queryset: 1_000)
    body = client.get("/api/v1/hazards/").json()
    assert body["count"] == 5 and body["count_is_estimate"] is False


def test_the_planner_estimate_on_postgresql(world: World, cast: Cast, catalogue: None) -> None:
    from django.db import connection

    from hazards.paging import estimated_rows
    from hazards.selectors import hazard_list

    if connection.vendor != "postgresql":
        pytest.skip("the estimate is PostgreSQL's (run with --db=postgresql)")
    for _ in range(3):
        make_hazard(world.enterprise_a, level=GENERAL, status=S.REPORTED)
    estimate = estimated_rows(hazard_list(user=cast.county_staff, params={"level": "general"}))
    assert isinstance(estimate, int) and estimate >= 1
    assert estimated_rows(Hazard.objects.none()) is None
