"""A policy: per-category bands (allow below review, review up to block, block at or above),
context rules that swap bands in for some requests, review triggers and a QA sample."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

Action = Literal["allow", "review", "block"]
SEVERITY: dict[str, int] = {"allow": 0, "review": 1, "block": 2}


@dataclass(frozen=True)
class Band:
    """Thresholds (0-100) for one category; ``None`` means that band is never reached.

    ``annotate`` (a minimum confidence, ``None`` when off) records the label in the decision
    without acting on it.
    """

    review: float | None = None
    block: float | None = None
    ignore: bool = False
    annotate: float | None = None

    def action_for(self, confidence: float) -> Action:
        if self.ignore:
            return "allow"
        if self.block is not None and confidence >= self.block:
            return "block"
        if self.review is not None and confidence >= self.review:
            return "review"
        return "allow"

    def threshold(self, action: Action) -> float | None:
        return self.block if action == "block" else self.review if action == "review" else None


@dataclass(frozen=True)
class ContextKey:
    """One context key a policy expects: its default (``None``: unknown unless the request
    says) and the values it accepts (``None``: any well-formed value)."""

    name: str
    default: str | None = None
    values: frozenset[str] | None = None


@dataclass(frozen=True)
class TimeWindow:
    """Local wall-clock minutes ``[start, end)`` in ``tz``; wraps past midnight when
    ``start > end``."""

    start: int  # minutes after midnight
    end: int
    tz: ZoneInfo

    def contains(self, now: datetime) -> bool:
        local = now.astimezone(self.tz)
        minute = local.hour * 60 + local.minute
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def describe(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)} {self.tz.key}"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class Conditions:
    """What a context rule needs; ``None`` means that key is not constrained."""

    region: frozenset[str] | None = None
    audience: frozenset[str] | None = None
    surface: frozenset[str] | None = None
    trust: frozenset[str] | None = None
    time: TimeWindow | None = None
    content_types: frozenset[str] | None = None


@dataclass(frozen=True)
class Rule:
    name: str
    when: Conditions
    bands: dict[str, Band]


@dataclass(frozen=True)
class ReviewTrigger:
    """Review when ``label``'s own score is in ``[low, high)`` (``high`` 100 includes 100)."""

    label: str
    low: float
    high: float

    def fires(self, confidence: float) -> bool:
        return self.low <= confidence < self.high or (self.high == 100 and confidence == 100)


@dataclass(frozen=True)
class Policy:
    name: str
    version: str  # content hash of the source text: a changed file is a new version
    description: str
    bands: dict[str, Band] = field(default_factory=dict)
    context: dict[str, ContextKey] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    review_triggers: tuple[ReviewTrigger, ...] = ()
    qa_percent: float = 0.0


@dataclass(frozen=True)
class Annotation:
    """A label recorded in a decision without any action."""

    name: str
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "confidence": round(self.confidence, 3)}


@dataclass(frozen=True)
class MatchedRule:
    """A context rule whose conditions held, with its conditions in words (stored with the
    decision so that an explanation survives later edits of the policy)."""

    name: str
    when: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "when": self.when}


@dataclass(frozen=True)
class Decision:
    action: Action
    # "<category>.<action>", "rules.<rule>.<category>.<action>", "trigger.<label>",
    # "qa_sample", or "default" when nothing fired
    rule: str
    policy: str
    policy_version: str
    label: str | None = None
    confidence: float | None = None
    reason: str = ""
    threshold: float | None = None  # the band threshold or trigger minimum that fired
    annotations: tuple[Annotation, ...] = ()
    qa_sample: bool = False
    matched_rules: tuple[MatchedRule, ...] = ()
    context: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "rule": self.rule,
            "policy": self.policy,
            "policy_version": self.policy_version,
            "label": self.label,
            "confidence": None if self.confidence is None else round(self.confidence, 3),
            "reason": self.reason,
            "threshold": self.threshold,
            "annotations": [annotation.to_dict() for annotation in self.annotations],
            "qa_sample": self.qa_sample,
            "matched_rules": [matched.to_dict() for matched in self.matched_rules],
            "context": dict(self.context),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        """The inverse of ``to_dict``; decisions stored before a key existed get its default."""
        confidence, threshold = data.get("confidence"), data.get("threshold")
        return cls(
            action=data["action"],
            rule=data["rule"],
            policy=data["policy"],
            policy_version=data["policy_version"],
            label=data.get("label"),
            confidence=None if confidence is None else float(confidence),
            reason=data.get("reason", ""),
            threshold=None if threshold is None else float(threshold),
            annotations=tuple(
                Annotation(item["name"], float(item["confidence"]))
                for item in data.get("annotations", [])
            ),
            qa_sample=bool(data.get("qa_sample", False)),
            matched_rules=tuple(
                MatchedRule(item["name"], item["when"]) for item in data.get("matched_rules", [])
            ),
            context=dict(data.get("context", {})),
        )
