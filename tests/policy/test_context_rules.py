"""Context rules, annotations and review triggers, one table row per case."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.policy.helpers import FULL, NOON, decide, labels
from vigil import taxonomy
from vigil.policy.evaluate import evaluate
from vigil.policy.loader import PolicyStore, parse_policy
from vigil.policy.model import SEVERITY, Policy

WINTER = "2025-01-15T{}+00:00"  # Berlin is UTC+1
SUMMER = "2025-07-15T{}+00:00"  # Berlin is UTC+2


def at(template: str, clock: str) -> datetime:
    return datetime.fromisoformat(template.format(clock))


# (detections, raw context, now, content types, expected action, expected rule)
CASES = [
    # the policy's own bands, defaults only
    ([], {}, None, (), "allow", "default"),
    ([("Explicit", 35)], {}, None, (), "allow", "default"),
    ([("Explicit", 50)], {}, None, (), "review", "Explicit.review"),
    ([("Explicit", 85)], {}, None, (), "block", "Explicit.block"),
    # audience
    (
        [("Explicit", 30)],
        {"audience": "under_13"},
        None,
        (),
        "review",
        "rules.minors.Explicit.review",
    ),
    ([("Explicit", 55)], {"audience": "13_17"}, None, (), "block", "rules.minors.Explicit.block"),
    ([("Female Swimwear or Underwear", 60)], {}, None, (), "allow", "default"),
    (
        [("Female Swimwear or Underwear", 60)],
        {"audience": "under_13"},
        None,
        (),
        "review",
        "rules.minors.Swimwear or Underwear.review",
    ),
    ([("Drinking", 45)], {}, None, (), "allow", "default"),
    ([("Drinking", 45)], {"audience": "13_17"}, None, (), "review", "rules.minors.Alcohol.review"),
    # trust + surface: all conditions must hold
    (
        [("Explicit", 30)],
        {"trust": "new", "surface": "profile_photo"},
        None,
        (),
        "review",
        "rules.new-uploaders.Explicit.review",
    ),
    ([("Explicit", 30)], {"trust": "new", "surface": "chat"}, None, (), "allow", "default"),
    ([("Explicit", 30)], {"trust": "new"}, None, (), "allow", "default"),  # surface unknown
    ([("Explicit", 60)], {"surface": "chat"}, None, (), "allow", "default"),
    (
        [("Explicit", 75)],
        {"surface": "chat"},
        None,
        (),
        "review",
        "rules.adult-chat.Explicit.review",
    ),
    # two agreeing rules match: the first in the file is cited
    (
        [("Explicit", 30)],
        {"audience": "under_13", "trust": "new", "surface": "profile_photo"},
        None,
        (),
        "review",
        "rules.minors.Explicit.review",
    ),
    # region + time window wrapping past midnight, in Berlin time
    (
        [("Weapons", 35)],
        {"region": "DE"},
        at(WINTER, "21:30"),
        (),
        "review",
        "rules.de-night.Violence.review",
    ),
    ([("Weapons", 35)], {"region": "DE"}, at(WINTER, "20:59"), (), "allow", "default"),
    (
        [("Weapons", 35)],
        {"region": "DE"},
        at(WINTER, "04:59"),
        (),
        "review",
        "rules.de-night.Violence.review",
    ),
    ([("Weapons", 35)], {"region": "DE"}, at(WINTER, "05:00"), (), "allow", "default"),
    (
        [("Weapons", 35)],
        {"region": "AT"},
        at(SUMMER, "20:00"),
        (),
        "review",
        "rules.de-night.Violence.review",
    ),
    ([("Weapons", 35)], {"region": "DE"}, at(SUMMER, "04:00"), (), "allow", "default"),
    ([("Weapons", 35)], {"region": "FR"}, at(WINTER, "23:00"), (), "allow", "default"),
    (
        [("Weapons", 35)],
        {"region": "de"},
        at(WINTER, "23:00"),
        (),
        "review",
        "rules.de-night.Violence.review",
    ),
    ([("Weapons", 35)], {}, at(WINTER, "23:00"), (), "allow", "default"),  # region default US
    # content types: any listed type present is enough
    ([("Corpses", 60)], {}, None, (), "review", "Visually Disturbing.review"),
    ([("Corpses", 60)], {}, None, ("Animated",), "allow", "default"),
    (
        [("Corpses", 85)],
        {},
        None,
        ("Illustrated",),
        "review",
        "rules.cartoons.Visually Disturbing.review",
    ),
    ([("Corpses", 60)], {}, None, ("Animated", "Illustrated"), "allow", "default"),
    # surface
    (
        [("Gambling", 65)],
        {"surface": "marketplace_listing"},
        None,
        (),
        "block",
        "rules.marketplace.Gambling.block",
    ),
    # review triggers: only when the bands would allow
    ([("Explicit", 45)], {}, None, (), "review", "trigger.Explicit"),
    ([("Explicit", 39.9)], {}, None, (), "allow", "default"),
    ([("Explicit", 45), ("Gambling", 70)], {}, None, (), "review", "trigger.Gambling"),
    ([("Explicit", 45), ("Weapons", 95)], {}, None, (), "block", "Violence.block"),
    (
        [("Explicit", 45)],
        {"audience": "under_13"},
        None,
        (),
        "review",
        "rules.minors.Explicit.review",
    ),
    ([("Kissing on the Lips", 100)], {}, None, (), "review", "trigger.Kissing on the Lips"),
    ([("Kissing on the Lips", 49)], {}, None, (), "allow", "default"),
    # a trigger reads the label's own score, not a child's copy on its ancestor
    ([("Exposed Female Nipple", 45)], {}, None, (), "allow", "default"),
]


@pytest.mark.parametrize(("scores", "raw", "now", "types", "action", "rule"), CASES)
def test_context_rules_and_triggers(
    scores: list[tuple[str, float]],
    raw: dict[str, str],
    now: datetime | None,
    types: tuple[str, ...],
    action: str,
    rule: str,
) -> None:
    decision = decide(scores, raw, now=now or NOON, content_types=types)
    assert (decision.action, decision.rule) == (action, rule)


# (detections, raw context, expected annotations)
ANNOTATIONS = [
    ([("Drinking", 90)], {}, [("Drinking", 90.0)]),
    (
        [("Drinking", 90), ("Alcoholic Beverages", 20)],
        {},
        [("Drinking", 90.0), ("Alcoholic Beverages", 20.0)],
    ),
    ([("Gambling", 29)], {}, []),  # below its annotate minimum
    ([("Gambling", 30)], {}, [("Gambling", 30.0)]),
    ([("Drinking", 90)], {"audience": "under_13"}, [("Drinking", 90.0)]),  # acts and annotates
    ([("Explicit", 90)], {}, []),
]


@pytest.mark.parametrize(("scores", "raw", "expected"), ANNOTATIONS)
def test_annotations_record_labels_without_acting(
    scores: list[tuple[str, float]], raw: dict[str, str], expected: list[tuple[str, float]]
) -> None:
    decision = decide(scores, raw)
    assert [(note.name, note.confidence) for note in decision.annotations] == expected


def test_annotation_alone_takes_no_action() -> None:
    decision = decide([("Drinking", 99)])
    assert (decision.action, decision.rule) == ("allow", "default")
    assert decision.to_dict()["annotations"] == [{"name": "Drinking", "confidence": 99.0}]


def test_decision_records_resolved_context_and_matched_rules() -> None:
    decision = decide([("Explicit", 30)], {"audience": "13_17"}, content_types=["Animated"])
    assert decision.context == {
        "region": "US",
        "audience": "13_17",
        "surface": None,
        "trust": "normal",
        "now": "2025-01-15T11:00:00+00:00",
        "content_types": ["Animated"],
    }
    assert [rule.to_dict() for rule in decision.matched_rules] == [
        {"name": "minors", "when": "audience is under_13 or 13_17"},
        {"name": "cartoons", "when": "content is Animated or Illustrated"},
    ]
    assert decision.threshold == 20.0


def test_without_context_the_policy_defaults_apply_and_time_rules_never_match() -> None:
    decision = evaluate(labels(("Explicit", 75)), FULL)
    assert (decision.action, decision.rule) == ("review", "Explicit.review")
    assert decision.context["audience"] == "adult" and decision.context["now"] is None
    night = parse_policy(
        "name: n\ncontext: {region: DE}\ncategories: {Violence: {block: 90}}\nrules:\n"
        "  - {name: r, when: {time: {from: '00:00', to: '23:59'}},\n"
        "     categories: {Violence: {block: 1}}}\n"
    )
    assert evaluate(labels(("Weapons", 50)), night).action == "allow"


# -- the built-in default policy: unchanged without context, stricter for minors ---------------

SCORES = (0.0, 20.0, 30.0, 45.0, 50.0, 65.0, 75.0, 85.0, 95.0, 100.0)
TAXONOMY_LABELS = sorted(taxonomy.LABELS)


def test_default_policy_without_context_decides_as_its_categories_alone() -> None:
    default = PolicyStore().get("default")
    bare = Policy(name="default", version=default.version, description="", bands=default.bands)
    for name in TAXONOMY_LABELS:
        for score in SCORES:
            found = labels((name, score))
            with_rules, without = evaluate(found, default), evaluate(found, bare)
            assert (with_rules.action, with_rules.rule) == (without.action, without.rule)


@pytest.mark.parametrize("audience", ["under_13", "13_17"])
def test_default_policy_is_never_laxer_for_minors(audience: str) -> None:
    default = PolicyStore().get("default")
    stricter = 0
    for name in TAXONOMY_LABELS:
        for score in SCORES:
            adult = decide([(name, score)], policy=default)
            minor = decide([(name, score)], {"audience": audience}, policy=default)
            assert SEVERITY[minor.action] >= SEVERITY[adult.action], (name, score)
            stricter += SEVERITY[minor.action] > SEVERITY[adult.action]
    assert stricter > 0
