"""Hash lists over HTTP (admin only; the service checks the role): lists, their items (an
uploaded image or ``{"pdq": "<64 hex>"}``), removal by hash, export (docs/hashlists.md)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from vigil.api.deps import PrincipalDep, QueryInt, VigilDep
from vigil.api.responses import TEXT, answered_in
from vigil.api.schemas.hashlists import (
    HashList,
    HashListDeleted,
    HashListList,
    HashListPage,
    ItemRemoved,
    ItemsAdded,
)
from vigil.errors import EmptyFile, ImageTooLarge, InvalidParameter
from vigil.service.hashlists.service import Upload

router = APIRouter(prefix="/v1/lists")


class ListBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Letters, digits, '.', '_' or '-'")
    action: str = Field("block", description="block, review or allow")
    label: str | None = Field(None, description="Taxonomy label a match reports")
    distance: int | None = Field(None, description="Largest PDQ distance that matches")
    description: str = Field("", max_length=2000)


@router.post("", status_code=201, summary="Create a hash list")
def create_list(vigil: VigilDep, who: PrincipalDep, body: ListBody) -> HashList:
    created = vigil.hashlists.create(
        who, body.name, body.action, body.label, body.distance, body.description
    )
    return HashList.model_validate(created)


@router.get("", summary="Every hash list")
def list_lists(vigil: VigilDep, who: PrincipalDep) -> HashListList:
    return HashListList.model_validate({"lists": vigil.hashlists.lists(who)})


@router.get("/{name}", summary="A list and a page of its items")
def show_list(
    vigil: VigilDep,
    who: PrincipalDep,
    name: str,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: QueryInt = None,
) -> HashListPage:
    return HashListPage.model_validate(vigil.hashlists.show(who, name, limit, after or 0))


@router.delete("/{name}", summary="Delete a list and its hashes")
def delete_list(vigil: VigilDep, who: PrincipalDep, name: str) -> HashListDeleted:
    return HashListDeleted.model_validate(vigil.hashlists.delete(who, name))


@router.post(
    "/{name}/items",
    status_code=201,
    summary='Add an uploaded image (multipart "file") or {"pdq": "<64 hex>"} to a list',
)
async def add_item(request: Request, vigil: VigilDep, who: PrincipalDep, name: str) -> ItemsAdded:
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        upload, note = await _uploaded(request, vigil.settings.max_upload_bytes)
        added = await run_in_threadpool(vigil.hashlists.add_images, who, name, [upload], note)
    else:
        pdq, note = await _hash_body(request)
        added = await run_in_threadpool(vigil.hashlists.add_hashes, who, name, [pdq], note)
    return ItemsAdded.model_validate(added)


@router.delete("/{name}/items/{pdq}", summary="Remove a hash from a list")
def remove_item(vigil: VigilDep, who: PrincipalDep, name: str, pdq: str) -> ItemRemoved:
    return ItemRemoved.model_validate(vigil.hashlists.remove(who, name, pdq))


@router.get(
    "/{name}/export",
    summary="The list's hashes, one per line or CSV",
    response_class=StreamingResponse,
    responses=answered_in("The hashes as a file", "text/plain", "text/csv", schema=TEXT),
)
def export_list(
    vigil: VigilDep,
    who: PrincipalDep,
    name: str,
    format: Annotated[str, Query(description="plain or csv")] = "plain",
) -> StreamingResponse:
    lines = vigil.hashlists.export(who, name, format)
    media = "text/csv" if format == "csv" else "text/plain"
    return StreamingResponse(lines, media_type=f"{media}; charset=utf-8")


async def _uploaded(request: Request, max_bytes: int) -> tuple[Upload, str]:
    form = await request.form()
    file, note = form.get("file"), form.get("note")
    if not isinstance(file, UploadFile):
        raise InvalidParameter('send the image as the multipart field "file"')
    data = await file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImageTooLarge(f"the upload is larger than the limit of {max_bytes} bytes")
    if not data:
        raise EmptyFile("the uploaded file is empty")
    return Upload(file.filename or "upload", data), note if isinstance(note, str) else ""


async def _hash_body(request: Request) -> tuple[str, str]:
    try:
        body = json.loads(await request.body())
    except (ValueError, RecursionError):  # deeply nested arrays exhaust json's recursion
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("pdq"), str):
        raise InvalidParameter(
            'send {"pdq": "<64 hex characters>", "note": "..."} or a multipart "file"'
        )
    note = body.get("note", "")
    return body["pdq"], note if isinstance(note, str) else ""
