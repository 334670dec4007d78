"""The prompts the clip detector scores by default: a few phrasings per taxonomy label, and a
neutral set every label is compared against (docs/clip.md, "Calibration")."""

from __future__ import annotations

from collections.abc import Mapping

# Per taxonomy label. Leaves where possible (their parents are added by the label merge).
LABEL_PROMPTS: dict[str, tuple[str, ...]] = {
    "Weapons": (
        "a photo of a gun",
        "a photo of a rifle",
        "a photo of a handgun",
        "a photo of a knife used as a weapon",
        "a person holding a weapon",
    ),
    "Pills": ("a photo of pills", "a photo of prescription drugs", "a pile of tablets"),
    "Smoking": (
        "a person smoking a cigarette",
        "a photo of cigarettes",
        "a person vaping",
    ),
    "Drugs & Tobacco Paraphernalia & Use": (
        "a photo of illegal drugs",
        "a syringe with drugs",
        "a bag of white powder drugs",
        "a photo of cannabis",
        "a bong or drug pipe",
    ),
    "Alcoholic Beverages": (
        "a bottle of beer",
        "a glass of wine",
        "a bottle of liquor",
        "alcoholic drinks",
    ),
    "Drinking": ("a person drinking beer", "people drinking alcohol at a party"),
    "Gambling": (
        "a casino",
        "a slot machine",
        "poker chips and playing cards on a gambling table",
        "a roulette wheel",
    ),
    "Nazi Party": ("a nazi swastika flag", "a nazi salute"),
    "White Supremacy": ("a white supremacist symbol", "a burning cross of the ku klux klan"),
    "Extremist": ("an extremist terrorist flag", "armed extremist militants"),
    "Middle Finger": ("a person showing the middle finger",),
}

# What an ordinary upload looks like: a label scores high only when it beats all of these.
NEUTRAL_PROMPTS: tuple[str, ...] = (
    "a photo",
    "a photo of a person",
    "a photo of people",
    "a photo of an object",
    "a photo of food",
    "a photo of a drink",
    "a photo of an animal",
    "a photo of a landscape",
    "a photo of a building",
    "a photo of a room",
    "a screenshot",
    "a drawing",
    "a photo of a tool",
    "a photo of a toy",
)


def merged(custom: Mapping[str, str | list[str]]) -> dict[str, tuple[str, ...]]:
    """The default prompts with a user's custom ones added (a label's own list grows; a label
    with no default prompts, such as ``Corpses``, gets some)."""
    prompts = dict(LABEL_PROMPTS)
    for label, extra in custom.items():
        words = (extra,) if isinstance(extra, str) else tuple(extra)
        prompts[label] = prompts.get(label, ()) + words
    return prompts


def all_prompts() -> list[str]:
    """Every shipped prompt, neutral ones included: what a model bundle must embed."""
    found = [p for prompts in LABEL_PROMPTS.values() for p in prompts]
    return found + list(NEUTRAL_PROMPTS)
