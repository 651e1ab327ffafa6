"""Writes of campaigns' field work. Each function is one transaction that also writes its audit row.

Pages, the API and the importers validate input and call these; nothing else saves these records.
Role and scope rules live in `inspections.permissions` and are checked here, on the server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from hazards.choices import HazardSource
from hazards.models import Hazard
from inspections import audit_events as inspection_events
from inspections import notices, permissions, workdays
from inspections.answered import checklist_snapshot, self_check_fingerprint
from inspections.choices import (
    ENFORCEMENT_TARGET,
    TALK_KINDS,
    Answer,
    ChecklistSubject,
    DeliverableKind,
    DeliverableSubmitter,
    EnforcementTarget,
    InspectionMethod,
    ProgressStatus,
    ReportStatus,
)
from inspections.files import validate_upload
from inspections.models import (
    Campaign,
    CampaignPhase,
    ChecklistItem,
    Deliverable,
    DeliverableReminder,
    DeliverableSubmission,
    EnforcementAttachment,
    EnforcementRecord,
    Exam,
    Inspection,
    InspectionPhoto,
    InspectionTeam,
    PrincipalDutyLog,
    SelfCheckAnswer,
    SelfCheckEvidence,
    SelfCheckReport,
    TownProgressReport,
)
from portal import audit_events, reauth
from portal.audit import snapshot
from portal.choices import PersonRole, RegionLevel, Role
from portal.images import is_raster, make_thumbnail, thumbnail_name
from portal.models import Enterprise, ParentCompany, Person, Region, User
from portal.scoping import in_subtree, path_within

# --- Shared checks ----------------------------------------------------------------------------


def _not_in_future(value: dt.date, field: str, label: str) -> None:
    if value > timezone.localdate():
        raise ValidationError({field: f"{label}不能晚于今天。"})


def _require_visible_campaign(actor: User, campaign: Campaign | None) -> None:
    if campaign is not None and not Campaign.objects.visible_to(actor).filter(pk=campaign.pk).exists():
        raise ValidationError({"campaign": "专项行动不存在或不在您的辖区内。"})


def principal_of(enterprise: Enterprise) -> Person | None:
    """The enterprise's 主要负责人, when exactly one is registered."""
    principals = list(enterprise.people.filter(role=PersonRole.PRINCIPAL)[:2])
    return principals[0] if len(principals) == 1 else None


# --- Enforcement and accountability records ---------------------------------------------------

ENFORCEMENT_FIELDS = (
    "kind", "date", "enterprise", "parent_company", "person", "person_name", "person_title", "amount",
    "document_number", "campaign", "inspection", "exam", "description", "hazards",
)  # fmt: skip


def _with_hazards(data: dict[str, Any], hazards: Iterable[Hazard]) -> dict[str, Any]:
    return {**data, "hazards": sorted(h.pk for h in hazards)}


def _checked_hazards(actor: User, enterprise: Enterprise | None, hazards: Iterable[Hazard]) -> list[Hazard]:
    """Hazards a record may link: visible to the actor and, when the record names an enterprise, its own."""
    chosen = list(hazards)
    if not chosen:
        return []
    visible = set(Hazard.objects.visible_to(actor).filter(pk__in=[h.pk for h in chosen]).values_list("pk", flat=True))
    for hazard in chosen:
        if hazard.pk not in visible:
            raise ValidationError({"hazards": "隐患不存在或不在您的辖区内。"})
        if enterprise is not None and hazard.enterprise_id != enterprise.pk:
            raise ValidationError({"hazards": f"隐患“{hazard}”不是{enterprise.name}的隐患。"})
    return chosen


def _complete_enforcement_target(record: EnforcementRecord) -> None:
    """Fills what follows from the target: the parent company of the mine, the principal's name."""
    target = ENFORCEMENT_TARGET.get(record.kind)
    enterprise = record.enterprise
    if (
        target in (EnforcementTarget.PARENT, EnforcementTarget.PARENT_LEADER)
        and record.parent_company_id is None
        and enterprise is not None
    ):
        record.parent_company = enterprise.parent_company
    if record.person is not None and not record.person_name.strip():
        record.person_name = record.person.name
        if not record.person_title:
            record.person_title = record.person.get_role_display()
    if target == EnforcementTarget.PRINCIPAL and enterprise is not None and not record.person_name.strip():
        principal = principal_of(enterprise)
        if principal is not None:
            record.person = principal
            record.person_name = principal.name
            record.person_title = principal.get_role_display()
    if target == EnforcementTarget.PRINCIPAL and not record.person_title:
        record.person_title = "主要负责人"
    record.person_name = record.person_name.strip()


def _check_enforcement_scope(actor: User, record: EnforcementRecord) -> None:
    unit = record.issuing_unit
    if record.enterprise is not None:
        permissions.require_enterprise_within(record.enterprise, unit)
    if record.parent_company is not None:
        permissions.require_parent_company_within(record.parent_company, unit)
    _require_visible_campaign(actor, record.campaign)
    if record.inspection is not None:
        if not Inspection.objects.visible_to(actor).filter(pk=record.inspection.pk).exists():
            raise ValidationError({"inspection": "检查记录不存在或不在您的辖区内。"})
        if record.enterprise_id is not None and record.inspection.enterprise_id != record.enterprise_id:
            raise ValidationError({"inspection": "所选检查记录不是对该企业的检查。"})
    if record.exam is not None:
        if not Exam.objects.visible_to(actor).filter(pk=record.exam.pk).exists():
            raise ValidationError({"exam": "考试记录不存在或不在您的辖区内。"})
        if record.exam.enterprise_id != record.enterprise_id:
            raise ValidationError({"exam": "所选考试记录不是该企业的。"})


