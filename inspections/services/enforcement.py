"""Writes of enforcement records and their attachments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from hazards.models import Hazard
from inspections.choices import ENFORCEMENT_TARGET, TALK_KINDS, EnforcementTarget
from inspections.files import validate_upload
from inspections.models import Campaign, EnforcementAttachment, EnforcementRecord, Exam, Inspection
from inspections.rules import recording_unit
from inspections.services.common import _checked_hazards, _not_in_future, _require_visible_campaign, principal_of
from inspections.services.field_work import _mark_inspection
from portal import audit_events, rules
from portal.audit import snapshot
from portal.models import Enterprise, ParentCompany, Person, User

# --- Enforcement and accountability records ---------------------------------------------------

ENFORCEMENT_FIELDS = (
    "kind", "date", "enterprise", "parent_company", "person", "person_name", "person_title", "amount",
    "document_number", "campaign", "inspection", "exam", "description", "hazards",
)  # fmt: skip


def _with_hazards(data: dict[str, Any], hazards: Iterable[Hazard]) -> dict[str, Any]:
    return {**data, "hazards": sorted(h.pk for h in hazards)}


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
    # The record's issuing unit is the actor's own (set on create, required by update and the importer),
    # so "for whom may the actor record" is the scope of the record.
    if record.enterprise is not None:
        rules.require(actor, "inspections.record_for_enterprise", record.enterprise)
    if record.parent_company is not None:
        rules.require(actor, "inspections.record_for_parent_company", record.parent_company)
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
    unit = recording_unit(actor)
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
    rules.require(actor, "inspections.change_unit_record", record.issuing_unit)
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
    rules.require(actor, "inspections.change_unit_record", record.issuing_unit)
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
    rules.require(actor, "inspections.change_unit_record", record.issuing_unit)
    return _add_enforcement_attachment(actor=actor, record=record, upload=upload)


@transaction.atomic
def enforcement_attachment_delete(*, actor: User, attachment: EnforcementAttachment) -> None:
    rules.require(actor, "inspections.change_unit_record", attachment.record.issuing_unit)
    audit_events.record_deleted(actor=actor, instance=attachment, before=snapshot(attachment))
    stored = attachment.file
    attachment.delete()
    transaction.on_commit(lambda: stored.storage.delete(stored.name) if stored.name else None)
