"""Cloudinary-style ``moderation`` strings: ``aws_rek:explicit_nudity:0.7:suggestive:ignore|manual``
parsed into a plan, and per-category thresholds applied on top of a policy.

Pure: no I/O. Every refusal is an InvalidParameter whose message names the offending part.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from vigil import taxonomy
from vigil.errors import InvalidParameter
from vigil.policy.model import Band, Policy

StepKind = Literal["auto", "aws_rek", "manual", "none"]
STEP_KINDS: tuple[StepKind, ...] = ("auto", "aws_rek", "manual", "none")
AUTOMATIC: frozenset[str] = frozenset({"auto", "aws_rek"})
IGNORE = "ignore"
# Longest sensible string (every known name once, then |manual) is about 300 characters;
# the column holding the raw string is this wide.
MAX_LENGTH = 500

# Cloudinary's names, which are Rekognition 6.1's top-level names in lower-case underscore
# form, mapped to model 7 as the taxonomy reference says.
LEGACY_NAMES: dict[str, tuple[str, ...]] = {
    "explicit_nudity": ("Explicit",),
    "suggestive": ("Non-Explicit Nudity of Intimate parts and Kissing", "Swimwear or Underwear"),
    "violence": ("Violence",),
    "visually_disturbing": ("Visually Disturbing",),
    "rude_gestures": ("Rude Gestures",),
    "drugs": ("Drugs & Tobacco",),
    "tobacco": ("Drugs & Tobacco",),
    "alcohol": ("Alcohol",),
    "gambling": ("Gambling",),
    "hate_symbols": ("Hate Symbols",),
}

_SEPARATORS = re.compile(r"[\s_-]+")
_FRACTION = re.compile(r"^(?:\d+(?:\.\d*)?|\.\d+)$")  # plain decimals only: no sign, exponent, _


def normalise(name: str) -> str:
    """The lookup form of a category name: lower case, each run of spaces, hyphens and
    underscores one underscore (``Drugs & Tobacco`` -> ``drugs_&_tobacco``)."""
    return _SEPARATORS.sub("_", name.lower())


def _category_names() -> dict[str, tuple[str, ...]]:
    names: dict[str, tuple[str, ...]] = {normalise(top): (top,) for top in taxonomy.TOP_LEVEL}
    names.update(LEGACY_NAMES)  # Cloudinary's meaning wins should a name ever collide
    return names


CATEGORY_NAMES: dict[str, tuple[str, ...]] = _category_names()


@dataclass(frozen=True)
class ModerationPlan:
    """The steps to run in order, and the aws_rek step's thresholds: model-7 top-level
    category -> fraction 0-1 (rejected at or above it), ``None`` for ignore."""

    steps: tuple[StepKind, ...]
    thresholds: Mapping[str, float | None] = field(default_factory=dict)
    raw: str = ""  # the string as given, kept as the asset's moderation_mode

    @property
    def detects(self) -> bool:
        """Whether detectors run: every plan but ``none`` (manual alone too: labels help the
        reviewer)."""
        return self.steps != ("none",)

    def thresholds_view(self) -> dict[str, float | str]:
        return {name: IGNORE if value is None else value for name, value in self.thresholds.items()}


def parse_moderation(text: str) -> ModerationPlan:
    """``none`` | ``manual`` | automatic step [``|manual``], where the automatic step is
    ``auto`` or ``aws_rek`` followed by ``:category:threshold`` pairs."""
    if not text:
        raise InvalidParameter(
            "moderation is empty; use auto, manual, none or aws_rek[:category:threshold...]"
        )
    if len(text) > MAX_LENGTH:
        raise InvalidParameter(f"moderation is longer than {MAX_LENGTH} characters")
    steps: list[StepKind] = []
    thresholds: dict[str, float | None] = {}
    for part in text.split("|"):
        kind, *arguments = part.split(":")
        steps.append(_step_kind(kind))
        if arguments:
            thresholds = _arguments(steps[-1], arguments)
    _check_chain(steps)
    return ModerationPlan(tuple(steps), thresholds, text)


def apply_thresholds(policy: Policy, thresholds: Mapping[str, float | None]) -> Policy:
    """A copy of ``policy`` in which each given category is governed by its threshold alone
    (a block band at threshold x 100, or ignore): its own band is replaced, and bands on its
    descendants, context rules' bands for it and review triggers inside it are dropped, so
    nothing in the policy can override what the request asked for. Other categories keep the
    policy's bands."""
    if not thresholds:
        return policy
    covered = set(thresholds)
    bands = {name: band for name, band in policy.bands.items() if _top(name) not in covered}
    bands.update({name: _band(value) for name, value in thresholds.items()})
    rules = tuple(
        replace(rule, bands={n: b for n, b in rule.bands.items() if _top(n) not in covered})
        for rule in policy.rules
    )
    triggers = tuple(t for t in policy.review_triggers if _top(t.label) not in covered)
    return replace(policy, bands=bands, rules=rules, review_triggers=triggers)


