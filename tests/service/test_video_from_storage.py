"""Video jobs decode straight from the blob store: a local blob where it lies, an S3 blob
through ranged GETs, never a copy in a temporary file or in memory, with the same results."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import role_headers, running_vigil
from tests.queue_helpers import drain
from tests.videos import clip
from vigil.api.app import create_app
from vigil.app import Vigil
from vigil.media.video_formats import MP4
from vigil.media.video_open import open_video
from vigil.policy.loader import PolicyStore
from vigil.service.access.principal import Role
from vigil.service.engine.moderation import ModerationEngine
from vigil.service.video.files import moderate_video_file
from vigil.settings import Settings
from vigil.storage.blobs import Area, BlobStore, LocalBlobStore
from vigil.storage.s3 import S3BlobStore
from vigil.storage.tables import VideoRow

SCENES = [("astronaut", 2), ("colorwheel", 2), ("coffee", 2)]
# Small ranges so that a test video spans many of them.
RANGE = 64 * 1024

# Temporary files and folders created anywhere in this process while ``_watching`` is set;
# audit hooks can't be removed, so one hook is added once and switched by the flag.
_temporaries: list[str] = []
_watching = [False]


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _watching[0] and event in ("tempfile.mkstemp", "tempfile.mkdtemp"):
        _temporaries.append(str(args[0]))


sys.addaudithook(_audit)


@pytest.fixture(scope="module")
def video_bytes() -> bytes:
    return clip(SCENES, size=(640, 360))


def test_a_local_blob_is_read_where_it_lies(tmp_path: Path, video_bytes: bytes) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.put(Area.ORIGINALS, "clip", video_bytes)
    with store.open_for_read(Area.ORIGINALS, "clip") as source:
        assert source == tmp_path / "blobs" / "originals" / "cl" / "clip"


def test_an_s3_blob_is_read_in_bounded_ranges(blob_store: BlobStore, video_bytes: bytes) -> None:
    blob_store.put(Area.ORIGINALS, "clip", video_bytes)
    with blob_store.open_for_read(Area.ORIGINALS, "clip") as source:
        if isinstance(source, Path):
            assert source.read_bytes() == video_bytes
            return
        source.seek(-10, 2)
        assert source.read() == video_bytes[-10:]
        source.seek(5)
        assert source.read(7) == video_bytes[5:12]


def test_a_missing_blob_is_not_found(blob_store: BlobStore) -> None:
    with pytest.raises(FileNotFoundError), blob_store.open_for_read(Area.ORIGINALS, "gone"):
        pass


def test_decoding_from_s3_fetches_bounded_ranges(
    bucket: str, s3_server: str, video_bytes: bytes
) -> None:
    """What a reader holds is one range, whatever the video's size (before, the job read the
    object whole with one GET). The packet index is read in a first pass, so a video is
    fetched about twice."""
    store = S3BlobStore(bucket, "vigil", endpoint_url=s3_server, read_range_bytes=RANGE)
    store.put(Area.ORIGINALS, "clip", video_bytes)
    gets = _count_ranged_gets(store)
    with store.open_for_read(Area.ORIGINALS, "clip") as source:
        frames = sum(1 for _ in open_video(source, MP4, Settings()).frames())
    assert frames >= 6
    assert len(video_bytes) > 4 * RANGE
    assert gets and max(gets) <= RANGE, gets
    assert sum(gets) <= 2.5 * len(video_bytes)


@pytest.fixture(params=["local", "s3"])
def stack(
    request: pytest.FixtureRequest, tmp_path: Path, engine: ModerationEngine, policy_dir: Path
) -> Iterator[Vigil]:
    options: dict[str, Any] = {"min_confidence": 1}  # the photos' faint scores: segments
    if request.param == "s3":
        bucket, endpoint = request.getfixturevalue("bucket"), request.getfixturevalue("s3_server")
        options |= {"blob_url": f"s3://{bucket}/vigil", "s3_endpoint_url": endpoint}
    with running_vigil(tmp_path, engine, policy_dir, **options) as running:
        yield running


def test_the_job_decodes_from_the_store_without_a_copy(
    stack: Vigil, tmp_path: Path, video_bytes: bytes
) -> None:
    gets = _count_ranged_gets(stack.blobs)
    auth = role_headers(stack, Role.UPLOADER)["uploader"]
    with TestClient(create_app(stack, run_worker=False)) as api:
        answer = api.post("/v1/assets", headers=auth, files={"file": ("clip.mp4", video_bytes)})
        assert answer.status_code == 202, answer.text
        asset_id = answer.json()["id"]
        _temporaries.clear()
        _watching[0] = True
        try:
            assert drain(stack) == 1
        finally:
            _watching[0] = False
    # Thumbnails are written through the local store's own temp files; nothing else.
    blob_temp = str(stack.settings.resolved_blob_dir / "tmp")
    assert [name for name in _temporaries if not name.startswith(blob_temp)] == []
    with stack.db.session() as session:
        stored = session.get(VideoRow, asset_id)
        assert stored is not None
        assert stored.job_status == "SUCCEEDED"
        assert stored.frame_labels == _labels_in_process(stack, tmp_path, video_bytes)
    if isinstance(stack.blobs, S3BlobStore):
        # Every GET was ranged and bounded: the video was never fetched whole.
        assert gets and all(0 < size <= RANGE for size in gets), gets
        assert len(gets) >= len(video_bytes) // RANGE


def _count_ranged_gets(blobs: BlobStore) -> list[int]:
    """The size of each GetObject's range (0: a GET of the whole object), through botocore's
    own event hooks; nothing for a local store."""
    sizes: list[int] = []
    if not isinstance(blobs, S3BlobStore):
        return sizes
    blobs.read_range_bytes = RANGE

    def record(params: dict[str, Any], **_: Any) -> None:
        first, _, last = str(params.get("Range", "bytes=0--1"))[6:].partition("-")
        sizes.append(int(last) - int(first) + 1 if last else 0)

    blobs._client.meta.events.register("provide-client-params.s3.GetObject", record)
    return sizes


def _labels_in_process(stack: Vigil, tmp_path: Path, video: bytes) -> list[dict[str, Any]]:
    """Frame labels of the same video moderated from a file in this process."""
    path = tmp_path / "same.mp4"
    path.write_bytes(video)
    policy = PolicyStore(stack.settings.policy_dir).get(stack.settings.default_policy)
    floor = stack.settings.min_confidence
    report = moderate_video_file(path, MP4, stack.engine, policy, min_confidence=floor)
    return [frame.to_dict() for frame in report.frames]
