"""Pure evaluation: labels + policy -> decision with the rule that fired."""

from __future__ import annotations

from collections.abc import Sequence

from vigil import taxonomy
from vigil.labels import ModerationLabel
from vigil.policy.model import SEVERITY, Band, Decision, Policy


def effective_band(policy: Policy, label: str) -> tuple[str, Band] | None:
    """The band that governs ``label``: its own, else its nearest ancestor's."""
    for name in (label, *taxonomy.ancestors(label)):
        band = policy.bands.get(name)
        if band is not None:
            return name, band
    return None


def evaluate(labels: Sequence[ModerationLabel], policy: Policy) -> Decision:
    """The most severe action any directly scored label reaches under its governing band;
    among equals, the most confident, most specific label."""
    best: Decision | None = None
    for label in labels:
        if label.direct is None:
            continue
        governing = effective_band(policy, label.name)
        if governing is None:
            continue
        category, band = governing
        action = band.action_for(label.direct)
        if action == "allow":
            continue
        candidate = Decision(
            action=action,
            rule=f"{category}.{action}",
            policy=policy.name,
            policy_version=policy.version,
            label=label.name,
            confidence=label.direct,
            reason=(
                f"{label.name} at {label.direct:.1f} reached the {action} threshold "
                f"{band.block if action == 'block' else band.review} set on {category}"
            ),
        )
        if best is None or _outranks(candidate, best):
            best = candidate
    return best or Decision(
        action="allow",
        rule="default",
        policy=policy.name,
        policy_version=policy.version,
        reason="no label reached a review or block threshold",
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
