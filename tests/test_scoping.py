from __future__ import annotations

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
