"""Hash lists in the database: lists, their items, and the change counter every process
polls. Functions take the caller's session, so a change and whatever caused it (a person's
decision) commit together."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from vigil.errors import HashListNotFound, HashNotInList
from vigil.service.core.times import iso
from vigil.storage.tables import HashListItemRow, HashListRow, HashListStateRow

_LOOKUP_BATCH = 500  # hashes per IN (...) when checking which are already listed


@dataclass(frozen=True)
class NewItem:
    """A hash about to be added, with where it came from."""

    pdq: str  # 64 hex characters, lower case
    quality: int | None = None
    note: str = ""
    labels: tuple[str, ...] = ()
    source_asset_id: str | None = None


@dataclass(frozen=True)
class Added:
    """What an add or import did: hashes new to the list, and those already in it."""

    added: int
    already: int
    ids: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"added": self.added, "already_listed": self.already, "item_ids": self.ids}


def get_list(session: Session, name: str) -> HashListRow:
    row = session.scalar(select(HashListRow).where(HashListRow.name == name))
    if row is None:
        raise HashListNotFound(f"no hash list called '{name}' (`vigil lists list` shows them)")
    return row


def find_list(session: Session, name: str) -> HashListRow | None:
    return session.scalar(select(HashListRow).where(HashListRow.name == name))


def all_lists(session: Session) -> list[HashListRow]:
    return list(session.scalars(select(HashListRow).order_by(HashListRow.name)))


def counts(session: Session) -> dict[int, int]:
    """Items per list id."""
    rows = session.execute(
        select(HashListItemRow.list_id, func.count()).group_by(HashListItemRow.list_id)
    )
    return {list_id: count for list_id, count in rows}


def add_items(session: Session, row: HashListRow, items: Sequence[NewItem], by: str) -> Added:
    """Add ``items`` to ``row``'s list; a hash already in it (or twice in ``items``) is kept
    once. Bumps the change counter."""
    now = datetime.now(UTC)
    listed = _already_listed(session, row.id, [item.pdq for item in items])
    fresh: list[NewItem] = []
    for item in items:
        if item.pdq not in listed:
            listed.add(item.pdq)
            fresh.append(item)
    ids: list[int] = []
    if fresh:
        # First, so the counter's row lock orders concurrent adds: item ids then grow in
        # commit order, which is what lets processes load only ids above the last they saw.
        bump(session)
    if len(fresh) <= _LOOKUP_BATCH:  # small adds report their ids
        added = [_item_row(row.id, item, by, now) for item in fresh]
        session.add_all(added)
        session.flush()
        ids = [item.id for item in added]
    else:  # imports: one executemany per batch, no ORM objects
        values = [_item_values(row.id, item, by, now) for item in fresh]
        for start in range(0, len(values), 10 * _LOOKUP_BATCH):
            session.execute(insert(HashListItemRow), values[start : start + 10 * _LOOKUP_BATCH])
    return Added(len(fresh), len(items) - len(fresh), ids)


def remove_item(session: Session, row: HashListRow, pdq: str) -> None:
    removed = session.execute(
        delete(HashListItemRow).where(HashListItemRow.list_id == row.id, HashListItemRow.pdq == pdq)
    )
    if removed.rowcount == 0:  # type: ignore[attr-defined]
        raise HashNotInList(f"hash {pdq} is not in list '{row.name}'")
    bump(session, removal=True)


def delete_list(session: Session, row: HashListRow) -> int:
    """Delete the list and its items; returns how many items went."""
    removed = session.execute(delete(HashListItemRow).where(HashListItemRow.list_id == row.id))
    session.delete(row)
    bump(session, removal=True)
    return int(removed.rowcount)  # type: ignore[attr-defined]


def items_of(session: Session, row: HashListRow, after: int = 0, limit: int = 1000) -> list[Any]:
    """Items of a list by id, ``limit`` at a time after item id ``after``."""
    return list(
        session.scalars(
            select(HashListItemRow)
            .where(HashListItemRow.list_id == row.id, HashListItemRow.id > after)
            .order_by(HashListItemRow.id)
            .limit(limit)
        )
    )


def every_item(session: Session, row: HashListRow) -> Iterator[HashListItemRow]:
    """Every item of a list, in id order, a page at a time (exports of a million hashes)."""
    after = 0
    while page := items_of(session, row, after, 5000):
        yield from page
        after = page[-1].id
        for item in page:
            session.expunge(item)  # a million rows need not stay in the session


def items_by_id(session: Session, ids: Sequence[int]) -> dict[int, HashListItemRow]:
    if not ids:
        return {}
    found = session.scalars(select(HashListItemRow).where(HashListItemRow.id.in_(list(ids))))
    return {row.id: row for row in found}


def hashes_after(session: Session, after: int) -> list[tuple[int, int, str]]:
    """(item id, list id, hex) of every item with an id above ``after``, in id order: what a
    process loads into its index (columns only; a million rows in a few seconds)."""
    rows = session.execute(
        select(HashListItemRow.id, HashListItemRow.list_id, HashListItemRow.pdq)
        .where(HashListItemRow.id > after)
        .order_by(HashListItemRow.id)
    )
    return [(item_id, list_id, pdq) for item_id, list_id, pdq in rows]


def state(session: Session) -> tuple[int, int]:
    """(version, removals): the change counter every process polls."""
    found = session.get(HashListStateRow, 1)
    if found is None:  # a database migrated without the row (never by vigil's migration)
        found = HashListStateRow(id=1, version=0, removals=0)
        session.add(found)
        session.flush()
    return found.version, found.removals


def bump(session: Session, *, removal: bool = False) -> None:
    """Tell every process that the lists changed (and whether hashes left them)."""
    state(session)
    values: dict[str, Any] = {"version": HashListStateRow.version + 1}
    if removal:
        values["removals"] = HashListStateRow.removals + 1
    session.execute(update(HashListStateRow).where(HashListStateRow.id == 1).values(**values))


def item_view(row: HashListItemRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "pdq": row.pdq,
        "quality": row.quality,
        "note": row.note,
        "labels": list(row.labels or []),
        "source_asset_id": row.source_asset_id,
        "added_by": row.added_by,
        "added_at": iso(row.created_at),
    }


def _already_listed(session: Session, list_id: int, hashes: Sequence[str]) -> set[str]:
    listed: set[str] = set()
    unique = sorted(set(hashes))
    for start in range(0, len(unique), _LOOKUP_BATCH):
        batch = unique[start : start + _LOOKUP_BATCH]
        listed.update(
            session.scalars(
                select(HashListItemRow.pdq).where(
                    HashListItemRow.list_id == list_id, HashListItemRow.pdq.in_(batch)
                )
            )
        )
    return listed


def _item_row(list_id: int, item: NewItem, by: str, now: datetime) -> HashListItemRow:
    return HashListItemRow(**_item_values(list_id, item, by, now))


def _item_values(list_id: int, item: NewItem, by: str, now: datetime) -> dict[str, Any]:
    return {
        "list_id": list_id,
        "pdq": item.pdq,
        "quality": item.quality,
        "note": item.note,
        "labels": list(item.labels),
        "source_asset_id": item.source_asset_id,
        "added_by": by,
        "created_at": now,
    }
