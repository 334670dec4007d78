"""Policy simulation: what a candidate policy would have decided on the assets already stored,
and block/review thresholds suggested by people's final decisions.

Nothing is detected again: each asset's stored detections are replayed. ``Replay`` gives
exactly ``evaluate``'s action and deciding label (tests hold it to that), but reads direct
scores straight from the stored dicts and caches everything that does not depend on the scores
(the resolved context, the rules that match, each label's governing band), so replaying
100,000 assets takes seconds."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from vigil import taxonomy
from vigil.errors import InvalidParameter
from vigil.policy import rules
from vigil.policy.context import CONTENT_TYPES, CONTEXT_KEYS, PolicyContext, value_problem
from vigil.policy.evaluate import BandTable, _governing, _table, qa_fraction
from vigil.policy.loader import parse_policy
from vigil.policy.model import SEVERITY, Action, Band, Policy
from vigil.service.assets import Mode, Status
from vigil.service.policies import PolicyRepository
from vigil.storage.db import Database
from vigil.storage.tables import AssetRow, AuditEventRow

CHUNK = 2000  # rows fetched per round trip while streaming
MIN_DECISIONS = 20  # fewer people's decisions than this in a category: no suggestion
MODERATED = (Mode.AUTO.value, Mode.MANUAL.value)
FINAL = (Status.APPROVED.value, Status.REJECTED.value)
ACTIONS: tuple[Action, ...] = ("allow", "review", "block")

# The action and the label that decided it (None when nothing fired).
Verdict = tuple[Action, str | None]


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
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- replaying one asset ----------------------------------------------------------------------


def direct_scores(detections: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Each label's highest own score, as ``build_labels`` keeps it in ``direct``. Names the
    taxonomy no longer has are skipped: one old row must not stop a replay."""
    direct: dict[str, float] = {}
    for found in detections:
        name = found["Name"]
        if name in taxonomy.LABELS:
            direct[name] = max(direct.get(name, 0.0), float(found["Confidence"]))
    return direct


@dataclass(frozen=True)
class StoredContext:
    """The context stored with a decision, read once per asset for every policy replayed."""

    values: tuple[Any, ...]  # in CONTEXT_KEYS order, as stored: a policy may refuse some
    content_types: frozenset[str]
    now: datetime

    @classmethod
    def read(cls, stored: Mapping[str, Any] | None, created_at: datetime) -> StoredContext:
        """From a decision's ``context``; decisions that lack one (or its time) get the
        upload time."""
        stored = stored or {}
        types = frozenset(stored.get("content_types") or ()) & CONTENT_TYPES
        values = tuple(stored.get(key) for key in CONTEXT_KEYS)
        return cls(values, types, _stored_now(stored.get("now"), created_at))


class Replay:
    """``evaluate``'s action and deciding label for one policy, from an asset's direct scores
    and the context stored with its decision."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.fallbacks = 0  # assets whose stored context had a value this policy refuses
        self._timed = any(rule.when.time is not None for rule in policy.rules)
        self._contexts: dict[tuple[Any, ...], tuple[tuple[str | None, ...], bool]] = {}
        self._matched: dict[tuple[Any, ...], tuple[int, ...]] = {}
        self._tables: dict[tuple[int, ...], BandTable] = {}
        self._bands: dict[tuple[tuple[int, ...], str], Band | None] = {}

    def verdict(
        self, direct: Mapping[str, float], context: StoredContext, sample_key: str | None
    ) -> Verdict:
        matched = self._matching(context)
        found = self._by_bands(direct, matched) or self._by_triggers(direct) or ("allow", None)
        return self._qa_sampled(found, sample_key)

    # -- context ------------------------------------------------------------------------------

    def _matching(self, stored: StoredContext) -> tuple[int, ...]:
        """Indexes of the policy's rules that hold in the stored context."""
        values = self._values(stored.values)
        if not self.policy.rules:
            return ()
        types, now = stored.content_types, stored.now if self._timed else None
        key = (values, types, now)
        found = self._matched.get(key)
        if found is None:
            region, audience, surface, trust = values
            context = PolicyContext(region, audience, surface, trust, now, types)
            found = tuple(
                index
                for index, rule in enumerate(self.policy.rules)
                if rules.holds(rule.when, context)
            )
            if not self._timed:  # every upload has its own time: caching those only costs memory
                self._matched[key] = found
        return found

    def _values(self, given: tuple[Any, ...]) -> tuple[str | None, ...]:
        hit = self._contexts.get(given)
        if hit is None:
            hit = self._contexts[given] = self._resolve(given)
        values, fell_back = hit
        self.fallbacks += fell_back
        return values

    def _resolve(self, given: tuple[Any, ...]) -> tuple[tuple[str | None, ...], bool]:
        """Stored values over this policy's defaults; a value it does not accept takes its
        default instead (and is counted), a key it does not declare stays unknown."""
        values: list[str | None] = []
        fell_back = False
        for name, value in zip(CONTEXT_KEYS, given, strict=True):
            key = self.policy.context.get(name)
            if key is None:
                values.append(None)
            elif value is None:
                values.append(key.default)
            elif isinstance(value, str) and value_problem(name, value, key.values) is None:
                values.append(value)
            else:
                values.append(key.default)
                fell_back = True
        return tuple(values), fell_back

    # -- bands, triggers, sample --------------------------------------------------------------

    def _band(self, matched: tuple[int, ...], label: str) -> Band | None:
        key = (matched, label)
        if key in self._bands:
            return self._bands[key]
        table = self._tables.get(matched)
        if table is None:
            chosen = [self.policy.rules[index] for index in matched]
            table = self._tables[matched] = _table(self.policy, chosen)
        found = _governing(table, label)
        band = self._bands[key] = None if found is None else found[1]
        return band

    def _by_bands(self, direct: Mapping[str, float], matched: tuple[int, ...]) -> Verdict | None:
        best: tuple[int, float, int] | None = None
        verdict: Verdict | None = None
        for label, score in direct.items():
            band = self._band(matched, label)
            if band is None:
                continue
            action = band.action_for(score)
            if action == "allow":
                continue
            rank = (SEVERITY[action], score, taxonomy.get(label).level)
            held = verdict[1] if verdict else None
            if best is None or rank > best or (rank == best and _met_first(direct, label, held)):
                best, verdict = rank, (action, label)
        return verdict

    def _by_triggers(self, direct: Mapping[str, float]) -> Verdict | None:
        best: float | None = None
        label: str | None = None
        for trigger in self.policy.review_triggers:
            score = direct.get(trigger.label)
            if score is not None and trigger.fires(score) and (best is None or score > best):
                best, label = score, trigger.label
        return None if label is None else ("review", label)

    def _qa_sampled(self, verdict: Verdict, sample_key: str | None) -> Verdict:
        action, percent = verdict[0], self.policy.qa_percent
        if sample_key is None or action == "review" or percent <= 0:
            return verdict
        if qa_fraction(self.policy.name, sample_key) >= percent / 100:
            return verdict
        return verdict if action == "block" else ("review", None)  # a sampled block stays


