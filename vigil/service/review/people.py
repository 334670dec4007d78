"""People who use the review console: roles, and who they are to the rest of vigil.

A person acts on assets through the same service calls as an API key; their ``Principal``
carries ``user:<name>`` as its id, so audit entries say who decided."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vigil.errors import Forbidden
from vigil.service.access.principal import Principal, Role


class PersonRole(StrEnum):
    REVIEWER = "reviewer"
    LEAD = "lead"  # a reviewer who also works escalations and settles disagreements
    ADMIN = "admin"  # everything, audit and people included


RANK = {PersonRole.REVIEWER: 1, PersonRole.LEAD: 2, PersonRole.ADMIN: 3}


@dataclass(frozen=True)
class Reviewer:
    """Whoever works a review queue: a signed-in person or an API key."""

    actor: str  # "user:<username>" or the API key's id, as the audit log shows it
    role: PersonRole
    principal: Principal

    def at_least(self, role: PersonRole) -> bool:
        return RANK[self.role] >= RANK[role]

    def require(self, role: PersonRole) -> None:
        if not self.at_least(role):
            raise Forbidden(f"this needs the {role.value} role; {self.actor} is {self.role.value}")


def person(username: str, role: PersonRole) -> Reviewer:
    actor = f"user:{username}"
    key_role = Role.ADMIN if role is PersonRole.ADMIN else Role.REVIEWER
    return Reviewer(actor, role, Principal(key_id=actor, role=key_role))


def from_key(who: Principal) -> Reviewer:
    """An API key as a reviewer: admin keys act as admins; reviewer keys as reviewers."""
    if who.role is Role.ADMIN:
        return Reviewer(who.key_id, PersonRole.ADMIN, who)
    if who.role is Role.REVIEWER:
        return Reviewer(who.key_id, PersonRole.REVIEWER, who)
    raise Forbidden(f"this needs the reviewer or admin role; this key is {who.role.value}")
