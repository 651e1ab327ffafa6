"""The 隐患台账 importer (hazards.ledger): messy files read right, errors by row and column, all or nothing,
re-uploads that update instead of duplicating, and what a re-upload may not change."""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from hazards.choices import HazardAction, HazardCategory, HazardLevel, HazardSource, HazardStatus, LedgerUploadStatus
from hazards.fingerprint import hazard_fingerprint
from hazards.ledger import ledger_import, ledger_template, ledger_upload_commit, ledger_upload_create, ledger_validate
from hazards.models import Hazard, HazardEvent, LedgerUpload, Notification
from hazards.services import hazard_sign_report
from portal.audit import snapshot
from portal.choices import AuditAction, Industry
from portal.models import AuditEvent
from tests.conftest import Cast, World
from tests.hazards.conftest import open_pit_item
from tests.hazards.ledger_xlsx import HEADER, build, counts, major_row, row, simple, stored_files

pytestmark = [pytest.mark.usefixtures("catalogue"), pytest.mark.django_db]

TODAY = datetime.datetime(2024, 7, 1, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen_today() -> Any:
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def media(tmp_path: Path, settings: Any) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def commit(world: World, data: bytes, actor: Any = None, **kwargs: Any) -> Any:
    return ledger_import(source=data, enterprise=kwargs.pop("enterprise", world.enterprise_a), actor=actor, **kwargs)


# --- a clean ledger ------------------------------------------------------------------------------


def test_clean_ledger_is_previewed_then_committed(world: World, cast: Cast, media: Path) -> None:
    data = simple([row("YH-001"), row("YH-002", "炸药库门锁损坏", category="爆破"), major_row("YH-003")])
    before = counts()
    preview = ledger_validate(source=data, enterprise=world.enterprise_a, actor=cast.clerk, file_name="台账.xlsx")
    assert preview.ok, preview.error_lines()
    assert preview.summary() == "新增 3 条，更新 0 条，未变 0 条"
    assert counts() == before  # a preview writes nothing

    result = commit(world, data, cast.clerk, file_name="台账.xlsx")
    assert result.committed and result.summary() == "新增 3 条，更新 0 条，未变 0 条"
    hazards = {h.ledger_number: h for h in Hazard.objects.filter(enterprise=world.enterprise_a)}
    assert set(hazards) == {"YH-001", "YH-002", "YH-003"}
    general, blasting, major = hazards["YH-001"], hazards["YH-002"], hazards["YH-003"]
    assert (general.level, general.status, general.category) == (HazardLevel.GENERAL, HazardStatus.REPORTED, "slope")
    assert blasting.category == HazardCategory.BLASTING
    # A major hazard from a ledger still waits for the principal's signature.
    assert (major.level, major.status, major.criterion) == (HazardLevel.MAJOR, HazardStatus.DRAFT, open_pit_item(7))
    assert major.criterion_text == "露天矿山第（七）项" and major.signed_by is None
    assert general.funds_wan == Decimal("1.50") and general.deadline == general.current_deadline == datetime.date(
        2024, 6, 30
    )
    assert general.reported_by == cast.clerk and general.source == HazardSource.SELF_CHECK
    assert general.measures == "清理浮石" and general.interim_measures == "设置警戒线"
    # One 台账导入 event and one audit row per hazard, one IMPORT row, the file kept.
    events = HazardEvent.objects.filter(hazard__enterprise=world.enterprise_a)
    assert sorted(events.values_list("action", flat=True)) == [HazardAction.LEDGER_IMPORT] * 3
    assert {e.to_status for e in events} == {HazardStatus.REPORTED, HazardStatus.DRAFT}
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, object_type="事故隐患").count() == 3
    # Each audit row holds the hazard as saved (the same record portal.audit.snapshot makes).
    for hazard in (general, major):
        audit = AuditEvent.objects.get(action=AuditAction.CREATE, object_id=str(hazard.pk))
        assert audit.after == snapshot(hazard) and audit.actor == cast.clerk
    upload = LedgerUpload.objects.get()
    assert (upload.status, upload.created_count, upload.updated_count, upload.unchanged_count) == (
        LedgerUploadStatus.COMMITTED, 3, 0, 0,
    )  # fmt: skip
    assert upload.uploaded_by == cast.clerk and upload.original_name == "台账.xlsx"
    with upload.file.open("rb") as handle:
        assert handle.read() == data
    import hashlib

    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    assert events.first().data["ledger_upload"] == upload.pk
    import_row = AuditEvent.objects.get(action=AuditAction.IMPORT)
    assert "新增 3 条" in import_row.detail and import_row.actor == cast.clerk
    # The principal is told to sign the major hazard.
    assert Notification.objects.filter(recipient=cast.principal, message__contains="确认签字").exists()


