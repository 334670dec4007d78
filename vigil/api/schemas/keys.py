"""Response models of /v1/keys (docs/keys.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vigil.api.schemas.base import ApiModel
from vigil.service.core.times import Timestamp


class AccessKeyOut(ApiModel):
    access_key_id: str = Field(description="The AWS access key id (VKIA...)")
    created_at: Timestamp
    expires_at: Timestamp | None = Field(description="Set once a rotation replaced the pair")


class KeyOut(ApiModel):
    id: str
    kind: Literal["api", "aws"] = Field(description="aws: the API key of an AWS key pair")
    name: str
    role: Literal["admin", "uploader", "reviewer"]
    grants: list[str] = Field(description="Permissions beyond the role: skip-moderation")
    status: Literal["active", "expired", "revoked"]
    created_at: Timestamp
    expires_at: Timestamp | None
    last_used_at: Timestamp | None = Field(description="To the minute")
    revoked_at: Timestamp | None
    previous_secret_valid_until: Timestamp | None = Field(
        description="Until when the secret a rotation replaced still works"
    )
    access_keys: list[AccessKeyOut] = Field(description="An aws key's pairs; [] for api keys")


class KeyList(ApiModel):
    keys: list[KeyOut]


class IssuedKeyOut(ApiModel):
    """A new secret: shown in this answer only, never again."""

    key: KeyOut
    secret: str = Field(description="The API key, or the AWS pair's secret access key")
    access_key_id: str | None = Field(description="The AWS pair's access key id; null for api")


class KeyEventOut(ApiModel):
    key_id: str
    actor: str = Field(description="The id of the admin key that acted, or cli")
    action: Literal["create", "revoke", "rotate", "grant", "revoke-grant"]
    detail: str
    at: Timestamp


class KeyEventList(ApiModel):
    events: list[KeyEventOut]


class SigningSecretOut(ApiModel):
    key_id: str
    secret: str = Field(
        description="Signs the notification_url deliveries of this key's uploads (v2; "
        "docs/webhooks.md)"
    )
