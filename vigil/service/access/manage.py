"""Managing keys (admin only): list, create, revoke, rotate, grant. API keys and AWS access
key pairs are one list: a pair is used through its own API key, whose id names it here.

Every change commits with its audit row (api_key_events) and is also written to the
``vigil.audit`` logger, as sign-ins are (docs/keys.md)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.aws.keys import issue_aws_key, issue_pair
from vigil.errors import Forbidden, InvalidParameter, KeyNotFound, KeyRevoked
from vigil.service.access.keys import (
    future_expiry,
    hash_token,
    issue_key,
    new_token,
    parse_duration,
    parse_grant,
    parse_role,
)
from vigil.service.access.principal import Principal, Role, require_role
from vigil.service.core.audit import security_event
from vigil.service.core.times import iso, utc
from vigil.service.notices.signing_secrets import ServerSecret
from vigil.storage.db import Database
from vigil.storage.tables import ApiKeyEventRow, ApiKeyRow, AwsAccessKeyRow

MAX_NAME = 200  # api_keys.name


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else iso(moment)


@dataclass(frozen=True)
class AccessKeyView:
    access_key_id: str
    created_at: datetime
    expires_at: datetime | None  # set once a rotation replaced the pair

    def to_dict(self) -> dict[str, Any]:
        return {
            "access_key_id": self.access_key_id,
            "created_at": iso(self.created_at),
            "expires_at": _iso(self.expires_at),
        }


@dataclass(frozen=True)
class KeyView:
    """A key as admins see it; never its secret."""

    id: str
    kind: str  # "api", or "aws" for an AWS access key pair's API key
    name: str
    role: str
    grants: tuple[str, ...]
    status: str  # active, expired or revoked
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    previous_secret_valid_until: datetime | None  # a rotated API key's old secret
    access_keys: tuple[AccessKeyView, ...]

    def to_dict(self) -> dict[str, Any]:
        times = ("created_at", "expires_at", "last_used_at", "revoked_at")
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "role": self.role,
            "grants": list(self.grants),
            "status": self.status,
            **{name: _iso(getattr(self, name)) for name in times},
            "previous_secret_valid_until": _iso(self.previous_secret_valid_until),
            "access_keys": [pair.to_dict() for pair in self.access_keys],
        }


@dataclass(frozen=True)
class IssuedKey:
    """A new secret, shown once: an API key's, or an AWS pair's with its access key id."""

    key: KeyView
    secret: str
    access_key_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key.to_dict(),
            "secret": self.secret,
            "access_key_id": self.access_key_id,
        }


@dataclass(frozen=True)
class KeyEvent:
    key_id: str
    actor: str
    action: str
    detail: str
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "actor": self.actor,
            "action": self.action,
            "detail": self.detail,
            "at": iso(self.at),
        }


def resolve_expiry(
    expires_at: datetime | None, expires_in: str | None, now: datetime
) -> datetime | None:
    """One way of saying when a key expires: a moment, or a duration from now."""
    if expires_at is not None and expires_in is not None:
        raise InvalidParameter("give expires_at or expires_in, not both")
    if expires_in is not None:
        return now + parse_duration(expires_in)
    return future_expiry(expires_at, now)


class KeyService:
    def __init__(
        self, db: Database, overlap: timedelta, server_secret: ServerSecret | None = None
    ) -> None:
        self.db = db
        self.overlap = overlap  # VIGIL_KEY_ROTATION_OVERLAP_HOURS
        self.server_secret = server_secret  # what notification_url signing secrets derive from

    def list_keys(self, who: Principal) -> list[KeyView]:
        require_role(who, Role.ADMIN)
        now = datetime.now(UTC)
        with self.db.session() as session:
            rows = list(
                session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.id))
            )
            pairs = _pairs_by_key(session.scalars(select(AwsAccessKeyRow)))
            return [_view(row, pairs.get(row.id, []), now) for row in rows]

    def get(self, who: Principal, key_id: str) -> KeyView:
        require_role(who, Role.ADMIN)
        with self.db.session() as session:
            return self._view_of(session, _find(session, key_id))

    def create(
        self,
        who: Principal,
        role: str,
        name: str = "",
        *,
        aws: bool = False,
        expires_at: datetime | None = None,
        expires_in: str | None = None,
        grants: Iterable[str] = (),
    ) -> IssuedKey:
        require_role(who, Role.ADMIN)
        parsed_role, parsed_grants = parse_role(role), {parse_grant(g) for g in grants}
        if len(name) > MAX_NAME:
            raise InvalidParameter(f"a key's name is at most {MAX_NAME} characters")
        ends = resolve_expiry(expires_at, expires_in, datetime.now(UTC))
        options: dict[str, Any] = {"expires_at": ends, "grants": parsed_grants}
        with self.db.session() as session:
            if aws:
                row, pair = issue_aws_key(session, parsed_role, name, **options)
                secret, access_key_id = pair.secret_access_key, pair.access_key_id
            else:
                row, secret = issue_key(session, parsed_role, name, **options)
                access_key_id = None
                session.flush()
            detail = f"kind={'aws' if aws else 'api'} role={row.role} expires_at={_iso(ends)}"
            detail += _grants_note(row)
            _audit(session, who, row.id, "create", detail)
            view = self._view_of(session, row)
        _log(who, view.id, "create", detail)
        return IssuedKey(view, secret, access_key_id)

    def revoke(self, who: Principal, key_id: str) -> KeyView:
        """Revoke a key at once, its AWS pairs with it; revoking it again changes nothing."""
        require_role(who, Role.ADMIN)
        with self.db.session() as session:
            row = _find(session, key_id)
            changed = row.revoked_at is None
            if changed:
                row.revoked_at = datetime.now(UTC)
                _audit(session, who, row.id, "revoke", "")
            view = self._view_of(session, row)
        if changed:
            _log(who, view.id, "revoke", "")
        return view

    def rotate(
        self,
        who: Principal,
        key_id: str,
        *,
        overlap_hours: float | None = None,
        expires_at: datetime | None = None,
        expires_in: str | None = None,
    ) -> IssuedKey:
        """A new secret for the key (a new pair for an AWS key); the old one keeps working
        for the overlap, then is refused. Only one old secret is kept: a second rotation
        inside the overlap ends the first one's at once."""
        require_role(who, Role.ADMIN)
        now = datetime.now(UTC)
        overlap = self._overlap(overlap_hours)
        new_expiry = resolve_expiry(expires_at, expires_in, now)
        with self.db.session() as session:
            row = self._rotatable(session, key_id, new_expiry, now)
            if new_expiry is not None:
                row.expires_at = new_expiry
            pairs = _pairs_of(session, row.id)
            if pairs:
                secret, access_key_id = _rotate_pairs(session, row, pairs, now, overlap)
            else:
                secret, access_key_id = _rotate_secret(row, now, overlap), None
            detail = _rotation_note(now, overlap, new_expiry)
            _audit(session, who, row.id, "rotate", detail)
            session.flush()
            view = self._view_of(session, row)
        _log(who, view.id, "rotate", detail)
        return IssuedKey(view, secret, access_key_id)

    def grant(self, who: Principal, key_id: str, grant: str) -> KeyView:
        return self._set_grant(who, key_id, grant, True)

    def revoke_grant(self, who: Principal, key_id: str, grant: str) -> KeyView:
        return self._set_grant(who, key_id, grant, False)

    def signing_secret(self, who: Principal, key_id: str) -> dict[str, str]:
        """The secret that signs notification_url deliveries of the key's uploads: for admins
        and the key's own holder only, as it lets one tell that key's deliveries apart."""
        if who.role is not Role.ADMIN and who.key_id != key_id:
            raise Forbidden("only an admin or the key's own holder may read its signing secret")
        if self.server_secret is None:
            raise RuntimeError("KeyService was built without the server secret")
        with self.db.session() as session:
            row_id = _find(session, key_id).id
        # Derived after the session ends: generating the server secret on first use writes.
        return {"key_id": row_id, "secret": self.server_secret.for_key(row_id)}

    def events(self, who: Principal, key_id: str) -> list[KeyEvent]:
        """The key's audit: every create, revoke, rotate and grant change, oldest first."""
        require_role(who, Role.ADMIN)
        with self.db.session() as session:
            row = _find(session, key_id)
            found = session.scalars(
                select(ApiKeyEventRow)
                .where(ApiKeyEventRow.key_id == row.id)
                .order_by(ApiKeyEventRow.id)
            )
            return [
                KeyEvent(e.key_id, e.actor, e.action, e.detail, utc(e.created_at)) for e in found
            ]

    # -- helpers ---------------------------------------------------------------------------

    def _set_grant(self, who: Principal, key_id: str, grant: str, on: bool) -> KeyView:
        require_role(who, Role.ADMIN)
        parsed = parse_grant(grant).value
        with self.db.session() as session:
            row = _find(session, key_id)
            if row.revoked_at is not None:
                raise KeyRevoked(f"key {row.id} is revoked: its grants cannot change")
            held = set(row.grants or ())
            changed = (parsed in held) != on
            if changed:
                row.grants = sorted((held | {parsed}) if on else (held - {parsed}))
                _audit(session, who, row.id, "grant" if on else "revoke-grant", parsed)
            view = self._view_of(session, row)
        if changed:
            _log(who, view.id, "grant" if on else "revoke-grant", parsed)
        return view

    def _overlap(self, hours: float | None) -> timedelta:
        if hours is None:
            return self.overlap
        if hours < 0:
            raise InvalidParameter("overlap_hours must be 0 or more")
        return timedelta(hours=hours)

    def _rotatable(
        self, session: Session, key_id: str, new_expiry: datetime | None, now: datetime
    ) -> ApiKeyRow:
        row = _find(session, key_id)
        if row.revoked_at is not None:
            raise KeyRevoked(f"key {row.id} is revoked and cannot be rotated; create a new one")
        ended = row.expires_at
        if ended is not None and utc(ended) <= now and new_expiry is None:
            raise InvalidParameter(
                f"key {row.id} expired at {iso(ended)}: give a new expiry to rotate it "
                "(expires_in, or --expires-in)"
            )
        return row

    def _view_of(self, session: Session, row: ApiKeyRow) -> KeyView:
        return _view(row, _pairs_of(session, row.id), datetime.now(UTC))


