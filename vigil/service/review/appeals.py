"""Appeals: the uploader of a rejected asset asks a person to look again. An appeal is a
review item in the ``appeal`` queue; one open at a time, one per rejection."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from vigil.errors import AppealNotAllowed, Forbidden, InvalidParameter
from vigil.service.access.principal import Principal
from vigil.service.assets.service import AssetService
from vigil.service.core.audit import audit_row
from vigil.service.core.status import Status
from vigil.service.review.items import now, open_numbered
from vigil.service.review.rows import ItemState, Queue, item_view
from vigil.storage.db import Database
from vigil.storage.tables import ReviewItemRow

MAX_MESSAGE = 2000


class AppealService:
    def __init__(self, db: Database, assets: AssetService) -> None:
        self.db = db
        self.assets = assets

    def appeal(self, who: Principal, asset_id: str, message: str) -> dict[str, Any]:
        message = message.strip()
        if not 1 <= len(message) <= MAX_MESSAGE:
            raise InvalidParameter(f"an appeal needs a message of 1-{MAX_MESSAGE} characters")
        owner = self.assets.visible_row(asset_id, who).owner_key_id  # AssetNotFound if unseen
        if owner != who.key_id:
            # Reviewers and admins see every asset, but an appeal is the uploader's voice: one
            # filed for them would use up the owner's one appeal of this rejection.
            raise Forbidden(
                f"only the uploader of asset {asset_id} can appeal it; "
                "reviewers and admins override the decision instead"
            )
        asset = self.assets.get(asset_id, who)
        if asset["status"] != Status.REJECTED:
            raise AppealNotAllowed(
                f"asset {asset_id} is {asset['status']}; only rejected assets can be appealed"
            )
        rejected_at = datetime.fromisoformat(asset["updated_at"])
        for earlier in self.appeals(who, asset_id):
            # Open, or decided after the asset was last rejected: this rejection was appealed.
            if earlier["state"] != ItemState.DONE or (
                datetime.fromisoformat(earlier["decided_at"]) >= rejected_at
            ):
                raise AppealNotAllowed(f"asset {asset_id} was already appealed")
        item = open_numbered(self.db, asset_id, Queue.APPEAL, who.key_id, message)
        rejected = Status.REJECTED
        with self.db.session() as session:
            session.add(
                audit_row(asset_id, who.key_id, "appealed", rejected, rejected, message, now())
            )
        return item_view(item, [])

    def appeals(self, who: Principal, asset_id: str) -> list[dict[str, Any]]:
        """The asset's appeals, oldest first, with their outcome."""
        self.assets.get(asset_id, who)
        with self.db.session() as session:
            rows = session.scalars(
                select(ReviewItemRow)
                .where(
                    ReviewItemRow.asset_id == asset_id,
                    ReviewItemRow.queue == Queue.APPEAL.value,
                )
                .order_by(ReviewItemRow.round)
            )
            return [item_view(row, []) for row in rows]
