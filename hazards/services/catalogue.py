"""The catalogue of major-hazard criteria (判定依据) and who may edit it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from hazards.models import MajorHazardCriterion
from hazards.permissions import effective_roles
from portal.audit import audit_record, snapshot
from portal.choices import AuditAction, Role
from portal.models import User

# --- the 判定依据 catalogue (admins extend it) ------------------------------------------------------

CRITERION_FIELDS = frozenset({"document", "mine_type", "number", "label", "text", "sub_items", "note", "is_active"})


def _check_catalogue_admin(actor: User) -> None:
    if Role.ADMIN not in effective_roles(actor):
        raise PermissionDenied("只有管理员可以维护重大事故隐患判定依据。")


def may_edit_criterion(user: Any, criterion: MajorHazardCriterion) -> bool:
    """The national catalogue only by a superuser; a county's own items by the county's 管理员 (or a superuser)."""
    if getattr(user, "is_superuser", False):
        return True
    if criterion.region is None or user.role != Role.ADMIN or user.region_id is None:
        return False
    return criterion.region.path.startswith(user.region_path)


def _require_criterion_owner(actor: User, criterion: MajorHazardCriterion) -> None:
    if may_edit_criterion(actor, criterion):
        return
    if criterion.is_national:
        raise PermissionDenied(
            f"全国性判定依据（{criterion.document}）只能由超级管理员修改或停用；县（市、区）可以新增本辖区的补充条目。"
        )
    raise PermissionDenied("只能修改本辖区补充的判定依据条目。")


def _criterion_region(actor: User, data: dict[str, Any]) -> Any:
    """The region a new item belongs to: the superuser chooses (none: national); a county admin's county."""
    if actor.is_superuser:
        return data.pop("region", None)
    chosen = data.pop("region", actor.region)
    if actor.region is None or chosen != actor.region:
        raise PermissionDenied("县（市、区）新增的判定依据只属于本辖区；全国性条目只能由超级管理员新增。")
    return actor.region


@transaction.atomic
def criterion_create(*, actor: User, data: dict[str, Any]) -> MajorHazardCriterion:
    """Add an item to the 判定依据 catalogue: national (superuser) or the county's own (its 管理员); audited."""
    _check_catalogue_admin(actor)
    data = dict(data)
    region = _criterion_region(actor, data)
    unknown = sorted(set(data) - CRITERION_FIELDS)
    if unknown:
        raise ValidationError(f"不能设置这些字段：{'、'.join(unknown)}。")
    document = str(data.get("document", "")).strip()
    if region is not None and MajorHazardCriterion.objects.filter(document=document, region__isnull=True).exists():
        # A county does not add items under a national document's number (they would pass for national ones).
        raise PermissionDenied(
            f"{document}是全国性判定依据，只有超级管理员可以新增其条目；本辖区的补充条目请填写本地文件文号。"
        )
    criterion = MajorHazardCriterion(region=region, **data)
    criterion.full_clean()
    criterion.save()
    audit_record(
        actor=actor, action=AuditAction.CREATE, instance=criterion, after=snapshot(criterion),
        detail=f"新增判定依据 {criterion}",
    )  # fmt: skip
    return criterion


@transaction.atomic
def criterion_update(*, actor: User, criterion: MajorHazardCriterion, data: dict[str, Any]) -> MajorHazardCriterion:
    """Correct or deactivate a catalogue item (items cited by hazards are deactivated, never deleted).

    National items (矿安〔2022〕88号) change only by a superuser; a county's own items by its 管理员."""
    _check_catalogue_admin(actor)
    allowed = CRITERION_FIELDS | {"region"} if actor.is_superuser else CRITERION_FIELDS
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(f"不能修改这些字段：{'、'.join(unknown)}。")
    locked = MajorHazardCriterion.objects.select_for_update().get(pk=criterion.pk)
    _require_criterion_owner(actor, locked)
    before = snapshot(locked)
    for key, value in data.items():
        setattr(locked, key, value.strip() if isinstance(value, str) else value)
    if (
        locked.region_id is not None
        and "document" in data
        and MajorHazardCriterion.objects.filter(document=locked.document, region__isnull=True).exists()
    ):
        raise PermissionDenied(f"{locked.document}是全国性判定依据，县（市、区）的补充条目请填写本地文件文号。")
    locked.full_clean()
    if snapshot(locked) == before:
        return locked
    locked.save()
    audit_record(
        actor=actor, action=AuditAction.UPDATE, instance=locked, before=before, after=snapshot(locked),
        detail=f"修改判定依据 {locked}",
    )  # fmt: skip
    return locked
