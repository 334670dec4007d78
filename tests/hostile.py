"""Hostile and tricky uploads, built in memory, each with the error code intake must give.

``HOSTILE_CASES`` is (case id, bytes, expected error code) under the default settings;
``TRICKY_VALID`` is (case id, bytes) of files that look suspicious but must be accepted.
Generated images are at least 80 px per side unless the case is about size.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
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


# --- fuzzing: valid seeds of every accepted format, and ways to break them -------------------
# benchmarks/fuzz.py draws from these with a seeded random.Random, so a run is repeatable.

FUZZ_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP")


@cache
def format_seed(fmt: str) -> bytes:
    """A valid, accepted photo in ``fmt`` (one of FUZZ_FORMATS)."""
    return encode(photo(), fmt)


def bit_flips(payload: bytes, rng: random.Random, flips: int) -> bytes:
    if not payload:
        return payload
    out = bytearray(payload)
    for _ in range(flips):
        position = rng.randrange(len(out))
        out[position] ^= 1 << rng.randrange(8)
    return bytes(out)


def truncate(payload: bytes, rng: random.Random) -> bytes:
    return payload[: rng.randrange(max(1, len(payload)))]


def splice(head_of: bytes, tail_of: bytes, rng: random.Random) -> bytes:
    """One file's first bytes (its header) followed by the rest of another."""
    cut = rng.randrange(4, 64)
    return head_of[:cut] + tail_of[cut:]