def validate_enforcement(actor: User, record: EnforcementRecord) -> None:
    """Completes and checks a record as the services save it (used by the importer for each row)."""
    _complete_enforcement_target(record)
    if record.amount is not None:
        record.amount = Decimal(record.amount).quantize(Decimal("0.01"))
    _not_in_future(record.date, "date", "日期")
    record.full_clean(exclude=["created_by"])
    _check_enforcement_scope(actor, record)


@transaction.atomic
def enforcement_record_create(
    *,
    actor: User,
    kind: str,
    date: dt.date,
    enterprise: Enterprise | None = None,
    parent_company: ParentCompany | None = None,
    person: Person | None = None,
    person_name: str = "",
    person_title: str = "",
    amount: Decimal | None = None,
    document_number: str = "",
    campaign: Campaign | None = None,
    inspection: Inspection | None = None,
    exam: Exam | None = None,
    description: str = "",
    hazards: Iterable[Hazard] = (),
    attachments: Iterable[UploadedFile] = (),
) -> EnforcementRecord:
    unit = permissions.require_unit(actor)
    record = EnforcementRecord(
        kind=kind,
        date=date,
        issuing_unit=unit,
        enterprise=enterprise,
        parent_company=parent_company,
        person=person,
        person_name=person_name or "",
        person_title=person_title or "",
        amount=amount,
        document_number=(document_number or "").strip(),
        campaign=campaign,
        inspection=inspection,
        exam=exam,
        description=description or "",
        created_by=actor,
    )
    validate_enforcement(actor, record)
    linked = _checked_hazards(actor, record.enterprise, hazards)
    record.save()
    record.hazards.set(linked)
    audit_events.record_created(actor=actor, instance=record, after=_with_hazards(snapshot(record), linked))
    for upload in attachments:
        _add_enforcement_attachment(actor=actor, record=record, upload=upload)
    if record.inspection is not None and record.kind in TALK_KINDS and not record.inspection.talk_held:
        _mark_inspection(actor=actor, inspection=record.inspection, field="talk_held")
    return record


@transaction.atomic
def enforcement_record_update(*, actor: User, record: EnforcementRecord, data: dict[str, Any]) -> EnforcementRecord:
    permissions.require_change_unit_record(actor, record.issuing_unit)
    unknown = set(data) - set(ENFORCEMENT_FIELDS)
    if unknown:
        raise ValidationError(f"不能修改的字段：{'、'.join(sorted(unknown))}")
    locked = EnforcementRecord.objects.select_for_update().get(pk=record.pk)
    old_hazards = list(locked.hazards.all())
    before = _with_hazards(snapshot(locked), old_hazards)
    data = dict(data)
    new_hazards = data.pop("hazards", None)
    for key, value in data.items():
        setattr(locked, key, value)
    if "person" in data and "person_name" not in data and locked.person is not None:
        locked.person_name = ""
    validate_enforcement(actor, locked)
    linked = old_hazards if new_hazards is None else _checked_hazards(actor, locked.enterprise, new_hazards)
    after = _with_hazards(snapshot(locked), linked)
    if after == before:
        return locked
    locked.save()
    locked.hazards.set(linked)
    audit_events.record_updated(actor=actor, instance=locked, before=before, after=after)
    return locked


@transaction.atomic
def enforcement_record_delete(*, actor: User, record: EnforcementRecord, reason: str = "") -> None:
    permissions.require_change_unit_record(actor, record.issuing_unit)
    for attachment in record.attachments.all():
        audit_events.record_deleted(actor=actor, instance=attachment, before=snapshot(attachment))
    audit_events.record_deleted(actor=actor, instance=record, before=snapshot(record), detail=reason)
    files = [a.file for a in record.attachments.all()]
    record.delete()
    # Files go only once the rows are gone for good.
    transaction.on_commit(lambda: [f.storage.delete(f.name) for f in files if f.name])


def _add_enforcement_attachment(
    *, actor: User, record: EnforcementRecord, upload: UploadedFile
) -> EnforcementAttachment:
    original = validate_upload(upload)
    attachment = EnforcementAttachment(record=record, original_name=original, uploaded_by=actor)
    attachment.file.save(original, upload, save=False)
    attachment.save()
    audit_events.record_created(actor=actor, instance=attachment, after=snapshot(attachment))
    return attachment


@transaction.atomic
def enforcement_attachment_add(
    *, actor: User, record: EnforcementRecord, upload: UploadedFile
) -> EnforcementAttachment:
    permissions.require_change_unit_record(actor, record.issuing_unit)
    return _add_enforcement_attachment(actor=actor, record=record, upload=upload)


@transaction.atomic
def enforcement_attachment_delete(*, actor: User, attachment: EnforcementAttachment) -> None:
    permissions.require_change_unit_record(actor, attachment.record.issuing_unit)
    audit_events.record_deleted(actor=actor, instance=attachment, before=snapshot(attachment))
    stored = attachment.file
    attachment.delete()
    transaction.on_commit(lambda: stored.storage.delete(stored.name) if stored.name else None)


def ensure_can_record(actor: Any) -> None:
    """Raises PermissionDenied unless the user records field work (for pages that only show a form)."""
    if not permissions.can_record_field_work(actor):
        raise PermissionDenied("只有镇应急管理中心或县局股室的账号可以登记。")


