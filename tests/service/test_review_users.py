"""People's accounts and sessions: argon2 hashes, one refusal for every bad sign-in."""

from __future__ import annotations

import pytest

from vigil.app import Vigil
from vigil.errors import InvalidCredentials, InvalidParameter, UserExists
from vigil.service.review.people import PersonRole
from vigil.service.review.users import UserService
from vigil.storage.tables import UserRow

PASSWORD = "correct horse battery"


@pytest.fixture
def users(vigil: Vigil) -> UserService:
    return UserService(vigil.db, session_hours=1)


def test_passwords_are_stored_as_argon2_hashes(users: UserService, vigil: Vigil) -> None:
    users.create("alice", PASSWORD, "reviewer")
    with vigil.db.session() as session:
        (row,) = session.query(UserRow).all()
    assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash


def test_sign_in_and_out(users: UserService) -> None:
    users.create("alice", PASSWORD, "lead")
    token, signed = users.sign_in("alice", PASSWORD)
    assert signed.role is PersonRole.LEAD and len(signed.csrf_token) >= 32
    assert users.session(token) == signed
    assert signed.reviewer.actor == "user:alice"
    users.sign_out(token)
    assert users.session(token) is None


@pytest.mark.parametrize(("username", "password"), [("alice", "wrong password"), ("bob", PASSWORD)])
def test_bad_sign_ins_get_one_refusal(users: UserService, username: str, password: str) -> None:
    users.create("alice", PASSWORD, "reviewer")
    with pytest.raises(InvalidCredentials, match="wrong username or password"):
        users.sign_in(username, password)


def test_disabled_people_are_signed_out(users: UserService) -> None:
    users.create("alice", PASSWORD, "reviewer")
    token, _ = users.sign_in("alice", PASSWORD)
    users.set_disabled("alice", True)
    assert users.session(token) is None
    with pytest.raises(InvalidCredentials):
        users.sign_in("alice", PASSWORD)


def test_expired_sessions_end(vigil: Vigil) -> None:
    users = UserService(vigil.db, session_hours=0)
    users.create("alice", PASSWORD, "reviewer")
    token, _ = users.sign_in("alice", PASSWORD)
    assert users.session(token) is None


def test_refusals(users: UserService) -> None:
    users.create("alice", PASSWORD, "reviewer")
    with pytest.raises(UserExists):
        users.create("alice", PASSWORD, "reviewer")
    with pytest.raises(InvalidParameter, match="role"):
        users.create("bob", PASSWORD, "boss")
    with pytest.raises(InvalidParameter, match="username"):
        users.create("Bob Smith", PASSWORD, "reviewer")