# --- messy files ---------------------------------------------------------------------------------


def test_title_rows_merged_cells_header_on_row_5_synonyms_fullwidth_dates_levels_and_footer(
    world: World, cast: Cast
) -> None:
    header = ["序号", "存在问题", "地点", "排查日期", "等级", "类别", "来源", "依据", "整改期限", "责任人", "完成情况"]
    rows = [
        [1, "　边坡　浮石  未清理 ", "＋３２０平台", "2024-05-01", "一般", "边坡", "自查", "", "2024/6/30", "张三", ""],
        [2, "炸药库门锁损坏", "炸药库", "2024/5/2", "一般隐患", "爆破作业", "镇检查", "", "2024.6.30", "李四",
         "已整改"],
        ["３", "运输道路无挡墙", "运输道路", "2024.5.3", "一般事故隐患", "运输", "县局检查", "", "", "", ""],
        [4, "配电室无绝缘垫", "配电室", "2024年5月4日", "一般", "机电", "专家体检", "", "", "", ""],
        [5, "井口无安全护栏", "井口", "２０２４年５月５日", "一般", "安全管理", "", "", "", "", ""],
        [6, "排水泵损坏", "泵房", "20240506", "一般", "防排水", "", "", "", "", ""],
        [7, "采场边坡滑坡", "采场", datetime.date(2024, 5, 7), "重大", "边坡", "", "露天矿山第（七）项", "", "", ""],
        [8, "台阶坡面角超设计", "台阶", datetime.datetime(2024, 5, 8, 9, 30), "重大事故隐患", "边坡", "",
         "二（六）", "", "", ""],
        [9, "未按设计开采", "采场", "2024-05-09", "重大隐患", "管理", "",
         "《金属非金属矿山重大事故隐患判定标准》（矿安〔2022〕88号）露天矿山第（十）项", "", "", ""],
        [10, "边坡监测缺失", "边坡", "2024-05-10", "重大", "边坡", "", "第七项第1目", "", "", ""],
    ]  # fmt: skip
    data = build(
        rows,
        header=header,
        above=[
            ["泽州县示范矿业有限公司隐患排查治理台账"],
            ["填报单位（盖章）：泽州县示范矿业有限公司", None, None, None, None, "填报日期：2024年6月"],
            [],
            ["", "", "", "", "", "", "", "", "", "", ""],
        ],
        below=[
            [],
            [None, None],
            ["填表人：王五", None, "审核人：", None, "主要负责人（签字）："],
            ["备注：本表每月更新"],
        ],
        merges=("A1:K1", "A2:E2", "F2:K2"),
    )
    result = commit(world, data, cast.clerk)
    assert result.committed, result.error_lines()
    assert result.header_row == 5 and result.sheet_title == "隐患台账"
    assert result.summary() == "新增 10 条，更新 0 条，未变 0 条"
    # 序号 is a row counter, never the hazard's number: the rows are told apart by date and content.
    hazards = {str(h.found_on.day): h for h in Hazard.objects.filter(enterprise=world.enterprise_a)}
    assert sorted(hazards, key=int) == [str(n) for n in range(1, 11)]
    assert {h.ledger_number for h in hazards.values()} == {""}
    first = hazards["1"]
    assert first.description == "边坡 浮石 未清理" and first.location == "＋320平台"  # digits folded
    assert [hazards[str(n)].found_on for n in range(1, 11)] == [datetime.date(2024, 5, n) for n in range(1, 11)]
    assert [hazards[str(n)].description for n in (2, 3)] == ["炸药库门锁损坏", "运输道路无挡墙"]
    assert first.deadline == datetime.date(2024, 6, 30) and hazards["2"].deadline == datetime.date(2024, 6, 30)
    assert [hazards[str(n)].level for n in range(1, 11)] == [HazardLevel.GENERAL] * 6 + [HazardLevel.MAJOR] * 4
    assert [hazards[str(n)].category for n in range(1, 7)] == ["slope", "blasting", "transport", "power",
                                                                "management", "water"]  # fmt: skip
    assert [hazards[str(n)].source for n in range(1, 6)] == [
        "self_check", "town_inspection", "county_inspection", "expert_check", "self_check",
    ]  # fmt: skip
    assert hazards["2"].rectification_note == "已整改" and hazards["2"].responsible_person == "李四"
    # Criteria in their usual forms; "第七项" takes the part from the enterprise's industry (露天矿山).
    assert world.enterprise_a.industry == Industry.OPEN_PIT
    assert [hazards[str(n)].criterion.number for n in range(7, 11)] == [7, 6, 10, 7]
    assert {hazards[str(n)].status for n in range(7, 11)} == {HazardStatus.DRAFT}


def test_two_row_header_with_a_merged_five_implementation_group(world: World, cast: Cast) -> None:
    upper = ["编号", "隐患内容", "发现日期", "隐患级别", "五落实", None, None, None, None]
    lower = [None, None, None, None, "整改措施", "责任单位", "责任人", "整改资金（万元）", "应急预案"]
    data = build(
        [lower, ["A-1", "边坡浮石", "2024-05-01", "一般", "清理", "采矿车间", "张三", "3.5万元", "警戒"]],
        header=upper,
        above=[["台账"]],
        merges=("A2:A3", "B2:B3", "C2:C3", "D2:D3", "E2:I2"),
    )
    result = commit(world, data, cast.clerk)
    assert result.committed, result.error_lines()
    hazard = Hazard.objects.get()
    assert (hazard.measures, hazard.responsible_unit, hazard.funds_wan, hazard.interim_measures) == (
        "清理", "采矿车间", Decimal("3.50"), "警戒",
    )  # fmt: skip


def test_industry_decides_the_part_for_a_bare_item_number(world: World, cast: Cast) -> None:
    # 高都镇铁矿 is an underground mine: "第七项" is 地下矿山 (七), "二（七）" stays 露天矿山.
    data = simple([major_row("M-1", "第七项"), major_row("M-2", "二（七）", description="另一条")])
    result = commit(world, data, cast.county_staff, enterprise=world.enterprise_b)
    assert result.committed, result.error_lines()
    by_number = {h.ledger_number: h.criterion for h in Hazard.objects.all()}
    assert (by_number["M-1"].mine_type, by_number["M-1"].number) == ("underground", 7)
    assert (by_number["M-2"].mine_type, by_number["M-2"].number) == ("open_pit", 7)


# --- errors ---------------------------------------------------------------------------------------


def test_every_error_by_row_and_column_in_chinese(world: World, cast: Cast) -> None:
    rows = [
        row("E-1", found_on="2024-13-01"),
        row("E-2", found_on="2024-08-01", deadline="2024-09-01"),  # after "today" (2024-07-01)
        row("E-3", level="较大"),
        row("E-4", deadline="2024-04-01"),
        row("E-5", funds=-2),
        row("E-6", category="天气"),
        row("E-7", source="路过发现"),
        major_row("E-8", criterion=""),
        major_row("E-9", criterion="露天矿山第（二十）项", description="第九条"),
        major_row("E-10", criterion="地下矿山露天矿山第（七）项", description="第十条"),
        major_row("E-11", criterion="随便写的", description="第十一条"),
        row("E-12", description=""),
        row("E-13", found_on=""),
        row("E-14", description="一条合格的隐患"),
        row("E-14", description="与上一行编号相同"),
    ]
    result = commit(world, simple(rows), cast.clerk)
    assert not result.committed
    lines = result.error_lines()
    expected = [
        "第2行 发现日期：日期不存在：“2024-13-01”。",
        "第3行 发现日期：发现日期不能晚于今天（2024-07-01）。",
        "第4行 隐患级别：“较大”不是有效的隐患级别，应为：一般、重大（或一般事故隐患、重大事故隐患）。",
        "第5行 整改时限：整改时限（2024-04-01）不能早于发现日期（2024-05-01）。",
        "第6行 整改资金（万元）：不能小于 0：“-2”。",
        "第7行 隐患类别：“天气”不是有效的隐患类别，应为：",
        "第8行 隐患来源：“路过发现”不是有效的隐患来源，应为：",
        "第9行 判定依据：重大事故隐患必须填写判定依据（矿安〔2022〕88号的条目，如“露天矿山第（七）项”或“二（七）”）。",
        "第10行 判定依据：矿安〔2022〕88号露天矿山部分共13项，没有第（二十）项。",
        "第11行 判定依据：同时写了多种矿山类型（露天矿山、地下矿山），无法确定判定依据。",
        "第12行 判定依据：未能从“随便写的”中识别出条目编号",
        "第13行 隐患内容：必填，不能为空。",
        "第14行 发现日期：必填，不能为空。",
        "第16行 隐患编号：与第15行的编号相同，是同一条隐患，请删除重复行。",
    ]
    for line in expected:
        assert any(text.startswith(line) for text in lines), (line, lines)
    assert len(lines) == len(expected), lines