# -- rows ------------------------------------------------------------------------------------


def _find(session: Session, key_id: str) -> ApiKeyRow:
    """A key by its id, or by the access key id of one of its AWS pairs."""
    row = session.get(ApiKeyRow, key_id)
    if row is None:
        pair = session.get(AwsAccessKeyRow, key_id)
        row = session.get(ApiKeyRow, pair.api_key_id) if pair is not None else None
    if row is None:
        raise KeyNotFound(f"no key has the id '{key_id}' (vigil keys list shows them)")
    return row


def _pairs_of(session: Session, api_key_id: str) -> list[AwsAccessKeyRow]:
    return list(
        session.scalars(
            select(AwsAccessKeyRow)
            .where(AwsAccessKeyRow.api_key_id == api_key_id)
            .order_by(AwsAccessKeyRow.created_at)
        )
    )


def _pairs_by_key(pairs: Iterable[AwsAccessKeyRow]) -> dict[str, list[AwsAccessKeyRow]]:
    found: dict[str, list[AwsAccessKeyRow]] = defaultdict(list)
    for pair in sorted(pairs, key=lambda pair: utc(pair.created_at)):
        found[pair.api_key_id].append(pair)
    return found


def _rotate_secret(row: ApiKeyRow, now: datetime, overlap: timedelta) -> str:
    """Swap in a new secret; the old one's hash stays for the overlap (none: refused now)."""
    token = new_token()
    keep = overlap > timedelta(0)
    row.previous_key_hash = row.key_hash if keep else None
    row.previous_expires_at = now + overlap if keep else None
    row.key_hash = hash_token(token)
    return token


