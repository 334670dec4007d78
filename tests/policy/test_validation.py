"""Every way a policy with the new sections can be wrong, one table row each."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vigil.errors import InvalidPolicy
from vigil.policy.loader import parse_policy

HEAD = "name: x\ncategories:\n  Explicit: {review: 50, block: 80}\n"
CONTEXT = "context:\n  region: {default: DE}\n  audience: adult\n  trust:\n"


def rule(when: str, categories: str = "{Explicit: {block: 60}}", name: str = "r") -> str:
    return f"  - {{name: {name}, when: {when}, categories: {categories}}}\n"


def refusal(text: str) -> str:
    with pytest.raises(InvalidPolicy) as caught:
        parse_policy(text, source="p.yaml")
    assert caught.value.message.startswith("p.yaml: ")
    return caught.value.message


# (policy text, fragments the message must contain)
REFUSED = [
    # categories
    (HEAD + "  Alcohol: {annotate: yes}\n", ["'Alcohol.annotate' must be true, false or a number"]),
    (HEAD + "  Alcohol: {annotate: 101}\n", ["'Alcohol.annotate'"]),
    (HEAD + "  Alcohol: {review: -1}\n", ["'Alcohol.review' must be a number from 0 to 100"]),
    (HEAD + "  Alcohol: {review: 08}\n", ["'Alcohol.review' must be a number"]),
    # context
    (HEAD + "context: [region]\n", ["'context' must be a mapping"]),
    (HEAD + "context:\n  regoin: DE\n", ["unknown context key 'regoin'", "did you mean 'region'"]),
    (HEAD + "context:\n  time: '12:00'\n", ["unknown context key 'time'"]),
    (HEAD + "context:\n  region: de\n", ["'context.region.default'", "not an ISO 3166-1 alpha-2"]),
    (HEAD + "context:\n  region: DEU\n", ["not an ISO 3166-1 alpha-2"]),
    (
        HEAD + "context:\n  region: {values: [DE, Germany]}\n",
        ["'context.region.values'", "'Germany'"],
    ),
    (HEAD + "context:\n  region: {values: []}\n", ["non-empty list"]),
    (HEAD + "context:\n  region: {fallback: DE}\n", ["'context.region' must be empty"]),
    (HEAD + "context:\n  audience: teens\n", ["not an audience band (under_13, 13_17, adult)"]),
    (HEAD + "context:\n  audience: {values: [adult, kids]}\n", ["'kids' is not an audience band"]),
    (
        HEAD + "context:\n  surface: {default: feed, values: [chat]}\n",
        ["'feed' is not one of chat"],
    ),
    (HEAD + "context:\n  trust: admin\n", ["'admin' is not one of new, normal, trusted"]),
    (HEAD + "context:\n  surface: 12\n", ["'context.surface' must be empty"]),
    (HEAD + "context:\n  surface: {default: 12}\n", ["12 is not a string"]),
    # rules: shape
    (HEAD + "rules: {a: b}\n", ["'rules' must be a list"]),
    (HEAD + "rules:\n  - {name: r, when: {region: DE}}\n", ["'rules[1]' must be a mapping"]),
    (HEAD + CONTEXT + "rules:\n" + rule("{region: DE}", name="'my rule'"), ["'rules[1].name'"]),
    (HEAD + CONTEXT + "rules:\n" + rule("{}"), ["at least one condition"]),
    (
        HEAD + CONTEXT + "rules:\n" + rule("{region: DE}", "{}"),
        ["'categories' in rule 'r' is empty"],
    ),
    (
        HEAD + CONTEXT + "rules:\n" + rule("{region: DE}") + rule("{region: FR}"),
        ["two rules are named 'r'"],
    ),
    # rules: categories
    (
        HEAD + CONTEXT + "rules:\n" + rule("{region: DE}", "{Explict: {block: 60}}"),
        ["unknown label 'Explict' in rule 'r'", "did you mean 'Explicit'"],
    ),
    (
        HEAD + CONTEXT + "rules:\n" + rule("{region: DE}", "{Explicit: {block: 160}}"),
        ["'Explicit.block' must be a number from 0 to 100"],
    ),
    (
        HEAD + CONTEXT + "rules:\n" + rule("{region: DE}", "{Explicit: {review: 70, block: 60}}"),
        ["'Explicit' has review 70.0 above block 60.0"],
    ),
    # rules: conditions
    (
        HEAD + CONTEXT + "rules:\n" + rule("{regon: DE}"),
        ["unknown condition 'regon' in rule 'r'", "did you mean 'region'"],
    ),
    (
        HEAD + CONTEXT + "rules:\n" + rule("{surface: chat}"),
        ["condition 'surface' in rule 'r' needs 'surface' declared under 'context:'"],
    ),
    (HEAD + "rules:\n" + rule("{region: [DE]}"), ["needs 'region' declared under 'context:'"]),
    (
        HEAD + CONTEXT + "rules:\n" + rule("{region: [Germany]}"),
        ["'when.region' in rule 'r'", "ISO"],
    ),
    (HEAD + CONTEXT + "rules:\n" + rule("{region: []}"), ["must be a value or a non-empty list"]),
    (HEAD + CONTEXT + "rules:\n" + rule("{audience: [kids]}"), ["not an audience band"]),
    (HEAD + CONTEXT + "rules:\n" + rule("{trust: vip}"), ["'vip' is not one of new, normal"]),
    (
        HEAD + CONTEXT + "rules:\n" + rule("{content_types: [Cartoon]}"),
        ["content types are Animated, Illustrated"],
    ),
    # rules: time windows
    (
        HEAD + "rules:\n" + rule("{time: {from: '25:00', to: '06:00'}}"),
        ["'when.time.from' in rule 'r' is '25:00'", "HH:MM"],
    ),
    (HEAD + "rules:\n" + rule("{time: {from: 6pm, to: '06:00'}}"), ["'when.time.from'"]),
    (
        HEAD + "rules:\n" + rule("{time: {from: '22:00', to: 6}}"),
        ["'when.time.to' in rule 'r' is 6"],
    ),
    (HEAD + "rules:\n" + rule("{time: {from: '12:60', to: '13:00'}}"), ["HH:MM"]),
    (HEAD + "rules:\n" + rule("{time: {from: '06:00', to: '06:00'}}"), ["same minute"]),
    (HEAD + "rules:\n" + rule("{time: {from: '06:00'}}"), ["'from', 'to' and optional 'tz'"]),
    (
        HEAD + "rules:\n" + rule("{time: {from: '06:00', to: '07:00', tz: Europe/Berln}}"),
        ["'Europe/Berln', not an IANA time zone", "did you mean 'Europe/Berlin'"],
    ),
    (HEAD + "rules:\n" + rule("{time: {from: '06:00', to: '07:00', tz: ../etc}}"), ["IANA"]),
    # rules: contradictions between rules that can match together
    (
        HEAD
        + CONTEXT
        + "rules:\n"
        + rule("{audience: [under_13, 13_17]}", name="minors")
        + rule("{trust: new}", "{Explicit: {block: 40}}", name="newbies"),
        ["rules 'minors' and 'newbies' can both match", "set 'Explicit' differently"],
    ),
    (
        HEAD
        + CONTEXT
        + "rules:\n"
        + rule("{region: [DE, AT]}", name="dach")
        + rule("{region: [AT, CH]}", "{Explicit: ignore}", name="alpine"),
        ["rules 'dach' and 'alpine'", "'Explicit'"],
    ),
    (
        HEAD
        + "rules:\n"
        + rule("{time: {from: '20:00', to: '23:00'}}", name="evening")
        + rule("{time: {from: '22:30', to: '02:00'}}", "{Explicit: {block: 40}}", name="night"),
        ["rules 'evening' and 'night' can both match"],
    ),
    (
        # 16:00-17:00 in Berlin is 10:00-11:00 in New York, but 11:00-12:00 during the weeks
        # of the year when only New York has switched to summer time.
        HEAD
        + "rules:\n"
        + rule("{time: {from: '16:00', to: '17:00', tz: Europe/Berlin}}", name="berlin")
        + rule(
            "{time: {from: '11:00', to: '12:00', tz: America/New_York}}",
            "{Explicit: {block: 40}}",
            name="new-york",
        ),
        ["rules 'berlin' and 'new-york' can both match"],
    ),
    (
        HEAD
        + "rules:\n"
        + rule("{content_types: [Animated]}", name="anime")
        + rule("{content_types: [Illustrated]}", "{Explicit: ignore}", name="drawn"),
        ["rules 'anime' and 'drawn'"],  # an image can be both
    ),
    # review triggers
    (HEAD + "review_triggers: {label: Explicit}\n", ["'review_triggers' must be a list"]),
    (HEAD + "review_triggers:\n  - {label: Explicit, min: 40}\n", ["label, min and max"]),
    (
        HEAD + "review_triggers:\n  - {label: Explict, min: 40, max: 60}\n",
        ["unknown label 'Explict' in review_triggers[1]", "did you mean 'Explicit'"],
    ),
    (
        HEAD + "review_triggers:\n  - {label: Explicit, min: 60, max: 60}\n",
        ["min 60.0 not below max"],
    ),
    (HEAD + "review_triggers:\n  - {label: Explicit, min: 70, max: 60}\n", ["not below max"]),
    (HEAD + "review_triggers:\n  - {label: Explicit, min: -5, max: 60}\n", ["from 0 to 100"]),
    (HEAD + "review_triggers:\n  - {label: Explicit, min: 5, max: 101}\n", ["from 0 to 100"]),
    # QA sample
    (HEAD + "qa_sample: {percent: 101}\n", ["'qa_sample.percent' must be a number from 0 to 100"]),
    (HEAD + "qa_sample: {percent: -1}\n", ["'qa_sample.percent'"]),
    (HEAD + "qa_sample: {percent: '5'}\n", ["'qa_sample.percent'"]),
    (HEAD + "qa_sample: 5\n", ["'qa_sample' must be a mapping with 'percent'"]),
    (HEAD + "qa_sample: {percent: 5, seed: 1}\n", ["'qa_sample' must be a mapping"]),
    # YAML itself
    (HEAD + "rules:\n  - {name: r, when: {region: [DE}\n", ["bad YAML at line 5"]),
]


@pytest.mark.parametrize(("text", "fragments"), REFUSED)
def test_invalid_policies_are_refused_clearly(text: str, fragments: list[str]) -> None:
    message = refusal(text)
    for fragment in fragments:
        assert fragment in message


# (policy text) that must load: near misses of the refusals above
ACCEPTED = [
    # YAML 1.1 would read these as false, 1317 and 1320; policies read them as written
    HEAD + "context:\n  region: NO\n  audience: 13_17\n",
    HEAD + "rules:\n" + rule("{time: {from: 22:00, to: 06:00}}"),
    # overlapping rules that agree
    HEAD
    + CONTEXT
    + "rules:\n"
    + rule("{region: DE}", name="a")
    + rule("{trust: new}", "{Explicit: {block: 60}, Gambling: ignore}", name="b"),
    # contradicting rules that can never match together
    HEAD
    + CONTEXT
    + "rules:\n"
    + rule("{audience: [under_13, 13_17]}", name="minors")
    + rule("{audience: adult, trust: new}", "{Explicit: {block: 40}}", name="adults"),
    HEAD
    + "rules:\n"
    + rule("{time: {from: '20:00', to: '22:00'}}", name="evening")
    + rule("{time: {from: '22:00', to: '06:00'}}", "{Explicit: {block: 40}}", name="night"),
    HEAD
    + "rules:\n"
    + rule("{time: {from: '10:00', to: '12:00', tz: Europe/Berlin}}", name="berlin")
    + rule(
        "{time: {from: '10:00', to: '12:00', tz: America/New_York}}",
        "{Explicit: {block: 40}}",
        name="new-york",
    ),
    # bands and annotations together; a trigger on an ignored label; 0 and 100 percent
    HEAD + "  Alcohol: {review: 60, annotate: 40}\n  Gambling: ignore\n"
    "review_triggers:\n  - {label: Gambling, min: 0, max: 100}\nqa_sample: {percent: 0}\n",
    HEAD + "qa_sample: {percent: 100}\n",
]


@pytest.mark.parametrize("text", ACCEPTED)
def test_valid_policies_load(text: str) -> None:
    parse_policy(text, source="p.yaml")


def test_yaml_12_scalars_are_kept_as_written() -> None:
    policy = parse_policy(
        HEAD + "context:\n  region: {default: NO, values: [NO, SE]}\n  audience: 13_17\n"
    )
    assert policy.context["region"].default == "NO"
    assert policy.context["audience"].default == "13_17"
    assert policy.bands["Explicit"].block == 80.0


def test_the_examples_in_the_policy_docs_load() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "policy.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)
    parse_policy(blocks[0], source="docs example 1")
    # The later examples are sections of one policy: context, rules, triggers and QA sample.
    policy = parse_policy(HEAD + "".join(blocks[1:]), source="docs examples")
    assert [rule.name for rule in policy.rules] == ["minors", "de-night", "cartoons"]
    assert policy.qa_percent == 2.0 and len(policy.review_triggers) == 2
