"""Pages of campaigns and field work, over the cast: who sees what, who files what."""

from __future__ import annotations

import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from inspections import services
from inspections.models import Campaign, Inspection, SelfCheckReport, TownProgressReport
from tests.conftest import Cast, World
from tests.factories import TEST_PASSWORD
from tests.images import TINY_JPEG

JPEG = TINY_JPEG  # a real image: uploads are opened to read their pixel size
SH = ZoneInfo("Asia/Shanghai")


def _shown(client: Client, report: SelfCheckReport) -> str:
    """The fingerprint the report's page puts in its sign form (what the signer was shown)."""
    page = client.get(report.get_absolute_url()).content.decode()
    found = re.search(r'name="fingerprint" value="([0-9a-f]{64})"', page)
    assert found, "the page offers no sign form"
    return found.group(1)


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("member", ["clerk", "principal", "town_a_staff", "county_staff", "city_viewer", "admin"])
def test_campaign_pages(cast: Cast, campaign83: Campaign, member: str) -> None:
    client = _client(getattr(cast, member))
    assert "非煤矿山企业主要负责人履职专项检查" in client.get("/inspections/").content.decode()
    body = client.get(campaign83.get_absolute_url()).content.decode()
    assert "每月在生产现场履行安全生产职责时间是否不少于10个工作日" in body
    assert "执法检查阶段" in body


def test_campaign_is_404_for_another_county(cast: Cast, campaign83: Campaign) -> None:
    assert _client(cast.other_county_staff).get(campaign83.get_absolute_url()).status_code == 404
    assert _client(cast.other_clerk).get(f"/inspections/campaigns/{campaign83.pk}/self-checks/").status_code == 404


