"""manage.py hazard_workflow_doc [--check]: write docs/hazard-workflow.md from the step declarations."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hazards.workflow_doc import DOC_PATH, doc_path, render


class Command(BaseCommand):
    help = "根据 hazards/workflow.py 中的隐患办理步骤生成 docs/hazard-workflow.md；--check 只检查文件是否为最新。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="只检查，文件过期时返回非零")

    def handle(self, *args: Any, **options: Any) -> None:
        path = doc_path()
        text = render()
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if options["check"]:
            if current != text:
                raise CommandError(f"{DOC_PATH} 已过期，请运行 manage.py hazard_workflow_doc 重新生成。")
            self.stdout.write(f"{DOC_PATH} 是最新的。")
            return
        if current == text:
            self.stdout.write(f"{DOC_PATH} 无变化。")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"已写入 {DOC_PATH}。")
