"""Every step, allowed and refused, for every member of the shared cast.

The hazard belongs to enterprise_a (巴公镇, 泽州县). Members outside its scope (town_b_staff,
other_county_staff, other_clerk) get a 404; members inside it whose role may not take the step
get a PermissionDenied; in both cases nothing is written.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.http import Http404

from hazards import services
from hazards.choices import HazardAction, HazardCategory, HazardLevel, HazardSource, HazardStatus, SupervisionLevel
from hazards.fingerprint import hazard_fingerprint
from hazards.models import Hazard, HazardEvent
from portal.models import AuditEvent, User
from tests.conftest import Cast, World
from tests.hazards.conftest import PNG_BYTES, add_evidence, add_extension, make_hazard, open_pit_item

S = HazardStatus
A = HazardAction
MAJOR = HazardLevel.MAJOR
GENERAL = HazardLevel.GENERAL
OUT_OF_SCOPE = {"town_b_staff", "other_county_staff", "other_clerk"}
MEMBERS = [
    "clerk",
    "principal",
    "town_a_staff",
    "town_b_staff",
    "county_staff",
    "county_leader",
    "admin",
    "city_viewer",
    "other_county_staff",
    "other_clerk",
]
ENTERPRISE = {"clerk", "principal"}
DAY = datetime.date(2024, 6, 1)

Call = Callable[[User, Hazard, dict[str, Any]], Any]
Prepare = Callable[[Hazard, Cast], dict[str, Any]]


def _nothing(hazard: Hazard, cast: Cast) -> dict[str, Any]:
    return {}


def _rectified_by_clerk(hazard: Hazard, cast: Cast) -> dict[str, Any]:
    Hazard.objects.filter(pk=hazard.pk).update(rectified_by=cast.clerk, rectified_on=DAY, rectification_note="已整改")
    return {}


def _with_evidence(hazard: Hazard, cast: Cast) -> dict[str, Any]:
    add_evidence(hazard, cast.clerk)
    return {}


def _with_extension(hazard: Hazard, cast: Cast) -> dict[str, Any]:
    return {"extension": add_extension(hazard, cast.clerk)}


def _closed(hazard: Hazard, cast: Cast) -> dict[str, Any]:
    Hazard.objects.filter(pk=hazard.pk).update(
        rectified_by=cast.clerk, rectified_on=DAY, verified_by=cast.county_staff, closed_on=DAY
    )
    return {}


@dataclass
class Step:
    name: str
    level: str
    status: str
    action: str
    call: Call
    allowed: set[str]
    target: str | None = None  # None: the status does not change
    prepare: Prepare = field(default=_nothing)


STEPS = [
    Step("sign_report", MAJOR, S.DRAFT, A.SIGN_REPORT,
         lambda u, h, x: services.hazard_sign_report(actor=u, hazard=h, fingerprint=hazard_fingerprint(h)),
         {"principal"}, S.PENDING_TOWN),
    Step("town_confirm", MAJOR, S.PENDING_TOWN, A.TOWN_CONFIRM,
         lambda u, h, x: services.hazard_town_confirm(actor=u, hazard=h), {"town_a_staff"}, S.PENDING_COUNTY),
    Step("county_confirm", MAJOR, S.PENDING_COUNTY, A.COUNTY_CONFIRM,
         lambda u, h, x: services.hazard_county_confirm(actor=u, hazard=h), {"county_staff"}, S.CONFIRMED),
    Step("send_back_town", MAJOR, S.PENDING_TOWN, A.SEND_BACK,
         lambda u, h, x: services.hazard_send_back(actor=u, hazard=h, reason="判定依据有误"),
         {"town_a_staff"}, S.DRAFT),
    Step("send_back_county", MAJOR, S.PENDING_COUNTY, A.SEND_BACK,
         lambda u, h, x: services.hazard_send_back(actor=u, hazard=h, reason="材料不全"),
         {"county_staff"}, S.PENDING_TOWN),
    Step("send_back_closure", MAJOR, S.CLOSURE_REQUESTED, A.SEND_BACK,
         lambda u, h, x: services.hazard_send_back(actor=u, hazard=h, reason="整改不到位"),
         {"county_staff"}, S.RECTIFYING, _rectified_by_clerk),
    Step("send_back_verification", GENERAL, S.RECTIFIED, A.SEND_BACK,
         lambda u, h, x: services.hazard_send_back(actor=u, hazard=h, reason="现场仍有浮石"),
         {"town_a_staff"}, S.RECTIFYING, _rectified_by_clerk),
    Step("list_for_supervision", MAJOR, S.CONFIRMED, A.LIST_FOR_SUPERVISION,
         lambda u, h, x: services.hazard_list_for_supervision(
             actor=u, hazard=h, level=SupervisionLevel.COUNTY, unit="泽州县应急管理局",
             doc_number="泽应急督〔2024〕3号", date=DAY, deadline=DAY + datetime.timedelta(days=30)),
         {"county_staff"}),
    Step("start_rectification_major", MAJOR, S.CONFIRMED, A.START_RECTIFICATION,
         lambda u, h, x: services.hazard_start_rectification(actor=u, hazard=h), ENTERPRISE, S.RECTIFYING),
    Step("start_rectification_general", GENERAL, S.REPORTED, A.START_RECTIFICATION,
         lambda u, h, x: services.hazard_start_rectification(actor=u, hazard=h), ENTERPRISE, S.RECTIFYING),
    Step("request_closure", MAJOR, S.RECTIFYING, A.REQUEST_CLOSURE,
         lambda u, h, x: services.hazard_request_closure(
             actor=u, hazard=h, rectified_on=DAY, rectification_note="已削坡并清理浮石"),
         ENTERPRISE, S.CLOSURE_REQUESTED, _with_evidence),
    Step("close", MAJOR, S.CLOSURE_REQUESTED, A.CLOSE,
         lambda u, h, x: services.hazard_close(actor=u, hazard=h), {"county_staff"}, S.CLOSED, _rectified_by_clerk),
    Step("mark_rectified", GENERAL, S.RECTIFYING, A.MARK_RECTIFIED,
         lambda u, h, x: services.hazard_mark_rectified(
             actor=u, hazard=h, rectified_on=DAY, rectification_note="已清理"),
         ENTERPRISE | {"town_a_staff"}, S.RECTIFIED),
    Step("verify", GENERAL, S.RECTIFIED, A.VERIFY,
         lambda u, h, x: services.hazard_verify(actor=u, hazard=h), {"town_a_staff"}, S.VERIFIED, _rectified_by_clerk),
    Step("request_extension_major", MAJOR, S.RECTIFYING, A.REQUEST_EXTENSION,
         lambda u, h, x: services.hazard_request_extension(
             actor=u, hazard=h, requested_deadline=datetime.date(2024, 8, 31), reason="设备到货延迟"),
         ENTERPRISE),
    Step("request_extension_general", GENERAL, S.RECTIFYING, A.REQUEST_EXTENSION,
         lambda u, h, x: services.hazard_request_extension(
             actor=u, hazard=h, requested_deadline=datetime.date(2024, 8, 31), reason="雨季施工困难"),
         ENTERPRISE),
    Step("decide_extension_major", MAJOR, S.RECTIFYING, A.DECIDE_EXTENSION,
         lambda u, h, x: services.hazard_decide_extension(actor=u, extension=x["extension"], approve=True),
         {"county_staff"}, None, _with_extension),
    Step("decide_extension_general", GENERAL, S.RECTIFYING, A.DECIDE_EXTENSION,
         lambda u, h, x: services.hazard_decide_extension(actor=u, extension=x["extension"], approve=True),
         {"town_a_staff", "county_staff"}, None, _with_extension),
    Step("recheck_major", MAJOR, S.CLOSED, A.RECHECK,
         lambda u, h, x: services.hazard_recheck(actor=u, hazard=h, passed=False, comment="浮石复现"),
         {"town_a_staff", "county_staff"}, S.RECTIFYING, _closed),
    Step("recheck_general", GENERAL, S.VERIFIED, A.RECHECK,
         lambda u, h, x: services.hazard_recheck(actor=u, hazard=h, passed=False, comment="警示标志缺失"),
         {"town_a_staff", "county_staff"}, S.RECTIFYING, _closed),
    Step("admin_amend", MAJOR, S.CLOSED, A.ADMIN_AMEND,
         lambda u, h, x: services.hazard_admin_amend(
             actor=u, hazard=h, data={"location": "+320平台东帮"}, reason="部位录入错误"),
         {"admin"}, None, _closed),
    Step("update", MAJOR, S.RECTIFYING, A.UPDATE,
         lambda u, h, x: services.hazard_update(actor=u, hazard=h, data={"measures": "分台阶削坡"}),
         ENTERPRISE | {"town_a_staff", "county_staff"}),
    Step("add_evidence", GENERAL, S.RECTIFYING, A.ADD_EVIDENCE,
         lambda u, h, x: services.hazard_add_evidence(
             actor=u, hazard=h, file=ContentFile(PNG_BYTES), original_name="现场.png", kind="photo"),
         ENTERPRISE | {"town_a_staff", "county_staff"}),
]  # fmt: skip


@pytest.mark.parametrize("member", MEMBERS)
@pytest.mark.parametrize("step", STEPS, ids=[step.name for step in STEPS])
def test_step_for_every_member(world: World, cast: Cast, catalogue: None, step: Step, member: str) -> None:
    hazard = make_hazard(world.enterprise_a, level=step.level, status=step.status)
    extra = step.prepare(hazard, cast)
    hazard.refresh_from_db()
    user = getattr(cast, member)
    events_before = HazardEvent.objects.filter(hazard=hazard).count()
    audits_before = AuditEvent.objects.count()

    if member in step.allowed:
        step.call(user, hazard, extra)
        hazard.refresh_from_db()
        assert hazard.status == (step.target or step.status)
        event = HazardEvent.objects.filter(hazard=hazard).latest("id")
        assert (event.action, event.actor, event.from_status, event.to_status) == (
            step.action,
            user,
            step.status,
            step.target or step.status,
        )
        assert HazardEvent.objects.filter(hazard=hazard).count() == events_before + 1
        assert AuditEvent.objects.count() > audits_before
        return

    expected = Http404 if member in OUT_OF_SCOPE else PermissionDenied
    with pytest.raises(expected):
        step.call(user, hazard, extra)
    hazard.refresh_from_db()
    assert hazard.status == step.status
    assert HazardEvent.objects.filter(hazard=hazard).count() == events_before
    assert AuditEvent.objects.count() == audits_before


REPORTERS = ENTERPRISE | {"town_a_staff", "county_staff"}


@pytest.mark.parametrize("member", MEMBERS)
@pytest.mark.parametrize("level", [MAJOR, GENERAL])
def test_report_for_every_member(world: World, cast: Cast, catalogue: None, level: str, member: str) -> None:
    user = getattr(cast, member)

    def report() -> Hazard:
        return services.hazard_report(
            actor=user,
            enterprise=world.enterprise_a,
            level=level,
            description="采场运输道路未设置安全挡墙",
            category=HazardCategory.TRANSPORT,
            source=HazardSource.SELF_CHECK,
            found_on=datetime.date(2024, 5, 6),
            criterion=open_pit_item(8) if level == MAJOR else None,
        )

    if member in REPORTERS:
        hazard = report()
        assert hazard.status == (S.DRAFT if level == MAJOR else S.REPORTED)
        assert hazard.reported_by == user
        event = hazard.events.get()
        assert (event.action, event.from_status, event.to_status) == (A.REPORT, "", hazard.status)
        return
    with pytest.raises(Http404 if member in OUT_OF_SCOPE else PermissionDenied):
        report()
    assert not Hazard.objects.exists()
    assert not HazardEvent.objects.exists()


# A step tried from a status it does not start from, by someone whose role could otherwise take it.
WRONG_STATUS = [
    ("sign_report", S.PENDING_TOWN),
    ("town_confirm", S.DRAFT),
    ("town_confirm", S.PENDING_COUNTY),
    ("county_confirm", S.PENDING_TOWN),
    ("county_confirm", S.CONFIRMED),
    ("send_back_town", S.CONFIRMED),
    ("list_for_supervision", S.PENDING_COUNTY),
    ("start_rectification_major", S.PENDING_COUNTY),
    ("start_rectification_major", S.RECTIFYING),
    ("request_closure", S.CONFIRMED),
    ("close", S.RECTIFYING),
    ("mark_rectified", S.REPORTED),
    ("verify", S.RECTIFYING),
    ("request_extension_major", S.CLOSED),
    ("recheck_major", S.RECTIFYING),
    ("recheck_general", S.RECTIFIED),
    ("update", S.CLOSED),
    ("add_evidence", S.VERIFIED),
]


@pytest.mark.parametrize(("name", "status"), WRONG_STATUS)
def test_step_refused_from_a_wrong_status(world: World, cast: Cast, catalogue: None, name: str, status: str) -> None:
    step = next(step for step in STEPS if step.name == name)
    hazard = make_hazard(world.enterprise_a, level=step.level, status=status)
    extra = step.prepare(hazard, cast)
    hazard.refresh_from_db()
    member = sorted(step.allowed)[0]
    with pytest.raises(ValidationError) as info:
        step.call(getattr(cast, member), hazard, extra)
    assert "不能" in str(info.value) or "只能由管理员" in str(info.value)
    hazard.refresh_from_db()
    assert hazard.status == status
    assert not HazardEvent.objects.filter(hazard=hazard).exists()


@pytest.mark.parametrize(
    ("level", "action"),
    [(GENERAL, "sign_report"), (GENERAL, "town_confirm"), (GENERAL, "close"), (MAJOR, "verify")],
)
def test_steps_of_the_other_level_do_not_exist(
    world: World, cast: Cast, catalogue: None, level: str, action: str
) -> None:
    hazard = make_hazard(world.enterprise_a, level=level, status=S.RECTIFYING)
    call = {
        "sign_report": lambda: services.hazard_sign_report(
            actor=cast.principal, hazard=hazard, fingerprint=hazard_fingerprint(hazard)
        ),
        "town_confirm": lambda: services.hazard_town_confirm(actor=cast.town_a_staff, hazard=hazard),
        "close": lambda: services.hazard_close(actor=cast.county_staff, hazard=hazard),
        "verify": lambda: services.hazard_verify(actor=cast.town_a_staff, hazard=hazard),
    }[action]
    with pytest.raises(ValidationError, match="没有"):
        call()
