from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from portal import services
from portal.choices import Industry, ProductionStatus, RegionLevel, Role
from portal.models import AuditEvent, Enterprise, User
from portal.validators import credit_code_check_char, mask_id_number, mask_phone, validate_credit_code
from tests.conftest import Cast, World
from tests.factories import UserFactory


@pytest.mark.parametrize("code", ["91140525MA0K7XQ215", "91350100M000100Y43", "91110000600037341L"])
def test_valid_credit_codes(code: str) -> None:
    validate_credit_code(code)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91140525MA0K7XQ216", "校验码错误：第18位应为 5"),
        ("91140525MA0K7XQ2", "应为18位"),
        ("91140525MA0K7XQ2I5", "不允许的字符：I"),
        ("911405A5MA0K7XQ215", "行政区划码"),
    ],
)
def test_invalid_credit_codes_are_explained(code: str, message: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_credit_code(code)
    assert message in " ".join(excinfo.value.messages)


def test_check_char_round_trip() -> None:
    assert credit_code_check_char("91140525MA0K7XQ21") == "5"


def _fields(world: World, **overrides):  # type: ignore[no-untyped-def]
    base = {
        "name": "新登记矿业有限公司",
        "credit_code": "91140525MA0K7XQ215",
        "town": world.town_a,
        "industry": Industry.UNDERGROUND,
        "production_status": ProductionStatus.PRODUCING,
    }
    base.update(overrides)
    return base


def test_duplicate_wrong_and_missing_town_are_refused_and_nothing_saved(cast: Cast, world: World) -> None:
    before = Enterprise.objects.count()
    audits = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as duplicate:
        services.enterprise_create(actor=cast.admin, **_fields(world))
    assert "统一社会信用代码已存在" in str(duplicate.value)
    with pytest.raises(ValidationError) as wrong:
        services.enterprise_create(actor=cast.admin, **_fields(world, credit_code="91140525MA0K7XQ216"))
    assert "校验码错误" in str(wrong.value)
    with pytest.raises(ValidationError) as missing:
        services.enterprise_create(actor=cast.admin, **_fields(world, credit_code="91350100M000100Y43", town=None))
    assert "town" in missing.value.message_dict
    with pytest.raises(ValidationError) as county_as_town:
        services.enterprise_create(
            actor=cast.admin, **_fields(world, credit_code="91350100M000100Y43", town=world.county)
        )
    assert "镇/乡" in str(county_as_town.value)
    assert Enterprise.objects.count() == before
    assert AuditEvent.objects.count() == audits


def test_create_update_delete_write_audit_with_before_and_after(cast: Cast, world: World) -> None:
    enterprise = services.enterprise_create(actor=cast.admin, **_fields(world, credit_code="91350100M000100Y43"))
    created = AuditEvent.objects.get(action="create", object_id=str(enterprise.pk), object_type="非煤矿山企业")
    assert created.after["name"] == "新登记矿业有限公司"
    assert created.region_path == world.town_a.path
    services.enterprise_update(actor=cast.admin, enterprise=enterprise, data={"production_status": "suspended"})
    updated = AuditEvent.objects.get(action="update", object_id=str(enterprise.pk))
    assert updated.before["production_status"] == "producing"
    assert updated.after["production_status"] == "suspended"
    assert updated.actor == cast.admin
    # An update that changes nothing leaves no trace.
    services.enterprise_update(actor=cast.admin, enterprise=enterprise, data={"production_status": "suspended"})
    assert AuditEvent.objects.filter(action="update", object_id=str(enterprise.pk)).count() == 1
    pk = enterprise.pk
    services.enterprise_delete(actor=cast.admin, enterprise=enterprise)
    deleted = AuditEvent.objects.get(action="delete", object_id=str(pk))
    assert deleted.before["credit_code"] == "91350100M000100Y43"


def test_region_paths_and_levels(cast: Cast, world: World) -> None:
    town = services.region_create(
        actor=cast.admin, code="140525100", name="南村镇", level=RegionLevel.TOWN, parent=world.county
    )
    assert town.path == "/140000/140500/140525/140525100/"
    with pytest.raises(ValidationError):
        services.region_create(
            actor=cast.admin, code="140525999", name="错误", level=RegionLevel.COUNTY, parent=world.county
        )


@pytest.mark.parametrize(
    ("role", "scope", "ok"),
    [
        (Role.TOWN_STAFF, "town_a", True),
        (Role.TOWN_STAFF, "county", False),
        (Role.COUNTY_STAFF, "county", True),
        (Role.COUNTY_LEADER, "town_a", False),
        (Role.CITY_VIEWER, "city", True),
        (Role.ENTERPRISE_CLERK, "enterprise_a", True),
        (Role.ENTERPRISE_CLERK, "town_a", False),
    ],
)
def test_users_have_one_role_and_a_matching_scope(cast: Cast, world: World, role: str, scope: str, ok: bool) -> None:
    target = getattr(world, scope)
    kwargs = {"enterprise": target} if scope.startswith("enterprise") else {"region": target}
    count = User.objects.count()
    # A county admin gives roles inside the county only (SPEC §1): the city's account is the superuser's to make.
    actor = UserFactory(username="root", role="", is_superuser=True) if scope == "city" else cast.admin
    if ok:
        user = services.user_create(
            actor=actor, username=f"new_{role}", password="Strong-Pass-2024", role=role, **kwargs
        )
        assert user.check_password("Strong-Pass-2024")
        assert AuditEvent.objects.filter(action="create", object_id=str(user.pk)).exists()
        assert "password" not in AuditEvent.objects.get(action="create", object_id=str(user.pk)).after
    else:
        with pytest.raises(ValidationError):
            services.user_create(
                actor=cast.admin, username=f"new_{role}", password="Strong-Pass-2024", role=role, **kwargs
            )
        assert User.objects.count() == count


def test_weak_passwords_are_refused(cast: Cast, world: World) -> None:
    with pytest.raises(ValidationError):
        services.user_create(
            actor=cast.admin, username="weak", password="123456", role=Role.TOWN_STAFF, region=world.town_a
        )


def test_masking() -> None:
    assert mask_id_number("140525198001011234") == "1405**********1234"
    assert mask_phone("13800001234") == "138****1234"
    assert mask_phone("") == ""


def test_detail_masks_personal_data_for_regulators(cast: Cast, world: World) -> None:
    from django.test import Client

    client = Client()
    client.force_login(cast.town_a_staff)
    body = client.get(f"/enterprises/{world.enterprise_a.pk}/").content.decode()
    assert "王建国" in body
    assert "13800001234" not in body and "138****1234" in body
    assert "140525198001011234" not in body


def test_audit_region_path_follows_a_lazy_request_user(cast: Cast) -> None:
    from django.utils.functional import SimpleLazyObject

    from portal.audit import audit_record

    lazy = SimpleLazyObject(lambda: cast.admin)
    event = audit_record(actor=lazy, action="export")  # type: ignore[arg-type]
    assert event.region_path == cast.admin.region.path
