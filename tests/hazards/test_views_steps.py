"""The buttons of the hazard detail page: shown only when allowed, and each one runs its service —
or shows the service's Chinese refusal (403 wrong role, 409 wrong or changed status, 400 wrong input,
404 outside the scope), changing nothing."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hazards.choices import EvidenceKind, ExtensionStatus, HazardLevel, HazardStatus
from hazards.models import ExtensionRequest, Hazard, HazardEvent, HazardEvidence
from hazards.permissions import allowed_actions
from hazards.steps import TRANSITIONS
from hazards.views import STEP_BY_SLUG
from portal.models import User
from tests.conftest import Cast, World
from tests.factories import TEST_PASSWORD
from tests.hazards.conftest import PNG_BYTES, add_evidence, add_extension, make_hazard, second_town_a_staff

S = HazardStatus
MAJOR = HazardLevel.MAJOR
GENERAL = HazardLevel.GENERAL
TODAY = timezone.localdate()  # the portal's today (Asia/Shanghai), not the machine's UTC date
STEP_RE = re.compile(r'data-testid="step-([a-z-]+)"')


def detail_url(hazard: Hazard) -> str:
    return reverse("hazards:hazard-detail", args=[hazard.pk])


def step_url(hazard: Hazard, slug: str) -> str:
    return reverse("hazards:hazard-step", args=[hazard.pk, slug])


def shown_steps(client: Client, user: User, hazard: Hazard) -> set[str]:
    client.force_login(user)
    response = client.get(detail_url(hazard))
    assert response.status_code == 200
    return set(STEP_RE.findall(response.content.decode()))


def post(client: Client, user: User, hazard: Hazard, slug: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
    client.force_login(user)
    fields = {f"{slug}-{key}": value for key, value in (data or {}).items()}
    return client.post(step_url(hazard, slug), fields, **kw)


# --- Which buttons ---------------------------------------------------------------------------------

STATUSES = [
    (MAJOR, S.DRAFT),
    (MAJOR, S.PENDING_TOWN),
    (MAJOR, S.PENDING_COUNTY),
    (MAJOR, S.CONFIRMED),
    (MAJOR, S.RECTIFYING),
    (MAJOR, S.CLOSURE_REQUESTED),
    (MAJOR, S.CLOSED),
    (GENERAL, S.REPORTED),
    (GENERAL, S.RECTIFYING),
    (GENERAL, S.RECTIFIED),
    (GENERAL, S.VERIFIED),
]
IN_SCOPE = ["clerk", "principal", "town_a_staff", "county_staff", "county_leader", "admin", "city_viewer"]


@pytest.mark.parametrize(("level", "status"), STATUSES)
def test_buttons_appear_only_when_allowed(
    client: Client, world: World, cast: Cast, catalogue: None, level: str, status: str
) -> None:
    hazard = make_hazard(world.enterprise_a, level=level, status=status)
    for member in IN_SCOPE:
        user = getattr(cast, member)
        shown = shown_steps(client, user, hazard)
        allowed = set(allowed_actions(user, hazard))
        # Nothing shown that the rules refuse…
        assert {STEP_BY_SLUG[slug].action for slug in shown} <= allowed, member
        # …and every status change the rules allow has its button.
        for action in allowed & TRANSITIONS:
            assert any(STEP_BY_SLUG[slug].action == action for slug in shown), (member, action)
        if member in {"county_leader", "city_viewer"}:
            assert shown == set(), member


EXPECTED_BUTTONS = {
    (MAJOR, S.DRAFT, "principal"): {"sign", "five", "evidence", "edit"},
    (MAJOR, S.DRAFT, "clerk"): {"five", "evidence", "edit"},
    (MAJOR, S.PENDING_TOWN, "town_a_staff"): {"town-confirm", "send-back", "five", "evidence", "edit"},
    (MAJOR, S.PENDING_TOWN, "principal"): {"five", "evidence"},
    (MAJOR, S.PENDING_COUNTY, "county_staff"): {"county-confirm", "send-back", "five", "evidence", "edit"},
    (MAJOR, S.PENDING_COUNTY, "town_a_staff"): {"five", "evidence", "edit"},
    (MAJOR, S.CONFIRMED, "clerk"): {"five", "start", "evidence", "extension"},
    (MAJOR, S.CONFIRMED, "county_staff"): {"five", "evidence", "edit", "supervise"},
    (MAJOR, S.RECTIFYING, "clerk"): {"five", "evidence", "request-closure", "extension"},
    (MAJOR, S.CLOSURE_REQUESTED, "county_staff"): {"five", "evidence", "edit", "close", "send-back", "supervise"},
    (MAJOR, S.CLOSED, "county_staff"): {"recheck"},
    (MAJOR, S.CLOSED, "town_a_staff"): {"recheck"},
    (MAJOR, S.CLOSED, "clerk"): set(),
    (MAJOR, S.CLOSED, "admin"): {"amend"},
    (GENERAL, S.REPORTED, "clerk"): {"five", "start", "evidence", "edit", "extension"},
    (GENERAL, S.RECTIFYING, "town_a_staff"): {"five", "evidence", "edit", "mark-rectified"},
    (GENERAL, S.RECTIFIED, "town_a_staff"): {"five", "evidence", "edit", "verify", "send-back"},
    (GENERAL, S.VERIFIED, "principal"): set(),
}


@pytest.mark.parametrize(("level", "status", "member"), sorted(EXPECTED_BUTTONS))
def test_the_buttons_each_member_sees(
    client: Client, world: World, cast: Cast, catalogue: None, level: str, status: str, member: str
) -> None:
    hazard = make_hazard(world.enterprise_a, level=level, status=status)
    assert shown_steps(client, getattr(cast, member), hazard) == EXPECTED_BUTTONS[(level, status, member)]


def test_already_supervised_and_pending_extension_change_the_buttons(
    client: Client, world: World, cast: Cast, catalogue: None
) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.RECTIFYING, supervision_level="county")
    assert "supervise" not in shown_steps(client, cast.county_staff, hazard)
    assert "decide-extension" not in shown_steps(client, cast.county_staff, hazard)
    add_extension(hazard, cast.clerk)
    assert "decide-extension" in shown_steps(client, cast.county_staff, hazard)
    assert "extension" not in shown_steps(client, cast.clerk, hazard)  # one pending request at a time


def test_the_rectifier_sees_no_verify_button(client: Client, world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, level=GENERAL, status=S.RECTIFIED)
    Hazard.objects.filter(pk=hazard.pk).update(rectified_by=cast.town_a_staff, rectified_on=TODAY)
    hazard.refresh_from_db()
    assert "verify" not in shown_steps(client, cast.town_a_staff, hazard)
    assert "verify" in shown_steps(client, second_town_a_staff(world), hazard)
    response = post(client, cast.town_a_staff, hazard, "verify", {"seen_status": S.RECTIFIED})
    assert response.status_code == 403
    assert "整改填报人不能验收自己填报的整改" in response.content.decode()
    hazard.refresh_from_db()
    assert hazard.status == S.RECTIFIED


# --- The major-hazard workflow through the buttons ----------------------------------------------------


def test_major_workflow_through_the_pages(client: Client, world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.DRAFT, five=False, deadline=None)

    client.force_login(cast.principal)
    page = client.get(detail_url(hazard)).content.decode()
    shown = re.search(r'name="sign-fingerprint" value="([0-9a-f]{64})"', page)  # the page posts what it showed
    assert shown
    signing = {"seen_status": S.DRAFT, "fingerprint": shown.group(1), "password": TEST_PASSWORD, "confirm": "on"}
    response = post(client, cast.principal, hazard, "sign", signing)
    assert response.status_code == 302 and response["Location"] == detail_url(hazard)
    hazard.refresh_from_db()
    assert hazard.status == S.PENDING_TOWN and hazard.signed_by == cast.principal
    assert "已签字上报" in client.get(detail_url(hazard)).content.decode()

    assert post(client, cast.town_a_staff, hazard, "town-confirm", {"comment": "属实"}).status_code == 302
    assert (
        post(client, cast.county_staff, hazard, "county-confirm", {"seen_status": S.PENDING_COUNTY}).status_code == 302
    )
    hazard.refresh_from_db()
    assert hazard.status == S.CONFIRMED

    response = post(
        client, cast.county_staff, hazard, "supervise",
        {"level": "county", "unit": "泽州县应急管理局", "doc_number": "泽应急督〔2024〕3号",
         "date": TODAY.isoformat(), "deadline": (TODAY + datetime.timedelta(days=60)).isoformat()},
    )  # fmt: skip
    assert response.status_code == 302
    hazard.refresh_from_db()
    assert hazard.supervision_doc_number == "泽应急督〔2024〕3号"

    # The 五落实 in part, then starting rectification is refused until all five are there.
    response = post(client, cast.clerk, hazard, "five", {"measures": "削坡减载", "responsible_unit": "采矿车间"})
    assert response.status_code == 302
    response = post(client, cast.clerk, hazard, "start", {"seen_status": S.CONFIRMED})
    assert response.status_code == 400
    assert "“五落实”不全" in response.content.decode() and "整改资金" in response.content.decode()
    hazard.refresh_from_db()
    assert hazard.status == S.CONFIRMED and hazard.measures == "削坡减载"
    deadline = TODAY + datetime.timedelta(days=30)
    response = post(
        client, cast.clerk, hazard, "start",
        {"responsible_person": "李安全", "funds_wan": "12.5", "deadline": deadline.isoformat(),
         "interim_measures": "设置警戒线", "seen_status": S.CONFIRMED},
    )  # fmt: skip
    assert response.status_code == 302
    hazard.refresh_from_db()
    assert hazard.status == S.RECTIFYING and hazard.current_deadline == deadline

    # 申请销号 needs evidence first.
    closure = {"rectified_on": TODAY.isoformat(), "rectification_note": "已削坡并验收", "seen_status": S.RECTIFYING}
    response = post(client, cast.clerk, hazard, "request-closure", closure)
    assert response.status_code == 400 and "请至少上传一份整改材料" in response.content.decode()
    upload = SimpleUploadedFile("整改后照片.png", PNG_BYTES, content_type="image/png")
    response = post(client, cast.clerk, hazard, "evidence", {"kind": EvidenceKind.RECTIFICATION, "file": upload})
    assert response.status_code == 302
    evidence = HazardEvidence.objects.get(hazard=hazard)
    assert evidence.original_name == "整改后照片.png" and evidence.uploaded_by == cast.clerk
    assert post(client, cast.clerk, hazard, "request-closure", closure).status_code == 302
    hazard.refresh_from_db()
    assert hazard.status == S.CLOSURE_REQUESTED and hazard.rectified_by == cast.clerk

    assert post(client, cast.county_staff, hazard, "close", {"comment": "同意销号"}).status_code == 302
    hazard.refresh_from_db()
    assert hazard.status == S.CLOSED and hazard.verified_by == cast.county_staff and hazard.closed_on == TODAY

    actions = list(HazardEvent.objects.filter(hazard=hazard).values_list("action", flat=True))
    assert actions == [
        "sign_report", "town_confirm", "county_confirm", "list_for_supervision", "update",
        "start_rectification", "add_evidence", "request_closure", "close",
    ]  # fmt: skip

    # 回头看 fails: the hazard reopens.
    response = post(client, cast.town_a_staff, hazard, "recheck", {"result": "failed", "seen_status": S.CLOSED})
    assert response.status_code == 400 and "回头看不合格必须填写理由" in response.content.decode()
    response = post(client, cast.town_a_staff, hazard, "recheck", {"result": "failed", "comment": "浮石复现"})
    assert response.status_code == 302
    hazard.refresh_from_db()
    assert hazard.status == S.RECTIFYING and hazard.closed_on is None


def test_send_back_needs_a_reason(client: Client, world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.PENDING_TOWN)
    response = post(client, cast.town_a_staff, hazard, "send-back", {"reason": " "})
    assert response.status_code == 400
    assert "该字段是必填项" in response.content.decode() and "请检查填写的内容" in response.content.decode()
    response = post(client, cast.town_a_staff, hazard, "send-back", {"reason": "判定依据不准确"})
    assert response.status_code == 302
    hazard.refresh_from_db()
    assert hazard.status == S.DRAFT
    assert HazardEvent.objects.get(hazard=hazard).comment == "判定依据不准确"


# --- Refusals -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("member", "slug", "status_code", "message"),
    [
        ("clerk", "town-confirm", 403, "您无权对该隐患进行“镇确认”"),
        ("county_staff", "town-confirm", 403, "您无权对该隐患进行“镇确认”"),
        ("town_a_staff", "county-confirm", 403, "您无权对该隐患进行“县确认”"),
        ("county_leader", "town-confirm", 403, "您无权"),
        ("city_viewer", "town-confirm", 403, "您无权"),
        ("admin", "town-confirm", 403, "您无权"),
        ("town_a_staff", "close", 403, "您无权"),
        ("principal", "sign", 409, "不能进行“主要负责人签字上报”"),
        ("clerk", "request-closure", 409, "不能进行“申请销号”"),
        ("town_b_staff", "town-confirm", 404, ""),
        ("other_county_staff", "town-confirm", 404, ""),
        ("other_clerk", "evidence", 404, ""),
    ],
)
def test_refused_steps_show_why_and_change_nothing(
    client: Client,
    world: World,
    cast: Cast,
    catalogue: None,
    member: str,
    slug: str,
    status_code: int,
    message: str,
) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.PENDING_TOWN, description="巴公镇的那条隐患")
    response = post(client, getattr(cast, member), hazard, slug, {"comment": "", "seen_status": S.PENDING_TOWN})
    assert response.status_code == status_code
    text = response.content.decode()
    if status_code == 404:
        assert "巴公镇的那条隐患" not in text
    else:
        assert message in text and 'data-testid="refusal"' in text
    hazard.refresh_from_db()
    assert hazard.status == S.PENDING_TOWN
    assert not HazardEvent.objects.filter(hazard=hazard).exists()


def test_a_step_on_a_hazard_that_moved_on_is_refused(client: Client, world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.PENDING_TOWN)
    # Another town user confirmed it meanwhile; this one still sees the old page.
    Hazard.objects.filter(pk=hazard.pk).update(status=S.PENDING_COUNTY)
    response = post(client, cast.town_a_staff, hazard, "town-confirm", {"seen_status": S.PENDING_TOWN})
    assert response.status_code == 409
    assert "该隐患状态已变更为“待县确认”（原为“待镇确认”），请刷新页面后重试" in response.content.decode()
    # Without the page's status, the rule table refuses it as a wrong status.
    response = post(client, cast.town_a_staff, hazard, "town-confirm", {})
    assert response.status_code == 409 and "不能进行“镇确认”" in response.content.decode()
    assert not HazardEvent.objects.filter(hazard=hazard).exists()


def test_unknown_steps_and_get_requests(client: Client, world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.PENDING_TOWN)
    client.force_login(cast.town_a_staff)
    assert client.post(step_url(hazard, "explode"), {}).status_code == 404
    assert client.get(step_url(hazard, "town-confirm")).status_code == 405
    assert client.post(reverse("hazards:hazard-step", args=[999999, "town-confirm"]), {}).status_code == 404


# --- Evidence uploads: type by content, size limit ---------------------------------------------------------------


def test_evidence_upload_checks_the_content(client: Client, world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.RECTIFYING)
    fake = SimpleUploadedFile("照片.jpg", b"MZ\x90\x00 this is not a photo", content_type="image/jpeg")
    response = post(client, cast.clerk, hazard, "evidence", {"kind": EvidenceKind.PHOTO, "file": fake})
    assert response.status_code == 400
    assert "不支持的文件类型" in response.content.decode()
    response = post(client, cast.clerk, hazard, "evidence", {"kind": EvidenceKind.PHOTO})
    assert response.status_code == 400
    assert not HazardEvidence.objects.exists()


def test_evidence_upload_size_limit(client: Client, world: World, cast: Cast, catalogue: None, settings: Any) -> None:
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    hazard = make_hazard(world.enterprise_a, status=S.RECTIFYING)
    big = SimpleUploadedFile("大图.png", PNG_BYTES + b"\x00" * (1024 * 1024), content_type="image/png")
    response = post(client, cast.clerk, hazard, "evidence", {"kind": EvidenceKind.PHOTO, "file": big})
    assert response.status_code == 400
    assert "文件超过 1 MB 的大小限制" in response.content.decode()
    assert not HazardEvidence.objects.exists()


def test_no_evidence_on_a_closed_hazard(client: Client, world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.CLOSED)
    upload = SimpleUploadedFile("a.png", PNG_BYTES, content_type="image/png")
    response = post(client, cast.clerk, hazard, "evidence", {"kind": EvidenceKind.PHOTO, "file": upload})
    assert response.status_code == 409
    assert not HazardEvidence.objects.exists()


# --- Extensions, general hazards, admin corrections --------------------------------------------------------------


def test_extension_request_and_decision(client: Client, world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.RECTIFYING, deadline=TODAY + datetime.timedelta(days=5))
    later = TODAY + datetime.timedelta(days=35)
    response = post(client, cast.clerk, hazard, "extension", {"requested_deadline": later.isoformat(), "reason": ""})
    assert response.status_code == 400
    response = post(
        client, cast.clerk, hazard, "extension", {"requested_deadline": later.isoformat(), "reason": "设备"}
    )
    assert response.status_code == 302
    extension = ExtensionRequest.objects.get(hazard=hazard)

    # Town staff do not decide a major hazard's extension; the county does.
    assert post(client, cast.town_a_staff, hazard, "decide-extension", {"extension": extension.pk}).status_code == 403
    response = post(
        client, cast.county_staff, hazard, "decide-extension", {"extension": extension.pk, "decision": "reject"}
    )
    assert response.status_code == 400 and "驳回延期申请必须填写理由" in response.content.decode()
    response = post(
        client, cast.county_staff, hazard, "decide-extension", {"extension": extension.pk, "decision": "approve"}
    )
    assert response.status_code == 302
    hazard.refresh_from_db()
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.APPROVED and hazard.current_deadline == later
    assert hazard.deadline == TODAY + datetime.timedelta(days=5)
    # Deciding it again: already decided.
    response = post(
        client, cast.county_staff, hazard, "decide-extension", {"extension": extension.pk, "decision": "approve"}
    )
    assert response.status_code == 400 and "已审批" in response.content.decode()


def test_general_workflow_through_the_pages(client: Client, world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, level=GENERAL, status=S.REPORTED)
    assert post(client, cast.clerk, hazard, "start", {"seen_status": S.REPORTED}).status_code == 302
    data = {"rectified_on": TODAY.isoformat(), "rectification_note": "已清理", "seen_status": S.RECTIFYING}
    assert post(client, cast.clerk, hazard, "mark-rectified", data).status_code == 302
    assert post(client, cast.county_staff, hazard, "verify", {}).status_code == 403
    assert post(client, cast.town_a_staff, hazard, "verify", {"comment": "验收合格"}).status_code == 302
    hazard.refresh_from_db()
    assert hazard.status == S.VERIFIED and hazard.verified_by == cast.town_a_staff


def test_admin_amends_a_closed_hazard_with_a_reason(client: Client, world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.CLOSED, closed_on=datetime.date(2024, 7, 1))
    data = {
        "description": hazard.description, "location": "+300平台", "category": hazard.category,
        "found_on": hazard.found_on.isoformat(), "current_deadline": "2024-06-30", "closed_on": "2024-07-01",
    }  # fmt: skip
    response = post(client, cast.admin, hazard, "amend", {**data, "reason": ""})
    assert response.status_code == 400
    assert post(client, cast.county_staff, hazard, "amend", {**data, "reason": "笔误"}).status_code == 403
    response = post(client, cast.admin, hazard, "amend", {**data, "reason": "部位填写有误"})
    assert response.status_code == 302
    hazard.refresh_from_db()
    assert hazard.location == "+300平台" and hazard.status == S.CLOSED
    event = HazardEvent.objects.get(hazard=hazard)
    assert event.action == "admin_amend" and event.comment == "部位填写有误" and event.data["fields"] == ["location"]


def test_enterprise_edits_its_draft_after_a_send_back(
    client: Client, world: World, cast: Cast, catalogue: None
) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.DRAFT)
    data = {
        "description": "更正后的隐患内容", "location": "", "category": hazard.category,
        "criterion": hazard.criterion_id, "found_on": hazard.found_on.isoformat(), "found_by": "",
        "source": hazard.source, "ledger_number": "",
    }  # fmt: skip
    assert post(client, cast.clerk, hazard, "edit", data).status_code == 302
    hazard.refresh_from_db()
    assert hazard.description == "更正后的隐患内容"
    # Saving without a change says so.
    response = post(client, cast.clerk, hazard, "edit", {**data, "description": "更正后的隐患内容"})
    assert response.status_code == 400 and "没有修改任何内容" in response.content.decode()


def test_evidence_kinds_are_listed_on_the_page(client: Client, world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.RECTIFYING)
    add_evidence(hazard, cast.clerk, kind=EvidenceKind.CLOSURE)
    client.force_login(cast.clerk)
    text = client.get(detail_url(hazard)).content.decode()
    assert "销号材料" in text and "?thumb=1" in text  # pages embed the server-made thumbnail only
    assert "请先在“上传材料”中上传" not in text
