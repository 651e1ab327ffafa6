"""SPEC §7 for the web pages: an object of another county, town or enterprise is a 404, and the attempt is logged.

Every URL pattern of the web pages that takes an object id or a region code (walked from the URLconf, so a
new one without a case here fails `test_every_object_url_has_a_case`) is requested

- as a user of another scope, for a real object on side A (巴公镇 / 泽州县, see matrix_world): 404, and
  exactly one 越权访问 audit row naming that object and that user;
- for an id or code that does not exist: 404, and no audit row;
- as a user whose scope holds the object: not a 404 (and no audit row).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.db import models
from django.http import Http404
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from hazards.models import HazardEvidence, LedgerUpload
from inspections.models import (
    DeliverableSubmission,
    EnforcementAttachment,
    EnforcementRecord,
    Inspection,
    InspectionPhoto,
    PrincipalDutyLog,
    SelfCheckEvidence,
    SelfCheckReport,
)
from portal.choices import AuditAction
from portal.models import ApiToken, AuditEvent, Enterprise, Region
from reporting.choices import VersionStatus
from reporting.models import ExportJob, Report, ReportVersion
from tests.conftest import Cast, World
from tests.security import matrix_world as mw

MISSING_ID = 987654321
MISSING_CODE = "149999999"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


@dataclass(frozen=True)
class Target:
    kwargs: dict[str, Any]  # the URL's arguments
    obj: models.Model  # the object the 404 must name in the audit row
    key: str  # the argument that names it (replaced by a missing id or code)


@dataclass(frozen=True)
class Case:
    url_name: str
    build: Callable[[mw.Ctx], Target]
    intruders: tuple[str, ...]  # users of another scope (Cast attribute names)
    insider: str  # a user whose scope holds the object
    method: str = "get"
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.url_name}[{self.label}]" if self.label else self.url_name


# --- Builders (side A objects) -------------------------------------------------------------------------


def _enterprise(ctx: mw.Ctx) -> Target:
    return Target({"pk": ctx.world.enterprise_a.pk}, ctx.world.enterprise_a, "pk")


def _api_token(ctx: mw.Ctx) -> Target:
    """An API token of county staff: only its owner sees it (admins of the same county included, not)."""
    token = ApiToken.objects.get(pk=mw.own_token(ctx, "A")["id"])
    return Target({"pk": token.pk}, token, "pk")


def _account(ctx: mw.Ctx) -> Target:
    return Target({"pk": ctx.cast.town_a_staff.pk}, ctx.cast.town_a_staff, "pk")


def _hazard(ctx: mw.Ctx) -> Target:
    pk = mw.general_reported(ctx, "A")["id"]
    from hazards.models import Hazard

    return Target({"pk": pk}, Hazard.objects.get(pk=pk), "pk")


def _hazard_step(ctx: mw.Ctx) -> Target:
    target = _hazard(ctx)
    return Target({**target.kwargs, "step": "sign"}, target.obj, "pk")


def _evidence(ctx: mw.Ctx) -> Target:
    pk = mw.hazard_with_evidence(ctx, "A")["id"]
    return Target({"pk": pk}, HazardEvidence.objects.get(pk=pk), "pk")


def _ledger_upload(ctx: mw.Ctx) -> Target:
    pk = mw.ledger_upload(ctx, "A")["id"]
    return Target({"pk": pk}, LedgerUpload.objects.get(pk=pk), "pk")


def _campaign(ctx: mw.Ctx) -> Target:
    return Target({"pk": ctx.campaign["A"].pk}, ctx.campaign["A"], "pk")


def _campaign_page(ctx: mw.Ctx) -> Target:
    return Target({"campaign_pk": ctx.campaign["A"].pk}, ctx.campaign["A"], "campaign_pk")


def _submission_form(ctx: mw.Ctx) -> Target:
    deliverable = mw.town_deliverable(ctx, "A")["id"]
    campaign = ctx.campaign["A"]
    return Target({"campaign_pk": campaign.pk, "deliverable_pk": deliverable}, campaign, "campaign_pk")


def _self_check(ctx: mw.Ctx) -> Target:
    pk = mw.self_check(ctx, "A")["id"]
    return Target({"pk": pk}, SelfCheckReport.objects.get(pk=pk), "pk")


def _self_check_item(ctx: mw.Ctx) -> Target:
    obj = mw.self_check(ctx, "A")
    return Target({"pk": obj["id"], "item_pk": obj["item"]}, SelfCheckReport.objects.get(pk=obj["id"]), "pk")


def _enforcement(ctx: mw.Ctx) -> Target:
    pk = mw.enforcement_record(ctx, "A")["id"]
    return Target({"pk": pk}, EnforcementRecord.objects.get(pk=pk), "pk")


def _inspection(ctx: mw.Ctx) -> Target:
    pk = mw.inspection(ctx, "A")["id"]
    return Target({"pk": pk}, Inspection.objects.get(pk=pk), "pk")


def _duty_log(ctx: mw.Ctx) -> Target:
    pk = mw.duty_log(ctx, "A")["id"]
    return Target({"pk": pk}, PrincipalDutyLog.objects.get(pk=pk), "pk")


def _stored(model: type[models.Model], name: str, **fields: Any) -> models.Model:
    obj = model(original_name=name, **fields)
    obj.file.save(name, ContentFile(PNG), save=False)  # type: ignore[attr-defined]
    obj.save()
    return obj


def _file_enforcement(ctx: mw.Ctx) -> Target:
    record = EnforcementRecord.objects.get(pk=mw.enforcement_record(ctx, "A")["id"])
    obj = _stored(EnforcementAttachment, "约谈记录.png", record=record, uploaded_by=ctx.cast.town_a_staff)
    return Target({"kind": "enforcement", "pk": obj.pk}, obj, "pk")


def _file_photo(ctx: mw.Ctx) -> Target:
    inspection = Inspection.objects.get(pk=mw.inspection(ctx, "A")["id"])
    obj = _stored(InspectionPhoto, "现场.png", inspection=inspection, uploaded_by=ctx.cast.town_a_staff)
    return Target({"kind": "photo", "pk": obj.pk}, obj, "pk")


def _file_evidence(ctx: mw.Ctx) -> Target:
    report = SelfCheckReport.objects.get(pk=mw.self_check(ctx, "A")["id"])
    answer = report.answers.order_by("id").first()
    obj = _stored(SelfCheckEvidence, "佐证.png", answer=answer, uploaded_by=ctx.cast.clerk)
    return Target({"kind": "evidence", "pk": obj.pk}, obj, "pk")


def _file_submission(ctx: mw.Ctx) -> Target:
    submission = DeliverableSubmission.objects.get(pk=mw.submission(ctx, "A")["id"])
    submission.original_name = "报送.png"
    submission.file.save("报送.png", ContentFile(PNG), save=True)
    return Target({"kind": "submission", "pk": submission.pk}, submission, "pk")


def _signed_version(ctx: mw.Ctx) -> Target:
    report = Report.objects.get(pk=mw.report(ctx, "A")["id"])
    now = timezone.now()
    version = ReportVersion(
        report=report, number=1, status=VersionStatus.SIGNED, fingerprint="0" * 64, computed_at=now, signed_at=now,
        signed_by=ctx.cast.county_staff, xlsx_sha256="0" * 64, pdf_sha256="0" * 64,
    )  # fmt: skip
    version.xlsx_file.save("v1.xlsx", ContentFile(b"PK\x03\x04"), save=False)
    version.pdf_file.save("v1.pdf", ContentFile(b"%PDF-1.7"), save=False)
    version.save()
    return Target({"pk": version.pk, "file_format": "xlsx"}, version, "pk")


def _export_job(ctx: mw.Ctx) -> Target:
    job = ExportJob.objects.get(pk=mw.export_job(ctx, "A")["id"])
    job.file.save("draft.xlsx", ContentFile(b"PK\x03\x04"), save=True)
    return Target({"pk": job.pk}, job, "pk")


def _table(ctx: mw.Ctx) -> Target:
    return Target(
        {"kind": "accountability", "code": ctx.world.county.code, "month": mw.MONTH}, ctx.world.county, "code"
    )


def _cell(ctx: mw.Ctx) -> Target:
    target = _table(ctx)
    return Target({**target.kwargs, "key": "talk_enterprise"}, target.obj, "code")


# Intruders: another county (always), another town of the same county, another enterprise (where the
# object is one an enterprise account sees at all).
REGION = ("other_county_staff", "town_b_staff")
ENTERPRISE_SEEN = ("other_county_staff", "town_b_staff", "other_clerk")

CASES: list[Case] = [
    Case("device-revoke", _api_token, ("county_leader", "admin", "other_county_staff"), "county_staff", method="post"),
    Case("otp-reset", _account, REGION, "admin"),
    Case("enterprise-detail", _enterprise, ENTERPRISE_SEEN, "county_staff"),
    Case("enterprise-edit", _enterprise, ENTERPRISE_SEEN, "county_staff"),
    Case("hazards:hazard-detail", _hazard, ENTERPRISE_SEEN, "clerk"),
    Case("hazards:hazard-step", _hazard_step, ENTERPRISE_SEEN, "principal", method="post"),
    Case("hazards:evidence-download", _evidence, ENTERPRISE_SEEN, "clerk"),
    Case("hazards:ledger-upload-detail", _ledger_upload, ENTERPRISE_SEEN, "clerk"),
    Case("hazards:ledger-upload-confirm", _ledger_upload, ENTERPRISE_SEEN, "clerk", method="post"),
    Case("hazards:ledger-upload-file", _ledger_upload, ENTERPRISE_SEEN, "clerk"),
    Case("inspections:campaign-detail", _campaign, ("other_county_staff", "other_clerk"), "county_staff"),
    Case("inspections:self-check-list", _campaign_page, ("other_county_staff", "other_clerk"), "county_staff"),
    Case("inspections:progress-list", _campaign_page, ("other_county_staff", "other_clerk"), "county_staff"),
    Case("inspections:deliverable-matrix", _campaign_page, ("other_county_staff", "other_clerk"), "county_staff"),
    Case("inspections:submission-create", _submission_form, ("other_county_staff",), "town_a_staff"),
    Case("inspections:self-check-detail", _self_check, ENTERPRISE_SEEN, "clerk"),
    Case("inspections:self-check-answer", _self_check_item, ENTERPRISE_SEEN, "clerk", method="post"),
    Case("inspections:self-check-evidence", _self_check_item, ENTERPRISE_SEEN, "clerk", method="post"),
    Case("inspections:self-check-summary", _self_check, ENTERPRISE_SEEN, "clerk", method="post"),
    Case("inspections:self-check-sign", _self_check, ENTERPRISE_SEEN, "principal", method="post"),
    Case("inspections:enforcement-detail", _enforcement, REGION, "county_staff"),
    Case("inspections:enforcement-edit", _enforcement, REGION, "county_staff"),
    Case("inspections:enforcement-attachment-add", _enforcement, REGION, "county_staff", method="post"),
    Case("inspections:enforcement-delete", _enforcement, REGION, "county_staff", method="post"),
    Case("inspections:inspection-detail", _inspection, REGION, "county_staff"),
    Case("inspections:inspection-edit", _inspection, REGION, "county_staff"),
    Case("inspections:inspection-photo-add", _inspection, REGION, "county_staff", method="post"),
    Case("inspections:inspection-hazard-add", _inspection, REGION, "county_staff", method="post"),
    Case("inspections:inspection-delete", _inspection, REGION, "county_staff", method="post"),
    Case("inspections:duty-log-edit", _duty_log, ENTERPRISE_SEEN, "clerk"),
    Case("inspections:file", _file_enforcement, REGION, "county_staff", label="enforcement"),
    Case("inspections:file", _file_photo, REGION, "county_staff", label="photo"),
    Case("inspections:file", _file_evidence, ENTERPRISE_SEEN, "clerk", label="evidence"),
    Case("inspections:file", _file_submission, REGION, "county_staff", label="submission"),
    Case("reporting:version-file", _signed_version, REGION, "county_staff"),
    Case("reporting:export", _export_job, REGION, "county_staff"),
    Case("reporting:export-file", _export_job, REGION, "county_staff"),
    Case("reporting:table", _table, REGION, "county_staff"),
    Case("reporting:act", _table, REGION, "county_staff", method="post"),
    Case("reporting:cell", _cell, REGION, "county_staff"),
]

# Web patterns with arguments that name no object of a scope.
NOT_OBJECT_URLS: set[str] = set()


def _object_url_names() -> set[str]:
    """The names of the web URL patterns that take an argument (the admin and the API are checked elsewhere)."""
    found: set[str] = set()

    def walk(patterns: Any, namespace: str, prefix: str) -> Iterator[None]:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                route = prefix + str(entry.pattern)
                if entry.namespace == "admin" or route.startswith("api/"):
                    continue
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                yield from walk(entry.url_patterns, inner, route)
            elif isinstance(entry, URLPattern) and entry.pattern.converters and entry.name:  # type: ignore[attr-defined]
                found.add(f"{namespace}{entry.name}")
        yield None

    list(walk(get_resolver().url_patterns, "", ""))
    return found


def test_every_object_url_has_a_case() -> None:
    names = _object_url_names()
    assert len(names) >= 30  # the walk itself works
    covered = {case.url_name for case in CASES}
    assert names - covered - NOT_OBJECT_URLS == set(), "web URL patterns with an object argument and no denial case"
    assert covered - names == set(), "cases for URL patterns that no longer exist"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _request(client: Client, case: Case, kwargs: dict[str, Any]) -> Any:
    url = reverse(case.url_name, kwargs=kwargs)
    return client.post(url) if case.method == "post" else client.get(url)


def _denials() -> Any:
    return AuditEvent.objects.filter(action=AuditAction.DENIED)


def _missing(target: Target) -> dict[str, Any]:
    value = target.kwargs[target.key]
    if isinstance(value, uuid.UUID):
        missing: Any = uuid.uuid4()
    elif target.key == "code":
        missing = MISSING_CODE
    else:
        missing = MISSING_ID
    return {**target.kwargs, target.key: missing}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_another_scope_is_404_and_logged(case: Case, world: World, cast: Cast) -> None:
    ctx = mw.build_context(world, cast)
    target = case.build(ctx)
    target_type = str(target.obj._meta.verbose_name)

    for name in case.intruders:
        intruder = getattr(cast, name)
        before = _denials().count()
        response = _request(_client(intruder), case, target.kwargs)
        assert response.status_code == 404, (name, response.status_code)
        logged = _denials().filter(actor=intruder, object_type=target_type, object_id=str(target.obj.pk))
        assert logged.count() == 1, name
        assert _denials().count() == before + 1, name
        event = logged.get()
        assert event.detail == f"{case.method.upper()} {reverse(case.url_name, kwargs=target.kwargs)}"
        assert event.actor_name == intruder.username

    before = _denials().count()
    response = _request(_client(getattr(cast, case.intruders[0])), case, _missing(target))
    assert response.status_code == 404
    assert _denials().count() == before, "a missing object is not an attempt on another scope"

    response = _request(_client(getattr(cast, case.insider)), case, target.kwargs)
    assert response.status_code != 404, (case.insider, response.status_code)
    assert _denials().count() == before


# --- Drill-downs and choices by query parameter ----------------------------------------------------


def test_query_parameter_lookups_of_another_scope_are_logged(world: World, cast: Cast) -> None:
    ctx = mw.build_context(world, cast)
    intruder = _client(cast.other_county_staff)
    campaign = ctx.campaign["A"]
    checks: list[tuple[str, models.Model]] = [
        (f"{reverse('inspections:coverage')}?campaign={campaign.pk}", campaign),
        (f"{reverse('inspections:coverage')}?county={world.county.code}", world.county),
        (f"{reverse('reporting:dashboard')}?region={world.county.code}", world.county),
        (f"{reverse('reporting:dashboard-hazards')}?region={world.town_a.code}", world.town_a),
        (f"{reverse('hazards:ledger-template')}?enterprise={world.enterprise_a.pk}", world.enterprise_a),
    ]
    for url, obj in checks:
        before = _denials().count()
        assert intruder.get(url).status_code == 404, url
        assert _denials().count() == before + 1, url
        assert _denials().filter(object_id=str(obj.pk), actor=cast.other_county_staff).exists(), url
    # the enterprise a ledger is uploaded for, chosen from another scope
    before = _denials().count()
    response = _client(cast.other_clerk).post(reverse("hazards:ledger-upload"), mw.ledger_payload(ctx, "A", {}))
    assert response.status_code == 404
    assert _denials().filter(actor=cast.other_clerk, object_id=str(world.enterprise_a.pk)).count() == 1
    assert _denials().count() == before + 1
    # in scope, and a missing one: nothing logged
    own = _client(cast.county_staff)
    assert own.get(f"{reverse('inspections:coverage')}?campaign={campaign.pk}").status_code == 200
    assert own.get(f"{reverse('reporting:dashboard')}?region={world.county.code}").status_code == 200
    assert intruder.get(f"{reverse('reporting:dashboard')}?region={MISSING_CODE}").status_code == 404
    assert intruder.get(f"{reverse('inspections:coverage')}?campaign={MISSING_ID}").status_code == 404
    assert _denials().count() == before + 1


def test_visible_or_404_costs_one_query_more_only_on_a_miss(
    world: World, cast: Cast, django_assert_num_queries: Any
) -> None:
    from django.test import RequestFactory

    from portal.scoping import visible_or_404

    request = RequestFactory().get("/x/")
    request.user = cast.county_staff
    with django_assert_num_queries(1):
        assert visible_or_404(request, Enterprise, pk=world.enterprise_a.pk) == world.enterprise_a
    # the miss, and whether it exists (nothing to log)
    with django_assert_num_queries(2), pytest.raises(Http404):
        visible_or_404(request, Enterprise, pk=MISSING_ID)
    assert not _denials().exists()
    with pytest.raises(Http404):
        visible_or_404(request, Region.objects.all(), code=world.other_county.code)
    assert _denials().get().object_id == str(world.other_county.pk)
    # visible, but missed for another condition of the queryset: no attempt on another scope
    with pytest.raises(Http404):
        visible_or_404(request, Enterprise.objects.filter(name="另一家"), pk=world.enterprise_a.pk)
    assert _denials().count() == 1
