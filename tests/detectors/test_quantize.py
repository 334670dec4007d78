"""Int8 variants: built from the shipped calibration tables, cached, close to fp32."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from skimage import data

from vigil.detectors import nsfw
from vigil.detectors.graphic import GraphicDetector
from vigil.detectors.nsfw import NsfwDetector
from vigil.detectors.onnx import package_model
from vigil.detectors.quantize import calibration_table, quantized_model
from vigil.errors import DetectorFailed
from vigil.media.image import DecodedImage

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")


def decoded(name: str) -> DecodedImage:
    pixels = Image.fromarray(getattr(data, name)()).convert("RGB")
    return DecodedImage(pixels, "png", "image/png", pixels.width, pixels.height, 0)


def test_int8_variant_is_built_once_and_reused(tmp_path: Path) -> None:
    source = package_model(nsfw.PACKAGE, nsfw.MODEL_FILE)
    built = quantized_model(source, calibration_table("nsfw"), cache=tmp_path)
    assert built.parent == tmp_path and built.name.endswith(".int8.onnx")
    assert built.stat().st_size < source.stat().st_size / 2  # int8 weights
    first = built.stat().st_mtime_ns
    assert quantized_model(source, calibration_table("nsfw"), cache=tmp_path) == built
    assert built.stat().st_mtime_ns == first
    assert [p.name for p in tmp_path.iterdir()] == [built.name]  # no scratch left behind


@pytest.mark.parametrize("detector", [NsfwDetector, GraphicDetector])
def test_int8_scores_stay_within_five_points_of_fp32(detector: type[NsfwDetector]) -> None:
    images = [decoded(name) for name in PHOTOS]
    full, small = detector(precision="fp32"), detector(precision="int8")
    full.load()
    small.load()
    assert small.version == f"{full.version}+int8"
    for a, b in zip(full.detect(images), small.detect(images), strict=True):
        for x, y in zip(a, b, strict=True):
            assert x.label == y.label
            assert abs(x.confidence - y.confidence) < 5.0


def test_unknown_precision_and_missing_table_are_refused() -> None:
    with pytest.raises(DetectorFailed, match="precision must be one of fp32, int8"):
        NsfwDetector(precision="int4")
    with pytest.raises(DetectorFailed, match="no calibration table"):
        calibration_table("nudity-v9")


def test_a_model_that_cannot_be_quantized_is_a_clear_failure(tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx model")
    with pytest.raises(DetectorFailed, match="set the detector's precision option to fp32"):
        quantized_model(broken, calibration_table("nsfw"), cache=tmp_path / "cache")
