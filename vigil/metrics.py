"""Prometheus metrics, one set per process (served at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

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