def _rotate_pairs(
    session: Session,
    row: ApiKeyRow,
    pairs: list[AwsAccessKeyRow],
    now: datetime,
    overlap: timedelta,
) -> tuple[str, str]:
    """A new pair; the old ones work for the overlap (those it already ended are deleted)."""
    ends = now + overlap
    for pair in pairs:
        until = ends if pair.expires_at is None else min(utc(pair.expires_at), ends)
        if until <= now:
            session.delete(pair)
        else:
            pair.expires_at = until
    issued = issue_pair(session, row.id)
    return issued.secret_access_key, issued.access_key_id


def _status(row: ApiKeyRow, now: datetime) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and utc(row.expires_at) <= now:
        return "expired"
    return "active"


def _view(row: ApiKeyRow, pairs: list[AwsAccessKeyRow], now: datetime) -> KeyView:
    def moment(value: datetime | None) -> datetime | None:
        return None if value is None else utc(value)

    overlap = moment(row.previous_expires_at) if row.previous_key_hash else None
    return KeyView(
        id=row.id,
        kind="aws" if pairs else "api",
        name=row.name,
        role=row.role,
        grants=tuple(sorted(row.grants or ())),
        status=_status(row, now),
        created_at=utc(row.created_at),
        expires_at=moment(row.expires_at),
        last_used_at=moment(row.last_used_at),
        revoked_at=moment(row.revoked_at),
        previous_secret_valid_until=overlap if overlap is not None and overlap > now else None,
        access_keys=tuple(
            AccessKeyView(p.access_key_id, utc(p.created_at), moment(p.expires_at)) for p in pairs
        ),
    )


def _rotation_note(now: datetime, overlap: timedelta, new_expiry: datetime | None) -> str:
    if overlap > timedelta(0):
        note = f"old secret valid until {iso(now + overlap)}"
    else:
        note = "old secret refused at once"
    return note if new_expiry is None else f"{note}; expires_at={iso(new_expiry)}"


def _grants_note(row: ApiKeyRow) -> str:
    return f" grants={','.join(row.grants)}" if row.grants else ""


def _audit(session: Session, who: Principal, key_id: str, action: str, detail: str) -> None:
    session.add(
        ApiKeyEventRow(
            key_id=key_id,
            actor=who.key_id,
            action=action,
            detail=detail,
            created_at=datetime.now(UTC),
        )
    )


def _log(who: Principal, key_id: str, action: str, detail: str) -> None:
    """The change on the audit logger too, once committed (sign-ins are logged the same way)."""
    security_event(f"key.{action}", who.key_id, key=key_id, detail=detail or None)