def test_one_bad_row_writes_nothing(world: World, cast: Cast, media: Path) -> None:
    rows = [row(f"OK-{n}", f"合格的隐患{n}") for n in range(5)] + [major_row("BAD", criterion="露天矿山第（九十）项")]
    before, files = counts(), stored_files(media)
    result = commit(world, simple(rows), cast.clerk)
    assert not result.committed and len(result.errors) == 1
    assert result.error_lines()[0].startswith("第7行 判定依据：")
    assert counts() == before and stored_files(media) == files


def test_an_amount_column_in_yuan_is_refused(world: World, cast: Cast) -> None:
    header = [*HEADER[:12], "整改资金（元）", *HEADER[13:]]
    result = commit(world, build([row()], header=header), cast.clerk)
    assert result.error_lines() == [
        "第1行 整改资金（元）：整改资金须以万元为单位填写：请将表头改为“整改资金（万元）”并换算金额后重新上传。"
    ]


def test_header_not_found_and_empty_ledger_are_file_errors(world: World, cast: Cast) -> None:
    missing = commit(world, build([["x", "y"]], header=["编号", "部位"]), cast.clerk)
    assert "未找到表头" in missing.error_lines()[0] and "隐患内容" in missing.error_lines()[0]
    empty = commit(world, build([], below=[["填表人：张三"]]), cast.clerk)
    assert empty.error_lines() == ["表格中没有数据行：请在表头下方逐行填写隐患。"]


def test_a_major_row_in_a_file_without_a_criterion_column(world: World, cast: Cast) -> None:
    header = ["编号", "隐患内容", "发现日期", "隐患级别"]
    result = commit(world, build([["M", "边坡滑坡", "2024-05-01", "重大"]], header=header), cast.clerk)
    assert result.error_lines() == [
        "第2行 判定依据：重大事故隐患必须写明判定依据，但表格中没有“判定依据”列：请增加该列并填写"
        "（如“露天矿山第（七）项”或“二（七）”）。"
    ]


def test_formula_cells_are_stored_as_text_and_neutralised_in_the_template(world: World, cast: Cast) -> None:
    formula = '=HYPERLINK("http://evil.example","点我")'
    result = commit(world, simple([row("F-1", formula, location="=1+2")]), cast.clerk)
    assert result.committed, result.error_lines()
    hazard = Hazard.objects.get()
    assert (hazard.description, hazard.location) == (formula, "=1+2")
    # The ledger downloaded back (the template with the enterprise's hazards) neutralises them again.
    sheet = load_workbook(ledger_template(user=cast.clerk, enterprise=world.enterprise_a)).active
    cells = [cell for line in sheet.iter_rows() for cell in line if cell.value == "'" + formula]
    assert cells and cells[0].data_type == "s"
    assert not any(str(cell.value).startswith("=") for line in sheet.iter_rows() for cell in line if cell.value)


# --- re-uploads -------------------------------------------------------------------------------------


