"""Policies in the database: immutable versions, one active version per name."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from vigil.errors import InvalidTransition, PolicyNotFound
from vigil.policy.loader import parse_policy, stored_version
from vigil.policy.model import Policy
from vigil.policy.sources import PolicySource
from vigil.storage.db import Database
from vigil.storage.tables import PolicyRow, PolicyVersionRow


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class PolicyRepository:
    """Every submitted text becomes a new numbered version (identical text is not a change);
    activation and rollback only move the pointer, so every decision's version stays
    readable forever."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._parsed: dict[tuple[str, int], Policy] = {}
        self._lock = threading.Lock()

    # -- reading -----------------------------------------------------------------------------

    def get(self, name: str, version: int | None = None) -> Policy:
        """The active version of ``name`` (or the given version), parsed once and cached."""
        with self.db.session() as session:
            number = version or self._row(session, name).active_version
            return self._parsed_version(session, name, number)

    def active_source(self, name: str) -> tuple[int, str]:
        """The number and text of the active version of ``name``."""
        with self.db.session() as session:
            number = self._row(session, name).active_version
            return number, self._version_row(session, name, number).source

    def with_shadow(self, name: str) -> tuple[Policy, Policy | None]:
        """The active version and the shadow candidate, if any, from one read of the pointer
        (this is on every upload's path)."""
        with self.db.session() as session:
            row = self._row(session, name)
            active = self._parsed_version(session, name, row.active_version)
            if row.shadow_version is None:
                return active, None
            return active, self._parsed_version(session, name, row.shadow_version)

    def _parsed_version(self, session: Any, name: str, number: int) -> Policy:
        cached = self._parsed.get((name, number))
        if cached is not None:
            return cached
        policy = stored_version(name, number, self._version_row(session, name, number).source)
        with self._lock:
            self._parsed[(name, number)] = policy
        return policy

    def set_shadow(self, name: str, version: int | None, actor: str) -> dict[str, Any]:
        """Evaluate ``version`` in shadow on live traffic (``None`` stops it)."""
        with self.db.session() as session:
            row = self._row(session, name)
            if version is not None:
                self._version_row(session, name, version)  # PolicyNotFound if there is none
                if version == row.active_version:
                    raise InvalidTransition(f"version {version} of '{name}' is the active one")
            row.shadow_version, row.activated_by = version, actor
            row.updated_at = datetime.now(UTC)
        return self.describe(name)

    def names(self) -> list[str]:
        with self.db.session() as session:
            return list(session.scalars(select(PolicyRow.name).order_by(PolicyRow.name)))

    def summary(self) -> list[dict[str, Any]]:
        with self.db.session() as session:
            rows = session.scalars(select(PolicyRow).order_by(PolicyRow.name))
            return [_policy_view(row) for row in rows]

    def describe(self, name: str, version: int | None = None) -> dict[str, Any]:
        """The active (or given) version with its source text."""
        with self.db.session() as session:
            row = self._row(session, name)
            chosen = self._version_row(session, name, version or row.active_version)
            return {**_policy_view(row), **_version_view(chosen, row), "source": chosen.source}

    def versions(self, name: str) -> list[dict[str, Any]]:
        with self.db.session() as session:
            row = self._row(session, name)
            found = session.scalars(
                select(PolicyVersionRow)
                .where(PolicyVersionRow.name == name)
                .order_by(PolicyVersionRow.version)
            )
            return [_version_view(version, row) for version in found]

    # -- changing ----------------------------------------------------------------------------

    def submit(
        self, text: str, actor: str, *, activate: bool = True, origin: str = "submitted policy"
    ) -> dict[str, Any]:
        """Validate ``text`` and store it as the next version of the policy it names."""
        name = parse_policy(text, source=origin).name  # InvalidPolicy if bad
        now = datetime.now(UTC)
        with self.db.session() as session:
            latest = session.scalar(
                select(PolicyVersionRow)
                .where(PolicyVersionRow.name == name)
                .order_by(PolicyVersionRow.version.desc())
                .limit(1)
            )
            if latest is not None and latest.content_hash == _hash(text):
                number, created = latest.version, False
            else:
                number, created = (latest.version + 1 if latest else 1), True
                session.add(
                    PolicyVersionRow(
                        name=name,
                        version=number,
                        source=text,
                        content_hash=_hash(text),
                        created_by=actor,
                        created_at=now,
                    )
                )
            pointer = session.get(PolicyRow, name)
            if pointer is None:
                session.add(
                    PolicyRow(name=name, active_version=number, activated_by=actor, updated_at=now)
                )
            elif activate:
                pointer.active_version, pointer.activated_by, pointer.updated_at = (
                    number,
                    actor,
                    now,
                )
        return {**self.describe(name, number), "created": created}

    def activate(self, name: str, version: int, actor: str) -> dict[str, Any]:
        with self.db.session() as session:
            row = self._row(session, name)
            self._version_row(session, name, version)  # PolicyNotFound if there is none
            row.active_version, row.activated_by = version, actor
            row.updated_at = datetime.now(UTC)
        return self.describe(name)

    def rollback(self, name: str, actor: str) -> dict[str, Any]:
        """Activate the newest version older than the active one."""
        with self.db.session() as session:
            row = self._row(session, name)
            previous = session.scalar(
                select(func.max(PolicyVersionRow.version)).where(
                    PolicyVersionRow.name == name, PolicyVersionRow.version < row.active_version
                )
            )
        if previous is None:
            raise InvalidTransition(f"policy '{name}' has no version before the active one")
        return self.activate(name, previous, actor)

    def import_files(self, sources: list[PolicySource]) -> list[str]:
        """Store each file's text as a new active version unless some version already has
        exactly that text. Returns the names that changed."""
        changed = []
        for source in sources:
            name = parse_policy(source.text, source=source.origin).name
            with self.db.session() as session:
                known = session.scalar(
                    select(PolicyVersionRow.id).where(
                        PolicyVersionRow.name == name,
                        PolicyVersionRow.content_hash == _hash(source.text),
                    )
                )
            if known is None:
                self.submit(source.text, f"file:{source.origin}"[:64], origin=source.origin)
                changed.append(name)
        return changed

    # -- helpers -----------------------------------------------------------------------------

    def _known(self, session: Any) -> str:
        return ", ".join(session.scalars(select(PolicyRow.name).order_by(PolicyRow.name)))

    def _row(self, session: Any, name: str) -> PolicyRow:
        row: PolicyRow | None = session.get(PolicyRow, name)
        if row is None:
            raise PolicyNotFound(f"no policy named '{name}' (known: {self._known(session)})")
        return row

    def _version_row(self, session: Any, name: str, version: int) -> PolicyVersionRow:
        row: PolicyVersionRow | None = session.scalar(
            select(PolicyVersionRow).where(
                PolicyVersionRow.name == name, PolicyVersionRow.version == version
            )
        )
        if row is None:
            raise PolicyNotFound(f"policy '{name}' has no version {version}")
        return row


def _policy_view(row: PolicyRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "active_version": row.active_version,
        "shadow_version": row.shadow_version,
        "activated_by": row.activated_by,
        "updated_at": row.updated_at.isoformat(),
    }


def _version_view(row: PolicyVersionRow, pointer: PolicyRow) -> dict[str, Any]:
    return {
        "version": row.version,
        "active": row.version == pointer.active_version,
        "content_hash": row.content_hash,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
    }
