"""`python manage.py seed_demo [--scale {demo,county,province}]`: deterministic, idempotent demo data."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from portal import demo
from portal.models import Enterprise, ParentCompany, Person, Region, User


class Command(BaseCommand):
    help = "生成演示数据（泽州县及其各镇、示范企业、各角色账号）；--scale 生成县级或省级基准数据。可重复运行。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            choices=sorted(demo.SCALES),
            default="demo",
            help="demo：演示数据（约60家企业）；county：泽州县300家企业；province：全省约117个县、6000家企业。",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        scale = demo.SCALES[options["scale"]]
        started = time.perf_counter()
        state = demo.build(scale.name, log=self.stdout.write)
        elapsed = time.perf_counter() - started

        created = (
            ", ".join(f"{key} {value}" for key, value in sorted(state.created.items()) if value) or "无（数据已齐全）"
        )
        self.stdout.write(f"规模：{scale.label}（{scale.name}），用时 {elapsed:.1f} 秒。本次新增：{created}")
        self.stdout.write(
            f"现有：区划 {Region.objects.count()} 个，企业 {Enterprise.objects.count()} 家，"
            f"上级企业 {ParentCompany.objects.count()} 家，人员 {Person.objects.count()} 人，"
            f"账号 {User.objects.count()} 个。"
        )
        self.stdout.write("")
        self.stdout.write(f"演示账号（登录地址 {demo.DEMO_URL}）：")
        rows: list[tuple[str, ...]] = [("角色", "用户名", "密码", "范围"), *demo.login_table()]
        self.stdout.write(_table(rows))
        self.stdout.write(f"\n打开 {demo.DEMO_URL} 用上表任一账号登录。")
        self.stdout.write(
            "管理后台 /admin/ 需要两步验证：登录后按页面提示用手机验证器绑定，"
            "或运行 python manage.py otp_enrol county_admin（打印密钥和当前动态口令；之后用 --code 取口令）。"
        )


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
