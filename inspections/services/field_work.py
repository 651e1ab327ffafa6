"""Writes of 督查组, inspections (photos, hazards found) and 逢查必考 exams."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from hazards.choices import HazardSource
from hazards.models import Hazard
from inspections import audit_events as inspection_events
from inspections.choices import InspectionMethod
from inspections.files import validate_upload
from inspections.models import Campaign, Exam, Inspection, InspectionPhoto, InspectionTeam
from inspections.rules import recording_unit
from inspections.services.common import _checked_hazards, _not_in_future, _require_visible_campaign
from portal import audit_events, rules
from portal.audit import snapshot
from portal.choices import PersonRole, RegionLevel
from portal.images import is_raster, make_thumbnail, thumbnail_name
from portal.models import Enterprise, Person, User

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
    unit = recording_unit(actor)
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
    rules.require(actor, "inspections.change_unit_record", team.unit)
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
    rules.require(actor, "inspections.change_unit_record", team.unit)
    audit_events.record_deleted(actor=actor, instance=team, before=snapshot(team))
    team.delete()


# --- Inspections ------------------------------------------------------------------------------

INSPECTION_FIELDS = (
    "enterprise", "date", "method", "campaign", "team", "leader", "members", "findings", "talk_held", "exam_held",
)  # fmt: skip


def _validate_inspection(actor: User, inspection: Inspection) -> None:
    # inspection.unit is the actor's own unit (set on create, required by update).
    rules.require(actor, "inspections.record_for_enterprise", inspection.enterprise)
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
    unit = recording_unit(actor)
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
    rules.require(actor, "inspections.change_unit_record", inspection.unit)
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
    rules.require(actor, "inspections.change_unit_record", inspection.unit)
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
    rules.require(actor, "inspections.change_unit_record", inspection.unit)
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

    rules.require(actor, "inspections.change_unit_record", inspection.unit)
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
    rules.require(actor, "inspections.change_unit_record", inspection.unit)
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
    unit = recording_unit(actor)
    rules.require(actor, "inspections.record_for_enterprise", enterprise)
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
