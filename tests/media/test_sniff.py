"""The format comes from the magic bytes alone; anything else is named in the refusal."""

from __future__ import annotations

import dataclasses

import pytest
from PIL import Image

from tests.hostile import encode, html, pdf, photo, svg, text_named_jpg, zip_archive
from vigil.errors import InvalidImageFormat
from vigil.media.sniff import ACCEPTED, ImageKind, describe, sniff

PILLOW_WRITTEN = [
    ("JPEG", "jpeg", "image/jpeg"),
    ("PNG", "png", "image/png"),
    ("WEBP", "webp", "image/webp"),
    ("GIF", "gif", "image/gif"),
    ("BMP", "bmp", "image/bmp"),
    ("TIFF", "tiff", "image/tiff"),
]


@pytest.mark.parametrize(("pillow_format", "fmt", "mime"), PILLOW_WRITTEN)
def test_each_accepted_format_is_recognised(pillow_format: str, fmt: str, mime: str) -> None:
    kind = sniff(encode(photo(), pillow_format))
    assert (kind.format, kind.mime) == (fmt, mime)


def test_big_endian_tiff_and_bigtiff_are_tiff() -> None:
    assert sniff(b"MM\x00*" + bytes(64)).format == "tiff"
    assert sniff(b"II+\x00" + bytes(64)).format == "tiff"


def test_kinds_are_frozen_and_listed() -> None:
    assert {kind.format for kind in ACCEPTED} == {"jpeg", "png", "webp", "gif", "bmp", "tiff"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        ACCEPTED[0].format = "png"  # type: ignore[misc]
    assert ImageKind("png", "image/png") in ACCEPTED


def _refusal(data: bytes) -> str:
    with pytest.raises(InvalidImageFormat) as caught:
        sniff(data)
    assert caught.value.code == "InvalidImageFormat"
    assert caught.value.status == 415
    return caught.value.message


@pytest.mark.parametrize(
    ("data", "looks_like"),
    [
        (text_named_jpg(), "plain text"),
        (svg(), "SVG"),
        (b'\xef\xbb\xbf  <svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
        (html(), "HTML"),
        (b"<?xml version='1.0'?><note>hi</note>", "XML"),
        (pdf(), "PDF"),
        (zip_archive(), "ZIP"),
        (b"\x00\x00\x00\x18ftypheic" + bytes(32), "HEIC"),
        (b"\x00\x00\x00\x18ftypisom" + bytes(32), "video"),
        (bytes(range(256)), "unknown binary"),
        ("caf\u00e9 cr\u00e8me \u2014 not an image\n".encode(), "plain text"),
    ],
)
def test_non_images_are_refused_and_named(data: bytes, looks_like: str) -> None:
    message = _refusal(data)
    assert looks_like in message
    assert "JPEG, PNG, WebP, GIF, BMP and TIFF" in message


def test_text_starting_with_bm_is_not_a_bitmap() -> None:
    assert "plain text" in _refusal(b"BMW owners club newsletter, issue 42\n")


@pytest.mark.parametrize("prefix", [b"\xff\xd8", b"\x89PNG", b"GIF8", b"RIFF\x00\x00\x00\x00"])
def test_a_cut_off_magic_is_not_enough(prefix: bytes) -> None:
    _refusal(prefix)


def test_only_the_bytes_decide() -> None:
    # A PNG is a PNG whatever it would be called; a JPEG-looking name cannot make text one.
    png = encode(Image.new("RGB", (80, 80)), "PNG")
    assert sniff(png).format == "png"
    assert describe(png) == "a PNG image"
