"""The scale-out layout as real processes: `vigil serve --no-worker` and separate
`vigil worker` processes sharing PostgreSQL and an S3-compatible store. Workers stop cleanly
on SIGTERM, and the jobs of a worker killed with SIGKILL return when their lease expires."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import httpx
import pytest

from tests.images import astronaut_jpeg, chelsea_png, coffee_jpeg
from tests.servers import VIGIL, PostgresServer, start_vigil_serve


@dataclass
class Cluster:
    url: str
    headers: dict[str, str]
    env: dict[str, str]
    workers: list[subprocess.Popen[str]]
    logs: Path

    def start_worker(self, *extra: str) -> subprocess.Popen[str]:
        # Its log goes to a file: a pipe nobody reads fills up under load and blocks the
        # worker's next write, so it could never stop.
        log = self.logs / f"worker-{len(self.workers)}.log"
        with log.open("w") as sink:
            process = subprocess.Popen(
                [VIGIL, "worker", *extra],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=sink,
                text=True,
            )
        self.workers.append(process)
        return process

    def log_of(self, index: int) -> str:
        """The end of the ``index``-th worker's log, for an assertion's message."""
        return (self.logs / f"worker-{index}.log").read_text()[-4000:]


@pytest.fixture
def cluster(tmp_path: Path, postgres_server: PostgresServer, s3_server: str) -> Iterator[Cluster]:
    bucket = f"vigil-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_server).create_bucket(Bucket=bucket)
    database = postgres_server.create_database(f"scale_{uuid.uuid4().hex[:12]}")
    env = {
        **os.environ,
        "VIGIL_DATA_DIR": str(tmp_path / "data"),
        "VIGIL_DATABASE_URL": database,
        "VIGIL_BLOB_URL": f"s3://{bucket}/media",
        "VIGIL_S3_ENDPOINT_URL": s3_server,
        "VIGIL_JOB_LEASE_SECONDS": "3",
        "VIGIL_WORKER_POLL_SECONDS": "0.2",
    }
    server = start_vigil_serve(env, "--no-worker")
    running = Cluster(server.url, server.headers, env, [], tmp_path)
    try:
        yield running
    finally:
        for process in running.workers:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)
        server.stop()


def upload_async(cluster: Cluster, data: bytes) -> str:
    response = httpx.post(
        f"{cluster.url}/v1/assets",
        params={"async": "true"},
        headers=cluster.headers,
        files={"file": ("photo", data)},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    asset_id: str = response.json()["id"]
    return asset_id


def statuses(cluster: Cluster, ids: list[str]) -> list[str]:
    return [
        httpx.get(f"{cluster.url}/v1/assets/{asset_id}", headers=cluster.headers).json()["status"]
        for asset_id in ids
    ]


def wait_decided(cluster: Cluster, ids: list[str], seconds: float = 120) -> list[str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        now = statuses(cluster, ids)
        if "processing" not in now:
            return now
        time.sleep(0.3)
    raise TimeoutError(f"assets still processing after {seconds} s: {now}")


def test_workers_on_other_processes_decide_and_stop_cleanly(cluster: Cluster) -> None:
    photos = [coffee_jpeg(), astronaut_jpeg(), chelsea_png()] * 2
    ids = [upload_async(cluster, photo) for photo in photos]
    first = cluster.start_worker("--concurrency", "2")
    second = cluster.start_worker()
    assert set(wait_decided(cluster, ids)) <= {"approved", "review", "rejected"}
    for index, worker in enumerate((first, second)):
        worker.send_signal(signal.SIGTERM)
        # A worker first finishes the batch in hand: under a loaded machine, with the short
        # lease here, that can be a job another worker has since decided, from a cold start.
        assert worker.wait(timeout=180) == 0, cluster.log_of(index)
    content = httpx.get(f"{cluster.url}/v1/assets/{ids[0]}/content", headers=cluster.headers)
    assert content.content == photos[0]  # read back from the S3 store


def jobs(cluster: Cluster, state: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = httpx.get(
        f"{cluster.url}/v1/jobs", params={"state": state}, headers=cluster.headers
    ).json()["jobs"]
    return found


def test_a_killed_workers_jobs_return_when_its_lease_expires(cluster: Cluster) -> None:
    ids = [upload_async(cluster, coffee_jpeg()) for _ in range(12)]
    doomed = cluster.start_worker()
    deadline = time.monotonic() + 120
    while not (held := jobs(cluster, "running")):  # killed while it holds jobs
        assert doomed.poll() is None, f"the worker exited: {doomed.communicate()[1]}"
        assert time.monotonic() < deadline, "the worker never claimed a job"
        time.sleep(0.05)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    cluster.start_worker()
    assert "processing" not in wait_decided(cluster, ids)
    done = {job["id"]: job for job in jobs(cluster, "done")}
    assert len(done) == 12
    # Each job the dead worker held was finished by the next worker on a second attempt,
    # unless the dead worker had completed it just before it died.
    retried = [job_id for job_id in (job["id"] for job in held) if done[job_id]["attempts"] == 2]
    assert retried
