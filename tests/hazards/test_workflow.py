"""The workflows end to end and their rules: 五落实, send-back, extensions, 回头看, admin correction,
rectifier ≠ verifier, stale state, notifications to whoever acts next, evidence files."""

from __future__ import annotations

import datetime
import hashlib
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.test import override_settings

from hazards import services
from hazards.choices import (
    EvidenceKind,
    ExtensionStatus,
    HazardAction,
    HazardCategory,
    HazardLevel,
    HazardSource,
    HazardStatus,
    SupervisionLevel,
)
from hazards.fingerprint import hazard_fingerprint
from hazards.models import ExtensionRequest, Hazard, HazardEvent, HazardEvidence, Notification
from hazards.permissions import allowed_actions
from portal.models import AuditEvent, User
from tests.conftest import Cast, World
from tests.hazards.conftest import (
    FIVE,
    PNG_BYTES,
    add_evidence,
    make_hazard,
    open_pit_item,
    second_county_staff,
    second_town_a_staff,
)

S = HazardStatus
A = HazardAction


def recipients(hazard: Hazard, since: int = 0) -> set[str]:
    return set(Notification.objects.filter(hazard=hazard, pk__gt=since).values_list("recipient__username", flat=True))


def last_notification_id() -> int:
    last = Notification.objects.order_by("-id").first()
    return last.pk if last else 0


def report_major(world: World, actor: User, **fields: Any) -> Hazard:
    values: dict[str, Any] = {
        "actor": actor,
        "enterprise": world.enterprise_a,
        "level": HazardLevel.MAJOR,
        "description": "+320平台边坡角超过设计值，存在滑坡危险",
        "category": HazardCategory.SLOPE,
        "source": HazardSource.SELF_CHECK,
        "found_on": datetime.date(2024, 5, 6),
        "criterion": open_pit_item(7),
        "ledger_number": "ZZ-2024-001",
    }
    values.update(fields)
    return services.hazard_report(**values)


