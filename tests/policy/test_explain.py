"""Decisions in words, and decisions surviving a trip through storage."""

from __future__ import annotations

import pytest

from tests.policy.helpers import decide, key_where
from vigil.policy.explain import explain
from vigil.policy.model import Decision

SAMPLED = key_where(sampled=True)

# (detections, raw context, content types, sample key, fragments the explanation contains)
CASES = [
    ([], {}, (), None, ["Allowed by policy 'full'", "No label reached", "audience adult"]),
    (
        [("Explicit", 90)],
        {},
        (),
        None,
        [
            "Blocked (rejected into quarantine)",
            "Explicit scored 90.0",
            "block threshold 85",
            "that the policy sets on 'Explicit'",
        ],
    ),
    (
        [("Exposed Female Nipple", 55)],
        {"audience": "13_17"},
        (),
        None,
        [
            "Exposed Female Nipple scored 55.0",
            "block threshold 50",
            "context rule 'minors'",
            "'Explicit' (which Exposed Female Nipple belongs to)",
            "Context rule 'minors' (because audience is under_13 or 13_17) applied",
            "audience 13_17",
        ],
    ),
    (
        [("Explicit", 45)],
        {},
        (),
        None,
        ["Sent to a person for review", "review trigger range 40-50"],
    ),
    (
        [("Drinking", 70)],
        {},
        ("Animated",),
        None,
        ["Recorded without action: Drinking (70.0)", "content Animated", "Context rule 'cartoons'"],
    ),
    ([], {}, (), SAMPLED, ["Sent to a person for review", "quality-review sample"]),
    ([("Explicit", 90)], {}, (), SAMPLED, ["Blocked", "it stays blocked"]),
]


@pytest.mark.parametrize(("scores", "raw", "types", "key", "fragments"), CASES)
def test_explanations_say_why(
    scores: list[tuple[str, float]],
    raw: dict[str, str],
    types: tuple[str, ...],
    key: str | None,
    fragments: list[str],
) -> None:
    decision = decide(scores, raw, content_types=types, sample_key=key)
    text = explain(decision)
    for fragment in fragments:
        assert fragment in text
    assert explain(decision.to_dict()) == text  # a stored decision explains the same


def test_decisions_round_trip_through_their_dict() -> None:
    decision = decide([("Drinking", 70), ("Explicit", 30)], {"audience": "under_13"})
    assert Decision.from_dict(decision.to_dict()).to_dict() == decision.to_dict()


def test_decisions_stored_before_the_new_fields_still_load_and_explain() -> None:
    old = {
        "action": "block",
        "rule": "Explicit.block",
        "policy": "default",
        "policy_version": "0123456789ab",
        "label": "Explicit",
        "confidence": 91.5,
        "reason": "Explicit at 91.5 reached the block threshold 85.0 set on Explicit",
    }
    decision = Decision.from_dict(old)
    assert decision.annotations == () and not decision.qa_sample and decision.threshold is None
    assert "Explicit at 91.5 reached the block threshold 85.0" in explain(old)


def test_keys_already_served_are_kept() -> None:
    keys = set(decide([("Explicit", 90)]).to_dict())
    old = {"action", "rule", "policy", "policy_version", "label", "confidence", "reason"}
    new = {"threshold", "annotations", "qa_sample", "matched_rules", "context"}
    assert keys == old | new
