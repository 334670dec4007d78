"""Telling video containers apart by their leading bytes, as sniff.py does for images.

Accepted: MP4, MOV, M4V (ISO base media), WebM and Matroska (EBML), and AVI (RIFF). Animated
GIF and WebP are images by their bytes; intake treats them as video when they have more than
one frame (see ``animated_kind``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from vigil.media.sniff import STILL_IMAGE_BRANDS, ImageKind, image_kind

VIDEO_NAMES = "MP4, MOV, M4V, WebM, MKV and AVI, and animated GIF and WebP"


@dataclass(frozen=True)
class VideoKind:
    """An accepted video container (``format``) and its media type (``mime``)."""

    format: str
    mime: str


MP4 = VideoKind("mp4", "video/mp4")
MOV = VideoKind("mov", "video/quicktime")
M4V = VideoKind("m4v", "video/x-m4v")
WEBM = VideoKind("webm", "video/webm")
MKV = VideoKind("mkv", "video/x-matroska")
AVI = VideoKind("avi", "video/x-msvideo")
ANIMATED_GIF = VideoKind("gif", "image/gif")
ANIMATED_WEBP = VideoKind("webp", "image/webp")

# QuickTime files written without an ftyp box start with one of these atoms.
_QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"


def sniff_video(head: bytes) -> VideoKind | None:
    """The video container ``head`` (the file's first bytes) starts, or None."""
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in STILL_IMAGE_BRANDS:
            return None
        if brand == b"qt  ":
            return MOV
        if brand.startswith(b"M4V"):
            return M4V
        return MP4
    if head[4:8] in _QUICKTIME_ATOMS:
        return MOV
    if head.startswith(_EBML_MAGIC):
        return WEBM if b"webm" in head[:64] else MKV
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return AVI
    return None


def animated_kind(data: bytes, image: ImageKind) -> VideoKind | None:
    """For a GIF or WebP with more than one frame, its video kind; None for still images
    (and for anything Pillow can't open, which image intake then refuses clearly)."""
    if image.format not in ("gif", "webp"):
        return None
    try:
        with Image.open(io.BytesIO(data)) as opened:
            frames = int(getattr(opened, "n_frames", 1))
    except Exception:  # broken files are image intake's to explain
        return None
    if frames < 2:
        return None
    return ANIMATED_GIF if image.format == "gif" else ANIMATED_WEBP


def video_kind(head: bytes, read_all: Callable[[], bytes]) -> VideoKind | None:
    """The video kind of a file starting with ``head``, or None for anything else. The whole
    file (``read_all``) is read only for a GIF or WebP, to count its frames."""
    kind = sniff_video(head)
    if kind is not None:
        return kind
    image = image_kind(head)
    if image is None or image.format not in ("gif", "webp"):
        return None
    return animated_kind(read_all(), image)
