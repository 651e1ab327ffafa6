"""Build a monthly table from the shell:

    python manage.py build_report {accountability,winter,three-lists} \
        --region CODE --month YYYY-MM --format {xlsx,pdf} --output PATH

Builds a table from the records as they are now (the same builder as the pages and the worker) and
writes it to PATH. It does not create a version: drafts, submission and signing happen in the portal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.models import Region
from reporting.choices import FileFormat, ReportKind
from reporting.figures import ReportError, parse_month
from reporting.tasks import build_file


class Command(BaseCommand):
    help = "按辖区和月份从业务记录生成月度报表文件（Excel 或 PDF）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=[kind.cli_name for kind in ReportKind], help="报表类型")
        parser.add_argument("--region", required=True, help="行政区划代码，如 140525（县）或 140525108（镇）")
        parser.add_argument("--month", required=True, help="月份，YYYY-MM，如 2024-05")
        parser.add_argument(
            "--format", required=True, choices=[value for value, _ in FileFormat.choices], dest="file_format"
        )
        parser.add_argument("--output", required=True, help="输出文件路径")

    def handle(self, *args: Any, **options: Any) -> None:
        kind = ReportKind.from_cli(options["kind"])
        region = Region.objects.filter(code=options["region"]).first()
        if region is None:
            raise CommandError(f"没有行政区划代码为 {options['region']} 的辖区。")
        output = Path(options["output"])
        if not output.parent.exists():
            raise CommandError(f"输出目录不存在：{output.parent}")
        try:
            month = parse_month(options["month"])
            content = build_file(kind=kind, region=region, month=month, file_format=options["file_format"])
        except ReportError as exc:
            raise CommandError(exc.message) from exc
        output.write_bytes(content)
        self.stdout.write(
            f"已生成 {region.name}{month.year}年{month.month}月“{kind.label}”：{output}（{len(content)} 字节）"
        )
