"""Uploads of field work (photos, evidence, 执法文书, deliverables): checked by content, not by name.

A file is refused, with a Chinese reason and before anything is saved, when it is empty, over
`settings.UPLOAD_MAX_BYTES`, when its first bytes are not those of an accepted type, or when it is an
image declaring more pixels than `portal.limits` allows (read from its header, never decoded).
"""

from __future__ import annotations

from pathlib import PurePath
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError

from portal.images import check_image, is_raster

# (label, extensions, magic test)
IMAGE_TYPES: list[tuple[str, frozenset[str], Any]] = [
    ("JPEG", frozenset({".jpg", ".jpeg"}), lambda head: head.startswith(b"\xff\xd8\xff")),
    ("PNG", frozenset({".png"}), lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    ("GIF", frozenset({".gif"}), lambda head: head[:6] in (b"GIF87a", b"GIF89a")),
    ("WEBP", frozenset({".webp"}), lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP"),
    ("HEIC", frozenset({".heic", ".heif"}), lambda head: head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1")),
]
DOCUMENT_TYPES: list[tuple[str, frozenset[str], Any]] = [
    ("PDF", frozenset({".pdf"}), lambda head: head.startswith(b"%PDF-")),
    (
        "Office 文档",
        frozenset({".docx", ".xlsx", ".pptx", ".ofd", ".zip"}),
        lambda head: head.startswith(b"PK\x03\x04"),
    ),
    ("Office 97-2003 文档", frozenset({".doc", ".xls", ".ppt"}), lambda head: head.startswith(b"\xd0\xcf\x11\xe0")),
]

IMAGE_EXTENSIONS = sorted(ext for _label, exts, _test in IMAGE_TYPES for ext in exts)
DOCUMENT_EXTENSIONS = sorted(ext for _label, exts, _test in IMAGE_TYPES + DOCUMENT_TYPES for ext in exts)


def _head(upload: IO[bytes] | Any) -> bytes:
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    head = upload.read(16)
    upload.seek(position)
    return bytes(head)


def validate_upload(upload: Any, *, images_only: bool = False) -> str:
    """Checks an uploaded file; returns its original name (cut to 200 characters)."""
    name = PurePath(getattr(upload, "name", "") or "").name or "未命名文件"
    size = getattr(upload, "size", None)
    if not size:
        raise ValidationError(f"文件“{name}”是空文件。")
    limit = settings.UPLOAD_MAX_BYTES
    if size > limit:
        raise ValidationError(f"文件“{name}”超过大小上限（{limit // (1024 * 1024)} MB）。")
    extension = PurePath(name).suffix.lower()
    types = IMAGE_TYPES if images_only else IMAGE_TYPES + DOCUMENT_TYPES
    head = _head(upload)
    for label, extensions, test in types:
        if extension in extensions:
            if not test(head):
                raise ValidationError(f"文件“{name}”的内容不是{label}格式，请检查后重新上传。")
            if is_raster(extension):  # pixel bounds from the header, before anything decodes it
                try:
                    check_image(upload)
                except ValidationError as exc:
                    raise ValidationError(f"文件“{name}”：{'；'.join(exc.messages)}") from exc
            return name[-200:]
    accepted = "、".join(IMAGE_EXTENSIONS if images_only else DOCUMENT_EXTENSIONS)
    kind = "照片" if images_only else "文件"
    raise ValidationError(f"不支持的{kind}类型“{extension or '无扩展名'}”，可上传：{accepted}。")