# -- parsing helpers ---------------------------------------------------------------------------


def _step_kind(kind: str) -> StepKind:
    if kind in STEP_KINDS:
        return kind  # narrowed to StepKind by the membership test
    raise InvalidParameter(
        f"unknown moderation step '{kind}'{_hint(kind, STEP_KINDS)} "
        f"(known: {', '.join(STEP_KINDS)})"
    )


def _check_chain(steps: list[StepKind]) -> None:
    for kind in set(steps):
        if steps.count(kind) > 1:
            raise InvalidParameter(f"moderation step '{kind}' is given more than once")
    if "none" in steps and len(steps) > 1:
        raise InvalidParameter("moderation 'none' cannot be chained with other steps")
    if "manual" in steps and steps[-1] != "manual":
        raise InvalidParameter("moderation step 'manual' must be the last step")
    if len(AUTOMATIC.intersection(steps)) > 1:
        raise InvalidParameter("moderation takes one automatic step: auto or aws_rek, not both")


def _arguments(kind: StepKind, arguments: list[str]) -> dict[str, float | None]:
    if kind != "aws_rek":
        raise InvalidParameter(
            f"moderation step '{kind}' takes no arguments (per-category thresholds need aws_rek)"
        )
    if len(arguments) % 2:
        raise InvalidParameter(
            f"aws_rek takes category:threshold pairs; '{arguments[-1]}' has no threshold"
        )
    thresholds: dict[str, float | None] = {}
    given: set[str] = set()
    for name, value in zip(arguments[::2], arguments[1::2], strict=True):
        key = normalise(name)
        if key in given:
            raise InvalidParameter(f"aws_rek category '{name}' is given more than once")
        given.add(key)
        fraction = _threshold(name, value)
        for category in _categories(name, key):
            # Two names for one category (drugs and tobacco): the stricter threshold holds.
            held = thresholds.get(category, fraction)
            thresholds[category] = _stricter(held, fraction)
    return _in_taxonomy_order(thresholds)


def _categories(name: str, key: str) -> tuple[str, ...]:
    found = CATEGORY_NAMES.get(key)
    if found is None:
        raise InvalidParameter(f"unknown aws_rek category '{name}'{_hint(key, CATEGORY_NAMES)}")
    return found


def _threshold(name: str, value: str) -> float | None:
    if value == IGNORE:
        return None
    if _FRACTION.match(value) and 0 <= float(value) <= 1:
        return float(value)
    raise InvalidParameter(
        f"aws_rek threshold for '{name}' must be a number from 0 to 1 or 'ignore', not '{value}'"
    )


def _stricter(held: float | None, new: float | None) -> float | None:
    # A threshold beats ignore; between two thresholds the lower one rejects more.
    if held is None or new is None:
        return new if held is None else held
    return min(held, new)


def _in_taxonomy_order(thresholds: dict[str, float | None]) -> dict[str, float | None]:
    return {top: thresholds[top] for top in taxonomy.TOP_LEVEL if top in thresholds}


def _hint(given: str, known: Mapping[str, object] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(given, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


# -- applying helpers --------------------------------------------------------------------------


def _top(name: str) -> str:
    return taxonomy.top_level(name) if taxonomy.is_label(name) else name


def _band(fraction: float | None) -> Band:
    # round: 0.07 * 100 is 7.000000000000001, which would let a score of exactly 7 through.
    return Band(ignore=True) if fraction is None else Band(block=round(fraction * 100, 6))
