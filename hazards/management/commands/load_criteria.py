"""python manage.py load_criteria [FILE]: add 判定依据 items from a JSON file shaped like hazards/data/*.json.

Items already in the catalogue (same document, mine type and number) are left untouched, so an
admin's corrections survive; use --update to overwrite their text from the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hazards.criteria import DEFAULT_CATALOGUE_FILE, load_catalogue_file


class Command(BaseCommand):
    help = "导入重大事故隐患判定依据目录（默认：矿安〔2022〕88号）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", default=str(DEFAULT_CATALOGUE_FILE))
        parser.add_argument("--update", action="store_true", help="覆盖已有条目的文字")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        try:
            created, updated, unchanged = load_catalogue_file(path, update=options["update"])
        except (KeyError, ValueError) as exc:
            raise CommandError(f"文件格式不正确：{exc}") from exc
        self.stdout.write(f"新增 {created} 条，更新 {updated} 条，未变 {unchanged} 条")
