"""Reading a request's enum values, refusing unknown ones with the known values listed."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from vigil.errors import InvalidParameter

E = TypeVar("E", bound=StrEnum)


def parse_enum(kind: type[E], value: str, what: str) -> E:
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(member.value for member in kind)
        raise InvalidParameter(f"unknown {what} '{value}' (known: {known})") from None
