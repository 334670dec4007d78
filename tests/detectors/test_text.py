"""The text detector with the real RapidOCR models, on text drawn with Pillow."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from tests.detectors.conftest import decoded, photo_array
from vigil import taxonomy
from vigil.detectors.base import TEXT_LINE, Detection
from vigil.detectors.registry import build_detectors
from vigil.detectors.text import (
    FUZZY_SCALE,
    TextDetector,
    TextLine,
    det_input,
    edges,
    line_pixels,
)
from vigil.errors import DetectorFailed
from vigil.media.image import DecodedImage


class CountingDetector(TextDetector):
    """The real detector, counting how often the full OCR and the gate's model run."""

    ocr_calls = 0
    model_calls = 0

    def read_lines(self, image: Image.Image, text_map: np.ndarray | None = None) -> list[TextLine]:
        self.ocr_calls += 1
        return super().read_lines(image, text_map)

    def text_map(self, batch: np.ndarray) -> np.ndarray:
        self.model_calls += 1
        return super().text_map(batch)


@pytest.fixture(scope="module")
def detector() -> CountingDetector:
    loaded = CountingDetector(threads=1)
    loaded.load()
    return loaded


def with_text(
    text: str,
    size: int = 40,
    background: str | None = None,
    at: tuple[int, int] = (30, 40),
) -> DecodedImage:
    """``text`` drawn on white (640x240) or on a sample photo, meme style (white, outlined)."""
    if background is None:
        image = Image.new("RGB", (640, 240), "white")
        fill, stroke = (0, 0, 0), 0
    else:
        image = Image.fromarray(photo_array(background)).convert("RGB")
        fill, stroke = (255, 255, 255), max(1, size // 16)
    font = ImageFont.load_default(size=size)
    ImageDraw.Draw(image).text(
        at, text, fill=fill, font=font, stroke_width=stroke, stroke_fill=(0, 0, 0)
    )
    return decoded(np.asarray(image))


def labels(found: Sequence[Detection]) -> dict[str, Detection]:
    return {d.label: d for d in found if not d.is_text_line}


def lines(found: Sequence[Detection]) -> list[str]:
    return [d.text or "" for d in found if d.is_text_line]


def test_describes_itself(detector: CountingDetector) -> None:
    assert detector.name == "text"
    assert detector.labels[0] == taxonomy.TEXT_TOP
    assert set(detector.labels[1:]) == {"Extremist Text", "Hate Speech", "Drug Sales", "Profanity"}
    assert detector.on_demand is True
    assert detector.version.startswith("rapidocr==")
    assert "Apache-2.0" in detector.licence


@pytest.mark.parametrize(
    ("text", "size", "background", "label", "term"),
    [
        ("what the fuck", 40, None, "Profanity", "fuck"),
        ("what the fuck", 24, "coffee", "Profanity", "fuck"),
        ("weed for sale", 56, "chelsea", "Drug Sales", "weed for sale"),
        ("you faggot", 32, "astronaut", "Hate Speech", "faggot"),
        ("SIEG HEIL", 64, None, "Extremist Text", "SIEG HEIL"),
    ],
)
def test_reads_a_term_and_reports_its_label(
    detector: CountingDetector,
    text: str,
    size: int,
    background: str | None,
    label: str,
    term: str,
) -> None:
    [found] = detector.detect([with_text(text, size, background)])
    matched = labels(found)[label]
    assert matched.text == term
    assert matched.detector == "text"
    [line] = [d for d in found if d.is_text_line and d.text and term in d.text]
    assert matched.confidence == pytest.approx(line.confidence)
    assert 50 < matched.confidence <= 100
    assert matched.box == line.box


def test_leetspeak_is_a_drug_sale_with_a_lower_confidence(detector: CountingDetector) -> None:
    [found] = detector.detect([with_text("w33d f0r sale", 48, "coffee")])
    sale = labels(found)["Drug Sales"]
    assert sale.text == "w33d f0r sale"
    [line] = [d for d in found if d.is_text_line]
    assert sale.confidence == pytest.approx(line.confidence * FUZZY_SCALE)


def test_innocent_text_gives_lines_but_no_labels(detector: CountingDetector) -> None:
    [found] = detector.detect([with_text("glass class assignment", 36)])
    assert lines(found) == ["glass class assignment"]
    assert labels(found) == {}
    [line] = found
    assert line.label == TEXT_LINE
    assert line.box is not None
    # Drawn at x=30, y=40 on a 640x240 image.
    assert line.box.left == pytest.approx(30 / 640, abs=0.03)
    assert line.box.top == pytest.approx(40 / 240, abs=0.06)
    assert 0 < line.box.width < 1 and 0 < line.box.height < 0.5


@pytest.mark.parametrize("name", ["coffee", "chelsea"])
def test_no_text_gives_nothing_and_the_gate_skips_the_ocr(
    detector: CountingDetector, name: str
) -> None:
    before = detector.ocr_calls
    assert detector.detect([decoded(photo_array(name))]) == [[]]
    assert detector.ocr_calls == before
    assert not detector.likely_text(Image.fromarray(photo_array(name)))


def gradient_image() -> DecodedImage:
    ramp = np.linspace(0, 255, 800, dtype=np.float32)
    row = np.stack([ramp, 255 - ramp, np.full_like(ramp, 60)], axis=-1)
    return decoded(np.repeat(row[np.newaxis], 600, axis=0).astype(np.uint8))


def test_the_quick_check_rules_out_plain_images_without_the_model(
    detector: CountingDetector,
) -> None:
    before = detector.ocr_calls, detector.model_calls
    assert detector.detect([gradient_image()]) == [[]]
    assert (detector.ocr_calls, detector.model_calls) == before


def test_a_photo_the_quick_check_cannot_rule_out_goes_to_the_model(
    detector: CountingDetector,
) -> None:
    # A cat's fur and whiskers have sharp edges in rows: the quick check lets the photo
    # through, and the model finds no text in it.
    before = detector.model_calls
    assert not detector.likely_text(Image.fromarray(photo_array("chelsea")))
    assert detector.model_calls == before + 1


def test_with_the_quick_check_off_the_model_always_runs(detector: CountingDetector) -> None:
    unchecked = CountingDetector(threads=1, gate_quick=False)
    unchecked._engine, unchecked._gate = detector._engine, detector._gate
    assert not unchecked.likely_text(gradient_image().pixels)
    assert unchecked.model_calls == 1


def test_text_passes_the_gate(detector: CountingDetector) -> None:
    before = detector.ocr_calls
    detector.detect([with_text("Happy birthday", 18, "chelsea")])
    assert detector.ocr_calls == before + 1


def test_a_batch_gives_one_list_per_image_in_order(detector: CountingDetector) -> None:
    batch = [with_text("bullshit", 40), decoded(photo_array("coffee")), with_text("cocaine", 40)]
    found = detector.detect(batch)
    assert [set(labels(f)) for f in found] == [{"Profanity"}, set(), {"Drug Sales"}]
    assert detector.detect([]) == []


def test_with_the_gate_off_the_ocr_always_runs() -> None:
    ungated = CountingDetector(threads=1, gate=False)
    ungated.load()
    before = ungated.ocr_calls
    ungated.detect([decoded(photo_array("chelsea"))])
    assert ungated.ocr_calls == before + 1


@pytest.mark.parametrize(
    ("size", "side"),
    [((200, 100), 200), ((1200, 900), 640), ((1800, 1000), 720), ((4000, 3000), 768)],
)
def test_the_gate_looks_closer_at_large_images_and_small_ones_at_their_own_size(
    detector: CountingDetector, size: tuple[int, int], side: int
) -> None:
    assert detector.gate_side_for(Image.new("RGB", size)) == side


def test_the_gate_enlarges_small_images_when_asked() -> None:
    enlarging = CountingDetector(threads=1, gate_enlarge=True)
    assert enlarging.gate_side_for(Image.new("RGB", (200, 100))) == 640


def test_small_text_on_a_large_photo_passes_the_gate(detector: CountingDetector) -> None:
    photo = Image.fromarray(photo_array("chelsea")).resize((2000, 1330))
    ImageDraw.Draw(photo).text(
        (1200, 200), "cocaine", fill="white", font=ImageFont.load_default(size=22)
    )
    before = detector.ocr_calls
    [found] = detector.detect([decoded(np.asarray(photo))])
    assert detector.ocr_calls == before + 1
    assert labels(found)["Drug Sales"].text == "cocaine"


def test_line_pixels_counts_only_sharp_line_shaped_regions() -> None:
    text_map = np.zeros((100, 100), dtype=np.float32)
    sharpness = np.full((100, 100), 20.0, dtype=np.float32)
    text_map[10:15, 10:60] = 0.9  # a line of text: 50x5
    text_map[40:90, 40:80] = 0.9  # a tall blob: 40x50
    text_map[95:99, 0:4] = 0.4  # below the probability counted
    text_map[20:25, 10:60] = 0.9  # line-shaped but smooth, like a gradient
    sharpness[20:25, 10:60] = 1.0
    assert line_pixels(text_map, sharpness) == 250


def test_edges_of_a_flat_image_are_zero() -> None:
    batch = det_input(Image.new("RGB", (300, 200), (120, 40, 200)), 384)
    assert edges(batch).shape == batch.shape[2:]
    assert float(edges(batch).max()) == pytest.approx(0.0, abs=1e-3)


def test_extra_terms_are_matched(detector: CountingDetector) -> None:
    custom = TextDetector(threads=1, extra_terms={"profanity": ["frak"]})
    custom._engine, custom._gate = detector._engine, detector._gate  # share the loaded models
    [found] = custom.detect([with_text("frak it", 40)])
    assert labels(found)["Profanity"].text == "frak"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"gate_side": 10}, "gate_side must be a whole number"),
        ({"gate_min_pixels": "many"}, "gate_min_pixels must be a whole number"),
        ({"gate": "yes"}, "must be true/false"),
        ({"gate_quick": 1}, "gate, gate_quick, gate_enlarge and upside_down must be"),
        ({"min_line_score": 2}, "min_line_score must be a number from 0 to 1"),
        ({"max_side": 1.5}, "max_side must be a whole number"),
        ({"colour": "red"}, "Unknown text detector option"),
        ({"precision": "int4"}, "precision must be one of fp32, int8"),
        ({"extra_terms": {"insults": ["x"]}}, "Unknown term category 'insults'"),
        ({"terms_dir": "/nowhere/at/all"}, "not a directory"),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(DetectorFailed, match=message):
        TextDetector(threads=1, **options)  # type: ignore[arg-type]


