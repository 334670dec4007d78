"""Uploads through the queue: async and synchronous answers, idempotency keys, failures, and
redelivery, on SQLite and on PostgreSQL."""

from __future__ import annotations

import shutil
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import event, func, select

from tests.conftest import role_headers
from tests.hostile import truncated_jpeg
from tests.images import astronaut_jpeg, chelsea_png, coffee_jpeg
from tests.queue_helpers import drain
from vigil.app import Vigil
from vigil.queue.jobs import JobState
from vigil.service.access.keys import create_key
from vigil.service.access.principal import Role
from vigil.storage.blobs import Area
from vigil.storage.tables import AssetRow, AuditEventRow, JobRow


@pytest.fixture
def stack_settings(database_url: str) -> dict[str, Any]:
    return {"database_url": database_url}


@pytest.fixture
def auth(stack: Vigil) -> dict[str, dict[str, str]]:
    return role_headers(stack, Role.ADMIN, Role.UPLOADER)


def post(api: TestClient, headers: dict[str, str], data: bytes, **params: str) -> Response:
    return api.post(
        "/v1/assets",
        headers=headers,
        params=params,
        files={"file": ("photo.jpg", data)},
        data={"policy": "block-all"},
    )


def count(vigil: Vigil, table: type[AssetRow] | type[AuditEventRow] | type[JobRow]) -> int:
    with vigil.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_async_upload_answers_202_and_a_worker_decides(
    stack: Vigil, api: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    accepted = post(api, auth["uploader"], coffee_jpeg(), **{"async": "true"})
    assert accepted.status_code == 202
    asset = accepted.json()
    assert asset["status"] == "processing" and asset["decision"] is None
    assert accepted.headers["Location"] == asset["status_url"] == f"/v1/assets/{asset['id']}"
    assert drain(stack) == 1
    decided = api.get(asset["status_url"], headers=auth["uploader"]).json()
    assert decided["status"] == "rejected" and decided["decision"]["action"] == "block"
    assert decided["width"] > 0 and decided["format"] == "jpeg"
    assert stack.blobs.exists(Area.QUARANTINE, asset["id"])
    assert not stack.blobs.exists(Area.ORIGINALS, asset["id"])


def test_a_batch_reads_its_policys_pointers_once(
    stack: Vigil, api: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    """Jobs in one worker batch share one read of their policy's active and shadow versions
    (a round trip each on PostgreSQL), not one per job."""
    for data in (coffee_jpeg(), astronaut_jpeg(), chelsea_png()):
        assert post(api, auth["uploader"], data, **{"async": "true"}).status_code == 202
    reads: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if "FROM policies" in statement:
            reads.append(statement)

    event.listen(stack.db.engine, "before_cursor_execute", seen)
    try:
        assert drain(stack) == 3
    finally:
        event.remove(stack.db.engine, "before_cursor_execute", seen)
    assert len(reads) == 1, reads


def test_a_sync_upload_past_its_wait_answers_202_and_finishes_anyway(
    stack: Vigil, api: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    accepted = post(api, auth["uploader"], astronaut_jpeg(), wait="0")
    assert accepted.status_code == 202 and accepted.json()["status"] == "processing"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = api.get(accepted.json()["status_url"], headers=auth["uploader"]).json()["status"]
        done = stack.queue.stats()["counts"]["done"]
        # The decision is committed first, the job marked done just after: wait for both.
        if status != "processing" and done:
            break
        time.sleep(0.05)
    assert status == "rejected"
    assert done == {"moderate": 1}


def test_the_default_sync_upload_answers_201_with_the_decision(
    api: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    created = post(api, auth["uploader"], coffee_jpeg())
    assert created.status_code == 201 and created.json()["status"] == "rejected"


def test_an_idempotency_key_replays_the_first_result(
    stack: Vigil, api: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    key = {**auth["uploader"], "Idempotency-Key": "upload-42"}
    first = post(api, key, coffee_jpeg())
    again = post(api, key, coffee_jpeg())
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(stack, AssetRow) == 1 and count(stack, JobRow) == 1

    reused = post(api, key, astronaut_jpeg())
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "IdempotencyKeyReused"
    # Keys belong to one uploader: another uploader's key of the same name is another upload.
    other = {"Authorization": f"Bearer {create_key(stack.db, Role.UPLOADER)}"}
    assert (
        post(api, {**other, "Idempotency-Key": "upload-42"}, coffee_jpeg()).json()["id"]
        != (first.json()["id"])
    )
    assert count(stack, AssetRow) == 2


def test_a_redelivered_job_never_makes_a_second_decision(
    stack: Vigil, api: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    asset = post(api, auth["uploader"], coffee_jpeg(), **{"async": "true"}).json()
    (job,) = stack.queue.claim("first", limit=1)
    assert stack.processor.process([job]) == [None]
    # The first worker died before completing the job: its lease ran out and it ran again.
    assert stack.processor.process([job]) == [None]
    with stack.db.session() as session:
        actions = list(
            session.scalars(
                select(AuditEventRow.action).where(AuditEventRow.asset_id == asset["id"])
            )
        )
    assert actions == ["created", "moderated"]


def test_an_async_upload_that_cannot_be_decoded_ends_failed_without_its_bytes(
    stack: Vigil, api: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    accepted = post(api, auth["uploader"], truncated_jpeg(), **{"async": "true"})
    assert accepted.status_code == 202
    drain(stack)
    failed = api.get(accepted.json()["status_url"], headers=auth["uploader"]).json()
    assert failed["status"] == "failed" and failed["error"]["code"] == "CorruptImage"
    assert not stack.blobs.exists(Area.ORIGINALS, failed["id"])
    assert stack.queue.list_jobs(state=JobState.DONE)[0]["payload"]["asset_id"] == failed["id"]


def test_async_uploads_refuse_what_is_not_an_image_at_once(
    stack: Vigil, api: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    refused = post(api, auth["uploader"], b"<html>hello</html>" * 10, **{"async": "true"})
    assert refused.status_code == 415 and refused.json()["error"]["code"] == "InvalidImageFormat"
    assert count(stack, AssetRow) == count(stack, JobRow) == 0


def test_a_failed_storage_write_leaves_no_row_and_answers_503(
    stack: Vigil, api: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    # A real fault: the originals area is a file, not a directory, so no blob can be written.
    originals = stack.settings.resolved_blob_dir / Area.ORIGINALS.value
    shutil.rmtree(originals)
    originals.write_text("not a directory")
    refused = post(api, auth["uploader"], coffee_jpeg())
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "StorageUnavailable"
    assert count(stack, AssetRow) == count(stack, JobRow) == count(stack, AuditEventRow) == 0
    assert api.get("/healthz").status_code == 200


def test_jobs_api_lists_and_requeues_dead_jobs(
    stack: Vigil, api: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    post(api, auth["uploader"], coffee_jpeg(), **{"async": "true"})
    (job,) = stack.queue.claim("w", limit=1)
    for _ in range(job.max_attempts):
        stack.queue.fail(job.id, "w", "storage offline")
        with stack.db.session() as session:  # skip the backoff
            row = session.get(JobRow, job.id)
            assert row is not None
            row.available_at = 0
        stack.queue.claim("w", limit=1)
    dead = api.get("/v1/jobs", headers=auth["admin"], params={"state": "dead"}).json()["jobs"]
    assert [entry["id"] for entry in dead] == [job.id]
    assert api.get("/v1/jobs", headers=auth["uploader"]).status_code == 403
    requeued = api.post(f"/v1/jobs/{job.id}/requeue", headers=auth["admin"])
    assert requeued.json()["state"] == "queued" and requeued.json()["attempts"] == 0
    assert api.post("/v1/jobs/999999/requeue", headers=auth["admin"]).status_code == 404
    assert drain(stack) == 1
    stats = api.get("/v1/jobs/stats", headers=auth["admin"]).json()
    assert stats["counts"]["done"] == {"moderate": 1}
