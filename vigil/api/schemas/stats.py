"""Review and moderation figures over a window of days (definitions in docs/review.md)."""

from __future__ import annotations

import datetime as dt

from vigil.api.schemas.base import ApiModel


class CategoryErrors(ApiModel):
    """People's verdicts on the machine's decisions in one top-level category."""

    category: str
    human_decisions: int
    blocked_checked: int
    false_positives: int
    false_positive_rate: float | None
    allowed_checked: int
    false_negatives: int
    false_negative_rate: float | None


class DailyFigures(ApiModel):
    date: dt.date
    processed: int
    auto_allowed: int
    auto_blocked: int
    sent_to_review: int
    human_decisions: int


class Stats(ApiModel):
    since: dt.date
    until: dt.date
    uploads_processed: int
    auto_allowed: int
    auto_blocked: int
    sent_to_review: int
    auto_allowed_share: float | None
    auto_blocked_share: float | None
    sent_to_review_share: float | None
    decisions_timed: int
    mean_seconds_to_decision: float | None
    median_seconds_to_decision: float | None
    double_reviewed: int
    disagreements: int
    disagreement_rate: float | None
    categories: list[CategoryErrors]
    daily: list[DailyFigures]
