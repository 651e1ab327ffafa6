"""manage.py otp_enrol <username>: a TOTP device made on the server, for developers and lost phones.

Prints the secret, the otpauth:// link (and the current code, so a developer without a phone can
reach /admin/ after `make run`). `--code` prints the current code of an existing device;
`--remove` removes the user's device (the user then logs in with the password alone).
Every change is in the audit log.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import totp

from portal.models import User
from portal.otp import services


def current_code(device: Any) -> str:
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return str(code).zfill(device.digits)


class Command(BaseCommand):
    help = "为账号绑定动态口令（两步验证），打印密钥；--code 打印当前动态口令；--remove 解绑。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--replace", action="store_true", help="已绑定时换一个新密钥")
        group.add_argument("--code", action="store_true", help="只打印已绑定设备的当前动态口令")
        group.add_argument("--remove", action="store_true", help="解绑该账号的动态口令")

    def handle(self, *args: Any, username: str, replace: bool, code: bool, remove: bool, **options: Any) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"账号 {username} 不存在。")
        if remove:
            removed = services.device_remove_by_operator(user=user)
            self.stdout.write(
                f"已解绑 {username} 的动态口令（{removed} 个设备）。" if removed else "该账号未绑定动态口令。"
            )
            return
        if code:
            device = services.confirmed_device(user)
            if device is None:
                raise CommandError(f"账号 {username} 未绑定动态口令。先运行：manage.py otp_enrol {username}")
            self.stdout.write(current_code(device))
            return
        try:
            device = services.device_enrol_by_operator(user=user, replace=replace)
        except ValueError:
            raise CommandError(
                f"账号 {username} 已绑定动态口令。当前口令：manage.py otp_enrol {username} --code；"
                "换新密钥：--replace；解绑：--remove"
            ) from None
        secret = base64.b32encode(device.bin_key).decode()
        remaining = device.step - int(time.time() - device.t0) % device.step
        self.stdout.write(f"已为 {username} 绑定动态口令。")
        self.stdout.write(f"密钥（在验证器中手动输入，基于时间，30 秒，6 位）：{secret}")
        self.stdout.write(f"配置链接：{device.config_url}")
        self.stdout.write(f"当前动态口令：{current_code(device)}（约 {remaining} 秒内有效）")
        self.stdout.write(f"以后随时可用 manage.py otp_enrol {username} --code 取得当前动态口令。")
