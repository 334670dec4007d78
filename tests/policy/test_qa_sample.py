"""The QA sample: deterministic per item, the right share, blocks stay blocked."""

from __future__ import annotations

import pytest

from tests.policy.helpers import decide, key_where, labels
from vigil.policy.evaluate import evaluate, qa_fraction
from vigil.policy.loader import parse_policy

SAMPLED, NOT_SAMPLED = key_where(sampled=True), key_where(sampled=False)

# (detections, sample key, expected action, expected rule, expected qa_sample)
CASES = [
    ([], SAMPLED, "review", "qa_sample", True),
    ([], NOT_SAMPLED, "allow", "default", False),
    ([], None, "allow", "default", False),  # no key, no sample
    ([("Explicit", 90)], SAMPLED, "block", "Explicit.block", True),  # stays quarantined
    ([("Explicit", 90)], NOT_SAMPLED, "block", "Explicit.block", False),
    ([("Explicit", 60)], SAMPLED, "review", "Explicit.review", False),  # a person sees it anyway
    ([("Explicit", 45)], SAMPLED, "review", "trigger.Explicit", False),
]


@pytest.mark.parametrize(("scores", "key", "action", "rule", "sampled"), CASES)
def test_qa_sample_table(
    scores: list[tuple[str, float]], key: str | None, action: str, rule: str, sampled: bool
) -> None:
    decision = decide(scores, sample_key=key)
    assert (decision.action, decision.rule, decision.qa_sample) == (action, rule, sampled)


def test_a_sampled_block_keeps_its_label_and_says_so() -> None:
    decision = decide([("Explicit", 90)], sample_key=SAMPLED)
    assert decision.label == "Explicit" and decision.threshold == 85.0
    assert "quality review" in decision.reason and decision.to_dict()["qa_sample"] is True


@pytest.mark.parametrize("percent", [1, 2, 5, 10])
def test_sampled_share_is_within_half_a_point(percent: int) -> None:
    policy = parse_policy(f"name: qa\ncategories: {{}}\nqa_sample: {{percent: {percent}}}\n")
    keys = [f"{number:064x}" for number in range(10_000)]
    sampled = sum(evaluate([], policy, sample_key=key).qa_sample for key in keys)
    assert abs(sampled / 100 - percent) <= 0.5


@pytest.mark.parametrize("key", ["a", "0" * 64, "asset 42", SAMPLED])
def test_the_same_key_always_gets_the_same_answer(key: str) -> None:
    first = decide([], sample_key=key)
    assert all(decide([], sample_key=key) == first for _ in range(5))


def test_the_policy_name_salts_the_sample() -> None:
    # Two policies with the same percent do not pick the same items.
    keys = [str(number) for number in range(2_000)]
    picks = [{key for key in keys if qa_fraction(name, key) < 0.1} for name in ("a", "b")]
    assert picks[0] != picks[1]


@pytest.mark.parametrize(("percent", "expected"), [(0, 0), (100, 50)])
def test_zero_and_a_hundred_percent(percent: int, expected: int) -> None:
    policy = parse_policy(f"name: qa\ncategories: {{}}\nqa_sample: {{percent: {percent}}}\n")
    assert (
        sum(evaluate(labels(), policy, sample_key=str(n)).qa_sample for n in range(50)) == expected
    )
