"""manage.py import_enterprises FILE --county CODE [--dry-run]: the page's importer, for operators."""

from __future__ import annotations

from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.choices import RegionLevel
from portal.imports import enterprise_import_commit, enterprise_import_validate
from portal.models import Region
from portal.spreadsheets import SpreadsheetError, read_bytes


class Command(BaseCommand):
    help = (
        "从 Excel（.xlsx）导入企业名录到一个县（区）：全部导入或全部不导入。"
        "成功时打印“新增 N 条，更新 M 条，未变 K 条”并返回 0；"
        "有错误时逐行打印“第{行}行 {列}：{问题}”，不写入任何数据并返回 1。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="Excel 文件路径（.xlsx）")
        parser.add_argument("--county", required=True, help="导入到的县（区）行政区划代码，如 140525")
        parser.add_argument("--dry-run", action="store_true", help="只检查并打印结果，不写入")

    def handle(self, *args: Any, **options: Any) -> None:
        county = Region.objects.filter(code=options["county"], level=RegionLevel.COUNTY).first()
        if county is None:
            raise CommandError(f"找不到行政区划代码为 {options['county']} 的县（区）。")
        path: str = options["file"]
        try:
            data = read_bytes(path)
        except FileNotFoundError:
            raise CommandError(f"找不到文件：{path}") from None
        except SpreadsheetError as exc:
            self._fail([exc.message])
        file_name = path.rsplit("/", 1)[-1]
        if options["dry_run"]:
            result = enterprise_import_validate(source=data, county=county, file_name=file_name)
        else:
            result = enterprise_import_commit(source=data, county=county, file_name=file_name)
        if not result.ok:
            self._fail(result.error_lines())
        prefix = "（试运行，未写入）" if options["dry_run"] else ""
        self.stdout.write(f"{prefix}{result.summary()}")

    def _fail(self, lines: list[str]) -> NoReturn:
        for line in lines:
            self.stderr.write(line)
        raise SystemExit(1)
