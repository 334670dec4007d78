"""Deciding what uploaded bytes are from their magic bytes alone.

A file's name and the content type a client declares are both chosen by the uploader, so they
are never consulted: only the leading bytes decide the format. Anything that is not one of the
accepted raster formats is refused with a message that says what the bytes look like instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from vigil.errors import InvalidImageFormat

ImageFormat = Literal["jpeg", "png", "webp", "gif", "bmp", "tiff"]


@dataclass(frozen=True)
class ImageKind:
    """An accepted image format (``format``) and its media type (``mime``)."""

    format: ImageFormat
    mime: str


JPEG = ImageKind("jpeg", "image/jpeg")
PNG = ImageKind("png", "image/png")
WEBP = ImageKind("webp", "image/webp")
GIF = ImageKind("gif", "image/gif")
BMP = ImageKind("bmp", "image/bmp")
TIFF = ImageKind("tiff", "image/tiff")

ACCEPTED: tuple[ImageKind, ...] = (JPEG, PNG, WEBP, GIF, BMP, TIFF)
ACCEPTED_NAMES = "JPEG, PNG, WebP, GIF, BMP and TIFF"

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TIFF_PREFIXES = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF
# BITMAPINFOHEADER sizes of the BMP variants Pillow reads; checking it keeps text that happens
# to start with "BM" from being taken for a bitmap.
_BMP_HEADER_SIZES = frozenset({12, 40, 52, 56, 64, 108, 124})


def sniff(data: bytes) -> ImageKind:
    """The accepted image format ``data`` starts with, or ``InvalidImageFormat`` saying what
    the bytes look like instead."""
    kind = image_kind(data)
    if kind is None:
        raise InvalidImageFormat(
            f"This file is not an image this service accepts: its content looks like "
            f"{describe(data)}. Accepted formats are {ACCEPTED_NAMES}; the format is decided "
            "from the file's content, never from its name or declared content type."
        )
    return kind


def image_kind(data: bytes) -> ImageKind | None:
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(_PNG_SIGNATURE):
        return PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if data[:2] == b"BM" and int.from_bytes(data[14:18], "little") in _BMP_HEADER_SIZES:
        return BMP
    if data[:4] in _TIFF_PREFIXES:
        return TIFF
    return None


# Other things people upload, told apart by their first bytes; checked before the text tests.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or a document format built on ZIP)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x7fELF", "a Linux executable"),
    (b"\x00\x00\x01\x00", "a Windows icon (ICO)"),
    (b"8BPS", "a Photoshop document"),
    (b"\xff\x0a", "a JPEG XL image"),
    (b"\x00\x00\x00\x0cJXL ", "a JPEG XL image"),
    (b"\x00\x00\x00\x0cjP  ", "a JPEG 2000 image"),
    (b"RIFF", "a RIFF container (audio or video)"),
)
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
# ISO base media brands that are still images, not video (video sniffing skips them).
STILL_IMAGE_BRANDS = _HEIF_BRANDS | _AVIF_BRANDS
_MARKUP_SAMPLE = 4096
_HTML_HINTS = re.compile(rb"<!doctype html|<html|<head|<body|<script|<iframe|<div|<a\s")


def describe(data: bytes) -> str:
    """A short phrase for what ``data`` looks like ("a PDF document", "plain text", ...)."""
    kind = image_kind(data)
    if kind is not None:
        return f"a {kind.format.upper()} image"
    for prefix, name in _SIGNATURES:
        if data.startswith(prefix):
            return name
    if data[4:8] == b"ftyp":
        return _describe_iso_media(data[8:12])
    markup = _describe_markup(data)
    if markup is not None:
        return markup
    if _is_text(data[:_MARKUP_SAMPLE]):
        return "plain text"
    if data[:2] == b"MZ":
        return "a Windows executable"
    return "unknown binary data"


def _describe_iso_media(brand: bytes) -> str:
    if brand in _HEIF_BRANDS:
        return "a HEIC/HEIF image (convert it to JPEG first)"
    if brand in _AVIF_BRANDS:
        return "an AVIF image"
    return "a video (MP4/QuickTime)"


def _describe_markup(data: bytes) -> str | None:
    head = data[:_MARKUP_SAMPLE].removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if not head.startswith(b"<"):
        return None
    if b"<svg" in head:
        return "an SVG image (SVG can carry scripts, so it is not accepted)"
    if _HTML_HINTS.search(head):
        return "an HTML document"
    if head.startswith(b"<?xml"):
        return "an XML document"
    return "HTML or XML markup"


def _is_text(sample: bytes) -> bool:
    if not sample:
        return False
    # A multi-byte UTF-8 character may be cut by the sample's end; drop up to 3 bytes of it.
    for cut in range(4):
        try:
            text = sample[: len(sample) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return all(ch.isprintable() or ch in "\t\n\r\f\v" for ch in text)
    return False
