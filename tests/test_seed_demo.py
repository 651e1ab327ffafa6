"""`manage.py seed_demo`: the demo county, its enterprises, people and one account per role; scales."""

from __future__ import annotations

import io
import random
from typing import Any

import pytest
from django.contrib.auth import password_validation
from django.core.management import call_command

from portal import demo
from portal.choices import Industry, PersonRole, PrincipalKind, ProductionStatus, RegionLevel, Role
from portal.models import AuditEvent, Enterprise, ParentCompany, Person, Region, User
from portal.validators import validate_credit_code

ZEZHOU_TOWNS = [
    "南村镇", "下村镇", "大东沟镇", "周村镇", "犁川镇", "晋庙铺镇", "金村镇", "高都镇", "巴公镇",
    "大阳镇", "山河镇", "李寨乡", "柳树口镇", "北义城镇", "南岭乡", "川底乡", "大箕镇",
]  # fmt: skip
ZEZHOU_PATH = "/140000/140500/140525/"


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count() for model in (Region, Enterprise, ParentCompany, Person, User, AuditEvent)
    }


def zezhou_enterprises() -> Any:
    return Enterprise.objects.filter(town__path__startswith=ZEZHOU_PATH)


@pytest.fixture
def seeded(db: None) -> str:
    return seed()


def test_regions_form_the_tree_with_zezhou_real_towns(seeded: str) -> None:
    province = Region.objects.get(code="140000")
    assert (province.name, province.level, province.parent, province.path) == (
        "山西省", RegionLevel.PROVINCE, None, "/140000/",
    )  # fmt: skip
    city = Region.objects.get(code="140500")
    county = Region.objects.get(code="140525")
    assert (city.name, city.parent, city.level) == ("晋城市", province, RegionLevel.CITY)
    assert (county.name, county.parent, county.level, county.path) == (
        "泽州县", city, RegionLevel.COUNTY, ZEZHOU_PATH,
    )  # fmt: skip

    towns = list(Region.objects.filter(parent=county).order_by("code"))
    assert [t.name for t in towns] == ZEZHOU_TOWNS
    assert [t.code for t in towns] == [f"140525{100 + k}" for k in range(17)]
    assert all(t.level == RegionLevel.TOWN and t.path == f"{ZEZHOU_PATH}{t.code}/" for t in towns)
    assert Region.objects.get(name="巴公镇").code == "140525108"  # the code the shared test cast uses
    assert Region.objects.get(name="高都镇").code == "140525107"

    # Several counties in one deployment, each with a couple of towns.
    for city_code, city_name, county_code, county_name in (
        ("140400", "长治市", "140404", "上党区"),
        ("140800", "运城市", "140829", "平陆县"),
    ):
        other = Region.objects.get(code=county_code)
        assert (other.name, other.parent.code, other.parent.name) == (county_name, city_code, city_name)
        assert Region.objects.filter(parent=other, level=RegionLevel.TOWN).count() >= 2
    assert Region.objects.get(code="140404100").name == "韩店镇"
    # Every path follows the one rule of portal.services.region_create.
    for region in Region.objects.select_related("parent"):
        expected = f"{region.parent.path if region.parent else '/'}{region.code}/"
        assert region.path == expected


def test_the_demo_enterprise_is_there_in_bagong(seeded: str) -> None:
    showcase = Enterprise.objects.select_related("town").get(credit_code="91140525MA0K7XQ215")
    assert showcase.name == "泽州县示范矿业有限公司"
    assert showcase.industry == Industry.OPEN_PIT
    assert showcase.production_status == ProductionStatus.PRODUCING
    assert (showcase.town.name, showcase.town.code) == ("巴公镇", "140525108")
    assert showcase.parent_company is not None
    roles = set(showcase.people.values_list("role", flat=True))
    assert {PersonRole.PRINCIPAL, PersonRole.SAFETY, PersonRole.TECHNICAL, PersonRole.SPECIAL_OPERATOR} <= roles


def test_about_sixty_mixed_enterprises_in_zezhou_all_with_valid_codes(seeded: str) -> None:
    enterprises = zezhou_enterprises()
    assert enterprises.count() == 60
    assert (
        Enterprise.objects.exclude(town__path__startswith=ZEZHOU_PATH)
        .filter(town__path__startswith="/140000/140400/140404/")
        .exists()
    )
    assert len(set(enterprises.values_list("industry", flat=True))) >= 5
    assert len(set(enterprises.values_list("production_status", flat=True))) >= 4
    assert len(set(enterprises.values_list("risk_grade", flat=True))) == 4
    assert len(set(enterprises.values_list("town", flat=True))) == 17  # every town has enterprises
    assert enterprises.exclude(license_number="").filter(license_expiry__isnull=False).count() >= 20
    assert 5 <= enterprises.filter(parent_company__isnull=False).count() < 60

    codes = list(Enterprise.objects.values_list("credit_code", flat=True)) + list(
        ParentCompany.objects.values_list("credit_code", flat=True)
    )
    assert len(codes) == len(set(codes))
    for code in codes:
        validate_credit_code(code)  # raises on a wrong check digit
    # Each code is registered in its enterprise's county.
    for code, town_code in Enterprise.objects.values_list("credit_code", "town__code"):
        assert code[2:8] == town_code[:6]


