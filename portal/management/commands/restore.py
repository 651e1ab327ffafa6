"""`python manage.py restore ARCHIVE [--force]`: put a backup back into the configured database and MEDIA_ROOT."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.backup import VENDOR_LABELS, BackupError, human_size, restore_backup


class Command(BaseCommand):
    help = (
        "从本部署 manage.py backup 生成的备份恢复数据库和上传文件。先校验备份（签名、清单、每个文件的 SHA-256、"
        "迁移不会创建的数据库对象），"
        "有任何问题则不做任何更改；目标数据库或上传目录已有数据时须加 --force。"
        "恢复后核对行数、文件和已签字报表的校验值。"
        "恢复前请停止 web、worker 和 beat。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path, help="备份文件（.tar.gz）")
        parser.add_argument("--force", action="store_true", help="目标数据库或上传目录已有数据时也恢复（替换现有数据）")
        parser.add_argument(
            "--allow-unsigned",
            action="store_true",
            help="也恢复没有本部署签名的备份（未签名、旧格式或另一部署的密钥签名）；数据库对象的检查照常进行",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = restore_backup(
                archive=options["archive"],
                force=options["force"],
                allow_unsigned=options["allow_unsigned"],
                log=self.stdout.write,
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        manifest = result.manifest
        self.stdout.write(
            f"恢复完成（用时 {result.seconds:.1f} 秒）：备份时间 {manifest['created_at']}，"
            f"门户 {manifest['app']['version']}，Django {manifest['django']}"
        )
        self.stdout.write(
            f"数据库：{VENDOR_LABELS[manifest['database']['vendor']]}，{result.tables} 张表，{result.rows} 行，"
            "与备份清单一致"
        )
        self.stdout.write(f"上传文件：{result.files} 个（{human_size(result.file_bytes)}），SHA-256 全部一致")
        self.stdout.write(f"已签字报表版本：{result.signed_versions} 个，Excel/PDF 校验值全部与签字时一致")
        for note in result.notes:
            self.stdout.write(f"提示：{note}")
