"""Who is asking: an API key's id and role."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vigil.errors import Forbidden


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


def require_role(who: Principal, *roles: Role) -> None:
    """Forbidden unless ``who`` has one of ``roles``."""
    if who.role not in roles:
        allowed = " or ".join(role.value for role in roles)
        raise Forbidden(f"this needs the {allowed} role; this key is {who.role.value}")