def test_major_hazard_journey(world: World, cast: Cast, catalogue: None) -> None:
    hazard = report_major(world, cast.clerk)
    assert hazard.status == S.DRAFT
    assert recipients(hazard) == {"principal"}

    mark = last_notification_id()
    hazard = services.hazard_sign_report(actor=cast.principal, hazard=hazard, fingerprint=hazard_fingerprint(hazard))
    assert (hazard.status, hazard.signed_by) == (S.PENDING_TOWN, cast.principal)
    assert recipients(hazard, mark) == {"town_a"}  # not 高都镇, not the other county

    mark = last_notification_id()
    hazard = services.hazard_town_confirm(actor=cast.town_a_staff, hazard=hazard, comment="属实")
    assert hazard.status == S.PENDING_COUNTY
    assert recipients(hazard, mark) == {"county"}  # county staff only, not the leader or the other county

    mark = last_notification_id()
    hazard = services.hazard_county_confirm(actor=cast.county_staff, hazard=hazard)
    assert hazard.status == S.CONFIRMED
    assert recipients(hazard, mark) == {"clerk", "principal"}

    hazard = services.hazard_list_for_supervision(
        actor=cast.county_staff,
        hazard=hazard,
        level=SupervisionLevel.COUNTY,
        unit="泽州县应急管理局",
        doc_number="泽应急督〔2024〕3号",
        date=datetime.date(2024, 5, 10),
        deadline=datetime.date(2024, 7, 10),
    )
    assert hazard.is_supervised and hazard.status == S.CONFIRMED

    with pytest.raises(ValidationError, match="五落实"):
        services.hazard_start_rectification(actor=cast.clerk, hazard=hazard)
    hazard = services.hazard_start_rectification(
        actor=cast.clerk, hazard=hazard, deadline=datetime.date(2024, 7, 1), **FIVE
    )
    assert hazard.status == S.RECTIFYING
    assert hazard.deadline == hazard.current_deadline == datetime.date(2024, 7, 1)

    with pytest.raises(ValidationError, match="至少上传一份"):
        services.hazard_request_closure(
            actor=cast.clerk, hazard=hazard, rectified_on=datetime.date(2024, 6, 20), rectification_note="已削坡"
        )
    services.hazard_add_evidence(
        actor=cast.clerk, hazard=hazard, file=ContentFile(PNG_BYTES), original_name="削坡后.png",
        kind=EvidenceKind.RECTIFICATION,
    )  # fmt: skip
    mark = last_notification_id()
    hazard = services.hazard_request_closure(
        actor=cast.clerk, hazard=hazard, rectified_on=datetime.date(2024, 6, 20), rectification_note="已削坡"
    )
    assert (hazard.status, hazard.rectified_by) == (S.CLOSURE_REQUESTED, cast.clerk)
    assert recipients(hazard, mark) == {"county"}

    hazard = services.hazard_close(actor=cast.county_staff, hazard=hazard, closed_on=datetime.date(2024, 6, 25))
    assert (hazard.status, hazard.verified_by, hazard.closed_on) == (
        S.CLOSED,
        cast.county_staff,
        datetime.date(2024, 6, 25),
    )
    timeline = list(hazard.events.values_list("action", "from_status", "to_status"))
    assert timeline == [
        (A.REPORT, "", S.DRAFT),
        (A.SIGN_REPORT, S.DRAFT, S.PENDING_TOWN),
        (A.TOWN_CONFIRM, S.PENDING_TOWN, S.PENDING_COUNTY),
        (A.COUNTY_CONFIRM, S.PENDING_COUNTY, S.CONFIRMED),
        (A.LIST_FOR_SUPERVISION, S.CONFIRMED, S.CONFIRMED),
        (A.START_RECTIFICATION, S.CONFIRMED, S.RECTIFYING),
        (A.ADD_EVIDENCE, S.RECTIFYING, S.RECTIFYING),
        (A.REQUEST_CLOSURE, S.RECTIFYING, S.CLOSURE_REQUESTED),
        (A.CLOSE, S.CLOSURE_REQUESTED, S.CLOSED),
    ]
    assert hazard.events.get(action=A.TOWN_CONFIRM).comment == "属实"
    # Every step also left an audit row on the hazard, filed under its town.
    audits = AuditEvent.objects.filter(object_id=str(hazard.pk), object_type="事故隐患")
    assert audits.count() == len(timeline)
    assert set(audits.values_list("region_path", flat=True)) == {world.town_a.path}


def test_general_hazard_journey_reported_by_a_town(world: World, cast: Cast, catalogue: None) -> None:
    hazard = services.hazard_report(
        actor=cast.town_a_staff,
        enterprise=world.enterprise_a,
        level=HazardLevel.GENERAL,
        description="配电室未配备绝缘手套",
        category=HazardCategory.POWER,
        source=HazardSource.TOWN_INSPECTION,
        found_on=datetime.date(2024, 5, 8),
    )
    assert hazard.status == S.REPORTED
    assert recipients(hazard) == {"clerk", "principal"}
    with pytest.raises(ValidationError, match="整改措施、整改时限"):
        services.hazard_start_rectification(actor=cast.clerk, hazard=hazard)
    hazard = services.hazard_start_rectification(
        actor=cast.clerk, hazard=hazard, measures="采购绝缘手套", deadline=datetime.date(2024, 5, 15)
    )
    mark = last_notification_id()
    hazard = services.hazard_mark_rectified(
        actor=cast.clerk, hazard=hazard, rectified_on=datetime.date(2024, 5, 12), rectification_note="已配备"
    )
    assert hazard.status == S.RECTIFIED
    assert recipients(hazard, mark) == {"town_a"}
    hazard = services.hazard_verify(actor=cast.town_a_staff, hazard=hazard)
    assert (hazard.status, hazard.verified_by) == (S.VERIFIED, cast.town_a_staff)
    assert hazard.is_finished


