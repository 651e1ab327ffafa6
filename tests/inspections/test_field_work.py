"""Inspections, teams, exams and duty logs: who records what, and what follows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from inspections import services
from inspections.models import Exam, Inspection, InspectionTeam, PrincipalDutyLog
from portal.models import AuditEvent, Person
from tests.conftest import Cast, World
from tests.images import TINY_JPEG

DAY = dt.date(2024, 5, 10)
JPEG = TINY_JPEG  # a real image: uploads are opened to read their pixel size


def _inspect(actor, enterprise, **extra) -> Inspection:  # type: ignore[no-untyped-def]
    data = {"date": DAY, "method": "four_no_two_straight", "leader": "赵卫东", **extra}
    return services.inspection_create(actor=actor, enterprise=enterprise, **data)


INSPECT_MATRIX = {
    ("town_a_staff", "enterprise_a"): True,
    ("town_a_staff", "enterprise_b"): False,
    ("county_staff", "enterprise_b"): True,
    ("other_county_staff", "enterprise_a"): False,
    ("clerk", "enterprise_a"): False,
    ("city_viewer", "enterprise_a"): False,
    ("county_leader", "enterprise_a"): False,
}


@pytest.mark.parametrize(("member", "enterprise"), sorted(INSPECT_MATRIX))
def test_who_inspects_whom(cast: Cast, world: World, member: str, enterprise: str) -> None:
    actor, target = getattr(cast, member), getattr(world, enterprise)
    if INSPECT_MATRIX[(member, enterprise)]:
        inspection = _inspect(actor, target)
        assert inspection.unit == actor.region
        assert AuditEvent.objects.filter(action="create", object_type="检查记录", object_id=str(inspection.pk)).exists()
    else:
        with pytest.raises(PermissionDenied):
            _inspect(actor, target)
        assert not Inspection.objects.exists()


def test_inspection_with_photos_and_a_hazard_found(cast: Cast, world: World, campaign83) -> None:
    photo = SimpleUploadedFile("现场.jpg", JPEG, content_type="image/jpeg")
    inspection = _inspect(cast.town_a_staff, world.enterprise_a, campaign=campaign83, photos=[photo])
    assert inspection.photos.get().original_name == "现场.jpg"
    pdf = SimpleUploadedFile("不是照片.pdf", b"%PDF-1.4", content_type="application/pdf")
    with pytest.raises(ValidationError, match="不支持的照片类型"):
        services.inspection_photo_add(actor=cast.town_a_staff, inspection=inspection, upload=pdf)
    hazard = services.inspection_report_hazard(
        actor=cast.town_a_staff, inspection=inspection, level="general", category="slope",
        description="采场边坡台阶坡面角超过设计", location="+1050平台",
    )  # fmt: skip
    assert hazard.source == "town_inspection" and hazard.found_on == DAY and hazard.enterprise == world.enterprise_a
    assert list(inspection.hazards.all()) == [hazard]
    # The county's inspection records 县局检查; an expert check records 专家体检.
    county = _inspect(cast.county_staff, world.enterprise_a, method="expert_check")
    assert services.inspection_hazard_source(county) == "expert_check"
    assert services.inspection_hazard_source(_inspect(cast.county_staff, world.enterprise_b)) == "county_inspection"
    # Another unit cannot add to this inspection.
    with pytest.raises(PermissionDenied):
        services.inspection_report_hazard(
            actor=cast.county_staff, inspection=inspection, level="general", category="slope", description="x"
        )
    # An inspection with hazards found cannot be deleted or moved to another enterprise.
    with pytest.raises(ValidationError):
        services.inspection_delete(actor=cast.town_a_staff, inspection=inspection)
    with pytest.raises(ValidationError):
        services.inspection_update(
            actor=cast.town_a_staff, inspection=inspection, data={"enterprise": world.enterprise_a2}
        )


def test_linking_hazards_of_another_enterprise_is_refused(cast: Cast, world: World) -> None:
    inspection = _inspect(cast.town_a_staff, world.enterprise_a)
    other = services.inspection_report_hazard(
        actor=cast.town_a_staff, inspection=_inspect(cast.town_a_staff, world.enterprise_a2), level="general",
        category="other", description="消防器材过期",
    )  # fmt: skip
    with pytest.raises(ValidationError):
        services.inspection_link_hazards(actor=cast.town_a_staff, inspection=inspection, hazards=[other])
    assert not inspection.hazards.exists()


def test_a_talk_and_an_exam_mark_the_inspection(cast: Cast, world: World) -> None:
    inspection = _inspect(cast.town_a_staff, world.enterprise_a)
    assert not inspection.talk_held and not inspection.exam_held
    services.enforcement_record_create(
        actor=cast.town_a_staff, kind="talk_enterprise", date=DAY, enterprise=world.enterprise_a,
        person_name="王建国", inspection=inspection,
    )  # fmt: skip
    principal = Person.objects.get(enterprise=world.enterprise_a, role="principal")
    services.exam_record(
        actor=cast.town_a_staff, enterprise=world.enterprise_a, person=principal, date=DAY, score=Decimal(90),
        inspection=inspection,
    )  # fmt: skip
    inspection.refresh_from_db()
    assert inspection.talk_held and inspection.exam_held


def test_exam_fail_retake_fail(cast: Cast, world: World) -> None:
    principal = Person.objects.get(enterprise=world.enterprise_a, role="principal")
    first = services.exam_record(
        actor=cast.town_a_staff, enterprise=world.enterprise_a, person=principal, date=DAY, score=Decimal("62.5")
    )
    assert not first.passed and first.outcome == "不合格：责令重新学习和补考"
    retake = services.exam_record(
        actor=cast.town_a_staff, enterprise=world.enterprise_a, person=principal, date=DAY + dt.timedelta(days=7),
        score=Decimal(70), retake_of=first,
    )  # fmt: skip
    assert not retake.passed and retake.is_retake
    assert retake.outcome == "补考不合格：通报曝光，建议调整主要负责人"
    with pytest.raises(ValidationError, match="补考只有一次"):
        services.exam_record(
            actor=cast.town_a_staff, enterprise=world.enterprise_a, person=principal, date=DAY + dt.timedelta(days=9),
            score=Decimal(95), retake_of=retake,
        )  # fmt: skip
    with pytest.raises(ValidationError, match="已登记过补考"):
        services.exam_record(
            actor=cast.town_a_staff, enterprise=world.enterprise_a, person=principal, date=DAY + dt.timedelta(days=9),
            score=Decimal(95), retake_of=first,
        )  # fmt: skip


def test_exam_checks(cast: Cast, world: World, principal_b: Person) -> None:
    principal = Person.objects.get(enterprise=world.enterprise_a, role="principal")
    passed = services.exam_record(
        actor=cast.town_a_staff, enterprise=world.enterprise_a, person=principal, date=DAY, score=Decimal(85)
    )
    with pytest.raises(ValidationError, match="已合格"):
        services.exam_record(
            actor=cast.town_a_staff, enterprise=world.enterprise_a, person=principal, date=DAY, score=Decimal(85),
            retake_of=passed,
        )  # fmt: skip
    with pytest.raises(ValidationError, match="不是泽州县示范矿业有限公司登记的主要负责人"):
        services.exam_record(
            actor=cast.town_a_staff, enterprise=world.enterprise_a, person=principal_b, date=DAY, score=Decimal(85)
        )
    with pytest.raises(PermissionDenied):
        services.exam_record(
            actor=cast.town_a_staff, enterprise=world.enterprise_b, person=principal_b, date=DAY, score=Decimal(85)
        )
    with pytest.raises(ValidationError):
        services.exam_record(
            actor=cast.county_staff, enterprise=world.enterprise_b, person=principal_b, date=DAY, score=Decimal(101)
        )
    assert Exam.objects.count() == 1


def test_teams_belong_to_their_unit(cast: Cast, world: World, campaign331) -> None:
    team = services.inspection_team_create(
        actor=cast.town_a_staff, campaign=campaign331, name="巴公镇第一督查组", leader="赵卫东",
        formed_on=dt.date(2023, 11, 12),
    )  # fmt: skip
    assert team.unit == world.town_a
    with pytest.raises(PermissionDenied):
        services.inspection_team_update(actor=cast.county_staff, team=team, data={"name": "改名"})
    # An inspection may only use a team of its own unit.
    with pytest.raises(ValidationError):
        _inspect(cast.county_staff, world.enterprise_b, team=team)
    with pytest.raises(PermissionDenied):
        services.inspection_team_create(
            actor=cast.clerk, campaign=campaign331, name="x", leader="y", formed_on=dt.date(2023, 11, 12)
        )
    assert InspectionTeam.objects.count() == 1


DUTY_MATRIX = {
    ("clerk", "enterprise_a"): True,
    ("principal", "enterprise_a"): True,
    ("town_a_staff", "enterprise_a"): True,
    ("county_staff", "enterprise_a"): True,
    ("town_b_staff", "enterprise_a"): False,
    ("other_clerk", "enterprise_a"): False,
    ("clerk", "enterprise_a2"): False,
    ("city_viewer", "enterprise_a"): False,
}


@time_machine.travel(dt.datetime(2024, 6, 3, 9, 0, tzinfo=dt.UTC))
@pytest.mark.parametrize(("member", "enterprise"), sorted(DUTY_MATRIX))
def test_who_keeps_the_duty_log(cast: Cast, world: World, member: str, enterprise: str) -> None:
    target = getattr(world, enterprise)
    if target.people.filter(role="principal").count() == 0:
        Person.objects.create(enterprise=target, name="钱石料", role="principal")
    kwargs = {"actor": getattr(cast, member), "enterprise": target, "month": dt.date(2024, 5, 1)}
    if DUTY_MATRIX[(member, enterprise)]:
        log = services.duty_log_save(**kwargs, on_site_dates=[dt.date(2024, 5, 6)], safety_meetings=1)
        assert log.on_site_dates == ["2024-05-06"]
    else:
        with pytest.raises(PermissionDenied):
            services.duty_log_save(**kwargs)
        assert not PrincipalDutyLog.objects.exists()


@time_machine.travel(dt.datetime(2024, 6, 3, 9, 0, tzinfo=dt.UTC))
def test_duty_log_is_one_per_month_and_checked(cast: Cast, world: World) -> None:
    save = services.duty_log_save
    log = save(actor=cast.clerk, enterprise=world.enterprise_a, month=dt.date(2024, 5, 17), inspections_led=1)
    again = save(actor=cast.clerk, enterprise=world.enterprise_a, month=dt.date(2024, 5, 1), inspections_led=3)
    assert again.pk == log.pk and again.month == dt.date(2024, 5, 1) and again.inspections_led == 3
    assert PrincipalDutyLog.objects.count() == 1
    with pytest.raises(ValidationError, match="不在"):
        save(
            actor=cast.clerk,
            enterprise=world.enterprise_a,
            month=dt.date(2024, 5, 1),
            on_site_dates=[dt.date(2024, 4, 30)],
        )
    with pytest.raises(ValidationError, match="将来"):
        save(actor=cast.clerk, enterprise=world.enterprise_a, month=dt.date(2024, 7, 1))
    with pytest.raises(ValidationError, match="没有上级企业"):
        save(actor=cast.clerk, enterprise=world.enterprise_a, month=dt.date(2024, 5, 1), parent_leader_visits=2)
    events = AuditEvent.objects.filter(object_type="主要负责人履职台账")
    assert [e.action for e in events.order_by("id")] == ["create", "update"]