def _met_first(direct: Mapping[str, float], label: str, held: str | None) -> bool:
    """Whether ``evaluate`` meets ``label`` before ``held`` among labels of equal rank: it
    walks labels by merged confidence (a label's own or a descendant's), then name."""
    if held is None:
        return True
    mine, theirs = _merged(direct, label), _merged(direct, held)
    return mine > theirs or (mine == theirs and label < held)


def _merged(direct: Mapping[str, float], label: str) -> float:
    found = max(
        score
        for name, score in direct.items()
        if name == label or label in taxonomy.ancestors(name)
    )
    return min(100.0, max(0.0, found))


def _stored_now(text: Any, created_at: datetime) -> datetime:
    if isinstance(text, str):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return created_at
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return created_at


def _category(label: str | None, direct: Mapping[str, float]) -> str:
    """The top-level category a verdict is filed under: its deciding label's, else (nothing
    fired) that of the highest score, the nearest miss."""
    if label is None:
        if not direct:
            return "none"
        label = max(direct, key=direct.__getitem__)
    return taxonomy.top_level(label)


# -- reading stored assets --------------------------------------------------------------------


@dataclass(frozen=True)
class StoredAsset:
    id: str
    sha256: str
    direct: dict[str, float]
    context: StoredContext


def _utc(moment: datetime) -> datetime:
    # SQLite keeps naive UTC datetimes: compare and return in UTC.
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


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
        query = query.where(AssetRow.created_at >= _utc(since))
    # A Core connection, not a session: plain rows, no ORM loading machinery per row.
    with db.engine.connect() as connection:
        rows = connection.execution_options(yield_per=CHUNK).execute(query)
        for asset_id, sha256, detections, stored, created_at in rows:
            if detections:
                context = StoredContext.read(stored, _utc(created_at))
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
        query = query.where(AssetRow.created_at >= _utc(since))
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
            "since": None if self.since is None else _utc(self.since).isoformat(),
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


# -- threshold suggestions --------------------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    value: int  # 0-100
    support: int  # assets people decided that score at or above it
    precision: float  # share of those that people rejected
    recall: float | None  # share of the category's recall base at or above it


@dataclass(frozen=True)
class Suggestion:
    """Thresholds for one top-level category. ``decided``: assets people decided with a
    score in the category; ``recall_base``: the rejected ones whose highest score of all is in
    this category (people decide assets, not categories: this is the category's share)."""

    category: str
    decided: int
    rejected: int
    recall_base: int
    block: Threshold | None
    review: Threshold | None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        def shown(found: Threshold | None) -> dict[str, Any] | None:
            return None if found is None else vars(found).copy()

        return {
            "category": self.category,
            "decided": self.decided,
            "rejected": self.rejected,
            "recall_base": self.recall_base,
            "block": shown(self.block),
            "review": shown(self.review),
            "notes": list(self.notes),
        }


