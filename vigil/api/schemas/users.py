"""Console sign-in lockouts and events, as admin API keys see them and lift lockouts."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vigil.api.schemas.base import ApiModel
from vigil.service.core.times import Timestamp


class Lockout(ApiModel):
    username: str
    address: str
    seconds_left: int


class LockoutList(ApiModel):
    lockouts: list[Lockout]


class Unlocked(ApiModel):
    username: str
    address: str | None = Field(description="Null: every address")
    lifted: int = Field(description="How many lockouts were in force")


class SignInEvent(ApiModel):
    id: int
    at: Timestamp
    username: str = Field(description="As typed at sign-in: names that exist or not")
    address: str | None = Field(description="The client's; null: an unlock of every address")
    outcome: Literal["success", "failure", "locked", "rate_limited", "unlocked"]
    actor: str | None = Field(description="Who lifted the lockout (unlocked only)")


class SignInEventList(ApiModel):
    events: list[SignInEvent] = Field(description="Newest first")
