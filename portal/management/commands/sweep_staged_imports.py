"""`python manage.py sweep_staged_imports`: what beat runs nightly (portal.tasks.sweep_staged_imports), by hand."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from portal.import_flow import staged_imports_sweep, staged_max_age


class Command(BaseCommand):
    help = (
        "删除预览后未确认导入的 Excel 文件（超过 IMPORT_STAGED_MAX_AGE_HOURS，默认 24 小时）。"
        "已确认导入的原文件保留。可重复运行。"
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = staged_imports_sweep()
        hours = staged_max_age().total_seconds() / 3600
        self.stdout.write(
            f"已删除超过 {hours:g} 小时未确认的导入文件 {result.files} 个，无记录的旧文件 {result.orphans} 个。"
        )
        if result.stuck:
            self.stdout.write(f"提示：{result.stuck} 个文件确认导入时中断（状态为导入中），已保留，请人工核对。")
