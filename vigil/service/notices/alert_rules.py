"""Alert rules: what a rule is, checking one, and whether it fires on an event. No storage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from vigil import taxonomy
from vigil.errors import InvalidParameter, InvalidPolicy
from vigil.notify.email import check_addresses
from vigil.policy.parsing import check_label
from vigil.service.core.events import (
    APPROVED,
    DECIDED,
    EVENT_TYPES,
    REJECTED,
    REVIEW_REQUIRED,
    VIDEO_COMPLETED,
)

# A decision about an asset: automatic (approved, rejected, review_required) or a person's.
ASSET_EVENTS = (APPROVED, REJECTED, REVIEW_REQUIRED, DECIDED)
VIDEO_EVENT = VIDEO_COMPLETED
MAX_NAME = 100


@dataclass(frozen=True)
class AlertRule:
    name: str
    label: str  # a taxonomy label at any level; its descendants match too
    recipients: tuple[str, ...]
    min_confidence: float = 50.0
    min_labels: int = 1
    min_segments: int | None = None  # set: a video rule, judged on flagged segments
    events: tuple[str, ...] = ()  # empty: every asset decision, or video.completed
    enabled: bool = True
    id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "label": self.label,
            "min_confidence": self.min_confidence,
            "min_labels": self.min_labels,
            "min_segments": self.min_segments,
            "events": list(self.events),
            "recipients": list(self.recipients),
            "enabled": self.enabled,
        }


@dataclass(frozen=True)
class Match:
    """What made a rule fire: the asset's labels under the rule's label at or above its
    confidence, and for a video rule the flagged segments likewise."""

    labels: list[dict[str, Any]]
    segments: list[dict[str, Any]]
    by_segments: bool


def check_rule(rule: AlertRule) -> AlertRule:
    """The rule with defaults filled in and recipients cleaned; InvalidParameter says what is
    wrong."""
    name = rule.name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise InvalidParameter(f"an alert rule's name is 1 to {MAX_NAME} characters")
    if not 0 <= rule.min_confidence <= 100:
        raise InvalidParameter("min_confidence must be between 0 and 100")
    if rule.min_labels < 1:
        raise InvalidParameter("min_labels must be 1 or more")
    if rule.min_segments is not None and rule.min_segments < 1:
        raise InvalidParameter("min_segments must be 1 or more (or left out for images)")
    return replace(
        rule,
        name=name,
        label=_known_label(rule.label),
        recipients=check_addresses(rule.recipients),
        events=_events(rule.events, rule.min_segments),
    )


def _known_label(label: str) -> str:
    # The policy parser's check, so both suggest the same near names for a typo.
    try:
        return check_label(label, "alert rule")
    except InvalidPolicy as exc:
        raise InvalidParameter(exc.message) from None


def _events(events: Sequence[str], min_segments: int | None) -> tuple[str, ...]:
    if not events:
        return (VIDEO_EVENT,) if min_segments is not None else ASSET_EVENTS
    chosen = tuple(dict.fromkeys(events))
    unknown = [event for event in chosen if event not in EVENT_TYPES]
    if unknown:
        raise InvalidParameter(f"unknown event types {unknown} (known: {', '.join(EVENT_TYPES)})")
    # Only video.completed carries segments: a segment rule on other events would never fire.
    if min_segments is not None and chosen != (VIDEO_EVENT,):
        raise InvalidParameter(f"min_segments applies only to the {VIDEO_EVENT} event")
    return chosen


def match(rule: AlertRule, event: Mapping[str, Any]) -> Match | None:
    """What makes ``rule`` fire on ``event``, or None when it does not."""
    if not rule.enabled or event.get("type") not in rule.events:
        return None
    data = event.get("data") or {}
    asset = data.get("asset") or {}
    labels = [
        label
        for label in asset.get("labels") or []
        if label["Confidence"] >= rule.min_confidence
        and _under(rule.label, label["Name"], label.get("ParentName", ""))
    ]
    labels.sort(key=lambda label: -label["Confidence"])
    if rule.min_segments is None:
        return Match(labels, [], by_segments=False) if len(labels) >= rule.min_labels else None
    segments = [
        segment
        for segment in data.get("segments") or []
        if segment["confidence"] >= rule.min_confidence and _under(rule.label, segment["label"])
    ]
    if len(segments) < rule.min_segments:
        return None
    return Match(labels, segments, by_segments=True)


def _under(wanted: str, name: str, parent: str = "") -> bool:
    """``name`` is ``wanted`` or one of its descendants in the taxonomy."""
    if name == wanted:
        return True
    if taxonomy.is_label(name):
        return wanted in taxonomy.ancestors(name)
    # A name from another taxonomy version: its recorded parent is all there is to go on.
    return parent == wanted
