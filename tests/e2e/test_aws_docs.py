"""The examples of docs/rekognition.md and docs/sqs-ingest.md, run as written: their shell
blocks with bash and their Python files with the project's interpreter, against a real
`vigil serve` and a local S3 + SQS server. Only the local port numbers are changed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.conftest import S3_TEST_ENV
from tests.images import astronaut_jpeg
from tests.servers import VigilServer, start_vigil_serve

DOCS = Path(__file__).resolve().parents[2] / "docs"
BIN = str(Path(sys.executable).parent)


def blocks(page: str, language: str) -> list[str]:
    text = (DOCS / page).read_text()
    return [
        re.sub(r"^ {3}", "", block, flags=re.MULTILINE)  # blocks inside list items
        for block in re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)
    ]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The test process's environment without any AWS setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VIGIL_"))}
    env.update(
        PATH=f"{BIN}:{env.get('PATH', '')}",
        VIGIL_DATA_DIR=str(tmp_path / "data"),
        AWS_CONFIG_FILE=S3_TEST_ENV["AWS_CONFIG_FILE"],
        AWS_SHARED_CREDENTIALS_FILE=S3_TEST_ENV["AWS_SHARED_CREDENTIALS_FILE"],
        **extra,
    )
    return env


def bash(script: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def served(tmp_path: Path) -> Iterator[VigilServer]:
    server = start_vigil_serve(clean_env(tmp_path))
    yield server
    server.stop()


def test_rekognition_example_runs_as_written(tmp_path: Path, served: VigilServer) -> None:
    (moderate,) = blocks("rekognition.md", "python")[:1]
    (tmp_path / "moderate.py").write_text(moderate)
    (tmp_path / "photo.jpg").write_bytes(astronaut_jpeg())
    steps = [block for block in blocks("rekognition.md", "sh") if "moderate.py" in block]
    script = steps[0].replace("http://127.0.0.1:8000", served.url)
    output = bash(script, tmp_path, clean_env(tmp_path)).splitlines()
    assert output[-1] == "safe"
    assert any("(under " in line for line in output[:-1])  # a floor of 1 shows faint labels


def test_sqs_ingest_example_runs_as_written(tmp_path: Path, s3_server: str) -> None:
    setup, show = blocks("sqs-ingest.md", "python")
    (tmp_path / "setup_pipeline.py").write_text(setup)
    (tmp_path / "show_results.py").write_text(show)
    (tmp_path / "photo.jpg").write_bytes(astronaut_jpeg())
    (script,) = [block for block in blocks("sqs-ingest.md", "sh") if "setup_pipeline" in block]
    port = s3_server.rsplit(":", 1)[1]
    # moto is running already (the session's server); the rest runs as written.
    script = "\n".join(line for line in script.splitlines() if "moto_server" not in line)
    script = script.replace("127.0.0.1:5000", f"127.0.0.1:{port}")
    try:
        output = bash(script, tmp_path, clean_env(tmp_path))
    finally:
        _remove_example_resources(s3_server)
    assert '"status": "approved"' in output
    assert "s3://uploads/in/photo.jpg: vigil-status=approved" in output


def _remove_example_resources(endpoint: str) -> None:
    s3 = boto3.client("s3", endpoint_url=endpoint)
    sqs = boto3.client("sqs", endpoint_url=endpoint)
    for item in s3.list_objects_v2(Bucket="uploads").get("Contents", []):
        s3.delete_object(Bucket="uploads", Key=item["Key"])
    s3.delete_bucket(Bucket="uploads")
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName="uploads-events")["QueueUrl"])
