"""python manage.py import_enforcement FILE --user USERNAME [--dry-run]

Imports a unit's 执法与追责问责 records from Excel exactly as the page does, as that user (a town's or
the county's staff account: the records are that unit's). Prints `新增 N 条，更新 M 条，未变 K 条` and
exits 0, or one line per error (`第{row}行 {column}：…`) and exits 1 having written nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from inspections.imports import enforcement_import_commit, enforcement_import_validate
from portal.models import User


class Command(BaseCommand):
    help = "从 Excel 导入执法与追责问责记录（全部导入或全部不导入）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="Excel 文件（.xlsx）")
        parser.add_argument("--user", required=True, help="以哪个镇或县局账号导入（记录的实施单位即该账号所在单位）")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"没有名为“{options['user']}”的有效账号。")
        run = enforcement_import_validate if options["dry_run"] else enforcement_import_commit
        try:
            result = run(source=path.read_bytes(), actor=user, file_name=path.name)
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        if not result.ok:
            for line in result.error_lines():
                self.stderr.write(line)
            raise SystemExit(1)
        self.stdout.write(result.summary())
