"""Webhook subscriptions, the delivery log and redelivery over HTTP (admin only; the service
checks the role)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from vigil.api.deps import PrincipalDep, VigilDep
from vigil.api.schemas.webhooks import (
    DeliveryDetail,
    DeliveryList,
    InstanceSecret,
    NewSubscription,
    Redelivery,
    SubscriptionList,
)

router = APIRouter(prefix="/v1/webhooks")


class WebhookBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="http:// or https:// URL that receives the events")
    events: list[str] = Field(description="Event types to receive, e.g. asset.rejected")
    description: str = ""


@router.post("", status_code=201, summary="Subscribe a URL to event types")
def create_webhook(vigil: VigilDep, who: PrincipalDep, body: WebhookBody) -> NewSubscription:
    created = vigil.webhooks.create(who, body.url, body.events, body.description)
    return NewSubscription.model_validate(created)


@router.get("", summary="Every active subscription")
def list_webhooks(vigil: VigilDep, who: PrincipalDep) -> SubscriptionList:
    return SubscriptionList.model_validate({"webhooks": vigil.webhooks.subscriptions(who)})


@router.get("/secret", summary="The secret that signs deliveries to notification_urls")
def instance_secret(vigil: VigilDep, who: PrincipalDep) -> InstanceSecret:
    return InstanceSecret.model_validate(vigil.webhooks.secret(who))


@router.get("/deliveries", summary="The delivery log, newest first")
def list_deliveries(
    vigil: VigilDep,
    who: PrincipalDep,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> DeliveryList:
    found = vigil.webhooks.deliveries(who, status=status, limit=limit)
    return DeliveryList.model_validate({"deliveries": found})


@router.get("/deliveries/{delivery_id}", summary="One delivery with its attempts")
def get_delivery(vigil: VigilDep, who: PrincipalDep, delivery_id: str) -> DeliveryDetail:
    return DeliveryDetail.model_validate(vigil.webhooks.delivery(who, delivery_id))


@router.post(
    "/deliveries/{delivery_id}/redeliver", status_code=202, summary="Send a delivery again"
)
def redeliver(vigil: VigilDep, who: PrincipalDep, delivery_id: str) -> Redelivery:
    return Redelivery.model_validate(vigil.webhooks.redeliver(who, delivery_id))


@router.delete(
    "/{webhook_id}", status_code=204, summary="Remove a subscription", response_class=Response
)
def delete_webhook(vigil: VigilDep, who: PrincipalDep, webhook_id: str) -> Response:
    vigil.webhooks.remove(who, webhook_id)
    return Response(status_code=204)
