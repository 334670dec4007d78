"""The context a decision is made in (who sees the upload, where, when) and how a request's
raw values are checked against what a policy expects."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vigil.errors import InvalidParameter
from vigil.policy.model import ContextKey, Policy

# Keys a request may set; `time` and `content_types` come from the service, never the request.
CONTEXT_KEYS: tuple[str, ...] = ("region", "audience", "surface", "trust")
AUDIENCES: tuple[str, ...] = ("under_13", "13_17", "adult")
DEFAULT_TRUST: tuple[str, ...] = ("new", "normal", "trusted")
CONTENT_TYPES: frozenset[str] = frozenset({"Animated", "Illustrated"})

# A request's context is four short keys: these caps are far above what it needs and far
# below what makes parsing costly (a deeply nested JSON exhausts Python's recursion).
MAX_CONTEXT_JSON_CHARS = 4096
MAX_CONTEXT_VALUE_CHARS = 256

_REGION = re.compile(r"[A-Z]{2}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class PolicyContext:
    """Resolved context. ``None`` is unknown: a rule that constrains that key does not match.
    ``now`` is ``None`` only when no context was given; then no time rule matches."""

    region: str | None = None
    audience: str | None = None
    surface: str | None = None
    trust: str | None = None
    now: datetime | None = None
    content_types: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.now is not None and self.now.utcoffset() is None:
            raise ValueError("PolicyContext.now must be timezone-aware")
        if not self.content_types <= CONTENT_TYPES:
            unknown = sorted(self.content_types - CONTENT_TYPES)
            raise ValueError(f"unknown content types {unknown}; expected Animated/Illustrated")

    def value(self, key: str) -> str | None:
        values: dict[str, str | None] = {
            "region": self.region,
            "audience": self.audience,
            "surface": self.surface,
            "trust": self.trust,
        }
        return values[key]

    def to_dict(self) -> dict[str, Any]:
        return {
            **{key: self.value(key) for key in CONTEXT_KEYS},
            "now": None if self.now is None else self.now.isoformat(),
            "content_types": sorted(self.content_types),
        }


def value_problem(key: str, value: str, allowed: frozenset[str] | None) -> str | None:
    """Why ``value`` is not acceptable for ``key`` (``None`` when it is). ``allowed`` is the
    declared list, if any."""
    if key == "region" and not _REGION.fullmatch(value):
        return f"'{value}' is not an ISO 3166-1 alpha-2 region code (two capital letters)"
    if key == "audience" and value not in AUDIENCES:
        return f"'{value}' is not an audience band ({', '.join(AUDIENCES)})"
    if key in ("surface", "trust") and not _NAME.fullmatch(value):
        return f"'{value}' is not a name (letters, digits, '_', '-', '.'; at most 64)"
    if allowed is not None and value not in allowed:
        return f"'{value}' is not one of {', '.join(sorted(allowed))}"
    return None


def default_context(policy: Policy) -> PolicyContext:
    """The policy's defaults alone: what ``evaluate`` uses when it is given no context."""
    return _context({name: key.default for name, key in policy.context.items()})


def resolve_context(
    policy: Policy,
    raw: Mapping[str, str],
    now: datetime,
    content_types: Iterable[str] = (),
) -> PolicyContext:
    """The context for one request: ``raw`` values over the policy's defaults.

    InvalidParameter for a key the policy does not expect or a value it does not accept.
    ``now`` must be timezone-aware; ``content_types`` are names from ``CONTENT_TYPES``.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    values = {name: key.default for name, key in policy.context.items()}
    for name, given in raw.items():
        key = policy.context.get(name)
        if key is None:
            raise InvalidParameter(_unexpected(policy, name))
        values[name] = _checked(policy, key, given)
    return _context(values, now, frozenset(content_types))


def _context(
    values: Mapping[str, str | None],
    now: datetime | None = None,
    content_types: frozenset[str] = frozenset(),
) -> PolicyContext:
    return PolicyContext(
        region=values.get("region"),
        audience=values.get("audience"),
        surface=values.get("surface"),
        trust=values.get("trust"),
        now=now,
        content_types=content_types,
    )


def _unexpected(policy: Policy, name: str) -> str:
    expected = ", ".join(policy.context) or "none"
    close = difflib.get_close_matches(name, list(policy.context), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"policy '{policy.name}' takes no context '{name}'{hint}; it expects: {expected}"


def _checked(policy: Policy, key: ContextKey, given: str) -> str:
    # People type region codes in either case; everything else is matched exactly.
    value = given.strip().upper() if key.name == "region" else given.strip()
    problem = value_problem(key.name, value, key.values)
    if problem:
        raise InvalidParameter(f"context '{key.name}' for policy '{policy.name}': {problem}")
    return value


def context_from_json(text: str) -> dict[str, str]:
    """A context sent as one JSON object of strings, e.g. ``{"region": "DE"}``; anything
    longer than MAX_CONTEXT_JSON_CHARS, nested or not an object of strings is refused."""
    if len(text) > MAX_CONTEXT_JSON_CHARS:
        raise InvalidParameter(f"context is at most {MAX_CONTEXT_JSON_CHARS} characters")
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidParameter(f"context is not valid JSON: {_brief(exc)}") from None
    if not isinstance(document, dict) or not all(
        isinstance(value, str) for value in document.values()
    ):
        raise InvalidParameter('context must be a JSON object of strings, e.g. {"region": "DE"}')
    return {str(key): value for key, value in document.items()}


def check_context_sizes(context: Mapping[str, str]) -> None:
    """InvalidParameter for a value longer than any context key's value can be."""
    if any(len(str(value)) > MAX_CONTEXT_VALUE_CHARS for value in context.values()):
        raise InvalidParameter(f"a context value is at most {MAX_CONTEXT_VALUE_CHARS} characters")


def _brief(exc: Exception) -> str:
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
