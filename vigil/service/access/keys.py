"""API keys: issued once in plain text, stored only as a SHA-256 hash.

Every request looks its key up in the database: nothing about a key is cached between
requests, so a revocation, an expiry or the end of a rotation's overlap takes effect on the
next request in every process that shares the database (docs/keys.md)."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from vigil.errors import InvalidParameter, KeyExpired, KeyRotated, Unauthorized
from vigil.service.access.principal import Grant, Principal, Role
from vigil.service.core.times import iso, utc
from vigil.storage.db import Database
from vigil.storage.tables import ApiKeyRow

log = logging.getLogger(__name__)

KEY_PREFIX = "vgl_"
# last_used_at is written at most this often per key: a write on every request would
# serialise SQLite's writers for a figure people read to the day.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def hash_token(token: str) -> str:
    """How API keys and session tokens are stored. They are 256-bit random secrets, so a fast
    hash is enough (no dictionary to guess from)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        known = ", ".join(role.value for role in Role)
        raise InvalidParameter(f"unknown role '{value}' (known: {known})") from None


def parse_grant(value: str) -> Grant:
    try:
        return Grant(value)
    except ValueError:
        known = ", ".join(grant.value for grant in Grant)
        raise InvalidParameter(f"unknown grant '{value}' (known: {known})") from None


def parse_duration(value: str) -> timedelta:
    """``30d``, ``12h``, ``90m`` or ``2w`` as a timedelta; anything else is refused."""
    match = _DURATION.match(value)
    if match is None or int(match.group(1)) == 0:
        raise InvalidParameter(
            f"'{value}' is not a duration: give a positive number and a unit, m, h, d or w "
            "(for example 30d)"
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def future_expiry(expires_at: datetime | None, now: datetime) -> datetime | None:
    """``expires_at`` in UTC, refused unless it is after ``now``."""
    if expires_at is None:
        return None
    if utc(expires_at) <= now:
        raise InvalidParameter(f"expires_at {iso(expires_at)} is not in the future")
    return utc(expires_at)


def issue_key(
    session: Session,
    role: Role,
    name: str = "",
    *,
    expires_at: datetime | None = None,
    grants: Iterable[Grant] = (),
) -> tuple[ApiKeyRow, str]:
    """Add a key to ``session``; the row and the secret (only its hash is kept)."""
    token = new_token()
    row = ApiKeyRow(
        id=secrets.token_hex(8),
        key_hash=hash_token(token),
        role=role.value,
        name=name,
        created_at=datetime.now(UTC),
        expires_at=expires_at,
        grants=sorted({grant.value for grant in grants}),
    )
    session.add(row)
    return row, token


def create_key(db: Database, role: Role, name: str = "") -> str:
    """Create a key and return its secret; only its hash is kept."""
    with db.session() as session:
        _row, token = issue_key(session, role, name)
    return token


def ensure_admin_key(db: Database) -> str | None:
    """Create the first admin key if there is no usable one; its secret, or None."""
    with db.session() as session:
        admins = session.scalar(
            select(func.count())
            .select_from(ApiKeyRow)
            .where(
                ApiKeyRow.role == Role.ADMIN.value,
                ApiKeyRow.revoked_at.is_(None),
                or_(ApiKeyRow.expires_at.is_(None), ApiKeyRow.expires_at > datetime.now(UTC)),
            )
        )
    return None if admins else create_key(db, Role.ADMIN, "initial admin")


def principal_of(row: ApiKeyRow) -> Principal:
    known = {grant.value for grant in Grant}
    grants = frozenset(Grant(value) for value in row.grants or () if value in known)
    return Principal(key_id=row.id, role=Role(row.role), grants=grants)


def check_not_expired(row: ApiKeyRow, now: datetime) -> None:
    if row.expires_at is not None and utc(row.expires_at) <= now:
        raise KeyExpired(
            f"the API key {row.id} expired at {iso(row.expires_at)}; ask an admin for a new "
            "key (vigil keys create) or a later expiry (vigil keys rotate --expires-in)"
        )


def authenticate(db: Database, authorization: str | None) -> Principal:
    """The principal behind an ``Authorization: Bearer <key>`` header: its current secret,
    or the one a rotation replaced while the overlap lasts."""
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
    digest = hash_token(authorization.removeprefix("Bearer ").strip())
    now = datetime.now(UTC)
    with db.session() as session:
        row = session.scalar(
            select(ApiKeyRow).where(
                or_(ApiKeyRow.key_hash == digest, ApiKeyRow.previous_key_hash == digest)
            )
        )
    if row is None or row.revoked_at is not None:
        raise Unauthorized("the API key is unknown or revoked")
    if row.key_hash != digest:
        _check_overlap(row, now)
    check_not_expired(row, now)
    touch(db, row, now)
    return principal_of(row)


def _check_overlap(row: ApiKeyRow, now: datetime) -> None:
    """A replaced secret works until previous_expires_at, then answers KeyRotated."""
    ends = row.previous_expires_at
    if ends is None or utc(ends) <= now:
        shown = f" at {iso(ends)}" if ends is not None else ""
        raise KeyRotated(
            f"this secret of API key {row.id} was replaced by a rotation and stopped "
            f"working{shown}; use the new secret"
        )


def touch(db: Database, row: ApiKeyRow, now: datetime) -> None:
    """Record that the key was used, at most once per LAST_USED_RESOLUTION. Best effort: a
    busy database must not turn a valid request into a refusal."""
    if row.last_used_at is not None and utc(row.last_used_at) > now - LAST_USED_RESOLUTION:
        return
    try:
        with db.session() as session:
            session.execute(
                update(ApiKeyRow)
                .where(
                    ApiKeyRow.id == row.id,
                    or_(
                        ApiKeyRow.last_used_at.is_(None),
                        ApiKeyRow.last_used_at <= now - LAST_USED_RESOLUTION,
                    ),
                )
                .values(last_used_at=now)
            )
    except (OperationalError, PoolTimeout) as exc:
        log.warning("could not record the last use of key %s: %s", row.id, exc)
