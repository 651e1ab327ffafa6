"""portal.rules (who may do what, in one place) and the region-subtree helpers of portal.scoping."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied

from inspections.models import Campaign
from inspections.rules import recording_unit
from portal import rules
from portal.choices import RegionLevel, Role
from portal.models import Enterprise, Region
from portal.scoping import ancestor_paths, in_line, in_subtree, path_within
from reporting.choices import ReportKind
from reporting.models import Report
from tests.conftest import Cast, World
from tests.factories import ParentCompanyFactory, RegionFactory, UserFactory

# --- the subtree rule ---------------------------------------------------------------------------


@pytest.fixture
def prefixes(db: None) -> dict[str, Region]:
    """Codes that are prefixes of one another as strings: 1405, 14052, 140525 (siblings) and a child of 1405."""
    root = RegionFactory(code="14", level=RegionLevel.PROVINCE)
    regions = {
        "1405": RegionFactory(code="1405", level=RegionLevel.CITY, parent=root),
        "14052": RegionFactory(code="14052", level=RegionLevel.CITY, parent=root),
        "140525": RegionFactory(code="140525", level=RegionLevel.CITY, parent=root),
    }
    regions["1405/140599"] = RegionFactory(code="140599", level=RegionLevel.COUNTY, parent=regions["1405"])
    regions["14052/140521"] = RegionFactory(code="140521", level=RegionLevel.COUNTY, parent=regions["14052"])
    return {"14": root, **regions}


def test_subtree_is_delimited_not_a_string_prefix(prefixes: dict[str, Region]) -> None:
    under_1405 = set(Region.objects.filter(in_subtree(prefixes["1405"].path)).values_list("code", flat=True))
    assert under_1405 == {"1405", "140599"}
    under_14052 = set(Region.objects.filter(in_subtree(prefixes["14052"].path)).values_list("code", flat=True))
    assert under_14052 == {"14052", "140521"}
    assert not path_within(prefixes["140525"].path, prefixes["14052"].path)
    assert not path_within(prefixes["14052"].path, prefixes["1405"].path)
    assert path_within(prefixes["14052/140521"].path, prefixes["14"].path)


def test_the_query_and_the_python_side_agree_on_every_pair(prefixes: dict[str, Region]) -> None:
    regions = list(prefixes.values())
    for root, node in itertools.product(regions, regions):
        in_query = Region.objects.filter(in_subtree(root.path), pk=node.pk).exists()
        assert in_query == path_within(node.path, root.path), (root.path, node.path)
        assert path_within(node.path, root.path) == node.is_within(root)


def test_in_subtree_follows_a_lookup(world: World) -> None:
    towns = set(Enterprise.objects.filter(in_subtree(world.town_a.path, "town__path")).values_list("pk", flat=True))
    assert towns == {world.enterprise_a.pk, world.enterprise_a2.pk}


def test_ancestor_paths_and_the_line(world: World) -> None:
    assert ancestor_paths("/140000/140500/140525/") == ["/140000/", "/140000/140500/", "/140000/140500/140525/"]
    line = set(Region.objects.filter(in_line(world.county.path)).values_list("code", flat=True))
    assert line == {"140000", "140500", "140525", "140525108", "140525107"}


def test_campaigns_reach_down_and_up(world: World, cast: Cast) -> None:
    """The campaign scoping, now in portal.scoping: the issuing county, its towns and their enterprises,
    and the city above read a county's campaign; a neighbouring county does not."""
    campaign = Campaign.objects.create(
        name="本县测试行动", issuing_region=world.county, start_date=dt.date(2025, 3, 1), end_date=dt.date(2025, 5, 31)
    )
    readers = {name for name, user in cast.all().items() if Campaign.objects.visible_to(user).filter(pk=campaign.pk)}
    assert readers == set(cast.all()) - {"other_county_staff", "other_clerk"}


# --- role predicates ----------------------------------------------------------------------------

PREDICATES = {
    # member: (is_admin, is_county_staff, is_region_admin, acts_for_region(county), acts_for other county)
    "clerk": (False, False, False, False, False),
    "principal": (False, False, False, False, False),
    "town_a_staff": (False, False, False, False, False),
    "county_staff": (False, True, False, False, False),
    "county_leader": (False, False, False, False, False),
    "admin": (True, True, True, True, False),
    "city_viewer": (False, False, False, False, False),
}


@pytest.mark.parametrize("member", sorted(PREDICATES))
def test_role_predicates(world: World, cast: Cast, member: str) -> None:
    user = getattr(cast, member)
    found = (
        rules.is_admin(user),
        rules.is_county_staff(user),
        rules.is_region_admin(user),
        rules.acts_for_region(user, world.town_a),
        rules.acts_for_region(user, world.other_town),
    )
    assert found == PREDICATES[member]


def test_superuser_holds_every_role_but_is_no_region_admin(world: World) -> None:
    root = UserFactory(username="root", is_superuser=True, role=Role.TOWN_STAFF)
    assert rules.is_admin(root) and rules.is_county_staff(root) and rules.has_role(root, {Role.COUNTY_LEADER})
    assert rules.acts_for_region(root, world.other_town) and not rules.is_region_admin(root)


