"""What a hash list is: its action, the label a match reports, its distance; the built-in
lists people's decisions fill; the rules a running vigil matches by."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from vigil import taxonomy
from vigil.errors import InvalidParameter
from vigil.service.core.times import iso
from vigil.service.hashlists.index import MAX_DISTANCE

KNOWN_CONTENT = "Known Content"  # vigil's own top-level label for listed content
DEFAULT_DISTANCE = 31  # PDQ's customary match distance, in bits
REJECTED = "rejected"  # built-in: hashes of what a person rejected
APPROVED = "approved"  # built-in: what a person approved after an automatic block
BUILTIN = (REJECTED, APPROVED)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class ListAction(StrEnum):
    BLOCK = "block"
    REVIEW = "review"
    ALLOW = "allow"


@dataclass(frozen=True)
class MatchRules:
    """How a running vigil matches (settings, read once by the app object)."""

    enabled: bool = True
    quality_floor: int = 50
    refresh_seconds: float = 2.0
    rejected_action: ListAction = ListAction.BLOCK
    allow_distance: int = 10
    reject_feedback: bool = True
    approve_feedback: bool = True


@dataclass(frozen=True)
class ListInfo:
    """A list as the matcher holds it."""

    id: int
    name: str
    action: ListAction
    label: str
    distance: int
    builtin: bool = False


@dataclass(frozen=True)
class ListSpec:
    """A list as someone asks for it, checked."""

    name: str
    action: ListAction
    label: str
    distance: int
    description: str = ""

    @classmethod
    def checked(
        cls,
        name: str,
        action: str,
        label: str | None,
        distance: int | None,
        description: str,
        allow_distance: int,
    ) -> ListSpec:
        """A spec from user input; the default distance is 31 bits, or the tighter allow
        distance for ``allow`` lists."""
        chosen = parse_action(action)
        default = allow_distance if chosen is ListAction.ALLOW else DEFAULT_DISTANCE
        return cls(
            check_name(name),
            chosen,
            check_label(label or KNOWN_CONTENT),
            check_distance(default if distance is None else distance),
            description,
        )


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidParameter(
            f"list name '{name}' must be 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def parse_action(action: str) -> ListAction:
    try:
        return ListAction(action)
    except ValueError:
        raise InvalidParameter(f"action must be block, review or allow, not '{action}'") from None


def check_label(label: str) -> str:
    if not taxonomy.is_label(label) or label == taxonomy.CUSTOM:
        raise InvalidParameter(
            f"label '{label}' is not a taxonomy name: use one such as 'Hate Symbols', "
            f"or vigil's own '{KNOWN_CONTENT}'"
        )
    return label


def check_distance(distance: int) -> int:
    if not 0 <= distance <= MAX_DISTANCE:
        raise InvalidParameter(f"distance must be 0-{MAX_DISTANCE} bits, not {distance}")
    return distance


def confidence(distance: int, limit: int) -> float:
    """100 for an exact copy, falling to 50 at the list's own limit."""
    return 100.0 - 50.0 * distance / max(limit, 1)


def list_view(row: Any, items: int) -> dict[str, Any]:
    """A list's public shape (``row`` is a ``HashListRow``)."""
    return {
        "name": row.name,
        "action": row.action,
        "label": row.label,
        "distance": row.distance,
        "description": row.description,
        "builtin": row.builtin,
        "items": items,
        "created_by": row.created_by,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }
