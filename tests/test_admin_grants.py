"""Who may grant what, and regions through `region_create`: in the services, the admin site and the API."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from rest_framework.test import APIClient

from portal import services
from portal.choices import AuditAction, RegionLevel, Role
from portal.models import AuditEvent, Enterprise, Region, User
from tests.conftest import Cast, World
from tests.factories import TEST_PASSWORD, UserFactory
from tests.otp_helpers import force_login_verified


def _admin_client(user: User) -> Client:
    client = Client()
    force_login_verified(client, user)
    return client


def _superuser() -> User:
    return UserFactory(username="root", role="", is_superuser=True, is_staff=True)


def _user_form(user: User, **changes: str) -> dict[str, str]:
    data = {
        "username": user.username, "email": user.email, "full_name": user.full_name, "role": user.role,
        "region": str(user.region_id or ""), "enterprise": str(user.enterprise_id or ""), "person": "",
        "phone": user.phone, "is_active": "on", "_save": "保存",
    }  # fmt: skip
    data.update(changes)
    return data


# --- the user admin -------------------------------------------------------------------------------------


def test_county_admin_is_not_offered_superuser_staff_groups_or_permissions(cast: Cast) -> None:
    page = _admin_client(cast.admin).get(f"/admin/portal/user/{cast.county_staff.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    for name in ("is_superuser", "is_staff", "groups", "user_permissions"):
        assert f'name="{name}"' not in body, name
    assert 'name="is_active"' in body
    # The superuser is offered superuser and staff status (never groups or model permissions).
    root_page = _admin_client(_superuser()).get(f"/admin/portal/user/{cast.county_staff.pk}/change/")
    root_body = root_page.content.decode()
    assert 'name="is_superuser"' in root_body and 'name="is_staff"' in root_body
    assert 'name="groups"' not in root_body and 'name="user_permissions"' not in root_body


def test_county_admin_cannot_tick_superuser_or_staff_through_the_admin(cast: Cast) -> None:
    url = f"/admin/portal/user/{cast.county_staff.pk}/change/"
    data = _user_form(cast.county_staff, full_name="新名字", is_superuser="on", is_staff="on")
    response = _admin_client(cast.admin).post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    target = User.objects.get(pk=cast.county_staff.pk)
    assert target.full_name == "新名字"  # what they may change is saved …
    assert not target.is_superuser and not target.is_staff  # … the rest is not even read
    assert Enterprise.objects.visible_to(target).filter(pk__isnull=False).count() == 3  # still one county


def test_superuser_grants_staff_through_the_admin_audited(cast: Cast) -> None:
    url = f"/admin/portal/user/{cast.county_staff.pk}/change/"
    response = _admin_client(_superuser()).post(url, _user_form(cast.county_staff, is_staff="on"))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(pk=cast.county_staff.pk).is_staff
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, object_id=str(cast.county_staff.pk))
    assert event.after["is_staff"] is True and event.before["is_staff"] is False and event.detail == "管理后台"


@pytest.mark.parametrize("flag", ["is_superuser", "is_staff"])
def test_only_a_superuser_grants_superuser_or_staff_status(cast: Cast, flag: str) -> None:
    with pytest.raises(ValidationError) as refused:
        services.user_update(actor=cast.admin, user=cast.county_staff, data={flag: True})
    assert "只有超级管理员" in str(refused.value)
    assert not getattr(User.objects.get(pk=cast.county_staff.pk), flag)
    with pytest.raises(ValidationError):
        services.user_create(
            actor=cast.admin, username="new_admin", password=TEST_PASSWORD, role=Role.ADMIN, region=cast.admin.region,
            **{flag: True},
        )  # fmt: skip
    assert not User.objects.filter(username="new_admin").exists()
    services.user_update(actor=_superuser(), user=cast.county_staff, data={flag: True})
    assert getattr(User.objects.get(pk=cast.county_staff.pk), flag)


def test_county_admin_gives_roles_inside_their_county_only(cast: Cast, world: World) -> None:
    made = services.user_create(
        actor=cast.admin, username="town_new", password=TEST_PASSWORD, role=Role.TOWN_STAFF, region=world.town_b
    )
    assert made.region == world.town_b
    for role, region in ((Role.COUNTY_STAFF, world.other_county), (Role.CITY_VIEWER, world.city)):
        with pytest.raises(ValidationError) as refused:
            services.user_create(
                actor=cast.admin, username=f"x_{role}", password=TEST_PASSWORD, role=role, region=region
            )
        assert "必须在您的辖区" in str(refused.value)
    with pytest.raises(ValidationError):
        services.user_update(
            actor=cast.admin, user=made, data={"role": Role.COUNTY_STAFF, "region": world.other_county}
        )
    with pytest.raises(ValidationError):  # an account of another county is not theirs to take over
        services.user_update(actor=cast.admin, user=cast.other_county_staff, data={"region": world.county})
    assert User.objects.get(pk=cast.other_county_staff.pk).region == world.other_county
    for member in ("county_staff", "county_leader", "town_a_staff", "clerk"):
        with pytest.raises(PermissionDenied):
            services.user_update(actor=getattr(cast, member), user=made, data={"full_name": "改"})


def test_county_admin_does_not_manage_superusers_or_staff(cast: Cast, world: World) -> None:
    other_admin = UserFactory(username="admin2", role=Role.ADMIN, region=world.county, is_staff=True)
    for target in (other_admin, _superuser()):
        with pytest.raises(PermissionDenied):
            services.user_update(actor=cast.admin, user=target, data={"full_name": "改名"})
        with pytest.raises(PermissionDenied):
            services.user_set_password(actor=cast.admin, user=target, password="Another-Pass-2024!")
    # Their own account stays theirs (name, password), without changing its status.
    services.user_update(actor=cast.admin, user=cast.admin, data={"full_name": "管理员本人"})


def test_password_change_in_the_admin_goes_through_the_service(cast: Cast) -> None:
    url = f"/admin/portal/user/{cast.county_staff.pk}/password/"
    client = _admin_client(cast.admin)
    response = client.post(url, {"password1": "Another-Pass-2024!", "password2": "Another-Pass-2024!"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(pk=cast.county_staff.pk).check_password("Another-Pass-2024!")
    assert AuditEvent.objects.filter(
        action=AuditAction.UPDATE, object_id=str(cast.county_staff.pk), detail="管理后台：修改密码"
    ).exists()
    # Another county's account is not found at all.
    assert client.get(f"/admin/portal/user/{cast.other_county_staff.pk}/password/").status_code in (302, 404)


def test_api_user_update_keeps_the_grant_rules(cast: Cast, world: World) -> None:
    client = APIClient()
    client.force_login(cast.admin)
    response = client.patch(
        f"/api/v1/users/{cast.county_staff.pk}/", {"is_staff": True, "is_superuser": True}, format="json"
    )
    assert response.status_code in (200, 400)
    target = User.objects.get(pk=cast.county_staff.pk)
    assert not target.is_staff and not target.is_superuser


# --- regions ---------------------------------------------------------------------------------------------


def _region_form(**values: str) -> dict[str, str]:
    return {"code": "", "name": "", "level": RegionLevel.TOWN, "parent": "", "_save": "保存", **values}


def test_region_added_in_the_admin_gets_its_path_and_stays_visible(cast: Cast, world: World) -> None:
    client = _admin_client(cast.admin)
    data = _region_form(code="140525110", name="大东沟镇", parent=str(world.county.pk))
    response = client.post("/admin/portal/region/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    region = Region.objects.get(code="140525110")
    assert region.path == "/140000/140500/140525/140525110/"
    assert "大东沟镇" in client.get("/admin/portal/region/").content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, object_id=str(region.pk), detail="管理后台").exists()
    # The same code again: a Chinese message on the form, not a 500, and nothing added.
    again = client.post("/admin/portal/region/add/", data)
    assert again.status_code == 200
    assert "已存在" in again.content.decode()
    assert Region.objects.filter(code="140525110").count() == 1


def test_region_needs_a_parent_in_scope(cast: Cast, world: World) -> None:
    client = _admin_client(cast.admin)
    for parent in ("", str(world.other_county.pk), str(world.city.pk)):
        response = client.post(
            "/admin/portal/region/add/", _region_form(code="140404199", name="外县新镇", parent=parent)
        )
        assert response.status_code == 200, parent
    assert not Region.objects.filter(code="140404199").exists()
    with pytest.raises(PermissionDenied):
        services.region_create(actor=cast.admin, code="140404199", name="外县新镇", level="town", parent=None)
    with pytest.raises(PermissionDenied):
        services.region_create(
            actor=cast.admin, code="140404199", name="外县新镇", level="town", parent=world.other_county
        )
    with pytest.raises(PermissionDenied):
        services.region_create(
            actor=cast.county_staff, code="140525111", name="新镇", level="town", parent=world.county
        )
    # The superuser adds anywhere, a province at the root included.
    root = services.region_create(actor=_superuser(), code="130000", name="河北省", level="province", parent=None)
    assert root.path == "/130000/"


def test_a_refusal_shows_the_services_message_and_changes_nothing(cast: Cast, world: World) -> None:
    """Another staff account of the county is listed, but only a superuser changes it: the service says so."""
    other_admin = UserFactory(username="admin2", role=Role.ADMIN, region=world.county, is_staff=True)
    client = _admin_client(cast.admin)
    response = client.post(f"/admin/portal/user/{other_admin.pk}/change/", _user_form(other_admin, full_name="改名"))
    assert response.status_code == 200
    assert "只有超级管理员可以修改超级用户或职员" in response.content.decode()
    assert User.objects.get(pk=other_admin.pk).full_name != "改名"
    assert not AuditEvent.objects.filter(action=AuditAction.UPDATE, object_id=str(other_admin.pk)).exists()
    # Their own county is not theirs to rename (its parent is outside what they may choose).
    data = _region_form(code="140525", name="改名县", level=RegionLevel.COUNTY, parent=str(world.city.pk))
    assert client.post(f"/admin/portal/region/{world.county.pk}/change/", data).status_code == 200
    assert Region.objects.get(pk=world.county.pk).name == "泽州县"
    with pytest.raises(PermissionDenied):
        services.region_update(actor=cast.admin, region=world.county, data={"name": "改名县"})


def test_moving_a_region_moves_its_subtree(cast: Cast, world: World) -> None:
    town = services.region_update(actor=_superuser(), region=world.town_a, data={"code": "140525199"})
    assert town.path == "/140000/140500/140525/140525199/"
    staff = User.objects.get(pk=cast.town_a_staff.pk)
    assert Enterprise.objects.visible_to(staff).count() == 2  # still their town's enterprises


def test_county_admin_adds_an_account_of_the_county_through_the_service(cast: Cast, world: World) -> None:
    client = _admin_client(cast.admin)
    data = {
        "username": "town_new", "password1": "Another-Pass-2024!", "password2": "Another-Pass-2024!",
        "full_name": "新镇干部", "role": Role.TOWN_STAFF, "region": str(world.town_b.pk), "enterprise": "",
        "_save": "保存",
    }  # fmt: skip
    response = client.post("/admin/portal/user/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    made = User.objects.get(username="town_new")
    assert made.check_password("Another-Pass-2024!") and made.region == world.town_b
    assert not made.is_staff and not made.is_superuser
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, object_id=str(made.pk), detail="管理后台").exists()
    # Another county's town is not offered, and nothing is made.
    refused = client.post("/admin/portal/user/add/", {**data, "username": "x_new", "region": str(world.other_town.pk)})
    assert refused.status_code == 200
    assert not User.objects.filter(username="x_new").exists()
