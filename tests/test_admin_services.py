"""The admin site is a view over the services: every registered ModelAdmin × add/change/delete × the cast.

Each write through /admin/ either goes through a service (its SQL runs inside a service hook, an audit row
names 管理后台, the row stays in the actor's scope) or is refused. A new ModelAdmin that writes without
naming its services fails `test_every_model_admin_writes_only_through_service_hooks`; a new writable one
also needs an entry in WRITABLE below (an object to change and delete, and a change to make).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib import admin
from django.db import connection, models
from django.test import Client, RequestFactory

from hazards.choices import MineType
from hazards.models import MajorHazardCriterion
from inspections.models import Campaign, ChecklistArea, Holiday, HolidayYear, WarningSettings
from portal.audit import current_channel
from portal.choices import RegionLevel, Role
from portal.models import AuditEvent, Enterprise, ParentCompany, Person, Region, User
from portal.service_admin import ADMIN_CHANNEL, ServiceAdmin, ServiceInline, provides
from tests.admin_forms import form_data
from tests.conftest import Cast, World
from tests.factories import EnterpriseFactory, ParentCompanyFactory, PersonFactory, RegionFactory, UserFactory
from tests.otp_helpers import force_login_verified

ACTIONS = ("add", "change", "delete")
# Bookkeeping of Django and the login itself, not records of the portal.
NOT_RECORDS = ("django_session", "django_admin_log", "otp_totp_totpdevice", "axes_")


@dataclass
class Writable:
    make: Callable[[World], models.Model]
    change: dict[str, str]
    expected: dict[str, Any] = field(default_factory=dict)


def _campaign(world: World) -> Campaign:
    return Campaign.objects.create(
        name="本县测试行动", issuing_region=world.county, start_date=dt.date(2025, 3, 1), end_date=dt.date(2025, 5, 31)
    )


WRITABLE: dict[type[models.Model], Writable] = {
    Region: Writable(
        lambda w: RegionFactory(code="140525199", name="测试镇", level=RegionLevel.TOWN, parent=w.county),
        {"name": "改名镇"},
    ),
    ParentCompany: Writable(lambda w: ParentCompanyFactory(region=w.county), {"name": "改名集团有限公司"}),
    Enterprise: Writable(lambda w: EnterpriseFactory(town=w.town_b), {"address": "高都镇新地址"}),
    Person: Writable(lambda w: PersonFactory(enterprise=w.enterprise_b), {"name": "李四"}),
    User: Writable(
        lambda w: UserFactory(username="walk_user", role=Role.TOWN_STAFF, region=w.town_b), {"full_name": "新名字"}
    ),
    MajorHazardCriterion: Writable(
        lambda w: MajorHazardCriterion.objects.create(
            document="泽应急〔2025〕9号",
            mine_type=MineType.OPEN_PIT,
            number=1,
            label="（一）",
            text="本县条目",
            region=w.county,
        ),
        {"note": "本县补充说明"},
    ),
    Campaign: Writable(_campaign, {"summary": "新的工作目标"}),
    ChecklistArea: Writable(
        lambda w: ChecklistArea.objects.create(campaign=_campaign(w), title="检查方面一"), {"title": "检查方面二"}
    ),
    # The working-day calendar is national data entered by an admin (inspections.calendar_services).
    Holiday: Writable(
        lambda w: Holiday.objects.create(date=dt.date(2031, 10, 1), kind=Holiday.Kind.OFF, name="国庆节"),
        {"name": "国庆"},
    ),
    HolidayYear: Writable(lambda w: HolidayYear.objects.create(year=2031), {"notice": "国办发明电〔2030〕1号"}),
    WarningSettings: Writable(
        lambda w: WarningSettings.objects.create(county=w.county),
        {"long_open_major_hazard_days": "30"},
        expected={"long_open_major_hazard_days": 30},
    ),
}

REGISTRY = dict(admin.site._registry)


def _label(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def _superuser() -> User:
    return UserFactory(username="root", role="", is_superuser=True, is_staff=True)


@contextmanager
def record_writes() -> Iterator[list[tuple[str, str]]]:
    """Every INSERT/UPDATE/DELETE of a portal record, with the channel it ran in ("管理后台" inside a hook)."""
    writes: list[tuple[str, str]] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        verb = sql.lstrip().split(" ", 1)[0].upper()
        if verb in {"INSERT", "UPDATE", "DELETE"} and not any(name in sql for name in NOT_RECORDS):
            writes.append((current_channel.get(), sql[:160]))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield writes


def _request(user: User) -> Any:
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


# --- the structure: no ModelAdmin writes around the hooks ---------------------------------------------


@pytest.mark.parametrize("model", list(REGISTRY), ids=_label)
def test_every_model_admin_writes_only_through_service_hooks(model: type[models.Model], db: None) -> None:
    model_admin = REGISTRY[model]
    root = _request(_superuser())
    offered = {
        "add": model_admin.has_add_permission(root),
        "change": model_admin.has_change_permission(root),
        "delete": model_admin.has_delete_permission(root),
    }
    for action in ACTIONS:
        if offered[action]:
            assert isinstance(model_admin, ServiceAdmin) and provides(model_admin, action), (
                f"{_label(model)} offers {action} without a service hook"
            )
    if any(offered.values()):
        # The hooks are the only writes: nobody overrides the methods that call them.
        for method in ("save_model", "save_related", "save_formset", "delete_model", "delete_queryset"):
            assert getattr(type(model_admin), method) is getattr(ServiceAdmin, method), (_label(model), method)
        assert model in WRITABLE, f"{_label(model)} is writable: add it to WRITABLE in {__name__}"
    for inline in model_admin.get_inline_instances(root):
        for action in ACTIONS:
            allowed = getattr(inline, f"has_{action}_permission")(root, None)
            if allowed:
                assert isinstance(inline, ServiceInline) and provides(inline, action), (
                    f"{_label(model)}: inline {type(inline).__name__} offers {action} without a service hook"
                )


# Admin actions besides "delete_selected" (which deletes through delete_queryset, i.e. the hooks): each one
# named here with the service it calls; a new action must be added (and call its service via call_service).
SERVICE_ACTIONS = {("reporting.scheduledrun", "allow_again"): "reporting.services.scheduled_run_allow_again"}


@pytest.mark.parametrize("model", list(REGISTRY), ids=_label)
def test_every_admin_action_is_a_service(model: type[models.Model], db: None) -> None:
    model_admin = REGISTRY[model]
    for name in model_admin.get_actions(_request(_superuser())):
        if name == "delete_selected":
            assert type(model_admin).delete_queryset is ServiceAdmin.delete_queryset or not provides(
                model_admin, "delete"
            )
            continue
        assert (_label(model), name) in SERVICE_ACTIONS, f"{_label(model)}: admin action {name} names no service"


def test_groups_and_permissions_are_not_offered() -> None:
    from django.contrib.auth.models import Group, Permission

    assert Group not in REGISTRY and Permission not in REGISTRY


# --- the walk: every registered ModelAdmin × add/change/delete × the cast -------------------------------


def _members(cast: Cast) -> dict[str, User]:
    members = cast.all()
    for user in members.values():
        user.is_staff = True  # even if someone ticked the box by mistake
        user.save()
    members["superuser"] = _superuser()
    return members


def _audited(model: type[models.Model], pk: Any, action: str) -> bool:
    return AuditEvent.objects.filter(
        action=action, object_type=str(model._meta.verbose_name), object_id=str(pk), detail__startswith=ADMIN_CHANNEL
    ).exists()


@pytest.mark.parametrize("model", list(REGISTRY), ids=_label)
def test_every_admin_write_goes_through_a_service_or_is_refused(
    model: type[models.Model], cast: Cast, world: World
) -> None:
    model_admin = REGISTRY[model]
    spec = WRITABLE.get(model)
    info = (model._meta.app_label, model._meta.model_name)
    for name, user in _members(cast).items():
        is_admin = user.is_superuser or user.role == Role.ADMIN
        client = Client()
        force_login_verified(client, user)
        request = _request(user)
        may = {
            "add": is_admin and model_admin.has_add_permission(request),
            "change": is_admin and spec is not None,
            "delete": is_admin and spec is not None and model_admin.has_delete_permission(request),
        }
        # Add: the page, and an empty form sent (refused, or re-shown with its errors): nothing written.
        add_url = f"/admin/{info[0]}/{info[1]}/add/"
        with record_writes() as writes:
            page = client.get(add_url)
            sent = client.post(add_url, {"_save": "保存"})
        assert page.status_code == (200 if may["add"] else 403), (name, add_url)
        assert sent.status_code == (200 if may["add"] else 403), (name, add_url)
        assert writes == [], (name, add_url, writes)

        obj = spec.make(world) if spec is not None else model_admin.get_queryset(request).first()
        if obj is None:
            continue
        change_url = f"/admin/{info[0]}/{info[1]}/{obj.pk}/change/"
        delete_url = f"/admin/{info[0]}/{info[1]}/{obj.pk}/delete/"
        if not is_admin:
            for url in (change_url, delete_url):
                with record_writes() as writes:
                    assert client.get(url).status_code == 403, (name, url)
                    assert client.post(url, {"post": "yes", "_save": "保存"}).status_code == 403, (name, url)
                assert writes == [], (name, url, writes)
            assert model._default_manager.filter(pk=obj.pk).exists()
            obj.delete() if spec is not None else None
            continue

        # Change: the page's own form sent back with one change.
        page = client.get(change_url)
        if not model_admin.has_view_permission(request, obj):
            assert page.status_code == 403, (name, change_url)
        assert page.status_code in (200, 403), (name, change_url, page.status_code)
        data = form_data(page.content.decode())
        if spec is not None:
            data.update(spec.change)
        with record_writes() as writes:
            response = client.post(change_url, data)
        assert all(channel == ADMIN_CHANNEL for channel, _sql in writes), (name, change_url, writes)
        if may["change"] and spec is not None:
            assert response.status_code == 302, (name, change_url, response.content.decode()[:3000])
            stored = model._default_manager.get(pk=obj.pk)
            expected = spec.expected or spec.change
            for key, value in expected.items():
                assert getattr(stored, key) == value, (name, key)
            assert _audited(model, obj.pk, "update"), (name, change_url)
        else:
            assert response.status_code == 403 or writes == [], (name, change_url)

        # Delete.
        with record_writes() as writes:
            response = client.post(delete_url, {"post": "yes"})
        assert all(channel == ADMIN_CHANNEL for channel, _sql in writes), (name, delete_url, writes)
        if may["delete"]:
            assert response.status_code == 302, (name, delete_url)
            assert not model._default_manager.filter(pk=obj.pk).exists(), (name, delete_url)
            assert _audited(model, obj.pk, "delete"), (name, delete_url)
        else:
            assert response.status_code == 403, (name, delete_url)
            assert model._default_manager.filter(pk=obj.pk).exists()
            if spec is not None:
                obj.delete()
