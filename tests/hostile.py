"""Hostile and tricky uploads, built in memory, each with the error code intake must give.

``HOSTILE_CASES`` is (case id, bytes, expected error code) under the default settings;
``TRICKY_VALID`` is (case id, bytes) of files that look suspicious but must be accepted.
Generated images are at least 80 px per side unless the case is about size.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from functools import cache
from typing import Any

from PIL import Image
from skimage import data

from vigil.settings import Settings

DEFAULT_MAX_UPLOAD_BYTES: int = Settings.model_fields["max_upload_bytes"].default


@cache
def photo() -> Image.Image:
    """A real photo (scikit-image's astronaut), 160 x 120 so encodings stay small."""
    pixels = data.astronaut()  # type: ignore[no-untyped-call]
    return Image.fromarray(pixels).resize((160, 120))


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def photo_jpeg() -> bytes:
    return encode(photo(), "JPEG", quality=90)


def photo_png() -> bytes:
    return encode(photo(), "PNG")


def _zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("payload.txt", "hidden inside an image\n" * 20)
    return buffer.getvalue()


def _png_chunk(chunk_type: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(chunk_type + payload)
    return struct.pack(">I", len(payload)) + chunk_type + payload + struct.pack(">I", crc)


def _png(width: int, height: int, bit_depth: int, colour_type: int, idat: bytes) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


# --- refused ------------------------------------------------------------------------------


def empty() -> bytes:
    return b""


def text_named_jpg() -> bytes:
    """Plain text; over HTTP it is sent as ``photo.jpg`` with ``image/jpeg``, which changes
    nothing because the format comes from the bytes."""
    return b"hello"


def svg() -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200">'
        b'<rect width="200" height="200" fill="red"/>'
        b"<script>alert(document.cookie)</script></svg>\n"
    )


def html() -> bytes:
    return b"<!DOCTYPE html>\n<html><body><script>alert(1)</script></body></html>\n"


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def zip_archive() -> bytes:
    return _zip_archive()


def truncated_jpeg() -> bytes:
    jpeg = photo_jpeg()
    return jpeg[: len(jpeg) * 6 // 10]


def truncated_png() -> bytes:
    png = photo_png()
    return png[: len(png) * 6 // 10]


def huge_png_header() -> bytes:
    """A tiny PNG whose IHDR claims 50,000 x 50,000 RGB pixels (7.5 GB decoded)."""
    return _png(50_000, 50_000, 8, 2, zlib.compress(b"\x00" * 64))


def png_bomb() -> bytes:
    """A real, complete 9,000 x 9,000 1-bit PNG of about 10 KB: within the default longest
    side (10,000) but 81 million pixels, over the default 50 million."""
    side = 9_000
    row = b"\x00" + bytes((side + 7) // 8)  # filter byte + packed bits
    return _png(side, side, 1, 0, zlib.compress(row * side, 9))


def gif_frame_beyond_screen() -> bytes:
    """A 29-byte GIF: a 100 x 100 screen whose first frame claims 9,000 x 9,000 pixels
    (Pillow grows the canvas to fit the frame, so the frame's size is what counts)."""
    screen = b"GIF89a" + struct.pack("<HHBBB", 100, 100, 0, 0, 0)
    frame = b"," + struct.pack("<HHHHB", 0, 0, 9_000, 9_000, 0) + b"\x02\x02\x4c\x01\x00"
    return screen + frame + b";"


def tiny_image() -> bytes:
    """A valid 10 x 10 PNG: under the default shortest side (80)."""
    return encode(photo().resize((10, 10)), "PNG")


def oversized_upload() -> bytes:
    """One byte over the default VIGIL_MAX_UPLOAD_BYTES, starting like a JPEG."""
    return b"\xff\xd8\xff\xe0" + bytes(DEFAULT_MAX_UPLOAD_BYTES - 3)


def jpeg_zip_polyglot() -> bytes:
    """A JPEG with a ZIP archive appended: a valid image and a valid ZIP at once."""
    return photo_jpeg() + _zip_archive()


def jpeg_appended_jpeg() -> bytes:
    """A second, different image hidden after the first one's end (no MPF index)."""
    return photo_jpeg() + encode(photo().rotate(180), "JPEG")


def jpeg_pdf_header() -> bytes:
    """A JPEG whose comment segment right after SOI starts a PDF (PDF readers look for
    ``%PDF-`` in the first 1,024 bytes)."""
    jpeg = photo_jpeg()
    comment = b"%PDF-1.4\n%fake\n"
    segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    return jpeg[:2] + segment + jpeg[2:]


def gif_script_comment() -> bytes:
    return encode(photo(), "GIF", comment=b"<script>alert(document.domain)</script>")


def png_html_appended() -> bytes:
    return photo_png() + b"<html><body><script>alert(1)</script></body></html>"


def png_zip_in_chunk() -> bytes:
    """A ZIP hidden in a private chunk before IEND: nothing trails IEND, but ZIP readers
    still find the archive from its end record near the file's end."""
    png = photo_png()
    iend = png.rindex(b"IEND") - 4
    return png[:iend] + _png_chunk(b"ziPp", _zip_archive()) + png[iend:]


def tiff_zip_polyglot() -> bytes:
    """TIFF has no end marker, so the ZIP directory rule is what catches this."""
    return encode(photo(), "TIFF") + _zip_archive()


def webp_trailing_data() -> bytes:
    return encode(photo(), "WEBP") + _zip_archive()


def jpeg_php_in_comment() -> bytes:
    return encode(photo(), "JPEG", comment=b"<?php system($_GET['c']); ?>")


HOSTILE_CASES: list[tuple[str, bytes, str]] = [
    ("empty", empty(), "EmptyFile"),
    ("text_named_jpg", text_named_jpg(), "InvalidImageFormat"),
    ("svg", svg(), "InvalidImageFormat"),
    ("html", html(), "InvalidImageFormat"),
    ("pdf", pdf(), "InvalidImageFormat"),
    ("zip", zip_archive(), "InvalidImageFormat"),
    ("truncated_jpeg", truncated_jpeg(), "CorruptImage"),
    ("truncated_png", truncated_png(), "CorruptImage"),
    ("huge_png_header", huge_png_header(), "ImageTooLarge"),
    ("png_bomb", png_bomb(), "ImageTooLarge"),
    ("gif_frame_beyond_screen", gif_frame_beyond_screen(), "ImageTooLarge"),
    ("tiny_image", tiny_image(), "ImageTooSmall"),
    ("oversized_upload", oversized_upload(), "ImageTooLarge"),
    ("jpeg_zip_polyglot", jpeg_zip_polyglot(), "PolyglotFile"),
    ("jpeg_appended_jpeg", jpeg_appended_jpeg(), "PolyglotFile"),
    ("jpeg_pdf_header", jpeg_pdf_header(), "PolyglotFile"),
    ("jpeg_php_in_comment", jpeg_php_in_comment(), "PolyglotFile"),
    ("gif_script_comment", gif_script_comment(), "PolyglotFile"),
    ("png_html_appended", png_html_appended(), "PolyglotFile"),
    ("png_zip_in_chunk", png_zip_in_chunk(), "PolyglotFile"),
    ("tiff_zip_polyglot", tiff_zip_polyglot(), "PolyglotFile"),
    ("webp_trailing_data", webp_trailing_data(), "PolyglotFile"),
]


# --- accepted despite looking suspicious ----------------------------------------------------


def _exif_with_thumbnail(thumbnail: bytes) -> bytes:
    """Big-endian EXIF: IFD0 (Orientation 1) linked to IFD1 holding a JPEG thumbnail."""
    ifd0_offset, ifd1_offset = 8, 8 + 2 + 12 + 4
    thumbnail_offset = ifd1_offset + 2 + 3 * 12 + 4
    ifd0 = struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, 1, 0)
    ifd0 += struct.pack(">I", ifd1_offset)
    ifd1 = struct.pack(">H", 3)
    ifd1 += struct.pack(">HHIHH", 0x0103, 3, 1, 6, 0)  # Compression: JPEG
    ifd1 += struct.pack(">HHII", 0x0201, 4, 1, thumbnail_offset)
    ifd1 += struct.pack(">HHII", 0x0202, 4, 1, len(thumbnail))
    ifd1 += struct.pack(">I", 0)
    tiff = b"MM\x00*" + struct.pack(">I", ifd0_offset) + ifd0 + ifd1
    return b"Exif\x00\x00" + tiff + thumbnail


def jpeg_with_exif_thumbnail() -> bytes:
    """A camera-style JPEG: APP1 EXIF carries a complete thumbnail JPEG (its own FFD8 and
    FFD9) before the main image's data, which must not be mistaken for the image's end."""
    thumbnail = encode(photo().resize((80, 60)), "JPEG", quality=70)
    return encode(photo(), "JPEG", quality=90, exif=_exif_with_thumbnail(thumbnail))


def mpo_jpeg() -> bytes:
    """Multi-Picture Format, as phones write (depth maps, HDR gain maps)."""
    second = photo().resize((100, 80))
    return encode(photo(), "MPO", save_all=True, append_images=[second])


def jpeg_zero_padding() -> bytes:
    return photo_jpeg() + bytes(4096)


def jpeg_trailing_newline() -> bytes:
    return photo_jpeg() + b"\r\n"


def gif_without_trailer() -> bytes:
    gif = encode(photo(), "GIF")
    assert gif.endswith(b";")
    return gif[:-1]


TRICKY_VALID: list[tuple[str, bytes]] = [
    ("jpeg_with_exif_thumbnail", jpeg_with_exif_thumbnail()),
    ("mpo_jpeg", mpo_jpeg()),
    ("jpeg_zero_padding", jpeg_zero_padding()),
    ("jpeg_trailing_newline", jpeg_trailing_newline()),
    ("gif_without_trailer", gif_without_trailer()),
]
