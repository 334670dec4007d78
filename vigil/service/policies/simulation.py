"""Policy simulation: what a candidate policy would have decided on the assets already stored,
against the active version and against people's final decisions.

Nothing is detected again: each asset's stored detections are replayed (``vigil.policy.replay``
does the deciding, this module the reading and the report). Thresholds suggested by people's
decisions are in ``vigil.service.policies.suggestions``."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from vigil import taxonomy
from vigil.errors import InvalidParameter
from vigil.policy.loader import parse_policy
from vigil.policy.model import Action, Policy
from vigil.policy.replay import Replay, StoredContext, direct_scores
from vigil.service.core.status import Mode, Status
from vigil.service.core.times import iso, utc
from vigil.service.policies.repository import PolicyRepository
from vigil.storage.db import Database
from vigil.storage.tables import AssetRow, AuditEventRow

CHUNK = 2000  # rows fetched per round trip while streaming
MODERATED = (Mode.AUTO.value, Mode.MANUAL.value)
FINAL = (Status.APPROVED.value, Status.REJECTED.value)
ACTIONS: tuple[Action, ...] = ("allow", "review", "block")


# -- the time window ------------------------------------------------------------------------

_SPAN = re.compile(r"(\d{1,6})([hdw])")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_since(text: str | None, now: datetime | None = None) -> datetime | None:
    """``12h``, ``30d`` or ``2w`` before ``now``, or an ISO 8601 date or time (UTC unless it
    says otherwise). ``None`` or empty: no limit."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    span = _SPAN.fullmatch(text)
    try:
        if span:
            return (now or datetime.now(UTC)) - int(span[1]) * _UNITS[span[2]]
        moment = datetime.fromisoformat(text)
    except OverflowError:
        raise InvalidParameter(f"since '{text}' reaches back before the year 1") from None
    except ValueError:
        raise InvalidParameter(
            f"since '{text}' is neither a span like 12h, 30d or 2w nor an ISO 8601 date"
        ) from None
    return utc(moment)


# -- reading stored assets --------------------------------------------------------------------


@dataclass(frozen=True)
class StoredAsset:
    id: str
    sha256: str
    direct: dict[str, float]
    context: StoredContext


def stored_assets(db: Database, since: datetime | None) -> Iterator[StoredAsset]:
    """Moderated assets with detections, streamed in chunks, only the columns replay needs:
    of the decision, only its context (decoding whole decisions took half the time)."""
    query = select(
        AssetRow.id,
        AssetRow.sha256,
        AssetRow.detections,
        AssetRow.decision["context"],
        AssetRow.created_at,
    ).where(AssetRow.moderation_mode.in_(MODERATED))
    if since is not None:
        query = query.where(AssetRow.created_at >= since)
    # A Core connection, not a session: plain rows, no ORM loading machinery per row.
    with db.engine.connect() as connection:
        rows = connection.execution_options(yield_per=CHUNK).execute(query)
        for asset_id, sha256, detections, stored, created_at in rows:
            if detections:
                context = StoredContext.read(stored, created_at)
                yield StoredAsset(asset_id, sha256, direct_scores(detections), context)


def final_decisions(db: Database, since: datetime | None) -> dict[str, str]:
    """Asset id -> ``approved`` or ``rejected``: the latest override, people's final word."""
    query = (
        select(AuditEventRow.asset_id, AuditEventRow.to_status)
        .join(AssetRow, AssetRow.id == AuditEventRow.asset_id)
        .where(AuditEventRow.action == "override")
        .order_by(AuditEventRow.id)
    )
    if since is not None:
        query = query.where(AssetRow.created_at >= since)
    with db.session() as session:
        latest = {asset: status for asset, status in session.execute(query)}  # latest wins
    return {asset: status for asset, status in latest.items() if status in FINAL}


# -- the report -------------------------------------------------------------------------------


@dataclass
class Agreement:
    """One policy's would-be decisions against people's final ones. Blocked but approved is a
    false positive, allowed but rejected a false negative; a review is neither, it is counted
    as sent to review and left out of the agreement rate."""

    outcomes: Counter[str] = field(default_factory=Counter)
    by_category: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, action: Action, person: str, category: str) -> None:
        if action == "review":
            outcome = "sent_to_review"
        elif action == "block":
            outcome = "agreed" if person == Status.REJECTED else "false_positives"
        else:
            outcome = "agreed" if person == Status.APPROVED else "false_negatives"
        self.outcomes[outcome] += 1
        if outcome != "agreed":
            self.by_category.setdefault(category, Counter())[outcome] += 1

    @property
    def rate(self) -> float | None:
        automatic = self.outcomes.total() - self.outcomes["sent_to_review"]
        return round(self.outcomes["agreed"] / automatic, 4) if automatic else None

    def words(self) -> str:
        review = self.outcomes["sent_to_review"]
        if self.rate is None:
            return f"sends all {review} to review"
        automatic = self.outcomes.total() - review
        return (
            f"agrees on {self.rate:.1%} of the {automatic} it decides itself "
            f"({self.outcomes['false_positives']} false positives, "
            f"{self.outcomes['false_negatives']} false negatives, {review} sent to review)"
        )

    def to_dict(self) -> dict[str, Any]:
        kinds = ("false_positives", "false_negatives", "sent_to_review")
        return {
            "decided": self.outcomes.total(),
            "agreed": self.outcomes["agreed"],
            "agreement": self.rate,
            **{kind: self.outcomes[kind] for kind in kinds},
            "by_category": {
                category: {kind: counts[kind] for kind in kinds}
                for category, counts in sorted(self.by_category.items())
            },
        }