def test_people_of_enterprises_and_parent_companies(seeded: str) -> None:
    for enterprise in zezhou_enterprises().prefetch_related("people"):
        roles = [p.role for p in enterprise.people.all()]
        assert roles.count(PersonRole.PRINCIPAL) == 1, enterprise
        assert PersonRole.SAFETY in roles and PersonRole.TECHNICAL in roles, enterprise
    kinds = set(
        Person.objects.filter(role=PersonRole.PRINCIPAL, enterprise__isnull=False).values_list(
            "principal_kind", flat=True
        )
    )
    assert kinds == {
        PrincipalKind.LEGAL_REPRESENTATIVE,
        PrincipalKind.ACTUAL_CONTROLLER,
        PrincipalKind.ACTUAL_RESPONSIBLE,
    }
    operators = Person.objects.filter(role=PersonRole.SPECIAL_OPERATOR)
    assert operators.count() >= 10
    assert not operators.filter(certificate_expiry__isnull=True).exists()
    assert not operators.filter(certificate_number="").exists()

    companies = ParentCompany.objects.filter(region__code="140525")
    assert companies.exists()
    for company in companies:
        assert sorted(company.people.values_list("role", flat=True)) == sorted(
            [PersonRole.PRINCIPAL, PersonRole.DEPUTY]
        )
        assert company.enterprises.exists()


def test_one_account_per_role_with_the_documented_password(seeded: str) -> None:
    users = {u.username: u for u in User.objects.all()}
    expected = {
        "clerk": (Role.ENTERPRISE_CLERK, None, "91140525MA0K7XQ215"),
        "principal": (Role.ENTERPRISE_PRINCIPAL, None, "91140525MA0K7XQ215"),
        "town_bagong": (Role.TOWN_STAFF, "140525108", None),
        "town_gaodu": (Role.TOWN_STAFF, "140525107", None),
        "county_staff": (Role.COUNTY_STAFF, "140525", None),
        "county_leader": (Role.COUNTY_LEADER, "140525", None),
        "county_admin": (Role.ADMIN, "140525", None),
        "city_viewer": (Role.CITY_VIEWER, "140500", None),
        "superadmin": (Role.ADMIN, None, None),
    }
    assert set(users) == set(expected)
    for username, (role, region_code, credit_code) in expected.items():
        user = users[username]
        assert user.role == role, username
        assert (user.region.code if user.region else None) == region_code, username
        assert (user.enterprise.credit_code if user.enterprise else None) == credit_code, username
        assert user.check_password(demo.DEMO_PASSWORD), username
        password_validation.validate_password(demo.DEMO_PASSWORD, user)
        user.full_clean()
    assert {r for r, _, _ in expected.values()} == set(Role.values)  # every role has an account
    assert users["superadmin"].is_superuser and users["superadmin"].is_staff
    assert users["county_admin"].is_staff and not users["county_admin"].is_superuser
    assert not any(users[name].is_superuser for name in expected if name != "superadmin")

    principal_person = users["principal"].person
    assert principal_person is not None
    assert principal_person.role == PersonRole.PRINCIPAL
    assert principal_person.enterprise == users["principal"].enterprise


def test_the_demo_accounts_see_what_their_scope_allows(seeded: str) -> None:
    users = {u.username: u for u in User.objects.all()}
    visible = {name: Enterprise.objects.visible_to(user) for name, user in users.items()}
    assert visible["clerk"].count() == 1
    assert visible["town_bagong"].count() == Enterprise.objects.filter(town__code="140525108").count() > 1
    assert not visible["town_bagong"].filter(town__code="140525107").exists()
    assert visible["county_staff"].count() == 60
    assert visible["city_viewer"].count() == 60  # 晋城市 holds only 泽州县 at the demo scale
    assert visible["superadmin"].count() == Enterprise.objects.count() > 60


def test_command_prints_the_logins_and_the_url(seeded: str) -> None:
    assert "http://127.0.0.1:8000" in seeded
    for username in ("clerk", "principal", "town_bagong", "town_gaodu", "county_staff", "superadmin"):
        assert username in seeded
    assert seeded.count(demo.DEMO_PASSWORD) == len(demo.DEMO_USERS)
    assert "企业主要负责人" in seeded and "镇应急管理中心" in seeded


def test_running_twice_changes_nothing(seeded: str) -> None:
    before = counts()
    rows_before = list(Enterprise.objects.order_by("id").values())
    users_before = list(User.objects.order_by("id").values("username", "password", "role", "region", "enterprise"))

    out = seed()

    assert counts() == before
    assert list(Enterprise.objects.order_by("id").values()) == rows_before
    assert list(User.objects.order_by("id").values("username", "password", "role", "region", "enterprise")) == (
        users_before
    )
    assert "无（数据已齐全）" in out


def test_data_is_a_pure_function_of_the_seed(seeded: str) -> None:
    """The DB holds exactly what the spec functions give, whatever the global random state."""
    county = Region.objects.get(code="140525")
    towns = list(Region.objects.filter(parent=county).order_by("code"))
    random.seed(1)
    first = [demo.enterprise_spec("140525", "泽州县", towns, i) for i in range(60)]
    random.seed(2)
    second = [demo.enterprise_spec("140525", "泽州县", towns, i) for i in range(60)]
    assert [s.fields for s in first] == [s.fields for s in second]
    assert [s.people for s in first] == [s.people for s in second]
    stored = {
        e.credit_code: (e.name, e.town_id, e.industry, e.production_status, e.license_expiry)
        for e in zezhou_enterprises()
    }
    assert stored == {
        s.fields["credit_code"]: (
            s.fields["name"], s.fields["town"].pk, s.fields["industry"], s.fields["production_status"],
            s.fields["license_expiry"],
        )
        for s in first
    }  # fmt: skip


def test_demo_is_audited_like_operator_work(seeded: str) -> None:
    # The demo part goes through the services: each created record has its audit row.
    assert AuditEvent.objects.filter(object_type="非煤矿山企业", action="create").count() == Enterprise.objects.count()
    assert AuditEvent.objects.filter(object_type="用户", action="create").count() == len(demo.DEMO_USERS)


def test_county_scale_fills_zezhou_to_300_in_bulk_and_keeps_the_demo(seeded: str) -> None:
    demo_rows = list(zezhou_enterprises().order_by("id").values_list("id", "credit_code", "name"))
    audit_before = AuditEvent.objects.count()

    out = seed("--scale", "county")

    assert zezhou_enterprises().count() == 300
    assert list(zezhou_enterprises().filter(id__in=[r[0] for r in demo_rows]).order_by("id").values_list(
        "id", "credit_code", "name"
    )) == demo_rows  # fmt: skip
    assert AuditEvent.objects.count() == audit_before  # bench rows carry no per-row audit
    assert "enterprises 240" in out
    for code in zezhou_enterprises().values_list("credit_code", flat=True):
        validate_credit_code(code)
    # Bulk rows have their people too, and some their parent company.
    bulk = zezhou_enterprises().exclude(id__in=[r[0] for r in demo_rows])
    assert Person.objects.filter(enterprise__in=bulk, role=PersonRole.PRINCIPAL).count() == 240
    assert bulk.filter(parent_company__isnull=False).exists()

    before = counts()
    seed("--scale", "county")
    assert counts() == before


def test_county_scale_from_an_empty_database(db: None) -> None:
    seed("--scale", "county")
    assert zezhou_enterprises().count() == 300
    assert Enterprise.objects.filter(credit_code="91140525MA0K7XQ215", town__name="巴公镇").exists()
    assert User.objects.count() == len(demo.DEMO_USERS)


def test_province_scale_shape() -> None:
    """The province scale's geography and targets (the bulk build itself runs in `make bench`)."""
    assert len(demo.CITIES) == 11
    assert len(demo.COUNTIES) == 117
    assert len({code for code in demo.COUNTIES}) == 117
    towns = sum(len(demo.town_names(code, full_province=True)) for code in demo.COUNTIES)
    assert 1300 <= towns <= 1500
    for code in demo.COUNTIES:
        names = demo.town_names(code, full_province=True)
        assert len(names) == len(set(names)), code
    targets = demo.SCALES["province"].enterprise_targets()
    assert set(targets) == set(demo.COUNTIES)
    assert sum(targets.values()) == 6000
    assert targets["140525"] == 300
    assert demo.SCALES["county"].enterprise_targets()["140525"] == 300
    assert demo.SCALES["demo"].enterprise_targets()["140525"] == 60


@pytest.mark.slow
def test_province_scale_builds_in_bulk(db: None) -> None:
    seed("--scale", "province")
    assert Region.objects.filter(level=RegionLevel.CITY).count() == 11
    assert Region.objects.filter(level=RegionLevel.COUNTY).count() == 117
    assert 1300 <= Region.objects.filter(level=RegionLevel.TOWN).count() <= 1500
    assert Enterprise.objects.count() == 6000
    assert zezhou_enterprises().count() == 300
    before = counts()
    seed("--scale", "province")
    assert counts() == before
