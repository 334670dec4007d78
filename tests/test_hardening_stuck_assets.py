"""Issue 16, item 5: every asset reaches a final state. A job that keeps failing on an
unexpected error fails its asset with InternalError after its last attempt, and a WebM whose
tags are not UTF-8 is read like any other."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import av
import pytest
from fastapi.testclient import TestClient

from tests.conftest import running_vigil
from tests.images import astronaut_jpeg
from tests.queue_helpers import drain, upload_async
from tests.videos import clip, scene_frames
from vigil.api.app import create_app
from vigil.app import Vigil
from vigil.service.access.keys import create_key
from vigil.service.access.principal import Role
from vigil.service.engine.moderation import ModerationEngine
from vigil.storage.blobs import Area

FINAL = {"approved", "rejected", "review", "pending", "failed"}


@pytest.fixture
def stack_settings() -> dict[str, Any]:
    # Two attempts with no backoff: the last attempt comes at once.
    return {"job_max_attempts": 2, "job_backoff_seconds": 0}


@pytest.fixture
def auth(stack: Vigil) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(stack.db, Role.UPLOADER)}"}


@pytest.mark.parametrize(("name", "data"), [("a.jpg", astronaut_jpeg()), ("a.mp4", clip())])
def test_a_job_that_keeps_failing_fails_its_asset(
    stack: Vigil, api: TestClient, auth: dict[str, str], name: str, data: bytes
) -> None:
    asset_id = upload_async(api, auth, name, data)
    stack.blobs.delete(Area.ORIGINALS, asset_id)  # storage lost it: every attempt raises
    drain(stack)
    asset = api.get(f"/v1/assets/{asset_id}", headers=auth).json()
    assert asset["status"] == "failed"
    assert asset["error"]["code"] == "InternalError"
    assert "2 attempts" in asset["error"]["message"]
    assert "FileNotFoundError" not in asset["error"]["message"]  # internals stay in the job
    dead = stack.queue.list_jobs(state="dead")
    assert [job["attempts"] for job in dead] == [2]
    assert "FileNotFoundError" in dead[0]["last_error"]
    if name.endswith(".mp4"):
        video = api.get(f"/v1/assets/{asset_id}/video", headers=auth).json()
        assert video["JobStatus"] == "FAILED"


def test_a_webm_whose_tags_are_not_utf8_is_moderated(
    stack: Vigil, api: TestClient, auth: dict[str, str]
) -> None:
    asset_id = upload_async(api, auth, "latin.webm", _latin1_webm())
    drain(stack)
    asset = api.get(f"/v1/assets/{asset_id}", headers=auth).json()
    assert asset["status"] in FINAL - {"failed"}, asset
    video = api.get(f"/v1/assets/{asset_id}/video", headers=auth).json()
    assert video["JobStatus"] == "SUCCEEDED"
    assert stack.queue.list_jobs(state="dead") == []


def _latin1_webm() -> bytes:
    """A VP8 WebM whose title tag is Latin-1 bytes, which are not UTF-8."""
    out = io.BytesIO()
    with av.open(out, mode="w", format="webm", metadata_encoding="latin-1") as container:
        container.metadata["title"] = "café ÿ"
        stream = container.add_stream("libvpx", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for image in scene_frames([("coffee", 1)], (160, 120), 10):
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    data = out.getvalue()
    assert b"caf\xe9" in data
    return data


def test_an_asset_whose_worker_is_lost_on_every_attempt_fails(
    tmp_path: Path, engine: ModerationEngine, policy_dir: Path
) -> None:
    # Leases of 0.2 s: a worker that claims the job and dies (never renews, never finishes)
    # loses it almost at once; after the last attempt the next claim buries it.
    with (
        running_vigil(
            tmp_path, engine, policy_dir, job_max_attempts=2, job_lease_seconds=0.2
        ) as stack,
        TestClient(create_app(stack, run_worker=False)) as api,
    ):
        key = {"Authorization": f"Bearer {create_key(stack.db, Role.UPLOADER)}"}
        asset_id = upload_async(api, key, "a.jpg", astronaut_jpeg())
        for attempt in range(2):
            assert len(stack.queue.claim(f"dies-{attempt}", 1)) == 1
            time.sleep(0.3)
        drain(stack)
        asset = api.get(f"/v1/assets/{asset_id}", headers=key).json()
        assert asset["status"] == "failed"
        assert asset["error"]["code"] == "InternalError"
        [dead] = stack.queue.list_jobs(state="dead")
        assert "worker lost" in dead["last_error"]
