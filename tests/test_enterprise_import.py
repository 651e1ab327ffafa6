"""Enterprise directory import: messy files read, every error by row and column, all rows or none."""

from __future__ import annotations

import datetime
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook, load_workbook

from portal.choices import AuditAction, Industry, ProductionStatus, RiskGrade
from portal.imports import enterprise_import_commit, enterprise_import_validate
from portal.models import AuditEvent, Enterprise
from tests.conftest import Cast, World
from tests.factories import EnterpriseFactory, ParentCompanyFactory, make_credit_code

HEADER = ["序号", "企业名称", "统一社会信用代码", "所在镇", "行业类别", "生产状态"]


def code(n: int) -> str:
    return make_credit_code(70000 + n)


def workbook_bytes(rows: list[list[Any]], *, merges: tuple[str, ...] = ()) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for cells in merges:
        sheet.merge_cells(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def simple_file(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    return workbook_bytes([header, *rows])


def good_rows(count: int, start: int = 0, town: str = "巴公镇") -> list[list[Any]]:
    return [
        [i + 1, f"导入测试矿业{start + i}有限公司", code(start + i), town, "露天矿山", "正常生产"] for i in range(count)
    ]


def fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalnum() else ch for ch in text)


@pytest.fixture(autouse=True)
def media(tmp_path: Path, settings: Any) -> Path:
    """A MEDIA_ROOT of our own, so that stored uploads can be counted."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def counts() -> tuple[int, int]:
    return Enterprise.objects.count(), AuditEvent.objects.count()


# --- the service --------------------------------------------------------------------------------


def test_messy_file_is_read_previewed_and_committed(world: World, cast: Cast) -> None:
    parent = ParentCompanyFactory(name="晋城示范集团有限公司", region=world.county)
    data = workbook_bytes(
        [
            ["泽州县非煤矿山企业名录（2024年）"],
            ["填报单位：泽州县应急管理局", None, None, None, "填报日期：2024年5月"],
            [],
            [
                "序 号",
                "＊单位名称\n（全称）",
                "社会信用代码",
                "所属乡镇",
                "行业",
                "生产经营状态",
                "上级企业",
                "风险等级",
                "许可证有效期",
                "联系电话",
            ],
            [
                1,
                "  新矿业　有限公司 ",
                fullwidth(code(1)),
                "巴公镇",
                "露天",
                "生产",
                "",
                "Ｂ级",
                "2026年12月31日",
                13800001234,
            ],
            [],
            [
                2,
                "高都新石料厂",
                code(2).lower(),
                "140525107",
                "采石场",
                "在建",
                "晋城示范集团有限公司",
                "",
                "2027/1/5",
                "",
            ],
            [
                3,
                world.enterprise_a.name,
                world.enterprise_a.credit_code,
                "巴公",
                "金属非金属露天矿山",
                "停产",
                "",
                "A",
                "",
                "",
            ],
            [None, None, "   "],
            ["填表人：张三", None, None, "审核人：李四"],
            ["主要负责人（签字）："],
            ["备注：本表由县局填报"],
        ],
        merges=("A1:J1", "A2:D2"),
    )
    before = counts()
    preview = enterprise_import_validate(source=data, user=cast.county_staff, file_name="名录.xlsx")
    assert preview.ok, preview.error_lines()
    assert preview.header_row == 4
    assert [(row.row, row.action) for row in preview.rows] == [(5, "create"), (7, "create"), (8, "update")]
    assert preview.rows[2].changes["生产状态"] == ("正常生产", "停产")
    assert counts() == before  # the preview writes nothing

    result = enterprise_import_commit(source=data, user=cast.county_staff, file_name="名录.xlsx")
    assert result.committed
    assert result.summary() == "新增 2 条，更新 1 条，未变 0 条"
    created = Enterprise.objects.get(credit_code=code(1))
    assert created.name == "新矿业 有限公司"
    assert created.town == world.town_a
    assert created.industry == Industry.OPEN_PIT
    assert created.risk_grade == RiskGrade.B
    assert created.license_expiry == datetime.date(2026, 12, 31)
    assert created.contact_phone == "13800001234"
    second = Enterprise.objects.get(credit_code=code(2))
    assert (second.town, second.industry, second.production_status) == (
        world.town_b,
        Industry.QUARRY,
        ProductionStatus.BUILDING,
    )
    assert second.parent_company == parent
    assert second.license_expiry == datetime.date(2027, 1, 5)
    world.enterprise_a.refresh_from_db()
    assert world.enterprise_a.production_status == ProductionStatus.SUSPENDED
    assert world.enterprise_a.risk_grade == RiskGrade.A

    events = AuditEvent.objects.filter(pk__gt=0).order_by("id")
    new_events = list(events)[before[1] :]
    assert sorted(e.action for e in new_events) == sorted(
        [AuditAction.CREATE, AuditAction.CREATE, AuditAction.UPDATE, AuditAction.IMPORT]
    )
    update = next(e for e in new_events if e.action == AuditAction.UPDATE)
    assert update.before["production_status"] == "producing"
    assert update.after["production_status"] == "suspended"
    assert update.actor == cast.county_staff
    assert update.region_path == world.town_a.path
    assert "第8行" in update.detail
    summary = next(e for e in new_events if e.action == AuditAction.IMPORT)
    assert "新增 2 条，更新 1 条" in summary.detail
    assert summary.region_path == world.county.path


def test_one_bad_row_writes_nothing(world: World, cast: Cast) -> None:
    rows = good_rows(3)
    bad = code(99)[:-1] + ("0" if code(99)[-1] != "0" else "1")  # wrong check digit
    rows.append([4, "校验码错误矿业", bad, "巴公镇", "露天矿山", "正常生产"])
    rows.append([5, world.enterprise_b.name, world.enterprise_b.credit_code, "高都镇", "地下矿山", "停产"])
    before = counts()
    result = enterprise_import_commit(source=simple_file(rows), user=cast.admin)
    assert not result.committed
    assert counts() == before
    assert result.error_lines() == [
        f"第5行 统一社会信用代码：统一社会信用代码校验码错误：第18位应为 {code(99)[-1]}，实为 {bad[-1]}。"
    ]
    world.enterprise_b.refresh_from_db()
    assert world.enterprise_b.production_status == ProductionStatus.BUILDING


def test_every_error_is_reported_by_row_and_column(world: World, cast: Cast) -> None:
    ParentCompanyFactory(name="外县集团有限公司", region=world.other_county)
    header = [*HEADER, "上级企业", "许可证有效期至", "联系电话"]
    rows = [
        [1, "甲", code(1), "巴公镇", "露天矿山", "正常生产", "", "", ""],
        [2, "乙（重复代码）", code(1), "巴公镇", "露天矿山", "正常生产", "", "", ""],
        [3, "外县已登记", world.enterprise_other.credit_code, "巴公镇", "露天矿山", "正常生产", "", "", ""],
        [4, "外县的镇", code(4), "韩店镇", "露天矿山", "正常生产", "", "", ""],
        [5, "不存在的镇", code(5), "火星镇", "露天矿山", "正常生产", "", "", ""],
        [6, "行业写错", code(6), "巴公镇", "煤矿", "正常生产", "", "", ""],
        [7, "上级企业未登记", code(7), "巴公镇", "露天矿山", "正常生产", "不存在集团", "", ""],
        [8, "上级企业在外县", code(8), "巴公镇", "露天矿山", "正常生产", "外县集团有限公司", "", ""],
        [9, "", code(9), "", "露天矿山", "", "", "", ""],
        [10, "日期写错", code(10), "巴公镇", "露天矿山", "正常生产", "", "2024年13月1日", ""],
        [11, "名" * 201, code(11), "巴公镇", "露天矿山", "正常生产", "", "", ""],
        [12, "打码电话", code(12), "巴公镇", "露天矿山", "正常生产", "", "", "138****1234"],
        [13, "代码太短", "91140525", "巴公镇", "露天矿山", "正常生产", "", "", ""],
    ]
    before = counts()
    result = enterprise_import_commit(source=simple_file(rows, header), user=cast.county_staff)
    assert not result.committed
    assert counts() == before
    lines = result.error_lines()
    expected_prefixes = [
        "第3行 统一社会信用代码：与第2行的统一社会信用代码重复。",
        "第4行 统一社会信用代码：该统一社会信用代码已由您辖区以外的企业登记",
        "第5行 所在镇：“韩店镇”不是您辖区内的镇/乡",
        "第6行 所在镇：“火星镇”不是您辖区内的镇/乡",
        "第7行 行业类别：“煤矿”不是有效的选项，应为：金属非金属地下矿山、",
        "第8行 上级企业：上级企业“不存在集团”尚未登记或不在您的辖区",
        "第9行 上级企业：上级企业“外县集团有限公司”尚未登记或不在您的辖区",
        "第10行 企业名称：必填，不能为空。",
        "第10行 所在镇：必填，不能为空。",
        "第10行 生产状态：必填，不能为空。",
        "第11行 许可证有效期至：日期不存在：“2024年13月1日”。",
        "第12行 企业名称：",
        "第13行 联系电话：含有 * 号",
        "第14行 统一社会信用代码：统一社会信用代码应为18位，当前为8位。",
    ]
    for prefix in expected_prefixes:
        assert any(line.startswith(prefix) for line in lines), (prefix, lines)
    assert len(lines) == len(expected_prefixes), lines
    assert not any(line.startswith("第2行") for line in lines)


def test_header_not_found_and_empty_file_are_file_errors(world: World, cast: Cast) -> None:
    result = enterprise_import_validate(source=workbook_bytes([["企业名称", "地址"], ["甲", "x"]]), user=cast.admin)
    assert not result.ok
    assert result.error_lines()[0].startswith("未找到表头")
    assert "统一社会信用代码" in result.error_lines()[0]
    empty = enterprise_import_validate(source=simple_file([["填表人：张三"]]), user=cast.admin)
    assert empty.error_lines() == ["表格中没有数据行：请在表头下方逐行填写企业。"]


def test_hostile_file_changes_nothing(world: World, cast: Cast) -> None:
    before = counts()
    result = enterprise_import_commit(source=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, user=cast.admin)
    assert not result.committed
    assert "旧版 Excel（.xls）" in result.error_lines()[0]
    assert counts() == before


def test_formula_cells_are_stored_as_text(world: World, cast: Cast) -> None:
    rows = [[1, '=HYPERLINK("http://evil.example","点我")', code(1), "巴公镇", "露天矿山", "正常生产"]]
    result = enterprise_import_commit(source=simple_file(rows), user=cast.admin)
    assert result.committed, result.error_lines()
    assert Enterprise.objects.get(credit_code=code(1)).name == '=HYPERLINK("http://evil.example","点我")'


def test_reimport_is_idempotent(world: World, cast: Cast) -> None:
    data = simple_file(good_rows(3))
    assert enterprise_import_commit(source=data, user=cast.admin).summary() == "新增 3 条，更新 0 条，未变 0 条"
    before = counts()
    again = enterprise_import_commit(source=data, user=cast.admin)
    assert again.committed
    assert again.summary() == "新增 0 条，更新 0 条，未变 3 条"
    assert counts() == (before[0], before[1] + 1)  # only the IMPORT row
    assert AuditEvent.objects.order_by("-id").first().action == AuditAction.IMPORT


def test_absent_optional_columns_keep_stored_values(world: World, cast: Cast) -> None:
    enterprise = EnterpriseFactory(town=world.town_a, credit_code=code(1), address="原地址", license_number="许可-1")
    rows = [[1, enterprise.name, enterprise.credit_code, "巴公镇", "露天矿山", "正常生产"]]
    result = enterprise_import_commit(source=simple_file(rows, [*HEADER]), user=cast.admin)
    assert result.summary() == "新增 0 条，更新 0 条，未变 1 条"
    enterprise.refresh_from_db()
    assert (enterprise.address, enterprise.license_number) == ("原地址", "许可-1")


def test_commit_query_count_does_not_grow_with_rows(world: World, cast: Cast) -> None:
    small = simple_file(good_rows(3))
    large = simple_file(good_rows(30, start=100))
    with CaptureQueriesContext(connection) as few:
        assert enterprise_import_commit(source=small, user=cast.admin).committed
    with CaptureQueriesContext(connection) as many:
        assert enterprise_import_commit(source=large, user=cast.admin).committed
    assert len(many) == len(few), [q["sql"][:80] for q in many.captured_queries]


# --- the page -----------------------------------------------------------------------------------

IMPORTERS = ("admin", "county_staff")
NON_IMPORTERS = ("clerk", "principal", "town_a_staff", "town_b_staff", "county_leader", "city_viewer", "other_clerk")


@pytest.mark.parametrize("member", IMPORTERS)
def test_admin_and_county_staff_may_import(world: World, cast: Cast, member: str) -> None:
    client = Client()
    client.force_login(getattr(cast, member))
    assert client.get("/enterprises/import/").status_code == 200
    upload = SimpleUploadedFile("名录.xlsx", simple_file(good_rows(2)))
    response = client.post("/enterprises/import/", {"action": "preview", "file": upload})
    assert response.status_code == 200
    assert "检查通过" in response.content.decode()


@pytest.mark.parametrize("member", NON_IMPORTERS)
def test_the_service_refuses_others_too(world: World, cast: Cast, member: str) -> None:
    from django.core.exceptions import PermissionDenied

    before = counts()
    with pytest.raises(PermissionDenied):
        enterprise_import_commit(source=simple_file(good_rows(1)), user=getattr(cast, member))
    with pytest.raises(PermissionDenied):
        enterprise_import_validate(source=simple_file(good_rows(1)), user=getattr(cast, member))
    assert counts() == before


@pytest.mark.parametrize("member", NON_IMPORTERS)
def test_others_may_not_import(world: World, cast: Cast, member: str) -> None:
    client = Client()
    client.force_login(getattr(cast, member))
    before = counts()
    assert client.get("/enterprises/import/").status_code == 403
    assert client.get("/enterprises/import/?template=1").status_code == 403
    upload = SimpleUploadedFile("名录.xlsx", simple_file(good_rows(2)))
    assert client.post("/enterprises/import/", {"action": "preview", "file": upload}).status_code == 403
    assert client.post("/enterprises/import/", {"action": "commit", "token": "x"}).status_code == 403
    assert Enterprise.objects.count() == before[0]


def test_anonymous_is_sent_to_login(world: World) -> None:
    response = Client().get("/enterprises/import/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_upload_preview_confirm_through_the_page(world: World, cast: Cast, media: Path) -> None:
    client = Client()
    client.force_login(cast.county_staff)
    upload = SimpleUploadedFile("名录.xlsx", simple_file(good_rows(2, town="高都镇")))
    before = counts()
    response = client.post("/enterprises/import/", {"action": "preview", "file": upload})
    page = response.content.decode()
    assert response.status_code == 200
    assert "新增 2 条，更新 0 条，未变 0 条" in page
    assert "导入测试矿业0有限公司" in page and "第2行" in page and "第3行" in page
    assert counts() == before
    token = response.context["token"]
    stored = list((media / "imports" / "enterprises").rglob("*.xlsx"))
    assert len(stored) == 1

    response = client.post("/enterprises/import/", {"action": "commit", "token": token})
    assert response.status_code == 302
    assert response["Location"] == "/enterprises/"
    assert Enterprise.objects.filter(credit_code__in=[code(0), code(1)], town=world.town_b).count() == 2
    follow = client.get("/enterprises/")
    assert "导入完成：新增 2 条" in follow.content.decode()
    event = AuditEvent.objects.filter(action=AuditAction.IMPORT).latest("id")
    assert event.actor == cast.county_staff
    assert "imports/enterprises/" in event.detail


def test_preview_with_errors_offers_no_commit(world: World, cast: Cast) -> None:
    client = Client()
    client.force_login(cast.admin)
    rows = [*good_rows(1), [2, "外县的镇", code(9), "韩店镇", "露天矿山", "正常生产"]]
    response = client.post(
        "/enterprises/import/", {"action": "preview", "file": SimpleUploadedFile("a.xlsx", simple_file(rows))}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "未导入任何数据" in page
    assert "第3行" in page and "所在镇" in page and "韩店镇" in page
    assert 'name="token"' not in page


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("企业名称,统一社会信用代码\n甲,1\n".encode(), "CSV"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, ".xls"),
        (b"<html><table><tr><td>x</td></tr></table></html>", "网页"),
    ],
)
def test_hostile_upload_is_refused_on_the_page(
    world: World, cast: Cast, media: Path, content: bytes, message: str
) -> None:
    client = Client()
    client.force_login(cast.admin)
    response = client.post(
        "/enterprises/import/", {"action": "preview", "file": SimpleUploadedFile("名录.xlsx", content)}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not list(media.rglob("*.xlsx"))


def test_oversized_upload_is_refused(world: World, cast: Cast, settings: Any) -> None:
    data = simple_file(good_rows(2))
    settings.UPLOAD_MAX_BYTES = len(data) - 1
    client = Client()
    client.force_login(cast.admin)
    response = client.post("/enterprises/import/", {"action": "preview", "file": SimpleUploadedFile("a.xlsx", data)})
    assert response.status_code == 400
    assert "文件过大" in response.content.decode()


def _preview_token(client: Client, data: bytes) -> str:
    response = client.post("/enterprises/import/", {"action": "preview", "file": SimpleUploadedFile("a.xlsx", data)})
    assert response.status_code == 200, response.content.decode()[:2000]
    return str(response.context["token"])


def test_token_of_another_user_or_tampered_is_refused(world: World, cast: Cast) -> None:
    admin = Client()
    admin.force_login(cast.admin)
    token = _preview_token(admin, simple_file(good_rows(2)))
    staff = Client()
    staff.force_login(cast.county_staff)
    before = counts()
    response = staff.post("/enterprises/import/", {"action": "commit", "token": token})
    assert response.status_code == 400
    assert "预览已过期或无效" in response.content.decode()
    response = admin.post("/enterprises/import/", {"action": "commit", "token": token[:-2] + "xx"})
    assert response.status_code == 400
    assert counts() == before


def test_commit_revalidates_and_writes_nothing_when_the_data_changed(world: World, cast: Cast) -> None:
    client = Client()
    client.force_login(cast.admin)
    token = _preview_token(client, simple_file(good_rows(3)))
    # Meanwhile the second code is registered in another county.
    EnterpriseFactory(credit_code=code(1), town=world.other_town)
    before = counts()
    response = client.post("/enterprises/import/", {"action": "commit", "token": token})
    assert response.status_code == 409
    assert "第3行 统一社会信用代码" in "".join(str(e) for e in response.context["result"].errors)
    assert counts() == before


def test_template_download_reimports(world: World, cast: Cast) -> None:
    client = Client()
    client.force_login(cast.admin)
    response = client.get("/enterprises/import/?template=1")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook["企业名录"]
    headers = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    assert headers[:5] == ["*企业名称", "*统一社会信用代码", "*所在镇", "*行业类别", "*生产状态"]
    assert "巴公镇" in str([row for row in workbook["填写说明"].values])
    sheet.append(
        ["模板填写矿业有限公司", code(1), "巴公镇", "尾矿库", "正常生产", None, "C级", "一级", "许可-9", "2026-01-01"]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = enterprise_import_commit(source=buffer.getvalue(), user=cast.admin)
    assert result.committed, result.error_lines()
    created = Enterprise.objects.get(credit_code=code(1))
    assert (created.industry, created.risk_grade, created.standardization_grade) == ("tailings", "C", "1")


# --- the command --------------------------------------------------------------------------------


def test_command_dry_run_commit_and_errors(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "名录.xlsx"
    path.write_bytes(simple_file(good_rows(2)))
    before = counts()
    call_command("import_enterprises", str(path), "--county", "140525", "--dry-run")
    assert capsys.readouterr().out.strip() == "（试运行，未写入）新增 2 条，更新 0 条，未变 0 条"
    assert counts() == before

    call_command("import_enterprises", str(path), "--county", "140525")
    assert capsys.readouterr().out.strip() == "新增 2 条，更新 0 条，未变 0 条"
    assert Enterprise.objects.count() == before[0] + 2
    assert AuditEvent.objects.filter(action=AuditAction.IMPORT, actor_name="manage.py import_enterprises").exists()

    # 韩店镇 is in another county: refused when importing into 泽州县.
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(simple_file([*good_rows(1, start=50), [2, "外县", code(51), "韩店镇", "露天矿山", "正常生产"]]))
    before = counts()
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_enterprises", str(bad), "--county", "140525")
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["第3行 所在镇：“韩店镇”不是您辖区内的镇/乡，请填写辖区内镇的名称或行政区划代码。"]
    assert counts() == before
    # The same row is fine for the county it belongs to.
    other = tmp_path / "other.xlsx"
    other.write_bytes(simple_file([[1, "外县", code(51), "韩店镇", "露天矿山", "正常生产"]]))
    call_command("import_enterprises", str(other), "--county", "140404", "--dry-run")
    assert capsys.readouterr().out.strip() == "（试运行，未写入）新增 1 条，更新 0 条，未变 0 条"


def test_command_refuses_unknown_county_and_bad_file(world: World, tmp_path: Path) -> None:
    from django.core.management.base import CommandError

    path = tmp_path / "a.csv"
    path.write_text("企业名称\n甲\n", encoding="utf-8")
    with pytest.raises(CommandError, match="找不到"):
        call_command("import_enterprises", str(path), "--county", "999999")
    with pytest.raises(SystemExit):
        call_command("import_enterprises", str(path), "--county", "140525")
