"""Issue 16, item 4: a Rekognition ``S3Object`` names only objects the operator allowed, never
vigil's own blobs, and whatever may not be read answers exactly as a missing object does.

boto3 over real HTTP against vigil on loopback, with moto as the S3 server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import running_vigil, throwaway_bucket
from tests.images import coffee_jpeg
from tests.live_app import live_app
from tests.servers import free_port
from tests.videos import clip
from vigil.app import Vigil
from vigil.aws.keys import create_aws_key
from vigil.aws.s3_input import S3Area, S3InputRules
from vigil.service.access.principal import Role
from vigil.service.engine.moderation import ModerationEngine
from vigil.settings import Settings

UNREADABLE = (
    "Unable to get object metadata from S3: {url}. "
    "Check object key, region and/or access permissions."
)


@pytest.fixture
def blob_bucket(s3_server: str) -> Iterator[str]:
    with throwaway_bucket(s3_server) as name:
        yield name


def client_of(vigil: Vigil, url: str) -> Any:
    pair = create_aws_key(vigil.db, Role.UPLOADER)
    return boto3.client(
        "rekognition",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=pair.access_key_id,
        aws_secret_access_key=pair.secret_access_key,
        config=Config(retries={"max_attempts": 1}),
    )


def refusal(call: Any, **params: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response
    return (
        error["Error"]["Code"],
        error["ResponseMetadata"]["HTTPStatusCode"],
        error["Error"]["Message"],
    )


def image(bucket: str, key: str) -> dict[str, Any]:
    return {"S3Object": {"Bucket": bucket, "Name": key}}


def unreadable(bucket: str, key: str) -> tuple[str, int, str]:
    return "InvalidS3ObjectException", 400, UNREADABLE.format(url=f"s3://{bucket}/{key}")


def test_only_allowed_objects_are_read_and_vigils_own_never(
    tmp_path: Path,
    engine: ModerationEngine,
    policy_dir: Path,
    s3_server: str,
    bucket: str,
    blob_bucket: str,
) -> None:
    s3 = boto3.client("s3", endpoint_url=s3_server)
    for where, key in (
        (bucket, "inputs/a.jpg"),
        (bucket, "elsewhere/a.jpg"),
        (blob_bucket, "vigil/originals/a.jpg"),  # where vigil keeps every tenant's uploads
        (blob_bucket, "public/a.jpg"),
    ):
        s3.put_object(Bucket=where, Key=key, Body=coffee_jpeg())
    s3.put_object(Bucket=blob_bucket, Key="vigil/originals/a.mp4", Body=clip())
    with (
        running_vigil(
            tmp_path,
            engine,
            policy_dir,
            s3_endpoint_url=s3_server,
            blob_url=f"s3://{blob_bucket}/vigil",
            # The blob bucket allowed as a whole: its vigil/ prefix is refused all the same.
            rekognition_s3_inputs=[f"{bucket}/inputs", blob_bucket],
        ) as vigil,
        live_app(vigil) as url,
    ):
        detect = client_of(vigil, url).detect_moderation_labels
        assert "ModerationLabels" in detect(Image=image(bucket, "inputs/a.jpg"))
        assert "ModerationLabels" in detect(Image=image(blob_bucket, "public/a.jpg"))
        for where, key in (
            (bucket, "inputs/missing.jpg"),  # missing
            (bucket, "elsewhere/a.jpg"),  # present, outside the allowed prefix
            (bucket, "inputs/../elsewhere/a.jpg"),  # a path trick
            (blob_bucket, "vigil/originals/a.jpg"),  # vigil's own
            ("another-bucket", "inputs/a.jpg"),  # a bucket nobody allowed
        ):
            assert refusal(detect, Image=image(where, key)) == unreadable(where, key), key
        start = client_of(vigil, url).start_content_moderation
        own_video = image(blob_bucket, "vigil/originals/a.mp4")
        answer = refusal(start, Video=own_video)
        assert answer == unreadable(blob_bucket, "vigil/originals/a.mp4")


def test_s3_input_is_off_unless_allowed(
    tmp_path: Path, engine: ModerationEngine, policy_dir: Path, s3_server: str, bucket: str
) -> None:
    boto3.client("s3", endpoint_url=s3_server).put_object(
        Bucket=bucket, Key="a.jpg", Body=coffee_jpeg()
    )
    with (
        running_vigil(tmp_path, engine, policy_dir, s3_endpoint_url=s3_server) as vigil,
        live_app(vigil) as url,
    ):
        detect = client_of(vigil, url).detect_moderation_labels
        assert refusal(detect, Image=image(bucket, "a.jpg")) == unreadable(bucket, "a.jpg")


def test_without_s3_credentials_the_answer_is_the_same_not_a_500(
    tmp_path: Path, engine: ModerationEngine, policy_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata lookups
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # forget credentials found earlier
    # An endpoint nothing listens on: without credentials nothing is even sent there.
    endpoint = f"http://127.0.0.1:{free_port()}"
    with (
        running_vigil(
            tmp_path, engine, policy_dir, s3_endpoint_url=endpoint, rekognition_s3_inputs=["*"]
        ) as vigil,
        live_app(vigil) as url,
    ):
        detect = client_of(vigil, url).detect_moderation_labels
        assert refusal(detect, Image=image("photos", "a.jpg")) == unreadable("photos", "a.jpg")


def test_allowlist_entries() -> None:
    rules = S3InputRules.from_settings(
        Settings(
            rekognition_s3_inputs=["s3://Photos/in/", "clips"],
            blob_url="s3://clips/vigil",
        )
    )
    assert rules.allowed == (S3Area("photos", "in/"), S3Area("clips", ""))
    assert rules.permits("photos", "in/a.jpg")
    assert not rules.permits("photos", "inbox/a.jpg")  # a prefix is a folder, not a stem
    assert rules.permits("clips", "2024/a.mp4")
    assert not rules.permits("clips", "vigil/videos/a.mp4")
    assert not rules.permits("clips", "/vigil/videos/a.mp4")
    everything = S3InputRules.from_settings(Settings(rekognition_s3_inputs=["*"]))
    assert everything.permits("any", "a.jpg") and not S3InputRules().permits("any", "a.jpg")
