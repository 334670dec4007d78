"""Context rules: whether one matches a context, in words, and whether two can collide."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import combinations
from zoneinfo import ZoneInfo

from vigil.policy.context import AUDIENCES, CONTEXT_KEYS, PolicyContext
from vigil.policy.model import Conditions, Rule, TimeWindow

DAY = 24 * 60


def holds(when: Conditions, context: PolicyContext) -> bool:
    """All conditions hold. An unknown context value (None) fails a condition on its key."""
    for key in CONTEXT_KEYS:
        wanted = _set_condition(when, key)
        if wanted is not None and context.value(key) not in wanted:
            return False
    if when.time is not None and (context.now is None or not when.time.contains(context.now)):
        return False
    # An image may be both Animated and Illustrated: one listed type present is enough.
    return when.content_types is None or bool(when.content_types & context.content_types)


def describe(when: Conditions) -> str:
    """``audience is under_13 or 13_17; time 22:00-06:00 Europe/Berlin``."""
    parts = []
    for key in CONTEXT_KEYS:
        wanted = _set_condition(when, key)
        if wanted is not None:
            parts.append(f"{key} is {' or '.join(sorted(wanted, key=_order))}")
    if when.time is not None:
        parts.append(f"time {when.time.describe()}")
    if when.content_types is not None:
        parts.append(f"content is {' or '.join(sorted(when.content_types))}")
    return "; ".join(parts)


def first_conflict(rules: tuple[Rule, ...]) -> str | None:
    """Words for the first two rules that can match together yet set one category to
    different bands; ``None`` when there are none."""
    for first, second in combinations(rules, 2):
        if not can_both_match(first.when, second.when):
            continue
        for category, band in first.bands.items():
            other = second.bands.get(category)
            if other is not None and other != band:
                return (
                    f"rules '{first.name}' and '{second.name}' can both match "
                    f"({describe(first.when)} / {describe(second.when)}) but set "
                    f"'{category}' differently; make their conditions exclusive or agree"
                )
    return None


def can_both_match(a: Conditions, b: Conditions) -> bool:
    """False only when no context can satisfy both: some key both constrain has disjoint
    values, or the time windows never overlap. Content types never separate two rules."""
    for key in CONTEXT_KEYS:
        left, right = _set_condition(a, key), _set_condition(b, key)
        if left is not None and right is not None and not left & right:
            return False
    return a.time is None or b.time is None or windows_overlap(a.time, b.time)


def windows_overlap(a: TimeWindow, b: TimeWindow) -> bool:
    """Whether some instant lies in both windows, for any UTC offsets their zones use."""
    for shift in _offset_shifts(a.tz.key, b.tz.key):
        # Express b in a's local minutes: a's local = b's local - (offset_b - offset_a).
        moved = [(start - shift, end - shift) for start, end in _spans(b)]
        if any(_intersect(span, other) for span in _spans(a) for other in _spread(moved)):
            return True
    return False


def _order(value: str) -> tuple[int, str]:
    # Audience bands read youngest first; everything else alphabetically.
    return (AUDIENCES.index(value) if value in AUDIENCES else 0, value)


def _set_condition(when: Conditions, key: str) -> frozenset[str] | None:
    sets: dict[str, frozenset[str] | None] = {
        "region": when.region,
        "audience": when.audience,
        "surface": when.surface,
        "trust": when.trust,
    }
    return sets[key]


def _spans(window: TimeWindow) -> list[tuple[int, int]]:
    if window.start < window.end:
        return [(window.start, window.end)]
    return [(window.start, DAY), (0, window.end)]


def _spread(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    # A span shifted by an offset may leave [0, DAY); its copies a day apart cover the wrap.
    return [(start + day, end + day) for start, end in spans for day in (-DAY, 0, DAY)]


def _intersect(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return max(a[0], b[0]) < min(a[1], b[1])


@cache
def _offset_shifts(zone_a: str, zone_b: str) -> frozenset[int]:
    """Every difference (minutes) between the two zones' UTC offsets over a span of years
    that covers current daylight-saving rules: refusing a rare false overlap is safer than
    missing a real one."""
    if zone_a == zone_b:
        return frozenset({0})
    first, second = ZoneInfo(zone_a), ZoneInfo(zone_b)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    shifts: set[int] = set()
    for hours in range(3 * 366 * 24):  # hourly: every DST regime of both zones
        moment = start + timedelta(hours=hours)
        shifts.add(_minutes(moment.astimezone(second)) - _minutes(moment.astimezone(first)))
    return frozenset(shifts)


def _minutes(local: datetime) -> int:
    offset = local.utcoffset()
    return 0 if offset is None else int(offset.total_seconds() // 60)
