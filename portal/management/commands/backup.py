"""`python manage.py backup [--output DIR_OR_FILE]`: one .tar.gz of the database, the uploaded files and a manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal import backup_signing
from portal.backup import VENDOR_LABELS, BackupError, create_backup, human_size


class Command(BaseCommand):
    help = (
        "备份数据库和上传文件（MEDIA_ROOT）到一个 .tar.gz 文件，附 manifest.json（行数、迁移、每个文件的 SHA-256、"
        "已签字报表的校验值）和同名 .sha256 校验文件。门户运行时也可备份。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            default=None,
            help="备份目录（文件名自动生成）或以 .tar.gz 结尾的文件路径；默认 var/backups/",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = create_backup(output=options["output"])
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        manifest = result.manifest
        rows = sum(manifest["tables"].values())
        for warning in result.warnings:
            self.stderr.write(f"警告：{warning}")
        self.stdout.write(f"备份完成：{result.path}（{human_size(result.size)}，用时 {result.seconds:.1f} 秒）")
        self.stdout.write(
            f"数据库：{VENDOR_LABELS[manifest['database']['vendor']]}，{len(manifest['tables'])} 张表，{rows} 行；"
            f"上传文件：{manifest['media']['count']} 个（{human_size(manifest['media']['bytes'])}）；"
            f"已签字报表版本：{len(manifest['signed_report_versions'])} 个"
        )
        self.stdout.write(f"校验文件：{result.path}.sha256")
        self.stdout.write(
            f"签名密钥：{backup_signing.key_path()}（{result.manifest['signing_key_id']}）。"
            "只有持有此密钥的部署能恢复这个备份而无需 --allow-unsigned；请把密钥另行妥善保存（不要和备份放在一起）。"
        )
