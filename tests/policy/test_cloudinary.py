"""Cloudinary-style moderation strings: what they parse to, every refusal, and thresholds
applied on top of a policy."""

from __future__ import annotations

import pytest

from tests.policy.helpers import FULL, decide
from vigil import taxonomy
from vigil.errors import InvalidParameter
from vigil.policy.cloudinary import (
    CATEGORY_NAMES,
    MAX_LENGTH,
    ModerationPlan,
    apply_thresholds,
    normalise,
    parse_moderation,
)
from vigil.policy.model import Band

SUGGESTIVE = ("Non-Explicit Nudity of Intimate parts and Kissing", "Swimwear or Underwear")

# (string, steps, thresholds)
ACCEPTED: list[tuple[str, tuple[str, ...], dict[str, float | None]]] = [
    ("auto", ("auto",), {}),
    ("manual", ("manual",), {}),
    ("none", ("none",), {}),
    ("aws_rek", ("aws_rek",), {}),
    ("aws_rek|manual", ("aws_rek", "manual"), {}),
    ("auto|manual", ("auto", "manual"), {}),
    (
        "aws_rek:explicit_nudity:0.7:hate_symbols:0.6:suggestive:ignore",
        ("aws_rek",),
        {"Explicit": 0.7, SUGGESTIVE[0]: None, SUGGESTIVE[1]: None, "Hate Symbols": 0.6},
    ),
    ("aws_rek:violence:0.5|manual", ("aws_rek", "manual"), {"Violence": 0.5}),
    # every Cloudinary name
    ("aws_rek:visually_disturbing:0", ("aws_rek",), {"Visually Disturbing": 0.0}),
    ("aws_rek:rude_gestures:1", ("aws_rek",), {"Rude Gestures": 1.0}),
    ("aws_rek:alcohol:.25", ("aws_rek",), {"Alcohol": 0.25}),
    ("aws_rek:gambling:1.0", ("aws_rek",), {"Gambling": 1.0}),
    ("aws_rek:drugs:0.4", ("aws_rek",), {"Drugs & Tobacco": 0.4}),
    ("aws_rek:tobacco:ignore", ("aws_rek",), {"Drugs & Tobacco": None}),
    # 6.1 names as Rekognition spells them, and model-7 names in any case and separator
    ("aws_rek:Explicit Nudity:0.3", ("aws_rek",), {"Explicit": 0.3}),
    ("aws_rek:Suggestive:0.3", ("aws_rek",), {SUGGESTIVE[0]: 0.3, SUGGESTIVE[1]: 0.3}),
    ("aws_rek:explicit:0.9", ("aws_rek",), {"Explicit": 0.9}),
    ("aws_rek:swimwear_or_underwear:0.8", ("aws_rek",), {"Swimwear or Underwear": 0.8}),
    ("aws_rek:drugs_&_tobacco:0.2", ("aws_rek",), {"Drugs & Tobacco": 0.2}),
    ("aws_rek:Drugs & Tobacco:0.2", ("aws_rek",), {"Drugs & Tobacco": 0.2}),
    (
        "aws_rek:non_explicit_nudity_of_intimate_parts_and_kissing:0.6",
        ("aws_rek",),
        {SUGGESTIVE[0]: 0.6},
    ),
    (
        "aws_rek:Non-Explicit-Nudity of intimate parts and kissing:0.6",
        ("aws_rek",),
        {SUGGESTIVE[0]: 0.6},
    ),
    # two names for one category: the stricter threshold holds, a threshold beats ignore
    ("aws_rek:drugs:0.5:tobacco:0.3", ("aws_rek",), {"Drugs & Tobacco": 0.3}),
    ("aws_rek:drugs:ignore:tobacco:0.8", ("aws_rek",), {"Drugs & Tobacco": 0.8}),
    ("aws_rek:explicit_nudity:0.2:explicit:0.6", ("aws_rek",), {"Explicit": 0.2}),
    (
        "aws_rek:suggestive:0.5:swimwear_or_underwear:ignore",
        ("aws_rek",),
        {SUGGESTIVE[0]: 0.5, SUGGESTIVE[1]: 0.5},
    ),
]


@pytest.mark.parametrize(("text", "steps", "thresholds"), ACCEPTED)
def test_accepted(text: str, steps: tuple[str, ...], thresholds: dict[str, float | None]) -> None:
    plan = parse_moderation(text)
    assert plan.steps == steps
    assert dict(plan.thresholds) == thresholds
    assert plan.raw == text


