"""API keys: issued once in plain text, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import func, select

from vigil.errors import InvalidParameter, Unauthorized
from vigil.service.access.principal import Principal, Role
from vigil.storage.db import Database
from vigil.storage.tables import ApiKeyRow

KEY_PREFIX = "vgl_"


def hash_token(token: str) -> str:
    """How API keys and session tokens are stored. They are 256-bit random secrets, so a fast
    hash is enough (no dictionary to guess from)."""
    return hashlib.sha256(token.encode()).hexdigest()


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        known = ", ".join(role.value for role in Role)
        raise InvalidParameter(f"unknown role '{value}' (known: {known})") from None


def create_key(db: Database, role: Role, name: str = "") -> str:
    """Create a key and return its secret; only its hash is kept."""
    token = KEY_PREFIX + secrets.token_urlsafe(32)
    with db.session() as session:
        session.add(
            ApiKeyRow(
                id=secrets.token_hex(8),
                key_hash=hash_token(token),
                role=role.value,
                name=name,
                created_at=datetime.now(UTC),
            )
        )
    return token


def ensure_admin_key(db: Database) -> str | None:
    """Create the first admin key if there is no active one; its secret, or None."""
    with db.session() as session:
        admins = session.scalar(
            select(func.count())
            .select_from(ApiKeyRow)
            .where(ApiKeyRow.role == Role.ADMIN.value, ApiKeyRow.revoked_at.is_(None))
        )
    return None if admins else create_key(db, Role.ADMIN, "initial admin")


def authenticate(db: Database, authorization: str | None) -> Principal:
    """The principal behind an ``Authorization: Bearer <key>`` header."""
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
    token = authorization.removeprefix("Bearer ").strip()
    with db.session() as session:
        row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == hash_token(token)))
    if row is None or row.revoked_at is not None:
        raise Unauthorized("the API key is unknown or revoked")
    return Principal(key_id=row.id, role=Role(row.role))
