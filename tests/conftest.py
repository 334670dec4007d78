"""Shared fixtures: one loaded ModerationEngine (real models) and a fresh vigil per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient

from tests.servers import PostgresServer, S3Server, ServerUnavailable, start_postgres
from vigil.api.app import create_app
from vigil.app import Vigil, build, prepare_storage
from vigil.service.access.keys import authenticate, create_key
from vigil.service.access.principal import Principal, Role
from vigil.service.engine.moderation import ModerationEngine
from vigil.settings import Settings
from vigil.storage.blobs import BlobStore, LocalBlobStore
from vigil.storage.s3 import S3BlobStore

# Test-only policies that force each outcome on any photo, so quarantine and review paths run
# through the real detectors: open_nsfw always reports an "Explicit" score, however low.
TEST_POLICIES = {
    "block-all": "name: block-all\ncategories:\n  Explicit: {block: 0}\n",
    "review-all": "name: review-all\ncategories:\n  Explicit: {review: 0}\n",
}


@pytest.fixture(scope="session")
def policy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("policies")
    for name, text in TEST_POLICIES.items():
        (directory / f"{name}.yaml").write_text(text)
    return directory


@pytest.fixture(scope="session")
def engine(policy_dir: Path) -> ModerationEngine:
    loaded = ModerationEngine(Settings(policy_dir=policy_dir))
    loaded.load()
    return loaded


@pytest.fixture(scope="session")
def nsfw_engine(policy_dir: Path) -> ModerationEngine:
    """One real, small detector (open_nsfw): enough where the detectors are not the subject
    (hash lists act before their bands)."""
    loaded = ModerationEngine(Settings(policy_dir=policy_dir, detectors=["nsfw"]))
    loaded.load()
    return loaded


@pytest.fixture
def lists_vigil(tmp_path: Path, nsfw_engine: ModerationEngine, policy_dir: Path) -> Iterator[Vigil]:
    """A vigil whose hash lists are re-read on every match (no refresh interval)."""
    with running_vigil(tmp_path, nsfw_engine, policy_dir, hashlist_refresh_seconds=0) as vigil:
        yield vigil


@pytest.fixture
def stack_settings() -> dict[str, Any]:
    """Settings ``stack`` runs with besides the defaults; a test module overrides this fixture
    (``database_url``, ``min_confidence``, ...)."""
    return {}


@pytest.fixture
def stack_engine(engine: ModerationEngine) -> ModerationEngine:
    """The loaded detectors ``stack`` shares; a test module overrides this fixture."""
    return engine


@pytest.fixture
def stack(
    tmp_path: Path, stack_engine: ModerationEngine, policy_dir: Path, stack_settings: dict[str, Any]
) -> Iterator[Vigil]:
    """A vigil for one test with the module's ``stack_settings`` and ``stack_engine``."""
    with running_vigil(tmp_path, stack_engine, policy_dir, **stack_settings) as running:
        yield running


@pytest.fixture
def api(stack: Vigil) -> Iterator[TestClient]:
    """The HTTP API of ``stack``, its queue left to the test (``tests.queue_helpers.drain``)."""
    with TestClient(create_app(stack, run_worker=False)) as test_client:
        yield test_client


@contextmanager
def running_vigil(
    tmp_path: Path, engine: ModerationEngine, policy_dir: Path, **settings: Any
) -> Iterator[Vigil]:
    """A prepared vigil on its own data directory, sharing the loaded detectors; ``settings``
    override the defaults (``database_url``, ``min_confidence``, ...)."""
    chosen = Settings(data_dir=tmp_path / "data", policy_dir=policy_dir, **settings)
    prepare_storage(chosen)
    running = build(chosen, engine)
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def vigil(tmp_path: Path, engine: ModerationEngine, policy_dir: Path) -> Iterator[Vigil]:
    with running_vigil(tmp_path, engine, policy_dir) as running:
        yield running


def role_headers(vigil: Vigil, *roles: Role) -> dict[str, dict[str, str]]:
    """A new API key per role, as request headers keyed by role name."""
    return {role.value: {"Authorization": f"Bearer {create_key(vigil.db, role)}"} for role in roles}


@dataclass
class Keys:
    admin: str
    uploader: str
    other_uploader: str
    reviewer: str

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, role)}"}


def grant_skip_moderation(vigil: Vigil, token: str) -> None:
    """Let the key ``token`` upload with moderation=none (docs/keys.md#grants)."""
    key_id = authenticate(vigil.db, f"Bearer {token}").key_id
    vigil.keys.grant(Principal(key_id="test-admin", role=Role.ADMIN), key_id, "skip-moderation")


@pytest.fixture
def keys(vigil: Vigil) -> Keys:
    return Keys(
        admin=create_key(vigil.db, Role.ADMIN),
        uploader=create_key(vigil.db, Role.UPLOADER),
        other_uploader=create_key(vigil.db, Role.UPLOADER),
        reviewer=create_key(vigil.db, Role.REVIEWER),
    )


@pytest.fixture
def client(vigil: Vigil) -> Iterator[TestClient]:
    with TestClient(create_app(vigil, run_worker=False)) as test_client:
        yield test_client


# Dummy credentials for boto3 against the local S3 server; the config files point nowhere so
# a developer's own AWS profile can never be picked up by a test.
S3_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
}


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throw-away PostgreSQL cluster for the session. It fails rather than skips when
    PostgreSQL can't start: `make test` installs it, so a missing server is a real fault."""
    try:
        server = start_postgres()
    except ServerUnavailable as error:
        pytest.fail(f"cannot start the test PostgreSQL server: {error}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A SQLAlchemy URL of a fresh, empty (unmigrated) database, once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    # Looked up lazily so that SQLite-only runs never start PostgreSQL.
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"test_{uuid.uuid4().hex[:16]}"
    yield server.create_database(name)
    server.drop_database(name)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """Endpoint URL of a local S3-compatible server (moto) running for the session."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in S3_TEST_ENV.items():
            env.setenv(name, value)
        server = S3Server().start()
        yield server.endpoint_url
        server.stop()


@pytest.fixture(params=["local", "s3"])
def blob_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    """A fresh, empty blob store: a local directory, or a new bucket on ``s3_server``."""
    if request.param == "local":
        yield LocalBlobStore(tmp_path / "blobs")
        return
    endpoint: str = request.getfixturevalue("s3_server")
    with throwaway_bucket(endpoint) as name:
        yield S3BlobStore(name, "vigil", endpoint_url=endpoint)


@contextmanager
def throwaway_bucket(endpoint: str) -> Iterator[str]:
    """A new, empty bucket on the test S3 server, emptied and removed afterwards."""
    created = boto3.resource("s3", endpoint_url=endpoint).Bucket(f"test-{uuid.uuid4().hex[:16]}")
    created.create()
    try:
        yield created.name
    finally:
        created.objects.all().delete()
        created.delete()


@pytest.fixture
def bucket(s3_server: str) -> Iterator[str]:
    """The name of a throwaway bucket on ``s3_server``."""
    with throwaway_bucket(s3_server) as name:
        yield name
