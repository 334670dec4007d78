"""Prometheus metrics, one set per process (served at /metrics)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from vigil.errors import VigilError

log = logging.getLogger(__name__)

UPLOADS = Counter("vigil_uploads_total", "Uploads accepted, by moderation mode.", ["mode"])
REFUSED = Counter("vigil_uploads_refused_total", "Uploads refused, by error code.", ["code"])
DECISIONS = Counter(
    "vigil_decisions_total",
    "Decisions on assets, by action, top-level category (or none) and who decided.",
    ["action", "category", "by"],
)
JOB_SECONDS = Histogram(
    "vigil_job_seconds",
    "Time from a job's claim to its outcome, by kind and outcome (done, retry, dead).",
    ["kind", "outcome"],
)
DETECTOR_SECONDS = Histogram(
    "vigil_detector_seconds", "Time one detector spends on one batch.", ["detector"]
)
WEBHOOK_FAILURES = Counter(
    "vigil_webhook_failures_total", "Failed webhook delivery attempts, by reason.", ["reason"]
)
ALERTS_SENT = Counter("vigil_alert_emails_total", "Alert e-mails, by outcome.", ["outcome"])


# -- scraping --------------------------------------------------------------------------------

# The classic text format: every Prometheus version and most other scrapers read it.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
QueueStats = Callable[[], dict[str, Any]]


class QueueCollector(Collector):
    """Queue depth and age, read from the database at scrape time: every process sharing
    the database reports the same numbers, which a counter kept in memory could not."""

    def __init__(self, stats: QueueStats) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        try:
            stats = self.stats()
        except (SQLAlchemyError, VigilError):
            # The process's own metrics are still worth a scrape while the database is away.
            log.warning("queue metrics skipped: the database could not be read", exc_info=True)
            return
        jobs = GaugeMetricFamily(
            "vigil_queue_jobs", "Jobs in the queue, by state and kind.", labels=["state", "kind"]
        )
        for state, kinds in sorted(stats["counts"].items()):
            for kind, count in sorted(kinds.items()):
                jobs.add_metric([state, kind], count)
        yield jobs
        yield GaugeMetricFamily(
            "vigil_queue_oldest_age_seconds",
            "Age of the oldest queued job (0 when none waits).",
            value=stats["oldest_queued_age_seconds"],
        )


class _Together(Collector):
    def __init__(self, *parts: Collector) -> None:
        self.parts = parts

    def collect(self) -> Iterator[Metric]:
        for part in self.parts:
            yield from part.collect()


def render(queue_stats: QueueStats) -> bytes:
    """This process's metrics and the queue's, in the Prometheus text format. The queue
    collector is built per scrape rather than registered globally, so the many apps a process
    (or a test run) creates never register it twice."""
    return generate_latest(_Together(REGISTRY, QueueCollector(queue_stats)))
