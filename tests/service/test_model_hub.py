"""`vigil models pull` from a Hugging Face repository of ONNX CLIP towers, against a real hub
server on 127.0.0.1 (tests/service/model_tiny_hub.py): the bundle lands with its prompts
embedded, the clip detector loads it and detects, and every checksum, pinned or recorded at the
first download, is enforced."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.detectors.conftest import decoded
from tests.detectors.tiny_clip import solid
from tests.service.model_tiny_hub import REPO, REVISION, checksums, serve, write_repo
from vigil.detectors.clip import ClipDetector
from vigil.errors import DetectorFailed, ModelChecksumMismatch, ModelDownloadFailed
from vigil.service.engine.model_hub import HubSource, clip_config
from vigil.service.engine.model_manifest import read_manifest
from vigil.service.engine.model_pull import installed, pull, pull_source

RED, BLUE, GREY = "a red thing", "a blue thing", "a grey thing"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[str, Path, list[str]]]:
    """(address, the served repository's folder, the requests seen)."""
    root = tmp_path / "hub"
    folder = write_repo(root / REPO / REVISION)
    with serve(root) as (address, seen):
        yield address, folder, seen


def pinned(folder: Path, **overrides: str) -> dict[str, HubSource]:
    sha256 = {**checksums(folder), **overrides}
    return {"tiny": HubSource("tiny", REPO, REVISION, sha256=sha256)}


def clip(models_dir: Path, name: str = "tiny", **labels: str) -> ClipDetector:
    found = ClipDetector(
        model=name,
        models_dir=str(models_dir),
        custom_labels=labels,
        neutral_prompts=[GREY],
        logit_scale=20.0,  # the tiny towers' cosines span [0, 1], not CLIP's narrow band
    )
    found.load()
    return found


def test_the_bundle_lands_and_the_detector_detects(
    hub: tuple[str, Path, list[str]], tmp_path: Path
) -> None:
    address, folder, seen = hub
    models_dir = tmp_path / "models"
    pull("tiny", models_dir, 5, pinned(folder), endpoint=address, prompts=[RED, GREY])
    assert installed(models_dir) == ["tiny"]
    assert f"GET /{REPO}/resolve/{REVISION}/onnx/text_model.onnx" in seen
    bundle = models_dir / "tiny"
    assert json.loads((bundle / "config.json").read_text())["image_size"] == 32
    prompts = json.loads((bundle / "prompts.json").read_text())
    table = np.load(bundle / "text_embeddings.npy")
    assert table.shape == (len(prompts), 4) and RED in prompts and "a photo" in prompts
    red, grey = clip(models_dir, Weapons=RED).detect(
        [decoded(solid((230, 10, 10))), decoded(solid((128, 128, 128)))]
    )
    assert {d.label: d.confidence for d in red}["Weapons"] > 95
    assert {d.label: d.confidence for d in grey}["Weapons"] < 5


def test_a_pinned_checksum_that_does_not_match_is_refused(
    hub: tuple[str, Path, list[str]], tmp_path: Path
) -> None:
    address, folder, _ = hub
    registry = pinned(folder, **{"tokenizer.json": "0" * 64})
    with pytest.raises(ModelChecksumMismatch, match=r"tokenizer\.json has sha256 .* pinned"):
        pull("tiny", tmp_path / "models", 5, registry, endpoint=address)
    assert list((tmp_path / "models").iterdir()) == []


def test_a_tampered_file_is_refused_and_the_installed_bundle_kept(
    hub: tuple[str, Path, list[str]], tmp_path: Path
) -> None:
    address, folder, _ = hub
    models_dir = tmp_path / "models"
    registry = pinned(folder)
    pull("tiny", models_dir, 5, registry, endpoint=address, prompts=[RED, GREY])
    (folder / "onnx" / "vision_model.onnx").write_bytes(b"a model someone swapped in")
    with pytest.raises(ModelChecksumMismatch, match=r"vision_model\.onnx has sha256"):
        pull("tiny", models_dir, 5, registry, endpoint=address)
    assert [p.name for p in models_dir.iterdir()] == ["tiny"]
    clip(models_dir, Weapons=RED)


def test_the_first_download_records_checksums_a_later_pull_enforces(
    hub: tuple[str, Path, list[str]], tmp_path: Path
) -> None:
    address, folder, _ = hub
    models_dir = tmp_path / "models"
    unpinned = HubSource("tiny", REPO, REVISION)
    pull_source(unpinned, models_dir, 5, endpoint=address)
    manifest = read_manifest(models_dir / "tiny")
    assert manifest is not None and (manifest.repo, manifest.revision) == (REPO, REVISION)
    assert {r.path: r.sha256 for r in manifest.files} == checksums(folder)
    assert not any(r.pinned for r in manifest.files)
    pull_source(unpinned, models_dir, 5, endpoint=address)  # the same bytes pass
    (folder / "onnx" / "text_model.onnx").write_bytes(b"not the recorded text tower")
    with pytest.raises(ModelChecksumMismatch, match="recorded at its first download"):
        pull_source(unpinned, models_dir, 5, endpoint=address)


def test_another_revision_has_its_own_checksums(
    hub: tuple[str, Path, list[str]], tmp_path: Path
) -> None:
    address, folder, seen = hub
    models_dir = tmp_path / "models"
    pull_source(HubSource("tiny", REPO, REVISION), models_dir, 5, endpoint=address)
    other = "f" * 40
    changed = write_repo(folder.parent / other) / "preprocessor_config.json"
    changed.write_text(changed.read_text() + "\n")  # other bytes at the other revision
    pull_source(HubSource("tiny", REPO, other), models_dir, 5, endpoint=address)
    assert f"GET /{REPO}/resolve/{other}/preprocessor_config.json" in seen
    manifest = read_manifest(models_dir / "tiny")
    assert manifest is not None and manifest.revision == other
    assert manifest.sha256_of(REPO, other) == checksums(changed.parent)


def test_a_missing_file_names_its_url(hub: tuple[str, Path, list[str]], tmp_path: Path) -> None:
    address, folder, _ = hub
    (folder / "onnx" / "text_model.onnx").unlink()
    with pytest.raises(ModelDownloadFailed, match=r"/resolve/.*/onnx/text_model\.onnx") as caught:
        pull_source(HubSource("tiny", REPO, REVISION), tmp_path / "models", 5, endpoint=address)
    assert "The hub answered 404" in caught.value.message
    assert list((tmp_path / "models").iterdir()) == []


def test_towers_of_two_models_are_refused(hub: tuple[str, Path, list[str]], tmp_path: Path) -> None:
    address, folder, _ = hub
    write_repo(folder, vision_width=6)
    with pytest.raises(DetectorFailed, match="not the towers of one CLIP model"):
        pull_source(HubSource("tiny", REPO, REVISION), tmp_path / "models", 5, endpoint=address)


def test_without_the_clip_extra_the_pull_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(ModelDownloadFailed, match=r"pip install 'vigil\[clip\]'"):
        pull_source(HubSource("tiny", REPO, REVISION), tmp_path / "models", 5, endpoint="x")


def test_preprocessor_configs_in_both_shapes() -> None:
    flat = {"crop_size": 224, "image_mean": [0.5] * 3, "image_std": [0.25] * 3}
    assert clip_config(flat) == {"image_size": 224, "mean": [0.5] * 3, "std": [0.25] * 3}
    assert clip_config({"size": {"shortest_edge": 256}}) == {"image_size": 256}
