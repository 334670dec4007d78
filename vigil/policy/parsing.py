"""Validating the label-facing parts of a policy: category bands, review triggers, QA sample.
Every refusal is an InvalidPolicy whose message starts with the source."""

from __future__ import annotations

import difflib
from typing import Any

from vigil import taxonomy
from vigil.errors import InvalidPolicy
from vigil.policy.model import Band, ReviewTrigger

BAND_KEYS = frozenset({"review", "block", "annotate"})


def check_label(label: Any, source: str, where: str = "") -> str:
    if not isinstance(label, str) or not taxonomy.is_label(label):
        close = difflib.get_close_matches(str(label), list(taxonomy.LABELS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise InvalidPolicy(f"{source}: unknown label '{label}'{where}{hint}")
    return label


def parse_categories(value: Any, source: str, where: str = "") -> dict[str, Band]:
    """``categories`` at the top level or in a rule (``where`` says which rule)."""
    if not isinstance(value, dict):
        raise InvalidPolicy(
            f"{source}: 'categories'{where} must be a mapping of label name to band"
        )
    return {
        check_label(label, source, where): parse_band(label, v, source)
        for label, v in value.items()
    }


def parse_band(label: str, value: Any, source: str) -> Band:
    if value == "ignore":
        return Band(ignore=True)
    if not isinstance(value, dict) or not value or set(value) - BAND_KEYS:
        raise InvalidPolicy(
            f"{source}: '{label}' must be 'ignore' or a mapping with 'review', 'block' "
            "and/or 'annotate'"
        )
    review, block = (
        threshold(f"{label}.{key}", value.get(key), source) for key in ("review", "block")
    )
    if review is not None and block is not None and review > block:
        raise InvalidPolicy(f"{source}: '{label}' has review {review} above block {block}")
    return Band(
        review=review, block=block, annotate=_annotate(label, value.get("annotate"), source)
    )


def _annotate(label: str, value: Any, source: str) -> float | None:
    # true: record at any score; a number: record from that score up; false/absent: off.
    if value is None or value is False:
        return None
    if value is True:
        return 0.0
    if isinstance(value, int | float) and 0 <= value <= 100:
        return float(value)
    raise InvalidPolicy(
        f"{source}: '{label}.annotate' must be true, false or a number from 0 to 100"
    )


def threshold(name: str, value: Any, source: str) -> float | None:
    return None if value is None else percent(name, value, source)


def percent(name: str, value: Any, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise InvalidPolicy(f"{source}: '{name}' must be a number from 0 to 100")
    return float(value)


def parse_triggers(value: Any, source: str) -> tuple[ReviewTrigger, ...]:
    if not isinstance(value, list):
        raise InvalidPolicy(f"{source}: 'review_triggers' must be a list of {{label, min, max}}")
    return tuple(_trigger(index, entry, source) for index, entry in enumerate(value, 1))


def _trigger(index: int, entry: Any, source: str) -> ReviewTrigger:
    where = f"review_triggers[{index}]"
    if not isinstance(entry, dict) or set(entry) != {"label", "min", "max"}:
        raise InvalidPolicy(f"{source}: '{where}' must be a mapping with label, min and max")
    label = check_label(entry["label"], source, f" in {where}")
    low = percent(f"{where}.min", entry["min"], source)
    high = percent(f"{where}.max", entry["max"], source)
    if low >= high:
        raise InvalidPolicy(f"{source}: '{where}' ({label}) has min {low} not below max {high}")
    return ReviewTrigger(label, low, high)


def parse_qa_sample(value: Any, source: str) -> float:
    if not isinstance(value, dict) or set(value) != {"percent"}:
        raise InvalidPolicy(f"{source}: 'qa_sample' must be a mapping with 'percent'")
    return percent("qa_sample.percent", value["percent"], source)
