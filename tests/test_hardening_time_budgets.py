"""Issue 16, item 1: an animated-GIF canvas bomb is refused before any frame is read, and
every job has a time budget, checked between frames and detector batches; a job past it
fails its asset with TimeBudgetExceeded and the worker goes on."""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import running_vigil
from tests.images import astronaut_jpeg
from tests.queue_helpers import drain, upload_async
from tests.videos import clip
from vigil.api.app import create_app
from vigil.app import Vigil
from vigil.errors import VideoTooLarge
from vigil.media.video_formats import ANIMATED_GIF
from vigil.media.video_open import open_video
from vigil.service.access.keys import create_key
from vigil.service.access.principal import Role
from vigil.service.engine.moderation import ModerationEngine
from vigil.settings import Settings


def gif_bomb(width: int, height: int, frames: int) -> bytes:
    """A GIF whose logical screen is ``width`` x ``height``, holding ``frames`` 1x1 frames:
    a few KB that Pillow would composite frame by frame onto the whole screen."""
    out = bytearray(b"GIF89a" + struct.pack("<HH", width, height) + bytes([0xF0, 0, 0]))
    out += b"\x00\x00\x00\xff\xff\xff"  # a two-colour global table
    out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"  # loop forever
    for n in range(frames):
        out += b"\x21\xf9\x04\x04" + struct.pack("<H", 10) + b"\x00\x00"  # 100 ms
        out += b"\x2c" + struct.pack("<HHHH", n % width, 0, 1, 1) + b"\x00"
        out += b"\x02\x02\x44\x01\x00"  # one pixel of LZW data
    return bytes(out + b"\x3b")


@pytest.mark.parametrize(
    ("width", "height", "frames", "says"),
    [
        (9000, 9000, 300, "9000x9000"),  # the reported bomb: a screen over the side limit
        (4000, 4000, 300, "pixels to composite"),  # within the side, too much to composite
        (100, 100, 20_000, "20000 frames"),
    ],
)
def test_canvas_bombs_are_refused_before_any_frame_is_read(
    tmp_path: Path, width: int, height: int, frames: int, says: str
) -> None:
    path = tmp_path / "bomb.gif"
    path.write_bytes(gif_bomb(width, height, frames))
    started = time.monotonic()
    with pytest.raises(VideoTooLarge, match=says):
        open_video(path, ANIMATED_GIF, Settings())
    assert time.monotonic() - started < 1.0


@contextmanager
def stack(
    tmp_path: Path, engine: ModerationEngine, policy_dir: Path, **settings: Any
) -> Iterator[tuple[Vigil, TestClient, dict[str, str]]]:
    with (
        running_vigil(tmp_path, engine, policy_dir, **settings) as running,
        TestClient(create_app(running, run_worker=False)) as api,
    ):
        auth = {"Authorization": f"Bearer {create_key(running.db, Role.UPLOADER)}"}
        yield running, api, auth


def error_of(api: TestClient, auth: dict[str, str], asset_id: str) -> dict[str, Any] | None:
    asset = api.get(f"/v1/assets/{asset_id}", headers=auth).json()
    error: dict[str, Any] | None = asset["error"]
    return error


def test_an_uploaded_gif_bomb_fails_its_asset_at_once(
    tmp_path: Path, engine: ModerationEngine, policy_dir: Path
) -> None:
    with stack(tmp_path, engine, policy_dir) as (vigil, api, auth):
        bomb = upload_async(api, auth, "bomb.gif", gif_bomb(9000, 9000, 300))
        started = time.monotonic()
        drain(vigil)
        assert time.monotonic() - started < 5
        error = error_of(api, auth, bomb)
        assert error is not None and error["code"] == "VideoTooLarge"
        video = api.get(f"/v1/assets/{bomb}/video", headers=auth).json()
        assert video["JobStatus"] == "FAILED"


def test_a_video_past_its_budget_fails_and_the_worker_goes_on(
    tmp_path: Path, engine: ModerationEngine, policy_dir: Path
) -> None:
    no_time = {"video_budget_seconds": 0, "video_budget_factor": 0}
    with stack(tmp_path, engine, policy_dir, **no_time) as (vigil, api, auth):
        slow = upload_async(api, auth, "a.mp4", clip())
        photo = upload_async(api, auth, "a.jpg", astronaut_jpeg())
        drain(vigil)
        error = error_of(api, auth, slow)
        assert error is not None and error["code"] == "TimeBudgetExceeded"
        assert "budget of 0 s" in error["message"]
        video = api.get(f"/v1/assets/{slow}/video", headers=auth).json()
        assert video["JobStatus"] == "FAILED"
        assert api.get(f"/v1/assets/{photo}", headers=auth).json()["status"] == "approved"
        assert vigil.queue.list_jobs(state="dead") == []  # a refusal, not a retried crash


def test_an_image_past_its_budget_fails(
    tmp_path: Path, engine: ModerationEngine, policy_dir: Path
) -> None:
    with stack(tmp_path, engine, policy_dir, image_budget_seconds=0) as (vigil, api, auth):
        photo = upload_async(api, auth, "a.jpg", astronaut_jpeg())
        drain(vigil)
        error = error_of(api, auth, photo)
        assert error is not None and error["code"] == "TimeBudgetExceeded"
        assert vigil.queue.list_jobs(state="dead") == []
