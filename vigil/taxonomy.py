"""Rekognition content-moderation model 7 taxonomy: names, levels, parents, ancestors."""

from __future__ import annotations

from dataclasses import dataclass

# (level-1, level-2, [level-3...]) rows exactly as in the taxonomy reference.
_TREE: dict[str, dict[str, list[str]]] = {
    "Explicit": {
        "Explicit Nudity": [
            "Exposed Male Genitalia",
            "Exposed Female Genitalia",
            "Exposed Buttocks or Anus",
            "Exposed Female Nipple",
        ],
        "Explicit Sexual Activity": [],
        "Sex Toys": [],
    },
    "Non-Explicit Nudity of Intimate parts and Kissing": {
        "Non-Explicit Nudity": [
            "Bare Back",
            "Exposed Male Nipple",
            "Partially Exposed Buttocks",
            "Partially Exposed Female Breast",
            "Implied Nudity",
        ],
        "Obstructed Intimate Parts": ["Obstructed Female Nipple", "Obstructed Male Genitalia"],
        "Kissing on the Lips": [],
    },
    "Swimwear or Underwear": {
        "Female Swimwear or Underwear": [],
        "Male Swimwear or Underwear": [],
    },
    "Violence": {
        "Weapons": [],
        "Graphic Violence": [
            "Weapon Violence",
            "Physical Violence",
            "Self-Harm",
            "Blood & Gore",
            "Explosions and Blasts",
        ],
    },
    "Visually Disturbing": {
        "Death and Emaciation": ["Emaciated Bodies", "Corpses"],
        "Crashes": ["Air Crash"],
    },
    "Drugs & Tobacco": {
        "Products": ["Pills"],
        "Drugs & Tobacco Paraphernalia & Use": ["Smoking"],
    },
    "Alcohol": {"Alcohol Use": ["Drinking"], "Alcoholic Beverages": []},
    "Rude Gestures": {"Middle Finger": []},
    "Gambling": {},
    "Hate Symbols": {"Nazi Party": [], "White Supremacy": [], "Extremist": []},
}


@dataclass(frozen=True)
class TaxonomyLabel:
    name: str
    parent: str  # "" at level 1
    level: int


# Labels vigil reports that Rekognition's taxonomy has no name for: offensive words read from
# an image by OCR (the text detector, docs/text.md), under their own top-level name.
TEXT_TOP = "Offensive Text"
_VIGIL_TREE: dict[str, dict[str, list[str]]] = {
    TEXT_TOP: {"Extremist Text": [], "Hate Speech": [], "Drug Sales": [], "Profanity": []},
    # Hash lists (docs/hashlists.md): a match on a list that names no other label.
    "Known Content": {},
}


def _build(tree: dict[str, dict[str, list[str]]]) -> dict[str, TaxonomyLabel]:
    labels: dict[str, TaxonomyLabel] = {}
    for top, children in tree.items():
        labels[top] = TaxonomyLabel(top, "", 1)
        for mid, leaves in children.items():
            labels[mid] = TaxonomyLabel(mid, top, 2)
            for leaf in leaves:
                labels[leaf] = TaxonomyLabel(leaf, mid, 3)
    return labels


LABELS: dict[str, TaxonomyLabel] = _build(_TREE)  # exactly Rekognition's model 7
TOP_LEVEL: tuple[str, ...] = tuple(_TREE)
VIGIL_LABELS: dict[str, TaxonomyLabel] = _build(_VIGIL_TREE)
# Every top-level category vigil reports: Rekognition's, then vigil's own.
ALL_TOP_LEVEL: tuple[str, ...] = (*TOP_LEVEL, *_VIGIL_TREE)

# Labels beyond Rekognition's taxonomy (a custom adapter's own names, docs/adapters.md) are
# reported at level 2 under this separate top-level name, never under a Rekognition name.
CUSTOM = "Custom"


def get(name: str) -> TaxonomyLabel:
    """The label called ``name``; a name outside the taxonomy is a custom label under
    ``CUSTOM`` (level 2)."""
    if name in LABELS:
        return LABELS[name]
    if name in VIGIL_LABELS:
        return VIGIL_LABELS[name]
    return TaxonomyLabel(CUSTOM, "", 1) if name == CUSTOM else TaxonomyLabel(name, CUSTOM, 2)


def is_label(name: str) -> bool:
    """A taxonomy name (Rekognition's or vigil's own), or ``CUSTOM`` (which policies may
    name to act on every custom label)."""
    return name in LABELS or name in VIGIL_LABELS or name == CUSTOM


def ancestors(name: str) -> list[str]:
    """Parent first, then grandparent: ``ancestors("Bare Back")`` is
    ``["Non-Explicit Nudity", "Non-Explicit Nudity of Intimate parts and Kissing"]``."""
    chain: list[str] = []
    parent = get(name).parent
    while parent:
        chain.append(parent)
        parent = get(parent).parent
    return chain


def top_level(name: str) -> str:
    """The level-1 category a label belongs to (itself at level 1)."""
    chain = ancestors(name)
    return chain[-1] if chain else name
