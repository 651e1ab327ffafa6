"""Each warning rule with cases that must and must not trigger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import count

import pytest

from hazards import services as hazard_services
from hazards.models import Hazard, MajorHazardCriterion
from inspections import services, warnings
from inspections.answered import self_check_fingerprint
from inspections.choices import WarningKind
from inspections.models import Campaign, Exam, Inspection, PrincipalDutyLog, SelfCheckReport, WarningSettings
from portal.models import Person
from tests.conftest import Cast, World

D = dt.date
_seq = count()


@pytest.fixture
def criteria(db: None) -> list[MajorHazardCriterion]:
    return list(MajorHazardCriterion.objects.filter(mine_type="open_pit").order_by("number")[:2])


def _hazard(
    actor, enterprise, found: D, *, level: str = "major", source: str = "town_inspection", criterion=None
) -> Hazard:  # type: ignore[no-untyped-def]
    return hazard_services.hazard_report(
        actor=actor, enterprise=enterprise, level=level, description=f"隐患{next(_seq)}", category="slope",
        source=source, found_on=found, criterion=criterion if level == "major" else None,
    )  # fmt: skip


def _kinds(user, today: D, month: D | None = None, kind: str | None = None) -> list[warnings.Warning]:  # type: ignore[no-untyped-def]
    found = warnings.warnings_for(user=user, today=today, month=month)
    return [w for w in found if kind is None or w.kind == kind]


def _submit_report(cast: Cast, world: World, campaign: Campaign) -> SelfCheckReport:
    report = services.self_check_start(actor=cast.clerk, campaign=campaign, enterprise=world.enterprise_a)
    for row in report.answers.select_related("item"):
        if not row.answer:
            services.self_check_answer(actor=cast.clerk, report=report, item=row.item, answer="yes")
    return services.self_check_sign(
        actor=cast.principal, report=report, signer=cast.principal, fingerprint=self_check_fingerprint(report)
    )


# --- 自查自改走过场 ------------------------------------------------------------------------------

PERFUNCTORY = WarningKind.PERFUNCTORY_SELF_CHECK


def test_perfunctory_self_check_triggers(cast: Cast, world: World, campaign83: Campaign, criteria) -> None:  # type: ignore[no-untyped-def]
    report = _submit_report(cast, world, campaign83)
    found = _hazard(cast.town_a_staff, world.enterprise_a, D(2024, 5, 15), criterion=criteria[0])
    (warning,) = _kinds(cast.county_staff, D(2024, 6, 1), kind=PERFUNCTORY)
    assert warning.enterprise == world.enterprise_a and warning.on == found.found_on
    assert report.get_absolute_url() in [e.url for e in warning.evidence]
    assert any("镇检查发现" in e.text for e in warning.evidence)
    labels = [label for label, _url in warning.actions]
    assert "约谈主要负责人" in labels and "行政处罚" in labels
    assert all(f"enterprise={world.enterprise_a.pk}" in url for _label, url in warning.actions)
    # The town sees it; another county does not.
    assert _kinds(cast.town_a_staff, D(2024, 6, 1), kind=PERFUNCTORY)
    assert not _kinds(cast.town_b_staff, D(2024, 6, 1), kind=PERFUNCTORY)
    assert not _kinds(cast.other_county_staff, D(2024, 6, 1), kind=PERFUNCTORY)


def test_perfunctory_self_check_does_not_trigger(cast: Cast, world: World, campaign83: Campaign, criteria) -> None:  # type: ignore[no-untyped-def]
    # No signed report yet: a draft is not a self-check that missed something.
    draft = services.self_check_start(actor=cast.clerk, campaign=campaign83, enterprise=world.enterprise_a)
    _hazard(cast.town_a_staff, world.enterprise_a, D(2024, 5, 15), criterion=criteria[0])
    assert not _kinds(cast.county_staff, D(2024, 6, 1), kind=PERFUNCTORY)
    draft.delete()
    Hazard.objects.all().delete()
    report = _submit_report(cast, world, campaign83)
    # (a) attached to the report (attached before signing in real life; set here directly)
    attached = _hazard(cast.town_a_staff, world.enterprise_a, D(2024, 5, 15), criterion=criteria[0])
    report.hazards.add(attached)
    # (b) the enterprise reported a major hazard of the same 判定依据 itself, earlier
    _hazard(cast.clerk, world.enterprise_a, D(2024, 4, 10), source="self_check", criterion=criteria[1])
    _hazard(cast.town_a_staff, world.enterprise_a, D(2024, 5, 20), criterion=criteria[1])
    # (c) found after the campaign ended
    _hazard(cast.town_a_staff, world.enterprise_a, D(2024, 9, 10), criterion=criteria[0])
    # (d) a general hazard
    _hazard(cast.town_a_staff, world.enterprise_a, D(2024, 5, 16), level="general")
    # (e) found by the enterprise itself
    _hazard(cast.clerk, world.enterprise_a, D(2024, 5, 17), source="self_check", criterion=criteria[0])
    # (f) another enterprise, which filed no report
    _hazard(cast.town_a_staff, world.enterprise_a2, D(2024, 5, 15), criterion=criteria[0])
    assert not _kinds(cast.county_staff, D(2024, 10, 1), kind=PERFUNCTORY)


# --- 重大事故隐患长期存在 -----------------------------------------------------------------------

LONG = WarningKind.LONG_OPEN_MAJOR_HAZARD


def test_long_open_major_hazard(cast: Cast, world: World, criteria) -> None:  # type: ignore[no-untyped-def]
    old = _hazard(cast.town_a_staff, world.enterprise_a, D(2024, 1, 1), criterion=criteria[0])
    _hazard(cast.town_a_staff, world.enterprise_a2, D(2024, 2, 1), criterion=criteria[0])  # 43 days: not yet
    _hazard(cast.town_a_staff, world.enterprise_a, D(2023, 12, 1), level="general")  # general: never
    closed = _hazard(cast.town_a_staff, world.enterprise_a2, D(2023, 11, 1), criterion=criteria[1])
    Hazard.objects.filter(pk=closed.pk).update(status="closed", closed_on=D(2024, 1, 20))
    today = D(2024, 3, 15)
    (warning,) = _kinds(cast.county_staff, today, kind=LONG)
    assert warning.enterprise == world.enterprise_a and "74 天" in warning.title and "超过 60 天" in warning.title
    assert warning.on == old.found_on
    # A county that sets 90 days: nothing yet.
    WarningSettings.objects.create(county=world.county, long_open_major_hazard_days=90)
    assert not _kinds(cast.county_staff, today, kind=LONG)
    assert _kinds(cast.county_staff, D(2024, 4, 1), kind=LONG)  # 91 days
    # Exactly at the threshold is not "longer than".
    assert not _kinds(cast.county_staff, D(2024, 3, 31), kind=LONG)


# --- 同类重大事故隐患反复出现 -------------------------------------------------------------------

REPEATED = WarningKind.REPEATED_MAJOR_HAZARD


def test_repeated_major_hazard(cast: Cast, world: World, criteria) -> None:  # type: ignore[no-untyped-def]
    first = _hazard(cast.town_a_staff, world.enterprise_a, D(2024, 1, 10), criterion=criteria[0])
    Hazard.objects.filter(pk=first.pk).update(status="closed", closed_on=D(2024, 2, 1))  # even once closed
    again = _hazard(cast.town_a_staff, world.enterprise_a, D(2024, 11, 5), criterion=criteria[0])
    (warning,) = _kinds(cast.county_staff, D(2024, 11, 30), kind=REPEATED)
    assert warning.on == again.found_on and warning.enterprise == world.enterprise_a
    assert len(warning.evidence) == 2


def test_repeated_major_hazard_must_not_trigger(cast: Cast, world: World, criteria) -> None:  # type: ignore[no-untyped-def]
    _hazard(cast.town_a_staff, world.enterprise_a, D(2023, 1, 1), criterion=criteria[0])
    _hazard(cast.town_a_staff, world.enterprise_a, D(2024, 1, 2), criterion=criteria[0])  # 12 months and a day
    _hazard(cast.town_a_staff, world.enterprise_a, D(2024, 2, 1), criterion=criteria[1])  # another item
    _hazard(cast.town_a_staff, world.enterprise_a2, D(2024, 1, 5), criterion=criteria[0])  # another enterprise
    _hazard(cast.town_a_staff, world.enterprise_a, D(2024, 3, 1), level="general")
    assert not _kinds(cast.county_staff, D(2024, 6, 1), kind=REPEATED)
    # Exactly twelve months later still counts.
    _hazard(cast.town_a_staff, world.enterprise_a2, D(2025, 1, 5), criterion=criteria[0])
    assert len(_kinds(cast.county_staff, D(2025, 2, 1), kind=REPEATED)) == 1


# --- Quota misses ------------------------------------------------------------------------------

QUOTA = WarningKind.QUOTA_MISS


def _log(enterprise, person, month: D, days: list[int], **extra) -> PrincipalDutyLog:  # type: ignore[no-untyped-def]
    dates = [D(month.year, month.month, d).isoformat() for d in days]
    return PrincipalDutyLog.objects.create(
        enterprise=enterprise, person=person, month=month, on_site_dates=dates, **extra
    )


def test_duty_log_quota_misses(cast: Cast, world: World, campaign83: Campaign, principal_b: Person) -> None:
    principal_a = Person.objects.get(enterprise=world.enterprise_a, role="principal")
    may = D(2024, 5, 1)
    _log(
        world.enterprise_a,
        principal_a,
        may,
        [6, 7, 8, 9, 10],
        safety_meetings=1,
        major_hazard_investigation_on=D(2024, 5, 20),
    )
    full_days = [6, 7, 8, 9, 10, 11, 13, 14, 15, 16]  # 05-11 is a make-up Saturday
    _log(
        world.enterprise_b, principal_b, may, full_days, safety_meetings=1, major_hazard_investigation_on=D(2024, 5, 20)
    )
    found = _kinds(cast.county_staff, D(2024, 6, 10), month=may, kind=QUOTA)
    by_enterprise = {w.enterprise.name: w for w in found if w.enterprise is not None}
    assert set(by_enterprise) == {world.enterprise_a.name, world.enterprise_a2.name}
    assert "未达到指标" in by_enterprise[world.enterprise_a.name].title
    assert any("5 / 要求 10" in e.text for e in by_enterprise[world.enterprise_a.name].evidence)
    assert "未填报主要负责人履职台账" in by_enterprise[world.enterprise_a2.name].title
    # While the month is still running nothing is flagged.
    assert not _kinds(cast.county_staff, D(2024, 5, 31), month=may, kind=QUOTA)
    # A month outside every campaign: nothing.
    assert not _kinds(cast.county_staff, D(2024, 10, 10), month=D(2024, 9, 1), kind=QUOTA)
    # The clerk sees their own enterprise's miss only.
    mine = _kinds(cast.clerk, D(2024, 6, 10), month=may, kind=QUOTA)
    assert [w.enterprise for w in mine] == [world.enterprise_a]


def test_coverage_quota_misses(cast: Cast, world: World, campaign331: Campaign) -> None:
    december = D(2023, 12, 1)
    for enterprise in (world.enterprise_a,):
        Inspection.objects.create(
            enterprise=enterprise, unit=world.town_a, date=D(2023, 12, 5), method="random_check", leader="x"
        )
    Inspection.objects.create(
        enterprise=world.enterprise_b, unit=world.town_b, date=D(2023, 12, 6), method="random_check", leader="y"
    )
    found = [w for w in _kinds(cast.county_staff, D(2024, 1, 5), month=december, kind=QUOTA) if w.region is not None]
    titles = sorted(w.title for w in found)
    assert len(titles) == 2
    assert any(t.startswith("巴公镇（镇）2023年12月检查覆盖率 50.0%") for t in titles)
    assert any(t.startswith("泽州县（县局）2023年12月检查覆盖率 0.0%") for t in titles)
    # The county reaches 30% with one visit of three: no county warning any more.
    Inspection.objects.create(
        enterprise=world.enterprise_b, unit=world.county, date=D(2023, 12, 7), method="random_check", leader="z"
    )
    found = [w for w in _kinds(cast.county_staff, D(2024, 1, 5), month=december, kind=QUOTA) if w.region is not None]
    assert [w.region for w in found] == [world.town_a]
    # A town sees its own row only, never the county's.
    town_b = [w for w in _kinds(cast.town_b_staff, D(2024, 1, 5), month=december, kind=QUOTA) if w.region is not None]
    assert town_b == []


# --- 逢查必考补考不合格 -------------------------------------------------------------------------

RETAKE = WarningKind.EXAM_RETAKE_FAILED


def test_failed_retake_until_exposed(cast: Cast, world: World) -> None:
    principal = Person.objects.get(enterprise=world.enterprise_a, role="principal")
    first = services.exam_record(
        actor=cast.town_a_staff, enterprise=world.enterprise_a, person=principal, date=D(2024, 5, 1), score=Decimal(50)
    )
    assert not _kinds(cast.county_staff, D(2024, 5, 2), kind=RETAKE)  # a first failure: retake, no exposure
    retake = services.exam_record(
        actor=cast.town_a_staff, enterprise=world.enterprise_a, person=principal, date=D(2024, 5, 10),
        score=Decimal(60), retake_of=first,
    )  # fmt: skip
    (warning,) = _kinds(cast.county_staff, D(2024, 5, 11), kind=RETAKE)
    assert "建议调整主要负责人" in warning.title
    label, url = warning.actions[0]
    assert label == "登记通报曝光" and f"exam={retake.pk}" in url and "kind=exposure_principal" in url
    services.enforcement_record_create(
        actor=cast.town_a_staff, kind="exposure_principal", date=D(2024, 5, 12), enterprise=world.enterprise_a,
        exam=retake,
    )  # fmt: skip
    assert not _kinds(cast.county_staff, D(2024, 5, 13), kind=RETAKE)


def test_passed_retake_is_no_warning(cast: Cast, world: World) -> None:
    principal = Person.objects.get(enterprise=world.enterprise_a, role="principal")
    first = Exam.objects.create(
        enterprise=world.enterprise_a, person=principal, unit=world.town_a, date=D(2024, 5, 1), score=50
    )
    Exam.objects.create(
        enterprise=world.enterprise_a,
        person=principal,
        unit=world.town_a,
        date=D(2024, 5, 9),
        score=85,
        retake_of=first,
    )
    assert not _kinds(cast.county_staff, D(2024, 5, 13), kind=RETAKE)


def test_warning_page_lists_and_links_to_record(cast: Cast, world: World) -> None:
    from django.test import Client

    principal = Person.objects.get(enterprise=world.enterprise_a, role="principal")
    first = Exam.objects.create(
        enterprise=world.enterprise_a, person=principal, unit=world.town_a, date=D(2024, 5, 1), score=50
    )
    Exam.objects.create(
        enterprise=world.enterprise_a,
        person=principal,
        unit=world.town_a,
        date=D(2024, 5, 9),
        score=55,
        retake_of=first,
    )
    town = Client()
    town.force_login(cast.town_a_staff)
    body = town.get("/inspections/warnings/?kind=exam_retake_failed").content.decode()
    assert "逢查必考补考不合格" in body and "登记通报曝光" in body
    viewer = Client()
    viewer.force_login(cast.city_viewer)
    city_body = viewer.get("/inspections/warnings/").content.decode()
    assert "补考仍不合格" in city_body and "登记通报曝光" not in city_body  # reads, does not record
    other = Client()
    other.force_login(cast.other_county_staff)
    assert "补考仍不合格" not in other.get("/inspections/warnings/").content.decode()
