"""Writes to the directory. Each function is one transaction that also writes its audit row.

Views, forms, serializers and the admin validate input and then call these; nothing else
saves directory records.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError

from portal import audit_events, rules
from portal.audit import snapshot
from portal.choices import RegionLevel, Role
from portal.models import Enterprise, ParentCompany, Person, Region, User
from portal.scoping import in_subtree, path_within
from portal.tokens.services import api_token_revoke_all

_LEVEL_ORDER = [RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY, RegionLevel.TOWN]


def _region_path(*, code: str, parent: Region | None) -> str:
    return f"{parent.path if parent else '/'}{code}/"


def _is_superuser(actor: Any) -> bool:
    return bool(actor is not None and actor.is_superuser)


def _require_region_admin(actor: User | None, region: Region | None, *, what: str) -> None:
    """A region below the actor's own is theirs to manage: the superuser's everywhere, a county 管理员's in the
    county (never the county itself, nor anything above or beside it). `actor=None` is the system (seeds)."""
    if actor is None or _is_superuser(actor):
        return
    if not rules.is_region_admin(actor):
        raise PermissionDenied("只有管理员可以维护行政区划。")
    if region is None or not path_within(region.path, actor.region_path):
        raise PermissionDenied(f"{what}必须在您的辖区（{actor.region}）内。")


def _check_region_level(*, level: str, parent: Region | None) -> None:
    if parent is not None and _LEVEL_ORDER.index(RegionLevel(level)) <= _LEVEL_ORDER.index(RegionLevel(parent.level)):
        raise ValidationError({"level": "下级区划的级别必须低于上级区划。"})


@transaction.atomic
def region_create(*, actor: User | None, code: str, name: str, level: str, parent: Region | None) -> Region:
    """Adds a region under `parent` (which must be in the actor's scope); its path is computed here."""
    _require_region_admin(actor, parent, what="上级区划")
    _check_region_level(level=level, parent=parent)
    region = Region(code=code, name=name, level=level, parent=parent, path=_region_path(code=code, parent=parent))
    region.full_clean()
    region.save()
    audit_events.record_created(actor=actor, instance=region, after=snapshot(region))
    return region


REGION_EDITABLE_FIELDS = frozenset({"code", "name", "level", "parent"})


@transaction.atomic
def region_update(*, actor: User | None, region: Region, data: dict[str, Any]) -> Region:
    """Renames or moves a region below the actor's own; the paths of its whole subtree follow."""
    unknown = sorted(set(data) - REGION_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"不能修改这些字段：{'、'.join(unknown)}。")
    locked = Region.objects.select_for_update().get(pk=region.pk)
    if actor is not None and not _is_superuser(actor) and locked.pk == actor.region_id:
        raise PermissionDenied("不能修改您自己所属的辖区。")
    _require_region_admin(actor, locked.parent, what="区划")
    before = snapshot(locked)
    old_path = locked.path
    _apply(locked, data)
    _require_region_admin(actor, locked.parent, what="上级区划")
    if locked.parent is not None and path_within(locked.parent.path, old_path):
        raise ValidationError({"parent": "上级区划不能是本区划或其下级区划。"})
    _check_region_level(level=locked.level, parent=locked.parent)
    locked.path = _region_path(code=locked.code, parent=locked.parent)
    locked.full_clean()
    after = snapshot(locked)
    if after == before:
        return locked
    locked.save()
    if locked.path != old_path:
        for child in Region.objects.select_for_update().filter(in_subtree(old_path)).exclude(pk=locked.pk):
            child.path = locked.path + child.path[len(old_path) :]
            child.save(update_fields=["path"])
    audit_events.record_updated(actor=actor, instance=locked, before=before, after=after)
    return locked


@transaction.atomic
def region_delete(*, actor: User | None, region: Region) -> None:
    """Refused (ProtectedError) while anything still belongs to the region."""
    if actor is not None and not _is_superuser(actor) and region.pk == actor.region_id:
        raise PermissionDenied("不能删除您自己所属的辖区。")
    _require_region_admin(actor, region.parent, what="区划")
    audit_events.record_deleted(actor=actor, instance=region, before=snapshot(region))
    region.delete()


def _apply(instance: Any, data: dict[str, Any]) -> None:
    for key, value in data.items():
        setattr(instance, key, value)


@transaction.atomic
def enterprise_create(*, actor: User | None, **fields: Any) -> Enterprise:
    enterprise = Enterprise(**fields)
    enterprise.full_clean()
    enterprise.save()
    audit_events.record_created(actor=actor, instance=enterprise, after=snapshot(enterprise))
    return enterprise


# The enterprise fields an editor sees, in the order of the directory's form and the API (the page's
# form and the API's input serializer both list exactly these).
ENTERPRISE_EDITABLE_FIELDS = (
    "name", "credit_code", "town", "industry", "production_status", "parent_company", "risk_grade",
    "standardization_grade", "license_number", "license_expiry", "address", "contact_name", "contact_phone",
)  # fmt: skip

# What an enterprise keeps itself (SPEC §1 企业填报员 "keeps the enterprise's data"): its contacts, its
# licence and the production status it reports. Name, credit code, town, industry, parent company, risk
# grade and standardization grade define supervision and scope: the bureau registers them.
ENTERPRISE_SELF_SERVICE_FIELDS = frozenset(
    {"production_status", "license_number", "license_expiry", "address", "contact_name", "contact_phone"}
)


def enterprise_field_refused(name: str) -> str:
    """The message for a field the enterprise may not change (the same in the service, API and form)."""
    field = Enterprise._meta.get_field(name)
    label = getattr(field, "verbose_name", name)
    return f"企业用户不能修改“{label}”，该项由县应急管理局登记维护。"


def _refuse_forbidden_changes(
    *, before: dict[str, Any], after: dict[str, Any], allowed_fields: Collection[str]
) -> None:
    refused = {
        name: enterprise_field_refused(name)
        for name in sorted(after)
        if name not in allowed_fields and before.get(name) != after[name]
    }
    if refused:
        raise ValidationError(refused)


@transaction.atomic
def enterprise_update(
    *,
    actor: User | None,
    enterprise: Enterprise,
    data: dict[str, Any],
    allowed_fields: Collection[str] | None = None,
) -> Enterprise:
    """Changes an enterprise. With `allowed_fields`, any change to another field refuses the whole update."""
    # Lock the row so that two editors do not overwrite each other's audit trail.
    locked = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    before = snapshot(locked)
    _apply(locked, data)
    if allowed_fields is not None:
        _refuse_forbidden_changes(before=before, after=snapshot(locked), allowed_fields=allowed_fields)
    locked.full_clean()
    after = snapshot(locked)
    if after == before:
        return locked
    locked.save()
    audit_events.record_updated(actor=actor, instance=locked, before=before, after=after)
    return locked


@transaction.atomic
def enterprise_update_by_enterprise(*, actor: User, enterprise: Enterprise, data: dict[str, Any]) -> Enterprise:
    """The enterprise clerk keeps their own enterprise's data (ENTERPRISE_SELF_SERVICE_FIELDS only)."""
    if not may_edit_own_enterprise(user=actor, enterprise=enterprise):
        raise PermissionDenied("只有本企业的企业填报员可以修改本企业信息。")
    return enterprise_update(
        actor=actor, enterprise=enterprise, data=data, allowed_fields=ENTERPRISE_SELF_SERVICE_FIELDS
    )


def may_edit_own_enterprise(*, user: Any, enterprise: Enterprise) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.role == Role.ENTERPRISE_CLERK
        and user.enterprise_id is not None
        and user.enterprise_id == enterprise.pk
    )