def test_reupload_is_idempotent_and_a_changed_row_is_one_update(world: World, cast: Cast) -> None:
    rows = [row(f"R-{n}", f"隐患{n}") for n in range(4)] + [major_row("R-9")]
    assert commit(world, simple(rows), cast.clerk).summary() == "新增 5 条，更新 0 条，未变 0 条"
    ids = set(Hazard.objects.values_list("pk", flat=True))

    again = commit(world, simple(rows), cast.clerk)
    assert again.committed and again.summary() == "新增 0 条，更新 0 条，未变 5 条"
    assert set(Hazard.objects.values_list("pk", flat=True)) == ids
    assert HazardEvent.objects.count() == 5  # nothing recorded for unchanged rows

    rows[1] = row("R-1", "隐患1", measures="削坡减载", funds="2.8", note="整改中")
    changed = commit(world, simple(rows), cast.clerk)
    assert changed.summary() == "新增 0 条，更新 1 条，未变 4 条"
    update = next(r for r in changed.rows if r.action == "update")
    assert update.row == 3
    assert update.changes == {
        "整改措施": ("清理浮石", "削坡减载"),
        "整改资金（万元）": ("1.50", "2.80"),
        "整改情况": ("", "整改中"),
    }
    hazard = Hazard.objects.get(ledger_number="R-1")
    assert (hazard.measures, hazard.funds_wan, hazard.rectification_note) == ("削坡减载", Decimal("2.80"), "整改中")
    event = HazardEvent.objects.filter(hazard=hazard).order_by("-id").first()
    assert event.action == HazardAction.UPDATE
    assert event.data["fields"] == ["funds_wan", "measures", "rectification_note"]
    assert set(Hazard.objects.values_list("pk", flat=True)) == ids  # never a duplicate
    assert LedgerUpload.objects.filter(status=LedgerUploadStatus.COMMITTED).count() == 3


def test_identity_without_numbers_is_date_and_normalised_description(world: World, cast: Cast) -> None:
    header = ["隐患内容", "发现日期", "隐患级别", "整改措施"]
    first = build([["边坡浮石未清理。", "2024-05-01", "一般", "清理"]], header=header)
    assert commit(world, first, cast.clerk).summary() == "新增 1 条，更新 0 条，未变 0 条"
    # Spaces and a final full stop do not make another hazard: the same one gets the new wording.
    same = build([["边坡 浮石　未清理", "2024年5月1日", "一般隐患", "清理"]], header=header)
    result = commit(world, same, cast.clerk)
    assert result.summary() == "新增 0 条，更新 1 条，未变 0 条"
    assert result.rows[0].changes == {"隐患内容": ("边坡浮石未清理。", "边坡 浮石 未清理")}
    assert commit(world, same, cast.clerk).summary() == "新增 0 条，更新 0 条，未变 1 条"
    # A different date is another hazard.
    other = build([["边坡浮石未清理", "2024-05-02", "一般", "清理"]], header=header)
    assert commit(world, other, cast.clerk).summary() == "新增 1 条，更新 0 条，未变 0 条"
    assert Hazard.objects.count() == 2


def test_numbers_added_later_update_the_same_hazards(world: World, cast: Cast) -> None:
    header = ["隐患内容", "发现日期", "隐患级别"]
    commit(world, build([["边坡浮石", "2024-05-01", "一般"], ["炸药库门锁", "2024-05-02", "一般"]], header=header))
    numbered = simple([row("N-1", "边坡浮石"), row("N-2", "炸药库门锁", found_on="2024-05-02")])
    result = commit(world, numbered, cast.clerk)
    assert result.summary() == "新增 0 条，更新 2 条，未变 0 条", result.error_lines()
    assert sorted(Hazard.objects.values_list("ledger_number", flat=True)) == ["N-1", "N-2"]
    # …and a file without the number column still finds them by date and description.
    again = commit(world, build([["边坡浮石", "2024-05-01", "一般"]], header=header), cast.clerk)
    assert again.summary() == "新增 0 条，更新 0 条，未变 1 条"
    assert Hazard.objects.count() == 2


def test_a_blank_cell_never_clears_and_absent_columns_are_kept(world: World, cast: Cast) -> None:
    commit(world, simple([row("B-1", measures="清理浮石", note="整改中")]), cast.clerk)
    blank = row("B-1", measures="", unit="", note="")
    assert commit(world, simple([blank]), cast.clerk).summary() == "新增 0 条，更新 0 条，未变 1 条"
    narrow = build([["B-1", "+320平台边坡有浮石未清理", "2024-05-01", "一般"]], header=["编号", "隐患内容",
                                                                                "发现日期", "级别"])  # fmt: skip
    assert commit(world, narrow, cast.clerk).summary() == "新增 0 条，更新 0 条，未变 1 条"
    hazard = Hazard.objects.get()
    assert (hazard.measures, hazard.responsible_unit, hazard.rectification_note) == ("清理浮石", "采矿车间", "整改中")