def test_mark_rectified_needs_a_note_or_a_file(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, level=HazardLevel.GENERAL, status=S.RECTIFYING)
    with pytest.raises(ValidationError, match="整改情况或上传整改材料"):
        services.hazard_mark_rectified(actor=cast.clerk, hazard=hazard, rectified_on=datetime.date(2024, 6, 1))
    add_evidence(hazard, cast.clerk)
    hazard = services.hazard_mark_rectified(actor=cast.clerk, hazard=hazard, rectified_on=datetime.date(2024, 6, 1))
    assert hazard.status == S.RECTIFIED


@pytest.mark.parametrize(
    ("field", "empty", "named"),
    [
        ("measures", "", "整改措施"),
        ("responsible_unit", "", "责任单位和责任人"),
        ("responsible_person", "  ", "责任单位和责任人"),
        ("funds_wan", None, "整改资金"),
        ("deadline", None, "整改时限"),
        ("interim_measures", "", "应急预案/临时管控措施"),
    ],
)
def test_five_implementations_gate(
    world: World, cast: Cast, catalogue: None, field: str, empty: Any, named: str
) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.CONFIRMED, **{field: empty})
    with pytest.raises(ValidationError) as info:
        services.hazard_start_rectification(actor=cast.clerk, hazard=hazard)
    message = str(info.value)
    assert "五落实" in message and named in message
    hazard.refresh_from_db()
    assert hazard.status == S.CONFIRMED
    assert not hazard.events.exists()
    # Completing the missing item in the same step lets it through.
    fill = {field: FIVE.get(field, datetime.date(2024, 7, 1))}
    hazard = services.hazard_start_rectification(actor=cast.clerk, hazard=hazard, **fill)
    assert hazard.status == S.RECTIFYING


def test_funds_zero_is_a_recorded_amount(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.CONFIRMED, funds_wan=Decimal("0"))
    assert services.hazard_start_rectification(actor=cast.clerk, hazard=hazard).status == S.RECTIFYING


@pytest.mark.parametrize(
    ("status", "actor", "back_to", "notified"),
    [
        (S.PENDING_TOWN, "town_a_staff", S.DRAFT, {"principal"}),
        (S.PENDING_COUNTY, "county_staff", S.PENDING_TOWN, {"town_a"}),
        (S.CLOSURE_REQUESTED, "county_staff", S.RECTIFYING, {"clerk", "principal"}),
    ],
)
def test_send_back_needs_a_reason_and_goes_to_the_previous_holder(
    world: World, cast: Cast, catalogue: None, status: str, actor: str, back_to: str, notified: set[str]
) -> None:
    hazard = make_hazard(world.enterprise_a, status=status)
    user = getattr(cast, actor)
    for blank in ("", "   "):
        with pytest.raises(ValidationError, match="退回必须填写理由"):
            services.hazard_send_back(actor=user, hazard=hazard, reason=blank)
    assert not hazard.events.exists()
    hazard = services.hazard_send_back(actor=user, hazard=hazard, reason="判定依据引用错误")
    assert hazard.status == back_to
    event = hazard.events.get()
    assert (event.action, event.comment, event.from_status, event.to_status) == (
        A.SEND_BACK,
        "判定依据引用错误",
        status,
        back_to,
    )
    assert recipients(hazard) == notified
    assert all("判定依据引用错误" in n.message for n in Notification.objects.filter(hazard=hazard))


