"""Importing a town's existing enforcement records from Excel: preview, all or nothing, no duplicates."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.test import Client
from openpyxl import Workbook

from inspections.imports import enforcement_import_commit, enforcement_import_validate
from inspections.models import EnforcementRecord
from portal.models import AuditEvent
from tests.conftest import Cast, World

HEADER = ["序号", "处理类型", "日期", "企业名称", "姓名", "罚款金额（万元）", "文书编号", "事由"]


def _xlsx(rows: list[list[object]], *, title: bool = True) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    if title:
        sheet.append(["巴公镇非煤矿山执法与追责问责台账"])
        sheet.merge_cells("A1:H1")
        sheet.append(["填报单位：巴公镇应急管理中心"])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    sheet.append(["填表人：张三"])
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def _good_rows(world: World) -> list[list[object]]:
    return [
        [
            1,
            "行政处罚",
            "2024年5月10日",
            world.enterprise_a.name,
            "",
            "3.5万元",
            "泽巴应急罚〔2024〕1号",
            "未按设计开采",
        ],
        [2, "约谈企业主要负责人", "2024/5/12", world.enterprise_a.credit_code, "王建国", "", "", ""],
        [3, "责令限期整改", "2024.5.20", world.enterprise_a2.name, "", "", "泽巴应急责改〔2024〕7号", ""],
        [4, "停产整顿", "2024-05-21", "巴公镇第二石料厂", "", "", "", "重大事故隐患"],
    ]


def test_valid_file_previews_then_commits_everything(cast: Cast, world: World) -> None:
    data = _xlsx(_good_rows(world))
    preview = enforcement_import_validate(source=data, actor=cast.town_a_staff, file_name="台账.xlsx")
    assert preview.ok, preview.error_lines()
    assert preview.header_row == 3 and preview.created == 4
    assert EnforcementRecord.objects.count() == 0  # the preview writes nothing
    result = enforcement_import_commit(source=data, actor=cast.town_a_staff, file_name="台账.xlsx")
    assert result.committed and result.summary() == "新增 4 条，更新 0 条，未变 0 条"
    penalty = EnforcementRecord.objects.get(kind="penalty_enterprise")
    assert penalty.amount == Decimal("3.50") and penalty.issuing_unit == world.town_a
    assert EnforcementRecord.objects.get(kind="interview_principal").person_name == "王建国"
    assert AuditEvent.objects.filter(action="create", object_type="执法与追责问责记录").count() == 4
    assert AuditEvent.objects.filter(action="import", actor=cast.town_a_staff).count() == 1

    # The same file again: nothing new. A changed amount: an update of the same record.
    again = enforcement_import_commit(source=data, actor=cast.town_a_staff)
    assert again.summary() == "新增 0 条，更新 0 条，未变 4 条"
    rows = _good_rows(world)
    rows[0][5] = 4
    changed = enforcement_import_commit(source=_xlsx(rows), actor=cast.town_a_staff)
    assert changed.summary() == "新增 0 条，更新 1 条，未变 3 条"
    assert EnforcementRecord.objects.count() == 4
    assert EnforcementRecord.objects.get(kind="penalty_enterprise").amount == Decimal("4.00")


@pytest.mark.parametrize(
    ("bad_row", "column", "fragment"),
    [
        (["x", "吃饭", "2024-05-01", "泽州县示范矿业有限公司", "", "", "", ""], "处理类型", "不是有效的选项"),
        (["x", "行政处罚", "2024-05-01", "泽州县示范矿业有限公司", "", "", "", ""], "罚款金额", "罚款金额"),
        (["x", "停产整顿", "2024-13-01", "泽州县示范矿业有限公司", "", "", "", ""], "日期", "日期不存在"),
        (["x", "停产整顿", "2024-05-01", "高都镇铁矿有限公司", "", "", "", ""], "企业名称", "不是本辖区"),
        (["x", "解聘", "2024-05-01", "泽州县示范矿业有限公司", "", "", "", ""], "姓名", "须填写对象人员姓名"),
        (["x", "停产整顿", "", "泽州县示范矿业有限公司", "", "", "", ""], "日期", "必填"),
    ],
)
def test_any_error_writes_nothing(cast: Cast, world: World, bad_row: list, column: str, fragment: str) -> None:
    rows = [*_good_rows(world), bad_row]
    data = _xlsx(rows)
    result = enforcement_import_commit(source=data, actor=cast.town_a_staff)
    assert not result.committed
    assert EnforcementRecord.objects.count() == 0
    lines = result.error_lines()
    assert any(line.startswith("第8行") and column in line and fragment in line for line in lines), lines


def test_duplicate_rows_in_one_file_are_refused(cast: Cast, world: World) -> None:
    rows = _good_rows(world)
    rows.append(list(rows[0]))
    result = enforcement_import_validate(source=_xlsx(rows), actor=cast.town_a_staff)
    assert any("与第4行是同一条记录" in line for line in result.error_lines())


def test_not_an_excel_file_is_refused_in_chinese(cast: Cast) -> None:
    result = enforcement_import_validate(source=b"%PDF-1.4 hello", actor=cast.town_a_staff)
    assert not result.ok and "PDF" in result.error_lines()[0]


def test_the_page_previews_and_commits(cast: Cast, world: World) -> None:
    client = Client()
    client.force_login(cast.town_a_staff)
    assert client.get("/inspections/enforcement/import/").status_code == 200
    template = client.get("/inspections/enforcement/import/?template=1")
    assert template.status_code == 200 and template["Content-Disposition"].startswith("attachment")
    upload = io.BytesIO(_xlsx(_good_rows(world)))
    upload.name = "台账.xlsx"
    preview = client.post("/inspections/enforcement/import/", {"file": upload})
    assert preview.status_code == 200
    body = preview.content.decode()
    assert "新增 4 条" in body
    token = preview.context["token"]
    assert EnforcementRecord.objects.count() == 0
    done = client.post("/inspections/enforcement/import/", {"action": "commit", "token": token})
    assert done.status_code == 302 and EnforcementRecord.objects.count() == 4
    # Another user cannot commit with this token.
    other = Client()
    other.force_login(cast.town_b_staff)
    assert other.post("/inspections/enforcement/import/", {"action": "commit", "token": token}).status_code == 400


@pytest.mark.parametrize("member", ["clerk", "principal", "county_leader", "city_viewer", "admin"])
def test_only_field_staff_import(cast: Cast, member: str) -> None:
    client = Client()
    client.force_login(getattr(cast, member))
    assert client.get("/inspections/enforcement/import/").status_code == 403


def test_the_command(cast: Cast, world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from django.core.management import call_command

    good = tmp_path / "good.xlsx"
    good.write_bytes(_xlsx(_good_rows(world)))
    out = io.StringIO()
    call_command("import_enforcement", str(good), "--user", "town_a", "--dry-run", stdout=out)
    assert out.getvalue().strip() == "新增 4 条，更新 0 条，未变 0 条" and not EnforcementRecord.objects.exists()
    call_command("import_enforcement", str(good), "--user", "town_a", stdout=io.StringIO())
    assert EnforcementRecord.objects.count() == 4
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(_xlsx([["x", "吃饭", "2024-05-01", world.enterprise_a.name, "", "", "", ""]]))
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_enforcement", str(bad), "--user", "town_a", stderr=err)
    assert exit_info.value.code == 1 and err.getvalue().startswith("第4行 处理类型：")
    assert EnforcementRecord.objects.count() == 4
