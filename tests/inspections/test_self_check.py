"""自查自改报告: drafts save as you go, only the principal signs, submitted is read-only, a town may file
on behalf of its enterprise."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from inspections import services
from inspections.answered import self_check_fingerprint
from inspections.models import ChecklistItem, SelfCheckReport
from portal.models import AuditEvent, Person, User
from tests.conftest import Cast, World
from tests.factories import UserFactory

START_MATRIX = {
    ("clerk", "enterprise_a"): True,
    ("principal", "enterprise_a"): True,
    ("town_a_staff", "enterprise_a"): True,  # on behalf
    ("clerk", "enterprise_a2"): False,
    ("other_clerk", "enterprise_a"): False,
    ("town_b_staff", "enterprise_a"): False,
    ("county_staff", "enterprise_a"): False,
    ("city_viewer", "enterprise_a"): False,
}


@pytest.mark.parametrize(("member", "enterprise"), sorted(START_MATRIX))
def test_who_files_whose_report(cast: Cast, world: World, campaign83, member: str, enterprise: str) -> None:
    actor = getattr(cast, member)
    target = getattr(world, enterprise)
    if START_MATRIX[(member, enterprise)]:
        report = services.self_check_start(actor=actor, campaign=campaign83, enterprise=target)
        assert report.answers.count() == 30
        assert (report.filed_by_unit == world.town_a) is (member == "town_a_staff")
    else:
        with pytest.raises(PermissionDenied):
            services.self_check_start(actor=actor, campaign=campaign83, enterprise=target)
        assert not SelfCheckReport.objects.exists()


def _answer_all(actor: User, report: SelfCheckReport, answer: str = "yes") -> None:
    for row in report.answers.select_related("item"):
        if not row.answer:
            services.self_check_answer(actor=actor, report=report, item=row.item, answer=answer)


def test_parent_company_questions_default_to_not_applicable(cast: Cast, world: World, campaign83) -> None:
    report = services.self_check_start(actor=cast.clerk, campaign=campaign83, enterprise=world.enterprise_a)
    defaults = report.answers.filter(item__subject="parent_company")
    assert defaults.count() == 3 and set(defaults.values_list("answer", flat=True)) == {"na"}
    assert report.answers.filter(answer="").count() == 27
    # Starting again returns the same draft.
    assert services.self_check_start(actor=cast.clerk, campaign=campaign83, enterprise=world.enterprise_a) == report


def test_draft_saves_item_by_item_then_principal_signs(cast: Cast, world: World, campaign83) -> None:
    report = services.self_check_start(actor=cast.clerk, campaign=campaign83, enterprise=world.enterprise_a)
    item = ChecklistItem.objects.get(area__campaign=campaign83, text__startswith="每月在生产现场")
    services.self_check_answer(actor=cast.clerk, report=report, item=item, answer="no", note="3月仅8个工作日")
    row = report.answers.get(item=item)
    assert (row.answer, row.note, row.is_compliant) == ("no", "3月仅8个工作日", False)
    evidence = services.self_check_add_evidence(
        actor=cast.clerk, answer=row, upload=SimpleUploadedFile("考勤.pdf", b"%PDF-1.5 x")
    )
    assert evidence.original_name == "考勤.pdf"
    with pytest.raises(ValidationError, match="还有 26 项未回答"):
        services.self_check_sign(
            actor=cast.principal, report=report, signer=cast.principal, fingerprint=self_check_fingerprint(report)
        )
    _answer_all(cast.clerk, report)
    # The clerk cannot sign, nor the principal of another enterprise.
    with pytest.raises(PermissionDenied):
        services.self_check_sign(
            actor=cast.clerk, report=report, signer=cast.clerk, fingerprint=self_check_fingerprint(report)
        )
    other_person = Person.objects.create(enterprise=world.enterprise_a2, name="钱石料", role="principal")
    other_principal = UserFactory(
        username="principal_a2", role="enterprise_principal", enterprise=world.enterprise_a2, person=other_person
    )
    with pytest.raises(PermissionDenied):
        services.self_check_sign(
            actor=other_principal, report=report, signer=other_principal, fingerprint=self_check_fingerprint(report)
        )
    signed = services.self_check_sign(
        actor=cast.principal, report=report, signer=cast.principal, fingerprint=self_check_fingerprint(report)
    )
    assert signed.status == "submitted" and signed.signed_name == "王建国"
    assert signed.signed_by_account == cast.principal and signed.signed_on_device_of is None
    assert signed.signed_at is not None and signed.submitted_at == signed.signed_at
    event = AuditEvent.objects.filter(object_type="自查自改报告", action="update").latest("id")
    assert event.actor == cast.principal and event.after["status"] == "submitted"
    # Submitted is read-only, for everyone.
    for actor in (cast.clerk, cast.principal, cast.town_a_staff):
        with pytest.raises(ValidationError, match="不能再修改"):
            services.self_check_answer(actor=actor, report=report, item=item, answer="yes")
        with pytest.raises(ValidationError, match="不能再修改"):
            services.self_check_update(actor=actor, report=report, summary="改")
    with pytest.raises(ValidationError, match="不能再修改"):
        services.self_check_delete_evidence(actor=cast.clerk, evidence=evidence)
    with pytest.raises(ValidationError, match="不能再修改"):
        services.self_check_sign(
            actor=cast.principal, report=report, signer=cast.principal, fingerprint=self_check_fingerprint(report)
        )


def test_town_files_on_behalf_and_the_principal_signs_in_person(cast: Cast, world: World, campaign83) -> None:
    report = services.self_check_start(actor=cast.town_a_staff, campaign=campaign83, enterprise=world.enterprise_a)
    _answer_all(cast.town_a_staff, report)
    # The town cannot sign for the principal …
    with pytest.raises(PermissionDenied):
        services.self_check_sign(
            actor=cast.town_a_staff, report=report, signer=cast.town_a_staff, fingerprint=self_check_fingerprint(report)
        )
    # … another town's device is not a place to sign this report.
    with pytest.raises(PermissionDenied):
        services.self_check_sign(
            actor=cast.town_b_staff, report=report, signer=cast.principal, fingerprint=self_check_fingerprint(report)
        )
    signed = services.self_check_sign(
        actor=cast.town_a_staff, report=report, signer=cast.principal, fingerprint=self_check_fingerprint(report)
    )
    assert signed.filed_by_unit == world.town_a and signed.created_by == cast.town_a_staff
    assert signed.signed_by_account == cast.principal and signed.signed_on_device_of == cast.town_a_staff
    event = AuditEvent.objects.filter(object_type="自查自改报告", action="update").latest("id")
    assert "当面签字" in event.detail


def test_a_principal_account_without_a_person_cannot_sign(cast: Cast, world: World, campaign83) -> None:
    report = services.self_check_start(actor=cast.clerk, campaign=campaign83, enterprise=world.enterprise_a)
    _answer_all(cast.clerk, report)
    unlinked = UserFactory(username="principal_unlinked", role="enterprise_principal", enterprise=world.enterprise_a)
    with pytest.raises(PermissionDenied):
        services.self_check_sign(
            actor=unlinked, report=report, signer=unlinked, fingerprint=self_check_fingerprint(report)
        )


def test_hazards_attached_must_be_the_enterprises(cast: Cast, world: World, campaign83) -> None:
    from hazards import services as hazard_services

    own = hazard_services.hazard_report(
        actor=cast.clerk, enterprise=world.enterprise_a, level="general", description="配电柜未接地",
        category="power", source="self_check", found_on=campaign83.start_date,
    )  # fmt: skip
    other = hazard_services.hazard_report(
        actor=cast.town_a_staff, enterprise=world.enterprise_a2, level="general", description="无警示标志",
        category="other", source="town_inspection", found_on=campaign83.start_date,
    )  # fmt: skip
    report = services.self_check_start(actor=cast.clerk, campaign=campaign83, enterprise=world.enterprise_a)
    services.self_check_update(actor=cast.clerk, report=report, hazards=[own], summary="已自查")
    assert list(report.hazards.all()) == [own]
    with pytest.raises(ValidationError):
        services.self_check_update(actor=cast.town_a_staff, report=report, hazards=[own, other])
    assert list(report.hazards.all()) == [own]
