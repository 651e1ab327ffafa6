"""The pages: who may and who may not, drill-downs, the buttons, exports, the dashboard; CSP-clean HTML."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from reporting import services
from reporting.choices import JobStatus, VersionStatus
from reporting.models import ExportJob, Report, ReportVersion
from reporting.tasks import run_export, run_sign
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _table(kind: str, code: str, month: str) -> str:
    return reverse("reporting:table", args=[kind, code, month])


def _cell(kind: str, code: str, month: str, key: str) -> str:
    return reverse("reporting:cell", args=[kind, code, month, key])


def _csp_clean(html: str) -> None:
    assert ' style="' not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html), "inline script"


def test_town_sees_its_own_table_with_links_and_nothing_else(scenario, cast, client) -> None:
    client.force_login(cast.town_a_staff)
    page = client.get(_table("accountability", "140525108", "2024-05"))
    assert page.status_code == 200
    html = page.content.decode()
    _csp_clean(html)
    assert "填报单位：巴公镇应急管理中心" in html
    assert "纳入安全生产主体责任名单非煤矿山企业" in html
    talk_url = _cell("accountability", "140525108", "2024-05", "talk_enterprise")
    assert f'<a href="{talk_url}" title="查看这个数字背后的记录">2</a>' in html
    assert "统计期间：本月：2024年5月1日至2024年5月31日" in html
    for other in ("140525107", "140525", "140500", "140404"):
        assert client.get(_table("accountability", other, "2024-05")).status_code == 404, other
        assert client.get(_cell("accountability", other, "2024-05", "talk_enterprise")).status_code == 404, other


def test_enterprise_accounts_never_see_tables(scenario, cast, client) -> None:
    client.force_login(cast.clerk)
    assert client.get(reverse("reporting:index")).status_code == 404
    assert client.get(_table("accountability", "140525108", "2024-05")).status_code == 404
    assert client.get(reverse("reporting:dashboard")).status_code == 404


def test_drill_down_lists_the_records_behind_a_number(scenario, cast, client) -> None:
    client.force_login(cast.county_staff)
    page = client.get(_cell("accountability", "140525", "2024-05", "penalty_enterprise_amount"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "共 3 条" in html and "1.50" in html and "2.25" in html and "1.00" in html
    assert "9.00" not in html  # tagged with another campaign
    winter = client.get(_cell("winter", "140525", "2023-12", "month.major_found")).content.decode()
    assert "共 2 条" in winter and "采场最终边坡台阶高度超过设计要求" in winter
    lists = client.get(_cell("winter", "140525", "2023-12", "major_hazards")).content.decode()
    assert "共 3 条" in lists
    assert client.get(_cell("winter", "140525", "2023-12", "no.such")).status_code == 404
    assert client.get(_cell("winter", "140525", "2023-13", "month.teams")).status_code == 404


def test_county_page_shows_its_towns_side_by_side_and_city_its_counties(scenario, cast, client) -> None:
    client.force_login(cast.county_staff)
    html = client.get(_table("winter", "140525", "2023-12")).content.decode()
    assert 'data-testid="side-by-side"' in html and "巴公镇 非煤矿山" in html and "高都镇 累计" in html
    assert "重大隐患明细及整改计划" in html
    client.force_login(cast.city_viewer)
    city = client.get(_table("accountability", "140500", "2024-05"))
    assert city.status_code == 200
    html = city.content.decode()
    assert "各县（市、区）对照" in html and "泽州县" in html and "上党区" not in html
    assert _cell("accountability", "140525", "2024-05", "talk_enterprise") in html
    client.force_login(cast.other_county_staff)
    assert client.get(_table("accountability", "140525", "2024-05")).status_code == 404


def test_submit_and_sign_through_the_page_then_download_the_frozen_files(scenario, cast, client) -> None:
    url = reverse("reporting:act", args=["accountability", "140525108", "2024-05"])
    client.force_login(cast.town_a_staff)
    client.post(url, {"action": "refresh"})
    report = Report.objects.get(kind="accountability", region=scenario.world.town_a)
    version = report.versions.get()
    response = client.post(url, {"action": "submit", "version": version.pk}, follow=True)
    assert "已报送第1版" in response.content.decode()
    response = client.post(url, {"action": "sign", "version": version.pk}, follow=True)
    assert "只有本县的分管负责人可以签字" in response.content.decode()
    client.force_login(cast.county_leader)
    page = client.get(_table("accountability", "140525108", "2024-05")).content.decode()
    assert "分管负责人签字" in page
    shown = services.shown_fingerprint(ReportVersion.objects.get(pk=version.pk))
    assert f'name="fingerprint" value="{shown}"' in page  # the page posts what it showed
    response = client.post(
        url, {"action": "sign", "version": version.pk, "fingerprint": shown, "password": TEST_PASSWORD}
    )
    job = ExportJob.objects.get(purpose="sign")
    assert response["Location"] == reverse("reporting:export", args=[job.pk])
    assert job.fingerprint == shown
    # a second click waits for the same job
    client.post(url, {"action": "sign", "version": version.pk, "fingerprint": shown, "password": TEST_PASSWORD})
    assert ExportJob.objects.filter(purpose="sign").count() == 1
    assert "正在签字" in client.get(reverse("reporting:export", args=[job.pk])).content.decode()
    assert run_sign.apply(args=[str(job.pk)]).get() == "success"
    done = client.get(reverse("reporting:export", args=[job.pk])).content.decode()
    assert "已签字，第1版已冻结保存" in done
    version.refresh_from_db()
    assert version.status == VersionStatus.SIGNED
    download = client.get(reverse("reporting:version-file", args=[version.pk, "xlsx"]))
    assert download.status_code == 200
    import hashlib

    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == version.xlsx_sha256
    client.force_login(cast.town_b_staff)
    assert client.get(reverse("reporting:version-file", args=[version.pk, "xlsx"])).status_code == 404
    assert client.post(url, {"action": "refresh"}).status_code == 404


def test_export_from_the_page_runs_on_the_worker_and_the_file_appears(scenario, cast, client) -> None:
    client.force_login(cast.county_staff)
    url = reverse("reporting:act", args=["three-lists", "140525", "2023-12"])
    response = client.post(url, {"action": "export_xlsx"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("reporting:export", args=[job.pk])
    pending = client.get(reverse("reporting:export", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 2s"' in pending and "排队中" in pending
    run_export.apply(args=[str(job.pk)])
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCESS
    done = client.get(reverse("reporting:export", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done and reverse("reporting:export-file", args=[job.pk]) in done
    full = client.get(reverse("reporting:export", args=[job.pk])).content.decode()
    _csp_clean(full)
    assert client.get(reverse("reporting:export-file", args=[job.pk])).status_code == 200
    client.force_login(cast.town_a_staff)  # the county's file is not the town's
    assert client.get(reverse("reporting:export", args=[job.pk])).status_code == 404
    assert client.get(reverse("reporting:export-file", args=[job.pk])).status_code == 404


def test_dashboard_charts_read_json_and_link_to_lists(scenario, cast, client) -> None:
    client.force_login(cast.county_staff)
    page = client.get(reverse("reporting:dashboard") + "?month=2023-12")
    assert page.status_code == 200
    html = page.content.decode()
    _csp_clean(html)
    assert '<script id="dashboard-data" type="application/json">' in html
    assert "reporting/dashboard.js" in html and "vendor/echarts/echarts.min.js" in html
    assert "巴公镇" in html  # coverage per town
    hazards = client.get(reverse("reporting:dashboard-hazards") + "?region=140525&level=major").content.decode()
    assert "采场最终边坡台阶高度超过设计要求" in hazards
    assert "外县" not in hazards
    client.force_login(cast.town_b_staff)
    assert client.get(reverse("reporting:dashboard-hazards") + "?region=140525108").status_code == 404
    mine = client.get(reverse("reporting:dashboard-hazards") + "?region=140525107").content.decode()
    assert "采场最终边坡台阶高度超过设计要求" not in mine


def test_index_lists_campaign_months_and_opens_a_table(scenario, cast, client) -> None:
    client.force_login(cast.town_a_staff)
    html = client.get(reverse("reporting:index")).content.decode()
    _csp_clean(html)
    assert "非煤矿山企业主要负责人履职专项检查" in html
    assert _table("accountability", "140525108", "2024-05") in html
    response = client.get(reverse("reporting:pick"), {"kind": "winter", "region": "140525108", "month": "2023-12"})
    assert response["Location"] == _table("winter", "140525108", "2023-12")


def test_viewers_cannot_create_reports_by_posting(scenario, cast, client) -> None:
    url = reverse("reporting:act", args=["accountability", "140525", "2024-05"])
    for viewer in (cast.city_viewer, cast.town_a_staff):
        client.force_login(viewer)
        assert client.post(url, {"action": "refresh"}).status_code == 404
    assert not Report.objects.exists()
    client.force_login(cast.city_viewer)
    page = client.get(_table("accountability", "140525", "2024-05")).content.decode()
    assert "按最新记录生成草稿" not in page and "生成 Excel" in page


def test_long_lists_show_their_first_rows_on_the_page(scenario, cast, client, monkeypatch) -> None:
    """At county scale the 三清单 run to thousands of rows: the page shows the first ones and says how many."""
    from reporting import views

    client.force_login(cast.county_staff)
    url = _table("three-lists", "140525", "2023-12")
    full = client.get(url).content.decode()
    problems = re.search(r'data-testid="problems">(.*?)</table>', full, re.S)
    assert problems is not None
    total = problems.group(1).count("<tr>") - 1  # the header row
    assert total >= 2 and 'data-testid="list-cut"' not in full

    monkeypatch.setattr(views, "PAGE_LIST_ROWS", 1)
    cut = client.get(url).content.decode()
    problems = re.search(r'data-testid="problems">(.*?)</table>', cut, re.S)
    assert problems is not None and problems.group(1).count("<tr>") == 2
    assert cut.count('data-testid="list-cut"') == 3  # problems, rectifications, responsibilities
    assert f"共 {total} 条，此处显示前 1 条；全部见导出的文件或“查看三清单所列隐患记录”。" in cut


def test_the_major_hazards_list_is_cut_too_and_counted_whole(scenario, cast, client, monkeypatch) -> None:
    """The 重大隐患明细 of a county: its first rows, and how many there are (counted, not built, when no version
    is compared with the page); a new major hazard counts at once."""
    import datetime as dt

    from hazards.choices import HazardLevel, HazardStatus
    from reporting import views
    from tests.reporting.conftest import hazard

    client.force_login(cast.county_staff)
    url = _table("winter", "140525", "2023-12")
    full = client.get(url).content.decode()
    rows = re.search(r'data-testid="major-hazards">(.*?)</table>', full, re.S)
    assert rows is not None
    total = rows.group(1).count("<tr>") - 1
    assert total >= 2 and 'data-testid="list-cut"' not in full

    monkeypatch.setattr(views, "PAGE_LIST_ROWS", 1)
    cut = client.get(url).content.decode()
    rows = re.search(r'data-testid="major-hazards">(.*?)</table>', cut, re.S)
    assert rows is not None and rows.group(1).count("<tr>") == 2
    assert f"共 {total} 条，此处显示前 1 条；" in cut

    enterprise = scenario.hazards["g2"].enterprise
    hazard(enterprise, level=HazardLevel.MAJOR, found_on=dt.date(2023, 12, 5), status=HazardStatus.RECTIFYING)
    assert f"共 {total + 1} 条，此处显示前 1 条；" in client.get(url).content.decode()


@pytest.mark.parametrize("kind", ["three-lists", "winter"])
def test_page_says_when_the_records_moved_on_from_the_latest_version(scenario, cast, client, kind) -> None:
    """The page compares the live figures with the latest version's snapshot (loaded alone, deferred in the list)."""
    import datetime as dt

    from reporting import services
    from reporting.choices import ReportKind

    report = services.report_get_or_create(
        kind=ReportKind.THREE_LISTS if kind == "three-lists" else ReportKind.WINTER,
        region=scenario.world.county,
        campaign=scenario.winter,
        month=dt.date(2023, 12, 1),
        due_day=23,
    )
    services.report_refresh(actor=None, report=report)
    client.force_login(cast.county_staff)
    url = _table(kind, "140525", "2023-12")
    assert 'data-testid="stale"' not in client.get(url).content.decode()

    changed = scenario.hazards["g2"]
    changed.found_on = dt.date(2024, 1, 4)  # found after the month now: out of both tables
    changed.save()
    assert 'data-testid="stale"' in client.get(url).content.decode()