def overwrite_word(payload: bytes, rng: random.Random) -> bytes:
    """A 32-bit field somewhere set to an extreme: where it is a length, size or offset, the
    parser is told to read far past the end (or nothing at all)."""
    if len(payload) < 8:
        return payload
    position = rng.randrange(len(payload) - 4)
    word = rng.choice(
        (b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x00\x00\x00\x00", b"\x80\x00\x00\x00")
    )
    return payload[:position] + word + payload[position + 4 :]


def huge_declared_size(fmt: str) -> bytes:
    """A small file whose header declares a canvas far beyond every limit."""
    seed = format_seed(fmt)
    if fmt == "PNG":
        return huge_png_header()
    if fmt == "GIF":
        return seed[:6] + struct.pack("<HH", 65535, 65535) + seed[10:]
    if fmt == "BMP":
        return seed[:18] + struct.pack("<ii", 2_000_000_000, -2_000_000_000) + seed[26:]
    if fmt == "JPEG":
        sof = seed.index(b"\xff\xc0")
        return seed[: sof + 5] + struct.pack(">HH", 65535, 65535) + seed[sof + 9 :]
    if fmt == "WEBP":
        return _webp_vp8x(2**24 - 1, 2**24 - 1) + seed[12:]
    return _tiff_declaring(2**31 - 1, 2**31 - 1)


def _webp_vp8x(width: int, height: int) -> bytes:
    """A WebP RIFF header followed by a VP8X chunk declaring ``width`` x ``height``."""
    chunk = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little")
    chunk += (height - 1).to_bytes(3, "little")
    vp8x = b"VP8X" + struct.pack("<I", len(chunk)) + chunk
    return b"RIFF" + struct.pack("<I", 4 + len(vp8x) + 1_000) + b"WEBP" + vp8x


def _tiff_declaring(width: int, height: int) -> bytes:
    """A little-endian TIFF whose one IFD declares the size and strips of 8 bytes."""
    entries = [
        (256, 4, 1, width),  # ImageWidth
        (257, 4, 1, height),  # ImageLength
        (258, 3, 1, 8),  # BitsPerSample
        (259, 3, 1, 1),  # Compression: none
        (262, 3, 1, 1),  # Photometric: black is zero
        (273, 4, 1, 8),  # StripOffsets
        (277, 3, 1, 1),  # SamplesPerPixel
        (278, 4, 1, height),  # RowsPerStrip
        (279, 4, 1, 8),  # StripByteCounts
    ]
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        ifd += struct.pack("<HHII", tag, kind, count, value)
    return b"II*\x00" + struct.pack("<I", 16) + bytes(8) + ifd + struct.pack("<I", 0)


def png_text_bomb() -> bytes:
    """A valid PNG carrying a zTXt chunk that inflates to 1 GB of zeros (a zlib bomb aimed at
    metadata readers rather than the pixel decoder)."""
    compressor = zlib.compressobj(9)
    zeros = bytes(1024 * 1024)
    bomb = b"".join(compressor.compress(zeros) for _ in range(1024)) + compressor.flush()
    png = photo_png()
    iend = png.rindex(b"IEND") - 4
    return png[:iend] + _png_chunk(b"zTXt", b"Comment\x00\x00" + bomb) + png[iend:]


def tiff_deflate_bomb() -> bytes:
    """A deflate-compressed TIFF of 9,000 x 9,000 grey pixels: about 80 KB on the wire."""
    return encode(Image.new("L", (9_000, 9_000)), "TIFF", compression="tiff_adobe_deflate")


def frame_bomb(fmt: str, frames: int) -> bytes:
    """An animation of ``frames`` tiny frames (GIF or WEBP): cheap to send, costly to walk."""
    first = Image.new("RGB", (100, 100))
    rest = [Image.new("RGB", (100, 100), (n % 256, 0, 0)) for n in range(1, frames)]
    return encode(first, fmt, save_all=True, append_images=rest, duration=10, loop=0)


def mutated_image(fmt: str, rng: random.Random) -> tuple[str, bytes]:
    """One hostile variant of a ``fmt`` photo: (how it was made, the bytes)."""
    seed = format_seed(fmt)
    other = format_seed(rng.choice(FUZZ_FORMATS))
    choices: list[tuple[str, Callable[[], bytes]]] = [
        ("bitflip", lambda: bit_flips(seed, rng, rng.choice((1, 4, 32)))),
        ("truncate", lambda: truncate(seed, rng)),
        ("splice", lambda: splice(seed, other, rng)),
        ("word", lambda: overwrite_word(seed, rng)),
        ("huge", lambda: huge_declared_size(fmt)),
        ("polyglot", lambda: seed + rng.choice((_zip_archive(), html(), pdf(), svg()))),
        ("bomb", lambda: _bomb(fmt, rng)),
        ("valid", lambda: seed),
    ]
    name, make = rng.choice(choices)
    return name, make()


def _bomb(fmt: str, rng: random.Random) -> bytes:
    if fmt == "PNG":
        return rng.choice((_cached_png_bomb, _cached_png_text_bomb))()
    if fmt in ("GIF", "WEBP"):
        return _cached_frame_bomb(fmt)
    if fmt == "TIFF":
        return _cached_tiff_bomb()
    return huge_declared_size(fmt)


@cache
def _cached_frame_bomb(fmt: str) -> bytes:
    return frame_bomb(fmt, 3_000)


@cache
def _cached_tiff_bomb() -> bytes:
    return tiff_deflate_bomb()


def mp4_huge_box(video: bytes) -> bytes:
    """The first box after ``ftyp`` claims 2**64 - 1 bytes (a 64-bit ``largesize``)."""
    ftyp_size = struct.unpack(">I", video[:4])[0]
    rest = video[ftyp_size:]
    kind = rest[4:8]
    return video[:ftyp_size] + struct.pack(">I", 1) + kind + b"\xff" * 8 + rest[8:]


def mutated_video(video: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One hostile variant of a small clip: (how it was made, the bytes)."""
    choices: list[tuple[str, Callable[[], bytes]]] = [
        ("bitflip", lambda: bit_flips(video, rng, rng.choice((1, 8, 64)))),
        ("truncate", lambda: truncate(video, rng)),
        ("word", lambda: overwrite_word(video, rng)),
        ("splice", lambda: splice(video, format_seed(rng.choice(FUZZ_FORMATS)), rng)),
        ("polyglot", lambda: video + _zip_archive()),
        ("valid", lambda: video),
    ]
    if video[4:8] == b"ftyp":
        choices.append(("hugebox", lambda: mp4_huge_box(video)))
    name, make = rng.choice(choices)
    return name, make()


def hostile_text(rng: random.Random) -> str:
    """A form, query or JSON string value meant to break parsers, validators and logs."""
    return rng.choice(
        (
            "",
            " ",
            "x" * rng.choice((256, 4_096, 100_000)),
            "\x00",
            "a\x00b",
            "\r\nSet-Cookie: x=1",
            "\x1b[31mred",
            "../../../../etc/passwd",
            "..%2F..%2Fetc%2Fpasswd",
            "%00",
            "%ZZ",
            "\u202e\u0645\u0631\u062d\u0628\u0627",
            "\U0001f4a9" * 50,
            "Z\u0351\u0352\u0353" * 100,
            "NaN",
            "Infinity",
            "-1",
            "0",
            str(2**63),
            str(2**64 + 1),
            "9" * 5_000,
            "1e999",
            "-1e-999",
            "true",
            "null",
            "[]",
            "{}",
            "' OR 1=1 --",
            '"; DROP TABLE assets; --',
            "<script>alert(1)</script>",
            "${jndi:ldap://127.0.0.1/a}",
            "{{7*7}}",
            "%s%s%s%n",
            "http://127.0.0.1:9/x",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "http://[::1",
            "http://127.0.0.1:99999/",
            ",".join(["t"] * 5_000),
        )
    )


def hostile_json(rng: random.Random, depth: int = 0) -> Any:
    """A JSON-able value of a wrong type, extreme size or extreme nesting."""
    pick = rng.randrange(12)
    if pick == 0 and depth < 3:
        return {hostile_text(rng)[:200]: hostile_json(rng, depth + 1) for _ in range(3)}
    if pick == 1 and depth < 3:
        return [hostile_json(rng, depth + 1) for _ in range(rng.choice((0, 1, 3)))]
    if pick == 2:
        return rng.choice((2**63, -(2**63) - 1, 2**64, 10**300, -1, 0))
    if pick == 3:
        return rng.choice((1e308, -1e308, 5e-324, 0.5))
    if pick == 4:
        return rng.choice((True, False, None))
    if pick == 5:
        return [0] * rng.choice((1_000, 100_000))
    return hostile_text(rng)


def nested_json(depth: int) -> str:
    """``depth`` nested arrays: Python's json module recurses once per level."""
    return "[" * depth + "]" * depth


@cache
def _cached_png_bomb() -> bytes:
    return png_bomb()


@cache
def _cached_png_text_bomb() -> bytes:
    return png_text_bomb()