def test_extension_moves_the_deadline_and_keeps_the_old_one(world: World, cast: Cast, catalogue: None) -> None:
    original = datetime.date(2024, 6, 30)
    hazard = make_hazard(world.enterprise_a, status=S.RECTIFYING, deadline=original)
    with pytest.raises(ValidationError, match="须晚于现整改时限"):
        services.hazard_request_extension(
            actor=cast.clerk, hazard=hazard, requested_deadline=original, reason="设备到货延迟"
        )
    extension = services.hazard_request_extension(
        actor=cast.clerk, hazard=hazard, requested_deadline=datetime.date(2024, 8, 31), reason="设备到货延迟"
    )
    assert recipients(hazard) == {"county"}
    with pytest.raises(ValidationError, match="已有待审批"):
        services.hazard_request_extension(
            actor=cast.principal, hazard=hazard, requested_deadline=datetime.date(2024, 9, 30), reason="再延"
        )
    hazard.refresh_from_db()
    assert hazard.current_deadline == original  # not before approval

    services.hazard_decide_extension(actor=cast.county_staff, extension=extension, approve=True, comment="同意")
    hazard.refresh_from_db()
    extension.refresh_from_db()
    assert hazard.current_deadline == datetime.date(2024, 8, 31)
    assert hazard.deadline == original
    assert (extension.status, extension.old_deadline, extension.decided_by) == (
        ExtensionStatus.APPROVED,
        original,
        cast.county_staff,
    )
    with pytest.raises(services.HazardStateChanged, match="该延期申请已批准"):
        services.hazard_decide_extension(actor=cast.county_staff, extension=extension, approve=False, comment="x")

    # A second request starts from the moved deadline; rejecting it needs a reason and moves nothing.
    second = services.hazard_request_extension(
        actor=cast.clerk, hazard=hazard, requested_deadline=datetime.date(2024, 9, 30), reason="雨季"
    )
    assert second.old_deadline == datetime.date(2024, 8, 31)
    with pytest.raises(ValidationError, match="驳回延期申请必须填写理由"):
        services.hazard_decide_extension(actor=cast.county_staff, extension=second, approve=False)
    services.hazard_decide_extension(actor=cast.county_staff, extension=second, approve=False, comment="理由不充分")
    hazard.refresh_from_db()
    assert hazard.current_deadline == datetime.date(2024, 8, 31)
    decisions = list(hazard.events.filter(action=A.DECIDE_EXTENSION).values_list("data", flat=True))
    assert [d["approved"] for d in decisions] == [True, False]
    assert decisions[0]["old_deadline"] == "2024-06-30"


def test_editing_the_deadline_after_an_extension_is_refused(world: World, cast: Cast, catalogue: None) -> None:
    # Once an extension is approved only another approved extension moves the deadline (hazards.fields).
    hazard = make_hazard(world.enterprise_a, status=S.RECTIFYING, deadline=datetime.date(2024, 6, 30))
    extension = services.hazard_request_extension(
        actor=cast.clerk, hazard=hazard, requested_deadline=datetime.date(2024, 8, 31), reason="设备"
    )
    services.hazard_decide_extension(actor=cast.county_staff, extension=extension, approve=True)
    events = hazard.events.count()
    for user in (cast.clerk, cast.town_a_staff, cast.county_staff):
        with pytest.raises(PermissionDenied, match="“整改时限”已确定（县局已确认），只能通过申请延期并经批准后变更"):
            services.hazard_update(actor=user, hazard=hazard, data={"deadline": datetime.date(2024, 7, 5)})
    hazard.refresh_from_db()
    assert (hazard.deadline, hazard.current_deadline) == (datetime.date(2024, 6, 30), datetime.date(2024, 8, 31))
    assert hazard.events.count() == events


def test_a_general_extension_is_decided_by_the_town(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, level=HazardLevel.GENERAL, status=S.RECTIFYING)
    extension = services.hazard_request_extension(
        actor=cast.clerk, hazard=hazard, requested_deadline=datetime.date(2024, 7, 31), reason="配件缺货"
    )
    assert recipients(hazard) == {"town_a"}
    services.hazard_decide_extension(actor=cast.town_a_staff, extension=extension, approve=True)
    hazard.refresh_from_db()
    assert hazard.current_deadline == datetime.date(2024, 7, 31)


