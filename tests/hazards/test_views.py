"""Hazard pages: list (scoped, filtered, sorted, paginated, constant queries), detail (404 outside scope),
work queue, notifications, the report form, the Excel export and evidence downloads."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from hazards.choices import HazardCategory, HazardLevel, HazardStatus, MineType, NotificationKind, SupervisionLevel
from hazards.models import Hazard, HazardEvent, Notification
from portal.choices import AuditAction
from portal.models import AuditEvent, User
from tests.conftest import Cast, World
from tests.hazards.conftest import PNG_BYTES, add_evidence, add_extension, make_hazard, open_pit_item

S = HazardStatus
LIST = reverse("hazards:hazard-list")

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


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def one_each(world: World, catalogue: None) -> dict[str, Hazard]:
    return {
        name: make_hazard(
            getattr(world, name), level=HazardLevel.GENERAL, status=S.REPORTED, description=f"{name}的隐患"
        )
        for name in ("enterprise_a", "enterprise_a2", "enterprise_b", "enterprise_other")
    }


def listed_ids(response: Any) -> set[int]:
    return {h.pk for h in response.context["page"].object_list}


# --- List and detail, for every member of the cast --------------------------------------------------


@pytest.mark.parametrize("member", sorted(EXPECTED_ENTERPRISES))
def test_list_and_detail_are_scoped(client: Client, cast: Cast, one_each: dict[str, Hazard], member: str) -> None:
    login(client, getattr(cast, member))
    response = client.get(LIST)
    assert response.status_code == 200
    expected = {one_each[name].pk for name in EXPECTED_ENTERPRISES[member]}
    assert listed_ids(response) == expected
    text = response.content.decode()
    for name, hazard in one_each.items():
        detail = client.get(reverse("hazards:hazard-detail", args=[hazard.pk]))
        if name in EXPECTED_ENTERPRISES[member]:
            assert detail.status_code == 200
            assert f"{name}的隐患" in text
        else:
            assert detail.status_code == 404, name
            assert f"{name}的隐患" not in text
            assert f"{name}的隐患" not in detail.content.decode()


def test_pages_need_login(client: Client, one_each: dict[str, Hazard]) -> None:
    hazard = one_each["enterprise_a"]
    for url in (
        LIST,
        reverse("hazards:hazard-detail", args=[hazard.pk]),
        reverse("hazards:work-queue"),
        reverse("hazards:notification-list"),
        reverse("hazards:hazard-report"),
        reverse("hazards:hazard-export"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_enterprise_user_sees_my_hazards_without_enterprise_filters(
    client: Client, cast: Cast, one_each: dict[str, Hazard]
) -> None:
    text = login(client, cast.clerk).get(LIST).content.decode()
    assert "我的隐患" in text
    assert 'name="enterprise"' not in text and 'name="town"' not in text
    town_text = login(client, cast.town_a_staff).get(LIST).content.decode()
    assert "隐患台账" in town_text and 'name="town"' in town_text


@pytest.fixture
def varied(world: World, catalogue: None) -> dict[str, Hazard]:
    today = datetime.date.today()
    return {
        "major_open": make_hazard(
            world.enterprise_a, status=S.RECTIFYING, deadline=today + datetime.timedelta(days=20)
        ),
        "major_overdue": make_hazard(
            world.enterprise_a, status=S.RECTIFYING, deadline=today - datetime.timedelta(days=3),
            found_on=today - datetime.timedelta(days=30),
        ),
        "supervised": make_hazard(
            world.enterprise_a2, status=S.CONFIRMED, supervision_level=SupervisionLevel.COUNTY,
            supervision_doc_number="泽应急督〔2024〕1号", deadline=today + datetime.timedelta(days=40),
        ),
        "general_b": make_hazard(
            world.enterprise_b, level=HazardLevel.GENERAL, status=S.REPORTED, category=HazardCategory.POWER,
            deadline=today + datetime.timedelta(days=5),
        ),
        "closed": make_hazard(world.enterprise_b, status=S.CLOSED, deadline=today - datetime.timedelta(days=10)),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"major_open", "major_overdue", "supervised", "general_b", "closed"}),
        # What the filter form sends when nothing is chosen.
        (
            {"q": "", "level": "", "status": "", "town": "", "enterprise": "", "overdue": "", "supervised": ""},
            {"major_open", "major_overdue", "supervised", "general_b", "closed"},
        ),
        ({"level": "general"}, {"general_b"}),
        ({"level": "major"}, {"major_open", "major_overdue", "supervised", "closed"}),
        ({"status": "rectifying"}, {"major_open", "major_overdue"}),
        ({"town": "TOWN_B"}, {"general_b", "closed"}),
        ({"enterprise": "ENTERPRISE_A2"}, {"supervised"}),
        ({"category": "power"}, {"general_b"}),
        ({"overdue": "true"}, {"major_overdue"}),
        ({"overdue": "false"}, {"major_open", "supervised", "general_b", "closed"}),
        ({"supervised": "true"}, {"supervised"}),
        ({"q": "泽应急督"}, set()),
        ({"enterprise": "ENTERPRISE_OTHER"}, set()),
        ({"level": "nonsense"}, set()),
    ],
)
def test_list_filters(
    client: Client, world: World, cast: Cast, varied: dict[str, Hazard], params: dict[str, str], expected: set[str]
) -> None:
    ids = {"TOWN_B": world.town_b.pk, "ENTERPRISE_A2": world.enterprise_a2.pk}
    ids["ENTERPRISE_OTHER"] = world.enterprise_other.pk
    query = {key: ids.get(value, value) for key, value in params.items()}
    response = login(client, cast.county_staff).get(LIST, query)
    assert response.status_code == 200
    assert listed_ids(response) == {varied[name].pk for name in expected}


def test_town_and_enterprise_outside_the_scope_show_why(
    client: Client, world: World, cast: Cast, varied: dict[str, Hazard]
) -> None:
    login(client, cast.town_a_staff)
    for params in ({"town": world.town_b.pk}, {"enterprise": world.enterprise_b.pk}, {"town": "x"}):
        response = client.get(LIST, params)
        assert response.status_code == 200 and listed_ids(response) == set()
        assert "不存在或不在您的辖区内" in response.content.decode()
    # The town's own options: its one town, its two enterprises, nothing of the neighbours.
    text = client.get(LIST).content.decode()
    assert "巴公镇" in text and "巴公镇第二石料厂" in text and "高都镇铁矿有限公司" not in text
    assert listed_ids(client.get(LIST, {"enterprise": world.enterprise_a2.pk})) == {varied["supervised"].pk}


def test_list_sorts_and_shows_overdue(client: Client, cast: Cast, varied: dict[str, Hazard]) -> None:
    login(client, cast.county_staff)
    ascending = [h.pk for h in client.get(LIST, {"ordering": "deadline"}).context["page"].object_list]
    descending = [h.pk for h in client.get(LIST, {"ordering": "-deadline"}).context["page"].object_list]
    assert ascending[0] == varied["closed"].pk and ascending == descending[::-1]
    text = client.get(LIST).content.decode()
    assert text.count('data-testid="overdue"') == 1
    assert "县级挂牌督办" in text
    # The column headers sort (and toggle the direction).
    assert "?ordering=deadline" in text
    assert "ordering=-deadline" in client.get(LIST, {"ordering": "deadline"}).content.decode()


def test_list_paginates(client: Client, world: World, cast: Cast, catalogue: None) -> None:
    for _ in range(25):
        make_hazard(world.enterprise_a, level=HazardLevel.GENERAL, status=S.REPORTED)
    login(client, cast.town_a_staff)
    first = client.get(LIST)
    assert len(first.context["page"].object_list) == 20 and first.context["page"].paginator.count == 25
    second = client.get(LIST, {"page": 2})
    assert len(second.context["page"].object_list) == 5
    assert len(client.get(LIST, {"page_size": 50}).context["page"].object_list) == 25
    assert not listed_ids(first) & listed_ids(second)


def _fill(world: World, count: int) -> None:
    for i in range(count):
        enterprise = (world.enterprise_a, world.enterprise_a2, world.enterprise_b)[i % 3]
        hazard = make_hazard(enterprise, status=S.RECTIFYING if i % 2 else S.PENDING_COUNTY)
        if i % 4 == 1:
            add_extension(hazard, None)  # type: ignore[arg-type]


@pytest.mark.parametrize("url_name", ["hazards:hazard-list", "hazards:work-queue"])
def test_query_count_does_not_grow_with_rows(
    client: Client, world: World, cast: Cast, catalogue: None, django_assert_num_queries: Any, url_name: str
) -> None:
    login(client, cast.county_staff)
    url = reverse(url_name)
    _fill(world, 2)
    client.get(url)  # warm the session and the content types
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    assert response.status_code == 200 and len(response.context["page"].object_list) >= 1
    _fill(world, 30)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 20
    assert len(few.captured_queries) <= 10


def test_list_query_count_with_filters_is_constant(
    client: Client, world: World, cast: Cast, catalogue: None, django_assert_num_queries: Any
) -> None:
    login(client, cast.county_staff)
    params = {"town": world.town_a.pk, "enterprise": world.enterprise_a.pk, "level": "major", "overdue": "true"}
    _fill(world, 3)
    client.get(LIST, params)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(LIST, params)
    _fill(world, 40)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(LIST, params)
    assert response.context["page"].paginator.count == 15


# --- Work queue -----------------------------------------------------------------------------------------

QUEUE = {
    ("major", S.DRAFT): {"principal"},
    ("major", S.PENDING_TOWN): {"town_a_staff"},
    ("major", S.PENDING_COUNTY): {"county_staff"},
    ("major", S.CONFIRMED): {"clerk", "principal"},
    ("major", S.CLOSURE_REQUESTED): {"county_staff"},
    ("major", S.CLOSED): set(),
    ("general", S.RECTIFIED): {"town_a_staff"},
    ("general", S.VERIFIED): set(),
}


def test_work_queue_lists_what_waits_for_each_member(client: Client, world: World, cast: Cast, catalogue: None) -> None:
    hazards = {key: make_hazard(world.enterprise_a, level=key[0], status=key[1]) for key in QUEUE}
    for member, user in cast.all().items():
        response = login(client, user).get(reverse("hazards:work-queue"))
        assert response.status_code == 200
        expected = {hazards[key].pk for key, members in QUEUE.items() if member in members}
        assert {row["hazard"].pk for row in response.context["rows"]} == expected, member
    text = login(client, cast.town_a_staff).get(reverse("hazards:work-queue")).content.decode()
    assert "镇确认" in text and "验收" in text


def test_work_queue_shows_extensions_to_decide(client: Client, world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.RECTIFYING)
    add_extension(hazard, cast.clerk)
    response = login(client, cast.county_staff).get(reverse("hazards:work-queue"))
    assert [row["hazard"].pk for row in response.context["rows"]] == [hazard.pk]
    assert "审批延期" in response.content.decode()
    assert not login(client, cast.town_a_staff).get(reverse("hazards:work-queue")).context["rows"]


# --- Notifications ----------------------------------------------------------------------------------------


def test_notifications_are_the_users_own_and_can_be_marked_read(
    client: Client, world: World, cast: Cast, catalogue: None
) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.PENDING_TOWN)
    mine = Notification.objects.create(recipient=cast.town_a_staff, hazard=hazard, message="请确认这条隐患")
    other = Notification.objects.create(recipient=cast.town_a_staff, hazard=hazard, message="第二条", kind="info")
    theirs = Notification.objects.create(recipient=cast.county_staff, hazard=hazard, message="县局的通知")
    login(client, cast.town_a_staff)
    response = client.get(reverse("hazards:notification-list"))
    assert {n.pk for n in response.context["page"].object_list} == {mine.pk, other.pk}
    assert "县局的通知" not in response.content.decode()
    assert response.context["unread_count"] == 2

    # Marking someone else's notification changes nothing.
    client.post(reverse("hazards:notification-read"), {"id": theirs.pk})
    theirs.refresh_from_db()
    assert not theirs.is_read
    client.post(reverse("hazards:notification-read"), {"id": mine.pk})
    mine.refresh_from_db()
    other.refresh_from_db()
    assert mine.is_read and mine.read_at is not None and not other.is_read
    assert client.get(reverse("hazards:notification-list"), {"unread": "1"}).context["page"].paginator.count == 1
    client.post(reverse("hazards:notification-read"))
    other.refresh_from_db()
    assert other.is_read
    assert client.post(reverse("hazards:notification-read"), {"id": "x"}).status_code == 404
    assert client.get(reverse("hazards:notification-read")).status_code == 405
    assert Notification.objects.filter(recipient=cast.county_staff, is_read=False).count() == 1
    assert other.kind == NotificationKind.INFO


# --- Reporting ------------------------------------------------------------------------------------------------


def _report_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "level": "general",
        "description": "+320平台边坡有浮石",
        "location": "+320平台",
        "category": "slope",
        "source": "self_check",
        "found_on": "2024-05-01",
    }
    data.update(overrides)
    return data


def test_clerk_reports_a_general_hazard(client: Client, world: World, cast: Cast, catalogue: None) -> None:
    login(client, cast.clerk)
    page = client.get(reverse("hazards:hazard-report"))
    assert page.status_code == 200
    # The criterion picker lists only the enterprise's mine type (露天矿山).
    criteria = page.context["form"].fields["criterion"].queryset
    assert criteria.count() == 13 and {c.mine_type for c in criteria} == {MineType.OPEN_PIT}
    # The enterprise cannot be chosen: a posted foreign enterprise is ignored.
    response = client.post(
        reverse("hazards:hazard-report"), _report_data(enterprise=world.enterprise_other.pk, level="general")
    )
    assert response.status_code == 400  # not in the clerk's choices
    response = client.post(reverse("hazards:hazard-report"), _report_data(enterprise=world.enterprise_a.pk))
    hazard = Hazard.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("hazards:hazard-detail", args=[hazard.pk])
    assert hazard.enterprise == world.enterprise_a and hazard.status == S.REPORTED and hazard.reported_by == cast.clerk


def test_major_hazard_needs_a_criterion_of_the_enterprises_mine_type(
    client: Client, world: World, cast: Cast, catalogue: None
) -> None:
    from hazards.models import MajorHazardCriterion

    login(client, cast.principal)
    url = reverse("hazards:hazard-report")
    response = client.post(url, _report_data(enterprise=world.enterprise_a.pk, level="major"))
    assert response.status_code == 400
    assert "重大事故隐患必须选择判定依据" in response.content.decode()
    underground = MajorHazardCriterion.objects.filter(mine_type=MineType.UNDERGROUND).first()
    assert underground is not None
    response = client.post(url, _report_data(enterprise=world.enterprise_a.pk, level="major", criterion=underground.pk))
    assert response.status_code == 400 and not Hazard.objects.exists()
    item = open_pit_item(7)
    response = client.post(url, _report_data(enterprise=world.enterprise_a.pk, level="major", criterion=item.pk))
    hazard = Hazard.objects.get()
    assert response.status_code == 302
    assert hazard.status == S.DRAFT and hazard.criterion == item
    # A future date is the service's refusal, shown on the form.
    response = client.post(
        url, _report_data(enterprise=world.enterprise_a.pk, found_on="2999-01-01", description="另一条")
    )
    assert response.status_code == 400 and "发现日期不能晚于今天" in response.content.decode()


def test_town_reports_for_an_enterprise_in_its_town_only(
    client: Client, world: World, cast: Cast, catalogue: None
) -> None:
    login(client, cast.town_a_staff)
    url = reverse("hazards:hazard-report")
    choices = set(client.get(url).context["form"].fields["enterprise"].queryset)
    assert choices == {world.enterprise_a, world.enterprise_a2}
    assert client.post(url, _report_data(enterprise=world.enterprise_b.pk)).status_code == 400
    response = client.post(url, _report_data(enterprise=world.enterprise_a2.pk, source="town_inspection"))
    assert response.status_code == 302
    assert Hazard.objects.get().enterprise == world.enterprise_a2


def test_criterion_options_follow_the_chosen_enterprise(
    client: Client, world: World, cast: Cast, catalogue: None
) -> None:
    login(client, cast.county_staff)
    url = reverse("hazards:criterion-options")
    underground = client.get(url, {"enterprise": world.enterprise_b.pk}).content.decode()
    open_pit = client.get(url, {"enterprise": world.enterprise_a.pk}).content.decode()
    assert underground.count("<option") == 33 and "地下矿山一（一）" in underground
    assert open_pit.count("<option") == 14 and "露天矿山二（七）" in open_pit
    # An enterprise out of scope gives the whole catalogue, nothing about the enterprise.
    assert client.get(url, {"enterprise": world.enterprise_other.pk}).content.decode().count("<option") == 65


@pytest.mark.parametrize("member", ["county_leader", "city_viewer"])
def test_readers_cannot_report(client: Client, cast: Cast, member: str) -> None:
    login(client, getattr(cast, member))
    assert client.get(reverse("hazards:hazard-report")).status_code == 403
    assert "上报隐患" not in client.get(LIST).content.decode()


# --- Export ------------------------------------------------------------------------------------------------------


def _sheet(response: Any) -> list[tuple[Any, ...]]:
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return list(workbook.active.iter_rows(values_only=True))


def test_export_is_scoped_filtered_neutralised_and_audited(
    client: Client, world: World, cast: Cast, varied: dict[str, Hazard]
) -> None:
    make_hazard(
        world.enterprise_a, level=HazardLevel.GENERAL, status=S.REPORTED, description='=HYPERLINK("x")', deadline=None
    )
    make_hazard(world.enterprise_other, level=HazardLevel.GENERAL, status=S.REPORTED, description="外县的隐患")
    login(client, cast.town_a_staff)
    response = client.get(reverse("hazards:hazard-export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = _sheet(response)
    header, body = rows[0], rows[1:]
    assert header[:5] == ("编号", "台账编号", "企业名称", "所在镇", "隐患内容")
    descriptions = {row[4] for row in body}
    assert len(body) == 4  # town A: major_open, major_overdue, supervised, the formula one
    assert '\'=HYPERLINK("x")' in descriptions
    assert "外县的隐患" not in descriptions
    overdue_column = header.index("是否逾期")
    assert sorted(row[overdue_column] or "" for row in body) == ["", "", "", "逾期"]
    event = AuditEvent.objects.filter(action=AuditAction.EXPORT).latest("id")
    assert event.actor == cast.town_a_staff and "隐患台账 4 条" in event.detail

    # The same filters as the page.
    rows = _sheet(client.get(reverse("hazards:hazard-export"), {"supervised": "true", "status": "", "level": ""}))
    assert [row[0] for row in rows[1:]] == [varied["supervised"].pk]
    assert "supervised=true" in AuditEvent.objects.filter(action=AuditAction.EXPORT).latest("id").detail


def test_export_query_count_does_not_grow(
    client: Client, world: World, cast: Cast, catalogue: None, django_assert_num_queries: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, cast.county_staff)
    _fill(world, 2)
    client.get(reverse("hazards:hazard-export"))
    with CaptureQueriesContext(connection) as few:
        _sheet(client.get(reverse("hazards:hazard-export")))
    _fill(world, 30)
    with django_assert_num_queries(len(few.captured_queries)):
        rows = _sheet(client.get(reverse("hazards:hazard-export")))
    assert len(rows) == 33


# --- Evidence downloads -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("member", sorted(EXPECTED_ENTERPRISES))
def test_evidence_downloads_are_scoped(client: Client, world: World, cast: Cast, catalogue: None, member: str) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.RECTIFYING)
    evidence = add_evidence(hazard, cast.clerk)
    response = login(client, getattr(cast, member)).get(reverse("hazards:evidence-download", args=[evidence.pk]))
    if "enterprise_a" in EXPECTED_ENTERPRISES[member]:
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PNG_BYTES
        assert "attachment" in response["Content-Disposition"]
        inline = client.get(reverse("hazards:evidence-download", args=[evidence.pk]), {"inline": "1"})
        assert "inline" in inline["Content-Disposition"]
    else:
        assert response.status_code == 404


def test_evidence_is_never_served_as_static_media(client: Client, world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.RECTIFYING)
    evidence = add_evidence(hazard, cast.clerk)
    login(client, cast.clerk)
    assert client.get(f"/media/{evidence.file.name}").status_code == 404
    assert client.get(evidence.file.url).status_code == 404
    assert client.get(reverse("hazards:evidence-download", args=[999999])).status_code == 404


def test_detail_shows_timeline_evidence_and_overdue(client: Client, world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.RECTIFYING, deadline=datetime.date(2024, 6, 30))
    HazardEvent.objects.create(
        hazard=hazard, actor=cast.county_staff, actor_name="县局张三", action="county_confirm",
        from_status=S.PENDING_COUNTY, to_status=S.CONFIRMED, comment="情况属实",
    )  # fmt: skip
    add_evidence(hazard, cast.clerk)
    text = login(client, cast.town_a_staff).get(reverse("hazards:hazard-detail", args=[hazard.pk])).content.decode()
    assert "县局张三" in text and "待县确认 → 已确认" in text and "情况属实" in text
    assert "整改后.png" in text and reverse("hazards:evidence-download", args=[hazard.evidence.get().pk]) in text
    assert "逾期" in text
    assert "露天矿山二（七）" in text