# (string, fragments the message must contain)
REFUSED = [
    ("", ["moderation is empty"]),
    ("aws_rek:violence:0.5" * 30, [f"longer than {MAX_LENGTH}"]),
    ("sometimes", ["unknown moderation step 'sometimes'", "known: auto, aws_rek, manual, none"]),
    ("awsrek", ["unknown moderation step 'awsrek'", "did you mean 'aws_rek'"]),
    ("Auto", ["unknown moderation step 'Auto'", "did you mean 'auto'"]),
    ("aws_rek||manual", ["unknown moderation step ''"]),
    ("aws_rek|", ["unknown moderation step ''"]),
    ("aws_rek|manaul", ["did you mean 'manual'"]),
    # chains
    ("manual|aws_rek", ["'manual' must be the last step"]),
    ("none|manual", ["'none' cannot be chained"]),
    ("aws_rek|none", ["'none' cannot be chained"]),
    ("manual|manual", ["step 'manual' is given more than once"]),
    ("aws_rek|aws_rek:violence:0.1", ["step 'aws_rek' is given more than once"]),
    ("aws_rek|auto|manual", ["one automatic step"]),
    # arguments
    ("auto:violence:0.5", ["step 'auto' takes no arguments", "need aws_rek"]),
    ("manual:violence:0.5", ["step 'manual' takes no arguments"]),
    ("none:x", ["step 'none' takes no arguments"]),
    ("aws_rek:violence", ["category:threshold pairs", "'violence' has no threshold"]),
    ("aws_rek:violence:0.5:gambling", ["'gambling' has no threshold"]),
    ("aws_rek:", ["category:threshold pairs"]),
    (
        "aws_rek:explict_nudity:0.5",
        ["unknown aws_rek category 'explict_nudity'", "'explicit_nudity'"],
    ),
    ("aws_rek:drugs_and_tobacco:0.5", ["category 'drugs_and_tobacco'", "'drugs_&_tobacco'"]),
    ("aws_rek:Weapons:0.5", ["unknown aws_rek category 'Weapons'"]),
    ("aws_rek::0.5", ["unknown aws_rek category ''"]),
    ("aws_rek:violence:1.5", ["threshold for 'violence' must be a number from 0 to 1", "'1.5'"]),
    ("aws_rek:violence:-0.1", ["threshold for 'violence'", "'-0.1'"]),
    ("aws_rek:violence:70", ["threshold for 'violence'", "'70'"]),
    ("aws_rek:violence:", ["threshold for 'violence'", "not ''"]),
    ("aws_rek:violence:nan", ["threshold for 'violence'"]),
    ("aws_rek:violence:1e-1", ["threshold for 'violence'"]),
    ("aws_rek:violence: 0.5", ["threshold for 'violence'"]),
    ("aws_rek:violence:Ignore", ["or 'ignore'"]),
    ("aws_rek:violence:0.5:violence:0.6", ["category 'violence' is given more than once"]),
    ("aws_rek:violence:0.5:Violence:ignore", ["category 'Violence' is given more than once"]),
]


@pytest.mark.parametrize(("text", "fragments"), REFUSED)
def test_refused(text: str, fragments: list[str]) -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_moderation(text)
    assert caught.value.status == 400
    for fragment in fragments:
        assert fragment in caught.value.message


def test_every_cloudinary_name_and_every_top_level_category_is_known() -> None:
    cloudinary = "explicit_nudity suggestive violence visually_disturbing rude_gestures drugs"
    for name in (*cloudinary.split(), "tobacco", "alcohol", "gambling", "hate_symbols"):
        assert name in CATEGORY_NAMES
    for top in taxonomy.TOP_LEVEL:
        assert CATEGORY_NAMES[normalise(top)] == (top,)
    assert all(taxonomy.get(t).level == 1 for names in CATEGORY_NAMES.values() for t in names)


def test_thresholds_view_and_detects() -> None:
    plan = parse_moderation("aws_rek:violence:0.5:gambling:ignore|manual")
    assert plan.thresholds_view() == {"Violence": 0.5, "Gambling": "ignore"}
    assert plan.detects and parse_moderation("manual").detects
    assert not parse_moderation("none").detects
    assert ModerationPlan(("auto",)).thresholds_view() == {}


# -- applied on top of a policy ----------------------------------------------------------------


def test_no_thresholds_is_the_policy_itself() -> None:
    assert apply_thresholds(FULL, {}) is FULL


def test_given_categories_get_a_block_band_and_others_keep_the_policys() -> None:
    applied = apply_thresholds(FULL, parse_moderation("aws_rek:violence:0.07").thresholds)
    assert applied.bands["Violence"] == Band(block=7.0)  # not 7.000000000000001
    assert applied.bands["Explicit"] == FULL.bands["Explicit"]
    assert (applied.name, applied.version) == (FULL.name, FULL.version)
    assert decide([("Weapons", 7.0)], policy=applied).rule == "Violence.block"
    assert decide([("Weapons", 6.9)], policy=applied).action == "allow"  # no review band left
    assert decide([("Explicit", 60.0)], policy=applied).rule == "Explicit.review"


def test_ignore_switches_a_category_and_its_triggers_off() -> None:
    applied = apply_thresholds(FULL, parse_moderation("aws_rek:gambling:ignore").thresholds)
    assert applied.bands["Gambling"] == Band(ignore=True)
    assert decide([("Gambling", 99.0)], policy=FULL).action == "review"
    assert decide([("Gambling", 99.0)], policy=applied).action == "allow"
    assert decide([("Gambling", 70.0)], policy=FULL).rule == "trigger.Gambling"
    assert decide([("Gambling", 70.0)], policy=applied).action == "allow"
    assert [t.label for t in applied.review_triggers] == ["Explicit", "Kissing on the Lips"]


def test_thresholds_beat_descendant_bands_and_context_rules() -> None:
    suggestive = apply_thresholds(FULL, parse_moderation("aws_rek:suggestive:0.5").thresholds)
    assert "Kissing on the Lips" not in suggestive.bands  # FULL ignores it; 0.5 now governs
    assert decide([("Kissing on the Lips", 55.0)], policy=suggestive).action == "block"
    explicit = apply_thresholds(FULL, parse_moderation("aws_rek:explicit_nudity:0.9").thresholds)
    minors = {"audience": "under_13"}
    assert decide([("Explicit", 60.0)], minors, policy=FULL).action == "block"  # minors rule
    assert decide([("Explicit", 60.0)], minors, policy=explicit).action == "allow"
    assert decide([("Explicit", 90.0)], minors, policy=explicit).rule == "Explicit.block"
    # rules for other categories still apply
    assert decide([("Alcohol", 45.0)], minors, policy=explicit).action == "review"
