"""Video uploads end to end: stored, analysed by a worker, read back in Rekognition's shape,
notified by webhook and alert e-mail, and broken videos failed cleanly."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import role_headers, running_vigil
from tests.images import astronaut_jpeg
from tests.queue_helpers import drain
from tests.smtp import smtp_server
from tests.videos import (
    animation,
    clip,
    empty_mp4,
    encode_clip,
    scene_frames,
    truncated,
    unknown_codec_mkv,
)
from tests.webhook_receiver import Receiver
from vigil.api.app import create_app
from vigil.app import Vigil
from vigil.notify.signing import verify
from vigil.service.access.keys import create_key
from vigil.service.access.principal import Role
from vigil.service.engine.moderation import ModerationEngine
from vigil.service.notices.alerts import AlertService
from vigil.storage.blobs import Area
from vigil.storage.tables import AuditEventRow

SCENES = [("astronaut", 2), ("colorwheel", 2), ("coffee", 2)]


@pytest.fixture
def stack(
    tmp_path: Path, database_url: str, engine: ModerationEngine, policy_dir: Path
) -> Iterator[Vigil]:
    # A floor of 1 keeps the sample photos' faint scores, so every clip has segments.
    with running_vigil(
        tmp_path,
        engine,
        policy_dir,
        database_url=database_url,
        min_confidence=1,
        webhook_allow_private=True,
    ) as running:
        yield running


@pytest.fixture
def api(stack: Vigil) -> Iterator[TestClient]:
    with TestClient(create_app(stack, run_worker=False)) as client:
        yield client


@pytest.fixture
def auth(stack: Vigil) -> dict[str, dict[str, str]]:
    return role_headers(stack, Role.ADMIN, Role.UPLOADER, Role.REVIEWER)


def upload(
    api: TestClient, headers: dict[str, str], data: bytes, name: str = "clip.mp4", **form: str
) -> dict[str, Any]:
    response = api.post("/v1/assets", headers=headers, files={"file": (name, data)}, data=form)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def video(api: TestClient, headers: dict[str, str], asset_id: str, **params: Any) -> Any:
    return api.get(f"/v1/assets/{asset_id}/video", headers=headers, params=params)


def test_a_video_upload_is_decided_by_the_worker(
    stack: Vigil, api: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    asset = upload(api, auth["uploader"], clip(SCENES))
    assert asset["status"] == "processing" and asset["media_type"] == "video"
    pending = video(api, auth["uploader"], asset["id"]).json()
    assert pending["JobStatus"] == "IN_PROGRESS" and pending["ModerationLabels"] == []
    assert drain(stack) == 1
    done = video(api, auth["uploader"], asset["id"]).json()
    assert done["JobStatus"] == "SUCCEEDED"
    assert done["VideoMetadata"]["DurationMillis"] == 6000
    assert done["VideoMetadata"]["FrameWidth"] == 320
    assert {entry["Timestamp"] for entry in done["ModerationLabels"]} <= set(range(0, 6000, 1000))
    assert done["JobId"].startswith("vid-")
    after = api.get(f"/v1/assets/{asset['id']}", headers=auth["uploader"]).json()
    assert after["status"] == "approved"
    assert after["decision"]["policy"] == "default"
    assert after["format"] == "mp4" and after["mime"] == "video/mp4"


def test_timestamps_segments_sorting_and_paging(
    stack: Vigil, api: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    asset = upload(api, auth["uploader"], clip(SCENES))
    drain(stack)
    who = auth["uploader"]
    everything = video(api, who, asset["id"]).json()["ModerationLabels"]
    segments = video(api, who, asset["id"], aggregate_by="SEGMENTS").json()["ModerationLabels"]
    assert 0 < len(segments) < len(everything)
    for segment in segments:
        assert segment["DurationMillis"] == (
            segment["EndTimestampMillis"] - segment["StartTimestampMillis"]
        )
    names = [
        e["ModerationLabel"]["Name"]
        for e in video(api, who, asset["id"], sort_by="NAME").json()["ModerationLabels"]
    ]
    assert names == sorted(names)
    collected: list[Any] = []
    token = None
    while True:
        params = {"max_results": 4, **({"next_token": token} if token else {})}
        body = video(api, who, asset["id"], **params).json()
        collected += body["ModerationLabels"]
        token = body.get("NextToken")
        if not token:
            break
    assert collected == everything
    refused = video(api, who, asset["id"], next_token="not-ours")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "InvalidPaginationToken"
    assert (
        video(api, who, asset["id"], sort_by="SIZE").json()["error"]["code"] == "InvalidParameter"
    )


def test_a_blocked_video_is_quarantined_with_blurred_thumbnails_for_reviewers(
    stack: Vigil, api: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    asset = upload(api, auth["uploader"], clip(SCENES), policy="block-all")
    drain(stack)
    after = api.get(f"/v1/assets/{asset['id']}", headers=auth["uploader"]).json()
    assert after["status"] == "rejected"
    assert stack.blobs.exists(Area.QUARANTINE, asset["id"])
    content = api.get(f"/v1/assets/{asset['id']}/content", headers=auth["uploader"])
    assert content.status_code == 403
    segments = video(api, auth["reviewer"], asset["id"], aggregate_by="SEGMENTS").json()
    with_thumbs = [s for s in segments["ModerationLabels"] if "ThumbnailUrl" in s]
    assert with_thumbs
    still = api.get(with_thumbs[0]["ThumbnailUrl"], headers=auth["reviewer"])
    assert still.status_code == 200 and still.headers["content-type"] == "image/jpeg"
    hidden = api.get(with_thumbs[0]["ThumbnailUrl"], headers=auth["uploader"])
    assert hidden.status_code == 404


def test_video_completed_webhook_and_segment_alert(
    stack: Vigil, api: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    with Receiver() as receiver, smtp_server() as smtp:
        mail_settings = stack.settings.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": smtp.port}
        )
        stack.alerts = AlertService(stack.db, stack.queue, mail_settings)
        admin = auth["admin"]
        hook = {"url": receiver.url, "events": ["video.completed"]}
        created = api.post("/v1/webhooks", headers=admin, json=hook)
        assert created.status_code == 201
        secret = created.json()["secret"]
        rule = {
            "name": "explicit scenes",
            "label": "Explicit",
            "min_confidence": 1,
            "min_segments": 1,
            "recipients": ["ops@example.com"],
        }
        assert api.post("/v1/alerts", headers=admin, json=rule).status_code == 201
        asset = upload(api, auth["uploader"], clip(SCENES), name="party.mp4")
        drain(stack)
        drain(stack)  # the webhook and e-mail jobs the decision queued
        (event,) = [json.loads(r.body) for r in receiver.requests]
        (mail,) = smtp.received
    assert event["type"] == "video.completed"
    assert event["data"]["job_status"] == "SUCCEEDED"
    assert event["data"]["asset"]["id"] == asset["id"]
    assert event["data"]["label_counts"]["Explicit"] >= 1
    assert event["data"]["segments"]
    request = receiver.requests[0]
    assert verify(secret, request.headers["Vigil-Signature"], request.body)
    assert "flagged segment" in mail.subject and "party.mp4" in mail.subject


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (lambda: truncated(clip(SCENES), 0.5), "could not be read as a video"),
        (unknown_codec_mkv, "codec"),
        (empty_mp4, "no video stream"),
    ],
    ids=["truncated", "unknown-codec", "no-frames"],
)
def test_broken_videos_fail_their_job_and_the_worker_goes_on(
    stack: Vigil, api: TestClient, auth: dict[str, dict[str, str]], payload: Any, message: str
) -> None:
    bad = upload(api, auth["uploader"], payload())
    good = upload(api, auth["uploader"], clip(SCENES))
    assert drain(stack) == 2
    failed = video(api, auth["uploader"], bad["id"]).json()
    assert failed["JobStatus"] == "FAILED"
    assert re.search(message, failed["StatusMessage"])
    asset = api.get(f"/v1/assets/{bad['id']}", headers=auth["uploader"]).json()
    assert asset["status"] == "failed" and asset["error"]["code"] in {
        "CorruptVideo",
        "UnsupportedVideo",
    }
    assert not stack.blobs.exists(Area.ORIGINALS, bad["id"])  # nothing half-kept
    assert video(api, auth["uploader"], good["id"]).json()["JobStatus"] == "SUCCEEDED"


def test_a_partly_decodable_video_reports_what_it_saw(
    stack: Vigil, api: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    whole = encode_clip(scene_frames(SCENES * 2, (320, 240), 15), fmt="matroska")
    asset = upload(api, auth["uploader"], truncated(whole, 0.5), name="cut.mkv")
    drain(stack)
    body = video(api, auth["uploader"], asset["id"]).json()
    assert body["JobStatus"] == "SUCCEEDED"
    assert "ends early" in body["StatusMessage"]
    assert 0 < body["DecodedUntilMillis"] < 12_000
    assert body["ModerationLabels"]


def test_over_the_limits(tmp_path: Path, engine: ModerationEngine, policy_dir: Path) -> None:
    with (
        running_vigil(
            tmp_path, engine, policy_dir, video_max_duration_seconds=4, video_max_bytes=1_000_000
        ) as running,
        TestClient(create_app(running, run_worker=False)) as api,
    ):
        headers = {"Authorization": f"Bearer {create_key(running.db, Role.UPLOADER)}"}
        big = api.post(
            "/v1/assets",
            headers=headers,
            files={"file": ("big.mp4", b"\x00\x00\x00\x18ftypisom" + b"\x00" * 1_100_000)},
        )
        assert big.status_code == 413 and big.json()["error"]["code"] == "VideoTooLarge"
        long = upload(api, headers, clip(SCENES))
        drain(running)
        body = video(api, headers, long["id"]).json()
        assert body["JobStatus"] == "FAILED"
        assert "limit is 4 s" in body["StatusMessage"]


def test_animated_gif_is_moderated_as_a_video_and_still_images_are_not(
    stack: Vigil, api: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    moving = upload(api, auth["uploader"], animation("GIF"), name="loop.gif")
    drain(stack)
    body = video(api, auth["uploader"], moving["id"]).json()
    assert body["JobStatus"] == "SUCCEEDED" and body["VideoMetadata"]["Format"] == "gif"
    photo = api.post(
        "/v1/assets", headers=auth["uploader"], files={"file": ("a.jpg", astronaut_jpeg())}
    ).json()
    assert photo["media_type"] == "image"
    not_video = video(api, auth["uploader"], photo["id"])
    assert not_video.status_code == 404 and not_video.json()["error"]["code"] == "NotAVideo"


def test_waiting_for_a_video_decides_it_in_the_request(
    stack: Vigil, api: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    response = api.post(
        "/v1/assets",
        headers=auth["uploader"],
        params={"wait": 120},
        files={"file": ("clip.mp4", clip(SCENES))},
    )
    assert response.status_code == 201
    assert response.json()["status"] == "approved"


def test_a_redelivered_video_job_decides_once(
    stack: Vigil, api: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    asset = upload(api, auth["uploader"], clip(SCENES))
    (job,) = stack.queue.claim("first", 1)
    stack.video_processor.handle(job)
    stack.video_processor.handle(job)  # the same job delivered again
    with stack.db.session() as session:
        decisions = session.scalar(
            select(func.count())
            .select_from(AuditEventRow)
            .where(AuditEventRow.asset_id == asset["id"], AuditEventRow.action == "moderated")
        )
    assert decisions == 1


def test_other_uploaders_cannot_see_a_video(
    stack: Vigil, api: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    asset = upload(api, auth["uploader"], clip(SCENES))
    stranger = {"Authorization": f"Bearer {create_key(stack.db, Role.UPLOADER)}"}
    assert video(api, stranger, asset["id"]).status_code == 404


def test_a_zero_length_upload_is_refused_and_nothing_is_stored(
    stack: Vigil, api: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    response = api.post("/v1/assets", headers=auth["uploader"], files={"file": ("clip.mp4", b"")})
    assert response.status_code == 400 and response.json()["error"]["code"] == "EmptyFile"
    assert api.get("/v1/assets", headers=auth["admin"]).json()["assets"] == []