def test_anonymous_holds_no_role() -> None:
    from django.contrib.auth.models import AnonymousUser

    assert not rules.has_role(AnonymousUser(), {Role.ADMIN})
    assert not rules.is_admin(None)


# --- the registry -------------------------------------------------------------------------------


def test_apps_registered_their_actions() -> None:
    assert {"hazards.close", "hazards.report", "hazards.edit_criterion"} <= set(rules.actions("hazards."))
    assert set(rules.actions("reporting.")) == {
        "reporting.reset_schedule", "reporting.sign", "reporting.submit", "reporting.view",
    }  # fmt: skip
    assert "inspections.record_for_enterprise" in rules.actions("inspections.")


def test_unknown_and_doubled_actions_are_configuration_errors() -> None:
    with pytest.raises(ImproperlyConfigured):
        rules.may(None, "portal.no_such_action")
    with pytest.raises(ImproperlyConfigured):
        rules.register("portal.view_audit_log", allow=lambda user, obj: True, refusal="重复")
    with pytest.raises(ImproperlyConfigured):
        rules.register("portal.without_refusal", allow=lambda user, obj: True)


@pytest.mark.parametrize(
    ("member", "allowed"),
    [("admin", True), ("county_staff", True), ("county_leader", False), ("town_a_staff", False), ("clerk", False)],
)
def test_import_enterprises(cast: Cast, member: str, allowed: bool) -> None:
    user = getattr(cast, member)
    assert rules.may(user, "portal.import_enterprises") is allowed
    if allowed:
        rules.require(user, "portal.import_enterprises")
    else:
        with pytest.raises(PermissionDenied, match="只有县局管理员或股室可以导入企业名录"):
            rules.require(user, "portal.import_enterprises")


def test_an_inactive_account_imports_nothing(cast: Cast) -> None:
    cast.admin.is_active = False
    assert not rules.may(cast.admin, "portal.import_enterprises")


def test_restrict_on_a_role_rule_is_all_visible_or_none(world: World, cast: Cast) -> None:
    assert set(rules.restrict(Region.objects.all(), cast.admin, "portal.view_audit_log")) == set(
        Region.objects.visible_to(cast.admin)
    )
    assert not rules.restrict(Region.objects.all(), cast.county_staff, "portal.view_audit_log").exists()


def test_restrict_refuses_an_object_rule_without_rows(cast: Cast) -> None:
    with pytest.raises(ImproperlyConfigured):
        rules.restrict(Report.objects.all(), cast.county_staff, "reporting.sign")


# --- reporting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("member", "town_table", "county_table"),
    [
        ("town_a_staff", True, False),
        ("town_b_staff", False, False),
        ("county_staff", False, True),
        ("admin", False, True),
        ("county_leader", False, False),
        ("other_county_staff", False, False),
    ],
)
def test_who_submits_a_table(world: World, cast: Cast, member: str, town_table: bool, county_table: bool) -> None:
    user = getattr(cast, member)
    assert rules.may(user, "reporting.submit", Report(kind=ReportKind.ACCOUNTABILITY, region=world.town_a)) is (
        town_table
    )
    assert rules.may(user, "reporting.submit", Report(kind=ReportKind.ACCOUNTABILITY, region=world.county)) is (
        county_table
    )


def test_who_signs_a_table(world: World, cast: Cast) -> None:
    county_table = Report(kind=ReportKind.ACCOUNTABILITY, region=world.county)
    other_table = Report(kind=ReportKind.ACCOUNTABILITY, region=world.other_county)
    signers = {name for name, user in cast.all().items() if rules.may(user, "reporting.sign", county_table)}
    assert signers == {"county_leader"}
    assert not rules.may(cast.county_leader, "reporting.sign", other_table)
    with pytest.raises(PermissionDenied, match="只有本县的分管负责人可以签字"):
        rules.require(cast.county_staff, "reporting.sign", county_table)
    cast.county_leader.is_active = False
    assert not rules.may(cast.county_leader, "reporting.sign", county_table)


def test_enterprise_accounts_never_see_the_tables(cast: Cast) -> None:
    readers = {name for name, user in cast.all().items() if rules.may(user, "reporting.view")}
    assert readers == set(cast.all()) - {"clerk", "principal", "other_clerk"}


# --- inspections --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        ("town_a_staff", {"enterprise_a", "enterprise_a2"}),
        ("county_staff", {"enterprise_a", "enterprise_a2", "enterprise_b"}),
        ("county_leader", set()),
        ("clerk", set()),
        ("admin", set()),
    ],
)
def test_field_work_is_recorded_for_the_unit_s_enterprises(
    world: World, cast: Cast, member: str, expected: set[str]
) -> None:
    user = getattr(cast, member)
    rows = set(rules.restrict(Enterprise.objects.all(), user, "inspections.record_for_enterprise"))
    assert rows == {getattr(world, name) for name in expected}
    for name in ("enterprise_a", "enterprise_b", "enterprise_other"):
        enterprise = getattr(world, name)
        assert rules.may(user, "inspections.record_for_enterprise", enterprise) is (name in expected)


