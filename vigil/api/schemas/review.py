"""Review queues and their items, as API keys with the reviewer or admin role see them."""

from __future__ import annotations

from pydantic import Field

from vigil.api.schemas.assets import Asset
from vigil.api.schemas.base import ApiModel
from vigil.service.core.times import Timestamp


class QueueSummary(ApiModel):
    queue: str = Field(description="first_pass, appeal, qa or escalation")
    size: int = Field(description="Items not done")
    oldest_created_at: Timestamp | None
    oldest_age_seconds: float | None
    allowed: bool = Field(description="Whether the caller may work this queue")


class QueueList(ApiModel):
    queues: list[QueueSummary]


class ReviewVerdict(ApiModel):
    """A verdict a person gave on the item."""

    actor: str
    decision: str = Field(description="approve, reject or escalate")
    reason: str
    note: str
    machine_action: str | None = Field(description="What the machine did on its own")
    category: str
    disagreed: bool
    at: Timestamp


class ReviewItem(ApiModel):
    id: str
    asset_id: str
    queue: str
    state: str = Field(description="open, claimed or done")
    reviews_needed: int
    claimed_by: str | None
    claim_expires_at: Timestamp | None
    opened_by: str
    message: str = Field(description="The appeal or escalation note")
    outcome: str | None
    created_at: Timestamp
    decided_at: Timestamp | None
    decisions: list[ReviewVerdict]


class ReviewItemList(ApiModel):
    items: list[ReviewItem]


class ReviewItemWithAsset(ReviewItem):
    """An item with its asset and the verdicts people gave on it."""

    asset: Asset


class ClaimedItem(ApiModel):
    item: ReviewItemWithAsset | None = Field(description="Null when the queue is empty")


class RejectReasons(ApiModel):
    reasons: list[str]
