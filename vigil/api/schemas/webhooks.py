"""Webhook subscriptions, the delivery log and its attempts."""

from __future__ import annotations

from pydantic import Field, JsonValue

from vigil.api.schemas.base import ApiModel
from vigil.service.core.times import Timestamp


class Subscription(ApiModel):
    id: str
    url: str
    events: list[str]
    description: str
    active: bool
    created_by: str
    created_at: Timestamp


class NewSubscription(Subscription):
    secret: str = Field(description="Signs the deliveries; shown only in this answer")


class SubscriptionList(ApiModel):
    webhooks: list[Subscription]


class InstanceSecret(ApiModel):
    secret: str
    source: str = Field(description="setting or generated")


class Delivery(ApiModel):
    id: str
    subscription_id: str | None = Field(description="Null for an asset's notification_url")
    url: str
    event_id: str
    event_type: str
    status: str
    attempt_count: int
    last_status_code: int | None
    last_error: str
    created_at: Timestamp
    updated_at: Timestamp


class DeliveryList(ApiModel):
    deliveries: list[Delivery]


class Attempt(ApiModel):
    at: Timestamp
    status_code: int | None
    error: str
    duration_ms: int


class DeliveryDetail(Delivery):
    payload: dict[str, JsonValue] = Field(description="The event as delivered")
    attempts: list[Attempt]


class Redelivery(ApiModel):
    delivery: Delivery
    job_id: int
