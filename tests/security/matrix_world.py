"""The objects the API permission matrix acts on, built fresh for every cell.

Every builder takes a side: "A" is 巴公镇 / 泽州县 (enterprise_a, town_a, the county), the scope most of
the shared cast works in; "X" is 上党区 of 长治市 (enterprise_other, other_town, other_county), where only
other_county_staff and other_clerk belong. A builder returns the ids the row's URL and payload need.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from hazards import ledger
from hazards.choices import EvidenceKind, HazardLevel, HazardStatus
from hazards.criteria import load_catalogue_file
from hazards.fingerprint import hazard_fingerprint
from hazards.models import Hazard, MajorHazardCriterion, Notification
from inspections import services as field_services
from inspections.answered import self_check_fingerprint
from inspections.choices import InspectionMethod
from inspections.models import (
    Campaign,
    Deliverable,
    SelfCheckReport,
    TownProgressReport,
)
from portal.choices import AuditAction, PersonRole, Role
from portal.models import AuditEvent, Enterprise, Person, Region, User
from portal.tokens.services import api_token_issue
from reporting import services as report_services
from reporting.choices import ReportKind, VersionStatus
from reporting.models import ExportJob, ReportVersion
from tests.conftest import Cast, World
from tests.factories import EnterpriseFactory, ParentCompanyFactory, PersonFactory, UserFactory
from tests.hazards import ledger_xlsx
from tests.hazards.conftest import PNG_BYTES, add_evidence, add_extension, make_hazard
from tests.images import TINY_JPEG
from tests.token_helpers import issue_token

Obj = dict[str, Any]
S = HazardStatus
DAY = dt.date(2024, 5, 8)
MONTH = "2024-05"
JPEG = TINY_JPEG  # a real image: uploads are opened to read their pixel size


@dataclass
class Ctx:
    world: World
    cast: Cast
    tokens: dict[str, str]
    campaign: dict[str, Campaign]
    principal_person: dict[str, Person]
    extra: dict[str, Any] = field(default_factory=dict)

    def enterprise(self, side: str) -> Enterprise:
        return self.world.enterprise_a if side == "A" else self.world.enterprise_other

    def town(self, side: str) -> Region:
        return self.world.town_a if side == "A" else self.world.other_town

    def county(self, side: str) -> Region:
        return self.world.county if side == "A" else self.world.other_county

    def clerk(self, side: str) -> User:
        return self.cast.clerk if side == "A" else self.cast.other_clerk

    def town_staff(self, side: str) -> User:
        """The staff who record field work for the side's town (上党区 has no town account: its county)."""
        return self.cast.town_a_staff if side == "A" else self.cast.other_county_staff

    def county_staff(self, side: str) -> User:
        return self.cast.county_staff if side == "A" else self.cast.other_county_staff


def clone_campaign(source: Campaign, region: Region) -> Campaign:
    """The same campaign issued by another county (phases, checklist and deliverables copied)."""
    phases = list(source.phases.all())
    areas = [(area, list(area.items.all())) for area in source.checklist_areas.all()]
    deliverables = list(source.deliverables.all())
    campaign = Campaign.objects.get(pk=source.pk)
    campaign.pk = None
    campaign.issuing_region = region
    campaign.document_number = f"{source.document_number}（{region.name}）"
    campaign.save()
    for phase in phases:
        phase.pk = None
        phase.campaign = campaign
        phase.save()
    for area, items in areas:
        area.pk = None
        area.campaign = campaign
        area.save()
        for item in items:
            item.pk = None
            item.area = area
            item.save()
    for deliverable in deliverables:
        deliverable.pk = None
        deliverable.campaign = campaign
        deliverable.save()
    return campaign