# --- 督查组 ------------------------------------------------------------------------------------

TEAM_FIELDS = ("campaign", "name", "leader", "members", "formed_on", "note")


@transaction.atomic
def inspection_team_create(
    *,
    actor: User,
    campaign: Campaign,
    name: str,
    leader: str,
    formed_on: dt.date,
    members: str = "",
    note: str = "",
) -> InspectionTeam:
    unit = permissions.require_unit(actor)
    _require_visible_campaign(actor, campaign)
    _not_in_future(formed_on, "formed_on", "成立日期")
    team = InspectionTeam(
        campaign=campaign, unit=unit, name=name.strip(), leader=leader.strip(), members=members.strip(),
        formed_on=formed_on, note=note.strip(), created_by=actor,
    )  # fmt: skip
    team.full_clean()
    team.save()
    audit_events.record_created(actor=actor, instance=team, after=snapshot(team))
    return team


@transaction.atomic
def inspection_team_update(*, actor: User, team: InspectionTeam, data: dict[str, Any]) -> InspectionTeam:
    permissions.require_change_unit_record(actor, team.unit)
    before = snapshot(team)
    for key, value in data.items():
        if key not in TEAM_FIELDS:
            raise ValidationError(f"不能修改的字段：{key}")
        setattr(team, key, value)
    _require_visible_campaign(actor, team.campaign)
    _not_in_future(team.formed_on, "formed_on", "成立日期")
    team.full_clean()
    team.save()
    audit_events.record_updated(actor=actor, instance=team, before=before, after=snapshot(team))
    return team


@transaction.atomic
def inspection_team_delete(*, actor: User, team: InspectionTeam) -> None:
    permissions.require_change_unit_record(actor, team.unit)
    audit_events.record_deleted(actor=actor, instance=team, before=snapshot(team))
    team.delete()


# --- Inspections ------------------------------------------------------------------------------

INSPECTION_FIELDS = (
    "enterprise", "date", "method", "campaign", "team", "leader", "members", "findings", "talk_held", "exam_held",
)  # fmt: skip


def _validate_inspection(actor: User, inspection: Inspection) -> None:
    permissions.require_enterprise_within(inspection.enterprise, inspection.unit)
    _not_in_future(inspection.date, "date", "检查日期")
    _require_visible_campaign(actor, inspection.campaign)
    if inspection.team is not None and inspection.team.unit_id != inspection.unit.pk:
        raise ValidationError({"team": "只能选择本单位成立的督查组。"})
    inspection.leader = inspection.leader.strip()
    inspection.full_clean(exclude=["created_by"])


@transaction.atomic
def inspection_create(
    *,
    actor: User,
    enterprise: Enterprise,
    date: dt.date,
    method: str,
    leader: str,
    members: str = "",
    findings: str = "",
    campaign: Campaign | None = None,
    team: InspectionTeam | None = None,
    talk_held: bool = False,
    exam_held: bool = False,
    photos: Iterable[UploadedFile] = (),
) -> Inspection:
    unit = permissions.require_unit(actor)
    inspection = Inspection(
        enterprise=enterprise, unit=unit, date=date, method=method, campaign=campaign, team=team, leader=leader,
        members=members.strip(), findings=findings.strip(), talk_held=talk_held, exam_held=exam_held,
        created_by=actor,
    )  # fmt: skip
    _validate_inspection(actor, inspection)
    inspection.save()
    audit_events.record_created(actor=actor, instance=inspection, after=snapshot(inspection))
    for upload in photos:
        _add_photo(actor=actor, inspection=inspection, upload=upload)
    return inspection


@transaction.atomic
def inspection_update(*, actor: User, inspection: Inspection, data: dict[str, Any]) -> Inspection:
    permissions.require_change_unit_record(actor, inspection.unit)
    locked = Inspection.objects.select_for_update().get(pk=inspection.pk)
    before = snapshot(locked)
    for key, value in data.items():
        if key not in INSPECTION_FIELDS:
            raise ValidationError(f"不能修改的字段：{key}")
        setattr(locked, key, value)
    if locked.hazards.exclude(enterprise=locked.enterprise).exists():
        raise ValidationError({"enterprise": "已登记发现隐患的检查记录不能更换被检查企业。"})
    _validate_inspection(actor, locked)
    after = snapshot(locked)
    if after != before:
        locked.save()
        audit_events.record_updated(actor=actor, instance=locked, before=before, after=after)
    return locked


@transaction.atomic
def inspection_delete(*, actor: User, inspection: Inspection) -> None:
    permissions.require_change_unit_record(actor, inspection.unit)
    if inspection.hazards.exists():
        raise ValidationError("该检查已登记发现的隐患，不能删除；如确有错误请联系管理员。")
    for photo in inspection.photos.all():
        audit_events.record_deleted(actor=actor, instance=photo, before=snapshot(photo))
    audit_events.record_deleted(actor=actor, instance=inspection, before=snapshot(inspection))
    files = [photo.file for photo in inspection.photos.all()]
    inspection.delete()
    transaction.on_commit(lambda: [f.storage.delete(f.name) for f in files if f.name])


def _add_photo(*, actor: User, inspection: Inspection, upload: UploadedFile, caption: str = "") -> InspectionPhoto:
    original = validate_upload(upload, images_only=True)
    photo = InspectionPhoto(inspection=inspection, original_name=original, caption=caption.strip(), uploaded_by=actor)
    thumbnail = make_thumbnail(upload) if is_raster(original) else b""  # HEIC: no thumbnail, download only
    photo.file.save(original, upload, save=False)
    if thumbnail:
        photo.thumbnail.save(thumbnail_name(photo.file.name), ContentFile(thumbnail), save=False)
    photo.save()
    audit_events.record_created(actor=actor, instance=photo, after=snapshot(photo))
    return photo


