"""Policies: names with their active version, versions with their source, shadow reports."""

from __future__ import annotations

from pydantic import Field

from vigil.api.schemas.base import ApiModel
from vigil.service.core.times import Timestamp


class PolicySummary(ApiModel):
    name: str
    active_version: int
    shadow_version: int | None = Field(description="The version evaluated in shadow, if any")
    activated_by: str
    updated_at: Timestamp


class PolicyList(ApiModel):
    policies: list[PolicySummary]


class PolicyVersion(ApiModel):
    version: int
    active: bool
    content_hash: str
    created_by: str
    created_at: Timestamp


class PolicyVersions(ApiModel):
    versions: list[PolicyVersion]


class PolicyDetail(ApiModel):
    """A policy's pointer with one version (the active one unless asked) and its source."""

    name: str
    active_version: int
    shadow_version: int | None
    activated_by: str
    updated_at: Timestamp
    version: int
    active: bool
    content_hash: str
    created_by: str
    created_at: Timestamp
    source: str = Field(description="The policy as submitted, YAML or JSON")


class SubmittedPolicy(PolicyDetail):
    created: bool = Field(description="False when the text equals the latest version's")


class ShadowExample(ApiModel):
    asset_id: str
    change: str = Field(description='"<acted action>-><shadow action>"')
    rule: str


class ShadowVersionReport(ApiModel):
    shadow_version: str
    evaluated: int
    differ: int
    changes: dict[str, int] = Field(description="Count per change, e.g. allow->block")
    examples: list[ShadowExample]


class ShadowReport(ApiModel):
    """Where a shadow version's would-be decisions differ from those acted on."""

    policy: str
    versions: list[ShadowVersionReport]