def build_context(world: World, cast: Cast) -> Ctx:
    if not MajorHazardCriterion.objects.exists():
        load_catalogue_file()
    campaign83 = Campaign.objects.filter(document_number="泽应急发〔2024〕83号", issuing_region=world.county).first()
    if campaign83 is None:  # a transactional test flushed the seed migration's rows
        import importlib

        from django.apps import apps

        importlib.import_module("inspections.migrations.0002_seed_campaigns").seed(apps, None)
        campaign83 = Campaign.objects.get(document_number="泽应急发〔2024〕83号")
    tokens = {name: issue_token(user) for name, user in cast.all().items()}
    other_principal = PersonFactory(enterprise=world.enterprise_other, name="外县负责人", role=PersonRole.PRINCIPAL)
    other_principal_user = UserFactory(
        username="other_principal", role=Role.ENTERPRISE_PRINCIPAL, enterprise=world.enterprise_other,
        person=other_principal,
    )  # fmt: skip
    return Ctx(
        world=world,
        cast=cast,
        tokens=tokens,
        campaign={"A": campaign83, "X": clone_campaign(campaign83, world.other_county)},
        principal_person={"A": Person.objects.get(enterprise=world.enterprise_a, role=PersonRole.PRINCIPAL),
                          "X": other_principal},
        extra={"principal_username": {"A": cast.principal.username, "X": other_principal_user.username}},
    )  # fmt: skip


# --- Directory ------------------------------------------------------------------------------------


def region(ctx: Ctx, side: str) -> Obj:
    return {"id": ctx.town(side).pk}


def enterprise(ctx: Ctx, side: str) -> Obj:
    return {"id": ctx.enterprise(side).pk}


def bare_enterprise(ctx: Ctx, side: str) -> Obj:
    """An enterprise nothing refers to (so that deleting it is allowed)."""
    return {"id": EnterpriseFactory(name=f"待删除矿业{side}", town=ctx.town(side)).pk}


def parent_company(ctx: Ctx, side: str) -> Obj:
    company = ParentCompanyFactory(name=f"测试集团{side}", region=ctx.town(side))
    Enterprise.objects.filter(pk=ctx.enterprise(side).pk).update(parent_company=company)
    return {"id": company.pk}


def bare_parent_company(ctx: Ctx, side: str) -> Obj:
    return {"id": ParentCompanyFactory(name=f"待删除集团{side}", region=ctx.town(side)).pk}


def person(ctx: Ctx, side: str) -> Obj:
    return {"id": ctx.principal_person[side].pk}


def account(ctx: Ctx, side: str) -> Obj:
    """A town account of the side (上党区: its county's staff)."""
    return {"id": ctx.town_staff(side).pk}


def account_with_device(ctx: Ctx, side: str) -> Obj:
    """A town account of the side with two-step verification on (a confirmed TOTP device)."""
    user = ctx.town_staff(side)
    TOTPDevice.objects.create(user=user, name="手机动态口令", confirmed=True)
    return {"id": user.pk}


def own_token(ctx: Ctx, side: str) -> Obj:
    """An API token of the side's county staff (泽州县: county_staff; 上党区: other_county_staff)."""
    token, _ = api_token_issue(user=ctx.county_staff(side), device="矩阵")
    return {"id": token.pk}


def audit_event(ctx: Ctx, side: str) -> Obj:
    event = AuditEvent.objects.create(
        action=AuditAction.UPDATE, object_type="portal.enterprise", object_id=str(ctx.enterprise(side).pk),
        object_repr=ctx.enterprise(side).name, region_path=ctx.town(side).path, detail="矩阵测试",
    )  # fmt: skip
    return {"id": event.pk}


def enterprise_payload(ctx: Ctx, side: str, obj: Obj) -> dict[str, Any]:
    from tests.factories import make_credit_code

    return {
        "name": f"矩阵新建矿业{side}有限公司",
        "credit_code": make_credit_code(777001 if side == "A" else 777002, "140525" if side == "A" else "140404"),
        "town": ctx.town(side).pk,
        "industry": "open_pit",
        "production_status": "producing",
    }


def enterprise_put_payload(ctx: Ctx, side: str, obj: Obj) -> dict[str, Any]:
    """A whole enterprise as it is, with a new contact (a field its own clerk may change too)."""
    enterprise = Enterprise.objects.get(pk=obj["id"])
    return {
        "name": enterprise.name,
        "credit_code": enterprise.credit_code,
        "town": enterprise.town_id,
        "industry": enterprise.industry,
        "production_status": enterprise.production_status,
        "contact_name": f"矩阵联系人{side}",
    }


