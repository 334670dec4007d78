"""Who is asking: an API key's id and role."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    UPLOADER = "uploader"
    REVIEWER = "reviewer"


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: Role

    @property
    def sees_everything(self) -> bool:
        """Reviewers and admins may see and fetch any asset, quarantined ones included."""
        return self.role in (Role.ADMIN, Role.REVIEWER)
