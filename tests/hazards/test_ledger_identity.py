"""A ledger row's identity: 序号 is a row counter (restarted every month), never the hazard; a row is an
existing hazard only by the same 编号 or the same 发现日期 + 隐患内容, and a 编号 reused for another hazard
(date and content both different) is an error naming the registered one, never an update."""

from __future__ import annotations

import datetime
import io
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from hazards.ledger import ledger_import, ledger_upload_create, ledger_validate
from hazards.models import Hazard
from portal.audit import snapshot
from tests.conftest import Cast, World
from tests.hazards.ledger_xlsx import build, counts

pytestmark = [pytest.mark.usefixtures("catalogue"), pytest.mark.django_db]

TODAY = datetime.datetime(2024, 12, 20, 10, 0, tzinfo=datetime.UTC)
SERIAL_HEADER = ["序号", "隐患内容", "隐患部位", "发现日期", "隐患级别", "整改措施", "整改时限", "整改情况"]
NUMBER_HEADER = ["隐患编号", *SERIAL_HEADER[1:]]


@pytest.fixture(autouse=True)
def frozen_today() -> Any:
    with time_machine.travel(TODAY, tick=False):
        yield


def november(first: Any = 1, second: Any = 2) -> list[list[Any]]:
    return [
        [first, "+320平台边坡有浮石未清理", "+320平台", "2024-11-03", "一般", "清理浮石", "2024-11-30", "整改中"],
        [second, "炸药库门锁损坏", "炸药库", "2024-11-05", "一般", "更换门锁", "2024-11-20", ""],
    ]


def december(first: Any = 1, second: Any = 2) -> list[list[Any]]:
    return [
        [first, "运输道路无挡墙", "运输道路", "2024-12-02", "一般", "砌筑挡墙", "2024-12-31", ""],
        [second, "配电室无绝缘垫", "配电室", "2024-12-04", "一般", "铺设绝缘垫", "2024-12-25", ""],
    ]


def state() -> dict[str, dict[str, Any]]:
    return {h.description: snapshot(h) for h in Hazard.objects.all()}


def test_rows_numbered_from_1_every_month_are_new_hazards(world: World, cast: Cast) -> None:
    first = ledger_import(
        source=build(november(), header=SERIAL_HEADER), enterprise=world.enterprise_a, actor=cast.clerk
    )
    assert first.committed and first.summary() == "新增 2 条，更新 0 条，未变 0 条", first.error_lines()
    before = state()

    data = build(december(), header=SERIAL_HEADER)
    preview, upload = ledger_upload_create(actor=cast.clerk, enterprise=world.enterprise_a, source=data)
    assert upload is not None and preview.summary() == "新增 2 条，更新 0 条，未变 0 条", preview.error_lines()
    result = ledger_import(source=data, enterprise=world.enterprise_a, actor=cast.clerk)
    assert result.committed and result.summary() == "新增 2 条，更新 0 条，未变 0 条"
    assert Hazard.objects.count() == 4
    after = state()
    for description, record in before.items():  # November's hazards untouched: content, place, dates, 整改情况
        assert after[description] == record
    assert {h.ledger_number for h in Hazard.objects.all()} == {""}


def test_november_carried_over_in_december_by_date_and_content_is_an_update(world: World, cast: Cast) -> None:
    ledger_import(source=build(november(), header=SERIAL_HEADER), enterprise=world.enterprise_a, actor=cast.clerk)
    # December's file lists November's open hazard again (now row 3), with its progress, after two new rows.
    carried = november()[0]
    carried[0], carried[-1] = 3, "已完成一半"
    data = build([*december(), carried], header=SERIAL_HEADER)
    result = ledger_import(source=data, enterprise=world.enterprise_a, actor=cast.clerk)
    assert result.summary() == "新增 2 条，更新 1 条，未变 0 条", result.error_lines()
    assert Hazard.objects.get(description="+320平台边坡有浮石未清理").rectification_note == "已完成一半"
    assert Hazard.objects.count() == 4


