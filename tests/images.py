"""Image bytes for the tests: real (tiny) photos, since uploads are now opened to read their pixel size,
and images that declare more pixels than portal.limits allows (a few hundred bytes on disk)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def _image(file_format: str, size: tuple[int, int] = (4, 3)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(buffer, file_format)
    return buffer.getvalue()


TINY_PNG = _image("PNG")
TINY_JPEG = _image("JPEG")


def declared_png(width: int, height: int) -> bytes:
    """A PNG whose header declares width × height pixels, with almost no pixel data behind it: what a
    decompression bomb looks like to the upload (decoding it would need width × height × 3 bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )
