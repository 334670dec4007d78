"""A video asset's moderation over HTTP, in the shape of Rekognition's GetContentModeration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from vigil.api.deps import PathInt, PrincipalDep, VigilDep
from vigil.api.responses import BINARY, JpegResponse, answered_in
from vigil.api.schemas.videos import VideoModeration
from vigil.service.video.results import MAX_RESULTS, PageRequest

router = APIRouter(prefix="/v1/assets")


@router.get("/{asset_id}/video", summary="Timestamped labels and segments of a video asset")
def video_moderation(
    vigil: VigilDep,
    who: PrincipalDep,
    asset_id: str,
    sort_by: Annotated[str, Query(description="TIMESTAMP or NAME")] = "TIMESTAMP",
    aggregate_by: Annotated[str, Query(description="TIMESTAMPS or SEGMENTS")] = "TIMESTAMPS",
    max_results: Annotated[int, Query(ge=1, le=MAX_RESULTS)] = MAX_RESULTS,
    next_token: str | None = None,
) -> VideoModeration:
    request = PageRequest(sort_by, aggregate_by, max_results, next_token)
    return VideoModeration.model_validate(vigil.videos.content_moderation(asset_id, who, request))


@router.get(
    "/{asset_id}/video/thumbnails/{index}",
    summary="A flagged segment's blurred still (reviewers and admins)",
    response_class=JpegResponse,
    responses=answered_in("A JPEG", "image/jpeg", schema=BINARY),
)
def video_thumbnail(vigil: VigilDep, who: PrincipalDep, asset_id: str, index: PathInt) -> Response:
    jpeg = vigil.videos.thumbnail(asset_id, index, who)
    return JpegResponse(jpeg, headers={"Cache-Control": "private, no-store"})