@time_machine.travel(dt.datetime(2024, 5, 10, 10, tzinfo=SH), tick=False)
def test_town_records_an_inspection_from_the_phone(cast: Cast, world: World, campaign83: Campaign) -> None:
    client = _client(cast.town_a_staff)
    form = client.get("/inspections/inspections/new/")
    body = form.content.decode()
    assert 'accept="image/*"' in body and "capture" not in body  # camera or gallery, not the camera only
    assert world.enterprise_b.name not in body
    photo = io.BytesIO(JPEG)
    photo.name = "现场.jpg"
    response = client.post(
        "/inspections/inspections/new/",
        {
            "enterprise": world.enterprise_a.pk, "date": "2024-05-10", "method": "four_no_two_straight",
            "campaign": campaign83.pk, "leader": "赵卫东", "members": "赵卫东、钱进", "findings": "边坡台阶不规范",
            "talk_held": "on", "photos": [photo],
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    inspection = Inspection.objects.get()
    assert inspection.unit == world.town_a and inspection.talk_held and inspection.photos.count() == 1
    detail = client.get(inspection.get_absolute_url())
    assert "现场照片" in detail.content.decode()
    photo_url = f"/inspections/files/photo/{inspection.photos.get().pk}/"
    assert client.get(photo_url).status_code == 200
    assert _client(cast.town_b_staff).get(photo_url).status_code == 404
    # A hazard found, through the inspection's page.
    added = client.post(
        f"/inspections/inspections/{inspection.pk}/hazards/",
        {"level": "general", "category": "slope", "description": "台阶坡面角超过设计", "location": "+1050平台"},
    )
    assert added.status_code == 302
    assert inspection.hazards.get().source == "town_inspection"
    # A major hazard without its 判定依据 is refused with the reason.
    refused = client.post(
        f"/inspections/inspections/{inspection.pk}/hazards/",
        {"level": "major", "category": "slope", "description": "边坡角严重超过设计"},
    )
    assert refused.status_code == 400 and "判定依据" in refused.content.decode()
    assert inspection.hazards.count() == 1
    # The county cannot add to the town's inspection; another town does not even see it.
    assert _client(cast.county_staff).post(f"/inspections/inspections/{inspection.pk}/hazards/", {}).status_code == 403
    assert _client(cast.town_b_staff).get(inspection.get_absolute_url()).status_code == 404


@pytest.mark.parametrize("member", ["clerk", "principal", "city_viewer", "county_leader"])
def test_only_field_staff_get_the_inspection_form(cast: Cast, member: str) -> None:
    assert _client(getattr(cast, member)).get("/inspections/inspections/new/").status_code == 403


def _answer_everything(client: Client, report: SelfCheckReport, htmx: bool = False) -> None:
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    for row in report.answers.filter(answer=""):
        client.post(
            f"/inspections/self-checks/{report.pk}/items/{row.item_id}/", {"answer": "yes", "note": ""}, **headers
        )


@time_machine.travel(dt.datetime(2024, 4, 20, 10, tzinfo=SH), tick=False)
def test_enterprise_files_and_the_principal_signs(cast: Cast, world: World, campaign83: Campaign) -> None:
    clerk = _client(cast.clerk)
    listing = clerk.get(f"/inspections/campaigns/{campaign83.pk}/self-checks/")
    assert listing.status_code == 200 and world.enterprise_a2.name not in listing.content.decode()
    started = clerk.post(f"/inspections/campaigns/{campaign83.pk}/self-checks/", {"enterprise": world.enterprise_a.pk})
    report = SelfCheckReport.objects.get()
    assert started.status_code == 302 and started["Location"] == report.get_absolute_url()
    # The clerk cannot start one for another enterprise (not even visible).
    assert (
        clerk.post(
            f"/inspections/campaigns/{campaign83.pk}/self-checks/", {"enterprise": world.enterprise_a2.pk}
        ).status_code
        == 404
    )
    item = report.answers.filter(answer="").first().item
    saved = clerk.post(
        f"/inspections/self-checks/{report.pk}/items/{item.pk}/",
        {"answer": "no", "note": "整改中"},
        HTTP_HX_REQUEST="true",
    )
    assert saved.status_code == 200 and "已保存" in saved.content.decode() and "<html" not in saved.content.decode()
    assert report.answers.get(item=item).answer == "no"
    _answer_everything(clerk, report, htmx=True)
    page = clerk.get(report.get_absolute_url()).content.decode()
    assert "主要负责人当面输入本人账号和密码" in page  # the clerk's device: the principal signs in person
    principal = _client(cast.principal)
    shown = _shown(principal, report)
    wrong = principal.post(
        f"/inspections/self-checks/{report.pk}/sign/",
        {"password": "wrong-password", "confirm": "on", "unexplained_confirmed": "on", "fingerprint": shown},
    )
    assert wrong.status_code == 400 and "账号、密码或动态口令不正确" in wrong.content.decode()
    report.refresh_from_db()
    assert report.status == "draft"
    signed = principal.post(
        f"/inspections/self-checks/{report.pk}/sign/",
        {"password": TEST_PASSWORD, "confirm": "on", "unexplained_confirmed": "on", "fingerprint": shown},
    )
    assert signed.status_code == 302
    report.refresh_from_db()
    assert report.status == "submitted" and report.signed_by_account == cast.principal
    page = principal.get(report.get_absolute_url()).content.decode()
    assert "王建国" in page and "报告不能再修改" in page and "sign-form" not in page and 'type="radio"' not in page
    late = clerk.post(
        f"/inspections/self-checks/{report.pk}/items/{item.pk}/", {"answer": "yes"}, HTTP_HX_REQUEST="true"
    )
    assert late.status_code == 200 and "不能再修改" in late.content.decode()  # shown in place by htmx
    assert report.answers.get(item=item).answer == "no"
    # Town and county read it; another town does not.
    assert _client(cast.town_a_staff).get(report.get_absolute_url()).status_code == 200
    assert _client(cast.county_staff).get(report.get_absolute_url()).status_code == 200
    assert _client(cast.town_b_staff).get(report.get_absolute_url()).status_code == 404


@time_machine.travel(dt.datetime(2024, 4, 20, 10, tzinfo=SH), tick=False)
def test_town_files_on_behalf_and_the_principal_signs_on_its_device(
    cast: Cast, world: World, campaign83: Campaign
) -> None:
    town = _client(cast.town_a_staff)
    town.post(f"/inspections/campaigns/{campaign83.pk}/self-checks/", {"enterprise": world.enterprise_a.pk})
    report = SelfCheckReport.objects.get()
    assert report.filed_by_unit == world.town_a
    _answer_everything(town, report)
    # The town's own credentials are not a principal's signature.
    refused = town.post(
        f"/inspections/self-checks/{report.pk}/sign/",
        {
            "username": "town_a",
            "password": TEST_PASSWORD,
            "confirm": "on",
            "unexplained_confirmed": "on",
            "fingerprint": _shown(town, report),
        },
    )
    assert refused.status_code == 400 and "主要负责人本人" in refused.content.decode()
    ok = town.post(
        f"/inspections/self-checks/{report.pk}/sign/",
        {
            "username": "principal",
            "password": TEST_PASSWORD,
            "confirm": "on",
            "unexplained_confirmed": "on",
            "fingerprint": _shown(town, report),
        },
    )
    assert ok.status_code == 302
    report.refresh_from_db()
    assert report.signed_by_account == cast.principal and report.signed_on_device_of == cast.town_a_staff


@time_machine.travel(dt.datetime(2024, 8, 20, 10, tzinfo=SH), tick=False)
def test_matrix_progress_and_submissions_pages(cast: Cast, world: World, campaign83: Campaign) -> None:
    summary = campaign83.deliverables.get(name="工作总结")
    town = _client(cast.town_a_staff)
    form = town.get(f"/inspections/campaigns/{campaign83.pk}/deliverables/{summary.pk}/submit/?due=2024-08-23")
    assert form.status_code == 200
    upload = io.BytesIO(b"%PDF-1.7 summary")
    upload.name = "巴公镇工作总结.pdf"
    posted = town.post(
        f"/inspections/campaigns/{campaign83.pk}/deliverables/{summary.pk}/submit/",
        {"due_date": "2024-08-23", "title": "工作总结", "file": upload},
    )
    assert posted.status_code == 302
    county = _client(cast.county_staff)
    matrix = county.get(f"/inspections/campaigns/{campaign83.pk}/deliverables/")
    assert matrix.status_code == 200
    rows = {row.town.name: row for row in matrix.context["matrix"].rows}
    assert set(rows) == {"巴公镇", "高都镇"}
    town_matrix = town.get(f"/inspections/campaigns/{campaign83.pk}/deliverables/")
    assert [row.town.name for row in town_matrix.context["matrix"].rows] == ["巴公镇"]
    # The county cannot file a town's deliverable.
    assert (
        county.post(
            f"/inspections/campaigns/{campaign83.pk}/deliverables/{summary.pk}/submit/",
            {"due_date": "2024-08-23", "content": "x"},
        ).status_code
        == 403
    )
    # Progress per phase: the town saves then submits; the county reads the table.
    phase = campaign83.phases.get(name="“回头看”和总结阶段")
    town.post(
        f"/inspections/campaigns/{campaign83.pk}/progress/",
        {"phase": phase.pk, "progress": "完成回头看", "problems": "", "measures": "", "action": "submit"},
    )
    report = TownProgressReport.objects.get()
    assert report.status == "submitted" and report.town == world.town_a
    table = county.get(f"/inspections/campaigns/{campaign83.pk}/progress/")
    assert "完成回头看" in table.content.decode()
    enterprise = _client(cast.clerk).get(f"/inspections/campaigns/{campaign83.pk}/deliverables/")
    assert enterprise.status_code == 200 and "重大事故隐患排查整治台账" in enterprise.content.decode()


@time_machine.travel(dt.datetime(2023, 12, 20, 10, tzinfo=SH), tick=False)
def test_coverage_page(cast: Cast, world: World, campaign331: Campaign) -> None:
    services.inspection_create(
        actor=cast.town_a_staff, enterprise=world.enterprise_a, date=dt.date(2023, 12, 5), method="random_check",
        leader="赵卫东",
    )  # fmt: skip
    county = _client(cast.county_staff).get(f"/inspections/coverage/?campaign={campaign331.pk}&month=2023-12")
    body = county.content.decode()
    assert county.status_code == 200 and "巴公镇" in body and "高都镇" in body and "还差 1 家" in body
    town = _client(cast.town_a_staff).get(f"/inspections/coverage/?campaign={campaign331.pk}&month=2023-12")
    rows = town.context["result"].towns
    assert [r.unit.name for r in rows] == ["巴公镇"] and [e.name for e in rows[0].missing] == [world.enterprise_a2.name]
    assert _client(cast.clerk).get("/inspections/coverage/").status_code == 403
    city = _client(cast.city_viewer).get(f"/inspections/coverage/?campaign={campaign331.pk}&month=2023-12")
    assert city.status_code == 200 and city.context["county"] == world.county


@pytest.mark.parametrize(
    "url", ["/inspections/talks/", "/inspections/exams/", "/inspections/duty-logs/", "/inspections/teams/",
            "/inspections/inspections/", "/inspections/enforcement/"],
)  # fmt: skip
@pytest.mark.parametrize("member", ["clerk", "town_a_staff", "county_staff", "city_viewer"])
def test_lists_open_for_everyone_in_scope(cast: Cast, url: str, member: str) -> None:
    assert _client(getattr(cast, member)).get(url).status_code == 200


@time_machine.travel(dt.datetime(2024, 6, 3, 10, tzinfo=SH), tick=False)
def test_duty_log_exam_and_team_forms(cast: Cast, world: World, campaign83: Campaign) -> None:
    clerk = _client(cast.clerk)
    form = clerk.get("/inspections/duty-logs/new/")
    assert form.status_code == 200 and world.enterprise_a2.name not in form.content.decode()
    posted = clerk.post(
        "/inspections/duty-logs/new/",
        {
            "enterprise": world.enterprise_a.pk, "person": cast.principal.person_id, "month_text": "2024-05",
            "on_site_text": "2024-05-06, 2024-05-07\n2024-05-11", "inspections_led": "2", "safety_meetings": "1",
            "major_hazard_investigation_on": "2024-05-20", "note": "",
        },
        follow=True,
    )  # fmt: skip
    body = posted.content.decode()
    assert "未达到指标" in body and "主要负责人在生产现场履职（工作日）" in body
    # 2024-05-11 was a make-up Saturday (Labour Day 调休): three working days count.
    assert "计入 3 个工作日" in body
    assert _client(cast.other_clerk).get("/inspections/duty-logs/new/").status_code == 200  # their own enterprise
    assert _client(cast.city_viewer).get("/inspections/duty-logs/new/").status_code == 403

    town = _client(cast.town_a_staff)
    exam = town.post(
        "/inspections/exams/new/",
        {"enterprise": world.enterprise_a.pk, "person": cast.principal.person_id, "date": "2024-06-01", "score": "55",
         "pass_mark": "80", "note": ""},
        follow=True,
    )  # fmt: skip
    assert "责令重新学习和补考" in exam.content.decode()
    team = town.post(
        "/inspections/teams/",
        {"campaign": campaign83.pk, "name": "巴公镇督查一组", "leader": "赵卫东", "members": "",
         "formed_on": "2024-05-01", "note": ""},
    )  # fmt: skip
    assert team.status_code == 302
    assert "巴公镇督查一组" in _client(cast.county_staff).get("/inspections/teams/").content.decode()
    assert "巴公镇督查一组" not in _client(cast.town_b_staff).get("/inspections/teams/").content.decode()
