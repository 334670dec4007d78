"""Keys over HTTP (admin only, but for a key's own signing secret; the service checks the
role): list, create, show, revoke, rotate, grants, each key's audit and its notification_url
signing secret. A key's secret is in the answer to create and rotate only."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from vigil.api.deps import PrincipalDep, VigilDep
from vigil.api.schemas.keys import (
    IssuedKeyOut,
    KeyEventList,
    KeyList,
    KeyOut,
    SigningSecretOut,
)
from vigil.service.access.manage import IssuedKey, KeyView

router = APIRouter(prefix="/v1/keys")


class CreateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str = Field(description="admin, uploader or reviewer")
    name: str = Field("", max_length=200, description="A note to tell keys apart")
    kind: Literal["api", "aws"] = Field("api", description="aws: an AWS access key pair")
    expires_at: datetime | None = Field(None, description="When the key stops working")
    expires_in: str | None = Field(None, description="Or a duration from now: 30d, 12h, 2w")
    grants: list[str] = Field([], description="Permissions beyond the role: skip-moderation")


class RotateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_hours: float | None = Field(
        None, ge=0, description="How long the old secret keeps working (default: the setting)"
    )
    expires_at: datetime | None = Field(None, description="A new expiry")
    expires_in: str | None = Field(None, description="Or a new expiry from now: 30d")


def _key(view: KeyView) -> KeyOut:
    return KeyOut.model_validate(view.to_dict())


def _issued(issued: IssuedKey) -> IssuedKeyOut:
    return IssuedKeyOut.model_validate(issued.to_dict())


@router.get("", summary="Every API key and AWS key pair (admin)")
def list_keys(vigil: VigilDep, who: PrincipalDep) -> KeyList:
    return KeyList(keys=[_key(view) for view in vigil.keys.list_keys(who)])


@router.post("", status_code=201, summary="Create a key; its secret is shown only now (admin)")
def create_key(vigil: VigilDep, who: PrincipalDep, body: CreateBody) -> IssuedKeyOut:
    issued = vigil.keys.create(
        who,
        body.role,
        body.name,
        aws=body.kind == "aws",
        expires_at=body.expires_at,
        expires_in=body.expires_in,
        grants=body.grants,
    )
    return _issued(issued)


@router.get("/{key_id}", summary="One key (admin)")
def show_key(vigil: VigilDep, who: PrincipalDep, key_id: str) -> KeyOut:
    return _key(vigil.keys.get(who, key_id))


@router.delete("/{key_id}", summary="Revoke a key, at once, in every process (admin)")
def revoke_key(vigil: VigilDep, who: PrincipalDep, key_id: str) -> KeyOut:
    return _key(vigil.keys.revoke(who, key_id))


@router.post(
    "/{key_id}/rotate",
    summary="A new secret; the old one works for the overlap, then is refused (admin)",
)
def rotate_key(
    vigil: VigilDep, who: PrincipalDep, key_id: str, body: RotateBody | None = None
) -> IssuedKeyOut:
    options = body or RotateBody.model_validate({})
    issued = vigil.keys.rotate(
        who,
        key_id,
        overlap_hours=options.overlap_hours,
        expires_at=options.expires_at,
        expires_in=options.expires_in,
    )
    return _issued(issued)


@router.put("/{key_id}/grants/{grant}", summary="Give a key a grant: skip-moderation (admin)")
def add_grant(vigil: VigilDep, who: PrincipalDep, key_id: str, grant: str) -> KeyOut:
    return _key(vigil.keys.grant(who, key_id, grant))


@router.delete("/{key_id}/grants/{grant}", summary="Take a grant from a key (admin)")
def remove_grant(vigil: VigilDep, who: PrincipalDep, key_id: str, grant: str) -> KeyOut:
    return _key(vigil.keys.revoke_grant(who, key_id, grant))


@router.get("/{key_id}/events", summary="The key's audit, oldest first (admin)")
def key_events(vigil: VigilDep, who: PrincipalDep, key_id: str) -> KeyEventList:
    return KeyEventList.model_validate(
        {"events": [event.to_dict() for event in vigil.keys.events(who, key_id)]}
    )


@router.get(
    "/{key_id}/signing-secret",
    summary="The secret that signs the key's notification_url deliveries (admin, or the key)",
)
def signing_secret(vigil: VigilDep, who: PrincipalDep, key_id: str) -> SigningSecretOut:
    return SigningSecretOut.model_validate(vigil.keys.signing_secret(who, key_id))
