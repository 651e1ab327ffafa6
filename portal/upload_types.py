"""What may be uploaded, declared once: the file types (recognised by their first bytes, never by their
names), the purposes that accept them, and the one check every upload path runs — hazard evidence, field
work photos, self-check evidence, 执法文书 and deliverables.

The decision (issue 12 §4; hazard evidence used to refuse HEIC and OFD while field work took them):
- PHOTOS (inspection photos) are JPEG, PNG, GIF, WebP and HEIC. Phones take HEIC; it is stored and
  downloaded, never shown inline and without a thumbnail (browsers and Pillow do not read it).
- DOCUMENTS (evidence, attachments, filings) are the photos plus PDF, OFD and Office (OOXML, ZIP and the
  97-2003 formats) — the same for hazards as for field work.
A file is refused, with a Chinese reason and before anything is stored, when it is empty, larger than
`settings.UPLOAD_MAX_BYTES`, of no type its purpose accepts, named as another type than its content (a PDF
named .xlsx), or an image declaring more pixels than `portal.limits` allows (read from its header).
A name without an extension is taken: the file is stored under its type's first extension.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError

from portal.images import check_image, is_raster


@dataclass(frozen=True)
class FileType:
    label: str  # in refusals and help texts
    extensions: tuple[str, ...]  # the names it may carry; a nameless file is stored under the first
    magic: Callable[[bytes], bool]  # tested on the first 16 bytes


JPEG = FileType("JPG", (".jpg", ".jpeg", ".jfif"), lambda head: head.startswith(b"\xff\xd8\xff"))
PNG = FileType("PNG", (".png",), lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"))
GIF = FileType("GIF", (".gif",), lambda head: head[:6] in (b"GIF87a", b"GIF89a"))
WEBP = FileType("WebP", (".webp",), lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP")
HEIC = FileType("HEIC", (".heic", ".heif"), lambda head: head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"))
PDF = FileType("PDF", (".pdf",), lambda head: head.startswith(b"%PDF-"))
# OOXML and OFD are ZIP containers: their first bytes tell them apart from nothing else, so the name does.
OOXML = FileType(
    "Office 文档或 OFD", (".zip", ".docx", ".xlsx", ".pptx", ".ofd"), lambda head: head.startswith(b"PK\x03\x04")
)
OLE = FileType(
    "Office 97-2003 文档", (".doc", ".xls", ".ppt"), lambda head: head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
)


@dataclass(frozen=True)
class Purpose:
    noun: str  # "照片" or "文件", in refusals
    types: tuple[FileType, ...]

    @property
    def extensions(self) -> list[str]:
        return sorted(ext for kind in self.types for ext in kind.extensions)

    @property
    def accept(self) -> str:
        """The file input's accept attribute (a hint for the browser's picker; the server decides)."""
        return ",".join([*self.extensions, "image/*"])

    @property
    def description(self) -> str:
        return "、".join(kind.label for kind in self.types)


PHOTOS = Purpose("照片", (JPEG, PNG, GIF, WEBP, HEIC))
DOCUMENTS = Purpose("文件", (*PHOTOS.types, PDF, OOXML, OLE))


@dataclass(frozen=True)
class CheckedUpload:
    name: str  # the original name without folders, cut to 200 characters
    kind: FileType
    extension: str  # what it is stored under: the name's extension, or the type's first when it has none
    size: int

    @property
    def stored_name(self) -> str:
        """The original name, with the extension it is stored under when it carried none."""
        return self.name if PurePath(self.name).suffix else f"{self.name[:190]}{self.extension}"


def _size(file: IO[bytes] | Any) -> int:
    declared = getattr(file, "size", None)
    if isinstance(declared, int):
        return declared
    position = file.tell()
    file.seek(0, 2)
    end = int(file.tell())
    file.seek(position)
    return end


def _head(file: IO[bytes] | Any) -> bytes:
    position = file.tell() if hasattr(file, "tell") else 0
    file.seek(0)
    head = file.read(16)
    file.seek(position)
    return bytes(head)


def check_upload(file: IO[bytes] | Any, *, name: str, purpose: Purpose) -> CheckedUpload:
    """The one check of an uploaded file before it is stored (see the module docstring); ValidationError."""
    name = PurePath((name or "").replace("\\", "/")).name[-200:] or "未命名文件"
    size = _size(file)
    if size <= 0:
        raise ValidationError(f"文件为空：“{name}”。")
    limit = int(settings.UPLOAD_MAX_BYTES)
    if size > limit:
        raise ValidationError(f"文件超过 {limit // (1024 * 1024)} MB 的大小限制：“{name}”。")
    head = _head(file)
    suffix = PurePath(name).suffix.lower()
    kind = next((kind for kind in purpose.types if kind.magic(head)), None)
    if kind is None or (suffix and suffix not in kind.extensions):
        claimed = next((other for other in purpose.types if suffix in other.extensions), None)
        if claimed is not None:
            why = f"，或文件内容与扩展名不符：文件“{name}”的内容不是{claimed.label}格式"
        elif suffix:
            why = f"“{suffix}”（“{name}”）"
        else:
            why = f"：无法从内容识别“{name}”的类型"
        raise ValidationError(f"不支持的{purpose.noun}类型{why}。只能上传{purpose.description}。")
    extension = suffix or kind.extensions[0]
    if is_raster(extension):  # pixel bounds from the header, before anything decodes it
        try:
            check_image(file)
        except ValidationError as exc:
            raise ValidationError(f"文件“{name}”：{'；'.join(exc.messages)}") from exc
        finally:
            file.seek(0)
    return CheckedUpload(name=name, kind=kind, extension=extension, size=size)
