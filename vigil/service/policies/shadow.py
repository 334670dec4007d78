"""Shadow mode: a candidate policy version decides beside the active one on live traffic.
Its would-be decisions are stored with each asset and reported, never acted on."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from vigil.errors import InvalidParameter
from vigil.labels import ModerationLabel
from vigil.policy.context import resolve_context
from vigil.policy.evaluate import evaluate
from vigil.policy.model import Decision, Policy
from vigil.storage.db import Database
from vigil.storage.tables import AssetRow

MAX_EXAMPLES = 20


def shadow_decision(
    labels: Sequence[ModerationLabel],
    candidate: Policy,
    raw_context: Mapping[str, str] | None,
    sample_key: str,
) -> Decision:
    """The candidate's decision. Context it does not accept falls back to its defaults: a
    shadow must never refuse an upload the active policy accepted."""
    now = datetime.now(UTC)
    accepted = {
        key: value for key, value in (raw_context or {}).items() if key in candidate.context
    }
    try:
        context = resolve_context(candidate, accepted, now)
    except InvalidParameter:
        context = resolve_context(candidate, {}, now)
    return evaluate(labels, candidate, context=context, sample_key=sample_key)


def shadow_report(db: Database, name: str, version: int | None = None) -> dict[str, Any]:
    """Where the shadow's would-be decisions differ from the decisions acted on, per shadow
    version (or for one version)."""
    query = select(AssetRow.id, AssetRow.decision, AssetRow.shadow_decision).where(
        AssetRow.shadow_decision.is_not(None)
    )
    totals: Counter[str] = Counter()
    changes: dict[str, Counter[str]] = {}
    examples: dict[str, list[dict[str, str]]] = {}
    with db.session() as session:
        for asset_id, acted, shadow in session.execute(query.order_by(AssetRow.created_at.desc())):
            if shadow is None or acted is None or shadow.get("policy") != name:
                continue
            shadow_version = str(shadow.get("policy_version"))
            if version is not None and shadow_version != str(version):
                continue
            totals[shadow_version] += 1
            if acted["action"] != shadow["action"]:
                change = f"{acted['action']}->{shadow['action']}"
                changes.setdefault(shadow_version, Counter())[change] += 1
                found = examples.setdefault(shadow_version, [])
                if len(found) < MAX_EXAMPLES:
                    found.append({"asset_id": asset_id, "change": change, "rule": shadow["rule"]})
    return {
        "policy": name,
        "versions": [
            {
                "shadow_version": shadow_version,
                "evaluated": count,
                "differ": sum(changes.get(shadow_version, Counter()).values()),
                "changes": dict(changes.get(shadow_version, Counter())),
                "examples": examples.get(shadow_version, []),
            }
            for shadow_version, count in sorted(totals.items())
        ],
    }