def test_recheck_pass_keeps_it_closed_and_failure_reopens_it(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.CLOSED, closed_on=datetime.date(2024, 6, 25))
    Hazard.objects.filter(pk=hazard.pk).update(rectified_by=cast.clerk, verified_by=cast.county_staff)
    hazard.refresh_from_db()
    hazard = services.hazard_recheck(actor=cast.town_a_staff, hazard=hazard, passed=True, comment="整改有效")
    assert hazard.status == S.CLOSED
    assert hazard.events.get().data == {"passed": True}

    with pytest.raises(ValidationError, match="回头看不合格必须填写理由"):
        services.hazard_recheck(actor=cast.county_staff, hazard=hazard, passed=False)
    mark = last_notification_id()
    hazard = services.hazard_recheck(
        actor=cast.county_staff,
        hazard=hazard,
        passed=False,
        comment="边坡再次出现浮石",
        new_deadline=datetime.date(2030, 1, 31),
    )
    assert hazard.status == S.RECTIFYING
    assert (hazard.closed_on, hazard.verified_by, hazard.rectified_by) == (None, None, None)
    assert hazard.current_deadline == datetime.date(2030, 1, 31)
    assert hazard.deadline == datetime.date(2024, 6, 30)
    event = hazard.events.latest("id")
    assert (event.from_status, event.to_status, event.comment) == (S.CLOSED, S.RECTIFYING, "边坡再次出现浮石")
    assert event.data["closed_on"] == "2024-06-25"
    assert recipients(hazard, mark) == {"clerk", "principal"}
    assert "边坡再次出现浮石" in Notification.objects.filter(pk__gt=mark).first().message  # type: ignore[union-attr]


def test_a_closed_hazard_changes_only_by_an_admin_with_a_reason(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.CLOSED, closed_on=datetime.date(2024, 6, 25))
    for user in (cast.clerk, cast.town_a_staff, cast.county_staff):
        with pytest.raises(ValidationError, match="只能由管理员更正"):
            services.hazard_update(actor=user, hazard=hazard, data={"location": "东帮"})
    for blank in ("", "  "):
        with pytest.raises(ValidationError, match="必须填写理由"):
            services.hazard_admin_amend(actor=cast.admin, hazard=hazard, data={"location": "东帮"}, reason=blank)
    with pytest.raises(ValidationError, match="不能修改这些字段：status"):
        services.hazard_admin_amend(actor=cast.admin, hazard=hazard, data={"status": S.DRAFT}, reason="误操作")
    hazard.refresh_from_db()
    assert hazard.location == "" and not hazard.events.exists()

    audits_before = AuditEvent.objects.count()
    hazard = services.hazard_admin_amend(
        actor=cast.admin, hazard=hazard, data={"location": "东帮", "closed_on": datetime.date(2024, 6, 26)},
        reason="台账录入错误",
    )  # fmt: skip
    assert (hazard.status, hazard.location, hazard.closed_on) == (S.CLOSED, "东帮", datetime.date(2024, 6, 26))
    event = hazard.events.get()
    assert (event.action, event.actor, event.comment) == (A.ADMIN_AMEND, cast.admin, "台账录入错误")
    assert event.data["fields"] == ["closed_on", "location"]
    audit = AuditEvent.objects.latest("id")
    assert AuditEvent.objects.count() == audits_before + 1
    assert audit.before["location"] == "" and audit.after["location"] == "东帮"
    assert "台账录入错误" in audit.detail


def test_admin_cannot_make_a_major_hazard_cite_nothing(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.CLOSED)
    with pytest.raises(ValidationError, match="必须选择判定依据"):
        services.hazard_admin_amend(actor=cast.admin, hazard=hazard, data={"criterion": None}, reason="测试")


