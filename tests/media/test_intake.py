"""Safe image intake: accepted formats decode to oriented RGB; hostile files get exact codes."""

from __future__ import annotations

import io
import random
import struct
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageFile
from skimage import data as samples

from tests.hostile import (
    HOSTILE_CASES,
    TRICKY_VALID,
    _png,
    encode,
    gif_frame_beyond_screen,
    huge_png_header,
    jpeg_with_exif_thumbnail,
    photo,
    photo_jpeg,
    png_bomb,
)
from vigil.errors import InvalidParameter, VigilError
from vigil.media.image import DecodedImage
from vigil.media.intake import DETECTION_SIDE, ImageLimits, check_polyglot, decode_image
from vigil.media.sniff import sniff
from vigil.settings import Settings

DEFAULTS = ImageLimits.from_settings(Settings.model_construct())
RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def decode(data: bytes, limits: ImageLimits = DEFAULTS) -> DecodedImage:
    return decode_image(data, limits)


def refusal(data: bytes, limits: ImageLimits = DEFAULTS) -> VigilError:
    with pytest.raises(VigilError) as caught:
        decode_image(data, limits)
    return caught.value


def close(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def rgb_at(decoded: DecodedImage, x: int, y: int) -> tuple[int, ...]:
    pixel = decoded.pixels.getpixel((x, y))
    assert isinstance(pixel, tuple)
    return pixel


# --- accepted formats -----------------------------------------------------------------------


def _grey16() -> Image.Image:
    ramp = np.linspace(0, 65535, 120, dtype=np.uint16)
    return Image.fromarray(np.tile(ramp, (90, 1)))


FORMATS: list[tuple[str, Any, str]] = [
    ("jpeg", lambda: encode(photo(), "JPEG"), "jpeg"),
    ("jpeg_cmyk", lambda: encode(photo().convert("CMYK"), "JPEG"), "jpeg"),
    ("jpeg_grey", lambda: encode(photo().convert("L"), "JPEG"), "jpeg"),
    ("jpeg_progressive", lambda: encode(photo(), "JPEG", progressive=True), "jpeg"),
    ("png", lambda: encode(photo(), "PNG"), "png"),
    ("png_rgba", lambda: encode(photo().convert("RGBA"), "PNG"), "png"),
    ("png_palette", lambda: encode(photo().convert("P"), "PNG"), "png"),
    ("png_1bit", lambda: encode(photo().convert("1"), "PNG"), "png"),
    ("png_16bit", lambda: encode(_grey16(), "PNG"), "png"),
    ("webp", lambda: encode(photo(), "WEBP"), "webp"),
    ("webp_lossless_alpha", lambda: encode(photo().convert("RGBA"), "WEBP", lossless=True), "webp"),
    ("gif", lambda: encode(photo(), "GIF"), "gif"),
    ("bmp", lambda: encode(photo(), "BMP"), "bmp"),
    ("bmp_1bit", lambda: encode(photo().convert("1"), "BMP"), "bmp"),
    ("tiff", lambda: encode(photo(), "TIFF"), "tiff"),
    ("tiff_deflate", lambda: encode(photo(), "TIFF", compression="tiff_adobe_deflate"), "tiff"),
    ("tiff_16bit", lambda: encode(_grey16(), "TIFF"), "tiff"),
    ("tiff_cmyk", lambda: encode(photo().convert("CMYK"), "TIFF"), "tiff"),
    ("tiff_la", lambda: encode(photo().convert("LA"), "TIFF"), "tiff"),
]


@pytest.mark.parametrize(("case", "build", "fmt"), FORMATS, ids=[case for case, _, _ in FORMATS])
def test_accepted_formats_decode_to_rgb(case: str, build: Any, fmt: str) -> None:
    data = build()
    decoded = decode(data)
    assert decoded.format == fmt
    assert decoded.mime == sniff(data).mime
    assert decoded.pixels.mode == "RGB"
    assert decoded.pixels.size == (decoded.width, decoded.height)
    assert (decoded.width, decoded.height) in ((160, 120), (120, 90))
    assert decoded.size_bytes == len(data)
    decoded.pixels.getpixel((0, 0))  # fully loaded, no file behind it


@pytest.mark.parametrize(("case", "build", "fmt"), FORMATS, ids=[case for case, _, _ in FORMATS])
def test_pillow_written_files_are_not_polyglots(case: str, build: Any, fmt: str) -> None:
    data = build()
    check_polyglot(data, sniff(data))


def test_a_real_photo_keeps_its_colours() -> None:
    pixels = samples.astronaut()  # type: ignore[no-untyped-call]
    decoded = decode(encode(Image.fromarray(pixels), "PNG"))
    assert (decoded.width, decoded.height) == (512, 512)
    assert np.array_equal(np.asarray(decoded.pixels), pixels)


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_16_bit_grey_is_scaled_not_clipped(fmt: str) -> None:
    decoded = decode(encode(_grey16(), fmt))
    dark, middle, bright = (rgb_at(decoded, x, 45)[0] for x in (0, 60, 119))
    assert dark == 0
    assert 120 <= middle <= 135  # 0..65535 maps to 0..255, so the ramp's middle is grey
    assert bright == 255


def test_cmyk_tiff_keeps_its_colours() -> None:
    image = Image.new("RGB", (100, 100), RED)
    decoded = decode(encode(image.convert("CMYK"), "TIFF"))
    assert close(rgb_at(decoded, 50, 50), RED)


# --- orientation ----------------------------------------------------------------------------


def _marked_image() -> Image.Image:
    """120 x 90, grey, with a red block in the stored top-left corner."""
    image = Image.new("RGB", (120, 90), (128, 128, 128))
    image.paste(RED, (0, 0, 30, 30))
    return image


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF"])
def test_exif_orientation_6_rotates_pixels_and_swaps_sides(fmt: str) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored image must be rotated 90 degrees clockwise for display
    options: dict[str, Any] = {"exif": exif} if fmt != "TIFF" else {"tiffinfo": {0x0112: 6}}
    if fmt in ("JPEG", "WEBP"):
        options["quality"] = 95
    decoded = decode(encode(_marked_image(), fmt, **options))
    assert (decoded.width, decoded.height) == (90, 120)
    # Rotating clockwise takes the stored top-left corner to the displayed top-right.
    assert close(rgb_at(decoded, 90 - 15, 15), RED)
    for x, y in ((15, 15), (15, 120 - 15), (90 - 15, 120 - 15)):
        assert close(rgb_at(decoded, x, y), (128, 128, 128))


def test_orientation_is_applied_before_the_size_limits() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(Image.new("RGB", (300, 100)), "JPEG", exif=exif)
    decoded = decode(
        data, ImageLimits(max_bytes=10**6, max_pixels=10**6, max_side=300, min_side=100)
    )
    assert (decoded.width, decoded.height) == (100, 300)


@pytest.mark.parametrize("orientation", [1, 6])
def test_a_large_jpeg_is_decoded_at_reduced_scale_with_its_own_size_reported(
    orientation: int,
) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    photo = Image.fromarray(samples.astronaut()).resize((4032, 3024))
    photo.paste(RED, (0, 0, 1000, 1000))  # the stored top-left corner
    decoded = decode(encode(photo, "JPEG", exif=exif, quality=90))
    upright = orientation == 1
    assert (decoded.width, decoded.height) == ((4032, 3024) if upright else (3024, 4032))
    assert decoded.pixels.size == ((2016, 1512) if upright else (1512, 2016))  # libjpeg's 1/2
    assert min(decoded.pixels.size) >= DETECTION_SIDE
    # Rotated or not, the red corner is where the upload's orientation puts it.
    corner = (100, 100) if upright else (decoded.pixels.width - 100, 100)
    assert close(rgb_at(decoded, *corner), RED)


def test_a_jpeg_below_twice_the_detection_side_is_decoded_whole() -> None:
    photo = Image.fromarray(samples.astronaut()).resize((2040, 2040))
    decoded = decode(encode(photo, "JPEG"))
    assert decoded.pixels.size == (decoded.width, decoded.height) == (2040, 2040)


# --- transparency and animation -------------------------------------------------------------


def test_alpha_is_composited_over_white() -> None:
    image = Image.new("RGBA", (120, 90), (255, 0, 0, 0))  # fully transparent red
    image.paste((0, 0, 255, 255), (60, 0, 120, 45))  # opaque blue
    image.paste((0, 0, 0, 128), (60, 45, 120, 90))  # half-transparent black
    decoded = decode(encode(image, "PNG"))
    assert rgb_at(decoded, 10, 10) == WHITE
    assert rgb_at(decoded, 90, 20) == BLUE
    assert close(rgb_at(decoded, 90, 70), (127, 127, 127), tolerance=2)


def test_palette_transparency_is_composited_over_white() -> None:
    image = Image.new("P", (100, 100), 0)
    image.putpalette([0, 255, 0] + [255, 0, 0] * 255)  # index 0 green, the rest red
    image.paste(1, (50, 0, 100, 100))
    decoded = decode(encode(image, "GIF", transparency=0))
    assert rgb_at(decoded, 10, 10) == WHITE
    assert rgb_at(decoded, 90, 10) == RED


def test_grey_with_alpha_is_composited_over_white() -> None:
    image = Image.new("LA", (100, 100), (0, 0))
    image.paste((0, 255), (50, 0, 100, 100))
    decoded = decode(encode(image, "PNG"))
    assert rgb_at(decoded, 10, 10) == WHITE
    assert rgb_at(decoded, 90, 10) == (0, 0, 0)


def _frames() -> list[Image.Image]:
    return [Image.new("RGB", (100, 100), colour) for colour in (RED, GREEN, BLUE)]


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_animations_give_their_first_frame(fmt: str) -> None:
    first, *rest = _frames()
    data = encode(first, fmt, save_all=True, append_images=rest, duration=100, loop=0)
    assert getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == 3
    decoded = decode(data)
    assert close(rgb_at(decoded, 50, 50), RED)


# --- hostile files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "data", "code"), HOSTILE_CASES, ids=[case for case, _, _ in HOSTILE_CASES]
)
def test_hostile_files_get_their_exact_error_code(case: str, data: bytes, code: str) -> None:
    error = refusal(data)
    assert error.code == code, error.message
    assert error.status in (400, 413, 415, 422)
    assert error.message


