"""Writes to the directory. Each function is one transaction that also writes its audit row.

Views, forms, serializers and the admin validate input and then call these; nothing else
saves directory records.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError

from portal.audit import audit_record, snapshot
from portal.choices import AuditAction, RegionLevel
from portal.models import Enterprise, ParentCompany, Person, Region, User

_LEVEL_ORDER = [RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY, RegionLevel.TOWN]


def _region_path(*, code: str, parent: Region | None) -> str:
    return f"{parent.path if parent else '/'}{code}/"


@transaction.atomic
def region_create(*, actor: User | None, code: str, name: str, level: str, parent: Region | None) -> Region:
    if parent is not None and _LEVEL_ORDER.index(RegionLevel(level)) <= _LEVEL_ORDER.index(RegionLevel(parent.level)):
        raise ValidationError({"level": "下级区划的级别必须低于上级区划。"})
    region = Region(code=code, name=name, level=level, parent=parent, path=_region_path(code=code, parent=parent))
    region.full_clean()
    region.save()
    audit_record(actor=actor, action=AuditAction.CREATE, instance=region, after=snapshot(region))
    return region


def _apply(instance: Any, data: dict[str, Any]) -> None:
    for key, value in data.items():
        setattr(instance, key, value)


@transaction.atomic
def enterprise_create(*, actor: User | None, **fields: Any) -> Enterprise:
    enterprise = Enterprise(**fields)
    enterprise.full_clean()
    enterprise.save()
    audit_record(actor=actor, action=AuditAction.CREATE, instance=enterprise, after=snapshot(enterprise))
    return enterprise


@transaction.atomic
def enterprise_update(*, actor: User | None, enterprise: Enterprise, data: dict[str, Any]) -> Enterprise:
    # Lock the row so that two editors do not overwrite each other's audit trail.
    locked = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    before = snapshot(locked)
    _apply(locked, data)
    locked.full_clean()
    after = snapshot(locked)
    if after == before:
        return locked
    locked.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, instance=locked, before=before, after=after)
    return locked


@transaction.atomic
def enterprise_delete(*, actor: User | None, enterprise: Enterprise) -> None:
    before = snapshot(enterprise)
    audit_record(actor=actor, action=AuditAction.DELETE, instance=enterprise, before=before)
    enterprise.delete()


@transaction.atomic
def parent_company_create(*, actor: User | None, **fields: Any) -> ParentCompany:
    company = ParentCompany(**fields)
    company.full_clean()
    company.save()
    audit_record(actor=actor, action=AuditAction.CREATE, instance=company, after=snapshot(company))
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
    audit_record(actor=actor, action=AuditAction.UPDATE, instance=locked, before=before, after=after)
    return locked


@transaction.atomic
def parent_company_delete(*, actor: User | None, company: ParentCompany) -> None:
    """Refused (ProtectedError) while enterprises still belong to it; its people go with it, each audited."""
    if company.enterprises.exists():
        raise ProtectedError("该上级企业下仍有企业，不能删除。", set(company.enterprises.all()))
    for person in company.people.all():
        audit_record(actor=actor, action=AuditAction.DELETE, instance=person, before=snapshot(person))
    audit_record(actor=actor, action=AuditAction.DELETE, instance=company, before=snapshot(company))
    company.delete()


@transaction.atomic
def person_create(*, actor: User | None, **fields: Any) -> Person:
    person = Person(**fields)
    person.full_clean()
    person.save()
    audit_record(actor=actor, action=AuditAction.CREATE, instance=person, after=snapshot(person))
    return person


@transaction.atomic
def person_update(*, actor: User | None, person: Person, data: dict[str, Any]) -> Person:
    before = snapshot(person)
    _apply(person, data)
    person.full_clean()
    person.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, instance=person, before=before, after=snapshot(person))
    return person


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
    user.save()
    audit_record(actor=actor, action=AuditAction.CREATE, instance=user, after=snapshot(user))
    return user


@transaction.atomic
def user_update(*, actor: User | None, user: User, data: dict[str, Any]) -> User:
    before = snapshot(user)
    _apply(user, data)
    user.full_clean()
    user.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, instance=user, before=before, after=snapshot(user))
    return user


@transaction.atomic
def user_set_password(*, actor: User | None, user: User, password: str) -> None:
    password_validation.validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(actor=actor, action=AuditAction.UPDATE, instance=user, detail="修改密码")
