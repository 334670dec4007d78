"""Native API: /v1/moderate and /v1/assets."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Header, Query, Response, UploadFile
from pydantic import BaseModel, Field

from vigil.api.deps import PrincipalDep, VigilDep, read_upload
from vigil.api.responses import BINARY, answered_in
from vigil.api.schemas.assets import (
    Asset,
    AssetPage,
    Explanation,
    ModerationResult,
    UploadedAsset,
)
from vigil.api.schemas.audit import AssetAudit
from vigil.policy.context import context_from_json
from vigil.service.assets.uploads import UploadRequest
from vigil.service.policies.presets import UploadOptions

router = APIRouter(prefix="/v1")


def context_fields(
    region: Annotated[str | None, Form(description="ISO 3166-1 alpha-2 country code")] = None,
    audience: Annotated[str | None, Form(description="under_13, 13_17 or adult")] = None,
    surface: Annotated[str | None, Form(description="where the upload appears")] = None,
    trust: Annotated[str | None, Form(description="the uploader's trust level")] = None,
    context_json: Annotated[
        str | None, Form(alias="context", description='JSON object, e.g. {"region": "DE"}')
    ] = None,
) -> dict[str, str]:
    """The policy context a request carries, as a JSON object and/or single fields (which
    win); keys left out take the policy's defaults."""
    merged = context_from_json(context_json) if context_json else {}
    given = {"region": region, "audience": audience, "surface": surface, "trust": trust}
    merged.update({key: value for key, value in given.items() if value is not None})
    return merged


ContextDep = Annotated[dict[str, str], Depends(context_fields)]


class Override(BaseModel):
    status: Literal["approved", "rejected"]
    reason: str = Field("", max_length=2000)


@router.post("/moderate", summary="Moderate an image without storing it")
def moderate(
    vigil: VigilDep,
    _who: PrincipalDep,
    context: ContextDep,
    file: Annotated[UploadFile, File()],
    policy: Annotated[str | None, Form()] = None,
    min_confidence: Annotated[float | None, Form(ge=0, le=100)] = None,
    adapter: Annotated[str | None, Form(description="A custom adapter to run too")] = None,
) -> ModerationResult:
    data = read_upload(file, vigil.settings.max_upload_bytes)
    result = vigil.engine.moderate(data, vigil.policy(policy), context, adapter)
    floor = vigil.settings.min_confidence if min_confidence is None else min_confidence
    return ModerationResult.model_validate({"file": file.filename or "", **result.to_dict(floor)})


@router.post(
    "/assets",
    status_code=201,
    summary="Upload an image or video: stored, then decided (201), or still processing (202)",
    responses={202: {"model": UploadedAsset, "description": "Stored, still processing"}},
)
def upload(
    vigil: VigilDep,
    who: PrincipalDep,
    context: ContextDep,
    response: Response,
    file: Annotated[UploadFile, File()],
    moderation: Annotated[
        str | None,
        Form(
            description="auto (default), manual, none, or aws_rek[:category:threshold...][|manual]"
        ),
    ] = None,
    policy: Annotated[str | None, Form()] = None,
    upload_preset: Annotated[str | None, Form(description="A stored set of options")] = None,
    tags: Annotated[str | None, Form(description="Comma-separated tags")] = None,
    notification_url: Annotated[str | None, Form()] = None,
    adapter: Annotated[str | None, Form(description="A custom adapter to run too")] = None,
    run_async: Annotated[
        bool, Query(alias="async", description="Answer 202 as soon as the upload is stored")
    ] = False,
    wait: Annotated[
        float | None,
        Query(
            ge=0,
            le=600,
            description="Seconds to wait for the decision before 202 (default: the upload "
            "wait setting for images, 0 for videos)",
        ),
    ] = None,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=255, description="A retry with this key returns the first result"),
    ] = None,
) -> UploadedAsset:
    given = UploadOptions(
        moderation=moderation,
        policy=policy,
        context=context,
        notification_url=notification_url,
        tags=tuple(tags.split(",")) if tags else (),
    )
    options = vigil.presets.resolve(upload_preset, given)  # refused before reading the upload
    request = UploadRequest(file.filename or "", options, upload_preset, adapter)
    request.plan  # noqa: B018  # a bad moderation string is refused before the upload is read
    outcome = vigil.uploads.submit(
        file.file,
        request,
        who,
        run_async=run_async,
        wait=wait,
        idempotency_key=idempotency_key,
    )
    asset = UploadedAsset.model_validate(
        {**outcome.asset, "status_url": f"/v1/assets/{outcome.asset['id']}"}
    )
    if not outcome.finished:
        response.status_code = 202
        response.headers["Location"] = asset.status_url
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return asset


@router.get("/assets", summary="List assets, newest first")
def list_assets(
    vigil: VigilDep,
    who: PrincipalDep,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
    text: Annotated[str | None, Query(description="Words the OCR-read text contains")] = None,
) -> AssetPage:
    page = vigil.assets.list_page(who, status=status, limit=limit, cursor=cursor, text=text)
    return AssetPage.model_validate({"assets": page.assets, "next_cursor": page.next_cursor})


@router.get("/assets/{asset_id}", summary="One asset")
def get_asset(vigil: VigilDep, who: PrincipalDep, asset_id: str) -> Asset:
    return Asset.model_validate(vigil.assets.get(asset_id, who))


@router.get(
    "/assets/{asset_id}/content",
    summary="The asset's bytes (approved only for uploaders)",
    response_class=Response,
    # The media type is the asset's own (its mime): an image or a video.
    responses=answered_in("The asset's bytes", "image/*", "video/*", schema=BINARY),
)
def get_content(vigil: VigilDep, who: PrincipalDep, asset_id: str) -> Response:
    data, mime = vigil.assets.content(asset_id, who)
    return Response(data, media_type=mime, headers={"Cache-Control": "private, no-store"})


@router.post("/assets/{asset_id}/moderation", summary="A person's decision (override)")
def override(vigil: VigilDep, who: PrincipalDep, asset_id: str, body: Override) -> Asset:
    return Asset.model_validate(vigil.assets.override(asset_id, who, body.status, body.reason))


@router.get("/assets/{asset_id}/audit", summary="Every state change of the asset")
def audit(vigil: VigilDep, who: PrincipalDep, asset_id: str) -> AssetAudit:
    return AssetAudit.model_validate({"events": vigil.assets.audit(asset_id, who)})


@router.get("/assets/{asset_id}/explain", summary="Why the asset has its status, in words")
def explain(vigil: VigilDep, who: PrincipalDep, asset_id: str) -> Explanation:
    return Explanation.model_validate(vigil.assets.explain(asset_id, who))
