"""manage.py import_ledger FILE --enterprise CREDIT_CODE [--dry-run]: output, exit codes, nothing written on error."""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command

from hazards.choices import HazardAction, HazardStatus, LedgerUploadStatus
from hazards.models import Hazard, HazardEvent, LedgerUpload
from portal.choices import AuditAction
from portal.models import AuditEvent
from tests.conftest import Cast, World
from tests.hazards.ledger_xlsx import WRONG_TYPES, counts, major_row, row, simple, stored_files, with_entities, zip_bomb

pytestmark = [pytest.mark.usefixtures("catalogue"), pytest.mark.django_db]
CODE = "91140525MA0K7XQ215"  # 泽州县示范矿业有限公司 (world.enterprise_a)


@pytest.fixture(autouse=True)
def frozen_today() -> Any:
    with time_machine.travel(datetime.datetime(2024, 7, 1, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def media(tmp_path: Path, settings: Any) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def run(path: Path, *args: str) -> tuple[int, str, str]:
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("import_ledger", str(path), "--enterprise", CODE, *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def write(tmp_path: Path, data: bytes, name: str = "台账.xlsx") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_dry_run_then_import_then_reimport(world: World, cast: Cast, tmp_path: Path, media: Path) -> None:
    path = write(tmp_path, simple([row("C-1"), row("C-2", "炸药库门锁损坏"), major_row("C-3")]))
    before = counts()
    assert run(path, "--dry-run") == (0, "（试运行，未写入）新增 3 条，更新 0 条，未变 0 条\n", "")
    assert counts() == before and stored_files(media) == []

    assert run(path) == (0, "新增 3 条，更新 0 条，未变 0 条\n", "")
    assert Hazard.objects.filter(enterprise=world.enterprise_a).count() == 3
    assert Hazard.objects.get(ledger_number="C-3").status == HazardStatus.DRAFT
    assert HazardEvent.objects.filter(action=HazardAction.LEDGER_IMPORT, actor_name="manage.py import_ledger").count()
    upload = LedgerUpload.objects.get()
    assert (upload.status, upload.uploaded_by, upload.uploaded_by_name) == (
        LedgerUploadStatus.COMMITTED, None, "manage.py import_ledger",
    )  # fmt: skip
    assert AuditEvent.objects.filter(action=AuditAction.IMPORT, actor_name="manage.py import_ledger").exists()

    assert run(path) == (0, "新增 0 条，更新 0 条，未变 3 条\n", "")
    assert Hazard.objects.count() == 3


def test_errors_print_one_line_each_and_write_nothing(world: World, cast: Cast, tmp_path: Path, media: Path) -> None:
    path = write(tmp_path, simple([row("E-1"), row("E-2", found_on="2024/13/40"), major_row("E-3", criterion="")]))
    before = counts()
    code, out, err = run(path)
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines == [
        "第3行 发现日期：日期不存在：“2024/13/40”。",
        "第4行 判定依据：重大事故隐患必须填写判定依据（矿安〔2022〕88号的条目，如“露天矿山第（七）项”或“二（七）”）。",
    ]
    assert all(re.match(r"^第\d+行 [^：]+：", line) for line in lines)
    assert counts() == before and stored_files(media) == []


@pytest.mark.parametrize(("kind", "content", "message"), WRONG_TYPES, ids=[kind for kind, _, _ in WRONG_TYPES])
def test_wrong_types_exit_1(world: World, tmp_path: Path, media: Path, kind: str, content: bytes, message: str) -> None:
    before = counts()
    code, out, err = run(write(tmp_path, content))
    assert code == 1 and out == "" and message in err
    assert counts() == before and stored_files(media) == []


def test_oversize_zip_bomb_and_entities_exit_1(world: World, tmp_path: Path, media: Path, settings: Any) -> None:
    before = counts()
    settings.SPREADSHEET_MAX_UNCOMPRESSED_BYTES = 2 * 1024 * 1024
    assert "压缩炸弹" in run(write(tmp_path, zip_bomb(3 * 1024 * 1024)))[2]
    assert "不允许的 XML 实体" in run(write(tmp_path, with_entities()))[2]
    settings.UPLOAD_MAX_BYTES = 1000
    code, _, err = run(write(tmp_path, simple([row()])))
    assert code == 1 and "文件过大" in err
    assert counts() == before and stored_files(media) == []


def test_formulas_are_imported_as_text(world: World, tmp_path: Path, media: Path) -> None:
    assert run(write(tmp_path, simple([row("F-1", "=1+2", location="@SUM(A1)")])))[0] == 0
    hazard = Hazard.objects.get()
    assert (hazard.description, hazard.location) == ("=1+2", "@SUM(A1)")


def test_unknown_enterprise_and_missing_file(world: World, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="找不到统一社会信用代码"):
        call_command("import_ledger", str(write(tmp_path, simple([row()]))), "--enterprise", "911405250000000000")
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("import_ledger", str(tmp_path / "nope.xlsx"), "--enterprise", CODE)