def test_the_rectifier_never_verifies_a_general_hazard(world: World, cast: Cast, catalogue: None) -> None:
    # A town may record an on-the-spot rectification; then another person must verify it.
    hazard = make_hazard(world.enterprise_a, level=HazardLevel.GENERAL, status=S.RECTIFYING)
    hazard = services.hazard_mark_rectified(
        actor=cast.town_a_staff, hazard=hazard, rectified_on=datetime.date(2024, 6, 1), rectification_note="立查立改"
    )
    assert A.VERIFY not in allowed_actions(cast.town_a_staff, hazard)
    with pytest.raises(PermissionDenied, match="整改填报人不能验收"):
        services.hazard_verify(actor=cast.town_a_staff, hazard=hazard)
    hazard.refresh_from_db()
    assert hazard.status == S.RECTIFIED
    colleague = second_town_a_staff(world)
    assert A.VERIFY in allowed_actions(colleague, hazard)
    assert services.hazard_verify(actor=colleague, hazard=hazard).verified_by == colleague


def test_the_rectifier_never_closes_a_major_hazard(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.CLOSURE_REQUESTED)
    Hazard.objects.filter(pk=hazard.pk).update(rectified_by=cast.county_staff)
    hazard.refresh_from_db()
    with pytest.raises(PermissionDenied, match="整改填报人不能销号"):
        services.hazard_close(actor=cast.county_staff, hazard=hazard)
    other = second_county_staff(world)
    assert services.hazard_close(actor=other, hazard=hazard).status == S.CLOSED


def test_a_second_confirmation_on_a_stale_state_gets_a_clear_error(world: World, cast: Cast, catalogue: None) -> None:
    make_hazard(world.enterprise_a, status=S.PENDING_TOWN)
    # Two town officers open the same hazard; both see 待镇确认.
    seen_by_first = Hazard.objects.get()
    seen_by_second = Hazard.objects.get()
    colleague = second_town_a_staff(world)
    services.hazard_town_confirm(actor=cast.town_a_staff, hazard=seen_by_first)
    with pytest.raises(services.HazardStateChanged) as info:
        services.hazard_town_confirm(actor=colleague, hazard=seen_by_second)
    assert "该隐患状态已变更为“待县确认”" in str(info.value)
    assert HazardEvent.objects.filter(action=A.TOWN_CONFIRM).count() == 1
    assert HazardEvent.objects.get(action=A.TOWN_CONFIRM).actor == cast.town_a_staff
    # The same for a send-back racing a confirmation.
    with pytest.raises(services.HazardStateChanged):
        services.hazard_send_back(actor=colleague, hazard=seen_by_second, reason="不属实")
    assert HazardEvent.objects.count() == 1


def test_a_major_hazard_must_cite_a_criterion(world: World, cast: Cast, catalogue: None) -> None:
    with pytest.raises(ValidationError, match="必须选择判定依据"):
        report_major(world, cast.clerk, criterion=None)
    item = open_pit_item(3)
    item.is_active = False
    item.save()
    with pytest.raises(ValidationError, match="已停用"):
        report_major(world, cast.clerk, criterion=item)
    with pytest.raises(ValidationError, match="一般事故隐患不填写"):
        report_major(world, cast.clerk, level=HazardLevel.GENERAL, criterion=open_pit_item(7))
    assert not Hazard.objects.exists()