def test_duplicate_rows_and_two_rows_for_one_hazard_are_errors(world: World, cast: Cast) -> None:
    commit(world, simple([row("D-1", "边坡浮石")]), cast.clerk)
    header = ["隐患内容", "发现日期", "隐患级别"]
    result = commit(world, build([["边坡浮石", "2024-05-01", "一般"], ["边坡 浮石", "2024-05-01", "一般"]],
                                 header=header), cast.clerk)  # fmt: skip
    assert result.error_lines() == ["第3行 隐患内容：与第2行的发现日期和隐患内容相同，是同一条隐患，请删除重复行。"]


# --- what a re-upload may not change -------------------------------------------------------------------


def test_signed_major_hazard_keeps_what_was_signed_but_five_implementations_update(world: World, cast: Cast) -> None:
    commit(world, simple([major_row("S-1")]), cast.clerk)
    hazard = Hazard.objects.get()
    hazard_sign_report(actor=cast.principal, hazard=hazard, fingerprint=hazard_fingerprint(hazard))
    before = counts()

    rewritten = major_row("S-1", description="改写后的内容", location="另一个平台", criterion="二（六）")
    result = commit(world, simple([rewritten]), cast.clerk)
    assert not result.committed
    reason = "该重大事故隐患已由主要负责人签字上报（当前状态：待镇确认），此项不能通过台账修改"
    assert {line.split("：", 1)[0] for line in result.error_lines()} == {
        "第2行 隐患内容", "第2行 隐患部位", "第2行 判定依据",
    }  # fmt: skip
    assert all(reason in line for line in result.error_lines())
    assert counts() == before

    # The same item written another way is no change; the 五落实 and the progress may be updated.
    completed = major_row("S-1", criterion="二（七）", measures="削坡减载", funds=20, note="已完成削坡50%")
    result = commit(world, simple([completed]), cast.clerk)
    assert result.summary() == "新增 0 条，更新 1 条，未变 0 条", result.error_lines()
    hazard.refresh_from_db()
    assert (hazard.status, hazard.measures, hazard.funds_wan) == (HazardStatus.PENDING_TOWN, "削坡减载", Decimal("20"))
    assert hazard.criterion_text == "露天矿山第（七）项"  # what was signed


def test_a_draft_major_hazard_may_still_be_rewritten(world: World, cast: Cast) -> None:
    commit(world, simple([major_row("D-1")]), cast.clerk)
    result = commit(world, simple([major_row("D-1", description="改写", criterion="二（六）")]), cast.clerk)
    assert result.summary() == "新增 0 条，更新 1 条，未变 0 条", result.error_lines()
    hazard = Hazard.objects.get()
    assert (hazard.description, hazard.criterion.number, hazard.criterion_text) == ("改写", 6, "二（六）")


def test_the_level_never_changes_through_a_ledger(world: World, cast: Cast) -> None:
    commit(world, simple([row("L-1")]), cast.clerk)
    result = commit(world, simple([major_row("L-1", description="+320平台边坡有浮石未清理")]), cast.clerk)
    assert result.error_lines() == [
        "第2行 隐患级别：该隐患已登记为一般事故隐患，台账中为重大事故隐患；"
        "隐患级别不能通过台账修改，如需更正请联系管理员。"
    ]


def test_a_closed_hazard_changes_only_by_an_admin(world: World, cast: Cast) -> None:
    commit(world, simple([row("C-1", "已验收的隐患")]), cast.clerk)
    Hazard.objects.update(status=HazardStatus.VERIFIED)
    unchanged = commit(world, simple([row("C-1", "已验收的隐患")]), cast.clerk)
    assert unchanged.summary() == "新增 0 条，更新 0 条，未变 1 条"
    result = commit(world, simple([row("C-1", "已验收的隐患", measures="新的措施")]), cast.clerk)
    assert result.error_lines() == [
        "第2行 整改措施：该隐患已验收，不能通过台账修改；已办结的隐患只能由管理员更正并说明理由。"
    ]


