"""Events about assets, handed to every sink (webhooks, alert rules) inside the transaction
that changed the asset, so a committed change always has its notifications queued."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

APPROVED = "asset.approved"
REJECTED = "asset.rejected"
REVIEW_REQUIRED = "asset.review_required"
DECIDED = "asset.decided"  # a person's decision
VIDEO_COMPLETED = "video.completed"
EVENT_TYPES = (APPROVED, REJECTED, REVIEW_REQUIRED, DECIDED, VIDEO_COMPLETED)

# The event a machine decision raises, by the asset's new status.
EVENT_FOR_STATUS = {"approved": APPROVED, "rejected": REJECTED, "review": REVIEW_REQUIRED}

Sink = Callable[[Session, dict[str, Any]], object]


def make_event(event_type: str, asset: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": f"evt_{secrets.token_hex(12)}",
        "type": event_type,
        "created_at": datetime.now(UTC).isoformat(),
        "data": {"asset": asset, **extra},
    }


class EventPublisher:
    def __init__(self, sinks: Sequence[Sink] = ()) -> None:
        self.sinks = list(sinks)

    def publish(
        self, session: Session, event_type: str, asset: dict[str, Any], **extra: Any
    ) -> dict[str, Any]:
        event = make_event(event_type, asset, **extra)
        for sink in self.sinks:
            sink(session, event)
        return event
