"""Every list's hashes in memory, kept in step with the database, searched per image.

Each process holds one snapshot: a multi-index over the hashes loaded so far plus a small
brute-force tail of hashes added since. At most every ``refresh_seconds`` a lookup reads the
change counter (one row): new hashes are fetched by id (ids grow in commit order, see
``repository.add_items``), list settings are re-read, and a removal reloads everything. So a
hash added by one process matches in every other within ``refresh_seconds`` plus one lookup.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy.orm import Session

from vigil.service.hashlists import repository
from vigil.service.hashlists.index import HashIndex, Hit, brute_force
from vigil.service.hashlists.model import APPROVED, REJECTED, ListAction, ListInfo, MatchRules
from vigil.storage.db import Database

log = logging.getLogger(__name__)

TAIL_LIMIT = 50_000  # hashes searched by brute force before the index is rebuilt


@dataclass(frozen=True)
class Found:
    """One listed hash near the query: its item, its list, the distance and which variant of
    the query (0: as uploaded; 1-7: rotations and mirrors, ``pdq.VARIANTS``)."""

    item_id: int
    list: ListInfo
    distance: int
    variant: int


@dataclass
class _Snapshot:
    version: int = -1
    removals: int = -1
    lists: dict[int, ListInfo] = field(default_factory=dict)
    index: HashIndex = field(default_factory=lambda: HashIndex(np.zeros((0, 32), np.uint8)))
    ids: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    tail: np.ndarray = field(default_factory=lambda: np.zeros((0, 32), np.uint8))
    tail_ids: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    last_item: int = 0

    @property
    def size(self) -> int:
        return len(self.index) + len(self.tail)


class HashMatcher:
    """The lists of one database, searchable; safe to share between threads."""

    def __init__(
        self, db: Database, rules: MatchRules, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.db = db
        self.rules = rules
        self.clock = clock
        self._snapshot = _Snapshot()
        self._checked = -float("inf")
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """Hashes in memory over all lists."""
        return self._snapshot.size

    def find(self, variants: Sequence[bytes]) -> list[Found]:
        """Listed hashes within their list's distance of ``variants`` (the query's eight
        dihedral hashes, or just the one); ``allow`` lists match the query as uploaded only."""
        self.refresh()
        snapshot = self._snapshot
        if not snapshot.lists or snapshot.size == 0 or not variants:
            return []
        queries = np.frombuffer(b"".join(variants), dtype=np.uint8).reshape(-1, 32)
        limit = max(info.distance for info in snapshot.lists.values())
        found = _found(snapshot.index.search(queries, limit), snapshot.ids, snapshot)
        found += _found(brute_force(snapshot.tail, queries, limit), snapshot.tail_ids, snapshot)
        return sorted(found, key=lambda hit: (hit.distance, hit.item_id))

    def refresh(self, force: bool = False) -> None:
        """Catch up with the database when ``refresh_seconds`` have passed since the last
        check (or ``force``); one thread catches up while the others search what they have."""
        now = self.clock()
        if not force and now - self._checked < self.rules.refresh_seconds:
            return
        if not self._lock.acquire(blocking=force):
            return
        try:
            self._checked = now
            self._catch_up()
        finally:
            self._lock.release()

    def _catch_up(self) -> None:
        held = self._snapshot
        with self.db.session() as session:
            version, removals = repository.state(session)
            if version == held.version:
                return
            lists = self._lists(session)
            after = 0 if removals != held.removals else held.last_item
            rows = repository.hashes_after(session, after)
        if after == 0:
            self._snapshot = _full(version, removals, lists, rows)
            log.info("hash lists loaded: %d hashes in %d lists", len(rows), len(lists))
        else:
            self._snapshot = _extended(held, version, lists, rows)

    def _lists(self, session: Session) -> dict[int, ListInfo]:
        lists: dict[int, ListInfo] = {}
        for row in repository.all_lists(session):
            action, distance = ListAction(row.action), row.distance
            if row.builtin:  # settings decide the built-ins' action and reach
                action, distance = builtin_rule(row.name, self.rules, action, distance)
            lists[row.id] = ListInfo(row.id, row.name, action, row.label, distance, row.builtin)
        return lists


def builtin_rule(
    name: str, rules: MatchRules, action: ListAction, distance: int
) -> tuple[ListAction, int]:
    """A built-in list's action and distance under ``rules``."""
    if name == REJECTED:
        return rules.rejected_action, distance
    if name == APPROVED:
        return ListAction.ALLOW, rules.allow_distance
    return action, distance


def _found(hits: Sequence[Hit], ids: np.ndarray, snapshot: _Snapshot) -> list[Found]:
    found: list[Found] = []
    for hit in hits:
        item_id, list_id = (int(value) for value in ids[hit.position])
        info = snapshot.lists.get(list_id)
        if info is None or hit.distance > info.distance:
            continue
        if info.action is ListAction.ALLOW and hit.query != 0:
            continue  # an exemption holds for the image as it was approved, not rotated
        found.append(Found(item_id, info, hit.distance, hit.query))
    return found


def _arrays(rows: Sequence[tuple[int, int, str]]) -> tuple[np.ndarray, np.ndarray]:
    hashes = np.frombuffer(bytes.fromhex("".join(pdq for _, _, pdq in rows)), dtype=np.uint8)
    ids = np.array([(item_id, list_id) for item_id, list_id, _ in rows], dtype=np.int64)
    return hashes.reshape(-1, 32), ids.reshape(-1, 2)


def _full(
    version: int,
    removals: int,
    lists: dict[int, ListInfo],
    rows: Sequence[tuple[int, int, str]],
) -> _Snapshot:
    hashes, ids = _arrays(rows)
    last = int(ids[-1, 0]) if len(ids) else 0
    return _Snapshot(version, removals, lists, HashIndex(hashes), ids, last_item=last)


def _extended(
    held: _Snapshot,
    version: int,
    lists: dict[int, ListInfo],
    rows: Sequence[tuple[int, int, str]],
) -> _Snapshot:
    """``held`` with new lists' settings and ``rows`` added to its tail (or, once the tail is
    long, everything re-indexed from memory)."""
    hashes, ids = _arrays(rows)
    tail = np.concatenate([held.tail, hashes])
    tail_ids = np.concatenate([held.tail_ids, ids])
    last = int(ids[-1, 0]) if len(ids) else held.last_item
    if len(tail) <= TAIL_LIMIT:
        return _Snapshot(version, held.removals, lists, held.index, held.ids, tail, tail_ids, last)
    every = np.concatenate([held.index.hashes, tail])
    every_id = np.concatenate([held.ids, tail_ids])
    return _Snapshot(version, held.removals, lists, HashIndex(every), every_id, last_item=last)
