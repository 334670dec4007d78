from __future__ import annotations

import re
from pathlib import Path

import pytest

from vigil import taxonomy

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "taxonomy.md"


def test_counts_match_model_7() -> None:
    levels = [label.level for label in taxonomy.LABELS.values()]
    assert (levels.count(1), levels.count(2), levels.count(3)) == (10, 20, 22)


@pytest.mark.skipif(not REFERENCE.exists(), reason="shared/taxonomy.md not beside the checkout")
def test_names_match_the_reference_table() -> None:
    table = REFERENCE.read_text().split("## Model 7 labels")[1].split("## ")[0]
    names: set[str] = set()
    for row in re.findall(r"^\|(.+)\|$", table, flags=re.M)[2:]:
        for cell in row.split("|"):
            names.update(part.strip() for part in cell.split(";") if part.strip())
    assert names == set(taxonomy.LABELS)


def test_ancestors_and_top_level() -> None:
    assert taxonomy.ancestors("Bare Back") == [
        "Non-Explicit Nudity",
        "Non-Explicit Nudity of Intimate parts and Kissing",
    ]
    assert taxonomy.ancestors("Gambling") == []
    assert taxonomy.top_level("Air Crash") == "Visually Disturbing"
    assert taxonomy.get("Middle Finger").parent == "Rude Gestures"
