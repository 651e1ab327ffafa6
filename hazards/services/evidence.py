"""Evidence files of hazards (checked by portal.upload_types) and their thumbnails."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import PurePath
from typing import IO

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import transaction

from hazards.choices import EvidenceKind
from hazards.models import Hazard, HazardEvidence
from hazards.permissions import check_action
from hazards.services.base import A, _lock, _record
from portal.audit import audit_record, snapshot
from portal.choices import AuditAction
from portal.images import is_raster, make_thumbnail, thumbnail_name
from portal.models import User
from portal.upload_types import DOCUMENTS, check_upload

# --- evidence -----------------------------------------------------------------------------------


@transaction.atomic
def hazard_add_evidence(
    *,
    actor: User,
    hazard: Hazard,
    file: IO[bytes] | File,
    original_name: str,
    kind: str,
    description: str = "",
) -> HazardEvidence:
    """Attach a photo or document (portal.upload_types.DOCUMENTS) to an open hazard."""
    if kind not in EvidenceKind.values:
        raise ValidationError({"kind": "请选择材料类型。"})
    locked = _lock(actor=actor, hazard=hazard, expect_status=False)
    check_action(actor, locked, A.ADD_EVIDENCE)
    # The one upload check (portal.upload_types): size, type by content, pixel bounds.
    extension = check_upload(file, name=original_name, purpose=DOCUMENTS).extension
    digest = hashlib.sha256()
    size = 0
    file.seek(0)
    while chunk := file.read(1024 * 1024):
        size += len(chunk)
        digest.update(chunk)
    file.seek(0)
    thumbnail = b""
    if is_raster(extension):  # pixel bounds from the header, before anything decodes it
        thumbnail = make_thumbnail(file)
    evidence = HazardEvidence(
        hazard=locked,
        kind=kind,
        original_name=PurePath(original_name.replace("\\", "/")).name[:255] or f"file{extension}",
        size=size,
        sha256=digest.hexdigest(),
        description=description.strip()[:200],
        uploaded_by=actor,
    )
    evidence.file.save(f"{uuid.uuid4().hex}{extension}", file if isinstance(file, File) else File(file), save=False)
    stored_name = evidence.file.name
    if thumbnail:
        evidence.thumbnail.save(thumbnail_name(stored_name), ContentFile(thumbnail), save=False)
    try:
        evidence.save()
        before = snapshot(locked)
        _record(
            actor=actor, hazard=locked, action=A.ADD_EVIDENCE, from_status=locked.status, before=before,
            comment=evidence.original_name,
            data={"evidence": evidence.pk, "kind": kind, "sha256": evidence.sha256, "size": size},
        )  # fmt: skip
    except Exception:
        evidence.file.storage.delete(stored_name)
        if evidence.thumbnail:
            evidence.thumbnail.storage.delete(evidence.thumbnail.name)
        raise
    return evidence


@transaction.atomic
def evidence_make_thumbnail(*, evidence: HazardEvidence) -> bool:
    """For a photo stored before thumbnails existed (manage.py make_thumbnails): made from the original when
    it is within the pixel bounds. False when it is not a photo, already has one, or cannot have one."""
    if evidence.thumbnail or not is_raster(evidence.file.name or ""):
        return False
    try:
        with evidence.file.open("rb") as handle:
            content = make_thumbnail(handle)
    except (OSError, ValidationError):
        return False
    evidence.thumbnail.save(thumbnail_name(evidence.file.name), ContentFile(content), save=False)
    HazardEvidence.objects.filter(pk=evidence.pk).update(thumbnail=evidence.thumbnail.name)
    audit_record(actor=None, action=AuditAction.UPDATE, instance=evidence, detail="生成缩略图")
    return True