class _Curve:
    """People's decisions in one category, bucketed by the floor of the score: a score is at
    or above an integer threshold exactly when its floor is."""

    def __init__(self) -> None:
        self.total = [0] * 101
        self.rejected = [0] * 101
        self.led = [0] * 101

    def add(self, score: float, rejected: bool, leads: bool) -> None:
        bucket = int(min(100.0, max(0.0, score)))
        self.total[bucket] += 1
        self.rejected[bucket] += rejected
        self.led[bucket] += rejected and leads

    def suggest(
        self, category: str, target_precision: float, target_recall: float, minimum: int
    ) -> Suggestion:
        total, rejected = _at_or_above(self.total), _at_or_above(self.rejected)
        led = _at_or_above(self.led)
        decided, base = total[0], led[0]

        def threshold(value: int | None) -> Threshold | None:
            if value is None:
                return None
            recall = round(led[value] / base, 4) if base else None
            return Threshold(value, total[value], round(rejected[value] / total[value], 4), recall)

        if decided < minimum:
            notes = [f"not enough decisions ({decided} < {minimum})"]
            return Suggestion(category, decided, rejected[0], base, None, None, tuple(notes))
        notes = []
        block = _block_threshold(total, rejected, target_precision, minimum, notes)
        review = _review_threshold(led, target_recall, block, notes)
        return Suggestion(
            category, decided, rejected[0], base, threshold(block), threshold(review), tuple(notes)
        )


def _block_threshold(
    total: list[int], rejected: list[int], target: float, minimum: int, notes: list[str]
) -> int | None:
    """The lowest threshold at which people rejected at least ``target`` of what reaches it,
    if at least ``minimum`` decisions reach it."""
    found = next((t for t in range(101) if total[t] and rejected[t] >= target * total[t]), None)
    if found is None:
        notes.append(f"no threshold reaches precision {target:g}")
        return None
    if total[found] < minimum:
        notes.append(
            f"precision {target:g} is only reached at {found}, by {total[found]} decisions "
            f"(< {minimum})"
        )
        return None
    return found


def _review_threshold(
    led: list[int], target: float, block: int | None, notes: list[str]
) -> int | None:
    """The highest threshold that ``target`` of the recall base still reaches; none when the
    block threshold alone does."""
    if not led[0]:
        notes.append("no rejected asset scored highest in this category")
        return None
    found = max(t for t in range(101) if led[t] >= target * led[0])  # t = 0 always qualifies
    if block is not None and found >= block:
        notes.append(f"the block threshold alone reaches recall {target:g}")
        return None
    return found


def _at_or_above(buckets: list[int]) -> list[int]:
    sums, running = [0] * len(buckets), 0
    for index in range(len(buckets) - 1, -1, -1):
        running += buckets[index]
        sums[index] = running
    return sums


def _decided(db: Database, since: datetime | None) -> Iterator[tuple[dict[str, float], bool]]:
    """(direct scores, rejected?) for each moderated asset whose latest override is final."""
    query = (
        select(AuditEventRow.asset_id, AuditEventRow.to_status, AssetRow.detections)
        .join(AssetRow, AssetRow.id == AuditEventRow.asset_id)
        .where(AuditEventRow.action == "override", AssetRow.moderation_mode.in_(MODERATED))
        .order_by(AuditEventRow.id)
    )
    if since is not None:
        query = query.where(AssetRow.created_at >= _utc(since))
    latest: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    with db.session() as session:
        for asset_id, status, detections in session.execute(query):
            latest[asset_id] = (status, detections)
    for status, detections in latest.values():
        direct = direct_scores(detections)
        if direct and status in FINAL:
            yield direct, status == Status.REJECTED


def _check_share(name: str, value: float) -> None:
    if not 0 < value <= 1:
        raise InvalidParameter(f"{name} must be above 0 and at most 1, not {value:g}")


def suggest(
    db: Database,
    target_precision: float,
    since: datetime | None,
    *,
    target_recall: float = 0.95,
    minimum: int = MIN_DECISIONS,
) -> list[Suggestion]:
    """Per top-level category: the lowest block threshold at which at least
    ``target_precision`` of the assets people decided were rejected, and the highest review
    threshold that still reaches ``target_recall`` of the category's rejected assets."""
    _check_share("target_precision", target_precision)
    _check_share("target_recall", target_recall)
    curves = {category: _Curve() for category in taxonomy.TOP_LEVEL}
    for direct, rejected in _decided(db, since):
        leading = taxonomy.top_level(max(direct, key=direct.__getitem__))
        best: dict[str, float] = {}
        for label, score in direct.items():
            category = taxonomy.top_level(label)
            best[category] = max(best.get(category, 0.0), score)
        for category, score in best.items():
            curves[category].add(score, rejected, leading == category)
    return [
        curve.suggest(category, target_precision, target_recall, minimum)
        for category, curve in curves.items()
    ]


def suggestions_view(
    found: list[Suggestion],
    *,
    target_precision: float,
    target_recall: float,
    since: datetime | None,
) -> dict[str, Any]:
    """The JSON shape the API and the CLI share."""
    return {
        "target_precision": target_precision,
        "target_recall": target_recall,
        "since": None if since is None else _utc(since).isoformat(),
        "min_decisions": MIN_DECISIONS,
        "suggestions": [suggestion.to_dict() for suggestion in found],
    }
