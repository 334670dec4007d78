"""The built-in lists people's decisions fill, made on first use."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from vigil.service.hashlists import repository
from vigil.service.hashlists.model import (
    APPROVED,
    DEFAULT_DISTANCE,
    KNOWN_CONTENT,
    REJECTED,
    ListAction,
    MatchRules,
)
from vigil.storage.tables import HashListRow

DESCRIPTIONS = {
    REJECTED: "PDQ hashes of assets a person rejected (VIGIL_HASHLIST_REJECT_FEEDBACK); "
    "copies are handled by VIGIL_HASHLIST_REJECTED_ACTION.",
    APPROVED: "PDQ hashes of assets a person approved after an automatic block "
    "(VIGIL_HASHLIST_APPROVE_FEEDBACK); a copy is exempt from the overturned category only.",
}


def ensure_builtin(session: Session, name: str, rules: MatchRules) -> HashListRow:
    """The built-in list ``name`` (``rejected`` or ``approved``), created if missing."""
    found = repository.find_list(session, name)
    if found is not None:
        return found
    now = datetime.now(UTC)
    rejected = name == REJECTED
    row = HashListRow(
        name=name,
        action=(rules.rejected_action if rejected else ListAction.ALLOW).value,
        label=KNOWN_CONTENT,
        distance=DEFAULT_DISTANCE if rejected else rules.allow_distance,
        description=DESCRIPTIONS[name],
        builtin=True,
        created_by="system",
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    repository.bump(session)
    return row


def ensure_builtins(session: Session, rules: MatchRules) -> None:
    for name in (REJECTED, APPROVED):
        ensure_builtin(session, name, rules)
