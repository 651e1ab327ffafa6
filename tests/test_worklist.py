"""工作台 (issue 13 §1): each role's sections, through the page, the API and the menu badges; nothing outside
the scope; a query count that does not grow with the data."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from hazards.choices import ExtensionStatus, HazardLevel, HazardStatus, LedgerUploadStatus
from hazards.models import ExtensionRequest, LedgerUpload, Notification
from inspections.choices import DeliverableKind, DeliverableSchedule, DeliverableSubmitter, DeliverableTable
from inspections.models import Campaign, ChecklistArea, ChecklistItem, Deliverable, DeliverableSubmission
from inspections.services import self_check_start
from portal import worklist
from portal.choices import PersonRole, Role
from reporting.choices import ReportKind, VersionStatus
from reporting.models import Report, ReportVersion
from tests.conftest import Cast, World
from tests.factories import PersonFactory
from tests.hazards.conftest import catalogue, make_hazard  # noqa: F401 - the catalogue fixture

TODAY = dt.date(2026, 5, 15)
NOW = dt.datetime(2026, 5, 15, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
S = HazardStatus


def kinds(user: Any, today: dt.date = TODAY) -> dict[str, worklist.Section]:
    return {section.kind: section for section in worklist.sections_for(user, today)}


def urls(section: worklist.Section) -> list[str]:
    return [item.url for item in section.items]


def hz(enterprise: Any, status: str, *, level: str = HazardLevel.MAJOR, days: int = 30, **fields: Any) -> Any:
    deadline = TODAY + dt.timedelta(days=days)
    return make_hazard(enterprise, level=level, status=status, deadline=deadline, found_on=TODAY, **fields)


@pytest.fixture
def hazards(world: World, cast: Cast, catalogue: None) -> dict[str, Any]:  # noqa: F811
    """One hazard at every waiting step in 巴公镇, and the same noise in 高都镇 and in another county."""
    made = {
        "draft": hz(world.enterprise_a, S.DRAFT),
        "pending_town": hz(world.enterprise_a, S.PENDING_TOWN),
        "pending_county": hz(world.enterprise_a, S.PENDING_COUNTY),
        "closure": hz(world.enterprise_a, S.CLOSURE_REQUESTED, rectified_on=TODAY),
        "rectified": hz(world.enterprise_a, S.RECTIFIED, level=HazardLevel.GENERAL, rectified_on=TODAY),
        "due": hz(world.enterprise_a, S.RECTIFYING, level=HazardLevel.GENERAL, days=5),
        "overdue": hz(world.enterprise_a, S.CONFIRMED, days=-3),
        "b_pending_town": hz(world.enterprise_b, S.PENDING_TOWN, days=-1),
        "other_pending": hz(world.enterprise_other, S.PENDING_TOWN, days=-2),
    }
    return made


def test_each_role_sees_its_waiting_steps(cast: Cast, hazards: dict[str, Any]) -> None:
    principal = kinds(cast.principal)
    assert principal["hazard_sign"].count == 1
    assert urls(principal["hazard_sign"]) == [f"/hazards/{hazards['draft'].pk}/"]
    assert "hazard_town_confirm" not in principal and "hazard_county_confirm" not in principal

    town_a = kinds(cast.town_a_staff)
    assert town_a["hazard_town_confirm"].count == 1  # 高都镇's and the other county's are not 巴公镇's
    assert urls(town_a["hazard_town_confirm"]) == [f"/hazards/{hazards['pending_town'].pk}/"]
    assert town_a["hazard_verify"].count == 1
    assert "hazard_sign" not in town_a and "hazard_county_confirm" not in town_a

    town_b = kinds(cast.town_b_staff)
    assert urls(town_b["hazard_town_confirm"]) == [f"/hazards/{hazards['b_pending_town'].pk}/"]
    assert "hazard_verify" not in town_b

    county = kinds(cast.county_staff)
    assert county["hazard_county_confirm"].count == 1
    assert county["hazard_closure"].count == 1
    assert "hazard_town_confirm" not in county

    other = kinds(cast.other_county_staff)
    assert "hazard_county_confirm" not in other and "hazard_closure" not in other
    for name, user in cast.all().items():
        for section in worklist.sections_for(user, TODAY):
            for url in urls(section):
                if name not in ("other_county_staff", "other_clerk"):
                    assert url != f"/hazards/{hazards['other_pending'].pk}/", (name, section.kind)


def test_extension_requests_wait_for_their_decider(cast: Cast, hazards: dict[str, Any]) -> None:
    hazard = hazards["overdue"]
    ExtensionRequest.objects.create(
        hazard=hazard, requested_by=cast.clerk, old_deadline=hazard.current_deadline,
        requested_deadline=TODAY + dt.timedelta(days=30), reason="设备到货延迟", status=ExtensionStatus.PENDING,
    )  # fmt: skip
    county = kinds(cast.county_staff)
    assert county["hazard_extension"].count == 1
    assert urls(county["hazard_extension"]) == [f"/hazards/{hazard.pk}/"]
    assert "hazard_extension" not in kinds(cast.clerk)
    assert "hazard_extension" not in kinds(cast.other_county_staff)


def test_due_and_late_hazards_in_scope_with_my_own_first(cast: Cast, world: World, hazards: dict[str, Any]) -> None:
    county = kinds(cast.county_staff)
    assert county["hazard_due"].count == 1
    assert urls(county["hazard_due"]) == [f"/hazards/{hazards['due'].pk}/"]
    # 巴公镇's overdue major hazard and 高都镇's one waiting for its town; none of another county's
    assert county["hazard_overdue"].count == 2
    town_b = kinds(cast.town_b_staff)
    assert town_b["hazard_overdue"].count == 1
    assert town_b["hazard_overdue"].items[0].mine  # it waits for 高都镇's own 确认
    # The county staff's own step comes first: a hazard waiting for the county, overdue
    mine = hz(world.enterprise_b, S.PENDING_COUNTY, days=-1)
    first = kinds(cast.county_staff)["hazard_overdue"].items[0]
    assert first.url == f"/hazards/{mine.pk}/" and first.mine
    clerk = kinds(cast.clerk)
    assert clerk["hazard_overdue"].count == 1 and clerk["hazard_due"].count == 1
    other = kinds(cast.other_county_staff)["hazard_overdue"]
    assert other.count == 1 and urls(other) == [f"/hazards/{hazards['other_pending'].pk}/"]
    assert urls(kinds(cast.other_clerk)["hazard_overdue"]) == urls(other)  # their own enterprise's only


@pytest.mark.parametrize("sorted_up_to", [0, 2000])
def test_the_first_late_hazards_are_the_soonest_due_the_users_own_first(
    cast: Cast, world: World, hazards: dict[str, Any], monkeypatch: pytest.MonkeyPatch, sorted_up_to: int
) -> None:
    """The first five late hazards, read one of three ways (none of them the user's own; one to four, or few late
    rows in scope: all sorted; five or more in a large scope: in the deadline index's order): the soonest
    deadlines, the user's own first."""
    from hazards import worklist as hazard_worklist

    monkeypatch.setattr(hazard_worklist, "LATE_SORTED", sorted_up_to)
    others = [hz(world.enterprise_a, S.RECTIFYING, level=HazardLevel.GENERAL, days=-30 + i) for i in range(6)]
    for user in (cast.county_leader, cast.county_staff):  # none waits for the leader's or the county's step
        late = kinds(user)["hazard_overdue"]
        assert late.count == 8 and urls(late) == [f"/hazards/{h.pk}/" for h in others[:5]], user
        assert not any(item.mine for item in late.items)
    own = [hz(world.enterprise_b, S.PENDING_COUNTY, days=-1)]  # one waits for the county: first, then the soonest
    late = kinds(cast.county_staff)["hazard_overdue"]
    assert urls(late) == [f"/hazards/{h.pk}/" for h in own + others[:4]]
    assert [item.mine for item in late.items] == [True, False, False, False, False]
    own += [hz(world.enterprise_b, S.PENDING_COUNTY, days=-10 + i) for i in (3, 0, 2, 1, 4)]
    late = kinds(cast.county_staff)["hazard_overdue"]  # five or more of their own: only theirs, soonest first
    soonest = sorted(own, key=lambda h: (h.current_deadline, h.pk))[:5]
    assert late.count == 14 and urls(late) == [f"/hazards/{h.pk}/" for h in soonest]
    assert all(item.mine for item in late.items)
    assert urls(kinds(cast.county_leader)["hazard_overdue"]) == [f"/hazards/{h.pk}/" for h in others[:5]]


def test_one_windowed_read_gives_the_same_deadline_sections(
    cast: Cast, world: World, hazards: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A town's and an enterprise's users get their due and late hazards from one windowed read, the others from
    an aggregate and a read of the first rows: for every account, both give the same sections."""
    from hazards import worklist as hazard_worklist

    for i in range(7):  # more than five in each group, some the towns' or the county's own step
        hz(world.enterprise_a, S.RECTIFYING, level=HazardLevel.GENERAL, days=-20 + i)
        hz(world.enterprise_b, S.PENDING_TOWN if i % 2 else S.PENDING_COUNTY, days=-10 + i)
        hz(world.enterprise_a, S.CONFIRMED, level=HazardLevel.GENERAL, days=1 + i)
    found = {}
    for small in (set(), {*Role}):
        monkeypatch.setattr(hazard_worklist, "_SMALL_SCOPES", small)
        found[len(small)] = {
            name: [s for s in worklist.sections_for(user, TODAY) if s.kind in ("hazard_due", "hazard_overdue")]
            for name, user in cast.all().items()
        }
    assert found[0] == found[len(Role)]
    town_b = {s.kind: s for s in found[0]["town_b_staff"]}["hazard_overdue"]  # 高都镇's own waits come first
    assert town_b.count == 8 and [item.mine for item in town_b.items] == [True] * 4 + [False]
    county = {s.kind: s for s in found[0]["county_staff"]}
    assert (county["hazard_due"].count, county["hazard_overdue"].count) == (8, 16)
    assert [item.mine for item in county["hazard_overdue"].items] == [True] * 4 + [False]


def test_papers_expiring_for_the_enterprise_only(cast: Cast, world: World) -> None:
    world.enterprise_a.license_number = "（晋）FM安许证字〔2023〕0001"
    world.enterprise_a.license_expiry = TODAY - dt.timedelta(days=1)
    world.enterprise_a.save()
    PersonFactory(
        enterprise=world.enterprise_a, name="李安全", role=PersonRole.SAFETY,
        certificate_type="安全管理人员证", certificate_expiry=TODAY + dt.timedelta(days=20),
    )  # fmt: skip
    PersonFactory(enterprise=world.enterprise_a, name="远期", certificate_expiry=TODAY + dt.timedelta(days=400))
    PersonFactory(enterprise=world.enterprise_other, name="外县", certificate_expiry=TODAY)
    section = kinds(cast.clerk)["papers_expiring"]
    assert section.count == 2 and section.severity == "danger"
    assert "已于 2026-05-14 过期" in section.items[0].detail
    assert section.items[1].label.startswith("李安全")
    assert [item.label for item in kinds(cast.other_clerk)["papers_expiring"].items] == ["外县（主要负责人）证书"]
    assert "papers_expiring" not in kinds(cast.county_staff)


def test_notifications_are_the_users_own(cast: Cast) -> None:
    Notification.objects.create(recipient=cast.town_a_staff, message="请确认巴公镇的重大事故隐患", created_at=NOW)
    Notification.objects.create(
        recipient=cast.town_a_staff, message="已读的", is_read=True, created_at=NOW - dt.timedelta(hours=1)
    )
    Notification.objects.create(recipient=cast.town_b_staff, message="高都镇的")
    section = kinds(cast.town_a_staff)["notifications"]
    assert section.count == 1
    assert [item.label for item in section.items] == ["请确认巴公镇的重大事故隐患"]  # the unread ones
    assert "notifications" not in kinds(cast.county_staff)


def test_ledger_uploads_wait_for_their_uploader(cast: Cast, world: World) -> None:
    upload = LedgerUpload.objects.create(
        enterprise=world.enterprise_a, original_name="台账.xlsx", size=1, sha256="0" * 64, uploaded_by=cast.clerk,
        status=LedgerUploadStatus.PENDING, file="hazards/ledgers/x.xlsx",
    )  # fmt: skip
    section = kinds(cast.clerk)["ledger_confirm"]
    assert urls(section) == [f"/hazards/ledger/{upload.pk}/"]
    assert "ledger_confirm" not in kinds(cast.principal)
    assert "ledger_confirm" not in kinds(cast.town_a_staff)


@pytest.fixture
def campaign(world: World) -> Campaign:
    campaign = Campaign.objects.create(
        name="2026年非煤矿山专项检查", document_number="泽应急发〔2026〕1号", issuing_region=world.county,
        start_date=dt.date(2026, 4, 1), end_date=dt.date(2026, 8, 30),
    )  # fmt: skip
    Deliverable.objects.create(
        campaign=campaign, order=1, name="追责问责情况统计表", submitter=DeliverableSubmitter.TOWN, recipients="县局",
        kind=DeliverableKind.MONTHLY_TABLE, schedule=DeliverableSchedule.MONTHLY, day_of_month=23,
        table=DeliverableTable.ACCOUNTABILITY,
    )  # fmt: skip
    Deliverable.objects.create(
        campaign=campaign, order=2, name="工作方案", submitter=DeliverableSubmitter.TOWN, recipients="县局",
        kind=DeliverableKind.UPLOAD, schedule=DeliverableSchedule.ONCE, due_date=dt.date(2026, 5, 10),
    )  # fmt: skip
    Deliverable.objects.create(
        campaign=campaign, order=3, name="企业承诺书", submitter=DeliverableSubmitter.ENTERPRISE, recipients="镇",
        kind=DeliverableKind.UPLOAD, schedule=DeliverableSchedule.ONCE, due_date=dt.date(2026, 5, 20),
    )  # fmt: skip
    return campaign


def test_monthly_tables_to_submit_due_and_late(cast: Cast, world: World, campaign: Campaign) -> None:
    # 巴公镇 submitted May's table; 高都镇 did not; April's (due 04-23) nobody submitted.
    report = Report.objects.create(
        kind=ReportKind.ACCOUNTABILITY, region=world.town_a, campaign=campaign, month=dt.date(2026, 5, 1),
        due_on=dt.date(2026, 5, 23),
    )  # fmt: skip
    ReportVersion.objects.create(
        report=report, number=1, status=VersionStatus.SUBMITTED, fingerprint="x", computed_at=NOW, submitted_at=NOW,
    )  # fmt: skip
    town_a, town_b = kinds(cast.town_a_staff), kinds(cast.town_b_staff)
    assert "table_submit" not in town_a
    assert urls(town_b["table_submit"]) == [f"/reports/accountability/{world.town_b.code}/2026-05/"]
    # A town's late table is the warnings engine's (材料、报表逾期未报送), its own first; with 工作方案 (due 05-10)
    late_a = town_a["deliverable_late"]
    assert late_a.count == 2 and all(item.mine for item in late_a.items)
    assert any("追责问责情况统计表（2026-04-23 截止）" in item.label for item in late_a.items)
    assert "table_towns_due" not in town_a  # a town is told of its own table only
    county = kinds(cast.county_staff)
    # the county's own tables to submit: April's (late, first) and May's; no town files the county's table, so
    # the warnings engine does not list it
    assert county["table_submit"].count == 2
    assert urls(county["table_submit"]) == [
        f"/reports/accountability/{world.county.code}/2026-04/", f"/reports/accountability/{world.county.code}/2026-05/"
    ]  # fmt: skip
    assert "已逾期" in county["table_submit"].items[0].detail and county["table_submit"].severity == "danger"
    assert county["table_towns_due"].count == 1
    assert "高都镇" in county["table_towns_due"].items[0].detail
    assert "巴公镇" not in county["table_towns_due"].items[0].detail
    assert county["deliverable_late"].count == 4  # April's table and 工作方案, both towns
    assert not any(item.mine for item in county["deliverable_late"].items)
    assert "table_late" not in county
    leader = kinds(cast.county_leader)
    assert "table_submit" not in leader and leader["table_towns_due"].count == 1
    for user in (cast.clerk, cast.other_county_staff, cast.other_clerk):
        assert not {"table_submit", "table_towns_due", "table_late"} & set(kinds(user))


def test_the_leader_sees_the_county_tables_to_sign(cast: Cast, world: World, campaign: Campaign) -> None:
    for region in (world.county, world.town_a):
        report = Report.objects.create(
            kind=ReportKind.ACCOUNTABILITY, region=region, campaign=campaign, month=dt.date(2026, 4, 1),
            due_on=dt.date(2026, 4, 25),
        )  # fmt: skip
        ReportVersion.objects.create(
            report=report, number=1, status=VersionStatus.SUBMITTED, fingerprint="x", computed_at=NOW,
            submitted_at=NOW,
        )  # fmt: skip
    section = kinds(cast.county_leader)["table_sign"]
    assert urls(section) == [f"/reports/accountability/{world.county.code}/2026-04/"]
    for user in (cast.county_staff, cast.town_a_staff, cast.admin, cast.other_county_staff):
        assert "table_sign" not in kinds(user)


def test_deliverables_due_and_late(cast: Cast, world: World, campaign: Campaign) -> None:
    plan = campaign.deliverables.get(name="工作方案")
    DeliverableSubmission.objects.create(
        deliverable=plan, town=world.town_a, due_date=plan.due_date, content="方案", submitted_at=NOW
    )
    # Late (the warnings engine): 巴公镇 filed 工作方案, 高都镇 did not; nobody filed April's table (due 04-23).
    town_a = kinds(cast.town_a_staff)["deliverable_late"]
    assert town_a.count == 1 and not any("工作方案" in item.label for item in town_a.items)
    town_b = kinds(cast.town_b_staff)["deliverable_late"]
    assert town_b.count == 2 and all(item.mine for item in town_b.items)
    county = kinds(cast.county_staff)["deliverable_late"]
    plans = [item.label for item in county.items if "工作方案" in item.label]
    assert county.count == 3 and plans == ["高都镇：工作方案（2026-05-10 截止）逾期 5 天未报送"]
    clerk = kinds(cast.clerk)["deliverable_due"]
    assert clerk.count == 1 and "企业承诺书" in clerk.items[0].label
    assert "deliverable_due" not in kinds(cast.town_a_staff)  # the enterprise's deliverable is not the town's
    for user in (cast.other_county_staff, cast.other_clerk):
        assert not {"deliverable_due", "deliverable_late"} & set(kinds(user))


def test_self_check_waits_for_the_principal_once_answered(cast: Cast, world: World, campaign: Campaign) -> None:
    area = ChecklistArea.objects.create(campaign=campaign, order=1, title="主要负责人履职")
    ChecklistItem.objects.create(area=area, order=1, text="是否建立安全生产责任制")
    report = self_check_start(actor=cast.clerk, campaign=campaign, enterprise=world.enterprise_a)
    assert kinds(cast.clerk)["self_check_open"].count == 1
    assert "self_check_sign" not in kinds(cast.principal)
    report.answers.update(answer="yes")
    principal = kinds(cast.principal)["self_check_sign"]
    assert principal.group == worklist.WAITING
    assert urls(principal) == [f"/inspections/self-checks/{report.pk}/"]
    assert kinds(cast.clerk)["self_check_sign"].group == worklist.OWN
    assert "self_check_sign" not in kinds(cast.other_clerk)
    assert "self_check_sign" not in kinds(cast.town_a_staff)


# --- Page, API, badges ---------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_home_page_and_api_show_the_same_sections(cast: Cast, hazards: dict[str, Any]) -> None:
    client = Client()
    client.force_login(cast.town_a_staff)
    page = client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "待我处理" in html and "待镇确认" in html
    assert f"/hazards/{hazards['pending_town'].pk}/" in html
    assert f"/hazards/{hazards['other_pending'].pk}/" not in html
    api = APIClient()
    api.force_authenticate(cast.town_a_staff)
    data = api.get("/api/v1/me/tasks/").json()
    by_kind = {row["kind"]: row for row in data}
    assert by_kind["hazard_town_confirm"]["count"] == 1
    assert by_kind["hazard_town_confirm"]["items"][0]["url"] == f"/hazards/{hazards['pending_town'].pk}/"
    assert {row["kind"] for row in data} == {s.kind for g in page.context["groups"] for s in g[2]}
    # the badges: on the home page at once, elsewhere loaded from /me/badges/
    assert 'data-nav-badge="hazards:work-queue"' in html
    badges = client.get("/me/badges/").json()
    assert badges["hazards:work-queue"] == 2  # 待镇确认 and 待验收
    assert badges["home"] >= badges["hazards:work-queue"]
    assert 'data-badges-url="/me/badges/"' in client.get("/enterprises/").content.decode()
    assert APIClient().get("/api/v1/me/tasks/").status_code == 401
    assert Client().get("/me/badges/").status_code == 302


@time_machine.travel(NOW, tick=False)
def test_enterprise_users_get_a_home_page_too(cast: Cast, hazards: dict[str, Any]) -> None:
    client = Client()
    client.force_login(cast.principal)
    html = client.get("/").content.decode()
    assert "隐患待签字" in html and f"/hazards/{hazards['draft'].pk}/" in html
    assert "本企业信息" in html


@time_machine.travel(NOW, tick=False)
def test_an_empty_home_says_so(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.city_viewer)
    assert "目前没有需要您处理" in client.get("/").content.decode()


def _home_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/")
    assert response.status_code == 200
    return len(captured.captured_queries)


@time_machine.travel(NOW, tick=False)
def test_county_home_queries_stay_constant(
    cast: Cast, world: World, hazards: dict[str, Any], campaign: Campaign, django_assert_num_queries: Any
) -> None:
    Notification.objects.create(recipient=cast.county_staff, message="通知")
    client = Client()
    client.force_login(cast.county_staff)
    few = _home_queries(client)
    for i in range(3):
        for status in (S.PENDING_COUNTY, S.CLOSURE_REQUESTED, S.CONFIRMED, S.RECTIFYING):
            hz(world.enterprise_b, status, days=-5 + i * 6, rectified_on=TODAY)
        Notification.objects.create(recipient=cast.county_staff, message=f"通知{i}")
    with django_assert_num_queries(few):
        response = client.get("/")
    assert few <= 15, few
    sections = {s.kind: s for g in response.context["groups"] for s in g[2]}
    assert sections["hazard_county_confirm"].count == 4


@time_machine.travel(NOW, tick=False)
def test_town_and_enterprise_home_queries_stay_constant(
    cast: Cast, world: World, hazards: dict[str, Any], campaign: Campaign, django_assert_num_queries: Any
) -> None:
    """The town's and the enterprise's due and late hazards come from one windowed read: their rows carry no
    field left to load one by one, and the town's home stays within 15 queries."""
    clients = {}
    for user in (cast.town_a_staff, cast.clerk):
        clients[user.username] = Client()
        clients[user.username].force_login(user)
    few = {name: _home_queries(client) for name, client in clients.items()}
    for i in range(3):
        for status in (S.PENDING_TOWN, S.CONFIRMED, S.RECTIFYING):
            hz(world.enterprise_a, status, days=-5 + i * 6)
    for name, client in clients.items():
        with django_assert_num_queries(few[name]):
            response = client.get("/")
        sections = {s.kind: s for g in response.context["groups"] for s in g[2]}
        assert sections["hazard_overdue"].count >= 4 and sections["hazard_due"].count >= 3, name
    assert few[cast.town_a_staff.username] <= 15, few


@time_machine.travel(NOW, tick=False)
def test_the_api_shows_nothing_outside_the_scope(cast: Cast, hazards: dict[str, Any]) -> None:
    inside = {f"/hazards/{hazard.pk}/" for key, hazard in hazards.items() if key != "other_pending"}
    for name in ("other_county_staff", "other_clerk"):
        api = APIClient()
        api.force_authenticate(getattr(cast, name))
        shown = {item["url"] for row in api.get("/api/v1/me/tasks/").json() for item in row["items"]}
        assert f"/hazards/{hazards['other_pending'].pk}/" in shown, name
        assert not shown & inside, name


def test_a_selector_registered_again_under_its_name_replaces_the_old_one(cast: Cast, hazards: dict[str, Any]) -> None:
    """The registry's seam: a section is read by its selector's name, whoever provides it."""
    original = worklist._REGISTRY["hazards.deadlines"]
    try:

        def engine(user: Any, today: dt.date) -> list[worklist.Section]:
            return [worklist.Section(kind="warning_overdue", group=worklist.LATE, label="预警：逾期", count=7)]

        worklist.register("hazards.deadlines", order=original.order)(engine)
        found = kinds(cast.county_staff)
        assert found["warning_overdue"].count == 7 and "hazard_overdue" not in found
        assert worklist.registered().count("hazards.deadlines") == 1
    finally:
        worklist._REGISTRY["hazards.deadlines"] = original
    assert "hazard_overdue" in kinds(cast.county_staff)