@pytest.mark.parametrize(("case", "data"), TRICKY_VALID, ids=[case for case, _ in TRICKY_VALID])
def test_tricky_but_valid_files_are_accepted(case: str, data: bytes) -> None:
    decoded = decode(data)
    assert (decoded.width, decoded.height) == (160, 120)


def test_exif_thumbnail_really_contains_a_second_end_marker() -> None:
    data = jpeg_with_exif_thumbnail()
    first_eoi = data.index(b"\xff\xd9")
    assert first_eoi < len(data) - 2  # a naive "first FFD9 ends the image" would refuse it
    assert data.count(b"\xff\xd8\xff") >= 2
    thumbnail = Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.IFD1)
    assert thumbnail[0x0202] > 1000  # JPEGInterchangeFormatLength: a real embedded JPEG


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"])
def test_truncated_files_are_corrupt(fmt: str) -> None:
    data = encode(photo(), fmt)
    assert refusal(data[: len(data) * 6 // 10]).code == "CorruptImage"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "BMP"])
def test_data_after_the_container_end_is_a_polyglot(fmt: str) -> None:
    payload = random.Random(7).randbytes(2000)
    error = refusal(encode(photo(), fmt) + payload)
    assert error.code == "PolyglotFile"
    assert "2,000 bytes follow" in error.message


@pytest.mark.parametrize(
    "marker",
    [
        b"<SCRIPT>",
        b"<?PHP ",
        b"<Html>",
        b"<svg/onload=alert(1)>",
        b"<iframe src=x>",
        b"JavaScript:alert(1)",
        b"<img src=x onerror=alert(1)>",
        b'<body ONLOAD ="steal()">',
        b"<a href='#' onmouseover=go()>",
    ],
)
def test_active_content_anywhere_is_a_polyglot(marker: bytes) -> None:
    data = encode(photo(), "JPEG", comment=b"harmless words " + marker + b" more words")
    assert refusal(data).code == "PolyglotFile"


def test_markup_lookalikes_without_a_tag_boundary_pass() -> None:
    data = encode(photo(), "JPEG", comment=b"<svgfoo <htmlx <scripts")
    decode(data)


def test_on_words_outside_a_tag_pass() -> None:
    data = encode(photo(), "JPEG", comment=b"Photo: online=yes, onboard=1 <3 < 5")
    decode(data)


def test_a_flood_of_jpeg_segments_is_refused_quickly() -> None:
    jpeg = photo_jpeg()
    flood = b"\xff\xfe\x00\x02" * 10_001  # empty comment segments
    assert refusal(jpeg[:2] + flood + jpeg[2:]).code == "CorruptImage"


def test_huge_header_is_refused_before_any_pixel_is_decoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_decoding(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    for data in (huge_png_header(), png_bomb(), gif_frame_beyond_screen()):
        assert refusal(data).code == "ImageTooLarge"
    assert len(huge_png_header()) < 200


def test_size_limits_hold_even_with_pillows_guard_switched_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    assert refusal(huge_png_header()).code == "ImageTooLarge"
    assert refusal(png_bomb()).code == "ImageTooLarge"


def test_pillows_own_bomb_guard_becomes_image_too_large() -> None:
    # 15,000 x 15,000 passes generous limits but trips Pillow's 2 x MAX_IMAGE_PIXELS error
    # inside Image.open: still a 413 with our code, not a 500.
    data = _png(15_000, 15_000, 1, 0, zlib.compress(b"\x00" * 64))
    generous = ImageLimits(max_bytes=10**8, max_pixels=10**9, max_side=20_000, min_side=1)
    error = refusal(data, generous)
    assert error.code == "ImageTooLarge"
    assert "225,000,000 pixels" in error.message


def test_side_limits_come_from_the_limits_given() -> None:
    data = encode(photo(), "PNG")  # 160 x 120
    tight = ImageLimits(max_bytes=10**6, max_pixels=10**6, max_side=150, min_side=10)
    assert refusal(data, tight).code == "ImageTooLarge"
    few_pixels = ImageLimits(max_bytes=10**6, max_pixels=19_000, max_side=1000, min_side=10)
    assert refusal(data, few_pixels).code == "ImageTooLarge"
    picky = ImageLimits(max_bytes=10**6, max_pixels=10**6, max_side=1000, min_side=121)
    assert refusal(data, picky).code == "ImageTooSmall"
    small_uploads = ImageLimits(
        max_bytes=len(data) - 1, max_pixels=10**6, max_side=1000, min_side=10
    )
    assert refusal(data, small_uploads).code == "ImageTooLarge"


def test_byte_limit_is_checked_before_the_format() -> None:
    limits = ImageLimits(max_bytes=4, max_pixels=10**6, max_side=1000, min_side=1)
    assert refusal(b"hello", limits).code == "ImageTooLarge"


def test_truncation_tolerance_enabled_elsewhere_fails_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    error = refusal(encode(photo(), "BMP"))
    assert (error.code, error.status) == ("InternalError", 500)


def test_decoding_leaves_pillow_and_warning_globals_alone() -> None:
    before = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES, list(warnings.filters))
    uploads = [photo_jpeg(), png_bomb(), huge_png_header()] * 8
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(_outcome, uploads))
    assert results == ["ok", "ImageTooLarge", "ImageTooLarge"] * 8
    after = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES, list(warnings.filters))
    assert after == before


