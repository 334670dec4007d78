"""Flat margins that reposts add (a caption bar, a screenshot's frame) are cut before a second
PDQ hash, so such copies still match their original."""

from __future__ import annotations

from PIL import Image, ImageDraw
from skimage import data

from tests.reposts import captioned, screenshot
from vigil.service.hashlists.margins import without_margins
from vigil.service.hashlists.pdq import distance, hash_image, hash_upload, listed_hashes


def photo(name: str = "chelsea") -> Image.Image:
    return Image.fromarray(getattr(data, name)()).convert("RGB")


def test_a_photo_without_margins_is_left_alone() -> None:
    assert without_margins(photo()) is None
    assert hash_upload(photo()).content is None
    assert len(listed_hashes(photo())) == 1


def test_a_caption_bar_is_cut_away() -> None:
    original = photo()
    inner = without_margins(captioned(original))
    assert inner is not None
    assert inner.width == original.width
    assert abs(inner.height - original.height) <= 4


def test_a_screenshot_frame_of_two_colours_is_cut_away() -> None:
    original = photo("coffee")
    inner = without_margins(screenshot(original))
    assert inner is not None
    assert abs(inner.width - original.width * 4 // 5) <= 6
    assert abs(inner.height - original.height * 4 // 5) <= 6


def test_copies_with_margins_match_only_through_the_cut_hash() -> None:
    listed = hash_image(photo()).digest
    for copy in (captioned(photo()), screenshot(photo())):
        upload = hash_upload(copy)
        assert distance(listed, upload.digest) > 31  # the whole picture no longer matches
        assert upload.content is not None
        assert distance(listed, upload.content.digest) <= 31
        assert len(upload.queries) == 16


def test_a_mostly_flat_picture_keeps_at_least_half_of_each_side() -> None:
    logo = Image.new("RGB", (400, 400), "white")
    ImageDraw.Draw(logo).ellipse((180, 180, 220, 220), fill="red")
    inner = without_margins(logo)
    assert inner is not None
    # Half of each side, less the boundary row dropped on each cut side.
    assert inner.width >= 196 and inner.height >= 196
