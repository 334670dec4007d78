"""Review queues' vocabulary and the pure helpers around review items (no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from vigil import taxonomy
from vigil.service.core.times import iso
from vigil.service.review.people import PersonRole
from vigil.storage.tables import AssetRow, ReviewDecisionRow, ReviewItemRow, VideoRow

# The most labels an item page lists, strongest first.
MAX_LABELS = 15


class Queue(StrEnum):
    FIRST_PASS = "first_pass"  # the policy's review band and review triggers, manual uploads
    APPEAL = "appeal"  # an uploader asked for a rejection to be looked at again
    QA = "qa"  # a sample of automatic decisions, to check the policy
    ESCALATION = "escalation"  # for leads: escalated items and reviewer disagreements


class ItemState(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    DONE = "done"


class Verdict(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    ESCALATE = "escalate"


# Outcome of an item closed without a verdict: the asset was decided some other way.
SUPERSEDED = "superseded"
DISAGREED = "disagreed"
QUEUE_ROLE = {
    Queue.FIRST_PASS: PersonRole.REVIEWER,
    Queue.APPEAL: PersonRole.REVIEWER,
    Queue.QA: PersonRole.REVIEWER,
    Queue.ESCALATION: PersonRole.LEAD,
}
TARGET_STATUS = {Verdict.APPROVE: "approved", Verdict.REJECT: "rejected"}


def machine_action(decision: dict[str, Any] | None) -> str | None:
    """What the machine did on its own: a QA-sampled allow is shown as review, but the
    machine had allowed it."""
    if not decision:
        return None
    if decision.get("rule") == "qa_sample":
        return "allow"
    return str(decision.get("action"))


def asset_category(row: AssetRow) -> str:
    """The top-level category an asset is counted under: the one behind the machine's
    decision, else its most confident label's, else "none"."""
    label = (row.decision or {}).get("label")
    if not label and row.labels:
        label = max(row.labels, key=lambda item: float(item["Confidence"]))["Name"]
    return taxonomy.top_level(label) if label and taxonomy.is_label(label) else "none"


# The default reject reasons (VIGIL_REVIEW_REJECT_REASONS) that name a category, and the
# top-level category each names; "spam" and "other" name none.
REASON_CATEGORIES = {
    "nudity": "Explicit",
    "sexual content": "Explicit",
    "violence": "Violence",
    "gore": "Violence",
    "hate symbol": "Hate Symbols",
    "drugs": "Drugs & Tobacco",
}
# Operators may name reasons after taxonomy labels ("Weapons", "Hate Symbols"), in any case.
_LABEL_BY_FOLDED = {name.casefold(): name for name in (*taxonomy.LABELS, *taxonomy.VIGIL_LABELS)}


def reason_category(reason: str) -> str | None:
    """The top-level category a reject reason names, if it names one."""
    folded = reason.strip().casefold()
    if folded in REASON_CATEGORIES:
        return REASON_CATEGORIES[folded]
    label = _LABEL_BY_FOLDED.get(folded)
    return taxonomy.top_level(label) if label else None


def decision_category(verdict: str, reason: str, fallback: str) -> str:
    """The category a person's decision counts under: a rejection under the category its
    reason names, since that is what the person judged (not the asset's top label, which may
    be a weak one); otherwise (an approval, or a reason such as "spam") under ``fallback``,
    the asset's category (``asset_category``: the label that sent it to review, else its top
    label)."""
    named = reason_category(reason) if verdict == Verdict.REJECT else None
    return named or fallback


def boxes(row: AssetRow, min_confidence: float) -> list[dict[str, Any]]:
    """Detections with regions, for drawing on the preview."""
    return [
        {"name": found["Name"], "confidence": found["Confidence"], **found["BoundingBox"]}
        for found in row.detections
        if found.get("BoundingBox") and float(found["Confidence"]) >= min_confidence
    ]


def item_view(row: ReviewItemRow, decisions: list[ReviewDecisionRow]) -> dict[str, Any]:
    return {
        "id": row.id,
        "asset_id": row.asset_id,
        "queue": row.queue,
        "state": row.state,
        "reviews_needed": row.reviews_needed,
        "claimed_by": row.claimed_by if row.state == ItemState.CLAIMED else None,
        "claim_expires_at": _epoch_iso(row.claim_expires_at)
        if row.state == ItemState.CLAIMED
        else None,
        "opened_by": row.opened_by,
        "message": row.message,
        "outcome": row.outcome,
        "created_at": iso(row.created_at),
        "decided_at": iso(row.decided_at) if row.decided_at else None,
        "decisions": [decision_view(decision) for decision in decisions],
    }


def decision_view(row: ReviewDecisionRow) -> dict[str, Any]:
    return {
        "actor": row.actor,
        "decision": row.decision,
        "reason": row.reason,
        "note": row.note,
        "machine_action": row.machine_action,
        "category": row.category,
        "disagreed": row.disagreed,
        "at": iso(row.created_at),
    }


def audit_reason(verdict: Verdict, reason: str, note: str) -> str:
    """The audit log's reason text for a reviewer's verdict."""
    parts = [f"review: {verdict.value}", reason, note]
    return "; ".join(part for part in parts if part)


def _epoch_iso(moment: float | None) -> str | None:
    return None if moment is None else datetime.fromtimestamp(moment, UTC).isoformat()


def evidence_labels(row: AssetRow) -> list[dict[str, Any]]:
    """Every label the detectors gave, weak ones too: a reviewer judges borderline items."""
    ranked = sorted(row.labels, key=lambda label: -float(label["Confidence"]))
    return ranked[:MAX_LABELS]


def evidence_segments(video: VideoRow | None) -> list[dict[str, Any]]:
    """Flagged segments of a video, tolerant of fields a video may not have yet."""
    if video is None:
        return []
    found = []
    for segment in video.segments or []:
        start = int(segment.get("StartTimestampMillis", 0))
        found.append(
            {
                "start_ms": start,
                "end_ms": int(segment.get("EndTimestampMillis", start)),
                "name": segment.get("Name") or segment.get("ModerationLabel", {}).get("Name", ""),
                "thumbnail": segment.get("Thumbnail"),
            }
        )
    return found