def parent_company_payload(ctx: Ctx, side: str, obj: Obj) -> dict[str, Any]:
    return {"name": f"矩阵新建集团{side}有限公司", "region": ctx.town(side).pk, "credit_code": ""}


def user_payload(ctx: Ctx, side: str, obj: Obj) -> dict[str, Any]:
    return {
        "username": f"matrix_new_{side.lower()}",
        "full_name": "矩阵新用户",
        "role": Role.TOWN_STAFF,
        "region": ctx.town(side).pk,
        "password": "Matrix-Strong-2024!",
    }


def user_put_payload(ctx: Ctx, side: str, obj: Obj) -> dict[str, Any]:
    return {"full_name": "改名的镇干部", "role": Role.TOWN_STAFF if side == "A" else Role.COUNTY_STAFF,
            "region": ctx.town(side).pk if side == "A" else ctx.county(side).pk, "is_active": True}  # fmt: skip


# --- Hazards ----------------------------------------------------------------------------------------


def _hazard(ctx: Ctx, side: str, level: str, status: str, **fields: Any) -> Hazard:
    return make_hazard(ctx.enterprise(side), level=level, status=status, **fields)


def general_reported(ctx: Ctx, side: str) -> Obj:
    return {"id": _hazard(ctx, side, HazardLevel.GENERAL, S.REPORTED).pk}


def general_rectifying(ctx: Ctx, side: str) -> Obj:
    return {"id": _hazard(ctx, side, HazardLevel.GENERAL, S.RECTIFYING).pk}


def general_rectified(ctx: Ctx, side: str) -> Obj:
    hazard = _hazard(ctx, side, HazardLevel.GENERAL, S.RECTIFIED, rectified_by=ctx.clerk(side), rectified_on=DAY,
                     rectification_note="已清理")  # fmt: skip
    return {"id": hazard.pk}


def general_verified(ctx: Ctx, side: str) -> Obj:
    hazard = _hazard(ctx, side, HazardLevel.GENERAL, S.VERIFIED, rectified_by=ctx.clerk(side), rectified_on=DAY,
                     verified_by=ctx.town_staff(side), closed_on=DAY)  # fmt: skip
    return {"id": hazard.pk}


def major(status: str) -> Any:
    def build(ctx: Ctx, side: str) -> Obj:
        extra: dict[str, Any] = {}
        if status in (S.CLOSURE_REQUESTED,):
            extra = {"rectified_by": ctx.clerk(side), "rectified_on": DAY, "rectification_note": "已削坡"}
        hazard = _hazard(ctx, side, HazardLevel.MAJOR, status, **extra)
        if status == S.RECTIFYING:
            add_evidence(hazard, ctx.clerk(side))
        return {"id": hazard.pk, "fingerprint": hazard_fingerprint(hazard)}  # what a signer reads first

    build.__name__ = f"major_{status}"
    return build


def hazard_with_evidence(ctx: Ctx, side: str) -> Obj:
    hazard = _hazard(ctx, side, HazardLevel.GENERAL, S.RECTIFYING)
    return {"id": add_evidence(hazard, ctx.clerk(side)).pk, "hazard": hazard.pk}


def pending_extension(ctx: Ctx, side: str) -> Obj:
    hazard = _hazard(ctx, side, HazardLevel.GENERAL, S.RECTIFYING)
    return {"id": add_extension(hazard, ctx.clerk(side)).pk, "hazard": hazard.pk}


def criterion(ctx: Ctx, side: str) -> Obj:
    return {"id": MajorHazardCriterion.objects.order_by("id").first().pk}  # type: ignore[union-attr]


def county_criterion(ctx: Ctx, side: str) -> Obj:
    """An item of the side's county's own (矩阵地方条目), beside the national catalogue."""
    item = MajorHazardCriterion.objects.create(
        document=f"矩阵地方条目{side}",
        mine_type="open_pit",
        number=1,
        label="（一）",
        text="县补充条目",
        region=ctx.county(side),
    )
    return {"id": item.pk}


def notification(ctx: Ctx, side: str) -> Obj:
    hazard = _hazard(ctx, side, HazardLevel.GENERAL, S.REPORTED)
    note = Notification.objects.create(recipient=ctx.clerk(side), hazard=hazard, message="请落实整改")
    return {"id": note.pk}