def test_the_database_refuses_a_major_hazard_without_criterion(world: World, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Hazard.objects.filter(pk=hazard.pk).update(criterion=None)


def test_report_refuses_dates_in_the_future_and_deadlines_before_found(
    world: World, cast: Cast, catalogue: None
) -> None:
    with pytest.raises(ValidationError, match="发现日期不能晚于今天"):
        report_major(world, cast.clerk, found_on=datetime.date(2099, 1, 1))
    with pytest.raises(ValidationError, match="整改时限不能早于发现日期"):
        report_major(world, cast.clerk, deadline=datetime.date(2024, 5, 1))


def test_ledger_identity_refuses_duplicates_written_differently(world: World, cast: Cast, catalogue: None) -> None:
    report_major(world, cast.clerk, ledger_number="ZZ-2024-001")
    with pytest.raises(ValidationError, match="同一编号"):
        report_major(world, cast.clerk, ledger_number="ｚｚ－２０２４－００１ ", description="另一条")
    # Without a number: the same date and the same text, modulo spaces, full-width forms and a final 。.
    services.hazard_report(
        actor=cast.clerk, enterprise=world.enterprise_a, level=HazardLevel.GENERAL, description="配电室 无绝缘垫",
        category=HazardCategory.POWER, source=HazardSource.SELF_CHECK, found_on=datetime.date(2024, 5, 6),
    )  # fmt: skip
    with pytest.raises(ValidationError, match="同一发现日期和内容"):
        services.hazard_report(
            actor=cast.clerk, enterprise=world.enterprise_a, level=HazardLevel.GENERAL,
            description="配电室无绝缘垫。", category=HazardCategory.POWER, source=HazardSource.SELF_CHECK,
            found_on=datetime.date(2024, 5, 6),
        )  # fmt: skip
    # Another enterprise may use the same number.
    hazard = services.hazard_report(
        actor=cast.town_a_staff, enterprise=world.enterprise_a2, level=HazardLevel.GENERAL,
        description="x", ledger_number="ZZ-2024-001", category=HazardCategory.OTHER,
        source=HazardSource.TOWN_INSPECTION, found_on=datetime.date(2024, 5, 6),
    )  # fmt: skip
    assert hazard.identity_key == "no:ZZ-2024-001"


def test_allowed_actions_follow_the_rules(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.DRAFT)
    assert allowed_actions(cast.principal, hazard) == [A.SIGN_REPORT, A.UPDATE, A.ADD_EVIDENCE]
    assert allowed_actions(cast.clerk, hazard) == [A.UPDATE, A.ADD_EVIDENCE]
    assert allowed_actions(cast.county_leader, hazard) == []
    assert allowed_actions(cast.city_viewer, hazard) == []
    assert allowed_actions(cast.admin, hazard) == [A.ADMIN_AMEND]
    hazard.status = S.PENDING_TOWN
    assert allowed_actions(cast.town_a_staff, hazard)[:2] == [A.TOWN_CONFIRM, A.SEND_BACK]


def test_evidence_is_stored_with_its_checksum(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.RECTIFYING)
    content = PNG_BYTES + b"photo"
    evidence = services.hazard_add_evidence(
        actor=cast.clerk, hazard=hazard, file=ContentFile(content), original_name="C:\\现场\\整改后.PNG",
        kind=EvidenceKind.RECTIFICATION,
    )  # fmt: skip
    assert evidence.original_name == "整改后.PNG"  # a Windows path is cut to the file name
    assert evidence.size == len(content)
    assert evidence.sha256 == hashlib.sha256(content).hexdigest()
    assert evidence.file.name.startswith("hazards/") and evidence.file.name.endswith(".png")
    with evidence.file.open("rb") as stored:
        assert stored.read() == content
    assert evidence.uploaded_by == cast.clerk


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"MZ\x90\x00" + b"\x00" * 60, "照片.jpg", "不支持的文件类型"),
        (b"<html><script>alert(1)</script>", "整改.pdf", "不支持的文件类型"),
        (b"", "空.png", "文件为空"),
    ],
)
def test_evidence_is_checked_by_content(
    world: World, cast: Cast, catalogue: None, content: bytes, name: str, message: str
) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.RECTIFYING)
    with pytest.raises(ValidationError, match=message):
        services.hazard_add_evidence(actor=cast.clerk, hazard=hazard, file=ContentFile(content), original_name=name,
                                     kind=EvidenceKind.PHOTO)  # fmt: skip
    assert not HazardEvidence.objects.exists()
    assert not hazard.events.exists()


