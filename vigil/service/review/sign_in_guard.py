"""Limits on console sign-in: attempts per client address, a lockout per username and address,
and a cap on passwords hashed at once.

Each attempt runs argon2id at 64 MiB, so a flood of wrong passwords is a flood of memory: the
hashing semaphore bounds that whatever the limits let through. The lockout is keyed by
username *and* address, so failures from elsewhere never lock a reviewer out of their own
desk.

The state is in memory, per process (no table holds it): a restart forgets it, and with
several `vigil serve` processes each counts on its own, so the effective limits are that many
times larger. Lifting a lockout (``unlock``) acts on the process that answers the request.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from vigil.errors import SignInBusy, SignInLocked, TooManySignIns
from vigil.service.core.audit import security_event

# Entries kept per table: a flood from many addresses forgets the oldest rather than growing.
MAX_TRACKED = 10_000


@dataclass(frozen=True)
class SignInRules:
    attempts_per_ip: int = 20
    window_seconds: float = 60.0
    lockout_failures: int = 5
    lockout_seconds: float = 300.0
    max_concurrent_hashes: int = 4
    hash_wait_seconds: float = 5.0


@dataclass
class _Strikes:
    """Failures of one username from one address since ``first``."""

    count: int
    first: float
    locked_until: float = 0.0


class SignInGuard:
    def __init__(self, rules: SignInRules, clock: Callable[[], float] = time.monotonic) -> None:
        self.rules = rules
        self._clock = clock
        self._lock = threading.Lock()
        self._attempts: OrderedDict[str, deque[float]] = OrderedDict()
        self._strikes: OrderedDict[tuple[str, str], _Strikes] = OrderedDict()
        self._hashing = threading.BoundedSemaphore(max(1, rules.max_concurrent_hashes))

    def admit(self, address: str, username: str) -> None:
        """Count an attempt from ``address``; refuse it while over the rate or locked out."""
        now = self._clock()
        with self._lock:
            wait = self._rate_wait(address, now) or self._lock_wait((username, address), now)
        if wait is None:
            return
        kind, seconds = wait
        security_event(kind, f"user:{username}", address=address, retry_after=round(seconds))
        if kind == "sign_in_locked":
            raise SignInLocked(
                "too many failed sign-ins for this username from your address; "
                f"try again in {_seconds(seconds)} or ask an admin to lift the lockout",
                retry_after=seconds,
            )
        raise TooManySignIns(
            f"too many sign-in attempts from your address; try again in {_seconds(seconds)}",
            retry_after=seconds,
        )

    def _rate_wait(self, address: str, now: float) -> tuple[str, float] | None:
        recent = self._attempts.get(address)
        if recent is None:
            recent = deque(maxlen=max(1, self.rules.attempts_per_ip))
            _remember(self._attempts, address, recent)
        if len(recent) == recent.maxlen and now - recent[0] < self.rules.window_seconds:
            return "sign_in_rate_limited", recent[0] + self.rules.window_seconds - now
        recent.append(now)
        return None

    def _lock_wait(self, key: tuple[str, str], now: float) -> tuple[str, float] | None:
        strikes = self._strikes.get(key)
        if strikes is None or strikes.locked_until <= now:
            return None
        return "sign_in_locked", strikes.locked_until - now

    def failed(self, address: str, username: str) -> None:
        """A wrong password: one strike for the pair, a lockout at the limit."""
        now, rules = self._clock(), self.rules
        with self._lock:
            key = (username, address)
            strikes = self._strikes.get(key)
            if strikes is None or now - strikes.first > rules.lockout_seconds:
                strikes = _Strikes(0, now)  # old strikes have aged out: count afresh
                _remember(self._strikes, key, strikes)
            strikes.count += 1
            locks = strikes.count >= rules.lockout_failures and strikes.locked_until <= now
            if locks:
                strikes.locked_until = now + rules.lockout_seconds
        security_event("sign_in_failed", f"user:{username}", address=address)
        if locks:
            security_event(
                "sign_in_lockout",
                f"user:{username}",
                address=address,
                seconds=round(rules.lockout_seconds),
            )

    def succeeded(self, address: str, username: str) -> None:
        with self._lock:
            self._strikes.pop((username, address), None)
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
        """Lockouts in force: username, address and seconds left."""
        now = self._clock()
        with self._lock:
            return [
                {"username": user, "address": address, "seconds_left": round(s.locked_until - now)}
                for (user, address), s in self._strikes.items()
                if s.locked_until > now
            ]

    def unlock(self, username: str, address: str | None, actor: str) -> int:
        """Forget the strikes of ``username`` (from ``address``, or from everywhere); how many
        lockouts were in force."""
        now = self._clock()
        with self._lock:
            keys = [
                key
                for key in self._strikes
                if key[0] == username and (address is None or key[1] == address)
            ]
            lifted = sum(self._strikes.pop(key).locked_until > now for key in keys)
        security_event("sign_in_unlock", actor, username=username, address=address, lifted=lifted)
        return lifted


def _remember(table: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    table[key] = value
    while len(table) > MAX_TRACKED:
        table.popitem(last=False)


def _seconds(seconds: float) -> str:
    return f"{max(1, round(seconds))} s"