def ledger_upload(ctx: Ctx, side: str) -> Obj:
    data = ledger_xlsx.simple([ledger_xlsx.row(f"MX-{side}")])
    result, upload = ledger.ledger_upload_create(
        actor=ctx.clerk(side), enterprise=ctx.enterprise(side), source=data, file_name="隐患台账.xlsx"
    )
    assert upload is not None, [str(e) for e in result.errors]
    return {"id": upload.pk}


def hazard_payload(ctx: Ctx, side: str, obj: Obj) -> dict[str, Any]:
    return {
        "enterprise": ctx.enterprise(side).pk, "level": "general", "description": "矩阵：运输道路未设限速标志",
        "category": "transport", "source": "self_check", "found_on": "2024-05-06",
    }  # fmt: skip


def ledger_payload(ctx: Ctx, side: str, obj: Obj) -> dict[str, Any]:
    data = ledger_xlsx.simple([ledger_xlsx.row(f"MX-NEW-{side}")])
    return {"file": SimpleUploadedFile("隐患台账.xlsx", data), "enterprise": ctx.enterprise(side).pk}


def evidence_payload(ctx: Ctx, side: str, obj: Obj) -> dict[str, Any]:
    return {"file": SimpleUploadedFile("整改后.png", PNG_BYTES, content_type="image/png"),
            "kind": EvidenceKind.RECTIFICATION}  # fmt: skip


# --- Campaigns and field work ------------------------------------------------------------------------


def campaign(ctx: Ctx, side: str) -> Obj:
    return {"id": ctx.campaign[side].pk}


def enforcement_record(ctx: Ctx, side: str) -> Obj:
    record = field_services.enforcement_record_create(
        actor=ctx.town_staff(side), kind="talk_enterprise", date=DAY, enterprise=ctx.enterprise(side),
        person_name="王建国",
    )  # fmt: skip
    return {"id": record.pk}


def inspection(ctx: Ctx, side: str) -> Obj:
    record = field_services.inspection_create(
        actor=ctx.town_staff(side), enterprise=ctx.enterprise(side), date=DAY,
        method=InspectionMethod.FOUR_NO_TWO_STRAIGHT, leader="赵卫东",
    )  # fmt: skip
    return {"id": record.pk}


def team(ctx: Ctx, side: str) -> Obj:
    record = field_services.inspection_team_create(
        actor=ctx.town_staff(side), campaign=ctx.campaign[side], name=f"督查组{side}", leader="甲", formed_on=DAY
    )
    return {"id": record.pk}


def exam(ctx: Ctx, side: str) -> Obj:
    record = field_services.exam_record(
        actor=ctx.town_staff(side), enterprise=ctx.enterprise(side), person=ctx.principal_person[side], date=DAY,
        score=Decimal(90),
    )  # fmt: skip
    return {"id": record.pk}


def duty_log(ctx: Ctx, side: str) -> Obj:
    record = field_services.duty_log_save(
        actor=ctx.clerk(side), enterprise=ctx.enterprise(side), month=dt.date(2024, 4, 1),
        on_site_dates=[dt.date(2024, 4, 8)], person=ctx.principal_person[side],
    )  # fmt: skip
    return {"id": record.pk}


def self_check(ctx: Ctx, side: str) -> Obj:
    report = field_services.self_check_start(
        actor=ctx.clerk(side), campaign=ctx.campaign[side], enterprise=ctx.enterprise(side)
    )
    first = report.answers.order_by("item__order", "item_id").first()
    assert first is not None
    return {"id": report.pk, "item": first.item_id}


def self_check_answered(ctx: Ctx, side: str) -> Obj:
    obj = self_check(ctx, side)
    report = SelfCheckReport.objects.get(pk=obj["id"])
    report.answers.filter(answer="").update(answer="yes")
    return {**obj, "fingerprint": self_check_fingerprint(report)}  # what a signer reads before signing


def progress_report(ctx: Ctx, side: str) -> Obj:
    phase = ctx.campaign[side].phases.order_by("order", "id").first()
    assert phase is not None
    report = TownProgressReport.objects.create(
        campaign=ctx.campaign[side],
        phase=phase,
        town=ctx.town(side),
        progress="已部署",
        created_by=ctx.town_staff(side),
    )
    return {"id": report.pk, "phase": phase.pk}


