"""AWS-style access keys for the Rekognition-compatible endpoint.

Each pair belongs to an ordinary vigil API key, created with it, so the role (and revocation)
of that key applies to requests signed with the pair. The secret is stored in plain text:
Signature Version 4 needs it to recompute signatures, and encrypting it with a key kept in the
same database would protect nothing (whoever reads the database could mint keys anyway).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from vigil.errors import UnrecognizedClient
from vigil.service.access.keys import create_key
from vigil.service.access.principal import Principal, Role
from vigil.storage.db import Database
from vigil.storage.tables import ApiKeyRow, AwsAccessKeyRow

ACCESS_KEY_PREFIX = "VKIA"  # AWS ids start AKIA; this tells vigil's apart at a glance
# AWS access key ids are 20 upper-case base32 characters; secrets 40 characters.
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@dataclass(frozen=True)
class AwsKeyPair:
    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True)
class AwsIdentity:
    secret: str
    principal: Principal


def create_aws_key(db: Database, role: Role, name: str = "") -> AwsKeyPair:
    """A new API key with ``role`` and an access key pair linked to it; the secret is shown
    only now. The API key's own secret is not shown: the pair is how it is used."""
    token = create_key(db, role, name or "aws access key")
    # keys.py stores only the SHA-256 of a key; that finds the row just made.
    digest = hashlib.sha256(token.encode()).hexdigest()
    with db.session() as session:
        api_key_id = session.scalar(select(ApiKeyRow.id).where(ApiKeyRow.key_hash == digest))
    assert api_key_id is not None
    return _link(db, api_key_id)


def _link(db: Database, api_key_id: str) -> AwsKeyPair:
    pair = AwsKeyPair(
        ACCESS_KEY_PREFIX + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16)),
        secrets.token_urlsafe(30)[:40],
    )
    with db.session() as session:
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
    """The secret and principal of an access key; UnrecognizedClient when it is unknown or
    its API key was revoked (AWS answers both with the same message)."""
    with db.session() as session:
        row = session.get(AwsAccessKeyRow, access_key_id)
        api_key = session.get(ApiKeyRow, row.api_key_id) if row is not None else None
        if row is None or api_key is None or api_key.revoked_at is not None:
            raise UnrecognizedClient("The security token included in the request is invalid.")
        return AwsIdentity(row.secret, Principal(key_id=api_key.id, role=Role(api_key.role)))