@dataclass(frozen=True)
class SimulationReport:
    candidate: tuple[str, str]  # (name, version)
    active: tuple[str, str]
    since: datetime | None
    candidate_actions: Counter[str]
    active_actions: Counter[str]
    changes: Counter[tuple[str, str]]  # (active action, candidate action) where they differ
    context_fallbacks: int
    candidate_people: Agreement
    active_people: Agreement

    @property
    def total(self) -> int:
        return self.candidate_actions.total()

    def to_dict(self) -> dict[str, Any]:
        changed = self.changes.total()
        return {
            "candidate": {"name": self.candidate[0], "version": self.candidate[1]},
            "active": {"name": self.active[0], "version": self.active[1]},
            "since": None if self.since is None else iso(self.since),
            "total": self.total,
            "candidate_actions": _shares(self.candidate_actions, self.total),
            "active_actions": _shares(self.active_actions, self.total),
            "changed": {
                "count": changed,
                "share": _share(changed, self.total),
                "by_transition": [
                    {"from": before, "to": after, "count": count}
                    for (before, after), count in self.changes.most_common()
                ],
            },
            "context_fallbacks": self.context_fallbacks,
            "people": {
                "candidate": self.candidate_people.to_dict(),
                "active": self.active_people.to_dict(),
            },
        }

    def summary(self) -> str:
        """The report in a few sentences, for a terminal."""

        def mix(counts: Counter[str]) -> str:
            return ", ".join(f"{a} {_share(counts[a], self.total):.1%}" for a in ACTIONS)

        changed = self.changes.total()
        lines = [
            f"Replayed {self.total} assets.",
            f"Candidate {_named(self.candidate)}: {mix(self.candidate_actions)}.",
            f"Active {_named(self.active)}: {mix(self.active_actions)}.",
            f"{changed} decisions change ({_share(changed, self.total):.1%}).",
        ]
        if self.candidate_people.outcomes:
            lines.append(
                f"People decided {self.candidate_people.outcomes.total()} of these. "
                f"Candidate: {self.candidate_people.words()}. "
                f"Active: {self.active_people.words()}."
            )
        if self.context_fallbacks:
            lines.append(
                f"{self.context_fallbacks} stored contexts had values the candidate refuses; "
                "its defaults were used."
            )
        return "\n".join(lines)


def _named(policy: tuple[str, str]) -> str:
    return f"'{policy[0]}' (version {policy[1]})"


def _share(count: int, total: int) -> float:
    return round(count / total, 4) if total else 0.0


def _shares(counts: Counter[str], total: int) -> dict[str, dict[str, float | int]]:
    return {a: {"count": counts[a], "share": _share(counts[a], total)} for a in ACTIONS}


def _category(label: str | None, direct: Mapping[str, float]) -> str:
    """The top-level category a verdict is filed under: its deciding label's, else (nothing
    fired) that of the highest score, the nearest miss."""
    if label is None:
        if not direct:
            return "none"
        label = max(direct, key=direct.__getitem__)
    return taxonomy.top_level(label)


def simulate(
    db: Database, candidate: Policy, active: Policy, since: datetime | None
) -> SimulationReport:
    """Replay every moderated asset created since ``since`` under both policies."""
    people = final_decisions(db, since)
    ours, theirs = Replay(candidate), Replay(active)
    ours_counts: Counter[str] = Counter()
    theirs_counts: Counter[str] = Counter()
    changes: Counter[tuple[str, str]] = Counter()
    ours_people, theirs_people = Agreement(), Agreement()
    for asset in stored_assets(db, since):
        mine = ours.verdict(asset.direct, asset.context, asset.sha256)
        held = theirs.verdict(asset.direct, asset.context, asset.sha256)
        ours_counts[mine[0]] += 1
        theirs_counts[held[0]] += 1
        if mine[0] != held[0]:
            changes[(held[0], mine[0])] += 1
        person = people.get(asset.id)
        if person is not None:
            ours_people.add(mine[0], person, _category(mine[1], asset.direct))
            theirs_people.add(held[0], person, _category(held[1], asset.direct))
    return SimulationReport(
        candidate=(candidate.name, candidate.version),
        active=(active.name, active.version),
        since=since,
        candidate_actions=ours_counts,
        active_actions=theirs_counts,
        changes=changes,
        context_fallbacks=ours.fallbacks,
        candidate_people=ours_people,
        active_people=theirs_people,
    )


def simulate_text(
    db: Database,
    policies: PolicyRepository,
    text: str,
    *,
    against: str | None,
    since: datetime | None,
    origin: str = "candidate policy",
) -> SimulationReport:
    """Validate ``text`` (nothing is stored) and simulate it against the active version of
    ``against``, by default the policy of the same name."""
    candidate = parse_policy(text, source=origin)
    return simulate(db, candidate, policies.get(against or candidate.name), since)