@transaction.atomic
def photo_make_thumbnail(*, photo: InspectionPhoto) -> bool:
    """For a photo stored before thumbnails existed (manage.py make_thumbnails): made from the original when
    it is within the pixel bounds. False when it already has one or cannot have one."""
    if photo.thumbnail or not is_raster(photo.file.name or ""):
        return False
    try:
        with photo.file.open("rb") as handle:
            content = make_thumbnail(handle)
    except (OSError, ValidationError):
        return False
    photo.thumbnail.save(thumbnail_name(photo.file.name), ContentFile(content), save=False)
    InspectionPhoto.objects.filter(pk=photo.pk).update(thumbnail=photo.thumbnail.name)
    audit_events.record_updated(actor=None, instance=photo, detail="生成缩略图")
    return True


@transaction.atomic
def inspection_photo_add(
    *, actor: User, inspection: Inspection, upload: UploadedFile, caption: str = ""
) -> InspectionPhoto:
    permissions.require_change_unit_record(actor, inspection.unit)
    return _add_photo(actor=actor, inspection=inspection, upload=upload, caption=caption)


def _mark_inspection(*, actor: User, inspection: Inspection, field: str) -> None:
    before = snapshot(inspection)
    setattr(inspection, field, True)
    inspection.save(update_fields=[field, "updated_at"])
    inspection_events.inspection_talk_or_exam_marked(
        actor=actor, inspection=inspection, field=field, before=before, after=snapshot(inspection)
    )


INSPECTION_HAZARD_SOURCE: dict[str, str] = {
    InspectionMethod.EXPERT_CHECK: HazardSource.EXPERT_CHECK,
}


def inspection_hazard_source(inspection: Inspection) -> str:
    """The hazard source an inspection stands for: 专家体检, else 镇检查 or 县局检查 by the unit's level."""
    if inspection.method in INSPECTION_HAZARD_SOURCE:
        return INSPECTION_HAZARD_SOURCE[inspection.method]
    if inspection.unit.level == RegionLevel.TOWN:
        return HazardSource.TOWN_INSPECTION
    return HazardSource.COUNTY_INSPECTION


@transaction.atomic
def inspection_report_hazard(*, actor: User, inspection: Inspection, **fields: Any) -> Hazard:
    """A hazard found during the inspection: reported through the hazards service and linked here."""
    from hazards import services as hazard_services

    permissions.require_change_unit_record(actor, inspection.unit)
    fields.setdefault("found_on", inspection.date)
    fields.setdefault("found_by", inspection.leader)
    fields.setdefault("source", inspection_hazard_source(inspection))
    hazard = hazard_services.hazard_report(actor=actor, enterprise=inspection.enterprise, **fields)
    inspection.hazards.add(hazard)
    inspection_events.inspection_hazard_reported(
        actor=actor, inspection=inspection, hazard_id=hazard.pk,
        hazards=sorted(inspection.hazards.values_list("pk", flat=True)),
    )  # fmt: skip
    return hazard


@transaction.atomic
def inspection_link_hazards(*, actor: User, inspection: Inspection, hazards: Iterable[Hazard]) -> None:
    permissions.require_change_unit_record(actor, inspection.unit)
    linked = _checked_hazards(actor, inspection.enterprise, hazards)
    before = sorted(inspection.hazards.values_list("pk", flat=True))
    inspection.hazards.add(*linked)
    after = sorted(inspection.hazards.values_list("pk", flat=True))
    if after != before:
        inspection_events.inspection_hazards_linked(actor=actor, inspection=inspection, before=before, after=after)


# --- 逢查必考 ----------------------------------------------------------------------------------


@transaction.atomic
def exam_record(
    *,
    actor: User,
    enterprise: Enterprise,
    person: Person,
    date: dt.date,
    score: Decimal,
    pass_mark: Decimal = Decimal(80),
    retake_of: Exam | None = None,
    campaign: Campaign | None = None,
    inspection: Inspection | None = None,
    note: str = "",
) -> Exam:
    """One sitting. A retake names the failed sitting it repeats; a failed retake is then listed for
    通报曝光 with a proposal to replace the principal (see `inspections.warnings`)."""
    unit = permissions.require_unit(actor)
    permissions.require_enterprise_within(enterprise, unit)
    if person.enterprise_id != enterprise.pk or person.role != PersonRole.PRINCIPAL:
        raise ValidationError({"person": f"{person.name}不是{enterprise.name}登记的主要负责人。"})
    _not_in_future(date, "date", "考试日期")
    _require_visible_campaign(actor, campaign)
    if retake_of is not None:
        retake_of = Exam.objects.select_for_update().get(pk=retake_of.pk)
        if retake_of.passed:
            raise ValidationError({"retake_of": "该次考试已合格，无需补考。"})
        if retake_of.retake_of_id is not None:
            raise ValidationError({"retake_of": "补考只有一次：补考仍不合格的，应予通报曝光。"})
        if Exam.objects.filter(retake_of=retake_of).exists():
            raise ValidationError({"retake_of": "该次考试已登记过补考。"})
        if retake_of.person_id != person.pk:
            raise ValidationError({"retake_of": "补考须由同一主要负责人参加。"})
        if date < retake_of.date:
            raise ValidationError({"date": "补考日期不能早于原考试日期。"})
    visible_inspections = Inspection.objects.visible_to(actor)
    if inspection is not None and not visible_inspections.filter(pk=inspection.pk, enterprise=enterprise).exists():
        raise ValidationError({"inspection": "所选检查记录不是对该企业的检查。"})
    exam = Exam(
        enterprise=enterprise, person=person, unit=unit, campaign=campaign, inspection=inspection, date=date,
        score=score, pass_mark=pass_mark, retake_of=retake_of, note=note.strip(), created_by=actor,
    )  # fmt: skip
    exam.full_clean(exclude=["created_by"])
    exam.save()
    inspection_events.exam_recorded(actor=actor, exam=exam, after=snapshot(exam))
    if inspection is not None and not inspection.exam_held:
        _mark_inspection(actor=actor, inspection=inspection, field="exam_held")
    return exam


