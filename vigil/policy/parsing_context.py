"""Validating the context-facing parts of a policy: the ``context:`` keys and the ``rules:``.
Every refusal is an InvalidPolicy whose message starts with the source."""

from __future__ import annotations

import difflib
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from vigil.errors import InvalidPolicy
from vigil.policy.context import CONTENT_TYPES, CONTEXT_KEYS, DEFAULT_TRUST, value_problem
from vigil.policy.model import Conditions, ContextKey, Rule, TimeWindow
from vigil.policy.parsing import parse_categories
from vigil.policy.rules import first_conflict

CONDITION_KEYS: tuple[str, ...] = (*CONTEXT_KEYS, "time", "content_types")
# Policy and rule names: they appear in URLs, rule ids ("rule.<name>") and CLI arguments.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_CLOCK = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")


def _unknown(kind: str, name: Any, known: tuple[str, ...] | list[str], where: str) -> str:
    close = difflib.get_close_matches(str(name), list(known), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown {kind} '{name}'{where}{hint}; known: {', '.join(known)}"


# -- context: ---------------------------------------------------------------------------------


def parse_context(value: Any, source: str) -> dict[str, ContextKey]:
    if not isinstance(value, dict):
        raise InvalidPolicy(f"{source}: 'context' must be a mapping of context key to default")
    for name in value:
        if name not in CONTEXT_KEYS:
            raise InvalidPolicy(f"{source}: {_unknown('context key', name, CONTEXT_KEYS, '')}")
    return {name: _context_key(name, entry, source) for name, entry in value.items()}


def _context_key(name: str, entry: Any, source: str) -> ContextKey:
    # `region:` (no default), `region: DE` (a default) or `{default: DE, values: [DE, AT]}`.
    if entry is None or isinstance(entry, str):
        entry = {"default": entry}
    if not isinstance(entry, dict) or set(entry) - {"default", "values"}:
        raise InvalidPolicy(
            f"{source}: 'context.{name}' must be empty, a default value, or a mapping with "
            "'default' and/or 'values'"
        )
    values = _values(name, entry.get("values"), source)
    default = entry.get("default")
    if default is not None:
        default = _value(name, default, values, source, f"context.{name}.default")
    return ContextKey(name, default, values)


def _values(name: str, raw: Any, source: str) -> frozenset[str] | None:
    if raw is None:
        # Trust levels are free names, so without a declared list the usual three apply.
        return frozenset(DEFAULT_TRUST) if name == "trust" else None
    if not isinstance(raw, list) or not raw:
        raise InvalidPolicy(f"{source}: 'context.{name}.values' must be a non-empty list")
    return frozenset(_value(name, item, None, source, f"context.{name}.values") for item in raw)


def _value(
    key: str, value: Any, allowed: frozenset[str] | None, source: str, name: str, where: str = ""
) -> str:
    if not isinstance(value, str):
        problem = f"{value!r} is not a string"
    else:
        problem = value_problem(key, value, allowed) or ""
    if problem:
        raise InvalidPolicy(f"{source}: '{name}'{where}: {problem}")
    return str(value)


# -- rules: -----------------------------------------------------------------------------------


def parse_rules(value: Any, context: dict[str, ContextKey], source: str) -> tuple[Rule, ...]:
    if not isinstance(value, list):
        raise InvalidPolicy(f"{source}: 'rules' must be a list of {{name, when, categories}}")
    rules: list[Rule] = []
    for index, entry in enumerate(value, 1):
        rule = _rule(index, entry, context, source)
        if any(rule.name == held.name for held in rules):
            raise InvalidPolicy(f"{source}: two rules are named '{rule.name}'")
        rules.append(rule)
    conflict = first_conflict(tuple(rules))
    if conflict:
        raise InvalidPolicy(f"{source}: {conflict}")
    return tuple(rules)


def _rule(index: int, entry: Any, context: dict[str, ContextKey], source: str) -> Rule:
    if not isinstance(entry, dict) or set(entry) != {"name", "when", "categories"}:
        raise InvalidPolicy(
            f"{source}: 'rules[{index}]' must be a mapping with exactly name, when and categories"
        )
    name = entry["name"]
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise InvalidPolicy(
            f"{source}: 'rules[{index}].name' must be a name of letters, digits, '_' and '-'"
        )
    where = f" in rule '{name}'"
    when = _conditions(entry["when"], context, source, where)
    bands = parse_categories(entry["categories"], source, where)
    if not bands:
        raise InvalidPolicy(f"{source}: 'categories'{where} is empty")
    return Rule(name, when, bands)


def _conditions(raw: Any, context: dict[str, ContextKey], source: str, where: str) -> Conditions:
    if not isinstance(raw, dict) or not raw:
        raise InvalidPolicy(
            f"{source}: 'when'{where} must be a mapping with at least one condition"
        )
    sets: dict[str, frozenset[str]] = {}
    for key, value in raw.items():
        if key not in CONDITION_KEYS:
            raise InvalidPolicy(f"{source}: {_unknown('condition', key, CONDITION_KEYS, where)}")
        if key in CONTEXT_KEYS:
            sets[key] = _context_condition(key, value, context, source, where)
    return Conditions(
        **sets,
        time=None if "time" not in raw else _time_window(raw["time"], source, where),
        content_types=(
            None
            if "content_types" not in raw
            else _content_types(raw["content_types"], source, where)
        ),
    )


def _context_condition(
    key: str, value: Any, context: dict[str, ContextKey], source: str, where: str
) -> frozenset[str]:
    declared = context.get(key)
    if declared is None:
        raise InvalidPolicy(
            f"{source}: condition '{key}'{where} needs '{key}' declared under 'context:'"
        )
    items = _string_list(value, f"when.{key}", source, where)
    return frozenset(
        _value(key, item, declared.values, source, f"when.{key}", where) for item in items
    )


def _string_list(value: Any, name: str, source: str, where: str) -> list[Any]:
    # One value may be written without brackets.
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise InvalidPolicy(f"{source}: '{name}'{where} must be a value or a non-empty list")
    return items


def _content_types(value: Any, source: str, where: str) -> frozenset[str]:
    items = _string_list(value, "when.content_types", source, where)
    unknown = [item for item in items if item not in CONTENT_TYPES]
    if unknown:
        raise InvalidPolicy(
            f"{source}: 'when.content_types'{where} has {unknown}; content types are "
            f"{', '.join(sorted(CONTENT_TYPES))}"
        )
    return frozenset(items)


def _time_window(value: Any, source: str, where: str) -> TimeWindow:
    if not isinstance(value, dict) or not {"from", "to"} <= set(value) <= {"from", "to", "tz"}:
        raise InvalidPolicy(
            f"{source}: 'when.time'{where} must be a mapping with 'from', 'to' and optional 'tz'"
        )
    start = _clock(value["from"], "from", source, where)
    end = _clock(value["to"], "to", source, where)
    if start == end:
        raise InvalidPolicy(f"{source}: 'when.time'{where} starts and ends at the same minute")
    return TimeWindow(start, end, _zone(value.get("tz", "UTC"), source, where))


def _clock(value: Any, key: str, source: str, where: str) -> int:
    match = _CLOCK.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidPolicy(
            f"{source}: 'when.time.{key}'{where} is {value!r}; write a time as \"HH:MM\" "
            "from 00:00 to 23:59"
        )
    return int(match[1]) * 60 + int(match[2])


def _zone(name: Any, source: str, where: str) -> ZoneInfo:
    try:
        if not isinstance(name, str) or not name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        close = difflib.get_close_matches(str(name), sorted(available_timezones()), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise InvalidPolicy(
            f"{source}: 'when.time.tz'{where} is {name!r}, not an IANA time zone such as "
            f"'Europe/Berlin' or 'UTC'{hint}"
        ) from exc
