"""The text gate's quick check (vigil.detectors.text_gate), without the models: images with no
line of text in them are ruled out, lines of text of any size are not."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from tests.detectors.conftest import photo_array
from vigil.detectors.text import det_batch
from vigil.detectors.text_gate import edge_mask, fit, may_hold_text


def written(
    text: str, size: int, canvas: tuple[int, int] = (640, 480), colour: str = "black"
) -> np.ndarray:
    """``text`` on a white ``canvas``, as RGB uint8."""
    image = Image.new("RGB", canvas, "white")
    font = ImageFont.load_default(size=size)
    ImageDraw.Draw(image).text((20, canvas[1] // 3), text, fill=colour, font=font)
    return np.asarray(image)


def gradient(width: int = 640, height: int = 480) -> np.ndarray:
    ramp = np.linspace(0, 255, width, dtype=np.float32)
    row = np.stack([ramp, 255 - ramp, np.full_like(ramp, 90)], axis=-1)
    return np.repeat(row[np.newaxis], height, axis=0).astype(np.uint8)


def noise(sigma: float, width: int = 640, height: int = 480) -> np.ndarray:
    pixels = np.random.default_rng(3).normal(128, sigma, (height, width, 3))
    return np.clip(pixels, 0, 255).astype(np.uint8)


def blurred_photo(name: str) -> np.ndarray:
    photo = Image.fromarray(photo_array(name)).filter(ImageFilter.GaussianBlur(3))
    return np.asarray(photo.resize((640, 480)))


@pytest.mark.parametrize(
    "pixels",
    [
        np.full((480, 640, 3), 200, np.uint8),
        gradient(),
        noise(25),
        noise(50),
        blurred_photo("chelsea"),
        blurred_photo("coffee"),
    ],
    ids=["flat", "gradient", "noise-25", "noise-50", "blurred-chelsea", "blurred-coffee"],
)
def test_images_without_lines_are_ruled_out(pixels: np.ndarray) -> None:
    assert not may_hold_text(pixels)


@pytest.mark.parametrize("size", [12, 18, 40, 90, 140])
def test_a_line_of_text_of_any_size_may_hold_text(size: int) -> None:
    # 140 px letters have edges only along their strokes at full size: found halved/quartered.
    assert may_hold_text(written("Grand opening", size, canvas=(1400, 480)))


def test_a_single_short_word_may_hold_text() -> None:
    assert may_hold_text(written("1488", 24))


def test_red_text_on_a_dark_background_may_hold_text() -> None:
    # Grey levels alone barely tell these apart; the check looks at R, G and B.
    image = Image.new("RGB", (640, 240), (40, 40, 40))
    ImageDraw.Draw(image).text(
        (20, 90), "buy xanax", fill=(200, 30, 30), font=ImageFont.load_default(size=28)
    )
    assert may_hold_text(np.asarray(image))


def test_text_on_a_blurred_photo_may_hold_text() -> None:
    image = Image.fromarray(blurred_photo("coffee"))
    font = ImageFont.load_default(size=30)
    ImageDraw.Draw(image).text((40, 60), "Fresh coffee", fill="white", font=font)
    assert may_hold_text(np.asarray(image))


def test_a_busy_photo_is_left_to_the_model() -> None:
    # The check rules out only what has no line-like edges; the model decides on the rest.
    assert may_hold_text(photo_array("astronaut"))


def test_edges_are_sharp_steps_only() -> None:
    step = np.zeros((40, 40, 3), np.uint8)
    step[:, 20:] = 255
    ramp = np.repeat(np.linspace(0, 255, 40, dtype=np.uint8)[np.newaxis], 40, axis=0)
    soft = Image.fromarray(step).filter(ImageFilter.GaussianBlur(4))
    assert edge_mask(step)[:, 19:21].all() and edge_mask(step).dtype == np.uint8
    assert not edge_mask(np.stack([ramp] * 3, axis=-1)).any()
    assert not edge_mask(np.asarray(soft)).any()


@pytest.mark.parametrize("size", [(4000, 3000), (1000, 700), (300, 200)])
def test_fit_resizes_to_the_size_asked(size: tuple[int, int]) -> None:
    image = Image.new("RGB", size, (10, 200, 30))
    fitted = fit(image, 640, 480)
    assert fitted.shape == (480, 640, 3) and fitted.dtype == np.uint8
    assert (fitted == (10, 200, 30)).all()


def test_fit_converts_to_rgb() -> None:
    assert fit(Image.new("L", (100, 100), 77), 64, 64).shape == (64, 64, 3)


def test_det_batch_is_bgr_nchw_normalised() -> None:
    view = np.zeros((32, 64, 3), np.uint8)
    view[..., 0] = 255  # red
    batch = det_batch(view)
    assert batch.shape == (1, 3, 32, 64) and batch.dtype == np.float32
    assert batch[0, :, 0, 0] == pytest.approx([-1.0, -1.0, 1.0])  # B, G, R


@pytest.mark.parametrize("size", [(1, 1), (7, 300), (32, 32)])
def test_tiny_images_are_checked_without_error(size: tuple[int, int]) -> None:
    pixels = np.asarray(Image.new("RGB", size, "white"))
    assert not may_hold_text(pixels)
    assert fit(Image.new("RGB", size), 32, 64).shape == (64, 32, 3)
