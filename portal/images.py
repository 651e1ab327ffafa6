"""Uploaded images: bounded in pixels before anything decodes them, and shown on pages only as thumbnails.

A PNG of a few kilobytes may declare 30000×30000 pixels; decoding it takes ~3.6 GB, in the worker or in
every viewer's browser. `check_image` reads only the header (Pillow's `Image.open` does not decode) and
refuses an image beyond `limits.IMAGE_MAX_PIXELS` or `limits.IMAGE_MAX_SIDE`, with a Chinese message;
Pillow's own decompression-bomb guard is set to the same bound, so nothing here can decode a larger one.
`make_thumbnail` then makes the small JPEG the pages embed; the original is only ever a download.
"""

from __future__ import annotations

import io
import re
import warnings
from typing import IO, Any

from django.core.exceptions import ValidationError
from PIL import Image, UnidentifiedImageError

from portal import limits

# Pillow refuses (DecompressionBombError) images over twice this, and warns over it: we refuse at it.
Image.MAX_IMAGE_PIXELS = limits.IMAGE_MAX_PIXELS

# The formats a browser shows inline and Pillow reads; others (HEIC, PDF …) are only ever downloaded.
RASTER_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp")


def is_raster(name: str) -> bool:
    return name.lower().endswith(RASTER_SUFFIXES)


def is_image_name(name: str) -> bool:
    """Any photo, HEIC too: served only as a download, never inline."""
    return name.lower().endswith((*RASTER_SUFFIXES, ".heic", ".heif", ".svg", ".bmp", ".tif", ".tiff"))


def _rewind(file: IO[bytes] | Any) -> None:
    if hasattr(file, "seek"):
        file.seek(0)


def image_size(file: IO[bytes] | Any) -> tuple[int, int]:
    """(width, height) as the header declares them, without decoding the pixels."""
    _rewind(file)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                return int(image.width), int(image.height)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow read the header and refused the size; its message gives the pixel count.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        raise _too_large(None, pixels=int(found.group(1)) if found else None) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError("无法识别的图片：文件已损坏，或内容不是所标明的图片格式。") from exc
    finally:
        _rewind(file)


def _too_large(size: tuple[int, int] | None, *, pixels: int | None = None) -> ValidationError:
    declared = f"（{size[0]}×{size[1]} 像素）" if size else f"（{pixels // 10_000} 万像素）" if pixels else ""
    return ValidationError(
        f"图片尺寸过大{declared}：最多 {limits.IMAGE_MAX_PIXELS // 10_000} 万像素、"
        f"单边不超过 {limits.IMAGE_MAX_SIDE} 像素。请缩小或压缩后重新上传。"
    )


def check_image(file: IO[bytes] | Any) -> tuple[int, int]:
    """Refuses an image whose declared pixel dimensions exceed the bounds; returns (width, height)."""
    width, height = image_size(file)
    if width * height > limits.IMAGE_MAX_PIXELS or max(width, height) > limits.IMAGE_MAX_SIDE:
        raise _too_large((width, height))
    if width <= 0 or height <= 0:
        raise ValidationError("无法识别的图片：图片没有像素。")
    return width, height


def make_thumbnail(file: IO[bytes] | Any, *, side: int = limits.THUMBNAIL_SIDE) -> bytes:
    """A JPEG at most `side` pixels on its longer side. Call `check_image` first: this decodes the image."""
    check_image(file)
    _rewind(file)
    try:
        with Image.open(file) as image:
            image.draft("RGB", (side, side))  # JPEG: decode at a reduced scale straight away
            image.thumbnail((side, side))
            flat: Image.Image = image
            if image.mode not in ("RGB", "L"):  # transparency (PNG, GIF, WebP) on white
                flat = Image.new("RGB", image.size, "white")
                rgba = image.convert("RGBA")
                flat.paste(rgba, mask=rgba.getchannel("A"))
            out = io.BytesIO()
            flat.convert("RGB").save(out, format="JPEG", quality=82, optimize=True)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError("无法识别的图片：文件已损坏，或内容不是所标明的图片格式。") from exc
    finally:
        _rewind(file)


def thumbnail_name(original: str) -> str:
    """The stored thumbnail's file name next to the original's: photo.png → photo.thumb.jpg."""
    stem = original.rsplit("/", 1)[-1].rsplit(".", 1)[0] or "image"
    return f"{stem}.thumb.jpg"