def test_a_town_is_refused_another_town_s_enterprise(world: World, cast: Cast) -> None:
    with pytest.raises(PermissionDenied, match="镇应急管理中心只能为本镇企业登记"):
        rules.require(cast.town_a_staff, "inspections.record_for_enterprise", world.enterprise_b)


def test_only_the_recording_unit_changes_its_record(world: World, cast: Cast) -> None:
    changers = {n for n, u in cast.all().items() if rules.may(u, "inspections.change_unit_record", world.town_a)}
    assert changers == {"town_a_staff"}
    with pytest.raises(PermissionDenied, match="只有巴公镇可以修改或删除"):
        rules.require(cast.county_staff, "inspections.change_unit_record", world.town_a)


def test_inspections_registered_every_action_callers_ask() -> None:
    assert set(rules.actions("inspections.")) == {
        "inspections.act_for_town", "inspections.change_unit_record", "inspections.edit_campaign",
        "inspections.file_self_check", "inspections.keep_calendar", "inspections.keep_duty_log",
        "inspections.record_field_work", "inspections.record_for_enterprise",
        "inspections.record_for_parent_company", "inspections.sign_self_check",
    }  # fmt: skip


def test_town_and_county_staff_record_field_work_as_their_own_unit(world: World, cast: Cast) -> None:
    recorders = {n for n, u in cast.all().items() if rules.may(u, "inspections.record_field_work")}
    assert recorders == {"town_a_staff", "town_b_staff", "county_staff", "other_county_staff"}
    assert recording_unit(cast.town_a_staff) == world.town_a
    assert recording_unit(cast.county_staff) == world.county
    for name in ("clerk", "county_leader", "admin"):
        with pytest.raises(PermissionDenied, match="只有镇应急管理中心或县局股室的账号可以登记"):
            recording_unit(getattr(cast, name))
    cast.town_a_staff.is_active = False
    assert not rules.may(cast.town_a_staff, "inspections.record_field_work")


def test_a_parent_company_is_recorded_for_where_it_is_registered_or_owns_a_mine(world: World, cast: Cast) -> None:
    elsewhere = ParentCompanyFactory(name="外县集团有限公司", region=world.other_county)
    recorders = {n for n, u in cast.all().items() if rules.may(u, "inspections.record_for_parent_company", elsewhere)}
    assert recorders == {"other_county_staff"}
    with pytest.raises(PermissionDenied, match="上级企业“外县集团有限公司”在巴公镇没有所属矿山"):
        rules.require(cast.town_a_staff, "inspections.record_for_parent_company", elsewhere)
    Enterprise.objects.filter(pk=world.enterprise_a.pk).update(parent_company=elsewhere)
    recorders = {n for n, u in cast.all().items() if rules.may(u, "inspections.record_for_parent_company", elsewhere)}
    assert recorders == {"town_a_staff", "county_staff", "other_county_staff"}


def test_only_town_staff_act_for_a_town(cast: Cast) -> None:
    towns = {n for n, u in cast.all().items() if rules.may(u, "inspections.act_for_town")}
    assert towns == {"town_a_staff", "town_b_staff"}


def test_a_self_check_report_is_filed_by_the_enterprise_or_its_town(world: World, cast: Cast) -> None:
    filers = {n for n, u in cast.all().items() if rules.may(u, "inspections.file_self_check", world.enterprise_a)}
    assert filers == {"clerk", "principal", "town_a_staff"}
    with pytest.raises(PermissionDenied, match="只有本企业或所在镇应急管理中心（代企业填报）可以填写自查自改报告"):
        rules.require(cast.county_staff, "inspections.file_self_check", world.enterprise_a)


def test_only_the_enterprise_s_principal_signs_its_self_check_report(world: World, cast: Cast) -> None:
    signers = {n for n, u in cast.all().items() if rules.may(u, "inspections.sign_self_check", world.enterprise_a)}
    assert signers == {"principal"}
    assert not rules.may(cast.principal, "inspections.sign_self_check", world.enterprise_b)
    with pytest.raises(PermissionDenied, match="只有泽州县示范矿业有限公司的主要负责人本人可以签字"):
        rules.require(cast.clerk, "inspections.sign_self_check", world.enterprise_a)
    cast.principal.is_active = False
    assert not rules.may(cast.principal, "inspections.sign_self_check", world.enterprise_a)


def test_a_duty_log_is_kept_by_the_enterprise_its_town_or_its_county(world: World, cast: Cast) -> None:
    keepers = {n for n, u in cast.all().items() if rules.may(u, "inspections.keep_duty_log", world.enterprise_a)}
    assert keepers == {"clerk", "principal", "town_a_staff", "county_staff"}
    with pytest.raises(PermissionDenied, match="只有本企业、所在镇应急管理中心或县局可以填报该企业的履职台账"):
        rules.require(cast.town_b_staff, "inspections.keep_duty_log", world.enterprise_a)
