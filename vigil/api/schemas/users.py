"""Console sign-in lockouts, as admin API keys see and lift them."""

from __future__ import annotations

from pydantic import Field

from vigil.api.schemas.base import ApiModel


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