# --- 履职台账 ----------------------------------------------------------------------------------


def can_keep_duty_log(user: Any, enterprise: Enterprise) -> bool:
    """The enterprise's own accounts, its town's staff, the county's staff."""
    if permissions.is_enterprise_user_of(user, enterprise):
        return True
    unit = permissions.acting_unit(user)
    return unit is not None and permissions.enterprise_within(enterprise, unit)


@transaction.atomic
def duty_log_save(
    *,
    actor: User,
    enterprise: Enterprise,
    month: dt.date,
    person: Person | None = None,
    on_site_dates: Iterable[dt.date] = (),
    inspections_led: int = 0,
    safety_meetings: int = 0,
    major_hazard_investigation_on: dt.date | None = None,
    parent_leader_visits: int | None = None,
    note: str = "",
) -> PrincipalDutyLog:
    """Creates or replaces the month's 履职台账 of an enterprise."""
    if not can_keep_duty_log(actor, enterprise):
        raise PermissionDenied("只有本企业、所在镇应急管理中心或县局可以填报该企业的履职台账。")
    month = workdays.month_start(month)
    last = workdays.month_end(month)
    today = timezone.localdate()
    if month > today:
        raise ValidationError({"month": "不能填报将来月份的履职台账。"})
    person = person or principal_of(enterprise)
    if person is None:
        raise ValidationError({"person": f"{enterprise.name}尚未登记主要负责人，请先在企业名录中登记。"})
    if person.enterprise_id != enterprise.pk or person.role != PersonRole.PRINCIPAL:
        raise ValidationError({"person": f"{person.name}不是{enterprise.name}登记的主要负责人。"})
    dates = sorted(set(on_site_dates))
    for day in dates:
        if not month <= day <= last:
            raise ValidationError({"on_site_dates": f"{day:%Y-%m-%d} 不在 {month:%Y年%m月} 内。"})
        if day > today:
            raise ValidationError({"on_site_dates": f"{day:%Y-%m-%d} 晚于今天。"})
    if major_hazard_investigation_on is not None and not month <= major_hazard_investigation_on <= last:
        raise ValidationError({"major_hazard_investigation_on": "重大事故隐患全面排查日期须在该月内。"})
    if parent_leader_visits is not None and enterprise.parent_company_id is None:
        raise ValidationError({"parent_leader_visits": "该企业没有上级企业，不填写上级企业负责人到矿检查次数。"})
    log = PrincipalDutyLog.objects.select_for_update().filter(enterprise=enterprise, month=month).first()
    before = snapshot(log) if log is not None else None
    if log is None:
        log = PrincipalDutyLog(enterprise=enterprise, month=month)
    log.person = person
    log.on_site_dates = [day.isoformat() for day in dates]
    log.inspections_led = inspections_led
    log.safety_meetings = safety_meetings
    log.major_hazard_investigation_on = major_hazard_investigation_on
    log.parent_leader_visits = parent_leader_visits
    log.note = note.strip()
    log.recorded_by = actor
    log.full_clean(exclude=["recorded_by"], validate_unique=False)
    after = snapshot(log)
    if before is not None and {k: v for k, v in after.items() if k not in {"updated_at", "recorded_by"}} == {
        k: v for k, v in before.items() if k not in {"updated_at", "recorded_by"}
    }:
        return log
    log.save()
    if before is None:
        audit_events.record_created(actor=actor, instance=log, after=snapshot(log))
    else:
        audit_events.record_updated(actor=actor, instance=log, before=before, after=snapshot(log))
    return log


# --- 自查自改报告 ------------------------------------------------------------------------------

SUBMITTED_READ_ONLY = "报告已由主要负责人签字报送，不能再修改。"


def can_file_report(user: Any, enterprise: Enterprise) -> bool:
    """The enterprise's own accounts, or the staff of its town filing on its behalf."""
    if permissions.is_enterprise_user_of(user, enterprise):
        return True
    unit = permissions.acting_unit(user)
    return unit is not None and unit.level == RegionLevel.TOWN and permissions.enterprise_within(enterprise, unit)


def _require_filer(actor: User, enterprise: Enterprise) -> None:
    if not can_file_report(actor, enterprise):
        raise PermissionDenied("只有本企业或所在镇应急管理中心（代企业填报）可以填写自查自改报告。")


def _require_draft(report: SelfCheckReport) -> None:
    if report.status != ReportStatus.DRAFT:
        raise ValidationError(SUBMITTED_READ_ONLY)


