"""Limits on console sign-in: attempts per client address, a lockout per username and address,
and a cap on passwords hashed at once; every attempt's outcome recorded in ``sign_in_events``.

Each attempt runs argon2id at 64 MiB, so a flood of wrong passwords is a flood of memory: the
hashing semaphore bounds that whatever the limits let through. The lockout is keyed by
username *and* address, so failures from elsewhere never lock a reviewer out of their own
desk.

Where each piece lives:

- The lockout (the security control) is counted from the ``sign_in_events`` table, so every
  ``vigil serve`` process sees the same one, a restart forgets nothing, and an admin's unlock
  (an ``unlocked`` row) lifts it everywhere. ``lockout_failures`` failures of one username from
  one address within ``lockout_seconds`` lock the pair for ``lockout_seconds`` from the last of
  them; a success or an unlock starts the count afresh.
- The attempts per address stay in memory, per process: they are a flood brake in front of
  the hashing, checked before anything reaches the database, and a flood spread over several
  processes still meets the lockout and each process's hashing cap.
- The hashing semaphore is per process by nature: it bounds this process's memory.

Rows older than ``RETENTION`` are deleted by the maintenance sweep (``purge_events``).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, or_, select

from vigil.errors import SignInBusy, SignInLocked, TooManySignIns
from vigil.service.core.audit import security_event
from vigil.storage.db import Database
from vigil.storage.tables import SignInEventRow

# Addresses whose attempts are kept: a flood from many addresses forgets the oldest rather
# than growing.
MAX_TRACKED = 10_000
# How long sign-in events are kept (longer when the lockout itself needs more history).
RETENTION = timedelta(days=30)
# Column widths of sign_in_events: a username as typed may be anything (the row is kept).
_USERNAME_WIDTH, _ADDRESS_WIDTH, _ACTOR_WIDTH = 100, 64, 64


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    LOCKED = "locked"  # refused: the username is locked out from this address
    RATE_LIMITED = "rate_limited"  # refused: too many attempts from this address
    UNLOCKED = "unlocked"  # an admin lifted the lockout


# The outcomes a lockout is counted from: failures, and what starts the count afresh.
_COUNTED = (Outcome.FAILURE, Outcome.SUCCESS, Outcome.UNLOCKED)
# One counted event: username, address, outcome, at. The address is null only for an unlock
# of every address, so the pairs that lock out always have one.
_Event = tuple[str, str | None, str, datetime]
_Pair = tuple[str, str | None]


@dataclass(frozen=True)
class SignInRules:
    attempts_per_ip: int = 20
    window_seconds: float = 60.0
    lockout_failures: int = 5
    lockout_seconds: float = 300.0
    max_concurrent_hashes: int = 4
    hash_wait_seconds: float = 5.0


class SignInGuard:
    """``clock`` gives epoch seconds: lockouts are compared with times other processes wrote."""

    def __init__(
        self, rules: SignInRules, db: Database, clock: Callable[[], float] = time.time
    ) -> None:
        self.rules = rules
        self.db = db
        self._clock = clock
        self._lock = threading.Lock()
        self._attempts: OrderedDict[str, deque[float]] = OrderedDict()
        self._hashing = threading.BoundedSemaphore(max(1, rules.max_concurrent_hashes))

    def admit(self, address: str, username: str) -> None:
        """Count an attempt from ``address``; refuse it while over the rate or locked out."""
        now = self._clock()
        with self._lock:
            wait = self._rate_wait(address, now)
        wait = wait or self._lock_wait(username, address, now)
        if wait is None:
            return
        outcome, seconds = wait
        self._record(now, username, address, outcome)
        kind = "sign_in_locked" if outcome is Outcome.LOCKED else "sign_in_rate_limited"
        security_event(kind, f"user:{username}", address=address, retry_after=round(seconds))
        if outcome is Outcome.LOCKED:
            raise SignInLocked(
                "too many failed sign-ins for this username from your address; "
                f"try again in {_seconds(seconds)} or ask an admin to lift the lockout",
                retry_after=seconds,
            )
        raise TooManySignIns(
            f"too many sign-in attempts from your address; try again in {_seconds(seconds)}",
            retry_after=seconds,
        )

    def _rate_wait(self, address: str, now: float) -> tuple[Outcome, float] | None:
        recent = self._attempts.get(address)
        if recent is None:
            recent = deque(maxlen=max(1, self.rules.attempts_per_ip))
            self._attempts[address] = recent
            while len(self._attempts) > MAX_TRACKED:
                self._attempts.popitem(last=False)
        if len(recent) == recent.maxlen and now - recent[0] < self.rules.window_seconds:
            return Outcome.RATE_LIMITED, recent[0] + self.rules.window_seconds - now
        recent.append(now)
        return None

    def _lock_wait(self, username: str, address: str, now: float) -> tuple[Outcome, float] | None:
        until = self._locked(now, username, address).get((_name(username), _address(address)))
        return None if until is None else (Outcome.LOCKED, until - now)

    def failed(self, address: str, username: str) -> None:
        """A wrong password: one failure for the pair, a lockout at the limit."""
        now = self._clock()
        self._record(now, username, address, Outcome.FAILURE)
        security_event("sign_in_failed", f"user:{username}", address=address)
        if self._locked(now, username, address):
            security_event(
                "sign_in_lockout",
                f"user:{username}",
                address=address,
                seconds=round(self.rules.lockout_seconds),
            )

    def succeeded(self, address: str, username: str) -> None:
        self._record(self._clock(), username, address, Outcome.SUCCESS)
        security_event("sign_in", f"user:{username}", address=address)

    @contextmanager
    def hashing(self) -> Iterator[None]:
        """Hold one of the hashing slots; SignInBusy when none frees up in time."""
        if not self._hashing.acquire(timeout=self.rules.hash_wait_seconds):
            raise SignInBusy("the server is busy signing people in; try again", retry_after=1)
        try:
            yield
        finally:
            self._hashing.release()

    def lockouts(self) -> list[dict[str, Any]]:
        """Lockouts in force, whichever process counted them: username, address, seconds left."""
        now = self._clock()
        return [
            {"username": user, "address": address, "seconds_left": round(until - now)}
            for (user, address), until in sorted(self._locked(now).items())
        ]

    def unlock(self, username: str, address: str | None, actor: str) -> int:
        """Start the failures of ``username`` (from ``address``, or from everywhere) afresh, for
        every process; how many lockouts were in force."""
        now = self._clock()
        lifted = len(self._locked(now, username, address))
        self._record(now, username, address, Outcome.UNLOCKED, actor)
        security_event("sign_in_unlock", actor, username=username, address=address, lifted=lifted)
        return lifted

    def events(
        self, username: str | None = None, address: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """The newest sign-in events first, of one username and/or address if given."""
        query = select(SignInEventRow).order_by(SignInEventRow.at.desc(), SignInEventRow.id.desc())
        if username is not None:
            query = query.where(SignInEventRow.username == _name(username))
        if address is not None:
            query = query.where(SignInEventRow.address == _address(address))
        with self.db.session() as session:
            return [_event_view(row) for row in session.scalars(query.limit(limit))]

    def purge_events(self) -> int:
        """Delete events past the retention (a maintenance chore); how many went."""
        kept = max(RETENTION, timedelta(seconds=2 * self.rules.lockout_seconds))
        cutoff = _moment(self._clock()) - kept
        with self.db.session() as session:
            deleted = session.execute(delete(SignInEventRow).where(SignInEventRow.at < cutoff))
        return int(getattr(deleted, "rowcount", 0) or 0)

    # -- the lockout, counted from the table ------------------------------------------------

    def _locked(
        self, now: float, username: str | None = None, address: str | None = None
    ) -> dict[_Pair, float]:
        """Lockouts in force at ``now`` (of ``username`` / ``address`` when given), each with
        the epoch second it ends."""
        failures = _failures_since_reset(self._recent(now, username, address))
        ends = {key: self._lock_end(times) for key, times in failures.items()}
        return {key: end for key, end in ends.items() if end > now}

    def _recent(self, now: float, username: str | None, address: str | None) -> list[_Event]:
        """The counted events that can still matter, oldest first. A lockout in force ended a
        run of failures within ``lockout_seconds`` that ended less than that ago, so nothing
        older than twice that counts, and neither does a reset before it."""
        since = _moment(now - 2 * self.rules.lockout_seconds)
        table = SignInEventRow
        query = (
            select(table.username, table.address, table.outcome, table.at)
            .where(table.at > since, table.outcome.in_([each.value for each in _COUNTED]))
            .order_by(table.at, table.id)  # id: events written within one clock tick
        )
        if username is not None:
            query = query.where(table.username == _name(username))
        if address is not None:  # an unlock of every address (null) applies here too
            query = query.where(or_(table.address == _address(address), table.address.is_(None)))
        with self.db.session() as session:
            return [(row[0], row[1], row[2], row[3]) for row in session.execute(query)]

    def _lock_end(self, failures: list[float]) -> float:
        """When the lockout these failures (oldest first) caused ends; 0 when they cause none."""
        needed, span = max(1, self.rules.lockout_failures), self.rules.lockout_seconds
        run = failures[-needed:]
        if len(run) < needed or run[-1] - run[0] > span:
            return 0.0
        return run[-1] + span

    def _record(
        self,
        now: float,
        username: str,
        address: str | None,
        outcome: Outcome,
        actor: str | None = None,
    ) -> None:
        row = SignInEventRow(
            at=_moment(now),
            username=_name(username),
            address=None if address is None else _address(address),
            outcome=outcome.value,
            actor=None if actor is None else actor[:_ACTOR_WIDTH],
        )
        with self.db.session() as session:
            session.add(row)


def _failures_since_reset(events: Iterable[_Event]) -> dict[_Pair, list[float]]:
    """Failure times per (username, address), counting only those after the pair's latest
    success or unlock."""
    failures: dict[_Pair, list[float]] = {}
    for username, address, outcome, at in events:
        if outcome == Outcome.FAILURE:
            failures.setdefault((username, address), []).append(at.timestamp())
        elif outcome == Outcome.SUCCESS:
            failures.pop((username, address), None)
        else:  # an unlock: of one address, or of every address (null)
            for key in [k for k in failures if k[0] == username and address in (None, k[1])]:
                del failures[key]
    return failures


def _event_view(row: SignInEventRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at,
        "username": row.username,
        "address": row.address,
        "outcome": row.outcome,
        "actor": row.actor,
    }


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _name(username: str) -> str:
    return username[:_USERNAME_WIDTH]


def _address(address: str) -> str:
    return address[:_ADDRESS_WIDTH]


def _seconds(seconds: float) -> str:
    return f"{max(1, round(seconds))} s"
