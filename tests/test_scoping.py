from __future__ import annotations

import datetime

import pytest
from django.test import Client

from portal.models import Enterprise
from tests.conftest import Cast, World

# Which enterprises of the world each member of the cast may see.
EXPECTED_ENTERPRISES = {
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
ALL_ENTERPRISES = ("enterprise_a", "enterprise_a2", "enterprise_b", "enterprise_other")


@pytest.mark.parametrize("member", sorted(EXPECTED_ENTERPRISES))
def test_visible_to_matches_the_matrix(world: World, cast: Cast, member: str) -> None:
    user = getattr(cast, member)
    visible = set(Enterprise.objects.visible_to(user).values_list("pk", flat=True))
    expected = {getattr(world, name).pk for name in EXPECTED_ENTERPRISES[member]}
    assert visible == expected


@pytest.mark.parametrize("member", sorted(EXPECTED_ENTERPRISES))
def test_detail_page_is_404_outside_scope(world: World, cast: Cast, member: str) -> None:
    client = Client()
    client.force_login(getattr(cast, member))
    for name in ALL_ENTERPRISES:
        enterprise = getattr(world, name)
        response = client.get(f"/enterprises/{enterprise.pk}/")
        expected = 200 if name in EXPECTED_ENTERPRISES[member] else 404
        assert response.status_code == expected, (member, name, response.status_code)


def test_anonymous_and_unscoped_users_see_nothing(world: World, django_user_model) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import AnonymousUser

    assert not Enterprise.objects.visible_to(AnonymousUser()).exists()
    nobody = django_user_model.objects.create(username="nobody", role="town_staff")
    assert not Enterprise.objects.visible_to(nobody).exists()


def test_several_ways_into_a_region_are_semi_joins_with_the_rows_of_the_joined_condition(cast, world) -> None:
    """A model reached through several relations (a person's enterprise or parent company, an enforcement
    record's enterprise, parent company or issuing unit) is scoped by `fk IN (SELECT …)` branches: no join
    of the whole table, and exactly the rows the OR-ed joined condition gives, for every member of the cast."""
    from django.db.models import Q

    from inspections.choices import EnforcementKind
    from inspections.models import EnforcementRecord
    from portal.models import Person
    from portal.scoping import in_subtree
    from tests.factories import ParentCompanyFactory, PersonFactory

    group_here = ParentCompanyFactory(region=world.county)
    group_there = ParentCompanyFactory(region=world.other_county)
    PersonFactory(enterprise=world.enterprise_a)
    PersonFactory(enterprise=world.enterprise_b)
    PersonFactory(enterprise=world.enterprise_other)
    PersonFactory(parent_company=group_here)
    PersonFactory(parent_company=group_there)
    day = datetime.date(2024, 3, 1)
    for unit, enterprise, company in (
        (world.town_a, world.enterprise_a, None),
        (world.county, None, group_here),
        (world.other_county, world.enterprise_other, None),
        (world.county, world.enterprise_other, None),  # issued here about an enterprise elsewhere
        (world.other_town, None, group_there),
    ):
        EnforcementRecord.objects.create(
            kind=EnforcementKind.INTERVIEW_ENTERPRISE, issuing_unit=unit, date=day, enterprise=enterprise,
            parent_company=company,
        )  # fmt: skip
    users = [getattr(cast, name) for name in vars(cast)]
    for model in (Person, EnforcementRecord):
        assert model.objects.count() >= 5
        for user in users:
            scoped = model.objects.visible_to(user)
            if user.region_id is not None:
                joined = Q()
                for lookup in model.scope_region_path:
                    joined |= in_subtree(user.region_path, lookup)
                assert set(scoped) == set(model.objects.filter(joined)), (model, user.username)
                assert " JOIN " not in str(scoped.query), str(scoped.query)
        county = set(model.objects.visible_to(cast.county_staff))
        assert county and county != set(model.objects.all())


def test_semijoin_scoping_gives_the_same_hazards_without_joining_them(cast, world) -> None:
    """`visible_to(user, semijoin=True)` (the warnings' window over a scope's major hazards) reads the same rows
    as the joined condition, for every member of the cast, by `enterprise_id IN (SELECT …)`."""
    from hazards.choices import HazardLevel
    from hazards.models import Hazard
    from tests.hazards.conftest import make_hazard

    for enterprise in (world.enterprise_a, world.enterprise_b, world.enterprise_other):
        make_hazard(enterprise, level=HazardLevel.GENERAL)
    for name in vars(cast):
        user = getattr(cast, name)
        semi = Hazard.objects.visible_to(user, semijoin=True)
        assert set(semi) == set(Hazard.objects.visible_to(user)), name
        if user.region_id is not None:
            assert " JOIN " not in str(semi.query)
    assert Hazard.objects.visible_to(cast.town_a_staff, semijoin=True).count() == 1
