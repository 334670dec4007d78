"""A policy: per-category bands (allow below review, review up to block, block at or above)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Action = Literal["allow", "review", "block"]
SEVERITY: dict[str, int] = {"allow": 0, "review": 1, "block": 2}


@dataclass(frozen=True)
class Band:
    """Thresholds (0-100) for one category; ``None`` means that band is never reached."""

    review: float | None = None
    block: float | None = None
    ignore: bool = False

    def action_for(self, confidence: float) -> Action:
        if self.ignore:
            return "allow"
        if self.block is not None and confidence >= self.block:
            return "block"
        if self.review is not None and confidence >= self.review:
            return "review"
        return "allow"


@dataclass(frozen=True)
class Policy:
    name: str
    version: str  # content hash of the source text: a changed file is a new version
    description: str
    bands: dict[str, Band] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    action: Action
    rule: str  # "<category>.<band>" that fired, or "default" when nothing did
    policy: str
    policy_version: str
    label: str | None = None
    confidence: float | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "rule": self.rule,
            "policy": self.policy,
            "policy_version": self.policy_version,
            "label": self.label,
            "confidence": None if self.confidence is None else round(self.confidence, 3),
            "reason": self.reason,
        }
