"""manage.py import_ledger FILE --enterprise CREDIT_CODE [--dry-run]: the page's 隐患台账 importer, for operators."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hazards.ledger import ledger_import
from portal.models import Enterprise
from portal.spreadsheets import SpreadsheetError, read_bytes
from portal.validators import normalize_credit_code


class Command(BaseCommand):
    help = (
        "从 Excel（.xlsx）导入一家企业的隐患台账：全部导入或全部不导入。"
        "成功时打印“新增 N 条，更新 M 条，未变 K 条”并返回 0；"
        "有错误时逐行打印“第{行}行 {列}：{问题}”，不写入任何数据并返回 1。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="Excel 文件路径（.xlsx）")
        parser.add_argument("--enterprise", required=True, help="企业的统一社会信用代码（18位）")
        parser.add_argument("--dry-run", action="store_true", help="只检查并打印结果，不写入")

    def handle(self, *args: Any, **options: Any) -> None:
        code = normalize_credit_code(options["enterprise"])
        enterprise = Enterprise.objects.select_related("town").filter(credit_code=code).first()
        if enterprise is None:
            raise CommandError(f"找不到统一社会信用代码为 {options['enterprise']} 的企业。")
        path = Path(options["file"])
        try:
            data = read_bytes(path)
        except FileNotFoundError:
            raise CommandError(f"找不到文件：{path}") from None
        except SpreadsheetError as exc:
            self._fail([exc.message])
        result = ledger_import(source=data, enterprise=enterprise, file_name=path.name, dry_run=options["dry_run"])
        if not result.ok:
            self._fail(result.error_lines())
        prefix = "（试运行，未写入）" if options["dry_run"] else ""
        self.stdout.write(f"{prefix}{result.summary()}")

    def _fail(self, lines: list[str]) -> NoReturn:
        for line in lines:
            self.stderr.write(line)
        raise SystemExit(1)
