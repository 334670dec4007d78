"""Completion notifications of StartContentModeration jobs, in the shape SNS delivers to an
HTTP subscriber, sent to the URL registered for the job's ``SNSTopicArn``.

vigil does not talk to SNS: `vigil aws topics add ARN URL` says where a topic's messages go,
and each one is an ordinary webhook delivery (retried, logged, signed with the instance
webhook secret), whose body is the SNS envelope with Rekognition's message inside.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vigil.errors import InvalidParameter, WebhookNotFound
from vigil.notify.targets import check_target
from vigil.queue.jobs import JobQueue
from vigil.service.core.events import VIDEO_COMPLETED
from vigil.service.notices.webhooks import delivery_row, enqueue_delivery
from vigil.service.video.jobs import IN_PROGRESS
from vigil.settings import Settings
from vigil.storage.db import Database
from vigil.storage.tables import RekognitionJobRow, SnsTopicRow, VideoRow

EVENT_TYPE = "rekognition.sns"  # the Vigil-Event header and the delivery log's event_type


# -- topics ------------------------------------------------------------------------------------


def add_topic(db: Database, settings: Settings, arn: str, url: str) -> dict[str, str]:
    """Deliver messages for ``arn`` to ``url`` (replacing an earlier URL)."""
    if not arn.startswith("arn:aws:sns:") or len(arn) > 300:
        raise InvalidParameter("a topic ARN looks like arn:aws:sns:REGION:ACCOUNT:NAME")
    check_target(url.strip(), settings.webhook_allow_private)
    with db.session() as session:
        row = session.get(SnsTopicRow, arn)
        if row is None:
            session.add(SnsTopicRow(arn=arn, url=url.strip(), created_at=datetime.now(UTC)))
        else:
            row.url = url.strip()
    return {"arn": arn, "url": url.strip()}


def list_topics(db: Database) -> list[dict[str, str]]:
    with db.session() as session:
        rows = session.scalars(select(SnsTopicRow).order_by(SnsTopicRow.arn))
        return [{"arn": row.arn, "url": row.url} for row in rows]


def remove_topic(db: Database, arn: str) -> dict[str, str]:
    with db.session() as session:
        row = session.get(SnsTopicRow, arn)
        if row is None:
            raise WebhookNotFound(f"no SNS topic {arn} is registered")
        session.delete(row)
    return {"deleted": arn}


def topic_url(db: Database, arn: str) -> str:
    with db.session() as session:
        row = session.get(SnsTopicRow, arn)
        if row is None:
            raise InvalidParameter(
                f"SNS topic {arn} is not registered with vigil; register where its messages go "
                "with `vigil aws topics add ARN URL`"
            )
        return row.url


# -- notifications -----------------------------------------------------------------------------


class SnsNotifier:
    """An event sink: a finished video that a Rekognition job with a NotificationChannel
    started gets its SNS message queued in the same transaction."""

    def __init__(self, queue: JobQueue, settings: Settings) -> None:
        self.queue = queue
        self.settings = settings

    def __call__(self, session: Session, event: dict[str, Any]) -> None:
        if event.get("type") != VIDEO_COMPLETED:
            return
        data = event.get("data", {})
        _send(session, self.queue, self.settings, str(data["job_id"]), str(data["job_status"]))


def notify_if_done(db: Database, queue: JobQueue, settings: Settings, job_id: str) -> None:
    """Send the notification now if the video finished before its job row was written."""
    with db.session() as session:
        video = session.scalar(select(VideoRow).where(VideoRow.job_id == job_id))
        if video is not None and video.job_status != IN_PROGRESS:
            _send(session, queue, settings, job_id, video.job_status)


def _send(session: Session, queue: JobQueue, settings: Settings, job_id: str, status: str) -> None:
    # Whoever flips notified_at first sends: the completion or the job row's insert.
    claimed = session.execute(
        update(RekognitionJobRow)
        .where(
            RekognitionJobRow.job_id == job_id,
            RekognitionJobRow.sns_topic_arn.is_not(None),
            RekognitionJobRow.notified_at.is_(None),
        )
        .values(notified_at=datetime.now(UTC))
    )
    if int(claimed.rowcount) != 1:  # type: ignore[attr-defined]
        return
    job = session.get(RekognitionJobRow, job_id)
    assert job is not None and job.sns_topic_arn is not None
    topic = session.get(SnsTopicRow, job.sns_topic_arn)
    if topic is None:
        return  # unregistered since the job started: nowhere to send it
    now = datetime.now(UTC)
    payload = sns_envelope(job, status, now)
    delivery = delivery_row(None, topic.url, str(payload["MessageId"]), EVENT_TYPE, payload, now)
    session.add(delivery)
    enqueue_delivery(session, queue, settings, delivery.id)


def sns_envelope(job: RekognitionJobRow, status: str, now: datetime) -> dict[str, Any]:
    """What SNS posts to an HTTP subscriber, with Rekognition's completion message inside.
    SNS's own signature fields are left out: vigil signs with its webhook signature header."""
    s3 = job.video.get("S3Object", {})
    message: dict[str, Any] = {
        "JobId": job.job_id,
        "Status": status,
        "API": "StartContentModeration",
        "Timestamp": int(now.timestamp() * 1000),
        "Video": {"S3ObjectName": s3.get("Name", ""), "S3Bucket": s3.get("Bucket", "")},
    }
    if job.job_tag:
        message["JobTag"] = job.job_tag
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": job.sns_topic_arn,
        "Message": json.dumps(message),
        "Timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "SignatureVersion": "1",
    }
