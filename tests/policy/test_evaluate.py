from __future__ import annotations

from vigil.detectors.base import Detection
from vigil.labels import build_labels
from vigil.policy.evaluate import evaluate
from vigil.policy.loader import parse_policy

POLICY = parse_policy(
    """
name: test
categories:
  Explicit: {review: 50, block: 80}
  Exposed Male Nipple: ignore
  Non-Explicit Nudity of Intimate parts and Kissing: {review: 60}
  Bare Back: {review: 90, block: 95}
  Violence: {block: 70}
"""
)


def decide(*detections: tuple[str, float]) -> tuple[str, str, str | None]:
    labels = build_labels(Detection(name, score, "test") for name, score in detections)
    decision = evaluate(labels, POLICY)
    return decision.action, decision.rule, decision.label


def test_three_bands() -> None:
    assert decide(("Explicit", 49.9)) == ("allow", "default", None)
    assert decide(("Explicit", 50.0)) == ("review", "Explicit.review", "Explicit")
    assert decide(("Explicit", 79.9)) == ("review", "Explicit.review", "Explicit")
    assert decide(("Explicit", 80.0)) == ("block", "Explicit.block", "Explicit")


def test_children_inherit_and_cite_the_most_specific_label() -> None:
    action, rule, label = decide(("Exposed Female Genitalia", 85.0))
    assert (action, rule, label) == ("block", "Explicit.block", "Exposed Female Genitalia")


def test_a_child_band_overrides_its_ancestor() -> None:
    assert decide(("Bare Back", 70.0)) == ("allow", "default", None)
    assert decide(("Bare Back", 90.0)) == ("review", "Bare Back.review", "Bare Back")
    assert (
        decide(("Implied Nudity", 70.0))[1]
        == "Non-Explicit Nudity of Intimate parts and Kissing.review"
    )


def test_ignore_switches_a_category_off() -> None:
    assert decide(("Exposed Male Nipple", 99.0)) == ("allow", "default", None)


def test_a_direct_parent_score_is_judged_on_its_own() -> None:
    # The parent's own 60 reviews although its child's 20 (and nothing else) is lower.
    assert decide(("Explicit", 60.0), ("Exposed Female Nipple", 20.0))[0] == "review"


def test_block_beats_review_and_unknown_categories_allow() -> None:
    assert decide(("Explicit", 60.0), ("Weapons", 75.0)) == ("block", "Violence.block", "Weapons")
    assert decide(("Gambling", 99.0)) == ("allow", "default", None)


def test_decision_records_policy_and_version() -> None:
    decision = evaluate(build_labels([Detection("Explicit", 90.0, "t")]), POLICY)
    assert decision.policy == "test"
    assert decision.policy_version == POLICY.version and len(POLICY.version) == 12
    assert "Explicit at 90.0" in decision.reason
