"""/metrics: the Prometheus text format, detector timings and queue gauges read from the
database at scrape time."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests.conftest import Keys
from tests.images import chelsea_png
from vigil.app import Vigil
from vigil.metrics import render
from vigil.queue.jobs import JobQueue
from vigil.storage.db import Database

DOCS = Path(__file__).resolve().parents[2] / "docs"


def scrape(client: TestClient) -> list[Sample]:
    response = client.get("/metrics")  # no Authorization: scrapers don't send one
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = text_string_to_metric_families(response.text)
    return [sample for family in families for sample in family.samples]


def value(samples: list[Sample], name: str, **labels: str) -> float | None:
    found = [s.value for s in samples if s.name == name and s.labels == labels]
    return found[0] if found else None


def test_an_upload_is_timed_per_detector(client: TestClient, keys: Keys) -> None:
    before = scrape(client)
    response = client.post(
        "/v1/assets", headers=keys.auth("uploader"), files={"file": ("cat.png", chelsea_png())}
    )
    assert response.status_code in (200, 201), response.text
    after = scrape(client)
    for detector in ("nsfw", "nudity", "graphic"):
        count = "vigil_detector_seconds_count"
        ran = value(after, count, detector=detector) or 0.0
        assert ran >= (value(before, count, detector=detector) or 0.0) + 1
        assert (value(after, "vigil_detector_seconds_sum", detector=detector) or 0.0) > 0


def test_queue_depth_and_age_come_from_the_database(client: TestClient, vigil: Vigil) -> None:
    two_minutes_ago = JobQueue(vigil.db, clock=lambda: time.time() - 120)
    with vigil.db.session() as session:
        two_minutes_ago.enqueue(session, "metrics_test", {"n": 1})
        vigil.queue.enqueue(session, "metrics_test", {"n": 2})
        vigil.queue.enqueue(session, "metrics_other", {"n": 3})
    (claimed,) = vigil.queue.claim("test-worker", 1, kinds=["metrics_other"])
    vigil.queue.complete(claimed.id, "test-worker")
    samples = scrape(client)
    assert value(samples, "vigil_queue_jobs", state="queued", kind="metrics_test") == 2
    assert value(samples, "vigil_queue_jobs", state="done", kind="metrics_other") == 1
    assert value(samples, "vigil_queue_jobs", state="queued", kind="metrics_other") is None
    age = value(samples, "vigil_queue_oldest_age_seconds")
    assert age is not None and 120 <= age < 180


def test_every_documented_metric_is_exposed(client: TestClient) -> None:
    text = client.get("/metrics").text
    names = {family.name for family in text_string_to_metric_families(text)}
    documented = (DOCS / "metrics.md").read_text()
    for name in names:
        if name.startswith("vigil_") and not name.endswith("_created"):
            assert f"`{name}" in documented, name
    for name in (
        "vigil_uploads",
        "vigil_uploads_refused",
        "vigil_decisions",
        "vigil_job_seconds",
        "vigil_detector_seconds",
        "vigil_webhook_failures",
        "vigil_alert_emails",
        "vigil_queue_jobs",
        "vigil_queue_oldest_age_seconds",
    ):
        assert name in names
    assert value(scrape(client), "vigil_queue_oldest_age_seconds") == 0  # nothing waits


def test_process_metrics_survive_an_unreadable_queue(tmp_path: Path) -> None:
    # A database without the jobs table: the scrape still carries the process's own metrics.
    broken = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        text = render(JobQueue(broken).stats).decode()
    finally:
        broken.dispose()
    names = {family.name for family in text_string_to_metric_families(text)}
    assert "vigil_detector_seconds" in names and "vigil_queue_jobs" not in names
