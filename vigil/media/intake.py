"""Safe image intake: refuse what must not be decoded, then decode once to oriented RGB.

The order matters. Cheap checks on the raw bytes come first (empty, too many bytes, format
from magic bytes, polyglot structure); the declared pixel size is then read from the header
and refused before a single pixel is decoded; only then are pixels decoded, with Pillow
restricted to the one format the magic bytes named.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from PIL import Image, ImageFile, ImageOps

from vigil.errors import (
    CorruptImage,
    EmptyFile,
    ImageTooLarge,
    ImageTooSmall,
    InvalidParameter,
    PolyglotFile,
    VigilError,
)
from vigil.media.image import DecodedImage
from vigil.media.sniff import ImageFormat, ImageKind, describe, sniff

if TYPE_CHECKING:
    from vigil.settings import Settings

_PILLOW_FORMAT: dict[ImageFormat, str] = {
    "jpeg": "JPEG",
    "png": "PNG",
    "webp": "WEBP",
    "gif": "GIF",
    "bmp": "BMP",
    "tiff": "TIFF",
}
_DISPLAY_NAME: dict[ImageFormat, str] = {
    "jpeg": "JPEG",
    "png": "PNG",
    "webp": "WebP",
    "gif": "GIF",
    "bmp": "BMP",
    "tiff": "TIFF",
}


# The shortest side a large JPEG is decoded at (docs/intake.md): enough for every detector (the
# largest working size is OCR's 1280 px on the long side; MediaPipe's is 960 px).
DETECTION_SIDE = 1024


@dataclass(frozen=True)
class ImageLimits:
    """What intake accepts: bytes per upload, pixels per image, longest and shortest side."""

    max_bytes: int
    max_pixels: int
    max_side: int
    min_side: int

    def __post_init__(self) -> None:
        for field in fields(self):
            if getattr(self, field.name) < 1:
                raise InvalidParameter(f"image limit {field.name} must be at least 1")
        if self.min_side > self.max_side:
            raise InvalidParameter("image limit min_side must not exceed max_side")

    @classmethod
    def from_settings(cls, settings: Settings) -> ImageLimits:
        return cls(
            max_bytes=settings.max_upload_bytes,
            max_pixels=settings.max_pixels,
            max_side=settings.max_side,
            min_side=settings.min_side,
        )


def decode_image(data: bytes, limits: ImageLimits) -> DecodedImage:
    """Check ``data`` and decode it to an RGB image with EXIF orientation applied.

    Raises EmptyFile, ImageTooLarge, InvalidImageFormat, PolyglotFile, ImageTooSmall or
    CorruptImage; see docs/intake.md.
    """
    if not data:
        raise EmptyFile("The upload is empty (0 bytes); send the image's bytes.")
    if len(data) > limits.max_bytes:
        raise ImageTooLarge(
            f"The upload is {len(data):,} bytes; the largest accepted is "
            f"{limits.max_bytes:,} bytes."
        )
    kind = sniff(data)
    check_polyglot(data, kind)
    pixels, (width, height) = _decode(data, kind, limits)
    return DecodedImage(
        pixels=pixels,
        format=kind.format,
        mime=kind.mime,
        width=width,
        height=height,
        size_bytes=len(data),
    )


# --- decoding -------------------------------------------------------------------------------


def _decode(
    data: bytes, kind: ImageKind, limits: ImageLimits
) -> tuple[Image.Image, tuple[int, int]]:
    """The RGB pixels (a JPEG's possibly at reduced scale) and the upload's oriented size."""
    _require_strict_truncation()
    name = _DISPLAY_NAME[kind.format]
    try:
        with Image.open(io.BytesIO(data), formats=[_PILLOW_FORMAT[kind.format]]) as opened:
            # Image.open only parses the header, so this refuses before any pixel memory.
            check_size(opened.size, limits)
            declared = opened.size
            if kind.format == "jpeg":
                _draft(opened)
            decoded = opened.size
            opened.load()  # first frame only for GIF, APNG and animated WebP
            oriented = ImageOps.exif_transpose(opened)
        swapped = oriented.size != decoded
        size = (declared[1], declared[0]) if swapped else declared
        # Orientation can only swap the sides, but checking the final size is cheap and
        # keeps the guarantee about what detectors receive independent of the header.
        check_size(size, limits)
        return _to_rgb(oriented), size
    except (VigilError, MemoryError):
        raise
    except Image.DecompressionBombError as exc:
        # Pillow's own process-wide guard (2 x MAX_IMAGE_PIXELS) fired inside Image.open,
        # before check_size could run: still a size refusal, not a server error.
        raise ImageTooLarge(
            f"The image declares {_bomb_pixels(exc)} than this service decodes (at most "
            f"{limits.max_pixels:,} pixels and {limits.max_side:,} pixels per side)."
        ) from exc
    except Exception as exc:
        # Pillow reports malformed input with many exception types (OSError, SyntaxError,
        # ValueError, struct.error, EOFError, ...); for an upload they all mean the same.
        raise CorruptImage(
            f"The file looks like a {name} image but could not be decoded; it is damaged "
            f"or incomplete ({exc})."
        ) from exc


def _draft(opened: Image.Image) -> None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale while the short side stays at least
    ``DETECTION_SIDE``: what every detector needs, in about half the time and a quarter of the
    memory for a 12 MP photo (measured: 20 ms instead of 37-54 ms)."""
    width, height = opened.size
    scale = min(width, height) / DETECTION_SIDE
    if scale >= 2:
        opened.draft("RGB", (math.ceil(width / scale), math.ceil(height / scale)))


_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")


def _bomb_pixels(error: Image.DecompressionBombError) -> str:
    found = _BOMB_PIXELS.search(str(error))  # Pillow's message: "Image size (N pixels) ..."
    return f"{int(found.group(1)):,} pixels, more" if found else "more pixels"


def _require_strict_truncation() -> None:
    # LOAD_TRUNCATED_IMAGES is process-wide. If other code turned it on, truncated uploads
    # would decode as partly grey images; fail closed instead of flipping a global that
    # other threads may be reading.
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise VigilError(
            "Image decoding is misconfigured on the server "
            "(PIL.ImageFile.LOAD_TRUNCATED_IMAGES is enabled)."
        )


def check_size(size: tuple[int, int], limits: ImageLimits) -> None:
    """Refuse a width x height outside ``limits`` (ImageTooLarge / ImageTooSmall).

    This is the decompression-bomb guard: it uses the configured limits explicitly instead
    of Pillow's global MAX_IMAGE_PIXELS, and it needs no warnings filter (turning Pillow's
    DecompressionBombWarning into an error would mean ``warnings.catch_warnings``, which
    mutates interpreter-wide state and is not thread-safe).
    """
    width, height = size
    if max(width, height) > limits.max_side:
        raise ImageTooLarge(
            f"The image is {width:,} x {height:,} pixels; the longest side accepted is "
            f"{limits.max_side:,} pixels."
        )
    if width * height > limits.max_pixels:
        raise ImageTooLarge(
            f"The image is {width:,} x {height:,} = {width * height:,} pixels; the most "
            f"accepted is {limits.max_pixels:,} pixels."
        )
    if min(width, height) < limits.min_side:
        raise ImageTooSmall(
            f"The image is {width:,} x {height:,} pixels; each side must be at least "
            f"{limits.min_side:,} pixels."
        )


_HIGH_DEPTH_MODES = frozenset({"I", "F", "I;16", "I;16L", "I;16B", "I;16N"})
_WHITE = (255, 255, 255, 255)


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB pixels; transparency (alpha band or palette/colour-key transparency) over white."""
    if image.mode in _HIGH_DEPTH_MODES:
        image = _to_8bit_grey(image)
    if image.has_transparency_data:
        background = Image.new("RGBA", image.size, _WHITE)
        return Image.alpha_composite(background, image.convert("RGBA")).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def _to_8bit_grey(image: Image.Image) -> Image.Image:
    # convert("L") clips 16-bit samples at 255 (a mostly white image), so scale first.
    wide = image if image.mode in ("I", "F") else image.convert("I")
    return wide.point(lambda value: value * (1 / 257)).convert("L")


# --- polyglot checks ------------------------------------------------------------------------
#
# A polyglot is a file that is a valid image and, read by another program, something else:
# a ZIP/JAR, a PDF, an HTML page or a PHP script. Detectors only ever see the pixels, so the
# rest would pass moderation unseen and could be served back from our storage. Three rules:
#
# (a) Nothing may follow the end of the image container beyond TRAILING_SLACK bytes (or
#     padding made only of 0x00/0xFF bytes, which some encoders add and which carries
#     nothing). Containers are parsed structurally, because searching for the last end
#     marker is fooled by embedded thumbnails and by payloads that contain end markers.
#     TIFF has no end (it is a graph of offsets), so only rules (b) and (c) cover it.
# (b) No ZIP end-of-central-directory record at the end and no PDF header near the start,
#     wherever they hide (inside a metadata chunk, say): that is where ZIP and PDF readers
#     look for them.
# (c) No active-content markers anywhere: <script, <?php, <html, <svg, <iframe, javascript:,
#     or an on...= event attribute inside a tag (case-insensitive). Tags must be followed by
#     a character that ends an HTML tag name (whitespace, / or >), as a browser requires
#     (and "<?php" by whitespace, as PHP does).
#     Compressed pixel data is random-looking bytes: a bare "<svg" would match about 1 in
#     25 such 20 MB files; with the boundary it is about 1 in 1,000 (1 in 10,000 at 2 MB).

TRAILING_SLACK = 16
MAX_JPEG_SCANS = 500  # real progressive JPEGs have ~10; thousands make libjpeg crawl
MAX_JPEG_MARKERS = 10_000  # real JPEGs have tens to hundreds; bounds this parser's work


def check_polyglot(data: bytes, kind: ImageKind) -> None:
    """Refuse ``data`` (already sniffed as ``kind``) if it is also another kind of file.

    Raises PolyglotFile, or CorruptImage where the container ends before its data does.
    """
    end_of = _CONTAINER_END.get(kind.format)
    if end_of is not None:
        _check_trailing(data, end_of(data), _DISPLAY_NAME[kind.format])
    if _has_zip_directory(data):
        raise PolyglotFile(
            "The file is an image and also a ZIP archive (it holds a ZIP directory); "
            "files that are two things at once are refused."
        )
    if b"%PDF-" in data[:_PDF_HEADER_WINDOW]:
        raise PolyglotFile(
            "The file is an image and also a PDF document (it has a PDF header near its "
            "start); files that are two things at once are refused."
        )
    marker = _active_content_marker(data)
    if marker is not None:
        raise PolyglotFile(
            f"The file contains web or script content ({marker!r}), which an image has no "
            "reason to carry; it is refused."
        )


def _check_trailing(data: bytes, end: int | None, name: str) -> None:
    if end is None:
        return
    extra = data[end:]
    if len(extra) <= TRAILING_SLACK or not extra.strip(b"\x00\xff"):
        return
    raise PolyglotFile(
        f"{len(extra):,} bytes follow the end of the {name} image and look like "
        f"{describe(extra)}; files that are an image and something else at once are refused."
    )


def _truncated(name: str) -> CorruptImage:
    return CorruptImage(
        f"The {name} image is incomplete: the file ends before the image does "
        "(it may have been cut off during upload)."
    )


def _malformed(name: str, what: str) -> CorruptImage:
    return CorruptImage(f"The {name} image is damaged: {what}.")


def _u16be(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos : pos + 2], "big")


def _u32be(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos : pos + 4], "big")


def _u16le(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos : pos + 2], "little")


def _u32le(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos : pos + 4], "little")


# JPEG: walk the marker segments (skipping each by its length, so an EXIF thumbnail's own
# FFD8...FFD9 inside APP1 is never seen) and, after each SOS, the entropy-coded data up to
# the next real marker (0xFF not followed by a 0x00 stuffing byte or a restart marker).
_JPEG_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_NOT_FF = re.compile(rb"[^\xff]")
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


def _jpeg_end(data: bytes) -> int:
    end, has_mpf = _jpeg_stream_end(data, 0)
    if has_mpf:
        # Multi-Picture Format (CIPA DC-007; phones use it for depth maps and HDR gain maps)
        # stores further complete JPEG images right after the first one's EOI.
        while data.startswith(b"\xff\xd8\xff", end):
            end, _ = _jpeg_stream_end(data, end)
    return end


def _jpeg_stream_end(data: bytes, start: int) -> tuple[int, bool]:
    """End offset of the JPEG stream starting at ``start`` and whether it declares MPF."""
    size, pos, scans, has_mpf = len(data), start + 2, 0, False
    for _ in range(MAX_JPEG_MARKERS):
        pos = data.find(b"\xff", pos)  # like libjpeg, skip stray bytes between segments
        if pos < 0:
            raise _truncated("JPEG")
        found = _NOT_FF.search(data, pos)  # skip fill bytes
        if found is None:
            raise _truncated("JPEG")
        pos = found.start()
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # EOI
            return pos, has_mpf
        if marker in _JPEG_STANDALONE:
            continue
        if marker == 0xD8:
            raise _malformed("JPEG", "a second start-of-image marker inside the image")
        if pos + 2 > size:
            raise _truncated("JPEG")
        length = _u16be(data, pos)
        if length < 2:
            raise _malformed("JPEG", "a segment with an impossible length")
        if pos + length > size:
            raise _truncated("JPEG")
        if marker == 0xE2 and data.startswith(b"MPF\x00", pos + 2):
            has_mpf = True
        pos += length
        if marker == 0xDA:  # SOS: entropy-coded data follows the header
            scans += 1
            if scans > MAX_JPEG_SCANS:
                raise _malformed("JPEG", f"more than {MAX_JPEG_SCANS} progressive scans")
            found = _JPEG_NEXT_MARKER.search(data, pos)
            if found is None:
                raise _truncated("JPEG")
            pos = found.start()
    raise _malformed("JPEG", f"more than {MAX_JPEG_MARKERS:,} markers")


_PNG_MAX_CHUNK = 2**31 - 1  # the PNG spec's limit on a chunk's length


def _png_end(data: bytes) -> int:
    size, pos = len(data), 8
    while True:
        if pos + 12 > size:
            raise _truncated("PNG")
        length = _u32be(data, pos)
        if length > _PNG_MAX_CHUNK:
            raise _malformed("PNG", "a chunk with an impossible length")
        chunk_type = data[pos + 4 : pos + 8]
        pos += 12 + length  # length, type, data, CRC
        if pos > size:
            raise _truncated("PNG")
        if chunk_type == b"IEND":
            return pos


_NON_ZERO = re.compile(rb"[^\x00]")


def _gif_end(data: bytes) -> int:
    size = len(data)
    if size < 13:
        raise _truncated("GIF")
    pos = 13 + _colour_table_size(data[10])  # header + logical screen descriptor
    while True:
        if pos >= size:
            # No trailer, but every block is complete: nothing was appended. Pillow and
            # browsers accept such files, so do we.
            return size
        block = data[pos]
        if block == 0x3B:  # trailer
            return pos + 1
        if block == 0x21:  # extension: label, then data sub-blocks
            pos = _skip_gif_sub_blocks(data, pos + 2)
        elif block == 0x2C:  # image descriptor, optional local colour table, LZW data
            if pos + 10 > size:
                raise _truncated("GIF")
            pos += 10 + _colour_table_size(data[pos + 9]) + 1
            pos = _skip_gif_sub_blocks(data, pos)
        elif block == 0x00:  # a stray block terminator, a common encoder quirk
            found = _NON_ZERO.search(data, pos)
            pos = size if found is None else found.start()
        else:
            raise _malformed("GIF", f"an unknown block type 0x{block:02x}")


def _colour_table_size(packed: int) -> int:
    return 3 << ((packed & 0x07) + 1) if packed & 0x80 else 0


def _skip_gif_sub_blocks(data: bytes, pos: int) -> int:
    size = len(data)
    while True:
        if pos >= size:
            raise _truncated("GIF")
        length = data[pos]
        pos += 1 + length
        if length == 0:
            return pos


def _webp_end(data: bytes) -> int:
    riff_size = _u32le(data, 4)
    end = 8 + riff_size + (riff_size & 1)  # RIFF chunks are padded to an even length
    if end > len(data):
        raise _truncated("WebP")
    return end


def _bmp_end(data: bytes) -> int | None:
    # bfSize is the whole file's length. Some writers leave it 0 or wrong; then there is no
    # reliable end, and a short pixel array is still caught by the decoder.
    declared = _u32le(data, 2)
    return declared if 26 <= declared <= len(data) else None


_CONTAINER_END: dict[ImageFormat, Callable[[bytes], int | None]] = {
    "jpeg": _jpeg_end,
    "png": _png_end,
    "gif": _gif_end,
    "webp": _webp_end,
    "bmp": _bmp_end,
}

# ZIP readers find an archive from its end-of-central-directory record, which sits in the
# last 22 + 65,535 bytes (its comment may cover the rest), whatever precedes it.
_ZIP_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP_CENTRAL_HEADER = b"PK\x01\x02"
_ZIP_TAIL = 22 + 0xFFFF
# PDF readers accept the %PDF- header anywhere in the first 1,024 bytes.
_PDF_HEADER_WINDOW = 1024


def _has_zip_directory(data: bytes) -> bool:
    floor = max(0, len(data) - _ZIP_TAIL)
    pos = data.rfind(_ZIP_EOCD, floor)
    while pos >= 0:
        if _is_zip_eocd(data, pos):
            return True
        pos = data.rfind(_ZIP_EOCD, floor, pos + len(_ZIP_EOCD) - 1)
    return False


def _is_zip_eocd(data: bytes, pos: int) -> bool:
    # The signature alone could occur by chance in pixel data; a real record is also
    # preceded by its central directory (or, for ZIP64, by the ZIP64 locator).
    if len(data) < pos + 22:
        return False
    if pos >= 20 and data.startswith(_ZIP64_LOCATOR, pos - 20):
        return True
    entries = _u16le(data, pos + 10)
    directory_start = pos - _u32le(data, pos + 12)
    if entries == 0 or directory_start < 0:
        return False
    return data.startswith(_ZIP_CENTRAL_HEADER, directory_start)


_ACTIVE_TAG = re.compile(rb"<(?:script|html|svg|iframe)[\t\n\f\r />]|<\?php(?:[\t\n\r ]|\Z)")
_JAVASCRIPT_URL = b"javascript:"
# An event-handler attribute inside a tag (<img src=x onerror=...>): it runs script without any
# <script. The tag context keeps random compressed bytes from matching ("on" and a few letters
# and "=" alone would, about once per megabyte).
_EVENT_ATTRIBUTE = re.compile(
    rb"<[a-z][a-z0-9]{0,15}(?:[\t\n\f\r /][^<>]{0,512}?)?[\t\n\f\r /\"']"
    rb"(on[a-z]{3,24})[\t\n\f\r ]*="
)


def _active_content_marker(data: bytes) -> str | None:
    lowered = data.lower()  # ASCII-only lowering: exactly the case-insensitivity wanted
    found = _ACTIVE_TAG.search(lowered)
    if found is not None:
        return found.group().rstrip(b"\t\n\f\r />").decode("ascii")
    if _JAVASCRIPT_URL in lowered:
        return _JAVASCRIPT_URL.decode("ascii")
    handler = _EVENT_ATTRIBUTE.search(lowered)
    if handler is not None:
        return f"{handler.group(1).decode('ascii')}="
    return None
