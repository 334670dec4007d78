"""`vigil ingest sqs` end to end against a local S3 + SQS server (moto), with plain boto3
clients on both sides: S3 itself sends the event notifications to the queue."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from sqlalchemy import select

from tests.conftest import running_vigil
from tests.images import astronaut_jpeg, coffee_jpeg
from vigil.app import Vigil
from vigil.aws.sqs_ingest import SqsIngest, dead_letters
from vigil.errors import PolicyNotFound, StorageUnavailable
from vigil.service.engine.moderation import ModerationEngine
from vigil.storage.tables import AssetRow


@pytest.fixture
def aws(s3_server: str) -> Iterator[dict[str, Any]]:
    """A bucket whose new objects are announced on a queue, and a quarantine bucket."""
    s3 = boto3.client("s3", endpoint_url=s3_server)
    sqs = boto3.client("sqs", endpoint_url=s3_server)
    name = uuid.uuid4().hex[:10]
    bucket, quarantine = f"uploads-{name}", f"quarantine-{name}"
    s3.create_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=quarantine)
    queue_url = sqs.create_queue(QueueName=f"events-{name}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {"QueueArn": arn["Attributes"]["QueueArn"], "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    yield {"s3": s3, "sqs": sqs, "bucket": bucket, "quarantine": quarantine, "queue": queue_url}
    for each in (bucket, quarantine):
        for item in s3.list_objects_v2(Bucket=each).get("Contents", []):
            s3.delete_object(Bucket=each, Key=item["Key"])
        s3.delete_bucket(Bucket=each)
    sqs.delete_queue(QueueUrl=queue_url)


def stack(
    tmp_path: Path, engine: ModerationEngine, policy_dir: Path, s3_server: str, **settings: Any
) -> Any:
    return running_vigil(
        tmp_path,
        engine,
        policy_dir,
        s3_endpoint_url=s3_server,
        ingest_visibility_timeout_seconds=0,  # a failed message comes back at once
        **settings,
    )


def tags(aws: dict[str, Any], bucket: str, key: str) -> dict[str, str]:
    found = aws["s3"].get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    return {tag["Key"]: tag["Value"] for tag in found}


def keys(aws: dict[str, Any], bucket: str) -> list[str]:
    return [item["Key"] for item in aws["s3"].list_objects_v2(Bucket=bucket).get("Contents", [])]


def queue_is_empty(aws: dict[str, Any]) -> bool:
    attributes = aws["sqs"].get_queue_attributes(
        QueueUrl=aws["queue"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return all(value == "0" for value in attributes.values())


def s3_event(aws: dict[str, Any]) -> dict[str, Any]:
    """Take the first object-created message off the queue (S3 sends a test event first)."""
    while True:
        received = aws["sqs"].receive_message(QueueUrl=aws["queue"], WaitTimeSeconds=1)
        (message,) = received["Messages"]
        aws["sqs"].delete_message(QueueUrl=aws["queue"], ReceiptHandle=message["ReceiptHandle"])
        if "Records" in json.loads(message["Body"]):
            return dict(message)


def assets(vigil: Vigil) -> list[AssetRow]:
    with vigil.db.session() as session:
        return list(session.scalars(select(AssetRow).order_by(AssetRow.created_at)))


def test_new_objects_are_moderated_tagged_and_recorded(
    tmp_path: Path,
    engine: ModerationEngine,
    policy_dir: Path,
    s3_server: str,
    aws: dict[str, Any],
    database_url: str,
) -> None:
    aws["s3"].put_object(Bucket=aws["bucket"], Key="in/astronaut 1.jpg", Body=astronaut_jpeg())
    aws["s3"].put_object(Bucket=aws["bucket"], Key="in/notes.txt", Body=b"just some text\n")
    with stack(tmp_path, engine, policy_dir, s3_server, database_url=database_url) as vigil:
        stats = SqsIngest(vigil, aws["queue"]).run(burst=True)
        stored = assets(vigil)
    by_object = {result.object: result for result in stats.objects}
    approved = by_object[f"s3://{aws['bucket']}/in/astronaut 1.jpg"]
    assert approved.status == "approved"
    assert tags(aws, aws["bucket"], "in/astronaut 1.jpg") == {"vigil-status": "approved"}
    refused = by_object[f"s3://{aws['bucket']}/in/notes.txt"]
    assert (refused.status, refused.error) == ("refused", "InvalidImageFormat")
    assert tags(aws, aws["bucket"], "in/notes.txt")["vigil-error"] == "InvalidImageFormat"
    assert [row.filename for row in stored] == [f"s3://{aws['bucket']}/in/astronaut 1.jpg"]
    assert stored[0].id == approved.asset_id and "s3-ingest" in stored[0].tags
    assert queue_is_empty(aws)


def test_rejected_objects_move_to_quarantine(
    tmp_path: Path, engine: ModerationEngine, policy_dir: Path, s3_server: str, aws: dict[str, Any]
) -> None:
    aws["s3"].put_object(Bucket=aws["bucket"], Key="bad.jpg", Body=coffee_jpeg())
    settings = {"ingest_policy": "block-all", "ingest_quarantine_bucket": aws["quarantine"]}
    with stack(tmp_path, engine, policy_dir, s3_server, **settings) as vigil:
        (result,) = SqsIngest(vigil, aws["queue"]).run(burst=True).objects
        assert assets(vigil)[0].status == "rejected"
    assert result.status == "rejected"
    assert result.moved_to == f"s3://{aws['quarantine']}/quarantine/bad.jpg"
    assert keys(aws, aws["bucket"]) == []
    assert tags(aws, aws["quarantine"], "quarantine/bad.jpg") == {"vigil-status": "rejected"}


def test_a_quarantine_prefix_in_the_same_bucket_is_not_moderated_again(
    tmp_path: Path, engine: ModerationEngine, policy_dir: Path, s3_server: str, aws: dict[str, Any]
) -> None:
    aws["s3"].put_object(Bucket=aws["bucket"], Key="bad.jpg", Body=coffee_jpeg())
    with stack(tmp_path, engine, policy_dir, s3_server, ingest_policy="review-all") as vigil:
        (review,) = SqsIngest(vigil, aws["queue"]).run(burst=True).objects
    assert review.status == "review" and review.moved_to is None
    with stack(tmp_path / "2", engine, policy_dir, s3_server, ingest_policy="block-all") as vigil:
        aws["s3"].put_object(Bucket=aws["bucket"], Key="worse.jpg", Body=coffee_jpeg())
        results = SqsIngest(vigil, aws["queue"]).run(burst=True).objects
    # The move raised an event of its own for quarantine/worse.jpg; it is left alone.
    assert [(r.object.rsplit("/", 1)[-1], r.status) for r in results] == [
        ("worse.jpg", "rejected"),
        ("worse.jpg", "skipped"),
    ]
    assert sorted(keys(aws, aws["bucket"])) == ["bad.jpg", "quarantine/worse.jpg"]
    assert queue_is_empty(aws)


def test_sns_wrapped_events_and_redelivery_reuse_the_stored_result(
    tmp_path: Path,
    engine: ModerationEngine,
    policy_dir: Path,
    s3_server: str,
    aws: dict[str, Any],
    database_url: str,
) -> None:
    aws["s3"].put_object(Bucket=aws["bucket"], Key="a.jpg", Body=astronaut_jpeg())
    with stack(tmp_path, engine, policy_dir, s3_server, database_url=database_url) as vigil:
        consumer = SqsIngest(vigil, aws["queue"])
        message = s3_event(aws)
        envelope = {"Type": "Notification", "TopicArn": "arn:aws:sns:x", "Message": message["Body"]}
        for _ in range(2):  # the same event twice, as at-least-once delivery may do
            aws["sqs"].send_message(QueueUrl=aws["queue"], MessageBody=json.dumps(envelope))
        results = consumer.run(burst=True).objects
        assert len(assets(vigil)) == 1
    assert [r.status for r in results] == ["approved", "approved"]
    assert results[0].asset_id == results[1].asset_id


def test_a_poison_message_is_dead_lettered_after_the_last_receive(
    tmp_path: Path, engine: ModerationEngine, policy_dir: Path, s3_server: str, aws: dict[str, Any]
) -> None:
    aws["sqs"].send_message(QueueUrl=aws["queue"], MessageBody="this is not an S3 event")
    with stack(tmp_path, engine, policy_dir, s3_server, ingest_max_receives=3) as vigil:
        stats = SqsIngest(vigil, aws["queue"]).run(burst=True)
        (letter,) = dead_letters(vigil)
    assert (stats.retried, stats.dead_lettered) == (2, 1)
    assert letter["receive_count"] == 3 and "not JSON" in letter["error"]
    assert letter["body"] == "this is not an S3 event"
    assert queue_is_empty(aws)


def test_a_queue_that_does_not_exist_is_refused_at_once(
    tmp_path: Path, engine: ModerationEngine, policy_dir: Path, s3_server: str
) -> None:
    missing = f"{s3_server}/123456789012/no-such-queue"
    with (
        stack(tmp_path, engine, policy_dir, s3_server) as vigil,
        pytest.raises(StorageUnavailable, match="no-such-queue"),
    ):
        SqsIngest(vigil, missing).run(burst=True)


def test_an_unknown_ingest_policy_is_refused_before_consuming(
    tmp_path: Path, engine: ModerationEngine, policy_dir: Path, s3_server: str, aws: dict[str, Any]
) -> None:
    with (
        stack(tmp_path, engine, policy_dir, s3_server, ingest_policy="nope") as vigil,
        pytest.raises(PolicyNotFound),
    ):
        SqsIngest(vigil, aws["queue"])