def phase(ctx: Ctx, side: str) -> Obj:
    first = ctx.campaign[side].phases.order_by("order", "id").first()
    assert first is not None
    return {"id": first.pk}


def town_deliverable(ctx: Ctx, side: str) -> Obj:
    deliverable = Deliverable.objects.filter(campaign=ctx.campaign[side], submitter="town", kind__in=["upload", "form"])
    found = deliverable.order_by("order", "id").first()
    assert found is not None
    return {"id": found.pk, "due": found.due_dates()[0].isoformat()}


def submission(ctx: Ctx, side: str) -> Obj:
    found = town_deliverable(ctx, side)
    if side == "A":
        record = field_services.submission_create(
            actor=ctx.cast.town_a_staff, deliverable=Deliverable.objects.get(pk=found["id"]),
            due_date=dt.date.fromisoformat(found["due"]), content="已报送",
        )  # fmt: skip
    else:  # 上党区 has no town account: the row is written as a town would file it
        from django.utils import timezone

        from inspections.models import DeliverableSubmission

        record = DeliverableSubmission.objects.create(
            deliverable_id=found["id"], town=ctx.town(side), due_date=dt.date.fromisoformat(found["due"]),
            content="已报送", submitted_by=ctx.cast.other_county_staff, submitted_at=timezone.now(),
        )  # fmt: skip
    return {"id": record.pk}


def field_enterprise(ctx: Ctx, side: str) -> Obj:
    return {"id": ctx.enterprise(side).pk, "person": ctx.principal_person[side].pk}


# --- Monthly tables ----------------------------------------------------------------------------------


def report(ctx: Ctx, side: str) -> Obj:
    record = report_services.report_get_or_create(
        kind=ReportKind.ACCOUNTABILITY, region=ctx.town(side), campaign=ctx.campaign[side],
        month=dt.date(2024, 5, 1), due_day=23,
    )  # fmt: skip
    return {"id": record.pk}


def submitted_version(ctx: Ctx, side: str) -> Obj:
    """A submitted version of the side's town table, with the fingerprint a signer reads before signing."""
    record = report_services.report_get_or_create(
        kind=ReportKind.ACCOUNTABILITY, region=ctx.town(side), campaign=ctx.campaign[side],
        month=dt.date(2024, 5, 1), due_day=23,
    )  # fmt: skip
    version = report_services.report_refresh(actor=None, report=record)
    if side == "A":
        version = report_services.report_submit(actor=ctx.cast.town_a_staff, version=version)
    else:  # 上党区's town has no account of its own in the cast: submitted as its staff would
        ReportVersion.objects.filter(pk=version.pk).update(
            status=VersionStatus.SUBMITTED, submitted_at=timezone.now(), submitted_by=ctx.cast.other_county_staff
        )
        version = ReportVersion.objects.get(pk=version.pk)
    return {"id": version.pk, "fingerprint": report_services.shown_fingerprint(version)}


def table(ctx: Ctx, side: str) -> Obj:
    return {"kind": "accountability", "code": ctx.town(side).code, "month": MONTH}


def export_job(ctx: Ctx, side: str) -> Obj:
    job = ExportJob.objects.create(
        kind=ReportKind.ACCOUNTABILITY, region=ctx.town(side), month=dt.date(2024, 5, 1), file_format="xlsx",
        requested_by=ctx.town_staff(side),
    )  # fmt: skip
    return {"id": str(job.pk)}


def counts(model: Any) -> Any:
    def probe(obj: Obj) -> int:
        return int(model.objects.count())

    return probe


def expired_licence(ctx: Ctx, side: str) -> Obj:
    """A warning on the side's enterprise: its 安全生产许可证 expired ten days ago."""
    enterprise = ctx.enterprise(side)
    enterprise.license_expiry = DAY - dt.timedelta(days=10)
    enterprise.save(update_fields=["license_expiry"])
    return {"id": enterprise.pk, "key": f"licence_expiry:{enterprise.pk}:{enterprise.license_expiry:%Y-%m-%d}"}
