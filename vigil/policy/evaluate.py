"""Pure evaluation: labels + policy + context -> decision with the rule that fired.

No I/O and no clock: the time comes in with the context, and the QA sample is a hash of the
policy name and the caller's ``sample_key``, so the same inputs always give the same decision.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import replace

from vigil import taxonomy
from vigil.labels import ModerationLabel
from vigil.policy import rules
from vigil.policy.context import PolicyContext, default_context
from vigil.policy.model import (
    SEVERITY,
    Annotation,
    Band,
    Decision,
    MatchedRule,
    Policy,
    Rule,
)

# category -> (band, name of the context rule that set it, or None for the policy's own)
BandTable = dict[str, tuple[Band, str | None]]


def effective_band(policy: Policy, label: str) -> tuple[str, Band] | None:
    """The band that governs ``label`` without context: its own, else its nearest ancestor's."""
    found = governing(table(policy, ()), label)
    return None if found is None else (found[0], found[1])


def evaluate(
    labels: Sequence[ModerationLabel],
    policy: Policy,
    *,
    context: PolicyContext | None = None,
    sample_key: str | None = None,
) -> Decision:
    """The most severe action any directly scored label reaches under its governing band
    (context rules swapped in); among equals, the most confident, most specific label.
    Then review triggers (only when that allows) and the QA sample (when ``sample_key`` is
    given and the decision is automatic)."""
    context = context or default_context(policy)
    matched = tuple(rule for rule in policy.rules if rules.holds(rule.when, context))
    bands = table(policy, matched)
    decision = _by_bands(labels, policy, bands) or _by_triggers(labels, policy) or _allowed(policy)
    decision = replace(
        decision,
        annotations=_annotations(labels, bands),
        matched_rules=tuple(MatchedRule(rule.name, rules.describe(rule.when)) for rule in matched),
        context=context.to_dict(),
    )
    return _qa_sampled(decision, policy, sample_key)


def qa_fraction(policy_name: str, sample_key: str) -> float:
    """A stable number in [0, 1) for this policy and item: the QA sample's coin."""
    digest = hashlib.sha256(f"{policy_name}\x00{sample_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def table(policy: Policy, matched: Sequence[Rule]) -> BandTable:
    """Each category's band: the policy's own, swapped for a matched rule's where it sets one.
    Public because ``replay`` relies on it (and on ``governing``) so both decide identically."""
    bands: BandTable = {category: (band, None) for category, band in policy.bands.items()}
    for rule in matched:
        for category, band in rule.bands.items():
            # Overlapping rules agree (the loader refuses them otherwise): cite the first.
            held = bands.get(category)
            if held is None or held[1] is None:
                bands[category] = (band, rule.name)
    return bands


def governing(bands: BandTable, label: str) -> tuple[str, Band, str | None] | None:
    """(category, band, rule) that governs ``label``: its own entry, else its nearest
    ancestor's. Public because ``replay`` relies on it so both decide identically."""
    for name in (label, *taxonomy.ancestors(label)):
        entry = bands.get(name)
        if entry is not None:
            return name, entry[0], entry[1]
    return None


def _judged(
    labels: Sequence[ModerationLabel], bands: BandTable
) -> Iterator[tuple[str, float, str, Band, str | None]]:
    """(label, its own score, governing category, band, rule) for each directly scored label
    that some entry governs."""
    for label in labels:
        if label.direct is None:
            continue
        found = governing(bands, label.name)
        if found is not None:
            yield (label.name, label.direct, *found)


def _by_bands(
    labels: Sequence[ModerationLabel], policy: Policy, bands: BandTable
) -> Decision | None:
    best: Decision | None = None
    for name, score, category, band, source in _judged(labels, bands):
        action = band.action_for(score)
        if action == "allow":
            continue
        threshold = band.threshold(action)
        by_rule = f" by rule '{source}'" if source else ""
        candidate = Decision(
            action=action,
            rule=f"{'' if source is None else f'rules.{source}.'}{category}.{action}",
            policy=policy.name,
            policy_version=policy.version,
            label=name,
            confidence=score,
            threshold=threshold,
            reason=(
                f"{name} at {score:.1f} reached the {action} threshold "
                f"{threshold} set on {category}{by_rule}"
            ),
        )
        if best is None or _outranks(candidate, best):
            best = candidate
    return best


def _by_triggers(labels: Sequence[ModerationLabel], policy: Policy) -> Decision | None:
    """The most confident label inside a review trigger's range (the first trigger on ties)."""
    scores = {label.name: label.direct for label in labels if label.direct is not None}
    best: Decision | None = None
    for trigger in policy.review_triggers:
        score = scores.get(trigger.label)
        if score is None or not trigger.fires(score):
            continue
        if best is None or score > (best.confidence or 0.0):
            best = Decision(
                action="review",
                rule=f"trigger.{trigger.label}",
                policy=policy.name,
                policy_version=policy.version,
                label=trigger.label,
                confidence=score,
                threshold=trigger.low,
                reason=(
                    f"{trigger.label} at {score:.1f} is in the review trigger range "
                    f"{trigger.low:g}-{trigger.high:g} and reached no review or block threshold"
                ),
            )
    return best


def _allowed(policy: Policy) -> Decision:
    return Decision(
        action="allow",
        rule="default",
        policy=policy.name,
        policy_version=policy.version,
        reason="no label reached a review or block threshold",
    )


def _annotations(labels: Sequence[ModerationLabel], bands: BandTable) -> tuple[Annotation, ...]:
    found = [
        Annotation(name, score)
        for name, score, _, band, _ in _judged(labels, bands)
        if band.annotate is not None and score >= band.annotate
    ]
    return tuple(sorted(found, key=lambda note: (-note.confidence, note.name)))


def _qa_sampled(decision: Decision, policy: Policy, sample_key: str | None) -> Decision:
    """Some automatic decisions also go to a person. A sampled block stays blocked (a rejected
    item must stay quarantined) and is only marked; a sampled allow becomes a review."""
    if sample_key is None or decision.action == "review" or policy.qa_percent <= 0:
        return decision
    if qa_fraction(policy.name, sample_key) >= policy.qa_percent / 100:
        return decision
    sample = f"picked for quality review (a {policy.qa_percent:g}% sample of automatic decisions)"
    if decision.action == "block":
        return replace(decision, qa_sample=True, reason=f"{decision.reason}; also {sample}")
    return replace(
        decision,
        action="review",
        rule="qa_sample",
        qa_sample=True,
        reason=f"{decision.reason}; {sample}",
    )


def _outranks(candidate: Decision, held: Decision) -> bool:
    if SEVERITY[candidate.action] != SEVERITY[held.action]:
        return SEVERITY[candidate.action] > SEVERITY[held.action]
    if candidate.confidence != held.confidence:
        return (candidate.confidence or 0.0) > (held.confidence or 0.0)
    # Same score (an ancestor inherits its child's): cite the most specific label.
    return _level(candidate.label) > _level(held.label)


def _level(label: str | None) -> int:
    return taxonomy.get(label).level if label else 0
