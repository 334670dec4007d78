"""Re-uploads reuse detections: exact duplicates through the database, near-duplicates through
the in-process perceptual-hash LRU; never across model versions; the policy decides afresh."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.conftest import role_headers, running_vigil
from tests.images import astronaut_jpeg, coffee_jpeg
from vigil.api.app import create_app
from vigil.app import Vigil
from vigil.detectors.base import Detection
from vigil.media.image import DecodedImage
from vigil.service.access.principal import Role
from vigil.service.engine.detection_cache import Coverage, RecentDetections
from vigil.service.engine.moderation import ModerationEngine
from vigil.storage.tables import AssetRow


class Counted:
    """Instrumentation: the real engine's ``detect``, counting the images it is given."""

    def __init__(self, engine: ModerationEngine) -> None:
        self.real = engine.detect
        self.images = 0
        self.chosen: list[frozenset[str]] = []  # the detectors asked for, image by image

    def __call__(
        self, images: list[DecodedImage], *args: Any, **kwargs: Any
    ) -> list[list[Detection]]:
        self.images += len(images)
        self.chosen.extend(kwargs.get("chosen") or [])
        return self.real(images, *args, **kwargs)


@pytest.fixture
def counted(engine: ModerationEngine, monkeypatch: pytest.MonkeyPatch) -> Counted:
    counter = Counted(engine)
    monkeypatch.setattr(engine, "detect", counter)
    return counter


def uploader(running: Vigil) -> Iterator[tuple[TestClient, dict[str, str]]]:
    headers = role_headers(running, Role.UPLOADER)["uploader"]
    with TestClient(create_app(running, run_worker=False)) as client:
        yield client, headers


@pytest.fixture
def api(vigil: Vigil) -> Iterator[tuple[TestClient, dict[str, str]]]:
    yield from uploader(vigil)


def upload(api: tuple[TestClient, dict[str, str]], data: bytes, policy: str) -> dict[str, Any]:
    client, headers = api
    response = client.post(
        "/v1/assets",
        headers=headers,
        files={"file": ("photo.jpg", data)},
        data={"policy": policy},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def same_decision(first: dict[str, Any], second: dict[str, Any]) -> bool:
    """The same decision, but for the time it was made (in its resolved context)."""
    return all(
        first["decision"][key] == second["decision"][key]
        for key in first["decision"]
        if key != "context"
    )


def reencoded(data: bytes, quality: int) -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(data)).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def test_an_exact_duplicate_runs_no_detector_and_gets_the_same_decision(
    vigil: Vigil, api: tuple[TestClient, dict[str, str]], counted: Counted
) -> None:
    first = upload(api, astronaut_jpeg(), "default")
    assert counted.images == 1
    vigil.processor.cache.recent = RecentDetections(16, 2)  # as in a fresh process: the database
    second = upload(api, astronaut_jpeg(), "default")
    assert counted.images == 1
    assert second["id"] != first["id"]
    assert same_decision(second, first)
    assert second["labels"] == first["labels"]


def test_a_duplicate_under_another_policy_is_decided_afresh(
    api: tuple[TestClient, dict[str, str]], counted: Counted
) -> None:
    # Both policies act on Explicit only, so the same detectors serve both uploads.
    rejected = upload(api, coffee_jpeg(), "block-all")
    reviewed = upload(api, coffee_jpeg(), "review-all")
    assert counted.images == 1
    assert rejected["status"] == "rejected"
    assert reviewed["status"] == "review"


def test_a_policy_needing_fewer_detectors_reuses_a_part_of_the_detections(
    api: tuple[TestClient, dict[str, str]], counted: Counted
) -> None:
    # default acts on Rude Gestures (the on-demand gesture detector runs), block-all does not.
    approved = upload(api, coffee_jpeg(), "default")
    rejected = upload(api, coffee_jpeg(), "block-all")
    assert counted.images == 1
    assert "gesture@" in approved["model_version"]
    assert "gesture@" not in rejected["model_version"]
    assert rejected["status"] == "rejected"


def test_a_policy_needing_more_detectors_runs_only_the_missing_ones(
    vigil: Vigil, api: tuple[TestClient, dict[str, str]], counted: Counted
) -> None:
    first = upload(api, coffee_jpeg(), "block-all")  # no gesture
    vigil.processor.cache.recent = RecentDetections(16, 2)  # the database lends this time
    second = upload(api, coffee_jpeg(), "default")
    # only the on-demand detectors the first upload lacked (the default policy reads text)
    assert counted.chosen[-1] == {"gesture", "text"}
    assert "gesture@" in second["model_version"] and "gesture@" not in first["model_version"]
    with vigil.db.session() as session:
        rows = [session.get(AssetRow, asset["id"]) for asset in (first, second)]
        earlier, later = [{d["Detector"] for d in row.detections} for row in rows if row]
    assert earlier <= later  # the lent detections are stored with the second asset


def test_coverage_compares_detector_versions_and_vigil_versions() -> None:
    wanted = Coverage.of("vigil-0.1.0:nsfw@a==1,nudity@b==2,gesture@c==3")
    assert Coverage.of("vigil-0.1.0:nsfw@a==1,nudity@b==9").shared_names(wanted) == {"nsfw"}
    assert Coverage.of("vigil-0.2.0:nsfw@a==1").shared_names(wanted) == frozenset()
    assert Coverage.of("").parts == frozenset()


