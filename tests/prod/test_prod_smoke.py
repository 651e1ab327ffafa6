"""The production-like run, through HTTP only: PostgreSQL, Redis, gunicorn, a Celery worker and beat
started with the commands docker-compose.yml uses (tests/prodstack.py), DEBUG=0, the demo data.

Log in at the real login form, upload a 隐患台账 (.xlsx), preview and confirm it, walk its 重大事故隐患
to 销号 with the right account at each step, have the worker build a monthly table (Excel and PDF)
and download what it made; then check the rows in PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable

import openpyxl
import pytest

from tests.hazards import ledger_xlsx
from tests.images import TINY_PNG
from tests.prod.conftest import DEMO_PASSWORD, wait_for_job
from tests.prodstack import PortalClient, ProdStack

pytestmark = [pytest.mark.processes, pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

SHOWCASE = "泽州县示范矿业有限公司"
# A real (tiny) PNG: evidence is recognised by its content and decoded for its size and thumbnail.
PNG = TINY_PNG
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def step(client: PortalClient, hazard_id: int, name: str, payload: dict[str, object] | None = None) -> dict:
    answer = client.post(f"/api/v1/hazards/{hazard_id}/{name}/", json_body=payload or {})
    assert answer.status == 200, f"{client.username} {name}: {answer.status} {answer.text[:1000]}"
    return answer.json()  # type: ignore[no-any-return]


def test_health_pages_and_static_files_with_debug_off(stack: ProdStack, login: Callable[[str], PortalClient]) -> None:
    status, health = stack.health()
    assert status == 200 and health["debug"] is False
    assert health["checks"]["database"]["ok"] and health["checks"]["broker"]["transport"] == "redis"
    client = login("county_staff")
    page = client.get("/hazards/")
    assert page.status == 200 and "隐患" in page.text
    # With DEBUG=0 the pages name the hashed files of the manifest, and WhiteNoise serves them.
    css = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', page.text)
    assert css, page.text[:2000]
    asset = client.get(css.group(1), headers={"Accept-Encoding": "gzip"})
    assert asset.status == 200 and "immutable" in asset.headers.get("Cache-Control", "")
    anonymous = PortalClient(stack.base_url)
    assert anonymous.get("/hazards/").url.split("?")[0].endswith("/login/")


def test_ledger_to_closure_and_the_monthly_table_from_the_worker(
    stack: ProdStack, login: Callable[[str], PortalClient]
) -> None:
    clerk, principal = login("clerk"), login("principal")
    town, county = login("town_bagong"), login("county_staff")
    hazards_before = stack.scalar("SELECT count(*) FROM hazards_hazard")

    # 1. The clerk uploads the enterprise's ledger: three general hazards and one major one.
    deadline = dt.date(2026, 12, 31)
    rows = [ledger_xlsx.row(f"SMOKE-{n:03d}", f"冒烟测试一般隐患{n}", deadline=deadline) for n in (1, 2, 3)]
    rows.append(ledger_xlsx.major_row("SMOKE-900", deadline=deadline))
    upload = clerk.post("/api/v1/ledger-uploads/", files={"file": ("隐患台账.xlsx", ledger_xlsx.build(rows), XLSX)})
    assert upload.status == 201, upload.text[:3000]
    created = upload.json()
    assert created["preview"]["ok"] and created["preview"]["created"] == 4, created["preview"]
    upload_id = created["upload"]["id"]
    preview = clerk.get(f"/api/v1/ledger-uploads/{upload_id}/preview/")
    assert preview.status == 200 and preview.json()["preview"]["summary"].startswith("新增 4 条")
    assert stack.scalar("SELECT count(*) FROM hazards_hazard") == hazards_before  # nothing saved before confirming
    commit = clerk.post(f"/api/v1/ledger-uploads/{upload_id}/commit/")
    assert commit.status == 200, commit.text[:3000]
    assert commit.json()["upload"]["status"] == "committed"

    hazard_id, status = stack.query(
        "SELECT h.id, h.status FROM hazards_hazard h JOIN portal_enterprise e ON e.id = h.enterprise_id "
        "WHERE h.ledger_number = 'SMOKE-900' AND e.name = %s",
        (SHOWCASE,),
    )[0]
    assert status == "draft"

    # 2. The major hazard through its workflow, each step by the account the rules name.
    assert client_refused(town, hazard_id, "confirm-town")  # not before the principal signed
    shown = principal.get(f"/api/v1/hazards/{hazard_id}/").json()["fingerprint"]  # the signer reads it first
    step(principal, hazard_id, "sign-report", {"comment": "属实", "fingerprint": shown, "password": DEMO_PASSWORD})
    step(town, hazard_id, "confirm-town", {"comment": "镇核实属实"})
    step(county, hazard_id, "confirm-county", {"comment": "确认为重大事故隐患"})
    step(clerk, hazard_id, "start-rectification")
    evidence = clerk.post(
        f"/api/v1/hazards/{hazard_id}/evidence/",
        data={"kind": "rectification", "description": "整改后照片"},
        files={"file": ("整改后.png", PNG, "image/png")},
    )
    assert evidence.status == 201, evidence.text[:2000]
    step(clerk, hazard_id, "request-closure", {"rectified_on": "2026-11-20", "rectification_note": "已清理浮石并加固"})
    closed = step(county, hazard_id, "close", {"comment": "整改到位，同意销号"})
    assert closed["status"] == "closed"

    # 3. The monthly table: asked for over HTTP, built by the worker, downloaded.
    files = {}
    for file_format in ("xlsx", "pdf"):
        answer = county.post(
            "/api/v1/report-exports/",
            json_body={"kind": "accountability", "region": "140525", "month": "2024-05", "file_format": file_format},
        )
        assert answer.status == 202, answer.text[:2000]
        job = wait_for_job(county, answer.json()["id"])
        assert job["status"] == "success", job
        download = county.get(job["file_url"])
        assert download.status == 200
        files[file_format] = (job["id"], download.body)
    workbook = openpyxl.load_workbook(io.BytesIO(files["xlsx"][1]))
    assert "追责问责" in " ".join(str(cell.value) for row in workbook.active.iter_rows() for cell in row if cell.value)
    assert files["pdf"][1].startswith(b"%PDF-")

    # 4. What PostgreSQL holds afterwards.
    assert stack.scalar("SELECT count(*) FROM hazards_hazard") == hazards_before + 4
    assert stack.query("SELECT status, created_count FROM hazards_ledgerupload WHERE id = %s", (upload_id,)) == [
        ("committed", 4)
    ]
    events = stack.query(
        "SELECT action, from_status, to_status FROM hazards_hazardevent WHERE hazard_id = %s ORDER BY id", (hazard_id,)
    )
    transitions = [(action, before, after) for action, before, after in events if before != after]
    assert transitions == [
        ("ledger_import", "", "draft"),
        ("sign_report", "draft", "pending_town"),
        ("town_confirm", "pending_town", "pending_county"),
        ("county_confirm", "pending_county", "confirmed"),
        ("start_rectification", "confirmed", "rectifying"),
        ("request_closure", "rectifying", "closure_requested"),
        ("close", "closure_requested", "closed"),
    ], events
    for file_format, (job_id, content) in files.items():
        status, attempts, path = stack.query(
            "SELECT status, attempts, file FROM reporting_exportjob WHERE id = %s", (job_id,)
        )[0]
        assert (status, attempts) == ("success", 1)
        assert (stack.media_root / path).read_bytes() == content, file_format
    assert "reporting.tasks.run_export" in stack.components["worker"].log()


def client_refused(client: PortalClient, hazard_id: int, name: str) -> bool:
    answer = client.post(f"/api/v1/hazards/{hazard_id}/{name}/", json_body={})
    return answer.status in (403, 409) and re.search(r"[\u4e00-\u9fff]", answer.text) is not None
