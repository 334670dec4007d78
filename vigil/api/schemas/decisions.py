"""A policy's decision on one image, as ``POST /v1/moderate`` answers it and assets store it."""

from __future__ import annotations

from pydantic import MISSING, JsonValue

from vigil.api.schemas.base import ApiModel
from vigil.api.schemas.labels import FusionAdjustment


class Annotation(ApiModel):
    name: str
    confidence: float


class MatchedRule(ApiModel):
    """A context rule whose conditions held, its conditions in words."""

    name: str
    when: str


class Decision(ApiModel):
    """Decisions stored before a key existed lack it: those keys are optional."""

    action: str
    rule: str
    policy: str
    policy_version: str
    label: str | MISSING | None = MISSING
    confidence: float | MISSING | None = MISSING
    reason: str | MISSING = MISSING
    threshold: float | MISSING | None = MISSING
    annotations: list[Annotation] | MISSING = MISSING
    qa_sample: bool | MISSING = MISSING
    matched_rules: list[MatchedRule] | MISSING = MISSING
    context: dict[str, JsonValue] | MISSING = MISSING  # the policy context it was made in
    fusion: list[FusionAdjustment] | MISSING = MISSING  # stored with assets, when fusion acted