@transaction.atomic
def enterprise_delete(*, actor: User | None, enterprise: Enterprise) -> None:
    before = snapshot(enterprise)
    audit_events.record_deleted(actor=actor, instance=enterprise, before=before)
    enterprise.delete()


@transaction.atomic
def parent_company_create(*, actor: User | None, **fields: Any) -> ParentCompany:
    company = ParentCompany(**fields)
    company.full_clean()
    company.save()
    audit_events.record_created(actor=actor, instance=company, after=snapshot(company))
    return company


@transaction.atomic
def parent_company_update(*, actor: User | None, company: ParentCompany, data: dict[str, Any]) -> ParentCompany:
    locked = ParentCompany.objects.select_for_update().get(pk=company.pk)
    before = snapshot(locked)
    _apply(locked, data)
    locked.full_clean()
    after = snapshot(locked)
    if after == before:
        return locked
    locked.save()
    audit_events.record_updated(actor=actor, instance=locked, before=before, after=after)
    return locked


@transaction.atomic
def parent_company_delete(*, actor: User | None, company: ParentCompany) -> None:
    """Refused (ProtectedError) while enterprises still belong to it; its people go with it, each audited."""
    if company.enterprises.exists():
        raise ProtectedError("该上级企业下仍有企业，不能删除。", set(company.enterprises.all()))
    for person in company.people.all():
        audit_events.record_deleted(actor=actor, instance=person, before=snapshot(person))
    audit_events.record_deleted(actor=actor, instance=company, before=snapshot(company))
    company.delete()


@transaction.atomic
def person_create(*, actor: User | None, **fields: Any) -> Person:
    person = Person(**fields)
    person.full_clean()
    person.save()
    audit_events.record_created(actor=actor, instance=person, after=snapshot(person))
    return person


@transaction.atomic
def person_update(*, actor: User | None, person: Person, data: dict[str, Any]) -> Person:
    before = snapshot(person)
    _apply(person, data)
    person.full_clean()
    person.save()
    audit_events.record_updated(actor=actor, instance=person, before=before, after=snapshot(person))
    return person


@transaction.atomic
def person_delete(*, actor: User | None, person: Person) -> None:
    audit_events.record_deleted(actor=actor, instance=person, before=snapshot(person))
    person.delete()


