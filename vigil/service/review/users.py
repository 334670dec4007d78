"""Accounts and sign-in for people: argon2 password hashes, sessions and CSRF tokens."""

from __future__ import annotations

import builtins
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from vigil.errors import InvalidCredentials, InvalidParameter, UserExists, UserNotFound
from vigil.service.access.keys import hash_token
from vigil.service.access.principal import Principal, Role, require_role
from vigil.service.core.enums import parse_enum
from vigil.service.review.people import PersonRole, Reviewer, person
from vigil.service.review.sign_in_guard import SignInGuard, SignInRules
from vigil.storage.db import Database
from vigil.storage.tables import UserRow, WebSessionRow

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
MIN_PASSWORD = 10
MAX_EVENTS = 1000  # sign-in events listed at once
_hasher = PasswordHasher()


@dataclass(frozen=True)
class SignedIn:
    """A live session: who, and the token every form must send back."""

    user_id: str
    username: str
    role: PersonRole
    csrf_token: str

    @property
    def reviewer(self) -> Reviewer:
        return person(self.username, self.role)


class UserService:
    def __init__(
        self, db: Database, session_hours: float, guard: SignInGuard | None = None
    ) -> None:
        self.db = db
        self.session_seconds = session_hours * 3600
        self.guard = guard or SignInGuard(SignInRules(), db)

    def create(self, username: str, password: str, role: str) -> dict[str, Any]:
        if not USERNAME.match(username):
            raise InvalidParameter(
                "username must be 2-40 characters: lower-case letters, digits, '.', '_' or '-'"
            )
        if len(password) < MIN_PASSWORD:
            raise InvalidParameter(f"password must be at least {MIN_PASSWORD} characters")
        row = UserRow(
            id=secrets.token_hex(8),
            username=username,
            password_hash=_hasher.hash(password),
            role=parse_enum(PersonRole, role, "role").value,
            disabled=False,
            created_at=datetime.now(UTC),
        )
        try:
            with self.db.session() as session:
                session.add(row)
        except IntegrityError:
            raise UserExists(f"a user named '{username}' already exists") from None
        return _user_view(row)

    def list(self) -> list[dict[str, Any]]:
        with self.db.session() as session:
            rows = session.scalars(select(UserRow).order_by(UserRow.username))
            return [_user_view(row) for row in rows]

    def set_disabled(self, username: str, disabled: bool) -> dict[str, Any]:
        with self.db.session() as session:
            row = session.scalar(select(UserRow).where(UserRow.username == username))
            if row is None:
                raise UserNotFound(f"no user named '{username}'")
            row.disabled = disabled
            if disabled:  # signing someone out is the point of disabling them
                session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == row.id))
            return _user_view(row)

    # -- sign-in lockouts and events (the sign_in_events table: SignInGuard) ------------------

    def lockouts(self, who: Principal) -> builtins.list[dict[str, Any]]:
        require_role(who, Role.ADMIN)
        return self.guard.lockouts()

    def unlock(self, who: Principal, username: str, address: str | None) -> dict[str, Any]:
        """Lift ``username``'s sign-in lockout (for ``address``, or every address)."""
        require_role(who, Role.ADMIN)
        lifted = self.guard.unlock(username, address, who.key_id)
        return {"username": username, "address": address, "lifted": lifted}

    def sign_in_events(
        self,
        who: Principal,
        username: str | None = None,
        address: str | None = None,
        limit: int = 100,
    ) -> builtins.list[dict[str, Any]]:
        """The newest sign-in attempts and unlocks first (of ``username`` and/or ``address``
        if given)."""
        require_role(who, Role.ADMIN)
        if not 1 <= limit <= MAX_EVENTS:
            raise InvalidParameter(f"limit must be between 1 and {MAX_EVENTS}")
        return self.guard.events(username, address, limit)

    # -- sessions ----------------------------------------------------------------------------

    def sign_in(self, username: str, password: str, address: str = "local") -> tuple[str, SignedIn]:
        """A new session's cookie token and its details; one refusal for every failure, so
        it does not tell which usernames exist. ``address`` is the client's, for the limits
        and the lockout (SignInGuard)."""
        self.guard.admit(address, username)
        with self.db.session() as session:
            row = session.scalar(select(UserRow).where(UserRow.username == username))
        with self.guard.hashing():
            verified = _verify(row.password_hash if row else _dummy_hash(), password)
        if not verified or row is None or row.disabled:
            self.guard.failed(address, username)
            raise InvalidCredentials("wrong username or password")
        self.guard.succeeded(address, username)
        token, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), time.time()
        with self.db.session() as session:
            # Sessions that ran out are of no use to anyone: sweep them on each sign-in.
            session.execute(delete(WebSessionRow).where(WebSessionRow.expires_at < now))
            if _hasher.check_needs_rehash(row.password_hash):
                with self.guard.hashing():
                    rehashed = _hasher.hash(password)
                session.execute(
                    update(UserRow).where(UserRow.id == row.id).values(password_hash=rehashed)
                )
            session.add(
                WebSessionRow(
                    token_hash=hash_token(token),
                    user_id=row.id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=now + self.session_seconds,
                )
            )
        return token, SignedIn(row.id, row.username, PersonRole(row.role), csrf)

    def session(self, token: str | None) -> SignedIn | None:
        """The live session behind a cookie, or None (unknown, expired, user disabled)."""
        if not token:
            return None
        with self.db.session() as session:
            found = session.execute(
                select(WebSessionRow, UserRow)
                .join(UserRow, UserRow.id == WebSessionRow.user_id)
                .where(WebSessionRow.token_hash == hash_token(token))
            ).first()
        if found is None:
            return None
        stored, user = found
        if stored.expires_at < time.time() or user.disabled:
            return None
        return SignedIn(user.id, user.username, PersonRole(user.role), stored.csrf_token)

    def sign_out(self, token: str | None) -> None:
        if token:
            with self.db.session() as session:
                session.execute(
                    delete(WebSessionRow).where(WebSessionRow.token_hash == hash_token(token))
                )


@cache
def _dummy_hash() -> str:
    """Verified when a username is unknown, so a missing user takes as long as a wrong
    password; made on first use (argon2id takes ~0.1 s, which every command would pay)."""
    return _hasher.hash("not a real password")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _user_view(row: UserRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "username": row.username,
        "role": row.role,
        "disabled": row.disabled,
        "created_at": row.created_at.isoformat(),
    }