@transaction.atomic
def self_check_start(*, actor: User, campaign: Campaign, enterprise: Enterprise) -> SelfCheckReport:
    """The enterprise's draft for the campaign (created on first use, with one empty answer per item)."""
    _require_filer(actor, enterprise)
    if not Campaign.objects.visible_to(actor).filter(pk=campaign.pk).exists():
        raise ValidationError({"campaign": "专项行动不存在或不在您的辖区内。"})
    if not campaign.issuing_region.path or not path_within(enterprise.town.path, campaign.issuing_region.path):
        raise ValidationError({"campaign": "该专项行动不适用于此企业。"})
    existing = SelfCheckReport.objects.select_for_update().filter(campaign=campaign, enterprise=enterprise).first()
    if existing is not None:
        return existing
    items = list(ChecklistItem.objects.filter(area__campaign=campaign))
    if not items:
        raise ValidationError({"campaign": "该专项行动没有检查内容，无需填写自查自改报告。"})
    on_behalf = actor.enterprise_id is None
    report = SelfCheckReport.objects.create(
        campaign=campaign,
        enterprise=enterprise,
        created_by=actor,
        filed_by_unit=permissions.acting_unit(actor) if on_behalf else None,
    )
    no_parent = enterprise.parent_company_id is None
    SelfCheckAnswer.objects.bulk_create(
        [
            SelfCheckAnswer(
                report=report,
                item=item,
                answer=Answer.NOT_APPLICABLE if no_parent and item.subject == ChecklistSubject.PARENT_COMPANY else "",
                note="无上级企业（主体公司）" if no_parent and item.subject == ChecklistSubject.PARENT_COMPANY else "",
            )
            for item in items
        ]
    )
    inspection_events.self_check_started(actor=actor, report=report, after=snapshot(report), on_behalf=on_behalf)
    return report


def _locked_draft(actor: User, report: SelfCheckReport) -> SelfCheckReport:
    _require_filer(actor, report.enterprise)
    locked = SelfCheckReport.objects.select_for_update().get(pk=report.pk)
    _require_draft(locked)
    return locked


@transaction.atomic
def self_check_answer(
    *, actor: User, report: SelfCheckReport, item: ChecklistItem, answer: str, note: str = ""
) -> SelfCheckAnswer:
    """Saves one item as the filer goes (a draft saves as you type)."""
    locked = _locked_draft(actor, report)
    if answer not in ("", *Answer.values):
        raise ValidationError({"answer": "回答只能是“是”“否”或“不适用”。"})
    row = SelfCheckAnswer.objects.select_for_update().get(report=locked, item=item)
    before = snapshot(row)
    row.answer, row.note = answer, note.strip()
    row.full_clean(exclude=["report", "item"])
    if snapshot(row) != before:
        row.save()
        audit_events.record_updated(actor=actor, instance=row, before=before, after=snapshot(row))
        SelfCheckReport.objects.filter(pk=locked.pk).update(updated_at=timezone.now())
        if before["answer"] == "" and row.answer and not locked.answers.filter(answer="").exists():
            notices.self_check_ready(report=locked, actor=actor)  # the last item answered: the principal signs
    return row


@transaction.atomic
def self_check_update(
    *, actor: User, report: SelfCheckReport, summary: str | None = None, hazards: Iterable[Hazard] | None = None
) -> SelfCheckReport:
    locked = _locked_draft(actor, report)
    before = _with_hazards(snapshot(locked), locked.hazards.all())
    if summary is not None:
        locked.summary = summary.strip()
    linked = list(locked.hazards.all()) if hazards is None else _checked_hazards(actor, locked.enterprise, hazards)
    after = _with_hazards(snapshot(locked), linked)
    if after != before:
        locked.save()
        locked.hazards.set(linked)
        audit_events.record_updated(actor=actor, instance=locked, before=before, after=after)
    return locked


@transaction.atomic
def self_check_add_evidence(*, actor: User, answer: SelfCheckAnswer, upload: UploadedFile) -> SelfCheckEvidence:
    _locked_draft(actor, answer.report)
    original = validate_upload(upload)
    evidence = SelfCheckEvidence(answer=answer, original_name=original, uploaded_by=actor)
    evidence.file.save(original, upload, save=False)
    evidence.save()
    audit_events.record_created(actor=actor, instance=evidence, after=snapshot(evidence))
    return evidence


@transaction.atomic
def self_check_delete_evidence(*, actor: User, evidence: SelfCheckEvidence) -> None:
    _locked_draft(actor, evidence.answer.report)
    audit_events.record_deleted(actor=actor, instance=evidence, before=snapshot(evidence))
    stored = evidence.file
    evidence.delete()
    transaction.on_commit(lambda: stored.storage.delete(stored.name) if stored.name else None)


def unanswered_items(report: SelfCheckReport) -> list[ChecklistItem]:
    return [a.item for a in report.answers.select_related("item").filter(answer="")]


SIGNER_REFUSED = "账号、密码或动态口令不正确，未签字。"


def self_check_unexplained(report: SelfCheckReport) -> list[SelfCheckAnswer]:
    """The 不符合 answers that say nothing of what follows: no 说明, and no hazard attached to the report.
    The sign page lists them and asks the signer to confirm (inspections.forms.SignForm), as it asks to
    confirm the report as a whole."""
    if report.hazards.exists():
        return []
    answers = report.answers.select_related("item", "item__area").order_by("item__area__order", "item__order")
    return [a for a in answers if a.is_compliant is False and not a.note.strip()]


