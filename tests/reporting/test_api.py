"""The monthly tables' API: scoped like the pages, in the OpenAPI schema."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from reporting import services
from reporting.choices import ReportKind

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_table_figures_and_drill_down_urls(scenario, cast) -> None:
    response = _client(cast.county_staff).get("/api/v1/report-tables/accountability/140525/2024-05/")
    assert response.status_code == 200
    body = response.json()
    assert body["unit_name"] == "泽州县应急管理局"
    cells = {cell["key"]: cell for cell in body["cells"]}
    assert cells["penalty_enterprise_amount"]["value"] == "4.75"
    assert cells["penalty_enterprise_amount"]["title"] == "惩处情况 / 非煤矿山企业行政处罚（万元）"
    assert cells["talk_enterprise"]["records_url"] == "/reports/accountability/140525/2024-05/cell/talk_enterprise/"
    assert body["figures"]["row"]["talk_parent"] == 2
    town = _client(cast.town_a_staff)
    assert town.get("/api/v1/report-tables/accountability/140525/2024-05/").status_code == 404
    assert town.get("/api/v1/report-tables/winter/140525108/2023-12/").status_code == 200
    assert _client(cast.clerk).get("/api/v1/report-tables/winter/140525108/2023-12/").status_code == 404


def test_reports_list_is_scoped_and_export_jobs_are_created(scenario, cast) -> None:
    for region in (scenario.world.town_a, scenario.world.town_b):
        report = services.report_get_or_create(
            kind=ReportKind.ACCOUNTABILITY, region=region, campaign=scenario.accountability,
            month=scenario.accountability.start_date.replace(month=5), due_day=23,
        )  # fmt: skip
        services.report_refresh(actor=None, report=report)
    mine = _client(cast.town_a_staff).get("/api/v1/reports/").json()
    assert [row["region_name"] for row in mine["results"]] == ["巴公镇"]
    other = next(
        r for r in _client(cast.county_staff).get("/api/v1/reports/").json()["results"] if r["region_name"] == "高都镇"
    )
    assert _client(cast.town_a_staff).get(f"/api/v1/reports/{other['id']}/").status_code == 404
    detail = _client(cast.county_staff).get(f"/api/v1/reports/{other['id']}/").json()
    assert detail["versions"][0]["figures"]["row"]["dismissal"] == 1
    created = _client(cast.town_a_staff).post(
        "/api/v1/report-exports/", {"kind": "winter", "region": "140525108", "month": "2023-12", "file_format": "xlsx"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 202 and created.json()["status"] == "pending"
    job = created.json()["id"]
    assert _client(cast.town_a_staff).get(f"/api/v1/report-exports/{job}/").json()["status_display"] == "排队中"
    assert _client(cast.town_b_staff).get(f"/api/v1/report-exports/{job}/").status_code == 404
    bad = _client(cast.town_a_staff).post(
        "/api/v1/report-exports/", {"kind": "winter", "region": "140525108", "month": "2024-05", "file_format": "pdf"},
        format="json",
    )  # fmt: skip
    assert bad.status_code == 400 and "没有需要报送" in bad.json()["month"][0]
