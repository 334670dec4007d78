"""People's decisions feed the built-in lists: an event sink on ``asset.decided``.

It runs inside the transaction of the decision, so the listed hash and the decision commit
together. A reject lists the asset's PDQ hash in ``rejected``; an approve that overturns an
automatic block lists it in ``approved``, exempting only the top-level category that was
overturned. Each addition is written to the asset's audit trail with who decided and when.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from vigil import taxonomy
from vigil.service.core.audit import audit_row
from vigil.service.core.events import DECIDED
from vigil.service.core.status import Status
from vigil.service.hashlists import repository
from vigil.service.hashlists.builtins import ensure_builtin
from vigil.service.hashlists.model import APPROVED, REJECTED, MatchRules
from vigil.service.hashlists.repository import NewItem
from vigil.storage.tables import AssetRow

AUDIT_ACTION = "hashlist_added"


class DecisionFeedback:
    """The sink: call it with (session, event) like every other event subscriber."""

    def __init__(self, rules: MatchRules) -> None:
        self.rules = rules

    def __call__(self, session: Session, event: dict[str, Any]) -> None:
        if event["type"] != DECIDED:
            return
        asset = event["data"]["asset"]
        actor = str(event["data"].get("actor") or "unknown")
        row = session.get(AssetRow, asset["id"])
        if row is None or not row.pdq or row.media_type == "video":
            return  # decided before hashing existed; a video's frames are not listed
        target = _target(asset, self.rules)
        exempts = _exempts(asset, target)
        if target == REJECTED or (target == APPROVED and exempts):
            self._list(session, row, target, actor, exempts)

    def _list(
        self, session: Session, row: AssetRow, name: str, actor: str, exempts: tuple[str, ...]
    ) -> None:
        now = datetime.now(UTC)
        verb = "rejected" if name == REJECTED else "approved"
        note = f"asset {row.id} was {verb} by {actor} on {now:%Y-%m-%d %H:%M} UTC"
        listed = ensure_builtin(session, name, self.rules)
        items = [NewItem(row.pdq or "", row.pdq_quality, note, exempts, row.id)]
        if row.pdq_content:
            cut = f"{note}; margins cut"
            items.append(NewItem(row.pdq_content, row.pdq_quality, cut, exempts, row.id))
        added = repository.add_items(session, listed, items, actor)
        if added.added:
            status = Status(row.status)
            reason = f"PDQ hash added to hash list '{name}' (item {added.ids[0]})"
            session.add(audit_row(row.id, actor, AUDIT_ACTION, status, status, reason, now))


def _target(asset: dict[str, Any], rules: MatchRules) -> str | None:
    status = asset["status"]
    if status == Status.REJECTED and rules.reject_feedback:
        return REJECTED
    machine = asset.get("decision") or {}
    if status == Status.APPROVED and rules.approve_feedback and machine.get("action") == "block":
        return APPROVED
    return None


def _exempts(asset: dict[str, Any], target: str | None) -> tuple[str, ...]:
    """The category an approval overturned: the top level of the label that blocked (none
    for a block no label caused: an approval never exempts every category)."""
    label = (asset.get("decision") or {}).get("label")
    if target != APPROVED or not label or not taxonomy.is_label(label):
        return ()
    return (taxonomy.top_level(label),)
