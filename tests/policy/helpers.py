"""A policy that uses every feature, and a one-call way to decide with it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from itertools import count

from vigil.detectors.base import Detection
from vigil.labels import ModerationLabel, build_labels
from vigil.policy.context import resolve_context
from vigil.policy.evaluate import evaluate, qa_fraction
from vigil.policy.loader import parse_policy
from vigil.policy.model import Decision, Policy

FULL = parse_policy(
    """
name: full
context:
  region: {default: US}
  audience: adult
  surface: {values: [chat, profile_photo, marketplace_listing]}
  trust: {default: normal}
categories:
  Explicit: {review: 50, block: 85}
  Swimwear or Underwear: {review: 90}
  Violence: {review: 50, block: 90}
  Visually Disturbing: {review: 50, block: 95}
  Kissing on the Lips: ignore
  Alcohol: {annotate: true}
  Gambling: {review: 80, annotate: 30}
rules:
  - name: minors
    when: {audience: [under_13, 13_17]}
    categories:
      Explicit: {review: 20, block: 50}
      Swimwear or Underwear: {review: 50}
      Alcohol: {review: 40, annotate: true}
  - name: new-uploaders       # overlaps minors, but agrees on Explicit
    when: {trust: new, surface: profile_photo}
    categories:
      Explicit: {review: 20, block: 50}
  - name: adult-chat          # disagrees with both, but never matches with them
    when: {audience: adult, surface: chat}
    categories:
      Explicit: {review: 70, block: 95}
  - name: de-night
    when: {region: [DE, AT], time: {from: "22:00", to: "06:00", tz: Europe/Berlin}}
    categories:
      Violence: {review: 30, block: 90}
  - name: cartoons
    when: {content_types: [Animated, Illustrated]}
    categories:
      Visually Disturbing: {review: 80}
  - name: marketplace
    when: {surface: marketplace_listing}
    categories:
      Gambling: {review: 40, block: 60}
review_triggers:
  - {label: Explicit, min: 40, max: 50}
  - {label: Gambling, min: 60, max: 80}
  - {label: Kissing on the Lips, min: 50, max: 100}
qa_sample: {percent: 10}
""",
    source="full.yaml",
)

NOON = datetime(2025, 1, 15, 11, 0, tzinfo=UTC)  # 12:00 in Berlin (winter, UTC+1)


def labels(*scores: tuple[str, float]) -> list[ModerationLabel]:
    return build_labels(Detection(name, float(score), "test") for name, score in scores)


def decide(
    scores: Iterable[tuple[str, float]],
    raw: Mapping[str, str] | None = None,
    *,
    policy: Policy = FULL,
    now: datetime = NOON,
    content_types: Iterable[str] = (),
    sample_key: str | None = None,
) -> Decision:
    context = resolve_context(policy, raw or {}, now, content_types)
    return evaluate(labels(*scores), policy, context=context, sample_key=sample_key)


def key_where(*, sampled: bool, policy: Policy = FULL) -> str:
    """The first asset key that the policy's QA sample does (or does not) pick."""
    for number in count():
        key = f"asset-{number}"
        if (qa_fraction(policy.name, key) < policy.qa_percent / 100) == sampled:
            return key
    raise AssertionError("unreachable")