@override_settings(UPLOAD_MAX_BYTES=1024 * 1024)
def test_evidence_over_the_size_limit_is_refused(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.RECTIFYING)
    big = b"%PDF-1.7\n" + b"0" * (1024 * 1024)
    with pytest.raises(ValidationError, match="大小限制"):
        services.hazard_add_evidence(actor=cast.clerk, hazard=hazard, file=ContentFile(big), original_name="a.pdf",
                                     kind=EvidenceKind.DOCUMENT)  # fmt: skip
    assert not HazardEvidence.objects.exists()


def test_events_are_append_only(world: World, cast: Cast, catalogue: None) -> None:
    hazard = report_major(world, cast.clerk)
    event = hazard.events.get()
    event.comment = "改写历史"
    with pytest.raises(RuntimeError, match="只能追加"):
        event.save()
    with pytest.raises(RuntimeError, match="只能追加"):
        event.delete()


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_notifications_are_emailed_after_commit_when_email_is_configured(
    world: World, cast: Cast, catalogue: None, django_capture_on_commit_callbacks: Any
) -> None:
    User.objects.filter(pk=cast.principal.pk).update(email="principal@example.cn")
    with django_capture_on_commit_callbacks(execute=True):
        report_major(world, cast.clerk)
    assert [message.to for message in mail.outbox] == [["principal@example.cn"]]
    assert "请企业主要负责人确认签字上报" in mail.outbox[0].body


def test_no_email_with_the_console_backend(
    world: World, cast: Cast, catalogue: None, django_capture_on_commit_callbacks: Any
) -> None:
    User.objects.filter(pk=cast.principal.pk).update(email="principal@example.cn")
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend"):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            report_major(world, cast.clerk)
        assert callbacks == []
    assert Notification.objects.filter(recipient=cast.principal).count() == 1


def test_notification_mark_read_touches_only_ones_own(world: World, cast: Cast, catalogue: None) -> None:
    hazard = report_major(world, cast.clerk)
    services.hazard_sign_report(actor=cast.principal, hazard=hazard, fingerprint=hazard_fingerprint(hazard))
    mine = Notification.objects.get(recipient=cast.principal)
    theirs = Notification.objects.get(recipient=cast.town_a_staff)
    assert services.notification_mark_read(actor=cast.principal, notification_ids=[mine.pk, theirs.pk]) == 1
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.is_read and not theirs.is_read


def test_extension_request_objects_are_scoped(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.RECTIFYING)
    services.hazard_request_extension(
        actor=cast.clerk, hazard=hazard, requested_deadline=datetime.date(2024, 8, 1), reason="x"
    )
    assert ExtensionRequest.objects.visible_to(cast.town_b_staff).count() == 0
    assert ExtensionRequest.objects.visible_to(cast.other_clerk).count() == 0
    assert ExtensionRequest.objects.visible_to(cast.county_staff).count() == 1


def test_after_signing_the_enterprise_only_completes_the_five_implementations(
    world: World, cast: Cast, catalogue: None
) -> None:
    draft = make_hazard(world.enterprise_a, status=S.DRAFT, five=False)
    services.hazard_update(actor=cast.clerk, hazard=draft, data={"description": "改写后的隐患内容"})
    confirmed = make_hazard(world.enterprise_a, status=S.CONFIRMED, five=False)
    with pytest.raises(PermissionDenied, match="只能补充“五落实”"):
        services.hazard_update(actor=cast.clerk, hazard=confirmed, data={"criterion": open_pit_item(2)})
    hazard = services.hazard_update(actor=cast.principal, hazard=confirmed, data={"measures": "削坡", **FIVE})
    assert hazard.missing_five_implementations() == []
    assert list(hazard.events.values_list("action", flat=True)) == [A.UPDATE]
    # The town and the county may still correct what they confirm.
    hazard = services.hazard_update(actor=cast.town_a_staff, hazard=hazard, data={"criterion": open_pit_item(2)})
    assert hazard.criterion == open_pit_item(2)