def _outcome(data: bytes) -> str:
    try:
        decode(data)
    except VigilError as error:
        return error.code
    return "ok"


def test_damaged_bytes_never_escape_as_other_exceptions() -> None:
    rng = random.Random(1234)
    originals = [encode(photo(), fmt) for fmt in ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF")]
    for _ in range(300):
        data = bytearray(rng.choice(originals))
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(8, len(data))] = rng.randrange(256)
        outcome = _outcome(bytes(data))
        assert outcome in (
            "ok",
            "CorruptImage",
            "PolyglotFile",
            "ImageTooLarge",
            "ImageTooSmall",
            "InvalidImageFormat",
        )


# --- limits ---------------------------------------------------------------------------------


def test_limits_from_settings() -> None:
    settings = Settings.model_construct(
        max_upload_bytes=1000, max_pixels=2000, max_side=300, min_side=20
    )
    assert ImageLimits.from_settings(settings) == ImageLimits(1000, 2000, 300, 20)
    assert (DEFAULTS.max_bytes, DEFAULTS.max_pixels) == (20 * 1024 * 1024, 50_000_000)
    assert (DEFAULTS.max_side, DEFAULTS.min_side) == (10_000, 80)


@pytest.mark.parametrize("values", [(0, 1, 1, 1), (1, 1, 10, 20), (1, -5, 1, 1)])
def test_nonsense_limits_are_refused(values: tuple[int, int, int, int]) -> None:
    with pytest.raises(InvalidParameter):
        ImageLimits(*values)


def test_hostile_builders_stay_importable_for_http_tests() -> None:
    ids = [case for case, _, _ in HOSTILE_CASES]
    assert len(ids) == len(set(ids))
    assert all(isinstance(data, bytes) for _, data, _ in HOSTILE_CASES)
    assert struct.unpack(">II", huge_png_header()[16:24]) == (50_000, 50_000)
