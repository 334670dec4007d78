"""Review queues over the API, for API keys with the reviewer or admin role
(people use the console at /review; both call the same service)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from vigil.api.deps import PrincipalDep, VigilDep
from vigil.api.schemas.review import (
    ClaimedItem,
    QueueList,
    RejectReasons,
    ReviewItemList,
    ReviewItemWithAsset,
)
from vigil.service.review.people import Reviewer, from_key
from vigil.service.review.service import ReviewService

router = APIRouter(prefix="/v1/review")


def get_reviewer(who: PrincipalDep) -> Reviewer:
    return from_key(who)


def get_review(vigil: VigilDep) -> ReviewService:
    return vigil.review


ReviewerDep = Annotated[Reviewer, Depends(get_reviewer)]
ReviewDep = Annotated[ReviewService, Depends(get_review)]


class DecisionBody(BaseModel):
    decision: Literal["approve", "reject", "escalate"]
    reason: str = Field("", max_length=200, description="For reject: one of the configured reasons")
    note: str = Field("", max_length=2000)


@router.get("/queues", summary="Each queue's size and the age of its oldest item")
def queues(review: ReviewDep, who: ReviewerDep) -> QueueList:
    return QueueList.model_validate({"queues": review.queues(who)})


@router.get("/queues/{queue}/items", summary="Items waiting in a queue, oldest first")
def items(
    review: ReviewDep,
    who: ReviewerDep,
    queue: str,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ReviewItemList:
    return ReviewItemList.model_validate({"items": review.items(who, queue, limit)})


@router.post("/queues/{queue}/claim", summary="Claim the next item (null when the queue is empty)")
def claim(review: ReviewDep, who: ReviewerDep, queue: str) -> ClaimedItem:
    return ClaimedItem.model_validate({"item": review.claim_next(who, queue)})


@router.get("/items/{item_id}", summary="One review item with its asset")
def item(review: ReviewDep, who: ReviewerDep, item_id: str) -> ReviewItemWithAsset:
    return ReviewItemWithAsset.model_validate(review.get(who, item_id))


@router.post("/items/{item_id}/decision", summary="Approve, reject or escalate a claimed item")
def decide(
    review: ReviewDep, who: ReviewerDep, item_id: str, body: DecisionBody
) -> ReviewItemWithAsset:
    decided = review.decide(who, item_id, body.decision, body.reason, body.note)
    return ReviewItemWithAsset.model_validate(decided)


@router.post("/items/{item_id}/release", summary="Give a claimed item back to its queue")
def release(review: ReviewDep, who: ReviewerDep, item_id: str) -> ReviewItemWithAsset:
    return ReviewItemWithAsset.model_validate(review.release(who, item_id))


@router.get("/reasons", summary="The reasons a rejection can give")
def reasons(vigil: VigilDep, _who: ReviewerDep) -> RejectReasons:
    return RejectReasons(reasons=vigil.settings.review_reject_reasons)
