"""The one warnings engine: the new rules, the handling (warning_resolve), scope, the agreement of the
预警 page, the dashboard box and the API, and a query count that does not grow with the records."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from hazards.choices import HazardCategory, HazardLevel, HazardSource, HazardStatus
from hazards.models import Hazard, MajorHazardCriterion
from inspections import warning_services, warnings
from inspections.choices import (
    DeliverableKind,
    DeliverableSchedule,
    DeliverableSubmitter,
    EnforcementKind,
    WarningKind,
    WarningSeverity,
)
from inspections.models import Campaign, Deliverable, DeliverableSubmission, EnforcementRecord, WarningResolution
from portal.choices import AuditAction, PersonRole, ProductionStatus
from portal.models import AuditEvent, Enterprise
from tests.conftest import Cast, World
from tests.factories import EnterpriseFactory, PersonFactory

D = dt.date
_n = itertools.count(1)
OVERDUE = WarningKind.OVERDUE_HAZARD


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


def hazard(enterprise: Enterprise, *, deadline: dt.date | None, status: str = HazardStatus.RECTIFYING,
           level: str = HazardLevel.GENERAL, found_on: dt.date | None = None) -> Hazard:  # fmt: skip
    number = next(_n)
    fields: dict[str, Any] = {}
    if level == HazardLevel.MAJOR:
        fields["criterion"] = MajorHazardCriterion.objects.first()
    return Hazard.objects.create(
        enterprise=enterprise, ledger_number=f"W{number:05d}", identity_key=f"no:W{number:05d}",
        description=f"预警测试隐患{number}", category=HazardCategory.SLOPE, level=level,
        found_on=found_on or (deadline or timezone.localdate()) - dt.timedelta(days=30),
        source=HazardSource.TOWN_INSPECTION, status=status, current_deadline=deadline, **fields,
    )  # fmt: skip


def of(user: Any, today: dt.date, kind: str, **filters: Any) -> list[warnings.Warning]:
    return [w for w in warnings.warnings_for(user=user, today=today, kinds={kind}, **filters)]


# --- 隐患整改逾期 ---------------------------------------------------------------------------------


def test_overdue_hazard_fires_and_does_not(cast: Cast, world: World, today: dt.date) -> None:
    late = hazard(world.enterprise_a, deadline=today - dt.timedelta(days=3))
    major = hazard(world.enterprise_b, deadline=today - dt.timedelta(days=1), level=HazardLevel.MAJOR,
                   status=HazardStatus.CONFIRMED)  # fmt: skip
    hazard(world.enterprise_a, deadline=today)  # due today: not yet overdue
    hazard(world.enterprise_a, deadline=today - dt.timedelta(days=9), status=HazardStatus.RECTIFIED)  # done
    hazard(world.enterprise_a, deadline=today - dt.timedelta(days=9), level=HazardLevel.MAJOR,
           status=HazardStatus.DRAFT)  # not yet reported by the principal  # fmt: skip
    found = of(cast.county_staff, today, OVERDUE)
    assert {w.key for w in found} == {
        f"overdue_hazard:{late.pk}:{late.current_deadline:%Y-%m-%d}",
        f"overdue_hazard:{major.pk}:{major.current_deadline:%Y-%m-%d}",
    }
    by_key = {w.enterprise: w for w in found}
    assert by_key[world.enterprise_a].severity == WarningSeverity.MEDIUM
    assert by_key[world.enterprise_b].severity == WarningSeverity.HIGH
    first = by_key[world.enterprise_a]
    assert first.on == today - dt.timedelta(days=2) and "逾期 3 天" in first.title
    assert first.subject == world.enterprise_a.name
    assert first.url == reverse("hazards:hazard-detail", args=[late.pk])
    # Same rule as the hazard list's 逾期 filter.
    assert set(Hazard.objects.overdue(today).exclude(status=HazardStatus.DRAFT).values_list("pk", flat=True)) == {
        late.pk,
        major.pk,
    }


# --- 安全生产许可证 and certificates ------------------------------------------------------------------


def test_licence_expiry_by_window_and_production_status(cast: Cast, world: World, today: dt.date) -> None:
    def mine(days: int | None, status: str = ProductionStatus.PRODUCING) -> Enterprise:
        expiry = today + dt.timedelta(days=days) if days is not None else None
        return EnterpriseFactory(town=world.town_a, production_status=status, license_expiry=expiry)

    expired, soon, later, last = mine(-10), mine(20), mine(59), mine(90)
    quiet = [mine(91), mine(None), mine(-10, ProductionStatus.SUSPENDED), mine(5, ProductionStatus.CLOSED)]
    building = mine(-1, ProductionStatus.BUILDING)
    found = {w.enterprise.pk: w for w in of(cast.county_staff, today, WarningKind.LICENCE_EXPIRY) if w.enterprise}
    assert set(found) == {expired.pk, soon.pk, later.pk, last.pk, building.pk}
    assert not {e.pk for e in quiet} & set(found)
    assert found[expired.pk].severity == WarningSeverity.HIGH and "已于" in found[expired.pk].title
    assert found[expired.pk].on == expired.license_expiry
    assert found[soon.pk].severity == WarningSeverity.MEDIUM and "还有 20 天" in found[soon.pk].title
    assert found[later.pk].severity == WarningSeverity.LOW
    assert found[last.pk].on == today  # 90 days ahead: the warning starts today
    assert found[expired.pk].url == expired.get_absolute_url()


def test_certificate_expiry(cast: Cast, world: World, parent_company: Any, today: dt.date) -> None:
    expired = PersonFactory(
        enterprise=world.enterprise_a, name="证书过期人", role=PersonRole.SAFETY,
        certificate_type="安全管理人员证", certificate_expiry=today - dt.timedelta(days=1),
    )  # fmt: skip
    PersonFactory(enterprise=world.enterprise_a, name="证书有效人", role=PersonRole.SAFETY,
                  certificate_expiry=today + dt.timedelta(days=200))  # fmt: skip
    # A parent company's person is not at a mine; a suspended mine is not watched.
    company = parent_company.people.first()
    company.certificate_expiry = today - dt.timedelta(days=1)
    company.save()
    stopped = EnterpriseFactory(town=world.town_a, production_status=ProductionStatus.SUSPENDED)
    PersonFactory(enterprise=stopped, name="停产企业人", role=PersonRole.SAFETY,
                  certificate_expiry=today - dt.timedelta(days=1))  # fmt: skip
    (warning,) = of(cast.county_staff, today, WarningKind.CERTIFICATE_EXPIRY)
    assert warning.key == f"certificate_expiry:{expired.pk}:{expired.certificate_expiry:%Y-%m-%d}"
    assert "证书过期人" in warning.title and "安全管理人员证" in warning.title
    assert warning.severity == WarningSeverity.HIGH
    assert of(cast.clerk, today, WarningKind.CERTIFICATE_EXPIRY)  # the enterprise sees its own
    assert not of(cast.town_b_staff, today, WarningKind.CERTIFICATE_EXPIRY)


# --- 材料、报表逾期未报送 -------------------------------------------------------------------------------


@pytest.fixture
def running(world: World, today: dt.date) -> Campaign:
    campaign = Campaign.objects.create(
        name="预警测试行动", issuing_region=world.county, start_date=today - dt.timedelta(days=70),
        end_date=today + dt.timedelta(days=60),
    )  # fmt: skip
    return campaign


def test_late_deliverable_fires_for_missing_filings_only(cast: Cast, world: World, running: Campaign,
                                                        today: dt.date) -> None:  # fmt: skip
    due = today - dt.timedelta(days=5)
    Deliverable.objects.create(
        campaign=running, name="月度工作小结", submitter=DeliverableSubmitter.TOWN, recipients="县局",
        kind=DeliverableKind.UPLOAD, schedule=DeliverableSchedule.ONCE, due_date=due,
    )  # fmt: skip
    deliverable = running.deliverables.get()
    Deliverable.objects.create(
        campaign=running, name="下月计划", submitter=DeliverableSubmitter.TOWN, recipients="县局",
        kind=DeliverableKind.UPLOAD, schedule=DeliverableSchedule.ONCE, due_date=today + dt.timedelta(days=3),
    )  # not yet due  # fmt: skip
    DeliverableSubmission.objects.create(
        deliverable=deliverable, town=world.town_a, due_date=due, content="已报",
        submitted_at=timezone.now() - dt.timedelta(days=6),
    )  # fmt: skip
    (warning,) = of(cast.county_staff, today, WarningKind.LATE_DELIVERABLE)
    assert warning.region == world.town_b and warning.subject == "高都镇"
    assert "月度工作小结" in warning.title and "逾期 5 天" in warning.title
    assert warning.url == reverse("inspections:deliverable-matrix", args=[running.pk])
    assert warning.key == f"late_deliverable:{deliverable.pk}:t{world.town_b.pk}:{due:%Y-%m-%d}"
    assert of(cast.town_b_staff, today, WarningKind.LATE_DELIVERABLE)
    assert not of(cast.town_a_staff, today, WarningKind.LATE_DELIVERABLE)
    assert not of(cast.clerk, today, WarningKind.LATE_DELIVERABLE)  # a town's filing is not the enterprise's
    assert not of(cast.other_county_staff, today, WarningKind.LATE_DELIVERABLE)


# --- Scope, filters --------------------------------------------------------------------------------


def test_scope_per_role_and_filters(cast: Cast, world: World, today: dt.date) -> None:
    a = hazard(world.enterprise_a, deadline=today - dt.timedelta(days=2))
    b = hazard(world.enterprise_b, deadline=today - dt.timedelta(days=2))
    other = hazard(world.enterprise_other, deadline=today - dt.timedelta(days=2))

    def seen(user: Any, **filters: Any) -> set[int]:
        return {int(w.key.split(":")[1]) for w in of(user, today, OVERDUE, **filters)}

    assert seen(cast.clerk) == seen(cast.principal) == {a.pk}
    assert seen(cast.town_a_staff) == {a.pk}
    assert seen(cast.town_b_staff) == {b.pk}
    assert seen(cast.county_staff) == seen(cast.county_leader) == seen(cast.city_viewer) == {a.pk, b.pk}
    assert seen(cast.other_county_staff) == seen(cast.other_clerk) == {other.pk}
    assert seen(cast.county_staff, region=world.town_b) == {b.pk}
    assert seen(cast.county_staff, enterprise=world.enterprise_a) == {a.pk}
    # Filters narrow, never widen: another county's region gives nothing.
    assert seen(cast.county_staff, region=world.other_county) == set()


# --- The page, the dashboard box and the API agree (the reproduced bug) ---------------------------


def test_dashboard_page_and_api_agree(cast: Cast, world: World, today: dt.date) -> None:
    for days in (1, 2, 3, 4, 5):
        hazard(world.enterprise_a if days % 2 else world.enterprise_b, deadline=today - dt.timedelta(days=days))
    hazard(world.enterprise_other, deadline=today - dt.timedelta(days=1))
    for user, region, expected in (
        (cast.county_staff, world.county, 5),
        (cast.town_a_staff, world.town_a, 3),
        (cast.town_b_staff, world.town_b, 2),
    ):
        client = Client()
        client.force_login(user)
        dashboard = client.get(reverse("reporting:dashboard"), {"region": region.code}).context["data"]
        box = {row["kind"]: row for row in dashboard.warnings}
        assert box[OVERDUE]["count"] == expected
        page = client.get(box[OVERDUE]["url"])
        assert page.status_code == 200
        assert len(page.context["warnings"]) == expected
        assert page.context["open_counts"][OVERDUE] == expected
        assert "没有预警" not in page.content.decode()
        api = APIClient()
        api.force_authenticate(user)
        rows = api.get("/api/v1/warnings/", {"kind": OVERDUE, "region": region.code, "open": "true"}).json()
        assert len(rows) == expected and all(r["kind"] == OVERDUE for r in rows)
        # Every kind of the box agrees with the page's counts.
        assert {k: row["count"] for k, row in box.items()} == client.get(
            reverse("inspections:warning-list"), {"region": region.code}
        ).context["open_counts"]


def test_filters_out_of_scope_are_404_and_logged(cast: Cast, world: World) -> None:
    client = Client()
    client.force_login(cast.town_a_staff)
    before = AuditEvent.objects.filter(action=AuditAction.DENIED).count()
    assert client.get(reverse("inspections:warning-list"), {"region": world.town_b.code}).status_code == 404
    assert client.get(reverse("inspections:warning-list"), {"enterprise": world.enterprise_b.pk}).status_code == 404
    api = APIClient()
    api.force_authenticate(cast.town_a_staff)
    assert api.get("/api/v1/warnings/", {"enterprise": world.enterprise_b.pk}).status_code == 404
    assert AuditEvent.objects.filter(action=AuditAction.DENIED).count() == before + 3


# --- What was done about it --------------------------------------------------------------------------


def test_warning_resolve_with_note_and_record(cast: Cast, world: World, today: dt.date) -> None:
    h = hazard(world.enterprise_a, deadline=today - dt.timedelta(days=2))
    key = f"overdue_hazard:{h.pk}:{h.current_deadline:%Y-%m-%d}"
    resolution = warning_services.warning_resolve(actor=cast.town_a_staff, key=key, note="已督促整改")
    assert resolution.region == world.town_a and resolution.enterprise == world.enterprise_a
    event = AuditEvent.objects.filter(object_id=str(resolution.pk), action=AuditAction.CREATE).get()
    assert "预警已处理" in event.detail
    found = warnings.warnings_for(user=cast.county_staff, today=today, kinds={OVERDUE})
    (warning,) = found
    assert warning.resolution == resolution and not warning.is_open
    assert found.counts[OVERDUE] == 1 and found.open_counts[OVERDUE] == 0
    # Linked to an interview of the same enterprise (replaces the note, audited as an update).
    talk = EnforcementRecord.objects.create(kind=EnforcementKind.INTERVIEW_PRINCIPAL, issuing_unit=world.town_a,
                                            date=today, enterprise=world.enterprise_a)  # fmt: skip
    again = warning_services.warning_resolve(actor=cast.county_staff, key=key, record=talk)
    assert again.pk == resolution.pk and again.record == talk and again.note == ""
    assert AuditEvent.objects.filter(object_id=str(resolution.pk), action=AuditAction.UPDATE).exists()
    assert WarningResolution.objects.count() == 1


def test_warning_resolve_refusals_change_nothing(cast: Cast, world: World, today: dt.date) -> None:
    h = hazard(world.enterprise_a, deadline=today - dt.timedelta(days=2))
    key = f"overdue_hazard:{h.pk}:{h.current_deadline:%Y-%m-%d}"
    other_talk = EnforcementRecord.objects.create(kind=EnforcementKind.INTERVIEW_PRINCIPAL,
                                                  issuing_unit=world.town_b, date=today,
                                                  enterprise=world.enterprise_b)  # fmt: skip
    with pytest.raises(PermissionDenied):
        warning_services.warning_resolve(actor=cast.clerk, key=key, note="自己处理")
    with pytest.raises(PermissionDenied):
        warning_services.warning_resolve(actor=cast.city_viewer, key=key, note="市局")
    with pytest.raises(ValidationError, match="不在您的辖区内"):
        warning_services.warning_resolve(actor=cast.town_b_staff, key=key, note="外镇")
    with pytest.raises(ValidationError, match="不在您的辖区内"):
        warning_services.warning_resolve(actor=cast.town_a_staff, key="overdue_hazard:999999:2020-01-01", note="x")
    with pytest.raises(ValidationError, match="请填写处理情况"):
        warning_services.warning_resolve(actor=cast.town_a_staff, key=key, note="  ")
    with pytest.raises(ValidationError, match="所涉企业"):
        warning_services.warning_resolve(actor=cast.county_staff, key=key, record=other_talk)
    assert not WarningResolution.objects.exists()


def test_resolve_through_page_and_api(cast: Cast, world: World, today: dt.date) -> None:
    h = hazard(world.enterprise_a, deadline=today - dt.timedelta(days=2))
    key = f"overdue_hazard:{h.pk}:{h.current_deadline:%Y-%m-%d}"
    clerk = Client()
    clerk.force_login(cast.clerk)
    clerk.post(reverse("inspections:warning-resolve"), {"key": key, "note": "企业自称已处理"})
    assert not WarningResolution.objects.exists()
    town = Client()
    town.force_login(cast.town_a_staff)
    page = town.get(reverse("inspections:warning-list")).content.decode()
    assert "登记处理情况" in page and key in page
    response = town.post(reverse("inspections:warning-resolve"), {"key": key, "note": "已约谈整改", "next": "/x/"})
    assert response.status_code == 302 and response["Location"] == "/x/"
    assert WarningResolution.objects.get().note == "已约谈整改"
    body = town.get(reverse("inspections:warning-list")).content.decode()
    assert "已处理" in body and "已约谈整改" in body
    api = APIClient()
    api.force_authenticate(cast.town_b_staff)
    assert api.post("/api/v1/warnings/resolve/", {"key": key, "note": "外镇"}, format="json").status_code == 400
    api.force_authenticate(cast.clerk)
    assert api.post("/api/v1/warnings/resolve/", {"key": key, "note": "企业"}, format="json").status_code == 403
    api.force_authenticate(cast.county_staff)
    answer = api.post("/api/v1/warnings/resolve/", {"key": key, "note": "县局复核"}, format="json")
    assert answer.status_code == 200 and answer.json()["resolution"]["note"] == "县局复核"
    assert WarningResolution.objects.get().note == "县局复核"


# --- Query counts ------------------------------------------------------------------------------------


def _records(world: World, today: dt.date, n: int) -> None:
    for i in range(n):
        enterprise = EnterpriseFactory(town=world.town_a if i % 2 else world.town_b,
                                       license_expiry=today + dt.timedelta(days=i % 100 - 10))  # fmt: skip
        PersonFactory(enterprise=enterprise, role=PersonRole.SAFETY,
                      certificate_expiry=today + dt.timedelta(days=i % 100 - 20))  # fmt: skip
        hazard(enterprise, deadline=today - dt.timedelta(days=i + 1))
        hazard(enterprise, deadline=today - dt.timedelta(days=i + 1), level=HazardLevel.MAJOR,
               status=HazardStatus.CONFIRMED, found_on=today - dt.timedelta(days=200 + i))  # fmt: skip


def test_query_count_does_not_grow_with_records(
    cast: Cast, world: World, running: Campaign, today: dt.date, django_assert_num_queries: Any
) -> None:
    Deliverable.objects.create(
        campaign=running, name="月度工作小结", submitter=DeliverableSubmitter.TOWN, recipients="县局",
        kind=DeliverableKind.UPLOAD, schedule=DeliverableSchedule.MONTHLY, day_of_month=1,
    )  # fmt: skip
    _records(world, today, 3)
    with CaptureQueriesContext(connection) as small:
        few = warnings.warnings_for(user=cast.county_staff, today=today)
    first = next(w for w in few if w.kind == OVERDUE)
    warning_services.warning_resolve(actor=cast.county_staff, key=first.key, note="已处理")
    _records(world, today, 12)
    with django_assert_num_queries(len(small.captured_queries)):
        many = warnings.warnings_for(user=cast.county_staff, today=today)
    assert many.counts[OVERDUE] == 30 and many.open_counts[OVERDUE] == 29
    assert many.counts[WarningKind.LICENCE_EXPIRY] > few.counts[WarningKind.LICENCE_EXPIRY]
    assert many.counts[WarningKind.LATE_DELIVERABLE] == few.counts[WarningKind.LATE_DELIVERABLE] > 0


def test_warning_counts_equal_the_evaluated_warnings(
    cast: Cast, world: World, running: Campaign, today: dt.date, django_assert_num_queries: Any
) -> None:
    Deliverable.objects.create(
        campaign=running, name="月度工作小结", submitter=DeliverableSubmitter.TOWN, recipients="县局",
        kind=DeliverableKind.UPLOAD, schedule=DeliverableSchedule.MONTHLY, day_of_month=1,
    )  # fmt: skip
    _records(world, today, 6)
    found = warnings.warnings_for(user=cast.county_staff, today=today)
    by_kind = {kind: [w for w in found if w.kind == kind] for kind in (OVERDUE, WarningKind.LICENCE_EXPIRY)}
    for warning in (*by_kind[OVERDUE][:2], by_kind[WarningKind.LICENCE_EXPIRY][0]):
        warning_services.warning_resolve(actor=cast.county_staff, key=warning.key, note="已处理")
    # A handled overdue hazard given a new deadline that passes again is a new warning: open again.
    moved = Hazard.objects.get(pk=int(by_kind[OVERDUE][0].key.split(":")[1]))
    assert moved.current_deadline != today - dt.timedelta(days=40)
    Hazard.objects.filter(pk=moved.pk).update(current_deadline=today - dt.timedelta(days=40))
    for user in (cast.county_staff, cast.town_a_staff, cast.clerk, cast.other_county_staff):
        for filters in ({}, {"region": world.town_b}, {"enterprise": world.enterprise_a}):
            if user == cast.town_a_staff and filters.get("region") == world.town_b:
                continue  # out of scope: the page answers 404 before asking
            full = warnings.warnings_for(user=user, today=today, **filters)
            counts = warnings.warning_counts(user=user, today=today, **filters)
            assert counts.total == full.counts and counts.open == full.open_counts, (user, filters)
    counts = warnings.warning_counts(user=cast.county_staff, today=today)
    assert counts.total[OVERDUE] == 12 and counts.open[OVERDUE] == 11
    assert counts.open[WarningKind.LICENCE_EXPIRY] == counts.total[WarningKind.LICENCE_EXPIRY] - 1
    with CaptureQueriesContext(connection) as few:
        warnings.warning_counts(user=cast.county_staff, today=today)
    _records(world, today, 10)
    with django_assert_num_queries(len(few.captured_queries)):
        warnings.warning_counts(user=cast.county_staff, today=today)


def test_resolution_note_is_shown_escaped(cast: Cast, world: World, today: dt.date) -> None:
    h = hazard(world.enterprise_a, deadline=today - dt.timedelta(days=2))
    key = f"overdue_hazard:{h.pk}:{h.current_deadline:%Y-%m-%d}"
    warning_services.warning_resolve(actor=cast.town_a_staff, key=key, note='<script>alert(1)</script>"><img src=x>')
    client = Client()
    client.force_login(cast.county_leader)
    html = client.get(reverse("inspections:warning-list")).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "登记处理情况" not in html and "修改处理情况" not in html  # the leader reads, does not record


def test_late_enterprise_filing_is_the_enterprise_warning(cast: Cast, world: World, running: Campaign,
                                                          today: dt.date) -> None:  # fmt: skip
    due = today - dt.timedelta(days=2)
    deliverable = Deliverable.objects.create(
        campaign=running, name="企业自查自改报告", submitter=DeliverableSubmitter.ENTERPRISE, recipients="镇和县局",
        kind=DeliverableKind.UPLOAD, schedule=DeliverableSchedule.ONCE, due_date=due,
    )  # fmt: skip
    DeliverableSubmission.objects.create(
        deliverable=deliverable, enterprise=world.enterprise_a2, due_date=due, content="已报",
        submitted_at=timezone.now() - dt.timedelta(days=3),
    )  # fmt: skip
    stopped = EnterpriseFactory(town=world.town_a, production_status=ProductionStatus.SUSPENDED)

    def subjects(user: Any) -> set[int]:
        return {w.enterprise.pk for w in of(user, today, WarningKind.LATE_DELIVERABLE) if w.enterprise}

    assert subjects(cast.county_staff) == {world.enterprise_a.pk, world.enterprise_b.pk}  # a2 filed, stopped is out
    assert stopped.pk not in subjects(cast.county_staff)
    assert subjects(cast.clerk) == {world.enterprise_a.pk}
    assert subjects(cast.town_b_staff) == {world.enterprise_b.pk}
    assert subjects(cast.other_clerk) == set()
    (warning,) = of(cast.clerk, today, WarningKind.LATE_DELIVERABLE)
    assert warning.key == f"late_deliverable:{deliverable.pk}:e{world.enterprise_a.pk}:{due:%Y-%m-%d}"
    assert [label for label, _ in warning.actions] == ["约谈主要负责人", "约谈企业", "行政处罚"]


def test_page_is_paged_and_counts_all(cast: Cast, world: World, today: dt.date) -> None:
    for days in range(1, 36):
        hazard(world.enterprise_a, deadline=today - dt.timedelta(days=days))
    client = Client()
    client.force_login(cast.county_staff)
    first = client.get(reverse("inspections:warning-list"), {"kind": OVERDUE})
    assert len(first.context["warnings"]) == 30 and first.context["open_counts"][OVERDUE] == 35
    assert "第 1 / 2 页，共 35 条" in first.content.decode()
    second = client.get(reverse("inspections:warning-list"), {"kind": OVERDUE, "page": 2})
    assert len(second.context["warnings"]) == 5
    keys = {w.key for w in first.context["warnings"]} | {w.key for w in second.context["warnings"]}
    assert len(keys) == 35