def test_a_reencoded_copy_hits_the_near_duplicate_cache(
    api: tuple[TestClient, dict[str, str]], counted: Counted
) -> None:
    first = upload(api, astronaut_jpeg(), "default")
    copy = reencoded(astronaut_jpeg(), quality=70)
    assert copy != astronaut_jpeg()
    second = upload(api, copy, "default")
    assert counted.images == 1
    assert same_decision(second, first)


def test_another_model_version_misses(
    engine: ModerationEngine,
    api: tuple[TestClient, dict[str, str]],
    counted: Counted,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upload(api, astronaut_jpeg(), "default")
    version(monkeypatch, "vigil-test:other@2")
    upload(api, reencoded(astronaut_jpeg(), quality=70), "default")  # near-duplicate: misses
    version(monkeypatch, "vigil-test:other@3")
    upload(api, astronaut_jpeg(), "default")  # exact duplicate: misses too
    assert counted.images == 3


def version(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setattr(ModerationEngine, "version_of", lambda _self, _names: name)


def test_caching_off_runs_the_detectors_every_time(
    tmp_path: Path, engine: ModerationEngine, policy_dir: Path, counted: Counted
) -> None:
    with running_vigil(tmp_path, engine, policy_dir, cache_enabled=False) as running:
        for api in uploader(running):
            upload(api, astronaut_jpeg(), "default")
            upload(api, astronaut_jpeg(), "default")
    assert counted.images == 2


def test_the_lru_is_bounded_and_near_duplicates_can_be_turned_off() -> None:
    found = [Detection("Explicit", 1.0, "nsfw")]
    v1, v2 = "vigil-0.1.0:nsfw@opennsfw==1", "vigil-0.1.0:nsfw@opennsfw==2"
    recent = RecentDetections(size=2, max_distance=-1)
    for n in range(3):
        recent.add(v1, f"sha{n}", 0b1010, found)
    assert recent.find(v1, "sha0", 0b1010) is None  # evicted
    assert recent.find(v1, "sha2", 0b1010) == found
    assert recent.find(v1, "other", 0b1010) is None  # near-duplicates off
    near = RecentDetections(size=2, max_distance=2)
    near.add(v1, "sha", 0b1111, found)
    assert near.find(v1, "x", 0b1100) == found  # two bits apart
    assert near.find(v1, "x", 0b0000) is None  # four bits apart
    assert near.find(v2, "sha", 0b1111) is None  # another model version


def test_detections_of_an_adapter_chosen_for_the_first_upload_are_not_reused(
    vigil: Vigil, api: tuple[TestClient, dict[str, str]], counted: Counted
) -> None:
    first = upload(api, coffee_jpeg(), "default")
    adapter = {"Detector": "adapter:extra", "Name": "Explicit", "Confidence": 99.0}
    with vigil.db.session() as session:
        row = session.get(AssetRow, first["id"])
        assert row is not None
        row.detections = [*row.detections, adapter]
    vigil.processor.cache.recent = RecentDetections(16, 2)
    second = upload(api, coffee_jpeg(), "default")
    assert counted.images == 1
    assert second["status"] == first["status"] == "approved"
    with vigil.db.session() as session:
        row = session.get(AssetRow, second["id"])
        assert row is not None and row.detections
        assert adapter["Detector"] not in {found["Detector"] for found in row.detections}


def two_uploaders(running: Vigil) -> Iterator[list[tuple[TestClient, dict[str, str]]]]:
    """Two uploader keys (two owners) on one app."""
    first, second = (role_headers(running, Role.UPLOADER)["uploader"] for _ in range(2))
    with TestClient(create_app(running, run_worker=False)) as client:
        yield [(client, first), (client, second)]


def test_another_owners_duplicate_is_not_reused_by_default(vigil: Vigil, counted: Counted) -> None:
    for owner, other in two_uploaders(vigil):
        upload(owner, astronaut_jpeg(), "default")
        upload(other, reencoded(astronaut_jpeg(), quality=70), "default")  # LRU: near, not its
        vigil.processor.cache.recent = RecentDetections(16, 2)  # as in a fresh process
        upload(other, astronaut_jpeg(), "default")  # database: the same bytes, not its
        assert counted.images == 3  # each of the other owner's uploads ran the detectors
        upload(owner, astronaut_jpeg(), "default")  # the first owner still reuses its own
    assert counted.images == 3


def test_sharing_across_owners_reuses_another_owners_detections(
    tmp_path: Path, engine: ModerationEngine, policy_dir: Path, counted: Counted
) -> None:
    with running_vigil(tmp_path, engine, policy_dir, cache_share_across_owners=True) as running:
        for owner, other in two_uploaders(running):
            upload(owner, astronaut_jpeg(), "default")
            upload(other, astronaut_jpeg(), "default")  # from the LRU
            running.processor.cache.recent = RecentDetections(16, 2)
            upload(other, astronaut_jpeg(), "default")  # from the database
    assert counted.images == 1


def test_the_lru_keeps_owners_apart() -> None:
    found = [Detection("Explicit", 1.0, "nsfw")]
    version = "vigil-0.1.0:nsfw@opennsfw==1"
    recent = RecentDetections(size=4, max_distance=2)
    recent.add(version, "sha", 0b1111, found, scope="key_a")
    assert recent.find(version, "sha", 0b1111, scope="key_a") == found
    assert recent.find(version, "x", 0b1100, scope="key_a") == found  # near, same owner
    assert recent.find(version, "sha", 0b1111, scope="key_b") is None
    assert recent.find(version, "x", 0b1100, scope="key_b") is None