# --- Accounts: who may grant what -------------------------------------------------------------------------
#
# The superuser grants anything. A county 管理员 manages the accounts of their county: roles whose scope (a
# region, or an enterprise's town) lies inside the county, never superuser or staff status (the admin site)
# and never an account that is a superuser or staff. Groups and model permissions are not used by the portal.

GRANT_FLAGS = ("is_superuser", "is_staff")


def _scope_path(user: User) -> str:
    if user.enterprise_id is not None and user.enterprise is not None:
        return user.enterprise.town.path
    return user.region_path


def user_grant_refusals(*, actor: User | None, before: User | None, after: User) -> dict[str, str]:
    """What `actor` may not grant in turning `before` (None: a new account) into `after`, by field."""
    if actor is None or _is_superuser(actor):
        return {}
    if not rules.is_region_admin(actor):
        return {"__all__": "只有管理员可以管理用户账号。"}
    refused: dict[str, str] = {}
    if before is not None and (before.is_superuser or (before.is_staff and before.pk != actor.pk)):
        refused["__all__"] = "只有超级管理员可以修改超级用户或职员（可登录管理后台）的账号。"
    for flag in GRANT_FLAGS:
        if bool(getattr(after, flag)) != bool(getattr(before, flag) if before is not None else False):
            label = getattr(User._meta.get_field(flag), "verbose_name", flag)
            refused[flag] = f"只有超级管理员可以授予或取消“{label}”。"
    county = actor.region_path
    for name, target in (("原账号", before), ("账号", after)):
        if target is None:
            continue
        path = _scope_path(target)
        if not path or not path_within(path, county):
            field = "enterprise" if target.enterprise_id is not None else "region"
            refused.setdefault(field, f"{name}的数据范围必须在您的辖区（{actor.region}）内。")
    return refused


def _require_manageable(*, actor: User | None, user: User) -> None:
    """Refuses at once an account that is not the actor's to manage (before its changes are even validated)."""
    refused = user_grant_refusals(actor=actor, before=user, after=user)
    if "__all__" in refused:
        raise PermissionDenied(refused["__all__"])


def _require_grantable(*, actor: User | None, before: User | None, after: User) -> None:
    refused = user_grant_refusals(actor=actor, before=before, after=after)
    if not refused:
        return
    if "__all__" in refused:  # the account itself is not the actor's to manage
        raise PermissionDenied(refused["__all__"])
    raise ValidationError(refused)


USER_EDITABLE_FIELDS = frozenset(
    {
        "username", "full_name", "first_name", "last_name", "role", "region", "enterprise", "person", "phone",
        "email", "is_active", "is_staff", "is_superuser",
    }
)  # fmt: skip


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    password: str,
    role: str,
    full_name: str = "",
    region: Region | None = None,
    enterprise: Enterprise | None = None,
    person: Person | None = None,
    phone: str = "",
    email: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    user = User(
        username=username,
        full_name=full_name,
        role=role,
        region=region,
        enterprise=enterprise,
        person=person,
        phone=phone,
        email=email,
        is_staff=is_staff,
        is_superuser=is_superuser,
    )
    password_validation.validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    _require_grantable(actor=actor, before=None, after=user)
    user.save()
    audit_events.user_created(actor=actor, user=user, after=snapshot(user))
    return user


@transaction.atomic
def user_update(*, actor: User | None, user: User, data: dict[str, Any]) -> User:
    """Changes an account; refused (nothing changed) when it grants what the actor may not grant."""
    unknown = sorted(set(data) - USER_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"不能修改这些字段：{'、'.join(unknown)}。")
    stored = User.objects.select_for_update(of=("self",)).get(pk=user.pk)
    locked = User.objects.get(pk=user.pk)
    before = snapshot(locked)
    _require_manageable(actor=actor, user=stored)
    _apply(locked, data)
    locked.full_clean()
    _require_grantable(actor=actor, before=stored, after=locked)
    after = snapshot(locked)
    if after == before:
        return locked
    locked.save()
    audit_events.user_updated(actor=actor, user=locked, before=before, after=after)
    if before.get("is_active") and not locked.is_active:
        # A deactivated account keeps no way in (the token authentication refuses it anyway).
        api_token_revoke_all(actor=actor, user=locked, reason="账号停用")
    return locked


@transaction.atomic
def user_set_password(*, actor: User | None, user: User, password: str) -> None:
    """A new password, set by the user (password page) or reset by an admin: every API token issued under the
    old one is revoked (and the other web sessions end: Django's session auth hash no longer matches)."""
    if actor is not None and actor.pk != user.pk:
        _require_grantable(actor=actor, before=user, after=user)
    password_validation.validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    own = actor is not None and actor.pk == user.pk
    audit_events.password_changed(actor=actor, user=user)
    api_token_revoke_all(actor=actor, user=user, reason="修改密码" if own else "管理员重置密码")
