"""`vigil ingest sqs`: the S3 + SQS moderation consumer teams write around Rekognition.

Each S3 event notification in the queue names new objects; each object is fetched, moderated
with the ingest policy and stored as a vigil asset (filename ``s3://bucket/key``), then
tagged ``vigil-status=approved|rejected|review`` and, when rejected, moved to the quarantine
location. The message is deleted only after every object in it has its result stored and
tagged, so a crash leaves it to be received again; the upload's idempotency key (bucket, key
and version or ETag) makes that second pass reuse the stored result. A message that keeps
failing is dead-lettered (recorded in vigil's database and deleted) on its last allowed
receive.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from vigil.app import Vigil
from vigil.aws.s3_events import S3ObjectEvent, object_events
from vigil.aws.s3_objects import s3_client, spool_object
from vigil.aws.s3_tags import move_object, tag_object
from vigil.errors import InvalidParameter, InvalidS3Object, StorageUnavailable, VigilError
from vigil.service.access.principal import Principal, Role
from vigil.service.assets.uploads import UNTIL_DECIDED, UploadRequest
from vigil.service.policies.presets import UploadOptions
from vigil.storage.tables import ApiKeyRow, IngestDeadLetterRow

log = logging.getLogger(__name__)

INGEST_KEY_ID = "sqs-ingest"  # the API key row ingested assets belong to
STATUS_TAG = "vigil-status"
ERROR_TAG = "vigil-error"
INGEST_TAG = "s3-ingest"
MAX_MESSAGES = 10  # SQS's most per receive
RETRY_SECONDS = 5.0  # wait after a failed receive in a long-running consumer


@dataclass(frozen=True)
class ObjectResult:
    """What happened to one object: ``status`` is the asset's, or ``refused`` (with the
    refusal's code) when vigil could not moderate the bytes, or ``missing``."""

    object: str
    status: str
    asset_id: str | None = None
    moved_to: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value is not None}


@dataclass
class IngestStats:
    messages: int = 0
    deleted: int = 0
    retried: int = 0
    dead_lettered: int = 0
    objects: list[ObjectResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "deleted": self.deleted,
            "retried": self.retried,
            "dead_lettered": self.dead_lettered,
            "objects": [result.to_dict() for result in self.objects],
        }