@transaction.atomic
def self_check_authenticate_signer(
    *, request: Any, actor: User, report: SelfCheckReport, username: str, password: str, otp_code: str = ""
) -> User | None:
    """The principal's credentials for a signature (page and API), or None — one answer whatever went wrong.

    A password is checked only for the account of this enterprise's principal (or the signed-in user's own,
    whose refusal the service explains): for any other user name the
    answer is the same refusal without a password check, so the signature form tells nobody whether another
    account's password is right. Every refusal is in the audit log (a wrong password through the login
    signal, as 登录失败; another account's name here).
    """
    from django.contrib.auth import authenticate

    candidate = User.objects.filter(username=username).first() if username else None
    # One's own account may be checked (the service then says why it cannot sign): no one else's password.
    if candidate is None or (
        candidate.pk != actor.pk and not permissions.is_principal_of(candidate, report.enterprise)
    ):
        inspection_events.self_check_sign_refused(actor=actor, report=report, username=username)
        return None
    signer = authenticate(request, username=username, password=password)
    # With 两步验证 enrolled the signer's code (or a backup code) is required too (portal/reauth.py).
    if signer is not None and not reauth.second_factor_passes(user=signer, otp_code=otp_code, purpose="自查报告签字"):
        return None
    return signer  # type: ignore[return-value]


SELF_CHECK_CHANGED_MESSAGE = (
    "打开页面后报告内容已有变化（检查内容、回答、说明、佐证材料、综述或所附隐患），未签字。请刷新页面核对后重新签字。"
)


@transaction.atomic
def self_check_sign(*, actor: User, report: SelfCheckReport, signer: User, fingerprint: str) -> SelfCheckReport:
    """主要负责人签字 and 报送 to the town and the county. `signer` is the principal's account, already
    authenticated by the caller (their own session plus their password, or their credentials entered
    in person on the town's device); `actor` is whoever is signed in.

    `fingerprint` is `answered.self_check_fingerprint` of the report as the sign form showed it: refused
    (nothing signed) when anything shown has changed since. The checklist as answered is stored on the
    report (`checklist_snapshot`): later edits of the checklist do not change what was signed."""
    locked = _locked_draft(actor, report)
    enterprise = locked.enterprise
    if not signer.is_active:
        raise PermissionDenied("签字账号已停用，未签字。")
    if not permissions.is_principal_of(signer, enterprise):
        raise PermissionDenied(f"只有{enterprise.name}的主要负责人本人可以签字。")
    person = signer.person
    if person is None or person.enterprise_id != enterprise.pk or person.role != PersonRole.PRINCIPAL:
        raise PermissionDenied("签字账号未关联本企业登记的主要负责人，请联系管理员。")
    if actor.pk != signer.pk and not can_file_report(actor, enterprise):
        raise PermissionDenied("只能在本企业或所在镇应急管理中心的设备上当面签字。")
    missing = unanswered_items(locked)
    if missing:
        listing = "；".join(item.text[:30] for item in missing[:5])
        raise ValidationError(f"还有 {len(missing)} 项未回答，不能签字报送：{listing}")
    checklist = checklist_snapshot(locked)
    if fingerprint != self_check_fingerprint(locked, checklist):
        raise ValidationError(SELF_CHECK_CHANGED_MESSAGE)
    before = snapshot(locked)
    locked.checklist_snapshot = checklist
    now = timezone.now()
    locked.status = ReportStatus.SUBMITTED
    locked.signed_by_person = person
    locked.signed_name = person.name
    locked.signed_by_account = signer
    locked.signed_on_device_of = actor if actor.pk != signer.pk else None
    locked.signed_at = now
    locked.submitted_at = now
    locked.save()
    inspection_events.self_check_signed(
        actor=actor, signer=signer, report=locked, before=before, after=snapshot(locked)
    )
    notices.self_check_submitted(report=locked, actor=actor)
    return locked


# --- 镇阶段性进展 ------------------------------------------------------------------------------


@transaction.atomic
def progress_save(
    *, actor: User, phase: CampaignPhase, progress: str, problems: str, measures: str, submit: bool = False
) -> TownProgressReport:
    unit = permissions.require_unit(actor)
    if unit.level != RegionLevel.TOWN:
        raise PermissionDenied("阶段性进展由镇应急管理中心填报。")
    if not Campaign.objects.visible_to(actor).filter(pk=phase.campaign_id).exists():
        raise ValidationError({"phase": "专项行动不存在或不在您的辖区内。"})
    report = TownProgressReport.objects.select_for_update().filter(phase=phase, town=unit).first()
    if report is not None and report.status == ProgressStatus.SUBMITTED:
        raise ValidationError("本阶段进展已报送，不能再修改。")
    before = snapshot(report) if report is not None else None
    if report is None:
        report = TownProgressReport(campaign_id=phase.campaign_id, phase=phase, town=unit, created_by=actor)
    report.progress, report.problems, report.measures = progress.strip(), problems.strip(), measures.strip()
    if submit:
        if not report.progress:
            raise ValidationError({"progress": "报送前请填写工作进展。"})
        report.status = ProgressStatus.SUBMITTED
        report.submitted_by = actor
        report.submitted_at = timezone.now()
    report.save()
    if submit:
        inspection_events.progress_submitted(actor=actor, report=report, before=before, after=snapshot(report))
    elif before is None:
        audit_events.record_created(actor=actor, instance=report, after=snapshot(report))
    else:
        audit_events.record_updated(actor=actor, instance=report, before=before, after=snapshot(report))
    return report


# --- Deliverables -----------------------------------------------------------------------------

SUBMITTABLE_KINDS = frozenset({DeliverableKind.UPLOAD, DeliverableKind.FORM, DeliverableKind.MONTHLY_TABLE})


