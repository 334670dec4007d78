"""A decision in words: what happened, which label and score, which threshold from where,
which context rules applied. Works from a stored decision dict as well (older ones too)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.policy.model import Decision

_OPENING = {
    "block": "Blocked (rejected into quarantine)",
    "review": "Sent to a person for review",
    "allow": "Allowed",
}


def explain(decision: Decision | Mapping[str, Any]) -> str:
    """A few sentences saying why ``decision`` came out as it did."""
    if not isinstance(decision, Decision):
        decision = Decision.from_dict(decision)
    sentences = [
        f"{_OPENING[decision.action]} by policy '{decision.policy}' "
        f"(version {decision.policy_version}).",
        _why(decision),
        _rules(decision),
        _context(decision),
        _annotations(decision),
    ]
    if decision.qa_sample and decision.action == "block":
        sentences.append(
            "It was also picked for the policy's quality-review sample: it stays blocked and "
            "is marked for a person to check."
        )
    return " ".join(sentence for sentence in sentences if sentence)


def _why(decision: Decision) -> str:
    if decision.rule == "default":
        return "No label reached a review or block threshold."
    if decision.rule == "qa_sample":
        return (
            "No label reached a review or block threshold, but the item was picked for the "
            "policy's random quality-review sample of automatic decisions."
        )
    if decision.rule.startswith("trigger.") or decision.threshold is None:
        return _sentence(decision.reason)  # triggers, and decisions stored before thresholds
    rule_name, category = _origin(decision.rule)
    source = f"context rule '{rule_name}'" if rule_name else "the policy"
    owner = f"'{category}'"
    if decision.label != category:
        owner += f" (which {decision.label} belongs to)"
    return (
        f"{decision.label} scored {decision.confidence or 0.0:.1f}, at or above the "
        f"{decision.action} threshold {decision.threshold:g} that {source} sets on {owner}."
    )


def _origin(rule: str) -> tuple[str | None, str]:
    """``rules.minors.Swimwear or Underwear.review`` -> ("minors", "Swimwear or Underwear");
    rule names have no dots and neither do taxonomy names."""
    parts = rule.split(".")
    if parts[0] == "rules" and len(parts) >= 4:
        return parts[1], ".".join(parts[2:-1])
    return None, ".".join(parts[:-1])


def _rules(decision: Decision) -> str:
    if not decision.matched_rules:
        return ""
    parts = [f"'{rule.name}' (because {rule.when})" for rule in decision.matched_rules]
    noun = "rule" if len(parts) == 1 else "rules"
    return f"Context {noun} {', '.join(parts)} applied."


def _context(decision: Decision) -> str:
    shown = [
        f"{key} {value}"
        for key, value in decision.context.items()
        if key not in ("now", "content_types") and value is not None
    ]
    if decision.context.get("now"):
        shown.append(f"time {decision.context['now']}")
    if decision.context.get("content_types"):
        shown.append(f"content {' and '.join(decision.context['content_types'])}")
    return f"Context: {', '.join(shown)}." if shown else ""


def _annotations(decision: Decision) -> str:
    if not decision.annotations:
        return ""
    notes = ", ".join(f"{note.name} ({note.confidence:.1f})" for note in decision.annotations)
    return f"Recorded without action: {notes}."


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")
