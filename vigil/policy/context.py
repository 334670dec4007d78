"""The context a decision is made in (who sees the upload, where, when) and how a request's
raw values are checked against what a policy expects."""

from __future__ import annotations

import difflib
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