@transaction.atomic
def submission_create(
    *,
    actor: User,
    deliverable: Deliverable,
    due_date: dt.date,
    title: str = "",
    content: str = "",
    file: UploadedFile | None = None,
) -> DeliverableSubmission:
    """A town's (or an enterprise's) filing of a deliverable for one of its due dates."""
    if deliverable.kind not in SUBMITTABLE_KINDS:
        raise ValidationError("该材料由系统根据记录自动统计，无需上传。")
    if not Campaign.objects.visible_to(actor).filter(pk=deliverable.campaign_id).exists():
        raise ValidationError("专项行动不存在或不在您的辖区内。")
    town: Region | None = None
    enterprise: Enterprise | None = None
    if deliverable.submitter == DeliverableSubmitter.TOWN:
        unit = permissions.acting_unit(actor)
        if unit is None or unit.level != RegionLevel.TOWN:
            raise PermissionDenied("该材料由镇应急管理中心报送。")
        town = unit
    else:
        if actor.enterprise_id is None or actor.enterprise is None:
            raise PermissionDenied("该材料由企业报送。")
        enterprise = actor.enterprise
    if due_date not in deliverable.due_dates():
        raise ValidationError({"due_date": "截止日期不在该材料的报送安排中。"})
    if deliverable.kind == DeliverableKind.UPLOAD and file is None:
        raise ValidationError({"file": "请上传文件。"})
    if file is None and not content.strip():
        raise ValidationError("请上传附件或填写内容。")
    submission = DeliverableSubmission(
        deliverable=deliverable, town=town, enterprise=enterprise, due_date=due_date, title=title.strip(),
        content=content.strip(), submitted_by=actor, submitted_at=timezone.now(),
    )  # fmt: skip
    if file is not None:
        submission.original_name = validate_upload(file)
        submission.file.save(submission.original_name, file, save=False)
    submission.save()
    inspection_events.deliverable_submitted(actor=actor, submission=submission, after=snapshot(submission))
    return submission


@transaction.atomic
def submission_record_table(
    *, actor: User, deliverable: Deliverable, town: Region, due_date: dt.date, title: str
) -> DeliverableSubmission | None:
    """A town submitted the monthly table this deliverable is (`Deliverable.table`): the filing is
    recorded once per due date, so the 材料报送情况 grid, the reminders and the warnings see it.
    Called by reporting.services.report_submit; a second submission of the same month adds nothing."""
    if not deliverable.table or deliverable.submitter != DeliverableSubmitter.TOWN:
        return None
    if due_date not in deliverable.due_dates():
        return None
    if DeliverableSubmission.objects.filter(deliverable=deliverable, town=town, due_date=due_date).exists():
        return None
    submission = DeliverableSubmission.objects.create(
        deliverable=deliverable, town=town, due_date=due_date, title=title, content="在线报送月度报表",
        submitted_by=actor, submitted_at=timezone.now(),
    )  # fmt: skip
    inspection_events.deliverable_table_recorded(actor=actor, submission=submission, after=snapshot(submission))
    return submission


# --- Reminders (beat) -------------------------------------------------------------------------

REMIND_DAYS_BEFORE = (3, 1)


def _recipients(town: Region | None, enterprise: Enterprise | None) -> list[User]:
    users = User.objects.filter(is_active=True)
    if town is not None:
        return list(users.filter(role=Role.TOWN_STAFF, region=town))
    return list(users.filter(enterprise=enterprise, role__in=sorted(permissions.ENTERPRISE_ROLES)))


def deliverable_send_reminders(*, today: dt.date | None = None) -> dict[str, int]:
    """Reminds whoever has not filed, 3 days and 1 day before each due date. Safe to run twice: each
    (deliverable, due date, recipient, days before) is claimed by inserting its unique row first."""
    from hazards.choices import NotificationKind
    from hazards.services import notify
    from inspections.deliverables import outstanding

    today = today or timezone.localdate()
    sent = skipped = 0
    horizon = today + dt.timedelta(days=max(REMIND_DAYS_BEFORE))
    campaigns = Campaign.objects.filter(end_date__gte=today, start_date__lte=horizon).select_related("issuing_region")
    for campaign in campaigns:
        towns = list(
            Region.objects.filter(in_subtree(campaign.issuing_region.path), level=RegionLevel.TOWN).order_by("code")
        )
        for days_before in REMIND_DAYS_BEFORE:
            due = today + dt.timedelta(days=days_before)
            for deliverable, town, enterprise in outstanding(campaign=campaign, towns=towns, due=due, today=today):
                key = f"town:{town.pk}" if town is not None else f"enterprise:{enterprise.pk if enterprise else 0}"
                recipients = _recipients(town, enterprise)
                try:
                    with transaction.atomic():
                        DeliverableReminder.objects.create(
                            deliverable=deliverable, due_date=due, days_before=days_before, recipient_key=key,
                            town=town, enterprise=enterprise,
                            recipients="、".join(user.get_username() for user in recipients),
                        )  # fmt: skip
                        message = (
                            f"【报送提醒】{campaign.name}：{deliverable.name}将于{due:%Y年%m月%d日}截止"
                            f"（还有{days_before}天），请及时报送{deliverable.recipients}。"
                        )
                        notify(recipients=recipients, hazard=None, message=message, kind=NotificationKind.DUE_SOON)
                except IntegrityError:
                    skipped += 1  # already reminded (another run claimed it)
                    continue
                sent += 1
    return {"sent": sent, "skipped": skipped}