def test_detect_before_load_is_refused() -> None:
    with pytest.raises(DetectorFailed, match="before load"):
        TextDetector(threads=1).detect([with_text("hello", 40)])


def test_the_registry_builds_it_with_options() -> None:
    options = {"text": {"gate": False, "gate_quick": False, "gate_side": 320}}
    [built] = build_detectors(["text"], 1, options)
    assert isinstance(built, TextDetector)
    assert (built.options.gate, built.options.gate_quick, built.options.gate_side) == (
        False,
        False,
        320,
    )


def test_the_gate_runs_in_int8_by_default_and_fp32_reads_the_same(
    detector: CountingDetector,
) -> None:
    assert detector.version.endswith("+gate-map+int8")
    full = TextDetector(threads=1, precision="fp32")
    full.load()
    assert full.version.endswith("+gate-map")
    image = with_text("cocaine for sale", 40, "coffee")
    for reader in (full, detector):
        [found] = reader.detect([image])
        assert labels(found).keys() == {"Drug Sales"}


def test_lines_are_read_in_the_gates_boxes_without_a_second_detection_pass(
    detector: CountingDetector,
) -> None:
    image = with_text("Happy birthday", 40, "chelsea")
    text_map = detector.gate(image.pixels)
    assert text_map is not None
    [line] = detector.read_lines(image.pixels, text_map)
    assert line.text == "Happy birthday"
    # Drawn at x=30, y=40 on the 451x300 cat photo.
    assert line.box.left == pytest.approx(30 / 451, abs=0.03)
    assert line.box.top == pytest.approx(40 / 300, abs=0.05)
