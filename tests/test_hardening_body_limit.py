"""Issue 16, item 2: request bodies are bounded and their senders known before the body is
read, over a real `vigil serve` on loopback.

Most requests here declare a huge body and send none of it: an answer at all proves the
server decided from the headers, without buffering or spooling a byte."""

from __future__ import annotations

import http.client
import json
import os
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.servers import VigilServer, start_vigil_serve
from vigil.aws.keys import create_aws_key
from vigil.aws.routes import MAX_BODY_BYTES
from vigil.service.access.principal import Role
from vigil.storage.db import Database

MAX_REQUEST = 256 * 1024
MAX_UPLOAD = 512 * 1024
MAX_VIDEO = 2 * 1024 * 1024
HUGE = 400 * 1024 * 1024
REKOGNITION = "RekognitionService.DetectModerationLabels"
SIGV4 = (
    "AWS4-HMAC-SHA256 Credential={key}/20260101/us-east-1/rekognition/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: dict[str, Any]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("limits") / "data"


@pytest.fixture(scope="module")
def server(data_dir: Path) -> Iterator[VigilServer]:
    env = {
        **os.environ,
        "VIGIL_DATA_DIR": str(data_dir),
        "VIGIL_DETECTORS": "nsfw",
        "VIGIL_MAX_REQUEST_BYTES": str(MAX_REQUEST),
        "VIGIL_MAX_UPLOAD_BYTES": str(MAX_UPLOAD),
        "VIGIL_VIDEO_MAX_BYTES": str(MAX_VIDEO),
    }
    running = start_vigil_serve(env)
    yield running
    running.stop()


def send(url: str, head: list[str], body: Iterable[bytes] = ()) -> Answer:
    """One request over a raw socket: the head lines as given, then ``body`` as is."""
    where = urlsplit(url)
    with socket.create_connection((where.hostname or "", where.port or 80), timeout=30) as sock:
        sock.sendall(("\r\n".join([*head, "Host: 127.0.0.1", "", ""])).encode())
        for part in body:
            sock.sendall(part)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return Answer(response.status, response.headers, json.loads(response.read()))


def test_unauthenticated_uploads_are_refused_before_the_body(server: VigilServer) -> None:
    for path in ("/v1/assets", "/v1/moderate"):
        head = [
            f"POST {path} HTTP/1.1",
            f"Content-Length: {HUGE}",
            "Content-Type: multipart/form-data; boundary=x",
        ]
        answer = send(server.url, head)
        assert answer.status == 401
        assert answer.body["error"] == {
            "code": "Unauthorized",
            "message": "send an API key as 'Authorization: Bearer <key>'",
        }
        assert answer.headers["Connection"] == "close"
        wrong = send(server.url, [*head, "Authorization: Bearer vgl_not-a-key"])
        assert (wrong.status, wrong.body["error"]["code"]) == (401, "Unauthorized")


def test_oversized_uploads_are_refused_from_content_length(server: VigilServer) -> None:
    auth = f"Authorization: Bearer {server.admin_key}"
    for path, limit, code in (
        ("/v1/moderate", MAX_UPLOAD, "ImageTooLarge"),
        ("/v1/assets", MAX_VIDEO, "VideoTooLarge"),
    ):
        head = [f"POST {path} HTTP/1.1", auth, f"Content-Length: {HUGE}"]
        answer = send(server.url, [*head, "Content-Type: multipart/form-data; boundary=x"])
        assert answer.status == 413
        assert answer.body["error"]["code"] == code
        assert str(limit) in str(answer.body["error"]["message"])
        assert answer.headers["Connection"] == "close"


def test_other_routes_take_the_request_limit(server: VigilServer) -> None:
    auth = f"Authorization: Bearer {server.admin_key}"
    answer = send(server.url, ["POST /v1/policies HTTP/1.1", auth, f"Content-Length: {HUGE}"])
    assert (answer.status, answer.body["error"]["code"]) == (413, "RequestTooLarge")
    # The console's forms have no API key, but the same limit.
    login = send(server.url, ["POST /review/login HTTP/1.1", f"Content-Length: {HUGE}"])
    assert (login.status, login.body["error"]["code"]) == (413, "RequestTooLarge")


def test_a_chunked_body_is_cut_off_while_it_streams(server: VigilServer) -> None:
    """No Content-Length to go by: the count of what arrived trips the limit."""
    auth = f"Authorization: Bearer {server.admin_key}"
    chunk = b"# " + b"x" * (64 * 1024 - 3) + b"\n"
    chunks = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * (MAX_REQUEST // len(chunk) + 1)
    head = [
        "POST /v1/policies HTTP/1.1",
        auth,
        "Transfer-Encoding: chunked",
        "Content-Type: application/yaml",
    ]
    answer = send(server.url, head, [*chunks, b"0\r\n\r\n"])
    assert (answer.status, answer.body["error"]["code"]) == (413, "RequestTooLarge")
    assert answer.headers["Connection"] == "close"


def test_a_chunked_upload_is_cut_off_at_the_upload_limit(server: VigilServer) -> None:
    auth = f"Authorization: Bearer {server.admin_key}"
    part = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n'
    filler = b"\xff" * (256 * 1024)
    pieces = [part, *[filler] * (MAX_UPLOAD // len(filler) + 3), b"\r\n--x--\r\n"]
    head = [
        "POST /v1/moderate HTTP/1.1",
        auth,
        "Transfer-Encoding: chunked",
        "Content-Type: multipart/form-data; boundary=x",
    ]
    chunks = [b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces]
    answer = send(server.url, head, [*chunks, b"0\r\n\r\n"])
    assert (answer.status, answer.body["error"]["code"]) == (413, "ImageTooLarge")


def test_rekognition_knows_the_access_key_before_the_body(
    server: VigilServer, data_dir: Path
) -> None:
    head = [
        "POST / HTTP/1.1",
        f"X-Amz-Target: {REKOGNITION}",
        "Content-Type: application/x-amz-json-1.1",
        f"Content-Length: {HUGE}",
    ]
    missing = send(server.url, head)
    assert (missing.status, missing.body["__type"]) == (400, "MissingAuthenticationTokenException")
    unknown = send(server.url, [*head, "Authorization: " + SIGV4.format(key="VKIA" + "A" * 16)])
    assert (unknown.status, unknown.body["__type"]) == (400, "UnrecognizedClientException")
    assert unknown.headers["Content-Type"] == "application/x-amz-json-1.1"

    db = Database(f"sqlite:///{data_dir / 'vigil.db'}")
    try:
        pair = create_aws_key(db, Role.UPLOADER)
    finally:
        db.dispose()
    known = send(server.url, [*head, "Authorization: " + SIGV4.format(key=pair.access_key_id)])
    assert (known.status, known.body["__type"]) == (413, "ImageTooLargeException")
    assert str(MAX_BODY_BYTES) in str(known.body["message"])
