"""Running the job queue in tests as `vigil worker` would, and async uploads to feed it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from vigil.app import Vigil
from vigil.queue.worker import LeaseKeeper, QueueWorker


def drain(vigil: Vigil) -> int:
    """Run one worker until the queue is empty; returns how many jobs it ran."""
    worker = QueueWorker(vigil.queue, vigil.job_handlers(), LeaseKeeper(vigil.queue), name="t")
    done = 0
    while worked := worker.run_once():
        done += worked
    return done


def upload_async(api: TestClient, auth: dict[str, str], name: str, data: bytes) -> str:
    """Upload ``data`` as ``name`` for a worker to decide; returns the asset id."""
    answer = api.post("/v1/assets?async=true", headers=auth, files={"file": (name, data)})
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])