def test_the_same_numbers_in_a_numbered_column_update(world: World, cast: Cast) -> None:
    ledger_import(source=build(november("N-1", "N-2"), header=NUMBER_HEADER), enterprise=world.enterprise_a)
    rows = november("N-1", "N-2")
    rows[0][-1] = "已完成一半"  # progress
    rows[1][1] = "炸药库门锁损坏，未上锁"  # the content reworded, same date: still N-2
    result = ledger_import(source=build(rows, header=NUMBER_HEADER), enterprise=world.enterprise_a, actor=cast.clerk)
    assert result.summary() == "新增 0 条，更新 2 条，未变 0 条", result.error_lines()
    assert sorted(Hazard.objects.values_list("ledger_number", "rectification_note")) == [
        ("N-1", "已完成一半"), ("N-2", ""),
    ]  # fmt: skip
    assert Hazard.objects.get(ledger_number="N-2").description == "炸药库门锁损坏，未上锁"


def test_a_number_reused_for_another_hazard_is_an_error_naming_the_registered_one(world: World, cast: Cast) -> None:
    ledger_import(source=build(november("1", "2"), header=NUMBER_HEADER), enterprise=world.enterprise_a)
    before, snapshot_before = counts(), state()
    data = build(december("1", "5"), header=NUMBER_HEADER)  # "1" reused for another hazard; "5" is new
    for result in (
        ledger_validate(source=data, enterprise=world.enterprise_a, actor=cast.clerk),
        ledger_import(source=data, enterprise=world.enterprise_a, actor=cast.clerk),
    ):
        assert not result.committed
        assert result.error_lines() == [
            "第2行 隐患编号：编号“1”在系统中已登记为另一条隐患（2024-11-03发现：“+320平台边坡有浮石未清理”），"
            "与本行的发现日期和隐患内容都不同。编号是隐患的标识，不能用于另一条隐患：如为新隐患，请换一个未用过的编号；"
            "如是同一条隐患，请核对发现日期和隐患内容。"
        ]
    assert counts() == before and state() == snapshot_before
    # Only one of date and content different: the same hazard (a correction), not an error.
    corrected = november("1", "2")
    corrected[0][3] = "2024-11-04"
    result = ledger_import(source=build(corrected, header=NUMBER_HEADER), enterprise=world.enterprise_a)
    assert result.summary() == "新增 0 条，更新 1 条，未变 1 条", result.error_lines()
    assert Hazard.objects.get(ledger_number="1").found_on == datetime.date(2024, 11, 4)


def test_a_number_reused_is_refused_on_every_path(world: World, cast: Cast, tmp_path: Path, settings: Any) -> None:
    """The page, the API and manage.py import_ledger all refuse it, naming the hazard, and write nothing."""
    settings.MEDIA_ROOT = tmp_path / "media"
    ledger_import(source=build(november("1", "2"), header=NUMBER_HEADER), enterprise=world.enterprise_a)
    data = build(december("1", "5"), header=NUMBER_HEADER)
    named = "编号“1”在系统中已登记为另一条隐患"
    page = Client()
    page.force_login(cast.town_a_staff)  # (a login audit row)
    before = counts()
    response = page.post(
        "/hazards/ledger/", {"file": SimpleUploadedFile("12月.xlsx", data), "enterprise": world.enterprise_a.pk}
    )
    assert response.status_code == 400 and named in response.content.decode()

    api = APIClient()
    api.force_authenticate(cast.clerk)
    answer = api.post("/api/v1/ledger-uploads/", {"file": SimpleUploadedFile("12月.xlsx", data)}, format="multipart")
    assert answer.status_code == 400, answer.json()
    assert any(named in error["message"] for error in answer.json()["preview"]["errors"])

    path = tmp_path / "12月.xlsx"
    path.write_bytes(data)
    err = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("import_ledger", str(path), "--enterprise", world.enterprise_a.credit_code, stderr=err)
    assert named in err.getvalue()
    assert counts() == before
