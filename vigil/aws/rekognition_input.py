"""Checking Rekognition request fields the way AWS does, with its limits and messages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from vigil.errors import InvalidParameter

DEFAULT_MIN_CONFIDENCE = 50.0  # Rekognition's default when MinConfidence is left out
_TOKEN = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
_JOB_TAG = re.compile(r"^[a-zA-Z0-9_.\-:]{1,256}$")
_SNS_ARN = re.compile(r"^arn:aws:sns:[^:]*:[^:]*:.+$")


@dataclass(frozen=True)
class S3Location:
    bucket: str
    name: str
    version: str | None = None

    def to_dict(self) -> dict[str, str]:
        shown = {"Bucket": self.bucket, "Name": self.name}
        if self.version:
            shown["Version"] = self.version
        return shown

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.name}"


def min_confidence(body: dict[str, Any]) -> float:
    value = body.get("MinConfidence", DEFAULT_MIN_CONFIDENCE)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise InvalidParameter("MinConfidence must be a number from 0 to 100")
    return float(value)


def s3_location(value: Any, field: str) -> S3Location:
    if not isinstance(value, dict):
        raise InvalidParameter(f"{field} must be an object with Bucket and Name")
    bucket, name, version = value.get("Bucket"), value.get("Name"), value.get("Version")
    if not isinstance(bucket, str) or not 3 <= len(bucket) <= 255:
        raise InvalidParameter(f"{field}.Bucket must be a bucket name")
    if not isinstance(name, str) or not 1 <= len(name) <= 1024:
        raise InvalidParameter(f"{field}.Name must be an object key of 1 to 1024 characters")
    if version is not None and (not isinstance(version, str) or not version):
        raise InvalidParameter(f"{field}.Version must be a version id")
    return S3Location(bucket, name, version)


def optional_string(body: dict[str, Any], field: str, pattern: re.Pattern[str]) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not pattern.match(value):
        raise InvalidParameter(f"{field} must match {pattern.pattern}")
    return value


def client_request_token(body: dict[str, Any]) -> str | None:
    return optional_string(body, "ClientRequestToken", _TOKEN)


def job_tag(body: dict[str, Any]) -> str | None:
    return optional_string(body, "JobTag", _JOB_TAG)


def sns_topic_arn(body: dict[str, Any]) -> str | None:
    """The notification channel's topic ARN. RoleArn is required as by AWS but unused: vigil
    delivers the notification itself."""
    channel = body.get("NotificationChannel")
    if channel is None:
        return None
    if not isinstance(channel, dict):
        raise InvalidParameter("NotificationChannel must have SNSTopicArn and RoleArn")
    arn, role = channel.get("SNSTopicArn"), channel.get("RoleArn")
    if not isinstance(arn, str) or not _SNS_ARN.match(arn):
        raise InvalidParameter("NotificationChannel.SNSTopicArn must be an SNS topic ARN")
    if not isinstance(role, str) or not role.startswith("arn:"):
        raise InvalidParameter("NotificationChannel.RoleArn must be an IAM role ARN")
    return arn


def job_id(body: dict[str, Any]) -> str:
    value = body.get("JobId")
    if not isinstance(value, str) or not 1 <= len(value) <= 64:
        raise InvalidParameter("JobId must be the JobId StartContentModeration returned")
    return value


def page_fields(body: dict[str, Any]) -> dict[str, Any]:
    """SortBy, AggregateBy, MaxResults and NextToken as PageRequest arguments."""
    fields: dict[str, Any] = {}
    for name, key in (("SortBy", "sort_by"), ("AggregateBy", "aggregate_by")):
        if name in body:
            if not isinstance(body[name], str):
                raise InvalidParameter(f"{name} must be a string")
            fields[key] = body[name]
    if "MaxResults" in body:
        value = body["MaxResults"]
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidParameter("MaxResults must be an integer")
        fields["max_results"] = value
    if "NextToken" in body:
        if not isinstance(body["NextToken"], str):
            raise InvalidParameter("NextToken must be a string")
        fields["next_token"] = body["NextToken"]
    return fields
