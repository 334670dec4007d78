"""Signature Version 4 verification against requests that botocore itself signed."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from vigil.aws.sigv4 import SignedRequest, access_key_of, verify
from vigil.errors import InvalidSignature, MissingAuthenticationToken, UnrecognizedClient

KEY_ID, SECRET = "VKIAEXAMPLEEXAMPLE12", "s3cr3t/with+odd=characters-and-more-here"
BODY = b'{"Image": {"Bytes": "AAAA"}, "MinConfidence": 50}'


def signed(
    body: bytes = BODY,
    secret: str = SECRET,
    service: str = "rekognition",
    url: str = "http://127.0.0.1:8000/",
    token: str | None = None,
) -> SignedRequest:
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "RekognitionService.DetectModerationLabels",
        },
    )
    SigV4Auth(Credentials(KEY_ID, secret, token), service, "eu-west-1").add_auth(request)
    parts = urlsplit(url)
    headers = {name.lower(): value for name, value in request.headers.items()}
    headers["host"] = parts.netloc
    return SignedRequest("POST", parts.path or "/", parts.query, headers, body)


def secret_of(key: str) -> str:
    if key != KEY_ID:
        raise UnrecognizedClient("The security token included in the request is invalid.")
    return SECRET


def test_a_botocore_signature_verifies() -> None:
    credential = verify(signed(), secret_of, "rekognition")
    assert (credential.access_key_id, credential.region) == (KEY_ID, "eu-west-1")
    assert access_key_of(signed()) == KEY_ID


def test_paths_queries_and_session_tokens_are_covered() -> None:
    request = signed(url="http://localhost:9000/some%20path/x?b=2&a=1&a=0", token="tok")
    assert "x-amz-security-token" in request.headers
    verify(request, secret_of, "rekognition")


def test_a_changed_body_header_or_secret_is_refused() -> None:
    good = signed()
    tampered_body = SignedRequest(good.method, good.path, good.query, good.headers, BODY + b" ")
    target = {**good.headers, "x-amz-target": "RekognitionService.StartContentModeration"}
    tampered_header = SignedRequest(good.method, good.path, good.query, target, good.body)
    for request in (tampered_body, tampered_header, signed(secret="wrong")):
        with pytest.raises(InvalidSignature, match="does not match"):
            verify(request, secret_of, "rekognition")


def test_an_unknown_key_is_refused_as_unrecognized() -> None:
    with pytest.raises(UnrecognizedClient):
        verify(signed(), lambda _key: secret_of("other"), "rekognition")


def test_signatures_older_or_newer_than_fifteen_minutes_expire() -> None:
    request = signed()
    signed_at = datetime.strptime(request.headers["x-amz-date"], "%Y%m%dT%H%M%SZ")
    signed_at = signed_at.replace(tzinfo=UTC)
    verify(request, secret_of, "rekognition", now=signed_at + timedelta(minutes=14))
    for skew in (timedelta(minutes=16), -timedelta(minutes=16)):
        with pytest.raises(InvalidSignature, match="Signature expired"):
            verify(request, secret_of, "rekognition", now=signed_at + skew)


def test_another_service_scope_or_a_missing_header_is_refused() -> None:
    with pytest.raises(InvalidSignature, match="scoped to correct service"):
        verify(signed(service="s3"), secret_of, "rekognition")
    request = signed()
    headers = {k: v for k, v in request.headers.items() if k != "authorization"}
    with pytest.raises(MissingAuthenticationToken):
        verify(SignedRequest("POST", "/", "", headers, BODY), secret_of, "rekognition")
    broken = {**request.headers, "authorization": "AWS4-HMAC-SHA256 Credential=x"}
    with pytest.raises(InvalidSignature, match="requires"):
        verify(SignedRequest("POST", "/", "", broken, BODY), secret_of, "rekognition")


def test_a_signed_payload_hash_must_be_the_bodys() -> None:
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:8000/",
        data=BODY,
        headers={"X-Amz-Content-SHA256": hashlib.sha256(BODY).hexdigest()},
    )
    SigV4Auth(Credentials(KEY_ID, SECRET), "rekognition", "eu-west-1").add_auth(request)
    headers = {name.lower(): value for name, value in request.headers.items()}
    headers["host"] = "127.0.0.1:8000"
    verify(SignedRequest("POST", "/", "", headers, BODY), secret_of, "rekognition")
    # The signature covers the header, not the body: another body must not pass with it.
    swapped = SignedRequest("POST", "/", "", headers, b'{"Image": {"Bytes": "BBBB"}}')
    with pytest.raises(InvalidSignature, match="x-amz-content-sha256"):
        verify(swapped, secret_of, "rekognition")