def test_commit_revalidates_the_stored_file(world: World, cast: Cast, media: Path) -> None:
    commit(world, simple([major_row("V-1")]), cast.clerk)
    data = simple([major_row("V-1", description="预览时还可以改")])
    preview, upload = ledger_upload_create(actor=cast.clerk, enterprise=world.enterprise_a, source=data, file_name="a")
    assert preview.ok and upload is not None and upload.status == LedgerUploadStatus.PENDING
    assert preview.summary() == "新增 0 条，更新 1 条，未变 0 条"
    shown = Hazard.objects.get()
    hazard_sign_report(actor=cast.principal, hazard=shown, fingerprint=hazard_fingerprint(shown))  # meanwhile, signed
    before = counts()
    result = ledger_upload_commit(actor=cast.clerk, upload=upload)
    assert not result.committed and "不能通过台账修改" in result.error_lines()[0]
    upload.refresh_from_db()
    assert upload.status == LedgerUploadStatus.FAILED and upload.error_count == 1
    assert counts()[:2] == before[:2]  # no hazard, no event written
    assert Hazard.objects.get().description == "采场边坡出现滑坡迹象未采取措施"


def test_template_round_trip_is_all_unchanged(world: World, cast: Cast) -> None:
    rows = [row("T-1", note="整改中"), row("T-2", "炸药库门锁损坏", category="爆破", funds=None), major_row("T-3")]
    commit(world, simple(rows), cast.clerk)
    template = ledger_template(user=cast.clerk, enterprise=world.enterprise_a).read()
    result = commit(world, template, cast.clerk)
    assert result.summary() == "新增 0 条，更新 0 条，未变 3 条", result.error_lines()
    blank = load_workbook(io.BytesIO(ledger_template().read()))
    headers = [cell.value for cell in blank.active[2]][:5]
    assert headers == ["隐患编号", "*隐患内容", "隐患部位", "*发现日期", "*隐患级别"]
    assert "填写说明" in blank.sheetnames


# --- notifications and bulk writes ------------------------------------------------------------------


def test_a_town_uploading_on_behalf_tells_the_enterprise(world: World, cast: Cast) -> None:
    result = commit(world, simple([row("W-1")]), cast.town_a_staff)
    assert result.committed
    hazard = Hazard.objects.get()
    assert hazard.reported_by == cast.town_a_staff and hazard.status == HazardStatus.REPORTED
    notified = set(Notification.objects.filter(message__contains="代为上传").values_list("recipient", flat=True))
    assert notified == {cast.clerk.pk, cast.principal.pk}


def _queries(world: World, cast: Cast, data: bytes) -> list[str]:
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        assert commit(world, data, cast.clerk).committed
    return [query["sql"] for query in captured.captured_queries]


def test_commit_query_count_does_not_grow_with_rows(world: World, cast: Cast) -> None:
    few = _queries(world, cast, simple([row(f"Q-{n}", f"隐患{n}") for n in range(3)]))
    many = _queries(world, cast, simple([row(f"Q-{n}", f"隐患{n}") for n in range(100, 160)]))

    def shape(queries: list[str]) -> list[str]:
        # Savepoint names differ; SQLite's executemany is logged as "N times: INSERT …".
        return [re.sub(r'"s\d+_x\d+"|^\d+ times: ', "", sql)[:40] for sql in queries]

    assert shape(many) == shape(few)


def test_bulk_writes_are_batched(world: World, cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hazards.ledger.BATCH_SIZE", 7)
    result = commit(world, simple([row(f"B-{n}", f"隐患{n}") for n in range(20)]), cast.clerk)
    assert result.committed and Hazard.objects.count() == 20 and HazardEvent.objects.count() == 20


def test_an_oversize_file_is_a_file_error_of_the_service(world: World, cast: Cast, settings: Any) -> None:
    settings.UPLOAD_MAX_BYTES = 1000
    before = counts()
    result = commit(world, simple([row()]), cast.clerk)
    assert not result.committed and result.error_lines()[0].startswith("文件过大")
    preview, upload = ledger_upload_create(actor=cast.clerk, enterprise=world.enterprise_a, source=simple([row()]))
    assert upload is None and preview.error_lines()[0].startswith("文件过大")
    assert counts() == before
