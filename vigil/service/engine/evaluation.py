"""Measuring accuracy against labelled files: pure computation, no I/O.

A file is a *positive* for a top-level category when its true label is under that category
(``safe`` is under none). The policy *flags* a file for a category when it reviews or blocks
some label under it: both keep the file from going out unseen. From those, per category: true
and false positives, false negatives, precision, recall and F1; and over all files, the share
whose decision is ``review`` (what people would have to look at). Precision-recall curves
sweep one threshold over each category's score (its level-1 confidence: the highest any label
under it got) instead of the policy's bands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vigil import taxonomy
from vigil.labels import ModerationLabel
from vigil.policy import rules
from vigil.policy.context import default_context
from vigil.policy.evaluate import governing, table
from vigil.policy.model import SEVERITY, Action, Policy

SAFE = "safe"


@dataclass(frozen=True)
class Sample:
    """One labelled file after moderation. ``truth`` is a taxonomy name or ``safe``;
    ``scores`` each top-level category's confidence (absent: 0); ``flagged`` the action the
    policy takes on the category (absent: allow); ``action`` the file's decision."""

    path: str
    truth: str
    scores: Mapping[str, float] = field(default_factory=dict)
    flagged: Mapping[str, Action] = field(default_factory=dict)
    action: Action = "allow"

    @property
    def truth_category(self) -> str | None:
        return None if self.truth == SAFE else taxonomy.top_level(self.truth)


@dataclass(frozen=True)
class CategoryMetrics:
    """Counts and rates for one top-level category; a rate is ``None`` when undefined
    (precision with nothing flagged, recall with no positives)."""

    category: str
    files: int
    positives: int
    flagged: int
    true_positives: int
    false_positives: int
    false_negatives: int
    reviewed: int

    @property
    def precision(self) -> float | None:
        return _ratio(self.true_positives, self.true_positives + self.false_positives)

    @property
    def recall(self) -> float | None:
        return _ratio(self.true_positives, self.true_positives + self.false_negatives)

    @property
    def false_positive_rate(self) -> float | None:
        """Flagged negatives over all negatives: the one figure safe-only sets measure."""
        return _ratio(self.false_positives, self.files - self.positives)

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "positives": self.positives,
            "flagged": self.flagged,
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
            "reviewed": self.reviewed,
            "precision": _rounded(self.precision),
            "recall": _rounded(self.recall),
            "f1": _rounded(self.f1),
            "false_positive_rate": _rounded(self.false_positive_rate),
        }


@dataclass(frozen=True)
class CurvePoint:
    threshold: float
    precision: float
    recall: float


@dataclass(frozen=True)
class Evaluation:
    files: int
    reviewed: int
    blocked: int
    categories: list[CategoryMetrics]

    @property
    def review_share(self) -> float | None:
        return _ratio(self.reviewed, self.files)

    @property
    def block_share(self) -> float | None:
        return _ratio(self.blocked, self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "review_share": _rounded(self.review_share),
            "block_share": _rounded(self.block_share),
            "categories": [metrics.to_dict() for metrics in self.categories],
        }


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def category_scores(labels: Sequence[ModerationLabel]) -> dict[str, float]:
    """Each top-level category's confidence: its level-1 label's."""
    return {label.name: label.confidence for label in labels if label.level == 1}


def category_actions(labels: Sequence[ModerationLabel], policy: Policy) -> dict[str, Action]:
    """The most severe action the policy's bands (with the rules its default context
    matches) take on the directly scored labels under each top-level category."""
    context = default_context(policy)
    bands = table(policy, [rule for rule in policy.rules if rules.holds(rule.when, context)])
    acted: dict[str, Action] = {}
    for label in labels:
        found = governing(bands, label.name) if label.direct is not None else None
        if found is None or label.direct is None:
            continue
        action = found[1].action_for(label.direct)
        category = taxonomy.top_level(label.name)
        if action != "allow" and SEVERITY[action] > SEVERITY[acted.get(category, "allow")]:
            acted[category] = action
    return acted


def evaluate_samples(samples: Sequence[Sample]) -> Evaluation:
    """Metrics for every category that has a positive or a flagged file, in taxonomy order."""
    seen = {sample.truth_category for sample in samples} | {
        category for sample in samples for category in sample.flagged
    }
    categories = [category for category in taxonomy.ALL_TOP_LEVEL if category in seen]
    return Evaluation(
        files=len(samples),
        reviewed=sum(sample.action == "review" for sample in samples),
        blocked=sum(sample.action == "block" for sample in samples),
        categories=[metrics_for(category, samples) for category in categories],
    )


def metrics_for(category: str, samples: Sequence[Sample]) -> CategoryMetrics:
    positive = [sample.truth_category == category for sample in samples]
    flagged = [category in sample.flagged for sample in samples]
    pairs = list(zip(positive, flagged, strict=True))
    return CategoryMetrics(
        category=category,
        files=len(samples),
        positives=sum(positive),
        flagged=sum(flagged),
        true_positives=sum(p and f for p, f in pairs),
        false_positives=sum(f and not p for p, f in pairs),
        false_negatives=sum(p and not f for p, f in pairs),
        reviewed=sum(sample.flagged.get(category) == "review" for sample in samples),
    )


def pr_curve(category: str, samples: Sequence[Sample]) -> list[CurvePoint]:
    """Precision and recall with the category flagged at score >= t, for every distinct score
    t, highest first; empty when no file is a positive (recall is undefined)."""
    scored = [
        (sample.scores.get(category, 0.0), sample.truth_category == category) for sample in samples
    ]
    positives = sum(is_positive for _, is_positive in scored)
    if positives == 0:
        return []
    points: list[CurvePoint] = []
    for threshold in sorted({score for score, _ in scored}, reverse=True):
        flagged = [is_positive for score, is_positive in scored if score >= threshold]
        hits = sum(flagged)
        points.append(CurvePoint(threshold, hits / len(flagged), hits / positives))
    return points
