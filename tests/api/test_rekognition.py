"""The Rekognition-compatible endpoint driven by plain boto3 over real HTTP, every response
checked against botocore's own model of Rekognition."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.botocore_shapes import check_output
from tests.conftest import running_vigil
from tests.images import astronaut_jpeg, coffee_jpeg
from tests.live_app import live_app
from tests.queue_helpers import drain
from tests.videos import clip
from tests.webhook_receiver import Receiver
from vigil.app import Vigil
from vigil.aws.keys import AwsKeyPair, create_aws_key
from vigil.service.access.principal import Role
from vigil.service.engine.moderation import ModerationEngine
from vigil.service.notices.sns import add_topic
from vigil.storage.tables import ApiKeyRow, AwsAccessKeyRow

TOPIC = "arn:aws:sns:us-east-1:123456789012:moderation-done"
ROLE = "arn:aws:iam::123456789012:role/rekognition-sns"


@pytest.fixture
def stack_settings(s3_server: str, database_url: str, bucket: str) -> dict[str, Any]:
    # A floor of 1 keeps the sample photos' faint scores, so clips have labels to page through.
    # S3Object inputs are read only from allowed buckets (issue 16, item 4): the test's own.
    return {
        "database_url": database_url,
        "s3_endpoint_url": s3_server,
        "min_confidence": 1,
        "webhook_allow_private": True,
        "rekognition_s3_inputs": [bucket],
    }


@pytest.fixture
def stack(
    tmp_path: Path,
    engine: ModerationEngine,
    policy_dir: Path,
    s3_server: str,
    database_url: str,
    bucket: str,
) -> Iterator[Vigil]:
    # A floor of 1 keeps the sample photos' faint scores, so clips have labels to page through.
    # S3Object inputs are read only from allowed buckets (issue 16, item 4): the test's own.
    with running_vigil(
        tmp_path,
        engine,
        policy_dir,
        database_url=database_url,
        s3_endpoint_url=s3_server,
        min_confidence=1,
        webhook_allow_private=True,
        rekognition_s3_inputs=[bucket],
    ) as running:
        yield running


@pytest.fixture
def url(stack: Vigil) -> Iterator[str]:
    with live_app(stack) as base:
        yield base


def rekognition(url: str, pair: AwsKeyPair, **options: Any) -> Any:
    return boto3.client(
        "rekognition",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=pair.access_key_id,
        aws_secret_access_key=pair.secret_access_key,
        config=Config(retries={"max_attempts": 1}, **options),
    )


@pytest.fixture
def client(stack: Vigil, url: str) -> Any:
    return rekognition(url, create_aws_key(stack.db, Role.UPLOADER))


def put(s3_server: str, bucket: str, key: str, data: bytes) -> None:
    boto3.client("s3", endpoint_url=s3_server).put_object(Bucket=bucket, Key=key, Body=data)


def error_of(call: Any, **params: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    response = caught.value.response
    status = int(response["ResponseMetadata"]["HTTPStatusCode"])
    return response["Error"]["Code"], status, response["Error"]["Message"]


# -- DetectModerationLabels --------------------------------------------------------------------


def test_detect_moderation_labels_from_bytes(client: Any) -> None:
    answer = client.detect_moderation_labels(Image={"Bytes": astronaut_jpeg()}, MinConfidence=0)
    check_output("rekognition", "DetectModerationLabels", answer)
    labels = answer["ModerationLabels"]
    assert labels, "open_nsfw always reports an Explicit score, however low"
    assert all(
        set(label) == {"Confidence", "Name", "ParentName", "TaxonomyLevel"} for label in labels
    )
    assert answer["ModerationModelVersion"].startswith("vigil-")
    # Without MinConfidence, AWS's default of 50 applies: a safe photo has no labels left.
    default = client.detect_moderation_labels(Image={"Bytes": astronaut_jpeg()})
    assert all(label["Confidence"] >= 50 for label in default["ModerationLabels"])


def test_detect_moderation_labels_from_s3(client: Any, s3_server: str, bucket: str) -> None:
    put(s3_server, bucket, "photos/coffee 1.jpg", coffee_jpeg())
    answer = client.detect_moderation_labels(
        Image={"S3Object": {"Bucket": bucket, "Name": "photos/coffee 1.jpg"}}, MinConfidence=0
    )
    check_output("rekognition", "DetectModerationLabels", answer)
    assert answer["ModerationLabels"]
    code, status, message = error_of(
        client.detect_moderation_labels, Image={"S3Object": {"Bucket": bucket, "Name": "nope"}}
    )
    assert (code, status) == ("InvalidS3ObjectException", 400)
    assert "nope" in message


def test_image_refusals_have_aws_names(client: Any, s3_server: str, bucket: str) -> None:
    detect = client.detect_moderation_labels
    assert error_of(detect, Image={"Bytes": b"not an image at all"})[:2] == (
        "InvalidImageFormatException",
        400,
    )
    big = b"\xff\xd8\xff" + b"\0" * (5 * 1024 * 1024)
    assert error_of(detect, Image={"Bytes": big})[:2] == ("ImageTooLargeException", 400)
    put(s3_server, bucket, "big.jpg", big)
    s3_big = {"S3Object": {"Bucket": bucket, "Name": "big.jpg"}}
    assert error_of(detect, Image=s3_big)[:2] == ("ImageTooLargeException", 400)
    adapter = "arn:aws:rekognition:us-east-1:123456789012:project/p/version/v/1"
    code, _status, message = error_of(
        detect, Image={"Bytes": astronaut_jpeg()}, ProjectVersion=adapter
    )
    assert code == "ResourceNotFoundException" and "adapters" in message
    assert error_of(detect, Image={"Bytes": astronaut_jpeg()}, MinConfidence=101)[0] == (
        "InvalidParameterException"
    )


# -- authentication ----------------------------------------------------------------------------


def test_signatures_are_verified(stack: Vigil, url: str) -> None:
    pair = create_aws_key(stack.db, Role.UPLOADER)
    image = {"Bytes": astronaut_jpeg()}
    unknown = AwsKeyPair("VKIAUNKNOWNUNKNOWN00", pair.secret_access_key)
    code, status, _ = error_of(rekognition(url, unknown).detect_moderation_labels, Image=image)
    assert (code, status) == ("UnrecognizedClientException", 400)
    wrong = AwsKeyPair(pair.access_key_id, "not-the-secret")
    code, status, _ = error_of(rekognition(url, wrong).detect_moderation_labels, Image=image)
    assert (code, status) == ("InvalidSignatureException", 400)

    tampering = rekognition(url, pair)

    def change_body(request: Any, **_: Any) -> None:  # after signing, before sending
        request.body = request.body.replace(b'"MinConfidence": 0', b'"MinConfidence": 1')

    tampering.meta.events.register("before-send.rekognition", change_body)
    code, _, _ = error_of(tampering.detect_moderation_labels, Image=image, MinConfidence=0)
    assert code == "InvalidSignatureException"


def test_unsigned_requests_get_the_aws_error_shape(url: str) -> None:
    headers = {
        "X-Amz-Target": "RekognitionService.DetectModerationLabels",
        "Content-Type": "application/x-amz-json-1.1",
    }
    response = httpx.post(url + "/", headers=headers, content=b"{}")
    assert response.status_code == 400
    assert response.json()["__type"] == "MissingAuthenticationTokenException"
    assert response.json()["message"]
    assert response.headers["content-type"] == "application/x-amz-json-1.1"
    # A POST / that is no AWS call is vigil's ordinary 404.
    assert httpx.post(url + "/").json()["error"]["code"] == "NotFound"


def test_roles_and_revocation_apply(stack: Vigil, url: str) -> None:
    image = {"Bytes": astronaut_jpeg()}
    reviewer = rekognition(url, create_aws_key(stack.db, Role.REVIEWER))
    assert error_of(reviewer.detect_moderation_labels, Image=image)[:2] == (
        "AccessDeniedException",
        400,
    )
    pair = create_aws_key(stack.db, Role.UPLOADER)
    with stack.db.session() as session:
        row = session.get(AwsAccessKeyRow, pair.access_key_id)
        assert row is not None
        api_key = session.get(ApiKeyRow, row.api_key_id)
        assert api_key is not None
        api_key.revoked_at = datetime.now(UTC)
    code = error_of(rekognition(url, pair).detect_moderation_labels, Image=image)[0]
    assert code == "UnrecognizedClientException"


def test_an_unknown_operation_is_named(client: Any, url: str, stack: Vigil) -> None:
    code, status, message = error_of(client.detect_labels, Image={"Bytes": astronaut_jpeg()})
    assert (code, status) == ("UnknownOperationException", 400)
    assert "DetectModerationLabels" in message


# -- StartContentModeration / GetContentModeration ----------------------------------------------


def test_video_jobs_idempotency_paging_and_sns_notification(
    stack: Vigil, client: Any, s3_server: str, bucket: str
) -> None:
    put(s3_server, bucket, "clips/a.mp4", clip())
    video = {"S3Object": {"Bucket": bucket, "Name": "clips/a.mp4"}}
    with Receiver() as receiver:
        add_topic(stack.db, stack.settings, TOPIC, receiver.url)
        start = {
            "Video": video,
            "MinConfidence": 1,
            "ClientRequestToken": "token-1",
            "JobTag": "batch:7",
            "NotificationChannel": {"SNSTopicArn": TOPIC, "RoleArn": ROLE},
        }
        first = client.start_content_moderation(**start)
        check_output("rekognition", "StartContentModeration", first)
        job_id = first["JobId"]
        assert job_id.startswith("vid-")
        assert client.start_content_moderation(**start)["JobId"] == job_id
        code = error_of(client.start_content_moderation, **{**start, "JobTag": "other"})[0]
        assert code == "IdempotentParameterMismatchException"

        running = client.get_content_moderation(JobId=job_id)
        check_output("rekognition", "GetContentModeration", running)
        assert running["JobStatus"] == "IN_PROGRESS"
        drain(stack)

        done = client.get_content_moderation(JobId=job_id)
        check_output("rekognition", "GetContentModeration", done)
        assert done["JobStatus"] == "SUCCEEDED"
        assert (done["JobTag"], done["Video"]) == ("batch:7", video)
        assert done["VideoMetadata"]["DurationMillis"] > 0
        everything = done["ModerationLabels"]
        assert everything and all(e["ModerationLabel"]["Confidence"] >= 1 for e in everything)
        assert len(receiver.requests) == 1
    envelope = json.loads(receiver.requests[0].body)
    assert (envelope["Type"], envelope["TopicArn"]) == ("Notification", TOPIC)
    message = json.loads(envelope["Message"])
    assert message["JobId"] == job_id and message["Status"] == "SUCCEEDED"
    assert (message["API"], message["JobTag"]) == ("StartContentModeration", "batch:7")
    assert message["Video"] == {"S3ObjectName": "clips/a.mp4", "S3Bucket": bucket}

    paged, token = [], None
    while True:
        page = client.get_content_moderation(
            JobId=job_id, MaxResults=2, **({"NextToken": token} if token else {})
        )
        check_output("rekognition", "GetContentModeration", page)
        paged += page["ModerationLabels"]
        token = page.get("NextToken")
        if token is None:
            break
    assert paged == everything
    segments = client.get_content_moderation(JobId=job_id, AggregateBy="SEGMENTS", SortBy="NAME")
    check_output("rekognition", "GetContentModeration", segments)
    assert segments["GetRequestMetadata"] == {"SortBy": "NAME", "AggregateBy": "SEGMENTS"}
    assert all("DurationMillis" in entry for entry in segments["ModerationLabels"])


def test_video_job_refusals(stack: Vigil, client: Any, s3_server: str, bucket: str) -> None:
    put(s3_server, bucket, "photo.jpg", astronaut_jpeg())
    put(s3_server, bucket, "a.mp4", clip(scenes=(("coffee", 1),)))
    start = client.start_content_moderation
    missing = {"S3Object": {"Bucket": bucket, "Name": "missing.mp4"}}
    assert error_of(start, Video=missing)[0] == "InvalidS3ObjectException"
    photo = {"S3Object": {"Bucket": bucket, "Name": "photo.jpg"}}
    assert error_of(start, Video=photo)[0] == "InvalidParameterException"
    clip_video = {"S3Object": {"Bucket": bucket, "Name": "a.mp4"}}
    channel = {"SNSTopicArn": TOPIC + "-unregistered", "RoleArn": ROLE}
    code, _, message = error_of(start, Video=clip_video, NotificationChannel=channel)
    assert code == "InvalidParameterException" and "vigil aws topics add" in message
    get = client.get_content_moderation
    assert error_of(get, JobId="vid-nothing")[:2] == ("ResourceNotFoundException", 400)
    job_id = start(Video=clip_video)["JobId"]
    assert error_of(get, JobId=job_id, NextToken="bogus")[0] == "InvalidPaginationTokenException"
    assert error_of(get, JobId=job_id, SortBy="SIZE")[0] == "InvalidParameterException"
    # Another uploader's job does not exist for this one.
    other = rekognition(client.meta.endpoint_url, create_aws_key(stack.db, Role.UPLOADER))
    assert error_of(other.get_content_moderation, JobId=job_id)[0] == "ResourceNotFoundException"
