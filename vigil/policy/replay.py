"""Replay: a policy's decision on an asset's stored detections, without detecting again.

``Replay`` gives exactly ``evaluate``'s action and deciding label (tests hold it to that), but
reads direct scores straight from the stored dicts and caches everything that does not depend
on the scores (the resolved context, the rules that match, each label's governing band), so
replaying 100,000 assets takes seconds. No I/O: the stored rows come in from the caller."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vigil import taxonomy
from vigil.policy import rules
from vigil.policy.context import CONTENT_TYPES, CONTEXT_KEYS, PolicyContext, value_problem
from vigil.policy.evaluate import BandTable, governing, qa_fraction, table
from vigil.policy.model import SEVERITY, Action, Band, Policy

# The action and the label that decided it (None when nothing fired).
Verdict = tuple[Action, str | None]


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
        bands = self._tables.get(matched)
        if bands is None:
            chosen = [self.policy.rules[index] for index in matched]
            bands = self._tables[matched] = table(self.policy, chosen)
        found = governing(bands, label)
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
