"""The deployment's backup signing key and the signature of a backup's manifest (HMAC-SHA256).

The manifest lists the SHA-256 of the database dump and of every file, so signing the manifest signs
the whole archive. The key lives in a file named by the BACKUP_SIGNING_KEY_FILE setting (default
`var/secrets/backup-signing.key`), never in the database, the archive or MEDIA_ROOT; the first backup
creates it with mode 0600. An archive that was altered and re-hashed, or made elsewhere, does not
carry a valid signature of this key, and restore refuses it unless the operator says otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings

SIGNATURE = "manifest.sig"
ALGORITHM = "HMAC-SHA256"
KEY_BYTES = 32


class SigningKeyError(Exception):
    """The key file is unusable; the message is for the operator, in Chinese."""


def key_path() -> Path:
    return Path(settings.BACKUP_SIGNING_KEY_FILE)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def load_key(*, create: bool) -> bytes | None:
    """The key; None when there is none (and `create` is False). Creates it (0600) when asked."""
    path = key_path()
    if _inside(path, Path(settings.MEDIA_ROOT)):
        raise SigningKeyError(
            f"备份签名密钥文件 {path} 位于上传文件目录 MEDIA_ROOT 之内，会随备份一起打包；请放到别处。"
        )
    if not path.exists():
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(KEY_BYTES) + "\n")
    if path.stat().st_mode & 0o077:
        raise SigningKeyError(f"备份签名密钥文件 {path} 的权限过宽（应为 0600，只有门户的运行账户可读）。")
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError) as exc:
        raise SigningKeyError(f"备份签名密钥文件 {path} 无法读取（{exc}）。") from exc
    if len(key) < KEY_BYTES:
        raise SigningKeyError(f"备份签名密钥文件 {path} 中的密钥太短（至少 {KEY_BYTES} 字节）。")
    return key


def key_id(key: bytes) -> str:
    """A short public name of the key: tells 'another deployment's key' from 'altered'."""
    return hashlib.sha256(b"portal-backup-signing-key:" + key).hexdigest()[:16]


def sign(manifest: bytes, key: bytes) -> bytes:
    body = {"algorithm": ALGORITHM, "key_id": key_id(key), "hmac": hmac.new(key, manifest, hashlib.sha256).hexdigest()}
    return json.dumps(body, sort_keys=True).encode()


def signature_problem(manifest: bytes, signature: bytes | None, key: bytes | None) -> str | None:
    """None when `signature` is this deployment's valid signature of `manifest`; else why not (Chinese)."""
    if signature is None:
        return "备份没有签名（不是本部署的 manage.py backup 生成的，或来自旧版本）"
    if key is None:
        return f"本部署没有备份签名密钥（{key_path()}），无法确认备份来自本部署"
    try:
        body: Any = json.loads(signature)
        algorithm, signed_by, mac = body["algorithm"], body["key_id"], body["hmac"]
    except (ValueError, KeyError, TypeError):
        return "备份签名无法读取"
    if algorithm != ALGORITHM:
        return f"不认识的签名算法 {algorithm}"
    if signed_by != key_id(key):
        return f"备份由另一个密钥（{signed_by}）签名，不是本部署（{key_id(key)}）生成的"
    expected = hmac.new(key, manifest, hashlib.sha256).hexdigest()
    if not isinstance(mac, str) or not hmac.compare_digest(mac, expected):
        return "备份签名与清单不符（备份生成后被改动过）"
    return None
