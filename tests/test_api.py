"""The REST API (/api/v1/) against the whole cast.

Who sees what (list contents, 200/404 by object), who may write (201/200/204 vs 403 for a visible
object, 404 for an unseen one), Chinese validation errors with nothing saved, audit rows, token
login through django-axes, masked personal data, and a query count that does not grow with the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from portal.api.views import Conflict, service_errors
from portal.audit import audit_record
from portal.choices import AuditAction, PersonRole, ProductionStatus, RegionLevel, Role
from portal.models import AuditEvent, Enterprise, ParentCompany, Person, Region, User
from portal.tokens.models import ApiToken
from tests.conftest import Cast, World
from tests.factories import (
    TEST_PASSWORD,
    EnterpriseFactory,
    ParentCompanyFactory,
    PersonFactory,
    RegionFactory,
    UserFactory,
    make_credit_code,
)
from tests.token_helpers import issue_token, token_row

MEMBERS = (
    "clerk", "principal", "town_a_staff", "town_b_staff", "county_staff", "county_leader", "admin",
    "city_viewer", "other_county_staff", "other_clerk",
)  # fmt: skip
CHINESE = re.compile(r"[\u4e00-\u9fff]")
STRONG_PASSWORD = "Kuangshan-Anquan-2025"


def api(user: User | None = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    return body["results"]


def messages(errors: Any) -> list[str]:
    """All the strings of a DRF error body, flattened."""
    if isinstance(errors, dict):
        return [m for value in errors.values() for m in messages(value)]
    if isinstance(errors, list):
        return [m for value in errors for m in messages(value)]
    return [str(errors)]


def change_count() -> int:
    return AuditEvent.objects.filter(action__in=[AuditAction.CREATE, AuditAction.UPDATE, AuditAction.DELETE]).count()


# --- The directory around the cast ------------------------------------------------------------


@dataclass
class Directory:
    pc_county: ParentCompany  # 泽州县, owns enterprise_a
    pc_empty: ParentCompany  # 泽州县, owns nothing, has one person
    pc_other: ParentCompany  # 上党区, owns enterprise_other
    person_a: Person  # enterprise_a's principal (the cast's)
    person_b: Person  # enterprise_b
    person_other: Person  # enterprise_other
    person_pc: Person  # pc_county's 分管负责人
    person_pc_empty: Person


@pytest.fixture
def directory(world: World, cast: Cast) -> Directory:
    pc_county = ParentCompanyFactory(name="泽州县示范集团有限公司", region=world.county)
    pc_empty = ParentCompanyFactory(name="泽州县空壳集团有限公司", region=world.county)
    pc_other = ParentCompanyFactory(name="上党区外县集团有限公司", region=world.other_county)
    Enterprise.objects.filter(pk=world.enterprise_a.pk).update(parent_company=pc_county)
    Enterprise.objects.filter(pk=world.enterprise_other.pk).update(parent_company=pc_other)
    person_a = cast.principal.person
    assert person_a is not None
    return Directory(
        pc_county=pc_county,
        pc_empty=pc_empty,
        pc_other=pc_other,
        person_a=person_a,
        person_b=PersonFactory(enterprise=world.enterprise_b, name="李安全", role=PersonRole.SAFETY),
        person_other=PersonFactory(enterprise=world.enterprise_other, name="赵外县", role=PersonRole.PRINCIPAL),
        person_pc=PersonFactory(parent_company=pc_county, name="钱分管", role=PersonRole.DEPUTY),
        person_pc_empty=PersonFactory(parent_company=pc_empty, name="孙空壳", role=PersonRole.PRINCIPAL),
    )


# --- Reading: who sees what -------------------------------------------------------------------

SEES_ENTERPRISES = {
    "clerk": {"enterprise_a"},
    "principal": {"enterprise_a"},
    "town_a_staff": {"enterprise_a", "enterprise_a2"},
    "town_b_staff": {"enterprise_b"},
    "county_staff": {"enterprise_a", "enterprise_a2", "enterprise_b"},
    "county_leader": {"enterprise_a", "enterprise_a2", "enterprise_b"},
    "admin": {"enterprise_a", "enterprise_a2", "enterprise_b"},
    "city_viewer": {"enterprise_a", "enterprise_a2", "enterprise_b"},
    "other_county_staff": {"enterprise_other"},
    "other_clerk": {"enterprise_other"},
}
ENTERPRISES = ("enterprise_a", "enterprise_a2", "enterprise_b", "enterprise_other")

SEES_REGIONS = {
    "clerk": {"town_a"},
    "principal": {"town_a"},
    "town_a_staff": {"town_a"},
    "town_b_staff": {"town_b"},
    "county_staff": {"county", "town_a", "town_b"},
    "county_leader": {"county", "town_a", "town_b"},
    "admin": {"county", "town_a", "town_b"},
    "city_viewer": {"city", "county", "town_a", "town_b"},
    "other_county_staff": {"other_county", "other_town"},
    "other_clerk": {"other_town"},
}
REGIONS = ("province", "city", "county", "town_a", "town_b", "other_city", "other_county", "other_town")

# Parent companies are filed under the region that supervises them (here the county); enterprise
# users also see the company their enterprise belongs to. Town staff see those filed in their town.
SEES_PARENT_COMPANIES = {
    "clerk": {"pc_county"},
    "principal": {"pc_county"},
    "town_a_staff": set(),
    "town_b_staff": set(),
    "county_staff": {"pc_county", "pc_empty"},
    "county_leader": {"pc_county", "pc_empty"},
    "admin": {"pc_county", "pc_empty"},
    "city_viewer": {"pc_county", "pc_empty"},
    "other_county_staff": {"pc_other"},
    "other_clerk": {"pc_other"},
}
PARENT_COMPANIES = ("pc_county", "pc_empty", "pc_other")

SEES_PEOPLE = {
    "clerk": {"person_a"},
    "principal": {"person_a"},
    "town_a_staff": {"person_a"},
    "town_b_staff": {"person_b"},
    "county_staff": {"person_a", "person_b", "person_pc", "person_pc_empty"},
    "county_leader": {"person_a", "person_b", "person_pc", "person_pc_empty"},
    "admin": {"person_a", "person_b", "person_pc", "person_pc_empty"},
    "city_viewer": {"person_a", "person_b", "person_pc", "person_pc_empty"},
    "other_county_staff": {"person_other"},
    "other_clerk": {"person_other"},
}
PEOPLE = ("person_a", "person_b", "person_other", "person_pc", "person_pc_empty")


@pytest.mark.parametrize("member", MEMBERS)
def test_enterprise_list_and_detail_follow_the_scope(world: World, cast: Cast, member: str) -> None:
    client = api(getattr(cast, member))
    listed = {row["id"] for row in results(client.get("/api/v1/enterprises/"))}
    assert listed == {getattr(world, name).pk for name in SEES_ENTERPRISES[member]}
    for name in ENTERPRISES:
        enterprise = getattr(world, name)
        response = client.get(f"/api/v1/enterprises/{enterprise.pk}/")
        if name in SEES_ENTERPRISES[member]:
            assert response.status_code == 200, (member, name)
            assert response.json()["credit_code"] == enterprise.credit_code
        else:
            assert response.status_code == 404, (member, name)
            assert enterprise.name not in response.content.decode()


@pytest.mark.parametrize("member", MEMBERS)
def test_region_list_and_detail_follow_the_scope(world: World, cast: Cast, member: str) -> None:
    client = api(getattr(cast, member))
    listed = {row["id"] for row in results(client.get("/api/v1/regions/"))}
    assert listed == {getattr(world, name).pk for name in SEES_REGIONS[member]}
    for name in REGIONS:
        response = client.get(f"/api/v1/regions/{getattr(world, name).pk}/")
        assert response.status_code == (200 if name in SEES_REGIONS[member] else 404), (member, name)


@pytest.mark.parametrize("member", MEMBERS)
def test_parent_company_list_and_detail_follow_the_scope(cast: Cast, directory: Directory, member: str) -> None:
    client = api(getattr(cast, member))
    listed = {row["id"] for row in results(client.get("/api/v1/parent-companies/"))}
    assert listed == {getattr(directory, name).pk for name in SEES_PARENT_COMPANIES[member]}
    for name in PARENT_COMPANIES:
        response = client.get(f"/api/v1/parent-companies/{getattr(directory, name).pk}/")
        assert response.status_code == (200 if name in SEES_PARENT_COMPANIES[member] else 404), (member, name)


@pytest.mark.parametrize("member", MEMBERS)
def test_people_list_and_detail_follow_the_scope(cast: Cast, directory: Directory, member: str) -> None:
    client = api(getattr(cast, member))
    listed = {row["id"] for row in results(client.get("/api/v1/people/"))}
    assert listed == {getattr(directory, name).pk for name in SEES_PEOPLE[member]}
    for name in PEOPLE:
        response = client.get(f"/api/v1/people/{getattr(directory, name).pk}/")
        assert response.status_code == (200 if name in SEES_PEOPLE[member] else 404), (member, name)


# Personal data in clear: admins (everyone in their scope) and enterprise users (their own people).
CLEAR_PEOPLE = {
    "clerk": {"person_a"},
    "principal": {"person_a"},
    "admin": {"person_a", "person_b", "person_pc", "person_pc_empty"},
    "other_clerk": {"person_other"},
}


@pytest.mark.parametrize("member", MEMBERS)
def test_id_numbers_and_phones_are_masked_unless_admin_or_own_enterprise(
    cast: Cast, directory: Directory, member: str
) -> None:
    rows = {row["id"]: row for row in results(api(getattr(cast, member)).get("/api/v1/people/"))}
    assert rows, member
    for name in SEES_PEOPLE[member]:
        person = getattr(directory, name)
        row = rows[person.pk]
        if name in CLEAR_PEOPLE.get(member, set()):
            assert (row["id_number"], row["phone"], row["personal_data_masked"]) == (
                person.id_number,
                person.phone,
                False,
            ), (member, name)
        else:
            assert row["personal_data_masked"] is True, (member, name)
            assert row["id_number"] == person.masked_id_number != person.id_number
            assert row["phone"] == person.masked_phone != person.phone
            assert "*" in row["id_number"] and "*" in row["phone"]
    # The detail answer masks the same way.
    some = getattr(directory, sorted(SEES_PEOPLE[member])[0])
    detail = api(getattr(cast, member)).get(f"/api/v1/people/{some.pk}/").json()
    assert detail["id_number"] == rows[some.pk]["id_number"]


def test_county_staff_see_the_parent_company_and_town_names(world: World, cast: Cast, directory: Directory) -> None:
    row = api(cast.county_staff).get(f"/api/v1/enterprises/{world.enterprise_a.pk}/").json()
    assert row["town_name"] == "巴公镇"
    assert row["county_name"] == "泽州县"
    assert row["parent_company"] == directory.pc_county.pk
    assert row["parent_company_name"] == "泽州县示范集团有限公司"
    assert row["industry_display"] == "金属非金属露天矿山"


ADMIN_SEES_USERS = {"clerk", "principal", "town_a", "town_b", "county", "leader", "admin"}


@pytest.mark.parametrize("member", MEMBERS)
def test_users_are_for_admins_only(cast: Cast, member: str) -> None:
    client = api(getattr(cast, member))
    response = client.get("/api/v1/users/")
    if member == "admin":
        assert {row["username"] for row in results(response)} == ADMIN_SEES_USERS
        assert client.get(f"/api/v1/users/{cast.town_a_staff.pk}/").status_code == 200
        # Outside the admin's county: not found.
        assert client.get(f"/api/v1/users/{cast.other_county_staff.pk}/").status_code == 404
        assert client.get(f"/api/v1/users/{cast.city_viewer.pk}/").status_code == 404
        return
    assert response.status_code == 403
    assert response.json()["detail"] == "只有管理员可以访问此接口。"
    # Whether the account exists or not, the answer is the same.
    assert client.get(f"/api/v1/users/{cast.town_a_staff.pk}/").status_code == 403
    assert client.get("/api/v1/users/999999/").status_code == 403


@pytest.mark.parametrize("member", MEMBERS)
def test_audit_log_is_for_admins_only_and_stays_in_the_county(world: World, cast: Cast, member: str) -> None:
    here = audit_record(actor=cast.county_staff, action=AuditAction.UPDATE, instance=world.enterprise_a)
    there = audit_record(actor=cast.other_county_staff, action=AuditAction.UPDATE, instance=world.enterprise_other)
    client = api(getattr(cast, member))
    response = client.get("/api/v1/audit-events/")
    if member == "admin":
        ids = {row["id"] for row in results(response)}
        assert here.pk in ids and there.pk not in ids
        assert client.get(f"/api/v1/audit-events/{here.pk}/").json()["object_repr"] == world.enterprise_a.name
        assert client.get(f"/api/v1/audit-events/{there.pk}/").status_code == 404
        return
    assert response.status_code == 403
    assert client.get(f"/api/v1/audit-events/{here.pk}/").status_code == 403


EXPECTED_PERMISSIONS = {
    "admin": {"write_enterprises", "write_parent_companies", "manage_users", "read_audit_log", "see_personal_data"},
    "county_staff": {"write_enterprises"},
    "other_county_staff": {"write_enterprises"},
}


@pytest.mark.parametrize("member", MEMBERS)
def test_me(cast: Cast, member: str) -> None:
    user = getattr(cast, member)
    body = api(user).get("/api/v1/me/").json()
    assert body["username"] == user.username
    assert body["role"] == user.role
    assert body["role_display"] == Role(user.role).label
    assert body["scope_label"] == user.scope_label
    assert {key for key, value in body["permissions"].items() if value} == EXPECTED_PERMISSIONS.get(member, set())


def test_anonymous_requests_get_401(world: World) -> None:
    client = APIClient()
    for url in (
        "/api/v1/me/",
        "/api/v1/regions/",
        "/api/v1/enterprises/",
        f"/api/v1/enterprises/{world.enterprise_a.pk}/",
        "/api/v1/parent-companies/",
        "/api/v1/people/",
        "/api/v1/users/",
        "/api/v1/audit-events/",
    ):
        response = client.get(url)
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == "Token"
        assert CHINESE.search(response.json()["detail"])
    assert client.post("/api/v1/enterprises/", {}, format="json").status_code == 401


def test_out_of_scope_lookup_is_logged_as_denied(world: World, cast: Cast) -> None:
    client = api(cast.town_b_staff)
    assert client.get(f"/api/v1/enterprises/{world.enterprise_a.pk}/").status_code == 404
    event = AuditEvent.objects.get(action=AuditAction.DENIED)
    assert event.actor == cast.town_b_staff
    assert event.object_id == str(world.enterprise_a.pk)
    assert event.detail == f"API GET /api/v1/enterprises/{world.enterprise_a.pk}/"
    # Filed under the enterprise's county, so its admin reads who tried.
    assert event.region_path == world.enterprise_a.town.path
    # An id that does not exist at all is a plain 404.
    assert client.get("/api/v1/enterprises/999999/").status_code == 404
    assert AuditEvent.objects.filter(action=AuditAction.DENIED).count() == 1


# --- Filters, ordering, pagination ------------------------------------------------------------


def _names(response: Any) -> list[str]:
    return [row["name"] for row in results(response)]


def test_enterprise_filters_are_the_list_page_filters(world: World, cast: Cast, directory: Directory) -> None:
    Enterprise.objects.filter(pk=world.enterprise_a2.pk).update(production_status=ProductionStatus.SUSPENDED)
    client = api(cast.county_staff)
    assert _names(client.get("/api/v1/enterprises/?industry=quarry")) == ["巴公镇第二石料厂"]
    assert _names(client.get("/api/v1/enterprises/?q=高都")) == ["高都镇铁矿有限公司"]
    assert _names(client.get("/api/v1/enterprises/?q=91140525ma0k7xq215")) == ["泽州县示范矿业有限公司"]
    assert _names(client.get(f"/api/v1/enterprises/?town={world.town_b.pk}")) == ["高都镇铁矿有限公司"]
    assert _names(client.get("/api/v1/enterprises/?active=false")) == ["巴公镇第二石料厂"]
    assert len(_names(client.get("/api/v1/enterprises/?active=true"))) == 2
    assert _names(client.get(f"/api/v1/enterprises/?parent_company={directory.pc_county.pk}")) == [
        "泽州县示范矿业有限公司"
    ]
    names = _names(client.get("/api/v1/enterprises/?ordering=-name"))
    assert names == sorted(names, reverse=True) and len(names) == 3
    # A town outside the user's scope is not a valid choice.
    response = client.get(f"/api/v1/enterprises/?town={world.other_town.pk}")
    assert response.status_code == 400
    assert CHINESE.search(" ".join(response.json()["town"]))
    # The filters never widen the scope.
    town_client = api(cast.town_a_staff)
    assert _names(town_client.get("/api/v1/enterprises/?q=高都")) == []


def test_other_filters(world: World, cast: Cast, directory: Directory) -> None:
    admin = api(cast.admin)
    towns = {row["name"] for row in results(admin.get("/api/v1/regions/?level=town"))}
    assert towns == {"巴公镇", "高都镇"}
    assert {row["name"] for row in results(admin.get(f"/api/v1/regions/?parent={world.county.pk}"))} == towns
    people = results(admin.get(f"/api/v1/people/?enterprise={world.enterprise_b.pk}"))
    assert [row["name"] for row in people] == ["李安全"]
    people = results(admin.get(f"/api/v1/people/?parent_company={directory.pc_county.pk}"))
    assert [row["name"] for row in people] == ["钱分管"]
    # An id filter never looks the id up: unknown, out-of-scope or out-of-range ids match nothing.
    for value in (0, -1, directory.person_other.enterprise_id, 2**70):
        assert results(admin.get(f"/api/v1/people/?enterprise={value}")) == []
    assert admin.get("/api/v1/people/?enterprise=1.5").status_code == 400
    assert [row["username"] for row in results(admin.get("/api/v1/users/?role=county_leader"))] == ["leader"]
    assert [row["username"] for row in results(admin.get("/api/v1/users/?q=town_"))] == ["town_a", "town_b"]
    audit_record(actor=cast.county_staff, action=AuditAction.EXPORT, instance=world.enterprise_a)
    exported = results(admin.get("/api/v1/audit-events/?action=export"))
    assert [row["action_display"] for row in exported] == ["导出"]
    parents = results(admin.get("/api/v1/parent-companies/?q=空壳"))
    assert [row["name"] for row in parents] == ["泽州县空壳集团有限公司"]


def test_pagination_page_size_and_its_cap(world: World, cast: Cast) -> None:
    client = api(cast.county_staff)
    body = client.get("/api/v1/enterprises/?page_size=2").json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"] is not None
    second = client.get("/api/v1/enterprises/?page_size=2&page=2").json()
    assert len(second["results"]) == 1 and second["next"] is None
    response = client.get("/api/v1/enterprises/?page=99")
    assert response.status_code == 404 and CHINESE.search(response.json()["detail"])
    Enterprise.objects.bulk_create(
        Enterprise(
            name=f"分页测试矿业{n:03d}有限公司",
            credit_code=make_credit_code(700000 + n),
            town=world.town_b,
            industry="quarry",
            production_status="producing",
        )
        for n in range(210)
    )
    body = client.get("/api/v1/enterprises/?page_size=1000").json()
    assert body["count"] == 213 and len(body["results"]) == 200
    assert len(client.get("/api/v1/enterprises/").json()["results"]) == 50


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/enterprises/?town=abc",
        "/api/v1/enterprises/?town=99999999999999999999999",
        "/api/v1/enterprises/?ordering=password",
        "/api/v1/enterprises/?q=%00",
        "/api/v1/enterprises/abc/",
        "/api/v1/enterprises/0.5/",
        "/api/v1/enterprises/%2E%2E/",
        "/api/v1/enterprises/99999999999999999999999/",
        "/api/v1/enterprises/?page=abc",
        "/api/v1/enterprises/?page_size=-5",
        "/api/v1/people/?enterprise=1.5",
        "/api/v1/regions/?parent=99999999999999999999999",
        "/api/v1/audit-events/?created_after=yesterday",
        "/api/v1/audit-events/99999999999999999999999/",
        "/api/v1/users/?is_active=maybe",
    ],
)
def test_odd_input_is_a_clean_4xx_or_200(cast: Cast, url: str) -> None:
    response = api(cast.admin).get(url)
    assert response.status_code in {200, 400, 404}, (url, response.status_code)
    assert response["Content-Type"].startswith("application/json")


# --- Writing enterprises ----------------------------------------------------------------------


def enterprise_payload(world: World, **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": "泽州县新登记矿业有限公司",
        "credit_code": make_credit_code(4242),
        "town": world.town_b.pk,
        "industry": "underground",
        "production_status": "building",
        "risk_grade": "B",
        "license_expiry": "2027-06-30",
        "contact_phone": "0356-1234567",
    }
    payload.update(changes)
    return {key: value for key, value in payload.items() if value is not None}


CREATE_STATUS = {member: 403 for member in MEMBERS} | {"admin": 201, "county_staff": 201, "other_county_staff": 400}


@pytest.mark.parametrize("member", MEMBERS)
def test_who_may_create_an_enterprise(world: World, cast: Cast, member: str) -> None:
    before = Enterprise.objects.count()
    response = api(getattr(cast, member)).post("/api/v1/enterprises/", enterprise_payload(world), format="json")
    assert response.status_code == CREATE_STATUS[member], (member, response.content[:300])
    if response.status_code == 201:
        body = response.json()
        assert body["town_name"] == "高都镇" and body["industry_display"] == "金属非金属地下矿山"
        enterprise = Enterprise.objects.get(pk=body["id"])
        assert enterprise.credit_code == make_credit_code(4242)
        event = AuditEvent.objects.get(action=AuditAction.CREATE, object_id=str(enterprise.pk))
        assert event.actor == getattr(cast, member)
        assert event.after is not None and event.after["name"] == "泽州县新登记矿业有限公司"
        assert event.region_path == world.town_b.path
        return
    assert Enterprise.objects.count() == before
    assert change_count() == 0
    if response.status_code == 403:
        assert response.json()["detail"] == "您的角色无权进行此操作。"
    else:  # other county's staff: the town is not theirs
        assert response.json() == {"town": ["所在镇不存在或不在您的辖区内。"]}


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        ({"credit_code": "91140525MA0K7XQ216"}, "credit_code", "校验码错误：第18位应为 5，实为 6"),
        ({"credit_code": "91140525MA0K7XQ215"}, "credit_code", "统一社会信用代码已存在，不能重复登记。"),
        ({"credit_code": "9114052"}, "credit_code", "统一社会信用代码应为18位，当前为7位。"),
        ({"credit_code": "91140525MA0K7XQ21O"}, "credit_code", "不允许的字符"),
        ({"town": None}, "town", "必须指定所在镇。"),
        ({"town": "other_town"}, "town", "所在镇不存在或不在您的辖区内。"),
        ({"town": "county"}, "town", "所在镇不存在或不在您的辖区内。"),
        ({"town": "巴公镇"}, "town", "所在镇应为编号（整数）。"),
        ({"name": None}, "name", "该字段是必填项。"),
        ({"industry": "coal"}, "industry", "不是合法选项"),
        ({"license_expiry": "2027-02-30"}, "license_expiry", "日期格式错误"),
        ({"parent_company": "pc_other"}, "parent_company", "上级企业/主体公司不存在或不在您的辖区内。"),
    ],
)
def test_invalid_enterprise_is_refused_in_chinese_and_nothing_is_saved(
    world: World, cast: Cast, directory: Directory, changes: dict[str, Any], field: str, expected: str
) -> None:
    if isinstance(changes.get("town"), str) and hasattr(world, changes["town"]):
        changes["town"] = getattr(world, changes["town"]).pk
    if "parent_company" in changes:
        changes["parent_company"] = getattr(directory, changes["parent_company"]).pk
    payload = enterprise_payload(world)
    payload.update(changes)
    payload = {key: value for key, value in payload.items() if value is not None}
    before = Enterprise.objects.count()
    response = api(cast.county_staff).post("/api/v1/enterprises/", payload, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert field in errors, errors
    assert any(expected in message for message in errors[field]), errors
    assert all(CHINESE.search(message) for message in messages(errors))
    assert Enterprise.objects.count() == before
    assert change_count() == 0


def test_credit_code_is_normalised_before_it_is_checked_and_stored(world: World, cast: Cast) -> None:
    code = make_credit_code(4343)
    typed = " ".join([code[:8].lower(), code[8:]]).replace("0", "０")  # spaces, lower case, full-width digits
    response = api(cast.admin).post("/api/v1/enterprises/", enterprise_payload(world, credit_code=typed), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["credit_code"] == code
    # The same code typed differently is a duplicate.
    response = api(cast.admin).post(
        "/api/v1/enterprises/", enterprise_payload(world, credit_code=code.lower(), name="另一家"), format="json"
    )
    assert response.status_code == 400
    assert response.json()["credit_code"] == ["统一社会信用代码已存在，不能重复登记。"]


UPDATE_STATUS = {
    # The clerk keeps their own enterprise's data (production status among it): tests/test_enterprise_self_service.py.
    "clerk": 200,
    "principal": 403,
    "town_a_staff": 403,
    "town_b_staff": 404,
    "county_staff": 200,
    "county_leader": 403,
    "admin": 200,
    "city_viewer": 403,
    "other_county_staff": 404,
    "other_clerk": 404,
}


@pytest.mark.parametrize("member", MEMBERS)
def test_who_may_update_an_enterprise(world: World, cast: Cast, member: str) -> None:
    enterprise = world.enterprise_a
    response = api(getattr(cast, member)).patch(
        f"/api/v1/enterprises/{enterprise.pk}/", {"production_status": "suspended"}, format="json"
    )
    assert response.status_code == UPDATE_STATUS[member], (member, response.content[:200])
    enterprise.refresh_from_db()
    if response.status_code == 200:
        assert response.json()["production_status_display"] == "停产"
        assert enterprise.production_status == ProductionStatus.SUSPENDED
        event = AuditEvent.objects.get(action=AuditAction.UPDATE, object_id=str(enterprise.pk))
        assert event.actor == getattr(cast, member)
        assert event.before is not None and event.after is not None
        assert (event.before["production_status"], event.after["production_status"]) == ("producing", "suspended")
    else:
        assert enterprise.production_status == ProductionStatus.PRODUCING
        assert change_count() == 0


def test_full_update_and_invalid_update(world: World, cast: Cast) -> None:
    client = api(cast.admin)
    url = f"/api/v1/enterprises/{world.enterprise_b.pk}/"
    payload = enterprise_payload(world, credit_code=world.enterprise_b.credit_code, name="高都镇铁矿（更名）")
    response = client.put(url, payload, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "高都镇铁矿（更名）"
    # Unchanged data writes no new audit row.
    assert client.put(url, payload, format="json").status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE, object_id=str(world.enterprise_b.pk)).count() == 1
    # Taking another enterprise's code, or moving it out of the county: refused, nothing changed.
    for change, field in (
        ({"credit_code": world.enterprise_a.credit_code}, "credit_code"),
        ({"town": world.other_town.pk}, "town"),
        ({"credit_code": "91140525MA0K7XQ216"}, "credit_code"),
    ):
        response = client.patch(url, change, format="json")
        assert response.status_code == 400 and field in response.json()
    world.enterprise_b.refresh_from_db()
    assert world.enterprise_b.town == world.town_b and world.enterprise_b.name == "高都镇铁矿（更名）"
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE, object_id=str(world.enterprise_b.pk)).count() == 1


DELETE_STATUS = {
    "clerk": 404,  # enterprise_a2 is not the clerk's enterprise
    "principal": 404,
    "town_a_staff": 403,
    "town_b_staff": 404,
    "county_staff": 204,
    "county_leader": 403,
    "admin": 204,
    "city_viewer": 403,
    "other_county_staff": 404,
    "other_clerk": 404,
}


@pytest.mark.parametrize("member", MEMBERS)
def test_who_may_delete_an_enterprise(world: World, cast: Cast, member: str) -> None:
    enterprise = world.enterprise_a2
    response = api(getattr(cast, member)).delete(f"/api/v1/enterprises/{enterprise.pk}/")
    assert response.status_code == DELETE_STATUS[member], member
    exists = Enterprise.objects.filter(pk=enterprise.pk).exists()
    if response.status_code == 204:
        assert not exists
        event = AuditEvent.objects.get(action=AuditAction.DELETE, object_id=str(enterprise.pk))
        assert event.actor == getattr(cast, member)
        assert event.before is not None and event.before["credit_code"] == enterprise.credit_code
    else:
        assert exists and change_count() == 0


def test_an_enterprise_with_accounts_cannot_be_deleted(world: World, cast: Cast) -> None:
    response = api(cast.admin).delete(f"/api/v1/enterprises/{world.enterprise_a.pk}/")
    assert response.status_code == 409
    assert response.json() == {"detail": "该企业仍有关联的用户账号或其他记录，不能删除。"}
    assert Enterprise.objects.filter(pk=world.enterprise_a.pk).exists()
    assert change_count() == 0  # the audit row of the refused delete was rolled back with it


# --- Writing parent companies -----------------------------------------------------------------

PC_UPDATE_STATUS = {member: 404 for member in MEMBERS} | {
    "clerk": 403,
    "principal": 403,
    "county_staff": 403,
    "county_leader": 403,
    "city_viewer": 403,
    "admin": 200,
}


@pytest.mark.parametrize("member", MEMBERS)
def test_who_may_write_parent_companies(world: World, cast: Cast, directory: Directory, member: str) -> None:
    client = api(getattr(cast, member))
    created = client.post(
        "/api/v1/parent-companies/",
        {"name": "泽州县新集团有限公司", "region": world.county.pk, "credit_code": make_credit_code(8080)},
        format="json",
    )
    updated = client.patch(f"/api/v1/parent-companies/{directory.pc_county.pk}/", {"address": "巴公镇"}, format="json")
    assert updated.status_code == PC_UPDATE_STATUS[member], member
    if member == "admin":
        assert created.status_code == 201
        assert created.json()["region_name"] == "泽州县"
        assert AuditEvent.objects.filter(action=AuditAction.CREATE, object_id=str(created.json()["id"])).exists()
        assert AuditEvent.objects.filter(action=AuditAction.UPDATE, object_id=str(directory.pc_county.pk)).exists()
    else:
        assert created.status_code == 403
        assert not ParentCompany.objects.filter(name="泽州县新集团有限公司").exists()
        directory.pc_county.refresh_from_db()
        assert directory.pc_county.address == ""
        assert change_count() == 0


def test_parent_company_validation(world: World, cast: Cast, directory: Directory) -> None:
    client = api(cast.admin)
    before = ParentCompany.objects.count()
    for payload, field, expected in (
        ({"name": "外县集团", "region": world.other_county.pk}, "region", "监管辖区不存在或不在您的辖区内。"),
        (
            {"name": "重复集团", "region": world.county.pk, "credit_code": directory.pc_county.credit_code},
            "credit_code",
            "统一社会信用代码已存在，不能重复登记。",
        ),
        ({"name": "错码集团", "region": world.county.pk, "credit_code": "91140525MA0K7XQ216"}, "credit_code", "校验码"),
        ({"region": world.county.pk}, "name", "该字段是必填项。"),
    ):
        response = client.post("/api/v1/parent-companies/", payload, format="json")
        assert response.status_code == 400
        assert any(expected in message for message in response.json()[field]), response.json()
    assert ParentCompany.objects.count() == before
    # Without a credit code: stored as empty (NULL), so several may go without one.
    for name in ("无码集团甲", "无码集团乙"):
        response = client.post(
            "/api/v1/parent-companies/", {"name": name, "region": world.town_a.pk, "credit_code": ""}, format="json"
        )
        assert response.status_code == 201, response.json()
        assert response.json()["credit_code"] is None


def test_parent_company_delete(cast: Cast, directory: Directory) -> None:
    client = api(cast.admin)
    response = client.delete(f"/api/v1/parent-companies/{directory.pc_county.pk}/")
    assert response.status_code == 409
    assert response.json() == {"detail": "该上级企业下仍有企业，不能删除。"}
    assert ParentCompany.objects.filter(pk=directory.pc_county.pk).exists()
    assert change_count() == 0
    # One without enterprises goes, with its people, each audited.
    assert client.delete(f"/api/v1/parent-companies/{directory.pc_empty.pk}/").status_code == 204
    assert not Person.objects.filter(pk=directory.person_pc_empty.pk).exists()
    deleted = set(AuditEvent.objects.filter(action=AuditAction.DELETE).values_list("object_type", "object_id"))
    assert deleted == {("上级企业/主体公司", str(directory.pc_empty.pk)), ("人员", str(directory.person_pc_empty.pk))}
    assert api(cast.county_staff).delete(f"/api/v1/parent-companies/{directory.pc_county.pk}/").status_code == 403


# --- People are read-only ---------------------------------------------------------------------


def test_people_cannot_be_written_through_the_api(world: World, cast: Cast, directory: Directory) -> None:
    client = api(cast.admin)
    url = f"/api/v1/people/{directory.person_a.pk}/"
    assert client.patch(url, {"name": "改名"}, format="json").status_code == 405
    assert client.delete(url).status_code == 405
    payload = {"name": "新人", "role": "safety", "enterprise": world.enterprise_a.pk}
    assert client.post("/api/v1/people/", payload, format="json").status_code == 405
    directory.person_a.refresh_from_db()
    assert directory.person_a.name == "王建国"


# --- Accounts ---------------------------------------------------------------------------------


def user_payload(world: World, **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "username": "new_town_a",
        "password": STRONG_PASSWORD,
        "full_name": "巴公镇新同事",
        "role": "town_staff",
        "region": world.town_a.pk,
        "phone": "13700001111",
    }
    payload.update(changes)
    return {key: value for key, value in payload.items() if value is not None}


@pytest.mark.parametrize("member", MEMBERS)
def test_who_may_create_users(world: World, cast: Cast, member: str) -> None:
    response = api(getattr(cast, member)).post("/api/v1/users/", user_payload(world), format="json")
    if member != "admin":
        assert response.status_code == 403
        assert not User.objects.filter(username="new_town_a").exists()
        return
    assert response.status_code == 201, response.json()
    body = response.json()
    assert "password" not in body
    assert (body["role_display"], body["region_name"]) == ("镇应急管理中心", "巴公镇")
    user = User.objects.get(username="new_town_a")
    assert user.check_password(STRONG_PASSWORD) and not user.is_staff and not user.is_superuser
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_id=str(user.pk))
    assert event.actor == cast.admin and event.after is not None and "password" not in event.after
    # The new account logs in through the API and sees its town only.
    token = APIClient().post(
        "/api/v1/auth/token/", {"username": "new_town_a", "password": STRONG_PASSWORD}, format="json"
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    names = {row["name"] for row in results(client.get("/api/v1/enterprises/"))}
    assert names == {"泽州县示范矿业有限公司", "巴公镇第二石料厂"}


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        ({"region": "county"}, "region", "镇应急管理中心的所属辖区应为镇/乡一级。"),
        ({"region": "other_town"}, "region", "所属辖区不存在或不在您的辖区内。"),
        ({"role": "city_viewer", "region": "city"}, "region", "所属辖区不存在或不在您的辖区内。"),
        ({"role": "enterprise_clerk", "region": None}, "enterprise", "企业角色必须指定所属企业。"),
        ({"role": "enterprise_clerk", "enterprise": "enterprise_a"}, "region", "企业角色不设所属辖区。"),
        ({"role": "enterprise_clerk", "region": None, "enterprise": "enterprise_other"}, "enterprise", "不在您的辖区"),
        ({"role": "county_staff", "region": None}, "region", "该角色必须指定所属辖区。"),
        ({"role": "superuser"}, "role", "不是合法选项"),
        ({"password": "12345678"}, "password", "密码"),
        ({"password": None}, "password", "该字段是必填项。"),
        ({"username": "town_b"}, "username", "已存在"),
        ({"username": "bad name!"}, "username", "用户名"),
    ],
)
def test_invalid_user_is_refused_in_chinese(
    world: World, cast: Cast, changes: dict[str, Any], field: str, expected: str
) -> None:
    changes = {
        key: getattr(world, value).pk if key in {"region", "enterprise"} and value is not None else value
        for key, value in changes.items()
    }
    payload = user_payload(world)
    payload.update(changes)
    payload = {key: value for key, value in payload.items() if value is not None}
    before = User.objects.count()
    response = api(cast.admin).post("/api/v1/users/", payload, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert field in errors and any(expected in message for message in errors[field]), errors
    assert all(CHINESE.search(message) for message in messages(errors)), errors
    assert User.objects.count() == before
    assert change_count() == 0


def test_admin_updates_users_in_the_county(world: World, cast: Cast) -> None:
    client = api(cast.admin)
    url = f"/api/v1/users/{cast.town_b_staff.pk}/"
    response = client.patch(url, {"region": world.town_a.pk, "full_name": "调岗同事"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["region_name"] == "巴公镇"
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, object_id=str(cast.town_b_staff.pk))
    assert event.before is not None and event.after is not None
    assert (event.before["region"], event.after["region"]) == (world.town_b.pk, world.town_a.pk)
    # A new password, checked by the password rules.
    assert client.patch(url, {"password": "123"}, format="json").status_code == 400
    assert client.patch(url, {"password": STRONG_PASSWORD}, format="json").status_code == 200
    cast.town_b_staff.refresh_from_db()
    assert cast.town_b_staff.check_password(STRONG_PASSWORD)
    assert AuditEvent.objects.filter(detail="修改密码", object_id=str(cast.town_b_staff.pk)).count() == 1
    # Role and scope must agree after the change, or nothing changes.
    response = client.patch(url, {"role": "county_staff"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"region": ["县局股室的所属辖区应为县（市、区）一级。"]}
    cast.town_b_staff.refresh_from_db()
    assert cast.town_b_staff.role == Role.TOWN_STAFF
    # Deactivating an account.
    assert client.patch(url, {"is_active": False}, format="json").json()["is_active"] is False
    # Other counties' accounts are not found.
    other = f"/api/v1/users/{cast.other_county_staff.pk}/"
    assert client.patch(other, {"full_name": "x"}, format="json").status_code == 404
    # Accounts are never deleted through the API (deactivate instead).
    assert client.delete(url).status_code == 405


def test_admin_cannot_lock_themselves_out_or_edit_a_superuser(world: World, cast: Cast) -> None:
    client = api(cast.admin)
    me = f"/api/v1/users/{cast.admin.pk}/"
    assert client.patch(me, {"role": "town_staff", "region": world.town_a.pk}, format="json").json() == {
        "role": ["不能修改自己的角色。"]
    }
    assert client.patch(me, {"is_active": False}, format="json").json() == {"is_active": ["不能停用自己的账号。"]}
    assert client.patch(me, {"full_name": "管理员本人"}, format="json").status_code == 200
    root = UserFactory(username="root", role=Role.ADMIN, region=world.county, is_superuser=True)
    response = client.patch(f"/api/v1/users/{root.pk}/", {"password": STRONG_PASSWORD}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "不能修改超级用户的账号。"}
    root.refresh_from_db()
    assert root.check_password(TEST_PASSWORD)


@pytest.mark.parametrize("member", [m for m in MEMBERS if m != "admin"])
def test_non_admins_cannot_update_users(cast: Cast, member: str) -> None:
    user = getattr(cast, member)
    response = api(user).patch(f"/api/v1/users/{user.pk}/", {"role": "admin"}, format="json")
    assert response.status_code == 403
    user.refresh_from_db()
    assert user.role != Role.ADMIN


# --- Token login ------------------------------------------------------------------------------


def test_token_login_and_use(cast: Cast) -> None:
    response = APIClient().post("/api/v1/auth/token/", {"username": "town_a", "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert token_row(body["token"]).user == cast.town_a_staff
    assert body["user"]["username"] == "town_a" and body["user"]["scope_label"] == "巴公镇"
    login = AuditEvent.objects.get(action=AuditAction.LOGIN)
    assert login.actor == cast.town_a_staff
    cast.town_a_staff.refresh_from_db()
    assert cast.town_a_staff.last_login is not None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert client.get("/api/v1/me/").json()["username"] == "town_a"
    assert {row["name"] for row in results(client.get("/api/v1/enterprises/"))} == {
        "泽州县示范矿业有限公司",
        "巴公镇第二石料厂",
    }
    # Asking again gives a second token (one per device); both work.
    again = APIClient().post("/api/v1/auth/token/", {"username": "town_a", "password": TEST_PASSWORD}, format="json")
    assert again.json()["token"] != body["token"]
    assert ApiToken.objects.filter(user=cast.town_a_staff).count() == 2
    client.credentials(HTTP_AUTHORIZATION=f"Token {again.json()['token']}")
    assert client.get("/api/v1/me/").json()["username"] == "town_a"
    # A wrong token is refused.
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert bad.get("/api/v1/me/").status_code == 401


def test_token_login_failure_is_audited_and_chinese(cast: Cast) -> None:
    response = APIClient().post("/api/v1/auth/token/", {"username": "town_a", "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["用户名或密码错误。"]}
    event = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert event.actor_name == "town_a" and event.actor is None
    assert not ApiToken.objects.exists()
    response = APIClient().post("/api/v1/auth/token/", {"username": "town_a"}, format="json")
    assert response.status_code == 400 and response.json() == {"password": ["该字段是必填项。"]}


def test_inactive_account_gets_no_token(cast: Cast) -> None:
    User.objects.filter(pk=cast.town_a_staff.pk).update(is_active=False)
    response = APIClient().post("/api/v1/auth/token/", {"username": "town_a", "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_token_login_is_locked_out_by_axes(cast: Cast, settings: Any) -> None:
    client = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post("/api/v1/auth/token/", {"username": "town_a", "password": "wrong"}, format="json")
        assert response.status_code == 400
    response = client.post("/api/v1/auth/token/", {"username": "town_a", "password": "wrong"}, format="json")
    assert response.status_code == 429
    # Even the right password is refused now, in JSON and in Chinese.
    response = client.post("/api/v1/auth/token/", {"username": "town_a", "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert "锁定" in response.json()["detail"]
    assert not ApiToken.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).count() == settings.AXES_FAILURE_LIMIT + 1
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN).exists()
    # The web login is locked too: it is the same account and address.
    web = client.post("/login/", {"username": "town_a", "password": TEST_PASSWORD})
    assert web.status_code == 429


def test_session_writes_need_csrf_token_writes_do_not(world: World, cast: Cast) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(cast.county_staff)
    response = client.post("/api/v1/enterprises/", enterprise_payload(world), format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Enterprise.objects.filter(name="泽州县新登记矿业有限公司").exists()
    token = issue_token(cast.county_staff)
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.post("/api/v1/enterprises/", enterprise_payload(world), format="json").status_code == 201


def test_json_types_are_strict(world: World, cast: Cast) -> None:
    client = api(cast.admin)
    for change, field, expected in (
        ({"name": 123}, "name", "不是有效的字符串。"),
        ({"town": str(world.town_b.pk)}, "town", "所在镇应为编号（整数）。"),
        ({"town": True}, "town", "所在镇应为编号（整数）。"),
        ({"credit_code": 91140525}, "credit_code", "不是有效的字符串。"),
    ):
        response = client.post("/api/v1/enterprises/", enterprise_payload(world, **change), format="json")
        assert response.status_code == 400 and response.json()[field] == [expected], response.json()
    response = client.patch(f"/api/v1/users/{cast.town_a_staff.pk}/", {"is_active": "false"}, format="json")
    assert response.status_code == 400 and "is_active" in response.json()
    assert User.objects.get(pk=cast.town_a_staff.pk).is_active
    response = client.post("/api/v1/auth/token/", {"username": "admin", "password": 12345}, format="json")
    assert response.json() == {"password": ["不是有效的字符串。"]}
    response = client.get("/api/v1/enterprises/?q=a%00b")
    assert response.status_code == 400 and response.json() == {"q": ["不能包含空字符（\\x00）。"]}
    for value in ("abc", "0", "-5", ""):
        response = client.get(f"/api/v1/enterprises/?page_size={value}")
        assert response.status_code == 400 and response.json() == {"page_size": ["每页条数应为正整数。"]}
    assert Enterprise.objects.count() == 4 and change_count() == 0


def test_the_api_speaks_json_only(world: World, cast: Cast) -> None:
    client = api(cast.admin)
    response = client.post("/api/v1/enterprises/", enterprise_payload(world))  # multipart form
    assert response.status_code == 415
    assert CHINESE.search(response.json()["detail"])
    response = APIClient().post("/api/v1/auth/token/", {"username": "admin", "password": TEST_PASSWORD})
    assert response.status_code == 415
    assert not Enterprise.objects.filter(name="泽州县新登记矿业有限公司").exists()


# --- Query count does not grow with the page --------------------------------------------------


def _queries(client: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context)


def _grow(world: World, cast: Cast, n: int, start: int = 0) -> None:
    """Adds n rows of every listed kind in 泽州县."""
    for i in range(start, start + n):
        town = world.town_a if i % 2 else world.town_b
        company = ParentCompanyFactory(region=world.county if i % 3 else town)
        enterprise = EnterpriseFactory(town=town, parent_company=company if i % 2 else None)
        PersonFactory(enterprise=enterprise if i % 2 else None, parent_company=None if i % 2 else company)
        RegionFactory(code=f"1405259{i:02d}", level=RegionLevel.TOWN, parent=world.county)
        UserFactory(username=f"grow{i}", role=Role.TOWN_STAFF, region=town)
        audit_record(actor=cast.admin, action=AuditAction.UPDATE, instance=enterprise)


@pytest.mark.parametrize(
    ("url", "member"),
    [
        ("/api/v1/enterprises/?page_size=200", "county_staff"),
        ("/api/v1/enterprises/?page_size=200&ordering=town", "city_viewer"),
        ("/api/v1/regions/?page_size=200", "city_viewer"),
        ("/api/v1/parent-companies/?page_size=200", "admin"),
        ("/api/v1/people/?page_size=200", "admin"),
        ("/api/v1/people/?page_size=200", "county_staff"),
        ("/api/v1/users/?page_size=200", "admin"),
        ("/api/v1/audit-events/?page_size=200", "admin"),
    ],
)
def test_query_count_is_constant_in_page_size(
    world: World, cast: Cast, directory: Directory, django_assert_num_queries: Any, url: str, member: str
) -> None:
    client = api(getattr(cast, member))
    _grow(world, cast, 3)
    small = client.get(url).json()["count"]
    expected = _queries(client, url)
    _grow(world, cast, 27, start=3)
    assert client.get(url).json()["count"] >= small + 27
    with django_assert_num_queries(expected):
        response = client.get(url)
    assert len(response.json()["results"]) >= 30
    # Session, user, count, rows, and the session save (in a savepoint under the test's
    # transaction): nothing per row.
    assert expected <= 7, expected


def test_query_count_with_token_auth(world: World, cast: Cast, directory: Directory) -> None:
    token = issue_token(cast.county_staff)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    client.get("/api/v1/me/")  # the first use records last_used_at (then at most once a minute)
    _grow(world, cast, 3)
    expected = _queries(client, "/api/v1/enterprises/?page_size=200")
    _grow(world, cast, 27, start=3)
    # Token with its user, the user's region, count, rows.
    assert _queries(client, "/api/v1/enterprises/?page_size=200") == expected <= 4


# --- Plumbing ---------------------------------------------------------------------------------


def test_service_errors_become_400_and_409() -> None:
    from django.core.exceptions import ValidationError as DjangoValidationError
    from rest_framework.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught, service_errors():
        raise DjangoValidationError({"__all__": ["人员必须属于一个企业或一个上级企业。"], "name": ["名称太长。"]})
    assert caught.value.detail == {
        "non_field_errors": ["人员必须属于一个企业或一个上级企业。"],
        "name": ["名称太长。"],
    }
    with pytest.raises(Conflict) as conflict, service_errors(conflict="仍有关联记录。"):
        raise ProtectedError("protected", set())
    assert conflict.value.detail == "仍有关联记录。"


def test_api_root_lists_the_resources(cast: Cast) -> None:
    body = api(cast.town_a_staff).get("/api/v1/").json()
    assert set(body) == {"regions", "enterprises", "parent-companies", "people", "users", "audit-events"}


def test_region_levels_are_shown_in_chinese(world: World, cast: Cast) -> None:
    rows = results(api(cast.city_viewer).get("/api/v1/regions/"))
    assert {row["level_display"] for row in rows} == {"市", "县（市、区）", "镇/乡"}
    assert Region.objects.count() == 8  # the API never creates regions