class SqsIngest:
    def __init__(self, vigil: Vigil, queue_url: str, sqs: Any = None, s3: Any = None) -> None:
        self.vigil = vigil
        self.settings = vigil.settings
        self.queue_url = queue_url
        self.sqs = sqs or sqs_client(queue_url, self.settings.s3_region)
        self.s3 = s3 or s3_client(self.settings)
        self.owner = ensure_ingest_owner(vigil)
        # A misnamed policy would refuse every object; refuse to start instead.
        vigil.policy(self.settings.ingest_policy or None)

    def run(
        self,
        *,
        burst: bool = False,
        on_result: Callable[[ObjectResult], object] = lambda _result: None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> IngestStats:
        """Consume until ``should_stop`` (or, in ``burst`` mode, until a receive is empty).
        A queue that cannot be reached at first is StorageUnavailable at once (a wrong URL or
        missing permission); later, a long-running consumer waits and tries again."""
        stats = IngestStats()
        reached = False
        while not should_stop():
            try:
                got = self.poll_once(stats, on_result, wait=0 if burst else None)
            except StorageUnavailable as trouble:
                if burst or not reached:
                    raise
                log.warning("%s; retrying in %.0f s", trouble.message, RETRY_SECONDS)
                _sleep_unless(should_stop, RETRY_SECONDS)
                continue
            reached = True
            if burst and got == 0:
                break
        return stats

    def poll_once(
        self,
        stats: IngestStats,
        on_result: Callable[[ObjectResult], object] = lambda _result: None,
        wait: int | None = None,
    ) -> int:
        """One receive and every message in it; returns how many messages came."""
        try:
            answer = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=MAX_MESSAGES,
                WaitTimeSeconds=self.settings.ingest_wait_seconds if wait is None else wait,
                VisibilityTimeout=self.settings.ingest_visibility_timeout_seconds,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(f"receiving from {self.queue_url} failed: {error}") from error
        messages: list[dict[str, Any]] = answer.get("Messages", [])
        for message in messages:
            stats.messages += 1
            self._message(message, stats, on_result)
        return len(messages)

    def _message(
        self,
        message: dict[str, Any],
        stats: IngestStats,
        on_result: Callable[[ObjectResult], object],
    ) -> None:
        try:
            results = [self.ingest(event) for event in object_events(message["Body"])]
        except Exception as failure:  # anything: the message is retried, then dead-lettered
            self._failed(message, failure, stats)
            return
        for result in results:
            stats.objects.append(result)
            on_result(result)
        self._delete(message)
        stats.deleted += 1

    def ingest(self, event: S3ObjectEvent) -> ObjectResult:
        """Moderate one object, store the result, tag it and move it when rejected."""
        if self._in_quarantine(event.bucket, event.key):
            return ObjectResult(event.url, "skipped", error="in the quarantine location")
        try:
            source = spool_object(self.s3, event.bucket, event.key, event.version_id)
        except InvalidS3Object as gone:
            # Deleted (or no longer ours to read) since the event: nothing left to moderate.
            log.warning("skipping %s: %s", event.url, gone.message)
            return ObjectResult(event.url, "missing", error=gone.message)
        try:
            outcome = self.vigil.uploads.submit(
                source,
                self._request(event),
                self.owner,
                wait=UNTIL_DECIDED,
                idempotency_key=_idempotency_key(event),
            )
        except VigilError as refusal:
            if refusal.status >= 500:
                raise  # vigil's own trouble (database, storage, models): try again later
            tag_object(self.s3, event, {STATUS_TAG: "refused", ERROR_TAG: refusal.code})
            return ObjectResult(event.url, "refused", error=refusal.code)
        finally:
            source.close()
        status = str(outcome.asset["status"])
        tag_object(self.s3, event, {STATUS_TAG: status})
        moved = self._quarantine(event) if status == "rejected" else None
        return ObjectResult(event.url, status, str(outcome.asset["id"]), moved)

    def _request(self, event: S3ObjectEvent) -> UploadRequest:
        options = UploadOptions(policy=self.settings.ingest_policy or None, tags=(INGEST_TAG,))
        return UploadRequest(filename=event.url, options=options)

    def _quarantine(self, event: S3ObjectEvent) -> str | None:
        bucket = self.settings.ingest_quarantine_bucket or event.bucket
        prefix = self.settings.ingest_quarantine_prefix
        if bucket == event.bucket and not prefix:
            return None  # no quarantine location: the tag alone marks it
        return move_object(self.s3, event, bucket, prefix + event.key)

    def _in_quarantine(self, bucket: str, key: str) -> bool:
        """Objects moved to quarantine raise events of their own when the quarantine is in a
        watched bucket; moderating them again would move them again, forever."""
        target = self.settings.ingest_quarantine_bucket or bucket
        prefix = self.settings.ingest_quarantine_prefix
        return bucket == target and bool(prefix) and key.startswith(prefix)

    def _failed(self, message: dict[str, Any], failure: Exception, stats: IngestStats) -> None:
        received = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        error = failure.message if isinstance(failure, VigilError) else repr(failure)
        if received < self.settings.ingest_max_receives:
            log.warning("message %s failed (receive %d): %s", message["MessageId"], received, error)
            stats.retried += 1
            return
        log.error("dead-lettering %s after %d receives: %s", message["MessageId"], received, error)
        with self.vigil.db.session() as session:
            session.add(
                IngestDeadLetterRow(
                    queue_url=self.queue_url,
                    message_id=str(message["MessageId"]),
                    body=str(message.get("Body", "")),
                    receive_count=received,
                    error=error[:4000],
                    created_at=datetime.now(UTC),
                )
            )
        self._delete(message)
        stats.dead_lettered += 1

    def _delete(self, message: dict[str, Any]) -> None:
        try:
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        except (ClientError, BotoCoreError) as error:
            # The result is stored: the message comes back and its upload's key replays it.
            log.warning("could not delete message %s: %s", message.get("MessageId"), error)


def _sleep_unless(should_stop: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not should_stop():
        time.sleep(0.2)


def dead_letters(vigil: Vigil, limit: int = 50) -> list[dict[str, Any]]:
    """The dead-lettered messages, newest first."""
    with vigil.db.session() as session:
        rows = session.scalars(
            select(IngestDeadLetterRow).order_by(IngestDeadLetterRow.id.desc()).limit(limit)
        )
        return [
            {
                "id": row.id,
                "queue_url": row.queue_url,
                "message_id": row.message_id,
                "receive_count": row.receive_count,
                "error": row.error,
                "body": row.body,
                "created_at": row.created_at.isoformat(),
            }
            for row in rows
        ]


def sqs_client(queue_url: str, default_region: str) -> Any:
    """A client for the queue's own endpoint (AWS or an SQS-compatible server)."""
    parts = urlsplit(queue_url)
    if not parts.scheme or not parts.netloc:
        raise InvalidParameter(f"--queue-url must be a queue URL, not {queue_url!r}")
    return boto3.client(
        "sqs",
        endpoint_url=f"{parts.scheme}://{parts.netloc}",
        region_name=_region(parts.netloc) or default_region,
    )


def _region(host: str) -> str | None:
    """The region in an AWS queue host (sqs.REGION.amazonaws.com or REGION.queue.amazonaws.com)."""
    labels = host.split(".")
    if len(labels) >= 4 and labels[0] == "sqs" and host.endswith(".amazonaws.com"):
        return labels[1]
    if len(labels) >= 4 and labels[1] == "queue" and host.endswith(".amazonaws.com"):
        return labels[0]
    return None


def ensure_ingest_owner(vigil: Vigil) -> Principal:
    """The uploader that ingested assets belong to: an API key row nobody can sign in with
    (its hash is of a secret that was never kept)."""
    with vigil.db.session() as session:
        exists = session.get(ApiKeyRow, INGEST_KEY_ID) is not None
    if not exists:
        unusable = hashlib.sha256(secrets.token_bytes(32)).hexdigest()
        try:
            with vigil.db.session() as session:
                session.add(
                    ApiKeyRow(
                        id=INGEST_KEY_ID,
                        key_hash=unusable,
                        role=Role.UPLOADER.value,
                        name="vigil ingest sqs",
                        created_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            pass  # another consumer made it first
    return Principal(key_id=INGEST_KEY_ID, role=Role.UPLOADER)


def _idempotency_key(event: S3ObjectEvent) -> str:
    # S3 keys may be 1024 bytes; the idempotency key column holds 255.
    digest = hashlib.sha256(f"{event.bucket}\0{event.key}\0{event.identity}".encode())
    return f"s3-ingest:{digest.hexdigest()}"
