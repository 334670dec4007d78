"""AWS-style access keys for the Rekognition-compatible endpoint.

Each pair belongs to an ordinary vigil API key, created with it, so the role, grants, expiry
and revocation of that key apply to requests signed with the pair. A rotation adds a new pair
to the same API key and gives the old one an ``expires_at`` (docs/keys.md). The secret is
stored in plain text: Signature Version 4 needs it to recompute signatures, and encrypting it
with a key kept in the same database would protect nothing (whoever reads the database could
mint keys anyway).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from vigil.errors import UnrecognizedClient
from vigil.service.access.keys import check_not_expired, issue_key, principal_of, touch
from vigil.service.access.principal import Grant, Principal, Role
from vigil.service.core.times import utc
from vigil.storage.db import Database
from vigil.storage.tables import ApiKeyRow, AwsAccessKeyRow

ACCESS_KEY_PREFIX = "VKIA"  # AWS ids start AKIA; this tells vigil's apart at a glance
# AWS access key ids are 20 upper-case base32 characters; secrets 40 characters.
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_INVALID = "The security token included in the request is invalid."


@dataclass(frozen=True)
class AwsKeyPair:
    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True)
class AwsIdentity:
    secret: str
    principal: Principal


def create_aws_key(
    db: Database,
    role: Role,
    name: str = "",
    *,
    expires_at: datetime | None = None,
    grants: Iterable[Grant] = (),
) -> AwsKeyPair:
    """A new API key with ``role`` and an access key pair linked to it; the secret is shown
    only now. The API key's own secret is not shown: the pair is how it is used."""
    with db.session() as session:
        return issue_aws_key(session, role, name, expires_at=expires_at, grants=grants)[1]


def issue_aws_key(
    session: Session,
    role: Role,
    name: str = "",
    *,
    expires_at: datetime | None = None,
    grants: Iterable[Grant] = (),
) -> tuple[ApiKeyRow, AwsKeyPair]:
    row, _token = issue_key(
        session, role, name or "aws access key", expires_at=expires_at, grants=grants
    )
    session.flush()  # the pair's foreign key needs the API key's row first
    return row, issue_pair(session, row.id)


def issue_pair(session: Session, api_key_id: str) -> AwsKeyPair:
    """Add a new access key pair for ``api_key_id`` to ``session``."""
    pair = AwsKeyPair(
        ACCESS_KEY_PREFIX + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16)),
        secrets.token_urlsafe(30)[:40],
    )
    session.add(
        AwsAccessKeyRow(
            access_key_id=pair.access_key_id,
            secret=pair.secret_access_key,
            api_key_id=api_key_id,
            created_at=datetime.now(UTC),
        )
    )
    return pair


def identity(db: Database, access_key_id: str) -> AwsIdentity:
    """The secret and principal of an access key; UnrecognizedClient when it is unknown, its
    API key was revoked or a rotation's overlap ended (AWS answers all alike), KeyExpired
    when its API key expired."""
    now = datetime.now(UTC)
    with db.session() as session:
        row = session.get(AwsAccessKeyRow, access_key_id)
        api_key = session.get(ApiKeyRow, row.api_key_id) if row is not None else None
    if row is None or api_key is None or api_key.revoked_at is not None:
        raise UnrecognizedClient(_INVALID)
    if row.expires_at is not None and utc(row.expires_at) <= now:
        raise UnrecognizedClient(_INVALID)
    check_not_expired(api_key, now)
    touch(db, api_key, now)
    return AwsIdentity(row.secret, principal_of(api_key))
