"""The shared cast and the regions they live in.

Every feature is tested against the same people, so that who may and who may not is always
checked: an enterprise clerk and its principal (巴公镇), staff of two towns (巴公镇, 高都镇),
county staff, a county leader and an admin of 泽州县, a city viewer of 晋城市 — and, for
"outside", a second county (上党区 of 长治市) with its own enterprise and staff.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.servers.basehttp import WSGIServer
from django.test.testcases import LiveServerThread

from portal.choices import Industry, PersonRole, PrincipalKind, ProductionStatus, RegionLevel, Role
from portal.models import Enterprise, Region, User
from tests.factories import EnterpriseFactory, PersonFactory, RegionFactory, UserFactory


class SerialLiveServer(WSGIServer):
    """The browser tests' live server answers one request at a time.

    The test database is in-memory SQLite, whose one connection the live server shares with the test (and,
    when threaded, among its request threads): two requests at once (a page and the menu badges it fetches,
    or a page left while its request still runs) then break each other's transactions ("cannot start a
    transaction within a transaction", a session lost, a 400). Served in the server's own thread, where
    LiveServerThread.run() already installed the shared connection, requests simply queue; the server
    answers `Connection: close` since it is not threaded, so the browser never waits on a kept-alive socket.
    """

    def __init__(self, *args: object, connections_override: object = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


LiveServerThread.server_class = SerialLiveServer

pytest_plugins = ["tests.services", "tests.browser_fixtures"]


@dataclass
class World:
    province: Region
    city: Region
    county: Region
    town_a: Region
    town_b: Region
    other_city: Region
    other_county: Region
    other_town: Region
    enterprise_a: Enterprise
    enterprise_a2: Enterprise
    enterprise_b: Enterprise
    enterprise_other: Enterprise


@dataclass
class Cast:
    clerk: User
    principal: User
    town_a_staff: User
    town_b_staff: User
    county_staff: User
    county_leader: User
    admin: User
    city_viewer: User
    other_county_staff: User
    other_clerk: User

    def all(self) -> dict[str, User]:
        return dict(vars(self))


@pytest.fixture(autouse=True)
def holiday_calendar(request: pytest.FixtureRequest) -> None:
    """The working-day calendar a migration seeds, back after a transactional test flushed it; and no
    calendar cached in this process from an earlier test."""
    from inspections import workdays

    workdays.forget()
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or bool(marker and marker.kwargs.get("transaction"))
    if not (marker or transactional or "db" in request.fixturenames):
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    from inspections.calendar_seed import ensure_seeded

    ensure_seeded()


@pytest.fixture
def world(db: None) -> World:
    province = RegionFactory(code="140000", name="山西省", level=RegionLevel.PROVINCE)
    city = RegionFactory(code="140500", name="晋城市", level=RegionLevel.CITY, parent=province)
    county = RegionFactory(code="140525", name="泽州县", level=RegionLevel.COUNTY, parent=city)
    town_a = RegionFactory(code="140525108", name="巴公镇", level=RegionLevel.TOWN, parent=county)
    town_b = RegionFactory(code="140525107", name="高都镇", level=RegionLevel.TOWN, parent=county)
    other_city = RegionFactory(code="140400", name="长治市", level=RegionLevel.CITY, parent=province)
    other_county = RegionFactory(code="140404", name="上党区", level=RegionLevel.COUNTY, parent=other_city)
    other_town = RegionFactory(code="140404100", name="韩店镇", level=RegionLevel.TOWN, parent=other_county)
    enterprise_a = EnterpriseFactory(
        name="泽州县示范矿业有限公司", credit_code="91140525MA0K7XQ215", town=town_a, industry=Industry.OPEN_PIT
    )
    enterprise_a2 = EnterpriseFactory(name="巴公镇第二石料厂", town=town_a, industry=Industry.QUARRY)
    enterprise_b = EnterpriseFactory(
        name="高都镇铁矿有限公司",
        town=town_b,
        industry=Industry.UNDERGROUND,
        production_status=ProductionStatus.BUILDING,
    )
    enterprise_other = EnterpriseFactory(name="上党区外县矿业有限公司", town=other_town)
    return World(
        province, city, county, town_a, town_b, other_city, other_county, other_town,
        enterprise_a, enterprise_a2, enterprise_b, enterprise_other,
    )  # fmt: skip


@pytest.fixture
def cast(world: World) -> Cast:
    principal_person = PersonFactory(
        enterprise=world.enterprise_a, name="王建国", role=PersonRole.PRINCIPAL,
        principal_kind=PrincipalKind.LEGAL_REPRESENTATIVE,
    )  # fmt: skip
    return Cast(
        clerk=UserFactory(username="clerk", role=Role.ENTERPRISE_CLERK, enterprise=world.enterprise_a),
        principal=UserFactory(
            username="principal", role=Role.ENTERPRISE_PRINCIPAL, enterprise=world.enterprise_a, person=principal_person
        ),
        town_a_staff=UserFactory(username="town_a", role=Role.TOWN_STAFF, region=world.town_a),
        town_b_staff=UserFactory(username="town_b", role=Role.TOWN_STAFF, region=world.town_b),
        county_staff=UserFactory(username="county", role=Role.COUNTY_STAFF, region=world.county),
        county_leader=UserFactory(username="leader", role=Role.COUNTY_LEADER, region=world.county),
        admin=UserFactory(username="admin", role=Role.ADMIN, region=world.county, is_staff=True),
        city_viewer=UserFactory(username="city", role=Role.CITY_VIEWER, region=world.city),
        other_county_staff=UserFactory(username="other_county", role=Role.COUNTY_STAFF, region=world.other_county),
        other_clerk=UserFactory(username="other_clerk", role=Role.ENTERPRISE_CLERK, enterprise=world.enterprise_other),
    )
