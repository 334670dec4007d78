"""The words of an alert e-mail: a subject an operations team can triage from its inbox, and
a plain-text body with what fired and where to look."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from vigil.service.notices.alert_rules import AlertRule, Match

SUBJECT_LABELS = 5  # more names than this make the subject unreadable in a mail client
MAX_FILENAME = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def subject(filename: str, found: Match) -> str:
    """``[vigil] 2 moderation labels in a.jpg: Nazi Party, Hate Symbols`` for images,
    ``[vigil] 6 flagged segments in clip.mp4`` for videos."""
    name = _printable(filename)[:MAX_FILENAME] or "(no filename)"
    if found.by_segments:
        return f"[vigil] {_count(len(found.segments), 'flagged segment')} in {name}"
    names = [label["Name"] for label in found.labels]
    shown = ", ".join(names[:SUBJECT_LABELS])
    if len(names) > SUBJECT_LABELS:
        shown += f", +{len(names) - SUBJECT_LABELS} more"
    return f"[vigil] {_count(len(names), 'moderation label')} in {name}: {shown}"


def body(rule: AlertRule, event: Mapping[str, Any], found: Match, *, test: bool = False) -> str:
    asset = event["data"]["asset"]
    decision = asset.get("decision") or {}
    lines: list[str] = []
    if test:
        lines += [f"This is a test of alert rule '{rule.name}'; no asset was moderated.", ""]
    lines += [
        f"Alert rule '{rule.name}' ({rule.id}) fired on {event.get('type')}.",
        "",
        f"Asset:    {asset['id']}",
        f"File:     {_printable(asset.get('filename') or '')}",
        f"Status:   {asset.get('status')}",
        f"Decision: {decision.get('action', 'none')}",
        f"API:      /v1/assets/{asset['id']}",
        "",
        f"Rule: {_condition(rule)}",
        "",
        "Matching labels:",
        *(f"  {label['Name']}: {label['Confidence']:.1f}" for label in found.labels),
    ]
    if not found.labels:
        lines.append("  (none)")
    if found.by_segments:
        lines += ["", "Flagged segments:", *(_segment(segment) for segment in found.segments)]
    return "\n".join(lines) + "\n"


def _condition(rule: AlertRule) -> str:
    threshold = f"'{rule.label}' (or a label under it) at {rule.min_confidence:g} or more"
    if rule.min_segments is not None:
        return f"{_count(rule.min_segments, 'segment')} or more with {threshold}"
    return f"{_count(rule.min_labels, 'label')} or more with {threshold}"


def _segment(segment: Mapping[str, Any]) -> str:
    return (
        f"  {segment['start_ms']}-{segment['end_ms']} ms: {segment['label']}: "
        f"{segment['confidence']:.1f}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _printable(text: str) -> str:
    # A filename is the uploader's text: a line break in it must not start a new mail header.
    return _CONTROL.sub(" ", text).strip()
