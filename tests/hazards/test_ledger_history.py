"""A ledger carries its history: a general hazard the ledger records as 已整改 with a 整改完成时间 arrives rectified
on that date through the workflow's steps (events and audit rows as the services write them), waiting for the
town's 验收; a major hazard's 整改情况 is kept but only the workflow moves it; a contradiction is an error; and
the 隐患类别 comes from its column (synonyms too) or stays empty (未分类), never guessed."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from hazards.choices import HazardAction, HazardCategory, HazardStatus
from hazards.ledger import ledger_import, ledger_upload_commit, ledger_upload_create, ledger_validate
from hazards.ledger_history import rectification_steps, says_rectified
from hazards.models import Hazard, HazardEvent, Notification
from hazards.services import hazard_verify
from portal.choices import AuditAction
from portal.models import AuditEvent
from tests.conftest import Cast, World
from tests.hazards.ledger_xlsx import build, counts

pytestmark = [pytest.mark.usefixtures("catalogue"), pytest.mark.django_db]

TODAY = datetime.datetime(2024, 12, 20, 10, 0, tzinfo=datetime.UTC)
HEADER = [
    "隐患编号",
    "隐患内容",
    "发现日期",
    "隐患级别",
    "判定依据",
    "整改措施",
    "整改时限",
    "整改情况",
    "整改完成时间",
]


@pytest.fixture(autouse=True)
def frozen_today() -> Any:
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def media(tmp_path: Path, settings: Any) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def line(number: str, note: str = "", done: Any = "", *, level: str = "一般", description: str = "") -> list[Any]:
    criterion = "露天矿山第（七）项" if level == "重大" else ""
    text = description or f"隐患{number}"
    return [number, text, "2024-11-03", level, criterion, "清理", "2024-11-30", note, done]


def events_of(hazard: Hazard) -> list[tuple[str, str, str]]:
    return list(hazard.events.order_by("id").values_list("action", "from_status", "to_status"))


def test_a_new_general_hazard_recorded_rectified_arrives_rectified_waiting_for_the_town(
    world: World, cast: Cast, media: Path
) -> None:
    data = build([line("G-1", "已整改，更换门锁", "2024-11-20"), line("G-2", "整改中")], header=HEADER)
    preview, upload = ledger_upload_create(actor=cast.clerk, enterprise=world.enterprise_a, source=data)
    assert upload is not None, preview.error_lines()
    assert [row.values["导入后状态"] for row in preview.rows] == ["已整改", "已上报"]
    result = ledger_upload_commit(actor=cast.clerk, upload=upload)
    assert result.committed and result.summary() == "新增 2 条，更新 0 条，未变 0 条"

    done, open_ = Hazard.objects.get(ledger_number="G-1"), Hazard.objects.get(ledger_number="G-2")
    assert (done.status, done.rectified_on, done.rectified_by) == (
        HazardStatus.RECTIFIED, datetime.date(2024, 11, 20), cast.clerk,
    )  # fmt: skip
    assert done.rectification_note == "已整改，更换门锁"
    # Its deadline (2024-11-30) has passed, but it was rectified in time: not 逾期; the open one is.
    assert not done.is_overdue and open_.is_overdue and open_.status == HazardStatus.REPORTED
    assert list(Hazard.objects.overdue()) == [open_]
    # The workflow's steps, as its services record them.
    assert events_of(done) == [
        (HazardAction.LEDGER_IMPORT, "", HazardStatus.REPORTED),
        (HazardAction.START_RECTIFICATION, HazardStatus.REPORTED, HazardStatus.RECTIFYING),
        (HazardAction.MARK_RECTIFIED, HazardStatus.RECTIFYING, HazardStatus.RECTIFIED),
    ]
    assert events_of(open_) == [(HazardAction.LEDGER_IMPORT, "", HazardStatus.REPORTED)]
    step = done.events.get(action=HazardAction.MARK_RECTIFIED)
    assert step.actor == cast.clerk and "整改完成时间 2024-11-20" in step.comment
    audits = AuditEvent.objects.filter(object_type="事故隐患", object_id=str(done.pk)).order_by("id")
    assert [a.action for a in audits] == [AuditAction.CREATE, AuditAction.UPDATE, AuditAction.UPDATE]
    assert "隐患整改完成" in audits[2].detail and audits[2].after["status"] == HazardStatus.RECTIFIED
    # The town is asked to verify, and verifies through the workflow.
    assert Notification.objects.filter(recipient=cast.town_a_staff, message__contains="请镇应急管理中心验收").exists()
    hazard_verify(actor=cast.town_a_staff, hazard=done)
    done.refresh_from_db()
    assert done.status == HazardStatus.VERIFIED


def test_a_town_uploading_a_rectified_row_may_not_verify_it_itself(world: World, cast: Cast) -> None:
    data = build([line("T-1", "已整改", "2024-11-20")], header=HEADER)
    assert ledger_import(source=data, enterprise=world.enterprise_a, actor=cast.town_a_staff).committed
    hazard = Hazard.objects.get()
    assert hazard.rectified_by == cast.town_a_staff
    with pytest.raises(PermissionDenied):
        hazard_verify(actor=cast.town_a_staff, hazard=hazard)


def test_a_registered_hazard_recorded_rectified_later_moves_through_the_steps(world: World, cast: Cast) -> None:
    ledger_import(source=build([line("R-1", "整改中")], header=HEADER), enterprise=world.enterprise_a)
    hazard = Hazard.objects.get()
    data = build([line("R-1", "已整改", "2024-12-01")], header=HEADER)
    preview = ledger_validate(source=data, enterprise=world.enterprise_a, actor=cast.clerk)
    assert preview.summary() == "新增 0 条，更新 1 条，未变 0 条", preview.error_lines()
    changes = preview.rows[0].changes
    assert changes["状态"] == ("已上报", "已整改") and changes["整改完成时间"] == ("", "2024-12-01")
    assert changes["整改情况"] == ("整改中", "已整改")
    assert ledger_import(source=data, enterprise=world.enterprise_a, actor=cast.clerk).committed
    hazard.refresh_from_db()
    assert (hazard.status, hazard.rectified_on) == (HazardStatus.RECTIFIED, datetime.date(2024, 12, 1))
    assert events_of(hazard)[1:] == [
        (HazardAction.UPDATE, HazardStatus.REPORTED, HazardStatus.REPORTED),
        (HazardAction.START_RECTIFICATION, HazardStatus.REPORTED, HazardStatus.RECTIFYING),
        (HazardAction.MARK_RECTIFIED, HazardStatus.RECTIFYING, HazardStatus.RECTIFIED),
    ]
    # Uploaded again: nothing moves twice.
    again = ledger_import(source=data, enterprise=world.enterprise_a, actor=cast.clerk)
    assert again.summary() == "新增 0 条，更新 0 条，未变 1 条"
    assert hazard.events.count() == 4


def test_a_verified_hazard_is_not_moved_again(world: World, cast: Cast) -> None:
    data = build([line("V-1", "已整改", "2024-11-20")], header=HEADER)
    ledger_import(source=data, enterprise=world.enterprise_a, actor=cast.clerk)
    hazard_verify(actor=cast.town_a_staff, hazard=Hazard.objects.get())
    before = counts()
    assert ledger_import(source=data, enterprise=world.enterprise_a, actor=cast.clerk).summary() == (
        "新增 0 条，更新 0 条，未变 1 条"
    )
    assert counts()[:2] == before[:2] and Hazard.objects.get().status == HazardStatus.VERIFIED


def test_a_major_hazards_rectification_is_kept_but_only_the_workflow_moves_it(world: World, cast: Cast) -> None:
    data = build([line("M-1", "已整改", "2024-11-20", level="重大")], header=HEADER)
    result = ledger_import(source=data, enterprise=world.enterprise_a, actor=cast.clerk)
    assert result.committed, result.error_lines()
    hazard = Hazard.objects.get()
    assert (hazard.status, hazard.rectification_note, hazard.rectified_on) == (HazardStatus.DRAFT, "已整改", None)
    assert events_of(hazard) == [(HazardAction.LEDGER_IMPORT, "", HazardStatus.DRAFT)]
    assert rectification_steps(hazard.level, HazardStatus.CONFIRMED) == []


@pytest.mark.parametrize(
    ("note", "done", "message"),
    [
        ("整改中", "2024-11-20", "第2行 整改完成时间：填写了整改完成时间，但整改情况为“整改中”"),
        ("", "2024-11-20", "第2行 整改完成时间：填写了整改完成时间，但整改情况未填写"),
        ("已完成50%", "2024-11-20", "第2行 整改完成时间：填写了整改完成时间，但整改情况为“已完成50%”"),
        ("已整改", "2024-12-21", "第2行 整改完成时间：整改完成时间不能晚于今天（2024-12-20）。"),
        ("已整改", "2024-11-01", "第2行 整改完成时间：整改完成时间（2024-11-01）不能早于发现日期（2024-11-03）。"),
        ("已整改", "2024-13-01", "第2行 整改完成时间：日期不存在：“2024-13-01”。"),
    ],
)
def test_a_row_that_contradicts_itself_is_an_error_and_nothing_is_written(
    world: World, cast: Cast, note: str, done: str, message: str
) -> None:
    before = counts()
    result = ledger_import(source=build([line("C-1", note, done)], header=HEADER), enterprise=world.enterprise_a)
    assert not result.committed and len(result.errors) == 1
    assert result.error_lines()[0].startswith(message), result.error_lines()
    assert counts() == before


def test_the_rule_reads_the_notes_as_people_write_them() -> None:
    assert all(
        says_rectified(n) for n in ["已整改", "已整改完毕", "整改完成", "已完成整改，更换门锁", "已整改，待验收"]
    )
    assert not any(says_rectified(n) for n in ["整改中", "未整改", "正在整改", "已完成50%", "部分整改", "", "清理浮石"])


def test_the_api_preview_shows_the_history(world: World, cast: Cast, media: Path) -> None:
    client = APIClient()
    client.force_authenticate(cast.clerk)
    data = build([line("A-1", "已整改", "2024-11-20")], header=HEADER)
    response = client.post(
        "/api/v1/ledger-uploads/", {"file": SimpleUploadedFile("台账.xlsx", data)}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["preview"]["rows"][0]["values"]["导入后状态"] == "已整改"


# --- 隐患类别 ------------------------------------------------------------------------------------------


def test_without_a_category_column_the_category_is_empty_and_shown_unclassified(world: World, cast: Cast) -> None:
    ledger_import(source=build([line("K-1")], header=HEADER), enterprise=world.enterprise_a, actor=cast.clerk)
    hazard = Hazard.objects.get()
    assert hazard.category == "" and hazard.get_category_display() == "未分类"
    client = APIClient()
    client.force_authenticate(cast.clerk)
    body = client.get(f"/api/v1/hazards/{hazard.pk}/").json()
    assert (body["category"], body["category_display"]) == ("", "未分类")
    listed = client.get("/api/v1/hazards/").json()
    assert [row["category_display"] for row in listed["results"]] == ["未分类"]
    page = Client()
    page.force_login(cast.town_a_staff)
    detail = page.get(reverse("hazards:hazard-detail", args=[hazard.pk])).content.decode()
    assert '<dt class="col-sm-3">隐患类别</dt><dd class="col-sm-9">未分类</dd>' in detail


@pytest.mark.parametrize("header", ["隐患类别", "隐患类型", "类别", "隐患分类"])
def test_a_category_column_fills_the_category(world: World, cast: Cast, header: str) -> None:
    rows = [[*line("K-1")[:4], "爆破"], [*line("K-2")[:4], ""], [*line("K-3")[:4], "边坡"]]
    data = build(rows, header=[*HEADER[:4], header])
    assert ledger_import(source=data, enterprise=world.enterprise_a, actor=cast.clerk).committed
    assert dict(Hazard.objects.values_list("ledger_number", "category")) == {
        "K-1": HazardCategory.BLASTING, "K-2": "", "K-3": HazardCategory.SLOPE,
    }  # fmt: skip
    assert HazardEvent.objects.count() == 3


def test_the_dashboard_counts_what_the_ledger_records_as_rectified(world: World, cast: Cast) -> None:
    from reporting.dashboard import summary

    data = build([line("D-1", "已整改", "2024-11-20"), line("D-2", "整改中")], header=HEADER)
    assert ledger_import(source=data, enterprise=world.enterprise_a, actor=cast.clerk).committed
    figures = summary(user=cast.county_staff, region=world.county, month=datetime.date(2024, 12, 1),
                      today=datetime.date(2024, 12, 20)).totals  # fmt: skip
    assert (figures["general"], figures["general_done"], figures["general_rate"], figures["overdue"]) == (2, 1, 50.0, 1)
