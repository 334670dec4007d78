"""Who is asking: an API key's id, role and grants."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from vigil.errors import Forbidden, SkipModerationNotGranted


class Role(StrEnum):
    ADMIN = "admin"
    UPLOADER = "uploader"
    REVIEWER = "reviewer"


class Grant(StrEnum):
    """Permissions beyond a role, given to one key by an admin (docs/keys.md#grants)."""

    SKIP_MODERATION = "skip-moderation"  # upload with moderation=none


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: Role
    grants: frozenset[Grant] = field(default_factory=frozenset)

    @property
    def sees_everything(self) -> bool:
        """Reviewers and admins may see and fetch any asset, quarantined ones included."""
        return self.role in (Role.ADMIN, Role.REVIEWER)

    def holds(self, grant: Grant) -> bool:
        """Admin keys hold every grant: they could give it to themselves anyway."""
        return self.role is Role.ADMIN or grant in self.grants


def require_role(who: Principal, *roles: Role) -> None:
    """Forbidden unless ``who`` has one of ``roles``."""
    if who.role not in roles:
        allowed = " or ".join(role.value for role in roles)
        raise Forbidden(f"this needs the {allowed} role; this key is {who.role.value}")


def require_skip_moderation(who: Principal, any_uploader: bool) -> None:
    """SkipModerationNotGranted unless ``who`` may upload with moderation=none;
    ``any_uploader`` is VIGIL_MODERATION_NONE_ANY_UPLOADER, the behaviour before grants."""
    if any_uploader or who.holds(Grant.SKIP_MODERATION):
        return
    raise SkipModerationNotGranted(
        "moderation=none needs the skip-moderation grant, which this key does not have; "
        f"an admin can give it: vigil keys grant {who.key_id} skip-moderation"
    )
